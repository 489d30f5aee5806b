"""Checks that keep every value safe to write into a ``.pypirc`` and into CI logging commands.

configparser strips values and ends them at a line break, twine splits ``index-servers`` on
whitespace, and a line break in a logging command would let a value forge another command.
So values are refused, never escaped: an escaped value would not be what the index expects.
"""

from __future__ import annotations

from collections.abc import Iterable

from .errors import InputError
from .urls import is_loopback_host, parse_url

# twine itself warns about any character whose category starts with "C"; line and paragraph
# separators are refused too because some readers split lines on them.
_REFUSED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def find_refused_character(value: str) -> int | None:
    """Return the index of the first control or line-breaking character, or None."""
    for index, char in enumerate(value):
        if char.isascii() and " " <= char <= "~":
            continue
        import unicodedata  # only for a value with a control or non-ASCII character

        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            return index
    return None


def check_value(value: str, what: str, *, secret: bool = False) -> str:
    """Refuse a value that would corrupt the file or not read back as written.

    ``what`` names the input for the message; for a secret the message never quotes it.
    """
    index = find_refused_character(value)
    if index is not None:
        code = f"U+{ord(value[index]):04X}"
        where = f"at position {index + 1}" if secret else f"in {value!r}"
        raise InputError(
            f"{what} contains a control or line-break character ({code}) {where}; "
            "such a value would corrupt the .pypirc. Remove it and run again."
        )
    if value != value.strip():
        detail = "" if secret else f" ({value!r})"
        raise InputError(
            f"{what} starts or ends with whitespace{detail}; the .pypirc cannot keep it "
            "(configparser strips it). Remove the whitespace and run again."
        )
    return value


RESERVED_SECTIONS = ("distutils", "server-login")


def check_section_name(name: str, what: str) -> str:
    """A section name must be one word twine can select with ``-r`` and list in index-servers."""
    if not name:
        raise InputError(f"{what} is empty; give a repository name.")
    check_value(name, what)
    if any(char.isspace() for char in name):
        raise InputError(
            f"{what} {name!r} contains whitespace; twine splits index-servers on whitespace, "
            "so the section could never be selected. Use a name without spaces."
        )
    if name.lower() in RESERVED_SECTIONS:
        raise InputError(
            f"{what} {name!r} is a name twine reserves ([distutils] lists the repositories, "
            "[server-login] holds fallback credentials for every section); use another name."
        )
    if "[" in name or "]" in name:
        raise InputError(
            f"{what} {name!r} contains '[' or ']', which would break the section header."
        )
    return name


def check_url(url: str, what: str) -> str:
    """An index URL must be http(s) with a host and must not carry credentials itself
    (the summary prints it)."""
    check_value(url, what)
    parse_url(url, what)
    return url


def is_plain_http_to_remote_host(url: str) -> bool:
    """Credentials over plain http are only reasonable for an index on this machine."""
    address = parse_url(url, "URL")
    return address.scheme == "http" and not is_loopback_host(address.host)


def check_unique_names(names: Iterable[tuple[str, str]]) -> None:
    """Refuse two repositories with the same section name; ``names`` pairs name and origin."""
    seen: dict[str, str] = {}
    for name, origin in names:
        if name in seen:
            raise InputError(
                f"the section name {name!r} is used twice ({seen[name]} and {origin}); "
                "twine could select only one of them. Give each repository its own name."
            )
        seen[name] = origin
