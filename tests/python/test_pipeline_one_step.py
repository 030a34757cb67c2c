"""Pipeline.track / identify / pageview / screen go through one call into C (bindings/py_v2.i),
which writes the attributes as JSON itself: the operations it queues must be byte for byte those
of the way through the json module and the builder object (Pipeline._fast = False), and every
call it hands back (NotImplemented) must behave as before. Against the emulator: the
operations compared are the ones it received."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any, Dict, List

import pytest

import customerio_native as cio
from customerio_native import _native as _n
from customerio_native.pipeline import PipelineError

from conftest import API_KEY, SITE_ID

ULID = re.compile(r'"id":"[0-9A-HJKMNP-TV-Z]{26}"')


def sent_ops(mock: Any) -> List[str]:
    """The operations the emulator accepted, as the text it received, in order."""
    ops: List[str] = []
    for r in mock.requests():
        if r["path"] == "/api/v2/batch" and r["status"] == 200:
            body = r["body"]
            assert body.startswith('{"batch":[') and body.endswith("]}")
            ops.extend(json.dumps(op, ensure_ascii=True, separators=(",", ":"))
                       for op in json.loads(body)["batch"])
    return ops


def raw_ops(mock: Any) -> List[str]:
    """The operations as the exact bytes received (split at the top level of the batch)."""
    out: List[str] = []
    for r in mock.requests():
        if r["path"] != "/api/v2/batch" or r["status"] != 200:
            continue
        text = r["body"][len('{"batch":['):-len("]}")]
        depth, start, in_str, esc = 0, 0, False, False
        for i, ch in enumerate(text):
            if in_str:
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == '"':
                    in_str = False
            elif ch == '"':
                in_str = True
            elif ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
            elif ch == "," and depth == 0:
                out.append(text[start:i])
                start = i + 1
        out.append(text[start:])
    return out


ATTRIBUTES: List[Dict[str, Any]] = [
    {},
    {"price": 23.45, "sku": "SKU-1"},
    {"who": "Zoë", "quote": 'say "hi"\\ \n\t\x01\x1f\x7f/<', "emoji": "😀", "sep": "\u2028"},
    {"f": [0.1, 1.5, -2.25, 1e16, 1e-7, 0.30000000000000004, -0.0, 3.0, 1e300, 123456789.123]},
    {"i": [0, -1, 2 ** 63, -(2 ** 70), 10 ** 30], "b": [True, False, None]},
    {"nested": {"a": [{"b": {"c": []}}, {}], "é": {"ü": "ß"}}},
    {"ü-key": 1, "": "empty key"},
]


@pytest.mark.parametrize("method", ["track", "pageview", "screen", "identify"])
def test_one_step_writes_what_the_json_module_writes(mock: Any, method: str) -> None:
    pipe = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    assert pipe._fast
    for attrs in ATTRIBUTES:
        for fast in (True, False):
            pipe._fast = fast
            if method == "identify":
                pipe.identify("5", **attrs)
            else:
                getattr(pipe, method)("5", "purchased", **attrs)
    assert pipe.flush(10)
    pipe.close()
    ops = [ULID.sub('"id":"X"', op) for op in raw_ops(mock)]
    assert len(ops) == 2 * len(ATTRIBUTES)
    for i in range(0, len(ops), 2):
        assert ops[i] == ops[i + 1]


def test_one_step_exact_bytes(mock: Any) -> None:
    with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port) as pipe:
        # the one step takes this call itself (a sequence number, not NotImplemented)
        seq = _n.cio_py_v2_person(pipe, 1, "5", "purchased",
                                  {"price": 23.45, "who": "Zoë", "q": 'a"b', "n": None,
                                   "ok": True})
        assert isinstance(seq, int)
        assert _n.cio_py_v2_person(pipe, 1, 5, "purchased", {}) is NotImplemented
        assert _n.cio_py_v2_person(pipe, 1, "5", "e", {"t": (1,)}) is NotImplemented
    (op,) = raw_ops(mock)
    assert ULID.sub('"id":"X"', op) == (
        '{"id":"X","type":"person","action":"event","identifiers":{"id":"5"},'
        '"name":"purchased","attributes":{"price":23.45,"who":"Zo\\u00eb","q":"a\\"b",'
        '"n":null,"ok":true}}')


def test_values_left_to_the_json_module_behave_as_before(mock: Any) -> None:
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)
    with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port) as pipe:
        pipe.track("5", "e", at=when)                 # a datetime: unix seconds
        pipe.track("5", "e", nan=float("nan"))        # NaN: null, as the official client
        pipe.track("5", "e", pair=(1, 2))             # a tuple: a JSON array
        pipe.track(5, "e")                            # an int id: its text
        pipe.identify(7, a=1)
    ops = [json.loads(op) for op in sent_ops(mock)]
    assert [op.get("attributes") for op in ops] == [
        {"at": 1714564800}, {"nan": None}, {"pair": [1, 2]}, {}, {"a": 1}]
    assert [op["identifiers"] for op in ops] == [{"id": "5"}] * 4 + [{"id": "7"}]


def test_refusals_are_the_same(mock: Any) -> None:
    pipe = cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port)
    messages = []
    for fast in (True, False):
        pipe._fast = fast
        got = []
        for call in (lambda: pipe.track("", "e"), lambda: pipe.track("x" * 151, "e"),
                     lambda: pipe.track("5", ""), lambda: pipe.track("5", "e", bad=object()),
                     lambda: pipe.track("a\x00b", "e"), lambda: pipe.track("5", "e", s="\x00")):
            with pytest.raises(Exception) as info:
                call()
            got.append((type(info.value).__name__, str(info.value)))
        messages.append(got)
    assert messages[0] == messages[1]
    assert "identifiers.id is empty" in messages[0][0][1]
    pipe.close()
    for fast in (True, False):
        pipe._fast = fast
        with pytest.raises(PipelineError, match="the pipeline is closed"):
            pipe.track("5", "e")
    assert sent_ops(mock) == []


def test_an_encoder_of_its_own_or_synced_writes_turn_the_one_step_off(mock: Any) -> None:
    class Upper(json.JSONEncoder):
        def encode(self, o: Any) -> str:
            return super().encode(o).upper()

    class Dates(json.JSONEncoder):  # default() only sees what the one step leaves to json
        def default(self, o: Any) -> Any:
            return str(o)

    def fast(**options: Any) -> bool:
        with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port, **options) as pipe:
            return bool(pipe._fast)

    assert fast()
    assert fast(json_encoder=Dates)
    assert not fast(json_encoder=Upper)
    assert not fast(spool_sync="always")
    with cio.Pipeline(SITE_ID, API_KEY, host=mock.host, port=mock.port,
                      json_encoder=Upper) as pipe:
        pipe.track("5", "e", k="v")
    (op,) = raw_ops(mock)
    assert '"attributes":{"K":"V"}' in op
