//! Runs plans on the device: pipelines, per-plan GPU state, a ring of frames in flight, one
//! command buffer per frame.
//!
//! Pipelines are built once per [`KernelKey`] and cached. Everything a plan needs on the GPU
//! (its [`Schedule`]'s plane buffers from the pool, each dispatch's parameters, bind groups) is
//! built the first time a plan of its shape is seen and reused while later frames come with
//! plans of the same shape ([`same_shape`]), so a steady stream of frames uploads its planes,
//! rewrites only the parameters that changed (a sigma or a brightness that follows `t`), and
//! allocates nothing. A frame is: the planes its passes read written row by row into a mapped
//! upload buffer, then one command buffer (a copy of each plane into its buffer, every
//! dispatch, a copy of each changed plane's codes into a mappable read-back buffer), submitted
//! without waiting, and a `map_async` of the read-back buffer; later, the read-back into
//! planes of the output frame. Planes no pass changes go from the input frame to the output as
//! they are, never through the GPU.
//!
//! Each plan state has a ring of up to [`IN_FLIGHT`] slots, each a mappable upload and
//! read-back buffer, made the first time that many frames are in flight (so `process` alone
//! uses one). Only the buffers the CPU touches are per slot: the queue runs submissions in
//! order and wgpu orders their accesses, so frames in flight share the planes and parameters on
//! the GPU (a parameter rewritten for frame k+1 lands after frame k's passes), while frame
//! k-1's read-back stays mapped and frame k+1's upload is written as frame k computes.
//!
//! Frames in flight wait in submission order. The device is polled only when a result is
//! needed: when every slot is taken (waiting for the oldest), in [`Executor::finish`], and for
//! `process`. Otherwise a frame comes back early only when its read-back is already mapped,
//! which wgpu notices on each submit. A plan change first reads back every frame in flight;
//! their results wait, in order, for the next calls.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use wgpu::util::DeviceExt;

use super::context::{scoped, Context};
use super::pool::{BufferKind, BufferPool, PooledBuffer};
use super::schedule::{same_shape, Info, Role, Schedule};
use super::shaders::{self, KernelKey};
use crate::backend::BackendError;
use crate::frame::{Frame, PlaneBuf, PlaneRef, Samples};
use crate::op::MAX_PLANES;
use crate::plan::Plan;

/// Plans whose GPU state is kept: a video uses one, a batch of photos one per size.
pub(crate) const PLAN_CACHE: usize = 4;
/// Plane-buffer bytes that states of plans other than the newest may keep.
const PLAN_BYTES: u64 = 1 << 30;
/// Frames in flight. Three, not two: with two, the wait for frame k-2 leaves only frame k-1
/// queued, and the GPU idles whenever the decoder hands over frame k late; a third queued frame
/// absorbs that jitter. More buys nothing on one queue and costs a frame of memory each.
pub(crate) const IN_FLIGHT: usize = 3;
/// Plane sample vectors kept for results between frames.
const SPARE_SAMPLES: usize = 3 * MAX_PLANES;

const INFO_SIZE: u64 = std::mem::size_of::<Info>() as u64;

/// A dispatch ready to record.
struct Bound {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    groups: (u32, u32),
}

/// A dispatch's parameters as last written to the GPU.
struct Params {
    info: Info,
    /// Its own `data` buffer, or `None` where it reads none.
    data: Option<wgpu::Buffer>,
    /// The words its data was made from ([`Dispatch::params`]).
    written: Vec<u32>,
    /// The next frame's words, compared with `written`, and a table made from them: kept to
    /// allocate nothing.
    next: Vec<u32>,
    table: Vec<u32>,
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
    /// Mapped while the slot is free; the frame's planes are written here and copied into the
    /// plan's input planes by the frame's command buffer.
    upload: Mappable,
    /// The copy of the planes the plan changes, mapped once the frame's work is done.
    readback: Mappable,
    /// The last submission that used the slot.
    submission: Option<wgpu::SubmissionIndex>,
}

