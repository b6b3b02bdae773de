//! The CPU backend's hot loops compiled a second time for AVX2, picked at run time.
//!
//! tessera's release build targets the x86-64 baseline (SSE2), so that one binary runs on any
//! x86-64 machine. The kernels are written as plain loops over slices and marked
//! `#[inline(always)]`; the entry points below inline them into a function compiled with AVX2
//! enabled, where the same loops vectorise twice as wide. The hot fixed-point kernels have
//! hand-written AVX2 forms besides (`fixed_avx2`), which the AVX2 build calls. Only AVX2 is
//! enabled, not FMA: without fused multiply-adds every float operation rounds as in the
//! portable build, and the fixed-point kernels are exact integer arithmetic, so both builds give
//! bit-identical pictures (the tests below check every kernel and every pass kind), and a
//! result never depends on the machine it was computed on.

use super::arith::Arith;
use super::pixel::Registers;
use super::point::Block;
use super::{Job, OutRows, Scratch, Source};
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
    scratch: &mut Scratch<A::T>,
) {
    #[cfg(target_arch = "x86_64")]
    if isa == Isa::Avx2 {
        // SAFETY: `Isa::Avx2` is only chosen where the processor has AVX2.
        return unsafe { strip_avx2(arith, job, src, rows, width, out, max, scratch) };
    }
    let _ = isa;
    super::strip(arith, job, src, rows, width, out, max, scratch)
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
    scratch: &mut Scratch<A::T>,
) {
    super::strip(arith, job, src, rows, width, out, max, scratch)
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
    use super::super::arith::{pad_row, plain, Fixed, Window};
    use super::super::CpuBackend;
    use super::super::{OutRow, Source};
    use super::*;
    use crate::backend::Backend;
    use crate::chain::Chain;
    use crate::frame::Plane;
    use crate::frame::{Colour, Format, Frame, Layout, Matrix};
    use crate::op::ResampleTable;
    use crate::plan;
    use crate::plan::{box_weights, gaussian_weights, ResampleFilter};

    /// Widths that put every kernel's vector loops and their tails to work.
    const WIDTHS: [usize; 7] = [1, 7, 15, 16, 17, 33, 1919];

    /// A small xorshift generator: the same samples on every run.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        /// Any `i16`, the extremes often.
        fn any(&mut self) -> i16 {
            match self.below(8) {
                0 => i16::MIN,
                1 => i16::MAX,
                2 => 0,
                _ => self.next() as i16,
            }
        }

        /// A work sample of `frac` fraction bits, as planes between passes hold them.
        fn work(&mut self, frac: u32) -> i16 {
            match self.below(8) {
                0 => 0,
                1 => (((1u32 << (14 - frac)) - 1) << frac) as i16,
                _ => self.below(1 << 14) as i16,
            }
        }

        /// A row of `n` samples, any `i16` or work samples.
        fn row(&mut self, n: usize, frac: Option<u32>) -> Vec<i16> {
            (0..n)
                .map(|_| match frac {
                    Some(f) => self.work(f),
                    None => self.any(),
                })
                .collect()
        }
    }

    /// The arithmetic of `bits`-bit frames in the portable build and in the AVX2 build.
    fn builds(bits: u8) -> (Fixed, Fixed) {
        let f = Fixed::for_bits(bits).unwrap();
        (f, f.with_isa(Isa::Avx2))
    }

    #[track_caller]
    fn same<T: PartialEq + std::fmt::Debug>(what: &str, plain: &[T], avx2: &[T]) {
        if let Some(x) = (0..plain.len()).find(|&x| plain[x] != avx2[x]) {
            panic!(
                "{what}: sample {x} of {} is {:?} in the portable build, {:?} in the AVX2 build",
                plain.len(),
                plain[x],
                avx2[x]
            );
        }
        assert_eq!(plain.len(), avx2.len(), "{what}");
    }

    fn window(data: &[i16], width: usize) -> Window<'_, i16> {
        Window {
            data,
            width,
            stride: width,
            first: 0,
            height: data.len() / width,
        }
    }

    /// Each fixed-point kernel's AVX2 form gives its plain form's samples, on every width, on
    /// the rows at a plane's edges, on work samples and on any `i16` at all (the kernels wrap
    /// as the plain ones do), at 8, 10 and 12 bits.
    #[test]
    fn avx2_fixed_kernels_match_the_plain_ones() {
        if Isa::detect() != Isa::Avx2 {
            eprintln!("no AVX2 on this processor: nothing to compare");
            return;
        }
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        for bits in [8u8, 10, 12] {
            let (p, v) = builds(bits);
            let frac = p.frac;
            let max = (1u32 << bits) - 1;
            for w in WIDTHS {
                let at = format!("{bits}-bit, {w} wide");
                // Codes to work samples, codes above the largest included.
                let codes8: Vec<u8> = (0..w * 3).map(|_| noise.next() as u8).collect();
                let codes16: Vec<u16> = (0..w * 3).map(|_| noise.next() as u16).collect();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                if bits == 8 {
                    let src = Source::U8(Plane {
                        data: &codes8,
                        width: w,
                        height: 3,
                        stride: w,
                    });
                    same(
                        &format!("window {at}"),
                        p.window(&src, 0, 3, &mut a).data,
                        v.window(&src, 0, 3, &mut b).data,
                    );
                } else {
                    let src = Source::U16(Plane {
                        data: &codes16,
                        width: w,
                        height: 3,
                        stride: w,
                    });
                    same(
                        &format!("window {at}"),
                        p.window(&src, 0, 3, &mut a).data,
                        v.window(&src, 0, 3, &mut b).data,
                    );
                }
                // Work samples to codes and to work samples.
                let row = noise.row(w, None);
                let (mut a8, mut b8) = (vec![0u8; w], vec![0u8; w]);
                let (mut a16, mut b16) = (vec![0u16; w], vec![0u16; w]);
                let (mut ai, mut bi) = (vec![0i16; w], vec![0i16; w]);
                p.store(&row, OutRow::U8(&mut a8), 255);
                v.store(&row, OutRow::U8(&mut b8), 255);
                same(&format!("store u8 {at}"), &a8, &b8);
                p.store(&row, OutRow::U16(&mut a16), max);
                v.store(&row, OutRow::U16(&mut b16), max);
                same(&format!("store u16 {at}"), &a16, &b16);
                p.store(&row, OutRow::Fixed(&mut ai), max);
                v.store(&row, OutRow::Fixed(&mut bi), max);
                same(&format!("store work {at}"), &ai, &bi);

                for realistic in [Some(frac), None] {
                    let at = format!(
                        "{at}, {}",
                        if realistic.is_some() {
                            "work samples"
                        } else {
                            "any i16"
                        }
                    );
                    let h = 9;
                    let data = noise.row(w * h, realistic);
                    let rows = window(&data, w);
                    let (mut a, mut b) = (vec![0i16; w], vec![0i16; w]);
                    let (mut pad, mut acc) = (Vec::new(), Vec::new());

                    // Blurs: short, long (two sweeps of the vector form), boxes.
                    let kernels = [
                        gaussian_weights(0.4),
                        gaussian_weights(1.0),
                        gaussian_weights(3.0),
                        gaussian_weights(9.0),
                        box_weights(7.0),
                        box_weights(1.5),
                    ];
                    for k in &kernels {
                        let taps = p.taps(k);
                        let r = k.len() / 2;
                        for y in 0..h {
                            p.blur_v(&rows, y, &taps, &mut a);
                            v.blur_v(&rows, y, &taps, &mut b);
                            same(&format!("blur_v {} taps, row {y}, {at}", k.len()), &a, &b);
                            pad_row(rows.row(y as isize), r, &mut pad);
                            p.blur_h(&pad, &taps, &mut a);
                            v.blur_h(&pad, &taps, &mut b);
                            same(&format!("blur_h {} taps, row {y}, {at}", k.len()), &a, &b);
                        }
                    }

                    // Unsharp's combination.
                    let other = noise.row(w, realistic);
                    for amount in [-2.0, -0.3, 0.8, 1.0, 5.0] {
                        p.unsharp(&data[..w], &other, amount, &mut a);
                        v.unsharp(&data[..w], &other, amount, &mut b);
                        same(&format!("unsharp {amount}, {at}"), &a, &b);
                    }

                    // Convolutions, their zero and bias.
                    let mut random = |n: usize| -> Vec<f32> {
                        (0..n)
                            .map(|_| noise.below(2001) as f32 / 1000.0 - 1.0)
                            .collect()
                    };
                    let convolutions: Vec<((usize, usize), Vec<f32>)> = vec![
                        (
                            (3, 3),
                            [-1.0, -1.0, -1.0, -1.0, 16.0, -1.0, -1.0, -1.0, -1.0]
                                .iter()
                                .map(|w| w / 8.0)
                                .collect(),
                        ),
                        (
                            (3, 3),
                            vec![0.0, -1.0, 0.0, -1.0, 5.0, -1.0, 0.0, -1.0, 0.0],
                        ),
                        ((5, 1), vec![0.2; 5]),
                        ((1, 3), vec![0.25, 0.5, 0.25]),
                        ((4, 2), random(8)),
                        ((5, 5), random(25)),
                        ((15, 15), random(225).iter().map(|w| w / 20.0).collect()),
                    ];
                    for ((kw, kh), k) in &convolutions {
                        let (Some(wp), Some(wv)) = (p.weights(k, kw * kh), v.weights(k, kw * kh))
                        else {
                            continue;
                        };
                        for (zero, bias) in [
                            (0.0, 0.0),
                            (128.0 * (max + 1) as f32 / 256.0, 0.0),
                            (0.0, max as f32 / 2.0),
                        ] {
                            for y in 0..h {
                                p.convolve(
                                    &rows,
                                    y,
                                    (*kw, *kh),
                                    &wp,
                                    zero,
                                    bias,
                                    &mut a,
                                    &mut pad,
                                    &mut acc,
                                );
                                v.convolve(
                                    &rows,
                                    y,
                                    (*kw, *kh),
                                    &wv,
                                    zero,
                                    bias,
                                    &mut b,
                                    &mut pad,
                                    &mut acc,
                                );
                                same(
                                    &format!(
                                        "convolve {kw}×{kh} zero {zero} bias {bias}, row {y}, {at}"
                                    ),
                                    &a,
                                    &b,
                                );
                            }
                        }
                    }

                    // Vertical resamples of the window's rows, up and down, and one whose
                    // table is too long for the vector form's registers.
                    let tall = noise.row(w * 200, realistic);
                    let filters = [
                        ResampleFilter::Nearest,
                        ResampleFilter::Bilinear,
                        ResampleFilter::Bicubic,
                        ResampleFilter::Lanczos3,
                    ];
                    for (f, src, dst) in filters
                        .iter()
                        .flat_map(|&f| [(f, h, 1), (f, h, 5), (f, h, 17)])
                        .chain([(ResampleFilter::Lanczos3, 200, 9)])
                    {
                        let data = if src == h { &data[..] } else { &tall[..] };
                        let rows = window(data, w);
                        let ratio = src as f64 / dst as f64;
                        let t = ResampleTable::new(
                            f,
                            src as u32,
                            dst as u32,
                            ratio,
                            (ratio - 1.0) / 2.0,
                        );
                        let (wp, wv) = (
                            p.weights(&t.weights, t.taps as usize).unwrap(),
                            v.weights(&t.weights, t.taps as usize).unwrap(),
                        );
                        for y in 0..dst {
                            p.resample_v(
                                &rows,
                                y,
                                t.starts[y],
                                &wp,
                                t.taps as usize,
                                &mut a,
                                &mut acc,
                            );
                            v.resample_v(
                                &rows,
                                y,
                                t.starts[y],
                                &wv,
                                t.taps as usize,
                                &mut b,
                                &mut acc,
                            );
                            same(
                                &format!("resample_v {f:?} {src}→{dst}, row {y}, {at}"),
                                &a,
                                &b,
                            );
                        }
                    }

                    // Horizontal resamples of a row, up and down.
                    for (f, dst) in filters
                        .iter()
                        .flat_map(|&f| [(f, 1), (f, w / 3 + 1), (f, w * 2 / 3 + 1), (f, 2 * w + 1)])
                    {
                        let ratio = w as f64 / dst as f64;
                        let t =
                            ResampleTable::new(f, w as u32, dst as u32, ratio, (ratio - 1.0) / 2.0);
                        let taps = t.taps as usize;
                        let (wp, wv) = (
                            p.weights(&t.weights, taps).unwrap(),
                            v.weights(&t.weights, taps).unwrap(),
                        );
                        let reach = |s: &i32| {
                            (-(*s as i64))
                                .max(*s as i64 + taps as i64 - w as i64)
                                .max(0)
                        };
                        let margin = t.starts.iter().map(reach).max().unwrap_or(0) as usize;
                        let (mut a, mut b) = (vec![0i16; dst], vec![0i16; dst]);
                        for y in [0, h - 1] {
                            pad_row(rows.row(y as isize), margin, &mut pad);
                            p.resample_h(&pad, margin, &t.starts, &wp, taps, &mut a);
                            v.resample_h(&pad, margin, &t.starts, &wv, taps, &mut b);
                            same(
                                &format!("resample_h {f:?} {w}→{dst}, row {y}, {at}"),
                                &a,
                                &b,
                            );
                        }
                    }
                }
            }
        }
        // The plain forms are what the portable build runs.
        let _ = plain::code;
    }

    /// Every pass kind on yuv420p at 8 bits, yuv422p at 10, yuv444p at 12 and RGB at 8, at
    /// widths that put the kernels' vector tails to work, in strips of a few rows (so that
    /// strips start and end at the plane's edges and inside it) and in the default strips.
    #[test]
    fn avx2_build_matches_the_portable_build_on_every_layout_and_width() {
        if Isa::detect() != Isa::Avx2 {
            eprintln!("no AVX2 on this processor: nothing to compare");
            return;
        }
        let video = Colour::video(Matrix::Bt709, false);
        for w in WIDTHS {
            let h = 11;
            let formats = [
                Format::new(w as u32, h, Layout::YUV420, 8, video),
                Format::new(w as u32, h, Layout::YUV422, 10, video),
                Format::new(w as u32, h, Layout::YUV444, 12, video),
                Format::rgb(w as u32, h, 8, false),
            ];
            let mut chains: Vec<String> = [
                "gblur(sigma=3)",
                "gblur(sigma=0.7) | boxblur(radius=2)",
                "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)",
                "convolve(kernel=[[-2,-1,0],[-1,1,1],[0,1,2]], bias=0.5)",
                "unsharp(sigma=1, amount=1)",
                "unsharp(sigma=2, amount=-0.5) | gblur(1)",
                "eq(contrast=1.2) | invert",
                "hflip | vflip",
            ]
            .iter()
            .map(|c| c.to_string())
            .collect();
            chains.push(format!(
                "scale({}, {}, lanczos3)",
                w * 2 / 3 + 1,
                h * 2 / 3 + 1
            ));
            chains.push(format!(
                "scale({}, {}, bicubic) | gblur(2)",
                2 * w + 1,
                2 * h + 1
            ));
            chains.push(format!("boxblur(1) | scale({}, 5, bilinear)", w / 2 + 1));
            if w > 6 {
                chains.push(format!("crop(2, 4, {}, 6) | unsharp(1)", (w - 4) & !1));
            }
            for format in formats {
                let frame = picture(format);
                for text in &chains {
                    let chain = Chain::parse(text).unwrap();
                    let plan = plan::compile(&chain, &frame.format).unwrap();
                    for strips in [Some(3), None] {
                        let mut portable = CpuBackend {
                            strip_rows: strips,
                            ..CpuBackend::with_isa(Isa::Portable)
                        };
                        let mut avx2 = CpuBackend {
                            strip_rows: strips,
                            ..CpuBackend::with_isa(Isa::Avx2)
                        };
                        let a = portable.process(&plan, frame.clone()).unwrap();
                        let b = avx2.process(&plan, frame.clone()).unwrap();
                        assert_eq!(
                            a.max_abs_diff(&b),
                            Some(0),
                            "`{text}` on {} in strips of {strips:?} rows differs between the builds",
                            format.describe()
                        );
                    }
                }
            }
        }
    }

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
