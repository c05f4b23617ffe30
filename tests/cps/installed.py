"""The light tool as a practitioner gets it: its wheel built from cps-tool/, installed in a
fresh venv of each Python the machine's pyenv has (3.10 to 3.13), run as `confrere-cps`.

The PIN goes in on stdin from a session without a terminal (getpass then reads stdin, nothing
is echoed anywhere); a session with a terminal would make getpass ask on /dev/tty instead.
Install times and the wheel's size are kept in `FIGURES` for the test report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL_SOURCE = ROOT / "cps-tool"
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
FIGURES: dict[str, object] = {}


def interpreter(version: str) -> Path | None:
    """The pyenv Python of that minor version, newest patch first."""
    found = sorted(PYENV.glob(f"{version}.*/bin/python"), reverse=True)
    return found[0] if found else None


@dataclass
class InstalledTool:
    version: str
    venv: Path

    @property
    def command(self) -> str:
        return str(self.venv / "bin" / "confrere-cps")

    def run(self, *args: str, pin: str = "1234", env: dict | None = None, timeout: float = 90):
        """Run `confrere-cps ARGS`; returns (exit code, output, seconds to the end)."""
        started = time.monotonic()
        result = subprocess.run(
            [self.command, *args], input=pin + "\n", capture_output=True, text=True,
            env={**_clean_environment(), **(env or {})}, timeout=timeout, start_new_session=True, cwd=self.venv,
            check=False,
        )
        return result.returncode, result.stdout + result.stderr, time.monotonic() - started

    def python(self, code: str) -> str:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", code], capture_output=True, text=True,
            check=True, timeout=60, env=_clean_environment(), cwd=self.venv,
        ).stdout


def _clean_environment() -> dict[str, str]:
    """This environment without the test run's PYTHONPATH (which would lend it our sources)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


class Tools:
    """Builds the wheel once, then one fresh venv per Python version, on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._wheel: Path | None = None
        self._tools: dict[str, InstalledTool] = {}

    @property
    def wheel(self) -> Path:
        if self._wheel is None:
            out = self.directory / "dist"
            subprocess.run(
                [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
                 str(TOOL_SOURCE)],
                check=True, capture_output=True, timeout=300,
            )
            self._wheel = next(out.glob("confrere_cps-*.whl"))
            with zipfile.ZipFile(self._wheel) as archive:
                metadata = next(n for n in archive.namelist() if n.endswith("METADATA"))
                requires = [
                    line.split(":", 1)[1].strip()
                    for line in archive.read(metadata).decode().splitlines()
                    if line.startswith("Requires-Dist:")
                ]
            FIGURES["wheel"] = {
                "file": self._wheel.name, "bytes": self._wheel.stat().st_size,
                "requires": requires,
            }
        return self._wheel

    def get(self, version: str) -> InstalledTool:
        if version not in self._tools:
            python = interpreter(version)
            if python is None:
                pytest.skip(f"no Python {version} under {PYENV}")
            venv = self.directory / f"venv-{version}"
            started = time.monotonic()
            subprocess.run([str(python), "-m", "venv", str(venv)], check=True, timeout=120)
            subprocess.run(
                [str(venv / "bin" / "pip"), "install", "--quiet", str(self.wheel)],
                check=True, capture_output=True, timeout=900,
            )
            FIGURES[f"install {version}"] = round(time.monotonic() - started, 1)
            self._tools[version] = InstalledTool(version, venv)
        return self._tools[version]


_shared: list[Tools] = []  # one per test process, even if pytest re-creates the fixture


@pytest.fixture(scope="session", name="tools")
def tools_fixture(tmp_path_factory) -> Tools:
    if not _shared:
        _shared.append(Tools(tmp_path_factory.mktemp("confrere-cps")))
    yield _shared[0]
    if FIGURES:
        print("\nconfrere-cps figures:", FIGURES)
