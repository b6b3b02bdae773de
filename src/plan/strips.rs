//! A plan run over horizontal strips of its frame: what the streaming still path and the GPU's
//! tiles of a frame too large for one binding both do.
//!
//! [`Plan::strip`] answers, for a band of output rows, which input rows it reads (its halo:
//! each stencil's vertical reach, a resample's taps, a crop's offset, added up backwards
//! through the passes) and a plan that makes exactly those output rows from a frame of exactly
//! those input rows. The strip's passes are the whole plan's with sizes cut to the strip: a
//! stencil runs over every row it is given (the rows near a strip's cut edges come out wrong
//! and are never kept, the halo being wide enough that no kept row reads them), a resample
//! keeps its weights and reads its taps from the strip's rows, a crop moves its origin, an
//! overlay its placement. A kept row is then computed from the same samples with the same
//! arithmetic as in the whole picture, so strips give the whole plan's samples exactly; where
//! a strip reaches the picture's top or bottom, its edge is the picture's and is clamped alike.
//!
//! A translation (pad, and fit's canvas) moves its offset. What cannot be cut this way is
//! refused with the reason ([`Plan::strips_refused`]): a rotation or a transposition reads
//! rows far from the ones it writes, a vertical flip writes the last row first, and a temporal
//! op keeps whole frames. A `pixel` expression of `y` (vignette, grain, drawbox) reads its
//! strip's first row from a uniform ([`crate::pixel::PixelProgram::row_origin`]).

use std::ops::Range;
use std::sync::Arc;

use super::{Pass, PassKind, Plan};
use crate::frame::{Format, Frame};
use crate::op::{reach_of, PerPlane, PointOp, Resample, ResampleTable, Warp};

/// One band of output rows and how to make it.
#[derive(Clone, Debug)]
pub struct Strip {
    /// The input rows (luma) the band reads.
    pub input: Range<u32>,
    /// Takes a frame of those input rows to a frame whose rows `keep` are the band.
    pub plan: Plan,
    /// The rows of the strip plan's output that are the band.
    pub keep: Range<u32>,
    /// The band: output rows (luma).
    pub output: Range<u32>,
}

/// Rows a strip's bounds keep to in `format`: its vertical chroma subsampling.
fn step(format: &Format) -> u32 {
    (0..format.planes())
        .map(|p| 1 << format.layout.shift(p).1)
        .max()
        .unwrap_or(1)
}

/// `rows` widened to whole rows of `format`'s subsampled chroma, within its height.
fn aligned(rows: Range<u32>, format: &Format) -> Range<u32> {
    let s = step(format);
    (rows.start / s * s)..rows.end.div_ceil(s).saturating_mul(s).min(format.height)
}

/// Plane `p`'s rows for luma rows `rows` of `format`.
fn plane_rows(format: &Format, p: usize, rows: &Range<u32>) -> Range<u32> {
    let r = Frame::plane_rows(format, p, rows);
    r.start as u32..r.end as u32
}

