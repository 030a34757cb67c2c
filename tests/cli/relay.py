#!/usr/bin/env python3
"""`cio-native relay` end to end: apps -> relay -> pipeline -> the emulator (`cio-native mock`).

    python3 tests/cli/relay.py --cio build/cli/cio-native [--venv build/venv] [-k PATTERN]

Python standard library only (--venv: a virtualenv holding customerio-cdp-analytics, for the
official client's test; skipped without it). Registered with ctest as cli_relay. Every test
asserts what the emulator received (paths, bodies, credentials) from its request log, and every
refusal by its status, code and that nothing was queued. Ends with "N passed, N failed".
"""
import argparse
import base64
import gzip
import http.client
import json
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as base  # noqa: E402 - the CLI suite's emulator and process helpers
from run import Failure, Mock, check, clean_env, closed_within, tmpdir, wait_file  # noqa: E402
from run import http as http_call  # noqa: E402

VENV = None
TESTS = []

TEAM = "team-token-0123456789abcdef"
CDP = "pipelines-token-0123456789ab"
SLOW = "slow-token-0123456789abcdef"
CDP_KEY = "test-cdp-key"  # the emulator's Pipelines key


def test(fn):
    TESTS.append(fn)
    return fn


def hash_line(token, *args):
    rc, out, err = base.cio("relay", "hash-token", *args, input=token.encode() + b"\n")
    check(rc == 0, "hash-token", rc, err)
    return out.strip()


