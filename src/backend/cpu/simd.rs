//! The CPU backend's hot loops compiled a second time for AVX2, picked at run time.
//!
//! tessera's release build targets the x86-64 baseline (SSE2), so that one binary runs on any
//! x86-64 machine. The kernels are written as plain loops over slices and marked
//! `#[inline(always)]`; the entry points below inline them into a function compiled with AVX2
//! enabled, where the same loops vectorise twice as wide. Only AVX2 is enabled, not FMA:
//! without fused multiply-adds every float operation rounds as in the portable build, and the
//! fixed-point kernels are exact integer arithmetic, so both builds give bit-identical pictures
//! (a test below checks it), and a result never depends on the machine it was computed on.

use super::arith::Arith;
use super::pixel::Registers;
use super::point::Block;
use super::{Job, OutRows, Source};
use crate::op::PointOp;
use crate::pixel::{PixelProgram, INPUTS};

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
#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn strip<A: Arith>(
    isa: Isa,
    arith: &A,
    job: &Job<A>,
    src: &Source<'_>,
    rows: (usize, usize),
    width: usize,
    out: OutRows<'_>,
    max: u32,
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { strip_avx2(arith, job, src, rows, width, out, max) };
    }
    let _ = isa;
    super::strip(arith, job, src, rows, width, out, max)
}

#[allow(clippy::too_many_arguments)]
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn strip_avx2<A: Arith>(
    arith: &A,
    job: &Job<A>,
    src: &Source<'_>,
    rows: (usize, usize),
    width: usize,
    out: OutRows<'_>,
    max: u32,
) {
    super::strip(arith, job, src, rows, width, out, max)
}

/// [`super::point::block`] in the build `isa` names.
#[inline]
pub(super) fn point_block(isa: Isa, ops: &[PointOp], block: &mut Block<'_>) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { point_block_avx2(ops, block) };
    }
    super::point::block(Isa::Portable, ops, block)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn point_block_avx2(ops: &[PointOp], block: &mut Block<'_>) {
    super::point::block(Isa::Avx2, ops, block)
}

/// [`super::pixel::run`] in the build `isa` names: compiled once per build, called from the
/// pointwise kernel.
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
    use crate::frame::{Colour, Format, Frame, Layout, Matrix};
    use crate::plan;

    /// A frame of `format` whose samples are a fixed pseudo-random pattern.
    fn picture(format: Format) -> Frame {
        let mut frame = Frame::new(format);
        let max = format.max_code();
        let value = |i: usize| (i * 7919 + (i / 4) * (i / 13)) as u32 % (max + 1);
        for p in 0..format.planes() {
            if format.is_wide() {
                for (i, v) in frame.plane16_mut(p).data.iter_mut().enumerate() {
                    *v = value(i + p * 31) as u16;
                }
            } else {
                for (i, v) in frame.plane8_mut(p).data.iter_mut().enumerate() {
                    *v = value(i + p * 31) as u8;
                }
            }
        }
        frame
    }

    /// The AVX2 build must give the portable build's pictures bit for bit, in both
    /// arithmetics and on every layout.
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
            "crop(2, 4, 50, 40) | vflip | scale(99, 71, bicubic)",
            "pixel(r=\"1-r\", g=\"0.2126*r + 0.7152*g + 0.0722*b\", b=\"b^2\")",
            "invert | pixel(r=\"sqrt(r) * (x % 5) / 5\", g=\"if(g > 0.5, exp(g - 1), sin(y / 7))\", \
             a=\"1 - a * r\") | eq(contrast=1.2)",
            "pixel(r=\"b\", b=\"r\", a=\"smooth(r, 0, 0.2, 0.5, 1, 1, 0.5)\") | gblur(1)",
        ];
        let video = Colour::video(Matrix::Bt709, false);
        let formats = [
            Format::rgb(83, 59, 8, true),
            Format::rgb(83, 59, 16, true),
            Format::new(83, 59, Layout::YUV420, 8, video),
            Format::new(83, 59, Layout::YUV422, 10, video),
        ];
        for format in formats {
            let frame = picture(format);
            for text in chains {
                let chain = Chain::parse(text).unwrap();
                let plan = plan::compile(&chain, &frame.format).unwrap();
                let mut portable = CpuBackend::with_isa(Isa::Portable);
                let mut avx2 = CpuBackend::with_isa(Isa::Avx2);
                let a = portable.process(&plan, frame.clone()).unwrap();
                let b = avx2.process(&plan, frame.clone()).unwrap();
                assert_eq!(
                    a.max_abs_diff(&b),
                    Some(0),
                    "`{text}` on {} differs between the builds",
                    format.describe()
                );
            }
        }
    }
}
