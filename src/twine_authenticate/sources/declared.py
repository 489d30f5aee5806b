"""Repositories a project declares in its ``pyproject.toml``, so its pipeline needs no flags::

    [[tool.twine-authenticate.repositories]]
    name = "internal"
    url = "https://pypi.example.com/upload/"
    username = "ci-uploader"              # optional, default __token__
    password-env = "INTERNAL_UPLOAD_TOKEN"

The secret itself never lives in the file: ``password-env`` names the variable that holds it.
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

if TYPE_CHECKING:
    from typing import Any

    from ..inputs import Inputs

TABLE = "twine-authenticate"
ORIGIN = "pyproject.toml"
KEYS = {"name", "url", "username", "password-env"}
TABLE_MARKERS = tuple(
    f"{table}{after}".encode()
    for table in (TABLE, f'"{TABLE}"')
    for after in (".", "]", " .", " ]")
)


def _load_toml(data: bytes, path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path} is not valid TOML: {error}.") from None


def read(inputs: Inputs, env: Mapping[str, str]) -> Pending | None:
    if inputs.pyproject is None:
        return None
    return ready(read_declared_repositories(inputs.pyproject, env))


def read_declared_repositories(path: str, env: Mapping[str, str]) -> list[Repository]:
    """The repositories under ``[tool.twine-authenticate]`` of ``path``; none when the file or
    the table is absent."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}.") from None
    # Most projects do not use the table: skip the TOML parser (and its import) unless the
    # file has a header or dotted key naming it ([tool.twine-authenticate], its
    # [[...repositories]], or the quoted forms). A project's own name does not count.
    if not any(marker in data for marker in TABLE_MARKERS):
        return []
    table = _load_toml(data, path).get("tool", {}).get(TABLE)
    if table is None:
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
