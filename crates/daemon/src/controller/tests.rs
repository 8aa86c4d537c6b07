//! Controller logic without sockets: a recording programmer stands in for
//! the southbound, so what would be sent to each device is asserted exactly.

use crate::northbound::ControllerApi;
use std::sync::Arc;

use super::programmer::Recorder;
use super::Controller;
use crate::gnmi::format_path;
use crate::proto::strata::v1 as api;

/// Every edge's reserved bandwidth, in edge order.
pub(super) fn reservations(c: &Controller) -> Vec<f64> {
    c.read()
        .graph
        .edges
        .iter()
        .map(|e| e.reserved_gbps)
        .collect()
}

/// Waits (up to 10 s) until nothing holds the controller any more: work it
/// handed to a background thread (a repair refresh after a reroute) holds it,
/// and with it the journal's lock, for a moment after the last handle drops.
pub(super) async fn released(c: std::sync::Weak<Controller>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while c.strong_count() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the controller is still held 10 s after its last handle dropped"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A controller on the journal in `dir` (the small fabric), restored from it.
pub(super) fn reopen(dir: &std::path::Path, rec: Arc<Recorder>) -> Arc<Controller> {
    let (store, replayed) = crate::store::Store::open(dir).unwrap();
    let c = Controller::with_store(small(), rec, None, Some(Arc::new(store)));
    c.restore(&replayed).unwrap();
    c
}

pub(super) fn small() -> crate::model::Topology {
    crate::topology::parse_str(include_str!("../../../../examples/small.yaml"))
        .expect("valid example")
}

pub(super) fn policy(
    name: &str,
    headend: &str,
    endpoint: &str,
    color: u32,
) -> api::CreatePolicyRequest {
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
        "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]/rules/rule[sequence-id=1]"
    );
    // The policy holding Strata's rules is merged, so other rules survive.
    assert_eq!(req.update.len(), 1);
    assert_eq!(
        format_path(req.update[0].path.as_ref().unwrap()),
        "/network-instances/network-instance[name=DEFAULT]/policy-forwarding/policies/policy[policy-id=strata-srte]"
    );
    assert!(req.delete.is_empty());
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

pub(super) fn lan(name: &str, vlan: u32) -> api::CreateServiceRequest {
    api::CreateServiceRequest {
        request_id: format!("req-{name}"),
        spec: Some(api::ServiceSpec {
            name: name.into(),
            r#type: api::ServiceType::ELan as i32,
            attachments: ["pe1", "pe2", "pe3"]
                .iter()
                .map(|d| api::Attachment {
                    device: d.to_string(),
                    interface: "ce-0/1/0".into(),
                    vlan,
                })
                .collect(),
            bandwidth_gbps: 10.0,
            color: vlan,
            ..Default::default()
        }),
    }
}

/// A wavelength between the two optical terminals of the small fabric.
pub(super) fn ot1_ot2(name: &str, request_id: &str) -> api::CreateWavelengthRequest {
    api::CreateWavelengthRequest {
        request_id: request_id.into(),
        spec: Some(api::WavelengthSpec {
            name: name.into(),
            a: "ot1".into(),
            b: "ot2".into(),
            ..Default::default()
        }),
    }
}

pub(super) fn everything(
    c: &Controller,
) -> (Vec<api::Policy>, Vec<api::Service>, Vec<api::Wavelength>) {
    (
        c.list_policies("", ""),
        c.list_services(),
        c.list_wavelengths(),
    )
}

/// Shared transport survives a restart: the policy still names every
/// service on it and reserves their sum, and the last delete after the
/// restart still takes it away.
#[tokio::test]
async fn a_shared_transport_is_rebuilt_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let shared = |name: &str, vlan: u32| {
        let mut r = lan(name, vlan);
        if let Some(s) = r.spec.as_mut() {
            s.color = 100;
        }
        r
    };
    let (before, reserved_before, ids) = {
        let (store, replayed) = crate::store::Store::open(dir.path()).unwrap();
        assert!(replayed.entries.is_empty());
        let c = Controller::with_store(small(), rec.clone(), None, Some(Arc::new(store)));
        let a = c.create_service(shared("a", 30)).await.unwrap();
        let b = c.create_service(shared("b", 31)).await.unwrap();
        assert_eq!(a.transport_policies.len(), 6);
        let sorted = |v: &[String]| {
            let mut v = v.to_vec();
            v.sort();
            v
        };
        assert_eq!(sorted(&a.transport_policies), sorted(&b.transport_policies));
        let reserved = reservations(&c);
        (everything(&c), reserved, [a.id, b.id])
    };
    assert_eq!(before.0.len(), 6);
    for p in &before.0 {
        let riders: Vec<&str> = p.shares.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(riders, [ids[0].as_str(), ids[1].as_str()]);
        assert_eq!(
            p.spec
                .as_ref()
                .unwrap()
                .constraints
                .as_ref()
                .unwrap()
                .bandwidth_gbps,
            20.0
        );
    }
    let c = reopen(dir.path(), rec.clone());
    assert_eq!(everything(&c), before);
    let reserved = reservations(&c);
    assert_eq!(reserved, reserved_before);
    rec.take();
    c.delete_service(&ids[0], 0).await.unwrap();
    let sets = rec.take();
    assert!(!sets.is_empty(), "the EVPN instances go");
    assert!(
        !format!("{sets:?}").contains("strata-srte"),
        "a transport still in use is not touched: {sets:?}"
    );
    assert_eq!(c.list_policies("", "").len(), 6);
    c.delete_service(&ids[1], 0).await.unwrap();
    assert!(c.list_policies("", "").is_empty());
    assert!(c
        .read()
        .graph
        .edges
        .iter()
        .all(|e| e.reserved_gbps.abs() < 1e-9));
}

