"""Test-suite wide setup: the shared/ folder beside the clone, on sys.path helpers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
