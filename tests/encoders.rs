//! The still-image encoders and their flags, through the binary: JPEG and WebP size and PSNR
//! follow `--quality`, lossy WebP thumbnails smaller than their JPEG source, lossless WebP
//! exact, the JPEG's markers showing `--subsampling` and `--progressive`, PNG levels, TIFF
//! compressions, grey kept grey, alpha flattened for JPEG with a warning, the flags mapped onto
//! FFmpeg's encoders for image sequences, and every flag that does not apply refused before any
//! work (exit code 2, the flags that do apply listed, no output).

mod common;

use std::path::{Path, PathBuf};

use common::{ffmpeg, psnr, s, tessera, Noise};

/// A photo-like picture: smooth gradients, a soft texture, fine noise and one hard edge.
fn photo(w: u32, h: u32) -> image::RgbImage {
    let mut noise = Noise::new(7);
    image::RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        let texture = ((fx * 40.0).sin() * (fy * 27.0).cos() * 18.0) as i32;
        let edge = if x > w / 2 && y > h / 3 { 60 } else { 0 };
        let n = (noise.next() % 9) as i32 - 4;
        let c = |base: f32| (base as i32 + texture + edge + n).clamp(0, 255) as u8;
        image::Rgb([
            c(40.0 + 170.0 * fx),
            c(60.0 + 120.0 * fy),
            c(200.0 - 120.0 * fx * fy),
        ])
    })
}

fn rgb(path: &Path) -> Vec<u8> {
    image::open(path).unwrap().into_rgb8().into_raw()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// Runs `tessera process input -o output` with `flags`, and asserts it succeeded.
fn process(input: &Path, output: &Path, flags: &[&str]) -> String {
    let mut args = vec!["process", s(input), "-o", s(output), "--backend", "cpu"];
    args.extend_from_slice(flags);
    let (code, _, stderr) = tessera(&args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stderr
}

fn source_png(dir: &Path, w: u32, h: u32) -> PathBuf {
    let path = dir.join("source.png");
    photo(w, h).save(&path).unwrap();
    path
}

#[test]
fn jpeg_and_webp_size_and_psnr_rise_with_quality() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_png(dir.path(), 240, 160);
    let original = rgb(&source);
    for ext in ["jpg", "webp"] {
        let mut last: Option<(u64, f64)> = None;
        for q in [20, 50, 90] {
            let out = dir.path().join(format!("q{q}.{ext}"));
            process(&source, &out, &["--quality", &q.to_string()]);
            let (bytes, db) = (size(&out), psnr(&original, &rgb(&out)));
            if let Some((b, p)) = last {
                assert!(bytes > b, "{ext} q{q}: {bytes} bytes, not more than {b}");
                assert!(db > p, "{ext} q{q}: {db:.2} dB, not more than {p:.2}");
            }
            last = Some((bytes, db));
        }
    }
}

#[test]
fn lossy_webp_thumbnail_is_smaller_than_its_jpeg_source() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = dir.path().join("photo.jpg");
    photo(600, 400).save(&jpeg).unwrap();
    let thumb = dir.path().join("thumb.webp");
    process(&jpeg, &thumb, &["-c", "scale(width=200)"]);
    let decoded = image::open(&thumb).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (200, 133));
    assert!(
        size(&thumb) * 3 < size(&jpeg),
        "{} bytes against the source's {}",
        size(&thumb),
        size(&jpeg)
    );
    // Lossy by default: the lossless one of the same picture is larger.
    let lossless = dir.path().join("thumb-lossless.webp");
    process(&jpeg, &lossless, &["-c", "scale(width=200)", "--lossless"]);
    assert!(size(&lossless) > size(&thumb));
}

#[test]
fn lossless_webp_keeps_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    // Alpha that varies, with colour under fully transparent pixels.
    let rgba = image::RgbaImage::from_fn(64, 48, |x, y| {
        let p = photo(64, 48).get_pixel(x, y).0;
        image::Rgba([p[0], p[1], p[2], if x < 8 { 0 } else { (x * 4 + y) as u8 }])
    });
    let source = dir.path().join("alpha.png");
    rgba.save(&source).unwrap();
    for effort in ["0", "9"] {
        let out = dir.path().join(format!("exact{effort}.webp"));
        process(&source, &out, &["--lossless", "--effort", effort]);
        let back = image::open(&out).unwrap().into_rgba8();
        assert_eq!(back.as_raw(), rgba.as_raw(), "effort {effort}");
    }
}

