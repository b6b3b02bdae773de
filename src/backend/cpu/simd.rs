//! The CPU backend's hot loops compiled a second time for AVX2, picked at run time.
//!
//! tessera's release build targets the x86-64 baseline (SSE2), so that one binary runs on any
//! x86-64 machine. The kernels are written as plain loops over slices and marked
//! `#[inline(always)]`; the entry points below inline them into a function compiled with AVX2
//! enabled, where the same loops vectorise eight floats wide instead of four. Only AVX2 is
//! enabled, not FMA: without fused multiply-adds every operation rounds as in the portable
//! build, so both give bit-identical pictures (a test below checks it), and a result never
//! depends on the machine it was computed on.

use super::kernels::{PointNeeds, PointScratch};
use super::pixel::Registers;
use super::{PointOp, Sample, StripBuffers, StripOut};
use crate::frame::Frame;
use crate::pixel::{PixelProgram, INPUTS};
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
    super::strip(isa, plan, frame, rows, bufs, dst)
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
    super::strip(Isa::Avx2, plan, frame, rows, bufs, dst)
}

/// [`super::pointwise_block`] in the build `isa` names.
#[inline]
pub fn pointwise_block<S: Sample>(
    isa: Isa,
    ops: &[PointOp],
    needs: PointNeeds,
    block: &mut [S],
    max: f32,
    scratch: &mut PointScratch,
    at: (usize, usize),
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { pointwise_block_avx2(ops, needs, block, max, scratch, at) };
    }
    super::pointwise_block(Isa::Portable, ops, needs, block, max, scratch, at)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pointwise_block_avx2<S: Sample>(
    ops: &[PointOp],
    needs: PointNeeds,
    block: &mut [S],
    max: f32,
    scratch: &mut PointScratch,
    at: (usize, usize),
) {
    super::pointwise_block(Isa::Avx2, ops, needs, block, max, scratch, at)
}

/// [`super::pixel::run`] in the build `isa` names: compiled once per build, called from both
/// kernels that run pointwise passes.
#[inline]
pub fn run_pixel(
    isa: Isa,
    program: &PixelProgram,
    uniforms: &[f32],
    planes: [&mut [f32]; INPUTS],
    regs: &mut Registers,
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { run_pixel_avx2(program, uniforms, planes, regs) };
    }
    let _ = isa;
    run_pixel_portable(program, uniforms, planes, regs)
}

#[inline(never)]
fn run_pixel_portable(
    program: &PixelProgram,
    uniforms: &[f32],
    planes: [&mut [f32]; INPUTS],
    regs: &mut Registers,
) {
    super::pixel::run(program, uniforms, planes, regs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline(never)]
unsafe fn run_pixel_avx2(
    program: &PixelProgram,
    uniforms: &[f32],
    planes: [&mut [f32]; INPUTS],
    regs: &mut Registers,
) {
    super::pixel::run(program, uniforms, planes, regs)
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
            "pixel(r=\"1-r\", g=\"0.2126*r + 0.7152*g + 0.0722*b\", b=\"b^2\")",
            "invert | pixel(r=\"sqrt(r) * (x % 5) / 5\", g=\"if(g > 0.5, exp(g - 1), sin(y / 7))\", \
             a=\"1 - a * r\") | eq(contrast=1.2)",
            "pixel(r=\"b\", b=\"r\", a=\"smooth(r, 0, 0.2, 0.5, 1, 1, 0.5)\") | gblur(1)",
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
