"""Problems with a feed are caught at authentication time, clearly, and all checks of a run
go out together."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fake_azure_devops import FakeAzureDevOps
from tests.pipeline import AzureAgentJob, ServiceConnection
from tests.support import IndexServer, base_env, new_secret, run_tool
from tests.support.azure import AzureJobs


@pytest.fixture
def job(fake_devops: FakeAzureDevOps, azure_job: AzureJobs) -> AzureAgentJob:
    return azure_job(fake_devops)


def assert_nothing_written(job: AzureAgentJob) -> None:
    root = job.agent_temp / "twineAuthenticate"
    assert not root.exists() or list(root.iterdir()) == []


def test_unknown_org_scoped_feed_suggests_project_slash_feed(job: AzureAgentJob) -> None:
    step = job.task_step(inputs={"artifactFeed": "Missing"})
    assert not step.succeeded
    assert step.issues("error") == [
        "feed 'Missing' not found in organization contoso. If the feed belongs to a project, "
        "write PROJECT/Missing."
    ]
    assert_nothing_written(job)


def test_unknown_project_feed_names_the_project(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps
) -> None:
    fake_devops.add_feed("Feed", project="Other")
    step = job.task_step(inputs={"artifactFeed": "Proj/Feed"})
    assert (
        "feed 'Feed' not found in organization contoso (project Proj)." in step.issues("error")[0]
    )


@pytest.mark.parametrize(
    ("project", "identity"),
    [
        ("Proj", "'Proj Build Service (contoso)'"),
        (None, "'Project Collection Build Service (contoso)'"),
    ],
)
def test_forbidden_feed_names_the_build_identity(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps, project: str | None, identity: str
) -> None:
    fake_devops.add_feed("Locked", project=project, can_read=False)
    step = job.task_step(inputs={"artifactFeed": f"{project}/Locked" if project else "Locked"})
    [error] = step.issues("error")
    assert f"Give {identity} the Feed Publisher (Contributor) role" in error
    assert "https://learn.microsoft.com/azure/devops/artifacts/feeds/feed-permissions" in error
    assert_nothing_written(job)


def test_every_bad_feed_is_reported_in_one_message(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps
) -> None:
    fake_devops.add_feed("Good")
    fake_devops.add_feed("Locked", can_read=False)
    step = job.task_step(inputs={"artifactFeed": "Good,Missing,Locked"})
    [error] = step.issues("error")
    assert (
        "feed 'Missing' not found" in error and "feed 'Locked'" in error and "'Good'" not in error
    )


def test_no_verify_skips_the_feed_service(job: AzureAgentJob, fake_devops: FakeAzureDevOps) -> None:
    step = job.task_step(
        args=["--artifact-feed", "Missing", "--no-verify"],
        env={"SYSTEM_ACCESSTOKEN": fake_devops.token},
    )
    assert step.succeeded, step.run.output
    assert not fake_devops.requests_to("_apis/packaging/feeds")
    assert not fake_devops.requests_to("7AB4E64E")


def test_twenty_feeds_are_checked_together(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps
) -> None:
    names = [f"Feed{i:02}" for i in range(20)]
    for name in names:
        fake_devops.add_feed(name)
    # Each check is held until all twenty are in flight: checks sent one after another
    # would each wait out the gather's timeout instead, and never overlap.
    fake_devops.gather("_apis/packaging/feeds", count=20)
    step = job.task_step(inputs={"artifactFeed": ",".join(names)})
    assert step.succeeded, step.run.output
    # Two resource areas, one route lookup, one check per feed: nothing per feed but its check.
    assert len(fake_devops.requests) == 3 + 20
    assert len(fake_devops.requests_to("_apis/packaging/feeds")) == 20
    assert fake_devops.max_in_flight == 20, "the checks must overlap, not queue"


def test_verify_accepts_good_credentials_and_refuses_bad_ones(
    index_server: IndexServer, tmp_path: Path
) -> None:
    password = new_secret("verify password")
    index_server.add_user("verifier", password)
    good = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_IDX_USERNAME="verifier",
        TWINE_AUTHENTICATE_IDX_PASSWORD=password,
    )
    ok = run_tool(["--repository", f"idx={index_server.url}", "--verify"], good)
    assert ok.returncode == 0, ok.stderr
    assert f"idx: credentials accepted by {index_server.url}simple/." in ok.stderr

    wrong = {**good, "TWINE_AUTHENTICATE_IDX_PASSWORD": new_secret("wrong verify password")}
    refused = run_tool(["--repository", f"idx={index_server.url}", "--verify"], wrong)
    assert refused.returncode == 1
    assert "refused the credentials (403 Forbidden)" in refused.stderr  # pypiserver's answer
    assert "check the value of TWINE_AUTHENTICATE_IDX_PASSWORD" in refused.stderr
    assert refused.stdout == "false\n", "only the code that makes eval fail"


def test_verify_says_plainly_that_pypi_cannot_be_checked(azure_job: AzureJobs) -> None:
    job = azure_job()
    token = new_secret("pypi token")
    connection = ServiceConnection(
        "p1", "https://upload.pypi.org/legacy/", "pypi", "Token", {"apitoken": token}
    )
    step = job.task_step(args=["--service-connection", "p1", "--verify"], connections=[connection])
    assert step.succeeded
    assert (
        "pypi: PyPI offers no way to check a token without uploading; not checked."
        in step.run.stdout
    )
