//! The CPU backend against plain references written here, in f64, plane by plane, without the
//! backend's separable passes, fixed point or weight tables: direct 2-D convolution for the
//! stencils (chroma with the kernel scaled by its subsampling), FFmpeg's formulas for the colour
//! filters on Y′CbCr, exact values for resampling simple patterns and for sample moves. Every
//! layout: RGB(A) at 8 and 16 bits, Y′CbCr 4:2:0, 4:2:2 and 4:4:4 at 8 and 10 bits, odd sizes.

mod common;

use common::planes::{cpu, quantise, Values};
use common::{test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Format, Layout, Matrix, PlaneRef, Role};
use tessera::{plan, Backend, Chain, Frame};

/// Direct 2-D convolution with clamped edges, on samples less `zero`, plus `zero + bias`.
fn convolve_ref(plane: &Values, kernel: &[Vec<f64>], zero: f64, bias: f64) -> Values {
    let (kh, kw) = (kernel.len() as i64, kernel[0].len() as i64);
    plane.map(|x, y| {
        let mut acc = 0.0;
        for j in 0..kh {
            for i in 0..kw {
                acc += kernel[j as usize][i as usize]
                    * (plane.at(x + i - kw / 2, y + j - kh / 2) - zero);
            }
        }
        acc + zero + bias
    })
}

/// The outer product of a horizontal and a vertical kernel.
fn outer(h: &[f64], v: &[f64]) -> Vec<Vec<f64>> {
    v.iter()
        .map(|a| h.iter().map(|b| a * b).collect())
        .collect()
}

fn gaussian(sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let g: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = g.iter().sum();
    g.iter().map(|v| v / sum).collect()
}

/// A box `width` samples wide, each tap weighing the part of its sample the box covers.
fn box_taps(width: f64) -> Vec<f64> {
    let half = width / 2.0;
    let r = (half - 0.5).ceil().max(0.0) as i64;
    let raw: Vec<f64> = (-r..=r)
        .map(|k| ((k as f64 + 0.5).min(half) - (k as f64 - 0.5).max(-half)).max(0.0))
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|v| v / sum).collect()
}

fn assert_close(got: &Frame, want: &Frame, what: &str) {
    let diffs = got.plane_diffs(want).unwrap_or_else(|| {
        panic!(
            "{what}: formats differ ({:?} vs {:?})",
            got.format, want.format
        )
    });
    assert!(
        diffs.iter().all(|&d| d <= 1),
        "{what} on {}: differs from the reference by {diffs:?} code values per plane",
        got.format.describe()
    );
}

/// The layouts every stencil is checked on.
fn formats(w: u32, h: u32) -> Vec<Format> {
    vec![
        Format::rgb(w, h, 8, true),
        Format::rgb(w, h, 16, false),
        yuv(w, h, Layout::YUV420, 8),
        yuv(w, h, Layout::YUV422, 10),
        yuv(w, h, Layout::YUV444, 8),
        yuv(w, h, Layout::YUV420.with_alpha(true), 8),
    ]
}

/// How many luma samples one sample of plane `p` spans, horizontally and vertically.
fn span(format: &Format, p: usize) -> (f64, f64) {
    let (h, v) = format.layout.shift(p);
    ((1u32 << h) as f64, (1u32 << v) as f64)
}

#[test]
fn gblur_is_a_gaussian_of_every_plane_with_chroma_sigma_scaled() {
    for format in formats(41, 31) {
        let img = test_frame(format, 11);
        for sigma in [0.5, 1.0, 2.5] {
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let (sx, sy) = span(&format, p);
                    let k = outer(&gaussian(sigma / sx), &gaussian(sigma / sy));
                    convolve_ref(&Values::of(&img, p), &k, 0.0, 0.0)
                })
                .collect();
            let want = quantise(format, &planes);
            assert_close(
                &cpu(&format!("gblur(sigma={sigma})"), &img),
                &want,
                &format!("gblur {sigma}"),
            );
        }
    }
}

#[test]
fn boxblur_is_a_mean_over_the_same_square_of_the_picture() {
    for format in formats(33, 29) {
        let img = test_frame(format, 12);
        for r in [1usize, 3] {
            let width = (2 * r + 1) as f64;
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let (sx, sy) = span(&format, p);
                    let k = outer(&box_taps(width / sx), &box_taps(width / sy));
                    convolve_ref(&Values::of(&img, p), &k, 0.0, 0.0)
                })
                .collect();
            let want = quantise(format, &planes);
            assert_close(
                &cpu(&format!("boxblur(radius={r})"), &img),
                &want,
                &format!("boxblur {r}"),
            );
        }
        assert_eq!(cpu("boxblur(0)", &img), img);
    }
}

