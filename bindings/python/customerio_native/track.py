"""The synchronous Track API client, name for name and argument for argument the official
``customerio.CustomerIO`` (3.x), on libcustomerio.

Every call blocks until the request succeeded or finally failed (libcustomerio's retries
included) and releases the GIL meanwhile, so other Python threads keep running. One client may be
shared by any number of threads.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Sequence, Type, Union

from . import _mapping as m
from . import _native as _n
from ._core import NativeClient, base_url, batch_response, client_options, native_kwargs
from ._core import option_names, region_code
from .errors import CustomerIOException, InvalidValueError
from .regions import Region, Regions
from .response import Response
from .v2 import SyncTrackAPIV2

__all__ = ["CustomerIO"]

Id = Union[str, int]


class CustomerIO:
    """Track API client (site id + API key, HTTP Basic).

    :param site_id: the workspace's site id; None reads ``CUSTOMERIO_SITE_ID``.
    :param api_key: the Track API key; None reads ``CUSTOMERIO_API_KEY``.
    :param host: a host (or URL) replacing the region's Track host: a proxy, a relay, the local
        emulator. See :func:`customerio_native._core.base_url` for the rule: https whatever the
        port, as customerio 3.2; plain http only with an explicit scheme
        (``host="http://127.0.0.1"``).
    :param region: :attr:`Regions.US` (default) or :attr:`Regions.EU`.
    :param port: the port for ``host``.
    :param url_prefix: the path prefix, ``/api/v1`` by default; a longer one (``/relay/api/v1``)
        keeps what comes before ``/api/v1``.
    :param json_encoder: a :class:`json.JSONEncoder` subclass used to serialise keyword
        arguments (the default turns datetimes into unix seconds).
    :param retries: retries after the first attempt (network errors, timeouts, 408, 429, 5xx).
    :param timeout: seconds one attempt may take.
    :param backoff_factor: seconds; the base of the exponential backoff between retries.
    :param use_connection_pooling: accepted for compatibility: libcustomerio always keeps
        connections alive in one pool per client.
    :param background: fire-and-forget: identify, track, pageview, screen, backfill, delete,
        add_device, delete_device, suppress, unsuppress and merge_customers go through a
        :class:`~customerio_native.Pipeline` on this client (Track v2 batches, retried,
        reported to ``on_error``) and return at once; the other methods stay synchronous.
    :param pipeline_options: keyword arguments for that pipeline (``on_error``,
        ``spool_path``, ``max_queue_bytes``, ``when_full``, ...). With ``background=True``,
        further keywords named after libcustomerio pipeline options (``redis_url``,
        ``ratelimit_url``, ``ratelimit_senders``, ...) go to that pipeline too.
    :param options: further keyword arguments named after libcustomerio client options
        (``timeout_ms``, ``backoff_max_ms``, ...; see customerio/options.h), passed through by
        name; a bad value raises naming the option.
    """

    def __init__(
        self,
        site_id: Optional[str] = None,
        api_key: Optional[str] = None,
        host: Optional[str] = None,
        region: Region = Regions.US,
        port: Optional[int] = None,
        url_prefix: Optional[str] = None,
        json_encoder: Optional[Type[json.JSONEncoder]] = None,
        retries: int = 3,
        timeout: float = 10,
        backoff_factor: float = 0.02,
        use_connection_pooling: bool = True,
        *,
        background: bool = False,
        pipeline_options: Optional[Mapping[str, Any]] = None,
        ca_file: Optional[str] = None,
        **options: Any,
    ) -> None:
        self._native: Optional[NativeClient] = None
        self._pipeline: Any = None
        region_value = region_code(region, CustomerIOException)
        self.site_id = site_id
        self.region = region
        self.host = host or region.track_host
        self.port = port or 443
        self.url_prefix = url_prefix or "/api/v1"
        self.json_encoder = json_encoder
        self.retries = retries
        self.timeout = timeout
        self.backoff_factor = backoff_factor
        self.use_connection_pooling = use_connection_pooling
        track_url = base_url(host, port, url_prefix, region.track_host, "/api/v1",
                             CustomerIOException)
        self.base_url = (track_url or "https://" + region.track_host) + "/api/v1"
        self._pipeline_options = dict(pipeline_options or {})
        if background:
            # Keywords that only the pipeline knows (redis_url, ratelimit_url, linger_ms, ...: the
            # C table's names) go to the background pipeline, as if given in pipeline_options.
            pipe_only = option_names(_n.CIO_CONFIG_PIPELINE) - option_names(_n.CIO_CONFIG_CLIENT)
            for key in [k for k in options if k in pipe_only]:
                if key in self._pipeline_options:
                    raise TypeError("CustomerIO() got {!r} twice (also in pipeline_options)"
                                    .format(key))
                self._pipeline_options[key] = options.pop(key)
        self._native = NativeClient(
            CustomerIOException,
            **native_kwargs(
                "CustomerIO", options,
                site_id=site_id,
                api_key=api_key,
                region=region_value,
                track_url=track_url,
                **client_options(retries=retries, timeout=timeout, backoff_factor=backoff_factor,
                                 ca_file=ca_file),
            ),
        )
        self._v2: Optional[SyncTrackAPIV2] = None
        if background:
            from .pipeline import Pipeline, _reopen_in_child

            self._pipeline = Pipeline(self, **self._pipeline_options)
            if self._pipeline_options.get("spool_path") is None:  # one process per spool
                _reopen_in_child.add(self)

    def reopen_in_child(self) -> None:
        """After fork(), in the child: the parent's pipeline is the parent's (what it holds, the
        parent delivers); this process gets one of its own with the same options, so a client
        made before a pre-forking server forks works in its workers."""
        from .pipeline import Pipeline

        if self._pipeline is not None and self._native is not None and not self._native.closed:
            self._pipeline = Pipeline(self, **self._pipeline_options)

    # ---- plumbing -------------------------------------------------------------------------

    def _run(self, spec: m.Spec) -> Any:
        if self._native is None:  # pragma: no cover - __init__ failed half-way
            raise CustomerIOException("the client is closed")
        return self._native.call(*spec)

    @property
    def pipeline(self) -> Any:
        """The :class:`~customerio_native.Pipeline` of ``background=True`` (None otherwise)."""
        return self._pipeline

    def flush(self, timeout: Optional[float] = None) -> bool:
        """With ``background=True``: waits until everything queued so far is delivered or
        reported (see :meth:`Pipeline.flush`). True at once otherwise."""
        return self._pipeline.flush(timeout) if self._pipeline is not None else True

    def close(self) -> None:
        """Flushes and closes the background pipeline (if any), stops the client's network
        engine and frees it. Idempotent; the client cannot be used afterwards."""
        if self._pipeline is not None:
            self._pipeline.close()
        if self._native is not None:
            self._native.close()

    def __enter__(self) -> "CustomerIO":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._pipeline is not None:  # bounded: a collected client must not hang
                self._pipeline.close(self._pipeline.exit_timeout)
            self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    @property
    def v2(self) -> SyncTrackAPIV2:
        """Track API v2 (``/api/v2/entity`` and ``/api/v2/batch``) on the same connection pool
        and credentials, with the same helpers as ``async-customerio``'s ``.v2``."""
        if self._v2 is None:
            self._v2 = SyncTrackAPIV2(self._run, self.json_encoder)
        return self._v2

    # ---- Track API v1 ---------------------------------------------------------------------
    #
    # Each synchronous method returns a :class:`~customerio_native.response.Response` (the
    # server's answer; customerio 3.x returns its ``requests.Response``); with
    # ``background=True`` the methods that go through the pipeline return None.

    def _send(self, spec: m.Spec) -> Optional[Response]:
        if self._native is None:  # pragma: no cover - __init__ failed half-way
            raise CustomerIOException("the client is closed")
        response, _value = self._native.call_response(*spec)
        return response  # type: ignore[no-any-return]

    def identify(self, id: Id, **kwargs: Any) -> Optional[Response]:
        """Identify a single customer by their unique id, and optionally add attributes
        (``PUT /customers/{id}``)."""
        if self._pipeline is not None:
            self._pipeline.identify(id, **kwargs)
            return None
        return self._send(m.identify(id, kwargs, self.json_encoder))

    def track(self, customer_id: Id, name: str, data: Optional[Mapping[str, Any]] = None,
              id: Optional[Id] = None, timestamp: Any = None,
              **attributes: Any) -> Optional[Response]:
        """Track an event for a given customer_id (``POST /customers/{id}/events``), as
        customerio 3.2: ``data`` is the event's data, ``id`` its de-duplication id (None: a
        fresh ULID, which 3.2 does not send), ``timestamp`` a datetime or unix seconds
        (anything ``int()`` refuses is left out, as in 3.2).

        The 2.x/3.0 form ``track(5, "purchase", price=23.45)`` keeps working: keyword
        arguments other than ``data``, ``id`` and ``timestamp`` become the data. Given together
        with ``data=`` they raise :class:`CustomerIOException` (which one was meant cannot be
        told)."""
        event_data = _event_data("track", data, attributes)
        if self._pipeline is not None:
            self._pipeline._event(customer_id, name, event_data, id, timestamp)
            return None
        return self._send(m.track(customer_id, name, event_data, self.json_encoder, id,
                                  timestamp))

    def track_anonymous(self, anonymous_id: Optional[str], name: str,
                        data: Optional[Mapping[str, Any]] = None, id: Optional[Id] = None,
                        timestamp: Any = None, **attributes: Any) -> Optional[Response]:
        """Track an event for a given anonymous_id (``POST /events``); a blank anonymous_id
        sends an event without a person. ``data``, ``id``, ``timestamp`` and keyword
        attributes as in :meth:`track`."""
        event_data = _event_data("track_anonymous", data, attributes)
        return self._send(m.track_anonymous(anonymous_id, name, event_data, self.json_encoder,
                                            id, timestamp))

    def pageview(self, customer_id: Id, page: str, **data: Any) -> Optional[Response]:
        """Track a pageview for a given customer_id."""
        if self._pipeline is not None:
            self._pipeline.pageview(customer_id, page, **data)
            return None
        return self._send(m.pageview(customer_id, page, data, self.json_encoder))

    def screen(self, customer_id: Id, name: str, **data: Any) -> Optional[Response]:
        """Track a mobile screen view for a given customer_id (not in the official client)."""
        if self._pipeline is not None:
            self._pipeline.screen(customer_id, name, **data)
            return None
        return self._send(m.screen(customer_id, name, data, self.json_encoder))

    def backfill(self, customer_id: Id, name: str, timestamp: Any,
                 **data: Any) -> Optional[Response]:
        """Backfill an event (track with timestamp) for a given customer_id; timestamp is a
        datetime or unix seconds."""
        ts = m.backfill_timestamp(timestamp, CustomerIOException, strict=False)
        if self._pipeline is not None:
            self._pipeline.backfill(customer_id, name, ts, **data)
            return None
        return self._send(m.backfill(customer_id, name, ts, data, self.json_encoder))

    def delete(self, customer_id: Id) -> Optional[Response]:
        """Delete a customer profile."""
        if self._pipeline is not None:
            self._pipeline.delete(customer_id)
            return None
        return self._send(m.delete(customer_id))

    def add_device(self, customer_id: Id, device_id: str, platform: str,
                   **data: Any) -> Optional[Response]:
        """Add a device to a customer profile; platform is "ios" or "android"; every keyword
        argument is a device field, sent as given (``last_used`` as a datetime or unix
        seconds, ``attributes`` a dict, any other field); ``id`` and ``platform`` keywords
        are replaced by the arguments, as in the official client."""
        spec = m.add_device(customer_id, device_id, platform, data, self.json_encoder)
        if self._pipeline is not None:
            self._pipeline.add_device(customer_id, device_id, platform, **data)
            return None
        return self._send(spec)

    def delete_device(self, customer_id: Id, device_id: str) -> Optional[Response]:
        """Delete a device from a customer profile."""
        if self._pipeline is not None:
            self._pipeline.delete_device(customer_id, device_id)
            return None
        return self._send(m.delete_device(customer_id, device_id))

    def suppress(self, customer_id: Id) -> Optional[Response]:
        """Suppress a customer profile."""
        if self._pipeline is not None:
            self._pipeline.suppress(customer_id)
            return None
        return self._send(m.suppress(customer_id))

    def unsuppress(self, customer_id: Id) -> Optional[Response]:
        """Unsuppress a customer profile."""
        if self._pipeline is not None:
            self._pipeline.unsuppress(customer_id)
            return None
        return self._send(m.unsuppress(customer_id))

    def merge_customers(self, primary_id_type: str, primary_id: Id, secondary_id_type: str,
                        secondary_id: Id) -> Optional[Response]:
        """Merge the secondary profile into the primary one; id types are "id", "email" or
        "cio_id"."""
        spec = m.merge_customers(primary_id_type, primary_id, secondary_id_type, secondary_id,
                                 CustomerIOException)
        if self._pipeline is not None:
            self._pipeline.merge_customers(primary_id_type, primary_id, secondary_id_type,
                                           secondary_id)
            return None
        return self._send(spec)

    def batch(self, operations: Sequence[Mapping[str, Any]]) -> Response:
        """Send many Track v2 operations (``POST /api/v2/batch`` ``{"batch": [...]}``), as
        customerio 3.2's ``batch``. libcustomerio validates each operation first and splits the
        list into requests under 500 KB. The answer: the server's for one request; when
        Customer.io rejected some items, status 207 and ``json()`` giving ``{"errors":
        [{"batch_index", "reason", "field", "message"}]}`` with indexes into *operations*.
        ``headers`` is empty when the list took several requests."""
        if not operations:
            raise CustomerIOException("operations cannot be empty in batch")
        if self._native is None:  # pragma: no cover
            raise CustomerIOException("the client is closed")
        response, result = self._native.call_response(*m.batch(operations, self.json_encoder))
        rejected = batch_response(result)
        if rejected or response is None:
            return Response(207 if rejected else 200, json.dumps(rejected).encode())
        if not response.content:  # the batch's answer stays with its per-item outcome
            response.content = b"{}"
        return response  # type: ignore[no-any-return]

    def track_push_notification_event(self, event_name: str, delivery_id: str, device_id: str,
                                      timestamp: Any = None) -> Optional[Response]:
        """Report a push notification metric (``POST /push/events``): event_name is "opened",
        "converted" or "delivered"; timestamp None means now."""
        return self._send(m.push_event(event_name, delivery_id, device_id, timestamp))

    def track_delivery_metric(self, metric_name: str, delivery_id: str, timestamp: Any = None,
                              recipient: Optional[str] = None, reason: Optional[str] = None,
                              href: Optional[str] = None) -> Optional[Response]:
        """Report a delivery metric (``POST /metrics``): sent, delivered, opened, clicked,
        converted, bounced, ..."""
        return self._send(m.delivery_metric(metric_name, delivery_id, timestamp, recipient,
                                            reason, href))

    def add_to_segment(self, segment_id: Id, customer_ids: Sequence[Id],
                       id_type: str = "id") -> Optional[Response]:
        """Add customers to a manual segment."""
        return self._send(m.segment(True, segment_id, customer_ids, id_type,
                                    CustomerIOException))

    def remove_from_segment(self, segment_id: Id, customer_ids: Sequence[Id],
                            id_type: str = "id") -> Optional[Response]:
        """Remove customers from a manual segment."""
        return self._send(m.segment(False, segment_id, customer_ids, id_type,
                                    CustomerIOException))


def _event_data(call: str, data: Optional[Mapping[str, Any]],
                attributes: Dict[str, Any]) -> Dict[str, Any]:
    """An event's data from 3.2's ``data=`` or the older keyword attributes (not both)."""
    if data is None:
        return attributes
    if attributes:
        raise CustomerIOException(
            "{}: give the event's data as data= or as keyword arguments, not both "
            "(got data= and {})".format(call, ", ".join(sorted(attributes))))
    if not isinstance(data, Mapping):
        raise InvalidValueError("{}: data must be a dict, not {}".format(
            call, type(data).__name__))
    return dict(data)
