"""Microsoft Entra workload identity federation: a CI's OIDC token for an Entra access token
that Azure Artifacts accepts (``keyless.md`` §2; ``azure-devops-http.md`` §7.2).

The token request is the Azure SDK's ``ClientAssertionCredential``: the OIDC token goes as a
client assertion for the application (service principal), for the Azure DevOps scope. A
refusal is explained by its AADSTS code; for a federated credential that matches nothing, the
issuer and subject the credential must name are read from the OIDC token's claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

from .._records import TYPE_CHECKING, NamedTuple
from ..errors import InputError, ServiceError
from ..tokens import unverified_claims
from ..urls import join_under
from ..validation import check_url, is_plain_http_to_remote_host

if TYPE_CHECKING:
    from ..transport import Transport

AZURE_DEVOPS_SCOPE = "499b84ac-1321-427f-aa17-267ca6975798/.default"
FEDERATION_AUDIENCE = "api://AzureADTokenExchange"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PUBLIC_CLOUD = "https://login.microsoftonline.com"
AUTHORITY_VARIABLE = "AZURE_AUTHORITY_HOST"  # the Azure SDK's setting, for sovereign clouds

# The AADSTS codes a user meets, and what to do about each ({placeholders} from the request).
EXPLANATIONS = {
    700213: "no federated credential of application {client_id} matches this identity's "
    "subject. Add one (Entra ID > App registrations > Certificates & secrets > Federated "
    "credentials) with issuer {iss} and subject {sub}, audience " + FEDERATION_AUDIENCE + ".",
    700212: "no federated credential of application {client_id} accepts this token's audience "
    "({aud}); the credential's audience must be " + FEDERATION_AUDIENCE + ".",
    700211: "no federated credential of application {client_id} names this token's issuer; "
    "add one with issuer {iss} and subject {sub}.",
    700016: "application {client_id} was not found in tenant {tenant}: check the client id "
    "(AZURE_CLIENT_ID, or the service connection's service principal) and the tenant.",
    90002: "tenant {tenant} was not found: check AZURE_TENANT_ID or the connection's tenant.",
    700024: "the OIDC token is not valid at this time (expired, or the clocks disagree); run "
    "the step again, and check the runner's clock.",
    70011: "the scope was refused: the application cannot get tokens for Azure DevOps.",
}


class EntraToken(NamedTuple):
    access_token: str
    expires_in: int

    def __repr__(self) -> str:
        return f"EntraToken(access_token='***', expires_in={self.expires_in})"


def authority_host(env: Mapping[str, str]) -> str:
    host = env.get(AUTHORITY_VARIABLE) or PUBLIC_CLOUD
    check_url(host, AUTHORITY_VARIABLE)
    if is_plain_http_to_remote_host(host):
        raise InputError(
            f"{AUTHORITY_VARIABLE} is {host}: an identity token is never sent over plain http "
            "to another machine. Use the authority's https:// URL."
        )
    return host


def exchange(
    transport: Transport,
    *,
    authority: str,
    tenant: str,
    client_id: str,
    assertion: str,
    what: str,
) -> EntraToken:
    """The Entra access token for Azure DevOps, for ``assertion`` (an OIDC token)."""
    url = join_under(authority, f"{quote(tenant, safe='')}/oauth2/v2.0/token")
    form = urlencode(
        {
            "scope": AZURE_DEVOPS_SCOPE,
            "client_id": client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "grant_type": "client_credentials",
        }
    ).encode("ascii")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
    }
    response = transport.send("POST", url, headers, what=what, body=form)
    try:
        body = response.json()
    except ValueError:
        body = None
    answer = body if isinstance(body, dict) else {}
    token = answer.get("access_token")
    if response.status == 200 and isinstance(token, str) and token:
        expires = answer.get("expires_in")
        return EntraToken(token, int(expires) if isinstance(expires, (int, str)) else 3600)
    raise ServiceError(
        f"{what}: Entra refused the token request ({response.status}): "
        + _why(answer, assertion=assertion, client_id=client_id, tenant=tenant)
    )


def _why(answer: Mapping[str, object], *, assertion: str, client_id: str, tenant: str) -> str:
    codes = answer.get("error_codes")
    code = codes[0] if isinstance(codes, list) and codes and isinstance(codes[0], int) else None
    claims = unverified_claims(assertion)
    values = {
        "client_id": client_id,
        "tenant": tenant,
        "iss": claims.get("iss", "?"),
        "sub": claims.get("sub", "?"),
        "aud": claims.get("aud", "?"),
    }
    if code in EXPLANATIONS:
        return f"AADSTS{code}: " + EXPLANATIONS[code].format(**values)
    description = answer.get("error_description")
    # Entra's own words, first line only (they go on with trace ids and a timestamp).
    first = description.splitlines()[0] if isinstance(description, str) and description else ""
    return first or str(answer.get("error") or "no reason given") + "."
