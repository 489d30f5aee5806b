"""Azure Pipelines: logging commands on stdout, which the agent parses line by line.

Values are escaped as the agent decodes them: ``%`` as ``%AZP25`` (first), CR and LF as
``%0D``/``%0A``. A job that sets ``DECODE_PERCENTS=false`` opts out of decoding ``%AZP25``
(azure-pipelines-agent's percentEncoding design), so there a ``%`` is written as it is, and a
value that holds a literal ``%0D`` or ``%0A`` cannot be passed on exactly: it is refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .._records import TYPE_CHECKING
from ..clients import Variable, is_secret_variable
from ..errors import InputError
from .base import ChannelKind, Streams, emptied_warning, write_exact, write_message

if TYPE_CHECKING:
    from typing import TextIO


def escape_data(value: str, *, decode_percents: bool = True) -> str:
    """The message part of a logging command (``%`` first, as the task library does)."""
    if decode_percents:
        value = value.replace("%", "%AZP25")
    return value.replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str, *, decode_percents: bool = True) -> str:
    escaped = escape_data(value, decode_percents=decode_percents)
    return escaped.replace("]", "%5D").replace(";", "%3B")


def command(
    name: str,
    properties: dict[str, str] | None = None,
    data: str = "",
    *,
    decode_percents: bool = True,
) -> str:
    props = "".join(
        f"{key}={escape_property(value, decode_percents=decode_percents)};"
        for key, value in (properties or {}).items()
        if value
    )
    return f"##vso[{name}{' ' + props if props else ''}]" + escape_data(
        data, decode_percents=decode_percents
    )


def neutralize(message: str, *, decode_percents: bool = True) -> str:
    """A plain log line must not be read as a command, whatever a name or URL in it holds."""
    escaped = escape_data(message, decode_percents=decode_percents)
    return escaped.replace("##vso[", "##vso%5B").replace("##[", "#%23[")


# What the agent still decodes in command data with DECODE_PERCENTS=false (its
# CommandStringConvertor.Unescape): a value holding one would arrive changed.
_UNDECODABLE = ("%0D", "%0A", "%3B", "%5D")


# Set by our task's shim for the Python it runs; the variables its post-job step needs to
# remove exactly this run (it gets them as VSTS_TASKVARIABLE_<NAME>).
TASK_MARKER = "TWINE_AUTHENTICATE_TASK"
TASK_VARIABLES = ("PYPIRC_PATH", "TWINE_AUTHENTICATE_RUN")


class AzurePipelinesChannel:
    def __init__(
        self,
        stdout: TextIO,
        *,
        debug: bool = False,
        decode_percents: bool = True,
        task: bool = False,
    ) -> None:
        self.out = stdout
        self.debug_enabled = debug
        self.decode_percents = decode_percents
        self.task = task  # run as our Azure DevOps task, which has a post-job step

    def _command(self, name: str, properties: dict[str, str] | None = None, data: str = "") -> str:
        return command(name, properties, data, decode_percents=self.decode_percents)

    def _exact(self, value: str, what: str) -> str:
        found = [mark for mark in _UNDECODABLE if mark in value.upper()]
        if not self.decode_percents and found:
            raise InputError(
                f"{what} holds the text {found[0]}, which the agent decodes into another "
                "character while this job sets DECODE_PERCENTS=false; it cannot be passed on "
                "exactly. Remove DECODE_PERCENTS=false from the pipeline's variables."
            )
        return value

    def ready(self) -> None:
        pass

    def mask(self, secrets: Iterable[str]) -> None:
        lines = [
            (self._command("task.setsecret", data=self._exact(secret, "a secret")), "a secret")
            for secret in dict.fromkeys(secrets)
            if secret
        ]
        write_exact(self.out, lines)

    def info(self, message: str) -> None:
        line = neutralize(message, decode_percents=self.decode_percents)
        write_message(self.out, line + "\n")

    def debug(self, message: str) -> None:
        if self.debug_enabled:
            write_message(self.out, self._command("task.debug", data=message) + "\n")

    def warning(self, message: str) -> None:
        write_message(self.out, self._command("task.issue", {"type": "warning"}, message) + "\n")

    def advise(self, secret_names: Sequence[str], cleared: Sequence[str]) -> None:
        if cleared:
            self.warning(emptied_warning(cleared))
        if secret_names:
            # Azure keeps secret variables out of later steps' environments unless mapped.
            mapping = "; ".join(f"{name}: $({name})" for name in secret_names)
            self.info(
                f"{', '.join(secret_names)} are secret variables: give each step that uploads "
                f"env: {{{mapping}}}"
            )

    def _set(self, name: str, value: str, *, secret: bool) -> tuple[str, str]:
        properties = {"variable": name, "isOutput": "false", "issecret": str(secret).lower()}
        value = self._exact(value, name)
        return self._command("task.setvariable", properties, value), name

    def _clearing(self, cleared: Sequence[str]) -> list[tuple[str, str]]:
        # The agent has no command to remove a variable: an empty value is the nearest, and
        # makes a client fail to authenticate rather than use an earlier run's credentials.
        return [self._set(name, "", secret=is_secret_variable(name)) for name in cleared]

    def deliver(self, variables: Sequence[Variable], cleared: Sequence[str]) -> None:
        lines = self._clearing(cleared)
        lines += [self._set(v.name, v.value, secret=v.secret) for v in variables]
        if self.task:
            lines += [
                (self._command("task.settaskvariable", {"variable": v.name}, v.value), v.name)
                for v in variables
                if v.name in TASK_VARIABLES
            ]
        write_exact(self.out, lines)

    def fail(self, message: str, cleared: Sequence[str] = ()) -> None:
        write_exact(self.out, self._clearing(cleared))
        write_message(
            self.out,
            self._command("task.issue", {"type": "error"}, message)
            + "\n"
            + self._command("task.complete", {"result": "Failed"}, message)
            + "\n",
        )


def _detect(env: Mapping[str, str]) -> bool:
    return env.get("TF_BUILD", "").lower() == "true"


def _open(env: Mapping[str, str], streams: Streams) -> AzurePipelinesChannel:
    debug = env.get("SYSTEM_DEBUG", "").lower() == "true"
    decode_percents = env.get("DECODE_PERCENTS", "").lower() != "false"
    task = env.get(TASK_MARKER) == "1"
    return AzurePipelinesChannel(
        streams.stdout, debug=debug, decode_percents=decode_percents, task=task
    )


KIND = ChannelKind("azure", _detect, _open)
