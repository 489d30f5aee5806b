"""The printed code, run by real shells: every value arrives byte for byte, nothing breaks out.

bash, dash, zsh and fish run the tool the way their users do (``eval "$(...)"``, or
``... | source``) and then hand the environment to Python, which writes it to a file (never to
the log). PowerShell is not installable here, so its quoting is checked against the language's
rules for single-quoted strings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import VENV_BIN, base_env, register_secret, require_program, run, run_tool
from twine_authenticate.channels.shell import export_line, quote_fish, quote_posix, quote_pwsh

AWKWARD = [
    "S'\"$HOME`id`$(id)${PATH}\\n \\' '\\'' !! %s %% ;*? ~ & | < > # ñ é 日本 ß€ E",
    "ends with a backslash \\",
    "'",
    "\\'",
    "-n",
    "$",
]

DUMP = (
    "import json, os, sys; "
    "json.dump({k: os.environ.get(k) for k in sys.argv[2:]}, open(sys.argv[1], 'w'))"
)

SHELLS = {
    # shell name for --shell, the program, how its users consume the code
    "bash": ("bash", 'eval "$({tool})" && {dump}'),
    "sh": ("dash", 'eval "$({tool})" && {dump}'),
    "zsh": ("zsh", 'eval "$({tool})" && {dump}'),
    "fish": ("fish", "{tool} | source; and {dump}"),
}


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_shell_sees_every_value_byte_for_byte(tmp_path: Path, shell: str) -> None:
    program, template = SHELLS[shell]
    path = require_program(program)
    password = register_secret("awkward password", AWKWARD[0])
    username = "user " + " ".join(AWKWARD[1:])
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_INTERNAL_PASSWORD=password,
        TWINE_AUTHENTICATE_INTERNAL_USERNAME=username,
    )
    out = tmp_path / "seen.json"
    names = ["TWINE_USERNAME", "TWINE_PASSWORD", "TWINE_REPOSITORY_URL", "PYPIRC_PATH"]
    tool = (
        f"{VENV_BIN}/twine-authenticate --shell {shell} "
        "--repository internal=https://pypi.example.com/upload/ --export twine"
    )
    dump = f'{VENV_BIN}/python -c "{DUMP}" {out} {" ".join(names)}'
    result = run([path, "-c", template.format(tool=tool, dump=dump)], env, label=program)

    assert result.returncode == 0, result.stderr
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert seen["TWINE_PASSWORD"] == password, "the password changed on its way through"
    assert seen["TWINE_USERNAME"] == username
    assert seen["TWINE_REPOSITORY_URL"] == "https://pypi.example.com/upload/"
    assert Path(seen["PYPIRC_PATH"]).is_file()
    # Nothing ran that the values spelt: no `id` output, no expansion of $HOME.
    assert "uid=" not in result.output


def _parse_pwsh_single_quoted(code: str) -> str:
    """A single-quoted PowerShell string, by the language specification (§2.3.5.2): it opens
    and closes with any single-quote character (U+0027, U+2018, U+2019, U+201A, U+201B), and
    inside it two of them in a row stand for one; nothing else is special. Raises if anything
    follows the closing quote."""
    quotes = "'\u2018\u2019\u201a\u201b"
    assert code[0] in quotes, "must open with a quote"
    value, index = [], 1
    while True:
        char = code[index]
        if char in quotes:
            if index + 1 < len(code) and code[index + 1] in quotes:
                value.append(code[index + 1])
                index += 2
                continue
            assert index == len(code) - 1, f"the string closes early, at {index}"
            return "".join(value)
        value.append(char)
        index += 1


@given(st.text(min_size=1))
def test_pwsh_quoting_round_trips_any_text(value: str) -> None:
    assert _parse_pwsh_single_quoted(quote_pwsh(value)) == value


@pytest.mark.parametrize("value", [*AWKWARD, "it\u2019s", "\u2018quoted\u2019", "''", "$env:HOME"])
def test_pwsh_export_line_assigns_the_value(value: str) -> None:
    line = export_line("pwsh", "TWINE_PASSWORD", value)
    prefix = "$env:TWINE_PASSWORD = "
    assert line.startswith(prefix) and line.endswith(";")
    assert _parse_pwsh_single_quoted(line[len(prefix) : -1]) == value


@given(st.text(min_size=1).filter(lambda text: "\0" not in text))
def test_posix_and_fish_quotes_are_closed(value: str) -> None:
    # The real shells above check meaning; this checks shape for any text at all.
    posix = quote_posix(value)
    assert posix.startswith("'") and posix.endswith("'")
    assert posix[1:-1].replace("'\\''", "").count("'") == 0
    fish = quote_fish(value)
    body = fish[1:-1].replace("\\\\", "").replace("\\'", "")
    assert "'" not in body


FAILING = {
    "bash": ("bash", 'set -e; eval "$({tool})"; touch {after}'),
    "sh": ("dash", 'set -e; eval "$({tool})"; touch {after}'),
    "zsh": ("zsh", 'set -e; eval "$({tool})"; touch {after}'),
    "fish": ("fish", "{tool} | source; and touch {after}"),
}


@pytest.mark.parametrize("shell", sorted(FAILING))
def test_a_failed_run_stops_the_script_that_evals_it(tmp_path: Path, shell: str) -> None:
    # Without this, `eval` of empty output succeeds and the script uploads with no credentials.
    program, template = FAILING[shell]
    path = require_program(program)
    after = tmp_path / "went-on"
    tool = f"{VENV_BIN}/twine-authenticate --shell {shell} --repository x=https://x.example/"
    result = run([path, "-c", template.format(tool=tool, after=after)], base_env(tmp_path))
    assert result.returncode != 0
    assert "TWINE_AUTHENTICATE_X_PASSWORD" in result.stderr
    assert not after.exists(), f"the {program} script went on after the failure"


def test_a_failed_run_throws_in_powershell(tmp_path: Path) -> None:
    tool = ["--shell", "pwsh", "--repository", "x=https://x.example/"]
    result = run_tool(tool, base_env(tmp_path))
    assert result.returncode == 2
    # Piped into Invoke-Expression, a throw is a terminating error: the script stops there.
    assert result.stdout.startswith("throw ") and "$" not in result.stdout
