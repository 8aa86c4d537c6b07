//! The operator web view served by a lab: the page, the topology JSON the map
//! is drawn from, and the pushed event stream (a breach after a fault).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One HTTP/1.0 exchange; `extra` is more header lines (and a body after a
/// blank line, for a POST).
fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("web port");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "{method} {path} HTTP/1.0\r\nHost: strata\r\n{extra}").unwrap();
    if !extra.contains("\r\n\r\n") {
        write!(s, "\r\n").unwrap();
    }
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP response");
    (head.to_string(), body.to_string())
}

/// A GET as the lab's admin (bearer token).
fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let token = ADMIN_TOKEN.get().expect("the lab's token");
    request(
        addr,
        "GET",
        path,
        &format!("Authorization: Bearer {token}\r\n"),
    )
}

static ADMIN_TOKEN: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn status(head: &str) -> u16 {
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn cookie(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_view_serves_the_page_topology_and_pushes_a_breach() {
    let topology = common::us_metro();
    let credentials = tempfile::tempdir().unwrap();
    let options = strata::lab::LabOptions {
        web: Some("127.0.0.1:0".parse().unwrap()),
        security: strata::lab::LabSecurity::generate(credentials.path()).unwrap(),
        ..common::closed_loop_lab_options()
    };
    let token = std::fs::read_to_string(credentials.path().join("admin.token")).unwrap();
    ADMIN_TOKEN.set(token.trim().to_string()).unwrap();
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
        let token = ADMIN_TOKEN.get().cloned().unwrap_or_default();
        let _ = write!(
            s,
            "GET /api/events HTTP/1.0\r\nHost: strata\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
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
    assert!(
        std::net::TcpStream::connect(web).is_err(),
        "the web view stops with the daemon (its task is tracked, not left behind)"
    );
}

/// The view is behind the API's authentication: nothing without a session or
/// a token; a one-time link and a token sign in; revoking the token ends the
/// sessions opened with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_view_lets_in_only_signed_in_callers() {
    let topology = common::small_topology();
    let credentials = tempfile::tempdir().unwrap();
    let security = strata::lab::LabSecurity::generate(credentials.path()).unwrap();
    let options = strata::lab::LabOptions {
        web: Some("127.0.0.1:0".parse().unwrap()),
        security,
        ..common::closed_loop_lab_options()
    };
    let lab = strata::lab::Lab::start(&topology, &options)
        .await
        .expect("lab starts");
    let web = lab.web().expect("the web view is on");
    let token = std::fs::read_to_string(credentials.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let link = lab.web_sign_in().expect("a secure lab has a sign-in link");
    let principals = credentials.path().join("principals.toml");
    tokio::task::spawn_blocking(move || {
        // Nobody: the page redirects to sign in, the JSON is 401.
        let (head, _) = request(web, "GET", "/", "");
        assert_eq!(status(&head), 303, "{head}");
        assert!(head.to_lowercase().contains("location: /login"), "{head}");
        for path in ["/api/state", "/api/topology", "/api/events"] {
            let (head, body) = request(web, "GET", path, "");
            assert_eq!(status(&head), 401, "{path}: {head}");
            assert!(body.contains("not signed in"), "{body}");
        }
        let (head, _) = request(web, "GET", "/api/state", "Authorization: Bearer nope\r\n");
        assert_eq!(status(&head), 401);
        let (head, page) = request(web, "GET", "/login", "");
        assert_eq!(status(&head), 200);
        assert!(page.contains("<form"), "{page}");

        // The one-time link signs in once.
        let (head, _) = request(web, "GET", &link, "");
        assert_eq!(status(&head), 303, "{head}");
        let session = cookie(&head).expect("a session cookie");
        assert!(head.contains("HttpOnly") && head.contains("SameSite=Strict"), "{head}");
        let (head, page) = request(web, "GET", "/", &format!("Cookie: {session}\r\n"));
        assert_eq!(status(&head), 200, "{head}");
        assert!(page.contains("<svg"));
        let (head, _) = request(web, "GET", &link, "");
        assert_eq!(status(&head), 401, "the link is spent: {head}");

        // A token signs in through the form; revoking it ends the session.
        let body = format!("token={token}");
        let (head, _) = request(
            web,
            "POST",
            "/login",
            &format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        );
        assert_eq!(status(&head), 303, "{head}");
        let by_token = cookie(&head).expect("a session cookie");
        let ok = |c: &str| {
            status(&request(web, "GET", "/api/state", &format!("Cookie: {c}\r\n")).0) == 200
        };
        assert!(ok(&by_token));
        let (head, _) = request(
            web,
            "POST",
            "/login",
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\ntoken=wrong",
        );
        assert_eq!(status(&head), 401);
        std::fs::write(&principals, "# everyone revoked\n").unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        while ok(&by_token) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(!ok(&by_token), "the token's session ends with the token");
    })
    .await
    .unwrap();
    lab.shutdown().await;
}
