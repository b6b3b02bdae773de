//! The op vocabulary: what filters lower into, what the plan fuses and tiles, what both
//! backends implement.
//!
//! A filter lowers, for one stream's [`Format`], into ops that already say everything about
//! that format: which planes they touch ([`Planes`]; untouched planes pass through without a
//! copy), their colour domain ([`Domain`]: per-plane maps in the frame's own Y′CbCr, or RGB),
//! their reach per plane and axis (the halo tiling needs), and the per-plane data computed once
//! (kernels scaled for subsampled chroma, resample tables placed by the chroma siting). The plan
//! reads these; the backends do not recompute them. This module is a leaf: filters, the plan
//! and the backends import it, and it imports none of them.
//!
//! The arithmetic each op means is defined here once, in f32 ([`Curve::apply`],
//! [`ColourMath`], [`crate::pixel::PixelProgram::eval`]); the CPU kernels and the WGSL follow it.

use std::sync::Arc;

use crate::frame::{Family, Format, Layout, Matrix, Role, Siting};
use crate::pixel::PixelProgram;

mod picture;
mod table;
mod temporal;
pub use picture::{over as picture_over, Blend, Picture, Placement};
pub use table::{ChannelTables, Cube, CubeInterp};
pub use temporal::{coefficients, Denoise3d, Mix, Temporal, TemporalKind, HISTORY_LIMIT};

/// Planes a frame can have.
pub const MAX_PLANES: usize = 4;

/// A set of planes: bit `p` for plane `p`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Planes(pub u8);

impl Planes {
    pub const NONE: Planes = Planes(0);

    /// Every plane of `format`.
    pub fn all(format: &Format) -> Planes {
        Planes((1u8 << format.planes()) - 1)
    }

    pub fn contains(self, p: usize) -> bool {
        self.0 & (1 << p) != 0
    }

    pub fn with(self, p: usize) -> Planes {
        Planes(self.0 | 1 << p)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..MAX_PLANES).filter(move |&p| self.contains(p))
    }

    /// The planes of `per_plane` that hold something.
    pub fn of<T>(per_plane: &PerPlane<T>) -> Planes {
        per_plane
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some())
            .fold(Planes::NONE, |s, (p, _)| s.with(p))
    }
}

/// Something for each plane; `None` where a plane is left as it is.
pub type PerPlane<T> = [Option<T>; MAX_PLANES];

/// The colour space a pointwise op is defined in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Domain {
    /// One map per plane of the frame's Y′CbCr (or grey): affine or a curve, a plane at a time,
    /// so it runs on Y′CbCr frames as lookup tables and on RGB frames through the matrix.
    PerPlane,
    /// A function of the whole pixel in R′G′B′(A): Y′CbCr frames convert inside the pass.
    Rgb,
}

/// A map of one plane's code values, in 8-bit units (a deeper plane's code divided by
/// 2^(bits − 8), as FFmpeg's 8-bit filters are generalised); its result is clamped to the
/// plane's codes. Both forms are FFmpeg's `eq`: see `filters/color.rs`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Curve {
    /// `x · scale + offset`.
    Affine { scale: f32, offset: f32 },
    /// FFmpeg eq's table for gamma: with v = contrast · (x/255 − ½) + ½ + brightness, 0 where
    /// v ≤ 0, else 256 · (v · (1 − weight) + v^(1/gamma) · weight) − ½. (FFmpeg truncates
    /// 256 · (…); the ½ is that truncation's mean, so the value rounds to FFmpeg's code.)
    EqGamma {
        contrast: f32,
        brightness: f32,
        gamma: f32,
        weight: f32,
    },
}

impl Curve {
    /// The map at `x` (8-bit units), clamped to `0 ..= top`.
    #[inline(always)]
    pub fn apply(self, x: f32, top: f32) -> f32 {
        let v = match self {
            Curve::Affine { scale, offset } => x * scale + offset,
            Curve::EqGamma {
                contrast,
                brightness,
                gamma,
                weight,
            } => {
                let v = contrast * (x * (1.0 / 255.0) - 0.5) + 0.5 + brightness;
                if v <= 0.0 {
                    0.0
                } else {
                    256.0 * (v * (1.0 - weight) + v.powf(1.0 / gamma) * weight) - 0.5
                }
            }
        };
        clamp(v, top)
    }

