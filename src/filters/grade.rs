//! Colour grading filters that are functions of one pixel: exposure, levels, hue,
//! colorchannelmixer, colormatrix, sepia, vibrance, colortemperature, threshold and posterize. Each lowers
//! into one pixel program ([`super::formula`]) that both backends run on every layout, fused
//! with its neighbours; its parameters are uniforms, so one that follows `t` keeps the program.
//!
//! Where FFmpeg has the filter, names and meanings are FFmpeg's (libavfilter); threshold and
//! posterize are ImageMagick's. FFmpeg's RGB filters work on R′G′B′ code values: here they work
//! on the pixel's R′G′B′ (Y′CbCr frames through their matrix, inside the pass), in 0..1.

use super::formula::{max3, min3, num, px, rgb_op, ycc_of_rgb, ycc_op, Values, F};
use super::{ArgValue, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::frame::{Format, Role};
use crate::op::Op;
use crate::plan::FrameTime;

const fn number(
    name: &'static str,
    min: f64,
    max: f64,
    default: f64,
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Float { min, max },
        default: Default::Float(default),
        unit: None,
        doc,
    }
}

const fn per_channel(name: &'static str, min: f64, max: f64, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Float { min, max },
        default: Default::Auto("the all-channel value"),
        unit: None,
        doc,
    }
}

const RGB: [&str; 3] = ["r", "g", "b"];

pub static EXPOSURE: FilterSpec = FilterSpec {
    name: "exposure",
    kind: FilterKind::Pointwise,
    description: "Exposure in stops and a black level, as FFmpeg's exposure: each of R′G′B′ \
                  becomes (c − black) / (2^−exposure − black); alpha is kept (FFmpeg works on \
                  the same R′G′B′ values, in float)",
    params: &[
        number("exposure", -3.0, 3.0, 0.0, "stops: 1 doubles, -1 halves"),
        number(
            "black",
            -1.0,
            1.0,
            0.0,
            "black level taken off before the scale",
        ),
    ],
    lower: lower_exposure,
    examples: &[
        "exposure(exposure=0.5, black=0.02)",
        "exposure(-1)",
        "exposure(exposure=1.5*sin(t), black=-0.05)",
    ],
};

fn lower_exposure(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let (exposure, black) = (args.float("exposure"), args.float("black"));
    let span = (-exposure).exp2() - black;
    if span.abs() < 1e-6 {
        return Err(format!(
            "exposure={exposure} and black={black} leave no range (2^-exposure - black is 0)"
        ));
    }
    let mut v = Values::new(format, time);
    let black = v.set("black", black);
    let scale = v.set("scale", 1.0 / span);
    let channel = |c: &str| Some((px(c) - black.clone()) * scale.clone());
    rgb_op([channel("r"), channel("g"), channel("b"), None], &v)
}

pub static LEVELS: FilterSpec = FilterSpec {
    name: "levels",
    kind: FilterKind::Pointwise,
    description: "Input and output levels with a gamma, for all of R′G′B′ or per channel: c \
                  from in_black..in_white to out_black..out_white, raised to 1/gamma between. \
                  FFmpeg's colorlevels with gamma 1 (its names rimin … aomax are the per-channel \
                  parameters; its automatic input levels, negative imin/imax, and its preserve \
                  modes are not here); alpha changes only where a frame has it and a[io]m* say so",
    params: &[
        number(
            "in_black",
            0.0,
            1.0,
            0.0,
            "input black point, all colour channels",
        ),
        number("in_white", 0.0, 1.0, 1.0, "input white point"),
        number(
            "gamma",
            0.1,
            10.0,
            1.0,
            "midtones: the normalised level is raised to 1/gamma",
        ),
        number("out_black", 0.0, 1.0, 0.0, "output black point"),
        number("out_white", 0.0, 1.0, 1.0, "output white point"),
        per_channel("rimin", 0.0, 1.0, "red input black point"),
        per_channel("gimin", 0.0, 1.0, "green input black point"),
        per_channel("bimin", 0.0, 1.0, "blue input black point"),
        number("aimin", 0.0, 1.0, 0.0, "alpha input black point"),
        per_channel("rimax", 0.0, 1.0, "red input white point"),
        per_channel("gimax", 0.0, 1.0, "green input white point"),
        per_channel("bimax", 0.0, 1.0, "blue input white point"),
        number("aimax", 0.0, 1.0, 1.0, "alpha input white point"),
        per_channel("romin", 0.0, 1.0, "red output black point"),
        per_channel("gomin", 0.0, 1.0, "green output black point"),
        per_channel("bomin", 0.0, 1.0, "blue output black point"),
        number("aomin", 0.0, 1.0, 0.0, "alpha output black point"),
        per_channel("romax", 0.0, 1.0, "red output white point"),
        per_channel("gomax", 0.0, 1.0, "green output white point"),
        per_channel("bomax", 0.0, 1.0, "blue output white point"),
        number("aomax", 0.0, 1.0, 1.0, "alpha output white point"),
    ],
    lower: lower_levels,
    examples: &[
        "levels(in_black=0.06, in_white=0.92, gamma=1.2)",
        "levels(rimin=0.1, gimax=0.8, bomin=0.2, romax=0.9, aimin=0.3, aomax=0.8)",
        "levels(out_black=0.1 * t, out_white=0.95, gamma=0.8)",
    ],
};

