"""A fake Warehouse (PyPI) for Trusted Publishing (``keyless.md`` §1, ``publishers-and-ci.md``
§A.6 and §C.3), on 127.0.0.1:

    GET  /_/oidc/audience                   200 {"audience": ...}, 403 when turned off, 404
                                            from an index without the feature
    POST /_/oidc/mint-token                 {"token": "<jwt>"} -> 200 {"success": true,
    POST /_/oidc/github/mint-token          "token": "pypi-...", "expires": now + 900}, or 422
                                            {"message": "Token request failed", "errors": [...]}
    POST /legacy/                           uploads with Basic __token__:<a token it minted>,
                                            handed to a real pypiserver

The mint checks follow Warehouse's ``warehouse/oidc/views.py`` in its order: the body
(``invalid-payload`` with pydantic's message), the unverified JWT (``invalid-payload``,
"malformed JWT"), its issuer (``invalid-payload``, "unknown trusted publishing issuer"), the
admin flag (``not-enabled``), signature, time and audience (``invalid-token``, "malformed or
invalid token"; HS256 with the key the fake identity providers share, 30 s leeway), then the
publisher: claims the issuer's tokens must carry, the registered trusted publishers
(``invalid-publisher``, naming the claims that did not match), a ``pull_request_target``
event, and the ``jti`` already used (``invalid-reuse-token``).

Uploads with anything but a token it minted are refused 403 with PyPI's message, in the
status line and a text body, and never reach the index.
"""

from __future__ import annotations

import base64
import binascii
import http.client
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.fake_github_oidc import GITHUB_ISSUER, QuickServer, RecordedRequest
from tests.support import IndexServer, register_secret
from tests.support.jwt import verify

GITLAB_ISSUER = "https://gitlab.com"
GOOGLE_ISSUER = "https://accounts.google.com"
ACTIVESTATE_ISSUER = "https://platform.activestate.com/api/v1/oauth/oidc"
# Warehouse's OIDC_ISSUER_SERVICE_NAMES: the issuers whose tokens it takes.
ISSUER_SERVICES = {
    GITHUB_ISSUER: "github",
    GITLAB_ISSUER: "gitlab",
    GOOGLE_ISSUER: "google",
    ACTIVESTATE_ISSUER: "activestate",
}
# Claims a token must carry before any publisher is looked at (Warehouse's
# ``check_claims_existence``: the required verifiable and unverifiable claims).
REQUIRED_CLAIMS = {
    GITHUB_ISSUER: (
        "repository",
        "repository_owner",
        "repository_owner_id",
        "job_workflow_ref",
        "jti",
        "event_name",
        "ref",
        "sha",
    ),
    GITLAB_ISSUER: ("sub", "project_path", "ci_config_ref_uri", "jti", "ref_path", "sha"),
}


def gitlab_claims(audience: str = "pypi", **overrides: object) -> dict[str, object]:
    """The claims of a GitLab CI ID token (``id_tokens``) for project group/project on main,
    after ``overrides``: what GitLab puts in the job's variable."""
    return {
        "iss": GITLAB_ISSUER,
        "aud": audience,
        "sub": "project_path:group/project:ref_type:branch:ref:main",
        "project_path": "group/project",
        "ci_config_ref_uri": "gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main",
        "ref_path": "refs/heads/main",
        "ref": "main",
        "sha": "0" * 40,
        **overrides,
    }


JWT_LEEWAY = 30
TOKEN_LIFETIME = 900
MINT_FAILED = "Token request failed"
INVALID_AUTH = (
    "Invalid or non-existent authentication information. "
    "See {origin}/help/#invalid-auth for more information."
)
EXPIRED_TOKEN = "Invalid API Token: token is expired"
_SERIAL = itertools.count(1)  # secret labels unique across fakes