    /// The identity map.
    pub const IDENTITY: Curve = Curve::Affine {
        scale: 1.0,
        offset: 0.0,
    };
}

/// `v` clamped to `0 ..= top`, NaN to 0.
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN
pub fn clamp(v: f32, top: f32) -> f32 {
    v.max(0.0).min(top)
}

/// One curve per colour plane of the frame's Y′CbCr: luma (or grey), Cb, Cr; `None` leaves a
/// plane as it is. Alpha is never touched.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Curves(pub [Option<Curve>; 3]);

/// A per-pixel op.
#[derive(Clone, Debug, PartialEq)]
pub enum PointOp {
    /// Curves of the frame's Y′CbCr planes (eq, invert, grayscale).
    Curves(Curves),
    /// `pixel`'s channel expressions over R′G′B′A (0..=1): a compiled program and the values of
    /// its uniforms for this frame. Equal programs run the same code whatever their uniforms,
    /// so a plan recompiled for the next frame keeps its GPU pipeline and only rewrites
    /// `uniforms`.
    Pixel {
        program: Arc<PixelProgram>,
        uniforms: Vec<f32>,
    },
    /// Each R′G′B′ channel through its own table (curves, lut1d).
    Channels(Arc<ChannelTables>),
    /// R′G′B′ through a 3-D table (lut3d), mixed with the input: `x + (cube(x) − x) · strength`.
    Cube {
        cube: Arc<Cube>,
        interp: CubeInterp,
        strength: f32,
    },
    /// Alpha composited onto an opaque colour (R′G′B′, 0..=1), which removes the alpha plane:
    /// `c·a + colour·(1 − a)`.
    Flatten([f32; 3]),
    /// A picture laid over the frame (overlay, watermark), in R′G′B′A.
    Overlay {
        picture: Arc<Picture>,
        at: Placement,
    },
}

impl PointOp {
    pub fn domain(&self) -> Domain {
        match self {
            PointOp::Curves(_) => Domain::PerPlane,
            PointOp::Pixel { .. }
            | PointOp::Channels(_)
            | PointOp::Cube { .. }
            | PointOp::Flatten(_)
            | PointOp::Overlay { .. } => Domain::Rgb,
        }
    }

    /// The program of a `Pixel` op.
    pub fn pixel_program(&self) -> Option<&PixelProgram> {
        match self {
            PointOp::Pixel { program, .. } => Some(program),
            _ => None,
        }
    }

    /// The planes of `format` the op changes.
    pub fn planes(&self, format: &Format) -> Planes {
        match self {
            PointOp::Curves(Curves(c)) => match format.layout.family {
                Family::Rgb => (0..3).fold(Planes::NONE, |s, p| s.with(p)),
                _ => (0..format.layout.colour_planes())
                    .filter(|&p| c[p].is_some())
                    .fold(Planes::NONE, |s, p| s.with(p)),
            },
            PointOp::Pixel { program, .. } => {
                let mut planes =
                    (0..format.layout.colour_planes()).fold(Planes::NONE, |s, p| s.with(p));
                if let Some(a) = format.layout.alpha_plane() {
                    if program.writes_alpha() {
                        planes = planes.with(a);
                    }
                }
                planes
            }
            PointOp::Channels(_) | PointOp::Cube { .. } => {
                (0..format.layout.colour_planes()).fold(Planes::NONE, |s, p| s.with(p))
            }
            PointOp::Flatten(_) => {
                (0..format.layout.colour_planes()).fold(Planes::NONE, |s, p| s.with(p))
            }
            // The frame's alpha, where it has one, becomes that of the picture over it.
            PointOp::Overlay { .. } => {
                let colour =
                    (0..format.layout.colour_planes()).fold(Planes::NONE, |s, p| s.with(p));
                match format.layout.alpha_plane() {
                    Some(a) => colour.with(a),
                    None => colour,
                }
            }
        }
    }

    /// True when the op reads the pixel's position.
    pub fn uses_coordinates(&self) -> bool {
        match self {
            PointOp::Pixel { program, .. } => program.uses_coordinates(),
            PointOp::Overlay { .. } => true,
            _ => false,
        }
    }

