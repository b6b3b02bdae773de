//! AVIF through the binary: PNGs drawn here written as AVIF and read back by tessera and by the
//! `ffmpeg` CLI; quality that rises with `--quality`; exact lossless 8-bit RGB and RGBA; more
//! than 8 bits kept from a 16-bit PNG; a truncated AVIF refused (exit code 1, the file named,
//! nothing written); `probe` describing an AVIF.
#![cfg(feature = "avif")]

mod common;

use std::path::{Path, PathBuf};

use common::{decoded, psnr, psnr_over, s, tessera, test_image16, test_image8};
use tessera::frame::Samples;

/// The 8-bit test image as an RGB (no alpha) or RGBA PNG; its samples.
fn png8(dir: &Path, name: &str, alpha: bool) -> (PathBuf, Vec<u8>) {
    let Samples::U8(rgba) = test_image8(96, 64, 7).interleaved() else {
        unreachable!()
    };
    let path = dir.join(name);
    if alpha {
        image::RgbaImage::from_raw(96, 64, rgba.clone())
            .unwrap()
            .save(&path)
            .unwrap();
        (path, rgba)
    } else {
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        image::RgbImage::from_raw(96, 64, rgb.clone())
            .unwrap()
            .save(&path)
            .unwrap();
        (path, rgb)
    }
}

/// Runs `tessera process` with `extra` flags; fails the test unless it succeeds.
fn process(input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec!["process", s(input), "-o", s(output), "--overwrite"];
    args.extend_from_slice(extra);
    let (code, _, stderr) = tessera(&args);
    assert_eq!(code, 0, "{stderr}");
}

fn read_rgb8(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().into_rgb8().into_raw()
}

/// What tessera writes, FFmpeg reads as tessera does: the two decodes of one file agree, and
/// both are near the source (the test image is noise and hard edges, AVIF's hardest case: the
/// floors are what quality 60 and 90 give it, with a margin).
#[test]
fn png_to_avif_reads_back_in_tessera_and_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let (png, rgb) = png8(dir.path(), "in.png", false);
    for (flags, floor) in [(&["--quality", "90"][..], 30.0), (&[][..], 18.0)] {
        let avif = dir.path().join("out.avif");
        process(&png, &avif, flags);
        assert!(std::fs::read(&avif).unwrap()[4..12] == *b"ftypavif");
        let back = dir.path().join("back.png");
        process(&avif, &back, &[]);
        let ours = read_rgb8(&back);
        let theirs = decoded(&avif, "rgb24");
        let (to_source, theirs_to_source) = (psnr(&rgb, &ours), psnr(&rgb, &theirs));
        let to_ffmpeg = psnr(&theirs, &ours);
        eprintln!(
            "{flags:?}: {to_source:.1} dB from the source (FFmpeg's decode {theirs_to_source:.1}), \
             {to_ffmpeg:.1} dB from FFmpeg's"
        );
        assert!(to_source > floor, "{flags:?}: {to_source:.1} dB");
        // 4:4:4 decodes the same, 4:2:0 as near the source: the chroma is upsampled by other
        // filters (libavif's bilinear, FFmpeg's swscale bicubic), which on noise differ.
        if flags.is_empty() {
            assert!(
                (to_source - theirs_to_source).abs() < 1.0,
                "{to_source:.1} dB against FFmpeg's {theirs_to_source:.1}"
            );
        } else {
            assert!(
                to_ffmpeg > 40.0,
                "{flags:?}: {to_ffmpeg:.1} dB from FFmpeg's decode"
            );
        }
    }
}

#[test]
fn quality_rises_with_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let (png, rgb) = png8(dir.path(), "in.png", false);
    let mut last = (0.0, 0u64);
    for quality in ["20", "60", "95"] {
        let avif = dir.path().join(format!("q{quality}.avif"));
        process(&png, &avif, &["--quality", quality]);
        let back = dir.path().join(format!("q{quality}.png"));
        process(&avif, &back, &[]);
        let db = psnr(&rgb, &read_rgb8(&back));
        let size = std::fs::metadata(&avif).unwrap().len();
        eprintln!("quality {quality}: {db:.2} dB, {size} bytes");
        assert!(
            db > last.0 + 1.0,
            "quality {quality}: {db:.2} dB after {:.2}",
            last.0
        );
        assert!(
            size > last.1,
            "quality {quality}: {size} bytes after {}",
            last.1
        );
        last = (db, size);
    }
    // A quality out of range is a usage error.
    let (code, _, stderr) = tessera(&[
        "process",
        s(&png),
        "-o",
        s(&dir.path().join("x.avif")),
        "--quality",
        "101",
    ]);
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn lossless_8_bit_rgb_and_rgba_round_trip_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for alpha in [false, true] {
        let (png, samples) = png8(dir.path(), &format!("in{alpha}.png"), alpha);
        let avif = dir.path().join(format!("lossless{alpha}.avif"));
        process(&png, &avif, &["--lossless"]);
        let back = dir.path().join(format!("back{alpha}.png"));
        process(&avif, &back, &[]);
        let decoded = image::open(&back).unwrap();
        assert_eq!(decoded.color().has_alpha(), alpha);
        let got = if alpha {
            decoded.into_rgba8().into_raw()
        } else {
            decoded.into_rgb8().into_raw()
        };
        assert!(got == samples, "alpha={alpha}: not exact");
    }
}

