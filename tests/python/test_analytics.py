"""customerio_native.analytics, the drop-in for customerio-cdp-analytics, against the emulator:
the bytes of every call, validation before anything is queued, (ok, msg) returns, on_error with
the official signature, delivery under injected faults, sync_mode, send=False, shutdown, exit."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Dict, List, Tuple

import pytest

from conftest import CDP_API_KEY, REPO, body, in_forked_child, run_mock
from customerio_native import analytics
from customerio_native.analytics import (
    APIError,
    Client,
    DeliveryError,
    MessageTooLargeError,
    QueueFullError,
    ValidationError,
)

ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
ISO_MS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BASIC = "Basic " + base64.b64encode((CDP_API_KEY + ":").encode()).decode()
LIBRARY = {"name": "customerio-native", "version": analytics.VERSION}
SETTINGS = ("write_key", "host", "on_error", "debug", "send", "sync_mode", "max_queue_size",
            "gzip", "timeout", "max_retries", "strict_mode")


@pytest.fixture
def module_settings():
    """The analytics module as a fresh interpreter has it; restored (and its default client
    shut down) afterwards."""
    saved = {name: getattr(analytics, name) for name in SETTINGS}
    level = Client.log.level
    analytics.default_client = None
    yield analytics
    Client.log.setLevel(level)
    if analytics.default_client is not None:
        analytics.default_client.shutdown()
    analytics.default_client = None
    for name, value in saved.items():
        setattr(analytics, name, value)


@pytest.fixture
def new_client(mock):
    """Clients on the emulator, shut down after the test."""
    made: List[Client] = []

    def make(**kwargs: Any) -> Client:
        kwargs.setdefault("upload_interval", 0.05)
        c = Client(CDP_API_KEY, host=mock.url, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.shutdown()


def delivered(mock) -> List[Dict[str, Any]]:
    """Every message of every /v1/batch request the emulator accepted, in order."""
    out: List[Dict[str, Any]] = []
    for req in mock.requests():
        assert (req["method"], req["path"]) == ("POST", "/v1/batch"), req
        if req["status"] == 200:
            out.extend(body(req)["batch"])
    return out


def strip_completed(msg: Dict[str, Any]) -> Dict[str, Any]:
    """msg without what the core fills in, after checking it."""
    msg = dict(msg)
    assert ULID.match(msg.pop("messageId"))
    assert ISO_MS_Z.match(msg.pop("timestamp"))
    context = dict(msg.pop("context"))
    assert context.pop("library") == LIBRARY
    if context:
        msg["context"] = context
    return msg


class Errors:
    """An on_error handler that records its calls."""

    def __init__(self) -> None:
        self.calls: List[Tuple[Exception, List[Dict[str, Any]]]] = []
        self.lock = threading.Lock()

    def __call__(self, error: Exception, batch: List[Dict[str, Any]]) -> None:
        with self.lock:
            self.calls.append((error, batch))


# ---- the wire -----------------------------------------------------------------------------


def test_every_call_on_the_wire(new_client, mock):
    c = new_client()
    calls = [
        c.identify("u1", {"email": "ada@example.com", "ltv": 23.45}),
        c.track("u1", "purchased", {"price": 9.5}, {"ip": "10.0.0.1"}),
        c.page("u1", "docs", "Install", {"path": "/install"}),
        c.screen(anonymous_id="a1", name="Home"),
        c.group("u1", "acme", {"plan": "pro"}),
        c.alias("a1", "u1"),
    ]
    assert all(ok for ok, _ in calls)
    c.flush()
    reqs = mock.requests()
    assert len(reqs) == 1
    req = reqs[0]
    assert (req["method"], req["path"], req["status"]) == ("POST", "/v1/batch", 200)
    assert req["headers"]["authorization"] == BASIC
    assert req["headers"]["content-type"] == "application/json"
    sent = body(req)
    assert ISO_MS_Z.match(sent["sentAt"])
    assert [m["messageId"] for m in sent["batch"]] == [msg["messageId"] for _, msg in calls]
    assert [strip_completed(m) for m in sent["batch"]] == [
        {"type": "identify", "userId": "u1", "traits": {"email": "ada@example.com", "ltv": 23.45},
         "integrations": {}},
        {"type": "track", "userId": "u1", "event": "purchased", "properties": {"price": 9.5},
         "context": {"ip": "10.0.0.1"}, "integrations": {}},
        {"type": "page", "userId": "u1", "category": "docs", "name": "Install",
         "properties": {"path": "/install"}, "integrations": {}},
        {"type": "screen", "anonymousId": "a1", "name": "Home", "properties": {},
         "integrations": {}},
        {"type": "group", "userId": "u1", "groupId": "acme", "traits": {"plan": "pro"},
         "integrations": {}},
        {"type": "alias", "previousId": "a1", "userId": "u1", "integrations": {}},
    ]
    assert "23.45" in req["body"]


def test_returns_ok_and_the_message_as_sent(new_client, mock):
    c = new_client()
    ok, msg = c.track(157963456373623802, "python test event", anonymous_id=157963456373623803,
                      integrations={"Amplitude": True}, message_id="messageId",
                      timestamp=datetime(2014, 9, 3))
    assert ok is True
    # as the official client: ids stringified, a naive old datetime taken as UTC
    assert msg["userId"] == "157963456373623802"
    assert msg["anonymousId"] == "157963456373623803"
    assert msg["messageId"] == "messageId"
    assert msg["timestamp"] == "2014-09-03T00:00:00.000+00:00"
    assert msg["integrations"] == {"Amplitude": True}
    assert msg["context"]["library"] == LIBRARY
    c.flush()
    assert delivered(mock) == [msg]


def test_datetimes_and_other_values_are_written_as_the_official_client_writes_them(new_client):
    c = new_client(send=False)
    aware = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    _, msg = c.identify("u", {"born": date(1981, 2, 2), "seen": aware, "ltv": Decimal("1.5"),
                              "tags": {"a"}, "pair": (1, 2)}, timestamp=aware)
    assert msg["traits"] == {"born": "1981-02-02", "seen": "2024-05-01T12:00:00.123456+02:00",
                             "ltv": 1.5, "tags": ["a"], "pair": [1, 2]}
    assert msg["timestamp"] == "2024-05-01T12:00:00.123+02:00"
    _, msg = c.track("u", "e", timestamp="2024-05-01T10:00:00.000Z")
    assert msg["timestamp"] == "2024-05-01T10:00:00.000Z"
    _, msg = c.track("u", "e", timestamp=datetime.now())  # naive and recent: local time
    assert msg["timestamp"].endswith(datetime.now().astimezone().isoformat()[-6:])
    _, msg = c.track("u", "e", timestamp=datetime(2020, 1, 1))  # naive and old: UTC
    assert msg["timestamp"] == "2020-01-01T00:00:00.000+00:00"


def test_the_core_writes_plain_values_byte_for_byte_as_the_json_module(new_client, mock):
    # Plain dicts, lists, str, int, float, bool and None are written by libcustomerio's binding,
    # not by the json module: the bytes on the wire must be what json.dumps writes.
    c = new_client()
    props = {"quote\"back\\slash": "tab\tnl\ncr\rbell\x07del\x7f", "unicode": "żółw 🐢 \u2028",
             "ints": [0, -1, 2**63 - 1, -(2**63)], "floats": [0.1, 1e16, -0.0,
             1e-7, 123456789.125, 1.5e300], "flags": [True, False, None], "empty": [{}, [], ""],
             "nested": {"a": {"b": [{"c": [1, {"d": "e"}]}]}}}
    ok, msg = c.track("u", "e", props)
    assert msg["properties"] == props
    c.flush()
    [req] = mock.requests()
    want = '"properties":' + json.dumps(props, ensure_ascii=False, allow_nan=False,
                                        separators=(",", ":"))
    assert want in req["body"]
    assert delivered(mock) == [msg]
    # integers beyond 64 bits (which the emulator's jansson refuses) are written digit for digit
    from customerio_native import _native
    big = {"big": [2**64, -(10**30)]}
    _msg, text = _native.cio_py_message(None, LIBRARY, "track", "u", None, None, None, "e", None,
                                        None, None, big, None, None, None, None)
    assert '"properties":{"big":[18446744073709551616,-1000000000000000000000000000000]}' in text


def test_the_core_writes_floats_as_repr_does():
    # Prices and amounts take a shortcut past repr()'s digit search: the digits must still be
    # exactly repr()'s (json writes repr()), for those and for any other double.
    import random
    import struct
    from customerio_native import _native

    def written(v: float) -> str:
        _msg, text = _native.cio_py_message(None, LIBRARY, "track", "u", None, None, None, "e",
                                            None, None, None, {"v": v}, None, None, None, None)
        start = text.index('"properties":{"v":') + len('"properties":{"v":')
        return text[start:text.index("}", start)]

    rnd = random.Random(7)
    values = [0.1, 0.2, 0.1 + 0.2, 1 / 3, 12.5, -2.5, 0.05, -0.05, 1e-4, 1.5e-4, 9.9999e-5,
              100.0, 1e14, 999999999999999.9, 1e15, 1e16, 2.0**53, 2.0**53 + 2, -0.0, 0.0,
              5e-324, 1.7976931348623157e308]
    for _ in range(20000):
        values.append(rnd.randint(-10**rnd.randint(1, 16), 10**rnd.randint(1, 16))
                      / 10**rnd.randint(0, 6))
        values.append(round(rnd.uniform(-1e6, 1e6), rnd.randint(0, 5)))
        bits = struct.unpack("d", struct.pack("Q", rnd.getrandbits(64)))[0]
        if bits == bits and abs(bits) != float("inf"):
            values.append(bits)
    wrong = [(v, written(v)) for v in values if written(v) != json.dumps(v)]
    assert wrong == []


def test_values_for_the_json_module_are_sent_as_the_official_client_sends_them(new_client, mock):
    from collections import OrderedDict
    c = new_client()
    ok, msg = c.identify("u", OrderedDict(a=1), context={"ip": "1.2.3.4", "n": (1, 2)},
                         integrations={"All": False, 5: True})
    assert msg["traits"] == {"a": 1}
    assert msg["context"] == {"library": LIBRARY, "ip": "1.2.3.4", "n": [1, 2]}
    assert msg["integrations"] == {"All": False, "5": True}
    c.flush()
    assert delivered(mock) == [msg]


def test_a_signal_handler_closing_the_client_mid_call_is_seen_not_used_after_free(new_client):
    # Writing a long int's digits checks for signals, so a handler (here a graceful shutdown)
    # can run inside a call, close the client and free its pipeline: the call must then see the
    # pipeline closed, not queue into freed memory.
    import signal
    c = new_client()
    fired: List[int] = []

    def shutdown(signum: int, frame: Any) -> None:
        fired.append(signum)
        c.join()

    previous = signal.signal(signal.SIGALRM, shutdown)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.005)
        with pytest.raises(DeliveryError, match="shut down"):
            c.track("u", "e", {"n": [2**64] * 400000})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert fired == [signal.SIGALRM]


@pytest.mark.parametrize("value, field", [
    ({"s": "lone \ud800 surrogate"}, "surrogate"),
    ({"deep": json.loads("[" * 600 + "]" * 600)}, "nested too deeply"),
])
def test_values_no_writer_can_send_raise(new_client, mock, value, field):
    c = new_client()
    with pytest.raises(ValidationError) as info:
        c.track("u", "e", value)
    assert field in str(info.value)
    circular: Dict[str, Any] = {}
    circular["self"] = circular
    with pytest.raises(ValidationError, match="Circular reference"):
        c.track("u", "e", circular)
    c.flush()
    assert mock.requests() == []


# ---- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize("call, field", [
    (lambda c: c.identify(traits={"a": 1}), "userId or anonymousId"),
    (lambda c: c.track(event="e"), "userId or anonymousId"),
    (lambda c: c.track("u"), "event"),
    (lambda c: c.page(name="p"), "userId or anonymousId"),
    (lambda c: c.alias(user_id="u"), "previousId"),
    (lambda c: c.alias("p"), "userId"),
    (lambda c: c.group("u"), "groupId"),
    (lambda c: c.identify("u", ["not", "a", "dict"]), "traits must be a JSON object"),
    (lambda c: c.track("u", "e", "props"), "properties must be a JSON object"),
    (lambda c: c.identify("u", context=["x"]), "context must be a JSON object"),
    (lambda c: c.identify("u", {"f": float("nan")}), "not JSON compliant"),
    (lambda c: c.identify("u", {"o": object()}), "not JSON serializable"),
    (lambda c: c.identify("u", timestamp=1700000000), "timestamp must be a datetime"),
    (lambda c: c.identify("u" * 200), "userId is longer than"),
    (lambda c: c.identify("bad\nid"), "control character"),
])
def test_invalid_messages_raise_and_nothing_is_sent(new_client, mock, call, field):
    c = new_client()
    with pytest.raises(ValidationError) as info:
        call(c)
    assert isinstance(info.value, AssertionError)  # what the official client raises
    assert field in str(info.value)
    c.flush()
    assert mock.requests() == []


def test_a_message_over_32_kb_raises(new_client, mock):
    c = new_client()
    with pytest.raises(MessageTooLargeError) as info:
        c.identify("u", {"blob": "x" * (33 * 1024)})
    assert isinstance(info.value, RuntimeError)  # what the official client raises
    assert "32768" in str(info.value)
    ok, _ = c.identify("u", {"blob": "x" * (31 * 1024)})
    assert ok
    c.flush()
    assert len(delivered(mock)) == 1


def test_write_key_is_required_or_read_from_the_environment(mock, monkeypatch):
    monkeypatch.delenv("CUSTOMERIO_CDP_API_KEY", raising=False)
    with pytest.raises(AssertionError):
        Client()
    with pytest.raises(ValidationError):
        Client("   ")
    monkeypatch.setenv("CUSTOMERIO_CDP_API_KEY", CDP_API_KEY)
    c = Client(host=mock.url, sync_mode=True)
    c.track("u", "e")
    assert mock.only()["headers"]["authorization"] == BASIC
    c.shutdown()


@pytest.mark.parametrize("proxies", [
    {"http": "{mock}"},
    {"http://customerio.invalid": "{mock}", "http": "http://127.0.0.1:1"},
    {"all": "{mock}"},
])
def test_proxies_send_requests_through_the_proxy(mock, proxies):
    # The official client hands proxies to requests; ours picks the same entry (requests'
    # order) as libcustomerio's proxy option. The emulator stands in for the proxy: it logs
    # the absolute-form target a proxy is sent, naming a host that does not resolve.
    proxies = {k: v.format(mock=mock.url) for k, v in proxies.items()}
    c = Client(CDP_API_KEY, host="http://customerio.invalid", proxies=proxies, sync_mode=True,
               max_retries=0)
    with pytest.raises(APIError):
        c.track("u", "e")  # the emulator answers an absolute-form target 404
    assert mock.only()["path"] == "http://customerio.invalid/v1/batch"
    c.shutdown()


def test_proxies_without_an_entry_for_the_host_leave_the_environment_in_charge(mock):
    c = Client(CDP_API_KEY, host=mock.url, proxies={"https": "http://127.0.0.1:1"},
               sync_mode=True)
    c.track("u", "e")
    assert mock.only()["path"] == "/v1/batch"
    c.shutdown()


def test_strict_mode_header_by_default_and_none_when_turned_off(mock, new_client):
    # libcustomerio's cdp_permissive (client options version 3), reached through strict_mode.
    for kwargs, expected in (({}, "1"), ({"strict_mode": True}, "1"),
                             ({"strict_mode": False}, None)):
        mock.clear()
        queued = new_client(**kwargs)
        queued.track("u", "e")
        queued.flush()
        sync = new_client(sync_mode=True, **kwargs)
        sync.track("u", "e")
        reqs = mock.requests()
        assert len(reqs) == 2
        assert [r["headers"].get("x-strict-mode") for r in reqs] == [expected, expected], kwargs


def test_strict_mode_module_setting(mock, module_settings):
    module_settings.write_key = CDP_API_KEY
    module_settings.host = mock.url
    module_settings.sync_mode = True
    module_settings.strict_mode = False
    module_settings.track("u", "e")
    assert "x-strict-mode" not in mock.only()["headers"]


def test_a_key_read_from_a_file_keeps_no_newline(mock):
    c = Client(CDP_API_KEY + "\n", host=mock.url, sync_mode=True)
    c.track("u", "e")
    assert mock.only()["headers"]["authorization"] == BASIC
    c.shutdown()


def test_a_bad_host_is_refused_at_construction():
    with pytest.raises(ValidationError, match="cdp_url"):
        Client("k", host="cdp.customer.io")


# ---- the module-level API, as the official README uses it ----------------------------------


def test_module_level_usage(module_settings, mock):
    analytics.write_key = CDP_API_KEY
    analytics.host = mock.url
    ok, msg = analytics.identify("u7", {"email": "u7@example.com"})
    assert ok and msg["userId"] == "u7"
    ok, _ = analytics.track(user_id=4, event="order_complete")
    assert ok
    analytics.page("u7", name="Docs")
    analytics.screen("u7", name="Home")
    analytics.group("u7", "acme")
    analytics.alias("u7-old", "u7")
    assert analytics.flush() is None
    assert [(m["type"], m.get("userId")) for m in delivered(mock)] == [
        ("identify", "u7"), ("track", "4"), ("page", "u7"), ("screen", "u7"), ("group", "u7"),
        ("alias", "u7")]
    assert isinstance(analytics.default_client, Client)
    assert analytics.default_client.write_key == CDP_API_KEY
    analytics.shutdown()
    with pytest.raises(DeliveryError, match="shut down"):
        analytics.track("u7", "late")


def test_module_settings_reach_the_default_client(module_settings, mock):
    errors = Errors()
    analytics.write_key = CDP_API_KEY
    analytics.host = mock.url
    analytics.sync_mode = True
    analytics.on_error = errors
    analytics.debug = True
    analytics.track("u", "e")
    assert len(mock.requests()) == 1  # sent before flush: sync_mode
    c = analytics.default_client
    assert (c.sync_mode, c.on_error, c.debug, c.host) == (True, errors, True, mock.url)


# ---- failures ------------------------------------------------------------------------------


def test_on_error_gets_api_error_and_the_message_on_a_400(new_client, mock):
    # A batch refused with 400 is split in halves until each refused message stands alone
    # (libcustomerio's pipeline: one bad message never takes its neighbours with it), so every
    # message refused here is reported by itself; 2n - 1 requests for n messages, none retried.
    errors = Errors()
    c = new_client(on_error=errors)
    mock.fault(count=5, status=400, body={"code": "invalid_request", "message": "nope"})
    sent = [c.track("u{}".format(i), "e")[1] for i in range(3)]
    c.flush()
    assert len(errors.calls) == 3
    for error, batch in errors.calls:
        assert isinstance(error, APIError)
        assert (error.status, error.code) == (400, "invalid_request")
        assert str(error).startswith("[customer.io] invalid_request: ")
        assert str(error).endswith(" (400)")
        assert len(batch) == 1
    reported = sorted(batch[0]["messageId"] for _, batch in errors.calls)
    assert reported == sorted(m["messageId"] for m in sent)
    assert len(mock.requests()) == 5


def test_a_400_batch_is_split_and_only_the_refused_message_fails(new_client, mock):
    errors = Errors()
    c = new_client(on_error=errors)
    mock.fault(count=1, status=400, body={"code": "invalid_request", "message": "nope"})
    [c.track("u{}".format(i), "e") for i in range(3)]
    c.flush()
    # the first request (all three) is refused; its halves are accepted
    assert errors.calls == []
    assert sorted(m["userId"] for m in delivered(mock)) == ["u0", "u1", "u2"]


def test_n_messages_n_distinct_message_ids_under_500s(new_client, mock):
    errors = Errors()
    c = new_client(on_error=errors, upload_size=50)
    mock.fault(count=3, status=500)
    ids = {c.track("u{}".format(i), "e", {"n": i})[1]["messageId"] for i in range(300)}
    c.flush()
    assert errors.calls == []
    out = delivered(mock)
    assert len(out) == 300
    assert {m["messageId"] for m in out} == ids
    assert sorted(m["properties"]["n"] for m in out) == list(range(300))
    assert any(r["status"] == 500 for r in mock.requests())


def test_429_retry_after_and_resets_are_retried(new_client, mock):
    errors = Errors()
    c = new_client(on_error=errors)
    mock.fault(count=1, status=429, retry_after="1")
    mock.fault(count=1, action="reset")
    start = time.monotonic()
    ids = {c.track("u{}".format(i), "e")[1]["messageId"] for i in range(5)}
    c.flush()
    assert time.monotonic() - start >= 0.9, "Retry-After: 1 was not honoured"
    assert errors.calls == []
    assert {m["messageId"] for m in delivered(mock)} == ids
    assert [r["status"] for r in mock.requests()][0] == 429


def test_max_retries_bounds_the_attempts_then_reports(new_client, mock):
    errors = Errors()
    c = new_client(on_error=errors, max_retries=1)
    mock.fault(count=10, status=503)
    _, msg = c.track("u", "e")
    c.flush()
    assert len(mock.requests()) == 2
    assert len(errors.calls) == 1
    error, batch = errors.calls[0]
    assert isinstance(error, APIError) and error.status == 503
    assert batch == [msg]


def test_failures_without_on_error_are_logged(new_client, mock, caplog):
    c = new_client()
    mock.fault(count=1, status=400, body={"code": "invalid_request", "message": "nope"})
    c.track("u", "e")
    c.flush()
    assert any("error uploading" in r.getMessage() and r.levelname == "ERROR"
               for r in caplog.records)


def test_a_full_queue_raises_instead_of_dropping(new_client, mock):
    c = new_client(max_queue_size=2, upload_interval=60)
    c.track("u1", "e")
    c.track("u2", "e")
    with pytest.raises(QueueFullError, match="full"):
        c.track("u3", "e")
    c.flush()
    assert c.track("u3", "e")[0]
    c.flush()
    assert [m["userId"] for m in delivered(mock)] == ["u1", "u2", "u3"]


def test_upload_size_caps_messages_per_request(new_client, mock):
    c = new_client(upload_size=10, upload_interval=60)
    for i in range(25):
        c.identify("u{}".format(i))
    c.flush()
    assert [len(body(r)["batch"]) for r in mock.requests()] == [10, 10, 5]


# ---- modes ---------------------------------------------------------------------------------


def test_sync_mode_sends_each_call_and_raises_api_error(new_client, mock):
    c = new_client(sync_mode=True, max_retries=0)
    ok, msg = c.identify("u1", {"a": 1})
    assert ok
    req = mock.only()
    assert (req["path"], req["status"]) == ("/v1/batch", 200)
    assert body(req)["batch"] == [msg]
    mock.clear()
    mock.fault(count=1, status=400, body={"code": "invalid_request", "message": "nope"})
    with pytest.raises(APIError) as info:
        c.track("u1", "e")
    assert (info.value.status, info.value.code, info.value.message) == (
        400, "invalid_request", "nope")
    assert c.stats() == {}
    nowhere = Client(CDP_API_KEY, host="http://127.0.0.1:1", sync_mode=True, max_retries=0)
    with pytest.raises(DeliveryError) as refused:
        nowhere.track("u1", "e")
    assert refused.value.status is None and refused.value.code == "network error"
    nowhere.shutdown()


def test_sync_mode_retries_5xx(new_client, mock):
    c = new_client(sync_mode=True, max_retries=2)
    mock.fault(count=2, status=502)
    assert c.track("u", "e")[0]
    assert [r["status"] for r in mock.requests()] == [502, 502, 200]


def test_send_false_validates_and_sends_nothing(new_client, mock):
    c = new_client(send=False)
    ok, msg = c.track("u", "e")
    assert ok and ULID.match(msg["messageId"])
    with pytest.raises(ValidationError):
        c.track("u")
    c.flush()
    c.shutdown()
    assert mock.requests() == []


def test_debug_send_and_sync_mode_can_change_on_a_live_client(new_client, mock, caplog):
    c = new_client(upload_interval=60)  # what is queued leaves at flush()
    c.send = False  # as with the official client: from now on nothing is sent
    ok, msg = c.track("u", "not sent")
    assert ok and msg["event"] == "not sent"
    c.send = True
    c.debug = True
    with caplog.at_level("DEBUG", logger="customerio_native.analytics"):
        c.identify("u", {"a": 1})
    assert any("queued" in r.getMessage() and "'a': 1" in r.getMessage() for r in caplog.records)
    c.debug = False
    c.sync_mode = True  # sent at once, in its own request
    c.track("u", "now")
    assert [body(r)["batch"][0]["event"] for r in mock.requests()] == ["now"]
    c.sync_mode = False
    c.track("u", "queued")
    c.flush()
    assert [m.get("event") for m in delivered(mock)] == ["now", None, "queued"]


def test_a_client_made_before_fork_works_in_the_child(new_client, mock):
    # Pre-forking servers (gunicorn --preload, celery) fork after the client is made: the child
    # gets a pipeline of its own; what the parent had queued is delivered once, by the parent.
    c = new_client(upload_interval=60)
    c.track("u", "queued-before-fork")

    def child() -> None:
        c.track("u", "from-child")
        c.flush()
        assert c.stats().get("delivered") == 1

    assert in_forked_child(child) == 0
    c.track("u", "from-parent")
    c.flush()
    assert sorted(m["event"] for m in delivered(mock)) == [
        "from-child", "from-parent", "queued-before-fork"]


def test_shutdown_delivers_everything_then_refuses(new_client, mock):
    c = new_client(upload_interval=60)
    ids = {c.track("u{}".format(i), "e")[1]["messageId"] for i in range(1000)}
    c.shutdown()
    assert {m["messageId"] for m in delivered(mock)} == ids
    with pytest.raises(DeliveryError):
        c.track("u", "e")
    c.shutdown()  # idempotent


def test_exit_delivers_what_was_queued_without_flush(mock):
    # The official client loses its queue at exit unless flush() was called.
    script = textwrap.dedent("""
        import sys
        from customerio_native import analytics
        analytics.write_key = sys.argv[1]
        analytics.host = sys.argv[2]
        for i in range(20):
            analytics.track("u%d" % i, "bye")
    """)
    subprocess.run([sys.executable, "-c", script, CDP_API_KEY, mock.url], check=True,
                   timeout=60)
    assert sorted(m["userId"] for m in delivered(mock)) == sorted(
        "u%d" % i for i in range(20))


def test_region_prefixed_key_is_sent_as_bearer():
    key = "sk_us_" + "a" * 32 + "_abcdef"
    with run_mock(cdp_api_key=key) as m:
        c = Client(key, host=m.url, sync_mode=True)
        c.track("u", "e")
        req = m.only()
        assert req["headers"]["authorization"] == "Bearer " + key
        assert req["status"] == 200
        c.shutdown()


def test_region_key_sent_to_the_other_regions_host_warns(caplog):
    key = "sk_eu_" + "a" * 32 + "_abcdef"
    Client(key, host="https://cdp.customer.io/", send=False)
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "EU API key is being sent to the US host https://cdp.customer.io"]


# ---- the official README, with only the import changed -------------------------------------

# customerio-cdp-analytics' README, "Usage" and "Other Regions".
OFFICIAL_USAGE = """
from customerio import analytics

