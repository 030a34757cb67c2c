"""A worker of the shared Redis queue (customerio/redis.h) inside an application: the loop of
``cio-native worker``, reading what producers (``Pipeline(..., redis_url=...)``,
``analytics.Client(..., redis_url=...)``, ``CustomerIO(..., background=True, redis_url=...)``)
put in the workspace's Redis stream, sending it to Customer.io and acknowledging each operation
after its delivery report.

    from customerio_native import Worker

    worker = Worker(site_id, api_key, redis_url="redis://redis.internal")
    worker.start()          # a daemon thread; or worker.run() to drain in this thread
    ...
    worker.stop()           # what was sent is answered and acknowledged first
    worker.close()

:meth:`run` releases the GIL while it drains (other threads keep running); Ctrl-C in the thread
that calls it stops the worker and raises KeyboardInterrupt.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Dict, List, Optional

from . import _native as _n
from ._core import NativeClient, base_url, client_options, native_kwargs
from ._core import pipeline_config, region_code, translate
from .errors import CustomerIOException
from .regions import Region, Regions

__all__ = ["Worker", "WorkerError"]


class WorkerError(CustomerIOException):
    """A worker or queue call failed: Redis unreachable (code_name "network error") or refusing
    AUTH ("authentication failed"), a bad URL, a closed worker. Messages name Redis by
    host:port, never with the password."""


def _ms(seconds: Optional[float]) -> int:
    return 0 if seconds is None else max(1, int(round(float(seconds) * 1000)))


class Worker:
    """Drains the shared Redis queue of one workspace to Customer.io.

    :param site_id: the Track site id, or a :class:`~customerio_native.CustomerIO` (or an
        analytics ``Client``) whose client (credentials, hosts) the worker uses; None reads
        ``CUSTOMERIO_SITE_ID``.
    :param api_key, host, region, port, url_prefix, retries, timeout, backoff_factor, ca_file:
        as for :class:`~customerio_native.Pipeline` (ignored when given a client).
    :param redis_url: ``redis://[user:password@]host[:port][/db]`` or ``rediss://`` (TLS).
    :param sink: ``"track_v2"`` (the Track API queue, default) or ``"pipelines"`` (the Pipelines
        API queue: give ``cdp_api_key=`` and ``cdp_url=``, or an analytics ``Client``).
    :param group: the consumer group (None: ``cio-workers``).
    :param consumer: this worker's name in it (None: host-pid-random).
    :param claim_idle: seconds after which this worker claims what another left pending
        (None: 60).
    :param max_pending: entries read and not yet acknowledged at most (None: 10,000).
    :param block: the longest wait for new entries per read, seconds (None: 0.1).
    :param max_requests_per_second: the fleet's rate (None: Customer.io's limit for the API).
    :param options: further libcustomerio pipeline options for the worker's sending
        (``batch_bytes``, ``max_in_flight``, ``ratelimit_senders``, ``retry_deadline_ms``, ...)
        or client options (``cdp_api_key``, ``cdp_url``, ``timeout_ms``, ...), by name.

    Thread-safety: :meth:`stop`, :meth:`stats` and the queue calls may be called from any
    thread while :meth:`run` drains in another. A worker runs once: after a stop, make another.
    """

    def __init__(
        self,
        site_id: Any = None,
        api_key: Optional[str] = None,
        host: Optional[str] = None,
        region: Region = Regions.US,
        port: Optional[int] = None,
        url_prefix: Optional[str] = None,
        retries: int = 3,
        timeout: float = 10,
        backoff_factor: float = 0.02,
        *,
        redis_url: str,
        sink: str = "track_v2",
        group: Optional[str] = None,
        consumer: Optional[str] = None,
        claim_idle: Optional[float] = None,
        max_pending: Optional[int] = None,
        block: Optional[float] = None,
        max_requests_per_second: Optional[float] = None,
        ca_file: Optional[str] = None,
        **options: Any,
    ) -> None:
        if not isinstance(redis_url, str) or not redis_url:
            raise TypeError("Worker() needs redis_url (redis:// or rediss://)")
        self._ptr: Any = None
        self._native: Optional[NativeClient] = None
        self._own_native = False
        self._lock = threading.Lock()
        self._running = False
        self._idle = threading.Event()  # set while run() is not draining
        self._idle.set()
        self._thread: Optional[threading.Thread] = None
        self.redis_url = redis_url
        self.group = group
        self._sink = _n.CIO_SINK_PIPELINES if str(sink).lower() == "pipelines" \
            else _n.CIO_SINK_TRACK_V2
        pipe_options: Dict[str, Any] = {
            "sink": sink, "max_requests_per_second": max_requests_per_second}
        config, client_extra = pipeline_config(pipe_options, options, WorkerError)
        try:
            native = (site_id if isinstance(site_id, NativeClient)
                      else getattr(site_id, "_native", None))
            if isinstance(native, NativeClient):
                if native_kwargs("Worker", client_extra):
                    raise TypeError("Worker() got client options ({}) with a client".format(
                        ", ".join(sorted(client_extra))))
                self._native = native
            else:
                self._native = NativeClient(
                    WorkerError,
                    **native_kwargs(
                        "Worker", client_extra,
                        site_id=site_id, api_key=api_key,
                        region=region_code(region, WorkerError),
                        track_url=base_url(host, port, url_prefix, region.track_host, "/api/v1",
                                           WorkerError),
                        **client_options(retries=retries, timeout=timeout,
                                         backoff_factor=backoff_factor, ca_file=ca_file),
                    ),
                )
                self._own_native = True
            client_ptr = self._native.hold(self)
            try:
                self._ptr = _n.cio_swig_worker_new(
                    client_ptr, redis_url, config, group, consumer, _ms(claim_idle),
                    int(max_pending or 0), _ms(block))
            except BaseException as e:
                self._native.release(self)
                if self._own_native:
                    self._native.close()
                if isinstance(e, _n.Error):
                    raise translate(e, WorkerError) from None
                raise
        finally:
            _n.cio_config_free(config)

    def _worker(self) -> Any:
        if self._ptr is None:
            raise WorkerError("the worker is closed", code=_n.CIO_E_CLOSED,
                              code_name=_n.cio_status_str(_n.CIO_E_CLOSED))
        return self._ptr

    def run(self, stop_timeout: Optional[float] = 10.0) -> None:
        """Drains the queue until :meth:`stop` (from another thread) or Ctrl-C here, without
        the GIL; then waits up to ``stop_timeout`` seconds (None: no limit) for what was sent to
        be answered and acknowledged (what is left stays pending for the other workers)."""
        with self._lock:
            ptr = self._worker()
            if self._running:
                raise WorkerError("the worker is already running", code=_n.CIO_E_INVALID_ARGUMENT,
                                  code_name=_n.cio_status_str(_n.CIO_E_INVALID_ARGUMENT))
            self._running = True
            self._idle.clear()
        try:
            self._run(ptr, stop_timeout)
        finally:
            self._running = False
            self._idle.set()

    def _run(self, ptr: Any, stop_timeout: Optional[float]) -> None:
        timeout_ms = -1 if stop_timeout is None else max(0, int(round(stop_timeout * 1000)))
        if threading.current_thread() is not threading.main_thread():
            try:
                _n.cio_swig_worker_run(ptr, timeout_ms)
            except _n.Error as e:
                raise translate(e, WorkerError) from None
            return
        # In the main thread: drain in a helper thread so that Ctrl-C reaches Python here.
        errors: List[BaseException] = []

        def drain() -> None:
            try:
                _n.cio_swig_worker_run(ptr, timeout_ms)
            except _n.Error as e:
                errors.append(translate(e, WorkerError))

        helper = threading.Thread(target=drain, name="customerio-worker", daemon=True)
        helper.start()
        try:
            while helper.is_alive():
                helper.join(0.2)
        except BaseException:
            _n.cio_worker_stop(ptr)
            helper.join()
            raise
        if errors:
            raise errors[0]

    def start(self, stop_timeout: Optional[float] = 10.0) -> None:
        """:meth:`run` in a daemon thread; :meth:`stop` ends it."""
        self._worker()
        self._thread = threading.Thread(target=self.run, args=(stop_timeout,),
                                        name="customerio-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: Optional[float] = None) -> bool:
        """Asks :meth:`run` to return; with :meth:`start`, waits for its thread (up to
        ``timeout`` seconds; None: no limit). True when it ended. Thread-safe."""
        ptr = self._ptr
        if ptr is not None:
            _n.cio_worker_stop(ptr)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def stats(self) -> Dict[str, int]:
        """This worker's counters: read, claimed, acked, dead_lettered, held."""
        try:
            text = _n.cio_swig_worker_stats(self._worker())
        except _n.Error as e:
            raise translate(e, WorkerError) from None
        return json.loads(text)  # type: ignore[no-any-return]

    # ---- the queue, as Redis has it ---------------------------------------------------------

    def _queue_call(self, fn: Any, *args: Any) -> Any:
        native = self._native
        if native is None:
            raise WorkerError("the worker is closed", code=_n.CIO_E_CLOSED,
                              code_name=_n.cio_status_str(_n.CIO_E_CLOSED))
        return native.call(fn, self.redis_url, self._sink, *args)

    def queue_stats(self) -> Dict[str, int]:
        """The workspace's queue: length, pending, oldest_pending_age_ms, dead_letters,
        rate_limit_waits."""
        text = self._queue_call(_n.cio_swig_queue_stats, self.group)
        return json.loads(text)  # type: ignore[no-any-return]

    def dead_letters(self, count: int = 0) -> List[Dict[str, Any]]:
        """What Customer.io refused, oldest first (at most count; 0: 100): dicts with id,
        operation, reason, field, message, http_status."""
        text = self._queue_call(_n.cio_swig_dead_letters, int(count))
        return json.loads(text)  # type: ignore[no-any-return]

    def retry_dead_letters(self, id: Optional[str] = None) -> int:
        """Puts the dead letter with this entry id (None: all) back in the queue; how many."""
        return int(self._queue_call(_n.cio_swig_dead_letters_retry, id))

    def drop_dead_letters(self, id: Optional[str] = None) -> int:
        """Deletes the dead letter with this entry id (None: all); how many."""
        return int(self._queue_call(_n.cio_swig_dead_letters_drop, id))

    # ---- close ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stops the worker (waiting for :meth:`start`'s thread), frees it and lets the client
        go. Idempotent."""
        self.stop()
        self._idle.wait()  # run() in another thread returns soon after the stop
        with self._lock:
            ptr, self._ptr = self._ptr, None
        if ptr is not None:
            _n.cio_worker_free(ptr)
        native, self._native = self._native, None
        if native is not None and ptr is not None:
            native.release(self)
            if self._own_native:
                native.close()

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._ptr is not None and self._idle.is_set():
                self.close()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass
