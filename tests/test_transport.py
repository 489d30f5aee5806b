"""Timeouts and retries against a real local HTTP server: transient failures retried with
a bounded total, permanent ones at once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support import free_port
from twine_authenticate import InputError, ServiceError
from twine_authenticate.transport import RetryPolicy, Transport


class Script:
    def __init__(self) -> None:
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.hang = 0.0
        self.hits = 0
        self.body = b"{}"


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            script.hits += 1
            if script.hang:
                time.sleep(script.hang)
            status, headers = script.answers.pop(0) if script.answers else (200, {})
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(script.body)))
            self.end_headers()
            try:
                self.wfile.write(script.body)
            except OSError:
                pass  # the client stopped reading (a cut answer)

    class Server(ThreadingHTTPServer):
        request_queue_size = 64  # the default 5 refuses connections under load
        daemon_threads = True

    httpd = Server(("127.0.0.1", 0), Handler)
    # A short poll, so that stopping the server does not cost every test half a second.
    threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/x", script
    httpd.shutdown()
    httpd.server_close()


def test_503_once_then_ok(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {})]
    response = Transport().send("GET", url, {}, what="test")
    assert response.status == 200 and script.hits == 2


def test_503_forever_fails_within_the_bound(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(503, {})] * 50
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"answered 503 .* after 4 attempt"):
        Transport(retry=RetryPolicy(attempts=4, backoff=0.1)).send("GET", url, {}, what="test")
    assert time.monotonic() - started < 2.0 and script.hits == 4


def test_429_honours_retry_after(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, {"Retry-After": "0.3"})]
    slept: list[float] = []
    transport = Transport(sleep=lambda seconds: slept.append(seconds))
    assert transport.send("GET", url, {}, what="test").status == 200
    assert slept == [0.3]


@pytest.mark.parametrize("status", [401, 403, 404, 400])
def test_permanent_errors_are_not_retried(server: tuple[str, Script], status: int) -> None:
    url, script = server
    script.answers = [(status, {})]
    assert Transport().send("GET", url, {}, what="test").status == status
    assert script.hits == 1


def test_hung_server_fails_within_its_timeout(server: tuple[str, Script]) -> None:
    url, script = server
    script.hang = 5
    started = time.monotonic()
    with pytest.raises(ServiceError, match=r"no complete answer .* within 0.5 s"):
        Transport(timeout=0.5).send("GET", url, {}, what="test")
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_reported_at_once_with_what_to_check() -> None:
    """A URL the user typed with the wrong port: retrying, or calling it transient, would only
    waste their time."""
    port = free_port()  # nothing listens here
    transport = Transport(retry=RetryPolicy(attempts=3, backoff=0.5))
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        transport.send("GET", f"http://127.0.0.1:{port}/", {}, what="checking idx")
    assert time.monotonic() - started < 0.4
    message = str(caught.value)
    assert f"nothing accepts connections at http://127.0.0.1:{port}/" in message
    assert "check its host and port" in message
    assert "transient" not in message and "run again later" not in message


def test_an_unknown_host_is_reported_at_once_as_a_dns_failure() -> None:
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        Transport(retry=RetryPolicy(attempts=3, backoff=0.5)).send(
            "GET", "https://no-such-index.invalid/simple/", {}, what="checking idx"
        )
    assert time.monotonic() - started < 5  # one resolver answer, no retries
    message = str(caught.value)
    assert "could not be found (DNS)" in message and "check the URL" in message
    assert "transient" not in message


def test_an_answer_that_is_not_http_is_a_clear_error_not_a_traceback() -> None:
    """A server that answers garbage (a wrong port, another protocol)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        port = sock.getsockname()[1]

        def answer_garbage() -> None:
            for _ in range(4):
                try:
                    connection, _ = sock.accept()
                except OSError:
                    return
                with connection:
                    connection.recv(4096)
                    connection.sendall(b"\x00\x17garbage, not HTTP\r\n\r\n")

        threading.Thread(target=answer_garbage, daemon=True).start()
        with pytest.raises(ServiceError) as caught:
            Transport(timeout=2).send("GET", f"http://127.0.0.1:{port}/", {}, what="checking idx")
    message = str(caught.value)
    assert f"http://127.0.0.1:{port}/ did not answer in HTTP" in message
    assert "its scheme (http or https) and its port" in message


def test_a_ca_bundle_that_cannot_be_loaded_names_its_setting(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    transport = Transport(ca_file=str(bundle), ca_source="AGENT_CAINFO")
    with pytest.raises(InputError) as caught:
        transport.send("GET", "https://127.0.0.1:9/", {}, what="checking idx")
    assert f"AGENT_CAINFO names {bundle}, which could not be loaded" in str(caught.value)


def test_a_listener_that_never_answers_is_bounded() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(ServiceError, match="no complete answer"):
            Transport(timeout=0.4).send("GET", f"http://127.0.0.1:{port}/", {}, what="test")
        assert time.monotonic() - started < 1.5


def test_a_server_that_drips_bytes_fails_at_the_timeout() -> None:
    """Each byte arrives well within the socket timeout, so only a total deadline ends it."""
    stop = threading.Event()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]

        def drip() -> None:
            connection, _ = sock.accept()
            with connection:
                connection.recv(4096)
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
                    if stop.wait(0.05):
                        return
                    try:
                        connection.sendall(bytes([byte]))
                    except OSError:
                        return

        thread = threading.Thread(target=drip, daemon=True)
        thread.start()
        started = time.monotonic()
        with pytest.raises(ServiceError) as caught:
            Transport(timeout=0.6).send("GET", f"http://127.0.0.1:{port}/", {}, what="test")
        elapsed = time.monotonic() - started
        stop.set()
        thread.join(5)
    assert elapsed < 3, elapsed  # one deadline, not a socket timeout per byte
    assert "no complete answer" in str(caught.value) and "within 0.6 s" in str(caught.value)


def test_a_huge_answer_is_cut_and_never_taken_for_json(server: tuple[str, Script]) -> None:
    from twine_authenticate.transport import MAX_BODY

    url, script = server
    script.answers.append((200, {}))
    script.body = b"[" * (MAX_BODY + 10)
    response = Transport().send("GET", url, {}, what="test")
    assert response.truncated and len(response.body) == MAX_BODY
    with pytest.raises(ValueError):
        response.json()


def test_absurdly_deep_json_is_a_value_error_not_a_crash() -> None:
    from twine_authenticate.transport import Response

    with pytest.raises(ValueError, match="nests too deeply"):
        Response(200, "OK", {}, b"[" * 100_000 + b"]" * 100_000).json()
