//! The models the simulated devices serve: a faithful subset of the
//! published OpenConfig modules (openconfig/public v5.9.0). Every node here
//! exists at the same path, in the same module, with the same config/state
//! split, keys and a compatible type in the models; `tests/sim_schema.rs`
//! checks that mechanically against yanglint.
//!
//! Packet routers: openconfig-interfaces (+ subinterfaces, openconfig-vlan),
//! openconfig-network-instance with L2VSI EVPN instances, policy-forwarding
//! SR-TE rules (openconfig-pf-srte), and the IS-IS LSDB (state) carrying the
//! RFC 8570 link delay/loss sub-TLVs the closed loop reads.
//! Optical terminals: openconfig-platform components (PORT, TRANSCEIVER,
//! OPTICAL_CHANNEL), openconfig-terminal-device logical channels and
//! operational modes, and the line interfaces with their hardware port.

use std::sync::{Arc, OnceLock};

use crate::gnmi::schema::*;

/// 400ZR 75 GHz grid: 193.1 THz + n·75 GHz, n ∈ [-24, 40] → 191.3–196.1 THz (MHz units).
pub const GRID_ANCHOR_MHZ: u64 = 193_100_000;
pub const GRID_STEP_MHZ: u64 = 75_000;
pub const GRID_MIN_MHZ: u64 = 191_300_000;
pub const GRID_MAX_MHZ: u64 = 196_100_000;

/// Operational modes a simulated transponder supports: (id, description),
/// one per mode of the controller's table (`strata_core` `MODES`), so what
/// a transponder advertises and what the planner knows are the same modes.
pub fn operational_modes() -> Vec<(u16, String)> {
    strata_core::pathcomp::optical::MODES
        .iter()
        .map(|m| {
            (
                m.id,
                format!(
                    "{} {} Gb/s {:.2} GBd, {}",
                    m.name, m.rate_gbps, m.baud_gbd, m.reach_class
                ),
            )
        })
        .collect()
}

const OC: &str = "OpenConfig working group";

/// Module names.
pub const OC_IF: &str = "openconfig-interfaces";
pub const OC_VLAN: &str = "openconfig-vlan";
pub const OC_NI: &str = "openconfig-network-instance";
pub const OC_NI_TYPES: &str = "openconfig-network-instance-types";
pub const OC_EVPN_TYPES: &str = "openconfig-evpn-types";
pub const OC_PF_SRTE: &str = "openconfig-pf-srte";
pub const OC_POL_TYPES: &str = "openconfig-policy-types";
pub const OC_LSDB_TYPES: &str = "openconfig-isis-lsdb-types";
pub const IANA_IF: &str = "iana-if-type";
pub const OC_PLATFORM: &str = "openconfig-platform";
pub const OC_PLATFORM_TYPES: &str = "openconfig-platform-types";
pub const OC_TRANSCEIVER: &str = "openconfig-platform-transceiver";
pub const OC_PORT: &str = "openconfig-platform-port";
pub const OC_TERMINAL: &str = "openconfig-terminal-device";
pub const OC_TRANSPORT_TYPES: &str = "openconfig-transport-types";
pub const OC_LLDP: &str = "openconfig-lldp";
pub const OC_LLDP_TYPES: &str = "openconfig-lldp-types";

/// Capabilities of a packet router: (module, organization, version). The
/// versions are the `oc-ext:openconfig-version` of v5.9.0 (the revision date
/// for IANA's module); groupings' modules (evpn, policy-forwarding, isis) are
/// listed because their nodes are served, in the network-instance namespace.
pub const PACKET_MODELS: &[(&str, &str, &str)] = &[
    (OC_IF, OC, "3.8.1"),
    (OC_VLAN, OC, "3.2.2"),
    (OC_NI, OC, "4.7.0"),
    (OC_NI_TYPES, OC, "0.9.3"),
    ("openconfig-evpn", OC, "0.11.0"),
    (OC_EVPN_TYPES, OC, "0.2.0"),
    ("openconfig-policy-forwarding", OC, "1.2.0"),
    (OC_PF_SRTE, OC, "1.0.0"),
    ("openconfig-isis", OC, "1.8.0"),
    (OC_LSDB_TYPES, OC, "0.4.2"),
    (OC_POL_TYPES, OC, "3.3.0"),
    (OC_LLDP, OC, "1.1.0"),
    (OC_LLDP_TYPES, OC, "0.2.0"),
    (IANA_IF, "IANA", "2017-01-19"),
];

