//! Batch processing through the binary, on folders the tests make: folders mirrored, templates,
//! globs, include and exclude, unreadable files skipped, collisions and existing outputs refused
//! before any work, --skip-existing and --overwrite, --dry-run, shards covering every input
//! once, the JSON report, exit codes.

mod common;

use std::path::{Path, PathBuf};

use common::{s, tessera, write_png8};
use serde_json::Value;

/// in/a.png, in/e.png, in/sub/c.png, in/sub/deep/d.png, in/notes.txt (not media) and
/// in/sub/broken.png (a PNG cut short).
fn tree(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(input.join("sub/deep")).unwrap();
    write_png8(&input.join("a.png"), 16, 12, 1);
    write_png8(&input.join("e.png"), 16, 12, 2);
    write_png8(&input.join("sub/c.png"), 16, 12, 3);
    write_png8(&input.join("sub/deep/d.png"), 16, 12, 4);
    std::fs::write(input.join("notes.txt"), "not a picture").unwrap();
    let png = std::fs::read(input.join("a.png")).unwrap();
    std::fs::write(input.join("sub/broken.png"), &png[..png.len() / 2]).unwrap();
    input
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

fn report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn a_folder_is_mirrored_and_reported_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = tree(dir.path());
    let out = dir.path().join("out");
    let run = dir.path().join("run.json");
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-r",
        "-o",
        s(&out),
        "--chain",
        "invert",
        "--backend",
        "cpu",
        "--report",
        s(&run),
    ]);
    // One file is broken: the others are done, the run says so with exit code 1.
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        files(&out),
        ["a.png", "e.png", "sub/c.png", "sub/deep/d.png"]
    );
    let r = report(&run);
    assert_eq!(r["schema"], 1);
    assert_eq!(r["chain"], "invert(alpha=false)");
    assert_eq!(
        (
            r["processed"].as_u64(),
            r["skipped"].as_u64(),
            r["failed"].as_u64()
        ),
        (Some(4), Some(1), Some(1))
    );
    let by_input = |name: &str| {
        r["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["input"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not in the report"))
            .clone()
    };
    let a = by_input("in/a.png");
    assert_eq!(a["status"], "done");
    assert_eq!(a["output"].as_str().unwrap(), s(&out.join("a.png")));
    assert_eq!(
        (a["frames"].as_u64(), a["pixels"].as_u64()),
        (Some(1), Some(16 * 12))
    );
    assert!(a["seconds"].as_f64().unwrap() >= 0.0);
    assert!(a["backend"].as_str().unwrap().starts_with("cpu"));
    assert!(a.get("error").is_none());
    let notes = by_input("notes.txt");
    assert_eq!(notes["status"], "skipped");
    assert!(notes["error"].as_str().unwrap().contains("not an image"));
    let broken = by_input("broken.png");
    assert_eq!(broken["status"], "failed");
    assert!(broken["error"].as_str().unwrap().contains("broken.png"));
    assert!(err.contains("4 processed, 1 skipped, 1 failed"), "{err}");

    // Without --recursive, only the folder's own files.
    let flat = dir.path().join("flat");
    let (code, _, err) = tessera(&["process", s(&input), "-o", s(&flat), "--backend", "cpu"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(files(&flat), ["a.png", "e.png"]);
}

#[test]
fn templates_globs_include_and_exclude() {
    let dir = tempfile::tempdir().unwrap();
    let input = tree(dir.path());
    let template = format!(
        "{}/{{dir}}/{{stem}}_inv.{{ext}}",
        dir.path().join("t").display()
    );
    let pattern = format!("{}/**/*.png", input.display());
    let (code, _, err) = tessera(&[
        "process",
        &pattern,
        "-o",
        &template,
        "--chain",
        "invert",
        "--exclude",
        "broken.png",
        "--exclude",
        "**/deep/*",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        files(&dir.path().join("t")),
        ["a_inv.png", "e_inv.png", "sub/c_inv.png"]
    );
    // --include keeps only what matches; {index} and {chain} name outputs too; a changed
    // extension converts.
    let template = format!(
        "{}/{{index}}-{{stem}}-{{chain}}.webp",
        dir.path().join("u").display()
    );
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-r",
        "-o",
        &template,
        "--include",
        "sub/*.png",
        "--backend",
        "cpu",
        "--exclude",
        "broken.png",
    ]);
    assert_eq!(code, 0, "{err}");
    let made = files(&dir.path().join("u"));
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        made[0].starts_with("1-c-") && made[0].ends_with(".webp"),
        "{made:?}"
    );
}

