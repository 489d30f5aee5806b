"""The ready-made integrations and the README's CI examples, executed.

Each CI's own expansion is done here the way that CI documents it (GitHub's ``${{ }}``
expressions, Azure's template parameters and ``$(macro)`` syntax, GitLab's ``extends`` and
variable references); the scripts then run for real in bash, the tool in them writes its
credentials, and a real client uploads into pypiserver.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fake_azure_devops import FakeAzureDevOps
from tests.github_runner import GitHubJob
from tests.pipeline import AzureAgentJob
from tests.readme_examples import example
from tests.support import (
    IndexServer,
    base_env,
    make_flit_project,
    new_secret,
    register_secret,
    run,
)
from tests.support.azure import AzureJobs

ROOT = Path(__file__).resolve().parent.parent
GITLAB_INCLUDE = "integrations/gitlab/twine-authenticate.gitlab-ci.yml"
AZURE_TEMPLATE = "integrations/azure-pipelines/twine-authenticate.yml"


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """twine-authenticate's wheel, as the README's Install section has users build it (it is
    not on PyPI yet): what the Azure script-step forms install."""
    out = tmp_path_factory.mktemp("wheel")
    # No isolation: offline, hatchling is a test dependency.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "-q",
            "-o",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("twine_authenticate-*.whl")
    return built


def with_tools(project: Path, wheel: Path) -> Path:
    """The project's repository, holding the wheel in tools/ as the README suggests."""
    (project / "tools").mkdir(exist_ok=True)
    shutil.copy2(wheel, project / "tools" / wheel.name)
    return project


def built_project(tmp_path: Path, name: str) -> tuple[Path, list[str]]:
    project = make_flit_project(tmp_path / "work", name)
    return project, sorted(path.name for path in (project / "dist").iterdir())


def assert_published(
    server: IndexServer, name: str, files: list[str], user: str = "uploader"
) -> None:
    published = server.published(name, user)
    assert set(files) <= set(published), f"{name}: uploaded {published}, built {files}"


# --- GitHub Actions -------------------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")


def github_expand(text: str, contexts: Mapping[str, Mapping[str, str]]) -> str:
    """``${{ context.name }}``; a missing name is the empty string, as on GitHub."""

    def value(match: re.Match[str]) -> str:
        context, _, name = match[1].partition(".")
        return contexts.get(context, {}).get(name, "")

    return _EXPRESSION.sub(value, text)


def run_composite_action(
    job: GitHubJob, with_: Mapping[str, str], step_env: Mapping[str, str], contexts: Any
) -> list[Any]:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    unknown = set(with_) - set(inputs)
    assert not unknown, f"action.yml has no input {unknown}"
    inputs.update(with_)
    steps = []
    for step in action["runs"]["steps"]:
        context = {**contexts, "inputs": inputs, "github": {"action_path": str(ROOT)}}
        env = {key: github_expand(str(value), context) for key, value in step["env"].items()}
        env["GITHUB_ACTION_PATH"] = str(ROOT)
        assert step["shell"] == "bash"
        # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
        argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
        steps.append(job.step(argv, {**step_env, **env}, label="action.yml"))
    return steps


def test_the_readme_workflow_publishes_with_the_action(
    tmp_path: Path, index_server: IndexServer, package_name: str
) -> None:
    project, files = built_project(tmp_path, package_name)
    contexts = {
        "vars": {"INDEX_URL": index_server.url, "INDEX_USER": "uploader"},
        "secrets": {"INDEX_TOKEN": index_server.users["uploader"]},
    }
    workflow = yaml.safe_load(example("github-workflow"))
    job = GitHubJob(project, base_env(tmp_path))
    # Stand-ins: the checkout and build steps' results are the project built above.
    stand_ins = {"Check out", "Build"}
    for step in workflow["jobs"]["publish"]["steps"]:
        if step["name"] in stand_ins:
            continue
        env = {k: github_expand(str(v), contexts) for k, v in step.get("env", {}).items()}
        if "uses" in step:
            assert step["uses"].split("@")[0].endswith("/twine-authenticate")
            with_ = {k: github_expand(str(v), contexts) for k, v in step["with"].items()}
            results = run_composite_action(job, with_, env, contexts)
            assert all(result.succeeded for result in results), [r.log for r in results]
            assert job.masks, "the password must be masked"
        else:
            result = job.step(["bash", "-eo", "pipefail", "-c", step["run"]], env)
            assert result.succeeded, result.log[-20:]
    assert_published(index_server, package_name, files)