analytics.write_key = 'YOUR_WRITE_KEY'

analytics.track(user_id=4, event='order_complete')
"""

OFFICIAL_OTHER_REGIONS = """
from customerio import analytics

analytics.write_key = 'YOUR_WRITE_KEY'
analytics.host = 'https://cdp-eu.customer.io'

analytics.track(user_id=4, event='order_complete')
"""


def swapped(source: str) -> str:
    return textwrap.dedent(source).replace("from customerio import analytics",
                                           "from customerio_native import analytics")


@pytest.mark.parametrize("answer,code,message", [
    ('{"code":"invalid_request","message":"userId is too long"}',  # the Pipelines API's shape
     "invalid_request", "userId is too long"),
    ('{"meta":{"error":"customer not found"}}', "unknown", "customer not found"),  # the App API's
    ('{"errors":[{"reason":"invalid","field":"userId"}]}', "unknown", "invalid"),  # Track v2's
])
def test_api_error_code_and_message_come_from_the_answer(new_client, mock, answer, code, message):
    # Read by libcustomerio (cio_error_t.server_code / server_message), not by the package.
    c = new_client(sync_mode=True, max_retries=0)
    mock.fault(count=1, status=400, body=answer)
    with pytest.raises(APIError) as info:
        c.track("u1", "e")
    assert (info.value.status, info.value.code, info.value.message) == (400, code, message)
    assert info.value.body == answer


def test_api_error_without_a_readable_answer_keeps_the_sentence(new_client, mock):
    c = new_client(sync_mode=True, max_retries=0)
    mock.fault(count=1, status=400, body="not json")
    with pytest.raises(APIError) as info:
        c.track("u1", "e")
    assert (info.value.status, info.value.code, info.value.body) == (400, "unknown", "not json")
    assert info.value.message.startswith("cdp_batch: HTTP 400")


def test_official_usage_runs_unchanged(module_settings, mock):
    # Verbatim, placeholder key included: the emulator (standing in for cdp.customer.io through
    # the host setting) refuses it with 401, which on_error reports.
    errors = Errors()
    analytics.host = mock.url
    analytics.on_error = errors
    exec(compile(swapped(OFFICIAL_USAGE), "official_usage", "exec"), {})
    analytics.flush()
    req = mock.only()
    assert req["headers"]["authorization"] == "Basic " + base64.b64encode(
        b"YOUR_WRITE_KEY:").decode()
    assert req["status"] == 401
    [(error, batch)] = errors.calls
    assert isinstance(error, APIError) and error.status == 401
    assert strip_completed(batch[0]) == {"type": "track", "userId": "4",
                                         "event": "order_complete", "properties": {},
                                         "integrations": {}}


def test_official_other_regions_with_a_real_key(module_settings, mock):
    source = swapped(OFFICIAL_OTHER_REGIONS).replace("'YOUR_WRITE_KEY'", repr(CDP_API_KEY))
    source = source.replace("'https://cdp-eu.customer.io'", repr(mock.url))
    exec(compile(source, "official_other_regions", "exec"), {})
    analytics.flush()
    req = mock.only()
    assert (req["path"], req["status"]) == ("/v1/batch", 200)
    assert [(m["userId"], m["event"]) for m in body(req)["batch"]] == [("4", "order_complete")]


def test_readme_switch_example_is_the_official_usage_with_the_import_changed():
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Switch from customerio-cdp-analytics\n", 1)[1].split("\n#", 1)[0]
    example = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    assert example.strip() == swapped(OFFICIAL_USAGE).strip()


def test_official_submodule_imports_have_a_counterpart():
    from customerio_native.analytics.client import Client as C
    from customerio_native.analytics.request import APIError as E
    from customerio_native.analytics.version import VERSION

    assert (C, E) == (Client, APIError)
    assert VERSION == analytics.VERSION
    assert json.loads(json.dumps({"v": VERSION}))
