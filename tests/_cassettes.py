"""The recorded provider exchanges and the published API specs under tests/fixtures.

One loader for every dialect: it reads the VCR cassettes with plain ``yaml``
(never junction's code), so what a test expects is what the provider sent.
tests/fixtures/recorded/README.md and tests/fixtures/specs/README.md say where
the files come from and how ``scripts/sync-fixtures`` refreshes them.

A missing fixture is a skip on a developer's machine (the reason names the
file) and a failure when the ``CI`` environment variable is set, so a checkout
that lost its fixtures cannot pass CI on skips.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest
import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORDED = FIXTURES / "recorded"
SPECS = FIXTURES / "specs"

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESTORE = "restore it with scripts/sync-fixtures"


def in_ci() -> bool:
    """``CI`` is set to anything but an empty string, ``0`` or ``false``."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _missing_message(path: Path) -> str:
    root = FIXTURES.parents[1]
    where = path.relative_to(root) if path.is_relative_to(root) else path
    return f"fixture {where} is missing ({_RESTORE})"


def missing(path: Path) -> NoReturn:
    """Skip the running test, or fail it under CI, because ``path`` is absent."""
    if in_ci():
        pytest.fail(_missing_message(path), pytrace=False)
    pytest.skip(_missing_message(path))


def require(path: Path) -> Path:
    """``path`` when it exists; otherwise :func:`missing` (call inside a test)."""
    if not path.exists():
        missing(path)
    return path


def load_yaml(path: Path) -> Any:
    """A YAML file (a spec or a cassette), read with the C loader when present."""
    return yaml.load(require(path).read_text(), Loader=_LOADER)


@dataclass(frozen=True)
class Interaction:
    """One request and its response, as recorded."""

    folder: str
    name: str
    """The cassette's file name without ``.yaml``."""
    index: int
    """Position in the cassette (multi-turn cassettes hold several)."""
    method: str
    uri: str
    request_parsed: Any
    """The request's ``parsed_body`` (None when the recorder kept the raw body)."""
    request_raw: str | bytes | None
    """The request's raw ``body`` when there is no ``parsed_body``."""
    status: int
    headers: dict[str, list[str]]
    parsed: Any
    """The response's ``parsed_body`` (JSON bodies in most cassettes)."""
    response_body: bytes | None
    """The response body as sent when there is no ``parsed_body`` (SSE, event streams)."""
    binary: bool
    """The response body was stored as ``!!binary`` (base64) in the cassette."""

    @property
    def id(self) -> str:
        return f"{self.name}#{self.index}"

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.name}"

    def body_bytes(self) -> bytes:
        """The response body: as sent, or the parsed JSON serialised again."""
        if self.response_body is not None:
            return self.response_body
        return json.dumps(self.parsed).encode()

    def request_json(self) -> Any:
        """The request body as JSON: the parsed body, else the raw body parsed
        (None when there is none or it is not JSON)."""
        if self.request_parsed is not None:
            return self.request_parsed
        if not self.request_raw:
            return None
        try:
            return json.loads(self.request_raw)
        except ValueError:
            return None


InteractionT = TypeVar("InteractionT", bound=Interaction)


def _text_or_bytes(body: Any) -> tuple[str | bytes | None, bool]:
    """A cassette ``body`` (a string, ``{string: ...}`` or ``!!binary`` bytes)."""
    if isinstance(body, dict):
        body = body.get("string")
    if body is None or isinstance(body, (str, bytes)):
        return body, isinstance(body, bytes)
    return str(body), False


def _interaction(
    kind: type[InteractionT], folder: str, name: str, index: int, item: dict[str, Any]
) -> InteractionT:
    req, resp = item["request"], item["response"]
    request_raw = None if "parsed_body" in req else _text_or_bytes(req.get("body"))[0]
    response_body: bytes | None = None
    binary = False
    if "parsed_body" not in resp:
        body, binary = _text_or_bytes(resp.get("body"))
        response_body = body if isinstance(body, bytes) else (body or "").encode()
    return kind(
        folder=folder,
        name=name,
        index=index,
        method=req.get("method", ""),
        uri=req["uri"],
        request_parsed=req.get("parsed_body"),
        request_raw=request_raw,
        status=resp["status"]["code"],
        headers=resp.get("headers") or {},
        parsed=resp.get("parsed_body"),
        response_body=response_body,
        binary=binary,
    )


def cassette(folder: str, name: str) -> list[Interaction]:
    """The interactions of one cassette, ``name`` without ``.yaml`` (call inside a test)."""
    return _read(RECORDED / folder / f"{name}.yaml", folder, Interaction)


def interactions(folder: str, kind: type[InteractionT]) -> list[InteractionT]:
    """Every interaction of every cassette in one folder, in file-name order.

    Safe at import time: an absent or empty folder gives ``[]`` locally (the
    tests parametrised on it then skip through :func:`params`) and stops the
    collection under CI."""
    directory = RECORDED / folder
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        if in_ci():
            pytest.fail(_missing_message(directory), pytrace=False)
        return []
    return [x for path in paths for x in _read(path, folder, kind)]


def _read(path: Path, folder: str, kind: type[InteractionT]) -> list[InteractionT]:
    """A cassette's interactions; ``index`` is the position in the file."""
    data = load_yaml(path)
    name = path.name.removesuffix(".yaml")
    return [
        _interaction(kind, folder, name, i, item)
        for i, item in enumerate(data.get("interactions") or [])
        if "request" in item
    ]


def params(items: list[InteractionT], folder: str = "") -> list[Any]:
    """pytest parameters, one per interaction, with its id.

    No interaction at all is a skip locally (fixtures absent) and a failure
    under CI (the selection matched nothing: fixtures lost or a filter broken)."""
    if items:
        return [pytest.param(x, id=x.id) for x in items]
    message = (
        _missing_message(RECORDED / folder) if folder else f"no recorded exchange ({_RESTORE})"
    )
    if in_ci():
        pytest.fail(message, pytrace=False)
    return [pytest.param(None, marks=pytest.mark.skip(reason=message))]