impl Plan {
    /// Why the plan cannot run in strips; `None` when it can.
    pub fn strips_refused(&self) -> Option<&'static str> {
        self.passes.iter().find_map(|pass| match &pass.kind {
            PassKind::Warp(planes) if !planes.iter().flatten().all(translates) => {
                Some("a rotation reads rows far from the ones it writes")
            }
            PassKind::Temporal(_) => Some("a temporal filter keeps whole frames"),
            PassKind::Remap {
                transpose: true, ..
            } => Some("a transposition reads columns as rows"),
            PassKind::Remap { flip_v: true, .. } => {
                Some("a vertical flip writes the last row first")
            }
            _ => None,
        })
    }

    /// The rows a strip's output band starts and ends on (but for the last band, which ends
    /// at the picture's bottom): the output's vertical chroma subsampling.
    pub fn strip_step(&self) -> u32 {
        step(&self.output)
    }

    /// The input rows output rows `rows` read, and the plan that makes them. `rows` starts on a
    /// multiple of [`Plan::strip_step`] and ends on one or at the output's height; the plan
    /// must run in strips ([`Plan::strips_refused`]).
    pub fn strip(&self, rows: Range<u32>) -> Strip {
        debug_assert!(self.strips_refused().is_none());
        let output = aligned(rows.clone(), &self.output);
        // Backwards: the output rows each pass must make, and the input rows they read.
        let mut needs = vec![output.clone(); self.passes.len()];
        let mut need = output.clone();
        for (k, pass) in self.passes.iter().enumerate().rev() {
            needs[k] = need.clone();
            need = aligned(input_rows(pass, &need), &pass.input);
        }
        let input = if self.passes.is_empty() {
            output.clone()
        } else {
            need
        };
        // Forwards: each pass cut to the rows it is given.
        let mut have = input.clone();
        let mut passes = Vec::with_capacity(self.passes.len());
        for (pass, need) in self.passes.iter().zip(&needs) {
            let (cut, made) = cut_pass(pass, &have, need);
            passes.push(cut);
            have = made;
        }
        let keep = (output.start - have.start)..(output.end - have.start);
        Strip {
            plan: Plan {
                input: self
                    .input
                    .with_size(self.input.width, input.end - input.start),
                output: self
                    .output
                    .with_size(self.output.width, have.end - have.start),
                passes,
            },
            input,
            keep,
            output,
        }
    }
}

/// The input rows (luma) output rows `need` of `pass` read.
fn input_rows(pass: &Pass, need: &Range<u32>) -> Range<u32> {
    let (input, output) = (&pass.input, &pass.output);
    let widened = |reach: &dyn Fn(usize) -> u32| {
        let r = (0..input.planes())
            .map(|p| reach(p) << input.layout.shift(p).1)
            .max()
            .unwrap_or(0);
        need.start.saturating_sub(r)..need.end.saturating_add(r).min(input.height)
    };
    match &pass.kind {
        PassKind::Pointwise(_) => need.clone(),
        PassKind::Blur(planes) | PassKind::Unsharp { planes, .. } => {
            widened(&|p| reach_of(planes, p).1)
        }
        PassKind::Convolve(planes) => widened(&|p| reach_of(planes, p).1),
        PassKind::Gradient(planes) => widened(&|p| reach_of(planes, p).1),
        PassKind::Rank(planes) => widened(&|p| reach_of(planes, p).1),
        PassKind::Bilateral(planes) => widened(&|p| reach_of(planes, p).1),
        PassKind::Denoise(planes) => widened(&|p| reach_of(planes, p).1),
        PassKind::Remap { y, .. } => (need.start + y)..(need.end + y),
        PassKind::Resample(planes) => {
            let mut lo = u32::MAX;
            let mut hi = 0;
            for (p, table) in planes.iter().enumerate().take(input.planes()) {
                let v = input.layout.shift(p).1;
                let rows = match table {
                    // A plane without a table keeps its samples, and its size.
                    None => need.clone(),
                    Some(r) => {
                        let (_, ih) = input.plane_size(p);
                        let t = &r.v;
                        let out = plane_rows(output, p, need);
                        let taps = t.taps as i64;
                        let (first, last) = out.fold((i64::MAX, i64::MIN), |(a, b), i| {
                            let s = t.starts[i as usize] as i64;
                            (a.min(s), b.max(s + taps - 1))
                        });
                        if first > last {
                            continue;
                        }
                        let clamp = |y: i64| y.clamp(0, ih as i64 - 1) as u32;
                        (clamp(first) << v)..((clamp(last) + 1) << v).min(input.height)
                    }
                };
                lo = lo.min(rows.start);
                hi = hi.max(rows.end);
            }
            if lo >= hi {
                need.clone()
            } else {
                lo..hi
            }
        }
        PassKind::Warp(planes) => {
            let mut lo = u32::MAX;
            let mut hi = 0;
            for (p, warp) in planes.iter().enumerate().take(input.planes()) {
                let Some(warp) = warp else { continue };
                let v = input.layout.shift(p).1;
                let (_, ih) = input.plane_size(p);
                let out = plane_rows(output, p, need);
                if out.is_empty() {
                    continue;
                }
                // Rows as the backends compute them (f32), the taps a row before to two after
                // (bicubic's), and a row more each side for safety.
                let row = |y: u32| warp.source(0.0, y as f32).1.floor() as i64;
                let (first, last) = (row(out.start) - 2, row(out.end - 1) + 3);
                let clamp = |y: i64| y.clamp(0, ih as i64 - 1) as u32;
                lo = lo.min(clamp(first) << v);
                hi = hi.max(((clamp(last) + 1) << v).min(input.height));
            }
            if lo >= hi {
                0..input.height.min(1)
            } else {
                lo..hi
            }
        }
        PassKind::Temporal(_) => 0..input.height,
    }
}

