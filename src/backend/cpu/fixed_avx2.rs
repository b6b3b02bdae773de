//! AVX2 forms of the fixed-point kernels of [`super::arith::Fixed`], sixteen `i16` samples an
//! instruction. Each gives exactly the samples of its plain form in [`super::arith::plain`]:
//! the same rounding high multiplies (`pmulhrsw`), `i32` sums of pairs of products (`pmaddwd`)
//! that wrap as the plain sums do, so that the order of the additions is free, and the same
//! rounding shifts and clamps. The tests in `super::simd` compare the two on every kernel.
//! Columns past the last whole vector run the plain arithmetic on their own samples, and a
//! kernel whose parameters fall outside what its vector form assumes (each says which) runs
//! its plain form.
//!
//! The kernels are safe functions compiled for AVX2; `Fixed` calls them only where its `Isa`
//! says the processor has AVX2. Every raw load and store sits in an `unsafe` block whose
//! bounds the function has checked before.

use std::arch::x86_64::*;
use std::ptr;

use super::arith::{mulhrs, plain, FixedWeights, Window};

/// Sixteen samples from `p`.
///
/// # Safety
/// `p .. p + 16` must be readable.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load(p: *const i16) -> __m256i {
    // SAFETY: the caller's promise.
    unsafe { _mm256_loadu_si256(p.cast()) }
}

/// Eight samples from `p`.
///
/// # Safety
/// `p .. p + 8` must be readable.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn load8(p: *const i16) -> __m128i {
    // SAFETY: the caller's promise.
    unsafe { _mm_loadu_si128(p.cast()) }
}

/// Sixteen samples to `p`.
///
/// # Safety
/// `p .. p + 16` must be writable.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn store(p: *mut i16, v: __m256i) {
    // SAFETY: the caller's promise.
    unsafe { _mm256_storeu_si256(p.cast(), v) }
}

/// Two `i16` weights as the `i32` lane `pmaddwd` pairs with (`lo` multiplies the first sample
/// of a pair), in every lane.
#[inline]
#[target_feature(enable = "avx2")]
fn weight_pair(lo: i16, hi: i16) -> __m256i {
    _mm256_set1_epi32(((hi as i32) << 16) | (lo as u16 as i32))
}

/// `(v + 2^(shift − 1)) >> shift` in each `i32` lane, `half` being 2^(shift − 1) and `count`
/// the shift.
#[inline]
#[target_feature(enable = "avx2")]
fn round32(v: __m256i, half: __m256i, count: __m128i) -> __m256i {
    _mm256_sra_epi32(_mm256_add_epi32(v, half), count)
}

// ---- Conversions between codes and work samples --------------------------------------------

/// [`plain::widen_u8`].
#[target_feature(enable = "avx2")]
pub fn widen_u8(row: &[u8], frac: u32, out: &mut [i16]) {
    let n = out.len().min(row.len());
    let count = _mm_cvtsi32_si128(frac as i32);
    let mut x = 0;
    while x + 16 <= n {
        // SAFETY: x + 16 ≤ n, which neither slice is shorter than.
        unsafe {
            let v = _mm256_cvtepu8_epi16(_mm_loadu_si128(row.as_ptr().add(x).cast()));
            store(out.as_mut_ptr().add(x), _mm256_sll_epi16(v, count));
        }
        x += 16;
    }
    plain::widen_u8(&row[x..n], frac, &mut out[x..n]);
}

/// [`plain::widen_u16`].
#[target_feature(enable = "avx2")]
pub fn widen_u16(row: &[u16], frac: u32, max: u16, out: &mut [i16]) {
    let n = out.len().min(row.len());
    let count = _mm_cvtsi32_si128(frac as i32);
    let top = _mm256_set1_epi16(max as i16);
    let mut x = 0;
    while x + 16 <= n {
        // SAFETY: x + 16 ≤ n, which neither slice is shorter than.
        unsafe {
            let v = _mm256_loadu_si256(row.as_ptr().add(x).cast());
            let v = _mm256_min_epu16(v, top);
            store(out.as_mut_ptr().add(x), _mm256_sll_epi16(v, count));
        }
        x += 16;
    }
    plain::widen_u16(&row[x..n], frac, max, &mut out[x..n]);
}

/// Codes of sixteen work samples: `(v + half) >> frac` clamped to `0 ..= top`. The addition
/// saturates where the plain one widens to `i32`; the two differ only where a sample is
/// within `half` of `i16::MAX`, and there both clamp to `top` as long as
/// `top ≤ i16::MAX >> frac`, which the callers check.
#[inline]
#[target_feature(enable = "avx2")]
fn codes(v: __m256i, half: __m256i, count: __m128i, top: __m256i) -> __m256i {
    let v = _mm256_sra_epi16(_mm256_adds_epi16(v, half), count);
    _mm256_min_epi16(_mm256_max_epi16(v, _mm256_setzero_si256()), top)
}

