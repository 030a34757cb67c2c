"""The baseline: one `requests` call per event, as the official `customerio` client does.

Usage: baseline_requests.py URL N. Prints one line like c_bench.
"""
import resource
import sys
import time

import requests

url, n = sys.argv[1], int(sys.argv[2])
session = requests.Session()  # the official client keeps one pooled session too
auth = ("bench-site", "bench-key")
started = time.monotonic()
cpu_started = time.process_time()
for i in range(n):
    response = session.post(
        f"{url}/api/v1/customers/user-1/events",
        json={"name": "purchased", "data": {"price": i % 100 + 0.5, "sku": f"SKU-{i % 977}"}},
        auth=auth,
        timeout=10,
    )
    response.raise_for_status()
seconds = time.monotonic() - started
cpu = time.process_time() - cpu_started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"py_requests_baseline events={n} seconds={seconds:.3f} events_per_second={n / seconds:.0f} "
      f"cpu_us={cpu / n * 1e6:.2f} rss_kb={rss}")
