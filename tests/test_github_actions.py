"""GitHub Actions: masks first, variables through $GITHUB_ENV, a real upload in the next step."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.github_runner import EnvFileError, GitHubJob, parse_env_file
from tests.support import TOOL, IndexServer, base_env, new_secret, register_secret, run_tool

# --- the harness, against the runner's documented behaviour ----------------------------------


def test_env_file_parser_reads_both_forms_like_the_runner() -> None:
    text = "A=1=2\nB<<EOF\nline 1\nline 2\nEOF\n\nC=x<<y\nD<<E=F\nv\nE=F\n"
    assert parse_env_file(text) == {"A": "1=2", "B": "line 1\nline 2", "C": "x<<y", "D": "v"}


def test_env_file_parser_fails_like_the_runner_without_the_delimiter() -> None:
    with pytest.raises(EnvFileError, match="Matching delimiter not found"):
        parse_env_file("A<<EOF\nvalue\nEO\n")
    with pytest.raises(EnvFileError, match="Invalid environment variable format"):
        parse_env_file("no equals sign here\n")


# --- the channel ----------------------------------------------------------------------------


def test_masks_come_first_and_the_next_step_sees_every_value(tmp_path: Path) -> None:
    # Characters that would end a naive heredoc or NAME=value line early.
    password = register_secret(
        "github password", "S'\"$x`\\ ñ <<EOF =a ghadelimiter_0 %25 %0A ::error::E"
    )
    job = GitHubJob(tmp_path, base_env(tmp_path, TWINE_AUTHENTICATE_INTERNAL_PASSWORD=password))
    first = job.step(
        [*TOOL, "--repository", "internal=https://pypi.example.com/", "--export", "uv"]
    )
    assert first.succeeded, first.log
    assert first.run.stdout.startswith(f"::add-mask::{password.replace('%', '%25')}\n")
    assert password in job.masks
    assert first.commands("error") == []
    # The only warning: its ñ, which some clients cannot send (the value is written exactly).
    (warning,) = first.commands("warning")
    assert warning.startswith("internal: the password holds non-ASCII characters")
    assert set(first.env_set) == {
        "UV_PUBLISH_URL",
        "UV_PUBLISH_USERNAME",
        "UV_PUBLISH_PASSWORD",
        "PYPIRC_PATH",
        "TWINE_AUTHENTICATE_RUN",
        "TWINE_AUTHENTICATE_EXPORTS",
    }
    assert first.env_set["TWINE_AUTHENTICATE_EXPORTS"] == (
        "UV_PUBLISH_URL UV_PUBLISH_USERNAME UV_PUBLISH_PASSWORD"
    )
    pypirc = Path(first.env_set["PYPIRC_PATH"])
    assert pypirc.is_relative_to(tmp_path / "_runner_temp" / "twineAuthenticate")

    second = job.step(
        [
            sys.executable,
            "-c",
            "import os; p = os.environ['UV_PUBLISH_PASSWORD']; "
            "open('seen', 'w', encoding='utf-8').write(p); print('the token is', p)",
        ],
        shows_secrets=True,
    )
    assert second.succeeded
    assert (tmp_path / "seen").read_text(encoding="utf-8") == password
    assert "the token is ***" in second.log, "the runner would show the secret"


def test_twine_in_the_next_step_uploads_with_what_was_exported(
    tmp_path: Path, index_server: IndexServer, distribution: list[Path], package_name: str
) -> None:
    password = index_server.users["uploader"]
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_LOCAL_USERNAME="uploader",
        TWINE_AUTHENTICATE_LOCAL_PASSWORD=password,
    )
    job = GitHubJob(tmp_path, env)
    assert job.step([*TOOL, "--repository", f"local={index_server.url}"]).succeeded
    upload = job.step(
        [
            sys.executable,
            "-m",
            "twine",
            "upload",
            "--disable-progress-bar",
            "-r",
            "local",
            "--config-file",
            job.env["PYPIRC_PATH"],
            *map(str, distribution),
        ]
    )
    assert upload.succeeded, upload.log
    assert distribution[0].name in index_server.published(package_name)


def test_a_name_that_spells_a_workflow_command_is_only_text(tmp_path: Path) -> None:
    secret = new_secret("command-name password")
    env = base_env(tmp_path, TWINE_AUTHENTICATE___ERROR__X_PASSWORD=secret)
    job = GitHubJob(tmp_path, env)
    step = job.step([*TOOL, "--repository", "::error::x=https://pypi.example.com/"])
    assert step.succeeded
    assert step.commands("error") == []
    assert any("::error::x" in line for line in step.log), "the summary should still name it"


def test_failure_is_one_error_command_and_nothing_exported(tmp_path: Path) -> None:
    job = GitHubJob(tmp_path, base_env(tmp_path))
    step = job.step([*TOOL, "--repository", "internal=https://pypi.example.com/"])
    assert step.run.returncode == 2
    (error,) = step.commands("error")
    assert "TWINE_AUTHENTICATE_INTERNAL_PASSWORD" in error
    assert step.env_set == {}
    assert not (tmp_path / "_runner_temp" / "twineAuthenticate").exists() or not any(
        (tmp_path / "_runner_temp" / "twineAuthenticate").iterdir()
    )


def test_forcing_github_without_its_env_file_is_a_clear_error(tmp_path: Path) -> None:
    env = base_env(tmp_path, TWINE_AUTHENTICATE_INTERNAL_PASSWORD=new_secret("no env file"))
    result = run_tool(["--ci", "github", "--repository", "internal=https://pypi.example.com/"], env)
    assert result.returncode == 2
    # GitHub's own failure form, so that the step's log shows it as an error annotation.
    assert result.stdout.startswith("::error::GITHUB_ENV is not set")


def test_an_unwritable_env_file_fails_and_leaves_no_credentials(tmp_path: Path) -> None:
    runner_temp = tmp_path / "runner_temp"
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_INTERNAL_PASSWORD=new_secret("unwritable env file"),
        GITHUB_ACTIONS="true",
        GITHUB_ENV=str(tmp_path),  # a directory: appending to it fails
        RUNNER_TEMP=str(runner_temp),
    )
    result = run_tool(["--repository", "internal=https://pypi.example.com/"], env)
    assert result.returncode == 1
    assert "::error::cannot append to GITHUB_ENV" in result.stdout
    assert "no variable was set" in result.stdout
    assert not list(runner_temp.glob("twineAuthenticate/*/.pypirc")), "credentials left behind"
