"""Plumbing shared by every client class: the native handle, argument mapping, error translation
and the asyncio completion engine.

This layer only translates: Python values to the strings and integers the C API takes (keyword
arguments to JSON text, datetimes to unix seconds, host/port to a base URL) and C statuses back to
the official exception classes. Validation, payload building, retries and URL paths all happen in
libcustomerio.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import math
import os
import sys
import threading
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, Union

from . import _native as _n
from .errors import (
    AsyncCustomerIOError,
    AsyncCustomerIORetryableError,
    BaseAsyncCustomerIOError,
    CustomerIOException,
    InvalidValueError,
    _ErrorDetails,
)
from .regions import Region
from .response import from_native

logger = logging.getLogger("customerio_native")

__version__ = _n.cio_version()

USER_AGENT = "customerio-native/{} (Python {}.{})".format(
    __version__, sys.version_info[0], sys.version_info[1]
)

_ID_TYPES = {"id": _n.CIO_ID_TYPE_ID, "email": _n.CIO_ID_TYPE_EMAIL, "cio_id": _n.CIO_ID_TYPE_CIO_ID}

ErrorClass = Type[_ErrorDetails]


# ---------------------------------------------------------------------------------------------
# Value mapping
# ---------------------------------------------------------------------------------------------


def to_unix(dt: datetime) -> int:
    """Unix seconds of a datetime, as the official client computes them: a naive datetime is
    taken as UTC (an aware one keeps its own offset)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def _clean(value: Any, active: Dict[int, None]) -> Any:
    if value.__class__ is float:
        return None if value != value else value
    if isinstance(value, datetime):
        return to_unix(value)
    if isinstance(value, float) and math.isnan(value):  # a float subclass
        return None
    if isinstance(value, (dict, list)):
        key = id(value)
        if key in active:  # a cycle: left as it is, for dumps() to name
            return value
        active[key] = None
        try:
            if isinstance(value, dict):
                return {k: _clean(item, active) for k, item in value.items()}
            return [_clean(item, active) for item in value]
        finally:
            del active[key]
    return value


def sanitize(data: Mapping[str, Any]) -> Dict[str, Any]:
    """The official clients' clean-up (customerio 3.2 ``ClientBase._sanitize``,
    async-customerio 2.18 ``utils.sanitize``): datetimes become unix seconds and NaN becomes
    null, at the top level and inside nested dicts and lists (not tuples, as there). A cycle or
    nesting too deep for it is left for dumps() to refuse with InvalidValueError."""
    active: Dict[int, None] = {id(data): None}
    try:
        return {key: _clean(value, active) for key, value in data.items()}
    except RecursionError:
        return dict(data)


def clean(value: Any) -> Any:
    """sanitize() for any one value (a caller's identifiers passed on as they are)."""
    try:
        return _clean(value, {})
    except RecursionError:
        return value


