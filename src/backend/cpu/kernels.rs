//! Row kernels of the CPU backend. Each writes one output row of interleaved RGBA f32 from a
//! window of input rows, so the executor can run a strip of rows through every pass while it is
//! in cache; inner loops run over contiguous slices so that the compiler vectorises them.

use super::pixel::Registers;
use super::simd::{self, Isa};
use crate::pixel::INPUTS;
use crate::plan::{eq_curve, eq_rgb, luma, PointOp};

/// Interleaved RGBA f32 samples of the rows `first ..` of a frame `height` rows tall.
pub struct Image<'a> {
    pub data: &'a [f32],
    pub width: usize,
    pub height: usize,
    pub first: usize,
}

impl Image<'_> {
    /// Row `y` of the frame, clamped to its edges; the window must hold the clamped row.
    #[inline(always)]
    pub fn row(&self, y: isize) -> &[f32] {
        let y = y.clamp(0, self.height as isize - 1) as usize - self.first;
        &self.data[y * self.width * 4..(y + 1) * self.width * 4]
    }
}

/// Pixels in one block of pointwise work on a frame's own samples.
pub const PLANE_LEN: usize = 1024;

/// What the pixel ops of a fused pointwise pass need besides the colour planes; built-in ops
/// need none of it, so their passes load and store exactly what they did before `pixel`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PointNeeds {
    /// Alpha is loaded into its plane.
    pub alpha: bool,
    /// Alpha is stored back.
    pub alpha_written: bool,
    /// The x and y planes hold each pixel's position.
    pub coordinates: bool,
}

impl PointNeeds {
    pub fn of(ops: &[PointOp]) -> PointNeeds {
        let mut needs = PointNeeds::default();
        for p in ops.iter().filter_map(PointOp::pixel_program) {
            needs.alpha |= p.uses_alpha();
            needs.alpha_written |= p.writes_alpha();
            needs.coordinates |= p.uses_coordinates();
        }
        needs
    }
}

/// Scratch space of pointwise work on a block or a row: planes of r, g, b, a, x and y (one
/// block's, 24 KiB, stays in the L1 cache), and the registers of pixel programs.
#[derive(Default)]
pub struct PointScratch {
    planes: Vec<f32>,
    regs: Registers,
}

impl PointScratch {
    /// The six planes for `n` pixels and the registers.
    #[inline(always)]
    pub fn planes(&mut self, n: usize) -> ([&mut [f32]; INPUTS], &mut Registers) {
        if self.planes.len() < INPUTS * n {
            self.planes.resize(INPUTS * n, 0.0);
        }
        let (r, rest) = self.planes.split_at_mut(n);
        let (g, rest) = rest.split_at_mut(n);
        let (b, rest) = rest.split_at_mut(n);
        let (a, rest) = rest.split_at_mut(n);
        let (x, rest) = rest.split_at_mut(n);
        let y = &mut rest[..n];
        ([r, g, b, a, x, y], &mut self.regs)
    }
}

#[inline(always)]
fn clamp01(row: &mut [f32]) {
    for v in row {
        *v = v.clamp(0.0, 1.0);
    }
}

/// A fused run of pointwise ops over row `y` of interleaved RGBA. The channels are split into
/// planes for [`pointwise_planes`]; alpha only when a pixel op reads or writes it.
#[inline(always)]
pub fn pointwise(
    isa: Isa,
    ops: &[PointOp],
    needs: PointNeeds,
    row: &mut [f32],
    y: usize,
    scratch: &mut PointScratch,
) {
    let n = row.len() / 4;
    let ([r, g, b, a, xs, ys], regs) = scratch.planes(n);
    for (((px, r), g), b) in row
        .chunks_exact(4)
        .zip(r.iter_mut())
        .zip(g.iter_mut())
        .zip(b.iter_mut())
    {
        (*r, *g, *b) = (px[0], px[1], px[2]);
    }
    if needs.alpha {
        for (px, a) in row.chunks_exact(4).zip(a.iter_mut()) {
            *a = px[3];
        }
    }
    if needs.coordinates {
        coordinates(y * n, n, xs, ys);
    }
    pointwise_planes(isa, ops, [&mut *r, &mut *g, &mut *b, &mut *a, xs, ys], regs);
    for (((px, r), g), b) in row
        .chunks_exact_mut(4)
        .zip(r.iter())
        .zip(g.iter())
        .zip(b.iter())
    {
        (px[0], px[1], px[2]) = (*r, *g, *b);
    }
    if needs.alpha_written {
        for (px, a) in row.chunks_exact_mut(4).zip(a.iter()) {
            px[3] = *a;
        }
    }
}

