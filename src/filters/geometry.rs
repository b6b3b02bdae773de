//! Resampling filters: scale, crop, hflip, vflip.

use super::{Args, Default, FilterSpec, ParamKind, ParamSpec};
use crate::plan::{FrameTime, Op, ResampleFilter};

pub static SCALE: FilterSpec = FilterSpec {
    name: "scale",
    description: "Resizes the frame; -1 keeps the aspect ratio, -2 also rounds to an even size",
    params: &[
        ParamSpec {
            name: "width",
            kind: ParamKind::Int {
                min: -2,
                max: 32768,
            },
            default: Default::Int(-1),
            doc: "output width in pixels, or -1/-2 to follow height",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int {
                min: -2,
                max: 32768,
            },
            default: Default::Int(-1),
            doc: "output height in pixels, or -1/-2 to follow width",
        },
        ParamSpec {
            name: "filter",
            kind: ParamKind::Choice(ResampleFilter::NAMES),
            default: Default::Str("lanczos3"),
            doc: "resampling kernel",
        },
    ],
    lower: lower_scale,
    examples: &[
        "scale(width=32)",
        "scale(width=97, height=31, filter=\"bilinear\")",
        "scale(-1, 120, \"bicubic\")",
        "scale(width=150, height=40, filter=\"nearest\")",
        "scale(width=20, height=-2, filter=\"lanczos3\")",
    ],
};

fn lower_scale(args: &Args, (w, h): (u32, u32), _time: &FrameTime) -> Result<Vec<Op>, String> {
    let (want_w, want_h) = (args.int("width"), args.int("height"));
    if want_w == 0 || want_h == 0 {
        return Err("width and height must be positive, -1 or -2".into());
    }
    let follow = |other: i64, num: u32, den: u32, mode: i64| -> i64 {
        let exact = other as f64 * num as f64 / den as f64;
        if mode == -2 {
            ((exact / 2.0).round() as i64 * 2).max(2)
        } else {
            (exact.round() as i64).max(1)
        }
    };
    let (out_w, out_h) = match (want_w, want_h) {
        (w2, h2) if w2 > 0 && h2 > 0 => (w2, h2),
        (w2, h2) if w2 > 0 => (w2, follow(w2, h, w, h2)),
        (w2, h2) if h2 > 0 => (follow(h2, w, h, w2), h2),
        _ => (w as i64, h as i64),
    };
    let filter = ResampleFilter::from_name(args.string("filter")).expect("checked by the resolver");
    Ok(vec![Op::Scale {
        width: out_w as u32,
        height: out_h as u32,
        filter,
    }])
}

pub static CROP: FilterSpec = FilterSpec {
    name: "crop",
    description: "Keeps the width×height rectangle whose top-left corner is (x, y)",
    params: &[
        ParamSpec {
            name: "x",
            kind: ParamKind::Int { min: 0, max: 32767 },
            default: Default::Int(0),
            doc: "left edge in pixels",
        },
        ParamSpec {
            name: "y",
            kind: ParamKind::Int { min: 0, max: 32767 },
            default: Default::Int(0),
            doc: "top edge in pixels",
        },
        ParamSpec {
            name: "width",
            kind: ParamKind::Int { min: 1, max: 32768 },
            default: Default::Required,
            doc: "width of the kept rectangle",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int { min: 1, max: 32768 },
            default: Default::Required,
            doc: "height of the kept rectangle",
        },
    ],
    lower: lower_crop,
    examples: &[
        "crop(x=3, y=5, width=40, height=20)",
        "crop(0, 0, 1, 1)",
        "crop(width=50, height=30) | hflip",
    ],
};

fn lower_crop(args: &Args, (w, h): (u32, u32), _time: &FrameTime) -> Result<Vec<Op>, String> {
    let (x, y) = (args.int("x") as u64, args.int("y") as u64);
    let (cw, ch) = (args.int("width") as u64, args.int("height") as u64);
    if x + cw > w as u64 || y + ch > h as u64 {
        return Err(format!(
            "the rectangle {cw}x{ch} at ({x}, {y}) reaches outside the {w}x{h} frame \
             (expected x + width <= {w} and y + height <= {h})"
        ));
    }
    Ok(vec![Op::Crop {
        x: x as u32,
        y: y as u32,
        width: cw as u32,
        height: ch as u32,
    }])
}

pub static HFLIP: FilterSpec = FilterSpec {
    name: "hflip",
    description: "Mirrors the frame left to right",
    params: &[],
    lower: |_, _, _| {
        Ok(vec![Op::Flip {
            horizontal: true,
            vertical: false,
        }])
    },
    examples: &["hflip | vflip", "hflip"],
};

pub static VFLIP: FilterSpec = FilterSpec {
    name: "vflip",
    description: "Mirrors the frame top to bottom",
    params: &[],
    lower: |_, _, _| {
        Ok(vec![Op::Flip {
            horizontal: false,
            vertical: true,
        }])
    },
    examples: &["vflip"],
};
