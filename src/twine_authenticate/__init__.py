"""Short-lived, private credentials for uploading Python packages from CI.

The library API mirrors the command: build a ``Request`` from flags or the Azure task
contract, resolve it to ``Repository`` entries, render them as a ``.pypirc``::

    from twine_authenticate import Flags, build_request, resolve_repositories, render_pypirc

    request = build_request(Flags(artifact_feeds=["MyProject/MyFeed"]), os.environ)
    text = render_pypirc(resolve_repositories(request, os.environ))
"""

from ._version import __version__
from .errors import InputError, ServiceError, StorageError, TwineAuthenticateError
from .inputs import FeedReference, Flags, Request, build_request
from .pypirc import render_pypirc
from .repository import Repository
from .resolve import resolve_repositories
from .storage import write_private_file

__all__ = [
    "FeedReference",
    "Flags",
    "InputError",
    "Repository",
    "Request",
    "ServiceError",
    "StorageError",
    "TwineAuthenticateError",
    "__version__",
    "build_request",
    "render_pypirc",
    "resolve_repositories",
    "write_private_file",
]
