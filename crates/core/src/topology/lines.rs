//! Where things are in the file: a map from field paths (`links[3].a.node`)
//! to the 1-based line where that key or list item starts.
//!
//! serde_yaml_ng's `Value` keeps no positions, and its errors carry a location
//! only for the one error that stops deserialization. Semantic checks run on
//! the decoded values, so they need another way back to the text. Topology
//! files are block-style YAML written by people, so a pre-pass that follows
//! indentation (`key:` lines and `- ` list items) recovers the line of almost
//! every key. It never fails: where it cannot follow the text (flow
//! collections such as `a: {node: x, interface: y}`, multi-line scalars,
//! merged keys), a lookup falls back to the nearest enclosing path it did see,
//! which is still on or next to the right line.

use std::collections::HashMap;

#[derive(Debug, Default)]
pub(super) struct Lines {
    at: HashMap<String, usize>,
}

/// An open block collection: a mapping key whose value may be nested below it,
/// or a list item.
struct Frame {
    /// Column of the key or of the item's `-`.
    col: usize,
    path: String,
    is_item: bool,
    /// Index the next `- ` item directly under this frame gets.
    next_item: usize,
}

impl Lines {
    pub(super) fn scan(text: &str) -> Lines {
        let mut lines = Lines::default();
        // The root frame is never popped; its column only matters for items of
        // a top-level list, which compare against it like any key.
        let mut stack = vec![Frame {
            col: 0,
            path: String::new(),
            is_item: false,
            next_item: 0,
        }];
        // Inside a `|` or `>` block scalar, lines indented deeper than this
        // column are text, not structure.
        let mut block_scalar_above: Option<usize> = None;

        for (number, line) in text.lines().enumerate() {
            let number = number + 1;
            let indent = line.len() - line.trim_start_matches(' ').len();
            let content = line[indent..].trim_end();
            if content.is_empty() {
                continue;
            }
            if let Some(col) = block_scalar_above {
                if indent > col {
                    continue;
                }
                block_scalar_above = None;
            }
            if content.starts_with('#') {
                continue;
            }
            if indent == 0
                && (content.starts_with("---")
                    || content.starts_with("...")
                    || content.starts_with('%'))
            {
                stack.truncate(1);
                continue;
            }
            lines.scan_content(&mut stack, number, indent, content, &mut block_scalar_above);
        }
        lines
    }

    fn scan_content(
        &mut self,
        stack: &mut Vec<Frame>,
        number: usize,
        mut col: usize,
        mut rest: &str,
        block_scalar_above: &mut Option<usize>,
    ) {
        loop {
            rest = skip_properties(rest, &mut col);
            if rest.is_empty() || rest.starts_with('#') {
                return;
            }
            if rest == "-" || rest.starts_with("- ") {
                // A sibling item closes the previous item at the same column;
                // a key at the same column (`nodes:` then `- name:` unindented)
                // stays open as the list's owner.
                while stack.len() > 1 && {
                    let top = &stack[stack.len() - 1];
                    top.col > col || (top.col == col && top.is_item)
                } {
                    stack.pop();
                }
                let dash = col;
                // The loop above never pops the root frame.
                let Some(parent) = stack.last_mut() else {
                    continue;
                };
                let path = format!("{}[{}]", parent.path, parent.next_item);
                parent.next_item += 1;
                self.record(&path, number);
                stack.push(Frame {
                    col,
                    path,
                    is_item: true,
                    next_item: 0,
                });
                let after = &rest[1..];
                let trimmed = after.trim_start();
                col += 1 + after.len() - trimmed.len();
                rest = trimmed;
                if is_block_scalar(rest) {
                    *block_scalar_above = Some(dash);
                    return;
                }
                continue;
            }
            let Some((key, value)) = split_key(rest) else {
                return;
            };
            while stack.len() > 1 && stack[stack.len() - 1].col >= col {
                stack.pop();
            }
            let parent = &stack[stack.len() - 1].path;
            let path = if parent.is_empty() {
                key
            } else {
                format!("{parent}.{key}")
            };
            self.record(&path, number);
            stack.push(Frame {
                col,
                path,
                is_item: false,
                next_item: 0,
            });
            if is_block_scalar(value) {
                *block_scalar_above = Some(col);
            }
            return;
        }
    }

    fn record(&mut self, path: &str, number: usize) {
        self.at.entry(path.to_string()).or_insert(number);
    }

