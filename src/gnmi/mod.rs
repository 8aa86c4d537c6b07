//! gNMI helpers shared by the southbound client and the device simulators:
//! path text ↔ `Path` messages, schema-aware OpenConfig data trees, and
//! TypedValue encoding.

pub mod path;
pub mod schema;
pub mod tree;
pub mod value;

pub use path::{format_path, join_prefix, parse_path, write_path, PathError};
