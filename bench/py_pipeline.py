"""customerio_native.Pipeline end to end from Python: N track() calls, then flush().

Usage: py_pipeline.py URL N (URL: the emulator, credentials bench-site:bench-key). Prints one line
like c_bench: "py_pipeline events=N seconds=S events_per_second=E enqueue_us=U rss_kb=R".
Compare with c_pipeline: the difference is what the Python layer costs per event (building the
operation's JSON, the call through SWIG).
"""
import resource
import sys
import time
from urllib.parse import urlsplit

import customerio_native as cio

url, n = sys.argv[1], int(sys.argv[2])
parts = urlsplit(url)
# with its scheme: a host without one means https (as in the official clients)
host = "{}://{}".format(parts.scheme, parts.hostname)
errors = []
pipe = cio.Pipeline(
    "bench-site", "bench-key", host=host, port=parts.port,
    max_requests_per_second=-1,  # the emulator has no rate limit
    max_queue_bytes=4 << 30,
    on_error=errors.append,
)


def drive(n: int) -> None:
    """The calls, in a function as a service makes them (module-level code would spend its time
    on global variables). The ids are f-strings, as services write them (str.format() cost
    ~0.12 us more per event); c_bench formats the same ids with snprintf."""
    for i in range(n):
        pipe.track(f"user-{i % 10000}", "purchased", price=i % 100 + 0.5, sku=f"SKU-{i % 977}")


started = time.monotonic()
cpu_started = time.process_time()
drive(n)
queued = time.monotonic()
if not pipe.flush():
    sys.exit("flush did not finish")
seconds = time.monotonic() - started
cpu = time.process_time() - cpu_started
stats = pipe.stats()
pipe.close()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if errors or stats["delivered"] != n:
    sys.exit("py_pipeline: {} delivered, {} failed".format(stats["delivered"], len(errors)))
print("py_pipeline events={} seconds={:.3f} events_per_second={:.0f} enqueue_us={:.2f} "
      "cpu_us={:.2f} requests={} rss_kb={}".format(n, seconds, n / seconds,
                                                   (queued - started) / n * 1e6, cpu / n * 1e6,
                                                   stats["requests"], rss))
