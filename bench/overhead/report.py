"""run.py's markdown report: medians over rounds, ratios and differences per round.

Every ratio or difference between two targets is taken round by round (both
measured in the same round, minutes apart at most) and reported as the median
of the per-round values, with their range in brackets when there are several
rounds.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Result = dict[str, Any]
ByTarget = dict[str, list[Result]]

PLAIN_C1, PLAIN_C16, STREAM_C1 = "plain-c1", "plain-c16", "stream-c1"


@dataclass
class Run:
    """What one run measured (also what results.json holds)."""

    header: str
    targets: list[str]
    loads: dict[str, ByTarget]  # load -> target -> one result per round
    startup: ByTarget  # target -> one {"seconds": ...} per round
    memory: dict[str, Result]  # target -> rss_start_kib, hwm_kib, processes
    chunks: int  # content chunks in one stream (the upstream's --chunks)
    events: dict[str, int]  # target -> SSE events in one whole stream
    notes: list[str] = field(default_factory=list)


# -- per-round values ------------------------------------------------------------


def med(rs: list[Result], key: str) -> float:
    return float(statistics.median(r[key] for r in rs))


def per_round(fn: Callable[..., float | None], *series: list[Result]) -> list[float]:
    """fn applied to each round's results of several targets (None: no value)."""
    out = [fn(*rnd) for rnd in zip(*series, strict=True)]
    return [v for v in out if v is not None]


def spread(values: list[float], fmt: str, unit: str = "") -> str:
    """The median, and the range when there are several values."""
    if not values:
        return "n/a"
    mid = format(statistics.median(values), fmt) + unit
    if len(values) == 1:
        return mid
    return f"{mid} ({format(min(values), fmt)} to {format(max(values), fmt)})"


def ratio(num: list[Result], den: list[Result], key: str) -> str:
    def one(a: Result, b: Result) -> float | None:
        return a[key] / b[key] if b[key] else None

    return spread(per_round(one, num, den), ".2f", "x")


def added(target: list[Result], base: list[Result], key: str) -> str:
    """target - base (µs), round by round."""
    return spread(per_round(lambda a, b: a[key] - b[key], target, base), "+,.0f")


def added_ratio(num: list[Result], den: list[Result], base: list[Result], key: str) -> str:
    """(num - base) / (den - base), round by round: whose overhead is how many times whose."""

    def one(a: Result, b: Result, d: Result) -> float | None:
        under = b[key] - d[key]
        return (a[key] - d[key]) / under if under > 0 else None

    return spread(per_round(one, num, den, base), ".2f", "x")


def per_chunk(target: list[Result], base: list[Result], chunks: int) -> list[float]:
    """(target's median stream time - direct's) / content chunks, round by round (µs)."""
    return per_round(lambda a, b: (a["p50_us"] - b["p50_us"]) / chunks, target, base)


def per_later_chunk(target: list[Result], base: list[Result], chunks: int) -> list[float]:
    """What the target adds after the first byte, per content chunk (µs), round by
    round: (added stream p50 - added TTFB p50) / chunks. The first chunk's share
    is the added TTFB, reported on its own."""

    def one(a: Result, b: Result) -> float:
        after_first = (a["p50_us"] - a["ttfb_p50_us"]) - (b["p50_us"] - b["ttfb_p50_us"])
        return after_first / chunks

    return per_round(one, target, base)


def cpu(rs: list[Result], key: str = "gw_cpu_us") -> str:
    return f"{med(rs, key):,.0f}" if key in rs[0] else "-"


# -- tables -----------------------------------------------------------------------


def headline(run: Run) -> list[str]:
    p1, p16, s1 = run.loads[PLAIN_C1], run.loads[PLAIN_C16], run.loads[STREAM_C1]
    have = set(run.targets)
    rows: list[tuple[str, str]] = []
    for t in ("junction", "junction-features", "junction-shared"):
        if t in have:
            rows.append((f"req/s at 16 connections, {t} / thin", ratio(p16[t], p16["thin"], "rps")))
    if "litellm" in have:
        rows += [
            (
                "req/s at 16 connections, junction / litellm",
                ratio(p16["junction"], p16["litellm"], "rps"),
            ),
            (
                "added latency p50 at 1 connection, litellm / junction",
                added_ratio(p1["litellm"], p1["junction"], p1["direct"], "p50_us"),
            ),
            (
                "added TTFB p50 (stream), litellm / junction",
                added_ratio(s1["litellm"], s1["junction"], s1["direct"], "ttfb_p50_us"),
            ),
        ]
    rows += [
        (
            "added latency p50 at 1 connection, junction / thin",
            added_ratio(p1["junction"], p1["thin"], p1["direct"], "p50_us"),
        ),
        (
            "added TTFB p50 (stream), junction / thin",
            added_ratio(s1["junction"], s1["thin"], s1["direct"], "ttfb_p50_us"),
        ),
    ]
    for t in (t for t in run.targets if t != "direct"):
        values = per_chunk(s1[t], s1["direct"], run.chunks)
        rows.append((f"per-chunk stream overhead, {t} (µs)", spread(values, "+,.1f")))
        later = per_later_chunk(s1[t], s1["direct"], run.chunks)
        rows.append((f"per-chunk overhead after the first byte, {t} (µs)", spread(later, "+,.1f")))
    lines = ["| measure | value |", "|---|--:|"]
    return lines + [f"| {name} | {value} |" for name, value in rows]


