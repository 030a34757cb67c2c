"""APIClient (customerio 3.x) and AsyncAPIClient (async-customerio 2.x) on libcustomerio's App
API: the bytes on the wire, attachments, errors and the answers returned."""

from __future__ import annotations

import asyncio
import base64
import json
from urllib.parse import parse_qs

import pytest

import customerio_native as cio
from conftest import API_KEY, APP_API_KEY, SITE_ID, body


@pytest.fixture
def api(mock):
    c = cio.APIClient(APP_API_KEY, url=mock.url, backoff_factor=0.001)
    yield c
    c.close()


@pytest.fixture
async def aapi(mock):
    c = cio.AsyncAPIClient(APP_API_KEY, url=mock.url)
    yield c
    await c.close()


def query(req):
    return {k: v[0] for k, v in parse_qs(req["query"]).items()}


def check_send(req, path, expected_body):
    assert (req["method"], req["path"]) == ("POST", path)
    assert req["headers"]["authorization"] == "Bearer " + APP_API_KEY
    assert req["headers"]["content-type"].startswith("application/json")
    assert body(req) == expected_body


# ---- sends, sync ------------------------------------------------------------------------------


def test_send_email_wire_and_answer(api, mock):
    request = cio.SendEmailRequest(
        transactional_message_id=3,
        to="ann@example.com",
        identifiers={"id": "42"},
        _from="shop@example.com",
        subject="Your order",
        message_data={"total": "9.90", "items": [1, 2]},
        send_to_unsubscribed=False,
        disable_css_preproceessing=True,
    )
    answer = api.send_email(request)
    req = mock.only()
    check_send(req, "/v1/send/email", {
        "transactional_message_id": 3, "to": "ann@example.com", "identifiers": {"id": "42"},
        "from": "shop@example.com", "subject": "Your order",
        "message_data": {"total": "9.90", "items": [1, 2]}, "send_to_unsubscribed": False,
        "disable_css_preprocessing": True,
    })
    assert set(answer) == {"delivery_id", "queued_at"}
    assert isinstance(answer["queued_at"], int)


def test_attachments_are_raw_bytes_base64_encoded_by_the_core(api, mock):
    pdf = bytes(range(256)) * 3 + b"\x00end"
    request = cio.SendEmailRequest(transactional_message_id="welcome",
                                   identifiers={"email": "ann@example.com"})
    request.attach("invoice.pdf", pdf)
    request.attach("notes.txt", "héllo")                          # str: its UTF-8 bytes
    request.attach("pre.bin", base64.b64encode(b"\x01\x02").decode(), encode=False)
    with pytest.raises(cio.CustomerIOException, match="attachment invoice.pdf already exists"):
        request.attach("invoice.pdf", b"again")
    api.send_email(request)
    sent = body(mock.only())["attachments"]
    assert sent == {
        "invoice.pdf": base64.b64encode(pdf).decode(),
        "notes.txt": base64.b64encode("héllo".encode()).decode(),
        "pre.bin": "AQI=",
    }
    # The official _to_dict() shape: attachments base64 text.
    assert request._to_dict()["attachments"] == sent
    # async-customerio's to_dict(): the same, with its explicit defaults written.
    assert request.to_dict() == dict(request._to_dict(), disable_message_retention=False,
                                     send_to_unsubscribed=True, tracked=True, queue_draft=False,
                                     disable_css_preprocessing=False)


def test_attach_encode_false_rejects_bad_base64():
    request = cio.SendEmailRequest()
    with pytest.raises(cio.RequestError, match="not valid base64"):
        request.attach("x", "not base64!", encode=False)
    with pytest.raises(cio.AsyncCustomerIOError):  # one class for both official hierarchies
        request.attach("x", "%%%", encode=False)


def test_dict_request_and_pre_encoded_attachments(api, mock):
    api.send_email({"transactional_message_id": 1, "identifiers": {"id": "1"},
                    "attachments": {"a.txt": "aGk=", "b.bin": b"\x00\xff"}})
    assert body(mock.only())["attachments"] == {"a.txt": "aGk=", "b.bin": "AP8="}


