"""The shared Redis queue (issue 18) from Python: ``Pipeline(..., redis_url=...)``,
``analytics.Client(..., redis_url=...)`` and ``CustomerIO(..., background=True, redis_url=...)``
put their operations into the workspace's Redis stream, nothing reaches the emulator until a
worker runs (``cio-native worker`` started by the test, or :class:`customerio_native.Worker` in
this process), then every event arrives once.

A real redis-server on a random loopback port (``--appendonly yes --appendfsync always --save
""``, a temporary directory, stopped by its PID); the stream is read with a raw RESP socket.
Skipped when redis-server is not installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

import customerio_native as cio
from customerio_native import analytics

from conftest import API_KEY, CDP_API_KEY, SITE_ID, REPO, Mock, body

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None,
                                reason="redis-server is not installed (scripts/deps.sh)")

TRACK_STREAM = "{cio:%s}:q" % SITE_ID
CDP_STREAM = "{cio:cdp-%s}:q" % hashlib.sha256(CDP_API_KEY.encode()).hexdigest()[:16]


def _resp(args: Any) -> bytes:
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def _read(f: Any) -> Any:
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError("redis: " + rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        return None if n < 0 else f.read(n + 2)[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise RuntimeError("redis: unexpected reply {!r}".format(line))


class Redis:
    """redis-server on a random loopback port in a temporary directory."""

    def __init__(self, *extra: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="cio-redis-py-")
        self.extra = extra
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0

    @property
    def url(self) -> str:
        return "redis://127.0.0.1:{}".format(self.port)

    def start(self) -> "Redis":
        for _ in range(20):
            self.port = random.randint(20000, 49999)
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                 self.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                 "--daemonize", "no", "--logfile", "redis.log", *self.extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(200):
                if self.proc.poll() is not None:
                    break
                try:
                    self.command("PING")
                    return self
                except OSError:
                    time.sleep(0.02)
                except RuntimeError:  # NOAUTH: it answers
                    return self
            self.stop()
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def command(self, *args: Any) -> Any:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            f = s.makefile("rb")
            s.sendall(_resp(args))
            return _read(f)

    def xlen(self, key: str) -> int:
        return int(self.command("XLEN", key))

    def ops(self, key: str) -> List[Dict[str, Any]]:
        """The operations in a stream: every field value that is a JSON object."""
        found = []
        for _id, fields in self.command("XRANGE", key, "-", "+") or []:
            for value in fields[1::2]:
                try:
                    v = json.loads(value)
                except ValueError:
                    continue
                if isinstance(v, dict):
                    found.append(v)
        return found


@pytest.fixture(scope="module")
def redis_server() -> Iterator[Redis]:
    r = Redis().start()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def redis(redis_server: Redis) -> Redis:
    redis_server.command("FLUSHALL")
    return redis_server


def cio_native() -> str:
    """The cio-native binary beside the emulator's build (CIO_MOCK_BIN)."""
    mock_bin = os.environ.get("CIO_MOCK_BIN")
    build = (pathlib.Path(mock_bin).resolve().parents[1] if mock_bin
             else REPO / "build")
    path = build / "cli" / "cio-native"
    if not path.exists():
        pytest.fail("cio-native not found at {} (build it first)".format(path))
    return str(path)


