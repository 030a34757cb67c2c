"""customerio_native.Pipeline (libcustomerio's delivery pipeline) and CustomerIO(background=True),
against the emulator: every event delivered once under injected failures, counters, the full
queue, delivery reports, a spool surviving kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import pytest

import customerio_native as cio
from conftest import API_KEY, SITE_ID, body


def pipeline(mock, **options):
    return cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, backoff_factor=0.001,
                        **options)


def delivered_ops(mock):
    """The operations of every batch the emulator accepted (status 200), in order."""
    ops = []
    for req in mock.requests():
        if req["path"] == "/api/v2/batch" and req["status"] == 200:
            ops.extend(body(req)["batch"])
    return ops


def test_5000_events_each_delivered_once_under_faults(mock):
    reports = []
    mock.fault(count=2, status=500)
    mock.fault(count=2, status=429, retry_after=0)
    mock.fault(count=2, action="reset")
    mock.fault(count=1, status=503, body="busy")
    with pipeline(mock, batch_bytes=20000, linger=0.01, on_error=reports.append) as pipe:
        seqs = [pipe.track("user-{}".format(i % 97), "purchased", n=i, sku="SKU-{}".format(i))
                for i in range(5000)]
        assert pipe.flush(timeout=60)
        stats = pipe.stats()
    assert reports == []
    assert seqs == list(range(1, 5001))
    ops = delivered_ops(mock)
    ids = Counter(op["id"] for op in ops)
    assert len(ids) == 5000 and set(ids.values()) == {1}   # 5,000 distinct, none twice
    assert all(len(i) == 26 for i in ids)                   # ULIDs
    assert sorted(op["attributes"]["n"] for op in ops) == list(range(5000))
    assert stats["enqueued"] == 5000
    assert stats["delivered"] == 5000
    assert stats["failed"] == 0
    assert stats["retried"] > 0
    assert stats["queue_depth"] == 0 and stats["queue_bytes"] == 0 and stats["in_flight"] == 0
    statuses = [r["status"] for r in mock.requests()]
    assert statuses.count(500) == 2 and statuses.count(429) == 2 and statuses.count(503) == 1
    assert statuses.count(0) == 2                            # the two resets
    assert stats["requests"] >= len(ops) // 200
    assert stats["bytes_sent"] >= sum(len(r["body"]) for r in mock.requests()
                                      if r["status"] == 200)


def test_many_threads_enqueue_at_once(mock):
    with pipeline(mock, linger=0.01) as pipe:
        def worker(t):
            for i in range(500):
                pipe.track("t{}".format(t), "threaded", t=t, i=i)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert pipe.flush(timeout=60)
        assert pipe.stats()["delivered"] == 4000
    ops = delivered_ops(mock)
    assert len({op["id"] for op in ops}) == 4000
    assert len({(op["attributes"]["t"], op["attributes"]["i"]) for op in ops}) == 4000


def test_bad_options(mock, monkeypatch):
    monkeypatch.delenv("CUSTOMERIO_SITE_ID", raising=False)
    monkeypatch.delenv("CUSTOMERIO_API_KEY", raising=False)
    with pytest.raises(cio.PipelineError, match="when_full"):
        pipeline(mock, when_full="drop")
    with pytest.raises(cio.PipelineError, match="spool_sync"):
        pipeline(mock, spool_sync="sometimes")
    with pytest.raises(cio.CustomerIOException):
        cio.Pipeline(cio.APIClient("k", url=mock.url))   # no Track credentials on that client


def test_flush_then_stats(mock):
    pipe = pipeline(mock)
    try:
        for i in range(10):
            pipe.identify(i, email="u{}@example.com".format(i), plan="pro")
        pipe.track_person_event({"email": "a@example.com"}, "signed_up", source="ad")
        assert pipe.flush()
        stats = pipe.stats()
    finally:
        pipe.close()
    assert stats["enqueued"] == 11 and stats["delivered"] == 11 and stats["failed"] == 0
    assert stats["requests"] == 1
    assert stats["bytes_sent"] == len(mock.only()["body"])
    req = mock.only()
    assert req["headers"]["authorization"].startswith("Basic ")
    ops = body(req)["batch"]
    assert ops[0] == {"type": "person", "action": "identify", "identifiers": {"id": "0"},
                      "attributes": {"email": "u0@example.com", "plan": "pro"}}
    assert ops[10]["identifiers"] == {"email": "a@example.com"}
    assert ops[10]["name"] == "signed_up" and len(ops[10]["id"]) == 26
    assert pipe.closed
    with pytest.raises(cio.PipelineError, match="closed"):
        pipe.track("1", "late")


def test_every_operation_shape(mock):
    with pipeline(mock) as pipe:
        pipe.identify("5", created_at=1700000000)
        pipe.track("5", "bought", price=9.5)
        pipe.pageview("5", "https://example.com/", ref="x")
        pipe.screen("5", "Home")
        pipe.backfill("5", "old", 1600000000, a=1)
        pipe.add_device("5", "tok", "ios", last_used=1700000001, attributes={"m": "x"})
        pipe.delete_device("5", "tok")
        pipe.suppress("5")
        pipe.unsuppress("5")
        pipe.merge_customers("id", "5", "email", "old@example.com")
        pipe.add_person_relationships({"id": "5"}, [{"identifiers": {"object_type_id": "1",
                                                                      "object_id": "acme"}}])
        pipe.identify_object({"object_type_id": "1", "object_id": "acme"}, name="Acme")
        pipe.track_delivery_event("dlv-1", "opened")
        pipe.enqueue('{"type":"person","action":"delete","identifiers":{"cio_id":"c9"}}')
        pipe.delete("5")
        assert pipe.flush()
        assert pipe.stats()["delivered"] == 15
    ops = [{k: v for k, v in op.items() if k != "id"} for op in delivered_ops(mock)]
    person5 = {"id": "5"}
    assert ops == [
        {"type": "person", "action": "identify", "identifiers": person5,
         "attributes": {"created_at": 1700000000}},
        {"type": "person", "action": "event", "identifiers": person5, "name": "bought",
         "attributes": {"price": 9.5}},
        {"type": "person", "action": "page", "identifiers": person5,
         "name": "https://example.com/", "attributes": {"ref": "x"}},
        {"type": "person", "action": "screen", "identifiers": person5, "name": "Home",
         "attributes": {}},
        {"type": "person", "action": "event", "identifiers": person5, "name": "old",
         "attributes": {"a": 1}, "timestamp": 1600000000},
        {"type": "person", "action": "add_device", "identifiers": person5,
         "device": {"token": "tok", "platform": "ios", "last_used": 1700000001,
                    "attributes": {"m": "x"}}},
        {"type": "person", "action": "delete_device", "identifiers": person5,
         "device": {"token": "tok"}},
        {"type": "person", "action": "suppress", "identifiers": person5},
        {"type": "person", "action": "unsuppress", "identifiers": person5},
        {"type": "person", "action": "merge", "primary": {"id": "5"},
         "secondary": {"email": "old@example.com"}},
        {"type": "person", "action": "add_relationships", "identifiers": person5,
         "cio_relationships": [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}]},
        {"type": "object", "action": "identify",
         "identifiers": {"object_type_id": "1", "object_id": "acme"},
         "attributes": {"name": "Acme"}},
        {"type": "delivery", "action": "event", "identifiers": {"id": "dlv-1"},
         "name": "opened"},
        {"type": "person", "action": "delete", "identifiers": {"cio_id": "c9"}},
        {"type": "person", "action": "delete", "identifiers": person5},
    ]


def test_bad_operation_raises_and_queues_nothing(mock):
    with pipeline(mock) as pipe:
        with pytest.raises(cio.PipelineError, match="identifiers") as info:
            pipe.identify_person({"id": "1", "email": "a@b.c"})
        assert info.value.code_name == "invalid argument"
        with pytest.raises(cio.PipelineError):
            pipe.track("", "e")
        with pytest.raises(cio.PipelineError, match="too large|32"):
            pipe.track("1", "big", blob="x" * 40000)
        with pytest.raises(cio.PipelineError):
            pipe.enqueue("not json")
        assert pipe.stats()["enqueued"] == 0
    assert mock.requests() == []


def _stall(mock, seconds):
    """The next batch request is answered only after `seconds`."""
    mock.fault(count=1, status=0, delay_ms=int(seconds * 1000))


def test_full_queue_fail_mode(mock):
    _stall(mock, 1.5)
    with pipeline(mock, max_queue_bytes=4000, when_full="fail", linger=0.01,
                  max_in_flight=1) as pipe:
        pipe.track("1", "first")
        time.sleep(0.2)                      # the first batch is now in flight, stalled
        accepted = 0
        started = time.monotonic()
        with pytest.raises(cio.QueueFullError) as info:
            for i in range(1000):
                pipe.track("1", "e", i=i)
                accepted += 1
        assert time.monotonic() - started < 0.5      # failed at once, no waiting
        assert info.value.code_name == "queue full"
        assert 5 < accepted < 100
        assert pipe.flush(timeout=30)
        stats = pipe.stats()
    assert stats["delivered"] == accepted + 1 and stats["failed"] == 0
    assert len(delivered_ops(mock)) == accepted + 1


def test_full_queue_block_mode(mock):
    _stall(mock, 1.0)
    with pipeline(mock, max_queue_bytes=4000, when_full="block", block_timeout=0.3,
                  linger=0.01, max_in_flight=1) as pipe:
        pipe.track("1", "first")
        time.sleep(0.2)
        accepted = 0
        started = time.monotonic()
        with pytest.raises(cio.QueueFullError):
            for i in range(1000):
                pipe.track("1", "e", i=i)
                accepted += 1
        waited = time.monotonic() - started
        assert 0.25 < waited < 0.9                   # waited block_timeout, then failed
        # With a longer timeout the same call waits for the stalled batch to finish.
        _stall(mock, 0)
    with pipeline(mock, max_queue_bytes=4000, when_full="block", block_timeout=10,
                  linger=0.01, max_in_flight=1) as pipe:
        mock.fault(count=1, status=0, delay_ms=800)
        pipe.track("1", "first")
        time.sleep(0.2)
        started = time.monotonic()
        for i in range(300):                         # far more than fits: waits, never fails
            pipe.track("1", "e", i=i)
        assert time.monotonic() - started > 0.4
        assert pipe.flush(timeout=30)
        assert pipe.stats()["delivered"] == 301


def test_on_error_gets_items_rejected_in_a_207(mock):
    errors, everything = [], []
    mock.fault(count=1, status=207,
               body={"errors": [{"batch_index": 0, "reason": "invalid"}]})
    with pipeline(mock, on_error=errors.append, on_report=everything.append,
                  report_successes=True) as pipe:
        first = pipe.track("1", "rejected-one")
        pipe.track("2", "fine")
        pipe.track("3", "fine")
        assert pipe.flush()
        stats = pipe.stats()
    assert len(errors) == 1
    report = errors[0]
    assert report.seq == first and not report.ok
    assert report.code_name == "bad request" and report.status == 207
    assert "invalid" in report.message
    assert report.operation["name"] == "rejected-one" and len(report.operation["id"]) == 26
    assert sorted(r.seq for r in everything) == [1, 2, 3]
    assert [r.ok for r in sorted(everything)] == [False, True, True]
    assert stats["delivered"] == 2 and stats["failed"] == 1


def test_on_error_runs_on_the_reporter_thread_and_for_4xx(mock):
    seen = []
    done = threading.Event()

    def on_error(report):
        seen.append((report, threading.current_thread().name))
        done.set()

    mock.fault(count=1, status=400, body='{"errors":[{"reason":"malformed"}]}')
    pipe = pipeline(mock, on_error=on_error, linger=0.01)
    try:
        pipe.track("1", "e")
        assert done.wait(10)                # without flush(): the reporter thread drained it
        report, thread = seen[0]
        assert thread == "customerio-reports"
        assert report.code_name == "bad request" and report.status == 400
    finally:
        pipe.close()


def test_close_reports_what_could_not_be_delivered(mock):
    errors = []
    pipe = cio.Pipeline(SITE_ID, API_KEY, host="127.0.0.1", port=9, on_error=errors.append,
                        linger=0.01, backoff_factor=0.001)
    pipe.track("1", "a")
    pipe.track("2", "b")
    assert pipe.close(timeout=0.3) is False
    assert sorted(r.seq for r in errors) == [1, 2]
    assert {r.code_name for r in errors} == {"client closed"}


def test_callback_exceptions_are_logged_not_raised(mock, caplog):
    def boom(report):
        raise RuntimeError("callback bug")

    mock.fault(count=1, status=400)
    with pipeline(mock, on_error=boom) as pipe:
        pipe.track("1", "e")
        assert pipe.flush()
        pipe.track("1", "after")
        assert pipe.flush()
        assert pipe.stats()["delivered"] == 1
    assert "callback failed" in caplog.text


def test_pipeline_on_a_customerio_client(mock):
    client = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    pipe = cio.Pipeline(client)
    pipe.identify("7", a=1)
    client.close()                          # closes (and flushes) the pipeline first
    assert pipe.closed
    assert [op["identifiers"] for op in delivered_ops(mock)] == [{"id": "7"}]


def test_background_customerio(mock):
    errors = []
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                        background=True, pipeline_options={"on_error": errors.append}) as c:
        assert isinstance(c.pipeline, cio.Pipeline)
        mock.fault(count=1, status=0, delay_ms=1000)       # a slow server...
        started = time.monotonic()
        c.identify(id=5, email="customer@example.com")
        c.track(customer_id=5, name="product.purchased", price=23.45)
        c.pageview("5", "https://example.com/")
        c.add_device("5", "tok", "android")
        c.merge_customers("id", "5", "email", "x@example.com")
        assert time.monotonic() - started < 0.5             # ...does not slow the caller
        with pytest.raises(cio.CustomerIOException, match="invalid primary id type"):
            c.merge_customers("phone", "5", "id", "6")
        c.track_anonymous("anon-1", "visited")               # no v2 form: stays synchronous
        assert c.flush(timeout=20)
    assert errors == []
    reqs = mock.requests()
    assert ("POST", "/api/v1/events") in [(r["method"], r["path"]) for r in reqs]
    ops = delivered_ops(mock)
    assert [(op["action"], op.get("name")) for op in ops] == [
        ("identify", None), ("event", "product.purchased"), ("page", "https://example.com/"),
        ("add_device", None), ("merge", None)]
    assert ops[1]["attributes"] == {"price": 23.45}


# ---- processes --------------------------------------------------------------------------------

CHILD = textwrap.dedent("""
    import os, sys, time, json, urllib.request
    import customerio_native as cio

    host, port, spool = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    def fault(spec):
        req = urllib.request.Request("%s:%d/_mock/faults" % (host, port),
                                     data=json.dumps(spec).encode(), method="POST")
        urllib.request.urlopen(req).read()

    pipe = cio.Pipeline("{site}", "{key}", host=host, port=port, spool_path=spool, linger=0.01,
                        backoff_factor=0.001)
    for i in range(500):                      # delivered and confirmed in the spool
        pipe.track("u%d" % (i % 10), "first-half", i=i)
    assert pipe.flush(timeout=30)
    fault({{"count": 1000000, "action": "reset"}})  # from now on nothing gets through
    for i in range(500, 1000):
        pipe.track("u%d" % (i % 10), "second-half", i=i)
    print("queued", flush=True)
    time.sleep(60)
