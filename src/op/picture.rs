//! A picture laid over frames (overlay, watermark): its pixels, where it goes, how it blends,
//! and the f32 arithmetic of a pixel that both backends follow (the CPU's pointwise blocks and
//! `shaders/overlay.wgsl`).
//!
//! The picture is read and sized once, when its filter is lowered, and shared between plans
//! behind an `Arc`; it carries a fingerprint of its pixels so that the GPU writes them again
//! only when another picture takes its place. Pixels are straight-alpha R′G′B′A at 8 bits, one
//! `u32` each (red in the low byte), which is what logos and watermarks are made at.

use std::hash::{Hash, Hasher};

/// How the picture's colour combines with the frame's, before its alpha (times the opacity)
/// mixes the result in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blend {
    /// The picture's colour.
    Normal,
    /// frame · picture: darkens.
    Multiply,
    /// 1 − (1 − frame)(1 − picture): lightens.
    Screen,
    /// Multiply where the frame is dark, screen where it is light.
    Overlay,
    /// frame + picture, at most 1.
    Add,
}

impl Blend {
    pub const NAMES: &'static [&'static str] = &["normal", "multiply", "screen", "overlay", "add"];

    pub fn from_name(name: &str) -> Option<Blend> {
        Some(match name {
            "normal" => Blend::Normal,
            "multiply" => Blend::Multiply,
            "screen" => Blend::Screen,
            "overlay" => Blend::Overlay,
            "add" => Blend::Add,
            _ => return None,
        })
    }

    /// The number the GPU kernel knows the mode by.
    pub fn index(self) -> u32 {
        self as u32
    }

    /// The blended colour of one channel: `b` the frame's, `s` the picture's.
    #[inline(always)]
    pub fn apply(self, b: f32, s: f32) -> f32 {
        match self {
            Blend::Normal => s,
            Blend::Multiply => b * s,
            Blend::Screen => 1.0 - (1.0 - b) * (1.0 - s),
            Blend::Overlay => {
                if b < 0.5 {
                    2.0 * b * s
                } else {
                    1.0 - 2.0 * (1.0 - b) * (1.0 - s)
                }
            }
            Blend::Add => (b + s).min(1.0),
        }
    }
}

/// The picture's pixels.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    /// Row after row, R′, G′, B′ and alpha in the bytes of each, red lowest.
    pub pixels: Vec<u32>,
    pub fingerprint: u64,
}

impl Picture {
    /// A picture of `width`×`height` straight-alpha RGBA bytes.
    pub fn from_rgba8(width: u32, height: u32, rgba: &[u8]) -> Picture {
        assert_eq!(rgba.len(), width as usize * height as usize * 4);
        let pixels: Vec<u32> = rgba
            .chunks_exact(4)
            .map(|p| u32::from_le_bytes([p[0], p[1], p[2], p[3]]))
            .collect();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (width, height).hash(&mut h);
        pixels.hash(&mut h);
        Picture {
            width,
            height,
            pixels,
            fingerprint: h.finish(),
        }
    }

    /// The picture's R′G′B′A (0..=1) at (`u`, `v`), which must be inside it.
    #[inline(always)]
    pub fn at(&self, u: u32, v: u32) -> [f32; 4] {
        let w = self.pixels[(v * self.width + u) as usize];
        std::array::from_fn(|c| ((w >> (8 * c)) & 255) as f32 / 255.0)
    }
}

/// Where and how a picture goes over the frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placement {
    /// The frame pixel the picture's top-left pixel covers (may be outside the frame).
    pub x: i32,
    pub y: i32,
    /// Multiplies the picture's alpha.
    pub opacity: f32,
    pub blend: Blend,
    /// Repeats the picture across the whole frame from (x, y).
    pub tile: bool,
}

/// Frame pixel (`px`, `py`) with the picture over it: `rgba` is the frame's normalised R′G′B′A,
/// alpha straight. Source-over compositing with a blend mode, as the W3C's Compositing and
/// Blending defines it: where the frame is opaque, the picture's alpha `a` (times the opacity)
/// mixes the blended colour in, `b + (B(b, s) − b)·a`; where the frame is transparent the
/// picture's own colour shows; alpha becomes `a + a_b·(1 − a)`.
#[inline(always)]
pub fn over(picture: &Picture, at: &Placement, px: f32, py: f32, rgba: [f32; 4]) -> [f32; 4] {
    let (w, h) = (picture.width as i64, picture.height as i64);
    let (mut u, mut v) = (px as i64 - at.x as i64, py as i64 - at.y as i64);
    if at.tile {
        u = u.rem_euclid(w);
        v = v.rem_euclid(h);
    } else if u < 0 || v < 0 || u >= w || v >= h {
        return rgba;
    }
    let s = picture.at(u as u32, v as u32);
    let a = s[3] * at.opacity;
    let ab = rgba[3];
    let out_a = a + ab * (1.0 - a);
    if out_a <= 0.0 {
        return rgba;
    }
    let below = ab * (1.0 - a);
    let mix = |c: usize| {
        let b = rgba[c];
        let shown = s[c] + (at.blend.apply(b, s[c]) - s[c]) * ab;
        (shown * a + b * below) / out_a
    };
    [mix(0), mix(1), mix(2), out_a]
}
