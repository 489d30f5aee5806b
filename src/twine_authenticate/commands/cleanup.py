"""``twine-authenticate cleanup``: remove the credentials this tool wrote for the job."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from ..storage import erase_earlier_runs, is_owned, storage_root


class Cleaned(NamedTuple):
    removed: tuple[str, ...]  # the .pypirc files removed, each with its directory
    foreign: str | None  # a PYPIRC_PATH this tool did not write, left untouched


def cleanup(env: Mapping[str, str]) -> Cleaned:
    earlier = env.get("PYPIRC_PATH")
    removed = erase_earlier_runs(storage_root(env), earlier)
    foreign = earlier if earlier and not is_owned(earlier) and os.path.exists(earlier) else None
    return Cleaned(tuple(removed), foreign)
