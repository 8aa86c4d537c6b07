//! The operator web view served by a lab: the page, the topology JSON the map
//! is drawn from, and the pushed event stream (a breach after a fault).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("web port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: strata\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP response");
    (head.to_string(), body.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_view_serves_the_page_topology_and_pushes_a_breach() {
    let topology = common::us_metro();
    let options = strata::lab::LabOptions {
        web: Some("127.0.0.1:0".parse().unwrap()),
        security: strata::lab::LabSecurity::Insecure,
        ..common::closed_loop_lab_options()
    };
    let lab = strata::lab::Lab::start(&topology, &options)
        .await
        .expect("lab starts");
    let web = lab.web().expect("the web view is on");
    assert_ne!(web.port(), 0, "the bound port is reported");
    assert!(
        common::eventually(Duration::from_secs(30), || lab.state.counts().up
            == topology.nodes.len())
        .await
    );

    let (head, page) = tokio::task::spawn_blocking(move || get(web, "/"))
        .await
        .unwrap();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    assert!(
        page.contains("<svg") && page.contains("/app.js"),
        "the page: {page}"
    );
    let (_, js) = tokio::task::spawn_blocking(move || get(web, "/app.js"))
        .await
        .unwrap();
    assert!(js.contains("EventSource"), "the script is served");

    let (_, body) = tokio::task::spawn_blocking(move || get(web, "/api/topology"))
        .await
        .unwrap();
    let topo: serde_json::Value = serde_json::from_str(&body).expect("topology JSON");
    let nodes = topo["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), topology.nodes.len());
    for n in nodes {
        assert!(n["lat"].is_f64() && n["lon"].is_f64(), "{n} has lat/lon");
    }
    let links = topo["links"].as_array().expect("links");
    assert_eq!(links.len(), topology.links.len());
    for l in links {
        let layer = l["layer"].as_str().unwrap_or("");
        assert!(["packet", "optical", "fiber"].contains(&layer), "{l}");
    }

    // The stream: a snapshot first, then the breach the fault causes.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let Ok(mut s) = TcpStream::connect(web) else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
        let _ = write!(s, "GET /api/events HTTP/1.0\r\nHost: strata\r\n\r\n");
        for line in BufReader::new(s).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_for = |what: &dyn Fn(&str) -> bool, within: Duration| -> bool {
        let end = Instant::now() + within;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) if what(&line) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    };
    assert!(
        wait_for(&|l| l == "event: snapshot", Duration::from_secs(10)),
        "the stream opens with a snapshot"
    );
    lab.fabric
        .impair("cmh-nva-p1", 3000, 0.0)
        .expect("impair the link");
    let breach = |l: &str| {
        l.starts_with("data: ") && l.contains("\"kind\":\"breach\"") && l.contains("cmh-nva-p1")
    };
    let seen = tokio::task::block_in_place(|| wait_for(&breach, Duration::from_secs(20)));
    assert!(seen, "the breach of cmh-nva-p1 is pushed on /api/events");
    lab.shutdown().await;
}
