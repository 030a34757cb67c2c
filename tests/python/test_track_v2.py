"""Track API v2: send_entity, send_batch (split, 207 item results) and the .v2 helpers, async
(async-customerio's shape) and sync."""

from __future__ import annotations

import json

import pytest

import customerio_native as cio
from conftest import body

PERSON = {"id": "42"}
OBJECT = {"object_type_id": "1", "object_id": "acme"}
RELS_TO_OBJECT = [{"identifiers": {"object_type_id": "1", "object_id": "acme"}}]
RELS_TO_PERSON = [{"identifiers": {"id": "42"}}]


def op(req):
    """An /entity body without its generated event id."""
    b = body(req)
    b.pop("id", None)
    return b


async def test_helpers_wire_bytes(aclient, mock):
    v2 = aclient.v2
    await v2.identify_person(PERSON, name="John", plan="pro")
    await v2.delete_person({"email": "a@example.com"})
    await v2.track_person_event(PERSON, "purchased", price=23.45)
    await v2.person_pageview(PERSON, "https://example.com/")
    await v2.person_screen({"cio_id": "abc"}, "Settings")
    await v2.add_person_device(PERSON, "tok-1", "ios", last_used=1700000000)
    await v2.delete_person_device(PERSON, "tok-1")
    await v2.suppress_person(PERSON)
    await v2.unsuppress_person(PERSON)
    await v2.merge_persons({"id": "1"}, {"email": "b@example.com"})
    await v2.add_person_relationships(PERSON, RELS_TO_OBJECT)
    await v2.delete_person_relationships(PERSON, RELS_TO_OBJECT)
    await v2.identify_object(OBJECT, name="Acme")
    await v2.delete_object(OBJECT)
    await v2.track_object_event(OBJECT, "renewed", seats=5)
    await v2.add_object_relationships(OBJECT, RELS_TO_PERSON)
    await v2.delete_object_relationships(OBJECT, RELS_TO_PERSON)
    reqs = mock.requests()
    assert {(r["method"], r["path"]) for r in reqs} == {("POST", "/api/v2/entity")}
    got = [op(r) for r in reqs]
    person = {"type": "person", "identifiers": PERSON}
    obj = {"type": "object", "identifiers": OBJECT}
    assert got == [
        dict(person, action="identify", attributes={"name": "John", "plan": "pro"}),
        {"type": "person", "action": "delete", "identifiers": {"email": "a@example.com"}},
        dict(person, action="event", name="purchased", attributes={"price": 23.45}),
        dict(person, action="page", name="https://example.com/", attributes={}),
        {"type": "person", "action": "screen", "identifiers": {"cio_id": "abc"},
         "name": "Settings", "attributes": {}},
        dict(person, action="add_device",
             device={"token": "tok-1", "platform": "ios", "last_used": 1700000000}),
        dict(person, action="delete_device", device={"token": "tok-1"}),
        dict(person, action="suppress"),
        dict(person, action="unsuppress"),
        {"type": "person", "action": "merge", "primary": {"id": "1"},
         "secondary": {"email": "b@example.com"}},
        dict(person, action="add_relationships", cio_relationships=RELS_TO_OBJECT),
        dict(person, action="delete_relationships", cio_relationships=RELS_TO_OBJECT),
        dict(obj, action="identify", attributes={"name": "Acme"}),
        dict(obj, action="delete"),
        dict(obj, action="event", name="renewed", attributes={"seats": 5}),
        dict(obj, action="add_relationships", cio_relationships=RELS_TO_PERSON),
        dict(obj, action="delete_relationships", cio_relationships=RELS_TO_PERSON),
    ]
    # events carry a de-duplication id
    assert len(body(reqs[2])["id"]) == 26


async def test_send_entity_deprecated_shape(aclient, mock):
    await aclient.send_entity({"id": 5}, "person", cio.Actions.identify, plan="pro")
    await aclient.send_entity({"email": "a@example.com"}, "person", "suppress")
    first, second = mock.requests()
    assert body(first) == {"type": "person", "action": "identify", "identifiers": {"id": 5},
                           "attributes": {"plan": "pro"}}
    assert body(second)["action"] == "suppress"


async def test_identifiers_the_helpers_do_not_cover_go_through_entity(aclient, mock):
    await aclient.v2.identify_object({"cio_object_id": "obj_1"}, name="Acme")
    assert body(mock.only()) == {"type": "object", "action": "identify",
                                 "identifiers": {"cio_object_id": "obj_1"},
                                 "attributes": {"name": "Acme"}}


