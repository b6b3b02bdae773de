//! Geometry: scale, crop, hflip, vflip. Chroma moves with luma: scale resamples every plane
//! from its own size with the frame's chroma siting; crop keeps subsampled chroma with its
//! pixels (its offsets must be multiples of the subsampling); flips mirror each plane at its
//! own resolution, as FFmpeg's do.

use super::{Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::frame::Format;
use crate::op::Op;
use crate::plan::{plane_resample, FrameTime, ResampleFilter};

pub static SCALE: FilterSpec = FilterSpec {
    name: "scale",
    kind: FilterKind::Resample,
    description: "Resizes the frame; -1 keeps the aspect ratio, -2 also rounds to an even size",
    params: &[
        ParamSpec {
            name: "width",
            kind: ParamKind::Int {
                min: -2,
                max: 32768,
            },
            default: Default::Int(-1),
            unit: Some("pixels"),
            doc: "output width in pixels, or -1/-2 to follow height",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int {
                min: -2,
                max: 32768,
            },
            default: Default::Int(-1),
            unit: Some("pixels"),
            doc: "output height in pixels, or -1/-2 to follow width",
        },
        ParamSpec {
            name: "filter",
            kind: ParamKind::Choice(ResampleFilter::NAMES),
            default: Default::Str("lanczos3"),
            unit: None,
            doc: "resampling kernel",
        },
    ],
    lower: lower_scale,
    examples: &[
        "scale(width=w/2)",
        "scale(width=32)",
        "scale(width=97, height=31, filter=\"bilinear\")",
        "scale(-1, 120, \"bicubic\")",
        "scale(width=150, height=40, filter=\"nearest\")",
        "scale(width=20, height=-2, filter=\"lanczos3\")",
    ],
};

fn lower_scale(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let (w, h) = (format.width, format.height);
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
    Ok(resize(format, out_w as u32, out_h as u32, filter))
}

/// Every plane of `format` resampled to a `width`×`height` frame (nothing at the same size).
pub(super) fn resize(format: &Format, width: u32, height: u32, filter: ResampleFilter) -> Vec<Op> {
    if (width, height) == (format.width, format.height) {
        // Every kernel is the identity at scale 1, and so is nearest.
        return Vec::new();
    }
    let output = format.with_size(width, height);
    vec![Op::Resample {
        width,
        height,
        layout: format.layout,
        siting: format.colour.siting,
        planes: std::array::from_fn(|p| {
            (p < format.planes()).then(|| plane_resample(filter, format, &output, p))
        }),
    }]
}

pub static CROP: FilterSpec = FilterSpec {
    name: "crop",
    kind: FilterKind::Resample,
    description: "Keeps the width×height rectangle whose top-left corner is (x, y); on subsampled \
                  chroma (4:2:0), x and y must be even",
    params: &[
        ParamSpec {
            name: "x",
            kind: ParamKind::Int { min: 0, max: 32767 },
            default: Default::Int(0),
            unit: Some("pixels"),
            doc: "left edge in pixels",
        },
        ParamSpec {
            name: "y",
            kind: ParamKind::Int { min: 0, max: 32767 },
            default: Default::Int(0),
            unit: Some("pixels"),
            doc: "top edge in pixels",
        },
        ParamSpec {
            name: "width",
            kind: ParamKind::Int { min: 1, max: 32768 },
            default: Default::Required,
            unit: Some("pixels"),
            doc: "width of the kept rectangle",
        },
        ParamSpec {
            name: "height",
            kind: ParamKind::Int { min: 1, max: 32768 },
            default: Default::Required,
            unit: Some("pixels"),
            doc: "height of the kept rectangle",
        },
    ],
    lower: lower_crop,
    examples: &[
        "crop(x=w/4, y=h/4, width=w/2, height=h/2)",
        "crop(x=3, y=5, width=40, height=20)",
        "crop(0, 0, 1, 1)",
        "crop(width=50, height=30) | hflip",
    ],
};

fn lower_crop(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let (w, h) = (format.width, format.height);
    let (x, y) = (args.int("x") as u64, args.int("y") as u64);
    let (cw, ch) = (args.int("width") as u64, args.int("height") as u64);
    if x + cw > w as u64 || y + ch > h as u64 {
        return Err(format!(
            "the rectangle {cw}x{ch} at ({x}, {y}) reaches outside the {w}x{h} frame \
             (expected x + width <= {w} and y + height <= {h})"
        ));
    }
    // A chroma sample covers 2^shift pixels: a rectangle starting inside one would have to
    // shift chroma against luma, which a crop never does silently.
    let (sh, sv) = format.layout.chroma_shift;
    for (name, v, shift) in [("x", x, sh), ("y", y, sv)] {
        let step = 1u64 << shift;
        if v % step != 0 {
            let (down, up) = (v - v % step, v - v % step + step);
            return Err(format!(
                "{name} = {v} splits the chroma of this {} frame, which covers {}x{} pixels a \
                 sample: {name} must be a multiple of {step} (try {name}={down} or {name}={up})",
                format.layout.name(),
                1 << sh,
                1 << sv
            ));
        }
    }
    Ok(vec![Op::Remap {
        x: x as u32,
        y: y as u32,
        width: cw as u32,
        height: ch as u32,
        flip_h: false,
        flip_v: false,
        transpose: false,
    }])
}

pub static HFLIP: FilterSpec = FilterSpec {
    name: "hflip",
    kind: FilterKind::Resample,
    description: "Mirrors the frame left to right (each plane at its own resolution, as FFmpeg \
                  does: left-sited or odd-width 4:2:0 chroma lands half a chroma sample over)",
    params: &[],
    lower: |_, format, _| Ok(vec![flip(format, true, false)]),
    examples: &["hflip", "hflip | vflip"],
};

pub static VFLIP: FilterSpec = FilterSpec {
    name: "vflip",
    kind: FilterKind::Resample,
    description: "Mirrors the frame top to bottom (each plane at its own resolution)",
    params: &[],
    lower: |_, format, _| Ok(vec![flip(format, false, true)]),
    examples: &["vflip"],
};

fn flip(format: &Format, flip_h: bool, flip_v: bool) -> Op {
    Op::Remap {
        x: 0,
        y: 0,
        width: format.width,
        height: format.height,
        flip_h,
        flip_v,
        transpose: false,
    }
}
