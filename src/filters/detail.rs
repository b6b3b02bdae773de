//! Detail and edge filters: sharpen, emboss, sobel, prewitt, edges.
//!
//! `sharpen` is the named preset of an unsharp mask; `emboss` a directional derivative as a
//! convolution; `sobel` and `prewitt` are FFmpeg's gradient magnitudes, plane by plane, with
//! FFmpeg's parameters and rounding; `edges` is the luma gradient as a grey picture. Each lowers
//! into ops the stencil filters also use ([`Op::Unsharp`], [`Op::Convolve`]) or the gradient op
//! ([`Op::Gradient`]).

use std::sync::Arc;

use super::stencil::{blur_planes, colour_planes};
use super::{
    chosen_planes, planes_param, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec,
};
use crate::frame::{Family, Format};
use crate::op::{Convolution, Curve, Curves, Gradient, GradientKernel, Op, Planes, PointOp};
use crate::plan::{gaussian_weights, FrameTime};

/// The Gaussian σ of `sharpen`'s mask for its `radius`: the mask's weights fall to e⁻² (13.5%)
/// at `radius` pixels, the reach ImageMagick's and GIMP's sharpen presets name radius.
pub fn sharpen_sigma(radius: f64) -> f64 {
    radius / 2.0
}

pub static SHARPEN: FilterSpec = FilterSpec {
    name: "sharpen",
    kind: FilterKind::Stencil,
    description: "Sharpens (ImageMagick's -sharpen, vips' sharpen): an unsharp mask of \
                  sigma = radius/2, on the colour planes; same as unsharp(sigma=radius/2, amount)",
    params: &[
        ParamSpec {
            name: "amount",
            kind: ParamKind::Float { min: 0.0, max: 5.0 },
            default: Default::Float(1.0),
            unit: None,
            doc: "strength: in + amount·(in − blurred)",
        },
        ParamSpec {
            name: "radius",
            kind: ParamKind::Float {
                min: 0.2,
                max: 64.0,
            },
            default: Default::Float(1.0),
            unit: Some("pixels"),
            doc: "reach of the detail sharpened; the mask's sigma is radius/2",
        },
        planes_param(Default::Auto("colour")),
    ],
    lower: |args, format, _| {
        let sigma = sharpen_sigma(args.float("radius"));
        let planes = chosen_planes(args.optional("planes"), format, colour_planes(format))?;
        Ok(vec![Op::Unsharp {
            planes: blur_planes(format, planes, &|s| gaussian_weights(sigma / s)),
            amount: args.float("amount") as f32,
        }])
    },
    examples: &[
        "sharpen",
        "sharpen(amount=2.5, radius=3)",
        "sharpen(0.5, 0.4)",
        "sharpen(1, 2, planes=\"y\")",
    ],
};

/// The neutral value of chroma, in 8-bit units.
const NEUTRAL: Option<Curve> = Some(Curve::Affine {
    scale: 0.0,
    offset: 128.0,
});

/// What makes an RGB frame grey before a filter of its luma: `grayscale`'s op (each pixel's luma
/// in R′, G′ and B′). Nothing on Y′CbCr and grey frames.
fn grey_rgb(format: &Format) -> Option<Op> {
    (format.layout.family == Family::Rgb)
        .then_some(Op::Point(PointOp::Curves(Curves([None, NEUTRAL, NEUTRAL]))))
}

/// The planes that carry a grey picture's luma: Y′ (or grey), or R′, G′ and B′.
fn luma_planes(format: &Format) -> Planes {
    match format.layout.family {
        Family::Rgb => colour_planes(format),
        _ => Planes::NONE.with(0),
    }
}

/// Emboss's 3×3 weights, row-major: `strength · √2 · (−i·cos θ + j·sin θ)` at column offset
/// `i` and row offset `j` (rows downwards), so that at θ = 135° (light from the top left) and
/// strength 1 they are the classic emboss kernel less its centre, [[-2,-1,0],[-1,0,1],[0,1,2]].
pub fn emboss_weights(strength: f64, angle: f64) -> Vec<f32> {
    let (sin, cos) = angle.to_radians().sin_cos();
    let mut w = Vec::with_capacity(9);
    for j in -1..=1 {
        for i in -1..=1 {
            let v = strength * std::f64::consts::SQRT_2 * (-(i as f64) * cos + j as f64 * sin);
            // cos 90° is 6e-17, not 0: keep the kernel's zeros exact.
            w.push(if v.abs() < 1e-9 { 0.0 } else { v as f32 });
        }
    }
    w
}

pub static EMBOSS: FilterSpec = FilterSpec {
    name: "emboss",
    kind: FilterKind::Stencil,
    description: "A grey relief (ImageMagick's -emboss; FFmpeg has it as a convolution \
                  preset): mid grey plus the derivative of luma towards the light; chroma \
                  neutral, alpha kept; RGB frames take their luma (grayscale) first",
    params: &[
        ParamSpec {
            name: "strength",
            kind: ParamKind::Float {
                min: 0.0,
                max: 10.0,
            },
            default: Default::Float(1.0),
            unit: None,
            doc: "height of the relief; 1 is the classic 3×3 emboss kernel",
        },
        ParamSpec {
            name: "angle",
            kind: ParamKind::Float {
                min: -360.0,
                max: 360.0,
            },
            default: Default::Float(135.0),
            unit: Some("degrees"),
            doc: "where the light comes from, anticlockwise from the right: 135 is the top left",
        },
    ],
    lower: lower_emboss,
    examples: &[
        "emboss",
        "emboss(strength=2.5, angle=30)",
        "emboss(0.5, -90)",
    ],
};

