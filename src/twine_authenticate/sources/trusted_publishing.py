"""PyPI Trusted Publishing: a ``--repository`` with no password variable exchanges the CI's
OIDC identity for a short-lived upload token (``keyless.md`` §1), as PyPI defines it: the
audience from ``<origin>/_/oidc/audience``, the ambient token for it from pypa's ``id``, the
token from ``<origin>/_/oidc/mint-token``, username ``__token__``.

``--trusted-publishing auto`` (the default) uses it where a CI could offer an identity,
``always`` insists, ``never`` keeps "set its password". ``id`` and its urllib3 are imported only
here, when a repository needs it.
"""

from __future__ import annotations

from functools import partial

from .._records import TYPE_CHECKING
from ..azure.agent import Environment
from ..errors import InputError, ServiceError
from ..repository import Repository
from ..tokens import describe_claims
from ..urls import parse_url
from ..validation import is_plain_http_to_remote_host
from .entra_federation import is_entra_target
from .pending import Pending
from .repository_flag import Entry, keyless_entries, missing_password

if TYPE_CHECKING:
    from ..inputs import Inputs
    from ..transport import Response, Transport

ORIGIN = "trusted publishing"
# Variables of the other CIs pypa's id gets identities from (its detectors decide for certain).
CI_MARKERS = ("BUILDKITE", "CIRCLECI", "GOOGLE_SERVICE_ACCOUNT_NAME")
GITHUB_CLAIMS = ("repository", "job_workflow_ref", "ref", "environment", "sub")
GITLAB_CLAIMS = ("project_path", "ci_config_ref_uri", "ref", "environment", "sub")
IDENTITY_HELP = (
    "a GitHub Actions job with `permissions: id-token: write`, or a GitLab job declaring "
    "`id_tokens: PYPI_ID_TOKEN: {aud: pypi}`"
)


def read(inputs: Inputs, env: Environment) -> Pending | None:
    if inputs.trusted_publishing == "never":
        return None
    targets = [e for e in keyless_entries(inputs, env) if not is_entra_target(e, inputs)]
    if not targets:
        return None
    if not _identity_possible(env):
        if inputs.trusted_publishing == "auto":
            error = missing_password(targets[0])
            raise InputError(f"{error} Or publish keyless from {IDENTITY_HELP}.")
        raise InputError(
            f"{targets[0].what}: --trusted-publishing always, but this job has no OIDC "
            f"identity; publish from {IDENTITY_HELP}. On GitHub a pull request from a fork "
            "never gets one."
        )
    for entry in targets:
        if is_plain_http_to_remote_host(entry.url):
            raise InputError(
                f"{entry.what}: Trusted Publishing sends the CI's identity token, which never "
                f"goes over plain http to another machine; use the index's https:// URL."
            )
    return Pending(
        names=tuple((entry.name, f"{ORIGIN} {entry.name}") for entry in targets),
        secrets=(),
        resolve=partial(_resolve, targets, env),
        needs_network=True,
    )


def _identity_possible(env: Environment) -> bool:
    """Whether this job could have an OIDC identity, from the environment alone, so that a
    plain missing password fails at once, without a call to the index."""
    if env.get("GITHUB_ACTIONS"):
        # Without `permissions: id-token: write` the runner gives no request URL or token.
        return bool(
            env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        )
    if env.get("GITLAB_CI"):
        return any(name.endswith("_ID_TOKEN") for name in env)  # a declared id_tokens entry
    if any(env.get(name) for name in CI_MARKERS):
        return True
    try:  # id's own test for a Google Cloud machine
        with open("/sys/class/dmi/id/product_name", encoding="utf-8") as handle:
            return handle.read().strip() in ("Google", "Google Compute Engine")
    except OSError:
        return False


def _resolve(
    targets: list[Entry], env: Environment, transport: Transport | None
) -> list[Repository]:
    assert transport is not None  # needs_network
    minted: dict[str, tuple[str, float]] = {}  # one mint per index origin
    repositories = []
    for entry in targets:
        origin = parse_url(entry.url, entry.what).origin
        if origin not in minted:
            audience = _audience(transport, origin, entry)
            token = ambient_token(audience, "PyPI")
            if token is None:
                raise InputError(
                    f"{entry.what}: --trusted-publishing always, but no OIDC identity was "
                    f"found here; publish from {IDENTITY_HELP}, or set its password."
                )
            minted[origin] = _mint(transport, origin, token, entry, env)
        password, expires = minted[origin]
        repositories.append(
            Repository(entry.name, entry.url, "__token__", password, ORIGIN, expires)
        )
    return repositories


