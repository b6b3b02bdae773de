//! The detail, edge, rank and denoising filters (sharpen, emboss, sobel, prewitt, edges, dilate,
//! erode, median, bilateral, denoise) against references written here in f64 on small frames of
//! every layout, and against the `ffmpeg` CLI where FFmpeg has the same filter with the same
//! meaning (sobel, prewitt, dilation, erosion, median on yuv420p and gray, nlmeans on noisy
//! testsrc2 clips; FFmpeg's bilateral is a recursive approximation, so bilateral is checked
//! against the exact filter only); and through the binary on both backends.

mod common;

use common::planes::{cpu, quantise, Values};
use common::{ffmpeg, s, test_frame, yuv};
use tessera::frame::{Format, Layout, Role};
use tessera::{plan, Chain, Frame};

/// `got` is within `tolerance` code values of `want` on every plane.
fn assert_within(got: &Frame, want: &Frame, tolerance: u32, what: &str) {
    let diffs = got
        .plane_diffs(want)
        .unwrap_or_else(|| panic!("{what}: formats differ"));
    assert!(
        diffs.iter().all(|&d| d <= tolerance),
        "{what} on {}: differs from the reference by {diffs:?} code values per plane",
        got.format.describe()
    );
}

/// Every layout: RGB(A) at 8 and 16 bits, Y′CbCr 4:2:0, 4:2:2 and 4:4:4 at 8 and 10 bits,
/// grey, with and without alpha; odd sizes.
fn formats(w: u32, h: u32) -> Vec<Format> {
    vec![
        Format::rgb(w, h, 8, true),
        Format::rgb(w, h, 16, false),
        yuv(w, h, Layout::YUV420, 8),
        yuv(w, h, Layout::YUV420.with_alpha(true), 8),
        yuv(w, h, Layout::YUV422, 10),
        yuv(w, h, Layout::YUV444, 8),
        yuv(w, h, Layout::GRAY, 8),
        yuv(w, h, Layout::GRAY.with_alpha(true), 10),
    ]
}

fn gaussian(sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let g: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = g.iter().sum();
    g.iter().map(|v| v / sum).collect()
}

/// Plane `plane` convolved with the outer product of `h` and `v` (edges replicated), directly.
fn blur_2d(plane: &Values, h: &[f64], v: &[f64]) -> Values {
    let (rx, ry) = ((h.len() / 2) as i64, (v.len() / 2) as i64);
    plane.map(|x, y| {
        let mut acc = 0.0;
        for (j, wv) in v.iter().enumerate() {
            for (i, wh) in h.iter().enumerate() {
                acc += wv * wh * plane.at(x + i as i64 - rx, y + j as i64 - ry);
            }
        }
        acc
    })
}

/// How many luma samples one sample of plane `p` spans, horizontally and vertically.
fn span(format: &Format, p: usize) -> (u32, u32) {
    let (h, v) = format.layout.shift(p);
    (1 << h, 1 << v)
}

/// Kr, Kb of the matrix the test frames' RGB is read through (BT.709, the default).
const LUMA: [f64; 3] = [0.2126, 0.7152, 0.0722];

/// The luma of an RGB frame in its codes, per pixel, as `grayscale` makes it.
fn rgb_luma(frame: &Frame) -> Values {
    let [r, g, b] = [0, 1, 2].map(|p| Values::of(frame, p));
    r.map(|x, y| LUMA[0] * r.at(x, y) + LUMA[1] * g.at(x, y) + LUMA[2] * b.at(x, y))
}

