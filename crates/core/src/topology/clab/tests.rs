use std::net::SocketAddr;

use super::super::{load_file, parse_str, FieldError};
use crate::model::{Layer, Role};

const SMALL: &str = include_str!("../../../../../examples/small.yaml");
const SMALL_CLAB: &str = include_str!("../../../../../examples/small.clab.yml");

/// Two routers and two optical terminals; the cases add links (and
/// sometimes more nodes) below.
const NODES: &str = "\
name: t
topology:
  defaults:
    labels:
      strata.address-base: 127.0.0.1:50000
  kinds:
    linux:
      labels:
        strata.role: optical
  nodes:
    pe1:
      kind: nokia_srlinux
      labels:
        strata.router-id: 10.0.0.1
    pe2:
      kind: arista_ceos
    ot1:
      kind: linux
    ot2:
      kind: linux
";

fn with_links(links: &str) -> String {
    format!("{NODES}  links:\n{links}")
}

fn errors_of(text: &str) -> Vec<FieldError> {
    match parse_str(text) {
        Ok(_) => panic!("expected errors, parsed fine:\n{text}"),
        Err(e) => e.errors,
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in text"))
        + 1
}

/// The 1-based line of the last line of `text` containing `needle` (the
/// cases append what they test to the shared nodes).
#[track_caller]
fn last_line_of(text: &str, needle: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .rposition(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in text"))
        + 1
}

/// The case under test is the only problem in the file: one error, on
/// `field`, mentioning `words`, on the last line holding `at`.
#[track_caller]
fn sole_error(text: &str, field: &str, words: &str, at: &str) -> FieldError {
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "want exactly one error, got {errors:#?}");
    let e = &errors[0];
    assert_eq!(e.field, field, "{errors:#?}");
    assert!(
        e.message.contains(words),
        "error on {field} should mention {words:?}: {:?}",
        e.message
    );
    assert_eq!(e.line, Some(last_line_of(text, at)), "{e:?}");
    e.clone()
}

// --- valid files -----------------------------------------------------------

#[test]
fn shipped_example_is_the_native_small_fabric() {
    let native = parse_str(SMALL).expect("examples/small.yaml is valid");
    let clab = parse_str(SMALL_CLAB).expect("examples/small.clab.yml is valid");
    // Field by field first, so a difference says where it is.
    assert_eq!(clab.name, native.name);
    assert_eq!(clab.nodes, native.nodes);
    for (c, n) in clab.links.iter().zip(&native.links) {
        assert_eq!(c, n);
    }
    assert_eq!(clab, native);
    let riding = clab.link("pe1-pe2").unwrap();
    assert_eq!(riding.layer, Layer::Packet);
    assert!(riding.srlgs.contains(&500));
    assert_eq!(riding.rides, ["ot1-ot2"]);
    assert_eq!(clab.link("ot1-ot2").unwrap().layer, Layer::Fiber);
}

#[test]
fn load_file_reads_the_example_and_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lab.clab.yml");
    std::fs::write(&path, SMALL_CLAB).unwrap();
    assert_eq!(load_file(&path).unwrap().nodes.len(), 5);

    // Content wins over the name: native content in a .clab.yml is native,
    // containerlab content in a .yaml is containerlab's.
    std::fs::write(&path, SMALL).unwrap();
    assert_eq!(load_file(&path).unwrap().nodes.len(), 5);
    let plain = dir.path().join("lab.yaml");
    std::fs::write(&plain, SMALL_CLAB).unwrap();
    assert_eq!(load_file(&plain).unwrap().nodes.len(), 5);

    // Undecidable content: the name says containerlab, so the errors do.
    std::fs::write(&path, "name: t\n").unwrap();
    let err = load_file(&path).unwrap_err();
    assert_eq!(err.errors[0].field, "topology", "{err}");
    std::fs::write(&plain, "name: t\n").unwrap();
    assert_eq!(load_file(&plain).unwrap_err().errors[0].field, "nodes");
}

