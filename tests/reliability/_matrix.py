"""The fault matrix as data: every fault kind, what the gateway must do with
it when the request is streamed and when it is not, and the rig that runs a
cell through real sockets.

Each cell's model has two deployments: the first faulty (``_faulty.py``, a
port nothing listens on, or a black-hole listener), the second the
simulator, healthy. ``tests/reliability/test_fault_matrix.py`` runs every
cell and asserts the table; ``tests/reliability/gen_matrix_doc.py`` writes the
table into docs/reliability.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DIALECTS = ("openai_chat", "openai_responses", "anthropic_messages", "gemini", "bedrock_converse")
MODES = ("plain", "stream")

FAILOVER = "fails over: the second deployment answers, the client gets 200"
ENDED = "the end marker is taken as the end: served by the first deployment, no error"
BROKEN = (
    "no failover (content already sent): the stream ends with an error event in the door's shape"
)


@dataclass(frozen=True, slots=True)
class Expect:
    outcome: str
    """FAILOVER or BROKEN."""
    status: int
    """The failed attempt's status in the generation record (the status
    the gateway would answer with)."""
    says: str
    """A fragment of the failed attempt's error (what the log and record name)."""
    calls: int = 1
    """Requests the faulty deployment received (0: it was never reached)."""
    rests: bool = False
    """The faulty deployment rests afterwards (a last resort for a while)."""
    hung_up: bool = False
    """The faulty deployment writes without end: the gateway must hang up
    well before the 64 MiB it would write."""


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    what: str
    """What the faulty deployment does, for the document."""
    plain: Expect
    stream: Expect
    streamed_in: tuple[tuple[str, Expect], ...] = ()
    """Dialects whose streams end otherwise: (dialect, expectation)."""

    def expect(self, dialect: str, mode: str) -> Expect:
        if mode == "plain":
            return self.plain
        return dict(self.streamed_in).get(dialect, self.stream)


def _both(expect: Expect) -> tuple[Expect, Expect]:
    return expect, expect


SSE_MARKED = ("openai_chat", "openai_responses", "anthropic_messages")
"""Dialects whose streams end with a marker of their own: `[DONE]`,
`response.completed`, `message_stop`."""
BEDROCK_FRAMES = (("bedrock_converse", Expect(FAILOVER, 502, "limits.max_event_bytes")),)
"""Bedrock reads binary frames, not lines: any noise is a frame prelude
announcing a length past the event limit."""

FAULTS: tuple[Fault, ...] = (
    Fault(
        "429-retry-after",
        "429 with `retry-after: 30` (longer than `max_backoff`: the deployment rests 30 s)",
        *_both(Expect(FAILOVER, 429, "returned 429", rests=True)),
    ),
    Fault("429", "429 without `retry-after`", *_both(Expect(FAILOVER, 429, "returned 429"))),
    Fault("500", "500", *_both(Expect(FAILOVER, 502, "returned 500"))),
    Fault("502", "502", *_both(Expect(FAILOVER, 502, "returned 502"))),
    Fault("503", "503", *_both(Expect(FAILOVER, 503, "returned 503"))),
    Fault("529", "529 overloaded", *_both(Expect(FAILOVER, 503, "overloaded"))),
    Fault(
        "refused",
        "connection refused (nothing listens on the port)",
        *_both(Expect(FAILOVER, 502, "could not connect", calls=0)),
    ),
    Fault(
        "connect-timeout",
        "connect timeout (a listener whose accept queue is full: the SYN goes unanswered)",
        *_both(
            Expect(FAILOVER, 504, "could not connect within 0.5 s (the connect timeout)", calls=0)
        ),
    ),
    Fault(
        "slow-first-token",
        "no response headers before the first-token timeout",
        *_both(Expect(FAILOVER, 504, "no response before the first-token timeout")),
    ),
    Fault(
        "stall",
        "stalls mid-answer: half a body, or two content events, then silence",
        Expect(FAILOVER, 504, "the idle timeout"),
        Expect(BROKEN, 504, "the idle timeout"),
    ),
    Fault(
        "cut",
        "connection reset mid-answer: half a body, or two content events, no end marker",
        Expect(FAILOVER, 502, "the connection was cut mid-response"),
        Expect(BROKEN, 502, "the connection was cut mid-response"),
    ),
    Fault(
        "cut-done",
        "ends cleanly but early: half a JSON body, or two content events and then the "
        "dialect's end marker (`[DONE]`) with no finish",
        Expect(FAILOVER, 502, "truncated"),
        Expect(BROKEN, 502, "ended before"),
        tuple((d, Expect(ENDED, 200, "")) for d in SSE_MARKED),
    ),
    Fault(
        "bad-json",
        "200 with a body that is not JSON, or a garbage event before the first content",
        *_both(Expect(FAILOVER, 502, "JSON is malformed")),
    ),
    Fault(
        "bad-sse",
        "an event stream where JSON was asked for, or binary noise instead of events",
        Expect(FAILOVER, 502, "JSON is malformed"),
        Expect(FAILOVER, 502, "ended"),
        BEDROCK_FRAMES,
    ),
    Fault(
        "wrong-type",
        "200 `text/html` (a proxy's error page)",
        Expect(FAILOVER, 502, "JSON is malformed"),
        Expect(FAILOVER, 502, "ended"),
        BEDROCK_FRAMES,
    ),
    Fault(
        "big-body",
        "a body past `limits.max_body_bytes`, or an event past `limits.max_event_bytes`",
        Expect(FAILOVER, 502, "limits.max_body_bytes"),
        Expect(FAILOVER, 502, "limits.max_event_bytes"),
        BEDROCK_FRAMES,
    ),
    Fault(
        "endless-line",
        "bytes without end: a body that never closes, or an SSE line with no newline",
        Expect(FAILOVER, 502, "limits.max_body_bytes", hung_up=True),
        Expect(FAILOVER, 502, "limits.max_line_bytes", hung_up=True),
        (("bedrock_converse", Expect(FAILOVER, 502, "limits.max_event_bytes", hung_up=True)),),
    ),
)


