//! Fuzzes tessera's image reading (`tessera::media::image`): whatever the bytes, recognising
//! them, reading their header and decoding them returns (never panics, never aborts on a huge
//! allocation), and a picture that decodes agrees with its header. The bytes go through a file,
//! as every input does (`image::read` takes a path). The checks are in `fuzz/checks/image.rs`,
//! shared with `tests/fuzz_regressions.rs`, which replays the seeds and the regressions.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../checks/image.rs"]
mod check;

/// One scratch file per fuzzing process, rewritten for each input.
fn scratch() -> &'static PathBuf {
    static SCRATCH: OnceLock<PathBuf> = OnceLock::new();
    SCRATCH.get_or_init(|| {
        std::env::temp_dir().join(format!("tessera-fuzz-image-{}", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    check::check(data, scratch());
});
