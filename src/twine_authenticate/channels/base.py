"""What every channel offers. The order of calls is the contract: ``mask`` comes first, with
every secret of the run, before any other output that could hold one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Channel(Protocol):
    def mask(self, secrets: Iterable[str]) -> None:
        """Register secrets with the CI's log masker, before anything else is printed."""

    def info(self, message: str) -> None:
        """A line of the human summary."""

    def warning(self, message: str) -> None: ...

    def debug(self, message: str) -> None:
        """Detail for troubleshooting, shown only when the CI's debug mode is on."""

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        """Make ``name`` an environment variable of the job's later steps."""

    def fail(self, message: str) -> None:
        """Report the one error that ends the run."""
