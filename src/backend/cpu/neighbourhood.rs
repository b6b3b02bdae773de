//! The non-linear stencils' row kernels: gradient magnitude ([`crate::op::Gradient`]) and order
//! statistics over a window ([`crate::op::Rank`]), written once over an arithmetic's samples.
//!
//! A gradient reads its 3×3 neighbourhood as code values ([`Arith::value`]) and follows
//! [`crate::op::Gradient::value`] in f32, as the GPU's `gradient.wgsl` does. Min and max pick
//! samples without arithmetic, so they are exact in every arithmetic; they run separably, a
//! vertical step into a row and a horizontal step over that row with its edges replicated.
//! Edges are clamped throughout. Nothing here knows filters or frames.

use super::arith::{pad_row, Arith, Window};
use crate::op::{Bilateral, Gradient};

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

/// The larger of `a` and `b` where `max`, else the smaller.
#[inline(always)]
fn pick<T: PartialOrd + Copy>(max: bool, a: T, b: T) -> T {
    if (b > a) == max && b != a {
        b
    } else {
        a
    }
}

/// `out[x]`: the largest (`max`) or smallest sample of rows `y − r ..= y + r` at `x`.
#[inline(always)]
pub fn rank_v<T: PartialOrd + Copy>(
    rows: &Window<'_, T>,
    y: usize,
    r: usize,
    max: bool,
    out: &mut [T],
) {
    let y = y as isize;
    let r = r as isize;
    out.copy_from_slice(&rows.row(y - r)[..out.len()]);
    for j in y - r + 1..=y + r {
        let line = rows.row(j);
        // Two loops with the choice fixed, so that each vectorises.
        if max {
            for (o, &s) in out.iter_mut().zip(line) {
                *o = pick(true, *o, s);
            }
        } else {
            for (o, &s) in out.iter_mut().zip(line) {
                *o = pick(false, *o, s);
            }
        }
    }
}

/// `out[x]`: the largest (`max`) or smallest of `row[x − r ..= x + r]`, the row's edges
/// replicated (`pad` is scratch for the padded row).
#[inline(always)]
pub fn rank_h<T: PartialOrd + Copy>(
    row: &[T],
    r: usize,
    max: bool,
    pad: &mut Vec<T>,
    out: &mut [T],
) {
    pad_row(row, r, pad);
    let n = out.len();
    out.copy_from_slice(&pad[..n]);
    for k in 1..=2 * r {
        let shifted = &pad[k..k + n];
        if max {
            for (o, &s) in out.iter_mut().zip(shifted) {
                *o = pick(true, *o, s);
            }
        } else {
            for (o, &s) in out.iter_mut().zip(shifted) {
                *o = pick(false, *o, s);
            }
        }
    }
}

/// The buffers of [`rank_nth`], kept from row to row of a strip.
pub struct NthScratch<T> {
    /// Each column of the window's rows, sorted, from x = −rx to width − 1 + rx.
    columns: Vec<T>,
    /// The window sorted, and the next one.
    window: Vec<T>,
    next: Vec<T>,
}

impl<T> Default for NthScratch<T> {
    fn default() -> Self {
        NthScratch {
            columns: Vec::new(),
            window: Vec::new(),
            next: Vec::new(),
        }
    }
}

fn order<T: PartialOrd>(a: &T, b: &T) -> std::cmp::Ordering {
    a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
}

