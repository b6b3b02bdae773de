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
