//! Wavelength feasibility through the controller: the mode picked, explicit
//! modes refused with their reason, live margins and their events, and
//! existing wavelengths protected from a new one.

use crate::northbound::ControllerApi;
use std::sync::Arc;

use super::programmer::Recorder;
use super::{ApiError, Controller};
use crate::proto::strata::v1 as api;

/// a —60— b —250— c —40— d: 400ZR fits a–b, not b–c (CD).
fn chain(bc_optical: &str) -> crate::model::Topology {
    let text = format!(
        "name: chain
defaults:
  address_base: 127.0.0.1:50000
nodes:
  - {{name: a, role: optical}}
  - {{name: b, role: optical}}
  - {{name: c, role: optical}}
  - {{name: d, role: optical}}
links:
  - {{name: ab, a: {{node: a, interface: l1}}, b: {{node: b, interface: l1}}, layer: fiber, length_km: 60}}
  - {{name: bc, a: {{node: b, interface: l2}}, b: {{node: c, interface: l1}}, layer: fiber, length_km: 250{bc_optical}}}
  - {{name: cd, a: {{node: c, interface: l2}}, b: {{node: d, interface: l1}}, layer: fiber, length_km: 40}}
"
    );
    crate::topology::parse_str(&text).expect("valid chain")
}

fn wl(name: &str, a: &str, b: &str, mode: u32) -> api::CreateWavelengthRequest {
    api::CreateWavelengthRequest {
        request_id: String::new(),
        spec: Some(api::WavelengthSpec {
            name: name.into(),
            a: a.into(),
            b: b.into(),
            operational_mode: mode,
            ..Default::default()
        }),
    }
}

#[tokio::test]
async fn mode_zero_picks_the_fastest_mode_that_closes_and_reports_it() {
    let c = Controller::new(chain(""), Recorder::new(), None);
    let short = c.create_wavelength(wl("ab", "a", "b", 0)).await.unwrap();
    assert_eq!(
        (short.operational_mode, short.mode_name.as_str()),
        (1, "400ZR")
    );
    let long = c.create_wavelength(wl("bc", "b", "c", 0)).await.unwrap();
    assert_eq!(
        (long.operational_mode, long.mode_name.as_str()),
        (2, "OpenZR+ 400G")
    );
    assert_eq!(long.required_osnr_db, 24.0);
    // planned at full load, so the live margin with the band nearly empty
    // is larger; both are over the spec's margin
    assert!(long.planned_margin_db > 0.0, "{long:?}");
    assert!(long.osnr_margin_db > long.planned_margin_db, "{long:?}");
    assert!(long.gsnr_db > long.estimated_osnr_db, "{long:?}");
    assert!(
        long.limit.starts_with("OpenZR+ 400G closes at GSNR"),
        "{}",
        long.limit
    );
}

#[tokio::test]
async fn an_explicit_mode_that_cannot_close_is_refused_with_the_reason_and_nothing_changes() {
    let rec = Recorder::new();
    let c = Controller::new(chain(""), rec.clone(), None);
    let err = c
        .create_wavelength(wl("bc", "b", "c", 1))
        .await
        .unwrap_err();
    let ApiError::Plan(crate::plan::error::PlanError::Precondition(msg)) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        msg,
        "no feasible wavelength b → c: on the shortest route (250.0 km) CD 4,175 ps/nm exceeds \
         400ZR's 2,400 ps/nm; OpenZR+ 400G would fit"
    );
    assert!(c.list_wavelengths().is_empty());
    assert!(rec.take().is_empty());
    // an unknown mode is a bad argument naming the field
    let err = c.create_wavelength(wl("x", "b", "c", 9)).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Plan(crate::plan::error::PlanError::Invalid { field, .. }) if field == "spec.operational_mode"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_neighbour_lit_or_dark_moves_a_wavelengths_live_margin_with_an_event() {
    let c = Controller::new(chain(""), Recorder::new(), None);
    // a→c over ab, bc; b→d over bc, cd: they share bc
    let first = c.create_wavelength(wl("ac", "a", "c", 0)).await.unwrap();
    let (_, mut events) = c.events().watch(c.events().revision()).unwrap();
    let second = c.create_wavelength(wl("bd", "b", "d", 0)).await.unwrap();
    assert_eq!(second.fibers, ["bc", "cd"]);
    let now = c.get_wavelength(&first.id).unwrap();
    assert!(
        now.osnr_margin_db < first.osnr_margin_db,
        "{now:?} vs {first:?}"
    );
    assert!(now.gsnr_db < first.gsnr_db);
    // its intent did not change: the revision of the record stays
    assert_eq!(now.revision, first.revision);
    let created = events.recv().await.unwrap();
    assert_eq!(created.change, crate::object::Change::Created);
    let updated = events.recv().await.unwrap();
    assert_eq!(updated.change, crate::object::Change::Updated);
    assert!(
        updated.reason.contains("lit beside it"),
        "{}",
        updated.reason
    );
    match &updated.object {
        crate::object::Object::Wavelength(w) => {
            assert_eq!(
                (w.id.as_str(), w.osnr_margin_db),
                (first.id.as_str(), now.osnr_margin_db)
            )
        }
        other => panic!("{other:?}"),
    }
    c.delete_wavelength(&second.id, 0).await.unwrap();
    let back = c.get_wavelength(&first.id).unwrap();
    assert_eq!(back.osnr_margin_db, first.osnr_margin_db);
    let _deleted = events.recv().await.unwrap();
    let updated = events.recv().await.unwrap();
    assert!(updated.reason.contains("went dark"), "{}", updated.reason);
}

