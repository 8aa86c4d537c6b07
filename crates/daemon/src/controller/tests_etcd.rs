//! The pipeline on the etcd store, against a real etcd (started on loopback
//! by `store::etcd_server`; skipped loudly without an etcd binary, and a
//! failure under `STRATA_REQUIRE_ETCD=1`).

use std::collections::BTreeSet;
use std::sync::Arc;

use super::programmer::Recorder;
use super::tests::{everything, lan, ot1_ot2, policy, small};
use super::{ApiError, Controller};
use crate::northbound::ControllerApi;
use crate::store::etcd_server;
use crate::store::Store;

async fn open(config: &crate::store::etcd::EtcdConfig, rec: &Arc<Recorder>) -> Arc<Controller> {
    let (store, replayed) = Store::open_etcd(config).await.unwrap();
    let c = Controller::with_store(small(), rec.clone(), None, Some(Arc::new(store)));
    c.restore(&replayed).unwrap();
    c
}

/// A controller started again on the same etcd prefix is the same
/// controller: objects, paths after a reroute, pools, spectrum, reservations
/// and the id and revision counters.
#[tokio::test]
async fn intents_survive_a_restart_on_etcd_with_their_resources() {
    use super::reroute::LinkCondition;
    let Some(etcd) = etcd_server::for_test("intents_survive_a_restart_on_etcd").await else {
        return;
    };
    let config = etcd.config_with_prefix("/restart/");
    let rec = Recorder::new();
    let (before, reserved_before, last_revision) = {
        let c = open(&config, &rec).await;
        assert!(everything(&c).1.is_empty());
        c.create_policy(policy("p", "pe1", "pe2", 200))
            .await
            .unwrap();
        let gone = c
            .create_policy(policy("q", "pe2", "pe3", 200))
            .await
            .unwrap();
        c.create_service(lan("keep", 30)).await.unwrap();
        let drop = c.create_service(lan("drop", 31)).await.unwrap();
        c.create_wavelength(ot1_ot2("wl", "req-wl")).await.unwrap();
        c.delete_policy(&gone.id, 0).await.unwrap();
        c.delete_service(&drop.id, 0).await.unwrap();
        let report = c
            .link_condition("pe1-pe2", LinkCondition::Down, "test")
            .await;
        assert!(!report.rerouted.is_empty(), "{report:?}");
        let reserved = super::tests::reservations(&c);
        // The reroute is recorded without waiting; an empty commit is the
        // barrier behind it, as at shutdown.
        c.store.as_ref().unwrap().commit(&[]).await.unwrap();
        (everything(&c), reserved, c.events().revision())
    };
    assert_eq!(before.0.len(), 7, "p plus the 6 transports of keep");

    let c = open(&config, &rec).await;
    assert_eq!(everything(&c), before);
    let reserved = super::tests::reservations(&c);
    assert_eq!(reserved, reserved_before);
    assert!(c.events().revision() >= last_revision);
    // New objects get fresh identifiers, ids and revisions.
    let fresh = c.create_service(lan("fresh", 32)).await.unwrap();
    let keep = &before.1[0];
    assert_ne!(fresh.evi, keep.evi);
    assert_ne!(fresh.vni, keep.vni);
    assert!(fresh.revision > last_revision);
    let wl = &before.2[0];
    assert!(!c
        .read()
        .spectrum
        .is_free(&wl.fibers[0], wl.channel as usize));
    // Another prefix on the same etcd is another, empty, state.
    let other = open(&etcd.config_with_prefix("/elsewhere/"), &rec).await;
    assert!(everything(&other).1.is_empty());
}

