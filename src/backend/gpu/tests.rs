//! GPU backend tests on small frames (lavapipe is slow): parity with the CPU backend on every
//! example of every filter in the registry and on chains of them, on every layout and odd
//! sizes, plane by plane; exact results where no arithmetic happens; planes read in place;
//! steady-state reuse; frames in flight; errors.
//!
//! Without an adapter the tests print a note and pass, unless TESSERA_REQUIRE_GPU=1.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::{AdapterPolicy, GpuBackend};
use crate::backend::cpu::CpuBackend;
use crate::backend::{Backend, BackendError};
use crate::chain::Chain;
use crate::frame::{Colour, Format, Frame, Layout, Matrix, Picture, Samples, Siting};
use crate::op::{Convolution, Curve, Curves, Op, PointOp};
use crate::plan::{self, FrameTime, Pass, PassKind, Plan};

/// One backend shared by every test: pipelines compile once, and lavapipe runs one job at a time.
fn gpu() -> Option<MutexGuard<'static, GpuBackend>> {
    static GPU: OnceLock<Result<Mutex<GpuBackend>, String>> = OnceLock::new();
    match GPU.get_or_init(|| {
        GpuBackend::new(AdapterPolicy::Any)
            .map(Mutex::new)
            .map_err(|e| e.to_string())
    }) {
        Ok(m) => Some(m.lock().unwrap_or_else(|e| e.into_inner())),
        Err(e) => {
            if std::env::var("TESSERA_REQUIRE_GPU").is_ok_and(|v| v == "1") {
                panic!("TESSERA_REQUIRE_GPU=1 but the GPU backend did not open: {e}");
            }
            eprintln!("note: skipping a GPU test: {e}");
            None
        }
    }
}

// ---- frames ----

/// A layout's format at a size.
type FormatOf = fn(u32, u32) -> Format;

/// The layouts the parity tests cover, by name.
const LAYOUTS: &[(&str, FormatOf)] = &[
    ("yuv420p", |w, h| {
        Format::new(w, h, Layout::YUV420, 8, Colour::video(Matrix::Bt709, false))
    }),
    ("yuv422p10", |w, h| {
        Format::new(
            w,
            h,
            Layout::YUV422,
            10,
            Colour::video(Matrix::Bt2020, false),
        )
    }),
    ("yuv444p (full range)", |w, h| {
        Format::new(w, h, Layout::YUV444, 8, Colour::video(Matrix::Bt601, true))
    }),
    ("yuva420p", |w, h| {
        let colour = Colour {
            siting: Siting::Center,
            ..Colour::video(Matrix::Bt709, false)
        };
        Format::new(w, h, Layout::YUV420.with_alpha(true), 8, colour)
    }),
    ("gray", |w, h| {
        Format::new(w, h, Layout::GRAY, 8, Colour::video(Matrix::Bt709, true))
    }),
    ("rgb", |w, h| Format::rgb(w, h, 8, false)),
    ("rgba16", |w, h| Format::rgb(w, h, 16, true)),
];

/// Odd sizes: chroma rounded up, single rows and columns, a single pixel.
const SIZES: &[(u32, u32)] = &[(61, 47), (1, 1), (1, 17), (23, 2)];

/// A little xorshift generator.
struct Noise(u32);