def test_the_action_turns_every_input_into_its_flag(tmp_path: Path) -> None:
    secret = new_secret("action inputs")
    job = GitHubJob(tmp_path, base_env(tmp_path))
    (tmp_path / "project.toml").write_text(
        "[[tool.twine-authenticate.repositories]]\nname = 'declared'\n"
        "url = 'https://declared.example/'\npassword-env = 'TWINE_AUTHENTICATE_DECLARED_PASSWORD'\n"
    )
    with_ = {
        "repository": "  one=https://one.example/\n\ntwo=https://two.example/  \n",
        "export": "uv=one\nflit=two  poetry=declared",
        "pyproject": "project.toml",
        "timeout": "3",
    }
    env = {
        "TWINE_AUTHENTICATE_ONE_PASSWORD": secret,
        "TWINE_AUTHENTICATE_TWO_PASSWORD": secret,
        "TWINE_AUTHENTICATE_DECLARED_PASSWORD": secret,
    }
    (step,) = run_composite_action(job, with_, env, {})
    assert step.succeeded, step.log
    assert job.env["UV_PUBLISH_URL"] == "https://one.example/"
    assert job.env["FLIT_INDEX_URL"] == "https://two.example/"
    assert job.env["POETRY_REPOSITORIES_DECLARED_URL"] == "https://declared.example/"


# --- Azure Pipelines ------------------------------------------------------------------------

_MACRO = re.compile(r"\$\((\w[\w.]*)\)")
_PARAMETER = re.compile(r"\$\{\{\s*parameters\.(\w+)\s*\}\}")


def azure_macros(job: AzureAgentJob, text: str, access_token: str) -> str:
    """``$(Name)`` from the job's variables, secret ones included; unknown ones stay as written.
    (The job token is given apart: a script step gets it only through such a mapping.)"""
    values = {"System.AccessToken": access_token, **job.variables, **job.secret_variables}
    return _MACRO.sub(lambda m: values.get(m[1], m[0]), text)


def run_azure_step(
    job: AzureAgentJob,
    script: str,
    env: Mapping[str, Any],
    access_token: str,
    cwd: Path | None = None,
) -> None:
    """A ``script`` or ``bash`` step as the agent runs it: macros expanded in its script and
    its ``env`` first. It must succeed."""
    expanded = {key: azure_macros(job, str(value), access_token) for key, value in env.items()}
    result = job.script_step(azure_macros(job, script, access_token), expanded, cwd=cwd)
    assert result.succeeded, "\n".join(job.log[-20:])


def expand_azure_template(path: Path, given: Mapping[str, Any]) -> list[dict[str, Any]]:
    template = yaml.safe_load(path.read_text())
    parameters = {p["name"]: p.get("default") for p in template["parameters"]}
    assert not set(given) - set(parameters), f"unknown parameters {set(given) - set(parameters)}"
    parameters.update(given)

    def render(value: Any) -> str:
        return str(value)  # Azure renders booleans as True/False

    steps = []
    for step in template["steps"]:
        env: dict[str, str] = {}
        for key, value in step.get("env", {}).items():
            if key.startswith("${{ each"):
                env.update({k: str(v) for k, v in parameters["env"].items()})
                continue
            env[key] = _PARAMETER.sub(lambda m: render(parameters[m[1]]), str(value))
        steps.append({**step, "env": env})
    return steps


def test_the_readme_azure_template_example_publishes(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    tmp_path: Path,
    package_name: str,
    azure_job: AzureJobs,
    wheel: Path,
) -> None:
    fake_devops.add_feed("MyFeed", project="MyProject")
    project, files = built_project(tmp_path, package_name)
    with_tools(project, wheel)
    job = azure_job(fake_devops, job_token=False)
    pipeline = yaml.safe_load(example("azure-template"))
    for step in pipeline["steps"]:
        if "template" in step:
            path, _, repository = step["template"].partition("@")
            assert repository == pipeline["resources"]["repositories"][0]["repository"]
            for inner in expand_azure_template(ROOT / path, step.get("parameters", {})):
                run_azure_step(job, inner["bash"], inner["env"], fake_devops.token, project)
            assert "UV_PUBLISH_PASSWORD" in job.secret_variables
            assert "UV_PUBLISH_PASSWORD: $(UV_PUBLISH_PASSWORD)" in "\n".join(job.log)
        else:
            run_azure_step(job, step["script"], step.get("env", {}), fake_devops.token, project)
    assert_published(index_server, package_name, files)
    assert [upload.feed for upload in fake_devops.uploads] == ["MyFeed"] * len(files)
    assert not Path(job.variables["PYPIRC_PATH"]).exists(), "the cleanup step removes the file"


