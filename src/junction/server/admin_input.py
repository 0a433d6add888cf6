"""What the admin API accepts: one msgspec Struct per body, and the checks
msgspec cannot express (positive limits, well-formed globs, a future
expiry, a budget period, a provider object).

Every problem is a 400 ``invalid_request`` whose ``param`` names the field
and whose message says what to send instead. Nothing here writes anything:
a body is checked whole before the handler touches a store.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from msgspec import UNSET, UnsetType

from junction.routing import parse_preferences
from junction.stores.records import Limits
from junction.types import GatewayError

_S = TypeVar("_S", bound=msgspec.Struct)
_T = TypeVar("_T")

_LIMIT_FIELDS = (
    "models",
    "rpm",
    "tpm",
    "max_parallel",
    "budget_usd",
    "soft_budget_usd",
    "budget_period",
)
_WHOLE = ("rpm", "tpm", "max_parallel")
_USD = ("budget_usd", "soft_budget_usd")
_MAX_WHOLE = 2**53
_MAX_USD = 1e12
_MAX_TIME = 253402214400.0
"""9999-12-31T00:00:00Z: the last day ISO 8601 and every store can write."""
_MAX_NAME = 200
_MAX_DEPTH = 16
"""How deep ``metadata`` may nest (it is labels, not documents)."""
_PERIOD = re.compile(r"daily|weekly|monthly|total|[1-9][0-9]{0,5}[hd]")


class _LimitsBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The limits teams, users and keys share. UNSET: not sent; None: no limit."""

    models: list[str] | UnsetType | None = UNSET
    rpm: int | UnsetType | None = UNSET
    tpm: int | UnsetType | None = UNSET
    max_parallel: int | UnsetType | None = UNSET
    budget_usd: float | UnsetType | None = UNSET
    soft_budget_usd: float | UnsetType | None = UNSET
    budget_period: str | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET


class TeamPatch(_LimitsBody, forbid_unknown_fields=True, kw_only=True):
    name: str | UnsetType = UNSET
    store_bodies: bool | UnsetType | None = UNSET
    """Keep request bodies in the log; None: inherit ``request_log.store_bodies``."""


class TeamCreate(TeamPatch, forbid_unknown_fields=True, kw_only=True):
    name: str


class UserPatch(_LimitsBody, forbid_unknown_fields=True, kw_only=True):
    name: str | UnsetType = UNSET
    team: str | UnsetType | None = UNSET
    email: str | UnsetType | None = UNSET


class UserCreate(UserPatch, forbid_unknown_fields=True, kw_only=True):
    name: str


class KeyPatch(_LimitsBody, forbid_unknown_fields=True, kw_only=True):
    name: str | UnsetType = UNSET
    team: str | UnsetType | None = UNSET
    user: str | UnsetType | None = UNSET
    expires_at: float | str | UnsetType | None = UNSET
    """ISO 8601 (a time without a zone is UTC) or epoch seconds."""
    provider: dict[str, Any] | UnsetType | None = UNSET
    provider_locked: bool | UnsetType = UNSET
    store_bodies: bool | UnsetType | None = UNSET
    """Keep request bodies in the log; None: inherit the team's, else the config's."""


class KeyCreate(KeyPatch, forbid_unknown_fields=True, kw_only=True):
    name: str


Body = TeamPatch | UserPatch | KeyPatch


def invalid(param: str, message: str) -> GatewayError:
    return GatewayError("invalid_request", message, param=param)


def decode(body: bytes, type_: type[_S]) -> _S:
    """``body`` as ``type_``: a JSON object with only the fields it knows."""
    if not body.strip():
        raise invalid("body", "The request body is empty; send a JSON object.")
    if rb"\u0000" in body:  # no store can keep a NUL in text
        raise invalid("body", r"The body has a NUL character (\u0000); remove it.")
    try:
        return msgspec.json.decode(body, type=type_, strict=True)
    except msgspec.ValidationError as exc:
        raise _validation_error(str(exc)) from None
    except RecursionError:
        raise invalid("body", "The body nests too deeply; flatten it.") from None
    except msgspec.DecodeError as exc:
        raise invalid(
            "body", f"The request body is not valid JSON ({exc}); send a JSON object."
        ) from None


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


def _validation_error(text: str) -> GatewayError:
    match = _AT.match(text)
    message = match.group("msg") if match else text
    path = (match.group("path") if match else "") or ""
    unknown = re.search(r"unknown field `([^`]+)`", message)
    if unknown:
        field = f"{path}.{unknown.group(1)}".lstrip(".")
        return invalid(field, f"Unknown field {field!r}; the admin API reference is docs/admin.md.")
    missing = re.search(r"missing required field `([^`]+)`", message)
    if missing:
        field = f"{path}.{missing.group(1)}".lstrip(".")
        return invalid(field, f"{field!r} is required.")
    field = path.lstrip(".") or "body"
    if field == "body":
        return invalid(field, f"The request body must be a JSON object: {message}.")
    return invalid(field, f"{field!r} has the wrong type: {message}.")


