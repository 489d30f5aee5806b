"""GitHub Actions: workflow commands on stdout, variables appended to the ``$GITHUB_ENV`` file.

The runner reads ``$GITHUB_ENV`` after the step, as ``NAME=value`` lines or ``NAME<<DELIMITER``
blocks, and logs every value it sets when step debugging is on; so every secret is registered
with ``::add-mask::`` before anything else, and every value goes in a block whose delimiter is
random, so that no value can end it early or add a variable of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TextIO

from ..errors import InputError, StorageError
from .base import ChannelKind, Streams


def escape_data(value: str) -> str:
    """The message part of a workflow command (``%`` first, as the runner decodes it last)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def neutralize(message: str) -> str:
    """A plain log line must not be read as a workflow command, whatever a name in it holds:
    the runner treats a line as a command when, trimmed, it starts with ``::``."""
    lines = message.splitlines() or [""]
    return "\n".join(f"| {line}" if line.lstrip().startswith("::") else line for line in lines)


def env_file_block(name: str, value: str) -> str:
    delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
    while delimiter in value:  # pragma: no cover - 128 random bits inside a credential
        delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class GitHubActionsChannel:
    def __init__(self, stdout: TextIO, env_file: str | None) -> None:
        self.out = stdout
        self.env_file = env_file

    def ready(self) -> None:
        if not self.env_file:
            raise InputError(
                "GITHUB_ENV is not set, so nothing could reach the later steps; the GitHub "
                "Actions runner sets it in every step (use --ci shell outside a runner)."
            )

    def advise(self, secret_names: Sequence[str]) -> None:
        pass  # masked first, and GITHUB_ENV reaches every later step of the job

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def mask(self, secrets: Iterable[str]) -> None:
        for secret in dict.fromkeys(secrets):
            # The runner masks line by line; a value cannot hold a newline here (validation
            # refuses control characters), but a derived form is registered whole regardless.
            if secret:
                self._line(f"::add-mask::{escape_data(secret)}")

    def info(self, message: str) -> None:
        self._line(neutralize(message))

    def debug(self, message: str) -> None:
        # The runner shows these only when step debugging is on.
        self._line(f"::debug::{escape_data(message)}")

    def warning(self, message: str) -> None:
        self._line(f"::warning::{escape_data(message)}")

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        # Secrets were masked first (see ``mask``); the file itself is the runner's own,
        # private to the job.
        self.ready()
        assert self.env_file is not None
        try:
            with open(self.env_file, "a", encoding="utf-8", newline="\n") as handle:
                handle.write(env_file_block(name, value))
        except OSError as error:
            raise StorageError(
                f"cannot append {name} to GITHUB_ENV ({self.env_file}): {error.strerror}."
            ) from None

    def fail(self, message: str) -> None:
        self._line(f"::error::{escape_data(message)}")


def _detect(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def _open(env: Mapping[str, str], streams: Streams) -> GitHubActionsChannel:
    return GitHubActionsChannel(streams.stdout, env.get("GITHUB_ENV") or None)


KIND = ChannelKind("github", _detect, _open)
