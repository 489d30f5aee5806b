"""Publishing clients: the environment variables each one reads upload credentials from.

``--export CLIENT[=NAME]`` renders one repository as those variables. Each client has its own
traps (``publishers-and-ci.md`` §F); the ones an exported variable can avoid are avoided here,
and the ones it cannot are reported as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._records import NamedTuple
from .errors import InputError
from .repository import Repository

CLIENTS = ("twine", "uv", "poetry", "hatch", "pdm", "flit", "maturin")

PYPI_UPLOAD_URLS = ("https://upload.pypi.org/legacy/", "https://test.pypi.org/legacy/")


class ExportRequest(NamedTuple):
    """One ``--export`` flag: a client, and the repository it is for (None: the only one)."""

    client: str
    repository: str | None = None


class Variable(NamedTuple):
    name: str
    value: str
    secret: bool = False

    def __repr__(self) -> str:
        shown = "'***'" if self.secret else repr(self.value)
        return f"Variable(name={self.name!r}, value={shown}, secret={self.secret})"


class ClientExport(NamedTuple):
    client: str
    repository: str
    variables: tuple[Variable, ...]
    command: str
    warnings: tuple[str, ...] = ()


def parse_export_flag(text: str) -> ExportRequest:
    client, sep, name = text.partition("=")
    client, name = client.strip().lower(), name.strip()
    if client not in CLIENTS:
        raise InputError(
            f"--export {text!r}: unknown client {client!r}; choose one of {', '.join(CLIENTS)}, "
            "optionally with =NAME to pick the repository."
        )
    if sep and not name:
        raise InputError(f"--export {text!r}: give the repository name after '='.")
    return ExportRequest(client, name or None)


def poetry_key(name: str) -> str:
    """Poetry finds repositories in the environment only as ``POETRY_REPOSITORIES_<KEY>_URL``
    with KEY matching ``[A-Z_]+``, and calls that repository ``key.lower()`` with ``_`` as
    ``-``; so a name with digits or dots cannot be passed to it this way."""
    key = name.upper().replace("-", "_")
    if not key or any(not ("A" <= char <= "Z" or char == "_") for char in key):
        raise InputError(
            f"--export poetry={name}: poetry reads a repository from the environment only when "
            "its name has nothing but letters, '-' and '_' (no digits or dots); give the "
            "repository such a name, for example --repository my-index=URL."
        )
    return key


def select_exports(
    requests: Sequence[ExportRequest], names: Sequence[str]
) -> list[tuple[str, str]]:
    """Each request as ``(client, repository name)``, checked against the repositories of the
    run before anything is written. A client's variables exist once per job, so each client
    may be exported once; poetry alone names its repositories, so it may be exported for
    several."""
    chosen: list[tuple[str, str]] = []
    for request in requests:
        if request.repository is None:
            if len(names) != 1:
                raise InputError(
                    f"--export {request.client}: this run has {len(names)} repositories "
                    f"({', '.join(names)}); say which, as --export {request.client}=NAME."
                )
            name = names[0]
        elif request.repository not in names:
            raise InputError(
                f"--export {request.client}={request.repository}: no repository of that name "
                f"in this run; the names are: {', '.join(names)}."
            )
        else:
            name = request.repository
        if request.client == "poetry":
            key = poetry_key(name)
            if any(c == "poetry" and poetry_key(n) == key and n != name for c, n in chosen):
                raise InputError(
                    f"--export poetry={name}: poetry would see it under the same name as "
                    "another exported repository."
                )
        elif any(c == request.client and n != name for c, n in chosen):
            raise InputError(
                f"--export {request.client}: given for two repositories, but {request.client} "
                "reads one set of variables; export it for one repository only."
            )
        if (request.client, name) not in chosen:
            chosen.append((request.client, name))
    return chosen


class ClientVariables(NamedTuple):
    """Where one client reads the URL, username and password, how to run it, and the traps."""

    url: str
    username: str
    password: str
    command: str
    # Variables that, already set in the job, would win over or clash with the exported ones.
    rivals: tuple[str, ...] = ()
    note: str = ""


CLIENT_VARIABLES = {
    "twine": ClientVariables(
        "TWINE_REPOSITORY_URL",
        "TWINE_USERNAME",
        "TWINE_PASSWORD",
        "twine upload dist/*",
        note="twine: TWINE_REPOSITORY_URL, TWINE_USERNAME and TWINE_PASSWORD now apply to every "
        "twine upload in this job, and win over -r and --config-file.",
    ),
    # Never UV_PUBLISH_TOKEN: it forces the username __token__, which some indexes (JFrog)
    # refuse; the username travels as given.
    "uv": ClientVariables(
        "UV_PUBLISH_URL",
        "UV_PUBLISH_USERNAME",
        "UV_PUBLISH_PASSWORD",
        "uv publish dist/*",
        rivals=("UV_PUBLISH_TOKEN", "UV_PUBLISH_INDEX"),
    ),
    # With the user given, hatch never reads ~/.pypirc (whose '%' its parser chokes on).
    "hatch": ClientVariables(
        "HATCH_INDEX_REPO",
        "HATCH_INDEX_USER",
        "HATCH_INDEX_AUTH",
        "hatch publish --no-prompt dist/*",
    ),
    # Both username and password: without them pdm tries Trusted Publishing on any host.
    "pdm": ClientVariables(
        "PDM_PUBLISH_REPO", "PDM_PUBLISH_USERNAME", "PDM_PUBLISH_PASSWORD", "pdm publish --no-build"
    ),
    # flit needs a username even for tokens; ours is always set (__token__ by default).
    "flit": ClientVariables(
        "FLIT_INDEX_URL",
        "FLIT_USERNAME",
        "FLIT_PASSWORD",
        "flit publish  (without --repository, which flit refuses beside FLIT_INDEX_URL)",
    ),
    "maturin": ClientVariables(
        "MATURIN_REPOSITORY_URL",
        "MATURIN_USERNAME",
        "MATURIN_PASSWORD",
        "maturin upload dist/*",
        rivals=("MATURIN_PYPI_TOKEN",),
    ),
}


def _poetry_variables(name: str) -> ClientVariables:
    key = poetry_key(name)
    return ClientVariables(
        f"POETRY_REPOSITORIES_{key}_URL",
        f"POETRY_HTTP_BASIC_{key}_USERNAME",
        f"POETRY_HTTP_BASIC_{key}_PASSWORD",
        f"poetry publish -r {key.lower().replace('_', '-')}",
        rivals=(f"POETRY_PYPI_TOKEN_{key}",),
    )


def render_client_export(
    client: str, repository: Repository, env: Mapping[str, str]
) -> ClientExport:
    """The variables ``client`` needs to upload to ``repository``, and how to run it."""
    spec = _poetry_variables(repository.name) if client == "poetry" else CLIENT_VARIABLES[client]
    variables = [
        Variable(spec.url, repository.url),
        Variable(spec.username, repository.username),
        Variable(spec.password, repository.password, secret=True),
    ]
    rivals = spec.rivals
    if client == "maturin" and repository.url in PYPI_UPLOAD_URLS:
        # For PyPI's own URLs maturin prefers ~/.pypirc's [pypi]/[testpypi] credentials to
        # MATURIN_USERNAME/PASSWORD; MATURIN_PYPI_TOKEN is the one thing that beats them.
        rivals = ()
        if repository.username == "__token__":
            variables.append(Variable("MATURIN_PYPI_TOKEN", repository.password, secret=True))
    warnings = [spec.note] if spec.note else []
    warnings += [
        f"{name} is already set in this environment and would win over or clash with the "
        f"exported {spec.password}; unset it."
        for name in rivals
        if env.get(name)
    ]
    return ClientExport(client, repository.name, tuple(variables), spec.command, tuple(warnings))


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY")
# Every run exports the names of the client and proxy variables it exported here, so that the
# next run (and cleanup) can take away those it no longer sets: credentials never stack.
EXPORTS_VARIABLE = "TWINE_AUTHENTICATE_EXPORTS"


def earlier_exports(env: Mapping[str, str]) -> list[str]:
    """The variables an earlier run of this shell or job exported for clients, as it recorded
    them; only names this tool exports are believed."""
    names = env.get(EXPORTS_VARIABLE, "").split()
    return [name for name in dict.fromkeys(names) if is_client_variable(name)]


def is_secret_variable(name: str) -> bool:
    """The variables that carry a password or token (the others carry URLs and user names)."""
    return name.endswith(("_PASSWORD", "_TOKEN", "_AUTH"))


def is_client_variable(name: str) -> bool:
    """Whether ``name`` is one this tool exports, and so one it may clear again: a name read
    back from the environment is never trusted to be anything else (PATH, say)."""
    if name in PROXY_VARIABLES or name == "MATURIN_PYPI_TOKEN":
        return True
    if any(name in spec[:3] for spec in CLIENT_VARIABLES.values()):
        return True
    import re

    return (
        re.fullmatch(
            r"POETRY_(REPOSITORIES_[A-Z_]+_URL|HTTP_BASIC_[A-Z_]+_(USERNAME|PASSWORD))", name
        )
        is not None
    )
