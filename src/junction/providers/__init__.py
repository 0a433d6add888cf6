"""Vendor records and the registry of vendors and dialects."""

from junction.providers.registry import (
    codec,
    dialects,
    params,
    register_dialect,
    register_vendor,
    vendor,
    vendors,
)
from junction.providers.vendors import Vendor

__all__ = [
    "Vendor",
    "codec",
    "dialects",
    "params",
    "register_dialect",
    "register_vendor",
    "vendor",
    "vendors",
]
