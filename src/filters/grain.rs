//! `grain`: film grain, the same on both backends and the same again for the same seed and
//! frame index, new at every frame.
//!
//! Each pixel gets `strength · (u₁ + u₂ − 1)`, a triangular random value in −strength..strength
//! made of two [`crate::pixel::noise`] values of the pixel's position and of keys drawn from the
//! seed and the frame index. The noise is integer hashing, so the GPU computes the same bits as
//! the CPU. Without `color` the same value goes to R′, G′ and B′ (luma grain, as film's silver
//! grain), which on a Y′CbCr frame changes luma and leaves chroma as it was; with it each channel
//! has its own.

use std::sync::{Arc, OnceLock};

use super::{Args, Default, FilterKind, FilterSpec, ParamKind, ParamSpec};
use crate::chain::parse_expr;
use crate::frame::Format;
use crate::op::{Op, PointOp};
use crate::pixel::PixelProgram;
use crate::plan::FrameTime;

pub static GRAIN: FilterSpec = FilterSpec {
    name: "grain",
    kind: FilterKind::Pointwise,
    description: "Film grain: a random value in −strength..strength added to each pixel, new at \
                  every frame and the same again for the same seed; luma grain, or per channel \
                  with color=true (FFmpeg's noise filter is the nearest, in code values)",
    params: &[
        ParamSpec {
            name: "strength",
            kind: ParamKind::Float { min: 0.0, max: 1.0 },
            default: Default::Float(0.05),
            unit: None,
            doc: "the largest change, as a fraction of full scale (triangular distribution)",
        },
        ParamSpec {
            name: "seed",
            kind: ParamKind::Int {
                min: 0,
                max: 1 << 20,
            },
            default: Default::Int(0),
            unit: None,
            doc: "another seed gives other grain",
        },
        ParamSpec {
            name: "color",
            kind: ParamKind::Bool,
            default: Default::Bool(false),
            unit: None,
            doc: "grain of its own in each of R′, G′ and B′ instead of luma grain",
        },
    ],
    lower: lower_grain,
    examples: &[
        "grain(strength=0.08)",
        "grain",
        "grain(strength=0.2, seed=7, color=true)",
        "grain(strength=0.1 * t)",
    ],
};

/// The program's text: `k0`…`k5` are the keys of this frame (uniforms), `s` the strength.
fn text(color: bool) -> String {
    let at = "noise(x, y) * 16777216";
    let tri = |a: usize, b: usize| format!("(noise({at}, k{a}) + noise({at}, k{b}) - 1)");
    if color {
        let [r, g, b] = [tri(0, 1), tri(2, 3), tri(4, 5)];
        format!("r + s * {r};g + s * {g};b + s * {b}")
    } else {
        let v = tri(0, 1);
        format!("r + s * {v};g + s * {v};b + s * {v}")
    }
}

fn program(color: bool) -> Arc<PixelProgram> {
    static PROGRAMS: [OnceLock<Arc<PixelProgram>>; 2] = [OnceLock::new(), OnceLock::new()];
    PROGRAMS[color as usize]
        .get_or_init(|| {
            let text = text(color);
            let exprs: Vec<_> = text
                .split(';')
                .map(|e| parse_expr(e, 0).expect("grain's program parses"))
                .collect();
            // Unclamped: adding the same value to R′, G′ and B′ moves luma alone, so a
            // Y′CbCr pixel outside the RGB cube keeps its chroma; the planes clamp the result.
            let channels = [Some(&exprs[0]), Some(&exprs[1]), Some(&exprs[2]), None];
            let program = PixelProgram::compile_clamped(channels, [false; 4])
                .expect("grain's program compiles");
            Arc::new(program)
        })
        .clone()
}

/// The keys of frame `n` for `seed`: whole numbers below 2²⁴, so that f32 holds them exactly.
fn keys(seed: i64, n: u64) -> [f64; 6] {
    let base = (seed as u64)
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(n.wrapping_mul(6));
    std::array::from_fn(|k| (base.wrapping_add(k as u64) & 0xff_ffff) as f64)
}

fn lower_grain(args: &Args, _format: &Format, time: &FrameTime) -> Result<Vec<Op>, String> {
    let strength = args.float("strength");
    if strength == 0.0 {
        return Ok(Vec::new());
    }
    let program = program(args.boolean("color"));
    let keys = keys(args.int("seed"), time.n);
    let uniforms = program.uniform_values(&|name| match name {
        "s" => strength,
        k if k.starts_with('k') => k[1..].parse::<usize>().map_or(f64::NAN, |i| keys[i]),
        _ => f64::NAN,
    })?;
    Ok(vec![Op::Point(PointOp::Pixel { program, uniforms })])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_frame_and_seed_and_stay_exact_in_f32() {
        let a = keys(0, 0);
        let b = keys(0, 1);
        let c = keys(1, 0);
        assert_ne!(a, b);
        assert_ne!(a, c);
        for k in a
            .iter()
            .chain(&b)
            .chain(&c)
            .chain(&keys(1 << 20, u32::MAX as u64))
        {
            assert_eq!(*k as f32 as f64, *k);
        }
    }

    #[test]
    fn both_programs_compile() {
        assert!(!program(false).is_identity());
        assert!(!program(true).is_identity());
    }
}
