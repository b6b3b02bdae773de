//! The two arithmetics the CPU kernels run in, behind one trait so that the executor is written
//! once: [`Fixed`] for frames of 8 and 10 bits, [`Float`] for 12- and 16-bit frames (the backend
//! picks: `CpuBackend::process`).
//!
//! Fixed point keeps samples between a pass's steps and between passes as `i16` with
//! `14 − bits` fraction bits (8-bit: value · 64, at most 16320), so a sum of two samples still
//! fits and no chain rounds to the frame's depth between its filters. Normalised symmetric
//! blurs multiply pairs of samples by Q15 weights with a rounding high multiply (16 lanes a
//! 256-bit instruction); every other kernel sums `i16` samples times `i16` weights in `i32` and
//! rounds once. Every step is an exact integer operation, so a SIMD version gives the portable
//! one's samples bit for bit. Float keeps code values as `f32`.
//!
//! A [`Window`] is the rows of a plane a strip of work reads, in the arithmetic's sample type:
//! borrowed where the plane already is that type, converted once otherwise.

#[cfg(target_arch = "x86_64")]
use super::fixed_avx2;
use super::{Isa, OutRow, Source};

/// Rows `first .. first + rows` of a plane `height` rows tall, in the arithmetic's sample type.
pub struct Window<'a, T> {
    pub data: &'a [T],
    pub width: usize,
    pub stride: usize,
    pub first: usize,
    pub height: usize,
}

impl<'a, T> Window<'a, T> {
    /// Row `y` of the plane, clamped to its edges; the window must hold the clamped row.
    #[inline(always)]
    pub fn row(&self, y: isize) -> &'a [T] {
        let y = y.clamp(0, self.height as isize - 1) as usize - self.first;
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// What a kernel needs of an arithmetic: its sample type, conversions from and to the frame's
/// codes, and the row kernels.
pub trait Arith: Sync + Send + Copy + 'static {
    type T: Copy + Default + Send + Sync + PartialOrd + std::fmt::Debug + 'static;
    /// A blur's taps prepared for this arithmetic.
    type Taps: Sync + Send;
    /// General weights (2-D kernels, resample tables) prepared for this arithmetic.
    type Weights: Sync + Send + 'static;

