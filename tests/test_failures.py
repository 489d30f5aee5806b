"""Every way a run can end badly, under every channel: the channel's failure form, one clear
message, a non-zero exit, no traceback, and no credentials left (neither the earlier run's nor
this run's). In process, so that the whole matrix takes well under a second a case."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.leaks import Recorded
from tests.support import RECORDED, TOOL, Run, base_env, new_secret, run
from tests.support.in_process import exported, invoke
from twine_authenticate.commands import authenticate as authenticate_module

REPOSITORY = "internal=https://pypi.example.com/upload/"


class Channel(NamedTuple):
    name: str
    env: Callable[[Path], dict[str, str]]
    failed: Callable[[Run], bool]  # the run's stdout is the channel's failure form
    message: Callable[[Run], str]  # where the one message is

    def root(self, tmp: Path) -> Path:
        """Where this channel's runs keep their files."""
        env = self.env(tmp)
        for variable in ("AGENT_TEMPDIRECTORY", "RUNNER_TEMP"):
            if variable in env:
                return Path(env[variable]) / "twineAuthenticate"
        return Path(env["TMPDIR"]) / f"twineAuthenticate-{os.getuid()}"


def _shell_env(tmp: Path, **extra: str) -> dict[str, str]:
    return base_env(tmp, **extra)


def _github_env(tmp: Path) -> dict[str, str]:
    (tmp / "runner").mkdir(exist_ok=True)
    return base_env(
        tmp,
        GITHUB_ACTIONS="true",
        GITHUB_ENV=str(tmp / "runner" / "env"),
        RUNNER_TEMP=str(tmp / "runner"),
    )


def _azure_env(tmp: Path) -> dict[str, str]:
    (tmp / "agent").mkdir(exist_ok=True)
    return base_env(tmp, TF_BUILD="True", AGENT_TEMPDIRECTORY=str(tmp / "agent"))


def _last_line(run: Run) -> str:
    lines = run.stdout.splitlines()
    return lines[-1] if lines else ""


CHANNELS = [
    Channel("sh", _shell_env, lambda r: _last_line(r) == "false", lambda r: r.stderr),
    Channel(
        "gitlab",
        lambda tmp: base_env(tmp, GITLAB_CI="true"),
        lambda r: _last_line(r) == "false",
        lambda r: r.stderr,
    ),
    Channel(
        "github",
        _github_env,
        lambda r: any(line.startswith("::error::") for line in r.stdout.splitlines()),
        lambda r: r.stdout,
    ),
    Channel(
        "azure",
        _azure_env,
        lambda r: (
            "##vso[task.complete result=Failed;]" in r.stdout
            and "##vso[task.issue type=error;]" in r.stdout
        ),
        lambda r: r.stdout,
    ),
]


@pytest.fixture(params=CHANNELS, ids=[channel.name for channel in CHANNELS])
def channel(request: pytest.FixtureRequest) -> Channel:
    param: Channel = request.param
    return param


@pytest.fixture
def earlier_run(channel: Channel, tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment in which an earlier run of the job already wrote its credentials."""
    env = channel.env(tmp_path)
    env["TWINE_AUTHENTICATE_INTERNAL_PASSWORD"] = new_secret("earlier run's password")
    # The earlier run's variables, as the job's later steps get them.
    first = invoke(["--ci", "shell", "--repository", REPOSITORY], env)
    assert first.returncode == 0, first.output
    written = list(channel.root(tmp_path).glob("*/.pypirc"))
    assert [str(path) for path in written] == [exported(first)["PYPIRC_PATH"]]
    env.update(exported(first))
    yield env


def assert_failed_closed(
    channel: Channel, tmp: Path, result: Run, code: int, *phrases: str
) -> None:
    assert result.returncode == code, result.output
    assert channel.failed(result), f"no {channel.name} failure form in:\n{result.stdout}"
    message = channel.message(result)
    for phrase in phrases:
        assert phrase in message, message
    assert "Traceback" not in result.output
    assert not list(channel.root(tmp).glob("*/.pypirc")), "credentials were left behind"


@pytest.mark.parametrize(
    ("argv", "phrases"),
    [
        (["--repositroy", REPOSITORY], ["unrecognized arguments: --repositroy", "--help"]),
        (["--repository"], ["expected one argument"]),
        (["--repository", REPOSITORY, "--timeout", "-1"], ["--timeout must be", "above 0"]),
        (["--repository", REPOSITORY, "--timeout", "abc"], ["--timeout must be a number"]),
        (["--repository", REPOSITORY, "--timeout", "nan"], ["--timeout must be"]),
        (["--repository", REPOSITORY, "--shell", "tcsh"], ["invalid choice: 'tcsh'"]),
        (["--repository", REPOSITORY, "--ci", "jenkins"], ["invalid choice: 'jenkins'"]),
        (["publish"], ["invalid choice: 'publish'"]),
        (["cleanup", "--repository", REPOSITORY], ["unrecognized arguments"]),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else None,
)
def test_usage_errors_fail_closed(
    channel: Channel,
    tmp_path: Path,
    earlier_run: dict[str, str],
    argv: list[str],
    phrases: list[str],
) -> None:
    result = invoke(argv, earlier_run)
    assert_failed_closed(channel, tmp_path, result, 2, *phrases)


def test_an_input_error_fails_closed(
    channel: Channel, tmp_path: Path, earlier_run: dict[str, str]
) -> None:
    result = invoke(["--repository", "other=https://other.example/"], earlier_run)
    assert_failed_closed(channel, tmp_path, result, 2, "TWINE_AUTHENTICATE_OTHER_PASSWORD")


def test_an_unexpected_exception_fails_closed_without_its_text(
    channel: Channel,
    tmp_path: Path,
    earlier_run: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = earlier_run["TWINE_AUTHENTICATE_INTERNAL_PASSWORD"]

    def broken(*args: object) -> str:
        raise RuntimeError(f"a library quoting a value: {secret}")

    monkeypatch.setattr(authenticate_module, "render_pypirc", broken)
    result = invoke(["--repository", REPOSITORY], earlier_run)
    assert_failed_closed(channel, tmp_path, result, 70, "internal error (RuntimeError)", "--debug")
    assert "a library quoting a value" not in result.output


def test_an_interrupt_fails_closed(
    channel: Channel,
    tmp_path: Path,
    earlier_run: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*args: object, **keywords: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(authenticate_module, "write_run", interrupted)
    result = invoke(["--repository", REPOSITORY], earlier_run)
    assert_failed_closed(channel, tmp_path, result, 130, "interrupted")


def test_an_interrupt_after_writing_leaves_no_credentials(
    channel: Channel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupted between writing the file and exporting PYPIRC_PATH: the new file goes."""
    env = channel.env(tmp_path)
    env["TWINE_AUTHENTICATE_INTERNAL_PASSWORD"] = new_secret("interrupted run's password")
    from twine_authenticate import cli

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "report_authenticated", interrupted)
    result = invoke(["--repository", REPOSITORY], env)
    assert_failed_closed(channel, tmp_path, result, 130, "interrupted")


