"""Shared test support: running the tool as users do, recording everything it prints."""

from __future__ import annotations

import os
import secrets as random_secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests.leaks import Recorded

VENV_BIN = str(Path(sys.executable).parent)
TOOL = [sys.executable, "-m", "twine_authenticate"]

# What every test run of the tool records, for the leak check (see conftest).
RECORDED: list[Recorded] = []
SECRETS: dict[str, str] = {}


def register_secret(label: str, value: str) -> str:
    SECRETS[label] = value
    return value


def new_secret(label: str, alphabet: str = "") -> str:
    """A random secret with characters that break naive quoting, registered for the check."""
    value = random_secrets.token_urlsafe(18) + (alphabet or "%;]$'\"\\ `!&|")
    # Whitespace at the ends cannot live in a .pypirc; keep the awkward ones inside.
    return register_secret(label, "S" + value + "E")


def base_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment, like a CI step gets: no inherited credentials or PYPIRC_PATH."""
    env = {
        "PATH": VENV_BIN + os.pathsep + "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp / "home"),
        "TMPDIR": str(tmp / "tmp"),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        # Keep twine away from any desktop keyring and from prompting.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "TWINE_NON_INTERACTIVE": "1",
    }
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    env.update(extra)
    return env


@dataclass
class Run:
    argv: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    label: str = "",
    cwd: Path | None = None,
    timeout: float = 120,
    allow_stdout_line: object = None,
    record: bool = True,
) -> Run:
    """Run a command, record stdout and stderr for the leak check, and return them."""
    completed = subprocess.run(
        list(argv),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    name = label or " ".join(argv[:4])
    allow = allow_stdout_line if callable(allow_stdout_line) else (lambda line: False)
    if record:
        RECORDED.append(Recorded(f"{name} stdout", completed.stdout, allow))
        RECORDED.append(Recorded(f"{name} stderr", completed.stderr))
    return Run(argv, completed.returncode, completed.stdout, completed.stderr)


def run_tool(args: Sequence[str], env: Mapping[str, str], **options: object) -> Run:
    return run([*TOOL, *args], env, label="twine-authenticate " + " ".join(args[:3]), **options)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class IndexServer:
    """A real pypiserver with an htpasswd file."""

    url: str
    packages: Path
    htpasswd: Path
    users: dict[str, str] = field(default_factory=dict)

    def add_user(self, username: str, password: str) -> None:
        from passlib.apache import HtpasswdFile

        htpasswd = HtpasswdFile(str(self.htpasswd))
        htpasswd.set_password(username, password)
        htpasswd.save()
        self.users[username] = password
        # pypiserver re-reads the file when it changes; give the mtime a tick to differ.
        time.sleep(0.01)

    def get(self, path: str, username: str, password: str) -> tuple[int, bytes]:
        import base64
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.url.rstrip("/") + path)
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def make_flit_project(directory: Path, name: str, version: str = "1.0") -> Path:
    """A tiny project every client can publish: flit builds it itself, and poetry and pdm
    read its name and version from [project]."""
    module = name.replace("-", "_")
    project = directory / name
    (project / module).mkdir(parents=True)
    (project / module / "__init__.py").write_text(
        f'"""A test package."""\n__version__ = "{version}"\n'
    )
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["flit_core>=3.4"]\nbuild-backend = "flit_core.buildapi"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "test package"\n'
        'requires-python = ">=3.10"\n'
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "-q",
            "-o",
            str(project / "dist"),
            str(project),
        ],
        check=True,
        capture_output=True,
    )
    return project


def build_distribution(directory: Path, name: str, version: str = "1.0") -> list[Path]:
    """Build a real wheel of a tiny project with pypa/build (no isolation: offline-safe)."""
    project = directory / f"{name}-src"
    module = name.replace("-", "_")
    (project / "src" / module).mkdir(parents=True)
    (project / "src" / module / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "test package"\n'
    )
    dist = directory / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            "--wheel",
            "-q",
            "-o",
            str(dist),
            str(project),
        ],
        check=True,
        capture_output=True,
    )
    return sorted(dist.glob("*"))