    /// Rows `lo .. hi` of `src` as samples of this arithmetic, borrowed or converted into `buf`.
    fn window<'a>(
        &self,
        src: &Source<'a>,
        lo: usize,
        hi: usize,
        buf: &'a mut Vec<Self::T>,
    ) -> Window<'a, Self::T>;

    /// Writes a row of samples into `out`: rounded and clamped to `0 ..= max` for codes,
    /// clamped to the same range for work samples.
    fn store(&self, row: &[Self::T], out: OutRow<'_>, max: u32);

    /// The sample nearest a code value (the fixed-point arithmetic's depends on its
    /// fraction bits, hence `self`).
    #[allow(clippy::wrong_self_convention)]
    fn from_code(&self, code: f32) -> Self::T;

    /// Fraction bits of fixed-point work samples (0 for floating point, which keeps none).
    fn frac(&self) -> u32;

    /// The code value a sample stands for, with its fraction (exact in f32).
    fn value(&self, sample: Self::T) -> f32;

    /// Symmetric normalised taps (odd length) prepared for [`Arith::blur_v`] and
    /// [`Arith::blur_h`].
    fn taps(&self, weights: &[f32]) -> Self::Taps;
    /// `out[x] = Σ w[k] · row(y + k − r)[x]`.
    fn blur_v(&self, rows: &Window<'_, Self::T>, y: usize, taps: &Self::Taps, out: &mut [Self::T]);
    /// `out[x] = Σ w[k] · padded[x + k]`, `padded` holding `r` replicated samples each side.
    fn blur_h(&self, padded: &[Self::T], taps: &Self::Taps, out: &mut [Self::T]);

    /// Weights of one kernel, or of a table of rows of `row_len` weights, prepared for the
    /// sums below; `None` when they do not fit this arithmetic (a kernel whose weights are too
    /// large for fixed point).
    fn weights(&self, weights: &[f32], row_len: usize) -> Option<Self::Weights>;
    /// A 2-D convolution of row `y`: `out[x] = Σ w[j][i] · (padded_j[x + i] − zero) + zero
    /// + bias`, unclamped; `pad` is scratch for one padded row.
    #[allow(clippy::too_many_arguments)]
    fn convolve(
        &self,
        rows: &Window<'_, Self::T>,
        y: usize,
        size: (usize, usize),
        weights: &Self::Weights,
        zero: f32,
        bias: f32,
        out: &mut [Self::T],
        pad: &mut Vec<Self::T>,
        acc: &mut Vec<i32>,
    );
    /// `out = input + amount · (input − blurred)`, unclamped.
    fn unsharp(&self, input: &[Self::T], blurred: &[Self::T], amount: f32, out: &mut [Self::T]);
    /// Vertical resample into row `y` through a table of `taps` per output row, unclamped.
    #[allow(clippy::too_many_arguments)]
    fn resample_v(
        &self,
        rows: &Window<'_, Self::T>,
        y: usize,
        start: i32,
        weights: &Self::Weights,
        taps: usize,
        out: &mut [Self::T],
        acc: &mut Vec<i32>,
    );
    /// Horizontal resample of a row padded by `margin` samples each side, unclamped.
    fn resample_h(
        &self,
        padded: &[Self::T],
        margin: usize,
        starts: &[i32],
        weights: &Self::Weights,
        taps: usize,
        out: &mut [Self::T],
    );
}

/// Copies `row` into `padded` with `pad` replicated samples on each side.
#[inline(always)]
pub fn pad_row<T: Copy>(row: &[T], pad: usize, padded: &mut Vec<T>) {
    padded.clear();
    let (first, last) = (row[0], row[row.len() - 1]);
    padded.extend(std::iter::repeat_n(first, pad));
    padded.extend_from_slice(row);
    padded.extend(std::iter::repeat_n(last, pad));
}

/// Fixed point: `i16` samples with `frac` fraction bits, computed by the kernels of the build
/// `isa` names: the plain loops of [`plain`], or their AVX2 forms (`fixed_avx2`), which give
/// the same samples bit for bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fixed {
    pub frac: u32,
    /// `Isa::Avx2` only where the processor has AVX2 ([`Fixed::with_isa`] checks it).
    isa: Isa,
}

/// Q15 taps of a symmetric blur: `[centre, w1, w2, …]`, summing (centre + 2·rest) to 2^15.
pub struct FixedTaps {
    pub q: Vec<i16>,
}

/// `i16` weights scaled by 2^`shift`.
pub struct FixedWeights {
    pub q: Vec<i16>,
    pub shift: u32,
    /// The rows again, in the order the AVX2 horizontal resample reads them; empty in the
    /// portable build.
    pub blocks: Vec<i16>,
}

/// `v.round()` (halves away from zero) for |v| below 2^62, without the library call the
/// x86-64 baseline makes for it: weights are quantised for every plane of every frame.
#[inline(always)]
fn round(v: f64) -> f64 {
    if v.abs() >= (1u64 << 62) as f64 || v.is_nan() {
        return v.round();
    }
    let t = v as i64 as f64;
    // Exact: |v − t| < 1 and both are within 2^62.
    let rest = v - t;
    if rest >= 0.5 {
        t + 1.0
    } else if rest <= -0.5 {
        t - 1.0
    } else {
        t
    }
}

/// `(a · b + 2^14) >> 15`: a rounding high multiply, as x86's `pmulhrsw` computes it.
#[inline(always)]
pub fn mulhrs(a: i16, b: i16) -> i16 {
    ((a as i32 * b as i32 + 0x4000) >> 15) as i16
}

impl Fixed {
    /// The arithmetic for `bits`-bit frames, or `None` above 12 bits; its kernels are the
    /// portable build's until [`Fixed::with_isa`] says otherwise.
    pub fn for_bits(bits: u8) -> Option<Fixed> {
        (bits <= 12).then(|| Fixed {
            frac: 14 - bits as u32,
            isa: Isa::Portable,
        })
    }

