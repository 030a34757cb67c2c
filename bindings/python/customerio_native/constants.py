"""Identifier types, as in the official clients."""

from __future__ import annotations

from typing import TypedDict, Union

__all__ = [
    "ID",
    "EMAIL",
    "CIOID",
    "IdentifierID",
    "IdentifierEMAIL",
    "IdentifierCIOID",
    "IdentifierObject",
    "IdentifierCIOObject",
    "PersonIdentifiers",
    "ObjectIdentifiers",
]

ID: str = "id"
EMAIL: str = "email"
CIOID: str = "cio_id"

IdentifierID = TypedDict("IdentifierID", {"id": Union[str, int]})
IdentifierEMAIL = TypedDict("IdentifierEMAIL", {"email": str})
IdentifierCIOID = TypedDict("IdentifierCIOID", {"cio_id": Union[str, int]})
IdentifierObject = TypedDict("IdentifierObject", {"object_type_id": str, "object_id": str})
IdentifierCIOObject = TypedDict("IdentifierCIOObject", {"cio_object_id": str})

PersonIdentifiers = Union[IdentifierID, IdentifierEMAIL, IdentifierCIOID]
ObjectIdentifiers = Union[IdentifierObject, IdentifierCIOObject]
