//! What the planners' unit tests build on: the small example fabric and
//! policies placed on it.

use super::{policy, Fabric, Pools};
use crate::intent::{ConstraintsSpec, PolicySpec};

/// `examples/small.yaml`, nothing placed.
pub fn small() -> Fabric {
    let topology = crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
        .expect("the example parses");
    Fabric::new(topology, Pools::default())
}

/// Plans `spec`, holds and reveals it: a placed policy, as a create leaves it.
pub fn placed(f: &mut Fabric, spec: PolicySpec) -> String {
    let planned = policy::plan_create(f, &spec).expect("placed");
    let id = f.new_id("pol");
    f.hold_policy(planned.into_record(id.clone(), spec, None, 1));
    f.reveal([&id]);
    id
}

/// A policy with no bandwidth and a SID depth of 8, placed.
pub fn policy(f: &mut Fabric, name: &str, headend: &str, endpoint: &str, color: u32) -> String {
    let spec = PolicySpec {
        name: name.into(),
        headend: headend.into(),
        endpoint: endpoint.into(),
        color,
        constraints: ConstraintsSpec {
            max_sid_depth: 8,
            ..Default::default()
        },
    };
    placed(f, spec)
}