/// Column and row of each pixel of a block that starts at pixel `first` of a frame `width`
/// pixels wide, into the x and y planes: a run of columns and one row per row of the frame.
#[inline(always)]
pub fn coordinates(first: usize, width: usize, mut xs: &mut [f32], mut ys: &mut [f32]) {
    let (mut x0, mut y) = (first % width, first / width);
    while !xs.is_empty() {
        let run = (width - x0).min(xs.len());
        let (xrun, xrest) = std::mem::take(&mut xs).split_at_mut(run);
        let (yrun, yrest) = std::mem::take(&mut ys).split_at_mut(run);
        // i32 converts to f32 in one vector instruction, where usize does not.
        for (i, x) in (x0 as i32..).zip(xrun.iter_mut()) {
            *x = i as f32;
        }
        yrun.fill(y as f32);
        (xs, ys, x0, y) = (xrest, yrest, 0, y + 1);
    }
}

/// A fused run of pointwise ops over planes of red, green, blue, alpha, x and y: each built-in
/// op is a branch-free loop over plain slices, which the compiler vectorises, with the
/// arithmetic of [`PointOp::apply`], op for op; a pixel op runs its program's steps over the
/// planes (see [`super::pixel`]). Built-in ops touch only r, g and b.
#[inline(always)]
pub fn pointwise_planes(
    isa: Isa,
    ops: &[PointOp],
    [r, g, b, a, x, y]: [&mut [f32]; INPUTS],
    regs: &mut Registers,
) {
    for op in ops {
        match op {
            &PointOp::Eq {
                brightness,
                contrast,
                saturation,
                gamma,
            } => {
                // With gamma 1 the curve is a clamp: a loop free of calls, which vectorises;
                // a gamma's `powf` keeps its loop scalar.
                let params = [brightness, contrast, saturation];
                if gamma == 1.0 {
                    eq_planes(r, g, b, params, |v| v.clamp(0.0, 1.0));
                } else {
                    eq_planes(r, g, b, params, |v| eq_curve(v, gamma));
                }
            }
            PointOp::Grayscale => {
                for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
                    let y = luma([*r, *g, *b]);
                    (*r, *g, *b) = (y, y, y);
                }
            }
            PointOp::Invert => {
                for plane in [&mut *r, &mut *g, &mut *b] {
                    for v in plane.iter_mut() {
                        *v = 1.0 - *v;
                    }
                }
            }
            PointOp::Pixel { program, uniforms } => simd::run_pixel(
                isa,
                program,
                uniforms,
                [&mut *r, &mut *g, &mut *b, &mut *a, &mut *x, &mut *y],
                regs,
            ),
        }
    }
}

#[inline(always)]
fn eq_planes(
    r: &mut [f32],
    g: &mut [f32],
    b: &mut [f32],
    params: [f32; 3],
    curve: impl Fn(f32) -> f32 + Copy,
) {
    for ((r, g), b) in r.iter_mut().zip(g.iter_mut()).zip(b.iter_mut()) {
        [*r, *g, *b] = eq_rgb([*r, *g, *b], params, curve);
    }
}

/// Copies `row` into `padded` with `pad` replicated pixels on each side.
#[inline(always)]
fn pad_row(row: &[f32], pad: usize, padded: &mut Vec<f32>) {
    padded.clear();
    let (first, last) = (&row[..4], &row[row.len() - 4..]);
    for _ in 0..pad {
        padded.extend_from_slice(first);
    }
    padded.extend_from_slice(row);
    for _ in 0..pad {
        padded.extend_from_slice(last);
    }
}

/// Horizontal pass of a separable convolution on row `y`.
#[inline(always)]
pub fn convolve_h(
    src: &Image,
    y: usize,
    weights: &[f32],
    alpha: bool,
    out: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let r = weights.len() / 2;
    let row = src.row(y as isize);
    pad_row(row, r, scratch);
    let n = out.len();
    accumulate(weights, |k| &scratch[k * 4..k * 4 + n], out);
    if !alpha {
        keep_alpha(out, row);
    }
    clamp01(out);
}

/// `out = Σ w[k] · tap(k)`; a symmetric kernel adds its mirrored taps first, halving the
/// multiplications.
#[inline(always)]
fn accumulate<'a>(weights: &[f32], tap: impl Fn(usize) -> &'a [f32], out: &mut [f32]) {
    let r = weights.len() / 2;
    let symmetric = (0..r).all(|k| weights[k] == weights[2 * r - k]);
    if symmetric {
        let w = weights[r];
        for (o, &s) in out.iter_mut().zip(tap(r)) {
            *o = w * s;
        }
        for (k, &w) in weights[..r].iter().enumerate() {
            for ((o, &a), &b) in out.iter_mut().zip(tap(k)).zip(tap(2 * r - k)) {
                *o += w * (a + b);
            }
        }
    } else {
        out.fill(0.0);
        for (k, &w) in weights.iter().enumerate() {
            for (o, &s) in out.iter_mut().zip(tap(k)) {
                *o += w * s;
            }
        }
    }
}

