//! List paging (Google AIP-158): page sizes, opaque page tokens, and keyset
//! windows over name-ordered slices (the controller's maps page with
//! `controller::keyset_page`, under its own lock).
//!
//! A token carries the key of the last object returned, so the next page
//! starts strictly after it: objects created or deleted between pages never
//! make a listing skip or repeat the others, which an offset would. The token
//! also names the RPC and a fingerprint of its filters, so a token replayed
//! against another RPC or other filters is refused instead of silently
//! starting somewhere meaningless, and a CRC catches truncated or edited ones.

use tonic::Status;

use crate::controller::quote;

/// What `page_size: 0` means.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Larger page sizes are clamped to this, keeping a response well under a
/// default 4 MiB gRPC message limit even with large objects.
pub const MAX_PAGE_SIZE: usize = 10_000;
/// Longer tokens are refused before decoding: no key needs this much.
const MAX_TOKEN_CHARS: usize = 8192;
const VERSION: &str = "1";

/// One List call's window: how many objects, after which key.
#[derive(Debug)]
pub struct Page {
    pub size: usize,
    after: Option<String>,
    rpc: &'static str,
    filters: u32,
}

impl Page {
    /// Checks `page_size` and `page_token` for `rpc` listed with `filters`
    /// (every filter field, in a fixed order, so a token only resumes the
    /// listing it came from).
    pub fn new(
        rpc: &'static str,
        filters: &[&str],
        page_size: i32,
        page_token: &str,
    ) -> Result<Page, Status> {
        let size = match usize::try_from(page_size) {
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "page_size: {page_size} is negative (0 = the default of {DEFAULT_PAGE_SIZE})"
                )))
            }
            Ok(0) => DEFAULT_PAGE_SIZE,
            Ok(n) => n.min(MAX_PAGE_SIZE),
        };
        let filters = fingerprint(filters);
        let after = if page_token.is_empty() {
            None
        } else {
            Some(decode(rpc, filters, page_token).ok_or_else(|| {
                Status::invalid_argument(format!(
                    "page_token: {} is not a page token of this {rpc} listing (pass the \
                     next_page_token of the previous page with the same filters, or none to start over)",
                    quote(page_token)
                ))
            })?)
        };
        Ok(Page {
            size,
            after,
            rpc,
            filters,
        })
    }

    /// The key the page starts after; `None` on the first page.
    pub fn after(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// The `next_page_token` of a page whose last object is `last`: empty
    /// when nothing follows.
    pub fn next_token(&self, last: Option<&str>, more: bool) -> String {
        match last {
            Some(key) if more => encode(self.rpc, self.filters, key),
            _ => String::new(),
        }
    }

    /// At most `size` items of `sorted` (ascending by `key`) after the
    /// cursor, and whether more follow: `controller::keyset_page` for slices.
    pub fn of_sorted<'a, T>(&self, sorted: &'a [T], key: impl Fn(&T) -> &str) -> (&'a [T], bool) {
        let start = match self.after() {
            Some(after) => sorted.partition_point(|t| key(t) <= after),
            None => 0,
        };
        let rest = &sorted[start..];
        let n = rest.len().min(self.size);
        (&rest[..n], rest.len() > n)
    }
}

