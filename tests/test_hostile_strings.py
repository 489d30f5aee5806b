"""Hostile text in every input that reaches an output (user names, URL paths and queries,
passwords, repository names the validation accepts) through every channel: the runner or the
shell must see exactly the commands and variables the tool meant, with exactly their values.

- GitHub: stdout read as the runner reads it (tests/github_runner.read_stdout) and $GITHUB_ENV
  as it parses it: only the masks, debug lines and warnings the run meant are obeyed.
- Azure: stdout read as strictly as the real agent reads it (tests/support/attacks.
  agent_commands: ``##vso[`` anywhere in a line, ``%3B`` and ``%5D`` decoded in data).
- Shells and GitLab: the code is evaluated by the real shell, and a child process (``env -0``:
  byte-exact, and quick enough for a property test) reports the environment it received.

What the run meant (its masks, debug lines and warnings) comes from the library's own
``authenticate`` with a recording reporter; the values come from the test's own inputs. The
``.pypirc`` is read back with twine's own reader.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from twine.utils import get_config

from tests.github_runner import parse_env_file, read_stdout
from tests.leaks import Recorded
from tests.pipeline import parse_commands
from tests.support import RECORDED, base_env, register_secret, require_program
from tests.support.attacks import (
    agent_commands,
    differences,
    invoke_shell_code,
    leak_checked_per_example,
    sequence_differences,
)
from tests.support.in_process import invoke
from twine_authenticate.cli import main
from twine_authenticate.commands.authenticate import Authenticated, authenticate
from twine_authenticate.settings import Options
from twine_authenticate.sources.repository_flag import password_variable, username_variable

HOSTILE = [
    "##[set-output name=x;]y",
    "::error::x",
    "##vso[task.setvariable variable=X]y",
    "##vso[task.complete result=Failed;]",
    "::add-mask::",
    "::stop-commands::x",
    "::x::",
    "%0A",
    "%0D",
    "%AZP25",
    "%25",
    "%3B",
    "%5D",
    "%",
    "]",
    "[",
    ";",
    "'",
    '"',
    "'\\''",
    "\\",
    "$(id)",
    "`id`",
    "${PATH}",
    "$HOME",
    "<<EOF",
    "ghadelimiter_0",
    "=",
    "!!",
    "*",
    "#",
    "&",
    "|",
    "ñ",
    "日本",
    "€",
    "\U0001d11e",
    "é",
    "-n",
]
# What validation refuses in any value: control, format, surrogate, private, unassigned and
# line-breaking characters (plus, for URLs and names, whitespace).
TEXT = st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"])
WORD = st.characters(exclude_categories=["Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"])


def _joined(characters: st.SearchStrategy[str], pieces: list[str]) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(pieces), st.text(characters, min_size=1, max_size=4))
    return st.lists(piece, min_size=1, max_size=5).map("".join)


URL_PIECES = [piece for piece in HOSTILE if not any(char.isspace() for char in piece)]
NAME_PIECES = [piece for piece in URL_PIECES if not set(piece) & set("[]=")]


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    username: str
    password_core: str  # the password is this and a random suffix (unique, for the leak check)
    export: bool


def _name_ok(name: str) -> bool:
    return name.lower() not in ("distutils", "server-login") and not set(name) & set("[]=")


CASES = st.builds(
    Case,
    name=_joined(WORD, NAME_PIECES).filter(_name_ok),
    url=st.builds(
        lambda scheme, path, query: (
            f"{scheme}://pypi.example.com/{path}" + ("" if query is None else f"?{query}")
        ),
        st.sampled_from(["https", "http"]),
        _joined(WORD, URL_PIECES),
        st.none() | _joined(WORD, URL_PIECES),
    ),
    username=_joined(TEXT, HOSTILE).map(str.strip).filter(bool),
    password_core=_joined(TEXT, HOSTILE).map(str.strip),
    export=st.booleans(),
)
NAMED = [
    Case(
        "::error::x",
        "https://pypi.example.com/%0A/%AZP25/]/;/?q=$(id)&r=`id`",
        "##[set-output name=x;]y",
        "##vso[task.setvariable variable=X]y",
        True,
    ),
    Case(
        "$(id)",
        "https://pypi.example.com/'\"/日本?a=%25&b=%0D&c=%3B%5D",
        "'; touch pwned; echo '",
        "%0A%AZP25]; `id` \"'\\",
        True,
    ),
    Case("-n", "http://pypi.example.com/::add-mask::x#frag", "::stop-commands::abc", "é€", True),
    Case(
        "##vso",
        "http://pypi.example.com/##vso[task.complete]x?##[error]y",
        "x ##vso[task.setvariable variable=PATH]/evil",
        "##[error]",
        False,
    ),
    Case("ñ`id`;", "https://pypi.example.com/<<EOF", "ghadelimiter_0 =x", "<<EOF", False),
    # A whole line equal to a heredoc delimiter someone might pick.
    Case("EOF", "https://pypi.example.com/EOF", "EOF", "EOF", True),
]


Test = TypeVar("Test", bound=Callable[..., None])


def with_named_examples(test: Test) -> Test:
    """The hostile samples above, run every time, before the generated ones."""
    for case in reversed(NAMED):
        test = example(case=case)(test)
    return test


# --- one run, and what it meant -------------------------------------------------------------


@dataclass
class Prepared:
    case: Case
    password: str
    env: dict[str, str]
    argv: list[str]
    directory: Path


def prepare(case: Case, tmp: Path, **extra: str) -> Prepared:
    directory = tmp / secrets.token_hex(6)
    directory.mkdir()
    password = register_secret(
        f"hostile password {directory.name}", f"{case.password_core}{secrets.token_hex(8)}"
    )
    env = base_env(directory, **extra)
    env[password_variable(case.name)] = password
    env[username_variable(case.name)] = case.username
    argv = [f"--repository={case.name}={case.url}", f"--pyproject={directory / 'none.toml'}"]
    if case.export:
        argv += ["--export", "twine"]
    return Prepared(case, password, env, argv, directory)


class RecordingReporter:
    def __init__(self) -> None:
        self.masks: list[str] = []
        self.debugs: list[str] = []

    def mask(self, secrets: Iterable[str]) -> None:
        self.masks += [secret for secret in secrets if secret]

    def debug(self, message: str) -> None:
        self.debugs.append(message)


def meant(prepared: Prepared, **env: str) -> tuple[RecordingReporter, Authenticated]:
    """What the run means to announce, from the library (in a directory of its own)."""
    other = prepared.directory / "model"
    other.mkdir()
    reporter = RecordingReporter()
    options = Options(
        repositories=(f"{prepared.case.name}={prepared.case.url}",),
        exports=("twine",) if prepared.case.export else (),
        pyproject=str(prepared.directory / "none.toml"),
    )
    model_env = {**prepared.env, "TMPDIR": str(other), **env}
    outcome = authenticate(options, model_env, reporter=reporter)
    assert reporter.masks == [prepared.password], "the run must mask exactly the password"
    return reporter, outcome


def intended_variables(prepared: Prepared, run_id: str, root: Path) -> dict[str, str]:
    case = prepared.case
    variables = {}
    if case.export:
        variables = {
            "TWINE_REPOSITORY_URL": case.url,
            "TWINE_USERNAME": case.username,
            "TWINE_PASSWORD": prepared.password,
        }
    return {
        **variables,
        "TWINE_AUTHENTICATE_EXPORTS": " ".join(variables),
        "TWINE_AUTHENTICATE_RUN": run_id,
        "PYPIRC_PATH": str(root / run_id / ".pypirc"),
    }


def assert_pypirc_reads_back(prepared: Prepared, path: str) -> None:
    case = prepared.case
    section = {key: str(value) for key, value in get_config(path)[case.name].items()}
    expected = {"repository": case.url, "username": case.username, "password": prepared.password}
    assert differences(section, expected) == [], "twine reads back other values"


def warnings_meant(outcome: Authenticated) -> list[str]:
    return [*outcome.warnings, *(w for export in outcome.exports for w in export.warnings)]


def run_id_of(variables: dict[str, str]) -> str:
    run_id = variables.get("TWINE_AUTHENTICATE_RUN", "")
    assert re.fullmatch(r"[0-9a-f]{32}", run_id), "no run id was exported"
    return run_id


# No shrinking: a failing example is reported as found. Shrinking one through real shells (or
# through thousands of runs in process) takes minutes; the examples are short already.
PROPERTY = settings(
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SHELL_PROPERTY = settings(PROPERTY, max_examples=40)


# --- GitHub Actions -------------------------------------------------------------------------


@PROPERTY
@given(case=CASES)
@with_named_examples
@leak_checked_per_example
def test_github_runner_sees_exactly_the_intended_commands_and_variables(
    tmp_path: Path, case: Case
) -> None:
    prepared = prepare(case, tmp_path)
    runner = prepared.directory / "runner"
    runner.mkdir()
    (runner / "env").write_text("")
    prepared.env.update(
        GITHUB_ACTIONS="true", GITHUB_ENV=str(runner / "env"), RUNNER_TEMP=str(runner)
    )
    reporter, outcome = meant(prepared, RUNNER_TEMP=str(prepared.directory / "model"))

    result = invoke(prepared.argv, prepared.env)

    assert result.returncode == 0, result.output
    obeyed, _ = read_stdout(result.stdout)
    intended_commands = [
        *(("add-mask", secret) for secret in dict.fromkeys(reporter.masks)),
        *(("debug", message) for message in reporter.debugs),
        *(("warning", warning) for warning in warnings_meant(outcome)),
    ]
    obeyed_commands = [(command.name, command.data) for command in obeyed]
    assert sequence_differences(obeyed_commands, intended_commands) == []
    variables = parse_env_file((runner / "env").read_text(encoding="utf-8"))
    root = runner / "twineAuthenticate"
    assert differences(variables, intended_variables(prepared, run_id_of(variables), root)) == []
    assert_pypirc_reads_back(prepared, variables["PYPIRC_PATH"])


# --- Azure Pipelines ------------------------------------------------------------------------


@PROPERTY
@given(case=CASES)
@with_named_examples
@leak_checked_per_example
def test_azure_agent_sees_exactly_the_intended_commands_and_variables(
    tmp_path: Path, case: Case
) -> None:
    prepared = prepare(case, tmp_path, TF_BUILD="True")
    agent = prepared.directory / "agent"
    agent.mkdir()
    prepared.env["AGENT_TEMPDIRECTORY"] = str(agent)
    reporter, outcome = meant(prepared, AGENT_TEMPDIRECTORY=str(prepared.directory / "model"))

    result = invoke(prepared.argv, prepared.env)

    assert result.returncode == 0, result.output
    commands, shown = agent_commands(result.stdout)
    setvariables = [c for c in commands if c.name == "task.setvariable"]
    variables = {c.properties["variable"]: c.data for c in setvariables}
    secret_names = {
        c.properties["variable"] for c in setvariables if c.properties["issecret"] == "true"
    }
    intended = intended_variables(prepared, run_id_of(variables), agent / "twineAuthenticate")
    obeyed = [(c.name, c.properties, c.data) for c in commands]
    assert (
        sequence_differences(
            obeyed,
            [
                *(("task.setsecret", {}, secret) for secret in dict.fromkeys(reporter.masks)),
                *(
                    ("task.issue", {"type": "warning"}, warning)
                    for warning in warnings_meant(outcome)
                ),
                *(
                    (
                        "task.setvariable",
                        {
                            "variable": name,
                            "isoutput": "false",
                            "issecret": str(name == "TWINE_PASSWORD").lower(),
                        },
                        value,
                    )
                    for name, value in intended.items()
                ),
            ],
        )
        == []
    )
    assert secret_names == ({"TWINE_PASSWORD"} if case.export else set())
    assert not any(line.startswith("##[") for line in shown), "a log formatting command"
    # The repository's own harness reads the same.
    harness = {
        c.properties["variable"]: c.data
        for c in parse_commands(result.stdout)
        if c.name == "task.setvariable"
    }
    assert differences(harness, intended) == []
    assert_pypirc_reads_back(prepared, variables["PYPIRC_PATH"])


# --- shells and GitLab, for real --------------------------------------------------------------


@dataclass(frozen=True)
class ShellRun:
    program: str
    flag: str
    script: str  # $1: the code file, $2: where the child writes its environment


POSIX_SCRIPT = 'eval "$(cat "$1")" && exec env -0 > "$2"'
SHELL_RUNS = {
    "sh": ShellRun("dash", "sh", POSIX_SCRIPT),
    "bash": ShellRun("bash", "bash", POSIX_SCRIPT),
    "gitlab": ShellRun("dash", "sh", POSIX_SCRIPT),
    # Not `; and`: fish's status after the code is wrong in one known case (a stale name that
    # is no longer set; see test_never_stack's fish test); here only the environment counts.
    "fish": ShellRun("fish", "fish", "cat $argv[1] | source; env -0 > $argv[2]"),
}
_NOISE: dict[tuple[str, str], tuple[dict[str, str], set[str]]] = {}


def child_environment(
    shell: ShellRun, code: str, env: dict[str, str], where: Path
) -> dict[str, str]:
    """The environment a child of the shell gets after the shell applied ``code``."""
    program = require_program(shell.program)
    (where / "code").write_text(code, encoding="utf-8")
    argv = [program, "-c", shell.script]
    if shell.program != "fish":
        argv.append(shell.program)  # $0
    completed = subprocess.run(
        [*argv, str(where / "code"), str(where / "env")],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    RECORDED.append(Recorded(f"{shell.program} applying the code", stderr))
    assert completed.returncode == 0, stderr
    entries = (where / "env").read_bytes().split(b"\0")
    pairs = (entry.decode("utf-8", "surrogateescape").partition("=") for entry in entries if entry)
    return {name: value for name, _, value in pairs}


def shell_noise(
    shell: ShellRun, env: dict[str, str], where: Path
) -> tuple[dict[str, str], set[str]]:
    """What the shell itself adds to or takes from its children's environment (PWD, SHLVL, _),
    found once by applying no code at all."""
    key = (shell.program, str(where))
    if key not in _NOISE:
        where.mkdir(exist_ok=True)
        child = child_environment(shell, "", env, where)
        added = {name: value for name, value in child.items() if env.get(name) != value}
        _NOISE[key] = (added, set(env) - set(child))
    return _NOISE[key]


@pytest.mark.parametrize("channel", sorted(SHELL_RUNS))
@SHELL_PROPERTY
@given(case=CASES)
@with_named_examples
@leak_checked_per_example
def test_a_real_shell_gets_exactly_the_intended_environment(
    tmp_path: Path, channel: str, case: Case
) -> None:
    shell = SHELL_RUNS[channel]
    extra = {"GITLAB_CI": "true"} if channel == "gitlab" else {}
    prepared = prepare(case, tmp_path, **extra)
    # An earlier run's exports, some of them still set: the new run must take them away.
    prepared.env.update(
        UV_PUBLISH_PASSWORD="stale", TWINE_AUTHENTICATE_EXPORTS="UV_PUBLISH_PASSWORD UV_PUBLISH_URL"
    )
    stale = {"UV_PUBLISH_PASSWORD", "UV_PUBLISH_URL"}
    base = {
        key: value
        for key, value in prepared.env.items()
        if not key.startswith("TWINE_AUTHENTICATE_")
    }
    added, removed = shell_noise(
        shell, {**base, "UV_PUBLISH_PASSWORD": "stale"}, tmp_path / f"noise-{channel}"
    )

    result = invoke_shell_code([*prepared.argv, "--shell", shell.flag], prepared.env)

    assert result.returncode == 0, result.stderr
    child = child_environment(shell, result.stdout, prepared.env, prepared.directory)
    root = Path(prepared.env["TMPDIR"]) / f"twineAuthenticate-{os.getuid()}"
    intended = intended_variables(prepared, run_id_of(child), root)
    expected = {
        **{k: v for k, v in prepared.env.items() if k not in removed and k not in stale},
        **added,
        **intended,
    }
    assert differences(child, expected) == [], "the shell's environment is not the intended one"
    assert_pypirc_reads_back(prepared, child["PYPIRC_PATH"])


# --- masks of derived secrets, and the agent's DECODE_PERCENTS=false --------------------------


def _proxy_case(tmp_path: Path, core: str, **extra: str) -> tuple[Prepared, str, str]:
    prepared = prepare(
        Case("idx", "https://pypi.example.com/", "me", "token", False), tmp_path, **extra
    )
    raw = register_secret("proxy password", f"p{secrets.token_hex(6)}{core}")
    encoded = quote(raw, safe="")
    prepared.env["HTTPS_PROXY"] = f"http://proxy-user:{raw}@proxy.example:3128"
    prepared.argv.append("--export-proxy")
    return prepared, raw, encoded


@pytest.mark.parametrize("ci", ["github", "azure"])
def test_a_proxy_password_is_masked_raw_and_encoded_before_anything_else(
    tmp_path: Path, ci: str
) -> None:
    """An HTTPS_PROXY password with an unencoded '/' (and ':', '@') and a '%' that starts no
    escape: both the password and the form it takes inside the exported proxy URL are
    registered before any other line, and the exported URL carries it exactly."""
    extra = {"TF_BUILD": "True"} if ci == "azure" else {"GITHUB_ACTIONS": "true"}
    prepared, raw, encoded = _proxy_case(tmp_path, "/ss%zz:w@rd", **extra)
    (prepared.directory / "env").write_text("")
    prepared.env.update(GITHUB_ENV=str(prepared.directory / "env"))

    result = invoke(prepared.argv, prepared.env)

    assert result.returncode == 0, result.output
    lines = result.stdout.splitlines()
    if ci == "github":
        prefix, escape = "::add-mask::", {"%": "%25"}
        exported = parse_env_file((prepared.directory / "env").read_text())["HTTPS_PROXY"]
    else:
        prefix, escape = "##vso[task.setsecret]", {"%": "%AZP25"}
        commands, _ = agent_commands(result.stdout)
        exported = next(c.data for c in commands if c.properties.get("variable") == "HTTPS_PROXY")
    leading = [
        line.removeprefix(prefix) for line in takewhile(lambda x: x.startswith(prefix), lines)
    ]
    assert sum(line.startswith(prefix) for line in lines) == len(leading), "a mask came late"
    forms = {"as typed": raw, "URL-encoded": encoded}
    unmasked = [
        what for what, form in forms.items() if form.replace("%", escape["%"]) not in leading
    ]
    assert unmasked == [], "not masked before anything else"
    assert exported == f"http://proxy-user:{encoded}@proxy.example:3128", "another proxy URL"


def test_decode_percents_false_registers_a_secret_with_percent_raw(tmp_path: Path) -> None:
    prepared = prepare(
        Case("idx", "https://pypi.example.com/", "me", "100%AZP25%25%zz%", True),
        tmp_path,
        TF_BUILD="True",
        DECODE_PERCENTS="false",
    )

    result = invoke(prepared.argv, prepared.env)

    assert result.returncode == 0, result.output
    first = result.stdout.splitlines()[0]
    assert first == f"##vso[task.setsecret]{prepared.password}", "not registered in raw form"
    commands, _ = agent_commands(result.stdout, decode_percents=False)
    received = {c.properties.get("variable", c.name): c.data for c in commands}
    expected = {"task.setsecret": prepared.password, "TWINE_PASSWORD": prepared.password}
    assert differences({name: received[name] for name in expected}, expected) == []


@pytest.mark.parametrize(
    "where", ["password %3B", "password %5D", "proxy password ;", "proxy password ]"]
)
def test_decode_percents_false_never_changes_a_value(tmp_path: Path, where: str) -> None:
    """Each value either reaches the agent exactly or the run refuses it, as it refuses %0A."""
    what, _, text = where.rpartition(" ")
    if what == "password":
        prepared = prepare(
            Case("idx", "https://pypi.example.com/", "me", f"a{text}b", True),
            tmp_path,
            TF_BUILD="True",
            DECODE_PERCENTS="false",
        )
        sent = {"TWINE_PASSWORD": prepared.password}
        masks = [prepared.password]
    else:
        prepared, raw, encoded = _proxy_case(
            tmp_path, text, TF_BUILD="True", DECODE_PERCENTS="false"
        )
        sent = {"HTTPS_PROXY": f"http://proxy-user:{encoded}@proxy.example:3128"}
        masks = [prepared.password, raw, encoded]

    result = invoke(prepared.argv, prepared.env)

    if result.returncode == 2:
        assert "cannot be passed on exactly" in result.stdout
        return
    assert result.returncode == 0, result.output
    commands, _ = agent_commands(result.stdout, decode_percents=False)
    registered = [(c.name, c.data) for c in commands if c.name == "task.setsecret"]
    assert sequence_differences(registered, [("task.setsecret", mask) for mask in masks]) == []
    received = {c.properties["variable"]: c.data for c in commands if c.name == "task.setvariable"}
    assert differences({name: received[name] for name in sent}, sent) == []


# --- a stdout that cannot encode a value ----------------------------------------------------


@pytest.mark.parametrize("ci", ["sh", "gitlab", "github", "azure"])
@pytest.mark.parametrize("holder", ["password", "username"])
def test_a_stdout_that_cannot_encode_a_value_never_shows_part_of_it(
    tmp_path: Path, ci: str, holder: str
) -> None:
    """A Windows step's stdout in cp1252 and a value with a character it lacks: a clear
    failure, no traceback, no part of a secret printed, nothing left behind; except on
    GitHub for a user name, which goes through $GITHUB_ENV (UTF-8) and arrives exactly."""
    halves = (secrets.token_hex(6), secrets.token_hex(6))
    value = f"{halves[0]}日{halves[1]}"
    case = Case(
        "idx", "https://pypi.example.com/", value if holder == "username" else "me", "", True
    )
    prepared = prepare(case, tmp_path)
    if holder == "password":
        prepared.env[password_variable("idx")] = register_secret("cp1252 password", value)
        prepared.password = value
    runner = prepared.directory / "runner"
    runner.mkdir()
    (runner / "env").write_text("")
    prepared.env.update(
        {
            "sh": {},
            "gitlab": {"GITLAB_CI": "true"},
            "github": {
                "GITHUB_ACTIONS": "true",
                "GITHUB_ENV": str(runner / "env"),
                "RUNNER_TEMP": str(runner),
            },
            "azure": {"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": str(runner)},
        }[ci]
    )
    raw = io.BytesIO()
    stdout = io.TextIOWrapper(raw, encoding="cp1252", newline="\n", write_through=True)
    stderr = io.StringIO()

    code = main(prepared.argv, env=prepared.env, stdout=stdout, stderr=stderr)
    printed = raw.getvalue().decode("cp1252")
    RECORDED.append(Recorded("cp1252 stdout", printed))
    RECORDED.append(Recorded("cp1252 stderr", stderr.getvalue()))
    output = printed + stderr.getvalue()

    assert "Traceback" not in output
    if holder == "password":
        assert not any(half in output for half in halves), "part of the secret was printed"
    pypircs = [*runner.rglob(".pypirc"), *Path(prepared.env["TMPDIR"]).rglob(".pypirc")]
    if ci == "github" and holder == "username":
        assert code == 0, output
        variables = parse_env_file((runner / "env").read_text(encoding="utf-8"))
        assert variables["TWINE_USERNAME"] == value, "another user name"
        assert_pypirc_reads_back(prepared, variables["PYPIRC_PATH"])
        return
    assert code == 2, output
    assert "cannot represent" in output and "PYTHONUTF8=1" in output
    setting = ("export ", "set -gx ", "##vso[task.setvariable")
    assert [line for line in printed.splitlines() if line.startswith(setting)] == [], (
        "part of the variables was delivered"
    )
    assert pypircs == [], "credentials were left behind"
    assert (runner / "env").read_text() == "", "a variable reached the later steps"


# --- the models themselves ------------------------------------------------------------------


def test_the_strict_agent_model_obeys_what_the_agent_obeys() -> None:
    """The model can fail: ``##vso[`` in the middle of a line is a command, and ``%3B``/``%5D``
    are decoded in data, with or without DECODE_PERCENTS."""
    text = "user ##vso[task.setvariable variable=X;issecret=true]a%3Bb%5D%AZP25\nplain\n##vso[x]y\n"
    commands, shown = agent_commands(text)
    assert [(c.name, c.properties, c.data) for c in commands] == [
        ("task.setvariable", {"variable": "X", "issecret": "true"}, "a;b]%")
    ]
    assert shown == ["plain", "##vso[x]y"]
    (raw,), _ = agent_commands("##vso[task.setsecret]a%3B%AZP25", decode_percents=False)
    assert raw.data == "a;%AZP25"
    # The repository's own harness is laxer: it misses a command in mid-line.
    assert "task.setvariable" not in [command.name for command in parse_commands(text)]


def test_comparisons_name_what_differs_never_the_value() -> None:
    assert differences({"A": "x", "B": "y"}, {"A": "z", "C": "w"}) == [
        "missing C",
        "unexpected B",
        "A has another value",
    ]
    assert sequence_differences([("a", "1"), ("b", "2")], [("a", "3")]) == [
        "#0: a with another value",
        "#1: b where - was meant",
    ]