/// `planes="…"` limits a blur to the planes it names.
#[test]
fn planes_limits_a_stencil_to_the_planes_it_names() {
    let format = yuv(24, 18, Layout::YUV420, 8);
    let img = test_frame(format, 21);
    let luma_only = cpu("gblur(2, planes=\"y\")", &img);
    let all = cpu("gblur(2)", &img);
    assert_eq!(luma_only.plane_diffs(&all).unwrap()[0], 0);
    assert_eq!(luma_only.plane_diffs(&img).unwrap()[1..], [0, 0]);
    let chroma = cpu("boxblur(2, planes=\"uv\")", &img);
    assert_eq!(chroma.plane_diffs(&img).unwrap()[0], 0);
    let chain = Chain::parse("gblur(planes=\"r\")").unwrap();
    let err = plan::compile(&chain, &format).unwrap_err();
    assert!(err.to_string().contains("planes=\"r\" names `r`"), "{err}");
}

#[test]
fn convolve_divides_by_the_sum_adds_bias_and_keeps_chroma_centred() {
    let sharpen = vec![
        vec![0.0, -1.0, 0.0],
        vec![-1.0, 5.0, -1.0],
        vec![0.0, -1.0, 0.0],
    ];
    let blur: Vec<Vec<f64>> = outer(&[0.25, 0.5, 0.25], &[0.25, 0.5, 0.25]);
    let sobel = vec![
        vec![-1.0, 0.0, 1.0],
        vec![-2.0, 0.0, 2.0],
        vec![-1.0, 0.0, 1.0],
    ];
    let wide = vec![vec![0.2; 5]];
    let big: Vec<Vec<f64>> = (0..15)
        .map(|j| (0..15).map(|i| ((i * j) % 7) as f64 - 2.0).collect())
        .collect();
    let big_sum: f64 = big.iter().flatten().sum();
    let big_scaled: Vec<Vec<f64>> = big
        .iter()
        .map(|r| r.iter().map(|v| v / big_sum).collect())
        .collect();
    let big_text: Vec<String> = big
        .iter()
        .map(|r| {
            format!(
                "[{}]",
                r.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    let big_text = format!("convolve([{}])", big_text.join(","));
    let cases: Vec<(&str, &Vec<Vec<f64>>, f64)> = vec![
        ("convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])", &sharpen, 0.0),
        ("convolve([1,2,1,2,4,2,1,2,1])", &blur, 0.0),
        // Sum 0: the divisor defaults to 1.
        (
            "convolve([[-1,0,1],[-2,0,2],[-1,0,1]], bias=0.5)",
            &sobel,
            0.5,
        ),
        ("convolve(kernel=[[1,1,1,1,1]])", &wide, 0.0),
        (&big_text, &big_scaled, 0.0),
    ];
    for format in formats(30, 26) {
        let img = test_frame(format, 13);
        for (text, kernel, bias) in &cases {
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let plane = Values::of(&img, p);
                    match format.role(p) {
                        // Alpha is kept; chroma centred on neutral, no bias; luma and RGB
                        // centred on black, bias in the plane's nominal range.
                        Role::Alpha => plane,
                        Role::Cb | Role::Cr => convolve_ref(&plane, kernel, format.zero(p), 0.0),
                        _ => convolve_ref(&plane, kernel, format.zero(p), bias * format.scale(p)),
                    }
                })
                .collect();
            assert_close(&cpu(text, &img), &quantise(format, &planes), text);
        }
    }
    // A zero-sum kernel on a flat grey picture leaves its chroma neutral and its luma black.
    let flat = Frame::new(yuv(8, 8, Layout::YUV420, 8));
    let flat = cpu("eq(brightness=0.2) | grayscale", &flat);
    let edges = cpu("convolve([[-1,0,1],[-2,0,2],[-1,0,1]])", &flat);
    let chroma = edges.plane8(1);
    assert!(chroma.data.iter().all(|&v| v == 128), "{:?}", chroma.data);
    assert!(edges.plane8(0).data.iter().all(|&v| v == 16));
}

#[test]
fn unsharp_adds_the_difference_from_a_gaussian_on_the_colour_planes() {
    for format in formats(36, 28) {
        let img = test_frame(format, 14);
        for (sigma, amount) in [(1.0, 1.0), (2.0, 0.5), (0.8, -1.0)] {
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let plane = Values::of(&img, p);
                    if format.role(p) == Role::Alpha {
                        return plane;
                    }
                    let (sx, sy) = span(&format, p);
                    let blurred = convolve_ref(
                        &plane,
                        &outer(&gaussian(sigma / sx), &gaussian(sigma / sy)),
                        0.0,
                        0.0,
                    );
                    plane.map(|x, y| {
                        let (s, b) = (plane.at(x, y), blurred.at(x, y));
                        s + amount * (s - b)
                    })
                })
                .collect();
            let text = format!("unsharp(sigma={sigma}, amount={amount})");
            assert_close(&cpu(&text, &img), &quantise(format, &planes), &text);
        }
    }
}

