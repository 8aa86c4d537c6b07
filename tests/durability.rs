//! Durability and reconciliation in a lab on loopback: a device that restarts
//! empty gets its Strata configuration back once it reconnects, and a journal
//! with a damaged tail is reported at start-up with its valid prefix restored.

mod common;

use std::time::{Duration, Instant};

use common::*;
use strata::lab::{Lab, LabOptions};
use strata::proto::strata::v1 as api;
use strata::simulators::fabric::SimOptions;
use strata::telemetry::health::HealthConfig;

fn options(data: &std::path::Path) -> LabOptions {
    LabOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        sim: SimOptions {
            measure_interval: Duration::from_millis(200),
            ephemeral_ports: true,
        },
        sessions: strata::southbound::SessionConfig {
            sample_interval: Duration::from_millis(500),
            ..fast_sessions()
        },
        health: HealthConfig::default(),
        duration: None,
        metrics: None,
        data_dir: Some(data.to_path_buf()),
        // Long enough that only the reconnect can be what restores a device.
        reconcile_interval: Duration::from_secs(3600),
        web: None,
    }
}

async fn provision(lab: &Lab) -> (api::Service, api::Wavelength) {
    let c = &lab.controller;
    let svc = c
        .create_service(api::CreateServiceRequest {
            request_id: "eline-1".into(),
            spec: Some(api::ServiceSpec {
                name: "eline".into(),
                r#type: api::ServiceType::ELine as i32,
                attachments: ["pe1", "pe3"]
                    .iter()
                    .map(|d| api::Attachment {
                        device: d.to_string(),
                        interface: "ce-0/1/0".into(),
                        vlan: 70,
                    })
                    .collect(),
                bandwidth_gbps: 10.0,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let wl = c
        .create_wavelength(api::CreateWavelengthRequest {
            request_id: "wl-1".into(),
            spec: Some(api::WavelengthSpec {
                name: "wl".into(),
                a: "ot1".into(),
                b: "ot2".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    (svc, wl)
}

async fn all_up(lab: &Lab, n: usize) {
    assert!(
        eventually(Duration::from_secs(20), || lab.state.counts().up == n).await,
        "sessions up: {:?}",
        lab.state.counts()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_restarted_empty_gets_its_config_back_on_reconnect() {
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let lab = Lab::start(&topo, &options(dir.path())).await.unwrap();
    all_up(&lab, topo.nodes.len()).await;
    provision(&lab).await;
    for device in ["pe1", "ot1"] {
        let before = device_config(&lab.fabric, device);
        let connects = lab.state.device(device).unwrap().connects;
        lab.fabric.crash(device).await.unwrap();
        lab.fabric.restart(device, true).await.unwrap();
        assert_ne!(
            device_config(&lab.fabric, device),
            before,
            "{device} came back empty"
        );
        // Reconnected …
        assert!(
            eventually(Duration::from_secs(10), || {
                lab.state
                    .device(device)
                    .is_some_and(|d| d.connects > connects)
            })
            .await
        );
        let reconnected = Instant::now();
        // … and restored by reconciliation (the periodic pass is an hour away).
        assert!(
            eventually(Duration::from_secs(10), || device_config(
                &lab.fabric,
                device
            ) == before)
            .await,
            "{device} was not restored"
        );
        eprintln!(
            "{device}: config back {:?} after the session came up",
            reconnected.elapsed()
        );
    }
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_tail_is_reported_and_the_prefix_restored() {
    let topo = small_topology();
    let dir = tempfile::tempdir().unwrap();
    let (svc, wl) = {
        let lab = Lab::start(&topo, &options(dir.path())).await.unwrap();
        all_up(&lab, topo.nodes.len()).await;
        let made = provision(&lab).await;
        lab.shutdown().await;
        made
    };
    // A write torn by a crash: garbage after the last whole frame.
    let journal = dir.path().join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let valid = bytes.len() as u64;
    bytes.extend_from_slice(&[0x40, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3]);
    std::fs::write(&journal, &bytes).unwrap();

    let lab = Lab::start(&topo, &options(dir.path())).await.unwrap();
    let restored = lab.restored().expect("journaled lab").clone();
    assert!(restored
        .recovery
        .problem
        .as_ref()
        .unwrap()
        .contains("torn frame"));
    assert_eq!(restored.recovery.valid_bytes, valid);
    assert_eq!(restored.recovery.discarded_bytes, 11);
    assert!(restored.recovery.saved_tail.as_ref().unwrap().exists());
    assert_eq!(
        std::fs::metadata(&journal).unwrap().len(),
        valid,
        "tail cut off"
    );
    assert_eq!(lab.controller.get_service(&svc.id).unwrap(), svc);
    assert_eq!(lab.controller.get_wavelength(&wl.id).unwrap(), wl);
    // Retried creates still answer with the same objects.
    let (svc2, wl2) = provision(&lab).await;
    assert_eq!((svc2, wl2), (svc, wl));
    lab.shutdown().await;
}
