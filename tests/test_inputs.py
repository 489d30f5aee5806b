"""Flags and the task contract become one set of sources; bad input gets one clear message."""

from __future__ import annotations

import json

import pytest

from twine_authenticate import InputError, Options, Repository, resolve_repositories
from twine_authenticate.inputs import Inputs, read_inputs, split_list
from twine_authenticate.sources import Pending, read_sources
from twine_authenticate.sources.artifacts_feed import parse_feed_reference

TOKEN_ENV = {
    "ENDPOINT_AUTH_SYSTEMVSSCONNECTION": json.dumps(
        {"parameters": {"AccessToken": "job-token-123"}, "scheme": "OAuth"}
    )
}


def connection_env(
    cid: str,
    scheme: str = "Token",
    url: str = "https://idx.example/upload/",
    name: str = "ext",
    **parameters: str,
) -> dict[str, str]:
    return {
        f"ENDPOINT_URL_{cid}": url,
        f"ENDPOINT_DATA_{cid}_ENDPOINTNAME": name,
        f"ENDPOINT_AUTH_{cid}": json.dumps({"parameters": parameters, "scheme": scheme}),
        f"ENDPOINT_AUTH_SCHEME_{cid}": scheme,
    }


def inputs(options: Options, env: dict[str, str]) -> Inputs:
    return read_inputs(
        artifact_feeds=options.artifact_feeds,
        service_connections=options.service_connections,
        repositories=options.repositories,
        pyproject=None,
        verify_feeds=True,
        env=env,
    )


def sources(options: Options, env: dict[str, str]) -> list[Pending]:
    """What each source read, without the network (feeds are resolved later)."""
    return read_sources(inputs(options, env), env)


def repositories(options: Options, env: dict[str, str]) -> list[Repository]:
    return resolve_repositories(options._replace(pyproject=None), env)


def test_lists_are_trimmed_and_empty_items_dropped() -> None:
    assert split_list(["A, B", " ,C,", "D"]) == ("A", "B", "C", "D")


@pytest.mark.parametrize(
    ("text", "feed", "project"),
    [
        ("Feed", "Feed", None),
        ("My Project/Feed", "Feed", "My Project"),
        ("P/Test.Feed", "Test.Feed", "P"),
        ("Feed@Release", "Feed@Release", None),
    ],
)
def test_feed_references(text: str, feed: str, project: str | None) -> None:
    reference = parse_feed_reference(text)
    assert (reference.feed, reference.project) == (feed, project)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a/b/c", "more than one '/'"),
        ("/Feed", "empty project part"),
        ("Proj/", "empty feed part"),
        ("My Feed", "whitespace"),
        ("Fe[ed", r"'\[' or '\]'"),
        ("Feed\n##vso[task.setvariable]x", "line-break"),
    ],
)
def test_bad_feed_references_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_feed_reference(text)


def test_flags_win_over_task_inputs() -> None:
    env = {**TOKEN_ENV, "INPUT_ARTIFACTFEED": "FromInput"}
    read = inputs(Options(artifact_feeds=("FromFlag",)), env)
    assert read.artifact_feeds == ("FromFlag",)


def test_task_inputs_are_read_without_flags() -> None:
    env = {
        **TOKEN_ENV,
        "INPUT_ARTIFACTFEED": "P/F1, F2",
        "INPUT_PYTHONUPLOADSERVICECONNECTION": "c1",
        **connection_env("c1", apitoken="t1"),
    }
    feeds, connections = sources(Options(), env)
    assert feeds.names == (("F1", "feed P/F1"), ("F2", "feed F2"))
    assert connections.names == (("ext", "service connection ext"),)
    assert [*feeds.secrets, *connections.secrets] == ["job-token-123", "t1"]


