"""Azure DevOps: the agent's environment contract and the location service."""
