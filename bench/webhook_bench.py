"""Reporting-webhook signature checks from Python: ours against the standard library's hmac.

Usage: webhook_bench.py native|hmac SIZE N
  native  customerio_native.webhooks.validate_signature (OpenSSL in the C core, constant time)
  hmac    hmac.new(key, b"v0:" + timestamp + b":" + body, sha256).hexdigest() and
          hmac.compare_digest, what a hand-written check (and async-customerio) does
The body is SIZE bytes (the same bytes as c_bench webhook). Prints MB/s of body verified.
"""
import hashlib
import hmac
import resource
import sys
import time

from customerio_native import webhooks

mode, size, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
key = "755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa"
timestamp = "1692633432"
pattern = b'{"metric":"opened","data":{}}'
body = (pattern * (size // len(pattern) + 1))[:size]
signature = webhooks.sign(key, timestamp, body)


def by_hmac(body: bytes) -> bool:
    mac = hmac.new(key.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), signature)


check = {"native": lambda b: webhooks.validate_signature(key, timestamp, b, signature),
         "hmac": by_hmac}[mode]
started, cpu_started = time.monotonic(), time.process_time()
for _ in range(n):
    if not check(body):
        sys.exit("signature refused")
seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("py_webhook_{}_{} events={} seconds={:.3f} events_per_second={:.0f} mb_per_second={:.1f} "
      "cpu_us={:.2f} rss_kb={}".format(mode, size, n, seconds, n / seconds,
                                       size * n / seconds / 1e6, cpu / n * 1e6, rss))
