"""Transactional message requests, with the constructors of the official ``customerio``
package (3.x) and of ``async-customerio`` (2.x): ``SendEmailRequest``, ``SendPushRequest``,
``SendSMSRequest``, ``SendInboxMessageRequest``, ``SendInAppRequest`` and
``SendWhatsAppRequest``.

A request is a plain container: :class:`~customerio_native.APIClient` and
:class:`~customerio_native.AsyncAPIClient` hand its fields to libcustomerio as the request JSON,
and its attachments as raw bytes, which the C core base64-encodes into ``"attachments"``. The
core validates the request (identifiers, transactional_message_id, field types) before anything
is sent.

Differences from the official classes, all additive:

* every argument of either official package is accepted (``device`` and ``custom_device`` for
  push, ``_from`` for SMS, ...); arguments default to None and None fields are left out by
  ``APIClient`` and ``_to_dict()``, as in customerio; ``AsyncAPIClient`` and ``to_dict()``
  write async-customerio's explicit defaults (``send_to_unsubscribed=True``, ``tracked=True``,
  ``queue_draft=False``, ...) for the fields left unset, as async-customerio does (they are the
  API's own defaults);
* ``disable_css_preproceessing`` (the official spelling) and ``disable_css_preprocessing`` both
  set the API's ``disable_css_preprocessing`` field (the official client sends the misspelled
  key, which the API ignores);
* both ``_to_dict()`` (customerio) and ``to_dict()`` (async-customerio) give the request body
  as the official clients build it, attachments base64-encoded;
* ``attach()`` exists on every type that takes attachments (email, SMS, inbox, WhatsApp).
"""

from __future__ import annotations

import base64
from typing import Any, Dict, List, Optional, Tuple

from . import _app
from .errors import AsyncCustomerIOError, CustomerIOException

__all__ = [
    "RequestError",
    "SendEmailRequest",
    "SendInAppRequest",
    "SendInboxMessageRequest",
    "SendPushRequest",
    "SendSMSRequest",
    "SendWhatsAppRequest",
]


class RequestError(CustomerIOException, AsyncCustomerIOError):
    """A request object used wrongly (an attachment added twice, bad base64): caught by
    ``except CustomerIOException`` and by ``except AsyncCustomerIOError`` alike."""


class _Request:
    # (attribute, request JSON key), in the official field order.
    _FIELDS: Tuple[Tuple[str, str], ...] = ()

    def _set(self, values: Dict[str, Any]) -> None:
        for attr, _key in self._FIELDS:
            setattr(self, attr, values.get(attr))

    def _payload(self) -> Dict[str, Any]:
        data: Dict[str, Any] = {}
        for attr, key in self._FIELDS:
            value = getattr(self, attr, None)
            if value is not None and key not in data:
                data[key] = dict(value) if key == "attachments" else value
        return data

    def _cio_parts(self) -> Tuple[Dict[str, Any], List[Tuple[str, bytes]]]:
        """(request JSON object, raw attachments) for libcustomerio; raw-bytes attachment values
        are taken out of the JSON by the client."""
        return self._payload(), []

    def _to_dict(self) -> Dict[str, Any]:
        """The request body as the official ``customerio`` client builds it (attachments
        base64-encoded)."""
        data = self._payload()
        atts = data.get("attachments")
        if isinstance(atts, dict):
            data["attachments"] = {
                name: base64.b64encode(value).decode() if isinstance(value, (bytes, bytearray))
                else value
                for name, value in atts.items()
            }
        return data

    # The constructor defaults async-customerio 2.18 writes into to_dict() (its arguments default
    # to these values where customerio 3.2's default to None, which _to_dict() leaves out).
    _ASYNC_DEFAULTS: Tuple[Tuple[str, Any], ...] = ()

    def to_dict(self) -> Dict[str, Any]:
        """The request body, as ``async-customerio``'s ``to_dict()``: with its explicit
        defaults (``send_to_unsubscribed=True``, ``queue_draft=False``, ...) for the fields left
        unset, which are the API's own defaults."""
        data = self._to_dict()
        for key, value in self._ASYNC_DEFAULTS:
            data.setdefault(key, value)
        return data

    def __repr__(self) -> str:
        fields = ", ".join("{}={!r}".format(attr, getattr(self, attr))
                           for attr, _key in self._FIELDS
                           if getattr(self, attr, None) is not None and attr != "attachments")
        return "{}({})".format(type(self).__name__, fields)


