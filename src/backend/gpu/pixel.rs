//! `pixel` programs ([`PixelProgram`]) as WGSL: one function per pixel op of a pointwise
//! kernel, `fn name(p: vec4<f32>, xy: vec2<f32>) -> vec4<f32>`, a `let` per step in the
//! program's order. Uniforms are read from the kernel's `data` at the op's parameter slot, so
//! the text — and the pipeline — depend on the program's shape only. The `px_*` helpers the
//! functions call live in `shaders/pointwise.wgsl`; each operation mirrors its definition in
//! [`crate::pixel`].

use std::fmt::Write;

use crate::pixel::{Arg, BinOp, Output, PixelProgram, Scalar, Step, UnOp, INPUTS};

/// Names of the inputs, as the generated function binds them.
const INPUT_NAMES: [&str; INPUTS] = ["r", "g", "b", "a", "x", "y"];

/// An f32 constant as a WGSL literal that reads back as the same bits.
fn literal(v: f32) -> String {
    // Debug prints the shortest text that parses back to `v`, with a `.` or an exponent.
    let text = format!("{v:?}f");
    if v.is_sign_negative() {
        format!("({text})")
    } else {
        text
    }
}

fn unary(op: UnOp, a: &str) -> String {
    match op {
        UnOp::Neg => format!("-{a}"),
        UnOp::Not => format!("px_truth({a} == 0.0)"),
        UnOp::Abs => format!("abs({a})"),
        UnOp::Floor => format!("floor({a})"),
        UnOp::Ceil => format!("ceil({a})"),
        UnOp::Round => format!("px_round({a})"),
        UnOp::Sqrt => format!("sqrt({a})"),
        UnOp::Exp => format!("exp({a})"),
        UnOp::Log => format!("log({a})"),
        UnOp::Sin => format!("px_sin({a})"),
        UnOp::Cos => format!("px_cos({a})"),
        UnOp::Tan => format!("px_tan({a})"),
        UnOp::IsNan => format!("px_truth(is_nan({a}))"),
        UnOp::Sat => format!("px_sat({a})"),
    }
}

fn binary(op: BinOp, a: &str, b: &str) -> String {
    let infix = |sym: &str| format!("{a} {sym} {b}");
    let test = |sym: &str| format!("px_truth({a} {sym} {b})");
    match op {
        BinOp::Add => infix("+"),
        BinOp::Sub => infix("-"),
        BinOp::Mul => infix("*"),
        BinOp::Div => format!("px_div({a}, {b})"),
        BinOp::Rem => format!("px_rem({a}, {b})"),
        BinOp::Pow => format!("px_pow({a}, {b})"),
        BinOp::Lt => test("<"),
        BinOp::Le => test("<="),
        BinOp::Gt => test(">"),
        BinOp::Ge => test(">="),
        BinOp::Eq => test("=="),
        BinOp::Ne => test("!="),
        BinOp::And => format!("px_truth({a} != 0.0 && {b} != 0.0)"),
        BinOp::Or => format!("px_truth({a} != 0.0 || {b} != 0.0)"),
        BinOp::Min => format!("min({a}, {b})"),
        BinOp::Max => format!("max({a}, {b})"),
        BinOp::Noise => format!("px_noise({a}, {b})"),
    }
}

fn select(c: &str, a: &str, b: &str) -> String {
    format!("select({b}, {a}, {c} != 0.0)")
}

/// The WGSL function `name` running `program`; its uniforms are the f32 bits at
/// `data[first ..]`.
pub(crate) fn function(program: &PixelProgram, name: &str, first: u32) -> String {
    let scalars = program.scalars();
    let scalar = |i: u32| match scalars[i as usize] {
        Scalar::Const(bits) => literal(f32::from_bits(bits)),
        _ => format!("s{i}"),
    };
    let value = |v: u32| match INPUT_NAMES.get(v as usize) {
        Some(n) => n.to_string(),
        None => format!("v{v}"),
    };
    let arg = |a: Arg| match a {
        Arg::Value(v) => value(v),
        Arg::Scalar(s) => scalar(s),
    };
    let mut s = String::with_capacity(256 + 48 * program.steps().len());
    let _ = writeln!(s, "fn {name}(p: vec4<f32>, xy: vec2<f32>) -> vec4<f32> {{");
    s.push_str("    let r = p.r;\n    let g = p.g;\n    let b = p.b;\n    let a = p.a;\n");
    s.push_str("    let x = xy.x;\n    let y = xy.y;\n");
    for (i, sc) in scalars.iter().enumerate() {
        let body = match *sc {
            Scalar::Const(_) => continue,
            Scalar::Uniform(u) => format!("bitcast<f32>(data[{}u])", first + u),
            Scalar::Un(op, a) => unary(op, &scalar(a)),
            Scalar::Bin(op, a, b) => binary(op, &scalar(a), &scalar(b)),
            Scalar::Select(c, a, b) => select(&scalar(c), &scalar(a), &scalar(b)),
        };
        let _ = writeln!(s, "    let s{i} = {body};");
    }
    for (k, step) in program.steps().iter().enumerate() {
        let body = match *step {
            Step::Un(op, a) => unary(op, &arg(a)),
            Step::Bin(op, a, b) => binary(op, &arg(a), &arg(b)),
            Step::Select(c, a, b) => select(&arg(c), &arg(a), &arg(b)),
        };
        let _ = writeln!(s, "    let v{} = {body};", INPUTS + k);
    }
    let out: Vec<String> = program
        .outputs()
        .iter()
        .zip(INPUT_NAMES)
        .map(|(o, input)| match *o {
            Output::Keep => input.to_string(),
            Output::Scalar(i) => scalar(i),
            Output::Value(v) => value(v),
        })
        .collect();
    let _ = writeln!(s, "    return vec4<f32>({});\n}}", out.join(", "));
    s
}
