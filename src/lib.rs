//! Strata: a software-defined network controller for metro DCI fabrics.
//!
//! See `../shared/DESIGN.md` for the rooms and the one-way data flow.

pub mod gnmi;
pub mod model;
pub mod proto;
pub mod topology;
