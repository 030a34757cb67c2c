"""Drop-in for customerio 3.2 and async-customerio 2.18 (issue 15, Python items 1-8 and 11) and
the shared-state fixes of issue 16 (items 10 and 11): the bytes on the wire, return values and
exception classes."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

import customerio_native as cio
from conftest import API_KEY, SITE_ID, body
from customerio_native.analytics import Client, ValidationError


def only_event(mock):
    req = mock.only()
    b = body(req)
    return req, b


# ---- item 1: track(customer_id, name, data=None, id=None, timestamp=None) ----------------------


def test_track_data_keyword_is_the_event_data_as_in_3_2(client, mock):
    client.track(5, "purchase", data={"price": 1}, id="evt-1",
                 timestamp=datetime(2024, 1, 2, tzinfo=timezone.utc))
    req, b = only_event(mock)
    assert req["path"] == "/api/v1/customers/5/events"
    assert b == {"name": "purchase", "data": {"price": 1}, "id": "evt-1",
                 "timestamp": 1704153600}


def test_track_positional_data_id_timestamp(client, mock):
    client.track(5, "purchase", {"price": 2}, "evt-2", 1700000000)
    _, b = only_event(mock)
    assert b == {"name": "purchase", "data": {"price": 2}, "id": "evt-2",
                 "timestamp": 1700000000}


def test_track_keyword_attributes_alone_still_become_the_data(client, mock):
    client.track(5, "purchase", price=3, plan="pro")
    _, b = only_event(mock)
    assert b["data"] == {"price": 3, "plan": "pro"}


def test_track_data_and_keyword_attributes_together_raise(client, mock):
    with pytest.raises(cio.CustomerIOException, match="not both"):
        client.track(5, "purchase", data={"price": 1}, plan="pro")
    assert mock.requests() == []


def test_track_timestamp_int_refuses_is_left_out_as_in_3_2(client, mock):
    client.track(5, "purchase", data={"a": 1}, timestamp="not a number")
    _, b = only_event(mock)
    assert "timestamp" not in b and b["data"] == {"a": 1}


def test_track_anonymous_takes_3_2_arguments(client, mock):
    client.track_anonymous("anon-1", "signup", data={"source": "ad"}, id="evt-3")
    req, b = only_event(mock)
    assert req["path"] == "/api/v1/events"
    assert b == {"name": "signup", "anonymous_id": "anon-1", "data": {"source": "ad"},
                 "id": "evt-3"}


def test_background_track_keeps_id_and_timestamp(mock):
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, background=True)
    try:
        c.track(5, "purchase", data={"price": 1}, id="evt-4", timestamp=1700000000)
        assert c.flush(10)
    finally:
        c.close()
    op = body(mock.only())["batch"][0]
    assert op["attributes"] == {"price": 1}
    assert op["id"] == "evt-4" and op["timestamp"] == 1700000000


# ---- item 2: a response object --------------------------------------------------------------


def test_sync_methods_return_the_response(client, mock):
    r = client.identify(5, email="a@example.com")
    assert isinstance(r, cio.Response)
    assert r.status_code == 200 and r.ok and bool(r)
    assert r.json() == {} and r.text == "{}" and r.content == b"{}"
    assert "json" in r.headers["content-type"]
    assert r.headers["Content-Type"] == r.headers["content-type"]
    r.raise_for_status()
    assert repr(r) == "<Response [200]>"
    assert client.track(5, "e").status_code == 200
    assert client.delete(5).ok


def test_response_is_per_thread(client, mock):
    seen = []

    def work():
        for _ in range(20):
            seen.append(client.identify(7, a=1).status_code)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [200] * 80


# ---- item 3: batch ----------------------------------------------------------------------------


def test_batch_posts_the_operations_and_returns_the_response(client, mock):
    ops = [{"type": "person", "action": "identify", "identifiers": {"id": "1"},
            "attributes": {"plan": "pro"}},
           {"type": "person", "action": "event", "identifiers": {"id": "1"}, "name": "signup"}]
    r = client.batch(ops)
    assert r.status_code == 200 and r.ok
    req = mock.only()
    assert req["method"] == "POST" and req["path"] == "/api/v2/batch"
    sent = body(req)["batch"]
    assert sent[0] == ops[0]
    assert sent[1]["name"] == "signup"


def test_batch_of_nothing_raises_as_in_3_2(client, mock):
    with pytest.raises(cio.CustomerIOException, match="operations cannot be empty in batch"):
        client.batch([])


# ---- item 4: NaN nested -----------------------------------------------------------------------


def test_nested_nan_is_sent_as_null(client, mock):
    client.identify(5, score=float("nan"), nested={"x": float("nan"), "l": [1.5, float("nan")]})
    assert body(mock.only()) == {"score": None, "nested": {"x": None, "l": [1.5, None]}}


async def test_nested_nan_is_sent_as_null_async(aclient, mock):
    await aclient.track(5, "e", nested={"x": float("nan")})
    assert body(mock.only())["data"] == {"nested": {"x": None}}


# ---- item 5: add_device passes any device field -----------------------------------------------


def test_add_device_sends_any_device_field(client, mock):
    client.add_device(5, "tok", "ios", last_used=datetime(2024, 1, 2, tzinfo=timezone.utc),
                      attributes={"app_version": "1.2"}, push_enabled=True, id="ignored")
    req = mock.only()
    assert req["method"] == "PUT" and req["path"] == "/api/v1/customers/5/devices"
    assert body(req) == {"device": {"id": "tok", "platform": "ios", "last_used": 1704153600,
                                    "attributes": {"app_version": "1.2"},
                                    "push_enabled": True}}


async def test_add_device_sends_any_device_field_async(aclient, mock):
    await aclient.add_device(5, "tok", "android", custom="x")
    assert body(mock.only()) == {"device": {"id": "tok", "platform": "android", "custom": "x"}}


# ---- item 6: request fields ------------------------------------------------------------------


def test_request_fields_of_3_2_and_2_18():
    email = cio.SendEmailRequest(1, "to@example.com", cc="cc@example.com")
    assert email._to_dict()["cc"] == "cc@example.com"
    wa = cio.SendWhatsAppRequest(2, "+15551234567", _from="+15550000000")
    assert wa._to_dict()["from"] == "+15550000000"
    inapp = cio.SendInAppRequest(3, {"id": "1"}, auto_create=True)
    assert inapp._to_dict()["auto_create"] is True
    # async-customerio's to_dict() writes its defaults; customerio's _to_dict() does not.
    push = cio.SendPushRequest(4, identifiers={"id": "1"})
    assert push.to_dict() == {"transactional_message_id": 4, "identifiers": {"id": "1"},
                              "to": "all", "disable_message_retention": False,
                              "send_to_unsubscribed": True, "queue_draft": False,
                              "sound": "default"}
    assert "sound" not in push._to_dict()
    assert cio.SendInAppRequest(5).to_dict() == {"transactional_message_id": 5,
                                                 "queue_draft": False, "auto_create": False}


# ---- item 7: AsyncCustomerIO of 2.18 --------------------------------------------------------


async def test_async_unsubscribe_report_metric_push_metric_region_form(aclient, mock):
    await aclient.unsubscribe("dlv-1")
    await aclient.report_metric("dlv-1", "clicked", href="https://x.example", recipient="r")
    await aclient.report_push_metric("dlv-1", "dev-1", "opened", timestamp=1700000000)
    region = await aclient.get_region()
    await aclient.submit_form("form-1", email="a@example.com", name="Ada")
    reqs = mock.requests()
    # the push metric goes where libcustomerio's cio_track_push_event posts it, the official
    # gems' /push/events (async-customerio 2.18 posts /api/v1/push/events: Customer.io serves
    # both)
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("POST", "/unsubscribe/dlv-1"), ("POST", "/api/v1/metrics"), ("POST", "/push/events"),
        ("GET", "/api/v1/accounts/region"), ("POST", "/api/v1/forms/form-1/submit")]
    assert body(reqs[0]) == {"unsubscribe": True}
    assert body(reqs[1]) == {"delivery_id": "dlv-1", "metric": "clicked",
                             "href": "https://x.example", "recipient": "r"}
    assert body(reqs[2]) == {"delivery_id": "dlv-1", "event": "opened", "device_id": "dev-1",
                             "timestamp": 1700000000}
    assert region["region"] == "us"
    assert body(reqs[4]) == {"data": {"email": "a@example.com", "name": "Ada"}}


async def test_async_submit_form_without_data_raises(aclient, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match="data cannot be blank in submit_form"):
        await aclient.submit_form("form-1")
    assert mock.requests() == []


def test_async_exports_of_2_18():
    for name in ("RequestLimits", "RetryStrategy", "IdentifierID", "IdentifierEMAIL",
                 "IdentifierCIOID", "IdentifierObject", "IdentifierCIOObject",
                 "PersonIdentifiers", "ObjectIdentifiers"):
        assert hasattr(cio, name), name


async def test_async_retry_strategy_wraps_each_call_with_one_attempt_inside(mock):
    calls = []

    class Strategy:
        async def execute(self, func, *args, **kwargs):
            for attempt in range(3):
                calls.append(attempt)
                try:
                    return await func(*args, **kwargs)
                except cio.AsyncCustomerIORetryableError:
                    if attempt == 2:
                        raise

    mock.fault(count=1, status=503)
    c = cio.AsyncCustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                            request_limits=cio.RequestLimits(max_connections=4),
                            retry_strategy=Strategy())
    try:
        await c.track(5, "e")
    finally:
        await c.close()
    assert calls == [0, 1]  # the strategy retried; libcustomerio made one attempt per try
    assert len(mock.requests()) == 2


# ---- item 8: values JSON cannot carry ---------------------------------------------------------


@pytest.mark.parametrize("value,kind", [(Decimal("1.5"), "Decimal"), (date(2024, 1, 2), "date"),
                                        ({1, 2}, "set"), (b"x", "bytes"), (object(), "object")])
def test_value_json_cannot_carry_raises_the_package_error_naming_it(client, mock, value, kind):
    with pytest.raises(cio.CustomerIOException, match=r"data\.items\[1\] is a {}".format(kind)):
        client.track(5, "e", data={"items": [1, value]})
    with pytest.raises(cio.InvalidValueError):
        client.identify(5, bad=value)
    assert mock.requests() == []


async def test_value_json_cannot_carry_raises_async_error(aclient, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match=r"data\.price is a Decimal"):
        await aclient.track(5, "e", price=Decimal("1"))
    assert mock.requests() == []


# ---- item 11: id 0 is blank for AsyncCustomerIO -----------------------------------------------


@pytest.mark.parametrize("call", [
    lambda c: c.identify(0), lambda c: c.track(0, "e"), lambda c: c.delete(0),
    lambda c: c.add_device(0, "t", "ios"), lambda c: c.suppress(0),
    lambda c: c.merge_customers("id", 0, "id", 1)])
async def test_async_refuses_id_zero_as_blank(aclient, mock, call):
    with pytest.raises(cio.AsyncCustomerIOError, match="cannot be blank"):
        await call(aclient)
    assert mock.requests() == []


# ---- issue 16 item 10: one cycle-detection dict per call -------------------------------------


@pytest.fixture
def fast_switching():
    """Threads switch after every few bytecodes: the encoders' Python default() hooks (for
    datetimes) then interleave, as they do under load."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def hammer(call, threads=8, calls=300):
    errors = []

    def work():
        for _ in range(calls):
            try:
                call()
            except Exception as e:  # noqa: BLE001 - counted below
                errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def test_threads_sharing_a_dict_never_see_a_circular_reference_analytics(fast_switching):
    shared = {"when": [datetime(2024, 1, 1)] * 50}
    c = Client("py-cdp-key", host="http://127.0.0.1:9", send=False)
    try:
        errors = hammer(lambda: c.track("u1", "e", properties={"shared": shared}))
    finally:
        c.shutdown()
    assert errors == []


