"""The Azure DevOps location service: where a feed's PyPI upload URL lives.

Hosted (Azure DevOps Services): ``GET _apis/ResourceAreas/<PyPi area>`` gives the packaging
host, then ``OPTIONS <host>/_apis/PyPi`` gives the upload route template. On-premises the
collection URL is the packaging host. Upstream also sends ``OPTIONS _apis/Location`` first; the
resource-area route is well known, so we skip that round trip.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import quote

from .._records import NamedTuple
from .._version import __version__
from ..errors import ServiceError
from ..transport import Response, Transport
from ..urls import join_under
from ..validation import is_plain_http_to_remote_host
from .job_token import JobToken

PYPI_AREA_ID = "92F0314B-06C5-46E0-ABE7-15FD9D13276A"
PACKAGING_AREA_ID = "7AB4E64E-C4D8-4F50-AE73-5EF2E21642A5"  # the Feed service
FEED_API_VERSION = "7.1"
FEED_PERMISSIONS_DOCS = (
    "https://learn.microsoft.com/azure/devops/artifacts/feeds/feed-permissions"
    "#pipelines-permissions"
)
PYPI_UPLOAD_LOCATION_ID = "C7A75C1B-08AC-4B11-B468-6C7EF835C85E"
RESOURCE_AREA_API_VERSION = "7.2-preview.1"

# encodeURIComponent leaves these alone besides letters and digits; quote() adds "_.-~".
_URI_COMPONENT_SAFE = "!*'()"


class ApiLocation(NamedTuple):
    id: str
    area: str
    resource_name: str
    route_template: str


def expand_route_template(template: str, route_values: Mapping[str, str | None]) -> str:
    """Expand a route template as the Azure DevOps clients do: values percent-encoded like
    encodeURIComponent, a ``{*name}`` parameter looked up as ``name``, segments that end up
    empty dropped, ``{{``/``}}`` for literal braces; the result has no trailing slash."""
    segments: list[str] = []
    for segment in template.split("/"):
        out: list[str] = []
        index = 0
        while index < len(segment):
            if segment.startswith(("{{", "}}"), index):
                out.append(segment[index])
                index += 2
            elif segment[index] == "{" and "}" in segment[index:]:
                end = segment.index("}", index)
                name = segment[index + 1 : end]
                value = route_values.get(name) or route_values.get(
                    "".join(char for char in name if char.isalnum())
                )
                if value:
                    out.append(quote(value, safe=_URI_COMPONENT_SAFE))
                index = end + 1
            else:
                out.append(segment[index])
                index += 1
        if out:
            segments.append("".join(out))
    return "/".join(segments)


def require_private_channel(url: str, what: str) -> None:
    """The job token acts for the whole pipeline: refuse to send it over plain http to any
    host but this machine (decided by address, not by how the name begins)."""
    if is_plain_http_to_remote_host(url):
        raise ServiceError(
            f"{what}: refusing to send the job access token over plain http to {url}. Use the "
            "organization's https:// URL (System.TeamFoundationCollectionUri); an on-premises "
            "server needs https for this."
        )


class LocationService:
    """Location lookups against one organization or collection, with the job token."""

    def __init__(self, transport: Transport, collection_uri: str, token: JobToken) -> None:
        self.transport = transport
        self.collection_uri = collection_uri
        self.token = token
        credentials = base64.b64encode(f"vsts:{token.value}".encode()).decode("ascii")
        self._authorization = f"Basic {credentials}"

    def headers(self, accept: str = "application/json") -> dict[str, str]:
        return {
            "Accept": accept,
            "Authorization": self._authorization,
            "User-Agent": f"twine-authenticate/{__version__}",
            "X-TFS-FedAuthRedirect": "Suppress",
        }

    def send(self, method: str, url: str, headers: dict[str, str], *, what: str) -> Response:
        """Every call that carries the job token goes through here: never over plain http to
        another machine, whether the URL came from the pipeline or from a service's answer."""
        require_private_channel(url, what)
        return self.transport.send(method, url, headers, what=what)

    def _refused(self, response: Response, url: str, what: str) -> ServiceError:
        if response.status == 401:
            return ServiceError(
                f"{what}: the job access token (from {self.token.source}) was refused by {url} "
                "(401 Unauthorized). Make sure the job is allowed to use its token, and that the "
                "token belongs to this organization."
            )
        if response.status == 403:
            return ServiceError(f"{what}: the job identity may not read {url} (403 Forbidden).")
        return ServiceError(f"{what}: {url} answered {response.status} {response.reason}.")

    def _json(self, response: Response, url: str, what: str) -> object:
        try:
            return response.json()
        except ValueError:
            raise ServiceError(
                f"{what}: {url} answered with something that is not JSON (a sign-in page?). "
                "Check System.TeamFoundationCollectionUri."
            ) from None

    def packaging_base(self) -> str:
        """The packaging host of a hosted organization (for example pkgs.dev.azure.com/org/)."""
        return self.area_location(PYPI_AREA_ID, "PyPI")

    def feeds_base(self) -> str:
        """The Feed service host of a hosted organization (feeds.dev.azure.com/org/)."""
        return self.area_location(PACKAGING_AREA_ID, "Packaging")

    def area_location(self, area_id: str, area_name: str) -> str:
        url = join_under(self.collection_uri, f"_apis/ResourceAreas/{area_id}")
        what = f"looking up the {area_name} service of the organization"
        response = self.send(
            "GET",
            url,
            self.headers(f"application/json;api-version={RESOURCE_AREA_API_VERSION}"),
            what=what,
        )
        if response.status == 404:
            raise ServiceError(
                f"{what}: {self.collection_uri} has no {area_name} resource area (404). Check "
                "System.TeamFoundationCollectionUri, and System.ServerType (Hosted or OnPremises)."
            )
        if response.status != 200:
            raise self._refused(response, url, what)
        body = self._json(response, url, what)
        location = body.get("locationUrl") if isinstance(body, dict) else None
        if not isinstance(location, str) or "://" not in location:
            raise ServiceError(f"{what}: {url} gave no locationUrl for the {area_name} area.")
        return location

    def pypi_upload_location(self, packaging_base: str) -> ApiLocation:
        url = join_under(packaging_base, "_apis/PyPi")
        what = "looking up the PyPI upload route"
        response = self.send("OPTIONS", url, self.headers(), what=what)
        if response.status in (401, 403):
            raise self._refused(response, url, what)
        entries: object = None
        if response.status == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            entries = body.get("value") if isinstance(body, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if (
                isinstance(entry, dict)
                and str(entry.get("id", "")).lower() == PYPI_UPLOAD_LOCATION_ID.lower()
            ):
                template = entry.get("routeTemplate")
                if isinstance(template, str) and template:
                    return ApiLocation(
                        id=PYPI_UPLOAD_LOCATION_ID,
                        area=str(entry.get("area") or "PyPi"),
                        resource_name=str(entry.get("resourceName") or ""),
                        route_template=template,
                    )
        raise ServiceError(
            f"{what}: {url} lists no PyPI upload location (id {PYPI_UPLOAD_LOCATION_ID}; "
            f"answer {response.status} {response.reason}). The server may be too old for Python "
            "feeds, or the collection URL may be wrong."
        )


def feed_upload_url(base: str, location: ApiLocation, feed: str, project: str | None) -> str:
    relative = expand_route_template(
        location.route_template,
        {
            "feedId": feed,
            "project": project,
            "area": location.area,
            "resource": location.resource_name,
        },
    )
    return join_under(base, relative)


def build_service_identity(organization: str, project: str | None) -> str:
    """The identity a pipeline's job token acts as, which needs rights on the feed."""
    if project:
        return f"{project} Build Service ({organization})"
    return f"Project Collection Build Service ({organization})"


def check_feed(
    service: LocationService, feeds_base: str, feed: str, project: str | None, organization: str
) -> str | None:
    """Ask the Feed service whether the feed exists and the job identity can read it.

    Returns a message for the user when it cannot, so that all feeds' problems can be reported
    together; a refused token or a transport failure raises instead, as it concerns them all.
    """
    project_part = quote(project, safe=_URI_COMPONENT_SAFE) + "/" if project else ""
    relative = f"{project_part}_apis/packaging/feeds/{quote(feed, safe=_URI_COMPONENT_SAFE)}"
    url = join_under(feeds_base, relative) + f"?api-version={FEED_API_VERSION}"
    what = f"checking feed {feed}"
    response = service.send("GET", url, service.headers(), what=what)
    if response.status == 200:
        return None
    where = f"organization {organization}" + (f" (project {project})" if project else "")
    if response.status == 404:
        hint = (
            f" If the feed belongs to a project, write PROJECT/{feed}."
            if not project
            else " Check the feed and project names (Artifacts → the feed → Connect to feed)."
        )
        return f"feed {feed!r} not found in {where}.{hint}"
    if response.status == 403:
        identity = build_service_identity(organization, project)
        return (
            f"feed {feed!r} in {where}: the job identity may not use it (403). Give "
            f"'{identity}' the Feed Publisher (Contributor) role in the feed's Settings → "
            f"Permissions; see {FEED_PERMISSIONS_DOCS}"
        )
    raise service._refused(response, url, what)
