//! The CPU backend: runs a plan strip by strip, each strip of output rows through every pass
//! while its rows are in cache, strips in parallel with rayon.
//!
//! For a strip of output rows the executor works backwards through the plan to find which rows
//! each pass must produce (a vertical stencil needs its radius more rows above and below, a
//! vertical resample the rows its weight table reads, a crop or flip the rows it moves), loads
//! only those rows of the frame as f32, runs the passes over row windows, and rounds the strip
//! back into the output frame. Rows in a halo are computed by both neighbouring strips: the same
//! arithmetic, so the result is identical to a whole-frame run, and no frame-sized f32 buffer is
//! ever allocated. Strip buffers and the output frame's samples are pooled between frames.

mod kernels;
mod pixel;
mod simd;

use std::sync::Mutex;

use rayon::prelude::*;

use super::{Backend, BackendError};
use crate::frame::{nearest_code, Frame, Pixels};
use crate::plan::{Axis, Pass, PassKind, Plan, PointOp};
use kernels::Image;
pub use simd::Isa;

/// About how many bytes of f32 samples one strip of one pass holds: small enough that a strip's
/// buffers stay in a core's cache.
const STRIP_BYTES: usize = 1 << 20;

pub struct CpuBackend {
    /// Buffers of strips, taken by a worker for one strip and given back.
    buffers: Mutex<Vec<StripBuffers>>,
    /// Samples of the previous input frame, reused for the next output frame.
    spare: Option<Pixels>,
    /// Rows per strip when set; otherwise sized from [`STRIP_BYTES`].
    strip_rows: Option<usize>,
    /// The build of the kernels that runs.
    isa: Isa,
}

#[derive(Default)]
struct StripBuffers {
    current: Vec<f32>,
    next: Vec<f32>,
    scratch: Vec<f32>,
    row: Vec<f32>,
    pad: Vec<f32>,
    point: kernels::PointScratch,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuBackend {
    pub fn new() -> CpuBackend {
        CpuBackend {
            buffers: Mutex::new(Vec::new()),
            spare: None,
            strip_rows: None,
            isa: Isa::detect(),
        }
    }

    /// A backend that runs the given build of its kernels; `Isa::Avx2` only where
    /// [`Isa::detect`] found AVX2.
    pub fn with_isa(isa: Isa) -> CpuBackend {
        assert!(
            isa == Isa::Portable || Isa::detect() == Isa::Avx2,
            "this processor has no AVX2"
        );
        CpuBackend {
            isa,
            ..CpuBackend::new()
        }
    }

    /// A backend that cuts frames into strips of `rows` output rows (at least 1), for tuning and
    /// for tests that need many strip boundaries in a small frame.
    pub fn with_strip_rows(rows: usize) -> CpuBackend {
        CpuBackend {
            strip_rows: Some(rows.max(1)),
            ..CpuBackend::new()
        }
    }
}

impl Backend for CpuBackend {
    fn describe(&self) -> String {
        let isa = match self.isa {
            Isa::Portable => "",
            Isa::Avx2 => ", AVX2",
        };
        format!("cpu ({} threads{isa})", rayon::current_num_threads())
    }

