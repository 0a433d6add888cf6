"""scripts/sync-fixtures: refreshes the kept fixtures, adds only what is asked, and
--check reports drift without changing anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _cassettes import RECORDED, SPECS, require

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "sync-fixtures"


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(SCRIPT), "--recorded", str(tmp / "src/recorded")]
    command += ["--specs", str(tmp / "src/specs"), "--into", str(tmp / "kept"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _trees(tmp: Path) -> None:
    _write(tmp / "src/recorded/LICENSE", "MIT\n")
    _write(tmp / "src/recorded/test_x/a.yaml", "interactions: [new]\n")
    _write(tmp / "src/recorded/test_x/b.yaml", "interactions: []\n")
    _write(tmp / "src/specs/api.yaml", "openapi: 3.1.0\n")
    _write(tmp / "kept/recorded/README.md", "ours\n")
    _write(tmp / "kept/recorded/LICENSE", "MIT\n")
    _write(tmp / "kept/recorded/test_x/a.yaml", "interactions: [old]\n")
    _write(tmp / "kept/specs/api.yaml", "openapi: 3.1.0\n")


def test_check_reports_drift_and_changes_nothing(tmp_path: Path) -> None:
    _trees(tmp_path)
    result = _run(tmp_path, "--check")
    assert result.returncode == 1
    assert "test_x/a.yaml: differs" in result.stderr
    assert (tmp_path / "kept/recorded/test_x/a.yaml").read_text() == "interactions: [old]\n"
    assert "recorded: 1 of 2 cassettes kept" in result.stdout


def test_sync_refreshes_kept_files_only(tmp_path: Path) -> None:
    _trees(tmp_path)
    assert _run(tmp_path).returncode == 0
    kept = tmp_path / "kept/recorded"
    assert (kept / "test_x/a.yaml").read_text() == "interactions: [new]\n"
    assert not (kept / "test_x/b.yaml").exists()
    assert (kept / "README.md").read_text() == "ours\n"
    assert _run(tmp_path, "--check").returncode == 0


def test_add_keeps_one_more_and_a_vanished_source_is_an_error(tmp_path: Path) -> None:
    _trees(tmp_path)
    assert _run(tmp_path, "--add", "recorded/test_x/b.yaml").returncode == 0
    assert (tmp_path / "kept/recorded/test_x/b.yaml").is_file()
    (tmp_path / "src/recorded/test_x/a.yaml").unlink()
    result = _run(tmp_path, "--check")
    assert result.returncode == 1
    assert "test_x/a.yaml: not in" in result.stderr


def test_the_repository_keeps_licences_beside_the_data() -> None:
    assert "MIT" in require(RECORDED / "LICENSE").read_text()
    assert "MIT" in require(SPECS / "openai-openapi.LICENSE").read_text()
    assert "Apache License" in require(SPECS / "openrouter-openapi.LICENSE.md").read_text()
