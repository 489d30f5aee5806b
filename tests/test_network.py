"""Behind a real authenticating proxy (proxy.py) and with a private CA (trustme)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme

from tests.fake_azure_devops import FakeAzureDevOps
from tests.fake_entra import FakeEntra
from tests.pipeline import AzureAgentJob
from tests.support import IndexServer, base_env, new_secret, register_secret, run_tool
from tests.support.auth_proxy import AuthProxy, running_proxy
from tests.support.azure import AzureJobs
from twine_authenticate.transport import RetryPolicy


@pytest.fixture(scope="module")
def proxy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthProxy]:
    # One proxy for the module: it takes a second to start and stop. With characters in its
    # password that a naive proxy URL or header would break on.
    password = new_secret("proxy password")
    with running_proxy(tmp_path_factory.mktemp("proxy"), "proxyuser", password) as server:
        yield server


@pytest.fixture
def proxy(proxy_server: AuthProxy) -> AuthProxy:
    """The proxy, with an empty request log and its password in this test's leak check."""
    register_secret("proxy password", proxy_server.password)
    proxy_server.forget_requests()
    return proxy_server


def agent_job(
    azure_job: AzureJobs, fake: FakeAzureDevOps, proxy: AuthProxy, **env: str
) -> AzureAgentJob:
    fake.add_feed("Feed")
    return azure_job(fake, env={**proxy.agent_env(), **env})


def tunnels_to(proxy: AuthProxy, fake: FakeAzureDevOps) -> list[str]:
    target = fake.base_url.removeprefix("http://")
    return [line for line in proxy.requests() if line == f"CONNECT {target}"]


def test_every_call_goes_through_the_agent_proxy(
    fake_devops: FakeAzureDevOps, proxy: AuthProxy, azure_job: AzureJobs
) -> None:
    job = agent_job(azure_job, fake_devops, proxy)
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert step.succeeded, step.issues("error")
    assert len(fake_devops.requests) == 4
    # Every call, through a tunnel of its own or one reused: the proxy let through tunnels
    # to the service and nothing else, and refused nothing.
    assert tunnels_to(proxy, fake_devops) and proxy.requests() == tunnels_to(proxy, fake_devops)
    assert proxy.refused() == []
    masked = [c.data for c in step.commands if c.name == "task.setsecret"]
    assert proxy.password in masked and quote(proxy.password, safe="") in masked


def test_bypass_list_sends_matching_urls_direct(
    fake_devops: FakeAzureDevOps, proxy: AuthProxy, azure_job: AzureJobs
) -> None:
    job = agent_job(
        azure_job, fake_devops, proxy, AGENT_PROXYBYPASSLIST='["127\\\\.0\\\\.0\\\\.1"]'
    )
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert step.succeeded, step.issues("error")
    assert len(fake_devops.requests) == 4
    assert proxy.requests() == [] and proxy.refused() == []


def test_wrong_proxy_password_fails_at_once(
    fake_devops: FakeAzureDevOps, proxy: AuthProxy, azure_job: AzureJobs
) -> None:
    job = agent_job(
        azure_job,
        fake_devops,
        proxy,
        SECRET_AGENT_PROXYPASSWORD=new_secret("wrong proxy password"),
    )
    started = time.monotonic()
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    elapsed = time.monotonic() - started
    assert not step.succeeded
    [error] = step.issues("error")
    # proxy.py answers 407, the standard answer (some proxies, tinyproxy, answer 401).
    assert "the proxy refused its credentials (407 Proxy Authentication Required)" in error
    assert "Agent.ProxyPassword" in error
    assert fake_devops.requests == [] and proxy.requests() == []
    # Not retried: each call the tool made was refused once, fewer times in all than one
    # call's retries would take. (The time is only a loose bound, well under the 10 s a
    # request may wait for an answer.)
    target = fake_devops.base_url.removeprefix("http://")
    assert proxy.refused() and set(proxy.refused()) == {f"CONNECT {target}"}
    assert len(proxy.refused()) < RetryPolicy().attempts, proxy.refused()
    assert elapsed < 10


def test_standard_proxy_variables_off_azure(
    fake_devops: FakeAzureDevOps, proxy: AuthProxy, tmp_path: Path
) -> None:
    fake_devops.add_feed("Feed")
    env = base_env(
        tmp_path,
        SYSTEM_ACCESSTOKEN=fake_devops.token,
        SYSTEM_SERVERTYPE="Hosted",
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=fake_devops.collection_url,
        HTTP_PROXY=proxy.url_with_credentials(),
    )
    through = run_tool(["--artifact-feed", "Feed"], env)
    assert through.returncode == 0, through.stderr
    assert tunnels_to(proxy, fake_devops)
    before = proxy.requests()
    direct = run_tool(["--artifact-feed", "Feed"], {**env, "NO_PROXY": "127.0.0.1"})
    assert direct.returncode == 0, direct.stderr
    assert proxy.requests() == before and proxy.refused() == []