def test_a_secret_variable_reaches_no_step_that_does_not_map_it(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, wheel: Path
) -> None:
    fake_devops.add_feed("MyFeed", project="MyProject")
    job = azure_job(fake_devops, job_token=False)
    (inner,) = expand_azure_template(
        ROOT / AZURE_TEMPLATE,
        {"artifactFeeds": "MyProject/MyFeed", "exports": "twine", "install": str(wheel)},
    )
    run_azure_step(job, inner["bash"], inner["env"], fake_devops.token)
    unmapped = job.script_step('test -z "${TWINE_PASSWORD:-}" && test -n "$TWINE_USERNAME"')
    assert unmapped.succeeded, "a secret variable must not reach an unmapped step"


# --- GitLab CI ------------------------------------------------------------------------------

_GITLAB_REFERENCE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def gitlab_expand(text: str, env: Mapping[str, str]) -> str:
    return _GITLAB_REFERENCE.sub(lambda m: env.get(m[1] or m[2], ""), text)


def gitlab_job_script(
    pipeline: Mapping[str, Any], job_name: str, env: dict[str, str], project_variables: set[str]
) -> str:
    """Merge ``extends`` (the included hidden job, then the job), expand ``variables`` in
    order (settings variables win over the file's), and join before_script and script the
    way the runner runs them: one shell session."""
    job = pipeline[job_name]
    base: dict[str, Any] = {}
    for include in pipeline.get("include", []):
        source = include.get("remote") or include.get("local")
        assert source.endswith(GITLAB_INCLUDE), source
        base.update(yaml.safe_load((ROOT / GITLAB_INCLUDE).read_text()))
    parent = base[job["extends"]]
    variables = {**parent.get("variables", {}), **job.get("variables", {})}
    for name, value in variables.items():
        if name not in project_variables:
            env[name] = gitlab_expand(str(value), env)
    lines = job.get("before_script", parent.get("before_script", [])) + job["script"]
    return "\n".join(lines)


def gitlab_after_script(pipeline: Mapping[str, Any], job_name: str) -> str:
    """after_script, which GitLab runs in a new shell, with none of the script's variables."""
    job = pipeline[job_name]
    parent = yaml.safe_load((ROOT / GITLAB_INCLUDE).read_text())[job["extends"]]
    return "\n".join(job.get("after_script", parent.get("after_script", [])))


def test_the_readme_gitlab_example_publishes_and_warns(
    tmp_path: Path, index_server: IndexServer, package_name: str
) -> None:
    project, files = built_project(tmp_path, package_name)
    job_token = register_secret("CI_JOB_TOKEN", "glcbt-" + new_secret("job token")[:20])
    index_server.add_user("gitlab-ci-token", job_token)
    env = base_env(
        tmp_path,
        GITLAB_CI="true",
        CI="true",
        CI_JOB_TOKEN=job_token,
        CI_API_V4_URL="https://gitlab.example.com/api/v4",
        CI_PROJECT_ID="42",
        # A project (settings) variable: it wins over the file's INDEX_URL.
        INDEX_URL=index_server.url,
    )
    script = gitlab_job_script(yaml.safe_load(example("gitlab-ci")), "publish", env, {"INDEX_URL"})
    before = set(project.iterdir())

    env["CI_JOB_ID"] = "4242"
    other_job = run(  # another job of the same runner user, at the same time
        [sys.executable, "-m", "twine_authenticate", "--repository", "other=https://o.example/"],
        {**env, "CI_JOB_ID": "4243", "TWINE_AUTHENTICATE_OTHER_PASSWORD": new_secret("other")},
    )
    assert other_job.returncode == 0, other_job.stderr
    result = run(["bash", "-eo", "pipefail", "-c", script], env, cwd=project, timeout=300)

    assert result.returncode == 0, result.output[-3000:]
    assert_published(index_server, package_name, files, user="gitlab-ci-token")
    assert "GitLab CI cannot mask values created during a job" in result.stderr
    assert set(project.iterdir()) == before, "nothing, no dotenv file, written in the project"
    files_left = list(Path(env["TMPDIR"]).glob("twineAuthenticate-*/*/.pypirc"))
    assert len(files_left) == 2  # this job's and the other job's
    others = [path for path in files_left if "o.example" in path.read_text()]

    pipeline = yaml.safe_load(example("gitlab-ci"))
    after = run(["bash", "-c", gitlab_after_script(pipeline, "publish")], env, cwd=project)
    assert after.returncode == 0, after.stderr
    remaining = list(Path(env["TMPDIR"]).glob("twineAuthenticate-*/*/.pypirc"))
    assert remaining == others  # this job's file is gone; the other job's is untouched


