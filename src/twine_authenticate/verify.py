"""``--verify``: prove that an index accepts the credentials before anything is uploaded, by
reading its simple index (PEP 503) with them. Uploading is the only other proof, and PyPI
offers nothing else, so PyPI tokens are reported as not checkable."""

from __future__ import annotations

import base64

from .errors import ServiceError
from .repository import Repository
from .sources.repository_flag import password_variable
from .transport import Transport
from .urls import is_pypi_upload, join_under, parse_url
from .validation import is_plain_http_to_remote_host


def simple_index_url(upload_url: str) -> str | None:
    """Where an index's simple pages are, for the common upload URL shapes; None for PyPI."""
    if is_pypi_upload(upload_url):
        return None
    path = parse_url(upload_url, "upload URL").path.rstrip("/")
    if path.lower().endswith("/pypi/upload"):  # Azure Artifacts
        return join_under(upload_url.rpartition("/upload")[0], "simple/")
    # pypiserver, devpi, Nexus, Artifactory, GitLab: the simple index lives under the upload URL.
    return join_under(upload_url, "simple/")


def _where_credentials_come_from(repository: Repository) -> str:
    if repository.origin == "--repository":
        return f"the value of {password_variable(repository.name)}"
    return f"the credentials of the {repository.origin}"


def verify_repository(repository: Repository, transport: Transport) -> str:
    """A line for the summary, or a ServiceError when the index refuses the credentials."""
    url = simple_index_url(repository.url)
    if url is None:
        return (
            f"{repository.name}: PyPI offers no way to check a token without uploading; "
            "not checked."
        )
    if is_plain_http_to_remote_host(url):
        # The same rule as everywhere: our own check sends nothing over plain http to another
        # machine (the upload itself is the user's choice, and is warned about).
        return (
            f"{repository.name}: {url} is plain http to another machine, so the credentials "
            "were not sent to check them; not checked."
        )
    pair = f"{repository.username}:{repository.password}".encode()
    headers = {
        "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
        "Accept": "text/html",
    }
    response = transport.send("GET", url, headers, what=f"checking {repository.name}")
    if response.status in (401, 403):
        raise ServiceError(
            f"{repository.name}: {url} refused the credentials ({response.status} "
            f"{response.reason}) for user {repository.username!r}; check "
            f"{_where_credentials_come_from(repository)}."
        )
    if 200 <= response.status < 300:
        return f"{repository.name}: credentials accepted by {url}."
    return (
        f"{repository.name}: {url} answered {response.status} {response.reason}, so the "
        "credentials could not be checked there; not checked."
    )
