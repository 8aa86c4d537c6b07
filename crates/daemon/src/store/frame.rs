//! The journal's framing.
//!
//! Version 2 (what the writer produces): the file header `STRJNL02`, then
//! frames of
//! `[sync marker: 4][payload length: u32 LE][CRC-32 of marker+length: u32 LE][CRC-32 of payload: u32 LE][payload]`.
//!
//! Version 1 (read, then rewritten as version 2): the file header `STRJNL01`,
//! then frames of `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload]`.
//!
//! A reader must tell a *torn tail* (a crash cut the last, unacknowledged
//! write, so only the end of the file is bad) from *damage* (bad bytes with
//! intact frames after them: acknowledged entries that must not be dropped
//! quietly). That is only decidable if the reader can find intact frames past
//! a bad region. In version 2 the sync marker names candidate frame starts,
//! the header checksum lets a length be trusted before it is used, and the
//! payload checksum confirms the frame. Version 1 has neither, so past a bad
//! region it tries every offset (slower, but only old journals need it).
//!
//! Nothing here allocates by a length read from disk: frames are slices of
//! the bytes read, and lengths over `MAX_PAYLOAD` are rejected outright.
//!
//! Known limits, both on the safe side:
//! - One group commit writes several frames at once. If a crash persisted a
//!   later page of that write but not an earlier one, the unacknowledged
//!   batch reads as damage rather than a torn tail. Start-up is then refused
//!   when it need not be, and `--recover-journal` resolves it.
//! - Stepping past damage, a reader that lands inside a damaged frame's
//!   payload could accept bytes that happen to form a whole frame (both
//!   checksums matching). That needs payload bytes crafted to look like a
//!   frame, and it can only happen while recovering, which sets the deletion
//!   hold.

/// Identifies a Strata journal, version 2.
pub const HEADER: &[u8; 8] = b"STRJNL02";
/// Identifies a Strata journal, version 1 (no sync markers).
pub const HEADER_V1: &[u8; 8] = b"STRJNL01";
/// Starts every version-2 frame. Not zeros, not ASCII, not a likely protobuf
/// prefix: zeroed or text-overwritten regions never look like a frame start.
pub const SYNC: [u8; 4] = [0xA7, 0x5E, 0x1F, 0xD3];
/// Bytes before a version-2 payload.
pub const FRAME_HEADER: usize = 16;
const V1_FRAME_HEADER: usize = 8;
/// No entry comes near this; a larger length is corruption, not data.
pub const MAX_PAYLOAD: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// Appends one version-2 frame.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&SYNC);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    let header_crc = crc32fast::hash(&out[start..start + 8]);
    out.extend_from_slice(&header_crc.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Appends one version-1 frame: only tests write the old format, to show it
/// is still read.
#[cfg(test)]
pub fn encode_v1(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// One intact frame: where it starts in the file, and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    pub offset: usize,
    pub payload: &'a [u8],
}

/// Bytes `start..end` of the file that are not intact frames.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRegion {
    pub start: usize,
    pub end: usize,
    pub reason: String,
}

/// What a scan of a journal's bytes found.
#[derive(Debug, Default, PartialEq)]
pub struct Scan<'a> {
    /// The format the header names (or, under a damaged header, the format
    /// whose frames were found); `None` for an empty or unreadable file.
    pub version: Option<Version>,
    /// Every intact frame in file order, before and after any damage.
    pub frames: Vec<Frame<'a>>,
    /// End of the valid prefix: the first bad byte, or the file's length.
    pub valid_len: usize,
    /// Bad regions that are not a torn tail: intact frames follow them, or
    /// the file header itself is bad.
    pub damage: Vec<BadRegion>,
    /// A bad region that runs to the end of the file with nothing intact in
    /// it: what a crash during the last write leaves.
    pub torn: Option<BadRegion>,
}