/// sharpen is an unsharp mask whose Gaussian has σ = radius / 2 (σ/2 again on chroma
/// subsampled by 2), on the colour planes; alpha kept.
#[test]
fn sharpen_is_an_unsharp_mask_of_sigma_half_the_radius() {
    for format in formats(37, 29) {
        let img = test_frame(format, 3);
        for (amount, radius) in [(1.0, 1.0), (2.5, 3.0), (0.5, 0.4)] {
            let sigma = radius / 2.0;
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let plane = Values::of(&img, p);
                    if format.role(p) == Role::Alpha {
                        return plane;
                    }
                    let (sx, sy) = span(&format, p);
                    let g = |s: u32| gaussian(sigma / s as f64);
                    let blurred = blur_2d(&plane, &g(sx), &g(sy));
                    plane.map(|x, y| {
                        let (v, b) = (plane.at(x, y), blurred.at(x, y));
                        v + amount * (v - b)
                    })
                })
                .collect();
            let text = format!("sharpen(amount={amount}, radius={radius})");
            assert_within(&cpu(&text, &img), &quantise(format, &planes), 1, &text);
        }
    }
}

/// The emboss kernel `strength · √2 · (−i·cos θ + j·sin θ)` at column offset i, row offset j.
fn emboss_kernel(strength: f64, angle: f64) -> [[f64; 3]; 3] {
    let (sin, cos) = angle.to_radians().sin_cos();
    std::array::from_fn(|j| {
        std::array::from_fn(|i| {
            let (i, j) = (i as f64 - 1.0, j as f64 - 1.0);
            strength * 2f64.sqrt() * (-i * cos + j * sin)
        })
    })
}

/// A relief of `plane`: mid grey (`zero + scale / 2`) plus the kernel over samples less `zero`.
fn relief(plane: &Values, k: &[[f64; 3]; 3], zero: f64, scale: f64) -> Values {
    plane.map(|x, y| {
        let mut acc = 0.0;
        for (j, row) in k.iter().enumerate() {
            for (i, w) in row.iter().enumerate() {
                acc += w * (plane.at(x + i as i64 - 1, y + j as i64 - 1) - zero);
            }
        }
        acc + zero + scale / 2.0
    })
}

/// emboss is a grey relief: luma (RGB: the luma of each pixel, in all three planes) becomes
/// mid grey plus the derivative towards the light, chroma becomes neutral, alpha is kept.
#[test]
fn emboss_is_mid_grey_plus_the_derivative_towards_the_light() {
    for format in formats(33, 21) {
        let img = test_frame(format, 5);
        for (strength, angle) in [(1.0, 135.0), (2.5, 30.0), (0.5, -90.0)] {
            let k = emboss_kernel(strength, angle);
            let planes: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let plane = Values::of(&img, p);
                    let (zero, scale) = (format.zero(p), format.scale(p));
                    match format.role(p) {
                        Role::Alpha => plane,
                        Role::Cb | Role::Cr => plane.map(|_, _| zero),
                        Role::Luma => relief(&plane, &k, zero, scale),
                        _ => relief(&rgb_luma(&img), &k, zero, scale),
                    }
                })
                .collect();
            let text = format!("emboss(strength={strength}, angle={angle})");
            assert_within(&cpu(&text, &img), &quantise(format, &planes), 1, &text);
        }
    }
    // At 135° and strength 1, the classic emboss kernel less its centre.
    let img = test_frame(yuv(40, 30, Layout::YUV420, 8), 6);
    let classic = cpu(
        "convolve([[-2,-1,0],[-1,0,1],[0,1,2]], divisor=1, bias=0.5, planes=\"y\")",
        &img,
    );
    let ours = cpu("emboss", &img);
    assert_eq!(
        Values::of(&ours, 0).v,
        Values::of(&classic, 0).v,
        "emboss at 135° is the classic kernel"
    );
}

/// FFmpeg's gradient magnitude of one plane, in f64 (its f32 sums of integers are exact):
/// floor(sqrt(gx² + gy²) · scale + delta), clamped; `at` reads the plane with its edges.
fn gradient(
    at: &dyn Fn(i64, i64) -> f64,
    x: i64,
    y: i64,
    side: f64,
    scale: f64,
    delta: f64,
) -> f64 {
    let n = |i: i64, j: i64| at(x + i, y + j);
    let gx = (n(1, -1) - n(-1, -1)) + side * (n(1, 0) - n(-1, 0)) + (n(1, 1) - n(-1, 1));
    let gy = (n(-1, 1) - n(-1, -1)) + side * (n(0, 1) - n(0, -1)) + (n(1, 1) - n(1, -1));
    ((gx * gx + gy * gy).sqrt() * scale + delta).floor()
}

