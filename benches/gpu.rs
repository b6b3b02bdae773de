//! The GPU backend's throughput on a hardware GPU, counting upload, compute and read-back, set
//! against what bounds it and what else could do the work on the same machine:
//! - the bus: the same bytes uploaded and read back through wgpu with no compute, by the
//!   backend's own means (a mapped upload buffer copied into a device buffer, copied into a
//!   mappable read-back buffer, `map_async`), with as many frames in flight as the backend
//!   keeps, on a device of its own on the same adapter;
//! - PyTorch on the same card (`benches/gpu_peer.py`, which reads what `--dump` writes);
//! - the CPU backend on all the machine's cores.
//!
//! Each case streams frames through `Backend::submit` and `finish`, as a video's filter stage
//! does, the outputs recycled; input frames are read in place (`Frame::shared`), as decoded
//! video is, so the figure holds no copy the pipeline would not make. A case runs a warm-up,
//! then `--rounds` rounds of `--frames` frames; the figure is the median round. A case stops
//! early when it has used its time budget, and cases are skipped past the run's deadline, so a
//! slow or software GPU still ends in bounded time. Before timing, the GPU's output is checked
//! against the CPU backend's (the backends agree within one code value).
//!
//! Builds without the `video` feature, so the binary links no FFmpeg library:
//! `cargo bench --no-default-features --bench gpu -- --quick` (a software GPU will do), or run
//! the built binary with `--frames 300 --rounds 3 --json gpu.json --dump DIR`; `--help` lists
//! the flags.

#[path = "common/pattern.rs"]
mod pattern;

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tessera::backend::cpu::CpuBackend;
use tessera::backend::gpu::{AdapterPolicy, GpuBackend};
use tessera::frame::{Colour, Format, Layout, Matrix, Picture};
use tessera::{plan, Backend, Chain, Frame, Plan};

/// The backend's frames in flight (`IN_FLIGHT` in `src/backend/gpu/executor.rs`).
const IN_FLIGHT: usize = 3;

const FIVE_COLOUR_FILTERS: &str =
    "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)";

/// An input of the cases: its layout and height (16:9 frames).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Input {
    Yuv1080,
    Yuv2160,
    Rgb1080,
}

impl Input {
    fn format(self) -> Format {
        let yuv = Colour::video(Matrix::Bt709, false);
        match self {
            Input::Yuv1080 => Format::new(1920, 1080, Layout::YUV420, 8, yuv),
            Input::Yuv2160 => Format::new(3840, 2160, Layout::YUV420, 8, yuv),
            Input::Rgb1080 => Format::new(1920, 1080, Layout::RGB, 8, Colour::RGB),
        }
    }

    fn layout(self) -> &'static str {
        match self {
            Input::Yuv1080 | Input::Yuv2160 => "yuv420p",
            Input::Rgb1080 => "rgb",
        }
    }

    fn label(self) -> String {
        format!("{} {}p", self.layout(), self.format().height)
    }
}

/// The cases, most wanted first (a run out of time drops the last ones).
const CASES: &[(Input, &str, &str)] = &[
    (Input::Yuv1080, "gblur3", "gblur(sigma=3)"),
    (Input::Yuv1080, "colour5", FIVE_COLOUR_FILTERS),
    (Input::Yuv2160, "gblur3", "gblur(sigma=3)"),
    (Input::Yuv2160, "colour5", FIVE_COLOUR_FILTERS),
    (Input::Rgb1080, "gblur3", "gblur(sigma=3)"),
    (Input::Rgb1080, "colour5", FIVE_COLOUR_FILTERS),
    (Input::Yuv1080, "unsharp1", "unsharp(sigma=1, amount=1)"),
    (Input::Yuv2160, "unsharp1", "unsharp(sigma=1, amount=1)"),
    (
        Input::Yuv2160,
        "lanczos1080p",
        "scale(1920, 1080, lanczos3)",
    ),
];

struct Settings {
    /// Frames a round at 1080p, and at 2160p.
    frames: usize,
    frames_2160: usize,
    rounds: usize,
    /// Time one case may take on one backend.
    budget: Duration,
    /// Past this, cases not started are skipped.
    deadline: Duration,
    any_adapter: bool,
    skip_cpu: bool,
    quick: bool,
    json: Option<PathBuf>,
    dump: Option<PathBuf>,
}

