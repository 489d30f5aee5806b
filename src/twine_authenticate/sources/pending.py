"""The contract every credential source meets (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable

from .._records import TYPE_CHECKING, NamedTuple
from ..repository import Repository

if TYPE_CHECKING:
    from ..transport import Transport


class Pending(NamedTuple):
    """What one source read: the section names it will write (with a description of each,
    for messages), the secrets it holds, and how to finish.

    ``resolve`` gets a transport when ``needs_network`` is true, else None.
    """

    names: tuple[tuple[str, str], ...]
    secrets: tuple[str, ...]
    resolve: Callable[[Transport | None], list[Repository]]
    needs_network: bool = False

    def __repr__(self) -> str:
        return f"Pending(names={self.names!r}, needs_network={self.needs_network})"


def ready(repositories: list[Repository]) -> Pending | None:
    """A source whose repositories need nothing more than reading (no network)."""
    if not repositories:
        return None
    return Pending(
        names=tuple((r.name, f"{r.origin} {r.name}") for r in repositories),
        secrets=tuple(r.password for r in repositories),
        resolve=lambda transport: repositories,
    )
