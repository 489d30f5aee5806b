"""What every credential source resolves to: one section of the ``.pypirc``."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Repository:
    """A package index and the credentials to upload to it.

    ``name`` is the section name twine's ``-r`` selects. ``origin`` says where the entry
    came from (for the summary). The password is kept out of ``repr`` so that a stray
    log line or traceback cannot show it.
    """

    name: str
    url: str
    username: str
    password: str = field(repr=False)
    origin: str = "repository"
