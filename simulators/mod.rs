//! Device simulators: real gNMI servers holding OpenConfig-shaped trees, one
//! loopback port per device, with fault injection. Compiled into the `strata`
//! library as `strata::simulators` so `strata sim` and the lab share them.

pub mod control;
pub mod device;
pub mod fabric;
pub mod killable;
pub mod physics;
pub mod schemas;
pub mod server;