/// True when [`codes`] gives the plain rounding for `frac` and `max`.
fn codes_exact(frac: u32, max: u32) -> bool {
    (1..=14).contains(&frac) && max <= (i16::MAX as u32 >> frac)
}

/// [`plain::store_u8`]; plain where `max` is above 255 or [`codes`] is not exact.
#[target_feature(enable = "avx2")]
pub fn store_u8(row: &[i16], frac: u32, max: u32, out: &mut [u8]) {
    if !codes_exact(frac, max) || max > 255 {
        return plain::store_u8(row, frac, max, out);
    }
    let n = out.len().min(row.len());
    let half = _mm256_set1_epi16(1 << (frac - 1));
    let count = _mm_cvtsi32_si128(frac as i32);
    let top = _mm256_set1_epi16(max as i16);
    let mut x = 0;
    while x + 32 <= n {
        // SAFETY: x + 32 ≤ n, which neither slice is shorter than.
        unsafe {
            let a = codes(load(row.as_ptr().add(x)), half, count, top);
            let b = codes(load(row.as_ptr().add(x + 16)), half, count, top);
            // packus interleaves the two vectors' 128-bit halves; the permute restores order.
            let v = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(a, b));
            _mm256_storeu_si256(out.as_mut_ptr().add(x).cast(), v);
        }
        x += 32;
    }
    if x + 16 <= n {
        // SAFETY: x + 16 ≤ n, which neither slice is shorter than.
        unsafe {
            let a = codes(load(row.as_ptr().add(x)), half, count, top);
            let v = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(a, a));
            _mm_storeu_si128(out.as_mut_ptr().add(x).cast(), _mm256_castsi256_si128(v));
        }
        x += 16;
    }
    plain::store_u8(&row[x..n], frac, max, &mut out[x..n]);
}

/// [`plain::store_u16`]; plain where [`codes`] is not exact.
#[target_feature(enable = "avx2")]
pub fn store_u16(row: &[i16], frac: u32, max: u32, out: &mut [u16]) {
    if !codes_exact(frac, max) {
        return plain::store_u16(row, frac, max, out);
    }
    let n = out.len().min(row.len());
    let half = _mm256_set1_epi16(1 << (frac - 1));
    let count = _mm_cvtsi32_si128(frac as i32);
    let top = _mm256_set1_epi16(max as i16);
    let mut x = 0;
    while x + 16 <= n {
        // SAFETY: x + 16 ≤ n, which neither slice is shorter than; codes are in
        // 0 ..= i16::MAX, so their i16 bits are their u16 bits.
        unsafe {
            let v = codes(load(row.as_ptr().add(x)), half, count, top);
            _mm256_storeu_si256(out.as_mut_ptr().add(x).cast(), v);
        }
        x += 16;
    }
    plain::store_u16(&row[x..n], frac, max, &mut out[x..n]);
}

/// [`plain::clamp_work`].
#[target_feature(enable = "avx2")]
pub fn clamp_work(row: &[i16], top: i16, out: &mut [i16]) {
    let n = out.len().min(row.len());
    let (zero, top_v) = (_mm256_setzero_si256(), _mm256_set1_epi16(top));
    let mut x = 0;
    while x + 16 <= n {
        // SAFETY: x + 16 ≤ n, which neither slice is shorter than.
        unsafe {
            let v = load(row.as_ptr().add(x));
            let v = _mm256_min_epi16(_mm256_max_epi16(v, zero), top_v);
            store(out.as_mut_ptr().add(x), v);
        }
        x += 16;
    }
    plain::clamp_work(&row[x..n], top, &mut out[x..n]);
}

// ---- Normalised symmetric blurs --------------------------------------------------------------

/// Taps a blur adds per sweep over a row; longer kernels (σ above 7) take several sweeps, each
/// adding into the output row.
const SWEEP: usize = 24;

/// [`plain::blur_v`].
#[target_feature(enable = "avx2")]
pub fn blur_v(rows: &Window<'_, i16>, y: usize, q: &[i16], out: &mut [i16]) {
    assert!(out.len() <= rows.width);
    let y = y as isize;
    let pair = |k: usize| {
        let (a, b) = (rows.row(y - k as isize), rows.row(y + k as isize));
        (a.as_ptr(), b.as_ptr())
    };
    // SAFETY: every row of the window is `rows.width ≥ out.len()` samples long.
    unsafe { blur(rows.row(y).as_ptr(), q, out, pair) }
}

