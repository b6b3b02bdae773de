//! What a plan runs on the GPU, decided from the plan alone: the planes uploaded and read back,
//! the planes handed from the input frame to the output untouched, the buffers the passes
//! need, and the dispatches that fill them with the parameters each reads ([`Info`] and its
//! `data` words).
//!
//! A pass's dispatches work plane by plane at each plane's own size (a joint pointwise pass is
//! one dispatch over all the planes), reading each plane where its last change left it: the
//! uploaded codes, an f32 work plane, or the codes of its last change. The last pass that
//! changes a plane writes its codes, which are read back; a plane no pass changes never reaches
//! the GPU. Work planes are reused once nothing reads them any more. Plans of one shape
//! ([`same_shape`]) have one schedule: what differs between them (weights, tables, curves,
//! uniforms, origins) is written into the dispatches' parameters frame by frame. Nothing here
//! touches wgpu.

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use super::shaders::{Kernel, KernelKey, PointFn, Store, CURVE_WORDS};
use crate::frame::Format;
use crate::op::{
    compose_curves, plane_curves, ColourMath, Curve, Domain, GradientKernel, PerPlane, Planes,
    PointOp, RankOf, Separable, TemporalKind, WarpFilter, MAX_PLANES,
};
use crate::plan::{Pass, PassKind, Plan};

/// Invocations per workgroup side: every kernel is `@workgroup_size(16, 16)`.
pub(crate) const GROUP: u32 = 16;

/// `Info` of `shaders/common.wgsl`: the sizes and scalars of one dispatch.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub(crate) struct Info {
    in_size: [u32; 2],
    out_size: [u32; 2],
    origin: [i32; 2],
    flags: u32,
    taps: u32,
    rows: u32,
    weights_at: u32,
    lo: f32,
    hi: f32,
    amount: f32,
    zero: f32,
    bias: f32,
    to_8bit: f32,
    from_8bit: f32,
    top_8bit: f32,
    max_code: f32,
    pad: u32,
    k: [f32; 4],
    zero_of: [f32; 4],
    scale_of: [f32; 4],
}

impl Info {
    /// Says where a temporal dispatch's frame is in its op's history, `seen` frames having
    /// gone through it: bit 0 of `flags` for the first, and for a `mix` `rows`, the slot of
    /// its oldest past plane of the `taps` it keeps.
    pub(crate) fn set_history(&mut self, seen: u64, mix: bool) {
        self.flags = (seen == 0) as u32;
        if mix && self.taps > 0 {
            self.rows = (seen % self.taps as u64) as u32;
        }
    }
}

/// What a buffer of a plan holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Plane `p` of the input frame, uploaded.
    Input(usize),
    /// The codes of plane `p`'s last change, read back.
    Output(usize),
    /// Work samples between passes, or between the two axes of a pass.
    Work,
    /// What temporal op `id` keeps of plane `p` between frames: the executor's, not the
    /// plan's, so that it outlives a plan that changes around it.
    History { id: u32, plane: usize },
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct BufferSpec {
    pub role: Role,
    pub bytes: u64,
    /// The size of the frame whose plane it holds (for [`crate::backend::BackendError::FrameTooLarge`]).
    pub frame: (u32, u32),
}

/// A plane copied between a buffer and a ring slot's upload or read-back buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PlaneCopy {
    pub plane: usize,
    pub buffer: usize,
    /// Where the plane starts in the ring slot's buffer.
    pub offset: u64,
    pub size: (u32, u32),
    pub store: Store,
}

impl PlaneCopy {
    pub(crate) fn bytes(&self) -> u64 {
        self.store.bytes(self.size)
    }
}

/// Which part of which pass a dispatch computes, and so which parameters it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    Curves {
        pass: usize,
        plane: usize,
    },
    Pointwise {
        pass: usize,
    },
    /// One axis of a blur or an unsharp mask.
    Taps {
        pass: usize,
        plane: usize,
        vertical: bool,
    },
    Convolve {
        pass: usize,
        plane: usize,
    },
    Resample {
        pass: usize,
        plane: usize,
        vertical: bool,
    },
    Remap {
        pass: usize,
        plane: usize,
    },
    Gradient {
        pass: usize,
        plane: usize,
    },
    /// One axis of a min or max, or a whole order statistic.
    Rank {
        pass: usize,
        plane: usize,
        vertical: bool,
    },
    Warp {
        pass: usize,
        plane: usize,
    },
    Bilateral {
        pass: usize,
        plane: usize,
    },
    Denoise {
        pass: usize,
        plane: usize,
    },
    /// A temporal op on a plane: a mix in one step; hqdn3d along rows (`columns` false), then
    /// down columns and through time.
    Temporal {
        pass: usize,
        plane: usize,
        columns: bool,
    },
}

