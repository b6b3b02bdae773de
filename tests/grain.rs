//! `grain`: the noise each pixel gets, worked out here from its definition (two values of
//! `noise` of the pixel's position and of keys drawn from the seed and the frame index, their
//! sum less one, times the strength); luma grain leaves chroma alone; the same seed and frame
//! give the same grain on both backends, another frame other grain; and through the binary a
//! clip gets new grain at every frame, the same again on a second run.

mod common;

use common::{s, test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Format, Layout};
use tessera::pixel::noise;
use tessera::plan::{self, FrameTime};
use tessera::{Backend, Chain, Frame};

fn run(backend: &mut dyn Backend, text: &str, frame: &Frame, n: u64) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let time = FrameTime {
        t: n as f64 / 25.0,
        n,
        fps: 25.0,
        duration: 10.0,
    };
    let plan = plan::compile_at(&chain, &frame.format, &time).unwrap();
    backend.process(&plan, frame.clone()).unwrap()
}

/// The keys of frame `n` for `seed`, as `grain` defines them.
fn keys(seed: u64, n: u64) -> [f32; 6] {
    let base = seed
        .wrapping_mul(0x9e37_79b9)
        .wrapping_add(n.wrapping_mul(6));
    std::array::from_fn(|k| (base.wrapping_add(k as u64) & 0xff_ffff) as f32)
}

/// The grain at (x, y) from keys `a` and `b`, in −1..1.
fn tri(x: usize, y: usize, a: f32, b: f32) -> f64 {
    let at = noise(x as f32, y as f32) * 16_777_216.0;
    (noise(at, a) + noise(at, b) - 1.0) as f64
}

#[test]
fn grain_adds_the_noise_of_each_pixel() {
    for (frame, name) in [
        (common::test_image8(37, 23, 3), "rgba8"),
        (common::test_image16(37, 23, 4), "rgba16"),
    ] {
        for (text, seed, color) in [
            ("grain(strength=0.1, seed=3)", 3, false),
            ("grain(strength=0.2, color=true)", 0, true),
        ] {
            let n = 7;
            let out = run(&mut CpuBackend::new(), text, &frame, n);
            let k = keys(seed, n);
            let strength = if color { 0.2 } else { 0.1 };
            let max = frame.format.max_code() as f64;
            let mut worst = 0.0f64;
            for c in 0..3 {
                let (a, b) = if color {
                    (k[2 * c], k[2 * c + 1])
                } else {
                    (k[0], k[1])
                };
                let (input, got) = (frame.plane(c), out.plane(c));
                let (w, h) = input.size();
                for y in 0..h {
                    for x in 0..w {
                        let v = input.get(x, y) as f64 / max + strength * tri(x, y, a, b);
                        let want = (v.clamp(0.0, 1.0) * max).round();
                        worst = worst.max((got.get(x, y) as f64 - want).abs());
                    }
                }
            }
            assert!(worst <= 1.0, "{text} on {name}: {worst} code values off");
            // Alpha passes through.
            assert_eq!(out.plane(3).get(5, 5), frame.plane(3).get(5, 5));
        }
    }
}

/// Deltas of plane `p` from `a` to `b`.
fn deltas(a: &Frame, b: &Frame, p: usize) -> Vec<f64> {
    let (pa, pb) = (a.plane(p), b.plane(p));
    let (w, h) = pa.size();
    (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| pb.get(x, y) as f64 - pa.get(x, y) as f64)
        .collect()
}

#[test]
fn luma_grain_is_grey_and_spread_as_a_triangle() {
    // Mid grey, so nothing clips: the deltas are the grain itself.
    let grey = Frame::from_rgba8(256, 192, vec![128; 256 * 192 * 4]);
    let out = run(&mut CpuBackend::new(), "grain(strength=0.2)", &grey, 0);
    let [r, g, b] = [0, 1, 2].map(|p| deltas(&grey, &out, p));
    assert_eq!(r, g, "luma grain is the same in every channel");
    assert_eq!(r, b);
    let len = r.len() as f64;
    let mean = r.iter().sum::<f64>() / len;
    let sd = (r.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / len).sqrt();
    // A triangle on −s..s has the standard deviation s/√6: 0.2 · 255 / √6 ≈ 20.8 codes.
    let want = 0.2 * 255.0 / 6f64.sqrt();
    // The mean of 49,152 such values has a standard deviation of 20.8 / √49152 ≈ 0.09 codes.
    assert!(mean.abs() < 0.5, "mean {mean}");
    assert!((sd - want).abs() < want * 0.05, "sd {sd}, want {want}");
    assert!(r.iter().all(|d| d.abs() <= 0.2 * 255.0 + 1.0));
    let colour = run(
        &mut CpuBackend::new(),
        "grain(strength=0.2, color=true)",
        &grey,
        0,
    );
    assert_ne!(deltas(&grey, &colour, 0), deltas(&grey, &colour, 1));

    // On Y′CbCr, luma grain changes luma and leaves chroma where it was (within rounding).
    for layout in [Layout::YUV444, Layout::YUV420] {
        let frame = test_frame(yuv(40, 30, layout, 8), 9);
        let out = run(&mut CpuBackend::new(), "grain(strength=0.1)", &frame, 2);
        assert!(deltas(&frame, &out, 0).iter().any(|d| d.abs() > 5.0));
        for p in [1, 2] {
            let worst = deltas(&frame, &out, p)
                .iter()
                .fold(0.0f64, |m, d| m.max(d.abs()));
            assert!(worst <= 2.0, "{layout:?} chroma plane {p} moved by {worst}");
        }
    }
}

