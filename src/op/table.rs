//! Lookup tables of R′G′B′: one table per channel (curves, 1-D LUTs) and a 3-D table (3-D
//! LUTs), and the f32 arithmetic of a lookup that both backends follow (the CPU's pointwise
//! blocks and `shaders/lut.wgsl`).
//!
//! A table is built once, when its filter is lowered (a 3-D LUT read from its file once per
//! run), and shared between plans behind an `Arc`. Each carries a fingerprint of its contents so
//! that the GPU rewrites a table only when another one takes its place.

use std::hash::{Hash, Hasher};

use super::clamp;

/// The fingerprint of a table's numbers.
fn fingerprint(size: usize, values: &[f32], lo: &[f32; 3], scale: &[f32; 3]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    size.hash(&mut h);
    for v in values.iter().chain(lo).chain(scale) {
        v.to_bits().hash(&mut h);
    }
    h.finish()
}

/// One table for each of R′, G′ and B′, sampled at `size` evenly spaced inputs from `lo` to
/// `lo + (size − 1) / scale`; inputs outside that domain take its end.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelTables {
    pub size: usize,
    /// Red's `size` entries, then green's, then blue's.
    pub values: Vec<f32>,
    /// The nearest entry (a 1-D LUT's `nearest`), or the line between the two around the input.
    pub nearest: bool,
    /// Each channel's first input, and entries per unit of input.
    pub lo: [f32; 3],
    pub scale: [f32; 3],
    pub fingerprint: u64,
}

impl ChannelTables {
    /// Tables over `lo ..= hi` of each channel; `values` as [`ChannelTables::values`].
    pub fn new(
        size: usize,
        values: Vec<f32>,
        nearest: bool,
        lo: [f32; 3],
        hi: [f32; 3],
    ) -> ChannelTables {
        assert!(size >= 2 && values.len() == 3 * size);
        let scale = std::array::from_fn(|c| ((size - 1) as f64 / (hi[c] - lo[c]) as f64) as f32);
        ChannelTables {
            fingerprint: fingerprint(size, &values, &lo, &scale),
            size,
            values,
            nearest,
            lo,
            scale,
        }
    }

    /// Channel `c`'s table at `x` (normalised R′G′B′).
    #[inline(always)]
    pub fn apply(&self, c: usize, x: f32) -> f32 {
        let n = self.size;
        let s = clamp((x - self.lo[c]) * self.scale[c], (n - 1) as f32);
        let t = &self.values[c * n..(c + 1) * n];
        if self.nearest {
            return t[(s + 0.5) as usize];
        }
        let i = (s as usize).min(n - 2);
        let f = s - i as f32;
        t[i] + (t[i + 1] - t[i]) * f
    }

    /// The tables applied to a pixel's R′G′B′.
    #[inline(always)]
    pub fn apply_rgb(&self, rgb: [f32; 3]) -> [f32; 3] {
        std::array::from_fn(|c| self.apply(c, rgb[c]))
    }
}

/// How a 3-D table is read between its entries, as FFmpeg's lut3d names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CubeInterp {
    /// The nearest entry.
    Nearest,
    /// Lines along red, then green, then blue, between the 8 entries around the input.
    Trilinear,
    /// The tetrahedron of the cell holding the input: 4 entries, weights from the order of the
    /// fractions.
    Tetrahedral,
}

