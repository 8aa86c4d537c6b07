#!/usr/bin/env python3
"""Interop: a Python client built with grpcio-tools from our proto (as an
orchestrator would) creates and lists an EVPN service on a running
`strata lab`, and sees its errors as proper gRPC status codes."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loopback import free_port, free_port_block  # noqa: E402  (beside this script)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "examples"))
import orchestrator  # noqa: E402  (generates the stubs with grpc_tools)

import grpc  # noqa: E402

BIN = Path(os.environ.get("STRATA_BIN", ROOT / "target" / "debug" / "strata"))
pb, rpc = orchestrator.pb, orchestrator.rpc
RESULTS = []


def check(name, cond, detail=""):
    RESULTS.append(bool(cond))
    print(f"{'ok  ' if cond else 'FAIL'} {name}" + (f": {detail}" if detail and not cond else ""))


def reflection_checks(channel):
    """grpcio-reflection speaks the v1alpha protocol (as grpcurl 1.8 does)."""
    try:
        from google.protobuf.descriptor_pool import DescriptorPool
        from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
    except ImportError as e:
        check("grpcio-reflection is installed", False, repr(e))
        return
    db = ProtoReflectionDescriptorDatabase(channel)
    names = set(db.get_services())
    check("reflection (v1alpha) lists the strata.v1 services",
          {"strata.v1.Policies", "strata.v1.Services", "strata.v1.Topology"} <= names, names)
    check("reflection does not advertise gNMI, which this port does not serve", "gnmi.gNMI" not in names, names)
    method = DescriptorPool(db).FindMethodByName("strata.v1.Policies.CreatePolicy")
    check("reflection describes a method (CreatePolicy takes a CreatePolicyRequest)",
          method.input_type.full_name == "strata.v1.CreatePolicyRequest", method.input_type.full_name)


def main():
    topo = (ROOT / "examples" / "small.yaml").read_text()
    base = free_port_block(5)
    topo = re.sub(r"address_base:\s*\S+", f"address_base: 127.0.0.1:{base}", topo)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(topo)
        topo_file = f.name
    api = f"127.0.0.1:{free_port()}"
    # The lab is secure by default: it writes its CA and admin token here.
    creds_dir = Path(tempfile.mkdtemp(prefix="strata-creds-"))
    os.environ["STRATA_CREDENTIALS"] = str(creds_dir)
    lab = subprocess.Popen([str(BIN), "lab", "--topology", topo_file, "--listen", api, "--duration", "60",
                            "--web", "127.0.0.1:0"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while time.time() < deadline and not (creds_dir / "admin.token").exists():
            time.sleep(0.1)
        token = (creds_dir / "admin.token").read_text().strip()
        root = (creds_dir / "ca.pem").read_bytes()
        plain = grpc.insecure_channel(api)
        channel = grpc.secure_channel(api, grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(root_certificates=root), grpc.access_token_call_credentials(token)))
        grpc.channel_ready_future(channel).result(timeout=30)
        services = rpc.ServicesStub(channel)
        # wait until every device session is up
        topo_stub = rpc.TopologyStub(channel)
        deadline = time.time() + 30
        while time.time() < deadline:
            nodes = topo_stub.ListNodes(pb.ListNodesRequest()).nodes
            if nodes and all(n.session == pb.SESSION_STATE_UP for n in nodes):
                break
            time.sleep(0.2)
        spec = pb.ServiceSpec(name="py-eline", type=pb.SERVICE_TYPE_E_LINE, bandwidth_gbps=1.0, attachments=[
            pb.Attachment(device="pe1", interface="ce-0/1/0", vlan=42),
            pb.Attachment(device="pe2", interface="ce-0/1/0", vlan=42)])
        svc = services.CreateService(pb.CreateServiceRequest(request_id="py-1", spec=spec), timeout=10)
        check("create E-Line returns an id and EVI", svc.id.startswith("svc-") and svc.evi > 0, svc)
        check("E-Line has two transport policies", len(svc.transport_policies) == 2, svc)
        again = services.CreateService(pb.CreateServiceRequest(request_id="py-1", spec=spec), timeout=10)
        check("retry with the same request_id returns the same service", again.id == svc.id)
        listed = services.ListServices(pb.ListServicesRequest(), timeout=10).services
        check("list shows exactly the one service", [s.id for s in listed] == [svc.id], listed)
        try:
            services.CreateService(pb.CreateServiceRequest(spec=pb.ServiceSpec(name="bad", type=pb.SERVICE_TYPE_E_LINE, attachments=[
                pb.Attachment(device="pe1", interface="ce-0/1/0", vlan=0),
                pb.Attachment(device="pe2", interface="ce-0/1/0", vlan=1)])), timeout=10)
            check("bad VLAN is rejected", False, "accepted")
        except grpc.RpcError as e:
            check("bad VLAN is INVALID_ARGUMENT naming the field",
                  e.code() == grpc.StatusCode.INVALID_ARGUMENT and "spec.attachments[0].vlan" in e.details(), e.details())
        reflection_checks(channel)
        # The same client without credentials gets nothing.
        try:
            rpc.ServicesStub(plain).ListServices(pb.ListServicesRequest(), timeout=5)
            check("a plaintext client is refused", False, "answered")
        except grpc.RpcError as e:
            check("a plaintext client is refused", e.code() != grpc.StatusCode.OK, e.code())
        tls_only = grpc.secure_channel(api, grpc.ssl_channel_credentials(root_certificates=root))
        try:
            rpc.ServicesStub(tls_only).ListServices(pb.ListServicesRequest(), timeout=5)
            check("a client without a token is UNAUTHENTICATED", False, "answered")
        except grpc.RpcError as e:
            check("a client without a token is UNAUTHENTICATED", e.code() == grpc.StatusCode.UNAUTHENTICATED, e.code())
    finally:
        lab.terminate()
        try:
            out, _ = lab.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            lab.kill()
            out, _ = lab.communicate()
        os.unlink(topo_file)
        if not all(RESULTS):
            print(out)
    passed = sum(RESULTS)
    failed = len(RESULTS) - passed
    print(f"grpcio orchestrator interop: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
