#!/usr/bin/env python3
"""Local HTTP server for the validation tests: replays recorded-format responses on 127.0.0.1.

Usage: replay_server.py SCENARIO.json STATE.json

Prints "PORT <n>" once listening. SCENARIO is
  {"routes": [{"method": "GET", "path": "/x", "query": {"a": "1"}, "body_contains": ["..."],
               "responses": [{"status": 429, "headers": {"Retry-After": "1"}},
                             {"status": 200, "body_file": "x.json", "gzip": true,
                              "delay": 2.0, "truncate": 10, "ranges": true}]}],
   "default": {"status": 404, "body": "not in scenario"}}
Each request to a route takes its next response; the last one repeats. body_file is relative
to the scenario's folder. "truncate": N announces the full Content-Length but sends N bytes and
closes. "ranges": true honours "Range: bytes=N-" with 206. STATE is rewritten after every
accepted connection and request: {"connections": n, "requests": [{method, path, query, body,
headers}]} so a test can check what reached the server (and that nothing did).
The server exits when its stdin reaches EOF, i.e. when the test that started it ends.
Standard library only.
"""
import gzip
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCENARIO = json.load(open(sys.argv[1]))
BASE = os.path.dirname(os.path.abspath(sys.argv[1]))
STATE_PATH = sys.argv[2]
LOCK = threading.Lock()
STATE = {"connections": 0, "requests": []}
NEXT = {}  # route index -> next response index


def save_state():
    tmp = STATE_PATH + ".tmp"
    with open(tmp, "w") as f:
        json.dump(STATE, f)
    os.replace(tmp, STATE_PATH)


def route_for(method, path, query, body):
    for i, r in enumerate(SCENARIO.get("routes", [])):
        if r.get("method", "GET") != method or r["path"] != path:
            continue
        want = r.get("query", {})
        if any(query.get(k) != ([v] if isinstance(v, str) else v) for k, v in want.items()):
            continue
        need = r.get("body_contains", [])
        if any(n not in body for n in ([need] if isinstance(need, str) else need)):
            continue
        return i, r
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test output quiet
        pass

    def handle_any(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        with LOCK:
            STATE["requests"].append({"method": method, "path": parsed.path, "query": query, "body": body,
                                      "headers": {k.lower(): v for k, v in self.headers.items()}})
            save_state()
            idx, route = route_for(method, parsed.path, query, body)
            if route is None:
                resp = SCENARIO.get("default", {"status": 404, "body": "not in scenario"})
            else:
                n = NEXT.get(idx, 0)
                seq = route["responses"]
                resp = seq[min(n, len(seq) - 1)]
                NEXT[idx] = n + 1
        self.reply(resp)

    def reply(self, resp):
        if resp.get("delay"):
            time.sleep(resp["delay"])
        if "body_file" in resp:
            data = open(os.path.join(BASE, resp["body_file"]), "rb").read()
        else:
            data = resp.get("body", "").encode()
        status = resp.get("status", 200)
        headers = dict(resp.get("headers", {}))
        rng = self.headers.get("Range")
        if resp.get("ranges") and rng and rng.startswith("bytes=") and status == 200:
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                status, data = 416, b""
            else:
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
                status, data = 206, data[start:]
        if resp.get("gzip") and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            data = gzip.compress(data)
            headers["Content-Encoding"] = "gzip"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        if resp.get("truncate") is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if resp.get("truncate") is not None:
            self.wfile.write(data[: resp["truncate"]])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # clients that time out or give up close early: expected here, not worth a traceback

    def get_request(self):
        conn = super().get_request()
        with LOCK:
            STATE["connections"] += 1
            save_state()
        return conn


def exit_with_parent():
    """The test holds our stdin open; EOF means it is gone (even if it crashed), so stop too."""
    sys.stdin.read()
    os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    srv = Server(("127.0.0.1", 0), Handler)
    save_state()
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
