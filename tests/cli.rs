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
