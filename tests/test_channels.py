"""Channel selection and the GitHub channel's escaping, one function at a time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.github_runner import parse_env_file, unescape_data
from twine_authenticate.channels import detect_ci
from twine_authenticate.channels.github_actions import env_file_block, escape_data, neutralize


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


@pytest.mark.parametrize("text", ["::error::x", "  ::warning::y", "a\n::add-mask::b"])
def test_no_log_line_can_become_a_workflow_command(text: str) -> None:
    for line in neutralize(text).split("\n"):
        assert not line.lstrip().startswith("::")


def test_plain_log_lines_are_shown_as_written() -> None:
    # The runner decodes %25 only inside commands; a URL in the summary must read as it is.
    assert neutralize("https://x.example/My%20Project/") == "https://x.example/My%20Project/"
