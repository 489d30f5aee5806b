"""The Azure task's workload-identity inputs (``workloadIdentityServiceConnection`` with
``feedUrl``): an Entra access token for one feed, through the pipeline's OIDC token for the
connection, with no stored secret (``upstream-task.md`` §9).

Beyond upstream: the other inputs are not dropped but written to the same file; the agent's
proxy and CA apply to these calls too; the feed URL must be an https upload URL; a refusal
is explained.
"""

from __future__ import annotations

from functools import partial

from .._records import TYPE_CHECKING, NamedTuple
from ..azure.agent import Environment, endpoint_auth_parameter
from ..errors import InputError, ServiceError
from ..repository import Repository
from ..urls import parse_url
from ..validation import check_section_name, check_url, is_plain_http_to_remote_host
from .pending import Pending

if TYPE_CHECKING:
    from ..azure.job_token import JobToken
    from ..inputs import Inputs
    from ..transport import Transport

ORIGIN = "workload identity"
ZERO_TENANT = "00000000-0000-0000-0000-000000000000"  # what MSA-backed organizations send


class Federation(NamedTuple):
    connection: str
    feed_url: str
    feed: str
    client_id: str
    tenant: str | None  # the connection's, used when the feed names none
    request_uri: str


def feed_name(feed_url: str, what: str) -> str:
    """``.../_packaging/<feed>/pypi/upload[/]``: the feed, which names the section."""
    parts = [part for part in parse_url(feed_url, what).path.split("/") if part]
    if len(parts) < 4 or parts[-4].lower() != "_packaging" or parts[-2:] != ["pypi", "upload"]:
        raise InputError(
            f"{what} {feed_url!r} is not an Azure Artifacts upload URL; copy it from the feed's "
            "Connect to feed > twine page: https://pkgs.dev.azure.com/ORG/[PROJECT/]_packaging/"
            "FEED/pypi/upload/"
        )
    return check_section_name(parts[-3], f"{what}: feed name")


def read(inputs: Inputs, env: Environment) -> Pending | None:
    connection, feed_url = inputs.workload_identity_connection, inputs.feed_url
    if not connection and not feed_url:
        return None
    if not (connection and feed_url):
        given = "workloadIdentityServiceConnection" if connection else "feedUrl"
        missing = "feedUrl" if connection else "workloadIdentityServiceConnection"
        raise InputError(
            f"the task input {given} is set but {missing} is not: workload identity needs both "
            "(the Azure DevOps service connection and the feed's upload URL)."
        )
    what = "the task input feedUrl"
    check_url(feed_url, what)
    if is_plain_http_to_remote_host(feed_url):
        raise InputError(f"{what} {feed_url!r} is plain http; use the feed's https:// URL.")
    feed = feed_name(feed_url, what)
    client_id = endpoint_auth_parameter(env, connection, "serviceprincipalid")
    if not client_id:
        raise InputError(
            f"service connection {connection}: ENDPOINT_AUTH_PARAMETER_{connection}_"
            "SERVICEPRINCIPALID is not set; workloadIdentityServiceConnection must name an "
            "Azure DevOps service connection with workload identity federation."
        )
    from ..azure.job_token import read_job_token
    from ..azure.oidc import OIDC_REQUEST_VARIABLE

    request_uri = env.get(OIDC_REQUEST_VARIABLE)
    if not request_uri:
        raise InputError(
            f"{OIDC_REQUEST_VARIABLE} is not set: the pipeline hands it only to a task, so "
            "workload identity works from the TwineAuthenticatePy task, not a script step."
        )
    check_url(request_uri, OIDC_REQUEST_VARIABLE)
    token = read_job_token(env)
    federation = Federation(
        connection,
        feed_url,
        feed,
        client_id,
        endpoint_auth_parameter(env, connection, "tenantid"),
        request_uri,
    )
    return Pending(
        names=((feed, f"{ORIGIN} {feed}"),),
        secrets=(token.value,),
        resolve=partial(_resolve, federation, token, env),
        needs_network=True,
    )


def _resolve(
    federation: Federation, token: JobToken, env: Environment, transport: Transport | None
) -> list[Repository]:
    assert transport is not None  # needs_network
    from ..azure import entra
    from ..azure.oidc import pipeline_oidc_token

    tenant = _feed_tenant(transport, federation.feed_url) or federation.tenant
    if not tenant:
        raise ServiceError(
            f"service connection {federation.connection}: the feed named no tenant, and the "
            "connection has no TenantId; check the connection's settings."
        )
    assertion = pipeline_oidc_token(transport, federation.request_uri, federation.connection, token)
    access = entra.exchange(
        transport,
        authority=entra.authority_host(env),
        tenant=tenant,
        client_id=federation.client_id,
        assertion=assertion,
        what=f"getting an Entra token for service connection {federation.connection}",
    )
    return [
        Repository(
            name=federation.feed,
            url=federation.feed_url,
            # Upstream's username; Azure Artifacts takes any with an Entra token.
            username=federation.connection,
            password=access.access_token,
            origin=ORIGIN,
        )
    ]


def _feed_tenant(transport: Transport, feed_url: str) -> str | None:
    """The tenant an anonymous request to the feed names (``X-VSS-ResourceTenant``)."""
    try:
        response = transport.send("GET", feed_url, {}, what="finding the feed's tenant")
    except ServiceError:
        return None  # as upstream: fall back to the connection's tenant
    tenant = response.headers.get("x-vss-resourcetenant", "").strip()
    return tenant if tenant and tenant != ZERO_TENANT else None
