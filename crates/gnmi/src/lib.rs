//! gNMI helpers shared by the southbound client and the device simulators:
//! path text ↔ `Path` messages, schema-aware OpenConfig data trees, and
//! TypedValue encoding.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// Modules address each other as `crate::gnmi::…` and `crate::proto::…`, as
// they did inside the single crate; these aliases keep those paths.
extern crate self as gnmi;
pub use strata_proto as proto;

pub mod net;
pub mod path;
pub mod schema;
pub mod tree;
pub mod value;

pub use path::{format_path, join_prefix, parse_path, write_elems, write_path, PathError};
