//! Pointwise composites: what paints on the picture as a function of the pixel and its place —
//! chromakey (alpha from the distance to a key colour), vignette, drawbox and fade. Each lowers
//! into one pixel program ([`super::formula`]) that both backends run on every layout, fused
//! with its neighbours; positions are the pixel's own (x, y), sizes and times uniforms.
//!
//! Names and meanings are FFmpeg's (libavfilter); each description says where tessera differs.

use super::formula::{px, rgb_op, rgb_op_unclamped, ycc_of_rgb, Values, F};
use super::{ArgValue, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::frame::{Family, Format};
use crate::op::Op;
use crate::plan::FrameTime;

const fn number(
    name: &'static str,
    min: f64,
    max: f64,
    default: Default,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Float { min, max },
        default,
        unit: None,
        doc,
    }
}

const fn colour(default: Default, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name: "color",
        kind: ParamKind::Colour,
        default,
        unit: None,
        doc,
    }
}

const fn flag(name: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Bool,
        default: Default::Bool(false),
        unit: None,
        doc,
    }
}

/// A colour parameter, or `fallback` where it was left out.
fn colour_or(args: &Args, name: &str, fallback: [f64; 4]) -> [f64; 4] {
    match args.optional(name) {
        Some(ArgValue::Colour(c)) => *c,
        _ => fallback,
    }
}

pub static CHROMAKEY: FilterSpec = FilterSpec {
    name: "chromakey",
    kind: FilterKind::Pointwise,
    description: "Keys out a colour, as FFmpeg's chromakey: alpha from the distance of the \
                  pixel's chroma (Cb, Cr, in 8-bit codes) to the key's, 0 within similarity, \
                  ramping to 1 over blend; the frame gains an alpha plane. tessera's works on \
                  each pixel (on 4:2:0, its chroma block's), where FFmpeg averages the distance \
                  over 3×3 neighbours. As in FFmpeg, the key's chroma is its BT.601 Cb, Cr at \
                  full scale (255 codes, rounded as FFmpeg rounds them), whatever the frame's \
                  matrix and range",
    params: &[
        colour(Default::Required, "the key, e.g. #00ff00"),
        number(
            "similarity",
            0.00001,
            1.0,
            Default::Float(0.01),
            "distance keyed fully out",
        ),
        number(
            "blend",
            0.0,
            1.0,
            Default::Float(0.0),
            "distance over which alpha ramps to opaque; 0 is a hard key",
        ),
        flag(
            "yuv",
            "the colour's channels are Y′, Cb, Cr codes / 255 (FFmpeg's yuv)",
        ),
    ],
    lower: lower_chromakey,
    examples: &[
        "chromakey(#2a9d3a, similarity=0.12, blend=0.08)",
        "chromakey(color=#40c0ff, similarity=0.05)",
        "chromakey([0.5, 0.3, 0.7], similarity=0.04 + 0.04 * sin(t), blend=0.1, yuv=true)",
    ],
};

