//! The CPU backend: runs a plan's passes plane by plane, strips of rows in parallel with rayon.
//!
//! Each pass computes only the planes it changes ([`Pass::planes`]); the others are handed on
//! as they are, without a copy, and a plane nothing changes reaches the output as the input
//! frame held it (a decoder's picture, read in place). A pass reads its input planes a strip of
//! rows at a time, with the rows above and below its kernels reach (a [`arith::Window`]),
//! and streams each output row through its steps (a blur's vertical then horizontal taps, a
//! resample's two tables) in cache, so no intermediate plane is ever made inside a pass.
//! Between passes a plane is kept at more than the frame's precision (see [`arith`]); the last
//! pass that changes a plane writes the frame's codes, rounded once.
//!
//! Frames of 8 and 10 bits run in fixed point, 12- and 16-bit frames in f32 (see [`fits`];
//! [`arith::Fixed`],
//! [`arith::Float`]), each kernel written once over the arithmetic. Every kernel is compiled
//! twice, for the x86-64 baseline and for AVX2, and the faster one is picked at run time
//! ([`simd`]); the fixed-point kernels' AVX2 build calls their hand-written forms
//! (`fixed_avx2`). Both builds give the same samples bit for bit.

mod arith;
#[cfg(target_arch = "x86_64")]
mod fixed_avx2;
mod lut;
mod neighbourhood;
mod pixel;
mod point;
#[cfg(test)]
mod precision;
mod simd;
mod table8;
mod temporal;
mod warp;

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;

use super::{Backend, BackendError};
use crate::frame::{Format, Frame, Plane, PlaneBuf, PlaneRef, Samples};
use crate::op::{RankOf, ResampleTable};
use crate::plan::{Pass, PassKind, Plan};
use arith::{pad_row, Arith, Fixed, Float};
pub use simd::Isa;

/// About how many samples one strip of one plane holds: a strip's rows and its scratch stay in
/// a core's cache, and a 1080p plane makes some thirty strips for the workers to share.
const STRIP_SAMPLES: usize = 1 << 16;

pub struct CpuBackend {
    /// The build of the kernels that runs.
    isa: Isa,
    /// Rows per strip when set; otherwise sized from [`STRIP_SAMPLES`].
    strip_rows: Option<usize>,
    /// Plane buffers kept between frames, so that a steady stream allocates nothing.
    pool: Mutex<Pool>,
    /// Resample tables' weights as the arithmetics take them, kept from frame to frame:
    /// quantising a 1080p → 720p lanczos table for every plane of every frame took 2.6% of
    /// the run.
    prepared: Mutex<Prepared>,
    /// The workers a frame's strips are shared among: rayon's global pool (every core) unless
    /// [`Backend::share_cores_with_decoder`] gave the backend a smaller one.
    workers: Option<rayon::ThreadPool>,
    /// The latest 8-bit colour tables and the affine maps that compute them, if any.
    affine: Mutex<Vec<([u8; 256], Option<table8::Affine8>)>>,
    /// What temporal ops keep from one frame of the stream to the next.
    histories: Mutex<temporal::Histories>,
}

impl Default for CpuBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl CpuBackend {
    pub fn new() -> CpuBackend {
        CpuBackend {
            isa: Isa::detect(),
            strip_rows: None,
            pool: Mutex::new(Pool::default()),
            prepared: Mutex::new(Prepared::default()),
            affine: Mutex::new(Vec::new()),
            workers: None,
            histories: Mutex::new(temporal::Histories::default()),
        }
    }

    /// A backend that runs the given build of its kernels; `Isa::Avx2` only where
    /// [`Isa::detect`] found AVX2.
    pub fn with_isa(isa: Isa) -> CpuBackend {
        assert!(
            isa == Isa::Portable || Isa::detect() == Isa::Avx2,
            "this processor has no AVX2"
        );
        CpuBackend {
            isa,
            ..CpuBackend::new()
        }
    }

    /// A backend that cuts planes into strips of `rows` rows (at least 1), for tuning and for
    /// tests that need many strip boundaries in a small frame.
    pub fn with_strip_rows(rows: usize) -> CpuBackend {
        CpuBackend {
            strip_rows: Some(rows.max(1)),
            ..CpuBackend::new()
        }
    }

    fn strip_rows(&self, width: usize, height: usize) -> usize {
        self.strip_rows.unwrap_or_else(|| {
            (STRIP_SAMPLES / width.max(1))
                .clamp(8, 512)
                .min(height.div_ceil(2 * self.threads()).max(1))
        })
    }

