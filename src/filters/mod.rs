//! The filter registry: every filter declared once, as a [`FilterSpec`].
//!
//! A spec names the filter, its parameters (type, range, default, one-line doc) and how it lowers
//! into ops for the stream's [`Format`]. The registry drives the chain resolver, `tessera
//! filters`, validation and the parity tests. Filters know ops ([`crate::op::Op`]), never
//! backends.

mod bilateral;
mod color;
mod composite;
mod denoise;
mod detail;
mod formula;
mod geometry;
mod grade;
mod grain;
mod lut;
mod paint;
mod pixel;
mod rank;
mod stencil;
mod temporal;
mod transform;

use crate::frame::Format;
use crate::op::Op;
use crate::plan::FrameTime;

/// The type and valid range of a parameter.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    Float {
        min: f64,
        max: f64,
    },
    Int {
        min: i64,
        max: i64,
    },
    /// One of a fixed set of names.
    Choice(&'static [&'static str]),
    /// A matrix of numbers, as nested lists or a flat list of a square size; odd sides up to
    /// `max_side`.
    Matrix {
        max_side: usize,
    },
    /// A colour matrix: 3 rows of 3 weights, or of 4 (three weights and an offset).
    ColourMatrix,
    /// `true` or `false` (or a condition, evaluated per frame).
    Bool,
    /// `#rrggbb`, `#rrggbbaa` or `[r, g, b(, a)]` in 0..=1.
    Colour,
    /// An expression of the pixel's variables, compiled for the backends (`pixel`'s channels).
    Expr,
    /// Which planes a filter works on, as FFmpeg's `planes`: letters of `y`, `u`, `v` (Y′CbCr
    /// and grey frames) or `r`, `g`, `b` (RGB), and `a`, or `all`.
    Planes,
    /// A string that `check` accepts (a file it can read, a list of points), `what` saying
    /// what it is in messages and `tessera filters`.
    Text {
        what: &'static str,
        check: fn(&str) -> Result<(), String>,
    },
}

/// What a parameter takes when the chain leaves it out.
#[derive(Clone, Copy, Debug)]
pub enum Default {
    Required,
    Float(f64),
    Int(i64),
    Str(&'static str),
    Bool(bool),
    /// Computed from the other parameters; the text says how.
    Auto(&'static str),
}

#[derive(Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: Default,
    /// What a number counts, e.g. `pixels`; `None` for plain numbers and non-numbers.
    pub unit: Option<&'static str>,
    pub doc: &'static str,
}

/// A checked parameter value.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    Float(f64),
    Int(i64),
    Str(String),
    Matrix {
        width: usize,
        height: usize,
        values: Vec<f64>,
    },
    Bool(bool),
    /// Red, green, blue and alpha in 0..=1.
    Colour([f64; 4]),
    /// Checked, with what does not vary folded.
    Expr(crate::chain::expr::Expr),
}

/// The values of one stage's parameters, in the spec's order; `None` where an `Auto` default
/// applies.
#[derive(Clone, Debug)]
pub struct Args {
    pub names: &'static [ParamSpec],
    pub values: Vec<Option<ArgValue>>,
}

impl Args {
    fn get(&self, name: &str) -> Option<&ArgValue> {
        let i = self.names.iter().position(|p| p.name == name);
        i.and_then(|i| self.values[i].as_ref())
    }

    pub fn float(&self, name: &str) -> f64 {
        match self.get(name) {
            Some(ArgValue::Float(v)) => *v,
            Some(ArgValue::Int(v)) => *v as f64,
            other => panic!("parameter {name} is not a number: {other:?}"),
        }
    }

    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(ArgValue::Int(v)) => *v,
            other => panic!("parameter {name} is not an integer: {other:?}"),
        }
    }

    pub fn string(&self, name: &str) -> &str {
        match self.get(name) {
            Some(ArgValue::Str(s)) => s,
            other => panic!("parameter {name} is not a string: {other:?}"),
        }
    }

    pub fn boolean(&self, name: &str) -> bool {
        match self.get(name) {
            Some(ArgValue::Bool(v)) => *v,
            other => panic!("parameter {name} is not a boolean: {other:?}"),
        }
    }

    pub fn colour(&self, name: &str) -> [f64; 4] {
        match self.get(name) {
            Some(ArgValue::Colour(c)) => *c,
            other => panic!("parameter {name} is not a colour: {other:?}"),
        }
    }

    pub fn optional(&self, name: &str) -> Option<&ArgValue> {
        self.get(name)
    }
}

/// Lowers checked arguments (every per-frame value already evaluated) into ops for an input of
/// `format` at `time` in the stream; an `Err` says why the filter cannot run on a frame of that
/// format (a crop outside it, an odd offset on subsampled chroma).
pub type Lower = fn(&Args, &Format, &FrameTime) -> Result<Vec<Op>, String>;

/// The op kind a filter lowers into, as DESIGN.md's table names them: what it costs and how it
/// fuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Each output pixel from the same input pixel; consecutive ones fuse into one pass.
    Pointwise,
    /// Each output pixel from a neighbourhood of input pixels (a halo around tiles).
    Stencil,
    /// Pixels moved or resampled: sizes and positions change.
    Resample,
    /// Each output pixel from this frame and past ones the backend keeps between frames.
    Temporal,
}

impl FilterKind {
    pub fn name(self) -> &'static str {
        match self {
            FilterKind::Pointwise => "pointwise",
            FilterKind::Stencil => "stencil",
            FilterKind::Resample => "resample",
            FilterKind::Temporal => "temporal",
        }
    }
}