def test_debug_shows_the_traceback_with_secrets_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = new_secret("debugged password")
    env = _shell_env(tmp_path, TWINE_AUTHENTICATE_INTERNAL_PASSWORD=secret)

    def broken(*args: object) -> str:
        raise RuntimeError(f"boom {secret}")

    monkeypatch.setattr(authenticate_module, "render_pypirc", broken)
    result = invoke(["--debug", "--repository", REPOSITORY], env)
    assert result.returncode == 70
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: boom ***" in result.stderr
    assert secret not in result.output


def _run_with_stdout(
    tmp: Path, stdout: int, env_extra: dict[str, str] | None = None
) -> tuple[int, str]:
    env = _shell_env(tmp, TWINE_AUTHENTICATE_INTERNAL_PASSWORD=new_secret("closed stdout password"))
    env.update(env_extra or {})
    completed = subprocess.run(
        [*TOOL, "--repository", REPOSITORY],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
    )
    return completed.returncode, completed.stderr


def test_a_broken_pipe_on_stdout_fails_closed(tmp_path: Path) -> None:
    """`twine-authenticate ... | something-that-exited`: nothing reaches the later steps, so
    the run must fail, say why on stderr, and leave no file."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        code, stderr = _run_with_stdout(tmp_path, write_end)
    finally:
        os.close(write_end)
    assert code == 1
    assert "could not write to standard output" in stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert not list((tmp_path / "tmp").glob("twineAuthenticate-*/*/.pypirc"))


def test_a_closed_stdout_fails_closed(tmp_path: Path) -> None:
    env = _shell_env(tmp_path, TWINE_AUTHENTICATE_INTERNAL_PASSWORD=new_secret("closed stdout"))
    # The shell closes stdout (>&-) before running the tool, as a careless wrapper might.
    result = run(
        [
            "sh",
            "-c",
            'exec "$0" -m twine_authenticate --repository "$1" >&-',
            sys.executable,
            REPOSITORY,
        ],
        env,
    )
    assert result.returncode == 1
    assert "could not write to standard output" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "tmp").glob("twineAuthenticate-*/*/.pypirc"))


@pytest.mark.parametrize("shell", ["bash", "sh", "zsh", "fish", "pwsh"])
def test_the_failure_form_is_code_each_shell_stops_on(tmp_path: Path, shell: str) -> None:
    result = invoke(["--shell", shell, "--repositroy", REPOSITORY], _shell_env(tmp_path))
    expected = (
        "throw 'twine-authenticate failed: see its message above'" if shell == "pwsh" else "false"
    )
    assert result.returncode == 2
    assert result.stdout == expected + "\n"


def test_a_cancelled_job_sigterm_fails_closed(tmp_path: Path) -> None:
    """A CI cancels a step with SIGTERM: here while the run waits on an index that accepts
    connections but never answers. The earlier run's file goes too."""
    env = _shell_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("sigterm password"))
    first = invoke(["--repository", "idx=https://idx.example/"], env)
    env.update(exported(first))
    earlier = env["PYPIRC_PATH"]
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        process = subprocess.Popen(
            [*TOOL, "--verify", "--timeout", "60", "--repository", f"idx={url}"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        connection, _ = listener.accept()  # the run is now waiting for an answer
        with connection:
            process.send_signal(signal.SIGTERM)
            stdout, stderr = process.communicate(timeout=30)
    RECORDED.append(Recorded("sigterm stdout", stdout))
    RECORDED.append(Recorded("sigterm stderr", stderr))
    assert process.returncode == 143
    assert stdout.splitlines()[-1] == "false"
    assert "terminated (SIGTERM)" in stderr and "Traceback" not in stderr
    assert not Path(earlier).exists()
    assert not list((tmp_path / "tmp").glob("twineAuthenticate-*/*/.pypirc"))
