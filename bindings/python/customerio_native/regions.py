"""Regions, as in the official client: ``Regions.US`` and ``Regions.EU``."""

from __future__ import annotations

from collections import namedtuple

__all__ = ["Region", "Regions"]

Region = namedtuple("Region", ["name", "track_host", "api_host"])
Region.__doc__ = "A Customer.io data centre: its name and its Track and App API hosts."


class Regions:
    """The two Customer.io regions."""

    US = Region("us", "track.customer.io", "api.customer.io")
    EU = Region("eu", "track-eu.customer.io", "api-eu.customer.io")
