"""Credential sources, one module each, behind one small contract.

Each source is a function ``read(inputs, env) -> Pending | None``: ``None`` when the run did not
ask for it; an ``InputError`` when it was asked for and cannot be used. Reading takes no
network, so that every secret of the run is known (and masked by the CI channel) before
anything could print one. ``Pending.resolve`` then does whatever network work is left.

A new source is one new module and one line in ``SOURCES``; the order of ``SOURCES`` is the
order of the sections in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .._records import TYPE_CHECKING
from ..validation import check_unique_names
from . import (
    artifacts_feed,
    declared,
    entra_federation,
    repository_flag,
    service_connection,
    trusted_publishing,
    workload_identity,
)
from .pending import Pending

if TYPE_CHECKING:
    from ..inputs import Inputs

Reader = Callable[["Inputs", Mapping[str, str]], "Pending | None"]

# The order of the sections in the file: internal feeds, service connections, the task's
# workload-identity feed, --repository (with a password, then keyless: Entra, Trusted
# Publishing), then pyproject.toml declarations.
SOURCES: tuple[Reader, ...] = (
    artifacts_feed.read,
    service_connection.read,
    workload_identity.read,
    repository_flag.read,
    entra_federation.read,
    trusted_publishing.read,
    declared.read,
)


def read_sources(inputs: Inputs, env: Mapping[str, str]) -> list[Pending]:
    """Every source the inputs ask for, read (no network), each section name used once."""
    pending = [found for read in SOURCES if (found := read(inputs, env)) is not None]
    check_unique_names(name for source in pending for name in source.names)
    return pending


__all__ = ["SOURCES", "Pending", "Reader", "read_sources"]
