//! The chain language through the binary: chain files, `tessera check`, errors with file, line
//! and column, and the example chains of `assets/chains/`, each run on both backends.

mod common;

use std::path::{Path, PathBuf};

use common::{s, tessera};

fn write_png(path: &Path, w: u32, h: u32) {
    common::write_png8(path, w, h, 5);
}

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/chains");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "chain"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_chain_checks_and_runs_on_both_backends() {
    let files = examples();
    assert!(
        files.len() >= 8,
        "assets/chains holds {} chains",
        files.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.png");
    write_png(&src, 64, 48);
    let gpu = common::gpu().is_some();
    for file in &files {
        let (code, resolved, err) = tessera(&["check", s(file)]);
        assert_eq!(code, 0, "{}: {err}", file.display());
        assert!(!resolved.trim().is_empty());
        let mut outputs = Vec::new();
        for backend in if gpu {
            &["cpu", "gpu"][..]
        } else {
            &["cpu"][..]
        } {
            let out = dir.path().join(format!("{backend}.png"));
            let (code, _, err) = tessera(&[
                "process",
                s(&src),
                "-o",
                s(&out),
                "--chain-file",
                s(file),
                "--backend",
                backend,
                "--overwrite",
            ]);
            assert_eq!(code, 0, "{} on {backend}: {err}", file.display());
            outputs.push(image::open(&out).unwrap().to_rgba8());
        }
        // The file and its resolved text, given inline, are the same chain.
        let inline = dir.path().join("inline.png");
        let (code, _, err) = tessera(&[
            "process",
            s(&src),
            "-o",
            s(&inline),
            "--chain",
            resolved.trim(),
            "--backend",
            "cpu",
            "--overwrite",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            image::open(&inline).unwrap().to_rgba8(),
            outputs[0],
            "{}",
            file.display()
        );
        if let [cpu, gpu] = &outputs[..] {
            let max = cpu
                .as_raw()
                .iter()
                .zip(gpu.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(max <= 1, "{}: backends differ by {max}", file.display());
        }
    }
}

#[test]
fn check_prints_the_resolved_chain() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("look.chain");
    std::fs::write(
        &file,
        "# a look\nlet glow(s, b=0.05) = gblur(sigma=s)\n  | eq(brightness=b)\n\nglow(2)\ninvert\n",
    )
    .unwrap();
    let (code, out, err) = tessera(&["check", s(&file)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "gblur(sigma=2) | eq(brightness=0.05, contrast=1, saturation=1, gamma=1) | invert(alpha=false)"
    );
    let (code, out, _) = tessera(&["check", "--chain", "let s = hflip; s | s"]);
    assert_eq!((code, out.trim()), (0, "hflip() | hflip()"));
}

#[test]
fn every_error_of_a_file_is_reported_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.chain");
    std::fs::write(&file, "gblr(2)\nhflip(1) $\neq(gamma=99)\n").unwrap();
    let src = dir.path().join("src.png");
    write_png(&src, 16, 16);
    let out = dir.path().join("out.png");
    for args in [
        vec!["check", s(&file)],
        vec!["process", s(&src), "-o", s(&out), "--chain-file", s(&file)],
    ] {
        let (code, _, err) = tessera(&args);
        assert_eq!(code, 2, "{err}");
        let name = s(&file);
        for place in ["1:1", "2:7", "2:10", "3:10"] {
            assert!(
                err.contains(&format!("--> {name}:{place}")),
                "{place} in:\n{err}"
            );
        }
        assert!(err.contains("did you mean `gblur`?"), "{err}");
        assert!(err.trim_end().ends_with("4 errors"), "{err}");
    }
    assert!(!out.exists());
    // A missing chain file is a usage error that writes nothing.
    let (code, _, err) = tessera(&[
        "process",
        s(&src),
        "-o",
        s(&out),
        "--chain-file",
        s(&dir.path().join("missing.chain")),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read the chain file"), "{err}");
    assert!(!out.exists());
    let (code, _, err) = tessera(&[
        "process",
        s(&src),
        "-o",
        s(&out),
        "--chain",
        "x",
        "--chain-file",
        s(&file),
    ]);
    assert_eq!(code, 2, "--chain and --chain-file together: {err}");
}

/// The backends the tests run on: the CPU, and the GPU where there is one (always in CI).
fn backends() -> &'static [&'static str] {
    if common::gpu().is_some() {
        &["cpu", "gpu"]
    } else {
        &["cpu"]
    }
}

/// A 2-second clip of 10 frames a second, 64x48, made by FFmpeg from `source` (a lavfi graph).
fn clip(dir: &Path, name: &str, source: &str) -> PathBuf {
    let path = dir.join(name);
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", source])
        .args(["-t", "2", "-pix_fmt", "yuv420p", "-c:v", "ffv1"])
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not make {name}");
    path
}

/// Runs `chain` over `input` into a lossless (FFV1) clip and returns its decoded luma planes,
/// one per frame.
fn luma_frames(input: &Path, out: &Path, chain: &str, backend: &str) -> Vec<Vec<u8>> {
    let (code, _, err) = tessera(&[
        "process",
        s(input),
        "-o",
        s(out),
        "--chain",
        chain,
        "--backend",
        backend,
        "--codec",
        "ffv1",
        "--overwrite",
    ]);
    assert_eq!(code, 0, "{chain} on {backend}: {err}");
    let decoded = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(out),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(decoded.status.success());
    decoded.stdout.chunks(64 * 48).map(<[u8]>::to_vec).collect()
}

fn mean(plane: &[u8]) -> f64 {
    plane.iter().map(|&v| v as f64).sum::<f64>() / plane.len() as f64
}

/// A brightness that follows keyframes over time: measured on the decoded frames of the
/// output, each frame's luma is the grey clip's plus what FFmpeg's eq adds for the keyframes'
/// value at the frame's time (about 256 luma codes for brightness 1; FFmpeg hands this
/// limited-range luma out as full-range grey, 255 codes for 219).
#[test]
fn a_time_varying_parameter_changes_the_frames_over_time() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path(), "grey.mkv", "color=c=gray:s=64x48:r=10");
    let chain = "eq(brightness = linear(t, 0s, -0.3, 2s, 0.3))";
    for backend in backends() {
        let source = mean(&luma_frames(&input, &dir.path().join("same.mkv"), "", backend)[0]);
        let frames = luma_frames(&input, &dir.path().join("ramp.mkv"), chain, backend);
        assert_eq!(frames.len(), 20);
        for (n, frame) in frames.iter().enumerate() {
            let t = n as f64 / 10.0;
            let b = (-0.3 + 0.3 * t) as f32 as f64;
            let added = ((100.0 * b + 100.0) as i64 * 511) / 200 - 256;
            let want = source + added as f64 * 255.0 / 219.0;
            let got = mean(frame);
            assert!(
                (got - want).abs() < 1.5,
                "{backend}: frame {n} has mean luma {got:.2}, expected {want:.2}"
            );
        }
    }
}