/// A bandwidth change (in place, and by moving) is journaled: a restart
/// rebuilds the same records and reservations.
#[tokio::test]
async fn a_bandwidth_change_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (before, reserved_before) = {
        let (store, _) = crate::store::Store::open(dir.path()).unwrap();
        let c = Controller::with_store(small(), rec.clone(), None, Some(Arc::new(store)));
        let s = c.create_service(lan("s", 30)).await.unwrap();
        let s = c
            .update_service_bandwidth(&s.id, s.revision, 150.0)
            .await
            .unwrap();
        assert_eq!(s.spec.bandwidth_gbps, 150.0);
        let stale = c
            .update_service_bandwidth(&s.id, s.revision - 1, 10.0)
            .await;
        assert!(
            matches!(
                stale,
                Err(crate::controller::ApiError::Plan(
                    crate::plan::error::PlanError::Aborted(_)
                ))
            ),
            "{stale:?}"
        );
        let reserved = reservations(&c);
        (everything(&c), reserved)
    };
    assert!(before.0.iter().all(|p| p
        .spec
        .as_ref()
        .unwrap()
        .constraints
        .as_ref()
        .unwrap()
        .bandwidth_gbps
        == 150.0));
    let c = reopen(dir.path(), rec);
    assert_eq!(everything(&c), before);
    let reserved = reservations(&c);
    assert_eq!(reserved, reserved_before);
}

