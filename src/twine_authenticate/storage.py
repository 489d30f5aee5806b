"""Where the ``.pypirc`` lives, and proving what is ours before anything is removed.

Each run writes ``<root>/<run id>/.pypirc``: a fresh 0700 directory named by a random run id,
holding the file (0600, written atomically) and a marker that carries the same id and the CI
job it belongs to. The run exports the id (``TWINE_AUTHENTICATE_RUN``) beside ``PYPIRC_PATH``.

What may be removed, and how, is narrow on purpose:

- The root must be a real directory (never a symlink) owned by this user and writable by no
  one else; otherwise nothing in it is read or removed. In a shared temp directory another user
  could otherwise plant the root and have our run delete through it.
- A run directory is ours only when it sits directly in that root, is named by a run id, is
  owned by us, and its marker (opened without following links) names the same id. Then exactly
  the files a run creates are unlinked by name, through directory descriptors that never follow
  a link, and the directory is removed if empty: never a directory walk.
- A run erases only the earlier run its own environment names. Outside a CI's per-job temp
  directory, several shells or jobs share a root, and none may touch another's files.
  ``cleanup`` also finds the runs of its CI job by ``CI_JOB_ID`` (GitLab's ``after_script``
  runs in a new shell that has none of the job's variables).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping

from ._records import NamedTuple
from .errors import StorageError

MARKER_NAME = ".twine-authenticate"
FILE_NAME = ".pypirc"
PARTIAL_NAME = ".pypirc.partial"
RUN_FILES = (FILE_NAME, PARTIAL_NAME, MARKER_NAME)  # every file a run creates, and no other
ROOT_NAME = "twineAuthenticate"
RUN_VARIABLE = "TWINE_AUTHENTICATE_RUN"
MARKER_LIMIT = 4096
_ID_LENGTH = 32  # hex digits: 128 random bits

_POSIX = os.name == "posix"
_DIRECTORY_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


class Root(NamedTuple):
    path: str
    per_job: bool  # a CI's temp directory for this job alone (Azure, GitHub)


class Run(NamedTuple):
    """One run's files: ``<root>/<id>/.pypirc``."""

    root: str
    id: str

    @property
    def directory(self) -> str:
        return os.path.join(self.root, self.id)

    @property
    def pypirc(self) -> str:
        return os.path.join(self.directory, FILE_NAME)


def storage_root(env: Mapping[str, str]) -> Root:
    """Under the CI's per-job temp directory, else a per-user directory in the temp directory.
    Relative settings are passed over: they would put credentials in the checkout."""
    for variable in ("AGENT_TEMPDIRECTORY", "RUNNER_TEMP"):
        value = env.get(variable, "")
        if os.path.isabs(value):
            return Root(os.path.join(value, ROOT_NAME), per_job=True)
    user = getattr(os, "getuid", lambda: "user")()
    return Root(os.path.join(_temp_directory(env), f"{ROOT_NAME}-{user}"), per_job=False)


def _temp_directory(env: Mapping[str, str]) -> str:
    if not _POSIX:
        import tempfile

        return tempfile.gettempdir()
    # tempfile.gettempdir()'s order on POSIX, without importing tempfile (and random), and
    # without its turning a relative TMPDIR into one under the current directory.
    for variable in ("TMPDIR", "TEMP", "TMP"):
        if os.path.isabs(env.get(variable, "")):
            return env[variable]
    return "/tmp"  # noqa: S108 - the per-user root under it is checked before any use