/// FFmpeg's eq on one 8-bit plane (libavfilter/vf_eq.c): integer contrast and brightness
/// while gamma is 1 and |contrast| < 7.9, a table otherwise; parameters go through float.
fn ffmpeg_eq(v: f64, contrast: f64, brightness: f64, gamma: f64) -> f64 {
    let (c, b, g) = (
        contrast as f32 as f64,
        brightness as f32 as f64,
        gamma as f32 as f64,
    );
    if c == 1.0 && b == 0.0 && g == 1.0 {
        return v;
    }
    if g == 1.0 && c.abs() < 7.9 {
        let ci = (c * 4096.0) as i64;
        let bi = ((100.0 * b + 100.0) as i64 * 511) / 200 - 128 - ci / 32;
        return (((v as i64 * ci) >> 12) + bi).clamp(0, 255) as f64;
    }
    let x = c * (v / 255.0 - 0.5) + 0.5 + b;
    if x <= 0.0 {
        0.0
    } else {
        let x = x.powf(1.0 / g);
        if x >= 1.0 {
            255.0
        } else {
            (256.0 * x).floor()
        }
    }
}

#[test]
fn eq_invert_and_grayscale_are_ffmpegs_on_ycbcr() {
    let format = yuv(32, 24, Layout::YUV420, 8);
    let img = test_frame(format, 15);
    for (b, c, s, g) in [
        (0.1, 1.0, 1.0, 1.0),
        (-0.05, 1.4, 0.3, 1.0),
        (0.0, 0.8, 2.0, 2.2),
        (0.02, 1.0, 1.0, 0.4),
        (-0.2, -0.7, 2.5, 1.0),
        (0.0, 9.0, 1.0, 1.0),
    ] {
        let text = format!("eq(brightness={b}, contrast={c}, saturation={s}, gamma={g})");
        let got = cpu(&text, &img);
        let planes: Vec<Values> = (0..3)
            .map(|p| {
                let plane = Values::of(&img, p);
                let (cc, bb, gg) = if p == 0 { (c, b, g) } else { (s, 0.0, 1.0) };
                plane.map(|x, y| ffmpeg_eq(plane.at(x, y), cc, bb, gg))
            })
            .collect();
        // Exactly FFmpeg's codes.
        assert_eq!(got, quantise(format, &planes), "{text}");
    }
    // invert: 1 − Y′ and −C within the range (16 + 235 − Y, 256 − C), as FFmpeg's negate.
    let planes: Vec<Values> = (0..3)
        .map(|p| {
            let plane = Values::of(&img, p);
            let top = if p == 0 { 251.0 } else { 256.0 };
            plane.map(|x, y| top - plane.at(x, y))
        })
        .collect();
    assert_eq!(cpu("invert", &img), quantise(format, &planes), "invert");
    // grayscale: neutral chroma, luma untouched.
    let gray = cpu("grayscale", &img);
    assert_eq!(gray.plane_diffs(&img).unwrap()[0], 0);
    assert!(gray
        .plane8(1)
        .data
        .iter()
        .chain(gray.plane8(2).data)
        .all(|&v| v == 128));
    // 10-bit: the same curves on 8-bit units (a code over 4), full range's white is 1023.
    let deep = yuv(16, 12, Layout::YUV422, 10);
    let img10 = test_frame(deep, 16);
    let inverted = cpu("invert", &img10);
    let (y0, y1) = (
        img10.plane16(0).row(3)[5] as i32,
        inverted.plane16(0).row(3)[5] as i32,
    );
    assert_eq!(
        y0 + y1,
        4 * 251,
        "10-bit limited luma mirrors around (64 + 940) / 2"
    );
}