/// The journal holds enough to rebuild the controller exactly: objects,
/// paths after a reroute, pools, spectrum, reservations, retry memory, and the
/// id and revision counters.
#[tokio::test]
async fn a_restart_from_the_journal_rebuilds_the_same_controller() {
    use super::reroute::LinkCondition;
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let (before, reserved_before, last_revision, held) = {
        let (store, replayed) = crate::store::Store::open(dir.path()).unwrap();
        assert!(replayed.entries.is_empty());
        let c = Controller::with_store(small(), rec.clone(), None, Some(Arc::new(store)));
        c.create_policy(policy("p", "pe1", "pe2", 200))
            .await
            .unwrap();
        let gone = c
            .create_policy(policy("q", "pe2", "pe3", 200))
            .await
            .unwrap();
        let keep = c.create_service(lan("keep", 30)).await.unwrap();
        let drop = c.create_service(lan("drop", 31)).await.unwrap();
        c.create_wavelength(ot1_ot2("wl", "req-wl")).await.unwrap();
        c.delete_policy(&gone.id, 0).await.unwrap();
        c.delete_service(&drop.id, 0).await.unwrap();
        // A reroute changes a path; the journal keeps the new one.
        let report = c
            .link_condition("pe1-pe2", LinkCondition::Down, "test")
            .await;
        assert!(!report.rerouted.is_empty(), "{report:?}");
        let reserved = reservations(&c);
        assert!(keep.evi > 0);
        let held = Arc::downgrade(&c);
        (everything(&c), reserved, c.events().revision(), held)
    };
    released(held).await;

    let c = reopen(dir.path(), rec.clone());
    assert_eq!(everything(&c), before);
    assert_eq!(before.0.len(), 7, "p plus the 6 transports of keep");
    let reserved = reservations(&c);
    assert_eq!(reserved, reserved_before);
    assert!(c.events().revision() >= last_revision);
    rec.take();

    // A retried create returns the same object and sends nothing.
    let again = c.create_service(lan("keep", 30)).await.unwrap();
    assert_eq!(again, before.1[0]);
    assert!(rec.take().is_empty());
    // New objects get fresh ids, identifiers and revisions.
    let fresh = c.create_service(lan("fresh", 32)).await.unwrap();
    let keep = &before.1[0];
    assert_ne!(fresh.evi, keep.evi);
    assert_ne!(fresh.vni, keep.vni);
    assert!(fresh.revision > last_revision);
    let all_ids: Vec<String> = c.list_policies("", "").into_iter().map(|p| p.id).collect();
    let unique: std::collections::BTreeSet<&String> = all_ids.iter().collect();
    assert_eq!(unique.len(), all_ids.len());
    assert!(!before
        .0
        .iter()
        .any(|p| fresh.transport_policies.contains(&p.id)));
    // The wavelength's channel and transponder ports stay taken.
    let wl = &before.2[0];
    assert!(!c
        .read()
        .spectrum
        .is_free(&wl.fibers[0], wl.channel as usize));
    let err = c.create_wavelength(ot1_ot2("wl2", "")).await.unwrap_err();
    assert!(
        matches!(
            err,
            super::ApiError::Plan(crate::plan::error::PlanError::Precondition(_))
        ),
        "{err}"
    );
    assert_eq!(c.read().ports.len(), 2, "both transponder ports are held");
}

/// Holds every Set until released, so a test can look at a create half-way.
struct Gate {
    inner: Arc<Recorder>,
    open: tokio::sync::Semaphore,
}

#[tonic::async_trait]
impl super::programmer::Programmer for Gate {
    async fn set(
        &self,
        device: &str,
        req: crate::proto::gnmi::SetRequest,
    ) -> Result<(), crate::southbound::SouthboundError> {
        let permit = self.open.acquire().await;
        drop(permit);
        self.inner.set(device, req).await
    }
}

