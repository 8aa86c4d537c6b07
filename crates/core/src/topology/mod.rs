//! Loads and validates Strata topology files (the format is described in
//! `docs/topology.md`) into a [`Topology`].
//!
//! A file goes through four passes, each in its own module:
//! `lines` finds where each key sits in the text, `file` decodes the YAML
//! into structs mirroring it, `nodes`/`links`/`rides` (driven by `validate`)
//! check it and derive what the file leaves out. Every pass keeps going after
//! a problem, so a rejected file reports all of its errors at once, each with
//! its field path and line.
//!
//! containerlab topology files (`*.clab.yml`) are read too: `clab` decodes
//! them into the same structs, and the same checks follow, reporting in the
//! containerlab file's own paths.

mod clab;
mod error;
mod file;
mod lines;
mod links;
mod nodes;
mod optical;
mod rides;
mod validate;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::{FieldError, TopologyError};

use crate::model::Topology;
use error::Sink;
use lines::Lines;

/// Reads and validates the topology file at `path`, in Strata's format or
/// containerlab's (told apart by content; see `docs/topology.md`); errors
/// name the file.
pub fn load_file(path: &Path) -> Result<Topology, TopologyError> {
    let source_name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_named(&text, source_name, clab::has_clab_name(path)),
        Err(e) => Err(TopologyError {
            source_name,
            errors: vec![FieldError {
                field: String::new(),
                line: None,
                message: format!("cannot read topology file: {e}"),
            }],
        }),
    }
}

/// Validates topology text, in either format; errors name the source
/// `<string>`.
pub fn parse_str(text: &str) -> Result<Topology, TopologyError> {
    parse_named(text, "<string>".to_string(), false)
}

/// `clab_name`: the file is named like a containerlab file, which decides
/// the format only when the content does not.
fn parse_named(
    text: &str,
    source_name: String,
    clab_name: bool,
) -> Result<Topology, TopologyError> {
    let fail = |errors| TopologyError {
        source_name: source_name.clone(),
        errors,
    };
    // Broken YAML leaves nothing to check further: report serde_yaml_ng's one
    // error, at its location.
    let syntax = |e: serde_yaml_ng::Error| {
        fail(vec![FieldError {
            field: String::new(),
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        }])
    };
    let mut doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(syntax)?;
    // `<<: *anchor` merges are plain YAML people use to share defaults
    // between items.
    doc.apply_merge().map_err(syntax)?;

    let lines = Lines::scan(text);
    let mut sink = Sink::new(&lines);
    let decoded = if clab::is_clab(&doc, clab_name) {
        let (decoded, paths) = clab::decode(&doc, &mut sink);
        sink.rename_paths(move |path| paths.rename(path));
        decoded
    } else {
        file::decode(&doc, &mut sink)
    };
    match validate::build(decoded, &mut sink) {
        Some(topology) if !sink.has_errors() => Ok(topology),
        _ => Err(fail(sink.into_errors())),
    }
}

/// What a file leaves out of a link and the loader derives (also used for
/// links added through the API, `plan::topology::complete_link`).
pub(crate) use links::DEFAULT_IGP_METRIC;
pub(crate) use validate::MICROS_PER_KM;
