//! Rank filters: dilate and erode, the largest and smallest sample over a square window of each
//! plane, and median, any percentile of a rectangle ([`Op::Rank`]).
//!
//! Radii are in luma pixels: subsampled chroma gets the smallest window that covers the luma
//! window, ceil(radius / subsampling) samples each side, so radius 1 on 4:2:0 chroma is a 3×3
//! window of chroma samples, as FFmpeg's 3×3 `dilation` and `erosion` and its `median` of
//! radius 1 take on every plane.

use super::ParamSpec;
use super::{chosen_planes, planes_param, Args, Default, FilterKind, FilterSpec, ParamKind};
use crate::frame::Format;
use crate::op::{Op, Planes, Rank, RankOf, NTH_MAX_RADIUS};

const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "radius",
        kind: ParamKind::Int { min: 0, max: 32 },
        default: Default::Int(1),
        unit: Some("pixels"),
        doc: "half-width of the square window in pixels; 0 leaves the frame as it is",
    },
    planes_param(Default::Auto("all")),
];

/// A `(2·radius + 1)`² window on the planes `planes` names (all by default, as FFmpeg).
fn lower_rank(of: RankOf, args: &Args, format: &Format) -> Result<Vec<Op>, String> {
    let radius = args.int("radius") as u32;
    let planes = chosen_planes(args.optional("planes"), format, Planes::all(format))?;
    Ok(vec![Op::Rank(std::array::from_fn(|p| {
        if p >= format.planes() || !planes.contains(p) || radius == 0 {
            return None;
        }
        let (rx, ry) = plane_radii(format, p, (radius, radius));
        Some(Rank { rx, ry, of })
    }))])
}

/// Radii `(h, v)` in luma pixels as samples of plane `p`: the smallest that cover them.
fn plane_radii(format: &Format, p: usize, (h, v): (u32, u32)) -> (u32, u32) {
    let (sh, sv) = format.layout.shift(p);
    (h.div_ceil(1 << sh), v.div_ceil(1 << sv))
}

pub static DILATE: FilterSpec = FilterSpec {
    name: "dilate",
    kind: FilterKind::Stencil,
    description: "The largest sample over a (2·radius+1)² square, per plane, alpha included \
                  (FFmpeg's dilation is radius 1, without its thresholds); chroma's window \
                  covers luma's: ceil(radius/2) samples each side on 4:2:0",
    params: PARAMS,
    lower: |args, format, _| lower_rank(RankOf::Max, args, format),
    examples: &[
        "dilate",
        "dilate(radius=3)",
        "dilate(0)",
        "dilate(2, planes=\"y\")",
    ],
};

pub static ERODE: FilterSpec = FilterSpec {
    name: "erode",
    kind: FilterKind::Stencil,
    description: "The smallest sample over a (2·radius+1)² square, per plane, alpha included \
                  (FFmpeg's erosion is radius 1, without its thresholds); chroma's window \
                  covers luma's: ceil(radius/2) samples each side on 4:2:0",
    params: PARAMS,
    lower: |args, format, _| lower_rank(RankOf::Min, args, format),
    examples: &["erode", "erode(radius=4)", "erode(1, planes=\"uv\")"],
};

pub static MEDIAN: FilterSpec = FilterSpec {
    name: "median",
    kind: FilterKind::Stencil,
    description: "FFmpeg's median: per plane, the sample at `percentile` of the sorted \
                  (2·radius+1)×(2·radiusV+1) window (edges replicated), every plane by \
                  default; on chroma the radii cover luma's (ceil(radius/2) on 4:2:0), where \
                  FFmpeg takes them as they are",
    params: &[
        ParamSpec {
            name: "radius",
            kind: ParamKind::Int {
                min: 1,
                max: NTH_MAX_RADIUS as i64,
            },
            default: Default::Int(1),
            unit: Some("pixels"),
            doc: "horizontal half-width of the window",
        },
        ParamSpec {
            name: "radiusV",
            kind: ParamKind::Int {
                min: 0,
                max: NTH_MAX_RADIUS as i64,
            },
            default: Default::Int(0),
            unit: Some("pixels"),
            doc: "vertical half-height of the window; 0 takes radius",
        },
        ParamSpec {
            name: "percentile",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(0.5),
            unit: None,
            doc: "which sample of the sorted window: 0.5 the median, 0 the smallest, 1 the largest",
        },
        planes_param(Default::Auto("all")),
    ],
    lower: lower_median,
    examples: &[
        "median",
        "median(radius=3, percentile=0.25)",
        "median(2, radiusV=1, planes=\"y\")",
        "median(7, percentile=1)",
    ],
};

/// The sample FFmpeg's median takes from a window of `(2·rx + 1)`×`(2·ry + 1)`: the one at
/// `(window − 1) · percentile`, truncated, as FFmpeg computes it in f32.
fn percentile_rank(rx: u32, ry: u32, percentile: f32) -> u32 {
    let half = (2 * rx * ry + rx + ry) as f32;
    (half * 2.0 * percentile) as u32
}

fn lower_median(args: &Args, format: &Format, _time: &super::FrameTime) -> Result<Vec<Op>, String> {
    let radius = args.int("radius") as u32;
    let radius_v = match args.int("radiusV") as u32 {
        0 => radius,
        v => v,
    };
    let percentile = args.float("percentile") as f32;
    let planes = chosen_planes(args.optional("planes"), format, Planes::all(format))?;
    Ok(vec![Op::Rank(std::array::from_fn(|p| {
        if p >= format.planes() || !planes.contains(p) {
            return None;
        }
        let (rx, ry) = plane_radii(format, p, (radius, radius_v));
        Some(Rank {
            rx,
            ry,
            of: RankOf::Nth(percentile_rank(rx, ry, percentile)),
        })
    }))])
}