const HELP: &str = "\
gpu bench: tessera's GPU backend against the bus, and its CPU backend, frames/s

  --frames N        frames a round at 1080p (default 300)
  --frames-2160 N   frames a round at 2160p (default 2/5 of --frames)
  --rounds R        timed rounds a case, after a warm-up (default 3)
  --budget S        seconds a case may take on one backend (default 8)
  --deadline S      seconds after which cases not started are skipped (default 170)
  --quick           a few frames, one round: a check that runs on a software GPU
  --any-adapter     allow a software GPU (implied by --quick)
  --no-cpu          skip the CPU backend's timings
  --json FILE       every result, the adapter and the CPU, as JSON
  --dump DIR        raw planes of each input and of the first GPU and CPU output of each
                    case, and manifest.json, for benches/gpu_peer.py
  --adapters        list the adapters wgpu sees; exit 0 if one is a hardware GPU, else 1
";

fn parse_args() -> Result<Option<Settings>, String> {
    let mut s = Settings {
        frames: 300,
        frames_2160: 0,
        rounds: 3,
        budget: Duration::from_secs(8),
        deadline: Duration::from_secs(170),
        any_adapter: false,
        skip_cpu: false,
        quick: false,
        json: None,
        dump: None,
    };
    let mut args = std::env::args().skip(1);
    let number = |flag: &str, v: Option<String>| -> Result<f64, String> {
        let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 1.0)
            .ok_or_else(|| format!("invalid {flag} {v} (expected a number >= 1)"))
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--frames" => s.frames = number(&a, args.next())? as usize,
            "--frames-2160" => s.frames_2160 = number(&a, args.next())? as usize,
            "--rounds" => s.rounds = number(&a, args.next())? as usize,
            "--budget" => s.budget = Duration::from_secs_f64(number(&a, args.next())?),
            "--deadline" => s.deadline = Duration::from_secs_f64(number(&a, args.next())?),
            "--quick" => s.quick = true,
            "--any-adapter" => s.any_adapter = true,
            "--no-cpu" => s.skip_cpu = true,
            "--json" => s.json = Some(args.next().ok_or("--json needs a file")?.into()),
            "--dump" => s.dump = Some(args.next().ok_or("--dump needs a folder")?.into()),
            "--adapters" => std::process::exit(list_adapters()),
            "--help" | "-h" => {
                print!("{HELP}");
                return Ok(None);
            }
            // `cargo bench` passes `--bench`.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}\n{HELP}")),
        }
    }
    if s.quick {
        s.frames = s.frames.min(6);
        s.frames_2160 = s.frames_2160.min(3);
        s.rounds = 1;
        s.any_adapter = true;
    }
    if s.frames_2160 == 0 {
        s.frames_2160 = (s.frames * 2 / 5).max(1);
    }
    Ok(Some(s))
}

fn main() {
    let settings = match parse_args() {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&settings) {
        eprintln!("gpu bench: {e}");
        std::process::exit(1);
    }
}

/// Timings of one case on one backend (or the bus).
#[derive(Default)]
struct Timing {
    /// Frames done and seconds taken, per timed round.
    rounds: Vec<(usize, f64)>,
    /// The budget ran out before every round was done.
    cut: bool,
    error: Option<String>,
}

impl Timing {
    fn fps(&self) -> Vec<f64> {
        self.rounds.iter().map(|&(n, s)| n as f64 / s).collect()
    }

    fn median_fps(&self) -> Option<f64> {
        median(self.fps())
    }

    fn json(&self) -> Value {
        let fps = self.median_fps();
        json!({
            "fps": fps,
            "ms_per_frame": fps.map(|f| 1000.0 / f),
            "rounds_fps": self.fps(),
            "rounds_frames": self.rounds.iter().map(|r| r.0).collect::<Vec<_>>(),
            "cut_by_budget": self.cut,
            "error": self.error,
        })
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    })
}

