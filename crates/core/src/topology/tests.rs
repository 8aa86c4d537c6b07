use std::net::SocketAddr;

use super::{load_file, parse_str, FieldError, TopologyError};
use crate::model::{Layer, Role};

const US_METRO: &str = include_str!("../../../../examples/us-metro.yaml");
const SMALL: &str = include_str!("../../../../examples/small.yaml");

/// Four nodes (two packet, two optical) that the malformed cases reuse;
/// `nodes[0]` starts on line 5.
const NODES: &str = "  - name: pe1
    role: packet
  - name: pe2
    role: packet
  - name: ot1
    role: optical
  - name: ot2
    role: optical
";

fn doc(nodes: &str, links: &str) -> String {
    format!("name: t\ndefaults:\n  address_base: 127.0.0.1:50000\nnodes:\n{nodes}links:\n{links}")
}

fn errors_of(text: &str) -> Vec<FieldError> {
    match parse_str(text) {
        Ok(_) => panic!("expected errors, parsed fine:\n{text}"),
        Err(e) => {
            assert_eq!(e.source_name, "<string>");
            e.errors
        }
    }
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in text"))
        + 1
}

/// Asserts exactly one error on `field`, whose message contains `words`;
/// returns it.
#[track_caller]
fn only_error_on<'e>(errors: &'e [FieldError], field: &str, words: &str) -> &'e FieldError {
    let on: Vec<&FieldError> = errors.iter().filter(|e| e.field == field).collect();
    assert_eq!(on.len(), 1, "want one error on {field}, got {errors:#?}");
    assert!(
        on[0].message.contains(words),
        "error on {field} should mention {words:?}: {:?}",
        on[0].message
    );
    on[0]
}

/// The case under test is the only problem in the file.
#[track_caller]
fn sole_error(text: &str, field: &str, words: &str) -> FieldError {
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1, "want exactly one error, got {errors:#?}");
    only_error_on(&errors, field, words).clone()
}

// --- valid files ---------------------------------------------------------

