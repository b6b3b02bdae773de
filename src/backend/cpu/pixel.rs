//! `pixel` programs ([`PixelProgram`]) on the CPU: each step is one loop over the planes of a
//! block of pixels, so what is interpreted is the program, once per block, never per pixel.
//!
//! Registers are planes: r, g, b, a, x and y of the block, then temporaries kept between blocks.
//! The program says which register each step writes ([`PixelProgram::register`]); a step may
//! write the register it reads (`1 - r` in r's plane), which the loops below read as `Dst`. Every
//! loop computes with [`UnOp::apply`], [`BinOp::apply`] and [`select`], the definitions the
//! reference and the WGSL follow, and is plain enough for the compiler to vectorise where the
//! operation allows (arithmetic, comparisons, selects; not the libm calls). Nothing here is
//! inlined into the kernels that call it: `simd::run_pixel` compiles it once per build of the
//! loops.

use crate::pixel::{select, Arg, BinOp, Output, PixelProgram, Step, UnOp, INPUTS};

/// Temporaries and scalars of pixel programs, kept between blocks so that a block allocates
/// nothing.
#[derive(Default)]
pub struct Registers {
    temps: Vec<f32>,
    scalars: Vec<f32>,
}

/// What a step reads for each pixel.
#[derive(Clone, Copy)]
enum Src<'a> {
    Plane(&'a [f32]),
    Value(f32),
    /// The register the step writes.
    Dst,
}

/// One argument inside a loop, `d` being the destination's value at the same pixel.
trait Lane: Copy {
    /// The lane for a loop over `n` pixels: a plane cut to `n`, so that indexing needs no check.
    fn fit(self, n: usize) -> Self;
    fn at(self, d: f32, i: usize) -> f32;
}

impl Lane for &[f32] {
    #[inline(always)]
    fn fit(self, n: usize) -> Self {
        &self[..n]
    }
    #[inline(always)]
    fn at(self, _: f32, i: usize) -> f32 {
        self[i]
    }
}

#[derive(Clone, Copy)]
struct Value(f32);

impl Lane for Value {
    #[inline(always)]
    fn fit(self, _: usize) -> Self {
        self
    }
    #[inline(always)]
    fn at(self, _: f32, _: usize) -> f32 {
        self.0
    }
}

#[derive(Clone, Copy)]
struct Dst;

impl Lane for Dst {
    #[inline(always)]
    fn fit(self, _: usize) -> Self {
        self
    }
    #[inline(always)]
    fn at(self, d: f32, _: usize) -> f32 {
        d
    }
}

/// Calls `$body` with `$lane` bound to the [`Lane`] of `$src`.
macro_rules! with_lane {
    ($src:expr, $lane:ident => $body:expr) => {
        match $src {
            Src::Plane(p) => {
                let $lane = p;
                $body
            }
            Src::Value(v) => {
                let $lane = Value(v);
                $body
            }
            Src::Dst => {
                let $lane = Dst;
                $body
            }
        }
    };
}

#[inline(always)]
fn map1<A: Lane>(d: &mut [f32], a: A, f: impl Fn(f32) -> f32) {
    let a = a.fit(d.len());
    for (i, d) in d.iter_mut().enumerate() {
        *d = f(a.at(*d, i));
    }
}

#[inline(always)]
fn map2<A: Lane, B: Lane>(d: &mut [f32], a: A, b: B, f: impl Fn(f32, f32) -> f32) {
    let (a, b) = (a.fit(d.len()), b.fit(d.len()));
    for (i, d) in d.iter_mut().enumerate() {
        *d = f(a.at(*d, i), b.at(*d, i));
    }
}

#[inline(always)]
fn map3<C: Lane, A: Lane, B: Lane>(d: &mut [f32], c: C, a: A, b: B) {
    let (c, a, b) = (c.fit(d.len()), a.fit(d.len()), b.fit(d.len()));
    for (i, d) in d.iter_mut().enumerate() {
        *d = select(c.at(*d, i), a.at(*d, i), b.at(*d, i));
    }
}

