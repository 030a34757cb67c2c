"""Track v2 through the C builders only (issue 17): integer person ids go out as JSON numbers,
identifiers the typed ids do not fit are judged by libcustomerio as the hand-written operation
(CIO_ID_TYPE_IDENTIFIERS), send_entity maps its (type, action) to a builder, device fields by name,
and the asyncio path sends built requests (no per-thread switch)."""

from __future__ import annotations

import pytest

import customerio_native as cio
from customerio_native import _native as _n
from customerio_native._core import builder_of
from conftest import API_KEY, SITE_ID, body


def op(req):
    b = body(req)
    b.pop("id", None)
    return b


async def test_integer_person_ids_are_json_numbers(aclient, mock):
    await aclient.v2.identify_person({"id": 5}, plan="pro")
    await aclient.v2.merge_persons({"id": -7}, {"id": "7"})
    await aclient.v2.delete_person({"id": 2 ** 64})  # beyond int64: its digits as a string
    reqs = mock.requests()
    assert [op(r) for r in reqs] == [
        {"type": "person", "action": "identify", "identifiers": {"id": 5},
         "attributes": {"plan": "pro"}},
        {"type": "person", "action": "merge", "primary": {"id": -7}, "secondary": {"id": "7"}},
        {"type": "person", "action": "delete", "identifiers": {"id": str(2 ** 64)}},
    ]


def test_pipeline_integer_person_ids_are_json_numbers(mock):
    with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port) as pipe:
        pipe.identify_person({"id": 5}, plan="pro")
        pipe.track_person_event({"id": 6}, "bought")
        pipe.flush()
    ops = [o for r in mock.requests() if r["path"] == "/api/v2/batch" for o in body(r)["batch"]]
    assert [o["identifiers"] for o in ops] == [{"id": 5}, {"id": 6}]


async def test_other_identifier_shapes_are_judged_as_written(aclient, mock):
    # accepted as the hand-written operation would be
    await aclient.v2.identify_object({"cio_object_id": "obj_1"}, name="Acme")
    assert op(mock.only())["identifiers"] == {"cio_object_id": "obj_1"}
    mock.clear()
    bad_people = [{}, {"id": "1", "email": "a@b.c"}, {"phone": "1"}, {"id": None}, ["id", "1"],
                  None, {"id": True}]
    for ids in bad_people:
        with pytest.raises(cio.AsyncCustomerIOError, match="identifiers") as info:
            await aclient.v2.delete_person(ids)
        assert info.value.code == _n.CIO_E_INVALID_ARGUMENT
    # a pair whose type id is no id (None) must not become a cio_object_id lookup
    for ids in [{"object_type_id": "1"}, {"object_id": "x"}, {}, None,
                {"object_type_id": None, "object_id": "a"}]:
        with pytest.raises(cio.AsyncCustomerIOError, match="identifiers"):
            await aclient.v2.delete_object(ids)
    with pytest.raises(cio.AsyncCustomerIOError, match="primary"):
        await aclient.v2.merge_persons({"email": "a@b.c", "id": "1"}, {"id": "2"})
    assert mock.requests() == []


def test_sync_v2_refuses_bad_identifiers_with_the_same_class(client, mock):
    with pytest.raises(cio.CustomerIOException, match="identifiers"):
        client.v2.identify_person({"id": "1", "email": "a@b.c"})
    with pytest.raises(cio.CustomerIOException, match="identifiers"):
        client.v2.add_person_relationships({"cio_id": ""}, [{"identifiers": {"object_type_id": "1",
                                                                          "object_id": "a"}}])
    assert mock.requests() == []


async def test_send_entity_maps_type_and_action_to_builders(aclient, mock):
    await aclient.send_entity({"cio_id": "c1"}, "person", "unsuppress")
    await aclient.send_entity({"object_type_id": "1", "object_id": "acme"}, "object", "identify",
                              name="Acme")
    await aclient.send_entity({"object_type_id": "1", "object_id": "acme"}, "object", "delete")
    assert [op(r) for r in mock.requests()] == [
        {"type": "person", "action": "unsuppress", "identifiers": {"cio_id": "c1"}},
        {"type": "object", "action": "identify",
         "identifiers": {"object_type_id": "1", "object_id": "acme"},
         "attributes": {"name": "Acme"}},
        {"type": "object", "action": "delete",
         "identifiers": {"object_type_id": "1", "object_id": "acme"}},
    ]
    mock.clear()
    # pairs that need more than identifiers and attributes, or are no operation
    for type_, action in [("person", "event"), ("person", "add_device"), ("person", "merge"),
                          ("object", "add_relationships"), ("delivery", "event"),
                          ("person", "fly")]:
        with pytest.raises(cio.AsyncCustomerIOError, match=action) as info:
            await aclient.send_entity({"id": "1"}, type_, action)
        assert info.value.code == _n.CIO_E_INVALID_ARGUMENT
    assert mock.requests() == []


async def test_device_fields_by_name_go_into_the_device(aclient, mock):
    await aclient.v2.add_person_device({"id": 5}, "tok", "ios", last_used=1700000000,
                                       app_version="1.2", attributes={"m": "x"})
    await aclient.v2.add_person_device({"email": "a@b.c"}, "tok2", "android")
    first, second = [op(r) for r in mock.requests()]
    assert first == {"type": "person", "action": "add_device", "identifiers": {"id": 5},
                     "device": {"token": "tok", "platform": "ios", "last_used": 1700000000,
                                "app_version": "1.2", "attributes": {"m": "x"}}}
    assert second["device"] == {"token": "tok2", "platform": "android"}


def test_async_calls_have_builders():
    # every call the asyncio classes make has its builder, except the batch
    assert builder_of(_n.cio_track) is _n.cio_track_request
    assert builder_of(_n.cio_v2_send_entity) is _n.cio_v2_entity_request
    assert builder_of(_n.cio_send_email) is _n.cio_send_email_request
    assert builder_of(_n.cio_v2_person_add_device_fields) is \
        _n.cio_v2_person_add_device_fields_request
    assert builder_of(_n.cio_v2_send_batch) is None


async def test_async_path_leaves_no_per_thread_switch(aclient, mock):
    # a queued asynchronous call must not arm the deprecated switch: the next synchronous
    # classic call on this thread waits for its answer and raises its error (armed, it would
    # have been queued and returned None)
    await aclient.track("5", "bought", price=1)
    c = cio.CustomerIO(SITE_ID, API_KEY, host=mock.host, port=mock.port, retries=0)
    try:
        mock.fault(count=1, status=400)
        with pytest.raises(cio.CustomerIOException):
            c.track("5", "sync")
    finally:
        c.close()
