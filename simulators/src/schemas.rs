//! The OpenConfig-shaped models the simulated devices serve.
//!
//! Packet routers: openconfig-interfaces (+ subinterfaces/VLAN),
//! openconfig-network-instance with segment-routing TE policies and EVPN
//! instances, and `strata-link-performance`, an augmentation carrying the
//! per-link one-way delay and loss a router measures (TWAMP/STAMP style; OpenConfig
//! has no standard leaf for it, so — as vendors do — it is a separate module).
//! Optical terminals: openconfig-platform components with optical-channel,
//! openconfig-terminal-device logical channels and operational modes.

use std::sync::Arc;

use crate::gnmi::schema::*;

/// 400ZR 75 GHz grid: 193.1 THz + n·75 GHz, n ∈ [-24, 40] → 191.3–196.1 THz (MHz units).
pub const GRID_ANCHOR_MHZ: u64 = 193_100_000;
pub const GRID_STEP_MHZ: u64 = 75_000;
pub const GRID_MIN_MHZ: u64 = 191_300_000;
pub const GRID_MAX_MHZ: u64 = 196_100_000;

/// Operational modes a simulated transponder supports: (id, description).
pub const OPERATIONAL_MODES: &[(u16, &str)] = &[
    (1, "400ZR DP-16QAM 59.84 GBd cFEC (OIF 400ZR IA)"),
    (2, "400ZR+ DP-16QAM 60.14 GBd oFEC"),
    (3, "300G DP-8QAM 60.14 GBd oFEC"),
    (4, "200G DP-QPSK 60.14 GBd oFEC"),
];

pub const PACKET_MODELS: &[(&str, &str, &str)] = &[
    ("openconfig-interfaces", "OpenConfig working group", "3.7.1"),
    ("openconfig-vlan", "OpenConfig working group", "3.2.2"),
    (
        "openconfig-network-instance",
        "OpenConfig working group",
        "4.4.1",
    ),
    (
        "openconfig-segment-routing",
        "OpenConfig working group",
        "0.4.1",
    ),
    ("openconfig-evpn", "OpenConfig working group", "0.11.0"),
    ("strata-link-performance", "Strata", "1.0.0"),
];

pub const OPTICAL_MODELS: &[(&str, &str, &str)] = &[
    ("openconfig-platform", "OpenConfig working group", "0.24.0"),
    (
        "openconfig-terminal-device",
        "OpenConfig working group",
        "1.9.0",
    ),
    (
        "openconfig-transport-types",
        "OpenConfig working group",
        "0.24.0",
    ),
];

fn mirrored(
    config: Vec<(&str, SchemaNode)>,
    extra_state: Vec<(&str, SchemaNode)>,
) -> Vec<(&'static str, SchemaNode)> {
    let cfg: Vec<(String, SchemaNode)> = config
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut state: Vec<(&str, SchemaNode)> =
        cfg.iter().map(|(k, v)| (leak(k), v.clone())).collect();
    state.extend(extra_state);
    let cfg: Vec<(&str, SchemaNode)> = cfg.into_iter().map(|(k, v)| (leak(&k), v)).collect();
    vec![("config", container(cfg)), ("state", container(state))]
}

