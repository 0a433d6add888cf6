"""The ``junction`` command."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Sequence

from junction import __version__
from junction.config import Config, ConfigError, Server, config_from_env, load_config

_OWN_COMMANDS = frozenset({"serve", "sim", "models"})
"""The commands this module parses without importing the others' modules:
``junction serve`` loads what serving needs and no more (its start-up time)."""


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    command = next((w for w in words if not w.startswith("-")), None)
    parser = _parser(every_command=command not in _OWN_COMMANDS)
    args = parser.parse_args(words)
    try:
        code: int = args.run(args)
    except ConfigError as exc:
        print(f"junction: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


def _parser(every_command: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="junction", description="An LLM router.")
    parser.add_argument("--version", action="version", version=f"junction {__version__}")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument(
        "--config",
        help="YAML config file (default: keys from the environment, "
        "else demo mode on the built-in simulator)",
    )
    serve.add_argument("--host", help="bind address (default 127.0.0.1 or server.host)")
    serve.add_argument("--port", type=int, help="port (default 4000 or server.port)")
    serve.add_argument(
        "--with-sim",
        action="store_true",
        help="also run the provider simulator in-process; ${JUNCTION_SIM_URL} in the config "
        "points at it",
    )
    serve.add_argument("--sim-profile", help="simulator profile for --with-sim")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes serving the port (default 1); more than one needs Redis "
        "(stores.redis_url or $JUNCTION_REDIS_URL) when keys are on",
    )
    serve.set_defaults(run=_serve)

    sim = sub.add_parser("sim", help="run the provider simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8900)
    sim.add_argument("--profile", help="simulator profile YAML (see examples/sim-profile.yaml)")
    sim.set_defaults(run=_sim)

    models = sub.add_parser("models", help="list the models a config exposes")
    models.add_argument("--config", help="YAML config file (default: as serve)")
    models.set_defaults(run=_models)
    if not every_command:
        return parser

    from junction.admin_cli import add_parsers as add_admin_parsers
    from junction.semantic.commands import add_parser as add_router_parser

    add_admin_parsers(sub)

    import junction.gateway.embed_encoder  # noqa: F401  (registers the embeddings encoder)
    from junction.router_logs import add_parsers as add_router_log_parsers

    add_router_log_parsers(add_router_parser(sub))

    from junction.stores.commands import add_parser as add_db_parser

    add_db_parser(sub)

    from junction.requestlog.commands import add_parsers as add_log_parsers

    add_log_parsers(sub)
    return parser


def resolve_config(path: str | None) -> tuple[Config | None, str]:
    """The config to run, and how it was chosen. None means demo mode."""
    env = os.environ
    if path:
        return load_config(path, env), f"config {path}"
    from_env = config_from_env(env)
    if from_env is not None:
        return from_env, "provider keys from the environment"
    return None, "demo mode: no config and no provider keys, serving the built-in simulator"


def _serve(args: argparse.Namespace) -> int:
    if args.with_sim and not args.config:
        raise ConfigError("--with-sim goes with --config (without a config, serve runs the demo)")
    if args.workers < 1:
        raise ConfigError(f"--workers must be at least 1 (got {args.workers})")
    if args.with_sim:
        # Validate now (errors before the server starts), load again once the
        # simulator's URL is known.
        path = args.config
        config: Config | None = load_config(path, {**os.environ, "JUNCTION_SIM_URL": "http://sim"})
        how = f"config {path} with the simulator in-process"
    else:
        config, how = resolve_config(args.config)
    if args.workers > 1 and config is not None:
        _check_shared(config)
    server = config.server if config is not None else None
    host = args.host or (server.host if server else "127.0.0.1")
    port = args.port or (server.port if server else 4000)
    level = server.log_level if server else "info"
    logging.basicConfig(level=level.upper(), format="%(levelname)s %(name)s: %(message)s")
    from junction.server.serving import listen

    try:
        sock = listen(host, port)
    except OSError as exc:
        return _cannot_listen("junction", host, port, exc)
    limits = server or Server()
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(f"junction {__version__} on http://{host}:{port} ({how}{workers})", file=sys.stderr)
    if args.workers == 1:
        return _serve_one(args, config, sock, limits)
    from junction.server.workers import serve_workers

    # Each worker builds its own app after the fork (prometheus_client, imported
    # there, sees the PROMETHEUS_MULTIPROC_DIR the supervisor sets).
    return serve_workers(
        args.workers, limits.shutdown_grace, lambda _: _serve_one(args, config, sock, limits)
    )


def _serve_one(
    args: argparse.Namespace, config: Config | None, sock: socket.socket, limits: Server
) -> int:
    """Serve on ``sock`` in this process until a signal; the exit code."""
    from junction.server.app import ConfigSource, create_app
    from junction.server.serving import build_server

    source: ConfigSource | None = config
    if args.with_sim:
        path = args.config
        source = lambda url: load_config(  # noqa: E731
            path, {**os.environ, "JUNCTION_SIM_URL": url}
        )
    embedded = config is None or args.with_sim
    app = create_app(source, embedded_sim=embedded, sim_profile=args.sim_profile)
    front = build_server(app, limits, freeze_heap=True, log_level=limits.log_level, loop="uvloop")
    front.run(sockets=[sock])
    return 0 if front.started else 3


def _check_shared(config: Config) -> None:
    """Many processes with keys on share limits and budgets only through Redis."""
    if config.stores.redis_url or os.environ.get("JUNCTION_REDIS_URL"):
        return
    if config.keys or config.server.master_key:
        raise ConfigError(
            "--workers > 1 with keys on needs Redis (stores.redis_url or $JUNCTION_REDIS_URL): "
            "without it every process would count rate limits and budgets on its own, "
            "an N-times limit. Configure Redis, or run one worker."
        )


def _cannot_listen(who: str, host: str, port: int, exc: OSError) -> int:
    reason = exc.strerror or str(exc)
    print(f"{who}: cannot listen on {host}:{port}: {reason}", file=sys.stderr)
    return 1


def _sim(args: argparse.Namespace) -> int:
    from junction.server.serving import listen
    from junction.sim import app
    from junction.sim.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile) if args.profile else None
    except ProfileError as exc:
        print(f"junction sim: {exc}", file=sys.stderr)
        return 2
    try:
        sock = listen(args.host, args.port)
    except OSError as exc:
        return _cannot_listen("junction sim", args.host, args.port, exc)
    sock.close()  # the port is free: the simulator binds it now
    try:
        app.run(profile, args.host, args.port)
    except OSError as exc:  # taken in between
        return _cannot_listen("junction sim", args.host, args.port, exc)
    return 0


def _models(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    config, how = resolve_config(args.config)
    if config is None:
        from junction.server.app import demo_config

        config = demo_config("http://127.0.0.1:<embedded>")
    table = Table(title=f"junction models ({how})")
    for column in ("model", "kind", "provider", "upstream model", "base URL"):
        table.add_column(column)
    for name, model in config.models.items():
        for i, dep in enumerate(model.deployments):
            from junction import providers

            vendor = providers.vendor(dep.provider)
            base = dep.base_url or (vendor.base_url if vendor else "") or ""
            first = i == 0
            table.add_row(
                name if first else "", model.kind if first else "", dep.label, dep.model, base
            )
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
