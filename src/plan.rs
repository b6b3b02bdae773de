//! Op lowering, fusion and the passes a backend runs.
//!
//! Filters lower into a handful of op kinds ([`Op`]); [`compile`] turns a resolved chain into a
//! [`Plan`]: passes with their input and output sizes, consecutive pointwise ops fused into one
//! pass, separable stencils split into their two directions, resampling weights computed once.
//! Both backends execute exactly these passes with the same weights, which is what keeps their
//! results within one code value of each other. This module knows ops, never backends.

use std::sync::Arc;

use crate::chain::Chain;
use crate::filters::{ArgValue, ParamKind};
use crate::pixel::PixelProgram;

/// BT.709 luma weights, used by `grayscale` and `eq`.
pub const LUMA: [f32; 3] = [0.2126, 0.7152, 0.0722];

/// A per-pixel colour operation. Every op maps 0..=1 colour to 0..=1 colour; only `Pixel` may
/// change alpha.
#[derive(Clone, Debug, PartialEq)]
pub enum PointOp {
    /// FFmpeg's `eq` on BT.709 luma and colour difference: contrast and brightness around mid
    /// grey, then gamma on luma; saturation scales the colour difference.
    Eq {
        brightness: f32,
        contrast: f32,
        saturation: f32,
        gamma: f32,
    },
    /// BT.709 luma into all three colour channels.
    Grayscale,
    /// 1 − value on the colour channels.
    Invert,
    /// `pixel`'s channel expressions: a compiled program and the values of its uniforms for this
    /// frame. Equal programs run the same code whatever their uniforms, so a plan recompiled for
    /// the next frame keeps its GPU pipeline and only rewrites `uniforms`.
    Pixel {
        program: Arc<PixelProgram>,
        uniforms: Vec<f32>,
    },
}

impl PointOp {
    /// How many vec4 parameter slots the op takes in the GPU kernels' `data`.
    pub fn param_slots(&self) -> usize {
        match self {
            PointOp::Pixel { program, .. } => program.param_slots(),
            _ => 1,
        }
    }

    /// Appends the op's parameters as the GPU kernels receive them: [`PointOp::param_slots`]
    /// vec4s.
    pub fn write_params(&self, out: &mut Vec<[f32; 4]>) {
        match self {
            PointOp::Eq {
                brightness,
                contrast,
                saturation,
                gamma,
            } => out.push([*brightness, *contrast, *saturation, *gamma]),
            PointOp::Grayscale | PointOp::Invert => out.push([0.0; 4]),
            PointOp::Pixel { program, uniforms } => {
                for k in 0..program.param_slots() {
                    out.push(std::array::from_fn(|j| {
                        uniforms.get(4 * k + j).copied().unwrap_or(0.0)
                    }));
                }
            }
        }
    }

    /// The program of a `Pixel` op.
    pub fn pixel_program(&self) -> Option<&PixelProgram> {
        match self {
            PointOp::Pixel { program, .. } => Some(program),
            _ => None,
        }
    }

    /// The op on one RGBA pixel at column `x`, row `y` of the frame entering the pass. This is
    /// the definition that `shaders/pointwise.wgsl` and the generated pixel functions mirror.
    #[inline]
    pub fn apply(&self, p: [f32; 4], (x, y): (u32, u32)) -> [f32; 4] {
        match self {
            &PointOp::Eq {
                brightness,
                contrast,
                saturation,
                gamma,
            } => {
                let [r, g, b] = eq_rgb(
                    [p[0], p[1], p[2]],
                    [brightness, contrast, saturation],
                    |v| eq_curve(v, gamma),
                );
                [r, g, b, p[3]]
            }
            PointOp::Grayscale => {
                let y = luma([p[0], p[1], p[2]]);
                [y, y, y, p[3]]
            }
            PointOp::Invert => [1.0 - p[0], 1.0 - p[1], 1.0 - p[2], p[3]],
            PointOp::Pixel { program, uniforms } => program.eval(uniforms, p, x as f32, y as f32),
        }
    }
}

/// The parameters of a fused run of ops, as the GPU kernels read them, into `out`.
pub fn point_params(ops: &[PointOp], out: &mut Vec<[f32; 4]>) {
    out.clear();
    for op in ops {
        op.write_params(out);
    }
}