/// True when a warp moves rows whole: a translation, whose output row `y` reads input rows
/// around `y + m[5]` whatever the column.
fn translates(warp: &Warp) -> bool {
    let m = &warp.matrix;
    m[0] == 1.0 && m[1] == 0.0 && m[3] == 0.0 && m[4] == 1.0
}

/// `pass` cut to run on input rows `have` and make (at least) output rows `need`: the cut
/// pass and the output rows it makes.
fn cut_pass(pass: &Pass, have: &Range<u32>, need: &Range<u32>) -> (Pass, Range<u32>) {
    let rows = have.end - have.start;
    let input = pass.input.with_size(pass.input.width, rows);
    let same_rows = |kind: PassKind| {
        (
            Pass {
                kind,
                input,
                output: pass.output.with_size(pass.output.width, rows),
            },
            have.clone(),
        )
    };
    let exact_rows = |kind: PassKind| {
        (
            Pass {
                kind,
                input,
                output: pass
                    .output
                    .with_size(pass.output.width, need.end - need.start),
            },
            need.clone(),
        )
    };
    match &pass.kind {
        PassKind::Pointwise(ops) => {
            let ops = ops
                .iter()
                .map(|op| match op {
                    PointOp::Overlay { picture, at } => {
                        let mut at = *at;
                        at.y -= have.start as i32;
                        PointOp::Overlay {
                            picture: picture.clone(),
                            at,
                        }
                    }
                    PointOp::Pixel { program, uniforms } => {
                        let mut uniforms = uniforms.clone();
                        if let Some(u) = program.row_origin() {
                            uniforms[u] += have.start as f32;
                        }
                        PointOp::Pixel {
                            program: program.clone(),
                            uniforms,
                        }
                    }
                    op => op.clone(),
                })
                .collect();
            same_rows(PassKind::Pointwise(ops))
        }
        PassKind::Remap {
            x,
            y,
            flip_h,
            flip_v,
            transpose,
        } => exact_rows(PassKind::Remap {
            x: *x,
            y: need.start + y - have.start,
            flip_h: *flip_h,
            flip_v: *flip_v,
            transpose: *transpose,
        }),
        PassKind::Resample(planes) => {
            let cut: PerPlane<Resample> = std::array::from_fn(|p| {
                let r = planes[p].as_ref()?;
                if p >= pass.input.planes() {
                    return None;
                }
                let first = plane_rows(&pass.input, p, have).start as i32;
                let out = plane_rows(&pass.output, p, need);
                let t = &r.v;
                let taps = t.taps as usize;
                let (a, b) = (out.start as usize, out.end as usize);
                Some(Resample {
                    h: r.h.clone(),
                    v: Arc::new(ResampleTable {
                        taps: t.taps,
                        starts: t.starts[a..b].iter().map(|s| s - first).collect(),
                        weights: t.weights[a * taps..b * taps].to_vec(),
                    }),
                })
            });
            exact_rows(PassKind::Resample(cut))
        }
        PassKind::Warp(planes) => {
            // Output row y′ of the strip is the picture's row y′ + o, input row y of the
            // picture the strip's y − h: exact moves of the offset, whole numbers in f32.
            let cut: PerPlane<Warp> = std::array::from_fn(|p| {
                let warp = planes[p].as_ref()?;
                if p >= pass.input.planes() {
                    return None;
                }
                let o = plane_rows(&pass.output, p, need).start as f32;
                let h = plane_rows(&pass.input, p, have).start as f32;
                let mut warp = warp.clone();
                warp.matrix[5] += o - h;
                Some(warp)
            });
            exact_rows(PassKind::Warp(cut))
        }
        kind => same_rows(kind.clone()),
    }
}