/// [`plain::blur_h`].
#[target_feature(enable = "avx2")]
pub fn blur_h(padded: &[i16], q: &[i16], out: &mut [i16]) {
    let (r, n) = (q.len() - 1, out.len());
    assert!(padded.len() >= n + 2 * r);
    let pair = |k: usize| (padded[r - k..].as_ptr(), padded[r + k..].as_ptr());
    // SAFETY: the centre and every pair start at most 2r samples into `padded`, which holds
    // n + 2r.
    unsafe { blur(padded[r..].as_ptr(), q, out, pair) }
}

/// `out[x] = mulhrs(centre[x], q[0]) + Σₖ mulhrs(aₖ[x] + bₖ[x], q[k])`, `(aₖ, bₖ) = pair(k)`.
///
/// # Safety
/// `centre` and both rows of every pair must be readable for `out.len()` samples.
#[target_feature(enable = "avx2")]
unsafe fn blur(
    centre: *const i16,
    q: &[i16],
    out: &mut [i16],
    pair: impl Fn(usize) -> (*const i16, *const i16),
) {
    let r = q.len() - 1;
    let mut k0 = 1;
    loop {
        let k1 = (k0 + SWEEP).min(r + 1);
        let mut rows = [(ptr::null(), ptr::null()); SWEEP];
        let mut w = [_mm256_setzero_si256(); SWEEP];
        for k in k0..k1 {
            rows[k - k0] = pair(k);
            w[k - k0] = _mm256_set1_epi16(q[k]);
        }
        let m = k1 - k0;
        // SAFETY: the caller's promise, for the centre and for every pair.
        unsafe {
            if k0 == 1 {
                sweep::<true>(centre, q[0], &rows[..m], &w[..m], &q[k0..k1], out);
            } else {
                sweep::<false>(centre, q[0], &rows[..m], &w[..m], &q[k0..k1], out);
            }
        }
        if k1 > r {
            return;
        }
        k0 = k1;
    }
}

/// One sweep of [`blur`] over a row: the centre tap too when `FIRST`, otherwise adding to
/// what `out` holds. `w` holds the taps of `q` broadcast.
///
/// # Safety
/// As for [`blur`].
#[target_feature(enable = "avx2")]
unsafe fn sweep<const FIRST: bool>(
    centre: *const i16,
    w0: i16,
    rows: &[(*const i16, *const i16)],
    w: &[__m256i],
    q: &[i16],
    out: &mut [i16],
) {
    let n = out.len();
    let o = out.as_mut_ptr();
    let w0v = _mm256_set1_epi16(w0);
    let mut x = 0;
    // SAFETY: every block below reads and writes samples x .. x + 16·U ≤ n of rows readable
    // for n samples (the caller's promise) and of `out`.
    unsafe {
        while x + 64 <= n {
            blur_block::<FIRST, 4>(x, centre, w0v, rows, w, o);
            x += 64;
        }
        while x + 16 <= n {
            blur_block::<FIRST, 1>(x, centre, w0v, rows, w, o);
            x += 16;
        }
        for x in x..n {
            let mut v = if FIRST {
                mulhrs(*centre.add(x), w0)
            } else {
                *o.add(x)
            };
            for (&(a, b), &w) in rows.iter().zip(q) {
                v = v.wrapping_add(mulhrs((*a.add(x)).wrapping_add(*b.add(x)), w));
            }
            *o.add(x) = v;
        }
    }
}

/// `16·U` samples of a [`sweep`] from `x`, one accumulator a vector.
///
/// # Safety
/// Samples `x .. x + 16·U` of `centre`, of every row and of `o` must be readable (and
/// writable for `o`).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn blur_block<const FIRST: bool, const U: usize>(
    x: usize,
    centre: *const i16,
    w0: __m256i,
    rows: &[(*const i16, *const i16)],
    w: &[__m256i],
    o: *mut i16,
) {
    // SAFETY: the caller's promise.
    unsafe {
        let mut acc = [_mm256_setzero_si256(); U];
        for (u, acc) in acc.iter_mut().enumerate() {
            let at = x + 16 * u;
            *acc = if FIRST {
                _mm256_mulhrs_epi16(load(centre.add(at)), w0)
            } else {
                load(o.add(at))
            };
        }
        for (&(a, b), &w) in rows.iter().zip(w) {
            for (u, acc) in acc.iter_mut().enumerate() {
                let at = x + 16 * u;
                let s = _mm256_add_epi16(load(a.add(at)), load(b.add(at)));
                *acc = _mm256_add_epi16(*acc, _mm256_mulhrs_epi16(s, w));
            }
        }
        for (u, acc) in acc.iter().enumerate() {
            store(o.add(x + 16 * u), *acc);
        }
    }
}

