//! Temporal filters (tmix, hqdn3d): code for code with FFmpeg's through the binary on both
//! backends, the backends in step frame after frame on every layout (around other filters, and
//! with a plan that changes from frame to frame around them), a still picture, the bound on
//! what they keep, and a new stream forgetting the last one's frames.

mod common;

use common::{ffmpeg, s, tessera, test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Format, Layout};
use tessera::plan::{Compiler, FrameTime};
use tessera::{Backend, Chain, Frame};

/// `n` different frames of `format`, numbered from 0.
fn stream(format: Format, n: u64, seed: u64) -> Vec<Frame> {
    (0..n)
        .map(|i| {
            let mut f = test_frame(format, seed + 7 * i);
            f.index = i;
            f
        })
        .collect()
}

/// `frames` through `text` as one stream, each frame with its own plan (a chain with per-frame
/// values compiles one per frame).
fn run_stream(backend: &mut dyn Backend, text: &str, frames: &[Frame]) -> Vec<Frame> {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let mut compiler = Compiler::new(&chain);
    backend.new_stream();
    frames
        .iter()
        .map(|f| {
            let time = FrameTime {
                t: f.index as f64 / 10.0,
                n: f.index,
                fps: 10.0,
                duration: frames.len() as f64 / 10.0,
            };
            let plan = compiler
                .plan_at(&f.format, &time)
                .unwrap_or_else(|e| panic!("{text} on {}: {e}", f.format.describe()));
            backend
                .process(&plan, f.clone())
                .unwrap_or_else(|e| panic!("{text} on {}: {e}", backend.describe()))
        })
        .collect()
}

/// [`run_stream`] through `submit` and `finish`, with frames in flight.
fn submit_stream(backend: &mut dyn Backend, text: &str, frames: &[Frame]) -> Vec<Frame> {
    let chain = Chain::parse(text).unwrap();
    let mut compiler = Compiler::new(&chain);
    backend.new_stream();
    let mut out = Vec::new();
    for f in frames {
        let time = FrameTime {
            n: f.index,
            t: f.index as f64 / 10.0,
            ..FrameTime::default()
        };
        let plan = compiler.plan_at(&f.format, &time).unwrap();
        out.extend(backend.submit(&plan, f.clone()).unwrap());
    }
    while let Some(f) = backend.finish().unwrap() {
        out.push(f);
    }
    out
}

fn layouts(w: u32, h: u32) -> Vec<Format> {
    vec![
        Format::rgb(w, h, 8, true),
        Format::rgb(w, h, 16, false),
        yuv(w, h, Layout::YUV420, 8),
        yuv(w, h, Layout::YUV420.with_alpha(true), 8),
        yuv(w, h, Layout::YUV422, 10),
        yuv(w, h, Layout::YUV444, 12),
        yuv(w, h, Layout::GRAY, 8),
        yuv(w, h, Layout::GRAY.with_alpha(true), 16),
    ]
}

