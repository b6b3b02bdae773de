//! `pixel`'s channel expressions compiled into a [`PixelProgram`]: straight-line f32 code over
//! the pixel's r, g, b, a, x and y, which the CPU backend runs over planes of a block of pixels
//! (one tight loop a step) and the GPU backend turns into a WGSL function of its pointwise kernel.
//!
//! Compiling hoists every part of an expression that names no pixel variable (`sin(2*PI*t)`,
//! `w/2`) into a *uniform*: its expression is kept in the program and evaluated once per frame on
//! the CPU ([`PixelProgram::uniform_values`]); the backends read the value as a parameter of the
//! op. So the program — and the GPU pipeline built from it — is the same from frame to frame
//! while only `t` or `n` change. What is left becomes steps in SSA form, common subexpressions
//! shared (`r`, `g` and `b` set to one luma expression compute it once). Constants fold; keyframe
//! functions and `clamp`, `lerp`, `smoothstep`, `between` become plain steps; `x^k` for a small
//! integer `k` becomes multiplications. Every channel result is clamped to 0..=1, NaN counting
//! as 0, so a pixel op maps colour into 0..=1 like every other pointwise op.
//!
//! The arithmetic of each step is defined once, in f32, by [`UnOp::apply`], [`BinOp::apply`] and
//! [`select`]: the reference ([`PixelProgram::eval`]) and the CPU kernels run exactly these, and
//! the generated WGSL mirrors them. This module knows expressions and ops, never backends.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::chain::expr::{Expr, Op, PIXEL_VARIABLES};

/// The pixel's variables, in the order of their values: r, g, b, a, x, y.
pub const INPUTS: usize = 6;

/// The uniform a program that reads `y` adds to the frame's row: 0 for a whole picture, the
/// strip's first row for a strip of it ([`PixelProgram::row_origin`]). A name no chain can
/// write.
const ROW_ORIGIN: &str = "row origin";

/// An operation on one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    /// 1 where the value is 0, else 0.
    Not,
    Abs,
    Floor,
    Ceil,
    /// Halves away from 0.
    Round,
    Sqrt,
    Exp,
    /// Natural logarithm.
    Log,
    Sin,
    Cos,
    Tan,
    /// 1 where the value is NaN, else 0 (keyframes hand NaN positions through).
    IsNan,
    /// Clamped to 0..=1, NaN to 0: what every channel result goes through.
    Sat,
}

/// An operation on two values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    /// Remainder with the sign of the dividend (C's `fmod`).
    Rem,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    Min,
    Max,
    /// A value in 0..1 that looks random, the same for the same two numbers ([`noise`]).
    Noise,
}

#[inline(always)]
fn truth(c: bool) -> f32 {
    if c {
        1.0
    } else {
        0.0
    }
}

impl UnOp {
    /// The operation in f32: the definition both backends follow.
    #[inline(always)]
    pub fn apply(self, v: f32) -> f32 {
        match self {
            UnOp::Neg => -v,
            UnOp::Not => truth(v == 0.0),
            UnOp::Abs => v.abs(),
            UnOp::Floor => v.floor(),
            UnOp::Ceil => v.ceil(),
            UnOp::Round => v.round(),
            UnOp::Sqrt => v.sqrt(),
            UnOp::Exp => v.exp(),
            UnOp::Log => v.ln(),
            UnOp::Sin => v.sin(),
            UnOp::Cos => v.cos(),
            UnOp::Tan => v.tan(),
            UnOp::IsNan => truth(v.is_nan()),
            UnOp::Sat => sat(v),
        }
    }

    /// Every operation, for tests that cover them all.
    pub const ALL: [UnOp; 14] = [
        UnOp::Neg,
        UnOp::Not,
        UnOp::Abs,
        UnOp::Floor,
        UnOp::Ceil,
        UnOp::Round,
        UnOp::Sqrt,
        UnOp::Exp,
        UnOp::Log,
        UnOp::Sin,
        UnOp::Cos,
        UnOp::Tan,
        UnOp::IsNan,
        UnOp::Sat,
    ];
}

impl BinOp {
    /// The operation in f32: the definition both backends follow.
    #[inline(always)]
    pub fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinOp::Add => a + b,
            BinOp::Sub => a - b,
            BinOp::Mul => a * b,
            BinOp::Div => a / b,
            BinOp::Rem => a % b,
            BinOp::Pow => a.powf(b),
            BinOp::Lt => truth(a < b),
            BinOp::Le => truth(a <= b),
            BinOp::Gt => truth(a > b),
            BinOp::Ge => truth(a >= b),
            BinOp::Eq => truth(a == b),
            BinOp::Ne => truth(a != b),
            BinOp::And => truth(a != 0.0 && b != 0.0),
            BinOp::Or => truth(a != 0.0 || b != 0.0),
            BinOp::Min => a.min(b),
            BinOp::Max => a.max(b),
            BinOp::Noise => noise(a, b),
        }
    }

    /// Every operation, for tests that cover them all.
    pub const ALL: [BinOp; 17] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::Pow,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::And,
        BinOp::Or,
        BinOp::Min,
        BinOp::Max,
        BinOp::Noise,
    ];

    fn of(op: Op) -> BinOp {
        match op {
            Op::Add => BinOp::Add,
            Op::Sub => BinOp::Sub,
            Op::Mul => BinOp::Mul,
            Op::Div => BinOp::Div,
            Op::Rem => BinOp::Rem,
            Op::Pow => BinOp::Pow,
            Op::Lt => BinOp::Lt,
            Op::Le => BinOp::Le,
            Op::Gt => BinOp::Gt,
            Op::Ge => BinOp::Ge,
            Op::Eq => BinOp::Eq,
            Op::Ne => BinOp::Ne,
            Op::And => BinOp::And,
            Op::Or => BinOp::Or,
        }
    }
}

