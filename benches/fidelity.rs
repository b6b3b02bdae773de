//! How close a blurred video is to the exact Gaussian: the fidelity check `benches/compare.py`
//! prints beside its timings.
//!
//!     cargo bench --bench fidelity -- SOURCE.yuv WIDTH HEIGHT SIGMA NAME=BLURRED.yuv ...
//!
//! SOURCE and each BLURRED are raw 8-bit yuv420p frames of WIDTH×HEIGHT (FFmpeg's `-f rawvideo
//! -pix_fmt yuv420p`). The reference is the source blurred in f64 by the exact Gaussian of
//! radius ceil(3σ) with clamped edges, σ on luma and σ/2 on the half-size chroma (the same
//! picture as blurring RGB), unrounded. For each candidate it prints one line of PSNR per
//! plane (dB, peak 255, over every frame): `NAME y=… u=… v=…`.

use std::process::ExitCode;

fn gaussian(sigma: f64) -> Vec<f64> {
    let r = (3.0 * sigma).ceil() as i64;
    let g: Vec<f64> = (-r..=r)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = g.iter().sum();
    g.iter().map(|v| v / sum).collect()
}

/// The plane blurred separably in f64 (the same as the direct 2-D kernel, which is the outer
/// product of the two), edges clamped.
fn blur(plane: &[u8], w: usize, h: usize, taps: &[f64]) -> Vec<f64> {
    let r = (taps.len() / 2) as i64;
    let mut across = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            across[y * w + x] = taps
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    t * plane[y * w + (x as i64 + k as i64 - r).clamp(0, w as i64 - 1) as usize]
                        as f64
                })
                .sum();
        }
    }
    let mut out = vec![0.0; w * h];
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = taps
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    t * across[(y as i64 + k as i64 - r).clamp(0, h as i64 - 1) as usize * w + x]
                })
                .sum();
        }
    }
    out
}

fn run(args: &[String]) -> Result<(), String> {
    let [source, width, height, sigma, candidates @ ..] = args else {
        return Err("usage: SOURCE.yuv WIDTH HEIGHT SIGMA NAME=BLURRED.yuv ...".into());
    };
    let number = |s: &str| s.parse::<f64>().map_err(|e| format!("{s}: {e}"));
    let (w, h, sigma) = (
        number(width)? as usize,
        number(height)? as usize,
        number(sigma)?,
    );
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let planes = [(0, w, h), (w * h, cw, ch), (w * h + cw * ch, cw, ch)];
    let frame = w * h + 2 * cw * ch;
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    let src = read(source)?;
    if src.is_empty() || src.len() % frame != 0 {
        return Err(format!("{source}: not whole {w}x{h} yuv420p frames"));
    }
    // The reference of every frame, plane by plane.
    let taps = [
        gaussian(sigma),
        gaussian(sigma / 2.0),
        gaussian(sigma / 2.0),
    ];
    let reference: Vec<Vec<f64>> = src
        .chunks(frame)
        .flat_map(|f| {
            planes
                .iter()
                .zip(&taps)
                .map(|(&(at, pw, ph), t)| blur(&f[at..at + pw * ph], pw, ph, t))
                .collect::<Vec<_>>()
        })
        .collect();
    for candidate in candidates {
        let (name, path) = candidate
            .split_once('=')
            .ok_or_else(|| format!("{candidate}: expected NAME=PATH"))?;
        let got = read(path)?;
        if got.len() != src.len() {
            return Err(format!(
                "{path}: {} bytes where the source has {}",
                got.len(),
                src.len()
            ));
        }
        let mut line = name.to_string();
        for (p, &(at, pw, ph)) in planes.iter().enumerate() {
            let mut sum = 0.0;
            for (i, f) in got.chunks(frame).enumerate() {
                let want = &reference[i * 3 + p];
                sum += f[at..at + pw * ph]
                    .iter()
                    .zip(want)
                    .map(|(&a, b)| (a as f64 - b).powi(2))
                    .sum::<f64>();
            }
            let mse = sum / (pw * ph * (got.len() / frame)) as f64;
            let db = 10.0 * (255.0 * 255.0 / mse.max(1e-12)).log10();
            line += &format!(" {}={db:.1}", ["y", "u", "v"][p]);
        }
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    // `cargo bench` hands harness-less benches a `--bench` flag.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fidelity: {e}");
            ExitCode::FAILURE
        }
    }
}