/// BT.709 luma of a colour.
#[inline(always)]
pub fn luma([r, g, b]: [f32; 3]) -> f32 {
    LUMA[0] * r + LUMA[1] * g + LUMA[2] * b
}

/// `eq`'s luma curve: 0 at or below 0, else v^(1/gamma), at most 1. With gamma 1 it is
/// `v.clamp(0.0, 1.0)`, which the CPU kernels use to keep their loop free of calls.
#[inline(always)]
pub fn eq_curve(v: f32, gamma: f32) -> f32 {
    if v <= 0.0 {
        0.0
    } else if gamma == 1.0 {
        v.min(1.0)
    } else {
        v.powf(1.0 / gamma).min(1.0)
    }
}

/// `eq` on one colour: contrast and brightness around mid grey on luma, then `curve`
/// ([`eq_curve`]); saturation scales the colour difference; the result is clamped to 0..=1.
#[inline(always)]
pub fn eq_rgb(
    rgb: [f32; 3],
    [brightness, contrast, saturation]: [f32; 3],
    curve: impl Fn(f32) -> f32,
) -> [f32; 3] {
    let y = luma(rgb);
    let (cb, cr) = (rgb[2] - y, rgb[0] - y);
    let v = curve(contrast * (y - 0.5) + 0.5 + brightness);
    let r = v + saturation * cr;
    let b = v + saturation * cb;
    // A multiplication by the constant reciprocal: a division would cost the CPU kernels a
    // fifth of their time (it is the one slow instruction in the loop).
    let g = (v - LUMA[0] * r - LUMA[2] * b) * (1.0 / LUMA[1]);
    [r.clamp(0.0, 1.0), g.clamp(0.0, 1.0), b.clamp(0.0, 1.0)]
}

/// Kernels for [`Op::Scale`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResampleFilter {
    Nearest,
    Bilinear,
    Bicubic,
    Lanczos3,
}

impl ResampleFilter {
    pub const NAMES: &'static [&'static str] = &["nearest", "bilinear", "bicubic", "lanczos3"];

    pub fn from_name(name: &str) -> Option<ResampleFilter> {
        match name {
            "nearest" => Some(ResampleFilter::Nearest),
            "bilinear" => Some(ResampleFilter::Bilinear),
            "bicubic" => Some(ResampleFilter::Bicubic),
            "lanczos3" | "lanczos" => Some(ResampleFilter::Lanczos3),
            _ => None,
        }
    }

    /// Half-width of the kernel in source pixels at scale 1.
    fn support(self) -> f64 {
        match self {
            ResampleFilter::Nearest => 0.5,
            ResampleFilter::Bilinear => 1.0,
            ResampleFilter::Bicubic => 2.0,
            ResampleFilter::Lanczos3 => 3.0,
        }
    }

    fn weight(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            ResampleFilter::Nearest => unreachable!("nearest has no weights"),
            ResampleFilter::Bilinear => (1.0 - x).max(0.0),
            // Keys' cubic with a = -0.5 (Catmull-Rom).
            ResampleFilter::Bicubic => {
                let a = -0.5;
                if x < 1.0 {
                    (a + 2.0) * x * x * x - (a + 3.0) * x * x + 1.0
                } else if x < 2.0 {
                    a * x * x * x - 5.0 * a * x * x + 8.0 * a * x - 4.0 * a
                } else {
                    0.0
                }
            }
            ResampleFilter::Lanczos3 => {
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
}

/// Per-output-position weights of a one-dimensional resample: output `i` reads source samples
/// `starts[i] .. starts[i] + taps` (clamped to the edge) times `weights[i * taps ..]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResampleTable {
    pub taps: u32,
    pub starts: Vec<i32>,
    pub weights: Vec<f32>,
}

