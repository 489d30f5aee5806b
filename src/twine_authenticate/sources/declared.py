"""Repositories a project declares in its ``pyproject.toml``, so its pipeline needs no flags::

    [[tool.twine-authenticate.repositories]]
    name = "internal"
    url = "https://pypi.example.com/upload/"
    username = "ci-uploader"              # optional, default __token__
    password-env = "TWINE_AUTHENTICATE_INTERNAL_PASSWORD"

The secret itself never lives in the file: ``password-env`` names the variable that holds it.
The file is repository content, which a pull request can change, so it may only name a
variable the pipeline provides for this purpose, one whose name starts with
``TWINE_AUTHENTICATE_``: never the job token (``SYSTEM_ACCESSTOKEN``, ``GITHUB_TOKEN``,
``CI_JOB_TOKEN``) or any other credential the job happens to hold, which a changed URL
would otherwise carry to a host of the pull request's choosing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from .._records import TYPE_CHECKING
from ..errors import InputError
from ..repository import Repository
from ..validation import check_section_name, check_url, check_value
from .pending import Pending, ready
from .repository_flag import credential_key

if TYPE_CHECKING:
    from typing import Any

    from ..inputs import Inputs

TABLE = "twine-authenticate"
ORIGIN = "pyproject.toml"
KEYS = {"name", "url", "username", "password-env"}
PASSWORD_ENV_PREFIX = "TWINE_AUTHENTICATE_"  # noqa: S105 - a variable name prefix
# Our own bookkeeping variables are not secrets a pipeline provides.
NOT_PASSWORDS = {"TWINE_AUTHENTICATE_RUN", "TWINE_AUTHENTICATE_EXPORTS"}
MAX_SIZE = 1024 * 1024  # a pyproject.toml is a few kilobytes; this is only a guard
# Any mention of the tool (any spelling of the table, quoted or not, inline or not) means the
# file is parsed; a file that does not name it is not, and costs no TOML import.
MENTIONS = (b"twine-authenticate", b"twine_authenticate")


def _read_regular_file(path: str) -> bytes | None:
    """The file's bytes; None when it does not exist. Only a regular file of sane size is
    read: a FIFO or a device named pyproject.toml would hang or never end."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}.") from None
    with os.fdopen(descriptor, "rb") as handle:
        import stat

        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path} is not a regular file; point --pyproject at a file.")
        data = handle.read(MAX_SIZE + 1)
    if len(data) > MAX_SIZE:
        raise InputError(f"{path} is larger than {MAX_SIZE // 1024} KiB; it is not read.")
    return data


def _load_toml(data: bytes, path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path} is not valid TOML: {error}.") from None
    except RecursionError:
        raise InputError(f"{path} nests arrays or tables too deeply to read.") from None


def read(inputs: Inputs, env: Mapping[str, str]) -> Pending | None:
    if inputs.pyproject is None:
        return None
    return ready(read_declared_repositories(inputs.pyproject, env))


def read_declared_repositories(path: str, env: Mapping[str, str]) -> list[Repository]:
    """The repositories under ``[tool.twine-authenticate]`` of ``path``; none when the file or
    the table is absent."""
    data = _read_regular_file(path)
    if data is None or not any(mention in data for mention in MENTIONS):
        return []
    tool = _load_toml(data, path).get("tool")
    table = tool.get(TABLE) if isinstance(tool, dict) else None
    if table is None:
        misspelt = [key for key in tool or {} if key.replace("_", "-").lower() == TABLE]
        if misspelt:
            raise InputError(
                f"{path} has a [tool.{misspelt[0]}] table, which is not read: the table is "
                f"[tool.{TABLE}]. Rename it."
            )
        return []
    where = f"{os.path.basename(path)} [tool.{TABLE}]"
    if not isinstance(table, dict) or set(table) - {"repositories"}:
        raise InputError(
            f"{where}: expected only a 'repositories' array of tables "
            f"([[tool.{TABLE}.repositories]])."
        )
    entries = table.get("repositories", [])
    if not isinstance(entries, list):
        raise InputError(f"{where}: 'repositories' must be an array of tables.")
    return [
        _read_entry(entry, f"{where} repositories[{index}]", env)
        for index, entry in enumerate(entries)
    ]


def _read_entry(entry: object, where: str, env: Mapping[str, str]) -> Repository:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a table with name, url and password-env.")
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        raise InputError(
            f"{where}: unknown key {', '.join(unknown)}; the keys are name, url, username "
            "and password-env (the secret itself never goes in the file)."
        )
    values: dict[str, str] = {}
    for key in ("name", "url", "password-env", "username"):
        value = entry.get(key)
        if value is None and key != "username":
            raise InputError(f"{where}: '{key}' is missing.")
        if value is not None and not isinstance(value, str):
            raise InputError(f"{where}: '{key}' must be a string.")
        if value is not None:
            values[key] = value.strip()
    name = values["name"]
    where = f"{where} ({name})"
    check_section_name(name, f"{where}: name")
    check_url(values["url"], f"{where}: url")
    variable = values["password-env"]
    if not variable.startswith(PASSWORD_ENV_PREFIX) or variable in NOT_PASSWORDS:
        raise InputError(
            f"{where}: password-env names {variable}, but a declaration may only name a "
            f"variable whose name starts with {PASSWORD_ENV_PREFIX}, which the pipeline sets "
            "for this purpose (pyproject.toml is repository content, which a pull request can "
            "change; it must not pick the job's other credentials). Map the secret to, for "
            f"example, {PASSWORD_ENV_PREFIX}{credential_key(name)}_PASSWORD."
        )
    password = env.get(variable)
    if not password:
        raise InputError(
            f"{where}: the environment variable {variable} (its password-env) is not set; "
            "map the secret into this step's environment."
        )
    check_value(password, variable, secret=True)
    username = values.get("username") or "__token__"
    check_value(username, f"{where}: username")
    return Repository(
        name=name, url=values["url"], username=username, password=password, origin=ORIGIN
    )