impl Work {
    /// The history a temporal dispatch reads and keeps: its op's id and plane.
    pub(crate) fn history(&self, plan: &Plan) -> Option<(u32, usize)> {
        match *self {
            Work::Temporal { pass, plane, .. } => match &plan.passes[pass].kind {
                PassKind::Temporal(t) => Some((t.id, plane)),
                _ => None,
            },
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dispatch {
    pub key: KernelKey,
    pub work: Work,
    /// Buffers bound as `in0` …, and as `out0` ….
    pub inputs: Vec<usize>,
    pub outputs: Vec<usize>,
    pub in_size: (u32, u32),
    pub out_size: (u32, u32),
    /// Clamps what it writes to the plane's codes: every dispatch but the first axis of a
    /// separable stencil or a resample.
    pub clamps: bool,
    pub groups: (u32, u32),
    /// Words of `data` it may read: the largest its pass's shape allows.
    pub data_words: usize,
}

/// Everything a plan runs on the GPU.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schedule {
    pub buffers: Vec<BufferSpec>,
    /// Input planes, one after another in a ring slot's upload buffer.
    pub uploads: Vec<PlaneCopy>,
    pub upload_bytes: u64,
    /// Output planes, one after another in a ring slot's read-back buffer.
    pub readbacks: Vec<PlaneCopy>,
    pub readback_bytes: u64,
    /// Planes of the output that are the input's, untouched.
    pub kept: Planes,
    pub dispatches: Vec<Dispatch>,
}

/// Where a plane is between passes.
#[derive(Clone, Copy, Debug)]
enum Version {
    /// The input frame's (uploaded if a pass reads it).
    Input,
    At(usize, Store),
}

struct Builder<'a> {
    plan: &'a Plan,
    /// The last pass that changes each plane.
    last: [Option<usize>; MAX_PLANES],
    versions: Vec<Version>,
    buffers: Vec<BufferSpec>,
    /// Work buffers nothing reads any more.
    free: Vec<usize>,
    uploads: Vec<PlaneCopy>,
    dispatches: Vec<Dispatch>,
    /// Where the pass being built writes each plane.
    written: [Option<(usize, Store)>; MAX_PLANES],
}

impl Builder<'_> {
    fn buffer(&mut self, role: Role, bytes: u64, frame: (u32, u32)) -> usize {
        self.buffers.push(BufferSpec { role, bytes, frame });
        self.buffers.len() - 1
    }

    /// Plane `p` to read: its buffer and store, uploaded on its first read.
    fn read(&mut self, p: usize) -> (usize, Store) {
        if let Version::At(b, s) = self.versions[p] {
            return (b, s);
        }
        let input = self.plan.input;
        if let Some(u) = self.uploads.iter().find(|u| u.plane == p) {
            return (u.buffer, u.store);
        }
        let store = Store::codes(&input);
        let size = input.plane_size(p);
        let buffer = self.buffer(
            Role::Input(p),
            store.bytes(size),
            (input.width, input.height),
        );
        let offset = self.uploads.iter().map(PlaneCopy::bytes).sum();
        self.uploads.push(PlaneCopy {
            plane: p,
            buffer,
            offset,
            size,
            store,
        });
        (buffer, store)
    }

    /// A work buffer of at least `bytes`: one nothing reads any more where there is one.
    fn work(&mut self, bytes: u64, frame: (u32, u32)) -> usize {
        let fits = |b: &&usize| self.buffers[**b].bytes >= bytes;
        let best = self
            .free
            .iter()
            .filter(fits)
            .min_by_key(|b| self.buffers[**b].bytes)
            .or_else(|| self.free.iter().max_by_key(|b| self.buffers[**b].bytes))
            .copied();
        match best {
            Some(b) => {
                self.free.retain(|&f| f != b);
                let spec = &mut self.buffers[b];
                if spec.bytes < bytes {
                    (spec.bytes, spec.frame) = (bytes, frame);
                }
                b
            }
            None => self.buffer(Role::Work, bytes, frame),
        }
    }

    fn release(&mut self, buffer: usize) {
        if self.buffers[buffer].role == Role::Work {
            self.free.push(buffer);
        }
    }

