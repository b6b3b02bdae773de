//! `overlay` and `watermark`: a picture file over the frame. Checked against the blend written
//! here in f64 for every mode, against FFmpeg's overlay on RGB, for where a watermark goes
//! (the same as an overlay at the place it names), tiling and scaling, alpha over alpha, Y′CbCr
//! frames, and the errors a bad file gives through the binary.

mod common;

use std::path::Path;

use common::planes::cpu;
use common::{psnr, s, test_frame, yuv};
use tessera::frame::{Format, Layout};
use tessera::{Backend, Frame};

const BADGE: &str = "assets/overlays/badge.png";

/// The badge's straight-alpha RGBA bytes and size, as the `image` crate reads them.
fn badge() -> (u32, u32, Vec<u8>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let img = image::open(root.join(BADGE)).unwrap().to_rgba8();
    (img.width(), img.height(), img.into_raw())
}

fn blend(mode: &str, b: f64, s: f64) -> f64 {
    match mode {
        "normal" => s,
        "multiply" => b * s,
        "screen" => 1.0 - (1.0 - b) * (1.0 - s),
        "overlay" if b < 0.5 => 2.0 * b * s,
        "overlay" => 1.0 - 2.0 * (1.0 - b) * (1.0 - s),
        "add" => (b + s).min(1.0),
        _ => unreachable!(),
    }
}

#[test]
fn overlay_blends_the_picture_by_its_alpha_in_every_mode() {
    let (bw, bh, px) = badge();
    for (frame, name) in [
        (common::test_image8(70, 60, 2), "rgba8"),
        (common::test_image16(70, 60, 3), "rgba16"),
    ] {
        let max = frame.format.max_code() as f64;
        for mode in ["normal", "multiply", "screen", "overlay", "add"] {
            let (ox, oy, opacity) = (30i64, -9i64, 0.7);
            let text =
                format!("overlay(\"{BADGE}\", x={ox}.6, y={oy}, opacity={opacity}, mode={mode})");
            let out = cpu(&text, &frame);
            let mut worst = 0.0f64;
            for y in 0..60i64 {
                for x in 0..70i64 {
                    let (u, v) = (x - ox, y - oy);
                    let inside = u >= 0 && v >= 0 && u < bw as i64 && v < bh as i64;
                    let base: Vec<f64> = (0..4)
                        .map(|c| frame.plane(c).get(x as usize, y as usize) as f64 / max)
                        .collect();
                    let want: Vec<f64> = if inside {
                        let at = ((v * bw as i64 + u) * 4) as usize;
                        let s: Vec<f64> = (0..4).map(|c| px[at + c] as f64 / 255.0).collect();
                        // Source-over of straight alpha with a blend mode (W3C).
                        let (a, ab) = (s[3] * opacity, base[3]);
                        let out_a = a + ab * (1.0 - a);
                        let mut o: Vec<f64> = (0..3)
                            .map(|c| {
                                let shown = (1.0 - ab) * s[c] + ab * blend(mode, base[c], s[c]);
                                (shown * a + base[c] * ab * (1.0 - a)) / out_a
                            })
                            .collect();
                        o.push(out_a);
                        o
                    } else {
                        base.clone()
                    };
                    for (c, want) in want.iter().enumerate() {
                        let w = (want.clamp(0.0, 1.0) * max).round();
                        let got = out.plane(c).get(x as usize, y as usize) as f64;
                        worst = worst.max((got - w).abs());
                    }
                }
            }
            assert!(
                worst <= 1.0,
                "{text} on {name}: {worst} code values from the reference"
            );
        }
    }
}