    /// The R′G′B′ of a table op (`Channels`, `Cube`) at `rgb`.
    #[inline(always)]
    pub fn apply_table(&self, rgb: [f32; 3]) -> [f32; 3] {
        match self {
            PointOp::Channels(t) => t.apply_rgb(rgb),
            PointOp::Cube {
                cube,
                interp,
                strength,
            } => {
                let out = cube.apply(*interp, rgb);
                std::array::from_fn(|c| rgb[c] + (out[c] - rgb[c]) * strength)
            }
            _ => rgb,
        }
    }
}

/// The curves a run of ops applies to plane `p` of a Y′CbCr or grey frame with `colour_planes`
/// colour planes, in order (none for alpha).
pub fn plane_curves(
    ops: &[PointOp],
    p: usize,
    colour_planes: usize,
) -> impl Iterator<Item = Curve> + '_ {
    ops.iter().filter_map(move |op| match op {
        PointOp::Curves(Curves(c)) if p < colour_planes => c[p],
        _ => None,
    })
}

/// `curves` one after another at a code value, in code values, unrounded: what a plane's
/// lookup table holds for that code, on either backend.
#[inline(always)]
pub fn compose_curves(
    curves: impl IntoIterator<Item = Curve>,
    math: &ColourMath,
    code: f32,
) -> f32 {
    let mut v = code * math.to_8bit;
    for c in curves {
        v = c.apply(v, math.top_8bit);
    }
    v * math.from_8bit
}

/// A fused run of pointwise ops evaluated on one pixel, as both backends define it. `pixel`
/// holds the frame's code values of each plane (alpha last where there is one); `xy` is the
/// pixel's position. The result is in code values, unrounded.
///
/// On a Y′CbCr or grey frame whose ops are all per-plane, each plane's value goes through its
/// curves alone (which is what lets the CPU use lookup tables). Otherwise the pixel is taken to
/// R′G′B′ through the frame's matrix and range ([`ColourMath`]), per-plane ops run on the
/// Y′CbCr of that R′G′B′, pixel ops on the R′G′B′, and the result goes back.
pub fn apply_point_ops(
    ops: &[PointOp],
    math: &ColourMath,
    pixel: [f32; MAX_PLANES],
    xy: (f32, f32),
) -> [f32; MAX_PLANES] {
    let mut out = pixel;
    if math.per_plane && ops.iter().all(|op| op.domain() == Domain::PerPlane) {
        for (p, v) in out.iter_mut().enumerate().take(math.colour_planes) {
            if plane_curves(ops, p, math.colour_planes).next().is_some() {
                *v = compose_curves(plane_curves(ops, p, math.colour_planes), math, *v);
            }
        }
        return out;
    }
    let mut rgba = math.to_rgba(pixel);
    for op in ops {
        match op {
            PointOp::Curves(Curves(c)) => {
                let ycc = math.rgb_to_ycc8(rgba);
                let ycc: [f32; 3] = std::array::from_fn(|i| match c[i] {
                    Some(curve) => curve.apply(ycc[i], 255.0),
                    None => ycc[i],
                });
                let [r, g, b] = math.ycc8_to_rgb(ycc);
                rgba = [r, g, b, rgba[3]];
            }
            PointOp::Pixel { program, uniforms } => {
                rgba = program.eval(uniforms, rgba, xy.0, xy.1);
            }
            PointOp::Overlay { picture, at } => {
                rgba = picture::over(picture, at, xy.0, xy.1, rgba);
            }
            PointOp::Flatten(colour) => rgba = flatten(colour, rgba),
            PointOp::Channels(_) | PointOp::Cube { .. } => {
                let [r, g, b] = op.apply_table([rgba[0], rgba[1], rgba[2]]);
                rgba = [r, g, b, rgba[3]];
            }
        }
    }
    math.from_rgba(rgba, &mut out);
    out
}

/// `rgba` composited onto the opaque `colour`: what [`PointOp::Flatten`] does to a pixel.
#[inline(always)]
pub fn flatten(colour: &[f32; 3], [r, g, b, a]: [f32; 4]) -> [f32; 4] {
    let mix = |v: f32, c: f32| c + (v - c) * a;
    [mix(r, colour[0]), mix(g, colour[1]), mix(b, colour[2]), 1.0]
}

