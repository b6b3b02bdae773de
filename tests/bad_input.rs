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