#[test]
fn colour_filters_on_rgb_work_through_the_matrix() {
    const LUMA: [f64; 3] = [0.2126, 0.7152, 0.0722];
    let img = common::test_image8(32, 24, 15);
    let px = |x: i64, y: i64| -> [f64; 4] {
        std::array::from_fn(|c| img.plane8(c).row(y as usize)[x as usize] as f64 / 255.0)
    };
    let rgb = |f: &dyn Fn([f64; 4]) -> [f64; 3]| -> Frame {
        let planes: Vec<Values> = (0..4)
            .map(|c| {
                Values::of(&img, c).map(|x, y| {
                    let p = px(x, y);
                    if c == 3 {
                        p[3] * 255.0
                    } else {
                        f(p)[c].clamp(0.0, 1.0) * 255.0
                    }
                })
            })
            .collect();
        quantise(img.format, &planes)
    };
    assert_close(
        &cpu("invert", &img),
        &rgb(&|p| [1.0 - p[0], 1.0 - p[1], 1.0 - p[2]]),
        "invert",
    );
    let luma = |p: [f64; 4]| LUMA[0] * p[0] + LUMA[1] * p[1] + LUMA[2] * p[2];
    assert_close(
        &cpu("grayscale", &img),
        &rgb(&|p| [luma(p); 3]),
        "grayscale",
    );
    // eq: FFmpeg's curves on the full-range BT.709 Y′CbCr of each pixel, in real numbers.
    for (b, c, s) in [(0.1, 1.0, 1.0), (-0.05, 1.4, 0.3), (0.0, 0.8, 2.0)] {
        let (b, c, s) = (b as f32 as f64, c as f32 as f64, s as f32 as f64);
        let want = rgb(&|p| {
            let y = luma(p);
            let (cb, cr) = (
                (p[2] - y) / (2.0 * (1.0 - LUMA[2])),
                (p[0] - y) / (2.0 * (1.0 - LUMA[0])),
            );
            let affine = |v: f64, c: f64, b: f64| -> f64 {
                let ci = (c * 4096.0) as i64 as f64;
                let bi =
                    ((((100.0 * b + 100.0) as i64) * 511) / 200 - 128 - (ci as i64) / 32) as f64;
                (v * ci / 4096.0 + bi - 0.5).clamp(0.0, 255.0)
            };
            let y8 = if c == 1.0 && b == 0.0 {
                255.0 * y
            } else {
                affine(255.0 * y, c, b)
            };
            let (cb8, cr8) = if s == 1.0 {
                (128.0 + 255.0 * cb, 128.0 + 255.0 * cr)
            } else {
                (
                    affine(128.0 + 255.0 * cb, s, 0.0),
                    affine(128.0 + 255.0 * cr, s, 0.0),
                )
            };
            let (y, cb, cr) = (y8 / 255.0, (cb8 - 128.0) / 255.0, (cr8 - 128.0) / 255.0);
            let r = y + 2.0 * (1.0 - LUMA[0]) * cr;
            let bl = y + 2.0 * (1.0 - LUMA[2]) * cb;
            [
                r.clamp(0.0, 1.0),
                ((y - LUMA[0] * r - LUMA[2] * bl) / LUMA[1]).clamp(0.0, 1.0),
                bl.clamp(0.0, 1.0),
            ]
        });
        let text = format!("eq(brightness={b}, contrast={c}, saturation={s})");
        assert_close(&cpu(&text, &img), &want, &text);
    }
}

fn row8(values: &[u8]) -> Frame {
    let data = values.iter().flat_map(|&v| [v, v, v]).collect();
    Frame::from_rgb8(values.len() as u32, 1, data)
}

fn red(frame: &Frame) -> Vec<u8> {
    frame.plane8(0).row(0).to_vec()
}

