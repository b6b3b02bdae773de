//! GPU backend tests on small frames (lavapipe is slow): every pass kind against a plain f32
//! reference written from the arithmetic contract, exact results where no arithmetic happens,
//! steady-state reuse, errors, and parity with the CPU backend.
//!
//! Without an adapter the tests print a note and pass, unless TESSERA_REQUIRE_GPU=1.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::{AdapterPolicy, GpuBackend};
use crate::backend::{Backend, BackendError};
use crate::frame::{Depth, Frame, Pixels};
use crate::plan::{
    box_weights, gaussian_weights, Axis, Op, Pass, PassKind, Plan, PointOp, ResampleFilter,
};

const W: u32 = 37;
const H: u32 = 23;

/// One backend shared by every test: pipelines compile once, and lavapipe runs one job at a time.
fn gpu() -> Option<MutexGuard<'static, GpuBackend>> {
    static GPU: OnceLock<Result<Mutex<GpuBackend>, String>> = OnceLock::new();
    match GPU.get_or_init(|| {
        GpuBackend::new(AdapterPolicy::Any)
            .map(Mutex::new)
            .map_err(|e| e.to_string())
    }) {
        Ok(m) => Some(m.lock().unwrap_or_else(|e| e.into_inner())),
        Err(e) => {
            if std::env::var("TESSERA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("TESSERA_REQUIRE_GPU=1 but the GPU backend did not open: {e}");
            }
            eprintln!("note: skipping a GPU test: {e}");
            None
        }
    }
}

/// Deterministic noise over gradients, alpha included, so every channel and edge is exercised.
fn test_frame(w: u32, h: u32, depth: Depth, seed: u32) -> Frame {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(12345);
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut values = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            for c in 0..4u32 {
                let gradient = match c {
                    0 => x as f32 / w as f32,
                    1 => y as f32 / h as f32,
                    2 => 1.0 - (x + y) as f32 / (w + h) as f32,
                    _ => 0.5 + 0.5 * ((x * 7 + y * 3) % 11) as f32 / 11.0,
                };
                let noise = (next() % 1000) as f32 / 1000.0;
                let v = if (x + y + c) % 5 == 0 {
                    noise
                } else {
                    0.8 * gradient + 0.2 * noise
                };
                values.push(v.clamp(0.0, 1.0));
            }
        }
    }
    let mut f = match depth {
        Depth::Eight => Frame::from_rgba8(
            w,
            h,
            values.iter().map(|v| (v * 255.0).round() as u8).collect(),
        ),
        Depth::Sixteen => Frame::from_rgba16(
            w,
            h,
            values
                .iter()
                .map(|v| (v * 65535.0).round() as u16)
                .collect(),
        ),
    };
    f.index = 7;
    f.pts = Some(-3);
    f
}

// ---- a plain reference executor, written from the contract in `crate::backend` ----

struct Img {
    w: u32,
    h: u32,
    px: Vec<[f32; 4]>,
}

impl Img {
    fn of(frame: &Frame) -> Img {
        let max = frame.depth().max_value();
        let px = match &frame.pixels {
            Pixels::Rgba8(v) => v
                .chunks(4)
                .map(|p| std::array::from_fn(|c| p[c] as f32 / max))
                .collect(),
            Pixels::Rgba16(v) => v
                .chunks(4)
                .map(|p| std::array::from_fn(|c| p[c] as f32 / max))
                .collect(),
        };
        Img {
            w: frame.width,
            h: frame.height,
            px,
        }
    }

    fn at(&self, x: i64, y: i64) -> [f32; 4] {
        let x = x.clamp(0, self.w as i64 - 1) as usize;
        let y = y.clamp(0, self.h as i64 - 1) as usize;
        self.px[y * self.w as usize + x]
    }

    fn map(w: u32, h: u32, f: impl Fn(i64, i64) -> [f32; 4]) -> Img {
        let mut px = Vec::with_capacity((w * h) as usize);
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                px.push(f(x, y).map(|v| v.clamp(0.0, 1.0)));
            }
        }
        Img { w, h, px }
    }

    fn frame(&self, depth: Depth) -> Frame {
        let max = depth.max_value();
        let codes = self
            .px
            .iter()
            .flat_map(|p| p.iter().map(move |v| (v * max).round()));
        match depth {
            Depth::Eight => Frame::from_rgba8(self.w, self.h, codes.map(|v| v as u8).collect()),
            Depth::Sixteen => Frame::from_rgba16(self.w, self.h, codes.map(|v| v as u16).collect()),
        }
    }
}

fn convolve_1d(img: &Img, axis: Axis, weights: &[f32], alpha: bool) -> Img {
    let r = (weights.len() / 2) as i64;
    Img::map(img.w, img.h, |x, y| {
        let mut acc = [0.0f32; 4];
        for (k, w) in weights.iter().enumerate() {
            let d = k as i64 - r;
            let p = match axis {
                Axis::Horizontal => img.at(x + d, y),
                Axis::Vertical => img.at(x, y + d),
            };
            for c in 0..4 {
                acc[c] += w * p[c];
            }
        }
        if !alpha {
            acc[3] = img.at(x, y)[3];
        }
        acc
    })
}

