"""CustomerIO (sync, the official customerio 3.x API): the bytes each method puts on the wire,
argument mapping, errors, retries, the GIL."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import customerio_native as cio
from conftest import API_KEY, SITE_ID, body, in_forked_child


def expect(req, method, path, payload=...):
    assert req["method"] == method
    assert req["path"] == path
    if payload is not ...:
        assert body(req) == payload
    auth = base64.b64encode("{}:{}".format(SITE_ID, API_KEY).encode()).decode()
    assert req["headers"]["authorization"] == "Basic " + auth


def event_body(req):
    """An event body without its generated de-duplication id (checked to be a ULID)."""
    b = body(req)
    assert len(b.pop("id")) == 26
    return b


# ---- every method's wire bytes ----


def test_identify(client, mock):
    client.identify(id=5, email="customer@example.com", first_name="John", plan="premium")
    expect(mock.only(), "PUT", "/api/v1/customers/5",
           {"email": "customer@example.com", "first_name": "John", "plan": "premium"})


def test_identify_positional_string_id(client, mock):
    client.identify("42", email="ada@example.com")
    expect(mock.only(), "PUT", "/api/v1/customers/42", {"email": "ada@example.com"})


def test_track(client, mock):
    client.track(customer_id=5, name="product.purchased", product_sku="XYZ-12345", price=23.45)
    req = mock.only()
    expect(req, "POST", "/api/v1/customers/5/events")
    assert event_body(req) == {"name": "product.purchased",
                               "data": {"product_sku": "XYZ-12345", "price": 23.45}}
    assert '"price":23.45' in req["body"]


def test_track_anonymous(client, mock):
    client.track_anonymous("anon-1", "signup", source="ad")
    req = mock.only()
    expect(req, "POST", "/api/v1/events")
    assert event_body(req) == {"name": "signup", "anonymous_id": "anon-1",
                               "data": {"source": "ad"}}


def test_track_anonymous_without_person(client, mock):
    client.track_anonymous(None, "broadcast-trigger")
    req = mock.only()
    expect(req, "POST", "/api/v1/events")
    assert event_body(req) == {"name": "broadcast-trigger", "data": {}}


def test_pageview(client, mock):
    client.pageview("5", "https://example.com/pricing", referrer="google")
    req = mock.only()
    expect(req, "POST", "/api/v1/customers/5/events")
    assert event_body(req) == {"type": "page", "name": "https://example.com/pricing",
                               "data": {"referrer": "google"}}


def test_screen(client, mock):
    client.screen("5", "Settings", tab="privacy")
    req = mock.only()
    expect(req, "POST", "/api/v1/customers/5/events")
    assert event_body(req) == {"type": "screen", "name": "Settings", "data": {"tab": "privacy"}}


def test_backfill_int_timestamp(client, mock):
    client.backfill("5", "signed_up", 1700000000, plan="free")
    req = mock.only()
    expect(req, "POST", "/api/v1/customers/5/events")
    assert event_body(req) == {"name": "signed_up", "data": {"plan": "free"},
                               "timestamp": 1700000000}


def test_backfill_datetime_and_string_timestamp(client, mock):
    client.backfill("5", "a", datetime(2023, 11, 14, 22, 13, 20))
    client.backfill("5", "b", "1700000001")
    first, second = mock.requests()
    assert event_body(first)["timestamp"] == 1700000000
    assert event_body(second)["timestamp"] == 1700000001


def test_backfill_bad_timestamp(client, mock):
    with pytest.raises(cio.CustomerIOException, match="not-a-time is not a valid timestamp"):
        client.backfill("5", "a", "not-a-time")
    assert mock.requests() == []


def test_delete(client, mock):
    client.delete("5")
    expect(mock.only(), "DELETE", "/api/v1/customers/5")


def test_add_device(client, mock):
    client.add_device("5", "tok-1", "ios", last_used=1700000000,
                      attributes={"app_version": "1.2"})
    expect(mock.only(), "PUT", "/api/v1/customers/5/devices",
           {"device": {"id": "tok-1", "platform": "ios", "last_used": 1700000000,
                       "attributes": {"app_version": "1.2"}}})


def test_add_device_datetime_last_used(client, mock):
    client.add_device("5", "tok-1", "android", last_used=datetime(2023, 11, 14, 22, 13, 20))
    assert body(mock.only())["device"]["last_used"] == 1700000000


def test_delete_device(client, mock):
    client.delete_device("5", "tok/1")
    expect(mock.only(), "DELETE", "/api/v1/customers/5/devices/tok%2F1")


def test_suppress_unsuppress(client, mock):
    client.suppress("5")
    client.unsuppress("5")
    s, u = mock.requests()
    expect(s, "POST", "/api/v1/customers/5/suppress")
    expect(u, "POST", "/api/v1/customers/5/unsuppress")


def test_merge_customers(client, mock):
    client.merge_customers("email", "a@example.com", "id", 7)
    expect(mock.only(), "POST", "/api/v1/merge_customers",
           {"primary": {"email": "a@example.com"}, "secondary": {"id": "7"}})


def test_merge_customers_invalid_id_type(client, mock):
    with pytest.raises(cio.CustomerIOException, match="invalid primary id type"):
        client.merge_customers("phone", "1", "id", "2")
    with pytest.raises(cio.CustomerIOException, match="invalid secondary id type"):
        client.merge_customers("id", "1", "phone", "2")
    assert mock.requests() == []


def test_track_push_notification_event(client, mock):
    client.track_push_notification_event("opened", delivery_id="d-1", device_id="tok-1",
                                         timestamp=1700000000)
    expect(mock.only(), "POST", "/push/events",
           {"delivery_id": "d-1", "event": "opened", "device_id": "tok-1",
            "timestamp": 1700000000})


def test_track_delivery_metric(client, mock):
    client.track_delivery_metric("clicked", delivery_id="d-1", timestamp=1700000000,
                                 href="https://example.com")
    req = mock.only()
    expect(req, "POST", "/api/v1/metrics")
    assert body(req) == {"delivery_id": "d-1", "metric": "clicked", "timestamp": 1700000000,
                         "href": "https://example.com"}


def test_segments(client, mock):
    client.add_to_segment(3, ["a", 2])
    client.remove_from_segment("3", ["a@example.com"], id_type="email")
    add, remove = mock.requests()
    expect(add, "POST", "/api/v1/segments/3/add_customers", {"ids": ["a", "2"]})
    expect(remove, "POST", "/api/v1/segments/3/remove_customers", {"ids": ["a@example.com"]})
    assert remove["query"] == "id_type=email"
    with pytest.raises(cio.CustomerIOException, match="customer_ids cannot be"):
        client.add_to_segment(3, [1.5])


# ---- mapping: ids, datetimes, NaN, json_encoder ----


def test_id_encoding(client, mock):
    client.identify("a/b@c", x=1)
    client.track("a/b@c", "e")
    client.delete_device("a/b@c", "d/e")
    paths = [r["path"] for r in mock.requests()]
    assert paths == ["/api/v1/customers/a%2Fb%40c", "/api/v1/customers/a%2Fb%40c/events",
                     "/api/v1/customers/a%2Fb%40c/devices/d%2Fe"]


def test_datetimes_become_unix_seconds(client, mock):
    naive = datetime(2023, 11, 14, 22, 13, 20)
    aware = datetime(2023, 11, 14, 23, 13, 20, tzinfo=timezone(timedelta(hours=1)))
    client.identify("5", created_at=naive, seen=aware, nested={"at": naive})
    client.track("5", "e", at=naive)
    ident, event = mock.requests()
    assert body(ident) == {"created_at": 1700000000, "seen": 1700000000,
                           "nested": {"at": 1700000000}}
    assert body(event)["data"] == {"at": 1700000000}


def test_nan_becomes_null(client, mock):
    client.identify("5", score=float("nan"))
    assert body(mock.only()) == {"score": None}


def test_json_encoder_is_honoured(mock):
    class SetEncoder(json.JSONEncoder):
        def default(self, o):
            if isinstance(o, set):
                return sorted(o)
            return super().default(o)

    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                        json_encoder=SetEncoder) as c:
        c.identify("5", tags={"b", "a"})
    assert body(mock.only()) == {"tags": ["a", "b"]}


def test_unserialisable_value_sends_nothing(client, mock):
    with pytest.raises(TypeError):
        client.identify("5", thing=object())
    client.identify("6")  # the failed call left nothing armed
    assert [r["path"] for r in mock.requests()] == ["/api/v1/customers/6"]


# ---- errors ----


def test_blank_id_is_refused_by_the_core(client, mock):
    with pytest.raises(cio.CustomerIOException) as info:
        client.identify("")
    assert str(info.value) == "identify: customer_id is empty"
    assert info.value.code_name == "invalid argument"
    assert info.value.status is None and info.value.attempts == 0
    assert mock.requests() == []


def test_crlf_in_id_is_refused(client, mock):
    with pytest.raises(cio.CustomerIOException, match="control character"):
        client.track("a\r\nb", "e")
    with pytest.raises(ValueError, match="NUL"):
        client.track("a\x00b", "e")
    assert mock.requests() == []


@pytest.mark.parametrize("status,code_name", [
    (400, "bad request"), (401, "authentication failed"), (404, "not found"),
    (429, "rate limited"), (500, "server error")])
def test_http_errors(mock, status, code_name):
    mock.fault(count=10, status=status, body='{"meta":{"error":"nope %d"}}' % status)
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, retries=0) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.identify("5", a=1)
    err = info.value
    assert err.status == status
    assert err.body == '{"meta":{"error":"nope %d"}}' % status
    assert err.code_name == code_name
    assert err.attempts == 1
    assert err.message.startswith("identify: ")
    assert API_KEY not in err.message


def test_wrong_credentials(mock):
    with cio.CustomerIO(SITE_ID, "wrong-key", host=mock.host, port=mock.port) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.identify("5")
    assert info.value.status == 401
    assert len(mock.requests()) == 1  # 401 is not retried


def test_retry_500_then_200(client, mock):
    mock.fault(count=1, status=500)
    client.track("5", "e")
    reqs = mock.requests()
    assert [r["status"] for r in reqs] == [500, 200]
    assert body(reqs[0]) == body(reqs[1])  # same event id: the retry is de-duplicated


def test_retries_exhausted(mock):
    mock.fault(count=10, status=503)
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, retries=2,
                        backoff_factor=0.001) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.delete("5")
    assert info.value.attempts == 3
    assert len(mock.requests()) == 3


def test_network_error(mock):
    with cio.CustomerIO(SITE_ID, API_KEY, host="127.0.0.1", port=9, retries=0) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.identify("5")
    assert info.value.code_name == "network error"
    assert info.value.status is None


def test_timeout(mock):
    mock.fault(count=1, delay_ms=1500)
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, retries=0,
                        timeout=0.3) as c:
        with pytest.raises(cio.CustomerIOException) as info:
            c.identify("5")
    assert info.value.code_name == "timeout"


# ---- configuration ----


def test_invalid_region():
    with pytest.raises(cio.CustomerIOException, match="invalid region provided"):
        cio.CustomerIO(SITE_ID, API_KEY, region="us")


def test_regions():
    assert cio.Regions.US.track_host == "track.customer.io"
    assert cio.Regions.EU.track_host == "track-eu.customer.io"
    assert cio.Regions.EU.api_host == "api-eu.customer.io"
    c = cio.CustomerIO(SITE_ID, API_KEY, region=cio.Regions.EU)
    assert c.base_url == "https://track-eu.customer.io/api/v1"
    c.close()


@pytest.mark.parametrize("host,port,prefix,expected", [
    (None, None, None, "https://track.customer.io/api/v1"),
    # without a scheme: https whatever the port, as customerio 3.2 and async-customerio
    ("proxy.internal", 8443, None, "https://proxy.internal:8443/api/v1"),
    ("127.0.0.1", 8080, None, "https://127.0.0.1:8080/api/v1"),
    ("relay.example.com", 443, None, "https://relay.example.com/api/v1"),
    (None, 8443, None, "https://track.customer.io:8443/api/v1"),
    # plain http only when the host says so
    ("http://127.0.0.1", 8080, None, "http://127.0.0.1:8080/api/v1"),
    ("http://relay.internal", 80, None, "http://relay.internal/api/v1"),
    ("https://relay.example.com", 8443, None, "https://relay.example.com:8443/api/v1"),
    ("http://127.0.0.1", 8080, "/cio/api/v1", "http://127.0.0.1:8080/cio/api/v1"),
])
def test_base_url_rule(host, port, prefix, expected):
    c = cio.CustomerIO(SITE_ID, API_KEY, host=host, port=port, url_prefix=prefix)
    assert c.base_url == expected
    c.close()


def test_url_prefix_must_end_with_api_v1():
    with pytest.raises(cio.CustomerIOException, match="url_prefix"):
        cio.CustomerIO(SITE_ID, API_KEY, url_prefix="/v1")


def test_url_prefix_reaches_the_wire(mock):
    # The emulator serves /api/v1 only; a relay prefix shows up in the path it logs (404).
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                        url_prefix="/relay/api/v1", retries=0) as c:
        with pytest.raises(cio.CustomerIOException):
            c.identify("5")
    assert mock.only()["path"] == "/relay/api/v1/customers/5"


def test_credentials_from_environment(mock, monkeypatch):
    monkeypatch.setenv("CUSTOMERIO_SITE_ID", SITE_ID)
    monkeypatch.setenv("CUSTOMERIO_API_KEY", API_KEY)
    with cio.CustomerIO(host=mock.host, port=mock.port) as c:
        c.identify("5")
    expect(mock.only(), "PUT", "/api/v1/customers/5", {})


def test_missing_credentials(mock, monkeypatch):
    monkeypatch.delenv("CUSTOMERIO_SITE_ID", raising=False)
    monkeypatch.delenv("CUSTOMERIO_API_KEY", raising=False)
    with cio.CustomerIO(host=mock.host, port=mock.port) as c:
        with pytest.raises(cio.CustomerIOException, match="site_id is missing") as info:
            c.identify("5")
    assert info.value.code_name == "configuration error"


def test_closed_client(mock):
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    with c:
        c.identify("5")
    c.close()  # idempotent
    with pytest.raises(cio.CustomerIOException, match="closed"):
        c.identify("5")


def test_user_agent(client, mock):
    client.identify("5")
    assert mock.only()["headers"]["user-agent"].startswith("customerio-native/")


# ---- threads and the GIL ----


def test_gil_is_released_during_a_request(client, mock):
    mock.fault(count=1, delay_ms=500)
    counter = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        before = counter[0]
        started = time.monotonic()
        client.identify("5")
        elapsed = time.monotonic() - started
        during = counter[0] - before
    finally:
        stop.set()
        t.join()
    assert elapsed >= 0.45
    # Holding the GIL for 500 ms would leave the spinner a few switch intervals at most.
    assert during > 100_000, during


def test_one_client_many_threads(client, mock):
    errors = []

    def work(n):
        try:
            for i in range(20):
                client.track("user-{}".format(n), "e", i=i)
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(mock.requests()) == 160


def test_close_waits_for_calls_in_progress(client, mock):
    mock.fault(count=1, delay_ms=300)
    t = threading.Thread(target=client.identify, args=("5",))
    t.start()
    time.sleep(0.1)
    client.close()  # must not free the handle under the running call
    t.join()
    assert mock.only()["status"] == 200


def test_a_client_made_before_fork_works_in_the_child(client, mock):
    # Pre-forking servers (gunicorn --preload, celery, uwsgi) make the client at import and then
    # fork: a worker's calls must work, not wait for the parent's network thread.
    client.track("1", "before-fork")
    assert in_forked_child(lambda: client.track("1", "from-child")) == 0
    client.track("1", "after-fork")
    assert [body(r)["name"] for r in mock.requests()] == ["before-fork", "from-child",
                                                          "after-fork"]


def test_a_background_client_made_before_fork_works_in_the_child(mock):
    # The child gets a pipeline of its own; what the parent had queued, the parent delivers;
    # and the child's exit (which closes the client) does not wait for the parent's pipeline.
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, background=True,
                       pipeline_options={"linger": 60})
    c.track("1", "queued-before-fork")

    def child() -> None:
        c.track("1", "from-child")
        c.close()

    assert in_forked_child(child) == 0
    c.track("1", "from-parent")
    c.close()
    names = [op["name"] for r in mock.requests() for op in body(r)["batch"]]
    assert sorted(names) == ["from-child", "from-parent", "queued-before-fork"]
