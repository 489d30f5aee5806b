"""Servers the tests start as programs of their own (pypiserver, the proxy): start one, wait
until it listens, and stop it with a bounded wait, whatever happened in between."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Generous: a server's start-up on a loaded two-core machine can take seconds.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int,
    timeout: float = START_TIMEOUT,
    *,
    process: subprocess.Popen[bytes] | None = None,
    name: str = "",
) -> None:
    """Return once something accepts connections on 127.0.0.1:port. With ``process``, fail
    at once if it exits first instead of waiting out the timeout."""
    what = name or "the server"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with code {process.returncode} before listening on {port}"
            )
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s ({what})")


@dataclass
class ServerProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM to the server and the processes it started (it leads a process group of
        its own), then SIGKILL if it has not exited within ``timeout`` seconds."""
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=timeout)

    def _signal_group(self, signum: int) -> None:
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass  # the whole group is gone already


@contextmanager
def running_server(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    log: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[ServerProcess]:
    """Start ``argv`` (its output goes to ``log``), wait until it listens on ``port``, and
    stop it on the way out. Failure messages name the log file, never its content: a server
    may log what a test sent it."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # a process group to stop, children included
        )
    server = ServerProcess(name, port, process, log)
    try:
        try:
            wait_for_port(port, process=process, name=name)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{error}; its output is in {log}") from None
        yield server
    finally:
        server.stop()