/// sobel and prewitt are FFmpeg's per-plane magnitudes, every plane by default (alpha
/// included), delta in 8-bit codes scaled to the depth; row and column −1 are row and column 1
/// (FFmpeg's edges), the last ones replicated. Code for code up to 12 bits.
#[test]
fn sobel_and_prewitt_are_gradient_magnitudes_of_each_plane() {
    for format in formats(31, 23) {
        let img = test_frame(format, 7);
        for (name, side) in [("sobel", 2.0), ("prewitt", 1.0)] {
            for (scale, delta, planes) in
                [(1.0, 0.0, None), (0.5, 16.0, Some("y")), (2.0, -10.0, None)]
            {
                let chosen = |p: usize| match planes {
                    None => true,
                    Some(_) => p == 0 && format.role(0) == Role::Luma,
                };
                if planes.is_some() && format.role(0) != Role::Luma {
                    continue;
                }
                let want: Vec<Values> = (0..format.planes())
                    .map(|p| {
                        let plane = Values::of(&img, p);
                        if !chosen(p) {
                            return plane;
                        }
                        let d = delta * format.unit();
                        // FFmpeg's edges: −1 mirrored to 1, the far side replicated.
                        let at = |x: i64, y: i64| {
                            let m =
                                |c: i64, n: usize| if c == -1 { 1.min(n as i64 - 1) } else { c };
                            plane.at(m(x, plane.w), m(y, plane.h))
                        };
                        plane.map(|x, y| gradient(&at, x, y, side, scale, d))
                    })
                    .collect();
                let text = match planes {
                    Some(p) => format!("{name}(planes=\"{p}\", scale={scale}, delta={delta})"),
                    None => format!("{name}(scale={scale}, delta={delta})"),
                };
                // Exact in f32 up to 12 bits; 16-bit gradients' squares pass 2^24, where f32
                // (FFmpeg's arithmetic too) rounds before the floor.
                let tolerance = u32::from(format.bits > 12);
                assert_within(
                    &cpu(&text, &img),
                    &quantise(format, &want),
                    tolerance,
                    &text,
                );
            }
        }
    }
}

/// edges is the Sobel magnitude of luma over 4 (RGB: of each pixel's luma, in all three planes),
/// from black, rounded; chroma neutral; alpha kept.
#[test]
fn edges_is_the_luma_gradient_as_a_grey_picture() {
    for format in formats(29, 25) {
        let img = test_frame(format, 9);
        for scale in [1.0, 4.0] {
            let luma = match format.role(0) {
                Role::Luma => Values::of(&img, 0),
                _ => rgb_luma(&img),
            };
            let want: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let zero = format.zero(p);
                    match format.role(p) {
                        Role::Alpha => Values::of(&img, p),
                        Role::Cb | Role::Cr => luma.map(|_, _| zero),
                        _ => {
                            let at = |x: i64, y: i64| luma.at(x, y);
                            luma.map(|x, y| gradient(&at, x, y, 2.0, scale / 4.0, zero + 0.5))
                        }
                    }
                })
                .collect();
            let text = format!("edges(scale={scale})");
            // RGB's luma is an unrounded intermediate of f32 sums: a magnitude within an ulp
            // of a half may round the other way.
            assert_within(&cpu(&text, &img), &quantise(format, &want), 1, &text);
        }
    }
}