/// Creates overlap: the second plans around what the first holds, neither is
/// visible until its devices and journal have it, and a failed one gives
/// everything back.
#[tokio::test]
async fn overlapping_service_creates_hold_resources_but_stay_invisible_until_done() {
    let rec = Recorder::new();
    let gate = Arc::new(Gate {
        inner: rec.clone(),
        open: tokio::sync::Semaphore::new(0),
    });
    let c = Controller::new(small(), gate.clone(), None);
    let a = tokio::spawn({
        let c = c.clone();
        async move { c.create_service(lan("a", 30)).await }
    });
    let b = tokio::spawn({
        let c = c.clone();
        async move { c.create_service(lan("b", 31)).await }
    });
    // Both are planned and waiting on their devices.
    for _ in 0..100 {
        if c.read().pending.len() == 14 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(
        c.read().pending.len(),
        14,
        "2 services + 12 transport policies held"
    );
    assert!(c.list_services().is_empty() && c.list_policies("", "").is_empty());
    assert_eq!(c.read().evis.in_use(), 2, "each holds its own EVI");
    let retry = c.create_service(lan("a", 30)).await.unwrap_err();
    assert!(
        matches!(retry, super::ApiError::Unavailable(_)),
        "{retry:?}"
    );
    gate.open.add_permits(1_000);
    let (a, b) = (a.await.unwrap().unwrap(), b.await.unwrap().unwrap());
    assert_ne!(a.evi, b.evi);
    assert_ne!(a.vni, b.vni);
    assert_eq!(c.list_services().len(), 2);
    assert!(c.read().pending.is_empty());

    // A refused device: the create fails and holds nothing afterwards.
    *rec.refuse.lock().unwrap() = Some("pe3".into());
    let reserved = reservations(&c);
    let err = c.create_service(lan("c", 32)).await.unwrap_err();
    assert!(matches!(err, super::ApiError::Device(_)), "{err:?}");
    let inner = c.read();
    assert_eq!(inner.evis.in_use(), 2);
    assert_eq!(inner.policies.len(), 12);
    assert!(inner.pending.is_empty());
    let after: Vec<f64> = inner.graph.edges.iter().map(|e| e.reserved_gbps).collect();
    assert_eq!(after, reserved);
}

/// Racing requests on one object are serialised: one create of a name wins
/// (the other is told it exists, even while the winner is still pending), and
/// of two deletes at the same revision one succeeds and the other finds nothing.
#[tokio::test]
async fn racing_requests_on_one_object_do_not_both_win() {
    let rec = Recorder::new();
    let gate = Arc::new(Gate {
        inner: rec.clone(),
        open: tokio::sync::Semaphore::new(0),
    });
    let c = Controller::new(small(), gate.clone(), None);
    let mut req2 = lan("same", 30);
    req2.request_id = "another-client".into();
    if let Some(s) = req2.spec.as_mut() {
        s.attachments.iter_mut().for_each(|a| a.vlan = 31);
        s.color = 31;
    }
    let first = tokio::spawn({
        let c = c.clone();
        async move { c.create_service(lan("same", 30)).await }
    });
    while c.read().pending.is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let second = c.create_service(req2).await.unwrap_err();
    assert!(
        matches!(
            second,
            super::ApiError::Plan(crate::plan::error::PlanError::AlreadyExists(_))
        ),
        "{second:?}"
    );
    gate.open.add_permits(1_000);
    let svc = first.await.unwrap().unwrap();

    let (a, b) = tokio::join!(
        c.delete_service(&svc.id, svc.revision),
        c.delete_service(&svc.id, svc.revision)
    );
    let outcomes = [a.is_ok(), b.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
    let loser = if a.is_ok() { b } else { a }.unwrap_err();
    assert!(
        matches!(
            loser,
            super::ApiError::Plan(crate::plan::error::PlanError::NotFound { .. })
        ),
        "{loser:?}"
    );
    assert!(c.list_services().is_empty());
    assert_eq!(c.read().evis.in_use(), 0);
}

/// A programmer whose Sets to one device hang until released, as a slow or
/// wedged device's would; every other device answers at once.
struct Stalling {
    device: &'static str,
    release: tokio::sync::Notify,
    inner: Arc<Recorder>,
}

#[tonic::async_trait]
impl super::programmer::Programmer for Stalling {
    async fn set(
        &self,
        device: &str,
        req: crate::proto::gnmi::SetRequest,
    ) -> Result<(), crate::southbound::SouthboundError> {
        if device == self.device {
            self.release.notified().await;
        }
        self.inner.set(device, req).await
    }
}

#[tokio::test]
async fn a_stalled_device_holds_up_no_request_that_does_not_touch_it() {
    let stall = Arc::new(Stalling {
        device: "pe1",
        release: tokio::sync::Notify::new(),
        inner: Recorder::new(),
    });
    let c = Controller::new(small(), stall.clone(), None);
    // Stuck on pe1's Set: staged, invisible, holding its name and steering.
    let stuck = tokio::spawn({
        let c = c.clone();
        async move { c.create_policy(policy("stuck", "pe1", "pe2", 100)).await }
    });
    while !c.read().pending.iter().any(|id| id.starts_with("pol-")) {
        tokio::task::yield_now().await;
    }
    // Meanwhile requests on other devices plan, program and commit, and reads
    // answer, without waiting for pe1.
    let other = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        c.create_policy(policy("other", "pe2", "pe3", 100)),
    )
    .await
    .expect("a create on pe2 must not wait for pe1")
    .unwrap();
    assert_eq!(
        c.list_policies("", "").len(),
        1,
        "the stuck one is invisible"
    );
    c.delete_policy(&other.id, other.revision).await.unwrap();
    // The same name is still held by the request in flight.
    let taken = c
        .create_policy(api::CreatePolicyRequest {
            request_id: "again".into(),
            ..policy("stuck", "pe1", "pe3", 200)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            taken,
            super::ApiError::Plan(crate::plan::error::PlanError::AlreadyExists(_))
        ),
        "{taken:?}"
    );
    stall.release.notify_one();
    let done = stuck.await.unwrap().unwrap();
    assert_eq!(c.get_policy(&done.id).unwrap().spec.unwrap().name, "stuck");
}

#[tokio::test]
async fn two_deletes_of_one_object_in_flight_do_not_both_run() {
    let stall = Arc::new(Stalling {
        device: "pe1",
        release: tokio::sync::Notify::new(),
        inner: Recorder::new(),
    });
    let c = Controller::new(small(), stall.clone(), None);
    let created = {
        let c = c.clone();
        let create =
            tokio::spawn(async move { c.create_policy(policy("p", "pe1", "pe2", 100)).await });
        tokio::task::yield_now().await;
        stall.release.notify_one();
        create.await.unwrap().unwrap()
    };
    let first = tokio::spawn({
        let c = c.clone();
        let id = created.id.clone();
        async move { c.delete_policy(&id, 0).await }
    });
    while !c.read().busy.contains(&created.id) {
        tokio::task::yield_now().await;
    }
    let second = c.delete_policy(&created.id, 0).await.unwrap_err();
    assert!(
        matches!(
            second,
            super::ApiError::Plan(crate::plan::error::PlanError::Aborted(_))
        ),
        "{second:?}"
    );
    stall.release.notify_one();
    first.await.unwrap().unwrap();
    assert!(c.get_policy(&created.id).is_err());
}

#[tokio::test]
async fn a_headend_of_the_wrong_role_is_named_with_the_right_article() {
    let rec = Recorder::new();
    let c = Controller::new(small(), rec.clone(), None);
    let err = c
        .create_policy(policy("p", "ot1", "pe2", 100))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("ot1 is an optical node; a packet node is needed here"),
        "{text}"
    );
}