/// Schema names are built once per process; leaking them keeps the builder API
/// on `&str` without lifetimes leaking into every caller.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn with(
    mut base: Vec<(&'static str, SchemaNode)>,
    more: Vec<(&'static str, SchemaNode)>,
) -> Vec<(&'static str, SchemaNode)> {
    base.extend(more);
    base
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

fn interfaces() -> SchemaNode {
    let oper = enumeration(&[
        "UP",
        "DOWN",
        "TESTING",
        "UNKNOWN",
        "DORMANT",
        "NOT_PRESENT",
        "LOWER_LAYER_DOWN",
    ]);
    let subif = list(
        &["index"],
        with(
            vec![("index", leaf(uint(32)))],
            with(
                mirrored(
                    vec![
                        ("index", leaf(uint(32))),
                        ("description", leaf(string())),
                        ("enabled", leaf(boolean())),
                    ],
                    vec![("oper-status", leaf(oper.clone()))],
                ),
                vec![(
                    "vlan",
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
                )],
            ),
        ),
    );
    let perf = container(vec![(
        "state",
        container(vec![
            ("one-way-delay", leaf(uint(32))),
            ("min-delay", leaf(uint(32))),
            ("max-delay", leaf(uint(32))),
            ("delay-variation", leaf(uint(32))),
            ("loss-percent", leaf(decimal(0.0, 100.0))),
            ("measurement-interval", leaf(uint(32))),
        ]),
    )]);
    container(vec![(
        "interface",
        list(
            &["name"],
            with(
                vec![("name", leaf(string()))],
                with(
                    mirrored(
                        vec![
                            ("name", leaf(string())),
                            ("description", leaf(string())),
                            ("enabled", leaf(boolean())),
                            ("mtu", leaf(uint_range(16, 68, 9216))),
                            (
                                "type",
                                leaf(enumeration(&[
                                    "ethernetCsmacd",
                                    "softwareLoopback",
                                    "ieee8023adLag",
                                ])),
                            ),
                        ],
                        vec![
                            ("oper-status", leaf(oper)),
                            (
                                "admin-status",
                                leaf(enumeration(&["UP", "DOWN", "TESTING"])),
                            ),
                            ("counters", counters()),
                            ("speed-gbps", leaf(uint(32))),
                        ],
                    ),
                    vec![
                        ("subinterfaces", container(vec![("subinterface", subif)])),
                        ("link-performance", perf),
                    ],
                ),
            ),
        ),
    )])
}

fn mpls_label() -> LeafType {
    uint_range(32, 16, 1_048_575)
}

fn te_policies() -> SchemaNode {
    let sid = list(
        &["index"],
        with(
            vec![("index", leaf(uint(32)))],
            mirrored(
                vec![("index", leaf(uint(32))), ("value", leaf(mpls_label()))],
                vec![],
            ),
        ),
    );
    let segment_list = list(
        &["id"],
        with(
            vec![("id", leaf(uint(32)))],
            with(
                mirrored(
                    vec![("id", leaf(uint(32))), ("weight", leaf(uint(32)))],
                    vec![],
                ),
                vec![("sids", container(vec![("sid", sid)]))],
            ),
        ),
    );
    let origin = enumeration(&["PCEP", "BGP", "LOCAL"]);
    let cp_keys = [
        "protocol-origin",
        "originator-id",
        "originator-asn",
        "discriminator",
    ];
    let cp_key_leaves = || {
        vec![
            ("protocol-origin", leaf(origin.clone())),
            ("originator-id", leaf(string())),
            ("originator-asn", leaf(uint(32))),
            ("discriminator", leaf(uint(32))),
        ]
    };
    let candidate = list(
        &cp_keys,
        with(
            cp_key_leaves(),
            with(
                mirrored(
                    with(
                        cp_key_leaves(),
                        vec![("name", leaf(string())), ("preference", leaf(uint(32)))],
                    ),
                    vec![("valid", leaf(boolean())), ("active", leaf(boolean()))],
                ),
                vec![(
                    "segment-lists",
                    container(vec![("segment-list", segment_list)]),
                )],
            ),
        ),
    );
    container(vec![(
        "te-policy",
        list(
            &["color", "endpoint"],
            with(
                vec![("color", leaf(uint(32))), ("endpoint", leaf(string()))],
                with(
                    mirrored(
                        vec![
                            ("color", leaf(uint(32))),
                            ("endpoint", leaf(string())),
                            ("name", leaf(string())),
                            ("binding-sid", leaf(mpls_label())),
                            ("owner", leaf(string())),
                        ],
                        vec![("oper-status", leaf(enumeration(&["UP", "DOWN"])))],
                    ),
                    vec![(
                        "candidate-paths",
                        container(vec![("candidate-path", candidate)]),
                    )],
                ),
            ),
        ),
    )])
}

fn evpn_instances() -> SchemaNode {
    let rt = list(
        &["target"],
        with(
            vec![("target", leaf(string()))],
            mirrored(
                vec![
                    ("target", leaf(string())),
                    ("type", leaf(enumeration(&["IMPORT", "EXPORT", "BOTH"]))),
                ],
                vec![],
            ),
        ),
    );
    container(vec![(
        "evpn-instance",
        list(
            &["evi"],
            with(
                vec![("evi", leaf(uint_range(32, 1, 16_777_215)))],
                with(
                    mirrored(
                        vec![
                            ("evi", leaf(uint_range(32, 1, 16_777_215))),
                            ("route-distinguisher", leaf(string())),
                            ("encapsulation-type", leaf(enumeration(&["VXLAN", "MPLS"]))),
                            ("vni", leaf(uint_range(32, 1, 16_777_215))),
                            (
                                "service-type",
                                leaf(enumeration(&["VLAN_BASED", "VLAN_BUNDLE", "VLAN_AWARE"])),
                            ),
                        ],
                        vec![],
                    ),
                    vec![("route-targets", container(vec![("route-target", rt)]))],
                ),
            ),
        ),
    )])
}

fn network_instances() -> SchemaNode {
    let ni_if = list(
        &["id"],
        with(
            vec![("id", leaf(string()))],
            mirrored(
                vec![
                    ("id", leaf(string())),
                    ("interface", leaf(string())),
                    ("subinterface", leaf(uint(32))),
                ],
                vec![],
            ),
        ),
    );
    container(vec![(
        "network-instance",
        list(
            &["name"],
            with(
                vec![("name", leaf(string()))],
                with(
                    mirrored(
                        vec![
                            ("name", leaf(string())),
                            (
                                "type",
                                leaf(enumeration(&[
                                    "DEFAULT_INSTANCE",
                                    "L3VRF",
                                    "L2VSI",
                                    "MAC_VRF",
                                ])),
                            ),
                            ("description", leaf(string())),
                            ("owner", leaf(string())),
                        ],
                        vec![],
                    ),
                    vec![
                        ("interfaces", container(vec![("interface", ni_if)])),
                        (
                            "segment-routing",
                            container(vec![("te-policies", te_policies())]),
                        ),
                        (
                            "evpn",
                            container(vec![("evpn-instances", evpn_instances())]),
                        ),
                    ],
                ),
            ),
        ),
    )])
}

pub fn packet_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        ("openconfig-interfaces", "interfaces", interfaces()),
        (
            "openconfig-network-instance",
            "network-instances",
            network_instances(),
        ),
    ]))
}