/// The JPEG's frame header: whether it is progressive (SOF2), its chroma subsampling from the
/// components' sampling factors (0x22 for 4:2:0, 0x21 for 4:2:2, 0x11 for 4:4:4: luma's
/// factors over chroma's, which FFmpeg writes as 0x12 for every component at 4:4:4), and the
/// component count.
fn sof(path: &Path) -> (bool, u8, u8) {
    let bytes = std::fs::read(path).unwrap();
    let mut i = 2;
    while i + 4 < bytes.len() {
        assert_eq!(bytes[i], 0xff, "a marker at {i}");
        let marker = bytes[i + 1];
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if matches!(marker, 0xc0..=0xc2) {
            let components = bytes[i + 9];
            let luma = bytes[i + 11];
            let sampling = if components == 1 {
                0x11
            } else {
                let chroma = bytes[i + 14];
                assert_eq!(chroma, bytes[i + 17], "Cb and Cr alike");
                (((luma >> 4) / (chroma >> 4)) << 4) | ((luma & 15) / (chroma & 15))
            };
            return (marker == 0xc2, sampling, components);
        }
        i += 2 + len;
    }
    panic!("no SOF marker in {}", path.display());
}

#[test]
fn jpeg_markers_show_subsampling_and_progressive() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_png(dir.path(), 64, 48);
    let out = |name: &str, flags: &[&str]| {
        let path = dir.path().join(name);
        process(&source, &path, flags);
        sof(&path)
    };
    assert_eq!(out("default.jpg", &[]), (false, 0x22, 3), "4:2:0 at 85");
    assert_eq!(out("q95.jpg", &["--quality", "95"]), (false, 0x11, 3));
    assert_eq!(out("444.jpg", &["--subsampling", "444"]), (false, 0x11, 3));
    assert_eq!(out("422.jpg", &["--subsampling", "422"]), (false, 0x21, 3));
    assert_eq!(
        out("420.jpg", &["--subsampling", "420", "--quality", "95"]),
        (false, 0x22, 3)
    );
    assert_eq!(out("prog.jpg", &["--progressive"]), (true, 0x22, 3));
}

#[test]
fn png_levels_change_the_size_not_the_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_png(dir.path(), 160, 120);
    let (stored, best, fast) = (
        dir.path().join("0.png"),
        dir.path().join("9.png"),
        dir.path().join("fast.png"),
    );
    process(&source, &stored, &["--compression", "0"]);
    process(&source, &best, &["--compression", "9"]);
    process(&source, &fast, &["--fast"]);
    assert!(
        size(&stored) > size(&best),
        "{} ≤ {}",
        size(&stored),
        size(&best)
    );
    assert!(size(&stored) > size(&fast));
    let original = rgb(&source);
    for path in [&stored, &best, &fast] {
        assert_eq!(rgb(path), original, "{}", path.display());
    }
}

#[test]
fn tiff_compressions_decode_to_the_same_pixels() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_png(dir.path(), 160, 120);
    let original = rgb(&source);
    let mut sizes = Vec::new();
    for c in ["none", "lzw", "deflate"] {
        let out = dir.path().join(format!("{c}.tif"));
        process(&source, &out, &["--tiff-compression", c]);
        assert_eq!(rgb(&out), original, "{c}");
        sizes.push(size(&out));
    }
    assert!(sizes[1] < sizes[0] && sizes[2] < sizes[0], "{sizes:?}");
    // Grey with alpha, 16-bit grey.
    let ga =
        image::GrayAlphaImage::from_fn(40, 30, |x, y| image::LumaA([(x * 6) as u8, (y * 8) as u8]));
    let ga_path = dir.path().join("ga.png");
    ga.save(&ga_path).unwrap();
    let l16 = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(40, 30, |x, y| {
        image::Luma([(x * 1500 + y * 7) as u16])
    });
    let l16_path = dir.path().join("l16.png");
    l16.save(&l16_path).unwrap();
    for c in ["none", "lzw", "deflate"] {
        let out = dir.path().join(format!("ga-{c}.tif"));
        process(&ga_path, &out, &["--tiff-compression", c]);
        // Written as RGBA: the TIFF reader tessera uses reads no two-sample grey.
        let back = image::open(&out).unwrap();
        assert_eq!(back.color(), image::ColorType::Rgba8, "{c}");
        assert_eq!(back.into_luma_alpha8().as_raw(), ga.as_raw(), "{c}");
        let out = dir.path().join(format!("l16-{c}.tif"));
        process(&l16_path, &out, &["--tiff-compression", c]);
        assert_eq!(
            image::open(&out).unwrap().into_luma16().as_raw(),
            l16.as_raw()
        );
    }
}

