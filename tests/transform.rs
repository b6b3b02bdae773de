//! transpose, rotate, pad and fit against references written here: array transpositions and
//! rotations (bit-exact), an f64 inverse-map interpolation (bilinear and bicubic) for other
//! angles, FFmpeg's own `rotate` and `pad` on the same pictures, and `fit` against the explicit
//! `scale | pad` or `scale | crop` chain it stands for. Sample moves are checked on both backends.

mod common;

use std::path::Path;

use common::{
    decoded as raw, ffmpeg, psnr, s, tessera, test_frame, test_image16, test_image8, yuv,
};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Layout, Siting};
use tessera::{plan, Backend, Chain, Frame};

fn run(backend: &mut dyn Backend, text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan = plan::compile(&chain, &frame.format).unwrap_or_else(|e| panic!("{text}: {e}"));
    backend
        .process(&plan, frame.clone())
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Each backend: the CPU, and the GPU where there is one.
fn backends() -> Vec<Box<dyn Backend>> {
    let mut all: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(gpu) = common::gpu() {
        all.push(Box::new(gpu));
    }
    all
}

/// Layouts for the sample moves, at an odd size.
fn frames(w: u32, h: u32) -> Vec<Frame> {
    vec![
        test_image8(w, h, 3),
        test_image16(w, h, 4),
        test_frame(yuv(w, h, Layout::YUV420, 8), 5),
        test_frame(yuv(w, h, Layout::YUV420.with_alpha(true), 10), 6),
        test_frame(yuv(w, h, Layout::YUV444, 10), 7),
        test_frame(yuv(w, h, Layout::GRAY.with_alpha(true), 8), 8),
    ]
}

/// Plane `p` of `got` is plane `p` of `input` moved by `from`, which gives the input sample of
/// output (x, y) for an input plane of (w, h).
fn assert_moved(
    got: &Frame,
    input: &Frame,
    what: &str,
    from: impl Fn(usize, usize, usize, usize) -> (usize, usize),
) {
    for p in 0..input.format.planes() {
        let (w, h) = input.plane(p).size();
        let (ow, oh) = got.plane(p).size();
        assert_eq!((ow, oh), (h, w), "{what}: plane {p} size");
        for y in 0..oh {
            for x in 0..ow {
                let (sx, sy) = from(x, y, w, h);
                assert_eq!(
                    got.plane(p).get(x, y),
                    input.plane(p).get(sx, sy),
                    "{what} on {}: plane {p} at ({x}, {y})",
                    input.format.describe()
                );
            }
        }
    }
}

/// Every direction is the array transposition or rotation its name says, plane by plane at
/// each plane's own size, on both backends; left-sited chroma is top-sited once transposed.
#[test]
fn transpose_moves_samples_as_the_array_turn_its_name_says() {
    type From = fn(usize, usize, usize, usize) -> (usize, usize);
    let dirs: [(&str, From); 4] = [
        ("cclock_flip", |x, y, _, _| (y, x)),
        ("clock", |x, y, _, h| (y, h - 1 - x)),
        ("cclock", |x, y, w, _| (w - 1 - y, x)),
        ("clock_flip", |x, y, w, h| (w - 1 - y, h - 1 - x)),
    ];
    for mut backend in backends() {
        for frame in frames(23, 14) {
            for (dir, from) in dirs {
                let text = format!("transpose({dir})");
                let got = run(backend.as_mut(), &text, &frame);
                assert_eq!(got.format.layout, frame.format.layout);
                assert_eq!((got.width(), got.height()), (14, 23));
                if frame.format.layout.chroma_shift == (1, 1) {
                    assert_eq!(got.format.colour.siting, Siting::Top, "{text}");
                }
                assert_moved(&got, &frame, &text, from);
            }
        }
    }
}

/// 4:2:2 stays 4:2:2: luma and alpha move exactly; the chroma, whose turn would be 4:4:0, is
/// resampled where it lands. Chroma made a linear ramp (which every interpolation keeps) must
/// come out as the ramp at the point each output chroma sample sits on (left-sited: with its
/// pair's left luma sample), away from the edges. The other directions are that turn followed
/// by hflip and vflip (each plane at its own resolution).
#[test]
fn transpose_keeps_422_and_resamples_its_chroma_in_place() {
    let format = yuv(40, 30, Layout::YUV422.with_alpha(true), 10);
    let mut frame = test_frame(format, 9);
    for p in [1, 2] {
        let (cw, ch) = format.plane_size(p);
        let mut plane = frame.plane16_mut(p);
        for r in 0..ch as usize {
            for i in 0..cw as usize {
                plane.row(r)[i] = (200 + 6 * i + 3 * r + 50 * p) as u16;
            }
        }
    }
    for mut backend in backends() {
        let got = run(backend.as_mut(), "transpose(cclock_flip)", &frame);
        assert_eq!(got.format.layout, format.layout);
        assert_eq!(got.format.colour.siting, format.colour.siting);
        for p in [0, 3] {
            for y in 0..40 {
                for x in 0..30 {
                    assert_eq!(got.plane(p).get(x, y), frame.plane(p).get(y, x));
                }
            }
        }
        // Output chroma (j, k) sits on luma (2j, k), which was the input's luma (k, 2j):
        // input chroma column k/2, row 2j.
        for p in [1, 2] {
            assert_eq!(got.plane(p).size(), (15, 40));
            for k in 4..36 {
                for j in 2..13 {
                    let want =
                        200.0 + 6.0 * k as f64 / 2.0 + 3.0 * 2.0 * j as f64 + 50.0 * p as f64;
                    let v = got.plane(p).get(j, k) as f64;
                    assert!(
                        (v - want).abs() <= 1.0,
                        "plane {p} at ({j}, {k}): {v}, the ramp says {want}"
                    );
                }
            }
        }
        for (dir, after) in [
            ("clock", "hflip"),
            ("cclock", "vflip"),
            ("clock_flip", "hflip | vflip"),
        ] {
            let a = run(backend.as_mut(), &format!("transpose({dir})"), &frame);
            let b = run(
                backend.as_mut(),
                &format!("transpose(cclock_flip) | {after}"),
                &frame,
            );
            assert_eq!(a.plane_diffs(&b), Some(vec![0; 4]), "{dir}");
        }
    }
}

/// `passthrough` leaves frames of the named orientation as they are; `dir` takes FFmpeg's
/// numbers for its names.
#[test]
fn transpose_passthrough_keeps_frames_of_its_orientation() {
    let wide = test_image8(20, 10, 1);
    let mut cpu = CpuBackend::new();
    for (k, dir) in ["cclock_flip", "clock", "cclock", "clock_flip"]
        .iter()
        .enumerate()
    {
        let a = run(&mut cpu, &format!("transpose({k})"), &wide);
        let b = run(&mut cpu, &format!("transpose(dir={dir})"), &wide);
        assert_eq!(a.plane_diffs(&b), Some(vec![0; 4]), "dir={k}");
    }
    let err = Chain::parse("transpose(4)").unwrap_err();
    assert!(err.render("transpose(4)").contains("out of range"));
    let same = run(&mut cpu, "transpose(passthrough=landscape)", &wide);
    assert_eq!(same.plane_diffs(&wide), Some(vec![0; 4]));
    let turned = run(&mut cpu, "transpose(passthrough=portrait)", &wide);
    assert_eq!((turned.width(), turned.height()), (10, 20));
}

/// Quarter turns are the sample moves of transpose and the flips, bit for bit; a whole turn
/// (and none) is the identity; on a canvas kept at the input's size the turned picture is
/// centred to whole pixels, the rest filled.
#[test]
fn rotate_by_quarter_turns_moves_samples_exactly() {
    for mut backend in backends() {
        for frame in frames(23, 14) {
            let b = backend.as_mut();
            let same = |b: &mut dyn Backend, x: &str, y: &str| {
                let (got, want) = (run(b, x, &frame), run(b, y, &frame));
                let n = frame.format.planes();
                assert_eq!(got.plane_diffs(&want), Some(vec![0; n]), "{x} against {y}");
            };
            same(b, "rotate(90deg, expand=true)", "transpose(clock)");
            same(b, "rotate(PI/2, expand=true)", "transpose(clock)");
            same(b, "rotate(-90deg, expand=true)", "transpose(cclock)");
            same(b, "rotate(270deg, expand=true)", "transpose(cclock)");
            same(b, "rotate(180deg)", "hflip | vflip");
            same(b, "rotate(-PI)", "hflip | vflip");
            for identity in ["rotate(360deg)", "rotate(0)", "rotate(2*PI, expand=true)"] {
                let got = run(b, identity, &frame);
                let n = frame.format.planes();
                assert_eq!(got.plane_diffs(&frame), Some(vec![0; n]), "{identity}");
            }
        }
        // 23x14 turned is 14x23, centred on the 23x14 canvas as pad and crop centre: 4 columns
        // of fill on the left (23 − 14 = 9), and rows 4 .. 18 of the turned picture.
        let frame = test_image8(23, 14, 2);
        let turned = run(backend.as_mut(), "transpose(clock)", &frame);
        let got = run(backend.as_mut(), "rotate(90deg, fill=#10203040)", &frame);
        assert_eq!((got.width(), got.height()), (23, 14));
        let fill = [0x10, 0x20, 0x30, 0x40];
        for (p, &fill) in fill.iter().enumerate() {
            for y in 0..14 {
                for x in 0..23 {
                    let want = if (4..18).contains(&x) {
                        turned.plane(p).get(x - 4, y + 4)
                    } else {
                        fill
                    };
                    assert_eq!(got.plane(p).get(x, y), want, "plane {p} at ({x}, {y})");
                }
            }
        }
    }
}

/// Keys' cubic (a = −0.5), as the warp's bicubic.
fn cubic(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.5 * x * x * x - 2.5 * x * x + 1.0
    } else if x < 2.0 {
        -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0
    } else {
        0.0
    }
}

