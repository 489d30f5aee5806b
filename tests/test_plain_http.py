"""The job token never goes over plain http to another machine, whichever URL names it, and
--verify sends no credentials where the plain-http rule says no. "Another machine" is decided
by address: a name that merely starts with 127. is not this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_azure_devops import FakeAzureDevOps
from tests.support import base_env, new_secret
from tests.support.in_process import invoke


def azure_env(tmp: Path, collection: str) -> dict[str, str]:
    return base_env(
        tmp,
        TF_BUILD="True",
        AGENT_TEMPDIRECTORY=str(tmp),
        SYSTEM_SERVERTYPE="Hosted",
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=collection,
        SYSTEM_ACCESSTOKEN=new_secret("job token"),
    )


@pytest.mark.parametrize(
    "collection",
    [
        "http://dev.azure.example/org/",
        "http://127.0.0.1.attacker.example/org/",  # local only by its look
        "http://localhost.attacker.example/org/",
    ],
)
def test_a_plain_http_organization_url_is_refused_before_any_call(
    tmp_path: Path, collection: str
) -> None:
    result = invoke(["--artifact-feed", "Feed"], azure_env(tmp_path, collection))
    assert result.returncode == 2
    assert "System.TeamFoundationCollectionUri is " + collection in result.stdout
    assert "never sent over plain http to another machine" in result.stdout


def test_a_plain_http_location_in_the_services_answer_gets_no_token(
    tmp_path: Path, fake_devops: FakeAzureDevOps, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_devops.add_feed("Feed")
    elsewhere = "http://pkgs.attacker.example/org/"
    monkeypatch.setattr(FakeAzureDevOps, "pkgs_url", property(lambda self: elsewhere))
    env = azure_env(tmp_path, fake_devops.collection_url)
    env["SYSTEM_ACCESSTOKEN"] = fake_devops.token
    result = invoke(["--artifact-feed", "Feed"], env)
    assert result.returncode == 1
    assert f"refusing to send the job access token over plain http to {elsewhere}" in (
        result.stdout
    )
    # Refused before sending: had the token gone out, the run would have failed on DNS for
    # the .example host instead, with another message.
    assert "could not be found (DNS)" not in result.stdout


def test_verify_sends_no_credentials_over_plain_http_to_another_machine(tmp_path: Path) -> None:
    # .invalid never resolves: had the credentials been sent, the run would fail on DNS.
    env = base_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("verify password"))
    result = invoke(["--verify", "--repository", "idx=http://index.invalid/upload/"], env)
    assert result.returncode == 0, result.stderr
    assert "the credentials were not sent to check them; not checked" in result.stderr
    assert "credentials will be sent over plain http" in result.stderr  # the upload warning
