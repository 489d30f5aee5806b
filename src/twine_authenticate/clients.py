"""Publishing clients: the environment variables each one reads upload credentials from.

``--export CLIENT[=NAME]`` renders one repository as those variables. Each client has its own
traps (``publishers-and-ci.md`` §F); the ones an exported variable can avoid are avoided here,
and the ones it cannot are reported as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

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


def _set_elsewhere(env: Mapping[str, str], names: Sequence[str], why: str) -> tuple[str, ...]:
    present = [name for name in names if env.get(name)]
    if not present:
        return ()
    return (f"{' and '.join(present)} already set in this environment {why}; unset it.",)


def render_client_export(
    client: str, repository: Repository, env: Mapping[str, str]
) -> ClientExport:
    """The variables ``client`` needs to upload to ``repository``, and how to run it."""
    url, username, password = repository.url, repository.username, repository.password
    is_pypi = url in PYPI_UPLOAD_URLS
    if client == "twine":
        return ClientExport(
            client,
            repository.name,
            (
                Variable("TWINE_REPOSITORY_URL", url),
                Variable("TWINE_USERNAME", username),
                Variable("TWINE_PASSWORD", password, secret=True),
            ),
            "twine upload dist/*",
            (
                "twine: TWINE_REPOSITORY_URL, TWINE_USERNAME and TWINE_PASSWORD now apply to "
                "every twine upload in this job, and win over -r and --config-file.",
            ),
        )
    if client == "uv":
        # Never UV_PUBLISH_TOKEN: it forces the username __token__, which some indexes
        # (JFrog) refuse; the username travels as given.
        return ClientExport(
            client,
            repository.name,
            (
                Variable("UV_PUBLISH_URL", url),
                Variable("UV_PUBLISH_USERNAME", username),
                Variable("UV_PUBLISH_PASSWORD", password, secret=True),
            ),
            "uv publish dist/*",
            _set_elsewhere(
                env,
                ("UV_PUBLISH_TOKEN", "UV_PUBLISH_INDEX"),
                "would conflict with the exported UV_PUBLISH_* credentials",
            ),
        )
    if client == "poetry":
        key = poetry_key(repository.name)
        poetry_name = key.lower().replace("_", "-")
        return ClientExport(
            client,
            repository.name,
            (
                Variable(f"POETRY_REPOSITORIES_{key}_URL", url),
                Variable(f"POETRY_HTTP_BASIC_{key}_USERNAME", username),
                Variable(f"POETRY_HTTP_BASIC_{key}_PASSWORD", password, secret=True),
            ),
            f"poetry publish -r {poetry_name}",
            _set_elsewhere(
                env,
                (f"POETRY_PYPI_TOKEN_{key}",),
                f"wins over the exported http-basic credentials of {poetry_name}",
            ),
        )
    if client == "hatch":
        # With the user given, hatch never reads ~/.pypirc (whose '%' its parser chokes on).
        return ClientExport(
            client,
            repository.name,
            (
                Variable("HATCH_INDEX_REPO", url),
                Variable("HATCH_INDEX_USER", username),
                Variable("HATCH_INDEX_AUTH", password, secret=True),
            ),
            "hatch publish --no-prompt dist/*",
        )
    if client == "pdm":
        # Both username and password: without them pdm tries Trusted Publishing on any host.
        return ClientExport(
            client,
            repository.name,
            (
                Variable("PDM_PUBLISH_REPO", url),
                Variable("PDM_PUBLISH_USERNAME", username),
                Variable("PDM_PUBLISH_PASSWORD", password, secret=True),
            ),
            "pdm publish --no-build",
        )
    if client == "flit":
        # flit needs a username even for tokens; ours is always set (__token__ by default).
        return ClientExport(
            client,
            repository.name,
            (
                Variable("FLIT_INDEX_URL", url),
                Variable("FLIT_USERNAME", username),
                Variable("FLIT_PASSWORD", password, secret=True),
            ),
            "flit publish  (without --repository, which flit refuses beside FLIT_INDEX_URL)",
        )
    if client == "maturin":
        variables = [
            Variable("MATURIN_REPOSITORY_URL", url),
            Variable("MATURIN_USERNAME", username),
            Variable("MATURIN_PASSWORD", password, secret=True),
        ]
        # For PyPI's own URLs maturin prefers ~/.pypirc's [pypi]/[testpypi] credentials to
        # MATURIN_USERNAME/PASSWORD; MATURIN_PYPI_TOKEN is the one thing that beats them.
        if is_pypi and username == "__token__":
            variables.append(Variable("MATURIN_PYPI_TOKEN", password, secret=True))
        warnings = _set_elsewhere(
            env,
            () if is_pypi else ("MATURIN_PYPI_TOKEN",),
            "wins over the exported MATURIN_USERNAME and MATURIN_PASSWORD",
        )
        return ClientExport(
            client, repository.name, tuple(variables), "maturin upload dist/*", warnings
        )
    raise InputError(f"--export: unknown client {client!r}.")  # pragma: no cover - parsed