/// Plane `p` of `frame` rotated clockwise by `angle` onto an `ow`×`oh` canvas, in f64: each
/// output sample's point in the picture (chroma placed by its siting) turned back about the
/// centres, and the input interpolated there, samples outside the plane taken as `fill`.
fn rotate_ref(
    frame: &Frame,
    p: usize,
    angle: f64,
    (ow, oh): (u32, u32),
    fill: f64,
    bicubic: bool,
) -> Vec<f64> {
    let f = &frame.format;
    let (sh, sv) = f.layout.shift(p);
    let (fx, fy) = ((1u32 << sh) as f64, (1u32 << sv) as f64);
    let cx = 0.5 + f.colour.siting.offset(true, 1 << sh);
    let cy = 0.5 + f.colour.siting.offset(false, 1 << sv);
    let (w, h) = frame.plane(p).size();
    let out = f.with_size(ow, oh);
    let (pw, ph) = out.plane_size(p);
    let (sin, cos) = angle.sin_cos();
    let sample = |x: i64, y: i64| {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            fill
        } else {
            frame.plane(p).get(x as usize, y as usize) as f64
        }
    };
    let mut values = Vec::new();
    for k in 0..ph {
        for j in 0..pw {
            let (x, y) = (
                fx * j as f64 + cx - ow as f64 / 2.0,
                fy * k as f64 + cy - oh as f64 / 2.0,
            );
            let (xi, yi) = (
                cos * x + sin * y + f.width as f64 / 2.0,
                -sin * x + cos * y + f.height as f64 / 2.0,
            );
            let (sx, sy) = ((xi - cx) / fx, (yi - cy) / fy);
            let (x0, y0) = (sx.floor(), sy.floor());
            let taps: Vec<i64> = if bicubic {
                vec![-1, 0, 1, 2]
            } else {
                vec![0, 1]
            };
            let weight = |d: f64| {
                if bicubic {
                    cubic(d)
                } else {
                    (1.0 - d.abs()).max(0.0)
                }
            };
            let mut v = 0.0;
            for &b in &taps {
                for &a in &taps {
                    let (tx, ty) = (x0 as i64 + a, y0 as i64 + b);
                    v += weight(sx - tx as f64) * weight(sy - ty as f64) * sample(tx, ty);
                }
            }
            values.push(v);
        }
    }
    values
}