/// dilate and erode are the largest and smallest sample over the (2r+1)² square of every plane,
/// alpha included, chroma's window ceil(r / subsampling) samples each side.
#[test]
fn dilate_and_erode_take_the_extremes_of_a_square() {
    for format in formats(35, 27) {
        let img = test_frame(format, 11);
        for radius in [1i64, 2, 5] {
            for (name, max) in [("dilate", true), ("erode", false)] {
                let want: Vec<Values> = (0..format.planes())
                    .map(|p| {
                        let plane = Values::of(&img, p);
                        let (sx, sy) = span(&format, p);
                        let rx = (radius + sx as i64 - 1) / sx as i64;
                        let ry = (radius + sy as i64 - 1) / sy as i64;
                        plane.map(|x, y| {
                            let window = (-ry..=ry)
                                .flat_map(|j| (-rx..=rx).map(move |i| (i, j)))
                                .map(|(i, j)| plane.at(x + i, y + j));
                            if max {
                                window.fold(f64::MIN, f64::max)
                            } else {
                                window.fold(f64::MAX, f64::min)
                            }
                        })
                    })
                    .collect();
                let text = format!("{name}(radius={radius})");
                assert_within(&cpu(&text, &img), &quantise(format, &want), 0, &text);
            }
        }
    }
}

/// The sample at `percentile` of each plane's sorted (2rx+1)×(2ry+1) window, edges replicated
/// (the rank truncated from `(window − 1) · percentile` in f32, as FFmpeg), every plane,
/// chroma's radii ceil(r / subsampling).
#[test]
fn median_picks_the_percentile_of_the_window() {
    for format in formats(27, 19) {
        let img = test_frame(format, 17);
        for (radius, radius_v, percentile) in [(1i64, 0i64, 0.5f32), (3, 1, 0.25), (2, 4, 1.0)] {
            let want: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let plane = Values::of(&img, p);
                    let (sx, sy) = span(&format, p);
                    let rv = if radius_v == 0 { radius } else { radius_v };
                    let rx = (radius + sx as i64 - 1) / sx as i64;
                    let ry = (rv + sy as i64 - 1) / sy as i64;
                    let half = (2 * rx * ry + rx + ry) as f32;
                    let k = (half * 2.0 * percentile) as usize;
                    plane.map(|x, y| {
                        let mut window: Vec<f64> = (-ry..=ry)
                            .flat_map(|j| (-rx..=rx).map(move |i| (i, j)))
                            .map(|(i, j)| plane.at(x + i, y + j))
                            .collect();
                        window.sort_by(f64::total_cmp);
                        window[k]
                    })
                })
                .collect();
            let text =
                format!("median(radius={radius}, radiusV={radius_v}, percentile={percentile})");
            assert_within(&cpu(&text, &img), &quantise(format, &want), 0, &text);
        }
    }
}

/// bilateral is the exact bilateral filter: each sample the mean of its ceil(2σ) window weighted
/// by exp(−d²/2σs²) · exp(−Δ²/2σr²), σs in luma pixels (halved on subsampled chroma axes), σr a
/// fraction of the largest code; luma (the first plane) by default.
#[test]
fn bilateral_is_the_exact_edge_preserving_average() {
    for format in formats(25, 19) {
        let img = test_frame(format, 19);
        for (sigma_s, sigma_r, planes) in
            [(2.0, 0.1, None), (1.0, 0.3, Some("all")), (3.0, 0.05, None)]
        {
            let want: Vec<Values> = (0..format.planes())
                .map(|p| {
                    let plane = Values::of(&img, p);
                    if planes.is_none() && p != 0 {
                        return plane;
                    }
                    let (sx, sy) = span(&format, p);
                    let (gx, gy) = (sigma_s / sx as f64, sigma_s / sy as f64);
                    let (rx, ry) = ((2.0 * gx).ceil() as i64, (2.0 * gy).ceil() as i64);
                    let gr = sigma_r * format.max_code() as f64;
                    plane.map(|x, y| {
                        let c = plane.at(x, y);
                        let (mut sum, mut weights) = (0.0, 0.0);
                        for j in -ry..=ry {
                            for i in -rx..=rx {
                                let v = plane.at(x + i, y + j);
                                let d = (i * i) as f64 / (2.0 * gx * gx)
                                    + (j * j) as f64 / (2.0 * gy * gy)
                                    + (v - c).powi(2) / (2.0 * gr * gr);
                                sum += (-d).exp() * v;
                                weights += (-d).exp();
                            }
                        }
                        sum / weights
                    })
                })
                .collect();
            let text = match planes {
                Some(p) => format!("bilateral(sigmaS={sigma_s}, sigmaR={sigma_r}, planes=\"{p}\")"),
                None => format!("bilateral(sigmaS={sigma_s}, sigmaR={sigma_r})"),
            };
            assert_within(&cpu(&text, &img), &quantise(format, &want), 1, &text);
        }
    }
}