#[test]
fn overlay_is_ffmpegs_on_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.png");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=96x64",
        "-frames:v",
        "1",
        "-pix_fmt",
        "rgb24",
        s(&main),
    ]);
    let out = dir.path().join("tessera.png");
    let (code, _, err) = common::tessera(&[
        "process",
        s(&main),
        "-o",
        s(&out),
        "-q",
        "--chain",
        &format!("overlay(\"{BADGE}\", 30, 11)"),
    ]);
    assert_eq!(code, 0, "{err}");
    let ours = common::decoded(&out, "rgb24");
    let theirs_path = dir.path().join("ffmpeg.png");
    common::ffmpeg(&[
        "-i",
        s(&main),
        "-i",
        BADGE,
        "-filter_complex",
        "overlay=x=30:y=11:format=rgb",
        s(&theirs_path),
    ]);
    let theirs = common::decoded(&theirs_path, "rgb24");
    assert_eq!(ours.len(), theirs.len());
    let mse = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
        .sum::<f64>()
        / ours.len() as f64;
    let psnr = 10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10();
    let worst = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    // FFmpeg blends in 8-bit integers (a·s + (255 − a)·b) / 255; tessera in f32 and rounds
    // once, so they differ by a code value at most.
    eprintln!("overlay against FFmpeg's: PSNR {psnr:.1} dB, largest difference {worst}");
    assert!(
        worst <= 1 && psnr >= 50.0,
        "PSNR {psnr:.1} dB, worst {worst}"
    );
}

#[test]
fn a_watermark_goes_where_it_says() {
    let frame = common::test_image8(120, 90, 7);
    let (bw, bh, _) = badge();
    let (bw, bh) = (bw as i64, bh as i64);
    for (position, x, y) in [
        ("top-left", 10, 10),
        ("top", (120 - bw) / 2, 10),
        ("top-right", 120 - bw - 10, 10),
        ("left", 10, (90 - bh) / 2),
        ("center", (120 - bw) / 2, (90 - bh) / 2),
        ("right", 120 - bw - 10, (90 - bh) / 2),
        ("bottom-left", 10, 90 - bh - 10),
        ("bottom", (120 - bw) / 2, 90 - bh - 10),
        ("bottom-right", 120 - bw - 10, 90 - bh - 10),
    ] {
        let mark = cpu(
            &format!("watermark(\"{BADGE}\", position=\"{position}\", margin=10, opacity=0.8)"),
            &frame,
        );
        let over = cpu(&format!("overlay(\"{BADGE}\", {x}, {y}, 0.8)"), &frame);
        assert_eq!(mark.plane_diffs(&over).unwrap(), vec![0; 4], "{position}");
    }
    // Tiled: every tile's centre shows the badge's centre, from (margin, margin) a tile and a
    // margin apart.
    let tiled = cpu(
        &format!("watermark(\"{BADGE}\", tile=true, margin=4, opacity=1)"),
        &frame,
    );
    let single = cpu(&format!("overlay(\"{BADGE}\", 4, 4)"), &frame);
    let centre = |f: &Frame, x: i64, y: i64| {
        (0..3)
            .map(|c| f.plane(c).get(x as usize, y as usize))
            .collect::<Vec<_>>()
    };
    let want = centre(&single, 4 + bw / 2, 4 + bh / 2);
    for (tx, ty) in [(1, 0), (0, 1), (1, 1)] {
        let (x, y) = (4 + tx * (bw + 4) + bw / 2, 4 + ty * (bh + 4) + bh / 2);
        assert_eq!(centre(&tiled, x, y), want, "tile ({tx}, {ty})");
    }
    // Scaled to a share of the frame's width: the badge's opaque part shrinks with it.
    let grey = Frame::from_rgba8(200, 100, vec![128; 200 * 100 * 4]);
    let covered = |text: &str| {
        let out = cpu(text, &grey);
        (0..200)
            .filter(|&x| (0..100).any(|y| out.plane(0).get(x, y) != 128))
            .count()
    };
    let full = covered(&format!("watermark(\"{BADGE}\", opacity=1)"));
    let half = covered(&format!("watermark(\"{BADGE}\", opacity=1, scale=0.12)"));
    // The badge is a disc 44 pixels across in its 48, with transparent corners.
    assert!((full as i64 - (bw - 4)).abs() <= 1, "{full} columns");
    assert!(
        (half as i64 - 24).abs() <= 2,
        "{half} columns at scale 0.12 of 200"
    );
}

