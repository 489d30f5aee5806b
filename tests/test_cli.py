"""What a newcomer meets: --help, the commands, the first run with nothing given, the hint
when the shell code is printed to a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import base_env, new_secret, run_tool
from tests.support.in_process import TerminalOutput, exported, invoke
from twine_authenticate import __version__


def test_help_is_what_a_newcomer_needs(tmp_path: Path) -> None:
    result = invoke(["--help"], base_env(tmp_path))
    assert result.returncode == 0
    text = result.stdout
    for section in ("sources", "output:", "network:", "channel:", "commands:", "exit status:"):
        assert section in text
    assert "cleanup" in text  # the subcommand is visible
    assert 'eval "$(twine-authenticate --repository' in text
    assert "| source" in text  # fish
    # The real <KEY> rule, with an example a user can check their variable name against.
    flat = " ".join(text.split())
    assert "every character outside A-Z and 0-9 turned into _" in flat
    assert "TWINE_AUTHENTICATE_MY_INDEX_DEV_PASSWORD" in flat
    assert "70 internal error" in text


def test_version_goes_to_the_given_stdout(tmp_path: Path) -> None:
    result = invoke(["--version"], base_env(tmp_path))
    assert (result.returncode, result.stdout.strip()) == (0, f"twine-authenticate {__version__}")


@pytest.mark.parametrize(
    "argv", [["cleanup"], ["--ci", "shell", "cleanup"], ["cleanup", "--ci", "shell"]]
)
def test_cleanup_is_a_subcommand_accepted_after_global_flags(
    tmp_path: Path, argv: list[str]
) -> None:
    env = base_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("cleanup test"))
    first = invoke(["--repository", "idx=https://idx.example/"], env)
    pypirc = exported(first)["PYPIRC_PATH"]
    assert Path(pypirc).is_file()
    result = invoke(argv, {**env, **exported(first)})
    assert result.returncode == 0, result.output
    assert f"Removed the credentials file {pypirc}" in result.stderr
    assert not Path(pypirc).exists()


def test_no_arguments_outside_ci_says_how_to_start(tmp_path: Path) -> None:
    result = invoke([], base_env(tmp_path))
    assert result.returncode == 2
    assert result.stdout == "false\n"
    assert "export TWINE_AUTHENTICATE_MYINDEX_PASSWORD=" in result.stderr
    assert 'eval "$(twine-authenticate --repository myindex=' in result.stderr


def test_no_inputs_in_an_azure_task_names_the_task_inputs(tmp_path: Path) -> None:
    result = invoke([], base_env(tmp_path, TF_BUILD="True", AGENT_TEMPDIRECTORY=str(tmp_path)))
    assert result.returncode == 2
    assert "artifactFeed and pythonUploadServiceConnection inputs are empty" in result.stdout


def test_shell_code_printed_to_a_terminal_says_it_is_meant_for_eval(tmp_path: Path) -> None:
    env = base_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("terminal test"))
    result = invoke(["--repository", "idx=https://idx.example/"], env, stdout=TerminalOutput())
    assert result.returncode == 0
    assert 'run `eval "$(twine-authenticate ...)"` to apply them' in result.stderr
    fish = invoke(
        ["--shell", "fish", "--repository", "idx=https://idx.example/"],
        env,
        stdout=TerminalOutput(),
    )
    assert "twine-authenticate ... | source" in fish.stderr


def test_no_hint_when_the_output_is_captured_by_eval(tmp_path: Path) -> None:
    env = base_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("captured test"))
    result = run_tool(["--repository", "idx=https://idx.example/"], env)
    assert result.returncode == 0
    assert "meant for" not in result.stderr and "to apply them" not in result.stderr


def test_a_misspelt_flag_gets_a_suggestion(tmp_path: Path) -> None:
    result = invoke(["--repositroy", "idx=https://idx.example/"], base_env(tmp_path))
    assert "unrecognized arguments: --repositroy (did you mean --repository?)" in result.stderr


@pytest.mark.parametrize("ci", ["github", "azure", "shell"])
def test_variables_a_ci_can_only_empty_are_named_with_what_to_do(tmp_path: Path, ci: str) -> None:
    """GitHub and Azure cannot remove a variable: the emptied ones are named, since twine
    takes an empty TWINE_PASSWORD as given. A shell unsets them, which needs no word."""
    (tmp_path / "github_env").write_text("")
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("emptied"),
        TWINE_AUTHENTICATE_EXPORTS="TWINE_USERNAME TWINE_PASSWORD",
        GITHUB_ENV=str(tmp_path / "github_env"),
        RUNNER_TEMP=str(tmp_path),
        AGENT_TEMPDIRECTORY=str(tmp_path),
    )
    result = invoke(["--ci", ci, "--repository", "idx=https://idx.example/"], env)
    assert result.returncode == 0, result.output
    warned = "TWINE_USERNAME, TWINE_PASSWORD, exported by an earlier run, are now empty"
    assert (warned in result.output) is (ci != "shell")