def test_threads_sharing_a_dict_never_see_a_circular_reference_pipeline(mock, fast_switching):
    shared = {"when": [datetime(2024, 1, 1)] * 50}
    p = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    try:
        errors = hammer(lambda: p.track(5, "e", payload=shared, at=float("nan")), calls=100)
    finally:
        p.close(10)
    assert errors == []


def test_a_dict_refused_once_is_accepted_once_fixed():
    c = Client("py-cdp-key", host="http://127.0.0.1:9", send=False)
    try:
        nested = {"bad": object(), "when": datetime(2024, 1, 1)}
        with pytest.raises(ValidationError, match="not JSON serializable"):
            c.track("u1", "e", properties={"nested": nested})
        nested["bad"] = 2
        ok, msg = c.track("u1", "e", properties={"nested": nested})
        assert ok and msg["properties"]["nested"]["bad"] == 2
    finally:
        c.shutdown()


# ---- issue 16 item 11: close() in a child forked while threads were inside calls -------------


def test_close_in_a_child_forked_during_calls_of_other_threads(mock):
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    p = cio.Pipeline(c)
    mock.fault(count=4, delay_ms=3000)
    started = threading.Event()

    def slow():
        started.set()
        try:
            c.identify(5, a=1)
        except Exception:  # noqa: BLE001 - the parent closes under it at the end
            pass

    threads = [threading.Thread(target=slow) for _ in range(2)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.3)  # both inside the C call
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            p.close(1)
            c.close()
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:  # hung: the child is killed and the test fails
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = None
    for t in threads:
        t.join()
    p.close(5)
    c.close()
    assert status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


