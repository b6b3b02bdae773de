//! Table lookups in R′G′B′: `lut3d` and `lut1d` (Adobe .cube files, as FFmpeg's filters of
//! those names read them) and `curves` (FFmpeg's curves: control points per channel and a
//! master curve, its presets).
//!
//! Each lowers into one table op ([`PointOp::Cube`], [`PointOp::Channels`]) that fuses with its
//! pointwise neighbours; Y′CbCr frames convert to R′G′B′ inside the fused pass. A .cube file is
//! read and checked when the chain is resolved, once per run: lowering takes the parsed table
//! from a cache keyed by the file's name, size and modification time, so every plan shares one
//! table.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{ArgValue, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::frame::Format;
use crate::op::{ChannelTables, Cube, CubeInterp, Op, PointOp};
use crate::plan::FrameTime;

/// The sizes FFmpeg's lut3d and lut1d accept.
pub const MAX_3D_SIZE: usize = 256;
pub const MAX_1D_SIZE: usize = 65536;

/// Entries per channel of a curve's table (and at least that many for an interpolated 1-D LUT):
/// with the lines between them, within 10⁻⁶ of the curve for any curve points make, well under
/// a code value at 16 bits.
const FINE_STEPS: usize = 4096;

/// A .cube file's contents.
#[derive(Debug)]
pub struct CubeFile {
    /// `LUT_1D_SIZE` or `LUT_3D_SIZE`, and which.
    pub size: usize,
    pub three_d: bool,
    pub lo: [f32; 3],
    pub hi: [f32; 3],
    /// R′G′B′ of each entry, in the file's order (red fastest in a 3-D table).
    pub entries: Vec<[f32; 3]>,
}

/// Reads a .cube file's text; `name` is what messages call it. Errors read
/// `name:line: what is wrong`.
pub fn parse_cube(name: &str, text: &str) -> Result<CubeFile, String> {
    let mut size: Option<(usize, bool, usize)> = None;
    let mut lo = [0.0f32; 3];
    let mut hi = [1.0f32; 3];
    let mut domain_line = [0usize; 2];
    let mut entries: Vec<[f32; 3]> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let at = |what: String| format!("{name}:{n}: {what}");
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().unwrap_or("");
        if first.starts_with(|c: char| c.is_ascii_alphabetic()) {
            if !entries.is_empty() {
                return Err(at(format!(
                    "`{first}` after the table's entries (keywords come first)"
                )));
            }
            let numbers = |words: std::str::SplitWhitespace<'_>, count: usize| {
                let v: Vec<&str> = words.collect();
                if v.len() != count {
                    return Err(at(format!(
                        "{first} takes {count} number{}, found {}",
                        if count == 1 { "" } else { "s" },
                        v.len()
                    )));
                }
                v.iter()
                    .map(|w| {
                        w.parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| at(format!("`{w}` is not a number")))
                    })
                    .collect::<Result<Vec<f64>, String>>()
            };
            match first {
                // The table's name, which nothing uses.
                "TITLE" => {}
                "LUT_3D_SIZE" | "LUT_1D_SIZE" => {
                    let three_d = first == "LUT_3D_SIZE";
                    let v = numbers(words, 1)?[0];
                    let max = if three_d { MAX_3D_SIZE } else { MAX_1D_SIZE };
                    if v.fract() != 0.0 || !(2.0..=max as f64).contains(&v) {
                        return Err(at(format!(
                            "{first} {v} is out of range (expected 2 ..= {max})"
                        )));
                    }
                    if let Some((_, other, line)) = size {
                        return Err(at(if other == three_d {
                            format!("a second {first} (the first is on line {line})")
                        } else {
                            format!(
                                "both LUT_1D_SIZE and LUT_3D_SIZE (a 1-D shaper before a 3-D \
                                 table), which tessera does not read; line {line} has the other"
                            )
                        }));
                    }
                    size = Some((v as usize, three_d, n));
                }
                "DOMAIN_MIN" | "DOMAIN_MAX" => {
                    let v = numbers(words, 3)?;
                    let (target, k) = if first == "DOMAIN_MIN" {
                        (&mut lo, 0)
                    } else {
                        (&mut hi, 1)
                    };
                    *target = [v[0] as f32, v[1] as f32, v[2] as f32];
                    domain_line[k] = n;
                }
                "LUT_1D_INPUT_RANGE" | "LUT_3D_INPUT_RANGE" => {
                    let v = numbers(words, 2)?;
                    lo = [v[0] as f32; 3];
                    hi = [v[1] as f32; 3];
                    domain_line = [n, n];
                }
                other => return Err(at(format!("unknown keyword `{other}`"))),
            }
            continue;
        }
        let v: Vec<&str> = line.split_whitespace().collect();
        if v.len() != 3 {
            return Err(at(format!("expected 3 numbers, found {}", v.len())));
        }
        let mut e = [0.0f32; 3];
        for (slot, w) in e.iter_mut().zip(&v) {
            *slot = w
                .parse::<f32>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| at(format!("`{w}` is not a number")))?;
        }
        if size.is_none() {
            return Err(at(
                "an entry before LUT_3D_SIZE or LUT_1D_SIZE says the table's size".into(),
            ));
        }
        entries.push(e);
    }
    let Some((size, three_d, size_line)) = size else {
        return Err(format!("{name}: no LUT_3D_SIZE or LUT_1D_SIZE line"));
    };
    let expected = if three_d { size * size * size } else { size };
    if entries.len() != expected {
        let keyword = if three_d {
            "LUT_3D_SIZE"
        } else {
            "LUT_1D_SIZE"
        };
        return Err(format!(
            "{name}: {keyword} {size} (line {size_line}) needs {expected} entries, found {}",
            entries.len()
        ));
    }
    if let Some(c) = (0..3).find(|&c| lo[c] >= hi[c]) {
        let line = domain_line[0].max(domain_line[1]);
        return Err(format!(
            "{name}:{line}: the domain's minimum {} is not below its maximum {} ({})",
            lo[c],
            hi[c],
            ["red", "green", "blue"][c]
        ));
    }
    Ok(CubeFile {
        size,
        three_d,
        lo,
        hi,
        entries,
    })
}

