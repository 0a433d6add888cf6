"""``junction router ...``: import data, train, evaluate."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable, Sequence

import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from junction.semantic import artifact, evaluate, report
from junction.semantic.calibrate import CalibrationError, parse_target
from junction.semantic.dataset import Dataset, DatasetError, load_dataset, write_rows
from junction.semantic.encoders import (
    Encoder,
    EncoderError,
    Setting,
    encoder_names,
    make_encoder,
)
from junction.semantic.intents import IntentRouter, load_intents
from junction.semantic.plot import PlotError, plot
from junction.semantic.protocols import PROTOCOLS, Protocol, ProtocolError
from junction.semantic.routellm import ALL, BENCHMARKS, import_routellm
from junction.semantic.routers import RouterError, router_names
from junction.semantic.vector_cache import CachedEncoder, cacheable, default_folder

DEFAULT_ENCODER = "lexical"
_ERRORS = (
    DatasetError,
    EncoderError,
    RouterError,
    ProtocolError,
    evaluate.EvaluationError,
    artifact.ArtifactError,
    PlotError,
    CalibrationError,
)


def add_parser(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    """``junction router ...``; the sub-commands, for commands added elsewhere
    (router_logs.py: ``train --from-logs``, ``report``)."""
    router = sub.add_parser("router", help="semantic routing: datasets, training, evaluation")
    commands: argparse._SubParsersAction = router.add_subparsers(  # type: ignore[type-arg]
        required=True, metavar="COMMAND"
    )

    data = commands.add_parser("data", help="routing datasets")
    data_commands = data.add_subparsers(required=True, metavar="COMMAND")
    imp = data_commands.add_parser("import", help="convert a benchmark's outcomes to JSONL")
    imp_sources = imp.add_subparsers(required=True, metavar="SOURCE")
    routellm = imp_sources.add_parser("routellm", help="RouteLLM's routellm/evals folder")
    routellm.add_argument("dir", help="the folder with mmlu/, gsm8k/, mt_bench/")
    routellm.add_argument("--benchmark", required=True, choices=[*BENCHMARKS, ALL])
    routellm.add_argument("--out", required=True, help="JSONL file to write")
    routellm.set_defaults(run=guarded(_import_routellm))

    train = commands.add_parser("train", help="train a router and save its artifact")
    train.add_argument("--data", help="routing dataset (JSONL)")
    train.add_argument("--router", required=True, choices=router_names())
    _common(train)
    train.add_argument(
        "--calibrate",
        metavar="KIND=VALUE",
        help="store a decision rule fitted on out-of-fold predictions: share=0.3 (strong "
        "calls), quality=0.8 (gap recovered; N models: predicted quality), max-cost=USD",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", required=True, help="artifact folder to write")
    train.set_defaults(run=guarded(_train))

    choose = commands.add_parser("choose", help="the model a calibrated artifact picks")
    choose.add_argument("artifact", help="artifact folder (trained with --calibrate)")
    choose.add_argument("--prompt", action="append", required=True, help="repeatable")
    choose.set_defaults(run=guarded(_choose))

    intent = commands.add_parser("intent", help="match prompts to intent routes")
    intent.add_argument("routes", help='JSON: {"routes": [{"name", "utterances", "threshold"}]}')
    intent.add_argument("--prompt", action="append", required=True, help="repeatable")
    intent.set_defaults(run=guarded(_intent))

    embed = commands.add_parser(
        "embed", help="encode a dataset's prompts into the vector cache (frozen encoders)"
    )
    embed.add_argument("--data", required=True, help="routing dataset (JSONL)")
    _common(embed)
    embed.set_defaults(run=guarded(_embed))

    ev = commands.add_parser("eval", help="measure routers against the baselines and oracle")
    ev.add_argument("--data", required=True, help="routing dataset (JSONL)")
    ev.add_argument(
        "--router", action="append", required=True, choices=router_names(), dest="routers"
    )
    _common(ev)
    ev.add_argument("--protocol", choices=PROTOCOLS, default="cv")
    ev.add_argument("--folds", type=int, default=5, help="cv folds (default 5)")
    ev.add_argument("--test-fraction", type=float, default=0.2, help="split: share tested")
    ev.add_argument(
        "--group-folds",
        type=int,
        default=0,
        help="logo: deal the groups into this many folds (default: one group per fold)",
    )
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument(
        "--by-group",
        action="store_true",
        help="measure each group apart (with logo on a joined file: each benchmark held out)",
    )
    ev.add_argument("--json", help="write the report as JSON here")
    ev.add_argument("--plot", help="write a PNG plot here (needs matplotlib)")
    ev.set_defaults(run=guarded(_eval))
    return commands


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoder", default=DEFAULT_ENCODER, choices=encoder_names())
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a router setting, e.g. k=200 for knn (repeatable)",
    )
    parser.add_argument(
        "--encoder-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an encoder setting, e.g. model=NAME for embeddings (repeatable)",
    )
    parser.add_argument(
        "--vector-cache",
        metavar="DIR",
        help="where a frozen encoder's vectors are kept between runs (default "
        f"${{JUNCTION_VECTOR_CACHE}} or {default_folder()})",
    )
    parser.add_argument(
        "--no-vector-cache", action="store_true", help="encode every prompt, keep nothing"
    )


def parse_settings(pairs: Sequence[str]) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise RouterError(f"--set {pair!r}: write KEY=VALUE, e.g. --set k=200")
        number: Setting = value
        for kind in (int, float):
            try:
                number = kind(value)
                break
            except ValueError:
                continue
        out[key] = number
    return out


Handler = Callable[[argparse.Namespace], int]


def guarded(handler: Handler) -> Handler:
    """A command whose data, router or artifact errors print one line and exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except _ERRORS as exc:
            print(f"junction router: {exc}", file=sys.stderr)
            return 2

    return run


