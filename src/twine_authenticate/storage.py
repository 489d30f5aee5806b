"""Where the ``.pypirc`` lives, and making sure credentials never stack or linger.

Each run writes ``<root>/<random>/.pypirc`` in a fresh 0700 directory that also holds a marker
file. The marker is how we know a file is ours: a file without it (a user's own ``~/.pypirc``
named by ``PYPIRC_PATH``, say) is never written over or deleted.

Paths are plain strings on ``os``: pathlib's import alone costs a noticeable part of a run.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from .errors import StorageError

MARKER_NAME = ".twine-authenticate"
FILE_NAME = ".pypirc"
ROOT_NAME = "twineAuthenticate"


def _temp_directory(env: Mapping[str, str]) -> str:
    if os.name != "posix":
        import tempfile

        return tempfile.gettempdir()
    # tempfile.gettempdir()'s own order on POSIX, without importing tempfile (and random).
    for variable in ("TMPDIR", "TEMP", "TMP"):
        if env.get(variable):
            return env[variable]
    return "/tmp"  # noqa: S108 - the per-user directory under it is checked before use


def storage_root(env: Mapping[str, str]) -> str:
    """Under the CI's per-job temp directory, else a per-user directory in the system temp."""
    for variable in ("AGENT_TEMPDIRECTORY", "RUNNER_TEMP"):
        if env.get(variable):
            return os.path.join(env[variable], ROOT_NAME)
    user = getattr(os, "getuid", lambda: "user")()
    return os.path.join(_temp_directory(env), f"{ROOT_NAME}-{user}")


def _ensure_private_directory(path: str) -> None:
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        pass
    except OSError as error:
        raise StorageError(f"cannot create {path}: {error.strerror}.") from None
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise StorageError(f"{path} exists but is not a directory (a symlink?); remove it.")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise StorageError(
            f"{path} belongs to another user; remove it or use another temp directory."
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)


def is_owned(pypirc: str) -> bool:
    """True for a ``.pypirc`` this tool wrote (its directory holds our marker)."""
    directory = os.path.dirname(pypirc)
    return (
        os.path.basename(pypirc) == FILE_NAME
        and not os.path.islink(directory)
        and os.path.isfile(os.path.join(directory, MARKER_NAME))
    )


def _remove_run_directory(directory: str) -> None:
    for entry in os.listdir(directory):
        os.unlink(os.path.join(directory, entry))
    os.rmdir(directory)


def erase_run(pypirc: str) -> None:
    """Remove one run's file and its directory, if this tool wrote them."""
    if is_owned(pypirc):
        try:
            _remove_run_directory(os.path.dirname(pypirc))
        except FileNotFoundError:
            pass
        except OSError as error:
            raise StorageError(
                f"cannot remove the credentials in {os.path.dirname(pypirc)}: {error.strerror}."
            ) from None


def erase_earlier_runs(root: str, pypirc_path: str | None) -> list[str]:
    """Remove every file this tool wrote for the job: those under ``root`` and the one
    ``PYPIRC_PATH`` names, if it is ours. Returns the files removed."""
    directories: list[str] = []
    if os.path.isdir(root) and not os.path.islink(root):
        directories += [
            os.path.join(root, entry)
            for entry in os.listdir(root)
            if os.path.isfile(os.path.join(root, entry, MARKER_NAME))
        ]
    if pypirc_path and is_owned(pypirc_path):
        directories.append(os.path.dirname(pypirc_path))
    removed: list[str] = []
    for directory in dict.fromkeys(os.path.realpath(path) for path in directories):
        if os.path.isdir(directory):
            try:
                _remove_run_directory(directory)
            except OSError as error:
                raise StorageError(
                    f"cannot remove earlier credentials in {directory}: {error.strerror}."
                ) from None
            removed.append(os.path.join(directory, FILE_NAME))
    return removed


def write_private_file(root: str, text: str) -> str:
    """Write ``text`` as ``<root>/<random>/.pypirc``: 0600 in a fresh 0700 directory, and
    atomically (written under another name, then renamed), so no reader sees half a file."""
    _ensure_private_directory(root)
    for _ in range(10):
        directory = os.path.join(root, os.urandom(6).hex())
        try:
            os.mkdir(directory, 0o700)
            break
        except FileExistsError:
            continue
        except OSError as error:
            raise StorageError(f"cannot create a directory in {root}: {error.strerror}.") from None
    else:  # pragma: no cover - 48 random bits colliding ten times
        raise StorageError(f"cannot create a private directory under {root}.")
    try:
        os.chmod(directory, 0o700)
        with open(os.path.join(directory, MARKER_NAME), "w", encoding="utf-8") as marker:
            marker.write("written by twine-authenticate\n")
        partial = os.path.join(directory, f"{FILE_NAME}.partial")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        target = os.path.join(directory, FILE_NAME)
        os.replace(partial, target)
    except OSError as error:
        _remove_run_directory(directory)
        raise StorageError(
            f"cannot write the credentials file in {directory}: {error.strerror}."
        ) from None
    return target