fn lower_levels(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let gamma = args.float("gamma");
    let inverse_gamma = v.set("inverse_gamma", 1.0 / gamma);
    let either = |own: &str, all: &str| match args.optional(own) {
        Some(ArgValue::Float(x)) => *x,
        _ => args.float(all),
    };
    const NAMES: [[&str; 4]; 4] = [
        ["rimin", "rimax", "romin", "romax"],
        ["gimin", "gimax", "gomin", "gomax"],
        ["bimin", "bimax", "bomin", "bomax"],
        ["aimin", "aimax", "aomin", "aomax"],
    ];
    const ALL: [&str; 4] = ["in_black", "in_white", "out_black", "out_white"];
    let mut channels: [Option<F>; 4] = [None, None, None, None];
    for (c, names) in NAMES.iter().enumerate() {
        let [imin, imax, omin, omax] = std::array::from_fn(|k| {
            if c < 3 {
                either(names[k], ALL[k])
            } else {
                args.float(names[k])
            }
        });
        if imax <= imin {
            let (lo, hi) = if c < 3 && args.optional(names[0]).is_none() {
                ("in_black", "in_white")
            } else {
                (names[0], names[1])
            };
            return Err(format!("{hi} ({imax}) must be above {lo} ({imin})"));
        }
        let identity = imin == 0.0 && imax == 1.0 && omin == 0.0 && omax == 1.0;
        if c == 3 && (identity || !format.layout.alpha) {
            continue;
        }
        // Four named values per channel: input black, 1 / input range, output black and output
        // range.
        const N: [[&str; 4]; 4] = [
            ["r_lo", "r_k", "r_out", "r_span"],
            ["g_lo", "g_k", "g_out", "g_span"],
            ["b_lo", "b_k", "b_out", "b_span"],
            ["a_lo", "a_k", "a_out", "a_span"],
        ];
        let name = |k: usize| N[c][k];
        let lo = v.set(name(0), imin);
        let k = v.set(name(1), 1.0 / (imax - imin));
        let out = v.set(name(2), omin);
        let span = v.set(name(3), omax - omin);
        let level = (px(["r", "g", "b", "a"][c]) - lo) * k;
        // Gamma bends 0..1; below the black point the line goes on straight (so that with
        // gamma 1 this is colorlevels' one line, clipped only at the end).
        let bent = if c < 3 && gamma != 1.0 {
            level
                .clone()
                .gt(num(0.0))
                .select(level.clone().pow(inverse_gamma.clone()), level)
        } else {
            level
        };
        channels[c] = Some(out + bent * span);
    }
    rgb_op(channels, &v)
}

