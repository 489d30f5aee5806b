"""The fakes for PyPI Trusted Publishing, held to their contract (keyless.md §1,
publishers-and-ci.md §A.6 and §C.3): GitHub's ID-token endpoint as pypa's ``id`` calls it, and
Warehouse's audience, mint-token and upload endpoints, with a real twine upload landing in
the real pypiserver."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import id as oidc_id
import pytest

from tests import support
from tests.fake_github_oidc import GITHUB_ISSUER, FakeGitHubOidc, github_claims
from tests.fake_warehouse import GITLAB_ISSUER, FakeWarehouse, gitlab_claims
from tests.support import IndexServer, register_secret
from tests.support.jwt import sign, verify

KEY = b"fake identity providers " + uuid.uuid4().bytes
REPOSITORY = "octo-org/octo-repo"


def call(
    method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, str, bytes]:
    """Status, reason and body of one request (http.client: the reason line matters)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.reason, response.read()
    finally:
        connection.close()


def call_json(
    method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    status, _, data = call(method, url, body, headers)
    answer = json.loads(data)
    assert isinstance(answer, dict)
    return status, answer


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


# -- GitHub's ID-token endpoint -------------------------------------------------------------


@pytest.fixture
def github() -> Iterator[FakeGitHubOidc]:
    with FakeGitHubOidc(KEY, {"repository": REPOSITORY}) as fake:
        yield fake


@pytest.fixture
def github_job(github: FakeGitHubOidc, monkeypatch: pytest.MonkeyPatch) -> FakeGitHubOidc:
    """This process as a GitHub Actions job with ``permissions: id-token: write``."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    for name, value in github.env().items():
        monkeypatch.setenv(name, value)
    return github


def test_id_fetches_a_token_for_the_audience(github_job: FakeGitHubOidc) -> None:
    token = oidc_id.detect_credential("pypi")
    assert token is not None
    claims = verify(token, KEY)
    assert claims is not None
    assert claims["aud"] == "pypi"
    assert claims["iss"] == GITHUB_ISSUER
    assert claims["repository"] == REPOSITORY
    assert claims["sub"] == f"repo:{REPOSITORY}:ref:refs/heads/main"
    assert github_job.issued == [token]
    assert token in support.SECRETS.values(), "the leak check looks for every token issued"
    (request,) = github_job.requests
    assert request.method == "GET"
    assert request.path.endswith("/idtoken?api-version=2.0&audience=pypi")
    assert request.headers["authorization"] == f"bearer {github_job.request_token}"


def test_the_request_url_has_a_query_of_its_own(github: FakeGitHubOidc) -> None:
    assert urlsplit(github.request_url).query == "api-version=2.0"
    assert set(github.env()) == {"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
    assert github.env()["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] == github.request_token
    assert github.request_token in support.SECRETS.values()


def fetch(github: FakeGitHubOidc, query: str = "&audience=pypi") -> dict[str, object]:
    status, answer = call_json(
        "GET",
        github.request_url + query,
        headers={"Authorization": f"bearer {github.request_token}"},
    )
    assert status == 200
    assert set(answer) == {"value"}
    assert isinstance(answer["value"], str)
    claims = verify(answer["value"], KEY)
    assert claims is not None
    return claims


def test_the_token_carries_githubs_claims(github: FakeGitHubOidc) -> None:
    claims = fetch(github)
    expected = {
        "iss", "aud", "sub", "ref", "sha", "repository", "repository_owner",
        "repository_owner_id", "repository_id", "repository_visibility", "run_id",
        "run_number", "run_attempt", "actor", "actor_id", "workflow", "head_ref", "base_ref",
        "event_name", "ref_protected", "ref_type", "workflow_ref", "workflow_sha",
        "job_workflow_ref", "job_workflow_sha", "runner_environment", "iat", "nbf", "exp",
        "jti",
    }  # fmt: skip
    assert set(claims) == expected
    assert claims["repository_owner"] == "octo-org"
    assert (
        claims["job_workflow_ref"] == f"{REPOSITORY}/.github/workflows/release.yml@refs/heads/main"
    )
    assert claims["event_name"] == "push"
    exp, iat = claims["exp"], claims["iat"]
    assert isinstance(exp, int) and isinstance(iat, int) and exp - iat == 300


def test_the_claims_follow_the_job(github: FakeGitHubOidc) -> None:
    github.claims.update(environment="pypi", repository_owner_id="42")
    claims = fetch(github)
    assert claims["environment"] == "pypi"
    assert claims["sub"] == f"repo:{REPOSITORY}:environment:pypi"
    assert claims["repository_owner_id"] == "42"
    github.claims = {"repository": "o/r", "event_name": "pull_request", "ref": "refs/pull/1/merge"}
    claims = fetch(github)
    assert claims["sub"] == "repo:o/r:pull_request"
    assert "environment" not in claims
    github.claims = {"ref": "refs/tags/v1.0", "sha": None, "sub": "custom"}
    claims = fetch(github)
    assert claims["ref_type"] == "tag"
    assert claims["sub"] == "custom"
    assert "sha" not in claims


def test_without_an_audience_the_token_is_for_the_owner(github: FakeGitHubOidc) -> None:
    assert fetch(github, query="")["aud"] == "https://github.com/octo-org"


@pytest.mark.parametrize(
    "authorization", [None, "bearer wrong", "Basic x", "bearer", "token {token}"]
)
def test_a_wrong_or_missing_request_token_is_refused(
    github: FakeGitHubOidc, authorization: str | None
) -> None:
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.format(token=github.request_token)
    status, _, _ = call("GET", github.request_url + "&audience=pypi", headers=headers)
    assert status == 401
    assert github.issued == []


def test_other_routes_and_versions_are_refused(github: FakeGitHubOidc) -> None:
    headers = {"Authorization": f"bearer {github.request_token}"}
    assert call("GET", f"{github.origin}/idtoken?api-version=2.0", headers=headers)[0] == 404
    url = github.request_url.replace("api-version=2.0", "api-version=1.0")
    assert call("GET", url, headers=headers)[0] == 400
    assert call("POST", github.request_url, b"", headers=headers)[0] == 405
    assert github.issued == []


def test_id_raises_as_it_does_on_github(
    github: FakeGitHubOidc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL", raising=False)
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", raising=False)
    with pytest.raises(oidc_id.GitHubOidcPermissionCredentialError):
        oidc_id.detect_credential("pypi")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", github.request_url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", register_secret("wrong", "wrong-token"))
    with pytest.raises(oidc_id.AmbientCredentialError, match="code=401"):
        oidc_id.detect_credential("pypi")


# -- Warehouse: audience and mint-token -----------------------------------------------------


@pytest.fixture
def warehouse(index_server: IndexServer) -> Iterator[FakeWarehouse]:
    with FakeWarehouse(KEY, index_server) as fake:
        fake.add_publisher(GITHUB_ISSUER, repository=REPOSITORY, workflow="release.yml")
        yield fake


def github_jwt(**overrides: object) -> str:
    """A token as the fake GitHub signs it; a claim given as None is null in the token, which
    Warehouse (PyJWT's ``require``, its own ``check_claims_existence``) takes as missing."""
    given = {name: value for name, value in overrides.items() if value is not None}
    claims = github_claims({"repository": REPOSITORY, **given}, "pypi")
    claims.update({name: None for name, value in overrides.items() if value is None})
    return sign(claims, KEY)


def mint(
    warehouse: FakeWarehouse, token: str | None = None, route: str = "/_/oidc/mint-token"
) -> tuple[int, dict[str, object]]:
    body = json.dumps({"token": token if token is not None else github_jwt()}).encode()
    return call_json("POST", warehouse.origin + route, body, {"Content-Type": "application/json"})


def minted_token(warehouse: FakeWarehouse, token: str | None = None) -> str:
    status, answer = mint(warehouse, token)
    assert status == 200, answer
    assert isinstance(answer["token"], str)
    return answer["token"]


def assert_refused(answer: tuple[int, dict[str, object]], code: str, description: str) -> None:
    """A 422 in Warehouse's shape, with one error; ``description`` is what it starts with."""
    status, body = answer
    assert status == 422, body
    assert body["message"] == "Token request failed"
    assert isinstance(body["errors"], list) and len(body["errors"]) == 1
    (error,) = body["errors"]
    assert set(error) == {"code", "description"}
    assert error["code"] == code
    assert str(error["description"]).startswith(description), error["description"]


def test_the_audience(warehouse: FakeWarehouse, index_server: IndexServer) -> None:
    assert call_json("GET", warehouse.origin + "/_/oidc/audience") == (200, {"audience": "pypi"})
    with FakeWarehouse(KEY, index_server, audience="testpypi") as testpypi:
        assert call_json("GET", testpypi.origin + "/_/oidc/audience") == (
            200,
            {"audience": "testpypi"},
        )


def test_the_audience_when_the_feature_is_off(warehouse: FakeWarehouse) -> None:
    warehouse.enabled = False
    assert call_json("GET", warehouse.origin + "/_/oidc/audience") == (
        403,
        {"message": "Trusted publishing functionality not enabled"},
    )
    assert_refused(
        mint(warehouse),
        "not-enabled",
        "github trusted publishing functionality not enabled",
    )


def test_an_index_without_the_feature(warehouse: FakeWarehouse) -> None:
    warehouse.supported = False
    assert call("GET", warehouse.origin + "/_/oidc/audience")[0] == 404
    for route in ("/_/oidc/mint-token", "/_/oidc/github/mint-token"):
        body = json.dumps({"token": github_jwt()}).encode()
        assert call("POST", warehouse.origin + route, body)[0] == 404
    assert warehouse.minted == []


@pytest.mark.parametrize("route", ["/_/oidc/mint-token", "/_/oidc/github/mint-token"])
def test_a_token_from_a_registered_publisher_is_exchanged(
    warehouse: FakeWarehouse, route: str
) -> None:
    before = int(time.time())
    status, answer = mint(warehouse, route=route)
    assert status == 200
    assert set(answer) == {"success", "token", "expires"}
    assert answer["success"] is True
    token, expires = answer["token"], answer["expires"]
    assert isinstance(token, str) and token.startswith("pypi-")
    assert isinstance(expires, int) and before + 900 <= expires <= int(time.time()) + 900
    assert warehouse.minted == [token]
    assert token in support.SECRETS.values(), "the leak check looks for every minted token"


def test_the_exchange_with_ids_token(github_job: FakeGitHubOidc, warehouse: FakeWarehouse) -> None:
    status, audience = call_json("GET", warehouse.origin + "/_/oidc/audience")
    assert status == 200 and isinstance(audience["audience"], str)
    token = oidc_id.detect_credential(audience["audience"])
    assert token is not None
    assert minted_token(warehouse, token) == warehouse.minted[0]
    (request,) = warehouse.requests_to("/_/oidc/mint-token", "POST")
    assert json.loads(request.body) == {"token": token}


PYDANTIC = "1 validation error for TokenPayload\n"


@pytest.mark.parametrize(
    ("body", "description"),
    [
        (b"", PYDANTIC + "  Invalid JSON: "),
        (b"token=x", PYDANTIC + "  Invalid JSON: "),
        (b"[]", PYDANTIC + "  Input should be an object [type=model_type, input_value=[]"),
        (b"{}", PYDANTIC + "token\n  Field required [type=missing, input_value={}"),
        (b'{"token": 5}', PYDANTIC + "token\n  Input should be a valid string [type=string_type"),
        (b'{"token": null}', PYDANTIC + "token\n  Input should be a valid string"),
    ],
)
def test_a_body_that_is_not_a_token_payload(
    warehouse: FakeWarehouse, body: bytes, description: str
) -> None:
    answer = call_json("POST", warehouse.origin + "/_/oidc/mint-token", body)
    assert_refused(answer, "invalid-payload", description)


def test_pydantic_cuts_a_long_input_in_its_middle(warehouse: FakeWarehouse) -> None:
    jwt = github_jwt()
    answer = call_json("POST", warehouse.origin + "/_/oidc/mint-token", jwt.encode())
    assert_refused(answer, "invalid-payload", PYDANTIC + "  Invalid JSON: ")
    assert jwt not in str(answer[1]["errors"]), "the token is never echoed whole"


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-jwt",
        "a.b",
        "a.b.c",
        f"{b64({'alg': 'HS256'})}.bm90IGpzb24.sig",
        f"{b64({'alg': 'HS256'})}.{b64({'sub': 'no issuer'})}.sig",
    ],
)
def test_a_malformed_jwt(warehouse: FakeWarehouse, token: str) -> None:
    assert_refused(mint(warehouse, token), "invalid-payload", "malformed JWT")


@pytest.mark.parametrize(
    "issuer", ["https://token.actions.example.com", "https://gitlab.example.com", 5]
)
def test_an_unknown_issuer(warehouse: FakeWarehouse, issuer: object) -> None:
    assert_refused(
        mint(warehouse, github_jwt(iss=issuer)),
        "invalid-payload",
        "unknown trusted publishing issuer",
    )


def test_a_custom_issuer_is_known_once_a_publisher_names_it(warehouse: FakeWarehouse) -> None:
    issuer = "https://gitlab.example.com"
    warehouse.add_publisher(issuer, project_path="group/project")
    token = sign({"iss": issuer, "aud": "pypi", "project_path": "group/project"}, KEY)
    assert minted_token(warehouse, token)


def altered(token: str, **claims: object) -> str:
    """The token with claims changed and its signature kept."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"{header}.{b64({**decoded, **claims})}.{signature}"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda: sign(github_claims({}, "pypi"), b"another key"), id="forged"),
        pytest.param(lambda: altered(github_jwt(repository="o/other"), repository=REPOSITORY),
                     id="altered"),
        pytest.param(lambda: github_jwt()[:-4], id="cut-signature"),
        pytest.param(lambda: github_jwt(exp=int(time.time()) - 31), id="expired"),
        pytest.param(lambda: github_jwt(nbf=int(time.time()) + 60), id="not-yet-valid"),
        pytest.param(lambda: github_jwt(iat=int(time.time()) + 60), id="issued-in-future"),
        pytest.param(lambda: github_jwt(exp=None), id="no-exp"),
        pytest.param(lambda: github_jwt(iat=None), id="no-iat"),
        pytest.param(lambda: github_jwt(aud="testpypi"), id="other-audience"),
        pytest.param(lambda: github_jwt(aud=["pypi"]), id="audience-list"),
        pytest.param(lambda: github_jwt(aud=None), id="no-audience"),
    ],
)  # fmt: skip
def test_a_token_that_does_not_verify(warehouse: FakeWarehouse, token: object) -> None:
    assert callable(token)
    assert_refused(mint(warehouse, token()), "invalid-token", "malformed or invalid token")
    assert warehouse.minted == []


def test_the_leeway_is_thirty_seconds(warehouse: FakeWarehouse) -> None:
    assert minted_token(warehouse, github_jwt(exp=int(time.time()) - 20))


def test_the_issuers_flag(warehouse: FakeWarehouse) -> None:
    warehouse.mint_enabled = False
    assert_refused(
        mint(warehouse), "not-enabled", "github trusted publishing functionality not enabled"
    )
    # Warehouse looks at the body and the issuer first.
    assert_refused(mint(warehouse, "x"), "invalid-payload", "malformed JWT")
    # The audience route answers: only minting is turned off.
    assert call_json("GET", warehouse.origin + "/_/oidc/audience")[0] == 200


def test_a_jwt_is_exchanged_once(warehouse: FakeWarehouse) -> None:
    jwt = github_jwt()
    minted_token(warehouse, jwt)
    assert_refused(mint(warehouse, jwt), "invalid-reuse-token", "invalid token: already used")
    assert len(warehouse.minted) == 1
    minted_token(warehouse)  # a fresh JWT is fine
    assert len(warehouse.minted) == 2


NO_PUBLISHER = "valid token, but no corresponding publisher (Publisher with matching claims "


@pytest.mark.parametrize(
    ("claims", "names"),
    [
        ({"repository": "octo-org/other"}, "'repository'"),
        (
            {"job_workflow_ref": f"{REPOSITORY}/.github/workflows/ci.yml@refs/heads/main"},
            "'job_workflow_ref'",
        ),
        ({"repository": "o/r", "job_workflow_ref": "o/r/x.yml@x"}, "'repository', 'job_"),
    ],
)
def test_claims_that_match_no_publisher(
    warehouse: FakeWarehouse, claims: dict[str, object], names: str
) -> None:
    assert_refused(
        mint(warehouse, github_jwt(**claims)),
        "invalid-publisher",
        f"{NO_PUBLISHER}was not found; claims that did not match: {names}",
    )


def test_no_publisher_for_the_issuer(warehouse: FakeWarehouse) -> None:
    warehouse.publishers.clear()
    assert_refused(mint(warehouse), "invalid-publisher", f"{NO_PUBLISHER}was not found)")


def test_the_environment(warehouse: FakeWarehouse) -> None:
    warehouse.publishers.clear()
    warehouse.add_publisher(GITHUB_ISSUER, repository=REPOSITORY, environment="pypi")
    assert_refused(
        mint(warehouse),
        "invalid-publisher",
        f"{NO_PUBLISHER}was not found; claims that did not match: 'environment'",
    )
    assert minted_token(warehouse, github_jwt(environment="pypi"))
    # A publisher naming no environment takes a token from any.
    warehouse.add_publisher(GITHUB_ISSUER, repository=REPOSITORY)
    assert minted_token(warehouse, github_jwt(environment="staging"))


@pytest.mark.parametrize("claim", ["sha", "ref", "event_name", "jti", "repository_owner_id"])
def test_a_github_token_without_a_claim_warehouse_needs(
    warehouse: FakeWarehouse, claim: str
) -> None:
    assert_refused(
        mint(warehouse, github_jwt(**{claim: None})),
        "invalid-publisher",
        f"valid token, but no corresponding publisher (Missing claim {claim!r})",
    )


def test_pull_request_target_is_refused(warehouse: FakeWarehouse) -> None:
    assert_refused(
        mint(warehouse, github_jwt(event_name="pull_request_target")),
        "invalid-publisher",
        "valid token, but no corresponding publisher (Publishing from a workflow invoked via "
        "'pull_request_target' is not supported.)",
    )


def test_a_gitlab_publisher(warehouse: FakeWarehouse) -> None:
    warehouse.add_publisher(GITLAB_ISSUER, project_path="group/project", environment="pypi")
    claims = gitlab_claims(environment="pypi")
    jwt = sign(claims, KEY)
    assert minted_token(warehouse, jwt)
    # The job's token is fixed: a second exchange is refused.
    assert_refused(mint(warehouse, jwt), "invalid-reuse-token", "invalid token: already used")
    assert_refused(
        mint(warehouse, sign({**claims, "ref_path": None}, KEY)),
        "invalid-publisher",
        "valid token, but no corresponding publisher (Missing claim 'ref_path')",
    )


def test_other_methods_and_routes(warehouse: FakeWarehouse) -> None:
    assert call("GET", warehouse.origin + "/_/oidc/mint-token")[0] == 405
    assert call("POST", warehouse.origin + "/_/oidc/audience", b"")[0] == 405
    assert call("GET", warehouse.upload_url)[0] == 405
    assert call("GET", warehouse.origin + "/simple/")[0] == 404


# -- Warehouse: uploads ---------------------------------------------------------------------


def refused_upload(warehouse: FakeWarehouse, headers: dict[str, str], message: str) -> None:
    body = b'--x\r\nContent-Disposition: form-data; name=":action"\r\n\r\nfile_upload\r\n--x--\r\n'
    for url in (warehouse.upload_url, warehouse.upload_url.rstrip("/")):
        status, reason, text = call(
            "POST", url, body, {"Content-Type": "multipart/form-data; boundary=x", **headers}
        )
        assert (status, reason) == (403, message)
        assert message in text.decode()
    assert warehouse.uploads == [], "a refused upload never reaches the index"


INVALID_AUTH = (
    "Invalid or non-existent authentication information. See {}/help/#invalid-auth for more "
    "information."
)


def test_an_upload_needs_a_token_the_index_minted(warehouse: FakeWarehouse) -> None:
    token = minted_token(warehouse)
    unknown = register_secret("token not minted", "pypi-" + secrets.token_urlsafe(48))
    message = INVALID_AUTH.format(warehouse.origin)
    refused_upload(warehouse, {}, message)
    refused_upload(warehouse, basic("__token__", unknown), message)
    refused_upload(warehouse, basic("uploader", token), message)
    refused_upload(warehouse, basic("__token__", token.upper()), message)
    refused_upload(warehouse, {"Authorization": f"Bearer {token}"}, message)
    refused_upload(warehouse, {"Authorization": "Basic !!!"}, message)
    warehouse.expire(token)
    refused_upload(warehouse, basic("__token__", token), "Invalid API Token: token is expired")


def twine_upload(url: str, token: str, files: list[Path], tmp_path: Path) -> support.Run:
    return support.run(
        [
            f"{support.VENV_BIN}/twine",
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
            url,
            "-u",
            "__token__",
            "-p",
            token,
            *map(str, files),
        ],
        support.base_env(tmp_path),
        label="twine upload",
    )


def test_twine_uploads_with_a_minted_token(
    github_job: FakeGitHubOidc,
    warehouse: FakeWarehouse,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    tmp_path: Path,
) -> None:
    jwt = oidc_id.detect_credential("pypi")
    assert jwt is not None
    token = minted_token(warehouse, jwt)
    result = twine_upload(warehouse.upload_url, token, distribution, tmp_path)
    assert result.returncode == 0, result.output
    assert index_server.published(package_name) == [p.name for p in distribution]
    (upload,) = warehouse.requests_to("/legacy/", "POST")
    assert upload.headers["authorization"] == basic("__token__", token)["Authorization"]
    assert [u.status for u in warehouse.uploads] == [200]


def test_twine_is_refused_with_a_token_the_index_did_not_mint(
    warehouse: FakeWarehouse,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    tmp_path: Path,
) -> None:
    unknown = register_secret("token not minted", "pypi-" + secrets.token_urlsafe(48))
    result = twine_upload(warehouse.upload_url, unknown, distribution, tmp_path)
    assert result.returncode != 0
    assert "403" in result.output
    assert "Invalid or non-existent authentication information" in result.output
    assert index_server.published(package_name) == []
    assert warehouse.uploads == []