def test_export_proxy_lets_twine_upload_through_it(
    fake_devops: FakeAzureDevOps,
    proxy: AuthProxy,
    index_server: IndexServer,
    distribution: list[Path],
    package_name: str,
    azure_job: AzureJobs,
) -> None:
    password = new_secret("index password behind proxy")
    index_server.add_user("proxied", password)
    job = agent_job(
        azure_job,
        fake_devops,
        proxy,
        TWINE_AUTHENTICATE_IDX_USERNAME="proxied",
        TWINE_AUTHENTICATE_IDX_PASSWORD=password,
    )
    auth = job.task_step(args=["--repository", f"idx={index_server.url}", "--export-proxy"])
    before = proxy.requests()
    upload = job.script_step(
        'twine upload --disable-progress-bar -r idx --config-file "$PYPIRC_PATH" dist/*',
        cwd=distribution[0].parent.parent,
    )

    assert auth.succeeded, auth.issues("error")
    assert job.variables["HTTP_PROXY"] == (
        f"http://proxyuser:{quote(proxy.password, safe='')}@127.0.0.1:{proxy.port}"
    )
    assert upload.succeeded, "\n".join(job.log[-10:])
    # twine's upload (a plain HTTP POST, sent to the proxy) is what the proxy carried next.
    assert proxy.requests()[len(before) :] == [f"POST {index_server.url}"]
    assert distribution[0].name in index_server.published(package_name, "proxied")
    assert all(proxy.password not in line for line in job.log)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.fixture
def tls_devops(
    private_ca: tuple[trustme.CA, Path], index_server: IndexServer
) -> Iterator[FakeAzureDevOps]:
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    private_ca[0].issue_cert("127.0.0.1").configure_cert(context)
    with FakeAzureDevOps(
        token=new_secret("tls job token"),
        index_url=index_server.url,
        index_credentials=("uploader", index_server.users["uploader"]),
        ssl_context=context,
    ) as fake:
        fake.add_feed("Feed")
        yield fake


def test_private_ca_fails_without_the_setting(
    tls_devops: FakeAzureDevOps, azure_job: AzureJobs
) -> None:
    job = azure_job(tls_devops)
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    [error] = step.issues("error")
    assert not step.succeeded and "TLS failed" in error and "Agent.CAInfo" in error


@pytest.mark.parametrize("variable", ["AGENT_CAINFO", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_private_ca_passes_with_the_setting(
    tls_devops: FakeAzureDevOps,
    private_ca: tuple[trustme.CA, Path],
    azure_job: AzureJobs,
    variable: str,
) -> None:
    job = azure_job(tls_devops, env={variable: str(private_ca[1])})
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert step.succeeded, step.issues("error")
    assert step.variables_set()["PYPIRC_PATH"]


def test_the_library_goes_through_the_agent_proxy_as_the_command_does(
    fake_devops: FakeAzureDevOps, proxy: AuthProxy, azure_job: AzureJobs
) -> None:
    """authenticate(options, os.environ) owns the network settings: the agent's proxy (and
    CA) apply to it exactly as to the command."""
    from twine_authenticate import Options, authenticate

    job = agent_job(azure_job, fake_devops, proxy)
    env = job.environment({"INPUT_ARTIFACTFEED": "Feed"})
    outcome = authenticate(Options(), env)
    assert [r.name for r in outcome.repositories] == ["Feed"]
    assert Path(outcome.path).is_file()
    library_tunnels = tunnels_to(proxy, fake_devops)
    assert library_tunnels and proxy.requests() == library_tunnels and proxy.refused() == []
    assert len(fake_devops.requests) == 4

    proxy.forget_requests()
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert step.succeeded, step.issues("error")
    assert proxy.requests() == library_tunnels  # the command: the same calls, the same way


def test_workload_identity_calls_go_through_the_agent_proxy(
    fake_devops: FakeAzureDevOps,
    fake_entra: FakeEntra,
    proxy: AuthProxy,
    azure_job: AzureJobs,
) -> None:
    """Upstream's OIDC and Entra calls ignore the agent's proxy (node-fetch); ours do not."""
    from tests.test_workload_identity import Federation

    fake_devops.add_feed("WifFeed")
    federation = Federation(fake_devops, fake_entra)
    job = azure_job(fake_devops, env=proxy.agent_env())
    auth = federation.step(job, fake_devops.upload_url("WifFeed"))
    assert auth.succeeded, auth.issues("error")
    entra_target = fake_entra.authority.removeprefix("http://").rstrip("/")
    assert f"CONNECT {entra_target}" in proxy.requests()
    assert tunnels_to(proxy, fake_devops)
    assert proxy.refused() == []
