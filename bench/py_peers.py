"""The official Python Track clients against ours, the same calls, one request per event.

Usage: py_peers.py sync|async official|native URL N [IN_FLIGHT]
  sync   customerio 3.2 `CustomerIO.track()` vs customerio_native `CustomerIO.track()`, N calls
         one after the other
  async  async-customerio 2.18 `AsyncCustomerIO.track()` vs customerio_native
         `AsyncCustomerIO.track()`, N calls with IN_FLIGHT (default 100) awaits in flight

URL is http://127.0.0.1:PORT or https://127.0.0.1:PORT. Over https every client trusts the
emulator's throw-away CA from the environment (REQUESTS_CA_BUNDLE / SSL_CERT_FILE), as a user
behind a TLS-inspecting proxy has it. The official clients always build https:// URLs, so for
plain http their base URL is rewritten after construction (nothing else changes). The run fails
unless the emulator logged N requests. Prints one line like c_bench (cpu_us: this process's CPU
time per event, all threads).
"""
import asyncio
import json
import resource
import sys
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

mode, which, url, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
in_flight = int(sys.argv[5]) if len(sys.argv) > 5 else 100
parts = urlsplit(url)
plain = parts.scheme == "http"
port = parts.port
assert parts.hostname is not None and port is not None
# ours: a host without a scheme means https, as in the official clients
native_host = ("http://" if plain else "") + parts.hostname


def make_sync() -> Any:
    if which == "official":
        import customerio  # type: ignore[import-not-found]

        cio = customerio.CustomerIO("bench-site", "bench-key", host=parts.hostname, port=port)
        if plain:
            cio.base_url = cio.base_url.replace("https://", "http://", 1)
        return cio
    from customerio_native import CustomerIO

    return CustomerIO("bench-site", "bench-key", host=native_host, port=port)


def make_async() -> Any:
    if which == "official":
        import async_customerio  # type: ignore[import-not-found]

        cio = async_customerio.AsyncCustomerIO("bench-site", "bench-key", host=parts.hostname,
                                               port=port)
        if plain:
            cio.setup_base_url = lambda host, port, prefix: "http://{}:{}/{}".format(
                host, port, prefix.strip("/"))
        return cio
    from customerio_native import AsyncCustomerIO

    return AsyncCustomerIO("bench-site", "bench-key", host=native_host, port=port)


def run_sync(cio: Any) -> None:
    # customerio 3.2's shape: the event's data as a dict (ours takes the same)
    for i in range(n):
        cio.track("user-1", "purchased", {"price": i % 100 + 0.5, "sku": "SKU-{}".format(i % 977)})


async def run_async() -> None:
    cio = make_async()
    left = iter(range(n))

    async def worker() -> None:
        for i in left:
            # async-customerio 2.18's shape: keyword arguments are the event's data
            await cio.track("user-1", "purchased", price=i % 100 + 0.5,
                            sku="SKU-{}".format(i % 977))

    await asyncio.gather(*(worker() for _ in range(min(in_flight, n))))
    await cio.close()


if mode not in ("sync", "async") or which not in ("official", "native"):
    sys.exit("usage: py_peers.py sync|async official|native URL N [IN_FLIGHT]")
client = make_sync() if mode == "sync" else None
started, cpu_started = time.monotonic(), time.process_time()
if client is not None:
    run_sync(client)
else:
    asyncio.run(run_async())
seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

with urllib.request.urlopen("{}://127.0.0.1:{}/_mock/requests".format(parts.scheme, port),
                            timeout=60) as answer:
    got = sum(1 for e in json.loads(answer.read()) if e.get("path", "").endswith("/events"))
if got != n:
    sys.exit("py_{}_{}: {} track requests arrived of {}".format(mode, which, got, n))
print("py_{}_{} events={} seconds={:.3f} events_per_second={:.0f} cpu_us={:.2f} rss_kb={}".format(
    mode, which, n, seconds, n / seconds, cpu / n * 1e6, rss))
