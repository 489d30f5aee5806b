"""Attacks on where the credentials live: a second user planting the storage root in a shared
temp directory, links where run files or run directories should be, stray markers, other shells
and jobs sharing one root, runs racing each other, hostile umasks and relative temp settings.

Each test states what the victim sees (the exit status, the message) and proves, by snapshots
of every file involved, that nothing was read through, written into or removed that was not
the run's own.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from twine.utils import get_config

from tests.leaks import Recorded
from tests.support import RECORDED, TOOL, Run, base_env, new_secret, run
from tests.support.attacks import (
    SystemUser,
    changes,
    run_directories,
    shared_temp_directory,
    snapshot,
    throwaway_user,
)
from tests.support.in_process import exported, invoke
from twine_authenticate.storage import new_run_id

REPOSITORY = "internal=https://pypi.example.com/upload/"
PASSWORD_VARIABLE = "TWINE_AUTHENTICATE_INTERNAL_PASSWORD"
JOB = "4242"


def user_root(temp: Path) -> Path:
    """Where a run outside a CI's per-job directory keeps its files, for this user."""
    return temp / f"twineAuthenticate-{os.getuid()}"


def marker(run_id: str, job: str = JOB) -> str:
    return f"run {run_id}\njob {job}\n"


def make_victim(directory: Path, run_id: str) -> Path:
    """A directory of the victim's own, laid out like a run (so that a tool that followed a
    link into it would find a valid-looking run of its own) and with files beside it."""
    (directory / run_id).mkdir(parents=True)
    (directory / "important.txt").write_text("the victim's data\n")
    (directory / run_id / ".pypirc").write_text("[distutils]\nindex-servers=victim\n")
    (directory / run_id / ".pypirc.partial").write_text("half a file\n")
    (directory / run_id / ".twine-authenticate").write_text(marker(run_id))
    (directory / run_id / "notes.txt").write_text("kept\n")
    return directory


def assert_refused(result: Run, root: Path, reason: str) -> None:
    """The shell channel's failure form, and a message that says what is wrong and where."""
    assert result.returncode == 1, result.output
    assert result.stdout.splitlines()[-1:] == ["false"], "eval must fail too"
    assert f"refusing to use {root} for credentials" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr
    assert "Nothing in it was read or removed" in result.stderr
    assert "Traceback" not in result.output


# --- another user plants the root in a shared temp directory ------------------------------


@pytest.fixture(scope="module")
def attacker() -> Iterator[SystemUser]:
    with throwaway_user() as user:
        yield user


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    with shared_temp_directory() as path:
        yield path


