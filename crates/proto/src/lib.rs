//! Generated protobuf and gRPC types.

// Production code answers bad input and failed I/O with errors, never a
// panic (tests may unwrap).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[allow(clippy::all, clippy::pedantic)]
pub mod gnmi_ext {
    tonic::include_proto!("gnmi_ext");
}

#[allow(clippy::all, clippy::pedantic)]
pub mod gnmi {
    tonic::include_proto!("gnmi");
}

/// etcd's v3 API, the subset the store's etcd backend calls (client only).
#[allow(clippy::all, clippy::pedantic)]
pub mod etcd {
    tonic::include_proto!("etcdserverpb");
}

/// The northbound API.
pub mod strata {
    #[allow(clippy::all, clippy::pedantic)]
    pub mod v1 {
        tonic::include_proto!("strata.v1");
    }

    /// The on-disk intent journal.
    pub mod store {
        #[allow(clippy::all, clippy::pedantic)]
        pub mod v1 {
            tonic::include_proto!("strata.store.v1");
        }
    }

    /// Fault injection on the simulated fabric.
    pub mod sim {
        #[allow(clippy::all, clippy::pedantic)]
        pub mod v1 {
            tonic::include_proto!("strata.sim.v1");
        }
    }
}

/// Serialized descriptors of every compiled proto, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("strata_descriptor");
