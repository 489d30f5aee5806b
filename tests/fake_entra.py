"""A fake Microsoft Entra token endpoint (``keyless.md`` §2, ``azure-devops-http.md`` §7.2):
``POST /<tenant>/oauth2/v2.0/token`` exchanging a client assertion (an OIDC token) for an
access token, for applications with federated identity credentials.

It checks what Entra checks, in a similar order, and answers with Entra's error shape and
AADSTS codes: the tenant (90002), the grant and assertion type, the scope (70011), the
application (700016), the assertion's signature (here HS256 with a key the fake identity
providers share) and time (700024), then the federated credentials: issuer (700211), subject
(700213) and audience (700212), each an exact, case-sensitive match. Access tokens it issues
are handed to ``on_issue`` (the fake feed accepts them).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.support.jwt import verify

AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class FederatedCredential:
    issuer: str
    subject: str
    audience: str = EXCHANGE_AUDIENCE


@dataclass
class Application:
    client_id: str
    tenant: str
    credentials: list[FederatedCredential] = field(default_factory=list)


@dataclass(frozen=True)
class TokenRequest:
    tenant: str
    form: dict[str, str]


class FakeEntra:
    def __init__(self, key: bytes, on_issue: Callable[[str], None] = lambda token: None):
        self.key = key
        self.on_issue = on_issue
        self.tenants: set[str] = set()
        self.applications: dict[str, Application] = {}
        self.requests: list[TokenRequest] = []
        self.issued: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def authority(self) -> str:
        """What AZURE_AUTHORITY_HOST names: the fake in place of login.microsoftonline.com."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def add_application(
        self, tenant: str, *credentials: FederatedCredential, client_id: str = ""
    ) -> Application:
        self.tenants.add(tenant)
        application = Application(client_id or str(uuid.uuid4()), tenant, list(credentials))
        self.applications[application.client_id] = application
        return application

    def start(self) -> FakeEntra:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        self.requests.append(TokenRequest(tenant, form))
        if tenant not in self.tenants:
            return _error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", 70003, "The grant type is not supported.")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return _error(400, "invalid_request", 50027, "Invalid client assertion type.")
        if form.get("scope") != AZURE_DEVOPS_SCOPE:
            return _error(400, "invalid_scope", 70011, "The provided scope is not valid.")
        application = self.applications.get(form.get("client_id", ""))
        if application is None or application.tenant != tenant:
            return _error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{tenant}'.",
            )
        claims = verify(form.get("client_assertion", ""), self.key)
        if claims is None:
            return _error(401, "invalid_client", 50027, "Invalid JWT token: bad signature.")
        now = time.time()
        not_before, expires = claims.get("nbf", 0), claims.get("exp", 0)
        if not (
            isinstance(not_before, (int, float))
            and isinstance(expires, (int, float))
            and not_before - 300 <= now <= expires + 300
        ):
            return _error(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range.",
            )
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        same_issuer = [c for c in application.credentials if c.issuer == claims.get("iss")]
        if not same_issuer:
            return _error(
                400,
                "invalid_request",
                700211,
                "No matching federated identity record found for presented assertion issuer.",
            )
        same_subject = [c for c in same_issuer if c.subject == claims.get("sub")]
        if not same_subject:
            return _error(
                400,
                "invalid_request",
                700213,
                "No matching federated identity record found for presented assertion subject.",
            )
        if not any(c.audience in audiences for c in same_subject):
            return _error(
                400,
                "invalid_request",
                700212,
                "No matching federated identity record found for presented assertion audience.",
            )
        token = "entra." + secrets.token_urlsafe(32)
        self.issued.append(token)
        self.on_issue(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": token,
        }


def _error(status: int, error: str, code: int, text: str) -> tuple[int, dict[str, object]]:
    return status, {
        "error": error,
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: {uuid.uuid4()}\r\nTimestamp: now",
        "error_codes": [code],
        "timestamp": "2026-11-27 00:00:00Z",
        "trace_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def _handler_for(fake: FakeEntra) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            parts = urlsplit(self.path).path.strip("/").split("/")
            if len(parts) != 4 or parts[1:] != ["oauth2", "v2.0", "token"]:
                status, answer = _error(404, "not_found", 0, "No such endpoint.")
            elif self.headers.get("Content-Type", "").split(";")[0] != (
                "application/x-www-form-urlencoded"
            ):
                status, answer = _error(
                    400, "invalid_request", 900144, "The request body must be form-encoded."
                )
            else:
                form = {key: values[0] for key, values in parse_qs(body).items()}
                status, answer = fake.answer(parts[0], form)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
