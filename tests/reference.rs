//! The CPU backend against plain references written here, in f64, without the backend's
//! separable passes, row kernels or weight tables: direct 2-D convolution for the stencils, the
//! formulas for the colour filters, exact values for resampling simple patterns.

mod common;

use tessera::backend::cpu::CpuBackend;
use tessera::{plan, Backend, Chain, Frame, Pixels};

fn cpu(text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap();
    let plan = plan::compile(&chain, frame.width, frame.height).unwrap();
    CpuBackend::new().process(&plan, frame.clone()).unwrap()
}

fn px(frame: &Frame, x: i64, y: i64) -> [f64; 4] {
    let x = x.clamp(0, frame.width as i64 - 1) as u32;
    let y = y.clamp(0, frame.height as i64 - 1) as u32;
    std::array::from_fn(|c| frame.sample(x, y, c) as f64)
}

/// A reference image as 0..=1 values, turned into 8-bit code values the way any tool would.
fn quantise(width: u32, height: u32, f: impl Fn(i64, i64) -> [f64; 4]) -> Frame {
    let mut data = Vec::new();
    for y in 0..height as i64 {
        for x in 0..width as i64 {
            data.extend(f(x, y).map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8));
        }
    }
    Frame::from_rgba8(width, height, data)
}

/// Direct 2-D convolution with clamped edges; `alpha` says whether alpha is convolved too.
fn convolve_ref<'a>(
    frame: &'a Frame,
    kernel: &[Vec<f64>],
    bias: f64,
    alpha: bool,
) -> impl Fn(i64, i64) -> [f64; 4] + 'a {
    let kernel = kernel.to_vec();
    move |x, y| {
        let (kh, kw) = (kernel.len() as i64, kernel[0].len() as i64);
        let mut acc = [0.0; 4];
        for j in 0..kh {
            for i in 0..kw {
                let p = px(frame, x + i - kw / 2, y + j - kh / 2);
                for c in 0..4 {
                    acc[c] += kernel[j as usize][i as usize] * p[c];
                }
            }
        }
        for a in &mut acc[..3] {
            *a += bias;
        }
        if !alpha {
            acc[3] = px(frame, x, y)[3];
        }
        acc
    }
}

fn gaussian_2d(sigma: f64) -> Vec<Vec<f64>> {
    let r = (3.0 * sigma).ceil() as i64;
    let g: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = g.iter().sum();
    g.iter()
        .map(|a| g.iter().map(|b| a * b / (sum * sum)).collect())
        .collect()
}

fn assert_close(got: &Frame, want: &Frame, what: &str) {
    let d = got
        .max_abs_diff(want)
        .unwrap_or_else(|| panic!("{what}: shapes differ"));
    assert!(
        d <= 1,
        "{what}: differs from the reference by {d} code values"
    );
}

#[test]
fn gblur_is_a_gaussian_convolution() {
    let img = common::test_image8(40, 31, 11);
    for sigma in [0.5, 1.0, 2.5] {
        let want = quantise(40, 31, convolve_ref(&img, &gaussian_2d(sigma), 0.0, true));
        assert_close(
            &cpu(&format!("gblur(sigma={sigma})"), &img),
            &want,
            &format!("gblur {sigma}"),
        );
    }
}

#[test]
fn boxblur_is_a_mean() {
    let img = common::test_image8(33, 29, 12);
    for r in [1usize, 3] {
        let n = 2 * r + 1;
        let k = vec![vec![1.0 / (n * n) as f64; n]; n];
        let want = quantise(33, 29, convolve_ref(&img, &k, 0.0, true));
        assert_close(
            &cpu(&format!("boxblur(radius={r})"), &img),
            &want,
            &format!("boxblur {r}"),
        );
    }
    assert_eq!(cpu("boxblur(0)", &img), img);
}

