//! Temporal filters: tmix and hqdn3d, as FFmpeg's, each plane computed from this frame and past
//! ones the backend keeps for the stage ([`Op::Temporal`]; how trims, time ranges and skipped
//! frames meet a history is said in `op/temporal.rs`). On a still picture each sees one frame:
//! tmix leaves it as it is, hqdn3d denoises it spatially.

use std::sync::Arc;

use super::ParamSpec;
use super::{chosen_planes, planes_param, Args, Default, FilterKind, FilterSpec, ParamKind};
use crate::frame::{Format, Role};
use crate::op::{Denoise3d, Mix, Op, Planes, Temporal, TemporalKind, HISTORY_LIMIT};

/// The numbers of a weights list: separated by spaces (FFmpeg's) or commas.
fn numbers(text: &str) -> Result<Vec<f64>, String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err("no weights".into());
    }
    words
        .iter()
        .map(|w| match w.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(format!("`{w}` is not a number")),
        })
        .collect()
}

fn check_weights(text: &str) -> Result<(), String> {
    numbers(text).map(|_| ())
}

const TMIX_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "frames",
        kind: ParamKind::Int { min: 1, max: 1024 },
        default: Default::Int(3),
        unit: Some("frames"),
        doc: "how many frames to mix: this one and the frames - 1 before it",
    },
    ParamSpec {
        name: "weights",
        kind: ParamKind::Text {
            what: "numbers \"w w w …\", oldest frame first",
            check: check_weights,
        },
        default: Default::Str("1 1 1"),
        unit: None,
        doc: "each frame's weight, oldest first; the last one given serves the frames left",
    },
    ParamSpec {
        name: "scale",
        kind: ParamKind::Float {
            min: 0.0,
            max: 32767.0,
        },
        default: Default::Float(0.0),
        unit: None,
        doc: "what the weighted sum is multiplied by; 0 divides it by the weights' sum",
    },
    planes_param(Default::Auto("all")),
];

fn lower_tmix(args: &Args, format: &Format) -> Result<Vec<Op>, String> {
    let frames = args.int("frames") as usize;
    let given = numbers(args.string("weights"))?;
    let mut weights: Vec<f32> = given.iter().take(frames).map(|&w| w as f32).collect();
    let last = *weights.last().unwrap_or(&1.0);
    weights.resize(frames, last);
    let scale = match args.float("scale") {
        s if s > 0.0 => s as f32,
        _ => {
            let sum: f64 = weights.iter().map(|&w| w as f64).sum();
            if sum == 0.0 {
                return Err(format!(
                    "the weights \"{}\" add up to 0: give a scale",
                    args.string("weights")
                ));
            }
            (1.0 / sum) as f32
        }
    };
    let planes = chosen_planes(args.optional("planes"), format, Planes::all(format))?;
    if frames == 1 {
        return Ok(Vec::new());
    }
    let mix = Arc::new(Mix { weights, scale });
    let op = Temporal {
        id: 0,
        planes: std::array::from_fn(|p| {
            (p < format.planes() && planes.contains(p)).then(|| TemporalKind::Mix(mix.clone()))
        }),
    };
    within_limit(&op, format, "frames")?;
    Ok(vec![Op::Temporal(op)])
}

/// An error when `op` would keep more history than [`HISTORY_LIMIT`].
fn within_limit(op: &Temporal, format: &Format, param: &str) -> Result<(), String> {
    let bytes = op.history_bytes(|p| format.plane_size(p));
    if bytes > HISTORY_LIMIT {
        return Err(format!(
            "keeping its past frames of {} would take {} MiB, more than the {} MiB a filter \
             may keep: use a smaller `{param}`",
            format.describe(),
            bytes >> 20,
            HISTORY_LIMIT >> 20
        ));
    }
    Ok(())
}

pub static TMIX: FilterSpec = FilterSpec {
    name: "tmix",
    kind: FilterKind::Temporal,
    description: "FFmpeg's tmix: each frame the weighted mix of itself and the frames - 1 \
                  before it (motion blur, frame blending), rounded to the nearest code; before \
                  that many frames have come the first frame stands in for the missing ones, \
                  so there is a frame out for each frame in, as FFmpeg 5.1 gives. Keeps \
                  frames - 1 past planes: the frame's codes on the CPU (f32 after another \
                  filter, and on the GPU), at most 2 GiB",
    params: TMIX_PARAMS,
    lower: |args, format, _| lower_tmix(args, format),
    examples: &[
        "tmix",
        "tmix(frames=5, weights=\"1 2 3 2 1\")",
        "tmix(2, \"3 1\", scale=0.25)",
        "tmix(4, planes=\"y\")",
    ],
};

