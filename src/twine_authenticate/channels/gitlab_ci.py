"""GitLab CI: shell code on stdout, as in a plain shell, for ``eval`` in the job's script.

GitLab can mask only variables defined in its settings; there is no way to register a value
minted inside a job. So when secrets are exported, say so once, and never offer a dotenv
artifact (``artifacts: reports: dotenv``), which anyone who can read artifacts can download.
"""

from __future__ import annotations

from typing import TextIO

from .shell import ShellChannel

NO_MASKING_WARNING = (
    "GitLab CI cannot mask values created during a job: the exported credentials stay out of "
    "the log only as long as nothing prints them. Do not echo them, run the job with "
    "CI_DEBUG_TRACE, or put them in a dotenv artifact (anyone who can read the job's "
    "artifacts could download them)."
)


class GitLabChannel(ShellChannel):
    def __init__(self, shell: str, stdout: TextIO, stderr: TextIO) -> None:
        super().__init__(shell, stdout, stderr)
        self.warned = False

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        if secret and not self.warned:
            self.warned = True
            self.warning(NO_MASKING_WARNING)
        super().export(name, value, secret=secret)