/// The values of tag `number` in IFD `ifd` of a TIFF, read by the `tiff` crate; `None` where
/// the IFD has no such tag.
fn tiff_tag(path: &Path, ifd: usize, number: u16) -> Option<Vec<u64>> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = tiff::decoder::Decoder::new(file).unwrap();
    for _ in 0..ifd {
        decoder.next_image().unwrap();
    }
    decoder
        .find_tag_unsigned_vec::<u64>(tiff::tags::Tag::from_u16_exhaustive(number))
        .unwrap()
}

/// Each IFD's size and samples as the `tiff` crate decodes them (8-bit only).
fn tiff_levels(path: &Path) -> Vec<((u32, u32), Vec<u8>)> {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = tiff::decoder::Decoder::new(file).unwrap();
    let mut levels = Vec::new();
    loop {
        let size = decoder.dimensions().unwrap();
        let tiff::decoder::DecodingResult::U8(samples) = decoder.read_image().unwrap() else {
            panic!("not 8-bit");
        };
        levels.push((size, samples));
        if !decoder.more_images() {
            return levels;
        }
        decoder.next_image().unwrap();
    }
}

/// A picture as tessera reads it back: written to PNG by the binary, then opened.
fn read_back(path: &Path) -> image::DynamicImage {
    let png = path.with_extension("back.png");
    process(path, &png, &["--overwrite"]);
    image::open(&png).unwrap()
}

const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const SAMPLES_PER_PIXEL: u16 = 277;
const BITS_PER_SAMPLE: u16 = 258;
const STRIP_OFFSETS: u16 = 273;
const TILE_WIDTH: u16 = 322;
const TILE_LENGTH: u16 = 323;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const NEW_SUBFILE_TYPE: u16 = 254;
const YCBCR_SUBSAMPLING: u16 = 530;

