"""The pipeline's OIDC token for a workload-identity service connection
(``azure-devops-http.md`` §7.1): only a task receives ``SYSTEM_OIDCREQUESTURI``."""

from __future__ import annotations

from urllib.parse import quote

from .._records import TYPE_CHECKING
from ..errors import ServiceError
from .location import require_private_channel

if TYPE_CHECKING:
    from ..transport import Transport
    from .job_token import JobToken

OIDC_REQUEST_VARIABLE = "SYSTEM_OIDCREQUESTURI"


def pipeline_oidc_token(
    transport: Transport, request_uri: str, connection_id: str, token: JobToken
) -> str:
    what = f"getting the pipeline's OIDC token for service connection {connection_id}"
    separator = "&" if "?" in request_uri else "?"
    url = (
        f"{request_uri}{separator}api-version=7.1"
        f"&serviceConnectionId={quote(connection_id, safe='')}"
    )
    require_private_channel(url, what)
    headers = {
        "Authorization": f"Bearer {token.value}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    response = transport.send("POST", url, headers, what=what, body=b"")
    if response.status in (401, 403):
        raise ServiceError(
            f"{what}: the job access token (from {token.source}) was refused "
            f"({response.status}); check that the pipeline may use the service connection "
            "(Project settings > Service connections > Security)."
        )
    try:
        body = response.json()
    except ValueError:
        body = None
    oidc = body.get("oidcToken") if isinstance(body, dict) else None
    if response.status != 200 or not isinstance(oidc, str) or not oidc:
        raise ServiceError(
            f"{what}: {response.status} {response.reason} with no oidcToken; check that the "
            "connection is an Azure DevOps (workload identity) service connection."
        )
    return oidc