    /// The same arithmetic computed by the kernels of `isa`; `Isa::Avx2` only where
    /// [`Isa::detect`] finds AVX2 (the AVX2 kernels are called on that promise).
    pub fn with_isa(self, isa: Isa) -> Fixed {
        assert!(
            isa == Isa::Portable || Isa::detect() == Isa::Avx2,
            "this processor has no AVX2"
        );
        Fixed { isa, ..self }
    }

    /// True when the AVX2 kernels run.
    #[inline(always)]
    fn avx2(&self) -> bool {
        cfg!(target_arch = "x86_64") && self.isa == Isa::Avx2
    }

    /// Weights quantised to `shift` fraction bits, each row of `row_len` carrying its rounding
    /// error into the next weight so that every row sums as its float weights do.
    pub fn quantise(weights: &[f32], row_len: usize, shift: u32) -> Vec<i16> {
        let scale = (1u32 << shift) as f64;
        let len = row_len.max(1);
        let mut q = vec![0i16; weights.len()];
        let step = |w: f32, carried: &mut f64| {
            let exact = w as f64 * scale + *carried;
            let v = round(exact);
            *carried = exact - v;
            v.clamp(i16::MIN as f64, i16::MAX as f64) as i16
        };
        // Each row's error chain is serial; four rows at a time overlap theirs (this runs for
        // every plane of every frame).
        let quads = weights.len() / (4 * len) * (4 * len);
        let (w4, rest) = weights.split_at(quads);
        let (q4, q_rest) = q.split_at_mut(quads);
        for (w, q) in w4.chunks_exact(4 * len).zip(q4.chunks_exact_mut(4 * len)) {
            let mut carried = [0.0f64; 4];
            for k in 0..len {
                for (r, carried) in carried.iter_mut().enumerate() {
                    q[r * len + k] = step(w[r * len + k], carried);
                }
            }
        }
        for (w, q) in rest.chunks(len).zip(q_rest.chunks_mut(len)) {
            let mut carried = 0.0f64;
            for (q, &w) in q.iter_mut().zip(w) {
                *q = step(w, &mut carried);
            }
        }
        q
    }

    /// `amount` in Q12, as [`Arith::unsharp`] applies it.
    fn q12(amount: f32) -> i32 {
        (amount * 4096.0).round() as i32
    }
}

/// Calls the AVX2 form of a kernel when `$fixed` runs the AVX2 build.
macro_rules! avx2 {
    ($fixed:expr, $call:expr) => {
        #[cfg(target_arch = "x86_64")]
        if $fixed.avx2() {
            // SAFETY: a `Fixed` holds `Isa::Avx2` only where the processor has AVX2
            // (`Fixed::with_isa` checks it), which is all the AVX2 kernels need.
            return unsafe { $call };
        }
    };
}

impl Arith for Fixed {
    type T = i16;
    type Taps = FixedTaps;
    type Weights = FixedWeights;