/// Non-local means as FFmpeg's nlmeans computes it, in f64: each sample the mean of the samples of
/// its research window (half-sizes `rx`, `ry`) that lie in the plane, weighted by
/// exp(−d / h²), h = 10·strength, d the sum of squared differences of the patches (half-sizes
/// `px`, `py`, edges replicated) in 8-bit units, weight 0 from d = floor(ln(255)·h²); the centre
/// weighs 1.
fn nl_means(
    plane: &Values,
    (rx, ry): (i64, i64),
    (px, py): (i64, i64),
    strength: f64,
    bits: u8,
) -> Values {
    let h2 = (10.0 * strength).powi(2);
    let cutoff = (255f64.ln() * h2).floor();
    let unit = 0.25f64.powi(bits as i32 - 8);
    let (w, h) = (plane.w as i64, plane.h as i64);
    plane.map(|x, y| {
        let (mut sum, mut weights) = (plane.at(x, y), 1.0);
        for dy in -ry..=ry {
            for dx in -rx..=rx {
                let (cx, cy) = (x + dx, y + dy);
                if (dx, dy) == (0, 0) || !(0..w).contains(&cx) || !(0..h).contains(&cy) {
                    continue;
                }
                let mut d = 0.0;
                for j in -py..=py {
                    for i in -px..=px {
                        d += (plane.at(x + i, y + j) - plane.at(cx + i, cy + j)).powi(2);
                    }
                }
                let d = d * unit;
                if d < cutoff {
                    let weight = (-d / h2).exp();
                    sum += weight * plane.at(cx, cy);
                    weights += weight;
                }
            }
        }
        sum / weights
    })
}

/// denoise is FFmpeg's non-local means on every layout and depth, sizes in luma pixels (the
/// smallest that cover them on subsampled chroma), colour planes by default: within a code value
/// of the f64 maths on both backends.
#[test]
fn denoise_is_non_local_means() {
    let mut gpu = common::gpu();
    for format in formats(25, 19) {
        let img = test_frame(format, 23);
        for (strength, p, r, planes) in [
            (1.0, 3, 7, None),
            (6.0, 5, 5, None),
            (20.0, 1, 9, Some("all")),
            (12.0, 7, 3, None),
        ] {
            let colour = format.layout.colour_planes();
            let want: Vec<Values> = (0..format.planes())
                .map(|plane| {
                    let values = Values::of(&img, plane);
                    if planes.is_none() && plane >= colour {
                        return values;
                    }
                    let (sx, sy) = span(&format, plane);
                    let cover = |half: i64, span: u32| (half + span as i64 - 1) / span as i64;
                    let (hp, hr) = (p / 2, r / 2);
                    nl_means(
                        &values,
                        (cover(hr, sx), cover(hr, sy)),
                        (cover(hp, sx), cover(hp, sy)),
                        strength,
                        format.bits,
                    )
                })
                .collect();
            let want = quantise(format, &want);
            let text = match planes {
                Some(pl) => format!("denoise({strength}, p={p}, r={r}, planes=\"{pl}\")"),
                None => format!("denoise(strength={strength}, p={p}, r={r})"),
            };
            assert_within(&cpu(&text, &img), &want, 1, &text);
            if let Some(gpu) = &mut gpu {
                let chain = Chain::parse(&text).unwrap();
                let plan = plan::compile(&chain, &format).unwrap();
                let got = tessera::Backend::process(gpu, &plan, img.clone()).unwrap();
                assert_within(&got, &want, 1, &format!("{text} on the GPU"));
            }
        }
    }
}

