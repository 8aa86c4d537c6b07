//! The principals file: who may call the northbound API, as what role —
//! bearer tokens (stored as SHA-256 digests, never in the clear) and client
//! certificates (by the SHA-256 fingerprint of their DER encoding, for mTLS).
//!
//! ```toml
//! [[token]]
//! name = "nms"
//! role = "orchestrator"
//! sha256 = "<64 hex digits: sha256 of the token>"
//!
//! [[certificate]]
//! name = "noc-dashboard"
//! role = "viewer"
//! sha256 = "<64 hex digits: sha256 of the DER certificate>"
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::reload::Reloading;
use super::roles::Role;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    pub via: Via,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Token,
    Certificate,
    /// Nobody authenticates: the API was started with `--insecure` and no
    /// principals file, and every caller is an anonymous admin.
    Unauthenticated,
}

impl Principal {
    pub fn anonymous_admin() -> Principal {
        Principal {
            name: "anonymous".into(),
            role: Role::Admin,
            via: Via::Unauthenticated,
        }
    }
}

/// The longest token accepted: a caller cannot make us hash megabytes.
pub const MAX_TOKEN_BYTES: usize = 512;
/// A principals file larger than this is refused rather than read.
const MAX_FILE_BYTES: u64 = 4 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
    #[serde(default)]
    certificate: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    role: Role,
    sha256: String,
}

/// A parsed principals file.
#[derive(Debug, Default)]
pub struct Principals {
    tokens: HashMap<[u8; 32], Principal>,
    certificates: HashMap<[u8; 32], Principal>,
}

