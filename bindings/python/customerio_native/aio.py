"""The asyncio Track API client, in the shape of ``async-customerio``'s ``AsyncCustomerIO`` (2.x),
on libcustomerio's completion queues.

Each client owns one ``cio_queue_t``; the running event loop watches its file descriptor
(``loop.add_reader``). A call hands its request to the client's engine thread and returns a
future at once; when the request is done (retries included) its completion wakes the loop, which
resolves the future. A thousand calls in flight use no more threads than one.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from . import _mapping as m
from ._core import (
    RESULT_NONE,
    AsyncEngine,
    NativeClient,
    base_url,
    client_options,
    region_code,
)
from .constants import IdentifierCIOID, IdentifierEMAIL, IdentifierID
from .errors import AsyncCustomerIOError
from .regions import Region, Regions
from .v2 import Actions, EntityPayload, TrackAPIV2

__all__ = ["AsyncCustomerIO", "RequestTimeout", "DEFAULT_REQUEST_TIMEOUT"]

Id = Union[str, int]


class RequestTimeout:
    """Request timeout configuration, as in ``async-customerio``: ``timeout`` seconds for a whole
    attempt; None means libcustomerio's default (10 s)."""

    def __init__(self, timeout: Optional[float] = None) -> None:
        self.timeout = timeout

    def __repr__(self) -> str:
        return "RequestTimeout(timeout={!r})".format(self.timeout)


DEFAULT_REQUEST_TIMEOUT = RequestTimeout(timeout=10.0)

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


class AsyncCustomerIO(AsyncEngineOwner):
    """Async client for the Track API v1 and (``.v2``) v2.

    :param site_id: the workspace's site id (None: ``CUSTOMERIO_SITE_ID``).
    :param api_key: the Track API key (None: ``CUSTOMERIO_API_KEY``).
    :param host: a host (or URL) replacing the region's Track host; with a port other than 443
        and no scheme it is reached over plain http (the local emulator, a relay).
    :param region: :attr:`Regions.US` (default) or :attr:`Regions.EU`.
    :param port: the port for ``host``.
    :param retries: retries after the first attempt.
    :param request_timeout: a :class:`RequestTimeout`.
    :param user_agent: the User-Agent header.

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
        user_agent: Optional[str] = None,
        *,
        json_encoder: Any = None,
        ca_file: Optional[str] = None,
    ) -> None:
        self._engine: Optional[AsyncEngine] = None
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
            site_id=site_id,
            api_key=api_key,
            region=region_value,
            track_url=track_url,
            user_agent=user_agent,
            # async-customerio's httpx pool allows 100 connections; 1,000 awaits in flight over
            # HTTP/1.1 (a relay, the emulator) would otherwise queue behind the C default of 8.
            max_connections=ASYNC_MAX_CONNECTIONS,
            **client_options(retries=retries, timeout=timeout, ca_file=ca_file),
        )
        self._engine = AsyncEngine(native)
        self._v2: Optional[TrackAPIV2] = None

    # ---- plumbing -------------------------------------------------------------------------

    async def _submit(self, kind: int, spec: m.Spec) -> Any:
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
        await self._submit(RESULT_NONE, m.identify(identifier, attrs, self.json_encoder))

    async def track(self, customer_id: Id, name: str, **data: Any) -> None:
        """Track an event for a given customer_id."""
        await self._submit(RESULT_NONE, m.track(customer_id, name, data, self.json_encoder))

    async def track_anonymous(self, anonymous_id: Optional[str], name: str, **data: Any) -> None:
        """Track an event for a given anonymous_id (blank: an event without a person)."""
        await self._submit(RESULT_NONE,
                           m.track_anonymous(anonymous_id, name, data, self.json_encoder))

    async def pageview(self, customer_id: Id, page: str, **data: Any) -> None:
        """Track a pageview for a given customer_id."""
        await self._submit(RESULT_NONE, m.pageview(customer_id, page, data, self.json_encoder))

    async def screen(self, customer_id: Id, name: str, **data: Any) -> None:
        """Track a mobile screen view (not in async-customerio)."""
        await self._submit(RESULT_NONE, m.screen(customer_id, name, data, self.json_encoder))

    async def backfill(self, customer_id: Id, name: str, timestamp: Any, **data: Any) -> None:
        """Backfill an event (track with timestamp, a datetime or int) for a given customer_id."""
        ts = m.backfill_timestamp(timestamp, AsyncCustomerIOError, strict=True)
        await self._submit(RESULT_NONE, m.backfill(customer_id, name, ts, data,
                                                   self.json_encoder))

    async def delete(self, customer_id: Id) -> None:
        """Delete a customer profile."""
        await self._submit(RESULT_NONE, m.delete(customer_id))

    async def add_device(self, customer_id: Id, device_id: str, platform: str,
                         **data: Any) -> None:
        """Add or update a device of a customer (platform "ios" or "android"; ``last_used``,
        ``attributes``)."""
        await self._submit(RESULT_NONE, m.add_device(customer_id, device_id, platform, data,
                                                     self.json_encoder, AsyncCustomerIOError))

    async def delete_device(self, customer_id: Id, device_id: str) -> None:
        """Delete a customer device."""
        await self._submit(RESULT_NONE, m.delete_device(customer_id, device_id))

    async def suppress(self, customer_id: Id) -> None:
        """Suppress a customer profile."""
        await self._submit(RESULT_NONE, m.suppress(customer_id))

    async def unsuppress(self, customer_id: Id) -> None:
        """Unsuppress a customer profile."""
        await self._submit(RESULT_NONE, m.unsuppress(customer_id))

    async def merge_customers(self, primary_id_type: str, primary_id: Id,
                              secondary_id_type: str, secondary_id: Id) -> None:
        """Merge duplicate profiles: the secondary is merged into the primary and deleted."""
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

    async def add_to_segment(self, segment_id: Id, customer_ids: List[Id],
                             id_type: str = "id") -> None:
        """Add customers to a manual segment."""
        await self._submit(RESULT_NONE, m.segment(True, segment_id, customer_ids, id_type,
                                                  AsyncCustomerIOError))

    async def remove_from_segment(self, segment_id: Id, customer_ids: List[Id],
                                  id_type: str = "id") -> None:
        """Remove customers from a manual segment."""
        await self._submit(RESULT_NONE, m.segment(False, segment_id, customer_ids, id_type,
                                                  AsyncCustomerIOError))

    # ---- Track API v2 (deprecated entry points of async-customerio, kept) -----------------

    async def send_entity(self, identifiers: Union[IdentifierID, IdentifierEMAIL, IdentifierCIOID],
                          type: str, action: Union[Actions, str], **attrs: Any) -> None:
        """Send a single v2 entity operation ``{"type", "action", "identifiers",
        "attributes"}``."""
        payload: Dict[str, Any] = {"type": type, "action": m.action_name(action),
                                   "identifiers": identifiers, "attributes": attrs}
        await self._submit(RESULT_NONE, m.entity(payload, self.json_encoder))

    async def send_batch(self, payload: List[EntityPayload]) -> Dict[str, Any]:
        """Send a batch of v2 entity operations; see :meth:`TrackAPIV2.send_batch`."""
        return await self.v2.send_batch(payload)