/// A lossless (FFV1) testsrc2 clip of `pix_fmt` with FFmpeg's temporal noise of strength 20 on
/// every plane, and the same frames without the noise, decoded.
fn noisy_clip(dir: &std::path::Path, pix_fmt: &str) -> (std::path::PathBuf, Vec<u8>) {
    let source = format!("testsrc2=s=96x64:r=10:d=0.3,format={pix_fmt}");
    let (noisy, clean) = (
        dir.join(format!("noisy-{pix_fmt}.mkv")),
        dir.join(format!("clean-{pix_fmt}.mkv")),
    );
    for (path, filter) in [(&noisy, ",noise=alls=20:allf=t"), (&clean, "")] {
        let graph = format!("{source}{filter}");
        ffmpeg(&["-f", "lavfi", "-i", &graph, "-c:v", "ffv1", s(path)]);
    }
    (noisy, common::decoded(&clean, pix_fmt))
}

/// PSNR in dB of 8-bit samples `got` against `want`, over plane `p` of every frame (`planes`:
/// each plane's size in bytes).
fn plane_psnr(got: &[u8], want: &[u8], planes: &[usize], p: usize) -> f64 {
    assert_eq!(got.len(), want.len(), "different numbers of samples");
    let frame: usize = planes.iter().sum();
    let at: usize = planes[..p].iter().sum();
    let (mut sum, mut n) = (0.0, 0.0);
    for (a, b) in got.chunks(frame).zip(want.chunks(frame)) {
        for (x, y) in a[at..at + planes[p]].iter().zip(&b[at..at + planes[p]]) {
            sum += (*x as f64 - *y as f64).powi(2);
            n += 1.0;
        }
    }
    10.0 * (255.0f64 * 255.0 / (sum / n).max(1e-12)).log10()
}

/// Through the binary, denoise gives what FFmpeg's nlmeans gives for the same s, p and r (chroma's
/// sizes given to nlmeans as `pc` and `rc`, since tessera scales them for 4:2:0), and takes noise
/// out: the PSNR against the frames without noise rises.
#[test]
fn denoise_matches_ffmpegs_nlmeans_and_takes_noise_out() {
    let dir = tempfile::tempdir().unwrap();
    // Floors under the PSNR measured against nlmeans (yuv420p: 59.5, 62.2, 62.3 dB; gray:
    // 58.4 dB): both sum f32 weights, in different orders, so a few samples round the other way.
    for (pix_fmt, planes, ours, theirs, floor, gain) in [
        (
            "yuv420p",
            &[96 * 64, 48 * 32, 48 * 32][..],
            "denoise(4)",
            "nlmeans=s=4:p=3:r=7:pc=3:rc=5",
            50.0,
            3.0,
        ),
        (
            "gray",
            &[96 * 64][..],
            "denoise(10, p=7, r=15)",
            "nlmeans=s=10",
            50.0,
            3.0,
        ),
    ] {
        let (noisy, clean) = noisy_clip(dir.path(), pix_fmt);
        let (ours_out, theirs_out) = (
            dir.path().join(format!("tessera-{pix_fmt}.mkv")),
            dir.path().join(format!("ffmpeg-{pix_fmt}.mkv")),
        );
        let (code, _, err) = common::tessera(&[
            "process",
            s(&noisy),
            "-o",
            s(&ours_out),
            "--codec",
            "ffv1",
            "--chain",
            ours,
            "--backend",
            "cpu",
        ]);
        assert_eq!(code, 0, "{ours}: {err}");
        ffmpeg(&[
            "-i",
            s(&noisy),
            "-vf",
            theirs,
            "-c:v",
            "ffv1",
            s(&theirs_out),
        ]);
        let got = common::decoded(&ours_out, pix_fmt);
        let want = common::decoded(&theirs_out, pix_fmt);
        let input = common::decoded(&noisy, pix_fmt);
        for p in 0..planes.len() {
            let db = plane_psnr(&got, &want, planes, p);
            let before = plane_psnr(&input, &clean, planes, p);
            let after = plane_psnr(&got, &clean, planes, p);
            eprintln!(
                "{ours} on {pix_fmt} plane {p}: {db:.1} dB against {theirs}; against the clean \
                 frames {before:.1} dB before, {after:.1} dB after"
            );
            assert!(db >= floor, "{ours} plane {p}: {db:.1} dB against {theirs}");
            assert!(
                after >= before + gain,
                "{ours} plane {p}: {before:.1} dB before, {after:.1} dB after"
            );
        }
    }
}

