"""``junction db upgrade`` and ``junction db status``: the schema migrations."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from junction.stores.protocols import StoreUnavailable
from junction.stores.urls import DEFAULT_DATABASE_URL, redact

DATABASE_URL_ENV = "JUNCTION_DATABASE_URL"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser("db", help="the database: schema migrations")
    commands = db.add_subparsers(required=True, metavar="COMMAND")
    for name, run, help_ in (
        ("upgrade", _upgrade, "apply every pending schema migration"),
        ("status", _status, "list the schema migrations and which are applied"),
    ):
        cmd = commands.add_parser(name, help=help_)
        cmd.add_argument(
            "--database-url",
            help=f"sqlite:///path or postgresql://... (default: the config's "
            f"stores.database_url, else ${DATABASE_URL_ENV}, else {DEFAULT_DATABASE_URL})",
        )
        cmd.add_argument("--config", help="YAML config file whose stores.database_url to use")
        cmd.set_defaults(run=run)


def database_url(args: argparse.Namespace) -> str:
    """The URL to migrate: the flag, the config's, the environment's, the default."""
    if args.database_url:
        return str(args.database_url)
    if args.config:
        from junction.config import load_config

        url = load_config(args.config, os.environ).stores.database_url
        if url:
            return url
    return os.environ.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def _upgrade(args: argparse.Namespace) -> int:
    from junction.stores.migrate import upgrade

    url = database_url(args)
    try:
        applied = asyncio.run(upgrade(url))
    except StoreUnavailable as exc:
        print(f"junction db upgrade: {exc}", file=sys.stderr)
        return 1
    for name in applied:
        print(f"applied {name}")
    if not applied:
        print(f"{redact(url)}: up to date")
    return 0


def _status(args: argparse.Namespace) -> int:
    from junction.stores.migrate import status

    url = database_url(args)
    try:
        states = asyncio.run(status(url))
    except StoreUnavailable as exc:
        print(f"junction db status: {exc}", file=sys.stderr)
        return 1
    print(redact(url))
    for s in states:
        when = (
            time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(s.applied_at))
            if s.applied_at is not None
            else "pending"
        )
        print(f"  {s.migration.name}  {when}")
    return 0
