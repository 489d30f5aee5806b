"""Channel selection and the GitHub channel's escaping, one function at a time."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.github_runner import parse_command, parse_env_file, read_stdout, unescape_data
from twine_authenticate.channels import detect_ci
from twine_authenticate.channels.github_actions import (
    GitHubActionsChannel,
    env_file_block,
    escape_data,
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TF_BUILD": "True"}, "azure"),
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITLAB_CI": "true"}, "gitlab"),
        ({}, "shell"),
        ({"GITHUB_ACTIONS": "false"}, "shell"),
        # A GitHub job that runs an Azure agent's script is still reported to Azure first.
        ({"TF_BUILD": "True", "GITHUB_ACTIONS": "true"}, "azure"),
    ],
)
def test_the_channel_is_detected_from_the_ci_variables(env: dict[str, str], expected: str) -> None:
    assert detect_ci(env) == expected


@given(st.text())
def test_an_env_file_block_gives_back_any_value(value: str) -> None:
    # Whatever the value holds (newlines, `<<`, `=`, look-alike delimiters), the runner's
    # parser reads back exactly one variable with exactly that value.
    assert parse_env_file(env_file_block("NAME", value)) == {"NAME": value}


@given(st.text())
def test_workflow_command_data_round_trips(value: str) -> None:
    assert unescape_data(escape_data(value)) == value


HOSTILE_LINES = [
    "::error::x",
    "  ::warning::y",
    "a\n::add-mask::b",
    "user ##[set-output name=x;]y",
    "##[add-path]/tmp/evil",
    "::stop-commands::abc",
    "::set-env name=PATH::/evil",
]


@pytest.mark.parametrize("text", HOSTILE_LINES)
def test_no_summary_line_can_become_a_workflow_command(text: str) -> None:
    """Both forms the runner obeys, ``::cmd::`` and the legacy ``##[cmd]`` anywhere in a
    line, are printed between stop-commands and its resume token."""
    out = io.StringIO()
    channel = GitHubActionsChannel(out, "/dev/null")
    channel.info(f"Adding authentication for {text}")
    channel.warning("then a real warning")
    obeyed, shown = read_stdout(out.getvalue())
    assert [(command.name, command.data) for command in obeyed] == [
        ("warning", "then a real warning")
    ]
    assert f"Adding authentication for {text}".split("\n")[0] in shown


def test_the_harness_sees_what_the_runner_obeys() -> None:
    """The model itself can fail: unprotected, these lines are commands."""
    registered = {"set-output", "error", "add-path"}
    assert parse_command("user ##[set-output name=x;]y", registered) is not None
    assert parse_command("  ::error::x", registered) is not None
    assert parse_command("::unknown::x", registered) is None


def test_plain_log_lines_are_shown_as_written() -> None:
    # The runner decodes %25 only inside commands; a URL in the summary must read as it is.
    out = io.StringIO()
    GitHubActionsChannel(out, "/dev/null").info("https://x.example/My%20Project/")
    assert "https://x.example/My%20Project/" in read_stdout(out.getvalue())[1]