@dataclass(frozen=True, slots=True)
class Cell:
    fault: Fault
    dialect: str
    mode: str

    @property
    def id(self) -> str:
        return f"{self.fault.name}-{self.dialect}-{self.mode}"

    @property
    def model(self) -> str:
        return f"cell/{self.fault.name}/{self.dialect}/{self.mode}"

    @property
    def upstream_model(self) -> str:
        return f"{self.fault.name}.{self.dialect}.{self.mode}"

    @property
    def faulty_name(self) -> str:
        return f"faulty-{self.id}"

    @property
    def backup_name(self) -> str:
        return f"backup-{self.id}"

    @property
    def expect(self) -> Expect:
        return self.fault.expect(self.dialect, self.mode)


CELLS = tuple(Cell(f, d, m) for f in FAULTS for d in DIALECTS for m in MODES)


DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
BEGIN = "<!-- fault-matrix: begin -->"
END = "<!-- fault-matrix: end -->"


def render_section(observed: Mapping[str, str]) -> str:
    """The generated part of docs/reliability.md's "Fault matrix": the table
    of faults with what each must do, then every cell as observed."""
    passed = sum(1 for text in observed.values() if text.endswith("; pass"))
    lines = [
        BEGIN,
        "<!-- Written by MATRIX_WRITE_DOC=1 python -m pytest tests/reliability;"
        " tests/reliability/test_fault_matrix.py fails when this is stale. -->",
        "",
        f"**{passed} of {len(CELLS)} cells pass** ({len(FAULTS)} faults x "
        f"{len(DIALECTS)} dialects x {len(MODES)} modes).",
        "",
        "| fault | the faulty deployment | not streamed | streamed |",
        "| --- | --- | --- | --- |",
    ]
    for fault in FAULTS:
        lines.append(
            f"| `{fault.name}` | {fault.what} | {_expected(fault.plain)} | "
            f"{_expected(fault.stream)}{_exceptions(fault)} |"
        )
    lines += [
        "",
        "Observed, per cell: the client's status, the attempts' statuses in the",
        "generation record, `error event` when the stream ended with one,",
        "the completion tokens charged, and whether every check passed.",
        "",
        "| fault | mode | " + " | ".join(f"`{d}`" for d in DIALECTS) + " |",
        "| --- | --- |" + " --- |" * len(DIALECTS),
    ]
    for fault in FAULTS:
        for mode in MODES:
            cells = [observed[Cell(fault, d, mode).id] for d in DIALECTS]
            lines.append(f"| `{fault.name}` | {mode} | " + " | ".join(cells) + " |")
    lines.append(END)
    return "\n".join(lines)


def _expected(e: Expect) -> str:
    said = f", attempt recorded as {e.status} naming “{e.says}”" if e.says else ""
    rests = "; the deployment rests (a last resort) for the `retry-after`" if e.rests else ""
    hung_up = "; the gateway stops reading (hangs up) at the limit" if e.hung_up else ""
    return f"{e.outcome}{said}{rests}{hung_up}"


def _exceptions(fault: Fault) -> str:
    return "".join(f"; `{d}`: {_expected(e)}" for d, e in fault.streamed_in)