    /// The buffer pass `i` writes plane `p` into: its codes where this is the plane's last
    /// change, work samples otherwise.
    fn write(&mut self, i: usize, p: usize) -> (usize, Store) {
        let output = self.plan.passes[i].output;
        let size = output.plane_size(p);
        let frame = (output.width, output.height);
        let at = if self.last[p] == Some(i) {
            let store = Store::codes(&output);
            (
                self.buffer(Role::Output(p), store.bytes(size), frame),
                store,
            )
        } else {
            (self.work(Store::F32.bytes(size), frame), Store::F32)
        };
        self.written[p] = Some(at);
        at
    }

    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        kernel: Kernel,
        work: Work,
        inputs: &[(usize, Store)],
        outputs: &[(usize, Store)],
        in_size: (u32, u32),
        out_size: (u32, u32),
        clamps: bool,
    ) {
        let key = KernelKey {
            kernel,
            inputs: inputs.iter().map(|i| i.1).collect(),
            outputs: outputs.iter().map(|o| o.1).collect(),
        };
        let lanes = key.lanes();
        let groups = match &key.kernel {
            Kernel::Pointwise { shift, .. } => {
                let blocks = (
                    out_size.0.div_ceil(1 << shift.0),
                    out_size.1.div_ceil(1 << shift.1),
                );
                (
                    blocks.0.div_ceil(lanes).div_ceil(GROUP),
                    blocks.1.div_ceil(GROUP),
                )
            }
            _ => (
                out_size.0.div_ceil(lanes).div_ceil(GROUP),
                out_size.1.div_ceil(GROUP),
            ),
        };
        let mut d = Dispatch {
            key,
            work,
            inputs: inputs.iter().map(|i| i.0).collect(),
            outputs: outputs.iter().map(|o| o.0).collect(),
            in_size,
            out_size,
            clamps,
            groups,
            data_words: 0,
        };
        let mut words = Vec::new();
        d.data(self.plan, &mut words);
        d.data_words = match work {
            // The curves of a plane of work samples: at most one an op.
            Work::Curves { pass, .. } if !d.reads_table() => match &self.plan.passes[pass].kind {
                PassKind::Pointwise(ops) => ops.len() * CURVE_WORDS,
                _ => 0,
            },
            _ => words.len(),
        };
        self.dispatches.push(d);
    }

    /// Makes the last dispatch `n` invocations in a line, in whole workgroups (hqdn3d's row
    /// and column walks).
    fn one_invocation_per(&mut self, n: u32) {
        if let Some(d) = self.dispatches.last_mut() {
            d.groups = (n.div_ceil(GROUP * GROUP), 1);
        }
    }

    /// The dispatches of pass `i`.
    fn pass(&mut self, i: usize) -> Result<(), String> {
        let plan = self.plan;
        let pass = &plan.passes[i];
        self.written = [None; MAX_PLANES];
        let changed = pass.planes();
        let olds: Vec<Version> = changed
            .iter()
            .map(|p| self.versions.get(p).copied().unwrap_or(Version::Input))
            .collect();
        let size = |f: &Format, p: usize| f.plane_size(p);
        match &pass.kind {
            PassKind::Pointwise(ops) => {
                let math = ColourMath::of(&pass.output);
                if math.per_plane && ops.iter().all(|op| op.domain() == Domain::PerPlane) {
                    for p in changed.iter() {
                        let src = self.read(p);
                        let dst = self.write(i, p);
                        let s = size(&pass.output, p);
                        let work = Work::Curves { pass: i, plane: p };
                        self.dispatch(Kernel::Curves, work, &[src], &[dst], s, s, true);
                    }
                } else {
                    let colour = pass.output.layout.colour_planes();
                    let alpha = pass.output.layout.alpha_plane();
                    let writes_alpha = alpha.is_some_and(|a| changed.contains(a));
                    let expected = (0..colour).fold(Planes::NONE, |s, p| s.with(p));
                    let expected = match alpha {
                        Some(a) if writes_alpha => expected.with(a),
                        _ => expected,
                    };
                    if changed != expected {
                        return Err(format!(
                            "a pointwise pass on whole pixels changes planes {changed:?}, not \
                             {expected:?}"
                        ));
                    }
                    let mut inputs: Vec<(usize, Store)> =
                        (0..colour).map(|p| self.read(p)).collect();
                    if let Some(a) = pass.input.layout.alpha_plane() {
                        inputs.push(self.read(a));
                    }
                    let outputs: Vec<(usize, Store)> =
                        changed.iter().map(|p| self.write(i, p)).collect();
                    let kernel = Kernel::Pointwise {
                        ops: ops.iter().map(PointFn::of).collect(),
                        family: pass.output.layout.family,
                        shift: pass.output.layout.chroma_shift,
                    };
                    let s = (pass.output.width, pass.output.height);
                    let work = Work::Pointwise { pass: i };
                    self.dispatch(kernel, work, &inputs, &outputs, s, s, true);
                }
            }
            PassKind::Blur(planes) | PassKind::Unsharp { planes, .. } => {
                let unsharp = matches!(pass.kind, PassKind::Unsharp { .. });
                for p in changed.iter() {
                    let k = separable(planes, p)?;
                    let s = size(&pass.output, p);
                    let src = self.read(p);
                    let frame = (pass.output.width, pass.output.height);
                    let taps = |vertical: bool| if vertical { k.v.len() } else { k.h.len() };
                    let last = |this: &mut Self, vertical: bool, from: (usize, Store)| {
                        let dst = this.write(i, p);
                        let kernel = Kernel::stencil_1d(vertical, unsharp, taps(vertical), dst.1);
                        let work = Work::Taps {
                            pass: i,
                            plane: p,
                            vertical,
                        };
                        this.dispatch(kernel, work, &[from, src], &[dst], s, s, true);
                    };
                    match (k.v.len() > 1, k.h.len() > 1) {
                        (true, true) => {
                            let scratch = (self.work(Store::F32.bytes(s), frame), Store::F32);
                            let kernel = Kernel::stencil_1d(true, false, taps(true), Store::F32);
                            let work = Work::Taps {
                                pass: i,
                                plane: p,
                                vertical: true,
                            };
                            self.dispatch(kernel, work, &[src, src], &[scratch], s, s, false);
                            last(self, false, scratch);
                            self.release(scratch.0);
                        }
                        (true, false) => last(self, true, src),
                        (false, _) => last(self, false, src),
                    }
                }
            }
            PassKind::Convolve(planes) => {
                for p in changed.iter() {
                    let c = planes[p]
                        .as_ref()
                        .ok_or_else(|| format!("plane {p} changes without a kernel"))?;
                    if c.width % 2 == 0
                        || c.height % 2 == 0
                        || c.weights.len() != (c.width * c.height) as usize
                    {
                        return Err(format!(
                            "a {}x{} kernel with {} weights",
                            c.width,
                            c.height,
                            c.weights.len()
                        ));
                    }
                    let s = size(&pass.output, p);
                    let src = self.read(p);
                    let dst = self.write(i, p);
                    let kernel = Kernel::convolve_2d(c.width, c.height);
                    let work = Work::Convolve { pass: i, plane: p };
                    self.dispatch(kernel, work, &[src], &[dst], s, s, true);
                }
            }
            PassKind::Gradient(planes) => {
                for p in changed.iter() {
                    if planes[p].is_none() {
                        return Err(format!("plane {p} changes without a gradient"));
                    }
                    let s = size(&pass.output, p);
                    let src = self.read(p);
                    let dst = self.write(i, p);
                    let work = Work::Gradient { pass: i, plane: p };
                    self.dispatch(Kernel::Gradient, work, &[src], &[dst], s, s, true);
                }
            }
            PassKind::Bilateral(planes) => {
                for p in changed.iter() {
                    if planes[p].is_none() {
                        return Err(format!("plane {p} changes without a window"));
                    }
                    let s = size(&pass.output, p);
                    let src = self.read(p);
                    let dst = self.write(i, p);
                    let work = Work::Bilateral { pass: i, plane: p };
                    self.dispatch(Kernel::Bilateral, work, &[src], &[dst], s, s, true);
                }
            }
            PassKind::Denoise(planes) => {
                for p in changed.iter() {
                    if planes[p].is_none() {
                        return Err(format!("plane {p} changes without a window"));
                    }
                    let s = size(&pass.output, p);
                    let src = self.read(p);
                    let dst = self.write(i, p);
                    let work = Work::Denoise { pass: i, plane: p };
                    self.dispatch(Kernel::Denoise, work, &[src], &[dst], s, s, true);
                }
            }
            PassKind::Rank(planes) => {
                for p in changed.iter() {
                    let r =
                        planes[p].ok_or_else(|| format!("plane {p} changes without a window"))?;
                    let s = size(&pass.output, p);
                    let src = self.read(p);
                    let frame = (pass.output.width, pass.output.height);
                    let axis = |vertical: bool| Work::Rank {
                        pass: i,
                        plane: p,
                        vertical,
                    };
                    if let RankOf::Nth(_) = r.of {
                        let dst = self.write(i, p);
                        let work = axis(false);
                        self.dispatch(Kernel::Nth, work, &[src], &[dst], s, s, true);
                        continue;
                    }
                    let from = if r.ry > 0 && r.rx > 0 {
                        let scratch = (self.work(Store::F32.bytes(s), frame), Store::F32);
                        let kernel = Kernel::Rank { vertical: true };
                        self.dispatch(kernel, axis(true), &[src], &[scratch], s, s, false);
                        Some(scratch)
                    } else {
                        None
                    };
                    let dst = self.write(i, p);
                    let vertical = r.rx == 0;
                    let kernel = Kernel::Rank { vertical };
                    let input = from.unwrap_or(src);
                    self.dispatch(kernel, axis(vertical), &[input], &[dst], s, s, true);
                    if let Some(scratch) = from {
                        self.release(scratch.0);
                    }
                }
            }
            PassKind::Resample(planes) => {
                for p in changed.iter() {
                    let r = planes[p]
                        .as_ref()
                        .ok_or_else(|| format!("plane {p} is resampled without tables"))?;
                    let (si, so) = (size(&pass.input, p), size(&pass.output, p));
                    for (t, along) in [(&r.h, so.0), (&r.v, so.1)] {
                        if t.taps == 0
                            || t.starts.len() != along as usize
                            || t.weights.len() != t.starts.len() * t.taps as usize
                        {
                            return Err(format!(
                                "a resample table of {} starts, {} taps and {} weights for {along} samples",
                                t.starts.len(),
                                t.taps,
                                t.weights.len()
                            ));
                        }
                    }
                    let src = self.read(p);
                    let mid = (si.0, so.1);
                    let frame = (pass.output.width, pass.output.height);
                    let scratch = (self.work(Store::F32.bytes(mid), frame), Store::F32);
                    let v = Work::Resample {
                        pass: i,
                        plane: p,
                        vertical: true,
                    };
                    let kernel = Kernel::Resample { vertical: true };
                    self.dispatch(kernel, v, &[src], &[scratch], si, mid, false);
                    let dst = self.write(i, p);
                    let h = Work::Resample {
                        pass: i,
                        plane: p,
                        vertical: false,
                    };
                    let kernel = Kernel::Resample { vertical: false };
                    self.dispatch(kernel, h, &[scratch], &[dst], mid, so, true);
                    self.release(scratch.0);
                }
            }
            PassKind::Warp(planes) => {
                for p in changed.iter() {
                    let w = planes[p]
                        .as_ref()
                        .ok_or_else(|| format!("plane {p} is warped without a map"))?;
                    let (si, so) = (size(&pass.input, p), size(&pass.output, p));
                    let src = self.read(p);
                    let dst = self.write(i, p);
                    let work = Work::Warp { pass: i, plane: p };
                    let kernel = Kernel::Warp {
                        bicubic: w.filter == WarpFilter::Bicubic,
                    };
                    self.dispatch(kernel, work, &[src], &[dst], si, so, true);
                }
            }
            PassKind::Temporal(t) => {
                for p in changed.iter() {
                    let kind = t.planes[p]
                        .as_ref()
                        .ok_or_else(|| format!("plane {p} changes without a temporal op"))?;
                    let s = size(&pass.output, p);
                    let frame = (pass.output.width, pass.output.height);
                    let samples = s.0 as u64 * s.1 as u64;
                    let history = |b: &mut Self, words: u64| {
                        let role = Role::History { id: t.id, plane: p };
                        (b.buffer(role, 4 * words, frame), Store::F32)
                    };
                    let step = |columns: bool| Work::Temporal {
                        pass: i,
                        plane: p,
                        columns,
                    };
                    let src = self.read(p);
                    match kind {
                        TemporalKind::Mix(m) => {
                            let past = history(self, samples * m.slots() as u64);
                            let dst = self.write(i, p);
                            let kernel = Kernel::Mix;
                            self.dispatch(kernel, step(false), &[src], &[dst, past], s, s, true);
                        }
                        TemporalKind::Denoise(_) => {
                            let rows = (self.work(Store::F32.bytes(s), frame), Store::F32);
                            let kernel = Kernel::Denoise3d { columns: false };
                            self.dispatch(kernel, step(false), &[src], &[rows], s, s, true);
                            self.one_invocation_per(s.1);
                            let last = history(self, samples);
                            let dst = self.write(i, p);
                            let kernel = Kernel::Denoise3d { columns: true };
                            let (ins, outs) = (&[rows, src], &[dst, last]);
                            self.dispatch(kernel, step(true), ins, outs, s, s, true);
                            let lanes = self.dispatches.last().map_or(1, |d| d.key.lanes());
                            self.one_invocation_per(s.0.div_ceil(lanes));
                            self.release(rows.0);
                        }
                    }
                }
            }
            PassKind::Remap { transpose, .. } => {
                for p in changed.iter() {
                    let (si, so) = (size(&pass.input, p), size(&pass.output, p));
                    let (x, y) = pass.remap_origin(p);
                    let span = if *transpose { (so.1, so.0) } else { so };
                    if x as u64 + span.0 as u64 > si.0 as u64
                        || y as u64 + span.1 as u64 > si.1 as u64
                    {
                        return Err(format!(
                            "plane {p}: a {}x{} rectangle at ({x}, {y}) of a {}x{} plane",
                            span.0, span.1, si.0, si.1
                        ));
                    }
                    let src = self.read(p);
                    let dst = self.write(i, p);
                    let work = Work::Remap { pass: i, plane: p };
                    self.dispatch(Kernel::Remap, work, &[src], &[dst], si, so, true);
                }
            }
        }
        // The planes' new versions; the old ones are read no more.
        let planes = pass.output.planes();
        self.versions.resize(planes, Version::Input);
        for (p, old) in changed.iter().zip(olds) {
            if let Version::At(b, _) = old {
                self.release(b);
            }
            let (b, s) = self.written[p].ok_or_else(|| format!("plane {p} is not written"))?;
            self.versions[p] = Version::At(b, s);
        }
        Ok(())
    }
}

