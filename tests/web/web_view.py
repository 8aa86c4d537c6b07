#!/usr/bin/env python3
"""The operator web view in a real browser (headless Chromium via selenium).

Starts `strata lab` on free ports with the web view on, opens the page,
checks the fabric is drawn, impairs a link through the API and waits for the
page to show it degraded within 2 s of the breach, then saves a screenshot to
target/web-view.png. Prints 'web view: N passed, M failed' last.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

STRATA = os.environ.get("STRATA_BIN", "target/debug/strata")
LINK = "cmh-nva-p1"
passed = failed = 0


def fabric_counts(path="examples/us-metro.yaml"):
    """Nodes and links the lab's fabric file lists (top-level list items)."""
    counts, section = {"nodes": 0, "links": 0}, None
    with open(path) as f:
        for line in f:
            if re.match(r"^[a-z_]+:", line):
                section = line.split(":")[0]
            elif section in counts and line.startswith("  - name:"):
                counts[section] += 1
    return counts["nodes"], counts["links"]


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")
    return ok


def start_lab():
    # The lab writes its CA and admin token here; `strata fault` and
    # examples/orchestrator.py (children of this script) read them from here.
    os.environ["STRATA_CREDENTIALS"] = tempfile.mkdtemp(prefix="strata-creds-")
    lab = subprocess.Popen(
        [STRATA, "lab", "--ephemeral-ports", "--listen", "127.0.0.1:0", "--web", "127.0.0.1:0", "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    api = web = None
    deadline = time.time() + 60
    while time.time() < deadline and not (api and web):
        line = lab.stdout.readline()
        if not line:
            break
        m = re.search(r"fault injection on (\S+)", line)
        api = api or (m and m.group(1))
        m = re.search(r"web view on (http://\S+)", line)
        web = web or (m and m.group(1))
    return lab, api, web


def browser():
    opts = Options()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1600,1000"):
        opts.add_argument(a)
    binary = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)
    if binary:
        opts.binary_location = binary
    driver = next((p for p in ("/usr/bin/chromedriver",) if os.path.exists(p)), None)
    return webdriver.Chrome(options=opts, service=Service(driver) if driver else Service())


def main():
    lab, api, web = start_lab()
    driver = None
    try:
        if not check("lab prints its API and web view addresses", api and web, f"api={api} web={web}"):
            return
        # Without signing in, the view's data is not served.
        base = web.split("/login")[0]
        try:
            urllib.request.urlopen(base + "/api/state", timeout=10)
            check("the view's data needs a session", False, "served without one")
        except urllib.error.HTTPError as e:
            check("the view's data needs a session", e.code == 401, e.code)
        driver = browser()
        # The lab prints a one-time sign-in link: it sets the session cookie.
        driver.get(web)
        deadline = time.time() + 30
        nodes = links = []
        while time.time() < deadline:
            nodes = driver.find_elements(By.CSS_SELECTOR, "#nodes .node")
            links = driver.find_elements(By.CSS_SELECTOR, ".link")
            if nodes and links:
                break
            time.sleep(0.2)
        want_nodes, want_links = fabric_counts()
        check("nodes are drawn", len(nodes) == want_nodes, f"{len(nodes)} of {want_nodes} nodes")
        check("links are drawn", len(links) == want_links, f"{len(links)} of {want_links} links")
        layers = {e.get_attribute("data-layer") for e in links}
        check("packet and fiber layers are drawn", {"packet", "fiber"} <= layers, str(layers))
        sel = f'.link[data-link="{LINK}"]'
        # Let telemetry settle so the link starts healthy (the loop's baseline).
        deadline = time.time() + 30
        while time.time() < deadline:
            h = driver.find_element(By.CSS_SELECTOR, sel).get_attribute("data-health")
            delay = driver.find_element(By.CSS_SELECTOR, f'#links tr[data-link="{LINK}"] .d').text
            if h == "healthy" and delay not in ("", "-"):
                break
            time.sleep(0.2)
        check(f"{LINK} starts healthy with live delay", h == "healthy" and delay not in ("", "-"), f"{h} {delay!r}")
        toggle = driver.find_element(By.CSS_SELECTOR, '.layers input[data-layer="fiber"]')
        toggle.click()
        hidden = not driver.find_elements(By.CSS_SELECTOR, '.link[data-layer="fiber"]')[0].is_displayed()
        toggle.click()
        check("the fiber layer toggles", hidden)
        # An E-Line whose transport policies ride the link (the README's), so
        # the breach moves them; needs grpcio (in run-all.sh's venv).
        have_grpc = subprocess.run([sys.executable, "-c", "import grpc, grpc_tools"], capture_output=True).returncode == 0
        if have_grpc:
            out = subprocess.run([sys.executable, "examples/orchestrator.py", "--api", api, "eline", "acme-dci",
                                  "nva-pe1:ce-0/1/0:100", "chi-pe1:ce-0/1/0:100", "--gbps", "10"],
                                 capture_output=True, text=True, timeout=60)
            check("service created", out.returncode == 0, out.stderr[-500:])
            deadline = time.time() + 10
            while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, "#services tbody tr"):
                time.sleep(0.1)
            check("the service is listed with its state",
                  any("active" in r.text for r in driver.find_elements(By.CSS_SELECTOR, "#services tbody tr")))
        else:
            print("skip service and reroute checks: no grpcio in this Python")
        out = subprocess.run([STRATA, "fault", "--api", api, "impair", LINK, "--delay-us", "3000"],
                             capture_output=True, text=True, timeout=30)
        check("fault injected", out.returncode == 0, out.stderr)
        # The breach comes once the EWMA crosses the threshold; from then the
        # page has 2 s to show it.
        breach_at = None
        deadline = time.time() + 30
        while time.time() < deadline and breach_at is None:
            if any(LINK in e.text for e in driver.find_elements(By.CSS_SELECTOR, '#feed li[data-kind="breach"]')):
                breach_at = time.time()
            if driver.find_element(By.CSS_SELECTOR, sel).get_attribute("data-health") == "degraded":
                breach_at = breach_at or time.time()
                break
            time.sleep(0.05)
        if check("breach appears in the feed", breach_at is not None):
            shown = None
            while time.time() < breach_at + 2.0:
                if driver.find_element(By.CSS_SELECTOR, sel).get_attribute("data-health") == "degraded":
                    shown = time.time()
                    break
                time.sleep(0.05)
            check("link shows degraded within 2 s of the breach", shown is not None)
        if have_grpc:
            deadline = time.time() + 10
            while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, '#feed li[data-kind="reroute"]'):
                time.sleep(0.1)
            reroutes = driver.find_elements(By.CSS_SELECTOR, '#feed li[data-kind="reroute"]')
            check("the reroute is in the feed with its time after the breach",
                  any("after breach" in r.text for r in reroutes), [r.text for r in reroutes])
            rows = driver.find_elements(By.CSS_SELECTOR, "#policies tbody tr")
            if check("the service's policies are listed", len(rows) >= 2, f"{len(rows)} rows"):
                rows[0].click()
                lit = {e.get_attribute("data-link") for e in driver.find_elements(By.CSS_SELECTOR, ".link.hl")}
                check("clicking a policy highlights its path", bool(lit) and LINK not in lit, str(lit))
        os.makedirs("target", exist_ok=True)
        check("screenshot saved", driver.save_screenshot("target/web-view.png"))
    except Exception as e:  # a crash is a failure, not a silent pass
        check("web view test ran", False, repr(e))
    finally:
        if driver:
            driver.quit()
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        print(f"web view: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