#[test]
fn sixteen_bit_png_keeps_more_than_8_bits() {
    let dir = tempfile::tempdir().unwrap();
    let Samples::U16(rgba) = test_image16(96, 64, 3).interleaved() else {
        unreachable!()
    };
    let rgb: Vec<u16> = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let png = dir.path().join("deep.png");
    image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(96, 64, rgb.clone())
        .unwrap()
        .save(&png)
        .unwrap();
    let source: Vec<f64> = rgb.iter().map(|&v| v as f64).collect();
    // What an 8-bit path at best keeps: the samples rounded to 8 bits.
    let eight: Vec<f64> = rgb
        .iter()
        .map(|&v| (v as f64 / 257.0).round() * 257.0)
        .collect();
    let floor = psnr_over(&source, &eight, 65535.0);
    for (flags, margin) in [
        (&["--quality", "100"][..], 4.0),
        (&["--lossless"][..], 15.0),
    ] {
        let avif = dir.path().join("deep.avif");
        process(&png, &avif, flags);
        let back = dir.path().join("back.png");
        process(&avif, &back, &[]);
        let decoded = image::open(&back).unwrap();
        assert!(matches!(decoded, image::DynamicImage::ImageRgb16(_)));
        let got: Vec<f64> = decoded
            .into_rgb16()
            .into_raw()
            .iter()
            .map(|&v| v as f64)
            .collect();
        let db = psnr_over(&source, &got, 65535.0);
        eprintln!("{flags:?}: {db:.2} dB; 8 bits at best: {floor:.2} dB");
        assert!(
            db > floor + margin,
            "{flags:?}: {db:.2} dB, 8 bits: {floor:.2}"
        );
    }
}

#[test]
fn truncated_avif_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (png, _) = png8(dir.path(), "in.png", false);
    let avif = dir.path().join("whole.avif");
    process(&png, &avif, &[]);
    let bytes = std::fs::read(&avif).unwrap();
    for cut in [bytes.len() / 3, bytes.len() - 10] {
        let damaged = dir.path().join("cut.avif");
        std::fs::write(&damaged, &bytes[..cut]).unwrap();
        let out = dir.path().join("out.png");
        let (code, _, stderr) = tessera(&["process", s(&damaged), "-o", s(&out)]);
        assert_eq!(code, 1, "cut to {cut}: {stderr}");
        assert!(
            stderr.contains(&format!("{}: damaged AVIF: ", damaged.display())),
            "cut to {cut}: {stderr}"
        );
        assert!(stderr.contains("libavif"), "{stderr}");
        assert!(!out.exists(), "cut to {cut}: output written");
        assert_eq!(
            std::fs::read(&damaged).unwrap(),
            bytes[..cut],
            "input changed"
        );
    }
}

#[test]
fn probe_describes_an_avif() {
    let dir = tempfile::tempdir().unwrap();
    let (png, _) = png8(dir.path(), "in.png", true);
    let avif = dir.path().join("p.avif");
    process(&png, &avif, &["--quality", "50"]);
    let (code, stdout, stderr) = tessera(&["probe", s(&avif), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let image = &doc["image"];
    assert_eq!(image["format"], "avif");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(96), Some(64))
    );
    assert_eq!(image["orientation"], 1);
    assert_eq!(image["bit_depth"], 8);
    assert_eq!(image["color_type"], "yuv420");
    assert_eq!(image["alpha"], true);
    assert_eq!(image["channels"], 4);
    let (code, summary, _) = tessera(&["probe", s(&avif)]);
    assert_eq!(code, 0);
    assert!(summary.contains("AVIF image, 96x64"), "{summary}");

    // A dry run reads the header alone.
    let (code, _, stderr) = tessera(&[
        "process",
        s(&avif),
        "-o",
        s(&dir.path().join("dry.png")),
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{stderr}");
}