/// A value in 0..1 (a multiple of 2⁻²⁴) that looks random and is the same for the same `a` and
/// `b` on every backend: each is taken as a whole number (towards 0, negative and NaN as 0, at
/// most 2³² − 256), `b` is hashed, mixed with `a` and hashed again. Integer arithmetic only, so
/// the GPU computes the same bits (`px_noise` in the pointwise shader). Grain takes it of the
/// pixel's position and of a number made from the frame index and a seed.
#[inline(always)]
pub fn noise(a: f32, b: f32) -> f32 {
    let whole = |v: f32| -> u32 {
        if v >= 1.0 {
            v.min(4_294_967_040.0) as u32
        } else {
            0
        }
    };
    let h = hash32(whole(a) ^ hash32(whole(b)).rotate_left(16));
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// A 32-bit integer hash with good avalanche (two multiply-xorshift rounds).
#[inline(always)]
pub fn hash32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

/// `a` where `c` is not 0, else `b` (`if`).
#[inline(always)]
pub fn select(c: f32, a: f32, b: f32) -> f32 {
    if c != 0.0 {
        a
    } else {
        b
    }
}

/// Clamped to 0..=1 with NaN as 0 (`max` and `min` return the other operand for NaN).
#[inline(always)]
#[allow(clippy::manual_clamp)]
pub fn sat(v: f32) -> f32 {
    v.max(0.0).min(1.0)
}

/// What a step reads: a per-pixel value or a scalar (the same for every pixel of a frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arg {
    /// Value `i`: the inputs r, g, b, a, x, y are 0 to 5, step `k`'s result is `INPUTS + k`.
    Value(u32),
    /// Scalar `i` of the program.
    Scalar(u32),
}

/// A value that is the same for every pixel: computed once per block on the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// A constant, as its f32 bits.
    Const(u32),
    /// Uniform `i`: a frame-level expression's value for this frame.
    Uniform(u32),
    Un(UnOp, u32),
    Bin(BinOp, u32, u32),
    Select(u32, u32, u32),
}

/// A per-pixel operation; at least one argument is a per-pixel value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    Un(UnOp, Arg),
    Bin(BinOp, Arg, Arg),
    /// `if`: the second where the first is not 0, else the third.
    Select(Arg, Arg, Arg),
}

impl Step {
    pub fn args(&self) -> impl Iterator<Item = Arg> {
        let (a, b, c) = match *self {
            Step::Un(_, a) => (Some(a), None, None),
            Step::Bin(_, a, b) => (Some(a), Some(b), None),
            Step::Select(c, a, b) => (Some(c), Some(a), Some(b)),
        };
        a.into_iter().chain(b).chain(c)
    }
}

/// What a channel becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Output {
    /// Passes through unchanged.
    Keep,
    /// The same value for every pixel.
    Scalar(u32),
    Value(u32),
}

/// The structure of a program: everything but the expressions of its uniforms. Two programs of
/// one shape run the same code (one GPU pipeline) whatever their uniforms' values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Shape {
    scalars: Vec<Scalar>,
    steps: Vec<Step>,
    outputs: [Output; 4],
    uniforms: usize,
}

/// `pixel`'s four channel expressions, compiled. Equal programs have equal shapes: the
/// expressions their uniforms are evaluated from may differ.
#[derive(Clone, Debug)]
pub struct PixelProgram {
    shape: Shape,
    /// The frame-level expression of each uniform.
    uniforms: Vec<Expr>,
    /// The CPU's register for each step's result: 0 to 5 are the planes of r, g, b, a, x and y
    /// (a step writes a channel's plane when that channel is its result and the input is read no
    /// more), the rest temporaries.
    registers: Vec<u32>,
    temporaries: usize,
    /// A hash of the shape, for quick comparisons and cache keys.
    fingerprint: u64,
}

impl PartialEq for PixelProgram {
    fn eq(&self, other: &PixelProgram) -> bool {
        std::ptr::eq(self, other)
            || (self.fingerprint == other.fingerprint && self.shape == other.shape)
    }
}

impl Eq for PixelProgram {}

impl Hash for PixelProgram {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.fingerprint.hash(state);
    }
}

impl PixelProgram {
    /// Compiles the expressions of r, g, b and a (`None`: the channel passes through); they are
    /// checked already (names, arities, keyframes), as the chain resolver does. Every result is
    /// clamped to 0..=1.
    pub fn compile(channels: [Option<&Expr>; 4]) -> Result<PixelProgram, String> {
        PixelProgram::compile_clamped(channels, [true; 4])
    }

    /// [`PixelProgram::compile`], each channel's result clamped to 0..=1 only where `clamp`
    /// says: colour worked out from a Y′CbCr the program set may leave the RGB cube, and the
    /// frame's Y′CbCr holds it (stores clamp to the plane's codes).
    pub fn compile_clamped(
        channels: [Option<&Expr>; 4],
        clamp: [bool; 4],
    ) -> Result<PixelProgram, String> {
        let mut b = Builder::default();
        let mut outputs = [Output::Keep; 4];
        for (c, e) in channels.iter().enumerate() {
            let Some(e) = e else { continue };
            let v = b.lower(e)?;
            outputs[c] = match v {
                // A channel set to itself passes through.
                Arg::Value(i) if i as usize == c => Output::Keep,
                v => match if clamp[c] { b.un(UnOp::Sat, v) } else { v } {
                    Arg::Value(i) => Output::Value(i),
                    Arg::Scalar(s) => Output::Scalar(s),
                },
            };
        }
        let uniforms = std::mem::take(&mut b.uniforms);
        let shape = b.finish(outputs, uniforms.len());
        let (registers, temporaries) = allocate(&shape);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        shape.hash(&mut hasher);
        Ok(PixelProgram {
            fingerprint: hasher.finish(),
            shape,
            uniforms,
            registers,
            temporaries,
        })
    }

    /// True when every channel passes through.
    pub fn is_identity(&self) -> bool {
        self.shape.outputs.iter().all(|o| *o == Output::Keep)
    }

    pub fn scalars(&self) -> &[Scalar] {
        &self.shape.scalars
    }

    pub fn steps(&self) -> &[Step] {
        &self.shape.steps
    }

    /// What r, g, b and a become.
    pub fn outputs(&self) -> &[Output; 4] {
        &self.shape.outputs
    }

    /// A hash of the program's shape: equal programs have equal fingerprints.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// How many uniforms the program reads.
    pub fn uniform_count(&self) -> usize {
        self.shape.uniforms
    }

    /// Vec4 parameter slots the GPU gives the op: its uniforms, four a slot, at least one.
    pub fn param_slots(&self) -> usize {
        self.shape.uniforms.div_ceil(4).max(1)
    }

    /// The CPU register of step `k`'s result (see the field's doc).
    #[inline(always)]
    pub fn register(&self, step: usize) -> usize {
        self.registers[step] as usize
    }

    /// The CPU register of a value.
    #[inline(always)]
    pub fn register_of(&self, value: u32) -> usize {
        match (value as usize).checked_sub(INPUTS) {
            None => value as usize,
            Some(k) => self.registers[k] as usize,
        }
    }

    /// Temporary registers beyond the six planes of the inputs.
    pub fn temporaries(&self) -> usize {
        self.temporaries
    }

