"""The Data Pipelines client, name for name and argument for argument the official
``customerio.analytics.Client`` (``customerio-cdp-analytics`` 1.x), on libcustomerio.

Each call builds one Segment-shaped message and hands it to libcustomerio, which validates it
(ids per message type, object fields, 32 KB), completes it (a ULID ``messageId``, an ISO-8601
``timestamp``, ``context.library``) and queues it on the delivery pipeline's Pipelines sink:
batches to ``/v1/batch`` under 500 KB, paced, retried with backoff and ``Retry-After``, every
message reported once. The call returns ``(True, msg)``, ``msg`` being the message as it will
be sent. Failures that come later are reported to ``on_error(error, batch)`` (the official
signature); nothing is dropped silently.
"""

from __future__ import annotations

import atexit
import json
import logging
import numbers
import os
import threading
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, Union
from urllib.parse import urlsplit

from .. import _native as _n
from .._core import NativeClient, client_options, make_encoder, native_kwargs, option_names
from ..errors import _ErrorDetails
from ..pipeline import DeliveryReport, Pipeline, _reopen_in_child
from .errors import (
    AnalyticsError,
    APIError,
    DeliveryError,
    MessageTooLargeError,
    QueueFullError,
    ValidationError,
)

__all__ = ["Client"]

log = logging.getLogger("customerio_native.analytics")

Id = Union[str, int]
Message = Dict[str, Any]
ErrorHandler = Callable[[Exception, List[Message]], Any]

# The official client's view of which region a key belongs to, for its warning (the C library
# picks the host and the auth scheme from the same prefix).
_REGION_HOSTS = {"us": "https://cdp.customer.io", "eu": "https://cdp-eu.customer.io"}


def _select_proxy(proxies: Mapping[str, str], url: str) -> Optional[str]:
    """The proxy requests would take from ``proxies`` for ``url`` (requests.utils.select_proxy:
    "scheme://host", "scheme", "all://host", "all", first found)."""
    parts = urlsplit(url)
    if parts.hostname is None:
        return proxies.get(parts.scheme, proxies.get("all"))
    for key in (parts.scheme + "://" + parts.hostname, parts.scheme, "all://" + parts.hostname,
                "all"):
        if key in proxies:
            return proxies[key]
    return None


class _Failure(_ErrorDetails):
    """What the native layer raises inside this module, before it becomes an AnalyticsError."""


# ---------------------------------------------------------------------------------------------
# Python values to message JSON
# ---------------------------------------------------------------------------------------------


class _Encoder(json.JSONEncoder):
    """The values the official client accepts in traits, properties and context: datetimes and
    dates as ``isoformat()``, Decimal as float, sets as lists, Enums as their value, bytes as
    UTF-8 text, any Mapping as an object. Anything else is refused (the official client drops
    the key with a warning)."""

    def default(self, o: Any) -> Any:
        if isinstance(o, (datetime, date)):
            return o.isoformat()
        if isinstance(o, Decimal):
            return float(o)
        if isinstance(o, (set, frozenset)):
            return list(o)
        if isinstance(o, Enum):
            return o.value
        if isinstance(o, bytes):
            return o.decode("utf-8")
        if isinstance(o, Mapping):
            return dict(o)
        return super().default(o)


# Built once: json.dumps() would build an encoder per message.
_encode = make_encoder(_Encoder, allow_nan=False, ensure_ascii=False)


def _id(value: Any) -> Any:
    """Ids as the official client sends them: numbers become their str(); anything else is
    passed on for libcustomerio to accept (a str) or refuse."""
    if value is None or value.__class__ is str:  # the common case, without the ABC check
        return value
    if isinstance(value, numbers.Number) and not isinstance(value, str):
        return str(value)
    return value


