"""The client matrix's child processes: the JavaScript clients
(js/matrix/*.mjs under node, installed from js/package-lock.json) and the
second Python environment's (py2/*.py in py2/.venv). They start together, the
first time a cell asks (conftest.py asks at the start of the session), and
run while the in-process cells do; each cell awaits the one that ran it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from _client_matrix import JS, PY2, ROWS, Cell, child_spec
from _servers import in_ci

PY2_PYTHON = PY2 / ".venv" / "bin" / "python"
PY2_MARK = PY2 / ".venv" / "installed-from"  # written by py2/install when it is done
JS_PACKAGES = tuple(json.loads((JS / "package.json").read_text())["dependencies"])

# The child process that runs each row's cells: js/matrix/NAME.mjs under node,
# py2/NAME.py in the second environment. Each prints one JSON object.
SCRIPT = {
    "openai-js": "openai",
    "openai-js-responses": "openai",
    "anthropic-js": "anthropic",
    "genai-js": "genai",
    "ai-openai-chat": "vercel_ai",
    "ai-openai-responses": "vercel_ai",
    "ai-anthropic": "vercel_ai",
    "openrouter-js": "openrouter",
    "instructor-openai": "instructor_client",
    "instructor-anthropic": "instructor_client",
    "litellm-openai": "litellm_client",
    "litellm-anthropic": "litellm_client",
    "llama-index": "llama_index_client",
}
JS_SCRIPTS = sorted({SCRIPT[row.id] for row in ROWS if row.env == "js"})
PY2_SCRIPTS = sorted({SCRIPT[row.id] for row in ROWS if row.env == "py2"})


def _missing(what: str) -> None:
    if in_ci():
        pytest.fail(f"CI=true and {what}", pytrace=False)
    pytest.skip(what)


class Children:
    """The matrix's child processes, started together the first time a
    cell asks for one; each cell awaits the one it reads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tasks: dict[str, asyncio.Task[dict[str, Any]]] = {}

    async def _ensure_js(self) -> None:
        if all((JS / "node_modules" / name).is_dir() for name in JS_PACKAGES):
            return
        npm = shutil.which("npm")
        assert npm is not None, "node is installed without npm"
        code, out, err = await run(npm, "ci", "--no-audit", "--no-fund", cwd=JS)
        assert code == 0, out + err

    async def _ensure_py2(self) -> None:
        lock = hashlib.sha256((PY2 / "requirements.txt").read_bytes()).hexdigest()
        if PY2_MARK.is_file() and PY2_MARK.read_text() == lock:
            return
        script = PY2 / "install"
        code, out, err = await run(sys.executable, str(script), cwd=PY2, limit_s=900)
        assert code == 0, out + err

    def start(self) -> None:
        if self.tasks:
            return
        env = {
            **os.environ,
            "JUNCTION_URL": self.url,
            "JUNCTION_MATRIX": json.dumps(child_spec()),
            "AI_SDK_LOG_WARNINGS": "false",
        }
        js_ready = asyncio.ensure_future(self._ensure_js()) if shutil.which("node") else None
        py2_ready = asyncio.ensure_future(self._ensure_py2())

        async def child(ready: asyncio.Future[None], *command: str) -> dict[str, Any]:
            await ready
            code, out, err = await run(*command, cwd=Path(command[-1]).parent, env=env)
            assert code == 0, f"{command[-1]} exited {code}:\n{out}\n{err}"
            found: dict[str, Any] = json.loads(out)
            return found

        for name in JS_SCRIPTS:
            if js_ready is not None:
                self.tasks[name] = asyncio.ensure_future(
                    child(js_ready, "node", str(JS / "matrix" / f"{name}.mjs"))
                )
        for name in PY2_SCRIPTS:
            self.tasks[name] = asyncio.ensure_future(
                child(py2_ready, str(PY2_PYTHON), str(PY2 / f"{name}.py"))
            )

    async def observed(self, cell: Cell) -> Any:
        """What the child process running ``cell`` observed for it."""
        row, scenario, model = cell
        return await self.reported(SCRIPT[row], f"{row}|{scenario}|{model}")

    async def reported(self, name: str, key: str) -> Any:
        """What child ``name`` reported under ``key``."""
        self.start()
        if name in JS_SCRIPTS and shutil.which("node") is None:
            _missing("node is not installed (the JavaScript clients need it)")
        found = await asyncio.shield(self.tasks[name])
        assert key in found, f"{name} reported no {key!r}; it reported {sorted(found)}"
        return found[key]


async def run(
    *command: str, cwd: Path, env: dict[str, str] | None = None, limit_s: float = 300
) -> tuple[int, str, str]:
    """Run ``command``: its exit code, standard output and standard error."""
    proc = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=limit_s)
    except BaseException:  # a timeout, or the session ending: leave no child behind
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
