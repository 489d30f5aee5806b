"""The one way a test builds an Azure Pipelines agent job (see tests/pipeline.py for the agent
itself); conftest hands it out as the ``azure_job`` fixture."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.fake_azure_devops import FakeAzureDevOps
from tests.pipeline import AzureAgentJob


class AzureJobs:
    """Makes jobs in a test's temporary directory, each in a folder of its own."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.count = 0

    def __call__(
        self,
        fake: FakeAzureDevOps | None = None,
        *,
        job_token: bool = True,
        server_type: str = "Hosted",
        env: Mapping[str, str] | None = None,
    ) -> AzureAgentJob:
        """A job of the organization ``fake`` stands for, whose task steps get its job access
        token (unless ``job_token`` is false: then only a step that maps System.AccessToken
        has it). Without ``fake``: a job of the default organization, with no token, for
        service connections. ``env``: the agent's further variables (proxy, CA, ...)."""
        self.count += 1
        folder = self.tmp / ("job" if self.count == 1 else f"job-{self.count}")
        if fake is None:
            return AzureAgentJob(folder, server_type=server_type, extra_env=dict(env or {}))
        return AzureAgentJob(
            folder,
            collection_url=fake.collection_url,
            server_type=server_type,
            job_token=fake.token if job_token else None,
            extra_env=dict(env or {}),
        )
