"""A small stand-in for the Azure Pipelines agent, enough to run a job's steps as it does.

Inputs and endpoints reach a task step as environment variables; ``##vso[task.setvariable]``
takes effect for the *later* steps (secret variables are not mapped into their environment,
as on the real agent); ``##vso[task.setsecret]`` values are masked in the log it keeps.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import TOOL, Run, base_env, run

_COMMAND = re.compile(r"^##vso\[(?P<name>[A-Za-z.]+)(?: (?P<props>[^\]]*))?\](?P<data>.*)$")


def unescape_data(value: str) -> str:
    return value.replace("%0D", "\r").replace("%0A", "\n").replace("%AZP25", "%")


def unescape_property(value: str) -> str:
    return unescape_data(value.replace("%3B", ";").replace("%5D", "]"))


@dataclass(frozen=True)
class LoggingCommand:
    name: str
    properties: dict[str, str]
    data: str = field(repr=False)  # a setsecret's data is the secret


def parse_commands(stdout: str) -> list[LoggingCommand]:
    commands = []
    for line in stdout.splitlines():
        match = _COMMAND.match(line)
        if match:
            properties = {}
            for pair in filter(None, (match["props"] or "").split(";")):
                key, _, value = pair.partition("=")
                properties[key.strip().lower()] = unescape_property(value)
            commands.append(
                LoggingCommand(match["name"].lower(), properties, unescape_data(match["data"]))
            )
    return commands


@dataclass(frozen=True)
class ServiceConnection:
    """A "Python package upload" service connection as the agent exports it."""

    id: str
    url: str
    endpoint_name: str
    scheme: str
    parameters: Mapping[str, str] = field(repr=False)

    def environment(self) -> dict[str, str]:
        key = self.id
        env = {
            f"ENDPOINT_URL_{key}": self.url,
            f"ENDPOINT_AUTH_{key}": json.dumps(
                {"parameters": dict(self.parameters), "scheme": self.scheme}
            ),
            f"ENDPOINT_AUTH_SCHEME_{key}": self.scheme,
            f"ENDPOINT_DATA_{key}": json.dumps({"endpointname": self.endpoint_name}),
            f"ENDPOINT_DATA_{key}_ENDPOINTNAME": self.endpoint_name,
        }
        for name, value in self.parameters.items():
            env[f"ENDPOINT_AUTH_PARAMETER_{key}_{name.upper()}"] = value
        return env


@dataclass
class Step:
    run: Run
    commands: list[LoggingCommand] = field(repr=False)

    @property
    def succeeded(self) -> bool:
        failed = any(
            c.name == "task.complete" and c.properties.get("result") == "Failed"
            for c in self.commands
        )
        return self.run.returncode == 0 and not failed

    def issues(self, kind: str) -> list[str]:
        return [
            c.data
            for c in self.commands
            if c.name == "task.issue" and c.properties.get("type") == kind
        ]

    def variables_set(self) -> dict[str, str]:
        return {
            c.properties["variable"]: c.data for c in self.commands if c.name == "task.setvariable"
        }


@dataclass
class AzureAgentJob:
    tmp: Path
    collection_url: str = "https://dev.azure.com/contoso/"
    server_type: str = "Hosted"
    # Failure messages show a job's repr: nothing that can hold a secret is in it.
    job_token: str | None = field(default=None, repr=False)
    extra_env: dict[str, str] = field(default_factory=dict, repr=False)
    variables: dict[str, str] = field(default_factory=dict, repr=False)
    secret_variables: dict[str, str] = field(default_factory=dict, repr=False)
    masks: list[str] = field(default_factory=list, repr=False)
    log: list[str] = field(default_factory=list, repr=False)
    steps: list[Step] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.agent_temp = self.tmp / "_temp"
        self.agent_temp.mkdir(parents=True, exist_ok=True)

    def environment(self, step_env: Mapping[str, str]) -> dict[str, str]:
        env = base_env(
            self.tmp,
            TF_BUILD="True",
            AGENT_TEMPDIRECTORY=str(self.agent_temp),
            SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=self.collection_url,
            SYSTEM_SERVERTYPE=self.server_type,
        )
        if self.job_token is not None:
            env["ENDPOINT_AUTH_SYSTEMVSSCONNECTION"] = json.dumps(
                {"parameters": {"AccessToken": self.job_token}, "scheme": "OAuth"}
            )
        env.update(self.extra_env)
        env.update(
            {name.replace(".", "_").upper(): value for name, value in self.variables.items()}
        )
        env.update(step_env)
        return env

    def task_step(
        self,
        inputs: Mapping[str, str] | None = None,
        connections: Sequence[ServiceConnection] = (),
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> Step:
        step_env = {f"INPUT_{name.upper()}": value for name, value in (inputs or {}).items()}
        for connection in connections:
            step_env.update(connection.environment())
        step_env.update(env or {})
        return self._run([*TOOL, *args], step_env, "task step")

    def script_step(
        self, script: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> Step:
        # The agent runs a bash step as `bash --noprofile --norc -e -o pipefail <file>`.
        return self._run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
            dict(env or {}),
            "script step",
            cwd=cwd,
        )

    def _run(
        self, argv: Sequence[str], step_env: Mapping[str, str], label: str, cwd: Path | None = None
    ) -> Step:
        result = run(
            argv, self.environment(step_env), label=f"{label} {len(self.steps) + 1}", cwd=cwd
        )
        commands = parse_commands(result.stdout)
        for command in commands:
            if command.name == "task.setsecret" and command.data:
                self.masks.append(command.data)
        for line in (result.stdout + result.stderr).splitlines():
            self.log.append(self.mask(line))
        for command in commands:
            if command.name == "task.setvariable":
                name = command.properties["variable"]
                if command.properties.get("issecret", "false").lower() == "true":
                    self.masks.append(command.data)
                    self.secret_variables[name] = command.data
                else:
                    self.variables[name] = command.data
        step = Step(result, commands)
        self.steps.append(step)
        return step

    def mask(self, line: str) -> str:
        # The agent masks each secret, its escaped forms and its base64 form.
        for secret in self.masks:
            escaped = secret.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")
            for form in (secret, escaped, base64.b64encode(secret.encode()).decode()):
                line = line.replace(form, "***")
        return line