def _timestamp(value: Any) -> Optional[str]:
    """A datetime as the official client writes it: a naive one made within the last 5 seconds
    is taken as local time (``datetime.now()``), any other naive one as UTC; then ISO-8601 with
    milliseconds and the offset (``2014-09-03T00:00:00.000+00:00``). A str is passed as is;
    None lets libcustomerio stamp the message now."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, datetime):
        raise ValidationError(
            "timestamp must be a datetime or an ISO-8601 str, not {}".format(
                type(value).__name__), code=_n.cio_status_str(_n.CIO_E_INVALID_ARGUMENT))
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        if (datetime.now() - value).total_seconds() < 5:
            value = value.astimezone()  # local time
        else:
            value = value.replace(tzinfo=timezone.utc)
    text: str = value.isoformat(timespec="milliseconds")
    return text


def _plain(value: Any) -> Any:
    """A traits/properties/context/integrations value as plain JSON values (dicts, lists, str,
    numbers), the way the official client cleans it: what libcustomerio's writer takes."""
    return None if value is None else json.loads(_encode(value))


def _library() -> Dict[str, Any]:
    """``context.library`` as libcustomerio fills it in, read once from a message it built."""
    _msg, text = _n.cio_py_message(None, {}, "track", "u", None, None, None, "e", None, None,
                                   None, None, None, None, None, None)
    library: Dict[str, Any] = json.loads(text)["context"]["library"]
    return library


_LIBRARY = _library()


# ---------------------------------------------------------------------------------------------
# Native errors to AnalyticsError
# ---------------------------------------------------------------------------------------------


def _convert(e: _ErrorDetails) -> AnalyticsError:
    """A failure of libcustomerio as the analytics exception it stands for."""
    name = e.code_name or _n.cio_status_str(e.code)
    cls: Type[AnalyticsError] = DeliveryError
    if e.code in (_n.CIO_E_INVALID_ARGUMENT, _n.CIO_E_CONFIG):
        cls = ValidationError
    elif e.code == _n.CIO_E_PAYLOAD_TOO_LARGE and not e.status:
        cls = MessageTooLargeError
    elif e.code == _n.CIO_E_QUEUE_FULL:
        cls = QueueFullError
    elif e.status:  # the answer's code and explanation, as libcustomerio read them
        return APIError(e.status, e.server_code or "unknown", e.server_message or e.message,
                        attempts=e.attempts, body=e.body)
    return cls(e.message, status=e.status, code=name, attempts=e.attempts, body=e.body)


def _report_error(report: DeliveryReport) -> AnalyticsError:
    """The exception on_error gets for a message given up."""
    message = report.message or report.code_name
    if report.status:
        return APIError(report.status, report.reason or "unknown", message)
    return DeliveryError(message, code=report.code_name)


class _MessagePipeline(Pipeline):
    """The delivery pipeline on the Pipelines sink, its failure reports handed to the client
    grouped the way the official consumer reports a failed batch: one ``on_error(error,
    batch)`` per error, with every message it struck."""

    def __init__(self, handler: Callable[[List[DeliveryReport]], None], native: NativeClient,
                 **options: Any) -> None:
        self._handler = handler
        super().__init__(native, sink="pipelines", **options)

    def _dispatch_all(self, reports: List[DeliveryReport]) -> None:
        failed = [r for r in reports if not r.ok]
        if failed:
            self._handler(failed)


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


def _routing_setting(attr: str, doc: str) -> Any:
    """A Client setting whose change decides again which way its calls take."""

    def get(self: "Client") -> bool:
        value: bool = getattr(self, attr)
        return value

    def set(self: "Client", value: bool) -> None:
        setattr(self, attr, bool(value))
        self._retarget()

    return property(get, set, doc=doc)


