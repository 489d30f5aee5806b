"""The command line: parse flags, then inputs → repositories → file → CI channel."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._version import __version__
from .channels import CI_NAMES, detect_ci, open_channel
from .channels.base import Channel
from .channels.shell import SHELLS
from .clients import (
    CLIENTS,
    ClientExport,
    Variable,
    parse_export_flag,
    render_client_export,
    select_exports,
)
from .errors import InputError, StorageError, TwineAuthenticateError
from .inputs import Flags, build_request
from .pypirc import render_pypirc
from .repository import Repository
from .resolve import resolve_repositories
from .storage import erase_earlier_runs, is_owned, storage_root, write_private_file
from .validation import is_plain_http_to_remote_host

if TYPE_CHECKING:
    from .network import NetworkSettings

NOTHING_REQUESTED = (
    "nothing to authenticate: give --artifact-feed, --service-connection or --repository, "
    "or (as an Azure Pipelines task) the artifactFeed or pythonUploadServiceConnection input. "
    "Check the input names: V0's artifactFeeds and externalFeeds are not read."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twine-authenticate",
        description="Write a private .pypirc with short-lived upload credentials and export "
        "PYPIRC_PATH for the later steps of the job. "
        "`twine-authenticate cleanup` removes it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--artifact-feed",
        action="append",
        default=[],
        metavar="[PROJECT/]FEED",
        help="an Azure Artifacts feed of the job's organization (repeatable, comma lists allowed)",
    )
    parser.add_argument(
        "--service-connection",
        action="append",
        default=[],
        metavar="ID",
        help="a Python package upload service connection id (repeatable)",
    )
    parser.add_argument(
        "--repository",
        action="append",
        default=[],
        metavar="NAME=URL",
        help="any index; password from TWINE_AUTHENTICATE_<NAME>_PASSWORD, "
        "username from TWINE_AUTHENTICATE_<NAME>_USERNAME (default __token__)",
    )
    _add_channel_flags(parser)
    parser.add_argument(
        "--export",
        action="append",
        default=[],
        metavar="CLIENT[=NAME]",
        help="also export repository NAME (default: the only one) in the variables CLIENT "
        f"reads; CLIENT is one of {', '.join(CLIENTS)} (repeatable)",
    )
    parser.add_argument(
        "--pyproject",
        default="pyproject.toml",
        metavar="PATH",
        help="where to read [tool.twine-authenticate] repositories from (default "
        "./pyproject.toml; a missing file declares none)",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not check that each internal feed exists and the job identity may use it",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="also check the credentials of the other repositories by reading their simple index",
    )
    parser.add_argument(
        "--export-proxy",
        action="store_true",
        help="export HTTPS_PROXY, HTTP_PROXY and NO_PROXY (from the agent's proxy settings) "
        "for the later steps",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="timeout of each HTTP request (default 10)",
    )
    return parser


def _add_channel_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ci",
        choices=CI_NAMES,
        help="force the CI channel instead of detecting it from TF_BUILD, GITHUB_ACTIONS or "
        "GITLAB_CI",
    )
    parser.add_argument(
        "--shell",
        choices=SHELLS,
        default="sh",
        help="the shell the printed code is for, in GitLab CI or a local shell (default sh)",
    )


def _cleanup_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twine-authenticate cleanup",
        description="Remove the credentials file this tool wrote for the job, and its "
        "directory. A file the tool did not write is never touched.",
    )
    _add_channel_flags(parser)
    return parser


def _summary(channel: Channel, repositories: Sequence[Repository], path: Path) -> None:
    count = len(repositories)
    channel.info(f"Adding authentication for {count} repositor{'y' if count == 1 else 'ies'}:")
    width = max(len(repository.name) for repository in repositories)
    for repository in repositories:
        channel.info(
            f"  {repository.name:<{width}}  {repository.url}  ({repository.origin}, "
            f"user {repository.username})"
        )
    counts = {
        origin: sum(r.origin == origin for r in repositories)
        for origin in ("internal feed", "service connection", "--repository", "pyproject.toml")
    }
    declared = counts["pyproject.toml"]
    channel.info(
        f"Successfully added auth for {counts['internal feed']} internal feed(s), "
        f"{counts['service connection']} service connection(s) and {counts['--repository']} "
        "other repositories"
        + (f", and {declared} declared in pyproject.toml." if declared else ".")
    )
    channel.info(f"Credentials file: {path}")
    channel.info(
        f'Upload with: twine upload -r {repositories[0].name} --config-file "$PYPIRC_PATH" dist/*'
    )


def _export_summary(channel: Channel, exports: Sequence[ClientExport], ci: str) -> None:
    for export in exports:
        names = ", ".join(variable.name for variable in export.variables)
        channel.info(f"{export.client}: exported {names} for {export.repository}.")
        channel.info(f"  Upload with: {export.command}")
        for warning in export.warnings:
            channel.warning(warning)
    secret_names = [v.name for export in exports for v in export.variables if v.secret]
    if ci == "azure" and secret_names:
        # Azure keeps secret variables out of later steps' environments unless mapped.
        mapping = "; ".join(f"{name}: $({name})" for name in secret_names)
        channel.info(
            f"{', '.join(secret_names)} are secret variables: give each step that uploads "
            f"env: {{{mapping}}}"
        )


def _read_declared(path: str, env: Mapping[str, str]) -> list[Repository]:
    from .sources.declared import read_declared_repositories

    return read_declared_repositories(path, env)


def _fail_without_credentials(
    channel: Channel, error: TwineAuthenticateError, root: Path, pypirc: str | None
) -> int:
    """A failed run leaves no credentials behind, neither its own nor an earlier run's."""
    try:
        erase_earlier_runs(root, pypirc)
    except StorageError:
        pass  # the error being reported is the one the user needs
    channel.fail(str(error))
    return error.exit_code


