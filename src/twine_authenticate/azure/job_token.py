"""The job access token that internal feeds are authenticated with."""

from __future__ import annotations

from .._records import NamedTuple
from ..errors import InputError
from ..validation import check_value
from .agent import Environment

SYSTEM_CONNECTION_VARIABLE = "ENDPOINT_AUTH_SYSTEMVSSCONNECTION"
SCRIPT_TOKEN_VARIABLE = "SYSTEM_ACCESSTOKEN"  # noqa: S105 (a variable name)

MISSING_TOKEN_HELP = (
    "internal feeds need the job access token, and none was found: neither "
    f"{SYSTEM_CONNECTION_VARIABLE} (set by the agent for a task) nor {SCRIPT_TOKEN_VARIABLE} is "
    "set. In a script step, map it explicitly:\n"
    "    env:\n"
    "      SYSTEM_ACCESSTOKEN: $(System.AccessToken)"
)


class JobToken(NamedTuple):
    """The token and the name of the variable it came from (named in messages, never shown)."""

    value: str
    source: str

    def __repr__(self) -> str:
        return f"JobToken(value='***', source={self.source!r})"


def read_job_token(env: Environment) -> JobToken:
    raw = env.get(SYSTEM_CONNECTION_VARIABLE)
    unusable = ""  # why the agent's variable, when set, held no token
    if raw:
        try:
            import json  # only for a task, whose agent writes this JSON

            auth = json.loads(raw)
            scheme = str(auth.get("scheme", ""))
            parameters = auth.get("parameters") or {}
        except (ValueError, AttributeError, TypeError, RecursionError):
            raise InputError(
                f"{SYSTEM_CONNECTION_VARIABLE} is not the JSON the agent writes "
                '({"parameters":{"AccessToken":...},"scheme":"OAuth"}); unset it or fix it.'
            ) from None
        token = parameters.get("AccessToken") if isinstance(parameters, dict) else None
        if scheme.lower() == "oauth" and isinstance(token, str) and token:
            return JobToken(
                check_value(token, SYSTEM_CONNECTION_VARIABLE, secret=True),
                SYSTEM_CONNECTION_VARIABLE,
            )
        unusable = (
            f"{SYSTEM_CONNECTION_VARIABLE} is set but holds no OAuth access token "
            f"(its scheme is {scheme or 'missing'!r}, and its parameters "
            f"{'have' if isinstance(token, str) and token else 'have no'} AccessToken)"
        )
    token = env.get(SCRIPT_TOKEN_VARIABLE)
    if token:
        if token.startswith("$(") and token.endswith(")"):
            raise InputError(
                f"{SCRIPT_TOKEN_VARIABLE} holds the unexpanded macro {token}; the pipeline did "
                "not provide the token. Map it with `SYSTEM_ACCESSTOKEN: $(System.AccessToken)` "
                "in the step's env: section, spelled exactly so."
            )
        return JobToken(
            check_value(token, SCRIPT_TOKEN_VARIABLE, secret=True), SCRIPT_TOKEN_VARIABLE
        )
    if unusable:
        raise InputError(
            f"{unusable}, and {SCRIPT_TOKEN_VARIABLE} is not set either. The agent writes "
            '{"parameters":{"AccessToken":...},"scheme":"OAuth"}; unset the variable or fix it.'
        )
    raise InputError(MISSING_TOKEN_HELP)