impl CubeInterp {
    pub const NAMES: [&'static str; 3] = ["nearest", "trilinear", "tetrahedral"];

    pub fn from_name(name: &str) -> Option<CubeInterp> {
        match name {
            "nearest" => Some(CubeInterp::Nearest),
            "trilinear" => Some(CubeInterp::Trilinear),
            "tetrahedral" => Some(CubeInterp::Tetrahedral),
            _ => None,
        }
    }

    /// Its number in the GPU's data.
    pub fn index(self) -> u32 {
        match self {
            CubeInterp::Nearest => 0,
            CubeInterp::Trilinear => 1,
            CubeInterp::Tetrahedral => 2,
        }
    }
}

/// A 3-D table of R′G′B′: `size`³ entries over the cube from `lo` to `lo + (size − 1) / scale`
/// on each axis; inputs outside it take its surface.
#[derive(Clone, Debug, PartialEq)]
pub struct Cube {
    pub size: usize,
    /// R′, G′, B′ of each entry, red's index varying fastest: entry (r, g, b) starts at
    /// `3 · ((b · size + g) · size + r)` (the order of a .cube file).
    pub values: Vec<f32>,
    pub lo: [f32; 3],
    pub scale: [f32; 3],
    pub fingerprint: u64,
}

impl Cube {
    /// A table over `lo ..= hi`; `values` as [`Cube::values`].
    pub fn new(size: usize, values: Vec<f32>, lo: [f32; 3], hi: [f32; 3]) -> Cube {
        assert!(size >= 2 && values.len() == 3 * size * size * size);
        let scale = std::array::from_fn(|c| ((size - 1) as f64 / (hi[c] - lo[c]) as f64) as f32);
        Cube {
            fingerprint: fingerprint(size, &values, &lo, &scale),
            size,
            values,
            lo,
            scale,
        }
    }

    #[inline(always)]
    fn at(&self, r: usize, g: usize, b: usize) -> [f32; 3] {
        let i = 3 * ((b * self.size + g) * self.size + r);
        [self.values[i], self.values[i + 1], self.values[i + 2]]
    }

    /// The table at a pixel's R′G′B′.
    #[inline(always)]
    pub fn apply(&self, interp: CubeInterp, rgb: [f32; 3]) -> [f32; 3] {
        let last = (self.size - 1) as f32;
        let s: [f32; 3] =
            std::array::from_fn(|c| clamp((rgb[c] - self.lo[c]) * self.scale[c], last));
        if interp == CubeInterp::Nearest {
            let [r, g, b] = s.map(|v| (v + 0.5) as usize);
            return self.at(r, g, b);
        }
        let prev = s.map(|v| v as usize);
        let next = prev.map(|v| (v + 1).min(self.size - 1));
        let [dr, dg, db]: [f32; 3] = std::array::from_fn(|c| s[c] - prev[c] as f32);
        let corner = |r: bool, g: bool, b: bool| {
            self.at(
                if r { next[0] } else { prev[0] },
                if g { next[1] } else { prev[1] },
                if b { next[2] } else { prev[2] },
            )
        };
        let c000 = corner(false, false, false);
        let c111 = corner(true, true, true);
        match interp {
            CubeInterp::Trilinear => {
                let lerp = |a: [f32; 3], b: [f32; 3], f: f32| -> [f32; 3] {
                    std::array::from_fn(|c| a[c] + (b[c] - a[c]) * f)
                };
                let c00 = lerp(c000, corner(true, false, false), dr);
                let c10 = lerp(corner(false, true, false), corner(true, true, false), dr);
                let c01 = lerp(corner(false, false, true), corner(true, false, true), dr);
                let c11 = lerp(corner(false, true, true), c111, dr);
                let c0 = lerp(c00, c10, dg);
                let c1 = lerp(c01, c11, dg);
                lerp(c0, c1, db)
            }
            _ => {
                // The tetrahedron from c000 to c111 through the two corners that step first
                // along the axes of the largest fractions.
                let (a, b, w) = if dr > dg {
                    if dg > db {
                        (
                            corner(true, false, false),
                            corner(true, true, false),
                            [dr, dg, db],
                        )
                    } else if dr > db {
                        (
                            corner(true, false, false),
                            corner(true, false, true),
                            [dr, db, dg],
                        )
                    } else {
                        (
                            corner(false, false, true),
                            corner(true, false, true),
                            [db, dr, dg],
                        )
                    }
                } else if db > dg {
                    (
                        corner(false, false, true),
                        corner(false, true, true),
                        [db, dg, dr],
                    )
                } else if db > dr {
                    (
                        corner(false, true, false),
                        corner(false, true, true),
                        [dg, db, dr],
                    )
                } else {
                    (
                        corner(false, true, false),
                        corner(true, true, false),
                        [dg, dr, db],
                    )
                };
                std::array::from_fn(|c| {
                    c000[c] * (1.0 - w[0])
                        + a[c] * (w[0] - w[1])
                        + b[c] * (w[1] - w[2])
                        + c111[c] * w[2]
                })
            }
        }
    }
}
