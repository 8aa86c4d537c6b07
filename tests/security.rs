//! The northbound API trusts no one by default: a lab serves TLS with its own
//! throwaway CA and lets in only callers it knows, as their role allows —
//! proved through the real API on loopback, as an attacker on the host would
//! try it. mTLS identities and the controller's refusal to start open are
//! here too.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;
use strata::northbound::ControllerApi;

use strata::lab::{Lab, LabSecurity};
use strata::proto::strata::sim::v1 as sim;
use strata::proto::strata::v1 as api;
use strata::security::client::{Authed, ClientCredentials};
use strata::security::pki::LabCredentials;
use strata::security::principals::{hex, sha256, token_entry};
use strata::security::{Role, TlsFiles};
use tonic::Code;

async fn secure_lab(security: LabSecurity) -> Lab {
    let topology = common::small_topology();
    let options = strata::lab::LabOptions {
        security,
        ..common::closed_loop_lab_options()
    };
    let lab = Lab::start(&topology, &options).await.expect("lab starts");
    assert!(
        common::eventually(Duration::from_secs(20), || lab.state.counts().up
            == topology.nodes.len())
        .await
    );
    lab
}

fn with_token(dir: &Path, token: &str) -> ClientCredentials {
    ClientCredentials {
        token: Some(token.to_string()),
        ..ClientCredentials::from_dir(dir).unwrap()
    }
}

async fn channel(lab: &Lab, creds: &ClientCredentials) -> Authed {
    creds.connect(&lab.api.to_string()).await.expect("connects")
}

async fn list_nodes(ch: Authed) -> Result<usize, tonic::Status> {
    api::topology_client::TopologyClient::new(ch)
        .list_nodes(api::ListNodesRequest::default())
        .await
        .map(|r| r.into_inner().nodes.len())
}

async fn create_policy(ch: Authed, name: &str) -> Result<api::Policy, tonic::Status> {
    api::policies_client::PoliciesClient::new(ch)
        .create_policy(api::CreatePolicyRequest {
            request_id: String::new(),
            spec: Some(api::PolicySpec {
                name: name.into(),
                headend: "pe1".into(),
                endpoint: "pe2".into(),
                color: 10,
                constraints: None,
            }),
        })
        .await
        .map(|r| r.into_inner())
}

async fn restore_link(ch: Authed) -> Result<(), tonic::Status> {
    sim::fault_injection_client::FaultInjectionClient::new(ch)
        .restore_link(sim::LinkRequest {
            link: "pe1-pe2".into(),
        })
        .await
        .map(|_| ())
}