/// What a pointwise pass needs to know of the frame's colour: the Y′CbCr ↔ R′G′B′ matrix, each
/// plane's zero and scale, and how codes relate to 8-bit units. Built from the format once per
/// pass; the GPU receives the same numbers as uniforms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColourMath {
    pub family: Family,
    pub colour_planes: usize,
    /// The frame's alpha plane, if it has one.
    pub alpha: Option<usize>,
    /// Y′CbCr or grey: curves run on the planes themselves.
    pub per_plane: bool,
    /// Kr, Kg, Kb of the matrix.
    pub k: [f32; 3],
    /// Zero and scale of the colour planes and alpha ([`Format::zero`], [`Format::scale`]).
    pub zero: [f32; MAX_PLANES],
    pub scale: [f32; MAX_PLANES],
    /// The largest code.
    pub max: f32,
    /// Codes → 8-bit units and back, and the largest code in 8-bit units.
    pub to_8bit: f32,
    pub from_8bit: f32,
    pub top_8bit: f32,
}

impl ColourMath {
    pub fn of(format: &Format) -> ColourMath {
        let (kr, kb) = format.colour.matrix.kr_kb();
        let planes = format.planes();
        let zero = std::array::from_fn(|p| {
            if p < planes {
                format.zero(p) as f32
            } else {
                0.0
            }
        });
        let scale = std::array::from_fn(|p| {
            if p < planes {
                format.scale(p) as f32
            } else {
                1.0
            }
        });
        let unit = format.unit() as f32;
        ColourMath {
            family: format.layout.family,
            colour_planes: format.layout.colour_planes(),
            alpha: format.layout.alpha_plane(),
            per_plane: format.layout.family != Family::Rgb,
            k: [kr as f32, (1.0 - kr - kb) as f32, kb as f32],
            zero,
            scale,
            max: format.max_code() as f32,
            to_8bit: 1.0 / unit,
            from_8bit: unit,
            top_8bit: format.max_code() as f32 / unit,
        }
    }

    /// A pixel's codes as normalised R′G′B′A, unclamped (Y′CbCr outside the RGB cube gives
    /// values outside 0..=1).
    #[inline(always)]
    pub fn to_rgba(&self, px: [f32; MAX_PLANES]) -> [f32; 4] {
        let norm = |p: usize| (px[p] - self.zero[p]) / self.scale[p];
        let a = self.alpha.map_or(1.0, |a| px[a] / self.max);
        match self.family {
            Family::Rgb => [norm(0), norm(1), norm(2), a],
            Family::Gray => {
                let y = norm(0);
                [y, y, y, a]
            }
            Family::Yuv => {
                let [kr, kg, kb] = self.k;
                let (y, cb, cr) = (norm(0), norm(1), norm(2));
                let r = y + 2.0 * (1.0 - kr) * cr;
                let b = y + 2.0 * (1.0 - kb) * cb;
                let g = (y - kr * r - kb * b) / kg;
                [r, g, b, a]
            }
        }
    }

    /// Normalised R′G′B′A back to codes in `out` (colour planes and alpha; unrounded).
    #[inline(always)]
    pub fn from_rgba(&self, [r, g, b, a]: [f32; 4], out: &mut [f32; MAX_PLANES]) {
        let code = |p: usize, v: f32| v * self.scale[p] + self.zero[p];
        match self.family {
            Family::Rgb => {
                out[0] = code(0, r);
                out[1] = code(1, g);
                out[2] = code(2, b);
            }
            Family::Gray => out[0] = code(0, self.luma([r, g, b])),
            Family::Yuv => {
                let [kr, _, kb] = self.k;
                let y = self.luma([r, g, b]);
                out[0] = code(0, y);
                out[1] = code(1, (b - y) / (2.0 * (1.0 - kb)));
                out[2] = code(2, (r - y) / (2.0 * (1.0 - kr)));
            }
        }
        if let Some(p) = self.alpha {
            out[p] = a * self.max;
        }
    }

    #[inline(always)]
    pub fn luma(&self, [r, g, b]: [f32; 3]) -> f32 {
        self.k[0] * r + self.k[1] * g + self.k[2] * b
    }

    /// Normalised R′G′B′ as full-range Y′CbCr in 8-bit units (luma 0..=255, chroma around 128),
    /// where per-plane curves are defined for RGB frames.
    #[inline(always)]
    pub fn rgb_to_ycc8(&self, [r, g, b, _]: [f32; 4]) -> [f32; 3] {
        let [kr, _, kb] = self.k;
        let y = self.luma([r, g, b]);
        [
            255.0 * y,
            128.0 + 255.0 * (b - y) / (2.0 * (1.0 - kb)),
            128.0 + 255.0 * (r - y) / (2.0 * (1.0 - kr)),
        ]
    }

