//! The CPU backend: runs each pass over whole rows in parallel with rayon.
//!
//! A frame is converted once to interleaved RGBA f32, every pass reads one buffer and writes
//! another (ping-pong), and the result is rounded back to the frame's depth once. The buffers
//! live in the backend and are reused from frame to frame, so steady-state processing does not
//! allocate beyond the output frame itself (and not even that when the size is unchanged).

mod kernels;

use rayon::prelude::*;

use super::{Backend, BackendError};
use crate::frame::{Frame, Pixels};
use crate::plan::{Axis, PassKind, Plan};
use kernels::Image;

pub struct CpuBackend {
    current: Vec<f32>,
    next: Vec<f32>,
    scratch: Vec<f32>,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuBackend {
    pub fn new() -> CpuBackend {
        CpuBackend { current: Vec::new(), next: Vec::new(), scratch: Vec::new() }
    }
}

impl Backend for CpuBackend {
    fn describe(&self) -> String {
        format!("cpu ({} threads)", rayon::current_num_threads())
    }

    fn process(&mut self, plan: &Plan, mut frame: Frame) -> Result<Frame, BackendError> {
        super::check_size(plan, &frame)?;
        if plan.passes.is_empty() {
            return Ok(frame);
        }
        load(&frame, &mut self.current);
        for pass in &plan.passes {
            let (iw, ih) = (pass.input.0 as usize, pass.input.1 as usize);
            let (ow, oh) = (pass.output.0 as usize, pass.output.1 as usize);
            self.next.resize(ow * oh * 4, 0.0);
            let src = Image { data: &self.current, width: iw, height: ih };
            run_pass(&pass.kind, &src, &mut self.next, ow, &mut self.scratch);
            std::mem::swap(&mut self.current, &mut self.next);
        }
        let (w, h) = plan.output;
        store(&self.current, &mut frame, w, h);
        Ok(frame)
    }
}

fn run_pass(kind: &PassKind, src: &Image, dst: &mut [f32], out_w: usize, scratch: &mut Vec<f32>) {
    let out_h = dst.len() / (out_w * 4);
    let rows = dst.par_chunks_mut(out_w * 4).enumerate();
    match kind {
        PassKind::Pointwise(ops) => rows.for_each(|(y, out)| {
            out.copy_from_slice(src.row(y as isize));
            kernels::pointwise(ops, out);
        }),
        PassKind::Convolve1D { axis: Axis::Horizontal, weights, alpha } => {
            rows.for_each_init(Vec::new, |pad, (y, out)| kernels::convolve_h(src, y, weights, *alpha, out, pad))
        }
        PassKind::Convolve1D { axis: Axis::Vertical, weights, alpha } => {
            rows.for_each(|(y, out)| kernels::convolve_v(src, y, weights, *alpha, out))
        }
        PassKind::Convolve2D { width, height, weights, bias } => rows.for_each_init(Vec::new, |pad, (y, out)| {
            kernels::convolve_2d(src, y, *width as usize, *height as usize, weights, *bias, out, pad)
        }),
        PassKind::Unsharp { weights, amount } => {
            // Blur into `scratch` (horizontal) and `dst` (vertical), then combine in place.
            scratch.resize(out_w * out_h * 4, 0.0);
            scratch
                .par_chunks_mut(out_w * 4)
                .enumerate()
                .for_each_init(Vec::new, |pad, (y, out)| kernels::convolve_h(src, y, weights, false, out, pad));
            let blurred_h = Image { data: scratch, width: src.width, height: src.height };
            rows.for_each_init(Vec::new, |blurred, (y, out)| {
                blurred.resize(out.len(), 0.0);
                kernels::convolve_v(&blurred_h, y, weights, false, blurred);
                kernels::unsharp_combine(src.row(y as isize), blurred, *amount, out);
            });
        }
        PassKind::Resample1D { axis, table } => {
            let taps = table.taps as usize;
            match axis {
                Axis::Horizontal => rows.for_each(|(y, out)| {
                    kernels::resample_h(src, y, taps, &table.starts, &table.weights, out)
                }),
                Axis::Vertical => rows.for_each(|(y, out)| {
                    kernels::resample_v(src, y, taps, &table.starts, &table.weights, out)
                }),
            }
        }
        PassKind::Remap { x0, y0, flip_h, flip_v } => {
            rows.for_each(|(y, out)| {
                let sy = *y0 as usize + if *flip_v { out_h - 1 - y } else { y };
                kernels::remap_row(src.row(sy as isize), *x0 as usize, *flip_h, out);
            })
        }
    }
}

/// Frame samples → 0..=1 floats.
fn load(frame: &Frame, out: &mut Vec<f32>) {
    out.resize(frame.pixel_count() * 4, 0.0);
    let row = frame.width as usize * 4;
    match &frame.pixels {
        Pixels::Rgba8(p) => {
            let lut: [f32; 256] = std::array::from_fn(|i| i as f32 / 255.0);
            out.par_chunks_mut(row).zip(p.par_chunks(row)).for_each(|(o, i)| {
                for (o, &i) in o.iter_mut().zip(i) {
                    *o = lut[i as usize];
                }
            });
        }
        Pixels::Rgba16(p) => out.par_chunks_mut(row).zip(p.par_chunks(row)).for_each(|(o, i)| {
            for (o, &i) in o.iter_mut().zip(i) {
                *o = i as f32 / 65535.0;
            }
        }),
    }
}

/// 0..=1 floats → the frame's depth, rounded to the nearest code value; reuses the frame's
/// buffer.
fn store(data: &[f32], frame: &mut Frame, width: u32, height: u32) {
    let row = width as usize * 4;
    let n = data.len();
    frame.width = width;
    frame.height = height;
    match &mut frame.pixels {
        Pixels::Rgba8(p) => {
            p.resize(n, 0);
            p.par_chunks_mut(row).zip(data.par_chunks(row)).for_each(|(o, i)| {
                for (o, &i) in o.iter_mut().zip(i) {
                    *o = (i.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
                }
            });
        }
        Pixels::Rgba16(p) => {
            p.resize(n, 0);
            p.par_chunks_mut(row).zip(data.par_chunks(row)).for_each(|(o, i)| {
                for (o, &i) in o.iter_mut().zip(i) {
                    *o = (i.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16;
                }
            });
        }
    }
}
