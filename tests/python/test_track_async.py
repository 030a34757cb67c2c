"""AsyncCustomerIO (the async-customerio 2.x API) on libcustomerio's completion queues."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from datetime import datetime

import pytest

import customerio_native as cio
from conftest import API_KEY, SITE_ID, body, run_mock


def event_body(req):
    b = body(req)
    assert len(b.pop("id")) == 26
    return b


async def test_getting_started_shape(aclient, mock):
    await aclient.identify(id=5, email="customer@example.com", first_name="John",
                           last_name="Doh", subscription_plan="premium")
    await aclient.track(customer_id=5, name="product.purchased", product_sku="XYZ-12345",
                        price=23.45)
    ident, event = mock.requests()
    assert (ident["method"], ident["path"]) == ("PUT", "/api/v1/customers/5")
    assert body(ident) == {"email": "customer@example.com", "first_name": "John",
                           "last_name": "Doh", "subscription_plan": "premium"}
    assert (event["method"], event["path"]) == ("POST", "/api/v1/customers/5/events")
    assert event_body(event) == {"name": "product.purchased",
                                 "data": {"product_sku": "XYZ-12345", "price": 23.45}}


async def test_every_v1_method(aclient, mock):
    await aclient.identify("a/b@c", plan="pro")
    await aclient.track_anonymous("anon", "signup", x=1)
    await aclient.pageview("5", "https://example.com/", ref="g")
    await aclient.backfill("5", "old", datetime(2023, 11, 14, 22, 13, 20))
    await aclient.delete("5")
    await aclient.add_device("5", "tok", "ios", last_used=1700000000)
    await aclient.delete_device("5", "tok")
    await aclient.suppress("5")
    await aclient.unsuppress("5")
    await aclient.merge_customers("id", "1", "email", "b@example.com")
    reqs = mock.requests()
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("PUT", "/api/v1/customers/a%2Fb%40c"),
        ("POST", "/api/v1/events"),
        ("POST", "/api/v1/customers/5/events"),
        ("POST", "/api/v1/customers/5/events"),
        ("DELETE", "/api/v1/customers/5"),
        ("PUT", "/api/v1/customers/5/devices"),
        ("DELETE", "/api/v1/customers/5/devices/tok"),
        ("POST", "/api/v1/customers/5/suppress"),
        ("POST", "/api/v1/customers/5/unsuppress"),
        ("POST", "/api/v1/merge_customers"),
    ]
    assert body(reqs[0]) == {"plan": "pro"}
    assert event_body(reqs[1]) == {"name": "signup", "anonymous_id": "anon", "data": {"x": 1}}
    assert event_body(reqs[2]) == {"type": "page", "name": "https://example.com/",
                                   "data": {"ref": "g"}}
    assert event_body(reqs[3]) == {"name": "old", "data": {}, "timestamp": 1700000000}
    assert body(reqs[5]) == {"device": {"id": "tok", "platform": "ios",
                                        "last_used": 1700000000}}
    assert body(reqs[9]) == {"primary": {"id": "1"}, "secondary": {"email": "b@example.com"}}
    auth = reqs[0]["headers"]["authorization"]
    assert auth.startswith("Basic ")


async def test_backfill_rejects_non_int_timestamp(aclient, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match="1700000000 is not a valid timestamp"):
        await aclient.backfill("5", "old", "1700000000")
    assert mock.requests() == []


async def test_validation_error_raises_before_anything_is_sent(aclient, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match="track: name is empty"):
        await aclient.track("5", "")
    await aclient.track("5", "e")  # nothing left armed: this one goes out normally
    assert len(mock.requests()) == 1


@pytest.mark.parametrize("status,retryable", [(400, False), (401, False), (404, False),
                                              (429, True), (500, True), (503, True)])
async def test_error_classes(mock, status, retryable):
    mock.fault(count=10, status=status, body='{"meta":{"error":"x"}}')
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                                   retries=0) as c:
        with pytest.raises(cio.BaseAsyncCustomerIOError) as info:
            await c.identify("5", a=1)
    err = info.value
    expected = cio.AsyncCustomerIORetryableError if retryable else cio.AsyncCustomerIOError
    assert type(err) is expected
    assert err.status == status
    assert err.body == '{"meta":{"error":"x"}}'
    assert err.message.startswith("identify: ")


@pytest.mark.parametrize("status,answer,code,message", [
    (400, '{"code":"invalid_request","message":"userId is too long"}', "invalid_request",
     "userId is too long"),
    (404, '{"meta":{"error":"customer not found"}}', None, "customer not found"),
    (400, "not json", None, None),
])
async def test_errors_carry_what_the_answer_says(mock, status, answer, code, message):
    # Read once by libcustomerio (cio_completion_t.server_code / server_message), as for the
    # synchronous classes (test_app_api.py).
    mock.fault(count=1, status=status, body=answer)
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                                   retries=0) as c:
        with pytest.raises(cio.AsyncCustomerIOError) as info:
            await c.identify("5", a=1)
    assert (info.value.status, info.value.body) == (status, answer)
    assert (info.value.server_code, info.value.server_message) == (code, message)


async def test_network_error_carries_no_server_answer(mock):
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=9, retries=0) as c:
        with pytest.raises(cio.AsyncCustomerIORetryableError) as info:
            await c.delete("5")
    assert info.value.status is None
    assert (info.value.server_code, info.value.server_message) == (None, None)


async def test_retry_500_then_200(aclient, mock):
    mock.fault(count=1, status=500)
    await aclient.track("5", "e")
    assert [r["status"] for r in mock.requests()] == [500, 200]


@pytest.fixture(scope="module")
def unknown_ca_mock(tmp_path_factory):
    """An emulator serving HTTPS with a self-signed certificate for 127.0.0.1: a CA that no
    trust store holds."""
    d = tmp_path_factory.mktemp("unknown-ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    with run_mock(extra_args=("--tls-cert", str(d / "cert.pem"),
                              "--tls-key", str(d / "key.pem"))) as m:
        yield m


async def test_unknown_ca_raises_the_permanent_error_at_once(unknown_ca_mock, monkeypatch):
    # libcustomerio classes a refused certificate permanent (core/src/retry.c): one attempt,
    # AsyncCustomerIOError, not the retryable class every network failure used to get.
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host="https://127.0.0.1",
                                   port=unknown_ca_mock.port, retries=3) as c:
        with pytest.raises(cio.BaseAsyncCustomerIOError) as info:
            await c.identify("5", a=1)
    assert type(info.value) is cio.AsyncCustomerIOError
    assert info.value.attempts == 1
    assert "permanent: not retried" in info.value.message


async def test_network_error_is_retryable(mock):
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=9, retries=0) as c:
        with pytest.raises(cio.AsyncCustomerIORetryableError):
            await c.delete("5")


def os_threads() -> int:
    """Threads of this process, C threads included (threading.active_count() sees only
    Python's)."""
    return len(os.listdir("/proc/self/task"))


async def test_thousand_concurrent_calls_use_no_extra_threads(aclient, mock):
    await aclient.identify("warm-up")
    threads_before = threading.active_count()
    os_before = os_threads()
    peak = threads_before
    os_peak = os_before

    async def watch():
        nonlocal peak, os_peak
        while True:
            peak = max(peak, threading.active_count())
            os_peak = max(os_peak, os_threads())
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    started = time.monotonic()
    await asyncio.gather(*(aclient.track("user-{}".format(i), "e", i=i) for i in range(1000)))
    elapsed = time.monotonic() - started
    watcher.cancel()
    assert peak == threads_before
    assert threading.active_count() == threads_before
    assert os_peak <= os_before  # not one OS thread more, not even in the C library
    reqs = mock.requests()
    assert len(reqs) == 1001
    assert {r["path"] for r in reqs[1:]} == {"/api/v1/customers/user-{}/events".format(i)
                                             for i in range(1000)}
    assert elapsed < 30


async def test_loop_keeps_running_while_requests_are_slow(aclient, mock):
    mock.fault(count=1, delay_ms=500)
    ticks = 0

    async def tick():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.ensure_future(tick())
    await aclient.identify("5")
    ticker.cancel()
    assert ticks >= 20


async def test_async_with_and_close(mock):
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port) as c:
        await c.identify("5")
    with pytest.raises(cio.AsyncCustomerIOError, match="closed"):
        await c.identify("6")
    await c.close()  # idempotent
    assert len(mock.requests()) == 1