impl ResampleTable {
    /// Weights mapping `src` samples onto `dst` samples with pixel centres aligned, widening the
    /// kernel by the reduction factor when shrinking so that downscales do not alias.
    pub fn new(filter: ResampleFilter, src: u32, dst: u32) -> ResampleTable {
        let ratio = src as f64 / dst as f64;
        if filter == ResampleFilter::Nearest {
            let starts = (0..dst)
                .map(|i| (((i as f64 + 0.5) * ratio).floor() as i32).min(src as i32 - 1))
                .collect();
            return ResampleTable {
                taps: 1,
                starts,
                weights: vec![1.0; dst as usize],
            };
        }
        let stretch = ratio.max(1.0);
        let support = filter.support() * stretch;
        let taps = (2.0 * support).ceil() as u32 + 1;
        let mut starts = Vec::with_capacity(dst as usize);
        let mut weights = Vec::with_capacity(dst as usize * taps as usize);
        for i in 0..dst {
            let centre = (i as f64 + 0.5) * ratio - 0.5;
            let start = (centre - support).ceil() as i32;
            let row: Vec<f64> = (0..taps)
                .map(|k| filter.weight(((start + k as i32) as f64 - centre) / stretch))
                .collect();
            let sum: f64 = row.iter().sum();
            starts.push(start);
            weights.extend(row.iter().map(|w| (w / sum) as f32));
        }
        ResampleTable {
            taps,
            starts,
            weights,
        }
    }
}

/// Normalised Gaussian weights of radius ceil(3σ).
pub fn gaussian_weights(sigma: f64) -> Vec<f32> {
    let radius = (3.0 * sigma).ceil() as i64;
    let raw: Vec<f64> = (-radius..=radius)
        .map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|w| (w / sum) as f32).collect()
}

/// Equal weights over 2·radius + 1 samples.
pub fn box_weights(radius: u32) -> Vec<f32> {
    let n = 2 * radius as usize + 1;
    vec![1.0 / n as f32; n]
}

