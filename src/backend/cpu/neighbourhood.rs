//! The non-linear stencils' row kernels: gradient magnitude ([`crate::op::Gradient`]) and order
//! statistics over a window ([`crate::op::Rank`]), written once over an arithmetic's samples.
//!
//! A gradient reads its 3×3 neighbourhood as code values ([`Arith::value`]) and follows
//! [`crate::op::Gradient::value`] in f32, as the GPU's `gradient.wgsl` does. Min and max pick
//! samples without arithmetic, so they are exact in every arithmetic; they run separably, a
//! vertical step into a row and a horizontal step over that row with its edges replicated.
//! Edges are clamped throughout. Nothing here knows filters or frames.

use super::arith::{pad_row, Arith, Window};
use crate::op::{Gradient, RankOf};

/// Row `y` of the gradient magnitude of `rows` into `out` (unclamped: the store clamps).
#[inline(always)]
pub fn gradient<A: Arith>(
    arith: &A,
    rows: &Window<'_, A::T>,
    y: usize,
    g: &Gradient,
    out: &mut [A::T],
) {
    let above = g.before(y, rows.height) as isize;
    let y = y as isize;
    let lines = [rows.row(above), rows.row(y), rows.row(y + 1)];
    let w = rows.width;
    for (x, o) in out.iter_mut().enumerate().take(w) {
        let cols = [g.before(x, w), x, (x + 1).min(w - 1)];
        let n = lines.map(|line| cols.map(|c| arith.value(line[c])));
        *o = arith.from_code(g.value(n));
    }
}

/// The sample `of` keeps of `a` and `b`.
#[inline(always)]
fn pick<T: PartialOrd + Copy>(of: RankOf, a: T, b: T) -> T {
    match of {
        RankOf::Min => {
            if b < a {
                b
            } else {
                a
            }
        }
        RankOf::Max => {
            if b > a {
                b
            } else {
                a
            }
        }
    }
}

/// `out[x]`: what `of` keeps of rows `y − r ..= y + r` at `x`.
#[inline(always)]
pub fn rank_v<T: PartialOrd + Copy>(
    rows: &Window<'_, T>,
    y: usize,
    r: usize,
    of: RankOf,
    out: &mut [T],
) {
    let y = y as isize;
    let r = r as isize;
    out.copy_from_slice(&rows.row(y - r)[..out.len()]);
    for j in y - r + 1..=y + r {
        let line = rows.row(j);
        match of {
            RankOf::Min => {
                for (o, &s) in out.iter_mut().zip(line) {
                    *o = pick(RankOf::Min, *o, s);
                }
            }
            RankOf::Max => {
                for (o, &s) in out.iter_mut().zip(line) {
                    *o = pick(RankOf::Max, *o, s);
                }
            }
        }
    }
}

/// `out[x]`: what `of` keeps of `row[x − r ..= x + r]`, the row's edges replicated (`pad` is
/// scratch for the padded row).
#[inline(always)]
pub fn rank_h<T: PartialOrd + Copy>(
    row: &[T],
    r: usize,
    of: RankOf,
    pad: &mut Vec<T>,
    out: &mut [T],
) {
    pad_row(row, r, pad);
    let n = out.len();
    out.copy_from_slice(&pad[..n]);
    for k in 1..=2 * r {
        let shifted = &pad[k..k + n];
        match of {
            RankOf::Min => {
                for (o, &s) in out.iter_mut().zip(shifted) {
                    *o = pick(RankOf::Min, *o, s);
                }
            }
            RankOf::Max => {
                for (o, &s) in out.iter_mut().zip(shifted) {
                    *o = pick(RankOf::Max, *o, s);
                }
            }
        }
    }
}