PLANTS = {
    # The root as a link to a directory of the victim's, laid out as a run of the victim's.
    "symlink": ('ln -s "$1" "$2"', "it is a symlink or not a directory"),
    # The root as the attacker's own directory holding a fake run, marker and all.
    "foreign-directory": (
        'mkdir -m 755 "$2" "$2/$3"'
        ' && printf "run %s\\njob 4242\\n" "$3" > "$2/$3/.twine-authenticate"'
        ' && printf "[x]\\n" > "$2/$3/.pypirc" && echo mine > "$2/keep.txt"',
        "it belongs to another user",
    ),
    # The same, then opened to everyone, so that the victim's run could write into it.
    "world-writable": (
        'mkdir "$2" "$2/$3" && printf "run %s\\njob 4242\\n" "$3" > "$2/$3/.twine-authenticate"'
        ' && printf "[x]\\n" > "$2/$3/.pypirc" && chmod 777 "$2" "$2/$3"',
        "it belongs to another user",
    ),
}
OPERATIONS = ["authenticate", "cleanup naming the run", "cleanup by CI_JOB_ID"]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("plant", sorted(PLANTS))
def test_a_root_planted_by_another_user_is_refused(
    tmp_path: Path, attacker: SystemUser, shared_tmp: Path, plant: str, operation: str
) -> None:
    run_id = new_run_id()
    victim = make_victim(tmp_path / "victim", run_id)
    root = user_root(shared_tmp)
    script, reason = PLANTS[plant]
    attacker.sh(script, str(victim), str(root), run_id)
    env = base_env(tmp_path, TMPDIR=str(shared_tmp), CI_JOB_ID=JOB)
    env[PASSWORD_VARIABLE] = new_secret("victim's password")
    if operation != "cleanup by CI_JOB_ID":  # the environment names the planted run
        env.update(PYPIRC_PATH=str(root / run_id / ".pypirc"), TWINE_AUTHENTICATE_RUN=run_id)
    victim_before, shared_before = snapshot(victim), snapshot(shared_tmp)

    argv = ["--repository", REPOSITORY] if operation == "authenticate" else ["cleanup"]
    result = invoke(argv, env)

    assert_refused(result, root, reason)
    assert changes(victim_before, snapshot(victim)) == [], "the victim's files changed"
    assert changes(shared_before, snapshot(shared_tmp)) == [], "the shared directory changed"


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702, 0o1777])
def test_an_own_root_that_others_may_write_is_refused(tmp_path: Path, mode: int) -> None:
    """Our own root, opened to the group or everyone (by mistake, or by a umask of 0): others
    could have put anything in it, so it is neither used nor cleaned."""
    env = base_env(tmp_path, CI_JOB_ID=JOB)
    env[PASSWORD_VARIABLE] = new_secret("own root password")
    first = invoke(["--repository", REPOSITORY], env)
    assert first.returncode == 0, first.stderr
    env.update(exported(first))
    root = user_root(Path(env["TMPDIR"]))
    os.chmod(root, mode)
    before = snapshot(root)

    for argv in (["--repository", REPOSITORY], ["cleanup"]):
        result = invoke(argv, env)
        assert_refused(result, root, "others may write to it")
    job_cleanup = invoke(["cleanup"], {**base_env(tmp_path), "CI_JOB_ID": JOB})
    assert_refused(job_cleanup, root, "others may write to it")
    assert changes(before, snapshot(root)) == [], "a refused root was changed"


# --- the same user: things that look like runs but are not --------------------------------


def test_a_stray_marker_in_home_is_not_a_run(tmp_path: Path) -> None:
    """``PYPIRC_PATH=$HOME/.pypirc`` (the user's own file) with a marker file beside it that
    names the run the environment names: not in the storage root, so never a run of ours."""
    run_id = new_run_id()
    env = base_env(tmp_path, CI_JOB_ID=JOB)
    env[PASSWORD_VARIABLE] = new_secret("home marker password")
    home = Path(env["HOME"])
    (home / ".pypirc").write_text("[distutils]\nindex-servers=mine\n")
    (home / ".pypirc.partial").write_text("mine too\n")
    (home / ".twine-authenticate").write_text(marker(run_id))
    env.update(PYPIRC_PATH=str(home / ".pypirc"), TWINE_AUTHENTICATE_RUN=run_id)
    before = snapshot(home)

    cleaned = invoke(["cleanup"], env)
    assert cleaned.returncode == 0, cleaned.stderr
    assert "Nothing to clean up" in cleaned.stderr
    assert f"PYPIRC_PATH names {home / '.pypirc'}, which this tool did not write" in (
        cleaned.stderr
    )
    by_job = invoke(["cleanup"], {key: env[key] for key in env if key != "PYPIRC_PATH"})
    assert by_job.returncode == 0 and "Nothing to clean up" in by_job.stderr
    written = invoke(["--repository", REPOSITORY], env)
    assert written.returncode == 0, written.stderr
    assert f"PYPIRC_PATH named {home / '.pypirc'}, which this tool did not write" in (
        written.stderr
    )
    assert Path(exported(written)["PYPIRC_PATH"]).parent.parent == user_root(Path(env["TMPDIR"]))

    assert changes(before, snapshot(home)) == [], "$HOME changed"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_run_directory_that_is_a_link_is_not_followed(tmp_path: Path, operation: str) -> None:
    """In our own root, the run directory the environment names is a link to another
    directory that holds a valid-looking run (marker and all): never followed."""
    env = base_env(tmp_path, CI_JOB_ID=JOB)
    env[PASSWORD_VARIABLE] = new_secret("linked run password")
    root = user_root(Path(env["TMPDIR"]))
    root.mkdir(mode=0o700)
    run_id = new_run_id()
    victim = make_victim(tmp_path / "victim", run_id) / run_id
    (root / run_id).symlink_to(victim, target_is_directory=True)
    if operation != "cleanup by CI_JOB_ID":
        env.update(PYPIRC_PATH=str(root / run_id / ".pypirc"), TWINE_AUTHENTICATE_RUN=run_id)
    before = snapshot(tmp_path / "victim")

    argv = ["--repository", REPOSITORY] if operation == "authenticate" else ["cleanup"]
    result = invoke(argv, env)

    assert result.returncode == 0, result.stderr
    if operation != "authenticate":
        assert "Nothing to clean up" in result.stderr
    assert changes(before, snapshot(tmp_path / "victim")) == [], "followed the link"
    assert (root / run_id).is_symlink(), "the link is not ours to remove either"