/// Files read in this run: the parsed file, or why it cannot be used, by name, with the size
/// and modification time it had.
type Cache = HashMap<
    String,
    (
        Option<(u64, std::time::SystemTime)>,
        Result<Arc<CubeFile>, String>,
    ),
>;

/// The .cube file `name`, read once per run (again only where it changed on disk).
pub fn load_cube(name: &str) -> Result<Arc<CubeFile>, String> {
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let stamp = std::fs::metadata(name)
        .ok()
        .and_then(|m| Some((m.len(), m.modified().ok()?)));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some((s, result)) = cache.get(name) {
        if *s == stamp && stamp.is_some() {
            return result.clone();
        }
    }
    let result = match std::fs::read(name) {
        Err(e) => Err(format!("{name}: cannot read it: {e}")),
        Ok(bytes) => match String::from_utf8(bytes) {
            Err(e) => Err(format!(
                "{name}: not a text file (bytes that are not UTF-8 at byte {})",
                e.utf8_error().valid_up_to()
            )),
            Ok(text) => parse_cube(name, &text).map(Arc::new),
        },
    };
    cache.insert(name.to_string(), (stamp, result.clone()));
    result
}

fn load_3d(name: &str) -> Result<Arc<CubeFile>, String> {
    let file = load_cube(name)?;
    if !file.three_d {
        return Err(format!(
            "{name}: a 1-D LUT (LUT_1D_SIZE), which lut1d applies"
        ));
    }
    Ok(file)
}

fn load_1d(name: &str) -> Result<Arc<CubeFile>, String> {
    let file = load_cube(name)?;
    if file.three_d {
        return Err(format!(
            "{name}: a 3-D LUT (LUT_3D_SIZE), which lut3d applies"
        ));
    }
    Ok(file)
}

fn check_3d(name: &str) -> Result<(), String> {
    load_3d(name).map(|_| ())
}

fn check_1d(name: &str) -> Result<(), String> {
    load_1d(name).map(|_| ())
}

const fn file_param(what: &'static str, check: fn(&str) -> Result<(), String>) -> ParamSpec {
    ParamSpec {
        name: "file",
        kind: ParamKind::Text { what, check },
        default: Default::Required,
        unit: None,
        doc: "the .cube file, relative to the working directory",
    }
}