/// A wavelength lit when the plant was new is now (after a restart on a
/// topology that books end-of-life loss on bc) below its margin: a new
/// neighbour that would make it worse is refused, naming it, and nothing of
/// the new one is left behind.
#[tokio::test]
async fn a_new_wavelength_that_would_push_an_existing_one_below_its_margin_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recorder::new();
    let first = {
        let (store, _) = crate::store::Store::open(dir.path()).unwrap();
        let c = Controller::with_store(chain(""), rec.clone(), None, Some(Arc::new(store)));
        let mut req = wl("ac", "a", "c", 2);
        if let Some(s) = req.spec.as_mut() {
            s.osnr_margin_db = Some(4.0);
        }
        c.create_wavelength(req).await.unwrap()
    };
    assert!(first.osnr_margin_db > 0.0);
    let aged = ", optical: {eol_margin_db: 3.0}";
    let (store, replayed) = crate::store::Store::open(dir.path()).unwrap();
    let c = Controller::with_store(chain(aged), rec.clone(), None, Some(Arc::new(store)));
    c.restore(&replayed).unwrap();
    let was = c.get_wavelength(&first.id).unwrap();
    assert!(was.osnr_margin_db < 0.0, "{was:?}");
    rec.take();
    let before = (
        c.list_wavelengths(),
        c.read().spectrum.clone(),
        c.events().revision(),
    );
    let err = c
        .create_wavelength(wl("bd", "b", "d", 0))
        .await
        .unwrap_err();
    let ApiError::Plan(crate::plan::error::PlanError::Precondition(msg)) = &err else {
        panic!("{err:?}")
    };
    assert!(
        msg.contains(&format!(
            "lighting it would push wavelength ac ({}) below its 4.00 dB margin: its OSNR margin \
             would fall from {:.2} to",
            first.id, was.osnr_margin_db
        )),
        "{msg}"
    );
    assert!(rec.take().is_empty(), "nothing was sent to a device");
    let after = (
        c.list_wavelengths(),
        c.read().spectrum.clone(),
        c.events().revision(),
    );
    assert_eq!(after.0, before.0);
    assert_eq!(after.1, before.1);
    // a wavelength that does not share a fiber with it is still fine
    c.create_wavelength(wl("cd", "c", "d", 0)).await.unwrap();
}

