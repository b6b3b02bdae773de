//! Temporal passes on the CPU (tmix, hqdn3d): each plane computed from the frame in hand and
//! the history the backend keeps for the op ([`crate::op::Temporal`]).
//!
//! A mix keeps its past planes in a ring, as the frame's codes where it reads them (f32 code
//! values after another filter): the newest plane takes the oldest's buffer, so a steady stream
//! allocates nothing. hqdn3d keeps its last output in its
//! 16-bit fixed point; its row filter runs over strips of rows in parallel, its column and time
//! filters over bands of columns, each band walking down the plane with the band's history laid
//! out band by band, so that the workers share no row.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{Arith, CpuBackend, Kind, OutRows, Source, Stage};
use crate::frame::{nearest_code, Samples};
use crate::op::{Denoise3d, Mix, Temporal, TemporalKind};
use crate::plan::Pass;

/// Columns in one band of hqdn3d's column filter.
const BAND: usize = 64;

/// Every temporal op's history, by op and plane.
#[derive(Default)]
pub(super) struct Histories(HashMap<(u32, usize), History>);

/// What one plane of one temporal op keeps between frames.
struct History {
    /// The plane's size and the op's shape when it was made: another shape starts afresh.
    size: (usize, usize),
    shape: Shape,
    /// Frames it has seen.
    seen: u64,
    past: Past,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Mix { slots: usize },
    Denoise,
}

/// Past planes of a mix, oldest at `head`, and the buffer the next frame is read into.
struct Ring<T> {
    slots: Vec<Vec<T>>,
    head: usize,
    spare: Vec<T>,
}

impl<T: Clone> Ring<T> {
    fn new(slots: usize) -> Ring<T> {
        Ring {
            slots: vec![Vec::new(); slots],
            head: 0,
            spare: Vec::new(),
        }
    }
}

enum Past {
    /// A mix's past planes: the frame's codes where it reads them (a quarter of f32's bytes at
    /// 8 bits), code values as f32 where it reads an earlier filter's work samples.
    Mix8(Ring<u8>),
    Mix16(Ring<u16>),
    MixF32(Ring<f32>),
    /// The last output in fixed point, band by band (what the frame's output is made of),
    /// and the row filter's values, kept for the next frame.
    Denoise {
        last: Vec<u16>,
        rows: Vec<i32>,
    },
}

impl Histories {
    /// Starts every history again with the next frame (a backend that serves another
    /// stream); the buffers stay for it.
    pub(super) fn restart(&mut self) {
        for h in self.0.values_mut() {
            h.seen = 0;
        }
    }

    fn get(&mut self, id: u32, p: usize, size: (usize, usize), shape: Shape) -> &mut History {
        let entry = self.0.entry((id, p));
        let history = entry.or_insert_with(|| History::new(size, shape));
        if history.size != size || history.shape != shape {
            *history = History::new(size, shape);
        }
        history
    }
}

impl History {
    fn new(size: (usize, usize), shape: Shape) -> History {
        let past = match shape {
            // Its sample type is the first frame's (see `keep_samples_of`).
            Shape::Mix { slots } => Past::MixF32(Ring::new(slots)),
            Shape::Denoise => Past::Denoise {
                last: Vec::new(),
                rows: Vec::new(),
            },
        };
        History {
            size,
            shape,
            seen: 0,
            past,
        }
    }
}

/// Row `y` of `src` from column `x0` as code values (as [`super::warp`]'s readers read them:
/// codes above the depth's largest as the largest, fixed-point work samples over their scale).
fn read_row(src: &Source<'_>, frac: u32, max: u32, y: usize, x0: usize, out: &mut [f32]) {
    match src {
        Source::U8(p) => {
            for (o, &v) in out.iter_mut().zip(&p.row(y)[x0..]) {
                *o = (v as u32).min(max) as f32;
            }
        }
        Source::U16(p) => {
            for (o, &v) in out.iter_mut().zip(&p.row(y)[x0..]) {
                *o = (v as u32).min(max) as f32;
            }
        }
        Source::Fixed(p) => {
            let scale = 1.0 / (1u32 << frac) as f32;
            for (o, &v) in out.iter_mut().zip(&p.row(y)[x0..]) {
                *o = v as f32 * scale;
            }
        }
        Source::Float(p) => out.copy_from_slice(&p.row(y)[x0..x0 + out.len()]),
    }
}

