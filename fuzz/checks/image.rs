//! The properties the image fuzz target asserts, in one place: the fuzz target
//! (`fuzz/fuzz_targets/image.rs`) and its replay without libFuzzer (`tests/fuzz_regressions.rs`)
//! both include this file by path, so a regression input is checked exactly as it was found.
//! It must only panic on a genuine bug in tessera's image reading (or the decoders under it).

use std::path::Path;

use tessera::media::image;

/// Writes `bytes` to `scratch` and reads it as `tessera process` does: the check that says
/// whether it is an image, the header a dry run reads, then the picture. Each returns, with an
/// error or a value, whatever the bytes; a picture that reads has the size its header gave, and
/// planes of that size.
pub fn check(bytes: &[u8], scratch: &Path) {
    std::fs::write(scratch, bytes).expect("write the scratch file");
    let _ = image::is_image_file(scratch);
    let header = image::header(scratch);
    if let Ok(frame) = image::read(scratch) {
        let f = &frame.format;
        assert!(
            f.width > 0 && f.height > 0,
            "a picture of {}x{}",
            f.width,
            f.height
        );
        if let Ok(h) = header {
            assert_eq!(
                (h.width, h.height),
                (f.width, f.height),
                "the header's size is not the picture's"
            );
        }
        for p in 0..f.planes() {
            let (w, h) = f.plane_size(p);
            assert!(w > 0 && h > 0, "plane {p} is {w}x{h}");
        }
    }
}
