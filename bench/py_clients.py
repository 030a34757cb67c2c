"""customerio_native from Python, one request per event: the sync client and the asyncio one.

Usage: py_clients.py sync|async URL N [IN_FLIGHT]
  sync   CustomerIO.track() N times, one after the other (what the official client does, on
         the C core)
  async  AsyncCustomerIO.track() N times with IN_FLIGHT (default 1,000) awaits in flight at
         once, all on the client's one engine thread (no thread per request)
Prints one line like c_bench (cpu_us: this process's CPU time per event, all threads).
"""
import asyncio
import resource
import sys
import time
from urllib.parse import urlsplit

from customerio_native import AsyncCustomerIO, CustomerIO

mode, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
in_flight = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
parts = urlsplit(url)
# with its scheme: a host without one means https (as in the official clients)
host = "{}://{}".format(parts.scheme, parts.hostname)


def run_sync() -> None:
    cio = CustomerIO("bench-site", "bench-key", host=host, port=parts.port)
    for i in range(n):
        cio.track("user-1", "purchased", price=i % 100 + 0.5, sku="SKU-{}".format(i % 977))


async def run_async() -> None:
    cio = AsyncCustomerIO("bench-site", "bench-key", host=host, port=parts.port)
    left = iter(range(n))

    async def worker() -> None:
        for i in left:
            await cio.track("user-1", "purchased", price=i % 100 + 0.5,
                            sku="SKU-{}".format(i % 977))

    await asyncio.gather(*(worker() for _ in range(min(in_flight, n))))
    await cio.close()


started, cpu_started = time.monotonic(), time.process_time()
if mode == "sync":
    run_sync()
elif mode == "async":
    asyncio.run(run_async())
else:
    sys.exit("usage: py_clients.py sync|async URL N [IN_FLIGHT]")
seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("py_{} events={} seconds={:.3f} events_per_second={:.0f} cpu_us={:.2f} rss_kb={}".format(
    mode, n, seconds, n / seconds, cpu / n * 1e6, rss))
