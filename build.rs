//! Compiles the protos in `proto/` with protox (a pure-Rust protobuf compiler),
//! so a fresh machine needs no system `protoc`.

use std::{env, path::PathBuf};

const PROTOS: &[&str] = &[
    "proto/gnmi/gnmi.proto",
    "proto/gnmi_ext/gnmi_ext.proto",
    "proto/strata/v1/strata.proto",
    "proto/strata/sim/v1/control.proto",
    "proto/strata/store/v1/store.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    // Kept for gRPC server reflection, so grpcurl and friends can discover the API.
    std::fs::write(
        out_dir.join("strata_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