impl Noise {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// Deterministic noise over gradients and hard edges, every plane and edge exercised; index 7
/// and pts -3.
fn test_frame(format: Format, seed: u32) -> Frame {
    let mut noise = Noise(seed.wrapping_mul(2_654_435_761).wrapping_add(12345) | 1);
    let max = format.max_code() as f32;
    let planes = (0..format.planes())
        .map(|p| {
            let (w, h) = format.plane_size(p);
            let mut codes = Vec::with_capacity((w * h) as usize);
            for y in 0..h {
                for x in 0..w {
                    let gradient = match p % 4 {
                        0 => x as f32 / w as f32,
                        1 => y as f32 / h as f32,
                        2 => 1.0 - (x + y) as f32 / (w + h) as f32,
                        _ => 0.5 + 0.5 * ((x * 7 + y * 3) % 11) as f32 / 11.0,
                    };
                    let edge = if (x / 5 + y / 7) % 2 == 0 {
                        0.15
                    } else {
                        -0.15
                    };
                    let n = (noise.next() % 1000) as f32 / 1000.0;
                    let v = if (x + y + p as u32).is_multiple_of(5) {
                        n
                    } else {
                        0.7 * gradient + 0.2 * n + edge
                    };
                    codes.push((v.clamp(0.0, 1.0) * max).round() as u16);
                }
            }
            if format.is_wide() {
                Samples::U16(codes)
            } else {
                Samples::U8(codes.into_iter().map(|c| c as u8).collect())
            }
        })
        .collect();
    let mut f = Frame::from_planes(format, planes);
    f.index = 7;
    f.pts = Some(-3);
    f
}

/// A decoder's picture: planes read in place, rows padded past their width.
struct Padded {
    /// Each plane's samples (u16 storage keeps every plane aligned for either sample type).
    planes: Vec<Vec<u16>>,
    strides: Vec<usize>,
}

// SAFETY: each plane's rows are `strides[p]` bytes apart in a vector this value owns and never
// writes, aligned for u16 (and so for u8).
unsafe impl Picture for Padded {
    fn plane(&self, p: usize) -> (*const u8, usize) {
        (self.planes[p].as_ptr().cast(), self.strides[p])
    }
}

/// `frame` with its planes read in place from a picture whose rows are padded.
fn shared_copy(frame: &Frame) -> Frame {
    let format = frame.format;
    let size = if format.is_wide() { 2 } else { 1 };
    let mut planes = Vec::new();
    let mut strides = Vec::new();
    for p in 0..format.planes() {
        let (w, h) = format.plane_size(p);
        let stride = (w as usize + 13) * size;
        let mut bytes = vec![0xa5u8; stride * h as usize];
        for y in 0..h as usize {
            let row = &mut bytes[y * stride..];
            for x in 0..w as usize {
                let v = frame.plane(p).get(x, y);
                match size {
                    1 => row[x] = v as u8,
                    _ => row[2 * x..2 * x + 2].copy_from_slice(&(v as u16).to_le_bytes()),
                }
            }
        }
        let words = bytes
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        planes.push(words);
        strides.push(stride);
    }
    let mut out = Frame::shared(format, Arc::new(Padded { planes, strides }));
    out.index = frame.index;
    out.pts = frame.pts;
    out
}

fn chain_plan(text: &str, format: &Format) -> Result<Plan, String> {
    let chain = Chain::parse(text).map_err(|e| format!("{e:?}"))?;
    plan::compile(&chain, format).map_err(|e| e.to_string())
}

/// The chain's plan at frame `n` of a 25 fps stream.
fn plan_at(text: &str, n: u64, format: &Format) -> Plan {
    let chain = Chain::parse(text).unwrap();
    let time = FrameTime {
        t: n as f64 / 25.0,
        n,
        fps: 25.0,
        duration: 10.0,
    };
    plan::compile_at(&chain, format, &time).unwrap()
}

/// Runs `plan` on both backends; the planes that differ by more than one code value.
fn compare(gpu: &mut GpuBackend, plan: &Plan, frame: &Frame) -> Result<(), String> {
    let want = CpuBackend::new()
        .process(plan, frame.clone())
        .map_err(|e| format!("CPU: {e}"))?;
    // The frame is a stream of its own, as it is to the new CPU backend.
    gpu.new_stream();
    let got = gpu
        .process(plan, frame.clone())
        .map_err(|e| format!("GPU: {e}"))?;
    if got.format != want.format || (got.index, got.pts) != (frame.index, frame.pts) {
        return Err(format!(
            "GPU gives {} (index {}, pts {:?}), CPU {}",
            got.format.describe(),
            got.index,
            got.pts,
            want.format.describe()
        ));
    }
    let diffs = got.plane_diffs(&want).ok_or("shapes differ")?;
    if diffs.iter().any(|&d| d > 1) {
        return Err(format!("planes differ by {diffs:?} code values"));
    }
    Ok(())
}

// ---- parity with the CPU backend ----

/// Chains of several filters, beyond the registry's examples.
const CHAINS: &[&str] = &[
    "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)",
    "gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1)",
    "eq(contrast=1.3, gamma=1.4) | pixel(r=\"g\", g=\"b\", b=\"r\") | boxblur(2) | invert",
    "scale(width=37, height=29, filter=\"bicubic\") | convolve([[0,-1,0],[-1,5,-1],[0,-1,0]]) \
     | hflip | eq(brightness=-0.1)",
    "tint(#ffb070, amount=0.6) | vflip | gblur(40) | crop(width=1, height=1)",
    "unsharp(3, 2) | scale(width=80, height=70, filter=\"lanczos3\") | pixel(a=\"r\") | gblur(1)",
];

/// Every example of every filter and every chain above, on every size of the layout `name`:
/// CPU and GPU within one code value on every plane. Examples that cannot run on a format (a
/// crop outside a one-pixel frame) are left out; every failure is reported.
fn parity_on(name: &str) {
    let Some(mut gpu) = gpu() else { return };
    let (_, format_of) = LAYOUTS.iter().find(|(n, _)| *n == name).unwrap();
    let texts: Vec<&str> = crate::filters::registry()
        .iter()
        .flat_map(|spec| spec.examples.iter().copied())
        .chain(CHAINS.iter().copied())
        .collect();
    let mut failures = Vec::new();
    let mut runs = 0;
    for (k, &(w, h)) in SIZES.iter().enumerate() {
        let format = format_of(w, h);
        let frame = test_frame(format, 11 + k as u32);
        let shared = shared_copy(&frame);
        for (i, text) in texts.iter().enumerate() {
            let Ok(plan) = chain_plan(text, &format) else {
                continue;
            };
            // Every other example reads its planes in place, rows padded.
            let input = if i % 2 == 0 { &frame } else { &shared };
            runs += 1;
            if let Err(e) = compare(&mut gpu, &plan, input) {
                failures.push(format!("{text} on {name} {w}x{h}: {e}"));
            }
        }
    }
    assert!(runs >= texts.len(), "{runs} runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn parity_yuv420p() {
    parity_on("yuv420p");
}

#[test]
fn parity_yuv422p10() {
    parity_on("yuv422p10");
}

#[test]
fn parity_yuv444p() {
    parity_on("yuv444p (full range)");
}

#[test]
fn parity_yuva420p() {
    parity_on("yuva420p");
}

#[test]
fn parity_gray() {
    parity_on("gray");
}

#[test]
fn parity_rgb() {
    parity_on("rgb");
}

#[test]
fn parity_rgba16() {
    parity_on("rgba16");
}

// ---- exact results, kept planes, planes read in place ----

fn yuv420(w: u32, h: u32) -> Format {
    LAYOUTS[0].1(w, h)
}

#[test]
fn describe_names_the_adapter_and_api() {
    let Some(gpu) = gpu() else { return };
    let d = gpu.describe();
    let info = gpu.adapter_info();
    assert!(d.starts_with("gpu (") && d.contains(&info.name), "{d}");
    assert!(
        gpu.max_frame_bytes() >= 128 << 20,
        "{}",
        gpu.max_frame_bytes()
    );
}

#[test]
fn hardware_only_refuses_software_adapters() {
    if gpu().is_none() {
        return;
    }
    match GpuBackend::new(AdapterPolicy::HardwareOnly) {
        Ok(hw) => assert_ne!(hw.adapter_info().device_type, wgpu::DeviceType::Cpu),
        Err(BackendError::NoAdapter(why)) => assert!(why.contains("hardware"), "{why}"),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn empty_plan_returns_the_frame_unchanged() {
    let Some(mut gpu) = gpu() else { return };
    let frame = test_frame(yuv420(37, 23), 1);
    let got = gpu
        .process(&Plan::identity(frame.format), frame.clone())
        .unwrap();
    assert_eq!(got, frame);
}

#[test]
fn a_frame_of_another_format_is_an_error() {
    let Some(mut gpu) = gpu() else { return };
    let plan = chain_plan("invert", &yuv420(38, 23)).unwrap();
    let err = gpu
        .process(&plan, test_frame(yuv420(37, 23), 1))
        .unwrap_err();
    assert!(matches!(err, BackendError::FormatMismatch { .. }), "{err}");
    let rgb = Format::rgb(38, 23, 8, false);
    let err = gpu.process(&plan, test_frame(rgb, 1)).unwrap_err();
    assert!(matches!(err, BackendError::FormatMismatch { .. }), "{err}");
}

/// Crops and flips move samples without arithmetic: exact against the frame's own samples,
/// chroma moved with luma.
#[test]
fn crops_and_flips_move_samples_exactly() {
    let Some(mut gpu) = gpu() else { return };
    for format in [yuv420(37, 23), LAYOUTS[1].1(37, 23), LAYOUTS[6].1(37, 23)] {
        let frame = test_frame(format, 2);
        for (text, x0, y0, flip) in [
            ("crop(x=6, y=4, width=20, height=11)", 6, 4, (false, false)),
            ("hflip", 0, 0, (true, false)),
            ("vflip", 0, 0, (false, true)),
            ("hflip | vflip", 0, 0, (true, true)),
        ] {
            let plan = chain_plan(text, &format).unwrap();
            let got = gpu.process(&plan, frame.clone()).unwrap();
            for p in 0..format.planes() {
                let (h, v) = format.layout.shift(p);
                let (ow, oh) = got.format.plane_size(p);
                for y in 0..oh as usize {
                    for x in 0..ow as usize {
                        let sx = if flip.0 { ow as usize - 1 - x } else { x } + (x0 >> h);
                        let sy = if flip.1 { oh as usize - 1 - y } else { y } + (y0 >> v);
                        assert_eq!(
                            got.plane(p).get(x, y),
                            frame.plane(p).get(sx, sy),
                            "{text} on {}: plane {p} at ({x}, {y})",
                            format.describe()
                        );
                    }
                }
            }
        }
    }
}

/// Kernels that are the identity give the frame back bit for bit, through f32 work planes.
#[test]
fn identity_kernels_are_exact() {
    let Some(mut gpu) = gpu() else { return };
    for format in [yuv420(37, 23), LAYOUTS[1].1(37, 23), LAYOUTS[6].1(37, 23)] {
        let frame = test_frame(format, 4);
        let planes = |p: usize| p < format.planes();
        let one = Arc::new(vec![0.0, 1.0, 0.0]);
        let separable = crate::op::Separable {
            h: one.clone(),
            v: one,
        };
        let mut weights = vec![0.0f32; 25];
        weights[12] = 1.0;
        let convolution = Convolution {
            width: 5,
            height: 5,
            weights: Arc::new(weights),
            zero: 0.0,
            bias: 0.0,
        };
        let ops = vec![
            Op::Blur(std::array::from_fn(|p| {
                planes(p).then(|| separable.clone())
            })),
            Op::Convolve(std::array::from_fn(|p| {
                planes(p).then(|| convolution.clone())
            })),
            Op::Unsharp {
                planes: std::array::from_fn(|p| planes(p).then(|| separable.clone())),
                amount: 2.0,
            },
            Op::Point(PointOp::Curves(Curves([Some(Curve::IDENTITY); 3]))),
        ];
        let plan = Plan::from_ops(ops, format);
        assert_eq!(plan.passes.len(), 4);
        let got = gpu.process(&plan, frame.clone()).unwrap();
        assert_eq!(got, frame, "{}", format.describe());
    }
}

/// A blur of luma alone uploads and reads back luma alone; chroma and alpha are the input's
/// own planes, read in place.
#[test]
fn planes_a_plan_leaves_alone_are_handed_on() {
    let Some(mut gpu) = gpu() else { return };
    let format = LAYOUTS[3].1(40, 30);
    let plan = chain_plan("gblur(3, planes=\"y\")", &format).unwrap();
    let schedule = super::schedule::Schedule::of(&plan).unwrap();
    assert_eq!(schedule.uploads.len(), 1);
    assert_eq!(schedule.readbacks.len(), 1);
    assert_eq!(schedule.kept.0, 0b1110);
    let frame = shared_copy(&test_frame(format, 5));
    let got = gpu.process(&plan, frame.clone()).unwrap();
    assert!(got.plane_is_owned(0));
    for p in 1..4 {
        assert!(!got.plane_is_owned(p), "plane {p} is read in place");
        assert_eq!(got.plane_diffs(&frame).unwrap()[p], 0);
    }
}

/// A pointwise pass on whole pixels of a frame without alpha gives it an alpha plane, its input
/// taken as opaque.
#[test]
fn a_pixel_op_writing_alpha_adds_an_alpha_plane() {
    let Some(mut gpu) = gpu() else { return };
    let format = yuv420(21, 13);
    let plan = chain_plan("pixel(a=\"a * 0.5\")", &format).unwrap();
    assert!(plan.output.layout.alpha);
    let got = gpu.process(&plan, test_frame(format, 6)).unwrap();
    assert_eq!(got.format.planes(), 4);
    let alpha = got.plane8(3);
    assert!(
        alpha.data.iter().all(|&a| a == 128),
        "{:?}",
        &alpha.data[..8]
    );
}

// ---- parameters, state and buffers ----

/// A pixel op whose values change every frame rewrites its parameters: no new pipeline, plan
/// state or buffer, and every frame sees its own values.
#[test]
fn per_frame_values_rewrite_parameters_not_pipelines() {
    let Some(mut gpu) = gpu() else { return };
    let format = yuv420(37, 23);
    let frame = test_frame(format, 24);
    for text in [
        "pixel(r=\"r * (0.5 + 0.5 * sin(2 * PI * t))\", b=\"(x + n) % 8 / 8\") | invert",
        "gblur(sigma=1.05 + 0.05 * n) | eq(brightness=0.02 * n, gamma=1.2)",
    ] {
        let first = gpu
            .process(&plan_at(text, 0, &format), frame.clone())
            .unwrap();
        let before = gpu.executor.stats();
        let mut outputs = vec![first];
        for n in 1..5 {
            let plan = plan_at(text, n, &format);
            compare(&mut gpu, &plan, &frame).unwrap_or_else(|e| panic!("{text} at {n}: {e}"));
            outputs.push(gpu.process(&plan, frame.clone()).unwrap());
        }
        assert_eq!(gpu.executor.stats(), before, "{text}");
        for pair in outputs.windows(2) {
            assert_ne!(pair[0], pair[1], "{text}: the frames' values differ");
        }
    }
}

#[test]
fn a_batch_of_sizes_evicts_old_plans_and_stays_correct() {
    let Some(mut gpu) = gpu() else { return };
    for i in 0..7 {
        let (w, h) = (37 + 3 * i, 23 + 2 * i);
        let format = if i % 2 == 0 {
            yuv420(w, h)
        } else {
            LAYOUTS[6].1(w, h)
        };
        let plan = chain_plan("gblur(1) | eq(contrast=1.1)", &format).unwrap();
        compare(&mut gpu, &plan, &test_frame(format, 30 + i)).unwrap();
        assert!(gpu.executor.stats().plans_kept <= super::executor::PLAN_CACHE);
    }
    // The first size again, its state long evicted and rebuilt mostly from pooled buffers
    // (the plan's planes and a ring slot's two; later sizes may have taken a few).
    let created = gpu.executor.stats().buffers_created;
    let format = yuv420(37, 23);
    let plan = chain_plan("gblur(1) | eq(contrast=1.1)", &format).unwrap();
    compare(&mut gpu, &plan, &test_frame(format, 40)).unwrap();
    let needed = super::schedule::Schedule::of(&plan).unwrap().buffers.len() as u64 + 2;
    let made = gpu.executor.stats().buffers_created - created;
    assert!(made * 2 <= needed, "{made} of {needed} buffers made anew");
}

/// A long chain reuses its work planes: no more f32 planes than two passes in a row need.
#[test]
fn work_planes_are_reused_along_a_chain() {
    use super::schedule::{Role, Schedule};
    let format = yuv420(64, 48);
    let plan = chain_plan(
        "gblur(1) | eq(brightness=0.1) | boxblur(2) | unsharp | convolve([[1,2,1],[2,4,2],[1,2,1]]) \
         | gblur(2) | invert",
        &format,
    )
    .unwrap();
    let schedule = Schedule::of(&plan).unwrap();
    let work = schedule
        .buffers
        .iter()
        .filter(|b| b.role == Role::Work)
        .count();
    // Three planes written by one pass while three are read, and a scratch plane.
    assert!(work <= 7, "{work} work planes");
    let outputs = schedule
        .buffers
        .iter()
        .filter(|b| matches!(b.role, Role::Output(_)))
        .count();
    assert_eq!(outputs, 3);
    assert_eq!(schedule.uploads.len(), 3);
}

#[test]
fn frames_past_the_binding_limit_run_in_strips() {
    let Some(mut gpu) = gpu() else { return };
    let limit = gpu.max_frame_bytes();
    // A grey frame whose planes between passes (four bytes a sample) are larger than one
    // binding, through a chain of stencils with a halo, a resample and a crop: the strips'
    // result is the CPU's whole frame's (lavapipe binds 128 MiB: a 5.8k square).
    let side = ((limit / 4) as f64).sqrt().ceil() as u32 + 64;
    if side > 16384 {
        return; // A device this large would take minutes of CPU time to check.
    }
    let format = Format::new(side, side + 10, Layout::GRAY, 8, Colour::RGB);
    let frame = test_frame(format, 19);
    let plan = chain_plan(
        "gblur(sigma=2) | unsharp(amount=1.5) | crop(x=3, y=5, width=w-8, height=h-9) | \
         scale(width=w*3/4, height=h*3/4, filter=bicubic)",
        &format,
    )
    .unwrap();
    assert!(plan.strips_refused().is_none());
    compare(&mut gpu, &plan, &frame).unwrap();
    // A chain that cannot be cut into strips is refused with the reason.
    let plan = chain_plan("gblur(sigma=2) | rotate(0.1)", &format).unwrap();
    match gpu.process(&plan, frame.clone()).unwrap_err() {
        BackendError::FrameTooLarge { why, .. } => assert!(why.contains("rotation"), "{why}"),
        err => panic!("{err}"),
    }
    // The backend is still usable afterwards.
    let format = yuv420(37, 23);
    compare(
        &mut gpu,
        &chain_plan("invert", &format).unwrap(),
        &test_frame(format, 20),
    )
    .unwrap();
}

#[test]
fn malformed_passes_are_errors_not_panics() {
    let Some(mut gpu) = gpu() else { return };
    let format = yuv420(37, 23);
    let bad = Convolution {
        width: 3,
        height: 3,
        weights: Arc::new(vec![1.0; 4]),
        zero: 0.0,
        bias: 0.0,
    };
    let mut planes: crate::op::PerPlane<Convolution> = Default::default();
    planes[0] = Some(bad);
    let plan = Plan {
        passes: vec![Pass {
            kind: PassKind::Convolve(planes),
            input: format,
            output: format,
        }],
        input: format,
        output: format,
    };
    let err = gpu.process(&plan, test_frame(format, 21)).unwrap_err();
    assert!(matches!(err, BackendError::Gpu(_)), "{err}");
    let crop = Plan {
        passes: vec![Pass {
            kind: PassKind::Remap {
                x: 30,
                y: 0,
                flip_h: false,
                flip_v: false,
                transpose: false,
            },
            input: format,
            output: format.with_size(20, 23),
        }],
        input: format,
        output: format.with_size(20, 23),
    };
    let err = gpu.process(&crop, test_frame(format, 21)).unwrap_err();
    assert!(matches!(err, BackendError::Gpu(_)), "{err}");
}

// ---- frames in flight: `submit` and `finish` ----

fn stream_format() -> Format {
    LAYOUTS[1].1(64, 48)
}

/// Frame `i` of a little stream: its own samples, index and pts.
fn stream_frame(i: u64) -> Frame {
    let mut f = test_frame(stream_format(), 100 + i as u32);
    f.index = i;
    f.pts = Some(1000 * i as i64 - 5);
    f
}

/// A blur, a downscale and an eq whose brightness changes with the frame: every frame's plan
/// has the same GPU state and its own parameters.
fn stream_plan(i: u64) -> Plan {
    plan_at(
        "gblur(sigma=1.5) | scale(width=40, height=30, filter=\"bilinear\") \
         | eq(brightness=0.05 * n - 0.15, contrast=1.1, saturation=1.2, gamma=0.9)",
        i,
        &stream_format(),
    )
}

/// Submits every `(plan, frame)` in turn, then finishes; what came back, in order.
fn submit_all(gpu: &mut GpuBackend, work: Vec<(Plan, Frame)>) -> Vec<Frame> {
    let mut out = Vec::new();
    for (plan, frame) in work {
        out.extend(gpu.submit(&plan, frame).expect("submit"));
        assert!(
            gpu.executor.frames_held() <= super::executor::IN_FLIGHT,
            "{} frames held",
            gpu.executor.frames_held()
        );
    }
    while let Some(frame) = gpu.finish().expect("finish") {
        out.push(frame);
    }
    out
}

/// What `process` gives for each `(plan, frame)`, one by one.
fn process_all(gpu: &mut GpuBackend, work: &[(Plan, Frame)]) -> Vec<Frame> {
    work.iter()
        .map(|(plan, frame)| gpu.process(plan, frame.clone()).expect("process"))
        .collect()
}

#[test]
fn submitted_frames_come_back_in_order_as_process_gives_them() {
    let Some(mut gpu) = gpu() else { return };
    let work: Vec<(Plan, Frame)> = (0..7).map(|i| (stream_plan(i), stream_frame(i))).collect();
    let want = process_all(&mut gpu, &work);
    let got = submit_all(&mut gpu, work);
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!((g.index, g.pts), (i as u64, Some(1000 * i as i64 - 5)));
        assert_eq!((g.width(), g.height()), (40, 30));
        assert!(g == w, "frame {i} differs from process's");
    }
}

#[test]
fn steady_submits_reuse_the_ring_and_allocate_nothing() {
    let Some(mut gpu) = gpu() else { return };
    let ring = super::executor::IN_FLIGHT as u64;
    let mut out = Vec::new();
    for i in 0..=ring {
        out.extend(gpu.submit(&stream_plan(i), stream_frame(i)).unwrap());
    }
    let before = gpu.executor.stats();
    let slots = gpu.executor.ring_slots();
    for i in ring + 1..ring + 5 {
        out.extend(gpu.submit(&stream_plan(i), stream_frame(i)).unwrap());
        assert!(gpu.executor.frames_held() <= ring as usize);
    }
    while let Some(frame) = gpu.finish().unwrap() {
        out.push(frame);
    }
    // The ring grows to its size only as fast as frames overlap, which depends on how fast the
    // device finishes them: a slot may still be made after the warm-up, never more than the
    // ring holds, and nothing else is. A slot made late takes an upload and a read-back buffer
    // from the pool, which makes them only when it has none spare (this backend is shared with
    // the other tests, so it may).
    let (after, slots_after) = (gpu.executor.stats(), gpu.executor.ring_slots());
    assert!(slots_after <= ring as usize, "{slots_after} ring slots");
    let grown = 2 * slots_after.saturating_sub(slots) as u64;
    assert!(
        after.buffers_created <= before.buffers_created + grown,
        "{before:?} then {after:?}, {grown} buffers for new ring slots"
    );
    assert_eq!(
        super::executor::Stats {
            buffers_created: before.buffers_created,
            ..after
        },
        before
    );
    let indexes: Vec<u64> = out.iter().map(|f| f.index).collect();
    assert_eq!(indexes, (0..ring + 5).collect::<Vec<_>>());
}

#[test]
fn a_plan_change_between_submits_keeps_order_and_results() {
    let Some(mut gpu) = gpu() else { return };
    let format = stream_format();
    let invert = chain_plan("invert | vflip", &format).unwrap();
    let work: Vec<(Plan, Frame)> = (0..7)
        .map(|i| {
            let plan = match i {
                0..=2 | 5 => stream_plan(i),
                3 => Plan::identity(format),
                _ => invert.clone(),
            };
            (plan, stream_frame(i))
        })
        .collect();
    let want = process_all(&mut gpu, &work);
    let got = submit_all(&mut gpu, work);
    assert_eq!(got, want);
}

#[test]
fn a_plan_with_no_passes_submits_frames_unchanged() {
    let Some(mut gpu) = gpu() else { return };
    let plan = Plan::identity(stream_format());
    let work: Vec<(Plan, Frame)> = (0..4).map(|i| (plan.clone(), stream_frame(i))).collect();
    let want: Vec<Frame> = work.iter().map(|(_, f)| f.clone()).collect();
    assert_eq!(submit_all(&mut gpu, work), want);
}

#[test]
fn a_submitted_format_mismatch_is_an_error_and_spares_the_frames_in_flight() {
    let Some(mut gpu) = gpu() else { return };
    let work: Vec<(Plan, Frame)> = (0..2).map(|i| (stream_plan(i), stream_frame(i))).collect();
    let want = process_all(&mut gpu, &work);
    let mut got = Vec::new();
    for (plan, frame) in work {
        got.extend(gpu.submit(&plan, frame).unwrap());
    }
    let other = test_frame(yuv420(64, 48), 3);
    let err = gpu.submit(&stream_plan(2), other).unwrap_err();
    assert!(matches!(err, BackendError::FormatMismatch { .. }), "{err}");
    while let Some(frame) = gpu.finish().unwrap() {
        got.push(frame);
    }
    assert_eq!(got, want);
}

#[test]
fn finish_with_nothing_in_flight_is_none() {
    let Some(mut gpu) = gpu() else { return };
    assert!(gpu.finish().unwrap().is_none());
    let plan = chain_plan("invert", &stream_format()).unwrap();
    let frame = stream_frame(0);
    let want = gpu.process(&plan, frame.clone()).unwrap();
    let first = gpu.submit(&plan, frame).unwrap();
    let mut got: Vec<Frame> = first.into_iter().collect();
    while let Some(f) = gpu.finish().unwrap() {
        got.push(f);
    }
    assert_eq!(got, vec![want]);
    assert!(gpu.finish().unwrap().is_none());
}

/// Frames handed back through `recycle` lend their planes to later results.
#[test]
fn recycled_frames_serve_later_results() {
    let Some(mut gpu) = gpu() else { return };
    let format = yuv420(64, 48);
    let plan = chain_plan("eq(contrast=1.2)", &format).unwrap();
    let first = gpu.process(&plan, test_frame(format, 1)).unwrap();
    let pointer = first.plane8(0).data.as_ptr();
    gpu.recycle(first);
    // The input's planes go back too; the recycled luma is the closest fit for the result.
    let second = gpu
        .process(&plan, shared_copy(&test_frame(format, 2)))
        .unwrap();
    assert_eq!(second.plane8(0).data.as_ptr(), pointer);
}

// ---- timing ----

/// Times a 1080p yuv420p frame through a Gaussian blur and through five colour filters, on
/// the GPU (one frame at a time, and a stream with frames in flight) and on the CPU, and prints
/// the medians: `cargo test --lib timing_1080p -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement for a person to read, not a check"]
fn timing_1080p() {
    use std::time::{Duration, Instant};
    let Some(mut gpu) = gpu() else { return };
    const RUNS: usize = 15;
    let median = |mut t: Vec<Duration>| {
        t.sort();
        t[t.len() / 2].as_secs_f64() * 1e3
    };
    let format = yuv420(1920, 1080);
    let frame = test_frame(format, 1);
    let mut cpu = CpuBackend::new();
    eprintln!("{} on {}", format.describe(), gpu.describe());
    for text in [
        "gblur(sigma=3)",
        "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)",
    ] {
        let plan = chain_plan(text, &format).unwrap();
        let time = |backend: &mut dyn Backend| {
            let out = backend.process(&plan, frame.clone()).unwrap();
            backend.recycle(out);
            let mut times = Vec::with_capacity(RUNS);
            for _ in 0..RUNS {
                let input = frame.clone();
                let start = Instant::now();
                let out = backend.process(&plan, input).unwrap();
                times.push(start.elapsed());
                backend.recycle(out);
            }
            median(times)
        };
        let (gpu_ms, cpu_ms) = (time(&mut *gpu), time(&mut cpu));
        // A stream: the time between frames coming back with frames in flight.
        let inputs: Vec<Frame> = (0..RUNS + 3).map(|_| frame.clone()).collect();
        let mut gaps = Vec::with_capacity(RUNS + 3);
        let mut last = Instant::now();
        let mut came_back = |f: Frame, gpu: &mut GpuBackend| {
            gaps.push(last.elapsed());
            last = Instant::now();
            gpu.recycle(f);
        };
        for input in inputs {
            if let Some(f) = gpu.submit(&plan, input).unwrap() {
                came_back(f, &mut gpu);
            }
        }
        while let Some(f) = gpu.finish().unwrap() {
            came_back(f, &mut gpu);
        }
        let stream_ms = median(gaps);
        eprintln!(
            "{text}: gpu process {gpu_ms:.1} ms, gpu stream {stream_ms:.1} ms a frame, \
             cpu {cpu_ms:.1} ms (medians of {RUNS})"
        );
    }
}