@dataclass
class TrustedPublisher:
    """A publisher registered on the index: tokens from ``issuer`` whose claims equal
    ``claims``; ``workflow`` is the workflow file, matched inside ``job_workflow_ref``."""

    issuer: str
    claims: dict[str, str] = field(default_factory=dict)

    def mismatches(self, token: Mapping[str, object]) -> list[str]:
        """The names of the token's claims that do not match, as the token names them."""
        names = []
        for name, expected in self.claims.items():
            if name == "workflow":
                if f"/.github/workflows/{expected}@" not in str(token.get("job_workflow_ref")):
                    names.append("job_workflow_ref")
            elif token.get(name) != expected:
                names.append(name)
        return names


@dataclass(frozen=True)
class MintedToken:
    token: str
    expires: int
    publisher: TrustedPublisher


@dataclass(frozen=True)
class Upload:
    filename: str
    status: int


class FakeWarehouse:
    def __init__(
        self,
        key: bytes,
        index: IndexServer,
        *,
        audience: str = "pypi",
        index_user: str = "uploader",
    ) -> None:
        self.key = key
        self.index = index
        self.index_user = index_user
        self.audience = audience
        self.supported = True  # False: an index without Trusted Publishing (404)
        self.enabled = True  # False: Warehouse's global "disallow OIDC" flag
        self.mint_enabled = True  # False: the issuer's own flag (not-enabled)
        self.publishers: list[TrustedPublisher] = []
        self.minted: list[str] = []
        self.tokens: dict[str, MintedToken] = {}
        self.used_jtis: set[tuple[str, str]] = set()
        self.uploads: list[Upload] = []
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = QuickServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- addresses ---------------------------------------------------------------------------
    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def upload_url(self) -> str:
        return f"{self.origin}/legacy/"

    # -- control -----------------------------------------------------------------------------
    def start(self) -> FakeWarehouse:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeWarehouse:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def add_publisher(self, issuer: str, **claims: str) -> TrustedPublisher:
        """Register a trusted publisher: e.g. ``add_publisher(GITHUB_ISSUER,
        repository="o/r", workflow="release.yml", environment="pypi")``. A claim it does not
        name is not checked (a publisher without ``environment`` takes any)."""
        publisher = TrustedPublisher(issuer, dict(claims))
        self.publishers.append(publisher)
        return publisher

    def expire(self, token: str) -> None:
        """Make a minted token expired, as it is 15 minutes after its minting."""
        with self._lock:
            minted = self.tokens[token]
            self.tokens[token] = MintedToken(token, int(time.time()) - 1, minted.publisher)

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if path_contains in r.path and (method is None or r.method == method)
        ]

    # -- the exchange ------------------------------------------------------------------------
    def audience_answer(self) -> tuple[int, dict[str, object]]:
        if not self.enabled:
            return 403, {"message": "Trusted publishing functionality not enabled"}
        return 200, {"audience": self.audience}

    def mint(self, body: bytes) -> tuple[int, dict[str, object]]:
        payload, problem = _token_payload(body)
        if payload is None:
            return _invalid("invalid-payload", problem)
        unverified = _unverified_claims(payload)
        if unverified is None or "iss" not in unverified:
            return _invalid("invalid-payload", "malformed JWT")
        issuer = unverified["iss"]
        known = {*ISSUER_SERVICES, *(p.issuer for p in self.publishers)}
        if not isinstance(issuer, str) or issuer not in known:
            return _invalid("invalid-payload", "unknown trusted publishing issuer")
        service = ISSUER_SERVICES.get(issuer, "custom")
        if not (self.enabled and self.mint_enabled):
            return _invalid(
                "not-enabled", f"{service} trusted publishing functionality not enabled"
            )
        claims = self._verified(payload, issuer)
        if claims is None:
            return _invalid("invalid-token", "malformed or invalid token")
        return self._publish(issuer, claims)

    def _verified(self, token: str, issuer: str) -> dict[str, object] | None:
        """The claims, if signed with the key, for this index and within their time: what
        PyJWT checks for Warehouse (required iss, iat, exp, aud; a single audience)."""
        claims = verify(token, self.key)
        if claims is None or claims.get("iss") != issuer:
            return None
        issued, expires = _seconds(claims.get("iat")), _seconds(claims.get("exp"))
        not_before = _seconds(claims.get("nbf", issued))
        if issued is None or expires is None or not_before is None:
            return None
        now = time.time()
        if now > expires + JWT_LEEWAY or max(issued, not_before) > now + JWT_LEEWAY:
            return None
        if claims.get("aud") != self.audience:  # strict: a list of audiences is refused too
            return None
        return claims

    def _publish(self, issuer: str, claims: dict[str, object]) -> tuple[int, dict[str, object]]:
        for name in REQUIRED_CLAIMS.get(issuer, ()):
            if claims.get(name) is None:
                return _no_publisher(f"Missing claim {name!r}")
        candidates = [p for p in self.publishers if p.issuer == issuer]
        matching = [p for p in candidates if not p.mismatches(claims)]
        if not matching:
            detail = "Publisher with matching claims was not found"
            if candidates:
                closest = min((p.mismatches(claims) for p in candidates), key=len)
                detail += "; claims that did not match: " + ", ".join(map(repr, closest))
            return _no_publisher(detail)
        # The most specific publisher: one naming an environment before one that does not.
        publisher = max(matching, key=lambda p: "environment" in p.claims)
        if issuer == GITHUB_ISSUER and claims.get("event_name") == "pull_request_target":
            return _no_publisher(
                "Publishing from a workflow invoked via 'pull_request_target' is not supported."
            )
        jti = claims.get("jti")
        expires = int(time.time()) + TOKEN_LIFETIME
        token = "pypi-" + secrets.token_urlsafe(48)
        with self._lock:
            if jti is not None:
                if (issuer, str(jti)) in self.used_jtis:
                    return _invalid("invalid-reuse-token", "invalid token: already used")
                self.used_jtis.add((issuer, str(jti)))
            self.minted.append(token)
            self.tokens[token] = MintedToken(token, expires, publisher)
            register_secret(f"warehouse minted token {next(_SERIAL)}", token)
        return 200, {"success": True, "token": token, "expires": expires}

    # -- uploads -----------------------------------------------------------------------------
    def upload_refusal(self, authorization: str | None) -> str | None:
        """Why an upload with this Authorization header is refused; None to let it in."""
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            return INVALID_AUTH.format(origin=self.origin)
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return INVALID_AUTH.format(origin=self.origin)
        username, _, password = decoded.partition(":")
        with self._lock:
            minted = self.tokens.get(password)
        if username != "__token__" or minted is None:
            return INVALID_AUTH.format(origin=self.origin)
        if minted.expires <= time.time():
            return EXPIRED_TOKEN
        return None

    def forward_upload(self, body: bytes, content_type: str | None) -> tuple[int, str, bytes]:
        """Hand the multipart upload to the real pypiserver, as its uploading user."""
        target = urlsplit(self.index.url)
        connection = http.client.HTTPConnection(
            target.hostname or "127.0.0.1", target.port, timeout=30
        )
        credentials = f"{self.index_user}:{self.index.users[self.index_user]}"
        headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            connection.request("POST", target.path.rstrip("/") + "/", body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        match = re.search(rb'name="content"; filename="([^"]+)"', body)
        filename = match.group(1).decode() if match else "?"
        self.uploads.append(Upload(filename, answer.status))
        return answer.status, answer.reason, data


def _seconds(value: object) -> float | None:
    """A NumericDate claim (a number, not a boolean), or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _invalid(code: str, description: str) -> tuple[int, dict[str, object]]:
    return 422, {"message": MINT_FAILED, "errors": [{"code": code, "description": description}]}


def _no_publisher(detail: str) -> tuple[int, dict[str, object]]:
    return _invalid("invalid-publisher", f"valid token, but no corresponding publisher ({detail})")


def _input_repr(value: object) -> str:
    """pydantic's ``input_value``: the repr, cut in the middle past 50 characters."""
    text = repr(value)
    return text if len(text) <= 50 else f"{text[:25]}...{text[-24:]}"


def _token_payload(body: bytes) -> tuple[str | None, str]:
    """Warehouse's ``TokenPayload.model_validate_json``: the token, or pydantic's message."""
    head = "1 validation error for TokenPayload\n"
    tail = "\n    For further information visit https://errors.pydantic.dev/2.13/v/"
    try:
        data = json.loads(body)
    except ValueError as error:
        message = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        return None, (
            f"{head}  Invalid JSON: {message} [type=json_invalid, "
            f"input_value={_input_repr(body)}, input_type=bytes]{tail}json_invalid"
        )
    if not isinstance(data, dict):
        return None, (
            f"{head}  Input should be an object [type=model_type, "
            f"input_value={_input_repr(data)}, input_type={type(data).__name__}]{tail}model_type"
        )
    if "token" not in data:
        return None, (
            f"{head}token\n  Field required [type=missing, "
            f"input_value={_input_repr(data)}, input_type=dict]{tail}missing"
        )
    token = data["token"]
    if not isinstance(token, str):
        return None, (
            f"{head}token\n  Input should be a valid string [type=string_type, "
            f"input_value={_input_repr(token)}, input_type={type(token).__name__}]"
            f"{tail}string_type"
        )
    return token, ""


def _unverified_claims(token: str) -> dict[str, object] | None:
    """The payload of a well-formed JWT, read without checking anything (PyJWT's decode
    with ``verify_signature`` off): three parts, a JSON object header and payload."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in parts[:2]
        )
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return claims


def _handler_for(fake: FakeWarehouse) -> type[BaseHTTPRequestHandler]:
    mint_routes = ("/_/oidc/mint-token", "/_/oidc/github/mint-token")
    oidc_routes = ("/_/oidc/audience", *mint_routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(
            self,
            status: int,
            body: bytes | Mapping[str, object],
            *,
            reason: str | None = None,
            content_type: str = "application/json",
        ) -> None:
            data = json.dumps(body).encode() if isinstance(body, Mapping) else body
            self.send_response(status, reason)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def _text(self, status: int, reason: str, message: str) -> None:
            """Pyramid's plain-text error page; PyPI puts the message in the status line."""
            explanation = {403: "Access was denied to this resource."}.get(status, "")
            body = f"{status} {reason}\n\n{explanation}\n\n{message}\n"
            self._send(status, body.encode(), reason=reason, content_type="text/plain")

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            fake.requests.append(
                RecordedRequest(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )
            path = urlsplit(self.path).path
            known = path in (*oidc_routes, "/legacy/", "/legacy")
            if not known or (path in oidc_routes and not fake.supported):
                self._text(404, "Not Found", "The resource could not be found.")
            elif path == "/_/oidc/audience":
                if self.command not in ("GET", "HEAD"):
                    self._text(405, "Method Not Allowed", "")
                else:
                    self._send(*fake.audience_answer())
            elif path in mint_routes:
                if self.command != "POST":
                    self._text(405, "Method Not Allowed", "")
                else:
                    self._send(*fake.mint(body))
            elif self.command != "POST":
                self._text(405, "Method Not Allowed", "")
            else:
                self._upload(body)

        def _upload(self, body: bytes) -> None:
            refusal = fake.upload_refusal(self.headers.get("Authorization"))
            if refusal is not None:
                self._text(403, refusal, refusal)
                return
            status, reason, data = fake.forward_upload(body, self.headers.get("Content-Type"))
            self._send(status, data, reason=reason, content_type="text/plain")

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _dispatch

    return Handler