fn run(s: &Settings) -> Result<(), String> {
    let started = Instant::now();
    let policy = if s.any_adapter {
        AdapterPolicy::Any
    } else {
        AdapterPolicy::HardwareOnly
    };
    let mut gpu = match GpuBackend::new(policy) {
        Ok(g) => Some(g),
        Err(e) => {
            println!("GPU backend: none ({e}); CPU figures only");
            None
        }
    };
    let adapter = gpu.as_ref().map(GpuBackend::adapter_info);
    let mut bus = match &adapter {
        Some(info) => match Bus::open(info) {
            Ok(b) => Some(b),
            Err(e) => {
                println!("bus bound: not measured ({e})");
                None
            }
        },
        None => None,
    };
    let mut cpu = CpuBackend::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu_model = cpu_model();
    let cpu_backend = cpu.describe();
    if let Some(info) = &adapter {
        println!(
            "GPU: {} ({:?}, {:?}), driver {} {}",
            info.name, info.device_type, info.backend, info.driver, info.driver_info
        );
    }
    println!(
        "CPU: {cpu_model}, {cores} threads ({}); frames a round: {} at 1080p, {} at 2160p; \
         {} rounds; budget {:.0} s a case",
        cpu_backend,
        s.frames,
        s.frames_2160,
        s.rounds,
        s.budget.as_secs_f64()
    );
    if let Some(dir) = &s.dump {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    println!();
    println!(
        "{:<26} {:>9} {:>8} {:>9} {:>7} {:>9} {:>8}  {:<7}",
        "case", "GPU fps", "ms/frame", "bus fps", "GPU/bus", "CPU fps", "ms/frame", "max diff"
    );

    let adapter_json = adapter.as_ref().map(|i| {
        json!({
            "name": i.name,
            "vendor": i.vendor,
            "device": i.device,
            "device_type": format!("{:?}", i.device_type),
            "driver": i.driver,
            "driver_info": i.driver_info,
            "backend": format!("{:?}", i.backend),
        })
    });
    // Written after every case, so that a run stopped from outside keeps what it measured.
    let save = |results: &[Value]| -> Result<(), String> {
        let Some(path) = &s.json else {
            return Ok(());
        };
        let doc = json!({
            "bench": "tessera gpu",
            "date": utc_now(),
            "adapter": adapter_json,
            "cpu": {"model": cpu_model, "threads": cores, "backend": cpu_backend},
            "settings": {
                "frames": s.frames,
                "frames_2160": s.frames_2160,
                "rounds": s.rounds,
                "budget_s": s.budget.as_secs_f64(),
                "quick": s.quick,
                "in_flight": IN_FLIGHT,
            },
            "cases": results,
            "seconds": started.elapsed().as_secs_f64(),
        });
        write_json(path, &doc)
    };
    let mut inputs: HashMap<Input, Frame> = HashMap::new();
    let mut bounds: HashMap<(u64, u64), Timing> = HashMap::new();
    let mut results = Vec::new();
    let mut dumped = Vec::new();
    let mut inputs_dumped: Vec<String> = Vec::new();
    for &(input, name, text) in CASES {
        let label = format!("{} {name}", input.label());
        if started.elapsed() > s.deadline {
            println!("{label:<26} skipped: past the run's deadline");
            results.push(json!({
                "layout": input.layout(),
                "height": input.format().height,
                "case": name,
                "chain": text,
                "skipped": true,
            }));
            continue;
        }
        let frame = inputs
            .entry(input)
            .or_insert_with(|| test_frame(input.format()))
            .clone();
        let n = if input == Input::Yuv2160 {
            s.frames_2160
        } else {
            s.frames
        };
        let plan = Chain::parse(text)
            .map_err(|e| format!("{text}: {e}"))
            .and_then(|c| plan::compile(&c, &frame.format).map_err(|e| format!("{text}: {e}")))?;
        let bytes = GpuBackend::transfer_bytes(&plan).ok();

        // The check, whose outputs are also the ones dumped.
        let gpu_out = gpu.as_mut().map(|g| g.process(&plan, frame.clone()));
        let cpu_out = cpu.process(&plan, frame.clone());
        let diffs = match (&gpu_out, &cpu_out) {
            (Some(Ok(g)), Ok(c)) => g.plane_diffs(c),
            _ => None,
        };
        if let Some(dir) = &s.dump {
            let stem = format!("{}-{}", input.layout(), input.format().height);
            let write = |file: String, f: &Frame| match dump(dir, &file, f) {
                Ok(()) => Some(file),
                Err(e) => {
                    eprintln!("dump {file}: {e}");
                    None
                }
            };
            let input_file = format!("input-{stem}.yuv");
            if !inputs_dumped.contains(&input_file) {
                inputs_dumped.extend(write(input_file.clone(), &frame));
            }
            dumped.push(json!({
                "case": name,
                "chain": text,
                "width": frame.format.width,
                "height": frame.format.height,
                "out_width": plan.output.width,
                "out_height": plan.output.height,
                "input": inputs_dumped.contains(&input_file).then_some(input_file),
                "gpu": gpu_out
                    .as_ref()
                    .and_then(|r| r.as_ref().ok())
                    .and_then(|g| write(format!("gpu-{stem}-{name}.yuv"), g)),
                "cpu": cpu_out.as_ref().ok().and_then(|c| write(format!("cpu-{stem}-{name}.yuv"), c)),
            }));
        }

        let mut gpu_timing = Timing::default();
        match &gpu_out {
            Some(Ok(_)) => {
                if let Some(g) = gpu.as_mut() {
                    gpu_timing = time_backend(g, &plan, &frame, n, s);
                }
            }
            Some(Err(e)) => gpu_timing.error = Some(e.to_string()),
            None => gpu_timing.error = Some("no GPU".into()),
        }
        if let (Some(b), Some((up, down))) = (bus.as_mut(), bytes) {
            bounds
                .entry((up, down))
                .or_insert_with(|| b.time(up, down, n, s));
        }
        let bound = bytes.and_then(|k| bounds.get(&k));
        let mut cpu_timing = Timing::default();
        match &cpu_out {
            Ok(_) if !s.skip_cpu => cpu_timing = time_backend(&mut cpu, &plan, &frame, n, s),
            Ok(_) => {}
            Err(e) => cpu_timing.error = Some(e.to_string()),
        }

        let cell =
            |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
        let (g, b, c) = (
            gpu_timing.median_fps(),
            bound.and_then(Timing::median_fps),
            cpu_timing.median_fps(),
        );
        let ratio = g.zip(b).map(|(g, b)| 100.0 * g / b);
        let diff = diffs.as_ref().map_or("-".to_string(), |d| {
            let max = d.iter().max().copied().unwrap_or(0);
            let planes: Vec<String> = d.iter().map(u32::to_string).collect();
            format!("{max} ({})", planes.join("/"))
        });
        println!(
            "{label:<26} {:>9} {:>8} {:>9} {:>6}% {:>9} {:>8}  {diff}{}",
            cell(g, 1),
            cell(g.map(|f| 1000.0 / f), 2),
            cell(b, 1),
            cell(ratio, 0),
            cell(c, 1),
            cell(c.map(|f| 1000.0 / f), 2),
            if diffs.as_ref().is_some_and(|d| d.iter().any(|&x| x > 1)) {
                "  <- GPU and CPU differ by more than 1"
            } else {
                ""
            }
        );
        for (who, t) in [("GPU", &gpu_timing), ("CPU", &cpu_timing)] {
            if let Some(e) = &t.error {
                println!("    {who}: {e}");
            }
        }
        let _ = std::io::stdout().flush();
        results.push(json!({
            "layout": input.layout(),
            "width": frame.format.width,
            "height": frame.format.height,
            "case": name,
            "chain": text,
            "frames_per_round": n,
            "upload_bytes": bytes.map(|b| b.0),
            "readback_bytes": bytes.map(|b| b.1),
            "gpu": gpu_timing.json(),
            "bus": bound.map(Timing::json),
            "gpu_percent_of_bus": ratio,
            "cpu": cpu_timing.json(),
            "max_diff_per_plane": diffs,
        }));
        save(&results)?;
    }
    if let Some(dir) = &s.dump {
        let manifest = json!({"frames": dumped});
        write_json(&dir.join("manifest.json"), &manifest)?;
    }
    println!("total {:.1} s", started.elapsed().as_secs_f64());
    save(&results)?;

    Ok(())
}

/// Streams frames through `backend` as a video's filter stage does: a warm-up, then the timed
/// rounds, each within what is left of the budget.
fn time_backend(
    backend: &mut dyn Backend,
    plan: &Plan,
    frame: &Frame,
    n: usize,
    s: &Settings,
) -> Timing {
    let started = Instant::now();
    let mut t = Timing::default();
    let warm_up = (n / 10).clamp(1, 2 * IN_FLIGHT);
    if let Err(e) = stream(backend, plan, frame, warm_up, s.budget) {
        t.error = Some(e);
        return t;
    }
    for _ in 0..s.rounds {
        let left = s.budget.saturating_sub(started.elapsed());
        if left.is_zero() {
            t.cut = true;
            break;
        }
        match stream(backend, plan, frame, n, left) {
            Ok((done, secs)) => {
                t.cut |= done < n;
                if done > 0 {
                    t.rounds.push((done, secs));
                }
            }
            Err(e) => {
                t.error = Some(e);
                break;
            }
        }
    }
    t
}

/// Submits up to `n` frames (fewer if `budget` runs out), then finishes: frames done and
/// seconds taken.
fn stream(
    backend: &mut dyn Backend,
    plan: &Plan,
    frame: &Frame,
    n: usize,
    budget: Duration,
) -> Result<(usize, f64), String> {
    let started = Instant::now();
    let mut done = 0;
    for i in 0..n {
        if started.elapsed() > budget {
            break;
        }
        let mut f = frame.clone();
        f.index = i as u64;
        if let Some(out) = backend.submit(plan, f).map_err(|e| e.to_string())? {
            done += 1;
            backend.recycle(out);
        }
    }
    while let Some(out) = backend.finish().map_err(|e| e.to_string())? {
        done += 1;
        backend.recycle(out);
    }
    Ok((done, started.elapsed().as_secs_f64()))
}

/// Planes held apart from any frame and read in place, as a decoder's picture is.
struct Held(Vec<Vec<u8>>, Vec<usize>);

// SAFETY: each plane is a vector of `height` rows of its stride (the plane's width), never
// written after the frame is made, and lives as long as the value.
unsafe impl Picture for Held {
    fn plane(&self, p: usize) -> (*const u8, usize) {
        (self.0[p].as_ptr(), self.1[p])
    }
}

/// A frame of `format` (8 bits) whose planes look like a photograph's: smooth gradients, a few
/// edges and fine texture (`benches/common/pattern.rs`, at any size).
fn test_frame(format: Format) -> Frame {
    let mut planes = Vec::new();
    let mut strides = Vec::new();
    for p in 0..format.planes() {
        let (w, h) = format.plane_size(p);
        let (w, h) = (w as usize, h as usize);
        let mut plane = vec![0u8; w * h];
        for (y, row) in plane.chunks_exact_mut(w).enumerate() {
            for (x, v) in row.iter_mut().enumerate() {
                *v = pattern::sample(p, x, y, w, h);
            }
        }
        planes.push(plane);
        strides.push(w);
    }
    Frame::shared(format, Arc::new(Held(planes, strides)))
}

/// Writes `frame`'s planes one after another, rows unpadded (8 bits).
fn dump(dir: &Path, file: &str, frame: &Frame) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(frame.format.samples_len());
    for p in 0..frame.format.planes() {
        let plane = frame.plane8(p);
        for y in 0..plane.height {
            bytes.extend_from_slice(plane.row(y));
        }
    }
    std::fs::write(dir.join(file), bytes)
}