/// Row `y` of `src` from column `x0`, read into hqdn3d's fixed point ([`Denoise3d::load`]):
/// codes by shifts, work samples through f32.
fn load_row(
    d: &Denoise3d,
    src: &Source<'_>,
    frac: u32,
    max: u32,
    y: usize,
    x0: usize,
    out: &mut [i32],
) {
    let (shift, bias) = (d.shift, d.bias());
    match src {
        Source::U8(p) => {
            for (o, &v) in out.iter_mut().zip(&p.row(y)[x0..]) {
                *o = ((v as u32).min(max) << shift) as i32 + bias;
            }
        }
        Source::U16(p) => {
            for (o, &v) in out.iter_mut().zip(&p.row(y)[x0..]) {
                *o = ((v as u32).min(max) << shift) as i32 + bias;
            }
        }
        _ => {
            let mut values = vec![0.0f32; out.len()];
            read_row(src, frac, max, y, x0, &mut values);
            for (o, &v) in out.iter_mut().zip(&values) {
                *o = d.load(v);
            }
        }
    }
}

/// Fills `stage` (`width` samples a row) row by row in parallel: `row(y, values)` gives row
/// `y`'s code values, which codes take rounded to the nearest and work samples as they are.
fn fill<A: Arith>(
    arith: &A,
    stage: &mut Stage,
    width: usize,
    rows: usize,
    max: u32,
    row: impl Fn(usize, &mut [f32]) + Sync,
) {
    let task = |(i, mut out): (usize, OutRows)| {
        let mut values = vec![0.0f32; width];
        let mut work = vec![A::T::default(); width];
        let first = i * rows;
        let count = match &out {
            OutRows::U8(s) => s.len(),
            OutRows::U16(s) => s.len(),
            OutRows::Fixed(s) => s.len(),
            OutRows::Float(s) => s.len(),
        } / width.max(1);
        for k in 0..count {
            row(first + k, &mut values);
            match out.row(k, width) {
                super::OutRow::U8(o) => {
                    for (o, &v) in o.iter_mut().zip(&values) {
                        *o = nearest_code(v, max as f32) as u8;
                    }
                }
                super::OutRow::U16(o) => {
                    for (o, &v) in o.iter_mut().zip(&values) {
                        *o = nearest_code(v, max as f32) as u16;
                    }
                }
                other => {
                    for (w, &v) in work.iter_mut().zip(&values) {
                        *w = arith.from_code(v);
                    }
                    arith.store(&work, other, max);
                }
            }
        }
    };
    super::for_each_strip(stage, rows * width.max(1), task);
}

