//! The README's console examples are run, in order, against one lab on the
//! README's default fabric, and their output is compared with what the README
//! shows — so ids, messages and behaviour in the README cannot drift.
//!
//! In a ```console block, `$ cmd` lines are commands and the lines after them
//! their expected output (stdout then stderr). In expected output, `...` inside
//! a line matches any text and a line that is only `...` matches any number
//! of lines; everything else is literal. `strata watch --once` is repeated
//! until it matches (its view follows asynchronous telemetry); other commands
//! run once. Addresses are the lab's: `--api` is added to `strata fault`, `strata whatif`,
//! `strata drain`, `strata undrain`, `strata drains`, `strata reload-topology`,
//! `strata add-node`, `strata add-link`, `strata remove-link`, `strata remove-node`,
//! `strata watch` and `examples/orchestrator.py`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Step {
    line: usize,
    command: String,
    expected: Vec<String>,
}

fn console_steps(readme: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut in_console = false;
    for (i, line) in readme.lines().enumerate() {
        if !in_console {
            in_console = line.trim_end() == "```console";
            continue;
        }
        if line.starts_with("```") {
            in_console = false;
        } else if let Some(cmd) = line.strip_prefix("$ ") {
            steps.push(Step {
                line: i + 1,
                command: cmd.to_string(),
                expected: Vec::new(),
            });
        } else if let Some(step) = steps.last_mut() {
            step.expected.push(line.to_string());
        }
    }
    steps
}

/// `...` inside a line matches any text.
fn line_matches(pattern: &str, actual: &str) -> bool {
    let parts: Vec<&str> = pattern.split("...").collect();
    if parts.len() == 1 {
        return pattern.trim_end() == actual.trim_end();
    }
    let actual = actual.trim_end();
    let mut rest = actual;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part.trim_end());
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// A line that is only `...` matches any number of lines.
fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.iter().all(|l| l.trim().is_empty()),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(a, more)| line_matches(first, a) && output_matches(rest, more)),
    }
}

fn words(command: &str) -> Vec<String> {
    // Comments end a command line (`# … 5 s later`).
    let command = command.split(" #").next().unwrap_or(command);
    command.split_whitespace().map(str::to_string).collect()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv_python() -> Option<PathBuf> {
    let venv = std::env::var_os("STRATA_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/venv"));
    let python = venv.join("bin/python");
    python.exists().then_some(python)
}

fn command_for(words: &[String], api: &str, python: &Path) -> Command {
    let api = api.to_string();
    match words.first().map(String::as_str) {
        Some("examples/orchestrator.py") => {
            let mut c = Command::new(python);
            c.arg(&words[0]).arg("--api").arg(&api).args(&words[1..]);
            c
        }
        Some("strata") => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
            match words.get(1).map(String::as_str) {
                Some(
                    sub @ ("fault" | "watch" | "whatif" | "drain" | "undrain" | "drains"
                    | "reload-topology" | "add-node" | "add-link" | "remove-link"
                    | "remove-node"),
                ) => {
                    c.arg(sub).arg("--api").arg(&api).args(&words[2..]);
                }
                _ => {
                    c.args(&words[1..]);
                }
            }
            c
        }
        other => panic!("README console step runs {other:?}: teach tests/readme.rs about it"),
    }
}

fn run(mut c: Command) -> String {
    let out = c.current_dir(workspace()).output().expect("command runs");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_console_examples_hold_on_the_lab() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).expect("README.md");
    let steps = console_steps(&readme);
    assert!(
        steps.len() >= 8,
        "the README's console examples were not found"
    );
    let Some(python) = venv_python() else {
        eprintln!(
            "\n*** README examples NOT checked: no Python venv at target/venv (or $STRATA_VENV).\n\
             *** tests/run-all.sh creates it (pip install grpcio grpcio-tools) before cargo test.\n"
        );
        return;
    };
    // The README's lab: its default fabric and closed-loop settings, on free
    // ports so the test runs beside anything.
    let topology = strata::topology::parse_str(common::US_METRO).expect("us-metro");
    let credentials = tempfile::tempdir().expect("tempdir");
    let options = strata::lab::LabOptions {
        listen: "127.0.0.1:0".parse().expect("addr"),
        sim: strata::simulators::fabric::SimOptions {
            ephemeral_ports: true,
            ..Default::default()
        },
        sessions: strata::southbound::SessionConfig::default(),
        health: Default::default(),
        pools: Default::default(),
        duration: None,
        metrics: None,
        data_dir: None,
        reconcile_interval: Duration::from_secs(30),
        recover_journal: false,
        web: None,
        // Secure, as `strata lab` is: the README's commands find the
        // credentials where the lab wrote them ($STRATA_CREDENTIALS here).
        security: strata::lab::LabSecurity::generate(credentials.path()).expect("credentials"),
    };
    let lab = strata::lab::Lab::start(&topology, &options)
        .await
        .expect("lab starts");
    assert!(
        common::eventually(Duration::from_secs(30), || lab.state.counts().up
            == topology.nodes.len())
        .await
    );
    let api = lab.api.to_string();
    let mut failures = Vec::new();
    for step in &steps {
        let w = words(&step.command);
        let retry = w.iter().any(|x| x == "watch");
        let deadline = Instant::now() + Duration::from_secs(if retry { 20 } else { 0 });
        let (python, api) = (python.clone(), api.clone());
        let (out, ok) = loop {
            let mut cmd = command_for(&w, &api, &python);
            cmd.env("STRATA_CREDENTIALS", credentials.path());
            let out = tokio::task::spawn_blocking(move || run(cmd))
                .await
                .expect("runs");
            let ok = output_matches(&step.expected, &out.lines().collect::<Vec<_>>());
            if ok || Instant::now() >= deadline {
                break (out, ok);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        if !ok {
            failures.push(format!(
                "README.md:{}: $ {}\n--- README shows:\n{}\n--- actual output:\n{}",
                step.line,
                step.command,
                step.expected.join("\n"),
                out
            ));
        }
    }
    lab.shutdown().await;
    assert!(
        failures.is_empty(),
        "{} of {} README examples differ:\n\n{}",
        failures.len(),
        steps.len(),
        failures.join("\n\n")
    );
    println!("README: {} console examples hold", steps.len());
}

#[test]
fn the_matcher_skips_and_wildcards_only_where_told() {
    let exp = |s: &str| s.lines().map(str::to_string).collect::<Vec<_>>();
    assert!(output_matches(&exp("a\n...\nd"), &["a", "b", "c", "d"]));
    assert!(!output_matches(&exp("a\nd"), &["a", "b", "d"]));
    assert!(output_matches(&exp("id pol-...: ok"), &["id pol-4: ok"]));
    assert!(!output_matches(&exp("id pol-5"), &["id pol-4"]));
    assert!(output_matches(&exp("x ... y ... z"), &["x 1 y 2 z"]));
    assert!(!output_matches(&exp("x ... y"), &["x 1 z"]));
    assert!(output_matches(&exp("..."), &[]));
}
