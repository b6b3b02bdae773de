//! The damaged copies: every class of damage applied to every clean source, plus the cases
//! that need a format's structure (dimension bombs, an MP4 whose index lies). Deterministic: the
//! random bytes and bit positions come from a fixed-seed generator, so a run makes the same
//! corpus every time and a failure names a file that the next run makes again.

use std::path::Path;

use super::common::Noise;
use super::media::{self, Kind, Source};

/// What a damaged copy may get from `tessera process`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Expect {
    /// The damage is one the format lets a reader see (a length, an index, a checksum, an end
    /// marker, a header field out of range): exit code 1 with a message naming the file.
    Fail,
    /// The format has no check that covers the damaged bytes (no checksum over coded data), and
    /// for a video FFmpeg's decoder says nothing either: a clean error, or exit 0 with an output
    /// that decodes. Counted apart, never as correct.
    Undetectable,
    /// Nothing is damaged, only the name lies (a PNG named `.jpg`): a clean error, or exit 0
    /// with the same output the correctly named file gets.
    Same,
}

/// One damaged input: its class (the summary's row), the source it came from (the column),
/// the file name it is written under, its bytes and what it may get.
pub struct Case {
    pub class: &'static str,
    pub source: usize,
    pub file: String,
    pub bytes: Vec<u8>,
    pub expect: Expect,
}

/// The fractions of a file's bytes a truncated copy keeps.
const CUTS: [(&str, f64); 7] = [
    ("cut-1%", 0.01),
    ("cut-10%", 0.10),
    ("cut-25%", 0.25),
    ("cut-50%", 0.50),
    ("cut-75%", 0.75),
    ("cut-90%", 0.90),
    ("cut-99%", 0.99),
];

/// Copies with flipped bits in each region, each from its own seed.
const FLIPS_PER_REGION: u64 = 3;
/// Bits flipped in one copy.
const FLIPPED_BITS: usize = 2;
/// The largest garbage block written over a file.
const GARBAGE: usize = 512;

/// The name each source is given by the `wrong-ext` class: its content under another format's
/// extension (a still named as a video and the other way round among them).
fn wrong_extension(name: &str) -> &'static str {
    match name {
        "png8" => "jpg",
        "png16a" => "mp4",
        "jpeg" => "png",
        "webp-ll" => "tif",
        "webp-lossy" => "jpg",
        "tiff" => "webp",
        "gif" => "png",
        "mp4" => "png",
        "mp4-fast" => "mkv",
        "mkv" => "mp4",
        "webm" => "mkv",
        "ts" => "mp4",
        other => panic!("no wrong extension for {other}"),
    }
}

/// The bytes a format's reader sees first: its header and index in most containers here (the
/// MP4 whose index is at its end excepted). At least 64 bytes, a twentieth of a larger file.
fn header_len(len: usize) -> usize {
    len.min((len / 20).max(64))
}

fn flip_bits(bytes: &[u8], range: std::ops::Range<usize>, seed: u64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut noise = Noise::new(seed);
    let span = range.end - range.start;
    for _ in 0..FLIPPED_BITS {
        let at = range.start + noise.next() as usize % span;
        out[at] ^= 1 << (noise.next() % 8);
    }
    out
}

/// `bytes` with a block of random bytes, at most [`GARBAGE`] long and at most `limit`, centred
/// on `centre`.
fn garbage(bytes: &[u8], centre: usize, limit: usize, seed: u64) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let len = GARBAGE.min(limit).min(out.len());
    let start = centre.saturating_sub(len / 2).min(out.len() - len);
    let mut noise = Noise::new(seed);
    for b in &mut out[start..start + len] {
        *b = noise.next() as u8;
    }
    out
}

