//! The CPU backend's filters on planar 1920×1080 frames, as video gives them: yuv420p at 8 bits
//! for every case, and RGB at 8 bits (as photos are read) for a blur and the colour chain.
//! Each case runs on both builds of the kernels, the portable one and the AVX2 one where the
//! processor has AVX2, one after the other, so that a noisy machine treats them alike.
//!
//! The figure is the filter stage alone: the input frame is copied, and the output dropped,
//! outside the timed part. The GPU backend runs the same cases when it accepts planar frames
//! (it is being ported to them).
//!
//! Run: `cargo bench --bench filters` (add a case's name to pick it, e.g. `-- gblur`);
//! `RAYON_NUM_THREADS=1 cargo bench --bench filters` gives single-threaded figures.

#[path = "common/pattern.rs"]
mod pattern;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use tessera::backend::cpu::{CpuBackend, Isa};
use tessera::backend::gpu::{AdapterPolicy, GpuBackend};
use tessera::frame::{Colour, Format, Layout, Matrix};
use tessera::{plan, Backend, Chain, Frame};

/// The cases on yuv420p: a name for the report and the chain.
const YUV_CASES: &[(&str, &str)] = &[
    ("gblur3", "gblur(sigma=3)"),
    ("boxblur3", "boxblur(radius=3)"),
    (
        "sharpen3x3",
        "convolve([[-1,-1,-1],[-1,16,-1],[-1,-1,-1]], 8)",
    ),
    ("unsharp1", "unsharp(sigma=1, amount=1)"),
    ("sobel", "sobel"),
    ("dilate3", "dilate(radius=3)"),
    ("median7", "median(radius=7)"),
    ("eq", "eq(brightness=0.05, contrast=1.2, saturation=1.3)"),
    ("colour5", FIVE_COLOUR_FILTERS),
    ("lanczos720p", "scale(1280, 720, lanczos3)"),
    ("crop", "crop(100, 100, 1720, 880)"),
    ("hflip", "hflip"),
];

/// The cases on 8-bit RGB.
const RGB_CASES: &[(&str, &str)] = &[
    ("gblur3", "gblur(sigma=3)"),
    ("colour5", FIVE_COLOUR_FILTERS),
];

const FIVE_COLOUR_FILTERS: &str =
    "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)";

/// A 1920×1080 frame of `layout` at 8 bits whose planes look like a photograph's: smooth
/// gradients, a few edges and fine texture.
fn frame_1080p(layout: Layout, colour: Colour) -> Frame {
    let format = Format::new(1920, 1080, layout, 8, colour);
    let mut frame = Frame::new(format);
    for p in 0..format.planes() {
        let mut plane = frame.plane8_mut(p);
        let (w, h) = (plane.width, plane.height);
        for y in 0..h {
            let row = plane.row(y);
            for (x, v) in row.iter_mut().enumerate() {
                *v = pattern::sample(p, x, y, w, h);
            }
        }
    }
    frame
}

fn bench_case(
    c: &mut Criterion,
    group: &str,
    frame: &Frame,
    text: &str,
    backends: &mut [(&str, Box<dyn Backend>)],
) {
    let chain = Chain::parse(text).expect("bench chains parse");
    let plan = plan::compile(&chain, &frame.format).expect("bench chains compile");
    let mut g = c.benchmark_group(group);
    for (label, backend) in backends.iter_mut() {
        if backend.process(&plan, frame.clone()).is_err() {
            eprintln!("{label}: `{text}` refused, skipped");
            continue;
        }
        // The input's buffers go to the backend's pool and serve the output, as recycled
        // frames do in the pipeline; the output is dropped outside the timed part.
        g.bench_function(*label, |b| {
            b.iter_batched(
                || frame.clone(),
                |input| black_box(backend.process(&plan, input).expect("bench run")),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn filters(c: &mut Criterion) {
    let mut backends: Vec<(&str, Box<dyn Backend>)> =
        vec![("portable", Box::new(CpuBackend::with_isa(Isa::Portable)))];
    if Isa::detect() == Isa::Avx2 {
        backends.push(("avx2", Box::new(CpuBackend::with_isa(Isa::Avx2))));
    }
    match GpuBackend::new(AdapterPolicy::Any) {
        Ok(gpu) => {
            eprintln!("GPU backend: {}", gpu.describe());
            backends.push(("gpu", Box::new(gpu)));
        }
        Err(e) => eprintln!("GPU benches skipped: {e}"),
    }
    let yuv = frame_1080p(Layout::YUV420, Colour::video(Matrix::Bt709, false));
    for (name, text) in YUV_CASES {
        bench_case(c, &format!("yuv420p8/{name}"), &yuv, text, &mut backends);
    }
    let rgb = frame_1080p(Layout::RGB, Colour::RGB);
    for (name, text) in RGB_CASES {
        bench_case(c, &format!("rgb8/{name}"), &rgb, text, &mut backends);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = filters
}
criterion_main!(benches);