async def test_invalid_identifiers_are_refused_by_the_core(aclient, mock):
    with pytest.raises(cio.AsyncCustomerIOError, match="identifiers"):
        await aclient.v2.identify_person({"id": "1", "email": "a@example.com"})
    with pytest.raises(cio.AsyncCustomerIOError):
        await aclient.v2.track_person_event(PERSON, "")
    assert mock.requests() == []


async def test_send_batch_all_accepted(aclient, mock):
    ops = [{"type": "person", "action": "identify", "identifiers": {"id": str(i)},
            "attributes": {"n": i}} for i in range(3)]
    result = await aclient.send_batch(ops)
    assert result == {}
    req = mock.only()
    assert (req["method"], req["path"]) == ("POST", "/api/v2/batch")
    assert [o["identifiers"] for o in body(req)["batch"]] == [{"id": "0"}, {"id": "1"},
                                                               {"id": "2"}]


async def test_send_batch_207_returns_item_errors(aclient, mock):
    errors = {"errors": [{"batch_index": 1, "reason": "invalid", "field": "identifiers",
                          "message": "unknown person"}]}
    mock.fault(count=1, status=207, body=json.dumps(errors))
    ops = [{"type": "person", "action": "identify", "identifiers": {"id": str(i)}}
           for i in range(3)]
    result = await aclient.v2.send_batch(ops)
    assert result == {"errors": [{"batch_index": 1, "reason": "invalid",
                                  "field": "identifiers", "message": "unknown person"}]}


async def test_send_batch_is_split_under_500kb(aclient, mock):
    big = "x" * 20000
    ops = [{"type": "person", "action": "identify", "identifiers": {"id": str(i)},
            "attributes": {"blob": big}} for i in range(60)]
    assert await aclient.send_batch(ops) == {}
    reqs = mock.requests()
    assert len(reqs) >= 3
    assert all(len(r["body"]) < 500000 for r in reqs)
    sent = [o["identifiers"]["id"] for r in reqs for o in body(r)["batch"]]
    assert sorted(sent, key=int) == [str(i) for i in range(60)]


async def test_send_batch_invalid_item_is_returned_not_sent(aclient, mock):
    # (the valid items are sent: tests/python/test_dropin_batch_flags.py)
    result = await aclient.send_batch([{"type": "person", "action": "fly",
                                        "identifiers": {"id": "2"}}])
    assert [(e["batch_index"], e["reason"], e["field"]) for e in result["errors"]] == [
        (0, "invalid", "action")]
    assert "operations[0]" in result["errors"][0]["message"]
    assert mock.requests() == []


async def test_send_batch_server_error(mock):
    mock.fault(count=5, status=500)
    async with cio.AsyncCustomerIO("py-site", "py-key", host=mock.host, port=mock.port,
                                   retries=0) as c:
        with pytest.raises(cio.AsyncCustomerIORetryableError) as info:
            await c.send_batch([{"type": "person", "action": "delete",
                                 "identifiers": {"id": "1"}}])
    assert info.value.status == 500


def test_sync_v2(client, mock):
    client.v2.identify_person({"email": "a@example.com"}, plan="pro")
    client.v2.track_delivery_event("dlv-1", "opened")
    result = client.v2.send_batch([{"type": "person", "action": "delete",
                                    "identifiers": {"id": "1"}}])
    assert result == {}
    ident, delivery, batch = mock.requests()
    assert body(ident) == {"type": "person", "action": "identify",
                           "identifiers": {"email": "a@example.com"},
                           "attributes": {"plan": "pro"}}
    assert op(delivery) == {"type": "delivery", "action": "event",
                            "identifiers": {"id": "dlv-1"}, "name": "opened"}
    assert batch["path"] == "/api/v2/batch"


def test_sync_send_batch_207(client, mock):
    mock.fault(count=1, status=207, body=json.dumps(
        {"errors": [{"batch_index": 0, "reason": "required", "field": "attributes"}]}))
    result = client.v2.send_batch([{"type": "person", "action": "identify",
                                    "identifiers": {"id": "1"}}])
    assert result == {"errors": [{"batch_index": 0, "reason": "required",
                                  "field": "attributes"}]}  # no message: left out, as sent