/// Every case, made from `sources`; `dir` holds the clean files ffprobe reads to find the video
/// packets.
pub fn cases(sources: &[Source], dir: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let strict_png = source.name.starts_with("png");
        let mut add = |class, bytes, expect, ext: &str| {
            let n = cases.len();
            cases.push(Case {
                class,
                source: index,
                file: format!("{n:03}-{class}-{}.{ext}", source.name).replace('%', "pc"),
                bytes,
                expect,
            })
        };
        let bytes = &source.bytes;
        let len = bytes.len();
        let ext = source.ext;
        add("zero-byte", Vec::new(), Expect::Fail, ext);
        for (class, keep) in CUTS {
            let cut = ((len as f64 * keep) as usize).max(1);
            add(class, bytes[..cut].to_vec(), Expect::Fail, ext);
        }
        // A PNG's every chunk has a CRC; elsewhere a flipped bit may only change pixels.
        let flips = if strict_png {
            Expect::Fail
        } else {
            Expect::Undetectable
        };
        let header = header_len(len);
        for seed in 0..FLIPS_PER_REGION {
            add("flip-header", flip_bits(bytes, 0..header, seed), flips, ext);
        }
        for seed in 0..FLIPS_PER_REGION {
            let flipped = flip_bits(bytes, header..len, 100 + seed);
            add("flip-body", flipped, flips, ext);
        }
        // Random bytes in a JPEG's entropy-coded data hold markers and invalid codes; in a PNG
        // they fail a CRC. The other formats have no check over their coded data, and in a
        // video the middle of the file may be audio, which is copied, never decoded.
        let strict_garbage = strict_png || source.name == "jpeg";
        let in_middle = if strict_garbage {
            Expect::Fail
        } else {
            Expect::Undetectable
        };
        add(
            "garbage-mid",
            garbage(bytes, len / 2, usize::MAX, 200),
            in_middle,
            ext,
        );
        match source.kind {
            Kind::Image => add(
                "garbage-early",
                garbage(bytes, len / 4, usize::MAX, 201),
                in_middle,
                ext,
            ),
            Kind::Video => {
                // Over the middle of the largest video packet: the decoder gets a packet it
                // cannot decode as it stands. H.264 and GIF decoders report it; VP9's does not
                // (its arithmetic decoder takes any bytes), so there FFmpeg's word decides.
                let clean = dir.join(format!("clean-{}.{ext}", source.name));
                std::fs::write(&clean, bytes).unwrap();
                let (pos, size) = media::video_packets(&clean)
                    .into_iter()
                    .max_by_key(|&(_, size)| size)
                    .expect("the clip has video packets");
                let expect = if source.name == "webm" {
                    Expect::Undetectable
                } else {
                    Expect::Fail
                };
                add(
                    "garbage-video",
                    garbage(bytes, pos + size / 2, size, 202),
                    expect,
                    ext,
                );
            }
        }
        add(
            "wrong-ext",
            bytes.clone(),
            Expect::Same,
            wrong_extension(source.name),
        );
        for (class, damaged) in bombs(source) {
            add(class, damaged, Expect::Fail, ext);
        }
        for (class, damaged) in lying_index(source) {
            add(class, damaged, Expect::Fail, ext);
        }
    }
    // Damage in a video that FFmpeg's own decoder reports is damage tessera can see too.
    for case in &mut cases {
        if case.expect == Expect::Undetectable && sources[case.source].kind == Kind::Video {
            let path = dir.join(&case.file);
            std::fs::write(&path, &case.bytes).unwrap();
            if ffmpeg_reports(&path) {
                case.expect = Expect::Fail;
            }
            std::fs::remove_file(&path).unwrap();
        }
    }
    cases
}

/// True when FFmpeg, decoding the first video stream of `path` on one thread, says anything at
/// its `error` level or fails: the damage is in the open, whatever the format's checks.
fn ffmpeg_reports(path: &Path) -> bool {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-threads", "1", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    !out.status.success() || !out.stderr.is_empty()
}

/// Headers claiming pictures far larger than the data: 100000² and 2³¹−1 rows in a PNG (CRC
/// made valid), 65000² in a JPEG, 2³¹ rows and 100000² in a TIFF, 65535² in a GIF, 16384² (the
/// format's largest) in a lossless WebP.
fn bombs(source: &Source) -> Vec<(&'static str, Vec<u8>)> {
    let b = &source.bytes;
    match source.name {
        "png8" => vec![
            ("bomb-100000x100000", png_size(b, 100_000, 100_000)),
            ("bomb-2^31-rows", png_size(b, 1, (1 << 31) - 1)),
        ],
        "jpeg" => vec![("bomb-65000x65000", jpeg_size(b, 65_000, 65_000))],
        "tiff" => vec![
            ("bomb-2^31-rows", tiff_size(b, media::WIDTH, 1 << 31)),
            ("bomb-100000x100000", tiff_size(b, 100_000, 100_000)),
        ],
        "gif" => {
            let mut d = b.clone();
            d[6..10].copy_from_slice(&[0xff; 4]);
            vec![("bomb-65535x65535", d)]
        }
        "webp-ll" => {
            assert_eq!(&b[12..16], b"VP8L", "a simple lossless WebP");
            let mut d = b.clone();
            let bits = u32::from_le_bytes(d[21..25].try_into().unwrap()) | 0x0fff_ffff;
            d[21..25].copy_from_slice(&bits.to_le_bytes());
            vec![("bomb-16384x16384", d)]
        }
        _ => Vec::new(),
    }
}

