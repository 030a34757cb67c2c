"""Run by check_wheel.sh inside bare.sh, from a venv that has only the installed wheel: the
package imports from that venv, the native libraries it maps are the wheel's own copies (not
the system's, not the build tree's), and a few calls (a blocking client, a queued pipeline) put
the exact requests on the emulator. Argument: the emulator's port."""

from __future__ import annotations

import base64
import ctypes
import json
import os
import shutil
import sys
import urllib.request
from typing import Any, Dict, List

import customerio_native as cio

PORT = int(sys.argv[1])
URL = "http://127.0.0.1:{}".format(PORT)
SITE_ID, API_KEY = "pk-site", "pk-key"


def control(method: str, path: str) -> Any:
    req = urllib.request.Request(URL + "/_mock/" + path, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        text = resp.read()
    return json.loads(text) if text else None


def mapped_libraries() -> List[str]:
    with open("/proc/self/maps") as f:
        paths = (line.split()[-1] for line in f if "/" in line)
        return sorted({p for p in paths if ".so" in os.path.basename(p)})


# Imported from the fresh venv, nothing else.
package_dir = os.path.dirname(os.path.realpath(cio.__file__))
assert package_dir.startswith(os.path.realpath(sys.prefix) + os.sep), (package_dir, sys.prefix)
assert "LD_LIBRARY_PATH" not in os.environ and "PYTHONPATH" not in os.environ
for tool in ("cc", "gcc", "make", "ld"):
    assert shutil.which(tool) is None, tool

# The wheel's libraries are the ones mapped: libcurl and jansson only from
# customerio_native.libs, libssl/libcrypto from there too (Python's own _ssl may map the
# system's beside them: that is Python's, under its own name).
libs_dir = os.path.join(os.path.dirname(package_dir), "customerio_native.libs")
maps = mapped_libraries()
for name in ("libcurl", "libjansson", "libssl", "libcrypto"):
    ours = [p for p in maps if os.path.dirname(p) == libs_dir and
            os.path.basename(p).startswith(name + "-")]
    assert ours, (name, maps)
for name in ("libcurl", "libjansson"):
    others = [p for p in maps if os.path.basename(p).startswith(name) and
              os.path.dirname(p) != libs_dir]
    assert not others, others
if os.environ.get("CIO_BARE_HIDDEN") == "1":
    # The sandbox really hides the system's copies: the import above did not need them.
    for soname in ("libcurl.so.4", "libjansson.so.4"):
        try:
            ctypes.CDLL(soname)
        except OSError:
            continue
        raise AssertionError(soname + " is loadable: the sandbox did not hide it")

control("DELETE", "requests")
client = cio.CustomerIO(SITE_ID, API_KEY, host="http://127.0.0.1", port=PORT)
client.identify(id=5, email="wheel@example.com", plan="pro")
client.track(customer_id=5, name="installed", source="wheel")
client.close()

with cio.Pipeline(SITE_ID, API_KEY, host="http://127.0.0.1", port=PORT) as pipe:
    for i in range(3):
        pipe.track(str(i), "queued", n=i)
    assert pipe.flush()
    stats = pipe.stats()
assert stats["enqueued"] == 3 and stats["delivered"] == 3 and stats["failed"] == 0, stats

reqs: List[Dict[str, Any]] = control("GET", "requests")
auth = "Basic " + base64.b64encode("{}:{}".format(SITE_ID, API_KEY).encode()).decode()
assert [(r["method"], r["path"], r["status"]) for r in reqs] == [
    ("PUT", "/api/v1/customers/5", 200),
    ("POST", "/api/v1/customers/5/events", 200),
    ("POST", "/api/v2/batch", 200),
], reqs
assert all(r["headers"]["authorization"] == auth for r in reqs)
assert json.loads(reqs[0]["body"]) == {"email": "wheel@example.com", "plan": "pro"}
event = json.loads(reqs[1]["body"])
assert len(event.pop("id")) == 26
assert event == {"name": "installed", "data": {"source": "wheel"}}, event
ops = [{k: v for k, v in op.items() if k != "id"} for op in json.loads(reqs[2]["body"])["batch"]]
assert ops == [{"type": "person", "action": "event", "identifiers": {"id": str(i)},
                "name": "queued", "attributes": {"n": i}} for i in range(3)], ops
print("wheel smoke: Python {}.{} imported {} from {}, {} requests as expected{}".format(
    sys.version_info[0], sys.version_info[1], cio.__name__, package_dir, len(reqs),
    ", system libcurl/jansson hidden" if os.environ.get("CIO_BARE_HIDDEN") == "1" else ""))