/// Other angles interpolate: within one code of the f64 inverse map, bilinear and bicubic, on
/// a kept and on an expanded canvas, chroma placed by its siting, corners the fill colour (and
/// transparent where its alpha is 0).
#[test]
fn rotate_interpolates_as_an_f64_inverse_map() {
    let cases = [
        ("rotate(0.5, fill=#ff000000)", 0.5, false, false),
        (
            "rotate(-2, fill=#ff000000, filter=bicubic)",
            -2.0,
            false,
            true,
        ),
        (
            "rotate(30deg, fill=#ff000000, expand=true)",
            30f64.to_radians(),
            true,
            false,
        ),
        (
            "rotate(100deg, fill=#ff000000, expand=true, filter=bicubic)",
            100f64.to_radians(),
            true,
            true,
        ),
    ];
    let inputs = [
        test_image8(33, 25, 11),
        test_frame(yuv(33, 25, Layout::YUV420.with_alpha(true), 8), 12),
        test_frame(yuv(33, 25, Layout::YUV422, 10), 13),
    ];
    for mut backend in backends() {
        for frame in &inputs {
            let f = frame.format;
            // Red, transparent, in the frame's codes.
            let mut fill = [0.0f64; 4];
            match f.layout.family {
                tessera::frame::Family::Rgb => fill[0] = f.max_code() as f64,
                _ => {
                    let (kr, kb) = f.colour.matrix.kr_kb();
                    let (y, cb, cr) = (
                        kr,
                        -kr / (2.0 * (1.0 - kb)),
                        (1.0 - kr) / (2.0 * (1.0 - kr)),
                    );
                    for (p, v) in [(0, y), (1, cb), (2, cr)] {
                        fill[p] = (f.zero(p) + v * f.scale(p)).round();
                    }
                }
            }
            for (text, angle, expand, bicubic) in cases {
                let got = run(backend.as_mut(), text, frame);
                let (w, h) = (33.0f64, 25.0f64);
                let size = if expand {
                    let (s, c) = (angle.sin().abs(), angle.cos().abs());
                    (
                        (w * c + h * s - 1e-9).ceil() as u32,
                        (w * s + h * c - 1e-9).ceil() as u32,
                    )
                } else {
                    (33, 25)
                };
                assert_eq!((got.width(), got.height()), size, "{text}");
                for (p, &fill) in fill.iter().enumerate().take(f.planes()) {
                    let want = rotate_ref(frame, p, angle, size, fill, bicubic);
                    let max = f.max_code() as f64;
                    let (pw, _) = got.plane(p).size();
                    for (i, w) in want.iter().enumerate() {
                        let v = got.plane(p).get(i % pw, i / pw) as f64;
                        assert!(
                            (v - w.round().clamp(0.0, max)).abs() <= 1.0,
                            "{text} on {} ({}): plane {p} at {} differs: {v} for {w}",
                            f.describe(),
                            backend.describe(),
                            i
                        );
                    }
                }
                if let Some(a) = f.layout.alpha_plane() {
                    assert_eq!(got.plane(a).get(0, 0), 0, "{text}: a transparent corner");
                }
            }
        }
    }
}

