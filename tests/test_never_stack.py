"""Credentials never stack: what an earlier run exported for a client (``--export``) is taken
away by the next run that does not export it, by ``cleanup``, and by a run that fails, in every
channel: real shells that eval the output, the GitHub runner (which can only empty a variable),
and the Azure agent (likewise). A real twine in a later GitHub step shows what that means for
an upload: the earlier index and its token are never used.
"""

from __future__ import annotations

import base64
import http.client
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.github_runner import GitHubJob, parse_env_file
from tests.support import (
    TOOL,
    VENV_BIN,
    IndexServer,
    base_env,
    new_secret,
    require_program,
    run,
)
from tests.support.attacks import agent_commands, differences, invoke_shell_code
from tests.support.azure import AzureJobs

TWINE_VARIABLES = ("TWINE_REPOSITORY_URL", "TWINE_USERNAME", "TWINE_PASSWORD")
WATCHED = (*TWINE_VARIABLES, "PYPIRC_PATH", "TWINE_AUTHENTICATE_RUN", "TWINE_AUTHENTICATE_EXPORTS")
URL_A = "https://a.example/upload/"
URL_B = "https://b.example/upload/"

# What a child process (twine, say) gets: the values, or null for a variable not exported.
DUMP = (
    "import json, os, sys; "
    "json.dump({k: os.environ.get(k) for k in sys.argv[2:]}, open(sys.argv[1], 'w'))"
)


@dataclass(frozen=True)
class Shell:
    program: str
    flag: str  # --shell
    prelude: str  # tool and dump as functions, in the shell's syntax
    apply: str  # apply the tool's output; {args}; fails the script as the shell's users do


# The shell's own view too (a variable gone from the shell, not only unexported): ${X+set}
# says whether X is set, never what it holds.
POSIX_PRELUDE = (
    'tool() {{ "{bin}/twine-authenticate" --shell {flag} "$@"; }}\n'
    "dump() {{\n"
    '  "{python}" -I -S -c "$DUMP" "$1" {names}\n'
    '  {{ {posix_view} }} > "$1.shell"\n'
    "}}\n"
)
FISH_PRELUDE = (
    "function tool; {bin}/twine-authenticate --shell fish $argv; end\n"
    "function dump\n"
    "  {python} -I -S -c $DUMP $argv[1] {names}\n"
    '  for name in {twine}; if set -q $name; echo "$name=set"; else; echo "$name="; end; end'
    " > $argv[1].shell\n"
    "end\n"
)
SHELLS = {
    "bash": Shell("bash", "bash", POSIX_PRELUDE, 'eval "$(tool {args})"'),
    "dash": Shell("dash", "sh", POSIX_PRELUDE, 'eval "$(tool {args})"'),
    "fish": Shell("fish", "fish", FISH_PRELUDE, "tool {args} | source"),
}


def script(shell: Shell, body: str) -> str:
    prelude = shell.prelude.format(
        bin=VENV_BIN,
        flag=shell.flag,
        python=sys.executable,
        names=" ".join(WATCHED),
        twine=" ".join(TWINE_VARIABLES),
        posix_view=" ".join(
            f"printf '{name}=%s\\n' \"${{{name}+set}}\";" for name in TWINE_VARIABLES
        ),
    )
    return prelude + body


def apply(shell: Shell, args: str, on_failure: str) -> str:
    """One line: apply the tool's output; ``on_failure`` when that fails."""
    line = shell.apply.format(args=args)
    if shell.program == "fish":
        return f"{line}; or begin; {on_failure}; end\n"
    return f"{line} || {{ {on_failure}; }}\n"


def seen(path: Path) -> tuple[dict[str, str | None], dict[str, bool]]:
    """What a child process saw, and which twine variables the shell itself still had."""
    values = json.loads(path.read_text(encoding="utf-8"))
    lines = Path(f"{path}.shell").read_text(encoding="utf-8").splitlines()
    return values, {line.partition("=")[0]: line.endswith("=set") for line in lines}


