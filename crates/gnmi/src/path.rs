//! gNMI path handling: the `/a/b[k=v]/c` text form (gNMI path conventions,
//! spec 2.2.2) and prefix joining.

use std::collections::HashMap;
use std::fmt;

use crate::proto::gnmi::{Path, PathElem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse path {:?}: {}", self.path, self.reason)
    }
}

impl std::error::Error for PathError {}

/// Parses `/interfaces/interface[name=Ethernet1]/state` (leading slash
/// optional, `origin:` prefix allowed, `\]` and `\\` escapes in key values).
pub fn parse_path(text: &str) -> Result<Path, PathError> {
    let err = |reason: &str| PathError {
        path: text.to_string(),
        reason: reason.to_string(),
    };
    let mut rest = text.trim();
    let mut origin = String::new();
    // An origin is only recognised before the first '/', and never inside keys.
    if let Some(colon) = rest.find(':') {
        let before = &rest[..colon];
        if !before.contains('/') && !before.contains('[') && !before.is_empty() {
            origin = before.to_string();
            rest = &rest[colon + 1..];
        }
    }
    let mut elems = Vec::new();
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() && chars[i] == '/' {
        i += 1;
    }
    while i < chars.len() {
        let mut name = String::new();
        let mut keys = HashMap::new();
        while i < chars.len() && chars[i] != '/' && chars[i] != '[' {
            name.push(chars[i]);
            i += 1;
        }
        while i < chars.len() && chars[i] == '[' {
            i += 1;
            let mut key = String::new();
            while i < chars.len() && chars[i] != '=' && chars[i] != ']' {
                key.push(chars[i]);
                i += 1;
            }
            if i >= chars.len() || chars[i] != '=' {
                return Err(err("key without '=' in brackets"));
            }
            i += 1;
            let mut value = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(err("unterminated '[' in key")),
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some(c) => value.push(*c),
                            None => return Err(err("dangling escape")),
                        }
                        i += 2;
                    }
                    Some(']') => {
                        i += 1;
                        break;
                    }
                    Some(c) => {
                        value.push(*c);
                        i += 1;
                    }
                }
            }
            let key = key.trim().to_string();
            if key.is_empty() {
                return Err(err("empty key name"));
            }
            if keys.insert(key.clone(), value).is_some() {
                return Err(err(&format!("key {key:?} given twice")));
            }
        }
        if name.is_empty() {
            return Err(err("empty path element"));
        }
        if i < chars.len() && chars[i] != '/' {
            return Err(err("unexpected text after ']'"));
        }
        elems.push(PathElem { name, key: keys });
        while i < chars.len() && chars[i] == '/' {
            i += 1;
        }
    }
    Ok(Path {
        origin,
        elem: elems,
        ..Default::default()
    })
}

/// Formats a path as text; keys are sorted so the output is stable.
pub fn format_path(path: &Path) -> String {
    let mut out = String::new();
    write_path(&mut out, path);
    out
}

/// `format_path`, appended to `out` (hot paths reuse one buffer).
#[allow(deprecated)]
pub fn write_path(out: &mut String, path: &Path) {
    if !path.origin.is_empty() {
        out.push_str(&path.origin);
        out.push(':');
    }
    if path.elem.is_empty() {
        // Deprecated string elements, still sent by some old clients.
        for e in &path.element {
            out.push('/');
            out.push_str(e);
        }
        if path.element.is_empty() {
            out.push('/');
        }
        return;
    }
    write_elems(out, &path.elem);
}

/// The elements of a path as text, appended to `out`. Keys come out sorted,
/// picked one by one as the smallest after the last (lists have a handful of
/// keys at most), so telemetry's hot path formats a multi-key element such as
/// IS-IS `protocol` without allocating.
pub fn write_elems(out: &mut String, elems: &[PathElem]) {
    for elem in elems {
        out.push('/');
        out.push_str(&elem.name);
        let mut last: Option<&str> = None;
        for _ in 0..elem.key.len() {
            let next = elem
                .key
                .iter()
                .filter(|(k, _)| last.is_none_or(|l| k.as_str() > l))
                .min_by(|a, b| a.0.cmp(b.0));
            let Some((k, v)) = next else { break };
            push_key(out, k, v);
            last = Some(k);
        }
    }
}

