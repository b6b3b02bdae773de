//! denoise: non-local means ([`Op::Denoise`]), FFmpeg's nlmeans with its parameters' names and
//! meanings, and smaller windows by default so that it is fast.
//!
//! `strength` is nlmeans' `s` (h = 10·s in 8-bit units; deeper planes have their patch
//! distances scaled to 8-bit units, so a strength means the same at every depth); `p` and `r`
//! are nlmeans' patch and research sizes in luma pixels. Subsampled chroma takes the smallest
//! odd sizes that cover luma's, ceil(half-size / 2) samples each side on 4:2:0 (FFmpeg gives
//! chroma luma's sizes unless told `pc` and `rc`). Colour planes by default, alpha untouched.

use super::{
    chosen_planes, planes_param, Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec,
};
use crate::frame::Format;
use crate::op::{Denoise, Op, Planes};
use crate::plan::FrameTime;

pub static DENOISE: FilterSpec = FilterSpec {
    name: "denoise",
    kind: FilterKind::Stencil,
    description: "Non-local means, FFmpeg's nlmeans: each sample the mean of its r×r research \
                  window weighted by exp(−(patch distance)/h²), h = 10·strength (nlmeans' s), \
                  over p×p patches; p=3, r=7 by default for speed (nlmeans' are 7 and 15, \
                  which it takes too); chroma's sizes cover luma's (3 and 5 on 4:2:0); colour \
                  planes by default",
    params: &[
        ParamSpec {
            name: "strength",
            kind: ParamKind::Float {
                min: 1.0,
                max: 30.0,
            },
            default: Default::Float(1.0),
            unit: None,
            doc: "denoising strength, FFmpeg nlmeans' s: h = 10·strength in 8-bit units",
        },
        ParamSpec {
            name: "p",
            kind: ParamKind::Int { min: 1, max: 99 },
            default: Default::Int(3),
            unit: Some("pixels"),
            doc: "patch size, odd",
        },
        ParamSpec {
            name: "r",
            kind: ParamKind::Int { min: 1, max: 99 },
            default: Default::Int(7),
            unit: Some("pixels"),
            doc: "research window size, odd",
        },
        planes_param(Default::Auto("the colour planes (alpha untouched)")),
    ],
    lower: lower_denoise,
    examples: &[
        "denoise",
        "denoise(4)",
        "denoise(strength=8, p=5, r=9)",
        "denoise(2, planes=\"y\")",
    ],
};

fn lower_denoise(args: &Args, format: &Format, _time: &FrameTime) -> Result<Vec<Op>, String> {
    let strength = args.float("strength");
    let half = |name: &str| -> Result<u32, String> {
        let size = args.int(name);
        if size % 2 == 0 {
            return Err(format!("{name}={size} is even (expected an odd size)"));
        }
        Ok(size as u32 / 2)
    };
    let (patch, research) = (half("p")?, half("r")?);
    let colour = (0..format.layout.colour_planes()).fold(Planes::NONE, Planes::with);
    let planes = chosen_planes(args.optional("planes"), format, colour)?;
    let h = 10.0 * strength;
    let unit = 0.25f64.powi(format.bits as i32 - 8);
    Ok(vec![Op::Denoise(std::array::from_fn(|p| {
        if p >= format.planes() || !planes.contains(p) {
            return None;
        }
        let (sh, sv) = format.layout.shift(p);
        let cover = |half: u32, shift: u8| half.div_ceil(1 << shift);
        Some(Denoise {
            rx: cover(research, sh),
            ry: cover(research, sv),
            px: cover(patch, sh),
            py: cover(patch, sv),
            inv_h2: (1.0 / (h * h)) as f32,
            cutoff: (255f64.ln() * h * h).floor() as f32,
            unit: unit as f32,
        })
    }))])
}
