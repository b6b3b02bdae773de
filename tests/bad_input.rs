//! Bad input, through the binary: a clear message, the documented exit code, no output or
//! temporary file left behind, the input untouched, and never a panic.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Outcome {
    code: i32,
    stderr: String,
}

fn tessera(args: &[&str], envs: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run tessera");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "tessera panicked:\n{stderr}");
    Outcome {
        code: out.status.code().expect("exit code, not a signal"),
        stderr,
    }
}

/// A folder with one PNG input, written from a test image.
fn setup() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    let frame = common::test_image8(48, 32, 7);
    let tessera::Samples::U8(data) = frame.interleaved() else {
        unreachable!()
    };
    image::RgbaImage::from_raw(48, 32, data)
        .unwrap()
        .save(&input)
        .unwrap();
    let bytes = std::fs::read(&input).unwrap();
    (dir, input, bytes)
}

/// Only the files the test made are in the folder: no output, no temporary file.
fn assert_nothing_written(dir: &Path, expected: &[&str]) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names, expected, "files left in the output folder");
}

fn check_usage_error(chain: &str, expect: &[&str]) {
    let (dir, input, bytes) = setup();
    let out = dir.path().join("out.png");
    let r = tessera(
        &[
            "process",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chain",
            chain,
            "--backend",
            "cpu",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "exit code for {chain:?}; stderr:\n{}", r.stderr);
    for e in expect {
        assert!(
            r.stderr.contains(e),
            "stderr for {chain:?} lacks {e:?}:\n{}",
            r.stderr
        );
    }
    assert_nothing_written(dir.path(), &["in.png"]);
    assert_eq!(std::fs::read(&input).unwrap(), bytes, "input modified");
}

#[test]
fn unknown_filter_suggests_the_closest() {
    check_usage_error(
        "gblr(sigma=2) | invert",
        &[
            "unknown filter `gblr`",
            "did you mean `gblur`?",
            "1 | gblr(sigma=2) | invert",
            "  | ^^^^",
        ],
    );
}

#[test]
fn unknown_parameter_is_named() {
    check_usage_error(
        "gblur(sigm=2)",
        &[
            "`gblur` has no parameter `sigm`",
            "did you mean `sigma`?",
            "      ^^^^",
        ],
    );
}

#[test]
fn missing_parameter_is_named() {
    check_usage_error(
        "crop(x=1, y=1)",
        &["`crop` needs `width`", "^^^^^^^^^^^^^^"],
    );
}

#[test]
fn out_of_range_parameter_gives_the_range() {
    check_usage_error(
        "invert | gblur(sigma=100)",
        &[
            "`sigma` = 100 is out of range (expected number, 0.1 ..= 64)",
            "                     ^^^",
        ],
    );
}

#[test]
fn chain_that_cannot_fit_the_frame_points_at_the_stage() {
    check_usage_error(
        "crop(x=40, y=0, width=20, height=10)",
        &["reaches outside the 48x32 frame", "^^^^"],
    );
}

#[test]
fn syntax_error_points_at_the_token() {
    check_usage_error("gblur(sigma=2 | invert", &["expected `,` or `)`", "^"]);
}

#[test]
fn missing_input_is_a_processing_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let missing = dir.path().join("nope.png");
    let r = tessera(
        &[
            "process",
            missing.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chain",
            "invert",
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("nope.png") && r.stderr.contains("no such file"),
        "{}",
        r.stderr
    );
    assert_nothing_written(dir.path(), &[]);
}

#[test]
fn unreadable_input_is_reported_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("broken.png", &b"\x89PNG\r\n\x1a\nnot really a png"[..]),
        ("notes.txt", &b"just some text\n"[..]),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, bytes).unwrap();
        let out = dir.path().join("out.png");
        let r = tessera(
            &[
                "process",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--backend",
                "cpu",
            ],
            &[],
        );
        assert_eq!(r.code, 1, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(name),
            "{name}: the message names the file:\n{}",
            r.stderr
        );
        assert_eq!(std::fs::read(&input).unwrap(), bytes, "{name} modified");
    }
    assert_nothing_written(dir.path(), &["broken.png", "notes.txt"]);
}

