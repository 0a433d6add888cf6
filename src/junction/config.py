"""The configuration file: schema, ``${VAR}`` expansion, validation.

One YAML file. Secrets come from the environment through ``${VAR}`` (or
``${VAR:-default}``); a missing variable is an error that names the file,
line and key. Every error names the file, line and key. Secrets are kept in
:class:`Secret`, whose ``repr`` and ``str`` never show the value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, TypeVar

import msgspec

from junction import providers
from junction.catalog import QUANTIZATIONS
from junction.config_yaml import Document, DocumentError, read_document
from junction.redact import Redactor
from junction.routing import parse_preferences
from junction.types import GatewayError


class ConfigError(Exception):
    """A configuration problem, with the place it was found."""


class Secret(str):
    """A string that does not print itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def reveal(self) -> str:
        return str.__str__(self)


class Price(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """USD per million tokens (``request``: USD per request). Each field set
    here overrides the genai-prices catalog entry for the deployment."""

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None
    request: float | None = None


Seconds = Annotated[float, msgspec.Meta(gt=0)]
Bytes = Annotated[int, msgspec.Meta(ge=1024)]


class Timeouts(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Seconds. ``first_token``: from sending until the first byte of the
    response; ``total``: the whole attempt, stream included; ``idle``: the
    longest silence between two reads of the response (a stream that stalls
    mid-way)."""

    connect: float = 10.0
    first_token: float = 120.0
    total: float = 600.0
    idle: Seconds = 120.0


class UpstreamLimits(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Bytes: the most junction takes from a provider in one piece. Past one,
    the attempt fails with a 502 that names the limit."""

    max_body_bytes: Bytes = 64 * 1024 * 1024
    """A whole response body (a non-streaming answer, an error body)."""
    max_line_bytes: Bytes = 16 * 1024 * 1024
    """One line of a streamed (SSE) answer."""
    max_event_bytes: Bytes = 16 * 1024 * 1024
    """One streamed event: an SSE event's data, or a Bedrock event-stream frame."""


class GatewayTimeouts(Timeouts, forbid_unknown_fields=True, omit_defaults=True):
    """The top-level ``timeouts``: the per-attempt defaults, and ``request``,
    the deadline of one client request across all its attempts, retries and
    backoff (the default leaves room for one hung first token, 120 s, and a
    full-length attempt after it, 600 s)."""

    request: Annotated[float, msgspec.Meta(gt=0)] = 900.0


class Deployment(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    provider: str
    model: str
    name: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    api_version: str | None = None
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    price: Price | None = None
    timeouts: Timeouts | None = None
    limits: UpstreamLimits | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    quantization: str | None = None
    data_collection: Literal["allow", "deny"] = "allow"
    """``allow``: the provider may store or train on prompts."""
    zdr: bool = False
    """Zero data retention endpoint."""
    supported_parameters: list[str] | None = None
    """Canonical parameters this deployment takes; default: its dialect's
    table less its vendor's refusals."""
    input_modalities: list[str] = msgspec.field(default_factory=lambda: ["text", "image"])
    output_modalities: list[str] = msgspec.field(default_factory=lambda: ["text"])
    rpm: int | None = None
    """The deployment's own requests per minute (the provider's quota): the
    router skips it while at the limit, across processes on shared stores."""
    tpm: int | None = None
    """The deployment's own tokens per minute (prompt estimate before the
    call, corrected with the real usage after)."""

    @property
    def label(self) -> str:
        return self.name or self.provider


class Model(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    deployments: list[Deployment]
    kind: Literal["chat", "embedding"] = "chat"
    description: str | None = None
    drop_params: bool | None = None
    provider: dict[str, Any] | None = None
    """Default provider preferences (OpenRouter's ``provider`` object)."""
    rpm: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Requests per minute to this model, from every caller together."""
    tpm: Annotated[int, msgspec.Meta(ge=1)] | None = None
    """Tokens per minute to this model, from every caller together."""


class Retry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Extra attempts once every endpoint of a model has failed with a 429,
    a 5xx or a connection failure (never a timeout, no other 4xx): the failed
    endpoints again, in the plan's order, after a jittered exponential
    backoff (``backoff`` * 2^n seconds, at most ``max_backoff``, times a
    random 0.5-1). A ``retry-after`` longer than ``max_backoff`` rules that
    endpoint out; a shorter one is waited for."""

    attempts: Annotated[int, msgspec.Meta(ge=0, le=10)] = 1
    backoff: Annotated[float, msgspec.Meta(ge=0)] = 0.25
    max_backoff: Annotated[float, msgspec.Meta(ge=0)] = 2.0


class Routing(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    provider: dict[str, Any] | None = None
    """Global default provider preferences (OpenRouter's ``provider`` object)."""
    sticky: bool = True
    """Keep a conversation on the endpoint holding its prompt cache while
    cache reads there are cheaper than input."""
    seed: int | None = None
    """Seed for the weighted random choice (reproducible runs)."""
    retry: Retry = msgspec.field(default_factory=Retry)


class ApiKey(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A client key. Give ``key`` (a secret, from ``${VAR}``; hashed at load
    and never kept) or its ``key_sha256`` (hex)."""

    name: str
    key: str | None = None
    key_sha256: str | None = None
    provider: dict[str, Any] | None = None
    """This key's default provider preferences (between the model's and the request's)."""
    store_bodies: bool | None = None
    """Keep this key's request bodies in the request log; None: ``request_log.store_bodies``."""


class Server(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    host: str = "127.0.0.1"
    port: int = 4000
    max_body_bytes: int = 8 * 1024 * 1024
    drop_params: bool = True
    """Default for parameters a target cannot take: drop them with a warning
    (true) or refuse the request with a 400 (false). Per model and per request
    (``drop_params`` in the body) override it."""
    master_key: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # The front door's limits (docs/security.md says what each defends).
    max_url_bytes: int = 8 * 1024
    """The request line's target (path and query); longer gets 414."""
    max_header_bytes: int = 32 * 1024
    """All header lines of one request together; more gets 431."""
    max_headers: int = 100
    """Header lines in one request; more gets 431."""
    max_connections: int = 4096
    """Open client connections; one more is answered 503 and closed."""
    max_concurrent_requests: int = 512
    """Requests being handled at once; one more gets 503."""
    header_timeout: float = 10.0
    """Seconds from a request's first byte to the end of its headers (408)."""
    body_timeout: float = 60.0
    """Seconds from the end of the headers to the end of the body (408)."""
    idle_timeout: float = 10.0
    """Seconds a new connection may stay silent before it is closed."""
    keep_alive_timeout: float = 5.0
    """Seconds a connection may stay idle between requests."""
    write_timeout: float = 60.0
    """Seconds a client may read none of a response that is waiting for it
    before the connection is dropped and its upstream call cancelled."""
    shutdown_grace: float = 25.0
    """Seconds SIGTERM waits for in-flight requests (new ones get 503)."""


class RequestLimits(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Bounds on what a client may ask for; beyond them a request is a 400
    at the door and never reaches a provider (docs/security.md)."""

    max_json_depth: int = 64
    """How deep a free-form JSON value (a tool's ``parameters``, a
    ``response_format`` schema, tool-call arguments, pass-through fields)
    may nest."""
    max_n: int = 128
    """Most choices (``n``) one request may ask for."""
    max_embedding_inputs: int = 2048
    """Most inputs one embeddings request may carry."""


class RouteTarget(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A semantic router's decision target; give at most one (none: the artifact's own
    calibration). The same fields as a request's ``route`` object."""

    strong_share: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    quality_target: float | None = None
    max_cost: Annotated[float, msgspec.Meta(ge=0)] | None = None


class SemanticRouter(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A model served by a trained semantic router (docs/routing.md, "In the gateway")."""

    artifact: str
    """The folder ``junction router train`` wrote; relative paths start at the config file."""
    candidates: dict[str, str] | None = None
    """The artifact's model names -> configured models; default: the same names."""
    target: RouteTarget | None = None
    default: str | None = None
    """The configured model a shadow router serves."""
    shadow: bool = False
    """Compute and record the router's choice, but serve ``default``."""
    description: str | None = None
    embedding_model: str | None = None
    """For an artifact on the ``embeddings`` encoder: the configured embedding model to
    call (default: the one it was trained with)."""


class StoreSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Where keys, teams, users, counters and logs live (docs/operations.md).
    Embedded by default: memory and one SQLite file; shared: PostgreSQL and Redis."""

    database_url: str | None = None
    """``sqlite:///path`` or ``postgresql://...``; default ``$JUNCTION_DATABASE_URL``,
    else ``sqlite:///junction.db`` (opened only when something needs it)."""
    redis_url: str | None = None
    """``redis://host:port/db``; default ``$JUNCTION_REDIS_URL``. Counters, limits,
    live endpoint statistics and sticky routes are shared through it."""
    redis_prefix: str | None = None
    """The prefix of every Redis key this gateway writes; default
    ``$JUNCTION_REDIS_PREFIX``, else ``junction``."""
    on_unreachable: Literal["closed", "open"] = "closed"
    """When the shared counter store cannot be reached: refuse limited requests
    (503), or admit them against this process's share of each limit."""
    processes: int | None = None
    """How many processes share the limits when failing open (default: --workers)."""
    migrate_on_start: bool = True
    """Run ``junction db upgrade`` at start-up."""
    key_cache_seconds: float = 1.0
    """How long a process trusts a key it looked up; revocation reaches every
    process within this."""
    timezone: str = "UTC"
    """The time zone of calendar budget periods (daily, weekly, monthly)."""


class ResponsesSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Stored Responses on the ``/v1/responses`` door (docs/responses.md)."""

    store: bool = False
    """Keep Responses in the database of ``stores.database_url`` so clients can
    continue them (``previous_response_id``), fetch and delete them. Off: the
    door is stateless and ``previous_response_id`` is refused."""
    ttl_days: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    """How long a stored Response is kept (OpenAI keeps them 30 days)."""


class Telemetry(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Metrics, traces and request logs (docs/observability.md)."""

    metrics: bool = True
    """Serve Prometheus metrics at ``GET /metrics``."""
    metrics_top_keys: Annotated[int, msgspec.Meta(ge=0)] = 50
    """How many keys (and teams) get their own label value; the rest are ``other``."""
    json_logs: bool = False
    """One JSON line per request at INFO on the ``junction.requests`` logger."""
    traces: bool = False
    """OpenTelemetry spans (also on when ``OTEL_TRACES_EXPORTER`` is set); the
    exporter is configured by the standard ``OTEL_*`` variables."""


class RequestLogSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The request log (docs/operations.md "Request log and spend"): one row per
    request in ``stores.database_url``, written in batches off the hot path."""

    enabled: bool | None = None
    """Default: on when a database is configured (``stores.database_url`` or
    ``$JUNCTION_DATABASE_URL``)."""
    retention_days: float | None = 30.0
    """Rows older than this are deleted (hourly); None keeps them forever.
    The spend rollups are kept."""
    batch_size: int = 500
    flush_interval: float = 1.0
    """Seconds between batch writes (sooner when ``batch_size`` rows are queued)."""
    max_queue: int = 100_000
    """Rows kept in memory while the database is unreachable; past it, new rows
    are dropped and counted (logged as errors)."""
    refused_rows_per_second: int = 50
    """Rows of 401s (refused keys) this process queues per second at most, and
    only while the queue is under half full; past that they are counted (the
    Prometheus requests metric counts every 401) but not written, so a client
    spraying bad keys cannot fill the database or crowd out answered rows."""
    store_bodies: bool = False
    """Keep each request's body, redacted first: the default for keys and teams
    whose own ``store_bodies`` is unset (a key's setting wins over its team's)."""
    redact_patterns: list[str] = msgspec.field(default_factory=list)
    """Regexes replaced by ``[REDACTED]`` in stored bodies."""
    redact_keys: list[str] = msgspec.field(default_factory=list)
    """JSON keys whose values are replaced in stored bodies (any depth)."""


class SemanticCacheSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The semantic cache (docs/cache.md): an answer for a request whose last
    turn means the same, among requests alike in everything else. Off by default."""

    enabled: bool = False
    threshold: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.95
    """The cosine similarity from which a cached answer is served."""
    model: str | None = None
    """An embedding model of this config (``kind: embedding``), called through
    the gateway's embeddings path; default: the built-in lexical encoder."""
    max_entries: Annotated[int, msgspec.Meta(ge=1)] = 1000
    """Entries kept per namespace (in this process's memory), oldest out first."""
    max_namespaces: Annotated[int, msgspec.Meta(ge=1)] = 100
    """Namespaces kept, least recently used out first."""


class CacheSettings(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The response cache (docs/cache.md). Off by default."""

    enabled: bool = False
    backend: Literal["memory", "sqlite", "redis"] = "memory"
    """``memory``: this process; ``sqlite``: a file (survives restarts);
    ``redis``: ``stores.redis_url``, shared by every process."""
    database_url: str | None = None
    """The SQLite file of ``backend: sqlite`` (``sqlite:///cache.db``); default
    ``stores.database_url`` when it is SQLite, else ``sqlite:///junction.db``."""
    ttl: Seconds = 3600.0
    """Seconds an answer is kept (a request may ask otherwise: ``x-junction-cache-ttl``)."""
    max_ttl: Seconds = 7 * 86400.0
    """The longest ``x-junction-cache-ttl`` accepted."""
    max_entry_bytes: Bytes = 1024 * 1024
    """A larger answer is not kept."""
    max_entries: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    """``backend: memory``: entries kept, least recently used out first."""
    max_memory_bytes: Bytes = 64 * 1024 * 1024
    """``backend: memory``: bytes kept, least recently used out first."""
    semantic: SemanticCacheSettings = msgspec.field(default_factory=SemanticCacheSettings)


class Config(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    models: dict[str, Model] = msgspec.field(default_factory=dict)
    routers: dict[str, SemanticRouter] = msgspec.field(default_factory=dict)
    """Semantic routers, requested by name (or ``junction/auto`` when there is one)."""
    server: Server = msgspec.field(default_factory=Server)
    timeouts: GatewayTimeouts = msgspec.field(default_factory=GatewayTimeouts)
    limits: UpstreamLimits = msgspec.field(default_factory=UpstreamLimits)
    routing: Routing = msgspec.field(default_factory=Routing)
    request_limits: RequestLimits = msgspec.field(default_factory=RequestLimits)
    stores: StoreSettings = msgspec.field(default_factory=StoreSettings)
    responses: ResponsesSettings = msgspec.field(default_factory=ResponsesSettings)

    telemetry: Telemetry = msgspec.field(default_factory=Telemetry)

    request_log: RequestLogSettings = msgspec.field(default_factory=RequestLogSettings)
    cache: CacheSettings = msgspec.field(default_factory=CacheSettings)
    keys: list[ApiKey] = msgspec.field(default_factory=list)
    """Client keys. With none, the gateway accepts any caller (keep it on
    127.0.0.1); with some, every request but /health needs one."""
    source: str = "<config>"


_SECRET_KEYS = frozenset({"api_key", "master_key", "key"})
_PORTS = range(1, 65536)
MAX_JSON_DEPTH_CEILING = 128
"""Highest ``request_limits.max_json_depth`` accepted: the schema
conversions downstream recurse a few Python frames per level."""


def load_config(path: str | Path, env: Mapping[str, str]) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the config file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: the config file is not UTF-8 text (byte {exc.start})") from None
    return parse_config(text, env, source=str(p))


def parse_config(text: str, env: Mapping[str, str], *, source: str = "<config>") -> Config:
    """Parse and validate a config. Every problem is a :class:`ConfigError`
    worded ``file:line: key: what``, which never shows a ``${VAR}`` value."""
    try:
        doc = read_document(text, env, source=source, secret_keys=_SECRET_KEYS, secret=Secret)
    except DocumentError as exc:
        raise ConfigError(str(exc)) from None
    data = doc.data
    if data is None:
        raise ConfigError(
            f"{source}:1: the config file is empty; it needs at least `models:` "
            "(docs/configuration.md)"
        )
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the config must be a mapping (models:, server:, ...)")
    if "source" in data:
        raise ConfigError(f"{doc.where('$.source')}: unknown field `source`")
    data["source"] = source
    raw_models = data.pop("models", None) or {}
    if not isinstance(raw_models, dict):
        raise ConfigError(f"{doc.where('$.models')}: models: must be a mapping")
    config = _convert(data, Config, doc, "$")
    # One model at a time: msgspec reports dict keys as `[...]`, and the
    # error must name the model.
    for name, raw in raw_models.items():
        config.models[name] = _convert(raw, Model, doc, f"$.models.{name}")
    _Validator(config, doc).check()
    return config


_T = TypeVar("_T")


def _convert(raw: Any, type_: type[_T], doc: Document, at: str) -> _T:
    try:
        return msgspec.convert(raw, type_)
    except msgspec.ValidationError as exc:
        what, sep, inner = str(exc).rpartition(" - at `")
        if not sep:
            what, inner = str(exc), "$"
        path = at + inner.rstrip("`").removeprefix("$")
        raise ConfigError(f"{doc.where(path)}: {doc.scrub(what, path)}") from None


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class _Validator:
    """The checks a schema cannot express, each error at its file:line: key."""

    def __init__(self, config: Config, doc: Document) -> None:
        self._config = config
        self._doc = doc

    def fail(self, path: str, what: str) -> NoReturn:
        raise ConfigError(f"{self._doc.where(path)}: {self._doc.scrub(what, path)}")

    def check(self) -> None:
        config = self._config
        self._server(config.server)
        self._timeouts(config.timeouts, "$.timeouts")
        self._request_limits(config.request_limits)
        self._keys(config.keys)
        self._request_log(config.request_log)
        self._preferences(config.routing.provider, "$.routing.provider")
        vendors = {v.name for v in providers.vendors()}
        for name, model in config.models.items():
            self._model(name, model, vendors)
        for name, router in config.routers.items():
            self._router(name, router)
        self._cache(config.cache)

    def _server(self, server: Server) -> None:
        if server.port not in _PORTS:
            self.fail("$.server.port", f"must be a port number, 1 to 65535 (got {server.port})")
        self._positive(server, "$.server", skip={"port"})
        if server.master_key is not None and not server.master_key.strip():
            self.fail("$.server.master_key", "is empty; give a key or leave master_key out")

    def _request_log(self, settings: RequestLogSettings) -> None:
        self._positive(settings, "$.request_log")
        for i, pattern in enumerate(settings.redact_patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                self.fail(f"$.request_log.redact_patterns[{i}]", f"is not a regex: {exc}")

    def _cache(self, cache: CacheSettings) -> None:
        if cache.ttl > cache.max_ttl:
            self.fail("$.cache.ttl", f"is more than cache.max_ttl ({cache.max_ttl:g} s)")
        url = cache.database_url
        if url is not None and (cache.backend != "sqlite" or not url.startswith("sqlite:")):
            self.fail("$.cache.database_url", "is for backend: sqlite, a sqlite:///path URL")
        model = cache.semantic.model
        if model is not None:
            embedding = sorted(m for m, v in self._config.models.items() if v.kind == "embedding")
            if model not in embedding:
                self.fail(
                    "$.cache.semantic.model",
                    f"{model!r} is not a configured embedding model (have: {embedding})",
                )

    def _timeouts(self, timeouts: Timeouts, path: str) -> None:
        self._positive(timeouts, path)

    def _positive(self, values: msgspec.Struct, path: str, skip: set[str] | None = None) -> None:
        """Every limit and timeout in ``values`` above zero: a zero or
        negative one would refuse everything or never fire."""
        for name in values.__struct_fields__:
            value = getattr(values, name)
            if (skip and name in skip) or isinstance(value, bool):
                continue
            if isinstance(value, float) and not value > 0:
                self.fail(f"{path}.{name}", f"must be more than 0 seconds (got {value:g})")
            if isinstance(value, int) and value < 1:
                self.fail(f"{path}.{name}", f"must be at least 1 (got {value})")

    def _request_limits(self, limits: RequestLimits) -> None:
        for name in limits.__struct_fields__:
            value = getattr(limits, name)
            if value < 1:
                self.fail(f"$.request_limits.{name}", f"must be at least 1 (got {value})")
        if limits.max_json_depth > MAX_JSON_DEPTH_CEILING:
            self.fail(
                "$.request_limits.max_json_depth",
                f"must be at most {MAX_JSON_DEPTH_CEILING} (got {limits.max_json_depth})",
            )

    def _preferences(self, raw: dict[str, Any] | None, path: str) -> None:
        if raw is None:
            return
        try:
            parse_preferences(raw)
        except GatewayError as exc:
            self.fail(path, exc.message)

    def _keys(self, keys: list[ApiKey]) -> None:
        names: dict[str, int] = {}
        digests: dict[str, int] = {}
        for i, entry in enumerate(keys):
            path = f"$.keys[{i}]"
            if (entry.key is None) == (entry.key_sha256 is None):
                self.fail(path, "give exactly one of key (a ${VAR}) or key_sha256")
            if entry.key is not None:
                plain = entry.key.reveal() if isinstance(entry.key, Secret) else entry.key
                if not plain.strip():
                    self.fail(f"{path}.key", "is empty; an empty key would let anyone in")
                entry.key_sha256, entry.key = key_digest(plain), None
            digest = (entry.key_sha256 or "").lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                self.fail(f"{path}.key_sha256", "must be 64 hex digits (sha256)")
            entry.key_sha256 = digest
            if entry.name in names:
                self.fail(f"{path}.name", f"keys[{names[entry.name]}] has this name already")
            if digest in digests:
                self.fail(path, f"the same key as keys[{digests[digest]}]; give each its own")
            names[entry.name], digests[digest] = i, i
            self._preferences(entry.provider, f"{path}.provider")

    def _model(self, name: str, model: Model, vendors: set[str]) -> None:
        where = f"$.models.{name}"
        self._preferences(model.provider, f"{where}.provider")
        if not model.deployments:
            self.fail(where, "needs at least one deployment")
        labels: dict[str, int] = {}
        for i, dep in enumerate(model.deployments):
            path = f"{where}.deployments[{i}]"
            self._deployment(dep, path, vendors)
            if dep.label in labels:
                self.fail(
                    f"{path}.name",
                    f"deployments[{labels[dep.label]}] of this model is also called "
                    f"{dep.label!r}; give each a distinct name",
                )
            labels[dep.label] = i

    def _router(self, name: str, router: SemanticRouter) -> None:
        where = f"$.routers.{name}"
        models = self._config.models
        if name in models:
            self.fail(where, f"a model is also called {name!r}; give the router its own name")
        chat = sorted(m for m, v in models.items() if v.kind == "chat")
        served = list((router.candidates or {}).values())
        if router.default is not None:
            served.append(router.default)
        for model in served:
            if model not in chat:
                self.fail(where, f"{model!r} is not a configured chat model (have: {chat})")
        if router.shadow and router.default is None:
            self.fail(f"{where}.shadow", "a shadow router needs `default`, the model it serves")
        target = router.target
        if target is not None:
            given = [f for f in target.__struct_fields__ if getattr(target, f) is not None]
            if len(given) > 1:
                self.fail(f"{where}.target", f"give one of {', '.join(given)}")

    def _deployment(self, dep: Deployment, path: str, vendors: set[str]) -> None:
        vendor = providers.vendor(dep.provider)
        if vendor is None:
            known = ", ".join(sorted(vendors))
            self.fail(f"{path}.provider", f"unknown provider {dep.provider!r} (known: {known})")
        if dep.base_url is None and vendor.base_url is None:
            self.fail(
                f"{path}.base_url",
                f"provider {dep.provider!r} has no default base URL; set base_url",
            )
        url = dep.base_url or ""
        if url and not url.startswith(("http://", "https://")):
            self.fail(f"{path}.base_url", f"must start with http:// or https:// (got {url!r})")
        if dep.api_key is not None and not dep.api_key.strip():
            self.fail(f"{path}.api_key", "is empty; leave api_key out for a provider needing none")
        if dep.quantization is not None and dep.quantization not in QUANTIZATIONS:
            known = ", ".join(sorted(QUANTIZATIONS))
            self.fail(f"{path}.quantization", f"{dep.quantization!r} is not one of {known}")
        for field in ("context_window", "max_output_tokens", "rpm", "tpm"):
            value = getattr(dep, field)
            if value is not None and value < 1:
                self.fail(f"{path}.{field}", f"must be at least 1 (got {value})")
        if dep.price is not None:
            for field in dep.price.__struct_fields__:
                value = getattr(dep.price, field)
                if value is not None and value < 0:
                    self.fail(f"{path}.price.{field}", f"must not be negative (got {value})")
        if dep.timeouts is not None:
            self._timeouts(dep.timeouts, f"{path}.timeouts")


def config_from_env(env: Mapping[str, str]) -> Config | None:
    """Models for every vendor whose key is in the environment, or None."""
    models: dict[str, Model] = {}
    for vendor in providers.vendors():
        key = next((env[k] for k in vendor.key_env if env.get(k)), None)
        if key is None:
            continue
        for upstream in vendor.default_models:
            dep = Deployment(provider=vendor.name, model=upstream, api_key=Secret(key))
            models[f"{vendor.name}/{upstream}"] = Model(deployments=[dep])
    if not models:
        return None
    return Config(models=models, source="<environment>")


_CREDENTIAL_HEADER = re.compile(r"auth|key|token|secret|password|cookie|signature", re.IGNORECASE)


def secret_values(config: Config) -> list[str]:
    """Every secret value the config holds: provider keys (and each part of
    an AWS ``ACCESS_KEY_ID:SECRET:TOKEN`` key), deployment headers whose name
    says credential (``api-key``, ``x-auth-token``...), the master key. Client
    keys are kept only as digests (``ApiKey.key_sha256``)."""
    found: list[str] = []
    for model in config.models.values():
        for dep in model.deployments:
            key = dep.api_key.reveal() if isinstance(dep.api_key, Secret) else dep.api_key
            if key:
                found += [key, *key.split(":")]
            found += [v for k, v in dep.headers.items() if _CREDENTIAL_HEADER.search(k)]
    master = config.server.master_key
    if master:
        found.append(master.reveal() if isinstance(master, Secret) else master)
    return found


def redactor(config: Config) -> Redactor:
    """The scrubber for this config's secrets (build once, at load)."""
    return Redactor(secret_values(config), [k.key_sha256 for k in config.keys if k.key_sha256])
