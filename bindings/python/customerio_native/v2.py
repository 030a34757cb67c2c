"""Track API v2 (``/api/v2/entity`` and ``/api/v2/batch``), in the shape of
``async-customerio``'s ``TrackAPIV2`` (reached as ``client.v2``).

Each helper maps onto libcustomerio's helper for that type and action (``cio_v2_person_event``
and so on), which writes the operation; a person's identifiers of another shape than one id are
passed on as given (CIO_ID_TYPE_IDENTIFIERS) and libcustomerio judges them as it would the
operation written by hand; an object's pass what they hold, and the helper names what is missing.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Callable, Dict, List, Optional, Type, TypedDict, Union

from . import _mapping as m
from ._core import RESULT_BATCH, RESULT_NONE
from .constants import ObjectIdentifiers, PersonIdentifiers

__all__ = ["Actions", "EntityPayload", "TrackAPIV2", "SyncTrackAPIV2"]


class Actions(str, Enum):
    """The actions an entity operation can perform."""

    identify = "identify"
    delete = "delete"
    event = "event"
    screen = "screen"
    page = "page"
    add_relationships = "add_relationships"
    delete_relationships = "delete_relationships"
    add_device = "add_device"
    delete_device = "delete_device"
    merge = "merge"
    suppress = "suppress"
    unsuppress = "unsuppress"


class _EntityPayloadRequired(TypedDict):
    identifiers: Union[PersonIdentifiers, ObjectIdentifiers]
    type: str
    action: str


class EntityPayload(_EntityPayloadRequired, total=False):
    """One v2 entity operation, as an item of ``send_batch``."""

    attributes: Dict[str, Any]
    name: str
    device: Dict[str, Any]
    cio_relationships: List[Dict[str, Any]]


Relationships = List[Dict[str, Any]]


class TrackAPIV2:
    """Track API v2 for :class:`~customerio_native.AsyncCustomerIO` (``cio.v2``): every method
    is a coroutine."""

    def __init__(self, submit: Callable[..., Any], encoder: Optional[Type[json.JSONEncoder]]):
        self._submit = submit
        self._enc = encoder

    async def send_entity(self, payload: Dict[str, Any]) -> None:
        """POST one fully formed operation to ``/api/v2/entity``."""
        await self._submit(RESULT_NONE, m.entity(payload, self._enc))

    async def send_batch(self, payload: List[EntityPayload]) -> Dict[str, Any]:
        """Send many operations, as async-customerio does, and return the items that failed
        the way its 207 answer does: ``{"errors": [{"batch_index", "reason", "field",
        "message"}]}`` with indexes into *payload* (``{}`` when everything was accepted).
        libcustomerio checks each operation first: an invalid one is not sent and is listed
        there too (reason ``invalid``/``required``/``too_large``, the field at fault, a message
        naming ``operations[i]``), while the valid ones go out, split into as many
        ``/api/v2/batch`` requests as needed to stay under 500 KB (never truncating). A batch
        whose every item is invalid sends nothing and returns them all. A request that fails
        as a whole raises."""
        return await self._submit(RESULT_BATCH, m.batch(payload, self._enc))

    # ---- people ----

    async def identify_person(self, identifiers: PersonIdentifiers, **attrs: Any) -> None:
        """Identify (create or update) a person."""
        await self._submit(RESULT_NONE, m.v2_person("identify", identifiers, self._enc,
                                                    attrs=attrs))

    async def delete_person(self, identifiers: PersonIdentifiers) -> None:
        """Delete a person."""
        await self._submit(RESULT_NONE, m.v2_person("delete", identifiers, self._enc))

    async def track_person_event(self, identifiers: PersonIdentifiers, name: str,
                                 **attrs: Any) -> None:
        """Track an event for a person."""
        await self._submit(RESULT_NONE, m.v2_person("event", identifiers, self._enc, name=name,
                                                    attrs=attrs))

    async def person_pageview(self, identifiers: PersonIdentifiers, name: str,
                              **attrs: Any) -> None:
        """Track a page view (name: the URL) for a person."""
        await self._submit(RESULT_NONE, m.v2_person("page", identifiers, self._enc, name=name,
                                                    attrs=attrs))

    async def person_screen(self, identifiers: PersonIdentifiers, name: str,
                            **attrs: Any) -> None:
        """Track a mobile screen view for a person."""
        await self._submit(RESULT_NONE, m.v2_person("screen", identifiers, self._enc, name=name,
                                                    attrs=attrs))

    async def add_person_device(self, identifiers: PersonIdentifiers, device_id: str,
                                platform: str, **device_attrs: Any) -> None:
        """Add or update a device (``last_used``, ``attributes``) of a person."""
        await self._submit(RESULT_NONE, m.v2_person_add_device(identifiers, device_id, platform,
                                                               device_attrs, self._enc))

    async def delete_person_device(self, identifiers: PersonIdentifiers, device_id: str) -> None:
        """Delete a device of a person."""
        await self._submit(RESULT_NONE, m.v2_person_delete_device(identifiers, device_id,
                                                                  self._enc))

    async def suppress_person(self, identifiers: PersonIdentifiers) -> None:
        """Suppress a person."""
        await self._submit(RESULT_NONE, m.v2_person("suppress", identifiers, self._enc))

    async def unsuppress_person(self, identifiers: PersonIdentifiers) -> None:
        """Unsuppress a person."""
        await self._submit(RESULT_NONE, m.v2_person("unsuppress", identifiers, self._enc))

    async def merge_persons(self, primary: PersonIdentifiers,
                            secondary: PersonIdentifiers) -> None:
        """Merge the secondary person into the primary one (not reversible)."""
        await self._submit(RESULT_NONE, m.v2_person_merge(primary, secondary, self._enc))

    async def add_person_relationships(self, identifiers: PersonIdentifiers,
                                       relationships: Relationships) -> None:
        """Relate a person to objects."""
        await self._submit(RESULT_NONE, m.v2_relationships("person", True, identifiers,
                                                           relationships, self._enc))

    async def delete_person_relationships(self, identifiers: PersonIdentifiers,
                                          relationships: Relationships) -> None:
        """Remove relationships between a person and objects."""
        await self._submit(RESULT_NONE, m.v2_relationships("person", False, identifiers,
                                                           relationships, self._enc))

    # ---- objects ----

    async def identify_object(self, identifiers: ObjectIdentifiers, **attrs: Any) -> None:
        """Identify (create or update) an object."""
        await self._submit(RESULT_NONE, m.v2_object("identify", identifiers, self._enc,
                                                    attrs=attrs))

    async def delete_object(self, identifiers: ObjectIdentifiers) -> None:
        """Delete an object."""
        await self._submit(RESULT_NONE, m.v2_object("delete", identifiers, self._enc))

    async def track_object_event(self, identifiers: ObjectIdentifiers, name: str,
                                 **attrs: Any) -> None:
        """Track an event on an object."""
        await self._submit(RESULT_NONE, m.v2_object("event", identifiers, self._enc, name=name,
                                                    attrs=attrs))

    async def add_object_relationships(self, identifiers: ObjectIdentifiers,
                                       relationships: Relationships) -> None:
        """Relate an object to people."""
        await self._submit(RESULT_NONE, m.v2_relationships("object", True, identifiers,
                                                           relationships, self._enc))

    async def delete_object_relationships(self, identifiers: ObjectIdentifiers,
                                          relationships: Relationships) -> None:
        """Remove relationships between an object and people."""
        await self._submit(RESULT_NONE, m.v2_relationships("object", False, identifiers,
                                                           relationships, self._enc))

    # ---- deliveries (not in async-customerio) ----

    async def track_delivery_event(self, delivery_id: str, metric: str, **attrs: Any) -> None:
        """A delivery metric (opened, clicked, converted, ...) as a v2 delivery event."""
        await self._submit(RESULT_NONE, m.v2_delivery_event(delivery_id, metric, attrs,
                                                            self._enc))


class SyncTrackAPIV2:
    """Track API v2 for :class:`~customerio_native.CustomerIO` (``cio.v2``): the same methods as
    :class:`TrackAPIV2`, blocking."""

    def __init__(self, run: Callable[[m.Spec], Any], encoder: Optional[Type[json.JSONEncoder]]):
        self._run = run
        self._enc = encoder

    def send_entity(self, payload: Dict[str, Any]) -> None:
        self._run(m.entity(payload, self._enc))

    def send_batch(self, payload: List[EntityPayload]) -> Dict[str, Any]:
        """See :meth:`TrackAPIV2.send_batch`."""
        from ._core import batch_response

        result = self._run(m.batch(payload, self._enc))
        return batch_response(result)

    def identify_person(self, identifiers: PersonIdentifiers, **attrs: Any) -> None:
        self._run(m.v2_person("identify", identifiers, self._enc, attrs=attrs))

    def delete_person(self, identifiers: PersonIdentifiers) -> None:
        self._run(m.v2_person("delete", identifiers, self._enc))

    def track_person_event(self, identifiers: PersonIdentifiers, name: str, **attrs: Any) -> None:
        self._run(m.v2_person("event", identifiers, self._enc, name=name, attrs=attrs))

    def person_pageview(self, identifiers: PersonIdentifiers, name: str, **attrs: Any) -> None:
        self._run(m.v2_person("page", identifiers, self._enc, name=name, attrs=attrs))

    def person_screen(self, identifiers: PersonIdentifiers, name: str, **attrs: Any) -> None:
        self._run(m.v2_person("screen", identifiers, self._enc, name=name, attrs=attrs))

    def add_person_device(self, identifiers: PersonIdentifiers, device_id: str, platform: str,
                          **device_attrs: Any) -> None:
        self._run(m.v2_person_add_device(identifiers, device_id, platform, device_attrs,
                                         self._enc))

    def delete_person_device(self, identifiers: PersonIdentifiers, device_id: str) -> None:
        self._run(m.v2_person_delete_device(identifiers, device_id, self._enc))

    def suppress_person(self, identifiers: PersonIdentifiers) -> None:
        self._run(m.v2_person("suppress", identifiers, self._enc))

    def unsuppress_person(self, identifiers: PersonIdentifiers) -> None:
        self._run(m.v2_person("unsuppress", identifiers, self._enc))

    def merge_persons(self, primary: PersonIdentifiers, secondary: PersonIdentifiers) -> None:
        self._run(m.v2_person_merge(primary, secondary, self._enc))

    def add_person_relationships(self, identifiers: PersonIdentifiers,
                                 relationships: Relationships) -> None:
        self._run(m.v2_relationships("person", True, identifiers, relationships, self._enc))

    def delete_person_relationships(self, identifiers: PersonIdentifiers,
                                    relationships: Relationships) -> None:
        self._run(m.v2_relationships("person", False, identifiers, relationships, self._enc))

    def identify_object(self, identifiers: ObjectIdentifiers, **attrs: Any) -> None:
        self._run(m.v2_object("identify", identifiers, self._enc, attrs=attrs))

    def delete_object(self, identifiers: ObjectIdentifiers) -> None:
        self._run(m.v2_object("delete", identifiers, self._enc))

    def track_object_event(self, identifiers: ObjectIdentifiers, name: str, **attrs: Any) -> None:
        self._run(m.v2_object("event", identifiers, self._enc, name=name, attrs=attrs))

    def add_object_relationships(self, identifiers: ObjectIdentifiers,
                                 relationships: Relationships) -> None:
        self._run(m.v2_relationships("object", True, identifiers, relationships, self._enc))

    def delete_object_relationships(self, identifiers: ObjectIdentifiers,
                                    relationships: Relationships) -> None:
        self._run(m.v2_relationships("object", False, identifiers, relationships, self._enc))

    def track_delivery_event(self, delivery_id: str, metric: str, **attrs: Any) -> None:
        self._run(m.v2_delivery_event(delivery_id, metric, attrs, self._enc))
