"""The delivery pipeline (customerio/pipeline.h): fire-and-forget Track calls.

Each call builds one Track v2 operation and hands it to libcustomerio, which validates it, gives
an event a ULID ``id``, queues it (and appends it to the spool file, when there is one) and
returns at once: no network on the caller's path. The core's pipeline thread packs queued
operations into ``/api/v2/batch`` requests under 500 KB, paces them under the workspace rate
limit, retries failures (honouring ``Retry-After``) until ``retry_deadline``, and reports every
operation exactly once: delivered, or given up with the reason.

Reports arrive on a completion queue (``cio_queue_t``). One small daemon thread per pipeline
sleeps in ``poll()`` on its descriptor and calls ``on_error(report)`` for each failed operation
(and ``on_report(report)`` for every report, with ``report_successes=True``); :meth:`flush` and
:meth:`close` also drain it, so that when they return every callback for what was queued before
has run. No C thread ever calls into Python.

    from customerio_native import Pipeline

    pipe = Pipeline(site_id, api_key, on_error=lambda r: log.warning("%s", r))
    pipe.track("5", "purchased", price=23.45)      # returns at once
    pipe.flush()                                   # optional; close() and exit flush too
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Tuple, Type, Union

from . import _native as _n
from ._core import NativeClient, base_url, client_options, id_text, make_encoder
from ._core import native_kwargs, pipeline_config, region_code
from ._core import dumps, plain_encoder, sanitize
from ._core import timestamp_int, translate
from ._mapping import event_options, object_arg, person_arg
from .errors import CustomerIOException
from .regions import Region, Regions

__all__ = ["DeliveryReport", "Pipeline", "PipelineError", "QueueFullError"]

logger = logging.getLogger("customerio_native")

Id = Union[str, int]

_v2_person = _n.cio_py_v2_person


class PipelineError(CustomerIOException):
    """A pipeline call failed: a rejected operation (``code_name`` "invalid argument" or
    "payload too large", nothing queued), a closed pipeline, a flush or close that timed out."""


class QueueFullError(PipelineError):
    """The queue is at ``max_queue_bytes`` (with ``when_full="block"``: still after
    ``block_timeout``). Nothing was queued."""


class DeliveryReport(NamedTuple):
    """The final word on one operation.

    ``seq`` is what the enqueueing call returned; ``ok`` whether Customer.io accepted it;
    ``code``/``code_name`` the ``cio_status_t`` (0 "ok"; "bad request" for an item rejected in
    a 207, "client closed" for one still queued when the pipeline closed, "timeout" past the retry
    deadline, ...); ``status`` the HTTP status of the last request that carried it (None if
    none); ``message`` why it failed; ``operation_json`` the operation as sent (with its id);
    ``reason`` Customer.io's reason for a rejected item, or the error code of an answer that
    refused the whole request (None when there is none); ``field`` the field at fault, or None.
    """

    seq: int
    ok: bool
    code: int
    code_name: str
    status: Optional[int]
    message: Optional[str]
    operation_json: str
    reason: Optional[str] = None
    field: Optional[str] = None

    @property
    def operation(self) -> Dict[str, Any]:
        """The operation as a dict."""
        return json.loads(self.operation_json)


Callback = Callable[[DeliveryReport], Any]


def _ms(seconds: Optional[float]) -> int:
    """Seconds as the C option's milliseconds: None = 0 (the default); any other value at
    least 1 ms (0 would mean the default to the C library)."""
    if seconds is None:
        return 0
    return max(1, int(round(float(seconds) * 1000)))


def _timeout_ms(seconds: Optional[float]) -> int:
    """flush/close timeouts: None = no limit (-1)."""
    if seconds is None:
        return -1
    return max(0, int(round(float(seconds) * 1000)))


def _person(id: Any) -> Dict[str, Any]:
    """A Track v1 customer id as a person's identifiers mapping."""
    return {"id": id_text(id)}


