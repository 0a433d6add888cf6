"""The router commands that read the request log: ``junction router train --from-logs`` and
``junction router report``.

Both open the config's database (``stores.database_url``, else ``$JUNCTION_DATABASE_URL``,
else ``sqlite:///junction.db``) directly, the way the gateway writes it.

- ``train --from-logs``: every logged request with feedback (``POST /v1/feedback``)
  becomes a row whose served model has the feedback as its quality and whose other models
  are unknown (NaN: ``knn`` and ``linear`` fit each model on the rows that score it). The
  prompt is read from the stored request body, decoded by the door it came through, so the
  log must keep bodies (``request_log.store_bodies: true``); without them the log holds
  models, tokens, costs and the router's choice but no prompt, and the command says so.
  Costs: a row's served model has its logged cost, the other models their mean logged cost.
- ``report``: per router, the requests it decided, each model's share of its choices, the
  realised cost, and what always calling the strong model would have cost (each request's
  logged tokens at the strong model's configured price; served by the strong model: its
  logged cost), with the mean feedback per served model.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
from rich.console import Console
from rich.table import Table

from junction.catalog import cost
from junction.config import Config, load_config
from junction.gateway.auto import prompt_text
from junction.gateway.routes import build_routes
from junction.requestlog.feedback import LoggedRequest, open_feedback
from junction.requestlog.store import connect
from junction.semantic.artifact import ArtifactError, read_manifest
from junction.semantic.commands import guarded
from junction.semantic.dataset import Dataset, DatasetError
from junction.server.doors import doors
from junction.server.openrouter_door import OPENROUTER_CHAT, OPENROUTER_RESPONSES
from junction.stores.open import database_url
from junction.stores.urls import DEFAULT_DATABASE_URL
from junction.types import ChatRequest, GatewayError, Usage

FROM_LOGS_ROUTERS = ("knn", "linear")
"""The routers that learn from rows scoring one model each."""


def add_parsers(commands: Any) -> None:
    """Add ``--from-logs`` to ``junction router train`` and the ``report`` command."""
    train = commands.choices["train"]
    train.add_argument(
        "--from-logs",
        action="store_true",
        help="train on logged requests with feedback (POST /v1/feedback) instead of --data",
    )
    _where(train)
    train.set_defaults(logs_loader=dataset_from_logs)
    report = commands.add_parser(
        "report", help="realised cost of the routers' decisions against always-strong"
    )
    _where(report)
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    report.set_defaults(run=guarded(_report))


def _where(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="the gateway's YAML (default $JUNCTION_CONFIG)")
    parser.add_argument(
        "--since", help="only requests from this time on (ISO 8601 or epoch seconds)"
    )


def _config(args: argparse.Namespace) -> Config:
    path = args.config or os.environ.get("JUNCTION_CONFIG")
    if not path:
        raise DatasetError("give the gateway's config: --config PATH (or $JUNCTION_CONFIG)")
    return load_config(path, os.environ)


def _since(text: str | None) -> float:
    if not text:
        return 0.0
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise DatasetError(f"--since {text!r}: give ISO 8601 or epoch seconds") from None


async def _read(url: str, what: str, since: float) -> list[LoggedRequest]:
    store = await connect(url)  # the request log's schema, for the join
    feedback = await open_feedback(url)
    try:
        return await (feedback.rated(since) if what == "rated" else feedback.routed(since))
    finally:
        await feedback.close()
        await store.close()


def logged(config: Config, what: str, since: float = 0.0) -> list[LoggedRequest]:
    url = database_url(config, os.environ) or DEFAULT_DATABASE_URL
    return asyncio.run(_read(url, what, since))


Decode = Callable[[bytes], ChatRequest]


def _decoders() -> dict[str, Decode]:
    found = [*doors(), OPENROUTER_CHAT, OPENROUTER_RESPONSES]
    return {d.server.name: d.server.decode_request for d in found}


def prompt_of(row: LoggedRequest, decoders: dict[str, Decode]) -> str | None:
    """The text a router reads, from the stored body (None: no body, or not decodable)."""
    decode = decoders.get(row.door)
    if row.body is None or decode is None:
        return None
    try:
        return prompt_text(decode(row.body.encode("utf-8")))
    except (GatewayError, msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None


def rows_to_dataset(rows: list[LoggedRequest], models: list[str] | None = None) -> Dataset:
    """Rated requests as a dataset: the served model's quality is the feedback."""
    if not rows:
        raise DatasetError(
            "no logged request has feedback: send POST /v1/feedback {id, score} for requests "
            "first (docs/routing.md)"
        )
    decoders = _decoders()
    texts: list[str] = []
    kept: list[LoggedRequest] = []
    for row in rows:
        text = prompt_of(row, decoders)
        if text:
            texts.append(text)
            kept.append(row)
    if not kept:
        raise DatasetError(
            f"{len(rows)} logged requests have feedback, but the log kept none of their "
            "prompts: set request_log.store_bodies: true (the log then keeps each request "
            "body, redacted as request_log.redact_* say). Without bodies the log holds the "
            "model, tokens, cost and the router's choice, not the prompt a router learns from"
        )
    names = models or sorted({r.model_used for r in kept})
    kept_rows = [(t, r) for t, r in zip(texts, kept, strict=True) if r.model_used in names]
    if len(names) < 2 or len({r.model_used for _, r in kept_rows}) < 2:
        raise DatasetError(
            f"feedback covers {len({r.model_used for _, r in kept_rows})} model(s): a router "
            "needs rated requests served by at least two"
        )
    quality = np.full((len(kept_rows), len(names)), np.nan)
    for i, (_, row) in enumerate(kept_rows):
        quality[i, names.index(row.model_used)] = row.score
    return Dataset(
        texts=[t for t, _ in kept_rows],
        models=names,
        quality=quality,
        costs=_costs([r for _, r in kept_rows], names),
        groups=["" for _ in kept_rows],
    )


