//! Frames as they travel between stages: interleaved RGBA at the source's depth.
//!
//! A frame never holds floats: passes convert to f32 internally and back on output, so a chain
//! never rounds to 8 bits between its filters while the channels between threads stay compact.

/// Sample depth of a frame between stages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Depth {
    /// 8 bits per channel (most photos, 8-bit video).
    Eight,
    /// 16 bits per channel (16-bit PNG/TIFF, 10- and 12-bit video scaled up).
    Sixteen,
}

impl Depth {
    /// The largest code value of one channel.
    pub fn max_value(self) -> f32 {
        match self {
            Depth::Eight => 255.0,
            Depth::Sixteen => 65535.0,
        }
    }
}

/// Interleaved RGBA samples, row-major, no padding between rows.
#[derive(Clone, Debug, PartialEq)]
pub enum Pixels {
    Rgba8(Vec<u8>),
    Rgba16(Vec<u16>),
}

impl Pixels {
    /// Samples held: four a pixel.
    pub fn len(&self) -> usize {
        match self {
            Pixels::Rgba8(p) => p.len(),
            Pixels::Rgba16(p) => p.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn depth(&self) -> Depth {
        match self {
            Pixels::Rgba8(_) => Depth::Eight,
            Pixels::Rgba16(_) => Depth::Sixteen,
        }
    }
}

/// One picture of an image or a video, with its place in the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub pixels: Pixels,
    /// Position in decode order (0 for a still image); used to restore order after parallel work.
    pub index: u64,
    /// Presentation timestamp in the source stream's time base, when there is one.
    pub pts: Option<i64>,
}

/// How a picture is turned for display: clockwise quarter turns, after an optional mirror
/// (left to right). What a video's display matrix asks of players, and what `--auto-rotate`
/// applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Orientation {
    pub mirror: bool,
    /// 0 to 3.
    pub quarter_turns: u8,
}

impl Orientation {
    pub fn is_identity(self) -> bool {
        !self.mirror && self.quarter_turns.is_multiple_of(4)
    }

    /// The size of a `(width, height)` picture once turned.
    pub fn size(self, (w, h): (u32, u32)) -> (u32, u32) {
        if self.quarter_turns % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        }
    }
}

impl Frame {
    /// The frame turned as `o` says: mirrored, then turned clockwise. Samples move as they are.
    pub fn oriented(&self, o: Orientation) -> Frame {
        fn turn<T: Copy + Default>(src: &[T], w: usize, h: usize, o: Orientation) -> Vec<T> {
            let (ow, oh) = if o.quarter_turns % 2 == 1 {
                (h, w)
            } else {
                (w, h)
            };
            let mut out = vec![T::default(); src.len()];
            for oy in 0..oh {
                for ox in 0..ow {
                    // The source pixel of output (ox, oy), undoing the turn and then the mirror.
                    let (mut x, y) = match o.quarter_turns % 4 {
                        1 => (oy, h - 1 - ox),
                        2 => (w - 1 - ox, h - 1 - oy),
                        3 => (w - 1 - oy, ox),
                        _ => (ox, oy),
                    };
                    if o.mirror {
                        x = w - 1 - x;
                    }
                    let (s, d) = ((y * w + x) * 4, (oy * ow + ox) * 4);
                    out[d..d + 4].copy_from_slice(&src[s..s + 4]);
                }
            }
            out
        }
        let (w, h) = (self.width as usize, self.height as usize);
        let pixels = match &self.pixels {
            Pixels::Rgba8(p) => Pixels::Rgba8(turn(p, w, h, o)),
            Pixels::Rgba16(p) => Pixels::Rgba16(turn(p, w, h, o)),
        };
        let (width, height) = o.size((self.width, self.height));
        Frame {
            width,
            height,
            pixels,
            index: self.index,
            pts: self.pts,
        }
    }

    /// A frame of the given size and depth with every sample zero.
    pub fn new(width: u32, height: u32, depth: Depth) -> Frame {
        let n = width as usize * height as usize * 4;
        let pixels = match depth {
            Depth::Eight => Pixels::Rgba8(vec![0; n]),
            Depth::Sixteen => Pixels::Rgba16(vec![0; n]),
        };
        Frame {
            width,
            height,
            pixels,
            index: 0,
            pts: None,
        }
    }

