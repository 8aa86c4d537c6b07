//! The journal's framing: a file header, then frames of
//! `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload]`.
//!
//! A crash can leave a torn last frame, and a bad disk can flip bits; the
//! checksum and length let a reader find exactly where the valid prefix ends.

/// Identifies a Strata journal, version 1.
pub const HEADER: &[u8; 8] = b"STRJNL01";
const FRAME_HEADER: usize = 8;
/// No entry comes near this; a larger length is corruption, not data.
pub const MAX_PAYLOAD: usize = 64 << 20;

pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// What a scan of a journal's bytes found.
#[derive(Debug, PartialEq)]
pub struct Scan<'a> {
    pub payloads: Vec<&'a [u8]>,
    /// Length of the valid prefix (header included).
    pub valid_len: usize,
    /// Why the bytes after `valid_len` were not accepted.
    pub problem: Option<String>,
}

/// Splits `bytes` into frame payloads, stopping at the first frame that is
/// torn, oversized or fails its checksum.
pub fn scan(bytes: &[u8]) -> Scan<'_> {
    if bytes.is_empty() {
        return Scan {
            payloads: Vec::new(),
            valid_len: 0,
            problem: None,
        };
    }
    if bytes.len() < HEADER.len() || &bytes[..HEADER.len()] != HEADER {
        return Scan {
            payloads: Vec::new(),
            valid_len: 0,
            problem: Some("the file does not start with a Strata journal header".into()),
        };
    }
    let mut at = HEADER.len();
    let mut payloads = Vec::new();
    let problem = loop {
        let rest = &bytes[at..];
        if rest.is_empty() {
            break None;
        }
        if rest.len() < FRAME_HEADER {
            break Some(format!(
                "torn frame header at byte {at} ({} of {FRAME_HEADER} bytes)",
                rest.len()
            ));
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_PAYLOAD {
            break Some(format!("frame at byte {at} claims {len} bytes"));
        }
        let Some(payload) = rest.get(FRAME_HEADER..FRAME_HEADER + len) else {
            break Some(format!(
                "torn frame at byte {at}: {} of {len} payload bytes",
                rest.len() - FRAME_HEADER
            ));
        };
        if crc32fast::hash(payload) != crc {
            break Some(format!("checksum mismatch in the frame at byte {at}"));
        }
        payloads.push(payload);
        at += FRAME_HEADER + len;
    };
    Scan {
        payloads,
        valid_len: at,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = HEADER.to_vec();
        for p in payloads {
            encode(p, &mut out);
        }
        out
    }

    #[test]
    fn round_trips_frames() {
        let bytes = journal(&[b"one", b"", b"three"]);
        let scan = scan(&bytes);
        assert_eq!(scan.payloads, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(scan.valid_len, bytes.len());
        assert_eq!(scan.problem, None);
    }

    #[test]
    fn every_truncation_keeps_exactly_the_whole_frames_before_it() {
        let bytes = journal(&[b"alpha", b"beta", b"gamma"]);
        let ends = [8, 8 + 8 + 5, 8 + 8 + 5 + 8 + 4, bytes.len()];
        for cut in HEADER.len()..bytes.len() {
            let scan = scan(&bytes[..cut]);
            let whole = ends.iter().filter(|&&e| e <= cut).count() - 1;
            assert_eq!(scan.payloads.len(), whole, "cut at {cut}");
            assert_eq!(scan.valid_len, ends[whole], "cut at {cut}");
            assert_eq!(scan.problem.is_some(), !ends.contains(&cut), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_stops_the_scan_at_that_frame() {
        let mut bytes = journal(&[b"alpha", b"beta", b"gamma"]);
        let second_payload = 8 + 8 + 5 + 8;
        bytes[second_payload + 1] ^= 0x20;
        let scan = scan(&bytes);
        assert_eq!(scan.payloads, vec![&b"alpha"[..]]);
        assert_eq!(scan.valid_len, 8 + 8 + 5);
        assert!(scan.problem.unwrap().contains("checksum"));
    }

    #[test]
    fn a_foreign_file_is_not_a_journal() {
        let scan = scan(b"hello world, not a journal");
        assert!(scan.payloads.is_empty());
        assert_eq!(scan.valid_len, 0);
        assert!(scan.problem.is_some());
    }

    #[test]
    fn an_absurd_length_is_corruption() {
        let mut bytes = journal(&[b"ok"]);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]);
        let scan = scan(&bytes);
        assert_eq!(scan.payloads.len(), 1);
        assert!(scan.problem.unwrap().contains("claims"));
    }
}
