"""JSON and typed-decoding micro-benchmark: stdlib json vs orjson vs msgspec (+ pydantic v2).

Every case is timed in batches; one round runs one batch of every case
(A B C A B C ...), and the reported figure is the median ns/op over rounds.
Ratios are computed from medians of the same run. Prints markdown tables.

    python bench/stack/bench_json.py [--rounds 7] [--batch-ms 40]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable

import msgspec
import orjson
import pydantic
from payloads import (
    CHUNK,
    CHUNK_BYTES,
    REQUEST,
    REQUEST_BYTES,
    ChatRequest,
    Chunk,
    PChatRequest,
    PChunk,
)

PAYLOADS = {
    "request": (REQUEST, REQUEST_BYTES, ChatRequest, PChatRequest),
    "chunk": (CHUNK, CHUNK_BYTES, Chunk, PChunk),
}


_STDLIB_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def stdlib_encode(obj: object) -> bytes:
    return _STDLIB_ENCODER.encode(obj).encode()


def build_cases() -> dict[tuple[str, str, str], Callable[[], object]]:
    """(payload, operation, library) -> zero-argument callable doing one op."""
    cases: dict[tuple[str, str, str], Callable[[], object]] = {}
    enc = msgspec.json.Encoder()
    dict_dec = msgspec.json.Decoder()
    for name, (obj, raw, struct_type, model_type) in PAYLOADS.items():
        typed_dec = msgspec.json.Decoder(struct_type)
        struct = typed_dec.decode(raw)
        model = model_type.model_validate_json(raw)
        cases |= {
            (name, "encode dict", "json"): lambda o=obj: stdlib_encode(o),
            (name, "encode dict", "orjson"): lambda o=obj: orjson.dumps(o),
            (name, "encode dict", "msgspec"): lambda o=obj: enc.encode(o),
            (name, "decode dict", "json"): lambda r=raw: json.loads(r),
            (name, "decode dict", "orjson"): lambda r=raw: orjson.loads(r),
            (name, "decode dict", "msgspec"): lambda r=raw: dict_dec.decode(r),
            (name, "decode typed", "msgspec Struct"): lambda r=raw, d=typed_dec: d.decode(r),
            (name, "decode typed", "pydantic"): lambda r=raw, m=model_type: m.model_validate_json(
                r
            ),
            (name, "encode typed", "msgspec Struct"): lambda s=struct: enc.encode(s),
            (name, "encode typed", "pydantic"): lambda m=model: m.model_dump_json(
                exclude_none=True
            ),
        }
    return cases


def calibrate(fn: Callable[[], object], batch_ms: float) -> int:
    loops = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter_ns() - t0
        if elapsed > batch_ms * 1e6 / 4:
            return max(1, int(loops * batch_ms * 1e6 / elapsed))
        loops *= 2


def run(rounds: int, batch_ms: float) -> dict[tuple[str, str, str], float]:
    cases = build_cases()
    loops = {key: calibrate(fn, batch_ms) for key, fn in cases.items()}
    samples: dict[tuple[str, str, str], list[float]] = {key: [] for key in cases}
    for _ in range(rounds):
        for key, fn in cases.items():  # interleaved: every case once per round
            n = loops[key]
            t0 = time.perf_counter_ns()
            for _ in range(n):
                fn()
            samples[key].append((time.perf_counter_ns() - t0) / n)
    return {key: statistics.median(v) for key, v in samples.items()}


def json_table(med: dict[tuple[str, str, str], float]) -> str:
    libs = ["json", "orjson", "msgspec"]
    lines = [
        "| payload | operation | json ns/op | orjson ns/op | msgspec ns/op | msgspec Struct ns/op "
        "| json/orjson | json/msgspec | json/msgspec Struct |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for payload in PAYLOADS:
        for op, typed in (("encode", "encode typed"), ("decode", "decode typed")):
            row = [med[(payload, f"{op} dict", lib)] for lib in libs]
            struct = med[(payload, typed, "msgspec Struct")]
            base = row[0]
            lines.append(
                f"| {payload} | {op} | {row[0]:,.0f} | {row[1]:,.0f} | {row[2]:,.0f} "
                f"| {struct:,.0f} "
                f"| {base / row[1]:.1f}x | {base / row[2]:.1f}x | {base / struct:.1f}x |"
            )
    return "\n".join(lines)


def typed_table(med: dict[tuple[str, str, str], float]) -> str:
    lines = [
        "| payload | operation | msgspec Struct ns/op | pydantic v2 ns/op | pydantic/msgspec |",
        "|---|---|--:|--:|--:|",
    ]
    for payload in PAYLOADS:
        for op, label in (
            ("decode typed", "decode+validate bytes"),
            ("encode typed", "encode to bytes"),
        ):
            m = med[(payload, op, "msgspec Struct")]
            p = med[(payload, op, "pydantic")]
            lines.append(f"| {payload} | {label} | {m:,.0f} | {p:,.0f} | {p / m:.1f}x |")
    return "\n".join(lines)


def error_examples() -> str:
    bad = json.loads(REQUEST_BYTES)
    bad["messages"][2]["tool_calls"][0]["function"]["name"] = 42
    raw = json.dumps(bad).encode()
    out = []
    try:
        msgspec.json.decode(raw, type=ChatRequest)
    except msgspec.ValidationError as exc:
        out.append(f"- msgspec: `` {exc} ``")
    try:
        PChatRequest.model_validate_json(raw)
    except pydantic.ValidationError as exc:
        err = exc.errors()[0]
        out.append(f"- pydantic: loc=`{err['loc']}` msg=`{err['msg']}`")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument(
        "--batch-ms", type=float, default=40.0, help="target duration of one timed batch"
    )
    args = ap.parse_args()
    med = run(args.rounds, args.batch_ms)
    print(
        f"<!-- {time.strftime('%Y-%m-%d %H:%M')} | python {platform.python_version()} | "
        f"json (stdlib) | orjson {orjson.__version__} | msgspec {msgspec.__version__} | "
        f"pydantic {pydantic.__version__} | rounds={args.rounds} | request {len(REQUEST_BYTES)} B, "
        f"chunk {len(CHUNK_BYTES)} B -->\n"
    )
    print("### JSON: ns/op (median of interleaved rounds) and speed-up vs stdlib json\n")
    print(json_table(med))
    print("\n### Typed structs: msgspec.Struct vs pydantic v2 (same shapes)\n")
    print(typed_table(med))
    print("\n### Validation error for `messages[2].tool_calls[0].function.name = 42`\n")
    print(error_examples())


if __name__ == "__main__":
    main()