fn code<T: std::fmt::Debug>(r: Result<T, tonic::Status>) -> Code {
    match r {
        Ok(v) => panic!("expected a refusal, got {v:?}"),
        Err(s) => s.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lab_lets_in_only_known_callers_and_only_as_their_role_allows() {
    let tmp = tempfile::tempdir().unwrap();
    let security = LabSecurity::generate(&tmp.path().join("credentials")).unwrap();
    let LabSecurity::Generated(creds) = security.clone() else {
        unreachable!()
    };
    let lab = secure_lab(security).await;
    let admin = ClientCredentials::from_dir(&creds.dir).unwrap();
    let links_before = list_nodes(channel(&lab, &admin).await).await.unwrap();
    assert_eq!(links_before, 5);

    // Plaintext to the TLS port gets nowhere.
    match ClientCredentials::insecure()
        .connect(&lab.api.to_string())
        .await
    {
        Err(_) => {}
        // h2 over a TLS socket: the call fails (how depends on timing).
        Ok(ch) => {
            code(list_nodes(ch).await);
        }
    }
    // TLS against a CA that is not the lab's fails the handshake.
    let stranger = tempfile::tempdir().unwrap();
    LabSecurity::generate(stranger.path()).unwrap();
    let wrong_ca = ClientCredentials::from_dir(stranger.path()).unwrap();
    match wrong_ca.connect(&lab.api.to_string()).await {
        Err(e) => assert!(format!("{e:#}").contains("certificate"), "{e:#}"),
        Ok(ch) => assert_eq!(code(list_nodes(ch).await), Code::Unavailable),
    }

    // No token, a wrong token, a malformed header: UNAUTHENTICATED; the
    // health service alone answers anyone.
    let anonymous = ClientCredentials {
        token: None,
        ..admin.clone()
    };
    assert_eq!(
        code(list_nodes(channel(&lab, &anonymous).await).await),
        Code::Unauthenticated
    );
    assert_eq!(
        code(create_policy(channel(&lab, &anonymous).await, "p").await),
        Code::Unauthenticated
    );
    let health =
        tonic_health::pb::health_client::HealthClient::new(channel(&lab, &anonymous).await)
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await;
    assert!(health.is_ok(), "{health:?}");
    let forged = with_token(&creds.dir, "strata_0000");
    assert_eq!(
        code(list_nodes(channel(&lab, &forged).await).await),
        Code::Unauthenticated
    );

    // A viewer and an operator, added while the lab runs.
    let original = std::fs::read_to_string(&creds.principals).unwrap();
    std::fs::write(
        &creds.principals,
        format!(
            "{original}{}{}",
            token_entry("noc", Role::Viewer, "viewer-token"),
            token_entry("ops", Role::Operator, "operator-token")
        ),
    )
    .unwrap();
    let viewer = with_token(&creds.dir, "viewer-token");
    let operator = with_token(&creds.dir, "operator-token");
    let mut reloaded = false;
    for _ in 0..100 {
        if list_nodes(channel(&lab, &viewer).await).await.is_ok() {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        reloaded,
        "a token added to the principals file is honoured without a restart"
    );
    let denied = create_policy(channel(&lab, &viewer).await, "viewer-policy")
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied.message().contains("noc is a viewer") && denied.message().contains("orchestrator"),
        "{}",
        denied.message()
    );
    assert_eq!(
        code(restore_link(channel(&lab, &viewer).await).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(create_policy(channel(&lab, &operator).await, "ops-policy").await),
        Code::PermissionDenied
    );
    restore_link(channel(&lab, &operator).await)
        .await
        .expect("an operator injects and clears faults");
    assert!(
        lab.controller.list_policies("", "").is_empty(),
        "nothing was created by those refused"
    );
    let made = create_policy(channel(&lab, &admin).await, "admin-policy")
        .await
        .expect("the admin creates");
    assert_eq!(lab.controller.list_policies("", "").len(), 1);
    assert_eq!(made.spec.unwrap().name, "admin-policy");

    // Changing the topology is an admin's: an operator is refused, an admin
    // may (a dry run here, which changes nothing).
    let remove = |dry_run| api::RemoveLinkRequest {
        name: "pe2-pe3".into(),
        dry_run,
    };
    let refused =
        api::topology_changes_client::TopologyChangesClient::new(channel(&lab, &operator).await)
            .remove_link(remove(false))
            .await;
    assert_eq!(code(refused), Code::PermissionDenied);
    let dry = api::topology_changes_client::TopologyChangesClient::new(channel(&lab, &admin).await)
        .remove_link(remove(true))
        .await
        .expect("an admin may change the topology")
        .into_inner();
    assert!(!dry.applied);
    assert_eq!(dry.steps.len(), 1);

    // Revoked: the viewer's token stops working without a restart.
    std::fs::write(&creds.principals, &original).unwrap();
    let mut revoked = false;
    for _ in 0..100 {
        if list_nodes(channel(&lab, &viewer).await)
            .await
            .err()
            .map(|s| s.code())
            == Some(Code::Unauthenticated)
        {
            revoked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        revoked,
        "a token removed from the principals file is refused"
    );
    lab.shutdown().await;
}

/// A CA, a server certificate for loopback and two client certificates,
/// one from a CA the server does not trust.
fn mtls_credentials(
    dir: &Path,
) -> (
    LabCredentials,
    (std::path::PathBuf, std::path::PathBuf),
    (std::path::PathBuf, std::path::PathBuf),
) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca = |name: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = p.self_signed(&key).unwrap();
        (cert, Issuer::new(p, key))
    };
    let leaf = |names: Vec<String>, issuer: &Issuer<'_, KeyPair>| {
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, issuer)
            .unwrap();
        (cert, key)
    };
    let (ca_cert, issuer) = ca("test CA");
    let (_, rogue) = ca("rogue CA");
    let (server, server_key) = leaf(vec!["127.0.0.1".into(), "localhost".into()], &issuer);
    let (client, client_key) = leaf(vec!["nms.example".into()], &issuer);
    let (impostor, impostor_key) = leaf(vec!["nms.example".into()], &rogue);
    let w = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let ca_file = w("ca.pem", ca_cert.pem());
    let creds = LabCredentials {
        dir: dir.to_path_buf(),
        tls: TlsFiles {
            cert: w("server.pem", server.pem()),
            key: w("server.key", server_key.serialize_pem()),
            client_ca: Some(ca_file),
        },
        principals: w(
            "principals.toml",
            format!(
                "[[certificate]]\nname = \"nms\"\nrole = \"orchestrator\"\nsha256 = \"{}\"\n",
                hex(&sha256(client.der()))
            ),
        ),
        admin_token: w("admin.token", "unused-here\n".into()),
        // Devices plaintext here: this test is about the API's mTLS.
        ca: None,
    };
    let good = (
        w("client.pem", client.pem()),
        w("client.key", client_key.serialize_pem()),
    );
    let bad = (
        w("impostor.pem", impostor.pem()),
        w("impostor.key", impostor_key.serialize_pem()),
    );
    (creds, good, bad)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_certificate_is_an_identity_when_the_principals_file_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (creds, good, bad) = mtls_credentials(tmp.path());
    let lab = secure_lab(LabSecurity::Generated(Box::new(creds.clone()))).await;
    let as_client = |identity| ClientCredentials {
        ca: Some(creds.dir.join("ca.pem")),
        token: None,
        identity: Some(identity),
        insecure: false,
        source: "test".into(),
    };
    let nms = as_client(good);
    let made = create_policy(channel(&lab, &nms).await, "by-certificate")
        .await
        .expect("the certificate's principal is an orchestrator");
    assert_eq!(made.spec.unwrap().name, "by-certificate");
    // A certificate from another CA does not get through the handshake.
    let impostor = as_client(bad);
    match impostor.connect(&lab.api.to_string()).await {
        Err(_) => {}
        Ok(ch) => assert_ne!(code(list_nodes(ch).await), Code::Ok),
    }
    // No certificate and no token: a valid TLS connection, but nobody.
    let nobody = ClientCredentials {
        identity: None,
        ..nms.clone()
    };
    assert_eq!(
        code(list_nodes(channel(&lab, &nobody).await).await),
        Code::Unauthenticated
    );
    assert_eq!(lab.controller.list_policies("", "").len(), 1);
    lab.shutdown().await;
}

