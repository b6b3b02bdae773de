//! Shrink-on-load through the binary: a JPEG that a chain starts by resizing to a half, a
//! quarter or an eighth of its size or less is decoded that much smaller by libjpeg's DCT
//! scaling, and the chain's resize still makes the exact size asked, within 40 dB of a whole
//! decode followed by the same resize (the whole decode is taken from a PNG copy of the JPEG,
//! which tessera decodes whole). A resize whose size follows the input's is not shrunk; a
//! damaged JPEG is reported as a whole decode reports it; the Exif orientation still applies. A
//! still WebP is shrunk on load by libwebp's scaling decoder, within the same 40 dB.

mod common;

use std::path::{Path, PathBuf};

use common::{ffmpeg, psnr, s, tessera};
use tessera::media::metadata::{self, Metadata};

/// A photo-like 1600×1200 JPEG: FFmpeg's test pattern softened and grained.
fn photo(dir: &Path) -> PathBuf {
    let path = dir.join("photo.jpg");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1600x1200,gblur=sigma=1.5,noise=alls=8:allf=t",
        "-frames:v",
        "1",
        "-q:v",
        "2",
        s(&path),
    ]);
    path
}

/// Runs `tessera process -v`; its stderr, failing on a non-zero exit.
fn process(input: &Path, output: &Path, chain: &str) -> String {
    let (code, _, stderr) = tessera(&[
        "process",
        s(input),
        "-o",
        s(output),
        "--chain",
        chain,
        "--overwrite",
        "-v",
    ]);
    assert_eq!(code, 0, "{stderr}");
    stderr
}

fn rgb(path: &Path) -> (Vec<u8>, (u32, u32)) {
    let image = image::open(path).unwrap().into_rgb8();
    let size = image.dimensions();
    (image.into_raw(), size)
}

/// Resizes the 1600×1200 `source` to each `(width, height)` and checks that it was decoded
/// `shrink` times smaller, is reported at its file's size, and stays within 40 dB of `whole`
/// (its whole decode, kept losslessly) resized alike.
fn shrunk_and_close(source: &Path, whole: &Path, sizes: &[(u32, u32, u32)], what: &str) {
    let dir = source.parent().unwrap();
    for &(width, height, shrink) in sizes {
        let chain = format!("scale(width={width})");
        let shrunk = dir.join(format!("{what}-shrunk{width}.png"));
        let said = process(source, &shrunk, &chain);
        assert!(
            said.contains(&format!("decoded 1/{shrink} the size")),
            "{what} {chain}: {said}"
        );
        // The report gives the file's size, not the shrunk decode's.
        assert!(
            said.contains(&format!("1600x1200 -> {width}x{height}")),
            "{what} {chain}: {said}"
        );
        let reference = dir.join(format!("{what}-reference{width}.png"));
        process(whole, &reference, &chain);
        let (got, size) = rgb(&shrunk);
        let (want, want_size) = rgb(&reference);
        assert_eq!(size, (width, height), "{what} {chain}");
        assert_eq!(want_size, size);
        let db = psnr(&want, &got);
        eprintln!("{what} {chain}: shrunk 1/{shrink}, {db:.1} dB from the whole decode");
        assert!(db >= 40.0, "{what} {chain}: {db:.1} dB");
    }
}

#[test]
fn a_jpeg_resized_down_is_decoded_smaller_and_stays_close() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = photo(dir.path());
    // The whole decode, kept losslessly: what the JPEG's pixels are without shrinking.
    let whole = dir.path().join("whole.png");
    let said = process(&jpeg, &whole, "hflip | hflip");
    assert!(!said.contains("shrink-on-load"), "{said}");
    // Decoded at least 1.5 times the resize's size: 1600/8 > 1.5 × 100, 1600/4 > 1.5 × 200 and
    // 1.5 × 240 (where twice would take 1/2), 1600/2 > 1.5 × 390; 700 leaves no room.
    let sizes = [(100, 75, 8), (200, 150, 4), (240, 180, 4), (390, 293, 2)];
    shrunk_and_close(&jpeg, &whole, &sizes, "JPEG");
    // Decoded whole: a size that follows the input's (the same pixels as from the PNG), and a
    // resize that leaves no room for a shrink.
    let relative = dir.path().join("relative.png");
    let said = process(&jpeg, &relative, "scale(width=w/8)");
    assert!(!said.contains("shrink-on-load"), "{said}");
    let said = process(&jpeg, &dir.path().join("near.png"), "scale(width=700)");
    assert!(!said.contains("shrink-on-load"), "{said}");
    let reference = dir.path().join("relative-reference.png");
    process(&whole, &reference, "scale(width=w/8)");
    assert!(rgb(&relative) == rgb(&reference), "w/8 differs");
}

#[test]
fn a_damaged_jpeg_is_reported_as_a_whole_decode_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = photo(dir.path());
    let bytes = std::fs::read(&jpeg).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let mut messages = Vec::new();
    for chain in ["scale(width=200)", "hflip"] {
        let out = dir.path().join("out.png");
        let (code, _, stderr) = tessera(&["process", s(&cut), "-o", s(&out), "--chain", chain]);
        assert_eq!(code, 1, "{chain}: {stderr}");
        assert!(!out.exists(), "{chain}: written");
        messages.push(stderr.lines().last().unwrap().to_string());
    }
    assert!(messages[0].contains("damaged JPEG"), "{}", messages[0]);
    assert_eq!(messages[0], messages[1]);
}

#[test]
fn the_exif_orientation_applies_to_a_shrunk_jpeg() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = photo(dir.path());
    let meta = Metadata {
        exif: Some(metadata::orientation_only(6)),
        ..Metadata::default()
    };
    let (bytes, _) = metadata::embed(
        std::fs::read(&jpeg).unwrap(),
        image::ImageFormat::Jpeg,
        &meta,
    )
    .unwrap();
    let turned = dir.path().join("turned.jpg");
    std::fs::write(&turned, bytes).unwrap();
    let out = dir.path().join("out.png");
    let said = process(&turned, &out, "scale(height=200)");
    assert!(said.contains("decoded 1/4 the size"), "{said}");
    // Turned a quarter: 1200 wide and 1600 high once upright.
    assert_eq!(image::image_dimensions(&out).unwrap(), (150, 200));
}

#[test]
fn a_webp_resized_down_is_decoded_smaller_and_stays_close() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = photo(dir.path());
    // A lossless WebP of the photo, and its whole decode kept losslessly.
    let webp = dir.path().join("photo.webp");
    let (code, _, stderr) = tessera(&[
        "process",
        s(&jpeg),
        "-o",
        s(&webp),
        "--lossless",
        "--overwrite",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let whole = dir.path().join("whole.png");
    let said = process(&webp, &whole, "hflip | hflip");
    assert!(!said.contains("shrink-on-load"), "{said}");
    shrunk_and_close(
        &webp,
        &whole,
        &[(100, 75, 8), (200, 150, 4), (390, 293, 2)],
        "WebP",
    );
    // A damaged WebP shrinks nothing: the whole decode says what is wrong.
    let bytes = std::fs::read(&webp).unwrap();
    let cut = dir.path().join("cut.webp");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.path().join("cut.png");
    let (code, _, stderr) = tessera(&[
        "process",
        s(&cut),
        "-o",
        s(&out),
        "--chain",
        "scale(width=200)",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("damaged WebP"), "{stderr}");
    assert!(!out.exists());
}
