"""Azure Pipelines: logging commands on stdout, which the agent parses line by line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO


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


class AzurePipelinesChannel:
    def __init__(self, stdout: TextIO, *, debug: bool = False) -> None:
        self.out = stdout
        self.debug_enabled = debug

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def mask(self, secrets: Iterable[str]) -> None:
        for secret in dict.fromkeys(secrets):
            if secret:
                self._line(command("task.setsecret", data=secret))

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

    def fail(self, message: str) -> None:
        self._line(command("task.issue", {"type": "error"}, message))
        self._line(command("task.complete", {"result": "Failed"}, message))
