#!/usr/bin/env python3
"""Interop: the unmodified `pygnmi` client (written by others, from its own
copy of gnmi.proto) against a running `strata sim`.

Checks capabilities, get, set (update, JSON_IETF; a string leaf set with a bare str) and a STREAM/SAMPLE
subscription. Exits non-zero on the first failure; prints 'N passed, N failed'.
"""
DELAY_PATH = '/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id=0102.5500.0001.00-00]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors/neighbor[system-id=0102.5500.0003]/instances/instance[id=*]/subtlvs/subtlv[type=IS_REACHABILITY_LINK_DELAY]/link-delay/state/delay'

import contextlib
import io
import logging
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from loopback import free_port_block, wait_listening  # noqa: E402  (beside this script)

from pygnmi.client import gNMIclient


@contextlib.contextmanager
def quiet():
    """Silences pygnmi's own error printing (stdout, stderr and its logger)."""
    sink = io.StringIO()
    level = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield
    finally:
        logging.disable(level)

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("STRATA_BIN", ROOT / "target" / "debug" / "strata"))


RESULTS = []

# pygnmi reads each subscription on a thread that re-raises CANCELLED when the
# client closes its own channel; that is the client shutting down, not a fault.
_default_hook = threading.excepthook


def _quiet_cancel(args):
    if "CANCELLED" not in repr(args.exc_value):
        _default_hook(args)


threading.excepthook = _quiet_cancel


def check(name, cond, detail=""):
    RESULTS.append((name, bool(cond)))
    print(f"{'ok  ' if cond else 'FAIL'} {name}" + (f": {detail}" if detail and not cond else ""))


def main():
    topo = (ROOT / "examples" / "small.yaml").read_text()
    base = free_port_block(5)
    topo = re.sub(r"address_base:\s*\S+", f"address_base: 127.0.0.1:{base}", topo)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(topo)
        topo_file = f.name
    sim = subprocess.Popen([str(BIN), "sim", "--topology", topo_file, "--measure-interval-ms", "50",
                            "--control", "127.0.0.1:0"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        pe1 = base  # first node in the file
        wait_listening(pe1)
        with gNMIclient(target=("127.0.0.1", pe1), insecure=True, timeout=10) as gc:
            caps = gc.capabilities()
            models = [m["name"] for m in caps.get("supported_models", [])]
            check("capabilities lists openconfig-interfaces", "openconfig-interfaces" in models, models)
            check("capabilities lists json_ietf", "json_ietf" in caps.get("supported_encodings", []), caps)
            check("capabilities gNMI version", caps.get("gnmi_version") == "0.10.0", caps)

            r = gc.set(update=[("/interfaces/interface[name=lo0]/config", {"description": "set by pygnmi", "mtu": 9000})],
                       encoding="json_ietf")
            check("set update json_ietf answers with an UPDATE result",
                  any(x.get("op") == "UPDATE" for x in r.get("response", [])), r)

            g = gc.get(path=["/interfaces/interface[name=lo0]/config"], encoding="json_ietf")
            val = g["notification"][0]["update"][0]["val"]
            check("get returns what was set", val.get("description") == "set by pygnmi" and val.get("mtu") == 9000, val)

            g = gc.get(path=["openconfig-interfaces:interfaces/interface[name=lo0]/state/mtu"], encoding="json")
            val = g["notification"][0]["update"][0]["val"]
            check("get with a module origin and json encoding sees applied state", val == 9000, val)

            try:
                # pygnmi reports every refused RPC on the console itself; this
                # refusal is the expected outcome, so keep it off the test log.
                with quiet():
                    gc.set(update=[("/interfaces/interface[name=lo0]/config", {"mtu": 1})], encoding="json_ietf")
                check("out-of-range set is rejected", False, "accepted")
            except Exception as e:  # pygnmi wraps the gRPC error
                check("out-of-range set is rejected with INVALID_ARGUMENT", "INVALID_ARGUMENT" in repr(e) or "out of range" in repr(e), repr(e))
            g = gc.get(path=["/interfaces/interface[name=lo0]/config/mtu"], encoding="json_ietf")
            check("rejected set changed nothing", g["notification"][0]["update"][0]["val"] == 9000, g)

            # pygnmi's most natural call for a string leaf: a bare str value,
            # which pygnmi puts on the wire as the text itself (not a JSON string)
            text = "set by pygnmi as text"
            leaf = "/interfaces/interface[name=et-0/0/1]/config/description"
            try:
                r = gc.set(update=[(leaf, text)], encoding="json_ietf")
                check("set of a string leaf with a bare str value (json_ietf) is accepted",
                      any(x.get("op") == "UPDATE" for x in r.get("response", [])), r)
            except Exception as e:  # pygnmi wraps the gRPC error
                check("set of a string leaf with a bare str value (json_ietf) is accepted", False, repr(e))
            try:
                g = gc.get(path=[leaf], encoding="json_ietf")
                val = g["notification"][0]["update"][0].get("val") if g.get("notification") else None
                check("the string leaf reads back as set", val == text, g)
            except Exception as e:
                check("the string leaf reads back as set", False, repr(e))

            sub = {
                "subscription": [{
                    # pe1's RFC 8570 link delay toward pe3 (its own IS-IS LSP, openconfig-isis)
                    "path": DELAY_PATH,
                    "mode": "sample",
                    "sample_interval": 100_000_000,
                }],
                "mode": "stream",
                "encoding": "json",
            }
            stream = gc.subscribe_stream(subscribe=sub)
            samples, synced = [], False
            deadline = time.time() + 15
            try:
                while len(samples) < 3 and time.time() < deadline:
                    msg = stream.get_update(timeout=5)
                    if "sync_response" in msg:
                        synced = True
                    for u in msg.get("update", {}).get("update", []):
                        if u["path"].endswith("link-delay/state/delay"):
                            samples.append(u["val"])
            finally:
                stream.close()
            check("stream/sample subscription synced", synced)
            # pe1-pe3 is 90 km: ~441 µs of propagation plus a little jitter
            check("stream/sample delivers delay samples", len(samples) >= 3 and all(440 <= int(v) <= 460 for v in samples), samples)
    finally:
        sim.terminate()
        try:
            out, _ = sim.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            sim.kill()
            out, _ = sim.communicate()
        os.unlink(topo_file)
        if any(not ok for _, ok in RESULTS):
            print("--- strata sim output ---")
            print(out)
    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"pygnmi interop: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
