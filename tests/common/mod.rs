//! Test media drawn in code and backend helpers shared by the integration tests.
#![allow(dead_code)]

use tessera::backend::gpu::{AdapterPolicy, GpuBackend};
use tessera::frame::{Colour, Format, Layout, Matrix, Samples};
use tessera::Frame;

pub mod planes;

/// A small deterministic generator so test images are not trivially flat.
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
}

/// Gradients, a checkerboard with hard edges, noise and a varying alpha: every filter has
/// something to change.
pub fn test_image8(width: u32, height: u32, seed: u64) -> Frame {
    let mut noise = Noise::new(seed);
    let mut data = Vec::with_capacity((width * height * 4) as usize);
    for y in 0..height {
        for x in 0..width {
            let checker = if (x / 5 + y / 7) % 2 == 0 { 200 } else { 30 };
            let gx = x * 255 / width.max(1);
            let gy = y * 255 / height.max(1);
            let n = noise.next();
            data.push(((gx + checker) / 2 + (n & 15)).min(255) as u8);
            data.push(((gy + 255 - checker) / 2 + ((n >> 4) & 31)).min(255) as u8);
            data.push((((gx + gy) / 2) ^ ((n >> 9) & 63)).min(255) as u8);
            data.push(if x % 11 == 0 {
                128
            } else {
                255 - (y * 3 % 64) as u8
            });
        }
    }
    Frame::from_rgba8(width, height, data)
}

/// The 8-bit test image widened to 16 bits with fine detail in the low byte.
pub fn test_image16(width: u32, height: u32, seed: u64) -> Frame {
    let base = test_image8(width, height, seed);
    let mut noise = Noise::new(seed + 1);
    let Samples::U8(p) = base.interleaved() else {
        unreachable!()
    };
    let data = p
        .iter()
        .map(|&v| (v as u16) << 8 | (noise.next() & 0xff) as u16)
        .collect();
    Frame::from_rgba16(width, height, data)
}

/// Limited-range BT.709 video, as most clips are.
pub fn video_colour() -> Colour {
    Colour::video(Matrix::Bt709, false)
}

/// A frame of any layout and depth with the same kind of content as [`test_image8`] on every
/// plane, at the plane's own resolution: gradients, hard edges and noise, luma and chroma within
/// their nominal range (a little outside it here and there, as real video has), alpha varying.
pub fn test_frame(format: Format, seed: u64) -> Frame {
    let mut noise = Noise::new(seed);
    let mut frame = Frame::new(format);
    for p in 0..format.planes() {
        let (w, h) = format.plane_size(p);
        let zero = format.zero(p);
        let scale = format.scale(p);
        let role = format.role(p);
        let chroma = role.is_chroma();
        let mut values = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                let gx = x as f64 / w.max(1) as f64;
                let gy = y as f64 / h.max(1) as f64;
                let checker = if (x / 5 + y / 7 + p as u32).is_multiple_of(2) {
                    0.8
                } else {
                    0.15
                };
                let n = (noise.next() & 1023) as f64 / 1023.0 - 0.5;
                let v = match (role, chroma) {
                    (tessera::frame::Role::Alpha, _) if x % 11 == 0 => 0.5,
                    (tessera::frame::Role::Alpha, _) => 1.0 - (y % 64) as f64 / 256.0,
                    (_, true) => 0.4 * ((gx - gy) + 0.6 * (checker - 0.5)) + 0.06 * n,
                    _ => 0.45 * gx + 0.25 * gy + 0.3 * checker + 0.06 * n,
                };
                values.push(v);
            }
        }
        let max = format.max_code() as f64;
        let code = |v: &f64| (zero + v * scale).round().clamp(0.0, max);
        if format.is_wide() {
            for (o, v) in frame.plane16_mut(p).data.iter_mut().zip(&values) {
                *o = code(v) as u16;
            }
        } else {
            for (o, v) in frame.plane8_mut(p).data.iter_mut().zip(&values) {
                *o = code(v) as u8;
            }
        }
    }
    frame
}

/// A Y′CbCr format of `layout` at `bits`, limited-range BT.709.
pub fn yuv(width: u32, height: u32, layout: Layout, bits: u8) -> Format {
    Format::new(width, height, layout, bits, video_colour())
}

