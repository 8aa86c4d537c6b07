//! The `strata` command line itself: completions and shared daemon flags.

use std::process::Command;

fn strata(args: &[&str]) -> (bool, String) {
    let (ok, stdout, _) = strata_full(args);
    (ok, stdout)
}

/// Success, stdout and stderr.
fn strata_full(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("strata runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_cover_every_shell_and_know_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish"] {
        let (ok, script) = strata(&["completions", shell]);
        assert!(ok, "strata completions {shell} failed");
        for word in [
            "lab",
            "controller",
            "watch",
            "fault",
            "ephemeral-ports",
            "reconcile-interval",
            "reload-topology",
            "add-node",
            "add-link",
            "remove-link",
            "remove-node",
            "dry-run",
        ] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (ok, _) = strata(&["completions", "tcsh"]);
    assert!(!ok, "an unknown shell is refused");
}

#[test]
fn lab_and_controller_share_the_daemon_flags() {
    for sub in ["lab", "controller"] {
        let (ok, help) = strata(&[sub, "--help"]);
        assert!(ok);
        for flag in [
            "--config",
            "--listen",
            "--sample-interval-ms",
            "--reconcile-interval",
            "--metrics",
            "--otlp-endpoint",
            "--web",
            "--data-dir",
            "--topology",
        ] {
            assert!(help.contains(flag), "strata {sub} --help lacks {flag}");
        }
    }
}

#[test]
fn topology_accepts_containerlab_files() {
    let (ok, out, err) = strata_full(&["topology", "examples/small.clab.yml"]);
    assert!(ok, "strata topology examples/small.clab.yml failed: {err}");
    assert!(
        out.contains("fabric \"small\" is valid: 5 nodes, 4 links (3 packet, 0 optical, 1 fiber)"),
        "{out}"
    );

    // Every problem, in containerlab paths (the list docs/topology.md shows).
    let (ok, _, err) = strata_full(&["topology", "examples/bad.clab.yml"]);
    assert!(!ok);
    for line in [
        "examples/bad.clab.yml:13: topology.nodes.pe1.labels.strata.node-sid: expected an integer, got \"sixteen\"",
        "examples/bad.clab.yml:17: topology.nodes.pe2.labels.strata.router-id: duplicate router_id 10.255.0.1, already used by topology.nodes.pe1 (line 9)",
        "examples/bad.clab.yml:19: topology.nodes.sw1.kind: kind \"bridge\" does not tell Strata",
        "examples/bad.clab.yml:21: topology.links[0].endpoints[1]: unknown node \"pe9\"",
        "examples/bad.clab.yml:29: topology.links[1].labels.strata.rides: unknown link \"f9\"",
    ] {
        assert!(err.contains(line), "missing {line:?} in:\n{err}");
    }
}

#[test]
fn the_example_config_is_valid_and_summarised() {
    let (ok, out, err) = strata_full(&["config", "check", "examples/strata.toml"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "examples/strata.toml: valid");
    for want in [
        "  api: listen 127.0.0.1:50051, TLS certificate /etc/strata/api.pem",
        "  closed loop overrides: class optical, link cmh-nva-p1",
        "  pools: EVI 1000..=65535, VNI 10000..=16777215, default color 100",
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "no {want:?} in {out}"
        );
    }
    // Its link override names a link of the default fabric, not of small.yaml.
    let (ok, _, _) = strata_full(&[
        "config",
        "check",
        "examples/strata.toml",
        "--topology",
        "examples/us-metro.yaml",
    ]);
    assert!(ok);
    let (ok, _, err) = strata_full(&[
        "config",
        "check",
        "examples/strata.toml",
        "--topology",
        "examples/small.yaml",
    ]);
    assert!(!ok);
    assert!(
        err.contains("closed_loop.links: no such link in fabric \"small\": \"cmh-nva-p1\""),
        "{err}"
    );
}

#[test]
fn config_check_reports_every_problem_with_its_line_and_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strata.toml");
    std::fs::write(
        &file,
        "[api]\nlisen = \"127.0.0.1:1\"\n\n[closed_loop]\nhysteresis = 1.5\nhold_down = 5\n\n[pools]\nvni = [20, 10]\n",
    )
    .unwrap();
    let f = file.to_str().unwrap();
    let (ok, out, err) = strata_full(&["config", "check", f]);
    assert!(!ok, "an invalid file fails the check");
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err.lines().collect::<Vec<_>>(),
        [
            format!("{f}:2: unknown key `api.lisen`; did you mean `listen`?"),
            format!("{f}:5: closed_loop.hysteresis: 1.5 is not in 0..1"),
            format!("{f}:6: closed_loop.hold_down: expected a duration string with a unit (e.g. \"5s\" or \"800ms\"), found integer"),
            format!("{f}:9: pools.vni: min 20 is greater than max 10"),
            format!("{f}: invalid (4 problems)"),
        ]
    );
    // The controller refuses the same file before it starts anything.
    let (ok, _, err) = strata_full(&["controller", "--config", f, "--insecure", "--gnmi-insecure"]);
    assert!(!ok);
    assert!(err.contains("did you mean `listen`?"), "{err}");
}

