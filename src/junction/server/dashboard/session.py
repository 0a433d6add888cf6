"""The dashboard's login: the master key is typed once, checked, and exchanged
for an HttpOnly session cookie that is not the key (docs/decisions.md,
"Dashboard login").

The cookie is ``v1.<expiry>.<signature>``: an HMAC-SHA256 of the expiry under
a key derived from the master key's digest. Any gateway process with the same
master key accepts it (no session table to share); changing the master key
ends every session. ``HttpOnly`` keeps it from page scripts, ``SameSite=Strict``
and ``Path=/ui`` keep it off other sites' requests and off the API doors, and
every request that changes something must also carry the ``x-junction-ui``
header (which a cross-site form cannot send) and, when the browser sends one,
an ``Origin`` of this host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from http.cookies import CookieError, SimpleCookie

from junction.server.asgi import Request
from junction.types import GatewayError

COOKIE = "junction_ui"
LIFETIME = 12 * 3600
"""Seconds a session lasts; then the key is asked for again."""
CSRF_HEADER = "x-junction-ui"
_VERSION = "v1"


def _signing_key(master_digest: str) -> bytes:
    return hashlib.sha256(b"junction-ui-session\0" + master_digest.encode()).digest()


def _sign(master_digest: str, body: str) -> str:
    mac = hmac.new(_signing_key(master_digest), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def new_token(master_digest: str, now: float | None = None) -> tuple[str, int]:
    """A session token and its expiry (epoch seconds)."""
    expires = int(now if now is not None else time.time()) + LIFETIME
    body = f"{_VERSION}.{expires}"
    return f"{body}.{_sign(master_digest, body)}", expires


def valid(master_digest: str, token: str, now: float | None = None) -> int | None:
    """The token's expiry when it is this master key's and not expired, else None."""
    version, _, rest = token.partition(".")
    expires_text, _, signature = rest.partition(".")
    if version != _VERSION or not expires_text.isdigit() or not signature:
        return None
    expected = _sign(master_digest, f"{version}.{expires_text}")
    if not hmac.compare_digest(expected, signature):
        return None
    expires = int(expires_text)
    return expires if expires > (now if now is not None else time.time()) else None


def cookie_token(request: Request) -> str | None:
    raw = request.headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def _secure(request: Request) -> bool:
    scheme = request.scope.get("scheme", "http")
    forwarded = request.headers.get("x-forwarded-proto", "")
    return scheme == "https" or forwarded.split(",")[0].strip() == "https"


def set_cookie(request: Request, token: str) -> tuple[str, str]:
    secure = "; Secure" if _secure(request) else ""
    return (
        "set-cookie",
        f"{COOKIE}={token}; Path=/ui; Max-Age={LIFETIME}; HttpOnly; SameSite=Strict{secure}",
    )


def clear_cookie(request: Request) -> tuple[str, str]:
    secure = "; Secure" if _secure(request) else ""
    return ("set-cookie", f"{COOKIE}=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict{secure}")


def check_same_origin(request: Request) -> None:
    """Refuse a state-changing request another site could have made (403)."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise GatewayError(
            "permission_denied",
            f"Dashboard requests that change something must send the {CSRF_HEADER!r} header.",
        )
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if origin is not None and host is not None and origin.split("://", 1)[-1] != host:
        raise GatewayError("permission_denied", "This request came from another site.")
