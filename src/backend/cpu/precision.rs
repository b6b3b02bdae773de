//! How close the fixed-point arithmetic comes to exact arithmetic. Each linear filter runs on
//! natural-looking frames (smooth gradients, soft and hard edges, fine texture) and is compared
//! with an f64 reference computed directly from the plan's own weights (a blur's taps as one
//! 2-D kernel, a resample's two tables), edges clamped, result clamped to the codes but not
//! rounded. DESIGN.md asks for at least 50 dB PSNR on every plane; rounding the exact result
//! once to codes measures about 59 dB at 8 bits. `cargo test --lib precision -- --nocapture`
//! prints the figures.

use super::{CpuBackend, Isa};
use crate::backend::Backend;
use crate::chain::Chain;
use crate::frame::{Colour, Format, Frame, Layout, Matrix};
use crate::plan::{self, Pass, PassKind};

/// A frame of `format` whose planes look like a photograph's.
fn natural(format: Format) -> Frame {
    let mut frame = Frame::new(format);
    let max = format.max_code() as f64;
    for p in 0..format.planes() {
        let (w, h) = format.plane_size(p);
        let (w, h) = (w as usize, h as usize);
        let value = |x: usize, y: usize| {
            let (u, v) = (x as f64 / w as f64, y as f64 / h as f64);
            let tau = std::f64::consts::TAU;
            let smooth = 0.45
                + 0.2 * (tau * (1.3 * u + 0.1 * p as f64)).sin() * (tau * 0.8 * v).cos()
                + 0.15 * (u - v);
            let (dx, dy) = (u - 0.35, v - 0.55);
            let disc = 0.18 / (1.0 + ((dx * dx + dy * dy).sqrt() * 9.0).powi(8));
            let bar = if (0.6..0.75).contains(&u) && (0.2..0.8).contains(&v) {
                -0.15
            } else {
                0.0
            };
            let hash =
                (x as u32).wrapping_mul(2_654_435_761) ^ (y as u32).wrapping_mul(2_246_822_519);
            let grain = ((hash >> 16) % 1000) as f64 / 1000.0 - 0.5;
            let texture = 0.03 * (0.9 * x as f64).sin() * (1.1 * y as f64).sin() + 0.04 * grain;
            ((smooth + disc + bar + texture).clamp(0.0, 1.0) * max).round() as u32
        };
        if format.is_wide() {
            let mut plane = frame.plane16_mut(p);
            for y in 0..h {
                for (x, s) in plane.row(y).iter_mut().enumerate() {
                    *s = value(x, y) as u16;
                }
            }
        } else {
            let mut plane = frame.plane8_mut(p);
            for y in 0..h {
                for (x, s) in plane.row(y).iter_mut().enumerate() {
                    *s = value(x, y) as u8;
                }
            }
        }
    }
    frame
}

/// Plane `p` of a frame as f64 codes, with its width.
fn codes(frame: &Frame, p: usize) -> (Vec<f64>, usize) {
    let (w, h) = frame.format.plane_size(p);
    let (w, h) = (w as usize, h as usize);
    let plane = frame.plane(p);
    let mut v = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            v.push(plane.get(x, y) as f64);
        }
    }
    (v, w)
}

/// `Σⱼ Σᵢ v[y][j] · h[x][i] · input[clamp(sv(y) + j)][clamp(sh(x) + i)]` for every output:
/// a separable kernel applied as one 2-D kernel, in f64.
#[allow(clippy::too_many_arguments)]
fn direct(
    input: &[f64],
    (iw, ih): (usize, usize),
    (ow, oh): (usize, usize),
    h_taps: usize,
    h: impl Fn(usize) -> (i64, Vec<f64>),
    v_taps: usize,
    v: impl Fn(usize) -> (i64, Vec<f64>),
) -> Vec<f64> {
    let hs: Vec<_> = (0..ow).map(&h).collect();
    let mut out = Vec::with_capacity(ow * oh);
    for y in 0..oh {
        let (sv, wv) = v(y);
        for (sh, wh) in &hs {
            let mut sum = 0.0;
            for (j, wv) in wv.iter().enumerate().take(v_taps) {
                let row = (sv + j as i64).clamp(0, ih as i64 - 1) as usize * iw;
                for (i, wh) in wh.iter().enumerate().take(h_taps) {
                    let x = (sh + i as i64).clamp(0, iw as i64 - 1) as usize;
                    sum += wv * wh * input[row + x];
                }
            }
            out.push(sum);
        }
    }
    out
}

/// The exact result of `pass` on plane `p` of `input`, clamped to `0 ..= max`.
fn reference(pass: &Pass, p: usize, input: &[f64], max: f64) -> Vec<f64> {
    let (iw, ih) = pass.input.plane_size(p);
    let (ow, oh) = pass.output.plane_size(p);
    let (isize_, osize) = ((iw as usize, ih as usize), (ow as usize, oh as usize));
    let centred = |w: &[f32]| {
        let r = (w.len() / 2) as i64;
        let w: Vec<f64> = w.iter().map(|&w| w as f64).collect();
        (w.len(), move |i: usize| (i as i64 - r, w.clone()))
    };
    let blur = |h: &[f32], v: &[f32]| {
        let ((ht, hf), (vt, vf)) = (centred(h), centred(v));
        direct(input, isize_, osize, ht, hf, vt, vf)
    };
    let out = match &pass.kind {
        PassKind::Blur(planes) => {
            let k = planes[p].as_ref().expect("a kernel on every plane");
            blur(&k.h, &k.v)
        }
        PassKind::Unsharp { planes, amount } => {
            let k = planes[p].as_ref().expect("a kernel on every plane");
            let blurred = blur(&k.h, &k.v);
            let a = *amount as f64;
            input
                .iter()
                .zip(&blurred)
                .map(|(i, b)| i + a * (i - b))
                .collect()
        }
        PassKind::Resample(planes) => {
            let r = planes[p].as_ref().expect("every plane resampled");
            let table = |t: &crate::op::ResampleTable| {
                let taps = t.taps as usize;
                let t = t.clone();
                (taps, move |i: usize| {
                    let w = t.weights[i * taps..(i + 1) * taps]
                        .iter()
                        .map(|&w| w as f64);
                    (t.starts[i] as i64, w.collect())
                })
            };
            let ((ht, hf), (vt, vf)) = (table(&r.h), table(&r.v));
            direct(input, isize_, osize, ht, hf, vt, vf)
        }
        other => panic!("no reference for {other:?}"),
    };
    out.into_iter().map(|v| v.clamp(0.0, max)).collect()
}

