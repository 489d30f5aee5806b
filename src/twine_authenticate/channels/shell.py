"""Plain shells and GitLab CI: shell code on stdout, for ``eval "$(twine-authenticate ...)"``;
every human message on stderr, so that nothing but code reaches the eval."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .._records import TYPE_CHECKING
from ..clients import Variable
from .base import ChannelKind, Streams, write_exact, write_message

if TYPE_CHECKING:
    from typing import TextIO

SHELLS = ("bash", "zsh", "sh", "fish", "pwsh")


FAILED_CODE = {"pwsh": "throw 'twine-authenticate failed: see its message above'"}


EVAL_FORMS = {
    "fish": "run `twine-authenticate ... | source` to apply them.",
    "pwsh": "run `twine-authenticate --shell pwsh ... | Out-String | Invoke-Expression`.",
}
EVAL_DEFAULT = 'run `eval "$(twine-authenticate ...)"` to apply them.'


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError):
        return False


def quote_posix(value: str) -> str:
    """Single quotes keep everything literal; a quote itself is closed, escaped, reopened."""
    return "'" + value.replace("'", "'\\''") + "'"


def quote_fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def quote_pwsh(value: str) -> str:
    # In single-quoted PowerShell strings only the quote is special; it doubles, and so do
    # its typographic variants, which PowerShell also accepts as quotes.
    for quote in ("'", "\u2018", "\u2019", "\u201a", "\u201b"):
        value = value.replace(quote, quote * 2)
    return "'" + value + "'"


def unset_line(shell: str, name: str) -> str:
    if shell == "fish":
        # set -e fails (status 4) for a variable that is not set, and fish's set keeps the
        # status for the lines after it: `| source; or exit` would see a failure.
        return f"set -e {name}; or true;"
    if shell == "pwsh":
        return f"Remove-Item -ErrorAction SilentlyContinue Env:{name};"
    return f"unset {name};"


def export_line(shell: str, name: str, value: str) -> str:
    if shell == "fish":
        return f"set -gx {name} {quote_fish(value)};"
    if shell == "pwsh":
        return f"$env:{name} = {quote_pwsh(value)};"
    return f"export {name}={quote_posix(value)};"


class ShellChannel:
    def __init__(self, shell: str, stdout: TextIO, stderr: TextIO) -> None:
        self.shell = shell
        self.out = stdout
        self.err = stderr

    def ready(self) -> None:
        pass

    def mask(self, secrets: Iterable[str]) -> None:
        """A shell has no log masker; secrets only ever go into the code on stdout."""

    def advise(self, secret_names: Sequence[str], cleared: Sequence[str]) -> None:
        if _is_terminal(self.out):
            # Someone ran it by hand: the lines they see change nothing until evaluated.
            how = EVAL_FORMS.get(self.shell, EVAL_DEFAULT)
            self.info(f"note: the lines on stdout are {self.shell} code; {how}")

    def info(self, message: str) -> None:
        write_message(self.err, message + "\n")

    def debug(self, message: str) -> None:
        """Shell runs have no debug switch; the summary already says what was resolved."""

    def warning(self, message: str) -> None:
        self.info(f"warning: {message}")

    def deliver(self, variables: Sequence[Variable], cleared: Sequence[str]) -> None:
        lines = [(unset_line(self.shell, name), name) for name in cleared]
        lines += [(export_line(self.shell, v.name, v.value), v.name) for v in variables]
        write_exact(self.out, lines)

    def fail(self, message: str, cleared: Sequence[str] = ()) -> None:
        self.info(f"twine-authenticate: error: {message}")
        # `eval "$(twine-authenticate ...)"` would otherwise succeed on empty code, and a
        # `set -e` script would go on to upload without credentials.
        lines = [(unset_line(self.shell, name), name) for name in cleared]
        write_exact(self.out, [*lines, (FAILED_CODE.get(self.shell, "false"), "")])


def _open(env: Mapping[str, str], streams: Streams) -> ShellChannel:
    return ShellChannel(streams.shell, streams.stdout, streams.stderr)


KIND = ChannelKind("shell", lambda env: True, _open)