pub static HUE: FilterSpec = FilterSpec {
    name: "hue",
    kind: FilterKind::Pointwise,
    description: "Hue, saturation and brightness, as FFmpeg's hue: the chroma (Cb, Cr) rotated \
                  by h degrees and scaled by s, b·25.5 added to 8-bit luma codes (b·0.1 of \
                  full range); RGB frames through their matrix (FFmpeg converts them to \
                  Y′CbCr); alpha is kept",
    params: &[
        ParamSpec {
            name: "h",
            kind: ParamKind::Float {
                min: -1e6,
                max: 1e6,
            },
            default: Default::Auto("0, or H in degrees"),
            unit: Some("degrees"),
            doc: "hue angle in degrees, e.g. \"90*t\" to turn",
        },
        number(
            "s",
            -10.0,
            10.0,
            1.0,
            "saturation: 0 is grey, negative flips hue",
        ),
        number(
            "b",
            -10.0,
            10.0,
            0.0,
            "brightness: -10 .. 10 (1 is 25.5 codes of 8-bit luma)",
        ),
        ParamSpec {
            name: "H",
            kind: ParamKind::Float {
                min: -1e5,
                max: 1e5,
            },
            default: Default::Auto("unset: h"),
            unit: Some("radians"),
            doc: "hue angle in radians, instead of h",
        },
    ],
    lower: lower_hue,
    examples: &[
        "hue(h=25, s=1.3)",
        "hue(h=90*t, s=0.8, b=0.5)",
        "hue(h=-140, s=-1.5, b=-1)",
        "hue(H=PI/2 * t, s=1.1)",
    ],
};

fn lower_hue(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let (s, b) = (args.float("s"), args.float("b"));
    let radians = match (args.optional("h"), args.optional("H")) {
        (Some(_), Some(_)) => {
            return Err("h and H both set the angle (h in degrees, H in radians): give one".into())
        }
        (_, Some(_)) => args.float("H"),
        (Some(_), None) => args.float("h").to_radians(),
        (None, None) => 0.0,
    };
    let mut v = Values::new(format, time);
    let cos = v.set("hue_cos", radians.cos() * s);
    let sin = v.set("hue_sin", radians.sin() * s);
    // 25.5 codes of 8-bit luma, in the luma's range: 219 codes from black to white in limited
    // range, 255 in full (and on RGB frames).
    let luma_codes = match (format.role(0), format.colour.full_range) {
        (Role::Luma, false) => 219.0,
        _ => 255.0,
    };
    let lift = v.set("hue_lift", b * 25.5 / luma_codes);
    let [luma, cb, cr] = ycc_of_rgb(format);
    let new_cb = cos.clone() * cb.clone() - sin.clone() * cr.clone();
    let new_cr = sin * cb + cos * cr;
    ycc_op(format, [luma + lift, new_cb, new_cr], None, &v)
}

pub static COLORCHANNELMIXER: FilterSpec = FilterSpec {
    name: "colorchannelmixer",
    kind: FilterKind::Pointwise,
    description: "Each of R′G′B′A a weighted sum of the pixel's R′G′B′A, as FFmpeg's \
                  colorchannelmixer (rg: how much green goes into red); the alpha terms count \
                  only where the frame has alpha, as in FFmpeg; pc keeps a measure of the \
                  input's colour (pa of the way)",
    params: &[
        number("rr", -2.0, 2.0, 1.0, "red in red"),
        number("rg", -2.0, 2.0, 0.0, "green in red"),
        number("rb", -2.0, 2.0, 0.0, "blue in red"),
        number("ra", -2.0, 2.0, 0.0, "alpha in red"),
        number("gr", -2.0, 2.0, 0.0, "red in green"),
        number("gg", -2.0, 2.0, 1.0, "green in green"),
        number("gb", -2.0, 2.0, 0.0, "blue in green"),
        number("ga", -2.0, 2.0, 0.0, "alpha in green"),
        number("br", -2.0, 2.0, 0.0, "red in blue"),
        number("bg", -2.0, 2.0, 0.0, "green in blue"),
        number("bb", -2.0, 2.0, 1.0, "blue in blue"),
        number("ba", -2.0, 2.0, 0.0, "alpha in blue"),
        number("ar", -2.0, 2.0, 0.0, "red in alpha"),
        number("ag", -2.0, 2.0, 0.0, "green in alpha"),
        number("ab", -2.0, 2.0, 0.0, "blue in alpha"),
        number("aa", -2.0, 2.0, 1.0, "alpha in alpha"),
        ParamSpec {
            name: "pc",
            kind: ParamKind::Choice(&["none", "lum", "max", "avg", "sum", "nrm", "pwr"]),
            default: Default::Str("none"),
            unit: None,
            doc: "what of the input's colour to keep: lightness (max + min), max, average, sum, \
                  norm or power of R′G′B′",
        },
        number("pa", 0.0, 1.0, 0.0, "how much of it to keep"),
    ],
    lower: lower_mixer,
    examples: &[
        "colorchannelmixer(rr=0.9, rg=0.2, gg=0.85, gb=0.1, br=0.05, bb=0.8)",
        "colorchannelmixer(rr=0.3, rg=0.4, rb=0.3, gr=0.3, gg=0.4, gb=0.3, br=0.3, bg=0.4, bb=0.3)",
        "colorchannelmixer(ra=0.2, gb=0.5, aa=0.5, ar=0.3, ba=-0.4)",
        "colorchannelmixer(rr=cos(t), rb=sin(t), bb=cos(t), br=-sin(t))",
        "colorchannelmixer(rr=0.5, rg=0.5, gg=0.2, bb=1.4, pc=lum, pa=0.8)",
        "colorchannelmixer(gr=0.6, bg=0.7, rb=0.8, rr=0, gg=0, bb=0, pc=pwr, pa=0.5 + 0.5 * sin(t))",
    ],
};