/// Plane `p`'s kernel, checked.
fn separable(planes: &PerPlane<Separable>, p: usize) -> Result<&Separable, String> {
    let k = planes[p]
        .as_ref()
        .ok_or_else(|| format!("plane {p} changes without a kernel"))?;
    if k.h.len() % 2 == 0 || k.v.len() % 2 == 0 {
        return Err(format!(
            "a separable kernel of {} by {} taps",
            k.h.len(),
            k.v.len()
        ));
    }
    Ok(k)
}

impl Schedule {
    /// The schedule of `plan`, or why the plan is malformed (passes that do not follow one
    /// another, data that does not fit its sizes).
    pub(crate) fn of(plan: &Plan) -> Result<Schedule, String> {
        let same_planes = |a: &Format, b: &Format| {
            (a.width, a.height, a.layout, a.bits) == (b.width, b.height, b.layout, b.bits)
        };
        let mut expected = plan.input;
        let mut last = [None; MAX_PLANES];
        for (i, pass) in plan.passes.iter().enumerate() {
            if !same_planes(&pass.input, &expected) {
                return Err(format!(
                    "pass {i} takes {} where {} comes",
                    pass.input.describe(),
                    expected.describe()
                ));
            }
            let (i_fmt, o_fmt) = (&pass.input, &pass.output);
            let resizes = matches!(
                pass.kind,
                PassKind::Resample(_) | PassKind::Remap { .. } | PassKind::Warp(_)
            );
            // Transpositions swap the subsampling; resamples may change it.
            let resubsamples = matches!(pass.kind, PassKind::Resample(_) | PassKind::Remap { .. });
            let same_size = (i_fmt.width, i_fmt.height) == (o_fmt.width, o_fmt.height);
            if o_fmt.width == 0
                || o_fmt.height == 0
                || (!resizes && !same_size)
                || o_fmt.bits != i_fmt.bits
                || o_fmt.layout.family != i_fmt.layout.family
                || (o_fmt.layout.chroma_shift != i_fmt.layout.chroma_shift && !resubsamples)
                || (o_fmt.layout.alpha != i_fmt.layout.alpha
                    && !matches!(pass.kind, PassKind::Pointwise(_)))
            {
                return Err(format!(
                    "pass {i} makes {} of {}",
                    o_fmt.describe(),
                    i_fmt.describe()
                ));
            }
            for p in pass.planes().iter() {
                if p >= o_fmt.planes() {
                    return Err(format!(
                        "pass {i} changes plane {p} of {}",
                        o_fmt.describe()
                    ));
                }
                last[p] = Some(i);
            }
            expected = pass.output;
        }
        if !same_planes(&plan.output, &expected) {
            return Err(format!(
                "the passes end with {}, the plan with {}",
                expected.describe(),
                plan.output.describe()
            ));
        }
        let mut b = Builder {
            plan,
            last,
            versions: vec![Version::Input; plan.input.planes()],
            buffers: Vec::new(),
            free: Vec::new(),
            uploads: Vec::new(),
            dispatches: Vec::new(),
            written: [None; MAX_PLANES],
        };
        for i in 0..plan.passes.len() {
            b.pass(i)?;
        }
        let mut readbacks = Vec::new();
        let mut kept = Planes::NONE;
        let mut offset = 0;
        for p in 0..plan.output.planes() {
            match b.versions.get(p) {
                Some(Version::At(buffer, store)) => {
                    let copy = PlaneCopy {
                        plane: p,
                        buffer: *buffer,
                        offset,
                        size: plan.output.plane_size(p),
                        store: *store,
                    };
                    offset += copy.bytes();
                    readbacks.push(copy);
                }
                _ => kept = kept.with(p),
            }
        }
        Ok(Schedule {
            buffers: b.buffers,
            upload_bytes: b.uploads.iter().map(PlaneCopy::bytes).sum(),
            uploads: b.uploads,
            readback_bytes: offset,
            readbacks,
            kept,
            dispatches: b.dispatches,
        })
    }
}

