"""Reporting webhooks: async-customerio's validate_signature, and verify/sign/parse/dedup."""

from __future__ import annotations

import time

import pytest

import customerio_native as cio

webhooks = pytest.importorskip("customerio_native.webhooks")

KEY = "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa"
TS = 1692633432
BODY = b'{"key": "value"}'
SIG = "d7c655389bb364d3e8bdbb6ec18a7f1b6cf91f39bba647554ada78aa61de37b9"


def test_validate_signature_vector():
    assert cio.validate_signature(signing_key=KEY, timestamp=TS, request_body=BODY,
                                  signature=SIG) is True
    assert cio.validate_signature(KEY, str(TS), BODY, "v0=" + SIG) is True
    assert cio.validate_signature(KEY, TS, BODY, SIG.upper()) is True


@pytest.mark.parametrize("what", ["key", "timestamp", "body", "signature"])
def test_any_flipped_byte_fails(what):
    key, ts, body, sig = KEY, str(TS), BODY, SIG
    for i in range(0, 64 if what != "timestamp" else len(ts), 7):
        if what == "key":
            key = KEY[:i] + ("0" if KEY[i] != "0" else "1") + KEY[i + 1:]
        elif what == "timestamp":
            ts = str(TS)[:i] + ("0" if str(TS)[i] != "0" else "1") + str(TS)[i + 1:]
        elif what == "body":
            j = i % len(BODY)
            body = BODY[:j] + bytes([BODY[j] ^ 1]) + BODY[j + 1:]
        else:
            sig = SIG[:i] + ("0" if SIG[i] != "0" else "1") + SIG[i + 1:]
        assert cio.validate_signature(key, ts, body, sig) is False


def test_malformed_headers_are_false_not_errors():
    assert cio.validate_signature(KEY, "not-a-time", BODY, SIG) is False
    assert cio.validate_signature(KEY, TS, BODY, "zz") is False
    assert cio.validate_signature("", TS, BODY, SIG) is False


def test_verify_and_sign():
    assert webhooks.sign(KEY, TS, BODY) == SIG
    webhooks.verify(KEY, TS, BODY, SIG, tolerance=0)
    with pytest.raises(webhooks.WebhookError) as info:
        webhooks.verify(KEY, TS, BODY, SIG)  # 2023: far outside five minutes
    assert info.value.code_name == "stale timestamp"
    now = int(time.time())
    webhooks.verify(KEY, now, BODY, webhooks.sign(KEY, now, BODY))
    with pytest.raises(webhooks.WebhookError) as info:
        webhooks.verify(KEY, TS, BODY + b" ", SIG, tolerance=0)
    assert info.value.code_name == "signature mismatch"
    assert KEY not in str(info.value)


def test_body_with_nul_bytes_and_str():
    body = b"a\x00b"
    assert webhooks.validate_signature(KEY, TS, body, webhooks.sign(KEY, TS, body))
    assert webhooks.sign(KEY, TS, BODY.decode()) == SIG


def test_parse():
    events = webhooks.parse(b'{"events":[{"event_id":"e1","object_type":"email",'
                            b'"metric":"opened","timestamp":1700000000,'
                            b'"data":{"delivery_id":"d1","customer_id":"42"}},'
                            b'{"event_id":"e2","object_type":"carrier_pigeon",'
                            b'"metric":"landed","timestamp":1,"extra":true}]}')
    first, second = events
    assert first.event_id == "e1" and first.metric == "opened"
    assert first.delivery_id == "d1"
    assert first.data == {"delivery_id": "d1", "customer_id": "42"}
    assert (second.object_type, second.metric, second.data) == ("carrier_pigeon", "landed", {})
    assert second.raw["extra"] is True


def test_parse_errors_name_the_field():
    with pytest.raises(webhooks.WebhookError, match="event_id"):
        webhooks.parse(b'{"object_type":"email","metric":"opened","timestamp":1}')
    with pytest.raises(webhooks.WebhookError, match="not JSON"):
        webhooks.parse(b"{nope")


def test_deduplicator():
    d = webhooks.Deduplicator(capacity=2, ttl_seconds=0)
    assert d.seen("a") is False
    assert d.seen("a") is True
    d.seen("b")
    d.seen("c")  # evicts "a"
    assert len(d) == 2
    assert d.seen("a") is False
    d.close()
