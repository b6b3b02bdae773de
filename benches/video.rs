//! End to end: a 30-frame 1920×1080 clip (testsrc2, H.264, made with the `ffmpeg` CLI at the
//! start) through `run_video` with a Gaussian blur on the CPU backend, once discarding the
//! frames (decode + convert + filter) and once encoding them with the default libx264 settings
//! (CRF 18, preset medium) into an MP4.
//!
//! Run: `cargo bench --bench video`. Needs `ffmpeg` on the PATH.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tessera::backend::cpu::CpuBackend;
use tessera::media::EncodeSettings;
use tessera::pipeline::{run_video, VideoJob};
use tessera::Chain;

const FRAMES: u64 = 30;
const CHAIN: &str = "gblur(sigma=2)";

fn make_clip(path: &Path) {
    let status = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=30",
        ])
        .args([
            "-frames:v",
            &FRAMES.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(path)
        .status()
        .expect("the video bench needs the ffmpeg CLI to make its clip");
    assert!(status.success(), "ffmpeg could not make the bench clip");
}

fn video(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("1080p30.mp4");
    make_clip(&input);
    let chain = Chain::parse(CHAIN).expect("bench chain parses");
    let output = dir.path().join("out.mp4");

    let mut group = c.benchmark_group("video 1080p, 30 frames");
    group.throughput(Throughput::Elements(FRAMES));
    for (name, output) in [
        ("gblur, discard", None),
        ("gblur, libx264", Some(output.as_path())),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let job = VideoJob {
                    input: &input,
                    output,
                    encode: EncodeSettings::default(),
                    chain: &chain,
                    trim: Default::default(),
                    on_error: Default::default(),
                    fps: None,
                    progress: None,
                    limits: Default::default(),
                    stop: Default::default(),
                };
                let report = run_video(&job, Box::new(CpuBackend::new())).expect("bench run");
                assert_eq!(report.frames, FRAMES);
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(20));
    targets = video
}
criterion_main!(benches);
