//! The CPU backend's hot loops compiled a second time for AVX2, picked at run time.
//!
//! tessera's release build targets the x86-64 baseline (SSE2), so that one binary runs on any
//! x86-64 machine. The kernels are written as plain loops over slices and marked
//! `#[inline(always)]`; the entry points below inline them into a function compiled with AVX2
//! enabled, where the same loops vectorise eight floats wide instead of four. Only AVX2 is
//! enabled, not FMA: without fused multiply-adds every operation rounds as in the portable
//! build, so both give bit-identical pictures (a test below checks it), and a result never
//! depends on the machine it was computed on.

use super::{kernels, PointOp, Sample, StripBuffers, StripOut};
use crate::frame::Frame;
use crate::plan::Plan;

/// Which build of the loops runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// The baseline build.
    Portable,
    /// The AVX2 build; only chosen where the processor has AVX2.
    Avx2,
}

impl Isa {
    /// The fastest build this processor runs.
    pub fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            return Isa::Avx2;
        }
        Isa::Portable
    }
}

/// [`super::strip`] in the build `isa` names.
#[inline]
pub fn strip(
    isa: Isa,
    plan: &Plan,
    frame: &Frame,
    rows: (usize, usize),
    bufs: &mut StripBuffers,
    dst: StripOut,
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { strip_avx2(plan, frame, rows, bufs, dst) };
    }
    let _ = isa;
    super::strip(plan, frame, rows, bufs, dst)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn strip_avx2(
    plan: &Plan,
    frame: &Frame,
    rows: (usize, usize),
    bufs: &mut StripBuffers,
    dst: StripOut,
) {
    super::strip(plan, frame, rows, bufs, dst)
}

/// [`super::pointwise_block`] in the build `isa` names.
#[inline]
pub fn pointwise_block<S: Sample>(
    isa: Isa,
    ops: &[PointOp],
    block: &mut [S],
    max: f32,
    planes: &mut kernels::Planes,
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { pointwise_block_avx2(ops, block, max, planes) };
    }
    let _ = isa;
    super::pointwise_block(ops, block, max, planes)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pointwise_block_avx2<S: Sample>(
    ops: &[PointOp],
    block: &mut [S],
    max: f32,
    planes: &mut kernels::Planes,
) {
    super::pointwise_block(ops, block, max, planes)
}

#[cfg(test)]
mod tests {
    use super::super::CpuBackend;
    use super::*;
    use crate::backend::Backend;
    use crate::chain::Chain;
    use crate::frame::Pixels;
    use crate::plan;

    fn picture(w: u32, h: u32, deep: bool) -> Frame {
        let n = (w * h * 4) as usize;
        let value = |i: usize| (i * 7919 + (i / 4) * (i / 13)) as u32;
        if deep {
            let data = (0..n).map(|i| (value(i) % 65536) as u16).collect();
            Frame::from_rgba16(w, h, data)
        } else {
            let data = (0..n).map(|i| (value(i) % 256) as u8).collect();
            Frame::from_rgba8(w, h, data)
        }
    }

    /// The AVX2 build must give the portable build's pictures bit for bit.
    #[test]
    fn avx2_build_matches_the_portable_build() {
        if Isa::detect() != Isa::Avx2 {
            eprintln!("no AVX2 on this processor: nothing to compare");
            return;
        }
        let chains = [
            "gblur(sigma=2.5)",
            "boxblur(radius=2)",
            "convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])",
            "unsharp(sigma=1.5, amount=0.8)",
            "eq(brightness=0.1, contrast=1.3, saturation=0.7, gamma=1.4)",
            "eq(contrast=1.2) | grayscale | invert",
            "scale(61, 37, lanczos3) | hflip",
            "crop(3, 5, 50, 40) | vflip | scale(99, 71, bicubic)",
        ];
        for deep in [false, true] {
            let frame = picture(83, 59, deep);
            for text in chains {
                let chain = Chain::parse(text).unwrap();
                let plan = plan::compile(&chain, frame.width, frame.height).unwrap();
                let mut portable = CpuBackend::with_isa(Isa::Portable);
                let mut avx2 = CpuBackend::with_isa(Isa::Avx2);
                let a = portable.process(&plan, frame.clone()).unwrap();
                let b = avx2.process(&plan, frame.clone()).unwrap();
                let same = match (&a.pixels, &b.pixels) {
                    (Pixels::Rgba8(a), Pixels::Rgba8(b)) => a == b,
                    (Pixels::Rgba16(a), Pixels::Rgba16(b)) => a == b,
                    _ => false,
                };
                assert!(same, "`{text}` (16-bit: {deep}) differs between the builds");
            }
        }
    }
}
