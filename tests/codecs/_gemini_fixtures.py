"""Recorded Gemini exchanges (pydantic-ai cassettes) for the Gemini codec tests."""

from __future__ import annotations

import json
from typing import Any

from _cassettes import RECORDED, Interaction, interactions, missing

FOLDER = "test_google"

SUPPORTED_PART_KEYS = frozenset(
    {
        "text",
        "thought",
        "thoughtSignature",
        "functionCall",
        "functionResponse",
        "inlineData",
        "fileData",
    }
)

SKIP_REASONS = {
    "toolCall": "server-side tool invocation parts (toolCall/toolResponse) are not carried",
    "toolResponse": "server-side tool invocation parts (toolCall/toolResponse) are not carried",
    "executableCode": "code execution parts are not carried",
    "codeExecutionResult": "code execution parts are not carried",
    "videoMetadata": "videoMetadata on input parts is not carried",
}


class Exchange(Interaction):
    @property
    def request(self) -> dict[str, Any] | None:
        body = self.request_json()
        return body if isinstance(body, dict) else None

    @property
    def body(self) -> bytes:
        return self.body_bytes()

    @property
    def stream(self) -> bool:
        return ":streamGenerateContent" in self.uri

    @property
    def model(self) -> str:
        return self.uri.split("/models/")[1].split(":")[0]


_GENERATE = [
    x
    for x in interactions(FOLDER, Exchange)
    if ":generateContent" in x.uri or ":streamGenerateContent" in x.uri
]


def exchanges() -> list[Exchange]:
    """Every recorded ``generateContent`` / ``streamGenerateContent`` exchange."""
    return list(_GENERATE)


def require_fixtures() -> None:
    if not _GENERATE:
        missing(RECORDED / FOLDER)


def sse_chunks(body: bytes) -> list[dict[str, Any]]:
    """The JSON of each ``data:`` line, parsed independently of the codec."""
    out = []
    for line in body.decode().replace("\r\n", "\n").split("\n"):
        if line.startswith("data:"):
            out.append(json.loads(line[5:].strip()))
    return out


def part_kinds(obj: Any) -> set[str]:
    """Every key used in any ``parts`` item of a JSON document."""
    found: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "parts" and isinstance(value, list):
                for part in value:
                    if isinstance(part, dict):
                        found.update(part)
            found |= part_kinds(value)
    elif isinstance(obj, list):
        for value in obj:
            found |= part_kinds(value)
    return found


def skip_reason(obj: Any) -> str | None:
    for kind in sorted(part_kinds(obj) - SUPPORTED_PART_KEYS):
        return SKIP_REASONS.get(kind, f"unsupported part kind {kind!r}")
    return None