#[test]
fn temporal_chains_match_across_backends_frame_after_frame() {
    let Some(mut gpu) = common::gpu() else { return };
    let mut cpu = CpuBackend::new();
    let chains = [
        "tmix",
        "tmix(frames=5, weights=\"1 2 3 2 1\")",
        "tmix(2, \"3 -1\", planes=\"y\")",
        "hqdn3d",
        "hqdn3d(6, 4, 9, 6)",
        "hqdn3d(0, 0, 10, 10)",
        // Work samples in and out of the temporal pass.
        "gblur(1) | hqdn3d(3) | eq(contrast=1.2)",
        "tmix(3) | unsharp(amount=1.5)",
        "hqdn3d(2) | tmix(2) | invert",
        // The plan around the temporal pass changes from frame to frame: its history must not.
        "gblur(1.5, enable=n % 2 == 0) | tmix(3, \"1 2 4\") | hqdn3d(4)",
    ];
    let mut failures = Vec::new();
    for text in chains {
        for format in layouts(37, 29) {
            // `planes` naming planes the frame has not (`y` on RGB) is refused by design.
            let chain = Chain::parse(text).unwrap();
            if let Err(e) = tessera::plan::compile(&chain, &format) {
                assert!(e.message.contains("does not have"), "{text}: {e}");
                continue;
            }
            let frames = stream(format, 6, 11);
            let a = run_stream(&mut cpu, text, &frames);
            let b = run_stream(&mut gpu, text, &frames);
            for (n, (a, b)) in a.iter().zip(&b).enumerate() {
                match a.plane_diffs(b) {
                    Some(d) if d.iter().all(|&d| d <= 1) => {}
                    d => failures.push(format!("{text} on {} frame {n}: {d:?}", format.describe())),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn frames_in_flight_on_the_gpu_keep_their_history_in_order() {
    let Some(mut gpu) = common::gpu() else { return };
    let frames = stream(yuv(40, 30, Layout::YUV420, 8), 8, 3);
    for text in ["tmix(4, \"1 2 3 4\")", "hqdn3d(5)", "tmix(3) | hqdn3d"] {
        let one_by_one = run_stream(&mut gpu, text, &frames);
        let in_flight = submit_stream(&mut gpu, text, &frames);
        assert_eq!(in_flight.len(), frames.len());
        for (n, (a, b)) in one_by_one.iter().zip(&in_flight).enumerate() {
            assert!(a == b, "{text}: frame {n} differs with frames in flight");
            assert_eq!(b.index, n as u64);
        }
    }
}

#[test]
fn a_mix_is_the_weighted_mean_of_the_frames_so_far() {
    // Flat grey frames, 10 codes apart: the mix is exact arithmetic on known values.
    let format = yuv(16, 8, Layout::GRAY, 8);
    let frames: Vec<Frame> = (0..5u64)
        .map(|i| {
            let mut f = Frame::new(format);
            f.plane8_mut(0).data.fill(50 + 10 * i as u8);
            f.index = i;
            f
        })
        .collect();
    let mut cpu = CpuBackend::new();
    let out = run_stream(&mut cpu, "tmix(3, \"1 2 5\")", &frames);
    // Before three frames have come, the first stands in for the missing ones.
    let want = |a: f64, b: f64, c: f64| ((a + 2.0 * b + 5.0 * c) / 8.0).round() as u8;
    let expected = [
        want(50.0, 50.0, 50.0),
        want(50.0, 50.0, 60.0),
        want(50.0, 60.0, 70.0),
        want(60.0, 70.0, 80.0),
        want(70.0, 80.0, 90.0),
    ];
    for (n, (f, &e)) in out.iter().zip(&expected).enumerate() {
        let got = f.plane8(0).data[0];
        assert_eq!(got, e, "frame {n}");
        assert!(
            f.plane8(0).data.iter().all(|&v| v == e),
            "frame {n} is not flat"
        );
    }
    if let Some(mut gpu) = common::gpu() {
        let on_gpu = run_stream(&mut gpu, "tmix(3, \"1 2 5\")", &frames);
        for (n, (a, b)) in out.iter().zip(&on_gpu).enumerate() {
            assert!(a == b, "frame {n}: the GPU's mix differs");
        }
    }
}

#[test]
fn a_new_stream_forgets_the_last_ones_frames() {
    let format = yuv(24, 16, Layout::YUV420, 8);
    let first = stream(format, 3, 1);
    let second = stream(format, 2, 100);
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    if let Some(gpu) = common::gpu() {
        backends.push(Box::new(gpu));
    }
    for backend in &mut backends {
        for text in ["tmix(3)", "hqdn3d"] {
            let fresh = run_stream(backend.as_mut(), text, &second);
            run_stream(backend.as_mut(), text, &first);
            let again = run_stream(backend.as_mut(), text, &second);
            assert!(
                fresh == again,
                "{text} on {}: the last stream's frames leak in",
                backend.describe()
            );
            // Without a new stream they do: the history is real.
            let chain = Chain::parse(text).unwrap();
            let plan = tessera::plan::compile(&chain, &format).unwrap();
            let next = backend.process(&plan, second[0].clone()).unwrap();
            assert!(next != fresh[0], "{text}: the history changes nothing");
        }
    }
}

#[test]
fn a_still_is_left_as_it_is_by_tmix_and_denoised_alone_by_hqdn3d() {
    let frame = test_frame(yuv(33, 21, Layout::YUV420, 8), 5);
    let mut cpu = CpuBackend::new();
    let mixed = run_stream(&mut cpu, "tmix(5)", std::slice::from_ref(&frame));
    assert!(mixed[0] == frame, "tmix changed a lone frame");
    let spatial = run_stream(&mut cpu, "hqdn3d(6, 6, 0, 0)", std::slice::from_ref(&frame));
    let both = run_stream(&mut cpu, "hqdn3d(6, 6, 9, 9)", std::slice::from_ref(&frame));
    assert!(spatial[0] != frame, "hqdn3d left a noisy frame as it was");
    // On a stream's first frame the temporal step pulls towards the frame itself: the two
    // differ, and by little.
    let d = both[0].plane_diffs(&spatial[0]).unwrap();
    assert!(d.iter().all(|&d| d <= 16), "{d:?}");
}

#[test]
fn tmix_refuses_to_keep_more_than_its_bound() {
    let chain = Chain::parse("tmix(frames=200)").unwrap();
    let uhd = yuv(3840, 2160, Layout::YUV420, 10);
    let e = tessera::plan::compile(&chain, &uhd).unwrap_err();
    assert!(
        e.message.contains("MiB") && e.message.contains("`frames`"),
        "{}",
        e.message
    );
    // The same on a small frame is fine.
    tessera::plan::compile(&chain, &yuv(64, 48, Layout::YUV420, 10)).unwrap();
    let chain = Chain::parse("tmix(weights=\"1 -1\", frames=2)").unwrap();
    let e = tessera::plan::compile(&chain, &uhd).unwrap_err();
    assert!(e.message.contains("add up to 0"), "{}", e.message);
}

/// FFmpeg's and tessera's outputs of `filter` / `chain` on `clip`, decoded as `pix_fmt`, frame
/// by frame: FFmpeg's, then the CPU's and the GPU's.
fn against_ffmpeg(
    dir: &std::path::Path,
    clip: &std::path::Path,
    filter: &str,
    chain: &str,
    pix_fmt: &str,
) -> Vec<Vec<u8>> {
    let reference = dir.join("ffmpeg.mkv");
    ffmpeg(&[
        "-i",
        s(clip),
        "-vf",
        filter,
        "-c:v",
        "ffv1",
        "-pix_fmt",
        pix_fmt,
        s(&reference),
    ]);
    let mut outputs = vec![common::decoded(&reference, pix_fmt)];
    for backend in ["cpu", "gpu"] {
        let out = dir.join(format!("{backend}.mkv"));
        let (code, _, err) = tessera(&[
            "process",
            s(clip),
            "-o",
            s(&out),
            "--chain",
            chain,
            "--backend",
            backend,
            "--codec",
            "ffv1",
            "--overwrite",
        ]);
        if code != 0 && backend == "gpu" && common::gpu().is_none() {
            continue;
        }
        assert_eq!(code, 0, "{chain} on {backend}: {err}");
        outputs.push(common::decoded(&out, pix_fmt));
    }
    outputs
}

#[test]
fn tmix_and_hqdn3d_match_ffmpeg_code_for_code() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "yuv420p",
            "tmix=frames=3:weights=1 2 4",
            "tmix(3, \"1 2 4\")",
        ),
        ("yuv420p", "tmix=frames=4", "tmix(4, \"1\")"),
        ("yuv420p", "hqdn3d", "hqdn3d"),
        ("yuv420p", "hqdn3d=6:4:9:6", "hqdn3d(6, 4, 9, 6)"),
        (
            "yuv422p10le",
            "tmix=frames=2:weights=3 1",
            "tmix(2, \"3 1\")",
        ),
        ("yuv422p10le", "hqdn3d=3:2:5:4", "hqdn3d(3, 2, 5, 4)"),
    ];
    for (pix_fmt, filter, chain) in cases {
        let clip = dir.path().join(format!("{pix_fmt}.mkv"));
        if !clip.exists() {
            let source = "testsrc2=s=64x36:r=10:d=0.8,noise=alls=30:allf=t";
            ffmpeg(&[
                "-f",
                "lavfi",
                "-i",
                source,
                "-pix_fmt",
                pix_fmt,
                "-c:v",
                "ffv1",
                s(&clip),
            ]);
        }
        let outputs = against_ffmpeg(dir.path(), &clip, filter, chain, pix_fmt);
        let reference = &outputs[0];
        assert!(!reference.is_empty());
        for (k, out) in outputs[1..].iter().enumerate() {
            assert_eq!(out.len(), reference.len(), "{chain}: frame count or size");
            let differ = out.iter().zip(reference).filter(|(a, b)| a != b).count();
            assert_eq!(
                differ,
                0,
                "{chain} on {}: {differ} bytes differ from FFmpeg's {filter}",
                ["cpu", "gpu"][k]
            );
        }
    }
}
