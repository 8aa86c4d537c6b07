//! Structured gNMI paths. Render builds paths element by element, so a key
//! holding `]` or `\` (a foreign object's odd name) can never turn into a
//! path that fails to parse or, worse, an empty one that addresses the root.

use std::fmt;

/// One path element: a schema node name and, for a list entry, its keys in
/// the order the model declares them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Elem {
    pub name: String,
    pub keys: Vec<(String, String)>,
}

/// A path from the device root. Element names are unqualified (gNMI path
/// conventions); module qualification is a matter for the JSON values.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Path {
    pub elems: Vec<Elem>,
}

impl Path {
    pub fn root() -> Self {
        Path::default()
    }

    /// Appends a container or leaf element.
    pub fn child(mut self, name: &str) -> Self {
        self.elems.push(Elem {
            name: name.to_string(),
            keys: Vec::new(),
        });
        self
    }

    /// Appends a list entry element.
    pub fn entry(mut self, name: &str, keys: &[(&str, &str)]) -> Self {
        self.elems.push(Elem {
            name: name.to_string(),
            keys: keys
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
        self
    }

    pub fn is_root(&self) -> bool {
        self.elems.is_empty()
    }

    /// True if `self` is `other` or below it.
    pub fn starts_with(&self, other: &Path) -> bool {
        self.elems.starts_with(&other.elems)
    }
}

/// Escapes a key value per the gNMI path conventions: `\` and `]` only.
fn escape(out: &mut fmt::Formatter<'_>, v: &str) -> fmt::Result {
    for c in v.chars() {
        if c == ']' || c == '\\' {
            out.write_str("\\")?;
        }
        write!(out, "{c}")?;
    }
    Ok(())
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.elems.is_empty() {
            return f.write_str("/");
        }
        for e in &self.elems {
            write!(f, "/{}", e.name)?;
            // Sorted, as gNMI's text form compares keys without order.
            let mut keys: Vec<&(String, String)> = e.keys.iter().collect();
            keys.sort();
            for (k, v) in keys {
                write!(f, "[{k}=")?;
                escape(f, v)?;
                f.write_str("]")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_escaped_when_formatted() {
        let p = Path::root()
            .child("interfaces")
            .entry("interface", &[("name", r"x]y\z")]);
        assert_eq!(p.to_string(), r"/interfaces/interface[name=x\]y\\z]");
        assert_eq!(p.elems[1].keys[0].1, r"x]y\z");
        assert_eq!(Path::root().to_string(), "/");
        assert!(p.starts_with(&Path::root().child("interfaces")));
    }
}