#[tokio::test]
async fn a_reading_far_below_the_prediction_raises_one_event_and_clears_with_hysteresis() {
    let c = Controller::new(chain(""), Recorder::new(), None);
    let w = c.create_wavelength(wl("bc", "b", "c", 0)).await.unwrap();
    let (_, mut events) = c.events().watch(c.events().revision()).unwrap();
    let predicted = w.gsnr_db;
    assert_eq!(c.osnr_alarm_db(), super::DEFAULT_OSNR_ALARM_DB);
    // a healthy line reads above the GSNR (no NLI, no transmitter in it)
    assert!(!c.observe_wavelength_osnr("c", &w.b_port, predicted + 1.5));
    let seen = c.get_wavelength(&w.id).unwrap();
    assert_eq!(
        seen.measured_osnr_db,
        Some(((predicted + 1.5) * 100.0).round() / 100.0)
    );
    assert!(!seen.below_prediction);
    // 3 dB short: flagged, once
    assert!(c.observe_wavelength_osnr("c", &w.b_port, predicted - 3.0));
    assert!(!c.observe_wavelength_osnr("c", &w.b_port, predicted - 2.9));
    // back to 1.7 dB short: inside the threshold, not past the hysteresis
    assert!(!c.observe_wavelength_osnr("b", &w.a_port, predicted - 1.7));
    assert!(c.get_wavelength(&w.id).unwrap().below_prediction);
    // 1.3 dB short: clears
    assert!(c.observe_wavelength_osnr("b", &w.a_port, predicted - 1.3));
    assert!(!c.get_wavelength(&w.id).unwrap().below_prediction);
    let raised = events.recv().await.unwrap();
    assert_eq!(raised.change, crate::object::Change::Updated);
    assert!(
        raised.reason.contains("dB below the predicted GSNR") && raised.reason.contains("c l1"),
        "{}",
        raised.reason
    );
    match &raised.object {
        crate::object::Object::Wavelength(v) => assert!(v.below_prediction),
        other => panic!("{other:?}"),
    }
    let cleared = events.recv().await.unwrap();
    assert!(cleared.reason.contains("back within"), "{}", cleared.reason);
    assert!(events.try_recv().is_err(), "no more events");
    // a port without a wavelength, and a bad threshold, change nothing
    assert!(!c.observe_wavelength_osnr("a", "l1", 1.0));
    c.set_osnr_alarm_db(-1.0);
    assert_eq!(c.osnr_alarm_db(), super::DEFAULT_OSNR_ALARM_DB);
    c.set_osnr_alarm_db(0.5);
    assert!(c.observe_wavelength_osnr("c", &w.b_port, predicted - 1.0));
}

/// A journal written before mode selection: the record's mode is 0 (it meant
/// 400ZR) and the view has no picked mode. It loads as 400ZR, with a live
/// margin computed on load.
#[tokio::test]
async fn a_journal_from_before_mode_selection_loads_as_400zr() {
    use crate::proto::strata::store::v1 as store;
    let old = store::Entry {
        next_id: 1,
        op: Some(store::entry::Op::Wavelength(store::WavelengthRecord {
            wavelength: Some(store::Wavelength {
                id: "wl-1".into(),
                spec: wl("ab", "a", "b", 0).spec.map(|s| {
                    crate::store::schema::wavelength_spec(
                        &crate::northbound::convert::wavelength_spec(s),
                    )
                }),
                fibers: vec!["ab".into()],
                nodes: vec!["a".into(), "b".into()],
                frequency_mhz: 191_300_000,
                channel: 0,
                length_km: 60.0,
                estimated_osnr_db: 34.9,
                required_osnr_db: 26.0,
                a_port: "l1".into(),
                b_port: "l1".into(),
                revision: 1,
                ..Default::default()
            }),
            mode: 0,
            power_dbm: -10.0,
            margin_db: 1.0,
            ..Default::default()
        })),
    };
    let c = Controller::new(chain(""), Recorder::new(), None);
    c.restore(&crate::store::Replayed {
        entries: vec![old],
        next_id: 1,
        revision: 1,
        recovery: Default::default(),
    })
    .unwrap();
    let w = c.get_wavelength("wl-1").unwrap();
    assert_eq!((w.operational_mode, w.mode_name.as_str()), (1, "400ZR"));
    assert!(
        w.osnr_margin_db > 0.0 && w.limit.starts_with("400ZR closes"),
        "{w:?}"
    );
    // its channel is lit in that mode for its neighbours' sake
    assert_eq!(c.read().spectrum.carriers("ab"), [(0, 1)]);
}

#[tokio::test]
async fn the_closed_loop_config_sets_the_model_vs_reality_threshold() {
    let topo = chain("");
    let c = Controller::new(topo.clone(), Recorder::new(), None);
    let policy = crate::telemetry::health::HealthPolicy {
        osnr_below_prediction_db: Some(3.0),
        ..Default::default()
    };
    let _loop = super::closed_loop::ClosedLoop::new(c.clone(), &topo, policy);
    assert_eq!(c.osnr_alarm_db(), 3.0);
}
