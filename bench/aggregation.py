"""Routing simulation: junction's provider selection against simple policies.

``python bench/aggregation.py`` (``--help`` for options). Thousands of simulated
requests for ONE model served by five simulated providers, on a simulated
clock (nothing sleeps), with a price spread and an incident timeline:

* ``budget``: cheapest; a 20-minute full outage in which requests hang until
  the first-token timeout;
* ``value``: 5 % random failures all the time (half 429, half 500/502/503);
* ``mid``: degraded for 20 minutes (time to first token x8, throughput / 3;
  the slowest tail crosses the timeout);
* ``fast``: highest throughput; a 5-minute storm of 429s;
* ``premium``: most expensive, lowest time to first token, healthy.

Every policy sees the same requests (arrival times, sizes and per-provider
random draws) and the same timeline. The junction policies call the real
``junction.routing.select`` with a real ``EndpointStats`` and preferences
built the way the gateway's planner builds them (``split_variant`` /
``variant_preferences`` / ``parse_preferences`` / ``merge``). Attempts follow
the gateway's attempt loop (fail over on 429 / 5xx / timeout, before the
first token), capped at 3; a half-open endpoint's probe is taken when an
attempt on it starts (``gateway/failover.py``). Attempts are recorded into the
stats when they end, as the gateway records them: a failed attempt at once,
the serving one when the request ends (``gateway.accounting``), with
``output_tokens``. Cost is ``catalog.cost`` at the serving endpoint's ``Price``.

Requests overlap: an attempt reaches the stats only at its end time, so
routing decisions lag the failures they react to by one attempt, as they do
in the gateway.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from junction.catalog import EndpointInfo, Price, cost
from junction.routing import (
    EndpointStats,
    ProviderPreferences,
    merge,
    parse_preferences,
    select,
    split_variant,
    variant_preferences,
)
from junction.types import Usage

MODEL = "llama-3.3-70b"
MAX_ATTEMPTS = 3
FIRST_TOKEN_TIMEOUT_MS = 10_000.0
DURATION_S = 2 * 3600.0
RESULTS = Path(__file__).with_name("aggregation_results.md")


# -- the simulated world ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incident:
    """A period in which a provider misbehaves.

    ``hang``: every attempt waits for the first-token timeout; ``reject``: every
    attempt gets ``status`` quickly; ``slow``: time to first token is multiplied
    by ``ttft_factor`` and throughput divided by ``throughput_divisor``.
    """

    start_s: float
    end_s: float
    kind: Literal["hang", "reject", "slow"]
    status: int = 503
    ttft_factor: float = 1.0
    throughput_divisor: float = 1.0
    label: str = ""

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider of the model: prices (USD/Mtok), speed, failure behaviour."""

    slug: str
    input_price: float
    output_price: float
    ttft_ms: float
    """Median time to first token for a 1,500-token prompt."""
    tokens_per_s: float
    """Median output throughput after the first token."""
    error_rate: float = 0.0
    incidents: tuple[Incident, ...] = ()

    @property
    def price(self) -> Price:
        return Price(input=self.input_price, output=self.output_price)

    @property
    def endpoint_id(self) -> str:
        return f"{MODEL}@{self.slug}"

    def endpoint(self) -> EndpointInfo:
        return EndpointInfo(
            id=self.endpoint_id,
            model=MODEL,
            provider=self.slug,
            upstream_model=MODEL,
            context_length=131_072,
            price=self.price,
        )

    def incident(self, t: float) -> Incident | None:
        return next((i for i in self.incidents if i.active(t)), None)


def minutes(a: float, b: float) -> tuple[float, float]:
    return a * 60.0, b * 60.0