pub struct FilterSpec {
    pub name: &'static str,
    pub kind: FilterKind,
    pub description: &'static str,
    pub params: &'static [ParamSpec],
    pub lower: Lower,
    /// Stages that exercise the filter; the parity tests run each on both backends.
    pub examples: &'static [&'static str],
}

impl std::fmt::Debug for FilterSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilterSpec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Every filter, in the order `tessera filters` lists them.
pub fn registry() -> &'static [&'static FilterSpec] {
    static ALL: &[&FilterSpec] = &[
        &stencil::GBLUR,
        &stencil::BOXBLUR,
        &stencil::CONVOLVE,
        &stencil::UNSHARP,
        &detail::SHARPEN,
        &detail::EMBOSS,
        &detail::SOBEL,
        &detail::PREWITT,
        &detail::EDGES,
        &rank::DILATE,
        &rank::ERODE,
        &rank::MEDIAN,
        &bilateral::BILATERAL,
        &denoise::DENOISE,
        &temporal::HQDN3D,
        &temporal::TMIX,
        &color::EQ,
        &color::GRAYSCALE,
        &color::INVERT,
        &color::TINT,
        &grain::GRAIN,
        &composite::OVERLAY,
        &composite::WATERMARK,
        &composite::FLATTEN,
        &pixel::PIXEL,
        &lut::LUT3D,
        &lut::LUT1D,
        &lut::CURVES,
        &grade::EXPOSURE,
        &grade::LEVELS,
        &grade::HUE,
        &grade::COLORCHANNELMIXER,
        &grade::COLORMATRIX,
        &grade::SEPIA,
        &grade::VIBRANCE,
        &grade::COLORTEMPERATURE,
        &grade::THRESHOLD,
        &grade::POSTERIZE,
        &paint::CHROMAKEY,
        &paint::VIGNETTE,
        &paint::DRAWBOX,
        &paint::FADE,
        &geometry::SCALE,
        &geometry::CROP,
        &geometry::HFLIP,
        &geometry::VFLIP,
        &transform::TRANSPOSE,
        &transform::ROTATE,
        &transform::PAD,
        &transform::FIT,
    ];
    ALL
}

/// True for a filter whose lowering reads the frame's variables itself (a `pixel` program's
/// uniforms), beyond the per-frame values of its parameters: it is lowered for every frame of a
/// chain that varies.
pub fn reads_frame(name: &str) -> bool {
    matches!(name, "pixel" | "tint") || reads_time(name)
}

/// True for a filter that differs from frame to frame whatever its parameters say: grain is new
/// at every frame index, and a fade follows the frame's time.
pub fn reads_time(name: &str) -> bool {
    matches!(name, "grain" | "fade")
}

/// True for a stage that reads a video of its own (an overlay of a video file): its ops change
/// from frame to frame whatever its parameters say, so it is lowered for every frame. A stage
/// of the same filter over a still picture is not.
pub fn reads_video(name: &str, args: &Args) -> bool {
    name == "overlay" && composite::follows_video(args)
}

/// The names a filter's numeric parameters may use besides the frame's variables, with what
/// they are (overlay's x and y know FFmpeg's overlay names); where one is also a frame
/// variable's name (`w`, `h`), the filter's meaning wins, as in FFmpeg.
pub fn stage_variables(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "overlay" => composite::OVERLAY_VARIABLES,
        _ => &[],
    }
}

/// The values of [`stage_variables`] for a stage of `name` with `args` on a frame of `format`.
pub fn stage_values(
    name: &str,
    args: &Args,
    format: &Format,
) -> Result<Vec<(&'static str, f64)>, String> {
    match name {
        "overlay" => composite::overlay_values(args, format),
        _ => Ok(Vec::new()),
    }
}

pub fn find(name: &str) -> Option<&'static FilterSpec> {
    registry().iter().copied().find(|f| f.name == name)
}

/// The planes of `format` that a `planes` parameter names (`None`: the default, `default`).
/// Letters are `y`, `u`, `v` on Y′CbCr and grey frames, `r`, `g`, `b` on RGB frames, and `a`
/// for alpha; `all` is every plane.
pub fn chosen_planes(
    value: Option<&ArgValue>,
    format: &Format,
    default: crate::op::Planes,
) -> Result<crate::op::Planes, String> {
    use crate::frame::Family;
    use crate::op::Planes;
    let text = match value {
        None => return Ok(default),
        Some(ArgValue::Str(s)) => s.as_str(),
        Some(other) => return Err(format!("planes: {other:?} is not a list of planes")),
    };
    if text == "all" {
        return Ok(Planes::all(format));
    }
    let layout = format.layout;
    let letters = match layout.family {
        Family::Yuv => "yuv",
        Family::Rgb => "rgb",
        Family::Gray => "y",
    };
    let mut planes = Planes::NONE;
    for c in text.chars() {
        let p = if c == 'a' {
            layout.alpha_plane()
        } else {
            letters.find(c)
        };
        match p {
            Some(p) => planes = planes.with(p),
            None if c == 'a' => {}
            None => {
                return Err(format!(
                "planes=\"{text}\" names `{c}`, which a {} frame does not have (its planes: {}a)",
                layout.name(),
                letters
            ))
            }
        }
    }
    Ok(planes)
}

/// The `planes` parameter of the stencil filters.
pub(crate) const fn planes_param(default: Default) -> ParamSpec {
    ParamSpec {
        name: "planes",
        kind: ParamKind::Planes,
        default,
        unit: None,
        doc: "which planes, as in FFmpeg: e.g. \"y\" (luma) or \"uv\"",
    }
}
