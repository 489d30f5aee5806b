"""What every channel offers. The order of calls is the contract: ``mask`` comes first, with
every secret of the run, before any other output that could hold one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple, Protocol, TextIO


class Streams(NamedTuple):
    stdout: TextIO
    stderr: TextIO
    shell: str = "sh"  # the shell the printed code is for, where a channel prints code


class Channel(Protocol):
    def ready(self) -> None:
        """Raise ``InputError`` when the channel could not deliver variables at all."""

    def mask(self, secrets: Iterable[str]) -> None:
        """Register secrets with the CI's log masker, before anything else is printed."""

    def info(self, message: str) -> None:
        """A line of the human summary."""

    def warning(self, message: str) -> None: ...

    def debug(self, message: str) -> None:
        """Detail for troubleshooting, shown only when the CI's debug mode is on."""

    def advise(self, secret_names: Sequence[str]) -> None:
        """What this CI's users must know about the exported variables, before they are."""

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        """Make ``name`` an environment variable of the job's later steps."""

    def fail(self, message: str) -> None:
        """Report the one error that ends the run, in the CI's failure form."""


class ChannelKind(NamedTuple):
    name: str
    detect: Callable[[Mapping[str, str]], bool]
    open: Callable[[Mapping[str, str], Streams], Channel]
