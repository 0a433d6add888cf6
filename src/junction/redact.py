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
import string
from collections.abc import Iterable, Iterator

from junction.types import GatewayError

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 8
"""Shorter values are not scrubbed by value: no real key is that short, and
replacing every occurrence of a short word would garble the message."""

_HEADERS = (
    "authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|"
    "x-amz-security-token|x-amz-secret-access-key|cookie"
)


class _Shape:
    """A credential shape, matched on the lower-cased text, and tried only
    when one of its markers is there (scanning for a marker is far cheaper
    than running the regex)."""

    __slots__ = ("markers", "pattern", "word")

    def __init__(self, markers: str, pattern: str, *, word: bool = False) -> None:
        self.markers = tuple(markers.split())
        self.pattern = re.compile(pattern)
        self.word = word
        """The match must start a word (checked here: a leading ``\\b`` would
        keep the regex engine from scanning for the literal prefix)."""

    def spans(self, lowered: str) -> Iterator[tuple[int, int, int]]:
        """(start, end of the part kept, end) of each match."""
        for match in self.pattern.finditer(lowered):
            start = match.start()
            if self.word and start and lowered[start - 1].isalnum():
                continue
            keep = match.end("keep") if "keep" in self.pattern.groupindex else start
            yield start, keep, match.end()


_SHAPES = (
    # `Authorization: Bearer abc`, `"x-api-key": "abc"`, `api-key=abc`
    _Shape(
        "authorization api-key x-amz- cookie",
        rf"(?P<keep>(?:{_HEADERS})[\"']?\s*[:=]\s*[\"']?"
        r"(?:(?:bearer|basic|aws4-hmac-sha256)\s+)?)[^\s\"',;]+",
    ),
    _Shape("bearer", r"(?P<keep>bearer\s+)[a-z0-9._~+/=-]+"),
    _Shape("key= token=", r"(?P<keep>[?&](?:key|api_key|api-key|token|access_token)=)[^&\s\"'#]+"),
    _Shape("sk-", r"sk-[a-z0-9_*-][a-z0-9_*.-]{6,}(?<![.-])", word=True),
    _Shape("akia asia", r"(?:akia|asia)[0-9a-z]{16}(?![0-9a-z])", word=True),
    _Shape("aiza", r"aiza[0-9a-z_-]{30,}", word=True),
    _Shape("gsk_", r"gsk_[a-z0-9]{16,}", word=True),
    _Shape("xai-", r"xai-[a-z0-9]{16,}", word=True),
)
_MARKERS = tuple((marker, shape) for shape in _SHAPES for marker in shape.markers)
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _lower(text: str) -> str:
    """Lower case, one character for one (the spans found apply to ``text``)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text.translate(_ASCII_LOWER)


def _splice(text: str, spans: list[tuple[int, int, int]]) -> str:
    out: list[str] = []
    done = 0
    for start, keep, end in sorted(spans):
        if start < done:  # inside a match already replaced
            continue
        out += (text[done:keep], REDACTED)
        done = end
    out.append(text[done:])
    return "".join(out)


_TOKEN = re.compile(r"[A-Za-z0-9_.~+/:-]{8,}={0,2}")
"""A key-shaped token: what a client key may be, to compare by digest."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Redactor:
    """Replaces secrets in text. Build once (the regexes compile here), share."""

    __slots__ = ("_digests", "_literal", "signature")

    def __init__(self, secrets: Iterable[str] = (), digests: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._literal = re.compile("|".join(re.escape(v) for v in values)) if values else None
        self._digests = frozenset(d.lower() for d in digests)
        self.signature = (frozenset(values), self._digests)
        """What this redactor removes (two redactors with one signature are alike)."""

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``[redacted]``."""
        if self._literal is not None:
            text = self._literal.sub(REDACTED, text)
        lowered = _lower(text)
        wanted = {shape for marker, shape in _MARKERS if marker in lowered}
        if wanted:
            spans = [span for shape in _SHAPES if shape in wanted for span in shape.spans(lowered)]
            if spans:
                text = _splice(text, spans)
        if self._digests:
            text = _TOKEN.sub(self._by_digest, text)
        return text

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
