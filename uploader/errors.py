"""Every error the uploader raises, in one tree.

    UploaderError
    ├── ConfigError            bad configuration or usage; the message names the key or flag
    ├── MissingDependencyError an optional extra is not installed
    ├── QueueError             the queue's storage failed
    └── RegistryError          a call to the registry did not succeed (status, account)
        ├── TransientError     the token endpoint could not answer now; try again later
        │   └── TransportError timeout, reset, refused connection: no answer at all
        ├── Rejected           400/413/422 to a registration call; carries the registry's errors
        └── AuthError          the token endpoint refused the account's credentials

Each class's docstring is its default message. The push path raises none of these for an
answer: `uploader.registry.answers.classify` says what every answer means, and
`uploader.push.policy.decide` what the push path does about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class UploaderError(Exception):
    """The uploader failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (type(self).__doc__ or type(self).__name__).strip())


class ConfigError(UploaderError):
    """The configuration is invalid."""


class MissingDependencyError(UploaderError):
    """An optional dependency is not installed."""


class QueueError(UploaderError):
    """The queue's storage failed."""


class RegistryError(UploaderError):
    """The registry did not accept a request."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        account: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.account = account


class TransientError(RegistryError):
    """The registry could not take the request now; it will be sent again."""


class TransportError(TransientError):
    """The request did not complete: timeout, reset or refused connection."""


class Rejected(RegistryError):
    """The registry rejected records of the request."""

    def __init__(self, errors: Sequence[Any], message: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.errors = list(errors)


class AuthError(RegistryError):
    """The registry refused the account's credentials."""
