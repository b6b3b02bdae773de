//! The broken-media corpus as a standing test: more than 200 damaged copies of media the test
//! makes (PNG, JPEG, WebP, TIFF, GIF, MP4, MKV, WebM, TS) — truncated, bits flipped, garbage
//! written over, misnamed, emptied, headers claiming gigapixels, an MP4 index that lies — each
//! run through the binary on both backends with a time limit.
//!
//! Every run must end without a panic or a hang, leave nothing in its output folder unless it
//! succeeded, and leave its input as it was. Damage the format lets a reader see must be an
//! error (exit code 1, the file named); exit code 0 on such damage is a silent acceptance, and
//! fails the test. `TESSERA_CORPUS_ALLOW_SILENT=1` lists the silent acceptances without failing
//! on them (everything else still fails). `cargo test --test corpus -- --nocapture` prints the
//! summary: class × format × backend → outcome. docs/reliability.md says what each class gets.

#[path = "../common/mod.rs"]
mod common;
mod damage;
mod media;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use damage::{Case, Expect};
use media::{Kind, Source};

/// A stencil and a pointwise pass, so that the backends do real work on what was decoded.
const CHAIN: &str = "gblur(sigma=1) | invert";
/// Longer than any of these runs takes on lavapipe on a busy machine, by far: a run still going
/// after this long is taken for a hang.
const LIMIT: Duration = Duration::from_secs(20);
/// Set to `1`: silent acceptances are listed, not failed on (panics, hangs, files left behind,
/// a changed input, an error that does not name its file still fail).
const ALLOW_SILENT: &str = "TESSERA_CORPUS_ALLOW_SILENT";
/// A folder to make the corpus in and keep (the inputs, the outputs, each run's stderr).
const KEEP: &str = "TESSERA_CORPUS_KEEP";
/// Only the cases whose file name contains this text (`cut-99pc`, `-ts.`, `173-`).
const ONLY: &str = "TESSERA_CORPUS_ONLY";

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Backend {
    Cpu,
    Gpu,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
        }
    }
}

/// What one run of one case got.
#[derive(Clone, PartialEq, Eq, Debug)]
enum Outcome {
    /// Exit code 1, the file named, nothing written.
    CleanError,
    /// Exit code 0 on a misnamed file, with the output the correctly named file gets.
    CorrectSuccess,
    /// Exit code 0 on damage the format has no check for, with an output that decodes.
    Undetected,
    /// Exit code 0 on damage that should have been an error, or a wrong output.
    Silent(String),
    /// A panic, a hang, an unexpected exit code, files left behind, a changed input, an error
    /// that does not name its file.
    Broken(String),
}

impl Outcome {
    fn tag(&self) -> &'static str {
        match self {
            Outcome::CleanError => "err",
            Outcome::CorrectSuccess => "ok",
            Outcome::Undetected => "acc",
            Outcome::Silent(_) => "SILENT",
            Outcome::Broken(_) => "BROKEN",
        }
    }
}

struct Run {
    case: usize,
    backend: Backend,
    outcome: Outcome,
    /// The `error:` line (or the last line) of stderr.
    message: String,
    took: Duration,
}

/// A finished (or killed) run of the binary.
struct Exit {
    code: Option<i32>,
    stderr: String,
    hung: bool,
    took: Duration,
}

