//! Turns, rotations and canvases: transpose, rotate, pad, fit. Chroma moves with luma and
//! alpha with the picture. Quarter turns are pure sample moves (`Op::Remap` with its axes
//! swapped), except that 4:2:2 frames keep 4:2:2 (their turned chroma, which would be 4:4:0,
//! is resampled); other angles and canvases are warps (`Op::Warp`), each plane mapped from its
//! own samples with the frame's chroma siting, and an integer translation of a warp moves codes
//! exactly, so a pad is exact.

use super::{Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::frame::Format;
use crate::op::{ColourMath, Op, Warp, WarpFilter};
use crate::plan::{plane_resample, FrameTime, ResampleFilter};

pub static TRANSPOSE: FilterSpec = FilterSpec {
    name: "transpose",
    kind: FilterKind::Resample,
    description: "Turns the frame a quarter turn, as FFmpeg's transpose: clock and cclock turn it \
                  clockwise and counter-clockwise, cclock_flip swaps its axes (a turn \
                  counter-clockwise, then a flip top to bottom), clock_flip the other diagonal. \
                  Samples move as they are; chroma siting is swapped with the axes (left-sited \
                  4:2:0 becomes top-sited). 4:2:2 stays 4:2:2: its turned chroma is resampled \
                  (bicubic) where FFmpeg's transpose would convert the frame first. dir may be \
                  FFmpeg's number too: 0 to 3 are cclock_flip, clock, cclock, clock_flip (FFmpeg's \
                  deprecated 4 to 7 are not taken: use passthrough=landscape)",
    params: &[
        ParamSpec {
            name: "dir",
            kind: ParamKind::Choice(&["cclock_flip", "clock", "cclock", "clock_flip"]),
            default: Default::Str("clock"),
            unit: None,
            doc: "which way to turn",
        },
        ParamSpec {
            name: "passthrough",
            kind: ParamKind::Choice(&["none", "portrait", "landscape"]),
            default: Default::Str("none"),
            unit: None,
            doc: "leave frames already portrait (height >= width) or landscape (width >= height) \
                  as they are",
        },
    ],
    lower: lower_transpose,
    examples: &[
        "transpose",
        "transpose(dir=\"cclock\")",
        "transpose(cclock_flip)",
        "transpose(dir=clock_flip) | gblur(1)",
        "gblur(1) | transpose(clock)",
        "transpose(clock, passthrough=landscape)",
        "transpose(3)",
    ],
};

fn lower_transpose(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let (w, h) = (format.width, format.height);
    let skip = match args.string("passthrough") {
        "portrait" => h >= w,
        "landscape" => w >= h,
        _ => false,
    };
    if skip {
        return Ok(Vec::new());
    }
    let (flip_h, flip_v) = match args.string("dir") {
        "cclock_flip" => (false, false),
        "clock" => (true, false),
        "cclock" => (false, true),
        _ => (true, true),
    };
    Ok(turn(format, flip_h, flip_v))
}

/// A quarter turn: the axes swapped, then the output mirrored as asked (each plane at its own
/// resolution, as hflip and vflip do). 4:2:2 turned is 4:4:0; its chroma is resampled back to
/// 4:2:2 before the mirroring, from the siting the turn gave it to the frame's own.
fn turn(format: &Format, flip_h: bool, flip_v: bool) -> Vec<Op> {
    let (w, h) = (format.width, format.height);
    let (sh, sv) = format.layout.chroma_shift;
    let swap = |flip_h, flip_v| Op::Remap {
        x: 0,
        y: 0,
        width: h,
        height: w,
        flip_h,
        flip_v,
        transpose: true,
    };
    if sh == sv {
        return vec![swap(flip_h, flip_v)];
    }
    let first = swap(false, false);
    let turned = first.output(format);
    let back = Format {
        layout: format.layout,
        colour: format.colour,
        ..turned
    };
    let mut ops = vec![
        first,
        Op::Resample {
            width: h,
            height: w,
            layout: format.layout,
            siting: format.colour.siting,
            planes: std::array::from_fn(|p| {
                (p < format.planes() && format.role(p).is_chroma())
                    .then(|| plane_resample(ResampleFilter::Bicubic, &turned, &back, p))
            }),
        },
    ];
    if flip_h || flip_v {
        ops.push(Op::Remap {
            x: 0,
            y: 0,
            width: h,
            height: w,
            flip_h,
            flip_v,
            transpose: false,
        });
    }
    ops
}

/// The code values of `colour` (R′G′B′A in 0..=1) in each plane of `format`: through the
/// frame's matrix and range on Y′CbCr, luma on grey, rounded to the nearest code.
pub(super) fn fill_codes(format: &Format, colour: [f64; 4]) -> [f32; 4] {
    let math = ColourMath::of(format);
    let mut codes = [0.0f32; 4];
    math.from_rgba(colour.map(|v| v as f32), &mut codes);
    codes.map(|c| c.round().clamp(0.0, math.max))
}

/// Each plane of `input` warped to a `width`×`height` frame through `luma`, the map from a
/// point of the output to a point of the input in luma samples measured from the frame's
/// top-left corner (pixel centres at k + ½): `(x, y) ↦ (l0·x + l1·y + l2, l3·x + l4·y + l5)`.
pub(super) fn warp(
    input: &Format,
    (width, height): (u32, u32),
    luma: [f64; 6],
    fill: [f64; 4],
    filter: WarpFilter,
) -> Op {
    let output = input.with_size(width, height);
    let codes = fill_codes(input, fill);
    let planes = std::array::from_fn(|p| {
        (p < input.planes()).then(|| {
            let (sh, sv) = input.layout.shift(p);
            let (fx, fy) = ((1u32 << sh) as f64, (1u32 << sv) as f64);
            let cx = 0.5 + input.colour.siting.offset(true, 1 << sh);
            let cy = 0.5 + input.colour.siting.offset(false, 1 << sv);
            let [l0, l1, l2, l3, l4, l5] = luma;
            // Output sample (j, k) is the luma point (fx·j + cx, fy·k + cy); input sample i
            // along x is the point fx·i + cx.
            let m = [
                l0,
                l1 * fy / fx,
                (l0 * cx + l1 * cy + l2 - cx) / fx,
                l3 * fx / fy,
                l4,
                (l3 * cx + l4 * cy + l5 - cy) / fy,
            ];
            Warp {
                matrix: m.map(|v| v as f32),
                fill: codes[p],
                filter,
            }
        })
    });
    Op::Warp {
        width: output.width,
        height: output.height,
        planes,
    }
}

/// An integer translation onto a `width`×`height` canvas: the input's top-left pixel lands at
/// (`x`, `y`) (negative: cut off), multiples of the chroma subsampling; codes move exactly.
pub(super) fn place(format: &Format, size: (u32, u32), (x, y): (i64, i64), fill: [f64; 4]) -> Op {
    let luma = [1.0, 0.0, -x as f64, 0.0, 1.0, -y as f64];
    warp(format, size, luma, fill, WarpFilter::Bilinear)
}

/// `v` rounded down to a multiple of the chroma subsampling `shift` (toward −∞).
fn to_grid(v: i64, shift: u8) -> i64 {
    v.div_euclid(1 << shift) * (1 << shift)
}

/// Where a picture `size` long starts on a canvas `canvas` long to be centred: a pad's offset
/// ((canvas − size)/2) or a crop's ((size − canvas)/2 cut off), rounded down to the chroma grid
/// `shift` as FFmpeg's pad and crop round them.
fn centre(canvas: u32, size: u32, shift: u8) -> i64 {
    let (canvas, size) = (canvas as i64, size as i64);
    if size >= canvas {
        -to_grid((size - canvas) / 2, shift)
    } else {
        to_grid((canvas - size) / 2, shift)
    }
}

pub static ROTATE: FilterSpec = FilterSpec {
    name: "rotate",
    kind: FilterKind::Resample,
    description: "Rotates the frame clockwise by angle, in radians as FFmpeg's rotate: write \
                  degrees with the deg unit (rotate(30deg), or rotate(PI/6)). A plain number is \
                  radians, and a constant angle must lie within one turn either way (so that \
                  rotate(90) is an error, not 90 radians); an angle that changes per frame is \
                  clamped to a turn (write it modulo 2*PI). Multiples of a quarter turn are \
                  exact sample moves (as transpose, hflip and vflip; on a canvas kept at the \
                  input's size, the turned picture is centred to the chroma grid); other angles \
                  interpolate, and the canvas keeps the input's size (corners filled with fill, \
                  transparent on a frame with alpha where fill's alpha is 0) or with \
                  expand=true grows to hold the whole picture (FFmpeg's \
                  ow=rotw(a):oh=roth(a)). The picture's edge blends into the fill over one \
                  sample, where FFmpeg's is cut at whole samples; fill's alpha is ignored on a \
                  frame without alpha",
    params: &[
        ParamSpec {
            name: "angle",
            kind: ParamKind::Float {
                min: -std::f64::consts::TAU,
                max: std::f64::consts::TAU,
            },
            default: Default::Required,
            unit: Some("radians"),
            doc: "clockwise, in radians (30deg or PI/6 for 30 degrees)",
        },
        ParamSpec {
            name: "fill",
            kind: ParamKind::Colour,
            default: Default::Str("#000000"),
            unit: None,
            doc: "colour of the uncovered corners (#rrggbbaa for transparency)",
        },
        ParamSpec {
            name: "expand",
            kind: ParamKind::Bool,
            default: Default::Bool(false),
            unit: None,
            doc: "grow the canvas to hold the whole rotated picture",
        },
        ParamSpec {
            name: "filter",
            kind: ParamKind::Choice(&["bilinear", "bicubic"]),
            default: Default::Str("bilinear"),
            unit: None,
            doc: "interpolation",
        },
    ],
    lower: lower_rotate,
    examples: &[
        "rotate(30deg)",
        "rotate(angle=-0.4, fill=#ff000000, filter=bicubic)",
        "rotate(PI/6, fill=#20c040, expand=true)",
        "rotate(90deg)",
        "rotate(angle=-90deg, expand=true)",
        "rotate(180deg)",
        "gblur(1) | rotate(1, expand=true, filter=bicubic) | gblur(1)",
    ],
};

fn lower_rotate(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let angle = args.float("angle");
    let fill = args.colour("fill");
    let expand = args.boolean("expand");
    let filter = match args.string("filter") {
        "bicubic" => WarpFilter::Bicubic,
        _ => WarpFilter::Bilinear,
    };
    let (w, h) = (format.width, format.height);
    let quarter = std::f64::consts::FRAC_PI_2;
    let turns = (angle / quarter).round();
    if (angle - turns * quarter).abs() < 1e-9 {
        let mut ops = match (turns as i64).rem_euclid(4) {
            0 => return Ok(Vec::new()),
            2 => {
                return Ok(vec![Op::Remap {
                    x: 0,
                    y: 0,
                    width: w,
                    height: h,
                    flip_h: true,
                    flip_v: true,
                    transpose: false,
                }])
            }
            1 => turn(format, true, false),
            _ => turn(format, false, true),
        };
        if !expand && w != h {
            // The turned h×w picture centred on the w×h canvas, whole pixels on the chroma grid.
            let turned = format.with_size(h, w);
            let (sh, sv) = format.layout.chroma_shift;
            let x = centre(w, h, sh);
            let y = centre(h, w, sv);
            ops.push(place(&turned, (w, h), (x, y), fill));
        }
        return Ok(ops);
    }
    let (sin, cos) = angle.sin_cos();
    let (wf, hf) = (w as f64, h as f64);
    let (ow, oh) = if expand {
        let size = |a: f64| ((a - 1e-9).ceil() as u32).clamp(1, 32768);
        (
            size(wf * cos.abs() + hf * sin.abs()),
            size(wf * sin.abs() + hf * cos.abs()),
        )
    } else {
        (w, h)
    };
    // Output point p ↦ input point R⁻¹·(p − output centre) + input centre, R turning clockwise
    // on a picture whose y axis points down.
    let (cxo, cyo) = (ow as f64 / 2.0, oh as f64 / 2.0);
    let (cxi, cyi) = (wf / 2.0, hf / 2.0);
    let luma = [
        cos,
        sin,
        cxi - cos * cxo - sin * cyo,
        -sin,
        cos,
        cyi + sin * cxo - cos * cyo,
    ];
    Ok(vec![warp(format, (ow, oh), luma, fill, filter)])
}

pub static PAD: FilterSpec = FilterSpec {
    name: "pad",
    kind: FilterKind::Resample,
    description: "Puts the frame on a width×height canvas of color with its top-left corner at \
                  (x, y), as FFmpeg's pad: sizes and offsets may be expressions of the input's \
                  size, which tessera names w and h (FFmpeg's iw and ih: pad(w+20, h+20, 10, 10) \
                  is FFmpeg's pad=iw+20:ih+20:10:10); width or height 0 keeps the input's, x or y \
                  negative centres the picture. On subsampled chroma, sizes and offsets are \
                  rounded down to the chroma grid as FFmpeg rounds them (4:2:0: to even \
                  numbers), except a size that rounded would cut the picture (an odd-sized \
                  frame), which is kept. The canvas must hold the picture: an x or y that puts \
                  it outside is an error (FFmpeg centres it instead). FFmpeg's ow and oh are not offered: write the \
                  size again, or leave x and y to centre",
    params: &[
        ParamSpec {
            name: "width",
            kind: ParamKind::Int { min: 0, max: 32768 },
            default: Default::Int(0),
            unit: Some("pixels"),
            doc: "canvas width (0: the input's)",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int { min: 0, max: 32768 },
            default: Default::Int(0),
            unit: Some("pixels"),
            doc: "canvas height (0: the input's)",
        },
        ParamSpec {
            name: "x",
            kind: ParamKind::Int {
                min: -32768,
                max: 32767,
            },
            default: Default::Int(-1),
            unit: Some("pixels"),
            doc: "left edge of the picture on the canvas (negative: centred)",
        },
        ParamSpec {
            name: "y",
            kind: ParamKind::Int {
                min: -32768,
                max: 32767,
            },
            default: Default::Int(-1),
            unit: Some("pixels"),
            doc: "top edge of the picture on the canvas (negative: centred)",
        },
        ParamSpec {
            name: "color",
            kind: ParamKind::Colour,
            default: Default::Str("#000000"),
            unit: None,
            doc: "canvas colour (#rrggbbaa: alpha too on frames with alpha)",
        },
    ],
    lower: lower_pad,
    examples: &[
        "pad(w+20, h+10)",
        "pad(width=80, height=60, x=3, y=5, color=#3080ff)",
        "pad(w+7, h+3, 0, 0, #ff000080)",
        "pad(height=h+16, y=0) | gblur(1)",
    ],
};

fn lower_pad(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let (iw, ih) = (format.width as i64, format.height as i64);
    let (sh, sv) = format.layout.chroma_shift;
    let size = |v: i64, input: i64| if v == 0 { input } else { v };
    let (w, h) = (size(args.int("width"), iw), size(args.int("height"), ih));
    // As FFmpeg: offsets from the sizes asked for, then sizes and offsets rounded down to the
    // chroma grid; a size is kept where rounding it would cut the picture (an odd frame).
    let offset = |v: i64, canvas: i64, input: i64| if v < 0 { (canvas - input) / 2 } else { v };
    let (x, y) = (
        to_grid(offset(args.int("x"), w, iw), sh),
        to_grid(offset(args.int("y"), h, ih), sv),
    );
    let round = |v: i64, shift: u8, needs: i64| {
        let r = to_grid(v, shift);
        if r >= needs {
            r
        } else {
            v
        }
    };
    let (w, h) = (round(w, sh, x + iw), round(h, sv, y + ih));
    if x < 0 || y < 0 || x + iw > w || y + ih > h {
        return Err(format!(
            "the {iw}x{ih} picture at ({x}, {y}) does not fit the {w}x{h} canvas (expected x + \
             {iw} <= width and y + {ih} <= height{})",
            if (sh, sv) != (0, 0) {
                ", sizes and offsets rounded down to the chroma grid"
            } else {
                ""
            }
        ));
    }
    if (w, h) == (iw, ih) {
        return Ok(Vec::new());
    }
    Ok(vec![place(
        format,
        (w as u32, h as u32),
        (x, y),
        args.colour("color"),
    )])
}

pub static FIT: FilterSpec = FilterSpec {
    name: "fit",
    kind: FilterKind::Resample,
    description: "Fits the frame to a width×height box keeping its aspect ratio, for \
                  thumbnails: contain scales it to fit inside and pads the rest with color \
                  (letterbox), cover scales it to cover the box and crops the centre, fill \
                  stretches it. With shrink_only, a frame is never enlarged: contain pads a \
                  smaller one to the box, cover crops what exceeds the box and pads what falls \
                  short, fill shrinks each side only as far as the box and pads the rest. Bars \
                  and crops are centred, offsets rounded down to the chroma grid",
    params: &[
        ParamSpec {
            name: "width",
            kind: ParamKind::Int { min: 1, max: 32768 },
            default: Default::Required,
            unit: Some("pixels"),
            doc: "box width",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int { min: 1, max: 32768 },
            default: Default::Required,
            unit: Some("pixels"),
            doc: "box height",
        },
        ParamSpec {
            name: "mode",
            kind: ParamKind::Choice(&["contain", "cover", "fill"]),
            default: Default::Str("contain"),
            unit: None,
            doc: "inside the box and letterboxed, covering it and cropped, or stretched",
        },
        ParamSpec {
            name: "shrink_only",
            kind: ParamKind::Bool,
            default: Default::Bool(false),
            unit: None,
            doc: "never enlarge",
        },
        ParamSpec {
            name: "color",
            kind: ParamKind::Colour,
            default: Default::Str("#000000"),
            unit: None,
            doc: "colour of the bars",
        },
        ParamSpec {
            name: "filter",
            kind: ParamKind::Choice(ResampleFilter::NAMES),
            default: Default::Str("lanczos3"),
            unit: None,
            doc: "resampling kernel, as scale's",
        },
    ],
    lower: lower_fit,
    examples: &[
        "fit(width=w/2, height=w/2)",
        "fit(40, 40)",
        "fit(width=50, height=20, mode=cover, filter=bicubic)",
        "fit(width=30, height=70, mode=fill, filter=bilinear)",
        "fit(100, 90, shrink_only=true, color=#ffffff)",
        "fit(100, 30, mode=cover, shrink_only=true)",
    ],
};

/// The scaled size and the offset of its top-left corner in the box of `fit` for `format`.
fn fit_layout(
    format: &Format,
    (bw, bh): (u32, u32),
    mode: &str,
    shrink_only: bool,
) -> ((u32, u32), (i64, i64)) {
    let (iw, ih) = (format.width as f64, format.height as f64);
    let (bwf, bhf) = (bw as f64, bh as f64);
    let (sw, sh) = match mode {
        "fill" if shrink_only => (iw.min(bwf), ih.min(bhf)),
        "fill" => (bwf, bhf),
        _ => {
            let (sx, sy) = (bwf / iw, bhf / ih);
            let mut s = if mode == "cover" {
                sx.max(sy)
            } else {
                sx.min(sy)
            };
            if shrink_only {
                s = s.min(1.0);
            }
            let side = |v: f64, bound: f64| {
                let v = (v * s).round().max(1.0);
                // Rounding must not take contain past the box or cover short of it.
                match mode {
                    "cover" if !shrink_only => v.max(bound),
                    "cover" => v,
                    _ => v.min(bound),
                }
            };
            (side(iw, bwf), side(ih, bhf))
        }
    };
    let (sw, sh) = (sw as u32, sh as u32);
    let (gh, gv) = format.layout.chroma_shift;
    ((sw, sh), (centre(bw, sw, gh), centre(bh, sh, gv)))
}

fn lower_fit(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let bw = args.int("width") as u32;
    let bh = args.int("height") as u32;
    let filter = ResampleFilter::from_name(args.string("filter")).expect("checked by the resolver");
    let ((sw, sh), (x, y)) = fit_layout(
        format,
        (bw, bh),
        args.string("mode"),
        args.boolean("shrink_only"),
    );
    let mut ops = super::geometry::resize(format, sw, sh, filter);
    let scaled = format.with_size(sw, sh);
    if (sw, sh) == (bw, bh) {
        return Ok(ops);
    }
    if x <= 0 && y <= 0 && sw >= bw && sh >= bh {
        ops.push(Op::Remap {
            x: -x as u32,
            y: -y as u32,
            width: bw,
            height: bh,
            flip_h: false,
            flip_v: false,
            transpose: false,
        });
    } else {
        ops.push(place(&scaled, (bw, bh), (x, y), args.colour("color")));
    }
    Ok(ops)
}
