"""Behind a real authenticating proxy (tinyproxy) and with a private CA (trustme)."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import trustme

from tests.fake_azure_devops import FakeAzureDevOps
from tests.pipeline import AzureAgentJob
from tests.support import (
    IndexServer,
    base_env,
    free_port,
    new_secret,
    register_secret,
    run_tool,
    running_server,
)
from tests.support.azure import AzureJobs


@dataclass
class Tinyproxy:
    port: int
    username: str
    password: str
    log: Path

    def connects(self) -> list[str]:
        """The CONNECT and forwarded requests it logged."""
        text = self.log.read_text() if self.log.exists() else ""
        return [
            line.split("): ", 1)[1]
            for line in text.splitlines()
            if "Request (file descriptor" in line
        ]


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[Tinyproxy]:
    binary = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    assert Path(binary).exists(), "tinyproxy is not installed: .ci/run installs it with apt-get"
    directory = tmp_path / "tinyproxy"
    directory.mkdir()
    directory.chmod(0o777)  # tinyproxy drops to nobody and must write its log here
    port = free_port()
    # tinyproxy's config grammar allows only [-a-z0-9._] in a BasicAuth password.
    password = register_secret("proxy password", secrets.token_hex(16))
    proxy = Tinyproxy(port, "proxyuser", password, directory / "log")
    (directory / "conf").write_text(
        f'Port {port}\nListen 127.0.0.1\nTimeout 20\nLogFile "{proxy.log}"\nLogLevel Connect\n'
        f"MaxClients 40\nBasicAuth {proxy.username} {proxy.password}\nDisableViaHeader Yes\n"
    )
    argv = [binary, "-d", "-c", str(directory / "conf")]
    with running_server("tinyproxy", argv, port=port, log=directory / "output"):
        yield proxy


def agent_job(
    azure_job: AzureJobs, fake: FakeAzureDevOps, proxy: Tinyproxy, **env: str
) -> AzureAgentJob:
    fake.add_feed("Feed")
    proxy_env = {
        "AGENT_PROXYURL": f"http://127.0.0.1:{proxy.port}",
        "AGENT_PROXYUSERNAME": proxy.username,
        "SECRET_AGENT_PROXYPASSWORD": proxy.password,
    }
    return azure_job(fake, env={**proxy_env, **env})


def test_every_call_goes_through_the_agent_proxy(
    fake_devops: FakeAzureDevOps, tinyproxy: Tinyproxy, azure_job: AzureJobs
) -> None:
    job = agent_job(azure_job, fake_devops, tinyproxy)
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert step.succeeded, step.issues("error")
    target = fake_devops.base_url.removeprefix("http://")
    tunnels = [line for line in tinyproxy.connects() if line.startswith(f"CONNECT {target} ")]
    assert tunnels, tinyproxy.connects()
    assert len(fake_devops.requests) == 4
    masked = [c.data for c in step.commands if c.name == "task.setsecret"]
    assert tinyproxy.password in masked and quote(tinyproxy.password, safe="") in masked


def test_bypass_list_sends_matching_urls_direct(
    fake_devops: FakeAzureDevOps, tinyproxy: Tinyproxy, azure_job: AzureJobs
) -> None:
    job = agent_job(
        azure_job, fake_devops, tinyproxy, AGENT_PROXYBYPASSLIST='["127\\\\.0\\\\.0\\\\.1"]'
    )
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert step.succeeded, step.issues("error")
    assert len(fake_devops.requests) == 4
    assert tinyproxy.connects() == []


def test_wrong_proxy_password_fails_at_once(
    fake_devops: FakeAzureDevOps, tinyproxy: Tinyproxy, azure_job: AzureJobs
) -> None:
    job = agent_job(
        azure_job,
        fake_devops,
        tinyproxy,
        SECRET_AGENT_PROXYPASSWORD=new_secret("wrong proxy password"),
    )
    started = time.monotonic()
    step = job.task_step(inputs={"artifactFeed": "Feed"})
    assert not step.succeeded
    assert "the proxy refused its credentials (401 Unauthorized)" in step.issues("error")[0]
    assert time.monotonic() - started < 3 and fake_devops.requests == []


def test_standard_proxy_variables_off_azure(
    fake_devops: FakeAzureDevOps, tinyproxy: Tinyproxy, tmp_path: Path
) -> None:
    fake_devops.add_feed("Feed")
    proxy_url = f"http://{tinyproxy.username}:{tinyproxy.password}@127.0.0.1:{tinyproxy.port}"
    env = base_env(
        tmp_path,
        SYSTEM_ACCESSTOKEN=fake_devops.token,
        SYSTEM_SERVERTYPE="Hosted",
        SYSTEM_TEAMFOUNDATIONCOLLECTIONURI=fake_devops.collection_url,
        HTTP_PROXY=proxy_url,
    )
    through = run_tool(["--artifact-feed", "Feed"], env)
    assert through.returncode == 0, through.stderr
    assert len(tinyproxy.connects()) >= 1
    before = len(tinyproxy.connects())
    direct = run_tool(["--artifact-feed", "Feed"], {**env, "NO_PROXY": "127.0.0.1"})
    assert direct.returncode == 0 and len(tinyproxy.connects()) == before


def test_export_proxy_lets_twine_upload_through_it(
    fake_devops: FakeAzureDevOps,
    tinyproxy: Tinyproxy,
    index_server: IndexServer,
    distribution: list[Path],
    azure_job: AzureJobs,
) -> None:
    password = new_secret("index password behind proxy")
    index_server.add_user("proxied", password)
    job = agent_job(
        azure_job,
        fake_devops,
        tinyproxy,
        TWINE_AUTHENTICATE_IDX_USERNAME="proxied",
        TWINE_AUTHENTICATE_IDX_PASSWORD=password,
    )
    auth = job.task_step(args=["--repository", f"idx={index_server.url}", "--export-proxy"])
    upload = job.script_step(
        'twine upload --disable-progress-bar -r idx --config-file "$PYPIRC_PATH" dist/*',
        cwd=distribution[0].parent.parent,
    )

    assert auth.succeeded, auth.issues("error")
    assert job.variables["HTTP_PROXY"] == (
        f"http://proxyuser:{quote(tinyproxy.password, safe='')}@127.0.0.1:{tinyproxy.port}"
    )
    assert upload.succeeded, "\n".join(job.log[-10:])
    assert any(line.startswith(f"POST {index_server.url}") for line in tinyproxy.connects())
    assert all(tinyproxy.password not in line for line in job.log)


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


def test_proxy_credentials_are_read_and_written_percent_encoded() -> None:
    from twine_authenticate.network import read_network_settings

    settings = read_network_settings(
        {"HTTPS_PROXY": "http://us%40er:p%40ss%3Aw%2Fd@proxy.example:3128"}
    )
    assert settings.https_proxy is not None
    assert (settings.https_proxy.username, settings.https_proxy.password) == ("us@er", "p@ss:w/d")
    assert settings.proxy_variables() == {
        "HTTPS_PROXY": "http://us%40er:p%40ss%3Aw%2Fd@proxy.example:3128"
    }
    assert settings.secrets() == ["p@ss:w/d", "p%40ss%3Aw%2Fd"]
    assert settings.route_for("http://plain.example/") is None  # no HTTP_PROXY was given


def test_bypass_list_becomes_no_proxy_where_it_can() -> None:
    from twine_authenticate.network import read_network_settings

    settings = read_network_settings(
        {
            "AGENT_PROXYURL": "http://proxy:8888",
            "AGENT_PROXYBYPASSLIST": '["github\\\\.com", "^internal\\\\.corp$", "(a|b)\\\\.x"]',
        }
    )
    assert settings.no_proxy == "github.com,internal.corp"
    assert len(settings.warnings) == 1 and "(a|b)" in settings.warnings[0]
    assert settings.route_for("https://api.github.com/x") is None
    assert settings.route_for("https://pkgs.dev.azure.com/") is not None