#[test]
fn convolve_divides_by_the_sum_and_adds_bias() {
    let img = common::test_image8(30, 30, 13);
    let sharpen = vec![
        vec![0.0, -1.0, 0.0],
        vec![-1.0, 5.0, -1.0],
        vec![0.0, -1.0, 0.0],
    ];
    let want = quantise(30, 30, convolve_ref(&img, &sharpen, 0.0, false));
    assert_close(
        &cpu("convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])", &img),
        &want,
        "sharpen",
    );

    let blur: Vec<Vec<f64>> = [1.0, 2.0, 1.0]
        .iter()
        .map(|a| [1.0, 2.0, 1.0].iter().map(|b| a * b / 16.0).collect())
        .collect();
    let want = quantise(30, 30, convolve_ref(&img, &blur, 0.0, false));
    assert_close(
        &cpu("convolve([1,2,1,2,4,2,1,2,1])", &img),
        &want,
        "flat kernel, divisor = sum",
    );

    // Sum 0: the divisor defaults to 1.
    let edge = vec![
        vec![-1.0, 0.0, 1.0],
        vec![-2.0, 0.0, 2.0],
        vec![-1.0, 0.0, 1.0],
    ];
    let want = quantise(30, 30, convolve_ref(&img, &edge, 0.5, false));
    assert_close(
        &cpu("convolve([[-1,0,1],[-2,0,2],[-1,0,1]], bias=0.5)", &img),
        &want,
        "sobel with bias",
    );

    let wide = vec![vec![1.0 / 5.0; 5]];
    let want = quantise(30, 30, convolve_ref(&img, &wide, 0.0, false));
    assert_close(
        &cpu("convolve(kernel=[[1,1,1,1,1]])", &img),
        &want,
        "5x1 kernel",
    );

    let big: Vec<Vec<f64>> = (0..15)
        .map(|j| (0..15).map(|i| ((i * j) % 7) as f64 - 2.0).collect())
        .collect();
    let text: Vec<String> = big
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
    let sum: f64 = big.iter().flatten().sum();
    let scaled: Vec<Vec<f64>> = big
        .iter()
        .map(|r| r.iter().map(|v| v / sum).collect())
        .collect();
    let want = quantise(30, 30, convolve_ref(&img, &scaled, 0.0, false));
    assert_close(
        &cpu(&format!("convolve([{}])", text.join(",")), &img),
        &want,
        "15x15 kernel",
    );
}

#[test]
fn unsharp_adds_the_difference_from_a_gaussian() {
    let img = common::test_image8(36, 28, 14);
    for (sigma, amount) in [(1.0, 1.0), (2.0, 0.5), (0.8, -1.0)] {
        let blurred = convolve_ref(&img, &gaussian_2d(sigma), 0.0, false);
        let want = quantise(36, 28, |x, y| {
            let (p, b) = (px(&img, x, y), blurred(x, y));
            [
                p[0] + amount * (p[0] - b[0]),
                p[1] + amount * (p[1] - b[1]),
                p[2] + amount * (p[2] - b[2]),
                p[3],
            ]
        });
        let got = cpu(&format!("unsharp(sigma={sigma}, amount={amount})"), &img);
        assert_close(&got, &want, &format!("unsharp {sigma} {amount}"));
    }
}

const LUMA: [f64; 3] = [0.2126, 0.7152, 0.0722];

#[test]
fn colour_filters_follow_their_formulas() {
    let img = common::test_image8(32, 24, 15);
    let luma = |p: [f64; 4]| LUMA[0] * p[0] + LUMA[1] * p[1] + LUMA[2] * p[2];
    let want = quantise(32, 24, |x, y| {
        let p = px(&img, x, y);
        [1.0 - p[0], 1.0 - p[1], 1.0 - p[2], p[3]]
    });
    assert_close(&cpu("invert", &img), &want, "invert");
    let want = quantise(32, 24, |x, y| {
        let p = px(&img, x, y);
        let l = luma(p);
        [l, l, l, p[3]]
    });
    assert_close(&cpu("grayscale", &img), &want, "grayscale");

    for (b, c, s, g) in [
        (0.1, 1.0, 1.0, 1.0),
        (-0.05, 1.4, 0.3, 1.0),
        (0.0, 0.8, 2.0, 2.2),
        (0.02, 1.0, 1.0, 0.4),
    ] {
        let want = quantise(32, 24, |x, y| {
            let p = px(&img, x, y);
            let l = luma(p);
            // FFmpeg's eq on luma: contrast and brightness around mid grey, then gamma.
            let mut v = c * (l - 0.5) + 0.5 + b;
            v = if v <= 0.0 {
                0.0
            } else {
                v.powf(1.0 / g).min(1.0)
            };
            let (cb, cr) = (p[2] - l, p[0] - l);
            let (r, bl) = (v + s * cr, v + s * cb);
            let gr = (v - LUMA[0] * r - LUMA[2] * bl) / LUMA[1];
            [r, gr, bl, p[3]]
        });
        let text = format!("eq(brightness={b}, contrast={c}, saturation={s}, gamma={g})");
        assert_close(&cpu(&text, &img), &want, &text);
    }
}