    #[inline(always)]
    fn window<'a>(
        &self,
        src: &Source<'a>,
        lo: usize,
        hi: usize,
        buf: &'a mut Vec<i16>,
    ) -> Window<'a, i16> {
        let (width, height) = src.size();
        if let Source::Fixed(p) = src {
            return Window {
                data: &p.data[lo * p.stride..],
                width,
                stride: p.stride,
                first: lo,
                height,
            };
        }
        buf.resize((hi - lo) * width, 0);
        let frac = self.frac;
        // Codes above the depth's largest (damaged data) are taken as the largest.
        let max = ((1u32 << (14 - frac)) - 1) as u16;
        for (y, out) in (lo..hi).zip(buf.chunks_exact_mut(width.max(1))) {
            match src {
                Source::U8(p) => self.widen_u8(p.row(y), out),
                Source::U16(p) => self.widen_u16(p.row(y), max, out),
                Source::Float(_) | Source::Fixed(_) => {
                    unreachable!("a plan runs in one arithmetic; its own planes are borrowed")
                }
            }
        }
        Window {
            data: buf,
            width,
            stride: width,
            first: lo,
            height,
        }
    }

    #[inline(always)]
    fn store(&self, row: &[i16], out: OutRow<'_>, max: u32) {
        let frac = self.frac;
        match out {
            OutRow::U8(o) => {
                avx2!(self, fixed_avx2::store_u8(row, frac, max, o));
                plain::store_u8(row, frac, max, o)
            }
            OutRow::U16(o) => {
                avx2!(self, fixed_avx2::store_u16(row, frac, max, o));
                plain::store_u16(row, frac, max, o)
            }
            OutRow::Fixed(o) => {
                let top = (max << frac) as i16;
                avx2!(self, fixed_avx2::clamp_work(row, top, o));
                plain::clamp_work(row, top, o)
            }
            OutRow::Float(_) => unreachable!("fixed-point plans keep fixed-point planes"),
        }
    }

    #[inline(always)]
    fn from_code(&self, code: f32) -> i16 {
        (code * (1u32 << self.frac) as f32)
            .round()
            .clamp(i16::MIN as f32, i16::MAX as f32) as i16
    }

    fn frac(&self) -> u32 {
        self.frac
    }

    #[inline(always)]
    fn value(&self, sample: i16) -> f32 {
        sample as f32 * (1.0 / (1u32 << self.frac) as f32)
    }

    fn taps(&self, weights: &[f32]) -> FixedTaps {
        let r = weights.len() / 2;
        // The centre and one side; the centre takes what rounding left so that the kernel
        // sums to exactly 2^15 and a flat plane stays flat.
        let side = Fixed::quantise(&weights[r + 1..], r.max(1), 15);
        let sum: i32 = side.iter().map(|&w| 2 * w as i32).sum();
        let mut q = Vec::with_capacity(r + 1);
        q.push((32768 - sum).clamp(0, i16::MAX as i32) as i16);
        q.extend(side);
        FixedTaps { q }
    }

    #[inline(always)]
    fn blur_v(&self, rows: &Window<'_, i16>, y: usize, taps: &FixedTaps, out: &mut [i16]) {
        avx2!(self, fixed_avx2::blur_v(rows, y, &taps.q, out));
        plain::blur_v(rows, y, &taps.q, out)
    }

    #[inline(always)]
    fn blur_h(&self, padded: &[i16], taps: &FixedTaps, out: &mut [i16]) {
        avx2!(self, fixed_avx2::blur_h(padded, &taps.q, out));
        plain::blur_h(padded, &taps.q, out)
    }

    fn weights(&self, weights: &[f32], row_len: usize) -> Option<FixedWeights> {
        // The largest shift that keeps every weight in i16 and every sum of a row of products
        // (samples below 2^15 in magnitude) in i32; fewer than 8 fraction bits would lose
        // precision, and such kernels run in floating point.
        let max = weights.iter().fold(0.0f32, |m, w| m.max(w.abs())) as f64;
        let l1: f64 = weights
            .chunks(row_len.max(1))
            .map(|row| row.iter().map(|w| w.abs() as f64).sum::<f64>())
            .fold(0.0, f64::max);
        let by_weight = (i16::MAX as f64 / max.max(1e-30)).log2().floor();
        let by_sum = ((i32::MAX as f64 / 32768.0) / l1.max(1e-30)).log2().floor();
        let shift = by_weight.min(by_sum).min(14.0);
        if shift < 8.0 {
            return None;
        }
        let q = Fixed::quantise(weights, row_len, shift as u32);
        #[cfg(target_arch = "x86_64")]
        let blocks = if self.avx2() {
            fixed_avx2::resample_blocks(&q, row_len.max(1))
        } else {
            Vec::new()
        };
        #[cfg(not(target_arch = "x86_64"))]
        let blocks = Vec::new();
        Some(FixedWeights {
            q,
            shift: shift as u32,
            blocks,
        })
    }

    #[inline(always)]
    fn convolve(
        &self,
        rows: &Window<'_, i16>,
        y: usize,
        size: (usize, usize),
        weights: &FixedWeights,
        zero: f32,
        bias: f32,
        out: &mut [i16],
        pad: &mut Vec<i16>,
        acc: &mut Vec<i32>,
    ) {
        let zero = self.from_code(zero);
        // Added to every result after the shift: the zero taken off before, and the bias.
        let add = zero as i32 + self.from_code(bias) as i32;
        let (q, shift) = (&weights.q[..], weights.shift);
        avx2!(
            self,
            fixed_avx2::convolve(rows, y, size, q, shift, zero, add, out, pad, acc)
        );
        plain::convolve(rows, y, size, q, shift, zero, add, out, pad, acc)
    }

    #[inline(always)]
    fn unsharp(&self, input: &[i16], blurred: &[i16], amount: f32, out: &mut [i16]) {
        let a = Fixed::q12(amount);
        avx2!(self, fixed_avx2::unsharp(input, blurred, a, out));
        plain::unsharp(input, blurred, a, out)
    }

    #[inline(always)]
    fn resample_v(
        &self,
        rows: &Window<'_, i16>,
        y: usize,
        start: i32,
        weights: &FixedWeights,
        taps: usize,
        out: &mut [i16],
        acc: &mut Vec<i32>,
    ) {
        let w = &weights.q[y * taps..(y + 1) * taps];
        avx2!(
            self,
            fixed_avx2::resample_v(rows, start, w, weights.shift, out, acc)
        );
        plain::resample_v(rows, start, w, weights.shift, out, acc)
    }

    #[inline(always)]
    fn resample_h(
        &self,
        padded: &[i16],
        margin: usize,
        starts: &[i32],
        weights: &FixedWeights,
        taps: usize,
        out: &mut [i16],
    ) {
        avx2!(
            self,
            fixed_avx2::resample_h(padded, margin, starts, weights, taps, out)
        );
        plain::resample_h(padded, margin, starts, &weights.q, weights.shift, taps, out)
    }
}

