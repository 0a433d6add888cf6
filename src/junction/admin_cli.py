"""``junction keys|teams|users ...``: the admin API (docs/admin.md) from a shell.

Talks to a running gateway over HTTP: ``--url`` (default ``$JUNCTION_URL``,
else http://127.0.0.1:4000) with the master key from ``--master-key`` or
``$JUNCTION_MASTER_KEY``. Exit codes: 0 done; 1 the gateway could not be
reached, refused the master key, or failed; 2 the request was wrong (a bad
option, a 400 or a 404 — the message says what to fix).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

DEFAULT_URL = "http://127.0.0.1:4000"
_CLEAR = object()
"""An option given as ``none``: clear the limit (null in the body)."""


class AdminError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# ----- options --------------------------------------------------------------


def _or_none(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return _CLEAR if text.lower() in ("none", "null") else convert(text)

    parse.__name__ = convert.__name__
    return parse


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. \'{"order": ["openai"]}\'')
    return value


def _models(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


def _expiry(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


_json_object.__name__ = "JSON object"
_models.__name__ = "model globs"
_expiry.__name__ = "time"

# (flag, body field, converter, help); every limit takes "none" to clear it.
_LIMITS: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("--models", "models", _models, "comma-separated glob allow-list (sim/*,gpt-4o*)"),
    ("--rpm", "rpm", int, "requests per minute"),
    ("--tpm", "tpm", int, "tokens per minute"),
    ("--max-parallel", "max_parallel", int, "concurrent requests"),
    ("--budget-usd", "budget_usd", float, "hard budget per period (USD)"),
    ("--soft-budget-usd", "soft_budget_usd", float, "soft (alerting) budget per period"),
    ("--budget-period", "budget_period", str, "daily|weekly|monthly|total|<N>h|<N>d"),
)
_COMMON: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("--metadata", "metadata", _json_object, "a JSON object kept with the record"),
)
_KEY_ONLY: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("--team", "team", str, "the team id (must exist)"),
    ("--user", "user", str, "the user id (must exist)"),
    ("--expires-at", "expires_at", _expiry, "ISO 8601 time or epoch seconds"),
    ("--provider", "provider", _json_object, "default provider preferences (JSON)"),
)
_USER_ONLY: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("--team", "team", str, "the team id (must exist)"),
    ("--email", "email", str, "the user's email"),
)
_FIELDS = {
    "keys": _KEY_ONLY + _LIMITS + _COMMON,
    "teams": _LIMITS + _COMMON,
    "users": _USER_ONLY + _LIMITS + _COMMON,
}


_INHERIT = {
    "keys": "bodies as the key's team says, else request_log.store_bodies",
    "teams": "bodies as request_log.store_bodies says",
}


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help=f"the gateway (default $JUNCTION_URL, else {DEFAULT_URL})")
    parser.add_argument("--master-key", help="default $JUNCTION_MASTER_KEY")
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")


def _fields(parser: argparse.ArgumentParser, resource: str) -> None:
    for flag, field, convert, text in _FIELDS[resource]:
        parser.add_argument(
            flag, dest=f"field_{field}", metavar=field.upper(), type=_or_none(convert), help=text
        )
    if resource in ("keys", "teams"):
        bodies = parser.add_mutually_exclusive_group()
        for flag, value, text in (
            ("--store-bodies", True, "keep request bodies in the request log (redacted)"),
            ("--no-store-bodies", False, "never keep request bodies"),
            ("--inherit-store-bodies", _CLEAR, _INHERIT[resource]),
        ):
            bodies.add_argument(
                flag, dest="field_store_bodies", action="store_const", const=value, help=text
            )
    if resource == "keys":
        lock = parser.add_mutually_exclusive_group()
        lock.add_argument(
            "--provider-locked",
            dest="field_provider_locked",
            action="store_const",
            const=True,
            help="requests cannot override --provider",
        )
        lock.add_argument(
            "--provider-unlocked",
            dest="field_provider_locked",
            action="store_const",
            const=False,
            help="requests may override --provider",
        )


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``junction keys``, ``junction teams`` and ``junction users``."""
    for resource, what in (("keys", "virtual keys"), ("teams", "teams"), ("users", "users")):
        group = sub.add_parser(resource, help=f"manage {what} on a running gateway")
        commands = group.add_subparsers(required=True, metavar="COMMAND")
        create = commands.add_parser("create", help="create one")
        create.add_argument("name")
        _fields(create, resource)
        listing = commands.add_parser("list", help="list them")
        if resource in ("keys", "users"):
            listing.add_argument("--team", help="only this team's")
        if resource == "keys":
            listing.add_argument("--user", help="only this user's")
        show = commands.add_parser("show", help="show one")
        update = commands.add_parser("update", help="change fields ('none' clears a limit)")
        update.add_argument("--name")
        _fields(update, resource)
        ends = ("revoke", "rotate") if resource == "keys" else ("delete",)
        verbs = {"revoke": "revoke one (kept, refused)", "rotate": "give one a new secret"}
        parsers = {"show": show, "update": update}
        for verb in ends:
            parsers[verb] = commands.add_parser(verb, help=verbs.get(verb, "delete one"))
        for parser in parsers.values():
            parser.add_argument("id")
        for verb, parser in {"create": create, "list": listing, **parsers}.items():
            _connection(parser)
            parser.set_defaults(run=_runner(resource, verb))