    fn process(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        super::check_size(plan, &frame)?;
        if plan.passes.is_empty() {
            return Ok(frame);
        }
        if let [Pass {
            kind: PassKind::Pointwise(ops),
            ..
        }] = plan.passes.as_slice()
        {
            return Ok(pointwise_in_place(self.isa, ops, frame));
        }
        let (ow, oh) = (plan.output.0 as usize, plan.output.1 as usize);
        let mut out = output_samples(self.spare.take(), &frame.pixels, ow * oh * 4);
        let strip_rows = self.strip_rows.unwrap_or_else(|| {
            (STRIP_BYTES / (ow * 16))
                .clamp(4, 256)
                .min(oh.div_ceil(rayon::current_num_threads()))
        });
        let row_len = ow * 4;
        let pool = &self.buffers;
        let isa = self.isa;
        let run = |(i, dst): (usize, StripOut)| {
            let mut bufs = pool
                .lock()
                .map(|mut p| p.pop())
                .ok()
                .flatten()
                .unwrap_or_default();
            let first = i * strip_rows;
            let last = first + dst.len() / row_len;
            simd::strip(isa, plan, &frame, (first, last), &mut bufs, dst);
            if let Ok(mut p) = pool.lock() {
                p.push(bufs);
            }
        };
        match &mut out {
            Pixels::Rgba8(p) => p
                .par_chunks_mut(strip_rows * row_len)
                .map(StripOut::Eight)
                .enumerate()
                .for_each(run),
            Pixels::Rgba16(p) => p
                .par_chunks_mut(strip_rows * row_len)
                .map(StripOut::Sixteen)
                .enumerate()
                .for_each(run),
        }
        let Frame {
            pixels, index, pts, ..
        } = frame;
        self.spare = Some(pixels);
        Ok(Frame {
            width: ow as u32,
            height: oh as u32,
            pixels: out,
            index,
            pts,
        })
    }
}

/// Samples for an output of `len` values at the depth of `like`, reusing `spare` when it fits.
fn output_samples(spare: Option<Pixels>, like: &Pixels, len: usize) -> Pixels {
    match (spare, like) {
        (Some(Pixels::Rgba8(mut v)), Pixels::Rgba8(_)) => {
            v.resize(len, 0);
            Pixels::Rgba8(v)
        }
        (Some(Pixels::Rgba16(mut v)), Pixels::Rgba16(_)) => {
            v.resize(len, 0);
            Pixels::Rgba16(v)
        }
        (_, Pixels::Rgba8(_)) => Pixels::Rgba8(vec![0; len]),
        (_, Pixels::Rgba16(_)) => Pixels::Rgba16(vec![0; len]),
    }
}

enum StripOut<'a> {
    Eight(&'a mut [u8]),
    Sixteen(&'a mut [u16]),
}

impl StripOut<'_> {
    fn len(&self) -> usize {
        match self {
            StripOut::Eight(s) => s.len(),
            StripOut::Sixteen(s) => s.len(),
        }
    }
}

/// The input rows `lo .. hi` that `pass` reads to produce its output rows `a .. b`.
fn input_rows(pass: &Pass, a: usize, b: usize) -> (usize, usize) {
    let in_h = pass.input.1 as usize;
    let around = |r: usize| (a.saturating_sub(r), (b + r).min(in_h));
    match &pass.kind {
        PassKind::Pointwise(_)
        | PassKind::Convolve1D {
            axis: Axis::Horizontal,
            ..
        }
        | PassKind::Resample1D {
            axis: Axis::Horizontal,
            ..
        } => (a, b),
        PassKind::Convolve1D {
            axis: Axis::Vertical,
            weights,
            ..
        } => around(weights.len() / 2),
        PassKind::Unsharp { weights, .. } => around(weights.len() / 2),
        PassKind::Convolve2D { height, .. } => around(*height as usize / 2),
        PassKind::Resample1D {
            axis: Axis::Vertical,
            table,
        } => {
            let taps = table.taps as i64;
            let starts = &table.starts[a..b];
            let lo = starts
                .iter()
                .map(|&s| s as i64)
                .min()
                .unwrap_or(0)
                .clamp(0, in_h as i64 - 1);
            let hi = starts
                .iter()
                .map(|&s| s as i64 + taps)
                .max()
                .unwrap_or(1)
                .clamp(lo + 1, in_h as i64);
            (lo as usize, hi as usize)
        }
        PassKind::Remap { y0, flip_v, .. } => {
            let (y0, out_h) = (*y0 as usize, pass.output.1 as usize);
            if *flip_v {
                (y0 + out_h - b, y0 + out_h - a)
            } else {
                (y0 + a, y0 + b)
            }
        }
    }
}

/// Runs every pass for the output rows `first .. last` and rounds the result into `dst`; `isa`
/// is the build this runs in.
#[inline(always)]
fn strip(
    isa: Isa,
    plan: &Plan,
    frame: &Frame,
    (first, last): (usize, usize),
    bufs: &mut StripBuffers,
    dst: StripOut,
) {
    run_strip(isa, plan, frame, first, last, bufs);
    store(&bufs.current, dst);
}

/// Runs every pass for the output rows `first .. last`; the result is left in `bufs.current`.
#[inline(always)]
fn run_strip(
    isa: Isa,
    plan: &Plan,
    frame: &Frame,
    first: usize,
    last: usize,
    bufs: &mut StripBuffers,
) {
    let n = plan.passes.len();
    // ranges[i]: the output rows of pass i this strip needs.
    let mut ranges = vec![(0, 0); n];
    ranges[n - 1] = (first, last);
    for i in (1..n).rev() {
        ranges[i - 1] = input_rows(&plan.passes[i], ranges[i].0, ranges[i].1);
    }
    let (lo, hi) = input_rows(&plan.passes[0], ranges[0].0, ranges[0].1);
    load(frame, lo, hi, &mut bufs.current);
    let mut window = lo;
    for (pass, &(a, b)) in plan.passes.iter().zip(&ranges) {
        let (iw, ih) = (pass.input.0 as usize, pass.input.1 as usize);
        let ow = pass.output.0 as usize;
        bufs.next.resize((b - a) * ow * 4, 0.0);
        let src = Image {
            data: &bufs.current,
            width: iw,
            height: ih,
            first: window,
        };
        let scratch = Scratch {
            scratch: &mut bufs.scratch,
            row: &mut bufs.row,
            pad: &mut bufs.pad,
            point: &mut bufs.point,
        };
        run_pass(isa, pass, &src, a, &mut bufs.next, ow, scratch);
        std::mem::swap(&mut bufs.current, &mut bufs.next);
        window = a;
    }
}

/// The scratch buffers of a strip that a pass may use.
struct Scratch<'a> {
    scratch: &'a mut Vec<f32>,
    row: &'a mut Vec<f32>,
    pad: &'a mut Vec<f32>,
    point: &'a mut kernels::PointScratch,
}

