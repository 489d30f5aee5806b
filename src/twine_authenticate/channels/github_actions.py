"""GitHub Actions: workflow commands on stdout, variables appended to the ``$GITHUB_ENV`` file.

The runner reads ``$GITHUB_ENV`` after the step, as ``NAME=value`` lines or ``NAME<<DELIMITER``
blocks, and logs every value it sets when step debugging is on; so every secret is registered
with ``::add-mask::`` before anything else, and every value goes in a block whose delimiter is
random, so that no value can end it early or add a variable of its own.

The runner takes a line as a command when it starts with ``::`` or holds ``##[`` anywhere
(the legacy form, actions/runner ``ActionCommand.TryParse``). Text we do not control (names,
URLs, a server's words) is therefore printed between ``::stop-commands::<token>`` and
``::<token>::``, with a token no one can guess, the runner's documented way to print
untrusted text.

``GITHUB_ENV`` can set a variable but not remove one: a variable an earlier run exported and
this run does not is set to the empty value, which makes a client fail to authenticate
rather than use the earlier credentials.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence

from .._records import TYPE_CHECKING
from ..clients import Variable
from ..errors import InputError, StorageError
from .base import ChannelKind, Streams, emptied_warning, write_exact, write_message

if TYPE_CHECKING:
    from typing import TextIO


def escape_data(value: str) -> str:
    """The message part of a workflow command (``%`` first, as the runner decodes it last)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def env_file_block(name: str, value: str) -> str:
    delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
    while delimiter in value:  # pragma: no cover - 128 random bits inside a credential
        delimiter = f"ghadelimiter_{os.urandom(16).hex()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class GitHubActionsChannel:
    def __init__(self, stdout: TextIO, env_file: str | None) -> None:
        self.out = stdout
        self.env_file = env_file
        self._stop_token: str | None = None  # set while commands are stopped

    def ready(self) -> None:
        if not self.env_file:
            raise InputError(
                "GITHUB_ENV is not set, so nothing could reach the later steps; the GitHub "
                "Actions runner sets it in every step (use --ci shell outside a runner)."
            )

    def _commands_on(self) -> None:
        if self._stop_token is not None:
            write_message(self.out, f"::{self._stop_token}::\n")
            self._stop_token = None

    def _command(self, line: str) -> None:
        self._commands_on()
        write_message(self.out, line + "\n")

    def mask(self, secrets: Iterable[str]) -> None:
        # The runner masks line by line; a value cannot hold a line break here (validation
        # refuses control characters), but a derived form is registered whole regardless.
        self._commands_on()
        unique = [secret for secret in dict.fromkeys(secrets) if secret]
        write_exact(self.out, [(f"::add-mask::{escape_data(s)}", "a secret") for s in unique])

    def info(self, message: str) -> None:
        if self._stop_token is None:
            self._stop_token = f"twine-authenticate-{os.urandom(16).hex()}"
            write_message(self.out, f"::stop-commands::{self._stop_token}\n")
        write_message(self.out, message + "\n")

    def debug(self, message: str) -> None:
        # The runner shows these only when step debugging is on.
        self._command(f"::debug::{escape_data(message)}")

    def warning(self, message: str) -> None:
        self._command(f"::warning::{escape_data(message)}")

    def advise(self, secret_names: Sequence[str], cleared: Sequence[str]) -> None:
        # Secrets were masked first, and GITHUB_ENV reaches every later step of the job.
        if cleared:
            self.warning(emptied_warning(cleared))

    def _append(self, blocks: str) -> None:
        """Append all blocks with one write; on failure put the file back as it was, so that
        the runner applies none of them."""
        self.ready()
        assert self.env_file is not None
        try:
            with open(self.env_file, "a", encoding="utf-8", newline="\n") as handle:
                size = handle.seek(0, os.SEEK_END)
                try:
                    handle.write(blocks)
                    handle.flush()
                except BaseException:
                    handle.truncate(size)
                    raise
        except OSError as error:
            raise StorageError(
                f"cannot append to GITHUB_ENV ({self.env_file}): {error.strerror}; no variable "
                "was set."
            ) from None

    def deliver(self, variables: Sequence[Variable], cleared: Sequence[str]) -> None:
        self._commands_on()
        blocks = [env_file_block(name, "") for name in cleared]
        blocks += [env_file_block(v.name, v.value) for v in variables]
        self._append("".join(blocks))

    def fail(self, message: str, cleared: Sequence[str] = ()) -> None:
        try:
            if cleared and self.env_file:
                self._append("".join(env_file_block(name, "") for name in cleared))
        finally:
            self._command(f"::error::{escape_data(message)}")


def _detect(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def _open(env: Mapping[str, str], streams: Streams) -> GitHubActionsChannel:
    return GitHubActionsChannel(streams.stdout, env.get("GITHUB_ENV") or None)


KIND = ChannelKind("github", _detect, _open)