/// A frame's planes one after another, as FFmpeg's rawvideo holds them (8-bit only).
fn raw(frame: &Frame) -> Vec<u8> {
    (0..frame.format.planes())
        .flat_map(|p| frame.plane8(p).data.to_vec())
        .collect()
}

/// `frame` (8-bit `pix_fmt`) through FFmpeg's `filter`, back as a frame of the same format.
fn ffmpeg_filter(frame: &Frame, pix_fmt: &str, filter: &str) -> Frame {
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.raw"), dir.path().join("out.raw"));
    std::fs::write(&input, raw(frame)).unwrap();
    let size = format!("{}x{}", frame.format.width, frame.format.height);
    ffmpeg(&[
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        "-s",
        &size,
        "-i",
        s(&input),
        "-vf",
        filter,
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        s(&output),
    ]);
    let bytes = std::fs::read(&output).unwrap();
    let mut out = Frame::new(frame.format);
    let mut at = 0;
    for p in 0..frame.format.planes() {
        let plane = out.plane8_mut(p);
        let n = plane.data.len();
        plane.data.copy_from_slice(&bytes[at..at + n]);
        at += n;
    }
    assert_eq!(
        at,
        bytes.len(),
        "{filter}: FFmpeg's frame is {} bytes",
        bytes.len()
    );
    out
}

/// The frames FFmpeg and tessera both filter: Y′CbCr 4:2:0 and grey at 8 bits, odd-sized.
fn ffmpeg_frames() -> Vec<(Frame, &'static str)> {
    vec![
        (test_frame(yuv(67, 45, Layout::YUV420, 8), 21), "yuv420p"),
        (test_frame(yuv(67, 45, Layout::GRAY, 8), 22), "gray"),
    ]
}

/// sobel and prewitt are FFmpeg's code for code, edges included: its parameters, its
/// truncation, its edges (row and column −1 mirrored), every plane by default so that neutral
/// chroma goes to `delta`.
#[test]
fn sobel_and_prewitt_match_ffmpeg_bit_for_bit() {
    for (frame, pix_fmt) in ffmpeg_frames() {
        for (ours, theirs) in [
            ("sobel", "sobel"),
            ("sobel(scale=0.5, delta=20)", "sobel=scale=0.5:delta=20"),
            ("prewitt", "prewitt"),
            ("prewitt(scale=1.5, delta=-8)", "prewitt=scale=1.5:delta=-8"),
            ("sobel(planes=\"y\")", "sobel=planes=1"),
        ] {
            let want = ffmpeg_filter(&frame, pix_fmt, theirs);
            let got = cpu(ours, &frame);
            assert_eq!(
                got.plane_diffs(&want),
                Some(vec![0; frame.format.planes()]),
                "{ours} against FFmpeg's {theirs} on {pix_fmt}"
            );
        }
    }
}

