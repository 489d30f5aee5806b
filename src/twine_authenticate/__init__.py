"""Short-lived, private credentials for uploading Python packages from CI.

The library API mirrors the command: build a ``Request`` from flags or the Azure task
contract, resolve it to ``Repository`` entries, render them as a ``.pypirc``::

    from twine_authenticate import Flags, build_request, resolve_repositories, render_pypirc

    request = build_request(Flags(artifact_feeds=["MyProject/MyFeed"]), os.environ)
    text = render_pypirc(resolve_repositories(request, os.environ))

``render_client_export`` gives the variables one publishing client reads for a repository, and
``read_declared_repositories`` the repositories a ``pyproject.toml`` declares.
"""

from ._version import __version__
from .clients import CLIENTS, ClientExport, Variable, render_client_export
from .errors import InputError, ServiceError, StorageError, TwineAuthenticateError
from .inputs import FeedReference, Flags, Request, build_request
from .pypirc import render_pypirc
from .repository import Repository
from .resolve import resolve_repositories
from .sources.declared import read_declared_repositories
from .storage import write_private_file

__all__ = [
    "CLIENTS",
    "ClientExport",
    "FeedReference",
    "Flags",
    "InputError",
    "Repository",
    "Request",
    "ServiceError",
    "StorageError",
    "TwineAuthenticateError",
    "Variable",
    "__version__",
    "build_request",
    "read_declared_repositories",
    "render_client_export",
    "render_pypirc",
    "resolve_repositories",
    "write_private_file",
]
