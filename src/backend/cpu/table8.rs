//! 8-bit planes through a table of 256 codes, sixteen or thirty-two at a time where the table
//! is an affine map.
//!
//! A table lookup costs a load and a store a sample, about a cycle each: on a 1080p H.264 clip
//! `eq` spent 15% of the run there, twice what FFmpeg's eq adds over decoding, whose SIMD code
//! computes `clip(((s·c) >> 12) + b)` instead. Most colour tables on Y′CbCr are that map
//! exactly (eq without gamma is it by definition; invert, grayscale's neutral chroma and
//! brightness too): [`Affine8::fit`] finds `c` and `b` where a table is one, checked on all 256
//! codes, and [`map`] then computes the codes with AVX2 multiplies, the same codes as the
//! table. Any other table is looked up.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::Isa;

/// `code(s) = clamp(((s · c) >> 12) + b, 0, 255)`, the shift arithmetic (rounding down).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Affine8 {
    c: i16,
    b: i16,
}

impl Affine8 {
    #[inline]
    fn code(self, s: u8) -> u8 {
        (((s as i32 * self.c as i32) >> 12) + self.b as i32).clamp(0, 255) as u8
    }

    /// The map that gives `table` for every code, if one does.
    pub fn fit(table: &[u8; 256]) -> Option<Affine8> {
        let matches = |a: Affine8| (0..=255u8).all(|s| a.code(s) == table[s as usize]);
        // Codes strictly inside 0 .. 255 are unclamped: they pin the line down.
        let inside: Vec<usize> = (0..256).filter(|&s| (1..255).contains(&table[s])).collect();
        let (Some(&s1), Some(&s2)) = (inside.first(), inside.last()) else {
            // Clamped everywhere: a constant, or a step no line gives.
            let constant = Affine8 {
                c: 0,
                b: table[0] as i16,
            };
            return matches(constant).then_some(constant);
        };
        // floor(s2·c/4096) − floor(s1·c/4096) is within 1 of (s2 − s1)·c/4096.
        let (lo, hi) = if s2 > s1 {
            let d = table[s2] as i64 - table[s1] as i64;
            let span = (s2 - s1) as i64;
            (
                ((d - 1) * 4096).div_euclid(span) - 1,
                ((d + 1) * 4096).div_euclid(span) + 1,
            )
        } else {
            (i16::MIN as i64, i16::MAX as i64)
        };
        let (lo, hi) = (lo.max(i16::MIN as i64), hi.min(i16::MAX as i64));
        (lo..=hi).find_map(|c| {
            let b = table[s1] as i64 - ((s1 as i64 * c) >> 12);
            let a = Affine8 {
                c: c as i16,
                b: i16::try_from(b).ok()?,
            };
            // |(s·c) >> 12| ≤ 2048: a b this size keeps every sum inside i16.
            (b.abs() <= 8192 && matches(a)).then_some(a)
        })
    }
}

/// `out[x] = table[src[x]]`, computed from `affine` where it is given (it must give `table`).
pub fn map(isa: Isa, table: &[u8; 256], affine: Option<Affine8>, src: &[u8], out: &mut [u8]) {
    let n = src.len().min(out.len());
    let done = match (isa, affine) {
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, Some(a)) => {
            // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
            unsafe { affine_avx2(a, &src[..n], &mut out[..n]) }
        }
        _ => 0,
    };
    for (o, &s) in out[done..n].iter_mut().zip(&src[done..n]) {
        *o = table[s as usize];
    }
}

/// `map` in place.
pub fn map_in_place(isa: Isa, table: &[u8; 256], affine: Option<Affine8>, data: &mut [u8]) {
    let done = match (isa, affine) {
        #[cfg(target_arch = "x86_64")]
        (Isa::Avx2, Some(a)) => {
            let n = data.len();
            let p = data.as_mut_ptr();
            // SAFETY: AVX2 as above; the kernel reads each 32 bytes before it writes them, so
            // the same slice may be both.
            unsafe { affine_avx2_raw(a, p, p, n) }
        }
        _ => 0,
    };
    for s in &mut data[done..] {
        *s = table[*s as usize];
    }
}