/// Writes the output rows `a ..` of `pass` into `dst`, `out_w` pixels a row.
#[inline(always)]
fn run_pass(
    isa: Isa,
    pass: &Pass,
    src: &Image,
    a: usize,
    dst: &mut [f32],
    out_w: usize,
    Scratch {
        scratch,
        row,
        pad,
        point,
    }: Scratch,
) {
    let rows = dst
        .chunks_exact_mut(out_w * 4)
        .enumerate()
        .map(|(i, out)| (a + i, out));
    match &pass.kind {
        PassKind::Pointwise(ops) => {
            let needs = kernels::PointNeeds::of(ops);
            rows.for_each(|(y, out)| {
                out.copy_from_slice(src.row(y as isize));
                kernels::pointwise(isa, ops, needs, out, y, point);
            })
        }
        PassKind::Convolve1D {
            axis: Axis::Horizontal,
            weights,
            alpha,
        } => rows.for_each(|(y, out)| kernels::convolve_h(src, y, weights, *alpha, out, pad)),
        PassKind::Convolve1D {
            axis: Axis::Vertical,
            weights,
            alpha,
        } => rows.for_each(|(y, out)| kernels::convolve_v(src, y, weights, *alpha, out)),
        PassKind::Convolve2D {
            width,
            height,
            weights,
            bias,
        } => rows.for_each(|(y, out)| {
            kernels::convolve_2d(
                src,
                y,
                *width as usize,
                *height as usize,
                weights,
                *bias,
                out,
                pad,
            )
        }),
        PassKind::Unsharp { weights, amount } => {
            // Blur every row of the input window horizontally into `scratch`, then each output
            // row vertically from it, and combine with the pass input.
            let held = src.data.len() / (src.width * 4);
            scratch.resize(src.data.len(), 0.0);
            for (i, out) in scratch
                .chunks_exact_mut(src.width * 4)
                .enumerate()
                .take(held)
            {
                kernels::convolve_h(src, src.first + i, weights, false, out, pad);
            }
            let blurred_h = Image {
                data: scratch,
                width: src.width,
                height: src.height,
                first: src.first,
            };
            row.resize(out_w * 4, 0.0);
            rows.for_each(|(y, out)| {
                kernels::convolve_v(&blurred_h, y, weights, false, row);
                kernels::unsharp_combine(src.row(y as isize), row, *amount, out);
            });
        }
        PassKind::Resample1D { axis, table } => {
            let taps = table.taps as usize;
            match axis {
                Axis::Horizontal => rows.for_each(|(y, out)| {
                    kernels::resample_h(src, y, taps, &table.starts, &table.weights, out, pad)
                }),
                Axis::Vertical => rows.for_each(|(y, out)| {
                    kernels::resample_v(src, y, taps, &table.starts, &table.weights, out)
                }),
            }
        }
        PassKind::Remap {
            x0,
            y0,
            flip_h,
            flip_v,
        } => {
            let out_h = pass.output.1 as usize;
            rows.for_each(|(y, out)| {
                let sy = *y0 as usize + if *flip_v { out_h - 1 - y } else { y };
                kernels::remap_row(src.row(sy as isize), *x0 as usize, *flip_h, out);
            })
        }
    }
}