def test_every_send_type(api, mock):
    ids = {"id": "7"}
    api.send_push(cio.SendPushRequest(transactional_message_id=2, identifiers=ids, title="Hi",
                                      device={"token": "t", "platform": "ios"}))
    api.send_push(cio.SendPushRequest(transactional_message_id=2, identifiers=ids,
                                      custom_device={"token": "u", "platform": "android"}))
    sms = cio.SendSMSRequest(transactional_message_id=4, identifiers=ids, to="+15551234567",
                             _from="+15550000000")
    sms.attach("a.txt", b"x")
    api.send_sms(sms)
    api.send_inbox_message(cio.SendInboxMessageRequest(transactional_message_id=5,
                                                       identifiers=ids, message_data={"a": 1}))
    api.send_in_app(cio.SendInAppRequest(transactional_message_id=6, identifiers=ids))
    api.send_whatsapp(cio.SendWhatsAppRequest(transactional_message_id=7, identifiers=ids,
                                              to="+15551234567"))
    reqs = mock.requests()
    assert [r["path"] for r in reqs] == [
        "/v1/send/push", "/v1/send/push", "/v1/send/sms", "/v1/send/inbox_message",
        "/v1/send/in_app", "/v1/send/whatsapp"]
    assert body(reqs[0]) == {"transactional_message_id": 2, "identifiers": ids, "title": "Hi",
                             "custom_device": {"token": "t", "platform": "ios"}}
    assert body(reqs[1])["custom_device"] == {"token": "u", "platform": "android"}
    assert body(reqs[2]) == {"transactional_message_id": 4, "identifiers": ids,
                             "to": "+15551234567", "from": "+15550000000",
                             "attachments": {"a.txt": "eA=="}}
    assert body(reqs[3]) == {"transactional_message_id": 5, "identifiers": ids,
                             "message_data": {"a": 1}}
    assert all(r["status"] == 200 for r in reqs)


def test_trigger_broadcast(api, mock):
    answer = api.trigger_broadcast(12, {"headline": "Sale"}, ids=["1", "2"],
                                   id_ignore_missing=True)
    req = mock.only()
    assert (req["method"], req["path"]) == ("POST", "/v1/campaigns/12/triggers")
    assert body(req) == {"data": {"headline": "Sale"}, "ids": ["1", "2"],
                         "id_ignore_missing": True}
    assert "id" in answer


def test_validation_error_sends_nothing(api, mock):
    with pytest.raises(cio.CustomerIOException, match="identifiers") as info:
        api.send_email(cio.SendEmailRequest(transactional_message_id=1,
                                            identifiers={"id": "1", "email": "a@b.c"}))
    assert info.value.status is None and info.value.attempts == 0
    with pytest.raises(cio.CustomerIOException, match="invalid request"):
        api.send_email(42)
    with pytest.raises(cio.CustomerIOException, match="takes no attachments"):
        api.send_push({"transactional_message_id": 1, "identifiers": {"id": "1"},
                       "attachments": {"a": b"x"}})
    assert mock.requests() == []


@pytest.mark.parametrize("status", [400, 401, 404])
def test_http_errors(mock, status):
    mock.fault(count=5, status=status, body='{"meta":{"error":"nope"}}')
    with cio.APIClient(APP_API_KEY, url=mock.url, retries=2) as api:
        with pytest.raises(cio.CustomerIOException) as info:
            api.send_email(cio.SendEmailRequest(transactional_message_id=1,
                                                identifiers={"id": "1"}))
    err = info.value
    assert err.status == status
    assert err.body == '{"meta":{"error":"nope"}}'
    assert err.attempts == 1  # 4xx are not retried
    assert err.message.startswith("send_email: ")
    assert len(mock.requests()) == 1


@pytest.mark.parametrize("answer,code,message", [
    ('{"meta":{"error":"customer not found"}}', None, "customer not found"),
    ('{"code":"invalid_request","message":"bad id"}', "invalid_request", "bad id"),
    ('{"errors":[{"message":"name is required","reason":"required"}]}', None, "name is required"),
    ("not json", None, None),
])
def test_errors_carry_what_the_answer_says(mock, answer, code, message):
    # Read once by libcustomerio (cio_error_t.server_code / server_message) for every binding.
    mock.fault(count=1, status=400, body=answer)
    with cio.APIClient(APP_API_KEY, url=mock.url) as api:
        with pytest.raises(cio.CustomerIOException) as info:
            api.send_email(cio.SendEmailRequest(transactional_message_id=1,
                                                identifiers={"id": "1"}))
    assert (info.value.status, info.value.body) == (400, answer)
    assert (info.value.server_code, info.value.server_message) == (code, message)


def test_wrong_key_is_401(mock):
    with cio.APIClient("wrong-key", url=mock.url) as api:
        with pytest.raises(cio.CustomerIOException) as info:
            api.segments.list()
    assert info.value.status == 401
    assert "wrong-key" not in str(info.value)


