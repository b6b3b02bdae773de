//! `--max-pixels` and `--max-memory` through the binary: a picture or a video's frames, or what
//! the chain makes of them, over a limit are refused before it is decoded (exit code 1, the file named, what to change
//! said, nothing written), and a header that claims a huge picture (a dimension bomb) is refused
//! without the memory it claims ever being taken: the children's peak resident memory, read
//! with getrusage, stays far below it.

mod common;

use std::path::Path;

use common::{s, tessera, write_png8};

/// A PNG of a few hundred bytes whose header claims `w`×`h` RGB pixels: one row of data, as a
/// dimension bomb carries.
fn png_bomb(path: &Path, w: u32, h: u32) {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
        out
    }
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let row = vec![0u8; 1 + 3 * w as usize];
    let idat = miniz_oxide::deflate::compress_to_vec_zlib(&row, 9);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &idat));
    png.extend(chunk(b"IEND", &[]));
    std::fs::write(path, png).unwrap();
}

/// PNG's CRC-32 (ISO 3309).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The largest resident memory any child of this test process reached, in bytes.
fn children_peak() -> u64 {
    // SAFETY: getrusage fills the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage
    };
    usage.ru_maxrss as u64 * 1024
}

/// Runs a command that must be refused: exit code 1, `expected` in the message, no output.
fn refused(args: &[&str], expected: &str, output: &Path) -> String {
    let (code, _, stderr) = tessera(args);
    assert_eq!(code, 1, "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!output.exists(), "{args:?}: {} written", output.display());
    stderr
}

#[test]
fn limits_refuse_before_anything_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");

    // A 60000×60000 RGB claim (10 GB decoded) in 250 bytes: refused from its header, the
    // memory never taken.
    let bomb = dir.path().join("bomb.png");
    png_bomb(&bomb, 60000, 60000);
    let message = refused(
        &["process", s(&bomb), "-o", s(&out), "--max-memory", "1G"],
        "a 60000x60000 picture needs about",
        &out,
    );
    assert!(
        message.contains(&format!("{}: ", bomb.display())),
        "{message}"
    );
    assert!(
        message.contains("more than --max-memory 1.0 GiB; raise --max-memory"),
        "{message}"
    );
    let peak = children_peak();
    assert!(peak < 1 << 30, "a child reached {peak} bytes");

    // --max-pixels: the picture as read, and the picture a chain makes.
    let photo = dir.path().join("photo.png");
    write_png8(&photo, 300, 200, 1);
    refused(
        &["process", s(&photo), "-o", s(&out), "--max-pixels", "50k"],
        "the picture is 300x200, 60000 pixels, more than --max-pixels 50000",
        &out,
    );
    refused(
        &[
            "process",
            s(&photo),
            "-o",
            s(&out),
            "--chain",
            "scale(width=3000)",
            "--max-pixels",
            "1M",
        ],
        "the chain makes 3000x2000 pictures, 6000000 pixels, more than --max-pixels 1000000",
        &out,
    );
    // A dry run says the same, and within the limits the picture is processed.
    let (code, _, stderr) = tessera(&[
        "process",
        s(&photo),
        "-o",
        s(&out),
        "--max-memory",
        "64k",
        "--dry-run",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("more than --max-memory 64.0 KiB"),
        "{stderr}"
    );
    let (code, _, stderr) = tessera(&[
        "process",
        s(&photo),
        "-o",
        s(&out),
        "--max-pixels",
        "60k",
        "--max-memory",
        "16M",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(out.exists());

    // A video's frames, checked before the first is decoded.
    if cfg!(feature = "video") {
        let clip = dir.path().join("clip.mp4");
        common::h264_clip(&clip, "testsrc2=s=96x64:d=0.2");
        let video_out = dir.path().join("out.mkv");
        refused(
            &[
                "process",
                s(&clip),
                "-o",
                s(&video_out),
                "--max-pixels",
                "6000",
            ],
            "the video's frames are 96x64, 6144 pixels, more than --max-pixels 6000",
            &video_out,
        );
        refused(
            &[
                "process",
                s(&clip),
                "-o",
                s(&video_out),
                "--max-memory",
                "40k",
            ],
            "96x64 video frames need about",
            &video_out,
        );
    }

    // Flags that are not amounts are usage errors.
    let (code, _, stderr) = tessera(&["process", s(&photo), "-o", s(&out), "--max-memory", "lots"]);
    assert_eq!(code, 2, "{stderr}");
}