fn lower_mixer(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    const NAMES: [[&str; 4]; 4] = [
        ["rr", "rg", "rb", "ra"],
        ["gr", "gg", "gb", "ga"],
        ["br", "bg", "bb", "ba"],
        ["ar", "ag", "ab", "aa"],
    ];
    let mut v = Values::new(format, time);
    let alpha = format.layout.alpha;
    let inputs = ["r", "g", "b", "a"];
    let preserve = args.string("pc");
    let mut channels: [Option<F>; 4] = [None, None, None, None];
    for (c, row) in NAMES.iter().enumerate() {
        if c == 3 && !alpha {
            continue;
        }
        let weights: Vec<f64> = row.iter().map(|n| args.float(n)).collect();
        let identity = (0..4).all(|k| weights[k] == if k == c { 1.0 } else { 0.0 });
        if identity && (c == 3 || preserve == "none") {
            continue;
        }
        let mut sum = v.set(row[0], weights[0]) * px("r");
        for k in 1..if alpha { 4 } else { 3 } {
            sum = sum + v.set(row[k], weights[k]) * px(inputs[k]);
        }
        channels[c] = Some(sum);
    }
    if preserve != "none" {
        let mixed: Vec<F> = (0..3)
            .map(|c| channels[c].clone().unwrap_or_else(|| px(RGB[c])))
            .collect();
        let input = [px("r"), px("g"), px("b")];
        let measure = |[r, g, b]: [F; 3]| -> F {
            match preserve {
                "lum" => max3(r.clone(), g.clone(), b.clone()) + min3(r, g, b),
                "max" => max3(r, g, b),
                // FFmpeg adds one code before dividing by 3.
                "avg" => (r + g + b + 1.0 / 255.0) / 3.0,
                "sum" => r + g + b,
                "nrm" => (r.clone() * r + g.clone() * g + b.clone() * b).sqrt(),
                _ => {
                    let cubes = r.clone() * r.clone() * r
                        + g.clone() * g.clone() * g
                        + b.clone() * b.clone() * b;
                    // A cube root that keeps the sign, as C's cbrtf.
                    let root = cubes.clone().abs().pow(num(1.0 / 3.0));
                    cubes.lt(num(0.0)).select(-root.clone(), root)
                }
            }
        };
        let before = measure(input);
        let after = measure([mixed[0].clone(), mixed[1].clone(), mixed[2].clone()]);
        // FFmpeg's guard against dividing by nothing: half a code.
        let after = after.clone().gt(num(0.0)).select(after, num(1.0 / 510.0));
        let ratio = before / after;
        let amount = v.set("pa", args.float("pa"));
        for c in 0..3 {
            let clipped = mixed[c].clone().clamp(num(0.0), num(1.0));
            channels[c] = Some(
                mixed[c]
                    .clone()
                    .lerp(clipped * ratio.clone(), amount.clone()),
            );
        }
    }
    rgb_op(channels, &v)
}

/// The classic sepia matrix (Microsoft's, as most image tools use it): rows give R′, G′, B′.
pub const SEPIA_MATRIX: [[f64; 3]; 3] = [
    [0.393, 0.769, 0.189],
    [0.349, 0.686, 0.168],
    [0.272, 0.534, 0.131],
];

