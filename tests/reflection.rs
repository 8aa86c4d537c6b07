//! Server reflection on the API port: both protocol versions (grpcurl 1.8 and
//! grpcio-reflection speak v1alpha), advertising exactly the services served
//! there — not gNMI, which is only in the descriptor set.

mod common;

use std::collections::BTreeSet;

use tokio_stream::StreamExt;

macro_rules! list_services {
    ($version:ident, $endpoint:expr) => {{
        use tonic_reflection::pb::$version::{
            server_reflection_client::ServerReflectionClient, server_reflection_request,
            server_reflection_response, ServerReflectionRequest,
        };
        let channel = tonic::transport::Endpoint::from_shared($endpoint.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        let mut client = ServerReflectionClient::new(channel);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        };
        let mut replies = client
            .server_reflection_info(tokio_stream::iter(vec![request]))
            .await
            .expect("reflection answers")
            .into_inner();
        let reply = replies
            .next()
            .await
            .expect("one reply")
            .expect("not an error");
        match reply.message_response {
            Some(server_reflection_response::MessageResponse::ListServicesResponse(list)) => list
                .service
                .into_iter()
                .map(|s| s.name)
                .collect::<BTreeSet<String>>(),
            other => panic!("unexpected reply {other:?}"),
        }
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_v1_and_v1alpha_list_exactly_the_served_services() {
    let lab = common::start_api_lab(&common::small_topology()).await;
    let v1 = list_services!(v1, lab.endpoint);
    let v1alpha = list_services!(v1alpha, lab.endpoint);
    assert_eq!(v1, v1alpha, "both versions advertise the same services");
    for served in [
        "strata.v1.Policies",
        "strata.v1.Services",
        "strata.v1.Wavelengths",
        "strata.v1.Topology",
        "strata.v1.Events",
        "strata.v1.WhatIf",
        "strata.v1.Maintenance",
        "strata.v1.Updates",
        "strata.v1.TopologyChanges",
        "grpc.health.v1.Health",
        // the lab adds fault injection to its API port
        "strata.sim.v1.FaultInjection",
    ] {
        assert!(v1.contains(served), "{served} missing from {v1:?}");
    }
    assert!(
        !v1.contains("gnmi.gNMI"),
        "gNMI is not served on the API port: {v1:?}"
    );
}