#[test]
fn roles_addresses_and_layers_are_derived() {
    let text = "\
name: lab
topology:
  defaults:
    kind: nokia_srlinux
  kinds:
    cisco_xrd:
      labels:
        strata.gnmi-port: 57777
  nodes:
    srl1:
      mgmt-ipv4: 172.20.20.11
      labels:
        strata.site: Ashburn
        strata.lat: 39.04
        strata.lon: -77.49
        strata.access-interfaces: e1-10,e1-11
    xrd1:
      kind: cisco_xrd
      mgmt-ipv4: 172.20.20.12
    ot1:
      kind: linux
      labels:
        strata.role: optical
        strata.address: 127.0.0.1:30001
    ot2:
      kind: linux
      labels:
        strata.role: optical
        strata.address: 127.0.0.1:30002
  links:
    - endpoints: [\"srl1:e1-1\", \"xrd1:Gi0-0-0-0\"]
    - endpoints: [\"ot1:line-1\", \"ot2:line-1\"]
      labels:
        strata.layer: fiber
        strata.length-km: 12.5
        strata.srlgs: 7, 8
    - type: veth
      endpoints:
        - node: srl1
          interface: e1-2
        - node: xrd1
          interface: Gi0-0-0-1
      labels:
        strata.rides: ot1:line-1--ot2:line-1
        strata.te-metric: 9
        strata.igp-metric: 20
        strata.capacity-gbps: 100
        strata.admin-groups: gold, blue
      vars:
        other: stuff
";
    let t = parse_str(text).unwrap();
    let srl1 = t.node("srl1").unwrap();
    assert_eq!(srl1.role, Role::Packet);
    assert_eq!(
        srl1.address,
        "172.20.20.11:57400".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(srl1.site.as_deref(), Some("Ashburn"));
    assert_eq!(srl1.location.map(|l| (l.lat, l.lon)), Some((39.04, -77.49)));
    assert_eq!(srl1.access_interfaces, ["e1-10", "e1-11"]);
    assert_eq!(t.node("xrd1").unwrap().address.port(), 57777);
    assert_eq!(t.node("ot2").unwrap().role, Role::Optical);

    let brief = t
        .link("srl1:e1-1--xrd1:Gi0-0-0-0")
        .expect("native default name");
    assert_eq!(brief.layer, Layer::Packet);
    let span = t.link("ot1:line-1--ot2:line-1").unwrap();
    assert_eq!(span.srlgs.iter().copied().collect::<Vec<_>>(), [7, 8]);
    let riding = t.link("srl1:e1-2--xrd1:Gi0-0-0-1").unwrap();
    assert_eq!(riding.length_km, 12.5);
    assert_eq!(riding.srlgs.len(), 2);
    assert_eq!((riding.te_metric, riding.igp_metric), (9, 20));
    assert_eq!(riding.capacity_gbps, 100.0);
    assert_eq!(riding.admin_groups.len(), 2);
}

#[test]
fn documented_example_parses() {
    let doc = include_str!("../../../../../docs/topology.md");
    let section = doc
        .split("## containerlab topologies")
        .nth(1)
        .expect("docs/topology.md has a containerlab section");
    let yaml = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the containerlab section has a yaml example");
    let t = parse_str(yaml).expect("the documented example is valid");
    assert_eq!((t.nodes.len(), t.links.len()), (4, 2));
    let address = |name| t.node(name).map(|n| n.address.to_string());
    // The base wins over mgmt-ipv4; an explicit address wins over the base.
    assert_eq!(address("pe1").as_deref(), Some("127.0.0.1:20300"));
    assert_eq!(address("pe2").as_deref(), Some("127.0.0.1:57500"));
    assert_eq!(t.node("ot1").map(|n| n.role), Some(Role::Optical));
    assert!(t.node("ot1").unwrap().access_interfaces.is_empty());
    assert_eq!(t.node("pe2").unwrap().access_interfaces.len(), 2);
    assert_eq!(t.link("ot1-ot2").unwrap().srlgs.len(), 2);
}

// --- this format's own errors ------------------------------------------------

#[test]
fn unknown_kind_needs_a_role_label() {
    let text = NODES.replace(
        "    ot2:\n      kind: linux\n",
        "    sw9:\n      kind: bridge\n",
    );
    let e = sole_error(
        &text,
        "topology.nodes.sw9.kind",
        "strata.role",
        "kind: bridge",
    );
    assert!(e.message.contains("\"sw9\""), "{e:?}");

    let text = NODES.replace("      kind: arista_ceos\n", "");
    sole_error(&text, "topology.nodes.pe2.kind", "has no kind", "pe2:");

    let text = NODES.replace("strata.role: optical", "strata.role: photonic");
    sole_error(
        &text,
        "topology.kinds.linux.labels.strata.role",
        "expected packet or optical, got \"photonic\"",
        "photonic",
    );
}

#[test]
fn label_values_are_checked_where_written() {
    let text = NODES.replace(
        "        strata.router-id: 10.0.0.1\n",
        "        strata.node-sid: sixteen\n",
    );
    let e = sole_error(
        &text,
        "topology.nodes.pe1.labels.strata.node-sid",
        "expected an integer, got \"sixteen\"",
        "sixteen",
    );
    assert_eq!(e.line, Some(14));

    let text = NODES.replace("10.0.0.1", "10.0.0.300");
    sole_error(
        &text,
        "topology.nodes.pe1.labels.strata.router-id",
        "an IPv4 address",
        "10.0.0.300",
    );

    let text = NODES.replace("strata.router-id: 10.0.0.1", "strata.router-id: [10.0.0.1]");
    sole_error(
        &text,
        "topology.nodes.pe1.labels.strata.router-id",
        "expected a string or a number, found a list",
        "router-id",
    );
}

#[test]
fn typos_in_labels_get_a_suggestion() {
    let text = NODES.replace("strata.router-id", "strata.router_id");
    sole_error(
        &text,
        "topology.nodes.pe1.labels.strata.router_id",
        "unknown label \"strata.router_id\" (did you mean \"strata.router-id\"?)",
        "router_id",
    );
    // Other tools' labels are left alone.
    let text = NODES.replace("strata.router-id", "graph-icon");
    assert!(parse_str(&text).is_ok());
}

#[test]
fn inherited_label_errors_are_reported_once() {
    let text = NODES.replace(
        "      strata.address-base: 127.0.0.1:50000\n",
        "      strata.address-base: 127.0.0.1:50000\n      strata.gnmi-port: lots\n",
    );
    // Read for every node, reported once (and not used: address-base wins).
    sole_error(
        &text,
        "topology.defaults.labels.strata.gnmi-port",
        "a port number",
        "lots",
    );
}

#[test]
fn address_base_belongs_in_the_defaults() {
    let text = NODES.replace(
        "        strata.router-id: 10.0.0.1\n",
        "        strata.address-base: 127.0.0.1:1\n",
    );
    sole_error(
        &text,
        "topology.nodes.pe1.labels.strata.address-base",
        "set it in topology.defaults.labels",
        "127.0.0.1:1",
    );
}

#[test]
fn a_node_needs_an_address() {
    let text = NODES.replace("      strata.address-base: 127.0.0.1:50000\n", "      {}\n");
    let text = text.replace("    labels:\n      {}\n", "");
    let errors = errors_of(&text);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "topology.nodes.pe1",
            "topology.nodes.pe2",
            "topology.nodes.ot1",
            "topology.nodes.ot2"
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("strata.address"), "{errors:?}");
    assert!(errors[0].message.contains("mgmt-ipv4"), "{errors:?}");
    assert_eq!(errors[0].line, Some(line_of(&text, "pe1:")));

    let text = NODES.replace(
        "      kind: arista_ceos\n",
        "      kind: arista_ceos\n      mgmt-ipv4: 172.20.20.300\n",
    );
    sole_error(
        &text,
        "topology.nodes.pe2.mgmt-ipv4",
        "an IPv4 address",
        "mgmt-ipv4",
    );
}

#[test]
fn malformed_endpoints() {
    let text = with_links("    - endpoints: [\"pe1:e1\"]\n");
    sole_error(
        &text,
        "topology.links[0].endpoints",
        "exactly two endpoints, found 1",
        "endpoints",
    );
    let text = with_links("    - endpoints: [\"pe1:e1\", \"pe2\"]\n");
    sole_error(
        &text,
        "topology.links[0].endpoints[1]",
        "expected \"node:interface\", got \"pe2\"",
        "endpoints",
    );
    let text = with_links("    - endpoints: [\"pe1:e1\", \"host:veth-pe1\"]\n");
    sole_error(
        &text,
        "topology.links[0].endpoints[1]",
        "attaches to the container host",
        "endpoints",
    );
    let text = with_links(
        "    - type: veth\n      endpoints:\n        - node: pe1\n          interface: e1\n        - node: pe2\n",
    );
    sole_error(
        &text,
        "topology.links[0].endpoints[1].interface",
        "missing required field",
        "- node: pe2",
    );
    let text = with_links("    - type: macvlan\n      endpoint: {node: pe1, interface: e1}\n");
    sole_error(
        &text,
        "topology.links[0].type",
        "Strata reads veth links",
        "macvlan",
    );
    let text = with_links(
        "    - endpoints: [\"pe1:e1\", \"pe2:e1\"]\n      vars:\n        strata.layer: packet\n",
    );
    sole_error(
        &text,
        "topology.links[0].vars.strata.layer",
        "not its vars",
        "strata.layer",
    );
}

#[test]
fn links_between_optical_nodes_need_a_layer() {
    let text = with_links(
        "    - endpoints: [\"ot1:l1\", \"ot2:l1\"]\n      labels:\n        strata.length-km: 3\n",
    );
    sole_error(
        &text,
        "topology.links[0].labels.strata.layer",
        "only links between two packet nodes default to packet",
        "labels:",
    );
}

// --- the shared checks, in this format's paths --------------------------------

#[test]
fn duplicate_router_ids_name_both_nodes() {
    let text = NODES.replace(
        "      kind: arista_ceos\n",
        "      kind: arista_ceos\n      labels:\n        strata.router-id: 10.0.0.1\n",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        errors[0].field,
        "topology.nodes.pe2.labels.strata.router-id"
    );
    assert_eq!(errors[0].line, Some(18));
    assert_eq!(
        errors[0].message,
        "duplicate router_id 10.0.0.1, already used by topology.nodes.pe1 (line 11)"
    );
}

#[test]
fn link_checks_report_containerlab_paths() {
    // Brief form: an unknown node is blamed on the endpoint string.
    let text = with_links("    - endpoints: [\"pe1:e1\", \"pe9:e1\"]\n");
    sole_error(
        &text,
        "topology.links[0].endpoints[1]",
        "unknown node \"pe9\"",
        "pe9",
    );
    // Extended form: on its node field.
    let text = with_links(
        "    - type: veth\n      endpoints:\n        - node: pe1\n          interface: e1\n        - node: pe9\n          interface: e1\n",
    );
    sole_error(
        &text,
        "topology.links[0].endpoints[1].node",
        "unknown node \"pe9\"",
        "pe9",
    );
    // Layer against roles.
    let text = with_links(
        "    - endpoints: [\"pe1:e1\", \"ot1:l1\"]\n      labels:\n        strata.layer: packet\n",
    );
    sole_error(
        &text,
        "topology.links[0].endpoints[1]",
        "optical node \"ot1\" cannot terminate a packet link",
        "ot1:l1",
    );
    // Fiber spans need a length.
    let text = with_links(
        "    - endpoints: [\"ot1:l1\", \"ot2:l1\"]\n      labels:\n        strata.layer: fiber\n",
    );
    sole_error(
        &text,
        "topology.links[0].labels.strata.length-km",
        "fiber spans need a length",
        "labels:",
    );
    // rides, with its line.
    let text = with_links(
        "    - endpoints: [\"pe1:e1\", \"pe2:e1\"]\n      labels:\n        strata.rides: f9\n",
    );
    sole_error(
        &text,
        "topology.links[0].labels.strata.rides",
        "unknown link \"f9\"",
        "f9",
    );
    // One interface, two links.
    let text = with_links(
        "    - endpoints: [\"pe1:e1\", \"pe2:e1\"]\n    - endpoints: [\"pe1:e1\", \"pe2:e2\"]\n",
    );
    let e = sole_error(
        &text,
        "topology.links[1].endpoints[0]",
        "already used by topology.links[0] (line 22)",
        "pe2:e2",
    );
    assert_eq!(e.line, Some(23));
}

#[test]
fn node_checks_report_containerlab_paths() {
    let text = NODES.replace("    pe2:\n", "    PE2:\n");
    sole_error(
        &text,
        "topology.nodes.PE2",
        "invalid node name \"PE2\"",
        "PE2:",
    );

    let text = NODES.replace(
        "    ot1:\n      kind: linux\n",
        "    ot1:\n      kind: linux\n      labels:\n        strata.node-sid: 16001\n",
    );
    sole_error(
        &text,
        "topology.nodes.ot1.labels.strata.node-sid",
        "optical nodes have no node SID",
        "16001",
    );

    let text = NODES.replace(
        "    ot1:\n      kind: linux\n",
        "    ot1:\n      kind: linux\n      labels:\n        strata.lat: 91\n        strata.lon: 0\n",
    );
    sole_error(
        &text,
        "topology.nodes.ot1.labels.strata.lat",
        "outside [-90, 90]",
        "91",
    );
}

#[test]
fn every_problem_is_reported_at_once_in_file_order() {
    let text = with_links(
        "    - endpoints: [\"pe1:e1\", \"pe9:e1\"]\n    - endpoints: [\"ot1:l1\", \"ot2:l1\"]\n      labels:\n        strata.layer: fiber\n        strata.length-km: -5\n",
    )
    .replace("strata.router-id: 10.0.0.1", "strata.node-sid: 3")
    .replace("kind: arista_ceos", "kind: bridge");
    let errors = errors_of(&text);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "topology.nodes.pe1.labels.strata.node-sid",
            "topology.nodes.pe2.kind",
            "topology.links[0].endpoints[1]",
            "topology.links[1].labels.strata.length-km",
        ],
        "{errors:#?}"
    );
    let lines: Vec<usize> = errors.iter().map(|e| e.line.unwrap()).collect();
    assert_eq!(lines, [14, 16, 22, 26]);
}