def new_run_id() -> str:
    return os.urandom(_ID_LENGTH // 2).hex()


def is_run_id(text: str) -> bool:
    return len(text) == _ID_LENGTH and all(char in "0123456789abcdef" for char in text)


def run_named_by(env: Mapping[str, str], root: Root) -> Run | None:
    """The earlier run the environment names (``PYPIRC_PATH`` and ``TWINE_AUTHENTICATE_RUN``),
    if the path is where that run would have written, in this root."""
    path, run_id = env.get("PYPIRC_PATH", ""), env.get(RUN_VARIABLE, "")
    if not (path and is_run_id(run_id)):
        return None
    run = Run(root.path, run_id)
    return run if os.path.normpath(path) == os.path.normpath(run.pypirc) else None


# Opening, checking and removing, through directory descriptors.


def _open_root(root: Root, *, create: bool) -> int | None:
    """The root, checked and open (the caller closes it), or None when it does not exist and
    ``create`` is false."""
    if create:
        parent = os.path.dirname(root.path)
        # Whatever the umask (a 0777 one would leave them unusable), what we create is 0700.
        umask = os.umask(0o077)
        try:
            os.makedirs(parent, mode=0o700, exist_ok=True)
            os.mkdir(root.path, 0o700)
        except FileExistsError:
            pass
        except OSError as error:
            raise StorageError(f"cannot create {root.path}: {error.strerror}.") from None
        finally:
            os.umask(umask)
    try:
        descriptor = os.open(root.path, _DIRECTORY_FLAGS)
    except FileNotFoundError:
        if create:  # removed between mkdir and open: someone is racing us
            raise StorageError(f"{root.path} disappeared while it was being created.") from None
        return None
    except PermissionError as error:
        descriptor = _reopen_own_root(root, error)
    except OSError as error:
        raise _unsafe_root(root, "it is a symlink or not a directory", error) from None
    try:
        _check_root(root, os.fstat(descriptor))
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _reopen_own_root(root: Root, error: OSError) -> int:
    """A root we cannot open: if it is a real directory of ours whose mode was narrowed (an
    earlier run under a 0777 umask), make it 0700 again; else refuse it, saying why."""
    try:
        info = os.lstat(root.path)
    except OSError:
        raise _unsafe_root(root, "it cannot be opened", error) from None
    if stat.S_ISLNK(info.st_mode):
        raise _unsafe_root(root, "it is a symlink") from None
    _check_root(root, info)  # a directory, ours, writable by no one else
    try:
        os.chmod(root.path, 0o700, follow_symlinks=False)
        return os.open(root.path, _DIRECTORY_FLAGS)
    except OSError as again:
        raise _unsafe_root(root, "it cannot be opened", again) from None


def _check_root(root: Root, info: os.stat_result) -> None:
    if not stat.S_ISDIR(info.st_mode):
        raise _unsafe_root(root, "it is not a directory")
    if _POSIX and info.st_uid != os.getuid():
        raise _unsafe_root(root, f"it belongs to another user (uid {info.st_uid})")
    if _POSIX and info.st_mode & 0o022:
        raise _unsafe_root(root, "others may write to it")


def _unsafe_root(root: Root, why: str, error: OSError | None = None) -> StorageError:
    reason = why if error is None or error.strerror is None else f"{why} ({error.strerror})"
    where = "the job's temp directory" if root.per_job else "TMPDIR"
    return StorageError(
        f"refusing to use {root.path} for credentials: {reason}. Nothing in it was read or "
        f"removed. Remove it if it is not yours, or point {where} at a private directory."
    )


def _read_marker(root_descriptor: int, run_id: str) -> tuple[int, str] | None:
    """The run directory opened (caller closes) and the CI job its marker names, when the
    directory is a run of ours with that id; else None."""
    try:
        directory = os.open(run_id, _DIRECTORY_FLAGS, dir_fd=root_descriptor)
    except OSError:
        return None  # gone, a symlink, or not a directory: not ours to touch
    try:
        info = os.fstat(directory)
        if not stat.S_ISDIR(info.st_mode) or (_POSIX and info.st_uid != os.getuid()):
            raise OSError
        marker = os.open(MARKER_NAME, os.O_RDONLY | _NO_FOLLOW, dir_fd=directory)
        try:
            marker_info = os.fstat(marker)
            if not stat.S_ISREG(marker_info.st_mode) or (
                _POSIX and marker_info.st_uid != os.getuid()
            ):
                raise OSError
            text = os.read(marker, MARKER_LIMIT).decode("utf-8", "replace")
        finally:
            os.close(marker)
        fields = dict(line.partition(" ")[::2] for line in text.splitlines())
        if fields.get("run") != run_id:
            raise OSError
    except OSError:
        os.close(directory)
        return None
    return directory, fields.get("job", "")


def _remove(root_descriptor: int, run_id: str, directory: int) -> None:
    """Unlink the files a run creates, by name, then the directory if nothing else is in it."""
    try:
        for name in RUN_FILES:
            try:
                os.unlink(name, dir_fd=directory)
            except FileNotFoundError:
                pass
    finally:
        os.close(directory)
    try:
        os.rmdir(run_id, dir_fd=root_descriptor)
    except FileNotFoundError:
        pass  # another run erased it at the same time
    except OSError:
        pass  # something else was put in it: left, without our files


def erase_run(root: Root, run_id: str) -> bool:
    """Remove the run ``run_id`` if it is provably ours; True when its files were removed."""
    if not is_run_id(run_id):
        return False
    descriptor = _open_root(root, create=False)
    if descriptor is None:
        return False
    try:
        found = _read_marker(descriptor, run_id)
        if found is None:
            return False
        _remove(descriptor, run_id, found[0])
        return True
    except OSError as error:
        raise StorageError(
            f"cannot remove the credentials in {os.path.join(root.path, run_id)}: {error.strerror}."
        ) from None
    finally:
        os.close(descriptor)


def erase_job_runs(root: Root, job: str) -> list[str]:
    """Remove every run of this CI job (``CI_JOB_ID``) in the root; the ``.pypirc`` paths."""
    removed: list[str] = []
    descriptor = _open_root(root, create=False)
    if descriptor is None:
        return removed
    failed: list[str] = []
    try:
        for name in os.listdir(descriptor):
            found = _read_marker(descriptor, name) if is_run_id(name) else None
            if found is None:
                continue
            run_directory, run_job = found
            if run_job != job:
                os.close(run_directory)
                continue
            try:
                _remove(descriptor, name, run_directory)
            except OSError as error:
                failed.append(f"{os.path.join(root.path, name)} ({error.strerror})")
                continue
            removed.append(Run(root.path, name).pypirc)
    finally:
        os.close(descriptor)
    if failed:
        done = f"; removed {len(removed)} other run(s) of the job" if removed else ""
        raise StorageError(f"cannot remove the credentials in {', '.join(failed)}{done}.")
    return removed


def write_run(root: Root, text: str, *, job: str = "") -> Run:
    """Write ``text`` as the ``.pypirc`` of a new run: a fresh 0700 directory (made with
    mkdir, which fails rather than reuse anything), the marker, then the file, 0600 whatever
    the umask, written under another name and renamed, so no reader sees half a file."""
    descriptor = _open_root(root, create=True)
    assert descriptor is not None
    try:
        run_id = new_run_id()
        umask = os.umask(0o077)  # else a 0777 umask makes the new directory unopenable
        try:
            os.mkdir(run_id, 0o700, dir_fd=descriptor)
            directory = os.open(run_id, _DIRECTORY_FLAGS, dir_fd=descriptor)
        except OSError as error:
            raise StorageError(
                f"cannot create a directory in {root.path}: {error.strerror}."
            ) from None
        finally:
            os.umask(umask)
        try:
            os.fchmod(directory, 0o700)
            _write_new(directory, MARKER_NAME, f"run {run_id}\njob {job}\n")
            _write_new(directory, PARTIAL_NAME, text)
            os.replace(PARTIAL_NAME, FILE_NAME, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException as error:
            _remove(descriptor, run_id, directory)  # closes it
            if isinstance(error, OSError):
                raise StorageError(
                    f"cannot write the credentials file in {root.path}: {error.strerror}."
                ) from None
            raise
        os.close(directory)
    finally:
        os.close(descriptor)
    return Run(root.path, run_id)


def _write_new(directory: int, name: str, text: str) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW
    descriptor = os.open(name, flags, 0o600, dir_fd=directory)
    # No fsync: the file lives as long as a job in a temp directory, so surviving a power cut
    # is worth nothing, while each fsync costs a millisecond or more. The rename is what
    # keeps readers from ever seeing half a file.
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        os.fchmod(descriptor, 0o600)  # the umask may have taken bits away
        handle.write(text)


def write_private_file(directory: str, text: str) -> str:
    """Write ``text`` as ``<directory>/<run id>/.pypirc`` in a private root at ``directory``
    (for library callers and tests that choose where the file goes)."""
    return write_run(Root(directory, per_job=True), text).pypirc
