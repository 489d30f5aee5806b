"""End to end on a simulated Azure Pipelines agent: step 1 is our tool as the task, step 2 a
real bash step running the real twine into a real index, then the package is read back."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

from twine.utils import get_config

from tests.fake_azure_devops import FakeAzureDevOps
from tests.pipeline import AzureAgentJob, ServiceConnection, Step
from tests.support import IndexServer, new_secret
from tests.support.azure import AzureJobs

UPLOAD = 'twine upload --disable-progress-bar -r {name} --config-file "$PYPIRC_PATH" dist/*'


def project_dir(distribution: list[Path]) -> Path:
    return distribution[0].parent.parent


def authenticate_and_upload(
    job: AzureAgentJob,
    connection: ServiceConnection,
    distribution: list[Path],
) -> tuple[Step, Step]:
    """A job that uses one service connection: the task step, then twine in a bash step."""
    auth = job.task_step(
        inputs={"pythonUploadServiceConnection": connection.id}, connections=[connection]
    )
    upload = job.script_step(
        UPLOAD.format(name=connection.endpoint_name), cwd=project_dir(distribution)
    )
    assert auth.succeeded, auth.run.output
    assert upload.succeeded, "\n".join(job.log[-20:])
    return auth, upload


def test_internal_feed_upload_through_the_pipeline(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
) -> None:
    fake_devops.add_feed("Feed", project="My Project")
    job = azure_job(fake_devops)

    auth = job.task_step(inputs={"artifactFeed": "My Project/Feed"})
    upload = job.script_step(UPLOAD.format(name="Feed"), cwd=project_dir(distribution))

    assert auth.succeeded, auth.run.output
    assert auth.commands[0].name == "task.setsecret", (
        "the token must be masked before anything else"
    )
    pypirc = Path(job.variables["PYPIRC_PATH"])
    assert pypirc.parent.parent == job.agent_temp / "twineAuthenticate"
    assert get_config(str(pypirc))["Feed"]["repository"] == (
        fake_devops.pkgs_url + "My%20Project/_packaging/Feed/pypi/upload"
    )
    assert upload.succeeded, "\n".join(job.log[-20:])
    wheel = distribution[0]
    assert [(u.feed, u.project, u.filename, u.status) for u in fake_devops.uploads] == [
        ("Feed", "My Project", wheel.name, 200)
    ]
    assert wheel.name in index_server.published(package_name)
    # The location calls upstream needs (minus its redundant OPTIONS _apis/Location), the Feed
    # service's area and the feed check; then twine's upload. Concurrent calls have no order.
    assert sorted((r.method, r.path.split("?")[0]) for r in fake_devops.requests[:4]) == sorted(
        [
            ("GET", "/contoso/_apis/ResourceAreas/92F0314B-06C5-46E0-ABE7-15FD9D13276A"),
            ("GET", "/contoso/_apis/ResourceAreas/7AB4E64E-C4D8-4F50-AE73-5EF2E21642A5"),
            ("OPTIONS", "/pkgs/contoso/_apis/PyPi"),
            ("GET", "/feeds/contoso/My%20Project/_apis/packaging/feeds/Feed"),
        ]
    )
    assert not fake_devops.requests_to("_apis/Location")
    assert all(fake_devops.token not in line for line in job.log)


def test_on_premises_uses_the_collection_url(
    fake_devops: FakeAzureDevOps, distribution: list[Path], azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops, server_type="OnPremises")

    auth = job.task_step(inputs={"artifactFeed": "Feed"})
    upload = job.script_step(UPLOAD.format(name="Feed"), cwd=project_dir(distribution))

    assert auth.succeeded, auth.run.output
    assert get_config(job.variables["PYPIRC_PATH"])["Feed"]["repository"] == (
        fake_devops.collection_url + "_packaging/Feed/pypi/upload"
    )
    assert not fake_devops.requests_to("ResourceAreas")
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert [u.status for u in fake_devops.uploads] == [200]


def test_service_connection_with_username_and_password(
    index_server: IndexServer, distribution: list[Path], package_name: str, azure_job: AzureJobs
) -> None:
    password = new_secret("connection password")
    index_server.add_user("release-bot", password)
    connection = ServiceConnection(
        "0f5a3a4e-1111-4222-8333-944444444444",
        index_server.url,
        "private-index",
        "UsernamePassword",
        {"username": "release-bot", "password": password},
    )

    auth, _ = authenticate_and_upload(azure_job(), connection, distribution)

    assert auth.commands[0].name == "task.setsecret"
    assert distribution[0].name in index_server.published(package_name, "release-bot")


def test_token_connection_uses_build_for_private_indexes(
    index_server: IndexServer, distribution: list[Path], package_name: str, azure_job: AzureJobs
) -> None:
    token = new_secret("connection api token")
    index_server.add_user("build", token)
    connection = ServiceConnection(
        "1a2b3c4d-0000-4000-8000-000000000001",
        index_server.url,
        "token-index",
        "Token",
        {"apitoken": token},
    )
    job = azure_job()

    authenticate_and_upload(job, connection, distribution)

    assert get_config(job.variables["PYPIRC_PATH"])["token-index"]["username"] == "build"
    assert distribution[0].name in index_server.published(package_name, "build")


def test_many_feeds_and_connections_in_one_file_in_order(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    distribution: list[Path],
    azure_job: AzureJobs,
) -> None:
    for name, project in (("FeedA", None), ("FeedB", "Proj"), ("FeedC", None)):
        fake_devops.add_feed(name, project=project)
    pypi_token = new_secret("pypi token")
    other = new_secret("other token")
    connections = [
        ServiceConnection(
            "aaaaaaaa-0000-4000-8000-000000000001",
            "https://upload.pypi.org/legacy/",
            "pypi-release",
            "Token",
            {"apitoken": pypi_token},
        ),
        ServiceConnection(
            "aaaaaaaa-0000-4000-8000-000000000002",
            index_server.url,
            "internal",
            "Token",
            {"apitoken": other},
        ),
    ]
    index_server.add_user("build", other)
    job = azure_job(fake_devops)

    auth = job.task_step(
        inputs={
            "artifactFeed": " FeedA , Proj/FeedB,FeedC,",
            "pythonUploadServiceConnection": ", ".join(c.id for c in connections),
        },
        connections=connections,
    )
    upload = job.script_step(UPLOAD.format(name="FeedB"), cwd=project_dir(distribution))

    assert auth.succeeded, auth.run.output
    config = get_config(job.variables["PYPIRC_PATH"])
    text = Path(job.variables["PYPIRC_PATH"]).read_text()
    assert text.splitlines()[1] == "index-servers=FeedA FeedB FeedC pypi-release internal"
    assert config["pypi-release"]["username"] == "__token__"
    assert config["internal"]["username"] == "build"
    masked = {c.data for c in auth.commands if c.name == "task.setsecret"}
    assert masked == {fake_devops.token, pypi_token, other}
    assert not auth.issues("warning")
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert [(u.feed, u.project) for u in fake_devops.uploads] == [("FeedB", "Proj")]


def test_a_second_run_leaves_only_its_own_credentials(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("First")
    fake_devops.add_feed("Second")
    job = azure_job(fake_devops)

    first = job.task_step(inputs={"artifactFeed": "First"})
    first_path = Path(job.variables["PYPIRC_PATH"])
    second = job.task_step(inputs={"artifactFeed": "Second"})
    second_path = Path(job.variables["PYPIRC_PATH"])

    assert first.succeeded and second.succeeded, second.run.output
    assert second.issues("warning") == [], "our own earlier file is not a foreign one"
    assert not first_path.exists() and not first_path.parent.exists()
    assert list(get_config(str(second_path))) == ["pypi", "Second"]
    assert [p.name for p in (job.agent_temp / "twineAuthenticate").iterdir()] == [
        second_path.parent.name
    ]


def test_files_are_private(fake_devops: FakeAzureDevOps, azure_job: AzureJobs) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    old_umask = os.umask(0)
    try:
        step = job.task_step(inputs={"artifactFeed": "Feed"})
    finally:
        os.umask(old_umask)
    path = Path(job.variables["PYPIRC_PATH"])
    assert step.succeeded
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == [".pypirc", ".twine-authenticate"]


def test_cleanup_removes_the_file_and_says_when_there_is_nothing(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    job.task_step(inputs={"artifactFeed": "Feed"})
    path = Path(job.variables["PYPIRC_PATH"])

    first = job.task_step(args=["cleanup"])
    second = job.task_step(args=["cleanup"])

    assert first.succeeded and second.succeeded
    assert not path.exists() and not path.parent.exists()
    assert f"Removed the credentials file {path}" in first.run.stdout
    assert "Nothing to clean up" in second.run.stdout


def test_preset_pypirc_path_to_a_users_file_is_never_touched(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, tmp_path: Path
) -> None:
    fake_devops.add_feed("Feed")
    users_file = tmp_path / "home-pypirc"
    original = b"[distutils]\nindex-servers=mine\n\n[mine]\nrepository=https://example.invalid/\n"
    users_file.write_bytes(original)
    job = azure_job(fake_devops)
    job.variables["PYPIRC_PATH"] = str(users_file)

    step = job.task_step(inputs={"artifactFeed": "Feed"})
    cleanup = job.task_step(args=["cleanup"])

    assert step.succeeded, step.run.output
    assert job.variables["PYPIRC_PATH"] != str(users_file)
    assert any("did not write" in warning for warning in step.issues("warning"))
    assert cleanup.succeeded
    assert users_file.read_bytes() == original


def test_a_failed_run_leaves_no_credentials_behind(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    job.task_step(inputs={"artifactFeed": "Feed"})
    earlier = Path(job.variables["PYPIRC_PATH"])

    failed = job.task_step(inputs={"artifactFeed": "Feed/extra/part"})

    assert not failed.succeeded and failed.run.returncode != 0
    assert failed.issues("error") == [
        "artifactFeed 'Feed/extra/part' has more than one '/'; write FEED or PROJECT/FEED."
    ]
    assert any(
        c.name == "task.complete" and c.properties["result"] == "Failed" for c in failed.commands
    )
    assert not earlier.exists()
    assert list((job.agent_temp / "twineAuthenticate").iterdir()) == []


def test_refused_token_is_named_not_shown(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    job.job_token = new_secret("a token the service refuses")

    step = job.task_step(inputs={"artifactFeed": "Feed"})

    assert not step.succeeded
    [error] = step.issues("error")
    assert "ENDPOINT_AUTH_SYSTEMVSSCONNECTION" in error and "401" in error
    paths = [r.path for r in fake_devops.requests]
    assert len(paths) == len(set(paths)) == 2, "a 401 is permanent: no retry"


def test_as_our_task_the_run_is_handed_to_the_post_job_step(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    step = job.task_step(inputs={"artifactFeed": "Feed"}, env={"TWINE_AUTHENTICATE_TASK": "1"})
    assert step.succeeded, step.issues("error")
    handed = {
        c.properties["variable"]: c.data for c in step.commands if c.name == "task.settaskvariable"
    }
    variables = step.variables_set()
    assert handed == {
        "PYPIRC_PATH": variables["PYPIRC_PATH"],
        "TWINE_AUTHENTICATE_RUN": variables["TWINE_AUTHENTICATE_RUN"],
    }
    plain = job.task_step(inputs={"artifactFeed": "Feed"})
    assert not [c for c in plain.commands if c.name == "task.settaskvariable"]


def test_a_script_step_is_told_that_only_the_task_gets_service_connections(
    azure_job: AzureJobs,
) -> None:
    job = azure_job()
    connection_id = str(uuid.uuid4())
    as_script = job.task_step(args=["--service-connection", connection_id])
    assert not as_script.succeeded
    [error] = as_script.issues("error")
    assert "only a task receives service connections" in error
    assert "TwineAuthenticatePy" in error and connection_id in error

    as_task = job.task_step(
        args=["--service-connection", connection_id], env={"TWINE_AUTHENTICATE_TASK": "1"}
    )
    [error] = as_task.issues("error")
    assert "Check that the id is the connection's id" in error
    assert "TwineAuthenticatePy" not in error
