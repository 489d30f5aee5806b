"""Route templates expand as the Azure DevOps clients expand them (spec §3.4, §3.5)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twine_authenticate.azure.location import ApiLocation, feed_upload_url

UPLOAD = ApiLocation("c7a75c1b", "pypi", "upload", "{project}/_packaging/{feedId}/pypi/upload")


@pytest.mark.parametrize(
    ("base", "project", "feed", "expected"),
    [
        (
            "https://pkgs.dev.azure.com/contoso/",
            None,
            "MyFeed",
            "https://pkgs.dev.azure.com/contoso/_packaging/MyFeed/pypi/upload",
        ),
        (
            "https://pkgs.dev.azure.com/contoso/",
            "MyProject",
            "MyFeed",
            "https://pkgs.dev.azure.com/contoso/MyProject/_packaging/MyFeed/pypi/upload",
        ),
        (
            "https://pkgs.dev.azure.com/contoso/",
            "My Project",
            "Feed@Release",
            "https://pkgs.dev.azure.com/contoso/My%20Project/_packaging/Feed%40Release/pypi/upload",
        ),
        (
            "https://pkgs.dev.azure.com/contoso/",
            "",
            "MyFeed",
            "https://pkgs.dev.azure.com/contoso/_packaging/MyFeed/pypi/upload",
        ),
        (
            "https://pkgs.dev.azure.com/contoso",
            "MyProject",
            "MyFeed",
            "https://pkgs.dev.azure.com/contoso/MyProject/_packaging/MyFeed/pypi/upload",
        ),
        (
            "https://contoso.pkgs.visualstudio.com/",
            "MyProject",
            "MyFeed",
            "https://contoso.pkgs.visualstudio.com/MyProject/_packaging/MyFeed/pypi/upload",
        ),
        (
            "http://tfs:8080/tfs/DefaultCollection/",
            "MyProject",
            "MyFeed",
            "http://tfs:8080/tfs/DefaultCollection/MyProject/_packaging/MyFeed/pypi/upload",
        ),
    ],
)
def test_worked_urls_from_the_spec(
    base: str, project: str | None, feed: str, expected: str
) -> None:
    assert feed_upload_url(base, UPLOAD, feed, project) == expected


def test_wildcards_and_literal_braces() -> None:
    simple = ApiLocation(
        "x", "pypi", "simple", "{project}/_packaging/{feedId}/pypi/simple/{*packageName}"
    )
    assert (
        feed_upload_url("https://h/o/", simple, "F", None) == "https://h/o/_packaging/F/pypi/simple"
    )
    braces = ApiLocation("x", "a", "r", "{{x}}/{resource}/{feedId}")
    assert feed_upload_url("https://h/", braces, "F", None) == "https://h/{x}/r/F"


@given(project=st.text(min_size=1), feed=st.text(min_size=1))
def test_values_are_encoded_like_encode_uri_component(project: str, feed: str) -> None:
    project, feed = project.replace("\x00", ""), feed.replace("\x00", "")
    url = feed_upload_url("https://h/org/", UPLOAD, feed or "f", project or None)
    assert not url.endswith("/")
    path = url.removeprefix("https://h/org/")
    segments = path.split("/")
    if project:
        assert unquote(segments[0]) == project and len(segments) == 5
    assert all(char not in path for char in " #?@")