    /// The line of `path`, or of the nearest enclosing path that was seen.
    pub(super) fn line_of(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if path.is_empty() {
                return None;
            }
            if let Some(&line) = self.at.get(path) {
                return Some(line);
            }
            path = match path.rfind(['.', '[']) {
                Some(cut) => &path[..cut],
                None => "",
            };
        }
    }
}

fn is_block_scalar(value: &str) -> bool {
    value.starts_with('|') || value.starts_with('>')
}

/// Skips anchors (`&a`) and tags (`!t`) in front of a node.
fn skip_properties<'t>(mut rest: &'t str, col: &mut usize) -> &'t str {
    while rest.starts_with('&') || rest.starts_with('!') {
        let end = rest.find(' ').unwrap_or(rest.len());
        let after = &rest[end..];
        let trimmed = after.trim_start();
        *col += end + after.len() - trimmed.len();
        rest = trimmed;
    }
    rest
}

/// Splits `key: value` (or `key:`) into the key and the text after the colon;
/// `None` for anything else (plain scalars, flow collections, `? ` keys).
fn split_key(rest: &str) -> Option<(String, &str)> {
    let (key, after) = match rest.chars().next()? {
        '"' | '\'' => {
            let quote = rest.chars().next()?;
            let close = closing_quote(rest, quote)?;
            let key = rest[1..close].replace("''", "'").replace("\\\"", "\"");
            (key, rest[close + 1..].trim_start())
        }
        '{' | '[' | '?' | '|' | '>' | '*' => return None,
        _ => {
            let colon = rest
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| matches!(rest[i + 1..].chars().next(), None | Some(' ' | '\t')))?;
            let key = rest[..colon].trim_end();
            (key.to_string(), &rest[colon..])
        }
    };
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) || key.is_empty() {
        return None;
    }
    Some((key, value.trim_start()))
}

fn closing_quote(text: &str, quote: char) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i] as char;
        if quote == '"' && b == '\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::Lines;

    #[test]
    fn keys_and_items_in_block_style() {
        let text = "\
name: t            # line 1
defaults:
  address_base: 127.0.0.1:1
nodes:
  - name: a        # line 5
    role: packet
    location: {lat: 1, lon: 2}

  # a comment
  - name: b        # line 10
    role: optical
links:
- name: l0         # line 13
  a:
    node: a        # line 15
    interface: x
  rides:
    - f1           # line 18
    - f2
- a: {node: b, interface: y}   # line 20
";
        let lines = Lines::scan(text);
        assert_eq!(lines.line_of("name"), Some(1));
        assert_eq!(lines.line_of("defaults.address_base"), Some(3));
        assert_eq!(lines.line_of("nodes[0]"), Some(5));
        assert_eq!(lines.line_of("nodes[0].name"), Some(5));
        assert_eq!(lines.line_of("nodes[0].role"), Some(6));
        // Inside a flow mapping: falls back to the key holding it.
        assert_eq!(lines.line_of("nodes[0].location.lat"), Some(7));
        assert_eq!(lines.line_of("nodes[1]"), Some(10));
        assert_eq!(lines.line_of("nodes[1].role"), Some(11));
        // Missing keys fall back to their item.
        assert_eq!(lines.line_of("nodes[1].address"), Some(10));
        assert_eq!(lines.line_of("links[0]"), Some(13));
        assert_eq!(lines.line_of("links[0].a.node"), Some(15));
        assert_eq!(lines.line_of("links[0].a.interface"), Some(16));
        assert_eq!(lines.line_of("links[0].rides[1]"), Some(19));
        assert_eq!(lines.line_of("links[1].a.node"), Some(20));
        assert_eq!(lines.line_of("nowhere"), None);
    }

    #[test]
    fn block_scalars_quotes_and_anchors() {
        let text = "\
name: t
notes: |
  text: that looks
  - like structure
\"quoted key\": 1
nodes:
  - &n1 name: a    # line 7
    site: 'it''s: fine'
  - name: b
";
        let lines = Lines::scan(text);
        assert_eq!(lines.line_of("notes"), Some(2));
        assert_eq!(lines.line_of("notes.text"), Some(2));
        assert_eq!(lines.line_of("quoted key"), Some(5));
        assert_eq!(lines.line_of("nodes[0].name"), Some(7));
        assert_eq!(lines.line_of("nodes[0].site"), Some(8));
        assert_eq!(lines.line_of("nodes[1]"), Some(9));
    }
}
