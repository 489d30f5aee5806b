"""The leak check itself must catch every form, and must not print what it found."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.leaks import Recorded, find_leaks

SECRET = "s3cr%t;]/v@lue+x"


@pytest.mark.parametrize(
    "text",
    [
        SECRET,
        SECRET.replace("%", "%AZP25"),
        quote(SECRET, safe=""),
        json.dumps({"p": SECRET + '"'}),
        base64.b64encode(SECRET.encode()).decode(),
        "Authorization: Basic " + base64.b64encode(f"build:{SECRET}".encode()).decode(),
        "Authorization: Basic " + base64.b64encode(f"vsts:{SECRET}".encode()).decode(),
    ],
)
def test_every_form_is_found_and_never_quoted(text: str) -> None:
    problems = find_leaks({"token": SECRET}, [Recorded("out", f"before\n{text}\n")])
    assert problems and all("line 2" in problem for problem in problems)
    assert not any(SECRET in problem or text in problem for problem in problems)


def test_masking_lines_may_hold_the_secret() -> None:
    records = [Recorded("out", f"##vso[task.setsecret]{SECRET}\n::add-mask::{SECRET}\n")]
    assert find_leaks({"token": SECRET}, records) == []
