//! The `strata` command line itself: completions and shared daemon flags.

use std::process::Command;

fn strata(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .expect("strata runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
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
