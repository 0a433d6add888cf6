"""Where ../shared is: beside the repository (as in CI), or $JUNCTION_SHARED.

Tests that need it skip cleanly when it is absent; the project itself never
reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

SHARED = Path(os.environ.get("JUNCTION_SHARED") or Path(__file__).resolve().parents[2] / "shared")
RECORDED = SHARED / "fixtures" / "recorded"
SPECS = SHARED / "specs"