/// Raw samples of a picture as FFmpeg decodes it.
fn rgb24(path: &Path) -> Vec<u8> {
    raw(path, "rgb24")
}

fn process(input: &Path, output: &Path, chain: &str, extra: &[&str]) {
    let mut args = vec![
        "process",
        s(input),
        "-o",
        s(output),
        "--overwrite",
        "--chain",
        chain,
    ];
    args.extend(extra);
    let (code, _, err) = tessera(&args);
    assert_eq!(code, 0, "{chain}: {err}");
}

/// FFmpeg's `rotate=a=PI/6:c=black` on an RGB picture against `rotate(PI/6)`, through the
/// binary on both backends.
///
/// Inside the picture (2 pixels in from its rotated edges) the floor is 45 dB (measured: 59.9):
/// both interpolate bilinearly about the same centre, FFmpeg in 16-bit fixed point. Over the
/// whole frame it is 20 dB (measured: 23.3), because the edges differ by design: FFmpeg cuts
/// the picture at whole samples of the input (a sample whose position falls in input sample
/// 0 .. w − 1 is the picture's, edges replicated; any other is the fill), which puts its edge
/// half a pixel inside the picture on the left and top and half a pixel outside on the right and
/// bottom, stair-stepped; tessera blends the true edge into the fill over one sample. Along the
/// four edges of a 160x120 picture that is some 480 of 57600 samples more than 20 codes apart.
#[test]
fn rotate_is_ffmpegs_rotate_inside_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x120:d=1",
        "-frames:v",
        "1",
        "-pix_fmt",
        "rgb24",
        s(&input),
    ]);
    let theirs = dir.path().join("theirs.png");
    ffmpeg(&[
        "-i",
        s(&input),
        "-vf",
        "rotate=a=PI/6:c=black",
        "-pix_fmt",
        "rgb24",
        s(&theirs),
    ]);
    let theirs = rgb24(&theirs);
    let mut backends = vec!["cpu"];
    if common::gpu().is_some() {
        backends.push("gpu");
    }
    for backend in backends {
        let ours = dir.path().join(format!("{backend}.png"));
        process(&input, &ours, "rotate(PI/6)", &["--backend", backend]);
        let ours = rgb24(&ours);
        let whole = psnr(&ours, &theirs);
        // The interior: samples at least 2 pixels inside the rotated picture's edges.
        let (sin, cos) = (
            std::f64::consts::FRAC_PI_6.sin(),
            std::f64::consts::FRAC_PI_6.cos(),
        );
        let inside = |i: usize| {
            let (x, y) = (
                (i / 3 % 160) as f64 + 0.5 - 80.0,
                (i / 3 / 160) as f64 + 0.5 - 60.0,
            );
            let (xi, yi) = (cos * x + sin * y, -sin * x + cos * y);
            xi.abs() < 78.0 && yi.abs() < 58.0
        };
        let (a, b): (Vec<u8>, Vec<u8>) = (0..ours.len())
            .filter(|&i| inside(i))
            .map(|i| (ours[i], theirs[i]))
            .unzip();
        let interior = psnr(&a, &b);
        eprintln!("rotate(PI/6) on {backend}: {whole:.1} dB whole, {interior:.1} dB inside");
        assert!(
            whole >= 20.0,
            "{backend}: {whole:.1} dB against FFmpeg's rotate"
        );
        assert!(interior >= 45.0, "{backend}: {interior:.1} dB inside");
    }
}