/// Runs `tessera process input -o output` on `backend`, killed after [`LIMIT`]; stderr goes
/// to a file in `logs`, so that a chatty run cannot fill a pipe and stall.
fn process(input: &Path, output: &Path, backend: Backend, logs: &Path) -> Exit {
    let log = logs.join(format!(
        "{}-{}.stderr",
        output
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy(),
        backend.name()
    ));
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(["process", common::s(input), "-o", common::s(output)])
        .args(["--chain", CHAIN, "--backend", backend.name()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("run tessera");
    let (status, hung) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (Some(status), false);
        }
        if start.elapsed() > LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Exit {
        code: status.and_then(|s| s.code()),
        stderr: String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned(),
        hung,
        took: start.elapsed(),
    }
}

/// An output decoded to compare with another: RGBA16 samples of a still, RGB24 frames of a
/// video. `None` when it does not decode.
fn decode(path: &Path, kind: Kind) -> Option<Vec<u8>> {
    match kind {
        Kind::Image => {
            let image = image::open(path).ok()?;
            Some(
                image
                    .to_rgba16()
                    .into_raw()
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect(),
            )
        }
        Kind::Video => {
            let out = Command::new("ffmpeg")
                .args(["-v", "error", "-i", common::s(path), "-map", "0:v:0"])
                .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
                .output()
                .ok()?;
            (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
        }
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The line a user reads: the first line naming `file`, or else the first `error:` line (not
/// the Vulkan loader's complaint about XDG_RUNTIME_DIR), or else the last line; the folder the
/// corpus is in left out.
fn message(stderr: &str, file: &str, root: &Path) -> String {
    let line = stderr
        .lines()
        .find(|l| l.contains(file))
        .or_else(|| {
            stderr
                .lines()
                .find(|l| l.starts_with("error:") && !l.contains("XDG_RUNTIME_DIR"))
        })
        .or_else(|| stderr.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("");
    line.replace(&format!("{}/", root.display()), "")
}

/// The folders a run works in.
struct Dirs {
    inputs: PathBuf,
    outputs: PathBuf,
    logs: PathBuf,
}

/// Runs one case on one backend and judges it; `reference` is the decoded output of the clean
/// source on that backend.
fn judge(case: &Case, source: &Source, backend: Backend, dirs: &Dirs, reference: &[u8]) -> Run {
    let input = dirs.inputs.join(&case.file);
    let out_dir = dirs.outputs.join(format!(
        "{}-{}",
        case.file.replace('.', "_"),
        backend.name()
    ));
    std::fs::create_dir(&out_dir).unwrap();
    let output = out_dir.join(format!("out.{}", source.output_ext()));
    let exit = process(&input, &output, backend, &dirs.logs);
    let left = listing(&out_dir);
    let unchanged = std::fs::read(&input).unwrap() == case.bytes;
    let panicked = exit.stderr.contains("panicked") || exit.stderr.contains("RUST_BACKTRACE");
    let outcome = if exit.hung {
        Outcome::Broken(format!("still running after {LIMIT:?}"))
    } else if panicked {
        Outcome::Broken("panicked".into())
    } else if !unchanged {
        Outcome::Broken("the input was changed".into())
    } else {
        match exit.code {
            Some(1) if !left.is_empty() => Outcome::Broken(format!("failed but left {left:?}")),
            Some(1) if !exit.stderr.contains(&case.file) => {
                Outcome::Broken("the error does not name the file".into())
            }
            Some(1) => Outcome::CleanError,
            Some(0) if left != [format!("out.{}", source.output_ext())] => {
                Outcome::Broken(format!("succeeded but left {left:?}"))
            }
            Some(0) => {
                let decoded = decode(&output, source.kind);
                match (case.expect, decoded) {
                    (Expect::Fail, _) => Outcome::Silent("exit code 0 on detectable damage".into()),
                    (_, None) => {
                        Outcome::Silent("exit code 0, an output that does not decode".into())
                    }
                    (Expect::Same, Some(d)) if d != reference => {
                        Outcome::Silent("exit code 0, an output unlike the clean file's".into())
                    }
                    (Expect::Same, Some(_)) => Outcome::CorrectSuccess,
                    (Expect::Undetectable, Some(_)) => Outcome::Undetected,
                }
            }
            code => Outcome::Broken(format!("exit code {code:?}")),
        }
    };
    Run {
        case: 0,
        backend,
        outcome,
        message: message(&exit.stderr, &case.file, dirs.inputs.parent().unwrap()),
        took: exit.took,
    }
}

/// Each clean source's output on each backend, decoded, by source and backend.
type References = BTreeMap<(usize, Backend), Vec<u8>>;

/// The clean sources' outputs on each backend, decoded: what a misnamed copy must give. The
/// GPU backend is left out where no adapter opens (unless `TESSERA_REQUIRE_GPU=1`).
fn references(sources: &[Source], dirs: &Dirs) -> (Vec<Backend>, References) {
    let mut backends = vec![Backend::Cpu];
    if common::gpu().is_some() {
        backends.push(Backend::Gpu);
    }
    let clean = dirs.inputs.parent().unwrap().join("clean");
    std::fs::create_dir(&clean).unwrap();
    let mut refs = BTreeMap::new();
    for (i, source) in sources.iter().enumerate() {
        let input = clean.join(format!("{}.{}", source.name, source.ext));
        std::fs::write(&input, &source.bytes).unwrap();
        for &backend in &backends {
            let output = clean.join(format!(
                "{}-{}.{}",
                source.name,
                backend.name(),
                source.output_ext()
            ));
            let exit = process(&input, &output, backend, &dirs.logs);
            assert_eq!(
                exit.code,
                Some(0),
                "the clean {} fails on {}:\n{}",
                source.name,
                backend.name(),
                exit.stderr
            );
            let decoded = decode(&output, source.kind).expect("the clean output decodes");
            refs.insert((i, backend), decoded);
        }
    }
    (backends, refs)
}

#[test]
fn broken_media_is_refused_cleanly_on_both_backends() {
    let started = Instant::now();
    let temp = tempfile::tempdir().unwrap();
    // To look at the corpus after a run: a folder that does not exist yet, kept afterwards.
    let root = match std::env::var_os(KEEP) {
        Some(dir) => {
            std::fs::create_dir_all(&dir).unwrap();
            assert!(
                listing(Path::new(&dir)).is_empty(),
                "{KEEP} names a folder that is not empty"
            );
            PathBuf::from(dir)
        }
        None => temp.path().to_path_buf(),
    };
    let dirs = Dirs {
        inputs: root.join("inputs"),
        outputs: root.join("outputs"),
        logs: root.join("logs"),
    };
    for d in [&dirs.inputs, &dirs.outputs, &dirs.logs] {
        std::fs::create_dir(d).unwrap();
    }
    let sources = media::sources(&root);
    let cases = damage::cases(&sources, &root);
    assert!(cases.len() >= 200, "only {} damaged inputs", cases.len());
    for case in &cases {
        std::fs::write(dirs.inputs.join(&case.file), &case.bytes).unwrap();
    }
    let (backends, refs) = references(&sources, &dirs);

    // Two workers by default: each run is itself multithreaded (rayon, FFmpeg's threads).
    let workers = std::env::var("TESSERA_CORPUS_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2usize);
    let only = std::env::var(ONLY).unwrap_or_default();
    let jobs: Vec<(usize, Backend)> = (0..cases.len())
        .filter(|&c| cases[c].file.contains(&only))
        .flat_map(|c| backends.iter().map(move |&b| (c, b)))
        .collect();
    let next = AtomicUsize::new(0);
    let runs = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                while let Some(&(c, backend)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let case = &cases[c];
                    let reference = &refs[&(case.source, backend)];
                    let mut run = judge(case, &sources[case.source], backend, &dirs, reference);
                    run.case = c;
                    runs.lock().unwrap().push(run);
                }
            });
        }
    });
    let mut runs = runs.into_inner().unwrap();
    runs.sort_by_key(|r| (r.case, r.backend));

    print_summary(&sources, &cases, &backends, &runs);
    let slowest = runs.iter().map(|r| r.took).max().unwrap_or_default();
    println!(
        "{} inputs, {} runs in {:.1?} (slowest run {:.1?})",
        cases.len(),
        runs.len(),
        started.elapsed(),
        slowest
    );

    let broken: Vec<String> = runs
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Broken(why) => Some(describe(&cases[r.case], r, why)),
            _ => None,
        })
        .collect();
    let silent: Vec<String> = runs
        .iter()
        .filter_map(|r| match &r.outcome {
            Outcome::Silent(why) => Some(describe(&cases[r.case], r, why)),
            _ => None,
        })
        .collect();
    assert!(
        broken.is_empty(),
        "{} broken runs:\n{}",
        broken.len(),
        broken.join("\n")
    );
    if std::env::var(ALLOW_SILENT).as_deref() == Ok("1") {
        println!(
            "{ALLOW_SILENT}=1: {} silent acceptances not failed on",
            silent.len()
        );
    } else {
        assert!(
            silent.is_empty(),
            "{} silent acceptances (run with --nocapture for the summary; {ALLOW_SILENT}=1 lists them without failing):\n{}",
            silent.len(),
            silent.join("\n")
        );
    }
}

