//! Runs plans on the device: pipelines, per-plan GPU state, a ring of frames in flight, one
//! command buffer per frame.
//!
//! Pipelines are built once per [`KernelKey`] and cached. Everything a plan needs on the GPU
//! (frame buffers from the pool, weights and resample tables, uniforms, bind groups) is built the
//! first time the plan is seen and reused while later frames come with an equal plan, so a
//! steady stream of frames uploads its pixels, rewrites only parameters that changed, and
//! allocates nothing. A frame is: its samples written into a mapped upload buffer, then one
//! command buffer (a copy into the upload frame, every pass as one dispatch over the whole frame,
//! two for unsharp, a copy into a mappable read-back buffer), submitted without waiting, and a
//! `map_async` of the read-back buffer; later, the read-back into the frame's own sample vector.
//!
//! Buffers of a plan: the upload (the frame's depth), two rgba16 intermediates used in turn,
//! a scratch rgba16 frame for unsharp's horizontal blur, the output (the frame's depth), and a
//! ring of up to [`IN_FLIGHT`] slots, each a mappable upload and read-back buffer at the frame's
//! depth, made the first time that many frames are in flight (so `process` alone uses one).
//! Only the buffers the CPU touches are per slot: the queue runs submissions in order and wgpu
//! orders their accesses, so frames in flight share the frames, uniforms and parameters on the
//! GPU (a parameter rewritten for frame k+1 lands after frame k's passes), while frame k-1's
//! read-back stays mapped and frame k+1's upload is written as frame k computes.
//!
//! Frames in flight wait in submission order, each with its own sample vector (so memory stays
//! at [`IN_FLIGHT`] frames). The device is polled only when a result is needed: when every slot
//! is taken (waiting for the oldest), in [`Executor::finish`], and for `process`. Otherwise a
//! frame comes back early only when its read-back is already mapped, which wgpu notices on each
//! submit. A plan change first reads back every frame in flight; their results wait, in order,
//! for the next calls.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::context::{scoped, Context};
use super::pool::{BufferKind, BufferPool, PooledBuffer};
use super::shaders::{self, Format, Kernel, KernelKey, PointFn};
use crate::backend::BackendError;
use crate::frame::{Frame, Pixels};
use crate::plan::{point_params, Axis, Pass, PassKind, Plan, ResampleTable};

/// Plans whose GPU state is kept: a video uses one, a batch of photos one per size.
pub(crate) const PLAN_CACHE: usize = 4;
/// Frame-buffer bytes that states of plans other than the newest may keep.
const PLAN_BYTES: u64 = 1 << 30;
/// Invocations per workgroup side (every kernel is `@workgroup_size(16, 16)`).
const GROUP: u32 = 16;
/// Frames in flight. Three, not two: with two, the wait for frame k-2 leaves only frame k-1
/// queued, and the GPU idles whenever the decoder hands over frame k late; a third queued frame
/// absorbs that jitter. More buys nothing on one queue and costs a frame of memory each.
pub(crate) const IN_FLIGHT: usize = 3;

/// `PassInfo` of `shaders/common.wgsl`: sizes and scalar parameters of one pass.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
struct PassInfo {
    in_size: [u32; 2],
    out_size: [u32; 2],
    origin: [i32; 2],
    taps: u32,
    rows: u32,
    flags: u32,
    weights_at: u32,
    scalar: f32,
    pad: u32,
}

const INFO_SIZE: u64 = std::mem::size_of::<PassInfo>() as u64;

/// Data a pass shares with the plan it came from: equal when the same allocation or equal values.
#[derive(Clone, Debug)]
enum Shared {
    None,
    Weights(Arc<Vec<f32>>),
    Table(Arc<ResampleTable>),
}

impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        match (self, other) {
            (Shared::None, Shared::None) => true,
            (Shared::Weights(a), Shared::Weights(b)) => Arc::ptr_eq(a, b) || a == b,
            (Shared::Table(a), Shared::Table(b)) => Arc::ptr_eq(a, b) || a == b,
            _ => false,
        }
    }
}

/// What a pass's GPU state depends on; its scalar parameters are rewritten per frame instead.
#[derive(Clone, Debug, PartialEq)]
struct PassKey {
    kernel: Kernel,
    input: (u32, u32),
    output: (u32, u32),
    shared: Shared,
}

impl PassKey {
    fn of(pass: &Pass) -> PassKey {
        let (kernel, shared) = match &pass.kind {
            PassKind::Pointwise(ops) => (
                Kernel::Pointwise(ops.iter().map(PointFn::of).collect()),
                Shared::None,
            ),
            PassKind::Convolve1D {
                axis,
                weights,
                alpha,
            } => (
                Kernel::convolve_1d(*axis, *alpha, weights.len()),
                Shared::Weights(weights.clone()),
            ),
            PassKind::Convolve2D {
                width,
                height,
                weights,
                ..
            } => (
                Kernel::convolve_2d(*width, *height),
                Shared::Weights(weights.clone()),
            ),
            PassKind::Unsharp { weights, .. } => (
                Kernel::unsharp_combine(weights.len()),
                Shared::Weights(weights.clone()),
            ),
            PassKind::Resample1D { axis, table } => (
                Kernel::Resample { axis: *axis },
                Shared::Table(table.clone()),
            ),
            PassKind::Remap { .. } => (Kernel::Remap, Shared::None),
        };
        PassKey {
            kernel,
            input: pass.input,
            output: pass.output,
            shared,
        }
    }