fn reference_pass(pass: &Pass, img: &Img) -> Img {
    let (ow, oh) = pass.output;
    match &pass.kind {
        PassKind::Pointwise(ops) => Img::map(ow, oh, |x, y| {
            ops.iter()
                .fold(img.at(x, y), |p, op| op.apply(p, (x as u32, y as u32)))
        }),
        PassKind::Convolve1D {
            axis,
            weights,
            alpha,
        } => convolve_1d(img, *axis, weights, *alpha),
        PassKind::Convolve2D {
            width,
            height,
            weights,
            bias,
        } => Img::map(ow, oh, |x, y| {
            let (rw, rh) = (*width as i64 / 2, *height as i64 / 2);
            let mut acc = [*bias, *bias, *bias, img.at(x, y)[3]];
            for j in 0..*height as i64 {
                for i in 0..*width as i64 {
                    let w = weights[(j * *width as i64 + i) as usize];
                    let p = img.at(x + i - rw, y + j - rh);
                    for c in 0..3 {
                        acc[c] += w * p[c];
                    }
                }
            }
            acc
        }),
        PassKind::Unsharp { weights, amount } => {
            let blur = convolve_1d(
                &convolve_1d(img, Axis::Horizontal, weights, false),
                Axis::Vertical,
                weights,
                false,
            );
            Img::map(ow, oh, |x, y| {
                let (p, b) = (img.at(x, y), blur.at(x, y));
                std::array::from_fn(|c| {
                    if c == 3 {
                        p[3]
                    } else {
                        p[c] + amount * (p[c] - b[c])
                    }
                })
            })
        }
        PassKind::Resample1D { axis, table } => Img::map(ow, oh, |x, y| {
            let i = match axis {
                Axis::Horizontal => x,
                Axis::Vertical => y,
            } as usize;
            let mut acc = [0.0f32; 4];
            for k in 0..table.taps as usize {
                let s = table.starts[i] as i64 + k as i64;
                let p = match axis {
                    Axis::Horizontal => img.at(s, y),
                    Axis::Vertical => img.at(x, s),
                };
                let w = table.weights[i * table.taps as usize + k];
                for c in 0..4 {
                    acc[c] += w * p[c];
                }
            }
            acc
        }),
        PassKind::Remap {
            x0,
            y0,
            flip_h,
            flip_v,
        } => Img::map(ow, oh, |x, y| {
            let fx = if *flip_h { ow as i64 - 1 - x } else { x };
            let fy = if *flip_v { oh as i64 - 1 - y } else { y };
            img.at(*x0 as i64 + fx, *y0 as i64 + fy)
        }),
    }
}

fn reference(plan: &Plan, frame: &Frame) -> Frame {
    let mut img = Img::of(frame);
    for pass in &plan.passes {
        img = reference_pass(pass, &img);
    }
    let mut out = img.frame(frame.depth());
    out.index = frame.index;
    out.pts = frame.pts;
    out
}

/// Runs `plan` on the GPU and checks the result against the reference within `tolerance` code
/// values, and that the frame keeps its depth, index and pts.
fn check(gpu: &mut GpuBackend, plan: &Plan, frame: &Frame, tolerance: u32) -> Frame {
    let want = reference(plan, frame);
    let got = gpu.process(plan, frame.clone()).expect("GPU run");
    assert_eq!((got.width, got.height), plan.output, "output size");
    assert_eq!(got.depth(), frame.depth(), "depth");
    assert_eq!(
        (got.index, got.pts),
        (frame.index, frame.pts),
        "index and pts"
    );
    let diff = got.max_abs_diff(&want).expect("same shape");
    assert!(
        diff <= tolerance,
        "{:?}: differs from the reference by {diff} (> {tolerance})",
        plan.passes
    );
    got
}

fn both_depths() -> [(Depth, u32); 2] {
    // 16-bit output: intermediates are rgba16, so a multi-pass chain may drift a few codes of 65535.
    [(Depth::Eight, 1), (Depth::Sixteen, 4)]
}

#[test]
fn describe_names_the_adapter_and_api() {
    let Some(gpu) = gpu() else { return };
    let d = gpu.describe();
    let info = gpu.adapter_info();
    assert!(d.starts_with("gpu (") && d.contains(&info.name), "{d}");
    assert!(
        gpu.max_frame_bytes() >= 128 << 20,
        "{}",
        gpu.max_frame_bytes()
    );
}