class WorkerProcess:
    """``cio-native worker`` on the emulator until stop() (SIGTERM)."""

    def __init__(self, mock: Mock, redis_url: str, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMERIO_")}
        env.update(CUSTOMERIO_SITE_ID=SITE_ID, CUSTOMERIO_API_KEY=API_KEY,
                   CUSTOMERIO_TRACK_URL=mock.url, CUSTOMERIO_CDP_API_KEY=CDP_API_KEY,
                   CUSTOMERIO_CDP_URL=mock.url, CIO_REDIS_URL=redis_url)
        self.proc = subprocess.Popen([cio_native(), "worker", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return err.decode(errors="replace")


def wait_for(what: str, cond: Callable[[], Any], timeout: float = 30) -> Any:
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            pytest.fail("timed out waiting for " + what)
        time.sleep(0.05)


def track_ops(mock: Mock) -> List[Dict[str, Any]]:
    ops: List[Dict[str, Any]] = []
    for r in mock.requests():
        if r["path"] == "/api/v2/batch" and r["status"] == 200:
            ops.extend(body(r)["batch"])
    return ops


def cdp_messages(mock: Mock) -> List[Dict[str, Any]]:
    msgs: List[Dict[str, Any]] = []
    for r in mock.requests():
        if r["path"] == "/v1/batch" and r["status"] == 200:
            msgs.extend(body(r)["batch"])
    return msgs


def drain_with_cli(mock: Mock, redis: Redis, stream: str, count: int, collect: Callable,
                   *args: str) -> List[Dict[str, Any]]:
    worker = WorkerProcess(mock, redis.url, *args)
    try:
        wait_for("{} operations at the emulator".format(count), lambda: len(collect(mock)) >= count)
        wait_for("the stream emptied", lambda: redis.xlen(stream) == 0)
    finally:
        err = worker.stop()
    assert '"acked":{}'.format(count) in err, err
    time.sleep(0.2)  # nothing more arrives
    return collect(mock)


def track_events(ops: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {o["id"]: o for o in ops if o.get("action") == "event"}


# ---- producers ---------------------------------------------------------------------------


def test_pipeline_redis_url_queues_in_redis_until_a_worker_runs(mock: Mock, redis: Redis) -> None:
    pipe = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=redis.url)
    try:
        for i in range(4):
            pipe.track("42", "evt-{}".format(i), n=i)
        assert pipe.flush(10)
    finally:
        pipe.close()
    assert redis.xlen(TRACK_STREAM) == 4
    queued = redis.ops(TRACK_STREAM)
    assert sorted(o["name"] for o in queued) == ["evt-0", "evt-1", "evt-2", "evt-3"]
    assert mock.requests() == []
    got = drain_with_cli(mock, redis, TRACK_STREAM, 4, track_ops)
    assert sorted(o["id"] for o in got) == sorted(o["id"] for o in queued)  # each once
    for o in got:
        assert o["identifiers"] == {"id": "42"}
        assert o["attributes"] == {"n": int(o["name"][-1])}


def test_customerio_background_redis_url(mock: Mock, redis: Redis) -> None:
    client = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, background=True,
                            redis_url=redis.url)
    try:
        assert client.pipeline is not None
        client.identify("7", email="seven@example.com")
        client.track("7", "signed_up", data={"plan": "pro"}, id="evt-fixed-1")
        assert client.flush(10)
    finally:
        client.close()
    assert redis.xlen(TRACK_STREAM) == 2
    queued = redis.ops(TRACK_STREAM)
    assert {o["action"] for o in queued} == {"identify", "event"}
    assert mock.requests() == []
    got = drain_with_cli(mock, redis, TRACK_STREAM, 2, track_ops)
    assert len(got) == 2
    event = [o for o in got if o["action"] == "event"]
    assert len(event) == 1 and event[0]["id"] == "evt-fixed-1"
    assert event[0]["attributes"] == {"plan": "pro"} and event[0]["name"] == "signed_up"
    ident = [o for o in got if o["action"] == "identify"]
    assert ident[0]["attributes"] == {"email": "seven@example.com"}


def test_customerio_background_routing_errors(mock: Mock, redis: Redis) -> None:
    # Given twice: refused, naming it.
    with pytest.raises(TypeError, match="redis_url"):
        cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, background=True,
                       redis_url=redis.url, pipeline_options={"redis_url": redis.url})
    # Without background=True there is no pipeline for it: refused as before.
    with pytest.raises(TypeError, match="redis_url"):
        cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=redis.url)
    # pipeline_options={"redis_url": ...} works as well.
    client = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, background=True,
                            pipeline_options={"redis_url": redis.url})
    client.track("1", "e")
    assert client.flush(10)
    client.close()
    assert redis.xlen(TRACK_STREAM) == 1
    assert mock.requests() == []


def test_analytics_client_redis_url(mock: Mock, redis: Redis) -> None:
    client = analytics.Client(CDP_API_KEY, host=mock.url, redis_url=redis.url)
    try:
        for i in range(3):
            client.track("u{}".format(i), "clicked", {"n": i})
        client.flush()
    finally:
        client.shutdown()
    assert redis.xlen(CDP_STREAM) == 3
    queued = redis.ops(CDP_STREAM)
    assert sorted(m["userId"] for m in queued) == ["u0", "u1", "u2"]
    assert mock.requests() == []
    got = drain_with_cli(mock, redis, CDP_STREAM, 3, cdp_messages, "--pipelines")
    assert sorted(m["messageId"] for m in got) == sorted(m["messageId"] for m in queued)
    assert sorted((m["userId"], m["properties"]["n"]) for m in got) == [
        ("u0", 0), ("u1", 1), ("u2", 2)]