/// What a filter lowers into. Sizes are in pixels of the op's input frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Point(PointOp),
    /// Separable blur with a symmetric odd-length kernel, on all four channels.
    Blur {
        weights: Vec<f32>,
    },
    /// 2-D convolution (odd width and height, row-major weights already divided), plus bias,
    /// on the colour channels; alpha is kept.
    Convolve {
        width: u32,
        height: u32,
        weights: Vec<f32>,
        bias: f32,
    },
    /// `in + amount · (in − blur(in))` with a separable blur, on the colour channels.
    Unsharp {
        weights: Vec<f32>,
        amount: f32,
    },
    Scale {
        width: u32,
        height: u32,
        filter: ResampleFilter,
    },
    Crop {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
    Flip {
        horizontal: bool,
        vertical: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    Horizontal,
    Vertical,
}

/// One pass over a frame: what a backend dispatches.
#[derive(Clone, Debug, PartialEq)]
pub enum PassKind {
    /// A fused run of pointwise ops: one read and one write of the frame.
    Pointwise(Vec<PointOp>),
    /// One direction of a separable convolution (odd-length weights, edges clamped).
    Convolve1D {
        axis: Axis,
        weights: Arc<Vec<f32>>,
        alpha: bool,
    },
    /// A direct 2-D convolution on the colour channels.
    Convolve2D {
        width: u32,
        height: u32,
        weights: Arc<Vec<f32>>,
        bias: f32,
    },
    /// Unsharp mask: blur both directions, then combine with the pass input.
    Unsharp { weights: Arc<Vec<f32>>, amount: f32 },
    /// One direction of a resample.
    Resample1D {
        axis: Axis,
        table: Arc<ResampleTable>,
    },
    /// Pure pixel moves: `out(x, y) = in(x0 + fx(x), y0 + fy(y))`, `fx` reversing the row when
    /// `flip_h` (likewise `fy`). Crops and flips.
    Remap {
        x0: u32,
        y0: u32,
        flip_h: bool,
        flip_v: bool,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    pub kind: PassKind,
    pub input: (u32, u32),
    pub output: (u32, u32),
}

/// A compiled chain for one input size.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub passes: Vec<Pass>,
    pub input: (u32, u32),
    pub output: (u32, u32),
}

/// A filter that cannot run on a frame of this size (a crop outside it, say).
#[derive(Debug, thiserror::Error)]
#[error("{filter}: {message}")]
pub struct PlanError {
    pub filter: &'static str,
    /// Byte span of the stage in the chain text.
    pub span: (usize, usize),
    pub message: String,
}

impl Plan {
    /// A plan that passes frames through unchanged.
    pub fn identity(width: u32, height: u32) -> Plan {
        Plan {
            passes: Vec::new(),
            input: (width, height),
            output: (width, height),
        }
    }

    /// Builds a plan from ops directly (used by tests and benches that skip the chain language).
    pub fn from_ops(ops: Vec<Op>, width: u32, height: u32) -> Plan {
        let mut builder = Builder {
            passes: Vec::new(),
            size: (width, height),
        };
        for op in ops {
            builder.push(op);
        }
        Plan {
            passes: builder.passes,
            input: (width, height),
            output: builder.size,
        }
    }
}

struct Builder {
    passes: Vec<Pass>,
    size: (u32, u32),
}

impl Builder {
    fn add(&mut self, kind: PassKind, output: (u32, u32)) {
        self.passes.push(Pass {
            kind,
            input: self.size,
            output,
        });
        self.size = output;
    }

    fn push(&mut self, op: Op) {
        let size = self.size;
        match op {
            Op::Point(p) => {
                if let Some(Pass {
                    kind: PassKind::Pointwise(run),
                    ..
                }) = self.passes.last_mut()
                {
                    run.push(p);
                } else {
                    self.add(PassKind::Pointwise(vec![p]), size);
                }
            }
            Op::Blur { weights } => {
                if weights.len() > 1 {
                    let weights = Arc::new(weights);
                    for axis in [Axis::Horizontal, Axis::Vertical] {
                        let kind = PassKind::Convolve1D {
                            axis,
                            weights: weights.clone(),
                            alpha: true,
                        };
                        self.add(kind, size);
                    }
                }
            }
            Op::Convolve {
                width,
                height,
                weights,
                bias,
            } => {
                let kind = PassKind::Convolve2D {
                    width,
                    height,
                    weights: Arc::new(weights),
                    bias,
                };
                self.add(kind, size);
            }
            Op::Unsharp { weights, amount } => self.add(
                PassKind::Unsharp {
                    weights: Arc::new(weights),
                    amount,
                },
                size,
            ),
            Op::Scale {
                width,
                height,
                filter,
            } => {
                if width != size.0 || filter == ResampleFilter::Nearest {
                    let table = Arc::new(ResampleTable::new(filter, size.0, width));
                    self.add(
                        PassKind::Resample1D {
                            axis: Axis::Horizontal,
                            table,
                        },
                        (width, size.1),
                    );
                }
                if height != size.1 || filter == ResampleFilter::Nearest {
                    let table = Arc::new(ResampleTable::new(filter, size.1, height));
                    self.add(
                        PassKind::Resample1D {
                            axis: Axis::Vertical,
                            table,
                        },
                        (width, height),
                    );
                }
            }
            Op::Crop {
                x,
                y,
                width,
                height,
            } => {
                let kind = PassKind::Remap {
                    x0: x,
                    y0: y,
                    flip_h: false,
                    flip_v: false,
                };
                self.add(kind, (width, height));
            }
            Op::Flip {
                horizontal,
                vertical,
            } => {
                let kind = PassKind::Remap {
                    x0: 0,
                    y0: 0,
                    flip_h: horizontal,
                    flip_v: vertical,
                };
                self.add(kind, size);
            }
        }
    }
}

/// Where a frame is in its stream: what per-frame expressions read besides the frame's size.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FrameTime {
    /// Seconds from the start of the stream.
    pub t: f64,
    /// Index of the frame, from 0.
    pub n: u64,
    /// Frames per second; 0 for an image or when unknown.
    pub fps: f64,
    /// Seconds the stream lasts; 0 for an image or when unknown.
    pub duration: f64,
}

impl FrameTime {
    /// The value of the per-frame variable `name` for a frame of `(w, h)` (NaN for a name that
    /// is none: the resolver lets no such name through).
    pub fn variable(&self, name: &str, (w, h): (u32, u32)) -> f64 {
        match name {
            "t" => self.t,
            "n" => self.n as f64,
            "w" => w as f64,
            "h" => h as f64,
            "fps" => self.fps,
            "duration" => self.duration,
            _ => f64::NAN,
        }
    }
}