/// Rows `lo .. hi` of the frame as 0..=1 floats.
#[inline(always)]
fn load(frame: &Frame, lo: usize, hi: usize, out: &mut Vec<f32>) {
    let row = frame.width as usize * 4;
    out.resize((hi - lo) * row, 0.0);
    match &frame.pixels {
        Pixels::Rgba8(p) => {
            for (o, &i) in out.iter_mut().zip(&p[lo * row..hi * row]) {
                *o = i as f32 * (1.0 / 255.0);
            }
        }
        Pixels::Rgba16(p) => {
            for (o, &i) in out.iter_mut().zip(&p[lo * row..hi * row]) {
                *o = i as f32 * (1.0 / 65535.0);
            }
        }
    }
}

/// 0..=1 floats → code values, rounded to the nearest.
#[inline(always)]
fn store(data: &[f32], dst: StripOut) {
    match dst {
        StripOut::Eight(d) => {
            // One 32-bit store a pixel, where byte stores would cost one instruction a channel.
            for (o, i) in d.chunks_exact_mut(4).zip(data.chunks_exact(4)) {
                let rgba = code(i[0], 255.0)
                    | code(i[1], 255.0) << 8
                    | code(i[2], 255.0) << 16
                    | code(i[3], 255.0) << 24;
                o.copy_from_slice(&rgba.to_le_bytes());
            }
        }
        StripOut::Sixteen(d) => {
            for (o, &i) in d.iter_mut().zip(data) {
                *o = code(i, 65535.0) as u16;
            }
        }
    }
}

/// `v` (0..=1, clamped; NaN counts as 0) as the nearest code value of `0 ..= max`.
#[inline(always)]
fn code(v: f32, max: f32) -> u32 {
    nearest_code(v * max, max)
}

/// A plan that is one fused pointwise pass runs on the frame's own samples, block by block:
/// each block's colour channels (and alpha, where a pixel op reads or writes it) are loaded into
/// small planes that stay in the L1 cache, transformed, and rounded back.
fn pointwise_in_place(isa: Isa, ops: &[PointOp], mut frame: Frame) -> Frame {
    const BLOCK: usize = kernels::PLANE_LEN;
    // Work is handed to rayon in pieces of 64 blocks (64 Ki pixels).
    const PIECE: usize = BLOCK * 64;
    let needs = kernels::PointNeeds::of(ops);
    let width = frame.width as usize;
    fn run<S: Sample + Send>(
        isa: Isa,
        ops: &[PointOp],
        needs: kernels::PointNeeds,
        samples: &mut [S],
        max: f32,
        width: usize,
    ) {
        samples
            .par_chunks_mut(PIECE * 4)
            .enumerate()
            .for_each(|(i, piece)| {
                let mut scratch = kernels::PointScratch::default();
                for (j, block) in piece.chunks_mut(BLOCK * 4).enumerate() {
                    let first = i * PIECE + j * BLOCK;
                    simd::pointwise_block(
                        isa,
                        ops,
                        needs,
                        block,
                        max,
                        &mut scratch,
                        (first, width),
                    );
                }
            })
    }
    match &mut frame.pixels {
        Pixels::Rgba8(p) => run(isa, ops, needs, p, 255.0, width),
        Pixels::Rgba16(p) => run(isa, ops, needs, p, 65535.0, width),
    }
    frame
}