/// `pad` gives FFmpeg's pad's codes exactly, on yuv420p video (FFV1 in and out) and on RGB
/// pictures, for offsets, centring (rounded down to the chroma grid) and colours.
#[test]
fn pad_is_ffmpegs_pad() {
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("in.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=96x64:r=10:d=0.3",
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "ffv1",
        s(&video),
    ]);
    let picture = dir.path().join("in.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=61x47:d=1",
        "-frames:v",
        "1",
        "-pix_fmt",
        "rgb24",
        s(&picture),
    ]);
    let cases = [
        ("pad(w+20, h+12, 6, 4)", "pad=iw+20:ih+12:6:4"),
        ("pad(w+30, h+30)", "pad=iw+30:ih+30:-1:-1"),
        (
            "pad(w+9, h+7, 3, 5, #ffffff)",
            "pad=iw+9:ih+7:3:5:color=white",
        ),
        (
            "pad(200, 100, x=-1, y=7, color=#ff8000)",
            "pad=200:100:-1:7:color=0xff8000",
        ),
    ];
    let mut backends = vec!["cpu"];
    if common::gpu().is_some() {
        backends.push("gpu");
    }
    for (chain, vf) in cases {
        for (input, ext, pix_fmt) in [(&video, "mkv", "yuv420p"), (&picture, "png", "rgb24")] {
            let theirs = dir.path().join(format!("theirs.{ext}"));
            let codec: &[&str] = if ext == "mkv" { &["-c:v", "ffv1"] } else { &[] };
            let mut args = vec!["-i", s(input), "-vf", vf];
            args.extend(codec);
            args.push(s(&theirs));
            ffmpeg(&args);
            for backend in &backends {
                let ours = dir.path().join(format!("ours-{backend}.{ext}"));
                let mut extra = vec!["--backend", backend];
                extra.extend(
                    codec
                        .iter()
                        .map(|c| if *c == "-c:v" { "--codec" } else { c }),
                );
                process(input, &ours, chain, &extra);
                let (a, b) = (raw(&ours, pix_fmt), raw(&theirs, pix_fmt));
                assert_eq!(a.len(), b.len(), "{chain} on {pix_fmt}: sizes differ");
                let diff = a.iter().zip(&b).filter(|(x, y)| x != y).count();
                assert_eq!(
                    diff, 0,
                    "{chain} on {pix_fmt} ({backend}): {diff} samples differ from FFmpeg's {vf}"
                );
            }
        }
    }
}