pub const OPTICAL_MODELS: &[(&str, &str, &str)] = &[
    (OC_PLATFORM, OC, "0.32.0"),
    (OC_PLATFORM_TYPES, OC, "1.12.0"),
    (OC_TRANSCEIVER, OC, "1.0.0"),
    (OC_PORT, OC, "1.0.1"),
    (OC_TERMINAL, OC, "1.12.0"),
    (OC_TRANSPORT_TYPES, OC, "1.4.0"),
    (OC_IF, OC, "3.8.1"),
    (IANA_IF, "IANA", "2017-01-19"),
];

/// `config` and `state` containers: state repeats config (the applied
/// values) plus `extra_state`.
fn mirrored(
    config: Vec<(&'static str, SchemaNode)>,
    extra_state: Vec<(&'static str, SchemaNode)>,
) -> Vec<(&'static str, SchemaNode)> {
    let mut state = config.clone();
    state.extend(extra_state);
    vec![("config", container(config)), ("state", container(state))]
}

fn with(
    mut base: Vec<(&'static str, SchemaNode)>,
    more: Vec<(&'static str, SchemaNode)>,
) -> Vec<(&'static str, SchemaNode)> {
    base.extend(more);
    base
}

/// An OpenConfig list entry: the key leaves at the top (in the models they
/// are leafrefs to `config/<key>`, of the same type), then the rest.
fn entry(
    keys: Vec<(&'static str, LeafType)>,
    rest: Vec<(&'static str, SchemaNode)>,
) -> Vec<(&'static str, SchemaNode)> {
    with(keys.into_iter().map(|(k, t)| (k, leaf(t))).collect(), rest)
}

fn counters() -> SchemaNode {
    container(
        [
            "in-octets",
            "out-octets",
            "in-pkts",
            "out-pkts",
            "in-unicast-pkts",
            "out-unicast-pkts",
            "in-errors",
            "out-errors",
            "in-discards",
            "out-discards",
        ]
        .iter()
        .map(|n| (*n, leaf(uint(64))))
        .collect(),
    )
}

fn oper_status() -> LeafType {
    enumeration(&[
        "UP",
        "DOWN",
        "TESTING",
        "UNKNOWN",
        "DORMANT",
        "NOT_PRESENT",
        "LOWER_LAYER_DOWN",
    ])
}

fn admin_status() -> LeafType {
    enumeration(&["UP", "DOWN", "TESTING"])
}

fn if_type() -> LeafType {
    identityref(
        IANA_IF,
        &[
            "ethernetCsmacd",
            "softwareLoopback",
            "ieee8023adLag",
            "opticalChannel",
        ],
    )
}

fn vlan() -> SchemaNode {
    augment(
        OC_VLAN,
        container(vec![(
            "match",
            container(vec![(
                "single-tagged",
                container(mirrored(
                    vec![("vlan-id", leaf(uint_range(16, 1, 4094)))],
                    vec![],
                )),
            )]),
        )]),
    )
}

/// openconfig-interfaces. `optical` adds the hardware-port reference the
/// controller follows from a line interface to its PORT component.
fn interfaces(optical: bool) -> SchemaNode {
    let subif = list(
        &["index"],
        entry(
            vec![("index", uint(32))],
            with(
                mirrored(
                    vec![
                        ("index", leaf(uint(32))),
                        ("description", leaf(string())),
                        ("enabled", leaf(boolean())),
                    ],
                    vec![
                        ("ifindex", leaf(uint(32))),
                        ("admin-status", leaf(admin_status())),
                        ("oper-status", leaf(oper_status())),
                        ("counters", counters()),
                    ],
                ),
                vec![("vlan", vlan())],
            ),
        ),
    );
    let mut state = vec![
        ("ifindex", leaf(uint(32))),
        ("admin-status", leaf(admin_status())),
        ("oper-status", leaf(oper_status())),
        ("counters", counters()),
    ];
    if optical {
        state.push((
            "hardware-port",
            augment(
                OC_PORT,
                leaf(leafref("/components/component/name", string())),
            ),
        ));
    }
    let mut rest = mirrored(
        vec![
            ("name", leaf(string())),
            ("type", leaf(if_type())),
            ("mtu", leaf(uint_range(16, 68, 9216))),
            ("description", leaf(string())),
            ("enabled", leaf(boolean())),
        ],
        state,
    );
    if !optical {
        rest.push(("subinterfaces", container(vec![("subinterface", subif)])));
    }
    container(vec![(
        "interface",
        list(&["name"], entry(vec![("name", string())], rest)),
    )])
}

fn mpls_label() -> LeafType {
    uint_range(32, 16, 1_048_575)
}

/// policy-forwarding with SR-TE rules (openconfig-pf-srte augments the rule
/// and its action).
fn policy_forwarding() -> SchemaNode {
    let sid = list(
        &["index"],
        entry(
            vec![("index", uint(64))],
            mirrored(
                vec![("index", leaf(uint(64))), ("value", leaf(mpls_label()))],
                vec![],
            ),
        ),
    );
    let segment_list = list(
        &["index"],
        entry(
            vec![("index", uint(64))],
            with(
                mirrored(
                    vec![("index", leaf(uint(64))), ("weight", leaf(uint(32)))],
                    vec![],
                ),
                vec![("sids", container(vec![("sid", sid)]))],
            ),
        ),
    );
    let srte = augment(
        OC_PF_SRTE,
        container(mirrored(
            vec![
                ("mpls-bsid", leaf(mpls_label())),
                ("srte-endpoint", leaf(string())),
                ("srte-color", leaf(uint(32))),
                ("srte-preference", leaf(uint(32))),
            ],
            vec![],
        )),
    );
    let rule = list(
        &["sequence-id"],
        entry(
            vec![("sequence-id", uint(32))],
            with(
                mirrored(
                    vec![
                        ("sequence-id", leaf(uint(32))),
                        ("description", leaf(string())),
                    ],
                    vec![],
                ),
                vec![
                    ("srte", srte),
                    (
                        "action",
                        container(vec![(
                            "segment-lists",
                            augment(OC_PF_SRTE, container(vec![("segment-list", segment_list)])),
                        )]),
                    ),
                ],
            ),
        ),
    );
    let policy_type = enumeration(&["PBR_POLICY", "VRF_SELECTION_POLICY"]);
    let policy = list(
        &["policy-id"],
        entry(
            vec![("policy-id", string())],
            with(
                mirrored(
                    vec![("policy-id", leaf(string())), ("type", leaf(policy_type))],
                    vec![],
                ),
                vec![("rules", container(vec![("rule", rule)]))],
            ),
        ),
    );
    container(vec![("policies", container(vec![("policy", policy)]))])
}

fn evpn() -> SchemaNode {
    let instance = list(
        &["evi"],
        entry(
            vec![("evi", string())],
            with(
                mirrored(
                    vec![
                        ("evi", leaf(string())),
                        (
                            "encapsulation-type",
                            leaf(identityref(OC_NI_TYPES, &["VXLAN", "MPLS"])),
                        ),
                        (
                            "service-type",
                            leaf(identityref(
                                OC_EVPN_TYPES,
                                &["VLAN_BASED", "VLAN_BUNDLE", "VLAN_AWARE"],
                            )),
                        ),
                        ("route-distinguisher", leaf(string())),
                    ],
                    vec![],
                ),
                vec![
                    (
                        "import-export-policy",
                        container(mirrored(
                            vec![
                                ("export-route-target", leaf_list(string())),
                                ("import-route-target", leaf_list(string())),
                            ],
                            vec![],
                        )),
                    ),
                    (
                        "vxlan",
                        container(mirrored(
                            vec![("vni", leaf(uint_range(32, 1, 16_777_215)))],
                            vec![],
                        )),
                    ),
                ],
            ),
        ),
    );
    // EVPN only exists in L2 and L3 VPN instances (the model's `when`).
    when(
        "config/type",
        &[
            "openconfig-network-instance-types:L2VSI",
            "openconfig-network-instance-types:L3VRF",
        ],
        container(vec![(
            "evpn-instances",
            container(vec![("evpn-instance", instance)]),
        )]),
    )
}

/// The IS-IS link-state database (all state): the router's own LSP with its
/// extended IS reachability, one instance per link, RFC 8570 sub-TLVs.
fn isis() -> SchemaNode {
    let sub =
        |leaves: Vec<(&'static str, SchemaNode)>| container(vec![("state", container(leaves))]);
    let subtlv = list(
        &["type"],
        entry(
            vec![("type", lsdb_subtlv_type())],
            vec![
                ("state", container(vec![("type", leaf(lsdb_subtlv_type()))])),
                (
                    "link-id",
                    sub(vec![("local", leaf(uint(32))), ("remote", leaf(uint(32)))]),
                ),
                (
                    "link-delay",
                    sub(vec![("a-bit", leaf(boolean())), ("delay", leaf(uint(32)))]),
                ),
                (
                    "min-max-link-delay",
                    sub(vec![
                        ("a-bit", leaf(boolean())),
                        ("min-delay", leaf(uint(32))),
                        ("max-delay", leaf(uint(32))),
                    ]),
                ),
                ("link-delay-variation", sub(vec![("delay", leaf(uint(32)))])),
                (
                    "link-loss",
                    sub(vec![
                        ("a-bit", leaf(boolean())),
                        // RFC 8570 §4.4: 24 bits, 0xFFFFFE the largest loss.
                        ("link-loss", leaf(uint_range(32, 0, 16_777_214))),
                    ]),
                ),
            ],
        ),
    );
    let instance = list(
        &["id"],
        entry(
            vec![("id", uint(64))],
            vec![
                (
                    "state",
                    container(vec![("id", leaf(uint(64))), ("metric", leaf(uint(32)))]),
                ),
                ("subtlvs", container(vec![("subtlv", subtlv)])),
            ],
        ),
    );
    let neighbor = list(
        &["system-id"],
        entry(
            vec![("system-id", string())],
            vec![
                ("state", container(vec![("system-id", leaf(string()))])),
                ("instances", container(vec![("instance", instance)])),
            ],
        ),
    );
    let tlv_type = || identityref(OC_LSDB_TYPES, &["EXTENDED_IS_REACHABILITY"]);
    let tlv = list(
        &["type"],
        entry(
            vec![("type", tlv_type())],
            vec![
                ("state", container(vec![("type", leaf(tlv_type()))])),
                (
                    "extended-is-reachability",
                    container(vec![("neighbors", container(vec![("neighbor", neighbor)]))]),
                ),
            ],
        ),
    );
    let lsp = list(
        &["lsp-id"],
        entry(
            vec![("lsp-id", string())],
            vec![
                ("state", container(vec![("lsp-id", leaf(string()))])),
                ("tlvs", container(vec![("tlv", tlv)])),
            ],
        ),
    );
    let level = list(
        &["level-number"],
        entry(
            vec![("level-number", uint_range(8, 1, 2))],
            with(
                mirrored(vec![("level-number", leaf(uint_range(8, 1, 2)))], vec![]),
                vec![(
                    "link-state-database",
                    read_only(container(vec![("lsp", lsp)])),
                )],
            ),
        ),
    );
    container(vec![("levels", container(vec![("level", level)]))])
}

fn lsdb_subtlv_type() -> LeafType {
    identityref(
        OC_LSDB_TYPES,
        &[
            "IS_REACHABILITY_LINK_ID",
            "IS_REACHABILITY_LINK_DELAY",
            "IS_REACHABILITY_MIN_MAX_LINK_DELAY",
            "IS_REACHABILITY_LINK_DELAY_VARIATION",
            "IS_REACHABILITY_LINK_LOSS",
        ],
    )
}

fn network_instances() -> SchemaNode {
    let ni_if = list(
        &["id"],
        entry(
            vec![("id", string())],
            mirrored(
                vec![
                    ("id", leaf(string())),
                    (
                        "interface",
                        leaf(leafref("/interfaces/interface/name", string())),
                    ),
                    (
                        "subinterface",
                        leaf(leafref(
                            "/interfaces/interface[name=current()/../interface]/subinterfaces/subinterface/index",
                            uint(32),
                        )),
                    ),
                ],
                vec![],
            ),
        ),
    );
    let protocol_id = || {
        identityref(
            OC_POL_TYPES,
            &["ISIS", "BGP", "STATIC", "DIRECTLY_CONNECTED"],
        )
    };
    let protocol = list(
        &["identifier", "name"],
        entry(
            vec![("identifier", protocol_id()), ("name", string())],
            with(
                mirrored(
                    vec![
                        ("identifier", leaf(protocol_id())),
                        ("name", leaf(string())),
                        ("enabled", leaf(boolean())),
                    ],
                    vec![],
                ),
                vec![("isis", isis())],
            ),
        ),
    );
    let ni_type = identityref(
        OC_NI_TYPES,
        &["DEFAULT_INSTANCE", "L3VRF", "L2VSI", "L2P2P"],
    );
    container(vec![(
        "network-instance",
        list(
            &["name"],
            entry(
                vec![("name", string())],
                with(
                    mirrored(
                        vec![
                            ("name", leaf(string())),
                            ("type", leaf(ni_type)),
                            ("description", leaf(string())),
                            ("router-id", leaf(string())),
                        ],
                        vec![],
                    ),
                    vec![
                        ("interfaces", container(vec![("interface", ni_if)])),
                        ("evpn", evpn()),
                        ("policy-forwarding", policy_forwarding()),
                        ("protocols", container(vec![("protocol", protocol)])),
                    ],
                ),
            ),
        ),
    )])
}

/// openconfig-lldp: the agent's own identity and, per interface, the
/// neighbors heard on it (what the controller's cabling check compares with
/// the topology).
fn lldp() -> SchemaNode {
    let chassis_id_type = || {
        enumeration(&[
            "CHASSIS_COMPONENT",
            "INTERFACE_ALIAS",
            "PORT_COMPONENT",
            "MAC_ADDRESS",
            "NETWORK_ADDRESS",
            "INTERFACE_NAME",
            "LOCAL",
        ])
    };
    let system_info = || {
        vec![
            ("system-name", leaf(string())),
            ("system-description", leaf(string())),
            ("chassis-id", leaf(string())),
            ("chassis-id-type", leaf(chassis_id_type())),
        ]
    };
    let neighbor_state = with(
        system_info(),
        vec![
            ("id", leaf(string())),
            ("age", leaf(uint(64))),
            ("ttl", leaf(uint(16))),
            ("port-id", leaf(string())),
            (
                "port-id-type",
                leaf(enumeration(&[
                    "INTERFACE_ALIAS",
                    "PORT_COMPONENT",
                    "MAC_ADDRESS",
                    "NETWORK_ADDRESS",
                    "INTERFACE_NAME",
                    "AGENT_CIRCUIT_ID",
                    "LOCAL",
                ])),
            ),
            ("port-description", leaf(string())),
        ],
    );
    let neighbor = list(
        &["id"],
        entry(
            vec![("id", string())],
            vec![
                ("config", container(vec![])),
                ("state", container(neighbor_state)),
            ],
        ),
    );
    let interface = list(
        &["name"],
        entry(
            vec![("name", string())],
            with(
                mirrored(
                    vec![
                        (
                            "name",
                            leaf(leafref("/interfaces/interface/name", string())),
                        ),
                        ("enabled", leaf(boolean())),
                    ],
                    vec![],
                ),
                // `config false` as a whole in the model.
                vec![(
                    "neighbors",
                    read_only(container(vec![("neighbor", neighbor)])),
                )],
            ),
        ),
    );
    container(with(
        mirrored(
            with(
                vec![
                    ("enabled", leaf(boolean())),
                    ("hello-timer", leaf(uint(64))),
                    ("ttl", leaf(uint(16))),
                ],
                system_info(),
            ),
            vec![],
        ),
        vec![("interfaces", container(vec![("interface", interface)]))],
    ))
}

/// The packet router schema (built once per process, shared by every device).
pub fn packet_schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                (OC_IF, "interfaces", interfaces(false)),
                (OC_NI, "network-instances", network_instances()),
                (OC_LLDP, "lldp", lldp()),
            ]))
        })
        .clone()
}

fn optical_stats(digits: u8) -> SchemaNode {
    container(
        ["instant", "avg", "min", "max"]
            .iter()
            .map(|n| {
                // decimal64 holds an i64 of 10^-digits units.
                let max = i64::MAX as f64 / 10f64.powi(i32::from(digits));
                (*n, leaf(decimal_digits(-max, max, digits)))
            })
            .collect(),
    )
}

fn optical_channel() -> SchemaNode {
    let stats = |d| optical_stats(d);
    augment(
        OC_TERMINAL,
        container(mirrored(
            vec![
                (
                    "frequency",
                    leaf(LeafType::Uint {
                        bits: 64,
                        min: GRID_MIN_MHZ,
                        max: GRID_MAX_MHZ,
                        grid: Some((GRID_ANCHOR_MHZ, GRID_STEP_MHZ)),
                    }),
                ),
                ("target-output-power", leaf(decimal(-20.0, 3.0))),
                (
                    "operational-mode",
                    leaf(uint_range(
                        16,
                        1,
                        operational_modes()
                            .iter()
                            .map(|m| u64::from(m.0))
                            .max()
                            .unwrap_or(1),
                    )),
                ),
                (
                    "line-port",
                    leaf(leafref("/components/component/name", string())),
                ),
            ],
            vec![
                ("osnr", stats(2)),
                // BER is tiny: the model gives it 18 fraction digits.
                ("pre-fec-ber", stats(18)),
                ("q-value", stats(2)),
                ("chromatic-dispersion", stats(2)),
                ("input-power", stats(2)),
                ("output-power", stats(2)),
            ],
        )),
    )
}

fn transceiver() -> SchemaNode {
    let channel = list(
        &["index"],
        entry(
            vec![("index", uint(16))],
            mirrored(
                vec![
                    ("index", leaf(uint(16))),
                    (
                        "associated-optical-channel",
                        leaf(leafref("/components/component/name", string())),
                    ),
                ],
                vec![],
            ),
        ),
    );
    augment(
        OC_TRANSCEIVER,
        container(with(
            mirrored(vec![("enabled", leaf(boolean()))], vec![]),
            vec![("physical-channels", container(vec![("channel", channel)]))],
        )),
    )
}

fn components() -> SchemaNode {
    let subcomponent = list(
        &["name"],
        entry(
            vec![("name", string())],
            mirrored(
                vec![(
                    "name",
                    leaf(leafref("/components/component/config/name", string())),
                )],
                vec![],
            ),
        ),
    );
    let component_type = LeafType::Identity(
        [
            (OC_PLATFORM_TYPES, "PORT"),
            (OC_PLATFORM_TYPES, "TRANSCEIVER"),
            (OC_TRANSPORT_TYPES, "OPTICAL_CHANNEL"),
        ]
        .iter()
        .map(|(m, n)| Identity {
            module: m.to_string(),
            name: n.to_string(),
        })
        .collect(),
    );
    container(vec![(
        "component",
        list(
            &["name"],
            entry(
                vec![("name", string())],
                with(
                    mirrored(
                        vec![("name", leaf(string()))],
                        vec![
                            ("type", leaf(component_type)),
                            ("description", leaf(string())),
                            ("mfg-name", leaf(string())),
                            ("part-no", leaf(string())),
                            ("serial-no", leaf(string())),
                            (
                                "oper-status",
                                leaf(identityref(
                                    OC_PLATFORM_TYPES,
                                    &["ACTIVE", "INACTIVE", "DISABLED"],
                                )),
                            ),
                        ],
                    ),
                    vec![
                        (
                            "subcomponents",
                            container(vec![("subcomponent", subcomponent)]),
                        ),
                        ("transceiver", transceiver()),
                        ("optical-channel", optical_channel()),
                    ],
                ),
            ),
        ),
    )])
}

fn terminal_device() -> SchemaNode {
    let assignment = list(
        &["index"],
        entry(
            vec![("index", uint(32))],
            mirrored(
                vec![
                    ("index", leaf(uint(32))),
                    ("description", leaf(string())),
                    (
                        "assignment-type",
                        leaf(enumeration(&["LOGICAL_CHANNEL", "OPTICAL_CHANNEL"])),
                    ),
                    (
                        "logical-channel",
                        leaf(leafref(
                            "/terminal-device/logical-channels/channel/index",
                            uint(32),
                        )),
                    ),
                    (
                        "optical-channel",
                        leaf(leafref("/components/component/name", string())),
                    ),
                    ("allocation", leaf(decimal_digits(0.0, 1600.0, 3))),
                ],
                vec![],
            ),
        ),
    );
    let channel = list(
        &["index"],
        entry(
            vec![("index", uint(32))],
            with(
                mirrored(
                    vec![
                        ("index", leaf(uint(32))),
                        ("description", leaf(string())),
                        (
                            "admin-state",
                            leaf(enumeration(&["ENABLED", "DISABLED", "MAINT"])),
                        ),
                        (
                            "rate-class",
                            leaf(identityref(
                                OC_TRANSPORT_TYPES,
                                &["TRIB_RATE_100G", "TRIB_RATE_200G", "TRIB_RATE_400G"],
                            )),
                        ),
                        (
                            "trib-protocol",
                            leaf(identityref(
                                OC_TRANSPORT_TYPES,
                                &["PROT_100GE", "PROT_400GE", "PROT_ODUCN"],
                            )),
                        ),
                        (
                            "logical-channel-type",
                            leaf(identityref(
                                OC_TRANSPORT_TYPES,
                                &["PROT_ETHERNET", "PROT_OTN"],
                            )),
                        ),
                    ],
                    vec![("link-state", leaf(enumeration(&["UP", "DOWN", "TESTING"])))],
                ),
                vec![(
                    "logical-channel-assignments",
                    container(vec![("assignment", assignment)]),
                )],
            ),
        ),
    );
    let mode = read_only(list(
        &["mode-id"],
        entry(
            vec![("mode-id", uint(16))],
            vec![(
                "state",
                container(vec![
                    ("mode-id", leaf(uint(16))),
                    ("description", leaf(string())),
                    ("vendor-id", leaf(string())),
                ]),
            )],
        ),
    ));
    container(vec![
        ("logical-channels", container(vec![("channel", channel)])),
        ("operational-modes", container(vec![("mode", mode)])),
    ])
}

/// The optical terminal schema (built once per process).
pub fn optical_schema() -> Arc<Schema> {
    static SCHEMA: OnceLock<Arc<Schema>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                (OC_PLATFORM, "components", components()),
                (OC_TERMINAL, "terminal-device", terminal_device()),
                (OC_IF, "interfaces", interfaces(true)),
            ]))
        })
        .clone()
}

#[cfg(test)]
mod mode_tests {
    use super::operational_modes;
    use strata_core::pathcomp::optical::{all_mode_ids, mode};

    #[test]
    fn transponders_advertise_every_mode_the_planner_knows_by_its_name() {
        let modes = operational_modes();
        let ids: Vec<u16> = modes.iter().map(|m| m.0).collect();
        assert_eq!(ids, all_mode_ids());
        assert!(ids.contains(&5), "OpenZR+ 100G is advertised");
        for (id, description) in &modes {
            let m = mode(*id).expect("a table mode");
            assert!(
                description.starts_with(&format!("{} ", m.name)),
                "{description}"
            );
        }
    }
}
