"""The asyncio Track API client, in the shape of ``async-customerio``'s ``AsyncCustomerIO`` (2.x),
on libcustomerio's completion queues.

Each client owns one ``cio_queue_t``; the running event loop watches its file descriptor
(``loop.add_reader``). A call hands its request to the client's engine thread and returns a
future at once; when the request is done (retries included) its completion wakes the loop, which
resolves the future. A thousand calls in flight use no more threads than one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import (Any, Awaitable, Callable, Dict, List, Optional, Protocol, Union,
                    runtime_checkable)

from . import _mapping as m
from ._core import (
    RESULT_JSON,
    RESULT_NONE,
    AsyncEngine,
    NativeClient,
    base_url,
    client_options,
    native_kwargs,
    region_code,
)
from .constants import IdentifierCIOID, IdentifierEMAIL, IdentifierID
from .errors import AsyncCustomerIOError
from .regions import Region, Regions
from .v2 import Actions, EntityPayload, TrackAPIV2

__all__ = ["AsyncCustomerIO", "RequestTimeout", "DEFAULT_REQUEST_TIMEOUT", "RequestLimits",
           "DEFAULT_REQUEST_LIMITS", "RetryStrategy"]

Id = Union[str, int]


class RequestTimeout:
    """Request timeout configuration, as in ``async-customerio``: ``timeout`` seconds for a whole
    attempt; None means libcustomerio's default (10 s)."""

    def __init__(self, timeout: Optional[float] = None) -> None:
        self.timeout = timeout

    def __repr__(self) -> str:
        return "RequestTimeout(timeout={!r})".format(self.timeout)


DEFAULT_REQUEST_TIMEOUT = RequestTimeout(timeout=10.0)


@dataclass
class RequestLimits:
    """Connection pool limits, as async-customerio's ``RequestLimits``. ``max_connections``
    becomes libcustomerio's connections per host; ``max_keepalive_connections`` and
    ``keepalive_expiry`` are accepted and not used (libcustomerio keeps every connection of its
    pool alive and lets libcurl close idle ones)."""

    max_connections: Optional[int] = None
    max_keepalive_connections: Optional[int] = None
    keepalive_expiry: Optional[int] = None


DEFAULT_REQUEST_LIMITS = RequestLimits(max_connections=100, max_keepalive_connections=20,
                                       keepalive_expiry=5)


@runtime_checkable
class RetryStrategy(Protocol):
    """async-customerio's pluggable retry protocol: ``await strategy.execute(func, *args,
    **kwargs)`` calls ``func`` (one attempt) as often as it sees fit, retrying only on
    :class:`AsyncCustomerIORetryableError`. Given to a client, it wraps every call, and
    libcustomerio makes one HTTP attempt per ``func`` call (its own retries are off)."""

    async def execute(self, func: Callable[..., Awaitable[Any]], *args: Any,
                      **kwargs: Any) -> Any:
        ...


# Connections per host an asyncio client may open (HTTP/2 over TLS multiplexes on fewer).
ASYNC_MAX_CONNECTIONS = 100


class AsyncEngineOwner:
    """Lifecycle shared by the asyncio clients: ``close()``, ``async with``, and freeing the
    engine when the client is garbage collected."""

    _engine: Optional[AsyncEngine] = None

    async def close(self) -> None:
        """Stops the client's engine and frees it; calls still in flight fail. Idempotent."""
        if self._engine is not None:
            self._engine.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    def __del__(self) -> None:
        try:
            if self._engine is not None:
                self._engine.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass


def _blank(value: Any) -> bool:
    """async-customerio's blank test (``if not value``): None, "", and 0 too."""
    return not value


def _require(call: str, **values: Any) -> None:
    for name, value in values.items():
        if _blank(value):
            raise AsyncCustomerIOError("{} cannot be blank in {}".format(name, call))


# async-customerio 2.18's MAX_SEGMENT_CUSTOMER_IDS (Customer.io's limit per request).
MAX_SEGMENT_CUSTOMER_IDS = 1000


def _check_segment_call(call: str, segment_id: Any, customer_ids: Any) -> None:
    """async-customerio's argument checks for segment membership, with its messages."""
    _require(call, segment_id=segment_id, customer_ids=customer_ids)
    if len(customer_ids) > MAX_SEGMENT_CUSTOMER_IDS:
        raise AsyncCustomerIOError("customer_ids cannot exceed {} items in {}".format(
            MAX_SEGMENT_CUSTOMER_IDS, call))


