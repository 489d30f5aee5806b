"""From a ``Request`` to the repositories to write: the library's main entry point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .inputs import Request
from .repository import Repository

if TYPE_CHECKING:
    from .transport import Transport


def resolve_repositories(
    request: Request,
    env: Mapping[str, str],
    *,
    transport: Transport | None = None,
    verify_feeds: bool = True,
) -> list[Repository]:
    """Internal feeds first (resolved through the location service), then the rest in order.

    Only a request with internal feeds touches the network (and imports the HTTP client).
    """
    repositories: list[Repository] = []
    if request.feeds:
        from .sources.artifacts_feed import resolve_feeds
        from .transport import Transport

        assert request.job_token is not None  # build_request reads it whenever there are feeds
        repositories += resolve_feeds(
            request.feeds, request.job_token, env, transport or Transport(), verify=verify_feeds
        )
    repositories += request.repositories
    return repositories