def check_body(body: Body, now: float) -> None:
    """The checks of each field that was sent, on its own."""
    name = body.name
    if not isinstance(name, UnsetType) and not name.strip():
        raise invalid("name", "'name' is empty; give a name people will recognise.")
    if isinstance(name, str) and len(name) > _MAX_NAME:
        raise invalid("name", f"'name' is longer than {_MAX_NAME} characters; shorten it.")
    for field in _WHOLE:
        value = getattr(body, field)
        if isinstance(value, int) and not 0 < value <= _MAX_WHOLE:
            raise invalid(
                field,
                f"{field!r} must be a positive whole number up to {_MAX_WHOLE} (got {value}); "
                "send null or leave it out for no limit.",
            )
    for field in _USD:
        value = getattr(body, field)
        if isinstance(value, float | int) and not 0 < value <= _MAX_USD:
            raise invalid(
                field,
                f"{field!r} must be a positive amount in USD up to {_MAX_USD:.0f} (got {value}); "
                "send null or leave it out for no budget.",
            )
    if isinstance(body.metadata, dict) and _depth(body.metadata) > _MAX_DEPTH:
        raise invalid("metadata", f"'metadata' nests deeper than {_MAX_DEPTH} levels; flatten it.")
    period = body.budget_period
    if isinstance(period, str) and not _PERIOD.fullmatch(period):
        raise invalid(
            "budget_period",
            f"'budget_period' {period!r} is not a period: use daily, weekly, monthly, total, "
            "or a rolling window such as 24h or 30d.",
        )
    if isinstance(body.models, list):
        _check_globs(body.models)
    if isinstance(body, KeyPatch):
        _check_key_fields(body, now)


def _check_key_fields(body: KeyPatch, now: float) -> None:
    if not isinstance(body.expires_at, UnsetType | None):
        expires = expiry(body.expires_at)
        if expires <= now:
            raise invalid(
                "expires_at",
                f"'expires_at' ({iso(expires)}) is in the past; give a future time.",
            )
    if isinstance(body.provider, dict):
        parse_preferences(body.provider)  # its error names provider.<field>


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def expiry(value: float | str) -> float:
    """``expires_at`` as epoch seconds (already type-checked by the Struct)."""
    moment = _moment(value)
    if not (math.isfinite(moment) and 0 <= moment <= _MAX_TIME):
        raise invalid("expires_at", "'expires_at' must be a time between 1970 and 9999 (UTC).")
    return moment


def _moment(value: float | str) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(
            "expires_at",
            f"'expires_at' {value!r} is not an ISO 8601 time (2030-01-31T12:00:00Z) "
            "or epoch seconds.",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(moment: float | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC (``2030-01-31T12:00:00Z``)."""
    if moment is None:
        return None
    text = datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z"


def _check_globs(models: list[str]) -> None:
    for i, pattern in enumerate(models):
        param = f"models[{i}]"
        if not pattern.strip():
            raise invalid(param, "An empty model pattern matches nothing; remove it.")
        problem = _glob_problem(pattern)
        if problem:
            raise invalid(
                param,
                f"Model pattern {pattern!r} {problem}. Patterns are globs: * any text, "
                "? one character, [abc] one of a set.",
            )


def _glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a well-formed glob, or None."""
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "]":
            return f"has a ']' at {i} with no '[' before it"
        if char == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":  # a leading ']' is a member of the set
                j += 1
            close = pattern.find("]", j)
            if close < 0:
                return f"opens a set with '[' at {i} that is never closed with ']'"
            if close == j:
                return f"has an empty set '[]' at {i}"
            i = close + 1
            continue
        i += 1
    return None


def limits_after(current: Limits, body: Body) -> Limits:
    """``current`` with the fields ``body`` sent (null clears a limit), then
    checked as a whole: a soft budget below the hard one."""
    changes = {
        field: getattr(body, field)
        for field in _LIMIT_FIELDS
        if not isinstance(getattr(body, field), UnsetType)
    }
    if changes.get("budget_period", "") is None:
        changes["budget_period"] = "monthly"
    merged = msgspec.structs.replace(current, **changes)
    hard, soft = merged.budget_usd, merged.soft_budget_usd
    if hard is not None and soft is not None and soft >= hard:
        raise invalid(
            "soft_budget_usd",
            f"'soft_budget_usd' ({soft}) must be below 'budget_usd' ({hard}): the soft "
            "budget warns before the hard one blocks.",
        )
    return merged


def sent(value: _T | UnsetType, current: _T) -> _T:
    """The value a PATCH sent for a field, else the field's current value."""
    return current if isinstance(value, UnsetType) else value
