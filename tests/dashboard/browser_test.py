#!/usr/bin/env python3
"""Opens generated dashboards in headless Chromium and uses them like a person would.

    tests/dashboard/browser_test.py SAEG_BINARY OUT_DIR

Python standard library only: Chromium is driven over the Chrome DevTools Protocol through its
--remote-debugging-pipe (fd 3 in, fd 4 out, NUL-separated JSON), so neither chromedriver nor a
websocket client is needed. Exit 77 (ctest: skipped) when no Chromium is installed.

1. The demo results (make_results.py): no console errors or exceptions, nothing fetched from the
   network; searching a gene symbol, its Ensembl ID and a feature id shows the features the JSON
   files say; clicking a feature shows its top genes in the order of
   feature_gene_associations.json; screenshots of the feature, training, evaluation and
   validation views go to OUT_DIR.
2. The hostile results (HTML and script in gene symbols, cell types, obs values, term names):
   no dialog opens and no script runs, no element comes from the data, and the strings show
   literally in the page.
"""
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_results  # noqa: E402

SKIP = 77
TIMEOUT = 20.0


def find_chromium():
    for name in (os.environ.get("SAEG_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("  ok  " + what)


class Browser:
    """One headless Chromium; one page target attached in flat mode."""

    def __init__(self, exe, profile, width=1440, height=900):
        cmd_r, self.cmd_w = os.pipe()  # we write, Chromium reads fd 3
        self.ev_r, ev_w = os.pipe()    # Chromium writes fd 4, we read

        def child_fds():
            os.dup2(cmd_r, 3)
            os.dup2(ev_w, 4)

        args = [exe, "--headless", "--remote-debugging-pipe", "--no-first-run", "--no-default-browser-check",
                "--disable-gpu", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--mute-audio", "--hide-scrollbars", "--user-data-dir=" + profile,
                "--window-size=%d,%d" % (width, height), "about:blank"]
        # Chromium's sandbox refuses to start as root and in containers without user namespaces;
        # the pages opened here are our own local files
        args.insert(1, "--no-sandbox")
        self.proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=child_fds, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(cmd_r)
        os.close(ev_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None
        self.width, self.height = width, height

    def close(self):
        try:
            self.call("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.ev_r)

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise Failure("Chromium did not answer within %.0f s" % TIMEOUT)
            ready, _, _ = select.select([self.ev_r], [], [], 0.2)
            if ready:
                chunk = os.read(self.ev_r, 1 << 20)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.poll() is not None else ""
                    raise Failure("Chromium closed the DevTools pipe " + err)
                self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=True, timeout=TIMEOUT):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise Failure("%s: %s" % (method, m["error"].get("message")))
                return m.get("result", {})
            self._event(m)

    def _event(self, m):
        method = m.get("method", "")
        self.events.append(m)
        if method == "Page.javascriptDialogOpening":  # answer it, or the page hangs
            self.next_id += 1
            os.write(self.cmd_w, json.dumps({"id": self.next_id, "method": "Page.handleJavaScriptDialog",
                                             "params": {"accept": False}, "sessionId": self.session}).encode() + b"\0")

    def pump(self, seconds):
        """Reads events for a while (console messages that arrive after a command)."""
        deadline = time.time() + seconds
        try:
            while True:
                self._read_message(deadline)
        except Failure:
            pass
        return

    def open_page(self):
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")
        self.call("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                         "deviceScaleFactor": 1, "mobile": False})

    def navigate(self, url):
        self.events.clear()
        self.call("Page.navigate", {"url": url})
        self.wait_for("document.documentElement.getAttribute('data-ready') === '1'", "the page to finish drawing")

    def js(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise Failure("evaluating %s: %s" % (expr[:80], r["exceptionDetails"].get("text")))
        return r["result"].get("value")

    def wait_for(self, expr, what, timeout=10.0):
        deadline, last = time.time() + timeout, None
        while time.time() < deadline:
            try:
                if self.js("!!(" + expr + ")"):
                    return
            except Failure as e:  # e.g. the page is still being replaced by a navigation
                last = e
            time.sleep(0.05)
        raise Failure("timed out waiting for %s%s%s" % (what, "; last error: %s" % last if last else "",
                                                       "; page problems: %s" % self.problems() if self.problems() else ""))

    def type_into(self, selector, text):
        self.js("(function(){var e=document.querySelector(%s); e.focus(); e.select(); return 1;})()" % json.dumps(selector))
        self.call("Input.insertText", {"text": text})

    def key(self, key, code=None, vk=0):
        for t in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", {"type": t, "key": key, "code": code or key,
                                                 "windowsVirtualKeyCode": vk})

    def click(self, selector):
        box = self.js("(function(){var e=document.querySelector(%s); if(!e) return null; e.scrollIntoView({block:'nearest'});"
                      "var r=e.getBoundingClientRect(); return [r.left+r.width/2, r.top+r.height/2];})()" % json.dumps(selector))
        if not box:
            raise Failure("nothing to click at " + selector)
        for t in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": t, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        print("  screenshot " + path)

    # ---- what happened in the page ----
    def problems(self):
        out = []
        for m in self.events:
            p, method = m.get("params", {}), m.get("method")
            if method == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
                out.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description", "")))
                                                                   for a in p.get("args", []))))
            elif method == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
                out.append("log: " + p["entry"].get("text", ""))
        return out

    def dialogs(self):
        return [m["params"].get("message") for m in self.events if m.get("method") == "Page.javascriptDialogOpening"]

    def requests(self):
        urls = [m["params"]["request"]["url"] for m in self.events if m.get("method") == "Network.requestWillBeSent"]
        return [u for u in urls if not u.startswith(("file:", "data:", "about:"))]