#[test]
fn us_metro_example_parses() {
    let t = parse_str(US_METRO).expect("examples/us-metro.yaml is valid");
    assert_eq!(t.name, "us-metro-dci");
    assert_eq!(t.nodes.len(), 49);
    assert_eq!(t.links.len(), 101);
    let count = |layer| t.links.iter().filter(|l| l.layer == layer).count();
    assert_eq!((count(Layer::Fiber), count(Layer::Packet)), (29, 72));

    let pe1 = t.node("nva-pe1").unwrap();
    assert_eq!(
        pe1.address,
        "127.0.0.1:20400".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(pe1.node_sid, Some(16011));
    assert_eq!(pe1.site.as_deref(), Some("Northern Virginia"));
    assert_eq!(t.nodes.last().unwrap().address.port(), 20448);
    // the intra-metro DCI fiber carries its span plan; long-haul ones default
    let dci = t.link("nva-dci-f1").and_then(|l| l.plant.clone()).unwrap();
    assert_eq!(
        (dci.spans_km.clone(), dci.connector_loss_db),
        (vec![62.0], 1.0)
    );
    assert_eq!(t.link("sea-pdx-f1").unwrap().plant, None);

    // Every metro reaches at least two others over fiber (nva-ot2 is a
    // second campus inside Northern Virginia, on one DCI fiber).
    for ot in t
        .nodes
        .iter()
        .filter(|n| n.role == Role::Optical && n.name != "nva-ot2")
    {
        let spans = t
            .links_of(&ot.name)
            .filter(|l| l.layer == Layer::Fiber)
            .count();
        assert!(spans >= 2, "{} has {spans} spans", ot.name);
    }

    // Packet links inherit their span's SRLG, length and latency.
    let span = t.link("atl-nva-f1").unwrap();
    let p1 = t.link("atl-nva-p1").unwrap();
    assert_eq!(p1.rides, vec!["atl-nva-f1".to_string()]);
    assert!(p1.srlgs.is_superset(&span.srlgs) && !span.srlgs.is_empty());
    assert_eq!(p1.length_km, span.length_km);
    assert_eq!(p1.latency_us, (span.length_km * 4.9).round() as u32);
    assert_eq!(p1.te_metric, p1.latency_us);
    assert_eq!(p1.capacity_gbps, 400.0);
    let local = t.link("nva-local").unwrap();
    assert_eq!((local.length_km, local.latency_us), (2.0, 10));
}

#[test]
fn small_example_parses() {
    let t = parse_str(SMALL).expect("examples/small.yaml is valid");
    assert_eq!(t.nodes.len(), 5);
    assert_eq!(t.node("pe1").unwrap().address.port(), 20300);
    assert_eq!(t.node("pe1").unwrap().interfaces, ["et-0/0/1", "et-0/0/2"]);
    // pe1-pe2 rides the 60 km fiber: inherits its SRLG and length.
    let riding = t.link("pe1-pe2").unwrap();
    assert!(riding.srlgs.contains(&500));
    assert_eq!((riding.length_km, riding.latency_us), (60.0, 294));
    // 90 km ≈ 441 µs one way; the integration tests rely on it.
    assert_eq!(t.link("pe1-pe3").unwrap().latency_us, 441);
}

#[test]
fn derived_values() {
    let text = doc(
        NODES,
        "  - name: f1
    a: {node: ot1, interface: line-1}
    b: {node: ot2, interface: line-1}
    layer: fiber
    length_km: 100
    srlgs: [7]
  - name: f2
    a: {node: ot1, interface: line-2}
    b: {node: ot2, interface: line-2}
    layer: fiber
    length_km: 50.5
    srlgs: [8, 7]
  - name: och
    a: {node: ot1, interface: och-1}
    b: {node: ot2, interface: och-1}
    layer: optical
    rides: [f1, f2]
  - a: {node: pe1, interface: et-1}
    b: {node: pe2, interface: et-1}
    layer: packet
    rides: [och]
    srlgs: [1]
  - a: {node: pe2, interface: et-2}
    b: {node: pe1, interface: et-1.100}
    layer: packet
    te_metric: 7
    igp_metric: 20
    capacity_gbps: 100
    admin_groups: [gold, gold, blue]
",
    );
    let t = parse_str(&text).unwrap();
    let och = t.link("och").unwrap();
    assert_eq!(och.length_km, 150.5);
    assert_eq!(och.srlgs.iter().copied().collect::<Vec<_>>(), [7, 8]);
    // Transitive: packet over optical over fiber.
    let p = t.link("pe1:et-1--pe2:et-1").expect("default name");
    assert_eq!(p.srlgs.iter().copied().collect::<Vec<_>>(), [1, 7, 8]);
    assert_eq!((p.length_km, p.latency_us, p.te_metric), (150.5, 737, 737));
    assert_eq!((p.igp_metric, p.capacity_gbps), (10, 400.0));
    // No length, nothing ridden: zero, with a te_metric of at least 1.
    let q = t.link("pe2:et-2--pe1:et-1.100").unwrap();
    assert_eq!(
        (q.length_km, q.latency_us, q.te_metric, q.igp_metric),
        (0.0, 0, 7, 20)
    );
    assert_eq!(q.capacity_gbps, 100.0);
    assert_eq!(q.admin_groups.len(), 2);
    assert_eq!(t.node("pe1").unwrap().interfaces, ["et-1", "et-1.100"]);
    assert_eq!(t.node("pe2").unwrap().interfaces, ["et-1", "et-2"]);
    assert_eq!(
        t.node("ot1").unwrap().interfaces,
        ["line-1", "line-2", "och-1"]
    );
    // Address = base + position in the file.
    assert_eq!(t.node("ot2").unwrap().address.port(), 50003);
}

#[test]
fn explicit_addresses_and_yaml_merges() {
    let text = "\
name: t
nodes:
  - &packet
    name: pe1
    role: packet
    address: 10.0.0.1:20400
  - <<: *packet
    name: pe2
    address: '[::1]:20400'
";
    let t = parse_str(text).unwrap();
    assert_eq!(t.node("pe2").unwrap().role, Role::Packet);
    assert_eq!(t.node("pe2").unwrap().address.to_string(), "[::1]:20400");
    assert!(t.links.is_empty());
}

// --- reporting -----------------------------------------------------------

#[test]
fn display_is_one_line_per_error() {
    let err = TopologyError {
        source_name: "examples/x.yaml".into(),
        errors: vec![
            FieldError {
                field: "links[5].a.node".into(),
                line: Some(42),
                message: "unknown node \"atl-pe9\"".into(),
            },
            FieldError {
                field: String::new(),
                line: None,
                message: "something broad".into(),
            },
        ],
    };
    assert_eq!(
        err.to_string(),
        "examples/x.yaml:42: links[5].a.node: unknown node \"atl-pe9\"\nexamples/x.yaml: something broad"
    );
}

#[test]
fn all_errors_are_reported_in_file_order() {
    let text = doc(
        "  - name: pe1
    role: packet
    node_sid: 3
  - name: pe1
    role: packet
  - name: ot1
    role: optical
    colour: blue
",
        "  - a: {node: pe1, interface: x}
    b: {node: atl-pe9, interface: y}
    layer: packet
  - a: {node: ot1, interface: l}
    b: {node: ot1, interface: m}
    layer: fiber
    length_km: -3
",
    );
    let errors = errors_of(&text);
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "nodes[0].node_sid",
            "nodes[1].name",
            "nodes[2].colour",
            "links[0].b.node",
            "links[1].b.node",
            "links[1].length_km",
        ]
    );
    let lines: Vec<usize> = errors.iter().map(|e| e.line.unwrap()).collect();
    assert_eq!(lines, [7, 8, 12, 15, 18, 20]);
    let shown = TopologyError {
        source_name: "x.yaml".into(),
        errors,
    }
    .to_string();
    assert_eq!(shown.lines().count(), 6);
    assert!(
        shown.contains("x.yaml:15: links[0].b.node: unknown node \"atl-pe9\""),
        "{shown}"
    );
}

