"""Our Azure DevOps task, TwineAuthenticatePy, run as the agent runs it: from the .vsix that
``scripts/build-extension`` builds, by the real node, with the environment the agent builds
(tests/azure_agent_task.py), then a real twine upload into a real index in a later step."""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml
from twine.utils import get_config

from tests.azure_agent_task import (
    HANDLERS,
    ROOT,
    AgentMaker,
    AzureAgent,
    ExtractedTask,
    TaskInstance,
    TaskStep,
    build_vsix,
    extract_task,
    node_program,
)
from tests.fake_azure_devops import FakeAzureDevOps
from tests.fake_entra import FakeEntra, FederatedCredential
from tests.leaks import Recorded
from tests.pipeline import AzureAgentJob, ServiceConnection
from tests.readme_examples import example
from tests.support import RECORDED, IndexServer, new_secret
from tests.support.azure import AzureJobs

UPSTREAM_ID = "e4d58330-c771-11e8-8f8f-81fbb42e2824"
UPLOAD = 'twine upload --disable-progress-bar -r {name} --config-file "$PYPIRC_PATH" dist/*'
# TwineAuthenticate@1's inputs (both of its builds), as its task.json and taskJsonOverride.json
# declare them: name, type, aliases.
UPSTREAM_INPUTS = [
    ("artifactFeed", "pickList", ["artifactFeed"]),
    ("pythonUploadServiceConnection", "connectedService:externalPythonUploadFeed",
     ["pythonUploadServiceConnection"]),
    ("workloadIdentityServiceConnection", "connectedService:workloadidentityuser",
     ["azureDevOpsServiceConnection"]),
    ("feedUrl", "string", []),
]  # fmt: skip


@pytest.fixture(scope="session")
def node() -> str:
    return node_program()


@pytest.fixture(scope="session")
def vsix(node: str) -> Path:
    path, _ = build_vsix(os.environ)
    return path


@pytest.fixture(scope="session")
def task(vsix: Path, tmp_path_factory: pytest.TempPathFactory) -> ExtractedTask:
    return extract_task(vsix, tmp_path_factory.mktemp("vsix"))


@pytest.fixture
def agent_for(task: ExtractedTask, node: str) -> AgentMaker:
    def make(
        job: AzureAgentJob,
        *,
        python: bool = True,
        agent_path: str = "/usr/local/bin:/usr/bin:/bin",
        sources: Path | None = None,
        connections: Sequence[ServiceConnection] = (),
    ) -> AzureAgent:
        agent = AzureAgent(
            job, task, node, agent_path=agent_path, sources=sources, connections=connections
        )
        if python:
            agent.use_python_version()
        return agent

    return make


def password_connection(
    index_server: IndexServer, user: str, name: str, label: str
) -> ServiceConnection:
    """A UsernamePassword service connection to the real index, for a new user of it."""
    password = new_secret(label)
    index_server.add_user(user, password)
    return ServiceConnection(
        str(uuid.uuid4()),
        index_server.url,
        name,
        "UsernamePassword",
        {"username": user, "password": password},
    )


def project_dir(distribution: list[Path]) -> Path:
    return distribution[0].parent.parent


def assert_failed_as_a_task(step: TaskStep, *, errors: int = 1) -> None:
    """Failed the way the agent shows a task's failure: error issues and a Failed result,
    the handler itself exiting 0 (another code is an infrastructure error)."""
    assert step.run.returncode == 0, f"node exited {step.run.returncode}: {step.run.output}"
    assert any(
        c.name == "task.complete" and c.properties.get("result") == "Failed" for c in step.commands
    ), step.run.output
    assert len(step.issues("error")) == errors, step.issues("error")


# --- the extension ------------------------------------------------------------------------


