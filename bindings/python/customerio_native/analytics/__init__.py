"""Customer.io Data Pipelines: a drop-in for the official ``customerio-cdp-analytics`` package.

Change the import and nothing else::

    from customerio_native import analytics     # instead of: from customerio import analytics

    analytics.write_key = 'YOUR_WRITE_KEY'
    analytics.track(user_id=4, event='order_complete')

The module-level settings (``write_key``, ``host``, ``on_error``, ``debug``, ``send``,
``sync_mode``, ``max_queue_size``, ``gzip``, ``timeout``, ``max_retries``) are read when the
first call creates the default :class:`Client`; the module functions are that client's methods.
Beyond the official client: messages are validated before they are queued, a message over
32 KB, a full queue or a failed delivery is never dropped silently (an exception, or
``on_error``), ``Retry-After`` is honoured, every message carries a ULID ``messageId`` that
retries keep, and what is queued is delivered at interpreter exit even without
:func:`flush`. See :mod:`customerio_native.analytics.client`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

from .._core import __version__ as VERSION
from .client import Client, ErrorHandler, Id, Message
from .errors import (
    AnalyticsError,
    APIError,
    DeliveryError,
    MessageTooLargeError,
    QueueFullError,
    ValidationError,
)

__version__ = VERSION

__all__ = [
    "APIError",
    "AnalyticsError",
    "Client",
    "DeliveryError",
    "MessageTooLargeError",
    "QueueFullError",
    "VERSION",
    "ValidationError",
    "alias",
    "flush",
    "group",
    "identify",
    "join",
    "page",
    "screen",
    "shutdown",
    "track",
]

# Settings, read when the default client is created.
write_key: Optional[str] = Client.DefaultConfig.write_key
host: Optional[str] = Client.DefaultConfig.host
on_error: Optional[ErrorHandler] = Client.DefaultConfig.on_error
debug: bool = Client.DefaultConfig.debug
send: bool = Client.DefaultConfig.send
sync_mode: bool = Client.DefaultConfig.sync_mode
max_queue_size: int = Client.DefaultConfig.max_queue_size
gzip: bool = Client.DefaultConfig.gzip
timeout: float = Client.DefaultConfig.timeout
max_retries: int = Client.DefaultConfig.max_retries
# Ours only (the official client does not pace): see Client's max_requests_per_second.
max_requests_per_second: Optional[float] = None
# Ours only: False sends without X-Strict-Mode, as the official client (see Client's
# strict_mode).
strict_mode: bool = True

default_client: Optional[Client] = None


# The calls name their parameters (the official ones, in its order) rather than forwarding
# *args/**kwargs: packing and unpacking those cost more than the rest of the module's share.


def track(user_id: Optional[Id] = None, event: Optional[str] = None,
          properties: Optional[Mapping[str, Any]] = None,
          context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
          anonymous_id: Optional[Id] = None, integrations: Optional[Mapping[str, Any]] = None,
          message_id: Any = None) -> Tuple[bool, Message]:
    """Send a track call (see :meth:`Client.track`)."""
    return (default_client or _default()).track(user_id, event, properties, context, timestamp,
                                                 anonymous_id, integrations, message_id)


def identify(user_id: Optional[Id] = None, traits: Optional[Mapping[str, Any]] = None,
             context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
             anonymous_id: Optional[Id] = None, integrations: Optional[Mapping[str, Any]] = None,
             message_id: Any = None) -> Tuple[bool, Message]:
    """Send an identify call (see :meth:`Client.identify`)."""
    return (default_client or _default()).identify(user_id, traits, context, timestamp,
                                                    anonymous_id, integrations, message_id)


def group(user_id: Optional[Id] = None, group_id: Optional[Id] = None,
          traits: Optional[Mapping[str, Any]] = None,
          context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
          anonymous_id: Optional[Id] = None, integrations: Optional[Mapping[str, Any]] = None,
          message_id: Any = None) -> Tuple[bool, Message]:
    """Send a group call (see :meth:`Client.group`)."""
    return (default_client or _default()).group(user_id, group_id, traits, context, timestamp,
                                                 anonymous_id, integrations, message_id)


def alias(previous_id: Optional[Id] = None, user_id: Optional[Id] = None,
          context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
          integrations: Optional[Mapping[str, Any]] = None,
          message_id: Any = None) -> Tuple[bool, Message]:
    """Send an alias call (see :meth:`Client.alias`)."""
    return (default_client or _default()).alias(previous_id, user_id, context, timestamp,
                                                 integrations, message_id)


def page(user_id: Optional[Id] = None, category: Optional[str] = None,
         name: Optional[str] = None, properties: Optional[Mapping[str, Any]] = None,
         context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
         anonymous_id: Optional[Id] = None, integrations: Optional[Mapping[str, Any]] = None,
         message_id: Any = None) -> Tuple[bool, Message]:
    """Send a page call (see :meth:`Client.page`)."""
    return (default_client or _default()).page(user_id, category, name, properties, context,
                                                timestamp, anonymous_id, integrations,
                                                message_id)


def screen(user_id: Optional[Id] = None, category: Optional[str] = None,
           name: Optional[str] = None, properties: Optional[Mapping[str, Any]] = None,
           context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
           anonymous_id: Optional[Id] = None, integrations: Optional[Mapping[str, Any]] = None,
           message_id: Any = None) -> Tuple[bool, Message]:
    """Send a screen call (see :meth:`Client.screen`)."""
    return (default_client or _default()).screen(user_id, category, name, properties, context,
                                                  timestamp, anonymous_id, integrations,
                                                  message_id)


def flush() -> None:
    """Send what is queued and wait until it is delivered or reported."""
    _default().flush()


def join() -> None:
    """Deliver what is queued, then stop the default client."""
    _default().join()


def shutdown() -> None:
    """Flush, then stop the default client."""
    _default().shutdown()


def _default() -> Client:
    """The default client, created from the settings above at the first call."""
    global default_client
    if not default_client:
        default_client = Client(write_key, host=host, debug=debug, max_queue_size=max_queue_size,
                                send=send, on_error=on_error, gzip=gzip,
                                max_retries=max_retries, sync_mode=sync_mode, timeout=timeout,
                                max_requests_per_second=max_requests_per_second,
                                strict_mode=strict_mode)
    return default_client