def shell_env(tmp_path: Path, token_a: str, token_b: str | None = None) -> dict[str, str]:
    env = base_env(
        tmp_path,
        DUMP=DUMP,
        OUT=str(tmp_path),
        TWINE_AUTHENTICATE_A_USERNAME="user-a",
        TWINE_AUTHENTICATE_A_PASSWORD=token_a,
    )
    if token_b is not None:
        env["TWINE_AUTHENTICATE_B_PASSWORD"] = token_b
    return env


@pytest.mark.parametrize("name", sorted(SHELLS))
def test_later_runs_and_cleanup_take_away_earlier_exports_in_a_real_shell(
    tmp_path: Path, name: str
) -> None:
    shell = SHELLS[name]
    program = require_program(shell.program)
    token_a, token_b = new_secret("shell token A"), new_secret("shell token B")
    body = (
        apply(shell, f"--repository a={URL_A} --export twine", "exit 11")
        + "dump $OUT/exported.json\n"
        + apply(shell, "cleanup", "exit 12")
        + "dump $OUT/cleaned.json\n"
        + apply(shell, f"--repository a={URL_A} --export twine", "exit 13")
        + apply(shell, f"--repository b={URL_B}", "exit 14")
        + "dump $OUT/second.json\n"
    )
    result = run([program, "-c", script(shell, body)], shell_env(tmp_path, token_a, token_b))
    assert result.returncode == 0, result.stderr

    exported, in_shell = seen(tmp_path / "exported.json")
    exported_a = {
        "TWINE_REPOSITORY_URL": URL_A,
        "TWINE_USERNAME": "user-a",
        "TWINE_PASSWORD": token_a,
    }
    assert differences({key: exported[key] or "" for key in TWINE_VARIABLES}, exported_a) == []
    assert all(in_shell.values())
    cleaned, in_shell = seen(tmp_path / "cleaned.json")
    assert [cleaned[key] for key in TWINE_VARIABLES] == [None, None, None], "cleanup left them"
    assert not any(in_shell.values()), "cleanup unexported them but the shell still has them"
    assert exported["PYPIRC_PATH"] and not Path(exported["PYPIRC_PATH"]).exists()

    second, in_shell = seen(tmp_path / "second.json")
    assert [second[key] for key in TWINE_VARIABLES] == [None, None, None], "A's token stacked"
    assert not any(in_shell.values())
    pypirc = Path(second["PYPIRC_PATH"] or "")
    assert pypirc.is_file() and "[b]" in pypirc.read_text() and "[a]" not in pypirc.read_text()
    assert second["TWINE_AUTHENTICATE_EXPORTS"] == ""
    assert len(list(pypirc.parent.parent.iterdir())) == 1, "run 1's directory is still there"


@pytest.mark.parametrize("name", sorted(SHELLS))
def test_a_failed_run_takes_away_earlier_exports_and_stops_the_script(
    tmp_path: Path, name: str
) -> None:
    shell = SHELLS[name]
    program = require_program(shell.program)
    token_a = new_secret("failing shell token A")
    if shell.program == "fish":
        body = (
            apply(shell, f"--repository a={URL_A} --export twine", "exit 11")
            + "dump $OUT/before.json\n"
            + apply(shell, f"--repository b={URL_B}", "dump $OUT/after.json; exit 1")
            + "touch $OUT/went-on\n"
        )
    else:  # as a CI script runs: set -e, so a failed eval stops it
        body = (
            "set -e\n"
            + apply(shell, f"--repository a={URL_A} --export twine", "exit 11")
            + 'dump "$OUT/before.json"\n'
            + "trap 'dump \"$OUT/after.json\"' EXIT\n"
            + f'eval "$(tool --repository b={URL_B})"\n'
            + 'touch "$OUT/went-on"\n'
        )
    # No TWINE_AUTHENTICATE_B_PASSWORD: the second run fails.
    result = run([program, "-c", script(shell, body)], shell_env(tmp_path, token_a))

    assert result.returncode not in (0, 11), result.stderr
    assert "TWINE_AUTHENTICATE_B_PASSWORD" in result.stderr
    assert not (tmp_path / "went-on").exists(), "the script went on after the failed run"
    before, _ = seen(tmp_path / "before.json")
    assert differences({"A": before["TWINE_PASSWORD"] or ""}, {"A": token_a}) == []
    after, in_shell = seen(tmp_path / "after.json")
    assert [after[key] for key in TWINE_VARIABLES] == [None, None, None], "A's token survived"
    assert not any(in_shell.values())
    assert not Path(before["PYPIRC_PATH"] or "").exists(), "the earlier run's file survived"