// ---- Unsharp mask ----------------------------------------------------------------------------

/// [`plain::unsharp`] for amounts `a` (Q12) in −4 ..= 5 (plain elsewhere), computed as
/// `(input · (2^12 + a) − blurred · a + 2^11) >> 12`: one `pmaddwd` a pair of samples, and
/// the same integer as the plain form's, since `input · 2^12` passes through the shift
/// unchanged and no term comes near 2^31.
#[target_feature(enable = "avx2")]
pub fn unsharp(input: &[i16], blurred: &[i16], a: i32, out: &mut [i16]) {
    if !(-4 * 4096..=5 * 4096).contains(&a) {
        return plain::unsharp(input, blurred, a, out);
    }
    let n = out.len().min(input.len()).min(blurred.len());
    let w = weight_pair((4096 + a) as i16, (-a) as i16);
    let half = _mm256_set1_epi32(2048);
    let mut x = 0;
    while x + 16 <= n {
        // SAFETY: x + 16 ≤ n, which no slice is shorter than.
        unsafe {
            let i = load(input.as_ptr().add(x));
            let b = load(blurred.as_ptr().add(x));
            let lo = _mm256_madd_epi16(_mm256_unpacklo_epi16(i, b), w);
            let hi = _mm256_madd_epi16(_mm256_unpackhi_epi16(i, b), w);
            let lo = _mm256_srai_epi32::<12>(_mm256_add_epi32(lo, half));
            let hi = _mm256_srai_epi32::<12>(_mm256_add_epi32(hi, half));
            // unpacklo/hi split each 128-bit half in two; packs puts them back in order.
            store(out.as_mut_ptr().add(x), _mm256_packs_epi32(lo, hi));
        }
        x += 16;
    }
    plain::unsharp(&input[x..n], &blurred[x..n], a, &mut out[x..n]);
}

// ---- Sums of products: convolutions and resamples ------------------------------------------

/// The most taps a vertical resample keeps in registers (a downscale by about 10 with
/// lanczos3); longer tables run the plain form.
const MAX_TAPS: usize = 64;

/// [`plain::resample_v`], pairs of rows interleaved into `pmaddwd`.
#[target_feature(enable = "avx2")]
pub fn resample_v(
    rows: &Window<'_, i16>,
    start: i32,
    w: &[i16],
    shift: u32,
    out: &mut [i16],
    acc: &mut Vec<i32>,
) {
    let (taps, n) = (w.len(), out.len());
    if taps == 0 || taps > MAX_TAPS {
        return plain::resample_v(rows, start, w, shift, out, acc);
    }
    assert!(n <= rows.width);
    let pairs = taps.div_ceil(2);
    let mut p = [(ptr::null(), ptr::null()); MAX_TAPS / 2];
    let mut wp = [_mm256_setzero_si256(); MAX_TAPS / 2];
    let mut ws = [(0i16, 0i16); MAX_TAPS / 2];
    for i in 0..pairs {
        let row = |k: usize| rows.row(start as isize + k as isize).as_ptr();
        let k = 2 * i;
        // An odd last tap pairs with its own row at weight 0.
        let (b, wb) = if k + 1 < taps {
            (row(k + 1), w[k + 1])
        } else {
            (row(k), 0)
        };
        p[i] = (row(k), b);
        ws[i] = (w[k], wb);
        wp[i] = weight_pair(w[k], wb);
    }
    let (p, wp, ws) = (&p[..pairs], &wp[..pairs], &ws[..pairs]);
    let half = _mm256_set1_epi32(1 << (shift - 1));
    let count = _mm_cvtsi32_si128(shift as i32);
    let o = out.as_mut_ptr();
    let mut x = 0;
    // SAFETY: blocks read and write samples x .. x + 16·U ≤ n of window rows (each
    // `rows.width ≥ n` long) and of `out`.
    unsafe {
        while x + 64 <= n {
            resample_v_block::<4>(x, p, wp, half, count, o);
            x += 64;
        }
        while x + 32 <= n {
            resample_v_block::<2>(x, p, wp, half, count, o);
            x += 32;
        }
        while x + 16 <= n {
            resample_v_block::<1>(x, p, wp, half, count, o);
            x += 16;
        }
        for x in x..n {
            let mut a = 0i32;
            for (&(ra, rb), &(wa, wb)) in p.iter().zip(ws) {
                a = a
                    .wrapping_add(*ra.add(x) as i32 * wa as i32)
                    .wrapping_add(*rb.add(x) as i32 * wb as i32);
            }
            *o.add(x) = plain::saturate(plain::round(a, shift));
        }
    }
}