    /// True when some step reads input `i` (0 to 5: r, g, b, a, x, y).
    pub fn reads(&self, input: usize) -> bool {
        self.shape
            .steps
            .iter()
            .flat_map(|s| s.args())
            .any(|a| a == Arg::Value(input as u32))
    }

    /// True when the program reads alpha or sets it.
    pub fn uses_alpha(&self) -> bool {
        self.reads(3) || self.writes_alpha()
    }

    pub fn writes_alpha(&self) -> bool {
        self.shape.outputs[3] != Output::Keep
    }

    /// True when the program reads the pixel's position.
    pub fn uses_coordinates(&self) -> bool {
        self.reads(4) || self.reads(5)
    }

    /// The uniform holding the row a frame starts at in the picture (0 for a whole picture),
    /// where the program reads `y`: a strip of the picture sets it to its first row.
    pub fn row_origin(&self) -> Option<usize> {
        self.uniforms
            .iter()
            .position(|e| matches!(e, Expr::Name(n, _) if n == ROW_ORIGIN))
    }

    /// The value of every uniform for a frame: `vars` gives the frame's variables. An error
    /// where one is not a finite f32.
    pub fn uniform_values(&self, vars: &dyn Fn(&str) -> f64) -> Result<Vec<f32>, String> {
        self.uniforms
            .iter()
            .map(|e| {
                let v = match e {
                    Expr::Name(n, _) if n == ROW_ORIGIN => 0.0,
                    e => e.eval(vars),
                };
                let f = v as f32;
                if f.is_finite() {
                    Ok(f)
                } else {
                    Err(format!("`{e}` comes to {v}, not a finite number"))
                }
            })
            .collect()
    }

    /// The scalars' values for `uniforms` into `out`.
    #[inline]
    pub fn scalar_values(&self, uniforms: &[f32], out: &mut Vec<f32>) {
        out.clear();
        for s in &self.shape.scalars {
            let v = match *s {
                Scalar::Const(bits) => f32::from_bits(bits),
                Scalar::Uniform(i) => uniforms.get(i as usize).copied().unwrap_or(f32::NAN),
                Scalar::Un(op, a) => op.apply(out[a as usize]),
                Scalar::Bin(op, a, b) => op.apply(out[a as usize], out[b as usize]),
                Scalar::Select(c, a, b) => {
                    select(out[c as usize], out[a as usize], out[b as usize])
                }
            };
            out.push(v);
        }
    }

    /// The program on one pixel at column `x`, row `y`: the reference the backends follow.
    pub fn eval(&self, uniforms: &[f32], p: [f32; 4], x: f32, y: f32) -> [f32; 4] {
        let mut scalars = Vec::new();
        self.scalar_values(uniforms, &mut scalars);
        let mut values = vec![p[0], p[1], p[2], p[3], x, y];
        let arg = |values: &[f32], a: Arg| match a {
            Arg::Value(i) => values[i as usize],
            Arg::Scalar(s) => scalars[s as usize],
        };
        for step in &self.shape.steps {
            let v = match *step {
                Step::Un(op, a) => op.apply(arg(&values, a)),
                Step::Bin(op, a, b) => op.apply(arg(&values, a), arg(&values, b)),
                Step::Select(c, a, b) => select(arg(&values, c), arg(&values, a), arg(&values, b)),
            };
            values.push(v);
        }
        std::array::from_fn(|c| match self.shape.outputs[c] {
            Output::Keep => p[c],
            Output::Scalar(s) => scalars[s as usize],
            Output::Value(i) => values[i as usize],
        })
    }
}

/// The program as readable text (one line a step), for debugging and test messages.
impl fmt::Display for PixelProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arg = |a: Arg| match a {
            Arg::Value(i) if (i as usize) < INPUTS => PIXEL_VARIABLES[i as usize].0.to_string(),
            Arg::Value(i) => format!("v{i}"),
            Arg::Scalar(s) => format!("s{s}"),
        };
        for (i, e) in self.uniforms.iter().enumerate() {
            writeln!(f, "u{i} = {e}")?;
        }
        for (i, s) in self.shape.scalars.iter().enumerate() {
            match s {
                Scalar::Const(bits) => writeln!(f, "s{i} = {:?}", f32::from_bits(*bits))?,
                Scalar::Uniform(u) => writeln!(f, "s{i} = u{u}")?,
                other => writeln!(f, "s{i} = {other:?}")?,
            }
        }
        for (k, s) in self.shape.steps.iter().enumerate() {
            let body = match *s {
                Step::Un(op, a) => format!("{op:?}({})", arg(a)),
                Step::Bin(op, a, b) => format!("{op:?}({}, {})", arg(a), arg(b)),
                Step::Select(c, a, b) => format!("if({}, {}, {})", arg(c), arg(a), arg(b)),
            };
            writeln!(f, "v{} = {body}  [reg {}]", INPUTS + k, self.registers[k])?;
        }
        for (c, o) in self.shape.outputs.iter().enumerate() {
            writeln!(f, "{} <- {o:?}", ["r", "g", "b", "a"][c])?;
        }
        Ok(())
    }
}

/// Bounds of a value: every value it takes is in `lo ..= hi`, or NaN where `nan`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Range {
    lo: f64,
    hi: f64,
    nan: bool,
}

impl Range {
    const ANY: Range = Range {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
        nan: true,
    };
    const UNIT: Range = Range {
        lo: 0.0,
        hi: 1.0,
        nan: false,
    };

    fn of(v: f32) -> Range {
        Range {
            lo: v as f64,
            hi: v as f64,
            nan: v.is_nan(),
        }
    }

    /// The bounds of an input: colour channels in 0..=1 (every op before a pixel op in a fused
    /// pass keeps them there), positions from 0.
    fn input(i: usize) -> Range {
        if i < 4 {
            Range::UNIT
        } else {
            Range {
                lo: 0.0,
                hi: f64::INFINITY,
                nan: false,
            }
        }
    }

    /// The result of an f32 operation whose exact result is within `lo ..= hi` (computed
    /// exactly, or nearly, in f64 from f32 bounds): the bounds widened to the f32 values
    /// around them, which its rounding cannot leave.
    fn rounded(lo: f64, hi: f64, nan: bool) -> Range {
        let (l, h) = (lo as f32, hi as f32);
        let lo = if (l as f64) > lo { l.next_down() } else { l };
        let hi = if (h as f64) < hi { h.next_up() } else { h };
        if lo.is_finite() && hi.is_finite() {
            Range {
                lo: lo as f64,
                hi: hi as f64,
                nan,
            }
        } else {
            Range::ANY
        }
    }

