"""Prints the emulator's request log (GET /_mock/requests, read from stdin) one line a request."""
import json
import sys

for request in json.load(sys.stdin):
    query = "?" + request["query"] if request["query"] else ""
    print(f'{request["status"]} {request["method"]:6} {request["path"]}{query}')
    if request.get("body"):
        print("       " + request["body"])