/// `16·U` outputs of [`resample_v`] from `x`.
///
/// # Safety
/// Samples `x .. x + 16·U` of every row and of `o` must be readable (writable for `o`).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn resample_v_block<const U: usize>(
    x: usize,
    p: &[(*const i16, *const i16)],
    wp: &[__m256i],
    half: __m256i,
    count: __m128i,
    o: *mut i16,
) {
    // SAFETY: the caller's promise.
    unsafe {
        let mut lo = [_mm256_setzero_si256(); U];
        let mut hi = [_mm256_setzero_si256(); U];
        for (&(a, b), &w) in p.iter().zip(wp) {
            for u in 0..U {
                let at = x + 16 * u;
                let (va, vb) = (load(a.add(at)), load(b.add(at)));
                let l = _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w);
                let h = _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w);
                lo[u] = _mm256_add_epi32(lo[u], l);
                hi[u] = _mm256_add_epi32(hi[u], h);
            }
        }
        for u in 0..U {
            let (l, h) = (round32(lo[u], half, count), round32(hi[u], half, count));
            store(o.add(x + 16 * u), _mm256_packs_epi32(l, h));
        }
    }
}

/// Outputs a block of the horizontal resample computes together.
const BLOCK: usize = 8;

/// The weights of a table of rows of `taps` (one row an output), laid out for
/// [`resample_h`]: for each block of eight outputs, the pairs of outputs (i, i + 4) for i in
/// 0..4; for each pair, its taps eight at a time, the first output's eight then the
/// second's. Taps past the row's end and rows past the table's are 0.
pub fn resample_blocks(q: &[i16], taps: usize) -> Vec<i16> {
    let rows = q.len() / taps;
    let chunks = taps.div_ceil(8);
    let mut out = vec![0i16; rows.div_ceil(BLOCK) * BLOCK * chunks * 8];
    for (row, w) in q.chunks_exact(taps).enumerate() {
        let (block, i) = (row / BLOCK, row % BLOCK);
        let (pair, second) = (i % 4, i / 4);
        for (c, w) in w.chunks(8).enumerate() {
            let at = ((block * 4 + pair) * chunks + c) * 16 + second * 8;
            out[at..at + w.len()].copy_from_slice(w);
        }
    }
    out
}

/// [`plain::resample_h`]. Each output's taps are read eight at a time, two outputs a vector
/// (one a 128-bit half), summed with `pmaddwd`; three rounds of `phaddd` finish eight outputs'
/// sums at once. Vector reads go up to 7 samples past an output's last tap: where a row's
/// outputs would read past `padded` (the executor pads rows for this), blocks of eight that
/// would run the plain form, as do the last outputs of a row.
#[target_feature(enable = "avx2")]
pub fn resample_h(
    padded: &[i16],
    margin: usize,
    starts: &[i32],
    weights: &FixedWeights,
    taps: usize,
    out: &mut [i16],
) {
    let n = out.len();
    let chunks = taps.div_ceil(8);
    let (q, shift) = (&weights.q[..], weights.shift);
    if taps == 0
        || starts.len() < n
        || q.len() < n * taps
        || weights.blocks.len() < n.div_ceil(BLOCK) * BLOCK * chunks * 8
        || padded.len() > i32::MAX as usize
        || margin > i32::MAX as usize
    {
        return plain::resample_h(padded, margin, starts, q, shift, taps, out);
    }
    // An output reads padded[first .. first + 8·chunks], first = start + margin.
    let reach = padded.len() as i64 - 8 * chunks as i64;
    let fits = |s: &[i32]| {
        let (lo, hi) = span(s);
        lo as i64 + margin as i64 >= 0 && hi as i64 + margin as i64 <= reach
    };
    let whole = n - n % BLOCK;
    let half = _mm256_set1_epi32(1 << (shift - 1));
    let count = _mm_cvtsi32_si128(shift as i32);
    let run = |j0: usize, j1: usize, out: &mut [i16]| {
        let s = &starts[j0..j1];
        let w = &weights.blocks[j0 * chunks * 8..];
        let o = &mut out[j0..j1];
        // SAFETY: every output's samples first .. first + 8·chunks lie in `padded` (checked
        // by the caller), the blocks' weights in `blocks` (checked at the top).
        unsafe {
            match chunks {
                1 => resample_h_blocks::<1>(padded, margin, s, w, 1, half, count, o),
                2 => resample_h_blocks::<2>(padded, margin, s, w, 2, half, count, o),
                3 => resample_h_blocks::<3>(padded, margin, s, w, 3, half, count, o),
                c => resample_h_blocks::<0>(padded, margin, s, w, c, half, count, o),
            }
        }
    };
    if fits(&starts[..whole]) {
        run(0, whole, out);
    } else {
        for j in (0..whole).step_by(BLOCK) {
            if fits(&starts[j..j + BLOCK]) {
                run(j, j + BLOCK, out);
            } else {
                for j in j..j + BLOCK {
                    let first = (starts[j] as isize + margin as isize) as usize;
                    out[j] = plain::resample_one(padded, first, &q[j * taps..][..taps], shift);
                }
            }
        }
    }
    for j in whole..n {
        let first = (starts[j] as isize + margin as isize) as usize;
        out[j] = plain::resample_one(padded, first, &q[j * taps..][..taps], shift);
    }
}

