"""Rendering the ``.pypirc`` in upstream's layout, which twine and the other clients read."""

from __future__ import annotations

from collections.abc import Sequence

from .repository import Repository
from .validation import check_section_name, check_unique_names, check_url, check_value


def render_pypirc(repositories: Sequence[Repository], line_ending: str = "\n") -> str:
    """``[distutils]`` with ``index-servers`` naming every section (twine reads only those),
    then one section per repository with ``repository``, ``username``, ``password`` in that
    order, a blank line between sections and a newline at the end.

    Values are checked again here, so the library API cannot write a broken file either.
    """
    check_unique_names((repository.name, repository.origin) for repository in repositories)
    lines = ["[distutils]", "index-servers=" + " ".join(r.name for r in repositories)]
    for repository in repositories:
        check_section_name(repository.name, f"{repository.origin} {repository.name}: name")
        check_url(repository.url, f"{repository.origin} {repository.name}: URL")
        check_value(repository.username, f"{repository.origin} {repository.name}: username")
        check_value(
            repository.password, f"{repository.origin} {repository.name}: password", secret=True
        )
        lines += [
            "",
            f"[{repository.name}]",
            f"repository={repository.url}",
            f"username={repository.username}",
            f"password={repository.password}",
        ]
    return line_ending.join(lines) + line_ending
