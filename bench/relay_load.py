#!/usr/bin/env python3
"""The load generator of bench/relay.sh: N calls from T threads on kept-alive connections.

    relay_load.py URL PATH AUTH KIND N THREADS [BATCH]

KIND: team (one {"customer_id","event"} per request), v2 (one Track v2 event operation per
request, the emulator's /api/v2/entity), cdp (one Segment track message per request),
cdpbatch (BATCH Segment messages per /v1/batch request). AUTH is the Authorization header.
Prints one JSON line: requests, events, seconds, requests/s, events/s, and the statuses seen.
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse


def body(kind, i, batch):
    if kind == "team":
        return {"customer_id": f"c{i}", "event": "bench", "properties": {"i": i}}
    if kind == "v2":
        return {"type": "person", "action": "event", "identifiers": {"id": f"c{i}"},
                "name": "bench", "attributes": {"i": i}}
    if kind == "cdp":
        return {"type": "track", "userId": f"c{i}", "event": "bench", "properties": {"i": i}}
    return {"batch": [{"type": "track", "userId": f"c{i}-{k}", "event": "bench",
                       "properties": {"i": i}} for k in range(batch)]}


def main():
    url, path, auth, kind, n, threads = sys.argv[1:7]
    n, threads = int(n), int(threads)
    batch = int(sys.argv[7]) if len(sys.argv) > 7 else 1
    u = urllib.parse.urlparse(url)
    statuses, lock = {}, threading.Lock()
    headers = {"Content-Type": "application/json", "Authorization": auth}

    def worker(k):
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        seen = {}
        for i in range(k, n, threads):
            conn.request("POST", path, body=json.dumps(body(kind, i, batch)), headers=headers)
            r = conn.getresponse()
            r.read()
            seen[r.status] = seen.get(r.status, 0) + 1
        conn.close()
        with lock:
            for s, c in seen.items():
                statuses[s] = statuses.get(s, 0) + c

    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.perf_counter() - t0
    events = n * (batch if kind == "cdpbatch" else 1)
    print(json.dumps({"requests": n, "events": events, "seconds": round(took, 3),
                      "requests_per_s": round(n / took), "events_per_s": round(events / took),
                      "statuses": statuses}))


if __name__ == "__main__":
    main()