fn lower_emboss(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let weights = Arc::new(emboss_weights(args.float("strength"), args.float("angle")));
    let luma = luma_planes(format);
    let convolve = Op::Convolve(std::array::from_fn(|p| {
        if p >= format.planes() {
            return None;
        }
        let zero = format.zero(p) as f32;
        if luma.contains(p) {
            Some(Convolution {
                width: 3,
                height: 3,
                weights: Arc::clone(&weights),
                zero,
                bias: (0.5 * format.scale(p)) as f32,
            })
        } else if format.role(p).is_chroma() {
            // Nothing of the picture's colour: every sample its zero, the neutral value.
            Some(Convolution {
                width: 1,
                height: 1,
                weights: Arc::new(vec![0.0]),
                zero,
                bias: 0.0,
            })
        } else {
            None
        }
    }));
    Ok(grey_rgb(format).into_iter().chain([convolve]).collect())
}

/// The parameters of sobel and prewitt, FFmpeg's.
const GRADIENT_PARAMS: &[ParamSpec] = &[
    planes_param(Default::Auto("all")),
    ParamSpec {
        name: "scale",
        kind: ParamKind::Float {
            min: 0.0,
            max: 65535.0,
        },
        default: Default::Float(1.0),
        unit: None,
        doc: "multiplies the gradient's magnitude",
    },
    ParamSpec {
        name: "delta",
        kind: ParamKind::Float {
            min: -255.0,
            max: 255.0,
        },
        default: Default::Float(0.0),
        unit: Some("8-bit codes"),
        doc: "added after scaling, in 8-bit code values (scaled to deeper frames' codes)",
    },
];

/// Sobel's or Prewitt's magnitude on the planes `planes` names (all by default, as FFmpeg).
fn lower_gradient(kernel: GradientKernel, args: &Args, format: &Format) -> Result<Vec<Op>, String> {
    let planes = chosen_planes(args.optional("planes"), format, Planes::all(format))?;
    let gradient = Gradient {
        kernel,
        scale: args.float("scale") as f32,
        delta: (args.float("delta") * format.unit()) as f32,
        mirror_start: true,
    };
    Ok(vec![Op::Gradient(std::array::from_fn(|p| {
        (p < format.planes() && planes.contains(p)).then_some(gradient)
    }))])
}

pub static SOBEL: FilterSpec = FilterSpec {
    name: "sobel",
    kind: FilterKind::Stencil,
    description: "FFmpeg's sobel: per plane, floor(sqrt(gx² + gy²)·scale + delta) of the 3×3 \
                  Sobel derivatives, on every plane by default (so neutral chroma becomes \
                  delta, as in FFmpeg); FFmpeg's edges: row and column −1 mirrored (row 1), \
                  the last ones replicated",
    params: GRADIENT_PARAMS,
    lower: |args, format, _| lower_gradient(GradientKernel::Sobel, args, format),
    examples: &[
        "sobel",
        "sobel(planes=\"y\", scale=0.5, delta=16)",
        "sobel(scale=2, delta=-10)",
    ],
};

pub static PREWITT: FilterSpec = FilterSpec {
    name: "prewitt",
    kind: FilterKind::Stencil,
    description: "FFmpeg's prewitt: per plane, floor(sqrt(gx² + gy²)·scale + delta) of the 3×3 \
                  Prewitt derivatives, on every plane by default (so neutral chroma becomes \
                  delta, as in FFmpeg); FFmpeg's edges: row and column −1 mirrored (row 1), \
                  the last ones replicated",
    params: GRADIENT_PARAMS,
    lower: |args, format, _| lower_gradient(GradientKernel::Prewitt, args, format),
    examples: &["prewitt", "prewitt(planes=\"uv\", scale=3, delta=128)"],
};

pub static EDGES: FilterSpec = FilterSpec {
    name: "edges",
    kind: FilterKind::Stencil,
    description: "Edges as a grey picture (ImageMagick's -edge): the Sobel magnitude of luma, \
                  divided by 4 so that a black-to-white step is white, on black; chroma \
                  neutral, alpha kept; RGB frames take their luma (grayscale) first",
    params: &[ParamSpec {
        name: "scale",
        kind: ParamKind::Float {
            min: 0.0,
            max: 100.0,
        },
        default: Default::Float(1.0),
        unit: None,
        doc: "multiplies the magnitude",
    }],
    lower: lower_edges,
    examples: &["edges", "edges(scale=4)", "edges(0.5)"],
};

fn lower_edges(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let luma = luma_planes(format);
    let scale = (args.float("scale") / 4.0) as f32;
    let gradient = Op::Gradient(std::array::from_fn(|p| {
        (p < format.planes() && luma.contains(p)).then(|| Gradient {
            kernel: GradientKernel::Sobel,
            scale,
            // Black plus the magnitude, rounded to the nearest code (the op floors).
            delta: (format.zero(p) + 0.5) as f32,
            mirror_start: false,
        })
    }));
    let mut ops: Vec<Op> = grey_rgb(format).into_iter().collect();
    ops.push(gradient);
    if format.layout.family == Family::Yuv {
        ops.push(Op::Point(PointOp::Curves(Curves([None, NEUTRAL, NEUTRAL]))));
    }
    Ok(ops)
}