/// Reads every device as empty; stalls pe1's Sets once told to.
struct SlowToRepair {
    stall: std::sync::atomic::AtomicBool,
    release: tokio::sync::Notify,
    inner: Arc<Recorder>,
}

#[tonic::async_trait]
impl super::programmer::Programmer for SlowToRepair {
    async fn set(
        &self,
        device: &str,
        req: crate::proto::gnmi::SetRequest,
    ) -> Result<(), crate::southbound::SouthboundError> {
        if device == "pe1" && self.stall.load(std::sync::atomic::Ordering::SeqCst) {
            self.release.notified().await;
        }
        self.inner.set(device, req).await
    }

    async fn get(
        &self,
        device: &str,
        _req: crate::proto::gnmi::GetRequest,
    ) -> Result<crate::proto::gnmi::GetResponse, crate::southbound::SouthboundError> {
        Err(crate::southbound::SouthboundError::Rejected {
            device: device.to_string(),
            code: tonic::Code::NotFound,
            message: "nothing configured".into(),
        })
    }
}

#[tokio::test]
async fn a_reconcile_stuck_on_a_slow_device_does_not_hold_up_the_closed_loop_elsewhere() {
    let slow = Arc::new(SlowToRepair {
        stall: false.into(),
        release: tokio::sync::Notify::new(),
        inner: Recorder::new(),
    });
    let c = Controller::new(small(), slow.clone(), None);
    c.create_policy(policy("on-pe1", "pe1", "pe2", 100))
        .await
        .unwrap();
    c.create_policy(policy("on-pe2", "pe2", "pe3", 100))
        .await
        .unwrap();
    // pe1 lost its config and repairs to it hang.
    slow.stall.store(true, std::sync::atomic::Ordering::SeqCst);
    let repair = tokio::spawn({
        let c = c.clone();
        async move { c.reconcile_device("pe1").await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(!repair.is_finished(), "the repair is stuck in pe1's Set");
    // A breach on pe2's path is handled meanwhile.
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        c.link_condition("pe2-pe3", super::reroute::LinkCondition::Down, "test"),
    )
    .await
    .expect("a reroute on pe2 must not wait for pe1's reconcile");
    assert_eq!(report.rerouted.len(), 1, "{report:?}");
    assert_eq!(report.rerouted[0].headend, "pe2");
    slow.release.notify_one();
    let change = repair.await.unwrap().unwrap();
    assert!(!change.is_empty(), "pe1 got its rule back");
}

#[tokio::test]
async fn services_draw_ids_and_color_from_the_configured_pools() {
    let rec = Recorder::new();
    let pools = super::Pools {
        evi: (5000, 5001),
        vni: (7000, 7000),
        default_color: 250,
    };
    assert_eq!(pools.validate(), Ok(()));
    let c = Controller::with_pools(small(), rec.clone(), None, None, pools);
    let spec = |name: &str| api::ServiceSpec {
        name: name.into(),
        r#type: api::ServiceType::ELine as i32,
        attachments: ["pe1", "pe2"]
            .iter()
            .map(|d| api::Attachment {
                device: d.to_string(),
                interface: "ce-0/1/0".into(),
                vlan: if name == "a" { 30 } else { 31 },
            })
            .collect(),
        ..Default::default()
    };
    let create = |name: &str| {
        c.create_service(api::CreateServiceRequest {
            request_id: String::new(),
            spec: Some(spec(name)),
        })
    };
    let svc = create("a").await.unwrap();
    assert_eq!((svc.evi, svc.vni), (5000, 7000));
    let transport = c.get_policy(&svc.transport_policies[0]).unwrap();
    assert_eq!(
        transport.spec.unwrap().color,
        250,
        "the configured default color"
    );
    // One VNI in the pool: the second service finds it exhausted.
    let e = create("b").await.unwrap_err();
    assert!(
        e.to_string().contains("vni pool 7000..=7000 is exhausted"),
        "{e}"
    );
}

#[test]
fn pools_outside_the_protocol_ranges_are_refused() {
    let ok = super::Pools::default();
    assert_eq!(ok.validate(), Ok(()));
    let bad = |p: super::Pools| p.validate().unwrap_err();
    assert!(bad(super::Pools { evi: (0, 10), ..ok }).contains("not within 1..=65535"));
    assert!(bad(super::Pools {
        evi: (10, 70_000),
        ..ok
    })
    .contains("not within"));
    assert!(bad(super::Pools { vni: (9, 8), ..ok }).contains("greater than max"));
    assert!(bad(super::Pools {
        default_color: 0,
        ..ok
    })
    .contains("no color"));
}