/// [`resample_h`] for whole blocks of eight outputs, `s` their starts (as many as `out`
/// holds) and `w` their weights (laid out by [`resample_blocks`]). `C` is the number of
/// eight-tap chunks where it is known when compiling, 0 where `chunks` says it.
///
/// # Safety
/// `padded[margin + s[i] .. + 8·chunks]` must lie inside `padded` for every output, and `w`
/// must hold the blocks' weights (`64·chunks` samples a block).
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
unsafe fn resample_h_blocks<const C: usize>(
    padded: &[i16],
    margin: usize,
    s: &[i32],
    w: &[i16],
    chunks: usize,
    half: __m256i,
    count: __m128i,
    out: &mut [i16],
) {
    let chunks = if C > 0 { C } else { chunks };
    let (p, margin) = (padded.as_ptr(), margin as isize);
    let mut j = 0;
    while j + BLOCK <= out.len() {
        // SAFETY: the caller's promise for the samples and the weights; j + 8 ≤ out.len().
        unsafe {
            let v = resample_h8::<C>(
                p,
                margin,
                s.as_ptr().add(j),
                w.as_ptr().add(j * chunks * 8),
                chunks,
                half,
                count,
            );
            _mm_storeu_si128(out.as_mut_ptr().add(j).cast(), v);
        }
        j += BLOCK;
    }
}

/// The least and the greatest of `s`.
#[target_feature(enable = "avx2")]
fn span(s: &[i32]) -> (i32, i32) {
    let (mut lo, mut hi) = (i32::MAX, i32::MIN);
    for &s in s {
        lo = lo.min(s);
        hi = hi.max(s);
    }
    (lo, hi)
}

/// Eight outputs of [`resample_h`] whose taps start at `p + margin + s[i]`, their weights at
/// `w`, rounded and saturated to `i16`, in order.
///
/// # Safety
/// `s` must hold eight starts, `p + margin + s[i] .. + 8·chunks` must be readable for each,
/// and `w` the block's weights (`64·chunks` samples).
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn resample_h8<const C: usize>(
    p: *const i16,
    margin: isize,
    s: *const i32,
    w: *const i16,
    chunks: usize,
    half: __m256i,
    count: __m128i,
) -> __m128i {
    let chunks = if C > 0 { C } else { chunks };
    let mut m = [_mm256_setzero_si256(); 4];
    // SAFETY: the caller's promise.
    unsafe {
        for (i, m) in m.iter_mut().enumerate() {
            let fa = p.offset(*s.add(i) as isize + margin);
            let fb = p.offset(*s.add(i + 4) as isize + margin);
            let w = w.add(i * chunks * 16);
            for c in 0..chunks {
                let v = _mm256_inserti128_si256::<1>(
                    _mm256_castsi128_si256(load8(fa.add(8 * c))),
                    load8(fb.add(8 * c)),
                );
                *m = _mm256_add_epi32(*m, _mm256_madd_epi16(v, load(w.add(16 * c))));
            }
        }
    }
    // m[i] holds output i's four partial sums in its low half and output i + 4's in its high
    // half; three horizontal adds leave outputs 0..4 low and 4..8 high.
    let h = _mm256_hadd_epi32(_mm256_hadd_epi32(m[0], m[1]), _mm256_hadd_epi32(m[2], m[3]));
    let r = round32(h, half, count);
    _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256::<1>(r))
}

/// The widest convolution kernel (and the tallest), as the `convolve` filter allows.
const MAX_SIDE: usize = 15;