#[test]
fn overlays_on_ycbcr_frames_leave_transparent_parts_alone() {
    let dir = tempfile::tempdir().unwrap();
    let white = dir.path().join("white.png");
    image::RgbaImage::from_pixel(16, 16, image::Rgba([255, 255, 255, 255]))
        .save(&white)
        .unwrap();
    for layout in [Layout::YUV420, Layout::YUV444, Layout::GRAY] {
        let frame = test_frame(yuv(64, 48, layout, 8), 4);
        // Placed off the frame: nothing changes.
        let out = cpu(&format!("overlay(\"{BADGE}\", x=200, y=0)"), &frame);
        assert_eq!(
            out.plane_diffs(&frame).unwrap(),
            vec![0; frame.format.planes()]
        );
        // An opaque white square: luma under it is the range's white, and neutral chroma.
        let out = cpu(&format!("overlay(\"{}\", 8, 6)", s(&white)), &frame);
        for (x, y) in [(8, 6), (20, 15), (23, 21)] {
            assert_eq!(out.plane(0).get(x, y), 235, "{layout:?} luma at ({x}, {y})");
        }
        if layout != Layout::GRAY {
            let (sx, sy) = layout.shift(1);
            for p in [1, 2] {
                assert_eq!(
                    out.plane(p).get(12 >> sx, 10 >> sy),
                    128,
                    "{layout:?} chroma"
                );
            }
        }
    }
    let rgb = test_frame(Format::rgb(40, 30, 8, false), 9);
    let out = cpu(&format!("overlay(\"{BADGE}\", x=-100)"), &rgb);
    assert_eq!(out.plane_diffs(&rgb).unwrap(), vec![0, 0, 0]);
}

#[test]
fn a_bad_picture_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.png");
    common::write_png8(&main, 32, 24, 5);
    let text_file = dir.path().join("notes.png");
    std::fs::write(&text_file, "not a picture").unwrap();
    let out = dir.path().join("out.png");
    for (chain, says) in [
        (
            "overlay(\"missing.png\")".to_string(),
            "missing.png: cannot read it",
        ),
        (
            format!("watermark(\"{}\")", s(&text_file)),
            "notes.png: not a picture tessera can read",
        ),
    ] {
        let (code, _, err) =
            common::tessera(&["process", s(&main), "-o", s(&out), "--chain", &chain]);
        assert_eq!(code, 2, "{chain}: {err}");
        assert!(err.contains(says), "{chain}: {err}");
        assert!(!out.exists());
    }
}

#[test]
fn flatten_composites_alpha_onto_a_colour_and_drops_it() {
    for (frame, name) in [
        (common::test_image8(33, 21, 4), "rgba8"),
        (common::test_image16(33, 21, 5), "rgba16"),
    ] {
        let out = cpu("flatten(#204060)", &frame);
        assert!(!out.format.layout.alpha, "{name}: the alpha plane is gone");
        let max = frame.format.max_code() as f64;
        let colour = [
            0x20 as f64 / 255.0,
            0x40 as f64 / 255.0,
            0x60 as f64 / 255.0,
        ];
        let mut worst = 0.0f64;
        for y in 0..21 {
            for x in 0..33 {
                let a = frame.plane(3).get(x, y) as f64 / max;
                for (c, bg) in colour.iter().enumerate() {
                    let v = frame.plane(c).get(x, y) as f64 / max;
                    let want = ((bg + (v - bg) * a) * max).round();
                    worst = worst.max((out.plane(c).get(x, y) as f64 - want).abs());
                }
            }
        }
        assert!(
            worst <= 1.0,
            "{name}: {worst} code values from the reference"
        );
    }
    // Y′CbCr with alpha: opaque pixels keep their values, the frame loses its alpha plane.
    let frame = test_frame(yuv(40, 30, Layout::YUV420.with_alpha(true), 8), 6);
    let out = cpu("flatten", &frame);
    assert_eq!(out.format.planes(), 3);
    // Frames without alpha pass through untouched.
    let rgb = test_frame(Format::rgb(20, 10, 8, false), 2);
    assert_eq!(
        cpu("flatten", &rgb).plane_diffs(&rgb).unwrap(),
        vec![0, 0, 0]
    );
}