def test_gitlab_warns_only_when_secrets_are_exported(tmp_path: Path) -> None:
    env = base_env(tmp_path, GITLAB_CI="true", TWINE_AUTHENTICATE_X_PASSWORD=new_secret("gl"))
    tool = "python -m twine_authenticate --repository x=https://x.example/"
    quiet = run(["bash", "-ec", f'eval "$({tool})"; test -n "$PYPIRC_PATH"'], env)
    assert quiet.returncode == 0, quiet.stderr
    assert "cannot mask" not in quiet.stderr
    loud = run(["bash", "-ec", f'eval "$({tool} --export twine)"; test -n "$TWINE_PASSWORD"'], env)
    assert loud.returncode == 0, loud.stderr
    assert loud.stderr.count("cannot mask") == 1


def test_the_readme_azure_script_example_publishes(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    tmp_path: Path,
    package_name: str,
    azure_job: AzureJobs,
    wheel: Path,
) -> None:
    fake_devops.add_feed("MyFeed", project="MyProject")
    project, files = built_project(tmp_path, package_name)
    with_tools(project, wheel)
    job = azure_job(fake_devops, job_token=False)
    job.variables["Agent.TempDirectory"] = str(job.agent_temp)
    for step in yaml.safe_load(example("azure-script"))["steps"]:
        run_azure_step(job, step["script"], step.get("env", {}), fake_devops.token, project)
    assert_published(index_server, package_name, files)
    assert not Path(job.variables["PYPIRC_PATH"]).exists(), "the cleanup step removes the file"


# --- Keyless examples ------------------------------------------------------------------------


def run_github_example(
    name: str,
    job: GitHubJob,
    contexts: Mapping[str, Any],
    repository: str,
    extra_inputs: Mapping[str, str] | None = None,
) -> None:
    """A README workflow: the checkout and build steps are the project already built; the
    action's repository input is pointed at a fake (``repository``), as PyPI and Azure DevOps
    cannot be reached from here; every other line runs as written."""
    workflow = yaml.safe_load(example(name))
    (job_spec,) = workflow["jobs"].values()
    assert job_spec["permissions"] == {"id-token": "write"}
    for step in job_spec["steps"]:
        if step["name"] in ("Check out", "Build"):
            continue
        env = {k: github_expand(str(v), contexts) for k, v in step.get("env", {}).items()}
        if "uses" in step:
            with_ = {k: github_expand(str(v), contexts) for k, v in step["with"].items()}
            with_["repository"] = repository
            with_.update(extra_inputs or {})
            results = run_composite_action(job, with_, env, contexts)
            assert all(result.succeeded for result in results), [r.log for r in results]
        else:
            result = job.step(["bash", "-eo", "pipefail", "-c", step["run"]], env)
            assert result.succeeded, result.log[-20:]


def test_the_readme_trusted_publishing_workflow_publishes(
    tmp_path: Path, index_server: IndexServer, package_name: str
) -> None:
    from tests.fake_github_oidc import GITHUB_ISSUER, FakeGitHubOidc
    from tests.fake_warehouse import FakeWarehouse

    key = b"github and pypi"
    project, files = built_project(tmp_path, package_name)
    claims = {"repository": "o/r", "environment": "release"}
    with FakeGitHubOidc(key, claims) as oidc, FakeWarehouse(key, index_server) as pypi:
        pypi.add_publisher(GITHUB_ISSUER, repository="o/r", environment="release")
        job = GitHubJob(project, base_env(tmp_path, **oidc.env()))
        run_github_example("github-trusted-publishing", job, {}, f"pypi={pypi.upload_url}")
        for token in [*oidc.issued, *pypi.minted]:
            register_secret("keyless example token", token)
        assert len(pypi.minted) == 1 and job.masks
    assert_published(index_server, package_name, files)