pub static SEPIA: FilterSpec = FilterSpec {
    name: "sepia",
    kind: FilterKind::Pointwise,
    description: "Sepia tone: R′G′B′ through the classic sepia matrix (R′ = .393R + .769G + \
                  .189B, G′ = .349R + .686G + .168B, B′ = .272R + .534G + .131B, clipped), mixed \
                  with the picture by amount; alpha is kept",
    params: &[number(
        "amount",
        0.0,
        1.0,
        1.0,
        "0 keeps the picture, 1 is full sepia",
    )],
    lower: lower_sepia,
    examples: &["sepia", "sepia(0.4)", "sepia(amount=0.5 + 0.5 * sin(t))"],
};

fn lower_sepia(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let amount = v.set("amount", args.float("amount"));
    let channel = |c: usize| {
        let [kr, kg, kb] = SEPIA_MATRIX[c];
        let toned = (kr * px("r") + kg * px("g") + kb * px("b")).min(num(1.0));
        Some(px(RGB[c]).lerp(toned, amount.clone()))
    };
    rgb_op([channel(0), channel(1), channel(2), None], &v)
}

pub static VIBRANCE: FilterSpec = FilterSpec {
    name: "vibrance",
    kind: FilterKind::Pointwise,
    description: "Saturation that boosts dull colours more than vivid ones, as FFmpeg's \
                  vibrance: each channel moved away from a luma by 1 + intensity·balance·(1 − \
                  saturation), saturation being max − min of R′G′B′. FFmpeg's defaults give \
                  rlum Kb and blum Kr of BT.709 (kept for the same picture); alpha is kept",
    params: &[
        number(
            "intensity",
            -2.0,
            2.0,
            0.0,
            "strength; negative desaturates",
        ),
        number("rbal", -10.0, 10.0, 1.0, "red balance"),
        number("gbal", -10.0, 10.0, 1.0, "green balance"),
        number("bbal", -10.0, 10.0, 1.0, "blue balance"),
        number("rlum", 0.0, 1.0, 0.072186, "red's weight in the luma"),
        number("glum", 0.0, 1.0, 0.715158, "green's weight in the luma"),
        number("blum", 0.0, 1.0, 0.212656, "blue's weight in the luma"),
        ParamSpec {
            name: "alternate",
            kind: ParamKind::Bool,
            default: Default::Bool(false),
            unit: None,
            doc: "boosts vivid colours more than dull ones instead",
        },
    ],
    lower: lower_vibrance,
    examples: &[
        "vibrance(intensity=0.6)",
        "vibrance(intensity=-0.7, rbal=2, gbal=0.5, alternate=true)",
        "vibrance(intensity=sin(t), bbal=-1, rlum=0.3, glum=0.5, blum=0.2)",
    ],
};

fn lower_vibrance(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let intensity = args.float("intensity");
    let alternate = if args.boolean("alternate") { 1.0 } else { -1.0 };
    let luma = v.set("rlum", args.float("rlum")) * px("r")
        + v.set("glum", args.float("glum")) * px("g")
        + v.set("blum", args.float("blum")) * px("b");
    let saturation = max3(px("r"), px("g"), px("b")) - min3(px("r"), px("g"), px("b"));
    let names = [
        ("rbal", "r_gain", "r_sign"),
        ("gbal", "g_gain", "g_sign"),
        ("bbal", "b_gain", "b_sign"),
    ];
    let mut channels: [Option<F>; 4] = [None, None, None, None];
    for (c, (bal, gain, sign)) in names.iter().enumerate() {
        let k = intensity * args.float(bal);
        // FFmpeg's FFSIGN: 1 for a positive value, else -1.
        let sign_value = alternate * if k > 0.0 { 1.0 } else { -1.0 };
        let gain = v.set(gain, k);
        let sign = v.set(sign, sign_value);
        let weight = 1.0 + gain * (1.0 - sign * saturation.clone());
        channels[c] = Some(luma.clone().lerp(px(RGB[c]), weight));
    }
    rgb_op(channels, &v)
}

pub static THRESHOLD: FilterSpec = FilterSpec {
    name: "threshold",
    kind: FilterKind::Pointwise,
    description: "Each of R′G′B′ to 1 above level, else 0, as ImageMagick's -threshold (FFmpeg's \
                  threshold is another filter, of four inputs); alpha is kept",
    params: &[number(
        "level",
        0.0,
        1.0,
        0.5,
        "the threshold, 0..1 of the channel's range",
    )],
    lower: lower_threshold,
    examples: &[
        "threshold",
        "threshold(0.3)",
        "threshold(level=0.5 + 0.4 * sin(t))",
    ],
};

