//! Pointwise passes on the CPU.
//!
//! Where every op of the pass is a curve of a Y′CbCr or grey plane, each plane goes through
//! one lookup table: the pass's curves composed in f32 for every code the plane can hold (or
//! every work sample), so ten colour filters cost what one does, one read and one write of the
//! plane, and a plane the frame owns is mapped in place. Otherwise the pass works on blocks of
//! pixels in f32 ([`Block`]): each pixel's codes (with its block's chroma on subsampled
//! frames) become R′G′B′A, the ops run over the block's planes in order, and the result goes
//! back, chroma the mean of its block. Both follow [`crate::op::apply_point_ops`].

use rayon::prelude::*;

use super::arith::Arith;
use super::pixel::Registers;
use super::table8;
use super::{simd, source, CpuBackend, Isa, Kind, OutRow, Source, Stage, Work};
use crate::frame::{nearest_code, Frame, Samples};
use crate::op::{
    clamp, compose_curves, plane_curves, ColourMath, Curve, Domain, PointOp, MAX_PLANES,
};
use crate::pixel::INPUTS;
use crate::plan::Pass;

/// Runs the pointwise pass `pass` on `stages`; the new stage of each plane it changes.
pub(super) fn run<A: Arith + Work>(
    backend: &CpuBackend,
    arith: A,
    pass: &Pass,
    ops: &[PointOp],
    stages: &mut [Stage],
    input: &mut Frame,
    kind: &dyn Fn(usize) -> Kind,
) -> Vec<Option<Stage>> {
    let math = ColourMath::of(&pass.output);
    let planes = pass.output.planes();
    if math.per_plane && ops.iter().all(|op| op.domain() == Domain::PerPlane) {
        return (0..planes)
            .map(|p| {
                let curves: Vec<Curve> = plane_curves(ops, p, math.colour_planes).collect();
                (!curves.is_empty()).then(|| {
                    map_plane(
                        backend,
                        &arith,
                        pass,
                        p,
                        &curves,
                        &math,
                        stages,
                        input,
                        kind(p),
                    )
                })
            })
            .collect();
    }
    blocks(backend, arith, pass, ops, &math, stages, input, kind)
}

