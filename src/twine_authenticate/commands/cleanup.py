"""``twine-authenticate cleanup``: remove the credentials this tool wrote for the job."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._records import NamedTuple
from ..clients import EXPORTS_VARIABLE, earlier_exports
from ..storage import erase_job_runs, erase_run, run_named_by, storage_root


class Cleaned(NamedTuple):
    removed: tuple[str, ...]  # the .pypirc files removed, each with its directory
    foreign: str | None  # a PYPIRC_PATH this tool did not write, left untouched
    cleared: tuple[str, ...]  # the client variables the run exported, to take away


def cleanup(env: Mapping[str, str]) -> Cleaned:
    """The run the environment names; without one (GitLab's after_script runs in a new
    shell), every run of this CI job (CI_JOB_ID). Never anything of another shell or job."""
    root = storage_root(env)
    named = run_named_by(env, root)
    removed: list[str] = []
    if named is not None:
        if erase_run(root, named.id):
            removed.append(named.pypirc)
    elif env.get("CI_JOB_ID"):
        removed += erase_job_runs(root, env["CI_JOB_ID"])
    path = env.get("PYPIRC_PATH")
    foreign = path if path and named is None and os.path.exists(path) else None
    cleared = earlier_exports(env)
    # The record goes with what it lists, so that a second cleanup has nothing to take away.
    record = [EXPORTS_VARIABLE] if env.get(EXPORTS_VARIABLE) else []
    return Cleaned(tuple(removed), foreign, tuple(cleared + record))