#[test]
fn load_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fabric.yaml");
    std::fs::write(&path, "name: t\nnodes:\n  - name: pe1\n    role: packet\n").unwrap();
    let err = load_file(&path).unwrap_err();
    assert_eq!(err.source_name, path.display().to_string());
    assert_eq!(err.errors[0].field, "nodes[0].address");
    assert!(err
        .to_string()
        .starts_with(&format!("{}:3: nodes[0].address", path.display())));

    let missing = load_file(&dir.path().join("absent.yaml")).unwrap_err();
    assert!(
        missing.errors[0].message.contains("cannot read"),
        "{missing}"
    );
    assert_eq!(missing.errors[0].line, None);

    std::fs::write(&path, US_METRO).unwrap();
    assert_eq!(load_file(&path).unwrap().nodes.len(), 49);
}

// --- syntax, shape and types ---------------------------------------------

#[test]
fn yaml_syntax_error_has_its_line() {
    let text = "name: t\nnodes:\n  - name: pe1\n    role: [packet\n  - name: pe2\n";
    let errors = errors_of(text);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "");
    assert!(
        errors[0].line.is_some_and(|l| (4..=6).contains(&l)),
        "{errors:?}"
    );
}

#[test]
fn unknown_keys_are_rejected() {
    let text = doc("  - name: pe1\n    rol: packet\n    role: packet\n", "");
    let e = sole_error(&text, "nodes[0].rol", "did you mean \"role\"");
    assert_eq!(e.line, Some(6));

    let text = format!("{}colour: blue\n", doc(NODES, ""));
    let e = sole_error(
        &text,
        "colour",
        "expected one of: name, defaults, nodes, links",
    );
    assert_eq!(e.line, Some(line_of(&text, "colour")));

    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x, vlan: 3}\n    b: {node: pe2, interface: x}\n    layer: packet\n",
    );
    let e = sole_error(&text, "links[0].a.vlan", "unknown field");
    assert_eq!(e.line, Some(line_of(&text, "vlan")));
}

#[test]
fn missing_required_fields() {
    let text = doc("  - name: pe1\n    site: Somewhere\n", "");
    let e = sole_error(&text, "nodes[0].role", "missing required field");
    assert_eq!(e.line, Some(5), "points at the item");

    let errors = errors_of("nodes:\n  - name: pe1\n    role: packet\n    address: 127.0.0.1:1\n");
    only_error_on(&errors, "name", "missing required field");

    let errors = errors_of("name: t\n");
    only_error_on(&errors, "nodes", "missing required field");

    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    layer: packet\n",
    );
    sole_error(&text, "links[0].b", "missing required field");

    let text = doc(
        NODES,
        "  - a: {node: pe1}\n    b: {node: pe2, interface: x}\n",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    only_error_on(&errors, "links[0].a.interface", "missing required field");
    only_error_on(&errors, "links[0].layer", "missing required field");
}