/// `out[x]`: the `k`-th smallest (from 0) of the `(2·rx + 1)`×`(2·ry + 1)` window around
/// `(x, y)`, edges replicated.
///
/// The window is kept sorted as it slides along the row: each step merges the column that
/// enters into it and drops the one that leaves, one pass over the window (each column sorted
/// once per row), so a sample costs O(window) in predictable steps, not a selection.
pub fn rank_nth<T: PartialOrd + Copy>(
    rows: &Window<'_, T>,
    y: usize,
    (rx, ry): (usize, usize),
    k: usize,
    scratch: &mut NthScratch<T>,
    out: &mut [T],
) {
    let w = rows.width;
    let tall = 2 * ry + 1;
    let lines: Vec<&[T]> = (y as isize - ry as isize..=(y + ry) as isize)
        .map(|j| rows.row(j))
        .collect();
    let NthScratch {
        columns,
        window,
        next,
    } = scratch;
    // Column c of the padded row is the plane's column c − rx, clamped.
    columns.clear();
    for c in 0..w + 2 * rx {
        let x = c.saturating_sub(rx).min(w - 1);
        let start = columns.len();
        columns.extend(lines.iter().map(|line| line[x]));
        columns[start..].sort_unstable_by(order);
    }
    let column = |c: usize| &columns[c * tall..(c + 1) * tall];
    window.clear();
    for c in 0..=2 * rx {
        window.extend_from_slice(column(c));
    }
    window.sort_unstable_by(order);
    let k = k.min(window.len() - 1);
    out[0] = window[k];
    for x in 1..w.min(out.len()) {
        // Padded columns x − 1 leaves and x + 2·rx enters.
        let (gone, new) = (column(x - 1), column(x + 2 * rx));
        if gone == new {
            out[x] = window[k];
            continue;
        }
        next.clear();
        let (mut a, mut b) = (0, 0);
        for &v in window.iter() {
            if a < tall && v == gone[a] {
                a += 1;
                continue;
            }
            while b < tall && new[b] < v {
                next.push(new[b]);
                b += 1;
            }
            next.push(v);
        }
        next.extend_from_slice(&new[b..]);
        std::mem::swap(window, next);
        out[x] = window[k];
    }
}

/// A bilateral op's weights for one plane: the spatial ones of its window, row by row, and for
/// work samples with fraction bits the range weight of every difference between two samples (a
/// difference in work units is an integer there; floating-point samples compute theirs).
pub struct BilateralWeights {
    pub op: Bilateral,
    spatial: Vec<f32>,
    similar: Vec<f32>,
    frac: u32,
}

impl BilateralWeights {
    /// The weights for samples with `frac` fraction bits (0: floating point) of codes up to `max`.
    pub fn new(op: Bilateral, frac: u32, max: u32) -> BilateralWeights {
        let (rx, ry) = (op.rx as i32, op.ry as i32);
        let spatial = (-ry..=ry)
            .flat_map(|j| (-rx..=rx).map(move |i| op.spatial(i as f32, j as f32)))
            .collect();
        let similar = if frac > 0 {
            let unit = 1.0 / (1u32 << frac) as f32;
            (0..=max << frac)
                .map(|d| op.similar(d as f32 * unit))
                .collect()
        } else {
            Vec::new()
        };
        BilateralWeights {
            op,
            spatial,
            similar,
            frac,
        }
    }

    #[inline(always)]
    fn similar(&self, d: f32) -> f32 {
        if self.frac > 0 {
            let i = (d.abs() * (1u32 << self.frac) as f32) as usize;
            self.similar[i.min(self.similar.len() - 1)]
        } else {
            self.op.similar(d)
        }
    }
}

/// Row `y` of the bilateral average of `rows` into `out`: the weighted mean of each window,
/// in f32 over code values.
#[inline(always)]
pub fn bilateral<A: Arith>(
    arith: &A,
    rows: &Window<'_, A::T>,
    y: usize,
    b: &BilateralWeights,
    out: &mut [A::T],
) {
    let w = rows.width;
    let (rx, ry) = (b.op.rx as isize, b.op.ry as isize);
    let span = (2 * rx + 1) as usize;
    for (x, o) in out.iter_mut().enumerate().take(w) {
        let c = arith.value(rows.row(y as isize)[x]);
        let (mut sum, mut weights) = (0.0f32, 0.0f32);
        for (j, spatial) in (-ry..=ry).zip(b.spatial.chunks_exact(span)) {
            let line = rows.row(y as isize + j);
            for (i, &ws) in (-rx..=rx).zip(spatial) {
                let xi = (x as isize + i).clamp(0, w as isize - 1) as usize;
                let s = arith.value(line[xi]);
                let wt = ws * b.similar(s - c);
                sum += wt * s;
                weights += wt;
            }
        }
        *o = arith.from_code(sum / weights);
    }
}