fn strata(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env(
            "STRATA_DATA_DIR",
            std::env::temp_dir().join("strata-security-test-unused"),
        )
        .output()
        .expect("strata runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_controller_refuses_to_serve_an_open_api_unless_told_to() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (ok, err) = strata(&[
        "controller",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--insecure",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--gnmi-ca") && err.contains("--gnmi-insecure"),
        "{err}"
    );
    let base = [
        "controller",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--gnmi-insecure",
    ];
    let (ok, err) = strata(&base);
    assert!(!ok);
    assert!(
        err.contains("--tls-cert") && err.contains("--insecure"),
        "{err}"
    );
    let (ok, err) = strata(&[&base[..], &["--tls-cert", "x.pem"]].concat());
    assert!(!ok);
    assert!(err.contains("go together"), "{err}");
    let creds = strata::security::pki::generate(&data.path().join("c")).unwrap();
    let (cert, key) = (
        creds.tls.cert.to_str().unwrap().to_string(),
        creds.tls.key.to_str().unwrap().to_string(),
    );
    let (ok, err) = strata(&[&base[..], &["--tls-cert", &cert, "--tls-key", &key]].concat());
    assert!(!ok);
    assert!(err.contains("--principals"), "{err}");
}

#[test]
fn strata_token_prints_a_token_and_the_entry_that_admits_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["token", "nms", "--role", "orchestrator"])
        .output()
        .expect("strata runs");
    assert!(out.status.success());
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let entry = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(token.starts_with("strata_") && token.len() > 60, "{token}");
    assert!(!entry.contains(&token), "the entry holds the digest only");
    let principals = strata::security::principals::Principals::parse(&entry).unwrap();
    let p = principals
        .by_token(&token)
        .expect("the entry admits the token");
    assert_eq!((p.name.as_str(), p.role), ("nms", Role::Orchestrator));
    let (ok, _) = strata(&["token", "x", "--role", "root"]);
    assert!(!ok, "an unknown role is refused");
}

