//! Fuzzes the chain language's parser and resolver: whatever the text, `Chain::parse_all`
//! returns (never panics), its errors render, and a chain that resolves prints as text that
//! parses back and prints the same. The checks are in `fuzz/checks/chain.rs`, shared with
//! `tests/fuzz_regressions.rs`, which replays the corpus and the regressions without libFuzzer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/chain.rs"]
mod check;

fuzz_target!(|data: &[u8]| {
    // Chain text always reaches the parser as a `&str` (a `--chain` argument or a file read
    // with `read_to_string`), so bytes that are not UTF-8 cannot be chain text: skip them
    // rather than let a lossy conversion spend runs on U+FFFD.
    if let Ok(text) = std::str::from_utf8(data) {
        check::check(text);
    }
});