#[test]
fn scale_gives_exact_values_on_simple_patterns() {
    // Same size is the identity for every kernel.
    for format in formats(29, 17) {
        let img = test_frame(format, 16);
        for f in ["nearest", "bilinear", "bicubic", "lanczos3"] {
            assert_eq!(
                cpu(&format!("scale(29, 17, {f})"), &img),
                img,
                "{f} at the same size"
            );
        }
    }
    // Nearest doubles every pixel going up and picks every second one going down.
    assert_eq!(
        red(&cpu("scale(8, 1, nearest)", &row8(&[10, 20, 30, 40]))),
        [10, 10, 20, 20, 30, 30, 40, 40]
    );
    assert_eq!(
        red(&cpu("scale(2, 1, nearest)", &row8(&[10, 20, 30, 40]))),
        [20, 40]
    );
    // Bilinear up by 2 with pixel centres aligned: sample points -0.25, 0.25, 0.75, 1.25.
    assert_eq!(
        red(&cpu("scale(4, 1, bilinear)", &row8(&[0, 255]))),
        [0, 64, 191, 255]
    );
    // Bilinear down by 2 widens the triangle to 2 px: weights 1/8, 3/8, 3/8, 1/8.
    assert_eq!(
        red(&cpu("scale(2, 1, bilinear)", &row8(&[0, 255, 0, 255]))),
        [96, 159]
    );
    // Lanczos and bicubic keep a flat image flat, at any size and on every layout.
    for format in formats(9, 5) {
        let mut flat = Frame::new(format);
        for p in 0..format.planes() {
            let v = (format.zero(p) + 0.3 * format.scale(p)).round();
            if format.is_wide() {
                flat.plane16_mut(p).data.fill(v as u16);
            } else {
                flat.plane8_mut(p).data.fill(v as u8);
            }
        }
        for f in ["bicubic", "lanczos3"] {
            for (w, h) in [(20, 13), (4, 2)] {
                let out = cpu(&format!("scale({w}, {h}, {f})"), &flat);
                for p in 0..format.planes() {
                    let want = flat.plane(p).get(0, 0);
                    let plane = out.plane(p);
                    let (pw, ph) = plane.size();
                    assert!(
                        (0..ph).all(|y| (0..pw).all(|x| plane.get(x, y) == want)),
                        "{f} to {w}x{h} on {}: plane {p}",
                        format.describe()
                    );
                }
            }
        }
    }
    // -1 keeps the aspect ratio; -2 rounds it to an even number.
    let out = cpu("scale(width=30)", &common::test_image8(60, 41, 17));
    assert_eq!((out.width(), out.height()), (30, 21));
    let out = cpu(
        "scale(width=30, height=-2)",
        &common::test_image8(60, 41, 17),
    );
    assert_eq!((out.width(), out.height()), (30, 20));
    // Chroma goes with luma: halving a 4:2:0 frame whose chroma steps where its luma does
    // keeps the step between the same pixels (left-sited chroma sits on even luma columns).
    let format = yuv(16, 4, Layout::YUV420, 8);
    let mut step = Frame::new(format);
    for p in 0..3 {
        let plane = step.plane8_mut(p);
        let w = plane.width;
        for (i, v) in plane.data.iter_mut().enumerate() {
            *v = if i % w < w / 2 { 60 } else { 200 };
        }
    }
    let half = cpu("scale(8, 2, bilinear)", &step);
    let (l, c) = (
        half.plane8(0).row(0).to_vec(),
        half.plane8(1).row(0).to_vec(),
    );
    assert!(l[3] < 130 && l[4] > 130, "luma {l:?}");
    assert!(c[1] < 130 && c[2] > 130, "chroma {c:?}");
}

#[test]
fn crop_and_flips_move_samples_exactly() {
    let check = |img: &Frame, text: &str, w: u32, h: u32, map: &dyn Fn(u32, u32) -> (u32, u32)| {
        let out = cpu(text, img);
        assert_eq!((out.width(), out.height()), (w, h), "{text}");
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = map(x, y);
                for c in 0..img.format.planes() {
                    if img.format.layout.shift(c) != (0, 0) {
                        continue;
                    }
                    assert_eq!(
                        out.sample(x, y, c),
                        img.sample(sx, sy, c),
                        "{text} at ({x}, {y})"
                    );
                }
            }
        }
        out
    };
    let img = common::test_image8(20, 12, 18);
    check(&img, "crop(x=3, y=2, width=7, height=5)", 7, 5, &|x, y| {
        (x + 3, y + 2)
    });
    check(&img, "hflip", 20, 12, &|x, y| (19 - x, y));
    check(&img, "vflip", 20, 12, &|x, y| (x, 11 - y));
    check(&img, "crop(2, 1, 10, 6) | hflip | vflip", 10, 6, &|x, y| {
        (2 + 9 - x, 1 + 5 - y)
    });
    // 4:2:0: chroma moves with luma, from even offsets.
    let format = yuv(20, 12, Layout::YUV420, 8);
    let img = test_frame(format, 19);
    let out = check(&img, "crop(x=4, y=2, width=9, height=7)", 9, 7, &|x, y| {
        (x + 4, y + 2)
    });
    let (src, dst) = (img.plane8(1), out.plane8(1));
    assert_eq!((dst.width, dst.height), (5, 4));
    for y in 0..4 {
        assert_eq!(dst.row(y), &src.row(y + 1)[2..7]);
    }
    let flipped = check(&img, "hflip", 20, 12, &|x, y| (19 - x, y));
    assert_eq!(flipped.plane8(2).row(0)[0], img.plane8(2).row(0)[9]);
    // An odd offset would split the chroma: refused, with the nearest offsets that work.
    let chain = Chain::parse("crop(x=3, y=2, width=8, height=8)").unwrap();
    let err = plan::compile(&chain, &format).unwrap_err();
    assert!(err.to_string().contains("x = 3 splits the chroma"), "{err}");
    assert!(err.to_string().contains("x=2 or x=4"), "{err}");
    assert!(plan::compile(&chain, &yuv(20, 12, Layout::YUV444, 8)).is_ok());
}