#[test]
fn jpeg_tiffs_follow_quality_and_subsampling() {
    let dir = tempfile::tempdir().unwrap();
    // Not a multiple of 16 either way: the last strip is short.
    let source = source_png(dir.path(), 251, 173);
    let original = rgb(&source);
    let mut last: Option<(u64, f64)> = None;
    for q in [30, 60, 85, 95] {
        let out = dir.path().join(format!("q{q}.tif"));
        process(
            &source,
            &out,
            &["--tiff-compression", "jpeg", "--quality", &q.to_string()],
        );
        assert_eq!(tiff_tag(&out, 0, COMPRESSION), Some(vec![7]));
        assert_eq!(tiff_tag(&out, 0, PHOTOMETRIC), Some(vec![6]), "Y′CbCr");
        // 4:2:0 below quality 90, as for a .jpg; 4:4:4 from it.
        let expected = if q < 90 { [2, 2] } else { [1, 1] };
        assert_eq!(
            tiff_tag(&out, 0, YCBCR_SUBSAMPLING),
            Some(expected.to_vec())
        );
        let back = read_back(&out).into_rgb8().into_raw();
        let (bytes, db) = (size(&out), psnr(&original, &back));
        if q == 85 {
            assert!(db >= 36.0, "quality 85: {db:.2} dB");
        }
        if let Some((b, p)) = last {
            assert!(bytes > b, "q{q}: {bytes} bytes, not more than {b}");
            assert!(db > p, "q{q}: {db:.2} dB, not more than {p:.2}");
        }
        last = Some((bytes, db));
    }
    for (sub, expected) in [("444", [1, 1]), ("422", [2, 1]), ("420", [2, 2])] {
        let out = dir.path().join(format!("s{sub}.tif"));
        process(
            &source,
            &out,
            &["--tiff-compression", "jpeg", "--subsampling", sub],
        );
        assert_eq!(
            tiff_tag(&out, 0, YCBCR_SUBSAMPLING),
            Some(expected.to_vec()),
            "{sub}"
        );
        assert!(psnr(&original, &read_back(&out).into_rgb8().into_raw()) >= 36.0);
    }
    // Grey stays one component, BlackIsZero.
    let grey = image::GrayImage::from_fn(70, 45, |x, y| image::Luma([(x * 2 + y * 2) as u8]));
    let grey_path = dir.path().join("grey.png");
    grey.save(&grey_path).unwrap();
    let out = dir.path().join("grey.tif");
    process(&grey_path, &out, &["--tiff-compression", "jpeg"]);
    assert_eq!(tiff_tag(&out, 0, SAMPLES_PER_PIXEL), Some(vec![1]));
    assert_eq!(tiff_tag(&out, 0, PHOTOMETRIC), Some(vec![1]));
    assert_eq!(tiff_tag(&out, 0, YCBCR_SUBSAMPLING), None);
    let back = image::open(&out).unwrap();
    assert_eq!(back.color(), image::ColorType::L8);
    // As close as a .jpg of the same picture: the same mozjpeg setup.
    let jpg = dir.path().join("grey.jpg");
    process(&grey_path, &jpg, &[]);
    let (tif_db, jpg_db) = (
        psnr(grey.as_raw(), back.as_bytes()),
        psnr(grey.as_raw(), image::open(&jpg).unwrap().as_bytes()),
    );
    assert!(
        tif_db >= 36.0 && (tif_db - jpg_db).abs() < 0.5,
        "{tif_db:.2} dB against the .jpg's {jpg_db:.2}"
    );
    // 16 bits become 8, alpha is flattened: both with a warning, as vips does.
    let deep = image::ImageBuffer::<image::Rgba<u16>, _>::from_fn(48, 40, |x, y| {
        image::Rgba([
            (x * 1300) as u16,
            (y * 1500) as u16,
            30000,
            if x < 8 { 0 } else { 65535 },
        ])
    });
    let deep_path = dir.path().join("deep.png");
    deep.save(&deep_path).unwrap();
    let out = dir.path().join("deep.tif");
    let stderr = process(&deep_path, &out, &["--tiff-compression", "jpeg"]);
    assert!(
        stderr.contains("16-bit samples written as 8-bit"),
        "{stderr}"
    );
    assert!(stderr.contains("alpha flattened onto white"), "{stderr}");
    assert_eq!(tiff_tag(&out, 0, BITS_PER_SAMPLE), Some(vec![8, 8, 8]));
    let back = read_back(&out).into_rgb8();
    assert!(back.get_pixel(2, 20).0.iter().all(|&v| v >= 245));
}

#[test]
fn tiles_hold_the_same_pixels_as_strips() {
    let dir = tempfile::tempdir().unwrap();
    let photo8 = photo(203, 141);
    let rgb8 = dir.path().join("rgb8.png");
    photo8.save(&rgb8).unwrap();
    let rgba8 = dir.path().join("rgba8.png");
    image::RgbaImage::from_fn(203, 141, |x, y| {
        let p = photo8.get_pixel(x, y).0;
        image::Rgba([p[0], p[1], p[2], (x + y) as u8])
    })
    .save(&rgba8)
    .unwrap();
    let grey8 = dir.path().join("grey8.png");
    image::GrayImage::from_fn(203, 141, |x, y| image::Luma([photo8.get_pixel(x, y).0[1]]))
        .save(&grey8)
        .unwrap();
    let rgb16 = dir.path().join("rgb16.png");
    image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(203, 141, |x, y| {
        let p = photo8.get_pixel(x, y).0;
        image::Rgb([
            p[0] as u16 * 256 + x as u16,
            p[1] as u16 * 250,
            p[2] as u16 * 255 + y as u16,
        ])
    })
    .save(&rgb16)
    .unwrap();
    let grey16 = dir.path().join("grey16.png");
    image::ImageBuffer::<image::Luma<u16>, _>::from_fn(203, 141, |x, y| {
        image::Luma([(x * 300 + y * 17) as u16])
    })
    .save(&grey16)
    .unwrap();
    for source in [&rgb8, &rgba8, &grey8, &rgb16, &grey16] {
        let name = source.file_stem().unwrap().to_str().unwrap();
        for c in ["none", "lzw", "deflate"] {
            let strips = dir.path().join(format!("{name}-{c}-strips.tif"));
            process(source, &strips, &["--tiff-compression", c]);
            let tiles = dir.path().join(format!("{name}-{c}-tiles.tif"));
            process(
                source,
                &tiles,
                &["--tiff-compression", c, "--tiff-tile=64x32"],
            );
            let (a, b) = (image::open(&strips).unwrap(), image::open(&tiles).unwrap());
            assert_eq!(a.color(), b.color(), "{name} {c}");
            assert_eq!(a.as_bytes(), b.as_bytes(), "{name} {c}");
            assert_eq!(
                b.as_bytes(),
                image::open(source).unwrap().as_bytes(),
                "{name} {c}"
            );
            assert_eq!(tiff_tag(&tiles, 0, TILE_WIDTH), Some(vec![64]));
            assert_eq!(tiff_tag(&tiles, 0, TILE_LENGTH), Some(vec![32]));
            // 4 tiles across (the last one part outside), 5 down.
            assert_eq!(tiff_tag(&tiles, 0, TILE_OFFSETS).unwrap().len(), 20);
            assert_eq!(tiff_tag(&tiles, 0, TILE_BYTE_COUNTS).unwrap().len(), 20);
            assert_eq!(tiff_tag(&tiles, 0, STRIP_OFFSETS), None);
            assert_eq!(
                tiff_tag(&tiles, 0, COMPRESSION),
                tiff_tag(&strips, 0, COMPRESSION)
            );
        }
    }
    // JPEG tiles: as close to the source as JPEG strips.
    let original = photo8.into_raw();
    let strips = dir.path().join("jpeg-strips.tif");
    process(&rgb8, &strips, &["--tiff-compression", "jpeg"]);
    let tiles = dir.path().join("jpeg-tiles.tif");
    process(
        &rgb8,
        &tiles,
        &["--tiff-compression", "jpeg", "--tiff-tile"],
    );
    assert_eq!(
        tiff_tag(&tiles, 0, TILE_WIDTH),
        Some(vec![256]),
        "the default"
    );
    let (a, b) = (
        psnr(&original, &read_back(&strips).into_rgb8().into_raw()),
        psnr(&original, &read_back(&tiles).into_rgb8().into_raw()),
    );
    assert!(
        b >= 36.0 && (a - b).abs() < 1.0,
        "strips {a:.2} dB, tiles {b:.2} dB"
    );
}

