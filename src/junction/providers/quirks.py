"""What a vendor can take, read from data: its dialect's tables and its quirks.

The gateway's drop-or-refuse decision and docs/compatibility.md both come
from here, so they cannot disagree.
"""

from __future__ import annotations

from junction.codecs import registry
from junction.providers.vendors import Vendor
from junction.types.chat import OPTIONAL_PARAMS

CANONICAL_PARAMS: tuple[str, ...] = OPTIONAL_PARAMS
"""The optional parameters of a canonical request (``ChatRequest.given``)."""


def extra_params(vendor: Vendor) -> frozenset[str]:
    """Canonical parameters the vendor takes beyond its dialect's table
    (``Quirks.pass_extra`` naming one, e.g. vLLM's ``top_k``)."""
    return vendor.quirks.pass_extra & frozenset(CANONICAL_PARAMS)


def forwarded_extra(vendor: Vendor) -> frozenset[str]:
    """Request ``extra`` fields forwarded unchanged (OpenRouter's ``provider``...)."""
    return vendor.quirks.pass_extra - frozenset(CANONICAL_PARAMS)


def supported_params(vendor: Vendor) -> frozenset[str]:
    """Canonical parameters an endpoint of this vendor is sent: the dialect's
    table, plus what the vendor also takes, less what it refuses."""
    dialect = frozenset(registry.params(vendor.dialect))
    return (dialect | extra_params(vendor)) - vendor.quirks.unsupported


def param_notes(dialect: str) -> dict[str, str]:
    """The dialect's ``PARAM_NOTES`` (how a parameter is carried)."""
    return registry.param_notes(dialect)
