"""The .pypirc: upstream's layout, and every allowed value read back identically by twine."""

from __future__ import annotations

import string
import tempfile
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twine.utils import get_config

from twine_authenticate import InputError, Repository, render_pypirc
from twine_authenticate.storage import write_private_file
from twine_authenticate.validation import find_refused_character


def test_layout_is_upstreams_with_a_final_newline() -> None:
    text = render_pypirc(
        [
            Repository("TestFeed", "https://vsts/packagesource/TestFeed", "build", "token"),
            Repository("ext", "https://external.pypi.org/ext/simple/", "build", "t2"),
        ]
    )
    assert text == (
        "[distutils]\nindex-servers=TestFeed ext\n\n"
        "[TestFeed]\nrepository=https://vsts/packagesource/TestFeed\nusername=build\npassword=token\n\n"
        "[ext]\nrepository=https://external.pypi.org/ext/simple/\nusername=build\npassword=t2\n"
    )


@pytest.mark.parametrize(
    ("repository", "message"),
    [
        (Repository("a b", "https://x/", "u", "p"), "whitespace"),
        (Repository("a]b", "https://x/", "u", "p"), "'[' or ']'"),
        (Repository("a", "ftp://x/", "u", "p"), "not an http:// or https:// URL"),
        (Repository("a", "https://u:p@x/", "u", "p"), "credentials in the URL"),
        (Repository("a", "https://x/", "u\nx", "p"), "line-break"),
        (Repository("a", "https://x/", "u", "p\r\n[evil]"), "position 2"),
        (Repository("a", "https://x/", "u", " p"), "whitespace"),
    ],
)
def test_unsafe_values_are_refused(repository: Repository, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        render_pypirc([repository])


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(InputError, match="used twice"):
        render_pypirc(
            [Repository("a", "https://x/", "u", "p"), Repository("a", "https://y/", "u", "q")]
        )


# Printable text as twine's reader keeps it: no control characters (what twine warns about),
# no line separators, and nothing at the ends that configparser would strip.
allowed_text = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")), min_size=1
).filter(lambda value: value == value.strip())
url_path = st.text(
    st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")),
).filter(lambda value: not any(char.isspace() for char in value))


@settings(max_examples=150, deadline=None)
@given(
    username=allowed_text,
    password=allowed_text,
    path=url_path,
    name=st.text(string.ascii_letters + string.digits + "._-", min_size=1),
)
def test_any_allowed_value_round_trips_through_twine(
    username: str, password: str, path: str, name: str
) -> None:
    url = f"https://index.example/{path}"
    with tempfile.TemporaryDirectory() as directory:
        written = write_private_file(
            directory, render_pypirc([Repository(name, url, username, password)])
        )
        config = get_config(str(written))
    assert config[name]["repository"] == url
    assert config[name]["username"] == username
    assert config[name]["password"] == password


@given(prefix=allowed_text, bad=st.characters(whitelist_categories=("Cc", "Cf", "Zl", "Zp")))
def test_values_with_control_characters_are_refused(prefix: str, bad: str) -> None:
    assert unicodedata.category(bad) in ("Cc", "Cf", "Zl", "Zp")
    assert find_refused_character(prefix + bad) == len(prefix)
    with pytest.raises(InputError):
        render_pypirc([Repository("a", "https://x/", "user", prefix + bad + "z")])
