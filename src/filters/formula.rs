//! Pixel programs written as Rust arithmetic: the colour filters that are functions of one pixel
//! (grading, keys, pointwise composites) build their channel expressions with [`F`] and lower
//! them into one [`PointOp::Pixel`] through [`rgb_op`] or [`ycc_op`].
//!
//! A filter's numbers enter its expressions as *named values* ([`value`]), never as literals:
//! the compiler hoists them into uniforms, so the program — and the GPU pipeline built from
//! it — stays the same when a parameter follows `t`, and only the uniforms change from frame
//! to frame. This module builds expressions and ops; it knows no filter.

use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

use crate::chain::expr::{Expr, Op as BinaryOp};
use crate::frame::Format;
use crate::op::{Op, PointOp};
use crate::pixel::PixelProgram;
use crate::plan::FrameTime;

/// An expression of the pixel (r, g, b, a in 0..1, x, y) and of named values.
#[derive(Clone, Debug)]
pub struct F(pub Expr);

/// A pixel variable: `r`, `g`, `b`, `a`, `x` or `y`.
pub fn px(name: &str) -> F {
    F(Expr::Name(name.to_string(), (0, 0)))
}

/// A named value, the same for every pixel of a frame: it becomes a uniform.
pub fn value(name: &str) -> F {
    F(Expr::Name(name.to_string(), (0, 0)))
}

/// A constant (folded into the program).
pub fn num(v: f64) -> F {
    F(Expr::Num(v))
}

fn call(name: &str, args: Vec<F>) -> F {
    F(Expr::Call(
        name.to_string(),
        args.into_iter().map(|a| a.0).collect(),
        (0, 0),
    ))
}

fn bin(op: BinaryOp, a: F, b: F) -> F {
    F(Expr::Bin(op, Box::new(a.0), Box::new(b.0)))
}

impl F {
    pub fn min(self, other: F) -> F {
        call("min", vec![self, other])
    }

    pub fn max(self, other: F) -> F {
        call("max", vec![self, other])
    }

    pub fn clamp(self, lo: F, hi: F) -> F {
        call("clamp", vec![self, lo, hi])
    }

    pub fn pow(self, k: F) -> F {
        bin(BinaryOp::Pow, self, k)
    }

    pub fn sqrt(self) -> F {
        call("sqrt", vec![self])
    }

    pub fn cos(self) -> F {
        call("cos", vec![self])
    }

    pub fn floor(self) -> F {
        call("floor", vec![self])
    }

    pub fn round(self) -> F {
        call("round", vec![self])
    }

    pub fn abs(self) -> F {
        call("abs", vec![self])
    }

    /// `self + (to − self) · k`.
    pub fn lerp(self, to: F, k: F) -> F {
        call("lerp", vec![self, to, k])
    }

    /// 1 where `self > other`, else 0.
    pub fn gt(self, other: F) -> F {
        bin(BinaryOp::Gt, self, other)
    }

    /// 1 where `self >= other`, else 0.
    pub fn ge(self, other: F) -> F {
        bin(BinaryOp::Ge, self, other)
    }

    /// 1 where `self < other`, else 0.
    pub fn lt(self, other: F) -> F {
        bin(BinaryOp::Lt, self, other)
    }

    /// 1 where both are not 0.
    pub fn and(self, other: F) -> F {
        bin(BinaryOp::And, self, other)
    }

    /// `then` where `self` is not 0, else `otherwise`.
    pub fn select(self, then: F, otherwise: F) -> F {
        call("if", vec![self, then, otherwise])
    }
}

/// The largest of three.
pub fn max3(a: F, b: F, c: F) -> F {
    a.max(b).max(c)
}

/// The smallest of three.
pub fn min3(a: F, b: F, c: F) -> F {
    a.min(b).min(c)
}

macro_rules! arithmetic {
    ($trait:ident, $method:ident, $op:expr) => {
        impl $trait<F> for F {
            type Output = F;
            fn $method(self, rhs: F) -> F {
                bin($op, self, rhs)
            }
        }
        impl $trait<f64> for F {
            type Output = F;
            fn $method(self, rhs: f64) -> F {
                bin($op, self, num(rhs))
            }
        }
        impl $trait<F> for f64 {
            type Output = F;
            fn $method(self, rhs: F) -> F {
                bin($op, num(self), rhs)
            }
        }
    };
}

arithmetic!(Add, add, BinaryOp::Add);
arithmetic!(Sub, sub, BinaryOp::Sub);
arithmetic!(Mul, mul, BinaryOp::Mul);
arithmetic!(Div, div, BinaryOp::Div);

impl Neg for F {
    type Output = F;
    fn neg(self) -> F {
        F(Expr::Neg(Box::new(self.0)))
    }
}

