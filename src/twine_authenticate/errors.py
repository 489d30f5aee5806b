"""The errors a run can end with. Their messages are shown to users as they are, so they
name the input at fault and what to do, and never hold a secret."""

from __future__ import annotations


class TwineAuthenticateError(Exception):
    """Base of every error this tool reports; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class InputError(TwineAuthenticateError):
    """The request itself is wrong: a flag, an input or an environment variable."""

    exit_code = 2


class ServiceError(TwineAuthenticateError):
    """A service refused, or could not be reached, while resolving a repository."""

    exit_code = 1


class StorageError(TwineAuthenticateError):
    """The credentials file could not be written or removed safely."""

    exit_code = 1