    /// How many workers share a frame's strips.
    fn threads(&self) -> usize {
        self.workers
            .as_ref()
            .map_or_else(rayon::current_num_threads, |w| w.current_num_threads())
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The affine map that gives `table`, if one does, looked for once per table.
    fn affine8(&self, table: &[u8; 256]) -> Option<table8::Affine8> {
        let mut known = self.affine.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, a)) = known.iter().find(|(t, _)| t == table) {
            return *a;
        }
        let a = table8::Affine8::fit(table);
        if known.len() == 8 {
            known.remove(0);
        }
        known.push((*table, a));
        a
    }

    fn histories(&self) -> std::sync::MutexGuard<'_, temporal::Histories> {
        self.histories.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn prepared(&self) -> std::sync::MutexGuard<'_, Prepared> {
        self.prepared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Backend for CpuBackend {
    fn describe(&self) -> String {
        let isa = match self.isa {
            Isa::Portable => "",
            Isa::Avx2 => ", AVX2",
        };
        let n = self.threads();
        let s = if n == 1 { "" } else { "s" };
        format!("cpu ({n} thread{s}{isa})")
    }

    fn process(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        super::check_format(plan, &frame)?;
        if plan.passes.is_empty() {
            return Ok(frame);
        }
        let fixed = Fixed::for_bits(plan.input.bits)
            .filter(|f| fits(f, plan))
            .map(|f| f.with_isa(self.isa));
        let run = || match fixed {
            Some(f) => execute(self, plan, frame, f),
            None => execute(self, plan, frame, Float),
        };
        Ok(match &self.workers {
            Some(workers) => workers.install(run),
            None => run(),
        })
    }

    /// Half the cores (at least one) share a frame's strips; the decoder's frame threads have
    /// the rest. On the 2-core benchmark machine, with a 1080p H.264 clip decoding beside it,
    /// one worker made eq 11% faster than two (1.37 s against 1.54 s, medians of four runs,
    /// now FFmpeg's time), gblur, unsharp and sharpen 5-12% faster and lanczos as fast: two
    /// workers and the decoder's threads took the cores from each other (3 to 4 times the
    /// involuntary context switches).
    fn share_cores_with_decoder(&mut self) {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = (cores / 2).max(1);
        match rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tessera-cpu-{i}"))
            .build()
        {
            Ok(pool) => self.workers = Some(pool),
            // Without threads of its own the backend shares rayon's pool, as for an image.
            Err(e) => tracing::debug!("no worker pool of {threads}: {e}"),
        }
    }

    fn new_stream(&mut self) {
        self.histories().restart();
    }

    fn recycle(&mut self, frame: Frame) {
        let mut pool = self.pool();
        for samples in frame.into_samples() {
            pool.give(Stage::Codes(samples));
        }
    }

    fn buffer(&mut self, len: usize, wide: bool) -> Samples {
        match self.pool().take(Kind::Codes { wide }, len) {
            Stage::Codes(samples) => samples,
            _ => unreachable!("a pool's codes are codes"),
        }
    }
}

/// Fraction bits fixed point must keep between a pass's steps and between passes: with the 2
/// that 12-bit frames would keep, a separable blur's axes and a sharpening after a blur ended
/// 2 to 3 code values from the exact result (and from the GPU's f32), where 10-bit frames' 4
/// keep within one. 12-bit frames run in f32.
const MIN_FRAC: u32 = 4;

/// True when `plan` runs in fixed point: every kernel fits it (user kernels with huge weights
/// do not) and it keeps at least [`MIN_FRAC`] fraction bits.
fn fits(arith: &Fixed, plan: &Plan) -> bool {
    if arith.frac() < MIN_FRAC {
        return false;
    }
    plan.passes.iter().all(|pass| match &pass.kind {
        PassKind::Convolve(planes) => planes.iter().flatten().all(|c| {
            arith
                .weights(&c.weights, (c.width * c.height) as usize)
                .is_some()
        }),
        _ => true,
    })
}

/// A plane between passes.
enum Stage {
    /// Plane `p` of the input frame, as it came.
    Input(usize),
    /// Codes a pass wrote: the plane's last change.
    Codes(Samples),
    /// Work samples of the fixed-point arithmetic.
    Fixed(Vec<i16>),
    /// Work samples of the floating-point arithmetic.
    Float(Vec<f32>),
    /// Handed on already.
    Gone,
}

/// A plane to read: one of the input frame's, or one a pass wrote, with its sample type.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    U8(Plane<'a, u8>),
    U16(Plane<'a, u16>),
    Fixed(Plane<'a, i16>),
    Float(Plane<'a, f32>),
}

impl Source<'_> {
    pub fn size(&self) -> (usize, usize) {
        match self {
            Source::U8(p) => (p.width, p.height),
            Source::U16(p) => (p.width, p.height),
            Source::Fixed(p) => (p.width, p.height),
            Source::Float(p) => (p.width, p.height),
        }
    }
}

/// The stage `stage` of plane `p` of a frame of `format`, to read.
fn source<'a>(stage: &'a Stage, input: &'a Frame, format: &Format, p: usize) -> Source<'a> {
    let (w, h) = format.plane_size(p);
    let (w, h) = (w as usize, h as usize);
    fn plane<T>(data: &[T], width: usize, height: usize) -> Plane<'_, T> {
        Plane {
            data,
            width,
            height,
            stride: width,
        }
    }
    match stage {
        Stage::Input(q) => match input.plane(*q) {
            PlaneRef::U8(p) => Source::U8(p),
            PlaneRef::U16(p) => Source::U16(p),
        },
        Stage::Codes(Samples::U8(v)) => Source::U8(plane(v, w, h)),
        Stage::Codes(Samples::U16(v)) => Source::U16(plane(v, w, h)),
        Stage::Fixed(v) => Source::Fixed(plane(v, w, h)),
        Stage::Float(v) => Source::Float(plane(v, w, h)),
        Stage::Gone => unreachable!("a plane is read before it is handed on"),
    }
}

