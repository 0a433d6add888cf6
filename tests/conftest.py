"""Test-suite wide setup: the helper modules of tests/ (``_cassettes`` and others) on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
