//! Colour management through the binary: tagged photos converted to sRGB as lcms2 converts
//! them, `--keep-profile` and untagged photos left as stored, damaged profiles refused.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::adobe_rgb;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageDecoder, ImageEncoder};
use lcms2::{CIExyY, CIExyYTRIPLE, Intent, PixelFormat, Profile, ToneCurve, Transform};

/// A 64×48 picture of every kind of colour: ramps in red and green, blue by position.
fn pixels() -> Vec<u8> {
    let mut data = Vec::new();
    for y in 0..48u32 {
        for x in 0..64u32 {
            data.extend_from_slice(&[(x * 4) as u8, (y * 5) as u8, ((x * 7 + y * 3) % 256) as u8]);
        }
    }
    data
}

fn write_png(path: &Path, data: &[u8], icc: Option<&[u8]>) {
    let mut encoder = PngEncoder::new(std::fs::File::create(path).unwrap());
    if let Some(icc) = icc {
        encoder.set_icc_profile(icc.to_vec()).unwrap();
    }
    encoder
        .write_image(data, 64, 48, ExtendedColorType::Rgb8)
        .unwrap();
}

/// The pixels and ICC profile of a PNG.
fn read_png(path: &Path) -> (Vec<u8>, Option<Vec<u8>>) {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = image::codecs::png::PngDecoder::new(file).unwrap();
    let icc = decoder.icc_profile().unwrap();
    let mut data = vec![0u8; decoder.total_bytes() as usize];
    decoder.read_image(&mut data).unwrap();
    (data, icc)
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-colour-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tessera(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("process")
        .args(args)
        .output()
        .unwrap()
}

fn run(input: &Path, output: &Path, extra: &[&str]) {
    let mut args = vec![input.to_str().unwrap(), "-o", output.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = tessera(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// lcms2's conversion of 8-bit `data` from `from` to `to`, in floating point, rounded.
fn lcms2_convert(data: &[u8], from: &Profile, to: &Profile) -> Vec<u8> {
    let t: Transform<[f64; 3], [f64; 3]> = Transform::new(
        from,
        PixelFormat::RGB_DBL,
        to,
        PixelFormat::RGB_DBL,
        Intent::RelativeColorimetric,
    )
    .unwrap();
    let input: Vec<[f64; 3]> = data
        .chunks_exact(3)
        .map(|p| {
            [
                p[0] as f64 / 255.0,
                p[1] as f64 / 255.0,
                p[2] as f64 / 255.0,
            ]
        })
        .collect();
    let mut out = vec![[0.0; 3]; input.len()];
    t.transform_pixels(&input, &mut out);
    out.iter()
        .flatten()
        .map(|&v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect()
}

fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap()
}

#[test]
fn an_adobe_rgb_photo_is_converted_to_srgb_as_lcms2_converts_it() {
    let dir = dir("adobe");
    let (input, output) = (dir.join("in.png"), dir.join("out.png"));
    let adobe = adobe_rgb();
    write_png(&input, &pixels(), Some(&adobe));
    run(&input, &output, &[]);
    let (got, icc) = read_png(&output);
    let want = lcms2_convert(
        &pixels(),
        &Profile::new_icc(&adobe).unwrap(),
        &Profile::new_srgb(),
    );
    assert!(
        max_diff(&got, &want) <= 1,
        "off by {}",
        max_diff(&got, &want)
    );
    // Converted: the numbers moved, and the output says it is sRGB.
    assert!(max_diff(&got, &pixels()) > 10);
    // The embedded profile is sRGB: lcms2 converts through it to its own sRGB as the identity.
    let icc = icc.expect("an sRGB profile is embedded");
    let srgb = Profile::new_icc(&icc).unwrap();
    let through = lcms2_convert(&want, &srgb, &Profile::new_srgb());
    assert!(
        max_diff(&through, &want) <= 1,
        "the embedded profile is not sRGB"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keep_profile_leaves_pixels_and_profile_as_they_were() {
    let dir = dir("keep");
    let (input, output) = (dir.join("in.png"), dir.join("out.png"));
    let adobe = adobe_rgb();
    write_png(&input, &pixels(), Some(&adobe));
    run(&input, &output, &["--keep-profile"]);
    let (got, icc) = read_png(&output);
    assert_eq!(got, pixels());
    assert_eq!(icc.as_deref(), Some(&adobe[..]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_untagged_photo_is_taken_as_srgb_and_left_as_stored() {
    let dir = dir("untagged");
    let (input, output) = (dir.join("in.png"), dir.join("out.png"));
    write_png(&input, &pixels(), None);
    run(&input, &output, &[]);
    let (got, icc) = read_png(&output);
    assert_eq!(got, pixels());
    assert_eq!(icc, None);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_converts_srgb_to_the_given_space_and_embeds_it() {
    let dir = dir("profile");
    let (input, output, file) = (dir.join("in.png"), dir.join("out.png"), dir.join("a.icc"));
    let adobe = adobe_rgb();
    std::fs::write(&file, &adobe).unwrap();
    write_png(&input, &pixels(), None);
    run(&input, &output, &["--profile", file.to_str().unwrap()]);
    let (got, icc) = read_png(&output);
    let want = lcms2_convert(
        &pixels(),
        &Profile::new_srgb(),
        &Profile::new_icc(&adobe).unwrap(),
    );
    assert!(
        max_diff(&got, &want) <= 1,
        "off by {}",
        max_diff(&got, &want)
    );
    assert_eq!(icc.as_deref(), Some(&adobe[..]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_damaged_profile_is_refused_naming_the_file() {
    let dir = dir("damaged");
    let (input, output) = (dir.join("in.png"), dir.join("out.png"));
    let mut broken = adobe_rgb();
    broken.truncate(140);
    write_png(&input, &pixels(), Some(&broken));
    let out = tessera(&[input.to_str().unwrap(), "-o", output.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("in.png") && stderr.contains("damaged ICC profile"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--strip icc") && stderr.contains("--keep-profile"),
        "{stderr}"
    );
    assert!(!output.exists());
    // --keep-profile takes it as it is.
    run(&input, &output, &["--keep-profile"]);
    assert_eq!(read_png(&output).0, pixels());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An RGB profile from its primaries, white point and tone curve.
fn rgb_profile(white: (f64, f64), primaries: [(f64, f64); 3], curve: &ToneCurve) -> Vec<u8> {
    let xy = |(x, y): (f64, f64)| CIExyY { x, y, Y: 1.0 };
    let triple = CIExyYTRIPLE {
        Red: xy(primaries[0]),
        Green: xy(primaries[1]),
        Blue: xy(primaries[2]),
    };
    Profile::new_rgb(&xy(white), &triple, &[curve, curve, curve])
        .unwrap()
        .icc()
        .unwrap()
}

/// Display P3: DCI-P3's primaries, D65 white, the sRGB tone curve.
fn display_p3() -> Vec<u8> {
    let srgb_curve =
        ToneCurve::new_parametric(4, &[2.4, 1.0 / 1.055, 0.055 / 1.055, 1.0 / 12.92, 0.04045])
            .unwrap();
    rgb_profile(
        (0.3127, 0.3290),
        [(0.680, 0.320), (0.265, 0.690), (0.150, 0.060)],
        &srgb_curve,
    )
}

/// ProPhoto RGB (ROMM): its primaries, D50 white, gamma 1.8.
fn prophoto() -> Vec<u8> {
    rgb_profile(
        (0.3457, 0.3585),
        [(0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001)],
        &ToneCurve::new(1.8),
    )
}

#[test]
fn display_p3_and_prophoto_photos_are_converted_as_lcms2_converts_them() {
    let dir = dir("wide");
    for (name, icc) in [("p3", display_p3()), ("prophoto", prophoto())] {
        let (input, output) = (
            dir.join(format!("{name}.png")),
            dir.join(format!("{name}-out.png")),
        );
        write_png(&input, &pixels(), Some(&icc));
        run(&input, &output, &[]);
        let want = lcms2_convert(
            &pixels(),
            &Profile::new_icc(&icc).unwrap(),
            &Profile::new_srgb(),
        );
        let got = read_png(&output).0;
        assert!(
            max_diff(&got, &want) <= 1,
            "{name}: off by {}",
            max_diff(&got, &want)
        );
        assert!(max_diff(&got, &pixels()) > 10, "{name}: not converted");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_16_bit_adobe_rgb_photo_is_converted_at_16_bits() {
    let dir = dir("deep");
    let (input, output) = (dir.join("in.png"), dir.join("out.png"));
    let adobe = adobe_rgb();
    // 64×48 of fine 16-bit ramps: values no 8-bit path could give back.
    let source: Vec<u16> = (0..64 * 48 * 3u32)
        .map(|i| ((i * 2731 + (i / 3) * 17) % 65536) as u16)
        .collect();
    let mut encoder = PngEncoder::new(std::fs::File::create(&input).unwrap());
    encoder.set_icc_profile(adobe.clone()).unwrap();
    let bytes: Vec<u8> = source.iter().flat_map(|v| v.to_ne_bytes()).collect();
    encoder
        .write_image(&bytes, 64, 48, ExtendedColorType::Rgb16)
        .unwrap();
    run(&input, &output, &[]);
    let file = std::io::BufReader::new(std::fs::File::open(&output).unwrap());
    let decoder = image::codecs::png::PngDecoder::new(file).unwrap();
    assert_eq!(
        decoder.color_type(),
        image::ColorType::Rgb16,
        "16 bits kept"
    );
    let mut raw = vec![0u8; decoder.total_bytes() as usize];
    decoder.read_image(&mut raw).unwrap();
    let got: Vec<u16> = raw
        .chunks_exact(2)
        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
        .collect();
    // lcms2 in floating point.
    let t: Transform<[f64; 3], [f64; 3]> = Transform::new(
        &Profile::new_icc(&adobe).unwrap(),
        PixelFormat::RGB_DBL,
        &Profile::new_srgb(),
        PixelFormat::RGB_DBL,
        Intent::RelativeColorimetric,
    )
    .unwrap();
    let input: Vec<[f64; 3]> = source
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]].map(|v| v as f64 / 65535.0))
        .collect();
    let mut want = vec![[0.0; 3]; input.len()];
    t.transform_pixels(&input, &mut want);
    let diffs: Vec<u32> = want
        .iter()
        .flatten()
        .zip(&got)
        .map(|(&w, &g)| {
            ((w.clamp(0.0, 1.0) * 65535.0).round() as i64 - g as i64).unsigned_abs() as u32
        })
        .collect();
    let worst = *diffs.iter().max().unwrap();
    let mean = diffs.iter().map(|&d| d as f64).sum::<f64>() / diffs.len() as f64;
    // Within a third of an 8-bit step at worst, and a small fraction of one on average: a
    // conversion through 8 bits would be off by up to 128 codes everywhere.
    assert!(
        worst <= 96 && mean <= 16.0,
        "worst {worst}, mean {mean:.1} of 65535"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An AVIF tagged Display P3 by its nclx box alone (H.273 primaries 12, sRGB transfer; no ICC
/// profile), as phones write them, made by FFmpeg's AVIF writer: decoded as FFmpeg decodes it,
/// its colours are converted to sRGB as lcms2 converts them from Display P3.
#[cfg(feature = "avif")]
#[test]
fn an_avif_tagged_display_p3_by_code_points_is_converted() {
    let dir = dir("nclx");
    let (png, avif, output) = (dir.join("in.png"), dir.join("p3.avif"), dir.join("out.png"));
    write_png(&png, &pixels(), None);
    common::ffmpeg(&[
        "-i",
        png.to_str().unwrap(),
        "-frames:v",
        "1",
        "-c:v",
        "libaom-av1",
        "-still-picture",
        "1",
        "-crf",
        "0",
        "-pix_fmt",
        "yuv444p",
        "-color_range",
        "pc",
        "-colorspace",
        "bt470bg",
        "-color_primaries",
        "smpte432",
        "-color_trc",
        "iec61966-2-1",
        avif.to_str().unwrap(),
    ]);
    // As stored: tessera's decode agrees with FFmpeg's (their YUV to RGB may differ by a code
    // value or two), and keeps the profile the code points describe.
    let kept = dir.join("kept.png");
    run(&avif, &kept, &["--keep-profile"]);
    let (stored, kept_icc) = read_png(&kept);
    let ffmpeg = common::decoded(&avif, "rgb24");
    assert!(
        max_diff(&stored, &ffmpeg) <= 2,
        "off FFmpeg's decode by {}",
        max_diff(&stored, &ffmpeg)
    );
    let kept_icc = kept_icc.expect("the code points' profile is kept");
    let want = lcms2_convert(
        &stored,
        &Profile::new_icc(&display_p3()).unwrap(),
        &Profile::new_srgb(),
    );
    // The profile made from the code points converts as Display P3 does.
    let by_kept = lcms2_convert(
        &stored,
        &Profile::new_icc(&kept_icc).unwrap(),
        &Profile::new_srgb(),
    );
    assert!(
        max_diff(&by_kept, &want) <= 1,
        "the kept profile converts off by {}",
        max_diff(&by_kept, &want)
    );
    run(&avif, &output, &[]);
    let (got, icc) = read_png(&output);
    assert!(
        max_diff(&got, &want) <= 1,
        "off by {}",
        max_diff(&got, &want)
    );
    assert!(max_diff(&got, &stored) > 10, "not converted");
    assert_eq!(icc.as_deref(), Some(tessera::media::cms::srgb_icc()));
    std::fs::remove_dir_all(&dir).unwrap();
}