#[test]
fn frames_keep_their_layout_and_depth() {
    let img = common::test_image16(16, 8, 19);
    let out = cpu("eq(brightness=0.1) | gblur(1)", &img);
    assert_eq!(
        (out.format.bits, out.format.layout),
        (16, img.format.layout)
    );
    let same = cpu("eq(brightness=0)", &img);
    assert_eq!(same, img, "an identity eq keeps 16-bit values");
    let ten = test_frame(yuv(18, 10, Layout::YUV422, 10), 20);
    let out = cpu("gblur(2) | eq(contrast=1.1) | scale(9, 5)", &ten);
    assert_eq!((out.format.bits, out.format.layout), (10, Layout::YUV422));
    let max = (0..3)
        .flat_map(|p| {
            let plane = out.plane16(p);
            (0..plane.height).flat_map(move |y| plane.row(y).to_vec())
        })
        .max()
        .unwrap();
    assert!(max <= 1023, "10-bit samples stay 10-bit: {max}");
}

/// A run of passes keeps more than the frame's precision between them: ten small steps that
/// would each round away at 8 bits add up.
#[test]
fn chains_do_not_round_between_their_filters() {
    let format = yuv(16, 16, Layout::YUV420, 8);
    let img = test_frame(format, 22);
    let step = "gblur(0.4, planes=\"y\") | eq(contrast=1.01)";
    let chain = [step; 10].join(" | ");
    let got = cpu(&chain, &img);
    // The same chain in f64, rounded once.
    let taps = gaussian(0.4);
    let mut luma = Values::of(&img, 0);
    for _ in 0..10 {
        luma = convolve_ref(&luma, &outer(&taps, &taps), 0.0, 0.0);
        let c = (1.01f32 as f64 * 4096.0) as i64;
        let b = ((100 * 511) / 200 - 128 - c / 32) as f64;
        luma = luma.map(|x, y| (luma.at(x, y) * c as f64 / 4096.0 + b - 0.5).clamp(0.0, 255.0));
    }
    let want = quantise(format, &[luma, Values::of(&img, 1), Values::of(&img, 2)]);
    assert_close(&got, &want, "ten filters");
}

/// PSNR of plane `p` of `got` against `want`, in dB.
fn psnr(got: &Frame, want: &[Values], p: usize) -> f64 {
    let g = Values::of(got, p);
    let mse: f64 =
        g.v.iter()
            .zip(&want[p].v)
            .map(|(a, b)| (a - b).powi(2))
            .sum::<f64>()
            / g.v.len() as f64;
    let max = got.format.max_code() as f64;
    10.0 * (max * max / mse.max(1e-12)).log10()
}

/// Fixed point is exact enough: gblur σ=3 is ≥ 50 dB per plane against the float Gaussian (luma
/// σ, chroma σ/2), on a picture with smooth areas and detail.
#[test]
fn gblur_in_fixed_point_is_within_50_db_of_the_float_gaussian() {
    for format in [
        yuv(160, 90, Layout::YUV420, 8),
        yuv(160, 90, Layout::YUV422, 10),
    ] {
        let img = test_frame(format, 23);
        let want: Vec<Values> = (0..3)
            .map(|p| {
                let (sx, sy) = span(&format, p);
                convolve_ref(
                    &Values::of(&img, p),
                    &outer(&gaussian(3.0 / sx), &gaussian(3.0 / sy)),
                    0.0,
                    0.0,
                )
            })
            .collect();
        let got = cpu("gblur(3)", &img);
        for p in 0..3 {
            let db = psnr(&got, &want, p);
            assert!(db >= 50.0, "{} plane {p}: {db:.1} dB", format.describe());
        }
    }
}

#[test]
fn strips_give_the_same_result_as_one_pass_over_the_frame() {
    // Thin strips put strip boundaries inside every stencil's and resample's reach.
    let chains = [
        "gblur(sigma=2.5) | unsharp(1, 2) | eq(contrast=1.3)",
        "convolve([[1,2,1],[2,4,2],[1,2,1],[0,1,0],[1,0,1]]) | vflip | crop(2, 6, 30, 40) | boxblur(3)",
        "scale(20, 91, lanczos3) | gblur(1) | scale(31, 17, bicubic) | vflip",
        "crop(0, 10, 37, 33) | vflip | scale(height=5, filter=bilinear)",
        "tint(#ff8040, 0.5) | gblur(1) | pixel(r=\"x / w\", a=\"y / h\")",
    ];
    for format in [
        Format::rgb(37, 53, 8, true),
        yuv(37, 53, Layout::YUV420, 8),
        yuv(37, 53, Layout::YUV422, 10),
        Format::rgb(37, 53, 16, false),
    ] {
        let img = test_frame(format, 20);
        for text in chains {
            let chain = Chain::parse(text).unwrap();
            let plan = plan::compile(&chain, &img.format).unwrap();
            let whole = CpuBackend::with_strip_rows(10_000)
                .process(&plan, img.clone())
                .unwrap();
            for rows in [1, 2, 3, 7] {
                let strips = CpuBackend::with_strip_rows(rows)
                    .process(&plan, img.clone())
                    .unwrap();
                assert_eq!(
                    strips,
                    whole,
                    "{text} on {} in strips of {rows} rows",
                    format.describe()
                );
            }
        }
    }
}

