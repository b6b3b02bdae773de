//! bilateral: an edge-preserving average ([`Op::Bilateral`]), the exact filter over a window
//! rather than FFmpeg's recursive approximation of it.
//!
//! `sigmaS` is the spatial Gaussian's σ in luma pixels (σ/2 on subsampled chroma, as the blurs),
//! the window reaching ceil(2σ) samples each side; `sigmaR` the range Gaussian's σ as a fraction
//! of the plane's code range, as FFmpeg's `sigmaR`. Only luma by default, as FFmpeg.

use super::{
    chosen_planes, planes_param, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec,
};
use crate::frame::Format;
use crate::op::{Bilateral, Op, Planes};
use crate::plan::FrameTime;

pub static BILATERAL: FilterSpec = FilterSpec {
    name: "bilateral",
    kind: FilterKind::Stencil,
    description: "Edge-preserving blur: each sample the mean of its window weighted by a \
                  Gaussian of distance (sigmaS pixels, window ceil(2·sigmaS)) and of \
                  difference (sigmaR of the code range); luma only by default, as FFmpeg's. \
                  Exact, where FFmpeg's is a recursive approximation whose sigmaS is a decay \
                  rate and whose range weight is exponential",
    params: &[
        ParamSpec {
            name: "sigmaS",
            kind: ParamKind::Float { min: 0.1, max: 8.0 },
            default: Default::Float(2.0),
            unit: Some("pixels"),
            doc: "spatial standard deviation",
        },
        ParamSpec {
            name: "sigmaR",
            kind: ParamKind::Float {
                min: 0.001,
                max: 1.0,
            },
            default: Default::Float(0.1),
            unit: None,
            doc: "range standard deviation, as a fraction of the code range",
        },
        planes_param(Default::Auto("y (the first plane)")),
    ],
    lower: lower_bilateral,
    examples: &[
        "bilateral",
        "bilateral(sigmaS=3, sigmaR=0.05)",
        "bilateral(1, 0.3, planes=\"all\")",
    ],
};

fn lower_bilateral(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let sigma = args.float("sigmaS");
    let range = args.float("sigmaR") * format.max_code() as f64;
    let planes = chosen_planes(args.optional("planes"), format, Planes::NONE.with(0))?;
    Ok(vec![Op::Bilateral(std::array::from_fn(|p| {
        if p >= format.planes() || !planes.contains(p) {
            return None;
        }
        let (sh, sv) = format.layout.shift(p);
        let (sx, sy) = (sigma / (1 << sh) as f64, sigma / (1 << sv) as f64);
        let inv = |s: f64| (1.0 / (2.0 * s * s)) as f32;
        Some(Bilateral {
            rx: (2.0 * sx).ceil() as u32,
            ry: (2.0 * sy).ceil() as u32,
            space: (inv(sx), inv(sy)),
            range: inv(range),
        })
    }))])
}
