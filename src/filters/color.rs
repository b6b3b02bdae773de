//! Pointwise colour filters: eq, grayscale, invert (whose alpha variant is a `pixel` program).

use std::sync::{Arc, OnceLock};

use super::{Args, Default, FilterSpec, ParamKind, ParamSpec};
use crate::chain::expr::{Expr, Op as BinaryOp};
use crate::pixel::PixelProgram;
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
    description: "Inverts the colour channels; alpha is kept unless alpha=true",
    params: &[ParamSpec {
        name: "alpha",
        kind: ParamKind::Bool,
        default: Default::Bool(false),
        doc: "inverts alpha too",
    }],
    lower: lower_invert,
    examples: &[
        "invert()",
        "invert | grayscale | eq(contrast=1.2)",
        "invert(alpha=true)",
    ],
};

/// The built-in op, or with alpha a pixel program of `1 - c` on all four channels (compiled
/// once, so every plan shares it).
fn lower_invert(args: &Args, _size: (u32, u32), _time: &FrameTime) -> Result<Vec<Op>, String> {
    if !args.boolean("alpha") {
        return Ok(vec![Op::Point(PointOp::Invert)]);
    }
    static ALL_FOUR: OnceLock<Arc<PixelProgram>> = OnceLock::new();
    let program = ALL_FOUR.get_or_init(|| {
        let one_minus = |c: &str| {
            let c = Expr::Name(c.to_string(), (0, 0));
            Expr::Bin(BinaryOp::Sub, Box::new(Expr::Num(1.0)), Box::new(c))
        };
        let [r, g, b, a] = ["r", "g", "b", "a"].map(one_minus);
        let program = PixelProgram::compile([Some(&r), Some(&g), Some(&b), Some(&a)]);
        Arc::new(program.expect("1 - c compiles"))
    });
    Ok(vec![Op::Point(PointOp::Pixel {
        program: program.clone(),
        uniforms: Vec::new(),
    })])
}

pub static TINT: FilterSpec = FilterSpec {
    name: "tint",
    description: "Colours the picture with one colour: each pixel's BT.709 luma times the colour, \
                  mixed in by amount; alpha is kept",
    params: &[
        ParamSpec {
            name: "color",
            kind: ParamKind::Colour,
            default: Default::Required,
            doc: "the tint; its alpha, if given, scales amount",
        },
        ParamSpec {
            name: "amount",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(1.0),
            doc: "0 keeps the picture, 1 is luma × color",
        },
    ],
    lower: lower_tint,
    examples: &[
        "tint(#ffb070)",
        "tint(color=#4080ff80, amount=0.5)",
        "tint([1, 0.9, 0.7], amount=0.3 + t)",
    ],
};

/// A pixel program: `c + (luma · colour_c − c) · amount` for each colour channel, the colour
/// compiled in and the amount a uniform, so that a changing amount keeps one program.
fn lower_tint(args: &Args, _size: (u32, u32), _time: &FrameTime) -> Result<Vec<Op>, String> {
    let [cr, cg, cb, ca] = args.colour("color");
    let amount = args.float("amount") * ca;
    let name = |n: &str| Box::new(Expr::Name(n.to_string(), (0, 0)));
    let num = |v: f64| Box::new(Expr::Num(v));
    let bin = |op, a, b| Box::new(Expr::Bin(op, a, b));
    let luma = || {
        let [kr, kg, kb] = crate::plan::LUMA.map(f64::from);
        let r = bin(BinaryOp::Mul, num(kr), name("r"));
        let g = bin(BinaryOp::Mul, num(kg), name("g"));
        let b = bin(BinaryOp::Mul, num(kb), name("b"));
        bin(BinaryOp::Add, bin(BinaryOp::Add, r, g), b)
    };
    let channel = |c: &str, k: f64| {
        let target = bin(BinaryOp::Mul, luma(), num(k));
        let step = bin(BinaryOp::Sub, target, name(c));
        *bin(
            BinaryOp::Add,
            name(c),
            bin(BinaryOp::Mul, step, name("amount")),
        )
    };
    let (r, g, b) = (channel("r", cr), channel("g", cg), channel("b", cb));
    let program = PixelProgram::compile([Some(&r), Some(&g), Some(&b), None])?;
    let uniforms = program.uniform_values(&|n| if n == "amount" { amount } else { f64::NAN })?;
    Ok(vec![Op::Point(PointOp::Pixel {
        program: Arc::new(program),
        uniforms,
    })])
}
