"""Azure Artifacts from any CI with no stored secret: a ``--repository`` with no password
variable whose URL is an Azure Artifacts feed (or that ``--entra`` names) gets an Entra access
token through the CI's OIDC identity (``keyless.md`` §2 and §3).

The application is the Azure SDK's ``AZURE_CLIENT_ID`` in ``AZURE_TENANT_ID``; the OIDC token
for audience ``api://AzureADTokenExchange`` comes from ``AZURE_FEDERATED_TOKEN_FILE`` (the Azure
SDK's convention), else ``AZURE_ID_TOKEN`` (a GitLab ``id_tokens`` variable), else pypa's
``id`` (GitHub Actions, and the other CIs it knows). One token serves every such feed.
"""

from __future__ import annotations

from functools import partial

from .._records import TYPE_CHECKING
from ..azure.agent import Environment
from ..errors import InputError, ServiceError
from ..repository import Repository
from ..urls import parse_url
from .pending import Pending
from .repository_flag import Entry, keyless_entries, password_variable

if TYPE_CHECKING:
    from ..inputs import Inputs
    from ..transport import Transport

ORIGIN = "entra federation"
# Azure Artifacts' package hosts (keyless.md §3), as host names or suffixes.
AZURE_ARTIFACTS_HOSTS = ("pkgs.dev.azure.com", "pkgs.codedev.ms", "pkgs.vsts.me")
AZURE_ARTIFACTS_SUFFIX = ".pkgs.visualstudio.com"
TOKEN_FILE_VARIABLE = "AZURE_FEDERATED_TOKEN_FILE"  # noqa: S105 - a variable name
GITLAB_TOKEN_VARIABLE = "AZURE_ID_TOKEN"  # noqa: S105 - a variable name


def is_entra_target(entry: Entry, inputs: Inputs) -> bool:
    host = parse_url(entry.url, entry.what).host
    return (
        entry.name in inputs.entra
        or host in AZURE_ARTIFACTS_HOSTS
        or host.endswith(AZURE_ARTIFACTS_SUFFIX)
    )


def read(inputs: Inputs, env: Environment) -> Pending | None:
    keyless = keyless_entries(inputs, env)
    named = {entry.name for entry in keyless}
    strangers = [name for name in inputs.entra if name not in named]
    if strangers:
        raise InputError(
            f"--entra {strangers[0]}: no --repository of that name without a password "
            "variable; --entra names a repository that gets an Entra token instead."
        )
    targets = [entry for entry in keyless if is_entra_target(entry, inputs)]
    if not targets:
        return None
    client_id, tenant = env.get("AZURE_CLIENT_ID"), env.get("AZURE_TENANT_ID")
    if not (client_id and tenant):
        entry = targets[0]
        raise InputError(
            f"{entry.what}: an Azure Artifacts feed with no password gets an Entra token "
            "through the CI's identity, which needs AZURE_CLIENT_ID and AZURE_TENANT_ID (the "
            "application with a federated credential for this pipeline); set both, or set the "
            f"feed's token in {password_variable(entry.name)}."
        )
    from ..azure import entra

    authority = entra.authority_host(env)
    return Pending(
        names=tuple((entry.name, f"{ORIGIN} {entry.name}") for entry in targets),
        secrets=(),
        resolve=partial(_resolve, targets, client_id, tenant, authority, env),
        needs_network=True,
    )


def _resolve(
    targets: list[Entry],
    client_id: str,
    tenant: str,
    authority: str,
    env: Environment,
    transport: Transport | None,
) -> list[Repository]:
    assert transport is not None  # needs_network
    import time

    from ..azure import entra

    token = entra.exchange(
        transport,
        authority=authority,
        tenant=tenant,
        client_id=client_id,
        assertion=federated_token(env),
        what=f"getting an Entra token for {', '.join(entry.name for entry in targets)}",
    )
    expires = time.time() + token.expires_in
    return [
        Repository(entry.name, entry.url, client_id, token.access_token, ORIGIN, expires)
        for entry in targets
    ]


def federated_token(env: Environment) -> str:
    """The CI's OIDC token for Entra's exchange audience."""
    path = env.get(TOKEN_FILE_VARIABLE)
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                token = handle.read(64 * 1024).strip()
        except OSError as error:
            raise InputError(f"{TOKEN_FILE_VARIABLE} names {path}: {error.strerror}.") from None
        if not token:
            raise InputError(f"{TOKEN_FILE_VARIABLE} names {path}, which is empty.")
        return token
    if env.get(GITLAB_TOKEN_VARIABLE):
        return env[GITLAB_TOKEN_VARIABLE].strip()
    if env.get("GITLAB_CI") == "true":
        raise InputError(
            "GitLab CI: no ID token for Entra. Declare one in the job:\n"
            "    id_tokens:\n"
            f"      {GITLAB_TOKEN_VARIABLE}:\n"
            "        aud: api://AzureADTokenExchange"
        )
    from ..azure.entra import FEDERATION_AUDIENCE
    from .trusted_publishing import ambient_token

    ambient = ambient_token(FEDERATION_AUDIENCE, "Entra")
    if ambient is None:
        raise ServiceError(
            "no OIDC identity for Entra was found: on GitHub Actions give the job "
            f"`permissions: id-token: write`; elsewhere set {TOKEN_FILE_VARIABLE} to a file "
            "holding the CI's OIDC token for audience api://AzureADTokenExchange."
        )
    return ambient