#[test]
fn collisions_and_existing_outputs_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = tree(dir.path());
    std::fs::copy(input.join("a.png"), input.join("sub/a.png")).unwrap();
    let out = dir.path().join("out");
    let template = format!("{}/{{stem}}.png", out.display());
    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-r",
        "-o",
        &template,
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("would both write"), "{err}");
    assert!(!out.exists(), "work started");
    // An output that is an input.
    let same = format!("{}/{{name}}", input.display());
    let (code, _, err) = tessera(&["process", s(&input), "-o", &same, "--backend", "cpu"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("never writes over its input"), "{err}");

    // Existing outputs: refused, then skipped, then replaced.
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "process".to_string(),
            s(&input).into(),
            "-o".into(),
            s(&out).into(),
        ];
        a.extend(["--backend", "cpu", "--exclude", "broken.png"].map(String::from));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| tessera(&a.iter().map(String::as_str).collect::<Vec<_>>());
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("a.png"), b"old").unwrap();
    let (code, _, err) = run(args(&[]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("pass --overwrite"), "{err}");
    assert_eq!(files(&out), ["a.png"]);
    let (code, _, err) = run(args(&["--skip-existing"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(out.join("a.png")).unwrap(), b"old");
    assert_eq!(files(&out), ["a.png", "e.png"]);
    let (code, _, err) = run(args(&["--overwrite"]));
    assert_eq!(code, 0, "{err}");
    assert_ne!(std::fs::read(out.join("a.png")).unwrap(), b"old");
}

#[test]
fn dry_run_fail_fast_and_shards() {
    let dir = tempfile::tempdir().unwrap();
    let input = tree(dir.path());
    let out = dir.path().join("out");
    let (code, stdout, err) = tessera(&["process", s(&input), "-r", "-o", s(&out), "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.exists(), "a dry run wrote");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(stdout.contains(&format!(
        "{} -> {}",
        input.join("sub/c.png").display(),
        out.join("sub/c.png").display()
    )));

    // --fail-fast stops at the broken file (sorted: in/a, in/e, in/sub/broken, …).
    let (code, stdout, err) = tessera(&[
        "process",
        s(&input),
        "-r",
        "-o",
        s(&out),
        "--fail-fast",
        "--backend",
        "cpu",
        "--json",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--fail-fast"), "{err}");
    assert_eq!(files(&out), ["a.png", "e.png"]);
    // The files after the failure are in the record, as not started.
    let r: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let statuses: Vec<&str> = r["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == "failed").count(),
        1,
        "{r}"
    );
    assert!(statuses.contains(&"not started"), "{r}");
    assert!(err.contains("not started"), "{err}");

    // Three shards take every input exactly once between them.
    let mut taken = Vec::new();
    for k in 1..=3 {
        let run = dir.path().join(format!("shard{k}.json"));
        let shard = format!("{k}/3");
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-r",
            "--discard",
            "--shard",
            &shard,
            "--report",
            s(&run),
            "--backend",
            "cpu",
            "--exclude",
            "broken.png",
        ]);
        assert_eq!(code, 0, "{err}");
        let r = report(&run);
        assert_eq!(r["shard"], shard);
        for f in r["files"].as_array().unwrap() {
            taken.push(f["input"].as_str().unwrap().to_string());
        }
    }
    taken.sort();
    let mut all: Vec<String> = ["a.png", "e.png", "notes.txt", "sub/c.png", "sub/deep/d.png"]
        .iter()
        .map(|f| input.join(f).display().to_string())
        .collect();
    all.sort();
    assert_eq!(taken, all);
}

/// Ctrl-C mid-batch: the file in progress leaves nothing, finished ones stay, the report is
/// written, exit code 130; a rerun with --skip-existing finishes the rest.
#[test]
fn an_interrupted_batch_resumes_with_skip_existing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("clips");
    std::fs::create_dir(&input).unwrap();
    for i in 0..6 {
        common::h264_clip(
            &input.join(format!("clip{i}.mp4")),
            &format!("testsrc2=s=320x240:r=25:d=4,hue=h={}", i * 50),
        );
    }
    let out = dir.path().join("out");
    let run = dir.path().join("run.json");
    let args = [
        "process",
        s(&input),
        "-o",
        s(&out),
        "--chain",
        "gblur(sigma=6)",
        "--backend",
        "cpu",
        "--preset",
        "ultrafast",
        "--report",
        s(&run),
    ];
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first clip is in place, interrupt.
    let finished = |dir: &Path| files(dir).iter().filter(|f| !f.starts_with('.')).count();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while finished(&out) == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let result = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&result.stderr);
    if finished(&out) == 6 {
        // The machine was fast enough to finish before the signal: nothing left to check.
        return;
    }
    assert_eq!(result.status.code(), Some(130), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The file cut short is named with the output it did not write.
    assert!(
        err.lines().any(|l| l.contains("interrupted; ")
            && l.contains(&format!("{}", out.display()))
            && l.ends_with("was not written")),
        "{err}"
    );
    let left = files(&out);
    assert!(
        left.iter()
            .all(|f| !f.starts_with('.') && f.ends_with(".mp4")),
        "partial files: {left:?}"
    );
    let done = left.len();
    assert!((1..6).contains(&done), "{left:?}");
    let r = report(&run);
    assert_eq!(r["processed"].as_u64(), Some(done as u64));
    // Every input has its line: done, the one cut short, and those not started.
    let records = r["files"].as_array().unwrap();
    assert_eq!(records.len(), 6, "{r}");
    let count = |status: &str| records.iter().filter(|f| f["status"] == status).count();
    assert_eq!(count("interrupted"), 1, "{r}");
    assert_eq!(
        count("done") + count("interrupted") + count("not started"),
        6,
        "{r}"
    );
    assert_eq!(r["interrupted"].as_u64(), Some(1));
    assert_eq!(r["not_started"].as_u64(), Some(count("not started") as u64));
    assert!(err.contains("1 interrupted"), "{err}");

    let (code, _, err) = tessera(&[
        "process",
        s(&input),
        "-o",
        s(&out),
        "--chain",
        "gblur(sigma=6)",
        "--backend",
        "cpu",
        "--preset",
        "ultrafast",
        "--skip-existing",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{} processed, {done} skipped", 6 - done)),
        "{err}"
    );
    assert_eq!(files(&out).len(), 6);
}

/// Files processed three at a time come out byte for byte as when processed one at a time.
#[test]
fn parallel_files_give_the_serial_results() {
    let dir = tempfile::tempdir().unwrap();
    let input = tree(dir.path());
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=1",
        "-c:v",
        "ffv1",
        s(&input.join("sub/clip.mkv")),
    ]);
    let mut outputs = Vec::new();
    for jobs in ["1", "3"] {
        let out = dir.path().join(format!("out{jobs}"));
        let run = dir.path().join(format!("run{jobs}.json"));
        let (code, _, err) = tessera(&[
            "process",
            s(&input),
            "-r",
            "-o",
            s(&out),
            "-j",
            jobs,
            "--chain",
            "gblur(sigma=2) | eq(contrast=1.2)",
            "--backend",
            "cpu",
            "--exclude",
            "broken.png",
            "--report",
            s(&run),
        ]);
        assert_eq!(code, 0, "-j {jobs}: {err}");
        let names = files(&out);
        assert_eq!(names.len(), 5, "{names:?}");
        let inputs: Vec<String> = report(&run)["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["input"].as_str().unwrap().to_string())
            .collect();
        let bytes: Vec<Vec<u8>> = names
            .iter()
            .map(|n| std::fs::read(out.join(n)).unwrap())
            .collect();
        outputs.push((names, inputs, bytes));
    }
    assert_eq!(outputs[0].0, outputs[1].0);
    assert_eq!(
        outputs[0].1, outputs[1].1,
        "the report lists files in the same order"
    );
    for (i, name) in outputs[0].0.iter().enumerate() {
        if name.ends_with(".png") {
            assert!(
                outputs[0].2[i] == outputs[1].2[i],
                "{name} differs between -j 1 and -j 3"
            );
        }
    }
    // The video: the same decoded frames (its container may carry different write times).
    let frames = |o: &str| {
        common::decoded_frames(
            &dir.path().join(o).join("sub/clip.mkv"),
            "rgb24",
            64 * 48 * 3,
        )
    };
    assert!(frames("out1") == frames("out3"));

    // On the GPU, files at once share one device, with the same results as one at a time.
    if common::gpu().is_some() {
        for jobs in ["1", "3"] {
            let out = dir.path().join(format!("gpu{jobs}"));
            let (code, _, err) = tessera(&[
                "process",
                s(&input),
                "-r",
                "-o",
                s(&out),
                "-j",
                jobs,
                "--chain",
                "gblur(sigma=2) | eq(contrast=1.2)",
                "--backend",
                "gpu",
                "--exclude",
                "broken.png",
            ]);
            assert_eq!(code, 0, "gpu -j {jobs}: {err}");
        }
        for name in files(&dir.path().join("gpu1"))
            .iter()
            .filter(|n| n.ends_with(".png"))
        {
            let a = std::fs::read(dir.path().join("gpu1").join(name)).unwrap();
            let b = std::fs::read(dir.path().join("gpu3").join(name)).unwrap();
            assert!(a == b, "{name} differs between -j 1 and -j 3 on the GPU");
        }
    }
}

