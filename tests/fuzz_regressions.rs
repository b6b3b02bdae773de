//! Replays each fuzz target's seeds (fuzz/corpus/TARGET) and every crash it has found
//! (fuzz/regressions/TARGET) with the target's own checks, so that `cargo test` keeps them fixed
//! without nightly or libFuzzer. The checks are in fuzz/checks/, shared with the targets.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[path = "../fuzz/checks/chain.rs"]
mod chain_check;
#[path = "../fuzz/checks/image.rs"]
mod image_check;

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

/// Runs `check` on every file of `folder`, each on a thread named after the file, with the main
/// thread's usual 8 MiB stack (the fuzzer's): test threads get 2 MiB, which would fail nested
/// inputs the fuzzer passes.
fn replay(folder: &str, check: fn(&str, Vec<u8>)) -> usize {
    let files = inputs(folder);
    for (name, bytes) in files.iter().cloned() {
        let start = Instant::now();
        let label = name.clone();
        let outcome = std::thread::Builder::new()
            .name(name.clone())
            .stack_size(8 << 20)
            .spawn(move || check(&label, bytes))
            .unwrap()
            .join();
        assert!(outcome.is_ok(), "{name} fails the fuzz checks");
        let took = start.elapsed();
        assert!(took < SLOWEST, "{name} took {took:?}");
    }
    files.len()
}

fn chain(_: &str, bytes: Vec<u8>) {
    // As in the target: bytes that are not UTF-8 are not chain text.
    if let Ok(text) = String::from_utf8(bytes) {
        chain_check::check(&text);
    }
}

fn image(name: &str, bytes: Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    // No extension, as in the target: the content says what the file is.
    let scratch: PathBuf = dir.path().join(format!("{}", name.len()));
    image_check::check(&bytes, &scratch);
}

#[test]
fn chain_seed_corpus_passes_the_fuzz_checks() {
    assert!(
        replay("corpus/chain", chain) > 0,
        "fuzz/corpus/chain has no seeds"
    );
}

#[test]
fn chain_fuzz_regressions_stay_fixed() {
    replay("regressions/chain", chain);
}

#[test]
fn image_seed_corpus_passes_the_fuzz_checks() {
    assert!(
        replay("corpus/image", image) > 0,
        "fuzz/corpus/image has no seeds"
    );
}

#[test]
fn image_fuzz_regressions_stay_fixed() {
    replay("regressions/image", image);
}

/// Writes the image target's seeds, fuzz/corpus/image: one small picture per format and kind
/// tessera reads (8 and 16 bits, grey, alpha, lossless and lossy, an Exif orientation), each a
/// few hundred bytes so that the fuzzer starts from every decoder. Run once, by hand, when the
/// seeds need remaking: `cargo test --test fuzz_regressions -- --ignored write_image_seeds`.
#[test]
#[ignore]
fn write_image_seeds() {
    use image::{DynamicImage as D, ImageFormat as F};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/image");
    std::fs::create_dir_all(&dir).unwrap();
    let tessera::Samples::U8(rgba) = common::test_image8(8, 6, 1).interleaved() else {
        unreachable!()
    };
    let rgba = D::ImageRgba8(image::RgbaImage::from_raw(8, 6, rgba).unwrap());
    let tessera::Samples::U16(deep) = common::test_image16(8, 6, 2).interleaved() else {
        unreachable!()
    };
    let deep = D::ImageRgba16(image::ImageBuffer::from_raw(8, 6, deep).unwrap());
    let rgb = D::ImageRgb8(rgba.to_rgb8());
    let grey = D::ImageLuma8(rgba.to_luma8());
    let encode = |image: &D, format: F| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    };
    let mut seeds = vec![
        ("rgb8.png", encode(&rgb, F::Png)),
        ("rgba16.png", encode(&deep, F::Png)),
        ("grey8.png", encode(&grey, F::Png)),
        ("rgb.jpg", encode(&rgb, F::Jpeg)),
        ("grey.jpg", encode(&grey, F::Jpeg)),
        ("rgba-lossless.webp", encode(&rgba, F::WebP)),
        ("rgb8.tif", encode(&rgb, F::Tiff)),
        ("rgba16.tif", encode(&deep, F::Tiff)),
        ("rgb.bmp", encode(&rgb, F::Bmp)),
    ];
    // A JPEG turned by its Exif orientation (6: rotate 90°), the header read turns it too.
    let mut turned = encode(&rgb, F::Jpeg);
    let exif: &[u8] = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    let mut app1 = vec![0xff, 0xe1];
    app1.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(exif);
    turned.splice(2..2, app1);
    seeds.push(("rgb-exif-rotated.jpg", turned));
    // A lossy WebP, which the image crate cannot write: FFmpeg's libwebp, where it is.
    let lossy = dir.join("rgb-lossy.webp");
    let _ = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=8x6"])
        .args(["-frames:v", "1", "-c:v", "libwebp", "-lossless", "0"])
        .arg(&lossy)
        .status();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