#[test]
fn flatten_makes_a_jpeg_of_a_transparent_png_white_where_it_was_clear() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("clear.png");
    let mut img = image::RgbaImage::from_pixel(32, 32, image::Rgba([200, 10, 10, 0]));
    for y in 0..16 {
        for x in 0..32 {
            img.put_pixel(x, y, image::Rgba([10, 10, 200, 255]));
        }
    }
    img.save(&png).unwrap();
    for backend in ["cpu", "gpu"] {
        if backend == "gpu" && common::gpu().is_none() {
            continue;
        }
        let out = dir.path().join(format!("{backend}.png"));
        let (code, _, err) = common::tessera(&[
            "process",
            s(&png),
            "-o",
            s(&out),
            "-q",
            "--backend",
            backend,
            "--chain",
            "flatten",
        ]);
        assert_eq!(code, 0, "{err}");
        let got = image::open(&out).unwrap();
        assert_eq!(
            got.color(),
            image::ColorType::Rgb8,
            "{backend}: no alpha left"
        );
        let got = got.to_rgb8();
        assert_eq!(
            got.get_pixel(5, 25).0,
            [255, 255, 255],
            "{backend}: clear is white"
        );
        assert_eq!(
            got.get_pixel(5, 5).0,
            [10, 10, 200],
            "{backend}: opaque is kept"
        );
    }
}

/// An overlay clip of 10 frames at 10 fps, `w`×`h`, each frame one flat colour that says its
/// index ([`clip_colour`]), lossless (FFV1, RGB).
fn colour_clip(path: &Path, w: u32, h: u32) {
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!(
            "color=c=black:s={w}x{h}:r=10:d=1,format=gbrp,\
             geq=r='20*N+10':g='200-15*N':b='mod(37*N+5,256)'"
        ),
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "gbrp",
        s(path),
    ]);
}

/// The colour of frame `k` of [`colour_clip`].
fn clip_colour(k: u64) -> [u32; 3] {
    [
        20 * k as u32 + 10,
        200 - 15 * k as u32,
        (37 * k as u32 + 5) % 256,
    ]
}

/// The R′G′B′ at (`x`, `y`) of an RGB frame.
fn rgb_at(frame: &Frame, x: usize, y: usize) -> [u32; 3] {
    std::array::from_fn(|c| frame.plane(c).get(x, y))
}

#[test]
fn a_video_overlay_shows_its_latest_frame_at_or_before_each_time_on_both_backends() {
    use tessera::plan::{Compiler, FrameTime};
    let dir = tempfile::tempdir().unwrap();
    // Named as if it were a picture: what the file holds decides.
    let clip = dir.path().join("clip.png.mkv");
    colour_clip(&clip, 16, 12);
    let frame = test_frame(Format::rgb(40, 30, 8, false), 11);
    let mut gpu = common::gpu();
    for eof in ["repeat", "pass"] {
        let text = format!(
            "overlay(\"{}\", x=W - w - 2, y=H - overlay_h - 3, eof={eof})",
            s(&clip)
        );
        let chain = tessera::Chain::parse(&text).unwrap();
        assert!(
            chain.varies(),
            "an overlay of a video is compiled for every frame"
        );
        let mut compiler = Compiler::new(&chain);
        let mut cpu_backend = tessera::backend::cpu::CpuBackend::new();
        // Forward, past the clip's end, then back again.
        for (n, t) in [
            0.0, 0.04, 0.1, 0.26, 0.34, 0.5, 0.99, 1.0, 1.5, 0.2, 0.0, 0.7,
        ]
        .into_iter()
        .enumerate()
        {
            let time = FrameTime {
                t,
                n: n as u64,
                fps: 25.0,
                duration: 2.0,
            };
            let plan = compiler.plan_at(&frame.format, &time).unwrap();
            let out = cpu_backend.process(&plan, frame.clone()).unwrap();
            let ended = t >= 1.0;
            let k = ((t * 10.0).floor() as u64).min(9);
            // The overlay's corners: (22, 15) to (37, 26).
            for (x, y) in [(22, 15), (37, 26), (30, 20)] {
                let want = match (eof, ended) {
                    ("pass", true) => rgb_at(&frame, x, y),
                    _ => clip_colour(k),
                };
                assert_eq!(rgb_at(&out, x, y), want, "{eof}: t = {t}, ({x}, {y})");
            }
            for (x, y) in [(21, 15), (22, 14), (38, 26), (37, 27)] {
                assert_eq!(rgb_at(&out, x, y), rgb_at(&frame, x, y), "outside, t = {t}");
            }
            // The GPU gets each new picture (its table is written again when it changes).
            if let Some(gpu) = gpu.as_mut() {
                let on_gpu = gpu.process(&plan, frame.clone()).unwrap();
                let diffs = on_gpu.plane_diffs(&out).unwrap();
                assert!(
                    diffs.iter().all(|&d| d <= 1),
                    "{eof}: t = {t}: CPU and GPU differ by {diffs:?}"
                );
            }
        }
    }
    // A photo under a video takes its first frame.
    let photo = cpu(&format!("overlay(\"{}\", 1, 1)", s(&clip)), &frame);
    assert_eq!(rgb_at(&photo, 5, 5), clip_colour(0));
}

