//! The layer stack: which links carry which. Checks `rides` and pushes what
//! flows upward through it — SRLGs (so a fiber cut takes down everything
//! above it) and, for links that give no length, the length of what they
//! ride.

use std::collections::HashMap;

use super::error::Sink;
use super::links::{article, layer_name, LinkDraft};
use crate::model::Layer;

/// Lower is further down the stack; a link may only ride strictly lower
/// links, which also rules out cycles.
fn rank(layer: Layer) -> u8 {
    match layer {
        Layer::Fiber => 0,
        Layer::Optical => 1,
        Layer::Packet => 2,
    }
}

/// Checks every `rides` entry, then fills in inherited SRLGs and derived
/// lengths.
pub(super) fn resolve(drafts: &mut [LinkDraft], sink: &mut Sink) {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        if let Some(name) = &d.name {
            by_name.entry(name.as_str()).or_insert(i);
        }
    }

    let mut carriers: Vec<Vec<usize>> = vec![Vec::new(); drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        for (k, ride) in d.rides.iter().enumerate() {
            let field = format!("{}.rides[{k}]", d.path);
            let Some(&j) = by_name.get(ride.as_str()) else {
                sink.error(field, format!("unknown link \"{ride}\""));
                continue;
            };
            if j == i {
                sink.error(field, "a link cannot ride itself");
                continue;
            }
            if carriers[i].contains(&j) {
                sink.error(field, format!("\"{ride}\" is listed twice"));
                continue;
            }
            if let (Some(upper), Some(lower)) = (d.layer, drafts[j].layer) {
                if rank(lower) >= rank(upper) {
                    sink.error(field, ride_rule(upper, lower, ride));
                    continue;
                }
            }
            carriers[i].push(j);
        }
    }

    // Bottom-up, so whatever a link rides is final before the link reads it.
    let mut order: Vec<usize> = (0..drafts.len())
        .filter(|&i| drafts[i].layer.is_some())
        .collect();
    order.sort_by_key(|&i| drafts[i].layer.map(rank));
    for i in order {
        let below = &carriers[i];
        if below.is_empty() {
            continue;
        }
        let inherited: Vec<u32> = below
            .iter()
            .flat_map(|&j| drafts[j].srlgs.iter().copied())
            .collect();
        // Summing what is directly ridden: a packet link over an optical
        // channel takes the channel's (possibly derived) length, not the
        // fibers' again.
        let derived_length = below
            .iter()
            .map(|&j| drafts[j].length_km)
            .sum::<Option<f64>>();
        let d = &mut drafts[i];
        d.srlgs.extend(inherited);
        if d.length_km.is_none() {
            d.length_km = derived_length;
        }
    }
}

fn ride_rule(upper: Layer, lower: Layer, ride: &str) -> String {
    let allowed = match upper {
        Layer::Packet => "packet links ride optical or fiber links",
        Layer::Optical => "optical links ride fiber links",
        Layer::Fiber => "fiber links ride nothing",
    };
    format!(
        "{} link cannot ride {} link \"{ride}\" ({allowed})",
        article(layer_name(upper)),
        layer_name(lower)
    )
}