/// The words of a curve for `shaders/common.wgsl`'s `curve`: its kind and parameters.
fn curve_words(curve: Option<Curve>, out: &mut Vec<u32>) {
    let (kind, p) = match curve {
        None => (0, [0.0; 4]),
        Some(Curve::Affine { scale, offset }) => (1, [scale, offset, 0.0, 0.0]),
        Some(Curve::EqGamma {
            contrast,
            brightness,
            gamma,
            weight,
        }) => (2, [contrast, brightness, gamma, weight]),
    };
    out.push(kind);
    out.extend(p.map(f32::to_bits));
    out.resize(out.len() + CURVE_WORDS - 5, 0);
}

impl Dispatch {
    /// The parameters the dispatch reads for `plan` (of the schedule's shape).
    pub(crate) fn info(&self, plan: &Plan) -> Info {
        let (pass, plane) = match self.work {
            Work::Pointwise { pass } => (pass, None),
            Work::Curves { pass, plane }
            | Work::Taps { pass, plane, .. }
            | Work::Convolve { pass, plane }
            | Work::Resample { pass, plane, .. }
            | Work::Remap { pass, plane }
            | Work::Gradient { pass, plane }
            | Work::Rank { pass, plane, .. }
            | Work::Warp { pass, plane } => (pass, Some(plane)),
            Work::Bilateral { pass, plane }
            | Work::Denoise { pass, plane }
            | Work::Temporal { pass, plane, .. } => (pass, Some(plane)),
        };
        let pass = &plan.passes[pass];
        let math = ColourMath::of(&pass.output);
        let (lo, hi) = if self.clamps {
            (0.0, math.max)
        } else {
            (-f32::MAX, f32::MAX)
        };
        let mut info = Info {
            in_size: [self.in_size.0, self.in_size.1],
            out_size: [self.out_size.0, self.out_size.1],
            lo,
            hi,
            to_8bit: math.to_8bit,
            from_8bit: math.from_8bit,
            top_8bit: math.top_8bit,
            max_code: math.max,
            k: [math.k[0], math.k[1], math.k[2], 0.0],
            zero_of: math.zero,
            scale_of: math.scale,
            ..Info::default()
        };
        match (&pass.kind, self.work, plane) {
            (PassKind::Pointwise(ops), Work::Curves { .. }, Some(p)) => {
                info.taps = plane_curves(ops, p, math.colour_planes).count() as u32;
            }
            (
                PassKind::Blur(planes) | PassKind::Unsharp { planes, .. },
                Work::Taps { vertical, .. },
                Some(p),
            ) => {
                if let Some(k) = &planes[p] {
                    info.taps = if vertical { k.v.len() } else { k.h.len() } as u32;
                }
                if let PassKind::Unsharp { amount, .. } = pass.kind {
                    info.amount = amount;
                }
            }
            (PassKind::Convolve(planes), _, Some(p)) => {
                if let Some(c) = &planes[p] {
                    info.taps = c.width;
                    info.rows = c.height;
                    info.zero = c.zero;
                    info.bias = c.bias;
                }
            }
            (PassKind::Resample(planes), Work::Resample { vertical, .. }, Some(p)) => {
                if let Some(r) = &planes[p] {
                    let t = if vertical { &r.v } else { &r.h };
                    info.taps = t.taps;
                    info.weights_at = t.starts.len() as u32;
                }
            }
            (PassKind::Gradient(planes), _, Some(p)) => {
                if let Some(g) = &planes[p] {
                    info.flags = match g.kernel {
                        GradientKernel::Sobel => 0,
                        GradientKernel::Prewitt => 1,
                    } | (g.mirror_start as u32) << 1;
                    info.amount = g.scale;
                    info.bias = g.delta;
                }
            }
            (PassKind::Rank(planes), Work::Rank { vertical, .. }, Some(p)) => {
                if let Some(r) = &planes[p] {
                    info.taps = if vertical { r.ry } else { r.rx };
                    info.flags = match r.of {
                        RankOf::Min => 0,
                        RankOf::Max => 1,
                        RankOf::Nth(k) => {
                            info.taps = r.rx;
                            info.rows = r.ry;
                            k
                        }
                    };
                }
            }
            (PassKind::Denoise(planes), _, Some(p)) => {
                if let Some(d) = &planes[p] {
                    info.origin = [d.rx as i32, d.ry as i32];
                    info.taps = d.px;
                    info.rows = d.py;
                    info.amount = d.inv_h2;
                    info.zero = d.cutoff;
                    info.bias = d.unit;
                }
            }
            (PassKind::Bilateral(planes), _, Some(p)) => {
                if let Some(b) = &planes[p] {
                    info.taps = b.rx;
                    info.rows = b.ry;
                    info.amount = b.space.0;
                    info.bias = b.space.1;
                    info.zero = b.range;
                }
            }
            (PassKind::Temporal(t), _, Some(p)) => match &t.planes[p] {
                // The oldest slot and the first frame are the executor's to say, frame by
                // frame (see `Executor::encode`).
                Some(TemporalKind::Mix(m)) => info.taps = m.slots() as u32,
                Some(TemporalKind::Denoise(d)) => {
                    info.taps = d.shift;
                    info.rows = d.lut_bits;
                    info.weights_at = d.table_len() as u32;
                }
                None => {}
            },
            (
                PassKind::Remap {
                    flip_h,
                    flip_v,
                    transpose,
                    ..
                },
                _,
                Some(p),
            ) => {
                let (x, y) = pass.remap_origin(p);
                info.origin = [x as i32, y as i32];
                info.flags = *flip_h as u32 | (*flip_v as u32) << 1 | (*transpose as u32) << 2;
            }
            _ => {}
        }
        info
    }

