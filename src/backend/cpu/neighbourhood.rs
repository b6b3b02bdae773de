//! The non-linear stencils' row kernels: gradient magnitude ([`crate::op::Gradient`]) and order
//! statistics over a window ([`crate::op::Rank`]), written once over an arithmetic's samples.
//!
//! A gradient reads its 3×3 neighbourhood as code values ([`Arith::value`]) and follows
//! [`crate::op::Gradient::value`] in f32, as the GPU's `gradient.wgsl` does. Min and max pick
//! samples without arithmetic, so they are exact in every arithmetic; they run separably, a
//! vertical step into a row and a horizontal step over that row with its edges replicated.
//! Edges are clamped throughout. Nothing here knows filters or frames.

use super::arith::{pad_row, Arith, Window};
use crate::op::{Bilateral, Denoise, Gradient};

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

/// A denoise op's weights for one plane: [`Denoise::weight`] of every whole patch distance in
/// 8-bit units below the cut-off, looked up (and interpolated between for deeper planes, whose
/// distances have fractions) rather than computed for each candidate of each sample.
pub struct DenoiseWeights {
    pub op: Denoise,
    /// Weights of distances 0 ..= cut-off (the cut-off's for interpolating up to it), then two
    /// zeros that distances from the cut-off read.
    table: Vec<f32>,
}

impl DenoiseWeights {
    pub fn new(op: Denoise) -> DenoiseWeights {
        let inv = op.inv_h2 as f64;
        let mut table: Vec<f32> = (0..=op.cutoff as usize)
            .map(|d| (-(d as f64) * inv).exp() as f32)
            .collect();
        table.extend([0.0, 0.0]);
        DenoiseWeights { op, table }
    }

    /// Each patch distance of `row` (code values squared) replaced by its weight, without a
    /// branch: a row of table reads.
    #[inline(always)]
    fn weigh(&self, row: &mut [f32]) {
        let (cutoff, unit) = (self.op.cutoff, self.op.unit);
        let past = cutoff + 1.0;
        let table = &self.table[..];
        if unit == 1.0 {
            // 8-bit planes: whole distances, FFmpeg's table.
            for s in row {
                *s = table[if *s < cutoff { *s } else { past } as usize];
            }
        } else {
            for s in row {
                let d = *s * unit;
                let t = if d < cutoff { d } else { past };
                let i = t as usize;
                let (a, b) = (table[i], table[i + 1]);
                *s = a + (b - a) * (t - i as f32);
            }
        }
    }
}

/// Output rows `first .. last` of the non-local means of a plane `height` rows tall whose rows
/// `rows` holds (the research and patch reach included), as code values into `out`, a row of
/// `rows.width` after another. One research offset at a time over the strip: the squared
/// differences between the plane and the plane shifted by the offset, summed over each patch,
/// give the weight of each pair of samples that far apart, and a pair's weight counts for both
/// of its samples (the patch distance is symmetric), so half the offsets are enough.
pub fn denoise<A: Arith>(
    arith: &A,
    rows: &Window<'_, A::T>,
    (first, last): (usize, usize),
    height: usize,
    d: &DenoiseWeights,
    out: &mut [f32],
) {
    let w = rows.width;
    let n = last - first;
    let op = &d.op;
    let (rx, ry, px, py) = (
        op.rx as isize,
        op.ry as isize,
        op.px as isize,
        op.py as isize,
    );
    let (ex, ey) = (rx + px, ry + py);
    // The strip with its reach, edges replicated: sample (x, first + y) of the plane at
    // (x + ex, y + ey).
    let pw = w + 2 * ex as usize;
    let ph = n + 2 * ey as usize;
    let mut plane = vec![0.0f32; pw * ph];
    for (k, line) in plane.chunks_exact_mut(pw).enumerate() {
        let row = rows.row(first as isize + k as isize - ey);
        for (x, v) in line.iter_mut().enumerate() {
            let sx = (x as isize - ex).clamp(0, w as isize - 1) as usize;
            *v = arith.value(row[sx]);
        }
    }
    let at = |x: isize, y: isize| (y + ey) as usize * pw + (x + ex) as usize;
    let mut sums = vec![0.0f32; n * w];
    let mut weights = vec![0.0f32; n * w];
    let (mut squares, mut column, mut ssd) = (Vec::new(), Vec::new(), Vec::new());
    let (sx, sy) = (2 * px as usize + 1, 2 * py as usize + 1);
    let (first, last, height) = (first as isize, last as isize, height as isize);
    for dy in 0..=ry {
        for dx in -rx..=rx {
            if dy == 0 && dx <= 0 {
                continue;
            }
            // Pairs (a, a + (dx, dy)) with both samples in the plane and one in the strip, by
            // a's rows (y0 .. y1, from the strip's first) and columns (x0 .. x1).
            let y0 = (first - dy).max(0) - first;
            let y1 = last.min(height - dy) - first;
            let x0 = (-dx).max(0);
            let x1 = (w as isize - dx).min(w as isize);
            if y0 >= y1 || x0 >= x1 {
                continue;
            }
            let nx = (x1 - x0) as usize;
            // Squared differences over the rows and columns a's patches reach.
            let cw = nx + sx - 1;
            squares.clear();
            for y in y0 - py..y1 + py {
                let a = &plane[at(x0 - px, y)..][..cw];
                let b = &plane[at(x0 - px + dx, y + dy)..][..cw];
                squares.extend(a.iter().zip(b).map(|(a, b)| (a - b) * (a - b)));
            }
            column.resize(cw, 0.0f32);
            ssd.resize(nx, 0.0f32);
            for (k, y) in (y0..y1).enumerate() {
                column.copy_from_slice(&squares[k * cw..][..cw]);
                for j in 1..sy {
                    for (c, s) in column.iter_mut().zip(&squares[(k + j) * cw..][..cw]) {
                        *c += s;
                    }
                }
                ssd.copy_from_slice(&column[..nx]);
                for i in 1..sx {
                    for (s, c) in ssd.iter_mut().zip(&column[i..]) {
                        *s += c;
                    }
                }
                d.weigh(&mut ssd);
                if y >= 0 {
                    let o = y as usize * w + x0 as usize;
                    let b = &plane[at(x0 + dx, y + dy)..][..nx];
                    accumulate(&ssd, b, &mut sums[o..o + nx], &mut weights[o..o + nx]);
                }
                if y + dy < n as isize {
                    let o = (y + dy) as usize * w + (x0 + dx) as usize;
                    let a = &plane[at(x0, y)..][..nx];
                    accumulate(&ssd, a, &mut sums[o..o + nx], &mut weights[o..o + nx]);
                }
            }
        }
    }
    // The centre weighs 1, added last as FFmpeg adds it.
    for (y, line) in out.chunks_exact_mut(w).take(n).enumerate() {
        let centre = &plane[at(0, y as isize)..][..w];
        let o = y * w;
        for (x, v) in line.iter_mut().enumerate() {
            *v = (sums[o + x] + centre[x]) / (weights[o + x] + 1.0);
        }
    }
}

/// Adds each candidate of `values` with its weight of `weights` into `sums` and `totals`.
#[inline(always)]
fn accumulate(weights: &[f32], values: &[f32], sums: &mut [f32], totals: &mut [f32]) {
    for (((s, t), &w), &v) in sums.iter_mut().zip(totals).zip(weights).zip(values) {
        *s += w * v;
        *t += w;
    }
}
