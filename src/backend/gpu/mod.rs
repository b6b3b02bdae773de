//! The GPU backend: a plan's passes as WGSL compute kernels run through wgpu.
//!
//! This module owns the wgpu device ([`context`]), kernel assembly from `shaders/`
//! ([`shaders`]), frame buffer reuse ([`pool`]) and the executor, which keeps a few frames in
//! flight ([`executor`]). It knows passes, never filters, and follows the arithmetic contract of
//! [`crate::backend`]: frames are uploaded at their own depth, passes hand rgba16 frames to each
//! other (precision 1/65535, far inside the one-code-value budget on 8-bit output, and half the
//! memory of f32), and the last pass writes the input's depth. GPU errors come back as
//! [`BackendError`]s, never panics.

mod context;
// PLANAR-WIP: the executor, shaders and their tests are being moved to planar frames; until
// then the GPU backend opens its device and refuses frames.

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
    ctx: context::Context,
}

impl GpuBackend {
    /// Opens the best adapter `policy` allows and a device with the adapter's own limits.
    pub fn new(policy: AdapterPolicy) -> Result<GpuBackend, BackendError> {
        let ctx = context::Context::open(policy)?;
        Ok(GpuBackend { ctx })
    }

    /// A backend of its own (pipelines, buffers, frames in flight) on a shared device.
    pub fn on(device: &GpuDevice) -> GpuBackend {
        GpuBackend {
            ctx: device.0.clone(),
        }
    }

    /// The adapter this backend runs on.
    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.ctx.info.clone()
    }

    /// The largest frame buffer, in bytes, this device can bind; larger frames are refused with
    /// [`BackendError::FrameTooLarge`] (and must be tiled by the caller).
    pub fn max_frame_bytes(&self) -> u64 {
        self.ctx.max_binding()
    }
}

impl Backend for GpuBackend {
    fn describe(&self) -> String {
        let info = &self.ctx.info;
        format!("gpu ({}, {:?})", info.name, info.backend)
    }

    fn process(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> {
        super::check_format(plan, &frame)?;
        if plan.passes.is_empty() {
            return Ok(frame);
        }
        Err(BackendError::Gpu(
            "PLANAR-WIP: planar frames on the GPU".into(),
        ))
    }
}
