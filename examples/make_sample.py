#!/usr/bin/env python3
"""Generates the sample import data set in examples/sample/ (run once; the output is committed).

    python3 examples/make_sample.py

people.csv    2,000 people (CSV, headers mapped to record fields by sample/schema.yaml)
events.jsonl  5,000 events, page views and devices (JSON Lines)

About one record in a hundred is deliberately wrong, so that `cio-native import` has something to
report: a missing or malformed email, an age that is not a number, a plan or an event the
schema does not know, a bad date, a CSV row with a missing column, a line that is not JSON, an
event without its required attribute or with one of the wrong type, a record over the size
limit. The output is deterministic (a fixed random seed).
"""
import csv
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "sample")
N_PEOPLE = 2000
N_EVENTS = 5000

FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret",
         "Dennis", "Radia", "Tim", "Sophie", "Linus", "Katherine", "John", "Hedy", "Niklaus"]
LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
        "Hamilton", "Ritchie", "Perlman", "Berners-Lee", "Wilson", "Torvalds", "Johnson",
        "McCarthy", "Lamarr", "Wirth"]
COUNTRIES = ["US", "GB", "FR", "DE", "NL", "SE", "CA", "AU", "JP", "BR"]
PLANS = ["free", "free", "free", "pro", "pro", "enterprise"]
SKUS = [f"SKU-{n:04d}" for n in range(1, 60)]
PAGES = ["/", "/pricing", "/docs", "/blog", "/signup", "/account", "/changelog"]


def iso(rng, year=2024):
    return (f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z")


def people(rng):
    rows = []
    for n in range(1, N_PEOPLE + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append({
            "customer_id": f"p{n:05d}",
            "e_mail": f"  {first}.{last}{n}@Example.com ".replace(" ", "", 1),
            "fname": first,
            "lname": last,
            "plan": rng.choice(PLANS),
            "signed_up": iso(rng, rng.choice([2022, 2023, 2024])),
            "age": str(rng.randint(18, 80)) if rng.random() < 0.8 else "",
            "vip": rng.choice(["yes", "no", "no", "no"]),
            "country": rng.choice(COUNTRIES),
        })
    # deliberate mistakes, each on its own row
    bad = rng.sample(range(N_PEOPLE), 30)
    for j in bad[0:6]:
        rows[j]["e_mail"] = ""                               # missing_attribute email
    for j in bad[6:11]:
        rows[j]["e_mail"] = rows[j]["e_mail"].replace("@", " at ")  # bad_value email
    for j in bad[11:16]:
        rows[j]["age"] = rng.choice(["thirty", "n/a", "42 years"])  # wrong_type age
    for j in bad[16:20]:
        rows[j]["plan"] = "gold"                             # bad_value plan (enum)
    for j in bad[20:24]:
        rows[j]["signed_up"] = rng.choice(["31/12/2023", "yesterday", "2023-02-30"])  # wrong_type
    for j in bad[24:27]:
        rows[j]["country"] = rng.choice(["usa", "France", "u.k."])  # bad_value pattern
    return rows, set(bad[27:30])  # rows written with a column missing (bad_csv)


def events(rng):
    lines = []
    for _ in range(N_EVENTS):
        pid = f"p{rng.randint(1, N_PEOPLE):05d}"
        r = rng.random()
        if r < 0.35:
            rec = {"type": "event", "id": pid, "name": "viewed_product",
                   "sku": rng.choice(SKUS), "timestamp": iso(rng)}
        elif r < 0.55:
            rec = {"type": "event", "id": pid, "name": "purchased", "timestamp": iso(rng),
                   "attributes": {"order_id": f"o{rng.randint(1, 10**7)}",
                                  "amount": round(rng.uniform(5, 500), 2),
                                  "currency": rng.choice(["USD", "EUR", "GBP"])}}
        elif r < 0.70:
            rec = {"type": "event", "id": pid, "name": "signed_in", "timestamp": iso(rng)}
        elif r < 0.75:
            rec = {"type": "event", "id": pid, "name": "subscription_changed",
                   "from": "free", "to": rng.choice(["pro", "enterprise"]),
                   "timestamp": iso(rng)}
        elif r < 0.95:
            rec = {"type": "page", "id": pid,
                   "name": "https://example.com" + rng.choice(PAGES),
                   "referrer": rng.choice(["google", "newsletter", "direct"]),
                   "timestamp": iso(rng)}
        else:
            rec = {"type": "device", "id": pid,
                   "device": {"token": f"tok-{rng.getrandbits(64):016x}",
                              "platform": rng.choice(["ios", "android"]),
                              "last_used": 1714557600 + rng.randint(0, 10**7)}}
        lines.append(json.dumps(rec, separators=(",", ":")))
    bad = rng.sample(range(N_EVENTS), 25)
    for j in bad[0:3]:
        lines[j] = lines[j][:-9]                               # bad_json (cut short)
    for j in bad[3:8]:
        lines[j] = json.dumps({"type": "event", "id": f"p{j % N_PEOPLE + 1:05d}",
                               "name": "purchased", "attributes": {"order_id": f"o{j}"}})
        # missing_attribute amount
    for j in bad[8:13]:
        lines[j] = json.dumps({"type": "event", "id": f"p{j % N_PEOPLE + 1:05d}",
                               "name": "purchased",
                               "attributes": {"order_id": f"o{j}", "amount": "12.50"}})
        # wrong_type amount (a string)
    for j in bad[13:18]:
        lines[j] = json.dumps({"type": "event", "id": f"p{j % N_PEOPLE + 1:05d}",
                               "name": "clicked_ad", "campaign": "spring"})  # unknown_event
    for j in bad[18:21]:
        lines[j] = json.dumps({"type": "event", "name": "signed_in"})  # missing_identifier
    for j in bad[21:23]:
        lines[j] = json.dumps({"type": "event", "id": f"p{j % N_PEOPLE + 1:05d}",
                               "name": "viewed_product", "sku": "SKU-0001",
                               "timestamp": "last tuesday"})  # bad_field timestamp
    j = bad[23]
    lines[j] = json.dumps({"type": "event", "id": "p00001", "name": "viewed_product",
                           "sku": "SKU-0002", "notes": "x" * 100000})  # too_large (unread)
    j = bad[24]
    lines[j] = json.dumps({"type": "event", "id": "p00002", "name": "viewed_product",
                           "sku": "SKU-0003", "notes": "y" * 40000})  # over 32 KB: the core
    return lines


def main():
    rng = random.Random(7)
    os.makedirs(OUT, exist_ok=True)
    rows, short_rows = people(rng)
    header = ["customer_id", "e_mail", "fname", "lname", "plan", "signed_up", "age", "vip",
              "country"]
    with open(os.path.join(OUT, "people.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for i, row in enumerate(rows):
            values = [row[h] for h in header]
            w.writerow(values[:-1] if i in short_rows else values)
    with open(os.path.join(OUT, "events.jsonl"), "w") as f:
        for line in events(rng):
            f.write(line + "\n")
    print(f"wrote {OUT}/people.csv ({len(rows)} rows) and {OUT}/events.jsonl ({N_EVENTS} lines)")


if __name__ == "__main__":
    main()
