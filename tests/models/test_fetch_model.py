#!/usr/bin/env python3
"""`saeg fetch-model` against a local HTTP server on 127.0.0.1 serving a tiny model in the
Hugging Face layout (<base>/<size>-model/<file>), Python standard library only:

  1. a clean download gives byte-identical files and a folder the loader accepts;
  2. a server that drops the connection half-way through model.safetensors is resumed with a
     Range request, and the result is still byte-identical (the client asked for the missing tail
     only);
  3. an existing .part file is resumed rather than restarted;
  4. an unknown size and a 404 fail with exit status 2 and 1 and say why.

usage: test_fetch_model.py /path/to/saeg
"""
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(HERE, "fixtures", "tiny_relu")
FILES = ["model.safetensors", "model_config.yml", "collator_config.yml", "vocab.json"]


class Handler(http.server.BaseHTTPRequestHandler):
    drop_once = set()   # paths whose first full GET is cut off half-way
    ranges = []         # Range headers seen

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "70m-model" or parts[1] not in FILES:
            self.send_error(404)
            return
        with open(os.path.join(MODEL, parts[1]), "rb") as f:
            data = f.read()
        start = 0
        rng = self.headers.get("Range")
        if rng:
            Handler.ranges.append(rng)
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        body = data[start:]
        if self.path in Handler.drop_once and not rng:
            Handler.drop_once.discard(self.path)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


def saeg(binary, *args):
    p = subprocess.run([binary, "fetch-model", *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def same_files(dest):
    for name in FILES:
        with open(os.path.join(MODEL, name), "rb") as a, open(os.path.join(dest, "70m-model", name), "rb") as b:
            if a.read() != b.read():
                return name
    return None


def main():
    binary = sys.argv[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = tempfile.mkdtemp(prefix="saeg-test-fetch-")
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    try:
        dest = os.path.join(tmp, "clean")
        rc, out = saeg(binary, "70m", "--dest", dest, "--url", url)
        check(rc == 0 and same_files(dest) is None, "clean download is byte-identical")
        check("70m model ready" in out and "d_model 32" in out, "the downloaded folder loads")

        dest = os.path.join(tmp, "dropped")
        Handler.drop_once.add("/70m-model/model.safetensors")
        Handler.ranges.clear()
        rc, out = saeg(binary, "70m", "--dest", dest, "--url", url)
        check(rc == 0 and same_files(dest) is None, "a dropped connection is resumed to identical bytes")
        check(any(r.startswith("bytes=") and r != "bytes=0-" for r in Handler.ranges), "the resume asked for the tail only")

        dest = os.path.join(tmp, "partial")
        os.makedirs(os.path.join(dest, "70m-model"))
        with open(os.path.join(MODEL, "model.safetensors"), "rb") as f:
            head = f.read(1000)
        with open(os.path.join(dest, "70m-model", "model.safetensors.part"), "wb") as f:
            f.write(head)
        Handler.ranges.clear()
        rc, out = saeg(binary, "70m", "--dest", dest, "--url", url)
        check(rc == 0 and same_files(dest) is None and "bytes=1000-" in Handler.ranges, "an existing .part is resumed")
        rc, out = saeg(binary, "70m", "--dest", dest, "--url", url)
        check(rc == 0 and "already present" in out, "present files are kept")

        rc, out = saeg(binary, "5b", "--dest", dest, "--url", url)
        check(rc == 1 and "expected 70m, 1.3b (or 1b) or 3b" in out, "an unknown size is refused")
        rc, out = saeg(binary, "3b", "--dest", os.path.join(tmp, "missing"), "--url", url)
        check(rc == 1 and "HTTP 404" in out and "3b-model/model_config.yml" in out, "a 404 names the URL")
        rc, out = saeg(binary)
        check(rc == 2, "no size is a usage error")
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
