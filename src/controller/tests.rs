//! Controller logic without sockets: a recording programmer stands in for
//! the southbound, so what would be sent to each device is asserted exactly.

use std::sync::Arc;

use super::programmer::Recorder;
use super::Controller;
use crate::gnmi::format_path;
use crate::proto::strata::v1 as api;

fn small() -> crate::model::Topology {
    crate::topology::parse_str(include_str!("../../examples/small.yaml")).expect("valid example")
}

fn policy(name: &str, headend: &str, endpoint: &str, color: u32) -> api::CreatePolicyRequest {
    api::CreatePolicyRequest {
        request_id: format!("req-{name}"),
        spec: Some(api::PolicySpec {
            name: name.into(),
            headend: headend.into(),
            endpoint: endpoint.into(),
            color,
            constraints: None,
        }),
    }
}

#[tokio::test]
async fn a_policy_is_one_replace_on_its_headend_with_the_sid_list() {
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    let p = c
        .create_policy(policy("p", "pe1", "pe2", 100))
        .await
        .unwrap();
    let sets = rec.take();
    assert_eq!(sets.len(), 1);
    let (device, req) = &sets[0];
    assert_eq!(device, "pe1");
    assert_eq!(req.replace.len(), 1);
    assert_eq!(
        format_path(req.replace[0].path.as_ref().unwrap()),
        "/network-instances/network-instance[name=DEFAULT]/segment-routing/te-policies/te-policy[color=100][endpoint=10.255.0.2]"
    );
    let path = p.path.unwrap();
    // pe1-pe2 is the lowest-latency route (60 km vs 90 + 40 km)
    assert_eq!(path.links, vec!["pe1-pe2".to_string()]);
    assert_eq!(path.segments.last().map(|s| s.label), Some(16002));
    // the link → policy index knows who rides pe1-pe2, and only that
    assert_eq!(c.read().policies_using("pe1-pe2"), vec![p.id.clone()]);
    assert!(c.read().policies_using("pe1-pe3").is_empty());
    // a retried create sends nothing new
    let again = c
        .create_policy(policy("p", "pe1", "pe2", 100))
        .await
        .unwrap();
    assert_eq!(again.id, p.id);
    assert!(rec.take().is_empty());
}

#[tokio::test]
async fn a_refused_headend_leaves_no_policy_and_no_reservation() {
    let rec = Recorder::new();
    *rec.refuse.lock().unwrap() = Some("pe1".into());
    let c = Controller::new(small(), rec.clone(), None);
    let mut req = policy("p", "pe1", "pe2", 100);
    if let Some(spec) = req.spec.as_mut() {
        spec.constraints = Some(api::Constraints {
            bandwidth_gbps: 100.0,
            ..Default::default()
        });
    }
    let err = c.create_policy(req).await.unwrap_err();
    assert!(matches!(err, super::ApiError::Device(_)), "{err:?}");
    let inner = c.read();
    assert!(inner.policies.is_empty());
    assert!(inner.graph.edges.iter().all(|e| e.reserved_gbps == 0.0));
}

#[tokio::test]
async fn deleting_a_service_releases_its_identifiers_and_transport() {
    let rec = Recorder::new();
    let c: Arc<Controller> = Controller::new(small(), rec.clone(), None);
    let spec = api::ServiceSpec {
        name: "lan".into(),
        r#type: api::ServiceType::ELan as i32,
        attachments: ["pe1", "pe2", "pe3"]
            .iter()
            .map(|d| api::Attachment {
                device: d.to_string(),
                interface: "ce-0/1/0".into(),
                vlan: 30,
            })
            .collect(),
        bandwidth_gbps: 50.0,
        ..Default::default()
    };
    let svc = c
        .create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(spec),
        })
        .await
        .unwrap();
    assert_eq!(svc.transport_policies.len(), 6, "full mesh of 3 PEs");
    assert_eq!(rec.take().len(), 3, "one atomic Set per PE");
    {
        let inner = c.read();
        assert!(inner.evis.contains(svc.evi) && inner.vnis.contains(svc.vni));
        assert!(inner.graph.edges.iter().any(|e| e.reserved_gbps > 0.0));
    }
    c.delete_service(&svc.id, svc.revision).await.unwrap();
    let inner = c.read();
    assert!(inner.policies.is_empty() && inner.services.is_empty());
    assert!(!inner.evis.contains(svc.evi) && !inner.vnis.contains(svc.vni));
    assert!(inner
        .graph
        .edges
        .iter()
        .all(|e| e.reserved_gbps.abs() < 1e-9));
}
