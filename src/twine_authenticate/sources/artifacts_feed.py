"""Azure Artifacts feeds of the job's own organization, authenticated with the job token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..azure.agent import Environment, get_variable
from ..errors import InputError
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
) -> list[Repository]:
    """One location lookup for the run, then each feed's URL from the route template."""
    from ..azure.location import LocationService, feed_upload_url

    collection = collection_uri(env)
    service = LocationService(transport, collection, token)
    base = service.packaging_base() if is_hosted(env) else collection
    location = service.pypi_upload_location(base)
    return [
        Repository(
            name=feed.feed,
            url=feed_upload_url(base, location, feed.feed, feed.project),
            username=FEED_USERNAME,
            password=token.value,
            origin="internal feed",
        )
        for feed in feeds
    ]