def table_plain_c1(run: Run) -> list[str]:
    r = run.loads[PLAIN_C1]
    lines = [
        "| target | p50 µs | p90 µs | p99 µs | added p50 µs | added p99 µs | req/s "
        "| gateway CPU µs/req | upstream CPU µs/req |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for t in run.targets:
        rs, base = r[t], r["direct"]
        add50 = "-" if t == "direct" else added(rs, base, "p50_us")
        add99 = "-" if t == "direct" else added(rs, base, "p99_us")
        lines.append(
            f"| {t} | {med(rs, 'p50_us'):,.0f} | {med(rs, 'p90_us'):,.0f} "
            f"| {med(rs, 'p99_us'):,.0f} | {add50} | {add99} | {med(rs, 'rps'):,.0f} "
            f"| {cpu(rs)} | {cpu(rs, 'up_cpu_us')} |"
        )
    return lines


def table_plain_c16(run: Run) -> list[str]:
    r = run.loads[PLAIN_C16]
    lines = [
        "| target | req/s | vs thin | vs direct | p50 µs | p90 µs | p99 µs | added p50 µs "
        "| gateway CPU µs/req | upstream CPU µs/req | completed / window |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for t in run.targets:
        rs = r[t]
        vs_thin = "-" if t in ("direct", "thin") else ratio(rs, r["thin"], "rps")
        vs_direct = "-" if t == "direct" else ratio(rs, r["direct"], "rps")
        add = "-" if t == "direct" else added(rs, r["direct"], "p50_us")
        lines.append(
            f"| {t} | {med(rs, 'rps'):,.0f} | {vs_thin} | {vs_direct} "
            f"| {med(rs, 'p50_us'):,.0f} | {med(rs, 'p90_us'):,.0f} | {med(rs, 'p99_us'):,.0f} "
            f"| {add} | {cpu(rs)} | {cpu(rs, 'up_cpu_us')} "
            f"| {med(rs, 'requests'):,.0f} / {rs[0]['window_s']} s |"
        )
    return lines


def table_stream_c1(run: Run) -> list[str]:
    r = run.loads[STREAM_C1]
    lines = [
        "| target | TTFB p50 µs | TTFB p99 µs | added TTFB p50 µs | stream p50 µs "
        "| stream p99 µs | added stream p50 µs | per-chunk overhead µs "
        "| per-chunk after the first byte µs | SSE events "
        "| event gap p50 µs | event gap p99 µs | streams/s | gateway CPU µs/stream |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for t in run.targets:
        rs, base = r[t], r["direct"]
        direct = t == "direct"
        add_ttfb = "-" if direct else added(rs, base, "ttfb_p50_us")
        add_total = "-" if direct else added(rs, base, "p50_us")
        chunk = "-" if direct else spread(per_chunk(rs, base, run.chunks), "+,.1f")
        later = "-" if direct else spread(per_later_chunk(rs, base, run.chunks), "+,.1f")
        lines.append(
            f"| {t} | {med(rs, 'ttfb_p50_us'):,.0f} | {med(rs, 'ttfb_p99_us'):,.0f} | {add_ttfb} "
            f"| {med(rs, 'p50_us'):,.0f} | {med(rs, 'p99_us'):,.0f} | {add_total} | {chunk} "
            f"| {later} | {run.events[t]} "
            f"| {med(rs, 'gap_p50_us'):,.1f} | {med(rs, 'gap_p99_us'):,.1f} "
            f"| {med(rs, 'rps'):,.0f} | {cpu(rs)} |"
        )
    return lines


def table_memory(run: Run) -> list[str]:
    lines = [
        "| target | processes | RSS after start MiB | peak RSS after the loads MiB "
        "| start-up to first 200, ms |",
        "|---|--:|--:|--:|--:|",
    ]
    for t in run.targets:
        mem = run.memory[t]
        start = spread([s["seconds"] * 1000 for s in run.startup[t]], ",.0f")
        lines.append(
            f"| {t} | {mem['processes']} | {mem['rss_start_kib'] / 1024:,.1f} "
            f"| {mem['hwm_kib'] / 1024:,.1f} | {start} |"
        )
    return lines


def problems(run: Run) -> list[str]:
    out = []
    for load, by_target in run.loads.items():
        for t, rs in by_target.items():
            errors = sum(r["errors"] for r in rs)
            bad = sum(r["bad"] for r in rs)
            total = sum(r["requests"] for r in rs)
            if errors or bad:
                sample = next((r["sample"] for r in rs if r["sample"]), "")
                out.append(
                    f"- {load} {t}: {bad:.0f} bad answers and {errors:.0f} socket errors "
                    f"in {total:.0f} requests; first: `{sample}`"
                )
    return out


def report(run: Run) -> str:
    parts = [run.header, "", "Headline (median of per-round ratios, range in brackets):", ""]
    parts += headline(run)
    parts += ["", "Non-streaming, 1 connection (wrk):", "", *table_plain_c1(run)]
    parts += ["", "Non-streaming, 16 connections (wrk): throughput", "", *table_plain_c16(run)]
    parts += [
        "",
        f"Streaming, 1 connection (asyncio client; {run.chunks} content chunks a stream; "
        "per-chunk overhead = added stream p50 / chunks; after the first byte = "
        "(added stream p50 - added TTFB p50) / chunks):",
        "",
        *table_stream_c1(run),
    ]
    parts += ["", "Memory and start-up:", "", *table_memory(run)]
    errs = problems(run)
    parts += ["", "Errors: " + ("none (0 bad answers, 0 socket errors)" if not errs else ""), *errs]
    if run.notes:
        parts += ["", "Notes:", *[f"- {n}" for n in run.notes]]
    return "\n".join(parts)