class _Attachable(_Request):
    attachments: Optional[Dict[str, Any]]

    def attach(self, name: str, content: Any, encode: bool = True) -> None:
        """Adds a file: ``content`` is its bytes (a str is taken as UTF-8), or with
        ``encode=False`` its base64 text. The C core base64-encodes every attachment when the
        request is sent. A name already attached raises :class:`RequestError`."""
        if not self.attachments:
            self.attachments = {}
        if name in self.attachments:
            raise RequestError("attachment {name} already exists".format(name=name))
        self.attachments[name] = _app.raw_content(name, content, encode, RequestError)


_COMMON = (
    ("transactional_message_id", "transactional_message_id"),
    ("identifiers", "identifiers"),
    ("disable_message_retention", "disable_message_retention"),
    ("queue_draft", "queue_draft"),
    ("message_data", "message_data"),
    ("send_at", "send_at"),
    ("language", "language"),
)


class SendEmailRequest(_Attachable):
    """A transactional email (``POST /v1/send/email``)."""

    _FIELDS = (
        ("_from", "from"),
        ("transactional_message_id", "transactional_message_id"),
        ("to", "to"),
        ("identifiers", "identifiers"),
        ("headers", "headers"),
        ("reply_to", "reply_to"),
        ("cc", "cc"),
        ("bcc", "bcc"),
        ("subject", "subject"),
        ("preheader", "preheader"),
        ("body", "body"),
        ("body_plain", "body_plain"),
        ("body_amp", "body_amp"),
        ("fake_bcc", "fake_bcc"),
        ("disable_message_retention", "disable_message_retention"),
        ("send_to_unsubscribed", "send_to_unsubscribed"),
        ("tracked", "tracked"),
        ("queue_draft", "queue_draft"),
        ("message_data", "message_data"),
        ("attachments", "attachments"),
        ("disable_css_preprocessing", "disable_css_preprocessing"),
        ("disable_css_preproceessing", "disable_css_preprocessing"),
        ("send_at", "send_at"),
        ("language", "language"),
    )

    def __init__(
        self,
        transactional_message_id: Any = None,
        to: Optional[str] = None,
        identifiers: Optional[Dict[str, Any]] = None,
        _from: Optional[str] = None,
        headers: Optional[Dict[str, str]] = None,
        reply_to: Optional[str] = None,
        bcc: Optional[str] = None,
        subject: Optional[str] = None,
        preheader: Optional[str] = None,
        body: Optional[str] = None,
        body_plain: Optional[str] = None,
        body_amp: Optional[str] = None,
        fake_bcc: Optional[bool] = None,
        disable_message_retention: Optional[bool] = None,
        send_to_unsubscribed: Optional[bool] = None,
        tracked: Optional[bool] = None,
        queue_draft: Optional[bool] = None,
        message_data: Optional[Dict[str, Any]] = None,
        attachments: Optional[Dict[str, Any]] = None,
        disable_css_preproceessing: Optional[bool] = None,
        send_at: Any = None,
        language: Optional[str] = None,
        *,
        disable_css_preprocessing: Optional[bool] = None,
        cc: Optional[str] = None,
    ) -> None:
        self._set(locals())

    _ASYNC_DEFAULTS = (("disable_message_retention", False), ("send_to_unsubscribed", True),
                       ("tracked", True), ("queue_draft", False),
                       ("disable_css_preprocessing", False))