    /// True when the dispatch reads a table of every code of its input plane, built from its
    /// parameters ([`Dispatch::data`]): curves of a plane of codes.
    pub(crate) fn reads_table(&self) -> bool {
        match (&self.work, &self.key.kernel) {
            (Work::Curves { .. }, _) => self.key.inputs.first() != Some(&Store::F32),
            (Work::Pointwise { .. }, Kernel::Pointwise { ops, .. }) => {
                ops.iter().any(PointFn::is_table)
            }
            (Work::Temporal { .. }, Kernel::Denoise3d { .. }) => true,
            _ => false,
        }
    }

    /// The `data` words the dispatch reads for `plan`, into `out`: its parameters, or the table
    /// they make.
    pub(crate) fn data(&self, plan: &Plan, out: &mut Vec<u32>) {
        if !self.reads_table() {
            return self.params(plan, out);
        }
        out.clear();
        if let Work::Temporal { pass, plane, .. } = self.work {
            if let PassKind::Temporal(t) = &plan.passes[pass].kind {
                if let Some(TemporalKind::Denoise(d)) = &t.planes[plane] {
                    out.extend(d.spatial.iter().chain(d.temporal.iter()).map(|&v| v as u32));
                }
            }
            return;
        }
        if let Work::Pointwise { pass } = self.work {
            if let PassKind::Pointwise(ops) = &plan.passes[pass].kind {
                pointwise_words(ops, true, out);
            }
            return;
        }
        let Work::Curves { pass, plane } = self.work else {
            return;
        };
        let pass = &plan.passes[pass];
        let PassKind::Pointwise(ops) = &pass.kind else {
            return;
        };
        // The composition of the plane's curves at every code, as the CPU backend tabulates it.
        let math = ColourMath::of(&pass.output);
        let n = math.colour_planes;
        out.extend(
            (0..=pass.input.max_code()).map(|code| {
                compose_curves(plane_curves(ops, plane, n), &math, code as f32).to_bits()
            }),
        );
    }

