//! Kernels whose output row reads anywhere in its input plane: warps (an affine map per output
//! sample, `op::Warp`) and transposed moves. They read the plane as it is stored, whatever its
//! sample type, through [`Reader`], rather than a window of rows converted for the strip.
//! The arithmetic of a warp is `op::Warp`'s, in f32, in the order the WGSL follows.

use super::Source;
use crate::frame::Plane;
use crate::op::{Warp, WarpFilter};

/// A plane's samples as code values (f32): codes above the depth's largest (damaged data) taken
/// as the largest, fixed-point work samples divided by their scale.
pub(super) trait Reader {
    fn width(&self) -> usize;
    fn height(&self) -> usize;
    fn at(&self, x: usize, y: usize) -> f32;
}

struct Codes<'a, T> {
    plane: &'a Plane<'a, T>,
    max: u32,
}

impl<T: Copy + Into<u32>> Reader for Codes<'_, T> {
    fn width(&self) -> usize {
        self.plane.width
    }
    fn height(&self) -> usize {
        self.plane.height
    }
    #[inline(always)]
    fn at(&self, x: usize, y: usize) -> f32 {
        self.plane.row(y)[x].into().min(self.max) as f32
    }
}

struct Work<'a, T> {
    plane: &'a Plane<'a, T>,
    scale: f32,
}

impl<T: Copy + Into<f32>> Reader for Work<'_, T> {
    fn width(&self) -> usize {
        self.plane.width
    }
    fn height(&self) -> usize {
        self.plane.height
    }
    #[inline(always)]
    fn at(&self, x: usize, y: usize) -> f32 {
        self.plane.row(y)[x].into() * self.scale
    }
}

/// Calls `f` with a reader of `src`; `frac` is the fraction bits of fixed-point work samples,
/// `max` the largest code.
pub(super) fn with_reader<R>(
    src: &Source<'_>,
    frac: u32,
    max: u32,
    f: impl FnOnce(&dyn Reader) -> R,
) -> R {
    match src {
        Source::U8(plane) => f(&Codes { plane, max }),
        Source::U16(plane) => f(&Codes { plane, max }),
        Source::Fixed(plane) => f(&Work {
            plane,
            scale: 1.0 / (1u32 << frac) as f32,
        }),
        Source::Float(plane) => f(&Work { plane, scale: 1.0 }),
    }
}

/// Output row `y` of `warp` from `src`, unclamped code values.
pub(super) fn warp_row(warp: &Warp, src: &dyn Reader, y: usize, out: &mut [f32]) {
    let (w, h) = (src.width() as i64, src.height() as i64);
    let (wf, hf) = (w as f32, h as f32);
    // Bilinear's outer taps weigh nothing: they are not read.
    let taps = match warp.filter {
        WarpFilter::Bilinear => 1..3,
        WarpFilter::Bicubic => 0..4,
    };
    for (x, o) in out.iter_mut().enumerate() {
        let (sx, sy) = warp.source(x as f32, y as f32);
        // Every tap lies outside the plane (NaN included): the fill.
        if !(sx > -2.0 && sx < wf + 1.0 && sy > -2.0 && sy < hf + 1.0) {
            *o = warp.fill;
            continue;
        }
        let (fx, fy) = (sx.floor(), sy.floor());
        let (wx, wy) = (
            Warp::weights(warp.filter, sx - fx),
            Warp::weights(warp.filter, sy - fy),
        );
        let (ix, iy) = (fx as i64 - 1, fy as i64 - 1);
        let mut acc = 0.0f32;
        for j in taps.clone() {
            let (yy, wj) = (iy + j as i64, wy[j]);
            let mut row = 0.0f32;
            for i in taps.clone() {
                let (xx, wi) = (ix + i as i64, wx[i]);
                let v = if (0..w).contains(&xx) && (0..h).contains(&yy) {
                    src.at(xx as usize, yy as usize)
                } else {
                    warp.fill
                };
                row += wi * v;
            }
            acc += wj * row;
        }
        *o = acc;
    }
}

/// Output row `y` of a transposed move of the rectangle at (`x0`, `y0`) whose output is
/// `width`×`height`: output (x, y) reads the input at (x0 + y, y0 + x), after mirroring the
/// output as `flip_h` and `flip_v` say.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn transposed_row<T: Copy>(
    plane: &Plane<'_, T>,
    (x0, y0): (usize, usize),
    (width, height): (usize, usize),
    (flip_h, flip_v): (bool, bool),
    y: usize,
    out: &mut [T],
    map: impl Fn(T) -> T,
) {
    let column = x0 + if flip_v { height - 1 - y } else { y };
    for (x, o) in out[..width].iter_mut().enumerate() {
        let fx = if flip_h { width - 1 - x } else { x };
        *o = map(plane.row(y0 + fx)[column]);
    }
}