/// A frame submitted and not yet handed back.
enum Flight {
    /// On the GPU, in ring slot `slot` of the ring plan's state, with the input planes its
    /// output keeps as they are and its place in the stream.
    Gpu {
        slot: usize,
        kept: [Option<PlaneBuf>; MAX_PLANES],
        index: u64,
        pts: Option<i64>,
    },
    Done(Frame),
}

/// Everything one plan shape needs on the GPU, kept while plans of that shape keep coming.
struct PlanState {
    /// The plan it was built for: later plans are compared with it by shape.
    plan: Plan,
    schedule: Schedule,
    /// The schedule's buffers.
    buffers: Vec<PooledBuffer>,
    /// Made on first use, up to [`IN_FLIGHT`].
    ring: Vec<RingSlot>,
    uniforms: wgpu::Buffer,
    uniform_stride: u64,
    params: Vec<Params>,
    bound: Vec<Bound>,
    last_used: u64,
}

impl PlanState {
    /// Bytes of plane buffers the state holds.
    fn bytes(&self) -> u64 {
        let planes: u64 = self.buffers.iter().map(|b| b.buffer.size()).sum();
        let ring: u64 = self
            .ring
            .iter()
            .map(|r| r.upload.buffer().size() + r.readback.buffer().size())
            .sum();
        planes + ring
    }
}

/// Plane sample vectors for results: those of frames the caller recycled and of uploaded
/// inputs, so that a steady stream allocates no planes.
#[derive(Default)]
struct Spare(Vec<Samples>);

impl Spare {
    fn give(&mut self, frame: Frame) {
        for s in frame.into_samples() {
            if self.0.len() < SPARE_SAMPLES && s.capacity_bytes() > 0 {
                self.0.push(s);
            }
        }
    }

    /// `len` samples of the width asked for, from the kept vector closest in size.
    fn take(&mut self, len: usize, wide: bool) -> Samples {
        let size = if wide { 2 * len } else { len };
        let best = (0..self.0.len())
            .filter(|&i| self.0[i].is_wide() == wide)
            .min_by_key(|&i| self.0[i].capacity_bytes().abs_diff(size));
        Samples::sized(len, wide, best.map(|i| self.0.swap_remove(i)))
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
    /// Bind group and pipeline layouts by the number of planes a kernel reads and writes.
    layouts: HashMap<(usize, usize), (wgpu::BindGroupLayout, wgpu::PipelineLayout)>,
    pipelines: HashMap<KernelKey, wgpu::ComputePipeline>,
    pool: BufferPool,
    plans: Vec<PlanState>,
    plans_built: u64,
    clock: u64,
    /// Bound where a kernel reads no `data`.
    empty: wgpu::Buffer,
    /// Frames submitted and not yet handed back, oldest first.
    in_flight: VecDeque<Flight>,
    /// The state whose ring the frames on the GPU use.
    ring_plan: Option<usize>,
    spare: Spare,
    /// What temporal ops keep between frames, by op and plane: it stays on the GPU from one
    /// frame to the next, whichever plan state binds it.
    histories: HashMap<(u32, usize), History>,
}

/// A temporal op's history of one plane.
struct History {
    buffer: PooledBuffer,
    /// Frames submitted through it.
    seen: u64,
}

impl Executor {
    pub(crate) fn new(ctx: Context) -> Executor {
        let empty = ctx.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tessera empty data"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        Executor {
            ctx,
            layouts: HashMap::new(),
            pipelines: HashMap::new(),
            pool: BufferPool::new(),
            plans: Vec::new(),
            plans_built: 0,
            clock: 0,
            empty,
            in_flight: VecDeque::with_capacity(IN_FLIGHT + 1),
            ring_plan: None,
            spare: Spare::default(),
            histories: HashMap::new(),
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

    /// Starts every temporal op's history again with the next frame submitted: its first
    /// dispatch fills the history from that frame, so the buffers stay as they are.
    pub(crate) fn new_stream(&mut self) {
        for h in self.histories.values_mut() {
            h.seen = 0;
        }
    }

    /// Takes back a frame the caller is done with: its planes serve later results.
    pub(crate) fn recycle(&mut self, frame: Frame) {
        self.spare.give(frame);
    }

    /// Runs every pass of `plan` (at least one) on `frame` and waits for the result. Frames in
    /// flight stay in flight.
    pub(crate) fn run(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        let result = self.start(plan, frame).and_then(|()| {
            let newest = self.in_flight.len().saturating_sub(1);
            self.settle(newest)?;
            match self.in_flight.pop_back() {
                Some(Flight::Done(frame)) => Ok(frame),
                _ => Err(BackendError::Gpu("a started frame went missing".into())),
            }
        });
        self.forget_on_gpu_error(result)
    }

    /// Starts `frame` through `plan` (its format already checked) and returns the oldest frame
    /// whose result is in, if one is: see [`crate::backend::Backend::submit`].
    pub(crate) fn submit(
        &mut self,
        plan: &Plan,
        frame: Frame,
    ) -> Result<Option<Frame>, BackendError> {
        let result = self.start(plan, frame).and_then(|()| self.oldest(false));
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
            self.histories.clear();
            self.in_flight.clear();
            self.ring_plan = None;
        }
        result
    }