/// The whole blocks of 32 codes of `src` into `out`; how many codes it did.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn affine_avx2(a: Affine8, src: &[u8], out: &mut [u8]) -> usize {
    let n = src.len().min(out.len());
    // SAFETY: n bytes from each.
    unsafe { affine_avx2_raw(a, src.as_ptr(), out.as_mut_ptr(), n) }
}

/// # Safety
/// `src` and `out` must be valid for `n` bytes (they may be the same), and the processor must
/// have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn affine_avx2_raw(a: Affine8, src: *const u8, out: *mut u8, n: usize) -> usize {
    let c = _mm256_set1_epi16(a.c);
    let b = _mm256_set1_epi16(a.b);
    let mut x = 0;
    while x + 32 <= n {
        // SAFETY: x + 32 ≤ n.
        unsafe {
            let v = _mm256_loadu_si256(src.add(x) as *const __m256i);
            let lo = _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v));
            let hi = _mm256_cvtepu8_epi16(_mm256_extracti128_si256::<1>(v));
            // (s·16·c) >> 16 is (s·c) >> 12: s·16 ≤ 4080 fits, and the high half of the
            // signed product rounds down as the shift does.
            let lo = _mm256_adds_epi16(_mm256_mulhi_epi16(_mm256_slli_epi16::<4>(lo), c), b);
            let hi = _mm256_adds_epi16(_mm256_mulhi_epi16(_mm256_slli_epi16::<4>(hi), c), b);
            // packus clamps to 0 ..= 255 and interleaves the halves' 128-bit lanes.
            let packed = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi16(lo, hi));
            _mm256_storeu_si256(out.add(x) as *mut __m256i, packed);
        }
        x += 32;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_of(f: impl Fn(u8) -> u8) -> [u8; 256] {
        std::array::from_fn(|s| f(s as u8))
    }

    /// FFmpeg eq's maps, inversions and constants are found; the codes computed are the table's
    /// on both builds, for every code and at every length.
    #[test]
    fn affine_tables_are_found_and_computed_exactly() {
        let mut cases = Vec::new();
        for c in [
            -32768i32, -9000, -4096, -1, 0, 1, 700, 4096, 4915, 5325, 20000, 32767,
        ] {
            for b in [-300i32, -10, 0, 16, 128, 251, 600] {
                cases.push(table_of(|s| {
                    (((s as i32 * c) >> 12) + b).clamp(0, 255) as u8
                }));
            }
        }
        let src: Vec<u8> = (0..1000).map(|i| (i * 97 % 256) as u8).collect();
        for table in &cases {
            let a = Affine8::fit(table).expect("an affine table");
            assert!((0..=255u8).all(|s| a.code(s) == table[s as usize]));
            for isa in [Isa::Portable, Isa::detect()] {
                for len in [0, 1, 31, 32, 33, 100, 1000] {
                    let mut out = vec![0u8; len];
                    map(isa, table, Some(a), &src[..len], &mut out);
                    let want: Vec<u8> = src[..len].iter().map(|&s| table[s as usize]).collect();
                    assert_eq!(out, want, "{a:?} {isa:?} {len}");
                    let mut data = src[..len].to_vec();
                    map_in_place(isa, table, Some(a), &mut data);
                    assert_eq!(data, want, "{a:?} {isa:?} {len} in place");
                }
            }
        }
    }

    /// Tables no such map gives (a gamma curve, a step, a table with one code off) are looked
    /// up.
    #[test]
    fn other_tables_are_not_taken_for_affine_ones() {
        let gamma = table_of(|s| (255.0 * (s as f64 / 255.0).powf(0.6)).round() as u8);
        let step = table_of(|s| if s < 100 { 0 } else { 255 });
        let mut off = table_of(|s| (((s as i32 * 5000) >> 12) + 10).clamp(0, 255) as u8);
        off[77] ^= 1;
        for table in [gamma, step, off] {
            assert_eq!(Affine8::fit(&table), None);
        }
    }
}
