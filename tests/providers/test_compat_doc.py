"""docs/compatibility.md is generated from the code and can never drift from it.

The generator runs in a fresh interpreter (so vendors or dialects that other
tests register in this process cannot leak into the document), and once in
process to check that what is registered shows up.
"""

from __future__ import annotations

import difflib
import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from junction import providers
from junction.providers.quirks import CANONICAL_PARAMS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "gen-compat"
DOC = ROOT / "docs" / "compatibility.md"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )


def test_document_is_up_to_date() -> None:
    run = _run("--stdout")
    assert run.returncode == 0, run.stderr
    current = DOC.read_text(encoding="utf-8")
    if run.stdout != current:
        diff = "".join(
            difflib.unified_diff(
                current.splitlines(keepends=True),
                run.stdout.splitlines(keepends=True),
                "docs/compatibility.md",
                "scripts/gen-compat --stdout",
            )
        )
        pytest.fail(f"docs/compatibility.md is stale; run scripts/gen-compat\n{diff}")


def test_check_mode_exit_codes(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.md"
    fresh.write_text(_run("--stdout").stdout, encoding="utf-8")
    assert _run("--check", "--doc", str(fresh)).returncode == 0
    stale = tmp_path / "stale.md"
    stale.write_text(fresh.read_text(encoding="utf-8").replace("| `groq` |", "| `grok` |"))
    run = _run("--check", "--doc", str(stale))
    assert run.returncode == 1
    assert "stale" in run.stderr
    assert _run("--check", "--doc", str(tmp_path / "missing.md")).returncode == 1


def _script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("_gen_compat", str(SCRIPT))
    spec = importlib.util.spec_from_loader("_gen_compat", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_everything_registered_is_in_the_document() -> None:
    text: str = _script().render()
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| parameter |"))
    for dialect in providers.dialects():
        assert f"`{dialect}`" in header
        assert f"### `{dialect}`" in text
    for name in CANONICAL_PARAMS:
        assert any(line.startswith(f"| `{name}` |") for line in lines), name
    for v in providers.vendors():
        rows = [line for line in lines if line.startswith(f"| `{v.name}` |")]
        assert len(rows) == 2, v.name  # the parameters table and the quirks table
        table = providers.params(v.dialect)
        for refused in v.quirks.unsupported & set(table):
            assert f"`{refused}`" in rows[0], (v.name, refused)


def test_dialect_cells_follow_the_params_tables() -> None:
    lines = _script().render().splitlines()
    dialects = providers.dialects()
    for name in CANONICAL_PARAMS:
        row = next(line for line in lines if line.startswith(f"| `{name}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")][1:]
        for dialect, cell in zip(dialects, cells, strict=True):
            assert cell == providers.params(dialect).get(name, "—"), (name, dialect)