/// Length of the payload if an intact frame starts at `at`, else why not.
fn check(bytes: &[u8], at: usize, version: Version) -> Result<usize, String> {
    let rest = bytes.get(at..).unwrap_or_default();
    let header = match version {
        Version::V1 => V1_FRAME_HEADER,
        Version::V2 => FRAME_HEADER,
    };
    if rest.len() < header {
        return Err(format!(
            "torn frame header at byte {at} ({} of {header} bytes)",
            rest.len()
        ));
    }
    let word = |i: usize| u32::from_le_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
    let (len, crc) = match version {
        Version::V1 => (word(0) as usize, word(4)),
        Version::V2 => {
            if rest[..4] != SYNC {
                return Err(format!("no frame marker at byte {at}"));
            }
            if crc32fast::hash(&rest[..8]) != word(8) {
                return Err(format!("frame header checksum mismatch at byte {at}"));
            }
            (word(4) as usize, word(12))
        }
    };
    // The writer never writes an empty payload (every entry has an op), and
    // a version-1 run of zeros would otherwise read as empty frames with a
    // valid checksum (the CRC-32 of nothing is 0).
    if len == 0 {
        return Err(format!("empty frame at byte {at}"));
    }
    if len > MAX_PAYLOAD {
        return Err(format!("frame at byte {at} claims {len} bytes"));
    }
    let Some(payload) = rest.get(header..header + len) else {
        return Err(format!(
            "torn frame at byte {at}: {} of {len} payload bytes",
            rest.len() - header
        ));
    };
    if crc32fast::hash(payload) != crc {
        return Err(format!("checksum mismatch in the frame at byte {at}"));
    }
    Ok(len)
}

/// The first offset at or after `from` where an intact frame starts.
fn resync(bytes: &[u8], from: usize, version: Version) -> Option<usize> {
    let mut at = from;
    while at < bytes.len() {
        let candidate = match version {
            Version::V1 => at,
            Version::V2 => {
                at + bytes
                    .get(at..)?
                    .windows(SYNC.len())
                    .position(|w| w == SYNC)?
            }
        };
        if check(bytes, candidate, version).is_ok() {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}

/// A version-2 frame at `at` whose marker, length or header checksum is
/// damaged, but whose payload (running to the next intact frame at `next`)
/// still matches its payload checksum: one flipped length byte then costs
/// nothing. Still reported as damage; kept only when recovering.
fn repair(bytes: &[u8], at: usize, next: usize, version: Version) -> Option<Frame<'_>> {
    if version != Version::V2 {
        return None;
    }
    let crc = bytes.get(at + 12..at + 16)?;
    let payload = bytes.get(at + FRAME_HEADER..next)?;
    let crc = u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]);
    (!payload.is_empty() && payload.len() <= MAX_PAYLOAD && crc32fast::hash(payload) == crc)
        .then_some(Frame {
            offset: at,
            payload,
        })
}

fn header_len(version: Version) -> usize {
    match version {
        Version::V1 => V1_FRAME_HEADER,
        Version::V2 => FRAME_HEADER,
    }
}

/// Reads frames from `at` to the end, stepping over bad regions to the next
/// intact frame so that nothing after damage is lost from sight.
fn walk<'a>(bytes: &'a [u8], mut at: usize, version: Version, scan: &mut Scan<'a>) {
    while at < bytes.len() {
        match check(bytes, at, version) {
            Ok(len) => {
                let start = at + header_len(version);
                scan.frames.push(Frame {
                    offset: at,
                    payload: &bytes[start..start + len],
                });
                at = start + len;
            }
            Err(reason) => match resync(bytes, at + 1, version) {
                Some(next) => {
                    let repaired = repair(bytes, at, next, version);
                    scan.damage.push(BadRegion {
                        start: at,
                        end: next,
                        reason: match repaired {
                            Some(_) => format!("{reason}; its payload matches its checksum, kept"),
                            None => reason,
                        },
                    });
                    scan.frames.extend(repaired);
                    at = next;
                }
                None => {
                    scan.torn = Some(BadRegion {
                        start: at,
                        end: bytes.len(),
                        reason,
                    });
                    return;
                }
            },
        }
    }
}

