"""``--repository NAME[=URL]``: any index, with credentials taken from the environment so that
they never appear on a command line (where ``ps`` and CI logs would show them).

An entry with no password variable is left to the keyless sources (Entra federation, PyPI
Trusted Publishing), unless ``--trusted-publishing never`` and no ``--entra`` asks for it.
"""

from __future__ import annotations

from .._records import TYPE_CHECKING, NamedTuple
from ..azure.agent import Environment
from ..errors import InputError
from ..repository import Repository
from ..validation import check_section_name, check_url, check_value
from .pending import Pending, ready

if TYPE_CHECKING:
    from ..inputs import Inputs

ENV_PREFIX = "TWINE_AUTHENTICATE_"
# Names that need no URL: PyPI's and TestPyPI's upload URLs, as twine's own defaults.
KNOWN_INDEXES = {
    "pypi": "https://upload.pypi.org/legacy/",
    "testpypi": "https://test.pypi.org/legacy/",
}


class Entry(NamedTuple):
    """One ``--repository`` flag, parsed and checked, before its credentials are read."""

    name: str
    url: str

    @property
    def what(self) -> str:
        return f"--repository {self.name}"


def credential_key(name: str) -> str:
    """``my-index.dev`` → ``MY_INDEX_DEV``: the part of the variable names that names NAME."""
    return "".join(
        char if "A" <= char <= "Z" or "0" <= char <= "9" else "_" for char in name.upper()
    )


def password_variable(name: str) -> str:
    return f"{ENV_PREFIX}{credential_key(name)}_PASSWORD"


def username_variable(name: str) -> str:
    return f"{ENV_PREFIX}{credential_key(name)}_USERNAME"


def parse_entry(spec: str) -> Entry:
    name, sep, url = spec.partition("=")
    name, url = name.strip(), url.strip()
    if not sep and name.lower() in KNOWN_INDEXES:
        url = KNOWN_INDEXES[name.lower()]
    elif not sep or not name or not url:
        raise InputError(
            f"--repository {spec!r}: expected NAME=URL, for example "
            "--repository internal=https://pypi.example.com/ (only pypi and testpypi need no "
            "URL)."
        )
    what = f"--repository {name}"
    check_section_name(name, f"{what}: name")
    check_url(url, f"{what}: URL")
    return Entry(name, url)


def entries(inputs: Inputs) -> list[Entry]:
    """Every ``--repository`` entry, no two sharing one secret variable."""
    parsed = [parse_entry(spec) for spec in inputs.repositories]
    by_key: dict[str, str] = {}
    for entry in parsed:
        other = by_key.setdefault(credential_key(entry.name), entry.name)
        if other != entry.name:
            raise InputError(
                f"--repository {other} and --repository {entry.name} would both read "
                f"{password_variable(entry.name)}, so they would share one secret; give "
                "them names that differ in letters or digits."
            )
    return parsed


def keyless_entries(inputs: Inputs, env: Environment) -> list[Entry]:
    """The entries with no password variable, when keyless publishing may take them."""
    if inputs.trusted_publishing == "never" and not inputs.entra:
        return []
    return [entry for entry in entries(inputs) if not env.get(password_variable(entry.name))]


def missing_password(entry: Entry) -> InputError:
    return InputError(
        f"{entry.what}: set its password or token in the environment variable "
        f"{password_variable(entry.name)} (credentials are never taken from flags)."
    )


def read(inputs: Inputs, env: Environment) -> Pending | None:
    keyless = keyless_entries(inputs, env)
    repositories = [
        read_repository_flag(entry, env) for entry in entries(inputs) if entry not in keyless
    ]
    return ready(repositories)


def read_repository_flag(entry: Entry, env: Environment) -> Repository:
    password = env.get(password_variable(entry.name))
    if not password:
        raise missing_password(entry)
    username = env.get(username_variable(entry.name)) or "__token__"
    check_value(username, username_variable(entry.name))
    check_value(password, password_variable(entry.name), secret=True)
    return Repository(
        name=entry.name, url=entry.url, username=username, password=password, origin="--repository"
    )
