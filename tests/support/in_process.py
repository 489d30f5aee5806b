"""Running the command in this process: ``main(argv, env=..., stdout=..., stderr=...)``, for
the error matrices that would take seconds each as subprocesses. Output is recorded for the
leak check like a subprocess run's."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from tests.leaks import Recorded
from tests.support import RECORDED, Run
from twine_authenticate.cli import main


class TerminalOutput(io.StringIO):
    """A stdout that says it is a terminal, as when someone runs the tool by hand."""

    def isatty(self) -> bool:
        return True


def invoke(
    argv: Sequence[str], env: Mapping[str, str], *, stdout: io.StringIO | None = None
) -> Run:
    out, err = stdout or io.StringIO(), io.StringIO()
    code = main(list(argv), env=dict(env), stdout=out, stderr=err)
    label = "in-process twine-authenticate " + " ".join(argv[:3])
    RECORDED.append(Recorded(f"{label} stdout", out.getvalue()))
    RECORDED.append(Recorded(f"{label} stderr", err.getvalue()))
    return Run(list(argv), code, out.getvalue(), err.getvalue())


def exported(run: Run) -> dict[str, str]:
    """What ``eval "$(twine-authenticate ...)"`` would set: the ``export NAME='value';`` lines
    a shell channel printed (the other lines, unset or false, set nothing)."""
    import shlex

    variables: dict[str, str] = {}
    for line in run.stdout.splitlines():
        if line.startswith("export "):
            name, _, quoted = line.removeprefix("export ").rstrip(";").partition("=")
            (value,) = shlex.split(quoted)
            variables[name] = value
    return variables
