"""Secret scrubbing: what a provider echoes back never reaches a client or a log.

A :class:`Redactor` is built once from the config (``config.redactor``)
and holds one compiled pattern. :meth:`Redactor.scrub` replaces, in any
text:

- every configured secret value (provider keys, each part of an AWS
  ``ACCESS_KEY_ID:SECRET:TOKEN`` key, credential headers, the master key);
- client keys, which the config keeps only as SHA-256 digests: each
  key-shaped token of the text is hashed and replaced when it is one of them;
- credentials in any shape an upstream echoes them: ``Authorization:`` /
  ``x-api-key:`` / ``api-key:`` / ``x-goog-api-key:`` values, ``Bearer``
  tokens, ``?key=`` query values and well-known key formats (``sk-...``,
  ``AKIA...``, ``AIza...``, ``gsk_...``, ``xai-...``), configured or not.

It runs only where text leaves for the outside on a failure path: upstream
errors as they enter the attempt loop, error rendering, log records
(:class:`LogRedactor`). A successful answer never passes through it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable

from junction.types import GatewayError

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8
"""Shorter values are not scrubbed by value: no real key is that short, and
replacing every occurrence of a short word would garble the message."""

_CREDENTIAL_HEADERS = (
    "authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|"
    "x-amz-security-token|x-amz-secret-access-key|cookie"
)
_SHAPES = (
    # `Authorization: Bearer abc`, `"x-api-key": "abc"`, `api-key=abc`
    rf"(?P<head>\b(?:{_CREDENTIAL_HEADERS})[\"']?\s*[:=]\s*[\"']?"
    r"(?:(?:bearer|basic|aws4-hmac-sha256)\s+)?)[^\s\"',;]+",
    r"(?P<scheme>\bbearer\s+)[A-Za-z0-9._~+/=-]+",
    r"(?P<query>[?&](?:key|api_key|api-key|token|access_token)=)[^&\s\"'#]+",
    r"\bsk-[A-Za-z0-9_*-][A-Za-z0-9_*.-]{6,}(?<![.-])",
    r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    r"\bAIza[0-9A-Za-z_-]{30,}",
    r"\bgsk_[A-Za-z0-9]{16,}",
    r"\bxai-[A-Za-z0-9]{16,}",
)
_TOKEN = re.compile(r"[A-Za-z0-9_.~+/:-]{8,}={0,2}")
"""A key-shaped token: what a client key may be, to compare by digest."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Redactor:
    """Replaces secrets in text. Build once (one regex compile), share."""

    __slots__ = ("_digests", "_pattern", "signature")

    def __init__(self, secrets: Iterable[str] = (), digests: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        literal = [f"(?:{'|'.join(re.escape(v) for v in values)})"] if values else []
        self._pattern = re.compile("|".join([*literal, *_SHAPES]), re.IGNORECASE)
        self._digests = frozenset(d.lower() for d in digests)
        self.signature = (frozenset(values), self._digests)
        """What this redactor removes (two redactors with one signature are alike)."""

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``[redacted]``."""
        clean = self._pattern.sub(_replace, text)
        if self._digests:
            clean = _TOKEN.sub(self._by_digest, clean)
        return clean

    def _by_digest(self, match: re.Match[str]) -> str:
        token = match.group()
        if _digest(token) in self._digests:
            return REDACTED
        if ":" not in token:
            return token
        parts = token.split(":")
        return ":".join(REDACTED if _digest(p) in self._digests else p for p in parts)

    def scrub_error(self, exc: GatewayError) -> GatewayError:
        """Scrub an error's message in place (what the client and the trace
        will show), and return it."""
        clean = self.scrub(exc.message)
        if clean != exc.message:
            exc.message = clean
            exc.args = (clean,)
        return exc


def _replace(match: re.Match[str]) -> str:
    keep = match.group("head") or match.group("scheme") or match.group("query") or ""
    return keep + REDACTED


class LogRedactor(logging.Filter):
    """Scrubs each record (message, arguments, traceback text) of the
    loggers it is installed on, with every redactor it has been given."""

    def __init__(self) -> None:
        super().__init__()
        self._redactors: dict[object, Redactor] = {}

    def add(self, redactor: Redactor) -> None:
        self._redactors.setdefault(redactor.signature, redactor)

    def _scrub(self, text: str) -> str:
        for redactor in self._redactors.values():
            text = redactor.scrub(text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self._scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True


LOGGERS = ("junction", "uvicorn", "uvicorn.error", "aiohttp", "asyncio")
"""Where junction's log records and tracebacks of its requests are written."""


def install_log_redactor(redactor: Redactor, names: Iterable[str] = LOGGERS) -> None:
    """Add ``redactor`` to the filter of each named logger and each of its
    existing children (a logger's filters do not apply to its children's
    records, and junction's modules make their loggers at import)."""
    wanted = tuple(names)
    loggers = [logging.getLogger(name) for name in wanted]
    for name in list(logging.Logger.manager.loggerDict):
        if name.startswith(tuple(f"{n}." for n in wanted)):
            loggers.append(logging.getLogger(name))
    for logger in loggers:
        found = next((f for f in logger.filters if isinstance(f, LogRedactor)), None)
        if found is None:
            found = LogRedactor()
            logger.addFilter(found)
        found.add(redactor)
