"""Reporting webhooks: signature checks, event parsing and redelivery de-duplication, on
libcustomerio (HMAC-SHA256 and constant-time comparison in OpenSSL, parsing in C).

``validate_signature`` is ``async-customerio``'s function, same name, arguments and result::

    from customerio_native import validate_signature

    if not validate_signature(signing_key, request.headers["X-CIO-Timestamp"], raw_body,
                              request.headers["X-CIO-Signature"]):
        return 401

Always pass the raw body bytes as received, never a re-serialised copy.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Tuple, Union

from . import _native as _n
from ._core import translate
from .errors import CustomerIOException

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "Deduplicator",
    "WebhookError",
    "WebhookEvent",
    "handle",
    "header_value",
    "parse",
    "sign",
    "validate_signature",
    "verify",
]

Body = Union[bytes, bytearray, memoryview, str]

DEFAULT_TOLERANCE_SECONDS = 300


class WebhookError(CustomerIOException):
    """A webhook that failed verification or parsing: ``code_name`` is "signature mismatch",
    "stale timestamp" or "invalid argument"."""


def _call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except _n.Error as e:
        raise translate(e, WebhookError) from None


def validate_signature(signing_key: str, timestamp: Union[int, str], request_body: Body,
                       signature: str) -> bool:
    """True when ``signature`` (the X-CIO-Signature header, optionally ``v0=``-prefixed) is
    Customer.io's HMAC-SHA256 of ``v0:<timestamp>:<request_body>`` under ``signing_key``.
    As in async-customerio, the timestamp's age is not checked: use :func:`verify` for that."""
    try:
        _n.cio_webhook_verify(signing_key, str(timestamp), signature, request_body, 0, 0)
    except _n.Error:
        return False
    return True


def verify(signing_key: str, timestamp: Union[int, str], body: Body, signature: str,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS, now: Optional[int] = None) -> None:
    """Like :func:`validate_signature`, raising :class:`WebhookError` instead of returning
    False, and also refusing a timestamp more than ``tolerance`` seconds from ``now`` (default:
    the current time; ``tolerance=0`` disables the check)."""
    _call(_n.cio_webhook_verify, signing_key, str(timestamp), signature, body, int(tolerance),
          int(now or 0))


def sign(signing_key: str, timestamp: Union[int, str], body: Body) -> str:
    """The signature Customer.io sends for (timestamp, body): 64 lowercase hex characters."""
    return _call(_n.cio_webhook_sign, signing_key, str(timestamp), body)


class WebhookEvent(NamedTuple):
    """One reporting event. ``data`` is the event's "data" object and ``raw`` the whole event,
    unknown fields included."""

    event_id: str
    object_type: str
    metric: str
    timestamp: int
    delivery_id: Optional[str]
    data: Dict[str, Any]
    raw: Dict[str, Any]


def parse(body: Body) -> List[WebhookEvent]:
    """Parses a webhook body (one event, or ``{"events": [...]}``); unknown metrics, object
    types and fields pass through. Raises :class:`WebhookError` naming what is wrong."""
    events = _call(_n.cio_webhook_parse, body)
    return [
        WebhookEvent(event_id, object_type, metric, timestamp, delivery_id,
                     json.loads(data_json), json.loads(raw))
        for event_id, object_type, metric, timestamp, delivery_id, data_json, raw in events
    ]


class Deduplicator:
    """A bounded set of recently seen ``event_id``\\ s, to drop Customer.io's redeliveries:
    at most ``capacity`` ids, each kept ``ttl_seconds`` (0: until evicted). Thread-safe."""

    def __init__(self, capacity: int = 10000, ttl_seconds: int = 86400) -> None:
        self._ptr: Any = None
        self._ptr = _call(_n.cio_webhook_dedup_new, int(capacity), int(ttl_seconds))

    def seen(self, event_id: str, now: Optional[int] = None) -> bool:
        """True if ``event_id`` was seen recently (a redelivery); otherwise records it."""
        if self._ptr is None:
            raise WebhookError("the deduplicator is closed")
        return _call(_n.cio_webhook_dedup_check, self._ptr, event_id, int(now or 0))

    def __len__(self) -> int:
        return _n.cio_webhook_dedup_size(self._ptr) if self._ptr is not None else 0

    def close(self) -> None:
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            _n.cio_webhook_dedup_free(ptr)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # pragma: no cover
            pass


# ---- framework adapters -----------------------------------------------------------------------

Headers = Union[Mapping[str, Any], Iterable[Tuple[Any, Any]]]

TIMESTAMP_HEADER = "X-CIO-Timestamp"
SIGNATURE_HEADER = "X-CIO-Signature"


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else str(value)


def header_value(headers: Headers, name: str) -> Optional[str]:
    """One header from whatever a framework hands over: a mapping of names to values (Flask,
    Django's ``request.headers``, Starlette), a WSGI ``environ`` (``HTTP_X_CIO_TIMESTAMP``), or
    ASGI's ``scope["headers"]`` (a list of ``(bytes, bytes)`` pairs). Names match in any case."""
    wanted = name.lower()
    if isinstance(headers, Mapping):
        wsgi_key = "HTTP_" + name.upper().replace("-", "_")
        if wsgi_key in headers:
            return _text(headers[wsgi_key])
        items: Iterable[Tuple[Any, Any]] = headers.items()
    else:
        items = headers
    for key, value in items:
        if _text(key).lower() == wanted:
            return _text(value)
    return None


def handle(signing_key: str, headers: Headers, body: Body,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS,
           deduplicator: Optional[Deduplicator] = None) -> List[WebhookEvent]:
    """Verifies and parses one webhook request as any ASGI or WSGI framework gives it: the
    headers (see :func:`header_value`) and the raw body bytes. Returns its events, without the
    ones ``deduplicator`` has already seen (Customer.io redelivers). Raises
    :class:`WebhookError` when a header is missing, the signature is wrong, the timestamp is
    outside ``tolerance`` seconds, or the body is not a webhook: answer 401 (or 400) then.

    WSGI::

        events = webhooks.handle(KEY, environ, environ["wsgi.input"].read())

    ASGI (raw body read from ``receive``)::

        events = webhooks.handle(KEY, scope["headers"], body)
    """
    timestamp = header_value(headers, TIMESTAMP_HEADER)
    signature = header_value(headers, SIGNATURE_HEADER)
    if timestamp is None or signature is None:
        raise WebhookError("webhook: the {} header is missing".format(
            TIMESTAMP_HEADER if timestamp is None else SIGNATURE_HEADER))
    verify(signing_key, timestamp, body, signature, tolerance)
    events = parse(body)
    if deduplicator is None:
        return events
    return [e for e in events if not deduplicator.seen(e.event_id)]

