"""The exceptions of :mod:`customerio_native.analytics`.

:class:`APIError` is the official ``customerio.analytics.request.APIError``: ``status`` (the
HTTP status), ``code`` and ``message`` (from Customer.io's answer), ``str()`` in the official
form. Where the official client raises ``AssertionError`` (bad arguments) or ``RuntimeError``
(a message over 32 KB), the exceptions here are subclasses of those, so code written for it
catches them unchanged. Every one is an :class:`AnalyticsError` with:

* ``message``: one sentence (libcustomerio's, naming the call and the field; never a key);
* ``status``: the HTTP status of the last answer, or None when there was none;
* ``code``: Customer.io's error code (``"invalid_request"``, ...) for an :class:`APIError`,
  otherwise libcustomerio's status name (``"invalid argument"``, ``"network error"``, ...);
* ``attempts``: HTTP attempts made (0 when nothing was sent); ``body``: the answer, or None.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "APIError",
    "AnalyticsError",
    "DeliveryError",
    "MessageTooLargeError",
    "QueueFullError",
    "ValidationError",
]


class AnalyticsError(Exception):
    """Base class of every error :mod:`customerio_native.analytics` raises or reports."""

    def __init__(
        self,
        message: str = "",
        *,
        status: Optional[int] = None,
        code: str = "",
        attempts: int = 0,
        body: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.attempts = attempts
        self.body = body


class ValidationError(AnalyticsError, AssertionError):
    """A message (or the client's configuration) refused before anything was sent: a missing
    ``user_id``/``anonymous_id``, ``previous_id`` or ``group_id``, ``traits`` that are not a
    dict, a value JSON cannot carry, no write key. An ``AssertionError``, like the official
    client's ``require()`` failures."""


class MessageTooLargeError(AnalyticsError, RuntimeError):
    """A message over the Pipelines API's 32 KB limit; nothing was queued. A ``RuntimeError``,
    like the official client's."""


class QueueFullError(AnalyticsError):
    """``max_queue_size`` messages are waiting or in flight; this one was not queued (the
    official client returns ``(False, msg)`` and drops it)."""


class APIError(AnalyticsError):
    """Customer.io answered with an error status (after the retries a retryable one gets).
    Constructed as the official one: ``APIError(status, code, message)``."""

    def __init__(
        self,
        status: Optional[int],
        code: str,
        message: str,
        *,
        attempts: int = 0,
        body: Optional[str] = None,
    ) -> None:
        super().__init__(message, status=status, code=code, attempts=attempts, body=body)

    def __str__(self) -> str:
        return "[customer.io] {0}: {1} ({2})".format(self.code, self.message, self.status)


class DeliveryError(AnalyticsError):
    """No answer from Customer.io: a network error, a timeout, or a client shut down before
    the message could go (``code`` names which)."""