pub static LUT3D: FilterSpec = FilterSpec {
    name: "lut3d",
    kind: FilterKind::Pointwise,
    description: "A 3-D colour LUT from an Adobe .cube file, as FFmpeg's lut3d, on R′G′B′ \
                  (Y′CbCr frames converted in the pass); strength mixes it with the input. \
                  Differs from FFmpeg: inputs map to the table through DOMAIN_MIN as well as \
                  DOMAIN_MAX; no pyramid or prism interpolation, no other LUT formats",
    params: &[
        file_param("a .cube file with LUT_3D_SIZE", check_3d),
        ParamSpec {
            name: "interp",
            kind: ParamKind::Choice(&CubeInterp::NAMES),
            default: Default::Str("tetrahedral"),
            unit: None,
            doc: "how the table is read between its entries",
        },
        ParamSpec {
            name: "strength",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(1.0),
            unit: None,
            doc: "0 keeps the input, 1 is the LUT's result",
        },
    ],
    lower: lower_lut3d,
    examples: &[
        "lut3d(file=\"assets/luts/teal_orange17.cube\")",
        "lut3d(file=\"assets/luts/teal_orange17.cube\", interp=trilinear, strength=0.6)",
        "lut3d(file=\"assets/luts/teal_orange17.cube\", interp=nearest)",
        "lut3d(\"assets/luts/warm2.cube\")",
    ],
};

/// The table of a 3-D .cube file, made once per file and shared.
fn cube_table(file: &Arc<CubeFile>) -> Arc<Cube> {
    type Tables = Vec<(usize, Arc<Cube>)>;
    static TABLES: Mutex<Tables> = Mutex::new(Vec::new());
    let key = Arc::as_ptr(file) as usize;
    let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    // The cache holds each file it read, so an address is never reused for another file.
    if let Some((_, t)) = tables.iter().find(|(k, _)| *k == key) {
        return t.clone();
    }
    let values = file.entries.iter().flatten().copied().collect();
    let table = Arc::new(Cube::new(file.size, values, file.lo, file.hi));
    tables.push((key, table.clone()));
    table
}

fn lower_lut3d(args: &Args, _format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let file = load_3d(args.string("file"))?;
    let interp = CubeInterp::from_name(args.string("interp")).ok_or_else(|| {
        format!(
            "interp: {:?} is not one of nearest, trilinear, tetrahedral",
            args.string("interp")
        )
    })?;
    let strength = args.float("strength") as f32;
    if strength == 0.0 {
        return Ok(Vec::new());
    }
    Ok(vec![Op::Point(PointOp::Cube {
        cube: cube_table(&file),
        interp,
        strength,
    })])
}

/// FFmpeg's lut1d interpolations.
const INTERP_1D: [&str; 5] = ["nearest", "linear", "cosine", "cubic", "spline"];

pub static LUT1D: FilterSpec = FilterSpec {
    name: "lut1d",
    kind: FilterKind::Pointwise,
    description: "A 1-D LUT per R′G′B′ channel from an Adobe .cube file, as FFmpeg's lut1d \
                  (Y′CbCr frames converted in the pass). Differs from FFmpeg: inputs map to \
                  the table through DOMAIN_MIN as well as DOMAIN_MAX",
    params: &[
        file_param("a .cube file with LUT_1D_SIZE", check_1d),
        ParamSpec {
            name: "interp",
            kind: ParamKind::Choice(&INTERP_1D),
            default: Default::Str("linear"),
            unit: None,
            doc: "how the table is read between its entries, as FFmpeg's",
        },
    ],
    lower: lower_lut1d,
    examples: &[
        "lut1d(file=\"assets/luts/film16.cube\")",
        "lut1d(file=\"assets/luts/film16.cube\", interp=cubic)",
        "lut1d(file=\"assets/luts/film16.cube\", interp=nearest)",
        "lut1d(file=\"assets/luts/film16.cube\", interp=spline) | lut1d(file=\"assets/luts/film16.cube\", interp=cosine)",
    ],
};

