"""What a run was asked for, before any source reads a credential: the source flags, or (with
none) the Azure Pipelines task inputs, so that the same command with no arguments is the body
of a task."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._records import NamedTuple
from .azure.agent import get_input


class Inputs(NamedTuple):
    """The raw requests of one run, lists already split and trimmed. ``*_input`` name where
    each list came from, for messages (a flag, or the task input's name)."""

    artifact_feeds: tuple[str, ...] = ()
    service_connections: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()
    pyproject: str | None = "pyproject.toml"
    verify_feeds: bool = True
    artifact_feeds_input: str = "--artifact-feed"
    service_connections_input: str = "--service-connection"
    workload_identity_connection: str = ""  # the task's workload-identity pair
    feed_url: str = ""
    trusted_publishing: str = "auto"
    entra: tuple[str, ...] = ()


def split_list(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """Comma-separated lists, repeatable: items trimmed, empty items dropped."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def read_inputs(
    *,
    artifact_feeds: Sequence[str],
    service_connections: Sequence[str],
    repositories: Sequence[str],
    pyproject: str | None,
    verify_feeds: bool,
    env: Mapping[str, str],
    trusted_publishing: str = "auto",
    entra: Sequence[str] = (),
) -> Inputs:
    """Flags win; with no source flag the task inputs are read. Repositories declared in
    ``pyproject`` come on top of either."""
    if artifact_feeds or service_connections or repositories:
        return Inputs(
            artifact_feeds=split_list(artifact_feeds),
            service_connections=split_list(service_connections),
            repositories=tuple(repositories),
            pyproject=pyproject,
            verify_feeds=verify_feeds,
            trusted_publishing=trusted_publishing,
            entra=split_list(entra),
        )
    return Inputs(
        artifact_feeds=split_list(get_input(env, "artifactFeed")),
        service_connections=split_list(get_input(env, "pythonUploadServiceConnection")),
        pyproject=pyproject,
        verify_feeds=verify_feeds,
        artifact_feeds_input="artifactFeed",
        service_connections_input="pythonUploadServiceConnection",
        workload_identity_connection=(
            get_input(env, "workloadIdentityServiceConnection")
            or get_input(env, "azureDevOpsServiceConnection")  # its alias
            or ""
        ).strip(),
        feed_url=(get_input(env, "feedUrl") or "").strip(),
        trusted_publishing=trusted_publishing,
        entra=split_list(entra),
    )