    /// [`ColourMath::rgb_to_ycc8`] undone, R′G′B′ clamped to 0..=1.
    #[inline(always)]
    pub fn ycc8_to_rgb(&self, [y, cb, cr]: [f32; 3]) -> [f32; 3] {
        let [kr, kg, kb] = self.k;
        let y = y * (1.0 / 255.0);
        let (cb, cr) = ((cb - 128.0) * (1.0 / 255.0), (cr - 128.0) * (1.0 / 255.0));
        let r = y + 2.0 * (1.0 - kr) * cr;
        let b = y + 2.0 * (1.0 - kb) * cb;
        let g = (y - kr * r - kb * b) / kg;
        [clamp(r, 1.0), clamp(g, 1.0), clamp(b, 1.0)]
    }
}

/// Kr, Kg, Kb of `matrix`, as f32.
pub fn luma_weights(matrix: Matrix) -> [f32; 3] {
    let (kr, kb) = matrix.kr_kb();
    [kr as f32, (1.0 - kr - kb) as f32, kb as f32]
}

/// A separable kernel of one plane: horizontal and vertical taps (odd lengths, centre in the
/// middle, symmetric about it, summing to 1). Both backends rely on the symmetry: they add each
/// pair of mirrored samples before multiplying.
#[derive(Clone, Debug, PartialEq)]
pub struct Separable {
    pub h: Arc<Vec<f32>>,
    pub v: Arc<Vec<f32>>,
}

impl Separable {
    /// Taps beyond the centre, horizontally and vertically.
    pub fn reach(&self) -> (u32, u32) {
        ((self.h.len() / 2) as u32, (self.v.len() / 2) as u32)
    }
}

/// A 2-D convolution of one plane: `zero` (a code value) is taken off every sample before and
/// added back after, so that a kernel summing to 0 leaves chroma neutral and luma black;
/// `bias` (code values) is added after.
#[derive(Clone, Debug, PartialEq)]
pub struct Convolution {
    pub width: u32,
    pub height: u32,
    /// Row-major, already divided by the divisor.
    pub weights: Arc<Vec<f32>>,
    pub zero: f32,
    pub bias: f32,
}

/// Per-output-position weights of a one-dimensional resample: output `i` reads source samples
/// `starts[i] .. starts[i] + taps` (clamped to the edge) times `weights[i * taps ..]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ResampleTable {
    pub taps: u32,
    pub starts: Vec<i32>,
    pub weights: Vec<f32>,
}

/// A resample of one plane: its horizontal and vertical tables.
#[derive(Clone, Debug, PartialEq)]
pub struct Resample {
    pub h: Arc<ResampleTable>,
    pub v: Arc<ResampleTable>,
}

/// The pair of 3×3 derivative kernels of a [`Gradient`]: horizontal `[[-1,0,1],[-w,0,w],[-1,0,1]]`
/// and its transpose, with `w` = 2 (Sobel) or 1 (Prewitt).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GradientKernel {
    Sobel,
    Prewitt,
}

impl GradientKernel {
    /// The weight of the middle row (column) of the kernels.
    pub fn side(self) -> f32 {
        match self {
            GradientKernel::Sobel => 2.0,
            GradientKernel::Prewitt => 1.0,
        }
    }
}

/// The gradient magnitude of one plane, as FFmpeg's sobel and prewitt define it: with `gx`, `gy`
/// the two kernels' sums over the 3×3 neighbourhood of code values,
/// `floor(sqrt(gx² + gy²) · scale + delta)`, clamped to the plane's codes. [`Gradient::value`]
/// is the arithmetic both backends follow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gradient {
    pub kernel: GradientKernel,
    pub scale: f32,
    /// In code values of the plane.
    pub delta: f32,
    /// Row and column −1 are row and column 1 (mirrored, as FFmpeg's convolution filters read
    /// them); otherwise replicated like every other edge.
    pub mirror_start: bool,
}

impl Gradient {
    /// The neighbour before sample `i` (its row or column −1 or its last sample aside): `i − 1`,
    /// or at 0 the mirrored 1 or the replicated 0; `len` samples in all.
    #[inline(always)]
    pub fn before(&self, i: usize, len: usize) -> usize {
        match i {
            0 if self.mirror_start => 1.min(len - 1),
            0 => 0,
            _ => i - 1,
        }
    }
}