#[test]
fn wrong_types() {
    let text = doc(
        "  - name: pe1\n    role: packet\n    node_sid: sixteen\n",
        "",
    );
    let e = sole_error(&text, "nodes[0].node_sid", "invalid type");
    assert_eq!(e.line, Some(7));

    let text = doc("  - name: pe1\n    role: router\n", "");
    sole_error(&text, "nodes[0].role", "unknown variant `router`");

    let text = doc(
        "  - name: pe1\n    role: packet\n    router_id: 10.255.0.300\n",
        "",
    );
    sole_error(&text, "nodes[0].router_id", "");

    let text = doc(
        "  - name: pe1\n    role: packet\n    address: localhost\n",
        "",
    );
    sole_error(&text, "nodes[0].address", "socket address");

    let text = doc(
        NODES,
        "  - a: {node: ot1, interface: l}\n    b: {node: ot2, interface: l}\n    layer: fiber\n    length_km: 5\n    srlgs: [1, two]\n",
    );
    let e = sole_error(&text, "links[0].srlgs[1]", "invalid type");
    assert_eq!(e.line, Some(line_of(&text, "srlgs")));

    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    b: {node: pe2, interface: x}\n    layer: packet\n    latency_us: -4\n",
    );
    sole_error(&text, "links[0].latency_us", "expected u32");

    sole_error(&doc("  pe1: packet\n", ""), "nodes", "expected a list");
    sole_error("- just\n- a list\n", "", "expected a mapping");
}

// --- nodes ---------------------------------------------------------------

#[test]
fn duplicate_node_names() {
    let text = doc(&format!("{NODES}  - name: pe2\n    role: packet\n"), "");
    let e = sole_error(
        &text,
        "nodes[4].name",
        "duplicate node name \"pe2\", already used by nodes[1] (line 7)",
    );
    assert_eq!(e.line, Some(13));
}

#[test]
fn invalid_node_names() {
    let text = doc("  - name: PE-1\n    role: packet\n", "");
    sole_error(&text, "nodes[0].name", "invalid node name \"PE-1\"");
    let text = doc("  - name: -pe1\n    role: packet\n", "");
    sole_error(&text, "nodes[0].name", "invalid node name");
}

#[test]
fn duplicate_addresses() {
    let text = doc(
        "  - name: pe1\n    role: packet\n    address: 127.0.0.1:9\n  - name: pe2\n    role: packet\n    address: 127.0.0.1:9\n",
        "",
    );
    let e = sole_error(&text, "nodes[1].address", "duplicate address 127.0.0.1:9");
    assert_eq!(e.line, Some(10));

    // An explicit address colliding with a derived one.
    let text = doc(
        "  - name: pe1\n    role: packet\n  - name: pe2\n    role: packet\n    address: 127.0.0.1:50000\n",
        "",
    );
    sole_error(&text, "nodes[1].address", "already used by nodes[0]");
}

#[test]
fn duplicate_router_ids_and_node_sids() {
    let text = doc(
        "  - name: pe1
    role: packet
    router_id: 10.255.0.1
    node_sid: 16001
  - name: pe2
    role: packet
    router_id: 10.255.0.1
    node_sid: 16001
",
        "",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let e = only_error_on(
        &errors,
        "nodes[1].router_id",
        "duplicate router_id 10.255.0.1",
    );
    assert_eq!(e.line, Some(11));
    let e = only_error_on(&errors, "nodes[1].node_sid", "duplicate node_sid 16001");
    assert_eq!(e.line, Some(12));
}

#[test]
fn node_sid_range_and_role() {
    let text = doc(
        "  - name: ot1\n    role: optical\n    node_sid: 16001\n",
        "",
    );
    let e = sole_error(&text, "nodes[0].node_sid", "optical nodes have no node SID");
    assert_eq!(e.line, Some(7));

    let text = doc("  - name: pe1\n    role: packet\n    node_sid: 15\n", "");
    sole_error(&text, "nodes[0].node_sid", "not a usable MPLS label");
    let text = doc(
        "  - name: pe1\n    role: packet\n    node_sid: 1048576\n",
        "",
    );
    sole_error(&text, "nodes[0].node_sid", "not a usable MPLS label");
}

#[test]
fn locations_must_be_on_earth() {
    let text = doc(
        "  - name: pe1\n    role: packet\n    location: {lat: 91, lon: -181}\n",
        "",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    only_error_on(&errors, "nodes[0].location.lat", "outside [-90, 90]");
    let e = only_error_on(&errors, "nodes[0].location.lon", "outside [-180, 180]");
    assert_eq!(e.line, Some(7));
}

#[test]
fn address_needs_a_base_or_an_explicit_value() {
    let text = "name: t\nnodes:\n  - name: pe1\n    role: packet\n    address: 127.0.0.1:1\n  - name: pe2\n    role: packet\n";
    let e = sole_error(text, "nodes[1].address", "no defaults.address_base");
    assert_eq!(e.line, Some(6));

    let text = "name: t\ndefaults:\n  address_base: 127.0.0.1:65535\nnodes:\n  - name: pe1\n    role: packet\n  - name: pe2\n    role: packet\n";
    sole_error(text, "nodes[1].address", "past port 65535");
}

// --- links ---------------------------------------------------------------

#[test]
fn unknown_endpoint_node() {
    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    b: {node: atl-pe9, interface: x}\n    layer: packet\n",
    );
    let e = sole_error(&text, "links[0].b.node", "unknown node \"atl-pe9\"");
    assert_eq!(e.line, Some(line_of(&text, "atl-pe9")));
}

#[test]
fn link_to_itself() {
    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    b: {node: pe1, interface: y}\n    layer: packet\n",
    );
    sole_error(&text, "links[0].b.node", "connects node \"pe1\" to itself");
}

