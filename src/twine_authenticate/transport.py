"""HTTP for the few calls a run makes, on the standard library's ``http.client``.

Why not requests or urllib3: importing either costs more start-up time than a whole run may
take, and we need only small JSON GET/OPTIONS calls. What we add is policy: a timeout on every
request, bounded retries with jittered back-off for transient failures, none for permanent
ones, and keep-alive per thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from ._records import TYPE_CHECKING, NamedTuple
from .errors import InputError, ServiceError
from .urls import parse_url

if TYPE_CHECKING:
    import http.client
    import ssl

TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


MAX_BODY = 1024 * 1024  # our answers are small JSON documents; --verify needs only the status


class Response(NamedTuple):
    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes
    truncated: bool = False  # the body was longer than MAX_BODY: only its start was read

    def json(self) -> object:
        """The body as JSON; ValueError for anything else, a cut or absurdly deep one too."""
        if self.truncated:
            raise ValueError("the body is larger than expected")
        import json

        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except RecursionError:
            raise ValueError("the JSON nests too deeply") from None


class ProxyRoute(NamedTuple):
    """Where to send a request instead of its host: a proxy and its ``Proxy-Authorization``."""

    host: str
    port: int
    authorization: str | None = None

    def __repr__(self) -> str:
        return f"ProxyRoute(host={self.host!r}, port={self.port})"


class RetryPolicy(NamedTuple):
    attempts: int = 4
    backoff: float = 0.1  # first back-off; doubled each time, with full jitter
    max_backoff: float = 2.0
    total: float = 15.0  # no run spends longer than this on one request, retries included


class Transport:
    """Sends requests with timeouts and retries; safe to use from several threads."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        ca_file: str | None = None,
        ca_source: str = "the CA bundle",
        proxy_for: Callable[[str], ProxyRoute | None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.ca_file = ca_file
        self.ca_source = ca_source
        self.proxy_for = proxy_for or (lambda url: None)
        self.sleep = sleep
        self.request_count = 0
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ssl_context: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._ssl_context is None:
                import ssl

                try:
                    self._ssl_context = ssl.create_default_context(cafile=self.ca_file)
                except (OSError, ssl.SSLError) as error:
                    reason = getattr(error, "strerror", None) or getattr(error, "reason", None)
                    raise InputError(
                        f"{self.ca_source} names {self.ca_file}, which could not be loaded as "
                        f"CA certificates ({reason or type(error).__name__}); point it at a PEM "
                        "file of your CA certificates, or unset it."
                    ) from None
            return self._ssl_context

    def _connection(self, url: str) -> tuple[http.client.HTTPConnection, str]:
        import http.client

        address = parse_url(url, "request URL")
        scheme, host, port, target = address.scheme, address.host, address.port, address.target
        route = self.proxy_for(url)
        key = (scheme, host, port, route)
        pool: dict[object, http.client.HTTPConnection] = self._local.__dict__.setdefault("pool", {})
        connection = pool.get(key)
        if connection is None:
            connect_host, connect_port = (route.host, route.port) if route else (host, port)
            if scheme == "https":
                connection = http.client.HTTPSConnection(
                    connect_host, connect_port, timeout=self.timeout, context=self._context()
                )
            else:
                connection = http.client.HTTPConnection(
                    connect_host, connect_port, timeout=self.timeout
                )
            if route is not None:
                # Like the agent's own client: a CONNECT tunnel for http and https alike.
                headers = (
                    {"Proxy-Authorization": route.authorization} if route.authorization else None
                )
                connection.set_tunnel(host, port, headers=headers)
            pool[key] = connection
        return connection, target

    def _drop(self, url: str) -> None:
        pool: dict[object, http.client.HTTPConnection] = self._local.__dict__.get("pool", {})
        address = parse_url(url, "request URL")
        scheme, host, port = address.scheme, address.host, address.port
        for key in [key for key in pool if key[:3] == (scheme, host, port)]:  # type: ignore[index]
            pool.pop(key).close()

    def _send_once(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> Response:
        """One request, within a total deadline: the socket timeout bounds each wait, and a
        timer cuts the connection when the whole exchange takes longer, so that a server that
        drips a byte a second cannot hold the run."""
        connection, target = self._connection(url)
        with self._lock:
            self.request_count += 1
        expired = threading.Event()

        def cut() -> None:
            expired.set()
            sock = connection.sock
            if sock is not None:
                import socket

                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(self.timeout, cut)
        timer.daemon = True
        timer.start()
        try:
            connection.request(method, target, body=body, headers=dict(headers))
            raw = connection.getresponse()
            body = raw.read(MAX_BODY + 1)
        except BaseException:
            self._drop(url)
            if expired.is_set():
                raise TimeoutError from None
            raise
        finally:
            timer.cancel()
        if expired.is_set():
            self._drop(url)
            raise TimeoutError
        truncated = len(body) > MAX_BODY
        if raw.will_close or truncated:
            self._drop(url)
        return Response(
            raw.status,
            raw.reason,
            {k.lower(): v for k, v in raw.getheaders()},
            body[:MAX_BODY],
            truncated,
        )

    def _where(self, url: str) -> str:
        """The URL, or the proxy it goes through: the one a connection error concerns."""
        route = self.proxy_for(url)
        return url if route is None else f"the proxy {route.host}:{route.port} (for {url})"

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        what: str,
        body: bytes | None = None,
    ) -> Response:
        """Send, retrying transient failures; ``what`` names the call in error messages."""
        import http.client
        import socket
        import ssl

        started = time.monotonic()
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            failure: str
            retry_after: float | None = None
            try:
                response = self._send_once(method, url, headers, body)
            except ssl.SSLError as error:
                # A certificate problem does not heal by retrying.
                raise ServiceError(
                    f"{what}: TLS failed for {url} ({error.reason or error}). If the server uses "
                    "a private CA, point Agent.CAInfo, SSL_CERT_FILE or REQUESTS_CA_BUNDLE at it."
                ) from None
            except TimeoutError:
                raise ServiceError(
                    f"{what}: no complete answer from {url} within {self.timeout:g} s; the "
                    "server is not responding, or too slowly. Check the URL and the network, or "
                    "give more time with --timeout, then run again."
                ) from None
            except http.client.HTTPException as error:
                # Not HTTP at all (a wrong port, a TLS port spoken to as http): no retry helps.
                raise ServiceError(
                    f"{what}: {url} did not answer in HTTP ({type(error).__name__}); check that "
                    "the URL, its scheme (http or https) and its port are right."
                ) from None
            except socket.gaierror as error:
                if error.errno != socket.EAI_AGAIN:  # EAI_AGAIN: the resolver failed, may pass
                    raise ServiceError(
                        f"{what}: the host of {self._where(url)} could not be found (DNS); check "
                        "the URL for typos, and that this machine can resolve the name."
                    ) from None
                failure = f"could not resolve the host of {self._where(url)} (DNS)"
            except ConnectionRefusedError:
                raise ServiceError(
                    f"{what}: nothing accepts connections at {self._where(url)} (connection "
                    "refused); check its host and port, and that the server is running."
                ) from None
            except OSError as error:
                answer = str(error).removeprefix("Tunnel connection failed: ")
                if answer.startswith(("407", "401")):
                    # 407 is the standard answer; some proxies (tinyproxy) send 401.
                    raise ServiceError(
                        f"{what}: the proxy refused its credentials ({answer}). Check "
                        "Agent.ProxyUsername and Agent.ProxyPassword, or the user and password "
                        "in HTTPS_PROXY."
                    ) from None
                failure = f"could not connect to {url} ({error.strerror or error})"
            else:
                if response.status not in TRANSIENT_STATUSES:
                    return response
                failure = f"{url} answered {response.status} {response.reason}"
                retry_after = _retry_after(response)
            elapsed = time.monotonic() - started
            import random

            delay = random.uniform(0, min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1)))  # noqa: S311
            if retry_after is not None:
                delay = retry_after
            if attempt == policy.attempts or elapsed + delay > policy.total:
                raise ServiceError(
                    f"{what}: {failure}, still after {attempt} attempt(s) in {elapsed:.1f} s. "
                    "This looks transient; run again later."
                )
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own back-off
