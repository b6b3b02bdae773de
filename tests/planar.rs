//! Video through the binary in the decoder's own format: a run without filters is lossless
//! (FFmpeg's frame checksums agree), `eq` gives FFmpeg's eq's codes, odd sizes, depths, ranges
//! and matrices keep their layout and mean the same picture on both backends.

mod common;

use std::path::{Path, PathBuf};

use common::{decoded as raw, ffmpeg, ffprobe, s, tessera};

/// `ffmpeg -f framemd5` of the first video stream: one line a frame, checksums of the decoded
/// samples as the decoder gives them.
fn framemd5(path: &Path) -> Vec<String> {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-map",
            "0:v:0",
            "-f",
            "framemd5",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg could not read {}",
        path.display()
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.rsplit(',').next().unwrap_or("").trim().to_string())
        .collect()
}

fn probe(path: &Path, entry: &str) -> String {
    let entries = format!("stream={entry}");
    ffprobe(
        path,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            &entries,
            "-of",
            "csv=p=0",
        ],
    )
}

/// A test-pattern clip of `size` in `pix_fmt`, coded with `codec` (and its arguments).
fn pattern(
    dir: &Path,
    name: &str,
    size: &str,
    pix_fmt: &str,
    codec: &[&str],
    extra: &[&str],
) -> PathBuf {
    let path = dir.join(name);
    let source = format!("testsrc2=s={size}:r=10:d=1");
    let mut args = vec!["-f", "lavfi", "-i", &source];
    args.extend(extra);
    args.extend(["-pix_fmt", pix_fmt]);
    args.extend(codec);
    args.push(s(&path));
    ffmpeg(&args);
    path
}

fn process(input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec!["process", s(input), "-o", s(output), "--overwrite"];
    args.extend(extra);
    let (code, _, err) = tessera(&args);
    assert_eq!(code, 0, "{}: {err}", input.display());
}

/// The largest difference between two raw 8-bit 4:2:0 videos of `w`×`h`, per plane.
fn plane_diffs_420(a: &[u8], b: &[u8], w: usize, h: usize) -> [u32; 3] {
    assert_eq!(a.len(), b.len(), "frame counts differ");
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let frame = w * h + 2 * cw * ch;
    let mut max = [0u32; 3];
    for (fa, fb) in a.chunks(frame).zip(b.chunks(frame)) {
        for (p, range) in [
            (0, 0..w * h),
            (1, w * h..w * h + cw * ch),
            (2, w * h + cw * ch..frame),
        ] {
            let d = fa[range.clone()]
                .iter()
                .zip(&fb[range])
                .map(|(x, y)| x.abs_diff(*y) as u32)
                .max();
            max[p] = max[p].max(d.unwrap_or(0));
        }
    }
    max
}

/// No chain: FFV1 out of 8- and 10-bit, 4:2:0, 4:2:2 and 4:4:4 sources (and H.264 in) holds
/// exactly the frames the source decodes to, in the source's format.
#[test]
fn a_run_without_filters_is_lossless() {
    let dir = tempfile::tempdir().unwrap();
    let ffv1: &[&str] = &["-c:v", "ffv1"];
    let sources = [
        pattern(dir.path(), "a.mkv", "96x64", "yuv420p", ffv1, &[]),
        pattern(dir.path(), "b.mkv", "96x64", "yuv444p", ffv1, &[]),
        pattern(dir.path(), "c.mkv", "96x64", "yuv420p10le", ffv1, &[]),
        pattern(dir.path(), "d.mkv", "96x64", "yuv422p10le", ffv1, &[]),
        pattern(dir.path(), "e.mkv", "96x64", "yuv444p10le", ffv1, &[]),
        pattern(
            dir.path(),
            "f.mp4",
            "96x64",
            "yuv420p",
            &["-c:v", "libx264"],
            &[],
        ),
        pattern(dir.path(), "g.mkv", "95x63", "yuv420p", ffv1, &[]),
    ];
    for (i, input) in sources.iter().enumerate() {
        let output = dir.path().join(format!("out{i}.mkv"));
        process(input, &output, &["--codec", "ffv1", "--backend", "cpu"]);
        assert_eq!(
            probe(&output, "pix_fmt"),
            probe(input, "pix_fmt"),
            "{}",
            input.display()
        );
        let (a, b) = (framemd5(input), framemd5(&output));
        assert_eq!(a.len(), 10, "{}", input.display());
        assert_eq!(a, b, "{}: decoded frames differ", input.display());
    }
}