/// PSNR of `got` against `exact`, peak `max`, and the share of samples that are not `exact`
/// rounded to the nearest code.
fn psnr(got: &[f64], exact: &[f64], max: f64) -> (f64, f64) {
    let n = got.len() as f64;
    let mse = got
        .iter()
        .zip(exact)
        .map(|(g, e)| (g - e) * (g - e))
        .sum::<f64>()
        / n;
    let off = got
        .iter()
        .zip(exact)
        .filter(|(g, e)| **g != e.round())
        .count() as f64
        / n;
    (10.0 * (max * max / mse.max(1e-12)).log10(), off)
}

/// PSNR per plane of `text`'s fixed-point result on `frame` against the f64 reference. A
/// blur's reference takes its luma kernel from `luma` (a length in luma pixels to weights),
/// scaled on subsampled chroma (σ/2 on 4:2:0), and checks that the plan's kernels are those.
fn measure(text: &str, frame: &Frame, luma: Option<&dyn Fn(f64) -> Vec<f32>>) -> Vec<(f64, f64)> {
    let chain = Chain::parse(text).unwrap();
    let plan = plan::compile(&chain, &frame.format).unwrap();
    assert_eq!(plan.passes.len(), 1, "`{text}` is one pass");
    let pass = &plan.passes[0];
    if let (Some(luma), PassKind::Blur(planes)) = (luma, &pass.kind) {
        for (p, k) in planes.iter().enumerate().take(frame.format.planes()) {
            let (sh, sv) = frame.format.layout.shift(p);
            let k = k.as_ref().expect("a kernel on every plane");
            assert_eq!(
                *k.h,
                luma((1u32 << sh) as f64),
                "`{text}`: plane {p}'s kernel"
            );
            assert_eq!(
                *k.v,
                luma((1u32 << sv) as f64),
                "`{text}`: plane {p}'s kernel"
            );
        }
    }
    let max = frame.format.max_code() as f64;
    let mut backend = CpuBackend::with_isa(Isa::detect());
    let out = backend.process(&plan, frame.clone()).unwrap();
    (0..frame.format.planes())
        .map(|p| {
            let (input, _) = codes(frame, p);
            let (got, _) = codes(&out, p);
            psnr(&got, &reference(pass, p, &input, max), max)
        })
        .collect()
}

/// Every linear filter reaches 50 dB PSNR on every plane, in fixed point on 8-bit 4:2:0 (as
/// video comes) and 10-bit 4:2:2, and in the f32 that 12-bit 4:4:4 runs in.
#[test]
fn fixed_point_filters_reach_50_db_against_exact_arithmetic() {
    let video = Colour::video(Matrix::Bt709, false);
    let cases = [
        (Format::new(640, 360, Layout::YUV420, 8, video), true),
        (Format::new(320, 180, Layout::YUV422, 10, video), false),
        (Format::new(320, 180, Layout::YUV444, 12, video), false),
    ];
    for (format, all) in cases {
        let frame = natural(format);
        let (w, h) = (format.width * 2 / 3, format.height * 2 / 3);
        let scale = format!("scale({w}, {h}, lanczos3)");
        // A Gaussian of σ luma pixels is one of σ/s samples on a plane s luma pixels a sample.
        let gauss = |sigma: f64| move |s: f64| plan::gaussian_weights(sigma / s);
        let (gauss3, gauss1) = (gauss(3.0), gauss(1.0));
        let box3 = |s: f64| plan::box_weights(7.0 / s);
        type Luma<'a> = Option<&'a dyn Fn(f64) -> Vec<f32>>;
        let mut chains: Vec<(&str, Luma)> = vec![("gblur(sigma=3)", Some(&gauss3))];
        if all {
            chains.push(("gblur(sigma=1)", Some(&gauss1)));
            chains.push(("boxblur(radius=3)", Some(&box3)));
        }
        chains.push((&scale, None));
        chains.push(("unsharp(sigma=1, amount=1)", None));
        for (text, luma) in chains {
            let planes = measure(text, &frame, luma);
            let figures: Vec<String> = planes
                .iter()
                .map(|(db, off)| format!("{db:.1} dB ({:.2}% off by a code)", off * 100.0))
                .collect();
            println!(
                "{:<28} {:<40} {}",
                text,
                format.describe(),
                figures.join("  ")
            );
            for (p, (db, _)) in planes.iter().enumerate() {
                assert!(
                    *db >= 50.0,
                    "`{text}` on {}: plane {p} at {db:.1} dB, below 50 dB",
                    format.describe()
                );
            }
        }
    }
}
