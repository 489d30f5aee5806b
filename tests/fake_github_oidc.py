"""A fake GitHub Actions ID-token endpoint (``keyless.md`` §1.2, ``publishers-and-ci.md`` §C.3),
as pypa's ``id`` calls it: ``GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud>`` with
``Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`` answers ``{"value": "<jwt>"}``.

The JWT carries GitHub's standard claims for a job (issuer
``https://token.actions.githubusercontent.com``, ``aud`` the requested audience), derived
from ``claims``, which may override any of them (``None`` leaves a claim out). It is signed
HS256 with the key the fake identity providers share (``tests.support.jwt``), so the fake
Warehouse and the fake Entra refuse a forged or altered one. A wrong or missing request
token is answered 401, as GitHub does. Every request is recorded.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.support import register_secret
from tests.support.jwt import sign

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
REQUEST_URL_VARIABLE = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_VARIABLE = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
API_VERSION = "2.0"
# Secret labels unique across fakes, so that two fakes in one test do not share one.
_SERIAL = itertools.count(1)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # with its query
    headers: dict[str, str]  # names in lower case
    body: bytes = field(default=b"", repr=False)


class QuickServer(ThreadingHTTPServer):
    """127.0.0.1, daemon threads, a listen backlog for bursts of concurrent requests."""

    daemon_threads = True
    request_queue_size = 64


def github_claims(overrides: Mapping[str, object], audience: str | None) -> dict[str, object]:
    """The claims of a GitHub Actions ID token for a job (docs.github.com, "About security
    hardening with OpenID Connect"), after ``overrides``; ``None`` drops a claim. ``sub``,
    ``repository_owner`` and the workflow refs follow the overridden repository, ref,
    environment and event unless given themselves. Without an audience, GitHub's default:
    the URL of the repository owner. The time claims and ``jti`` come from
    ``tests.support.jwt.sign`` unless overridden."""

    def given(name: str, default: str) -> str:
        value = overrides.get(name, default)
        return default if value is None else str(value)

    repository = given("repository", "octo-org/octo-repo")
    owner = given("repository_owner", repository.partition("/")[0])
    ref = given("ref", "refs/heads/main")
    event_name = given("event_name", "push")
    environment = overrides.get("environment")
    if environment is not None:
        subject = f"repo:{repository}:environment:{environment}"
    elif event_name in ("pull_request", "pull_request_target"):
        subject = f"repo:{repository}:pull_request"
    else:
        subject = f"repo:{repository}:ref:{ref}"
    sha = given("sha", "5b2ea4d4b1a2a1c9a5d7c3e6f8a9b0c1d2e3f4a5")
    workflow_ref = f"{repository}/.github/workflows/release.yml@{ref}"
    claims: dict[str, object] = {
        "iss": GITHUB_ISSUER,
        "aud": f"https://github.com/{owner}" if audience is None else audience,
        "sub": subject,
        "ref": ref,
        "sha": sha,
        "repository": repository,
        "repository_owner": owner,
        "repository_owner_id": "1234567",
        "repository_id": "7654321",
        "repository_visibility": "public",
        "run_id": "9876543210",
        "run_number": "42",
        "run_attempt": "1",
        "actor": "octocat",
        "actor_id": "583231",
        "workflow": "Release",
        "head_ref": "",
        "base_ref": "",
        "event_name": event_name,
        "ref_protected": "true",
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "workflow_ref": workflow_ref,
        "workflow_sha": sha,
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": sha,
        "runner_environment": "github-hosted",
    }
    if environment is not None:
        claims["environment"] = str(environment)
        claims["environment_node_id"] = "EN_kwDOAAAAAAAAAAAA"
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


class FakeGitHubOidc:
    """``FakeGitHubOidc(key, claims).start()``; give a job ``env()`` (with ``GITHUB_ACTIONS``
    set to ``true``) and ``id.detect_credential(audience)`` gets a token from it."""

    def __init__(self, key: bytes, claims: Mapping[str, object] | None = None) -> None:
        self.key = key
        # Read at each request: a test may change them between two requests.
        self.claims: dict[str, object] = dict(claims or {})
        self.token_lifetime = 300  # GitHub's ID tokens live about five minutes
        self.request_token = register_secret(
            f"github id-token request token {next(_SERIAL)}", secrets.token_urlsafe(32)
        )
        self.issued: list[str] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        # The shape of GitHub's URL: the run service, a plan and a job, then the route.
        self.path = (
            f"/{uuid.uuid4().hex[:12]}/00000000-0000-0000-0000-000000000000/_apis/"
            f"distributedtask/hubs/Actions/plans/{uuid.uuid4()}/jobs/{uuid.uuid4()}/idtoken"
        )
        self._server = QuickServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def request_url(self) -> str:
        """What ACTIONS_ID_TOKEN_REQUEST_URL holds: it has a query of its own, which is why
        clients append ``&audience=`` to it."""
        return f"{self.origin}{self.path}?api-version={API_VERSION}"

    def env(self) -> dict[str, str]:
        """The variables of a job with ``permissions: id-token: write``."""
        return {
            REQUEST_URL_VARIABLE: self.request_url,
            REQUEST_TOKEN_VARIABLE: self.request_token,
        }

    def start(self) -> FakeGitHubOidc:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGitHubOidc:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer(self, method: str, target: str, authorization: str | None) -> tuple[int, str, bytes]:
        """Status, content type and body for a request."""
        parts = urlsplit(target)
        if parts.path != self.path:
            return 404, "text/plain; charset=utf-8", b"Not Found"
        if method != "GET":
            return 405, "text/plain; charset=utf-8", b"Method Not Allowed"
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            value.encode(), self.request_token.encode()
        ):
            return 401, "text/plain; charset=utf-8", b"Unauthorized"
        query = parse_qs(parts.query)
        if query.get("api-version") != [API_VERSION]:
            return (
                400,
                "application/json; charset=utf-8",
                json.dumps(
                    {"message": "The api-version query parameter is missing or not supported."}
                ).encode(),
            )
        audience = query.get("audience")
        claims = github_claims(self.claims, audience[0] if audience else None)
        token = sign(claims, self.key, lifetime=self.token_lifetime)
        with self._lock:
            self.issued.append(token)
            register_secret(f"github oidc token {next(_SERIAL)}", token)
        return 200, "application/json; charset=utf-8", json.dumps({"value": token}).encode()


def _handler_for(fake: FakeGitHubOidc) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            fake.requests.append(
                RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}
                )
            )
            status, content_type, body = fake.answer(
                self.command, self.path, self.headers.get("Authorization")
            )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _dispatch

    return Handler