    /// `PassKey::of(pass) == *self`, without building a key.
    fn matches(&self, pass: &Pass) -> bool {
        if self.input != pass.input || self.output != pass.output {
            return false;
        }
        let weights_eq = |w: &Arc<Vec<f32>>| self.shared == Shared::Weights(w.clone());
        match (&self.kernel, &pass.kind) {
            (Kernel::Pointwise(fns), PassKind::Pointwise(ops)) => {
                fns.len() == ops.len() && fns.iter().zip(ops).all(|(f, op)| f.matches(op))
            }
            // The stencils' kernels compare whole: tiled or not depends on the kernel's size.
            (
                Kernel::Convolve1D { .. },
                PassKind::Convolve1D {
                    axis,
                    weights,
                    alpha,
                },
            ) => {
                self.kernel == Kernel::convolve_1d(*axis, *alpha, weights.len())
                    && weights_eq(weights)
            }
            (
                Kernel::Convolve2D { .. },
                PassKind::Convolve2D {
                    width,
                    height,
                    weights,
                    ..
                },
            ) => self.kernel == Kernel::convolve_2d(*width, *height) && weights_eq(weights),
            (Kernel::UnsharpCombine { .. }, PassKind::Unsharp { weights, .. }) => {
                self.kernel == Kernel::unsharp_combine(weights.len()) && weights_eq(weights)
            }
            (Kernel::Resample { axis }, PassKind::Resample1D { axis: a, table }) => {
                axis == a && self.shared == Shared::Table(table.clone())
            }
            (Kernel::Remap, PassKind::Remap { .. }) => true,
            _ => false,
        }
    }
}

/// The parameters of `pass` as its kernel reads them.
fn pass_info(pass: &Pass) -> PassInfo {
    let mut info = PassInfo {
        in_size: [pass.input.0, pass.input.1],
        out_size: [pass.output.0, pass.output.1],
        ..PassInfo::default()
    };
    match &pass.kind {
        PassKind::Pointwise(ops) => info.taps = ops.len() as u32,
        PassKind::Convolve1D { weights, .. } => info.taps = weights.len() as u32,
        PassKind::Convolve2D {
            width,
            height,
            bias,
            ..
        } => {
            info.taps = *width;
            info.rows = *height;
            info.scalar = *bias;
        }
        PassKind::Unsharp { weights, amount } => {
            info.taps = weights.len() as u32;
            info.scalar = *amount;
        }
        PassKind::Resample1D { table, .. } => {
            info.taps = table.taps;
            info.weights_at = table.starts.len() as u32;
        }
        PassKind::Remap {
            x0,
            y0,
            flip_h,
            flip_v,
        } => {
            info.origin = [*x0 as i32, *y0 as i32];
            info.flags = *flip_h as u32 | (*flip_v as u32) << 1;
        }
    }
    info
}

/// Rejects a pass whose data does not fit its sizes, which would make a kernel read garbage.
fn check_pass(pass: &Pass, expected_input: (u32, u32)) -> Result<(), String> {
    if pass.input != expected_input {
        return Err(format!(
            "pass input {:?} does not follow the previous output {expected_input:?}",
            pass.input
        ));
    }
    let odd = |n: usize| n % 2 == 1;
    let ok = match &pass.kind {
        PassKind::Pointwise(_) => pass.input == pass.output,
        PassKind::Convolve1D { weights, .. } | PassKind::Unsharp { weights, .. } => {
            odd(weights.len()) && pass.input == pass.output
        }
        PassKind::Convolve2D {
            width,
            height,
            weights,
            ..
        } => {
            odd(*width as usize)
                && odd(*height as usize)
                && weights.len() == *width as usize * *height as usize
                && pass.input == pass.output
        }
        PassKind::Resample1D { axis, table } => {
            let (along, across) = match axis {
                Axis::Horizontal => ((pass.output.0, pass.input.0), (pass.output.1, pass.input.1)),
                Axis::Vertical => ((pass.output.1, pass.input.1), (pass.output.0, pass.input.0)),
            };
            table.taps > 0
                && across.0 == across.1
                && table.starts.len() == along.0 as usize
                && table.weights.len() == along.0 as usize * table.taps as usize
        }
        PassKind::Remap { x0, y0, .. } => {
            x0.checked_add(pass.output.0)
                .is_some_and(|r| r <= pass.input.0)
                && y0
                    .checked_add(pass.output.1)
                    .is_some_and(|b| b <= pass.input.1)
        }
    };
    let empty = pass.output.0 == 0 || pass.output.1 == 0;
    if ok && !empty {
        Ok(())
    } else {
        Err(format!(
            "pass does not fit its sizes {:?} -> {:?}: {:?}",
            pass.input, pass.output, pass.kind
        ))
    }
}

