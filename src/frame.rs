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

impl Frame {
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