/// A device that guards its gNMI port as a real one does (TLS under its
/// name, a login) lets the controller in only with the right CA and login,
/// and says why not otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_southbound_verifies_devices_and_presents_its_login() {
    use std::sync::Arc;
    use strata::simulators::fabric::{SimFabric, SimOptions, SimSecurity};
    use strata::southbound::credentials::{DeviceCredentials, DeviceTls, Login};
    use strata::southbound::{DeviceTarget, Southbound};
    use strata::state::{FabricState, SessionState};

    let topology = common::small_topology();
    let tmp = tempfile::tempdir().unwrap();
    let creds = strata::security::pki::generate(tmp.path()).unwrap();
    let ca = creds.ca.clone().unwrap();
    let mut identities = std::collections::HashMap::new();
    for n in &topology.nodes {
        let (c, k) = ca.issue_device(&n.name).unwrap();
        identities.insert(n.name.clone(), (c.into_bytes(), k.into_bytes()));
    }
    let fabric = SimFabric::with_security(
        &topology,
        SimOptions {
            ephemeral_ports: true,
            ..Default::default()
        },
        SimSecurity {
            identities: Arc::new(identities),
            login: Some(("strata".into(), "right".into())),
        },
    );
    fabric.start().await.unwrap();
    let stranger = tempfile::tempdir().unwrap();
    let other_ca = strata::security::pki::generate(stranger.path())
        .unwrap()
        .ca
        .unwrap();
    let tls = |ca: &strata::security::pki::LabCa| {
        Some(DeviceTls {
            ca_pem: Arc::new(ca.cert_pem().as_bytes().to_vec()),
            identity: None,
        })
    };
    let login = |password: &str| {
        Some(Login {
            username: "strata".into(),
            password: password.into(),
        })
    };
    let cases = [
        ("right", tls(&ca), login("right"), None),
        (
            "wrong-password",
            tls(&ca),
            login("wrong"),
            Some("bad username or password"),
        ),
        (
            "no-login",
            tls(&ca),
            None,
            Some("username and password metadata are required"),
        ),
        (
            "wrong-ca",
            tls(&other_ca),
            login("right"),
            Some("invalid peer certificate"),
        ),
        (
            "plaintext",
            None,
            login("right"),
            Some("Capabilities failed"),
        ),
    ];
    let mut southbounds = Vec::new();
    for (case, tls, login, _) in &cases {
        let state = Arc::new(FabricState::default());
        let sb = Southbound::new(
            state.clone(),
            Arc::new(strata::telemetry::Ingest::default()),
            strata::southbound::SessionConfig {
                credentials: DeviceCredentials {
                    tls: tls.clone(),
                    login: login.clone(),
                    files: Default::default(),
                },
                ..common::fast_sessions()
            },
        );
        sb.add_device(DeviceTarget {
            name: "pe1".into(),
            role: strata::model::Role::Packet,
            address: fabric.address("pe1").unwrap(),
            router_id: None,
        });
        southbounds.push((case, state, sb));
    }
    for ((case, state, _), (_, _, _, refusal)) in southbounds.iter().zip(&cases) {
        let settled = common::eventually(Duration::from_secs(10), || {
            state.device("pe1").is_some_and(|d| match refusal {
                None => d.state == SessionState::Up,
                Some(_) => d.last_error.is_some(),
            })
        })
        .await;
        let d = state.device("pe1").unwrap();
        assert!(settled, "{case}: {d:?}");
        if let Some(words) = refusal {
            assert_ne!(d.state, SessionState::Up, "{case}");
            let e = d.last_error.unwrap();
            assert!(e.contains(words), "{case}: {e:?} lacks {words:?}");
        }
    }
}

