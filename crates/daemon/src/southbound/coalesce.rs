//! Group commit toward a device: Sets queued for the same device while one is
//! in flight go out as one Set, when doing so cannot change the outcome.
//!
//! gNMI applies a Set's deletes, then replaces, then updates. Merging two Sets
//! keeps each one's meaning only if they touch disjoint subtrees: no path of
//! one is equal to, above or below a path of the other.

use crate::gnmi::join_prefix;
use crate::proto::gnmi::{Path, SetRequest, SetResponse};

/// Most Sets merged into one (bounds the blast radius of a refusal).
pub const MAX_MERGED: usize = 64;

fn paths(req: &SetRequest) -> Vec<Path> {
    let prefix = req.prefix.as_ref();
    req.delete
        .iter()
        .map(|p| join_prefix(prefix, p))
        .chain(
            req.replace
                .iter()
                .chain(&req.update)
                .map(|u| join_prefix(prefix, &u.path.clone().unwrap_or_default())),
        )
        .collect()
}

fn overlaps(a: &Path, b: &Path) -> bool {
    let n = a.elem.len().min(b.elem.len());
    a.origin == b.origin && a.target == b.target && a.elem[..n] == b.elem[..n]
}

/// Only plain Sets merge: extensions and union_replace keep their own RPC.
pub fn mergeable(req: &SetRequest) -> bool {
    req.extension.is_empty() && req.union_replace.is_empty()
}

/// Absolute paths a batch touches, to test a candidate against.
#[derive(Default)]
pub struct Footprint(Vec<Path>);

impl Footprint {
    /// Adds `req` if it touches nothing already in; says whether it did.
    pub fn admit(&mut self, req: &SetRequest) -> bool {
        let mine = paths(req);
        if mine.iter().any(|p| self.0.iter().any(|q| overlaps(p, q))) {
            return false;
        }
        self.0.extend(mine);
        true
    }
}

/// One Set doing what `reqs` do one after another (they must be disjoint).
pub fn merge(reqs: &[SetRequest]) -> SetRequest {
    let mut out = SetRequest::default();
    for r in reqs {
        let prefix = r.prefix.as_ref();
        out.delete
            .extend(r.delete.iter().map(|p| join_prefix(prefix, p)));
        for (from, to) in [(&r.replace, &mut out.replace), (&r.update, &mut out.update)] {
            to.extend(from.iter().map(|u| {
                let mut u = u.clone();
                u.path = Some(join_prefix(prefix, &u.path.clone().unwrap_or_default()));
                u
            }));
        }
    }
    out
}

/// The part of a merged response that answers `req`.
pub fn split(resp: &SetResponse, req: &SetRequest) -> SetResponse {
    let mine = paths(req);
    SetResponse {
        prefix: None,
        response: resp
            .response
            .iter()
            .filter(|r| r.path.as_ref().is_some_and(|p| mine.contains(p)))
            .cloned()
            .collect(),
        timestamp: resp.timestamp,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gnmi::parse_path;
    use crate::proto::gnmi::Update;

    fn set(replace: &[&str], delete: &[&str]) -> SetRequest {
        SetRequest {
            replace: replace
                .iter()
                .map(|p| Update {
                    path: Some(parse_path(p).unwrap()),
                    ..Default::default()
                })
                .collect(),
            delete: delete.iter().map(|p| parse_path(p).unwrap()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn disjoint_sets_merge_and_overlapping_ones_do_not() {
        let mut fp = Footprint::default();
        assert!(fp.admit(&set(&["/a/b[k=1]"], &[])));
        assert!(fp.admit(&set(&["/a/b[k=2]"], &["/c"])));
        // The same entry, a parent, or a child of what is in: refused.
        assert!(!fp.admit(&set(&[], &["/a/b[k=1]"])));
        assert!(!fp.admit(&set(&["/a"], &[])));
        assert!(!fp.admit(&set(&["/c/d"], &[])));
        assert!(fp.admit(&set(&["/a/b[k=3]/x"], &[])));
    }

    #[test]
    fn a_merged_set_carries_every_operation_with_absolute_paths() {
        let mut a = set(&["x[k=1]"], &["y"]);
        a.prefix = Some(parse_path("/root").unwrap());
        let b = set(&["/z"], &[]);
        let m = merge(&[a.clone(), b.clone()]);
        let text = |p: &Path| crate::gnmi::format_path(p);
        assert_eq!(m.delete.iter().map(text).collect::<Vec<_>>(), ["/root/y"]);
        assert_eq!(
            m.replace
                .iter()
                .map(|u| text(u.path.as_ref().unwrap()))
                .collect::<Vec<_>>(),
            ["/root/x[k=1]", "/z"]
        );
        let resp = SetResponse {
            response: m
                .replace
                .iter()
                .map(|u| crate::proto::gnmi::UpdateResult {
                    path: u.path.clone(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        assert_eq!(split(&resp, &b).response.len(), 1);
        assert_eq!(
            text(split(&resp, &a).response[0].path.as_ref().unwrap()),
            "/root/x[k=1]"
        );
    }
}