/// One plane through its curves: a lookup table from whatever the plane holds to what it
/// becomes.
#[allow(clippy::too_many_arguments)]
fn map_plane<A: Arith + Work>(
    backend: &CpuBackend,
    arith: &A,
    pass: &Pass,
    p: usize,
    curves: &[Curve],
    math: &ColourMath,
    stages: &mut [Stage],
    input: &mut Frame,
    kind: Kind,
) -> Stage {
    let max = pass.output.max_code();
    let (w, h) = pass.output.plane_size(p);
    let (w, h) = (w as usize, h as usize);
    let rows = backend.strip_rows(w, h);
    let value = |code: f32| compose_curves(curves.iter().copied(), math, code);
    // Where the plane is the input frame's own and becomes codes of the same type, it is
    // mapped in place.
    if let (Stage::Input(q), Kind::Codes { .. }) = (&stages[p], kind) {
        let q = *q;
        if input.plane_is_owned(q) {
            if let Some(mut samples) = input.take_plane(q).into_samples() {
                match &mut samples {
                    Samples::U8(v) => {
                        let lut: [u8; 256] = std::array::from_fn(|i| {
                            nearest_code(value(i as f32), max as f32) as u8
                        });
                        let affine = backend.affine8(&lut);
                        let isa = backend.isa;
                        v.par_chunks_mut(rows * w).for_each(|c| {
                            table8::map_in_place(isa, &lut, affine, c);
                        });
                    }
                    Samples::U16(v) => {
                        let lut: Vec<u16> = (0..=max)
                            .map(|i| nearest_code(value(i as f32), max as f32) as u16)
                            .collect();
                        v.par_chunks_mut(rows * w).for_each(|c| {
                            for s in c {
                                *s = lut[(*s as usize).min(max as usize)];
                            }
                        });
                    }
                }
                stages[p] = Stage::Gone;
                return Stage::Codes(samples);
            }
        }
    }
    let src = source(&stages[p], input, &pass.input, p);
    let mut out = backend.pool().take(kind, w * h);
    // Each output type's table for an input that indexes one (codes, fixed-point samples), or
    // the curves evaluated per sample (floating-point samples).
    let fixed = Fixed(arith.frac());
    let indices = match src {
        Source::U8(_) => Some(256usize),
        Source::U16(_) => Some(max as usize + 1),
        Source::Fixed(_) => Some(((max << fixed.0) + 1) as usize),
        Source::Float(_) => None,
    };
    let code_of = |i: usize| match src {
        Source::Fixed(_) => fixed.code(i as i16),
        _ => i as f32,
    };
    fn table<D: Copy>(n: usize, f: impl Fn(usize) -> D) -> Vec<D> {
        (0..n).map(f).collect()
    }
    macro_rules! apply {
        ($dst:expr, $lut:expr) => {{
            let lut = $lut;
            $dst.par_chunks_mut(rows * w)
                .enumerate()
                .for_each(|(i, chunk)| {
                    for (r, row) in chunk.chunks_exact_mut(w).enumerate() {
                        let y = i * rows + r;
                        match src {
                            Source::U8(s) => {
                                // A table of 256: a byte indexes it without a bounds check.
                                let lut: &[_; 256] = lut[..256]
                                    .try_into()
                                    .expect("8-bit tables have 256 entries");
                                for (o, &v) in row.iter_mut().zip(s.row(y)) {
                                    *o = lut[v as usize];
                                }
                            }
                            Source::U16(s) => {
                                let top = lut.len() - 1;
                                for (o, &v) in row.iter_mut().zip(s.row(y)) {
                                    *o = lut[(v as usize).min(top)];
                                }
                            }
                            Source::Fixed(s) => {
                                let top = lut.len() as i32 - 1;
                                for (o, &v) in row.iter_mut().zip(s.row(y)) {
                                    *o = lut[(v as i32).clamp(0, top) as usize];
                                }
                            }
                            Source::Float(_) => unreachable!("float planes are not indexed"),
                        }
                    }
                });
        }};
    }

    match (&mut out, indices) {
        (Stage::Codes(Samples::U8(d)), Some(_)) if matches!(src, Source::U8(_)) => {
            let Source::U8(s) = src else { unreachable!() };
            let lut: [u8; 256] =
                std::array::from_fn(|i| nearest_code(value(i as f32), max as f32) as u8);
            let affine = backend.affine8(&lut);
            let isa = backend.isa;
            d.par_chunks_mut(rows * w)
                .enumerate()
                .for_each(|(i, chunk)| {
                    for (r, row) in chunk.chunks_exact_mut(w).enumerate() {
                        table8::map(isa, &lut, affine, s.row(i * rows + r), row);
                    }
                });
        }
        (Stage::Codes(Samples::U8(d)), Some(n)) => {
            apply!(
                d,
                table(n, |i| nearest_code(value(code_of(i)), max as f32) as u8)
            )
        }
        (Stage::Codes(Samples::U16(d)), Some(n)) => {
            apply!(
                d,
                table(n, |i| nearest_code(value(code_of(i)), max as f32) as u16)
            )
        }
        (Stage::Fixed(d), Some(n)) => {
            apply!(d, table(n, |i| fixed.sample(value(code_of(i)), max)))
        }
        (Stage::Float(d), Some(n)) => apply!(d, table(n, |i| value(code_of(i)))),
        (stage, None) => {
            let Source::Float(s) = src else {
                unreachable!("only float planes go unindexed")
            };
            let write = |y: usize, row: OutRow<'_>| match row {
                OutRow::U16(o) => {
                    for (o, &v) in o.iter_mut().zip(s.row(y)) {
                        *o = nearest_code(value(v), max as f32) as u16;
                    }
                }
                OutRow::U8(o) => {
                    for (o, &v) in o.iter_mut().zip(s.row(y)) {
                        *o = nearest_code(value(v), max as f32) as u8;
                    }
                }
                OutRow::Float(o) => {
                    for (o, &v) in o.iter_mut().zip(s.row(y)) {
                        *o = value(v);
                    }
                }
                OutRow::Fixed(_) => unreachable!("float plans keep float planes"),
            };
            match stage {
                Stage::Codes(Samples::U16(d)) => {
                    for (y, row) in d.chunks_exact_mut(w).enumerate() {
                        write(y, OutRow::U16(row));
                    }
                }
                Stage::Codes(Samples::U8(d)) => {
                    for (y, row) in d.chunks_exact_mut(w).enumerate() {
                        write(y, OutRow::U8(row));
                    }
                }
                Stage::Float(d) => {
                    for (y, row) in d.chunks_exact_mut(w).enumerate() {
                        write(y, OutRow::Float(row));
                    }
                }
                _ => unreachable!("float plans keep float planes"),
            }
        }
        _ => unreachable!("the pool makes planes of the kinds above"),
    }
    out
}

