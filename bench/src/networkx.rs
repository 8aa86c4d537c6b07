//! The networkx peer of `strata bench pathcomp`: the graph and queries go to
//! `bench/pathcomp_networkx.py` as one JSON file, per-query timings and costs
//! come back as JSON on its stdout.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

const SCRIPT: &str = "bench/pathcomp_networkx.py";

/// What the script reads. Edges are directed (both directions of a link).
#[derive(Serialize)]
pub struct Export {
    pub nodes: usize,
    /// (from, to, latency µs)
    pub edges: Vec<(usize, usize, u64)>,
    pub queries: Vec<NxQuery>,
    /// Only the first this many queries run k-shortest and the disjoint pair.
    pub heavy_queries: usize,
    pub k: usize,
}

#[derive(Serialize)]
pub struct NxQuery {
    pub src: usize,
    pub dst: usize,
    /// The ends of the excluded link (both directions are excluded).
    pub exclude_link: (usize, usize),
    pub exclude_node: usize,
    pub bound_us: u64,
}

#[derive(Deserialize)]
pub struct Results {
    pub networkx: String,
    pub python: String,
    pub shortest: Vec<Timed>,
    pub cspf: Vec<CspfTimed>,
    pub ksp: Vec<KspTimed>,
    pub disjoint: Vec<Timed>,
}

#[derive(Deserialize)]
pub struct Timed {
    pub ns: u64,
    pub cost: Option<u64>,
}

#[derive(Deserialize)]
pub struct CspfTimed {
    pub ns: u64,
    pub cost: Option<u64>,
    pub within_bound: bool,
}

#[derive(Deserialize)]
pub struct KspTimed {
    pub ns: u64,
    pub costs: Vec<u64>,
}

/// A Python that can import networkx, and the script: the project venv
/// first (tests/run-all.sh installs networkx there), then `python3`.
/// The error says why the networkx rows are skipped.
pub fn locate() -> Result<(PathBuf, PathBuf), String> {
    // This crate lives in `bench/`; paths are relative to the workspace root.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let script = [PathBuf::from(SCRIPT), manifest.join(SCRIPT)]
        .into_iter()
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{SCRIPT} not found (run from the repository root)"))?;
    let candidates = [
        PathBuf::from("target/venv/bin/python"),
        manifest.join("target/venv/bin/python"),
        PathBuf::from("python3"),
    ];
    candidates
        .into_iter()
        .find(|py| {
            Command::new(py)
                .args(["-c", "import networkx"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(|py| (py, script))
        .ok_or_else(|| {
            "no Python with networkx (tried target/venv/bin/python and python3; \
             `target/venv/bin/pip install networkx` or run tests/run-all.sh)"
                .to_string()
        })
}

/// Runs the script on `export` and parses its timings.
pub fn run(python: &Path, script: &Path, export: &Export) -> anyhow::Result<Results> {
    let file = std::env::temp_dir().join(format!(
        "strata-pathcomp-{}-{}.json",
        std::process::id(),
        export.nodes
    ));
    std::fs::write(&file, serde_json::to_vec(export)?)?;
    let out = Command::new(python).arg(script).arg(&file).output();
    let _ = std::fs::remove_file(&file);
    let out = out.map_err(|e| anyhow::anyhow!("running {}: {e}", python.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} {} failed ({}): {}",
            python.display(),
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout)
        .map_err(|e| anyhow::anyhow!("parsing the networkx script's output: {e}"))
}
