"""The Data Pipelines client, official or ours, running the same code against the emulator.

Usage: py_analytics.py official|native URL N [key [paced]]
  official  customerio-cdp-analytics from PyPI (`from customerio import analytics`)
  native    customerio_native.analytics (the drop-in, on the C pipeline's Pipelines sink)

N `analytics.track()` calls (module-level API, the official README's usage), then
`analytics.flush()`. The time is end to end: until flush() returns, everything was sent. Then the
emulator's request log is read and the run fails unless N distinct messageIds arrived. Prints one
line like c_bench, with cpu_us: this process's CPU time (all threads) per event.

Both clients get max_queue_size=N, so that the official one (whose queue holds 10,000 by
default and drops beyond) queues everything too; everything else is each client's default.
"""
import json
import resource
import sys
import time
import urllib.request

which, url, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
key = sys.argv[4] if len(sys.argv) > 4 else "bench-cdp-key"
if which == "official":
    from customerio import analytics  # type: ignore[import-not-found]
elif which == "native":
    from customerio_native import analytics
else:
    sys.exit("usage: py_analytics.py official|native URL N [key]")

failures = []
analytics.write_key = key
analytics.host = url
analytics.max_queue_size = n
analytics.on_error = lambda error, batch: failures.append((error, len(batch)))
paced = len(sys.argv) > 5 and sys.argv[5] == "paced"
if which == "native" and not paced:
    # Ours paces its requests (100/s by default, ~170k messages/s); the official client does
    # not, and the emulator has no rate limit: both run unpaced, as the pipeline benchmarks do.
    analytics.max_requests_per_second = -1



def drive(n: int) -> int:
    """The calls, in a function as a service makes them (a loop at module level would spend
    its time on global variables, the same for both clients, and hide what they cost). The ids
    are f-strings, as services write them: str.format() cost ~0.12 us more per event."""
    queued = 0
    for i in range(n):
        ok, _ = analytics.track(f"user-{i % 10000}", "purchased",
                                {"price": i % 100 + 0.5, "sku": f"SKU-{i % 977}"})
        queued += 1 if ok else 0
    return queued


started = time.monotonic()
cpu_started = time.process_time()
queued = drive(n)
analytics.flush()
seconds = time.monotonic() - started
cpu = time.process_time() - cpu_started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

with urllib.request.urlopen(url + "/_mock/requests", timeout=60) as answer:
    log = json.loads(answer.read())
ids = set()
requests = 0
for entry in log:
    if entry.get("path") == "/v1/batch":
        requests += 1
        ids.update(m["messageId"] for m in json.loads(entry["body"])["batch"])
if queued != n or failures or len(ids) != n:
    sys.exit("py_cdp_{}: {} queued, {} distinct messages arrived of {}, failures {}".format(
        which, queued, len(ids), n, failures[:3]))
print("py_cdp_{}{} events={} seconds={:.3f} events_per_second={:.0f} cpu_us={:.2f} "
      "requests={} rss_kb={}".format(which, "_paced" if paced else "", n, seconds, n / seconds, cpu / n * 1e6, requests, rss))
analytics.shutdown()