/// Conversions between code values and fixed-point work samples with this many fraction bits.
#[derive(Clone, Copy)]
struct Fixed(u32);

impl Fixed {
    #[inline(always)]
    fn code(self, v: i16) -> f32 {
        v as f32 * (1.0 / (1u32 << self.0) as f32)
    }

    /// The sample nearest the code value `v`, clamped to `0 ..= max`.
    #[inline(always)]
    fn sample(self, v: f32, max: u32) -> i16 {
        nearest_code(v * (1u32 << self.0) as f32, (max << self.0) as f32) as i16
    }
}

/// The planes of a block of pixels in f32: the colour planes' and alpha's code values for each
/// pixel (turned into R′G′B′A and back inside), its position, and scratch.
pub(super) struct Block<'a> {
    pub math: &'a ColourMath,
    /// r, g, b, a, x, y: codes of the colour planes and alpha on the way in and out, normalised
    /// R′G′B′A while the ops run.
    pub planes: [&'a mut [f32]; INPUTS],
    /// Three planes of scratch for curves on RGB.
    pub ycc: [&'a mut [f32]; 3],
    pub regs: &'a mut Registers,
}

/// Runs `ops` over a block: codes to R′G′B′A, the ops, back to codes.
#[inline(always)]
pub(super) fn block(isa: Isa, ops: &[PointOp], b: &mut Block<'_>) {
    let m = *b.math;
    let [c0, c1, c2, a, x, y] = &mut b.planes;
    // Codes → normalised R′G′B′A (`ColourMath::to_rgba`, plane by plane).
    let norm = |v: &mut [f32], p: usize| {
        let (zero, inv) = (m.zero[p], 1.0 / m.scale[p]);
        for v in v.iter_mut() {
            *v = (*v - zero) * inv;
        }
    };
    norm(c0, 0);
    match m.family {
        crate::frame::Family::Rgb => {
            norm(c1, 1);
            norm(c2, 2);
        }
        crate::frame::Family::Gray => {
            c1.copy_from_slice(c0);
            c2.copy_from_slice(c0);
        }
        crate::frame::Family::Yuv => {
            norm(c1, 1);
            norm(c2, 2);
            let [kr, kg, kb] = m.k;
            let (cr_r, cb_b, inv_g) = (2.0 * (1.0 - kr), 2.0 * (1.0 - kb), 1.0 / kg);
            for ((yy, cb), cr) in c0.iter_mut().zip(c1.iter_mut()).zip(c2.iter_mut()) {
                let r = *yy + cr_r * *cr;
                let bl = *yy + cb_b * *cb;
                let g = (*yy - kr * r - kb * bl) * inv_g;
                (*yy, *cb, *cr) = (r, g, bl);
            }
        }
    }
    let inv_max = 1.0 / m.max;
    for v in a.iter_mut() {
        *v *= inv_max;
    }
    for op in ops {
        match op {
            PointOp::Curves(c) => {
                let [ky, kcb, kcr] = &mut b.ycc;
                let [kr, kg, kb] = m.k;
                let (sb, sr) = (255.0 / (2.0 * (1.0 - kb)), 255.0 / (2.0 * (1.0 - kr)));
                for ((((r, g), bl), (yy, cb)), cr) in c0
                    .iter()
                    .zip(c1.iter())
                    .zip(c2.iter())
                    .zip(ky.iter_mut().zip(kcb.iter_mut()))
                    .zip(kcr.iter_mut())
                {
                    let l = kr * r + kg * g + kb * bl;
                    *yy = 255.0 * l;
                    *cb = 128.0 + sb * (bl - l);
                    *cr = 128.0 + sr * (r - l);
                }
                for (plane, curve) in [&mut **ky, &mut **kcb, &mut **kcr].into_iter().zip(c.0) {
                    if let Some(curve) = curve {
                        for v in plane.iter_mut() {
                            *v = curve.apply(*v, 255.0);
                        }
                    }
                }
                let (rb, rr) = (2.0 * (1.0 - kb) / 255.0, 2.0 * (1.0 - kr) / 255.0);
                let inv_g = 1.0 / kg;
                for ((((r, g), bl), (yy, cb)), cr) in c0
                    .iter_mut()
                    .zip(c1.iter_mut())
                    .zip(c2.iter_mut())
                    .zip(ky.iter().zip(kcb.iter()))
                    .zip(kcr.iter())
                {
                    let l = yy * (1.0 / 255.0);
                    let rv = l + rr * (cr - 128.0);
                    let bv = l + rb * (cb - 128.0);
                    let gv = (l - kr * rv - kb * bv) * inv_g;
                    (*r, *g, *bl) = (clamp(rv, 1.0), clamp(gv, 1.0), clamp(bv, 1.0));
                }
            }
            PointOp::Pixel { program, uniforms } => simd::run_pixel(
                isa,
                program,
                uniforms,
                [
                    &mut **c0, &mut **c1, &mut **c2, &mut **a, &mut **x, &mut **y,
                ],
                b.regs,
            ),
            PointOp::Channels(_) | PointOp::Cube { .. } => super::lut::run(op, c0, c1, c2),
            PointOp::Overlay { picture, at } => {
                for (((((r, g), bl), a), x), y) in c0
                    .iter_mut()
                    .zip(c1.iter_mut())
                    .zip(c2.iter_mut())
                    .zip(a.iter_mut())
                    .zip(x.iter())
                    .zip(y.iter())
                {
                    [*r, *g, *bl, *a] =
                        crate::op::picture_over(picture, at, *x, *y, [*r, *g, *bl, *a]);
                }
            }
        }
    }
    // Normalised R′G′B′A → codes (`ColourMath::from_rgba`).
    let code = |v: &mut [f32], p: usize| {
        let (zero, scale) = (m.zero[p], m.scale[p]);
        for v in v.iter_mut() {
            *v = *v * scale + zero;
        }
    };
    match m.family {
        crate::frame::Family::Rgb => {
            code(c0, 0);
            code(c1, 1);
            code(c2, 2);
        }
        crate::frame::Family::Gray => {
            let [kr, kg, kb] = m.k;
            for ((r, g), bl) in c0.iter_mut().zip(c1.iter()).zip(c2.iter()) {
                *r = kr * *r + kg * g + kb * bl;
            }
            code(c0, 0);
        }
        crate::frame::Family::Yuv => {
            let [kr, kg, kb] = m.k;
            let (sb, sr) = (1.0 / (2.0 * (1.0 - kb)), 1.0 / (2.0 * (1.0 - kr)));
            for ((r, g), bl) in c0.iter_mut().zip(c1.iter_mut()).zip(c2.iter_mut()) {
                let l = kr * *r + kg * *g + kb * *bl;
                (*r, *g, *bl) = (l, (*bl - l) * sb, (*r - l) * sr);
            }
            code(c0, 0);
            code(c1, 1);
            code(c2, 2);
        }
    }
    for v in a.iter_mut() {
        *v *= m.max;
    }
}

/// A pass with RGB ops (or on an RGB frame): bands of blocks in parallel. A band is one row of
/// chroma and the rows of luma (and alpha) it covers.
#[allow(clippy::too_many_arguments)]
fn blocks<A: Arith + Work>(
    backend: &CpuBackend,
    arith: A,
    pass: &Pass,
    ops: &[PointOp],
    math: &ColourMath,
    stages: &mut [Stage],
    input: &mut Frame,
    kind: &dyn Fn(usize) -> Kind,
) -> Vec<Option<Stage>> {
    let format = pass.output;
    let (sh, sv) = format.layout.chroma_shift;
    let (bw, bh) = (1usize << sh, 1usize << sv);
    let (w, h) = (format.width as usize, format.height as usize);
    let colour = math.colour_planes;
    let alpha_out = math.alpha;
    let alpha_in = pass.input.layout.alpha_plane();
    let changed = pass.planes();
    let sources: Vec<Option<Source<'_>>> = (0..pass.input.planes())
        .map(|p| Some(source(&stages[p], input, &pass.input, p)))
        .collect();
    let max = format.max_code();
    // New planes for what the pass changes.
    let mut outs: Vec<Option<Stage>> = (0..format.planes())
        .map(|p| {
            changed
                .contains(p)
                .then(|| backend.pool().take(kind(p), format.plane_len(p)))
        })
        .collect();
    let bands = h.div_ceil(bh);
    // Each plane's rows for each band, to write.
    let mut per_band: Vec<[Option<BandRows<'_>>; MAX_PLANES]> =
        (0..bands).map(|_| Default::default()).collect();
    for (p, out) in outs.iter_mut().enumerate() {
        let Some(stage) = out else { continue };
        let (pw, _) = format.plane_size(p);
        let rows_per_band = if format.layout.shift(p) == (0, 0) {
            bh
        } else {
            1
        };
        let chunk = pw as usize * rows_per_band;
        macro_rules! split {
            ($v:expr, $variant:ident) => {
                for (b, c) in $v.chunks_mut(chunk).enumerate() {
                    per_band[b][p] = Some(BandRows::$variant(c));
                }
            };
        }
        match stage {
            Stage::Codes(Samples::U8(v)) => split!(v, U8),
            Stage::Codes(Samples::U16(v)) => split!(v, U16),
            Stage::Fixed(v) => split!(v, Fixed),
            Stage::Float(v) => split!(v, Float),
            _ => unreachable!("the pool makes planes"),
        }
    }
    let fixed = Fixed(arith.frac());
    let needs_xy = ops.iter().any(PointOp::uses_coordinates);
    let isa = backend.isa;
    per_band.into_par_iter().enumerate().for_each_init(
        BandScratch::default,
        |scratch, (band, mut rows)| {
            let y0 = band * bh;
            let band_rows = bh.min(h - y0);
            let n = w * band_rows;
            scratch.planes.resize(n * (INPUTS + 3), 0.0);
            let (main, ycc) = scratch.planes.split_at_mut(n * INPUTS);
            let mut main = main.chunks_exact_mut(n);
            let planes: [&mut [f32]; INPUTS] = std::array::from_fn(|_| main.next().unwrap());
            // Gather: each pixel's codes, chroma from its block.
            for r in 0..band_rows {
                let y = y0 + r;
                for p in 0..colour {
                    let (psh, psv) = format.layout.shift(p);
                    let sy = y >> psv;
                    let dst = &mut planes[p][r * w..(r + 1) * w];
                    load_row(fixed, sources[p].as_ref().unwrap(), sy, psh, dst);
                }
                let dst = &mut planes[3][r * w..(r + 1) * w];
                match alpha_in {
                    Some(ap) => load_row(fixed, sources[ap].as_ref().unwrap(), y, 0, dst),
                    None => dst.fill(max as f32),
                }
                if needs_xy {
                    for (x, v) in planes[4][r * w..(r + 1) * w].iter_mut().enumerate() {
                        *v = x as f32;
                    }
                    planes[5][r * w..(r + 1) * w].fill(y as f32);
                }
            }
            let mut ycc = ycc.chunks_exact_mut(n);
            let ycc: [&mut [f32]; 3] = std::array::from_fn(|_| ycc.next().unwrap());
            let mut b = Block {
                math,
                planes,
                ycc,
                regs: &mut scratch.regs,
            };
            simd::point_block(isa, ops, &mut b);
            let planes = b.planes;
            // Scatter: luma and alpha per pixel, chroma the mean of its block.
            for p in 0..colour {
                let Some(out) = rows[p].as_mut() else {
                    continue;
                };
                let (psh, _) = format.layout.shift(p);
                if (psh, format.layout.shift(p).1) == (0, 0) {
                    for r in 0..band_rows {
                        let src = &planes[p][r * w..(r + 1) * w];
                        out.store_f32(r, w, src, fixed, max);
                    }
                } else {
                    let cw = w.div_ceil(bw);
                    let mut mean = vec![0.0f32; cw];
                    for r in 0..band_rows {
                        for (x, &v) in planes[p][r * w..(r + 1) * w].iter().enumerate() {
                            mean[x >> psh] += v;
                        }
                    }
                    for (cx, m) in mean.iter_mut().enumerate() {
                        let cols = bw.min(w - cx * bw);
                        *m /= (cols * band_rows) as f32;
                    }
                    out.store_f32(0, cw, &mean, fixed, max);
                }
            }
            if let Some(ap) = alpha_out {
                if let Some(out) = rows[ap].as_mut() {
                    for r in 0..band_rows {
                        out.store_f32(r, w, &planes[3][r * w..(r + 1) * w], fixed, max);
                    }
                }
            }
        },
    );
    outs
}

/// Row `y` of `src` as f32 codes into `dst` (a full-resolution row), each sample repeated
/// 2^`shift` times for subsampled chroma.
#[inline(always)]
fn load_row(fixed: Fixed, src: &Source<'_>, y: usize, shift: u8, dst: &mut [f32]) {
    let w = dst.len();
    macro_rules! spread {
        ($row:expr, $conv:expr) => {{
            let row = $row;
            if shift == 0 {
                for (d, &s) in dst.iter_mut().zip(row) {
                    *d = $conv(s);
                }
            } else {
                for (x, d) in dst.iter_mut().enumerate().take(w) {
                    *d = $conv(row[x >> shift]);
                }
            }
        }};
    }
    match src {
        Source::U8(p) => spread!(p.row(y), |s: u8| s as f32),
        Source::U16(p) => spread!(p.row(y), |s: u16| s as f32),
        Source::Fixed(p) => spread!(p.row(y), |s: i16| fixed.code(s)),
        Source::Float(p) => spread!(p.row(y), |s: f32| s),
    }
}

/// Rows of one plane for one band, to write.
pub(super) enum BandRows<'a> {
    U8(&'a mut [u8]),
    U16(&'a mut [u16]),
    Fixed(&'a mut [i16]),
    Float(&'a mut [f32]),
}

impl BandRows<'_> {
    /// Row `r` of the band (`width` samples) from f32 codes.
    fn store_f32(&mut self, r: usize, width: usize, src: &[f32], fixed: Fixed, max: u32) {
        let range = r * width..(r + 1) * width;
        let top = max as f32;
        match self {
            BandRows::U8(d) => {
                for (o, &v) in d[range].iter_mut().zip(src) {
                    *o = nearest_code(v, top) as u8;
                }
            }
            BandRows::U16(d) => {
                for (o, &v) in d[range].iter_mut().zip(src) {
                    *o = nearest_code(v, top) as u16;
                }
            }
            BandRows::Fixed(d) => {
                for (o, &v) in d[range].iter_mut().zip(src) {
                    *o = fixed.sample(v, max);
                }
            }
            BandRows::Float(d) => {
                for (o, &v) in d[range].iter_mut().zip(src) {
                    *o = clamp(v, top);
                }
            }
        }
    }
}

#[derive(Default)]
struct BandScratch {
    planes: Vec<f32>,
    regs: Registers,
}