def _costs(rows: list[LoggedRequest], names: list[str]) -> Any:
    spent: dict[str, list[float]] = {m: [] for m in names}
    for row in rows:
        if row.cost is not None:
            spent[row.model_used].append(row.cost)
    if any(not v for v in spent.values()):
        return None  # a model with no logged cost: no costs at all
    means = np.array([float(np.mean(spent[m])) for m in names])
    out = np.tile(means, (len(rows), 1))
    for i, row in enumerate(rows):
        if row.cost is not None:
            out[i, names.index(row.model_used)] = row.cost
    return out


def dataset_from_logs(args: argparse.Namespace) -> Dataset:
    if args.router not in FROM_LOGS_ROUTERS:
        raise DatasetError(
            f"--from-logs trains {' or '.join(FROM_LOGS_ROUTERS)}: logged rows score only "
            f"the model that served, which {args.router} cannot learn from"
        )
    return rows_to_dataset(logged(_config(args), "rated", _since(args.since)))


# --- report ---------------------------------------------------------------------------


@dataclass
class RouterReport:
    router: str
    strong: str | None
    requests: int = 0
    shadow: int = 0
    chosen: dict[str, int] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)
    cost: float = 0.0
    always_strong: float | None = 0.0
    scores: dict[str, list[float]] = field(default_factory=dict)

    def saving(self) -> float | None:
        if not self.always_strong:
            return None
        return 1.0 - self.cost / self.always_strong

    def as_json(self) -> dict[str, Any]:
        return {
            "router": self.router,
            "strong": self.strong,
            "requests": self.requests,
            "shadow": self.shadow,
            "chosen": self.chosen,
            "served": self.served,
            "cost": self.cost,
            "always_strong": self.always_strong,
            "saving": self.saving(),
            "feedback": {
                m: {"n": len(v), "mean": float(np.mean(v))} for m, v in self.scores.items()
            },
        }


def strong_model(config: Config, router: str) -> str | None:
    """The configured model a router's artifact calls strong (N models: the costliest)."""
    spec = config.routers.get(router)
    if spec is None:
        return None
    folder = Path(spec.artifact)
    if not folder.is_absolute() and not config.source.startswith("<"):
        folder = Path(config.source).parent / folder
    try:
        manifest = read_manifest(folder)
    except ArtifactError:
        return None
    name = manifest.strong
    if name is None and manifest.mean_costs is not None:
        name = manifest.models[int(np.argmax(manifest.mean_costs))]
    if name is None:
        return None
    return (spec.candidates or {}).get(name, name)


def report(config: Config, rows: list[LoggedRequest]) -> list[RouterReport]:
    routes = build_routes(config)
    out: dict[str, RouterReport] = {}
    for row in rows:
        choice = msgspec.json.decode(row.router) if row.router else None
        if not isinstance(choice, dict):
            continue
        name = str(choice.get("name", ""))
        entry = out.get(name)
        if entry is None:
            entry = out[name] = RouterReport(name, strong_model(config, name))
        entry.requests += 1
        entry.shadow += bool(choice.get("shadow"))
        picked = str(choice.get("model", ""))
        entry.chosen[picked] = entry.chosen.get(picked, 0) + 1
        entry.served[row.model_used] = entry.served.get(row.model_used, 0) + 1
        entry.cost += row.cost or 0.0
        if row.score is not None:
            entry.scores.setdefault(row.model_used, []).append(row.score)
        entry.always_strong = _add(entry.always_strong, _strong_cost(row, entry.strong, routes))
    return [out[k] for k in sorted(out)]


def _strong_cost(row: LoggedRequest, strong: str | None, routes: dict[str, Any]) -> float | None:
    if strong is None:
        return None
    if row.model_used == strong and row.cost is not None:
        return row.cost
    route = routes.get(strong)
    price = route.endpoints[0].info.price if route is not None and route.endpoints else None
    if price is None:
        return None
    usage = Usage(prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens)
    return cost(usage, price)


def _add(total: float | None, value: float | None) -> float | None:
    return None if total is None or value is None else total + value


def _money(value: float | None) -> str:
    return "unknown" if value is None or math.isnan(value) else f"${value:,.6f}"


def _report(args: argparse.Namespace) -> int:
    config = _config(args)
    found = report(config, logged(config, "routed", _since(args.since)))
    if args.json:
        print(msgspec.json.encode([r.as_json() for r in found]).decode())
        return 0
    console = Console()
    if not found:
        console.print("no request in the log was decided by a router")
        return 0
    table = Table(title="semantic routers: realised cost against always-strong")
    for column in (
        "router",
        "requests",
        "chosen",
        "realised",
        "always strong",
        "saving",
        "feedback",
    ):
        table.add_column(column, justify="right" if column != "chosen" else "left")
    for r in found:
        chosen = ", ".join(f"{m} {n / r.requests:.0%}" for m, n in sorted(r.chosen.items()))
        saving = r.saving()
        feedback = ", ".join(f"{m} {np.mean(v):.2f} (n={len(v)})" for m, v in r.scores.items())
        table.add_row(
            r.router + (f" ({r.shadow} shadow)" if r.shadow else ""),
            str(r.requests),
            chosen,
            _money(r.cost),
            _money(r.always_strong) + (f" ({r.strong})" if r.strong else ""),
            "-" if saving is None else f"{saving:.1%}",
            feedback or "-",
        )
    console.print(table)
    console.print(
        "always strong: each request's logged tokens at the strong model's configured price "
        "(its logged cost where it served); shadow rows: the default model served"
    )
    return 0
