"""The test helpers' own promises: failure messages show no secret, and a test that needs a
program from the OS is skipped without it, or fails when the run is strict (as in CI)."""

from __future__ import annotations

import secrets
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.github_runner import GitHubJob, GitHubStep
from tests.pipeline import AzureAgentJob, LoggingCommand, ServiceConnection, Step
from tests.support import IndexServer, Run, base_env, register_secret, run
from tests.support.auth_proxy import AuthProxy
from tests.support.os_tools import MISSING, STRICT_VARIABLE

ROOT = Path(__file__).resolve().parent.parent


def test_failure_messages_show_no_secret(tmp_path: Path) -> None:
    # pytest shows the repr of whatever an assertion looked at. (Letters and digits only:
    # repr would escape quotes and backslashes, and hide a leak from this check.)
    secret = register_secret("repr secret", "S" + secrets.token_hex(16) + "E")
    result = Run(["tool"], 0, f"##vso[task.setsecret]{secret}\n", secret)
    shown = {
        "Run": result,
        "Step": Step(result, [LoggingCommand("task.setsecret", {}, secret)]),
        "AzureAgentJob": AzureAgentJob(
            tmp_path / "job",
            job_token=secret,
            extra_env={"SECRET_AGENT_PROXYPASSWORD": secret},
            variables={"HTTP_PROXY": f"http://u:{secret}@proxy"},
            secret_variables={"TWINE_PASSWORD": secret},
            masks=[secret],
            log=[secret],
        ),
        "ServiceConnection": ServiceConnection("id", "https://x/", "x", "Token", {"k": secret}),
        "GitHubJob": GitHubJob(tmp_path, {"X": secret}, {"Y": secret}, [secret]),
        "GitHubStep": GitHubStep(result, [], {"UV_PUBLISH_PASSWORD": secret}),
        "IndexServer": IndexServer("http://i/", tmp_path, tmp_path, {"uploader": secret}),
        "AuthProxy": AuthProxy(1, "user", secret, tmp_path),
    }
    assert [name for name, value in shown.items() if secret in repr(value)] == []


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


def test_a_failure_message_shows_secrets_as_stars(tmp_path: Path) -> None:
    # A test that fails with a secret in its message, run by a pytest with our conftest.
    secret = "S-redaction-check-7f3a9c-E"
    (tmp_path / "test_leaky.py").write_text(
        "from tests.support import register_secret\n\n"
        "def test_leaky():\n"
        f"    secret = register_secret('check', {secret!r})\n"
        "    print('captured', secret)\n"
        "    assert secret == 'other', f'raw output: {secret}'\n"
    )
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "tests.conftest"]
    argv += [f"--rootdir={tmp_path}", f"--basetemp={tmp_path / 'b'}", str(tmp_path)]
    result = run(argv, base_env(tmp_path), cwd=ROOT, record=False)
    assert result.returncode == 1 and "1 failed" in result.stdout
    assert "raw output: ***" in result.stdout and "captured ***" in result.stdout
    assert "redaction-check" not in result.output
