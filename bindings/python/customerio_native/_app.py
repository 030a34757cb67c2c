"""Argument mapping for the App API calls (customerio/app.h), shared by :class:`APIClient` and
:class:`AsyncAPIClient`.

Each function takes the official clients' arguments and returns a "call spec": the native
function and the plain arguments (str, int, JSON text, a list of ``(name, bytes)`` attachments,
page and filter tuples) to call it with. Nothing here validates requests, builds URLs or
base64-encodes attachments: libcustomerio does, and its errors name the call and the field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import _native as _n
from ._core import ErrorClass, dumps, id_text, id_type, timestamp_int

Spec = Tuple[Any, ...]
Files = List[Tuple[str, bytes]]

_RAW = (bytes, bytearray, memoryview)


# ---- attachments ------------------------------------------------------------------------------


def raw_content(name: str, content: Any, encode: bool, error: ErrorClass) -> bytes:
    """``attach(name, content, encode)``'s content as the file's bytes: with ``encode`` (the
    default) ``content`` is the file itself (str is taken as UTF-8); without, it is already
    base64 text, decoded here so that libcustomerio encodes every attachment the same way."""
    if encode:
        if isinstance(content, str):
            return content.encode("utf-8")
        if isinstance(content, _RAW):
            return bytes(content)
        raise error("attachment {} must be str or bytes".format(name))
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, TypeError, ValueError):
        raise error("attachment {} is not valid base64 (attach(..., encode=False) takes "
                    "base64 text)".format(name)) from None


def split_attachments(payload: Dict[str, Any], files: Files) -> Files:
    """Moves raw-bytes values of a request's ``attachments`` object into ``files`` (sent as
    cio_attachment_t, encoded by the core); base64 text stays in the JSON as given."""
    atts = payload.get("attachments")
    if not isinstance(atts, Mapping):
        return files
    raw = [(name, bytes(value)) for name, value in atts.items() if isinstance(value, _RAW)]
    if raw:
        rest = {name: value for name, value in atts.items() if not isinstance(value, _RAW)}
        if rest:
            payload["attachments"] = rest
        else:
            del payload["attachments"]
        files = files + raw
    return files


def request_parts(request: Any, error: ErrorClass) -> Tuple[Dict[str, Any], Files]:
    """A request object (this package's, or any with ``to_dict()``/``_to_dict()`` as in the
    official clients) or a plain dict as (JSON object, raw attachments)."""
    parts = getattr(request, "_cio_parts", None)
    if parts is not None:
        payload, files = parts()
    elif isinstance(request, Mapping):
        payload, files = dict(request), []
    elif hasattr(request, "to_dict"):
        payload, files = dict(request.to_dict()), []
    elif hasattr(request, "_to_dict"):
        payload, files = dict(request._to_dict()), []
    else:
        raise error("invalid request provided")
    return payload, split_attachments(payload, files)


# ---- transactional sends ----------------------------------------------------------------------

_SEND_WITH_FILES = {
    "email": lambda: _n.cio_send_email,
    "sms": lambda: _n.cio_send_sms,
    "inbox_message": lambda: _n.cio_send_inbox_message,
    "whatsapp": lambda: _n.cio_send_whatsapp,
}
_SEND_PLAIN = {
    "push": lambda: _n.cio_send_push,
    "in_app": lambda: _n.cio_send_in_app,
}


def send(kind: str, request: Any, error: ErrorClass, async_defaults: bool = False) -> Spec:
    """async_defaults: a request object's fields left unset are sent with async-customerio's
    explicit defaults (``send_to_unsubscribed: true``, ...), as AsyncAPIClient's peer sends
    them; the API's own defaults are the same."""
    payload, files = request_parts(request, error)
    if async_defaults:
        for key, value in getattr(request, "_ASYNC_DEFAULTS", ()):
            payload.setdefault(key, value)
    text = dumps(payload)
    if kind in _SEND_WITH_FILES:
        return (_SEND_WITH_FILES[kind](), text, files or None)
    if files:
        raise error("send_{}: this message type takes no attachments".format(kind))
    return (_SEND_PLAIN[kind](), text)


_BROADCAST_FIELDS = ("recipients", "emails", "ids", "per_user_data", "data_file_url",
                     "email_add_duplicates", "email_ignore_missing", "id_ignore_missing")


def trigger_broadcast(broadcast_id: Any, data: Optional[Mapping[str, Any]],
                      fields: Mapping[str, Any], error: ErrorClass) -> Spec:
    unknown = sorted(set(fields) - set(_BROADCAST_FIELDS))
    if unknown:
        raise error("trigger_broadcast: unknown argument(s) {}".format(", ".join(unknown)))
    body: Dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body.update((k, v) for k, v in fields.items() if v is not None)
    return (_n.cio_trigger_broadcast, id_text(broadcast_id), dumps(body))


# ---- shared argument shapes -------------------------------------------------------------------


def page(start: Optional[str], limit: Optional[int]) -> Optional[Tuple[Optional[str], int]]:
    """start/limit as the C page (None = the first page with the server's size)."""
    if start is None and limit is None:
        return None
    return (start if start is None else str(start), int(limit or 0))


def kind_of(name: Optional[str], error: ErrorClass) -> int:
    """"id" (also for None) / "email" / "cio_id" as the C id type."""
    kind = id_type(name if name is not None else "id")
    if kind is None:
        raise error("invalid id_type {!r}: use id, email or cio_id".format(name))
    return kind