async def test_close_fails_calls_in_flight(mock):
    mock.fault(count=1, delay_ms=1000)
    c = cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, retries=0)
    pending = asyncio.ensure_future(c.identify("5"))
    await asyncio.sleep(0.1)
    await c.close()
    with pytest.raises(cio.BaseAsyncCustomerIOError):
        await pending


async def test_cancelled_call_does_not_break_the_client(aclient, mock):
    mock.fault(count=1, delay_ms=300)
    task = asyncio.ensure_future(aclient.identify("slow"))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await aclient.identify("next")
    await asyncio.sleep(0.4)
    assert sorted(r["path"] for r in mock.requests()) == ["/api/v1/customers/next",
                                                          "/api/v1/customers/slow"]


def test_client_survives_a_new_event_loop(mock):
    c = cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    asyncio.run(c.identify("1"))
    asyncio.run(c.identify("2"))
    asyncio.run(c.close())
    assert [r["path"] for r in mock.requests()] == ["/api/v1/customers/1",
                                                    "/api/v1/customers/2"]


async def test_request_timeout_and_user_agent(mock):
    mock.fault(count=1, delay_ms=1500)
    async with cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, retries=0,
                                   request_timeout=cio.RequestTimeout(0.3),
                                   user_agent="my-app/1.0") as c:
        with pytest.raises(cio.AsyncCustomerIORetryableError) as info:
            await c.identify("5")
        assert info.value.code_name == "timeout"
        await c.identify("6")
    assert mock.requests()[-1]["headers"]["user-agent"] == "my-app/1.0"


async def test_invalid_region():
    with pytest.raises(cio.AsyncCustomerIOError, match="invalid region provided"):
        cio.AsyncCustomerIO(SITE_ID, API_KEY, region=None)