def test_the_readme_entra_workflow_publishes(
    tmp_path: Path,
    fake_devops: FakeAzureDevOps,
    fake_entra: Any,
    index_server: IndexServer,
    package_name: str,
) -> None:
    from tests.fake_entra import FederatedCredential
    from tests.fake_github_oidc import GITHUB_ISSUER, FakeGitHubOidc

    fake_devops.add_feed("FEED")
    project, files = built_project(tmp_path, package_name)
    app = fake_entra.add_application(
        fake_devops.tenant, FederatedCredential(GITHUB_ISSUER, "repo:o/r:environment:release")
    )
    contexts = {"vars": {"AZURE_CLIENT_ID": app.client_id, "AZURE_TENANT_ID": fake_devops.tenant}}
    claims = {"repository": "o/r", "environment": "release"}
    with FakeGitHubOidc(fake_devops.signing_key, claims) as oidc:
        env = base_env(tmp_path, AZURE_AUTHORITY_HOST=fake_entra.authority, **oidc.env())
        job = GitHubJob(project, env)
        # The fake feed is not on an Azure Artifacts host: the entra input names it instead.
        run_github_example(
            "github-entra",
            job,
            contexts,
            f"feed={fake_devops.upload_url('FEED')}",
            {"entra": "feed"},
        )
        for token in oidc.issued:
            register_secret("keyless example token", token)
    assert len(fake_entra.issued) == 1
    assert_published(index_server, package_name, files)


def test_the_readme_gitlab_trusted_publishing_example_publishes(
    tmp_path: Path, index_server: IndexServer, package_name: str
) -> None:
    from tests.fake_warehouse import GITLAB_ISSUER, FakeWarehouse, gitlab_claims
    from tests.support.jwt import sign

    key = b"gitlab and pypi"
    project, files = built_project(tmp_path, package_name)
    pipeline = yaml.safe_load(example("gitlab-trusted-publishing"))
    assert pipeline["publish"]["id_tokens"] == {"PYPI_ID_TOKEN": {"aud": "pypi"}}
    with FakeWarehouse(key, index_server) as pypi:
        pypi.add_publisher(GITLAB_ISSUER, project_path="group/project")
        # What GitLab puts in the job for its id_tokens declaration.
        id_token = sign(gitlab_claims(), key)
        env = base_env(tmp_path, GITLAB_CI="true", CI="true", CI_JOB_ID="9", PYPI_ID_TOKEN=id_token)
        register_secret("gitlab id token", id_token)
        pipeline["publish"]["variables"]["TWINE_AUTHENTICATE_FLAGS"] = (
            f"--repository pypi={pypi.upload_url}"
        )
        script = gitlab_job_script(pipeline, "publish", env, set())
        result = run(["bash", "-eo", "pipefail", "-c", script], env, cwd=project, timeout=300)
        for token in pypi.minted:
            register_secret("keyless example token", token)
    assert result.returncode == 0, result.output[-3000:]
    assert_published(index_server, package_name, files)


def test_the_azure_template_says_how_to_get_the_tool_while_it_is_not_on_pypi(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, tmp_path: Path
) -> None:
    """The default install is the PyPI name; where pip cannot find it (here: a name no index
    has), the step fails with what to do instead."""
    job = azure_job(fake_devops, job_token=False)
    (inner,) = expand_azure_template(
        ROOT / AZURE_TEMPLATE, {"artifactFeeds": "Feed", "install": str(tmp_path / "none.whl")}
    )
    env = {
        key: azure_macros(job, str(value), fake_devops.token) for key, value in inner["env"].items()
    }
    result = job.script_step(azure_macros(job, inner["bash"], fake_devops.token), env)
    assert not result.succeeded
    [error] = result.issues("error")
    assert "It is not on PyPI yet" in error and "install parameter" in error
    assert not (job.agent_temp / "twineAuthenticate").exists()