""").format(site=SITE_ID, key=API_KEY)


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    return env


def test_spool_survives_kill_9_and_delivers_everything_once(mock, tmp_path):
    spool = str(tmp_path / "events.spool")
    child = subprocess.Popen([sys.executable, "-c", CHILD, mock.host, str(mock.port), spool],
                             stdout=subprocess.PIPE, env=_env())
    try:
        line = child.stdout.readline()
        assert line.strip() == b"queued", line
        time.sleep(0.3)                        # a few failed attempts, mid-retry
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    mock.clear_faults()
    first_half = delivered_ops(mock)
    assert len(first_half) == 500

    with pipeline(mock, spool_path=spool, linger=0.01) as pipe:
        assert pipe.flush(timeout=30)
        stats = pipe.stats()
    assert stats["failed"] == 0 and stats["delivered"] == 500
    ops = delivered_ops(mock)
    counts = Counter(op["id"] for op in ops)
    assert len(counts) == 1000 and set(counts.values()) == {1}
    assert sorted(op["attributes"]["i"] for op in ops) == list(range(1000))
    # A third pipeline on the same spool has nothing left to send.
    mock.clear()
    with pipeline(mock, spool_path=spool) as pipe:
        assert pipe.flush(timeout=10)
        assert pipe.stats()["enqueued"] == 0
    assert mock.requests() == []


def test_exit_flushes_what_is_queued(mock):
    code = textwrap.dedent("""
        import sys
        import customerio_native as cio
        pipe = cio.Pipeline({site!r}, {key!r}, host=sys.argv[1], port=int(sys.argv[2]),
                            linger=5)
        for i in range(20):
            pipe.track("1", "at-exit", i=i)
        # no flush, no close: the interpreter's exit delivers them
    """).format(site=SITE_ID, key=API_KEY)
    subprocess.run([sys.executable, "-c", code, mock.host, str(mock.port)], check=True,
                   env=_env(), timeout=30)
    assert sorted(op["attributes"]["i"] for op in delivered_ops(mock)) == list(range(20))


def test_forked_child_does_not_touch_the_parents_pipeline(mock):
    with pipeline(mock) as pipe:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 0
            try:
                pipe.track("1", "from-child")
                code = 1
            except cio.PipelineError:
                pass
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WEXITSTATUS(status) == 0
        pipe.track("1", "from-parent")
    assert [op["name"] for op in delivered_ops(mock)] == ["from-parent"]