#[test]
fn the_same_seed_and_frame_give_the_same_grain_on_both_backends() {
    let frame = test_frame(Format::rgb(45, 31, 8, false), 5);
    let mut cpu = CpuBackend::new();
    let a = run(&mut cpu, "grain(strength=0.3, seed=11)", &frame, 4);
    let again = run(&mut cpu, "grain(strength=0.3, seed=11)", &frame, 4);
    assert_eq!(a.plane_diffs(&again).unwrap(), vec![0, 0, 0]);
    let next = run(&mut cpu, "grain(strength=0.3, seed=11)", &frame, 5);
    let other_seed = run(&mut cpu, "grain(strength=0.3, seed=12)", &frame, 4);
    for other in [&next, &other_seed] {
        let same = deltas(&a, other, 0).iter().filter(|d| **d == 0.0).count();
        assert!(same < 45 * 31 / 10, "{same} pixels kept their grain");
    }
    let Some(mut gpu) = common::gpu() else { return };
    for n in [0, 4, 1000] {
        for text in ["grain(strength=0.3, seed=11)", "grain(0.5, 2, true)"] {
            let c = run(&mut cpu, text, &frame, n);
            let g = run(&mut gpu, text, &frame, n);
            let d = c.plane_diffs(&g).unwrap();
            assert!(d.iter().all(|&d| d <= 1), "{text} at frame {n}: {d:?}");
        }
    }
}

#[test]
fn a_clip_gets_new_grain_at_every_frame_and_the_same_on_a_second_run() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("grey.mkv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=64x48:r=10:d=0.6",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "yuv444p",
        s(&clip),
    ]);
    let mut runs = Vec::new();
    for (i, backend) in ["cpu", "cpu", "gpu"].iter().enumerate() {
        if *backend == "gpu" && common::gpu().is_none() {
            continue;
        }
        let out = dir.path().join(format!("out{i}.mkv"));
        let (code, _, err) = common::tessera(&[
            "process",
            s(&clip),
            "-o",
            s(&out),
            "-q",
            "--codec",
            "ffv1",
            "--backend",
            backend,
            "--chain",
            "grain(strength=0.2, seed=1)",
        ]);
        assert_eq!(code, 0, "{err}");
        runs.push(common::decoded_frames(&out, "gray", 64 * 48));
    }
    let frames = &runs[0];
    assert_eq!(frames.len(), 6);
    for i in 1..frames.len() {
        let same = frames[i]
            .iter()
            .zip(&frames[i - 1])
            .filter(|(a, b)| a == b)
            .count();
        assert!(
            same < 64 * 48 / 5,
            "frame {i} kept {same} samples of frame {}",
            i - 1
        );
    }
    assert_eq!(runs[0], runs[1], "a second run gives the same grain");
    if let Some(gpu) = runs.get(2) {
        for (c, g) in runs[0].iter().zip(gpu) {
            let worst = c.iter().zip(g).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
            assert!(worst <= 1, "GPU grain differs by {worst}");
        }
    }
}

/// A filter whose parameters are all fixed but which follows the frame's time (fade) changes
/// from frame to frame through the binary: the pipeline lowers it again for every frame.
#[test]
fn a_fade_with_fixed_times_follows_the_clip() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("white.mkv");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=32x24:r=10:d=1.2",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "yuv420p",
        s(&clip),
    ]);
    let out = dir.path().join("out.mkv");
    let (code, _, err) = common::tessera(&[
        "process",
        s(&clip),
        "-o",
        s(&out),
        "-q",
        "--codec",
        "ffv1",
        "--chain",
        "fade(in, duration=1)",
    ]);
    assert_eq!(code, 0, "{err}");
    let luma: Vec<u8> = common::decoded_frames(&out, "gray", 32 * 24)
        .iter()
        .map(|f| f[0])
        .collect();
    assert_eq!(luma.len(), 12);
    // Black (16, as video is limited range) at t = 0, white (235) from t = 1 s, rising between.
    assert!(luma[0] <= 17 && luma[10] >= 234, "{luma:?}");
    assert!(luma.windows(2).take(10).all(|w| w[1] > w[0]), "{luma:?}");
}
