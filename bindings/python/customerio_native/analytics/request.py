"""Where the official package keeps ``APIError`` (``customerio.analytics.request``), so that
``from customerio_native.analytics.request import APIError`` works as the official import
does. The HTTP itself is libcustomerio's."""

from __future__ import annotations

from .errors import APIError

__all__ = ["APIError"]