#[inline(always)]
fn unary(op: UnOp, d: &mut [f32], a: Src) {
    macro_rules! each {
        ($($op:ident),*) => {
            match op {
                $(UnOp::$op => with_lane!(a, a => map1(d, a, |v| UnOp::$op.apply(v))),)*
            }
        };
    }
    each!(Neg, Not, Abs, Floor, Ceil, Round, Sqrt, Exp, Log, Sin, Cos, Tan, IsNan, Sat)
}

#[inline(always)]
fn binary(op: BinOp, d: &mut [f32], a: Src, b: Src) {
    macro_rules! each {
        ($($op:ident),*) => {
            match op {
                $(BinOp::$op => with_lane!(a, a => with_lane!(b, b =>
                    map2(d, a, b, |x, y| BinOp::$op.apply(x, y))
                )),)*
            }
        };
    }
    each!(Add, Sub, Mul, Div, Rem, Pow, Lt, Le, Gt, Ge, Eq, Ne, And, Or, Min, Max, Noise)
}

#[inline(always)]
fn ternary(d: &mut [f32], c: Src, a: Src, b: Src) {
    with_lane!(c, c => with_lane!(a, a => with_lane!(b, b => map3(d, c, a, b))))
}

/// Registers a program may have without allocating its register file.
const SMALL: usize = 24;

/// Runs `program` with `uniforms` over the planes r, g, b, a, x and y of one block (equal
/// lengths): r, g, b and a are left holding the result. Planes the program does not read may
/// hold anything; a channel it keeps is not touched.
#[inline(always)]
pub fn run(
    program: &PixelProgram,
    uniforms: &[f32],
    planes: [&mut [f32]; INPUTS],
    regs: &mut Registers,
) {
    let n = planes[0].len();
    if n == 0 {
        return;
    }
    program.scalar_values(uniforms, &mut regs.scalars);
    let scalars = &regs.scalars;
    let temps = program.temporaries();
    if regs.temps.len() < temps * n {
        regs.temps.resize(temps * n, 0.0);
    }
    // The register file: on the stack for most programs, so that a block allocates nothing.
    let registers = planes
        .into_iter()
        .chain(regs.temps[..temps * n].chunks_exact_mut(n));
    let (mut small, mut large): ([&mut [f32]; SMALL], Vec<&mut [f32]>) = Default::default();
    let file: &mut [&mut [f32]] = if INPUTS + temps <= SMALL {
        for (slot, r) in small.iter_mut().zip(registers) {
            *slot = r;
        }
        &mut small[..INPUTS + temps]
    } else {
        large.extend(registers);
        &mut large
    };
    for (k, step) in program.steps().iter().enumerate() {
        let at = program.register(k);
        let d = std::mem::take(&mut file[at]);
        {
            let src = |a: Arg| match a {
                Arg::Scalar(s) => Src::Value(scalars[s as usize]),
                Arg::Value(v) => match program.register_of(v) {
                    r if r == at => Src::Dst,
                    r => Src::Plane(&*file[r]),
                },
            };
            match *step {
                Step::Un(op, a) => unary(op, d, src(a)),
                Step::Bin(op, a, b) => binary(op, d, src(a), src(b)),
                Step::Select(c, a, b) => ternary(d, src(c), src(a), src(b)),
            }
        }
        file[at] = d;
    }
    // Results not already in their channel's plane are in temporaries or in another channel's
    // finished plane, which no copy overwrites.
    for (c, out) in program.outputs().iter().enumerate() {
        match *out {
            Output::Keep => {}
            Output::Scalar(s) => file[c].fill(scalars[s as usize]),
            Output::Value(v) => {
                let r = program.register_of(v);
                if r != c {
                    let d = std::mem::take(&mut file[c]);
                    d.copy_from_slice(file[r]);
                    file[c] = d;
                }
            }
        }
    }
}