def test_wrong_password_is_reported_without_it(mock: Mock) -> None:
    secured = Redis("--requirepass", "right-secret").start()
    try:
        url = "redis://:wrong-secret-456@127.0.0.1:{}".format(secured.port)
        reports: List[cio.DeliveryReport] = []
        pipe = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=url,
                            retry_deadline=0.5, on_error=reports.append)
        pipe.track("42", "e")
        pipe.flush(20)
        pipe.close()
        # The producer keeps the operation until its retry deadline, then reports it with
        # Redis's refusal (host and port, never the password).
        assert len(reports) == 1, reports
        assert not reports[0].ok and reports[0].code_name == "timeout", reports
        assert "the last attempt: redis: 127.0.0.1:" in reports[0].message, reports
        assert "refused AUTH" in reports[0].message, reports
        assert "wrong-secret-456" not in (reports[0].message or "")
        assert mock.requests() == []
        with pytest.raises(cio.CustomerIOException) as info:
            cio.Worker(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=url)
        assert "refused AUTH" in str(info.value) and "wrong-secret-456" not in str(info.value)
    finally:
        secured.stop()
        shutil.rmtree(secured.dir, ignore_errors=True)


# ---- the worker inside this process --------------------------------------------------------


def test_worker_in_process_drains_and_stops(mock: Mock, redis: Redis) -> None:
    pipe = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=redis.url)
    for i in range(5):
        pipe.track("9", "w-{}".format(i))
    assert pipe.flush(10)
    pipe.close()
    assert redis.xlen(TRACK_STREAM) == 5
    queued = {o["id"] for o in redis.ops(TRACK_STREAM)}
    worker = cio.Worker(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=redis.url,
                        consumer="py-worker")
    stats = worker.queue_stats()
    assert stats["length"] == 5 and stats["pending"] == 0 and stats["dead_letters"] == 0
    ticks: List[int] = []
    thread = threading.Thread(target=worker.run)
    thread.start()
    # run() released the GIL: this thread keeps running meanwhile.
    wait_for("5 events", lambda: ticks.append(1) or len(track_ops(mock)) >= 5)
    wait_for("the stream emptied", lambda: redis.xlen(TRACK_STREAM) == 0)
    wait_for("5 acknowledged", lambda: worker.stats()["acked"] == 5)
    worker.stop()
    thread.join(30)
    assert not thread.is_alive()
    assert len(ticks) > 1
    assert worker.stats() == {"read": 5, "claimed": 0, "acked": 5, "dead_lettered": 0,
                              "held": 0}
    time.sleep(0.2)
    assert {o["id"] for o in track_ops(mock)} == queued and len(track_ops(mock)) == 5
    worker.close()
    worker.close()  # idempotent
    with pytest.raises(cio.CustomerIOException, match="closed"):
        worker.run()


def test_worker_start_and_dead_letters(mock: Mock, redis: Redis) -> None:
    mock.fault(count=1000, status=400, match="REFUSE-ME",
               body={"errors": [{"reason": "invalid", "message": "refused by the test"}]})
    pipe = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, redis_url=redis.url)
    pipe.track("1", "good")
    pipe.track("1", "bad", marker="REFUSE-ME")
    assert pipe.flush(10)
    pipe.close()
    with cio.Worker(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                    redis_url=redis.url) as worker:
        worker.start()
        wait_for("one dead letter", lambda: worker.queue_stats()["dead_letters"] == 1)
        wait_for("the good one", lambda: [o["name"] for o in track_ops(mock)] == ["good"])
        worker.stop()
        assert worker.stats()["dead_lettered"] == 1
        dead = worker.dead_letters()
        assert len(dead) == 1 and dead[0]["http_status"] == 400
        op = dead[0]["operation"]
        op = json.loads(op) if isinstance(op, str) else op
        assert op["name"] == "bad"
        assert worker.retry_dead_letters(dead[0]["id"]) == 1
        assert redis.xlen(TRACK_STREAM) == 1
        mock.clear_faults()
    # A new worker (a stopped one has run) delivers the retried one.
    with cio.Worker(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                    redis_url=redis.url) as worker:
        worker.start()
        wait_for("the retried one", lambda: sorted(o["name"] for o in track_ops(mock))
                 == ["bad", "good"])
        assert worker.drop_dead_letters() == 0
    assert redis.xlen(TRACK_STREAM) == 0


def test_worker_run_in_the_main_thread_stops_on_ctrl_c(mock: Mock, redis: Redis) -> None:
    code = (
        "import sys, customerio_native as cio\n"
        "w = cio.Worker('{site}', '{key}', host='{host}', port={port}, redis_url=sys.argv[1])\n"
        "print('running', flush=True)\n"
        "try:\n"
        "    w.run()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', w.stats()['read'], flush=True)\n"
        "    w.close()\n"
    ).format(site=SITE_ID, key=API_KEY, host=mock.host, port=mock.port)
    proc = subprocess.Popen([sys.executable, "-c", code, redis.url], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"running\n"
    time.sleep(0.3)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 5
    assert proc.returncode == 0, err
    assert out == b"interrupted 0\n"
