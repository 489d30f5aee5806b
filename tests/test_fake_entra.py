"""The fakes for workload identity, held to their contract (keyless.md §2,
azure-devops-http.md §7): the pipeline's OIDC route and Entra's token endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest

from tests.fake_azure_devops import FakeAzureDevOps
from tests.fake_entra import (
    ASSERTION_TYPE,
    AZURE_DEVOPS_SCOPE,
    EXCHANGE_AUDIENCE,
    FakeEntra,
    FederatedCredential,
)
from tests.support.jwt import sign, verify

TENANT = "11111111-2222-3333-4444-555555555555"


def post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:  # the fake's 401 is text, as the service's is
            return error.code, {"text": text.decode()}


def oidc(fake: FakeAzureDevOps, query: str, token: str) -> tuple[int, dict[str, object]]:
    return post(
        f"{fake.oidc_request_uri()}?{query}",
        b"",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    "query",
    [
        "api-version=7.1&serviceConnectionId=c1",
        "serviceConnectionId=c1&api-version=7.1-preview.1",
    ],
)
def test_the_oidc_route_issues_a_signed_token_for_the_connection(
    fake_devops: FakeAzureDevOps, query: str
) -> None:
    fake_devops.oidc_connections["c1"] = "my-connection"
    status, body = oidc(fake_devops, query, fake_devops.token)
    assert status == 200
    token = body["oidcToken"]
    assert isinstance(token, str)
    claims = verify(token, fake_devops.signing_key)
    assert claims is not None
    assert claims["sub"] == "sc://contoso/Project/my-connection"
    assert claims["iss"] == f"https://vstoken.dev.azure.com/{fake_devops.organization_id}"
    assert claims["aud"] == EXCHANGE_AUDIENCE


def test_the_oidc_route_wants_the_job_token_as_bearer(fake_devops: FakeAzureDevOps) -> None:
    fake_devops.oidc_connections["c1"] = "my-connection"
    status, _ = oidc(fake_devops, "api-version=7.1&serviceConnectionId=c1", "not-the-token")
    assert status == 401
    status, _ = oidc(fake_devops, "api-version=7.1&serviceConnectionId=nope", fake_devops.token)
    assert status == 400


@pytest.fixture
def entra() -> Iterator[FakeEntra]:
    fake = FakeEntra(b"key").start()
    yield fake
    fake.stop()


def token_request(entra: FakeEntra, tenant: str, **form: str) -> tuple[int, dict[str, object]]:
    fields = {
        "scope": AZURE_DEVOPS_SCOPE,
        "client_assertion_type": ASSERTION_TYPE,
        "grant_type": "client_credentials",
        **form,
    }
    return post(
        f"{entra.authority}{tenant}/oauth2/v2.0/token",
        urlencode(fields).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )


ISSUER, SUBJECT = "https://issuer.example", "repo:o/r:ref:refs/heads/main"


@pytest.mark.parametrize(
    ("claims", "form", "code"),
    [
        ({}, {}, None),  # the success case
        ({}, {"tenant": "99999999-0000-0000-0000-000000000000"}, 90002),
        ({}, {"scope": "https://graph.microsoft.com/.default"}, 70011),
        ({}, {"client_id": "not-an-app"}, 700016),
        ({"iss": "https://other.example"}, {}, 700211),
        ({"sub": "repo:o/r:ref:refs/heads/dev"}, {}, 700213),
        ({"aud": "api://other"}, {}, 700212),
        ({"exp": 1, "nbf": 0}, {}, 700024),
        ({}, {"key": "forged"}, 50027),
    ],
)
def test_the_token_endpoint_checks_what_entra_checks(
    entra: FakeEntra, claims: dict[str, object], form: dict[str, str], code: int | None
) -> None:
    app = entra.add_application(TENANT, FederatedCredential(ISSUER, SUBJECT))
    key = form.pop("key", "").encode() or entra.key
    assertion = sign({"iss": ISSUER, "sub": SUBJECT, "aud": EXCHANGE_AUDIENCE, **claims}, key)
    tenant = form.pop("tenant", TENANT)
    fields = {"client_id": app.client_id, "client_assertion": assertion, **form}
    status, body = token_request(entra, tenant, **fields)
    if code is None:
        assert status == 200 and body["token_type"] == "Bearer"
        assert body["access_token"] in entra.issued
    else:
        assert status in (400, 401)
        assert body["error_codes"] == [code]
        assert str(body["error_description"]).startswith(f"AADSTS{code}: ")