class Relay:
    """`cio-native relay` on a free port in front of an emulator."""

    def __init__(self, d, mock_url, *args, tokens=None, track_url=None, cdp_url=None, tls=None):
        self.dir = d
        self.tls = tls  # (cert, key) paths: serve HTTPS
        if tls is not None:
            args = args + ("--tls-cert", tls[0], "--tls-key", tls[1])
        self.args = args
        self.mock_url = mock_url
        self.track_url = track_url or mock_url
        self.cdp_url = cdp_url or mock_url
        self.tokens = os.path.join(d, "tokens")
        if tokens is not None or not os.path.exists(self.tokens):
            lines = tokens if tokens is not None else [
                hash_line(TEAM, "--name", "team", "--shapes", "team"),
                hash_line(CDP, "--name", "pipes", "--shapes", "pipelines"),
                hash_line(SLOW, "--name", "slow", "--rate", "2")]
            with open(self.tokens, "w") as f:
                f.write("# tokens of the test\n" + "\n".join(lines) + "\n")

    def start(self):
        portfile = os.path.join(self.dir, "relay-port")
        if os.path.exists(portfile):
            os.remove(portfile)
        env = clean_env(CUSTOMERIO_SITE_ID="test-site", CUSTOMERIO_API_KEY="test-key",
                        CUSTOMERIO_TRACK_URL=self.track_url, CUSTOMERIO_CDP_API_KEY=CDP_KEY,
                        CUSTOMERIO_CDP_URL=self.cdp_url)
        self.proc = subprocess.Popen(
            base.WRAPPER + [base.CIO, "relay", "--listen", "127.0.0.1:0", "--port-file", portfile,
                            "--tokens", self.tokens, "--pipeline", "linger_ms=20", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            # a file size limit (set later with resource.prlimit) fails the write, not the relay
            preexec_fn=lambda: signal.signal(signal.SIGXFSZ, signal.SIG_IGN))
        self.port = wait_file(portfile, self.proc, "cio-native relay")
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=base.TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.stderr = err.decode(errors="replace")
        return self.proc.returncode

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        rc = self.stop()
        check(rc != 99, "valgrind reported errors:", self.stderr)

    def call(self, method, path, body=None, token=None, basic=None, headers=None, conn=None):
        """(status, parsed JSON answer or text, headers)"""
        h = {"Content-Type": "application/json"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if basic is not None:
            h["Authorization"] = "Basic " + base64.b64encode(basic.encode()).decode()
        h.update(headers or {})
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        if isinstance(data, str):
            data = data.encode()
        own = conn is None
        c = conn or self.connection()
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read().decode()
            try:
                answer = json.loads(text)
            except ValueError:
                answer = text
            return r.status, answer, dict(r.getheaders())
        finally:
            if own:
                c.close()

    def connection(self):
        if self.tls is None:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        ctx = ssl.create_default_context(cafile=self.tls[0])
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)

    def stats(self):
        status, answer, _ = self.call("GET", "/stats")
        check(status == 200, "stats", status, answer)
        return answer

    def drained(self, timeout=30):
        """Waits until every accepted operation is delivered or failed; returns the stats."""
        end = time.time() + timeout
        while True:
            s = self.stats()
            if s["delivered"] + s["failed"] >= s["accepted"] and s["queue_depth"] == 0:
                return s
            if time.time() > end:
                raise Failure(f"the relay did not drain: {s}")
            time.sleep(0.05)


def delivered(mock, path):
    """The items of the batches the emulator answered 200 on path."""
    items = []
    for r in mock.requests():
        if r["path"] == path and r["status"] == 200:
            items.extend(json.loads(r["body"])["batch"])
    return items


def auth_of(mock, path):
    return {r["headers"].get("authorization") for r in mock.requests() if r["path"] == path}


def basic(user, password=""):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ------------------------------------------------------------------------------- end to end


@test
def test_team_shape_end_to_end():
    with tmpdir() as d, Mock() as m, Relay(d, m.url) as r:
        st, a, _ = r.call("POST", "/customers/42", {"name": "Ann", "email": "ann@example.com",
                                                    "properties": {"plan": "pro", "n": 1}},
                          token=TEAM)
        check(st == 202 and a == {"id": None, "seq": 1}, st, a)
        body = ('{"customer_id":"42","event":"purchased","properties":{"price":9.90,'
                '"big":12345678901234567890},"timestamp":1700000000}')
        st, a, _ = r.call("POST", "/events", body, token=TEAM)
        check(st == 202 and len(a["id"]) == 26 and a["seq"] == 2, st, a)
        event_id = a["id"]
        st, a2, _ = r.call("POST", "/customer/7/events", {"event": "login", "id": "evt-7"},
                           token=TEAM)
        check(st == 202 and a2["id"] == "evt-7", st, a2)
        st, a3, _ = r.call("POST", "/customers", {"customer_id": 8}, token=TEAM)
        check(st == 202, st, a3)
        r.drained()
        ops = delivered(m, "/api/v2/batch")
        raw = [rq["body"] for rq in m.requests() if rq["path"] == "/api/v2/batch"]
        check(ops == [
            {"type": "person", "action": "identify", "identifiers": {"id": "42"},
             "attributes": {"name": "Ann", "email": "ann@example.com", "plan": "pro", "n": 1}},
            {"id": event_id, "type": "person", "action": "event", "identifiers": {"id": "42"},
             "name": "purchased", "attributes": {"price": 9.90, "big": 12345678901234567890},
             "timestamp": 1700000000},
            {"id": "evt-7", "type": "person", "action": "event", "identifiers": {"id": "7"},
             "name": "login"},
            {"type": "person", "action": "identify", "identifiers": {"id": 8},
             "attributes": {}}], ops)
        # numbers reach Customer.io with their spelling
        check(any('"price":9.90,"big":12345678901234567890' in b for b in raw), raw)
        check(auth_of(m, "/api/v2/batch") == {basic("test-site", "test-key")},
              auth_of(m, "/api/v2/batch"))


@test
def test_pipelines_shape_end_to_end():
    with tmpdir() as d, Mock() as m, Relay(d, m.url) as r:
        sent = {}
        calls = [("identify", {"userId": "u1", "traits": {"plan": "pro"}}),
                 ("track", {"userId": "u1", "event": "Signed Up", "properties": {"p": 1.50}}),
                 ("page", {"anonymousId": "a1", "name": "Home"}),
                 ("screen", {"userId": "u1", "name": "Main"}),
                 ("group", {"userId": "u1", "groupId": "g1", "traits": {"n": 2}}),
                 ("alias", {"previousId": "a1", "userId": "u1"})]
        for i, (kind, msg) in enumerate(calls):
            # analytics clients send Basic with the write key as user; Bearer works too
            auth = {"basic": CDP + ":"} if i % 2 == 0 else {"token": CDP}
            st, a, _ = r.call("POST", "/v1/" + kind, msg, **auth)
            check(st == 200 and a["success"] is True and len(a["messageId"]) == 26, kind, st, a)
            sent[a["messageId"]] = dict(msg, type=kind)
        batch = {"batch": [{"type": "track", "userId": "u2", "event": "E", "messageId": "m-1"},
                           {"type": "identify", "userId": "u2"}], "sentAt": "2026-01-01T00:00:00Z"}
        st, a, _ = r.call("POST", "/v1/batch", batch, basic=CDP + ":")
        check(st == 200 and a["messageIds"][0] == "m-1" and len(a["messageIds"]) == 2, st, a)
        for mid, msg in zip(a["messageIds"], batch["batch"]):
            sent[mid] = msg
        r.drained()
        got = {x["messageId"]: x for x in delivered(m, "/v1/batch")}
        check(set(got) == set(sent), sorted(got), sorted(sent))
        for mid, msg in sent.items():
            for k, v in msg.items():
                check(got[mid][k] == v, mid, k, got[mid])
            check(got[mid]["context"]["library"]["name"] == "customerio-native", got[mid])
        check(auth_of(m, "/v1/batch") == {basic(CDP_KEY)}, auth_of(m, "/v1/batch"))
        check(r.stats()["accepted"] == 8)


@test
def test_gzip_bodies_are_inflated():
    with tmpdir() as d, Mock() as m, Relay(d, m.url) as r:
        body = gzip.compress(json.dumps({"batch": [
            {"type": "track", "userId": "z", "event": "zipped", "properties": {"n": 1.50}}]}
        ).encode())
        st, a, _ = r.call("POST", "/v1/batch", body, token=CDP,
                          headers={"Content-Encoding": "gzip"})
        check(st == 200 and len(a["messageIds"]) == 1, st, a)
        r.drained()
        got = delivered(m, "/v1/batch")
        check(len(got) == 1 and got[0]["event"] == "zipped" and got[0]["properties"] ==
              {"n": 1.5}, got)


@test
def test_browser_sdk_requests_with_the_token_in_the_body_and_cors():
    # analytics-next (the browser SDKs): POST /v1/t, /v1/b ... as text/plain (no preflight), the
    # write key as "writeKey" in the body; the answer must allow the page's origin
    with tmpdir() as d, Mock() as m, \
            Relay(d, m.url, "--allow-origin", "https://shop.example") as r:
        page = {"Content-Type": "text/plain", "Origin": "https://shop.example"}
        msg = {"type": "track", "event": "Viewed", "anonymousId": "anon-1", "writeKey": CDP,
               "_metadata": {"bundled": []}, "sentAt": "2026-01-01T00:00:00.000Z"}
        st, a, h = r.call("POST", "/v1/t", json.dumps(msg), headers=page)
        check(st == 200 and a["success"], st, a)
        check(h.get("Access-Control-Allow-Origin") == "https://shop.example", h)
        batch = {"writeKey": CDP, "sentAt": "2026-01-01T00:00:00.000Z",
                 "batch": [{"type": "page", "anonymousId": "anon-1", "name": "Home"},
                           {"type": "identify", "userId": "u-9", "traits": {"a": 1}}]}
        st, a, h = r.call("POST", "/v1/b", json.dumps(batch), headers=page)
        check(st == 200 and len(a["messageIds"]) == 2, st, a)
        # a wrong writeKey is refused like a wrong token, still readable by the page
        st, a, h = r.call("POST", "/v1/i", json.dumps(dict(msg, writeKey="nope")), headers=page)
        check(st == 401 and h.get("Access-Control-Allow-Origin") == "https://shop.example", st, h)
        # preflight (a page sending JSON with Authorization)
        st, a, h = r.call("OPTIONS", "/v1/track", None, headers={
            "Origin": "https://shop.example", "Access-Control-Request-Method": "POST"})
        check(st == 204 and h.get("Access-Control-Allow-Methods") == "POST" and
              "Authorization" in h.get("Access-Control-Allow-Headers", ""), st, h)
        # another origin gets no permission
        st, a, h = r.call("POST", "/v1/t", json.dumps(msg),
                          headers=dict(page, Origin="https://evil.example"))
        check(st == 200 and "Access-Control-Allow-Origin" not in h, st, h)
        st, a, h = r.call("OPTIONS", "/v1/t", None, headers={"Origin": "https://evil.example"})
        check(st == 405, st)
        r.drained()
        got = delivered(m, "/v1/batch")
        check(sorted(x["type"] for x in got) == ["identify", "page", "track", "track"], got)
        check(all("writeKey" not in x for x in got), "the token was passed on", got)
        raw = "".join(q["body"] for q in m.requests() if q["path"] == "/v1/batch")
        check(CDP not in raw, "the token reached the emulator")


@test
def test_healthz_and_stats():
    with tmpdir() as d, Mock() as m, Relay(d, m.url) as r:
        st, a, _ = r.call("GET", "/healthz")
        check(st == 200 and a == {"ok": True}, st, a)
        r.call("POST", "/events", {"customer_id": "1", "event": "e"}, token=TEAM)
        r.call("POST", "/events", {"customer_id": "1", "event": "e"}, token="wrong-token")
        s = r.drained()
        check(s["requests"] == 1 and s["accepted"] == 1 and s["delivered"] == 1, s)
        check(s["refused"]["unauthorized"] == 1 and s["failed"] == 0, s)
        check(s["pipelines"]["track"]["delivered"] == 1 and "queue_depth" in s, s)


# ----------------------------------------------------------------------------------- refusals


@test
def test_refusals_name_the_field_and_queue_nothing():
    with tmpdir() as d, Mock() as m, Relay(d, m.url, "--max-body", "4096") as r:
        ev = {"customer_id": "1", "event": "e"}
        cases = [
            # (method, path, body, auth, status, code, words in the message)
            ("POST", "/events", ev, {}, 401, "unauthorized", "token"),
            ("POST", "/events", ev, {"token": "not-a-known-token"}, 401, "unauthorized", ""),
            ("POST", "/events", ev, {"basic": "nobody:"}, 401, "unauthorized", ""),
            ("POST", "/v1/track", {"userId": "1", "event": "e"}, {"token": TEAM}, 403,
             "forbidden", "team"),
            ("POST", "/events", ev, {"token": CDP}, 403, "forbidden", "pipes"),
            ("POST", "/events", {"event": "e"}, {"token": TEAM}, 400, "invalid", "customer_id"),
            ("POST", "/events", {"customer_id": [1], "event": "e"}, {"token": TEAM}, 400,
             "invalid", "customer_id"),
            ("POST", "/events", {"customer_id": "1"}, {"token": TEAM}, 400, "invalid", "event"),
            ("POST", "/events", {"customer_id": "1", "event": ""}, {"token": TEAM}, 400,
             "invalid", "name"),
            ("POST", "/events", dict(ev, properties=[1]), {"token": TEAM}, 400, "invalid",
             "properties"),
            ("POST", "/events", dict(ev, timestamp="now"), {"token": TEAM}, 400, "invalid",
             "timestamp"),
            ("POST", "/events", dict(ev, colour=1), {"token": TEAM}, 400, "invalid", "colour"),
            ("POST", "/customers/9", {"name": 5}, {"token": TEAM}, 400, "invalid", "name"),
            ("POST", "/customers/9", {"customer_id": "8"}, {"token": TEAM}, 400, "invalid",
             "customer_id"),
            ("POST", "/events", "{not json", {"token": TEAM}, 400, "invalid", "body"),
            ("POST", "/events", "[1]", {"token": TEAM}, 400, "invalid", "body"),
            ("POST", "/v1/track", {"event": "e"}, {"token": CDP}, 400, "invalid", "userId"),
            ("POST", "/v1/track", {"userId": "1"}, {"token": CDP}, 400, "invalid", "event"),
            ("POST", "/v1/track", {"type": "page", "userId": "1"}, {"token": CDP}, 400,
             "invalid", "type"),
            ("POST", "/v1/batch", {"batch": [{"type": "track", "userId": "1", "event": "e"},
                                             {"type": "track", "userId": "1"}]},
             {"token": CDP}, 400, "invalid", "batch[1]"),
            ("POST", "/v1/batch", {"batch": {}}, {"token": CDP}, 400, "invalid", "batch"),
            ("POST", "/events", dict(ev, properties={"x": "y" * 5000}), {"token": TEAM}, 413,
             "too_large", "4 KiB"),
            ("POST", "/nowhere", ev, {"token": TEAM}, 404, "not_found", "/nowhere"),
            ("POST", "/v1/nothing", ev, {"token": CDP}, 404, "not_found", ""),
            ("GET", "/events", None, {"token": TEAM}, 405, "method_not_allowed", "POST"),
            ("POST", "/healthz", None, {}, 405, "method_not_allowed", "GET"),
        ]
        for method, path, body, auth, status, code, words in cases:
            st, a, h = r.call(method, path, body, **auth)
            check(st == status and isinstance(a, dict) and a.get("code") == code,
                  path, body, "->", st, a)
            check(words in a["message"], path, body, "message lacks", words, a)
            # the same text as "error" (analytics-ruby passes body["error"] to on_error)
            check(a.get("error") == a["message"], path, a)
            if status == 405:
                check(h.get("Allow") == ("GET" if path == "/healthz" else "POST"), h)
            if status == 401:
                check(h.get("WWW-Authenticate") == "Bearer", h)
        st, a, _ = r.call("POST", "/events", ev, token=TEAM, headers={"Content-Encoding": "br"})
        check(st == 415 and a["code"] == "unsupported_encoding", st, a)
        st, a, _ = r.call("POST", "/events", ev, token=TEAM, headers={"Content-Encoding": "gzip"})
        check(st == 400 and "not gzip" in a["message"], st, a)
        bomb = gzip.compress(json.dumps(dict(ev, properties={"x": " " * 100000})).encode())
        check(len(bomb) < 4096)
        st, a, _ = r.call("POST", "/events", bomb, token=TEAM, headers={"Content-Encoding": "gzip"})
        check(st == 413 and "inflates" in a["message"], st, a)
        s = r.stats()
        check(s["accepted"] == 0 and s["requests"] == 0, s)
        refused = s["refused"]
        check(refused["unauthorized"] == 3 and refused["forbidden"] == 2 and
              refused["invalid"] == 17 and refused["too_large"] == 2 and
              refused["not_found"] == 2 and refused["method_not_allowed"] == 2 and
              refused["unsupported_encoding"] == 1, refused)
        time.sleep(0.2)
        check([q for q in m.requests() if q["path"] in ("/api/v2/batch", "/v1/batch")] == [],
              "something was sent")


@test
def test_body_over_the_limit_announced_or_chunked_is_413():
    with tmpdir() as d, Mock() as m, Relay(d, m.url, "--max-body", "2048") as r:
        c = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
        c.putrequest("POST", "/v1/track")
        c.putheader("Authorization", "Bearer " + CDP)
        c.putheader("Content-Length", str(10 ** 9))
        c.endheaders()
        resp = c.getresponse()
        check(resp.status == 413 and json.loads(resp.read())["code"] == "too_large")
        c.close()
        # chunked, past the limit: the connection is closed, nothing queued
        s = socket.create_connection(("127.0.0.1", r.port))
        s.sendall(b"POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + CDP.encode() +
                  b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(10):
                s.sendall(b"400\r\n" + b" " * 1024 + b"\r\n")
            s.settimeout(5)
            data = s.recv(4096)
        except OSError:
            data = b""
        s.close()
        check(data == b"" or b" 413 " in data.split(b"\r\n")[0], data[:100])
        check(r.stats()["accepted"] == 0)


@test
def test_token_over_its_rate_gets_429_with_retry_after():
    with tmpdir() as d, Mock() as m, Relay(d, m.url) as r:
        answers = [r.call("POST", "/events", {"customer_id": "1", "event": "e"}, token=SLOW)
                   for _ in range(6)]
        statuses = [a[0] for a in answers]
        check(statuses[:2] == [202, 202] and 429 in statuses, statuses)
        limited = [a for a in answers if a[0] == 429][0]
        check(limited[1]["code"] == "rate_limited" and int(limited[2]["Retry-After"]) >= 1,
              limited)
        check(limited[2]["X-RateLimit-Reset"] == limited[2]["Retry-After"], limited)
        time.sleep(1.1)
        check(r.call("POST", "/events", {"customer_id": "1", "event": "e"}, token=SLOW)[0] == 202)
        s = r.drained()
        ok = statuses.count(202) + 1
        check(s["accepted"] == ok and s["refused"]["rate_limited"] == 6 - statuses.count(202), s)
        check(len(delivered(m, "/api/v2/batch")) == ok)


@test
def test_full_queue_gets_503_with_retry_after_and_a_batch_is_all_or_nothing():
    # the emulator answers 503 to everything, so what is accepted stays queued (retrying)
    with tmpdir() as d, Mock("--fail-rate", "1") as m, \
            Relay(d, m.url, "--max-queue-bytes", "2048") as r:
        statuses = []
        for i in range(40):
            st, a, h = r.call("POST", "/v1/track", {"userId": str(i), "event": "e"}, token=CDP)
            statuses.append(st)
            if st == 503:
                check(a["code"] == "queue_full" and h.get("Retry-After") == "1", a, h)
                break
        check(statuses[0] == 200 and statuses[-1] == 503, statuses)
        accepted = statuses.count(200)
        # a batch that would not fit whole is refused whole
        big = {"batch": [{"type": "track", "userId": "b", "event": "e"}] * 3}
        st, a, h = r.call("POST", "/v1/batch", big, token=CDP)
        check(st == 503 and "nothing queued" in a["message"] and h["Retry-After"] == "1", st, a)
        s = r.stats()
        check(s["accepted"] == accepted and s["pipelines"]["pipelines"]["enqueued"] == accepted, s)
        check(s["refused"]["queue_full"] == 2, s)
        # the emulator recovers: what was accepted is delivered, once
        st, _ = http_call("POST", m.url + "/_mock/config", json.dumps({"fail_rate": 0}))
        check(st in (200, 204), st)
        r.drained(timeout=60)
        ids = [x["userId"] for x in delivered(m, "/v1/batch")]
        check(sorted(ids, key=int) == [str(i) for i in range(accepted)], ids)


@test
def test_batch_through_a_spool_that_cannot_grow_is_refused_whole_and_never_delivered():
    # the emulator fails everything at first, so what is accepted stays owed in the spool file
    with tmpdir() as d, Mock("--fail-rate", "1") as m:
        spool = os.path.join(d, "spool")
        path = os.path.join(spool, "pipelines.spool")
        r = Relay(d, m.url, "--spool", spool).start()
        try:
            sizes = []
            for i in range(2):
                st, a, _ = r.call("POST", "/v1/track", {"userId": f"s{i}", "event": "e"},
                                  token=CDP)
                check(st == 200, st, a)
                sizes.append(os.path.getsize(path))
            one = sizes[1] - sizes[0]  # what one message takes in the file
            # room for two and a half more: a batch of five would have been cut after two
            limit = sizes[1] + 2 * one + one // 2
            resource.prlimit(r.proc.pid, resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            five = {"batch": [{"type": "track", "userId": f"f{i}", "event": "e"}
                              for i in range(5)]}
            st, a, h = r.call("POST", "/v1/batch", five, token=CDP)
            check(st == 503 and a["code"] == "queue_full" and h.get("Retry-After") == "1", st, a)
            check("File too large" in a["message"] and "none of the 5" in a["message"] and
                  "nothing queued" in a["message"], a)
            check(os.path.getsize(path) == sizes[1], "the refused batch changed the spool file")
            s = r.stats()
            check(s["accepted"] == 2 and s["pipelines"]["pipelines"]["enqueued"] == 2, s)
            check(s["refused"]["queue_full"] == 1, s)
            # two do fit: there was room for part of the five
            two = {"batch": [{"type": "track", "userId": f"t{i}", "event": "e"}
                             for i in range(2)]}
            st, a, _ = r.call("POST", "/v1/batch", two, token=CDP)
            check(st == 200 and len(a["messageIds"]) == 2, st, a)
        finally:
            r.kill9()
        # restarted without the limit, the emulator well again: what was answered 200 arrives
        http_call("POST", m.url + "/_mock/config", json.dumps({"fail_rate": 0}))
        r2 = Relay(d, m.url, "--spool", spool).start()
        try:
            end = time.time() + 30
            while len(delivered(m, "/v1/batch")) < 4 and time.time() < end:
                time.sleep(0.05)
            check(r2.stop() == 0, r2.stderr)
        finally:
            if r2.proc.poll() is None:
                r2.kill9()
        ids = sorted({x["userId"] for x in delivered(m, "/v1/batch")})
        check(ids == ["s0", "s1", "t0", "t1"], ids)


# --------------------------------------------------------------------------- durability, load


def send_events(r, n, threads, prefix, stop_at=None):
    """n team events from several keep-alive connections; returns {id: customer} of those
    answered 202 (a connection error after a kill ends that thread)."""
    answered, lock = {}, threading.Lock()

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=30)
        try:
            for i in range(k, n, threads):
                cust = f"{prefix}-{i}"
                try:
                    st, a, _ = r.call("POST", "/events", {"customer_id": cust, "event": "e"},
                                      token=TEAM, conn=conn)
                except (OSError, http.client.HTTPException):
                    return
                if st == 202:
                    with lock:
                        answered[a["id"]] = cust
                elif st != 503:
                    raise Failure(f"unexpected {st} {a}")
                if stop_at is not None and stop_at.is_set():
                    return
        finally:
            conn.close()

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    return ts, answered


def wait_answers(answered, n, timeout=30):
    end = time.time() + timeout
    while len(answered) < n and time.time() < end:
        time.sleep(0.01)


@test
def test_kill_9_with_a_spool_delivers_everything_answered_exactly_once():
    with tmpdir() as d, Mock("--fail-rate", "1") as m:
        spool = os.path.join(d, "spool")
        r = Relay(d, m.url, "--spool", spool).start()
        ts, answered = send_events(r, 10 ** 6, 4, "k")
        wait_answers(answered, 500)  # mid-stream: the threads end on the refused connections
        r.kill9()
        for t in ts:
            t.join()
        check(len(answered) > 100, "nothing was answered before the kill")
        print(f"     {len(answered)} answered 202 before the kill")
        check(os.path.getsize(os.path.join(spool, "track.spool")) > 0, "empty spool")
        check(delivered(m, "/api/v2/batch") == [], "delivered while the emulator failed")
        http_call("POST", m.url + "/_mock/config", json.dumps({"fail_rate": 0}))
        r2 = Relay(d, m.url, "--spool", spool).start()
        try:
            end = time.time() + 60
            while True:
                got = [op["id"] for op in delivered(m, "/api/v2/batch")]
                if len(got) >= len(answered) or time.time() > end:
                    break
                time.sleep(0.1)
            check(r2.stop() == 0, r2.stderr)
        finally:
            if r2.proc.poll() is None:
                r2.kill9()
        got = [op["id"] for op in delivered(m, "/api/v2/batch")]
        missing = set(answered) - set(got)
        check(not missing, len(missing), "answered 202 but never delivered")
        dups = len(got) - len(set(got))
        check(dups == 0, dups, "delivered twice")


@test
def test_kill_9_during_delivery_loses_nothing_answered():
    # a kill between the emulator's answer and the spool's settle record sends that batch
    # again: at least once here, once at Customer.io, which de-duplicates by the event id
    with tmpdir() as d, Mock() as m:
        spool = os.path.join(d, "spool")
        r = Relay(d, m.url, "--spool", spool).start()
        ts, answered = send_events(r, 10 ** 6, 4, "d")
        wait_answers(answered, 500)
        r.kill9()
        for t in ts:
            t.join()
        r2 = Relay(d, m.url, "--spool", spool).start()
        r2.drained(timeout=60)
        check(r2.stop() == 0, r2.stderr)
        got = {op["id"] for op in delivered(m, "/api/v2/batch")}
        missing = set(answered) - got
        check(len(answered) > 100 and not missing, len(answered), len(missing))
        print(f"     {len(answered)} answered 202 before the kill, {len(got)} delivered")


@test
def test_load_20000_requests_from_8_threads_nothing_answered_is_lost():
    n, threads = 20000, 8
    with tmpdir() as d, Mock("--max-requests", "1000000") as m, \
            Relay(d, m.url, "--threads", "2") as r:
        t0 = time.time()
        ts, answered = send_events(r, n, threads, "l")
        for t in ts:
            t.join(timeout=120)
        took = time.time() - t0
        check(all(not t.is_alive() for t in ts), "the load did not finish in 120 s")
        check(len(answered) == n, len(answered), "of", n, "answered 202")
        s = r.drained(timeout=120)
        got = [op["id"] for op in delivered(m, "/api/v2/batch")]
        check(len(got) == n and set(got) == set(answered), len(got), len(set(got)))
        check(s["accepted"] == n and s["delivered"] == n and s["failed"] == 0, s)
        print(f"     {n} requests in {took:.1f}s ({n / took:.0f}/s)")


@test
def test_trickling_clients_do_not_block_real_requests():
    with tmpdir() as d, Mock() as m, Relay(d, m.url, "--request-timeout", "2") as r:
        slow, stop = [], threading.Event()
        for _ in range(100):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.2", 0))
            s.connect(("127.0.0.1", r.port))
            s.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            slow.append(s)

        def trickle():
            while not stop.wait(0.3):
                for s in slow:
                    try:
                        s.send(b"a")
                    except OSError:
                        pass

        threading.Thread(target=trickle, daemon=True).start()
        try:
            for i in range(20):
                t = time.time()
                st, a, _ = r.call("POST", "/events", {"customer_id": str(i), "event": "e"},
                                  token=TEAM)
                check(st == 202 and time.time() - t < 3, "real request", st, time.time() - t)
            check(closed_within(slow[0], 5), "a trickling request outlived --request-timeout")
        finally:
            stop.set()
            for s in slow:
                s.close()
        r.drained()
        check(len(delivered(m, "/api/v2/batch")) == 20)


@test
def test_connections_from_one_address_are_limited():
    with tmpdir() as d, Mock() as m, Relay(d, m.url, "--max-per-address", "3") as r:
        def held(source):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((source, 0))
            s.connect(("127.0.0.1", r.port))
            s.sendall(b"POST /events HTTP/1.1\r\nHost: x\r\n")
            return s
        hold = [held("127.0.0.2") for _ in range(3)]
        extra = held("127.0.0.2")
        try:
            check(closed_within(extra, 1), "a 4th connection from one address was kept")
            # another address is served meanwhile
            st, a, _ = r.call("POST", "/events", {"customer_id": "1", "event": "e"}, token=TEAM)
            check(st == 202, st, a)
        finally:
            for s in hold + [extra]:
                s.close()


@test
def test_tokens_send_with_their_workspace():
    with tmpdir() as d, Mock() as m, Mock(site="eu-site", key="eu-key") as m2:
        ws = os.path.join(d, "eu.json")
        with open(ws, "w") as f:
            json.dump({"site_id": "eu-site", "api_key": "eu-key", "track_url": m2.url,
                       "cdp_api_key": "test-cdp-key", "cdp_url": m2.url, "timeout_ms": 5000}, f)
        eu = "eu-token-0123456789abcdef"
        lines = [hash_line(TEAM, "--name", "team"),
                 hash_line(eu, "--name", "eu-app", "--workspace", "eu")]
        check(lines[1].endswith(" name=eu-app workspace=eu"), lines[1])
        with Relay(d, m.url, "--workspace", "eu=" + ws, "--spool", os.path.join(d, "sp"),
                   tokens=lines) as r:
            check(r.call("POST", "/events", {"customer_id": "us-1", "event": "e"},
                         token=TEAM)[0] == 202)
            check(r.call("POST", "/events", {"customer_id": "eu-1", "event": "e"},
                         token=eu)[0] == 202)
            check(r.call("POST", "/v1/track", {"userId": "eu-2", "event": "e"},
                         token=eu)[0] == 200)
            s = r.drained()
            check(set(s["pipelines"]) == {"track", "pipelines", "eu/track", "eu/pipelines"}, s)
            check(os.path.exists(os.path.join(d, "sp", "eu.track.spool")), os.listdir(d))
        check([o["identifiers"]["id"] for o in delivered(m, "/api/v2/batch")] == ["us-1"])
        check([o["identifiers"]["id"] for o in delivered(m2, "/api/v2/batch")] == ["eu-1"])
        check([o["userId"] for o in delivered(m2, "/v1/batch")] == ["eu-2"])
        check(auth_of(m2, "/api/v2/batch") == {basic("eu-site", "eu-key")})
        # a token naming a workspace no --workspace gives stops the relay at start
        with open(os.path.join(d, "tokens"), "w") as f:
            f.write(hash_line(eu, "--workspace", "apac") + "\n")
        rc, _, err = base.cio("relay", "--tokens", os.path.join(d, "tokens"), "--site-id", "s",
                              "--api-key", "k")
        check(rc == 2 and "workspace apac" in err, rc, err)
        with open(ws, "w") as f:
            f.write('{"site_id": "s", "colour": "red"}')
        rc, _, err = base.cio("relay", "--tokens", os.path.join(d, "tokens"), "--workspace",
                              "apac=" + ws)
        check(rc == 2 and "colour" in err, rc, err)


# ------------------------------------------------------------------------- tokens, commands


@test
def test_hash_token_and_the_tokens_file():
    line = hash_line(TEAM, "--name", "app", "--shapes", "team,stats", "--rate", "2.5")
    import hashlib
    check(line == "sha256:" + hashlib.sha256(TEAM.encode()).hexdigest() +
          " name=app shapes=team,stats rate=2.5", line)
    for bad in (["--shapes", "everything"], ["--rate", "0"], ["--name", "a b"]):
        rc, _, err = base.cio("relay", "hash-token", *bad, input=TEAM.encode())
        check(rc == 2 and err, bad, rc, err)
    rc, _, err = base.cio("relay", "hash-token", input=b"short\n")
    check(rc == 2 and "16 characters" in err, rc, err)
    with tmpdir() as d:
        for text, words in (("plain-token-in-the-file\n", "not a hashed token"),
                            ("sha256:" + "0" * 64 + " colour=red\n", "unknown field"),
                            ("# only a comment\n", "no token"),
                            (line + "\n" + line + "\n", "the same token")):
            path = os.path.join(d, "tokens")
            with open(path, "w") as f:
                f.write(text)
            rc, _, err = base.cio("relay", "--tokens", path, "--site-id", "s", "--api-key", "k")
            check(rc == 2 and words in err, text, rc, err)
        rc, _, err = base.cio("relay", "--site-id", "s", "--api-key", "k")
        check(rc == 2 and "--tokens" in err, rc, err)
        rc, _, err = base.cio("relay", "--tokens", path, "--pipeline", "sink=track_v2")
        check(rc == 2 and "set by the relay" in err, rc, err)
        rc, _, err = base.cio("relay", "--tokens", path, "--pipeline", "linger_ms=banana")
        check(rc == 2 and "linger_ms" in err, rc, err)


@test
def test_sighup_reloads_the_tokens_file_and_a_bad_one_keeps_the_old():
    new_token = "new-token-0123456789abcdefgh"
    with tmpdir() as d, Mock() as m:
        r = Relay(d, m.url).start()
        try:
            ev = {"customer_id": "1", "event": "e"}
            check(r.call("POST", "/events", ev, token=TEAM)[0] == 202)
            check(r.call("POST", "/events", ev, token=new_token)[0] == 401)
            with open(r.tokens, "w") as f:  # TEAM out, a new one in
                f.write(hash_line(new_token, "--name", "fresh", "--shapes", "team") + "\n" +
                        hash_line(CDP, "--name", "pipes", "--shapes", "pipelines") + "\n")
            r.proc.send_signal(signal.SIGHUP)
            end = time.time() + 10
            while r.call("POST", "/events", ev, token=new_token)[0] != 202:
                check(time.time() < end, "the new token was never taken")
                time.sleep(0.05)
            st, a, _ = r.call("POST", "/events", ev, token=TEAM)
            check(st == 401 and a["code"] == "unauthorized", st, a)
            # a file that cannot be used: the tokens loaded before stay, the log says why
            with open(r.tokens, "w") as f:
                f.write("plain-token-in-the-file\n")
            r.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            check(r.call("POST", "/events", ev, token=new_token)[0] == 202)
            check(r.call("POST", "/v1/track", {"userId": "1", "event": "e"}, token=CDP)[0] == 200)
            check(r.call("POST", "/events", ev, token=TEAM)[0] == 401)
        finally:
            rc = r.stop()
        check(rc == 0, rc, r.stderr)
        check("SIGHUP: " + r.tokens + " reloaded (2 tokens)" in r.stderr, r.stderr)
        check("not a hashed token" in r.stderr and
              "the tokens loaded before are kept" in r.stderr, r.stderr)


@test
def test_sigterm_drains_the_queue():
    with tmpdir() as d, Mock() as m:
        r = Relay(d, m.url, "--pipeline", "linger_ms=5000").start()
        for i in range(5):
            check(r.call("POST", "/events", {"customer_id": str(i), "event": "e"},
                         token=TEAM)[0] == 202)
        check(r.stop() == 0, r.stderr)
        check(len(delivered(m, "/api/v2/batch")) == 5)


# ---------------------------------------------------------------------- an official client


def analytics_through_relay(module, library, gzip_on=False):
    py = os.path.join(VENV, "bin", "python") if VENV else None
    probe = py and os.path.exists(py) and subprocess.run(
        [py, "-c", f"import {module}"], capture_output=True).returncode == 0
    if not probe:
        print(f"     skipped: no venv with {module} (--venv)")
        return
    with tmpdir() as d, Mock() as m, Relay(d, m.url) as r:
        script = (
            "import sys\n"
            f"import {module} as analytics\n"
            "analytics.write_key = sys.argv[1]\n"
            "analytics.host = sys.argv[2]\n"
            f"analytics.gzip = {gzip_on}\n"
            "errors = []\n"
            "analytics.on_error = lambda e, batch: errors.append(str(e))\n"
            "analytics.identify('u-1', {'plan': 'pro'})\n"
            "analytics.track('u-1', 'Order Completed', {'total': 9.5})\n"
            "analytics.page('u-1', 'Docs', 'Home')\n"
            "analytics.flush()\n"
            "analytics.shutdown()\n"
            "print('errors', errors)\n"
            "sys.exit(1 if errors else 0)\n")
        p = subprocess.run([py, "-c", script, CDP, f"http://127.0.0.1:{r.port}"],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, p.stdout, p.stderr)
        r.drained()
        got = delivered(m, "/v1/batch")
        check(sorted(x["type"] for x in got) == ["identify", "page", "track"], got)
        track = [x for x in got if x["type"] == "track"][0]
        check(track["userId"] == "u-1" and track["event"] == "Order Completed" and
              track["properties"] == {"total": 9.5}, track)
        # the client's own library stamp is kept
        check(track["context"]["library"]["name"] == library, track["context"])


@test
def test_customerio_cdp_analytics_delivers_through_the_relay():
    analytics_through_relay("customerio.analytics", "analytics-python")
    analytics_through_relay("customerio.analytics", "analytics-python", gzip_on=True)


@test
def test_customerio_native_analytics_delivers_through_the_relay():
    analytics_through_relay("customerio_native.analytics", "customerio-native")


def peers_dir():
    for d in (os.environ.get("CIO_PEERS_DIR"),
              os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "peers"),
              "/work/shared/peers"):
        if d and os.path.isdir(os.path.join(d, "analytics-ruby-2.5.0")):
            return d
    return None


@test
def test_analytics_ruby_delivers_through_the_relay():
    peers = peers_dir()
    ruby = subprocess.run(["sh", "-c", "command -v ruby"], capture_output=True, text=True)
    if peers is None or ruby.returncode != 0:
        print("     skipped: no ruby or no analytics-ruby peer (CIO_PEERS_DIR)")
        return
    with tmpdir() as d, Mock() as m:
        # analytics-ruby cannot be told ssl: false (options[:ssl] ||= true): the relay serves
        # HTTPS with a certificate of the test's, which Ruby trusts through SSL_CERT_FILE
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                               "-keyout", key, "-out", cert, "-days", "1", "-subj",
                               "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                              capture_output=True, text=True)
        check(made.returncode == 0, made.stderr)
        r = Relay(d, m.url, tls=(cert, key)).start()
        script = (
            "require 'segment/analytics'\n"
            "errors = []\n"
            "a = Segment::Analytics.new(write_key: ARGV[0], host: '127.0.0.1', "
            "port: ARGV[1].to_i, on_error: proc { |s, m| errors << [s, m] })\n"
            "a.identify(user_id: 'r-1', traits: { plan: 'pro' })\n"
            "a.track(user_id: 'r-1', event: 'Ordered', properties: { total: 3 })\n"
            "a.flush\n"
            "puts errors.inspect\n"
            "exit(errors.empty? ? 0 : 1)\n")
        try:
            p = subprocess.run(
                ["ruby", "-I", os.path.join(peers, "analytics-ruby-2.5.0", "lib"), "-e", script,
                 CDP, str(r.port)], capture_output=True, text=True, timeout=60,
                env=dict(os.environ, SSL_CERT_FILE=cert))
            check(p.returncode == 0, p.stdout, p.stderr[-3000:])
            r.drained()
        finally:
            r.stop()
        got = delivered(m, "/v1/batch")
        check(sorted(x["type"] for x in got) == ["identify", "track"], got)
        track = [x for x in got if x["type"] == "track"][0]
        check(track["userId"] == "r-1" and track["properties"] == {"total": 3}, track)
        check(track["context"]["library"]["name"] == "analytics-ruby", track["context"])


# ------------------------------------------------------------------------------------ runner


def main():
    global VENV
    ap = argparse.ArgumentParser()
    ap.add_argument("--cio", required=True)
    ap.add_argument("--venv")
    ap.add_argument("-k", dest="pattern")
    args = ap.parse_args()
    base.CIO = os.path.abspath(args.cio)
    VENV = args.venv
    passed = failed = 0
    for fn in TESTS:
        if args.pattern and args.pattern not in fn.__name__:
            continue
        t = time.time()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print(f"FAIL {fn.__name__} ({time.time() - t:.1f}s)")
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc()
            print("     " + detail[:3000].replace("\n", "\n     "))
        else:
            passed += 1
            print(f"ok   {fn.__name__} ({time.time() - t:.1f}s)")
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
