"""The embedded stores' in-memory parts: records for tests and no-file
set-ups, and the counters of one process."""

from junction.stores.memory.counters import MemoryCounters
from junction.stores.memory.records import MemoryRecords

__all__ = ["MemoryCounters", "MemoryRecords"]