fn describe(case: &Case, run: &Run, why: &str) -> String {
    format!(
        "  {} on {}: {why} (expected {:?}); {}",
        case.file,
        run.backend.name(),
        case.expect,
        run.message
    )
}

/// Prints, per backend, a table of class × format → outcomes; then the totals, a message for
/// each class, and every silent acceptance and broken run.
fn print_summary(sources: &[Source], cases: &[Case], backends: &[Backend], runs: &[Run]) {
    let mut classes: Vec<&str> = Vec::new();
    for case in cases {
        if !classes.contains(&case.class) {
            classes.push(case.class);
        }
    }
    for &backend in backends {
        println!("\n### backend {}\n", backend.name());
        let mut header = String::from("| class |");
        let mut rule = String::from("| --- |");
        for s in sources {
            header += &format!(" {} |", s.name);
            rule += " --- |";
        }
        println!("{header}\n{rule}");
        for class in &classes {
            let mut line = format!("| {class} |");
            for (i, _) in sources.iter().enumerate() {
                let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
                for r in runs.iter().filter(|r| {
                    r.backend == backend
                        && cases[r.case].class == *class
                        && cases[r.case].source == i
                }) {
                    *counts.entry(r.outcome.tag()).or_default() += 1;
                }
                let cell: Vec<String> = counts
                    .iter()
                    .map(|(tag, &n)| {
                        if counts.len() == 1 && n == 1 {
                            tag.to_string()
                        } else {
                            format!("{n} {tag}")
                        }
                    })
                    .collect();
                line += &format!(
                    " {} |",
                    if cell.is_empty() {
                        "·".into()
                    } else {
                        cell.join(", ")
                    }
                );
            }
            println!("{line}");
        }
    }
    println!("\nerr: exit 1 naming the file, nothing written; ok: a misnamed file processed as the clean one;");
    println!("acc: exit 0 on damage the format cannot show (output decodes); SILENT: exit 0 on damage it can;");
    println!("BROKEN: panic, hang, other exit code, files left, input changed, error not naming the file.\n");

    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for r in runs {
        *totals.entry(r.outcome.tag()).or_default() += 1;
    }
    println!(
        "totals over {} runs of {} inputs: {totals:?}",
        runs.len(),
        cases.len()
    );
    println!("\nA message per class (the first clean error's):");
    for class in &classes {
        if let Some(r) = runs
            .iter()
            .find(|r| cases[r.case].class == *class && r.outcome == Outcome::CleanError)
        {
            println!("  {class}: {}", r.message);
        }
    }
    for r in runs {
        if let Outcome::Silent(why) | Outcome::Broken(why) = &r.outcome {
            println!("{} {}", r.outcome.tag(), describe(&cases[r.case], r, why));
        }
    }
}