/// The 2×2 mean of `level`'s samples (`channels` a pixel), rounded, at half its size.
fn halved(level: &[u8], (w, h): (u32, u32), channels: usize) -> Vec<u8> {
    let (w, h) = (w as usize, h as usize);
    let mut out = Vec::new();
    for y in 0..h / 2 {
        for x in 0..w / 2 {
            for c in 0..channels {
                let at = |dx: usize, dy: usize| {
                    level[((2 * y + dy) * w + 2 * x + dx) * channels + c] as u32
                };
                out.push(((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8);
            }
        }
    }
    out
}

#[test]
fn pyramids_halve_down_to_one_tile() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_png(dir.path(), 301, 203);
    let out = dir.path().join("pyramid.tif");
    process(&source, &out, &["--tiff-pyramid", "--tiff-tile=64"]);
    let levels = tiff_levels(&out);
    let sizes: Vec<(u32, u32)> = levels.iter().map(|l| l.0).collect();
    // 75×50 still overflows a 64×64 tile; 37×25 fits.
    assert_eq!(sizes, [(301, 203), (150, 101), (75, 50), (37, 25)]);
    for (i, expected) in [0, 1, 1, 1].into_iter().enumerate() {
        assert_eq!(tiff_tag(&out, i, NEW_SUBFILE_TYPE), Some(vec![expected]));
        assert_eq!(tiff_tag(&out, i, TILE_WIDTH), Some(vec![64]));
    }
    assert_eq!(levels[0].1, rgb(&source), "level 0 is the picture");
    for pair in levels.windows(2) {
        let mean = halved(&pair[0].1, pair[0].0, 3);
        assert_eq!(mean.len(), pair[1].1.len());
        assert!(
            mean.iter()
                .zip(&pair[1].1)
                .all(|(&a, &b)| a.abs_diff(b) <= 1),
            "a level is not its parent's 2×2 mean"
        );
    }
    // Read as its full-size picture; JPEG pyramids too, with a 256 tile by default.
    assert_eq!(rgb(&out), rgb(&source));
    let big = source_png(dir.path(), 600, 300);
    let out = dir.path().join("jpeg-pyramid.tif");
    process(
        &big,
        &out,
        &["--tiff-pyramid", "--tiff-compression", "jpeg"],
    );
    assert_eq!(tiff_tag(&out, 0, TILE_WIDTH), Some(vec![256]));
    assert_eq!(tiff_tag(&out, 2, NEW_SUBFILE_TYPE), Some(vec![1]));
    let back = read_back(&out);
    assert_eq!((back.width(), back.height()), (600, 300));
    assert!(psnr(&rgb(&big), &back.into_rgb8().into_raw()) >= 36.0);
}

#[test]
fn grey_stays_grey() {
    let dir = tempfile::tempdir().unwrap();
    let grey = image::GrayImage::from_fn(64, 48, |x, y| image::Luma([(x * 3 + y * 2) as u8]));
    let source = dir.path().join("grey.png");
    grey.save(&source).unwrap();
    for (ext, colour) in [
        ("png", image::ColorType::L8),
        ("jpg", image::ColorType::L8),
        ("tif", image::ColorType::L8),
        ("webp", image::ColorType::Rgb8),
    ] {
        let out = dir.path().join(format!("out.{ext}"));
        process(&source, &out, &[]);
        let back = image::open(&out).unwrap();
        assert_eq!(back.color(), colour, "{ext}");
        if ext == "jpg" {
            assert_eq!(sof(&out).2, 1, "one component");
        }
    }
    // Filters run on grey frames on both backends; a colour filter may make RGB, written so.
    for backend in ["cpu", "gpu"] {
        for chain in [
            "gblur(sigma=2)",
            "eq(contrast=1.2, brightness=0.05)",
            "hue(h=30)",
            "scale(width=32)",
            "invert",
        ] {
            let out = dir.path().join(format!("chain-{backend}.png"));
            let (code, _, stderr) = tessera(&[
                "process",
                s(&source),
                "-o",
                s(&out),
                "--overwrite",
                "-c",
                chain,
                "--backend",
                backend,
            ]);
            assert_eq!(code, 0, "{chain} on {backend}: {stderr}");
            let back = image::open(&out).unwrap();
            assert!(
                matches!(back.color(), image::ColorType::L8 | image::ColorType::Rgb8),
                "{chain} on {backend}: {:?}",
                back.color()
            );
        }
    }
}

#[test]
fn alpha_is_flattened_for_jpeg_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // Left half transparent red, right half opaque blue.
    let rgba = image::RgbaImage::from_fn(64, 32, |x, _| {
        if x < 32 {
            image::Rgba([255, 0, 0, 0])
        } else {
            image::Rgba([0, 0, 255, 255])
        }
    });
    let source = dir.path().join("alpha.png");
    rgba.save(&source).unwrap();
    let white = dir.path().join("white.jpg");
    let stderr = process(&source, &white, &[]);
    assert!(stderr.contains("alpha flattened onto white"), "{stderr}");
    let black = dir.path().join("black.jpg");
    let stderr = process(&source, &black, &["--background", "black"]);
    assert!(stderr.contains("alpha flattened onto black"), "{stderr}");
    let (w, b) = (
        image::open(&white).unwrap().into_rgb8(),
        image::open(&black).unwrap().into_rgb8(),
    );
    let px = |img: &image::RgbImage, x| img.get_pixel(x, 16).0;
    assert!(px(&w, 8).iter().all(|&v| v >= 245), "{:?}", px(&w, 8));
    assert!(px(&b, 8).iter().all(|&v| v <= 10), "{:?}", px(&b, 8));
    for img in [&w, &b] {
        let blue = px(img, 56);
        assert!(blue[2] >= 235 && blue[0] <= 20, "{blue:?}");
    }
    let hex = dir.path().join("hex.jpg");
    process(&source, &hex, &["--background", "#336699"]);
    let p = px(&image::open(&hex).unwrap().into_rgb8(), 8);
    assert!(
        (p[0] as i32 - 0x33).abs() <= 6 && (p[2] as i32 - 0x99).abs() <= 6,
        "{p:?}"
    );
    // An opaque picture gives no warning.
    let opaque = source_png(dir.path(), 32, 32);
    let stderr = process(&opaque, &dir.path().join("opaque.jpg"), &[]);
    assert!(!stderr.contains("flattened"), "{stderr}");
}

