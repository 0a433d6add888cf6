"""schemathesis against the live gateway, from the document it serves.

Every generated request goes through a real socket to the gateway, with the
simulator behind it. A response fails when it is a server error other than
the documented upstream 502 / 503 / 504, or when its status, content type or
body is not what the document says. The simulator fails some provider calls
(429, 500, 503, malformed bodies), so error answers are checked as well.

CI runs a bounded, derandomized sample: the ``/v1`` (and OpenRouter
``/api/v1``-only) routes, schemathesis's examples and fuzzing phases,
``FUZZ_EXAMPLES`` cases per operation (default 20). ``FUZZ_FULL=1`` adds every
path alias and schemathesis's coverage phase (boundary and type-confusion
cases, several thousand requests); ``FUZZ_EXAMPLES=500`` searches longer.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import AcceptedNegativeData, FailureGroup

from fuzz._live import live_gateway
from junction import __version__
from junction.server.openapi import build_document
from junction.sim import Faults, ModelSettings, Profile

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
FULL = os.environ.get("FUZZ_FULL") == "1"
TRIED: dict[str, int] = {}
STATUSES: dict[int, int] = {}

EXCLUDED = [
    # Request schemas are the decoders' structural view; the values a door
    # checks by hand (an empty model, an unknown role) get a documented 400.
    schemathesis.checks.positive_data_acceptance,
]

ACCEPTED = ["2xx", "3xx", "4xx", "502", "503", "504"]
# Some provider calls fail, so the documented 429 / 502 / 503 answers are checked too.
FLAKY_PROVIDERS = Profile(
    seed=7,
    models={
        "*": ModelSettings(
            faults=Faults(rate_limit=0.02, server_error=0.03, unavailable=0.02, malformed=0.02)
        )
    },
)

schema = schemathesis.openapi.from_dict(
    build_document(__version__),
    config=SchemathesisConfig.from_dict(
        {
            "seed": 20261201,
            "phases": {"coverage": {"enabled": FULL}},
            # The upstream failures the document declares are not server errors.
            "checks": {"not_a_server_error": {"expected-statuses": ACCEPTED}},
        }
    ),
)
if not FULL:
    schema = schema.include(path_regex=r"^/(v1/|api/v1/models|api/v1/generation$|health$|openapi)")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with live_gateway(FLAKY_PROVIDERS) as url:
        yield url
    print(f"\nschemathesis: {sum(TRIED.values())} requests over {len(TRIED)} operations")
    print(f"statuses: {dict(sorted(STATUSES.items()))}")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_document(case: schemathesis.Case, base_url: str) -> None:
    label = case.operation.label
    TRIED[label] = TRIED.get(label, 0) + 1
    response = case.call(base_url=base_url, timeout=30)
    STATUSES[response.status_code] = STATUSES.get(response.status_code, 0) + 1
    try:
        case.validate_response(response, excluded_checks=EXCLUDED)
    except FailureGroup as failures:
        if all(_lenient_system_block(f) for f in failures.exceptions):
            pytest.xfail(LENIENT_SYSTEM_BLOCK)
        raise


LENIENT_SYSTEM_BLOCK = (
    "codecs/anthropic (codecs helper): a `system` text block without `type` is accepted "
    "(msgspec requires a tag only inside a union), where the wire struct's schema, like "
    "Anthropic's API, requires it"
)


def _lenient_system_block(failure: BaseException) -> bool:
    """The one failure left (coverage phase only): see LENIENT_SYSTEM_BLOCK."""
    return isinstance(failure, AcceptedNegativeData) and "component: system ->" in failure.message


def test_served_document_is_the_built_one(base_url: str) -> None:
    served = httpx.get(base_url + "/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == build_document(__version__)
