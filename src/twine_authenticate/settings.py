"""The options of a run, as one object: built from the command line (``register_arguments``
then ``Options.from_arguments``) or directly by a library caller."""

from __future__ import annotations

from ._records import TYPE_CHECKING, NamedTuple
from .clients import CLIENTS
from .errors import InputError

if TYPE_CHECKING:
    import argparse

MAX_TIMEOUT = 600.0
TRUSTED_PUBLISHING_MODES = ("auto", "always", "never")


class Options(NamedTuple):
    """What ``twine-authenticate`` was asked to do. Credentials are never options: they come
    from the environment."""

    artifact_feeds: tuple[str, ...] = ()
    service_connections: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    exports: tuple[str, ...] = ()
    pyproject: str | None = "pyproject.toml"
    verify_feeds: bool = True
    verify: bool = False
    export_proxy: bool = False
    timeout: float = 10.0
    trusted_publishing: str = "auto"
    entra: tuple[str, ...] = ()

    @staticmethod
    def register_arguments(parser: argparse.ArgumentParser) -> None:
        sources = parser.add_argument_group(
            "sources (repeatable; the credentials always come from the environment)"
        )
        sources.add_argument(
            "--repository",
            action="append",
            default=[],
            metavar="NAME[=URL]",
            help="any index (pypi and testpypi need no URL). Its password or token is read from "
            "TWINE_AUTHENTICATE_<KEY>_PASSWORD "
            "and its username from TWINE_AUTHENTICATE_<KEY>_USERNAME (default __token__), where "
            "<KEY> is NAME upper-cased with every character outside A-Z and 0-9 turned into _ "
            "(my-index.dev: TWINE_AUTHENTICATE_MY_INDEX_DEV_PASSWORD); without one, keyless "
            "publishing (see --trusted-publishing and --entra)",
        )
        sources.add_argument(
            "--trusted-publishing",
            choices=TRUSTED_PUBLISHING_MODES,
            default="auto",
            help="for a --repository with no password variable: use PyPI Trusted Publishing "
            "when the CI offers an OIDC identity (auto, the default), always (an error "
            "without one), or never",
        )
        sources.add_argument(
            "--entra",
            action="append",
            default=[],
            metavar="NAME",
            help="repository NAME (with no password variable) gets an Entra token through the "
            "CI's OIDC identity, with AZURE_CLIENT_ID and AZURE_TENANT_ID, as Azure Artifacts "
            "feeds (recognised by their host) do",
        )
        sources.add_argument(
            "--artifact-feed",
            action="append",
            default=[],
            metavar="[PROJECT/]FEED",
            help="an Azure Artifacts feed of the job's organization, with the job access token "
            "(SYSTEM_ACCESSTOKEN); comma lists allowed",
        )
        sources.add_argument(
            "--service-connection",
            action="append",
            default=[],
            metavar="ID",
            help="an Azure Pipelines Python package upload service connection, as a task "
            "receives it; comma lists allowed",
        )
        sources.add_argument(
            "--pyproject",
            default="pyproject.toml",
            metavar="PATH",
            help="read [[tool.twine-authenticate.repositories]] from PATH (default "
            "./pyproject.toml; a missing file declares none)",
        )
        output = parser.add_argument_group("output")
        output.add_argument(
            "--export",
            action="append",
            default=[],
            metavar="CLIENT[=NAME]",
            help="also export repository NAME (default: the only one) in the variables CLIENT "
            f"reads; CLIENT is one of {', '.join(CLIENTS)} (repeatable)",
        )
        output.add_argument(
            "--export-proxy",
            action="store_true",
            help="export HTTPS_PROXY, HTTP_PROXY and NO_PROXY (from the agent's proxy "
            "settings) for the later steps",
        )
        network = parser.add_argument_group("network")
        network.add_argument(
            "--no-verify",
            action="store_true",
            help="do not check that each internal feed exists and the job identity may use it",
        )
        network.add_argument(
            "--verify",
            action="store_true",
            help="also check the credentials of the other repositories by reading their "
            "simple index",
        )
        network.add_argument(
            "--timeout",
            type=_seconds,
            default=10.0,
            metavar="SECONDS",
            help=f"timeout of each HTTP request, above 0 and at most {MAX_TIMEOUT:g} (default 10)",
        )

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> Options:
        return cls(
            artifact_feeds=tuple(args.artifact_feed),
            service_connections=tuple(args.service_connection),
            repositories=tuple(args.repository),
            exports=tuple(args.export),
            pyproject=args.pyproject,
            verify_feeds=not args.no_verify,
            verify=args.verify,
            export_proxy=args.export_proxy,
            timeout=args.timeout,
            trusted_publishing=args.trusted_publishing,
            entra=tuple(args.entra),
        )

    def check(self) -> None:
        """Refuse options no command line could give (for library callers)."""
        _check_timeout(self.timeout, "timeout")
        if self.trusted_publishing not in TRUSTED_PUBLISHING_MODES:
            raise InputError(
                f"trusted_publishing must be one of {', '.join(TRUSTED_PUBLISHING_MODES)}, not "
                f"{self.trusted_publishing!r}."
            )


def _check_timeout(value: float, what: str) -> float:
    # Also false for NaN; infinity is above the maximum.
    if not (isinstance(value, (int, float)) and 0 < value <= MAX_TIMEOUT):
        raise InputError(
            f"{what} must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}, "
            f"not {value!r}."
        )
    return float(value)


def _seconds(text: str) -> float:
    import argparse

    try:
        return _check_timeout(float(text), "--timeout")
    except (ValueError, InputError) as error:
        message = str(error) if isinstance(error, InputError) else None
        raise argparse.ArgumentTypeError(
            message or f"--timeout must be a number of seconds, not {text!r}."
        ) from None