/// A frame read in place (a decoder's picture, whose rows are wider than the picture) gives
/// what the same frame held as its own samples gives.
#[test]
fn frames_read_in_place_give_the_same_result() {
    struct Padded {
        planes: Vec<Vec<u8>>,
        strides: Vec<usize>,
    }
    // SAFETY: each plane holds its rows at its stride and lives as long as the value.
    unsafe impl tessera::frame::Picture for Padded {
        fn plane(&self, p: usize) -> (*const u8, usize) {
            (self.planes[p].as_ptr(), self.strides[p])
        }
    }
    let format = yuv(30, 21, Layout::YUV420, 8);
    let img = test_frame(format, 24);
    let mut planes = Vec::new();
    let mut strides = Vec::new();
    for p in 0..3 {
        let PlaneRef::U8(plane) = img.plane(p) else {
            unreachable!()
        };
        let stride = plane.width + 13;
        let mut data = vec![0xAAu8; stride * plane.height];
        for y in 0..plane.height {
            data[y * stride..y * stride + plane.width].copy_from_slice(plane.row(y));
        }
        planes.push(data);
        strides.push(stride);
    }
    let shared = Frame::shared(format, std::sync::Arc::new(Padded { planes, strides }));
    for text in [
        "gblur(2)",
        "eq(contrast=1.2) | invert",
        "crop(2, 2, 20, 15)",
        "tint(#4080ff)",
        "scale(17, 9)",
        "gblur(1, planes=\"y\")",
    ] {
        assert_eq!(cpu(text, &shared), cpu(text, &img), "{text}");
    }
}

#[test]
fn pixel_programs_on_ycbcr_work_per_chroma_block() {
    let format = yuv(20, 14, Layout::YUV420, 8);
    let img = test_frame(format, 25);
    // An identity program goes to RGB and back, which loses nothing but rounding.
    let same = cpu("pixel(r=\"r\")", &img);
    let diffs = same.plane_diffs(&img).unwrap();
    assert!(diffs.iter().all(|&d| d <= 1), "{diffs:?}");
    // Red kept, green and blue zero: each pixel's luma from its own red, the block's chroma
    // the mean of its four pixels'.
    let out = cpu("pixel(g=\"0\", b=\"0\")", &img);
    assert_eq!(out.format, img.format);
    let (kr, kb) = Matrix::Bt709.kr_kb();
    for cy in 0..7usize {
        for cx in 0..10usize {
            let cr = (img.plane8(2).row(cy)[cx] as f64 - 128.0) / 224.0;
            let (mut mean_cb, mut mean_cr) = (0.0, 0.0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (x, y) = (2 * cx + dx, 2 * cy + dy);
                let luma = (img.plane8(0).row(y)[x] as f64 - 16.0) / 219.0;
                let r = luma + 2.0 * (1.0 - kr) * cr;
                let new_luma = kr * r;
                mean_cb += (128.0 + 224.0 * (0.0 - new_luma) / (2.0 * (1.0 - kb))) / 4.0;
                mean_cr += (128.0 + 224.0 * (r - new_luma) / (2.0 * (1.0 - kr))) / 4.0;
                let want = (16.0 + 219.0 * new_luma).round().clamp(0.0, 255.0);
                let got = out.plane8(0).row(y)[x] as f64;
                assert!(
                    (got - want).abs() <= 1.0,
                    "Y at ({x}, {y}): {got} vs {want}"
                );
            }
            let got = (
                out.plane8(1).row(cy)[cx] as f64,
                out.plane8(2).row(cy)[cx] as f64,
            );
            let want = (
                mean_cb.round().clamp(0.0, 255.0),
                mean_cr.round().clamp(0.0, 255.0),
            );
            assert!(
                (got.0 - want.0).abs() <= 1.0 && (got.1 - want.1).abs() <= 1.0,
                "chroma at ({cx}, {cy}): {got:?} vs {want:?}"
            );
        }
    }
}

