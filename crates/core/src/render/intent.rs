//! What render renders, dialect-neutral: the intents as one device sees
//! them, the facts discovered on it, and what reconciliation finds there.

use super::Path;

/// One SR-TE policy on its headend.
#[derive(Debug, Clone, PartialEq)]
pub struct SrtePolicy<'a> {
    pub name: &'a str,
    /// Per-headend rule number, allocated by the controller (1..=999).
    pub sequence_id: u32,
    /// The tail's router id.
    pub endpoint: &'a str,
    pub color: u32,
    pub labels: &'a [u32],
    /// Names the path: a new one for every new path (make-before-break).
    pub discriminator: u32,
}

/// The service on one PE.
#[derive(Debug, Clone, PartialEq)]
pub struct EvpnInstance<'a> {
    pub service: &'a str,
    pub evi: u32,
    pub vni: u32,
    pub route_distinguisher: &'a str,
    pub route_target: &'a str,
    /// (interface, VLAN) attachments on this PE.
    pub attachments: &'a [(String, u32)],
}

/// What a transponder says about one line interface (discovered by a Get).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePort {
    /// The interface in the topology (e.g. `line-1`).
    pub interface: String,
    /// Its PORT component (`interface/state/hardware-port`).
    pub port: String,
    /// The PORT's TRANSCEIVER subcomponent.
    pub transceiver: String,
    /// The OPTICAL_CHANNEL component whose line-port is the PORT.
    pub optical_channel: String,
    /// Operational modes the device supports.
    pub modes: Vec<u16>,
}

/// One end of a wavelength.
#[derive(Debug, Clone, PartialEq)]
pub struct WavelengthEnd<'a> {
    pub wavelength: &'a str,
    pub line: &'a LinePort,
    /// Index of the client logical channel; the OTN one is the next.
    pub client_channel: u32,
    pub frequency_mhz: u64,
    pub target_power_dbm: f64,
    pub operational_mode: u16,
}

/// A Strata object found on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub path: Path,
    /// An optical channel this object tuned (a logical channel's), to untune
    /// when it goes.
    pub tuned: Option<String>,
}
