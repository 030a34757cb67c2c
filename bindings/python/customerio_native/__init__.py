"""customerio-native: a Customer.io client on libcustomerio (C).

The same classes and methods as the official ``customerio`` package (3.x: ``CustomerIO``,
``APIClient`` and its request classes) and, for asyncio, as ``async-customerio`` (2.x:
``AsyncCustomerIO``, ``AsyncAPIClient``)::

    import customerio_native as customerio              # instead of: import customerio
    from customerio_native import AsyncCustomerIO       # instead of: from async_customerio ...

All real work (HTTP with one keep-alive pool per client, validation, payload building, retries
with backoff, Retry-After, base64 of attachments, the batching delivery ``Pipeline``) happens in
the C library; this package maps names and types. Logs go to
``logging.getLogger("customerio_native")``.
"""

from __future__ import annotations

import logging

from ._core import __version__
from .aio import (
    DEFAULT_REQUEST_LIMITS,
    DEFAULT_REQUEST_TIMEOUT,
    AsyncCustomerIO,
    RequestLimits,
    RequestTimeout,
    RetryStrategy,
)
from .aio_api import AsyncAPIClient
from .api import APIClient
from .constants import (
    CIOID,
    EMAIL,
    ID,
    IdentifierCIOID,
    IdentifierCIOObject,
    IdentifierEMAIL,
    IdentifierID,
    IdentifierObject,
    ObjectIdentifiers,
    PersonIdentifiers,
)
from .errors import (
    AsyncCustomerIOError,
    AsyncCustomerIORetryableError,
    BaseAsyncCustomerIOError,
    CustomerIOException,
    InvalidValueError,
)
from .pipeline import DeliveryReport, Pipeline, PipelineError, QueueFullError
from .regions import Region, Regions
from .worker import Worker, WorkerError
from .response import Response
from .send import (
    RequestError,
    SendEmailRequest,
    SendInAppRequest,
    SendInboxMessageRequest,
    SendPushRequest,
    SendSMSRequest,
    SendWhatsAppRequest,
)
from .track import CustomerIO
from .v2 import Actions, EntityPayload, SyncTrackAPIV2, TrackAPIV2

from . import _native

if hasattr(_native, "cio_webhook_verify"):  # built from a tree with customerio/webhook.h
    from . import webhooks
    from .webhooks import validate_signature

__all__ = [
    "Worker",
    "WorkerError",
    "__version__",
    "APIClient",
    "Actions",
    "AsyncAPIClient",
    "AsyncCustomerIO",
    "AsyncCustomerIOError",
    "AsyncCustomerIORetryableError",
    "BaseAsyncCustomerIOError",
    "CIOID",
    "CustomerIO",
    "CustomerIOException",
    "DEFAULT_REQUEST_LIMITS",
    "DEFAULT_REQUEST_TIMEOUT",
    "DeliveryReport",
    "EMAIL",
    "EntityPayload",
    "ID",
    "IdentifierCIOID",
    "IdentifierCIOObject",
    "IdentifierEMAIL",
    "IdentifierID",
    "IdentifierObject",
    "InvalidValueError",
    "ObjectIdentifiers",
    "PersonIdentifiers",
    "Pipeline",
    "PipelineError",
    "QueueFullError",
    "Region",
    "Regions",
    "RequestError",
    "RequestLimits",
    "RequestTimeout",
    "Response",
    "RetryStrategy",
    "SendEmailRequest",
    "SendInAppRequest",
    "SendInboxMessageRequest",
    "SendPushRequest",
    "SendSMSRequest",
    "SendWhatsAppRequest",
    "SyncTrackAPIV2",
    "TrackAPIV2",
]
if hasattr(_native, "cio_webhook_verify"):
    __all__ += ["validate_signature", "webhooks"]

logging.getLogger("customerio_native").addHandler(logging.NullHandler())
