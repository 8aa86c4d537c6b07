//! Generated protobuf and gRPC types.

#[allow(clippy::all, clippy::pedantic)]
pub mod gnmi_ext {
    tonic::include_proto!("gnmi_ext");
}

#[allow(clippy::all, clippy::pedantic)]
pub mod gnmi {
    tonic::include_proto!("gnmi");
}

/// Serialized descriptors of every compiled proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("strata_descriptor");