/// Vertical pass of a separable convolution on row `y`.
#[inline(always)]
pub fn convolve_v(src: &Image, y: usize, weights: &[f32], alpha: bool, out: &mut [f32]) {
    let r = weights.len() as isize / 2;
    accumulate(weights, |k| src.row(y as isize + k as isize - r), out);
    if !alpha {
        keep_alpha(out, src.row(y as isize));
    }
    clamp01(out);
}

/// A direct 2-D convolution of the colour channels on row `y`, plus bias; alpha is kept.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn convolve_2d(
    src: &Image,
    y: usize,
    kw: usize,
    kh: usize,
    weights: &[f32],
    bias: f32,
    out: &mut [f32],
    scratch: &mut Vec<f32>,
) {
    let (rx, ry) = (kw / 2, kh as isize / 2);
    out.fill(0.0);
    for j in 0..kh {
        pad_row(src.row(y as isize + j as isize - ry), rx, scratch);
        for i in 0..kw {
            let w = weights[j * kw + i];
            if w == 0.0 {
                continue;
            }
            let shifted = &scratch[i * 4..i * 4 + out.len()];
            for (o, &s) in out.iter_mut().zip(shifted) {
                *o += w * s;
            }
        }
    }
    for px in out.chunks_exact_mut(4) {
        px[0] += bias;
        px[1] += bias;
        px[2] += bias;
    }
    keep_alpha(out, src.row(y as isize));
    clamp01(out);
}

/// `out = in + amount · (in − blurred)` on the colour channels; alpha from `input`.
#[inline(always)]
pub fn unsharp_combine(input: &[f32], blurred: &[f32], amount: f32, out: &mut [f32]) {
    for ((o, i), b) in out
        .chunks_exact_mut(4)
        .zip(input.chunks_exact(4))
        .zip(blurred.chunks_exact(4))
    {
        for c in 0..3 {
            o[c] = (i[c] + amount * (i[c] - b[c])).clamp(0.0, 1.0);
        }
        o[3] = i[3];
    }
}

/// Horizontal resample of row `y` through a weight table; `pad` is scratch space.
#[inline(always)]
pub fn resample_h(
    src: &Image,
    y: usize,
    taps: usize,
    starts: &[i32],
    weights: &[f32],
    out: &mut [f32],
    pad: &mut Vec<f32>,
) {
    // Replicating the edge pixels into a padded row turns the clamped tap index into a plain
    // offset, which keeps the tap loop free of branches.
    let width = src.width as i64;
    let reach = |s: i32| (-(s as i64)).max(s as i64 + taps as i64 - width).max(0);
    let margin = starts.iter().map(|&s| reach(s)).max().unwrap_or(0) as usize;
    pad_row(src.row(y as isize), margin, pad);
    for ((px, &start), w) in out
        .chunks_exact_mut(4)
        .zip(starts)
        .zip(weights.chunks_exact(taps))
    {
        let first = (start as i64 + margin as i64) as usize * 4;
        let taps_px = &pad[first..first + taps * 4];
        let mut acc = [0.0f32; 4];
        for (&w, s) in w.iter().zip(taps_px.chunks_exact(4)) {
            for c in 0..4 {
                acc[c] += w * s[c];
            }
        }
        for c in 0..4 {
            px[c] = acc[c].clamp(0.0, 1.0);
        }
    }
}

/// Vertical resample into output row `y` through a weight table.
#[inline(always)]
pub fn resample_v(
    src: &Image,
    y: usize,
    taps: usize,
    starts: &[i32],
    weights: &[f32],
    out: &mut [f32],
) {
    out.fill(0.0);
    for k in 0..taps {
        let w = weights[y * taps + k];
        let row = src.row(starts[y] as isize + k as isize);
        for (o, &s) in out.iter_mut().zip(row) {
            *o += w * s;
        }
    }
    clamp01(out);
}

/// Pixel moves for crops and flips: output row from source row `row`, starting at column `x0`,
/// reversed when `flip_h`.
#[inline(always)]
pub fn remap_row(row: &[f32], x0: usize, flip_h: bool, out: &mut [f32]) {
    let out_w = out.len() / 4;
    if flip_h {
        for (x, px) in out.chunks_exact_mut(4).enumerate() {
            let sx = (x0 + out_w - 1 - x) * 4;
            px.copy_from_slice(&row[sx..sx + 4]);
        }
    } else {
        out.copy_from_slice(&row[x0 * 4..(x0 + out_w) * 4]);
    }
}

#[inline(always)]
fn keep_alpha(out: &mut [f32], input: &[f32]) {
    for (o, i) in out.chunks_exact_mut(4).zip(input.chunks_exact(4)) {
        o[3] = i[3];
    }
}