LINKED_FILES = ["symlinked .pypirc", "hard-linked .pypirc", "symlinked marker"]


@pytest.mark.parametrize("case", LINKED_FILES)
def test_files_in_a_run_are_unlinked_never_followed(tmp_path: Path, case: str) -> None:
    """A real run directory of ours in which a file was replaced by a link to a file elsewhere.
    Removal unlinks the run's own names and nothing else; a marker that is a link proves
    nothing, so then nothing at all is removed."""
    env = base_env(tmp_path, CI_JOB_ID=JOB)
    env[PASSWORD_VARIABLE] = new_secret("linked file password")
    first = invoke(["--repository", REPOSITORY], env)
    env.update(exported(first))
    run_directory = Path(env["PYPIRC_PATH"]).parent
    victim = tmp_path / "victim"
    victim.mkdir()
    for name in ("precious", "partial", "marker"):
        (victim / name).write_text(f"victim's {name}\n")
    os.unlink(run_directory / ".pypirc")
    if case == "hard-linked .pypirc":
        os.link(victim / "precious", run_directory / ".pypirc")
    else:
        (run_directory / ".pypirc").symlink_to(victim / "precious")
    (run_directory / ".pypirc.partial").symlink_to(victim / "partial")
    if case == "symlinked marker":
        (victim / "marker").write_text((run_directory / ".twine-authenticate").read_text())
        os.unlink(run_directory / ".twine-authenticate")
        (run_directory / ".twine-authenticate").symlink_to(victim / "marker")
    (run_directory / "notes.txt").write_text("the user's own note\n")
    victim_before, run_before = snapshot(victim), snapshot(run_directory)
    contents = {name: (victim / name).read_bytes() for name in ("precious", "partial", "marker")}

    result = invoke(["cleanup"], env)

    assert result.returncode == 0, result.stderr
    assert {name: (victim / name).read_bytes() for name in contents} == contents
    if case == "symlinked marker":
        assert "Nothing to clean up" in result.stderr
        assert changes(run_before, snapshot(run_directory)) == []
    else:
        assert f"Removed the credentials file {env['PYPIRC_PATH']}" in result.stderr
        assert sorted(os.listdir(run_directory)) == ["notes.txt"], "only the run's names go"
        assert (victim / "precious").stat().st_nlink == 1
    assert changes(victim_before, snapshot(victim)) == [], "a file outside the run changed"


def test_a_job_cleanup_that_meets_an_unremovable_run_says_so_and_goes_on(tmp_path: Path) -> None:
    env = base_env(tmp_path, CI_JOB_ID=JOB, GITLAB_CI="true")
    env[PASSWORD_VARIABLE] = new_secret("unremovable password")
    paths = []
    for _ in range(4):  # four runs of the job, each from a fresh shell
        result = invoke(["--repository", REPOSITORY], env)
        paths.append(Path(exported(result)["PYPIRC_PATH"]))
    broken = paths.pop(0)
    broken.unlink()
    broken.mkdir()  # now its .pypirc cannot be unlinked

    result = invoke(["cleanup"], env)

    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr
    assert f"cannot remove the credentials in {broken.parent}" in result.stderr
    assert [path for path in paths if path.exists()] == [], "the job's other runs were left"


# --- shells and jobs that share a root ---------------------------------------------------