/// Pairs of taps [`convolve`] keeps on the stack: a 5×5 kernel's.
const SMALL_PAIRS: usize = 13;

/// Row stride of the edge copy in [`convolve`]: one vector plus a kernel's reach each side.
const EDGE: usize = 32;

/// [`plain::convolve`]. Pairs of non-zero taps go through `pmaddwd` on the samples as they
/// are, and `zero · Σ weights` comes off the sum after: the same sum as the plain form's
/// `Σ w · (s − zero)`, as both wrap in `i32`. Vectors whose taps reach past the row's ends
/// read a copy of their columns with the edges replicated.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
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
    let (n, width) = (out.len(), rows.width);
    if kw == 0 || kh == 0 || kw > MAX_SIDE || kh > MAX_SIDE || q.len() != kw * kh || n > width {
        return plain::convolve(rows, y, (kw, kh), q, shift, zero, add, out, pad, acc);
    }
    let (rx, ry) = (kw / 2, kh / 2);
    // The kernel's rows, `stride` apart from `base`: the window's own where they are evenly
    // spaced (away from the plane's top and bottom), a copy otherwise.
    let row = |j: usize| rows.row(y as isize + j as isize - ry as isize);
    let offset = |j: usize| (row(j).as_ptr() as usize - rows.data.as_ptr() as usize) / 2;
    let even = (0..kh).all(|j| offset(j) == offset(0) + j * rows.stride);
    let (base, stride) = if even {
        // From the window's data, which holds every row of the kernel.
        (&rows.data[offset(0)..], rows.stride)
    } else {
        pad.clear();
        for j in 0..kh {
            pad.extend_from_slice(row(j));
        }
        (&pad[..], width)
    };
    // Non-zero taps in pairs, as offsets from a vector's first sample (row j, column
    // x − rx + i): in the rows, and in an edge copy. An odd last tap pairs with itself at
    // weight 0. Kernels up to 5×5 keep them on the stack (this runs for every row).
    let nonzero = q.iter().filter(|&&w| w != 0).count();
    let (mut stack, mut heap);
    let (pairs, wp): (&mut [TapPair], &mut [__m256i]) = if nonzero <= 2 * SMALL_PAIRS {
        stack = (
            [((0, 0), (0, 0)); SMALL_PAIRS],
            [_mm256_setzero_si256(); SMALL_PAIRS],
        );
        (&mut stack.0, &mut stack.1)
    } else {
        let n = nonzero.div_ceil(2);
        heap = (vec![((0, 0), (0, 0)); n], vec![_mm256_setzero_si256(); n]);
        (&mut heap.0, &mut heap.1)
    };
    let mut count = 0;
    let mut pending = None;
    for (t, &w) in q.iter().enumerate().filter(|(_, &w)| w != 0) {
        let (j, i) = (t / kw, t % kw);
        let tap = ((j * stride + i, j * EDGE + i), w);
        match pending.take() {
            None => pending = Some(tap),
            Some(((ra, ea), wa)) => {
                let ((rb, eb), wb) = tap;
                pairs[count] = ((ra, rb), (ea, eb));
                wp[count] = weight_pair(wa, wb);
                count += 1;
            }
        }
    }
    if let Some(((r, e), w)) = pending {
        pairs[count] = ((r, r), (e, e));
        wp[count] = weight_pair(w, 0);
        count += 1;
    }
    let (pairs, wp) = (&pairs[..count], &wp[..count]);
    let sum = q.iter().fold(0i32, |s, &w| s.wrapping_add(w as i32));
    // The zero comes off with the rounding's half: one addition.
    let half = (1i32 << (shift - 1)).wrapping_sub((zero as i32).wrapping_mul(sum));
    let finish = Finish {
        half: _mm256_set1_epi32(half),
        count: _mm_cvtsi32_si128(shift as i32),
        add: _mm256_set1_epi32(add),
    };
    // Vector positions: every 16 samples, the last one moved back to end at the row's end.
    let interior = |x: usize| x >= rx && x + 16 + rx <= width;
    let mut edge = [0i16; MAX_SIDE * EDGE];
    let mut x = 0;
    while x < n {
        let at = if x + 16 <= n { x } else { n.saturating_sub(16) };
        if at + 32 <= n && interior(at) && interior(at + 16) {
            // SAFETY: as below, for the two vectors at and at + 16; at + 32 ≤ n.
            unsafe {
                let b = base.as_ptr().add(at - rx);
                let (v0, v1) = convolve32(b, pairs, wp, &finish);
                store(out.as_mut_ptr().add(at), v0);
                store(out.as_mut_ptr().add(at + 16), v1);
            }
            x = at + 32;
            continue;
        }
        let v = if interior(at) {
            // SAFETY: the pairs' offsets reach rows 0..kh of `base` (each `width` long,
            // `stride` apart) and columns at − rx .. at + 16 + rx ≤ width.
            unsafe {
                let b = base.as_ptr().add(at - rx);
                convolve16::<false>(b, pairs, wp, &finish)
            }
        } else {
            for j in 0..kh {
                let r = &base[j * stride..j * stride + width];
                for (t, e) in edge[j * EDGE..j * EDGE + 16 + 2 * rx]
                    .iter_mut()
                    .enumerate()
                {
                    *e = r[(at + t).saturating_sub(rx).min(width - 1)];
                }
            }
            // SAFETY: the pairs' edge offsets reach rows 0..kh of `edge` and columns
            // 0 .. 16 + 2·rx ≤ EDGE.
            unsafe { convolve16::<true>(edge.as_ptr(), pairs, wp, &finish) }
        };
        if at + 16 <= n {
            // SAFETY: at + 16 ≤ n.
            unsafe { store(out.as_mut_ptr().add(at), v) };
        } else {
            let mut tmp = [0i16; 16];
            // SAFETY: `tmp` holds 16 samples.
            unsafe { store(tmp.as_mut_ptr(), v) };
            out[at..].copy_from_slice(&tmp[..n - at]);
        }
        x = at + 16;
    }
}