const HQDN3D_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "luma_spatial",
        kind: ParamKind::Float {
            min: 0.0,
            max: 255.0,
        },
        default: Default::Float(4.0),
        unit: None,
        doc: "spatial strength on luma (and on R′G′B′ and grey); 0 turns it off",
    },
    ParamSpec {
        name: "chroma_spatial",
        kind: ParamKind::Float {
            min: 0.0,
            max: 255.0,
        },
        default: Default::Auto("3/4 of luma_spatial"),
        unit: None,
        doc: "spatial strength on chroma",
    },
    ParamSpec {
        name: "luma_tmp",
        kind: ParamKind::Float {
            min: 0.0,
            max: 255.0,
        },
        default: Default::Auto("1.5 × luma_spatial"),
        unit: None,
        doc: "temporal strength on luma; 0 makes it a spatial denoiser",
    },
    ParamSpec {
        name: "chroma_tmp",
        kind: ParamKind::Float {
            min: 0.0,
            max: 255.0,
        },
        default: Default::Auto("luma_tmp × chroma_spatial / luma_spatial"),
        unit: None,
        doc: "temporal strength on chroma",
    },
];

fn lower_hqdn3d(args: &Args, format: &Format) -> Result<Vec<Op>, String> {
    let given = |name: &str| args.optional(name).map(|_| args.float(name));
    let luma_spatial = args.float("luma_spatial");
    let chroma_spatial = given("chroma_spatial").unwrap_or(0.75 * luma_spatial);
    let luma_tmp = given("luma_tmp").unwrap_or(1.5 * luma_spatial);
    let chroma_tmp = given("chroma_tmp").unwrap_or(if luma_spatial > 0.0 {
        luma_tmp * chroma_spatial / luma_spatial
    } else {
        0.0
    });
    let bits = format.bits as u32;
    let luma = Arc::new(Denoise3d::new(luma_spatial, luma_tmp, bits));
    let chroma = Arc::new(Denoise3d::new(chroma_spatial, chroma_tmp, bits));
    let op = Temporal {
        id: 0,
        planes: std::array::from_fn(|p| {
            if p >= format.planes() {
                return None;
            }
            match format.role(p) {
                Role::Alpha => None,
                Role::Cb | Role::Cr => Some(TemporalKind::Denoise(chroma.clone())),
                _ => Some(TemporalKind::Denoise(luma.clone())),
            }
        }),
    };
    Ok(vec![Op::Temporal(op)])
}

pub static HQDN3D: FilterSpec = FilterSpec {
    name: "hqdn3d",
    kind: FilterKind::Temporal,
    description: "FFmpeg's hqdn3d, a fast 3-D denoiser: recursive low-passes along rows, down \
                  columns and through time against the last output, in FFmpeg's 16-bit fixed \
                  point (code for code with FFmpeg on 8- and 10-bit Y′CbCr). R′G′B′ planes take \
                  the luma strengths; alpha is left as it is. Differs from FFmpeg: a strength \
                  of 0 turns its part off (FFmpeg takes 0 as the default); strengths stop at \
                  255 (FFmpeg's tables stop at 252)",
    params: HQDN3D_PARAMS,
    lower: |args, format, _| lower_hqdn3d(args, format),
    examples: &[
        "hqdn3d",
        "hqdn3d(2, 1.5, 3, 2.25)",
        "hqdn3d(luma_spatial=6, luma_tmp=0)",
        "hqdn3d(0, 0, 8, 8)",
    ],
};

#[cfg(test)]
mod tests {
    use super::numbers;

    #[test]
    fn weights_are_numbers_between_spaces_or_commas() {
        assert_eq!(numbers("1 2  3").unwrap(), vec![1.0, 2.0, 3.0]);
        assert_eq!(numbers("1,0.5, -1").unwrap(), vec![1.0, 0.5, -1.0]);
        assert!(numbers("").is_err());
        assert!(numbers("1 x").unwrap_err().contains("`x`"));
        assert!(numbers("nan").is_err());
    }
}