impl Gradient {
    /// The unclamped output at the centre of `n`, a 3×3 neighbourhood in rows (`n[1][1]` the
    /// centre), in f32 in this order of operations.
    #[inline(always)]
    pub fn value(&self, n: [[f32; 3]; 3]) -> f32 {
        let w = self.kernel.side();
        let gx = (n[0][2] - n[0][0]) + w * (n[1][2] - n[1][0]) + (n[2][2] - n[2][0]);
        let gy = (n[2][0] - n[0][0]) + w * (n[2][1] - n[0][1]) + (n[2][2] - n[0][2]);
        ((gx * gx + gy * gy).sqrt() * self.scale + self.delta).floor()
    }
}

/// Which sample of a window a [`Rank`] op takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RankOf {
    /// The smallest (erosion).
    Min,
    /// The largest (dilation).
    Max,
    /// The `k`-th smallest, from 0 (median and percentiles): not separable.
    Nth(u32),
}

/// The largest window [`RankOf::Nth`] takes: 15×15, a radius of 7 each way.
pub const NTH_MAX_RADIUS: u32 = 7;

/// An order statistic of one plane over the `(2·rx + 1)`×`(2·ry + 1)` window around each sample,
/// edges clamped. Min and max are separable: a vertical pass, then a horizontal one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rank {
    pub rx: u32,
    pub ry: u32,
    pub of: RankOf,
}

/// An edge-preserving average of one plane: each sample becomes the mean of the
/// `(2·rx + 1)`×`(2·ry + 1)` window around it, weighted by
/// `exp(−(i²·space.0 + j²·space.1)) · exp(−(s − c)²·range)` for the sample `s` at offset `(i, j)`
/// from the centre `c` (code values); edges clamped. [`Bilateral::spatial`] and
/// [`Bilateral::similar`] are the arithmetic both backends follow, in f32.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bilateral {
    pub rx: u32,
    pub ry: u32,
    /// 1 / (2σ²) of the spatial Gaussian along each axis, in the plane's samples.
    pub space: (f32, f32),
    /// 1 / (2σ²) of the range Gaussian, in code values.
    pub range: f32,
}

impl Bilateral {
    /// The spatial weight at offset `(i, j)`.
    #[inline(always)]
    pub fn spatial(&self, i: f32, j: f32) -> f32 {
        (-(i * i * self.space.0 + j * j * self.space.1)).exp()
    }

    /// The range weight of a difference `d` from the centre, in code values.
    #[inline(always)]
    pub fn similar(&self, d: f32) -> f32 {
        (-(d * d * self.range)).exp()
    }
}

/// Non-local means on one plane, as FFmpeg's nlmeans: each sample becomes the mean of the samples
/// of the `(2·rx + 1)`×`(2·ry + 1)` research window around it that lie in the plane, each
/// weighted by how alike the `(2·px + 1)`×`(2·py + 1)` patches around it and around the centre
/// are (patch edges clamped). [`Denoise::weight`] is that weight; the centre's is 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Denoise {
    pub rx: u32,
    pub ry: u32,
    pub px: u32,
    pub py: u32,
    /// 1 / h² with h = 10 · strength, in 8-bit units.
    pub inv_h2: f32,
    /// The patch distance, in 8-bit units, from which a candidate gets no weight: FFmpeg's
    /// floor(ln(255) · h²), where the weight would fall below 1/255.
    pub cutoff: f32,
    /// Squared 8-bit units per squared code value: 4^−(bits − 8).
    pub unit: f32,
}

impl Denoise {
    /// The weight of a candidate whose patch differs from the centre's by `ssd`, the sum of the
    /// squared differences of their samples in code values: exp(−d / h²) for d, `ssd` in 8-bit
    /// units, below the cut-off, 0 from it.
    #[inline(always)]
    pub fn weight(&self, ssd: f32) -> f32 {
        let d = ssd * self.unit;
        if d < self.cutoff {
            (-d * self.inv_h2).exp()
        } else {
            0.0
        }
    }
}