    fn finite(self) -> bool {
        self.lo.is_finite() && self.hi.is_finite() && !self.nan
    }

    fn within_unit(self) -> bool {
        !self.nan && self.lo >= 0.0 && self.hi <= 1.0
    }

    fn un(op: UnOp, a: Range) -> Range {
        match op {
            UnOp::Not | UnOp::IsNan | UnOp::Sat => Range::UNIT,
            UnOp::Neg => Range {
                lo: -a.hi,
                hi: -a.lo,
                ..a
            },
            UnOp::Abs if a.lo >= 0.0 => a,
            UnOp::Floor => Range {
                lo: a.lo.floor(),
                hi: a.hi.floor(),
                ..a
            },
            UnOp::Ceil => Range {
                lo: a.lo.ceil(),
                hi: a.hi.ceil(),
                ..a
            },
            _ => Range::ANY,
        }
    }

    fn bin(op: BinOp, a: Range, b: Range) -> Range {
        use BinOp::*;
        match op {
            Lt | Le | Gt | Ge | Eq | Ne | And | Or | Noise => Range::UNIT,
            Min => Range {
                lo: a.lo.min(b.lo),
                hi: a.hi.min(b.hi),
                nan: a.nan || b.nan,
            },
            Max => Range {
                lo: a.lo.max(b.lo),
                hi: a.hi.max(b.hi),
                nan: a.nan || b.nan,
            },
            Add | Sub | Mul if a.finite() && b.finite() => {
                let (lo, hi) = match op {
                    Add => (a.lo + b.lo, a.hi + b.hi),
                    Sub => (a.lo - b.hi, a.hi - b.lo),
                    _ => {
                        let p = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
                        (
                            p.iter().copied().fold(f64::INFINITY, f64::min),
                            p.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                        )
                    }
                };
                Range::rounded(lo, hi, false)
            }
            _ => Range::ANY,
        }
    }

    fn union(a: Range, b: Range) -> Range {
        Range {
            lo: a.lo.min(b.lo),
            hi: a.hi.max(b.hi),
            nan: a.nan || b.nan,
        }
    }
}

/// Builds a program's steps, sharing equal ones.
#[derive(Default)]
struct Builder {
    scalars: Vec<Scalar>,
    scalar_ids: HashMap<Scalar, u32>,
    scalar_ranges: Vec<Range>,
    steps: Vec<Step>,
    step_ids: HashMap<Step, u32>,
    step_ranges: Vec<Range>,
    uniforms: Vec<Expr>,
    /// Uniforms by their expression's text: `sin(t)` written twice is one uniform.
    uniform_ids: HashMap<String, u32>,
}

fn is_pixel_variable(name: &str) -> bool {
    PIXEL_VARIABLES.iter().any(|(n, _)| *n == name)
}

impl Builder {
    fn scalar(&mut self, s: Scalar) -> Arg {
        let next = self.scalars.len() as u32;
        let id = *self.scalar_ids.entry(s).or_insert(next);
        if id == next {
            let range = match s {
                Scalar::Const(bits) => Range::of(f32::from_bits(bits)),
                Scalar::Uniform(_) => Range::ANY,
                Scalar::Un(op, a) => Range::un(op, self.scalar_ranges[a as usize]),
                Scalar::Bin(op, a, b) => Range::bin(
                    op,
                    self.scalar_ranges[a as usize],
                    self.scalar_ranges[b as usize],
                ),
                Scalar::Select(_, a, b) => Range::union(
                    self.scalar_ranges[a as usize],
                    self.scalar_ranges[b as usize],
                ),
            };
            self.scalars.push(s);
            self.scalar_ranges.push(range);
        }
        Arg::Scalar(id)
    }

    fn range(&self, a: Arg) -> Range {
        match a {
            Arg::Value(i) => match (i as usize).checked_sub(INPUTS) {
                None => Range::input(i as usize),
                Some(k) => self.step_ranges[k],
            },
            Arg::Scalar(s) => self.scalar_ranges[s as usize],
        }
    }

    fn constant(&mut self, v: f32) -> Arg {
        self.scalar(Scalar::Const(v.to_bits()))
    }

    fn step(&mut self, s: Step) -> Arg {
        let next = self.steps.len() as u32;
        let id = *self.step_ids.entry(s).or_insert(next);
        if id == next {
            let range = match s {
                Step::Un(op, a) => Range::un(op, self.range(a)),
                Step::Bin(op, a, b) => Range::bin(op, self.range(a), self.range(b)),
                Step::Select(_, a, b) => Range::union(self.range(a), self.range(b)),
            };
            self.steps.push(s);
            self.step_ranges.push(range);
        }
        Arg::Value(INPUTS as u32 + id)
    }

    /// The constant value of a scalar argument, if it is one.
    fn const_of(&self, a: Arg) -> Option<f32> {
        match a {
            Arg::Scalar(s) => match self.scalars[s as usize] {
                Scalar::Const(bits) => Some(f32::from_bits(bits)),
                _ => None,
            },
            Arg::Value(_) => None,
        }
    }

    fn un(&mut self, op: UnOp, a: Arg) -> Arg {
        if let Some(v) = self.const_of(a) {
            return self.constant(op.apply(v));
        }
        match a {
            Arg::Scalar(s) => self.scalar(Scalar::Un(op, s)),
            // A step whose result is in 0..=1 already (`1 - r`, a comparison) needs no clamp.
            // An input keeps it: the step is what moves it into another channel.
            Arg::Value(i)
                if op == UnOp::Sat && i as usize >= INPUTS && self.range(a).within_unit() =>
            {
                a
            }
            Arg::Value(_) => self.step(Step::Un(op, a)),
        }
    }

    fn bin(&mut self, op: BinOp, a: Arg, b: Arg) -> Arg {
        match (self.const_of(a), self.const_of(b)) {
            (Some(x), Some(y)) => return self.constant(op.apply(x, y)),
            // Small integer powers are multiplications on both backends: exact where the
            // GPU's pow (exp2 and log2) is not, and defined for negative bases.
            (None, Some(k)) if op == BinOp::Pow && k.fract() == 0.0 && k.abs() <= 4.0 => {
                return self.integer_power(a, k as i32);
            }
            _ => {}
        }
        match (a, b) {
            (Arg::Scalar(x), Arg::Scalar(y)) => self.scalar(Scalar::Bin(op, x, y)),
            _ => self.step(Step::Bin(op, a, b)),
        }
    }