/// The bytes of `data` a pass's kernel reads, other than pointwise parameters.
fn static_data(kind: &PassKind) -> Option<Vec<u8>> {
    match kind {
        PassKind::Convolve1D { weights, .. }
        | PassKind::Convolve2D { weights, .. }
        | PassKind::Unsharp { weights, .. } => {
            Some(bytemuck::cast_slice(weights.as_slice()).to_vec())
        }
        PassKind::Resample1D { table, .. } => {
            let mut bytes = bytemuck::cast_slice(&table.starts).to_vec();
            bytes.extend_from_slice(bytemuck::cast_slice(&table.weights));
            Some(bytes)
        }
        PassKind::Pointwise(_) | PassKind::Remap { .. } => None,
    }
}

/// Where a frame lives during one run of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Upload,
    Inter(usize),
    Scratch,
    Output,
}

struct Dispatch {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    groups: (u32, u32),
}

/// Pointwise parameters of one pass, as last written to its buffer. Their number is fixed by
/// the pass's kernel (a pixel op's uniforms by its program), so a buffer fits every plan the
/// state matches.
struct PointParams {
    pass: usize,
    buffer: wgpu::Buffer,
    written: Vec<[f32; 4]>,
    /// The next frame's parameters, compared with `written` (kept to allocate nothing).
    next: Vec<[f32; 4]>,
}

/// What the callback of a buffer's last `map_async` said, if it has run.
const MAP_PENDING: u8 = 0;
const MAP_DONE: u8 = 1;
const MAP_FAILED: u8 = 2;

/// A buffer the CPU maps, and the state of its last map request.
struct Mappable {
    pooled: PooledBuffer,
    mode: wgpu::MapMode,
    /// Written by the map callback: one of `MAP_*`. Made once, so a request allocates nothing
    /// of ours.
    state: Arc<AtomicU8>,
    /// A map was asked for and not undone by `unmap` since.
    requested: bool,
}

impl Mappable {
    fn new(pooled: PooledBuffer, mode: wgpu::MapMode) -> Mappable {
        Mappable {
            pooled,
            mode,
            state: Arc::new(AtomicU8::new(MAP_PENDING)),
            requested: false,
        }
    }

    fn buffer(&self) -> &wgpu::Buffer {
        &self.pooled.buffer
    }

    /// Asks for the first `bytes` to be mapped once the GPU is done with the buffer; a second
    /// request before `unmap` is a no-op.
    fn request(&mut self, bytes: u64) {
        if self.requested {
            return;
        }
        self.requested = true;
        self.state.store(MAP_PENDING, Ordering::Release);
        let state = self.state.clone();
        self.pooled
            .buffer
            .map_async(self.mode, ..bytes, move |result| {
                let done = if result.is_ok() { MAP_DONE } else { MAP_FAILED };
                state.store(done, Ordering::Release);
            });
    }

    /// `MAP_PENDING` until the requested map's callback has run, then what it said.
    fn state(&self) -> u8 {
        if self.requested {
            self.state.load(Ordering::Acquire)
        } else {
            MAP_PENDING
        }
    }

    fn unmap(&mut self) {
        if self.requested {
            self.pooled.buffer.unmap();
            self.requested = false;
        }
    }

    /// The buffer, unmapped, for the pool.
    fn into_pooled(mut self) -> PooledBuffer {
        self.unmap();
        self.pooled
    }
}

/// The buffers of one frame in flight that the CPU touches while the GPU works on others.
struct RingSlot {
    /// Mapped while the slot is free; the frame's samples are written here and copied into the
    /// plan's upload frame by the frame's command buffer.
    upload: Mappable,
    /// The copy of the plan's output, mapped once the frame's work is done.
    readback: Mappable,
    /// The last submission that used the slot.
    submission: Option<wgpu::SubmissionIndex>,
}

/// A frame submitted and not yet handed back.
struct InFlight {
    /// The frame as submitted while `slot` is some, its result after.
    frame: Frame,
    /// The ring slot, of the ring plan's state, that the frame's work uses; `None` once the
    /// result is in `frame`.
    slot: Option<usize>,
}

/// Everything one plan needs on the GPU, kept while equal plans keep coming.
struct PlanState {
    format: Format,
    input: (u32, u32),
    output: (u32, u32),
    passes: Vec<PassKey>,
    frames: Vec<(Slot, PooledBuffer)>,
    /// Made on first use, up to [`IN_FLIGHT`].
    ring: Vec<RingSlot>,
    upload_bytes: u64,
    output_bytes: u64,
    uniforms: wgpu::Buffer,
    uniform_stride: u64,
    infos: Vec<PassInfo>,
    params: Vec<PointParams>,
    dispatches: Vec<Dispatch>,
    last_used: u64,
}

impl PlanState {
    fn matches(&self, plan: &Plan, format: Format) -> bool {
        self.format == format
            && self.input == plan.input
            && self.passes.len() == plan.passes.len()
            && self
                .passes
                .iter()
                .zip(&plan.passes)
                .all(|(k, p)| k.matches(p))
    }

    /// Bytes of frame buffers the state holds.
    fn bytes(&self) -> u64 {
        let frames: u64 = self.frames.iter().map(|(_, b)| b.buffer.size()).sum();
        let ring: u64 = self
            .ring
            .iter()
            .map(|r| r.upload.buffer().size() + r.readback.buffer().size())
            .sum();
        frames + ring
    }