    /// The words that decide the dispatch's `data` for `plan`, into `out`: the data itself,
    /// or for a table the curves it is made of.
    pub(crate) fn params(&self, plan: &Plan, out: &mut Vec<u32>) {
        out.clear();
        let bits = |out: &mut Vec<u32>, v: &[f32]| out.extend(v.iter().map(|w| w.to_bits()));
        let pass = |i: usize| &plan.passes[i].kind;
        match self.work {
            Work::Curves { pass: i, plane } => {
                if let PassKind::Pointwise(ops) = pass(i) {
                    let n = plan.passes[i].output.layout.colour_planes();
                    for c in plane_curves(ops, plane, n) {
                        curve_words(Some(c), out);
                    }
                }
            }
            Work::Pointwise { pass: i } => {
                if let PassKind::Pointwise(ops) = pass(i) {
                    pointwise_words(ops, false, out);
                }
            }
            Work::Taps {
                pass: i,
                plane,
                vertical,
            } => {
                if let PassKind::Blur(planes) | PassKind::Unsharp { planes, .. } = pass(i) {
                    if let Some(k) = &planes[plane] {
                        bits(out, if vertical { &k.v } else { &k.h });
                    }
                }
            }
            Work::Convolve { pass: i, plane } => {
                if let PassKind::Convolve(planes) = pass(i) {
                    if let Some(c) = &planes[plane] {
                        bits(out, &c.weights);
                    }
                }
            }
            Work::Resample {
                pass: i,
                plane,
                vertical,
            } => {
                if let PassKind::Resample(planes) = pass(i) {
                    if let Some(r) = &planes[plane] {
                        let t = if vertical { &r.v } else { &r.h };
                        out.extend(t.starts.iter().map(|&s| s as u32));
                        bits(out, &t.weights);
                    }
                }
            }
            Work::Temporal { pass: i, plane, .. } => {
                if let PassKind::Temporal(t) = pass(i) {
                    match &t.planes[plane] {
                        Some(TemporalKind::Mix(m)) => {
                            bits(out, &m.weights);
                            bits(out, &[m.scale]);
                        }
                        // The strengths decide the tables (`data`).
                        Some(TemporalKind::Denoise(d)) => {
                            out.extend([d.spatial_strength, d.temporal_strength].iter().flat_map(
                                |v| {
                                    let b = v.to_bits();
                                    [b as u32, (b >> 32) as u32]
                                },
                            ))
                        }
                        None => {}
                    }
                }
            }
            Work::Remap { .. }
            | Work::Gradient { .. }
            | Work::Rank { .. }
            | Work::Bilateral { .. }
            | Work::Denoise { .. } => {}
            Work::Warp { pass: i, plane } => {
                if let PassKind::Warp(planes) = pass(i) {
                    if let Some(w) = &planes[plane] {
                        bits(out, &w.matrix);
                        bits(out, &[w.fill]);
                    }
                }
            }
        }
    }
}

