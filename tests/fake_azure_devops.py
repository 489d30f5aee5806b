"""A fake Azure DevOps organization on 127.0.0.1, following ../shared/spec/azure-devops-http.md.

One server stands in for dev.azure.com (the collection), pkgs.dev.azure.com (the packaging
host) and feeds.dev.azure.com, told apart by path prefix (spec §9):

    collection  http://127.0.0.1:P/<org>/
    pkgs        http://127.0.0.1:P/pkgs/<org>/
    feeds       http://127.0.0.1:P/feeds/<org>/

Uploads and simple-index reads are handed to a real pypiserver, so packages really land.
Tests can inject failures (any status, a number of times, a hang) and latency, and read the
log of every request.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.jwt import sign

PYPI_AREA_ID = "92f0314b-06c5-46e0-abe7-15fd9d13276a"
PACKAGING_AREA_ID = "7ab4e64e-c4d8-4f50-ae73-5ef2e21642a5"
UPLOAD_LOCATION_ID = "c7a75c1b-08ac-4b11-b468-6c7ef835c85e"
SIMPLE_LOCATION_ID = "93377a2c-f5fb-48b9-a8dc-7781441cabf1"
LOCATION_AREA_ENTRY = {
    "id": "e81700f7-3be2-46de-8624-2eb35882fcaa",
    "area": "Location",
    "resourceName": "ResourceAreas",
    "routeTemplate": "_apis/{resource}/{areaId}",
    "resourceVersion": 1,
    "minVersion": "3.2",
    "maxVersion": "7.2",
    "releasedVersion": "0.0",
}
PYPI_LOCATIONS = [
    {
        "id": UPLOAD_LOCATION_ID,
        "area": "pypi",
        "resourceName": "upload",
        "routeTemplate": "{project}/_packaging/{feedId}/pypi/upload",
        "resourceVersion": 1,
        "minVersion": "5.0",
        "maxVersion": "7.2",
        "releasedVersion": "5.0",
    },
    {
        "id": SIMPLE_LOCATION_ID,
        "area": "pypi",
        "resourceName": "simple",
        "routeTemplate": "{project}/_packaging/{feedId}/pypi/simple/{*packageName}",
        "resourceVersion": 1,
        "minVersion": "5.0",
        "maxVersion": "7.2",
        "releasedVersion": "5.0",
    },
]
ANONYMOUS_BODY = (
    "TF400813: Resource not available for anonymous access. Client authentication required."
)
FEED_EXCEPTION_TYPE = (
    "Microsoft.VisualStudio.Services.Feed.WebApi.{0}, Microsoft.VisualStudio.Services.Feed.WebApi"
)


def wrapped_exception(
    type_key: str, message: str, type_name: str | None = None
) -> dict[str, object]:
    return {
        "$id": "1",
        "innerException": None,
        "message": message,
        "typeName": type_name or FEED_EXCEPTION_TYPE.format(type_key),
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    }


@dataclass
class Feed:
    name: str
    project: str | None = None
    can_read: bool = True
    can_publish: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Fault:
    """Answer ``status`` (or hang for ``hang`` seconds) to matching requests, ``times`` times."""

    path_contains: str
    status: int = 503
    times: int = 1
    method: str | None = None
    hang: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Upload:
    feed: str
    project: str | None
    filename: str
    status: int


class FakeAzureDevOps:
    def __init__(
        self,
        *,
        token: str,
        index_url: str,
        index_credentials: tuple[str, str],
        organization: str = "contoso",
        tenant: str = "11111111-2222-3333-4444-555555555555",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.token = token
        self.index_url = index_url.rstrip("/")
        self.index_credentials = index_credentials
        self.organization = organization
        self.tenant = tenant
        # Workload identity (spec §7): connections whose OIDC tokens the pipeline hands out,
        # signed with the key the fake Entra checks, and the Entra tokens the feeds accept.
        self.signing_key = b"fake identity providers " + uuid.uuid4().bytes
        self.organization_id = str(uuid.uuid4())
        self.project_name = "Project"
        self.oidc_connections: dict[str, str] = {}  # connection id -> its name
        self.accepted_tokens: set[str] = set()
        self.oidc_issued: list[str] = []
        self.feeds: list[Feed] = []
        self.faults: list[Fault] = []
        self.requests: list[RecordedRequest] = []
        self.uploads: list[Upload] = []
        self.latency = 0.0
        self.serve_upload_location = True
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._gates: list[tuple[str, threading.Barrier]] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self.scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        # stop() waits for the serving loop to notice; a short poll keeps that quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- addresses ---------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def collection_url(self) -> str:
        return f"{self.base_url}/{self.organization}/"

    @property
    def pkgs_url(self) -> str:
        return f"{self.base_url}/pkgs/{self.organization}/"

    @property
    def feeds_url(self) -> str:
        return f"{self.base_url}/feeds/{self.organization}/"

    def upload_url(self, feed: str, project: str | None = None) -> str:
        return f"{self.pkgs_url}{project + '/' if project else ''}_packaging/{feed}/pypi/upload"

    # -- control -----------------------------------------------------------------------------
    def start(self) -> FakeAzureDevOps:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAzureDevOps:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def add_feed(
        self,
        name: str,
        project: str | None = None,
        *,
        can_read: bool = True,
        can_publish: bool = True,
    ) -> Feed:
        feed = Feed(name=name, project=project, can_read=can_read, can_publish=can_publish)
        self.feeds.append(feed)
        return feed

    def inject(
        self, path_contains: str, status: int = 503, times: int = 1, **options: object
    ) -> Fault:
        fault = Fault(path_contains=path_contains, status=status, times=times, **options)  # type: ignore[arg-type]
        self.faults.append(fault)
        return fault

    def gather(self, path_contains: str, count: int, timeout: float = 5.0) -> None:
        """Hold each matching request until ``count`` of them are in flight together, then
        answer them all. If they do not all come within ``timeout`` seconds, stop holding
        (every waiting request goes on): a test of concurrency then sees the low
        ``max_in_flight`` it was meant to catch, with no dependence on timing otherwise."""
        self._gates.append((path_contains.lower(), threading.Barrier(count, timeout=timeout)))

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        needle = path_contains.lower()
        return [
            r
            for r in self.requests
            if needle in r.path.lower() and (method is None or r.method == method)
        ]

    # -- helpers used by the handler ---------------------------------------------------------
    def take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if (
                    fault.times > 0
                    and fault.path_contains.lower() in path.lower()
                    and (fault.method is None or fault.method == method)
                ):
                    fault.times -= 1
                    return fault
        return None

    def wait_at_gate(self, path: str) -> None:
        for needle, barrier in self._gates:
            if needle in path.lower():
                try:
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass  # timed out (or broken by another request that did): go on

    def find_feed(self, feed_name: str, project: str | None) -> Feed | None:
        for feed in self.feeds:
            same_project = (feed.project or "").lower() == (project or "").lower()
            if same_project and feed_name.lower() in (feed.name.lower(), feed.id):
                return feed
        return None

    def credentials_state(self, authorization: str | None) -> str:
        """'none', 'valid' or 'invalid'. Basic with any username, or Bearer (spec §4.1): the
        job token, or an Entra access token issued for the organization (spec §7)."""
        if not authorization:
            return "none"
        accepted = {self.token, *self.accepted_tokens}
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return "valid" if value in accepted else "invalid"
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                return "invalid"
            return "valid" if decoded.partition(":")[2] in accepted else "invalid"
        return "invalid"

    def oidc_request_uri(self, plan: str = "plan-1", job: str = "job-1") -> str:
        """SYSTEM_OIDCREQUESTURI as the agent sets it for a task (spec §7.1)."""
        return (
            f"{self.collection_url}{self.project_id}/_apis/distributedtask/hubs/build/plans/"
            f"{plan}/jobs/{job}/oidctoken"
        )

    @property
    def project_id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.project_name))

    def oidc_identity(self, connection_id: str) -> tuple[str, str]:
        """The issuer and subject of the connection's OIDC tokens (keyless.md §2)."""
        name = self.oidc_connections[connection_id]
        return (
            f"https://vstoken.dev.azure.com/{self.organization_id}",
            f"sc://{self.organization}/{self.project_name}/{name}",
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The tool sends its checks together (twenty feeds, twenty connections at once). With
    # the default listen backlog of 5, a busy machine's kernel drops some of them and the
    # client waits a second or more to try again.
    request_queue_size = 128


_PACKAGING_ROUTE = re.compile(
    r"^(?:(?P<project>[^/]+)/)?_packaging/(?P<feed>[^/]+)/pypi/(?P<kind>upload|simple)(?:/(?P<rest>.*))?$",
    re.IGNORECASE,
)
_OIDC_ROUTE = re.compile(
    r"^[^/]+/_apis/distributedtask/hubs/build/plans/[^/]+/jobs/[^/]+/oidctoken/?$",
    re.IGNORECASE,
)
_FEED_API_ROUTE = re.compile(
    r"^(?:(?P<project>[^/]+)/)?_apis/packaging/feeds/(?P<feed>[^/]+)/?$", re.IGNORECASE
)


def _handler_for(fake: FakeAzureDevOps) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        # -- plumbing ------------------------------------------------------------------------
        def _send(
            self,
            status: int,
            body: bytes | str | Mapping[str, object] | list[object] = b"",
            *,
            reason: str | None = None,
            content_type: str = "application/json; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            if isinstance(body, (Mapping, list)):
                data = json.dumps(body).encode()
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = body
            self.send_response(status, reason)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _unauthorized(self) -> None:
            self._send(
                401,
                ANONYMOUS_BODY,
                reason="Unauthorized",
                content_type="text/plain; charset=utf-8",
                headers={
                    "WWW-Authenticate": (
                        "Bearer authorization_uri=https://login.microsoftonline.com/"
                        f'{fake.tenant}, Basic realm="{fake.base_url}/", TFS-Federated'
                    ),
                    "X-TFS-FedAuthRealm": fake.base_url,
                    "X-VSS-ResourceTenant": fake.tenant,
                },
            )

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _dispatch(self) -> None:
            body = self._body()
            path = unquote(urlsplit(self.path).path)
            fake.requests.append(
                RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                )
            )
            with fake._lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                self._handle(body, path)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _handle(self, body: bytes, path: str) -> None:
            fake.wait_at_gate(self.path)
            if fake.latency:
                time.sleep(fake.latency)
            fault = fake.take_fault(self.command, self.path)
            if fault is not None:
                if fault.hang:
                    time.sleep(fault.hang)
                self._send(fault.status, fault.body, headers=fault.headers)
                return
            auth = fake.credentials_state(self.headers.get("Authorization"))
            if auth == "invalid":
                self._unauthorized()
                return
            self._route(path.strip("/"), auth, body)

        do_GET = do_POST = do_OPTIONS = do_HEAD = do_PUT = _dispatch

        # -- routes --------------------------------------------------------------------------
        def _route(self, path: str, auth: str, body: bytes) -> None:
            org = fake.organization.lower()
            lower = path.lower()
            for prefix, host in (
                (f"pkgs/{org}", "pkgs"),
                (f"feeds/{org}", "feeds"),
                (org, "collection"),
            ):
                if lower == prefix or lower.startswith(prefix + "/"):
                    self._route_host(host, path[len(prefix) :].strip("/"), auth, body)
                    return
            self._send(
                404, wrapped_exception("NotFound", f"no route for /{path}", "System.Exception")
            )

        def _route_host(self, host: str, rest: str, auth: str, body: bytes) -> None:
            lower = rest.lower()
            method = self.command
            if (
                host == "collection"
                and method == "OPTIONS"
                and lower in ("_apis", "_apis/location")
            ):
                self._send(200, {"count": 1, "value": [LOCATION_AREA_ENTRY]})
                return
            if host == "collection" and method == "POST" and _OIDC_ROUTE.match(rest):
                self._oidc_token(rest)
                return
            if host == "collection" and method == "GET" and lower.startswith("_apis/resourceareas"):
                self._resource_areas(lower.removeprefix("_apis/resourceareas").strip("/"))
                return
            # The collection is the packaging host on-premises, so it serves these routes too.
            if (
                host in ("pkgs", "collection")
                and method == "OPTIONS"
                and lower in ("_apis", "_apis/pypi")
            ):
                locations = [
                    entry
                    for entry in PYPI_LOCATIONS
                    if fake.serve_upload_location or entry["id"] != UPLOAD_LOCATION_ID
                ]
                self._send(200, {"count": len(locations), "value": locations})
                return
            feed_api = _FEED_API_ROUTE.match(rest)
            if host in ("feeds", "collection") and feed_api:
                self._feed_api(feed_api["feed"], feed_api["project"], auth)
                return
            packaging = _PACKAGING_ROUTE.match(rest)
            if host in ("pkgs", "collection") and packaging:
                if auth == "none":
                    self._unauthorized()
                    return
                self._packaging(
                    packaging["feed"],
                    packaging["project"],
                    packaging["kind"].lower(),
                    packaging["rest"] or "",
                    body,
                )
                return
            if host == "pkgs" and auth == "none":
                self._unauthorized()
                return
            self._send(
                404, wrapped_exception("NotFound", f"no route for {rest}", "System.Exception")
            )

        def _oidc_token(self, rest: str) -> None:
            """Spec §7.1: the job token as Bearer; either api-version, in either order."""
            query = parse_qs(urlsplit(self.path).query)
            version = (query.get("api-version") or [""])[0]
            connection = (query.get("serviceConnectionId") or [""])[0]
            authorization = self.headers.get("Authorization", "")
            if authorization != f"Bearer {fake.token}":
                self._unauthorized()
                return
            if version not in ("7.1", "7.1-preview.1") or connection not in fake.oidc_connections:
                self._send(
                    400,
                    wrapped_exception(
                        "InvalidRequestException",
                        f"No workload identity service connection {connection!r}.",
                        "System.ArgumentException",
                    ),
                )
                return
            issuer, subject = fake.oidc_identity(connection)
            token = sign(
                {"iss": issuer, "sub": subject, "aud": "api://AzureADTokenExchange"},
                fake.signing_key,
            )
            fake.oidc_issued.append(token)
            self._send(200, {"oidcToken": token})

        def _resource_areas(self, area_id: str) -> None:
            areas = {
                PYPI_AREA_ID: {"id": PYPI_AREA_ID, "name": "PyPi", "locationUrl": fake.pkgs_url},
                PACKAGING_AREA_ID: {
                    "id": PACKAGING_AREA_ID,
                    "name": "Packaging",
                    "locationUrl": fake.feeds_url,
                },
            }
            if not area_id:
                self._send(200, {"count": len(areas), "value": list(areas.values())})
            elif area_id in areas:
                self._send(200, areas[area_id])
            else:
                self._send(
                    404,
                    wrapped_exception(
                        "ResourceAreaNotFoundException",
                        f"Resource area {area_id} was not found.",
                        "Microsoft.VisualStudio.Services.WebApi.ResourceAreaNotFoundException",
                    ),
                    reason="Not Found",
                )

        def _feed_not_found(self, feed_name: str) -> None:
            message = f"The feed with ID '{feed_name}' doesn't exist."
            self._send(
                404,
                wrapped_exception("FeedIdNotFoundException", message),
                reason=f"Not Found - {message}",
            )

        def _feed_api(self, feed_name: str, project: str | None, auth: str) -> None:
            if auth == "none":
                self._unauthorized()
                return
            feed = fake.find_feed(feed_name, project)
            if feed is None:
                self._feed_not_found(feed_name)
                return
            if not feed.can_read:
                message = (
                    "User '00000000-1111-2222-3333-444444444444' lacks permission to complete "
                    "this action. You need to have 'ReadPackages'."
                )
                self._send(
                    403,
                    wrapped_exception("FeedNeedsPermissionsException", message),
                    reason=f"Forbidden - {message}",
                )
                return
            project_info = (
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, feed.project)),
                    "name": feed.project,
                    "visibility": "private",
                }
                if feed.project
                else None
            )
            self._send(
                200,
                {
                    "id": feed.id,
                    "name": feed.name,
                    "fullyQualifiedName": feed.name,
                    "fullyQualifiedId": feed.id,
                    "description": "",
                    "url": f"{fake.feeds_url}_apis/Packaging/Feeds/{feed.id}",
                    "project": project_info,
                    "hideDeletedPackageVersions": True,
                    "badgesEnabled": False,
                    "upstreamEnabled": True,
                    "upstreamSources": [],
                    "capabilities": "upstreamV2",
                    "isReadOnly": False,
                    "view": None,
                    "viewId": None,
                    "viewName": None,
                },
            )

        def _packaging(
            self, feed_name: str, project: str | None, kind: str, rest: str, body: bytes
        ) -> None:
            feed = fake.find_feed(feed_name, project)
            if feed is None:
                self._feed_not_found(feed_name)
                return
            if kind == "simple" and self.command == "POST":
                self._send(
                    405,
                    {
                        "count": 1,
                        "value": {
                            "Message": "The requested resource does not support http method 'POST'."
                        },
                    },
                    reason="Method Not Allowed",
                )
                return
            if kind == "upload" and self.command == "POST":
                self._upload(feed, body)
                return
            if kind == "simple" and self.command in ("GET", "HEAD"):
                self._simple(feed, rest)
                return
            self._send(405, {"count": 1, "value": {"Message": "Method not allowed."}})

        def _index(
            self, method: str, path: str, body: bytes, content_type: str | None
        ) -> http.client.HTTPResponse:
            target = urlsplit(fake.index_url)
            connection = http.client.HTTPConnection(
                target.hostname or "127.0.0.1", target.port, timeout=30
            )
            user, password = fake.index_credentials
            headers = {
                "Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            }
            if content_type:
                headers["Content-Type"] = content_type
            connection.request(
                method, target.path.rstrip("/") + path, body=body or None, headers=headers
            )
            return connection.getresponse()

        def _upload(self, feed: Feed, body: bytes) -> None:
            match = re.search(rb'name="content"; filename="([^"]+)"', body)
            filename = match.group(1).decode() if match else "?"
            if not feed.can_publish:
                message = (
                    "User '00000000-1111-2222-3333-444444444444' lacks permission to complete "
                    "this action. You need to have 'AddPackage'."
                )
                fake.uploads.append(Upload(feed.name, feed.project, filename, 403))
                self._send(
                    403,
                    wrapped_exception("FeedNeedsPermissionsException", message),
                    reason=f"Forbidden - {message}",
                )
                return
            answer = self._index("POST", "/", body, self.headers.get("Content-Type"))
            answer.read()
            fake.uploads.append(Upload(feed.name, feed.project, filename, answer.status))
            if answer.status == 409:
                message = f"The feed '{feed.name}' already contains file '{filename}'."
                self._send(
                    409,
                    wrapped_exception(
                        "PackageAlreadyExistsException",
                        message,
                        "Microsoft.VisualStudio.Services.Packaging.Shared.WebApi.Exceptions."
                        "PackageAlreadyExistsException",
                    ),
                    reason=f"Conflict - {message}",
                )
                return
            self._send(200 if answer.status < 300 else answer.status, b"", reason=answer.reason)

        def _simple(self, feed: Feed, rest: str) -> None:
            answer = self._index(
                "GET", "/simple/" + (rest.strip("/") + "/" if rest.strip("/") else ""), b"", None
            )
            data = answer.read()
            self._send(
                answer.status, data, content_type=answer.getheader("Content-Type") or "text/html"
            )

    return Handler