def test_two_terminals_never_remove_each_others_files(tmp_path: Path) -> None:
    shared = base_env(tmp_path)
    first_env = {**shared, PASSWORD_VARIABLE: new_secret("first terminal")}
    second_env = {**shared, PASSWORD_VARIABLE: new_secret("second terminal")}
    first = invoke(["--repository", REPOSITORY], first_env)
    first_env.update(exported(first))
    first_file = Path(first_env["PYPIRC_PATH"])
    first_bytes = first_file.read_bytes()

    second = invoke(["--repository", REPOSITORY], second_env)
    second_env.update(exported(second))
    second_file = Path(second_env["PYPIRC_PATH"])
    # A third shell that was handed only PYPIRC_PATH (say, copied by hand): not its run.
    third = invoke(["--repository", REPOSITORY], {**second_env, "PYPIRC_PATH": str(first_file)})
    assert third.returncode == 0, third.stderr
    assert "which this tool did not write for this shell or job" in third.stderr
    nobody = invoke(["cleanup"], shared)  # a fourth, with nothing of its own
    assert nobody.returncode == 0 and "Nothing to clean up" in nobody.stderr

    assert first_file.read_bytes() == first_bytes, "another shell changed the first's file"
    assert second_file.is_file()
    first_cleanup = invoke(["cleanup"], first_env)
    assert first_cleanup.returncode == 0
    assert not first_file.exists() and not first_file.parent.exists()
    assert second_file.is_file(), "the first shell's cleanup removed the second's file"
    second_cleanup = invoke(["cleanup"], second_env)
    assert second_cleanup.returncode == 0
    assert not second_file.exists()
    third_file = Path(exported(third)["PYPIRC_PATH"])
    assert run_directories(user_root(Path(shared["TMPDIR"]))) == {third_file.parent.name}


def test_a_job_cleanup_removes_exactly_its_own_jobs_runs(tmp_path: Path) -> None:
    """GitLab runners with the shell executor share TMPDIR between jobs; after_script runs in
    a new shell with CI_JOB_ID and none of the variables the script exported."""
    env = base_env(tmp_path, GITLAB_CI="true")
    env[PASSWORD_VARIABLE] = new_secret("gitlab job password")
    files: dict[str, list[Path]] = {}
    for job in ["7", "7", "70", "17", "", "8"]:  # "" is a terminal, outside any job
        job_env = {**env, "CI_JOB_ID": job} if job else env
        result = invoke(["--repository", REPOSITORY], job_env)
        assert result.returncode == 0, result.stderr
        files.setdefault(job, []).append(Path(exported(result)["PYPIRC_PATH"]))

    result = invoke(["cleanup"], {**base_env(tmp_path, GITLAB_CI="true"), "CI_JOB_ID": "7"})

    assert result.returncode == 0, result.stderr
    for path in files["7"]:
        assert f"Removed the credentials file {path} and its directory." in result.stderr
        assert not path.parent.exists()
    left = {path.parent.name for job in ("70", "17", "", "8") for path in files[job]}
    assert run_directories(user_root(Path(env["TMPDIR"]))) == left
    assert all(path.is_file() for job in ("70", "17", "", "8") for path in files[job])
    # Outside a job, cleanup with nothing named removes nothing at all.
    assert "Nothing to clean up" in invoke(["cleanup"], base_env(tmp_path)).stderr
    assert run_directories(user_root(Path(env["TMPDIR"]))) == left


# --- runs that race ---------------------------------------------------------------------


RUNS = 16
# Each run stops at its first unlink (the first file of the earlier run it erases) until all
# of them are there, then all go on together: every run has found and proved the earlier run
# its own, and they now remove the same files at the same moment, the race a real matrix job
# only sometimes hits.
AT_ONCE = """
import os, sys
from twine_authenticate.cli import main
unlink = os.unlink
def first_unlink(*args, **keywords):
    os.unlink = unlink
    os.write(int(os.environ["READY_FD"]), b"r")
    os.read(0, 1)
    return unlink(*args, **keywords)
os.unlink = first_unlink
sys.exit(main(sys.argv[1:]))
"""


