"""What a command's outcome tells the user and the later steps, through a CI channel: the
summary in words, then the variables, delivered at once."""

from __future__ import annotations

from ._records import TYPE_CHECKING
from .clients import EXPORTS_VARIABLE

if TYPE_CHECKING:
    from .channels import Channel
    from .commands.authenticate import Authenticated
    from .commands.cleanup import Cleaned

ORIGINS = (
    "internal feed",
    "service connection",
    "--repository",
    "workload identity",
    "entra federation",
    "trusted publishing",
    "pyproject.toml",
)
KEYLESS = {
    "workload identity": "through workload identity",
    "entra federation": "through Entra federation",
    "trusted publishing": "through Trusted Publishing",
    "pyproject.toml": "declared in pyproject.toml",
}


def report_authenticated(channel: Channel, outcome: Authenticated) -> None:
    _summary(channel, outcome)
    channel.deliver(outcome.variables, outcome.cleared)


def report_cleaned(channel: Channel, cleaned: Cleaned) -> None:
    for path in cleaned.removed:
        channel.info(f"Removed the credentials file {path} and its directory.")
    if not cleaned.removed:
        channel.info(
            "Nothing to clean up: no credentials file written by twine-authenticate "
            "was found for this job."
        )
    if cleaned.foreign:
        channel.info(
            f"PYPIRC_PATH names {cleaned.foreign}, which this tool did not write for this "
            "shell or job; left untouched."
        )
    clients = [name for name in cleaned.cleared if name != EXPORTS_VARIABLE]
    channel.advise([], clients)
    channel.deliver([], cleaned.cleared)


def _summary(channel: Channel, outcome: Authenticated) -> None:
    for warning in outcome.warnings:
        channel.warning(warning)
    repositories = outcome.repositories
    count = len(repositories)
    channel.info(f"Adding authentication for {count} repositor{'y' if count == 1 else 'ies'}:")
    width = max(len(repository.name) for repository in repositories)
    for repository in repositories:
        channel.info(
            f"  {repository.name:<{width}}  {repository.url}  ({repository.origin}, "
            f"user {repository.username}{_expiry(repository.expires)})"
        )
    counts = {origin: sum(r.origin == origin for r in repositories) for origin in ORIGINS}
    extra = [f"{counts[origin]} {text}" for origin, text in KEYLESS.items() if counts[origin]]
    channel.info(
        f"Successfully added auth for {counts['internal feed']} internal feed(s), "
        f"{counts['service connection']} service connection(s) and {counts['--repository']} "
        "other repositories" + (", and " + " and ".join(extra) if extra else "") + "."
    )
    channel.info(f"Credentials file: {outcome.path}")
    channel.info(
        f'Upload with: twine upload -r {repositories[0].name} --config-file "$PYPIRC_PATH" dist/*'
    )
    for line in outcome.checked:
        channel.info(line)
    for export in outcome.exports:
        names = ", ".join(variable.name for variable in export.variables)
        channel.info(f"{export.client}: exported {names} for {export.repository}.")
        channel.info(f"  Upload with: {export.command}")
        for warning in export.warnings:
            channel.warning(warning)
    secret_names = [variable.name for variable in outcome.variables if variable.secret]
    channel.advise(secret_names, outcome.cleared)


def _expiry(expires: float | None) -> str:
    """When a minted credential stops working, for the summary."""
    if expires is None:
        return ""
    import time

    minutes = max(0, round((expires - time.time()) / 60))
    return f", expires {time.strftime('%H:%M:%S UTC', time.gmtime(expires))}, in {minutes} min"