/// Two controllers on one prefix, both started from the same state, create
/// services at the same time. Each would allocate the same EVIs and VNIs
/// from its own view; the store's compare lets only writes made from the
/// current state through, so what etcd holds is consistent (restoring it
/// would fail on a doubly allocated identifier), and every acknowledged
/// service is there. Without the compare both controllers' writes land and
/// this test fails.
#[tokio::test]
async fn two_controllers_writing_at_once_never_both_succeed() {
    let Some(etcd) = etcd_server::for_test("two_controllers_writing_at_once").await else {
        return;
    };
    let config = etcd.config_with_prefix("/race/");
    let (ra, rb) = (Recorder::new(), Recorder::new());
    let a = open(&config, &ra).await;
    let b = open(&config, &rb).await;
    let create = |c: Arc<Controller>, who: &'static str| async move {
        let mut outcomes = Vec::new();
        for i in 0..4u32 {
            let name = format!("{who}{i}");
            outcomes.push((name.clone(), c.create_service(lan(&name, 40 + i)).await));
        }
        outcomes
    };
    let (oa, ob) = tokio::join!(create(a.clone(), "a"), create(b.clone(), "b"));
    let acked: BTreeSet<String> = oa
        .iter()
        .chain(ob.iter())
        .filter_map(|(_, r)| r.as_ref().ok().map(|s| s.spec.clone().unwrap().name))
        .collect();
    let refused: Vec<&ApiError> = oa
        .iter()
        .chain(ob.iter())
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    assert!(!acked.is_empty());
    assert!(!refused.is_empty(), "both controllers' writes went through");
    for e in &refused {
        assert!(
            matches!(e, ApiError::Unavailable(m) if m.contains("another writer changed the store")),
            "{e}"
        );
    }
    // Only one controller ever wins: the other's view went stale with the
    // first write it did not make.
    let a_won = oa.iter().any(|(_, r)| r.is_ok());
    let b_won = ob.iter().any(|(_, r)| r.is_ok());
    assert!(a_won != b_won, "a: {oa:?}\nb: {ob:?}");
    // A refused create left nothing behind in the loser.
    let loser = if a_won { &b } else { &a };
    assert!(loser.list_services().is_empty());

    // What etcd holds restores (no identifier twice) and is exactly what
    // was acknowledged.
    let c = open(&config, &Recorder::new()).await;
    let services = c.list_services();
    let names: BTreeSet<String> = services
        .iter()
        .map(|s| s.spec.clone().unwrap().name)
        .collect();
    assert_eq!(names, acked);
    let evis: BTreeSet<u32> = services.iter().map(|s| s.evi).collect();
    let vnis: BTreeSet<u32> = services.iter().map(|s| s.vni).collect();
    assert_eq!(evis.len(), services.len());
    assert_eq!(vnis.len(), services.len());
}

/// A controller whose view is stale (someone else wrote since it loaded) is
/// refused, its device changes are put back, and its state is as before.
#[tokio::test]
async fn a_stale_controllers_write_is_refused_and_put_back() {
    let Some(etcd) = etcd_server::for_test("a_stale_controllers_write_is_refused").await else {
        return;
    };
    let config = etcd.config_with_prefix("/stale/");
    let (ra, rb) = (Recorder::new(), Recorder::new());
    let a = open(&config, &ra).await;
    let b = open(&config, &rb).await;
    a.create_service(lan("first", 50)).await.unwrap();
    let err = b.create_service(lan("second", 51)).await.unwrap_err();
    assert!(matches!(err, ApiError::Unavailable(_)), "{err}");
    assert!(b.list_services().is_empty());
    // b programmed the devices, then put them back when the commit failed:
    // every replace it sent was followed by its removal.
    let sets = rb.take();
    assert!(!sets.is_empty());
    let touched: BTreeSet<&String> = sets.iter().map(|(d, _)| d).collect();
    assert!(
        sets.iter().any(|(_, s)| !s.delete.is_empty()),
        "{touched:?}"
    );
    // Restarted, b sees a's service and can write again.
    drop(b);
    let b = open(&config, &rb).await;
    assert_eq!(b.list_services().len(), 1);
    b.create_service(lan("second", 51)).await.unwrap();
}

/// Each controller that opens the store takes a term greater than every
/// earlier one's: the election id its device writes are fenced with.
#[tokio::test]
async fn a_later_controller_takes_a_higher_term() {
    let Some(etcd) = etcd_server::for_test("a_later_controller_takes_a_higher_term").await else {
        return;
    };
    let config = etcd.config_with_prefix("/term/");
    let mut terms = Vec::new();
    for _ in 0..3 {
        let (store, _) = Store::open_etcd(&config).await.unwrap();
        let Store::Etcd(e) = &store else {
            panic!("not an etcd store")
        };
        terms.push(e.term());
    }
    assert!(
        terms[0] > 0 && terms[0] < terms[1] && terms[1] < terms[2],
        "{terms:?}"
    );
}

