"""The Azure Pipelines agent running our task from the built .vsix, as the agent's NodeHandler
does (../shared/spec/azure-task.md §2, §3): nothing of the task is imported or called here.

- The task folder comes out of ``dist/*.vsix``, built by ``scripts/build-extension`` as users
  build it, found through the .vsix's own manifest.
- The handler's environment is built in the agent's order (Handler.cs): the job's variables
  (public ones by name, secret ones as ``SECRET_*``, and the ``VSTS_*_VARIABLES`` lists), then
  ``INPUT_<NAME>`` for *every* input of task.json (its default when the step does not set it;
  aliases taken as the server does), the endpoints the step's ``connectedService:`` inputs
  reference plus ``SystemVssConnection``, the task instance's variables as
  ``VSTS_TASKVARIABLE_*``, and the job's prepended paths on ``PATH``.
- ``node <task folder>/<target>`` runs with the sources directory as working directory; its
  exit code must be 0, or the agent fails the step as an infrastructure error.
- Logging commands are read from stdout and stderr, anywhere in a line, and applied under the
  task's ``restrictions``: a command the restricted mode does not allow, or a variable the
  task may not set, is refused with a warning, as the agent does.

Workload identity: ``workloadIdentityServiceConnection`` (alias ``azureDevOpsServiceConnection``)
is a ``connectedService:`` input like the others, so a step passes its connection (a
``ServiceConnection`` of that scheme) and ``feedUrl`` the same way; variables such as
``System.OidcRequestUri`` go in ``AzureAgentJob.variables``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.pipeline import (
    AzureAgentJob,
    LoggingCommand,
    ServiceConnection,
    Step,
    unescape_data,
    unescape_property,
)
from tests.support import Run, run
from tests.support.os_tools import MISSING

ROOT = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = ROOT / "scripts" / "build-extension"
EXTENSION = ROOT / "extension"
HANDLERS = ("Node20_1", "Node24")
# The commands a task may use in restricted mode (TaskCommandExtension.cs: the classes marked
# AllowedInRestrictedMode), task.issue being task.logissue's alias.
RESTRICTED_MODE_COMMANDS = {
    "task.logdetail",
    "task.logissue",
    "task.issue",
    "task.complete",
    "task.setprogress",
    "task.setsecret",
    "task.setvariable",
    "task.debug",
    "task.settaskvariable",
    "task.prependpath",
    "telemetry.publish",
}
_COMMAND = re.compile(r"##vso\[(?P<name>[A-Za-z.]+)(?: (?P<props>[^\]]*))?\](?P<data>.*)$")


def variable_env_name(name: str) -> str:
    return name.replace(".", "_").replace(" ", "_").upper()


def node_program() -> str:
    """The node the tests run handlers with: 20 or newer, as the agent's node20_1 is."""
    found = None
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory) / "node"
        if directory and candidate.is_file() and os.access(candidate, os.X_OK):
            found = str(candidate)
            break
    if found is None:
        pytest.skip(f"{MISSING} node is not installed; install Node.js 20 or newer with npm")
    version = subprocess.run(
        [found, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if not major or int(major[1]) < 20:
        pytest.skip(f"{MISSING} node {version or '?'} is older than 20; install Node.js 20+")
    return found


def default_vsix() -> Path:
    """dist/<publisher>.<extension id>-<version>.vsix, as scripts/build-extension names it."""
    manifest = json.loads((EXTENSION / "vss-extension.json").read_text(encoding="utf-8"))
    text = (ROOT / "src" / "twine_authenticate" / "_version.py").read_text(encoding="utf-8")
    version = re.search(r"""__version__\s*=\s*["']([^"']+)["']""", text)
    assert version, "no __version__"
    return ROOT / "dist" / f"{manifest['publisher']}.{manifest['id']}-{version[1]}.vsix"


def build_vsix(env: Mapping[str, str]) -> tuple[Path, Run]:
    """Run ``scripts/build-extension`` (which keeps an up-to-date .vsix) and return it."""
    result = run([str(BUILD_SCRIPT)], env, label="build-extension", timeout=600)
    assert result.returncode == 0, f"scripts/build-extension failed:\n{result.output[-3000:]}"
    vsix = default_vsix()
    assert vsix.is_file(), f"scripts/build-extension did not write {vsix}"
    return vsix, result


@dataclass(frozen=True)
class ExtractedTask:
    """A task folder taken out of a .vsix, and its task.json."""

    folder: Path
    definition: dict[str, Any] = field(repr=False)

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return list(self.definition["inputs"])

    def target(self, section: str, handler: str = "Node20_1") -> Path:
        return self.folder / str(self.definition[section][handler]["target"])

    def allowed_to_set(self, variable: str) -> bool:
        """The agent's check (TaskRestrictionExtension.IsSetVariableAllowed): minimatch
        patterns, case-insensitive; no list means any variable."""
        allowed = (
            self.definition.get("restrictions", {}).get("settableVariables", {}).get("allowed")
        )
        if allowed is None:
            return True
        return any(fnmatchcase(variable.upper(), pattern.upper()) for pattern in allowed)

    @property
    def restricted(self) -> bool:
        mode = self.definition.get("restrictions", {}).get("commands", {}).get("mode")
        return str(mode).lower() == "restricted"


def extract_task(vsix: Path, destination: Path) -> ExtractedTask:
    """The one task the extension contributes, found as the Marketplace finds it: through the
    contribution in extension.vsomanifest, whose name is the task's folder."""
    with zipfile.ZipFile(vsix) as archive:
        archive.extractall(destination)
    manifest = json.loads((destination / "extension.vsomanifest").read_text(encoding="utf-8"))
    tasks = [c for c in manifest["contributions"] if c["type"] == "ms.vss-distributed-task.task"]
    assert len(tasks) == 1, f"expected one task contribution, got {tasks}"
    folder = destination / tasks[0]["properties"]["name"]
    definition = json.loads((folder / "task.json").read_text(encoding="utf-8"))
    return ExtractedTask(folder, definition)


def parse_logging_commands(text: str) -> list[LoggingCommand]:
    """Every ``##vso[...]`` command, found anywhere in a line as the agent's Command.TryParse
    does."""
    commands = []
    for line in text.splitlines():
        match = _COMMAND.search(line)
        if not match:
            continue
        properties = {}
        for pair in filter(None, (match["props"] or "").split(";")):
            key, _, value = pair.partition("=")
            properties[key.strip().lower()] = unescape_property(value)
        commands.append(
            LoggingCommand(match["name"].lower(), properties, unescape_data(match["data"]))
        )
    return commands


@dataclass
class TaskStep:
    """One run of a handler: what it printed, the commands the agent applied and those it
    refused."""

    step: Step
    refused: list[str] = field(default_factory=list)

    @property
    def run(self) -> Run:
        return self.step.run

    @property
    def commands(self) -> list[LoggingCommand]:
        return self.step.commands

    @property
    def succeeded(self) -> bool:
        return self.step.succeeded

    @property
    def failed_by_the_task(self) -> bool:
        """Failed as a task should fail: it said so, and its handler still exited 0."""
        return self.run.returncode == 0 and not self.step.succeeded

    def issues(self, kind: str) -> list[str]:
        return self.step.issues(kind)

    def task_variables_set(self) -> dict[str, str]:
        return {
            c.properties["variable"]: c.data
            for c in self.commands
            if c.name == "task.settaskvariable"
        }


class AzureAgent:
    """The agent of one job (``AzureAgentJob`` keeps its variables, masks and log) running our
    task. ``agent_path`` is the PATH of the agent's own environment; ``prepend_path`` what
    earlier steps added with ``##vso[task.prependpath]`` (``use_python_version`` adds one as
    UsePythonVersion@0 does)."""

    def __init__(
        self,
        job: AzureAgentJob,
        task: ExtractedTask,
        node: str,
        *,
        agent_path: str = "/usr/local/bin:/usr/bin:/bin",
        sources: Path | None = None,
        connections: Sequence[ServiceConnection] = (),
    ) -> None:
        self.job = job
        self.task = task
        self.node = node
        self.agent_path = agent_path
        self.sources = sources or job.tmp / "s"
        self.sources.mkdir(parents=True, exist_ok=True)
        self.connections = list(connections)
        self.prepend_path: list[str] = []

    def use_python_version(self, directory: str | None = None) -> None:
        """What UsePythonVersion@0 leaves behind: a Python's bin directory first on PATH for
        the later steps. Default: the interpreter the test venv was made from, which has no
        twine-authenticate installed."""
        self.prepend_path.insert(0, directory or str(Path(sys.base_prefix) / "bin"))

    def instance(
        self, inputs: Mapping[str, str | bool] | None = None, env: Mapping[str, str] | None = None
    ) -> TaskInstance:
        """A step of the pipeline that uses our task, with these inputs (by name or alias)
        and the step's own ``env:``."""
        return TaskInstance(self, self._canonical_inputs(inputs or {}), dict(env or {}))

    # -- the server's part -------------------------------------------------------------------
    def _canonical_inputs(self, given: Mapping[str, str | bool]) -> dict[str, str]:
        names = {}
        for spec in self.task.inputs:
            for name in [spec["name"], *spec.get("aliases", [])]:
                names[name.lower()] = spec["name"]
        values: dict[str, str] = {}
        for name, value in given.items():
            canonical = names.get(name.lower())
            assert canonical is not None, f"the task has no input {name!r}"
            values[canonical] = str(value).lower() if isinstance(value, bool) else value
        return values

    def _connection(self, reference: str) -> ServiceConnection:
        """A connection named in YAML by its name or id; the server hands the agent its id."""
        for connection in self.connections:
            if reference in (connection.id, connection.endpoint_name):
                return connection
        raise AssertionError(f"no service connection {reference!r} in this project")

    # -- the agent's part --------------------------------------------------------------------
    def environment(
        self,
        inputs: Mapping[str, str],
        step_env: Mapping[str, str],
        task_variables: Mapping[str, str],
    ) -> dict[str, str]:
        job = self.job
        env = job.environment({})
        # Variables (AddVariablesToEnvironment): public by name, secret as SECRET_<NAME>.
        env.update(
            {
                "SYSTEM_DEFAULTWORKINGDIRECTORY": str(self.sources),
                "BUILD_SOURCESDIRECTORY": str(self.sources),
                "SYSTEM_COLLECTIONURI": job.collection_url,
                "AGENT_VERSION": "4.266.2",
            }
        )
        for name, value in job.secret_variables.items():
            env["SECRET_" + variable_env_name(name)] = value
        env["VSTS_PUBLIC_VARIABLES"] = json.dumps(sorted(job.variables))
        env["VSTS_SECRET_VARIABLES"] = json.dumps(sorted(job.secret_variables))
        # Inputs (AddInputsToEnvironment): every input of task.json, trimmed, default if unset.
        endpoints: list[ServiceConnection] = []
        for spec in self.task.inputs:
            name = spec["name"]
            value = inputs.get(name, str(spec.get("defaultValue", ""))).strip()
            if spec["type"].startswith("connectedService:") and value:
                referenced = [
                    self._connection(item.strip()) for item in value.split(",") if item.strip()
                ]
                endpoints += referenced
                value = ",".join(connection.id for connection in referenced)
            env["INPUT_" + variable_env_name(name)] = value
        # Endpoints (AddEndpointsToEnvironment): the referenced ones and SystemVssConnection.
        for connection in endpoints:
            env.update(connection.environment())
        env["ENDPOINT_URL_SYSTEMVSSCONNECTION"] = job.collection_url
        if job.job_token is not None:
            env["ENDPOINT_AUTH_SCHEME_SYSTEMVSSCONNECTION"] = "OAuth"
            env["ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN"] = job.job_token
        # Task variables (AddTaskVariablesToEnvironment), then PATH (AddPrependPathToEnvironment).
        for name, value in task_variables.items():
            env["VSTS_TASKVARIABLE_" + variable_env_name(name)] = value
        env["PATH"] = os.pathsep.join([*self.prepend_path, self.agent_path])
        env.update(step_env)
        return env

    def run_handler(
        self,
        section: str,
        inputs: Mapping[str, str],
        step_env: Mapping[str, str],
        task_variables: dict[str, str],
        label: str,
        handler: str = "Node20_1",
    ) -> TaskStep:
        env = self.environment(inputs, step_env, task_variables)
        target = self.task.target(section, handler)
        result = run(
            [self.node, str(target)],
            env,
            label=f"{label} {len(self.job.steps) + 1}",
            cwd=self.sources,
            timeout=180,
        )
        commands = parse_logging_commands(result.stdout + "\n" + result.stderr)
        step = TaskStep(Step(result, []))
        for command in commands:
            if self._apply(command, task_variables, step):
                step.commands.append(command)
        for line in (result.stdout + result.stderr).splitlines():
            self.job.log.append(self.job.mask(line))
        self.job.steps.append(step.step)
        return step

    def _apply(
        self, command: LoggingCommand, task_variables: dict[str, str], step: TaskStep
    ) -> bool:
        """Apply one logging command as the agent does; False when the restrictions refuse it."""
        job = self.job
        if self.task.restricted and command.name not in RESTRICTED_MODE_COMMANDS:
            step.refused.append(command.name)
            return False
        if command.name == "task.setsecret" and command.data:
            job.masks.append(command.data)
        elif command.name == "task.setvariable":
            name = command.properties["variable"]
            if not self.task.allowed_to_set(name):
                step.refused.append(f"{command.name} {name}")
                return False
            if command.properties.get("issecret", "false").lower() == "true":
                job.masks.append(command.data)
                job.secret_variables[name] = command.data
            else:
                job.variables[name] = command.data
        elif command.name == "task.settaskvariable":
            if command.properties.get("issecret", "false").lower() == "true":
                job.masks.append(command.data)
            task_variables[command.properties["variable"]] = command.data
        elif command.name == "task.prependpath":
            if not self.task.allowed_to_set("PATH"):
                step.refused.append(f"{command.name} {command.data}")
                return False
            self.prepend_path.insert(0, command.data)
        return True


@dataclass
class TaskInstance:
    """One use of the task in a job: its main step and its post-job step share the instance's
    task variables, which no other step sees."""

    agent: AzureAgent
    inputs: dict[str, str]
    env: dict[str, str]
    task_variables: dict[str, str] = field(default_factory=dict, repr=False)

    def main(self, handler: str = "Node20_1") -> TaskStep:
        return self.agent.run_handler(
            "execution", self.inputs, self.env, self.task_variables, "task", handler
        )

    def post(self, handler: str = "Node20_1") -> TaskStep:
        """The post-job step: the agent runs it whatever became of the main step."""
        return self.agent.run_handler(
            "postjobexecution", self.inputs, self.env, self.task_variables, "post-job", handler
        )


class AgentMaker(Protocol):
    """The ``agent_for`` fixture: an agent for ``job`` running our task; with ``python`` (the
    default) a Python 3.10+ first on PATH, as UsePythonVersion@0 leaves it."""

    def __call__(
        self,
        job: AzureAgentJob,
        *,
        python: bool = True,
        agent_path: str = ...,
        sources: Path | None = None,
        connections: Sequence[ServiceConnection] = (),
    ) -> AzureAgent: ...
