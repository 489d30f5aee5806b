"""``--repository NAME=URL``: any index, with credentials taken from the environment so that
they never appear on a command line (where ``ps`` and CI logs would show them)."""

from __future__ import annotations

from .._records import TYPE_CHECKING
from ..azure.agent import Environment
from ..errors import InputError
from ..repository import Repository
from ..validation import check_section_name, check_url, check_value
from .pending import Pending, ready

if TYPE_CHECKING:
    from ..inputs import Inputs

ENV_PREFIX = "TWINE_AUTHENTICATE_"


def credential_key(name: str) -> str:
    """``my-index.dev`` → ``MY_INDEX_DEV``: the part of the variable names that names NAME."""
    return "".join(
        char if "A" <= char <= "Z" or "0" <= char <= "9" else "_" for char in name.upper()
    )


def password_variable(name: str) -> str:
    return f"{ENV_PREFIX}{credential_key(name)}_PASSWORD"


def username_variable(name: str) -> str:
    return f"{ENV_PREFIX}{credential_key(name)}_USERNAME"


def read(inputs: Inputs, env: Environment) -> Pending | None:
    repositories = [read_repository_flag(spec, env) for spec in inputs.repositories]
    by_key: dict[str, str] = {}
    for repository in repositories:
        other = by_key.setdefault(credential_key(repository.name), repository.name)
        if other != repository.name:
            raise InputError(
                f"--repository {other} and --repository {repository.name} would both read "
                f"{password_variable(repository.name)}, so they would share one secret; give "
                "them names that differ in letters or digits."
            )
    return ready(repositories)


def read_repository_flag(spec: str, env: Environment) -> Repository:
    name, sep, url = spec.partition("=")
    name, url = name.strip(), url.strip()
    if not sep or not name or not url:
        raise InputError(
            f"--repository {spec!r}: expected NAME=URL, for example "
            "--repository internal=https://pypi.example.com/"
        )
    what = f"--repository {name}"
    check_section_name(name, f"{what}: name")
    check_url(url, f"{what}: URL")
    password = env.get(password_variable(name))
    if not password:
        raise InputError(
            f"{what}: set its password or token in the environment variable "
            f"{password_variable(name)} (credentials are never taken from flags)."
        )
    username = env.get(username_variable(name)) or "__token__"
    check_value(username, username_variable(name))
    check_value(password, password_variable(name), secret=True)
    return Repository(
        name=name, url=url, username=username, password=password, origin="--repository"
    )