/// Runs `plan` over `frame` in bands of about `rows` output rows, each band's strip through
/// `run` (a backend's `process`), and puts the bands together: the whole plan's frame.
pub fn run_in_strips<E>(
    plan: &Plan,
    frame: &Frame,
    rows: u32,
    mut run: impl FnMut(&Plan, Frame) -> Result<Frame, E>,
) -> Result<Frame, E> {
    let step = plan.strip_step();
    let rows = rows.max(1).div_ceil(step) * step;
    let mut out = Frame::new(plan.output);
    let mut y = 0;
    while y < plan.output.height {
        let strip = plan.strip(y..(y + rows).min(plan.output.height));
        let made = run(&strip.plan, frame.rows(strip.input.clone()))?;
        out.put_rows(strip.output.start, &made, strip.keep.clone());
        y = strip.output.end;
    }
    (out.index, out.pts) = (frame.index, frame.pts);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::CpuBackend;
    use crate::backend::Backend;
    use crate::chain::Chain;
    use crate::frame::{Layout, Samples};

    fn noise(format: Format, seed: u64) -> Frame {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let top = format.max_code() as u64;
        let planes = (0..format.planes())
            .map(|p| {
                let n = format.plane_len(p);
                if format.is_wide() {
                    Samples::U16((0..n).map(|_| (next() % (top + 1)) as u16).collect())
                } else {
                    Samples::U8((0..n).map(|_| next() as u8).collect())
                }
            })
            .collect();
        Frame::from_planes(format, planes)
    }

    #[test]
    fn strips_give_the_whole_plans_samples() {
        let mut cpu = CpuBackend::new();
        let mut ran = 0;
        let formats = [
            Format::rgb(37, 61, 8, false),
            Format::rgb(23, 45, 16, true),
            Format::new(
                31,
                53,
                Layout::YUV420,
                10,
                crate::frame::Colour::video(crate::frame::Matrix::Bt709, false),
            ),
        ];
        for text in [
            "gblur(2)",
            "gblur(2) | unsharp(1.5) | median(2)",
            "crop(x=2, y=6, width=20, height=30) | boxblur(1)",
            "scale(width=17, height=29, filter=lanczos3) | convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])",
            "scale(height=120, filter=bicubic) | sobel",
            "eq(contrast=1.2) | bilateral | hflip",
        ] {
            let chain = Chain::parse(text).unwrap();
            for format in &formats {
                let plan = super::super::compile(&chain, format)
                    .unwrap_or_else(|e| panic!("{text} on {}: {e}", format.describe()));
                ran += 1;
                let frame = noise(*format, 7);
                let whole = cpu.process(&plan, frame.clone()).unwrap();
                for rows in [1, 2, 5, 16] {
                    let strips =
                        run_in_strips(&plan, &frame, rows, |p, f| cpu.process(p, f)).unwrap();
                    assert_eq!(
                        strips.plane_diffs(&whole),
                        Some(vec![0; plan.output.planes()]),
                        "{text} on {} in strips of {rows}",
                        format.describe()
                    );
                }
            }
        }
        assert_eq!(ran, 18);
    }
}