fn push_key(out: &mut String, k: &str, v: &str) {
    out.push('[');
    out.push_str(k);
    out.push('=');
    for c in v.chars() {
        if c == ']' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(']');
}

/// Prefix + path, as the spec says a target must interpret them (2.4.1).
pub fn join_prefix(prefix: Option<&Path>, path: &Path) -> Path {
    match prefix {
        None => path.clone(),
        Some(prefix) => {
            let mut joined = prefix.clone();
            joined.elem.extend(path.elem.iter().cloned());
            if joined.origin.is_empty() {
                joined.origin = path.origin.clone();
            }
            joined
        }
    }
}

/// Converts a path that uses the deprecated string `element` field (gNMI < 0.4)
/// into `elem` form; other paths are returned unchanged.
#[allow(deprecated)]
pub fn upgrade_legacy(path: &Path) -> Result<Path, PathError> {
    if !path.elem.is_empty() || path.element.is_empty() {
        return Ok(path.clone());
    }
    let mut upgraded = parse_path(&format!("/{}", path.element.join("/")))?;
    upgraded.origin = path.origin.clone();
    upgraded.target = path.target.clone();
    Ok(upgraded)
}

/// Builds a `PathElem`; a helper for code that renders paths.
pub fn elem(name: &str, keys: &[(&str, &str)]) -> PathElem {
    PathElem {
        name: name.to_string(),
        key: keys
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// Drops a `module:` qualifier from a schema node name (RFC 7951 style).
pub fn strip_module(name: &str) -> &str {
    // A byte scan: names are short, and this runs per telemetry path element.
    match name.bytes().rposition(|b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keys_and_escapes() {
        let p = parse_path("/interfaces/interface[name=et-0/0/1]/state/counters").unwrap();
        assert_eq!(p.elem.len(), 4);
        assert_eq!(p.elem[1].key["name"], "et-0/0/1");
        assert_eq!(
            format_path(&p),
            "/interfaces/interface[name=et-0/0/1]/state/counters"
        );
        let p = parse_path(r"/a/b[k=x\]y][j=2]").unwrap();
        assert_eq!(p.elem[1].key["k"], "x]y");
        assert_eq!(format_path(&p), r"/a/b[j=2][k=x\]y]");
    }

    #[test]
    fn multi_key_elements_come_out_sorted_and_origin_and_root_are_kept() {
        for (text, want) in [
            (r"/a[z=1][b=2][m=x\]y]/c", r"/a[b=2][m=x\]y][z=1]/c"),
            (
                "/p[name=default][identifier=ISIS]/x",
                "/p[identifier=ISIS][name=default]/x",
            ),
            (
                "openconfig:/interfaces/interface[name=et-0/0/1]",
                "openconfig:/interfaces/interface[name=et-0/0/1]",
            ),
            ("/", "/"),
        ] {
            let p = parse_path(text).unwrap();
            assert_eq!(format_path(&p), want, "{text}");
            let mut elems = String::new();
            write_elems(&mut elems, &p.elem);
            assert!(want.ends_with(&elems), "{text}: {elems}");
        }
    }

    #[test]
    fn origin_and_root() {
        let p = parse_path("openconfig:/interfaces").unwrap();
        assert_eq!(p.origin, "openconfig");
        assert_eq!(p.elem[0].name, "interfaces");
        let p = parse_path("/").unwrap();
        assert!(p.elem.is_empty());
        // a colon inside a key is not an origin
        let p = parse_path("/a[k=x:y]").unwrap();
        assert_eq!(p.origin, "");
        assert_eq!(p.elem[0].key["k"], "x:y");
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["/a[k]", "/a[k=1", "/a[=1]", "/a[k=1]x", "/a[k=1][k=2]"] {
            assert!(parse_path(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn prefix_join() {
        let prefix = parse_path("/interfaces").unwrap();
        let path = parse_path("interface[name=x]/state").unwrap();
        let joined = join_prefix(Some(&prefix), &path);
        assert_eq!(format_path(&joined), "/interfaces/interface[name=x]/state");
    }
}
