"""A real HTTP proxy that requires Basic authentication: proxy.py, from PyPI.

proxy.py's own access log is written when a connection closes, which may be after the client
has exited; a test that asserts a call did *not* go through the proxy could then read the log
too early. So the proxy runs with its own authentication plugin wrapped to record each request
the moment it is decided (``CONNECT host:port``, ``POST http://host:port/path``, or the same
prefixed with ``refused`` when the credentials were wrong): by the time the client has its
answer, the line is in the file. Run as a program, this module is that proxy; the password
comes through the environment, so it is in no command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from proxy.http.exception import ProxyAuthenticationFailed
from proxy.http.parser import HttpParser
from proxy.http.proxy.auth import AuthPlugin

from tests.support.servers import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
_AUTH = "TEST_PROXY_BASIC_AUTH"
_REQUEST_LOG = "TEST_PROXY_REQUEST_LOG"


class RecordingAuth(AuthPlugin):
    """proxy.py's Basic authentication, recording every request it lets through or refuses."""

    def before_upstream_connection(self, request: HttpParser) -> HttpParser | None:
        method = (request.method or b"?").decode()
        host = (request.host or b"?").decode()
        target = f"{host}:{request.port}"
        if method != "CONNECT":
            target = f"http://{target}{(request.path or b'').decode()}"
        try:
            passed = super().before_upstream_connection(request)
        except ProxyAuthenticationFailed:
            _record(f"refused {method} {target}")
            raise
        _record(f"{method} {target}")
        return passed


def _record(line: str) -> None:
    # One write per line with O_APPEND: lines from concurrent workers do not interleave.
    fd = os.open(os.environ[_REQUEST_LOG], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


@dataclass
class AuthProxy:
    port: int
    username: str
    password: str = field(repr=False)
    request_log: Path

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with_credentials(self) -> str:
        user, password = quote(self.username, safe=""), quote(self.password, safe="")
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def agent_env(self) -> dict[str, str]:
        """The variables the Azure Pipelines agent sets for its proxy settings."""
        return {
            "AGENT_PROXYURL": self.address,
            "AGENT_PROXYUSERNAME": self.username,
            "SECRET_AGENT_PROXYPASSWORD": self.password,
        }

    def forget_requests(self) -> None:
        self.request_log.write_text("")

    def _lines(self) -> list[str]:
        if not self.request_log.exists():
            return []
        return self.request_log.read_text().splitlines()

    def requests(self) -> list[str]:
        """The requests it let through, in order: ``CONNECT host:port`` for a tunnel,
        ``METHOD http://host:port/path`` for a plain HTTP request."""
        return [line for line in self._lines() if not line.startswith("refused ")]

    def refused(self) -> list[str]:
        """The requests it refused for wrong or missing credentials."""
        return [
            line.removeprefix("refused ") for line in self._lines() if line.startswith("refused ")
        ]


@contextmanager
def running_proxy(directory: Path, username: str, password: str) -> Iterator[AuthProxy]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proxy = AuthProxy(port, username, password, directory / "requests")
    argv = [
        sys.executable,
        "-m",
        "tests.support.auth_proxy",
        "--hostname",
        "127.0.0.1",
        "--port",
        str(port),
        # One acceptor and one worker process: enough for a test, and quick to start.
        "--num-acceptors",
        "1",
        "--num-workers",
        "1",
        "--log-level",
        "WARNING",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        _AUTH: f"{username}:{password}",
        _REQUEST_LOG: str(proxy.request_log),
    }
    with running_server("proxy.py", argv, port=port, log=directory / "log", env=env, cwd=ROOT):
        yield proxy


def main() -> None:
    import proxy

    proxy.main(basic_auth=os.environ.pop(_AUTH), auth_plugin=RecordingAuth)


if __name__ == "__main__":
    main()
