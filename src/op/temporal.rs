//! Ops that read frames from the past as well as the frame in hand (tmix, hqdn3d), and the
//! arithmetic of each, which both backends follow.
//!
//! What such an op keeps from one frame to the next (its *history*) lives in the backend that
//! runs the stream, keyed by the op's [`Temporal`] `id` and the plane: a ring of past planes on
//! the CPU (the frame's codes, or f32 after another filter), buffers that stay on the GPU
//! between frames there (f32). A history starts with the
//! stream's first frame that reaches the op, and sees the frames that reach it, in order:
//! - frames a time range or `enable` leaves out of the op are not in its history (the op takes
//!   up again from the frames it saw, as FFmpeg's timeline does);
//! - a damaged frame that `--on-error skip` leaves out, or frames cut before a start time,
//!   never reach it either: the next frame's history holds the frame before the gap;
//! - a history is as large as the op says ([`Temporal::history_bytes`]) and no larger,
//!   whatever the video's length; a new stream (the next file of a batch) starts a new one.

use std::sync::Arc;

/// Past frames an op may keep at most, in bytes of the CPU's history: `tmix(frames=1024)` on
/// a 4K frame would otherwise hold gigabytes.
pub const HISTORY_LIMIT: u64 = 2 << 30;

/// What a temporal op does to one plane.
#[derive(Clone, Debug, PartialEq)]
pub enum TemporalKind {
    /// FFmpeg's tmix: `Σ weights[k] · frame[n − K + 1 + k] · scale` for the K = `weights.len()`
    /// frames up to this one, oldest first, rounded to the nearest code (half to even, as
    /// FFmpeg's `lrintf`) where it is the plane's last change. Before K frames have
    /// come, the first frame stands for the missing ones (FFmpeg 5.1 does the same: one
    /// output frame for each input frame).
    Mix(Arc<Mix>),
    /// FFmpeg's hqdn3d: a recursive low-pass along each row, then down each column, then
    /// through time against the previous output, in FFmpeg's 16-bit fixed point.
    Denoise(Arc<Denoise3d>),
}

/// The weights of a mix, oldest frame first, and the scale of their sum.
#[derive(Clone, Debug, PartialEq)]
pub struct Mix {
    pub weights: Vec<f32>,
    pub scale: f32,
}

impl Mix {
    /// Past frames the history keeps: all but the frame in hand.
    pub fn slots(&self) -> usize {
        self.weights.len() - 1
    }

    /// The mix of `past` (oldest first, `slots()` of them) and `now`, unrounded: the sum in
    /// the order both backends take it.
    #[inline(always)]
    pub fn apply(&self, past: impl Iterator<Item = f32>, now: f32) -> f32 {
        let mut sum = 0.0f32;
        for (w, v) in self.weights.iter().zip(past) {
            sum += w * v;
        }
        sum += self.weights[self.slots()] * now;
        sum * self.scale
    }
}

/// hqdn3d's tables for one plane and what reading a sample into its fixed point takes.
///
/// A sample of a `bits`-deep plane is read as `code · 2^shift + bias` (16-bit values, `shift`
/// = 16 − bits, `bias` half a step below the midpoint, as FFmpeg's); the output is the top
/// `bits` bits of the last value, kept to 16 bits (as the value FFmpeg keeps for the next frame;
/// its 8-bit output wraps the same way on the rare step past 65535). `lowpass(prev, cur) = cur + table[(prev − cur) >> (8 − lut_bits)]`,
/// the table indexed from its middle.
#[derive(Clone, Debug, PartialEq)]
pub struct Denoise3d {
    /// FFmpeg's strengths, kept to tell tables apart.
    pub spatial_strength: f64,
    pub temporal_strength: f64,
    pub spatial: Arc<[i32]>,
    pub temporal: Arc<[i32]>,
    pub shift: u32,
    pub lut_bits: u32,
}

impl Denoise3d {
    pub fn new(spatial: f64, temporal: f64, bits: u32) -> Denoise3d {
        let lut_bits = if bits >= 16 { 8 } else { 4 };
        Denoise3d {
            spatial_strength: spatial,
            temporal_strength: temporal,
            spatial: coefficients(spatial, lut_bits).into(),
            temporal: coefficients(temporal, lut_bits).into(),
            shift: 16 - bits.min(16),
            lut_bits,
        }
    }

    /// The bias added to a sample read (half a step of the 16-bit scale, rounded down).
    pub fn bias(&self) -> i32 {
        ((1i32 << self.shift) - 1) >> 1
    }

    /// A sample (a code value, maybe with a fraction from an earlier filter) in the 16-bit
    /// fixed point: exactly FFmpeg's for a whole code.
    #[inline(always)]
    pub fn load(&self, v: f32) -> i32 {
        let scaled = (v * (1u32 << self.shift) as f32 + 0.5).floor() as i32;
        (scaled + self.bias()).clamp(0, 0xffff)
    }