def _pipeline_error(e: Any) -> PipelineError:
    """A libcustomerio error as the pipeline's exception (QueueFullError for a full queue)."""
    return translate(e, QueueFullError if e.args[0] == _n.CIO_E_QUEUE_FULL else PipelineError)


class Pipeline:
    """A delivery pipeline on its own client (credentials) or on a :class:`CustomerIO`'s.

    :param site_id: the site id, or a :class:`~customerio_native.CustomerIO` whose client
        (credentials, host, connection pool) the pipeline uses; None reads
        ``CUSTOMERIO_SITE_ID``.
    :param sink: ``"track_v2"`` (Track v2 operations to ``/api/v2/batch``, the default) or
        ``"pipelines"`` (Pipelines API messages to ``/v1/batch``, on a client that has the
        Pipelines key; see :mod:`customerio_native.analytics`).
    :param api_key: the Track API key (None: ``CUSTOMERIO_API_KEY``).
    :param host, region, port, url_prefix, json_encoder, retries, timeout, backoff_factor: as
        for :class:`~customerio_native.CustomerIO` (ignored when given a client).
    :param max_queue_bytes: bound on queued + in-flight bytes (None: 64 MiB).
    :param when_full: ``"block"`` (wait up to ``block_timeout`` seconds for room, default 10)
        or ``"fail"`` (raise :class:`QueueFullError` at once).
    :param linger: seconds the oldest operation may wait for a fuller batch (None: 0.1).
    :param batch_bytes: request body limit (None: just under 500 KB).
    :param max_in_flight: concurrent batch requests (None: 4).
    :param max_requests_per_second: pacing (None: 100, Customer.io's limit; <= 0: none).
    :param retry_deadline: seconds after which an undelivered operation is given up and
        reported (None: one hour).
    :param spool_path: a file that makes the queue survive a crash or ``kill -9``: operations
        are appended before the call returns and marked done once reported; a pipeline opened
        later on the same file sends what was not confirmed first. One process at a time.
    :param spool_sync: ``"none"`` (write only; survives a killed process), ``"batch"`` or
        ``"always"`` (fsync; survives a machine crash).
    :param on_error: called with a :class:`DeliveryReport` for every operation given up; without
        it failures are logged (``logging.getLogger("customerio_native")``).
    :param on_report: called with every report (deliveries too when ``report_successes``).
    :param report_successes: report deliveries too, not only failures.
    :param max_batch_items: operations per request at most (None: only ``batch_bytes``).
    :param max_queue_items: queued + in-flight operations at most, like ``max_queue_bytes``
        (None: no count limit).
    :param max_attempts: HTTP attempts an operation may take over all its requests before it
        is given up and reported (None: retry until ``retry_deadline``).
    :param ca_file: a PEM file of the certificate authorities to trust instead of the system's
        (ignored when given a client).
    :param exit_timeout: seconds the interpreter's exit may spend flushing (None: no limit);
        what is left is reported as failed ("client closed") and stays in the spool, if any.

    Every call returns the operation's sequence number (the ``seq`` of its report). A pipeline
    is flushed and closed by :meth:`close`, by ``with``, and at interpreter exit.
    :param options: further keyword arguments named after libcustomerio pipeline or client options
        (``timeout_ms``, ``backoff_max_ms``, ...; see customerio/options.h), passed through by
        name; a bad value raises naming the option.
    """

    def __init__(
        self,
        site_id: Any = None,
        api_key: Optional[str] = None,
        host: Optional[str] = None,
        region: Region = Regions.US,
        port: Optional[int] = None,
        url_prefix: Optional[str] = None,
        json_encoder: Optional[Type[json.JSONEncoder]] = None,
        retries: int = 3,
        timeout: float = 10,
        backoff_factor: float = 0.02,
        *,
        max_queue_bytes: Optional[int] = None,
        when_full: str = "block",
        block_timeout: Optional[float] = None,
        linger: Optional[float] = None,
        batch_bytes: Optional[int] = None,
        max_in_flight: Optional[int] = None,
        max_requests_per_second: Optional[float] = None,
        retry_deadline: Optional[float] = None,
        spool_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        spool_sync: str = "none",
        on_error: Optional[Callback] = None,
        on_report: Optional[Callback] = None,
        report_successes: bool = False,
        exit_timeout: Optional[float] = 10.0,
        sink: str = "track_v2",
        max_batch_items: Optional[int] = None,
        max_queue_items: Optional[int] = None,
        max_attempts: Optional[int] = None,
        ca_file: Optional[str] = None,
        **options: Any,
    ) -> None:
        self._ptr: Any = None
        self._queue: Any = None
        self._native: Optional[NativeClient] = None
        self._own_native = False
        self._thread: Optional[threading.Thread] = None
        self._wake: Optional[tuple] = None
        # One entry per call that is inside libcustomerio with this pipeline. list.append and
        # list.pop are atomic, so the hot path takes no lock: a call appends before it reads
        # _ptr, close() clears _ptr before it waits for the list to empty, so either the call
        # sees None or close() sees the call.
        self._active: List[int] = []
        self._drain_lock = threading.RLock()
        self._stopping = False
        self.on_error = on_error
        self.on_report = on_report
        self.exit_timeout = exit_timeout
        self.spool_path = os.fspath(spool_path) if spool_path is not None else None

        # Passed to libcustomerio by name (its options table checks names, types and ranges):
        # only the official-style units are translated here (seconds -> ms; a rate of 0 or less
        # means "no limit", which C spells as a negative rate).
        rps: Optional[float] = None
        # How _submit queues (req-v2): try without waiting first unless every write is synced;
        # wait for room only when a full queue blocks (names as the C table spells them).
        self._try_first = str(spool_sync or "none").lower() != "always"
        self._may_wait = str(when_full or "block").lower() == "block"
        if max_requests_per_second is not None:
            rps = float(max_requests_per_second) if max_requests_per_second > 0 else -1.0
        pipe_options: Dict[str, Any] = {
            "sink": sink, "max_queue_bytes": max_queue_bytes, "when_full": when_full,
            "block_timeout_ms": _ms(block_timeout), "linger_ms": _ms(linger),
            "batch_bytes": batch_bytes, "max_in_flight": max_in_flight,
            "max_requests_per_second": rps, "retry_deadline_ms": _ms(retry_deadline),
            "spool_path": self.spool_path, "spool_sync": spool_sync,
            "report_successes": bool(report_successes), "max_batch_items": max_batch_items,
            "max_queue_items": max_queue_items, "max_attempts": max_attempts,
        }
        # Further keywords named after libcustomerio options pass through: the pipeline's to
        # the pipeline, the client's to the client this pipeline makes.
        config, client_extra = pipeline_config(pipe_options, options, PipelineError)

        try:
            native = (site_id if isinstance(site_id, NativeClient)
                      else getattr(site_id, "_native", None))
            if isinstance(native, NativeClient):
                if native_kwargs("Pipeline", client_extra):
                    raise TypeError("Pipeline() got client options ({}) with a client".format(
                        ", ".join(sorted(client_extra))))
                self._native = native
                self.json_encoder = json_encoder or getattr(site_id, "json_encoder", None)
            else:
                region_value = region_code(region, PipelineError)
                self._native = NativeClient(
                    PipelineError,
                    **native_kwargs(
                        "Pipeline", client_extra,
                        site_id=site_id,
                        api_key=api_key,
                        region=region_value,
                        track_url=base_url(host, port, url_prefix, region.track_host, "/api/v1",
                                           PipelineError),
                        **client_options(retries=retries, timeout=timeout,
                                         backoff_factor=backoff_factor, ca_file=ca_file),
                    ),
                )
                self._own_native = True
                self.json_encoder = json_encoder
        except BaseException:
            _n.cio_config_free(config)
            raise
        self._encode = make_encoder(self.json_encoder)
        # For attributes: NaN raises here, and only then is the slower sanitize() pass made.
        self._encode_strict = make_encoder(self.json_encoder, allow_nan=False)
        # The one-step path (cio_py_v2_person) for track, identify, pageview and screen: it
        # writes the attributes as this encoder would, so only where the encoder writes plain
        # values the json module's way, and only when a call may try without waiting first.
        self._fast = self._try_first and plain_encoder(self.json_encoder)
        client_ptr = self._native.hold(self)
        try:
            self._queue = _n.cio_queue_new()
            self._ptr = _n.cio_pipeline_new_from_config(client_ptr, config, self._queue)
        except _n.Error as e:
            self._abandon()
            raise translate(e, PipelineError) from None
        except BaseException:
            self._abandon()
            raise
        finally:
            _n.cio_config_free(config)
        self._pid = os.getpid()
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._report_loop, name="customerio-reports",
                                        daemon=True)
        self._thread.start()
        _live.add(self)
        logger.debug("pipeline started (spool=%s)", self.spool_path or "none")

    def _abandon(self) -> None:
        """Undoes a half-made __init__."""
        if self._queue is not None:
            _n.cio_queue_free(self._queue)
            self._queue = None
        if self._native is not None:
            self._native.release(self)
            if self._own_native:
                self._native.close()

    # ---- plumbing -------------------------------------------------------------------------

    def _enter(self) -> Any:
        self._active.append(1)
        ptr = self._ptr
        if ptr is None:
            self._active.pop()
            raise PipelineError("the pipeline is closed", code=_n.CIO_E_CLOSED,
                                code_name=_n.cio_status_str(_n.CIO_E_CLOSED))
        return ptr

    def _leave(self) -> None:
        self._active.pop()

    def enqueue(self, operation: Union[Mapping[str, Any], str]) -> int:
        """Queues one Track v2 operation (a dict, or its JSON text) and returns its sequence
        number. libcustomerio validates it first: a bad one raises :class:`PipelineError`
        naming the field and nothing is queued; a full queue raises :class:`QueueFullError`."""
        if isinstance(operation, str):
            text = operation
        else:
            try:
                text = self._encode(operation)
            except (TypeError, ValueError):  # says which value, as InvalidValueError
                text = dumps(operation, self.json_encoder, "operation")
        ptr = self._enter()
        try:
            return _n.cio_pipeline_enqueue(ptr, text)
        except _n.Error as e:
            raise _pipeline_error(e) from None
        finally:
            self._active.pop()

    send_entity = enqueue

    def _submit(self, build: Callable[..., Any], *args: Any) -> int:
        """Builds one operation with libcustomerio's builder for its type and action (which
        checks the arguments, writes and validates the operation and gives an event its id)
        and queues the request: this layer holds no wire format."""
        ptr = self._enter()
        try:
            request = build(*args)
            if self._try_first:  # never waits, so keeps the GIL: cheaper than releasing it
                try:
                    return _n.cio_pipeline_try_enqueue_request(ptr, request)
                except _n.Error as e:
                    if e.args[0] != _n.CIO_E_QUEUE_FULL or not self._may_wait:
                        raise
            return _n.cio_pipeline_enqueue_request(ptr, request)  # waits without the GIL
        except _n.Error as e:
            raise _pipeline_error(e) from None
        finally:
            self._active.pop()

    def _attributes_text(self, data: Mapping[str, Any]) -> str:
        if not data:
            return "{}"
        try:
            return self._encode_strict(data)
        except ValueError:  # NaN: the official client sends it as null (nested too)
            return dumps(sanitize(data), self.json_encoder, "attributes")
        except TypeError:  # a value JSON cannot carry: InvalidValueError says which
            return dumps(data, self.json_encoder, "attributes")

    def _json_text(self, value: Any, what: str) -> str:
        try:
            return self._encode(value)
        except (TypeError, ValueError):  # says which value, as InvalidValueError
            return dumps(value, self.json_encoder, what)

    def _person_event(self, build: Callable[..., Any], identifiers: Any, name: Any,
                      data: Mapping[str, Any], options: Any = None) -> int:
        kind, value = person_arg(identifiers, self.json_encoder)
        return self._submit(build, kind, value, name, self._attributes_text(data), options)

    def _relationships(self, add: bool, person: bool, identifiers: Any,
                       relationships: Any) -> int:
        rel = self._json_text(relationships, "relationships")
        if person:
            build = (_n.cio_v2_person_add_relationships_request if add
                     else _n.cio_v2_person_delete_relationships_request)
            return self._submit(build, *person_arg(identifiers, self.json_encoder), rel)
        build = (_n.cio_v2_object_add_relationships_request if add
                 else _n.cio_v2_object_delete_relationships_request)
        return self._submit(build, *object_arg(identifiers), rel)

    # ---- the CustomerIO (Track v1) methods, as v2 operations ------------------------------

    # identify, track, pageview and screen try the one-step path first (bindings/py_v2.i): the
    # common call (str id and name, plain attributes, an open pipeline with room) is queued by
    # one call into C; for anything else it returns NotImplemented, having queued nothing, and
    # the call goes the way below, which does it all again.

    def _one_step(self, action: int, id: Any, name: Any, data: Mapping[str, Any]) -> Any:
        """cio_py_v2_person (action 0 identify, 1 event, 2 page, 3 screen): the sequence
        number, or NotImplemented when the call must go the slower way."""
        if not self._fast:
            return NotImplemented
        try:
            return _v2_person(self, action, id, name, data)
        except _n.Error as e:
            raise _pipeline_error(e) from None

    def identify(self, id: Id, **kwargs: Any) -> int:
        """Identify a person by id, with attributes (v2 person identify)."""
        seq = self._one_step(0, id, None, kwargs)
        if seq is not NotImplemented:
            return seq  # type: ignore[no-any-return]
        return self._submit(_n.cio_v2_person_identify_request, _n.CIO_ID_TYPE_ID, id_text(id),
                           self._attributes_text(kwargs))

    def track(self, customer_id: Id, name: str, **data: Any) -> int:
        """An event for a person (v2 person event)."""
        if self._fast:  # _one_step written out: the hot path of most services, one call less
            try:
                seq = _v2_person(self, 1, customer_id, name, data)
            except _n.Error as e:
                raise _pipeline_error(e) from None
            if seq is not NotImplemented:
                return seq  # type: ignore[no-any-return]
        return self._built_event(customer_id, name, data)

    def _event(self, customer_id: Id, name: str, data: Mapping[str, Any],
               event_id: Any = None, timestamp: Any = None) -> int:
        """An event with customerio 3.2's optional ``id`` and ``timestamp``
        (CustomerIO(background=True).track comes here)."""
        if event_id is None and timestamp is None:
            seq = self._one_step(1, customer_id, name, data)
            if seq is not NotImplemented:
                return seq  # type: ignore[no-any-return]
        return self._built_event(customer_id, name, data, event_id, timestamp)

    def _built_event(self, customer_id: Id, name: str, data: Mapping[str, Any],
                     event_id: Any = None, timestamp: Any = None) -> int:
        """_event through the builder object: what the one step hands back, and events with
        an id or a timestamp."""
        options = None
        if event_id is not None or timestamp is not None:
            options = event_options(event_id, timestamp)
        # one builder call and one enqueue
        cid = customer_id if customer_id.__class__ is str else id_text(customer_id)
        return self._submit(_n.cio_v2_person_event_request, _n.CIO_ID_TYPE_ID, cid, name,
                           self._attributes_text(data), options)

    def pageview(self, customer_id: Id, page: str, **data: Any) -> int:
        """A page view (v2 person page; ``page`` is the URL)."""
        seq = self._one_step(2, customer_id, page, data)
        if seq is not NotImplemented:
            return seq  # type: ignore[no-any-return]
        return self._submit(_n.cio_v2_person_page_request, _n.CIO_ID_TYPE_ID,
                           id_text(customer_id), page, self._attributes_text(data), None)

    def screen(self, customer_id: Id, name: str, **data: Any) -> int:
        """A mobile screen view (v2 person screen)."""
        seq = self._one_step(3, customer_id, name, data)
        if seq is not NotImplemented:
            return seq  # type: ignore[no-any-return]
        return self._submit(_n.cio_v2_person_screen_request, _n.CIO_ID_TYPE_ID,
                           id_text(customer_id), name, self._attributes_text(data), None)

    def backfill(self, customer_id: Id, name: str, timestamp: Any, **data: Any) -> int:
        """An event with a past timestamp (a datetime or unix seconds)."""
        return self._submit(_n.cio_v2_person_event_request, _n.CIO_ID_TYPE_ID,
                           id_text(customer_id), name, self._attributes_text(data),
                           (timestamp_int(timestamp), None))

    def delete(self, customer_id: Id) -> int:
        return self.delete_person(_person(customer_id))

    def add_device(self, customer_id: Id, device_id: str, platform: str, **data: Any) -> int:
        """A device for a person; ``last_used`` (datetime or unix seconds) and ``attributes``
        are the device's fields."""
        return self.add_person_device(_person(customer_id), device_id, platform, **data)

    def delete_device(self, customer_id: Id, device_id: str) -> int:
        return self.delete_person_device(_person(customer_id), device_id)

    def suppress(self, customer_id: Id) -> int:
        return self.suppress_person(_person(customer_id))

    def unsuppress(self, customer_id: Id) -> int:
        return self.unsuppress_person(_person(customer_id))

    def merge_customers(self, primary_id_type: str, primary_id: Id, secondary_id_type: str,
                        secondary_id: Id) -> int:
        """Merge the secondary person into the primary one; id types "id", "email",
        "cio_id"."""
        return self.merge_persons({primary_id_type: id_text(primary_id)},
                                  {secondary_id_type: id_text(secondary_id)})

    # ---- the Track v2 helpers (names of async-customerio's .v2) ---------------------------

    def identify_person(self, identifiers: Mapping[str, Any], **attrs: Any) -> int:
        return self._submit(_n.cio_v2_person_identify_request, *person_arg(identifiers, self.json_encoder),
                           self._attributes_text(attrs))

    def delete_person(self, identifiers: Mapping[str, Any]) -> int:
        return self._submit(_n.cio_v2_person_delete_request, *person_arg(identifiers, self.json_encoder))

    def track_person_event(self, identifiers: Mapping[str, Any], name: str, **attrs: Any) -> int:
        return self._person_event(_n.cio_v2_person_event_request, identifiers, name, attrs)

    def person_pageview(self, identifiers: Mapping[str, Any], name: str, **attrs: Any) -> int:
        return self._person_event(_n.cio_v2_person_page_request, identifiers, name, attrs)

    def person_screen(self, identifiers: Mapping[str, Any], name: str, **attrs: Any) -> int:
        return self._person_event(_n.cio_v2_person_screen_request, identifiers, name, attrs)

    def add_person_device(self, identifiers: Mapping[str, Any], device_id: str, platform: str,
                          *, last_used: Any = None,
                          attributes: Optional[Mapping[str, Any]] = None) -> int:
        """``last_used`` (datetime or unix seconds) and ``attributes`` are the device's other
        fields."""
        return self._submit(_n.cio_v2_person_add_device_request, *person_arg(identifiers, self.json_encoder),
                           id_text(device_id), platform, timestamp_int(last_used),
                           None if attributes is None else self._attributes_text(attributes))

    def delete_person_device(self, identifiers: Mapping[str, Any], device_id: str) -> int:
        return self._submit(_n.cio_v2_person_delete_device_request, *person_arg(identifiers, self.json_encoder),
                           id_text(device_id))

    def suppress_person(self, identifiers: Mapping[str, Any]) -> int:
        return self._submit(_n.cio_v2_person_suppress_request, *person_arg(identifiers, self.json_encoder))

    def unsuppress_person(self, identifiers: Mapping[str, Any]) -> int:
        return self._submit(_n.cio_v2_person_unsuppress_request, *person_arg(identifiers, self.json_encoder))

    def merge_persons(self, primary: Mapping[str, Any], secondary: Mapping[str, Any]) -> int:
        return self._submit(_n.cio_v2_person_merge_request, *person_arg(primary, self.json_encoder, "primary"),
                           *person_arg(secondary, self.json_encoder, "secondary"))

    def add_person_relationships(self, identifiers: Mapping[str, Any],
                                 relationships: List[Dict[str, Any]]) -> int:
        return self._relationships(True, True, identifiers, relationships)

    def delete_person_relationships(self, identifiers: Mapping[str, Any],
                                    relationships: List[Dict[str, Any]]) -> int:
        return self._relationships(False, True, identifiers, relationships)

    def identify_object(self, identifiers: Mapping[str, Any], **attrs: Any) -> int:
        return self._submit(_n.cio_v2_object_identify_request, *object_arg(identifiers),
                           self._attributes_text(attrs))

    def delete_object(self, identifiers: Mapping[str, Any]) -> int:
        return self._submit(_n.cio_v2_object_delete_request, *object_arg(identifiers))

    def track_object_event(self, identifiers: Mapping[str, Any], name: str, **attrs: Any) -> int:
        return self._submit(_n.cio_v2_object_event_request, *object_arg(identifiers), name,
                           self._attributes_text(attrs), None)

    def add_object_relationships(self, identifiers: Mapping[str, Any],
                                 relationships: List[Dict[str, Any]]) -> int:
        return self._relationships(True, False, identifiers, relationships)

    def delete_object_relationships(self, identifiers: Mapping[str, Any],
                                    relationships: List[Dict[str, Any]]) -> int:
        return self._relationships(False, False, identifiers, relationships)

    def track_delivery_event(self, delivery_id: str, metric: str, **attrs: Any) -> int:
        """A delivery metric (opened, clicked, converted, ...) as a v2 delivery event."""
        return self._submit(_n.cio_v2_delivery_event_request, id_text(delivery_id), metric,
                           self._attributes_text(attrs) if attrs else None, None)

    # ---- flush, stats, close --------------------------------------------------------------

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Sends what is queued without waiting for ``linger`` and waits until every operation
        queued so far is reported and its callbacks have run, or ``timeout`` seconds (None: no
        limit) pass. True when everything was reported, False on timeout."""
        ptr = self._enter()
        try:
            _n.cio_pipeline_flush(ptr, _timeout_ms(timeout))
            done = True
        except _n.Error as e:
            if e.args[0] != _n.CIO_E_TIMEOUT:
                raise translate(e, PipelineError) from None
            done = False
        finally:
            self._leave()
        self._drain()
        return done

    def stats(self) -> Dict[str, int]:
        """Counters since the pipeline started: enqueued, delivered, failed, retried, requests,
        bytes_sent, queue_depth, queue_bytes, in_flight."""
        ptr = self._enter()
        try:
            text = _n.cio_pipeline_stats_json(ptr)
        finally:
            self._leave()
        return json.loads(text)

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self, timeout: Optional[float] = None) -> bool:
        """Flushes (up to ``timeout`` seconds; None: no limit), stops the pipeline and frees
        it. Operations still undelivered are reported as failed (code_name "client closed"); with a spool
        they also stay in the file for the next pipeline. True when the flush finished.
        Idempotent; not to be called while other threads still enqueue."""
        ptr, self._ptr = self._ptr, None
        while self._active:  # calls still inside the library (an enqueue waiting for room)
            time.sleep(0.001)
        if ptr is None:
            return True
        _live.discard(self)
        done = True
        try:
            _n.cio_pipeline_close(ptr, _timeout_ms(timeout))
        except _n.Error as e:
            done = False
            if e.args[0] != _n.CIO_E_TIMEOUT:
                logger.warning("pipeline close: %s", e.args[2])
        self._stop_reporter()
        self._drain()
        queue, self._queue = self._queue, None
        _n.cio_queue_free(queue)
        native, self._native = self._native, None
        if native is not None:
            native.release(self)
            if self._own_native:
                native.close()
        logger.debug("pipeline closed")
        return done

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- reports --------------------------------------------------------------------------

    def _report_loop(self) -> None:
        assert self._wake is not None
        poller = select.poll()
        poller.register(_n.cio_queue_fd(self._queue), select.POLLIN)
        poller.register(self._wake[0], select.POLLIN)
        while not self._stopping:
            try:
                poller.poll()
            except InterruptedError:  # pragma: no cover - PEP 475 retries poll() itself
                continue
            if self._stopping:
                break
            self._drain()

    def _stop_reporter(self) -> None:
        self._stopping = True
        wake, self._wake = self._wake, None
        if wake is None:
            return
        os.write(wake[1], b"x")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        os.close(wake[0])
        os.close(wake[1])

    def _drain(self) -> None:
        """Takes every report off the queue and runs the callbacks (serialised: one thread at a
        time, in the order the reports arrived)."""
        with self._drain_lock:
            queue = self._queue
            if queue is None:
                return
            reports = [
                DeliveryReport(
                    seq, code == _n.CIO_OK, code, _n.cio_status_str(code), http_status or None,
                    message, body.decode("utf-8", "replace") if body is not None else "",
                    reason, field)
                for (seq, code, http_status, _attempts, message, body, _batch, reason, field, _rt,
                     _sc, _sm) in _n.cio_py_queue_drain(queue)
            ]
            if reports:
                self._dispatch_all(reports)

    def _dispatch_all(self, reports: List[DeliveryReport]) -> None:
        """Runs the callbacks for the reports of one drain, in order (a subclass may group
        them)."""
        for report in reports:
            self._dispatch(report)

    def _dispatch(self, report: DeliveryReport) -> None:
        callbacks = []
        if self.on_report is not None:
            callbacks.append(self.on_report)
        if not report.ok:
            if self.on_error is not None:
                callbacks.append(self.on_error)
            elif self.on_report is None:
                logger.warning("pipeline: operation %d failed (%s): %s", report.seq,
                               report.code_name, report.message)
        for callback in callbacks:
            try:
                callback(report)
            except Exception:
                logger.exception("pipeline: report callback failed for operation %d",
                                 report.seq)


# Pipelines still open: flushed and closed at interpreter exit; forgotten in a forked child
# (its pipeline thread does not exist there; the parent keeps the spool).
_live: "weakref.WeakSet[Pipeline]" = weakref.WeakSet()


def _close_all_at_exit() -> None:
    for pipe in list(_live):
        try:
            pipe.close(pipe.exit_timeout)
        except Exception:  # pragma: no cover - interpreter shutdown
            logger.exception("pipeline: close at exit failed")


# Objects that own a pipeline and make a new one in a forked child (analytics Client,
# CustomerIO(background=True)): their reopen_in_child() runs after every pipeline is forgotten.
_reopen_in_child: "weakref.WeakSet[Any]" = weakref.WeakSet()


def _forget_all_in_child() -> None:
    # Their holds on their clients are gone already (_core's fork handler ran first), and so
    # are the calls other threads were making: close() must not wait for those.
    for pipe in list(_live):
        pipe._ptr = None
        pipe._queue = None
        pipe._wake = None
        pipe._native = None
        pipe._active = []
    _live.clear()
    for owner in list(_reopen_in_child):
        try:
            owner.reopen_in_child()
        except Exception:  # pragma: no cover - a child must not die of it
            logger.exception("pipeline: could not make this process's pipeline after fork()")


atexit.register(_close_all_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all_in_child)
