"""Helpers for the attack tests (test_storage_attacks, test_never_stack, test_hostile_strings).

- ``snapshot``: everything under a directory, without following links, to prove it unchanged.
- ``throwaway_user``: a real second user on this machine (root only), for the shared-temp
  attacks; removed again however the test ends.
- ``invoke_shell_code``: the in-process run, recorded for the leak check, where the shell code
  on stdout (meant for ``eval``, never for a log) may carry the exported values.
- ``agent_commands``: stdout read the way the real Azure Pipelines agent reads it
  (azure-pipelines-agent ``Command.TryParse``): stricter than tests/pipeline.py, which only
  looks for commands at the start of a line and does not decode ``%3B`` and ``%5D`` in data.
"""

from __future__ import annotations

import functools
import grp
import hashlib
import io
import os
import pwd
import re
import secrets
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path
from typing import TypeVar, cast

import pytest

from tests.leaks import Recorded, find_leaks
from tests.support import RECORDED, SECRETS, Run
from twine_authenticate.cli import main

# --- file trees -------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under ``root`` (itself included, as "."), never following a link: its kind,
    inode, mode, owner, and a digest of a file's bytes or a link's target. Digests, not
    contents: a failure message must not show what the files hold."""
    entries: dict[str, tuple[object, ...]] = {}

    def visit(path: Path, name: str) -> None:
        info = os.lstat(path)
        mode, owner = stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid)
        if stat.S_ISLNK(info.st_mode):
            entries[name] = ("link", info.st_ino, mode, owner, os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            entries[name] = ("dir", info.st_ino, mode, owner)
            for child in sorted(os.listdir(path)):
                visit(path / child, child if name == "." else f"{name}/{child}")
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            entries[name] = ("file", info.st_ino, mode, owner, digest)

    visit(root, ".")
    return entries


def changes(before: Mapping[str, object], after: Mapping[str, object]) -> list[str]:
    """What differs between two snapshots, one line per entry."""
    lines = [f"removed {name}" for name in before if name not in after]
    lines += [f"added {name}" for name in after if name not in before]
    lines += [f"changed {name}" for name in before if name in after and before[name] != after[name]]
    return lines


def run_directories(root: Path) -> set[str]:
    """The names of the run directories in a storage root (none when it does not exist)."""
    if not root.is_dir():
        return set()
    return {entry.name for entry in root.iterdir() if re.fullmatch(r"[0-9a-f]{32}", entry.name)}


# --- a second user ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemUser:
    name: str
    uid: int
    gid: int

    def sh(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``script`` in /bin/sh as this user (``$1``... are ``args``); it must succeed."""
        completed = subprocess.run(
            ["/bin/sh", "-c", script, "sh", *args],
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"},
            cwd="/",
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert completed.returncode == 0, f"as {self.name}: {script!r} failed: {completed.stderr}"
        return completed


@contextmanager
def throwaway_user() -> Iterator[SystemUser]:
    """A new system user with a random name, deleted again however the test ends. Skips the
    test, saying why, when this process is not root or useradd is missing."""
    if os.geteuid() != 0:
        pytest.skip("a second user is needed, and only root can create one (useradd)")
    useradd, userdel = shutil.which("useradd"), shutil.which("userdel")
    if useradd is None or userdel is None:
        pytest.skip("useradd/userdel are missing: no second user can be created")
    name = f"ta{secrets.token_hex(6)}"
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--user-group", "--shell", "/bin/false", name],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        entry = pwd.getpwnam(name)
        yield SystemUser(name, entry.pw_uid, entry.pw_gid)
    finally:
        subprocess.run([userdel, name], check=False, capture_output=True, timeout=60)
        try:
            grp.getgrnam(name)
        except KeyError:
            pass
        else:  # a group useradd made that userdel left behind
            groupdel = shutil.which("groupdel")
            if groupdel is not None:
                subprocess.run([groupdel, name], check=False, capture_output=True, timeout=60)


@contextmanager
def shared_temp_directory() -> Iterator[Path]:
    """A fresh directory like /tmp itself (mode 1777: anyone may create entries, only their
    owner may remove them), made in /tmp so that every user can reach it."""
    path = Path(os.path.realpath("/tmp")) / f"twine-auth-shared-{secrets.token_hex(6)}"
    path.mkdir(mode=0o700)
    try:
        os.chmod(path, 0o1777)  # noqa: S103 - what /tmp is, on purpose
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --- running the tool in this process -------------------------------------------------------

SHELL_CODE_PREFIXES = ("export ", "set -gx ", "$env:")


def invoke_shell_code(
    argv: Sequence[str], env: Mapping[str, str], *, stdout: io.StringIO | None = None
) -> Run:
    """``twine-authenticate ARGV`` in this process, recorded for the leak check. Lines of shell
    code that set a variable may hold its value: that code goes to ``eval``, never to a log.
    Everything else (stderr, any other stdout line) is checked as usual."""
    out, err = stdout or io.StringIO(), io.StringIO()
    code = main(list(argv), env=dict(env), stdout=out, stderr=err)
    label = "in-process twine-authenticate " + " ".join(argv[:3])
    RECORDED.append(
        Recorded(
            f"{label} stdout", out.getvalue(), lambda line: line.startswith(SHELL_CODE_PREFIXES)
        )
    )
    RECORDED.append(Recorded(f"{label} stderr", err.getvalue()))
    return Run(list(argv), code, out.getvalue(), err.getvalue())


@contextmanager
def leak_checked_example() -> Iterator[None]:
    """One example of a property test: the secrets it registers are looked for, as conftest's
    leak check does, in everything recorded during the example; once that passed they are
    unregistered. No example can print another's secret, and checking every example's secrets
    in every example's output would make the final check quadratic. (On failure they stay
    registered: conftest then redacts them from the report, and checks them again.)"""
    before, start = set(SECRETS), len(RECORDED)
    yield
    new = {label: value for label, value in SECRETS.items() if label not in before}
    problems = find_leaks(new, RECORDED[start:])
    assert not problems, "secret leak:\n" + "\n".join(problems)
    for label in new:
        del SECRETS[label]


Test = TypeVar("Test", bound=Callable[..., None])


def leak_checked_per_example(test: Test) -> Test:
    """``leak_checked_example`` around each call of ``test`` (put it under ``@given``)."""

    @functools.wraps(test)
    def each_example(*args: object, **keywords: object) -> None:
        with leak_checked_example():
            test(*args, **keywords)

    return cast(Test, each_example)


# --- the Azure Pipelines agent, as strict as the real one -----------------------------------

_AGENT_ESCAPES = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"))


def agent_unescape(text: str, *, decode_percents: bool = True) -> str:
    """``CommandStringConvertor.Unescape``: for properties and data alike."""
    for escaped, char in _AGENT_ESCAPES:
        text = text.replace(escaped, char)
    return text.replace("%AZP25", "%") if decode_percents else text


@dataclass(frozen=True)
class AgentCommand:
    name: str
    properties: dict[str, str]
    data: str


def agent_lines(stdout: str) -> list[str]:
    """Lines as .NET's StreamReader.ReadLine splits them: at CR, LF or CRLF."""
    lines = re.split(r"\r\n|\r|\n", stdout)
    return lines[:-1] if lines and lines[-1] == "" else lines


def agent_commands(
    stdout: str, *, decode_percents: bool = True
) -> tuple[list[AgentCommand], list[str]]:
    """The commands the agent obeys, and the other lines it shows. A line is a command when
    ``##vso[`` occurs anywhere in it, a ``]`` follows, and the name is ``area.event``."""
    commands: list[AgentCommand] = []
    shown: list[str] = []
    for line in agent_lines(stdout):
        start = line.find("##vso[")
        close = line.find("]", start) if start >= 0 else -1
        info = line[start + 6 : close] if close >= 0 else ""
        name, _, properties_text = info.partition(" ")
        if close < 0 or len([part for part in name.split(".") if part]) != 2:
            shown.append(line)
            continue
        properties: dict[str, str] = {}
        for pair in filter(None, properties_text.split(";")):
            key, separator, value = pair.partition("=")
            if key and separator and value:
                properties[key.lower()] = agent_unescape(value, decode_percents=decode_percents)
        data = agent_unescape(line[close + 1 :], decode_percents=decode_percents)
        commands.append(AgentCommand(name.lower(), properties, data))
    return commands, shown


# --- comparing values that may hold secrets ---------------------------------------------------


def differences(actual: Mapping[str, str], expected: Mapping[str, str]) -> list[str]:
    """The names whose values differ (missing, unexpected or another value), never the values
    themselves: a mangled secret is no registered form, so the leak redaction would miss it."""
    lines = [f"missing {name}" for name in expected if name not in actual]
    lines += [f"unexpected {name}" for name in actual if name not in expected]
    lines += [
        f"{name} has another value"
        for name in expected
        if name in actual and actual[name] != expected[name]
    ]
    return lines


def sequence_differences(
    actual: Sequence[tuple[object, ...]], expected: Sequence[tuple[object, ...]]
) -> list[str]:
    """As ``differences``, for ordered records such as commands, ``(name, ...values)``: the
    positions and names that differ, never the values."""
    lines = []
    for index, (got, want) in enumerate(zip_longest(actual, expected, fillvalue=())):
        if got != want:
            got_name, want_name = next(iter(got), "-"), next(iter(want), "-")
            detail = (
                " with another value" if got_name == want_name else f" where {want_name} was meant"
            )
            lines.append(f"#{index}: {got_name}{detail}")
    return lines