class SendPushRequest(_Request):
    """A transactional push (``POST /v1/send/push``). ``device`` (customerio) and
    ``custom_device`` (async-customerio) both set ``custom_device``."""

    _FIELDS = (
        ("transactional_message_id", "transactional_message_id"),
        ("to", "to"),
        ("identifiers", "identifiers"),
        ("disable_message_retention", "disable_message_retention"),
        ("send_to_unsubscribed", "send_to_unsubscribed"),
        ("queue_draft", "queue_draft"),
        ("message_data", "message_data"),
        ("send_at", "send_at"),
        ("language", "language"),
        ("title", "title"),
        ("message", "message"),
        ("image_url", "image_url"),
        ("link", "link"),
        ("custom_data", "custom_data"),
        ("custom_payload", "custom_payload"),
        ("custom_device", "custom_device"),
        ("device", "custom_device"),
        ("sound", "sound"),
    )

    def __init__(
        self,
        transactional_message_id: Any = None,
        to: Optional[str] = None,
        identifiers: Optional[Dict[str, Any]] = None,
        title: Optional[str] = None,
        message: Optional[str] = None,
        disable_message_retention: Optional[bool] = None,
        send_to_unsubscribed: Optional[bool] = None,
        queue_draft: Optional[bool] = None,
        message_data: Optional[Dict[str, Any]] = None,
        send_at: Any = None,
        language: Optional[str] = None,
        image_url: Optional[str] = None,
        link: Optional[str] = None,
        custom_data: Optional[Dict[str, Any]] = None,
        custom_payload: Optional[Dict[str, Any]] = None,
        device: Optional[Dict[str, Any]] = None,
        sound: Optional[str] = None,
        *,
        custom_device: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._set(locals())

    _ASYNC_DEFAULTS = (("to", "all"), ("disable_message_retention", False),
                       ("send_to_unsubscribed", True), ("queue_draft", False),
                       ("sound", "default"))


class SendSMSRequest(_Attachable):
    """A transactional SMS (``POST /v1/send/sms``); ``_from`` as in async-customerio."""

    _FIELDS = (
        ("_from", "from"),
        ("transactional_message_id", "transactional_message_id"),
        ("to", "to"),
        ("identifiers", "identifiers"),
        ("disable_message_retention", "disable_message_retention"),
        ("send_to_unsubscribed", "send_to_unsubscribed"),
        ("tracked", "tracked"),
        ("queue_draft", "queue_draft"),
        ("message_data", "message_data"),
        ("attachments", "attachments"),
        ("send_at", "send_at"),
        ("language", "language"),
    )

    def __init__(
        self,
        transactional_message_id: Any = None,
        to: Optional[str] = None,
        identifiers: Optional[Dict[str, Any]] = None,
        disable_message_retention: Optional[bool] = None,
        send_to_unsubscribed: Optional[bool] = None,
        queue_draft: Optional[bool] = None,
        message_data: Optional[Dict[str, Any]] = None,
        send_at: Any = None,
        language: Optional[str] = None,
        *,
        _from: Optional[str] = None,
        tracked: Optional[bool] = None,
        attachments: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._set(locals())

    _ASYNC_DEFAULTS = (("disable_message_retention", False), ("send_to_unsubscribed", True),
                       ("queue_draft", False))


class SendInboxMessageRequest(_Attachable):
    """A transactional web inbox message (``POST /v1/send/inbox_message``)."""

    _FIELDS = _COMMON + (("attachments", "attachments"),)

    def __init__(
        self,
        transactional_message_id: Any = None,
        identifiers: Optional[Dict[str, Any]] = None,
        disable_message_retention: Optional[bool] = None,
        queue_draft: Optional[bool] = None,
        message_data: Optional[Dict[str, Any]] = None,
        send_at: Any = None,
        language: Optional[str] = None,
        *,
        attachments: Optional[Dict[str, Any]] = None,
    ) -> None:
        self._set(locals())

    _ASYNC_DEFAULTS = (("disable_message_retention", False), ("queue_draft", False))


class SendInAppRequest(_Request):
    """A transactional in-app message (``POST /v1/send/in_app``). ``auto_create`` as in
    async-customerio 2.18 (keyword-only here)."""

    _FIELDS = _COMMON + (("auto_create", "auto_create"),)

    def __init__(
        self,
        transactional_message_id: Any = None,
        identifiers: Optional[Dict[str, Any]] = None,
        disable_message_retention: Optional[bool] = None,
        queue_draft: Optional[bool] = None,
        message_data: Optional[Dict[str, Any]] = None,
        send_at: Any = None,
        language: Optional[str] = None,
        *,
        auto_create: Optional[bool] = None,
    ) -> None:
        self._set(locals())

    _ASYNC_DEFAULTS = (("queue_draft", False), ("auto_create", False))


class SendWhatsAppRequest(_Attachable):
    """A transactional WhatsApp message (``POST /v1/send/whatsapp``). ``_from`` (the API's
    ``from``) as in async-customerio 2.18 (keyword-only here)."""

    _FIELDS = (
        ("_from", "from"),
        ("transactional_message_id", "transactional_message_id"),
        ("to", "to"),
        ("identifiers", "identifiers"),
        ("disable_message_retention", "disable_message_retention"),
        ("send_to_unsubscribed", "send_to_unsubscribed"),
        ("tracked", "tracked"),
        ("queue_draft", "queue_draft"),
        ("message_data", "message_data"),
        ("attachments", "attachments"),
        ("send_at", "send_at"),
        ("language", "language"),
    )

    def __init__(
        self,
        transactional_message_id: Any = None,
        to: Optional[str] = None,
        identifiers: Optional[Dict[str, Any]] = None,
        disable_message_retention: Optional[bool] = None,
        send_to_unsubscribed: Optional[bool] = None,
        tracked: Optional[bool] = None,
        queue_draft: Optional[bool] = None,
        message_data: Optional[Dict[str, Any]] = None,
        attachments: Optional[Dict[str, Any]] = None,
        send_at: Any = None,
        language: Optional[str] = None,
        *,
        _from: Optional[str] = None,
    ) -> None:
        self._set(locals())

    _ASYNC_DEFAULTS = (("disable_message_retention", False), ("send_to_unsubscribed", True),
                       ("queue_draft", False))
