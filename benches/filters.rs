//! Each filter in the registry on one 1920×1080 RGBA8 frame, on the CPU backend and on the GPU
//! backend (whatever adapter wgpu finds: a real GPU, or lavapipe on machines without one), plus
//! the five-filter colour chain that fusion should make cost about one pass. `pixel` runs as
//! invert spelled out, to compare the compiled expression with the built-in `invert()`.
//!
//! GPU figures include upload, compute and read-back of the frame.
//! Run: `cargo bench --bench filters` (add `-- cpu/` or `-- gpu/` to pick a backend).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use tessera::backend::cpu::CpuBackend;
use tessera::backend::gpu::{AdapterPolicy, GpuBackend};
use tessera::filters::registry;
use tessera::{plan, Backend, Chain, Frame};

/// Parameters that make each filter do typical work; filters not named here use their first
/// example.
const CASES: &[(&str, &str)] = &[
    ("gblur", "gblur(sigma=3)"),
    ("boxblur", "boxblur(radius=3)"),
    (
        "convolve",
        "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)",
    ),
    ("unsharp", "unsharp(sigma=1, amount=1)"),
    ("eq", "eq(brightness=0.05, contrast=1.2, saturation=1.3)"),
    ("scale", "scale(1280, 720, lanczos3)"),
    ("crop", "crop(100, 100, 1720, 880)"),
    ("hflip", "hflip"),
    ("pixel", PIXEL_INVERT),
];

/// `invert()` as a `pixel` expression.
const PIXEL_INVERT: &str = "pixel(r=\"1-r\", g=\"1-g\", b=\"1-b\")";

const FIVE_COLOUR_FILTERS: &str =
    "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)";

fn frame_1080p() -> Frame {
    let (w, h) = (1920u32, 1080u32);
    let mut data = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            data.extend([
                (x * 255 / w) as u8,
                (y * 255 / h) as u8,
                ((x ^ y) & 255) as u8,
                255,
            ]);
        }
    }
    Frame::from_rgba8(w, h, data)
}

fn chains() -> Vec<String> {
    let mut chains: Vec<String> = registry()
        .iter()
        .map(
            |spec| match CASES.iter().find(|(name, _)| *name == spec.name) {
                Some((_, chain)) => chain.to_string(),
                None => spec.examples[0].to_string(),
            },
        )
        .collect();
    chains.push(FIVE_COLOUR_FILTERS.to_string());
    chains
}

fn bench_backend(c: &mut Criterion, label: &str, backend: &mut dyn Backend) {
    let frame = frame_1080p();
    let mut group = c.benchmark_group(label);
    for text in chains() {
        let chain = Chain::parse(&text).expect("bench chains parse");
        let plan = plan::compile(&chain, frame.width, frame.height).expect("bench chains compile");
        group.bench_function(text.as_str(), |b| {
            b.iter(|| black_box(backend.process(&plan, frame.clone()).expect("bench run")))
        });
    }
    group.finish();
}

fn filters(c: &mut Criterion) {
    bench_backend(c, "cpu", &mut CpuBackend::new());
    match GpuBackend::new(AdapterPolicy::Any) {
        Ok(mut gpu) => {
            eprintln!("GPU backend: {}", gpu.describe());
            bench_backend(c, "gpu", &mut gpu)
        }
        Err(e) => eprintln!("GPU benches skipped: {e}"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(3));
    targets = filters
}
criterion_main!(benches);