impl Principals {
    pub fn parse(text: &str) -> Result<Principals, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut out = Principals::default();
        for (kind, entries, via) in [
            ("token", file.token, Via::Token),
            ("certificate", file.certificate, Via::Certificate),
        ] {
            for (i, e) in entries.into_iter().enumerate() {
                let digest = parse_digest(&e.sha256)
                    .ok_or_else(|| format!("{kind}[{i}].sha256: not 64 hex digits"))?;
                if e.name.is_empty() {
                    return Err(format!("{kind}[{i}].name: required"));
                }
                let map = match via {
                    Via::Token => &mut out.tokens,
                    _ => &mut out.certificates,
                };
                let principal = Principal {
                    name: e.name,
                    role: e.role,
                    via,
                };
                if let Some(earlier) = map.insert(digest, principal) {
                    return Err(format!(
                        "{kind}[{i}].sha256: the same digest as {:?}",
                        earlier.name
                    ));
                }
            }
        }
        Ok(out)
    }

    pub fn by_token(&self, token: &str) -> Option<&Principal> {
        if token.len() > MAX_TOKEN_BYTES {
            return None;
        }
        self.tokens.get(&sha256(token.as_bytes()))
    }

    /// The token's principal, by the digest a session kept of it.
    pub fn by_token_digest(&self, digest: &[u8; 32]) -> Option<&Principal> {
        self.tokens.get(digest)
    }

    pub fn by_certificate(&self, der: &[u8]) -> Option<&Principal> {
        self.certificates.get(&sha256(der))
    }

    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.certificates.is_empty()
    }
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_digest(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// One `[[token]]` entry of a principals file, for a token given in the clear.
pub fn token_entry(name: &str, role: Role, token: &str) -> String {
    format!(
        "[[token]]\nname = {name:?}\nrole = \"{role}\"\nsha256 = \"{}\"\n",
        hex(&sha256(token.as_bytes()))
    )
}

/// A principals file kept current: re-read when it changes on disk, so
/// tokens are added and revoked without a restart. A file that fails to
/// parse leaves the previous principals in force (and says so).
pub struct PrincipalsFile {
    path: PathBuf,
    current: Reloading<Principals>,
}

impl PrincipalsFile {
    pub fn open(path: &Path) -> Result<Arc<PrincipalsFile>, String> {
        Ok(Arc::new(PrincipalsFile {
            path: path.to_path_buf(),
            current: Reloading::load(vec![path.to_path_buf()], || read(path))?,
        }))
    }

    pub fn current(&self) -> Arc<Principals> {
        self.current.current()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Re-reads the file if it changed; `Ok(true)` when new principals are
    /// in force.
    pub fn reload(&self) -> Result<bool, String> {
        self.current.reload(|| read(&self.path))
    }

    /// Polls the file every `every` until `halt` turns true.
    pub fn watch(
        self: &Arc<Self>,
        every: Duration,
        halt: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let file = self.clone();
        let what = format!("principals file {}", self.path.display());
        super::reload::poll(every, halt, what, move || file.reload())
    }
}

fn read(path: &Path) -> Result<Principals, String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let size = std::fs::metadata(path)
        .map_err(|e| at(e.to_string()))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(at(format!(
            "{size} bytes, over the {MAX_FILE_BYTES}-byte limit"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| at(e.to_string()))?;
    Principals::parse(&text).map_err(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_by_digest_and_only_by_the_exact_token() {
        let text = token_entry("nms", Role::Orchestrator, "s3cret")
            + &token_entry("noc", Role::Viewer, "other");
        let p = Principals::parse(&text).unwrap();
        assert_eq!(p.by_token("s3cret").unwrap().role, Role::Orchestrator);
        assert_eq!(p.by_token("other").unwrap().name, "noc");
        assert!(p.by_token("s3cret ").is_none());
        assert!(p.by_token("").is_none());
        assert!(p.by_token(&"x".repeat(1 << 20)).is_none());
        assert!(!text.contains("s3cret"), "the file holds digests only");
    }

    #[test]
    fn certificates_are_found_by_fingerprint() {
        let der = b"not really DER, but bytes all the same";
        let text = format!(
            "[[certificate]]\nname = \"dash\"\nrole = \"viewer\"\nsha256 = \"{}\"\n",
            hex(&sha256(der))
        );
        let p = Principals::parse(&text).unwrap();
        assert_eq!(p.by_certificate(der).unwrap().via, Via::Certificate);
        assert!(p.by_token("dash").is_none());
    }

    #[test]
    fn a_bad_file_is_refused_naming_what_is_wrong() {
        let cases = [
            (
                "[[token]]\nname = \"a\"\nrole = \"root\"\nsha256 = \"00\"\n",
                "root",
            ),
            (
                "[[token]]\nname = \"a\"\nrole = \"admin\"\nsha256 = \"00\"\n",
                "token[0].sha256",
            ),
            ("[[tokens]]\nname = \"a\"\n", "tokens"),
            (
                "[[token]]\nname = \"a\"\nrole = \"admin\"\nsha256 = \"00\"\nextra = 1\n",
                "extra",
            ),
        ];
        for (text, words) in cases {
            let e = Principals::parse(text).unwrap_err();
            assert!(e.contains(words), "{words:?} not in {e:?}");
        }
        let twice = token_entry("a", Role::Admin, "t") + &token_entry("b", Role::Viewer, "t");
        assert!(Principals::parse(&twice)
            .unwrap_err()
            .contains("same digest"));
    }

    #[test]
    fn the_file_is_reloaded_when_it_changes_and_kept_when_it_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("principals.toml");
        std::fs::write(&path, token_entry("a", Role::Viewer, "one")).unwrap();
        let file = PrincipalsFile::open(&path).unwrap();
        assert!(file.current().by_token("one").is_some());
        assert!(!file.reload().unwrap(), "unchanged");
        std::fs::write(&path, token_entry("b", Role::Admin, "two-longer")).unwrap();
        assert!(file.reload().unwrap());
        assert!(file.current().by_token("one").is_none(), "revoked");
        assert_eq!(
            file.current().by_token("two-longer").unwrap().role,
            Role::Admin
        );
        std::fs::write(&path, "this is not toml = = =").unwrap();
        assert!(file.reload().is_err());
        assert!(file.current().by_token("two-longer").is_some(), "kept");
    }
}
