"""Programs some tests run that come from the operating system, not from pip: real shells.

A test asks for one with ``require_program``; if it is missing, the test is skipped with a
reason that starts with ``MISSING`` and names the Debian package to install. ``scripts/test``
installs the missing packages first when it can (as root, with apt-get). Under
``TWINE_AUTHENTICATE_STRICT_TESTS=1`` (CI sets it) conftest turns such a skip into a failure,
so a machine that lacks one cannot pass by skipping.

``print_missing_packages`` prints the Debian packages of the missing programs, one a line:
that is how ``scripts/test`` knows what to install.
"""

from __future__ import annotations

import os
import shutil

import pytest

# program -> the Debian package that installs it (bash and dash come with Debian itself).
PACKAGES = {"bash": "bash", "dash": "dash", "zsh": "zsh", "fish": "fish"}
MISSING = "missing OS tool:"
STRICT_VARIABLE = "TWINE_AUTHENTICATE_STRICT_TESTS"


def strict() -> bool:
    return os.environ.get(STRICT_VARIABLE) == "1"


def missing_reason(program: str) -> str:
    package = PACKAGES[program]
    return (
        f"{MISSING} {program} is not installed; install the Debian package {package!r} "
        f"(./scripts/test does it when run as root)"
    )


def require_program(program: str) -> str:
    """The path of ``program``; the test is skipped (failed, when strict) if it is missing."""
    path = shutil.which(program)
    if path is None:
        pytest.skip(missing_reason(program))
    return path


def missing_packages() -> list[str]:
    return sorted({package for program, package in PACKAGES.items() if not shutil.which(program)})


def print_missing_packages() -> None:
    for package in missing_packages():
        print(package)
