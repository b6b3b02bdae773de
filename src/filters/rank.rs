//! Rank filters: dilate and erode, the largest and smallest sample over a square window of each
//! plane ([`Op::Rank`]).
//!
//! The radius is in luma pixels: subsampled chroma gets the smallest window that covers the
//! luma window, ceil(radius / subsampling) samples each side, so radius 1 on 4:2:0 chroma is a
//! 3×3 window of chroma samples, as FFmpeg's 3×3 `dilation` and `erosion` take on every plane.

use super::ParamSpec;
use super::{chosen_planes, planes_param, Args, Default, FilterKind, FilterSpec, ParamKind};
use crate::frame::Format;
use crate::op::{Op, Planes, Rank, RankOf};

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
        let (sh, sv) = format.layout.shift(p);
        Some(Rank {
            rx: radius.div_ceil(1 << sh),
            ry: radius.div_ceil(1 << sv),
            of,
        })
    }))])
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