/// A short video made with FFmpeg's lavfi source.
fn clip(dir: &Path) -> PathBuf {
    let path = dir.join("clip.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=96x64:r=10:d=0.3",
        "-pix_fmt",
        "yuv420p",
        s(&path),
    ]);
    path
}

fn sequence_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

#[test]
fn image_flags_reach_ffmpegs_sequence_encoders() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path());
    let run = |name: &str, ext: &str, flags: &[&str]| {
        let folder = dir.path().join(name);
        process(&video, &folder.join(format!("%05d.{ext}")), flags);
        folder
    };
    let low = run("q10", "webp", &["--quality", "10"]);
    let high = run("q95", "webp", &["--quality", "95"]);
    assert!(sequence_bytes(&low) < sequence_bytes(&high));
    let stored = run("c0", "png", &["--compression", "0"]);
    let packed = run("c9", "png", &["--compression", "9"]);
    assert!(sequence_bytes(&packed) < sequence_bytes(&stored));
    let full = run("j444", "jpg", &["--subsampling", "444"]);
    assert_eq!(sof(&full.join("00001.jpg")).1, 0x11);
    let half = run("j420", "jpg", &["--subsampling", "420"]);
    assert_eq!(sof(&half.join("00001.jpg")).1, 0x22);
    // JPEG frames at a quality carry that quality's tables (FFmpeg's mjpeg keeps its DC step
    // of 8), and are smaller at a lower one.
    let mut last = u64::MAX;
    for quality in [95u8, 75, 30] {
        let folder = run(
            &format!("jq{quality}"),
            "jpg",
            &["--quality", &quality.to_string()],
        );
        let tables = tessera::media::encoders::jpeg_tables(quality);
        for (id, table) in dqt(&folder.join("00002.jpg")) {
            assert_eq!(table[1..], tables[id][1..], "quality {quality}, table {id}");
            assert_eq!(table[0], 8, "quality {quality}: the DC step");
        }
        let bytes = sequence_bytes(&folder);
        assert!(
            bytes < last,
            "quality {quality}: {bytes} bytes after {last}"
        );
        last = bytes;
    }
}

