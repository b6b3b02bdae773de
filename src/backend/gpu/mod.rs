//! The GPU backend: a plan's passes as WGSL compute kernels run through wgpu.
//!
//! This module owns the wgpu device ([`context`]), what a plan runs on the GPU ([`schedule`]),
//! kernel assembly from `shaders/` ([`shaders`], [`pixel`]), buffer reuse ([`pool`]) and the
//! executor, which keeps a few frames in flight ([`executor`]). It knows passes and ops, never
//! filters, and follows the contract of [`crate::backend`] with the CPU backend's arithmetic:
//! planes are uploaded as the frame holds them (8-bit codes four to a word, deeper ones two),
//! each pass works on each plane at its own size, passes hand each other f32 planes of code
//! values (clamped, never rounded), and the last pass that changes a plane writes its codes,
//! rounded once, which are read back at the frame's depth; planes no pass changes go from the
//! input frame to the output without a copy. GPU errors come back as [`BackendError`]s, never
//! panics.

mod context;
mod executor;
mod pixel;
mod pool;
mod schedule;
mod shaders;
mod stderr;
#[cfg(test)]
mod tests;

use super::{Backend, BackendError};
use crate::frame::Frame;
use crate::plan::Plan;

/// Which adapters [`GpuBackend::new`] may open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterPolicy {
    /// Any adapter, software ones (Mesa's lavapipe) included; hardware preferred.
    Any,
    /// Hardware adapters only: software rendering is slower than the CPU backend.
    HardwareOnly,
}

/// An open GPU device and queue that several backends share: a batch opens it once for all
/// its files (files at once included) instead of once a file.
#[derive(Clone)]
pub struct GpuDevice(context::Context);

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GpuDevice").field(&self.0.info.name).finish()
    }
}

impl GpuDevice {
    /// Opens the best adapter `policy` allows, as [`GpuBackend::new`] does.
    pub fn open(policy: AdapterPolicy) -> Result<GpuDevice, BackendError> {
        context::Context::open(policy).map(GpuDevice)
    }
}

/// Runs plans on a GPU. Opened once per run: pipelines, buffers and per-plan state are kept
/// between frames.
pub struct GpuBackend {
    executor: executor::Executor,
}

impl GpuBackend {
    /// Opens the best adapter `policy` allows and a device with the adapter's own limits.
    pub fn new(policy: AdapterPolicy) -> Result<GpuBackend, BackendError> {
        let ctx = context::Context::open(policy)?;
        Ok(GpuBackend {
            executor: executor::Executor::new(ctx),
        })
    }

    /// A backend of its own (pipelines, buffers, frames in flight) on a shared device.
    pub fn on(device: &GpuDevice) -> GpuBackend {
        GpuBackend {
            executor: executor::Executor::new(device.0.clone()),
        }
    }

    /// The adapter this backend runs on.
    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.executor.ctx.info.clone()
    }

    /// The largest plane buffer, in bytes, this device can bind (an 8-bit plane takes a byte a
    /// sample, a deeper one two, a plane between passes four); frames with larger planes are
    /// run in strips that fit ([`crate::plan::run_in_strips`]), or refused with
    /// [`BackendError::FrameTooLarge`] where the chain cannot be cut into strips.
    pub fn max_frame_bytes(&self) -> u64 {
        self.executor.ctx.max_binding()
    }

    /// The bytes one frame of `plan` uploads and reads back (planes no pass changes never
    /// travel): what a benchmark needs to compare the backend with the bus alone.
    pub fn transfer_bytes(plan: &Plan) -> Result<(u64, u64), BackendError> {
        let s = schedule::Schedule::of(plan)
            .map_err(|m| BackendError::Gpu(format!("malformed plan: {m}")))?;
        Ok((s.upload_bytes, s.readback_bytes))
    }
}

impl GpuBackend {
    /// Runs a frame larger than one binding as bands of rows, each with the halo its chain
    /// needs ([`crate::plan::run_in_strips`]): the same samples as a device that could bind it
    /// whole. The bands are as tall as fit, halved from the frame's height until one from the
    /// middle (a halo on both sides) fits.
    fn in_strips(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        let too_large = |why: &'static str| {
            let (width, height) = (plan.output.width, plan.output.height);
            let bytes = |f: &crate::frame::Format| {
                (0..f.planes())
                    .map(|p| f.plane_len(p) as u64)
                    .max()
                    .unwrap_or(0)
                    * 4
            };
            BackendError::FrameTooLarge {
                width,
                height,
                needed: plan
                    .passes
                    .iter()
                    .map(|p| bytes(&p.input).max(bytes(&p.output)))
                    .max()
                    .unwrap_or(0),
                limit: self.max_frame_bytes(),
                why,
            }
        };
        if let Some(why) = plan.strips_refused() {
            return Err(too_large(why));
        }
        let step = plan.strip_step();
        let height = plan.output.height;
        let mut rows = height;
        loop {
            let start = (height / 2).saturating_sub(rows / 2) / step * step;
            let strip = plan.strip(start..(start + rows).min(height));
            if self.executor.fits(&strip.plan)? {
                break;
            }
            if rows <= step {
                return Err(too_large(
                    "one row of it with its halo is too large already",
                ));
            }
            rows = (rows / 2).max(step);
        }
        tracing::debug!(
            "{}: larger than one GPU binding, run in strips of {rows} rows",
            plan.output.describe()
        );
        crate::plan::run_in_strips(plan, &frame, rows, |p, f| self.executor.run(p, f))
    }
}

impl Backend for GpuBackend {
    fn describe(&self) -> String {
        let info = &self.executor.ctx.info;
        format!("gpu ({}, {:?})", info.name, info.backend)
    }

    fn process(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        super::check_format(plan, &frame)?;
        if plan.passes.is_empty() {
            return Ok(frame);
        }
        if !self.executor.fits(plan)? {
            return self.in_strips(plan, frame);
        }
        self.executor.run(plan, frame)
    }

    /// Keeps a few frames on the GPU at once (the executor's ring), handed back in order; a
    /// frame too large for one binding runs in strips, on its own.
    fn submit(&mut self, plan: &Plan, frame: Frame) -> Result<Option<Frame>, BackendError> {
        super::check_format(plan, &frame)?;
        if !plan.passes.is_empty() && !self.executor.fits(plan)? {
            if self.executor.frames_held() > 0 {
                return Err(BackendError::Gpu(
                    "a frame too large for one binding came after frames in flight".into(),
                ));
            }
            return self.in_strips(plan, frame).map(Some);
        }
        self.executor.submit(plan, frame)
    }

    fn finish(&mut self) -> Result<Option<Frame>, BackendError> {
        self.executor.finish()
    }

    fn new_stream(&mut self) {
        self.executor.new_stream();
    }

    fn recycle(&mut self, frame: Frame) {
        self.executor.recycle(frame);
    }
}