fn optical_stats() -> SchemaNode {
    container(
        ["instant", "avg", "min", "max"]
            .iter()
            .map(|n| (*n, leaf(decimal(-1e12, 1e12))))
            .collect(),
    )
}

fn components() -> SchemaNode {
    let och = with(
        mirrored(
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
                        OPERATIONAL_MODES
                            .iter()
                            .map(|m| u64::from(m.0))
                            .max()
                            .unwrap_or(1),
                    )),
                ),
                ("line-port", leaf(string())),
            ],
            vec![
                ("osnr", optical_stats()),
                ("pre-fec-ber", optical_stats()),
                ("q-value", optical_stats()),
                ("chromatic-dispersion", optical_stats()),
                ("input-power", optical_stats()),
                ("output-power", optical_stats()),
            ],
        ),
        vec![],
    );
    container(vec![(
        "component",
        list(
            &["name"],
            with(
                vec![("name", leaf(string()))],
                with(
                    mirrored(
                        vec![("name", leaf(string())), ("description", leaf(string()))],
                        vec![
                            (
                                "type",
                                leaf(enumeration(&["OPTICAL_CHANNEL", "PORT", "TRANSCEIVER"])),
                            ),
                            (
                                "oper-status",
                                leaf(enumeration(&["ACTIVE", "INACTIVE", "DISABLED"])),
                            ),
                        ],
                    ),
                    vec![("optical-channel", container(och))],
                ),
            ),
        ),
    )])
}

fn terminal_device() -> SchemaNode {
    let assignment = list(
        &["index"],
        with(
            vec![("index", leaf(uint(32)))],
            mirrored(
                vec![
                    ("index", leaf(uint(32))),
                    (
                        "assignment-type",
                        leaf(enumeration(&["LOGICAL_CHANNEL", "OPTICAL_CHANNEL"])),
                    ),
                    ("optical-channel", leaf(string())),
                    ("logical-channel", leaf(uint(32))),
                    ("allocation", leaf(decimal(0.0, 1600.0))),
                ],
                vec![],
            ),
        ),
    );
    let channel = list(
        &["index"],
        with(
            vec![("index", leaf(uint(32)))],
            with(
                mirrored(
                    vec![
                        ("index", leaf(uint(32))),
                        ("description", leaf(string())),
                        (
                            "admin-state",
                            leaf(enumeration(&["ENABLED", "DISABLED", "MAINTENANCE"])),
                        ),
                        (
                            "rate-class",
                            leaf(enumeration(&[
                                "TRIB_RATE_100G",
                                "TRIB_RATE_200G",
                                "TRIB_RATE_400G",
                            ])),
                        ),
                        (
                            "logical-channel-type",
                            leaf(enumeration(&["PROT_ETHERNET", "PROT_OTN"])),
                        ),
                        ("owner", leaf(string())),
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
    let mode = list(
        &["mode-id"],
        vec![
            ("mode-id", leaf(uint(16))),
            (
                "state",
                container(vec![
                    ("mode-id", leaf(uint(16))),
                    ("description", leaf(string())),
                    ("vendor-id", leaf(string())),
                ]),
            ),
        ],
    );
    container(vec![
        ("logical-channels", container(vec![("channel", channel)])),
        ("operational-modes", container(vec![("mode", mode)])),
    ])
}

pub fn optical_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        ("openconfig-platform", "components", components()),
        (
            "openconfig-terminal-device",
            "terminal-device",
            terminal_device(),
        ),
    ]))
}