/// A PNG whose IHDR claims `width`×`height`, with the chunk's CRC made to match.
fn png_size(bytes: &[u8], width: u32, height: u32) -> Vec<u8> {
    assert_eq!(&bytes[12..16], b"IHDR");
    let mut d = bytes.to_vec();
    d[16..20].copy_from_slice(&width.to_be_bytes());
    d[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&d[12..29]);
    d[29..33].copy_from_slice(&crc.to_be_bytes());
    d
}

/// A JPEG whose frame header (SOF0) claims `width`×`height`.
fn jpeg_size(bytes: &[u8], width: u16, height: u16) -> Vec<u8> {
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("a baseline JPEG");
    let mut d = bytes.to_vec();
    d[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    d[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    d
}

/// A little-endian TIFF whose first IFD claims `width`×`height` (written as LONGs).
fn tiff_size(bytes: &[u8], width: u32, height: u32) -> Vec<u8> {
    assert_eq!(&bytes[..4], b"II*\0", "a little-endian TIFF");
    let mut d = bytes.to_vec();
    let ifd = u32::from_le_bytes(d[4..8].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes([d[ifd], d[ifd + 1]]) as usize;
    for e in (0..count).map(|i| ifd + 2 + 12 * i) {
        let value = match u16::from_le_bytes([d[e], d[e + 1]]) {
            256 => width,
            257 => height,
            _ => continue,
        };
        d[e + 2..e + 4].copy_from_slice(&4u16.to_le_bytes());
        d[e + 4..e + 8].copy_from_slice(&1u32.to_le_bytes());
        d[e + 8..e + 12].copy_from_slice(&value.to_le_bytes());
    }
    d
}

/// The PNG chunk CRC (ISO 3309, as zlib's `crc32`).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xedb8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// MP4s whose index (the first track's sample tables) lies about the data: chunk offsets past
/// the end of the file, a sample larger than the file, a sample count larger than its table,
/// and more samples in the timing table than there are.
fn lying_index(source: &Source) -> Vec<(&'static str, Vec<u8>)> {
    if !source.name.starts_with("mp4") {
        return Vec::new();
    }
    let b = &source.bytes;
    let table = |name: &[u8; 4]| {
        find_box(b, &[b"moov", b"trak", b"mdia", b"minf", b"stbl", name])
            .unwrap_or_else(|| panic!("{} has no {}", source.name, String::from_utf8_lossy(name)))
    };
    let be = |d: &[u8], at: usize| u32::from_be_bytes(d[at..at + 4].try_into().unwrap());
    let put = |d: &mut [u8], at: usize, v: u32| d[at..at + 4].copy_from_slice(&v.to_be_bytes());
    let mut cases = Vec::new();

    let stco = table(b"stco");
    let mut d = b.clone();
    for i in 0..be(b, stco + 4) as usize {
        let at = stco + 8 + 4 * i;
        put(&mut d, at, be(b, at) + b.len() as u32);
    }
    cases.push(("index-stco-past-end", d));

    let stsz = table(b"stsz");
    let samples = be(b, stsz + 8) as usize;
    assert!(
        be(b, stsz + 4) == 0 && samples > 0,
        "a table of sample sizes"
    );
    let mut d = b.clone();
    put(&mut d, stsz + 12 + 4 * (samples - 1), 16 << 20);
    cases.push(("index-stsz-huge", d));

    let mut d = b.clone();
    put(&mut d, stsz + 8, samples as u32 + 1000);
    cases.push(("index-stsz-count", d));

    let stts = table(b"stts");
    let mut d = b.clone();
    put(&mut d, stts + 8, be(b, stts + 8) + 1000);
    cases.push(("index-stts-more", d));
    cases
}

/// Where the content of the box at `path` (each name a child of the one before, the first of
/// each name) starts, after its header.
fn find_box(bytes: &[u8], path: &[&[u8; 4]]) -> Option<usize> {
    let (mut at, mut end) = (0, bytes.len());
    for (depth, name) in path.iter().enumerate() {
        loop {
            if at + 8 > end {
                return None;
            }
            let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let (header, size) = match size {
                0 => (8, end - at),
                1 => (
                    16,
                    u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize,
                ),
                n => (8, n),
            };
            if &bytes[at + 4..at + 8] == *name {
                if depth + 1 == path.len() {
                    return Some(at + header);
                }
                (at, end) = (at + header, at + size);
                break;
            }
            at += size;
        }
    }
    None
}
