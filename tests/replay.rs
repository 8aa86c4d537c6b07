//! Replay tests as data: every directory under `tests/replay/` is a case
//! (topology + input script → expected gNMI Sets and watch events), run
//! through the real controller with in-process devices and a fake clock.
//! See tests/replay/README.md. `STRATA_UPDATE_SNAPSHOTS=1 cargo test --test
//! replay` rewrites the expected files, for review in the diff.

#[path = "replay/support.rs"]
mod support;

use std::path::Path;

/// Lines of context shown around the first mismatch.
const CONTEXT: usize = 3;

/// A unified-style excerpt around the first line where `want` and `have`
/// differ; `None` when they agree.
fn first_mismatch(file: &str, want: &[String], have: &[String]) -> Option<String> {
    let at = (0..want.len().max(have.len())).find(|&i| want.get(i) != have.get(i))?;
    let from = at.saturating_sub(CONTEXT);
    let mut out = format!(
        "--- {file} (expected)\n+++ {file} (actual)\n@@ line {} @@\n",
        at + 1
    );
    for line in &want[from.min(want.len())..at] {
        out.push_str(&format!(" {line}\n"));
    }
    for line in want.iter().skip(at).take(CONTEXT) {
        out.push_str(&format!("-{line}\n"));
    }
    for line in have.iter().skip(at).take(CONTEXT) {
        out.push_str(&format!("+{line}\n"));
    }
    if let (Some(w), Some(h)) = (want.get(at), have.get(at)) {
        out.push_str(&where_lines_differ(w, h));
    }
    out.push_str(&format!(
        "({} expected lines, {} actual)\n",
        want.len(),
        have.len()
    ));
    Some(out)
}

/// One Set line can be kilobytes of JSON: point at the column where the two
/// lines part, with a little of each around it.
fn where_lines_differ(want: &str, have: &str) -> String {
    let col = want
        .char_indices()
        .zip(have.chars())
        .find(|((_, a), b)| a != b)
        .map(|((i, _), _)| i)
        .unwrap_or(want.len().min(have.len()));
    let excerpt = |s: &str| -> String {
        // (str::floor_char_boundary is newer than the workspace's MSRV)
        let mut from = col.saturating_sub(60);
        while !s.is_char_boundary(from) {
            from -= 1;
        }
        let mut to = (col + 60).min(s.len());
        while !s.is_char_boundary(to) {
            to += 1;
        }
        s[from..to].to_string()
    };
    format!(
        "first difference at column {}:\n  expected …{}…\n  actual   …{}…\n",
        col + 1,
        excerpt(want),
        excerpt(have)
    )
}

fn read_lines(path: &Path) -> Result<Vec<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(t.lines().map(str::to_string).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{}: missing; run STRATA_UPDATE_SNAPSHOTS=1 cargo test --test replay and review it",
            path.display()
        )),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn write_lines(path: &Path, lines: &[String]) -> Result<(), String> {
    let mut text = lines.join("\n");
    if !text.is_empty() {
        text.push('\n');
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

async fn check(dir: &Path, update: bool) -> Result<(), String> {
    let case = support::load_case(dir)?;
    let out = support::run(&case).await?;
    let mut problems = Vec::new();
    for (file, lines) in [("sets.jsonl", &out.sets), ("events.jsonl", &out.events)] {
        let path = case.dir.join(file);
        if update {
            write_lines(&path, lines)?;
            continue;
        }
        let want = read_lines(&path)?;
        if let Some(diff) = first_mismatch(&format!("{}/{file}", case.name), &want, lines) {
            problems.push(diff);
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

#[tokio::test]
async fn every_case_replays_to_its_expected_sets_and_events() {
    let update = std::env::var("STRATA_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    // REPLAY_CASE=<name> runs one case while working on it.
    let only = std::env::var("REPLAY_CASE").ok();
    let root = support::repo_root().join("tests/replay");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            only.as_deref()
                .is_none_or(|o| p.file_name().is_some_and(|n| n == o))
        })
        .collect();
    dirs.sort();
    assert!(
        only.is_some() || dirs.len() >= 12,
        "expected at least 12 cases under {}, found {}",
        root.display(),
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        if let Err(e) = check(dir, update).await {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} replay cases failed (STRATA_UPDATE_SNAPSHOTS=1 rewrites the expected files):\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_diff_points_at_the_first_differing_line() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(first_mismatch("f", &s(&["a", "b"]), &s(&["a", "b"])).is_none());
    let d = first_mismatch("f", &s(&["a", "b", "c"]), &s(&["a", "x", "c"])).unwrap();
    assert!(d.contains("@@ line 2 @@"), "{d}");
    assert!(
        d.contains("-b\n") && d.contains("+x\n") && d.contains(" a\n"),
        "{d}"
    );
    // a missing trailing line is a mismatch too
    assert!(d.contains("column 1"), "{d}");
    let d = first_mismatch("f", &s(&["a"]), &s(&["a", "extra"])).unwrap();
    assert!(d.contains("+extra"), "{d}");
    let d = first_mismatch("f", &s(&[r#"{"sid":16003}"#]), &s(&[r#"{"sid":16009}"#])).unwrap();
    assert!(d.contains("column 12") && d.contains("16009"), "{d}");
}
