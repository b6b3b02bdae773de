//! Stencil filters: gblur, boxblur, convolve, unsharp.

use super::{ArgValue, Args, Default, FilterSpec, ParamKind, ParamSpec};
use crate::plan::{box_weights, gaussian_weights, FrameTime, Op};

pub static GBLUR: FilterSpec = FilterSpec {
    name: "gblur",
    description: "Gaussian blur (kernel radius ceil(3·sigma)), on all four channels",
    params: &[ParamSpec {
        name: "sigma",
        kind: ParamKind::Float {
            min: 0.1,
            max: 64.0,
        },
        default: Default::Float(1.0),
        doc: "standard deviation in pixels",
    }],
    lower: |args, _, _| {
        Ok(vec![Op::Blur {
            weights: gaussian_weights(args.float("sigma")),
        }])
    },
    examples: &["gblur(sigma=2.5)", "gblur", "gblur(sigma=0.5)", "gblur(6)"],
};

pub static BOXBLUR: FilterSpec = FilterSpec {
    name: "boxblur",
    description: "Mean over a (2·radius+1)² square, on all four channels",
    params: &[ParamSpec {
        name: "radius",
        kind: ParamKind::Int { min: 0, max: 200 },
        default: Default::Int(1),
        doc: "half-width of the box in pixels; 0 leaves the frame as it is",
    }],
    lower: |args, _, _| {
        Ok(vec![Op::Blur {
            weights: box_weights(args.int("radius") as u32),
        }])
    },
    examples: &[
        "boxblur(radius=3)",
        "boxblur",
        "boxblur(0)",
        "boxblur(radius=12)",
    ],
};

pub static CONVOLVE: FilterSpec = FilterSpec {
    name: "convolve",
    description: "Convolution with any odd-sized kernel up to 15×15, on the colour channels",
    params: &[
        ParamSpec {
            name: "kernel",
            kind: ParamKind::Matrix { max_side: 15 },
            default: Default::Required,
            doc: "rows of weights, e.g. [[0,-1,0],[-1,5,-1],[0,-1,0]], or a flat square list",
        },
        ParamSpec {
            name: "divisor",
            kind: ParamKind::Float {
                min: -1e6,
                max: 1e6,
            },
            default: Default::Auto("the kernel's sum, or 1 where the sum is 0"),
            doc: "every weight is divided by it; not 0",
        },
        ParamSpec {
            name: "bias",
            kind: ParamKind::Float {
                min: -1.0,
                max: 1.0,
            },
            default: Default::Float(0.0),
            doc: "added after dividing, in 0..1 units (0.5 is mid grey)",
        },
    ],
    lower: lower_convolve,
    examples: &[
        "convolve(kernel=[[0,-1,0],[-1,5,-1],[0,-1,0]])",
        "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)",
        "convolve(kernel=[[-2,-1,0],[-1,1,1],[0,1,2]], bias=0.5)",
        "convolve(kernel=[[1,2,1],[0,0,0],[-1,-2,-1]], divisor=1, bias=0.5)",
        "convolve(kernel=[[1,1,1,1,1]])",
        "convolve(kernel=[1,2,1,2,4,2,1,2,1])",
    ],
};

fn lower_convolve(args: &Args, _size: (u32, u32), _time: &FrameTime) -> Result<Vec<Op>, String> {
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
    Ok(vec![Op::Convolve {
        width: *width as u32,
        height: *height as u32,
        weights: values.iter().map(|w| (w / divisor) as f32).collect(),
        bias: args.float("bias") as f32,
    }])
}

pub static UNSHARP: FilterSpec = FilterSpec {
    name: "unsharp",
    description: "Unsharp mask: in + amount·(in − gblur(in, sigma)), on the colour channels",
    params: &[
        ParamSpec {
            name: "sigma",
            kind: ParamKind::Float {
                min: 0.1,
                max: 64.0,
            },
            default: Default::Float(1.0),
            doc: "blur of the mask, in pixels",
        },
        ParamSpec {
            name: "amount",
            kind: ParamKind::Float {
                min: -2.0,
                max: 5.0,
            },
            default: Default::Float(1.0),
            doc: "strength; negative values blur",
        },
    ],
    lower: |args, _, _| {
        Ok(vec![Op::Unsharp {
            weights: gaussian_weights(args.float("sigma")),
            amount: args.float("amount") as f32,
        }])
    },
    examples: &[
        "unsharp(sigma=2, amount=1.5)",
        "unsharp",
        "unsharp(0.6, -1)",
        "unsharp(amount=5)",
    ],
};