fn lower_threshold(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let level = v.set("level", args.float("level"));
    let channel = |c: &str| Some(px(c).gt(level.clone()));
    rgb_op([channel("r"), channel("g"), channel("b"), None], &v)
}

pub static POSTERIZE: FilterSpec = FilterSpec {
    name: "posterize",
    kind: FilterKind::Pointwise,
    description: "Each of R′G′B′ rounded to one of `levels` evenly spaced values, as \
                  ImageMagick's -posterize; alpha is kept",
    params: &[ParamSpec {
        name: "levels",
        kind: ParamKind::Int { min: 2, max: 65536 },
        default: Default::Int(4),
        unit: None,
        doc: "values per channel, black and white included",
    }],
    lower: lower_posterize,
    examples: &[
        "posterize(5)",
        "posterize",
        "posterize(levels=2 + floor(6 * t))",
    ],
};

fn lower_posterize(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let steps = (args.int("levels") - 1) as f64;
    let up = v.set("steps", steps);
    let down = v.set("step", 1.0 / steps);
    let channel = |c: &str| Some((px(c) * up.clone()).round() * down.clone());
    rgb_op([channel("r"), channel("g"), channel("b"), None], &v)
}

pub static COLORTEMPERATURE: FilterSpec = FilterSpec {
    name: "colortemperature",
    kind: FilterKind::Pointwise,
    description: "White balance to a colour temperature, as FFmpeg's colortemperature: R′G′B′ \
                  times the colour of a black body at that temperature (FFmpeg's fit), mixed by \
                  mix, lightness (max + min) kept by pl; alpha is kept",
    params: &[
        ParamSpec {
            name: "temperature",
            kind: ParamKind::Float {
                min: 1000.0,
                max: 40000.0,
            },
            default: Default::Float(6500.0),
            unit: Some("kelvin"),
            doc: "lower is warmer (orange), higher cooler (blue); 6500 is about neutral",
        },
        number("mix", 0.0, 1.0, 1.0, "how much of the tinted picture"),
        number("pl", 0.0, 1.0, 0.0, "how much of the lightness to keep"),
    ],
    lower: lower_temperature,
    examples: &[
        "colortemperature(temperature=4500)",
        "colortemperature(temperature=12000, mix=0.7, pl=1)",
        "colortemperature(temperature=3000 + 4000 * t, pl=0.5)",
    ],
};

/// FFmpeg's fit of a black body's colour at `kelvin`, in f32 as FFmpeg computes it.
pub fn kelvin_to_rgb(kelvin: f64) -> [f32; 3] {
    let k = kelvin as f32 / 100.0;
    let unit = |v: f32| v.clamp(0.0, 1.0);
    let (r, g) = if k <= 66.0 {
        (1.0, unit(0.390_081_58 * k.ln() - 0.631_841_4))
    } else {
        let t = (k - 60.0).max(0.0);
        (
            unit(1.292_936_2 * t.powf(-0.133_204_76)),
            unit(1.129_890_9 * t.powf(-0.075_514_846)),
        )
    };
    let b = if k >= 66.0 {
        1.0
    } else if k <= 19.0 {
        0.0
    } else {
        unit(0.543_206_8 * (k - 10.0).ln() - 1.196_254_1)
    };
    [r, g, b]
}

fn lower_temperature(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let mut v = Values::new(format, time);
    let colour = kelvin_to_rgb(args.float("temperature"));
    let mix = v.set("mix", args.float("mix"));
    let keep = v.set("pl", args.float("pl"));
    let names = ["r_tint", "g_tint", "b_tint"];
    let tinted: Vec<F> = (0..3)
        .map(|c| {
            let k = v.set(names[c], colour[c] as f64);
            px(RGB[c]).lerp(px(RGB[c]) * k, mix.clone())
        })
        .collect();
    // Lightness kept as FFmpeg keeps it: (max + min) before over after, with FFmpeg's epsilon
    // (on 8-bit codes) so that black stays black.
    let epsilon = f32::EPSILON as f64 / 255.0;
    let before = max3(px("r"), px("g"), px("b")) + min3(px("r"), px("g"), px("b")) + epsilon;
    let after = max3(tinted[0].clone(), tinted[1].clone(), tinted[2].clone())
        + min3(tinted[0].clone(), tinted[1].clone(), tinted[2].clone())
        + epsilon;
    let ratio = before / after;
    let channel = |c: usize| {
        Some(
            tinted[c]
                .clone()
                .lerp(tinted[c].clone() * ratio.clone(), keep.clone()),
        )
    };
    rgb_op([channel(0), channel(1), channel(2), None], &v)
}