/// Lowers every stage of `chain` for a `width`×`height` input and fuses what can be fused, for
/// a chain whose values do not change over time or for the first frame of one that does.
pub fn compile(chain: &Chain, width: u32, height: u32) -> Result<Plan, PlanError> {
    compile_at(chain, width, height, &FrameTime::default())
}

/// [`compile`] for the frame at `time`: per-frame values are evaluated (a value outside its
/// parameter's range is clamped to it), and a stage whose time range or `enable` leaves out
/// this frame is left out of the plan, so that it costs nothing.
pub fn compile_at(
    chain: &Chain,
    width: u32,
    height: u32,
    time: &FrameTime,
) -> Result<Plan, PlanError> {
    let mut builder = Builder {
        passes: Vec::new(),
        size: (width, height),
    };
    for stage in &chain.stages {
        let error = |message: String| PlanError {
            filter: stage.spec.name,
            span: stage.span,
            message,
        };
        let size = builder.size;
        let vars = |name: &str| time.variable(name, size);
        if let Some(enable) = &stage.enable {
            if enable.eval(&vars) == 0.0 {
                continue;
            }
        }
        let evaluated;
        let args = if stage.varying.is_empty() {
            &stage.args
        } else {
            let mut args = stage.args.clone();
            for (i, expr) in &stage.varying {
                let param = &stage.spec.params[*i];
                let v = expr.eval(&vars);
                if !v.is_finite() {
                    return Err(error(format!(
                        "`{}` = {expr} comes to {v} at frame {} (t = {}s)",
                        param.name, time.n, time.t
                    )));
                }
                args.values[*i] = Some(match param.kind {
                    ParamKind::Float { min, max } => ArgValue::Float(v.clamp(min, max)),
                    ParamKind::Int { min, max } => {
                        ArgValue::Int((v.round() as i64).clamp(min, max))
                    }
                    ParamKind::Bool => ArgValue::Bool(v != 0.0),
                    _ => {
                        return Err(error(format!(
                            "`{}` cannot change from frame to frame",
                            param.name
                        )))
                    }
                });
            }
            evaluated = args;
            &evaluated
        };
        let ops = (stage.spec.lower)(args, size, time).map_err(error)?;
        for op in ops {
            builder.push(op);
        }
    }
    Ok(Plan {
        passes: builder.passes,
        input: (width, height),
        output: builder.size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointwise_ops_fuse_into_one_pass() {
        let ops = vec![
            Op::Point(PointOp::Invert),
            Op::Point(PointOp::Grayscale),
            Op::Blur {
                weights: box_weights(1),
            },
            Op::Point(PointOp::Invert),
        ];
        let plan = Plan::from_ops(ops, 8, 8);
        assert_eq!(plan.passes.len(), 4);
        assert_eq!(
            plan.passes[0].kind,
            PassKind::Pointwise(vec![PointOp::Invert, PointOp::Grayscale])
        );
    }

    #[test]
    fn resample_weights_sum_to_one_and_identity_is_exact() {
        for filter in [
            ResampleFilter::Bilinear,
            ResampleFilter::Bicubic,
            ResampleFilter::Lanczos3,
        ] {
            for (src, dst) in [(10, 10), (10, 23), (37, 5)] {
                let t = ResampleTable::new(filter, src, dst);
                for i in 0..dst as usize {
                    let s: f32 = t.weights[i * t.taps as usize..][..t.taps as usize]
                        .iter()
                        .sum();
                    assert!(
                        (s - 1.0).abs() < 1e-5,
                        "{filter:?} {src}->{dst} row {i} sums to {s}"
                    );
                }
            }
            let t = ResampleTable::new(filter, 9, 9);
            for i in 0..9usize {
                let row = &t.weights[i * t.taps as usize..][..t.taps as usize];
                let at = (i as i32 - t.starts[i]) as usize;
                assert!(
                    (row[at] - 1.0).abs() < 1e-6,
                    "{filter:?} identity row {i}: {row:?}"
                );
            }
        }
    }

    #[test]
    fn gaussian_radius_is_three_sigma() {
        assert_eq!(gaussian_weights(1.0).len(), 7);
        assert_eq!(gaussian_weights(2.5).len(), 17);
    }
}
