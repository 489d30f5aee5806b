"""Azure Artifacts feeds of the job's own organization, authenticated with the job token."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from .._records import TYPE_CHECKING, NamedTuple
from ..azure.agent import Environment, get_variable, organization_of
from ..errors import InputError, ServiceError
from ..repository import Repository
from ..validation import (
    check_section_name,
    check_url,
    check_value,
    is_plain_http_to_remote_host,
)
from .pending import Pending

if TYPE_CHECKING:
    from ..azure.job_token import JobToken
    from ..inputs import Inputs
    from ..transport import Transport


class FeedReference(NamedTuple):
    """An Azure Artifacts feed of the job's own organization: ``[project/]feed``."""

    feed: str
    project: str | None = None

    @property
    def text(self) -> str:
        return f"{self.project}/{self.feed}" if self.project else self.feed


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
    for part in (project, feed):
        if part in (".", ".."):
            # They would name another path of the service's URLs, not a feed or project.
            raise InputError(f"{what}: {part!r} is not a feed or project name.")
    check_section_name(feed, f"{what}: feed name")
    return FeedReference(feed=feed, project=project)


def read(inputs: Inputs, env: Environment) -> Pending | None:
    """The feeds asked for and the job token; the URLs need the location service."""
    if not inputs.artifact_feeds:
        return None
    feeds = [
        parse_feed_reference(text, inputs.artifact_feeds_input) for text in inputs.artifact_feeds
    ]
    from ..azure.job_token import read_job_token  # only a run with feeds needs it

    token = read_job_token(env)
    return Pending(
        names=tuple((feed.feed, f"feed {feed.text}") for feed in feeds),
        secrets=(token.value,),
        resolve=partial(_resolve, feeds, token, env, verify=inputs.verify_feeds),
        needs_network=True,
    )


def _resolve(
    feeds: Sequence[FeedReference],
    token: JobToken,
    env: Environment,
    transport: Transport | None,
    *,
    verify: bool,
) -> list[Repository]:
    assert transport is not None  # needs_network
    return resolve_feeds(feeds, token, env, transport, verify=verify)


# Upstream writes this literal username; Azure Artifacts accepts any username with a token.
FEED_USERNAME = "build"


def collection_uri(env: Environment) -> str:
    uri = get_variable(env, "System.TeamFoundationCollectionUri") or get_variable(
        env, "System.CollectionUri"
    )
    if not uri:
        raise InputError(
            "internal feeds need the organization's URL, and neither "
            "SYSTEM_TEAMFOUNDATIONCOLLECTIONURI nor SYSTEM_COLLECTIONURI is set. The agent sets "
            "them in a pipeline; elsewhere set one, e.g. https://dev.azure.com/ORG/."
        )
    check_url(uri, "System.TeamFoundationCollectionUri")
    if is_plain_http_to_remote_host(uri):
        raise InputError(
            f"System.TeamFoundationCollectionUri is {uri}: internal feeds are authenticated "
            "with the job access token, which is never sent over plain http to another "
            "machine. Use the organization's https:// URL."
        )
    return uri


def is_hosted(env: Environment) -> bool:
    return (get_variable(env, "System.ServerType") or "").lower() == "hosted"


def resolve_feeds(
    feeds: Sequence[FeedReference],
    token: JobToken,
    env: Environment,
    transport: Transport,
    *,
    verify: bool = True,
) -> list[Repository]:
    """One location lookup for the run, each feed's URL from the route template, and (unless
    ``verify`` is off) a check that each feed exists and the job identity may use it.

    Calls that do not depend on each other go out together, so the run takes two round trips
    however many feeds it has: the resource areas, then the route and every feed check.
    """
    from ..azure.location import LocationService, check_feed, feed_upload_url
    from ..concurrency import run_concurrently

    collection = collection_uri(env)
    service = LocationService(transport, collection, token)
    if not is_hosted(env):
        packaging_base = feeds_base = collection  # on-premises, the collection serves both
    elif verify:
        packaging_base, feeds_base = run_concurrently([service.packaging_base, service.feeds_base])
    else:
        packaging_base = feeds_base = service.packaging_base()

    organization = organization_of(collection)
    checks: list[Callable[[], object]] = [lambda: service.pypi_upload_location(packaging_base)]
    if verify:
        checks += [
            partial(check_feed, service, feeds_base, feed.feed, feed.project, organization)
            for feed in feeds
        ]
    location, *problems = run_concurrently(checks)
    messages = [problem for problem in problems if isinstance(problem, str)]
    if messages:
        raise ServiceError("\n".join(messages))
    from ..azure.location import ApiLocation

    assert isinstance(location, ApiLocation)
    return [
        Repository(
            name=feed.feed,
            url=feed_upload_url(packaging_base, location, feed.feed, feed.project),
            username=FEED_USERNAME,
            password=token.value,
            origin="internal feed",
        )
        for feed in feeds
    ]