#[test]
fn hardware_only_refuses_software_adapters() {
    if gpu().is_none() {
        return;
    }
    match GpuBackend::new(AdapterPolicy::HardwareOnly) {
        Ok(hw) => assert_ne!(hw.adapter_info().device_type, wgpu::DeviceType::Cpu),
        Err(BackendError::NoAdapter(why)) => assert!(why.contains("hardware"), "{why}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn empty_plan_returns_the_frame_unchanged() {
    let Some(mut gpu) = gpu() else { return };
    let frame = test_frame(W, H, Depth::Eight, 1);
    assert_eq!(
        gpu.process(&Plan::identity(W, H), frame.clone()).unwrap(),
        frame
    );
}

#[test]
fn wrong_frame_size_is_an_error() {
    let Some(mut gpu) = gpu() else { return };
    let plan = Plan::from_ops(vec![Op::Point(PointOp::Invert)], W + 1, H);
    let err = gpu
        .process(&plan, test_frame(W, H, Depth::Eight, 1))
        .unwrap_err();
    assert!(matches!(err, BackendError::SizeMismatch { .. }), "{err}");
}

#[test]
fn invert_is_exact_at_both_depths() {
    let Some(mut gpu) = gpu() else { return };
    let plan = Plan::from_ops(vec![Op::Point(PointOp::Invert)], W, H);
    for (depth, _) in both_depths() {
        let frame = test_frame(W, H, depth, 2);
        check(&mut gpu, &plan, &frame, 0);
    }
}

#[test]
fn fused_pointwise_ops_match_point_op_apply() {
    let Some(mut gpu) = gpu() else { return };
    let ops = vec![
        Op::Point(PointOp::Eq {
            brightness: 0.1,
            contrast: 1.3,
            saturation: 1.5,
            gamma: 1.8,
        }),
        Op::Point(PointOp::Invert),
        Op::Point(PointOp::Eq {
            brightness: -0.3,
            contrast: 0.7,
            saturation: 0.0,
            gamma: 0.5,
        }),
        Op::Point(PointOp::Grayscale),
    ];
    let plan = Plan::from_ops(ops, W, H);
    assert_eq!(plan.passes.len(), 1);
    for (depth, _) in both_depths() {
        check(&mut gpu, &plan, &test_frame(W, H, depth, 3), 1);
    }
}

/// The chain's plan at frame `n` of a 25 fps stream.
fn plan_at(text: &str, n: u64, (w, h): (u32, u32)) -> Plan {
    let chain = crate::chain::Chain::parse(text).unwrap();
    let time = crate::plan::FrameTime {
        t: n as f64 / 25.0,
        n,
        fps: 25.0,
        duration: 10.0,
    };
    crate::plan::compile_at(&chain, w, h, &time).unwrap()
}

/// Pixel ops, fused with built-ins, read their uniforms at their own parameter slots (the
/// first program has seven uniforms, two slots) and match `PointOp::apply`.
#[test]
fn pixel_ops_match_point_op_apply() {
    let Some(mut gpu) = gpu() else { return };
    let text = "eq(brightness=0.1, contrast=1.2) \
        | pixel(r=\"r * (0.5 + 0.5 * cos(t)) + x / w * n / 100\", \
                g=\"g * fps / 30 + y / h * duration / 20\", b=\"b * sin(t + 1)\", \
                a=\"a * (1 - t / 10) + r * h / 1000\") \
        | invert | pixel(g=\"if(g > 0.5, 1 - g, g * n / 5)\") | grayscale";
    let plan = plan_at(text, 3, (W, H));
    assert_eq!(plan.passes.len(), 1);
    let PassKind::Pointwise(ops) = &plan.passes[0].kind else {
        panic!()
    };
    assert_eq!(ops[1].param_slots(), 2);
    for (depth, _) in both_depths() {
        check(&mut gpu, &plan, &test_frame(W, H, depth, 23), 1);
    }
}

/// A pixel op whose values change every frame rewrites its parameters: no new pipeline, plan
/// state or buffer, and every frame sees its own values.
#[test]
fn per_frame_pixel_values_rewrite_parameters_not_pipelines() {
    let Some(mut gpu) = gpu() else { return };
    let text = "pixel(r=\"r * (0.5 + 0.5 * sin(2 * PI * t))\", b=\"(x + n) % 8 / 8\") | invert";
    let frame = test_frame(W, H, Depth::Eight, 24);
    let first = check(&mut gpu, &plan_at(text, 0, (W, H)), &frame, 1);
    let before = gpu.executor.stats();
    let mut outputs = vec![first];
    for n in 1..5 {
        outputs.push(check(&mut gpu, &plan_at(text, n, (W, H)), &frame, 1));
    }
    assert_eq!(gpu.executor.stats(), before);
    for pair in outputs.windows(2) {
        assert_ne!(pair[0], pair[1], "the frames' values differ");
    }
}

#[test]
fn identity_kernels_are_exact() {
    let Some(mut gpu) = gpu() else { return };
    let identity_1d = vec![0.0, 1.0, 0.0];
    let identity_2d = vec![0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let ops = vec![
        Op::Blur {
            weights: identity_1d.clone(),
        },
        Op::Convolve {
            width: 3,
            height: 3,
            weights: identity_2d,
            bias: 0.0,
        },
        Op::Unsharp {
            weights: identity_1d,
            amount: 2.0,
        },
    ];
    let mut plan = Plan::from_ops(ops, W, H);
    plan.passes.push(Pass {
        kind: PassKind::Pointwise(Vec::new()),
        input: (W, H),
        output: (W, H),
    });
    for (depth, _) in both_depths() {
        let frame = test_frame(W, H, depth, 4);
        let got = check(&mut gpu, &plan, &frame, 0);
        assert_eq!(got.pixels, frame.pixels);
    }
}

#[test]
fn separable_blurs_match_the_reference() {
    let Some(mut gpu) = gpu() else { return };
    for weights in [
        gaussian_weights(1.5),
        box_weights(2),
        gaussian_weights(12.0),
    ] {
        let plan = Plan::from_ops(vec![Op::Blur { weights }], W, H);
        for (depth, tolerance) in both_depths() {
            check(&mut gpu, &plan, &test_frame(W, H, depth, 5), tolerance);
        }
    }
}

#[test]
fn one_direction_without_alpha_keeps_alpha() {
    let Some(mut gpu) = gpu() else { return };
    for axis in [Axis::Horizontal, Axis::Vertical] {
        let kind = PassKind::Convolve1D {
            axis,
            weights: Arc::new(vec![0.25, 0.5, 0.25]),
            alpha: false,
        };
        let plan = Plan {
            passes: vec![Pass {
                kind,
                input: (W, H),
                output: (W, H),
            }],
            input: (W, H),
            output: (W, H),
        };
        let frame = test_frame(W, H, Depth::Eight, 6);
        let got = check(&mut gpu, &plan, &frame, 1);
        let (Pixels::Rgba8(a), Pixels::Rgba8(b)) = (&got.pixels, &frame.pixels) else {
            unreachable!()
        };
        assert!(
            a.iter().skip(3).step_by(4).eq(b.iter().skip(3).step_by(4)),
            "{axis:?}: alpha changed"
        );
    }
}

#[test]
fn convolution_with_negative_weights_and_bias_matches_the_reference() {
    let Some(mut gpu) = gpu() else { return };
    let sharpen = vec![0.0, -1.0, 0.0, -1.0, 5.0, -1.0, 0.0, -1.0, 0.0];
    let emboss_5x3: Vec<f32> = (0..15).map(|i| (i as f32 - 7.0) / 9.0).collect();
    let ops = [
        Op::Convolve {
            width: 3,
            height: 3,
            weights: sharpen,
            bias: 0.0,
        },
        Op::Convolve {
            width: 5,
            height: 3,
            weights: emboss_5x3,
            bias: 0.5,
        },
    ];
    for op in ops {
        let plan = Plan::from_ops(vec![op], W, H);
        for (depth, _) in both_depths() {
            check(&mut gpu, &plan, &test_frame(W, H, depth, 7), 1);
        }
    }
}

#[test]
fn unsharp_matches_the_reference() {
    let Some(mut gpu) = gpu() else { return };
    for (sigma, amount) in [(1.0, 1.0), (2.5, 5.0), (0.6, -1.0)] {
        let ops = vec![Op::Unsharp {
            weights: gaussian_weights(sigma),
            amount,
        }];
        let plan = Plan::from_ops(ops, W, H);
        for (depth, tolerance) in both_depths() {
            check(&mut gpu, &plan, &test_frame(W, H, depth, 8), tolerance);
        }
    }
}

// ---- stencils through workgroup tiles (the `*_tiled.wgsl` kernels) and their fallbacks ----

/// Frame sizes around the 16x16 workgroup: overhanging groups both ways, one-pixel lines.
const TILE_SIZES: [(u32, u32); 3] = [(37, 23), (1, 17), (17, 1)];

/// `n` weights summing to 1, each different, so a tap read from the wrong texel or in the wrong
/// direction changes the result.
fn ramp_weights(n: u32) -> Vec<f32> {
    let total = (n * (n + 1) / 2) as f32;
    (1..=n).map(|k| k as f32 / total).collect()
}

/// A `width` x `height` kernel (both odd) of `weights`, centred in zeros out to `to`.
fn zero_padded(weights: &[f32], width: u32, height: u32, to: (u32, u32)) -> Vec<f32> {
    let (dx, dy) = ((to.0 - width) / 2, (to.1 - height) / 2);
    let mut out = vec![0.0; (to.0 * to.1) as usize];
    for j in 0..height {
        for i in 0..width {
            out[((j + dy) * to.0 + i + dx) as usize] = weights[(j * width + i) as usize];
        }
    }
    out
}

/// The stencil ops at the largest radii the tiled kernels take and one past them (the direct
/// kernels), with weights that differ tap by tap.
fn tile_limit_ops() -> Vec<Op> {
    let r1 = super::shaders::TILE_RADIUS_1D;
    let r2 = super::shaders::TILE_RADIUS_2D;
    let mut ops = Vec::new();
    for r in [r1, r1 + 1] {
        ops.push(Op::Blur {
            weights: ramp_weights(2 * r + 1),
        });
        ops.push(Op::Unsharp {
            weights: ramp_weights(2 * r + 1),
            amount: 1.5,
        });
    }
    let side = 2 * r2 + 1;
    for (width, height) in [
        (side, side),
        (side, 3),
        (3, side),
        (side + 2, side + 2),
        (side + 2, 1),
        (1, side + 2),
    ] {
        ops.push(Op::Convolve {
            width,
            height,
            weights: ramp_weights(width * height),
            bias: 0.0,
        });
    }
    ops
}

#[test]
fn tiled_stencils_match_the_reference_and_the_cpu_at_seams_and_edges() {
    let Some(mut gpu) = gpu() else { return };
    let mut cpu = crate::backend::cpu::CpuBackend::new();
    for (w, h) in TILE_SIZES {
        for op in tile_limit_ops() {
            let plan = Plan::from_ops(vec![op], w, h);
            for (depth, tolerance) in both_depths() {
                let frame = test_frame(w, h, depth, 50);
                let got = check(&mut gpu, &plan, &frame, tolerance);
                if depth == Depth::Eight {
                    let want = cpu.process(&plan, frame).expect("CPU run");
                    let diff = got.max_abs_diff(&want);
                    assert!(
                        diff.is_some_and(|d| d <= 1),
                        "{w}x{h} {:?}: GPU and CPU differ by {diff:?}",
                        plan.passes
                    );
                }
            }
        }
    }
}

/// A kernel padded with zero weights past the tile's radius runs direct and sums the same
/// non-zero terms in the same order (a zero term adds +0): every bit must match the tiled run.
#[test]
fn tiled_and_direct_kernels_give_the_same_bits() {
    let Some(mut gpu) = gpu() else { return };
    let r1 = super::shaders::TILE_RADIUS_1D;
    let r2 = super::shaders::TILE_RADIUS_2D;
    let long = 2 * r1 + 3;
    let blur = ramp_weights(7);
    let box_blur = box_weights(r1);
    let emboss: Vec<f32> = (0..15).map(|i| (i as f32 - 7.0) / 9.0).collect();
    let pairs = [
        (
            Op::Blur {
                weights: blur.clone(),
            },
            Op::Blur {
                weights: zero_padded(&blur, 7, 1, (long, 1)),
            },
        ),
        (
            Op::Blur {
                weights: box_blur.clone(),
            },
            Op::Blur {
                weights: zero_padded(&box_blur, 2 * r1 + 1, 1, (long, 1)),
            },
        ),
        (
            Op::Unsharp {
                weights: blur.clone(),
                amount: 2.0,
            },
            Op::Unsharp {
                weights: zero_padded(&blur, 7, 1, (long, 1)),
                amount: 2.0,
            },
        ),
        (
            Op::Convolve {
                width: 5,
                height: 3,
                weights: emboss.clone(),
                bias: 0.5,
            },
            Op::Convolve {
                width: 5,
                height: 2 * r2 + 3,
                weights: zero_padded(&emboss, 5, 3, (5, 2 * r2 + 3)),
                bias: 0.5,
            },
        ),
    ];
    for (w, h) in TILE_SIZES {
        for (tiled, direct) in &pairs {
            let tiled = Plan::from_ops(vec![tiled.clone()], w, h);
            let direct = Plan::from_ops(vec![direct.clone()], w, h);
            for (depth, _) in both_depths() {
                let frame = test_frame(w, h, depth, 51);
                let a = gpu.process(&tiled, frame.clone()).expect("tiled run");
                let b = gpu.process(&direct, frame).expect("direct run");
                assert_eq!(
                    a.pixels, b.pixels,
                    "{w}x{h} {depth:?}: tiled {:?} and direct {:?} differ",
                    tiled.passes, direct.passes
                );
            }
        }
    }
}

#[test]
fn nearest_resample_copies_the_table_samples() {
    let Some(mut gpu) = gpu() else { return };
    for (w, h) in [(19, 30), (74, 11), (W, H)] {
        let plan = Plan::from_ops(
            vec![Op::Scale {
                width: w,
                height: h,
                filter: ResampleFilter::Nearest,
            }],
            W,
            H,
        );
        assert_eq!(plan.passes.len(), 2);
        for (depth, _) in both_depths() {
            check(&mut gpu, &plan, &test_frame(W, H, depth, 9), 0);
        }
    }
}

#[test]
fn weighted_resamples_match_the_reference() {
    let Some(mut gpu) = gpu() else { return };
    let filters = [
        ResampleFilter::Bilinear,
        ResampleFilter::Bicubic,
        ResampleFilter::Lanczos3,
    ];
    for filter in filters {
        for (w, h) in [(11, 7), (80, 51), (37, 40)] {
            let plan = Plan::from_ops(
                vec![Op::Scale {
                    width: w,
                    height: h,
                    filter,
                }],
                W,
                H,
            );
            for (depth, tolerance) in both_depths() {
                check(&mut gpu, &plan, &test_frame(W, H, depth, 10), tolerance);
            }
        }
    }
}

#[test]
fn crops_and_flips_move_pixels_exactly() {
    let Some(mut gpu) = gpu() else { return };
    let chains = [
        vec![Op::Crop {
            x: 5,
            y: 3,
            width: 20,
            height: 11,
        }],
        vec![Op::Flip {
            horizontal: true,
            vertical: false,
        }],
        vec![Op::Flip {
            horizontal: false,
            vertical: true,
        }],
        vec![
            Op::Crop {
                x: 0,
                y: 9,
                width: 37,
                height: 14,
            },
            Op::Flip {
                horizontal: true,
                vertical: true,
            },
        ],
    ];
    for ops in chains {
        let plan = Plan::from_ops(ops, W, H);
        for (depth, _) in both_depths() {
            let frame = test_frame(W, H, depth, 11);
            let got = check(&mut gpu, &plan, &frame, 0);
            // A straight index check too, independent of the reference's float path.
            if let [Pass {
                kind:
                    PassKind::Remap {
                        x0,
                        y0,
                        flip_h: false,
                        flip_v: false,
                    },
                output,
                ..
            }] = plan.passes.as_slice()
            {
                for (x, y) in [(0, 0), (output.0 - 1, output.1 - 1), (3, 4)] {
                    for c in 0..4 {
                        assert_eq!(got.sample(x, y, c), frame.sample(x + x0, y + y0, c));
                    }
                }
            }
        }
    }
}

#[test]
fn long_chains_of_every_kind_match_the_reference() {
    let Some(mut gpu) = gpu() else { return };
    let ops = vec![
        Op::Point(PointOp::Eq {
            brightness: 0.05,
            contrast: 1.1,
            saturation: 1.2,
            gamma: 1.1,
        }),
        Op::Blur {
            weights: gaussian_weights(1.0),
        },
        Op::Scale {
            width: 50,
            height: 17,
            filter: ResampleFilter::Bicubic,
        },
        Op::Unsharp {
            weights: gaussian_weights(1.0),
            amount: 0.8,
        },
        Op::Crop {
            x: 2,
            y: 1,
            width: 40,
            height: 15,
        },
        Op::Convolve {
            width: 3,
            height: 3,
            weights: vec![1.0 / 9.0; 9],
            bias: 0.0,
        },
        Op::Flip {
            horizontal: true,
            vertical: false,
        },
        Op::Point(PointOp::Invert),
    ];
    let plan = Plan::from_ops(ops, W, H);
    for (depth, tolerance) in both_depths() {
        check(&mut gpu, &plan, &test_frame(W, H, depth, 12), tolerance);
    }
}

#[test]
fn steady_state_reuses_pipelines_buffers_and_plan_state() {
    let Some(mut gpu) = gpu() else { return };
    let eq = |brightness| {
        Op::Point(PointOp::Eq {
            brightness,
            contrast: 1.2,
            saturation: 0.8,
            gamma: 1.3,
        })
    };
    let plan_with = |brightness| {
        Plan::from_ops(
            vec![
                eq(brightness),
                Op::Blur {
                    weights: gaussian_weights(1.2),
                },
                Op::Point(PointOp::Grayscale),
            ],
            W,
            H,
        )
    };
    let plan = plan_with(0.1);
    check(&mut gpu, &plan, &test_frame(W, H, Depth::Eight, 13), 1);
    let before = gpu.executor.stats();
    for seed in 14..17 {
        check(&mut gpu, &plan, &test_frame(W, H, Depth::Eight, seed), 1);
    }
    // A recompiled plan (new weight allocations, a new brightness) reuses the same GPU state and
    // must see its new parameters.
    check(
        &mut gpu,
        &plan_with(-0.2),
        &test_frame(W, H, Depth::Eight, 17),
        1,
    );
    check(&mut gpu, &plan, &test_frame(W, H, Depth::Eight, 18), 1);
    assert_eq!(gpu.executor.stats(), before);
}

#[test]
fn a_batch_of_sizes_evicts_old_plans_and_stays_correct() {
    let Some(mut gpu) = gpu() else { return };
    let plan_for = |w, h| {
        Plan::from_ops(
            vec![Op::Blur {
                weights: gaussian_weights(1.0),
            }],
            w,
            h,
        )
    };
    for i in 0..7 {
        let (w, h) = (W + 3 * i, H + 2 * i);
        let depth = if i % 2 == 0 {
            Depth::Eight
        } else {
            Depth::Sixteen
        };
        check(
            &mut gpu,
            &plan_for(w, h),
            &test_frame(w, h, depth, 30 + i),
            4,
        );
        assert!(gpu.executor.stats().plans_kept <= super::executor::PLAN_CACHE);
    }
    // The first size again, its state long evicted and rebuilt from pooled buffers.
    let created = gpu.executor.stats().buffers_created;
    check(
        &mut gpu,
        &plan_for(W, H),
        &test_frame(W, H, Depth::Eight, 40),
        1,
    );
    assert_eq!(
        gpu.executor.stats().buffers_created,
        created,
        "pooled buffers are reused"
    );
}

#[test]
fn frames_past_the_binding_limit_are_refused() {
    let Some(mut gpu) = gpu() else { return };
    let side = 1 << 15;
    let plan = Plan::from_ops(
        vec![Op::Scale {
            width: side,
            height: side,
            filter: ResampleFilter::Nearest,
        }],
        4,
        4,
    );
    let err = gpu
        .process(&plan, test_frame(4, 4, Depth::Eight, 19))
        .unwrap_err();
    assert!(matches!(err, BackendError::FrameTooLarge { .. }), "{err}");
    // The backend is still usable afterwards.
    let plan = Plan::from_ops(vec![Op::Point(PointOp::Invert)], W, H);
    check(&mut gpu, &plan, &test_frame(W, H, Depth::Eight, 20), 0);
}

#[test]
fn malformed_passes_are_errors_not_panics() {
    let Some(mut gpu) = gpu() else { return };
    let kind = PassKind::Convolve2D {
        width: 3,
        height: 3,
        weights: Arc::new(vec![1.0; 4]),
        bias: 0.0,
    };
    let plan = Plan {
        passes: vec![Pass {
            kind,
            input: (W, H),
            output: (W, H),
        }],
        input: (W, H),
        output: (W, H),
    };
    let err = gpu
        .process(&plan, test_frame(W, H, Depth::Eight, 21))
        .unwrap_err();
    assert!(matches!(err, BackendError::Gpu(_)), "{err}");
}

/// The CPU backend is the other half of the parity contract: at most one code value apart.
#[test]
fn matches_the_cpu_backend() {
    let Some(mut gpu) = gpu() else { return };
    let mut cpu = crate::backend::cpu::CpuBackend::new();
    let chains: Vec<Vec<Op>> = vec![
        vec![Op::Blur {
            weights: gaussian_weights(2.0),
        }],
        vec![Op::Convolve {
            width: 3,
            height: 3,
            weights: vec![-1.0, -1.0, 0.0, -1.0, 1.0, 1.0, 0.0, 1.0, 1.0],
            bias: 0.5,
        }],
        vec![Op::Unsharp {
            weights: gaussian_weights(1.5),
            amount: 1.5,
        }],
        vec![Op::Scale {
            width: 13,
            height: 9,
            filter: ResampleFilter::Lanczos3,
        }],
        vec![Op::Scale {
            width: 70,
            height: 50,
            filter: ResampleFilter::Bicubic,
        }],
        vec![
            Op::Crop {
                x: 4,
                y: 2,
                width: 25,
                height: 17,
            },
            Op::Flip {
                horizontal: true,
                vertical: true,
            },
        ],
        vec![Op::Point(PointOp::Eq {
            brightness: 0.1,
            contrast: 1.4,
            saturation: 1.8,
            gamma: 2.2,
        })],
    ];
    for ops in chains {
        let plan = Plan::from_ops(ops, W, H);
        let frame = test_frame(W, H, Depth::Eight, 22);
        let want = cpu.process(&plan, frame.clone()).expect("CPU run");
        let got = gpu.process(&plan, frame).expect("GPU run");
        let diff = got.max_abs_diff(&want);
        assert!(
            diff.is_some_and(|d| d <= 1),
            "{:?}: GPU and CPU differ by {diff:?}",
            plan.passes
        );
    }
}

// ---- frames in flight: `submit` and `finish` ----

const FW: u32 = 64;
const FH: u32 = 48;

/// Frame `i` of a little stream: its own pixels, index and pts.
fn stream_frame(i: u64, depth: Depth) -> Frame {
    let mut f = test_frame(FW, FH, depth, 100 + i as u32);
    f.index = i;
    f.pts = Some(1000 * i as i64 - 5);
    f
}

/// A blur, a downscale and an eq whose brightness changes with the frame, as `t` would: every
/// frame's plan has the same GPU state and its own parameters.
fn stream_plan(i: u64) -> Plan {
    Plan::from_ops(
        vec![
            Op::Blur {
                weights: gaussian_weights(1.5),
            },
            Op::Scale {
                width: 40,
                height: 30,
                filter: ResampleFilter::Bilinear,
            },
            Op::Point(PointOp::Eq {
                brightness: 0.05 * i as f32 - 0.15,
                contrast: 1.1,
                saturation: 1.2,
                gamma: 0.9,
            }),
        ],
        FW,
        FH,
    )
}

/// Submits every `(plan, frame)` in turn, then finishes; what came back, in order.
fn submit_all(gpu: &mut GpuBackend, work: Vec<(Plan, Frame)>) -> Vec<Frame> {
    let mut out = Vec::new();
    for (plan, frame) in work {
        out.extend(gpu.submit(&plan, frame).expect("submit"));
        assert!(
            gpu.executor.frames_held() <= super::executor::IN_FLIGHT,
            "{} frames held",
            gpu.executor.frames_held()
        );
    }
    while let Some(frame) = gpu.finish().expect("finish") {
        out.push(frame);
    }
    out
}

/// What `process` gives for each `(plan, frame)`, one by one.
fn process_all(gpu: &mut GpuBackend, work: &[(Plan, Frame)]) -> Vec<Frame> {
    work.iter()
        .map(|(plan, frame)| gpu.process(plan, frame.clone()).expect("process"))
        .collect()
}

#[test]
fn submitted_frames_come_back_in_order_as_process_gives_them() {
    let Some(mut gpu) = gpu() else { return };
    for depth in [Depth::Eight, Depth::Sixteen] {
        let work: Vec<(Plan, Frame)> = (0..7)
            .map(|i| (stream_plan(i), stream_frame(i, depth)))
            .collect();
        let want = process_all(&mut gpu, &work);
        let got = submit_all(&mut gpu, work);
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!((g.index, g.pts), (i as u64, Some(1000 * i as i64 - 5)));
            assert_eq!((g.width, g.height), (40, 30));
            assert!(g == w, "{depth:?} frame {i} differs from process's");
        }
    }
}

#[test]
fn steady_submits_reuse_the_ring_and_allocate_nothing() {
    let Some(mut gpu) = gpu() else { return };
    let ring = super::executor::IN_FLIGHT as u64;
    let mut out = Vec::new();
    for i in 0..=ring {
        out.extend(
            gpu.submit(&stream_plan(i), stream_frame(i, Depth::Eight))
                .unwrap(),
        );
    }
    let before = gpu.executor.stats();
    let slots = gpu.executor.ring_slots();
    for i in ring + 1..ring + 5 {
        out.extend(
            gpu.submit(&stream_plan(i), stream_frame(i, Depth::Eight))
                .unwrap(),
        );
        assert!(gpu.executor.frames_held() <= ring as usize);
    }
    while let Some(frame) = gpu.finish().unwrap() {
        out.push(frame);
    }
    // The ring grows to its size only as fast as frames overlap, which depends on how fast the
    // device finishes them: a slot may still be made after the warm-up, never more than the
    // ring holds, and nothing else is.
    let (after, slots_after) = (gpu.executor.stats(), gpu.executor.ring_slots());
    assert!(slots_after <= ring as usize, "{slots_after} ring slots");
    let grown = 2 * (slots_after - slots) as u64;
    assert_eq!(
        super::executor::Stats {
            buffers_created: after.buffers_created - grown,
            ..after
        },
        before
    );
    let indexes: Vec<u64> = out.iter().map(|f| f.index).collect();
    assert_eq!(indexes, (0..ring + 5).collect::<Vec<_>>());
}

#[test]
fn a_plan_change_between_submits_keeps_order_and_results() {
    let Some(mut gpu) = gpu() else { return };
    let invert = Plan::from_ops(vec![Op::Point(PointOp::Invert)], FW, FH);
    let work: Vec<(Plan, Frame)> = (0..7)
        .map(|i| {
            let plan = match i {
                0..=2 | 5 => stream_plan(i),
                3 => Plan::identity(FW, FH),
                _ => invert.clone(),
            };
            (plan, stream_frame(i, Depth::Eight))
        })
        .collect();
    let want = process_all(&mut gpu, &work);
    let got = submit_all(&mut gpu, work);
    assert_eq!(got, want);
}

#[test]
fn a_plan_with_no_passes_submits_frames_unchanged() {
    let Some(mut gpu) = gpu() else { return };
    let plan = Plan::identity(FW, FH);
    let work: Vec<(Plan, Frame)> = (0..4)
        .map(|i| (plan.clone(), stream_frame(i, Depth::Sixteen)))
        .collect();
    let want: Vec<Frame> = work.iter().map(|(_, f)| f.clone()).collect();
    assert_eq!(submit_all(&mut gpu, work), want);
}

#[test]
fn a_submitted_size_mismatch_is_an_error_and_spares_the_frames_in_flight() {
    let Some(mut gpu) = gpu() else { return };
    let work: Vec<(Plan, Frame)> = (0..2)
        .map(|i| (stream_plan(i), stream_frame(i, Depth::Eight)))
        .collect();
    let want = process_all(&mut gpu, &work);
    let mut got = Vec::new();
    for (plan, frame) in work {
        got.extend(gpu.submit(&plan, frame).unwrap());
    }
    let err = gpu
        .submit(&stream_plan(2), test_frame(FW + 1, FH, Depth::Eight, 3))
        .unwrap_err();
    assert!(matches!(err, BackendError::SizeMismatch { .. }), "{err}");
    while let Some(frame) = gpu.finish().unwrap() {
        got.push(frame);
    }
    assert_eq!(got, want);
}

#[test]
fn finish_with_nothing_in_flight_is_none() {
    let Some(mut gpu) = gpu() else { return };
    assert!(gpu.finish().unwrap().is_none());
    let plan = Plan::from_ops(vec![Op::Point(PointOp::Invert)], FW, FH);
    let frame = stream_frame(0, Depth::Eight);
    let want = gpu.process(&plan, frame.clone()).unwrap();
    let first = gpu.submit(&plan, frame).unwrap();
    let mut got: Vec<Frame> = first.into_iter().collect();
    while let Some(f) = gpu.finish().unwrap() {
        got.push(f);
    }
    assert_eq!(got, vec![want]);
    assert!(gpu.finish().unwrap().is_none());
}
