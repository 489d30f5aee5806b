"""Tiny real projects, built with pypa/build, for the clients to publish."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _build(project: Path, out: Path, *flags: str) -> None:
    # No isolation: offline-safe, the build backends are test dependencies.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--no-isolation",
            *flags,
            "-q",
            "-o",
            str(out),
            str(project),
        ],
        check=True,
        capture_output=True,
    )


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
    _build(project, project / "dist")
    return project


def build_distribution(directory: Path, name: str, version: str = "1.0") -> list[Path]:
    """Build a real wheel of a tiny project."""
    project = directory / f"{name}-src"
    module = name.replace("-", "_")
    (project / "src" / module).mkdir(parents=True)
    (project / "src" / module / "__init__.py").write_text(f"VERSION = {version!r}\n")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "test package"\n'
    )
    dist = directory / "dist"
    _build(project, dist, "--wheel")
    return sorted(dist.glob("*"))