/// Runs `strata controller` until its stdout has a line starting with each
/// of `want` (in any order), then stops it; returns the lines seen.
fn controller_until(args: &[&str], want: &[&str]) -> Vec<String> {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("controller")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("strata runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut seen = Vec::new();
    while !want
        .iter()
        .all(|w| seen.iter().any(|l: &String| l.starts_with(w)))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!(
                    "controller never printed {want:?}; stdout {seen:?}, stderr {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen
}

#[test]
fn the_controller_takes_the_config_file_and_flags_given_beat_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strata.toml");
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: had the file's
    // listen won over --listen, the controller could not have started.
    std::fs::write(
        &file,
        r#"
[api]
listen = "192.0.2.1:50051"
insecure = true

[devices]
gnmi_insecure = true

[journal]
data_dir = "journal"

[web]
listen = "127.0.0.1:0"

[closed_loop.links."pe1-pe2"]
loss_percent = 5
"#,
    )
    .unwrap();
    let lines = controller_until(
        &[
            "--config",
            file.to_str().unwrap(),
            "--topology",
            "examples/small.yaml",
            "--listen",
            "127.0.0.1:0",
        ],
        &[
            "strata controller: 0 intents restored from",
            "strata controller: fabric \"small\"",
            "strata controller: web view on http://127.0.0.1:",
        ],
    );
    let all = lines.join("\n");
    // The journal is where the file says, relative to the file's directory.
    let journal = dir.path().join("journal");
    assert!(
        all.contains(&format!("restored from {}", journal.display())),
        "{all}"
    );
    assert!(journal.is_dir());
    // The flag's address, not the file's.
    assert!(all.contains("northbound strata.v1 on 127.0.0.1:"), "{all}");
    assert!(!all.contains("192.0.2.1"), "{all}");
}

#[test]
fn a_link_override_for_a_link_the_fabric_lacks_stops_the_controller() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("strata.toml");
    std::fs::write(
        &file,
        "[api]\ninsecure = true\n[devices]\ngnmi_insecure = true\n[closed_loop.links.\"pe1-pe4\"]\nloss_percent = 5\n",
    )
    .unwrap();
    let (ok, _, err) = strata_full(&[
        "controller",
        "--config",
        file.to_str().unwrap(),
        "--topology",
        "examples/small.yaml",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().join("data").to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("closed_loop.links: no such link in fabric \"small\": \"pe1-pe4\" (did you mean \"pe1-pe2\"?)"),
        "{err}"
    );
}

/// `strata controller --store etcd://…` keeps its intents on etcd: it
/// starts from the cluster (not a data directory) and says so.
#[tokio::test]
async fn the_controller_starts_from_an_etcd_store() {
    let Some(etcd) =
        strata::store::etcd_server::for_test("the_controller_starts_from_an_etcd_store").await
    else {
        return;
    };
    let url = etcd.url();
    let lines = controller_until(
        &[
            "--topology",
            "examples/small.yaml",
            "--listen",
            "127.0.0.1:0",
            "--insecure",
            "--gnmi-insecure",
            "--store",
            &url,
            "--etcd-prefix",
            "/cli/",
        ],
        &[
            "strata controller: 0 intents restored from etcd://127.0.0.1:",
            "strata controller: fabric \"small\"",
        ],
    );
    let all = lines.join("\n");
    assert!(all.contains("(prefix /cli/)"), "{all}");
}

/// The replica flags are refused, naming what is missing, where they cannot
/// work: without the etcd store, without a name, or with a zero lease.
#[test]
fn replica_flags_are_checked_before_anything_starts() {
    let base = ["controller", "--insecure", "--gnmi-insecure"];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let (ok, _, err) = strata_full(&args);
        assert!(!ok, "{extra:?} was accepted");
        err
    };
    let err = run(&["--replica-id", "a"]);
    assert!(err.contains("--replica-id needs the etcd store"), "{err}");
    let err = run(&["--store", "etcd://127.0.0.1:1", "--lease-ttl", "2"]);
    assert!(
        err.contains("--lease-ttl and --advertise need --replica-id"),
        "{err}"
    );
    let err = run(&[
        "--store",
        "etcd://127.0.0.1:1",
        "--replica-id",
        "a",
        "--lease-ttl",
        "0",
    ]);
    assert!(
        err.contains("--lease-ttl: must be at least 1 second"),
        "{err}"
    );
    let err = run(&[
        "--store",
        "etcd://127.0.0.1:1",
        "--replica-id",
        "a",
        "--listen",
        "0.0.0.0:0",
    ]);
    assert!(
        err.contains("--advertise: the API listens on 0.0.0.0:0"),
        "{err}"
    );
}

/// SIGHUP makes `strata controller` read its topology file again and apply
/// the difference through the same path as `ReloadTopology`, saying what
/// it did.
#[cfg(unix)]
#[test]
fn sighup_reloads_the_controllers_topology_file() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.yaml");
    let small = include_str!("../examples/small.yaml");
    std::fs::write(&file, small).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "controller",
            "--insecure",
            "--gnmi-insecure",
            "--web",
            "off",
        ])
        .args(["--listen", "127.0.0.1:0", "--topology"])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("strata controller starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut wait_for = |what: &str| -> Result<String, String> {
        let mut seen = Vec::new();
        for line in lines.by_ref() {
            let line = line.map_err(|e| e.to_string())?;
            if line.contains(what) {
                return Ok(line);
            }
            seen.push(line);
        }
        Err(format!("no {what:?} in {seen:?}"))
    };
    let outcome = (|| {
        wait_for("northbound strata.v1 on")?;
        std::fs::write(
            &file,
            small.replace(
                "    length_km: 90\n",
                "    length_km: 90\n    te_metric: 7\n",
            ),
        )
        .map_err(|e| e.to_string())?;
        let hup = Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .map_err(|e| e.to_string())?;
        assert!(hup.success());
        wait_for("SIGHUP: topology")
    })();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let line = outcome.unwrap();
    assert!(
        line.ends_with("strata: SIGHUP: topology reloaded: ~ link pe1-pe3"),
        "{line}"
    );
}