/// Length-prefixed, so ("ab", "") and ("a", "b") differ.
fn fingerprint(filters: &[&str]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for f in filters {
        h.update(&(f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    h.finalize()
}

fn encode(rpc: &str, filters: u32, key: &str) -> String {
    let mut bytes = format!("{VERSION}|{rpc}|{filters:08x}|{key}").into_bytes();
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&crc.to_be_bytes());
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The key in `token`, if it is a well-formed token of `rpc` with `filters`.
fn decode(rpc: &str, filters: u32, token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_CHARS || !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let (payload, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
    if crc32fast::hash(payload).to_be_bytes() != crc {
        return None;
    }
    let text = std::str::from_utf8(payload).ok()?;
    let mut parts = text.splitn(4, '|');
    let (version, token_rpc, token_filters, key) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (version == VERSION
        && token_rpc == rpc
        && token_filters == format!("{filters:08x}")
        && !key.is_empty())
    .then(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::controller::keyset_page;

    fn first(rpc: &'static str, filters: &[&str], size: i32) -> Page {
        Page::new(rpc, filters, size, "").unwrap()
    }

    #[test]
    fn sizes_default_clamp_and_refuse_negative() {
        assert_eq!(first("ListNodes", &[], 0).size, DEFAULT_PAGE_SIZE);
        assert_eq!(first("ListNodes", &[], 7).size, 7);
        assert_eq!(first("ListNodes", &[], i32::MAX).size, MAX_PAGE_SIZE);
        let e = Page::new("ListNodes", &[], -1, "").unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(
            e.message().starts_with("page_size: -1 is negative"),
            "{e:?}"
        );
    }

    #[test]
    fn token_round_trip_resumes_after_the_key() {
        let p = first("ListPolicies", &["pe1", ""], 10);
        assert_eq!(
            p.next_token(Some("pol-9"), false),
            "",
            "last page has no token"
        );
        assert_eq!(p.next_token(None, true), "");
        let token = p.next_token(Some("pol-9|odd"), true);
        let next = Page::new("ListPolicies", &["pe1", ""], 3, &token).unwrap();
        assert_eq!(next.after(), Some("pol-9|odd"));
        assert_eq!(next.size, 3, "page_size may change between pages");
    }

    #[test]
    fn foreign_and_damaged_tokens_are_refused() {
        let token = first("ListPolicies", &["pe1", ""], 10).next_token(Some("pol-9"), true);
        let refused = |rpc: &'static str, filters: &[&str], token: &str| {
            let e = Page::new(rpc, filters, 10, token).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            assert!(e.message().starts_with("page_token: "), "{e:?}");
            assert!(e.message().len() < 300, "quotes a bounded prefix: {e:?}");
        };
        refused("ListServices", &[], &token);
        refused("ListPolicies", &["pe2", ""], &token);
        // The fingerprint is length-prefixed: moving text between filters changes it.
        refused("ListPolicies", &["pe", "1"], &token);
        refused("ListPolicies", &["pe1", ""], &token[..token.len() - 2]);
        let mut edited = token.clone().into_bytes();
        edited[20] = if edited[20] == b'0' { b'1' } else { b'0' };
        refused(
            "ListPolicies",
            &["pe1", ""],
            &String::from_utf8(edited).unwrap(),
        );
        refused("ListPolicies", &["pe1", ""], "not hex at all");
        refused("ListPolicies", &["pe1", ""], "é1");
        refused("ListPolicies", &["pe1", ""], &"ab".repeat(MAX_TOKEN_CHARS));
        // A well-formed token must carry a key.
        refused(
            "ListPolicies",
            &["pe1", ""],
            &encode("ListPolicies", fingerprint(&["pe1", ""]), ""),
        );
    }

    /// Walks every page of `map` (values are their keys; those ending in
    /// `x` are filtered out), calling `between` after each page.
    fn walk(
        map: &mut BTreeMap<String, String>,
        size: i32,
        mut between: impl FnMut(&mut BTreeMap<String, String>),
    ) -> Vec<String> {
        let mut seen = Vec::new();
        let mut token = String::new();
        loop {
            let page = Page::new("ListServices", &[], size, &token).unwrap();
            let (items, more) = keyset_page(map, page.after(), page.size, |v| !v.ends_with('x'));
            assert!(items.len() <= page.size);
            token = page.next_token(items.last().map(|k| k.as_str()), more);
            seen.extend(items.into_iter().cloned());
            if token.is_empty() {
                return seen;
            }
            between(map);
        }
    }

    fn keys(names: impl IntoIterator<Item = String>) -> BTreeMap<String, String> {
        names.into_iter().map(|k| (k.clone(), k)).collect()
    }

    #[test]
    fn keyset_pages_neither_skip_nor_repeat_when_objects_come_and_go() {
        let mut map = keys((0..20).map(|i| format!("k{i:02}")).chain(["k07x".into()]));
        let mut first_gap = true;
        let seen = walk(&mut map, 3, |map| {
            if std::mem::take(&mut first_gap) {
                // Before the cursor (k02): an offset would shift the rest by one.
                map.insert("k01a".into(), "k01a".into());
                map.remove("k00");
                // The cursor itself going away must not lose the place.
                map.remove("k02");
                // After it: this listing sees it in its place.
                map.insert("k15a".into(), "k15a".into());
            }
        });
        let mut expected: Vec<String> = (0..20).map(|i| format!("k{i:02}")).collect();
        expected.insert(16, "k15a".into());
        assert_eq!(seen, expected);
    }

    #[test]
    fn exact_multiple_of_the_page_size_ends_without_an_empty_page() {
        let mut map = keys((0..6).map(|i| format!("k{i}")));
        let mut gaps = 0;
        let seen = walk(&mut map, 3, |_| gaps += 1);
        assert_eq!(seen.len(), 6);
        assert_eq!(
            gaps, 1,
            "two full pages, and the second says it is the last"
        );
    }

    #[test]
    fn sorted_slices_page_by_key() {
        let names = ["a", "b", "c", "d", "e"];
        let p = first("ListNodes", &["0"], 2);
        let (page, more) = p.of_sorted(&names, |n| n);
        assert_eq!((page, more), (&names[..2], true));
        let token = p.next_token(page.last().copied(), more);
        let p = Page::new("ListNodes", &["0"], 2, &token).unwrap();
        assert_eq!(p.of_sorted(&names, |n| n), (&names[2..4], true));
        let token = p.next_token(Some("d"), true);
        let p = Page::new("ListNodes", &["0"], 2, &token).unwrap();
        assert_eq!(p.of_sorted(&names, |n| n), (&names[4..], false));
    }
}