def test_fish_sees_success_after_cleanup_took_the_exports_away(tmp_path: Path) -> None:
    shell = SHELLS["fish"]
    program = require_program(shell.program)
    token_a, token_b = new_secret("fish token A"), new_secret("fish token B")
    body = (
        apply(shell, f"--repository a={URL_A} --export twine", "exit 11")
        + apply(shell, "cleanup", "exit 12")
        + apply(shell, f"--repository b={URL_B}", "exit 13")
        + apply(shell, "cleanup", "exit 14")
        + apply(shell, "cleanup", "exit 15")
    )
    result = run([program, "-c", script(shell, body)], shell_env(tmp_path, token_a, token_b))
    assert result.returncode == 0, f"exit {result.returncode}: a step reported failure"


def test_the_users_own_proxy_settings_survive_export_proxy_and_cleanup(tmp_path: Path) -> None:
    shell = SHELLS["dash"]
    program = require_program(shell.program)
    proxy_password = new_secret("own proxy password", alphabet="_")
    proxy = f"http://me:{proxy_password}@proxy.example:3128"
    env = shell_env(tmp_path, new_secret("proxy run token"))
    env.update(HTTPS_PROXY=proxy, NO_PROXY="localhost,.corp.example")
    body = (
        apply(shell, f"--repository a={URL_A} --export-proxy", "exit 11")
        + apply(shell, f"--repository a={URL_A}", "exit 12")
        + f'"{sys.executable}" -I -S -c "$DUMP" "$OUT/second.json" HTTPS_PROXY NO_PROXY\n'
        + apply(shell, "cleanup", "exit 13")
        + f'"{sys.executable}" -I -S -c "$DUMP" "$OUT/cleaned.json" HTTPS_PROXY NO_PROXY\n'
    )
    result = run([program, "-c", script(shell, body)], env)
    assert result.returncode == 0, result.stderr

    own = {"HTTPS_PROXY": proxy, "NO_PROXY": "localhost,.corp.example"}
    second = json.loads((tmp_path / "second.json").read_text())
    cleaned = json.loads((tmp_path / "cleaned.json").read_text())
    assert differences(second, own) + differences(cleaned, own) == [], "proxy settings lost"


@pytest.mark.parametrize("channel", ["sh", "github", "azure"])
@pytest.mark.parametrize("command", ["authenticate", "cleanup", "failure"])
def test_only_names_this_tool_exports_are_ever_taken_away(
    tmp_path: Path, channel: str, command: str
) -> None:
    """TWINE_AUTHENTICATE_EXPORTS comes back from the environment, where anything may have
    put anything: only the names of client variables this tool exports are believed."""
    hostile = (
        "PATH HOME LD_PRELOAD BASH_ENV TWINE_PASSWORD;id $(id) `id` UV_PUBLISH_PASSWORD "
        "POETRY_HTTP_BASIC_X_PASSWORD POETRY_HTTP_BASIC_x_PASSWORD HATCH_INDEX_AUTH\nIFS "
        "TWINE_AUTHENTICATE_RUN PYPIRC_PATH"
    )
    believed = ["UV_PUBLISH_PASSWORD", "POETRY_HTTP_BASIC_X_PASSWORD", "HATCH_INDEX_AUTH"]
    env = base_env(tmp_path, TWINE_AUTHENTICATE_EXPORTS=hostile)
    if command != "failure":
        env["TWINE_AUTHENTICATE_A_PASSWORD"] = new_secret("hostile exports token")
    if channel == "github":
        env.update(GITHUB_ACTIONS="true", GITHUB_ENV=str(tmp_path / "env"))
        (tmp_path / "env").write_text("")
    elif channel == "azure":
        env.update(TF_BUILD="True")
    argv = ["cleanup"] if command == "cleanup" else ["--repository", f"a={URL_A}"]

    result = invoke_shell_code(argv, env)

    assert result.returncode == (2 if command == "failure" else 0), result.stderr
    if channel == "sh":
        cleared = [line for line in result.stdout.splitlines() if line.startswith("unset ")]
        # cleanup also takes away its own record of them, so that a second one finds none.
        record = ["TWINE_AUTHENTICATE_EXPORTS"] if command == "cleanup" else []
        assert cleared == [f"unset {name};" for name in believed + record]
        assert all(
            line.startswith(("unset ", "export ")) or line == "false"
            for line in result.stdout.splitlines()
        )
    elif channel == "github":
        emptied = parse_env_file((tmp_path / "env").read_text())
        assert {name: value for name, value in emptied.items() if value == ""} == {
            name: "" for name in believed
        } | ({"TWINE_AUTHENTICATE_EXPORTS": ""} if command != "failure" else {})
    else:
        commands, _ = agent_commands(result.stdout)
        emptied_names = [
            c.properties["variable"]
            for c in commands
            if c.name == "task.setvariable" and c.data == ""
        ]
        expected = believed + (["TWINE_AUTHENTICATE_EXPORTS"] if command != "failure" else [])
        assert emptied_names == expected