/// A JPEG's quantisation tables by their ids, in raster order (DQT stores them in zigzag).
fn dqt(path: &Path) -> Vec<(usize, [u16; 64])> {
    const ZIGZAG: [usize; 64] = [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
        20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];
    let bytes = std::fs::read(path).unwrap();
    let mut tables = Vec::new();
    let mut i = 2;
    while i + 4 < bytes.len() && bytes[i + 1] != 0xda {
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if bytes[i + 1] == 0xdb {
            let mut at = i + 4;
            while at < i + 2 + len {
                assert_eq!(bytes[at] >> 4, 0, "8-bit tables");
                let mut table = [0u16; 64];
                for (k, &z) in ZIGZAG.iter().enumerate() {
                    table[z] = u16::from(bytes[at + 1 + k]);
                }
                tables.push((usize::from(bytes[at] & 15), table));
                at += 65;
            }
        }
        i += 2 + len;
    }
    assert_eq!(
        tables.len(),
        2,
        "luma and chroma tables in {}",
        path.display()
    );
    tables
}

/// Runs a command line that must be refused as a usage error, before any work: exit code 2,
/// the message containing `expected`, and no output at `output`.
fn refused(args: &[&str], expected: &str, output: &Path) {
    let (code, _, stderr) = tessera(args);
    assert_eq!(code, 2, "{args:?}: {stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
    assert!(!output.exists(), "{args:?} wrote {}", output.display());
}

#[test]
fn flags_that_do_not_apply_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let source = source_png(dir.path(), 32, 24);
    let jpeg_flags = "the flags for JPEG are --quality, --subsampling, --progressive, --background";
    for (flag, value) in [
        ("--crf", Some("20")),
        ("--codec", Some("libx264")),
        ("--preset", Some("fast")),
        ("--bitrate", Some("1M")),
        ("--pix-fmt", Some("yuv420p")),
        ("--gop", Some("5")),
        ("--encoder-opt", Some("quality=50")),
        ("--no-audio", None),
        ("--audio-codec", Some("aac")),
        ("--auto-rotate", None),
    ] {
        let out = dir.path().join("out.jpg");
        let mut args = vec!["process", s(&source), "-o", s(&out), flag];
        args.extend(value);
        refused(&args, jpeg_flags, &out);
        refused(&[&args[..], &["--dry-run"]].concat(), jpeg_flags, &out);
    }
    let png_flags = "the flags for PNG are --compression, --fast";
    let webp_flags = "the flags for WebP are --quality, --lossless, --effort";
    for (name, flags, expected) in [
        ("a.png", &["--subsampling", "420"][..], png_flags),
        ("a.png", &["--quality", "50"], png_flags),
        ("a.png", &["--background", "black"], png_flags),
        ("a.jpg", &["--compression", "5"], jpeg_flags),
        ("a.jpg", &["--lossless"], jpeg_flags),
        ("a.jpg", &["--effort", "3"], jpeg_flags),
        ("a.webp", &["--progressive"], webp_flags),
        ("a.webp", &["--tiff-compression", "lzw"], webp_flags),
        (
            "a.tif",
            &["--lossless"],
            "the flags for TIFF are --tiff-compression",
        ),
        ("a.bmp", &["--quality", "80"], "BMP takes no encoding flag"),
        (
            "a.webp",
            &["--quality", "50", "--lossless"],
            "--lossless has none",
        ),
        ("a.png", &["--fast", "--compression", "3"], "give one"),
        ("a.tif", &["--quality", "50"], "--quality applies to"),
        (
            "a.tif",
            &["--tiff-compression", "lzw", "--background", "black"],
            "only with --tiff-compression jpeg",
        ),
        ("a.png", &["--tiff-tile"], png_flags),
        ("a.jpg", &["--tiff-pyramid"], jpeg_flags),
        ("a.tif", &["--tiff-tile=100"], "a multiple of 16"),
        ("a.tif", &["--tiff-tile=64x0"], "a multiple of 16"),
    ] {
        let out = dir.path().join(name);
        let args = [&["process", s(&source), "-o", s(&out)][..], flags].concat();
        refused(&args, expected, &out);
    }
    // Standard output, named by --format.
    refused(
        &[
            "process",
            s(&source),
            "-o",
            "-",
            "--format",
            "png",
            "--quality",
            "5",
        ],
        png_flags,
        &dir.path().join("nothing"),
    );
    // Values out of range are clap's usage errors.
    for (flag, value) in [
        ("--quality", "101"),
        ("--effort", "10"),
        ("--compression", "10"),
    ] {
        let out = dir.path().join("range.webp");
        refused(
            &["process", s(&source), "-o", s(&out), flag, value],
            value,
            &out,
        );
    }
    let out = dir.path().join("bad.jpg");
    refused(
        &[
            "process",
            s(&source),
            "-o",
            s(&out),
            "--background",
            "mauve",
        ],
        "is not a colour",
        &out,
    );

    // Image flags for a video, and for sequences whose encoder cannot take them.
    let video = clip(dir.path());
    let mp4 = dir.path().join("out.mp4");
    refused(
        &["process", s(&video), "-o", s(&mp4), "--quality", "50"],
        "the flags for a video are --codec, --crf",
        &mp4,
    );
    let frames = dir.path().join("frames");
    let pattern = frames.join("%05d.jpg");
    refused(
        &[
            "process",
            s(&video),
            "-o",
            s(&pattern),
            "--quality",
            "50",
            "--bitrate",
            "2M",
        ],
        "--quality and --bitrate both set",
        &frames,
    );
    refused(
        &["process", s(&video), "-o", s(&pattern), "--progressive"],
        "baseline JPEGs only",
        &frames,
    );
    refused(
        &[
            "process",
            s(&video),
            "-o",
            s(&frames.join("%05d.png")),
            "--fast",
        ],
        "the image flags that apply to them are --compression",
        &frames,
    );
    let tiffs = frames.join("%05d.tif");
    refused(
        &["process", s(&video), "-o", s(&tiffs), "--tiff-tile"],
        "strips only",
        &frames,
    );
    refused(
        &[
            "process",
            s(&video),
            "-o",
            s(&tiffs),
            "--tiff-compression",
            "jpeg",
        ],
        "not JPEG",
        &frames,
    );
    refused(
        &["process", s(&video), "-o", s(&tiffs), "--quality", "50"],
        "no JPEG compression",
        &frames,
    );
    refused(
        &["process", s(&video), "--discard", "--lossless"],
        "--discard writes none",
        &frames,
    );

    // A batch goes through the same checks: nothing is made.
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    photo(16, 16).save(input.join("a.png")).unwrap();
    photo(16, 16).save(input.join("b.png")).unwrap();
    let out = dir.path().join("out");
    let template = out.join("{stem}.png");
    refused(
        &[
            "process",
            s(&input),
            "-o",
            s(&template),
            "--subsampling",
            "420",
        ],
        png_flags,
        &out,
    );
}
