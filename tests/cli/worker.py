#!/usr/bin/env python3
"""`cio-native worker` end to end: a pipeline with redis_url (the relay's) fills the workspace's
Redis stream, the worker drains it into the emulator (`cio-native mock`), `--stats` and
`dead-letters list|retry|drop` read and move what the emulator refused.

    python3 tests/cli/worker.py --cio build/cli/cio-native [-k PATTERN]

Python standard library only. Registered with ctest as cli_worker. Each test starts its own
redis-server on a random loopback port (`--appendonly yes --appendfsync always --save ""`, a
temporary directory, stopped by its PID) and reads the stream with a raw RESP socket. Without
redis-server every test is skipped (one line). Ends with "N passed, N failed".
"""
import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402 - the CLI suite's emulator and process helpers
import relay as relay_suite  # noqa: E402 - the relay, our producer with redis_url
from run import Failure, Mock, check, clean_env, tmpdir  # noqa: E402

TESTS = []
SITE = "test-site"  # the emulator's Track site id (run.Mock's default)
STREAM = "{cio:%s}:q" % SITE
DEAD = "{cio:%s}:dead" % SITE


def test(fn):
    TESTS.append(fn)
    return fn


class Redis:
    """redis-server on a random loopback port, in its own directory; stopped by its PID."""

    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="cio-redis-")
        self.extra = extra
        self.proc = None

    def start(self):
        for _ in range(20):
            self.port = random.randint(20000, 49999)
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                 self.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
                 "--daemonize", "no", "--logfile", "redis.log", *self.extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(200):
                if self.proc.poll() is not None:
                    break  # the port was taken, say
                try:
                    self.command("PING")
                    self.url = f"redis://127.0.0.1:{self.port}"
                    return self
                except OSError:
                    time.sleep(0.02)
                except Failure:  # NOAUTH: an answer all the same
                    self.url = f"redis://127.0.0.1:{self.port}"
                    return self
            self.stop()
        raise Failure("redis-server did not start")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def command(self, *args, password=None):
        """One command over a fresh RESP connection; the reply (Failure for an error reply)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            f = s.makefile("rb")
            if password is not None:
                s.sendall(_resp(("AUTH", password)))
                _read(f)
            s.sendall(_resp(args))
            return _read(f)


def _resp(args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(b), b)
    return out


def _read(f):
    line = f.readline()
    if not line:
        raise OSError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise Failure("redis: " + rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read(f) for _ in range(n)]
    raise Failure(f"redis: unexpected reply {line!r}")


def stream_ops(redis, key=STREAM):
    """The operations in a stream, parsed: every field value that is a JSON object."""
    ops = []
    for _id, fields in redis.command("XRANGE", key, "-", "+") or []:
        for value in fields[1::2]:
            try:
                v = json.loads(value)
            except ValueError:
                continue
            if isinstance(v, dict):
                ops.append(v)
    return ops


def produce(d, m, redis, events):
    """Events through a relay whose pipeline has redis_url: each gets a 202 and lands in the
    stream, not at the emulator. Returns the event ids."""
    ids = []
    with relay_suite.Relay(d, m.url, "--pipeline", f"redis_url={redis.url}") as r:
        for name, attrs in events:
            st, a, _ = r.call("POST", "/events",
                              {"customer_id": "42", "event": name, "properties": attrs},
                              token=relay_suite.TEAM)
            check(st == 202, "relay accepted", st, a)
            ids.append(a["id"])
        r.drained()
    return ids


def wait_for(what, cond, timeout=30):
    end = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > end:
            raise Failure(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def worker(m, redis_url, *args):
    """`cio-native worker` on the emulator until the block ends (SIGTERM); its stderr is
    checked for the stop line."""
    p = subprocess.Popen(base.WRAPPER + [base.CIO, "worker", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=m.env(CIO_REDIS_URL=redis_url))
    try:
        yield p
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=base.TIMEOUT)
        p.stderr_text = err.decode(errors="replace")
        check(p.returncode != 99, "valgrind reported errors:", p.stderr_text)


def cli_worker(m, redis_url, *args):
    return base.cio("worker", *args, env=m.env(CIO_REDIS_URL=redis_url))


def batch_ops(m):
    return m.batch_operations()


# --------------------------------------------------------------------------------------- tests


@test
def test_worker_drains_what_a_redis_pipeline_queued():
    with tmpdir() as d, Redis() as redis, Mock() as m:
        ids = produce(d, m, redis, [(f"evt-{i}", {"n": i}) for i in range(5)])
        check(len(set(ids)) == 5, ids)
        # In Redis, not at the emulator.
        check(redis.command("XLEN", STREAM) == 5, redis.command("XLEN", STREAM))
        queued = stream_ops(redis)
        check(sorted(o["id"] for o in queued) == sorted(ids), queued)
        check(batch_ops(m) == [], "nothing reaches the emulator before a worker runs")
        rc, out, err = cli_worker(m, redis.url, "--stats")
        check(rc == 0, rc, err)
        stats = json.loads(out)
        check(stats["length"] == 5 and stats["pending"] == 0 and stats["dead_letters"] == 0,
              stats)
        with worker(m, redis.url, "--consumer", "w1") as p:
            got = wait_for("5 events at the emulator",
                           lambda: len(batch_ops(m)) >= 5 and batch_ops(m))
            wait_for("the stream emptied", lambda: redis.command("XLEN", STREAM) == 0)
        check(p.returncode == 0, p.returncode, p.stderr_text)
        check("draining the queue" in p.stderr_text and '"acked":5' in p.stderr_text,
              p.stderr_text)
        # Every event once, as the producer queued it.
        time.sleep(0.2)
        got = batch_ops(m)
        check(sorted(o["id"] for o in got) == sorted(ids), got)
        by_id = {o["id"]: o for o in got}
        for i, event_id in enumerate(ids):
            o = by_id[event_id]
            check(o["type"] == "person" and o["action"] == "event" and o["name"] == f"evt-{i}"
                  and o["attributes"] == {"n": i} and o["identifiers"] == {"id": "42"}, o)
        rc, out, err = cli_worker(m, redis.url, "--stats")
        check(rc == 0, rc, err)
        stats = json.loads(out)
        check(stats["length"] == 0 and stats["pending"] == 0 and stats["dead_letters"] == 0
              and stats["oldest_pending_age_ms"] == 0, stats)


@test
def test_dead_letters_list_retry_drop():
    with tmpdir() as d, Redis() as redis, Mock() as m:
        # The emulator refuses every request holding the marker: the batch is split until the
        # marked event is refused alone, and that one goes to the dead letters.
        status, _ = base.http("POST", m.url + "/_mock/faults", json.dumps(
            {"count": 1000, "status": 400, "match": "REFUSE-ME",
             "body": {"errors": [{"reason": "invalid", "message": "refused by the test"}]}}))
        check(status == 204, status)
        ids = produce(d, m, redis, [("good-1", {}), ("bad", {"marker": "REFUSE-ME"}),
                                    ("good-2", {})])
        with worker(m, redis.url, "--consumer", "w1"):
            wait_for("two events delivered",
                     lambda: sorted(o["name"] for o in batch_ops(m)) == ["good-1", "good-2"])
            wait_for("one dead letter", lambda: redis.command("XLEN", DEAD) == 1)
            wait_for("the stream emptied", lambda: redis.command("XLEN", STREAM) == 0)
        rc, out, err = cli_worker(m, redis.url, "--stats")
        check(rc == 0 and json.loads(out)["dead_letters"] == 1, rc, out, err)
        rc, out, err = cli_worker(m, redis.url, "dead-letters", "list")
        check(rc == 0, rc, err)
        dead = json.loads(out)
        check(len(dead) == 1, dead)
        letter = dead[0]
        op = json.loads(letter["operation"]) if isinstance(letter["operation"], str) \
            else letter["operation"]
        check(op["id"] == ids[1] and op["name"] == "bad", letter)
        check(letter["http_status"] == 400 and letter["id"], letter)
        check("refused by the test" in json.dumps(letter), letter)
        # retry --id: back into the queue (the emulator still refuses it: dead again).
        rc, out, err = cli_worker(m, redis.url, "dead-letters", "retry", "--id", letter["id"])
        check(rc == 0 and out.strip() == "requeued 1 dead letter", rc, out, err)
        check(redis.command("XLEN", DEAD) == 0 and redis.command("XLEN", STREAM) == 1,
              redis.command("XLEN", DEAD), redis.command("XLEN", STREAM))
        check([o["id"] for o in stream_ops(redis)] == [ids[1]], stream_ops(redis))
        # Now accepted: the worker delivers it.
        base.http("DELETE", m.url + "/_mock/faults")
        with worker(m, redis.url, "--consumer", "w2"):
            wait_for("the retried event delivered",
                     lambda: sorted(o["name"] for o in batch_ops(m)) == ["bad", "good-1",
                                                                         "good-2"])
            wait_for("the stream emptied", lambda: redis.command("XLEN", STREAM) == 0)
        check(sorted(o["id"] for o in batch_ops(m)) == sorted(ids), batch_ops(m))
        # drop: a dead letter made by hand from a refused event goes away.
        base.http("POST", m.url + "/_mock/faults", json.dumps(
            {"count": 1000, "status": 400, "match": "REFUSE-ME"}))
        produce(d, m, redis, [("bad-2", {"marker": "REFUSE-ME"})])
        with worker(m, redis.url, "--consumer", "w3"):
            wait_for("one dead letter", lambda: redis.command("XLEN", DEAD) == 1)
        rc, out, err = cli_worker(m, redis.url, "dead-letters", "drop")
        check(rc == 0 and out.strip() == "dropped 1 dead letter", rc, out, err)
        check(redis.command("XLEN", DEAD) == 0, redis.command("XLEN", DEAD))
        rc, out, err = cli_worker(m, redis.url, "dead-letters", "list")
        check(rc == 0 and json.loads(out) == [], rc, out, err)


@test
def test_worker_pipelines_serves_the_pipelines_api_queue():
    cdp_key = relay_suite.CDP_KEY
    stream = "{cio:cdp-%s}:q" % hashlib.sha256(cdp_key.encode()).hexdigest()[:16]
    with tmpdir() as d, Redis() as redis, Mock() as m:
        with relay_suite.Relay(d, m.url, "--pipeline", f"redis_url={redis.url}") as r:
            st, a, _ = r.call("POST", "/v1/batch", {"batch": [
                {"type": "track", "userId": f"u{i}", "event": "clicked"} for i in range(3)]},
                token=relay_suite.CDP)
            check(st == 200 and len(a["messageIds"]) == 3, st, a)
            ids = a["messageIds"]
            r.drained()
        check(redis.command("XLEN", stream) == 3, redis.command("XLEN", stream))
        check(sorted(o["messageId"] for o in stream_ops(redis, stream)) == sorted(ids))
        check(m.requests() == [], "nothing reaches the emulator before a worker runs")
        env = m.env(CIO_REDIS_URL=redis.url, CUSTOMERIO_CDP_API_KEY=cdp_key,
                    CUSTOMERIO_CDP_URL=m.url)
        rc, out, err = base.cio("worker", "--pipelines", "--stats", env=env)
        check(rc == 0 and json.loads(out)["length"] == 3, rc, out, err)
        # The Track queue is another stream: empty.
        rc, out, err = base.cio("worker", "--stats", env=env)
        check(rc == 0 and json.loads(out)["length"] == 0, rc, out, err)
        p = subprocess.Popen(base.WRAPPER + [base.CIO, "worker", "--pipelines"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            def got():
                msgs = []
                for rq in m.requests():
                    if rq["path"] == "/v1/batch" and rq["status"] == 200:
                        msgs.extend(json.loads(rq["body"])["batch"])
                return msgs if len(msgs) >= 3 else None
            msgs = wait_for("3 messages at /v1/batch", got)
            wait_for("the stream emptied", lambda: redis.command("XLEN", stream) == 0)
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=base.TIMEOUT)
        check(p.returncode == 0 and '"acked":3' in err.decode(), p.returncode, err)
        check(sorted(x["messageId"] for x in msgs) == sorted(ids), msgs)
        check(sorted(x["userId"] for x in msgs) == ["u0", "u1", "u2"], msgs)
        # Without the key: a usage error naming what is missing.
        rc, _, err = base.cio("worker", "--pipelines", "--stats", env=m.env(
            CIO_REDIS_URL=redis.url))
        check(rc == 2 and "--pipelines needs the Pipelines API key" in err, rc, err)


@test
def test_wrong_password_is_a_clear_error_without_the_password():
    with Redis("--requirepass", "right-secret") as redis, Mock() as m:
        url = f"redis://:wrong-secret-123@127.0.0.1:{redis.port}"
        for args in ((), ("--stats",), ("dead-letters", "list")):
            rc, out, err = cli_worker(m, url, *args)
            check(rc != 0 and out == "", args, rc, out, err)
            check("refused AUTH" in err and f"127.0.0.1:{redis.port}" in err, args, err)
            check("wrong-secret-123" not in err, "the password leaked:", err)
        # The right one works.
        rc, out, err = cli_worker(m, f"redis://:right-secret@127.0.0.1:{redis.port}", "--stats")
        check(rc == 0 and json.loads(out)["length"] == 0, rc, out, err)


@test
def test_worker_usage_errors():
    rc, _, err = base.cio("worker", env=clean_env(CUSTOMERIO_SITE_ID=SITE,
                                                  CUSTOMERIO_API_KEY="test-key"))
    check(rc == 2 and "no Redis: give --redis URL or set CIO_REDIS_URL" in err, rc, err)
    rc, _, err = base.cio("worker", "dead-letters", "--redis", "redis://127.0.0.1:1",
                          env=clean_env(CUSTOMERIO_SITE_ID=SITE, CUSTOMERIO_API_KEY="k"))
    check(rc == 2 and "dead-letters needs list, retry or drop" in err, rc, err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cio", required=True)
    ap.add_argument("-k", dest="pattern")
    args = ap.parse_args()
    base.CIO = os.path.abspath(args.cio)
    if shutil.which("redis-server") is None:
        print("cio-native worker tests skipped: redis-server is not installed (scripts/deps.sh)")
        print("0 passed, 0 failed")
        return 0
    passed = failed = 0
    for fn in TESTS:
        if args.pattern and args.pattern not in fn.__name__:
            continue
        start = time.time()
        try:
            fn()
            passed += 1
            print(f"ok   {fn.__name__} ({time.time() - start:.1f}s)", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {fn.__name__}", flush=True)
            traceback.print_exc()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
