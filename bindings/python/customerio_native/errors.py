"""Exception classes, named as in the official ``customerio`` and ``async-customerio`` packages.

Every exception raised for a failed call carries what libcustomerio reported:

* ``str(exc)`` / ``exc.message``: one English sentence from the C library, naming the call and
  the field ("identify: customer_id is empty"); it never contains a key;
* ``exc.status``: the last HTTP status received, or ``None`` when nothing was received;
* ``exc.body``: the server's last response body as text, or ``None``;
* ``exc.code``: the ``cio_status_t`` value, and ``exc.code_name`` its name ("auth", ...);
* ``exc.attempts``: how many HTTP attempts were made (0 when nothing was sent);
* ``exc.server_code`` / ``exc.server_message``: what Customer.io's error answer says, read by
  libcustomerio (cio_error_t): the Pipelines API's ``"code"`` ("invalid_request"), and the
  explanation (the App API's ``meta.error``, ``"message"``, or the first of ``"errors"``);
  ``None`` when the answer has none (or for a failure without an answer, and for asyncio calls,
  whose completions do not carry them).
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "CustomerIOException",
    "BaseAsyncCustomerIOError",
    "AsyncCustomerIOError",
    "AsyncCustomerIORetryableError",
    "InvalidValueError",
]


class _ErrorDetails(Exception):
    """The details every error of this package carries (see the module docstring)."""

    def __init__(
        self,
        message: str = "",
        *,
        status: Optional[int] = None,
        body: Optional[str] = None,
        code: int = 0,
        code_name: str = "",
        attempts: int = 0,
        server_code: Optional[str] = None,
        server_message: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.code = code
        self.code_name = code_name
        self.attempts = attempts
        self.server_code = server_code
        self.server_message = server_message


class CustomerIOException(_ErrorDetails):
    """Raised by :class:`~customerio_native.CustomerIO` and
    :class:`~customerio_native.APIClient` for every failure (as the official client does)."""


class BaseAsyncCustomerIOError(_ErrorDetails):
    """Base error of the asyncio clients."""


class AsyncCustomerIOError(BaseAsyncCustomerIOError):
    """A failure that retrying will not fix: bad input, 4xx, configuration."""


class AsyncCustomerIORetryableError(BaseAsyncCustomerIOError):
    """A failure that may pass later: 429, 5xx, network errors and timeouts (still failing after
    the client's own retries)."""


class InvalidValueError(CustomerIOException, AsyncCustomerIOError, TypeError):
    """A value JSON cannot carry (a ``date``, ``Decimal``, ``set``, ``bytes``, any other object,
    a dict that contains itself), raised before anything is sent; the message says where it is
    (``data.items[2] is a Decimal JSON cannot carry``). Caught by ``except CustomerIOException``
    (customerio 3.2 raises that class here), by ``except AsyncCustomerIOError`` (what
    async-customerio 2.18 raises) and, as before, by ``except TypeError``."""
