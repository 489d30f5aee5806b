"""GitLab CI: shell code on stdout, as in a plain shell, for ``eval`` in the job's script.

GitLab can mask only variables defined in its settings; there is no way to register a value
minted inside a job. So when secrets are exported, say so once, and never offer a dotenv
artifact (``artifacts: reports: dotenv``), which anyone who can read artifacts can download.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .base import ChannelKind, Streams
from .shell import ShellChannel

NO_MASKING_WARNING = (
    "GitLab CI cannot mask values created during a job: the exported credentials stay out of "
    "the log only as long as nothing prints them. Do not echo them, run the job with "
    "CI_DEBUG_TRACE, or put them in a dotenv artifact (anyone who can read the job's "
    "artifacts could download them)."
)


class GitLabChannel(ShellChannel):
    def advise(self, secret_names: Sequence[str], cleared: Sequence[str]) -> None:
        if secret_names:
            self.warning(NO_MASKING_WARNING)


def _detect(env: Mapping[str, str]) -> bool:
    return env.get("GITLAB_CI") == "true"


def _open(env: Mapping[str, str], streams: Streams) -> GitLabChannel:
    return GitLabChannel(streams.shell, streams.stdout, streams.stderr)


KIND = ChannelKind("gitlab", _detect, _open)