def test_concurrent_runs_naming_the_same_earlier_run(tmp_path: Path) -> None:
    """Sixteen runs in an environment that names the same earlier run (a CI matrix, a Makefile
    run with -j), erasing it at the same moment: each succeeds and keeps its own file, the
    earlier file goes, and every directory left is one that some run's cleanup will find."""
    env = base_env(tmp_path, CI_JOB_ID=JOB)
    env[PASSWORD_VARIABLE] = new_secret("concurrent password")
    earlier = invoke(["--repository", REPOSITORY], env)
    env.update(exported(earlier))
    earlier_file = Path(env["PYPIRC_PATH"])
    root = user_root(Path(env["TMPDIR"]))

    argv = [sys.executable, "-c", AT_ONCE, "--repository", REPOSITORY]
    started = time.monotonic()
    ready_read, ready_write = os.pipe()
    go_read, go_write = os.pipe()
    processes: list[subprocess.Popen[str]] = []
    results = []
    try:
        for _ in range(RUNS):
            processes.append(
                subprocess.Popen(
                    argv,
                    env={**env, "READY_FD": str(ready_write)},
                    stdin=go_read,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    pass_fds=(ready_write,),
                )
            )
        os.close(ready_write)
        ready = b""
        deadline = time.monotonic() + 30
        while len(ready) < RUNS and time.monotonic() < deadline:
            if select.select([ready_read], [], [], deadline - time.monotonic())[0]:
                chunk = os.read(ready_read, RUNS)
                if not chunk:  # every run exited
                    break
                ready += chunk
        os.write(go_write, b"g" * RUNS)
        for number, process in enumerate(processes):
            stdout, stderr = process.communicate(timeout=60)
            RECORDED.append(Recorded(f"concurrent run {number} stdout", stdout))
            RECORDED.append(Recorded(f"concurrent run {number} stderr", stderr))
            results.append(Run(argv, process.returncode, stdout, stderr))
    finally:
        for descriptor in (ready_read, go_read, go_write):
            os.close(descriptor)
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
    assert time.monotonic() - started < 60

    assert len(ready) == RUNS, "not every run went on to erase the earlier run"
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.output
    paths = [Path(exported(result)["PYPIRC_PATH"]) for result in results]
    assert len(set(paths)) == RUNS
    assert all(get_config(str(path))["internal"]["username"] == "__token__" for path in paths)
    assert not earlier_file.exists() and not earlier_file.parent.exists()
    assert run_directories(root) == {path.parent.name for path in paths}, "an orphaned run"


# --- umask and relative settings ----------------------------------------------------------

UMASKS = [
    pytest.param(0o777, id="umask-777"),
    pytest.param(0o000, id="umask-000"),
    pytest.param(0o022, id="umask-022"),
]


@pytest.mark.parametrize("where", ["TMPDIR", "RUNNER_TEMP"])
@pytest.mark.parametrize("umask", UMASKS)
def test_files_and_directories_are_private_whatever_the_umask(
    tmp_path: Path, umask: int, where: str
) -> None:
    password = new_secret("umask password")
    env = base_env(tmp_path, **{PASSWORD_VARIABLE: password})
    if where == "RUNNER_TEMP":
        (tmp_path / "runner").mkdir()
        env.update(
            GITHUB_ACTIONS="true",
            GITHUB_ENV=str(tmp_path / "runner" / "env"),
            RUNNER_TEMP=str(tmp_path / "runner"),
        )
        root = tmp_path / "runner" / "twineAuthenticate"
    else:
        root = user_root(Path(env["TMPDIR"]))
    script = f'umask {umask:03o} && exec "$0" "$@"'
    result = run(["sh", "-c", script, *TOOL, "--repository", REPOSITORY], env)
    assert result.returncode == 0, result.output

    (run_id,) = run_directories(root)
    pypirc = root / run_id / ".pypirc"
    modes = {
        "root": root.stat().st_mode & 0o7777,
        "run directory": pypirc.parent.stat().st_mode & 0o7777,
        ".pypirc": pypirc.stat().st_mode & 0o7777,
        "marker": (root / run_id / ".twine-authenticate").stat().st_mode & 0o7777,
    }
    assert modes == {"root": 0o700, "run directory": 0o700, ".pypirc": 0o600, "marker": 0o600}
    section = get_config(str(pypirc))["internal"]
    assert section["password"] == password, "twine reads back another password"