def test_retry_500_then_answer(api, mock):
    mock.fault(count=1, status=500)
    assert "delivery_id" in api.send_in_app({"transactional_message_id": 1,
                                             "identifiers": {"id": "1"}})
    assert [r["status"] for r in mock.requests()] == [500, 200]


# ---- reads, sync ------------------------------------------------------------------------------


def test_customers_reads(api, mock):
    with cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port) as track:
        track.identify("p/1", email="p1@example.com", vip=True)
    mock.clear()
    got = api.customers.get_attributes("p/1")
    assert got["customer"]["attributes"]["email"] == "p1@example.com"
    assert api.customers.get_by_email("p1@example.com")["results"][0]["id"] == "p/1"
    assert "customers" in api.customers.get_by_ids(["p/1", 2])
    found = api.customers.search({"attribute": {"field": "vip", "operator": "eq",
                                                "value": "true"}}, limit=10)
    assert "ids" in found
    api.customers.get_segments("p1@example.com", id_type="email")
    api.customers.get_messages("p/1", start_ts=1700000000, limit=5)
    api.customers.get_activities("p/1", type="event", name="x")
    api.customers.get_relationships("p/1")
    api.customers.get_subscription_preferences("p/1", language="fr")
    reqs = mock.requests()
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("GET", "/v1/customers/p%2F1/attributes"),
        ("GET", "/v1/customers"),
        ("POST", "/v1/customers/attributes"),
        ("POST", "/v1/customers"),
        ("GET", "/v1/customers/p1%40example.com/segments"),
        ("GET", "/v1/customers/p%2F1/messages"),
        ("GET", "/v1/customers/p%2F1/activities"),
        ("GET", "/v1/customers/p%2F1/relationships"),
        ("GET", "/v1/customers/p%2F1/subscription_preferences"),
    ]
    assert query(reqs[0]) == {"id_type": "id"}
    assert query(reqs[1]) == {"email": "p1@example.com"}
    assert body(reqs[2]) == {"ids": ["p/1", "2"]}
    assert query(reqs[3]) == {"limit": "10"}
    assert query(reqs[4]) == {"id_type": "email"}
    assert query(reqs[5]) == {"id_type": "id", "limit": "5", "start_ts": "1700000000"}
    assert query(reqs[6]) == {"id_type": "id", "type": "event", "name": "x"}
    assert query(reqs[8]) == {"id_type": "id", "language": "fr"}
    with pytest.raises(cio.CustomerIOException, match="id_type"):
        api.customers.get_attributes("p/1", id_type="phone")


def test_unknown_customer_is_404(api):
    with pytest.raises(cio.CustomerIOException) as info:
        api.customers.get_attributes("nobody")
    assert info.value.status == 404 and info.value.code_name == "not found"


def test_segments(api, mock):
    assert [s["id"] for s in api.segments.list()["segments"]][:2] == [1, 2]
    created = api.segments.create("Manual", description="by test")["segment"]
    sid = created["id"]
    assert api.segments.get(sid)["segment"]["name"] == "Manual"
    assert "count" in api.segments.get_customer_count(sid)
    assert "ids" in api.segments.get_membership(1, limit=2)
    assert "used_by" in api.segments.get_used_by(1)
    assert api.segments.delete(sid) == {}
    reqs = mock.requests()
    assert body(reqs[1]) == {"segment": {"name": "Manual", "description": "by test"}}
    assert (reqs[-1]["method"], reqs[-1]["path"]) == ("DELETE", "/v1/segments/{}".format(sid))


def test_transactional(api, mock):
    assert [m["id"] for m in api.transactional.list()["messages"]] == [1, 2]
    assert api.transactional.get(1)["message"]["name"] == "Password reset"
    assert len(api.transactional.list_variants(1)["contents"]) == 2
    assert api.transactional.get_variant(1, "fr")["content"]["language"] == "fr"
    api.transactional.update_content(1, 11, subject="New", from_id=2)
    api.transactional.update_variant(1, "fr", body="<p>x</p>")
    api.transactional.get_metrics(1, period="days", steps=3)
    api.transactional.get_link_metrics(1, unique=True)
    api.transactional.get_deliveries(1, metric="sent", get_tracked_responses=True, limit=3)
    reqs = mock.requests()
    assert (reqs[4]["method"], reqs[4]["path"]) == ("PUT", "/v1/transactional/1/content/11")
    assert body(reqs[4]) == {"subject": "New", "from_id": 2}
    assert body(reqs[5]) == {"body": "<p>x</p>"}
    assert query(reqs[6]) == {"period": "days", "steps": "3"}
    assert query(reqs[7]) == {"unique": "true"}
    assert query(reqs[8]) == {"limit": "3", "metric": "sent", "get_tracked_responses": "true"}


