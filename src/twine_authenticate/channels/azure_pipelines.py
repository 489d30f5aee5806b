"""Azure Pipelines: logging commands on stdout, which the agent parses line by line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from .base import ChannelKind, Streams


def escape_data(value: str) -> str:
    """The message part of a logging command (``%`` first, as the task library does)."""
    return value.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace("]", "%5D").replace(";", "%3B")


def command(name: str, properties: dict[str, str] | None = None, data: str = "") -> str:
    props = "".join(
        f"{key}={escape_property(value)};" for key, value in (properties or {}).items() if value
    )
    return f"##vso[{name}{' ' + props if props else ''}]{escape_data(data)}"


def neutralize(message: str) -> str:
    """A plain log line must not be read as a command, whatever a name or URL in it holds."""
    return escape_data(message).replace("##vso[", "##vso%5B").replace("##[", "#%23[")


# Set by our task's shim for the Python it runs; the variables its post-job step needs.
TASK_MARKER = "TWINE_AUTHENTICATE_TASK"
TASK_VARIABLES = ("PYPIRC_PATH",)


class AzurePipelinesChannel:
    def __init__(self, stdout: TextIO, *, debug: bool = False, task: bool = False) -> None:
        self.out = stdout
        self.debug_enabled = debug
        self.task = task  # run as our Azure DevOps task, which has a post-job step

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def ready(self) -> None:
        pass

    def mask(self, secrets: Iterable[str]) -> None:
        for secret in dict.fromkeys(secrets):
            if secret:
                self._line(command("task.setsecret", data=secret))

    def advise(self, secret_names: Sequence[str]) -> None:
        if secret_names:
            # Azure keeps secret variables out of later steps' environments unless mapped.
            mapping = "; ".join(f"{name}: $({name})" for name in secret_names)
            self.info(
                f"{', '.join(secret_names)} are secret variables: give each step that uploads "
                f"env: {{{mapping}}}"
            )

    def info(self, message: str) -> None:
        self._line(neutralize(message))

    def debug(self, message: str) -> None:
        if self.debug_enabled:
            self._line(command("task.debug", data=message))

    def warning(self, message: str) -> None:
        self._line(command("task.issue", {"type": "warning"}, message))

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        properties = {"variable": name, "isOutput": "false", "issecret": str(secret).lower()}
        self._line(command("task.setvariable", properties, value))
        if self.task and name in TASK_VARIABLES:
            # The task's post-job step gets these as VSTS_TASKVARIABLE_<NAME>, and removes
            # exactly the run they name.
            self._line(command("task.settaskvariable", {"variable": name}, value))

    def fail(self, message: str) -> None:
        self._line(command("task.issue", {"type": "error"}, message))
        self._line(command("task.complete", {"result": "Failed"}, message))


def _detect(env: Mapping[str, str]) -> bool:
    return env.get("TF_BUILD", "").lower() == "true"


def _open(env: Mapping[str, str], streams: Streams) -> AzurePipelinesChannel:
    debug = env.get("SYSTEM_DEBUG", "").lower() == "true"
    task = env.get(TASK_MARKER) == "1"
    return AzurePipelinesChannel(streams.stdout, debug=debug, task=task)


KIND = ChannelKind("azure", _detect, _open)
