"""``junction logs`` and ``junction spend``: the admin API over HTTP, as rich
tables, JSON or CSV."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

LOG_COLUMNS = (
    "time",
    "id",
    "key_name",
    "model_used",
    "provider",
    "status",
    "prompt_tokens",
    "completion_tokens",
    "cost",
    "latency_ms",
)
_LOG_FILTERS = (
    "start",
    "end",
    "key",
    "team",
    "user",
    "model",
    "provider",
    "status",
    "min_cost",
    "tag",
)


def add_parsers(sub: Any) -> None:
    logs = sub.add_parser("logs", help="recent requests from the request log (admin API)")
    _common(logs)
    for name in _LOG_FILTERS:
        logs.add_argument(f"--{name.replace('_', '-')}", dest=name)
    logs.add_argument("--limit", type=int, default=50)
    logs.add_argument("--cursor", help="the next page (printed under the table)")
    logs.set_defaults(run=_logs)
    spend = sub.add_parser("spend", help="spend by day or hour from the rollups (admin API)")
    _common(spend)
    spend.add_argument("--group-by", dest="group_by", choices=("day", "hour"), default="day")
    spend.add_argument("--by", choices=("key", "team", "user", "model", "provider"), default="key")
    spend.add_argument("--start")
    spend.add_argument("--end")
    spend.set_defaults(run=_spend)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--url",
        default=os.environ.get("JUNCTION_URL", "http://127.0.0.1:4000"),
        help="the gateway (default $JUNCTION_URL or http://127.0.0.1:4000)",
    )
    p.add_argument(
        "--master-key",
        dest="master_key",
        default=os.environ.get("JUNCTION_MASTER_KEY"),
        help="default $JUNCTION_MASTER_KEY",
    )
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the API's JSON")
    out.add_argument("--csv", action="store_true", help="print CSV")


@dataclass(frozen=True, slots=True)
class _Answer:
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def _get(args: argparse.Namespace, path: str, params: dict[str, Any]) -> _Answer | None:
    headers = {"authorization": f"Bearer {args.master_key}"} if args.master_key else {}
    if args.csv:
        params["format"] = "csv"
    clean = {k: v for k, v in params.items() if v is not None}
    url = f"{args.url.rstrip('/')}{path}?{urllib.parse.urlencode(clean)}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
            return _Answer(r.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", "replace")
        try:
            message = json.loads(body)["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = body[:500]
        print(f"junction: {path} answered {exc.code}: {message}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"junction: cannot reach {args.url}: {exc}", file=sys.stderr)
    return None


def _logs(args: argparse.Namespace) -> int:
    params = {name: getattr(args, name) for name in _LOG_FILTERS}
    params |= {"limit": args.limit, "cursor": args.cursor}
    r = _get(args, "/admin/logs", params)
    if r is None:
        return 1
    if args.json or args.csv:
        sys.stdout.write(r.text)
        return 0
    body = r.json()
    table = Table(title="junction logs")
    for column in LOG_COLUMNS:
        table.add_column(column, justify="right" if column.endswith(("tokens", "ms")) else "left")
    for row in body["data"]:
        table.add_row(*[_cell(row.get(c)) for c in LOG_COLUMNS])
    console = Console()
    console.print(table)
    if body.get("next_cursor"):
        console.print(f"more: --cursor {body['next_cursor']}")
    return 0


def _spend(args: argparse.Namespace) -> int:
    params = {"group_by": args.group_by, "by": args.by, "start": args.start, "end": args.end}
    r = _get(args, "/admin/spend", params)
    if r is None:
        return 1
    if args.json or args.csv:
        sys.stdout.write(r.text)
        return 0
    columns = ("period", args.by, "requests", "error_rate", "total_tokens", "cost", "cache_savings")
    table = Table(title=f"junction spend by {args.group_by} and {args.by}")
    for column in columns:
        table.add_column(column)
    for row in r.json()["data"]:
        table.add_row(*[_cell(row.get(c)) for c in columns])
    Console().print(table)
    return 0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
