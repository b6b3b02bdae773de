//! The test picture the benches filter: planes that look like a photograph's, with smooth
//! gradients, a few edges and fine texture. `benches/gpu_peer.py` makes the same samples.

/// The 8-bit sample at (`x`, `y`) of plane `p`, `w`×`h` samples.
pub fn sample(p: usize, x: usize, y: usize, w: usize, h: usize) -> u8 {
    let (u, t) = (x as f64 / w as f64, y as f64 / h as f64);
    let smooth = 90.0 + 70.0 * u + 40.0 * (6.0 * t + p as f64).sin();
    let edge = if (x / 97 + y / 61).is_multiple_of(3) {
        30.0
    } else {
        0.0
    };
    let hash = (x as u32).wrapping_mul(2654435761) ^ (y as u32).wrapping_mul(40503);
    let texture = ((hash >> 13) % 17) as f64 - 8.0;
    (smooth + edge + texture).clamp(0.0, 255.0) as u8
}
