//! The `tessera` binary: parses arguments, calls the library, maps errors to exit codes.
//!
//! Exit codes: 0 success; 1 a failure while processing (unreadable input, decode or encode
//! error, no GPU); 2 a usage error (bad arguments, bad chain, existing output without
//! `--overwrite`).

mod cli;

fn main() {
    std::process::exit(cli::main());
}