    fn buffer(&self, slot: Slot) -> &wgpu::Buffer {
        let (_, b) = self
            .frames
            .iter()
            .find(|(s, _)| *s == slot)
            .expect("slot allocated");
        &b.buffer
    }
}

/// Bind group layouts: every kernel binds src, dst, info and data; unsharp's second half adds base.
struct Layouts {
    plain: wgpu::BindGroupLayout,
    based: wgpu::BindGroupLayout,
    plain_pipeline: wgpu::PipelineLayout,
    based_pipeline: wgpu::PipelineLayout,
}

impl Layouts {
    fn new(device: &wgpu::Device) -> Layouts {
        let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let uniform = wgpu::BindGroupLayoutEntry {
            binding: 2,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: NonZeroU64::new(INFO_SIZE),
            },
            count: None,
        };
        let plain_entries = [
            storage(0, true),
            storage(1, false),
            uniform,
            storage(3, true),
        ];
        let based_entries = [
            storage(0, true),
            storage(1, false),
            uniform,
            storage(3, true),
            storage(4, true),
        ];
        let plain = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tessera pass"),
            entries: &plain_entries,
        });
        let based = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("tessera pass with base"),
            entries: &based_entries,
        });
        let pipeline_layout = |layout: &wgpu::BindGroupLayout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            })
        };
        let plain_pipeline = pipeline_layout(&plain);
        let based_pipeline = pipeline_layout(&based);
        Layouts {
            plain,
            based,
            plain_pipeline,
            based_pipeline,
        }
    }
}

/// Counts for tests that check steady-state reuse.
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stats {
    pub pipelines: usize,
    pub buffers_created: u64,
    pub plans_built: u64,
    pub plans_kept: usize,
}

pub(crate) struct Executor {
    pub ctx: Context,
    layouts: Layouts,
    pipelines: HashMap<KernelKey, wgpu::ComputePipeline>,
    pool: BufferPool,
    plans: Vec<PlanState>,
    plans_built: u64,
    clock: u64,
    /// Bound where a kernel reads no `data`.
    empty: wgpu::Buffer,
    /// Frames submitted and not yet handed back, oldest first.
    in_flight: VecDeque<InFlight>,
    /// The state whose ring the frames on the GPU use.
    ring_plan: Option<usize>,
}