/// One row to write, in the type of the plane it belongs to.
pub enum OutRow<'a> {
    U8(&'a mut [u8]),
    U16(&'a mut [u16]),
    Fixed(&'a mut [i16]),
    Float(&'a mut [f32]),
}

/// Rows of a strip to write.
enum OutRows<'a> {
    U8(&'a mut [u8]),
    U16(&'a mut [u16]),
    Fixed(&'a mut [i16]),
    Float(&'a mut [f32]),
}

impl OutRows<'_> {
    /// Row `i` of the strip, `width` samples a row.
    #[inline(always)]
    fn row(&mut self, i: usize, width: usize) -> OutRow<'_> {
        let r = i * width..(i + 1) * width;
        match self {
            OutRows::U8(s) => OutRow::U8(&mut s[r]),
            OutRows::U16(s) => OutRow::U16(&mut s[r]),
            OutRows::Fixed(s) => OutRow::Fixed(&mut s[r]),
            OutRows::Float(s) => OutRow::Float(&mut s[r]),
        }
    }
}

/// What a plane's new samples are written as: the frame's codes where it is the plane's last
/// change, the arithmetic's work samples otherwise.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Codes { wide: bool },
    Fixed,
    Float,
}

/// Plane buffers kept between frames, a few of each type.
#[derive(Default)]
struct Pool {
    u8: Vec<Vec<u8>>,
    u16: Vec<Vec<u16>>,
    i16: Vec<Vec<i16>>,
    f32: Vec<Vec<f32>>,
    /// Bytes the buffers above hold.
    bytes: usize,
}

/// Buffers of each type the pool keeps: a frame's planes (a steady stream gives one frame back
/// for each it takes). More only held memory: 8 cost a 1080p run 3-4 MiB at its peak.
const POOL_DEPTH: usize = 4;

/// Bytes the pool keeps at most: a 4K 4:2:0 stream's planes at 16 bits fit; a large photo's
/// are freed as soon as they are done with instead of held through its encoding.
const POOL_BYTES: usize = 64 << 20;

impl Pool {
    fn give(&mut self, stage: Stage) {
        fn keep<T>(list: &mut Vec<Vec<T>>, bytes: &mut usize, v: Vec<T>) {
            let size = v.capacity() * std::mem::size_of::<T>();
            if list.len() < POOL_DEPTH && size > 0 && *bytes + size <= POOL_BYTES {
                *bytes += size;
                list.push(v);
            }
        }
        let bytes = &mut self.bytes;
        match stage {
            Stage::Codes(Samples::U8(v)) => keep(&mut self.u8, bytes, v),
            Stage::Codes(Samples::U16(v)) => keep(&mut self.u16, bytes, v),
            Stage::Fixed(v) => keep(&mut self.i16, bytes, v),
            Stage::Float(v) => keep(&mut self.f32, bytes, v),
            Stage::Input(_) | Stage::Gone => {}
        }
    }

    /// A stage of `len` samples of `kind` (contents unspecified: every sample is written).
    fn take(&mut self, kind: Kind, len: usize) -> Stage {
        fn get<T: Copy + Default>(list: &mut Vec<Vec<T>>, bytes: &mut usize, len: usize) -> Vec<T> {
            // The buffer closest in size, so planes of different sizes keep their own.
            let best = (0..list.len()).min_by_key(|&i| list[i].capacity().abs_diff(len));
            let mut v = best.map(|i| list.swap_remove(i)).unwrap_or_default();
            *bytes -= v.capacity() * std::mem::size_of::<T>();
            v.resize(len, T::default());
            v
        }
        let bytes = &mut self.bytes;
        match kind {
            Kind::Codes { wide: false } => Stage::Codes(Samples::U8(get(&mut self.u8, bytes, len))),
            Kind::Codes { wide: true } => {
                Stage::Codes(Samples::U16(get(&mut self.u16, bytes, len)))
            }
            Kind::Fixed => Stage::Fixed(get(&mut self.i16, bytes, len)),
            Kind::Float => Stage::Float(get(&mut self.f32, bytes, len)),
        }
    }
}

/// Resample tables' weights prepared for an arithmetic, the latest few. An entry holds its
/// table, so no other table can take its address while it is here.
#[derive(Default)]
struct Prepared {
    entries: Vec<PreparedWeights>,
}

struct PreparedWeights {
    table: Arc<ResampleTable>,
    arith: TypeId,
    weights: Arc<dyn Any + Send + Sync>,
}

/// Tables kept: both axes of every plane of a few resamples in a chain.
const PREPARED_TABLES: usize = 16;

impl Prepared {
    /// `table`'s weights for `arith`, made the first time they are asked for.
    fn weights<A: Arith>(&mut self, arith: &A, table: &Arc<ResampleTable>) -> Arc<A::Weights> {
        let id = TypeId::of::<A>();
        let found = self
            .entries
            .iter()
            .find(|e| Arc::ptr_eq(&e.table, table) && e.arith == id)
            .and_then(|e| Arc::clone(&e.weights).downcast::<A::Weights>().ok());
        if let Some(w) = found {
            return w;
        }
        let w = Arc::new(
            arith
                .weights(&table.weights, table.taps as usize)
                .expect("resample weights fit every arithmetic"),
        );
        if self.entries.len() == PREPARED_TABLES {
            self.entries.remove(0);
        }
        self.entries.push(PreparedWeights {
            table: Arc::clone(table),
            arith: id,
            weights: Arc::clone(&w) as Arc<dyn Any + Send + Sync>,
        });
        w
    }
}

/// Runs every pass of `plan` on `input` in the arithmetic `arith`.
fn execute<A: Arith + Work>(
    backend: &CpuBackend,
    plan: &Plan,
    mut input: Frame,
    arith: A,
) -> Frame {
    // The last pass that changes each plane writes its codes.
    let mut last = [usize::MAX; crate::op::MAX_PLANES];
    for (i, pass) in plan.passes.iter().enumerate() {
        for p in pass.planes().iter() {
            last[p] = i;
        }
    }
    let mut stages: Vec<Stage> = (0..plan.input.planes()).map(Stage::Input).collect();
    // Where pass i leaves plane p: codes after the last pass that changes it; codes too from a
    // crop or flip of codes (moving samples loses nothing, and codes are the smaller); the
    // arithmetic's work samples otherwise.
    let kind = |i: usize, p: usize, from: &Stage| {
        let pass = &plan.passes[i];
        let moved_codes = matches!(pass.kind, PassKind::Remap { .. })
            && matches!(from, Stage::Input(_) | Stage::Codes(_));
        if last[p] == i || moved_codes {
            Kind::Codes {
                wide: pass.output.is_wide(),
            }
        } else {
            A::KIND
        }
    };
    let mut i = 0;
    while i < plan.passes.len() {
        let pass = &plan.passes[i];
        if let PassKind::Pointwise(ops) = &pass.kind {
            // Pointwise passes may read every plane at once (Y′CbCr ↔ RGB).
            let kinds: Vec<Kind> = (0..pass.output.planes())
                .map(|p| kind(i, p, stages.get(p).unwrap_or(&Stage::Gone)))
                .collect();
            let mut outputs =
                point::run(backend, arith, pass, ops, &mut stages, &mut input, &|p| {
                    kinds[p]
                });
            let mut next = Vec::with_capacity(pass.output.planes());
            for (p, out) in outputs.iter_mut().enumerate() {
                next.push(match out.take() {
                    Some(stage) => stage,
                    None => std::mem::replace(&mut stages[p], Stage::Gone),
                });
            }
            let mut pool = backend.pool();
            for old in stages.drain(..) {
                pool.give(old);
            }
            stages = next;
            i += 1;
            continue;
        }
        // A run of passes that work plane by plane (stencils, resamples, crops and flips):
        // each plane goes through the whole run before the next starts, so that one plane's
        // intermediates are alive at a time, not every plane's.
        let run = i..plan.passes[i..]
            .iter()
            .position(|pass| matches!(pass.kind, PassKind::Pointwise(_)))
            .map_or(plan.passes.len(), |n| i + n);
        for (p, stage) in stages.iter_mut().enumerate() {
            for k in run.clone() {
                let pass = &plan.passes[k];
                debug_assert_eq!(pass.input.planes(), pass.output.planes());
                if !pass.planes().contains(p) {
                    continue;
                }
                let out = {
                    let src = source(stage, &input, &pass.input, p);
                    let kind = kind(k, p, stage);
                    match &pass.kind {
                        PassKind::Temporal(op) => {
                            temporal::run_plane(backend, arith, pass, op, p, src, kind)
                        }
                        _ => run_plane(backend, arith, pass, p, src, kind),
                    }
                };
                backend.pool().give(std::mem::replace(stage, out));
            }
        }
        i = run.end;
    }
    let index = input.index;
    let pts = input.pts;
    let planes = stages
        .into_iter()
        .map(|stage| match stage {
            Stage::Input(q) => input.take_plane(q),
            Stage::Codes(samples) => PlaneBuf::owned(samples),
            _ => unreachable!("the last pass to change a plane writes its codes"),
        })
        .collect();
    backend.pool().give_frame(input);
    let mut out = Frame::from_bufs(plan.output, planes);
    out.index = index;
    out.pts = pts;
    out
}

impl Pool {
    /// Keeps the samples the input frame still owns (planes not handed on).
    fn give_frame(&mut self, frame: Frame) {
        for samples in frame.into_samples() {
            if !samples.is_empty() {
                self.give(Stage::Codes(samples));
            }
        }
    }
}

/// The work-sample kind of an arithmetic, and the strip buffers of its sample type.
pub(crate) trait Work: Arith {
    const KIND: Kind;

    /// Runs `f` with this thread's strip buffers.
    fn with_scratch<R>(f: impl FnOnce(&mut Scratch<Self::T>) -> R) -> R;
}

thread_local! {
    /// Each worker's strip buffers, kept from strip to strip and frame to frame.
    static SCRATCH_FIXED: RefCell<Scratch<i16>> = RefCell::new(Scratch::default());
    static SCRATCH_FLOAT: RefCell<Scratch<f32>> = RefCell::new(Scratch::default());
}

/// `f` with the buffers in `cell`, or with new ones where they are in use already.
fn scratch<T, R>(cell: &RefCell<Scratch<T>>, f: impl FnOnce(&mut Scratch<T>) -> R) -> R {
    match cell.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    }
}

impl Work for Fixed {
    const KIND: Kind = Kind::Fixed;

    fn with_scratch<R>(f: impl FnOnce(&mut Scratch<i16>) -> R) -> R {
        SCRATCH_FIXED.with(|cell| scratch(cell, f))
    }
}

impl Work for Float {
    const KIND: Kind = Kind::Float;

    fn with_scratch<R>(f: impl FnOnce(&mut Scratch<f32>) -> R) -> R {
        SCRATCH_FLOAT.with(|cell| scratch(cell, f))
    }
}

/// A pass's kernel for one plane, prepared for an arithmetic.
enum Job<A: Arith> {
    Blur {
        h: Option<(A::Taps, usize)>,
        v: Option<(A::Taps, usize)>,
    },
    Unsharp {
        h: Option<(A::Taps, usize)>,
        v: Option<(A::Taps, usize)>,
        amount: f32,
    },
    Convolve {
        size: (usize, usize),
        weights: A::Weights,
        zero: f32,
        bias: f32,
    },
    Gradient(crate::op::Gradient),
    Rank(crate::op::Rank),
    Bilateral(neighbourhood::BilateralWeights),
    Denoise(neighbourhood::DenoiseWeights),
    /// Each axis's table and weights; the horizontal one with the margin its taps reach past
    /// the row's ends.
    Resample {
        h: (Arc<ResampleTable>, Arc<A::Weights>, usize),
        v: (Arc<ResampleTable>, Arc<A::Weights>),
    },
    Remap {
        x0: usize,
        y0: usize,
        out_h: usize,
        flip_h: bool,
        flip_v: bool,
        transpose: bool,
    },
    Warp(crate::op::Warp),
}

impl<A: Arith> Job<A> {
    fn of(backend: &CpuBackend, arith: &A, pass: &Pass, p: usize) -> Job<A> {
        let taps = |w: &[f32]| (w.len() > 1).then(|| (arith.taps(w), w.len() / 2));
        match &pass.kind {
            PassKind::Blur(planes) => {
                let k = planes[p].as_ref().expect("a changed plane has a kernel");
                Job::Blur {
                    h: taps(&k.h),
                    v: taps(&k.v),
                }
            }
            PassKind::Unsharp { planes, amount } => {
                let k = planes[p].as_ref().expect("a changed plane has a kernel");
                Job::Unsharp {
                    h: taps(&k.h),
                    v: taps(&k.v),
                    amount: *amount,
                }
            }
            PassKind::Convolve(planes) => {
                let c = planes[p].as_ref().expect("a changed plane has a kernel");
                let n = (c.width * c.height) as usize;
                Job::Convolve {
                    size: (c.width as usize, c.height as usize),
                    weights: arith.weights(&c.weights, n).expect("checked by `fits`"),
                    zero: c.zero,
                    bias: c.bias,
                }
            }
            PassKind::Gradient(planes) => {
                Job::Gradient(planes[p].expect("a changed plane has a gradient"))
            }
            PassKind::Rank(planes) => Job::Rank(planes[p].expect("a changed plane has a window")),
            PassKind::Bilateral(planes) => Job::Bilateral(neighbourhood::BilateralWeights::new(
                planes[p].expect("a changed plane has a window"),
                arith.frac(),
                pass.input.max_code(),
            )),
            PassKind::Denoise(planes) => Job::Denoise(neighbourhood::DenoiseWeights::new(
                planes[p].expect("a changed plane has a window"),
            )),
            PassKind::Resample(planes) => {
                let r = planes[p].as_ref().expect("every plane is resampled");
                let table =
                    |t: &Arc<ResampleTable>| (Arc::clone(t), backend.prepared().weights(arith, t));
                let (in_w, _) = pass.input.plane_size(p);
                let taps = r.h.taps as i64;
                let reach = |s: &i32| (-(*s as i64)).max(*s as i64 + taps - in_w as i64).max(0);
                let margin = r.h.starts.iter().map(reach).max().unwrap_or(0) as usize;
                let (th, wh) = table(&r.h);
                Job::Resample {
                    h: (th, wh, margin),
                    v: table(&r.v),
                }
            }
            PassKind::Remap {
                flip_h,
                flip_v,
                transpose,
                ..
            } => {
                let (x0, y0) = pass.remap_origin(p);
                Job::Remap {
                    x0: x0 as usize,
                    y0: y0 as usize,
                    out_h: pass.output.plane_size(p).1 as usize,
                    flip_h: *flip_h,
                    flip_v: *flip_v,
                    transpose: *transpose,
                }
            }
            PassKind::Warp(planes) => Job::Warp(planes[p].clone().expect("every plane is warped")),
            PassKind::Pointwise(_) => unreachable!("pointwise passes run in `point`"),
            PassKind::Temporal(_) => unreachable!("temporal passes run in `temporal`"),
        }
    }

    /// The input rows `lo .. hi` that output rows `a .. b` read, for an input `height` rows tall.
    fn input_rows(&self, a: usize, b: usize, height: usize) -> (usize, usize) {
        let around = |r: usize| (a.saturating_sub(r), (b + r).min(height));
        match self {
            Job::Blur { v, .. } | Job::Unsharp { v, .. } => around(v.as_ref().map_or(0, |v| v.1)),
            Job::Convolve { size, .. } => around(size.1 / 2),
            Job::Gradient(_) => around(1),
            Job::Rank(r) => around(r.ry as usize),
            Job::Bilateral(b) => around(b.op.ry as usize),
            Job::Denoise(d) => around((d.op.ry + d.op.py) as usize),
            Job::Resample { v, .. } => {
                let t = &v.0;
                let starts = &t.starts[a..b];
                let lo = starts.iter().copied().min().unwrap_or(0) as i64;
                let hi = starts.iter().copied().max().unwrap_or(0) as i64 + t.taps as i64;
                let lo = lo.clamp(0, height as i64 - 1);
                (lo as usize, hi.clamp(lo + 1, height as i64) as usize)
            }
            // Both read their input themselves ([`warp`]).
            Job::Warp(_)
            | Job::Remap {
                transpose: true, ..
            } => (0, height),
            Job::Remap {
                y0, out_h, flip_v, ..
            } => {
                if *flip_v {
                    (y0 + out_h - b, y0 + out_h - a)
                } else {
                    (y0 + a, y0 + b)
                }
            }
        }
    }
}

/// Computes plane `p` of `pass` from `src` into a new stage of `kind`.
fn run_plane<A: Arith + Work>(
    backend: &CpuBackend,
    arith: A,
    pass: &Pass,
    p: usize,
    src: Source<'_>,
    kind: Kind,
) -> Stage {
    let (ow, oh) = pass.output.plane_size(p);
    let (ow, oh) = (ow as usize, oh as usize);
    let mut stage = backend.pool().take(kind, ow * oh);
    let job = Job::of(backend, &arith, pass, p);
    let max = pass.output.max_code();
    let rows = backend.strip_rows(ow, oh);
    let isa = backend.isa;
    let task = |(i, out): (usize, OutRows)| {
        let first = i * rows;
        let last = (first + rows).min(oh);
        A::with_scratch(|scratch| {
            simd::strip(
                isa,
                &arith,
                &job,
                &src,
                (first, last),
                ow,
                out,
                max,
                scratch,
            )
        });
    };
    for_each_strip(&mut stage, rows * ow, task);
    stage
}

/// Runs `task` on each strip of `chunk` samples of `stage` in parallel, with the strip's index.
fn for_each_strip(stage: &mut Stage, chunk: usize, task: impl Fn((usize, OutRows)) + Sync + Send) {
    match stage {
        Stage::Codes(Samples::U8(v)) => v
            .par_chunks_mut(chunk)
            .map(OutRows::U8)
            .enumerate()
            .for_each(task),
        Stage::Codes(Samples::U16(v)) => v
            .par_chunks_mut(chunk)
            .map(OutRows::U16)
            .enumerate()
            .for_each(task),
        Stage::Fixed(v) => v
            .par_chunks_mut(chunk)
            .map(OutRows::Fixed)
            .enumerate()
            .for_each(task),
        Stage::Float(v) => v
            .par_chunks_mut(chunk)
            .map(OutRows::Float)
            .enumerate()
            .for_each(task),
        Stage::Input(_) | Stage::Gone => unreachable!("the pool makes buffers"),
    }
}

/// The buffers a strip works in, kept by each worker thread from strip to strip and frame to
/// frame ([`Work::with_scratch`]), so that a steady stream of frames neither allocates nor
/// clears them.
pub(crate) struct Scratch<T> {
    /// The input rows a strip reads, where they are converted.
    window: Vec<T>,
    /// A row with its edges replicated.
    pad: Vec<T>,
    /// `i32` sums of a row.
    acc: Vec<i32>,
    /// Rows between a kernel's steps.
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
}

impl<T> Default for Scratch<T> {
    fn default() -> Self {
        Scratch {
            window: Vec::new(),
            pad: Vec::new(),
            acc: Vec::new(),
            a: Vec::new(),
            b: Vec::new(),
            c: Vec::new(),
        }
    }
}

/// Samples a padded row of a horizontal resample carries past its right margin: vector
/// kernels read whole groups of taps, up to 7 samples past an output's last one.
const RESAMPLE_SLACK: usize = 16;

/// Output rows `first .. last` of `job` on `src`, `width` samples a row, into `out`; `max` is
/// the largest code. Compiled once per build of the kernels (see [`simd::strip`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn strip<A: Arith>(
    arith: &A,
    job: &Job<A>,
    src: &Source<'_>,
    (first, last): (usize, usize),
    width: usize,
    mut out: OutRows<'_>,
    max: u32,
    scratch: &mut Scratch<A::T>,
) {
    if let Job::Warp(w) = job {
        let a = &mut scratch.a;
        a.resize(width, A::T::default());
        let mut row = vec![0.0f32; width];
        warp::with_reader(src, arith.frac(), max, |reader| {
            for (i, y) in (first..last).enumerate() {
                warp::warp_row(w, reader, y, &mut row);
                for (o, &v) in a.iter_mut().zip(&row) {
                    *o = arith.from_code(v);
                }
                arith.store(&a[..width], out.row(i, width), max);
            }
        });
        return;
    }
    if let Job::Remap {
        x0,
        y0,
        out_h,
        flip_h,
        flip_v,
        transpose: true,
    } = job
    {
        let at = (*x0, *y0);
        let size = (width, *out_h);
        let flips = (*flip_h, *flip_v);
        match (src, &mut out) {
            (Source::U8(p), OutRows::U8(o)) => {
                let m = max as u8;
                for (y, o) in (first..last).zip(o.chunks_exact_mut(width)) {
                    warp::transposed_row(p, at, size, flips, y, o, |v| v.min(m));
                }
            }
            (Source::U16(p), OutRows::U16(o)) => {
                let m = max as u16;
                for (y, o) in (first..last).zip(o.chunks_exact_mut(width)) {
                    warp::transposed_row(p, at, size, flips, y, o, |v| v.min(m));
                }
            }
            _ => {
                let mut codes = vec![0.0f32; width];
                let a = &mut scratch.a;
                a.resize(width, A::T::default());
                warp::with_reader(src, arith.frac(), max, |reader| {
                    for (i, y) in (first..last).enumerate() {
                        let column = at.0 + if flips.1 { size.1 - 1 - y } else { y };
                        for (x, c) in codes.iter_mut().enumerate() {
                            let fx = if flips.0 { width - 1 - x } else { x };
                            *c = reader.at(column, at.1 + fx);
                        }
                        for (o, &v) in a.iter_mut().zip(&codes) {
                            *o = arith.from_code(v);
                        }
                        arith.store(&a[..width], out.row(i, width), max);
                    }
                });
            }
        }
        return;
    }
    if let Job::Remap {
        x0,
        y0,
        out_h,
        flip_h,
        flip_v,
        transpose: false,
    } = job
    {
        // Codes moved into codes of the same depth need no conversion: they come out as
        // converting them to work samples and back would leave them.
        let source_row = |y: usize| y0 + if *flip_v { out_h - 1 - y } else { y };
        match (src, &mut out) {
            (Source::U8(p), OutRows::U8(o)) => {
                for (y, o) in (first..last).zip(o.chunks_exact_mut(width)) {
                    move_codes(p.row(source_row(y)), *x0, *flip_h, max as u8, o);
                }
                return;
            }
            (Source::U16(p), OutRows::U16(o)) => {
                for (y, o) in (first..last).zip(o.chunks_exact_mut(width)) {
                    move_codes(p.row(source_row(y)), *x0, *flip_h, max as u16, o);
                }
                return;
            }
            _ => {}
        }
    }
    let (in_w, in_h) = src.size();
    let (lo, hi) = job.input_rows(first, last, in_h);
    let Scratch {
        window,
        pad,
        acc,
        a,
        b,
        c,
    } = scratch;
    let rows = arith.window(src, lo, hi, window);
    if let Job::Denoise(d) = job {
        let mut codes = vec![0.0f32; (last - first) * width];
        neighbourhood::denoise(arith, &rows, (first, last), in_h, d, &mut codes);
        a.resize(width, A::T::default());
        for (i, line) in codes.chunks_exact(width).enumerate() {
            for (o, &v) in a.iter_mut().zip(line) {
                *o = arith.from_code(v);
            }
            arith.store(&a[..width], out.row(i, width), max);
        }
        return;
    }
    for row in [&mut *a, &mut *b, &mut *c] {
        row.resize(in_w.max(width), A::T::default());
    }
    let (a, b, c, pad, acc) = (&mut a[..], &mut b[..], &mut c[..], pad, acc);
    // A blur of row y: vertical taps into `a`, horizontal into `b`; the result is in one of
    // them or the input row itself.
    let blur = |y: usize,
                h: &Option<(A::Taps, usize)>,
                v: &Option<(A::Taps, usize)>,
                a: &mut [A::T],
                b: &mut [A::T],
                pad: &mut Vec<A::T>|
     -> bool {
        let vertical = match v {
            Some((taps, _)) => {
                arith.blur_v(&rows, y, taps, &mut a[..in_w]);
                true
            }
            None => false,
        };
        match h {
            Some((taps, r)) => {
                let row: &[A::T] = if vertical {
                    &a[..in_w]
                } else {
                    rows.row(y as isize)
                };
                pad_row(row, *r, pad);
                arith.blur_h(pad, taps, &mut b[..in_w]);
                true
            }
            None => {
                if !vertical {
                    a[..in_w].copy_from_slice(rows.row(y as isize));
                }
                false
            }
        }
    };
    // The sorted windows of a median, kept from row to row.
    let mut nth = neighbourhood::NthScratch::default();
    for (i, y) in (first..last).enumerate() {
        let result: &[A::T] = match job {
            Job::Blur { h, v } => {
                if blur(y, h, v, a, b, pad) {
                    &b[..width]
                } else {
                    &a[..width]
                }
            }
            Job::Unsharp { h, v, amount } => {
                let blurred: &[A::T] = if blur(y, h, v, a, b, pad) {
                    &b[..width]
                } else {
                    &a[..width]
                };
                arith.unsharp(rows.row(y as isize), blurred, *amount, &mut c[..width]);
                &c[..width]
            }
            Job::Convolve {
                size,
                weights,
                zero,
                bias,
            } => {
                arith.convolve(
                    &rows,
                    y,
                    *size,
                    weights,
                    *zero,
                    *bias,
                    &mut a[..width],
                    pad,
                    acc,
                );
                &a[..width]
            }
            Job::Gradient(g) => {
                neighbourhood::gradient(arith, &rows, y, g, &mut a[..width]);
                &a[..width]
            }
            Job::Bilateral(bl) => {
                neighbourhood::bilateral(arith, &rows, y, bl, &mut a[..width]);
                &a[..width]
            }
            Job::Denoise(_) => unreachable!("denoise returns above"),
            Job::Rank(r) => {
                let (rx, ry) = (r.rx as usize, r.ry as usize);
                if let RankOf::Nth(k) = r.of {
                    let k = k as usize;
                    neighbourhood::rank_nth(&rows, y, (rx, ry), k, &mut nth, &mut a[..width]);
                    &a[..width]
                } else {
                    let max = r.of == RankOf::Max;
                    let row: &[A::T] = if ry > 0 {
                        neighbourhood::rank_v(&rows, y, ry, max, &mut a[..width]);
                        &a[..width]
                    } else {
                        rows.row(y as isize)
                    };
                    neighbourhood::rank_h(row, rx, max, pad, &mut b[..width]);
                    &b[..width]
                }
            }
            Job::Resample { h, v } => {
                let (tv, wv) = v;
                arith.resample_v(
                    &rows,
                    y,
                    tv.starts[y],
                    wv,
                    tv.taps as usize,
                    &mut a[..in_w],
                    acc,
                );
                let (th, wh, margin) = h;
                pad_row(&a[..in_w], *margin, pad);
                pad.resize(pad.len() + RESAMPLE_SLACK, A::T::default());
                let taps = th.taps as usize;
                arith.resample_h(pad, *margin, &th.starts, wh, taps, &mut b[..width]);
                &b[..width]
            }
            Job::Warp(_)
            | Job::Remap {
                transpose: true, ..
            } => unreachable!("warps and transposed moves return above"),
            Job::Remap {
                x0,
                y0,
                out_h,
                flip_h,
                flip_v,
                transpose: false,
            } => {
                let sy = y0 + if *flip_v { out_h - 1 - y } else { y };
                let row = rows.row(sy as isize);
                if *flip_h {
                    let row = row[*x0..x0 + width].iter().rev();
                    for (o, &s) in a[..width].iter_mut().zip(row) {
                        *o = s;
                    }
                } else {
                    a[..width].copy_from_slice(&row[*x0..x0 + width]);
                }
                &a[..width]
            }
        };
        arith.store(result, out.row(i, width), max);
    }
}

/// Codes `x0 ..` of `row` into `out`, mirrored where `flip`, codes above `max` (damaged data)
/// taken as `max`, as the arithmetics' conversions take them.
#[inline(always)]
fn move_codes<T: Copy + Ord>(row: &[T], x0: usize, flip: bool, max: T, out: &mut [T]) {
    let row = &row[x0..x0 + out.len()];
    if flip {
        for (o, &s) in out.iter_mut().zip(row.iter().rev()) {
            *o = s.min(max);
        }
    } else {
        for (o, &s) in out.iter_mut().zip(row) {
            *o = s.min(max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Chain;
    use crate::frame::{Colour, Layout, Matrix};

    /// Crops and flips move codes as they are, on every depth, with codes above the depth's
    /// largest (damaged data) taken as the largest, as the arithmetics' conversions take them.
    #[test]
    fn crops_and_flips_move_codes_exactly() {
        let video = Colour::video(Matrix::Bt709, false);
        for bits in [8u8, 10, 16] {
            let format = Format::new(37, 9, Layout::YUV420, bits, video);
            let mut frame = Frame::new(format);
            let code = |p: usize, x: usize, y: usize| {
                let c = (p * 1000 + y * 37 + x) as u32 * 7 % 1400;
                if bits == 8 {
                    c % 256
                } else {
                    c
                }
            };
            for p in 0..format.planes() {
                let (w, h) = format.plane_size(p);
                for y in 0..h as usize {
                    for x in 0..w as usize {
                        if bits == 8 {
                            frame.plane8_mut(p).row(y)[x] = code(p, x, y) as u8;
                        } else {
                            frame.plane16_mut(p).row(y)[x] = code(p, x, y) as u16;
                        }
                    }
                }
            }
            let max = format.max_code();
            let chain = Chain::parse("crop(2, 2, 30, 6) | hflip | vflip").unwrap();
            let plan = crate::plan::compile(&chain, &format).unwrap();
            for isa in [Isa::Portable, Isa::detect()] {
                let out = CpuBackend::with_isa(isa)
                    .process(&plan, frame.clone())
                    .unwrap();
                for p in 0..format.planes() {
                    let (w, h) = out.format.plane_size(p);
                    let (sx, sy) = format.layout.shift(p);
                    let (x0, y0) = (2 >> sx, 2 >> sy);
                    for y in 0..h as usize {
                        for x in 0..w as usize {
                            let (fx, fy) = (x0 + w as usize - 1 - x, y0 + h as usize - 1 - y);
                            let want = code(p, fx, fy).min(max);
                            let got = out.plane(p).get(x, y);
                            assert_eq!(got, want, "{bits}-bit plane {p} at ({x}, {y})");
                        }
                    }
                }
            }
        }
    }

    /// A crop before a blur hands the blur the codes it would read from a frame cropped
    /// beforehand, and a crop between two blurs keeps the first one's extra precision: both
    /// come out as the same chains run in two steps, the rounding between them aside.
    #[test]
    fn crops_inside_chains_lose_nothing() {
        let video = Colour::video(Matrix::Bt709, false);
        let format = Format::new(48, 20, Layout::YUV420, 8, video);
        let mut frame = Frame::new(format);
        for p in 0..3 {
            let (w, h) = format.plane_size(p);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    frame.plane8_mut(p).row(y)[x] = ((x * 37 + y * 11 + p * 50) % 220 + 16) as u8;
                }
            }
        }
        let run = |chain: &str, frame: &Frame| {
            let chain = Chain::parse(chain).unwrap();
            let plan = crate::plan::compile(&chain, &frame.format).unwrap();
            CpuBackend::new().process(&plan, frame.clone()).unwrap()
        };
        let cropped = run("crop(4, 2, 36, 14)", &frame);
        assert_eq!(
            run("crop(4, 2, 36, 14) | gblur(sigma=1.5)", &frame)
                .plane_diffs(&run("gblur(sigma=1.5)", &cropped)),
            Some(vec![0; 3]),
            "a crop of codes feeds the blur its codes"
        );
        // Blurred twice with the crop between, the intermediate kept unrounded, against the
        // same with the intermediate rounded to 8 bits: close, but not equal.
        let whole = run(
            "gblur(sigma=1.5) | crop(4, 2, 36, 14) | gblur(sigma=1.5)",
            &frame,
        );
        let stepped = run(
            "gblur(sigma=1.5)",
            &run("crop(4, 2, 36, 14)", &run("gblur(sigma=1.5)", &frame)),
        );
        let diffs = whole.plane_diffs(&stepped).unwrap();
        assert!(diffs.iter().all(|&d| d <= 1), "{diffs:?}");
        // Were the crop to round, the two would be equal.
        assert!(diffs.contains(&1), "{diffs:?}");
    }
}
