"""What every credential source resolves to: one section of the ``.pypirc``."""

from __future__ import annotations

from ._records import NamedTuple


class Repository(NamedTuple):
    """A package index and the credentials to upload to it.

    ``name`` is the section name twine's ``-r`` selects. ``origin`` says where the entry
    came from (for the summary). The password is kept out of ``repr`` so that a stray
    log line or traceback cannot show it. (A NamedTuple, not a dataclass: importing
    dataclasses alone costs more start-up time than a run without HTTP may take.)
    """

    name: str
    url: str
    username: str
    password: str
    origin: str = "repository"
    expires: float | None = None  # a minted credential's end, in Unix seconds

    def __repr__(self) -> str:
        return (
            f"Repository(name={self.name!r}, url={self.url!r}, username={self.username!r}, "
            f"password='***', origin={self.origin!r})"
        )
