"""Recorded Gemini exchanges (pydantic-ai cassettes) for the Gemini codec tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from _shared import RECORDED

FIXTURES = RECORDED / "test_google"

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


@dataclass
class Exchange:
    name: str
    index: int
    uri: str
    request: dict[str, Any] | None
    status: int
    headers: dict[str, list[str]]
    body: bytes

    @property
    def id(self) -> str:
        return f"{self.name}#{self.index}"

    @property
    def stream(self) -> bool:
        return ":streamGenerateContent" in self.uri

    @property
    def model(self) -> str:
        return self.uri.split("/models/")[1].split(":")[0]


def _body(section: dict[str, Any]) -> bytes:
    if "parsed_body" in section:
        return json.dumps(section["parsed_body"]).encode()
    raw = (section.get("body") or {}).get("string", b"")
    return raw if isinstance(raw, bytes) else raw.encode()


def _request(section: dict[str, Any]) -> dict[str, Any] | None:
    if "parsed_body" in section:
        body: dict[str, Any] = section["parsed_body"]
        return body
    raw = (
        (section.get("body") or {}).get("string")
        if isinstance(section.get("body"), dict)
        else section.get("body")
    )
    if not raw:
        return None
    return json.loads(raw)


def exchanges() -> list[Exchange]:
    if not FIXTURES.is_dir():
        return []
    out: list[Exchange] = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for i, item in enumerate(data.get("interactions") or []):
            uri = item["request"]["uri"]
            if ":generateContent" not in uri and ":streamGenerateContent" not in uri:
                continue
            resp = item["response"]
            out.append(
                Exchange(
                    name=path.stem,
                    index=i,
                    uri=uri,
                    request=_request(item["request"]),
                    status=resp["status"]["code"],
                    headers=resp.get("headers") or {},
                    body=_body(resp),
                )
            )
    return out


def require_fixtures() -> None:
    if not FIXTURES.is_dir():
        pytest.skip("recorded fixtures are not present")


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