# ----- running --------------------------------------------------------------


def _runner(resource: str, verb: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        console = Console(stderr=True)
        try:
            with _client(args) as http:
                answer = _call(http, resource, verb, args)
        except AdminError as exc:
            console.print(f"[red]junction {resource} {verb}:[/] {exc.message}", highlight=False)
            return exc.code
        _show(resource, verb, answer, args.json)
        return 0

    return run


def _client(args: argparse.Namespace) -> httpx.Client:
    url = args.url or os.environ.get("JUNCTION_URL") or DEFAULT_URL
    key = args.master_key or os.environ.get("JUNCTION_MASTER_KEY")
    if not key:
        raise AdminError("give the master key: --master-key or $JUNCTION_MASTER_KEY", 2)
    try:
        return httpx.Client(base_url=url, headers={"authorization": f"Bearer {key}"}, timeout=30)
    except (httpx.InvalidURL, ValueError) as exc:  # pragma: no cover - httpx's own checks
        raise AdminError(f"--url {url!r} is not a URL ({exc})", 2) from None


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name, value in vars(args).items():
        if name.startswith("field_") and value is not None:
            body[name[6:]] = None if value is _CLEAR else value
    if getattr(args, "name", None) is not None:
        body["name"] = args.name
    return body


def _call(http: httpx.Client, resource: str, verb: str, args: argparse.Namespace) -> Any:
    base = f"/admin/{resource}"
    if verb == "create":
        return _send(http, "POST", base, json=_body(args))
    if verb == "list":
        query = {k: v for k in ("team", "user") if (v := getattr(args, k, None)) is not None}
        return _send(http, "GET", base, params=query)
    one = f"{base}/{args.id}"
    if verb == "show":
        return _send(http, "GET", one)
    if verb == "update":
        body = _body(args)
        if not body:
            raise AdminError("nothing to change: give at least one option (see --help)", 2)
        return _send(http, "PATCH", one, json=body)
    if verb == "rotate":
        return _send(http, "POST", f"{one}/rotate")
    return _send(http, "DELETE", one)  # revoke, delete


def _send(http: httpx.Client, method: str, path: str, **options: Any) -> Any:
    try:
        reply = http.request(method, path, **options)
    except httpx.ConnectError:
        raise AdminError(
            f"cannot connect to the gateway at {http.base_url} (is `junction serve` running? "
            "set --url or $JUNCTION_URL)",
            1,
        ) from None
    except httpx.HTTPError as exc:
        raise AdminError(f"talking to {http.base_url} failed: {exc}", 1) from None
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if reply.status_code >= 400:
        raise _refusal(reply.status_code, answer, reply.text)
    if answer is None:
        raise AdminError(f"the gateway answered {reply.status_code} without JSON", 1)
    return answer


def _refusal(status: int, answer: Any, text: str) -> AdminError:
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict):
        return AdminError(f"the gateway answered {status}: {text[:200]}", 1)
    message = str(error.get("message", ""))
    param = error.get("param")
    where = f" ({param})" if param else ""
    if status == 401:
        return AdminError(f"the master key was refused (401): {message}", 1)
    if status == 403:
        return AdminError(f"this key is not the master key (403): {message}", 1)
    code = 2 if status in (400, 404, 413) else 1
    return AdminError(f"{status}{where}: {message}", code)


# ----- output ---------------------------------------------------------------

_COLUMNS = {
    "keys": ("id", "name", "prefix", "status", "team", "user", "models", "rpm", "budget_usd"),
    "teams": ("id", "name", "models", "rpm", "tpm", "max_parallel", "budget_usd"),
    "users": ("id", "name", "team", "email", "models", "rpm", "budget_usd"),
}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value) if value else "-"
    return str(value)


def _show(resource: str, verb: str, answer: Any, as_json: bool) -> None:
    out = Console()
    secret = answer.get("key") if isinstance(answer, dict) else None
    if as_json:
        print(json.dumps(answer, indent=2))
    elif verb == "list":
        table = Table(title=f"{resource} ({len(answer['data'])})")
        for column in _COLUMNS[resource]:
            table.add_column(column)
        for row in answer["data"]:
            table.add_row(*(_cell(row.get(c)) for c in _COLUMNS[resource]))
        out.print(table)
    else:
        table = Table(show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for field, value in answer.items():
            if field != "key":
                table.add_row(field, _cell(value))
        out.print(table)
        if isinstance(secret, str):
            print(f"key: {secret}")
    if isinstance(secret, str):
        Console(stderr=True).print(
            "[yellow]The key above is shown this once and cannot be retrieved again: "
            "store it now.[/]"
        )
    sys.stdout.flush()
