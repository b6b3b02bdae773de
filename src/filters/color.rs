//! Pointwise colour filters: eq, grayscale, invert.

use super::{Args, Default, FilterSpec, ParamKind, ParamSpec};
use crate::plan::{FrameTime, Op, PointOp};

pub static EQ: FilterSpec = FilterSpec {
    name: "eq",
    description: "Brightness, contrast, saturation and gamma, as FFmpeg's eq (on BT.709 luma)",
    params: &[
        ParamSpec {
            name: "brightness",
            kind: ParamKind::Float {
                min: -1.0,
                max: 1.0,
            },
            default: Default::Float(0.0),
            doc: "added to luma after contrast",
        },
        ParamSpec {
            name: "contrast",
            kind: ParamKind::Float {
                min: -1000.0,
                max: 1000.0,
            },
            default: Default::Float(1.0),
            doc: "luma scale around mid grey",
        },
        ParamSpec {
            name: "saturation",
            kind: ParamKind::Float { min: 0.0, max: 3.0 },
            default: Default::Float(1.0),
            doc: "colour-difference scale; 0 is grey",
        },
        ParamSpec {
            name: "gamma",
            kind: ParamKind::Float {
                min: 0.1,
                max: 10.0,
            },
            default: Default::Float(1.0),
            doc: "luma is raised to 1/gamma",
        },
    ],
    lower: lower_eq,
    examples: &[
        "eq(brightness=0.1)",
        "eq(contrast=1.5, saturation=0.5)",
        "eq(brightness=-0.05, contrast=0.8, saturation=2, gamma=1.8)",
        "eq(gamma=0.5, saturation=0)",
    ],
};

fn lower_eq(args: &Args, _size: (u32, u32), _time: &FrameTime) -> Result<Vec<Op>, String> {
    Ok(vec![Op::Point(PointOp::Eq {
        brightness: args.float("brightness") as f32,
        contrast: args.float("contrast") as f32,
        saturation: args.float("saturation") as f32,
        gamma: args.float("gamma") as f32,
    })])
}

pub static GRAYSCALE: FilterSpec = FilterSpec {
    name: "grayscale",
    description: "Replaces colour with BT.709 luma; alpha is kept",
    params: &[],
    lower: |_, _, _| Ok(vec![Op::Point(PointOp::Grayscale)]),
    examples: &["grayscale"],
};

pub static INVERT: FilterSpec = FilterSpec {
    name: "invert",
    description: "Inverts the colour channels; alpha is kept",
    params: &[],
    lower: |_, _, _| Ok(vec![Op::Point(PointOp::Invert)]),
    examples: &["invert()", "invert | grayscale | eq(contrast=1.2)"],
};