/// The `data` words of a joint pointwise pass's ops, into `out`, each op's from a whole vec4
/// slot: with `tables`, table ops' entries (`shaders/lut.wgsl`); without, a fingerprint of them
/// in their place, which is what decides whether the entries are written again.
fn pointwise_words(ops: &[PointOp], tables: bool, out: &mut Vec<u32>) {
    let bits = |out: &mut Vec<u32>, v: &[f32]| out.extend(v.iter().map(|w| w.to_bits()));
    for op in ops {
        let start = out.len();
        let header = |out: &mut Vec<u32>, lo: [f32; 3], spare: f32, scale: [f32; 3], print: u64| {
            bits(
                out,
                &[
                    lo[0], lo[1], lo[2], spare, scale[0], scale[1], scale[2], 0.0,
                ],
            );
            if !tables {
                out.extend([print as u32, (print >> 32) as u32]);
            }
        };
        match op {
            PointOp::Curves(c) => {
                for curve in c.0 {
                    curve_words(curve, out);
                }
            }
            PointOp::Pixel { program, uniforms } => {
                bits(out, uniforms);
                out.resize(start + 4 * program.param_slots(), 0);
            }
            PointOp::Channels(t) => {
                header(out, t.lo, 0.0, t.scale, t.fingerprint);
                if tables {
                    bits(out, &t.values);
                    out.resize(start + PointFn::of(op).words(), 0);
                }
            }
            PointOp::Cube { cube, strength, .. } => {
                header(out, cube.lo, *strength, cube.scale, cube.fingerprint);
                if tables {
                    bits(out, &cube.values);
                    out.resize(start + PointFn::of(op).words(), 0);
                }
            }
            PointOp::Flatten(c) => bits(out, &[c[0], c[1], c[2], 0.0]),
            // Where it goes, its opacity and size (`shaders/overlay.wgsl`), then its pixels.
            PointOp::Overlay { picture, at } => {
                out.extend([
                    at.x as u32,
                    at.y as u32,
                    at.opacity.to_bits(),
                    picture.width,
                    picture.height,
                    0,
                    0,
                    0,
                ]);
                if tables {
                    out.extend(&picture.pixels);
                    out.resize(start + PointFn::of(op).words(), 0);
                } else {
                    let print = picture.fingerprint;
                    out.extend([print as u32, (print >> 32) as u32]);
                }
            }
        }
    }
}

/// True when `a` and `b` run on one schedule: the same passes on the same formats, kernels of
/// the same sizes and the same pixel programs, whatever their values.
pub(crate) fn same_shape(a: &Plan, b: &Plan) -> bool {
    a.input == b.input
        && a.output == b.output
        && a.passes.len() == b.passes.len()
        && a.passes
            .iter()
            .zip(&b.passes)
            .all(|(x, y)| same_pass_shape(x, y))
}

fn same_pass_shape(a: &Pass, b: &Pass) -> bool {
    if a.input != b.input || a.output != b.output || a.planes() != b.planes() {
        return false;
    }
    fn per_plane<T>(a: &PerPlane<T>, b: &PerPlane<T>, same: impl Fn(&T, &T) -> bool) -> bool {
        a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => same(x, y),
            (None, None) => true,
            _ => false,
        })
    }
    let separable = |x: &Separable, y: &Separable| x.h.len() == y.h.len() && x.v.len() == y.v.len();
    match (&a.kind, &b.kind) {
        (PassKind::Pointwise(x), PassKind::Pointwise(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|(o, p)| match (o, p) {
                    (PointOp::Curves(_), PointOp::Curves(_)) => true,
                    (PointOp::Pixel { program: f, .. }, PointOp::Pixel { program: g, .. }) => {
                        Arc::ptr_eq(f, g) || f == g
                    }
                    (PointOp::Channels(_), PointOp::Channels(_))
                    | (PointOp::Cube { .. }, PointOp::Cube { .. })
                    | (PointOp::Flatten(_), PointOp::Flatten(_))
                    | (PointOp::Overlay { .. }, PointOp::Overlay { .. }) => {
                        PointFn::of(o) == PointFn::of(p)
                    }
                    _ => false,
                })
        }
        (PassKind::Blur(x), PassKind::Blur(y)) => per_plane(x, y, separable),
        (PassKind::Unsharp { planes: x, .. }, PassKind::Unsharp { planes: y, .. }) => {
            per_plane(x, y, separable)
        }
        (PassKind::Convolve(x), PassKind::Convolve(y)) => {
            per_plane(x, y, |c, d| (c.width, c.height) == (d.width, d.height))
        }
        (PassKind::Resample(x), PassKind::Resample(y)) => {
            per_plane(x, y, |r, s| (r.h.taps, r.v.taps) == (s.h.taps, s.v.taps))
        }
        (PassKind::Remap { transpose: s, .. }, PassKind::Remap { transpose: t, .. }) => s == t,
        (PassKind::Warp(x), PassKind::Warp(y)) => per_plane(x, y, |v, w| v.filter == w.filter),
        (PassKind::Gradient(x), PassKind::Gradient(y)) => per_plane(x, y, |_, _| true),
        (PassKind::Bilateral(x), PassKind::Bilateral(y)) => per_plane(x, y, |_, _| true),
        (PassKind::Temporal(x), PassKind::Temporal(y)) => {
            x.id == y.id
                && per_plane(&x.planes, &y.planes, |k, l| match (k, l) {
                    (TemporalKind::Mix(m), TemporalKind::Mix(n)) => m.slots() == n.slots(),
                    (TemporalKind::Denoise(d), TemporalKind::Denoise(e)) => {
                        d.table_len() == e.table_len()
                    }
                    _ => false,
                })
        }
        (PassKind::Denoise(x), PassKind::Denoise(y)) => per_plane(x, y, |_, _| true),
        (PassKind::Rank(x), PassKind::Rank(y)) => per_plane(x, y, |r, s| {
            // Min and max run in two dispatches, an order statistic in one.
            let nth = |o: RankOf| matches!(o, RankOf::Nth(_));
            (r.rx > 0, r.ry > 0, nth(r.of)) == (s.rx > 0, s.ry > 0, nth(s.of))
        }),
        _ => false,
    }
}
