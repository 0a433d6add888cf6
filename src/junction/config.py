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
from typing import Annotated, Any, Literal

import msgspec
import yaml

from junction import providers
from junction.catalog import QUANTIZATIONS
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


class Config(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    models: dict[str, Model] = msgspec.field(default_factory=dict)
    server: Server = msgspec.field(default_factory=Server)
    timeouts: GatewayTimeouts = msgspec.field(default_factory=GatewayTimeouts)
    limits: UpstreamLimits = msgspec.field(default_factory=UpstreamLimits)
    routing: Routing = msgspec.field(default_factory=Routing)
    keys: list[ApiKey] = msgspec.field(default_factory=list)
    """Client keys. With none, the gateway accepts any caller (keep it on
    127.0.0.1); with some, every request but /health needs one."""
    source: str = "<config>"


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEYS = frozenset({"api_key", "master_key", "key"})


def load_config(path: str | Path, env: Mapping[str, str]) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the config file: {exc.strerror}") from None
    return parse_config(text, env, source=str(p))


def parse_config(text: str, env: Mapping[str, str], *, source: str = "<config>") -> Config:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    lines: dict[str, int] = {}
    data = _build(node, "$", lines, env, source) if node is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}:1: the config must be a mapping (models:, server:, ...)")
    data["source"] = source
    raw_models = data.pop("models", None) or {}
    if not isinstance(raw_models, dict):
        raise ConfigError(f"{source}:{lines.get('$.models', 1)}: models: must be a mapping")
    try:
        config = msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(_locate(str(exc), lines, source)) from None
    # One model at a time: msgspec reports dict keys as `[...]`, and the
    # error must name the model.
    for name, raw in raw_models.items():
        try:
            config.models[name] = msgspec.convert(raw, Model)
        except msgspec.ValidationError as exc:
            message = str(exc).replace(" - at `$", f" - at `$.models.{name}")
            raise ConfigError(_locate(message, lines, source)) from None
    _check(config, lines)
    return config


def _build(
    node: yaml.Node, path: str, lines: dict[str, int], env: Mapping[str, str], src: str
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}"
            lines[child] = key_node.start_mark.line + 1
            value = _build(value_node, child, lines, env, src)
            out[key] = Secret(value) if key in _SECRET_KEYS and isinstance(value, str) else value
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(v, f"{path}[{i}]", lines, env, src) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    value = yaml.SafeLoader(node.value).construct_object(node)
    if node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~", "null"):
        return None
    if isinstance(node.value, str) and "${" in node.value and isinstance(value, str):
        return _expand(value, env, f"{src}:{lines[path]}: {_dotted(path)}")
    return value


def _expand(value: str, env: Mapping[str, str], where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env and env[name] != "":
            return env[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set")

    return _VAR.sub(sub, value)


def _dotted(path: str) -> str:
    return path.removeprefix("$.").removeprefix("$")


def _locate(message: str, lines: dict[str, int], source: str) -> str:
    what, sep, at = message.rpartition(" - at `")
    if not sep:
        return f"{source}: {message}"
    path = at.rstrip("`")
    probe = path
    while probe not in lines:
        shorter = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", probe)
        if shorter == probe:
            break
        probe = shorter
    line = lines.get(probe, 1)
    return f"{source}:{line}: {_dotted(path) or 'top level'}: {what}"


def _check_preferences(raw: dict[str, Any] | None, key: str, line: int, source: str) -> None:
    if raw is None:
        return
    try:
        parse_preferences(raw)
    except GatewayError as exc:
        raise ConfigError(f"{source}:{line}: {key}: {exc.message}") from None


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _check_keys(config: Config, lines: dict[str, int]) -> None:
    for i, entry in enumerate(config.keys):
        where = f"{config.source}:{lines.get(f'$.keys[{i}]', 1)}: keys[{i}]"
        if (entry.key is None) == (entry.key_sha256 is None):
            raise ConfigError(f"{where}: give exactly one of key (a ${{VAR}}) or key_sha256")
        if entry.key is not None:
            plain = entry.key.reveal() if isinstance(entry.key, Secret) else entry.key
            entry.key_sha256, entry.key = key_digest(plain), None
        digest = entry.key_sha256 or ""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest.lower()):
            raise ConfigError(f"{where}.key_sha256: must be 64 hex digits (sha256)")
        entry.key_sha256 = digest.lower()
        _check_preferences(entry.provider, f"keys[{i}].provider", 1, config.source)


def _check(config: Config, lines: dict[str, int]) -> None:
    names = {v.name for v in providers.vendors()}
    _check_keys(config, lines)
    _check_preferences(
        config.routing.provider,
        "routing.provider",
        lines.get("$.routing.provider", 1),
        config.source,
    )
    for model_name, model in config.models.items():
        where = f"$.models.{model_name}"
        _check_preferences(
            model.provider,
            f"models.{model_name}.provider",
            lines.get(f"{where}.provider", 1),
            config.source,
        )
        if not model.deployments:
            raise ConfigError(
                f"{config.source}:{lines.get(where, 1)}: models.{model_name}: "
                "needs at least one deployment"
            )
        labels: set[str] = set()
        for i, dep in enumerate(model.deployments):
            dpath = f"{where}.deployments[{i}]"
            line = lines.get(f"{dpath}.provider", lines.get(dpath, 1))
            here = f"{config.source}:{line}: models.{model_name}.deployments[{i}]"
            _check_deployment(dep, here, names)
            if dep.label in labels:
                raise ConfigError(
                    f"{here}.name: two deployments of this model are called {dep.label!r}; "
                    "give each a distinct name"
                )
            labels.add(dep.label)


def _check_deployment(dep: Deployment, here: str, names: set[str]) -> None:
    vendor = providers.vendor(dep.provider)
    if vendor is None:
        known = ", ".join(sorted(names))
        raise ConfigError(f"{here}.provider: unknown provider {dep.provider!r} (known: {known})")
    if dep.base_url is None and vendor.base_url is None:
        raise ConfigError(
            f"{here}.base_url: provider {dep.provider!r} has no default base URL; set base_url"
        )
    url = dep.base_url or ""
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"{here}.base_url: must start with http:// or https:// (got {url!r})")
    if dep.quantization is not None and dep.quantization not in QUANTIZATIONS:
        known = ", ".join(sorted(QUANTIZATIONS))
        raise ConfigError(f"{here}.quantization: {dep.quantization!r} is not one of {known}")


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