fn lower_chromakey(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let [r, g, b, _] = args.colour("color");
    // Chroma's 8-bit codes from black to white: the frame's chroma range (224 codes in limited
    // range); RGB and grey frames read their colour as full range.
    let codes = match format.layout.family {
        Family::Yuv => format.scale(1) / format.unit(),
        _ => 255.0,
    };
    // The key's chroma codes (less 128) as FFmpeg has them: given, or the colour's BT.601 Cb
    // and Cr at full scale (255 codes) in FFmpeg's 10-bit fixed point, whatever the frame's
    // matrix and range.
    let (key_u, key_v) = if args.boolean("yuv") {
        (g * 255.0 - 128.0, b * 255.0 - 128.0)
    } else {
        let fix = |k: f64| (k * 1024.0).round() as i64;
        let [r, g, b] = [r, g, b].map(|c| (c * 255.0).round() as i64);
        let u = (-fix(0.16874) * r - fix(0.33126) * g + fix(0.5) * b + 511) >> 10;
        let v = (fix(0.5) * r - fix(0.41869) * g - fix(0.08131) * b + 511) >> 10;
        (u as f64, v as f64)
    };
    let (key_cb, key_cr) = (key_u / codes, key_v / codes);
    let key_cb = v.set("key_cb", key_cb);
    let key_cr = v.set("key_cr", key_cr);
    // FFmpeg's distance: sqrt((du² + dv²) / (2 · 255²)) with du, dv in codes.
    let to_distance = v.set("to_distance", codes / 255.0 / 2f64.sqrt());
    let [_, cb, cr] = ycc_of_rgb(format);
    let (du, dv) = (cb - key_cb, cr - key_cr);
    let distance = (du.clone() * du + dv.clone() * dv).sqrt() * to_distance;
    let similarity = v.set("similarity", args.float("similarity"));
    let blend = args.float("blend");
    let alpha = if blend > 0.0001 {
        let over = v.set("inverse_blend", 1.0 / blend);
        (distance - similarity) * over
    } else {
        distance.gt(similarity)
    };
    rgb_op([None, None, None, Some(alpha)], &v)
}

pub static VIGNETTE: FilterSpec = FilterSpec {
    name: "vignette",
    kind: FilterKind::Pointwise,
    description: "Darkens the corners, as FFmpeg's vignette (dither=0): R′G′B′ times cos⁴(angle · \
                  d), d the distance from (x0, y0) over half the diagonal, 0 beyond it; backward \
                  divides instead. Y′CbCr frames get the same picture (FFmpeg scales their \
                  limited-range luma codes, foot and all); alpha is kept",
    params: &[
        number(
            "angle",
            0.0,
            std::f64::consts::FRAC_PI_2,
            Default::Float(std::f64::consts::PI / 5.0),
            "lens angle in radians: larger is darker",
        ),
        number("x0", -1e6, 1e6, Default::Auto("w/2"), "centre column"),
        number("y0", -1e6, 1e6, Default::Auto("h/2"), "centre row"),
        number(
            "aspect",
            0.01,
            100.0,
            Default::Float(1.0),
            "width over height of the vignette's ellipse",
        ),
        ParamSpec {
            name: "mode",
            kind: ParamKind::Choice(&["forward", "backward"]),
            default: Default::Str("forward"),
            unit: None,
            doc: "forward darkens; backward undoes a vignette",
        },
    ],
    lower: lower_vignette,
    examples: &[
        "vignette",
        "vignette(angle=PI/4, x0=w/3, y0=h/4, aspect=1.5)",
        "vignette(angle=0.3 + 0.2 * sin(t), mode=backward)",
        "vignette(angle=1.2, aspect=0.5) | chromakey(#000000, similarity=0.05, blend=0.1)",
    ],
};

fn lower_vignette(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let (w, h) = (format.width as f64, format.height as f64);
    let float_or = |name: &str, fallback: f64| match args.optional(name) {
        Some(ArgValue::Float(x)) => *x,
        _ => fallback,
    };
    // FFmpeg's ellipse: rows scaled by the aspect, the distance over half the diagonal.
    let (xs, ys) = (1.0, args.float("aspect"));
    let dmax = (w / 2.0).hypot(h / 2.0);
    let x0 = v.set("x0", float_or("x0", w / 2.0));
    let y0 = v.set("y0", float_or("y0", h / 2.0));
    let xs = v.set("x_scale", xs / dmax);
    let ys = v.set("y_scale", ys / dmax);
    let angle = v.set("angle", args.float("angle"));
    let dx = (px("x") - x0) * xs;
    let dy = (px("y") - y0) * ys;
    let d = (dx.clone() * dx + dy.clone() * dy).sqrt();
    let c = (angle * d.clone()).cos();
    let c2 = c.clone() * c;
    let factor = d
        .gt(super::formula::num(1.0))
        .select(super::formula::num(0.0), c2.clone() * c2);
    let factor = if args.string("mode") == "backward" {
        1.0 / factor
    } else {
        factor
    };
    let channel = |c: &str| Some(px(c) * factor.clone());
    rgb_op_unclamped([channel("r"), channel("g"), channel("b"), None], &v)
}

