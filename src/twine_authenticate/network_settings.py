"""Proxy and certificate settings, from the Azure agent or the usual environment variables.

On Azure the agent's proxy (``Agent.ProxyUrl`` and friends) wins, with its bypass list of
regular expressions matched case-insensitively against the whole request URL, as the task
library does. Elsewhere ``HTTPS_PROXY``/``HTTP_PROXY`` with ``NO_PROXY``, as most clients read them.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from urllib.parse import quote

from ._records import NamedTuple
from .azure.agent import get_variable
from .errors import InputError
from .transport import ProxyRoute
from .urls import Url, parse_proxy_url, parse_url

CA_VARIABLES = ("AGENT_CAINFO", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


class Proxy(NamedTuple):
    """One proxy server and optional credentials."""

    address: Url
    source: str
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return f"Proxy(url={self.url!r}, source={self.source!r}, username={self.username!r})"

    @property
    def url(self) -> str:
        return self.address.origin

    def route(self) -> ProxyRoute:
        host, port = self.address.host, self.address.port
        authorization = None
        if self.username is not None:
            pair = f"{self.username}:{self.password or ''}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        return ProxyRoute(host, port, authorization)

    def url_with_credentials(self) -> str:
        """The proxy URL as other clients read it: credentials percent-encoded in the URL."""
        if self.username is None:
            return self.url
        userinfo = quote(self.username, safe="")
        if self.password:
            userinfo += ":" + quote(self.password, safe="")
        return f"{self.address.scheme}://{userinfo}@{self.url.partition('://')[2]}"


class NetworkSettings(NamedTuple):
    https_proxy: Proxy | None = None
    http_proxy: Proxy | None = None
    bypass: Callable[[str], bool] = lambda url: False
    no_proxy: str = ""
    ca_file: str | None = None
    ca_source: str = "the CA bundle"  # the variable that named ca_file, for messages
    warnings: tuple[str, ...] = ()

    def route_for(self, url: str) -> ProxyRoute | None:
        proxy = self.https_proxy if url.lower().startswith("https:") else self.http_proxy
        if proxy is None or self.bypass(url):
            return None
        return proxy.route()

    def secrets(self) -> list[str]:
        values: list[str] = []
        for proxy in (self.https_proxy, self.http_proxy):
            if proxy and proxy.password:
                # Both as typed and as it appears inside a proxy URL.
                values += [proxy.password, quote(proxy.password, safe="")]
        return values

    def proxy_variables(self) -> dict[str, str]:
        """``HTTPS_PROXY``, ``HTTP_PROXY`` and ``NO_PROXY`` for the job's later steps."""
        variables = {}
        if self.https_proxy:
            variables["HTTPS_PROXY"] = self.https_proxy.url_with_credentials()
        if self.http_proxy:
            variables["HTTP_PROXY"] = self.http_proxy.url_with_credentials()
        if variables and self.no_proxy:
            variables["NO_PROXY"] = self.no_proxy
        return variables


def _proxy_from_url(value: str, source: str) -> Proxy:
    address, username, password = parse_proxy_url(value, source)
    return Proxy(address, source, username, password or None)


def _agent_bypass(env: Mapping[str, str]) -> tuple[Callable[[str], bool], str, list[str]]:
    raw = get_variable(env, "Agent.ProxyBypassList")
    if not raw:
        return (lambda url: False), "", []
    import json
    import re

    try:
        patterns = json.loads(raw)
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise ValueError
        compiled = [re.compile(pattern, re.IGNORECASE) for pattern in patterns]
    except (ValueError, re.error, RecursionError):
        raise InputError(
            "Agent.ProxyBypassList (AGENT_PROXYBYPASSLIST) is not a JSON array of "
            "regular expressions; fix the agent's .proxybypass file."
        ) from None

    # NO_PROXY for other clients takes host names, not regular expressions: translate the
    # simple ones (escaped dots, anchors) and say which could not be.
    hosts, untranslated = [], []
    for pattern in patterns:
        host = pattern.removeprefix("^").removesuffix("$").removeprefix(".*").replace("\\.", ".")
        if host and not re.search(r"[\\*+?()\[\]{}|^$]", host):
            hosts.append(host)
        else:
            untranslated.append(pattern)
    warnings = [
        f"Agent.ProxyBypassList entry {p!r} has no NO_PROXY equivalent; other clients "
        "will send those hosts through the proxy."
        for p in untranslated
    ]
    return (lambda url: any(p.search(url) for p in compiled)), ",".join(hosts), warnings


def read_network_settings(env: Mapping[str, str]) -> NetworkSettings:
    ca_source = next((name for name in CA_VARIABLES if env.get(name)), None)
    ca_file = env[ca_source] if ca_source else None
    if ca_source and not os.path.isfile(env[ca_source]):
        raise InputError(
            f"{ca_source} names {env[ca_source]}, which is not a file; point it at a PEM file "
            "of your CA certificates, or unset it."
        )
    source = ca_source or "the CA bundle"
    agent_proxy = get_variable(env, "Agent.ProxyUrl")
    if agent_proxy:
        proxy = _proxy_from_url(agent_proxy, "Agent.ProxyUrl")
        username = get_variable(env, "Agent.ProxyUsername")
        if username:
            proxy = proxy._replace(
                username=username, password=get_variable(env, "Agent.ProxyPassword")
            )
        bypass, no_proxy, warnings = _agent_bypass(env)
        return NetworkSettings(proxy, proxy, bypass, no_proxy, ca_file, source, tuple(warnings))

    https_value = env.get("HTTPS_PROXY") or env.get("https_proxy")
    http_value = env.get("HTTP_PROXY") or env.get("http_proxy")
    if not (https_value or http_value):
        return NetworkSettings(ca_file=ca_file, ca_source=source)
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    return NetworkSettings(
        _proxy_from_url(https_value, "HTTPS_PROXY") if https_value else None,
        _proxy_from_url(http_value, "HTTP_PROXY") if http_value else None,
        _no_proxy_matcher(no_proxy),
        no_proxy,
        ca_file,
        source,
    )


def _no_proxy_matcher(no_proxy: str) -> Callable[[str], bool]:
    if not no_proxy:
        return lambda url: False

    def bypass(url: str) -> bool:
        # The standard library's reading of NO_PROXY: host suffixes, optional ports, "*".
        from urllib.request import proxy_bypass_environment  # type: ignore[attr-defined]

        address = parse_url(url, "a request URL")
        host = address.host if address.is_default_port else address.authority
        return bool(proxy_bypass_environment(host, {"no": no_proxy}))

    return bypass