/// What a filter lowers into, for one format. Sizes are in luma pixels of the op's input.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Point(PointOp),
    /// A normalised separable convolution of each plane that has a kernel (gblur, boxblur):
    /// edges clamped, the result clamped to the plane's codes.
    Blur(PerPlane<Separable>),
    /// A 2-D convolution of each plane that has one.
    Convolve(PerPlane<Convolution>),
    /// `in + amount · (in − blur(in))` on each plane that has a blur.
    Unsharp {
        planes: PerPlane<Separable>,
        amount: f32,
    },
    /// The gradient magnitude of each plane that has one (sobel, prewitt, edges).
    Gradient(PerPlane<Gradient>),
    /// An order statistic over a window of each plane that has one (dilate, erode, median).
    Rank(PerPlane<Rank>),
    /// An edge-preserving average of each plane that has one (bilateral).
    Bilateral(PerPlane<Bilateral>),
    /// Non-local means on each plane that has one (denoise).
    Denoise(PerPlane<Denoise>),
    /// The planes that have tables resampled to the plane sizes of a `width`×`height` frame
    /// of `layout` with chroma at `siting` (the input's, or another subsampling of the same
    /// family); planes without tables keep their samples and must keep their size.
    Resample {
        width: u32,
        height: u32,
        layout: Layout,
        siting: Siting,
        planes: PerPlane<Resample>,
    },
    /// Pure sample moves: the `width`×`height` rectangle at (`x`, `y`), mirrored as asked.
    /// Subsampled chroma moves with luma: `x` and `y` are multiples of the subsampling.
    /// With `transpose`, output (x′, y′) reads the input at (x + y′, y + x′) before the flips
    /// (which mirror the output): the rectangle at (`x`, `y`) is `height`×`width`, and the
    /// output's chroma subsampling and siting are the input's with the axes swapped.
    Remap {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
        flip_h: bool,
        flip_v: bool,
        transpose: bool,
    },
    /// Every plane resampled at the input position an affine map gives each output sample
    /// (rotations, translations): a `width`×`height` frame of the same layout.
    Warp {
        width: u32,
        height: u32,
        planes: PerPlane<Warp>,
    },
    /// Each plane that has one computed from this frame and the past ones the backend keeps
    /// for the op (tmix, hqdn3d): see [`Temporal`].
    Temporal(Temporal),
}

/// How a warp interpolates between input samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WarpFilter {
    /// The 2×2 samples around the position, weighted by distance.
    Bilinear,
    /// The 4×4 samples around it through Keys' cubic (a = −0.5, Catmull-Rom), as `scale`'s.
    Bicubic,
}

/// The warp of one plane. Output sample (x, y) (integers, in the plane's samples) reads the
/// input plane at `(m[0]·x + m[1]·y + m[2], m[3]·x + m[4]·y + m[5])` (sample k at k), evaluated
/// in f32 in that order on both backends. Samples outside the input plane are `fill` (a code
/// value): the picture's edge blends into the fill over one sample, and an integer translation
/// moves codes exactly.
#[derive(Clone, Debug, PartialEq)]
pub struct Warp {
    pub matrix: [f32; 6],
    pub fill: f32,
    pub filter: WarpFilter,
}