def test_token_from_system_accesstoken_and_its_unexpanded_macro() -> None:
    (feeds,) = sources(Options(artifact_feeds=("F",)), {"SYSTEM_ACCESSTOKEN": "tok"})
    assert feeds.secrets == ("tok",)
    with pytest.raises(InputError, match="unexpanded macro"):
        sources(Options(artifact_feeds=("F",)), {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"})


def test_missing_token_shows_the_env_mapping() -> None:
    with pytest.raises(InputError, match=r"SYSTEM_ACCESSTOKEN: \$\(System.AccessToken\)"):
        sources(Options(artifact_feeds=("F",)), {})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "ENDPOINT_URL_c1 is not set"),
        ({"ENDPOINT_URL_c1": "https://x/"}, "ENDPOINT_DATA_c1_ENDPOINTNAME is not set"),
        (
            {
                "ENDPOINT_URL_c1": "https://x/",
                "ENDPOINT_DATA_c1_ENDPOINTNAME": "n",
                "ENDPOINT_AUTH_c1": "{not json",
            },
            "not valid JSON",
        ),
        ({**connection_env("c1", scheme="None")}, "scheme 'None' is not supported"),
        ({**connection_env("c1", scheme="Token")}, "no apitoken"),
        (
            {**connection_env("c1", scheme="UsernamePassword", username="u")},
            "its password is empty",
        ),
        ({**connection_env("c1", name="has space", apitoken="t")}, "whitespace"),
        ({**connection_env("c1", url="file:///etc/passwd", apitoken="t")}, "not an http"),
    ],
)
def test_broken_service_connections_name_the_connection(env: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        repositories(Options(service_connections=("c1",)), env)
    assert "service connection c1" in str(caught.value)


def test_token_connection_usernames() -> None:
    env = {
        **connection_env("p", url="https://upload.pypi.org/legacy/", name="pypi", apitoken="a"),
        **connection_env("t", url="https://test.pypi.org/legacy/", name="testpypi", apitoken="b"),
        **connection_env("o", name="other", apitoken="c"),
    }
    found = repositories(Options(service_connections=("p,t,o",)), env)
    assert [r.username for r in found] == ["__token__", "__token__", "build"]


def test_repository_flag_reads_credentials_from_the_environment() -> None:
    env = {
        "TWINE_AUTHENTICATE_MY_INDEX_DEV_PASSWORD": "pw",
        "TWINE_AUTHENTICATE_MY_INDEX_DEV_USERNAME": "me",
        "TWINE_AUTHENTICATE_PYPI_PASSWORD": "tok",
    }
    found = repositories(
        Options(
            repositories=("my-index.dev=https://x.example/", "pypi=https://upload.pypi.org/legacy/")
        ),
        env,
    )
    assert [(r.name, r.username, r.password) for r in found] == [
        ("my-index.dev", "me", "pw"),
        ("pypi", "__token__", "tok"),
    ]
    with pytest.raises(InputError, match="TWINE_AUTHENTICATE_NEW_PASSWORD"):
        repositories(Options(repositories=("new=https://x/",)), {})
    with pytest.raises(InputError, match="expected NAME=URL"):
        repositories(Options(repositories=("just-a-name",)), {})


def test_a_name_used_twice_is_an_error() -> None:
    env = {**TOKEN_ENV, **connection_env("c1", name="Feed", apitoken="t")}
    with pytest.raises(InputError, match="'Feed' is used twice"):
        sources(Options(artifact_feeds=("P/Feed",), service_connections=("c1",)), env)


@pytest.mark.parametrize(
    ("inputs", "phrase"),
    [
        (
            {"INPUT_FEEDURL": "https://pkgs.dev.azure.com/o/_packaging/F/pypi/upload/"},
            "feedUrl is set",
        ),
        (
            {"INPUT_WORKLOADIDENTITYSERVICECONNECTION": "c9"},
            "workloadIdentityServiceConnection is set",
        ),
        ({"INPUT_AZUREDEVOPSSERVICECONNECTION": "c9"}, "workloadIdentityServiceConnection is set"),
    ],
)
def test_half_a_workload_identity_pair_is_an_error(inputs: dict[str, str], phrase: str) -> None:
    env = {**TOKEN_ENV, "INPUT_ARTIFACTFEED": "F", **inputs}
    with pytest.raises(InputError, match=f"{phrase} but .* is not: workload identity needs both"):
        sources(Options(), env)


@pytest.mark.parametrize(
    ("url", "username"),
    [
        ("https://upload.pypi.org/legacy/", "__token__"),
        ("https://upload.pypi.org/legacy", "__token__"),  # every module agrees on this one now
        ("https://UPLOAD.pypi.org:443/legacy/", "__token__"),
        ("https://test.pypi.org/legacy", "__token__"),
        ("https://upload.pypi.org.evil.example/legacy/", "build"),
        ("http://upload.pypi.org/legacy/", "build"),
    ],
)
def test_pypi_upload_urls_are_recognised_one_way(url: str, username: str) -> None:
    env = connection_env("c", url=url, name="pypi", apitoken="t")
    (found,) = repositories(Options(service_connections=("c",)), env)
    assert found.username == username


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://idx.example:80a/", "has a port that is not a number"),
        ("https://[::1/", "malformed IPv6 address"),
        ("https:///upload/", "has no host"),
    ],
)
def test_a_broken_repository_url_is_an_input_error(url: str, problem: str) -> None:
    env = {"TWINE_AUTHENTICATE_IDX_PASSWORD": "pw"}
    with pytest.raises(InputError, match=problem):
        repositories(Options(repositories=(f"idx={url}",)), env)