/// FFmpeg's lut1d interpolation `interp` of `t` (one channel's entries) at `s` in 0 ..= len − 1.
pub fn interp_1d(interp: &str, t: &[f64], s: f64) -> f64 {
    let last = t.len() - 1;
    let prev = (s as usize).min(last);
    let next = (prev + 1).min(last);
    let mu = s - prev as f64;
    let (y1, y2) = (t[prev], t[next]);
    let y0 = t[prev.saturating_sub(1)];
    let y3 = t[(next + 1).min(last)];
    match interp {
        "nearest" => t[((s + 0.5) as usize).min(last)],
        "cosine" => {
            let m = (1.0 - (mu * std::f64::consts::PI).cos()) * 0.5;
            y1 + (y2 - y1) * m
        }
        "cubic" => {
            let a0 = y3 - y2 - y0 + y1;
            let a1 = y0 - y1 - a0;
            let a2 = y2 - y0;
            ((a0 * mu + a1) * mu + a2) * mu + y1
        }
        "spline" => {
            let c1 = 0.5 * (y2 - y0);
            let c2 = y0 - 2.5 * y1 + 2.0 * y2 - 0.5 * y3;
            let c3 = 0.5 * (y3 - y0) + 1.5 * (y1 - y2);
            ((c3 * mu + c2) * mu + c1) * mu + y1
        }
        _ => y1 + (y2 - y1) * mu,
    }
}

fn lower_lut1d(args: &Args, _format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let file = load_1d(args.string("file"))?;
    let interp = args.string("interp");
    let n = file.size;
    let channel = |c: usize| -> Vec<f64> { file.entries.iter().map(|e| e[c] as f64).collect() };
    let tables = match interp {
        // The file's own entries, read as the op reads them.
        "nearest" | "linear" => ChannelTables::new(
            n,
            (0..3).flat_map(&channel).map(|v| v as f32).collect(),
            interp == "nearest",
            file.lo,
            file.hi,
        ),
        // The curve through them, tabulated finely enough that lines between the entries
        // follow it: every file entry is an entry of the table.
        _ => {
            let k = FINE_STEPS.div_ceil(n - 1);
            let size = (n - 1) * k + 1;
            let values = (0..3)
                .flat_map(|c| {
                    let t = channel(c);
                    (0..size)
                        .map(move |j| interp_1d(interp, &t, j as f64 / k as f64) as f32)
                        .collect::<Vec<f32>>()
                })
                .collect();
            ChannelTables::new(size, values, false, file.lo, file.hi)
        }
    };
    Ok(vec![Op::Point(PointOp::Channels(Arc::new(tables)))])
}

// ---- curves ----

/// FFmpeg's curves presets: red, green, blue and master points.
const PRESETS: [(&str, [Option<&str>; 4]); 11] = [
    ("none", [None, None, None, None]),
    (
        "color_negative",
        [
            Some("0.129/1 0.466/0.498 0.725/0"),
            Some("0.109/1 0.301/0.498 0.517/0"),
            Some("0.098/1 0.235/0.498 0.423/0"),
            None,
        ],
    ),
    (
        "cross_process",
        [
            Some("0/0 0.25/0.156 0.501/0.501 0.686/0.745 1/1"),
            Some("0/0 0.25/0.188 0.38/0.501 0.745/0.815 1/0.815"),
            Some("0/0 0.231/0.094 0.709/0.874 1/1"),
            None,
        ],
    ),
    ("darker", [None, None, None, Some("0/0 0.5/0.4 1/1")]),
    (
        "increase_contrast",
        [
            None,
            None,
            None,
            Some("0/0 0.149/0.066 0.831/0.905 0.905/0.98 1/1"),
        ],
    ),
    ("lighter", [None, None, None, Some("0/0 0.4/0.5 1/1")]),
    (
        "linear_contrast",
        [None, None, None, Some("0/0 0.305/0.286 0.694/0.713 1/1")],
    ),
    (
        "medium_contrast",
        [None, None, None, Some("0/0 0.286/0.219 0.639/0.643 1/1")],
    ),
    ("negative", [None, None, None, Some("0/1 1/0")]),
    (
        "strong_contrast",
        [
            None,
            None,
            None,
            Some("0/0 0.301/0.196 0.592/0.6 0.686/0.737 1/1"),
        ],
    ),
    (
        "vintage",
        [
            Some("0/0.11 0.42/0.51 1/0.95"),
            Some("0/0 0.50/0.48 1/1"),
            Some("0/0.22 0.49/0.44 1/0.8"),
            None,
        ],
    ),
];