def ambient_token(audience: str, service: str) -> str | None:
    """The CI's OIDC token for ``audience`` from pypa's id; None outside the CIs it knows."""
    import id as oidc

    try:
        return oidc.detect_credential(audience)
    except oidc.GitHubOidcPermissionCredentialError:
        raise ServiceError(
            f"GitHub Actions gave this job no OIDC token for {service}: add "
            "`permissions: id-token: write` to the job (or the workflow). A pull request from a "
            "fork never gets one: publish from a push or a release instead."
        ) from None
    except oidc.IdentityError as error:
        raise ServiceError(f"the CI's OIDC token for {service} could not be had: {error}") from None


def _json(response: Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _audience(transport: Transport, origin: str, entry: Entry) -> str:
    url = f"{origin}/_/oidc/audience"
    response = transport.send("GET", url, {"Accept": "application/json"}, what=entry.what)
    if response.status == 404:
        raise ServiceError(
            f"{entry.what}: {origin} does not support Trusted Publishing (404 from {url}); set "
            "the repository's password or token instead."
        )
    if response.status == 403:
        message = _json(response).get("message") or "turned off"
        raise ServiceError(
            f"{entry.what}: Trusted Publishing is turned off on {origin} ({message}); set the "
            "repository's password or token instead."
        )
    audience = _json(response).get("audience")
    if response.status != 200 or not isinstance(audience, str) or not audience:
        raise ServiceError(
            f"{entry.what}: {url} answered {response.status} {response.reason} without an "
            "audience; is this a Warehouse (PyPI) index?"
        )
    return audience


def _mint(
    transport: Transport, origin: str, token: str, entry: Entry, env: Environment
) -> tuple[str, float]:
    import json
    import time

    url = f"{origin}/_/oidc/mint-token"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    body = json.dumps({"token": token}).encode("utf-8")
    response = transport.send("POST", url, headers, what=entry.what, body=body)
    answer = _json(response)
    minted = answer.get("token")
    if response.status == 200 and isinstance(minted, str) and minted:
        expires = answer.get("expires")
        return minted, float(expires) if isinstance(expires, (int, float)) else time.time() + 900
    problems = _problems(answer) or [f"{response.status} {response.reason}"]
    claims = describe_claims(token, GITLAB_CLAIMS if env.get("GITLAB_CI") else GITHUB_CLAIMS)
    _write_step_summary(env, entry, origin, problems, claims)
    raise ServiceError(
        f"{entry.what}: {origin} refused to mint a token: {'; '.join(problems)}. The identity "
        f"it matched against the trusted publishers: {claims}. Fix the publisher's settings "
        "on the index (project > Settings > Publishing) to match."
    )


def _problems(answer: dict[str, object]) -> list[str]:
    errors = answer.get("errors")
    problems = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict):
            code, description = error.get("code"), error.get("description")
            text = f"{code}: {description}" if description else str(code)
            if code == "invalid-reuse-token":
                text += (
                    " (a GitLab ID token is fixed for the job and the index takes each once: "
                    "run keyless publishing once per job, or declare another id_tokens variable)"
                )
            problems.append(text)
    return problems


def _write_step_summary(
    env: Environment, entry: Entry, origin: str, problems: list[str], claims: str
) -> None:
    """On GitHub, a troubleshooting block in the job's summary page, as the PyPA action does."""
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    lines = [
        f"## Trusted Publishing for `{entry.name}` failed",
        "",
        f"{origin} refused to mint a token:",
        "",
        *[f"- `{problem}`" for problem in problems],
        "",
        "The identity the index matched against its trusted publishers:",
        "",
        *[f"- `{claim}`" for claim in claims.split(", ")],
        "",
        "Check that the project's trusted publisher names this repository, workflow file and "
        "environment; that the job has `permissions: id-token: write`; and that the workflow "
        "does not run for a pull request from a fork.",
        "",
    ]
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write("\n".join(lines))
    except OSError:
        pass  # the error itself is reported either way
