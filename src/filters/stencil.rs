//! Stencil filters: gblur, boxblur, convolve, unsharp.
//!
//! Each runs per plane. Blurs and unsharp mean the same picture on every layout: their radius is
//! in luma pixels, so subsampled chroma gets the kernel scaled by its subsampling (σ/2 on 4:2:0
//! chroma, horizontally only on 4:2:2). A user's `convolve` kernel runs as written on every
//! plane it names, at that plane's resolution, on centred samples (see
//! [`crate::op::Convolution`]). `planes` limits any of them to some planes, as in FFmpeg.

use super::{
    chosen_planes, planes_param, ArgValue, Args, Default, FilterKind, FilterSpec, ParamKind,
    ParamSpec,
};
use crate::frame::{Format, Role};
use crate::op::{Convolution, Op, PerPlane, Planes, Separable};
use crate::plan::{box_weights, gaussian_weights, plane_separable, FrameTime};

/// The colour planes of `format`: what convolve and unsharp filter unless told otherwise.
pub(super) fn colour_planes(format: &Format) -> Planes {
    (0..format.layout.colour_planes()).fold(Planes::NONE, |s, p| s.with(p))
}

/// The separable kernels of the `planes` of `format` for a blur whose taps, for a plane sample
/// spanning `s` luma samples, are `taps(s)`; planes it would leave as they are get none.
pub(super) fn blur_planes(
    format: &Format,
    planes: Planes,
    taps: &dyn Fn(f64) -> Vec<f32>,
) -> PerPlane<Separable> {
    let mut cache = Vec::new();
    std::array::from_fn(|p| {
        if p >= format.planes() || !planes.contains(p) {
            return None;
        }
        let k = plane_separable(format, p, taps, &mut cache);
        (k.h.len() > 1 || k.v.len() > 1).then_some(k)
    })
}

pub static GBLUR: FilterSpec = FilterSpec {
    name: "gblur",
    kind: FilterKind::Stencil,
    description: "Gaussian blur (kernel radius ceil(3·sigma)), on every plane, alpha included",
    params: &[
        ParamSpec {
            name: "sigma",
            kind: ParamKind::Float {
                min: 0.1,
                max: 64.0,
            },
            default: Default::Float(1.0),
            unit: Some("pixels"),
            doc: "standard deviation in pixels",
        },
        planes_param(Default::Auto("all")),
    ],
    lower: |args, format, _| {
        let sigma = args.float("sigma");
        let planes = chosen_planes(args.optional("planes"), format, Planes::all(format))?;
        Ok(vec![Op::Blur(blur_planes(format, planes, &|s| {
            gaussian_weights(sigma / s)
        }))])
    },
    examples: &[
        "gblur(sigma=2.5)",
        "gblur",
        "gblur(sigma=0.5)",
        "gblur(6)",
        "gblur(3, planes=\"y\")",
    ],
};

pub static BOXBLUR: FilterSpec = FilterSpec {
    name: "boxblur",
    kind: FilterKind::Stencil,
    description: "Mean over a (2·radius+1)² square of pixels, on every plane, alpha included",
    params: &[
        ParamSpec {
            name: "radius",
            kind: ParamKind::Int { min: 0, max: 200 },
            default: Default::Int(1),
            unit: Some("pixels"),
            doc: "half-width of the box in pixels; 0 leaves the frame as it is",
        },
        planes_param(Default::Auto("all")),
    ],
    lower: |args, format, _| {
        let width = 2.0 * args.int("radius") as f64 + 1.0;
        let planes = chosen_planes(args.optional("planes"), format, Planes::all(format))?;
        Ok(vec![Op::Blur(blur_planes(format, planes, &|s| {
            box_weights(width / s)
        }))])
    },
    examples: &[
        "boxblur(radius=3)",
        "boxblur",
        "boxblur(0)",
        "boxblur(radius=12)",
        "boxblur(2, planes=\"uv\")",
    ],
};