    fn integer_power(&mut self, a: Arg, k: i32) -> Arg {
        let square = |b: &mut Builder| b.bin(BinOp::Mul, a, a);
        let magnitude = match k.abs() {
            0 => return self.constant(1.0),
            1 => a,
            2 => square(self),
            3 => {
                let s = square(self);
                self.bin(BinOp::Mul, s, a)
            }
            _ => {
                let s = square(self);
                self.bin(BinOp::Mul, s, s)
            }
        };
        if k < 0 {
            let one = self.constant(1.0);
            self.bin(BinOp::Div, one, magnitude)
        } else {
            magnitude
        }
    }

    fn select(&mut self, c: Arg, a: Arg, b: Arg) -> Arg {
        if let Some(c) = self.const_of(c) {
            return if c != 0.0 { a } else { b };
        }
        if a == b {
            return a;
        }
        match (c, a, b) {
            (Arg::Scalar(c), Arg::Scalar(a), Arg::Scalar(b)) => {
                self.scalar(Scalar::Select(c, a, b))
            }
            _ => self.step(Step::Select(c, a, b)),
        }
    }

    /// A uniform for the frame-level expression `e`.
    fn uniform(&mut self, e: &Expr) -> Arg {
        let next = self.uniforms.len() as u32;
        let id = *self.uniform_ids.entry(e.to_string()).or_insert(next);
        if id == next {
            self.uniforms.push(e.clone());
        }
        self.scalar(Scalar::Uniform(id))
    }

