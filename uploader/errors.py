"""Every error the uploader raises, in one tree.

    UploaderError
    ├── ConfigError            bad configuration or usage; the message names the key or flag
    ├── MissingDependencyError an optional extra is not installed
    ├── QueueError             the queue's storage failed
    └── RegistryError          a request to the registry did not succeed (batch_id, account)
        ├── TransientError     retried: the same batch goes again later
        │   ├── RateLimited    429; carries retry_after_s
        │   ├── ServerError    5xx
        │   └── TransportError timeout, reset, refused connection
        └── PermanentError     not retried as is
            ├── Rejected       400/422; carries the registry's errors
            ├── AuthError      401 after a fresh token
            └── Forbidden      403

Each class's docstring is its default message.
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
        batch_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.account = account
        self.batch_id = batch_id


class TransientError(RegistryError):
    """The registry could not take the request now; it will be sent again."""


class RateLimited(TransientError):
    """The registry answered 429 Too Many Requests."""

    def __init__(self, retry_after_s: float, message: str | None = None, **kw: Any) -> None:
        super().__init__(message, status=429, **kw)
        self.retry_after_s = retry_after_s


class ServerError(TransientError):
    """The registry answered with a server error."""


class TransportError(TransientError):
    """The request did not complete: timeout, reset or refused connection."""


class PermanentError(RegistryError):
    """The registry refused the request; sending it again unchanged will not help."""


class Rejected(PermanentError):
    """The registry rejected records of the request."""

    def __init__(self, errors: Sequence[Any], message: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.errors = list(errors)


class AuthError(PermanentError):
    """The registry refused the account's credentials."""


class Forbidden(PermanentError):
    """The registry forbade the account this request."""
