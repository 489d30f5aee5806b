"""From flags or the Azure task contract to one ``Request``.

Every credential is read here, before any network call or output, so that the CI channel can
mask all of them before anything else is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .azure.agent import Environment, get_input
from .errors import InputError
from .repository import Repository
from .sources.env_credentials import read_repository_flag
from .sources.job_token import JobToken, read_job_token
from .sources.service_connection import read_service_connection
from .validation import check_section_name, check_unique_names, check_value


class FeedReference(NamedTuple):
    """An Azure Artifacts feed of the job's own organization: ``[project/]feed``."""

    feed: str
    project: str | None = None

    @property
    def text(self) -> str:
        return f"{self.project}/{self.feed}" if self.project else self.feed


class Request(NamedTuple):
    """Everything one run was asked for, with credentials already read."""

    feeds: tuple[FeedReference, ...] = ()
    repositories: tuple[Repository, ...] = ()
    job_token: JobToken | None = None

    def secrets(self) -> list[str]:
        values = [repository.password for repository in self.repositories]
        if self.job_token is not None:
            values.append(self.job_token.value)
        return values


def split_list(values: Sequence[str] | str | None) -> list[str]:
    """Comma-separated lists, repeatable: items trimmed, empty items dropped."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def parse_feed_reference(text: str, what: str = "--artifact-feed") -> FeedReference:
    what = f"{what} {text!r}"
    check_value(text, what)
    parts = text.split("/")
    if len(parts) > 2:
        raise InputError(f"{what} has more than one '/'; write FEED or PROJECT/FEED.")
    if len(parts) == 2:
        project, feed = parts[0].strip(), parts[1].strip()
        if not project:
            raise InputError(
                f"{what} has an empty project part; write PROJECT/FEED, or just "
                "FEED for an organization-scoped feed."
            )
        if not feed:
            raise InputError(f"{what} has an empty feed part; write PROJECT/FEED.")
    else:
        project, feed = None, parts[0].strip()
    check_section_name(feed, f"{what}: feed name")
    return FeedReference(feed=feed, project=project)


class Flags(NamedTuple):
    """The source flags as the CLI parsed them (each a list of raw values)."""

    artifact_feeds: Sequence[str] = ()
    service_connections: Sequence[str] = ()
    repositories: Sequence[str] = ()

    @property
    def any(self) -> bool:
        return bool(self.artifact_feeds or self.service_connections or self.repositories)


def build_request(flags: Flags, env: Environment, declared: Sequence[Repository] = ()) -> Request:
    """Flags win; with no source flag the Azure task inputs are read, so that the same command
    with no arguments is the body of a task. Repositories ``declared`` in the project's
    ``pyproject.toml`` come on top of either."""
    if flags.any:
        feed_texts = split_list(flags.artifact_feeds)
        connection_ids = split_list(flags.service_connections)
        feed_what = "--artifact-feed"
    else:
        wif = [
            name
            for name in ("workloadIdentityServiceConnection", "feedUrl")
            if get_input(env, name)
        ]
        if wif:
            # Writing only the other inputs' credentials would upload with an identity the
            # pipeline did not ask for; fail instead.
            raise InputError(
                f"the task input {' and '.join(wif)} (workload identity) is not supported yet; "
                "use artifactFeed with the job token, or a service connection."
            )
        feed_texts = split_list(get_input(env, "artifactFeed"))
        connection_ids = split_list(get_input(env, "pythonUploadServiceConnection"))
        feed_what = "artifactFeed"

    feeds = tuple(parse_feed_reference(text, feed_what) for text in feed_texts)
    repositories = [read_service_connection(connection_id, env) for connection_id in connection_ids]
    repositories += [read_repository_flag(spec, env) for spec in flags.repositories]
    repositories += declared
    check_unique_names(
        [(feed.feed, f"feed {feed.text}") for feed in feeds]
        + [
            (repository.name, f"{repository.origin} {repository.name}")
            for repository in repositories
        ]
    )
    job_token = read_job_token(env) if feeds else None
    return Request(feeds=feeds, repositories=tuple(repositories), job_token=job_token)
