from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import support
from tests.fake_azure_devops import FakeAzureDevOps
from tests.fake_entra import FakeEntra
from tests.leaks import find_leaks, secret_forms
from tests.support import IndexServer, register_secret, running_index
from tests.support.azure import AzureJobs
from tests.support.os_tools import MISSING, STRICT_VARIABLE, strict

SESSION_SECRETS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def leak_guard() -> Iterator[None]:
    """After every test: no registered secret anywhere in what the tool or a step printed."""
    support.RECORDED.clear()
    support.SECRETS.clear()
    yield
    problems = find_leaks({**SESSION_SECRETS, **support.SECRETS}, support.RECORDED)
    if problems:
        pytest.fail("secret leak:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def index_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """A real pypiserver on 127.0.0.1 that needs a password to upload and to read."""
    with running_index(tmp_path_factory.mktemp("pypiserver")) as server:
        password = support.new_secret("pypiserver uploader")
        SESSION_SECRETS["pypiserver uploader"] = password
        server.add_user("uploader", password)
        yield server


@pytest.fixture
def fake_devops(index_server: IndexServer) -> Iterator[FakeAzureDevOps]:
    token = support.new_secret("job access token")
    with FakeAzureDevOps(
        token=token,
        index_url=index_server.url,
        index_credentials=("uploader", index_server.users["uploader"]),
    ) as fake:
        yield fake


@pytest.fixture
def fake_entra(fake_devops: FakeAzureDevOps) -> Iterator[FakeEntra]:
    """Entra, trusting the fake identity providers' key; its tokens open the fake's feeds."""
    entra = FakeEntra(fake_devops.signing_key, on_issue=fake_devops.accepted_tokens.add).start()
    try:
        yield entra
    finally:
        entra.stop()


@pytest.fixture
def azure_job(tmp_path: Path) -> AzureJobs:
    """Builds an Azure Pipelines agent job: ``azure_job(fake_devops)``, ``azure_job()``; see
    tests/support/azure.py for the options."""
    return AzureJobs(tmp_path)


@pytest.fixture
def package_name(request: pytest.FixtureRequest) -> str:
    """A package name unique to the test, so a read-back can only see this test's upload."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:10]
    return f"demo-{digest}"


@pytest.fixture
def distribution(tmp_path: Path, package_name: str) -> list[Path]:
    return support.build_distribution(tmp_path / "build", package_name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    fail_skips_for_missing_programs(report)
    redact_secrets(report)


def fail_skips_for_missing_programs(report: pytest.TestReport) -> None:
    """Under TWINE_AUTHENTICATE_STRICT_TESTS=1 a test skipped for a missing OS program fails:
    CI must run every test, not pass by skipping."""
    if report.skipped and strict() and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        if MISSING in reason:
            report.outcome = "failed"
            report.longrepr = f"{reason} ({STRICT_VARIABLE}=1 makes this a failure)"


def redact_secrets(report: pytest.TestReport) -> None:
    """A failure message shows no registered secret, in any form the leak check knows, even
    when an assertion message holds a program's raw output: each is replaced by ***."""
    if not report.failed:
        return
    forms = sorted(
        {
            form
            for secret in {**SESSION_SECRETS, **support.SECRETS}.values()
            for form in secret_forms(secret).values()
        },
        key=len,
        reverse=True,
    )

    def redact(text: str) -> str:
        for form in forms:
            text = text.replace(form, "***")
        return text

    text = str(report.longrepr)
    if redact(text) != text:
        report.longrepr = redact(text)
    report.sections = [(title, redact(content)) for title, content in report.sections]


__all__ = ["register_secret"]
