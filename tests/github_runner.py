"""A GitHub Actions job, as far as the runner's side of our contract goes.

Each step gets a fresh, empty ``$GITHUB_ENV`` file. Its stdout is read line by line as
actions/runner's ``ActionCommandManager`` does: a line is a command when, trimmed, it starts
with ``::name ...::`` or anywhere holds the legacy ``##[name ...]``, for a registered name;
``::stop-commands::TOKEN`` turns commands off until ``::TOKEN::``. ``::add-mask::`` registers
a secret (and prints nothing); every other line is shown in the log with every registered
secret replaced by ``***``. After the step, whether it succeeded or not (the runner processes
file commands in a ``finally``), the file is applied the way its ``SetEnvFileCommand`` parses
it, and the variables reach the later steps only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.leaks import MASK_LINE_PREFIXES, Recorded
from tests.support import RECORDED, Run, run


class EnvFileError(Exception):
    """The runner fails the step with this message."""


# actions/runner ActionCommandManager's command extensions, and its stop command.
REGISTERED_COMMANDS = frozenset(
    {
        "set-env", "set-output", "save-state", "add-mask", "add-path", "add-matcher",
        "remove-matcher", "debug", "warning", "error", "notice", "group", "endgroup", "echo",
        "stop-commands",
    }
)  # fmt: skip


def unescape_data(value: str) -> str:
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


@dataclass(frozen=True)
class WorkflowCommand:
    name: str
    properties: str
    data: str


def parse_command(line: str, registered: frozenset[str] | set[str]) -> WorkflowCommand | None:
    """``ActionCommand.TryParseV2``, then the legacy ``TryParse``, as the runner tries them."""
    trimmed = line.lstrip()
    if trimmed.startswith("::"):
        end = trimmed.find("::", 2)
        if end >= 0:
            info = trimmed[2:end]
            name, _, properties = info.partition(" ")
            if name in registered:
                return WorkflowCommand(name, properties, unescape_data(trimmed[end + 2 :]))
    start = line.find("##[")
    if start >= 0:
        close = line.find("]", start)
        if close >= 0:
            info = line[start + 3 : close]
            name, _, properties = info.partition(" ")
            if name in registered:
                return WorkflowCommand(name, properties, unescape_data(line[close + 1 :]))
    return None


def read_stdout(stdout: str) -> tuple[list[WorkflowCommand], list[str]]:
    """The commands the runner would obey, and the other lines it would show, in order."""
    registered = set(REGISTERED_COMMANDS)
    stop_token: str | None = None
    commands: list[WorkflowCommand] = []
    shown: list[str] = []
    for line in stdout.splitlines():
        command = parse_command(line, registered)
        if stop_token is not None:
            if command is not None and command.name == stop_token:
                registered.discard(stop_token)
                stop_token = None
            else:
                shown.append(line)
            continue
        if command is None:
            shown.append(line)
        elif command.name == "stop-commands":
            stop_token = command.data
            registered.add(stop_token)
        else:
            commands.append(command)
            if command.name != "add-mask":
                shown.append(line)
    return commands, shown


def parse_env_file(text: str) -> dict[str, str]:
    """``NAME=value`` lines and ``NAME<<DELIMITER`` blocks, as the runner reads them: a block
    runs to the first line equal to the delimiter, and its value is the lines in between."""
    variables: dict[str, str] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if equals >= 0 and (heredoc < 0 or equals < heredoc):
            name, value = line.split("=", 1)
            if not name:
                raise EnvFileError(f"Invalid environment variable format '{line}'")
            variables[name] = value
        elif heredoc >= 0:
            name, delimiter = line.split("<<", 1)
            if not name or not delimiter:
                raise EnvFileError(f"Invalid environment variable format '{line}'")
            body: list[str] = []
            while True:
                if index >= len(lines):
                    raise EnvFileError(f"Matching delimiter not found '{delimiter}'")
                candidate = lines[index]
                index += 1
                if candidate == delimiter:
                    break
                body.append(candidate)
            variables[name] = "\n".join(body)
        else:
            raise EnvFileError(f"Invalid environment variable format '{line}'")
    return variables


@dataclass
class GitHubStep:
    run: Run
    log: list[str]
    env_set: dict[str, str] = field(repr=False)
    obeyed: list[WorkflowCommand] = field(default_factory=list, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.run.returncode == 0

    def commands(self, name: str) -> list[str]:
        """The data of every ``name`` command the runner obeyed."""
        return [command.data for command in self.obeyed if command.name == name]


@dataclass
class GitHubJob:
    workspace: Path
    # Failure messages show a job's repr: nothing that can hold a secret is in it.
    base_env: Mapping[str, str] = field(repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    masks: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.runner_temp = self.workspace / "_runner_temp"
        self.file_commands = self.workspace / "_runner_file_commands"
        self.runner_temp.mkdir(parents=True, exist_ok=True)
        self.file_commands.mkdir(parents=True, exist_ok=True)

    def mask(self, line: str) -> str:
        for secret in sorted(self.masks, key=len, reverse=True):
            line = line.replace(secret, "***")
        return line

    def step(
        self,
        argv: Sequence[str],
        step_env: Mapping[str, str] | None = None,
        label: str = "",
        *,
        shows_secrets: bool = False,
    ) -> GitHubStep:
        """Run one step. ``shows_secrets``: a user's step that prints a secret on purpose, to
        see it masked; only its masked log is checked for leaks then."""
        env_file = self.file_commands / f"set_env_{uuid.uuid4()}"
        env_file.write_text("")
        env = {
            **self.base_env,
            **self.env,
            **(step_env or {}),
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "RUNNER_TEMP": str(self.runner_temp),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ENV": str(env_file),
        }
        # The raw output is checked for leaks (only the mask registrations may hold a
        # secret), and so is the masked log the user sees.
        label = label or f"github step {' '.join(argv[:3])}"
        result = run(
            argv,
            env,
            label=label,
            cwd=self.workspace,
            allow_stdout_line=lambda line: line.startswith(MASK_LINE_PREFIXES),
            record=not shows_secrets,
        )
        obeyed, shown = read_stdout(result.stdout)
        self.masks += [command.data for command in obeyed if command.name == "add-mask"]
        log = [self.mask(line) for line in shown]
        log += [self.mask(line) for line in result.stderr.splitlines()]
        RECORDED.append(Recorded(f"{label} log", "\n".join(log)))
        env_set = parse_env_file(env_file.read_text(encoding="utf-8"))
        self.env.update(env_set)
        os.unlink(env_file)
        return GitHubStep(result, log, env_set, obeyed)
