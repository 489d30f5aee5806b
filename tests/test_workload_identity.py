"""The Azure task's workload identity (workloadIdentityServiceConnection + feedUrl), end to end
against the fakes: the pipeline's OIDC token, Entra's exchange, then a real twine upload with
the Entra token. Upstream's W1-W7, and what we do beyond them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from twine.utils import get_config

from tests.fake_azure_devops import FakeAzureDevOps
from tests.fake_entra import FakeEntra, FederatedCredential
from tests.pipeline import AzureAgentJob, Step
from tests.support import IndexServer
from tests.support.azure import AzureJobs

UPLOAD = 'twine upload --disable-progress-bar -r {name} --config-file "$PYPIRC_PATH" dist/*'
CONNECTION = str(uuid.UUID(int=0x5EC0DE))


class Federation:
    """A workload-identity connection, its application in Entra, and the task's environment."""

    def __init__(
        self,
        fake: FakeAzureDevOps,
        entra: FakeEntra,
        *,
        trusted: bool = True,
        connection_tenant: str | None = None,
    ) -> None:
        fake.oidc_connections[CONNECTION] = "publish-connection"
        issuer, subject = fake.oidc_identity(CONNECTION)
        credentials = [FederatedCredential(issuer, subject)] if trusted else []
        self.application = entra.add_application(fake.tenant, *credentials)
        self.env = {
            f"ENDPOINT_AUTH_PARAMETER_{CONNECTION}_SERVICEPRINCIPALID": (
                self.application.client_id
            ),
            f"ENDPOINT_AUTH_PARAMETER_{CONNECTION}_TENANTID": connection_tenant or fake.tenant,
            "SYSTEM_OIDCREQUESTURI": fake.oidc_request_uri(),
            "AZURE_AUTHORITY_HOST": entra.authority,
        }
        self.issuer, self.subject = issuer, subject

    def step(self, job: AzureAgentJob, feed_url: str, **inputs: str) -> Step:
        return job.task_step(
            inputs={
                "workloadIdentityServiceConnection": CONNECTION,
                "feedUrl": feed_url,
                **inputs,
            },
            env=self.env,
        )


def test_w1_w2_an_entra_token_uploads_with_no_stored_secret(
    fake_devops: FakeAzureDevOps,
    fake_entra: FakeEntra,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
) -> None:
    fake_devops.add_feed("WifFeed")
    federation = Federation(fake_devops, fake_entra)
    job = azure_job(fake_devops)
    feed_url = fake_devops.upload_url("WifFeed")

    auth = federation.step(job, feed_url)
    upload = job.script_step(UPLOAD.format(name="WifFeed"), cwd=distribution[0].parent.parent)

    assert auth.succeeded, auth.issues("error")
    (token,) = fake_entra.issued
    masked = [c.data for c in auth.commands if c.name == "task.setsecret"]
    assert token in masked, "the minted token is masked before anything could print it"
    section = get_config(job.variables["PYPIRC_PATH"])["WifFeed"]
    assert (section["repository"], section["username"]) == (feed_url, CONNECTION)
    assert section["password"] == token
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert distribution[0].name in index_server.published(package_name)
    # Entra was asked as the Azure SDK asks, for the application, from the feed's tenant.
    (request,) = fake_entra.requests
    assert request.tenant == fake_devops.tenant
    assert request.form["client_id"] == federation.application.client_id
    assert request.form["client_assertion"] in fake_devops.oidc_issued
    assert (
        "Successfully added auth for 0 internal feed(s), 0 service connection(s) and 0 "
        "other repositories, and 1 through workload identity." in auth.run.stdout
    )


def test_the_other_inputs_are_written_beside_it_not_dropped(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra, azure_job: AzureJobs
) -> None:
    """Upstream resolves artifactFeed and then discards it in workload-identity mode."""
    fake_devops.add_feed("WifFeed")
    fake_devops.add_feed("Internal")
    federation = Federation(fake_devops, fake_entra)
    job = azure_job(fake_devops)
    auth = federation.step(job, fake_devops.upload_url("WifFeed"), artifactFeed="Internal")
    assert auth.succeeded, auth.issues("error")
    config = get_config(job.variables["PYPIRC_PATH"])
    assert config["Internal"]["password"] == fake_devops.token
    assert config["WifFeed"]["password"] == fake_entra.issued[0]

    clash = federation.step(job, fake_devops.upload_url("WifFeed"), artifactFeed="WifFeed")
    assert not clash.succeeded
    assert "the section name 'WifFeed' is used twice" in clash.issues("error")[0]


