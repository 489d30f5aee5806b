"""Where the ``.pypirc`` lives, and making sure credentials never stack or linger.

Each run writes ``<root>/<random>/.pypirc`` in a fresh 0700 directory that also holds a marker
file. The marker is how we know a file is ours: a file without it (a user's own ``~/.pypirc``
named by ``PYPIRC_PATH``, say) is never written over or deleted.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from .errors import StorageError

MARKER_NAME = ".twine-authenticate"
FILE_NAME = ".pypirc"
ROOT_NAME = "twineAuthenticate"


def storage_root(env: Mapping[str, str]) -> Path:
    """Under the CI's per-job temp directory, else a per-user directory in the system temp."""
    for variable in ("AGENT_TEMPDIRECTORY", "RUNNER_TEMP"):
        if env.get(variable):
            return Path(env[variable]) / ROOT_NAME
    import tempfile

    user = getattr(os, "getuid", lambda: "user")()
    return Path(tempfile.gettempdir()) / f"{ROOT_NAME}-{user}"


def _ensure_private_directory(path: Path) -> None:
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    except OSError as error:
        raise StorageError(f"cannot create {path}: {error.strerror}.") from None
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise StorageError(f"{path} exists but is not a directory (a symlink?); remove it.")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise StorageError(
            f"{path} belongs to another user; remove it or use another temp directory."
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)


def is_owned(pypirc: Path) -> bool:
    """True for a ``.pypirc`` this tool wrote (its directory holds our marker)."""
    try:
        return (
            pypirc.name == FILE_NAME
            and not pypirc.parent.is_symlink()
            and (pypirc.parent / MARKER_NAME).is_file()
        )
    except OSError:
        return False


def _remove_run_directory(directory: Path) -> None:
    for entry in directory.iterdir():
        entry.unlink()
    directory.rmdir()


def erase_earlier_runs(root: Path, pypirc_path: str | None) -> list[Path]:
    """Remove every file this tool wrote for the job: those under ``root`` and the one
    ``PYPIRC_PATH`` names, if it is ours. Returns the files removed."""
    directories: list[Path] = []
    if root.is_dir() and not root.is_symlink():
        directories += [entry for entry in root.iterdir() if (entry / MARKER_NAME).is_file()]
    if pypirc_path and is_owned(Path(pypirc_path)):
        directories.append(Path(pypirc_path).parent)
    removed: list[Path] = []
    for directory in dict.fromkeys(path.resolve() for path in directories):
        if directory.is_dir():
            try:
                _remove_run_directory(directory)
            except OSError as error:
                raise StorageError(
                    f"cannot remove earlier credentials in {directory}: {error.strerror}."
                ) from None
            removed.append(directory / FILE_NAME)
    return removed


def write_private_file(root: Path, text: str) -> Path:
    """Write ``text`` as ``<root>/<random>/.pypirc``: 0600 in a fresh 0700 directory, and
    atomically (written under another name, then renamed), so no reader sees half a file."""
    _ensure_private_directory(root)
    for _ in range(10):
        directory = root / os.urandom(6).hex()
        try:
            directory.mkdir(mode=0o700)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 48 random bits colliding ten times
        raise StorageError(f"cannot create a private directory under {root}.")
    try:
        os.chmod(directory, 0o700)
        (directory / MARKER_NAME).write_text("written by twine-authenticate\n", encoding="utf-8")
        partial = directory / f"{FILE_NAME}.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        target = directory / FILE_NAME
        os.replace(partial, target)
    except OSError as error:
        _remove_run_directory(directory)
        raise StorageError(
            f"cannot write the credentials file in {directory}: {error.strerror}."
        ) from None
    return target