pub static DRAWBOX: FilterSpec = FilterSpec {
    name: "drawbox",
    kind: FilterKind::Pointwise,
    description: "Draws a box, as FFmpeg's drawbox: a border `thickness` pixels wide inside the \
                  rectangle (fill=true fills it, FFmpeg's t=fill), in a colour whose alpha blends \
                  it with the picture; positions truncate to whole pixels. On 4:2:0 chroma a \
                  block half inside gets half the colour (FFmpeg blends the block once per luma \
                  pixel); alpha is kept",
    params: &[
        number("x", -1e6, 1e6, Default::Float(0.0), "left column"),
        number("y", -1e6, 1e6, Default::Float(0.0), "top row"),
        number(
            "width",
            0.0,
            1e6,
            Default::Auto("the frame's width"),
            "box width in pixels; 0 is the frame's",
        ),
        number(
            "height",
            0.0,
            1e6,
            Default::Auto("the frame's height"),
            "box height in pixels; 0 is the frame's",
        ),
        colour(
            Default::Auto("black"),
            "the box's colour; its alpha blends it",
        ),
        number(
            "thickness",
            0.0,
            1e6,
            Default::Float(3.0),
            "border width in pixels",
        ),
        flag("fill", "fills the box (FFmpeg's t=fill)"),
    ],
    lower: lower_drawbox,
    examples: &[
        "drawbox(x=w/8, y=h/8, width=w*3/4, height=h*3/4, color=#ffd040, thickness=4)",
        "drawbox(10, 6, 30, 20, color=#2050ff80, fill=true)",
        "drawbox(x=40 * t, y=5, width=17, height=13, color=[1, 0.2, 0.2, 0.6], thickness=2)",
    ],
};

fn lower_drawbox(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let size = |name: &str, frame: u32| match args.optional(name) {
        Some(ArgValue::Float(s)) if s.trunc() > 0.0 => s.trunc(),
        _ => frame as f64,
    };
    let (bw, bh) = (size("width", format.width), size("height", format.height));
    let (bx, by) = (args.float("x").trunc(), args.float("y").trunc());
    let thickness = if args.boolean("fill") {
        bw.max(bh)
    } else {
        args.float("thickness").trunc()
    };
    let [r, g, b, a] = colour_or(args, "color", [0.0, 0.0, 0.0, 1.0]);
    let left = v.set("left", bx);
    let top = v.set("top", by);
    let right = v.set("right", bx + bw - 1.0);
    let bottom = v.set("bottom", by + bh - 1.0);
    let t = v.set("thickness", thickness);
    let (x, y) = (px("x"), px("y"));
    let inside = x
        .clone()
        .ge(left.clone())
        .and(right.clone().ge(x.clone()))
        .and(y.clone().ge(top.clone()))
        .and(bottom.clone().ge(y.clone()));
    let edge = |d: F| d.lt(t.clone());
    let on_border =
        (edge(y.clone() - top) + edge(bottom - y) + edge(x.clone() - left) + edge(right - x))
            .gt(super::formula::num(0.0));
    let weight = inside.and(on_border) * v.set("box_alpha", a);
    let paint = [("box_r", r), ("box_g", g), ("box_b", b)];
    let channels: Vec<Option<F>> = RGBN
        .iter()
        .zip(paint)
        .map(|(c, (name, k))| Some(px(c).lerp(v.set(name, k), weight.clone())))
        .collect();
    rgb_op_unclamped(
        [
            channels[0].clone(),
            channels[1].clone(),
            channels[2].clone(),
            None,
        ],
        &v,
    )
}

const RGBN: [&str; 3] = ["r", "g", "b"];

