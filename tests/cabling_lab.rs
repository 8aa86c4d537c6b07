//! The cabling check on loopback: the simulated routers advertise LLDP as
//! the topology cables them; crossing two patch cords (fault injection over
//! the lab's API) makes exactly one miscabled event per link that now
//! disagrees, seen on the real northbound Watch stream, and plugging them
//! back makes exactly one "agrees again" event each.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use strata::proto::strata::sim::v1 as sim;
use strata::proto::strata::v1 as api;
use tokio_stream::StreamExt;

type Seen = Arc<Mutex<Vec<api::CablingEvent>>>;

fn count(seen: &Seen, link: &str, miscabled: bool) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|e| e.link == link && e.miscabled == miscabled)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crossed_pair_of_cords_raises_one_event_per_link_and_plugging_back_one_more() {
    let topo = small_topology();
    let lab = start_api_lab(&topo).await;
    let mut events = api::events_client::EventsClient::connect(lab.endpoint.clone())
        .await
        .unwrap();
    let mut stream = events
        .watch(api::WatchRequest { from_revision: 0 })
        .await
        .unwrap()
        .into_inner();
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    tokio::spawn(async move {
        while let Some(Ok(e)) = stream.next().await {
            if let Some(api::event::Object::Cabling(c)) = e.object {
                sink.lock().unwrap().push(c);
            }
        }
    });

    // The controller hears every router's neighbors, as cabled.
    let heard = |node: &str, port: &str| {
        lab.lab
            .ingest
            .neighbors(node)
            .get(port)
            .and_then(|h| h.whole())
    };
    assert!(
        eventually(Duration::from_secs(10), || heard(
            "pe1",
            &topo.link("pe1-pe2").unwrap().a.interface
        )
        .is_some())
        .await,
        "LLDP neighbors reach the controller"
    );
    for l in topo
        .links
        .iter()
        .filter(|l| l.layer == strata::model::Layer::Packet)
    {
        let want = Some((l.b.node.clone(), l.b.interface.clone()));
        assert!(
            eventually(Duration::from_secs(10), || heard(&l.a.node, &l.a.interface)
                == want)
            .await,
            "{} hears {:?}",
            l.a.node,
            want
        );
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "cabled as the topology says: no news"
    );

    let mut faults =
        sim::fault_injection_client::FaultInjectionClient::connect(lab.endpoint.clone())
            .await
            .unwrap();
    let refused = faults
        .miscable_links(sim::MiscableRequest {
            first: "pe1-pe2".into(),
            second: "ot1-ot2".into(),
        })
        .await
        .expect_err("a fiber has no LLDP");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    faults
        .miscable_links(sim::MiscableRequest {
            first: "pe1-pe2".into(),
            second: "pe2-pe3".into(),
        })
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || count(&seen, "pe1-pe2", true)
            == 1
            && count(&seen, "pe2-pe3", true) == 1)
        .await,
        "both crossed links announced: {:?}",
        seen.lock().unwrap()
    );
    // Every end has reported by now (several measure rounds): still one each.
    tokio::time::sleep(Duration::from_secs(2)).await;
    {
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.len(),
            2,
            "exactly one event per miscabled link: {seen:?}"
        );
        let e = seen.iter().find(|e| e.link == "pe1-pe2").unwrap();
        let a = topo.link("pe1-pe2").unwrap();
        let b = topo.link("pe2-pe3").unwrap();
        // pe1-pe2's a-end hears pe2-pe3's b-end now, or its b-end its a-end.
        assert!(
            e.ends.iter().any(|end| (end.node == a.a.node
                && end.heard_node == b.b.node
                && end.heard_interface == b.b.interface)
                || (end.node == a.b.node
                    && end.heard_node == b.a.node
                    && end.heard_interface == b.a.interface)),
            "the event says who is heard instead: {e:?}"
        );
    }
    // The other link is untouched.
    assert_eq!(count(&seen, "pe1-pe3", true), 0);

    faults
        .restore_link(sim::LinkRequest {
            link: "pe2-pe3".into(),
        })
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || count(&seen, "pe1-pe2", false)
            == 1
            && count(&seen, "pe2-pe3", false) == 1)
        .await,
        "both agree again: {:?}",
        seen.lock().unwrap()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(seen.lock().unwrap().len(), 4, "{:?}", seen.lock().unwrap());
    lab.daemon.shutdown().await;
}