# --- GitHub Actions: a real twine in the next step --------------------------------------------


@dataclass
class RecordingIndex:
    """An HTTP server standing in front of an index (or, without one, answering 200 itself),
    recording for each request whose credentials it carried: a label, never the secret."""

    known: dict[str, tuple[str, str]]  # label -> (username, password)
    upstream: str | None = None
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, label, status
    url: str = ""

    def label(self, header: str | None) -> str:
        if header is None:
            return "no credentials"
        try:
            user, _, password = base64.b64decode(header.split()[-1]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "unreadable credentials"
        if (user, password) == ("", ""):
            return "empty credentials"
        for name, pair in self.known.items():
            if password == pair[1]:
                return name
        return "other credentials"


@contextmanager
def recording_index(
    known: dict[str, tuple[str, str]], upstream: str | None = None
) -> Iterator[RecordingIndex]:
    index = RecordingIndex(known, upstream)

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            label = index.label(self.headers.get("Authorization"))
            if index.upstream is None:
                index.requests.append((self.command, label, 200))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            host = index.upstream.split("//")[1].rstrip("/")
            connection = http.client.HTTPConnection(host, timeout=30)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
            }
            connection.request(self.command, self.path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            index.requests.append((self.command, label, answer.status))
            self.send_response(answer.status)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            connection.close()

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    index.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_github_a_later_step_without_export_never_uploads_with_the_earlier_token(
    tmp_path: Path,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
) -> None:
    token_a, token_b = new_secret("github token A"), new_secret("github token B")
    # A's user and token are valid on B too: were they sent there, the upload would succeed.
    index_server.add_user("user-a", token_a)
    index_server.add_user("user-b", token_b)
    known = {"A's token": ("user-a", token_a), "B's token": ("user-b", token_b)}
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_A_USERNAME="user-a",
        TWINE_AUTHENTICATE_A_PASSWORD=token_a,
        TWINE_AUTHENTICATE_B_USERNAME="user-b",
        TWINE_AUTHENTICATE_B_PASSWORD=token_b,
    )
    with recording_index(known) as index_a, recording_index(known, index_server.url) as index_b:
        job = GitHubJob(tmp_path / "job", env)
        first = job.step([*TOOL, "--repository", f"a={index_a.url}", "--export", "twine"])
        assert first.succeeded, first.log
        assert differences(first.env_set, {**first.env_set, "TWINE_PASSWORD": token_a}) == []
        second = job.step([*TOOL, "--repository", f"b={index_b.url}"])
        assert second.succeeded, second.log
        assert {name: second.env_set.get(name) for name in TWINE_VARIABLES} == dict.fromkeys(
            TWINE_VARIABLES, ""
        ), "the runner cannot remove a variable: each must be emptied"
        assert {name: job.env[name] for name in TWINE_VARIABLES} == dict.fromkeys(
            TWINE_VARIABLES, ""
        )
        upload = job.step(
            [
                sys.executable,
                "-m",
                "twine",
                "upload",
                "--disable-progress-bar",
                "-r",
                "b",
                "--config-file",
                job.env["PYPIRC_PATH"],
                *map(str, distribution),
            ]
        )

    assert index_a.requests == [], "A was reached after its export was taken away"
    assert all(label != "A's token" for _, label, _ in index_b.requests), "A's token sent to B"
    # What actually happens: twine takes the emptied TWINE_USERNAME/TWINE_PASSWORD over the
    # .pypirc (an empty variable counts as given), so it sends no credentials at all, and the
    # index refuses the upload: B's own credentials in PYPIRC_PATH are not used either.
    assert [(label, status) for method, label, status in index_b.requests if method == "POST"] == [
        ("no credentials", 401)
    ]
    assert not upload.succeeded
    assert "Unauthorized" in "\n".join(upload.log)
    assert index_server.published(package_name) == []


