"""``VERSION``, where the official package keeps it (``customerio.analytics.version``): this
package's version (libcustomerio's)."""

from __future__ import annotations

from .._core import __version__ as VERSION

__all__ = ["VERSION"]
