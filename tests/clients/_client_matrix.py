"""The client matrix as data: which client libraries run which scenarios
against junction, the cells known not to pass (and why), and docs/clients.md
rendered from one run's outcomes.

A *cell* is one test: a row (a client library used one way), a scenario,
and, for the scenarios that reach a chat model, the junction model behind
it (``sim/openai``, ``sim/anthropic``, ``sim/gemini``: the same client
through junction to three wire formats). The tests in tests/clients mark
each cell with ``@cell(ROW, scenario)``; tests/clients/conftest.py records
every cell's outcome, and test_matrix_doc.py compares docs/clients.md with
the document rendered from them (``scripts/client-matrix`` rewrites it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "clients.md"
JS = HERE / "js"
PY2 = HERE / "py2"
BACKENDS = ("sim/openai", "sim/anthropic", "sim/gemini")
EMBEDDING_MODEL = "sim/embedding"
UNKNOWN_MODEL = "no-such/model"

# What every client sends and what every cell checks.
ECHO_PROMPT = "echo: hello from junction"
ECHO = "hello from junction"
WEATHER_PROMPT = "What is the weather in Paris? Use get_weather."
STRUCTURED_PROMPT = "Which city is the Eiffel tower in, and in which country?"
EMBED_INPUTS = ("the first text to embed", "the second text")
EMBEDDING_DIMENSIONS = 256  # the simulator's default


WEATHER_ANSWER = "sunny, 21 C in {city}"


def weather(city: str) -> str:
    """What every client's get_weather tool returns."""
    return WEATHER_ANSWER.format(city=city)


CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
    "required": ["city", "country"],
    "additionalProperties": False,
}
WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The city"}},
    "required": ["city"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Row:
    """One client library, used one way (an API, a model class, a mode)."""

    id: str
    client: str
    api: str
    packages: tuple[str, ...]  # the distributions whose versions are shown, the library first
    env: str  # "py": this environment; "py2": tests/clients/py2/.venv; "js": tests/clients/js
    scenarios: tuple[str, ...]
    not_offered: dict[str, str] = field(default_factory=dict)


# Scenarios that do not reach a chat model run once, not once per backend.
ONCE = ("embeddings", "unknown model")
BASIC = ("chat", "stream", "tools", "structured")
# Every mode instructor's registry has for the provider (a test checks the list).
INSTRUCTOR_MODES = {
    "openai": ("TOOLS", "PARALLEL_TOOLS", "JSON", "JSON_SCHEMA", "MD_JSON", "RESPONSES_TOOLS"),
    "anthropic": ("TOOLS", "PARALLEL_TOOLS", "JSON", "JSON_SCHEMA"),
}
PYDANTIC_AI_OUTPUTS = tuple(
    f"output: {kind}" for kind in ("ToolOutput", "NativeOutput", "PromptedOutput", "TextOutput")
)

ROWS: tuple[Row, ...] = (
    Row("openai-py", "openai (Python)", "Chat Completions", ("openai",), "py",
        (*BASIC, "embeddings", "unknown model")),
    Row("openai-py-responses", "openai (Python)", "Responses", ("openai",), "py",
        (*BASIC, "unknown model")),
    Row("anthropic-py", "anthropic (Python)", "Messages", ("anthropic",), "py",
        (*BASIC, "embeddings", "unknown model"),
        {"embeddings": "Anthropic's SDK has no embeddings API"}),
    Row("genai-py", "google-genai (Python)", "generateContent", ("google-genai",), "py",
        (*BASIC, "embeddings", "unknown model")),
    Row("agents-responses", "openai-agents", "OpenAIResponsesModel", ("openai-agents",), "py",
        ("chat", "stream with tools", "tools", "structured", "unknown model")),
    Row("agents-chat", "openai-agents", "OpenAIChatCompletionsModel", ("openai-agents",), "py",
        ("chat", "stream with tools", "tools", "structured", "unknown model")),
    Row("langchain-openai", "langchain-openai", "ChatOpenAI",
        ("langchain-openai", "langchain-core"), "py",
        ("chat", "stream", "tools", "structured: json_schema", "structured: function_calling",
         "structured: json_mode", "embeddings", "unknown model")),
    Row("langchain-openai-responses", "langchain-openai", "ChatOpenAI(use_responses_api=True)",
        ("langchain-openai", "langchain-core"), "py",
        ("chat", "stream", "tools", "structured: json_schema", "structured: function_calling",
         "unknown model")),
    Row("langchain-anthropic", "langchain-anthropic", "ChatAnthropic",
        ("langchain-anthropic", "langchain-core"), "py",
        ("chat", "stream", "tools", "structured: function_calling", "structured: json_schema",
         "embeddings", "unknown model"),
        {"embeddings": "langchain-anthropic has no embeddings class"}),
    Row("pydantic-ai-chat", "pydantic-ai", "OpenAIChatModel", ("pydantic-ai-slim",), "py",
        ("chat", "stream", "tools", *PYDANTIC_AI_OUTPUTS, "embeddings", "unknown model")),
    Row("pydantic-ai-responses", "pydantic-ai", "OpenAIResponsesModel", ("pydantic-ai-slim",), "py",
        ("chat", "stream", "tools", *PYDANTIC_AI_OUTPUTS, "unknown model")),
    Row("pydantic-ai-anthropic", "pydantic-ai", "AnthropicModel", ("pydantic-ai-slim",), "py",
        ("chat", "stream", "tools", *PYDANTIC_AI_OUTPUTS, "embeddings", "unknown model"),
        {"embeddings": "pydantic-ai has no Anthropic embedding model"}),
    Row("instructor-openai", "instructor", "from_openai", ("instructor", "openai"), "py2",
        ("chat", "stream", *(f"structured: {m}" for m in INSTRUCTOR_MODES["openai"]),
         "unknown model")),
    Row("instructor-anthropic", "instructor", "from_anthropic", ("instructor", "anthropic"), "py2",
        ("chat", "stream", *(f"structured: {m}" for m in INSTRUCTOR_MODES["anthropic"]),
         "unknown model")),
    Row("litellm-openai", "litellm", "completion(model='openai/...')", ("litellm",), "py2",
        (*BASIC, "embeddings", "unknown model")),
    Row("litellm-anthropic", "litellm", "completion(model='anthropic/...')", ("litellm",), "py2",
        (*BASIC, "unknown model")),
    Row("llama-index", "llama-index", "OpenAILike",
        ("llama-index-llms-openai-like", "llama-index-core", "openai"), "py2",
        (*BASIC, "embeddings", "unknown model")),
    Row("openai-js", "openai (JS)", "Chat Completions", ("openai",), "js",
        (*BASIC, "embeddings", "unknown model")),
    Row("openai-js-responses", "openai (JS)", "Responses", ("openai",), "js",
        (*BASIC, "unknown model")),
    Row("anthropic-js", "@anthropic-ai/sdk", "Messages", ("@anthropic-ai/sdk",), "js",
        (*BASIC, "embeddings", "unknown model"),
        {"embeddings": "Anthropic's SDK has no embeddings API"}),
    Row("genai-js", "@google/genai", "generateContent", ("@google/genai",), "js",
        (*BASIC, "embeddings", "unknown model")),
    Row("ai-openai-chat", "ai + @ai-sdk/openai", "openai.chat(...)", ("ai", "@ai-sdk/openai"), "js",
        (*BASIC, "embeddings", "unknown model")),
    Row("ai-openai-responses", "ai + @ai-sdk/openai", "openai.responses(...)",
        ("ai", "@ai-sdk/openai"), "js", (*BASIC, "unknown model")),
    Row("ai-anthropic", "ai + @ai-sdk/anthropic", "anthropic(...)",
        ("ai", "@ai-sdk/anthropic"), "js",
        (*BASIC, "embeddings", "unknown model"),
        {"embeddings": "@ai-sdk/anthropic has no embedding model"}),
    Row("openrouter-js", "@openrouter/sdk", "chat.send", ("@openrouter/sdk",), "js",
        (*BASIC, "embeddings", "unknown model")),
)  # fmt: skip
ROW = {row.id: row for row in ROWS}

# Cells known not to pass: (row, scenario, backend or "") -> the reason. Each
# runs as xfail(strict=True): the day it passes, the suite says so.
KNOWN: dict[tuple[str, str, str], str] = {}

Cell = tuple[str, str, str]


def cells() -> list[Cell]:
    """Every cell of the matrix, in the document's order."""
    out: list[Cell] = []
    for row in ROWS:
        for scenario in row.scenarios:
            once = scenario in ONCE or scenario in row.not_offered
            out += [(row.id, scenario, "")] if once else [(row.id, scenario, b) for b in BACKENDS]
    return out


def cell(row: str, scenario: str) -> Callable[[Any], Any]:
    """Mark a test as the matrix cell(s) ``row`` x ``scenario``: once per
    backend (the test takes ``model``), or once for the scenarios in ONCE
    and the ones the row does not offer."""
    if row not in ROW or scenario not in ROW[row].scenarios:
        raise ValueError(f"{row} / {scenario} is not in the matrix (ROWS)")
    mark = pytest.mark.cell(row, scenario)
    if scenario in ONCE or scenario in ROW[row].not_offered:
        return mark

    def both(test: Any) -> Any:
        return pytest.mark.parametrize("model", BACKENDS)(mark(test))

    return both


def cells_for(scenario: str, rows: Iterable[str]) -> Callable[[Any], Any]:
    """Parametrize a test over ``rows`` (the test takes ``row``), each run the
    cell (row, scenario), and over the backends when the scenario has them."""
    rows = tuple(rows)
    for row in rows:
        cell(row, scenario)  # in the matrix
    once = {scenario in ONCE or scenario in ROW[row].not_offered for row in rows}
    if len(once) != 1:
        raise ValueError(f"{scenario}: some of {rows} run it per backend, some once")
    params = [pytest.param(row, id=row, marks=pytest.mark.cell(row, scenario)) for row in rows]

    def apply(test: Any) -> Any:
        test = pytest.mark.parametrize("row", params)(test)
        return test if once == {True} else pytest.mark.parametrize("model", BACKENDS)(test)

    return apply


def child_spec() -> dict[str, Any]:
    """What the child processes (js/matrix/*.mjs, py2/*.py) read from
    $JUNCTION_MATRIX: the prompts and schemas above and the cells to run."""
    return {
        "echo_prompt": ECHO_PROMPT,
        "echo": ECHO,
        "weather_prompt": WEATHER_PROMPT,
        "weather_answer": WEATHER_ANSWER,
        "structured_prompt": STRUCTURED_PROMPT,
        "city_schema": CITY_SCHEMA,
        "weather_parameters": WEATHER_PARAMETERS,
        "embedding_model": EMBEDDING_MODEL,
        "embed_inputs": list(EMBED_INPUTS),
        "unknown_model": UNKNOWN_MODEL,
        "cells": [list(key) for key in cells() if ROW[key[0]].env != "py"],
    }


# --- outcomes -----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str  # "pass", "not offered", "fails" (a known failure), "failed", "skipped"
    reason: str = ""


RESULTS: dict[Cell, Outcome] = {}


def record(key: Cell, report: Any) -> None:
    """Keep a cell's outcome from its test reports (setup, call, teardown)."""
    if report.when == "teardown" and report.passed:
        return
    if hasattr(report, "wasxfail"):
        outcome = Outcome("fails", report.wasxfail) if report.skipped else Outcome("failed")
    elif report.failed:
        outcome = Outcome("failed", _first_line(report.longreprtext))
    elif report.skipped:
        outcome = Outcome("skipped", _first_line(report.longreprtext))
    elif report.when != "call":
        return
    else:
        not_offered = ROW[key[0]].not_offered.get(key[1])
        outcome = Outcome("not offered", not_offered) if not_offered else Outcome("pass")
    if key in RESULTS and RESULTS[key].status in ("failed", "skipped"):
        return  # a teardown error does not hide an earlier failure
    RESULTS[key] = outcome


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    return (errors[0][2:].strip() if errors else lines[-1] if lines else "")[:300]


# --- versions -----------------------------------------------------------------


def version(row: Row) -> str:
    """The library's version, and those of the packages it is used with:
    ``7.0.173 (@ai-sdk/openai 4.0.118)``."""
    first, *others = [_version(row.env, name) for name in row.packages]
    with_ = ", ".join(f"{name} {v}" for name, v in zip(row.packages[1:], others, strict=True))
    return f"{first} ({with_})" if with_ else first


def _version(env: str, name: str) -> str:
    if env == "py":
        return metadata.version(name)
    if env == "js":
        found: str = json.loads((JS / "node_modules" / name / "package.json").read_text())[
            "version"
        ]
        return found
    for site in (PY2 / ".venv" / "lib").glob("python*/site-packages"):
        for dist in metadata.distributions(path=[str(site)]):
            if dist.metadata["Name"].lower() == name:
                return dist.version
    raise LookupError(f"{name} is not installed in {PY2 / '.venv'}")


# --- the document -------------------------------------------------------------

HEADER = """\
# Client libraries: the tested matrix

<!-- Generated by scripts/client-matrix from one run of tests/clients (each
cell below is a test). Do not edit by hand: run scripts/client-matrix. A test
fails when this file is stale. -->

Every client library below is pointed at junction unchanged, with only its
base URL and key set (`base_url=http://127.0.0.1:4000/v1`,
`ANTHROPIC_BASE_URL=http://127.0.0.1:4000`, `serverURL=.../api/v1`, a
google-genai `base_url`), and runs each scenario against junction's simulated
models `sim/openai`, `sim/anthropic` and `sim/gemini`: one client, through
junction, to three providers' wire formats. A result is **pass** when the
scenario passed against all three (or once, for embeddings and the unknown
model), **not offered** when the library has no API for the scenario (the
test checks that it has none), and **fails** with a note naming the reason
otherwise (those tests run as strict expected failures, so a fix shows).

| scenario | what the test checks |
|---|---|
| chat | `echo: hello from junction` answers `hello from junction`, finished normally |
| stream | the same, streamed: in more than one piece, the same text |
| tools | `get_weather(city)` is called with `Paris`; its result goes back and is quoted |
| stream with tools | the tool round trip, streamed (`Runner.run_streamed`) |
| structured | `{city, country}` through the library's structured-output API, validated |
| structured: *mode*, output: *kind* | the same, in each mode or output kind the library has |
| embeddings | two texts embedded with `sim/embedding`: two vectors of 256 dimensions |
| unknown model | a model junction does not serve raises the library's typed not-found error |

How each library is set up, and what it needs to be told, is in [Quirks](#quirks)
below; the tests are in `tests/clients/`.
"""

QUIRKS = """\
## Quirks

**openai-agents: naming junction models.** openai-agents reads a model name
with a `/` as `provider/model`: its `MultiProvider` knows only the prefixes
`openai` and `litellm`, so `Agent(model="sim/openai")` fails with `Unknown
prefix: sim` before any request is made. Write `Agent(model="openai/sim/openai")`
(the prefix is removed and `sim/openai` is sent, with the client from
`set_default_openai_client(...)` or `OPENAI_BASE_URL`), or pass a model object,
as the matrix does:

```python
client = AsyncOpenAI(base_url="http://127.0.0.1:4000/v1", api_key=KEY)
agent = Agent(name="a", model=OpenAIResponsesModel(model="sim/openai", openai_client=client))
# or OpenAIChatCompletionsModel(model="sim/openai", openai_client=client)
```

or `RunConfig(model_provider=OpenAIProvider(openai_client=client))`, which
takes the name unchanged. Set `set_tracing_disabled(True)` (or an
`OPENAI_API_KEY` for OpenAI's tracing) when no OpenAI account is in play.

**langchain-openai: `check_embedding_ctx_length`.** `OpenAIEmbeddings` counts
tokens itself before it sends anything: with the default
`check_embedding_ctx_length=True` it loads a tiktoken encoding (downloaded
from the internet on first use, so it fails offline) and, for a model name it
does not know (every junction name), sends token-id arrays instead of the
texts. junction and the simulator accept token ids, but a real non-OpenAI
provider behind junction does not. Pass `check_embedding_ctx_length=False`:

```python
OpenAIEmbeddings(model="sim/embedding", base_url="http://127.0.0.1:4000/v1",
                 api_key=KEY, check_embedding_ctx_length=False)
```

**pydantic-ai: model profiles for non-Claude names behind the Anthropic
door.** pydantic-ai chooses what a model can do from its name. For a name that
does not start with `claude` (every junction name, `sim/openai` included) its
Anthropic profile says the model has no JSON-schema output, so
`NativeOutput(...)` raises `UserError: Native structured output is not
supported by this model` before any request. junction's Anthropic door takes
`output_config.format` for every model, so give the model a Claude profile:

```python
from pydantic_ai.profiles.anthropic import anthropic_model_profile
model = AnthropicModel("sim/openai", provider=AnthropicProvider(base_url=URL, api_key=KEY),
                       profile=anthropic_model_profile("claude-sonnet-4-5"))
```

The OpenAI models (`OpenAIChatModel`, `OpenAIResponsesModel`) need nothing:
an unknown name gets OpenAI's defaults, which include JSON-schema output.

**google-genai: the base URL and model names.** Give the client
`http_options=HttpOptions(base_url="http://127.0.0.1:4000")`; current releases
then call `/v1/...` (or `/v1beta/...` with `api_version="v1beta"`), and
junction answers both. A junction name is the model: `model="sim/openai"`.

**langchain-openai `with_structured_output(method="json_mode")`, instructor's
`JSON` and `MD_JSON` modes.** JSON mode asks for *some* JSON object: the
schema must be in the prompt. instructor writes it there; with langchain's
`json_mode` the caller does (the matrix puts the schema in the system message).

**@ai-sdk/anthropic: `maxOutputTokens`.** For a model name it does not know
(every junction name) the provider caps `max_tokens` at 4096 and logs a
warning; pass `maxOutputTokens` to choose the limit yourself.

**litellm offline.** On import litellm fetches its model price map from
GitHub, retrying for about 8 seconds when it cannot; with
`LITELLM_LOCAL_MODEL_COST_MAP=True` it uses the copy it ships. Point it at
junction with a provider prefix and `api_base`:
`litellm.completion(model="openai/sim/openai", api_base="http://127.0.0.1:4000/v1", api_key=KEY)`,
or `model="anthropic/sim/openai", api_base="http://127.0.0.1:4000"` for the
Anthropic door.

**instructor `from_anthropic` in `JSON_SCHEMA` mode** with anthropic 0.93
(the version `instructor[anthropic]` pins) warns that the client does not
support `output_format` and writes the schema into the prompt instead, which
junction answers as well.

**instructor, llama-index and litellm** run in a second Python environment
(`tests/clients/py2/requirements.txt`), because their pins cannot be
installed next to the current `openai` and `openai-agents`:
`llama-index-llms-openai` requires `openai<3` (openai-agents requires
`openai>=3`), instructor requires `jiter<0.15` (current `openai` requires
`jiter>=0.16`), and litellm requires a `boto3` whose `botocore` conflicts with
the image's `awscli` pin. They run there with `openai` 2.x and `anthropic`
0.93, the versions their users get.
"""


def render(results: dict[Cell, Outcome], versions: dict[str, str]) -> str:
    """docs/clients.md for these outcomes and versions."""
    notes: list[str] = []

    def note(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    lines = [HEADER, "## The matrix", "", "| client | used as | version | scenario | result |"]
    lines.append("|---|---|---|---|---|")
    counts: dict[str, int] = {}
    for row in ROWS:
        first = True
        for scenario in row.scenarios:
            keys = [k for k in cells() if k[0] == row.id and k[1] == scenario]
            found = [results[k] for k in keys]
            for outcome in found:
                counts[outcome.status] = counts.get(outcome.status, 0) + 1
            result = _result(keys, found, note)
            head = f"| {row.client} | `{row.api}` | {versions[row.id]} |" if first else "| | | |"
            lines.append(f"{head} {scenario} | {result} |")
            first = False
    total = sum(counts.values())
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines += ["", f"**{total} cells:** {summary}.", ""]
    if notes:
        lines += ["Notes:", ""]
        lines += [f"{i}. {text}" for i, text in enumerate(notes, 1)]
        lines.append("")
    return "\n".join(lines) + "\n" + QUIRKS


def _result(keys: list[Cell], found: list[Outcome], note: Callable[[str], str]) -> str:
    statuses = {o.status for o in found}
    if statuses == {"pass"}:
        return "pass"
    if statuses == {"not offered"}:
        return f"not offered {note(found[0].reason)}"
    parts = []
    for key, outcome in zip(keys, found, strict=True):
        where = f" on {key[2]}" if key[2] else ""
        if outcome.status == "pass":
            parts.append(f"pass{where}")
        else:
            detail = f": {outcome.reason}" if outcome.reason else ""
            parts.append(f"{outcome.status}{where} {note(outcome.status + detail)}")
    return "; ".join(parts)


def stale_cells(results: dict[Cell, Outcome]) -> Iterable[Cell]:
    """Cells recorded that the matrix does not have (a test marked wrongly)."""
    known = set(cells())
    return [k for k in results if k not in known]