def _system_python() -> str:
    """A Python any user can run (this venv's lives under /root), new enough for the tool."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            check = subprocess.run(
                [candidate, "-c", "import sys; sys.exit(sys.version_info < (3, 10))"],
                check=False,
                capture_output=True,
            )
            if check.returncode == 0:
                return candidate
    pytest.skip("no system python3 >= 3.10 that another user could run the tool with")


def test_a_user_with_umask_777_can_run_and_run_again(
    attacker: SystemUser, shared_tmp: Path
) -> None:
    python = _system_python()
    source = Path(__file__).resolve().parent.parent / "src"
    code = (
        f"import sys; sys.path.insert(0, {str(source)!r}); "
        "from twine_authenticate.cli import main; sys.exit(main())"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/nonexistent",
        "TMPDIR": str(shared_tmp),
        PASSWORD_VARIABLE: new_secret("umask user password"),
    }

    def as_user(umask: int) -> Run:
        completed = subprocess.run(
            [python, "-I", "-c", code, "--repository", REPOSITORY],
            user=attacker.uid,
            group=attacker.gid,
            extra_groups=[],
            umask=umask,
            env=env,
            cwd="/",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        RECORDED.append(Recorded("umask user stdout", completed.stdout))
        RECORDED.append(Recorded("umask user stderr", completed.stderr))
        return Run(completed.args, completed.returncode, completed.stdout, completed.stderr)

    first = as_user(0o777)
    again = as_user(0o022)
    assert (first.returncode, again.returncode) == (0, 0), first.stderr + again.stderr


RELATIVE = {
    "TMPDIR": ({"TMPDIR": "tmp"}, "TEMP"),
    "TMPDIR=.": ({"TMPDIR": "."}, "TEMP"),
    "RUNNER_TEMP": ({"GITHUB_ACTIONS": "true", "RUNNER_TEMP": "runner-temp"}, "TMPDIR"),
    "AGENT_TEMPDIRECTORY": ({"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": "_temp"}, "TMPDIR"),
}


@pytest.mark.parametrize("case", sorted(RELATIVE))
def test_relative_temp_settings_never_put_credentials_in_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """A relative temp setting would be relative to the checkout, where a later step could
    commit, archive or upload the file: it is passed over for the next absolute setting."""
    relative, fallback = RELATIVE[case]
    checkout = tmp_path / "checkout"
    for name in ("tmp", "runner-temp", "_temp"):  # already there, ready to be misused
        (checkout / name).mkdir(parents=True)
    (checkout / "setup.py").write_text("# the project\n")
    (tmp_path / "fallback").mkdir()
    env = base_env(tmp_path, GITHUB_ENV=str(tmp_path / "github_env"))
    env.update(relative)
    env[fallback] = str(tmp_path / "fallback")
    env[PASSWORD_VARIABLE] = new_secret("relative temp password")
    monkeypatch.chdir(checkout)
    before = snapshot(checkout)

    result = invoke(["--repository", REPOSITORY], env)

    assert result.returncode == 0, result.output
    assert changes(before, snapshot(checkout)) == [], "credentials written into the checkout"
    (run_id,) = run_directories(user_root(tmp_path / "fallback"))
    assert (user_root(tmp_path / "fallback") / run_id / ".pypirc").is_file()


def test_the_snapshot_sees_every_kind_of_change(tmp_path: Path) -> None:
    """The helper the tests above rely on: a changed byte, mode or link target, an added or
    removed entry, and a link that points into another directory are all noticed."""
    (tmp_path / "a").write_text("1")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    before = snapshot(tmp_path)
    (tmp_path / "a").write_text("2")
    os.chmod(tmp_path / "a", 0o600)
    (tmp_path / "link").unlink()
    (tmp_path / "link").symlink_to(tmp_path)
    (tmp_path / "new").mkdir()
    assert changes(before, snapshot(tmp_path)) == ["added new", "changed a", "changed link"]
    assert "removed a" in changes(snapshot(tmp_path), {".": before["."]})