class DatetimeEncoder(json.JSONEncoder):
    """The default encoder: datetimes anywhere in the payload become unix seconds."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime):
            return to_unix(o)
        return super().default(o)


def make_encoder(encoder: Optional[Type[json.JSONEncoder]] = None, allow_nan: bool = True,
                 ensure_ascii: bool = True) -> Callable[[Any], str]:
    """A compact JSON encoding function built once: json.dumps() builds an encoder object, and
    the encoder's encode() its C scanner, on every call, which is most of what a queued event
    costs in Python. Same output as json.dumps(data, cls=encoder, allow_nan=allow_nan,
    ensure_ascii=ensure_ascii, separators=(",", ":")).

    The C scanner is made per call (0.3 us) with its own cycle-detection dict. With one dict
    for every call, threads encoding the same dict at once saw a "circular reference", and a
    call that failed half-way left its entries behind, refusing that dict ever after."""
    enc = (encoder or DatetimeEncoder)(separators=(",", ":"), allow_nan=allow_nan,
                                       ensure_ascii=ensure_ascii)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None or type(enc).encode is not json.JSONEncoder.encode:
        return enc.encode  # no C accelerator, or an encoder that changes encode() itself
    quote = (json.encoder.encode_basestring_ascii if ensure_ascii
             else json.encoder.encode_basestring)
    default = enc.default

    def encode(data: Any) -> str:
        if data.__class__ is str:
            return quote(data)  # type: ignore[no-any-return]
        scan = make({}, default, quote, None, ":", ",", False, False, allow_nan)
        return "".join(scan(data, 0))

    return encode


def plain_encoder(encoder: Optional[Type[json.JSONEncoder]] = None) -> bool:
    """Whether make_encoder(encoder) writes dicts, lists, str, int, float, True/False/None with
    json's C scanner and nothing of the encoder's own (its ``default`` only sees other values):
    then a C writer that writes those the same way may stand in for it."""
    cls = encoder or DatetimeEncoder
    return (getattr(json.encoder, "c_make_encoder", None) is not None
            and cls.encode is json.JSONEncoder.encode)


def _path_of_bad_value(data: Any, encoder: Type[json.JSONEncoder], path: str,
                       seen: Dict[int, None]) -> Optional[Tuple[str, Any]]:
    """Where in data the first value the encoder refuses sits ("data.items[2]"), and it."""
    if isinstance(data, (dict, list, tuple)):
        if id(data) in seen:
            return path, data
        seen[id(data)] = None
        items = (data.items() if isinstance(data, dict) else enumerate(data))
        for key, value in items:
            sub = "{}.{}".format(path, key) if isinstance(data, dict) else "{}[{}]".format(
                path, key)
            found = _path_of_bad_value(value, encoder, sub, seen)
            if found is not None:
                return found
        del seen[id(data)]
        return None
    try:
        json.dumps(data, cls=encoder)
    except (TypeError, ValueError):
        return path, data
    return None


def dumps(data: Any, encoder: Optional[Type[json.JSONEncoder]] = None,
          field: str = "data") -> str:
    """JSON text for the C API (which validates it and sends it byte for byte). A value JSON
    cannot carry (a date, Decimal, set, bytes, any object; a cycle) raises
    :class:`~customerio_native.errors.InvalidValueError` naming where it is
    (``data.items[2]``)."""
    cls = encoder or DatetimeEncoder
    try:
        return json.dumps(data, cls=cls, separators=(",", ":"))
    except RecursionError as e:
        message = "{} is nested too deeply".format(field)
        cause: BaseException = e
    except (TypeError, ValueError) as e:
        cause = e
        try:
            found = _path_of_bad_value(data, cls, field, {})
        except RecursionError:
            found = None
        if found is None:  # e.g. a dict key that is not a str: the encoder's own words
            message = "{}: {}".format(field, e)
        elif isinstance(found[1], (dict, list, tuple)):
            message = "{} contains itself (a circular reference)".format(found[0])
        else:
            message = "{} is a {} JSON cannot carry".format(found[0], type(found[1]).__name__)
    raise InvalidValueError(message, code=_n.CIO_E_INVALID_ARGUMENT,
                            code_name=_n.cio_status_str(_n.CIO_E_INVALID_ARGUMENT)) from cause


def id_text(value: Any) -> Optional[str]:
    """Ids may be given as int or str, as with the official client; None stays None."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def timestamp_int(value: Any) -> int:
    """A datetime or an integer timestamp as unix seconds; None as 0 (the C API's "not sent")."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return to_unix(value)
    return int(value)


def id_type(name: str) -> Optional[int]:
    """"id" / "email" / "cio_id" to the C enum; None for anything else."""
    return _ID_TYPES.get(name) if isinstance(name, str) else None


def region_code(region: Region, error: ErrorClass) -> int:
    if not isinstance(region, tuple) or not hasattr(region, "name"):
        raise error("invalid region provided")
    try:
        return _n.cio_region_parse(region.name)
    except _n.Error as e:
        raise translate(e, error) from None


def base_url(
    host: Optional[str], port: Optional[int], url_prefix: Optional[str], default_host: str,
    prefix_tail: str, error: ErrorClass,
) -> Optional[str]:
    """The base URL libcustomerio appends its API paths to, from the official client's
    host/port/url_prefix arguments, or None to use the region's host.

    The rule: with none of them given, the region's https host. Otherwise the host (the region's
    when not given) over https, as customerio 3.2 (``https://{host}:{port}/{prefix}``) and
    async-customerio always connect, whatever the port: plain http only when the host says so
    (``host="http://127.0.0.1"``, for the local emulator), so credentials never go in clear text
    by accident. A port other than the scheme's default is added. ``url_prefix`` must end with
    ``prefix_tail`` ("/api/v1"), which libcustomerio adds itself; what comes before it is kept
    (a relay mounted under a path)."""
    if host is None and port is None and url_prefix is None:
        return None
    host = (host or default_host).strip().rstrip("/")
    scheme = "https"
    if "://" in host:
        scheme, _, host = host.partition("://")
    url = "{}://{}".format(scheme, host)
    if port is not None and int(port) != {"https": 443, "http": 80}.get(scheme.lower()):
        url += ":{}".format(int(port))
    if url_prefix:
        prefix = "/" + url_prefix.strip("/")
        if prefix != prefix_tail and not prefix.endswith(prefix_tail):
            raise error(
                "url_prefix must end with {} (libcustomerio appends the API paths itself)".format(
                    prefix_tail
                )
            )
        url += prefix[: len(prefix) - len(prefix_tail)]
    return url


def redact_url(url: Optional[str]) -> Optional[str]:
    """A URL fit for a log: credentials written into it (``https://user:secret@relay``) become
    ``***``."""
    if not url or "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    return "{}://***@{}{}{}".format(scheme, authority.rpartition("@")[2], slash, path)


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


def make_error(
    error: ErrorClass, code: int, http_status: int, message: Optional[str], body: Optional[bytes],
    attempts: int, retryable: bool = False, server_code: Optional[str] = None,
    server_message: Optional[str] = None,
) -> _ErrorDetails:
    """The official exception for a failure. ``retryable`` is libcustomerio's verdict
    (cio_error_t.retryable, from its one table in core/src/retry.c): the async classes raise
    AsyncCustomerIORetryableError for a transient failure (a dropped connection, a timeout, 408,
    429, 5xx) and AsyncCustomerIOError for a permanent one (a refused certificate, 4xx).
    ``server_code`` / ``server_message`` are what the answer says, as libcustomerio read it
    (cio_error_t)."""
    if issubclass(error, BaseAsyncCustomerIOError):
        error = AsyncCustomerIORetryableError if retryable else AsyncCustomerIOError
    return error(
        message or _n.cio_status_str(code),
        status=http_status or None,
        body=body.decode("utf-8", "replace") if body is not None else None,
        code=code,
        code_name=_n.cio_status_str(code),
        attempts=attempts,
        server_code=server_code,
        server_message=server_message,
    )


def translate(exc: "_n.Error", error: ErrorClass) -> _ErrorDetails:
    """A native error (status, http_status, message, body, attempts, retryable, server_code,
    server_message) as an official class."""
    code, http_status, message, body, attempts, retryable, server_code, server_message = exc.args
    return make_error(error, code, http_status, message, body, attempts, retryable, server_code,
                      server_message)


# ---------------------------------------------------------------------------------------------
# The native client handle
# ---------------------------------------------------------------------------------------------


def option_text(value: Any) -> str:
    """A keyword argument's value as the text cio_config_set() takes: a bool as "true" /
    "false", a path as its str, anything else as str()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value if isinstance(value, str) else str(value)


def native_config(kind: int, options: Mapping[str, Any]) -> Any:
    """A ``cio_config_t`` of ``kind`` (CIO_CONFIG_CLIENT / CIO_CONFIG_PIPELINE) with every option
    set by name; None keeps libcustomerio's default. Names, types, ranges and defaults are the C
    table's (customerio/options.h): an unknown name or a bad value raises ``_n.Error``
    (CIO_E_INVALID_ARGUMENT naming the option). The caller frees it with cio_config_free."""
    config = _n.cio_config_new(kind)
    try:
        for name, value in options.items():
            if value is None:
                continue
            text = option_text(value)
            if "\0" in text:  # as the string typemap says it, with the option's name
                raise ValueError("{} contains an embedded NUL character".format(name))
            _n.cio_config_set(config, name, text)
    except BaseException:
        _n.cio_config_free(config)
        raise
    return config


@functools.lru_cache(maxsize=None)
def native_options(kind: int) -> Tuple[Tuple[str, str, str], ...]:
    """The (name, type, doc) rows of libcustomerio's options table of ``kind``."""
    rows: List[Tuple[str, str, str]] = []
    while True:
        row = _n.cio_config_option(kind, len(rows))
        if row is None:
            return tuple(rows)
        rows.append(row)


def option_names(kind: int) -> "frozenset[str]":
    return frozenset(name for name, _, _ in native_options(kind))


def pipeline_config(pipe_options: Dict[str, Any], options: Mapping[str, Any],
                    error: ErrorClass) -> Tuple[Any, Dict[str, Any]]:
    """The ``cio_config_t`` of a pipeline (Pipeline, Worker): ``pipe_options`` updated with
    the keywords in ``options`` that name libcustomerio pipeline options; the other keywords
    are returned for the client. A refused option raises ``error``. The caller frees the
    config with cio_config_free."""
    pipe_names = option_names(_n.CIO_CONFIG_PIPELINE)
    pipe_options.update((k, v) for k, v in options.items() if k in pipe_names)
    client_extra = {k: v for k, v in options.items() if k not in pipe_names}
    try:
        config = native_config(_n.CIO_CONFIG_PIPELINE, pipe_options)
    except _n.Error as e:
        raise translate(e, error) from None
    return config, client_extra


def native_kwargs(owner: str, extra: Mapping[str, Any], **given: Any) -> Dict[str, Any]:
    """The client options of a class: ``given`` (translated from the official keywords) and
    ``extra``, the caller's further keyword arguments, passed through as they are when they
    are libcustomerio client options by name (``timeout_ms=5000``, ``backoff_max_ms=...``;
    the C table is the list, see customerio/options.h); any other name is a TypeError, as
    Python says it for an unexpected keyword argument."""
    names = option_names(_n.CIO_CONFIG_CLIENT)
    for key in extra:
        if key not in names:
            raise TypeError("{}() got an unexpected keyword argument {!r}".format(owner, key))
    given.update(extra)
    return given


class NativeClient:
    """Owns one ``cio_client_t``. Calls may come from any thread (the blocking ones release the
    GIL); :meth:`close` waits for the calls in progress before freeing the handle, as the C API
    requires."""

    def __init__(self, error: ErrorClass, **options: Any) -> None:
        self.error = error
        self._cond = threading.Condition(threading.Lock())
        self._busy = 0
        self._ptr: Any = None
        # Objects living on this client (pipelines): closed before the client is freed.
        self._dependents: "weakref.WeakSet[Any]" = weakref.WeakSet()
        _natives.add(self)
        try:
            options = dict(options)
            options["user_agent"] = options.get("user_agent") or USER_AGENT
            config = native_config(_n.CIO_CONFIG_CLIENT, options)
            try:
                self._ptr = _n.cio_client_new_from_config(config)
            finally:
                _n.cio_config_free(config)
        except _n.Error as e:
            raise translate(e, error) from None
        logger.debug(
            "client created (track_url=%s, app_url=%s)",
            redact_url(options.get("track_url")) or "region default",
            redact_url(options.get("app_url")) or "region default",
        )

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def _forget_calls_in_child(self) -> None:
        """After fork(), in the child: the calls other threads of the parent were making are not
        in this process (only the forking thread is), so close() must not wait for them; and
        the lock may have been held by one of them at the fork. A fresh lock and no calls."""
        self._cond = threading.Condition(threading.Lock())
        self._busy = 0
        self._dependents = weakref.WeakSet()

    def _enter(self) -> Any:
        with self._cond:
            if self._ptr is None:
                raise self.error(
                    "the client is closed", code=_n.CIO_E_CLOSED, code_name="closed"
                )
            self._busy += 1
            return self._ptr

    def _leave(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._busy == 0:
                self._cond.notify_all()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Runs one synchronous C call; a failure raises the client's exception class."""
        ptr = self._enter()
        try:
            return fn(ptr, *args)
        except _n.Error as e:
            raise translate(e, self.error) from None
        finally:
            self._leave()

    def call_response(self, fn: Callable[..., Any], *args: Any) -> Any:
        """:meth:`call`, returning the server's answer as a
        :class:`~customerio_native.response.Response` (read from cio_last_response() on this
        thread right after the call) together with what the call returned."""
        ptr = self._enter()
        try:
            value = fn(ptr, *args)
            return from_native(_n.cio_py_last_response()), value
        except _n.Error as e:
            raise translate(e, self.error) from None
        finally:
            self._leave()

    def submit(self, queue: Any, token: int, fn: Callable[..., Any], *args: Any) -> Any:
        """Makes one C call asynchronous: it returns at once and completes on ``queue``. A call
        its input is rejected by raises here, and nothing is queued. Returns what the call
        returned: None once queued, or a Track v2 batch outcome when every item was refused
        before sending (nothing queued; the outcome is the answer).

        The call's builder (``fn`` + "_request": same arguments minus the client, same checks
        and messages) makes the request, which cio_request_send_async() hands to the engine
        with this queue and token; a call without a builder (a Track v2 batch) has an
        ``_async`` twin taking the queue and token itself. No per-thread switch is used."""
        build = _builders.get(fn, _UNRESOLVED)
        if build is _UNRESOLVED:
            build = _builders[fn] = builder_of(fn)
        ptr = self._enter()
        try:
            if build is not None:
                _n.cio_request_send_async(ptr, build(*args), queue, token)
                return None
            return async_twin(fn)(ptr, *args, queue, token)
        except _n.Error as e:
            raise translate(e, self.error) from None
        finally:
            self._leave()

    def hold(self, dependent: Any) -> Any:
        """Lends the handle to ``dependent`` (a pipeline) until it calls :meth:`release`; the
        client's :meth:`close` first closes its dependents (``dependent.close()``)."""
        ptr = self._enter()
        self._dependents.add(dependent)
        return ptr

    def release(self, dependent: Any) -> None:
        self._dependents.discard(dependent)
        self._leave()

    def close(self) -> None:
        """Frees the handle once no call is in progress; requests still in flight end with
        CIO_E_CLOSED. Pipelines on this client are closed first. Idempotent."""
        for dependent in list(self._dependents):
            dependent.close()
        with self._cond:
            ptr, self._ptr = self._ptr, None
            while self._busy:
                self._cond.wait()
        if ptr is not None:
            _n.cio_client_free(ptr)
            logger.debug("client closed")


# Every live NativeClient, for the fork handler below.
_natives: "weakref.WeakSet[NativeClient]" = weakref.WeakSet()


def _forget_calls_in_child() -> None:
    for native in list(_natives):
        native._forget_calls_in_child()


# Registered before pipeline.py's handler (this module is imported first), which runs after it
# and makes the child's own pipelines on these clients.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_calls_in_child)


# The builder of each classic call submit() has seen (None: it has none), resolved once.
_builders: Dict[Any, Any] = {}
_UNRESOLVED = object()
# Builders not named after their call.
_BUILDER_NAMES = {"cio_v2_send_entity": "cio_v2_entity_request"}


def builder_of(fn: Callable[..., Any]) -> Optional[Callable[..., Any]]:
    """The builder of the classic call ``fn`` (customerio/request.h: ``cio_X`` ->
    ``cio_X_request``), or None when it has none (cio_v2_send_batch: see async_twin)."""
    name = getattr(fn, "__name__", "")
    return getattr(_n, _BUILDER_NAMES.get(name, name + "_request"), None)


def async_twin(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The explicit-queue twin of a classic call without a builder (cio_v2_send_batch ->
    cio_v2_send_batch_async: the same arguments, then the queue and the token)."""
    return getattr(_n, getattr(fn, "__name__", "") + "_async")  # type: ignore[no-any-return]


def client_options(
    *,
    retries: Optional[int],
    timeout: Optional[float],
    backoff_factor: Optional[float] = None,
    ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> Dict[str, Any]:
    """The official clients' retry and timeout arguments as C options: ``retries`` retries mean
    ``retries + 1`` attempts; ``timeout`` seconds the whole-attempt timeout; ``backoff_factor``
    seconds the base of the exponential backoff; ``ca_file`` a PEM file of the certificate
    authorities to trust instead of the system's (a TLS-inspecting proxy, a private relay). None
    keeps libcustomerio's default."""
    opts: Dict[str, Any] = {}
    if ca_file is not None:
        opts["ca_file"] = os.fspath(ca_file)
    if retries is not None:
        opts["max_attempts"] = max(0, int(retries)) + 1
    if timeout is not None:
        opts["timeout_ms"] = max(1, int(round(float(timeout) * 1000)))
    if backoff_factor is not None:
        opts["backoff_base_ms"] = max(1, int(round(float(backoff_factor) * 1000)))
    return opts


# ---------------------------------------------------------------------------------------------
# asyncio: one completion queue per client, watched by the running event loop
# ---------------------------------------------------------------------------------------------

# How a completion's payload becomes the awaited value.
RESULT_NONE = 0  # None
RESULT_JSON = 1  # the response body parsed as JSON ({} when empty)
RESULT_BATCH = 2  # a Track v2 batch outcome as {"errors": [...]}


def batch_response(batch: Optional[Tuple[int, list]]) -> Dict[str, Any]:
    """A batch outcome, in the shape of Customer.io's 207 body: ``{"errors": [{"batch_index",
    "reason", "field", "message"}]}`` (indexes into the caller's list; ``field`` and ``message``
    left out when there is none, as in Customer.io's answer), ``{}`` when all passed."""
    if not batch or not batch[1]:
        return {}
    errors = []
    for index, reason, field, message in batch[1]:
        item: Dict[str, Any] = {"batch_index": index, "reason": reason}
        if field is not None:
            item["field"] = field
        if message is not None:
            item["message"] = message
        errors.append(item)
    return {"errors": errors}


def json_response(body: Optional[bytes]) -> Any:
    if not body:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return {"body": body.decode("utf-8", "replace")}


class AsyncEngine:
    """The asyncio side of one client: a ``cio_queue_t`` whose descriptor the running loop
    watches with ``add_reader``; each call gets a token, a future, and returns at once; the
    reader resolves futures from completions. No thread per call, no executor."""

    def __init__(self, client: NativeClient) -> None:
        self._client = client
        self._queue: Any = _n.cio_queue_new()
        self._fd: int = _n.cio_queue_fd(self._queue)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._pending: Dict[int, Tuple["asyncio.Future[Any]", int]] = {}
        self._tokens = itertools.count(1)

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is loop:
            return
        old = self._loop
        if old is not None and not old.is_closed():
            try:
                old.remove_reader(self._fd)
            except Exception:  # pragma: no cover - a loop that cannot be touched any more
                pass
        loop.add_reader(self._fd, self._drain)
        self._loop = loop

    def submit(self, kind: int, fn: Callable[..., Any], *args: Any) -> "asyncio.Future[Any]":
        loop = asyncio.get_running_loop()
        if self._queue is None:
            raise self._client.error("the client is closed", code=_n.CIO_E_CLOSED,
                                     code_name="closed")
        self._attach(loop)
        token = next(self._tokens)
        future: "asyncio.Future[Any]" = loop.create_future()
        self._pending[token] = (future, kind)
        try:
            outcome = self._client.submit(self._queue, token, fn, *args)
        except BaseException:
            del self._pending[token]
            raise
        if outcome is not None and kind == RESULT_BATCH:  # answered at once, nothing queued
            del self._pending[token]
            future.set_result(batch_response(outcome))
        return future

    def _drain(self) -> None:
        if self._queue is None:
            return
        for (token, code, http_status, attempts, message, body, batch, _r, _f, retryable,
             server_code, server_message) in _n.cio_py_queue_drain(self._queue):
            entry = self._pending.pop(token, None)
            if entry is None:
                continue
            future, kind = entry
            if future.done():  # cancelled by the caller: the request still ran to its end
                continue
            if code == _n.CIO_OK or (code == _n.CIO_E_PARTIAL and kind == RESULT_BATCH):
                if kind == RESULT_BATCH:
                    value: Any = batch_response(batch)
                elif kind == RESULT_JSON:
                    value = json_response(body)
                else:
                    value = None
                self._resolve(future, value, None)
            else:
                self._resolve(
                    future, None,
                    make_error(self._client.error, code, http_status, message, body, attempts,
                               retryable, server_code, server_message),
                )

    @staticmethod
    def _resolve(future: "asyncio.Future[Any]", value: Any, exc: Optional[BaseException]) -> None:
        loop = future.get_loop()
        if loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        setter = future.set_exception if exc is not None else future.set_result
        arg = exc if exc is not None else value
        if running is loop:
            setter(arg)
        else:  # a future of a loop this client was used from earlier
            loop.call_soon_threadsafe(lambda: future.done() or setter(arg))

    def close(self) -> None:
        """Frees the client (in-flight calls end with CIO_E_CLOSED), resolves what is left and
        frees the queue. Idempotent."""
        if self._queue is None:
            return
        self._client.close()
        self._drain()
        for future, _kind in self._pending.values():
            if not future.done():
                self._resolve(future, None, self._client.error(
                    "the client was closed before the call completed",
                    code=_n.CIO_E_CLOSED, code_name="closed"))
        self._pending.clear()
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            try:
                loop.remove_reader(self._fd)
            except Exception:  # pragma: no cover
                pass
        queue, self._queue = self._queue, None
        _n.cio_queue_free(queue)


__all__ = [
    "AsyncEngine",
    "CustomerIOException",
    "NativeClient",
    "logger",
]