pub static FADE: FilterSpec = FilterSpec {
    name: "fade",
    kind: FilterKind::Pointwise,
    description: "Fades in from a colour or out to it, as FFmpeg's fade: over `duration` seconds \
                  from `start` (FFmpeg's start_time and duration), or over nb_frames frames from \
                  start_frame where nb_frames is given; alpha=true fades alpha instead (the frame \
                  gains an alpha plane). The mix is linear in R′G′B′, as FFmpeg's is in its code \
                  values",
    params: &[
        ParamSpec {
            name: "type",
            kind: ParamKind::Choice(&["in", "out"]),
            default: Default::Str("in"),
            unit: None,
            doc: "in: from the colour to the picture; out: back to the colour",
        },
        ParamSpec {
            name: "start",
            kind: ParamKind::Float {
                min: -1e9,
                max: 1e9,
            },
            default: Default::Float(0.0),
            unit: Some("seconds"),
            doc: "when the fade begins; negative: before the stream (a still is at 0)",
        },
        ParamSpec {
            name: "duration",
            kind: ParamKind::Float { min: 0.0, max: 1e9 },
            default: Default::Float(1.0),
            unit: Some("seconds"),
            doc: "how long it takes",
        },
        ParamSpec {
            name: "start_frame",
            kind: ParamKind::Int {
                min: 0,
                max: i32::MAX as i64,
            },
            default: Default::Int(0),
            unit: Some("frames"),
            doc: "the first frame of a fade counted in frames",
        },
        ParamSpec {
            name: "nb_frames",
            kind: ParamKind::Int {
                min: 1,
                max: i32::MAX as i64,
            },
            default: Default::Auto("unset: the fade is timed in seconds"),
            unit: Some("frames"),
            doc: "frames the fade takes; counts frames instead of seconds",
        },
        colour(Default::Auto("black"), "the colour faded from or to"),
        flag("alpha", "fades alpha only, to transparent"),
    ],
    lower: lower_fade,
    examples: &[
        "fade(type=in, start=-0.6, duration=1, color=#1a1030)",
        "fade(type=in, start=0, duration=2)",
        "fade(type=out, start=0, duration=0.5, color=#ffffff)",
        "fade(start_frame=0, nb_frames=3, alpha=true)",
        "fade(out, duration=1, color=#203040) | fade(in, start=0.2, duration=0.1 + t)",
    ],
};

/// How much of the picture a fade shows at `time`: 0 is all colour, 1 all picture.
pub fn fade_amount(args: &Args, time: &FrameTime) -> f64 {
    let progress = match args.optional("nb_frames") {
        Some(ArgValue::Int(frames)) => {
            (time.n as f64 - args.int("start_frame") as f64) / *frames as f64
        }
        _ => {
            let (start, duration) = (args.float("start"), args.float("duration"));
            if duration <= 0.0 {
                if time.t >= start {
                    1.0
                } else {
                    0.0
                }
            } else {
                (time.t - start) / duration
            }
        }
    };
    let progress = progress.clamp(0.0, 1.0);
    if args.string("type") == "out" {
        1.0 - progress
    } else {
        progress
    }
}

fn lower_fade(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let amount = v.set("amount", fade_amount(args, time));
    if args.boolean("alpha") {
        return rgb_op([None, None, None, Some(px("a") * amount)], &v);
    }
    let [r, g, b, _] = colour_or(args, "color", [0.0, 0.0, 0.0, 1.0]);
    let names = ["fade_r", "fade_g", "fade_b"];
    let channels: Vec<Option<F>> = [r, g, b]
        .iter()
        .enumerate()
        .map(|(c, k)| Some(v.set(names[c], *k).lerp(px(RGBN[c]), amount.clone())))
        .collect();
    rgb_op_unclamped(
        [
            channels[0].clone(),
            channels[1].clone(),
            channels[2].clone(),
            None,
        ],
        &v,
    )
}
