"""Argument mapping for the Track API calls, shared by the sync and asyncio classes.

Each function takes the official clients' arguments and returns a "call spec": the native
function and the plain arguments (str, int, JSON text) to call it with. Nothing here validates,
retries or builds URLs: libcustomerio does, and its errors name the field.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Type

from . import _native as _n
from ._core import (ErrorClass, clean, dumps, id_text, id_type, make_error, sanitize,
                    timestamp_int, to_unix)

Spec = Tuple[Any, ...]

_INT64 = (-(2 ** 63), 2 ** 63)


def data_json(data: Mapping[str, Any], encoder: Optional[Type[json.JSONEncoder]],
              field: str = "data") -> str:
    """Keyword arguments as the JSON object text the C API takes."""
    return dumps(sanitize(data), encoder, field)


def event_options(event_id: Any, timestamp: Any) -> Optional[Tuple[int, Optional[str]]]:
    """customerio 3.2's ``id=`` and ``timestamp=`` of an event as the C API's options
    ``(timestamp, id)``: a datetime becomes unix seconds, an int is kept, anything else goes
    through ``int()`` and is left out when that fails (as 3.2's ``_build_event`` does); an id
    that is not a str is sent as its ``str()``. None when neither is given."""
    ts = 0
    if timestamp is not None:
        if isinstance(timestamp, datetime):
            ts = to_unix(timestamp)
        else:
            try:
                ts = int(timestamp)
            except (ValueError, TypeError, OverflowError):
                ts = 0
        if not _INT64[0] <= ts < _INT64[1]:
            ts = 0
    if event_id is None and ts == 0:
        return None
    return (ts, id_text(event_id))


# ---- Track API v1 -----------------------------------------------------------------------------


def identify(id: Any, attrs: Mapping[str, Any], enc: Any) -> Spec:
    return (_n.cio_identify, id_text(id), data_json(attrs, enc, "attributes"))


def track(customer_id: Any, name: str, data: Mapping[str, Any], enc: Any,
          event_id: Any = None, timestamp: Any = None) -> Spec:
    return (_n.cio_track, id_text(customer_id), name, data_json(data, enc),
            event_options(event_id, timestamp))


def track_anonymous(anonymous_id: Any, name: str, data: Mapping[str, Any], enc: Any,
                    event_id: Any = None, timestamp: Any = None) -> Spec:
    # As in the official client, a blank anonymous_id is left out (an event without a person).
    return (_n.cio_track_anonymous, id_text(anonymous_id) if anonymous_id else None, name,
            data_json(data, enc), event_options(event_id, timestamp))


def pageview(customer_id: Any, page: str, data: Mapping[str, Any], enc: Any) -> Spec:
    return (_n.cio_pageview, id_text(customer_id), page, data_json(data, enc), None)


def screen(customer_id: Any, name: str, data: Mapping[str, Any], enc: Any) -> Spec:
    return (_n.cio_screen, id_text(customer_id), name, data_json(data, enc), None)


def backfill(customer_id: Any, name: str, timestamp: int, data: Mapping[str, Any],
             enc: Any) -> Spec:
    return (_n.cio_backfill, id_text(customer_id), name, timestamp, data_json(data, enc))


def delete(customer_id: Any) -> Spec:
    return (_n.cio_delete, id_text(customer_id))


def add_device(customer_id: Any, device_id: Any, platform: str, data: Mapping[str, Any],
               enc: Any) -> Spec:
    """Any device field (``last_used``, ``attributes``, ``last_used`` as a datetime, fields
    Customer.io adds later) goes into ``device`` as the official clients send it; an ``id`` or
    ``platform`` keyword is replaced by the arguments, as there (``data.update(...)``)."""
    fields = {k: v for k, v in data.items() if k not in ("id", "platform")}
    return (_n.cio_add_device_fields, id_text(customer_id), id_text(device_id), platform,
            dumps(sanitize(fields), enc, "device") if fields else None)


def delete_device(customer_id: Any, device_id: Any) -> Spec:
    return (_n.cio_delete_device, id_text(customer_id), id_text(device_id))


def suppress(customer_id: Any) -> Spec:
    return (_n.cio_suppress, id_text(customer_id))


def unsuppress(customer_id: Any) -> Spec:
    return (_n.cio_unsuppress, id_text(customer_id))


def merge_customers(primary_id_type: str, primary_id: Any, secondary_id_type: str,
                    secondary_id: Any, error: ErrorClass) -> Spec:
    primary = id_type(primary_id_type)
    if primary is None:
        raise error("invalid primary id type")
    secondary = id_type(secondary_id_type)
    if secondary is None:
        raise error("invalid secondary id type")
    return (_n.cio_merge_customers, primary, id_text(primary_id), secondary,
            id_text(secondary_id))


def push_event(event_name: str, delivery_id: Any, device_id: Any, timestamp: Any) -> Spec:
    return (_n.cio_track_push_event, id_text(delivery_id), event_name, id_text(device_id),
            timestamp_int(timestamp))


def delivery_metric(metric_name: str, delivery_id: Any, timestamp: Any, recipient: Optional[str],
                    reason: Optional[str], href: Optional[str]) -> Spec:
    return (_n.cio_track_delivery_metric, metric_name, id_text(delivery_id),
            timestamp_int(timestamp), recipient, reason, href)


def unsubscribe(delivery_id: Any) -> Spec:
    return (_n.cio_unsubscribe, id_text(delivery_id))


def submit_form(form_id: Any, data: Mapping[str, Any], enc: Any) -> Spec:
    return (_n.cio_submit_form, id_text(form_id), data_json(data, enc))


def region() -> Spec:
    return (_n.cio_track_region,)


def stringify_ids(customer_ids: Sequence[Any], error: ErrorClass) -> List[str]:
    """The official client's customer id list conversion: str and int only."""
    out = []
    for value in customer_ids:
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(str(value))
        else:
            raise error("customer_ids cannot be {}".format(type(value)))
    return out


def segment(add: bool, segment_id: Any, customer_ids: Sequence[Any], id_type_name: str,
            error: ErrorClass) -> Spec:
    kind = id_type(id_type_name)
    if kind is None:
        raise error("invalid id type")
    fn = _n.cio_segment_add_customers if add else _n.cio_segment_remove_customers
    return (fn, id_text(segment_id), stringify_ids(customer_ids, error), kind)


# ---- Track API v2 -----------------------------------------------------------------------------


def action_name(action: Any) -> str:
    return action.value if isinstance(action, Enum) else str(action)


def entity(payload: Mapping[str, Any], enc: Any) -> Spec:
    return (_n.cio_v2_send_entity, dumps(sanitize(payload), enc, "operation"))


def batch(payload: Sequence[Mapping[str, Any]], enc: Any) -> Spec:
    # an item that is not a mapping goes as it is: libcustomerio reports it by its index
    return (_n.cio_v2_send_batch,
            [dumps(sanitize(op) if isinstance(op, Mapping) else op, enc, "batch[{}]".format(i))
             for i, op in enumerate(payload)])


def person_ref(identifiers: Any) -> Optional[Tuple[int, str]]:
    """{"id"|"email"|"cio_id": value} as (C id type, text), or None when it is not that shape.
    An int id within int64 is CIO_ID_TYPE_ID_INTEGER, which the builders write as a JSON number,
    as async-customerio sends it; other ints (and an int email or cio_id) go as their str()."""
    if isinstance(identifiers, Mapping) and len(identifiers) == 1:
        (key, value), = identifiers.items()
        kind = id_type(key)
        if kind is None or isinstance(value, bool):
            return None
        if value.__class__ is str:
            return kind, value
        if isinstance(value, int):
            if kind == _n.CIO_ID_TYPE_ID and _INT64[0] <= value < _INT64[1]:
                return _n.CIO_ID_TYPE_ID_INTEGER, str(int(value))
            return kind, str(value)
        if isinstance(value, str):
            return kind, str(value)
    return None


def person_arg(identifiers: Any, enc: Any, what: str = "identifiers") -> Tuple[int, str]:
    """A person's identifiers as the builders' (id type, value): person_ref(), or, for any other
    shape, the caller's identifiers as JSON text (CIO_ID_TYPE_IDENTIFIERS), which libcustomerio
    writes as given and accepts or refuses exactly as the operation written by hand."""
    ref = person_ref(identifiers)
    if ref is not None:
        return ref
    return _n.CIO_ID_TYPE_IDENTIFIERS, dumps(clean(identifiers), enc, what)


def object_ref(identifiers: Any) -> Optional[Tuple[str, str]]:
    if (isinstance(identifiers, Mapping) and len(identifiers) == 2
            and "object_type_id" in identifiers and "object_id" in identifiers):
        type_id = _id_or_none(identifiers["object_type_id"])
        object_id = _id_or_none(identifiers["object_id"])
        # a type id that is no id must not reach the builder as None, which means "object_id
        # is a cio_object_id": "" makes the builder name it
        return type_id or "", object_id  # type: ignore[return-value]
    return None


def _id_or_none(value: Any) -> Optional[str]:
    return id_text(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def object_arg(identifiers: Any) -> Tuple[Optional[str], Optional[str]]:
    """An object's identifiers as the builders' (object type id, object id), a cio_object_id as
    (None, it). Any other shape passes what it has (None for what is missing or not an id), and
    the builder names what is wrong."""
    ref = object_ref(identifiers)
    if ref is not None:
        return ref
    if not isinstance(identifiers, Mapping):
        return None, None
    if "cio_object_id" in identifiers:  # wins over the pair, as in libcustomerio's validator
        return None, _id_or_none(identifiers["cio_object_id"])
    return (_id_or_none(identifiers.get("object_type_id")) or "",
            _id_or_none(identifiers.get("object_id")))


def v2_person(action: str, identifiers: Any, enc: Any, *, name: Optional[str] = None,
              attrs: Optional[Mapping[str, Any]] = None) -> Spec:
    """identify / delete / suppress / unsuppress / event / page / screen for a person."""
    kind, value = person_arg(identifiers, enc)
    attributes = sanitize(attrs) if attrs else {}
    if action == "identify":
        return (_n.cio_v2_person_identify, kind, value, dumps(attributes, enc))
    if action in ("event", "page", "screen"):
        event_fn: Any = {"event": _n.cio_v2_person_event, "page": _n.cio_v2_person_page,
                         "screen": _n.cio_v2_person_screen}[action]
        return (event_fn, kind, value, name, dumps(attributes, enc), None)
    simple_fn: Any = {"delete": _n.cio_v2_person_delete, "suppress": _n.cio_v2_person_suppress,
                      "unsuppress": _n.cio_v2_person_unsuppress}[action]
    return (simple_fn, kind, value)


def v2_person_add_device(identifiers: Any, device_id: Any, platform: str,
                         device_attrs: Mapping[str, Any], enc: Any) -> Spec:
    """async-customerio's ``**device_attrs`` (``last_used``, ``attributes``, any field) go into
    the device as given, datetimes as unix seconds."""
    kind, value = person_arg(identifiers, enc)
    if not device_attrs:
        return (_n.cio_v2_person_add_device, kind, value, id_text(device_id), platform, 0, None)
    return (_n.cio_v2_person_add_device_fields, kind, value, id_text(device_id), platform,
            dumps(sanitize(device_attrs), enc, "device"))


def v2_person_delete_device(identifiers: Any, device_id: Any, enc: Any) -> Spec:
    return (_n.cio_v2_person_delete_device, *person_arg(identifiers, enc), id_text(device_id))


def v2_person_merge(primary: Any, secondary: Any, enc: Any) -> Spec:
    return (_n.cio_v2_person_merge, *person_arg(primary, enc, "primary"),
            *person_arg(secondary, enc, "secondary"))


def v2_relationships(type_: str, add: bool, identifiers: Any, relationships: Any,
                     enc: Any) -> Spec:
    rel_json = dumps(relationships, enc)
    fn: Any
    if type_ == "person":
        fn = (_n.cio_v2_person_add_relationships if add
              else _n.cio_v2_person_delete_relationships)
        return (fn, *person_arg(identifiers, enc), rel_json)
    fn = (_n.cio_v2_object_add_relationships if add else _n.cio_v2_object_delete_relationships)
    return (fn, *object_arg(identifiers), rel_json)


def v2_object(action: str, identifiers: Any, enc: Any, *, name: Optional[str] = None,
              attrs: Optional[Mapping[str, Any]] = None) -> Spec:
    """identify / delete / event for an object."""
    type_id, object_id = object_arg(identifiers)
    attributes = sanitize(attrs) if attrs else {}
    if action == "identify":
        return (_n.cio_v2_object_identify, type_id, object_id, dumps(attributes, enc))
    if action == "event":
        return (_n.cio_v2_object_event, type_id, object_id, name, dumps(attributes, enc), None)
    return (_n.cio_v2_object_delete, type_id, object_id)


# send_entity's (type, action) as the mapping above that builds it: names only, the wire
# format is libcustomerio's.
_ENTITY_CALLS: Dict[Tuple[str, str], Any] = {
    **{("person", a): (lambda a: lambda ids, attrs, enc: v2_person(a, ids, enc, attrs=attrs))(a)
       for a in ("identify", "delete", "suppress", "unsuppress")},
    **{("object", a): (lambda a: lambda ids, attrs, enc: v2_object(a, ids, enc, attrs=attrs))(a)
       for a in ("identify", "delete")},
}


def send_entity(type_: str, action: str, identifiers: Any, attrs: Mapping[str, Any], enc: Any,
                error: ErrorClass) -> Spec:
    """async-customerio's deprecated ``send_entity(identifiers, type, action, **attrs)`` as the
    builder of that type and action. Any other pair needs a part send_entity cannot give (a
    name, a device, relationships, a second person) or is no operation at all: Customer.io and
    libcustomerio refuse it, and so does this, with the same class (CIO_E_INVALID_ARGUMENT)."""
    call = _ENTITY_CALLS.get((type_, action))
    if call is None:
        raise make_error(error, _n.CIO_E_INVALID_ARGUMENT, 0,
                         "send_entity: {} {} needs more than identifiers and attributes; use the "
                         "v2 helper for it".format(type_, action), None, 0)
    return call(identifiers, attrs, enc)  # type: ignore[no-any-return]


def v2_delivery_event(delivery_id: Any, metric: str, attrs: Mapping[str, Any], enc: Any) -> Spec:
    return (_n.cio_v2_delivery_event, id_text(delivery_id), metric,
            dumps(sanitize(attrs), enc) if attrs else None, None)


def backfill_timestamp(timestamp: Any, error: ErrorClass, strict: bool) -> int:
    """backfill's timestamp as the official clients take it: a datetime, an int, or (sync client
    only) anything int() accepts."""
    from datetime import datetime

    if isinstance(timestamp, datetime):
        return to_unix(timestamp)
    if isinstance(timestamp, int):
        return timestamp
    if strict:
        raise error("{timestamp} is not a valid timestamp".format(timestamp=timestamp))
    try:
        return int(timestamp)
    except Exception as e:
        raise error("{t} is not a valid timestamp ({err})".format(t=timestamp, err=e)) from None
