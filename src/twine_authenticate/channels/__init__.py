"""How results reach the later steps of a job: one module per CI system or shell, each with
its own detection, in a dispatch list (the first that detects itself wins; a plain shell
always does)."""

from __future__ import annotations

from collections.abc import Mapping

from . import azure_pipelines, github_actions, gitlab_ci, shell
from .base import Channel, ChannelKind, Streams

CHANNELS: tuple[ChannelKind, ...] = (
    azure_pipelines.KIND,
    github_actions.KIND,
    gitlab_ci.KIND,
    shell.KIND,
)
CI_NAMES = tuple(kind.name for kind in CHANNELS)
SHELLS = shell.SHELLS


def detect_ci(env: Mapping[str, str]) -> str:
    """Each CI system sets one variable in every job; outside them, a plain shell."""
    return next(kind.name for kind in CHANNELS if kind.detect(env))


def open_channel(ci: str, env: Mapping[str, str], streams: Streams) -> Channel:
    kind = next(kind for kind in CHANNELS if kind.name == ci)
    return kind.open(env, streams)


__all__ = ["CHANNELS", "CI_NAMES", "SHELLS", "Channel", "Streams", "detect_ci", "open_channel"]