/// The Y′CbCr matrices FFmpeg's colormatrix knows, by its names.
const YCC_MATRICES: &[&str] = &[
    "bt709",
    "fcc",
    "bt601",
    "bt470",
    "bt470bg",
    "smpte170m",
    "smpte240m",
    "bt2020",
];

/// Kr and Kb of a matrix in [`YCC_MATRICES`].
fn kr_kb(name: &str) -> (f64, f64) {
    match name {
        "bt709" => (0.2126, 0.0722),
        "fcc" => (0.30, 0.11),
        "smpte240m" => (0.212, 0.087),
        "bt2020" => (0.2627, 0.0593),
        _ => (0.299, 0.114),
    }
}

const fn matrix_name(name: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Choice(YCC_MATRICES),
        default: Default::Auto("unset: the matrix form"),
        unit: None,
        doc,
    }
}

pub static COLORMATRIX: FilterSpec = FilterSpec {
    name: "colormatrix",
    kind: FilterKind::Pointwise,
    description: "A colour matrix, in one of two forms. colormatrix(src, dst) is FFmpeg's \
                  colormatrix: the frame's Y′CbCr read as src's matrix and rewritten in dst's \
                  (bt601 → bt709 fixes SD video tagged as HD; RGB frames take their Y′CbCr \
                  through their own matrix). colormatrix(matrix=[[…], […], […]]) maps R′G′B′ \
                  through 3 rows of 3 weights (r, g, b), or of 4 with an offset; alpha is kept",
    params: &[
        matrix_name("src", "the matrix the frame's Y′CbCr was made with"),
        matrix_name("dst", "the matrix to rewrite it in"),
        ParamSpec {
            name: "matrix",
            kind: ParamKind::ColourMatrix,
            default: Default::Auto("unset: the src/dst form"),
            unit: None,
            doc: "rows for R′, G′, B′: weights of r, g, b and an optional offset",
        },
    ],
    lower: lower_colormatrix,
    examples: &[
        "colormatrix(matrix=[[1.1, 0.05, -0.05, 0.02], [0.02, 0.95, 0.03, 0], [-0.1, 0.1, 0.9, 0.04]])",
        "colormatrix(bt601, bt709)",
        "colormatrix(src=bt709, dst=fcc)",
        "colormatrix(matrix=[[0, 0, 1], [0, 1, 0], [1, 0, 0]])",
    ],
};

fn lower_colormatrix(args: &Args, format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let v = Values::new(format, time);
    let named = |n: &str| match args.optional(n) {
        Some(ArgValue::Str(s)) => Some(s.clone()),
        _ => None,
    };
    match (named("src"), named("dst"), args.optional("matrix")) {
        (Some(src), Some(dst), None) => {
            if src == dst {
                return Ok(Vec::new());
            }
            let ycc = ycc_of_rgb(format);
            let rgb = super::formula::rgb_in(kr_kb(&src), ycc);
            let out = super::formula::ycc_in(kr_kb(&dst), rgb);
            ycc_op(format, out, None, &v)
        }
        (None, None, Some(ArgValue::Matrix { width, values, .. })) => {
            let rows: Vec<F> = (0..3)
                .map(|c| {
                    let row = &values[c * width..(c + 1) * width];
                    let sum = row[0] * px("r") + row[1] * px("g") + row[2] * px("b");
                    if *width == 4 {
                        sum + row[3]
                    } else {
                        sum
                    }
                })
                .collect();
            let [r, g, b] = [0, 1, 2].map(|c| Some(rows[c].clone()));
            rgb_op([r, g, b, None], &v)
        }
        (None, None, _) => {
            Err("give src and dst (e.g. colormatrix(bt601, bt709)) or a matrix".into())
        }
        (Some(_), None, None) => Err("src is given without dst".into()),
        (None, Some(_), None) => Err("dst is given without src".into()),
        _ => Err("matrix and src/dst are two forms: give one or the other".into()),
    }
}
