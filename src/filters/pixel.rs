//! `pixel`: a pointwise filter written as expressions of the pixel, compiled for both backends
//! (see [`crate::pixel`]) and fused with its neighbours like any colour filter. A channel's
//! result is clamped to 0..1, NaN (`0/0`, `log(-1)`) counting as 0; what names only the frame's
//! variables is evaluated once per frame, so a changing `t` keeps the compiled program.
//!
//! Expressions may also read, and the filter set, the pixel's Y′CbCr (`luma`, `cb`, `cr`), for
//! users who think in the video's own terms. It is lowered here, for the frame's matrix, into
//! the R′G′B′ program both backends run: reads become luma and colour differences of r, g and
//! b; writes set r, g and b to the colour with that Y′CbCr, so that the frame's Y′CbCr planes
//! (where the pass converts back) get exactly what was set.

use std::sync::Arc;

use super::{ArgValue, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::chain::expr::Expr;
use crate::frame::Format;
use crate::op::{Op, PointOp};
use crate::pixel::PixelProgram;
use crate::plan::FrameTime;

const fn channel(name: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Expr,
        default: Default::Auto("passes through"),
        unit: None,
        doc,
    }
}

pub static PIXEL: FilterSpec = FilterSpec {
    name: "pixel",
    kind: FilterKind::Pointwise,
    description: "Sets channels to expressions of the pixel (r, g, b, a in 0..1, luma, cb, cr, \
                  x, y) and the frame (w, h, t, n, …), clamped to 0..1; channels left out pass \
                  through; sets either r, g, b or luma, cb, cr",
    params: &[
        channel("r", "new red, e.g. \"1 - r\""),
        channel("g", "new green"),
        channel("b", "new blue"),
        channel("a", "new alpha"),
        channel("luma", "new luma Y′ (0..1), e.g. \"luma^0.8\""),
        channel("cb", "new blue difference (-0.5..0.5), e.g. \"cb * 1.2\""),
        channel("cr", "new red difference (-0.5..0.5)"),
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
        "pixel(luma=\"luma^0.8\", cb=\"cb * 1.3\")",
        "pixel(cr=\"0\", cb=\"-0.1 * (1 - luma)\", a=\"0.5 + 0.5 * luma\")",
        "pixel(r=\"luma + cr\", g=\"luma\", b=\"luma - cb\")",
    ],
};

fn lower_pixel(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let get = |c: &str| match args.optional(c) {
        Some(ArgValue::Expr(e)) => Some(e.clone()),
        _ => None,
    };
    let [r, g, b, a, luma, cb, cr] = ["r", "g", "b", "a", "luma", "cb", "cr"].map(get);
    // The frame's Y′CbCr of its R′G′B′ (normalised: luma 0..1, chroma -0.5..0.5).
    let [luma_in, cb_in, cr_in] = super::formula::ycc_of_rgb(format).map(|c| c.0);
    let num = Expr::Num;
    let read = |e: Expr| {
        e.substitute(&|n| match n {
            "luma" => Some(luma_in.clone()),
            "cb" => Some(cb_in.clone()),
            "cr" => Some(cr_in.clone()),
            _ => None,
        })
    };
    let [r, g, b, a, luma, cb, cr] = [r, g, b, a, luma, cb, cr].map(|e| e.map(read));
    let (channels, clamp) = if luma.is_none() && cb.is_none() && cr.is_none() {
        ([r, g, b, a], [true; 4])
    } else {
        if r.is_some() || g.is_some() || b.is_some() {
            return Err(
                "sets both r, g, b and luma, cb, cr: a pixel program sets one or the other \
                 (each may read all six)"
                    .into(),
            );
        }
        let call = |f: &str, args: Vec<Expr>| Expr::Call(f.to_string(), args, (0, 0));
        // What was set, clamped to its range; the rest as the pixel has it.
        let l = luma.map_or(luma_in.clone(), |e| {
            call("clamp", vec![e, num(0.0), num(1.0)])
        });
        let chroma = |e: Option<Expr>, keep: &Expr| {
            e.map_or(keep.clone(), |e| {
                call("clamp", vec![e, num(-0.5), num(0.5)])
            })
        };
        let (cb, cr) = (chroma(cb, &cb_in), chroma(cr, &cr_in));
        // The R′G′B′ with that Y′CbCr, left unclamped: the frame's planes hold it.
        let ycc = [l, cb, cr].map(super::formula::F);
        let [r, g, b] = super::formula::rgb_of_ycc(format, ycc).map(|c| c.0);
        ([Some(r), Some(g), Some(b), a], [false, false, false, true])
    };
    let [r, g, b, a] = &channels;
    let program =
        PixelProgram::compile_clamped([r.as_ref(), g.as_ref(), b.as_ref(), a.as_ref()], clamp)?;
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
