"""Azure Artifacts feeds of the job's own organization, authenticated with the job token."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from ..azure.agent import Environment, get_variable, organization_of
from ..errors import InputError, ServiceError
from ..repository import Repository
from ..validation import check_url
from .job_token import JobToken

if TYPE_CHECKING:
    from ..inputs import FeedReference
    from ..transport import Transport

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
    return check_url(uri, "System.TeamFoundationCollectionUri")


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
    from ..transport import run_concurrently

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