#[test]
fn a_video_overlay_matches_ffmpegs_overlay_and_keeps_its_last_frame() {
    let dir = tempfile::tempdir().unwrap();
    // 2 s of 25 fps under 1 s of 10 fps: frames past 1 s show the overlay's last frame.
    let main = dir.path().join("main.mkv");
    let clip = dir.path().join("logo.mkv");
    for (path, source) in [
        (&main, "testsrc2=s=96x64:r=25:d=2"),
        (&clip, "testsrc2=s=32x24:r=10:d=1"),
    ] {
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            source,
            "-c:v",
            "ffv1",
            "-pix_fmt",
            "yuv420p",
            s(path),
        ]);
    }
    let theirs = dir.path().join("ffmpeg.mkv");
    common::ffmpeg(&[
        "-i",
        s(&main),
        "-i",
        s(&clip),
        "-filter_complex",
        "[0][1]overlay=x=main_w-overlay_w-10:y=H-h-8",
        "-c:v",
        "ffv1",
        s(&theirs),
    ]);
    let frame_bytes = 96 * 64 * 3;
    let theirs = common::decoded_frames(&theirs, "rgb24", frame_bytes);
    assert_eq!(theirs.len(), 50);
    for backend in ["cpu", "gpu"] {
        if backend == "gpu" && common::gpu().is_none() {
            continue;
        }
        let out = dir.path().join(format!("{backend}.mkv"));
        let (code, _, err) = common::tessera(&[
            "process",
            s(&main),
            "-o",
            s(&out),
            "-q",
            "--codec",
            "ffv1",
            "--backend",
            backend,
            "--chain",
            &format!("overlay(\"{}\", x=main_w-overlay_w-10, y=H-h-8)", s(&clip)),
        ]);
        assert_eq!(code, 0, "{err}");
        let ours = common::decoded_frames(&out, "rgb24", frame_bytes);
        assert_eq!(ours.len(), theirs.len());
        // The overlay's rectangle: (54, 32) to (85, 55).
        let region = |f: &[u8]| -> Vec<u8> {
            (32..56)
                .flat_map(|y| f[(y * 96 + 54) * 3..(y * 96 + 86) * 3].to_vec())
                .collect()
        };
        let (mut worst, mut worst_inside) = (f64::INFINITY, f64::INFINITY);
        for (k, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            let (p, inside) = (psnr(a, b), psnr(&region(a), &region(b)));
            eprintln!("{backend}: frame {k}: PSNR {p:.1} dB, {inside:.1} dB on the overlay");
            worst = worst.min(p);
            worst_inside = worst_inside.min(inside);
        }
        // Measured: 48.0 dB on the frame and 39.0 dB on the overlay's rectangle, both
        // backends. FFmpeg composites a Y′CbCr overlay in Y′CbCr; tessera's goes through 8-bit
        // R′G′B′ and back, which costs the difference. Two neighbouring frames of the overlay
        // (where they differ) are 29 to 30 dB apart, below the floor.
        eprintln!(
            "{backend}: video overlay against FFmpeg's: worst frame {worst:.1} dB, \
             {worst_inside:.1} dB on the overlay"
        );
        assert!(
            worst >= 45.0 && worst_inside >= 36.0,
            "{backend}: worst frame PSNR {worst:.1} dB, {worst_inside:.1} dB on the overlay"
        );
        // Past the overlay's end its last frame stays: frames 25.. show the same overlay.
        let last = region(&ours[25]);
        for k in [30, 40, 49] {
            assert_eq!(region(&ours[k]), last, "{backend}: frame {k}");
        }
        assert_ne!(
            region(&ours[20]),
            region(&ours[23]),
            "{backend}: the overlay moves"
        );
    }
}

