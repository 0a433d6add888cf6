"""A port already taken: one clear line and a non-zero exit, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from _procs import ROOT, clean_env


@pytest.mark.parametrize("command", ["sim", "serve"])
def test_a_taken_port_is_one_clear_line(command: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "junction.cli", command, "--port", str(port)],
            capture_output=True,
            text=True,
            env=clean_env(),
            cwd=ROOT,
            timeout=60,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("junction")
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in lines[0]