    /// Starts `frame` through `plan` in a free ring slot, after reading back every frame in
    /// flight if the plan's shape changed, or the oldest if every slot is taken. A plan that
    /// changes no plane hands the frame on at once, behind the frames in flight.
    fn start(&mut self, plan: &Plan, mut frame: Frame) -> Result<(), BackendError> {
        if plan.passes.iter().all(|p| p.planes().is_empty()) {
            let (a, b) = (&frame.format, &plan.output);
            if (a.width, a.height, a.layout, a.bits) != (b.width, b.height, b.layout, b.bits) {
                return Err(BackendError::Gpu(format!(
                    "malformed plan: it changes no plane of a {} but makes a {}",
                    a.describe(),
                    b.describe()
                )));
            }
            self.in_flight
                .push_back(Flight::Done(frame.retagged(plan.output)));
            return Ok(());
        }
        if let Some(s) = self.ring_plan {
            if self.plans.get(s).is_none_or(|p| !same_shape(&p.plan, plan)) {
                self.drain()?;
            }
        }
        let on_gpu = self
            .in_flight
            .iter()
            .filter(|f| matches!(f, Flight::Gpu { .. }))
            .count();
        if on_gpu >= IN_FLIGHT {
            let oldest = self
                .in_flight
                .iter()
                .position(|f| matches!(f, Flight::Gpu { .. }));
            self.settle(oldest.unwrap_or(0))?;
        }
        let device = self.ctx.device.clone();
        let (state, slot) = scoped(&device, || {
            let state = self.state_for(plan)?;
            let slot = self.free_slot(state)?;
            self.encode(state, slot, plan, &frame)?;
            Ok((state, slot))
        })?;
        self.ctx.take_stray_errors()?;
        self.ring_plan = Some(state);
        let mut kept: [Option<PlaneBuf>; MAX_PLANES] = Default::default();
        for p in self.plans[state].schedule.kept.iter() {
            kept[p] = Some(frame.take_plane(p));
        }
        let (index, pts) = (frame.index, frame.pts);
        self.spare.give(frame);
        self.in_flight.push_back(Flight::Gpu {
            slot,
            kept,
            index,
            pts,
        });
        Ok(())
    }

