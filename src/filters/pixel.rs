//! `pixel`: a pointwise filter written as expressions of the pixel, compiled for both backends
//! (see [`crate::pixel`]) and fused with its neighbours like any colour filter. A channel's
//! result is clamped to 0..1, NaN (`0/0`, `log(-1)`) counting as 0; what names only the frame's
//! variables is evaluated once per frame, so a changing `t` keeps the compiled program.

use std::sync::Arc;

use super::{ArgValue, Args, Default, FilterSpec, ParamKind, ParamSpec};
use crate::frame::Format;
use crate::op::{Op, PointOp};
use crate::pixel::PixelProgram;
use crate::plan::FrameTime;

const fn channel(name: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Expr,
        default: Default::Auto("passes through"),
        doc,
    }
}

pub static PIXEL: FilterSpec = FilterSpec {
    name: "pixel",
    description: "Sets channels to expressions of the pixel (r, g, b, a in 0..1, x, y) and the \
                  frame (w, h, t, n, …), clamped to 0..1; channels left out pass through",
    params: &[
        channel("r", "new red, e.g. \"1 - r\""),
        channel("g", "new green"),
        channel("b", "new blue"),
        channel("a", "new alpha"),
    ],
    lower: lower_pixel,
    examples: &[
        "pixel(r=\"1-r\", g=\"1-g\", b=\"1-b\")",
        "pixel(r=\"0.2126*r + 0.7152*g + 0.0722*b\", g=\"0.2126*r + 0.7152*g + 0.0722*b\", \
         b=\"0.2126*r + 0.7152*g + 0.0722*b\")",
        "pixel(r=\"r * (1 - x / w)\", g=\"g * y / h\", b=\"lerp(b, 0.5, (x + y) / (w + h))\")",
        "pixel(r=\"r * (0.75 + 0.25 * cos(2 * PI * t))\", b=\"b + 0.1 * sin(2 * PI * (t + x / 40))\")",
        "pixel(r=\"if(r > 0.6 && g < 0.5, 1, r * 0.8)\", g=\"between(g, 0.3, 0.7) * 0.9\", \
         b=\"!(b >= 0.4) + clamp(b, 0.1, 0.3)\")",
        "pixel(a=\"a * smoothstep(0.1, 0.9, r)\", r=\"a\")",
        "pixel(r=\"sqrt(r) * exp(g - 1)\", g=\"log(1 + g) / log(2)\", b=\"(b - 0.5)^2 * 4 + pow(b, 2.2) / 4\")",
        "pixel(r=\"linear(r, 0, 0.1, 0.5, 0.8, 1, 0.6)\", g=\"smooth(g, 0.2, 1, 0.8, 0)\", \
         b=\"abs(b - 0.5) + floor(x / 8) % 2 * 0.25\")",
    ],
};

fn lower_pixel(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let channels = ["r", "g", "b", "a"].map(|c| match args.optional(c) {
        Some(ArgValue::Expr(e)) => Some(e),
        _ => None,
    });
    let program = PixelProgram::compile(channels)?;
    if program.is_identity() {
        return Ok(Vec::new());
    }
    let uniforms = program
        .uniform_values(&|name| time.variable(name, (format.width, format.height)))
        .map_err(|e| format!("{e} at frame {} (t = {}s)", time.n, time.t))?;
    Ok(vec![Op::Point(PointOp::Pixel {
        program: Arc::new(program),
        uniforms,
    })])
}
