"""Shared test support: running the tool as users do, recording everything it prints, and the
real servers and programs the tests use.

- ``running``: the tool and other programs, run and recorded for the leak check; secrets.
- ``servers``: start a server program, wait until it listens, stop it within a bound.
- ``index``: a real pypiserver, and ``IndexServer.published``, the one read-back.
- ``auth_proxy``: a real proxy that needs a password (imported where used: it is not free).
- ``azure``: the one way a test builds an Azure Pipelines agent job (the ``azure_job`` fixture).
- ``os_tools``: programs that come from the OS, not from pip, and the skip when one is missing.
- ``projects``: tiny real projects to build and publish.
"""

from __future__ import annotations

from tests.support.index import IndexServer, running_index
from tests.support.os_tools import require_program
from tests.support.projects import build_distribution, make_flit_project
from tests.support.running import (
    RECORDED,
    SECRETS,
    TOOL,
    VENV_BIN,
    Run,
    base_env,
    new_secret,
    register_secret,
    run,
    run_tool,
)
from tests.support.servers import ServerProcess, free_port, running_server, wait_for_port

__all__ = [
    "RECORDED",
    "SECRETS",
    "TOOL",
    "VENV_BIN",
    "IndexServer",
    "Run",
    "ServerProcess",
    "base_env",
    "build_distribution",
    "free_port",
    "make_flit_project",
    "new_secret",
    "register_secret",
    "require_program",
    "run",
    "run_tool",
    "running_index",
    "running_server",
    "wait_for_port",
]
