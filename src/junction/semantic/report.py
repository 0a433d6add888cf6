"""What ``junction router eval`` prints and writes: a table, a JSON report, a plot."""

from __future__ import annotations

from pathlib import Path

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junction.semantic.evaluate import Evaluation, Outcome, budget_shares


class CurvePoint(msgspec.Struct):
    strong_share: float
    quality: float


class BudgetShare(msgspec.Struct):
    budget: float
    mean_cost: float
    quality: float
    shares: dict[str, float]


class RouterResult(msgspec.Struct, omit_defaults=True):
    router: str
    apgr: float | None = None
    cpt50: float | None = None
    cpt80: float | None = None
    aiq: float | None = None
    curve: list[CurvePoint] = []
    frontier: list[tuple[float, float]] = []  # the AIQ hull: (mean cost, mean quality)
    budgets: list[BudgetShare] = []


class ProtocolInfo(msgspec.Struct):
    kind: str
    description: str
    seed: int
    folds: int | None
    tested_rows: int


class Report(msgspec.Struct):
    data: str
    group: str | None
    rows: int
    models: list[str]
    strong: str | None
    weak: str | None
    quality: dict[str, float]
    encoder: str
    protocol: ProtocolInfo
    routers: list[RouterResult]
    baselines: list[RouterResult]


def result(outcome: Outcome, evaluation: Evaluation) -> RouterResult:
    out = RouterResult(router=outcome.router, aiq=outcome.aiq)
    if outcome.binary is not None:
        b = outcome.binary
        out.apgr, out.cpt50, out.cpt80 = b.apgr, b.cpt50, b.cpt80
        out.curve = [
            CurvePoint(float(s), float(q))
            for s, q in zip(b.curve.share, b.curve.quality, strict=True)
        ]
    if outcome.hull is not None:
        out.frontier = [(float(c), float(q)) for c, q in outcome.hull]
    if evaluation.top_cost is not None and outcome.sweep:
        models = evaluation.data.models
        out.budgets = [
            BudgetShare(
                budget=fraction,
                mean_cost=p.cost,
                quality=p.quality,
                shares={m: float(s) for m, s in zip(models, p.shares, strict=True)},
            )
            for fraction, p in budget_shares(outcome.sweep, evaluation.top_cost)
        ]
    return out


def build(evaluation: Evaluation, source: str, encoder: str, group: str | None = None) -> Report:
    data = evaluation.data
    tested = data.quality[evaluation.tested]
    pair = evaluation.pair
    p = evaluation.protocol
    return Report(
        data=source,
        group=group,
        rows=len(data),
        models=data.models,
        strong=data.models[pair.strong] if pair else None,
        weak=data.models[pair.weak] if pair else None,
        quality={m: float(tested[:, j].mean()) for j, m in enumerate(data.models)},
        encoder=encoder,
        protocol=ProtocolInfo(
            kind=p.kind,
            description=p.describe(),
            seed=p.seed,
            folds=p.folds if p.kind == "cv" else None,
            tested_rows=len(evaluation.tested),
        ),
        routers=[result(o, evaluation) for o in evaluation.routers],
        baselines=[result(o, evaluation) for o in evaluation.baselines],
    )


def write_json(report: Report | list[Report], path: str | Path) -> None:
    """One report, or (``--by-group``) ``{"by_group": [report, ...]}``."""
    body = {"by_group": report} if isinstance(report, list) else report
    Path(path).write_bytes(msgspec.json.format(msgspec.json.encode(body)) + b"\n")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def render(report: Report, console: Console) -> None:
    binary = report.strong is not None
    where = f"{report.data}, group {report.group}" if report.group else report.data
    title = f"{where}: {report.rows} rows tested, {report.protocol.description}"
    table = Table(title=escape(title))
    table.add_column("router")
    if binary:
        for column in ("APGR", "CPT(50%)", "CPT(80%)"):
            table.add_column(column, justify="right")
    costed = any(r.aiq is not None for r in report.routers + report.baselines)
    if costed:
        table.add_column("AIQ", justify="right")
    for r in report.routers + report.baselines:
        cells = [r.router]
        if binary:
            cells += [_num(r.apgr), _pct(r.cpt50), _pct(r.cpt80)]
        if costed:
            cells.append(_num(r.aiq))
        table.add_row(*cells)
    console.print(table)
    quality = ", ".join(f"{m} {q:.3f}" for m, q in report.quality.items())
    console.print(f"alone: {quality}; encoder {report.encoder}")
    if binary:
        _render_curves(report, console)
    if costed:
        _render_budgets(report, console)


def _render_curves(report: Report, console: Console) -> None:
    table = Table(title=f"quality as the share of {report.strong} calls rises")
    table.add_column("router")
    for r in report.routers + report.baselines:
        cells = [f"{p.strong_share:.0%}: {p.quality:.3f}" for p in r.curve]
        table.add_row(r.router, " ".join(cells))
    console.print(table)


def _render_budgets(report: Report, console: Console) -> None:
    table = Table(title="each model's share of calls as the budget rises (x the costliest mean)")
    table.add_column("router")
    table.add_column("budget", justify="right")
    table.add_column("quality", justify="right")
    table.add_column("shares")
    for r in report.routers + report.baselines:
        for b in r.budgets:
            shares = ", ".join(f"{m} {s:.0%}" for m, s in b.shares.items() if s > 0)
            table.add_row(r.router, f"{b.budget:.2f}", f"{b.quality:.3f}", shares)
    console.print(table)