/// Plane `p` of the temporal pass `pass` from `src`, into a new stage of `kind`.
pub(super) fn run_plane<A: Arith>(
    backend: &CpuBackend,
    arith: A,
    pass: &Pass,
    op: &Temporal,
    p: usize,
    src: Source<'_>,
    kind: Kind,
) -> Stage {
    let (w, h) = pass.output.plane_size(p);
    let (w, h) = (w as usize, h as usize);
    let max = pass.output.max_code();
    let rows = backend.strip_rows(w, h);
    let mut stage = backend.pool().take(kind, w * h);
    let codes = matches!(kind, Kind::Codes { .. });
    let mut histories = backend.histories();
    match op.planes[p].as_ref().expect("a changed plane has an op") {
        TemporalKind::Mix(m) => {
            let shape = Shape::Mix { slots: m.slots() };
            let history = histories.get(op.id, p, (w, h), shape);
            let first = history.seen == 0;
            keep_samples_of(&mut history.past, &src, first);
            history.seen += 1;
            let frac = arith.frac();
            let out = (&mut stage, rows, codes, max);
            match (&mut history.past, &src) {
                (Past::Mix8(ring), Source::U8(plane)) => {
                    mix(&arith, m, ring, first, out, (w, h), |y, row| {
                        for (o, &v) in row.iter_mut().zip(plane.row(y)) {
                            *o = v.min(max as u8);
                        }
                    })
                }
                (Past::Mix16(ring), Source::U16(plane)) => {
                    mix(&arith, m, ring, first, out, (w, h), |y, row| {
                        for (o, &v) in row.iter_mut().zip(plane.row(y)) {
                            *o = v.min(max as u16);
                        }
                    })
                }
                (Past::MixF32(ring), src) => mix(&arith, m, ring, first, out, (w, h), |y, row| {
                    read_row(src, frac, max, y, 0, row)
                }),
                _ => unreachable!("a mix's history keeps the samples it reads"),
            }
        }
        TemporalKind::Denoise(d) => {
            let history = histories.get(op.id, p, (w, h), Shape::Denoise);
            let values = denoise(&arith, d, &src, history, max);
            // Band b holds columns b·BAND .. of every row, BAND wide (the last narrower).
            let scatter = |y: usize, out: &mut [u16]| {
                for (b, chunk) in out.chunks_mut(BAND).enumerate() {
                    let n = chunk.len();
                    let at = b * BAND * h + y * n;
                    for (o, &v) in chunk.iter_mut().zip(&values[at..at + n]) {
                        *o = d.code(v as i32, max) as u16;
                    }
                }
            };
            match &mut stage {
                Stage::Codes(Samples::U8(v)) => {
                    v.par_chunks_mut(w.max(1)).enumerate().for_each(|(y, row)| {
                        let mut wide = vec![0u16; row.len()];
                        scatter(y, &mut wide);
                        for (o, &c) in row.iter_mut().zip(&wide) {
                            *o = c as u8;
                        }
                    });
                    return stage;
                }
                Stage::Codes(Samples::U16(v)) => {
                    v.par_chunks_mut(w.max(1))
                        .enumerate()
                        .for_each(|(y, row)| scatter(y, row));
                    return stage;
                }
                _ => {}
            }
            fill(&arith, &mut stage, w, rows, max, |y, out| {
                // Band b holds columns b·BAND .. of every row, BAND wide (the last narrower).
                for (b, chunk) in out.chunks_mut(BAND).enumerate() {
                    let n = chunk.len();
                    let at = b * BAND * h + y * n;
                    for (o, &v) in chunk.iter_mut().zip(&values[at..at + n]) {
                        *o = if codes {
                            d.code(v as i32, max) as f32
                        } else {
                            d.value(v as i32)
                        };
                    }
                }
            });
        }
    }
    stage
}

/// Makes a mix's ring keep the samples `src` comes in: the frame's codes (8 or 16 bits) from
/// the stream's first frame where the mix reads codes, f32 where it reads work samples. A
/// later frame in another type (a filter before the mix that a time range switches on and
/// off) turns the ring to f32, its planes kept.
fn keep_samples_of(past: &mut Past, src: &Source<'_>, first: bool) {
    let slots = match past {
        Past::Mix8(r) => r.slots.len(),
        Past::Mix16(r) => r.slots.len(),
        Past::MixF32(r) => r.slots.len(),
        Past::Denoise { .. } => return,
    };
    let fits = matches!(
        (&*past, src),
        (Past::Mix8(_), Source::U8(_)) | (Past::Mix16(_), Source::U16(_)) | (Past::MixF32(_), _)
    );
    if first {
        *past = match src {
            Source::U8(_) => Past::Mix8(Ring::new(slots)),
            Source::U16(_) => Past::Mix16(Ring::new(slots)),
            Source::Fixed(_) | Source::Float(_) => Past::MixF32(Ring::new(slots)),
        };
    } else if !fits {
        fn widen<T: Copy + Into<f32>>(r: &Ring<T>) -> Ring<f32> {
            Ring {
                slots: r
                    .slots
                    .iter()
                    .map(|s| s.iter().map(|&v| v.into()).collect())
                    .collect(),
                head: r.head,
                spare: Vec::new(),
            }
        }
        *past = Past::MixF32(match past {
            Past::Mix8(r) => widen(r),
            Past::Mix16(r) => widen(r),
            _ => unreachable!("an f32 ring takes every source"),
        });
    }
}

