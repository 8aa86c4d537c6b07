//! Render's device edits as gNMI SetRequests. A path that cannot be expressed,
//! and any root path, is an error: an empty path in a delete would wipe the
//! device, so it is never sent.

use crate::proto::gnmi::{typed_value, Path, PathElem, SetRequest, TypedValue, Update};
use crate::render::{self, ConfigItem, DeviceEdit};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("refusing to address the device root ({0})")]
    Root(&'static str),
    #[error("path {path} has an element or key without a name")]
    Unnamed { path: String },
}

/// The gNMI form of a render path (not the root).
pub fn gnmi_path(p: &render::Path, op: &'static str) -> Result<Path, RequestError> {
    if p.is_root() {
        return Err(RequestError::Root(op));
    }
    let unnamed = || RequestError::Unnamed {
        path: p.to_string(),
    };
    let elem = p
        .elems
        .iter()
        .map(|e| {
            if e.name.is_empty() || e.keys.iter().any(|(k, _)| k.is_empty()) {
                return Err(unnamed());
            }
            Ok(PathElem {
                name: e.name.clone(),
                key: e.keys.iter().cloned().collect(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Path {
        elem,
        ..Default::default()
    })
}

fn update(item: &ConfigItem, op: &'static str) -> Result<Update, RequestError> {
    Ok(Update {
        path: Some(gnmi_path(&item.path, op)?),
        val: Some(TypedValue {
            value: Some(typed_value::Value::JsonIetfVal(
                // A Value always serialises; the fallback is never taken.
                serde_json::to_vec(&item.value).unwrap_or_default(),
            )),
        }),
        ..Default::default()
    })
}

/// One atomic Set doing `edit`.
pub fn set_request(edit: &DeviceEdit) -> Result<SetRequest, RequestError> {
    Ok(SetRequest {
        delete: edit
            .delete
            .iter()
            .map(|p| gnmi_path(p, "delete"))
            .collect::<Result<_, _>>()?,
        replace: edit
            .replace
            .iter()
            .map(|i| update(i, "replace"))
            .collect::<Result<_, _>>()?,
        update: edit
            .update
            .iter()
            .map(|i| update(i, "update"))
            .collect::<Result<_, _>>()?,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnmi::{format_path, parse_path};
    use serde_json::json;

    #[test]
    fn odd_keys_survive_the_round_trip_and_a_root_delete_is_refused() {
        let odd = render::Path::root()
            .child("interfaces")
            .entry("interface", &[("name", r"x]y\")]);
        let req = set_request(&DeviceEdit {
            delete: vec![odd.clone()],
            ..Default::default()
        })
        .unwrap();
        let text = format_path(&req.delete[0]);
        assert_eq!(text, odd.to_string());
        assert_eq!(parse_path(&text).unwrap(), req.delete[0]);
        assert_eq!(req.delete[0].elem[1].key["name"], r"x]y\");
        let root = DeviceEdit {
            delete: vec![render::Path::root()],
            ..Default::default()
        };
        assert_eq!(set_request(&root), Err(RequestError::Root("delete")));
        let root_replace = DeviceEdit {
            replace: vec![ConfigItem {
                path: render::Path::root(),
                value: json!({}),
            }],
            ..Default::default()
        };
        assert!(set_request(&root_replace).is_err());
    }
}