/// [`convolve16`] on the rows for two vectors, 16 samples apart.
///
/// # Safety
/// Every row offset of `pairs` plus 32 samples must be readable from `b`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn convolve32(
    b: *const i16,
    pairs: &[TapPair],
    wp: &[__m256i],
    f: &Finish,
) -> (__m256i, __m256i) {
    let z = _mm256_setzero_si256();
    let (mut lo0, mut hi0, mut lo1, mut hi1) = (z, z, z, z);
    for (&((oa, ob), _), &w) in pairs.iter().zip(wp) {
        // SAFETY: the caller's promise.
        let (a0, b0, a1, b1) = unsafe {
            let (a, b) = (b.add(oa), b.add(ob));
            (load(a), load(b), load(a.add(16)), load(b.add(16)))
        };
        lo0 = _mm256_add_epi32(lo0, _mm256_madd_epi16(_mm256_unpacklo_epi16(a0, b0), w));
        hi0 = _mm256_add_epi32(hi0, _mm256_madd_epi16(_mm256_unpackhi_epi16(a0, b0), w));
        lo1 = _mm256_add_epi32(lo1, _mm256_madd_epi16(_mm256_unpacklo_epi16(a1, b1), w));
        hi1 = _mm256_add_epi32(hi1, _mm256_madd_epi16(_mm256_unpackhi_epi16(a1, b1), w));
    }
    (f.pack(lo0, hi0), f.pack(lo1, hi1))
}

/// Two taps of a convolution as offsets from a vector's first sample: `(a, b)` in the rows,
/// then `(a, b)` in an edge copy.
type TapPair = ((usize, usize), (usize, usize));

/// What ends a convolution: `((sum + half) >> count) + add`, saturated to `i16`, `half`
/// holding the rounding's half less `zero · Σ weights`.
struct Finish {
    half: __m256i,
    count: __m128i,
    add: __m256i,
}

/// Sixteen outputs of [`convolve`] from the samples at `b`, the pairs' offsets taken from
/// the rows (`EDGE` false) or from an edge copy.
///
/// # Safety
/// Every offset of `pairs` (the kind `EDGE` picks) plus 16 samples must be readable from `b`.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn convolve16<const EDGE: bool>(
    b: *const i16,
    pairs: &[TapPair],
    wp: &[__m256i],
    f: &Finish,
) -> __m256i {
    let (mut lo, mut hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    for (&(rows, edge), &w) in pairs.iter().zip(wp) {
        let (oa, ob) = if EDGE { edge } else { rows };
        // SAFETY: the caller's promise.
        let (va, vb) = unsafe { (load(b.add(oa)), load(b.add(ob))) };
        lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_unpacklo_epi16(va, vb), w));
        hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_unpackhi_epi16(va, vb), w));
    }
    f.pack(lo, hi)
}

impl Finish {
    /// Sixteen outputs from the sums of their unpacked low and high halves.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn pack(&self, lo: __m256i, hi: __m256i) -> __m256i {
        let end = |v: __m256i| _mm256_add_epi32(round32(v, self.half, self.count), self.add);
        _mm256_packs_epi32(end(lo), end(hi))
    }
}
