"""The dashboard's files: a fixed list read once when the app is built, served
from memory with their content type, an ETag, caching headers and a strict
Content-Security-Policy. No path from a request ever reaches the file system."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from junction.server.asgi import Request, Response

FILES = ("app.js", "style.css", "favicon.svg")
"""Everything under /ui/static/ (the page itself is index.html)."""
MAX_BYTES = 1 << 20
"""The files together may not pass this (a packaging mistake, not a request's)."""
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = (
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
)
IMMUTABLE = "public, max-age=31536000, immutable"
"""For a file asked for by its content hash (``?v=``): it never changes."""
REVALIDATE = "no-cache"
"""For the page and unversioned asks: reuse only after a 304."""


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    etag: str

    @property
    def version(self) -> str:
        return self.etag.strip('"')


class Assets:
    def __init__(self, files: dict[str, bytes]) -> None:
        total = sum(len(b) for b in files.values())
        if total > MAX_BYTES:
            raise RuntimeError(f"dashboard files are {total} bytes, over {MAX_BYTES}")
        self.files = {name: _asset(name, files[name]) for name in FILES}
        page = files["index.html"].decode("utf-8")
        for name in FILES:
            page = page.replace(
                f"{{{{{name}}}}}", f"/ui/static/{name}?v={self.files[name].version}"
            )
        self.page = _asset("index.html", page.encode("utf-8"))

    @classmethod
    def load(cls) -> Assets:
        folder = resources.files("junction.server").joinpath("ui")
        return cls({name: folder.joinpath(name).read_bytes() for name in ("index.html", *FILES)})

    def page_response(self, request: Request) -> Response:
        return _serve(self.page, request, REVALIDATE)

    def file_response(self, name: str, request: Request) -> Response | None:
        asset = self.files.get(name)
        if asset is None:
            return None
        versioned = f"v={asset.version}" in request.query.split("&")
        return _serve(asset, request, IMMUTABLE if versioned else REVALIDATE)


def _asset(name: str, body: bytes) -> Asset:
    suffix = name[name.rfind(".") :]
    return Asset(body, TYPES[suffix], f'"{hashlib.sha256(body).hexdigest()[:16]}"')


def _serve(asset: Asset, request: Request, cache: str) -> Response:
    headers = [*SECURITY_HEADERS, ("cache-control", cache), ("etag", asset.etag)]
    if request.headers.get("if-none-match") == asset.etag:
        return Response(b"", 304, headers, asset.media_type)
    return Response(asset.body, 200, headers, asset.media_type)