def load(path):
    with open(path) as f:
        return json.load(f)


def expected_top(results, n):
    stats = load(os.path.join(results, "feature_stats.json"))["features"]
    ranked = sorted(stats, key=lambda f: (-f["frequency"], f["id"]))[:n]
    genes = {f["id"]: f["genes"] for f in load(os.path.join(results, "feature_gene_associations.json"))["features"]}
    return ranked, genes


def list_state(b):
    return b.js("""(function(){
        var rows = Array.from(document.querySelectorAll('#list .row'));
        return {count: document.getElementById('list-count').textContent,
                ids: rows.map(function(r){ return Number(r.getAttribute('data-id')); }),
                badges: rows.map(function(r){ var x = r.querySelector('.badge'); return x ? x.textContent : ''; })};
    })()""")


def search(b, text, expect_n):
    b.type_into("#search", text)
    b.wait_for("document.getElementById('list-count').textContent.indexOf('match') >= 0 && "
               "document.getElementById('list-count').textContent.indexOf(%s) === 0" % json.dumps("%d match" % expect_n),
               "%d matches for %r (shows: %s)" % (expect_n, text, b.js("document.getElementById('list-count').textContent")))
    return list_state(b)


def make_pages(saeg, out):
    """Results folders from the generator, then pages from saeg (no browser needed)."""
    pages = {}
    for name, extra, opts in (("demo", [], ["--title", "HSMM demo"]), ("hostile", ["--hostile"], ["--top-n-features", "all"])):
        results = os.path.join(out, "results-" + name)
        make_results.main_args([results] + extra)
        pages[name] = os.path.join(out, "dashboard-%s.html" % name)
        r = subprocess.run([saeg, "dashboard", "--results", results, "--output", pages[name]] + opts,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        print(r.stdout.strip())
        if r.returncode != 0:
            raise Failure("saeg dashboard exited %d on %s" % (r.returncode, results))
    return pages


def test_demo(b, page, out):
    results = os.path.join(out, "results-demo")
    print("demo: " + page)
    b.navigate("file://" + page)
    b.pump(0.3)
    check(not b.problems(), "no console errors or exceptions on load: %s" % b.problems())
    ranked, genes = expected_top(results, 100)
    st = list_state(b)
    check(st["count"] == "100 of 384 features", "the list counts the shown features (%s)" % st["count"])
    check(st["ids"][:5] == [f["id"] for f in ranked[:5]], "features are ranked by activation frequency")
    check(b.js("document.querySelector('#detail h2').textContent") == "Feature %d" % ranked[0]["id"],
          "the most frequent feature is open at start")

    # a gene symbol: the features whose top genes hold it, best rank first
    shown = {f["id"] for f in ranked}
    with_myog = {fid: [g["symbol"] for g in gl].index("MYOG") for fid, gl in genes.items()
                 if fid in shown and "MYOG" in [g["symbol"] for g in gl]}
    check(len(with_myog) >= 3, "the fixture has several shown features with MYOG (%d)" % len(with_myog))
    st = search(b, "MYOG", len(with_myog))
    best = sorted(with_myog, key=lambda fid: (with_myog[fid], [f["id"] for f in ranked].index(fid)))
    check(set(st["ids"]) <= set(with_myog), "every listed feature has MYOG among its top genes")
    check(st["ids"][0] == best[0], "the feature where MYOG ranks highest comes first")
    check(all(x.startswith("MYOG #") for x in st["badges"]), "each row shows MYOG's rank in that feature")

    # the same gene by Ensembl ID (without its version), and a feature by id
    st = search(b, "ENSG00000122180", len(with_myog))
    check(set(st["ids"]) <= set(with_myog), "searching MYOG's Ensembl ID finds the same features")
    target = ranked[7]["id"]
    st = search(b, "#%d" % target, 1)
    check(st["ids"] == [target], "searching '#%d' finds that feature" % target)

    # open a feature from a gene search with the mouse; its top genes are the file's, in order
    search(b, "MYOG", len(with_myog))
    b.click('#list .row[data-id="%d"]' % best[1])
    b.wait_for("document.querySelector('#detail h2').textContent === 'Feature %d'" % best[1], "feature %d to open" % best[1])
    shown_genes = b.js("Array.from(document.querySelectorAll('.gene-table tbody .gene-link')).map(function(e){return e.textContent;})")
    want = [g["symbol"] for g in genes[best[1]]]
    check(shown_genes == want[:len(shown_genes)] and len(shown_genes) >= min(25, len(want)),
          "feature %d shows its top genes in file order (%s ...)" % (best[1], ", ".join(shown_genes[:5])))
    check("MYOG" in shown_genes, "and MYOG is among them")
    check(b.js("document.querySelectorAll('.cell-table tbody tr').length") > 0, "its top cells are listed")
    check(b.js("document.querySelectorAll('.enr .fill').length") == 4, "its cell-type enrichment has one bar per time point")
    check(b.js("document.querySelectorAll('#detail svg.chart rect.bar').length") == 50, "its activation histogram has 50 bins")
    check(b.js("location.hash") == "#feature=%d" % best[1], "the address names the open feature")
    b.pump(0.2)
    b.screenshot(os.path.join(out, "dashboard-feature.png"))

    # a gene name in the table searches for it
    b.click(".gene-table tbody .gene-link")
    b.wait_for("document.getElementById('search').value === %s" % json.dumps(want[0]), "a click on a gene to search it")

    for tab, sel, what in (("training", "#tab-training svg.chart path.line", "training curves"),
                           ("evaluation", "#tab-evaluation .card", "evaluation numbers"),
                           ("validation", "#tab-validation tbody tr", "validation sources")):
        b.click('.tabs button[data-tab="%s"]' % tab)
        b.wait_for("document.querySelectorAll(%s).length > 0" % json.dumps(sel), what)
        check(True, "the %s tab shows %s" % (tab, what))
        b.pump(0.1)
        b.screenshot(os.path.join(out, "dashboard-%s.png" % tab))
    check(b.js("document.querySelectorAll('#tab-validation tbody tr').length") == 7, "all 7 validation sources are listed")
    check(not b.problems(), "no console errors after using the page: %s" % b.problems())
    check(not b.requests(), "nothing was fetched from the network: %s" % b.requests())
    check(not b.dialogs(), "no dialog opened")


def test_hostile(b, page, out):
    print("hostile: " + page)
    with open(page, encoding="utf-8") as f:
        html = f.read()
    check(html.lower().count("</script") == 2, "the page source closes exactly its own two script blocks")
    b.navigate("file://" + page)
    b.pump(0.3)
    evil = make_results.HOSTILE[0]
    check(b.js("document.querySelectorAll('script').length") == 2, "no script element came from the data")
    st = search(b, evil, b.js("""(function(){var D = JSON.parse(document.getElementById('saeg-data').textContent);
        var g = D.genes.findIndex(function(e){return e[1] === %s;});
        return D.features.filter(function(f){return f.genes && f.genes.g.indexOf(g) >= 0;}).length;})()""" % json.dumps(evil)))
    check(len(st["ids"]) > 0, "searching the literal '%s' finds the features that list it" % evil)
    b.click('#list .row[data-id="%d"]' % st["ids"][0])
    b.wait_for("document.querySelector('#detail h2').textContent === 'Feature %d'" % st["ids"][0], "the feature to open")
    b.js("Array.from(document.querySelectorAll('.more')).forEach(function(m){m.click();})")  # every gene and cell row
    texts = b.js("Array.from(document.querySelectorAll('.gene-table .gene-link')).map(function(e){return e.textContent;})")
    check(evil in texts, "the gene symbol shows as the literal text %s" % evil)
    body = b.js("document.body.innerText")
    check("72h </script>" in body or "\"quoted\" & 'apos' &amp; <b>bold</b>" in body or "<img src=x onerror=alert(3)>" in body,
          "cell types and obs values show literally")
    check("</script>" in b.js("Array.from(document.querySelectorAll('.cell-table td')).map(function(e){return e.textContent;}).join(' ')"),
          "cell names with '</script>' show literally")
    check(b.js("document.querySelectorAll('#detail b, img').length") == 0, "no <b> or <img> element was made from the data")
    check(b.js("Array.from(document.querySelectorAll('i')).every(function(e){return e.textContent === '';})"),
          "no <i> element was made from the data (the page's own are empty colour keys)")
    check(b.js("document.querySelectorAll('a[href^=\"javascript:\"]').length") == 0, "a javascript: URL never becomes a link")
    b.screenshot(os.path.join(out, "dashboard-hostile.png"))
    for tab in ("training", "evaluation", "validation"):
        b.click('.tabs button[data-tab="%s"]' % tab)
    check(evil + " GO" in b.js("document.getElementById('tab-validation').textContent"), "a hostile source title shows literally")
    check(b.js("document.querySelectorAll('img').length") == 0, "no <img> anywhere in the page")
    b.pump(0.3)
    check(not b.dialogs(), "no alert() ran (dialogs: %s)" % b.dialogs())
    check(not b.problems(), "no console errors or exceptions: %s" % b.problems())
    check(not b.requests(), "nothing was fetched from the network: %s" % b.requests())


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    saeg, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    try:
        pages = make_pages(saeg, out)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    exe = find_chromium()
    if not exe:
        print("skipped: no Chromium (Debian: apt-get install chromium; or set SAEG_CHROMIUM)")
        return SKIP
    profile = tempfile.mkdtemp(prefix="saeg-chromium-")
    b = Browser(exe, profile)
    try:
        b.open_page()
        print("chromium: " + b.call("Browser.getVersion", session=False)["product"])
        test_demo(b, pages["demo"], out)
        test_hostile(b, pages["hostile"], out)
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    finally:
        b.close()
        shutil.rmtree(profile, ignore_errors=True)
    print("browser test passed in %.1f s" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
