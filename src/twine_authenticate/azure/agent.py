"""Reading what the Azure Pipelines agent hands a task: variables and service endpoints.

The agent exports variable ``A.B`` as ``A_B`` (secret ones as ``SECRET_A_B``) and endpoint
``ID`` as ``ENDPOINT_URL_ID``, ``ENDPOINT_AUTH_ID`` and so on. Empty values count as absent,
as they do for the task library.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

Environment = Mapping[str, str]


def variable_env_name(name: str) -> str:
    return name.replace(".", "_").replace(" ", "_").upper()


def get_variable(env: Environment, name: str) -> str | None:
    """A pipeline variable by its dotted name, public or secret."""
    key = variable_env_name(name)
    return env.get(key) or env.get("SECRET_" + key) or None


def get_input(env: Environment, name: str) -> str | None:
    return env.get("INPUT_" + variable_env_name(name)) or None


def _endpoint_value(
    env: Environment, prefix: str, endpoint_id: str, suffix: str = ""
) -> str | None:
    # The agent writes the id as the GUID in lower case; people copy it in any case.
    for key in (endpoint_id, endpoint_id.lower(), endpoint_id.upper()):
        value = env.get(f"{prefix}{key}{suffix}")
        if value:
            return value
    return None


def endpoint_url(env: Environment, endpoint_id: str) -> str | None:
    return _endpoint_value(env, "ENDPOINT_URL_", endpoint_id)


def endpoint_data(env: Environment, endpoint_id: str, key: str) -> str | None:
    return _endpoint_value(env, "ENDPOINT_DATA_", endpoint_id, "_" + key.upper())


def endpoint_auth_parameter(env: Environment, endpoint_id: str, key: str) -> str | None:
    """``ENDPOINT_AUTH_PARAMETER_<ID>_<KEY>`` (key upper-cased, as the agent writes it)."""
    return _endpoint_value(env, "ENDPOINT_AUTH_PARAMETER_", endpoint_id, "_" + key.upper())


def endpoint_auth(env: Environment, endpoint_id: str) -> str | None:
    """The raw ``ENDPOINT_AUTH_<ID>`` JSON text (it holds secrets: never print it)."""
    return _endpoint_value(env, "ENDPOINT_AUTH_", endpoint_id)


def endpoint_auth_scheme(env: Environment, endpoint_id: str) -> str | None:
    return _endpoint_value(env, "ENDPOINT_AUTH_SCHEME_", endpoint_id)


def organization_of(collection_uri: str) -> str:
    """The organization or collection name, for messages: ``https://dev.azure.com/contoso/``
    and ``https://contoso.visualstudio.com/`` both give ``contoso``."""
    parts = urlsplit(collection_uri)
    host, path = (parts.hostname or ""), parts.path
    if host.endswith(".visualstudio.com"):
        return host.split(".", 1)[0]
    segments = [segment for segment in path.split("/") if segment]
    return segments[-1] if segments else host
