//! The chain language through the binary: chain files, `tessera check`, errors with file, line
//! and column, and the example chains of `assets/chains/`, each run on both backends.

mod common;

use std::path::{Path, PathBuf};

use common::tessera;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

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
        "gblur(sigma=2) | eq(brightness=0.05, contrast=1, saturation=1, gamma=1) | invert()"
    );
    let (code, out, _) = tessera(&["check", "--chain", "let s = hflip; s | s"]);
    assert_eq!((code, out.trim()), (0, "hflip() | hflip()"));
}

#[test]
fn every_error_of_a_file_is_reported_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.chain");
    std::fs::write(&file, "gblr(2)\ninvert(1) $\neq(gamma=99)\n").unwrap();
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
        for place in ["1:1", "2:8", "2:11", "3:10"] {
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