    /// A ring slot of `state` that no frame on the GPU uses, made if every one made is taken.
    fn free_slot(&mut self, state: usize) -> Result<usize, BackendError> {
        let in_flight = &self.in_flight;
        let taken = |i: usize| {
            in_flight
                .iter()
                .any(|f| matches!(f, Flight::Gpu { slot, .. } if *slot == i))
        };
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
        let limit = self.ctx.limits.max_buffer_size;
        let (upload_bytes, readback_bytes) = {
            let s = &self.plans[state].schedule;
            (s.upload_bytes, s.readback_bytes)
        };
        let upload = self
            .pool
            .take(&device, BufferKind::Upload, upload_bytes, limit);
        let readback = self
            .pool
            .take(&device, BufferKind::Staging, readback_bytes, limit);
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
        if let Flight::Gpu { slot, .. } = front {
            let mapped = self
                .ring_plan
                .and_then(|s| self.plans.get(s))
                .and_then(|p| p.ring.get(*slot))
                .is_some_and(|r| r.readback.state() != MAP_PENDING);
            if !wait && !mapped {
                return Ok(None);
            }
            self.settle(0)?;
        }
        match self.in_flight.pop_front() {
            Some(Flight::Done(frame)) => Ok(Some(frame)),
            _ => Err(BackendError::Gpu(
                "a frame in flight was not read back".into(),
            )),
        }
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
        let Flight::Gpu {
            slot,
            kept,
            index,
            pts,
        } = entry
        else {
            return Ok(());
        };
        let state = self
            .ring_plan
            .and_then(|s| self.plans.get_mut(s))
            .ok_or_else(|| BackendError::Gpu("a frame in flight lost its plan state".into()))?;
        let mut frame = read_back(&self.ctx, state, *slot, kept, &mut self.spare)?;
        frame.index = *index;
        frame.pts = *pts;
        *entry = Flight::Done(frame);
        Ok(())
    }

