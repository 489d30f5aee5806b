"""The command line: parse, pick the CI channel, run one command, report it.

Every way a run can end other than success goes through ``_fail``: the channel's failure form
(``false`` for a shell's eval, ``::error::`` on GitHub, ``task.complete result=Failed`` on
Azure), one message, a non-zero exit, and no credentials left behind.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Mapping, Sequence

from ._records import TYPE_CHECKING, NamedTuple
from ._version import __version__
from .channels import CI_NAMES, SHELLS, Channel, Streams, detect_ci, open_channel
from .clients import earlier_exports
from .commands.authenticate import authenticate, discard_credentials
from .errors import InputError, TwineAuthenticateError
from .report import report_authenticated, report_cleaned
from .settings import Options
from .storage import Run, storage_root

if TYPE_CHECKING:
    from typing import NoReturn, TextIO


EXIT_INTERNAL_ERROR = 70  # sysexits' EX_SOFTWARE
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports it

USAGE = """
  twine-authenticate [SOURCES...] [OUTPUT...] [NETWORK...] [CHANNEL...]   write credentials
  twine-authenticate [CHANNEL...] cleanup                                 remove them"""

DESCRIPTION = """\
Write a private .pypirc with upload credentials for the repositories you name, and export
PYPIRC_PATH (and, with --export, the variables other clients read) for the later steps of the
job. In Azure Pipelines and GitHub Actions the variables go through the runner; in GitLab CI and
a shell the output is shell code to evaluate."""

EPILOG = """\
examples:
  # a shell or GitLab CI job (bash, zsh, sh):
  export TWINE_AUTHENTICATE_INTERNAL_PASSWORD=...      # the token; never a flag
  eval "$(twine-authenticate --repository internal=https://pypi.example.com/upload/)"
  twine upload -r internal --config-file "$PYPIRC_PATH" dist/*
  eval "$(twine-authenticate cleanup)"                 # also unsets what it exported

  # fish:
  twine-authenticate --shell fish --repository internal=https://pypi.example.com/upload/ | source

  # Azure Pipelines script step (map the job token into its env: SYSTEM_ACCESSTOKEN):
  twine-authenticate --artifact-feed MyProject/MyFeed

  # keyless: PyPI Trusted Publishing, in a GitHub job with `permissions: id-token: write`:
  twine-authenticate --repository pypi

  # uv publish instead of twine:
  eval "$(twine-authenticate --repository internal=https://pypi.example.com/upload/ --export uv)"

exit status:
  0 success; 1 a service refused or failed, or the file could not be written; 2 bad input or
  usage; 70 internal error; 130 interrupted; 143 terminated (SIGTERM). Every failure leaves
  no credentials behind, and in a shell prints `false` so that eval fails too."""


class UsageError(InputError):
    """The command line itself is wrong (argparse's complaint)."""


class _Exit(Exception):
    """``--help`` or ``--version`` was shown; not a failure."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, made to report through the channel instead of exiting: a usage error must
    still end in the CI's failure form, and help goes to the streams ``main`` was given."""

    streams: Streams | None = None

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str], namespace: None = None
    ) -> argparse.Namespace:
        self._refuse_unknown_options(args)
        return super().parse_args(args, namespace)

    def _refuse_unknown_options(self, args: Sequence[str]) -> None:
        """A misspelt flag, reported as such: argparse would take the value after it for a
        command name and complain about that instead."""
        known = {option for parser in self._parsers() for option in parser._option_string_actions}
        for word in args:
            if word == "--":
                return
            option = word.partition("=")[0]
            if option.startswith("--") and option not in known:
                import difflib

                close = difflib.get_close_matches(option, sorted(known), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.error(f"unrecognized arguments: {option}{hint}")

    def _parsers(self) -> list[argparse.ArgumentParser]:
        parsers: list[argparse.ArgumentParser] = [self]
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers += action.choices.values()
        return parsers

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's own asks shutil for the terminal width, and shutil imports bz2 and lzma:
        # 10 ms on every run, for a formatter that add_argument builds to check metavars.
        try:
            width = int(os.environ.get("COLUMNS", "")) or os.get_terminal_size(1).columns
        except (ValueError, OSError):
            width = 80
        return self.formatter_class(prog=self.prog, width=max(width - 2, 40))  # type: ignore[call-arg]

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}. Run `{self.prog} --help` for the usage.")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise _Exit(status)

    def _print_message(self, message: str, file: object = None) -> None:
        if message and self.streams is not None:
            stream = self.streams.stderr if file is sys.stderr else self.streams.stdout
            stream.write(message)
            stream.flush()


class Terminated(KeyboardInterrupt):
    """SIGTERM: a CI cancelling the job. Taken like Ctrl-C, through the one failure path."""


def _terminate_as_interrupt() -> None:
    import signal

    def terminated(signum: int, frame: object) -> None:
        raise Terminated

    try:
        signal.signal(signal.SIGTERM, terminated)
    except (ValueError, OSError):  # not the main thread, or no such signal here
        pass


class ChannelChoice(NamedTuple):
    ci: str
    shell: str
    debug: bool


def _add_channel_arguments(parser: argparse.ArgumentParser, default: object = None) -> None:
    """--ci, --shell and --debug, on the main parser and again (SUPPRESSed, so as not to
    overwrite the main parser's values) on each subcommand."""
    group = parser.add_argument_group("channel")
    group.add_argument(
        "--ci",
        choices=CI_NAMES,
        default=default,
        help="where the results go, instead of detecting it from TF_BUILD, GITHUB_ACTIONS or "
        "GITLAB_CI (default: detected; shell outside them)",
    )
    group.add_argument(
        "--shell",
        choices=SHELLS,
        default="sh" if default is None else default,
        help="the shell the printed code is for, in GitLab CI or a shell (default sh, which "
        "bash and zsh read too)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=False if default is None else default,
        help="print troubleshooting detail, and the traceback of an internal error, on stderr "
        "(secrets masked)",
    )


def build_parser(streams: Streams | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="twine-authenticate",
        usage=USAGE,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.streams = streams
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    Options.register_arguments(parser)
    _add_channel_arguments(parser)
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    cleanup = commands.add_parser(
        "cleanup",
        help="remove the credentials file this tool wrote for the job (run it last, always)",
        description="Remove the credentials file this tool wrote for the job, and its "
        "directory. A file the tool did not write is never touched.",
        allow_abbrev=False,
    )
    assert isinstance(cleanup, _Parser)
    cleanup.streams = streams
    _add_channel_arguments(cleanup, default=argparse.SUPPRESS)
    return parser


def choose_channel(argv: Sequence[str], env: Mapping[str, str]) -> ChannelChoice:
    """--ci, --shell and --debug, read before parsing, so that even a usage error is reported
    in the right channel. A value argparse will refuse falls back to the default here."""
    ci, shell, debug = None, "sh", False
    words = iter(argv)
    for word in words:
        if word == "--":
            break
        name, has_value, value = word.partition("=")
        if name in ("--ci", "--shell") and not has_value:
            value = next(words, "")
        if name == "--ci" and value in CI_NAMES:
            ci = value
        elif name == "--shell" and value in SHELLS:
            shell = value
        elif word == "--debug":
            debug = True
    return ChannelChoice(ci or detect_ci(env), shell, debug)


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    if argv is None:  # the real process (not a caller's): a CI cancelling the job sends SIGTERM
        _terminate_as_interrupt()
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    streams_given = stdout is not None
    choice = choose_channel(argv, env)
    # Python sets sys.stdout to None when the process starts with descriptor 1 closed.
    streams = Streams(
        stdout or sys.stdout or _closed_stream(),
        stderr or sys.stderr or _closed_stream(),
        choice.shell,
    )
    channel = open_channel(choice.ci, env, streams)
    recorder = _MaskRecorder(channel)
    try:
        args = build_parser(streams).parse_args(argv)
        channel.ready()
        if args.command == "cleanup":
            return _cleanup(env, channel)
        return _authenticate(Options.from_arguments(args), env, channel, recorder)
    except _Exit as shown:
        return shown.status
    except BaseException as error:  # the one failure path, for every kind of error
        return _fail(channel, error, env, streams, choice, recorder.secrets, streams_given)


def _authenticate(
    options: Options, env: Mapping[str, str], channel: Channel, recorder: _MaskRecorder
) -> int:
    outcome = authenticate(options, env, reporter=recorder)
    try:
        report_authenticated(channel, outcome)
    except BaseException:
        # Credentials the later steps cannot find are credentials nobody will clean up.
        discard_credentials(env, Run(storage_root(env).path, outcome.run_id))
        raise
    return 0


def _cleanup(env: Mapping[str, str], channel: Channel) -> int:
    from .commands.cleanup import cleanup

    report_cleaned(channel, cleanup(env))
    return 0


class _MaskRecorder:
    """Passes the run's secrets to the channel, and keeps them to mask a debug traceback."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.secrets: list[str] = []

    def mask(self, secrets: Iterable[str]) -> None:
        values = [secret for secret in secrets if secret]
        self.secrets += values
        self.channel.mask(values)

    def debug(self, message: str) -> None:
        self.channel.debug(message)


def describe(error: BaseException) -> tuple[str, int]:
    """The one message and exit code for any way a run can fail. Only our own errors have
    their text shown: they are written never to hold a secret; any other exception's text
    could (a library may quote a value), so only its type is named."""
    if isinstance(error, TwineAuthenticateError):
        return str(error), error.exit_code
    if isinstance(error, Terminated):
        return "terminated (SIGTERM); no credentials were left behind.", EXIT_TERMINATED
    if isinstance(error, KeyboardInterrupt):
        return "interrupted; no credentials were left behind.", EXIT_INTERRUPTED
    if _is_stream_error(error):
        return (
            "could not write to standard output (closed or broken pipe), so the later steps "
            "would not get the credentials; none were left behind.",
            1,
        )
    if isinstance(error, SystemExit):
        return f"stopped (exit status {error.code!r}); no credentials were left behind.", 1
    return (
        f"internal error ({type(error).__name__}); no credentials were left behind. Run again "
        "with --debug to see where it happened, and please report it.",
        EXIT_INTERNAL_ERROR,
    )


# What writing to a closed or broken stream raises.
_STREAM_ERRORS = (OSError, ValueError)


def _fail(
    channel: Channel,
    error: BaseException,
    env: Mapping[str, str],
    streams: Streams,
    choice: ChannelChoice,
    secrets: Sequence[str],
    streams_given: bool,
) -> int:
    discard_credentials(env)
    message, code = describe(error)
    if choice.debug and not isinstance(error, (TwineAuthenticateError, KeyboardInterrupt)):
        _print_traceback(streams.stderr, secrets)
    try:
        # The earlier run's file is gone: its exported credentials go too.
        channel.fail(message, earlier_exports(env))
    except _STREAM_ERRORS:
        # stdout itself is broken: say it where it can still be read, and keep Python from
        # complaining again when it flushes stdout at exit.
        _write_quietly(streams.stderr, f"twine-authenticate: error: {message}\n")
        if not streams_given:
            _silence_stdout()
    return code or 1


def _is_stream_error(error: BaseException) -> bool:
    """A failure to write our own output (a closed stdout, a broken pipe, a full disk behind
    a redirect), as opposed to an OSError or ValueError from anywhere else."""
    import errno

    if isinstance(error, ValueError):
        return "closed file" in str(error)
    return isinstance(error, OSError) and error.errno in (
        errno.EPIPE,
        errno.EIO,
        errno.EBADF,
        errno.ENOSPC,
    )


def _print_traceback(stream: TextIO, secrets: Sequence[str]) -> None:
    import traceback
    from urllib.parse import quote

    text = traceback.format_exc()
    forms = {form for secret in secrets for form in (secret, quote(secret, safe=""), repr(secret))}
    for form in sorted(forms, key=len, reverse=True):
        if len(form) >= 3:
            text = text.replace(form, "***")
    _write_quietly(stream, text)


def _write_quietly(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except _STREAM_ERRORS:
        pass


def _closed_stream() -> TextIO:
    import io

    stream = io.StringIO()
    stream.close()  # writing to it raises, as writing to a closed stdout does
    return stream


def _silence_stdout() -> None:
    if sys.stdout is None:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