    fn lower(&mut self, e: &Expr) -> Result<Arg, String> {
        if !e.any_name(&is_pixel_variable) {
            if e.is_constant() {
                let v = e.eval(&|_| f64::NAN) as f32;
                // A constant too large for f32 goes through the uniforms, which report it.
                if v.is_finite() {
                    return Ok(self.constant(v));
                }
            }
            return Ok(self.uniform(e));
        }
        Ok(match e {
            Expr::Num(v) => self.constant(*v as f32),
            Expr::Name(name, _) => {
                let i = PIXEL_VARIABLES
                    .iter()
                    .position(|(n, _)| n == name)
                    .ok_or_else(|| format!("unknown name `{name}`"))?;
                if i == 5 {
                    // y is the row in the frame plus the row the frame starts at in the
                    // picture: a strip's program reads its rows' places in the whole.
                    let origin = self.uniform(&Expr::Name(ROW_ORIGIN.into(), (0, 0)));
                    return Ok(self.bin(BinOp::Add, Arg::Value(5), origin));
                }
                Arg::Value(i as u32)
            }
            Expr::Neg(a) => {
                let a = self.lower(a)?;
                self.un(UnOp::Neg, a)
            }
            Expr::Not(a) => {
                let a = self.lower(a)?;
                self.un(UnOp::Not, a)
            }
            Expr::Bin(op, a, b) => {
                let (a, b) = (self.lower(a)?, self.lower(b)?);
                self.bin(BinOp::of(*op), a, b)
            }
            Expr::Call(name, args, _) => self.call(name, args)?,
        })
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> Result<Arg, String> {
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("`{name}` takes {n} arguments, not {}", args.len()))
            }
        };
        if name == "linear" || name == "smooth" {
            return self.keyframes(name == "smooth", args);
        }
        let un = match name {
            "abs" => Some(UnOp::Abs),
            "floor" => Some(UnOp::Floor),
            "ceil" => Some(UnOp::Ceil),
            "round" => Some(UnOp::Round),
            "sqrt" => Some(UnOp::Sqrt),
            "exp" => Some(UnOp::Exp),
            "log" => Some(UnOp::Log),
            "sin" => Some(UnOp::Sin),
            "cos" => Some(UnOp::Cos),
            "tan" => Some(UnOp::Tan),
            _ => None,
        };
        if let Some(op) = un {
            arity(1)?;
            let a = self.lower(&args[0])?;
            return Ok(self.un(op, a));
        }
        let bin = match name {
            "min" => Some(BinOp::Min),
            "max" => Some(BinOp::Max),
            "pow" => Some(BinOp::Pow),
            "noise" => Some(BinOp::Noise),
            _ => None,
        };
        if let Some(op) = bin {
            arity(2)?;
            let (a, b) = (self.lower(&args[0])?, self.lower(&args[1])?);
            return Ok(self.bin(op, a, b));
        }
        arity(3)?;
        let v = [
            self.lower(&args[0])?,
            self.lower(&args[1])?,
            self.lower(&args[2])?,
        ];
        // As `expr::call` computes them, operation for operation.
        Ok(match name {
            "clamp" => {
                let lo = self.bin(BinOp::Max, v[0], v[1]);
                self.bin(BinOp::Min, lo, v[2])
            }
            "lerp" => {
                let d = self.bin(BinOp::Sub, v[1], v[0]);
                let d = self.bin(BinOp::Mul, d, v[2]);
                self.bin(BinOp::Add, v[0], d)
            }
            "smoothstep" => {
                let num = self.bin(BinOp::Sub, v[2], v[0]);
                let den = self.bin(BinOp::Sub, v[1], v[0]);
                let t = self.bin(BinOp::Div, num, den);
                let (zero, one) = (self.constant(0.0), self.constant(1.0));
                let t = self.bin(BinOp::Max, t, zero);
                let t = self.bin(BinOp::Min, t, one);
                self.ease(t)
            }
            "if" => self.select(v[0], v[1], v[2]),
            "between" => {
                let above = self.bin(BinOp::Le, v[1], v[0]);
                let below = self.bin(BinOp::Le, v[0], v[2]);
                self.bin(BinOp::And, above, below)
            }
            _ => return Err(format!("unknown function `{name}`")),
        })
    }

    /// `t·t·(3 − 2·t)`, smoothstep's curve.
    fn ease(&mut self, t: Arg) -> Arg {
        let (two, three) = (self.constant(2.0), self.constant(3.0));
        let tt = self.bin(BinOp::Mul, t, t);
        let t2 = self.bin(BinOp::Mul, two, t);
        let s = self.bin(BinOp::Sub, three, t2);
        self.bin(BinOp::Mul, tt, s)
    }

    /// `linear` or `smooth` of a per-pixel position over constant keyframes, as
    /// [`expr::interpolate`] computes it: selects over the segments, from the last one back.
    fn keyframes(&mut self, smooth: bool, args: &[Expr]) -> Result<Arg, String> {
        let name = if smooth { "smooth" } else { "linear" };
        if args.len() < 3 || args.len().is_multiple_of(2) {
            return Err(format!("`{name}` takes a position and then pairs"));
        }
        let mut keys = Vec::new();
        for pair in args[1..].chunks(2) {
            if !pair[0].is_constant() || !pair[1].is_constant() {
                return Err(format!(
                    "the keyframes of `{name}` must be constant numbers"
                ));
            }
            let key = |e: &Expr| e.eval(&|_| f64::NAN) as f32;
            keys.push((key(&pair[0]), key(&pair[1])));
        }
        let x = self.lower(&args[0])?;
        let mut acc = self.constant(keys[keys.len() - 1].1);
        for w in keys.windows(2).rev() {
            let ((xa, ya), (xb, yb)) = (w[0], w[1]);
            let xa_arg = self.constant(xa);
            let along = self.bin(BinOp::Sub, x, xa_arg);
            let span = self.constant(xb - xa);
            let mut k = self.bin(BinOp::Div, along, span);
            if smooth {
                k = self.ease(k);
            }
            let rise = self.constant(yb - ya);
            let rise = self.bin(BinOp::Mul, rise, k);
            let ya_arg = self.constant(ya);
            let value = self.bin(BinOp::Add, ya_arg, rise);
            let xb_arg = self.constant(xb);
            let inside = self.bin(BinOp::Lt, x, xb_arg);
            acc = self.select(inside, value, acc);
        }
        let (x0, y0) = keys[0];
        let x0 = self.constant(x0);
        let before = self.bin(BinOp::Le, x, x0);
        let y0 = self.constant(y0);
        acc = self.select(before, y0, acc);
        // A NaN position stays NaN, as `interpolate` has it.
        let nan = self.un(UnOp::IsNan, x);
        Ok(self.select(nan, x, acc))
    }

    /// The program's shape: only the steps and scalars the outputs need, renumbered in order.
    fn finish(self, mut outputs: [Output; 4], uniforms: usize) -> Shape {
        let mut step_live = vec![false; self.steps.len()];
        let mut scalar_live = vec![false; self.scalars.len()];
        let mark = |a: Arg, step_live: &mut Vec<bool>, scalar_live: &mut Vec<bool>| match a {
            Arg::Value(i) if i as usize >= INPUTS => step_live[i as usize - INPUTS] = true,
            Arg::Value(_) => {}
            Arg::Scalar(s) => scalar_live[s as usize] = true,
        };
        for o in &outputs {
            match *o {
                Output::Value(i) => mark(Arg::Value(i), &mut step_live, &mut scalar_live),
                Output::Scalar(s) => mark(Arg::Scalar(s), &mut step_live, &mut scalar_live),
                Output::Keep => {}
            }
        }
        for k in (0..self.steps.len()).rev() {
            if step_live[k] {
                for a in self.steps[k].args() {
                    mark(a, &mut step_live, &mut scalar_live);
                }
            }
        }
        for s in (0..self.scalars.len()).rev() {
            if scalar_live[s] {
                match self.scalars[s] {
                    Scalar::Un(_, a) => scalar_live[a as usize] = true,
                    Scalar::Bin(_, a, b) => {
                        scalar_live[a as usize] = true;
                        scalar_live[b as usize] = true;
                    }
                    Scalar::Select(c, a, b) => {
                        for i in [c, a, b] {
                            scalar_live[i as usize] = true;
                        }
                    }
                    Scalar::Const(_) | Scalar::Uniform(_) => {}
                }
            }
        }
        let renumber = |live: &[bool]| {
            let mut next = 0u32;
            live.iter()
                .map(|&l| {
                    let id = next;
                    next += l as u32;
                    id
                })
                .collect::<Vec<u32>>()
        };
        let (step_id, scalar_id) = (renumber(&step_live), renumber(&scalar_live));
        let arg = |a: Arg| match a {
            Arg::Value(i) if i as usize >= INPUTS => {
                Arg::Value(INPUTS as u32 + step_id[i as usize - INPUTS])
            }
            Arg::Value(i) => Arg::Value(i),
            Arg::Scalar(s) => Arg::Scalar(scalar_id[s as usize]),
        };
        let scalars = self
            .scalars
            .iter()
            .zip(&scalar_live)
            .filter(|(_, &l)| l)
            .map(|(s, _)| {
                let id = |i: u32| scalar_id[i as usize];
                match *s {
                    Scalar::Un(op, a) => Scalar::Un(op, id(a)),
                    Scalar::Bin(op, a, b) => Scalar::Bin(op, id(a), id(b)),
                    Scalar::Select(c, a, b) => Scalar::Select(id(c), id(a), id(b)),
                    other => other,
                }
            })
            .collect();
        let steps = self
            .steps
            .iter()
            .zip(&step_live)
            .filter(|(_, &l)| l)
            .map(|(s, _)| match *s {
                Step::Un(op, a) => Step::Un(op, arg(a)),
                Step::Bin(op, a, b) => Step::Bin(op, arg(a), arg(b)),
                Step::Select(c, a, b) => Step::Select(arg(c), arg(a), arg(b)),
            })
            .collect();
        for o in &mut outputs {
            *o = match *o {
                Output::Value(i) => match arg(Arg::Value(i)) {
                    Arg::Value(i) => Output::Value(i),
                    Arg::Scalar(s) => Output::Scalar(s),
                },
                Output::Scalar(s) => Output::Scalar(scalar_id[s as usize]),
                Output::Keep => Output::Keep,
            };
        }
        Shape {
            scalars,
            steps,
            outputs,
            uniforms,
        }
    }
}