/// docs/scaling.md's shard example is what the binary prints.
#[test]
fn the_scaling_doc_shows_the_real_shard_arithmetic() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scaling.md"))
            .unwrap();
    let block = doc
        .split("<!-- shard-example -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- /shard-example -->").next())
        .expect("the example block");
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for name in ["beach", "forest", "harbour", "market", "night", "snow"] {
        write_png8(&photos.join(format!("{name}.png")), 8, 8, 1);
    }
    let mut commands = 0;
    let mut expected: Vec<&str> = Vec::new();
    let mut check = |command: Option<&str>, expected: &mut Vec<&str>| {
        if let Some(command) = command {
            let args: Vec<&str> = command.split_whitespace().skip(1).collect();
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
                .args(&args)
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success());
            let got = String::from_utf8_lossy(&out.stdout);
            assert_eq!(got.lines().collect::<Vec<_>>(), *expected, "{command}");
            commands += 1;
        }
        expected.clear();
    };
    let mut command = None;
    for line in block.lines().filter(|l| !l.starts_with("```")) {
        if let Some(c) = line.strip_prefix("$ ") {
            check(command.take(), &mut expected);
            command = Some(c);
        } else if !line.trim().is_empty() {
            expected.push(line);
        }
    }
    check(command, &mut expected);
    assert_eq!(commands, 3);
}

