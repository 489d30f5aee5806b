"""Start-up is most of a run's time in a pipeline: the common path (a repository with its
password, any channel) loads nothing it does not use. Each module named here was once on
that path and cost a measurable part of a bare interpreter's start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import base_env, new_secret

HEAVY = (
    "typing",  # NamedTuple and Protocol come from _records at run time
    "id",  # keyless publishing only
    "urllib3",
    "json",  # an agent's endpoint JSON only
    "threading",  # a run with network calls only
    "http.client",
    "ssl",
    "tomllib",  # a pyproject.toml that mentions the tool only
    "pathlib",
    "tempfile",
    "shutil",  # argparse's default help formatter pulls it (and bz2, lzma) in
    "dataclasses",
    "contextlib",
)
PROBE = """
import sys
before = set(sys.modules)
from twine_authenticate.cli import main
code = main(sys.argv[1:])
sys.stdout.flush()
heavy = [m for m in {heavy!r} if m in sys.modules and m not in before]
print("LOADED " + " ".join(heavy), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("ci", ["shell", "github", "azure"])
def test_the_common_path_loads_nothing_heavy(tmp_path: Path, ci: str) -> None:
    env = base_env(
        tmp_path,
        TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("startup"),
        GITHUB_ENV=str(tmp_path / "github_env"),
        RUNNER_TEMP=str(tmp_path),
        AGENT_TEMPDIRECTORY=str(tmp_path),
    )
    probe = PROBE.format(heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", probe, "--ci", ci, "--repository", "idx=https://idx.example/"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = result.stderr.rpartition("LOADED")[2].split()
    assert loaded == [], f"loaded on the common path: {loaded}"


def test_the_probe_can_fail(tmp_path: Path) -> None:
    """With a heavy module imported on the way, the probe names it."""
    env = base_env(tmp_path, TWINE_AUTHENTICATE_IDX_PASSWORD=new_secret("startup probe"))
    probe = "import tempfile\n" + PROBE.format(heavy=("tempfile",)).replace(
        "before = set(sys.modules)", "before = set(sys.modules) - {'tempfile'}"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--repository", "idx=https://idx.example/"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stderr.rpartition("LOADED")[2].split() == ["tempfile"]
