"""What the synchronous Track methods return: the server's answer, read the way a caller of the
official ``customerio`` 3.x reads the ``requests.Response`` it returns.

This is our class, not ``requests.Response``: it has the members such callers use
(``status_code``, ``ok``, ``reason``, ``headers``, ``content``, ``text``, ``json()``,
``raise_for_status()``, truth value, ``repr``) and nothing else (no ``url``, ``request``,
``cookies``, ``elapsed``, ``history``, ``iter_content``). A method only returns once the call succeeded (a
failure raises :class:`~customerio_native.CustomerIOException`, as in 3.x), so ``ok`` is true and
``raise_for_status()`` does nothing.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, Mapping, MutableMapping, Optional, Tuple

__all__ = ["Response", "CaseInsensitiveDict"]


class CaseInsensitiveDict(MutableMapping[str, str]):
    """Header names looked up without regard to case (``headers["content-type"]``), as
    ``requests.structures.CaseInsensitiveDict``; iteration gives the names as received."""

    def __init__(self, data: Optional[Mapping[str, str]] = None) -> None:
        self._store: Dict[str, Tuple[str, str]] = {}
        if data:
            self.update(data)

    def __setitem__(self, key: str, value: str) -> None:
        self._store[key.lower()] = (key, value)

    def __getitem__(self, key: str) -> str:
        return self._store[key.lower()][1]

    def __delitem__(self, key: str) -> None:
        del self._store[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _value in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def _parse_headers(block: bytes) -> Tuple[str, CaseInsensitiveDict]:
    """The reason phrase and the headers of a raw header block ("HTTP/1.1 200 OK\\r\\nName:
    value\\r\\n..."); a repeated header's values are joined with ", " as requests does."""
    headers = CaseInsensitiveDict()
    reason = ""
    lines = block.decode("latin-1").split("\r\n")
    if lines and lines[0].startswith("HTTP/"):
        parts = lines[0].split(" ", 2)
        reason = parts[2].strip() if len(parts) > 2 else ""
        lines = lines[1:]
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            continue
        name, value = name.strip(), value.strip()
        if name in headers:
            value = headers[name] + ", " + value
        headers[name] = value
    return reason, headers


_REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
            207: "Multi-Status"}


class Response:
    """The answer to one successful call (see the module docstring).

    :ivar status_code: the HTTP status (200, 204, ...).
    :ivar headers: the response headers, case-insensitive; empty when the call was made of
        several requests (a batch split in parts).
    :ivar content: the body as bytes.
    """

    __slots__ = ("status_code", "content", "encoding", "_block", "_parsed")

    def __init__(self, status_code: int, content: bytes = b"",
                 header_block: bytes = b"") -> None:
        self.status_code = status_code
        self.content = content
        self.encoding = "utf-8"
        self._block = header_block
        self._parsed: Optional[Tuple[str, CaseInsensitiveDict]] = None

    def _headers(self) -> Tuple[str, CaseInsensitiveDict]:
        # parsed on first use: most callers never read them
        if self._parsed is None:
            self._parsed = _parse_headers(self._block)
        return self._parsed

    @property
    def headers(self) -> CaseInsensitiveDict:
        """The response headers, case-insensitive."""
        return self._headers()[1]

    @property
    def reason(self) -> str:
        """The status line's reason phrase ("OK"; HTTP/2 has none: the usual one for the
        status)."""
        return self._headers()[0] or _REASONS.get(self.status_code, "")

    @property
    def ok(self) -> bool:
        """True for a status below 400 (always, for a call that returned)."""
        return self.status_code < 400

    def __bool__(self) -> bool:
        return self.ok

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.content.decode(self.encoding or "utf-8", "replace")

    def json(self, **kwargs: Any) -> Any:
        """The body parsed as JSON; raises ``ValueError`` (``json.JSONDecodeError``) when it is
        not JSON, an empty body included, as ``requests`` does."""
        return json.loads(self.text, **kwargs)

    def raise_for_status(self) -> None:
        """Does nothing: a call that failed raised already."""
        if self.status_code >= 400:  # pragma: no cover - never built for a failure
            from .errors import CustomerIOException

            raise CustomerIOException("{} {}".format(self.status_code, self.reason),
                                      status=self.status_code, body=self.text)

    def __repr__(self) -> str:
        return "<Response [{}]>".format(self.status_code)


def from_native(answer: Optional[Tuple[int, bytes, bytes]]) -> Optional[Response]:
    """A Response from cio_py_last_response()'s (status, body, headers), None for None."""
    if answer is None:
        return None
    status, body, headers = answer
    return Response(status, body, headers)
