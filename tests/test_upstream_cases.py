"""Upstream's own test cases (upstream-task.md §13) and failure table (§11.4), run against our
tool on the simulated agent. Where our contract changes the outcome, a comment says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fake_azure_devops import FakeAzureDevOps
from tests.pipeline import AzureAgentJob, ServiceConnection, Step
from tests.support import register_secret
from tests.support.azure import AzureJobs

EXTERNAL_TOKEN = "external-test-token-abc123"


def external(name: str) -> ServiceConnection:
    # The upstream harness's external endpoint, keyed by its name.
    return ServiceConnection(
        name,
        f"https://external.pypi.org/{name}/simple/",
        name,
        "Token",
        {"apitoken": EXTERNAL_TOKEN},
    )


@pytest.fixture
def job(fake_devops: FakeAzureDevOps, azure_job: AzureJobs) -> AzureAgentJob:
    for name, project in (
        ("TestFeed", None),
        ("Test.Feed", None),
        ("TestFeed", "MyProject"),
        ("Feed1", None),
        ("Feed2", None),
        ("Feed3", None),
    ):
        fake_devops.add_feed(name, project=project)
    register_secret("upstream external token", EXTERNAL_TOKEN)
    return azure_job(fake_devops)


def use_token(job: AzureAgentJob, fake: FakeAzureDevOps, token: str) -> None:
    fake.token = job.job_token = register_secret("upstream job token", token)


def pypirc_text(step: Step) -> str:
    return Path(step.variables_set()["PYPIRC_PATH"]).read_text()


def setsecrets(step: Step) -> list[str]:
    return [c.data for c in step.commands if c.name == "task.setsecret"]


@pytest.mark.parametrize("token", ["test-access-token-12345", "secret-token-should-be-masked"])
def test_a1_a2_feed_sets_pypirc_path_and_masks_the_token(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps, token: str
) -> None:
    use_token(job, fake_devops, token)
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    assert step.succeeded and not step.issues("error")
    assert ".pypirc" in step.variables_set()["PYPIRC_PATH"]
    assert setsecrets(step) == [token]


def test_a3_a4_feed_names_with_dots_and_projects(job: AzureAgentJob) -> None:
    dotted = job.task_step(inputs={"artifactFeed": "Test.Feed"})
    assert dotted.succeeded and "[Test.Feed]" in pypirc_text(dotted)  # no [Test\.Feed] (#11521)
    scoped = job.task_step(inputs={"artifactFeed": "MyProject/TestFeed"})
    text = pypirc_text(scoped)
    assert scoped.succeeded and "/MyProject/_packaging/TestFeed/pypi/upload" in text
    assert "[TestFeed]" in text  # the section is the feed part, as upstream


def test_a5_feed_and_external_endpoint(job: AzureAgentJob) -> None:
    step = job.task_step(
        inputs={
            "artifactFeed": "TestFeed",
            "pythonUploadServiceConnection": "TestExternalEndpoint",
        },
        connections=[external("TestExternalEndpoint")],
    )
    text = pypirc_text(step)
    assert step.succeeded
    assert "[TestFeed]" in text and "[TestExternalEndpoint]" in text
    assert "repository=https://external.pypi.org/TestExternalEndpoint/simple/" in text
    assert f"password={EXTERNAL_TOKEN}" in text


def test_a6_exact_layout(job: AzureAgentJob, fake_devops: FakeAzureDevOps) -> None:
    use_token(job, fake_devops, "test-access-token-12345")
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    # Upstream's layout line for line; ours also ends with a newline (product.md §5).
    assert pypirc_text(step) == (
        "[distutils]\nindex-servers=TestFeed\n\n[TestFeed]\n"
        f"repository={fake_devops.pkgs_url}_packaging/TestFeed/pypi/upload\n"
        "username=build\npassword=test-access-token-12345\n"
    )


def test_a7_e3_every_feed_and_endpoint_is_used(job: AzureAgentJob) -> None:
    # Upstream warns and keeps only the first of each; we keep all of them (issue 2).
    step = job.task_step(
        inputs={
            "artifactFeed": "Feed1,Feed2,Feed3",
            "pythonUploadServiceConnection": "ExternalEndpoint1,ExternalEndpoint2",
        },
        connections=[external("ExternalEndpoint1"), external("ExternalEndpoint2")],
    )
    assert step.succeeded and not step.issues("warning")
    assert pypirc_text(step).splitlines()[1] == (
        "index-servers=Feed1 Feed2 Feed3 ExternalEndpoint1 ExternalEndpoint2"
    )


def test_a9_endpoint_only_needs_no_token_and_no_network(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps
) -> None:
    job.job_token = None
    step = job.task_step(inputs={"pythonUploadServiceConnection": "X"}, connections=[external("X")])
    assert step.succeeded and "PYPIRC_PATH" in step.variables_set()
    assert fake_devops.requests == []


@pytest.mark.parametrize("token", ["!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "a" * 2048])
def test_t1_t2_awkward_tokens(job: AzureAgentJob, fake_devops: FakeAzureDevOps, token: str) -> None:
    use_token(job, fake_devops, token)
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    assert step.succeeded, step.issues("error")
    assert setsecrets(step) == [token]
    assert f"password={token}\n" in pypirc_text(step)


def test_t3_e2_no_token_fails_and_shows_the_env_mapping(job: AzureAgentJob) -> None:
    # Upstream's mock falls back to "token"; a real run would write `password=undefined`.
    job.job_token = None
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    [error] = step.issues("error")
    assert not step.succeeded and "SYSTEM_ACCESSTOKEN: $(System.AccessToken)" in error


def test_e1_no_inputs_is_an_error_not_an_empty_file(job: AzureAgentJob) -> None:
    # Upstream succeeds with an empty file, which hid misspelt input names for years (§14).
    step = job.task_step(inputs={})
    [error] = step.issues("error")
    assert not step.succeeded and "nothing to authenticate" in error
    assert "PYPIRC_PATH" not in step.variables_set()


def test_m4_debug_lines_when_system_debug_is_on(job: AzureAgentJob) -> None:
    quiet = job.task_step(inputs={"artifactFeed": "TestFeed"})
    verbose = job.task_step(inputs={"artifactFeed": "TestFeed"}, env={"SYSTEM_DEBUG": "true"})
    assert "##vso[task.debug]" not in quiet.run.stdout
    assert "##vso[task.debug]TestFeed: internal feed at" in verbose.run.stdout


def test_m5_success_message(job: AzureAgentJob) -> None:
    # M1-M3 check telemetry, which we do not send.
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    assert "Successfully added auth for 1 internal feed(s)" in step.run.stdout


@pytest.mark.parametrize(
    "inputs",
    [
        {"workloadIdentityServiceConnection": "conn"},  # W6
        {"feedUrl": "https://pkgs.dev.azure.com/testorg/_packaging/WifFeed/pypi/upload/"},
    ],  # W7
)
def test_w6_w7_half_a_workload_identity_setup_fails(
    job: AzureAgentJob, inputs: dict[str, str]
) -> None:
    # As upstream (Error_MissingFeedUrlOrServiceConnection): both or neither. W1-W5, the
    # working flow, are in test_workload_identity.py, against the fakes.
    step = job.task_step(inputs={"artifactFeed": "TestFeed", **inputs})
    assert not step.succeeded and "workload identity needs both" in step.issues("error")[0]


# -- §11.4: failure modes, with our outcome ------------------------------------------------------


def test_system_connection_with_another_scheme_fails_early(job: AzureAgentJob) -> None:
    # Upstream warns, then fails later at the lookup (or writes password=undefined).
    job.job_token = None
    step = job.task_step(
        inputs={"artifactFeed": "TestFeed"},
        env={"ENDPOINT_AUTH_SYSTEMVSSCONNECTION": json.dumps({"parameters": {}, "scheme": "None"})},
    )
    assert not step.succeeded and "SYSTEM_ACCESSTOKEN" in step.issues("error")[0]


def test_location_lookup_failing_for_good_is_bounded(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps
) -> None:
    fake_devops.inject("ResourceAreas/92F0314B", status=503, times=100)
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    [error] = step.issues("error")
    assert not step.succeeded and "503" in error and "transient" in error
    assert len(fake_devops.requests_to("ResourceAreas/92F0314B")) == 4


def test_missing_upload_location_is_permanent(
    job: AzureAgentJob, fake_devops: FakeAzureDevOps
) -> None:
    fake_devops.serve_upload_location = False
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    assert not step.succeeded and "C7A75C1B-08AC-4B11-B468-6C7EF835C85E" in step.issues("error")[0]
    assert len(fake_devops.requests_to("_apis/PyPi")) == 1


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("ENDPOINT_URL_X", "ENDPOINT_URL_X is not set"),
        ("ENDPOINT_DATA_X_ENDPOINTNAME", "ENDPOINT_DATA_X_ENDPOINTNAME is not set"),
    ],
)
def test_external_endpoint_missing_a_variable(job: AzureAgentJob, drop: str, message: str) -> None:
    env = external("X").environment()
    del env[drop]
    step = job.task_step(inputs={"pythonUploadServiceConnection": "X"}, env=env)
    assert not step.succeeded and message in step.issues("error")[0]


@pytest.mark.parametrize("scheme", ["None", "Certificate"])
def test_external_scheme_none_or_unknown_fails(job: AzureAgentJob, scheme: str) -> None:
    # Upstream skips such an endpoint in silence and reports success.
    connection = ServiceConnection("X", "https://x.example/", "X", scheme, {"apitoken": "t"})
    step = job.task_step(inputs={"pythonUploadServiceConnection": "X"}, connections=[connection])
    assert not step.succeeded and f"scheme '{scheme}' is not supported" in step.issues("error")[0]


def test_internal_and_external_with_the_same_name_fail(job: AzureAgentJob) -> None:
    step = job.task_step(
        inputs={"artifactFeed": "TestFeed", "pythonUploadServiceConnection": "TestFeed"},
        connections=[external("TestFeed")],
    )
    assert not step.succeeded and "'TestFeed' is used twice" in step.issues("error")[0]


def test_no_agent_temp_directory_falls_back_to_the_system_temp(job: AzureAgentJob) -> None:
    # Upstream crashes with a TypeError.
    step = job.task_step(inputs={"artifactFeed": "TestFeed"}, env={"AGENT_TEMPDIRECTORY": ""})
    path = Path(step.variables_set()["PYPIRC_PATH"])
    assert step.succeeded and path.is_relative_to(job.tmp / "tmp")


def test_preset_pypirc_path_in_a_missing_directory(job: AzureAgentJob) -> None:
    # Upstream fails with ENOENT; the path is not ours, so we write our own file and say so.
    job.variables["PYPIRC_PATH"] = str(job.tmp / "missing" / ".pypirc")
    step = job.task_step(inputs={"artifactFeed": "TestFeed"})
    assert step.succeeded and Path(step.variables_set()["PYPIRC_PATH"]).is_file()
    assert not (job.tmp / "missing").exists()
