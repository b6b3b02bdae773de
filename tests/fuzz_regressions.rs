//! Replays the chain fuzz target's seeds (fuzz/corpus/chain) and every crash it has found
//! (fuzz/regressions/chain) with the target's own checks, so that `cargo test` keeps them fixed
//! without nightly or libFuzzer. The checks are in fuzz/checks/chain.rs, shared with the target.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "../fuzz/checks/chain.rs"]
mod check;

/// Every file of a folder under fuzz/, in name order; an absent folder has none.
fn inputs(folder: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(folder);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The fuzzer calls an input slower than 1 s a timeout; a test machine gets some slack, but an
/// input this slow is a blow-up, not noise.
const SLOWEST: Duration = Duration::from_secs(5);

/// Runs the checks on a thread named after the file, with the main thread's usual 8 MiB stack
/// (the fuzzer's): test threads get 2 MiB, which would fail nested inputs the fuzzer passes.
fn replay(folder: &str) -> usize {
    let files = inputs(folder);
    for (name, bytes) in &files {
        // As in the target: bytes that are not UTF-8 are not chain text.
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let text = text.to_owned();
        let start = Instant::now();
        let outcome = std::thread::Builder::new()
            .name(name.clone())
            .stack_size(8 << 20)
            .spawn(move || check::check(&text))
            .unwrap()
            .join();
        assert!(outcome.is_ok(), "{name} fails the fuzz checks");
        let took = start.elapsed();
        assert!(took < SLOWEST, "{name} took {took:?}");
    }
    files.len()
}

#[test]
fn seed_corpus_passes_the_fuzz_checks() {
    assert!(replay("corpus/chain") > 0, "fuzz/corpus/chain has no seeds");
}

#[test]
fn fuzz_regressions_stay_fixed() {
    replay("regressions/chain");
}