/// tmix: the frame's plane (`w`×`h`; `read(y, row)` gives its rows) mixed with the ring of past
/// ones, which it then joins in place of the oldest.
#[allow(clippy::too_many_arguments)]
fn mix<A: Arith, T>(
    arith: &A,
    m: &Mix,
    ring: &mut Ring<T>,
    first: bool,
    (stage, rows, codes, max): (&mut Stage, usize, bool, u32),
    (w, h): (usize, usize),
    read: impl Fn(usize, &mut [T]) + Sync,
) where
    T: Copy + Default + Send + Sync + Into<f32>,
{
    let count = ring.slots.len();
    ring.spare.resize(w * h, T::default());
    ring.spare
        .par_chunks_mut(w.max(1))
        .enumerate()
        .for_each(|(y, row)| read(y, row));
    if first {
        for slot in ring.slots.iter_mut() {
            slot.clone_from(&ring.spare);
        }
    }
    {
        let now: &[T] = &ring.spare;
        let slots: &[Vec<T>] = &ring.slots;
        let head = ring.head;
        fill(arith, stage, w, rows, max, |y, out| {
            let at = y * w;
            out.fill(0.0);
            for (k, weight) in m.weights[..count].iter().enumerate() {
                let past = &slots[(head + k) % count][at..at + w];
                for (o, &v) in out.iter_mut().zip(past) {
                    *o += weight * v.into();
                }
            }
            let weight = m.weights[count];
            for (o, &v) in out.iter_mut().zip(&now[at..at + w]) {
                *o = (*o + weight * v.into()) * m.scale;
            }
            if codes {
                // FFmpeg rounds a mix half to even (lrintf).
                for o in out.iter_mut() {
                    *o = o.round_ties_even();
                }
            }
        });
    }
    // The frame takes the oldest's place; the oldest's buffer takes the next frame.
    std::mem::swap(&mut ring.slots[ring.head], &mut ring.spare);
    ring.head = (ring.head + 1) % count;
}

/// hqdn3d: the plane's filtered values in fixed point, band by band (see [`BAND`]); the
/// history keeps the last of them for the next frame.
fn denoise<'h, A: Arith>(
    arith: &A,
    d: &Denoise3d,
    src: &Source<'_>,
    history: &'h mut History,
    max: u32,
) -> &'h [u16] {
    let (w, h) = history.size;
    let first = history.seen == 0;
    history.seen += 1;
    let Past::Denoise { last, rows } = &mut history.past else {
        unreachable!("hqdn3d's history");
    };
    let frac = arith.frac();
    // Along each row: H(0, 0) = lowpass(L(0, 0), L(0, 0)) on the first row, H(0, y) = L(0, y)
    // below it, then H(x, y) = lowpass(H(x − 1, y), L(x, y)). Each row is one chain of
    // dependent steps; ROWS rows at a time run side by side so that the core overlaps them.
    const ROWS: usize = 4;
    rows.resize(w * h, 0);
    rows.par_chunks_mut(w.max(1) * ROWS)
        .enumerate()
        .for_each(|(i, group)| {
            let n = group.len() / w.max(1);
            let y0 = i * ROWS;
            for (k, row) in group.chunks_mut(w.max(1)).enumerate() {
                load_row(d, src, frac, max, y0 + k, 0, row);
            }
            let mut before = [0i32; ROWS];
            for (k, b) in before.iter_mut().enumerate().take(n) {
                *b = group[k * w];
                if y0 + k == 0 {
                    *b = d.lowpass(&d.spatial, *b, *b);
                    group[0] = *b;
                }
            }
            if n == ROWS {
                for x in 1..w {
                    for (k, b) in before.iter_mut().enumerate() {
                        let at = k * w + x;
                        *b = d.lowpass(&d.spatial, *b, group[at]);
                        group[at] = *b;
                    }
                }
            } else {
                for (k, b) in before.iter_mut().enumerate().take(n) {
                    for x in 1..w {
                        let at = k * w + x;
                        *b = d.lowpass(&d.spatial, *b, group[at]);
                        group[at] = *b;
                    }
                }
            }
        });
    // Down each column and through time, a band of columns at a time.
    last.resize(w * h, 0);
    let rows: &[i32] = rows;
    last.par_chunks_mut(BAND * h)
        .enumerate()
        .for_each(|(b, last)| {
            let x0 = b * BAND;
            let width = last.len() / h;
            if first {
                let mut values = vec![0i32; width];
                for y in 0..h {
                    load_row(d, src, frac, max, y, x0, &mut values);
                    for (l, &v) in last[y * width..(y + 1) * width].iter_mut().zip(&values) {
                        *l = v as u16;
                    }
                }
            }
            let mut line = vec![0u16; width];
            for y in 0..h {
                let across = &rows[y * w + x0..y * w + x0 + width];
                let last = &mut last[y * width..(y + 1) * width];
                for j in 0..width {
                    let down = if y == 0 {
                        across[j]
                    } else {
                        d.lowpass(&d.spatial, line[j] as i32, across[j])
                    };
                    line[j] = down as u16;
                    last[j] = d.lowpass(&d.temporal, last[j] as i32, down) as u16;
                }
            }
        });
    last
}