#[test]
fn interface_used_by_two_links() {
    let text = doc(
        NODES,
        "  - name: one
    a: {node: pe1, interface: et-1}
    b: {node: pe2, interface: et-1}
    layer: packet
  - name: two
    a: {node: pe2, interface: et-2}
    b: {node: pe1, interface: et-1}
    layer: packet
",
    );
    let e = sole_error(
        &text,
        "links[1].b.interface",
        "interface \"et-1\" of node \"pe1\" is already used by links[0] (line 14)",
    );
    assert_eq!(e.line, Some(20));
}

#[test]
fn duplicate_link_names() {
    let text = doc(
        NODES,
        "  - name: l
    a: {node: pe1, interface: et-1}
    b: {node: pe2, interface: et-1}
    layer: packet
  - name: l
    a: {node: pe1, interface: et-2}
    b: {node: pe2, interface: et-2}
    layer: packet
",
    );
    let e = sole_error(&text, "links[1].name", "duplicate link name \"l\"");
    assert_eq!(e.line, Some(18));
}

#[test]
fn layer_must_suit_node_roles() {
    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    b: {node: ot1, interface: x}\n    layer: packet\n",
    );
    sole_error(
        &text,
        "links[0].b.node",
        "optical node \"ot1\" cannot terminate a packet link",
    );

    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    b: {node: pe2, interface: x}\n    layer: fiber\n    length_km: 3\n",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    only_error_on(
        &errors,
        "links[0].a.node",
        "packet node \"pe1\" cannot terminate a fiber link",
    );
    only_error_on(
        &errors,
        "links[0].b.node",
        "packet node \"pe2\" cannot terminate a fiber link",
    );

    let text = doc(
        NODES,
        "  - a: {node: ot1, interface: x}\n    b: {node: pe2, interface: x}\n    layer: optical\n",
    );
    sole_error(
        &text,
        "links[0].b.node",
        "packet node \"pe2\" cannot terminate an optical link",
    );
}

#[test]
fn fiber_lengths_must_be_positive() {
    let fiber = |length: &str| {
        doc(
            NODES,
            &format!("  - a: {{node: ot1, interface: l}}\n    b: {{node: ot2, interface: l}}\n    layer: fiber\n{length}"),
        )
    };
    for bad in ["-1", "0", ".nan", ".inf"] {
        let text = fiber(&format!("    length_km: {bad}\n"));
        let e = sole_error(&text, "links[0].length_km", "must be a positive number");
        assert_eq!(e.line, Some(line_of(&text, "length_km")), "{bad}");
    }
    let text = fiber("");
    let e = sole_error(&text, "links[0].length_km", "missing required field");
    assert_eq!(e.line, Some(line_of(&text, "- a:")));

    // Other layers may be zero but not negative.
    let packet = |length: &str| {
        doc(
            NODES,
            &format!("  - a: {{node: pe1, interface: x}}\n    b: {{node: pe2, interface: x}}\n    layer: packet\n    length_km: {length}\n"),
        )
    };
    assert!(parse_str(&packet("0")).is_ok());
    sole_error(
        &packet("-2"),
        "links[0].length_km",
        "must be zero or a positive number",
    );
}