/// The GPU backend on whatever adapter wgpu finds (lavapipe on machines without a GPU).
/// Without one, GPU tests are skipped, unless `TESSERA_REQUIRE_GPU=1` (as in CI) makes that a
/// failure.
pub fn gpu() -> Option<GpuBackend> {
    match GpuBackend::new(AdapterPolicy::Any) {
        Ok(gpu) => Some(gpu),
        Err(e) if std::env::var("TESSERA_REQUIRE_GPU").as_deref() == Ok("1") => {
            panic!("TESSERA_REQUIRE_GPU=1 but the GPU backend cannot open: {e}")
        }
        Err(e) => {
            eprintln!("skipping GPU checks: {e}");
            None
        }
    }
}

/// Runs the binary; its exit code, stdout and stderr. A panic is a failure of the test.
pub fn tessera(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .output()
        .expect("run tessera");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "tessera panicked:\n{stderr}");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// The 8-bit test image, saved as a PNG.
pub fn write_png8(path: &std::path::Path, w: u32, h: u32, seed: u64) {
    let Samples::U8(data) = test_image8(w, h, seed).interleaved() else {
        unreachable!()
    };
    image::RgbaImage::from_raw(w, h, data)
        .unwrap()
        .save(path)
        .unwrap();
}

/// A path as the `&str` the command lines take.
pub fn s(p: &std::path::Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Runs the `ffmpeg` CLI (quiet, overwriting), which the tests use to make and read media; its
/// error output is in the failure.
pub fn ffmpeg(args: &[&str]) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An H.264 yuv420p clip of the lavfi source `source` (e.g. `testsrc2=s=320x240:d=4`), made
/// fast (`ultrafast`): long clips for runs that must still be going when a test interrupts them.
pub fn h264_clip(path: &std::path::Path, source: &str) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        source,
        "-pix_fmt",
        "yuv420p",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        s(path),
    ]);
}

/// The first video stream of `path`, decoded by FFmpeg into raw `pix_fmt` (`gray`, `rgb24`,
/// `yuv420p`, …), frame after frame as they come (no frame rate conversion).
pub fn decoded(path: &std::path::Path, pix_fmt: &str) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(path),
            "-map",
            "0:v:0",
            "-f",
            "rawvideo",
        ])
        .args(["-pix_fmt", pix_fmt, "-fps_mode", "passthrough", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg could not decode {}",
        path.display()
    );
    out.stdout
}

/// [`decoded`] cut into frames of `bytes`.
pub fn decoded_frames(path: &std::path::Path, pix_fmt: &str, bytes: usize) -> Vec<Vec<u8>> {
    decoded(path, pix_fmt)
        .chunks(bytes)
        .map(<[u8]>::to_vec)
        .collect()
}

/// What ffprobe prints for `args` about `path`, trimmed.
pub fn ffprobe(path: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .arg(path)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Adobe RGB (1998) from its published primaries, D65 white and gamma 563/256.
pub fn adobe_rgb() -> Vec<u8> {
    use lcms2::{CIExyY, CIExyYTRIPLE, Profile, ToneCurve};
    let d65 = CIExyY {
        x: 0.3127,
        y: 0.3290,
        Y: 1.0,
    };
    let primaries = CIExyYTRIPLE {
        Red: CIExyY {
            x: 0.64,
            y: 0.33,
            Y: 1.0,
        },
        Green: CIExyY {
            x: 0.21,
            y: 0.71,
            Y: 1.0,
        },
        Blue: CIExyY {
            x: 0.15,
            y: 0.06,
            Y: 1.0,
        },
    };
    let gamma = ToneCurve::new(563.0 / 256.0);
    Profile::new_rgb(&d65, &primaries, &[&gamma, &gamma, &gamma])
        .unwrap()
        .icc()
        .unwrap()
}

/// PSNR of 8-bit samples `b` against `a` (equal lengths), in dB; infinite where they are equal.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    psnr_over(
        &a.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        &b.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        255.0,
    )
}

/// PSNR of samples `b` against `a` (equal lengths) over a peak of `peak` (255, 65535), in dB;
/// infinite where they are equal.
pub fn psnr_over(a: &[f64], b: &[f64], peak: f64) -> f64 {
    assert_eq!(a.len(), b.len(), "PSNR of unequal lengths");
    let mse = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (peak * peak / mse).log10()
    }
}