class AsyncCustomerIO(AsyncEngineOwner):
    """Async client for the Track API v1 and (``.v2``) v2, in the shape of async-customerio
    2.18's ``AsyncCustomerIO``.

    :param site_id: the workspace's site id (None: ``CUSTOMERIO_SITE_ID``).
    :param api_key: the Track API key (None: ``CUSTOMERIO_API_KEY``).
    :param host: a host (or URL) replacing the region's Track host, reached over https as
        async-customerio does, whatever the port; plain http only with an explicit scheme
        (``host="http://127.0.0.1"``, the local emulator).
    :param region: :attr:`Regions.US` (default) or :attr:`Regions.EU`.
    :param port: the port for ``host``.
    :param retries: retries after the first attempt (async-customerio 2.18 ignores it and
        retries nothing by itself; libcustomerio retries network errors, 408, 429 and 5xx with
        backoff).
    :param request_timeout: a :class:`RequestTimeout`.
    :param request_limits: a :class:`RequestLimits`; ``max_connections`` is used.
    :param user_agent: the User-Agent header.
    :param retry_strategy: a :class:`RetryStrategy` wrapping every call; libcustomerio then
        makes one attempt per try.

    Ids are refused as blank the way async-customerio refuses them (``if not value``): None,
    ``""`` and ``0`` raise :class:`AsyncCustomerIOError` before anything is sent.

    Use ``async with AsyncCustomerIO(...) as cio:`` or ``await cio.close()`` to free the client's
    engine when done.
    """
    API_PREFIX: str = "/api/v1"
    API_V2_PREFIX: str = "/api/v2"
    DEFAULT_API_PORT: int = 443
    DEFAULT_API_HOST: str = Regions.US.track_host

    def __init__(
        self,
        site_id: Optional[str] = None,
        api_key: Optional[str] = None,
        host: Optional[str] = None,
        region: Region = Regions.US,
        port: Optional[int] = None,
        retries: int = 3,
        request_timeout: RequestTimeout = DEFAULT_REQUEST_TIMEOUT,
        request_limits: Optional[RequestLimits] = None,
        user_agent: Optional[str] = None,
        retry_strategy: Optional[RetryStrategy] = None,
        *,
        json_encoder: Any = None,
        ca_file: Optional[str] = None,
        **options: Any,
    ) -> None:
        self._engine: Optional[AsyncEngine] = None
        if retry_strategy is not None and not callable(getattr(retry_strategy, "execute", None)):
            raise AsyncCustomerIOError("retry_strategy must have an async execute() method")
        self._retry_strategy = retry_strategy
        limit = getattr(request_limits, "max_connections", None)
        region_value = region_code(region, AsyncCustomerIOError)
        self.site_id = site_id
        self.region = region
        self.host = host or region.track_host
        self.port = port or self.DEFAULT_API_PORT
        self.json_encoder = json_encoder
        track_url = base_url(host, port, None, region.track_host, "/api/v1", AsyncCustomerIOError)
        timeout: Any = getattr(request_timeout, "timeout", request_timeout)
        native = NativeClient(
            AsyncCustomerIOError,
            **native_kwargs(
                "AsyncCustomerIO", options,
                site_id=site_id,
                api_key=api_key,
                region=region_value,
                track_url=track_url,
                user_agent=user_agent,
                # async-customerio's httpx pool allows 100 connections; 1,000 awaits in flight over
                # HTTP/1.1 (a relay, the emulator) would otherwise queue behind the C default of 8.
                max_connections=int(limit) if limit else ASYNC_MAX_CONNECTIONS,
                **client_options(retries=0 if retry_strategy is not None else retries,
                                 timeout=timeout, ca_file=ca_file),
            ),
        )
        self._engine = AsyncEngine(native)
        self._v2: Optional[TrackAPIV2] = None

    # ---- plumbing -------------------------------------------------------------------------

    async def _submit(self, kind: int, spec: m.Spec) -> Any:
        if self._retry_strategy is not None:
            return await self._retry_strategy.execute(self._attempt, kind, spec)
        return await self._attempt(kind, spec)

    async def _attempt(self, kind: int, spec: m.Spec) -> Any:
        if self._engine is None:  # pragma: no cover - __init__ failed half-way
            raise AsyncCustomerIOError("the client is closed")
        return await self._engine.submit(kind, *spec)


    @property
    def v2(self) -> TrackAPIV2:
        """The Track API v2 helpers, sharing this client's engine and credentials."""
        if self._v2 is None:
            self._v2 = TrackAPIV2(self._submit, self.json_encoder)
        return self._v2

    # ---- Track API v1 ---------------------------------------------------------------------

    async def identify(self, identifier: Optional[Id] = None, **attrs: Any) -> None:
        """Identify a single customer by their unique id, and optionally add attributes.

        ``identify(id=5, email=...)`` (the official sync client's keyword) works too.
        """
        if identifier is None and "id" in attrs:
            identifier = attrs.pop("id")
        _require("identify", identifier=identifier)
        await self._submit(RESULT_NONE, m.identify(identifier, attrs, self.json_encoder))

    async def track(self, customer_id: Id, name: str, **data: Any) -> None:
        """Track an event for a given customer_id (2.18's shape: keyword arguments are the
        event's data)."""
        _require("track", customer_id=customer_id)
        await self._submit(RESULT_NONE, m.track(customer_id, name, data, self.json_encoder))

    async def track_anonymous(self, anonymous_id: Optional[str], name: str, **data: Any) -> None:
        """Track an event for a given anonymous_id (blank: an event without a person)."""
        await self._submit(RESULT_NONE,
                           m.track_anonymous(anonymous_id, name, data, self.json_encoder))

    async def pageview(self, customer_id: Id, page: str, **data: Any) -> None:
        """Track a pageview for a given customer_id."""
        _require("pageview", customer_id=customer_id)
        await self._submit(RESULT_NONE, m.pageview(customer_id, page, data, self.json_encoder))

    async def screen(self, customer_id: Id, name: str, **data: Any) -> None:
        """Track a mobile screen view (not in async-customerio)."""
        _require("screen", customer_id=customer_id)
        await self._submit(RESULT_NONE, m.screen(customer_id, name, data, self.json_encoder))

    async def backfill(self, customer_id: Id, name: str, timestamp: Any, **data: Any) -> None:
        """Backfill an event (track with timestamp, a datetime or int) for a given customer_id."""
        _require("backfill", customer_id=customer_id)
        ts = m.backfill_timestamp(timestamp, AsyncCustomerIOError, strict=True)
        await self._submit(RESULT_NONE, m.backfill(customer_id, name, ts, data,
                                                   self.json_encoder))

    async def delete(self, customer_id: Id) -> None:
        """Delete a customer profile."""
        _require("delete", customer_id=customer_id)
        await self._submit(RESULT_NONE, m.delete(customer_id))

    async def add_device(self, customer_id: Id, device_id: str, platform: str,
                         **data: Any) -> None:
        """Add or update a device of a customer (platform "ios" or "android"); every keyword
        argument is a device field, sent as given (``last_used``, ``attributes``, any other)."""
        _require("add_device", customer_id=customer_id, device_id=device_id, platform=platform)
        await self._submit(RESULT_NONE, m.add_device(customer_id, device_id, platform, data,
                                                     self.json_encoder))

    async def delete_device(self, customer_id: Id, device_id: str) -> None:
        """Delete a customer device."""
        _require("delete_device", customer_id=customer_id, device_id=device_id)
        await self._submit(RESULT_NONE, m.delete_device(customer_id, device_id))

    async def suppress(self, customer_id: Id) -> None:
        """Suppress a customer profile."""
        _require("suppress", customer_id=customer_id)
        await self._submit(RESULT_NONE, m.suppress(customer_id))

    async def unsuppress(self, customer_id: Id) -> None:
        """Unsuppress a customer profile."""
        _require("unsuppress", customer_id=customer_id)
        await self._submit(RESULT_NONE, m.unsuppress(customer_id))

    async def merge_customers(self, primary_id_type: str, primary_id: Id,
                              secondary_id_type: str, secondary_id: Id) -> None:
        """Merge duplicate profiles: the secondary is merged into the primary and deleted."""
        if m.id_type(primary_id_type) is None:
            raise AsyncCustomerIOError("invalid primary id type")
        if m.id_type(secondary_id_type) is None:
            raise AsyncCustomerIOError("invalid secondary id type")
        if _blank(primary_id):
            raise AsyncCustomerIOError("primary customer_id cannot be blank")
        if _blank(secondary_id):
            raise AsyncCustomerIOError("secondary customer_id cannot be blank")
        await self._submit(RESULT_NONE, m.merge_customers(
            primary_id_type, primary_id, secondary_id_type, secondary_id, AsyncCustomerIOError))

    async def track_push_notification_event(self, event_name: str, delivery_id: str,
                                            device_id: str, timestamp: Any = None) -> None:
        """Report a push metric: opened, converted or delivered (not in async-customerio)."""
        await self._submit(RESULT_NONE, m.push_event(event_name, delivery_id, device_id,
                                                     timestamp))

    async def track_delivery_metric(self, metric_name: str, delivery_id: str,
                                    timestamp: Any = None, recipient: Optional[str] = None,
                                    reason: Optional[str] = None,
                                    href: Optional[str] = None) -> None:
        """Report a delivery metric (not in async-customerio)."""
        await self._submit(RESULT_NONE, m.delivery_metric(metric_name, delivery_id, timestamp,
                                                          recipient, reason, href))

    async def unsubscribe(self, delivery_id: str) -> None:
        """Custom unsubscribe handling: ``POST /unsubscribe/{delivery_id}``
        ``{"unsubscribe": true}`` (at the Track host's root)."""
        _require("unsubscribe", delivery_id=delivery_id)
        await self._submit(RESULT_NONE, m.unsubscribe(delivery_id))

    async def report_metric(self, delivery_id: str, metric: str, *, href: Optional[str] = None,
                            reason: Optional[str] = None, recipient: Optional[str] = None,
                            timestamp: Any = None) -> None:
        """Report a delivery metric for any channel (``POST /metrics``); timestamp is a
        datetime or unix seconds. libcustomerio checks the metric against Customer.io's list
        (sent, delivered, opened, clicked, converted, bounced, ...)."""
        _require("report_metric", delivery_id=delivery_id, metric=metric)
        await self._submit(RESULT_NONE, m.delivery_metric(metric, delivery_id, timestamp,
                                                          recipient, reason, href))

    async def report_push_metric(self, delivery_id: str, device_id: str, event: str, *,
                                 timestamp: Any = None) -> None:
        """Report a device-side push metric (``POST /push/events``): opened, converted or
        delivered; a missing timestamp is sent as now (libcustomerio's
        ``cio_track_push_event``)."""
        _require("report_push_metric", delivery_id=delivery_id, device_id=device_id,
                 event=event)
        await self._submit(RESULT_NONE, m.push_event(event, delivery_id, device_id, timestamp))

    async def get_region(self) -> Dict[str, Any]:
        """The region of the account the credentials belong to (``GET /accounts/region``):
        ``{"url", "region", "environment_id"}``."""
        return await self._submit(RESULT_JSON, m.region())  # type: ignore[no-any-return]

    async def submit_form(self, form_id: str, **data: Any) -> None:
        """Submit a form response (``POST /forms/{form_id}/submit`` ``{"data": {...}}``)."""
        _require("submit_form", form_id=form_id, data=data)
        await self._submit(RESULT_NONE, m.submit_form(form_id, data, self.json_encoder))

    async def add_to_segment(self, segment_id: Id, customer_ids: List[Id],
                             id_type: Optional[str] = None) -> None:
        """Add customers (at most 1,000) to a manual segment; id_type "id" (default), "email"
        or "cio_id"."""
        _check_segment_call("add_to_segment", segment_id, customer_ids)
        await self._submit(RESULT_NONE, m.segment(True, segment_id, customer_ids,
                                                  id_type or "id", AsyncCustomerIOError))

    async def remove_from_segment(self, segment_id: Id, customer_ids: List[Id],
                                  id_type: Optional[str] = None) -> None:
        """Remove customers (at most 1,000) from a manual segment."""
        _check_segment_call("remove_from_segment", segment_id, customer_ids)
        await self._submit(RESULT_NONE, m.segment(False, segment_id, customer_ids,
                                                  id_type or "id", AsyncCustomerIOError))

    # ---- Track API v2 (deprecated entry points of async-customerio, kept) -----------------

    async def send_entity(self, identifiers: Union[IdentifierID, IdentifierEMAIL, IdentifierCIOID],
                          type: str, action: Union[Actions, str], **attrs: Any) -> None:
        """Send a single v2 entity operation: identify, delete, suppress or unsuppress a person,
        identify or delete an object (the other actions need more than attributes: use the
        :attr:`v2` helpers)."""
        await self._submit(RESULT_NONE, m.send_entity(type, m.action_name(action), identifiers,
                                                      attrs, self.json_encoder,
                                                      AsyncCustomerIOError))

    async def send_batch(self, payload: List[EntityPayload]) -> Dict[str, Any]:
        """Send a batch of v2 entity operations; see :meth:`TrackAPIV2.send_batch`."""
        return await self.v2.send_batch(payload)