async fn audit_trail(lab: &Lab, creds: &ClientCredentials) -> Vec<api::AuditRecord> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let page = api::audit_client::AuditClient::new(channel(lab, creds).await)
            .list_audit(api::ListAuditRequest {
                page_size: 2,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("an admin reads the audit trail")
            .into_inner();
        out.extend(page.records);
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

/// Every change and every refusal is on the record — who, what, how it
/// ended — durable across a restart; successful reads are not; only admins
/// read it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_records_changes_and_refusals_and_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let security = LabSecurity::generate(&tmp.path().join("credentials")).unwrap();
    let LabSecurity::Generated(creds) = security.clone() else {
        unreachable!()
    };
    std::fs::write(
        &creds.principals,
        format!(
            "{}{}",
            std::fs::read_to_string(&creds.principals).unwrap(),
            token_entry("noc", Role::Viewer, "viewer-token")
        ),
    )
    .unwrap();
    let topology = common::small_topology();
    let options = strata::lab::LabOptions {
        security,
        data_dir: Some(data.clone()),
        ..common::closed_loop_lab_options()
    };
    let lab = Lab::start(&topology, &options).await.expect("lab starts");
    assert!(common::eventually(Duration::from_secs(20), || lab.state.counts().up == 5).await);
    let admin = ClientCredentials::from_dir(&creds.dir).unwrap();
    let viewer = with_token(&creds.dir, "viewer-token");
    list_nodes(channel(&lab, &viewer).await).await.unwrap();
    assert_eq!(
        code(create_policy(channel(&lab, &viewer).await, "nope").await),
        Code::PermissionDenied
    );
    let made = create_policy(channel(&lab, &admin).await, "audited")
        .await
        .unwrap();
    let refused = api::audit_client::AuditClient::new(channel(&lab, &viewer).await)
        .list_audit(api::ListAuditRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    let trail = audit_trail(&lab, &admin).await;
    let summary: Vec<(String, String, String, String)> = trail
        .iter()
        .map(|r| {
            (
                r.principal.clone(),
                r.method.clone(),
                r.code.clone(),
                r.object.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "noc".into(),
                "/strata.v1.Policies/CreatePolicy".into(),
                "PERMISSION_DENIED".into(),
                String::new()
            ),
            (
                "lab-admin".into(),
                "/strata.v1.Policies/CreatePolicy".into(),
                "OK".into(),
                made.id.clone()
            ),
            (
                "noc".into(),
                "/strata.v1.Audit/ListAudit".into(),
                "PERMISSION_DENIED".into(),
                String::new()
            ),
        ],
        "the viewer's successful read is not on the record: {trail:#?}"
    );
    assert!(
        trail.iter().all(|r| r.peer.starts_with("127.0.0.1:")),
        "{trail:?}"
    );
    assert!(trail.windows(2).all(|w| w[0].sequence + 1 == w[1].sequence));
    lab.shutdown().await;

    // A restart keeps the trail and numbers on.
    let lab = Lab::start(&topology, &options).await.expect("lab restarts");
    assert!(common::eventually(Duration::from_secs(20), || lab.state.counts().up == 5).await);
    let delete = api::policies_client::PoliciesClient::new(channel(&lab, &admin).await)
        .delete_policy(api::DeletePolicyRequest {
            id: made.id.clone(),
            revision: 0,
        })
        .await;
    assert!(delete.is_ok(), "{delete:?}");
    let after = audit_trail(&lab, &admin).await;
    assert_eq!(
        &after[..3],
        &trail[..],
        "the records before the restart are kept"
    );
    let last = after.last().unwrap();
    assert_eq!(
        (
            last.method.as_str(),
            last.object.as_str(),
            last.code.as_str()
        ),
        ("/strata.v1.Policies/DeletePolicy", made.id.as_str(), "OK")
    );
    assert!(last.sequence > trail.last().unwrap().sequence);
    lab.shutdown().await;
}

/// A renewed certificate takes effect without a restart: new connections
/// get it, verified against its (new) CA; the old CA no longer verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_is_served_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("credentials");
    let lab = secure_lab(LabSecurity::generate(&dir).unwrap()).await;
    let before = ClientCredentials::from_dir(&dir).unwrap();
    assert_eq!(list_nodes(channel(&lab, &before).await).await.unwrap(), 5);
    // Everything renewed in place: a new CA, certificate, key and token.
    strata::security::pki::generate(&dir).unwrap();
    let after = ClientCredentials::from_dir(&dir).unwrap();
    let mut served = false;
    for _ in 0..100 {
        if let Ok(ch) = after.connect(&lab.api.to_string()).await {
            if list_nodes(ch).await.is_ok() {
                served = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "the new certificate and token are honoured");
    match before.connect(&lab.api.to_string()).await {
        Err(_) => {}
        Ok(ch) => {
            code(list_nodes(ch).await);
        }
    }
    lab.shutdown().await;
}