def ids_text(ids: Sequence[Any]) -> List[str]:
    return [i if isinstance(i, str) else str(i) for i in ids]


# ---- customers --------------------------------------------------------------------------------


def customers_get_by_email(email: str) -> Spec:
    return (_n.cio_customers_get_by_email, email)


def customers_search(filter: Any, start: Optional[str], limit: Optional[int]) -> Spec:
    return (_n.cio_customers_search, dumps(filter), page(start, limit))


def customers_get_by_ids(ids: Sequence[Any], id_type_name: Optional[str],
                         error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_by_ids, kind_of(id_type_name, error), ids_text(ids))


def customers_get_attributes(customer_id: Any, id_type_name: Optional[str],
                             error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_attributes, kind_of(id_type_name, error), id_text(customer_id))


def customers_get_segments(customer_id: Any, id_type_name: Optional[str],
                           error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_segments, kind_of(id_type_name, error), id_text(customer_id))


def customers_get_messages(customer_id: Any, id_type_name: Optional[str], start: Optional[str],
                           limit: Optional[int], start_ts: Any, end_ts: Any,
                           error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_messages, kind_of(id_type_name, error), id_text(customer_id),
            page(start, limit), timestamp_int(start_ts), timestamp_int(end_ts))


def customers_get_activities(customer_id: Any, id_type_name: Optional[str],
                             start: Optional[str], limit: Optional[int], type: Optional[str],
                             name: Optional[str], error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_activities, kind_of(id_type_name, error), id_text(customer_id),
            page(start, limit), type, name)


def customers_get_relationships(customer_id: Any, id_type_name: Optional[str],
                                start: Optional[str], limit: Optional[int],
                                error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_relationships, kind_of(id_type_name, error),
            id_text(customer_id), page(start, limit))


def customers_get_subscription_preferences(customer_id: Any, id_type_name: Optional[str],
                                           language: Optional[str], error: ErrorClass) -> Spec:
    return (_n.cio_customers_get_subscription_preferences, kind_of(id_type_name, error),
            id_text(customer_id), language)


# ---- segments ---------------------------------------------------------------------------------


def segments_list() -> Spec:
    return (_n.cio_segments_list,)


def segments_get(segment_id: Any) -> Spec:
    return (_n.cio_segments_get, id_text(segment_id))


def segments_create(name: str, description: Optional[str]) -> Spec:
    return (_n.cio_segments_create, name, description)


def segments_delete(segment_id: Any) -> Spec:
    return (_n.cio_segments_delete, id_text(segment_id))


def segments_customer_count(segment_id: Any) -> Spec:
    return (_n.cio_segments_customer_count, id_text(segment_id))


def segments_membership(segment_id: Any, start: Optional[str], limit: Optional[int]) -> Spec:
    return (_n.cio_segments_membership, id_text(segment_id), page(start, limit))


def segments_used_by(segment_id: Any) -> Spec:
    return (_n.cio_segments_used_by, id_text(segment_id))


# ---- transactional templates ------------------------------------------------------------------


def content_json(fields: Mapping[str, Any]) -> str:
    """update_content / update_variant keyword arguments as the content object (None = left
    out, as async-customerio does)."""
    return dumps({k: v for k, v in fields.items() if v is not None})


def transactional_list() -> Spec:
    return (_n.cio_transactional_list,)


def transactional_get(transactional_id: Any) -> Spec:
    return (_n.cio_transactional_get, id_text(transactional_id))


def transactional_list_variants(transactional_id: Any) -> Spec:
    return (_n.cio_transactional_list_variants, id_text(transactional_id))


def transactional_get_variant(transactional_id: Any, language: str) -> Spec:
    return (_n.cio_transactional_get_variant, id_text(transactional_id), language)


def transactional_update_content(transactional_id: Any, content_id: Any,
                                 fields: Mapping[str, Any]) -> Spec:
    return (_n.cio_transactional_update_content, id_text(transactional_id), id_text(content_id),
            content_json(fields))


def transactional_update_variant(transactional_id: Any, language: str,
                                 fields: Mapping[str, Any]) -> Spec:
    return (_n.cio_transactional_update_variant, id_text(transactional_id), language,
            content_json(fields))


def transactional_metrics(transactional_id: Any, period: Optional[str],
                          steps: Optional[int]) -> Spec:
    return (_n.cio_transactional_metrics, id_text(transactional_id), period, int(steps or 0))


def flag(value: Optional[bool]) -> int:
    """None / true / false as the C tri-state (cio_flag_t): not sent, =true, =false."""
    if value is None:
        return _n.CIO_FLAG_UNSET
    return _n.CIO_FLAG_TRUE if value else _n.CIO_FLAG_FALSE


def transactional_link_metrics(transactional_id: Any, period: Optional[str],
                               steps: Optional[int], unique: Optional[bool]) -> Spec:
    return (_n.cio_transactional_link_metrics, id_text(transactional_id), period,
            int(steps or 0), flag(unique))


def transactional_deliveries(transactional_id: Any, start: Optional[str], limit: Optional[int],
                             metric: Optional[str], state: Optional[str], start_ts: Any,
                             end_ts: Any, get_tracked_responses: Optional[bool]) -> Spec:
    filt = None
    if (metric is not None or state is not None or start_ts is not None or end_ts is not None
            or get_tracked_responses is not None):
        filt = (metric, state, timestamp_int(start_ts), timestamp_int(end_ts),
                flag(get_tracked_responses))
    return (_n.cio_transactional_deliveries, id_text(transactional_id), page(start, limit), filt)