# ---- async ------------------------------------------------------------------------------------


async def test_async_send_email_with_attachment(aapi, mock):
    request = cio.SendEmailRequest(transactional_message_id=3, identifiers={"cio_id": "c1"})
    request.attach("a.bin", b"\x00\x01\x02")
    answer = await aapi.send_email(request)
    assert set(answer) == {"delivery_id", "queued_at"}
    # with async-customerio's explicit defaults, as it sends them (its to_dict())
    check_send(mock.only(), "/v1/send/email", {"transactional_message_id": 3,
                                               "identifiers": {"cio_id": "c1"},
                                               "attachments": {"a.bin": "AAEC"},
                                               "disable_message_retention": False,
                                               "send_to_unsubscribed": True, "tracked": True,
                                               "queue_draft": False,
                                               "disable_css_preprocessing": False})


async def test_async_every_send_and_broadcast(aapi, mock):
    ids = {"id": "1"}
    await aapi.send_push(cio.SendPushRequest(transactional_message_id=2, identifiers=ids))
    await aapi.send_sms(cio.SendSMSRequest(transactional_message_id=2, identifiers=ids))
    await aapi.send_inbox_message(cio.SendInboxMessageRequest(transactional_message_id=2,
                                                              identifiers=ids))
    await aapi.send_in_app(cio.SendInAppRequest(transactional_message_id=2, identifiers=ids))
    await aapi.send_whatsapp(cio.SendWhatsAppRequest(transactional_message_id=2,
                                                     identifiers=ids))
    await aapi.trigger_broadcast("9", emails=["a@example.com"])
    assert [r["path"] for r in mock.requests()] == [
        "/v1/send/push", "/v1/send/sms", "/v1/send/inbox_message", "/v1/send/in_app",
        "/v1/send/whatsapp", "/v1/campaigns/9/triggers"]


async def test_async_many_concurrent_sends(aapi, mock):
    answers = await asyncio.gather(*(
        aapi.send_email({"transactional_message_id": 1, "identifiers": {"id": str(i)}})
        for i in range(200)))
    assert len({a["delivery_id"] for a in answers}) == 200
    assert len(mock.requests()) == 200


@pytest.mark.parametrize("status,retryable", [(400, False), (401, False), (404, False),
                                              (500, True)])
async def test_async_errors(mock, status, retryable):
    mock.fault(count=10, status=status, body='{"meta":{"error":"x"}}')
    async with cio.AsyncAPIClient(APP_API_KEY, url=mock.url, retries=0) as c:
        with pytest.raises(cio.BaseAsyncCustomerIOError) as info:
            await c.send_sms(cio.SendSMSRequest(transactional_message_id=1,
                                                identifiers={"id": "1"}))
    expected = cio.AsyncCustomerIORetryableError if retryable else cio.AsyncCustomerIOError
    assert type(info.value) is expected
    assert info.value.status == status
    assert info.value.body == '{"meta":{"error":"x"}}'


async def test_async_validation_error_raises_at_await(aapi, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match="identifiers"):
        await aapi.send_email({"transactional_message_id": 1})
    assert mock.requests() == []


async def test_async_groups(aapi, mock):
    assert (await aapi.segments.list())["segments"][0]["id"] == 1
    assert (await aapi.transactional.get(2))["message"]["id"] == 2
    with pytest.raises(cio.AsyncCustomerIOError) as info:
        await aapi.customers.get_attributes("ghost", id_type="email")
    assert info.value.status == 404
    await aapi.customers.get_by_email("x@example.com")
    await aapi.segments.get_membership(1, start="0", limit=1)
    await aapi.transactional.get_deliveries(1, state="sent")
    reqs = mock.requests()
    assert [r["path"] for r in reqs] == [
        "/v1/segments", "/v1/transactional/2", "/v1/customers/ghost/attributes",
        "/v1/customers", "/v1/segments/1/membership", "/v1/transactional/1/messages"]
    assert query(reqs[2]) == {"id_type": "email"}
    assert query(reqs[4]) == {"start": "0", "limit": "1"}
    assert query(reqs[5]) == {"state": "sent"}


