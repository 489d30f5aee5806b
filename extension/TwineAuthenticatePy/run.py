"""The Python side of the TwineAuthenticatePy task.

shim.js runs it with each candidate interpreter in turn, as ``python -I -S -X utf8 -u run.py``
for the step and ``... run.py cleanup`` for the post-job step. Its first line is the handshake
that tells shim.js which Python this is; an older one than 3.10 stops there (exit 97), so the
top of this file must stay valid for old Pythons: no ``from __future__`` import, and nothing
evaluated before the check that a 3.9 would not understand. ``-I`` keeps PYTHON* variables, the
user's site-packages and the working directory (the pipeline's repository) out of
``sys.path``, so this file puts the copy of twine-authenticate bundled beside it (``lib/``,
with tomli for Python 3.10) first.

The inputs of TwineAuthenticate@1 (artifactFeed, pythonUploadServiceConnection, and the
workload-identity pair) reach twine-authenticate as the agent set them, INPUT_*; the task's own
inputs beyond those become the command line flags they stand for.
"""

import os
import sys
from collections.abc import Mapping

# Old Pythons run these lines too: old syntax on purpose.
sys.stdout.write("twine-authenticate-task python %d.%d\n" % sys.version_info[:2])  # noqa: UP031
sys.stdout.flush()
if sys.version_info < (3, 10):  # noqa: UP036
    sys.exit(97)

LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib")

# Our task inputs -> flags. Booleans give the flag when true.
SWITCHES = (("verify", "--verify"), ("noVerify", "--no-verify"), ("exportProxy", "--export-proxy"))
VALUES = (("pyproject", "--pyproject"), ("timeout", "--timeout"))
LISTS = (("export", "--export"),)  # space-separated items, each its own flag


class InputProblem(Exception):
    pass


def task_input(env: Mapping[str, str], name: str) -> str:
    return env.get("INPUT_" + name.upper(), "").strip()


def task_arguments(env: Mapping[str, str], step: str) -> list[str]:
    """The command line for ``step`` ("main" or "cleanup") from the task's inputs."""
    arguments = ["--ci", "azure"]
    if env.get("SYSTEM_DEBUG", "").lower() == "true":
        arguments.append("--debug")
    if step == "cleanup":
        return [*arguments, "cleanup"]
    for name, flag in SWITCHES:
        value = task_input(env, name).lower()
        if value not in ("", "true", "false"):
            raise InputProblem(f"the task input {name} must be true or false, not {value!r}.")
        if value == "true":
            arguments.append(flag)
    # "--flag=value", so that a value starting with "-" is never read as another flag.
    for name, flag in VALUES:
        value = task_input(env, name)
        if value:
            arguments.append(f"{flag}={value}")
    for name, flag in LISTS:
        arguments += [f"{flag}={item}" for item in task_input(env, name).split()]
    return arguments


def report_failure(message: str) -> None:
    """The task's failure form, for what happens before twine-authenticate can report it."""
    data = message.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")
    sys.stdout.write(
        f"##vso[task.issue type=error;]{data}\n##vso[task.complete result=Failed;]{data}\n"
    )
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    step = "cleanup" if argv == ["cleanup"] else "main"
    try:
        arguments = task_arguments(os.environ, step)
    except InputProblem as problem:
        report_failure(str(problem))
        return 2
    sys.path.insert(0, LIBRARY)
    try:
        from twine_authenticate.cli import main as cli_main
    except BaseException as error:  # a damaged task folder: say so in the task's terms
        report_failure(
            f"the twine-authenticate bundled in this task could not be loaded from {LIBRARY} "
            f"({type(error).__name__}); reinstall the extension."
        )
        return 70
    # As the console script runs it (argv from sys.argv), so that it also takes SIGTERM, which
    # the shim passes on when the job is cancelled, through its one failure path.
    sys.argv[1:] = arguments
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