/// The named values of a program and the frame it runs on: what its uniforms are evaluated
/// with.
pub struct Values<'a> {
    pub named: Vec<(&'static str, f64)>,
    pub format: &'a Format,
    pub time: &'a FrameTime,
}

impl<'a> Values<'a> {
    pub fn new(format: &'a Format, time: &'a FrameTime) -> Values<'a> {
        Values {
            named: Vec::new(),
            format,
            time,
        }
    }

    /// `name` takes `v`; returns the expression that reads it.
    pub fn set(&mut self, name: &'static str, v: f64) -> F {
        self.named.push((name, v));
        value(name)
    }

    fn get(&self, name: &str) -> f64 {
        match self.named.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => *v,
            None => self
                .time
                .variable(name, (self.format.width, self.format.height)),
        }
    }
}

/// One pixel op of R′G′B′A expressions (`None`: the channel passes through), each clamped to
/// 0..1; its uniforms evaluated from `values`.
pub fn rgb_op(channels: [Option<F>; 4], values: &Values) -> Result<Vec<Op>, String> {
    let [r, g, b, a] = channels.map(|c| c.map(|c| c.0));
    let program = PixelProgram::compile([r.as_ref(), g.as_ref(), b.as_ref(), a.as_ref()])?;
    finish(program, values)
}

/// [`rgb_op`] with R′G′B′ left unclamped (alpha clamped): for composites that mix the pixel
/// with a colour, so that a Y′CbCr frame's colours outside the RGB cube come back as they were
/// where the mix leaves them (stores clamp to the plane's codes).
pub fn rgb_op_unclamped(channels: [Option<F>; 4], values: &Values) -> Result<Vec<Op>, String> {
    let [r, g, b, a] = channels.map(|c| c.map(|c| c.0));
    let program = PixelProgram::compile_clamped(
        [r.as_ref(), g.as_ref(), b.as_ref(), a.as_ref()],
        [false, false, false, true],
    )?;
    finish(program, values)
}

/// The pixel's luma Y′ (0..1) and colour differences Cb, Cr (−0.5..0.5) in the frame's matrix,
/// as expressions of its R′G′B′.
pub fn ycc_of_rgb(format: &Format) -> [F; 3] {
    ycc_in(format.colour.matrix.kr_kb(), [px("r"), px("g"), px("b")])
}

/// The R′G′B′ of a Y′CbCr in the frame's matrix (unclamped: the frame's Y′CbCr planes hold
/// what leaves the RGB cube).
pub fn rgb_of_ycc(format: &Format, ycc: [F; 3]) -> [F; 3] {
    rgb_in(format.colour.matrix.kr_kb(), ycc)
}

/// Y′CbCr of an R′G′B′ in the matrix of `(kr, kb)`.
pub fn ycc_in((kr, kb): (f64, f64), [r, g, b]: [F; 3]) -> [F; 3] {
    let kg = 1.0 - kr - kb;
    let luma = kr * r.clone() + kg * g + kb * b.clone();
    let cb = (0.5 / (1.0 - kb)) * (b - luma.clone());
    let cr = (0.5 / (1.0 - kr)) * (r - luma.clone());
    [luma, cb, cr]
}

/// R′G′B′ of a Y′CbCr in the matrix of `(kr, kb)`.
pub fn rgb_in((kr, kb): (f64, f64), [luma, cb, cr]: [F; 3]) -> [F; 3] {
    let kg = 1.0 - kr - kb;
    let r = luma.clone() + 2.0 * (1.0 - kr) * cr;
    let b = luma.clone() + 2.0 * (1.0 - kb) * cb;
    let g = (1.0 / kg) * (luma - kr * r.clone() - kb * b.clone());
    [r, g, b]
}

/// One pixel op that sets the pixel's Y′CbCr (in the frame's matrix, see [`rgb_of_ycc`]) and
/// optionally its alpha (clamped to 0..1): on a Y′CbCr frame the planes get exactly what was
/// set; on an RGB frame the colour is stored clamped to the cube.
pub fn ycc_op(
    format: &Format,
    ycc: [F; 3],
    alpha: Option<F>,
    values: &Values,
) -> Result<Vec<Op>, String> {
    let [r, g, b] = rgb_of_ycc(format, ycc).map(|c| c.0);
    let a = alpha.map(|a| a.0);
    let program = PixelProgram::compile_clamped(
        [Some(&r), Some(&g), Some(&b), a.as_ref()],
        [false, false, false, true],
    )?;
    finish(program, values)
}

fn finish(program: PixelProgram, values: &Values) -> Result<Vec<Op>, String> {
    if program.is_identity() {
        return Ok(Vec::new());
    }
    let uniforms = program.uniform_values(&|n| values.get(n))?;
    Ok(vec![Op::Point(PointOp::Pixel {
        program: Arc::new(program),
        uniforms,
    })])
}
