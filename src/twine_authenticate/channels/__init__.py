"""How results reach the later steps of a job: one module per CI system or shell."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from .base import Channel

CI_NAMES = ("azure", "shell")


def detect_ci(env: Mapping[str, str]) -> str:
    if env.get("TF_BUILD", "").lower() == "true":
        return "azure"
    return "shell"


def open_channel(
    ci: str, env: Mapping[str, str], *, shell: str, stdout: TextIO, stderr: TextIO
) -> Channel:
    if ci == "azure":
        from .azure_pipelines import AzurePipelinesChannel

        debug = env.get("SYSTEM_DEBUG", "").lower() == "true"
        return AzurePipelinesChannel(stdout, debug=debug)
    from .shell import ShellChannel

    return ShellChannel(shell, stdout, stderr)