fn write_json(path: &Path, doc: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(doc).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
}

/// The bus alone: frames of bytes uploaded and read back as the GPU backend moves them, with
/// no compute, on a device of its own on the backend's adapter.
struct Bus {
    device: wgpu::Device,
    queue: wgpu::Queue,
    /// Ring slots and the device buffer, for the sizes they were made for.
    made: Option<((u64, u64), Vec<Slot>, wgpu::Buffer)>,
}

const MAP_PENDING: u8 = 0;
const MAP_DONE: u8 = 1;
const MAP_FAILED: u8 = 2;

/// A mappable buffer and the state its last map request's callback left.
struct Mapped {
    buffer: wgpu::Buffer,
    mode: wgpu::MapMode,
    state: Arc<AtomicU8>,
    requested: bool,
}

impl Mapped {
    fn new(device: &wgpu::Device, size: u64, usage: wgpu::BufferUsages, read: bool) -> Mapped {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("bus ring"),
            size,
            usage,
            mapped_at_creation: false,
        });
        let mode = if read {
            wgpu::MapMode::Read
        } else {
            wgpu::MapMode::Write
        };
        Mapped {
            buffer,
            mode,
            state: Arc::new(AtomicU8::new(MAP_PENDING)),
            requested: false,
        }
    }

    fn request(&mut self) {
        if self.requested {
            return;
        }
        self.requested = true;
        self.state.store(MAP_PENDING, Ordering::Release);
        let state = self.state.clone();
        self.buffer.map_async(self.mode, .., move |r| {
            state.store(
                if r.is_ok() { MAP_DONE } else { MAP_FAILED },
                Ordering::Release,
            );
        });
    }

    fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    fn unmap(&mut self) {
        if self.requested {
            self.buffer.unmap();
            self.requested = false;
        }
    }
}

