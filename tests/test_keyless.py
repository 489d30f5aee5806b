"""Keyless publishing for real, against the fakes of the services that cannot run here: PyPI
Trusted Publishing from GitHub Actions and GitLab CI (a fake GitHub token endpoint, a fake
Warehouse forwarding to the real pypiserver), and Entra federation for Azure Artifacts from
GitHub (the fake Entra and Azure DevOps). Each run is a subprocess: pypa's id reads the
process environment. Uploads are real: twine, uv and hatch."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from twine.utils import get_config

from tests.fake_azure_devops import FakeAzureDevOps
from tests.fake_entra import FakeEntra, FederatedCredential
from tests.fake_github_oidc import GITHUB_ISSUER, FakeGitHubOidc
from tests.fake_warehouse import GITLAB_ISSUER, FakeWarehouse, gitlab_claims
from tests.github_runner import GitHubJob
from tests.support import (
    TOOL,
    IndexServer,
    base_env,
    make_flit_project,
    register_secret,
    run,
    run_tool,
)
from tests.support.jwt import sign

KEY = b"the fake identity providers' signing key"
REPOSITORY, WORKFLOW, ENVIRONMENT = "octo-org/octo-repo", "release.yml", "release"


@pytest.fixture
def github_oidc() -> Iterator[FakeGitHubOidc]:
    with FakeGitHubOidc(KEY, {"repository": REPOSITORY, "environment": ENVIRONMENT}) as fake:
        yield fake
    for token in fake.issued:  # the job's identity tokens are credentials too
        register_secret("github id token", token)


@pytest.fixture
def warehouse(index_server: IndexServer) -> Iterator[FakeWarehouse]:
    with FakeWarehouse(KEY, index_server) as fake:
        fake.add_publisher(
            GITHUB_ISSUER, repository=REPOSITORY, workflow=WORKFLOW, environment=ENVIRONMENT
        )
        yield fake
        for token in fake.minted:
            register_secret("minted pypi token", token)


def github_job(tmp: Path, project: Path, oidc: FakeGitHubOidc | None) -> GitHubJob:
    extra = oidc.env() if oidc is not None else {}
    summary = tmp / "step_summary.md"
    summary.write_text("")
    return GitHubJob(project, base_env(tmp, GITHUB_STEP_SUMMARY=str(summary), **extra))


def test_trusted_publishing_from_github_then_twine_uv_and_hatch_upload(
    tmp_path: Path,
    github_oidc: FakeGitHubOidc,
    warehouse: FakeWarehouse,
    index_server: IndexServer,
    package_name: str,
) -> None:
    project = make_flit_project(tmp_path / "work", package_name)
    job = github_job(tmp_path, project, github_oidc)
    auth = job.step(
        [
            *TOOL,
            "--repository",
            f"pypi={warehouse.upload_url}",
            "--export",
            "uv",
            "--export",
            "hatch",
        ]
    )
    assert auth.succeeded, auth.log
    (minted,) = warehouse.minted
    assert auth.run.stdout.startswith("::add-mask::"), "masked before anything else"
    assert minted in job.masks
    assert any(
        "(trusted publishing, user __token__, expires" in line and "in 15 min" in line
        for line in auth.log
    ), auth.log
    assert "1 through Trusted Publishing" in "\n".join(auth.log)
    section = get_config(job.env["PYPIRC_PATH"])["pypi"]
    assert (section["username"], section["password"]) == ("__token__", minted)

    twine = job.step(
        [
            "bash",
            "-c",
            'twine upload --disable-progress-bar -r pypi --config-file "$PYPIRC_PATH" dist/*.whl',
        ]
    )
    assert twine.succeeded, twine.log[-20:]
    uv = job.step(["bash", "-c", "uv publish dist/*.tar.gz"])
    assert uv.succeeded, uv.log[-20:]
    published = set(index_server.published(package_name))
    assert {path.name for path in (project / "dist").iterdir()} <= published
    # hatch too, with the same exported credentials, for a second version of the package.
    second = make_flit_project(tmp_path / "second", package_name, version="2.0")
    hatch = job.step(["bash", "-c", f"cd {second} && hatch publish --no-prompt dist/*"])
    assert hatch.succeeded, hatch.log[-20:]
    assert f"{package_name.replace('-', '_')}-2.0.tar.gz" in index_server.published(package_name)
    assert [upload.status for upload in warehouse.uploads] == [200, 200, 200, 200]


def test_trusted_publishing_from_gitlab(
    tmp_path: Path, warehouse: FakeWarehouse, index_server: IndexServer, package_name: str
) -> None:
    warehouse.add_publisher(GITLAB_ISSUER, project_path="group/project")
    project = make_flit_project(tmp_path / "work", package_name)
    id_token = gitlab_id_token()
    env = base_env(tmp_path, GITLAB_CI="true", CI_JOB_ID="77", PYPI_ID_TOKEN=id_token)
    script = (
        f'eval "$({" ".join(TOOL)} --repository pypi={warehouse.upload_url})"\n'
        'twine upload --disable-progress-bar -r pypi --config-file "$PYPIRC_PATH" dist/*'
    )
    result = run(["bash", "-eo", "pipefail", "-c", script], env, cwd=project)
    assert result.returncode == 0, result.output[-3000:]
    assert {path.name for path in (project / "dist").iterdir()} <= set(
        index_server.published(package_name)
    )

    # The job's token is fixed: a second exchange is refused, and says why.
    again = run_tool(["--repository", f"pypi={warehouse.upload_url}"], env)
    assert again.returncode == 1
    assert "invalid-reuse-token" in again.stderr
    assert "a GitLab ID token is fixed for the job" in again.stderr


def gitlab_id_token(audience: str = "pypi", **claims: str) -> str:
    token = sign(gitlab_claims(audience, **claims), KEY)
    return register_secret("gitlab id token", token)


def test_a_refused_mint_names_each_error_and_the_claims_it_matched(
    tmp_path: Path, github_oidc: FakeGitHubOidc, warehouse: FakeWarehouse
) -> None:
    warehouse.publishers.clear()
    warehouse.add_publisher(GITHUB_ISSUER, repository="octo-org/other-repo")
    job = github_job(tmp_path, tmp_path, github_oidc)
    auth = job.step([*TOOL, "--repository", f"pypi={warehouse.upload_url}"])
    assert not auth.succeeded
    (error,) = auth.commands("error")
    assert "refused to mint a token: invalid-publisher" in error
    assert f"repository={REPOSITORY}" in error
    assert f"job_workflow_ref={REPOSITORY}/.github/workflows/{WORKFLOW}@refs/heads/main" in error
    assert f"environment={ENVIRONMENT}" in error
    summary = Path(job.base_env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "## Trusted Publishing for `pypi` failed" in summary
    assert f"`repository={REPOSITORY}`" in summary and "id-token: write" in summary
    assert not list(Path(job.runner_temp).glob("twineAuthenticate/*/.pypirc"))


def test_github_without_id_token_permission_says_which_line_to_add(
    tmp_path: Path, warehouse: FakeWarehouse
) -> None:
    job = github_job(tmp_path, tmp_path, None)  # no ACTIONS_ID_TOKEN_REQUEST_* variables
    always = job.step(
        [*TOOL, "--trusted-publishing", "always", "--repository", f"pypi={warehouse.upload_url}"]
    )
    (error,) = always.commands("error")
    assert always.run.returncode == 2
    assert "permissions: id-token: write" in error and "fork" in error
    auto = job.step([*TOOL, "--repository", f"pypi={warehouse.upload_url}"])
    (error,) = auto.commands("error")
    assert "set its password or token in the environment variable" in error
    assert "permissions: id-token: write" in error
    assert warehouse.requests == [], "failed at once, without calling the index"


def test_never_keeps_asking_for_the_password(
    tmp_path: Path, github_oidc: FakeGitHubOidc, warehouse: FakeWarehouse
) -> None:
    job = github_job(tmp_path, tmp_path, github_oidc)
    step = job.step(
        [*TOOL, "--trusted-publishing", "never", "--repository", f"pypi={warehouse.upload_url}"]
    )
    (error,) = step.commands("error")
    assert "TWINE_AUTHENTICATE_PYPI_PASSWORD" in error and "keyless" not in error
    assert warehouse.requests == [] and github_oidc.issued == []


@pytest.mark.parametrize(
    ("setting", "phrase"),
    [("supported", "does not support Trusted Publishing (404"), ("enabled", "is turned off")],
)
def test_an_index_without_trusted_publishing_says_so(
    tmp_path: Path,
    github_oidc: FakeGitHubOidc,
    warehouse: FakeWarehouse,
    setting: str,
    phrase: str,
) -> None:
    setattr(warehouse, setting, False)
    job = github_job(tmp_path, tmp_path, github_oidc)
    step = job.step([*TOOL, "--repository", f"idx={warehouse.upload_url}"])
    (error,) = step.commands("error")
    assert phrase in error and "set the repository's password" in error
    assert github_oidc.issued == [], "no identity asked for when the index cannot use it"


def test_pypi_and_testpypi_need_no_url(tmp_path: Path) -> None:
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_PYPI_PASSWORD=register_secret("pypi token", "pypi-AgEIcHlwaS5vcmc"),
        TWINE_AUTHENTICATE_TESTPYPI_PASSWORD=register_secret("testpypi token", "pypi-AgENdGVz"),
    )
    result = run_tool(["--repository", "pypi", "--repository", "testpypi"], env)
    assert result.returncode == 0, result.stderr
    path = result.stdout.partition("PYPIRC_PATH='")[2].partition("'")[0]
    config = get_config(path)
    assert config["pypi"]["repository"] == "https://upload.pypi.org/legacy/"
    assert config["testpypi"]["repository"] == "https://test.pypi.org/legacy/"
    assert config["pypi"]["username"] == "__token__"


# -- Azure Artifacts through Entra ----------------------------------------------------------


@pytest.fixture
def entra_setup(
    fake_devops: FakeAzureDevOps, fake_entra: FakeEntra
) -> Iterator[tuple[FakeGitHubOidc, dict[str, str]]]:
    fake_devops.add_feed("Feed")
    subject = f"repo:{REPOSITORY}:environment:{ENVIRONMENT}"
    application = fake_entra.add_application(
        fake_devops.tenant, FederatedCredential(GITHUB_ISSUER, subject)
    )
    env = {
        "AZURE_CLIENT_ID": application.client_id,
        "AZURE_TENANT_ID": fake_devops.tenant,
        "AZURE_AUTHORITY_HOST": fake_entra.authority,
    }
    claims = {"repository": REPOSITORY, "environment": ENVIRONMENT}
    with FakeGitHubOidc(fake_devops.signing_key, claims) as oidc:
        yield oidc, env
    for token in oidc.issued:
        register_secret("github id token for entra", token)


def test_entra_from_github_uploads_to_azure_artifacts_with_no_pat(
    tmp_path: Path,
    fake_devops: FakeAzureDevOps,
    fake_entra: FakeEntra,
    entra_setup: tuple[FakeGitHubOidc, dict[str, str]],
    index_server: IndexServer,
    package_name: str,
) -> None:
    oidc, azure = entra_setup
    project = make_flit_project(tmp_path / "work", package_name)
    job = github_job(tmp_path, project, oidc)
    # The fake is not on an Azure Artifacts host, so --entra names it (a real feed needs not).
    feed_url = fake_devops.upload_url("Feed")
    auth = job.step([*TOOL, "--repository", f"feed={feed_url}", "--entra", "feed"], azure)
    assert auth.succeeded, auth.log
    (token,) = fake_entra.issued
    assert token in job.masks
    (request,) = fake_entra.requests
    assert request.form["client_id"] == azure["AZURE_CLIENT_ID"]
    assert "1 through Entra federation" in "\n".join(auth.log)
    upload = job.step(
        [
            "bash",
            "-c",
            'twine upload --disable-progress-bar -r feed --config-file "$PYPIRC_PATH" dist/*',
        ]
    )
    assert upload.succeeded, upload.log[-20:]
    assert {path.name for path in (project / "dist").iterdir()} <= set(
        index_server.published(package_name)
    )


def test_entra_reads_azure_federated_token_file_and_gitlab_azure_id_token(
    tmp_path: Path,
    fake_devops: FakeAzureDevOps,
    fake_entra: FakeEntra,
    entra_setup: tuple[FakeGitHubOidc, dict[str, str]],
) -> None:
    _, azure = entra_setup
    subject = "project_path:group/project:ref_type:branch:ref:main"
    fake_entra.applications[azure["AZURE_CLIENT_ID"]].credentials.append(
        FederatedCredential(GITLAB_ISSUER, subject)
    )
    token = register_secret(
        "gitlab id token for entra",
        sign(
            {"iss": GITLAB_ISSUER, "sub": subject, "aud": "api://AzureADTokenExchange"},
            fake_devops.signing_key,
        ),
    )
    token_file = tmp_path / "federated-token"
    token_file.write_text(token + "\n")
    argv = ["--repository", f"feed={fake_devops.upload_url('Feed')}", "--entra", "feed"]
    by_file = run_tool(
        argv, base_env(tmp_path, AZURE_FEDERATED_TOKEN_FILE=str(token_file), **azure)
    )
    assert by_file.returncode == 0, by_file.stderr
    by_variable = run_tool(
        argv, base_env(tmp_path, GITLAB_CI="true", AZURE_ID_TOKEN=token, **azure)
    )
    assert by_variable.returncode == 0, by_variable.stderr
    assert len(fake_entra.issued) == 2
    unset = run_tool(argv, base_env(tmp_path, GITLAB_CI="true", **azure))
    assert unset.returncode == 2
    assert "AZURE_ID_TOKEN:" in unset.stderr and "aud: api://AzureADTokenExchange" in unset.stderr


def test_an_azure_artifacts_feed_without_password_or_application_says_what_to_set(
    tmp_path: Path,
) -> None:
    url = "https://pkgs.dev.azure.com/org/_packaging/Feed/pypi/upload/"
    result = run_tool(["--repository", f"feed={url}"], base_env(tmp_path))
    assert result.returncode == 2
    assert "needs AZURE_CLIENT_ID and AZURE_TENANT_ID" in result.stderr
    assert "TWINE_AUTHENTICATE_FEED_PASSWORD" in result.stderr