def providers() -> list[Provider]:
    """Inspired by Llama-3.3-70B listings: ~$0.20 to ~$0.90 per Mtok blended."""
    return [
        Provider(
            "budget", 0.15, 0.40, ttft_ms=700, tokens_per_s=40,
            incidents=(Incident(*minutes(40, 60), "hang", 504, label="budget down (hangs)"),),
        ),
        Provider("value", 0.23, 0.40, ttft_ms=450, tokens_per_s=80, error_rate=0.05),
        Provider(
            "mid", 0.35, 0.40, ttft_ms=900, tokens_per_s=60,
            incidents=(
                Incident(
                    *minutes(75, 95), "slow", ttft_factor=8.0, throughput_divisor=3.0,
                    label="mid slow (TTFT x8)",
                ),
            ),
        ),
        Provider(
            "fast", 0.59, 0.79, ttft_ms=250, tokens_per_s=300, error_rate=0.005,
            incidents=(Incident(*minutes(100, 105), "reject", 429, label="fast 429 storm"),),
        ),
        Provider("premium", 0.88, 0.88, ttft_ms=150, tokens_per_s=120),
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Draw:
    """The random numbers one request would use at one provider (fixed per run)."""

    fail: float
    kind: float
    ttft_z: float
    throughput_z: float
    error_ms: float


@dataclass(frozen=True, slots=True)
class Request:
    arrival_s: float
    prompt_tokens: int
    completion_tokens: int
    draws: tuple[Draw, ...]
    """One per provider, in ``providers()`` order."""


def clipped_lognormal(rng: random.Random, median: float, sigma: float, lo: int, hi: int) -> int:
    return int(min(hi, max(lo, rng.lognormvariate(math.log(median), sigma))))


def workload(n: int, n_providers: int, seed: int) -> list[Request]:
    """Poisson arrivals over ``DURATION_S``; prompt ~500-3000, completion ~100-800 tokens."""
    rng = random.Random(seed)
    rate = n / DURATION_S
    t = 0.0
    out: list[Request] = []
    for _ in range(n):
        t += rng.expovariate(rate)
        draws = tuple(
            Draw(rng.random(), rng.random(), rng.gauss(), rng.gauss(), rng.uniform(100, 300))
            for _ in range(n_providers)
        )
        out.append(
            Request(
                arrival_s=t,
                prompt_tokens=clipped_lognormal(rng, 1200, 0.35, 500, 3000),
                completion_tokens=clipped_lognormal(rng, 300, 0.45, 100, 800),
                draws=draws,
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """One attempt, in the terms ``EndpointStats.record`` takes."""

    ok: bool
    status: int
    latency_ms: float
    ttft_ms: float | None = None
    timeout: bool = False


_5XX = (500, 502, 503)


def attempt(p: Provider, req: Request, d: Draw, t: float) -> Outcome:
    """What happens when ``req`` is sent to ``p`` at simulated time ``t`` (streamed)."""
    incident = p.incident(t)
    if incident is not None and incident.kind == "hang":
        return Outcome(False, 504, FIRST_TOKEN_TIMEOUT_MS, timeout=True)
    if incident is not None and incident.kind == "reject":
        return Outcome(False, incident.status, d.error_ms / 2)
    if d.fail < p.error_rate:
        status = 429 if d.kind < 0.5 else _5XX[int((d.kind - 0.5) * 6) % 3]
        return Outcome(False, status, d.error_ms)
    slow = incident if incident is not None and incident.kind == "slow" else None
    prefill = 0.6 + 0.4 * req.prompt_tokens / 1500
    ttft = p.ttft_ms * prefill * math.exp(0.4 * d.ttft_z) * (slow.ttft_factor if slow else 1.0)
    if ttft > FIRST_TOKEN_TIMEOUT_MS:
        return Outcome(False, 504, FIRST_TOKEN_TIMEOUT_MS, timeout=True)
    tps = p.tokens_per_s * math.exp(0.25 * d.throughput_z)
    tps /= slow.throughput_divisor if slow else 1.0
    return Outcome(True, 200, ttft + req.completion_tokens / tps * 1000.0, ttft_ms=ttft)


# -- policies -------------------------------------------------------------------------


class Policy(Protocol):
    name: str
    max_attempts: int

    def order(self, req: Request, now: float) -> list[int]:
        """Provider indices to try, in order."""
        ...

    def starting(self, index: int, now: float) -> None:
        """An attempt on provider ``index`` starts at ``now``."""
        ...


@dataclass(slots=True)
class Single:
    """One provider, no failover."""

    name: str
    index: int
    max_attempts: int = 1

    def order(self, req: Request, now: float) -> list[int]:
        return [self.index]

    def starting(self, index: int, now: float) -> None:
        """No circuit breaker here."""


@dataclass(slots=True)
class RoundRobin:
    """Each request starts one provider further; failover to the next ones."""

    name: str
    n: int
    max_attempts: int = MAX_ATTEMPTS
    _next: int = 0

    def order(self, req: Request, now: float) -> list[int]:
        start = self._next
        self._next = (start + 1) % self.n
        return [(start + k) % self.n for k in range(self.n)]

    def starting(self, index: int, now: float) -> None:
        """No circuit breaker here."""


def gateway_preferences(model: str, provider: dict[str, object] | None) -> ProviderPreferences:
    """The planner's layering (no global or per-model defaults configured)."""
    _, variant = split_variant(model)
    asked = parse_preferences(provider) if provider is not None else None
    return merge(None, None, variant_preferences(variant), asked)


@dataclass(slots=True)
class Junction:
    """``routing.select`` over live ``EndpointStats``, as the gateway's planner calls it."""

    name: str
    prefs: ProviderPreferences
    endpoints: list[EndpointInfo]
    stats: EndpointStats
    rng: random.Random
    max_attempts: int = MAX_ATTEMPTS
    select_ns: list[int] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {e.id: i for i, e in enumerate(self.endpoints)}

    def order(self, req: Request, now: float) -> list[int]:
        started = time.perf_counter_ns()
        selection = select(
            self.endpoints,
            self.prefs,
            params=frozenset(),
            needs=frozenset(),
            prompt_tokens_estimate=req.prompt_tokens,
            stats=self.stats,
            rng=self.rng,
            now=now,
            model=MODEL,
        )
        self.select_ns.append(time.perf_counter_ns() - started)
        return [self._index[e.id] for e in selection.ordered]

    def starting(self, index: int, now: float) -> None:
        """An attempt starts: take the endpoint's probe if it is half-open
        (its record, at the attempt's end, gives it back)."""
        self.stats.begin_probe(self.endpoints[index].id, now=now)


@dataclass(frozen=True, slots=True)
class Case:
    """A junction policy: the model as the client names it and its ``provider`` object."""

    label: str
    model: str = MODEL
    provider: dict[str, object] | None = None
    warm: bool = False
    """Start with 5 minutes of healthy stats for every endpoint instead of none."""


JUNCTION_CASES = (
    Case("junction default (1/p²)"),
    Case("junction sort: price (:floor)", f"{MODEL}:floor"),
    Case("junction sort: throughput (:nitro)", f"{MODEL}:nitro"),
    Case("junction sort: throughput (:nitro), warm stats", f"{MODEL}:nitro", warm=True),
    Case("junction sort: latency", provider={"sort": "latency"}),
    Case("junction sort: latency, warm stats", provider={"sort": "latency"}, warm=True),
    Case("junction default + max latency p50 1 s", provider={"preferred_max_latency": 1}),
)


def warm_up(stats: EndpointStats, world: Sequence[Provider], seed: int, end: float) -> None:
    """Record 30 healthy attempts per endpoint, spread over the 5 minutes before ``end``."""
    rng = random.Random(seed)
    req = Request(0.0, 1200, 300, ())
    for p in world:
        for _ in range(30):
            draw = Draw(1.0, 0.0, rng.gauss(), rng.gauss(), 0.0)
            out = attempt(p, req, draw, -math.inf)
            stats.record(
                p.endpoint_id, ok=True, timeout=False, status=200, ttft_ms=out.ttft_ms,
                latency_ms=out.latency_ms, output_tokens=300, now=end - rng.uniform(0, 300),
            )  # fmt: skip


def policies(world: list[Provider], seed: int) -> list[tuple[Policy, EndpointStats]]:
    """Every policy with its own fresh stats store (each runs in its own world)."""
    slugs = [p.slug for p in world]
    cheapest = min(range(len(world)), key=lambda i: world[i].input_price + world[i].output_price)
    fastest = max(range(len(world)), key=lambda i: world[i].tokens_per_s)
    simple: list[Policy] = [
        Single(f"single: cheapest ({slugs[cheapest]})", cheapest),
        Single(f"single: fastest ({slugs[fastest]})", fastest),
        RoundRobin("round-robin + failover", len(world)),
    ]
    out: list[tuple[Policy, EndpointStats]] = [
        (p, EndpointStats(rng=random.Random(seed))) for p in simple
    ]
    endpoints = [p.endpoint() for p in world]
    for k, case in enumerate(JUNCTION_CASES):
        stats = EndpointStats(rng=random.Random(seed))
        if case.warm:
            warm_up(stats, world, seed, end=0.0)
        prefs = gateway_preferences(case.model, case.provider)
        rng = random.Random(seed * 1000 + k)
        out.append((Junction(case.label, prefs, endpoints, stats, rng), stats))
    return out


# -- the simulation loop ------------------------------------------------------------


@dataclass(slots=True)
class Served:
    """One finished request."""

    arrival_s: float
    latency_ms: float
    attempts: list[tuple[int, Outcome]]
    cost_usd: float = 0.0
    tokens: int = 0

    @property
    def ok(self) -> bool:
        return self.attempts[-1][1].ok if self.attempts else False


def run_request(policy: Policy, world: list[Provider], req: Request) -> Served:
    """The attempt loop: try in order until one serves, at most ``max_attempts``."""
    t = req.arrival_s
    spent_ms = 0.0
    tried: list[tuple[int, Outcome]] = []
    for index in policy.order(req, t)[: policy.max_attempts]:
        policy.starting(index, t + spent_ms / 1000.0)
        out = attempt(world[index], req, req.draws[index], t + spent_ms / 1000.0)
        tried.append((index, out))
        spent_ms += out.latency_ms
        if out.ok:
            p = world[index]
            usage = Usage(prompt_tokens=req.prompt_tokens, completion_tokens=req.completion_tokens)
            return Served(req.arrival_s, spent_ms, tried, cost(usage, p.price), usage.total_tokens)
    return Served(req.arrival_s, spent_ms, tried)


def settle(
    stats: EndpointStats, world: list[Provider], req: Request, done: Served, k: int, now: float
) -> None:
    """Record attempt ``k`` of a request at its end time ``now``, as the
    gateway does (``output_tokens`` only for the attempt that served)."""
    index, out = done.attempts[k]
    stats.record(
        world[index].endpoint_id,
        ok=out.ok,
        timeout=out.timeout,
        status=out.status,
        ttft_ms=out.ttft_ms,
        latency_ms=out.latency_ms,
        output_tokens=req.completion_tokens if out.ok else 0,
        now=now,
    )


def simulate(
    policy: Policy, stats: EndpointStats, world: list[Provider], requests: Sequence[Request]
) -> list[Served]:
    """Requests in arrival order; each attempt reaches the stats at its end time."""
    pending: list[tuple[float, int, int]] = []  # (end time, request number, attempt)
    results: list[Served] = []
    for n, req in enumerate(requests):
        while pending and pending[0][0] <= req.arrival_s:
            end, done, k = heapq.heappop(pending)
            settle(stats, world, requests[done], results[done], k, end)
        served = run_request(policy, world, req)
        results.append(served)
        end = served.arrival_s
        for k, (_, out) in enumerate(served.attempts):
            end += out.latency_ms / 1000.0
            heapq.heappush(pending, (end, n, k))
    while pending:
        end, done, k = heapq.heappop(pending)
        settle(stats, world, requests[done], results[done], k, end)
    return results


# -- reporting ------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest rank."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    success: float
    usd_per_mtok: float
    mean_ms: float
    p50_ms: float
    p99_ms: float
    attempts: float
    timeouts: int
    shares: tuple[float, ...]
    select_us: tuple[float, float] | None
    """Median and p99 of the run's own ``select`` calls, in µs."""


def summarise(
    name: str, served: Sequence[Served], n_providers: int, select_ns: Sequence[int]
) -> Row:
    ok = [s for s in served if s.ok]
    latencies = sorted(s.latency_ms for s in served)
    tokens = sum(s.tokens for s in ok)
    counts = [0] * n_providers
    for s in ok:
        counts[s.attempts[-1][0]] += 1
    return Row(
        name=name,
        success=len(ok) / len(served),
        usd_per_mtok=sum(s.cost_usd for s in ok) / tokens * 1e6 if tokens else math.nan,
        mean_ms=statistics.fmean(latencies),
        p50_ms=percentile(latencies, 0.50),
        p99_ms=percentile(latencies, 0.99),
        attempts=sum(len(s.attempts) for s in served) / len(served),
        timeouts=sum(out.timeout for s in served for _, out in s.attempts),
        shares=tuple(c / len(ok) if ok else 0.0 for c in counts),
        select_us=_p50_p99_us(select_ns),
    )


def _p50_p99_us(ns: Sequence[int]) -> tuple[float, float] | None:
    if not ns:
        return None
    ordered = sorted(ns)
    return percentile(ordered, 0.50) / 1000, percentile(ordered, 0.99) / 1000


def main_table(rows: Sequence[Row], world: Sequence[Provider]) -> str:
    head = [
        "policy", "success", "$/Mtok served", "mean ms", "p50 ms", "p99 ms",
        "attempts/req", "10 s timeouts", "select µs p50 / p99", *(f"{p.slug} %" for p in world),
    ]  # fmt: skip
    lines = [_md_row(head), _md_row(["---"] + ["--:"] * (len(head) - 1))]
    for r in rows:
        lines.append(
            _md_row(
                [
                    r.name,
                    f"{r.success:.2%}",
                    f"{r.usd_per_mtok:.4f}",
                    f"{r.mean_ms:,.0f}",
                    f"{r.p50_ms:,.0f}",
                    f"{r.p99_ms:,.0f}",
                    f"{r.attempts:.3f}",
                    f"{r.timeouts:,}",
                    f"{r.select_us[0]:.0f} / {r.select_us[1]:.0f}" if r.select_us else "-",
                    *(f"{s:.1%}".removesuffix("%") for s in r.shares),
                ]
            )
        )
    return "\n".join(lines)


def incident_table(runs: Sequence[tuple[str, list[Served]]], world: Sequence[Provider]) -> str:
    """Success and p99 latency of the requests that arrived during each incident."""
    incidents = [i for p in world for i in p.incidents]
    head = [
        "policy",
        *(f"{i.label} ({i.start_s / 60:.0f}-{i.end_s / 60:.0f} min)" for i in incidents),
    ]
    lines = [_md_row(head), _md_row(["---"] + ["--:"] * len(incidents))]
    for name, served in runs:
        cells = [name]
        for inc in incidents:
            window = [s for s in served if inc.active(s.arrival_s)]
            ok = sum(s.ok for s in window) / len(window) if window else math.nan
            p99 = percentile(sorted(s.latency_ms for s in window), 0.99)
            cells.append(f"{ok:.1%} / {p99 / 1000:.1f} s")
        lines.append(_md_row(cells))
    return "\n".join(lines)


def provider_table(world: Sequence[Provider]) -> str:
    head = ["provider", "input $/Mtok", "output $/Mtok", "TTFT p50 ms", "tokens/s p50", "behaviour"]
    lines = [_md_row(head), _md_row(["---", "--:", "--:", "--:", "--:", "---"])]
    for p in world:
        notes = [f"{p.error_rate:.1%} random 429/5xx"] if p.error_rate else []
        notes += [f"{i.label}, {i.start_s / 60:.0f}-{i.end_s / 60:.0f} min" for i in p.incidents]
        lines.append(
            _md_row(
                [
                    p.slug,
                    f"{p.input_price:.2f}",
                    f"{p.output_price:.2f}",
                    f"{p.ttft_ms:.0f}",
                    f"{p.tokens_per_s:.0f}",
                    "; ".join(notes) or "healthy",
                ]
            )
        )
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def selection_microbench(stats: EndpointStats, endpoints: list[EndpointInfo], n: int) -> float:
    """Median µs of one default-mode ``select`` over 5 endpoints with live stats."""
    prefs = gateway_preferences(MODEL, None)
    rng = random.Random(1)
    now = 0.0
    samples: list[int] = []
    for _ in range(n):
        started = time.perf_counter_ns()
        select(
            endpoints,
            prefs,
            params=frozenset(),
            needs=frozenset(),
            prompt_tokens_estimate=1200,
            stats=stats,
            rng=rng,
            now=now,
            model=MODEL,
        )
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


# -- entry point ----------------------------------------------------------------------


NOTES = """## Notes on the model

- The sim caps a request at 3 attempts and uses a 10 s first-token timeout. junction's
  own attempt loop (`gateway/attempts.py`) tries every endpoint of the plan, and its
  default `timeouts.first_token` is 120 s (`config.py`): with the defaults, a hanging
  provider costs 12x more per hit than here. The sim makes no retries
  (`routing.retry`) and has no `retry-after` cooldowns (its 429s carry none).
- An attempt is recorded when it ends (a failure at once, as `gateway/failover.py`
  does; the serving attempt when the request ends), so the router learns of a hang
  one first-token timeout after it started.
- `sort: throughput` / `sort: latency` read the 5-minute window; an endpoint without
  samples there goes first (exploration: one request measures it), and an endpoint
  with recent failures is demoted behind the healthy ones (`routing/select.py`).
- A half-open circuit (30 s after opening) lets one probe through at a time
  (`EndpointStats.begin_probe`, when an attempt on it starts); other requests keep
  it last until the probe succeeds, fails or outlives its lifetime."""


def report(args: argparse.Namespace, body: str, elapsed_s: float) -> str:
    command = "python bench/aggregation.py"
    if args.requests != 20_000:
        command += f" --requests {args.requests}"
    if args.seed != 7:
        command += f" --seed {args.seed}"
    return "\n".join(
        [
            "# Routing simulation: junction's provider selection vs simple policies",
            "",
            f"Generated by `{command}` on {datetime.now(UTC):%Y-%m-%d} "
            f"(seed {args.seed}, {args.requests:,} requests, {elapsed_s:.1f} s wall time).",
            "",
            f"One model served by {len(providers())} simulated providers over "
            f"{DURATION_S / 3600:.0f} simulated hours (Poisson arrivals, "
            f"{args.requests / DURATION_S:.2f} req/s; prompt 500-3000 tokens, lognormal median "
            "1200; completion 100-800, median 300). Streamed requests; a failed attempt costs "
            "100-300 ms (an error) or the 10 s first-token timeout (a hang), then the next "
            f"endpoint is tried, at most {MAX_ATTEMPTS} attempts (single-provider policies: 1). "
            "Junction policies call `junction.routing.select` with a live `EndpointStats` fed "
            "the way the gateway feeds it (each attempt recorded when it ends, a half-open "
            "probe taken when an attempt starts); stats start empty (cold start), except "
            "in the rows marked *warm stats*, which start with 30 healthy samples per endpoint "
            "from the 5 minutes before the first request. "
            "Cost is `catalog.cost` at the serving endpoint's price; $/Mtok is total cost over "
            "prompt + completion tokens of successful requests. Latency is end to end, failed "
            "attempts included, over all requests. Provider shares are of successful requests.",
            "",
            body,
            "",
            NOTES,
            "",
        ]
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] = sys.argv[1:]) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    world = providers()
    requests = workload(args.requests, len(world), args.seed)
    rows: list[Row] = []
    runs: list[tuple[str, list[Served]]] = []
    for policy, stats in policies(world, args.seed):
        served = simulate(policy, stats, world, requests)
        timings = policy.select_ns if isinstance(policy, Junction) else []
        rows.append(summarise(policy.name, served, len(world), timings))
        runs.append((policy.name, served))
    endpoints = [p.endpoint() for p in world]
    warm = EndpointStats(rng=random.Random(args.seed))
    warm_up(warm, world, args.seed, end=0.0)
    micro = selection_microbench(warm, endpoints, 20_000)
    elapsed = time.perf_counter() - started
    body = "\n\n".join(
        [
            "## Providers\n\n" + provider_table(world),
            "## Results\n\n" + main_table(rows, world),
            "## During the incidents (success / p99 latency of requests arriving in the window)"
            "\n\n" + incident_table(runs, world),
            "## Selection cost\n\n"
            f"One `routing.select` call, default mode, 5 endpoints with 5 minutes of stats: "
            f"**{micro:.1f} µs** (median of 20,000 calls, warm stats caches). The "
            "`select µs` column is over the simulation's own calls, where the stats' percentile "
            "caches are recomputed as samples arrive and the window slides (the p99).",
        ]
    )
    print(body)
    print(f"\n({elapsed:.1f} s wall time)")
    if not args.no_write:
        args.out.write_text(report(args, body, elapsed))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