const PRESET_NAMES: [&str; 11] = [
    "none",
    "color_negative",
    "cross_process",
    "darker",
    "increase_contrast",
    "lighter",
    "linear_contrast",
    "medium_contrast",
    "negative",
    "strong_contrast",
    "vintage",
];

/// Control points as FFmpeg writes them: `x/y` pairs in 0..1 with x increasing, apart by
/// spaces.
pub fn parse_points(text: &str) -> Result<Vec<(f64, f64)>, String> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for word in text.split_whitespace() {
        let bad = || format!("{text:?} — each point is x/y in 0..1 (`{word}` is not)");
        let (x, y) = word.split_once('/').ok_or_else(bad)?;
        let (x, y) = (
            x.parse::<f64>().map_err(|_| bad())?,
            y.parse::<f64>().map_err(|_| bad())?,
        );
        if !(0.0..=1.0).contains(&x) || !(0.0..=1.0).contains(&y) {
            return Err(bad());
        }
        if let Some(&(px, _)) = points.last() {
            if x <= px {
                return Err(format!(
                    "{text:?} — x must increase from point to point ({x} follows {px})"
                ));
            }
        }
        points.push((x, y));
    }
    if !text.trim().is_empty() && points.is_empty() {
        return Err(format!("{text:?} — each point is x/y in 0..1"));
    }
    Ok(points)
}

/// A curve through control points: FFmpeg's natural cubic spline, or a monotone cubic
/// (Fritsch–Carlson's PCHIP). Flat beyond the first and last points; no points is the identity,
/// one a constant.
#[derive(Clone, Debug)]
pub struct CurveFit {
    xs: Vec<f64>,
    ys: Vec<f64>,
    /// Each point's slope (PCHIP) or second derivative (natural spline).
    d: Vec<f64>,
    natural: bool,
}

