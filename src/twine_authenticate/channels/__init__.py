"""How results reach the later steps of a job: one module per CI system or shell."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from ..errors import InputError
from .base import Channel

CI_NAMES = ("azure", "github", "gitlab", "shell")


def detect_ci(env: Mapping[str, str]) -> str:
    """Each CI system sets one variable in every job; outside them, a plain shell."""
    if env.get("TF_BUILD", "").lower() == "true":
        return "azure"
    if env.get("GITHUB_ACTIONS") == "true":
        return "github"
    if env.get("GITLAB_CI") == "true":
        return "gitlab"
    return "shell"


def open_channel(
    ci: str, env: Mapping[str, str], *, shell: str, stdout: TextIO, stderr: TextIO
) -> Channel:
    if ci == "azure":
        from .azure_pipelines import AzurePipelinesChannel

        debug = env.get("SYSTEM_DEBUG", "").lower() == "true"
        return AzurePipelinesChannel(stdout, debug=debug)
    if ci == "github":
        from .github_actions import GitHubActionsChannel

        env_file = env.get("GITHUB_ENV")
        if not env_file:
            raise InputError(
                "GITHUB_ENV is not set, so nothing could reach the later steps; the GitHub "
                "Actions runner sets it in every step (use --ci shell outside a runner)."
            )
        return GitHubActionsChannel(stdout, env_file)
    if ci == "gitlab":
        from .gitlab_ci import GitLabChannel

        return GitLabChannel(shell, stdout, stderr)
    from .shell import ShellChannel

    return ShellChannel(shell, stdout, stderr)