    /// One step of the recursive filter through `table`.
    #[inline(always)]
    pub fn lowpass(&self, table: &[i32], prev: i32, cur: i32) -> i32 {
        let middle = 256i32 << self.lut_bits;
        let d = (prev - cur) >> (8 - self.lut_bits);
        cur + table[(middle + d) as usize]
    }

    /// The output code of a filtered value (FFmpeg's: its top bits), clamped to the plane.
    #[inline(always)]
    pub fn code(&self, v: i32, max: u32) -> u32 {
        ((v.max(0) as u32) >> self.shift).min(max)
    }

    /// A filtered value as a work sample for a later filter: the code value it stands for,
    /// with its fraction.
    #[inline(always)]
    pub fn value(&self, v: i32) -> f32 {
        (v - self.bias()) as f32 / (1u32 << self.shift) as f32
    }

    /// Words of the two tables, as the GPU reads them.
    pub fn table_len(&self) -> usize {
        self.spatial.len()
    }
}

/// hqdn3d's table for a strength: entry `(256 << lut_bits) + i` is the step towards `prev` for
/// a difference in bin `i`, `simil^γ · 256 · f` at the bin's midpoint `f` (8-bit units), with
/// `simil = 1 − |f|/255` and γ such that a difference of `strength` keeps a quarter; rounded
/// half to even, as C's `lrint`. Entry 0 is 1 for a non-zero strength (FFmpeg keeps a flag
/// there); the bins below −255 are 0.
pub fn coefficients(strength: f64, lut_bits: u32) -> Vec<i32> {
    let lb = lut_bits as i64;
    let mut table = vec![0i32; 512 << lut_bits];
    let gamma = 0.25f64.ln() / (1.0 - strength.min(252.0) / 255.0 - 0.00001).ln();
    for i in (-255i64 << lb)..=(255i64 << lb) {
        let f = ((i << (9 - lb)) + (1 << (8 - lb)) - 1) as f64 / 512.0;
        let simil = 1.0 - f.abs() / 255.0;
        let c = simil.powf(gamma) * 256.0 * f;
        table[((256i64 << lb) + i) as usize] = c.round_ties_even() as i32;
    }
    table[0] = (strength != 0.0) as i32;
    table
}

/// A temporal op on each plane that has one, and the history it is kept under.
#[derive(Clone, Debug, PartialEq)]
pub struct Temporal {
    /// Which op of the chain this is: the stage's index (set by the plan's compiler), so that
    /// the op keeps its history when the plan around it changes from frame to frame.
    pub id: u32,
    pub planes: super::PerPlane<TemporalKind>,
}

impl Temporal {
    /// Bytes of history the op keeps on the CPU for a frame whose planes are `sizes`.
    pub fn history_bytes(&self, sizes: impl Fn(usize) -> (u32, u32)) -> u64 {
        self.planes
            .iter()
            .enumerate()
            .filter_map(|(p, k)| k.as_ref().map(|k| (p, k)))
            .map(|(p, k)| {
                let (w, h) = sizes(p);
                let samples = w as u64 * h as u64;
                match k {
                    // At most: a mix after another filter keeps f32 code values.
                    TemporalKind::Mix(m) => samples * 4 * m.slots() as u64,
                    TemporalKind::Denoise(_) => samples * 2,
                }
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_strength_table_leaves_every_value() {
        for lut_bits in [4, 8] {
            let d = Denoise3d::new(0.0, 0.0, if lut_bits == 8 { 16 } else { 8 });
            for (prev, cur) in [(0, 0), (65407, 127), (127, 65407), (30000, 30100)] {
                assert_eq!(d.lowpass(&d.spatial, prev, cur), cur, "{prev} {cur}");
            }
        }
    }

    #[test]
    fn a_strong_table_moves_small_differences_most_of_the_way() {
        let d = Denoise3d::new(4.0, 6.0, 8);
        // Codes 100 and 102 read as 16-bit values: the step keeps most of the difference.
        let (prev, cur) = (d.load(100.0), d.load(102.0));
        let out = d.lowpass(&d.spatial, prev, cur);
        assert!(out < cur && out > prev + 64, "{prev} {cur} {out}");
        // A large difference (an edge) is kept.
        let (prev, cur) = (d.load(20.0), d.load(200.0));
        let out = d.lowpass(&d.spatial, prev, cur);
        assert!((out - cur).abs() < 256, "{prev} {cur} {out}");
    }

    #[test]
    fn whole_codes_load_as_ffmpeg_reads_them() {
        let d = Denoise3d::new(1.0, 1.0, 8);
        assert_eq!(d.load(0.0), 127);
        assert_eq!(d.load(255.0), (255 << 8) + 127);
        assert_eq!(d.code(d.load(37.0), 255), 37);
        let d = Denoise3d::new(1.0, 1.0, 10);
        assert_eq!(d.load(1023.0), (1023 << 6) + 31);
        assert_eq!(d.value(d.load(512.0)), 512.0);
    }
}