def test_the_task_takes_upstreams_inputs_under_a_name_of_its_own(task: ExtractedTask) -> None:
    definition = task.definition
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", definition["id"]
    )
    assert definition["id"] != UPSTREAM_ID
    # The in-box task would win over a custom task of the same name.
    assert definition["name"].lower() != "twineauthenticate"
    assert re.fullmatch(r"[A-Za-z0-9-]+", definition["name"])
    assert 1 <= len(definition["friendlyName"]) <= 40
    inputs = {spec["name"]: spec for spec in task.inputs}
    for name, kind, aliases in UPSTREAM_INPUTS:
        assert inputs[name]["type"] == kind, name
        assert inputs[name].get("aliases", []) == aliases, name
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) for name in inputs)
    for section, target in (("execution", "main.js"), ("postjobexecution", "post.js")):
        assert sorted(definition[section]) == sorted(HANDLERS)
        for handler in HANDLERS:
            assert definition[section][handler]["target"] == target
            assert task.target(section, handler).is_file()
    assert task.restricted
    assert not task.allowed_to_set("PATH"), "the task must not be able to change PATH"
    assert not task.allowed_to_set("SYSTEM_ACCESSTOKEN")


def test_the_vsix_is_versioned_from_the_package_and_carries_only_the_task(
    vsix: Path, task: ExtractedTask
) -> None:
    from twine_authenticate import __version__

    major, minor, patch = (int(part) for part in __version__.split("."))
    assert task.definition["version"] == {"Major": major, "Minor": minor, "Patch": patch}
    with zipfile.ZipFile(vsix) as archive:
        names = archive.namelist()
        manifest = archive.read("extension.vsixmanifest").decode()
    assert f'Version="{__version__}"' in manifest
    assert vsix.stat().st_size < 300_000, "a source-only task should be small"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "node_modules" in n]
    # The bundled copy is exactly the package in src/.
    package = ROOT / "src" / "twine_authenticate"
    sources = {
        str(p.relative_to(package)): p.read_bytes()
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    bundled_root = f"{task.folder.name}/lib/twine_authenticate/"
    with zipfile.ZipFile(vsix) as archive:
        bundled = {
            n[len(bundled_root) :]: archive.read(n)
            for n in names
            if n.startswith(bundled_root) and not n.endswith("/")
        }
    assert bundled == sources
    assert any(n.startswith(f"{task.folder.name}/lib/tomli/") for n in names)
    with (task.folder / "icon.png").open("rb") as icon:
        header = icon.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", header[16:24]) == (32, 32)


def test_the_shim_loads_no_task_library(task: ExtractedTask) -> None:
    """azure-pipelines-task-lib deletes INPUT_* and ENDPOINT_AUTH_* from the environment
    when it loads: the shim must require nothing but node's own modules and itself."""
    for script in task.folder.glob("*.js"):
        required = re.findall(r"require\(\s*['\"]([^'\"]+)['\"]\s*\)", script.read_text())
        assert set(required) <= {"child_process", "fs", "path", "./shim"}, (script.name, required)
    assert not (task.folder / "node_modules").exists()


# --- end to end -------------------------------------------------------------------------------


def test_internal_feed_upload_and_post_job_cleanup(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    fake_devops.add_feed("Feed", project="My Project")
    job = azure_job(fake_devops)
    agent = agent_for(job, sources=project_dir(distribution))
    step = agent.instance({"artifactFeed": "My Project/Feed"})

    main = step.main()
    upload = job.script_step(UPLOAD.format(name="Feed"), cwd=project_dir(distribution))

    assert main.succeeded, main.run.output
    assert main.refused == []
    assert main.commands[0].name == "task.setsecret", "the token is masked before anything"
    pypirc = Path(job.variables["PYPIRC_PATH"])
    assert main.task_variables_set() == {
        "PYPIRC_PATH": str(pypirc),
        "TWINE_AUTHENTICATE_RUN": job.variables["TWINE_AUTHENTICATE_RUN"],
    }
    assert get_config(str(pypirc))["Feed"]["repository"] == (
        fake_devops.pkgs_url + "My%20Project/_packaging/Feed/pypi/upload"
    )
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert distribution[0].name in index_server.published(package_name)
    assert [(u.feed, u.project, u.status) for u in fake_devops.uploads] == [
        ("Feed", "My Project", 200)
    ]

    post = step.post()

    assert post.succeeded, post.run.output
    assert not pypirc.exists() and not pypirc.parent.exists()
    assert f"Removed the credentials file {pypirc}" in post.run.stdout
    assert all(fake_devops.token not in line for line in job.log)


@pytest.mark.parametrize("handler", HANDLERS)
def test_token_connection_reaches_the_task(
    handler: str,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    token = new_secret("connection api token")
    index_server.add_user("build", token)
    connection = ServiceConnection(
        str(uuid.uuid4()), index_server.url, "token-index", "Token", {"apitoken": token}
    )
    job = azure_job()
    agent = agent_for(job, connections=[connection])
    step = agent.instance({"pythonUploadServiceConnection": connection.id})

    main = step.main(handler)
    upload = job.script_step(UPLOAD.format(name="token-index"), cwd=project_dir(distribution))

    assert main.succeeded, main.run.output
    assert get_config(job.variables["PYPIRC_PATH"])["token-index"]["username"] == "build"
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert distribution[0].name in index_server.published(package_name, "build")
    assert step.post(handler).succeeded


def test_username_password_connection_named_in_yaml(
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    connection = password_connection(index_server, "release-bot", "pypitest", "connection password")
    job = azure_job()
    agent = agent_for(job, connections=[connection])
    # YAML names the connection; the server hands the agent its id.
    step = agent.instance({"pythonUploadServiceConnection": "pypitest"})

    main = step.main()
    upload = job.script_step(UPLOAD.format(name="pypitest"), cwd=project_dir(distribution))

    assert main.succeeded, main.run.output
    masked = {c.data for c in main.commands if c.name == "task.setsecret"}
    assert index_server.users["release-bot"] in masked
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert distribution[0].name in index_server.published(package_name, "release-bot")


def test_post_job_step_removes_exactly_what_its_main_step_wrote(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    step = agent_for(job).instance({"artifactFeed": "Feed"})
    assert step.main().succeeded
    ours = Path(job.variables["PYPIRC_PATH"])
    # A later step points the job variable somewhere else: the post-job step still removes
    # its own file, found through its task variable, and nothing else.
    users = tmp_path / "users-pypirc"
    users.write_text("[distutils]\nindex-servers=\n")
    job.variables["PYPIRC_PATH"] = str(users)

    post = step.post()

    assert post.succeeded, post.run.output
    assert not ours.exists()
    assert users.read_text() == "[distutils]\nindex-servers=\n"
    assert f"Removed the credentials file {ours}" in post.run.stdout


@pytest.mark.parametrize(
    "handed",
    [
        {"PYPIRC_PATH": "/ours/.pypirc", "TWINE_AUTHENTICATE_RUN": "r1"},
        {"PYPIRC_PATH": "/ours/.pypirc"},
    ],
    ids=["both", "path only"],
)
def test_the_post_job_step_hands_its_task_variables_to_cleanup(
    handed: dict[str, str], azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    """PYPIRC_PATH and TWINE_AUTHENTICATE_RUN, as the main step set them with
    task.settaskvariable, reach ``cleanup`` under their own names; job variables of the same
    names never do, even where the main step handed nothing under that name."""
    job = azure_job()
    spy = tmp_path / "python-spy"
    spy.mkdir()
    record = tmp_path / "seen.json"
    # A stand-in interpreter: answers as run.py does on Python 3.12, records the rest.
    (spy / "python3").write_text(
        "#!/bin/sh\n"
        "echo 'twine-authenticate-task python 3.12'\n"
        f'printf \'{{"args": "%s", "path": "%s", "run": "%s", "task": "%s"}}\' '
        f'"$*" "$PYPIRC_PATH" "$TWINE_AUTHENTICATE_RUN" "$TWINE_AUTHENTICATE_TASK" > {record}\n'
    )
    (spy / "python3").chmod(0o755)
    agent = agent_for(job, python=False, agent_path=str(spy))
    job.variables["PYPIRC_PATH"] = "/job/variable/.pypirc"
    job.variables["TWINE_AUTHENTICATE_RUN"] = "job-variable-run"
    step = agent.instance({"artifactFeed": "Feed"})
    step.task_variables.update(handed)

    post = step.post()

    assert post.succeeded, post.run.output
    seen = json.loads(record.read_text())
    assert seen["args"].startswith("-I -S -X utf8 -u ")
    assert seen["args"].endswith("run.py cleanup")
    assert (seen["path"], seen["run"], seen["task"]) == (
        handed["PYPIRC_PATH"],
        handed.get("TWINE_AUTHENTICATE_RUN", ""),
        "1",
    )


def test_a_failed_main_step_then_a_harmless_post_job_step(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, agent_for: AgentMaker
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    agent = agent_for(job)
    first = agent.instance({"artifactFeed": "Feed"})
    assert first.main().succeeded
    earlier = Path(job.variables["PYPIRC_PATH"])
    failing = agent.instance({"artifactFeed": "Feed/extra/part"})

    main = failing.main()

    assert_failed_as_a_task(main)
    assert main.issues("error") == [
        "artifactFeed 'Feed/extra/part' has more than one '/'; write FEED or PROJECT/FEED."
    ], "one message: the tool's own, nothing added by the shim"
    assert not earlier.exists(), "a failed run leaves no credentials, nor the earlier run's"
    assert failing.task_variables == {}

    post = failing.post()

    assert post.succeeded, post.run.output
    assert not post.issues("error") and not post.issues("warning")
    assert "Nothing to clean up" in post.run.stdout
    # Post-job steps run in reverse order: then the first instance's.
    assert first.post().succeeded


# --- finding and running Python ------------------------------------------------------------


def test_no_python_on_path_fails_the_task_and_says_what_to_add(
    azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    empty = tmp_path / "no-python"
    empty.mkdir()
    job = azure_job()
    step = agent_for(job, python=False, agent_path=str(empty)).instance({"artifactFeed": "Feed"})

    main = step.main()

    assert_failed_as_a_task(main)
    [error] = main.issues("error")
    assert "Python 3.10 or newer" in error
    assert "UsePythonVersion@0" in error
    assert "python3: not found" in error
    post = step.post()
    assert post.succeeded and not post.issues("error"), post.run.output


def test_old_pythons_and_store_stubs_are_passed_over(
    fake_devops: FakeAzureDevOps,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
    tmp_path: Path,
) -> None:
    fake_devops.add_feed("Feed")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    (stubs / "python3").write_text(
        "#!/bin/sh\necho 'twine-authenticate-task python 3.8'\nexit 97\n"
    )
    (stubs / "python").write_text(
        "#!/bin/sh\necho 'Python was not found; run without arguments to install from the "
        "Microsoft Store' >&2\nexit 49\n"
    )
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    job = azure_job(fake_devops)
    alone = agent_for(job, python=False, agent_path=str(stubs)).instance({"artifactFeed": "Feed"})

    failed = alone.main()

    assert_failed_as_a_task(failed)
    [error] = failed.issues("error")
    assert f"python3 ({stubs / 'python3'}) is Python 3.8" in error
    assert (
        f"python ({stubs / 'python'}) is not a working Python 3 (exit code 49: Python was not "
        "found; run without arguments to install from the Microsoft Store)"
    ) in error

    # A good Python further on PATH is found.
    good = str(Path(sys.base_prefix) / "bin")
    agent = agent_for(job, python=False, agent_path=os.pathsep.join([str(stubs), good]))
    assert agent.instance({"artifactFeed": "Feed"}).main().succeeded


def test_a_candidate_that_never_answers_is_given_up_on(
    azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    hanging = tmp_path / "hanging"
    hanging.mkdir()
    (hanging / "python3").write_text("#!/bin/sh\nexec /bin/sleep 60\n")
    (hanging / "python3").chmod(0o755)
    job = azure_job()
    agent = agent_for(job, python=False, agent_path=str(hanging))
    step = agent.instance(
        {"artifactFeed": "Feed"}, env={"TWINE_AUTHENTICATE_HANDSHAKE_TIMEOUT_MS": "300"}
    )

    started = time.monotonic()
    main = step.main()

    assert time.monotonic() - started < 30
    assert_failed_as_a_task(main)
    assert f"python3 ({hanging / 'python3'}) did not answer within 0.3 s" in main.issues("error")[0]


def installed_python(version: str) -> Path:
    """A real interpreter of this version (pyenv's, or the system's), or a skip."""
    candidates = [
        *sorted((Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin/python{version}")),
        Path("/usr/bin") / f"python{version}",
        Path("/usr/local/bin") / f"python{version}",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(f"no Python {version} installed here")


def test_real_old_pythons_are_passed_over(
    azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    """A real Python 2.7 refuses -I; a real 3.6 and 3.8 run run.py up to its version check,
    which must stay valid syntax for them."""
    olds = tmp_path / "old-pythons"
    olds.mkdir()
    (olds / "python").symlink_to(installed_python("2.7"))
    (olds / "python3").symlink_to(installed_python("3.8"))
    older = tmp_path / "older"
    older.mkdir()
    (older / "python3").symlink_to(installed_python("3.6"))
    job = azure_job()
    path = os.pathsep.join([str(olds), str(older)])
    step = agent_for(job, python=False, agent_path=path).instance({"artifactFeed": "Feed"})

    main = step.main()

    assert_failed_as_a_task(main)
    [error] = main.issues("error")
    assert f"python3 ({olds / 'python3'}) is Python 3.8" in error
    assert f"python3 ({older / 'python3'}) is Python 3.6" in error
    assert (
        f"python ({olds / 'python'}) is not a working Python 3 (exit code 2: Unknown option: -I)"
        in error
    )


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13"])
def test_each_supported_python_runs_the_task(
    version: str,
    fake_devops: FakeAzureDevOps,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
    tmp_path: Path,
) -> None:
    """On 3.10, whose stdlib has no tomllib, a pyproject.toml declaration is read with the
    tomli bundled in the task folder (-S keeps any installed one out of reach)."""
    python = installed_python(version)
    fake_devops.add_feed("Feed")
    sources = tmp_path / "repository"
    sources.mkdir()
    (sources / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\n\n'
        "[[tool.twine-authenticate.repositories]]\n"
        'name = "declared"\nurl = "https://declared.example/upload/"\n'
        'password-env = "TWINE_AUTHENTICATE_DECLARED_PASSWORD"\n'
    )
    job = azure_job(fake_devops)
    job.variables["TWINE_AUTHENTICATE_PYTHON"] = str(python)
    agent = agent_for(job, python=False, sources=sources)
    step = agent.instance(
        {"artifactFeed": "Feed"},
        env={"TWINE_AUTHENTICATE_DECLARED_PASSWORD": new_secret("declared")},
    )

    main = step.main()

    assert main.succeeded, main.run.output
    assert list(get_config(job.variables["PYPIRC_PATH"])) == ["pypi", "Feed", "declared"]
    assert step.post().succeeded


def test_twine_authenticate_python_names_the_interpreter(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    fake_devops.add_feed("Feed")
    job = azure_job(fake_devops)
    agent = agent_for(job, python=False, agent_path=str(tmp_path))
    python = str(Path(sys.base_prefix) / "bin" / "python3")
    job.variables["TWINE_AUTHENTICATE_PYTHON"] = python
    assert agent.instance({"artifactFeed": "Feed"}).main().succeeded

    job.variables["TWINE_AUTHENTICATE_PYTHON"] = str(tmp_path / "missing" / "python3")
    missing = agent.instance({"artifactFeed": "Feed"}).main()
    assert_failed_as_a_task(missing)
    assert "TWINE_AUTHENTICATE_PYTHON=" in missing.issues("error")[0]


def test_a_failure_python_does_not_report_still_fails_the_task(
    azure_job: AzureJobs, agent_for: AgentMaker, tmp_path: Path
) -> None:
    crashing = tmp_path / "crashing"
    crashing.mkdir()
    (crashing / "python3").write_text(
        "#!/bin/sh\necho 'twine-authenticate-task python 3.12'\n"
        "echo 'Segmentation fault' >&2\nexit 139\n"
    )
    (crashing / "python3").chmod(0o755)
    job = azure_job()
    step = agent_for(job, python=False, agent_path=str(crashing)).instance({"artifactFeed": "F"})

    main = step.main()

    assert_failed_as_a_task(main)
    assert "exited with code 139 without reporting why" in main.issues("error")[0]


def test_a_repository_cannot_put_its_own_code_in_front_of_the_task(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    """The working directory is the pipeline's repository: a package, a sitecustomize, a
    stdlib module's name or a ``python3`` there, and PYTHON* variables (pipeline variables
    reach a task's environment), must not run."""
    fake_devops.add_feed("Feed")
    sources = project_dir(distribution)
    marker = sources / "HIJACKED"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    (sources / "twine_authenticate").mkdir()
    (sources / "twine_authenticate" / "__init__.py").write_text(payload)
    (sources / "twine_authenticate" / "cli.py").write_text(payload + "def main(argv=None): 0\n")
    (sources / "twine_authenticate" / "__main__.py").write_text(payload)
    for module in ("sitecustomize", "usercustomize", "json", "argparse", "run", "shim"):
        (sources / f"{module}.py").write_text(payload)
    (sources / "python3").write_text(f"#!/bin/sh\necho python3 >> {marker}\nexit 1\n")
    (sources / "python3").chmod(0o755)
    job = azure_job(fake_devops)
    job.variables.update(
        {"PYTHONPATH": str(sources), "PYTHONSTARTUP": str(sources / "json.py"), "PYTHONHOME": "/x"}
    )
    agent = agent_for(job, sources=sources)
    # PATH entries that mean the working directory, first: the shim must skip them.
    agent.prepend_path = [".", "", *agent.prepend_path]

    main = agent.instance({"artifactFeed": "Feed"}).main()
    for name in ("PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME"):  # they would break twine itself
        del job.variables[name]
    upload = job.script_step(UPLOAD.format(name="Feed"), cwd=sources)

    assert main.succeeded, main.run.output
    assert not marker.exists(), marker.read_text()
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert distribution[0].name in index_server.published(package_name)


def test_cancelling_the_job_ends_the_run_with_no_credentials_left(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, agent_for: AgentMaker
) -> None:
    """The agent cancels a step by signalling its handler; the shim passes it on to Python,
    which reports it and leaves nothing behind."""
    fake_devops.add_feed("Feed")
    fake_devops.latency = 30.0
    job = azure_job(fake_devops)
    agent = agent_for(job)
    step = agent.instance({"artifactFeed": "Feed"})
    env = agent.environment(step.inputs, step.env, step.task_variables)
    process = subprocess.Popen(
        [agent.node, str(agent.task.target("execution"))],
        env=env,
        cwd=agent.sources,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not fake_devops.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fake_devops.requests, "the run never reached the service"
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    fake_devops.latency = 0.0
    RECORDED.extend([Recorded("cancelled task stdout", stdout), Recorded("stderr", stderr)])

    assert process.returncode == 0, stderr
    assert "##vso[task.complete result=Failed;]terminated (SIGTERM)" in stdout
    assert not list((job.agent_temp / "twineAuthenticate").glob("*/.pypirc"))


def test_output_is_utf8_whatever_the_locale_and_python_variables_say(
    azure_job: AzureJobs, agent_for: AgentMaker
) -> None:
    """The agent reads a handler's output as UTF-8 (on Windows too, where Python would write
    the ANSI code page): -X utf8 holds even where the step's locale or PYTHONIOENCODING
    would have Python write something else."""
    job = azure_job()
    step = agent_for(job).instance(
        {"artifactFeed": "Fééd/ünï/çödé"},
        env={"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "latin-1", "PYTHONUTF8": "0"},
    )

    main = step.main()

    assert_failed_as_a_task(main)
    assert main.issues("error") == [
        "artifactFeed 'Fééd/ünï/çödé' has more than one '/'; write FEED or PROJECT/FEED."
    ]


# --- our inputs beyond upstream's --------------------------------------------------------


def test_exported_variables_are_all_ones_the_task_may_set(
    azure_job: AzureJobs, agent_for: AgentMaker
) -> None:
    token = new_secret("pypi token")
    connection = ServiceConnection(
        str(uuid.uuid4()), "https://upload.pypi.org/legacy/", "pypi", "Token", {"apitoken": token}
    )
    proxy_password = new_secret("proxy password")
    job = azure_job(env={"AGENT_PROXYURL": "http://proxy.example:3128", "AGENT_PROXYUSERNAME": "u"})
    job.secret_variables["Agent.ProxyPassword"] = proxy_password
    agent = agent_for(job, connections=[connection])
    step = agent.instance(
        {
            "pythonUploadServiceConnection": connection.id,
            "export": "twine uv poetry hatch\n pdm  flit maturin",
            "exportProxy": True,
        }
    )

    main = step.main()

    assert main.succeeded, main.run.output
    assert main.refused == [], "task.json must allow every variable the tool exports"
    exported = set(job.variables) | set(job.secret_variables)
    assert {
        "PYPIRC_PATH", "TWINE_PASSWORD", "UV_PUBLISH_PASSWORD", "POETRY_HTTP_BASIC_PYPI_PASSWORD",
        "HATCH_INDEX_AUTH", "PDM_PUBLISH_PASSWORD", "FLIT_PASSWORD", "MATURIN_PYPI_TOKEN",
        "HTTPS_PROXY", "HTTP_PROXY",
    } <= exported  # fmt: skip
    assert job.secret_variables["UV_PUBLISH_PASSWORD"] == token


def test_no_verify_and_bad_booleans(
    fake_devops: FakeAzureDevOps, azure_job: AzureJobs, agent_for: AgentMaker
) -> None:
    job = azure_job(fake_devops)
    agent = agent_for(job)

    unchecked = agent.instance({"artifactFeed": "NoSuchFeed", "noVerify": True}).main()
    assert unchecked.succeeded, unchecked.run.output
    assert not fake_devops.requests_to("_apis/packaging/feeds")

    checked = agent.instance({"artifactFeed": "NoSuchFeed"}).main()
    assert_failed_as_a_task(checked)
    assert "NoSuchFeed" in checked.issues("error")[0]

    wrong = agent.instance({"artifactFeed": "NoSuchFeed", "verify": "yes"}).main()
    assert_failed_as_a_task(wrong)
    assert wrong.issues("error") == ["the task input verify must be true or false, not 'yes'."]


def test_workload_identity_through_the_task_uploads_then_cleans_up(
    fake_devops: FakeAzureDevOps,
    fake_entra: FakeEntra,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    """Upstream's W1-W2 as the agent runs the built task: the connection named by its alias,
    the pipeline's OIDC token, Entra's exchange, a real twine upload, then the post-job step."""
    fake_devops.add_feed("Feed")
    connection = ServiceConnection(
        str(uuid.uuid4()),
        "https://dev.azure.com/contoso/",
        "entra-publisher",
        "WorkloadIdentityFederation",
        {"tenantid": fake_devops.tenant, "serviceprincipalid": "placeholder"},
    )
    fake_devops.oidc_connections[connection.id] = connection.endpoint_name
    issuer, subject = fake_devops.oidc_identity(connection.id)
    application = fake_entra.add_application(
        fake_devops.tenant, FederatedCredential(issuer, subject)
    )
    connection = ServiceConnection(
        connection.id,
        connection.url,
        connection.endpoint_name,
        connection.scheme,
        {"tenantid": fake_devops.tenant, "serviceprincipalid": application.client_id},
    )
    job = azure_job(fake_devops)
    # What the agent gives a task of a job that may request OIDC tokens; the authority host
    # points Entra's endpoint at the fake (the default is the public cloud).
    job.variables["System.OidcRequestUri"] = fake_devops.oidc_request_uri()
    job.variables["AZURE_AUTHORITY_HOST"] = fake_entra.authority
    agent = agent_for(job, connections=[connection], sources=project_dir(distribution))
    feed_url = fake_devops.upload_url("Feed")
    step = agent.instance({"azureDevOpsServiceConnection": "entra-publisher", "feedUrl": feed_url})
    env = agent.environment(step.inputs, step.env, step.task_variables)
    assert env["INPUT_WORKLOADIDENTITYSERVICECONNECTION"] == connection.id

    main = step.main()
    upload = job.script_step(UPLOAD.format(name="Feed"), cwd=project_dir(distribution))

    assert main.succeeded, main.run.output
    assert main.refused == []
    (token,) = fake_entra.issued
    assert token in [c.data for c in main.commands if c.name == "task.setsecret"]
    pypirc = Path(job.variables["PYPIRC_PATH"])
    assert get_config(str(pypirc))["Feed"]["username"] == connection.id
    assert upload.succeeded, "\n".join(job.log[-20:])
    assert distribution[0].name in index_server.published(package_name)

    post = step.post()
    assert post.succeeded, post.run.output
    assert not pypirc.exists()


# --- the README ---------------------------------------------------------------------------


def run_readme_pipeline(
    agent: AzureAgent, job: AzureAgentJob, example_name: str, sources: Path
) -> list[TaskInstance]:
    """The README's pipeline, step by step as the agent runs it: UsePythonVersion@0 puts a
    Python first on PATH; our task runs from the .vsix; a script runs in bash once $(...)
    macros are expanded. The step named Build is a stand-in: the distribution is built."""
    instances = []
    for step in yaml.safe_load(example(example_name))["steps"]:
        if step.get("task") == "UsePythonVersion@0":
            agent.use_python_version()
        elif "task" in step:
            name, _, major = step["task"].partition("@")
            assert name == agent.task.definition["name"]
            assert int(major) == agent.task.definition["version"]["Major"]
            instance = agent.instance(step.get("inputs", {}))
            main = instance.main()
            assert main.succeeded, main.run.output
            instances.append(instance)
        elif step.get("displayName") != "Build":
            script = step["script"].replace("$(PYPIRC_PATH)", job.variables["PYPIRC_PATH"])
            result = job.script_step(script, cwd=sources)
            assert result.succeeded, "\n".join(job.log[-20:])
    return instances


def test_the_readme_task_example_publishes_to_a_feed(
    fake_devops: FakeAzureDevOps,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    fake_devops.add_feed("MyFeed", project="MyProject")
    sources = project_dir(distribution)
    job = azure_job(fake_devops)
    agent = agent_for(job, python=False, sources=sources)

    instances = run_readme_pipeline(agent, job, "azure-task", sources)

    assert distribution[0].name in index_server.published(package_name)
    assert [(u.feed, u.project) for u in fake_devops.uploads] == [("MyFeed", "MyProject")]
    for instance in reversed(instances):
        assert instance.post().succeeded
    assert not Path(job.variables["PYPIRC_PATH"]).exists()


def test_the_readme_task_example_publishes_through_a_service_connection(
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
    agent_for: AgentMaker,
) -> None:
    """The seed's second example, which no script step can do: a service connection."""
    connection = password_connection(index_server, "pypitest-user", "pypitest", "pypitest password")
    sources = project_dir(distribution)
    job = azure_job()
    agent = agent_for(job, sources=sources, connections=[connection])

    instances = run_readme_pipeline(agent, job, "azure-task-connection", sources)

    assert distribution[0].name in index_server.published(package_name, "pypitest-user")
    assert [instance.post().succeeded for instance in instances] == [True]