# ---- official shapes --------------------------------------------------------------------------


def test_request_classes_keep_the_official_constructors():
    # customerio 3.x positional order
    email = cio.SendEmailRequest(1, "to@example.com", {"id": "1"}, "from@example.com")
    assert email._to_dict() == {"transactional_message_id": 1, "to": "to@example.com",
                                "identifiers": {"id": "1"}, "from": "from@example.com"}
    push = cio.SendPushRequest(2, "all", {"id": "1"}, "title", "message")
    assert push._to_dict() == {"transactional_message_id": 2, "to": "all",
                               "identifiers": {"id": "1"}, "title": "title",
                               "message": "message"}
    inbox = cio.SendInboxMessageRequest(3, {"email": "a@b.c"}, True)
    assert inbox.to_dict() == {"transactional_message_id": 3, "identifiers": {"email": "a@b.c"},
                               "disable_message_retention": True, "queue_draft": False}
    assert json.loads(json.dumps(email._to_dict()))  # plain JSON types


def test_api_client_defaults_and_env(monkeypatch, mock):
    c = cio.APIClient("k")
    assert c.url == "https://api.customer.io"
    c.close()
    c = cio.APIClient("k", region=cio.Regions.EU)
    assert c.url == "https://api-eu.customer.io"
    c.close()
    with pytest.raises(cio.CustomerIOException, match="invalid region"):
        cio.APIClient("k", region="eu")
    monkeypatch.setenv("CUSTOMERIO_APP_API_KEY", APP_API_KEY)
    with cio.APIClient(url=mock.url + "/") as c:
        c.segments.list()
    assert mock.only()["headers"]["authorization"] == "Bearer " + APP_API_KEY


# Written against the official packages (the README usage of customerio 3.x and the API of
# async-customerio 2.x); only the import differs, and the emulator's URL is passed as `url`.
OFFICIAL_APP = '''
from customerio import APIClient, Regions, SendEmailRequest, SendPushRequest, CustomerIOException

api = APIClient(app_key, url=url, region=Regions.US)
request = SendEmailRequest(
    to="person@example.com",
    _from="override-templated-address@example.com",
    transactional_message_id="3",
    message_data={"password_reset_token": "abcde-12345-fghij-d888", "account_id": "123dj"},
    identifiers={"id": "2"},
)
request.attach("receipt.pdf", b"%PDF-1.4 binary \\x00\\x01")
email_response = api.send_email(request)
push_response = api.send_push(SendPushRequest(transactional_message_id="3",
                                              identifiers={"id": "2"}, title="Hi"))
try:
    api.send_email(SendEmailRequest(transactional_message_id="3"))
except CustomerIOException as e:
    caught = str(e)
'''

OFFICIAL_ASYNC_APP = '''
from async_customerio import AsyncAPIClient, SendEmailRequest, Regions

async def main():
    async with AsyncAPIClient(app_key, url=url, region=Regions.US) as client:
        answer = await client.send_email(SendEmailRequest(transactional_message_id=1,
                                                          identifiers={"email": "a@b.c"}))
        segments = await client.segments.list()
        count = await client.segments.get_customer_count(1)
        return answer, segments, count
'''


def test_official_app_code_runs_unchanged(mock):
    source = OFFICIAL_APP.replace("from customerio import", "from customerio_native import")
    scope = {"app_key": APP_API_KEY, "url": mock.url}
    exec(compile(source, "official_app", "exec"), scope)
    assert set(scope["email_response"]) == {"delivery_id", "queued_at"}
    assert "delivery_id" in scope["push_response"]
    assert "identifiers" in scope["caught"]
    first = mock.requests()[0]
    assert body(first)["attachments"] == {
        "receipt.pdf": base64.b64encode(b"%PDF-1.4 binary \x00\x01").decode()}
    assert body(first)["from"] == "override-templated-address@example.com"
    scope["api"].close()


async def test_official_async_app_code_runs_unchanged(mock):
    source = OFFICIAL_ASYNC_APP.replace("from async_customerio import",
                                        "from customerio_native import")
    scope = {"app_key": APP_API_KEY, "url": mock.url}
    exec(compile(source, "official_async_app", "exec"), scope)
    answer, segments, count = await scope["main"]()
    assert "delivery_id" in answer and segments["segments"] and "count" in count
    assert [r["path"] for r in mock.requests()] == [
        "/v1/send/email", "/v1/segments", "/v1/segments/1/customer_count"]
