//! Pointwise colour filters: eq, grayscale and invert, defined on Y′CbCr as FFmpeg's are (RGB
//! frames go through their matrix), and tint, a `pixel` program in RGB.
//!
//! On a Y′CbCr frame each of eq, grayscale and invert is one curve per plane ([`Curves`]), so a
//! run of them costs one lookup per sample however long it is; see [`crate::op::Curve`].

use std::sync::{Arc, OnceLock};

use super::{Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::chain::expr::{Expr, Op as BinaryOp};
use crate::frame::{Format, Role};
use crate::op::{Curve, Curves, Op, PointOp};
use crate::pixel::PixelProgram;
use crate::plan::FrameTime;

/// BT.709 luma weights: `tint`'s luma, whatever the frame's matrix.
pub const LUMA_709: [f32; 3] = [0.2126, 0.7152, 0.0722];

pub static EQ: FilterSpec = FilterSpec {
    name: "eq",
    kind: FilterKind::Pointwise,
    description: "Brightness, contrast, saturation and gamma, as FFmpeg's eq: on Y′CbCr planes \
                  (RGB frames through their matrix)",
    params: &[
        ParamSpec {
            name: "brightness",
            kind: ParamKind::Float {
                min: -1.0,
                max: 1.0,
            },
            default: Default::Float(0.0),
            unit: None,
            doc: "added to luma after contrast",
        },
        ParamSpec {
            name: "contrast",
            kind: ParamKind::Float {
                min: -1000.0,
                max: 1000.0,
            },
            default: Default::Float(1.0),
            unit: None,
            doc: "luma scale around mid grey",
        },
        ParamSpec {
            name: "saturation",
            kind: ParamKind::Float { min: 0.0, max: 3.0 },
            default: Default::Float(1.0),
            unit: None,
            doc: "colour-difference scale; 0 is grey",
        },
        ParamSpec {
            name: "gamma",
            kind: ParamKind::Float {
                min: 0.1,
                max: 10.0,
            },
            default: Default::Float(1.0),
            unit: None,
            doc: "luma is raised to 1/gamma",
        },
    ],
    lower: lower_eq,
    examples: &[
        "eq(contrast=1.3, saturation=1.4)",
        "eq(brightness=0.1)",
        "eq(contrast=1.5, saturation=0.5)",
        "eq(brightness=-0.05, contrast=0.8, saturation=2, gamma=1.8)",
        "eq(gamma=0.5, saturation=0)",
    ],
};

fn lower_eq(args: &Args, _format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let brightness = args.float("brightness");
    let contrast = args.float("contrast");
    let saturation = args.float("saturation");
    let gamma = args.float("gamma");
    // FFmpeg's eq (libavfilter/vf_eq.c): luma from contrast, brightness and gamma; each chroma
    // plane from saturation alone, as a contrast around its middle.
    let luma = eq_curve(contrast, brightness, gamma);
    let chroma = eq_curve(saturation, 0.0, 1.0);
    Ok(vec![Op::Point(PointOp::Curves(Curves([
        luma, chroma, chroma,
    ])))])
}

/// FFmpeg eq's map of one plane, or `None` where it leaves the plane alone. FFmpeg computes
/// `floor(x · c / 4096) + b` with integer `c` and `b` (its SIMD and C code alike) while gamma is
/// 1 and |contrast| < 7.9, and a table otherwise ([`Curve::EqGamma`]). The curve here keeps the
/// fraction, less the floor's mean ½, so that a lone eq rounds to FFmpeg's codes exactly and a
/// chain of them does not round between filters.
fn eq_curve(contrast: f64, brightness: f64, gamma: f64) -> Option<Curve> {
    // FFmpeg keeps its parameters as floats (`av_clipf`) and computes with them in double:
    // -0.2 becomes -0.2000000030, whose integer brightness is one step from -0.2's.
    let (contrast, brightness, gamma) = (
        contrast as f32 as f64,
        brightness as f32 as f64,
        gamma as f32 as f64,
    );
    if contrast == 1.0 && brightness == 0.0 && gamma == 1.0 {
        return None;
    }
    if gamma == 1.0 && contrast.abs() < 7.9 {
        // C's conversions and integer division, as FFmpeg writes them.
        let c = (contrast * 256.0 * 16.0) as i32;
        let b = ((100.0 * brightness + 100.0) as i32 * 511) / 200 - 128 - c / 32;
        return Some(Curve::Affine {
            scale: c as f32 / 4096.0,
            offset: b as f32 - 0.5,
        });
    }
    Some(Curve::EqGamma {
        contrast: contrast as f32,
        brightness: brightness as f32,
        gamma: gamma as f32,
        weight: 1.0,
    })
}

pub static GRAYSCALE: FilterSpec = FilterSpec {
    name: "grayscale",
    kind: FilterKind::Pointwise,
    description: "Removes colour: neutral chroma, luma kept (RGB frames get the luma of their \
                  matrix, BT.709 unless tagged); alpha is kept",
    params: &[],
    lower: |_, _, _| {
        let neutral = Some(Curve::Affine {
            scale: 0.0,
            offset: 128.0,
        });
        Ok(vec![Op::Point(PointOp::Curves(Curves([
            None, neutral, neutral,
        ])))])
    },
    examples: &["grayscale"],
};

pub static INVERT: FilterSpec = FilterSpec {
    name: "invert",
    kind: FilterKind::Pointwise,
    description: "Inverts the picture: 1 − Y′ and −Cb, −Cr within the frame's range (1 − R′G′B′ \
                  on RGB frames); alpha is kept unless alpha=true",
    params: &[ParamSpec {
        name: "alpha",
        kind: ParamKind::Bool,
        default: Default::Bool(false),
        unit: None,
        doc: "inverts alpha too",
    }],
    lower: lower_invert,
    examples: &[
        "invert()",
        "invert | grayscale | eq(contrast=1.2)",
        "invert(alpha=true)",
    ],
};

/// Per-plane curves, or with alpha a pixel program of `1 - c` on all four channels (compiled
/// once, so every plan shares it).
fn lower_invert(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    if !args.boolean("alpha") {
        // Black and white of luma in 8-bit units: 16 and 235 in limited range, 0 and the
        // largest code in full (255.75 units at 10 bits). Chroma mirrors around neutral, 128.
        // RGB frames' curves run on full-range 8-bit Y′CbCr (see `op::apply_point_ops`).
        let luma = match (format.role(0), format.colour.full_range) {
            (Role::Luma, false) => 16.0 + 235.0,
            (Role::Luma, true) => format.max_code() as f32 / format.unit() as f32,
            _ => 255.0,
        };
        let mirror = |offset: f32| {
            Some(Curve::Affine {
                scale: -1.0,
                offset,
            })
        };
        return Ok(vec![Op::Point(PointOp::Curves(Curves([
            mirror(luma),
            mirror(256.0),
            mirror(256.0),
        ])))]);
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
    kind: FilterKind::Pointwise,
    description: "Colours the picture with one colour: each pixel's BT.709 luma times the colour, \
                  mixed in by amount; alpha is kept",
    params: &[
        ParamSpec {
            name: "color",
            kind: ParamKind::Colour,
            default: Default::Required,
            unit: None,
            doc: "the tint; its alpha, if given, scales amount",
        },
        ParamSpec {
            name: "amount",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(1.0),
            unit: None,
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
fn lower_tint(args: &Args, _format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let [cr, cg, cb, ca] = args.colour("color");
    let amount = args.float("amount") * ca;
    let name = |n: &str| Box::new(Expr::Name(n.to_string(), (0, 0)));
    let num = |v: f64| Box::new(Expr::Num(v));
    let bin = |op, a, b| Box::new(Expr::Bin(op, a, b));
    let luma = || {
        let [kr, kg, kb] = LUMA_709.map(f64::from);
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
