//! Strips against whole pictures: every filter of the registry, with every example parameter
//! set, on pictures taller than several strips with odd sizes, at 8 and 16 bits, with and
//! without alpha, and on subsampled Y′CbCr, gives the same samples run strip by strip (as the
//! streaming still path and the GPU's bands of frames too large for one binding run it) as run
//! whole.

mod common;

use common::{test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::filters::registry;
use tessera::frame::{Format, Layout};
use tessera::{plan, Backend, Chain, Frame};

/// The pictures every chain runs on: taller than several strips, odd sizes.
fn frames() -> Vec<Frame> {
    vec![
        common::test_image8(61, 83, 1),
        common::test_image16(63, 71, 2),
        test_frame(Format::rgb(67, 79, 8, false), 3),
        test_frame(yuv(65, 75, Layout::YUV420, 8), 4),
        test_frame(yuv(61, 89, Layout::GRAY, 16), 5),
    ]
}

/// Runs each chain on each frame whole and in strips of a few heights; returns how many ran
/// in strips, and the chains that cannot (with the reason).
fn strips_match_whole(
    backend: &mut dyn Backend,
    chains: &[String],
    frames: &[Frame],
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    let mut ran = 0;
    for text in chains {
        let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
        for frame in frames {
            let plan = match plan::compile(&chain, &frame.format) {
                Ok(plan) => plan,
                // Examples written for other shapes (a crop or a pad of a set size), `planes`
                // naming planes the frame has not: refused whole as in strips.
                Err(_) => continue,
            };
            if let Some(why) = plan.strips_refused() {
                refused.push(format!("{text}: {why}"));
                continue;
            }
            backend.new_stream();
            let whole = backend.process(&plan, frame.clone()).unwrap();
            for rows in [2, 7, 16] {
                let strips = plan::run_in_strips(&plan, frame, rows, |p, f| {
                    backend.new_stream();
                    backend.process(p, f)
                })
                .unwrap();
                ran += 1;
                if strips.format != whole.format || strips.plane_diffs(&whole).is_none() {
                    failures.push(format!(
                        "{text} on {} in strips of {rows}: {} against {}",
                        frame.format.describe(),
                        strips.format.describe(),
                        whole.format.describe()
                    ));
                    continue;
                }
                let diffs = strips.plane_diffs(&whole).unwrap();
                if diffs.iter().any(|&d| d != 0) {
                    failures.push(format!(
                        "{text} on {} in strips of {rows}: planes differ by {diffs:?}",
                        frame.format.describe()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (ran, refused)
}

#[test]
fn every_filter_gives_the_same_samples_in_strips_as_whole() {
    let chains: Vec<String> = registry()
        .iter()
        .flat_map(|s| s.examples.iter().map(|e| e.to_string()))
        .collect();
    let (ran, mut refused) = strips_match_whole(&mut CpuBackend::new(), &chains, &frames());
    assert!(ran > chains.len() * 3 * 3, "only {ran} runs in strips");
    // The chains that cannot be cut are the ones that read far from where they write (a
    // rotation, a transposition, a vertical flip) or keep whole frames (temporal filters).
    refused.sort();
    refused.dedup();
    for line in &refused {
        assert!(
            ["rotate", "transpose", "vflip", "tmix", "hqdn3d"]
                .iter()
                .any(|name| line.starts_with(name) || line.contains(&format!("| {name}"))),
            "refused unexpectedly: {line}"
        );
    }
}

#[test]
fn chains_give_the_same_samples_in_strips_on_both_backends() {
    let chains = [
        "gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1)",
        "crop(x=6, y=4, width=21, height=41) | boxblur(2) | scale(width=40, filter=bicubic) | hflip",
        "scale(width=w/3, height=h/3, filter=lanczos3) | median(1) | curves(preset=vintage)",
        "overlay(\"assets/overlays/badge.png\", 5, 30, 0.9, multiply) | sobel",
        "pad(w+6, h+9, 3, 4, #4080c0) | bilateral | denoise",
    ]
    .map(String::from);
    let frames = frames();
    strips_match_whole(&mut CpuBackend::new(), &chains, &frames);
    if let Some(mut gpu) = common::gpu() {
        strips_match_whole(&mut gpu, &chains, &frames);
    }
}

// ---- the streaming still path through the binary ----

use std::path::Path;
use tessera::frame::Samples;
use tessera::media::{self, cms::ColourPlan, image::PhotoOptions};

/// The test image's first `channels` planes (1: its first plane, grey) at 8 or 16 bits,
/// interleaved as files hold them.
fn pixels(w: u32, h: u32, channels: usize, wide: bool, seed: u64) -> Samples {
    let frame = if wide {
        common::test_image16(w, h, seed)
    } else {
        common::test_image8(w, h, seed)
    };
    fn pick<T: Copy>(v: Vec<T>, channels: usize) -> Vec<T> {
        v.chunks_exact(4)
            .flat_map(|px| px[..channels].to_vec())
            .collect()
    }
    match frame.interleaved() {
        Samples::U8(v) => Samples::U8(pick(v, channels)),
        Samples::U16(v) => Samples::U16(pick(v, channels)),
    }
}

fn write_png(path: &Path, w: u32, h: u32, channels: usize, wide: bool) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, w, h);
    encoder.set_color(match channels {
        1 => png::ColorType::Grayscale,
        3 => png::ColorType::Rgb,
        _ => png::ColorType::Rgba,
    });
    encoder.set_depth(if wide {
        png::BitDepth::Sixteen
    } else {
        png::BitDepth::Eight
    });
    let mut writer = encoder.write_header().unwrap();
    let bytes = match pixels(w, h, channels, wide, 11) {
        Samples::U8(v) => v,
        Samples::U16(v) => v.iter().flat_map(|s| s.to_be_bytes()).collect(),
    };
    writer.write_image_data(&bytes).unwrap();
}

/// A strip-organised TIFF (the `tiff` crate's strips of about 1 MB), LZW-compressed, with an ICC
/// profile where given.
fn write_tiff(path: &Path, w: u32, h: u32, channels: usize, wide: bool, icc: Option<&[u8]>) {
    use tiff::encoder::{colortype, Compression, TiffEncoder};
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut tiff = TiffEncoder::new(file)
        .unwrap()
        .with_compression(Compression::Lzw);
    macro_rules! image {
        ($c:ty, $v:expr) => {{
            let mut image = tiff.new_image::<$c>(w, h).unwrap();
            if let Some(icc) = icc {
                image
                    .encoder()
                    .write_tag(tiff::tags::Tag::Unknown(34675), icc)
                    .unwrap();
            }
            image.write_data($v).unwrap();
        }};
    }
    match (pixels(w, h, channels, wide, 12), channels) {
        (Samples::U8(v), 1) => image!(colortype::Gray8, &v),
        (Samples::U8(v), 3) => image!(colortype::RGB8, &v),
        (Samples::U8(v), _) => image!(colortype::RGBA8, &v),
        (Samples::U16(v), 1) => image!(colortype::Gray16, &v),
        (Samples::U16(v), 3) => image!(colortype::RGB16, &v),
        (Samples::U16(v), _) => image!(colortype::RGBA16, &v),
    }
}

/// What the library's whole-picture path makes of `input` through `chain`: read whole,
/// converted into sRGB by its profile, filtered whole on the CPU.
fn whole(input: &Path, chain: &str) -> Frame {
    let photo = media::image::read_photo(input, true).unwrap();
    let colour =
        ColourPlan::new(photo.metadata.icc.clone(), &PhotoOptions::default(), input).unwrap();
    let frame = colour.before_chain(photo.frame, input).unwrap();
    let plan = plan::compile(&Chain::parse(chain).unwrap(), &frame.format).unwrap();
    let result = CpuBackend::new().process(&plan, frame).unwrap();
    colour.after_chain(result, input).unwrap()
}

#[test]
fn streamed_pictures_are_the_whole_paths() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h) = (157, 1301);
    let inputs = [
        ("rgb8.png", 3, false),
        ("grey16.png", 1, true),
        ("rgba8.png", 4, false),
        ("rgb16.tif", 3, true),
        ("grey8.tif", 1, false),
        ("icc.tif", 3, false),
    ];
    let adobe = common::adobe_rgb();
    for (name, channels, wide) in inputs {
        let path = dir.path().join(name);
        if name.ends_with(".png") {
            write_png(&path, w, h, channels, wide);
        } else {
            let icc = name.starts_with("icc").then_some(&adobe[..]);
            write_tiff(&path, w, h, channels, wide, icc);
        }
    }
    // JPEGs made by tessera from those: baseline 4:2:0, grey, and progressive 4:4:4 with the
    // Adobe RGB profile (libjpeg holds a progressive picture's coefficients, not its rows).
    let jpegs = [
        ("rgb8.png", "rgb.jpg", &[][..]),
        ("grey8.tif", "grey.jpg", &[][..]),
        (
            "icc.tif",
            "icc-progressive.jpg",
            &["--progressive", "--quality", "95"][..],
        ),
    ];
    for (from, name, flags) in jpegs {
        let (from, to) = (dir.path().join(from), dir.path().join(name));
        let mut args = vec!["process", common::s(&from)];
        args.extend(["-o", common::s(&to), "--backend", "cpu"]);
        args.extend(flags);
        let (code, _, stderr) = common::tessera(&args);
        assert_eq!(code, 0, "{stderr}");
    }
    // Tiled TIFFs made by tessera from those: tiles that do not divide the size (the right and
    // bottom tiles hold fewer pixels than a tile), 16-bit, grey and alpha.
    let tiled = [
        ("rgb16.tif", "tiled-rgb16.tif", "--tiff-tile=32x48"),
        ("grey8.tif", "tiled-grey8.tif", "--tiff-tile=64"),
        ("rgba8.png", "tiled-rgba8.tif", "--tiff-tile=128x16"),
    ];
    for (from, name, tile) in tiled {
        let (from, to) = (dir.path().join(from), dir.path().join(name));
        let (code, _, stderr) = common::tessera(&[
            "process",
            common::s(&from),
            "-o",
            common::s(&to),
            tile,
            "--tiff-compression",
            "deflate",
        ]);
        assert_eq!(code, 0, "{stderr}");
    }
    let inputs = inputs
        .iter()
        .map(|&(name, _, _)| name)
        .chain(jpegs.iter().map(|&(_, name, _)| name))
        .chain(tiled.iter().map(|&(_, name, _)| name));
    let chains = [
        "gblur(2) | unsharp(1.5) | crop(x=3, y=7, width=w-10, height=h-20)",
        "scale(width=w/3, height=h/3, filter=lanczos3) | vignette | grain(0.2)",
        "pad(w+4, h+6, 2, 3, #4080c0) | sobel | eq(contrast=1.2)",
    ];
    let mut failures = Vec::new();
    for name in inputs {
        let input = dir.path().join(name);
        for (c, chain) in chains.iter().enumerate() {
            let want = whole(&input, chain);
            for ext in ["png", "tif", "jpg"] {
                let out = dir.path().join(format!("{name}-{c}.{ext}"));
                let run = |out: &Path, flags: &[&str]| {
                    let mut args = vec!["process", common::s(&input), "-o", common::s(out)];
                    args.extend(["--chain", chain, "--backend", "cpu", "-v"]);
                    args.extend(flags);
                    let (code, _, stderr) = common::tessera(&args);
                    assert_eq!(code, 0, "{name} {chain}: {stderr}");
                    stderr
                };
                let stderr = run(&out, &[]);
                assert!(
                    stderr.contains("in bands of"),
                    "{name} {chain} -> {ext} is not streamed:\n{stderr}"
                );
                if ext == "jpg" {
                    // Lossy: the file written in bands is the one the whole path writes
                    // (`--on-error accept` reads and writes whole), byte for byte.
                    let whole_out = dir.path().join(format!("{name}-{c}-whole.jpg"));
                    let said = run(&whole_out, &["--on-error", "accept"]);
                    assert!(!said.contains("in bands of"), "{said}");
                    if std::fs::read(&out).unwrap() != std::fs::read(&whole_out).unwrap() {
                        failures.push(format!(
                            "{name} | {chain} -> jpg: not the whole path's file"
                        ));
                    }
                    continue;
                }
                let got = media::image::read(&out).unwrap();
                // An opaque alpha plane is dropped by the writer, as it is from a whole picture.
                let want = if got.format.planes() < want.format.planes() {
                    let planes = (0..got.format.planes())
                        .map(|p| want.plane(p))
                        .map(|plane| match plane {
                            tessera::frame::PlaneRef::U8(p) => {
                                Samples::U8((0..p.height).flat_map(|y| p.row(y).to_vec()).collect())
                            }
                            tessera::frame::PlaneRef::U16(p) => Samples::U16(
                                (0..p.height).flat_map(|y| p.row(y).to_vec()).collect(),
                            ),
                        })
                        .collect();
                    Frame::from_planes(got.format, planes)
                } else {
                    want.clone()
                };
                match got.plane_diffs(&want) {
                    Some(d) if d.iter().all(|&d| d == 0) => {}
                    d => failures.push(format!(
                        "{name} | {chain} -> {ext}: {} against {}: {d:?}",
                        got.format.describe(),
                        want.format.describe()
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs tessera with `args` and `--stats`, and returns the peak memory it reports, in bytes.
fn peak_bytes(args: &[&str]) -> f64 {
    let mut args = args.to_vec();
    args.push("--stats");
    let (code, _, stderr) = common::tessera(&args);
    assert_eq!(code, 0, "{stderr}");
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak memory "))
        .unwrap_or_else(|| panic!("no peak memory in:\n{stderr}"));
    let (value, unit) = line.split_once(' ').unwrap();
    let scale = match unit {
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => panic!("{line}"),
    };
    value.parse::<f64>().unwrap() * scale
}

#[test]
fn streamed_memory_does_not_grow_with_the_height() {
    let dir = tempfile::tempdir().unwrap();
    let w = 1500;
    let mut peaks = Vec::new();
    for h in [4000, 16000] {
        let input = dir.path().join(format!("{h}.tif"));
        write_tiff(&input, w, h, 3, false, None);
        let out = dir.path().join(format!("{h}-out.tif"));
        peaks.push(peak_bytes(&[
            "process",
            common::s(&input),
            "-o",
            common::s(&out),
            "--chain",
            "gblur(2) | unsharp",
            "--backend",
            "cpu",
        ]));
    }
    // The tall picture's samples alone are 72 MB, its whole path holds several times that;
    // in bands it holds what one four times shorter does (itself several bands tall, so that
    // both reach the bands' steady state).
    // --max-memory counts what a band holds: the tall picture runs, and a dry run says so,
    // within a budget its whole path would exceed; a rotation, read whole, is refused.
    let tall = dir.path().join("16000.tif");
    let out = dir.path().join("limited.tif");
    for (chain, code) in [("gblur(2) | unsharp", 0), ("rotate(0.1)", 1)] {
        for dry in [true, false] {
            let mut args = vec!["process", common::s(&tall), "-o", common::s(&out)];
            args.extend(["--chain", chain, "--max-memory", "120M", "--backend", "cpu"]);
            args.push("--overwrite");
            if dry {
                args.push("--dry-run");
            }
            let (got, _, stderr) = common::tessera(&args);
            assert_eq!(got, code, "{chain} (dry run: {dry}): {stderr}");
            if code == 1 {
                assert!(stderr.contains("--max-memory"), "{stderr}");
            }
        }
    }
    // Written as JPEG, mozjpeg's coefficients for the whole picture (6 bytes a pixel at 4:2:0,
    // 144 MB here) count too: refused at that budget, run at a larger one.
    let jpeg = dir.path().join("limited.jpg");
    for (budget, code) in [("120M", 1), ("400M", 0)] {
        let (got, _, stderr) = common::tessera(&[
            "process",
            common::s(&tall),
            "-o",
            common::s(&jpeg),
            "--chain",
            "gblur(2)",
            "--max-memory",
            budget,
            "--backend",
            "cpu",
            "--dry-run",
        ]);
        assert_eq!(got, code, "JPEG at {budget}: {stderr}");
    }
    let (short, tall) = (peaks[0], peaks[1]);
    assert!(
        tall < short + 16e6,
        "peak {short} bytes for 1500x4000, {tall} for 1500x16000"
    );
}

#[test]
fn a_picture_damaged_partway_leaves_nothing_behind() {
    // The structure is whole (every PNG chunk its length), the data garbled three quarters in;
    // or a JPEG cut there: found only once the rows there are decoded, after earlier bands
    // went to the output.
    for (name, kind) in [
        ("tall.png", "garbled"),
        ("tall.jpg", "garbled"),
        ("tall.jpg", "cut"),
        ("tall.tif", "tile offset"),
    ] {
        damaged_partway(name, kind);
    }
}

/// The little-endian TIFF's first directory entry with `tag`: its count and value (or offset).
fn tiff_entry(bytes: &[u8], tag: u16) -> (usize, usize) {
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&bytes[..4], b"II*\0", "a little-endian TIFF");
    let ifd = u32_at(4);
    (0..u16_at(ifd))
        .map(|i| ifd + 2 + 12 * i)
        .find(|&entry| u16_at(entry) == tag as usize)
        .map(|entry| (u32_at(entry + 4), u32_at(entry + 8)))
        .unwrap_or_else(|| panic!("no tag {tag}"))
}

fn damaged_partway(name: &str, kind: &str) {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    let png = dir.path().join("source.png");
    write_png(&png, 1000, 6000, 3, false);
    if name.ends_with(".jpg") || name.ends_with(".tif") {
        // A TIFF in deflated tiles.
        let mut args = vec!["process", common::s(&png), "-o", common::s(&input)];
        args.extend(["--tiff-tile", "--tiff-compression", "deflate"]);
        let (code, _, stderr) =
            common::tessera(&args[..if name.ends_with(".tif") { 7 } else { 4 }]);
        assert_eq!(code, 0, "{stderr}");
    } else {
        std::fs::rename(&png, &input).unwrap();
    }
    std::fs::remove_file(&png).ok();
    let mut bytes = std::fs::read(&input).unwrap();
    let middle = bytes.len() * 3 / 4;
    if kind == "tile offset" {
        // The tiles' directory lies after them: the offset (TileOffsets, tag 324) of a tile
        // three quarters down made to point past the end of the file.
        let (tiles, offsets) = tiff_entry(&bytes, 324);
        let at = offsets + 4 * (tiles * 3 / 4);
        let past = (bytes.len() as u32 + 4096).to_le_bytes();
        bytes[at..at + 4].copy_from_slice(&past);
    } else if kind == "cut" {
        bytes.truncate(middle);
    } else {
        bytes[middle..middle + 64]
            .iter_mut()
            .for_each(|b| *b ^= 0x5a);
    }
    std::fs::write(&input, &bytes).unwrap();
    let out = dir.path().join(name.replace("tall", "out"));
    let run = |flags: &[&str]| {
        let mut args = vec!["process", common::s(&input), "-o", common::s(&out)];
        args.extend(["--chain", "gblur(1)"]);
        args.extend(flags);
        common::tessera(&args)
    };
    let (code, _, stderr) = run(&["-v"]);
    assert_eq!(code, 1, "{name} {kind}: {stderr}");
    assert!(stderr.contains("in bands of"), "{name} {kind}: {stderr}");
    let format = match name.rsplit('.').next() {
        Some("png") => "PNG",
        Some("tif") => "TIFF",
        _ => "JPEG",
    };
    assert!(
        stderr.contains(&format!("{name}: damaged {format}")),
        "{name} {kind}: {stderr}"
    );
    if kind == "cut" {
        assert!(stderr.contains("cut short"), "{stderr}");
    }
    let (code, _, stderr) = run(&["--on-error", "skip"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("skipped"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, [name], "no output and no temporary file");
    assert_eq!(
        std::fs::read(&input).unwrap(),
        bytes,
        "the input is untouched"
    );
}
