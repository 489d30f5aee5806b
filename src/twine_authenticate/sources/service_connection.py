"""Azure Pipelines "Python package upload" service connections, read from the agent's
endpoint variables. No network: the connection carries its URL and credentials."""

from __future__ import annotations

from .._records import TYPE_CHECKING
from ..azure.agent import (
    Environment,
    endpoint_auth,
    endpoint_auth_scheme,
    endpoint_data,
    endpoint_url,
)
from ..errors import InputError
from ..repository import Repository
from ..urls import is_pypi_upload
from ..validation import check_section_name, check_url, check_value
from .pending import Pending, ready

if TYPE_CHECKING:
    from ..inputs import Inputs

# Set by our Azure DevOps task for the Python it runs (the channel reads it too).
TASK_MARKER = "TWINE_AUTHENTICATE_TASK"


def read(inputs: Inputs, env: Environment) -> Pending | None:
    return ready([read_service_connection(id_, env) for id_ in inputs.service_connections])


def _parameter(parameters: dict[str, object], key: str) -> str | None:
    for name, value in parameters.items():
        if name.lower() == key and isinstance(value, str) and value:
            return value
    return None


def read_service_connection(connection_id: str, env: Environment) -> Repository:
    what = f"service connection {connection_id}"
    url = endpoint_url(env, connection_id)
    if url is None and env.get(TASK_MARKER) != "1":
        # The agent exports a connection only to a task whose task.json declares it: a script
        # step, or a shell, never has one.
        raise InputError(
            f"{what}: ENDPOINT_URL_{connection_id} is not set: only a task receives service "
            "connections, never a script step. Use the TwineAuthenticatePy task (our Azure "
            f"DevOps extension) with pythonUploadServiceConnection: {connection_id}."
        )
    if url is None:
        raise InputError(
            f"{what}: ENDPOINT_URL_{connection_id} is not set. Check that the id is the "
            "connection's id and that the pipeline is authorised to use the connection."
        )
    name = endpoint_data(env, connection_id, "endpointname")
    if name is None:
        raise InputError(
            f"{what}: ENDPOINT_DATA_{connection_id}_ENDPOINTNAME is not set; a Python package "
            "upload connection needs its EndpointName, which becomes the section name for -r."
        )
    check_section_name(name, f"{what}: EndpointName")
    check_url(url, f"{what}: URL")

    raw_auth = endpoint_auth(env, connection_id)
    if raw_auth is None:
        raise InputError(
            f"{what}: ENDPOINT_AUTH_{connection_id} is not set; the connection has "
            "no credentials the step can read."
        )
    import json  # only when a connection is asked for

    try:
        auth = json.loads(raw_auth)
        parameters = auth.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise TypeError
    except (ValueError, AttributeError, TypeError, RecursionError):
        # The text holds credentials: say where it is broken, never what it holds.
        raise InputError(
            f"{what}: ENDPOINT_AUTH_{connection_id} is not valid JSON of the form "
            '{"parameters":{...},"scheme":"..."}.'
        ) from None
    scheme = endpoint_auth_scheme(env, connection_id) or str(auth.get("scheme") or "")
    if not scheme:
        raise InputError(
            f"{what}: the connection has no authentication scheme "
            f"(ENDPOINT_AUTH_SCHEME_{connection_id})."
        )

    if scheme.lower() == "token":
        token = _parameter(parameters, "apitoken")
        if token is None:
            raise InputError(
                f"{what}: scheme Token but the connection has no apitoken; "
                "edit the connection and set its token."
            )
        # PyPI and TestPyPI accept API tokens only with the username __token__.
        username = "__token__" if is_pypi_upload(url) else "build"
        password = token
    elif scheme.lower() == "usernamepassword":
        user = _parameter(parameters, "username")
        password_value = _parameter(parameters, "password")
        if user is None or password_value is None:
            missing = "username" if user is None else "password"
            raise InputError(
                f"{what}: scheme UsernamePassword but its {missing} is empty; "
                "edit the connection and set it."
            )
        username, password = user, password_value
    else:
        raise InputError(
            f"{what}: authentication scheme {scheme!r} is not supported; use a Python package "
            "upload connection with Authentication Token or Username and Password."
        )
    check_value(username, f"{what}: username")
    check_value(password, f"{what}: password", secret=True)
    return Repository(
        name=name, url=url, username=username, password=password, origin="service connection"
    )
