#!/usr/bin/env python3
"""A minimal orchestrator for Strata's northbound API, the way an
orchestration system would use it: Python stubs generated with grpcio-tools
from proto/strata/v1/strata.proto, then plain gRPC calls.

    pip install grpcio grpcio-tools
    examples/orchestrator.py --api 127.0.0.1:50051 eline acme nva-pe1:ce-0/1/0:100 chi-pe1:ce-0/1/0:100 --gbps 10
    examples/orchestrator.py policy sea-lax sea-pe1 lax-pe1 --color 200 --max-latency-us 20000
    examples/orchestrator.py wavelength sea-pdx-1 sea-ot1 pdx-ot1
    examples/orchestrator.py list

The API is TLS with a bearer token. Against `strata lab` nothing needs saying:
the lab's CA and admin token are read from the directory it wrote them to
($STRATA_CREDENTIALS, else lab-credentials in Strata's data directory).
Otherwise give --ca FILE and --token-file FILE, or --insecure for a plaintext
API. Against replicas (README "Replicas"), a change sent to a follower is
refused with the leader's address in the `strata-leader` metadata, and is sent
once more to that leader.
"""
import argparse
import importlib
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

import grpc
from google.protobuf import json_format
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parents[1] / "proto"


def load_stubs():
    """Generates strata/v1/strata_pb2{,_grpc}.py into a temp dir and imports them."""
    out = Path(tempfile.mkdtemp(prefix="strata-stubs-"))
    include = Path(protoc.__file__).parent / "_proto"
    rc = protoc.main([
        "protoc", f"-I{PROTO_ROOT}", f"-I{include}",
        f"--python_out={out}", f"--grpc_python_out={out}",
        str(PROTO_ROOT / "strata" / "v1" / "strata.proto"),
    ])
    if rc != 0:
        raise SystemExit(f"grpc_tools.protoc failed with {rc}")
    for pkg in (out / "strata", out / "strata" / "v1"):
        (pkg / "__init__.py").touch()
    sys.path.insert(0, str(out))
    return importlib.import_module("strata.v1.strata_pb2"), importlib.import_module("strata.v1.strata_pb2_grpc")


pb, rpc = load_stubs()


def show(msg):
    print(json.dumps(json_format.MessageToDict(msg, preserving_proto_field_name=True), indent=2))


def list_all(call, request, field):
    """Every object of a paged List RPC: follows next_page_token until it comes back empty."""
    items = []
    while True:
        page = call(request)
        items.extend(getattr(page, field))
        if not page.next_page_token:
            return items
        request.page_token = page.next_page_token


def attachment(text):
    device, interface, vlan = text.rsplit(":", 2) if text.count(":") >= 2 else (None, None, None)
    if device is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not DEVICE:INTERFACE:VLAN")
    return pb.Attachment(device=device, interface=interface, vlan=int(vlan))


def lab_credentials_dir():
    """Where `strata lab` writes its credentials (as strata's own clients find them)."""
    if os.environ.get("STRATA_CREDENTIALS"):
        return Path(os.environ["STRATA_CREDENTIALS"])
    if os.environ.get("STRATA_DATA_DIR"):
        data = Path(os.environ["STRATA_DATA_DIR"])
    elif os.environ.get("XDG_STATE_HOME"):
        data = Path(os.environ["XDG_STATE_HOME"]) / "strata"
    else:
        data = Path.home() / ".local" / "state" / "strata"
    return data / "lab-credentials"


def connect(args):
    """A channel with TLS verified against the CA and the bearer token on every call."""
    if args.insecure:
        return grpc.insecure_channel(args.api)
    creds_dir = Path(args.credentials) if args.credentials else lab_credentials_dir()
    ca = Path(args.ca or os.environ.get("STRATA_CA") or creds_dir / "ca.pem")
    token_file = Path(args.token_file or os.environ.get("STRATA_TOKEN_FILE") or creds_dir / "admin.token")
    try:
        root, token = ca.read_bytes(), token_file.read_text().strip()
    except OSError as e:
        raise SystemExit(f"no credentials for the Strata API ({e}); start `strata lab`, "
                         "or give --ca and --token-file, or --insecure for a plaintext API")
    channel_creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(root_certificates=root),
        grpc.access_token_call_credentials(token))
    return grpc.secure_channel(args.api, channel_creds)