@pytest.mark.parametrize("answer", ["00000000-0000-0000-0000-000000000000", ""])
def test_the_connections_tenant_when_the_feed_names_none(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra, azure_job: AzureJobs, answer: str
) -> None:
    fake_devops.add_feed("WifFeed")
    real_tenant = fake_devops.tenant
    federation = Federation(fake_devops, fake_entra, connection_tenant=real_tenant)
    fake_devops.tenant = answer  # an MSA-backed organization answers the zero GUID
    auth = federation.step(azure_job(fake_devops), fake_devops.upload_url("WifFeed"))
    assert auth.succeeded, auth.issues("error")
    assert [request.tenant for request in fake_entra.requests] == [real_tenant]


def test_a_missing_federated_credential_shows_what_it_must_match(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("WifFeed")
    federation = Federation(fake_devops, fake_entra, trusted=False)
    job = azure_job(fake_devops)
    auth = federation.step(job, fake_devops.upload_url("WifFeed"))
    assert not auth.succeeded
    (error,) = auth.issues("error")
    assert "AADSTS700211" in error  # no credential of the application names this issuer
    assert f"issuer {federation.issuer} and subject {federation.subject}" in error
    assert not list((job.agent_temp / "twineAuthenticate").glob("*/.pypirc"))


def test_a_wrong_subject_names_the_subject_to_add(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("WifFeed")
    federation = Federation(fake_devops, fake_entra)
    federation.application.credentials[:] = [
        FederatedCredential(federation.issuer, "sc://contoso/Project/another-connection")
    ]
    auth = federation.step(azure_job(fake_devops), fake_devops.upload_url("WifFeed"))
    (error,) = auth.issues("error")
    assert "AADSTS700213: no federated credential" in error
    assert f"subject {federation.subject}" in error


def test_an_unknown_application_names_the_client_and_tenant(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("WifFeed")
    federation = Federation(fake_devops, fake_entra)
    stranger = str(uuid.uuid4())
    federation.env[f"ENDPOINT_AUTH_PARAMETER_{CONNECTION}_SERVICEPRINCIPALID"] = stranger
    auth = federation.step(azure_job(fake_devops), fake_devops.upload_url("WifFeed"))
    (error,) = auth.issues("error")
    assert f"AADSTS700016: application {stranger} was not found in tenant" in error


@pytest.mark.parametrize(
    ("feed_url", "phrase"),
    [
        ("https://pkgs.dev.azure.com/o/_packaging/F/pypi/simple/", "is not an Azure Artifacts"),
        ("http://pkgs.dev.azure.com/o/_packaging/F/pypi/upload/", "is plain http"),
        ("https://pkgs.dev.azure.com/o/_packaging/F/", "is not an Azure Artifacts"),
    ],
)
def test_the_feed_url_must_be_an_https_upload_url(
    fake_devops: FakeAzureDevOps,
    fake_entra: FakeEntra,
    azure_job: AzureJobs,
    feed_url: str,
    phrase: str,
) -> None:
    federation = Federation(fake_devops, fake_entra)
    auth = federation.step(azure_job(fake_devops), feed_url)
    assert not auth.succeeded and phrase in auth.issues("error")[0]
    assert fake_entra.requests == []


def test_a_script_step_is_told_to_use_the_task(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra, azure_job: AzureJobs
) -> None:
    fake_devops.add_feed("WifFeed")
    federation = Federation(fake_devops, fake_entra)
    del federation.env["SYSTEM_OIDCREQUESTURI"]  # the agent hands it only to tasks
    auth = federation.step(azure_job(fake_devops), fake_devops.upload_url("WifFeed"))
    assert "SYSTEM_OIDCREQUESTURI is not set" in auth.issues("error")[0]
    assert "TwineAuthenticatePy task" in auth.issues("error")[0]


def test_the_authority_is_the_public_cloud_unless_azure_authority_host_says() -> None:
    from twine_authenticate.azure.entra import PUBLIC_CLOUD, authority_host

    assert authority_host({}) == PUBLIC_CLOUD == "https://login.microsoftonline.com"
    assert authority_host({"AZURE_AUTHORITY_HOST": "https://login.microsoftonline.us"}) == (
        "https://login.microsoftonline.us"
    )
