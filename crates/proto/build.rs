//! Compiles the protos in `proto/` with protox (a pure-Rust protobuf compiler),
//! so a fresh machine needs no system `protoc`.

use std::{env, path::PathBuf};

/// The protos live at the workspace root (`proto/`), where clients generating
/// their own stubs (grpcio-tools, grpcurl) find them.
const ROOT: &str = "../../proto";
const PROTOS: &[&str] = &[
    "gnmi/gnmi.proto",
    "gnmi_ext/gnmi_ext.proto",
    "strata/v1/strata.proto",
    "strata/sim/v1/control.proto",
    "strata/store/v1/store.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed={ROOT}");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptors = protox::compile(PROTOS, [ROOT])?;
    // Kept for gRPC server reflection, so grpcurl and friends can discover the API.
    std::fs::write(
        out_dir.join("strata_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    // etcd's API (the store's etcd backend is a client of it) is compiled on
    // its own, outside the descriptor set above: reflection must not
    // advertise services Strata does not serve.
    let etcd = protox::compile(["etcd/v3/rpc.proto"], [ROOT])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_client(true)
        .compile_fds(etcd)?;
    Ok(())
}