/// `pad` refuses a canvas that cannot hold the picture, naming the sizes.
#[test]
fn pad_and_rotate_refuse_what_they_cannot_do() {
    let format = yuv(61, 47, Layout::YUV420, 8);
    let chain = Chain::parse("pad(width=60)").unwrap();
    let err = plan::compile(&chain, &format).unwrap_err();
    assert!(
        err.message.contains("does not fit the 60x47 canvas"),
        "{err}"
    );
    let err = Chain::parse("rotate(90)").unwrap_err();
    let text = err.render("rotate(90)");
    assert!(
        text.contains("out of range") && text.contains("30deg"),
        "{text}"
    );
}

/// `fit` is the `scale | pad` or `scale | crop` chain it stands for, bit for bit, with the
/// sizes and centred offsets (rounded down to the chroma grid) worked out here.
#[test]
fn fit_is_its_scale_and_pad_or_crop() {
    // A 61x47 picture: contain in 40x40 scales to 40x31 (47 · 40/61 = 30.8) and pads 4 rows
    // above; cover of 50x20 scales to 50x39 (38.5) and crops from row 9 (8 on 4:2:0); fill
    // stretches; shrink_only pads a picture smaller than the box, and cover with it crops the
    // width (61 → 30, from column 15, 14 on 4:2:0) and pads the height (47 in 90: 21 rows, 20).
    let cases: [(&str, [&str; 2]); 5] = [
        ("fit(40, 40)", ["scale(40, 31) | pad(40, 40, 0, 4)"; 2]),
        (
            "fit(50, 20, mode=cover, filter=bicubic)",
            [
                "scale(50, 39, bicubic) | crop(0, 9, 50, 20)",
                "scale(50, 39, bicubic) | crop(0, 8, 50, 20)",
            ],
        ),
        (
            "fit(30, 70, mode=fill, filter=bilinear)",
            ["scale(30, 70, bilinear)"; 2],
        ),
        (
            "fit(100, 90, shrink_only=true, color=#ffffff)",
            [
                "pad(100, 90, 19, 21, #ffffff)",
                "pad(100, 90, 18, 20, #ffffff)",
            ],
        ),
        (
            "fit(30, 90, mode=cover, shrink_only=true)",
            [
                "crop(15, 0, 30, 47) | pad(30, 90, 0, 21)",
                "crop(14, 0, 30, 47) | pad(30, 90, 0, 20)",
            ],
        ),
    ];
    let inputs = [
        test_image8(61, 47, 21),
        test_frame(yuv(61, 47, Layout::YUV420, 8), 22),
        test_frame(yuv(61, 47, Layout::YUV444.with_alpha(true), 10), 23),
    ];
    for mut backend in backends() {
        for frame in &inputs {
            let sub = usize::from(frame.format.layout.chroma_shift == (1, 1));
            for (fit, chains) in &cases {
                let got = run(backend.as_mut(), fit, frame);
                let want = run(backend.as_mut(), chains[sub], frame);
                let n = frame.format.planes();
                assert_eq!(
                    got.plane_diffs(&want),
                    Some(vec![0; n]),
                    "{fit} against {} on {}",
                    chains[sub],
                    frame.format.describe()
                );
            }
        }
    }
}