def leader_of(err):
    """The leader a replica follower names when it refuses a change (UNAVAILABLE
    with the leader's API address in the `strata-leader` metadata), else None."""
    if err.code() != grpc.StatusCode.UNAVAILABLE:
        return None
    for key, value in err.trailing_metadata() or ():
        if key == "strata-leader" and value:
            return value
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", default="127.0.0.1:50051", help="Strata northbound address")
    ap.add_argument("--ca", help="CA certificate (PEM) the API's certificate must chain to")
    ap.add_argument("--token-file", help="file holding the bearer token")
    ap.add_argument("--credentials", help="a directory with ca.pem and admin.token (as strata lab writes)")
    ap.add_argument("--insecure", action="store_true", help="plaintext, no token")
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("eline", help="create an EVPN E-Line")
    e.add_argument("name")
    e.add_argument("a", type=attachment)
    e.add_argument("b", type=attachment)
    e.add_argument("--gbps", type=float, default=0.0)
    lan = sub.add_parser("elan", help="create an EVPN E-LAN")
    lan.add_argument("name")
    lan.add_argument("attachments", type=attachment, nargs="+")
    lan.add_argument("--gbps", type=float, default=0.0)
    p = sub.add_parser("policy", help="create an SR-TE policy")
    p.add_argument("name")
    p.add_argument("headend")
    p.add_argument("endpoint")
    p.add_argument("--color", type=int, default=100)
    p.add_argument("--max-latency-us", type=int, default=0)
    p.add_argument("--gbps", type=float, default=0.0)
    p.add_argument("--metric", choices=["latency", "igp", "te", "hops"], default="latency")
    w = sub.add_parser("wavelength", help="create a wavelength (400ZR or OpenZR+)")
    w.add_argument("name")
    w.add_argument("a")
    w.add_argument("b")
    w.add_argument("--mode", type=int, default=0, help="operational mode id; 0 picks the fastest that closes")
    sub.add_parser("list", help="list services, policies and wavelengths")
    d = sub.add_parser("delete", help="delete a service, policy or wavelength by id")
    d.add_argument("id")
    args = ap.parse_args(argv)

    request_id = str(uuid.uuid4())
    try:
        run(args, connect(args), request_id)
    except grpc.RpcError as err:
        leader = leader_of(err)
        if leader is None or leader == args.api:
            print(f"{err.code().name}: {err.details()}", file=sys.stderr)
            return 1
        # Sent to a follower: once more to the leader it names, with the same
        # request id, so a change that did land is answered, not made twice.
        args.api = leader
        try:
            run(args, connect(args), request_id)
        except grpc.RpcError as err:
            print(f"{err.code().name}: {err.details()}", file=sys.stderr)
            return 1
    return 0


def run(args, channel, request_id):
    """The command itself, on `channel` (a change raises grpc.RpcError if refused)."""
    services = rpc.ServicesStub(channel)
    policies = rpc.PoliciesStub(channel)
    wavelengths = rpc.WavelengthsStub(channel)
    if args.cmd in ("eline", "elan"):
        kind = pb.SERVICE_TYPE_E_LINE if args.cmd == "eline" else pb.SERVICE_TYPE_E_LAN
        atts = [args.a, args.b] if args.cmd == "eline" else args.attachments
        show(services.CreateService(pb.CreateServiceRequest(
            request_id=request_id,
            spec=pb.ServiceSpec(name=args.name, type=kind, attachments=atts, bandwidth_gbps=args.gbps))))
    elif args.cmd == "policy":
        metric = {"latency": pb.METRIC_LATENCY, "igp": pb.METRIC_IGP, "te": pb.METRIC_TE, "hops": pb.METRIC_HOP_COUNT}[args.metric]
        show(policies.CreatePolicy(pb.CreatePolicyRequest(
            request_id=request_id,
            spec=pb.PolicySpec(name=args.name, headend=args.headend, endpoint=args.endpoint, color=args.color,
                               constraints=pb.Constraints(metric=metric, max_latency_us=args.max_latency_us,
                                                          bandwidth_gbps=args.gbps)))))
    elif args.cmd == "wavelength":
        show(wavelengths.CreateWavelength(pb.CreateWavelengthRequest(
            request_id=request_id,
            spec=pb.WavelengthSpec(name=args.name, a=args.a, b=args.b, operational_mode=args.mode))))
    elif args.cmd == "list":
        show(pb.ListServicesResponse(
            services=list_all(services.ListServices, pb.ListServicesRequest(), "services")))
        show(pb.ListPoliciesResponse(
            policies=list_all(policies.ListPolicies, pb.ListPoliciesRequest(), "policies")))
        show(pb.ListWavelengthsResponse(
            wavelengths=list_all(wavelengths.ListWavelengths, pb.ListWavelengthsRequest(), "wavelengths")))
    elif args.cmd == "delete":
        if args.id.startswith("svc-"):
            show(services.DeleteService(pb.DeleteServiceRequest(id=args.id)))
        elif args.id.startswith("pol-"):
            show(policies.DeletePolicy(pb.DeletePolicyRequest(id=args.id)))
        else:
            show(wavelengths.DeleteWavelength(pb.DeleteWavelengthRequest(id=args.id)))


if __name__ == "__main__":
    sys.exit(main())