#[test]
fn unsupported_output_format_is_refused() {
    let (dir, input, bytes) = setup();
    let out = dir.path().join("out.xyz");
    let r = tessera(
        &[
            "process",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
        ],
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("out.xyz"), "{}", r.stderr);
    assert_nothing_written(dir.path(), &["in.png"]);
    assert_eq!(std::fs::read(&input).unwrap(), bytes);
}

#[test]
fn existing_output_needs_overwrite() {
    let (dir, input, _) = setup();
    let out = dir.path().join("out.png");
    std::fs::write(&out, b"keep me").unwrap();
    let args = [
        "process",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--chain",
        "invert",
        "--backend",
        "cpu",
    ];
    let r = tessera(&args, &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--overwrite"), "{}", r.stderr);
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let mut with = args.to_vec();
    with.push("--overwrite");
    let r = tessera(&with, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(image::open(&out).is_ok(), "replaced with a real image");
    assert_nothing_written(dir.path(), &["in.png", "out.png"]);
}

#[test]
fn output_over_the_input_is_refused() {
    let (dir, input, bytes) = setup();
    let r = tessera(
        &[
            "process",
            input.to_str().unwrap(),
            "-o",
            input.to_str().unwrap(),
            "--overwrite",
            "--chain",
            "invert",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is the input"), "{}", r.stderr);
    assert_eq!(std::fs::read(&input).unwrap(), bytes);
    assert_nothing_written(dir.path(), &["in.png"]);
}

#[test]
fn no_gpu_under_backend_gpu_is_a_clear_error() {
    let (dir, input, _) = setup();
    let out = dir.path().join("out.png");
    // No Vulkan driver and no other wgpu backend: as on a machine without any GPU driver.
    let hide = [
        ("VK_ICD_FILENAMES", "/nonexistent.json"),
        ("VK_DRIVER_FILES", "/nonexistent.json"),
        ("WGPU_BACKEND", "vulkan"),
    ];
    let r = tessera(
        &[
            "process",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "gpu",
        ],
        &hide,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no GPU adapter found"), "{}", r.stderr);
    assert_nothing_written(dir.path(), &["in.png"]);
    // `auto` falls back to the CPU and says so.
    let r = tessera(
        &[
            "process",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--backend",
            "auto",
        ],
        &hide,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("backend cpu"), "{}", r.stderr);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let r = tessera(&["process", "x.png"], &[]);
    assert_eq!(r.code, 2, "no output and no --discard: {}", r.stderr);
    let r = tessera(
        &["process", "x.png", "-o", "y.png", "--backend", "tpu"],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = tessera(&["frobnicate"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

/// An H.264 MP4 clip of a second, `extra` being more of FFmpeg's output options.
fn mp4_clip(path: &Path, extra: &[&str]) {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x120:r=25:d=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
    ];
    args.extend_from_slice(extra);
    args.push(path.to_str().unwrap());
    common::ffmpeg(&args);
}

/// Writes the first `keep` bytes of `from` to `to`.
fn cut(from: &Path, to: &Path, keep: impl FnOnce(usize) -> usize) {
    let bytes = std::fs::read(from).unwrap();
    std::fs::write(to, &bytes[..keep(bytes.len())]).unwrap();
}

/// A video cut short before its index is reported as a damaged file of its container, saying
/// what is missing, not as a file of an unknown kind; with `-q`, tessera's error is all of
/// stderr (FFmpeg's own lines are not printed).
#[test]
fn truncated_videos_say_the_container_is_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.mp4");
    mp4_clip(&whole, &[]);
    let fast = dir.path().join("fast.mp4");
    mp4_clip(&fast, &["-movflags", "+faststart"]);
    let mkv = dir.path().join("whole.mkv");
    common::ffmpeg(&[
        "-i",
        whole.to_str().unwrap(),
        "-c",
        "copy",
        mkv.to_str().unwrap(),
    ]);
    let inputs = dir.path().join("inputs");
    std::fs::create_dir(&inputs).unwrap();

    // The default muxer writes the index (moov) last: half the file has none.
    let half = inputs.join("half.mp4");
    cut(&whole, &half, |n| n / 2);
    // +faststart writes it first: cut inside it.
    let index_cut = inputs.join("index-cut.mp4");
    cut(&fast, &index_cut, |_| 600);
    let mkv_head = inputs.join("head.mkv");
    cut(&mkv, &mkv_head, |_| 100);
    let cases: [(&Path, &[&str]); 3] = [
        (
            &half,
            &[
                "a damaged or incomplete MP4/MOV file",
                "its index (moov atom) is missing",
                "cut short while copying or recording",
                "FFmpeg said: moov atom not found",
            ],
        ),
        (
            &index_cut,
            &[
                "a damaged or incomplete MP4/MOV file",
                "FFmpeg could not read it: ",
            ],
        ),
        (
            &mkv_head,
            &[
                "a damaged or incomplete Matroska/WebM file",
                "FFmpeg could not read it: ",
            ],
        ),
    ];
    for (input, expect) in cases {
        let out = dir.path().join("out.mp4");
        let r = tessera(
            &[
                "process",
                "-q",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
            &[],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "only tessera's error: {}", r.stderr);
        assert!(
            lines[0].starts_with(&format!("error: {}: ", input.display())),
            "{}",
            r.stderr
        );
        for e in expect {
            assert!(r.stderr.contains(e), "{}: {}", input.display(), r.stderr);
        }
        assert!(!r.stderr.contains("not an image or video"), "{}", r.stderr);
        assert!(!out.exists());
    }

    // In a batch, a damaged video is not skipped as a file of an unknown kind: it fails, and
    // says why.
    let outs = dir.path().join("outs");
    let r = tessera(
        &[
            "process",
            "-q",
            inputs.to_str().unwrap(),
            "-o",
            outs.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("0 processed, 0 skipped, 3 failed"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("its index (moov atom) is missing"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("[mov,mp4"), "{}", r.stderr);
}

/// A photo-like picture of noise and gradients in `name`'s format (the `image` crate's
/// encoders), and its bytes.
fn still(dir: &Path, name: &str, w: u32, h: u32) -> (PathBuf, Vec<u8>) {
    let path = dir.join(name);
    let tessera::Samples::U8(data) = common::test_image8(w, h, 11).interleaved() else {
        unreachable!()
    };
    let rgb: Vec<u8> = data
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    image::RgbImage::from_raw(w, h, rgb)
        .unwrap()
        .save(&path)
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

/// `bytes` with a block of garbage over the middle: other data, 0xFF bytes among it.
fn with_garbage(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mid = out.len() / 2;
    let mut noise = common::Noise::new(5);
    for (i, b) in out[mid..mid + 64].iter_mut().enumerate() {
        *b = if i % 16 == 7 {
            0xff
        } else {
            noise.next() as u8
        };
    }
    out
}

/// `tessera process IN -o OUT --backend BACKEND` and more arguments.
fn process(input: &Path, output: &Path, backend: &str, more: &[&str]) -> Outcome {
    let mut args = vec![
        "process",
        input.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--chain",
        "invert",
        "--backend",
        backend,
    ];
    args.extend_from_slice(more);
    tessera(&args, &[])
}

/// A JPEG cut at 1 % to 99 % of its bytes or with garbage over its middle is an error by
/// default: exit code 1, a message naming the file and the damage, no output, the input as it
/// was. (Before, it was processed into a picture with a grey lower part.)
#[test]
fn damaged_jpeg_is_an_error_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = still(dir.path(), "whole.jpg", 160, 256);
    let mut cases: Vec<(String, Vec<u8>)> = [1, 10, 50, 90, 99]
        .iter()
        .map(|pct| {
            (
                format!("cut to {pct}%"),
                bytes[..bytes.len() * pct / 100].to_vec(),
            )
        })
        .collect();
    cases.push(("garbage".into(), with_garbage(&bytes)));
    let input = dir.path().join("in.jpg");
    let out = dir.path().join("out.png");
    for (what, data) in cases {
        std::fs::write(&input, &data).unwrap();
        let r = process(&input, &out, "cpu", &[]);
        assert_eq!(r.code, 1, "{what}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{}: damaged JPEG: ", input.display())),
            "{what}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("--on-error"), "{what}: {}", r.stderr);
        assert_eq!(
            std::fs::read(&input).unwrap(),
            data,
            "{what}: input modified"
        );
        assert_nothing_written(dir.path(), &["whole.jpg", "in.jpg"]);
    }
    // Where the data ends, by the band of rows it reaches.
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let r = process(&input, &out, "cpu", &[]);
    assert!(
        r.stderr.contains("damaged JPEG: the data ends before row ")
            && r.stderr.contains(" of 256 (cut short)"),
        "{}",
        r.stderr
    );
}

/// The same rule for every still format: PNG, WebP, TIFF and BMP cut short, and a PNG with a
/// flipped bit (its chunk's CRC).
#[test]
fn damaged_png_webp_tiff_and_bmp_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [
        ("a.png", "PNG"),
        ("a.webp", "WebP"),
        ("a.tif", "TIFF"),
        ("a.bmp", "BMP"),
    ] {
        let (whole, bytes) = still(dir.path(), name, 64, 48);
        let mut cases = vec![
            ("cut to 10%", bytes[..bytes.len() / 10].to_vec()),
            ("cut to 90%", bytes[..bytes.len() * 9 / 10].to_vec()),
        ];
        if format == "PNG" {
            let mut flipped = bytes.clone();
            flipped[bytes.len() / 2] ^= 1;
            cases.push(("a flipped bit", flipped));
        }
        let input = dir.path().join(format!("in-{name}"));
        let out = dir.path().join(format!("out-{name}"));
        for (what, data) in cases {
            std::fs::write(&input, &data).unwrap();
            let r = process(&input, &out, "cpu", &[]);
            assert_eq!(r.code, 1, "{name} {what}: {}", r.stderr);
            assert!(
                r.stderr
                    .contains(&format!("{}: damaged {format}: ", input.display())),
                "{name} {what}: {}",
                r.stderr
            );
            assert!(!out.exists(), "{name} {what}: output written");
        }
        std::fs::remove_file(&input).unwrap();
        std::fs::remove_file(&whole).unwrap();
    }
    assert_nothing_written(dir.path(), &[]);
}

/// `--on-error skip`: a damaged image is left out and nothing written, which is no failure
/// (exit 0), as a batch counts a skipped file; `--on-error accept` writes what was decoded, with
/// a warning that `-q` silences.
#[test]
fn skip_leaves_a_damaged_image_out_and_accept_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = still(dir.path(), "whole.jpg", 96, 128);
    let input = dir.path().join("in.jpg");
    std::fs::write(&input, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("out.png");

    let r = process(&input, &out, "cpu", &["--on-error", "skip"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "tessera: skipped {}: damaged JPEG: the data ends before row",
            input.display()
        )) && r.stderr.contains("nothing written"),
        "{}",
        r.stderr
    );
    assert_nothing_written(dir.path(), &["whole.jpg", "in.jpg"]);

    let r = process(&input, &out, "cpu", &["--on-error", "accept"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("WARN")
            && r.stderr
                .contains(&format!("{}: damaged JPEG: ", input.display()))
            && r.stderr.contains("written as decoded (--on-error accept)"),
        "{}",
        r.stderr
    );
    let written = image::open(&out).unwrap().to_rgb8();
    assert_eq!(written.dimensions(), (96, 128));
    // Inverted grey where the data ended: 127.
    assert!(written.rows().next_back().unwrap().all(|p| p.0 == [127; 3]));
    std::fs::remove_file(&out).unwrap();
    let r = process(&input, &out, "cpu", &["--on-error", "accept", "-q"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert!(out.exists());
}

/// In a batch, a damaged image is a failure by default, `skipped` with its reason under
/// `--on-error skip`, and `done` with its warnings in the report under `--on-error accept`.
#[test]
fn damaged_images_in_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let (_, bytes) = still(&photos, "a.jpg", 64, 64);
    let (_, png) = still(&photos, "b.png", 32, 32);
    std::fs::write(photos.join("a.jpg"), &bytes[..bytes.len() / 2]).unwrap();
    let report = dir.path().join("run.json");
    let run = |policy: &str, out: &str| {
        let out = dir.path().join(out);
        let r = tessera(
            &[
                "process",
                photos.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--backend",
                "cpu",
                "--on-error",
                policy,
                "--report",
                report.to_str().unwrap(),
            ],
            &[],
        );
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
        (r, json, out)
    };
    let file = |json: &serde_json::Value, name: &str| {
        json["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };

    let (r, json, out) = run("stop", "stopped");
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(file(&json, "a.jpg")["status"], "failed");
    assert!(file(&json, "a.jpg")["error"]
        .as_str()
        .unwrap()
        .contains("damaged JPEG: the data ends before row"));
    assert!(!out.join("a.jpg").exists() && out.join("b.png").exists());

    let (r, json, out) = run("skip", "skipped");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        (json["processed"].as_u64(), json["skipped"].as_u64()),
        (Some(1), Some(1))
    );
    let a = file(&json, "a.jpg");
    assert_eq!(a["status"], "skipped");
    assert!(
        a["error"].as_str().unwrap().starts_with("damaged JPEG: "),
        "{a}"
    );
    assert!(!out.join("a.jpg").exists() && out.join("b.png").exists());

    let (r, json, out) = run("accept", "accepted");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("2 processed (1 with warnings)"),
        "{}",
        r.stderr
    );
    let a = file(&json, "a.jpg");
    assert_eq!(a["status"], "done");
    let warnings = a["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{a}");
    assert!(
        warnings[0].as_str().unwrap().contains("damaged JPEG: "),
        "{a}"
    );
    assert!(file(&json, "b.png").get("warnings").is_none());
    assert!(out.join("a.jpg").exists() && out.join("b.png").exists());
    assert_eq!(std::fs::read(photos.join("b.png")).unwrap(), png);
}

/// The GPU backend follows the same rule (a small picture: lavapipe is slow).
#[test]
fn damaged_image_on_the_gpu() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = still(dir.path(), "whole.jpg", 32, 64);
    let input = dir.path().join("in.jpg");
    std::fs::write(&input, &bytes[..bytes.len() * 6 / 10]).unwrap();
    let out = dir.path().join("out.png");
    let r = process(&input, &out, "gpu", &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("damaged JPEG: "), "{}", r.stderr);
    assert!(!out.exists());
    let r = process(&input, &out, "gpu", &["--on-error", "accept"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("written as decoded"), "{}", r.stderr);
    assert_eq!(image::open(&out).unwrap().to_rgb8().dimensions(), (32, 64));
}

/// Animated inputs cut short: a GIF (read by FFmpeg) and an animated WebP (decoded by the
/// `image` crate) stop with an error by default, lose their damaged frames with `skip`, and
/// are written with a warning with `accept`.
#[test]
fn animated_inputs_cut_short() {
    let dir = tempfile::tempdir().unwrap();
    let gif = dir.path().join("whole.gif");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=2",
        common::s(&gif),
    ]);
    let webp = dir.path().join("whole.webp");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=2",
        "-c:v",
        "libwebp_anim",
        "-lossless",
        "1",
        common::s(&webp),
    ]);
    for whole in [gif, webp] {
        let bytes = std::fs::read(&whole).unwrap();
        let ext = whole.extension().unwrap().to_str().unwrap();
        for pct in [50, 90, 99] {
            let input = dir.path().join(format!("cut{pct}.{ext}"));
            std::fs::write(&input, &bytes[..bytes.len() * pct / 100]).unwrap();
            let out = dir.path().join("out.mp4");
            let what = format!("{ext} cut to {pct}%");
            let r = process(&input, &out, "cpu", &[]);
            assert_eq!(r.code, 1, "{what}: {}", r.stderr);
            assert!(
                r.stderr
                    .contains(&format!("{}: damaged video at frame", input.display()))
                    && r.stderr.contains("cut short"),
                "{what}: {}",
                r.stderr
            );
            assert!(!out.exists(), "{what}");
            let r = process(&input, &out, "cpu", &["--on-error", "skip"]);
            assert_eq!(r.code, 0, "{what}: {}", r.stderr);
            assert!(
                r.stderr.contains("tessera: left out "),
                "{what}: {}",
                r.stderr
            );
            std::fs::remove_file(&out).unwrap();
            let r = process(&input, &out, "cpu", &["--on-error", "accept"]);
            assert_eq!(r.code, 0, "{what}: {}", r.stderr);
            assert!(
                r.stderr.contains("WARN") && r.stderr.contains("(--on-error accept)"),
                "{what}: {}",
                r.stderr
            );
            std::fs::remove_file(&out).unwrap();
        }
    }
}
