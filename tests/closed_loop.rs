//! Deterministic replay of the closed loop, no sockets: topology + intents +
//! a scripted telemetry sequence → the exact reroutes and SID lists sent.

mod common;

use std::time::Duration;
use strata::northbound::ControllerApi;

use common::small_topology;
use strata::controller::closed_loop::ClosedLoop;
use strata::controller::programmer::Recorder;
use strata::controller::Controller;
use strata::gnmi::format_path;
use strata::proto::gnmi::SetRequest;
use strata::proto::strata::v1 as api;
use strata::telemetry::health::{HealthConfig, HealthOverride, HealthPolicy, Reading, Transition};

const MS: u64 = 1_000_000;

fn policy(name: &str, headend: &str, endpoint: &str) -> api::CreatePolicyRequest {
    api::CreatePolicyRequest {
        request_id: String::new(),
        spec: Some(api::PolicySpec {
            name: name.into(),
            headend: headend.into(),
            endpoint: endpoint.into(),
            color: 100,
            constraints: None,
        }),
    }
}

/// The one segment list of the rule a reroute replaces: (its index, labels).
fn segment_list_in(req: &SetRequest) -> (String, Vec<u64>) {
    // One Set: the rule replaced (new list in, old out) and, merged beside
    // it, only the policy container that holds it.
    assert!(req.delete.is_empty(), "{req:?}");
    assert!(
        req.update.iter().all(|u| u
            .path
            .as_ref()
            .and_then(|p| p.elem.last())
            .is_some_and(|e| e.name == "policy")),
        "{req:?}"
    );
    assert_eq!(req.replace.len(), 1);
    let u = &req.replace[0];
    let v = strata::gnmi::value::typed_to_json(u.val.as_ref().unwrap()).unwrap();
    let lists = v["action"]["openconfig-pf-srte:segment-lists"]["segment-list"]
        .as_array()
        .unwrap();
    assert_eq!(lists.len(), 1, "only the new list");
    let labels = lists[0]["sids"]["sid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["config"]["value"].as_u64().unwrap())
        .collect();
    (lists[0]["index"].as_str().unwrap().to_string(), labels)
}

fn config() -> HealthConfig {
    HealthConfig {
        ewma_alpha: 1.0,
        hold_down: Duration::from_millis(1000),
        silence_timeout: Duration::from_secs(60),
        ..Default::default()
    }
}

#[tokio::test]
async fn delay_breach_moves_only_affected_policies_flaps_hold_and_recovery_returns_them() {
    let topo = small_topology();
    let rec = Recorder::new();
    let c = Controller::new(topo.clone(), rec.clone(), None);
    let p12 = c.create_policy(policy("p12", "pe1", "pe2")).await.unwrap();
    let p23 = c.create_policy(policy("p23", "pe2", "pe3")).await.unwrap();
    assert_eq!(p12.path.unwrap().links, vec!["pe1-pe2"]);
    rec.take();
    let mut lp = ClosedLoop::new(c.clone(), &topo, config());

    // healthy sample: nothing
    assert!(lp
        .observe("pe1", "et-0/0/1", Reading::DelayUs(300.0), 0)
        .await
        .is_none());
    // 5 ms on pe1-pe2 (threshold 294 + 500 µs): p12 moves via pe3, p23 stays
    let action = lp
        .observe("pe1", "et-0/0/1", Reading::DelayUs(5000.0), 100 * MS)
        .await
        .expect("breach");
    assert!(matches!(action.transition, Transition::Breached { .. }));
    let report = &action.reports[0];
    assert_eq!(
        report.considered, 1,
        "only policies on pe1-pe2 are recomputed"
    );
    assert_eq!(report.rerouted.len(), 1);
    assert_eq!(report.rerouted[0].to_links, vec!["pe1-pe3", "pe2-pe3"]);
    assert_eq!(report.rerouted[0].labels, vec![16003, 16002]);
    let sets = rec.take();
    // make before break on pe1 only, in one Set: the rule replaced with
    // segment list 2 alone
    assert_eq!(sets.len(), 1);
    assert_eq!(sets[0].0, "pe1");
    assert!(
        format_path(sets[0].1.replace[0].path.as_ref().unwrap()).ends_with("rule[sequence-id=1]")
    );
    assert_eq!(
        segment_list_in(&sets[0].1),
        ("2".to_string(), vec![16003, 16002])
    );
    assert_eq!(
        c.get_policy(&p23.id).unwrap().path.unwrap().links,
        vec!["pe2-pe3"]
    );

    // flapping every 200 ms for 3 s: never healthy for the 1 s hold-down → no further Sets
    for i in 0..15u64 {
        let d = if i % 2 == 0 { 300.0 } else { 6000.0 };
        lp.observe("pe1", "et-0/0/1", Reading::DelayUs(d), (200 + i * 200) * MS)
            .await;
        lp.tick((300 + i * 200) * MS).await;
    }
    assert!(rec.take().is_empty(), "no oscillation while flapping");

    // stable and healthy past the hold-down: p12 returns to pe1-pe2
    let mut restored = false;
    for i in 0..20u64 {
        let t = (3400 + i * 100) * MS;
        if let Some(a) = lp
            .observe("pe2", "et-0/0/1", Reading::DelayUs(296.0), t)
            .await
        {
            restored |= a.transition == Transition::Restored;
        }
        for a in lp.tick(t + MS).await {
            restored |= a.transition == Transition::Restored;
        }
    }
    assert!(restored);
    let sets = rec.take();
    assert_eq!(sets.len(), 1);
    assert_eq!(segment_list_in(&sets[0].1), ("3".to_string(), vec![16002]));
    assert_eq!(
        c.get_policy(&p12.id).unwrap().path.unwrap().links,
        vec!["pe1-pe2"]
    );
}

#[tokio::test]
async fn osnr_below_minimum_on_a_fiber_fails_over_the_packet_links_riding_it() {
    let topo = small_topology();
    let rec = Recorder::new();
    let c = Controller::new(topo.clone(), rec.clone(), None);
    let p = c.create_policy(policy("p12", "pe1", "pe2")).await.unwrap();
    rec.take();
    let mut lp = ClosedLoop::new(c.clone(), &topo, config());
    // Readings name the line interface here; a device's optical-channel
    // component maps to it once its facts are discovered.
    assert!(lp
        .observe("ot1", "line-1", Reading::OsnrDb(30.0), 0)
        .await
        .is_none());
    // an unprovisioned channel (0 dB) is not a breach
    assert!(lp
        .observe("ot2", "line-1", Reading::OsnrDb(0.0), MS)
        .await
        .is_none());
    let a = lp
        .observe("ot1", "line-1", Reading::OsnrDb(9.0), 2 * MS)
        .await
        .expect("breach");
    assert_eq!(a.link, "ot1-ot2");
    assert_eq!(a.reports.len(), 1, "one packet link rides the fiber");
    assert_eq!(a.reports[0].rerouted[0].policy, p.id);
    assert!(!c
        .get_policy(&p.id)
        .unwrap()
        .path
        .unwrap()
        .links
        .contains(&"pe1-pe2".to_string()));
}

/// pe1's IS-IS instance 1 towards pe2, in its own LSP (docs/openconfig.md).
const PE1_INSTANCE: &str = "/network-instances/network-instance[name=DEFAULT]/protocols/protocol[identifier=ISIS][name=default]/isis/levels/level[level-number=2]/link-state-database/lsp[lsp-id=0102.5500.0001.00-00]/tlvs/tlv[type=EXTENDED_IS_REACHABILITY]/extended-is-reachability/neighbors/neighbor[system-id=0102.5500.0002]/instances/instance[id=1]";

#[test]
fn bad_telemetry_is_classified_and_refused() {
    use strata::gnmi::parse_path;
    use strata::proto::gnmi::{typed_value::Value as V, TypedValue};
    use strata::telemetry::reading;
    let tv = |v: V| TypedValue { value: Some(v) };
    let delay = parse_path(&format!(
        "{PE1_INSTANCE}/subtlvs/subtlv[type=openconfig-isis-lsdb-types:IS_REACHABILITY_LINK_DELAY]/link-delay/state/delay"
    ))
    .unwrap();
    assert_eq!(
        reading(&delay, &tv(V::UintVal(300))).unwrap(),
        Ok(Reading::DelayUs(300.0))
    );
    assert!(reading(&delay, &tv(V::DoubleVal(f64::NAN)))
        .unwrap()
        .is_err());
    assert!(reading(&delay, &tv(V::IntVal(-5))).unwrap().is_err());
    let loss = parse_path(&format!(
        "{PE1_INSTANCE}/subtlvs/subtlv[type=IS_REACHABILITY_LINK_LOSS]/link-loss/state/link-loss"
    ))
    .unwrap();
    // RFC 8570 units of 0.000003 %: 1 000 000 is 3 %.
    match reading(&loss, &tv(V::UintVal(1_000_000))) {
        Some(Ok(Reading::LossPercent(p))) => assert!((p - 3.0).abs() < 1e-9, "{p}"),
        other => panic!("{other:?}"),
    }
    assert!(reading(&loss, &tv(V::UintVal(1 << 24))).unwrap().is_err());
    let other = parse_path("/interfaces/interface[name=x]/state/counters/in-octets").unwrap();
    assert!(reading(&other, &tv(V::UintVal(1))).is_none());
}

#[tokio::test]
async fn ingest_counts_and_drops_bad_samples_without_blocking() {
    use strata::gnmi::parse_path;
    use strata::proto::gnmi::{typed_value::Value as V, Notification, TypedValue, Update};
    let ingest = strata::telemetry::Ingest::default();
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    ingest.feed(tx);
    let upd = |p: &str, v: V| Update {
        path: Some(parse_path(p).unwrap()),
        val: Some(TypedValue { value: Some(v) }),
        ..Default::default()
    };
    // et-0/0/1 is ifindex 1001, and instance 1 of pe1's LSP is its link.
    ingest.start_session("pe1", Some("10.255.0.1".parse().unwrap()));
    ingest.on_notification(
        "pe1",
        &Notification {
            timestamp: 1,
            update: vec![upd(
                "/interfaces/interface[name=et-0/0/1]/state/ifindex",
                V::UintVal(1001),
            )],
            ..Default::default()
        },
    );
    let d = &format!(
        "{PE1_INSTANCE}/subtlvs/subtlv[type=IS_REACHABILITY_LINK_DELAY]/link-delay/state/delay"
    );
    let link =
        &format!("{PE1_INSTANCE}/subtlvs/subtlv[type=IS_REACHABILITY_LINK_ID]/link-id/state/local");
    let n = Notification {
        timestamp: 1,
        update: vec![
            upd(link, V::UintVal(1001)),
            upd(d, V::DoubleVal(f64::NAN)),
            upd(d, V::IntVal(-1)),
            upd(d, V::UintVal(300)),
            upd(d, V::UintVal(301)),
            upd(d, V::UintVal(302)), // the loop's queue (2) is full: dropped, counted
            Update {
                path: None,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    ingest.on_notification("pe1", &n);
    assert_eq!(ingest.rejected(), 3);
    assert_eq!(ingest.dropped(), 1);
    assert_eq!(rx.recv().await.unwrap().reading, Reading::DelayUs(300.0));
    assert_eq!(rx.recv().await.unwrap().reading, Reading::DelayUs(301.0));
}

#[tokio::test]
async fn a_policy_with_nowhere_to_go_is_reported_down_and_comes_back_up() {
    let topo = small_topology();
    let rec = Recorder::new();
    let c = Controller::new(topo.clone(), rec.clone(), None);
    // 400 µs bound: only the direct pe1-pe2 link (≈294 µs) meets it
    let mut req = policy("tight", "pe1", "pe2");
    if let Some(spec) = req.spec.as_mut() {
        spec.constraints = Some(api::Constraints {
            max_latency_us: 400,
            ..Default::default()
        });
    }
    let p = c.create_policy(req).await.unwrap();
    rec.take();
    let mut lp = ClosedLoop::new(c.clone(), &topo, config());
    let a = lp
        .observe("pe1", "et-0/0/1", Reading::DelayUs(5000.0), MS)
        .await
        .expect("breach");
    assert_eq!(a.reports[0].stranded, vec![p.id.clone()]);
    assert!(rec.take().is_empty(), "nothing better to program");
    let down = c.get_policy(&p.id).unwrap();
    assert_eq!(down.state, api::PolicyState::Down as i32);
    assert!(down.revision > p.revision);
    // healthy past the hold-down: reported up again, still on its path
    lp.observe("pe1", "et-0/0/1", Reading::DelayUs(294.0), 100 * MS)
        .await;
    lp.tick(1200 * MS).await;
    let up = c.get_policy(&p.id).unwrap();
    assert_eq!(up.state, api::PolicyState::Programmed as i32);
    assert_eq!(up.path.unwrap().links, vec!["pe1-pe2"]);
}

#[tokio::test]
async fn per_link_and_per_class_thresholds_decide_that_links_breaches_only() {
    let topo = small_topology();
    let rec = Recorder::new();
    let c = Controller::new(topo.clone(), rec.clone(), None);
    c.create_policy(policy("p12", "pe1", "pe2")).await.unwrap();
    c.create_policy(policy("p13", "pe1", "pe3")).await.unwrap();
    rec.take();
    // As a config file's [closed_loop.classes.packet] and
    // [closed_loop.links."pe1-pe2"] would say.
    let mut thresholds = HealthPolicy::from(config());
    thresholds.classes.insert(
        "packet".into(),
        HealthOverride {
            loss_percent: Some(5.0),
            ..Default::default()
        },
    );
    thresholds.links.insert(
        "pe1-pe2".into(),
        HealthOverride {
            delay_excess_us: Some(10_000.0),
            hold_down: Some(Duration::from_millis(200)),
            ..Default::default()
        },
    );
    let mut lp = ClosedLoop::new(c.clone(), &topo, thresholds);
    let pe12 = lp.thresholds("pe1-pe2").unwrap().clone();
    assert_eq!(
        (pe12.delay_excess_us, pe12.loss_percent, pe12.ewma_alpha),
        (10_000.0, 5.0, 1.0),
        "link over class over global"
    );
    assert_eq!(lp.thresholds("pe1-pe3").unwrap().delay_excess_us, 500.0);
    assert_eq!(lp.thresholds("ot1-ot2").unwrap().loss_percent, 1.0);

    // 5 ms on pe1-pe2 is inside its own 10 ms allowance: nothing moves.
    assert!(lp
        .observe("pe1", "et-0/0/1", Reading::DelayUs(5000.0), 0)
        .await
        .is_none());
    // 2 % loss is under the packet class's 5 % (the global 1 % would breach).
    assert!(lp
        .observe("pe1", "et-0/0/2", Reading::LossPercent(2.0), 0)
        .await
        .is_none());
    assert!(
        rec.take().is_empty(),
        "no Sets for readings within thresholds"
    );
    // The same 5 ms on pe1-pe3, judged by the global thresholds, breaches.
    let action = lp
        .observe("pe1", "et-0/0/2", Reading::DelayUs(5000.0), 10 * MS)
        .await
        .expect("pe1-pe3 breaches at 5 ms");
    assert_eq!(action.link, "pe1-pe3");
    assert!(matches!(action.transition, Transition::Breached { .. }));

    // pe1-pe2's own 200 ms hold-down restores it sooner than the global 1 s.
    let action = lp
        .observe("pe1", "et-0/0/1", Reading::DelayUs(20_000.0), 20 * MS)
        .await
        .expect("pe1-pe2 breaches past its allowance");
    assert!(matches!(action.transition, Transition::Breached { .. }));
    lp.observe("pe1", "et-0/0/1", Reading::DelayUs(300.0), 30 * MS)
        .await;
    let restored = lp.tick(240 * MS).await;
    assert!(
        restored
            .iter()
            .any(|a| a.link == "pe1-pe2" && a.transition == Transition::Restored),
        "{restored:?}"
    );
    assert!(
        !restored.iter().any(|a| a.link == "pe1-pe3"),
        "pe1-pe3 is still degraded"
    );
}