pub static CONVOLVE: FilterSpec = FilterSpec {
    name: "convolve",
    kind: FilterKind::Stencil,
    description:
        "Convolution with any odd-sized kernel up to 15×15, on the colour planes (each at \
                  its own resolution; chroma centred, so a kernel summing to 0 leaves it neutral)",
    params: &[
        ParamSpec {
            name: "kernel",
            kind: ParamKind::Matrix { max_side: 15 },
            default: Default::Required,
            unit: None,
            doc: "rows of weights, e.g. [[0,-1,0],[-1,5,-1],[0,-1,0]], or a flat square list",
        },
        ParamSpec {
            name: "divisor",
            kind: ParamKind::Float {
                min: -1e6,
                max: 1e6,
            },
            default: Default::Auto("the kernel's sum, or 1 where the sum is 0"),
            unit: None,
            doc: "every weight is divided by it; not 0",
        },
        ParamSpec {
            name: "bias",
            kind: ParamKind::Float {
                min: -1.0,
                max: 1.0,
            },
            default: Default::Float(0.0),
            unit: None,
            doc: "added after dividing, in 0..1 units (0.5 is mid grey)",
        },
        planes_param(Default::Auto("colour")),
    ],
    lower: lower_convolve,
    examples: &[
        "convolve(kernel=[[0,-1,0],[-1,5,-1],[0,-1,0]])",
        "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)",
        "convolve(kernel=[[-2,-1,0],[-1,1,1],[0,1,2]], bias=0.5)",
        "convolve(kernel=[[1,2,1],[0,0,0],[-1,-2,-1]], divisor=1, bias=0.5)",
        "convolve(kernel=[[1,1,1,1,1]])",
        "convolve(kernel=[1,2,1,2,4,2,1,2,1])",
        "convolve([[0,1,0],[1,-4,1],[0,1,0]], planes=\"y\")",
    ],
};

fn lower_convolve(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let Some(ArgValue::Matrix {
        width,
        height,
        values,
    }) = args.optional("kernel")
    else {
        return Err("kernel is missing".into());
    };
    let sum: f64 = values.iter().sum();
    let divisor = match args.optional("divisor") {
        Some(_) => args.float("divisor"),
        None if sum.abs() < 1e-12 => 1.0,
        None => sum,
    };
    if divisor == 0.0 {
        return Err("divisor must not be 0".into());
    }
    let weights = std::sync::Arc::new(values.iter().map(|w| (w / divisor) as f32).collect());
    let bias = args.float("bias");
    let planes = chosen_planes(args.optional("planes"), format, colour_planes(format))?;
    Ok(vec![Op::Convolve(std::array::from_fn(|p| {
        if p >= format.planes() || !planes.contains(p) {
            return None;
        }
        let role = format.role(p);
        // Bias is grey: luma (or R′, G′, B′) moves by it, chroma and alpha do not.
        let bias = match role {
            Role::Cb | Role::Cr | Role::Alpha => 0.0,
            _ => bias * format.scale(p),
        };
        Some(Convolution {
            width: *width as u32,
            height: *height as u32,
            weights: std::sync::Arc::clone(&weights),
            zero: format.zero(p) as f32,
            bias: bias as f32,
        })
    }))])
}

pub static UNSHARP: FilterSpec = FilterSpec {
    name: "unsharp",
    kind: FilterKind::Stencil,
    description: "Unsharp mask: in + amount·(in − gblur(in, sigma)), on the colour planes",
    params: &[
        ParamSpec {
            name: "sigma",
            kind: ParamKind::Float {
                min: 0.1,
                max: 64.0,
            },
            default: Default::Float(1.0),
            unit: Some("pixels"),
            doc: "blur of the mask, in pixels",
        },
        ParamSpec {
            name: "amount",
            kind: ParamKind::Float {
                min: -2.0,
                max: 5.0,
            },
            default: Default::Float(1.0),
            unit: None,
            doc: "strength; negative values blur",
        },
        planes_param(Default::Auto("colour")),
    ],
    lower: |args, format, _| {
        let sigma = args.float("sigma");
        let planes = chosen_planes(args.optional("planes"), format, colour_planes(format))?;
        Ok(vec![Op::Unsharp {
            planes: blur_planes(format, planes, &|s| gaussian_weights(sigma / s)),
            amount: args.float("amount") as f32,
        }])
    },
    examples: &[
        "unsharp(sigma=2, amount=1.5)",
        "unsharp",
        "unsharp(0.6, -1)",
        "unsharp(amount=5)",
        "unsharp(1.5, 0.8, planes=\"y\")",
    ],
};