/// On a terminal, bars for the batch and its files; elsewhere plain lines; `--quiet`, none;
/// `-v` adds log lines.
#[test]
fn progress_lines_quiet_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let input = tree(dir.path());
    let out = dir.path().join("out");
    let base = [
        "process",
        s(&input),
        "-r",
        "-o",
        s(&out),
        "--backend",
        "cpu",
        "--exclude",
        "broken.png",
        "--chain",
        "invert",
    ];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        a
    }
    // Not a terminal: a plain line a file and a summary.
    let (code, _, err) = tessera(&with(&base, &[]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        err.lines()
            .filter(|l| l.contains("] ") && l.contains(" -> "))
            .count(),
        4,
        "{err}"
    );
    assert!(err.contains("4 processed"), "{err}");
    // Quiet: nothing at all when all goes well.
    let (code, stdout, err) = tessera(&with(&base, &["--overwrite", "-q"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!((stdout.as_str(), err.as_str()), ("", ""));
    // -v: what runs, where.
    let (code, _, err) = tessera(&with(&base, &["--overwrite", "-v"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("INFO") && err.contains("chain: invert(alpha=false)"),
        "{err}"
    );
    // A terminal (through `script`, which runs the command on a pseudo-terminal): a bar.
    let mut command = vec![env!("CARGO_BIN_EXE_tessera").to_string()];
    command.extend(
        with(&base, &["--overwrite"])
            .iter()
            .map(|a| format!("'{a}'")),
    );
    let shown = std::process::Command::new("script")
        .args(["-qec", &command.join(" "), "/dev/null"])
        .output();
    if let Ok(shown) = shown {
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(shown.status.success(), "{text}");
        assert!(text.contains("4/4 files"), "{text}");
    }
}
