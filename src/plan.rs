//! Fusion, sizes and formats of the passes a backend runs, for one stream's format.
//!
//! A resolved chain is lowered stage by stage for the [`Format`] entering each stage (filters
//! answer with [`Op`]s that already hold per-plane kernels and tables), then [`Plan`] fuses
//! consecutive pointwise ops into one pass and records every pass's input and output format.
//! [`Compiler`] keeps what it lowered: a stage whose values do not change is lowered once per
//! stream, and a stage with per-frame values is lowered again only when a value it depends on
//! changes, so a `sigma` that follows `t` rebuilds its weights while the stages around it keep
//! theirs (and their GPU state, which compares them by pointer). Both backends execute exactly
//! these passes with the same data. This module knows ops and chains, never backends.

use std::sync::Arc;

mod strips;
pub use strips::{run_in_strips, Strip};

use crate::chain::Chain;
use crate::filters::{ArgValue, Args, ParamKind};
use crate::frame::Format;
use crate::op::{
    Bilateral, Convolution, Denoise, Gradient, Op, PerPlane, Planes, PointOp, Rank, Resample,
    ResampleTable, Separable, Temporal, Warp,
};

/// Kernels for resampling.
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

    /// Half-width of the kernel in source samples at scale 1.
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

impl ResampleTable {
    /// Weights mapping `src` samples onto `dst` samples where output sample `i` is centred on
    /// source position `i · ratio + origin` (in source samples, sample `k` at `k`), widening the
    /// kernel by the reduction factor when shrinking so that downscales do not alias. Luma with
    /// pixel centres aligned has `ratio = src / dst` and `origin = (ratio − 1) / 2`; chroma
    /// takes luma's ratio and an origin from its siting (see [`plane_resample`]).
    pub fn new(
        filter: ResampleFilter,
        src: u32,
        dst: u32,
        ratio: f64,
        origin: f64,
    ) -> ResampleTable {
        if filter == ResampleFilter::Nearest {
            let starts = (0..dst)
                .map(|i| {
                    let centre = i as f64 * ratio + origin;
                    ((centre + 0.5).floor() as i32).clamp(0, src as i32 - 1)
                })
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
            let centre = i as f64 * ratio + origin;
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

/// The resample of plane `p` of `input` to the same plane of `output` (a frame of another
/// size, or of another chroma subsampling or siting of the same family): ratios from the luma
/// sizes, so that chroma lands where its luma does; subsampled chroma placed by each frame's
/// siting.
pub fn plane_resample(
    filter: ResampleFilter,
    input: &Format,
    output: &Format,
    p: usize,
) -> Resample {
    let (ih_shift, iv_shift) = input.layout.shift(p);
    let (oh_shift, ov_shift) = output.layout.shift(p);
    let (iw, ih) = input.plane_size(p);
    let (ow, oh) = output.plane_size(p);
    let axis = |horizontal: bool, shifts: (u8, u8), sizes: (u32, u32), luma: (u32, u32)| {
        let ratio = luma.0 as f64 / luma.1 as f64;
        let (f_in, f_out) = ((1u32 << shifts.0) as f64, (1u32 << shifts.1) as f64);
        // Chroma sample i sits at luma position f·i + c (c in luma samples from the left
        // edge of luma sample 0): the output's sample j at f_out·j + c_out maps to the input
        // position (f_out·j + c_out)·ratio, which is input sample (that − c_in)/f_in.
        let c_in = 0.5 + input.colour.siting.offset(horizontal, 1 << shifts.0);
        let c_out = 0.5 + output.colour.siting.offset(horizontal, 1 << shifts.1);
        Arc::new(ResampleTable::new(
            filter,
            sizes.0,
            sizes.1,
            f_out * ratio / f_in,
            (c_out * ratio - c_in) / f_in,
        ))
    };
    Resample {
        h: axis(
            true,
            (ih_shift, oh_shift),
            (iw, ow),
            (input.width, output.width),
        ),
        v: axis(
            false,
            (iv_shift, ov_shift),
            (ih, oh),
            (input.height, output.height),
        ),
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

/// Normalised weights of a box `width` samples wide, centred on a sample: each tap weighs the
/// part of its sample the box covers (a box of 2r + 1 samples has equal weights; one of 1.5
/// samples, as a 3-pixel box is on half-resolution chroma, weighs 1/6, 2/3, 1/6).
pub fn box_weights(width: f64) -> Vec<f32> {
    let half = width / 2.0;
    let radius = (half - 0.5).ceil().max(0.0) as i64;
    let raw: Vec<f64> = (-radius..=radius)
        .map(|k| {
            let (lo, hi) = (k as f64 - 0.5, k as f64 + 0.5);
            (hi.min(half) - lo.max(-half)).max(0.0)
        })
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.iter().map(|w| (w / sum) as f32).collect()
}

/// One pass over a frame: what a backend dispatches.
#[derive(Clone, Debug, PartialEq)]
pub enum PassKind {
    /// A fused run of pointwise ops ([`crate::op::apply_point_ops`] defines a pixel's result):
    /// one read and one write of each plane it changes. On subsampled Y′CbCr, a pass with an
    /// RGB op works on blocks of the subsampling (2×2 at 4:2:0): each pixel with its block's
    /// chroma, the block's new chroma the mean of its pixels'. The output format may add an
    /// alpha plane the input lacks (a pixel op writing alpha); its input samples are opaque.
    Pointwise(Vec<PointOp>),
    Blur(PerPlane<Separable>),
    Convolve(PerPlane<Convolution>),
    Unsharp {
        planes: PerPlane<Separable>,
        amount: f32,
    },
    Gradient(PerPlane<Gradient>),
    Rank(PerPlane<Rank>),
    Bilateral(PerPlane<Bilateral>),
    Denoise(PerPlane<Denoise>),
    /// Both axes of a resample (the intermediate is neither rounded nor clamped).
    Resample(PerPlane<Resample>),
    /// Sample moves: crops, flips and transpositions, with the rectangle's origin in luma
    /// pixels of the input.
    Remap {
        x: u32,
        y: u32,
        flip_h: bool,
        flip_v: bool,
        transpose: bool,
    },
    /// Each plane interpolated at the positions its affine map gives.
    Warp(PerPlane<Warp>),
    /// Each plane that has one from this frame and the past ones kept under the op's id.
    Temporal(Temporal),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    pub kind: PassKind,
    pub input: Format,
    pub output: Format,
}

impl Pass {
    /// The planes of the output the pass computes; the others are the input's, unchanged.
    pub fn planes(&self) -> Planes {
        match &self.kind {
            PassKind::Pointwise(ops) => {
                let mut planes = ops.iter().fold(Planes::NONE, |s, op| {
                    Planes(s.0 | op.planes(&self.output).0)
                });
                if let Some(a) = self.output.layout.alpha_plane() {
                    if !self.input.layout.alpha {
                        planes = planes.with(a);
                    }
                }
                planes
            }
            PassKind::Blur(planes) | PassKind::Unsharp { planes, .. } => Planes::of(planes),
            PassKind::Convolve(planes) => Planes::of(planes),
            PassKind::Gradient(planes) => Planes::of(planes),
            PassKind::Rank(planes) => Planes::of(planes),
            PassKind::Bilateral(planes) => Planes::of(planes),
            PassKind::Denoise(planes) => Planes::of(planes),
            PassKind::Resample(planes) => Planes::of(planes),
            PassKind::Remap { .. } | PassKind::Warp(_) => Planes::all(&self.output),
            PassKind::Temporal(t) => Planes::of(&t.planes),
        }
    }

    /// The origin of the remapped rectangle in plane `p`'s samples.
    pub fn remap_origin(&self, p: usize) -> (u32, u32) {
        match self.kind {
            PassKind::Remap { x, y, .. } => {
                let (h, v) = self.input.layout.shift(p);
                (x >> h, y >> v)
            }
            _ => (0, 0),
        }
    }
}

/// A compiled chain for one input format.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub passes: Vec<Pass>,
    pub input: Format,
    pub output: Format,
}

/// A filter that cannot run on a frame of this format (a crop outside it, say).
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
    pub fn identity(format: Format) -> Plan {
        Plan {
            passes: Vec::new(),
            input: format,
            output: format,
        }
    }

    /// Builds a plan from ops directly (used by tests and benches that skip the chain language).
    pub fn from_ops(ops: Vec<Op>, format: Format) -> Plan {
        let mut builder = Builder::new(format);
        for op in ops {
            builder.push(op);
        }
        builder.finish(format)
    }
}

struct Builder {
    passes: Vec<Pass>,
    format: Format,
}

impl Builder {
    fn new(format: Format) -> Builder {
        Builder {
            passes: Vec::new(),
            format,
        }
    }

    fn finish(self, input: Format) -> Plan {
        Plan {
            passes: self.passes,
            input,
            output: self.format,
        }
    }

    fn add(&mut self, kind: PassKind, output: Format) {
        self.passes.push(Pass {
            kind,
            input: self.format,
            output,
        });
        self.format = output;
    }

    fn push(&mut self, op: Op) {
        let format = self.format;
        if op.planes(&format).is_empty() {
            return;
        }
        let output = op.output(&format);
        match op {
            Op::Point(p) => {
                if let Some(Pass {
                    kind: PassKind::Pointwise(run),
                    output: out,
                    ..
                }) = self.passes.last_mut()
                {
                    run.push(p);
                    *out = output;
                    self.format = output;
                } else {
                    self.add(PassKind::Pointwise(vec![p]), output);
                }
            }
            Op::Blur(planes) => self.add(PassKind::Blur(planes), output),
            Op::Convolve(planes) => self.add(PassKind::Convolve(planes), output),
            Op::Gradient(planes) => self.add(PassKind::Gradient(planes), output),
            Op::Rank(planes) => self.add(PassKind::Rank(planes), output),
            Op::Bilateral(planes) => self.add(PassKind::Bilateral(planes), output),
            Op::Denoise(planes) => self.add(PassKind::Denoise(planes), output),
            Op::Unsharp { planes, amount } => {
                self.add(PassKind::Unsharp { planes, amount }, output)
            }
            Op::Resample { planes, .. } => self.add(PassKind::Resample(planes), output),
            Op::Remap {
                x,
                y,
                flip_h,
                flip_v,
                transpose,
                ..
            } => self.add(
                PassKind::Remap {
                    x,
                    y,
                    flip_h,
                    flip_v,
                    transpose,
                },
                output,
            ),
            Op::Warp { planes, .. } => self.add(PassKind::Warp(planes), output),
            Op::Temporal(t) => self.add(PassKind::Temporal(t), output),
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

/// Lowers every stage of `chain` for an input of `format` and fuses what can be fused, for a
/// chain whose values do not change over time or for the first frame of one that does.
pub fn compile(chain: &Chain, format: &Format) -> Result<Plan, PlanError> {
    compile_at(chain, format, &FrameTime::default())
}

/// [`compile`] for the frame at `time`: per-frame values are evaluated (a value outside its
/// parameter's range is clamped to it), and a stage whose time range or `enable` leaves out
/// this frame is left out of the plan, so that it costs nothing.
pub fn compile_at(chain: &Chain, format: &Format, time: &FrameTime) -> Result<Plan, PlanError> {
    Compiler::new(chain).plan_at(format, time)
}

/// What one stage was last lowered for, and into.
struct Lowered {
    input: Format,
    /// The evaluated values of the stage's per-frame parameters (empty for a stage without).
    values: Vec<Option<ArgValue>>,
    ops: Vec<Op>,
}

/// Compiles a chain's plan frame after frame, lowering each stage again only when its input
/// format or one of its per-frame values changed.
pub struct Compiler<'a> {
    chain: &'a Chain,
    lowered: Vec<Option<Lowered>>,
}

impl<'a> Compiler<'a> {
    pub fn new(chain: &'a Chain) -> Compiler<'a> {
        Compiler {
            chain,
            lowered: (0..chain.stages.len()).map(|_| None).collect(),
        }
    }

    /// The chain it compiles.
    pub fn chain(&self) -> &'a Chain {
        self.chain
    }

    /// The plan for a frame of `format` at `time`.
    pub fn plan_at(&mut self, format: &Format, time: &FrameTime) -> Result<Plan, PlanError> {
        let mut builder = Builder::new(*format);
        for (i, stage) in self.chain.stages.iter().enumerate() {
            let error = |message: String| PlanError {
                filter: stage.spec.name,
                span: stage.span,
                message,
            };
            let input = builder.format;
            let size = (input.width, input.height);
            let frame_vars = |name: &str| time.variable(name, size);
            if let Some(enable) = &stage.enable {
                if enable.eval(&frame_vars) == 0.0 {
                    continue;
                }
            }
            // The stage's own names (overlay's W, h, ...) before the frame's.
            let own = match stage.varying.is_empty() {
                true => Vec::new(),
                false => crate::filters::stage_values(stage.spec.name, &stage.args, &input)
                    .map_err(error)?,
            };
            let vars = |name: &str| match own.iter().find(|(n, _)| *n == name) {
                Some((_, v)) => *v,
                None => frame_vars(name),
            };
            let mut values = Vec::with_capacity(stage.varying.len());
            for (k, expr) in &stage.varying {
                let param = &stage.spec.params[*k];
                let v = expr.eval(&vars);
                if !v.is_finite() {
                    return Err(error(format!(
                        "`{}` = {expr} comes to {v} at frame {} (t = {}s)",
                        param.name, time.n, time.t
                    )));
                }
                values.push(Some(match param.kind {
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
                }));
            }
            // `pixel` reads the frame's variables itself (its uniforms), grain the frame's
            // index and an overlay of a video the frame's time: they are lowered for every
            // frame of a varying chain, which costs the uniforms (their programs are shared)
            // or the video's next picture, not a compile.
            let reads_frame = crate::filters::reads_frame(stage.spec.name)
                || crate::filters::reads_video(stage.spec.name, &stage.args);
            let kept = match &self.lowered[i] {
                Some(l) if !reads_frame && l.input == input && l.values == values => {
                    Some(l.ops.clone())
                }
                _ => None,
            };
            let ops = match kept {
                Some(ops) => ops,
                None => {
                    let args = evaluated(&stage.args, &stage.varying, &values);
                    let mut ops = (stage.spec.lower)(&args, &input, time).map_err(error)?;
                    // A temporal op's history is the stage's, whatever else the plan holds.
                    for op in &mut ops {
                        if let Op::Temporal(t) = op {
                            t.id = i as u32;
                        }
                    }
                    self.lowered[i] = Some(Lowered {
                        input,
                        values,
                        ops: ops.clone(),
                    });
                    ops
                }
            };
            for op in ops {
                builder.push(op);
            }
        }
        Ok(builder.finish(*format))
    }
}

/// `args` with the per-frame values put in.
fn evaluated(
    args: &Args,
    varying: &[(usize, crate::chain::expr::Expr)],
    values: &[Option<ArgValue>],
) -> Args {
    let mut args = args.clone();
    for ((k, _), v) in varying.iter().zip(values) {
        args.values[*k] = v.clone();
    }
    args
}

/// The separable kernel of plane `p` for a blur defined on luma by `luma_taps(scale)`, where
/// `scale` is how many luma samples one sample of the plane spans along the axis (2 on 4:2:0
/// chroma): chroma gets the same blur in the picture, `σ/2` where luma has `σ`.
pub fn plane_separable(
    format: &Format,
    p: usize,
    taps: &dyn Fn(f64) -> Vec<f32>,
    cache: &mut Vec<(f64, Arc<Vec<f32>>)>,
) -> Separable {
    let (h, v) = format.layout.shift(p);
    let mut get = |scale: f64| -> Arc<Vec<f32>> {
        if let Some((_, w)) = cache.iter().find(|(s, _)| *s == scale) {
            return w.clone();
        }
        let w = Arc::new(taps(scale));
        cache.push((scale, w.clone()));
        w
    };
    Separable {
        h: get((1u32 << h) as f64),
        v: get((1u32 << v) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Colour, Layout, Matrix};
    use crate::op::{Curve, Curves};

    fn yuv420(w: u32, h: u32) -> Format {
        Format::new(w, h, Layout::YUV420, 8, Colour::video(Matrix::Bt709, false))
    }

    #[test]
    fn pointwise_ops_fuse_into_one_pass() {
        let invert = Op::Point(PointOp::Curves(Curves([
            Some(Curve::Affine {
                scale: -1.0,
                offset: 251.0,
            }),
            None,
            None,
        ])));
        let f = yuv420(8, 8);
        let mut cache = Vec::new();
        let blur = Op::Blur(std::array::from_fn(|p| {
            (p < 3).then(|| plane_separable(&f, p, &|s| box_weights(3.0 / s), &mut cache))
        }));
        let plan = Plan::from_ops(vec![invert.clone(), invert.clone(), blur, invert], f);
        assert_eq!(plan.passes.len(), 3);
        assert!(matches!(&plan.passes[0].kind, PassKind::Pointwise(run) if run.len() == 2));
        // One weight vector per scale: luma's and chroma's.
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn resample_weights_sum_to_one_and_identity_is_exact() {
        for filter in [
            ResampleFilter::Bilinear,
            ResampleFilter::Bicubic,
            ResampleFilter::Lanczos3,
        ] {
            for (src, dst) in [(10, 10), (10, 23), (37, 5)] {
                let ratio = src as f64 / dst as f64;
                let t = ResampleTable::new(filter, src, dst, ratio, (ratio - 1.0) / 2.0);
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
            let t = ResampleTable::new(filter, 9, 9, 1.0, 0.0);
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

    /// Halving 4:2:0 left-sited chroma: output chroma sample j sits at luma 4j + 0.5 of the
    /// input, which is input chroma position 2j + 0.25 (between samples 2j and 2j + 1, nearer
    /// the first); centred chroma lands at 2j + 0.5.
    #[test]
    fn chroma_is_placed_by_its_siting() {
        let input = yuv420(16, 16);
        let output = yuv420(8, 8);
        let r = plane_resample(ResampleFilter::Bilinear, &input, &output, 1);
        let centre = |t: &ResampleTable, j: usize| -> f64 {
            let w = &t.weights[j * t.taps as usize..][..t.taps as usize];
            w.iter()
                .enumerate()
                .map(|(k, &w)| w as f64 * (t.starts[j] + k as i32) as f64)
                .sum()
        };
        assert!((centre(&r.h, 1) - 2.25).abs() < 1e-5, "{}", centre(&r.h, 1));
        assert!((centre(&r.v, 1) - 2.5).abs() < 1e-5, "{}", centre(&r.v, 1));
        let luma = plane_resample(ResampleFilter::Bilinear, &input, &output, 0);
        assert!((centre(&luma.h, 1) - 2.5).abs() < 1e-5);
    }

    #[test]
    fn gaussian_radius_is_three_sigma_and_boxes_cover_what_they_span() {
        assert_eq!(gaussian_weights(1.0).len(), 7);
        assert_eq!(gaussian_weights(2.5).len(), 17);
        let b = box_weights(3.0);
        assert!(b.iter().all(|&w| (w - 1.0 / 3.0).abs() < 1e-6));
        let half = box_weights(1.5);
        assert_eq!(half.len(), 3);
        assert!((half[0] - 1.0 / 6.0).abs() < 1e-6 && (half[1] - 2.0 / 3.0).abs() < 1e-6);
        assert_eq!(box_weights(1.0), vec![1.0]);
    }
}