impl Executor {
    pub(crate) fn new(ctx: Context) -> Executor {
        let layouts = Layouts::new(&ctx.device);
        let empty = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tessera empty data"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Executor {
            ctx,
            layouts,
            pipelines: HashMap::new(),
            pool: BufferPool::new(),
            plans: Vec::new(),
            plans_built: 0,
            clock: 0,
            empty,
            in_flight: VecDeque::with_capacity(IN_FLIGHT + 1),
            ring_plan: None,
        }
    }

    #[cfg(test)]
    pub(crate) fn stats(&self) -> Stats {
        Stats {
            pipelines: self.pipelines.len(),
            buffers_created: self.pool.created,
            plans_built: self.plans_built,
            plans_kept: self.plans.len(),
        }
    }

    /// Frames submitted and not yet handed back.
    #[cfg(test)]
    pub(crate) fn frames_held(&self) -> usize {
        self.in_flight.len()
    }

    /// Ring slots made so far for the plan frames are in flight for (each one an upload and a
    /// read-back buffer).
    #[cfg(test)]
    pub(crate) fn ring_slots(&self) -> usize {
        self.ring_plan
            .and_then(|i| self.plans.get(i))
            .map_or(0, |p| p.ring.len())
    }

    /// Runs every pass of `plan` (at least one) on `frame` and waits for the result, which
    /// reuses the frame's sample vector. Frames in flight stay in flight.
    pub(crate) fn run(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        let result = self.start(plan, frame).and_then(|()| {
            let newest = self.in_flight.len().saturating_sub(1);
            self.settle(newest)?;
            self.in_flight
                .pop_back()
                .map(|f| f.frame)
                .ok_or_else(|| BackendError::Gpu("a started frame went missing".into()))
        });
        self.forget_on_gpu_error(result)
    }

    /// Starts `frame` through `plan` (its size already checked) and returns the oldest frame
    /// whose result is in, if one is: see [`crate::backend::Backend::submit`].
    pub(crate) fn submit(
        &mut self,
        plan: &Plan,
        frame: Frame,
    ) -> Result<Option<Frame>, BackendError> {
        let started = if plan.passes.is_empty() {
            // Nothing to run. Like any plan change this reads back the frames in flight first;
            // the frame, done as it is, then waits its turn behind them.
            self.drain().map(|()| {
                self.in_flight.push_back(InFlight { frame, slot: None });
            })
        } else {
            self.start(plan, frame)
        };
        let result = started.and_then(|()| self.oldest(false));
        self.forget_on_gpu_error(result)
    }

    /// The oldest frame in flight, waited for; `None` when there is none.
    pub(crate) fn finish(&mut self) -> Result<Option<Frame>, BackendError> {
        let result = self.oldest(true);
        self.forget_on_gpu_error(result)
    }

    fn forget_on_gpu_error<T>(
        &mut self,
        result: Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        if let Err(BackendError::Gpu(_)) = result {
            // GPU state touched by a failed frame is not trusted again, and the frames in flight
            // go with it; pipelines stay (each was cached only after it compiled cleanly).
            self.plans.clear();
            self.in_flight.clear();
            self.ring_plan = None;
        }
        result
    }

    /// Starts `frame` through `plan` (at least one pass) in a free ring slot, after reading back
    /// every frame in flight if the plan changed, or the oldest if every slot is taken.
    fn start(&mut self, plan: &Plan, frame: Frame) -> Result<(), BackendError> {
        let format = Format::of(frame.depth());
        if let Some(s) = self.ring_plan {
            if self.plans.get(s).is_none_or(|p| !p.matches(plan, format)) {
                self.drain()?;
            }
        }
        let on_gpu = self.in_flight.iter().filter(|f| f.slot.is_some()).count();
        if on_gpu >= IN_FLIGHT {
            let oldest = self.in_flight.iter().position(|f| f.slot.is_some());
            self.settle(oldest.unwrap_or(0))?;
        }
        let device = self.ctx.device.clone();
        let (state, slot) = scoped(&device, || {
            let state = self.state_for(plan, format)?;
            let slot = self.free_slot(state)?;
            self.encode(state, slot, plan, &frame)?;
            Ok((state, slot))
        })?;
        self.ctx.take_stray_errors()?;
        self.ring_plan = Some(state);
        self.in_flight.push_back(InFlight {
            frame,
            slot: Some(slot),
        });
        Ok(())
    }

    /// A ring slot of `state` that no frame on the GPU uses, made if every one made is taken.
    fn free_slot(&mut self, state: usize) -> Result<usize, BackendError> {
        let in_flight = &self.in_flight;
        let taken = |i: usize| in_flight.iter().any(|f| f.slot == Some(i));
        let made = self.plans[state].ring.len();
        if let Some(i) = (0..made).find(|&i| !taken(i)) {
            return Ok(i);
        }
        if made >= IN_FLIGHT {
            return Err(BackendError::Gpu(format!(
                "every one of the {IN_FLIGHT} frames in flight is taken"
            )));
        }
        let device = self.ctx.device.clone();
        let limit = self.ctx.max_binding();
        let (upload_bytes, output_bytes) = {
            let s = &self.plans[state];
            (s.upload_bytes, s.output_bytes)
        };
        let upload = self
            .pool
            .take(&device, BufferKind::Upload, upload_bytes, limit);
        let readback = self
            .pool
            .take(&device, BufferKind::Staging, output_bytes, limit);
        self.plans[state].ring.push(RingSlot {
            upload: Mappable::new(upload, wgpu::MapMode::Write),
            readback: Mappable::new(readback, wgpu::MapMode::Read),
            submission: None,
        });
        Ok(made)
    }

    /// The oldest frame in flight once its result is in: waited for when `wait`, otherwise
    /// only if its read-back is already mapped.
    fn oldest(&mut self, wait: bool) -> Result<Option<Frame>, BackendError> {
        let Some(front) = self.in_flight.front() else {
            return Ok(None);
        };
        if let Some(slot) = front.slot {
            let mapped = self
                .ring_plan
                .and_then(|s| self.plans.get(s))
                .and_then(|p| p.ring.get(slot))
                .is_some_and(|r| r.readback.state() != MAP_PENDING);
            if !wait && !mapped {
                return Ok(None);
            }
            self.settle(0)?;
        }
        Ok(self.in_flight.pop_front().map(|f| f.frame))
    }

    /// Reads back every frame on the GPU; the results wait, in order, to be handed back.
    fn drain(&mut self) -> Result<(), BackendError> {
        for i in 0..self.in_flight.len() {
            self.settle(i)?;
        }
        self.ring_plan = None;
        Ok(())
    }

    /// Waits for the frame at `i` in flight, if it is on the GPU, and reads its result back.
    fn settle(&mut self, i: usize) -> Result<(), BackendError> {
        let Some(entry) = self.in_flight.get_mut(i) else {
            return Ok(());
        };
        let Some(slot) = entry.slot else {
            return Ok(());
        };
        let state = self
            .ring_plan
            .and_then(|s| self.plans.get_mut(s))
            .ok_or_else(|| BackendError::Gpu("a frame in flight lost its plan state".into()))?;
        read_back(&self.ctx, state, slot, &mut entry.frame)?;
        entry.slot = None;
        Ok(())
    }

    /// Index of the GPU state for `plan`, built when missing. Least recently used states are
    /// evicted to stay within [`PLAN_CACHE`] states and, besides the newest, [`PLAN_BYTES`].
    fn state_for(&mut self, plan: &Plan, format: Format) -> Result<usize, BackendError> {
        self.clock += 1;
        if let Some(i) = self.plans.iter().position(|s| s.matches(plan, format)) {
            self.plans[i].last_used = self.clock;
            return Ok(i);
        }
        while self.plans.len() >= PLAN_CACHE {
            self.evict_oldest();
        }
        let state = self.build(plan, format)?;
        self.plans_built += 1;
        let newest = state.bytes();
        while !self.plans.is_empty()
            && self.plans.iter().map(PlanState::bytes).sum::<u64>() + newest > PLAN_BYTES
        {
            self.evict_oldest();
        }
        self.plans.push(state);
        Ok(self.plans.len() - 1)
    }

    /// Drops the least recently used plan state, its frame buffers going back to the pool.
    /// Called only with no frame on the GPU (a plan change drains the ring first).
    fn evict_oldest(&mut self) {
        let Some(oldest) = (0..self.plans.len()).min_by_key(|&i| self.plans[i].last_used) else {
            return;
        };
        let old = self.plans.swap_remove(oldest);
        // `swap_remove` moved the last state into `oldest`.
        self.ring_plan = match self.ring_plan {
            Some(s) if s == oldest => None,
            Some(s) if s == self.plans.len() => Some(oldest),
            other => other,
        };
        drop(old.dispatches);
        for (_, b) in old.frames {
            self.pool.give(b);
        }
        for slot in old.ring {
            self.pool.give(slot.upload.into_pooled());
            self.pool.give(slot.readback.into_pooled());
        }
    }

    /// The cached pipeline for `key`, compiled on first use.
    fn pipeline(&mut self, key: &KernelKey) -> Result<wgpu::ComputePipeline, BackendError> {
        if let Some(p) = self.pipelines.get(key) {
            return Ok(p.clone());
        }
        let device = &self.ctx.device;
        let label = key.label();
        let layout = match key.base {
            Some(_) => &self.layouts.based_pipeline,
            None => &self.layouts.plain_pipeline,
        };
        let pipeline = scoped(device, || {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&label),
                source: wgpu::ShaderSource::Wgsl(shaders::assemble(key).into()),
            });
            Ok(
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&label),
                    layout: Some(layout),
                    module: &module,
                    entry_point: Some("main"),
                    compilation_options: Default::default(),
                    cache: None,
                }),
            )
        })
        .map_err(|e| BackendError::Gpu(format!("building kernel {label}: {e}")))?;
        self.pipelines.insert(key.clone(), pipeline.clone());
        Ok(pipeline)
    }

    fn build(&mut self, plan: &Plan, format: Format) -> Result<PlanState, BackendError> {
        let n = plan.passes.len();
        let mut expected = plan.input;
        for pass in &plan.passes {
            check_pass(pass, expected)
                .map_err(|m| BackendError::Gpu(format!("malformed plan: {m}")))?;
            expected = pass.output;
        }
        if expected != plan.output {
            return Err(BackendError::Gpu(format!(
                "malformed plan: passes end at {expected:?}, the plan at {:?}",
                plan.output
            )));
        }

        // Which frame each pass reads and writes, and how large each slot must be.
        let src_of = |i: usize| {
            if i == 0 {
                Slot::Upload
            } else {
                Slot::Inter((i - 1) % 2)
            }
        };
        let dst_of = |i: usize| {
            if i + 1 == n {
                Slot::Output
            } else {
                Slot::Inter(i % 2)
            }
        };
        let limit = self.ctx.max_binding();
        let groups_limit = self.ctx.limits.max_compute_workgroups_per_dimension;
        let mut sizes: Vec<(Slot, u64)> = Vec::new();
        let mut need = |slot: Slot, (w, h): (u32, u32), fmt: Format| -> Result<(), BackendError> {
            let bytes = w as u64 * h as u64 * fmt.bytes_per_pixel();
            if bytes > limit {
                return Err(BackendError::FrameTooLarge {
                    width: w,
                    height: h,
                    needed: bytes,
                    limit,
                });
            }
            match sizes.iter_mut().find(|(s, _)| *s == slot) {
                Some(entry) => entry.1 = entry.1.max(bytes),
                None => sizes.push((slot, bytes)),
            }
            Ok(())
        };
        need(Slot::Upload, plan.input, format)?;
        for (i, pass) in plan.passes.iter().enumerate() {
            let (w, h) = pass.output;
            if w.div_ceil(GROUP) > groups_limit || h.div_ceil(GROUP) > groups_limit {
                return Err(BackendError::Gpu(format!(
                    "a {w}x{h} frame needs more than this adapter's {groups_limit} workgroups per dimension"
                )));
            }
            let out_format = if i + 1 == n { format } else { Format::Rgba16 };
            need(dst_of(i), pass.output, out_format)?;
            if matches!(pass.kind, PassKind::Unsharp { .. }) {
                need(Slot::Scratch, pass.input, Format::Rgba16)?;
            }
        }

        let device = self.ctx.device.clone();
        let frames: Vec<(Slot, PooledBuffer)> = sizes
            .iter()
            .map(|&(slot, bytes)| {
                (
                    slot,
                    self.pool.take(&device, BufferKind::Frame, bytes, limit),
                )
            })
            .collect();
        let output_bytes = plan.output.0 as u64 * plan.output.1 as u64 * format.bytes_per_pixel();

        let align = self.ctx.limits.min_uniform_buffer_offset_alignment.max(1) as u64;
        let uniform_stride = INFO_SIZE.div_ceil(align) * align;
        let infos: Vec<PassInfo> = plan.passes.iter().map(pass_info).collect();
        let mut uniform_bytes = vec![0u8; uniform_stride as usize * n];
        for (i, info) in infos.iter().enumerate() {
            let at = i * uniform_stride as usize;
            uniform_bytes[at..at + INFO_SIZE as usize].copy_from_slice(bytemuck::bytes_of(info));
        }
        let uniforms = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("tessera pass info"),
            contents: &uniform_bytes,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });

        let mut state = PlanState {
            format,
            input: plan.input,
            output: plan.output,
            passes: plan.passes.iter().map(PassKey::of).collect(),
            frames,
            ring: Vec::new(),
            upload_bytes: plan.input.0 as u64 * plan.input.1 as u64 * format.bytes_per_pixel(),
            output_bytes,
            uniforms,
            uniform_stride,
            infos,
            params: Vec::new(),
            dispatches: Vec::new(),
            last_used: self.clock,
        };

        for (i, pass) in plan.passes.iter().enumerate() {
            let (src, dst) = (src_of(i), dst_of(i));
            let src_format = if i == 0 { format } else { Format::Rgba16 };
            let dst_format = if i + 1 == n { format } else { Format::Rgba16 };
            let data = match &pass.kind {
                PassKind::Pointwise(ops) if ops.is_empty() => self.empty.clone(),
                PassKind::Pointwise(ops) => {
                    let mut written = Vec::new();
                    point_params(ops, &mut written);
                    let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("tessera pointwise parameters"),
                        contents: bytemuck::cast_slice(&written),
                        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    });
                    state.params.push(PointParams {
                        pass: i,
                        buffer: buffer.clone(),
                        written,
                        next: Vec::new(),
                    });
                    buffer
                }
                kind => match static_data(kind) {
                    Some(bytes) => device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some("tessera weights"),
                        contents: &bytes,
                        usage: wgpu::BufferUsages::STORAGE,
                    }),
                    None => self.empty.clone(),
                },
            };
            let kernel = state.passes[i].kernel.clone();
            let groups = (pass.output.0.div_ceil(GROUP), pass.output.1.div_ceil(GROUP));
            let info = wgpu::BufferBinding {
                buffer: &state.uniforms,
                offset: i as u64 * uniform_stride,
                size: NonZeroU64::new(INFO_SIZE),
            };
            if let PassKind::Unsharp { weights, .. } = &pass.kind {
                // Horizontal blur of the colour channels into scratch, then blur down and combine.
                let first = KernelKey {
                    kernel: Kernel::convolve_1d(Axis::Horizontal, false, weights.len()),
                    src: src_format,
                    dst: Format::Rgba16,
                    base: None,
                };
                let second = KernelKey {
                    kernel,
                    src: Format::Rgba16,
                    dst: dst_format,
                    base: Some(src_format),
                };
                let (p1, p2) = (self.pipeline(&first)?, self.pipeline(&second)?);
                let bg1 = self.bind_group(&state, src, Slot::Scratch, info.clone(), &data, None);
                let bg2 = self.bind_group(&state, Slot::Scratch, dst, info, &data, Some(src));
                state.dispatches.push(Dispatch {
                    pipeline: p1,
                    bind_group: bg1,
                    groups,
                });
                state.dispatches.push(Dispatch {
                    pipeline: p2,
                    bind_group: bg2,
                    groups,
                });
            } else {
                let key = KernelKey {
                    kernel,
                    src: src_format,
                    dst: dst_format,
                    base: None,
                };
                let pipeline = self.pipeline(&key)?;
                let bind_group = self.bind_group(&state, src, dst, info, &data, None);
                state.dispatches.push(Dispatch {
                    pipeline,
                    bind_group,
                    groups,
                });
            }
        }
        Ok(state)
    }

    fn bind_group(
        &self,
        state: &PlanState,
        src: Slot,
        dst: Slot,
        info: wgpu::BufferBinding<'_>,
        data: &wgpu::Buffer,
        base: Option<Slot>,
    ) -> wgpu::BindGroup {
        let mut entries = vec![
            wgpu::BindGroupEntry {
                binding: 0,
                resource: state.buffer(src).as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: state.buffer(dst).as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::Buffer(info),
            },
            wgpu::BindGroupEntry {
                binding: 3,
                resource: data.as_entire_binding(),
            },
        ];
        let layout = match base {
            Some(slot) => {
                entries.push(wgpu::BindGroupEntry {
                    binding: 4,
                    resource: state.buffer(slot).as_entire_binding(),
                });
                &self.layouts.based
            }
            None => &self.layouts.plain,
        };
        self.ctx
            .device
            .create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout,
                entries: &entries,
            })
    }

    /// Writes the frame into its ring slot's upload buffer, refreshes changed parameters, and
    /// submits the upload copy, every pass and the read-back copy without waiting; the slot's
    /// buffers are asked to map again once that work is done.
    fn encode(
        &mut self,
        state: usize,
        slot: usize,
        plan: &Plan,
        frame: &Frame,
    ) -> Result<(), BackendError> {
        let device = &self.ctx.device;
        let queue = &self.ctx.queue;
        let state = &mut self.plans[state];
        let bytes: &[u8] = match &frame.pixels {
            Pixels::Rgba8(v) => v,
            Pixels::Rgba16(v) => bytemuck::cast_slice(v),
        };
        let (upload_bytes, output_bytes) = (state.upload_bytes, state.output_bytes);
        if bytes.len() as u64 != upload_bytes {
            return Err(BackendError::Gpu(format!(
                "a {}x{} frame holds {} bytes of samples instead of {upload_bytes}",
                frame.width,
                frame.height,
                bytes.len(),
            )));
        }
        {
            let ring = &mut state.ring[slot];
            let upload = &mut ring.upload;
            upload.request(upload_bytes);
            if upload.state() == MAP_PENDING {
                // A slot's upload maps when its last frame is done (waited for before the slot
                // is free); a new one on the next poll.
                let wait = match &ring.submission {
                    Some(index) => wgpu::PollType::Wait {
                        submission_index: Some(index.clone()),
                        timeout: None,
                    },
                    None => wgpu::PollType::Poll,
                };
                device
                    .poll(wait)
                    .map_err(|e| BackendError::Gpu(format!("waiting for the GPU: {e}")))?;
            }
            if upload.state() != MAP_DONE {
                return Err(BackendError::Gpu(
                    "uploading a frame: the upload buffer could not be mapped".into(),
                ));
            }
            let mut view = upload
                .buffer()
                .slice(..upload_bytes)
                .get_mapped_range_mut()
                .map_err(|e| BackendError::Gpu(format!("uploading a frame: {e}")))?;
            view.copy_from_slice(bytes);
            drop(view);
            upload.unmap();
        }

        for (i, pass) in plan.passes.iter().enumerate() {
            let info = pass_info(pass);
            if info != state.infos[i] {
                queue.write_buffer(
                    &state.uniforms,
                    i as u64 * state.uniform_stride,
                    bytemuck::bytes_of(&info),
                );
                state.infos[i] = info;
            }
        }
        for p in &mut state.params {
            // Always a pointwise pass: the state matched the plan pass by pass.
            let PassKind::Pointwise(ops) = &plan.passes[p.pass].kind else {
                continue;
            };
            point_params(ops, &mut p.next);
            if p.next != p.written {
                std::mem::swap(&mut p.next, &mut p.written);
                queue.write_buffer(&p.buffer, 0, bytemuck::cast_slice(&p.written));
            }
        }

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("tessera frame"),
        });
        encoder.copy_buffer_to_buffer(
            state.ring[slot].upload.buffer(),
            0,
            state.buffer(Slot::Upload),
            0,
            upload_bytes,
        );
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("tessera passes"),
                timestamp_writes: None,
            });
            for d in &state.dispatches {
                pass.set_pipeline(&d.pipeline);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
            }
        }
        encoder.copy_buffer_to_buffer(
            state.buffer(Slot::Output),
            0,
            state.ring[slot].readback.buffer(),
            0,
            output_bytes,
        );
        let submission = queue.submit([encoder.finish()]);
        let ring = &mut state.ring[slot];
        ring.readback.request(output_bytes);
        ring.upload.request(upload_bytes);
        ring.submission = Some(submission);
        Ok(())
    }
}