impl Warp {
    /// The input position of output sample (x, y).
    #[inline(always)]
    pub fn source(&self, x: f32, y: f32) -> (f32, f32) {
        let m = &self.matrix;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    /// The weights of the taps at offsets −1, 0, 1, 2 from ⌊position⌋ for a fraction `t`
    /// (bilinear: 0, 1 − t, t, 0).
    #[inline(always)]
    pub fn weights(filter: WarpFilter, t: f32) -> [f32; 4] {
        match filter {
            WarpFilter::Bilinear => [0.0, 1.0 - t, t, 0.0],
            WarpFilter::Bicubic => {
                let cubic = |x: f32| {
                    let x = x.abs();
                    if x < 1.0 {
                        (1.5 * x - 2.5) * x * x + 1.0
                    } else if x < 2.0 {
                        ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
                    } else {
                        0.0
                    }
                };
                [cubic(1.0 + t), cubic(t), cubic(1.0 - t), cubic(2.0 - t)]
            }
        }
    }
}

/// How far, in samples of its plane, a neighbourhood's output sample reads from its position,
/// horizontally and vertically (edges clamped, or left out where the op says so): what the
/// halo of a tile or a strip must hold.
pub trait Reach {
    fn reach(&self) -> (u32, u32);
}

/// The reach of plane `p`'s kernel; none where the plane has none.
pub fn reach_of<T: Reach>(planes: &PerPlane<T>, p: usize) -> (u32, u32) {
    planes[p].as_ref().map_or((0, 0), Reach::reach)
}

impl Reach for Separable {
    fn reach(&self) -> (u32, u32) {
        Separable::reach(self)
    }
}

impl Reach for Convolution {
    fn reach(&self) -> (u32, u32) {
        (self.width / 2, self.height / 2)
    }
}

impl Reach for Gradient {
    fn reach(&self) -> (u32, u32) {
        (1, 1)
    }
}

impl Reach for Rank {
    fn reach(&self) -> (u32, u32) {
        (self.rx, self.ry)
    }
}

impl Reach for Bilateral {
    fn reach(&self) -> (u32, u32) {
        (self.rx, self.ry)
    }
}

impl Reach for Denoise {
    /// The research window's and the patch's together.
    fn reach(&self) -> (u32, u32) {
        (self.rx + self.px, self.ry + self.py)
    }
}

impl Op {
    /// The planes of `format` the op changes; the others pass through.
    pub fn planes(&self, format: &Format) -> Planes {
        match self {
            Op::Point(p) => p.planes(format),
            Op::Blur(planes) | Op::Unsharp { planes, .. } => Planes::of(planes),
            Op::Convolve(planes) => Planes::of(planes),
            Op::Gradient(planes) => Planes::of(planes),
            Op::Rank(planes) => Planes::of(planes),
            Op::Bilateral(planes) => Planes::of(planes),
            Op::Denoise(planes) => Planes::of(planes),
            Op::Resample { planes, .. } => Planes::of(planes),
            Op::Remap { .. } | Op::Warp { .. } => Planes::all(format),
            Op::Temporal(t) => Planes::of(&t.planes),
        }
    }

    /// How far, in samples of plane `p`, an output sample reads from its position,
    /// horizontally and vertically.
    pub fn reach(&self, p: usize) -> (u32, u32) {
        match self {
            Op::Point(_) | Op::Remap { .. } => (0, 0),
            // A warp may read anywhere in the plane, and so may hqdn3d's recursive filters.
            Op::Warp { .. } => (u32::MAX, u32::MAX),
            Op::Temporal(t) => match &t.planes[p] {
                Some(TemporalKind::Denoise(_)) => (u32::MAX, u32::MAX),
                _ => (0, 0),
            },
            Op::Blur(planes) | Op::Unsharp { planes, .. } => reach_of(planes, p),
            Op::Convolve(planes) => reach_of(planes, p),
            Op::Gradient(planes) => reach_of(planes, p),
            Op::Rank(planes) => reach_of(planes, p),
            Op::Bilateral(planes) => reach_of(planes, p),
            Op::Denoise(planes) => reach_of(planes, p),
            Op::Resample { planes, .. } => planes[p]
                .as_ref()
                .map_or((0, 0), |r| (r.h.taps.div_ceil(2), r.v.taps.div_ceil(2))),
        }
    }

    /// The format of the op's output for an input of `format`.
    pub fn output(&self, format: &Format) -> Format {
        match self {
            Op::Resample {
                width,
                height,
                layout,
                siting,
                ..
            } => {
                let mut out = format.with_size(*width, *height);
                out.layout = *layout;
                out.colour.siting = *siting;
                out
            }
            Op::Remap {
                width,
                height,
                transpose: true,
                ..
            } => {
                let (h, v) = format.layout.chroma_shift;
                let mut out = format.with_size(*width, *height);
                out.layout.chroma_shift = (v, h);
                out.colour.siting = format.colour.siting.transposed();
                out
            }
            Op::Remap { width, height, .. } | Op::Warp { width, height, .. } => {
                format.with_size(*width, *height)
            }
            Op::Point(PointOp::Pixel { program, .. })
                if program.writes_alpha() && !format.layout.alpha =>
            {
                // Alpha written to a frame without any: the frame gains an alpha plane.
                format.with_alpha(true)
            }
            Op::Point(PointOp::Flatten(_)) => format.with_alpha(false),
            _ => *format,
        }
    }
}

/// Which planes of `format` are chroma, luma, colour or alpha: for filters that treat them
/// apart.
pub fn roles(format: &Format) -> impl Iterator<Item = (usize, Role)> + '_ {
    (0..format.planes()).map(|p| (p, format.role(p)))
}