    /// Index of the GPU state for `plan`, built when missing. Least recently used states are
    /// evicted to stay within [`PLAN_CACHE`] states and, besides the newest, [`PLAN_BYTES`].
    fn state_for(&mut self, plan: &Plan) -> Result<usize, BackendError> {
        self.clock += 1;
        if let Some(i) = self.plans.iter().position(|s| same_shape(&s.plan, plan)) {
            self.plans[i].last_used = self.clock;
            return Ok(i);
        }
        let schedule =
            Schedule::of(plan).map_err(|m| BackendError::Gpu(format!("malformed plan: {m}")))?;
        self.check_limits(&schedule)?;
        self.make_histories(&schedule);
        while self.plans.len() >= PLAN_CACHE {
            self.evict_oldest();
        }
        let state = self.build(plan, schedule)?;
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

    /// Whether `plan`'s buffers fit this device's bindings; `Err` for a plan that would fail
    /// for another reason (tables too large, too many workgroups).
    pub(crate) fn fits(&self, plan: &Plan) -> Result<bool, BackendError> {
        // A plane between passes takes four bytes a sample: planes below the binding's size
        // at that need no schedule to know.
        let widest = plan
            .passes
            .iter()
            .flat_map(|p| [&p.input, &p.output])
            .flat_map(|f| (0..f.planes()).map(|p| f.plane_len(p) as u64))
            .max()
            .unwrap_or(0);
        if widest * 4 <= self.ctx.max_binding() && widest * 16 <= self.ctx.limits.max_buffer_size {
            return Ok(true);
        }
        let schedule =
            Schedule::of(plan).map_err(|m| BackendError::Gpu(format!("malformed plan: {m}")))?;
        match self.check_limits(&schedule) {
            Ok(()) => Ok(true),
            Err(BackendError::FrameTooLarge { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Refuses a schedule whose buffers or dispatches this device cannot hold.
    fn check_limits(&self, schedule: &Schedule) -> Result<(), BackendError> {
        let binding = self.ctx.max_binding();
        let largest = self.ctx.limits.max_buffer_size;
        let too_large =
            |(width, height): (u32, u32), needed: u64, limit: u64| BackendError::FrameTooLarge {
                width,
                height,
                needed,
                limit,
                why: "",
            };
        for b in &schedule.buffers {
            if b.bytes > binding {
                return Err(too_large(b.frame, b.bytes, binding));
            }
        }
        for (copies, bytes) in [
            (&schedule.uploads, schedule.upload_bytes),
            (&schedule.readbacks, schedule.readback_bytes),
        ] {
            if bytes > largest {
                let frame = copies
                    .first()
                    .map_or((0, 0), |c| schedule.buffers[c.buffer].frame);
                return Err(too_large(frame, bytes, largest));
            }
        }
        if let Some(d) = schedule
            .dispatches
            .iter()
            .find(|d| d.data_words as u64 * 4 > binding)
        {
            return Err(BackendError::Gpu(format!(
                "the pass's tables take {} bytes, more than this adapter's {binding} bytes a \
                 binding (a smaller LUT fits)",
                d.data_words as u64 * 4
            )));
        }
        let groups = self.ctx.limits.max_compute_workgroups_per_dimension;
        if let Some(d) = schedule
            .dispatches
            .iter()
            .find(|d| d.groups.0 > groups || d.groups.1 > groups)
        {
            let (w, h) = d.out_size;
            return Err(BackendError::Gpu(format!(
                "a {w}x{h} plane needs more than this adapter's {groups} workgroups a dimension"
            )));
        }
        Ok(())
    }

    /// Makes the histories `schedule` binds that are missing or of another size; a new one
    /// starts with the next frame, and plan states bound to the one it replaces go. Called only
    /// with no frame on the GPU (a new plan state is built after the ring is drained).
    fn make_histories(&mut self, schedule: &Schedule) {
        for spec in &schedule.buffers {
            let Role::History { id, plane } = spec.role else {
                continue;
            };
            let key = (id, plane);
            if let Some(h) = self.histories.get(&key) {
                if h.buffer.buffer.size() == spec.bytes.max(4) {
                    continue;
                }
                while let Some(i) = self.plans.iter().position(|s| {
                    s.schedule.buffers.iter().any(|b| {
                        b.role
                            == Role::History {
                                id: key.0,
                                plane: key.1,
                            }
                    })
                }) {
                    self.evict(i);
                }
            }
            let buffer = BufferPool::history(&self.ctx.device, spec.bytes);
            self.histories.insert(key, History { buffer, seen: 0 });
        }
    }

    /// Drops the least recently used plan state, its buffers going back to the pool. Called
    /// only with no frame on the GPU (a plan change drains the ring first).
    fn evict_oldest(&mut self) {
        let Some(oldest) = (0..self.plans.len()).min_by_key(|&i| self.plans[i].last_used) else {
            return;
        };
        self.evict(oldest);
    }

    /// Drops plan state `oldest`, its buffers going back to the pool.
    fn evict(&mut self, oldest: usize) {
        let old = self.plans.swap_remove(oldest);
        // `swap_remove` moved the last state into `oldest`.
        self.ring_plan = match self.ring_plan {
            Some(s) if s == oldest => None,
            Some(s) if s == self.plans.len() => Some(oldest),
            other => other,
        };
        drop(old.bound);
        for b in old.buffers {
            self.pool.give(b);
        }
        for slot in old.ring {
            self.pool.give(slot.upload.into_pooled());
            self.pool.give(slot.readback.into_pooled());
        }
    }

    /// The layouts of kernels reading `inputs` planes and writing `outputs`.
    fn layout(
        &mut self,
        inputs: usize,
        outputs: usize,
    ) -> &(wgpu::BindGroupLayout, wgpu::PipelineLayout) {
        let device = &self.ctx.device;
        self.layouts.entry((inputs, outputs)).or_insert_with(|| {
            let storage = |binding: u32, read_only| wgpu::BindGroupLayoutEntry {
                binding,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage { read_only },
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
                count: None,
            };
            let mut entries = vec![
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: NonZeroU64::new(INFO_SIZE),
                    },
                    count: None,
                },
                storage(1, true),
            ];
            let planes = (inputs + outputs) as u32;
            entries.extend((0..planes).map(|i| storage(2 + i, i < inputs as u32)));
            let group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("tessera planes"),
                entries: &entries,
            });
            let pipeline = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: None,
                bind_group_layouts: &[Some(&group)],
                immediate_size: 0,
            });
            (group, pipeline)
        })
    }

