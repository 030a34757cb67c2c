"""webhooks.handle: verify + parse + de-duplicate from the headers and raw body that WSGI and
ASGI frameworks hand over (the cryptography and parsing are the C core's)."""

import time

import pytest

from customerio_native import webhooks

KEY = "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa"
BODY = (b'{"event_id":"01HX","object_type":"email","metric":"opened","timestamp":1700000000,'
        b'"delivery_id":"d1","data":{"customer_id":"42"}}')


def signed():
    ts = str(int(time.time()))
    return ts, webhooks.sign(KEY, ts, BODY)


def test_mapping_headers_any_case():
    ts, sig = signed()
    events = webhooks.handle(KEY, {"x-cio-timestamp": ts, "X-CIO-SIGNATURE": sig}, BODY)
    assert [e.metric for e in events] == ["opened"]
    assert events[0].delivery_id == "d1"


def test_wsgi_environ():
    ts, sig = signed()
    environ = {"HTTP_X_CIO_TIMESTAMP": ts, "HTTP_X_CIO_SIGNATURE": "v0=" + sig,
               "REQUEST_METHOD": "POST"}
    assert webhooks.handle(KEY, environ, BODY)[0].event_id == "01HX"


def test_asgi_scope_headers():
    ts, sig = signed()
    scope_headers = [(b"content-type", b"application/json"), (b"x-cio-timestamp", ts.encode()),
                     (b"x-cio-signature", sig.encode())]
    assert len(webhooks.handle(KEY, scope_headers, BODY)) == 1


def test_redelivery_is_dropped_by_the_deduplicator():
    ts, sig = signed()
    dedup = webhooks.Deduplicator(capacity=10, ttl_seconds=60)
    headers = {"X-CIO-Timestamp": ts, "X-CIO-Signature": sig}
    assert len(webhooks.handle(KEY, headers, BODY, deduplicator=dedup)) == 1
    assert webhooks.handle(KEY, headers, BODY, deduplicator=dedup) == []
    dedup.close()


def test_missing_header_bad_signature_stale_and_malformed_raise():
    ts, sig = signed()
    with pytest.raises(webhooks.WebhookError, match="X-CIO-Signature"):
        webhooks.handle(KEY, {"X-CIO-Timestamp": ts}, BODY)
    with pytest.raises(webhooks.WebhookError):
        webhooks.handle(KEY, {"X-CIO-Timestamp": ts, "X-CIO-Signature": "0" * 64}, BODY)
    old = "1692633432"
    with pytest.raises(webhooks.WebhookError):
        webhooks.handle(KEY, {"X-CIO-Timestamp": old,
                              "X-CIO-Signature": webhooks.sign(KEY, old, BODY)}, BODY)
    bad = b"not json"
    with pytest.raises(webhooks.WebhookError):
        webhooks.handle(KEY, {"X-CIO-Timestamp": ts,
                              "X-CIO-Signature": webhooks.sign(KEY, ts, bad)}, bad)