    pub fn from_rgba8(width: u32, height: u32, data: Vec<u8>) -> Frame {
        assert_eq!(
            data.len(),
            width as usize * height as usize * 4,
            "RGBA8 buffer size"
        );
        Frame {
            width,
            height,
            pixels: Pixels::Rgba8(data),
            index: 0,
            pts: None,
        }
    }

    pub fn from_rgba16(width: u32, height: u32, data: Vec<u16>) -> Frame {
        assert_eq!(
            data.len(),
            width as usize * height as usize * 4,
            "RGBA16 buffer size"
        );
        Frame {
            width,
            height,
            pixels: Pixels::Rgba16(data),
            index: 0,
            pts: None,
        }
    }

    pub fn depth(&self) -> Depth {
        self.pixels.depth()
    }

    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Channel `c` of pixel (x, y) as a value in 0..=1.
    pub fn sample(&self, x: u32, y: u32, c: usize) -> f32 {
        let i = (y as usize * self.width as usize + x as usize) * 4 + c;
        match &self.pixels {
            Pixels::Rgba8(p) => p[i] as f32 / 255.0,
            Pixels::Rgba16(p) => p[i] as f32 / 65535.0,
        }
    }

    /// Largest difference in code values between two frames of the same size and depth, or
    /// `None` when their shapes differ.
    pub fn max_abs_diff(&self, other: &Frame) -> Option<u32> {
        if self.width != other.width || self.height != other.height {
            return None;
        }
        match (&self.pixels, &other.pixels) {
            (Pixels::Rgba8(a), Pixels::Rgba8(b)) => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| (x as i32 - y as i32).unsigned_abs())
                .max(),
            (Pixels::Rgba16(a), Pixels::Rgba16(b)) => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| (x as i32 - y as i32).unsigned_abs())
                .max(),
            _ => None,
        }
    }
}

/// `v`, a value on the scale of code values, as the nearest code value of `0 ..= max` (at most
/// 65535): clamped, NaN counted as 0. Shared by the CPU kernels and the YUV converter.
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; `max` turns it into 0
pub fn nearest_code(v: f32, max: f32) -> u32 {
    // `max` and `min` return the other operand for NaN, so the value is finite and in range:
    // the conversion below is exact, and it becomes one vector instruction where a saturating
    // `as` cast would need several.
    let v = (v + 0.5).max(0.0).min(max);
    // SAFETY: `v` is finite and within 0 ..= 65535.
    unsafe { v.to_int_unchecked::<i32>() as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each orientation moves pixels as its name says: labels 0..6 on a 3x2 frame.
    #[test]
    fn orientations_move_pixels() {
        let frame = Frame {
            width: 3,
            height: 2,
            pixels: Pixels::Rgba8((0..6u8).flat_map(|v| [v, v, v, 255]).collect()),
            index: 0,
            pts: None,
        };
        let labels = |f: &Frame| match &f.pixels {
            Pixels::Rgba8(p) => p.chunks(4).map(|px| px[0]).collect::<Vec<u8>>(),
            Pixels::Rgba16(_) => unreachable!(),
        };
        // 0 1 2
        // 3 4 5
        for (mirror, quarter_turns, size, want) in [
            (false, 1, (2, 3), vec![3, 0, 4, 1, 5, 2]),
            (false, 2, (3, 2), vec![5, 4, 3, 2, 1, 0]),
            (false, 3, (2, 3), vec![2, 5, 1, 4, 0, 3]),
            (true, 0, (3, 2), vec![2, 1, 0, 5, 4, 3]),
            // A transpose and an anti-transpose.
            (true, 3, (2, 3), vec![0, 3, 1, 4, 2, 5]),
            (true, 1, (2, 3), vec![5, 2, 4, 1, 3, 0]),
        ] {
            let o = Orientation {
                mirror,
                quarter_turns,
            };
            let turned = frame.oriented(o);
            assert_eq!((turned.width, turned.height), size, "{o:?}");
            assert_eq!(labels(&turned), want, "{o:?}");
        }
    }
}