/// A stage limited to a time range changes the frames inside it and leaves every other frame
/// exactly as the chain without it would; `enable=` does the same for the frames it selects.
#[test]
fn a_timeline_leaves_frames_outside_its_range_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip(dir.path(), "moving.mkv", "testsrc2=s=64x48:r=10");
    for backend in backends() {
        let plain = luma_frames(&input, &dir.path().join("plain.mkv"), "hflip", backend);
        for (chain, inside) in [
            (
                "hflip | gblur(sigma=3) @ 0.5s..1s",
                (5..10).collect::<Vec<usize>>(),
            ),
            ("hflip | invert(enable = n % 4 == 1)", vec![1, 5, 9, 13, 17]),
        ] {
            let frames = luma_frames(&input, &dir.path().join("ranged.mkv"), chain, backend);
            assert_eq!(frames.len(), plain.len());
            for (n, (got, before)) in frames.iter().zip(&plain).enumerate() {
                if inside.contains(&n) {
                    assert_ne!(
                        got, before,
                        "{backend}, {chain}: frame {n} should have changed"
                    );
                } else {
                    assert_eq!(
                        got, before,
                        "{backend}, {chain}: frame {n} should be unchanged"
                    );
                }
            }
        }
    }
}

/// The language's reference lists every function, constant and variable the checker accepts.
#[test]
fn the_reference_documents_every_function_and_variable() {
    use tessera::chain::expr::{
        COLOUR_VARIABLES, CONSTANTS, FRAME_VARIABLES, FUNCTIONS, PIXEL_VARIABLES,
    };
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/chain-language.md"),
    )
    .unwrap();
    for f in FUNCTIONS {
        assert!(
            doc.contains(&format!("`{}(", f.name)),
            "function {}",
            f.name
        );
    }
    let constants = CONSTANTS.iter().map(|(n, _)| *n);
    let variables = FRAME_VARIABLES
        .iter()
        .chain(PIXEL_VARIABLES)
        .chain(COLOUR_VARIABLES)
        .map(|(n, _)| *n);
    for name in constants.chain(variables) {
        assert!(doc.contains(&format!("`{name}`")), "name {name}");
    }
}