def test_github_a_failed_step_only_empties_the_earlier_exports(tmp_path: Path) -> None:
    env = base_env(tmp_path, TWINE_AUTHENTICATE_A_PASSWORD=new_secret("github failing token A"))
    job = GitHubJob(tmp_path / "job", env)
    first = job.step([*TOOL, "--repository", f"a={URL_A}", "--export", "twine"])
    assert first.succeeded, first.log
    earlier = Path(job.env["PYPIRC_PATH"])

    second = job.step([*TOOL, "--repository", f"b={URL_B}"])  # no B password: fails

    assert not second.succeeded
    (error,) = second.commands("error")
    assert "TWINE_AUTHENTICATE_B_PASSWORD" in error
    assert second.env_set == dict.fromkeys(TWINE_VARIABLES, ""), "set more than the clearing"
    assert {name: job.env[name] for name in TWINE_VARIABLES} == dict.fromkeys(TWINE_VARIABLES, "")
    assert not earlier.exists(), "the earlier run's file survived the failure"


# --- Azure Pipelines --------------------------------------------------------------------------


@pytest.mark.parametrize("second_fails", [False, True], ids=["second succeeds", "second fails"])
def test_azure_a_later_step_empties_the_earlier_exports(
    azure_job: AzureJobs, second_fails: bool
) -> None:
    token_a = new_secret("azure token A")
    job = azure_job()
    first = job.task_step(
        args=["--repository", f"a={URL_A}", "--export", "twine"],
        env={"TWINE_AUTHENTICATE_A_PASSWORD": token_a},
    )
    assert first.succeeded, first.run.output
    assert differences(job.secret_variables, {"TWINE_PASSWORD": token_a}) == []
    earlier = Path(job.variables["PYPIRC_PATH"])
    step_env = {} if second_fails else {"TWINE_AUTHENTICATE_B_PASSWORD": new_secret("azure B")}

    second = job.task_step(args=["--repository", f"b={URL_B}"], env=step_env)

    assert second.succeeded is not second_fails, second.run.output
    commands, _ = agent_commands(second.run.stdout)
    settings = [
        (c.properties["variable"], c.data, c.properties["issecret"])
        for c in commands
        if c.name == "task.setvariable"
    ]
    emptied = [
        ("TWINE_REPOSITORY_URL", "", "false"),
        ("TWINE_USERNAME", "", "false"),
        ("TWINE_PASSWORD", "", "true"),  # still secret: the agent would not map it otherwise
    ]
    if second_fails:
        assert settings == emptied, "a failed step set more than the clearing"
    else:
        assert settings[:3] == emptied
        assert [name for name, _, _ in settings[3:]] == [
            "TWINE_AUTHENTICATE_EXPORTS",
            "TWINE_AUTHENTICATE_RUN",
            "PYPIRC_PATH",
        ]
    assert job.secret_variables["TWINE_PASSWORD"] == ""
    assert job.variables["TWINE_USERNAME"] == job.variables["TWINE_REPOSITORY_URL"] == ""
    assert not earlier.exists()