    /// The cached pipeline for `key`, compiled on first use.
    fn pipeline(&mut self, key: &KernelKey) -> Result<wgpu::ComputePipeline, BackendError> {
        if let Some(p) = self.pipelines.get(key) {
            return Ok(p.clone());
        }
        let layout = self.layout(key.inputs.len(), key.outputs.len()).1.clone();
        let device = &self.ctx.device;
        let label = key.label();
        let pipeline = scoped(device, || {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&label),
                source: wgpu::ShaderSource::Wgsl(shaders::assemble(key).into()),
            });
            Ok(
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&label),
                    layout: Some(&layout),
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

    fn build(&mut self, plan: &Plan, schedule: Schedule) -> Result<PlanState, BackendError> {
        let device = self.ctx.device.clone();
        let limit = self.ctx.max_binding();
        let mut buffers: Vec<PooledBuffer> = Vec::with_capacity(schedule.buffers.len());
        for b in &schedule.buffers {
            buffers.push(match b.role {
                Role::History { id, plane } => {
                    let h = self.histories.get(&(id, plane)).ok_or_else(|| {
                        BackendError::Gpu("a temporal op's history went missing".into())
                    })?;
                    BufferPool::lend(&h.buffer)
                }
                _ => self.pool.take(&device, BufferKind::Plane, b.bytes, limit),
            });
        }

        let n = schedule.dispatches.len();
        let align = self.ctx.limits.min_uniform_buffer_offset_alignment.max(1) as u64;
        let uniform_stride = INFO_SIZE.div_ceil(align) * align;
        let mut uniform_bytes = vec![0u8; uniform_stride as usize * n];
        let mut params = Vec::with_capacity(n);
        for (i, d) in schedule.dispatches.iter().enumerate() {
            let info = d.info(plan);
            let at = i * uniform_stride as usize;
            uniform_bytes[at..at + INFO_SIZE as usize].copy_from_slice(bytemuck::bytes_of(&info));
            let mut written = Vec::new();
            d.params(plan, &mut written);
            let data = (d.data_words > 0).then(|| {
                let mut contents = Vec::with_capacity(d.data_words);
                d.data(plan, &mut contents);
                contents.resize(d.data_words, 0);
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("tessera dispatch data"),
                    contents: bytemuck::cast_slice(&contents),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                })
            });
            params.push(Params {
                info,
                data,
                next: Vec::with_capacity(written.len()),
                written,
                table: Vec::new(),
            });
        }
        let uniforms = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("tessera dispatch info"),
            contents: &uniform_bytes,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });

        let mut bound = Vec::with_capacity(n);
        for (i, d) in schedule.dispatches.iter().enumerate() {
            let pipeline = self.pipeline(&d.key)?;
            let layout = &self.layouts[&(d.inputs.len(), d.outputs.len())].0;
            let data = params[i].data.as_ref().unwrap_or(&self.empty);
            let mut entries = vec![
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &uniforms,
                        offset: i as u64 * uniform_stride,
                        size: NonZeroU64::new(INFO_SIZE),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: data.as_entire_binding(),
                },
            ];
            for (k, &b) in d.inputs.iter().chain(&d.outputs).enumerate() {
                entries.push(wgpu::BindGroupEntry {
                    binding: 2 + k as u32,
                    resource: buffers[b].buffer.as_entire_binding(),
                });
            }
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: None,
                layout,
                entries: &entries,
            });
            bound.push(Bound {
                pipeline,
                bind_group,
                groups: d.groups,
            });
        }
        Ok(PlanState {
            plan: plan.clone(),
            schedule,
            buffers,
            ring: Vec::new(),
            uniforms,
            uniform_stride,
            params,
            bound,
            last_used: self.clock,
        })
    }

    /// Writes the frame's planes into its ring slot's upload buffer, refreshes changed
    /// parameters, and submits the upload copies, every dispatch and the read-back copies
    /// without waiting; the slot's buffers are asked to map again once that work is done.
    fn encode(
        &mut self,
        state: usize,
        slot: usize,
        plan: &Plan,
        frame: &Frame,
    ) -> Result<(), BackendError> {
        let device = &self.ctx.device;
        let queue = &self.ctx.queue;
        let histories = &mut self.histories;
        let state = &mut self.plans[state];
        let schedule = &state.schedule;
        let (upload_bytes, readback_bytes) = (schedule.upload_bytes, schedule.readback_bytes);
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
            for copy in &schedule.uploads {
                let row_bytes = copy.store.row_bytes(copy.size.0) as usize;
                let at = copy.offset as usize;
                let size = (copy.size.0 as usize, copy.size.1 as usize);
                let plane = frame.plane(copy.plane);
                if plane.size() != size {
                    return Err(BackendError::Gpu(format!(
                        "plane {} of the frame is {:?}, not {size:?}",
                        copy.plane,
                        plane.size()
                    )));
                }
                let (w, h) = size;
                let sample = if frame.format.is_wide() { 2 } else { 1 };
                let whole = match &plane {
                    PlaneRef::U8(p) => p.stride == w,
                    PlaneRef::U16(p) => p.stride == w,
                };
                if whole && row_bytes == w * sample && h > 0 {
                    let all: &[u8] = match &plane {
                        PlaneRef::U8(p) => &p.data[..w * h],
                        PlaneRef::U16(p) => bytemuck::cast_slice(&p.data[..w * h]),
                    };
                    view.slice(at..at + all.len()).copy_from_slice(all);
                } else {
                    // Row by row where the frame's rows or the buffer's are padded.
                    for y in 0..h {
                        let row = row_bytes_of(&plane, y);
                        let o = at + y * row_bytes;
                        view.slice(o..o + row.len()).copy_from_slice(row);
                    }
                }
            }
            drop(view);
            upload.unmap();
        }

        for (i, d) in schedule.dispatches.iter().enumerate() {
            let p = &mut state.params[i];
            let mut info = d.info(plan);
            if let Some(key) = d.work.history(plan) {
                // Where the frame is in the op's history: its first frame, and the slot of a
                // mix's oldest past plane.
                let seen = histories.get(&key).map_or(0, |h| h.seen);
                info.set_history(seen, d.key.kernel == shaders::Kernel::Mix);
            }
            if info != p.info {
                queue.write_buffer(
                    &state.uniforms,
                    i as u64 * state.uniform_stride,
                    bytemuck::bytes_of(&info),
                );
                p.info = info;
            }
            if let Some(data) = &p.data {
                d.params(plan, &mut p.next);
                if p.next != p.written {
                    std::mem::swap(&mut p.next, &mut p.written);
                    let words = if d.reads_table() {
                        d.data(plan, &mut p.table);
                        &p.table
                    } else {
                        &p.written
                    };
                    if words.len() > d.data_words {
                        return Err(BackendError::Gpu(format!(
                            "malformed plan: {} words of parameters for {}",
                            words.len(),
                            d.data_words
                        )));
                    }
                    queue.write_buffer(data, 0, bytemuck::cast_slice(words));
                }
            }
        }

        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("tessera frame"),
        });
        let ring = &state.ring[slot];
        for copy in &schedule.uploads {
            encoder.copy_buffer_to_buffer(
                ring.upload.buffer(),
                copy.offset,
                &state.buffers[copy.buffer].buffer,
                0,
                copy.bytes(),
            );
        }
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("tessera passes"),
                timestamp_writes: None,
            });
            for d in &state.bound {
                pass.set_pipeline(&d.pipeline);
                pass.set_bind_group(0, &d.bind_group, &[]);
                pass.dispatch_workgroups(d.groups.0, d.groups.1, 1);
            }
        }
        for copy in &schedule.readbacks {
            encoder.copy_buffer_to_buffer(
                &state.buffers[copy.buffer].buffer,
                0,
                ring.readback.buffer(),
                copy.offset,
                copy.bytes(),
            );
        }
        let submission = queue.submit([encoder.finish()]);
        let mut counted: Vec<(u32, usize)> = Vec::new();
        for d in &schedule.dispatches {
            if let Some(key) = d.work.history(plan) {
                if !counted.contains(&key) {
                    counted.push(key);
                    if let Some(h) = histories.get_mut(&key) {
                        h.seen += 1;
                    }
                }
            }
        }
        let ring = &mut state.ring[slot];
        ring.readback.request(readback_bytes);
        ring.upload.request(upload_bytes);
        ring.submission = Some(submission);
        Ok(())
    }
}

