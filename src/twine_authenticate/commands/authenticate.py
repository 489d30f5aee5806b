"""The main command: inputs → sources → the ``.pypirc`` and the variables to export.

``authenticate(options, env)`` is what ``twine-authenticate`` runs, network settings (proxy,
CA) and storage included; it prints nothing. What the later steps should see comes back as an
``Authenticated`` outcome, which the CLI hands to a CI channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial

from .._records import TYPE_CHECKING, NamedTuple, Protocol
from ..clients import (
    EXPORTS_VARIABLE,
    PROXY_VARIABLES,
    ClientExport,
    Variable,
    earlier_exports,
    parse_export_flag,
    render_client_export,
    select_exports,
)
from ..errors import InputError
from ..inputs import read_inputs
from ..pypirc import render_pypirc
from ..repository import Repository
from ..settings import Options
from ..sources import Pending, read_sources
from ..storage import RUN_VARIABLE, Run, erase_run, run_named_by, storage_root, write_run
from ..validation import is_plain_http_to_remote_host

if TYPE_CHECKING:
    from ..network_settings import NetworkSettings
    from ..transport import Transport

NOTHING_REQUESTED_IN_TASK = (
    "nothing to authenticate: the task's artifactFeed and pythonUploadServiceConnection inputs "
    "are empty, and no --artifact-feed, --service-connection or --repository flag was given. "
    "Check the input names: V0's artifactFeeds and externalFeeds are not read."
)
NOTHING_REQUESTED = (
    "nothing to authenticate: name at least one repository. For any index, put its token "
    "in the environment and name it, for example:\n"
    "    export TWINE_AUTHENTICATE_MYINDEX_PASSWORD=...   # the token or password\n"
    '    eval "$(twine-authenticate --repository myindex=https://pypi.example.com/upload/)"\n'
    "For Azure Artifacts use --artifact-feed [PROJECT/]FEED; `twine-authenticate --help` "
    "shows every source."
)


class Reporter(Protocol):
    """Where the run announces its secrets and debug detail while it works (a CI channel)."""

    def mask(self, secrets: Iterable[str]) -> None: ...

    def debug(self, message: str) -> None: ...


class _Silent:
    def mask(self, secrets: Iterable[str]) -> None:
        pass

    def debug(self, message: str) -> None:
        pass


class Authenticated(NamedTuple):
    """What a successful run wrote and what the later steps of the job should see:
    ``variables`` to set (PYPIRC_PATH among the last), and ``cleared``, variables an earlier
    run exported that this one does not, to take away."""

    repositories: tuple[Repository, ...]
    path: str
    run_id: str
    variables: tuple[Variable, ...]
    cleared: tuple[str, ...]
    exports: tuple[ClientExport, ...]
    checked: tuple[str, ...]  # one line per repository --verify checked
    warnings: tuple[str, ...]
    secrets: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"Authenticated(repositories={self.repositories!r}, path={self.path!r}, "
            f"variables={self.variables!r}, secrets=<{len(self.secrets)} hidden>)"
        )


class Resolved(NamedTuple):
    repositories: list[Repository]
    network: NetworkSettings | None
    checked: list[str]
    secrets: list[str]


def resolve_repositories(
    options: Options, env: Mapping[str, str], *, reporter: Reporter | None = None
) -> list[Repository]:
    """The repositories ``options`` asks for, with their credentials; writes nothing."""
    return _resolve(options, env, reporter or _Silent()).repositories


def _read_sources(options: Options, env: Mapping[str, str]) -> list[Pending]:
    inputs = read_inputs(
        artifact_feeds=options.artifact_feeds,
        service_connections=options.service_connections,
        repositories=options.repositories,
        pyproject=options.pyproject,
        verify_feeds=options.verify_feeds,
        env=env,
        trusted_publishing=options.trusted_publishing,
        entra=options.entra,
    )
    pending = read_sources(inputs, env)
    if not pending:
        in_task = inputs.artifact_feeds_input == "artifactFeed" and env.get("TF_BUILD")
        raise InputError(NOTHING_REQUESTED_IN_TASK if in_task else NOTHING_REQUESTED)
    return pending


def _resolve(options: Options, env: Mapping[str, str], reporter: Reporter) -> Resolved:
    options.check()
    pending = _read_sources(options, env)
    secrets = [secret for source in pending for secret in source.secrets]
    needs_network = options.verify or any(source.needs_network for source in pending)
    network = None
    if needs_network or options.export_proxy:
        # Imported only here: a run with nothing to look up pays for no HTTP machinery.
        from ..network_settings import read_network_settings

        network = read_network_settings(env)
        secrets += network.secrets()
    # Before any network call, so that nothing printed later can show a secret unmasked.
    reporter.mask(secrets)

    transport: Transport | None = None
    if needs_network and network is not None:
        from ..transport import Transport

        transport = Transport(
            timeout=options.timeout,
            ca_file=network.ca_file,
            ca_source=network.ca_source,
            proxy_for=network.route_for,
        )
    repositories, checked = _resolve_pending(pending, transport, verify=options.verify)
    # Credentials a source minted while resolving (an Entra token, say), masked before
    # anything else is printed.
    minted = [r.password for r in repositories if r.password not in secrets]
    reporter.mask(minted)
    secrets += minted
    for repository in repositories:
        reporter.debug(f"{repository.name}: {repository.origin} at {repository.url}")
    return Resolved(repositories, network, checked, secrets)


def _resolve_pending(
    pending: Sequence[Pending], transport: Transport | None, *, verify: bool
) -> tuple[list[Repository], list[str]]:
    """Sources that need the network resolve together, and (with --verify) the credentials of
    the others are checked at the same time."""
    calls: list[Callable[[], list[Repository]]] = [
        partial(source.resolve, transport if source.needs_network else None) for source in pending
    ]
    if transport is None:
        return [repository for call in calls for repository in call()], []
    from ..concurrency import run_concurrently  # threads only for a run with network calls

    by_source = run_concurrently(calls)
    repositories = [repository for found in by_source for repository in found]
    checked: list[str] = []
    if verify:
        from ..verify import verify_repository

        to_check = [
            repository
            for source, found in zip(pending, by_source, strict=True)
            if not source.needs_network
            for repository in found
        ]
        checked = run_concurrently([partial(verify_repository, r, transport) for r in to_check])
    return repositories, checked


def authenticate(
    options: Options, env: Mapping[str, str], *, reporter: Reporter | None = None
) -> Authenticated:
    """Resolve every repository ``options`` asks for, erase the job's earlier credentials and
    write the new ``.pypirc``. Whatever ends the run early (an error, an interrupt) leaves no
    credentials behind, neither this run's nor an earlier run's."""
    reporter = reporter or _Silent()
    root = storage_root(env)
    earlier = run_named_by(env, root)
    # Decided now: erasing an earlier run's file also erases what shows it was ours.
    foreign = env.get("PYPIRC_PATH") if earlier is None else None
    written: Run | None = None
    try:
        selected = [parse_export_flag(text) for text in options.exports]
        resolved = _resolve(options, env, reporter)
        repositories = resolved.repositories
        by_name = {repository.name: repository for repository in repositories}
        chosen = select_exports(selected, list(by_name))
        exports = [render_client_export(client, by_name[name], env) for client, name in chosen]
        text = render_pypirc(repositories)
        if earlier is not None:
            erase_run(root, earlier.id)
        written = write_run(root, text, job=env.get("CI_JOB_ID", ""))
    except BaseException:
        discard_credentials(env, written)
        raise

    warnings = [
        f"{repository.name}: credentials will be sent over plain http to {repository.url}; "
        "use https unless this is a trusted network."
        for repository in repositories
        if is_plain_http_to_remote_host(repository.url)
    ]
    warnings += [
        _non_ascii_warning(repository)
        for repository in repositories
        if not (repository.username + repository.password).isascii()
    ]
    if foreign:
        warnings.append(
            f"PYPIRC_PATH named {foreign}, which this tool did not write for this shell or job; "
            "it was left untouched, and PYPIRC_PATH now names the new file."
        )
    variables: list[Variable] = []
    ours_before = earlier_exports(env)
    # The job's own proxy settings (not exported by an earlier run): never ours to clear.
    own = {name for name in PROXY_VARIABLES if env.get(name) and name not in ours_before}
    network = resolved.network
    if options.export_proxy and network is not None:
        warnings += network.warnings
        proxies = network.proxy_variables()
        if not proxies:
            warnings.append("--export-proxy: no proxy is configured, so none was exported.")
        # Exported where the job lacks it or has it in a form other clients misread (an
        # unencoded '/' in the password, say); the job's own setting is never over-written
        # with the same value, nor recorded as ours (a later run would take it away).
        variables += [Variable(k, v) for k, v in proxies.items() if k not in own or env.get(k) != v]
    variables += [variable for export in exports for variable in export.variables]
    exported = [variable.name for variable in variables]
    cleared = [name for name in ours_before if name not in exported]
    variables += [
        Variable(EXPORTS_VARIABLE, " ".join(n for n in exported if n not in own)),
        Variable(RUN_VARIABLE, written.id),
        Variable("PYPIRC_PATH", written.pypirc),
    ]
    return Authenticated(
        repositories=tuple(repositories),
        path=written.pypirc,
        run_id=written.id,
        variables=tuple(variables),
        cleared=tuple(cleared),
        exports=tuple(exports),
        checked=tuple(resolved.checked),
        warnings=tuple(warnings),
        secrets=tuple(resolved.secrets),
    )


def _non_ascii_warning(repository: Repository) -> str:
    fields = [
        field
        for field, value in (("username", repository.username), ("password", repository.password))
        if not value.isascii()
    ]
    beyond_latin1 = any(ord(char) > 0xFF for char in repository.username + repository.password)
    return (
        f"{repository.name}: the {' and '.join(fields)} holds non-ASCII characters. It is "
        "written exactly, but twine, poetry and flit send Basic auth as Latin-1"
        + (", and fail on a character outside it" if beyond_latin1 else "")
        + ", many servers refuse non-ASCII bytes there, and twine on Windows reads the .pypirc "
        "in the locale's encoding; uv, hatch, pdm and maturin send UTF-8."
    )


def discard_credentials(env: Mapping[str, str], written: Run | None = None) -> None:
    """The failure path's promise: no credentials left, this run's (``written``) or the
    earlier run's its environment names. Never raises: the error being reported is the one
    the user needs."""
    from ..errors import StorageError

    root = storage_root(env)
    for run in (written, run_named_by(env, root)):
        if run is not None:
            try:
                erase_run(root, run.id)
            except (StorageError, OSError):
                pass
