//! Reading RFC 7951 JSON as devices send it: member names with or without
//! their module prefix, 64-bit numbers and decimals as strings.

use serde_json::Value;

/// A member of a JSON_IETF object, with or without its module prefix.
pub fn field<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.rsplit_once(':').is_some_and(|(_, n)| n == name))
            .map(|(_, v)| v)
    })
}

/// A leaf as text (strings unquoted), so `"7"` and `7` read alike.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `obj.config.<leaf>` as text.
pub fn config_leaf(obj: &Value, leaf: &str) -> Option<String> {
    field(obj, "config").and_then(|c| field(c, leaf)).map(text)
}

/// The entries of list `list` inside `v` (none if absent).
pub fn entries<'a>(v: Option<&'a Value>, list: &str) -> impl Iterator<Item = &'a Value> {
    v.and_then(|v| field(v, list))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// An identity with its module prefix dropped (`openconfig-x:FOO` → `FOO`).
pub fn identity(v: &str) -> &str {
    v.rsplit_once(':').map_or(v, |(_, n)| n)
}
