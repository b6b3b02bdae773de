//! The properties the chain fuzz target asserts, in one place: the fuzz target
//! (`fuzz/fuzz_targets/chain.rs`) and its replay without libFuzzer (`tests/fuzz_regressions.rs`)
//! both include this file by path, so a regression input is checked exactly as it was found.
//! It must only panic on a genuine bug in the parser, resolver, renderer or printer.

use tessera::chain::{render_all, Chain};

/// Parses and resolves `text`; on errors renders them, on success checks that the printed
/// chain parses back and prints the same (print → parse → print is a fixed point).
pub fn check(text: &str) {
    match Chain::parse_all(text) {
        Err(errors) => {
            assert!(
                !errors.is_empty(),
                "parse_all failed without an error for {text:?}"
            );
            let rendered = render_all(&errors, text, Some("fuzz.chain"));
            assert!(
                !rendered.is_empty(),
                "errors rendered as nothing for {text:?}"
            );
        }
        Ok(chain) => {
            let printed = chain.to_text();
            let again = match Chain::parse(&printed) {
                Ok(again) => again,
                Err(e) => panic!(
                    "the printed chain does not parse back\n  input:   {text:?}\n  printed: {printed:?}\n{}",
                    e.render_in(&printed, Some("printed.chain"))
                ),
            };
            // Only printed texts are compared: what the language accepts keeps growing, and the
            // printed form is the one thing every version must reproduce.
            let reprinted = again.to_text();
            assert_eq!(
                reprinted, printed,
                "print → parse → print differs\n  input: {text:?}"
            );
        }
    }
}
