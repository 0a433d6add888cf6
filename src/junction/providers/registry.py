"""One registry for vendors; dialects register in :mod:`junction.codecs.registry`
(re-exported here). The built-ins register through the same calls as plugins."""

from __future__ import annotations

from junction.codecs.registry import codec, dialects, is_dialect, params, register_dialect
from junction.providers.vendors import BUILTIN_VENDORS, Vendor

__all__ = [
    "codec",
    "dialects",
    "params",
    "register_dialect",
    "register_vendor",
    "unregister_vendor",
    "vendor",
    "vendors",
]

_VENDORS: dict[str, Vendor] = {}


def register_vendor(vendor: Vendor) -> None:
    """Add or replace a vendor record; its dialect must be registered."""
    if not is_dialect(vendor.dialect):
        raise ValueError(
            f"vendor {vendor.name!r}: unknown dialect {vendor.dialect!r} "
            f"(registered: {', '.join(dialects())})"
        )
    _VENDORS[vendor.name] = vendor


def unregister_vendor(name: str) -> None:
    """Forget a vendor record (a plugin unloading, a test cleaning up)."""
    _VENDORS.pop(name, None)


def vendor(name: str) -> Vendor | None:
    return _VENDORS.get(name)


def vendors() -> list[Vendor]:
    return list(_VENDORS.values())


for _v in BUILTIN_VENDORS:
    register_vendor(_v)