impl CurveFit {
    pub fn new(points: &[(f64, f64)], natural: bool) -> CurveFit {
        let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        let n = xs.len();
        let mut d = vec![0.0; n];
        if n >= 2 {
            let h: Vec<f64> = (0..n - 1).map(|i| xs[i + 1] - xs[i]).collect();
            let delta: Vec<f64> = (0..n - 1).map(|i| (ys[i + 1] - ys[i]) / h[i]).collect();
            if natural {
                // Second derivatives, 0 at both ends: a tridiagonal system, solved forward and
                // back (Thomas).
                let mut diag = vec![1.0; n];
                let mut upper = vec![0.0; n];
                let mut rhs = vec![0.0; n];
                for i in 1..n - 1 {
                    let lower = h[i - 1];
                    diag[i] = 2.0 * (h[i - 1] + h[i]) - lower * upper[i - 1];
                    upper[i] = h[i] / diag[i];
                    rhs[i] = (6.0 * (delta[i] - delta[i - 1]) - lower * rhs[i - 1]) / diag[i];
                }
                for i in (1..n - 1).rev() {
                    d[i] = rhs[i] - upper[i] * d[i + 1];
                }
            } else if n == 2 {
                d = vec![delta[0]; 2];
            } else {
                for i in 1..n - 1 {
                    let (a, b) = (delta[i - 1], delta[i]);
                    if a * b > 0.0 {
                        let w1 = 2.0 * h[i] + h[i - 1];
                        let w2 = h[i] + 2.0 * h[i - 1];
                        d[i] = (w1 + w2) / (w1 / a + w2 / b);
                    }
                }
                let end = |h0: f64, h1: f64, d0: f64, d1: f64| {
                    let s = ((2.0 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
                    if s.signum() != d0.signum() || d0 == 0.0 {
                        0.0
                    } else if d0.signum() != d1.signum() && s.abs() > 3.0 * d0.abs() {
                        3.0 * d0
                    } else {
                        s
                    }
                };
                d[0] = end(h[0], h[1], delta[0], delta[1]);
                d[n - 1] = end(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
            }
        }
        CurveFit { xs, ys, d, natural }
    }

    /// The curve at `x`, unclamped.
    pub fn at(&self, x: f64) -> f64 {
        let n = self.xs.len();
        match n {
            0 => return x,
            1 => return self.ys[0],
            _ => {}
        }
        if x <= self.xs[0] {
            return self.ys[0];
        }
        if x >= self.xs[n - 1] {
            return self.ys[n - 1];
        }
        let i = self.xs.partition_point(|&p| p <= x).clamp(1, n - 1) - 1;
        let h = self.xs[i + 1] - self.xs[i];
        let t = x - self.xs[i];
        let (y0, y1) = (self.ys[i], self.ys[i + 1]);
        let (d0, d1) = (self.d[i], self.d[i + 1]);
        if self.natural {
            let b = (y1 - y0) / h - h * d0 / 2.0 - h * (d1 - d0) / 6.0;
            y0 + t * (b + t * (d0 / 2.0 + t * (d1 - d0) / (6.0 * h)))
        } else {
            let u = t / h;
            let (u2, u3) = (u * u, u * u * u);
            (2.0 * u3 - 3.0 * u2 + 1.0) * y0
                + (u3 - 2.0 * u2 + u) * h * d0
                + (-2.0 * u3 + 3.0 * u2) * y1
                + (u3 - u2) * h * d1
        }
    }
}

/// Curves' points, checked: `Ok` for FFmpeg's point strings.
fn check_points(text: &str) -> Result<(), String> {
    parse_points(text).map(|_| ())
}

const fn points_param(name: &'static str, doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        kind: ParamKind::Text {
            what: "points \"x/y x/y …\" in 0..1, x increasing",
            check: check_points,
        },
        default: Default::Auto("the preset's, or none"),
        unit: None,
        doc,
    }
}

pub static CURVES: FilterSpec = FilterSpec {
    name: "curves",
    kind: FilterKind::Pointwise,
    description: "Curves through control points on each R′G′B′ channel, then a master curve on \
                  all three, as FFmpeg's curves, with its presets (Y′CbCr frames converted in the \
                  pass). interp=pchip (the default) never overshoots the points; FFmpeg's \
                  default is natural (a natural cubic spline), which interp=natural gives",
    params: &[
        ParamSpec {
            name: "preset",
            kind: ParamKind::Choice(&PRESET_NAMES),
            default: Default::Str("none"),
            unit: None,
            doc: "FFmpeg's presets: their points for the channels not given",
        },
        points_param("master", "points of the curve applied after each channel's"),
        points_param("r", "points of red's curve, e.g. \"0/0 0.5/0.58 1/1\""),
        points_param("g", "points of green's curve"),
        points_param("b", "points of blue's curve"),
        points_param("all", "points for each of r, g, b not given"),
        ParamSpec {
            name: "interp",
            kind: ParamKind::Choice(&["pchip", "natural"]),
            default: Default::Str("pchip"),
            unit: None,
            doc: "pchip: monotone cubic; natural: natural cubic spline (FFmpeg's)",
        },
    ],
    lower: lower_curves,
    examples: &[
        "curves(preset=vintage)",
        "curves(preset=strong_contrast, interp=natural)",
        "curves(r=\"0/0 0.5/0.58 1/1\", b=\"0/0.1 0.6/0.5 1/0.9\", master=\"0/0 0.3/0.25 1/1\")",
        "curves(all=\"0/0.05 0.5/0.6 1/0.95\", g=\"0.2/0 0.8/1\", interp=natural)",
        "curves(preset=color_negative)",
    ],
};

fn lower_curves(args: &Args, _format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let text = |name: &str| match args.optional(name) {
        Some(ArgValue::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let preset = PRESETS
        .iter()
        .find(|(n, _)| *n == args.string("preset"))
        .map_or([None; 4], |p| p.1);
    let all = text("all");
    // As FFmpeg: `all` for the channels not given, then the preset's for those still not.
    let points: Vec<Option<String>> = ["r", "g", "b", "master"]
        .iter()
        .enumerate()
        .map(|(c, name)| {
            text(name)
                .or_else(|| if c < 3 { all.clone() } else { None })
                .or_else(|| preset[c].map(String::from))
        })
        .collect();
    if points.iter().all(Option::is_none) {
        return Ok(Vec::new());
    }
    let natural = args.string("interp") == "natural";
    let fit = |c: usize| -> Result<Option<CurveFit>, String> {
        let Some(p) = &points[c] else { return Ok(None) };
        let parsed =
            parse_points(p).map_err(|e| format!("{}: {e}", ["r", "g", "b", "master"][c]))?;
        Ok(Some(CurveFit::new(&parsed, natural)))
    };
    let master = fit(3)?;
    let size = FINE_STEPS + 1;
    let mut values = Vec::with_capacity(3 * size);
    for c in 0..3 {
        let curve = fit(c)?;
        for i in 0..size {
            let x = i as f64 / FINE_STEPS as f64;
            let mut v = curve.as_ref().map_or(x, |f| f.at(x).clamp(0.0, 1.0));
            if let Some(m) = &master {
                v = m.at(v).clamp(0.0, 1.0);
            }
            values.push(v as f32);
        }
    }
    let tables = ChannelTables::new(size, values, false, [0.0; 3], [1.0; 3]);
    Ok(vec![Op::Point(PointOp::Channels(Arc::new(tables)))])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_errors_name_the_file_and_line() {
        let e = parse_cube("looks.cube", "TITLE \"x\"\nLUT_3D_SIZE 2\n0 0 0\n1 0\n").unwrap_err();
        assert_eq!(e, "looks.cube:4: expected 3 numbers, found 2");
        let e = parse_cube("a.cube", "LUT_3D_SIZE 300\n").unwrap_err();
        assert_eq!(
            e,
            "a.cube:1: LUT_3D_SIZE 300 is out of range (expected 2 ..= 256)"
        );
        let e = parse_cube("a.cube", "# c\n\nLUT_3D_SIZE 2\n0 0 0\n").unwrap_err();
        assert_eq!(e, "a.cube: LUT_3D_SIZE 2 (line 3) needs 8 entries, found 1");
        let e = parse_cube("a.cube", "LUT_1D_SIZE 2\n0 0 0\n1 1 x\n").unwrap_err();
        assert_eq!(e, "a.cube:3: `x` is not a number");
        assert!(parse_cube("a.cube", "")
            .unwrap_err()
            .contains("no LUT_3D_SIZE"));
    }

    #[test]
    fn cube_reads_keywords_comments_and_red_fastest() {
        let text = "# a comment\nTITLE \"grade\"\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\n\
                    LUT_3D_SIZE 2\n\n0 0 0\n1 0 0 # red\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n";
        let f = parse_cube("g.cube", text).unwrap();
        assert_eq!((f.size, f.three_d), (2, true));
        assert_eq!(f.entries[1], [1.0, 0.0, 0.0]);
        let cube = Cube::new(2, f.entries.iter().flatten().copied().collect(), f.lo, f.hi);
        for interp in [CubeInterp::Trilinear, CubeInterp::Tetrahedral] {
            let v = cube.apply(interp, [0.2, 0.7, 0.4]);
            for (a, b) in v.iter().zip([0.2, 0.7, 0.4]) {
                assert!((a - b).abs() < 1e-6, "{interp:?}: {v:?}");
            }
        }
    }

    #[test]
    fn curves_fit_their_points_and_pchip_does_not_overshoot() {
        let points = parse_points("0/0 0.3/0.8 0.4/0.82 1/1").unwrap();
        for natural in [false, true] {
            let f = CurveFit::new(&points, natural);
            for &(x, y) in &points {
                assert!((f.at(x) - y).abs() < 1e-12);
            }
        }
        let pchip = CurveFit::new(&points, false);
        let mut last = 0.0;
        for i in 0..=1000 {
            let v = pchip.at(i as f64 / 1000.0);
            assert!(v >= last - 1e-12 && v <= 1.0 + 1e-12, "{i}: {v}");
            last = v;
        }
        let natural = CurveFit::new(&points, true);
        assert!((0..=1000)
            .any(|i| natural.at(i as f64 / 1000.0) > 0.8200001 && (i as f64 / 1000.0) < 0.4));
        assert!(parse_points("0/0 0.5")
            .unwrap_err()
            .contains("each point is x/y in 0..1"));
        assert!(parse_points("0.5/0 0.4/1")
            .unwrap_err()
            .contains("x must increase"));
        assert!(parse_points("0/1.5").is_err());
    }
}