/// `eq` is FFmpeg's eq: the same codes, plane by plane, as `ffmpeg -vf eq=…`.
#[test]
fn eq_gives_ffmpegs_codes() {
    let dir = tempfile::tempdir().unwrap();
    let input = pattern(
        dir.path(),
        "in.mkv",
        "160x120",
        "yuv420p",
        &["-c:v", "ffv1"],
        &[],
    );
    for (chain, vf) in [
        (
            "eq(brightness=0.05, contrast=1.2, saturation=1.3)",
            "eq=brightness=0.05:contrast=1.2:saturation=1.3",
        ),
        (
            "eq(brightness=-0.2, saturation=0.5)",
            "eq=brightness=-0.2:saturation=0.5",
        ),
        ("eq(contrast=0.8, gamma=1.8)", "eq=contrast=0.8:gamma=1.8"),
        (
            "eq(brightness=0.3, contrast=-0.7, saturation=2.5, gamma=0.6)",
            "eq=brightness=0.3:contrast=-0.7:saturation=2.5:gamma=0.6",
        ),
    ] {
        let ours = dir.path().join("ours.mkv");
        process(
            &input,
            &ours,
            &["--codec", "ffv1", "--backend", "cpu", "--chain", chain],
        );
        let theirs = dir.path().join("theirs.mkv");
        ffmpeg(&["-i", s(&input), "-vf", vf, "-c:v", "ffv1", s(&theirs)]);
        let d = plane_diffs_420(&raw(&ours, "yuv420p"), &raw(&theirs, "yuv420p"), 160, 120);
        assert!(
            d.iter().all(|&d| d <= 1),
            "{chain}: {d:?} codes from FFmpeg's"
        );
    }
}

/// Odd sizes, 10 bits, full and limited range, BT.601, BT.709 and BT.2020: the output keeps
/// the source's format and tags, and the backends agree within one code.
#[test]
fn odd_sizes_depths_ranges_and_matrices() {
    let dir = tempfile::tempdir().unwrap();
    let ffv1: &[&str] = &["-c:v", "ffv1"];
    let tagged = |matrix: &'static str, range: &'static str| -> Vec<&'static str> {
        vec!["-colorspace", matrix, "-color_range", range]
    };
    let cases = [
        ("odd.mkv", "191x107", "yuv420p", tagged("bt709", "tv")),
        ("ten.mkv", "96x64", "yuv420p10le", tagged("bt2020nc", "tv")),
        ("full.mkv", "96x64", "yuv420p", tagged("bt709", "pc")),
        ("sd.mkv", "96x64", "yuv422p", tagged("smpte170m", "tv")),
    ];
    // Even output sizes: 4:2:0 and 4:2:2 encoders take no others.
    let chain = "gblur(1.5) | eq(contrast=1.1, saturation=1.2) | crop(2, 2, 80, 50) | tint(#ffa060, 0.3) | scale(62, 38)";
    for (name, size, pix_fmt, tags) in cases {
        let input = pattern(dir.path(), name, size, pix_fmt, ffv1, &[]);
        // Tag the clip as the case says.
        let tagged_input = dir.path().join(format!("tagged-{name}"));
        let mut args = vec!["-i", s(&input), "-c", "copy"];
        args.extend(tags.iter().copied());
        args.push(s(&tagged_input));
        ffmpeg(&args);
        let cpu = dir.path().join(format!("cpu-{name}"));
        process(
            &tagged_input,
            &cpu,
            &["--codec", "ffv1", "--backend", "cpu", "--chain", chain],
        );
        for entry in ["pix_fmt", "color_space", "color_range"] {
            assert_eq!(
                probe(&cpu, entry),
                probe(&tagged_input, entry),
                "{name}: {entry}"
            );
        }
        assert_eq!(probe(&cpu, "width,height"), "62,38", "{name}");
        if common::gpu().is_some() {
            let gpu = dir.path().join(format!("gpu-{name}"));
            process(
                &tagged_input,
                &gpu,
                &["--codec", "ffv1", "--backend", "gpu", "--chain", chain],
            );
            let fmt = if pix_fmt.contains("10") {
                "yuv420p10le"
            } else {
                pix_fmt
            };
            let (a, b) = (raw(&cpu, fmt), raw(&gpu, fmt));
            let wide = fmt.contains("10");
            let max = if wide {
                a.chunks(2)
                    .zip(b.chunks(2))
                    .map(|(x, y)| {
                        u16::from_le_bytes([x[0], x[1]]).abs_diff(u16::from_le_bytes([y[0], y[1]]))
                    })
                    .max()
            } else {
                a.iter().zip(&b).map(|(x, y)| x.abs_diff(*y) as u16).max()
            };
            assert!(
                max.unwrap_or(0) <= 1,
                "{name}: the backends differ by {max:?}"
            );
        }
    }
}

/// invert on limited and full range: 1 − Y′ within the range (16 + 235 − Y limited, 255 − Y
/// full), chroma mirrored around neutral.
#[test]
fn invert_knows_the_range() {
    let dir = tempfile::tempdir().unwrap();
    for (range, luma_sum) in [("tv", 251u32), ("pc", 255)] {
        let input = dir.path().join(format!("{range}.mkv"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=64x48:r=10:d=1",
            "-pix_fmt",
            "yuv420p",
            "-color_range",
            range,
            "-c:v",
            "ffv1",
            s(&input),
        ]);
        let output = dir.path().join(format!("inv-{range}.mkv"));
        process(
            &input,
            &output,
            &["--codec", "ffv1", "--backend", "cpu", "--chain", "invert"],
        );
        let (a, b) = (raw(&input, "yuv420p"), raw(&output, "yuv420p"));
        let frame = 64 * 48 + 2 * 32 * 24;
        for (i, (x, y)) in a[..frame].iter().zip(&b[..frame]).enumerate() {
            let want = if i < 64 * 48 {
                luma_sum.saturating_sub(*x as u32).min(255)
            } else {
                (256 - *x as u32).min(255)
            };
            assert_eq!(*y as u32, want, "{range}: sample {i} of {x}");
        }
    }
}