/// A pixel op writing alpha on a frame without it gives the frame an alpha plane.
#[test]
fn alpha_written_to_a_frame_without_it_adds_a_plane() {
    let img = Frame::from_rgb8(4, 3, vec![200; 36]);
    let out = cpu("pixel(a=\"0.5\")", &img);
    assert_eq!(out.format.layout, Layout::RGBA);
    assert!(out.plane8(3).data.iter().all(|&v| v == 128));
    let video = test_frame(yuv(8, 6, Layout::YUV420, 8), 26);
    let out = cpu("invert(alpha=true)", &video);
    assert_eq!(out.format.layout, Layout::YUV420.with_alpha(true));
    assert!(
        out.plane8(3).data.iter().all(|&v| v == 0),
        "opaque inverted is transparent"
    );
}

/// The resampling kernels as the `scale` filter defines them.
fn kernel(filter: &str, x: f64) -> f64 {
    let x = x.abs();
    match filter {
        "bilinear" => (1.0 - x).max(0.0),
        "bicubic" => {
            let a = -0.5;
            if x < 1.0 {
                (a + 2.0) * x.powi(3) - (a + 3.0) * x * x + 1.0
            } else if x < 2.0 {
                a * x.powi(3) - 5.0 * a * x * x + 8.0 * a * x - 4.0 * a
            } else {
                0.0
            }
        }
        _ => {
            if x < 1e-9 {
                1.0
            } else if x < 3.0 {
                let px = std::f64::consts::PI * x;
                3.0 * px.sin() * (px / 3.0).sin() / (px * px)
            } else {
                0.0
            }
        }
    }
}

/// Output sample `i` of an axis of `dst` samples resampled from `src`, where the plane's
/// samples span `f` luma samples, sit `c` luma samples from the left (top) edge of their span,
/// and the luma sizes go from `luma_in` to `luma_out`: the source position is
/// `i · ratio + c · (ratio − 1) / f`, the kernel widened by the ratio when shrinking.
fn taps_1d(filter: &str, src: usize, i: usize, ratio: f64, f: f64, c: f64) -> Vec<(usize, f64)> {
    let centre = i as f64 * ratio + c * (ratio - 1.0) / f;
    let stretch = ratio.max(1.0);
    let support = match filter {
        "bilinear" => 1.0,
        "bicubic" => 2.0,
        _ => 3.0,
    } * stretch;
    let lo = (centre - support).ceil() as i64;
    let hi = (centre + support).floor() as i64;
    let raw: Vec<(i64, f64)> = (lo..=hi)
        .map(|k| (k, kernel(filter, (k as f64 - centre) / stretch)))
        .collect();
    let sum: f64 = raw.iter().map(|(_, w)| w).sum();
    raw.into_iter()
        .map(|(k, w)| (k.clamp(0, src as i64 - 1) as usize, w / sum))
        .collect()
}

/// Every plane resampled by its own kernel in f64, chroma placed by its siting (left-sited
/// horizontally, centred vertically, for this video), against `scale` on every layout.
#[test]
fn scale_is_a_separable_resample_of_every_plane_placed_by_its_siting() {
    for format in formats(45, 33) {
        let img = test_frame(format, 27);
        for (filter, w, h) in [
            ("bilinear", 23, 17),
            ("bicubic", 70, 50),
            ("lanczos3", 30, 19),
            ("lanczos3", 91, 67),
        ] {
            let text = format!("scale({w}, {h}, {filter})");
            let got = cpu(&text, &img);
            let out = format.with_size(w, h);
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let src = Values::of(&img, p);
                    let (ow, oh) = out.plane_size(p);
                    let (fx, fy) = span(&format, p);
                    // Left-sited chroma sits on the centre of its first luma sample, half a
                    // sample from the edge, as every full-resolution plane does; vertically it
                    // sits between its two rows, a whole luma sample from the edge.
                    let cx = 0.5;
                    let cy = if fy > 1.0 { 1.0 } else { 0.5 };
                    let (rx, ry) = (45.0 / w as f64, 33.0 / h as f64);
                    let hx: Vec<Vec<(usize, f64)>> = (0..ow as usize)
                        .map(|i| taps_1d(filter, src.w, i, rx, fx, cx))
                        .collect();
                    let vy: Vec<Vec<(usize, f64)>> = (0..oh as usize)
                        .map(|j| taps_1d(filter, src.h, j, ry, fy, cy))
                        .collect();
                    let v = (0..oh as usize)
                        .flat_map(|j| (0..ow as usize).map(move |i| (i, j)))
                        .map(|(i, j)| {
                            vy[j]
                                .iter()
                                .map(|&(sy, wy)| {
                                    wy * hx[i]
                                        .iter()
                                        .map(|&(sx, wx)| wx * src.v[sy * src.w + sx])
                                        .sum::<f64>()
                                })
                                .sum()
                        })
                        .collect();
                    Values {
                        w: ow as usize,
                        h: oh as usize,
                        v,
                    }
                })
                .collect();
            assert_close(&got, &quantise(out, &planes), &text);
        }
    }
}