/// Samples a block of pointwise work can run on.
trait Sample: Copy {
    fn to_f32(self) -> f32;
    /// Writes the code values `rgb` into the pixel `px`, keeping its alpha.
    fn put_rgb(px: &mut [Self], rgb: [u32; 3]);
    /// Writes the code values `rgba` into the pixel `px`.
    fn put_rgba(px: &mut [Self], rgba: [u32; 4]);
}

impl Sample for u8 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn put_rgb(px: &mut [u8], [r, g, b]: [u32; 3]) {
        // One 32-bit store a pixel, where byte stores would cost one instruction a channel.
        let rgba = r | g << 8 | b << 16 | (px[3] as u32) << 24;
        px.copy_from_slice(&rgba.to_le_bytes());
    }
    #[inline(always)]
    fn put_rgba(px: &mut [u8], [r, g, b, a]: [u32; 4]) {
        px.copy_from_slice(&(r | g << 8 | b << 16 | a << 24).to_le_bytes());
    }
}

impl Sample for u16 {
    #[inline(always)]
    fn to_f32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn put_rgb(px: &mut [u16], [r, g, b]: [u32; 3]) {
        px[..3].copy_from_slice(&[r as u16, g as u16, b as u16]);
    }
    #[inline(always)]
    fn put_rgba(px: &mut [u16], [r, g, b, a]: [u32; 4]) {
        px.copy_from_slice(&[r as u16, g as u16, b as u16, a as u16]);
    }
}

/// Up to [`kernels::PLANE_LEN`] pixels through a fused pointwise pass; `at` is the block's
/// first pixel and the frame's width, from which pixel ops get each pixel's position.
#[inline(always)]
fn pointwise_block<S: Sample>(
    isa: Isa,
    ops: &[PointOp],
    needs: kernels::PointNeeds,
    block: &mut [S],
    max: f32,
    scratch: &mut kernels::PointScratch,
    (first, width): (usize, usize),
) {
    let n = block.len() / 4;
    let ([r, g, b, a, xs, ys], regs) = scratch.planes(n);
    let scale = 1.0 / max;
    for (((px, r), g), b) in block
        .chunks_exact(4)
        .zip(r.iter_mut())
        .zip(g.iter_mut())
        .zip(b.iter_mut())
    {
        (*r, *g, *b) = (
            px[0].to_f32() * scale,
            px[1].to_f32() * scale,
            px[2].to_f32() * scale,
        );
    }
    if needs.alpha {
        for (px, a) in block.chunks_exact(4).zip(a.iter_mut()) {
            *a = px[3].to_f32() * scale;
        }
    }
    if needs.coordinates {
        kernels::coordinates(first, width, xs, ys);
    }
    kernels::pointwise_planes(isa, ops, [&mut *r, &mut *g, &mut *b, &mut *a, xs, ys], regs);
    if needs.alpha_written {
        for ((((px, r), g), b), a) in block
            .chunks_exact_mut(4)
            .zip(r.iter())
            .zip(g.iter())
            .zip(b.iter())
            .zip(a.iter())
        {
            S::put_rgba(
                px,
                [code(*r, max), code(*g, max), code(*b, max), code(*a, max)],
            );
        }
    } else {
        for (((px, r), g), b) in block
            .chunks_exact_mut(4)
            .zip(r.iter())
            .zip(g.iter())
            .zip(b.iter())
        {
            S::put_rgb(px, [code(*r, max), code(*g, max), code(*b, max)]);
        }
    }
}