/// Waits for the work of ring slot `slot` of `state`, unless its read-back is already mapped,
/// and makes the output frame: the planes read back, in sample vectors from `spare`, and the
/// `kept` planes of the input.
fn read_back(
    ctx: &Context,
    state: &mut PlanState,
    slot: usize,
    kept: &mut [Option<PlaneBuf>; MAX_PLANES],
    spare: &mut Spare,
) -> Result<Frame, BackendError> {
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
    let format = state.plan.output;
    let mut planes: Vec<PlaneBuf> = Vec::with_capacity(format.planes());
    {
        let view = ring
            .readback
            .buffer()
            .slice(..state.schedule.readback_bytes)
            .get_mapped_range()
            .map_err(|e| BackendError::Gpu(format!("reading the result back: {e}")))?;
        let mut copies = state.schedule.readbacks.iter().peekable();
        for (p, kept) in kept.iter_mut().enumerate().take(format.planes()) {
            let copy = match copies.peek() {
                Some(c) if c.plane == p => copies.next(),
                _ => None,
            };
            let plane = match (copy, kept.take()) {
                (Some(copy), _) => {
                    let (w, h) = (copy.size.0 as usize, copy.size.1 as usize);
                    let row_bytes = copy.store.row_bytes(copy.size.0) as usize;
                    let src = &view[copy.offset as usize..(copy.offset + copy.bytes()) as usize];
                    let mut samples = spare.take(w * h, format.is_wide());
                    match &mut samples {
                        Samples::U8(v) => {
                            for (dst, row) in v.chunks_exact_mut(w).zip(src.chunks_exact(row_bytes))
                            {
                                dst.copy_from_slice(&row[..w]);
                            }
                        }
                        Samples::U16(v) => {
                            for (dst, row) in v.chunks_exact_mut(w).zip(src.chunks_exact(row_bytes))
                            {
                                bytemuck::cast_slice_mut::<u16, u8>(dst)
                                    .copy_from_slice(&row[..2 * w]);
                            }
                        }
                    }
                    PlaneBuf::owned(samples)
                }
                (None, Some(buf)) => buf,
                (None, None) => {
                    return Err(BackendError::Gpu(format!(
                        "plane {p} of the result is neither read back nor kept"
                    )))
                }
            };
            planes.push(plane);
        }
    }
    ring.readback.unmap();
    Ok(Frame::from_bufs(format, planes))
}

/// Row `y` of `plane` as bytes (little-endian samples, as the GPU reads them).
fn row_bytes_of<'a>(plane: &PlaneRef<'a>, y: usize) -> &'a [u8] {
    match plane {
        PlaneRef::U8(p) => p.row(y),
        PlaneRef::U16(p) => bytemuck::cast_slice(p.row(y)),
    }
}