impl Fixed {
    /// Codes of an 8-bit row as work samples.
    #[inline(always)]
    fn widen_u8(&self, row: &[u8], out: &mut [i16]) {
        avx2!(self, fixed_avx2::widen_u8(row, self.frac, out));
        plain::widen_u8(row, self.frac, out)
    }

    /// Codes of a deeper row as work samples, codes above `max` taken as `max`.
    #[inline(always)]
    fn widen_u16(&self, row: &[u16], max: u16, out: &mut [i16]) {
        avx2!(self, fixed_avx2::widen_u16(row, self.frac, max, out));
        plain::widen_u16(row, self.frac, max, out)
    }
}

/// The fixed-point kernels as plain loops: the reference the AVX2 forms are tested against,
/// and what runs in the portable build. Every sum of `i32` products wraps (as the AVX2
/// instructions do), so that a result never depends on the order of its additions; the
/// kernels' weights are sized so that no real sum comes near wrapping.
pub mod plain {
    use super::{mulhrs, pad_row, Window};

    /// `out[x] = row[x] << frac`.
    #[inline(always)]
    pub fn widen_u8(row: &[u8], frac: u32, out: &mut [i16]) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = (v as i16) << frac;
        }
    }

    /// `out[x] = min(row[x], max) << frac`.
    #[inline(always)]
    pub fn widen_u16(row: &[u16], frac: u32, max: u16, out: &mut [i16]) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = (v.min(max) as i16) << frac;
        }
    }

    /// The code nearest a work sample, clamped to `0 ..= max`.
    #[inline(always)]
    pub fn code(v: i16, frac: u32, max: u32) -> u32 {
        ((v as i32 + (1 << (frac - 1))) >> frac).clamp(0, max as i32) as u32
    }

    #[inline(always)]
    pub fn store_u8(row: &[i16], frac: u32, max: u32, out: &mut [u8]) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = code(v, frac, max) as u8;
        }
    }

    #[inline(always)]
    pub fn store_u16(row: &[i16], frac: u32, max: u32, out: &mut [u16]) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = code(v, frac, max) as u16;
        }
    }

    /// Work samples clamped to `0 ..= top`.
    #[inline(always)]
    pub fn clamp_work(row: &[i16], top: i16, out: &mut [i16]) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o = v.clamp(0, top);
        }
    }

    /// `out[x] = mulhrs(c[x], q[0]) + Σₖ mulhrs(aₖ[x] + bₖ[x], q[k])`, every addition
    /// wrapping in `i16`; `c` the centre row and `aₖ`, `bₖ` the rows `k` before and after it.
    #[inline(always)]
    pub fn blur_v(rows: &Window<'_, i16>, y: usize, q: &[i16], out: &mut [i16]) {
        let y = y as isize;
        let centre = rows.row(y);
        let w0 = q[0];
        for (o, &c) in out.iter_mut().zip(centre) {
            *o = mulhrs(c, w0);
        }
        for (k, &w) in q.iter().enumerate().skip(1) {
            let (a, b) = (rows.row(y - k as isize), rows.row(y + k as isize));
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = o.wrapping_add(mulhrs(a.wrapping_add(b), w));
            }
        }
    }

    /// [`blur_v`] along a row padded by `q.len() − 1` samples each side.
    #[inline(always)]
    pub fn blur_h(padded: &[i16], q: &[i16], out: &mut [i16]) {
        let r = q.len() - 1;
        let n = out.len();
        let w0 = q[0];
        for (o, &c) in out.iter_mut().zip(&padded[r..r + n]) {
            *o = mulhrs(c, w0);
        }
        for (k, &w) in q.iter().enumerate().skip(1) {
            let (a, b) = (&padded[r - k..r - k + n], &padded[r + k..r + k + n]);
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o = o.wrapping_add(mulhrs(a.wrapping_add(b), w));
            }
        }
    }

    /// A sum of products scaled by 2^`shift`, rounded to the nearest and clamped to `i16`.
    #[inline(always)]
    pub fn round(acc: i32, shift: u32) -> i32 {
        acc.wrapping_add(1 << (shift - 1)) >> shift
    }

    #[inline(always)]
    pub fn saturate(v: i32) -> i16 {
        v.clamp(i16::MIN as i32, i16::MAX as i32) as i16
    }

    /// `out[x] = round(Σ q[j][i] · (row(y + j − ry)[x + i − rx] − zero)) + add`, rows and
    /// columns clamped to the plane's edges. The sum is taken as `Σ q · s − zero · Σ q`: the
    /// same `i32` (both wrap), one multiply-add a tap.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn convolve(
        rows: &Window<'_, i16>,
        y: usize,
        (kw, kh): (usize, usize),
        q: &[i16],
        shift: u32,
        zero: i16,
        add: i32,
        out: &mut [i16],
        pad: &mut Vec<i16>,
        acc: &mut Vec<i32>,
    ) {
        let n = out.len();
        let (rx, ry) = (kw / 2, (kh / 2) as isize);
        let sum = q.iter().fold(0i32, |s, &w| s.wrapping_add(w as i32));
        acc.clear();
        acc.resize(n, (zero as i32).wrapping_mul(sum).wrapping_neg());
        for j in 0..kh {
            pad_row(rows.row(y as isize + j as isize - ry), rx, pad);
            for i in 0..kw {
                let w = q[j * kw + i] as i32;
                if w == 0 {
                    continue;
                }
                for (a, &s) in acc.iter_mut().zip(&pad[i..i + n]) {
                    *a = a.wrapping_add(s as i32 * w);
                }
            }
        }
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = saturate(round(a, shift).wrapping_add(add));
        }
    }

    /// `out = input + ((input − blurred) · a + 2^11) >> 12`, `a` the amount in Q12 (at most
    /// 5 · 2^12 in magnitude), clamped to `i16`.
    #[inline(always)]
    pub fn unsharp(input: &[i16], blurred: &[i16], a: i32, out: &mut [i16]) {
        for ((o, &i), &b) in out.iter_mut().zip(input).zip(blurred) {
            let d = i as i32 - b as i32;
            *o = saturate(i as i32 + ((d * a + 2048) >> 12));
        }
    }

    /// `out[x] = round(Σₖ w[k] · row(start + k)[x])`.
    #[inline(always)]
    pub fn resample_v(
        rows: &Window<'_, i16>,
        start: i32,
        w: &[i16],
        shift: u32,
        out: &mut [i16],
        acc: &mut Vec<i32>,
    ) {
        acc.clear();
        acc.resize(out.len(), 0);
        for (k, &w) in w.iter().enumerate() {
            let row = rows.row(start as isize + k as isize);
            for (a, &s) in acc.iter_mut().zip(row) {
                *a = a.wrapping_add(s as i32 * w as i32);
            }
        }
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
            *o = saturate(round(a, shift));
        }
    }

    /// Output `x` of a horizontal resample: `round(Σₖ w[k] · padded[margin + start + k])`.
    #[inline(always)]
    pub fn resample_one(padded: &[i16], first: usize, w: &[i16], shift: u32) -> i16 {
        let mut a = 0i32;
        for (&w, &s) in w.iter().zip(&padded[first..first + w.len()]) {
            a = a.wrapping_add(s as i32 * w as i32);
        }
        saturate(round(a, shift))
    }

    #[inline(always)]
    pub fn resample_h(
        padded: &[i16],
        margin: usize,
        starts: &[i32],
        q: &[i16],
        shift: u32,
        taps: usize,
        out: &mut [i16],
    ) {
        for ((o, &start), w) in out.iter_mut().zip(starts).zip(q.chunks_exact(taps)) {
            let first = (start as isize + margin as isize) as usize;
            *o = resample_one(padded, first, w, shift);
        }
    }
}