/// CPU registers for each step's result, and how many temporaries they take beyond the six
/// input planes. A channel's result goes straight into the channel's plane when the input is
/// read no more by then (so `1 - r` runs in place), and so does the step feeding it when
/// nothing else reads that; other results take temporaries, reused once their value is dead.
fn allocate(shape: &Shape) -> (Vec<u32>, usize) {
    let n = shape.steps.len();
    let end = n; // "read by the outputs"
    let mut last: Vec<Option<usize>> = vec![None; INPUTS + n];
    let mut uses = vec![0usize; INPUTS + n];
    for (k, s) in shape.steps.iter().enumerate() {
        for a in s.args() {
            if let Arg::Value(v) = a {
                last[v as usize] = Some(k);
                uses[v as usize] += 1;
            }
        }
    }
    for o in &shape.outputs {
        if let Output::Value(v) = *o {
            last[v as usize] = Some(end);
            uses[v as usize] += 1;
        }
    }
    // The channel plane each step would like to write.
    let mut hint: Vec<Option<usize>> = vec![None; n];
    for (c, o) in shape.outputs.iter().enumerate() {
        if let Output::Value(v) = *o {
            if let Some(k) = (v as usize).checked_sub(INPUTS) {
                hint[k].get_or_insert(c);
            }
        }
    }
    for k in (0..n).rev() {
        let Some(c) = hint[k] else { continue };
        let feeder = shape.steps[k].args().find_map(|a| match a {
            Arg::Value(v) if v as usize >= INPUTS && uses[v as usize] == 1 => {
                Some(v as usize - INPUTS)
            }
            _ => None,
        });
        if let Some(f) = feeder {
            hint[f].get_or_insert(c);
        }
    }
    let dead_after = |v: usize, k: usize| last[v].is_none_or(|l| l <= k);
    let mut registers = vec![0u32; n];
    // What each channel plane holds: the input, then results written into it.
    let mut holder: [usize; 4] = [0, 1, 2, 3];
    let mut free: Vec<u32> = Vec::new();
    let mut temporaries = 0usize;
    for k in 0..n {
        let mut dying: Vec<u32> = Vec::new();
        for a in shape.steps[k].args() {
            if let Arg::Value(v) = a {
                let v = v as usize;
                if v >= INPUTS && last[v] == Some(k) {
                    let r = registers[v - INPUTS];
                    if r as usize >= INPUTS && !dying.contains(&r) {
                        dying.push(r);
                    }
                }
            }
        }
        free.extend(dying);
        let plane = hint[k].filter(|&c| dead_after(c, k) && dead_after(holder[c], k));
        registers[k] = match plane {
            Some(c) => {
                holder[c] = INPUTS + k;
                c as u32
            }
            None => free.pop().unwrap_or_else(|| {
                temporaries += 1;
                (INPUTS + temporaries - 1) as u32
            }),
        };
    }
    (registers, temporaries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::expr;
    use crate::chain::parse_expr;

    fn expr(text: &str) -> Expr {
        let e = parse_expr(text, 0).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let names: Vec<&str> = PIXEL_VARIABLES
            .iter()
            .chain(expr::FRAME_VARIABLES)
            .map(|(n, _)| *n)
            .collect();
        e.check(&names, "")
            .unwrap_or_else(|e| panic!("{text}: {e:?}"));
        e.fold((0, text.len())).unwrap()
    }

    fn program(r: &str) -> PixelProgram {
        let e = expr(r);
        PixelProgram::compile([Some(&e), None, None, None]).unwrap()
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    /// Runs the compiled program and the f64 reference (`Expr::eval`, clamped like a channel)
    /// on random pixels and frames; they agree within f32 rounding.
    #[test]
    fn compiled_programs_match_the_f64_reference() {
        let cases = [
            "1 - r",
            "0.2126*r + 0.7152*g + 0.0722*b",
            "r*r*r - 2*g^2 + b^3 + a^-1 / 10",
            "(r - 0.5)^2 + (g - 0.5)^4",
            "abs(r - g) + min(b, a) * max(r, 0.3)",
            "clamp(r * 3 - 1, 0.2, 0.8)",
            "floor(r * 7) / 7 + ceil(g * 3) / 9",
            "round(r * 10 - 5) / 10 + 0.5",
            "sqrt(r) * exp(g - 1) + log(b + 1)",
            "0.5 + 0.5 * sin(x / 3 + t) * cos(y / 5)",
            "0.5 + 0.1 * tan(r - 0.5)",
            "pow(r, 2.2) + pow(g, 1 / 2.2) / 4",
            "lerp(r, g, b)",
            "smoothstep(0.2, 0.8, r)",
            "smoothstep(0.1, 0.9 * t / 3, g)",
            "if(r > 0.5, g, b)",
            "if(r < 0.3 || g >= 0.7, 1, 0.25) * between(b, 0.2, 0.8)",
            "(r <= 0.4) + (g == g) * 0.1 + (b != 0.25) * 0.2 + !(a > 0.9) * 0.3",
            "r > 0.2 && g < 0.8",
            "(x % 7) / 7 + (y % 3) / 9",
            "x / w * y / h",
            "linear(r, 0, 1, 0.5, 0.2, 1, 0.9)",
            "smooth(g, 0.1, 0, 0.6, 1, 0.9, 0.5)",
            "linear(x, 0, 0, 10, 1)",
            "r * (0.5 + 0.5 * sin(2 * PI * t)) + n / 100",
            "r * (1 + duration) / (1 + fps)",
            "-(-r) + 0 * g",
            "0.75",
            "t / 10",
        ];
        let mut rng = Rng(0x1234_5678_9abc_def1);
        for text in cases {
            let e = expr(text);
            let p = PixelProgram::compile([Some(&e), None, None, None]).unwrap();
            for trial in 0..300 {
                let px = [rng.next(), rng.next(), rng.next(), rng.next()];
                let (x, y) = ((rng.next() * 64.0).floor(), (rng.next() * 48.0).floor());
                let frame = |name: &str| match name {
                    "t" => 0.25 * (trial % 8) as f64,
                    "n" => (trial % 5) as f64,
                    "w" => 64.0,
                    "h" => 48.0,
                    "fps" => 25.0,
                    "duration" => 4.0,
                    _ => f64::NAN,
                };
                let vars = |name: &str| match name {
                    "r" => px[0] as f64,
                    "g" => px[1] as f64,
                    "b" => px[2] as f64,
                    "a" => px[3] as f64,
                    "x" => x as f64,
                    "y" => y as f64,
                    other => frame(other),
                };
                let want = e.eval(&vars);
                let want = if want.is_nan() {
                    0.0
                } else {
                    want.clamp(0.0, 1.0)
                };
                let uniforms = p.uniform_values(&frame).unwrap();
                let got = p.eval(&uniforms, px, x, y);
                assert!(
                    (got[0] as f64 - want).abs() < 2e-5,
                    "{text} at {px:?} ({x}, {y}), trial {trial}: {} vs {want}\n{p}",
                    got[0]
                );
                assert_eq!(got[1..], px[1..], "{text}: other channels pass through");
            }
        }
    }

    #[test]
    fn frame_level_parts_become_uniforms_and_the_shape_ignores_their_values() {
        let a = program("r * sin(2 * PI * t) + w / 2 * x");
        assert_eq!(a.uniform_count(), 2, "{a}");
        let b = program("r * cos(t) + h * x");
        assert_eq!(a, b, "same code, other uniforms");
        let c = program("r * cos(t) + h * y");
        assert_ne!(a, c);
        let at = |t: f64| {
            a.uniform_values(&|n| match n {
                "t" => t,
                "w" => 10.0,
                _ => 0.0,
            })
            .unwrap()
        };
        assert_eq!(at(0.25), vec![1.0, 5.0]);
        assert!(at(0.0)[0].abs() < 1e-6);
        // Repeated frame-level parts are one uniform; constants are not uniforms.
        let d = program("r * sin(t) + g * sin(t) + 0.5");
        assert_eq!(d.uniform_count(), 1, "{d}");
        assert!(program("r * 2").uniform_count() == 0);
        let e = expr("r * (t / 0)");
        let p = PixelProgram::compile([Some(&e), None, None, None]).unwrap();
        let err = p.uniform_values(&|_| 1.0).unwrap_err();
        assert!(err.contains("inf"), "{err}");
    }

    #[test]
    fn equal_channels_share_their_steps_and_run_in_place() {
        let luma = expr("0.2126*r + 0.7152*g + 0.0722*b");
        let p = PixelProgram::compile([Some(&luma), Some(&luma), Some(&luma), None]).unwrap();
        // Three products, two sums; no clamp: the sum cannot leave 0..=1.
        assert_eq!(p.steps().len(), 5, "{p}");
        assert!(matches!(p.outputs()[0], Output::Value(_)));
        assert_eq!(p.outputs()[0], p.outputs()[1]);
        let inv = ["1-r", "1-g", "1-b"].map(expr);
        let p = PixelProgram::compile([Some(&inv[0]), Some(&inv[1]), Some(&inv[2]), None]).unwrap();
        // Each channel: one subtraction, in the channel's own plane.
        assert_eq!(p.steps().len(), 3, "{p}");
        assert_eq!(p.temporaries(), 0, "{p}");
        for k in 0..p.steps().len() {
            assert!(p.register(k) < 3, "{p}");
        }
        // What may leave 0..=1 is clamped, in place.
        let p = program("r * 2 - g");
        assert!(
            matches!(p.steps().last(), Some(Step::Un(UnOp::Sat, _))),
            "{p}"
        );
        assert_eq!(p.temporaries(), 0, "{p}");
        let same = expr("r");
        let p = PixelProgram::compile([Some(&same), None, None, None]).unwrap();
        assert!(p.is_identity());
        // A swap must not overwrite what the other channel still reads.
        let (r, b) = (expr("b"), expr("r"));
        let p = PixelProgram::compile([Some(&r), None, Some(&b), None]).unwrap();
        assert_eq!(
            p.eval(&[], [0.1, 0.2, 0.3, 0.4], 0.0, 0.0),
            [0.3, 0.2, 0.1, 0.4]
        );
    }

    #[test]
    fn outputs_are_clamped_and_nan_is_zero() {
        let p = program("r / (g - g)");
        assert_eq!(p.eval(&[], [0.5, 0.2, 0.0, 1.0], 0.0, 0.0)[0], 1.0);
        assert_eq!(p.eval(&[], [0.0, 0.2, 0.0, 1.0], 0.0, 0.0)[0], 0.0);
        let p = program("-r - 1");
        assert_eq!(p.eval(&[], [0.5, 0.2, 0.0, 1.0], 0.0, 0.0)[0], 0.0);
        let p = program("log(r - 1)");
        assert_eq!(p.eval(&[], [0.5, 0.2, 0.0, 1.0], 0.0, 0.0)[0], 0.0);
        let p = program("linear(log(r - 1), 0, 0, 1, 1) + 1");
        assert_eq!(p.eval(&[], [0.5, 0.2, 0.0, 1.0], 0.0, 0.0)[0], 0.0);
    }

    #[test]
    fn registers_never_overwrite_live_values() {
        // Random programs over many temporaries: the register-allocated order (what the CPU
        // runs) gives what SSA evaluation gives.
        let cases = [
            "(r + g) * (g + b) * (b + a) * (a + r) + (r - g) * (g - b) / (1 + x)",
            "if(r > g, (r - g) * (r + b), (g - r) * (g + b)) + sqrt(r * g + b * a)",
            "linear(r * g + b, 0, 1, 0.3, 0.5, 0.6, 0.2, 1.5, 0.8) * smooth(a, 0, 0, 1, 1)",
        ];
        let rgb = cases.map(expr);
        let swap = [
            expr("g * b"),
            expr("r + b * 0.5"),
            expr("r * g"),
            expr("1 - a * r"),
        ];
        let moves = [expr("b"), expr("r"), expr("g"), expr("r")];
        let mut rng = Rng(99);
        for channels in [
            [Some(&rgb[0]), Some(&rgb[1]), Some(&rgb[2]), None],
            [
                Some(&swap[0]),
                Some(&swap[1]),
                Some(&swap[2]),
                Some(&swap[3]),
            ],
            [
                Some(&moves[0]),
                Some(&moves[1]),
                Some(&moves[2]),
                Some(&moves[3]),
            ],
            [Some(&moves[0]), None, Some(&moves[1]), None],
        ] {
            let p = PixelProgram::compile(channels).unwrap();
            for _ in 0..200 {
                let px = [rng.next(), rng.next(), rng.next(), rng.next()];
                let (x, y) = (3.0, 5.0);
                let want = p.eval(&[], px, x, y);
                let got = run_with_registers(&p, px, x, y);
                assert_eq!(got, want, "{p}");
            }
        }
    }

    /// One pixel through the program as the CPU runs it: each step reads and writes registers.
    fn run_with_registers(p: &PixelProgram, px: [f32; 4], x: f32, y: f32) -> [f32; 4] {
        let mut regs = vec![f32::NAN; INPUTS + p.temporaries()];
        regs[..INPUTS].copy_from_slice(&[px[0], px[1], px[2], px[3], x, y]);
        let mut scalars = Vec::new();
        p.scalar_values(&[], &mut scalars);
        let arg = |regs: &[f32], a: Arg| match a {
            Arg::Value(v) => regs[p.register_of(v)],
            Arg::Scalar(s) => scalars[s as usize],
        };
        for (k, step) in p.steps().iter().enumerate() {
            let v = match *step {
                Step::Un(op, a) => op.apply(arg(&regs, a)),
                Step::Bin(op, a, b) => op.apply(arg(&regs, a), arg(&regs, b)),
                Step::Select(c, a, b) => select(arg(&regs, c), arg(&regs, a), arg(&regs, b)),
            };
            regs[p.register(k)] = v;
        }
        // Channel by channel into the planes, as the CPU does.
        for (c, o) in p.outputs().iter().enumerate() {
            match *o {
                Output::Keep => {}
                Output::Scalar(s) => regs[c] = scalars[s as usize],
                Output::Value(v) => regs[c] = regs[p.register_of(v)],
            }
        }
        [regs[0], regs[1], regs[2], regs[3]]
    }
}