def encoder_for(args: argparse.Namespace) -> Encoder:
    """The encoder the command names, behind the vector cache when it learns nothing."""
    encoder = make_encoder(args.encoder, parse_settings(args.encoder_set))
    if args.no_vector_cache or not cacheable(encoder):
        return encoder
    bars = Progress(
        TextColumn("encoding ({task.fields[name]})"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task: list[TaskID] = []

    def progress(done: int, total: int) -> None:
        if not task:
            bars.start()
            task.append(bars.add_task("encode", total=total, name=args.encoder))
        bars.update(task[0], completed=done)
        if done >= total:
            bars.stop()

    return CachedEncoder(encoder, args.vector_cache, progress=progress)


def _embed(args: argparse.Namespace) -> int:
    data = load_dataset(args.data)
    encoder = encoder_for(args)
    if not isinstance(encoder, CachedEncoder):
        raise EncoderError(f"the {args.encoder} encoder learns from its data: nothing to cache")
    encoder.encode(data.texts)
    print(
        f"{args.data}: {len(data)} prompts, {encoder.encoded} encoded, "
        f"{len(data) - encoder.encoded} from {encoder.cache.folder}"
    )
    return 0


def _import_routellm(args: argparse.Namespace) -> int:
    rows = import_routellm(args.dir, args.benchmark)
    count = write_rows(args.out, rows)
    print(f"{args.out}: {count} rows ({args.benchmark}, contaminated prompts removed)")
    return 0


def _training_data(args: argparse.Namespace) -> tuple[Dataset, str]:
    """The rows to train on, and their SHA-256 (of the file; of the rows, from logs)."""
    if getattr(args, "from_logs", False):
        data = args.logs_loader(args)
        rows = msgspec.json.encode([data.texts, data.models, data.quality.tolist()])
        return data, hashlib.sha256(rows).hexdigest()
    if not args.data:
        raise DatasetError("give --data FILE (or --from-logs)")
    return load_dataset(args.data), artifact.digest(args.data)


def _train(args: argparse.Namespace) -> int:
    data, sha256 = _training_data(args)
    trained = artifact.train(
        data,
        args.router,
        args.encoder,
        router_settings=parse_settings(args.set),
        data_sha256=sha256,
        calibrate_to=parse_target(args.calibrate) if args.calibrate else None,
        seed=args.seed,
        encoder=encoder_for(args),
    )
    folder = artifact.save(trained, args.out)
    source = "logged requests with feedback" if getattr(args, "from_logs", False) else "rows"
    print(f"{folder}: {args.router} router on {args.encoder} vectors, {len(data)} {source}")
    cal = trained.manifest.calibration
    if cal is not None:
        reached = {k: v for k, v in msgspec.structs.asdict(cal).items() if v is not None}
        print(f"calibration (out of fold): {reached}")
    return 0


def _choose(args: argparse.Namespace) -> int:
    trained = artifact.load(args.artifact)
    texts = args.prompt
    predicted = trained.predict(texts)
    chosen = trained.choose(texts)
    for text, model, row in zip(texts, chosen, predicted, strict=True):
        scores = ", ".join(f"{m} {p:.3f}" for m, p in zip(trained.models, row, strict=True))
        print(f"{model}\t{scores}\t{text[:60]!r}")
    return 0


def _intent(args: argparse.Namespace) -> int:
    router = IntentRouter.from_file(load_intents(args.routes))
    for text, match in zip(args.prompt, router.match(args.prompt), strict=True):
        print(f"{match.route or '-'}\t{match.best} {match.score:.3f}\t{text[:60]!r}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    data = load_dataset(args.data)
    protocol = Protocol(args.protocol, args.folds, args.test_fraction, args.seed, args.group_folds)
    settings = parse_settings(args.set)
    encoder = encoder_for(args)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bars:
        tasks: dict[str, TaskID] = {}

        def progress(router: str, done: int, total: int) -> None:
            if router not in tasks:
                tasks[router] = bars.add_task(router, total=total)
            bars.update(tasks[router], completed=done)

        if args.by_group:
            parts = evaluate.evaluate_by_group(
                data, args.routers, encoder, protocol, settings, progress
            )
        else:
            whole = evaluate.evaluate(data, args.routers, encoder, protocol, settings, progress)
            parts = [("", whole)]
    results = [report.build(e, args.data, args.encoder, group or None) for group, e in parts]
    console = Console()
    for result in results:
        report.render(result, console)
    if args.json:
        report.write_json(results if args.by_group else results[0], args.json)
    if args.plot:
        plot(results[0], args.plot)
    return 0
