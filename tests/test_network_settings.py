"""Proxy and CA settings as read from the environment (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import base_env, new_secret
from tests.support.in_process import invoke
from twine_authenticate import InputError
from twine_authenticate.network_settings import read_network_settings


@pytest.mark.parametrize("variable", ["AGENT_CAINFO", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_missing_ca_bundle_names_the_setting_to_fix(tmp_path: Path, variable: str) -> None:
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(InputError) as caught:
        read_network_settings({variable: str(missing)})
    assert f"{variable} names {missing}, which is not a file" in str(caught.value)


def test_a_missing_ca_bundle_fails_the_run_before_any_call(tmp_path: Path) -> None:
    env = base_env(
        tmp_path,
        SSL_CERT_FILE=str(tmp_path / "gone.pem"),
        TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("ca test"),
    )
    result = invoke(["--verify", "--repository", "idx=https://idx.example/"], env)
    assert result.returncode == 2
    assert "SSL_CERT_FILE names" in result.stderr and "point it at a PEM file" in result.stderr


@pytest.mark.parametrize(
    ("value", "host", "port"),
    [
        ("http://[::1]:3128", "::1", 3128),
        ("http://[::1]", "::1", 80),  # used to route to host ':'
        ("proxy.corp:8080", "proxy.corp", 8080),
    ],
)
def test_proxy_addresses_are_taken_apart_one_way(value: str, host: str, port: int) -> None:
    settings = read_network_settings({"HTTPS_PROXY": value})
    route = settings.route_for("https://pkgs.example/")
    assert route is not None and (route.host, route.port) == (host, port)


def test_a_proxy_password_with_an_unencoded_slash_is_kept_whole() -> None:
    settings = read_network_settings({"HTTPS_PROXY": "http://me:pa/ss@proxy.corp:3128"})
    assert settings.https_proxy is not None
    assert settings.https_proxy.password == "pa/ss"
    assert settings.route_for("https://x.example/") is not None


def test_a_proxy_port_that_is_not_a_number_is_an_input_error_not_a_crash() -> None:
    with pytest.raises(InputError) as caught:
        read_network_settings({"HTTPS_PROXY": "http://proxy.corp:80a"})
    assert "HTTPS_PROXY" in str(caught.value) and "not a number" in str(caught.value)


def test_proxy_credentials_are_read_and_written_percent_encoded() -> None:
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


def test_an_exported_proxy_stays_ours_across_runs(tmp_path: Path) -> None:
    """Run 1 exports the agent's proxy; in the next step it is in the environment, and a run
    with --export-proxy keeps it (set, recorded, not emptied); one without takes it away."""
    from tests.pipeline import parse_commands

    env = base_env(
        tmp_path,
        TF_BUILD="True",
        AGENT_TEMPDIRECTORY=str(tmp_path),
        AGENT_PROXYURL="http://proxy.corp:8080",
        TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("proxy runs"),
    )
    argv = ["--repository", "idx=https://idx.example/", "--export-proxy"]

    def variables(stdout: str) -> dict[str, str]:
        return {
            c.properties["variable"]: c.data
            for c in parse_commands(stdout)
            if c.name == "task.setvariable"
        }

    first = variables(invoke(argv, env).stdout)
    assert first["HTTPS_PROXY"] == "http://proxy.corp:8080"
    assert first["TWINE_AUTHENTICATE_EXPORTS"] == "HTTPS_PROXY HTTP_PROXY"
    later = {**env, **first}  # what the next step's environment holds
    second = variables(invoke(argv, later).stdout)
    assert second["HTTPS_PROXY"] == "http://proxy.corp:8080"
    assert second["TWINE_AUTHENTICATE_EXPORTS"] == "HTTPS_PROXY HTTP_PROXY"
    third = variables(invoke(argv[:2], {**later, **second}).stdout)
    assert third["HTTPS_PROXY"] == "" and third["HTTP_PROXY"] == ""  # ours: taken away