/// Waits for the work of ring slot `slot` of `state`, unless its read-back is already mapped,
/// and copies the result into `frame`, reusing its sample vector.
fn read_back(
    ctx: &Context,
    state: &mut PlanState,
    slot: usize,
    frame: &mut Frame,
) -> Result<(), BackendError> {
    let ring = state
        .ring
        .get_mut(slot)
        .ok_or_else(|| BackendError::Gpu(format!("no ring slot {slot}")))?;
    if ring.readback.state() == MAP_PENDING {
        ctx.device
            .poll(wgpu::PollType::Wait {
                submission_index: ring.submission.clone(),
                timeout: None,
            })
            .map_err(|e| BackendError::Gpu(format!("waiting for the GPU: {e}")))?;
        ctx.take_stray_errors()?;
    }
    match ring.readback.state() {
        MAP_DONE => {}
        MAP_FAILED => {
            return Err(BackendError::Gpu(
                "reading the result back: the buffer could not be mapped".into(),
            ))
        }
        _ => {
            return Err(BackendError::Gpu(
                "reading the result back: the GPU never finished".into(),
            ))
        }
    }
    {
        let view = ring
            .readback
            .buffer()
            .slice(..state.output_bytes)
            .get_mapped_range()
            .map_err(|e| BackendError::Gpu(format!("reading the result back: {e}")))?;
        let samples = state.output.0 as usize * state.output.1 as usize * 4;
        match &mut frame.pixels {
            Pixels::Rgba8(v) => {
                v.resize(samples, 0);
                v.copy_from_slice(&view);
            }
            Pixels::Rgba16(v) => {
                v.resize(samples, 0);
                bytemuck::cast_slice_mut::<u16, u8>(v).copy_from_slice(&view);
            }
        }
    }
    ring.readback.unmap();
    frame.width = state.output.0;
    frame.height = state.output.1;
    Ok(())
}