async def test_async_api_client_takes_2_18_arguments_in_order(mock):
    calls = []

    class Strategy:
        async def execute(self, func, *args, **kwargs):
            calls.append(func)
            return await func(*args, **kwargs)

    # async-customerio 2.18's order: key, url, region, retries, request_timeout,
    # request_limits, user_agent, retry_strategy
    client = cio.AsyncAPIClient("py-app-key", mock.url, cio.Regions.US, 0, cio.RequestTimeout(5),
                                cio.RequestLimits(max_connections=2), "my-agent/1", Strategy())
    try:
        await client.send_email(cio.SendEmailRequest(1, "a@example.com", {"id": "1"}))
    finally:
        await client.close()
    assert len(calls) == 1
    assert mock.only()["headers"]["user-agent"] == "my-agent/1"


async def test_async_segment_calls_check_arguments_as_2_18(aclient, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match="segment_id cannot be blank"):
        await aclient.add_to_segment(0, ["1"])
    with pytest.raises(cio.AsyncCustomerIOError, match="cannot exceed 1000 items"):
        await aclient.remove_from_segment(7, ["1"] * 1001)
    assert mock.requests() == []
    await aclient.add_to_segment(7, ["1"], id_type=None)
    req = mock.only()
    assert req["path"] == "/api/v1/segments/7/add_customers" and not req["query"]


def test_a_cycle_a_bad_key_and_deep_nesting_raise_the_package_error(client, mock):
    cyclic = {"a": 1}
    cyclic["loop"] = cyclic
    with pytest.raises(cio.InvalidValueError, match=r"attributes\.loop(\.loop)* contains itself"):
        client.identify(5, **cyclic)
    with pytest.raises(cio.InvalidValueError, match=r"^data: keys must be"):
        client.track(5, "e", data={"nested": {(1, 2): "tuple key"}})
    deep: list = []
    for _ in range(100000):
        deep = [deep]
    with pytest.raises(cio.InvalidValueError, match="nested too deeply"):
        client.track(5, "e", data={"deep": deep})
    assert mock.requests() == []