#[test]
fn each_file_of_a_batch_gets_the_overlay_frames_of_its_own_times() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for (name, d) in [("a", "1.2"), ("b", "0.8"), ("c", "0.6")] {
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("color=c=gray:s=48x32:r=25:d={d}"),
            "-c:v",
            "ffv1",
            "-pix_fmt",
            "yuv444p",
            s(&inputs.join(format!("{name}.mkv"))),
        ]);
    }
    let clip = dir.path().join("clip.mkv");
    colour_clip(&clip, 16, 16);
    let outputs = dir.path().join("out");
    let (code, _, err) = common::tessera(&[
        "process",
        s(&inputs),
        "-o",
        &format!("{}/{{stem}}.mkv", s(&outputs)),
        "-q",
        "-j",
        "2",
        "--codec",
        "ffv1",
        "--chain",
        &format!("overlay(\"{}\", 8, 8)", s(&clip)),
    ]);
    assert_eq!(code, 0, "{err}");
    for (name, frames) in [("a", 30), ("b", 20), ("c", 15)] {
        let got =
            common::decoded_frames(&outputs.join(format!("{name}.mkv")), "rgb24", 48 * 32 * 3);
        assert_eq!(got.len(), frames, "{name}");
        for (n, f) in got.iter().enumerate() {
            let k = ((n as u64) * 10 / 25).min(9);
            let at = (16 * 48 + 16) * 3;
            let want = clip_colour(k);
            for c in 0..3 {
                let d = (f[at + c] as i64 - want[c] as i64).abs();
                assert!(
                    d <= 4,
                    "{name}: frame {n} shows {:?}, frame {k} is {want:?}",
                    &f[at..at + 3]
                );
            }
        }
    }
}

#[test]
fn overlay_knows_ffmpegs_names_for_the_two_sizes() {
    let frame = common::test_image8(120, 90, 8);
    let (bw, bh, _) = badge();
    let (x, y) = (120 - bw - 10, 90 - bh - 7);
    let want = cpu(&format!("overlay(\"{BADGE}\", {x}, {y})"), &frame);
    for text in [
        "overlay(\"{BADGE}\", W-w-10, H-h-7)",
        "overlay(\"{BADGE}\", x=main_w - overlay_w - 10, y=main_h - overlay_h - 7)",
        "overlay(\"{BADGE}\", x=W - overlay_w - 10 + 0*t, y=H - h - 7 + n)",
    ] {
        let text = text.replace("{BADGE}", BADGE);
        assert_eq!(
            cpu(&text, &frame).plane_diffs(&want).unwrap(),
            vec![0; 4],
            "{text}"
        );
    }
    // n is the frame's index.
    let chain = tessera::Chain::parse(&format!("overlay(\"{BADGE}\", x=2*n, y=t*10)")).unwrap();
    let time = tessera::plan::FrameTime {
        t: 0.5,
        n: 3,
        fps: 10.0,
        duration: 1.0,
    };
    let plan = tessera::plan::compile_at(&chain, &frame.format, &time).unwrap();
    let moved = tessera::backend::cpu::CpuBackend::new()
        .process(&plan, frame.clone())
        .unwrap();
    let fixed = cpu(&format!("overlay(\"{BADGE}\", 6, 5)"), &frame);
    assert_eq!(moved.plane_diffs(&fixed).unwrap(), vec![0; 4]);
    // Elsewhere w and h are still the frame's.
    assert!(tessera::Chain::parse(&format!("overlay(\"{BADGE}\", main_q)")).is_err());
    assert!(tessera::Chain::parse("pad(w + overlay_w, h)").is_err());
}

#[test]
fn a_bad_overlay_video_is_an_error_naming_it_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.mkv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=32x24:r=10:d=0.5",
        "-c:v",
        "ffv1",
        s(&main),
    ]);
    let fake = dir.path().join("logo.mp4");
    std::fs::write(&fake, "not a video at all").unwrap();
    let out = dir.path().join("out.mkv");
    for (chain, says) in [
        (
            format!("overlay(\"{}\", 1, 1)", s(&fake)),
            "logo.mp4: neither a picture nor a video tessera can read",
        ),
        (
            "overlay(\"missing.mp4\")".to_string(),
            "missing.mp4: cannot read it",
        ),
    ] {
        let (code, _, err) =
            common::tessera(&["process", s(&main), "-o", s(&out), "--chain", &chain]);
        assert_eq!(code, 2, "{chain}: {err}");
        assert!(err.contains(says), "{chain}: {err}");
        assert!(!out.exists());
    }
}
