"""Short-lived, private credentials for uploading Python packages from CI.

The library does what the command does, network settings (proxy, CA) and storage included,
and prints nothing::

    import os
    from twine_authenticate import Options, authenticate

    outcome = authenticate(Options(artifact_feeds=("MyProject/MyFeed",)), os.environ)
    print(outcome.path)  # the .pypirc; outcome.variables: what to export

``resolve_repositories`` gives the repositories without writing a file, ``render_pypirc`` the
file's text, ``render_client_export`` the variables one publishing client reads, and
``cleanup`` removes what ``authenticate`` wrote.

Names are imported on first use, so that the command line pays only for what it runs.
"""

from __future__ import annotations

from ._records import TYPE_CHECKING
from ._version import __version__

if TYPE_CHECKING:
    from typing import Any

    from .clients import CLIENTS, ClientExport, Variable, render_client_export
    from .commands.authenticate import Authenticated, authenticate, resolve_repositories
    from .commands.cleanup import Cleaned, cleanup
    from .errors import InputError, ServiceError, StorageError, TwineAuthenticateError
    from .pypirc import render_pypirc
    from .repository import Repository
    from .settings import Options
    from .sources.declared import read_declared_repositories

_HOMES = {
    "CLIENTS": "clients",
    "ClientExport": "clients",
    "Variable": "clients",
    "render_client_export": "clients",
    "Authenticated": "commands.authenticate",
    "authenticate": "commands.authenticate",
    "resolve_repositories": "commands.authenticate",
    "Cleaned": "commands.cleanup",
    "cleanup": "commands.cleanup",
    "InputError": "errors",
    "ServiceError": "errors",
    "StorageError": "errors",
    "TwineAuthenticateError": "errors",
    "render_pypirc": "pypirc",
    "Repository": "repository",
    "Options": "settings",
    "read_declared_repositories": "sources.declared",
}

__all__ = [
    "CLIENTS",
    "Authenticated",
    "Cleaned",
    "ClientExport",
    "InputError",
    "Options",
    "Repository",
    "ServiceError",
    "StorageError",
    "TwineAuthenticateError",
    "Variable",
    "__version__",
    "authenticate",
    "cleanup",
    "read_declared_repositories",
    "render_client_export",
    "render_pypirc",
    "resolve_repositories",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value
