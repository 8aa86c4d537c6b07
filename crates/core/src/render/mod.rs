//! Intent → device configuration: the gNMI paths and JSON_IETF values that put
//! an SR-TE policy, an EVPN instance or a 400ZR wavelength on a device and
//! take it off again, and how to recognise on a device what Strata put there.
//!
//! Pure: no protobuf, no I/O. The controller decides when to send an edit and
//! the southbound turns it into a gNMI SetRequest. Everything is organised by
//! dialect so that a vendor-native one, chosen from a device's Capabilities,
//! can sit beside OpenConfig (today the only one).

pub mod intent;
pub mod json;
pub mod openconfig;
mod path;

use serde_json::Value;

pub use intent::{EvpnInstance, LinePort, Owned, SrtePolicy, WavelengthEnd};
pub use path::{Elem, Path};

use crate::model::Role;

/// Prefix of the `description` of every object Strata renders: how
/// reconciliation tells Strata's configuration from anyone else's.
pub const TAG: &str = "[strata] ";

/// The description Strata gives an object rendered for `intent`.
pub fn tagged(intent: &str) -> String {
    format!("{TAG}{intent}")
}

/// True if a description marks the object as Strata's.
pub fn is_tagged(description: &str) -> bool {
    description.starts_with(TAG)
}

/// One piece of device configuration: where it lives and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigItem {
    pub path: Path,
    pub value: Value,
}

/// What to do to one device in one atomic Set. gNMI applies deletes, then
/// replaces, then updates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceEdit {
    /// Subtrees Strata owns outright: replaced wholesale so stale leaves go.
    pub replace: Vec<ConfigItem>,
    /// Leaves merged into objects Strata shares with the device (a component's
    /// tuning, the container holding Strata's rules).
    pub update: Vec<ConfigItem>,
    pub delete: Vec<Path>,
}

impl DeviceEdit {
    pub fn is_empty(&self) -> bool {
        self.replace.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }

    /// Adds another edit for the same device. Identical items (the policy
    /// container every rule's edit merges) are sent once.
    pub fn extend(&mut self, other: DeviceEdit) {
        for item in other.replace {
            if !self.replace.contains(&item) {
                self.replace.push(item);
            }
        }
        for item in other.update {
            if !self.update.contains(&item) {
                self.update.push(item);
            }
        }
        for path in other.delete {
            if !self.delete.contains(&path) {
                self.delete.push(path);
            }
        }
    }

    /// Every item to write, replaces first.
    pub fn items(&self) -> impl Iterator<Item = &ConfigItem> {
        self.replace.iter().chain(&self.update)
    }
}

/// Capability each intent kind needs a device to announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    SrtePolicy,
    Evpn,
    Wavelength,
}

/// How a device is spoken to. Chosen per device from its Capabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    #[default]
    OpenConfig,
}

impl Dialect {
    /// The dialect for a device announcing `models` (OpenConfig for all, for now).
    pub fn for_models(_models: &[String]) -> Dialect {
        Dialect::OpenConfig
    }

    /// The models a device must announce before Strata programs `need` on it.
    pub fn required_models(self, need: Need) -> &'static [&'static str] {
        match self {
            Dialect::OpenConfig => openconfig::required_models(need),
        }
    }

    /// The first model of `need` missing from `models`, if any.
    pub fn missing_model(self, need: Need, models: &[String]) -> Option<&'static str> {
        self.required_models(need)
            .iter()
            .copied()
            .find(|m| !models.iter().any(|have| have == m))
    }

    /// The config subtrees Strata writes into on a device of `role`; one Get
    /// of them is what reconciliation compares against.
    pub fn containers(self, role: Role) -> Vec<Path> {
        match self {
            Dialect::OpenConfig => openconfig::containers(role),
        }
    }

    /// The list one of `containers` holds, and its key.
    pub fn container_list(self, base: &Path) -> Option<(&'static str, &'static str)> {
        match self {
            Dialect::OpenConfig => openconfig::container_list(base),
        }
    }

    /// Puts an SR-TE policy on its headend (or back as it should be).
    pub fn policy(self, p: &SrtePolicy<'_>) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => openconfig::srte::program(p),
        }
    }

    /// Moves a policy to a new path in one Set (make-before-break).
    pub fn reroute(self, p: &SrtePolicy<'_>) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => openconfig::srte::reroute(p),
        }
    }

    pub fn policy_removal(self, sequence_id: u32) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => openconfig::srte::remove(sequence_id),
        }
    }

    /// A service's instance and attachment circuits on one PE.
    pub fn evpn(self, e: &EvpnInstance<'_>) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => openconfig::evpn::program(e),
        }
    }

    pub fn evpn_removal(self, evi: u32, attachments: &[(String, u32)]) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => openconfig::evpn::remove(evi, attachments),
        }
    }

    /// One end of a wavelength: tuning and logical channels.
    pub fn wavelength(self, w: &WavelengthEnd<'_>) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => openconfig::optical::program(w),
        }
    }

    pub fn wavelength_removal(self, line: &LinePort, client_channel: u32) -> DeviceEdit {
        match self {
            Dialect::OpenConfig => {
                openconfig::optical::remove(&line.optical_channel, client_channel)
            }
        }
    }

    /// Strata's objects among `observed` (container → its config).
    pub fn owned(self, observed: &[(Path, serde_json::Value)]) -> Vec<Owned> {
        match self {
            Dialect::OpenConfig => openconfig::owned::owned(observed),
        }
    }

    /// What to delete to untune the optical channel `component`.
    pub fn untune(self, component: &str) -> Vec<Path> {
        match self {
            Dialect::OpenConfig => openconfig::optical::untune(component),
        }
    }

    /// The subtree of component `name`, to tell what a wanted item touches.
    pub fn component(self, name: &str) -> Path {
        match self {
            Dialect::OpenConfig => openconfig::component(name),
        }
    }
}
