"""Running the tool and other programs as users do, recording everything they print for the
leak check (see conftest), and the secrets that check looks for."""

from __future__ import annotations

import os
import secrets as random_secrets
import subprocess
import sys
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
    # Failure messages show a Run's repr; what it printed can hold a secret (the leak check
    # decides where that is allowed), so it is left out.
    stdout: str = field(repr=False)
    stderr: str = field(repr=False)

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
