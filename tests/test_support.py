"""The test helpers' own promises: a test that needs a program from the OS is skipped
without it, or fails when the run is strict (as in CI)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support import base_env, run
from tests.support.os_tools import MISSING, STRICT_VARIABLE

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_os_program_skips_or_in_strict_runs_fails(tmp_path: Path) -> None:
    # The suite's own conftest and a real shell test, in a pytest whose PATH has no zsh.
    test = "tests/test_shells.py::test_a_failed_run_stops_the_script_that_evals_it[zsh]"
    empty = tmp_path / "empty-path"
    empty.mkdir()
    env = base_env(tmp_path, PATH=str(empty))
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfs", test]

    with ThreadPoolExecutor(2) as pool:  # side by side: each takes seconds to start
        relaxed_run = pool.submit(run, [*argv, f"--basetemp={tmp_path / 'r'}"], env, cwd=ROOT)
        strict_env = {**env, STRICT_VARIABLE: "1"}
        strict_run = pool.submit(run, [*argv, f"--basetemp={tmp_path / 's'}"], strict_env, cwd=ROOT)
    relaxed, strict = relaxed_run.result(), strict_run.result()

    reason = f"{MISSING} zsh is not installed; install the Debian package 'zsh'"
    assert relaxed.returncode == 0, relaxed.output[-2000:]
    assert "1 skipped" in relaxed.stdout and reason in relaxed.stdout
    assert strict.returncode == 1, strict.output[-2000:]
    assert "1 failed" in strict.stdout and reason in strict.stdout