fn row8(values: &[u8]) -> Frame {
    let data = values.iter().flat_map(|&v| [v, v, v, 255]).collect();
    Frame::from_rgba8(values.len() as u32, 1, data)
}

fn red(frame: &Frame) -> Vec<u8> {
    let Pixels::Rgba8(p) = &frame.pixels else {
        panic!("8-bit expected")
    };
    p.chunks(4).map(|c| c[0]).collect()
}

#[test]
fn scale_gives_exact_values_on_simple_patterns() {
    // Same size is the identity for every kernel.
    let img = common::test_image8(29, 17, 16);
    for f in ["nearest", "bilinear", "bicubic", "lanczos3"] {
        assert_eq!(
            cpu(&format!("scale(29, 17, {f})"), &img),
            img,
            "{f} at the same size"
        );
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
    // Lanczos and bicubic keep a flat image flat, at any size.
    let flat = row8(&[77; 9]);
    for f in ["bicubic", "lanczos3"] {
        assert!(
            red(&cpu(&format!("scale(20, 3, {f})"), &flat))
                .iter()
                .all(|&v| v == 77),
            "{f} up"
        );
        assert!(
            red(&cpu(&format!("scale(4, 1, {f})"), &flat))
                .iter()
                .all(|&v| v == 77),
            "{f} down"
        );
    }
    // -1 keeps the aspect ratio; -2 rounds it to an even number.
    let out = cpu("scale(width=30)", &common::test_image8(60, 41, 17));
    assert_eq!((out.width, out.height), (30, 21));
    let out = cpu(
        "scale(width=30, height=-2)",
        &common::test_image8(60, 41, 17),
    );
    assert_eq!((out.width, out.height), (30, 20));
}

#[test]
fn crop_and_flips_move_pixels_exactly() {
    let img = common::test_image8(20, 12, 18);
    let check = |text: &str, w: u32, h: u32, map: &dyn Fn(u32, u32) -> (u32, u32)| {
        let out = cpu(text, &img);
        assert_eq!((out.width, out.height), (w, h), "{text}");
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = map(x, y);
                for c in 0..4 {
                    assert_eq!(
                        out.sample(x, y, c),
                        img.sample(sx, sy, c),
                        "{text} at ({x}, {y})"
                    );
                }
            }
        }
    };
    check("crop(x=3, y=2, width=7, height=5)", 7, 5, &|x, y| {
        (x + 3, y + 2)
    });
    check("hflip", 20, 12, &|x, y| (19 - x, y));
    check("vflip", 20, 12, &|x, y| (x, 11 - y));
    check("crop(2, 1, 10, 6) | hflip | vflip", 10, 6, &|x, y| {
        (2 + 9 - x, 1 + 5 - y)
    });
}

#[test]
fn sixteen_bit_frames_keep_their_depth_and_detail() {
    let img = common::test_image16(16, 8, 19);
    let out = cpu("eq(brightness=0)", &img);
    assert_eq!(out.depth(), tessera::Depth::Sixteen);
    assert!(
        out.max_abs_diff(&img).unwrap() <= 1,
        "an identity eq keeps 16-bit values"
    );
}

#[test]
fn strips_give_the_same_result_as_one_pass_over_the_frame() {
    // Thin strips put strip boundaries inside every stencil's and resample's halo.
    let img = common::test_image8(37, 53, 20);
    let chains = [
        "gblur(sigma=2.5) | unsharp(1, 2) | eq(contrast=1.3)",
        "convolve([[1,2,1],[2,4,2],[1,2,1],[0,1,0],[1,0,1]]) | vflip | crop(3, 7, 30, 40) | boxblur(3)",
        "scale(20, 91, lanczos3) | gblur(1) | scale(31, 17, bicubic) | vflip",
        "crop(0, 10, 37, 33) | vflip | scale(height=5, filter=bilinear)",
    ];
    for text in chains {
        let chain = Chain::parse(text).unwrap();
        let plan = plan::compile(&chain, img.width, img.height).unwrap();
        let whole = CpuBackend::with_strip_rows(10_000)
            .process(&plan, img.clone())
            .unwrap();
        for rows in [1, 2, 3, 7] {
            let strips = CpuBackend::with_strip_rows(rows)
                .process(&plan, img.clone())
                .unwrap();
            assert_eq!(strips, whole, "{text} in strips of {rows} rows");
        }
    }
}
