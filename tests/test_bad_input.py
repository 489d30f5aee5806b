"""Reserved or impossible names, wrong-shaped agent JSON, two names sharing one secret, and
non-ASCII credentials: each a clear message, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import base_env, new_secret
from tests.support.in_process import invoke


def shell_env(tmp: Path, **extra: str) -> dict[str, str]:
    return base_env(tmp, **extra)


@pytest.mark.parametrize("name", ["distutils", "server-login", "Distutils", "SERVER-LOGIN"])
def test_names_twine_reserves_are_refused(tmp_path: Path, name: str) -> None:
    key = name.upper().replace("-", "_")
    env = shell_env(tmp_path, **{f"TWINE_AUTHENTICATE_{key}_PASSWORD": new_secret("reserved")})
    result = invoke(["--repository", f"{name}=https://idx.example/"], env)
    assert result.returncode == 2
    assert "is a name twine reserves" in result.stderr
    assert not list((tmp_path / "tmp").glob("twineAuthenticate-*/*/.pypirc"))


@pytest.mark.parametrize("feed", [".", "..", "../Feed", "./Feed", "Project/..", "../.."])
def test_dot_paths_are_not_feeds_or_projects(tmp_path: Path, feed: str) -> None:
    env = shell_env(tmp_path, SYSTEM_ACCESSTOKEN=new_secret("job token"))
    result = invoke(["--artifact-feed", feed], env)
    assert result.returncode == 2
    assert "is not a feed or project name" in result.stderr


def test_two_names_that_would_share_one_secret_are_refused(tmp_path: Path) -> None:
    env = shell_env(tmp_path, TWINE_AUTHENTICATE_A_B_PASSWORD=new_secret("shared"))
    result = invoke(
        ["--repository", "a-b=https://one.example/", "--repository", "a.b=https://two.example/"],
        env,
    )
    assert result.returncode == 2
    assert "--repository a-b and --repository a.b would both read" in result.stderr
    assert "TWINE_AUTHENTICATE_A_B_PASSWORD" in result.stderr


@pytest.mark.parametrize(
    ("value", "phrase"),
    [
        ({"scheme": "OAuth", "parameters": {}}, "parameters have no AccessToken"),
        ({"scheme": "Basic", "parameters": {"AccessToken": "x"}}, "its scheme is 'Basic'"),
        ({"scheme": "OAuth", "parameters": ["AccessToken"]}, "parameters have no AccessToken"),
        ({"scheme": "OAuth", "parameters": {"AccessToken": 5}}, "parameters have no AccessToken"),
        ([1, 2], "is not the JSON the agent writes"),
        ("a string", "is not the JSON the agent writes"),
    ],
)
def test_a_wrong_shaped_system_connection_names_itself(
    tmp_path: Path, value: object, phrase: str
) -> None:
    env = shell_env(tmp_path, ENDPOINT_AUTH_SYSTEMVSSCONNECTION=json.dumps(value))
    result = invoke(["--artifact-feed", "Feed"], env)
    assert result.returncode == 2
    assert "ENDPOINT_AUTH_SYSTEMVSSCONNECTION" in result.stderr and phrase in result.stderr


def test_absurdly_deep_agent_json_is_an_input_error(tmp_path: Path) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    env = shell_env(
        tmp_path,
        ENDPOINT_URL_c1="https://idx.example/",
        ENDPOINT_DATA_c1_ENDPOINTNAME="ext",
        ENDPOINT_AUTH_c1=deep,
        ENDPOINT_AUTH_SYSTEMVSSCONNECTION=deep,
    )
    for argv in (["--service-connection", "c1"], ["--artifact-feed", "Feed"]):
        result = invoke(argv, env)
        assert result.returncode == 2, result.output
        assert "internal error" not in result.stderr and "JSON" in result.stderr


@pytest.mark.parametrize(
    ("username", "password", "fails_latin1"),
    [
        ("ci", "pässwörd-ß", False),
        ("jürgen", "ascii-only", False),
        ("ci", "пароль-日本", True),
    ],
)
def test_non_ascii_credentials_are_written_exactly_with_a_warning(
    tmp_path: Path, username: str, password: str, fails_latin1: bool
) -> None:
    secret = new_secret("non-ascii", alphabet=password)
    env = shell_env(
        tmp_path,
        TWINE_AUTHENTICATE_IDX_PASSWORD=secret,
        TWINE_AUTHENTICATE_IDX_USERNAME=username,
    )
    result = invoke(["--repository", "idx=https://idx.example/"], env)
    assert result.returncode == 0, result.stderr
    assert "holds non-ASCII characters" in result.stderr
    assert "twine, poetry and flit send Basic auth as Latin-1" in result.stderr
    assert "uv, hatch, pdm and maturin send UTF-8" in result.stderr
    assert ("fail on a character outside it" in result.stderr) is fails_latin1
    (written,) = (tmp_path / "tmp").glob("twineAuthenticate-*/*/.pypirc")
    from twine.utils import get_config

    assert get_config(str(written))["idx"]["password"] == secret


def test_ascii_credentials_get_no_such_warning(tmp_path: Path) -> None:
    env = shell_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("ascii"))
    result = invoke(["--repository", "idx=https://idx.example/"], env)
    assert result.returncode == 0 and "non-ASCII" not in result.stderr