/// dilate and erode at radius 1 are FFmpeg's dilation and erosion (all neighbours, no
/// thresholds), bit for bit on every plane, edges included: FFmpeg replicates them too.
#[test]
fn dilate_and_erode_match_ffmpeg_bit_for_bit() {
    for (frame, pix_fmt) in ffmpeg_frames() {
        for (ours, theirs) in [("dilate", "dilation"), ("erode", "erosion")] {
            let want = ffmpeg_filter(&frame, pix_fmt, theirs);
            let got = cpu(ours, &frame);
            assert_eq!(
                got.plane_diffs(&want),
                Some(vec![0; frame.format.planes()]),
                "{ours} against FFmpeg's {theirs} on {pix_fmt}"
            );
        }
    }
}

/// median is FFmpeg's median bit for bit, edges included, where the radii mean the same on
/// every plane: radius 1 on yuv420p (chroma's radius 1 too), any radii on gray.
#[test]
fn median_matches_ffmpeg_bit_for_bit() {
    let [(yuv420, _), (gray, _)] = <[_; 2]>::try_from(ffmpeg_frames()).ok().unwrap();
    for (frame, pix_fmt, ours, theirs) in [
        (&yuv420, "yuv420p", "median", "median"),
        (
            &yuv420,
            "yuv420p",
            "median(percentile=0.2)",
            "median=percentile=0.2",
        ),
        (
            &gray,
            "gray",
            "median(3, radiusV=2, percentile=0.7)",
            "median=radius=3:radiusV=2:percentile=0.7",
        ),
        (&gray, "gray", "median(7)", "median=radius=7"),
    ] {
        let want = ffmpeg_filter(frame, pix_fmt, theirs);
        let got = cpu(ours, frame);
        assert_eq!(
            got.plane_diffs(&want),
            Some(vec![0; frame.format.planes()]),
            "{ours} against FFmpeg's {theirs} on {pix_fmt}"
        );
    }
}

/// Through the binary, each filter gives the same picture on both backends (PNG in, PNG out).
#[test]
fn the_binary_runs_them_on_both_backends() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    common::write_png8(&input, 45, 31, 13);
    for chain in [
        "sharpen(2, 3)",
        "emboss",
        "sobel(scale=0.5)",
        "prewitt",
        "edges(2)",
        "dilate(2)",
        "erode",
        "median(2, percentile=0.3)",
        "bilateral(2, 0.2)",
        "denoise(5, p=5, r=5)",
    ] {
        let mut outputs = Vec::new();
        for backend in ["cpu", "gpu"] {
            let out = dir.path().join(format!("{chain}.{backend}.png"));
            let (code, _, err) = common::tessera(&[
                "process",
                s(&input),
                "-o",
                s(&out),
                "--chain",
                chain,
                "--backend",
                backend,
            ]);
            assert_eq!(code, 0, "{chain} on {backend}: {err}");
            outputs.push(image::open(&out).unwrap().into_rgba8().into_raw());
        }
        let worst = outputs[0]
            .iter()
            .zip(&outputs[1])
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(worst <= Some(1), "{chain}: backends differ by {worst:?}");
    }
}

/// Parameters out of range are errors naming the parameter.
#[test]
fn bad_parameters_are_named() {
    for (chain, name) in [
        ("sharpen(radius=0)", "radius"),
        ("emboss(strength=-1)", "strength"),
        ("sobel(scale=-1)", "scale"),
        ("prewitt(delta=300)", "delta"),
        ("dilate(radius=33)", "radius"),
        ("erode(planes=\"q\")", "planes"),
        ("median(radius=8)", "radius"),
        ("median(percentile=1.5)", "percentile"),
        ("bilateral(sigmaS=9)", "sigmaS"),
        ("bilateral(sigmaR=0)", "sigmaR"),
        ("denoise(0.5)", "strength"),
        ("denoise(p=4)", "p"),
        ("denoise(r=101)", "r"),
        ("denoise(r=8)", "r"),
    ] {
        let err = match Chain::parse(chain) {
            Err(e) => e.render(chain),
            Ok(c) => match plan::compile(&c, &yuv(8, 8, Layout::YUV420, 8)) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{chain} was accepted"),
            },
        };
        assert!(err.contains(name), "{chain}: {err}");
    }
}
