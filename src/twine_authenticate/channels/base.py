"""What every channel offers. The order of calls is the contract: ``mask`` comes first, with
every secret of the run, before any other output that could hold one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from .._records import TYPE_CHECKING, NamedTuple, Protocol
from ..clients import Variable
from ..errors import InputError

if TYPE_CHECKING:
    from typing import TextIO


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

    def advise(self, secret_names: Sequence[str], cleared: Sequence[str]) -> None:
        """What this CI's users must know about the exported and cleared variables, before
        they are delivered."""

    def deliver(self, variables: Sequence[Variable], cleared: Sequence[str]) -> None:
        """Make ``variables`` environment variables of the job's later steps, and take away
        (or, where the CI cannot, empty) the ``cleared`` ones, all at once: a failure part-way
        must not leave some of them in force."""

    def fail(self, message: str, cleared: Sequence[str] = ()) -> None:
        """Report the one error that ends the run, in the CI's failure form, and take away the
        ``cleared`` variables (an earlier run's, whose file is gone)."""


class ChannelKind(NamedTuple):
    name: str
    detect: Callable[[Mapping[str, str]], bool]
    open: Callable[[Mapping[str, str], Streams], Channel]


def write_message(stream: TextIO, text: str) -> None:
    """Human text: a character the stream cannot encode is written escaped, never a crash.
    (Messages never hold secrets, so an escaped form cannot give one away.)"""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    stream.write(text)
    stream.flush()


def write_exact(stream: TextIO, lines: Sequence[tuple[str, str]]) -> None:
    """Lines that must arrive exactly (values, masks), each with the name of what it carries:
    checked as a whole before anything is written, and written at once, so that a stdout
    that cannot encode a character (a Windows code page) gets none of them, and never part
    of a secret."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    for text, what in lines:
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            raise InputError(
                f"{what} has a character that standard output's encoding ({encoding}) cannot "
                "represent, so it cannot be passed on exactly. Set PYTHONUTF8=1 (or "
                "PYTHONIOENCODING=utf-8) for this step and run again."
            ) from None
        except LookupError:
            break
    stream.write("".join(text + "\n" for text, _ in lines))
    stream.flush()


def emptied_warning(cleared: Sequence[str]) -> str:
    """For a CI that can empty a variable but not remove it."""
    return (
        f"{', '.join(cleared)}, exported by an earlier run, are now empty: this CI cannot "
        "remove a variable. A client that still reads them sends empty credentials (twine "
        "reads TWINE_* before -r and --config-file); export that client again with --export, "
        "or unset them in the step that uploads."
    )