#[test]
fn capacities_and_metrics() {
    let text = doc(
        NODES,
        "  - a: {node: pe1, interface: x}\n    b: {node: pe2, interface: x}\n    layer: packet\n    capacity_gbps: 0\n    te_metric: 0\n    igp_metric: 0\n",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    only_error_on(
        &errors,
        "links[0].capacity_gbps",
        "must be a positive number",
    );
    only_error_on(&errors, "links[0].te_metric", "at least 1");
    only_error_on(&errors, "links[0].igp_metric", "at least 1");

    let text = doc(NODES, "").replace("  address_base", "  capacity_gbps: -1\n  address_base");
    sole_error(&text, "defaults.capacity_gbps", "must be a positive number");
}

// --- rides -----------------------------------------------------------------

const FIBER: &str = "  - name: f1
    a: {node: ot1, interface: line-1}
    b: {node: ot2, interface: line-1}
    layer: fiber
    length_km: 10
";

#[test]
fn rides_unknown_link() {
    let text = doc(
        NODES,
        &format!("{FIBER}  - a: {{node: pe1, interface: x}}\n    b: {{node: pe2, interface: x}}\n    layer: packet\n    rides:\n      - f1\n      - f9\n"),
    );
    let e = sole_error(&text, "links[1].rides[1]", "unknown link \"f9\"");
    assert_eq!(e.line, Some(line_of(&text, "- f9")));
}

#[test]
fn rides_same_or_higher_layer() {
    let packet = "  - name: p1
    a: {node: pe1, interface: x}
    b: {node: pe2, interface: x}
    layer: packet
";
    // Same layer.
    let text = doc(
        NODES,
        &format!("{packet}  - a: {{node: pe1, interface: y}}\n    b: {{node: pe2, interface: y}}\n    layer: packet\n    rides: [p1]\n"),
    );
    let e = sole_error(
        &text,
        "links[1].rides[0]",
        "a packet link cannot ride packet link \"p1\"",
    );
    assert_eq!(e.line, Some(line_of(&text, "rides: [p1]")));

    // Higher layer.
    let text = doc(
        NODES,
        &format!("{packet}  - a: {{node: ot1, interface: l}}\n    b: {{node: ot2, interface: l}}\n    layer: optical\n    rides: [p1]\n"),
    );
    sole_error(
        &text,
        "links[1].rides[0]",
        "an optical link cannot ride packet link \"p1\" (optical links ride fiber links)",
    );

    // Fiber rides nothing.
    let text = doc(
        NODES,
        &format!("{FIBER}  - a: {{node: ot1, interface: l2}}\n    b: {{node: ot2, interface: l2}}\n    layer: fiber\n    length_km: 4\n    rides: [f1]\n"),
    );
    sole_error(&text, "links[1].rides[0]", "fiber links ride nothing");
}

#[test]
fn rides_itself_or_twice() {
    let text = doc(
        NODES,
        &format!("{FIBER}  - name: p\n    a: {{node: pe1, interface: x}}\n    b: {{node: pe2, interface: x}}\n    layer: packet\n    rides: [f1, f1, p]\n"),
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    only_error_on(&errors, "links[1].rides[1]", "listed twice");
    only_error_on(&errors, "links[1].rides[2]", "cannot ride itself");
}

#[test]
fn documented_example_parses() {
    let doc = include_str!("../../../../docs/topology.md");
    let yaml = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/topology.md has a yaml example");
    let t = parse_str(yaml).expect("the documented example is valid");
    assert_eq!((t.nodes.len(), t.links.len()), (4, 2));
}

#[test]
fn lines_in_the_shipped_example() {
    let text = US_METRO.replacen(
        "b: {node: mci-ot1, interface: line-1}",
        "b: {node: mci-ot9, interface: line-1}",
        1,
    );
    let e = sole_error(&text, "links[9].b.node", "unknown node \"mci-ot9\"");
    assert_eq!(e.line, Some(line_of(&text, "mci-ot9")));
}

// --- access interfaces ---------------------------------------------------

#[test]
fn access_interfaces_default_to_packet_nodes_only() {
    let t = parse_str(US_METRO).expect("valid");
    assert_eq!(t.node("atl-pe2").unwrap().access_interfaces.len(), 4);
    assert!(t.node("atl-ot1").unwrap().access_interfaces.is_empty());
}

#[test]
fn access_interface_used_by_a_link_is_an_error() {
    let text = "name: t\ndefaults:\n  address_base: 127.0.0.1:50000\nnodes:\n  - name: pe1\n    role: packet\n    access_interfaces: [x]\n  - name: pe2\n    role: packet\nlinks:\n  - a: {node: pe1, interface: x}\n    b: {node: pe2, interface: x}\n    layer: packet\n";
    let e = sole_error(text, "nodes[0].access_interfaces", "also used by a link");
    assert_eq!(e.line, Some(7));
}

#[test]
fn access_interfaces_on_optical_nodes_are_refused() {
    let text = "name: t\ndefaults:\n  address_base: 127.0.0.1:50000\nnodes:\n  - name: ot1\n    role: optical\n    access_interfaces: [x]\n";
    sole_error(
        text,
        "nodes[0].access_interfaces",
        "optical nodes have no access interfaces",
    );
}

#[test]
fn fiber_links_carry_their_optical_attributes_with_defaults_for_the_rest() {
    let text = doc(
        NODES,
        "  - name: f1
    a: {node: ot1, interface: line-1}
    b: {node: ot2, interface: line-1}
    layer: fiber
    length_km: 150
    optical:
      fiber_type: NZDSF
      loss_db_per_km: 0.2
      spans_km: [70, 80]
      amp_noise_figure_db: 6
      connector_loss_db: 0.5
      eol_margin_db: 2
      pdl_db: 0.5
  - name: f2
    a: {node: ot1, interface: line-2}
    b: {node: ot2, interface: line-2}
    layer: fiber
    length_km: 200
    optical: {amplifier_spacing_km: 60}
  - name: f3
    a: {node: ot1, interface: line-3}
    b: {node: ot2, interface: line-3}
    layer: fiber
    length_km: 90
",
    );
    let t = parse_str(&text).expect("valid");
    let p = t.link("f1").and_then(|l| l.plant.clone()).expect("plant");
    use crate::pathcomp::optical::{FiberPlant, FiberType};
    assert_eq!(p.fiber_type, FiberType::Nzdsf);
    assert_eq!(p.dispersion_ps_nm_km, 5.0);
    assert_eq!(
        (p.loss_db_per_km, p.spans_km.clone(), p.amp_noise_figure_db),
        (0.2, vec![70.0, 80.0], 6.0)
    );
    assert_eq!(
        (p.connector_loss_db, p.eol_margin_db, p.pdl_db),
        (0.5, 2.0, 0.5)
    );
    // what f1 left out is today's default
    assert_eq!(p.launch_dbm, FiberPlant::defaults(150.0).launch_dbm);
    let p2 = t.link("f2").and_then(|l| l.plant.clone()).expect("plant");
    assert_eq!(p2.spans_km, vec![50.0; 4]);
    assert_eq!(t.link("f3").and_then(|l| l.plant.clone()), None);
}

#[test]
fn bad_optical_attributes_are_named_by_field() {
    let link = |optical: &str| {
        doc(
            NODES,
            &format!(
                "  - name: f1
    a: {{node: ot1, interface: line-1}}
    b: {{node: ot2, interface: line-1}}
    layer: fiber
    length_km: 150
    optical: {optical}
"
            ),
        )
    };
    sole_error(
        &link("{loss_db_per_km: 2.2}"),
        "links[0].optical.loss_db_per_km",
        "must be within 0.1..=0.5 dB/km, got 2.2",
    );
    sole_error(
        &link("{spans_km: [70, 70]}"),
        "links[0].optical.spans_km",
        "spans add up to 140 km, not the link's length_km 150",
    );
    sole_error(
        &link("{spans_km: [150, 0]}"),
        "links[0].optical.spans_km[1]",
        "must be within 0..=200 km",
    );
    sole_error(
        &link("{spans_km: [150], amplifier_spacing_km: 80}"),
        "links[0].optical.amplifier_spacing_km",
        "not both",
    );
    sole_error(
        &link("{fiber_type: OM4}"),
        "links[0].optical.fiber_type",
        "unknown variant",
    );
    sole_error(
        &link("{nf: 5}"),
        "links[0].optical.nf",
        "unknown field \"nf\"",
    );
    let packet = doc(
        NODES,
        "  - name: p1
    a: {node: pe1, interface: et-1}
    b: {node: pe2, interface: et-1}
    layer: packet
    optical: {pdl_db: 1}
",
    );
    sole_error(&packet, "links[0].optical", "only fiber links");
}
