//! The filter stage: backends that run a compiled [`Plan`] on a [`Frame`].
//!
//! Backends know passes ([`crate::plan::PassKind`]), never filters. Both follow the same
//! arithmetic contract, which the parity tests hold them to:
//! - a frame's code values become 0..=1 floats (`code / max`), all arithmetic is f32;
//! - every pass clamps its output to 0..=1; edges are clamped (replicate);
//! - the result is rounded to the nearest code value of the input's depth once, at the end.

pub mod cpu;
pub mod gpu;

use crate::frame::Frame;
use crate::plan::Plan;

/// Which backend the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendChoice {
    Cpu,
    /// Any GPU adapter wgpu finds, software ones (Mesa's lavapipe) included.
    Gpu,
    /// A hardware GPU when there is one, the CPU otherwise.
    Auto,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("no GPU adapter found{0}")]
    NoAdapter(String),
    #[error("could not open the GPU device: {0}")]
    Device(String),
    #[error("frame of {width}x{height} needs a {needed}-byte GPU buffer, more than this adapter allows ({limit} bytes)")]
    FrameTooLarge {
        width: u32,
        height: u32,
        needed: u64,
        limit: u64,
    },
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("frame is {got_w}x{got_h} but the plan was compiled for {want_w}x{want_h}")]
    SizeMismatch {
        got_w: u32,
        got_h: u32,
        want_w: u32,
        want_h: u32,
    },
}

/// Runs plans on frames. One backend serves a whole run; it may keep pipelines and buffers
/// between frames.
pub trait Backend: Send {
    /// A short human description, e.g. `cpu (2 threads)` or `gpu (NVIDIA H100, Vulkan)`.
    fn describe(&self) -> String;

    /// Runs every pass of `plan` on `frame`; the result keeps the frame's depth, index and pts.
    fn process(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError>;

    /// Starts `frame` through `plan` and returns the oldest frame that is done, if one is: a
    /// backend that overlaps frames (the GPU's upload, compute and read-back) keeps a few in
    /// flight and hands them back in the order they came. Frames still in flight at the end
    /// come out of [`Backend::finish`]. A stream uses one plan for all its frames.
    fn submit(&mut self, plan: &Plan, frame: Frame) -> Result<Option<Frame>, BackendError> {
        self.process(plan, frame).map(Some)
    }

    /// The oldest frame still in flight, finished; `None` when there is none.
    fn finish(&mut self) -> Result<Option<Frame>, BackendError> {
        Ok(None)
    }
}

/// Opens the backend the user chose.
pub fn open(choice: BackendChoice) -> Result<Box<dyn Backend>, BackendError> {
    open_on(choice, None)
}

/// [`open`], a GPU backend made on `device` where one is given (a batch shares one device).
pub fn open_on(
    choice: BackendChoice,
    device: Option<&gpu::GpuDevice>,
) -> Result<Box<dyn Backend>, BackendError> {
    if let (BackendChoice::Gpu | BackendChoice::Auto, Some(device)) = (choice, device) {
        return Ok(Box::new(gpu::GpuBackend::on(device)));
    }
    match choice {
        BackendChoice::Cpu => Ok(Box::new(cpu::CpuBackend::new())),
        BackendChoice::Gpu => Ok(Box::new(gpu::GpuBackend::new(gpu::AdapterPolicy::Any)?)),
        BackendChoice::Auto => match gpu::GpuBackend::new(gpu::AdapterPolicy::HardwareOnly) {
            Ok(gpu) => Ok(Box::new(gpu)),
            Err(_) => Ok(Box::new(cpu::CpuBackend::new())),
        },
    }
}

fn check_size(plan: &Plan, frame: &Frame) -> Result<(), BackendError> {
    if (frame.width, frame.height) != plan.input {
        return Err(BackendError::SizeMismatch {
            got_w: frame.width,
            got_h: frame.height,
            want_w: plan.input.0,
            want_h: plan.input.1,
        });
    }
    Ok(())
}