struct Slot {
    upload: Mapped,
    readback: Mapped,
    submission: Option<wgpu::SubmissionIndex>,
}

impl Bus {
    /// A device on the adapter `info` names, with that adapter's limits.
    fn open(info: &wgpu::AdapterInfo) -> Result<Bus, String> {
        let backends = wgpu::Backends::PRIMARY.with_env();
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
        });
        let adapter = pollster::block_on(instance.enumerate_adapters(backends))
            .into_iter()
            .find(|a| {
                let i = a.get_info();
                (&i.name, i.vendor, i.device, i.backend, &i.device_pci_bus_id)
                    == (
                        &info.name,
                        info.vendor,
                        info.device,
                        info.backend,
                        &info.device_pci_bus_id,
                    )
            })
            .ok_or("the backend's adapter is not listed again")?;
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("bus"),
            required_limits: adapter.limits(),
            memory_hints: wgpu::MemoryHints::Performance,
            ..Default::default()
        }))
        .map_err(|e| e.to_string())?;
        Ok(Bus {
            device,
            queue,
            made: None,
        })
    }

    /// Times rounds of `n` frames of `up` bytes uploaded and `down` read back.
    fn time(&mut self, up: u64, down: u64, n: usize, s: &Settings) -> Timing {
        let (up, down) = (up.div_ceil(4) * 4, down.div_ceil(4) * 4);
        let mut t = Timing::default();
        if self.made.as_ref().is_none_or(|m| m.0 != (up, down)) {
            let slot = || Slot {
                upload: Mapped::new(
                    &self.device,
                    up,
                    wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
                    false,
                ),
                readback: Mapped::new(
                    &self.device,
                    down,
                    wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                    true,
                ),
                submission: None,
            };
            let ring = (0..IN_FLIGHT).map(|_| slot()).collect();
            let on_gpu = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("bus planes"),
                size: up.max(down),
                usage: wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC,
                mapped_at_creation: false,
            });
            self.made = Some(((up, down), ring, on_gpu));
        }
        let source: Vec<u8> = (0..up).map(|i| (i * 7 % 251) as u8).collect();
        let mut result = vec![0u8; down as usize];
        let started = Instant::now();
        let warm_up = (n / 10).clamp(1, 2 * IN_FLIGHT);
        if let Err(e) = self.stream(warm_up, &source, &mut result, s.budget) {
            t.error = Some(e);
            return t;
        }
        for _ in 0..s.rounds {
            let left = s.budget.saturating_sub(started.elapsed());
            if left.is_zero() {
                t.cut = true;
                break;
            }
            let round = Instant::now();
            match self.stream(n, &source, &mut result, left) {
                Ok(done) => {
                    t.cut |= done < n;
                    if done > 0 {
                        t.rounds.push((done, round.elapsed().as_secs_f64()));
                    }
                }
                Err(e) => {
                    t.error = Some(e);
                    break;
                }
            }
        }
        t
    }

    /// Up to `n` frames through the ring, in the executor's order: wait for the oldest when
    /// every slot is taken, write the upload buffer, submit the two copies, ask for both
    /// buffers to map again, hand back frames whose read-back is already mapped.
    fn stream(
        &mut self,
        n: usize,
        source: &[u8],
        result: &mut [u8],
        budget: Duration,
    ) -> Result<usize, String> {
        let Some(((up, down), ring, on_gpu)) = self.made.as_mut() else {
            return Err("no ring".into());
        };
        let (up, down) = (*up, *down);
        let device = &self.device;
        let started = Instant::now();
        let mut flight: VecDeque<usize> = VecDeque::new();
        let mut done = 0;
        let settle = |slot: &mut Slot, result: &mut [u8]| -> Result<(), String> {
            if slot.readback.state() == MAP_PENDING {
                device
                    .poll(wgpu::PollType::Wait {
                        submission_index: slot.submission.clone(),
                        timeout: None,
                    })
                    .map_err(|e| e.to_string())?;
            }
            if slot.readback.state() != MAP_DONE {
                return Err("read-back buffer not mapped".into());
            }
            let view = slot
                .readback
                .buffer
                .get_mapped_range(..)
                .map_err(|e| e.to_string())?;
            result.copy_from_slice(&view);
            drop(view);
            slot.readback.unmap();
            Ok(())
        };
        for k in 0..n {
            if started.elapsed() > budget {
                break;
            }
            if flight.len() >= IN_FLIGHT {
                let oldest = flight.pop_front().unwrap_or(0);
                settle(&mut ring[oldest], result)?;
                done += 1;
            }
            let i = k % IN_FLIGHT;
            let slot = &mut ring[i];
            slot.upload.request();
            if slot.upload.state() == MAP_PENDING {
                let wait = match &slot.submission {
                    Some(index) => wgpu::PollType::Wait {
                        submission_index: Some(index.clone()),
                        timeout: None,
                    },
                    None => wgpu::PollType::Poll,
                };
                device.poll(wait).map_err(|e| e.to_string())?;
            }
            if slot.upload.state() != MAP_DONE {
                return Err("upload buffer not mapped".into());
            }
            {
                let mut view = slot
                    .upload
                    .buffer
                    .get_mapped_range_mut(..)
                    .map_err(|e| e.to_string())?;
                view.copy_from_slice(source);
            }
            slot.upload.unmap();
            let mut encoder = device.create_command_encoder(&Default::default());
            encoder.copy_buffer_to_buffer(&slot.upload.buffer, 0, on_gpu, 0, up);
            encoder.copy_buffer_to_buffer(on_gpu, 0, &slot.readback.buffer, 0, down);
            slot.submission = Some(self.queue.submit([encoder.finish()]));
            slot.readback.request();
            slot.upload.request();
            flight.push_back(i);
            while let Some(&front) = flight.front() {
                if ring[front].readback.state() == MAP_PENDING {
                    break;
                }
                flight.pop_front();
                settle(&mut ring[front], result)?;
                done += 1;
            }
        }
        while let Some(front) = flight.pop_front() {
            settle(&mut ring[front], result)?;
            done += 1;
        }
        Ok(done)
    }
}

/// Lists the adapters wgpu sees: 0 if one of them is a hardware GPU that runs compute
/// shaders, 1 if none is.
fn list_adapters() -> i32 {
    let backends = wgpu::Backends::PRIMARY.with_env();
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends,
        ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
    });
    let adapters = pollster::block_on(instance.enumerate_adapters(backends));
    let mut hardware = false;
    for a in &adapters {
        let i = a.get_info();
        let computes = a
            .get_downlevel_capabilities()
            .flags
            .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
        println!(
            "adapter: {} ({:?}, {:?}), driver {} {}{}",
            i.name,
            i.device_type,
            i.backend,
            i.driver,
            i.driver_info,
            if computes { "" } else { ", no compute" }
        );
        hardware |= computes && i.device_type != wgpu::DeviceType::Cpu;
    }
    if adapters.is_empty() {
        println!("adapter: none");
    }
    if hardware {
        0
    } else {
        1
    }
}

/// The processor's model name, from /proc/cpuinfo where there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Now, in UTC, as `YYYY-MM-DD HH:MM UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rest) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}