class Client(object):
    """A Data Pipelines client: the official ``Client`` with the same arguments.

    :param write_key: the Pipelines API key (None: ``CUSTOMERIO_CDP_API_KEY``). A key of the
        form ``sk_us_...`` / ``pk_eu_...`` is sent as a Bearer token and picks its region's
        host; any other as HTTP Basic (key as user, empty password).
    :param host: a base URL replacing ``https://cdp.customer.io`` (the EU one is
        ``https://cdp-eu.customer.io``; a proxy, a relay, the local emulator); ``/v1/batch`` is
        appended.
    :param debug: log every message queued (``logging.getLogger("customerio_native.analytics")``
        set to DEBUG).
    :param max_queue_size: messages queued or in flight at most; one more raises
        :class:`QueueFullError`.
    :param send: False: validate and complete each message, return it, send nothing.
    :param on_error: ``on_error(error, batch)``, called on the client's report thread (or
        inside :meth:`flush`) for every message given up: ``error`` an :class:`APIError` (Customer.io
        refused it: 4xx, or 5xx/429 still after the retries) or a :class:`DeliveryError` (no
        answer), ``batch`` the list of messages it struck. Without it failures are logged.
    :param gzip: accepted for compatibility; bodies are sent uncompressed.
    :param max_retries: retries of a failed request (network errors, timeouts, 429, 5xx;
        never other 4xx) before its messages are given up.
    :param sync_mode: send each message at once, in its own ``/v1/batch`` request, and raise
        :class:`APIError` (or :class:`DeliveryError`) when it fails.
    :param timeout: seconds one HTTP attempt may take.
    :param proxies: as the official client hands it to requests: a dict of proxy URLs by
        ``"scheme://host"``, ``"scheme"``, ``"all://host"`` or ``"all"`` (requests' order); the
        one for the Pipelines host becomes libcustomerio's ``proxy`` option. Without one, the
        ``https_proxy`` / ``http_proxy`` / ``no_proxy`` environment variables apply, as in
        requests.
    :param thread: requests in flight at once (the official client's consumer threads).
    :param upload_size: messages per request at most. None (ours; the official client's default
        is 100): as many as fit in one request under the 500 KB limit, so a busy service makes
        far fewer requests under the workspace's rate limit.
    :param upload_interval: seconds the oldest queued message may wait for a fuller batch.
    :param exit_timeout: seconds the interpreter's exit may spend delivering what is queued
        (None: no limit); what is left is reported to ``on_error``.
    :param spool_path: a file that makes the queue survive a crash or ``kill -9`` (see
        :class:`~customerio_native.Pipeline`).
    :param max_requests_per_second: the pipeline's pacing of its requests (None: 100, as for
        the Track API, until the Pipelines API's own limit is known; <= 0: unpaced). With
        batches of up to 500 KB that is ~170,000 messages of ~300 bytes a second per client.
    :param strict_mode: (ours) True: requests carry ``X-Strict-Mode: 1``, so Customer.io
        answers 400 to a message it cannot accept (reported to ``on_error``, raised in
        ``sync_mode``) instead of 200 while dropping it. False: sent without it, as the official
        client does (Customer.io's permissive mode).
    """

    class DefaultConfig(object):
        write_key: Optional[str] = None
        host: Optional[str] = None
        on_error: Optional[ErrorHandler] = None
        debug = False
        send = True
        sync_mode = False
        max_queue_size = 10000
        gzip = False
        timeout: float = 15
        max_retries = 10
        proxies: Optional[Mapping[str, str]] = None
        thread = 1
        upload_interval = 0.5
        upload_size: Optional[int] = None

    log = log

    def __init__(
        self,
        write_key: Optional[str] = DefaultConfig.write_key,
        host: Optional[str] = DefaultConfig.host,
        debug: bool = DefaultConfig.debug,
        max_queue_size: int = DefaultConfig.max_queue_size,
        send: bool = DefaultConfig.send,
        on_error: Optional[ErrorHandler] = DefaultConfig.on_error,
        gzip: bool = DefaultConfig.gzip,
        max_retries: int = DefaultConfig.max_retries,
        sync_mode: bool = DefaultConfig.sync_mode,
        timeout: float = DefaultConfig.timeout,
        proxies: Optional[Mapping[str, str]] = DefaultConfig.proxies,
        thread: int = DefaultConfig.thread,
        upload_size: Optional[int] = DefaultConfig.upload_size,
        upload_interval: float = DefaultConfig.upload_interval,
        *,
        exit_timeout: Optional[float] = 10.0,
        spool_path: Optional[Union[str, "os.PathLike[str]"]] = None,
        ca_file: Optional[str] = None,
        max_requests_per_second: Optional[float] = None,
        strict_mode: bool = True,
        **options: Any,
    ) -> None:
        if write_key is None:
            write_key = os.environ.get("CUSTOMERIO_CDP_API_KEY") or None
        if not isinstance(write_key, str) or not write_key.strip():
            raise ValidationError(
                "write_key must be a non-empty str (or set CUSTOMERIO_CDP_API_KEY), got: {!r}"
                .format(type(write_key).__name__ if write_key is not None else None),
                code=_n.cio_status_str(_n.CIO_E_CONFIG))
        # Keys read from secret files often end in a newline; the official client strips it.
        self.write_key = write_key.strip()
        self._native: Optional[NativeClient] = None
        self._pipeline: Optional[_MessagePipeline] = None
        # What the calls' fast path queues to: the pipeline, or None to take _message's way
        # (no pipeline, debug logging of every message, send or sync_mode changed since).
        self._target: Optional[_MessagePipeline] = None
        self._reopen: Optional[Tuple[Dict[str, Any], Optional[Dict[str, Any]]]] = None
        self._debug, self._send, self._sync_mode = bool(debug), bool(send), bool(sync_mode)
        self.host = host
        self.on_error = on_error
        self.gzip = gzip
        self.timeout = timeout
        self.max_retries = max_retries
        self.proxies = proxies
        self._lock = threading.Lock()
        self._closed = False
        self.exit_timeout = exit_timeout

        if debug:
            self.log.setLevel(logging.DEBUG)
        self._warn_if_other_region_host()

        if not send:
            return
        # Further keywords named after libcustomerio options pass through: the pipeline's to
        # the pipeline, the client's to the client.
        pipe_names = option_names(_n.CIO_CONFIG_PIPELINE)
        native_options = native_kwargs(
            "Client", {k: v for k, v in options.items() if k not in pipe_names},
            cdp_api_key=self.write_key,
            cdp_url=host.strip() if isinstance(host, str) and host.strip() else None,
            cdp_permissive=not strict_mode,
            proxy=_select_proxy(proxies, self._target_host()) if proxies else None,
            **client_options(retries=max_retries if sync_mode else None, timeout=timeout,
                             ca_file=ca_file),
        )
        pipeline_options = None if sync_mode else dict(
            {k: v for k, v in options.items() if k in pipe_names},
            max_queue_items=max(1, int(max_queue_size)),
            when_full="fail",
            max_batch_items=max(1, int(upload_size)) if upload_size else None,
            linger=float(upload_interval),
            max_in_flight=max(1, int(thread)),
            max_attempts=max(0, int(max_retries)) + 1,
            exit_timeout=exit_timeout,
            spool_path=spool_path,
            max_requests_per_second=max_requests_per_second,
        )
        self._open(native_options, pipeline_options)
        # A client made before fork() gets a pipeline of its own in the child (see
        # reopen_in_child); one with a spool does not (one process per spool file).
        self._reopen = (native_options, pipeline_options) if spool_path is None else None
        _reopen_in_child.add(self)
        self._retarget()
        # What is queued is delivered at exit (the official client only stops its thread and
        # loses the queue unless flush() was called).
        atexit.register(self._at_exit)

    def _open(self, native_options: Dict[str, Any],
              pipeline_options: Optional[Dict[str, Any]]) -> None:
        """The C client, and the pipeline (none in sync_mode)."""
        try:
            self._native = NativeClient(_Failure, **native_options)
            if pipeline_options is not None:
                self._pipeline = _MessagePipeline(self._failed, self._native, **pipeline_options)
        except _ErrorDetails as e:
            if self._native is not None:
                self._native.close()
            raise _convert(e) from None

    def reopen_in_child(self) -> None:
        """After fork(), in the child: the parent's C client and pipeline are the parent's (what
        they hold, the parent delivers); this process gets new ones with the same options, so a
        client made before a pre-forking server forks works in its workers."""
        if self._closed or self._reopen is None or self._native is None:
            return
        self._native._ptr = None  # the parent's: neither used nor freed here
        self._native, self._pipeline, self._target = None, None, None
        try:
            self._open(*self._reopen)
        except AnalyticsError:
            self.log.exception("could not make this process's client after fork()")
        self._retarget()

    # ---- the calls --------------------------------------------------------------------------

    # debug, send and sync_mode may be changed on a live client, as with the official one: each
    # change decides again which way the calls take.
    debug = _routing_setting("_debug", "Log every message queued (at DEBUG).")
    send = _routing_setting("_send", "False: validate and complete each message, return it, "
                                     "send nothing.")
    sync_mode = _routing_setting("_sync_mode", "Send each message at once, in its own request.")

    def _retarget(self) -> None:
        queue = self._send and not self._sync_mode and not self._debug
        self._target = self._pipeline if queue else None

    # Each call first tries cio_py_message_fast, which takes the common call (str ids, no
    # datetime, a live pipeline) as it is, in one step; anything else, or debug logging, goes
    # through _message, which prepares the parts first. Both end in the same C function.

    def identify(self, user_id: Optional[Id] = None, traits: Optional[Mapping[str, Any]] = None,
                 context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
                 anonymous_id: Optional[Id] = None,
                 integrations: Optional[Mapping[str, Any]] = None,
                 message_id: Any = None) -> Tuple[bool, Message]:
        """Who the person is, and their traits."""
        try:
            msg = _n.cio_py_message_fast(self._target, _LIBRARY, "identify", user_id,
                                         anonymous_id, None, None, None, None, None, traits or {},
                                         None, context or None, integrations or {}, timestamp,
                                         message_id)
        except Exception as e:
            raise self._call_error("identify", e) from None
        if msg is NotImplemented:
            return self._message("identify", user_id, anonymous_id, None, None, None, None, None,
                                 traits or {}, None, context, integrations, timestamp, message_id)
        return True, msg

    def track(self, user_id: Optional[Id] = None, event: Optional[str] = None,
              properties: Optional[Mapping[str, Any]] = None,
              context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
              anonymous_id: Optional[Id] = None,
              integrations: Optional[Mapping[str, Any]] = None,
              message_id: Any = None) -> Tuple[bool, Message]:
        """An event the person did."""
        try:
            msg = _n.cio_py_message_fast(self._target, _LIBRARY, "track", user_id, anonymous_id,
                                         None, None, event, None, None, None, properties or {},
                                         context or None, integrations or {}, timestamp,
                                         message_id)
        except Exception as e:
            raise self._call_error("track", e) from None
        if msg is NotImplemented:
            return self._message("track", user_id, anonymous_id, None, None, event, None, None,
                                 None, properties or {}, context, integrations, timestamp,
                                 message_id)
        return True, msg

    def alias(self, previous_id: Optional[Id] = None, user_id: Optional[Id] = None,
              context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
              integrations: Optional[Mapping[str, Any]] = None,
              message_id: Any = None) -> Tuple[bool, Message]:
        """Merges the identity previous_id into user_id."""
        return self._message("alias", user_id, None, previous_id, None, None, None, None, None,
                             None, context, integrations, timestamp, message_id)

    def group(self, user_id: Optional[Id] = None, group_id: Optional[Id] = None,
              traits: Optional[Mapping[str, Any]] = None,
              context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
              anonymous_id: Optional[Id] = None,
              integrations: Optional[Mapping[str, Any]] = None,
              message_id: Any = None) -> Tuple[bool, Message]:
        """Puts the person in a group (an object, for Customer.io), with the group's traits."""
        return self._message("group", user_id, anonymous_id, None, group_id, None, None, None,
                             traits or {}, None, context, integrations, timestamp, message_id)

    def page(self, user_id: Optional[Id] = None, category: Optional[str] = None,
             name: Optional[str] = None, properties: Optional[Mapping[str, Any]] = None,
             context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
             anonymous_id: Optional[Id] = None, integrations: Optional[Mapping[str, Any]] = None,
             message_id: Any = None) -> Tuple[bool, Message]:
        """A web page view."""
        # As in the official client, an empty name or category is no name or category.
        return self._message("page", user_id, anonymous_id, None, None, None, name or None,
                             category or None, None, properties or {}, context, integrations,
                             timestamp, message_id)

    def screen(self, user_id: Optional[Id] = None, category: Optional[str] = None,
               name: Optional[str] = None, properties: Optional[Mapping[str, Any]] = None,
               context: Optional[Mapping[str, Any]] = None, timestamp: Any = None,
               anonymous_id: Optional[Id] = None,
               integrations: Optional[Mapping[str, Any]] = None,
               message_id: Any = None) -> Tuple[bool, Message]:
        """A mobile screen view."""
        return self._message("screen", user_id, anonymous_id, None, None, None, name or None,
                             category or None, None, properties or {}, context, integrations,
                             timestamp, message_id)

    def _message(self, type_: str, user_id: Any, anonymous_id: Any, previous_id: Any,
                 group_id: Any, event: Any, name: Any, category: Any, traits: Any,
                 properties: Any, context: Any, integrations: Any, timestamp: Any,
                 message_id: Any) -> Tuple[bool, Message]:
        """Hands the message's parts to libcustomerio, which builds, validates and completes it
        (messageId, timestamp, context.library) and queues it, sends it (sync_mode) or
        neither (send=False), in one call. Returns ``(True, the message as sent)``."""
        # Ids as the official client sends them (numbers as their str()); str and None as is.
        if user_id is not None and user_id.__class__ is not str:
            user_id = _id(user_id)
        if anonymous_id is not None and anonymous_id.__class__ is not str:
            anonymous_id = _id(anonymous_id)
        if previous_id is not None:
            previous_id = _id(previous_id)
        if group_id is not None:
            group_id = _id(group_id)
        if message_id is not None and message_id.__class__ is not str:
            message_id = _id(message_id)
        if timestamp is not None and timestamp.__class__ is not str:
            timestamp = _timestamp(timestamp)
        if not context:
            context = None  # the core's context: {"library": ...} only
        if not integrations:
            integrations = {}
        pipeline = self._pipeline
        try:
            if pipeline is None or not self._send or self._sync_mode:  # built, not queued
                msg = self._built(type_, user_id, anonymous_id, previous_id, group_id, event, name,
                                  category, traits, properties, context, integrations, timestamp,
                                  message_id)
            else:  # read and used under the GIL: see bindings/py_message.i
                msg = _n.cio_py_message(pipeline, _LIBRARY, type_, user_id, anonymous_id,
                                        previous_id, group_id, event, name, category, traits,
                                        properties, context, integrations, timestamp, message_id)
                if msg is NotImplemented:  # values the core's writer leaves to the json module
                    msg = _n.cio_py_message(pipeline, _LIBRARY, type_, user_id, anonymous_id,
                                            previous_id, group_id, event, name, category,
                                            _plain(traits), _plain(properties), _plain(context),
                                            _plain(integrations), timestamp, message_id)
            if msg is NotImplemented:
                raise ValueError("a value is nested too deeply")
        except Exception as e:
            raise self._call_error(type_, e) from None
        if self.debug:
            self.log.debug("queued: %s", msg)
        return True, msg

    @staticmethod
    def _call_error(type_: str, e: Exception) -> Exception:
        """The exception a call raises for what its call into libcustomerio raised."""
        if isinstance(e, _n.Error):
            code, status, message, body, attempts, _retryable, server_code, server_message = \
                e.args
            if code == _n.CIO_E_CLOSED:
                return DeliveryError("the client is shut down (join() or shutdown() was called)",
                                     code=_n.cio_status_str(code))
            return _convert(_Failure(message, status=status or None, code=code,
                                     code_name=_n.cio_status_str(code), attempts=attempts,
                                     body=body.decode("utf-8", "replace") if body else None,
                                     server_code=server_code, server_message=server_message))
        if isinstance(e, AnalyticsError):
            return e
        if isinstance(e, _ErrorDetails):
            return _convert(e)
        if isinstance(e, (TypeError, ValueError)):  # not JSON (or NaN), an id not a str
            return ValidationError("{}: {}".format(type_, e),
                                   code=_n.cio_status_str(_n.CIO_E_INVALID_ARGUMENT))
        return e

    def _built(self, type_: str, user_id: Any, anonymous_id: Any, previous_id: Any,
               group_id: Any, event: Any, name: Any, category: Any, traits: Any,
               properties: Any, context: Any, integrations: Any, timestamp: Any,
               message_id: Any) -> Any:
        """send=False and sync_mode: the message built by libcustomerio (and sent at once in
        sync_mode). The message as sent, or NotImplemented (a value nested too deeply)."""
        built = _n.cio_py_message(None, _LIBRARY, type_, user_id, anonymous_id, previous_id,
                                  group_id, event, name, category, traits, properties, context,
                                  integrations, timestamp, message_id)
        if built is NotImplemented:  # values the core's writer leaves to the json module
            built = _n.cio_py_message(None, _LIBRARY, type_, user_id, anonymous_id, previous_id,
                                      group_id, event, name, category, _plain(traits),
                                      _plain(properties), _plain(context), _plain(integrations),
                                      timestamp, message_id)
            if built is NotImplemented:
                return built
        msg, text = built
        if self.sync_mode and self.send:
            self._send_now(text)
        return msg

    def _send_now(self, prepared: str) -> None:
        """sync_mode: one /v1/batch request with this message, retried by libcustomerio."""
        native = self._native
        if native is None or native.closed:
            raise DeliveryError("the client is shut down (join() or shutdown() was called)",
                                code=_n.cio_status_str(_n.CIO_E_CLOSED))
        result = native.call(_n.cio_cdp_batch, [prepared])
        if result and result[1]:  # a 2xx answer that still refused the message
            _index, reason, _field, message = result[1][0]
            raise APIError(200, reason or "unknown", message or "the message was rejected")

    # ---- failures ---------------------------------------------------------------------------

    def _failed(self, reports: List[DeliveryReport]) -> None:
        """Reports of messages given up, grouped by what struck them."""
        groups: Dict[Tuple[Any, ...], List[DeliveryReport]] = {}
        for report in reports:
            key = (report.code, report.status, report.reason, report.message)
            groups.setdefault(key, []).append(report)
        for group in groups.values():
            error = _report_error(group[0])
            batch = [r.operation for r in group]
            if self.on_error is None:
                self.log.error("error uploading: %s (%d message%s)", error, len(batch),
                               "" if len(batch) == 1 else "s")
                continue
            try:
                self.on_error(error, batch)
            except Exception:
                self.log.exception("on_error raised")

    def _key_region(self) -> Optional[str]:
        """"us" or "eu" for a key with a region prefix (pk_us_..., sk_eu_...), else None."""
        key = self.write_key
        if len(key) < 6 or key[:3] not in ("pk_", "sk_") or key[3:6] not in ("us_", "eu_"):
            return None
        return key[3:5]

    def _target_host(self) -> str:
        """The base URL requests go to: ``host``, else the key's region's Pipelines host."""
        host = self.host.strip() if isinstance(self.host, str) and self.host.strip() else None
        return (host or _REGION_HOSTS[self._key_region() or "us"]).rstrip("/")

    def _warn_if_other_region_host(self) -> None:
        """The official client's warning: a region key sent to the other region's host."""
        region = self._key_region()
        if region is None:
            return
        host = (self.host or _REGION_HOSTS[region]).rstrip("/")
        for other, other_host in _REGION_HOSTS.items():
            if other != region and host == other_host:
                self.log.warning("%s API key is being sent to the %s host %s", region.upper(),
                                 other.upper(), host)

    # ---- flush, join, shutdown --------------------------------------------------------------

    def flush(self) -> None:
        """Sends what is queued without waiting for ``upload_interval`` and waits until every
        message queued so far is delivered or given up (and its ``on_error`` has run)."""
        pipeline = self._pipeline
        if pipeline is not None and not pipeline.closed:
            pipeline.flush()

    def join(self) -> None:
        """Delivers what is queued (retries included), then stops the client: later calls
        raise :class:`DeliveryError`."""
        self._close(None)

    def shutdown(self) -> None:
        """Flushes, then stops the client (the official ``flush()`` + ``join()``)."""
        self.flush()
        self.join()

    def stats(self) -> Dict[str, int]:
        """The pipeline's counters (enqueued, delivered, failed, retried, requests, ...);
        empty in sync_mode or with send=False."""
        pipeline = self._pipeline
        return pipeline.stats() if pipeline is not None and not pipeline.closed else {}

    def _close(self, timeout: Optional[float]) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        atexit.unregister(self._at_exit)
        if self._pipeline is not None:
            self._pipeline.close(timeout)
        if self._native is not None:
            self._native.close()

    def _at_exit(self) -> None:
        self._close(self.exit_timeout)