def authenticate(
    args: argparse.Namespace, env: Mapping[str, str], channel: Channel, ci: str
) -> int:
    root = storage_root(env)
    earlier = env.get("PYPIRC_PATH")
    # Decided now: erasing an earlier run's file also erases the marker that shows it was ours.
    earlier_is_foreign = bool(earlier) and not is_owned(Path(earlier or ""))
    network: NetworkSettings | None = None
    checked: list[str] = []
    try:
        flags = Flags(args.artifact_feed, args.service_connection, args.repository)
        export_requests = [parse_export_flag(text) for text in args.export]
        request = build_request(flags, env, _read_declared(args.pyproject, env))
        if not request.feeds and not request.repositories:
            raise InputError(NOTHING_REQUESTED)
        selected = select_exports(
            export_requests,
            [feed.feed for feed in request.feeds] + [r.name for r in request.repositories],
        )
        needs_network = bool(request.feeds) or args.verify
        if needs_network or args.export_proxy:
            # Imported only here: a run with nothing to look up pays for no HTTP machinery.
            from .network import read_network_settings

            network = read_network_settings(env)
        channel.mask(request.secrets() + (network.secrets() if network else []))
        transport = None
        if needs_network and network is not None:
            from .transport import Transport

            transport = Transport(
                timeout=args.timeout, ca_file=network.ca_file, proxy_for=network.route_for
            )
        repositories = resolve_repositories(
            request, env, transport=transport, verify_feeds=not args.no_verify
        )
        if args.verify and transport is not None and request.repositories:
            from .transport import run_concurrently
            from .verify import verify_repository

            checked = run_concurrently(
                [
                    partial(verify_repository, repository, transport)
                    for repository in request.repositories
                ]
            )
        for repository in repositories:
            channel.debug(f"{repository.name}: {repository.origin} at {repository.url}")
        text = render_pypirc(repositories)
        by_name = {repository.name: repository for repository in repositories}
        exports = [render_client_export(c, by_name[name], env) for c, name in selected]
        erase_earlier_runs(root, earlier)
        path = write_private_file(root, text)
    except TwineAuthenticateError as error:
        return _fail_without_credentials(channel, error, root, earlier)

    for repository in repositories:
        if is_plain_http_to_remote_host(repository.url):
            channel.warning(
                f"{repository.name}: credentials will be sent over plain http to "
                f"{repository.url}; use https unless this is a trusted network."
            )
    if earlier_is_foreign:
        channel.warning(
            f"PYPIRC_PATH named {earlier}, which this tool did not write; it was "
            "left untouched, and PYPIRC_PATH now names the new file."
        )
    _summary(channel, repositories, path)
    for line in checked:
        channel.info(line)
    variables: list[Variable] = []
    if args.export_proxy and network is not None:
        for warning in network.warnings:
            channel.warning(warning)
        proxies = network.proxy_variables()
        if not proxies:
            channel.warning("--export-proxy: no proxy is configured, so none was exported.")
        variables += [Variable(name, value) for name, value in proxies.items()]
    _export_summary(channel, exports, ci)
    variables += [variable for export in exports for variable in export.variables]
    variables.append(Variable("PYPIRC_PATH", str(path)))
    try:
        for variable in variables:
            channel.export(variable.name, variable.value, secret=variable.secret)
    except StorageError as error:
        # Credentials the later steps cannot find are credentials nobody will clean up.
        return _fail_without_credentials(channel, error, root, str(path))
    return 0


def cleanup(env: Mapping[str, str], channel: Channel) -> int:
    earlier = env.get("PYPIRC_PATH")
    try:
        removed = erase_earlier_runs(storage_root(env), earlier)
    except StorageError as error:
        channel.fail(str(error))
        return error.exit_code
    for path in removed:
        channel.info(f"Removed the credentials file {path} and its directory.")
    if not removed:
        channel.info(
            "Nothing to clean up: no credentials file written by twine-authenticate "
            "was found for this job."
        )
    if earlier and not is_owned(Path(earlier)) and Path(earlier).exists():
        channel.info(f"PYPIRC_PATH names {earlier}, which this tool did not write; left untouched.")
    return 0


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    is_cleanup = bool(argv) and argv[0] == "cleanup"
    args = (_cleanup_parser() if is_cleanup else _parser()).parse_args(
        argv[1:] if is_cleanup else argv
    )
    ci = args.ci or detect_ci(env)
    try:
        channel = open_channel(ci, env, shell=args.shell, stdout=stdout, stderr=stderr)
    except InputError as error:
        stderr.write(f"twine-authenticate: error: {error}\n")
        return error.exit_code
    if is_cleanup:
        return cleanup(env, channel)
    return authenticate(args, env, channel, ci)