/// TLS to etcd: with the members' CA the store works; without it (plaintext
/// to a TLS member) start-up fails, naming the cluster.
#[tokio::test]
async fn the_store_talks_tls_to_etcd_with_the_given_ca() {
    if etcd_server::etcd_binary().is_none() {
        // Reported (or failed, in CI) the same way as the other tests.
        let _ = etcd_server::for_test("the_store_talks_tls_to_etcd").await;
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let creds = crate::security::pki::generate(certs.path()).unwrap();
    let tls = etcd_server::ServerTls {
        cert: creds.tls.cert.clone(),
        key: creds.tls.key.clone(),
        ca: certs.path().join(crate::security::pki::CA_FILE),
    };
    let etcd = etcd_server::EtcdServer::start_with(Some(tls))
        .await
        .unwrap();
    let config = etcd.config_with_prefix("/tls/");
    assert!(config.ca.is_some());
    let rec = Recorder::new();
    {
        let c = open(&config, &rec).await;
        c.create_service(lan("over-tls", 60)).await.unwrap();
    }
    let c = open(&config, &rec).await;
    assert_eq!(c.list_services().len(), 1);
    let plaintext = crate::store::etcd::EtcdConfig {
        ca: None,
        ..config.clone()
    };
    let Err(e) = Store::open_etcd(&plaintext).await else {
        panic!("plaintext to a TLS member was accepted")
    };
    assert!(e.to_string().contains("etcd://127.0.0.1:"), "{e}");
}

/// A replica follower's catch-up (`Controller::reload`, what
/// `replica::mirror` calls on every commit): the whole state read at one
/// revision becomes the follower's, resources included, and exactly what
/// changed is announced to its watchers.
#[tokio::test]
async fn a_follower_reload_becomes_the_leaders_state_and_announces_the_difference() {
    let Some(etcd) = etcd_server::for_test("a_follower_reload").await else {
        return;
    };
    let config = etcd.config_with_prefix("/mirror/");
    let leader = open(&config, &Recorder::new()).await;
    leader
        .create_policy(policy("p", "pe1", "pe2", 200))
        .await
        .unwrap();
    leader.create_service(lan("keep", 30)).await.unwrap();
    let drop = leader.create_service(lan("drop", 31)).await.unwrap();
    let snapshot = || async {
        let mut kv = crate::store::etcd::kv(crate::store::etcd::channel(&config).await.unwrap());
        crate::store::etcd::snapshot(&mut kv, &config)
            .await
            .unwrap()
            .0
    };
    let objects = |c: &Controller| {
        let (p, s, w) = everything(c);
        (p.len() + s.len() + w.len()) as u64
    };

    let follower = Controller::new(small(), Recorder::new(), None);
    let before = follower.events().revision();
    follower.reload(&snapshot().await).unwrap();
    assert_eq!(everything(&follower), everything(&leader));
    assert_eq!(
        super::tests::reservations(&follower),
        super::tests::reservations(&leader)
    );
    assert_eq!(
        follower.events().revision() - before,
        objects(&leader),
        "one event per object created"
    );
    // The same state again announces nothing.
    let before = follower.events().revision();
    follower.reload(&snapshot().await).unwrap();
    assert_eq!(follower.events().revision(), before);

    // A delete: gone on the follower too, with its resources given back.
    let had = objects(&leader);
    leader.delete_service(&drop.id, 0).await.unwrap();
    follower.reload(&snapshot().await).unwrap();
    assert_eq!(everything(&follower), everything(&leader));
    assert_eq!(
        super::tests::reservations(&follower),
        super::tests::reservations(&leader)
    );
    assert_eq!(
        follower.events().revision() - before,
        had - objects(&leader),
        "one event per object deleted"
    );
    // Its identifiers are free again on the follower, as on the leader.
    assert!(follower.read().evis.check_free(drop.evi).is_ok());
}