/// Splits a journal's bytes into intact frames, bad regions between them,
/// and a torn tail.
pub fn scan(bytes: &[u8]) -> Scan<'_> {
    let mut scan = Scan::default();
    if bytes.is_empty() {
        return scan;
    }
    let version = if bytes.starts_with(HEADER) {
        Some(Version::V2)
    } else if bytes.starts_with(HEADER_V1) {
        Some(Version::V1)
    } else {
        None
    };
    match version {
        Some(named) => {
            // Two flipped bits turn one version's header into the other's;
            // trusting it would read every frame as garbage, i.e. a torn tail.
            let other = match named {
                Version::V1 => Version::V2,
                Version::V2 => Version::V1,
            };
            let v = if check(bytes, HEADER.len(), named).is_err()
                && check(bytes, HEADER.len(), other).is_ok()
            {
                scan.damage.push(BadRegion {
                    start: 0,
                    end: HEADER.len(),
                    reason: format!(
                        "the header names journal {named:?} but the frames are {other:?}"
                    ),
                });
                other
            } else {
                named
            };
            scan.version = Some(v);
            walk(bytes, HEADER.len(), v, &mut scan);
        }
        // Creation writes and syncs the header before any frame, so a crash
        // there leaves at most a piece of it (or zeros the size of it).
        None if bytes.len() <= HEADER.len()
            && (HEADER.starts_with(bytes)
                || HEADER_V1.starts_with(bytes)
                || bytes.iter().all(|&b| b == 0)) =>
        {
            scan.torn = Some(BadRegion {
                start: 0,
                end: bytes.len(),
                reason: "torn journal header".into(),
            });
        }
        // A bad header is damage wherever frames follow it: look for them in
        // either format rather than trust the damaged version bytes.
        None => {
            let found = [Version::V2, Version::V1]
                .into_iter()
                .find_map(|v| resync(bytes, HEADER.len(), v).map(|at| (v, at)));
            let end = found.map_or(bytes.len(), |(_, at)| at);
            scan.damage.push(BadRegion {
                start: 0,
                end,
                reason: "the file does not start with a Strata journal header".into(),
            });
            if let Some((v, at)) = found {
                scan.version = Some(v);
                walk(bytes, at, v, &mut scan);
            }
        }
    }
    scan.valid_len = scan
        .damage
        .first()
        .or(scan.torn.as_ref())
        .map_or(bytes.len(), |r| r.start);
    scan
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn journal(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = HEADER.to_vec();
        for p in payloads {
            encode(p, &mut out);
        }
        out
    }

    fn payloads<'a>(scan: &Scan<'a>) -> Vec<&'a [u8]> {
        scan.frames.iter().map(|f| f.payload).collect()
    }

    /// Frame start offsets, then the file's end.
    fn boundaries(payloads: &[&[u8]]) -> Vec<usize> {
        let mut at = HEADER.len();
        let mut out = vec![at];
        for p in payloads {
            at += FRAME_HEADER + p.len();
            out.push(at);
        }
        out
    }

    #[test]
    fn round_trips_frames() {
        let bytes = journal(&[b"one", b"two", b"three"]);
        let scan = scan(&bytes);
        assert_eq!(payloads(&scan), vec![&b"one"[..], b"two", b"three"]);
        assert_eq!(scan.valid_len, bytes.len());
        assert_eq!(scan.version, Some(Version::V2));
        assert!(scan.damage.is_empty() && scan.torn.is_none());
    }

    #[test]
    fn version_1_journals_still_read() {
        let mut bytes = HEADER_V1.to_vec();
        for p in [&b"alpha"[..], b"beta"] {
            encode_v1(p, &mut bytes);
        }
        let scan = scan(&bytes);
        assert_eq!(scan.version, Some(Version::V1));
        assert_eq!(payloads(&scan), vec![&b"alpha"[..], b"beta"]);
        assert!(scan.damage.is_empty() && scan.torn.is_none());
    }

    #[test]
    fn every_truncation_is_a_torn_tail_keeping_the_whole_frames_before_it() {
        let frames: [&[u8]; 3] = [b"alpha", b"beta", b"gamma"];
        let bytes = journal(&frames);
        let ends = boundaries(&frames);
        for cut in HEADER.len()..bytes.len() {
            let scan = scan(&bytes[..cut]);
            let whole = ends.iter().filter(|&&e| e <= cut).count() - 1;
            assert_eq!(scan.frames.len(), whole, "cut at {cut}");
            assert_eq!(scan.valid_len, ends[whole], "cut at {cut}");
            assert!(scan.damage.is_empty(), "cut at {cut}: {:?}", scan.damage);
            assert_eq!(scan.torn.is_some(), !ends.contains(&cut), "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_bit_in_a_middle_frame_is_damage_and_the_frames_after_it_are_found() {
        let frames: [&[u8]; 3] = [b"alpha", b"beta", b"gamma"];
        let ends = boundaries(&frames);
        let mut bytes = journal(&frames);
        bytes[ends[1] + FRAME_HEADER + 1] ^= 0x20;
        let scan = scan(&bytes);
        assert_eq!(payloads(&scan), vec![&b"alpha"[..], b"gamma"]);
        assert_eq!(scan.valid_len, ends[1]);
        assert_eq!(scan.damage.len(), 1);
        assert_eq!(
            (scan.damage[0].start, scan.damage[0].end),
            (ends[1], ends[2])
        );
        assert!(scan.damage[0].reason.contains("checksum"));
        assert!(scan.torn.is_none());
    }

    #[test]
    fn a_damaged_length_is_repaired_from_the_next_frame_marker() {
        let frames: [&[u8]; 3] = [b"alpha", b"beta", b"gamma"];
        let ends = boundaries(&frames);
        let mut bytes = journal(&frames);
        bytes[ends[1] + 4] ^= 0x40;
        let scan = scan(&bytes);
        assert_eq!(payloads(&scan), vec![&b"alpha"[..], b"beta", b"gamma"]);
        assert_eq!(
            scan.damage.len(),
            1,
            "still damage: refused unless recovering"
        );
        assert!(scan.damage[0].reason.contains("kept"));
    }

    #[test]
    fn a_flipped_bit_in_the_last_frame_is_a_torn_tail() {
        let frames: [&[u8]; 2] = [b"alpha", b"beta"];
        let ends = boundaries(&frames);
        let mut bytes = journal(&frames);
        bytes[ends[1] + FRAME_HEADER] ^= 1;
        let scan = scan(&bytes);
        assert_eq!(payloads(&scan), vec![&b"alpha"[..]]);
        assert!(scan.damage.is_empty());
        assert_eq!(scan.torn.as_ref().map(|t| t.start), Some(ends[1]));
    }

    #[test]
    fn a_damaged_file_header_is_damage_and_the_frames_are_still_found() {
        let mut bytes = journal(&[b"alpha", b"beta"]);
        bytes[3] ^= 0xff;
        let scan = scan(&bytes);
        assert_eq!(payloads(&scan), vec![&b"alpha"[..], b"beta"]);
        assert_eq!(scan.valid_len, 0);
        assert_eq!(scan.damage.len(), 1);
        assert_eq!((scan.damage[0].start, scan.damage[0].end), (0, 8));
    }

    #[test]
    fn a_header_flipped_to_the_other_version_is_damage() {
        let mut bytes = journal(&[b"alpha", b"beta"]);
        bytes[7] = b'1';
        let scan = scan(&bytes);
        assert_eq!(scan.version, Some(Version::V2));
        assert_eq!(payloads(&scan), vec![&b"alpha"[..], b"beta"]);
        assert_eq!((scan.damage[0].start, scan.damage[0].end), (0, 8));

        let mut bytes = HEADER_V1.to_vec();
        encode_v1(b"alpha", &mut bytes);
        bytes[7] = b'2';
        let v1 = super::scan(&bytes);
        assert_eq!(v1.version, Some(Version::V1));
        assert_eq!(payloads(&v1), vec![&b"alpha"[..]]);
        assert_eq!(v1.damage.len(), 1);
    }

    #[test]
    fn a_foreign_file_is_damage_not_an_empty_journal() {
        let scan = scan(b"hello world, not a journal");
        assert!(scan.frames.is_empty());
        assert_eq!(scan.valid_len, 0);
        assert_eq!(scan.damage.len(), 1);
    }

    #[test]
    fn a_piece_of_a_header_is_a_torn_tail() {
        for bytes in [&b"STRJ"[..], b"STRJNL0", &[0; 8]] {
            let scan = scan(bytes);
            assert!(scan.damage.is_empty(), "{bytes:?}");
            assert!(scan.torn.is_some(), "{bytes:?}");
        }
    }

    #[test]
    fn an_absurd_length_is_corruption() {
        let mut bytes = HEADER_V1.to_vec();
        encode_v1(b"ok", &mut bytes);
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 12]);
        let scan = scan(&bytes);
        assert_eq!(scan.frames.len(), 1);
        assert!(scan.torn.unwrap().reason.contains("claims"));
    }

    #[test]
    fn zeros_are_never_frames() {
        // In version 1, [0 length][0 CRC] would pass a checksum check.
        let mut bytes = HEADER_V1.to_vec();
        encode_v1(b"ok", &mut bytes);
        bytes.extend_from_slice(&[0; 64]);
        let scan = scan(&bytes);
        assert_eq!(scan.frames.len(), 1);
        assert!(scan.damage.is_empty());
        assert!(scan.torn.is_some());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn encode_then_scan_round_trips(
            frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..20)
        ) {
            let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
            let bytes = journal(&refs);
            let scan = scan(&bytes);
            prop_assert_eq!(payloads(&scan), refs.clone());
            let offsets: Vec<usize> = scan.frames.iter().map(|f| f.offset).collect();
            let ends = boundaries(&refs);
            prop_assert_eq!(offsets.as_slice(), &ends[..ends.len() - 1]);
            prop_assert_eq!(scan.valid_len, bytes.len());
            prop_assert!(scan.damage.is_empty() && scan.torn.is_none());
        }

        #[test]
        fn scanning_arbitrary_bytes_never_panics_and_accounts_for_every_byte(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            header in 0usize..3,
        ) {
            let mut input = match header {
                0 => Vec::new(),
                1 => HEADER.to_vec(),
                _ => HEADER_V1.to_vec(),
            };
            input.extend_from_slice(&bytes);
            let scan = scan(&input);
            prop_assert!(scan.valid_len <= input.len());
            // Frames and bad regions tile the file after its header.
            // A repaired frame lies inside the damage region that reports it.
            let repaired = |at: usize| scan.damage.iter().any(|d| d.start == at);
            let mut regions: Vec<(usize, usize)> = scan
                .frames
                .iter()
                .filter(|f| !repaired(f.offset))
                .map(|f| (f.offset, f.payload.as_ptr() as usize - input.as_ptr() as usize + f.payload.len()))
                .chain(scan.damage.iter().map(|d| (d.start, d.end)))
                .chain(scan.torn.iter().map(|t| (t.start, t.end)))
                .collect();
            regions.sort();
            let Some(&(mut at, _)) = regions.first() else {
                prop_assert!(input.len() <= HEADER.len());
                return Ok(());
            };
            prop_assert!(at == 0 || at == HEADER.len());
            for (start, end) in regions {
                prop_assert_eq!(start, at);
                prop_assert!(end > start);
                at = end;
            }
            prop_assert_eq!(at, input.len());
        }
    }
}