/// Floating point: `f32` code values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Float;

impl Arith for Float {
    type T = f32;
    type Taps = Vec<f32>;
    type Weights = Vec<f32>;

    #[inline(always)]
    fn window<'a>(
        &self,
        src: &Source<'a>,
        lo: usize,
        hi: usize,
        buf: &'a mut Vec<f32>,
    ) -> Window<'a, f32> {
        let (width, height) = src.size();
        if let Source::Float(p) = src {
            return Window {
                data: &p.data[lo * p.stride..],
                width,
                stride: p.stride,
                first: lo,
                height,
            };
        }
        buf.resize((hi - lo) * width, 0.0);
        for (y, out) in (lo..hi).zip(buf.chunks_exact_mut(width.max(1))) {
            match src {
                Source::U8(p) => {
                    for (o, &v) in out.iter_mut().zip(p.row(y)) {
                        *o = v as f32;
                    }
                }
                Source::U16(p) => {
                    for (o, &v) in out.iter_mut().zip(p.row(y)) {
                        *o = v as f32;
                    }
                }
                Source::Fixed(_) | Source::Float(_) => {
                    unreachable!("a plan runs in one arithmetic; its own planes are borrowed")
                }
            }
        }
        Window {
            data: buf,
            width,
            stride: width,
            first: lo,
            height,
        }
    }

    #[inline(always)]
    fn store(&self, row: &[f32], out: OutRow<'_>, max: u32) {
        let top = max as f32;
        match out {
            OutRow::U8(o) => {
                for (o, &v) in o.iter_mut().zip(row) {
                    *o = crate::frame::nearest_code(v, top) as u8;
                }
            }
            OutRow::U16(o) => {
                for (o, &v) in o.iter_mut().zip(row) {
                    *o = crate::frame::nearest_code(v, top) as u16;
                }
            }
            OutRow::Float(o) => {
                for (o, &v) in o.iter_mut().zip(row) {
                    *o = crate::op::clamp(v, top);
                }
            }
            OutRow::Fixed(_) => unreachable!("float plans keep float planes"),
        }
    }

    #[inline(always)]
    fn from_code(&self, code: f32) -> f32 {
        code
    }

    fn frac(&self) -> u32 {
        0
    }

    #[inline(always)]
    fn value(&self, sample: f32) -> f32 {
        sample
    }

    fn taps(&self, weights: &[f32]) -> Vec<f32> {
        weights[weights.len() / 2..].to_vec()
    }

    #[inline(always)]
    fn blur_v(&self, rows: &Window<'_, f32>, y: usize, taps: &Vec<f32>, out: &mut [f32]) {
        let y = y as isize;
        let w0 = taps[0];
        for (o, &c) in out.iter_mut().zip(rows.row(y)) {
            *o = c * w0;
        }
        for (k, &w) in taps.iter().enumerate().skip(1) {
            let (a, b) = (rows.row(y - k as isize), rows.row(y + k as isize));
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o += (a + b) * w;
            }
        }
    }

    #[inline(always)]
    fn blur_h(&self, padded: &[f32], taps: &Vec<f32>, out: &mut [f32]) {
        let r = taps.len() - 1;
        let n = out.len();
        let w0 = taps[0];
        for (o, &c) in out.iter_mut().zip(&padded[r..r + n]) {
            *o = c * w0;
        }
        for (k, &w) in taps.iter().enumerate().skip(1) {
            let (a, b) = (&padded[r - k..r - k + n], &padded[r + k..r + k + n]);
            for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                *o += (a + b) * w;
            }
        }
    }

    fn weights(&self, weights: &[f32], _row_len: usize) -> Option<Vec<f32>> {
        Some(weights.to_vec())
    }

    #[inline(always)]
    fn convolve(
        &self,
        rows: &Window<'_, f32>,
        y: usize,
        (kw, kh): (usize, usize),
        weights: &Vec<f32>,
        zero: f32,
        bias: f32,
        out: &mut [f32],
        pad: &mut Vec<f32>,
        _acc: &mut Vec<i32>,
    ) {
        let n = out.len();
        let (rx, ry) = (kw / 2, (kh / 2) as isize);
        out.fill(0.0);
        for j in 0..kh {
            pad_row(rows.row(y as isize + j as isize - ry), rx, pad);
            for i in 0..kw {
                let w = weights[j * kw + i];
                if w == 0.0 {
                    continue;
                }
                for (o, &s) in out.iter_mut().zip(&pad[i..i + n]) {
                    *o += w * (s - zero);
                }
            }
        }
        for o in out.iter_mut() {
            *o += zero + bias;
        }
    }

    #[inline(always)]
    fn unsharp(&self, input: &[f32], blurred: &[f32], amount: f32, out: &mut [f32]) {
        for ((o, &i), &b) in out.iter_mut().zip(input).zip(blurred) {
            *o = i + amount * (i - b);
        }
    }

    #[inline(always)]
    fn resample_v(
        &self,
        rows: &Window<'_, f32>,
        y: usize,
        start: i32,
        weights: &Vec<f32>,
        taps: usize,
        out: &mut [f32],
        _acc: &mut Vec<i32>,
    ) {
        out.fill(0.0);
        for k in 0..taps {
            let w = weights[y * taps + k];
            for (o, &s) in out.iter_mut().zip(rows.row(start as isize + k as isize)) {
                *o += w * s;
            }
        }
    }

    #[inline(always)]
    fn resample_h(
        &self,
        padded: &[f32],
        margin: usize,
        starts: &[i32],
        weights: &Vec<f32>,
        taps: usize,
        out: &mut [f32],
    ) {
        for ((o, &start), w) in out.iter_mut().zip(starts).zip(weights.chunks_exact(taps)) {
            let first = (start as isize + margin as isize) as usize;
            let mut a = 0.0f32;
            for (&w, &s) in w.iter().zip(&padded[first..first + taps]) {
                a += w * s;
            }
            *o = a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows quantised four at a time come out as rows quantised one by one.
    #[test]
    fn quantising_rows_together_is_quantising_them_one_by_one() {
        let weights: Vec<f32> = (0..1000)
            .map(|i| ((i * 37 % 101) as f32 - 40.0) / 97.0)
            .collect();
        for row_len in [1, 3, 7, 10, 64, 999, 1000, 1500] {
            let mut expected = Vec::new();
            for row in weights.chunks(row_len) {
                let mut carried = 0.0f64;
                for &w in row {
                    let exact = w as f64 * 4096.0 + carried;
                    let v = exact.round();
                    carried = exact - v;
                    expected.push(v.clamp(-32768.0, 32767.0) as i16);
                }
            }
            assert_eq!(
                Fixed::quantise(&weights, row_len, 12),
                expected,
                "rows of {row_len}"
            );
        }
    }

    /// The quantiser's rounding is `f64::round`'s, halves and large values included.
    #[test]
    fn rounding_is_f64_rounds() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -2.5e-300,
        ];
        values.extend([
            1e15 + 0.5,
            -((1u64 << 53) as f64) - 1.0,
            3e18,
            -5e18,
            1e300,
            f64::MAX,
        ]);
        let mut x = 0.1234f64;
        for _ in 0..100_000 {
            x = (x * 7919.123 + 0.377) % 65536.0;
            values.extend([x - 32768.0, (x * 2.0).round() / 2.0 - 32768.0]);
        }
        for v in values {
            assert_eq!(round(v), v.round(), "{v:e}");
        }
    }
}
