//! The filter stage: backends that run a compiled [`Plan`] on a [`Frame`].
//!
//! Backends know passes ([`crate::plan::PassKind`]) and ops ([`crate::op`]), never filters.
//! Both follow the same contract, which the parity tests hold them to:
//! - frames keep their planes: each pass reads and writes planes at their own size and depth,
//!   and planes a pass does not change are handed on as they are;
//! - between passes a plane keeps more precision than the frame's codes (it is rounded to them
//!   once, by the last pass that changes it); every pass clamps its output to the plane's
//!   codes; edges are clamped (replicate);
//! - the results of the two backends differ by at most one code value per plane.

pub mod cpu;
pub mod gpu;

use crate::frame::{Frame, Samples};
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
    #[error("frame of {width}x{height} needs a {needed}-byte GPU buffer, more than this adapter allows ({limit} bytes), and cannot run in strips: {why} (--backend cpu runs it whole)")]
    FrameTooLarge {
        width: u32,
        height: u32,
        needed: u64,
        limit: u64,
        /// Why the plan cannot run in strips that fit.
        why: &'static str,
    },
    #[error("GPU error: {0}")]
    Gpu(String),
    #[error("frame is {got} but the plan was compiled for {want}")]
    FormatMismatch { got: String, want: String },
}

/// Runs plans on frames. One backend serves a whole run; it may keep pipelines and buffers
/// between frames.
pub trait Backend: Send {
    /// A short human description, e.g. `cpu (2 threads)` or `gpu (NVIDIA H100, Vulkan)`.
    fn describe(&self) -> String;

    /// Runs every pass of `plan` on `frame`; the result has the plan's output format and the
    /// frame's index and pts.
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

    /// Says that the frames from now on are another stream's: temporal ops (tmix, hqdn3d)
    /// start their histories again with the next frame instead of mixing in the last stream's.
    /// A backend opened for a run starts with none.
    fn new_stream(&mut self) {}

    /// Says that frames will come from a decoder working at the same time on threads of its
    /// own (a video), so that the backend leaves it cores instead of fanning every frame out
    /// over all of them.
    fn share_cores_with_decoder(&mut self) {}

    /// Takes back a frame the backend returned and the caller is done with, so that its planes
    /// serve a later frame instead of new allocations.
    fn recycle(&mut self, frame: Frame) {
        drop(frame);
    }

    /// A buffer for a plane of `len` samples (16-bit when `wide`) that the caller will fill
    /// and hand to [`Backend::process`]: one the backend kept from earlier frames where it has
    /// one, so that a steady loop of calls does not fault in new memory for every picture.
    /// Its contents are unspecified.
    fn buffer(&mut self, len: usize, wide: bool) -> Samples {
        if wide {
            Samples::U16(vec![0; len])
        } else {
            Samples::U8(vec![0; len])
        }
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
            Ok(gpu) => {
                auto_chose(format_args!("the GPU, {}", gpu.describe()));
                Ok(Box::new(gpu))
            }
            Err(e) => {
                auto_chose(format_args!("the CPU: {e}"));
                Ok(Box::new(cpu::CpuBackend::new()))
            }
        },
    }
}

/// Says (with `-v`) what `--backend auto` chose and why: once a process, as a batch's files
/// all choose alike; again only at debug level.
fn auto_chose(what: std::fmt::Arguments) {
    static SAID: std::sync::Once = std::sync::Once::new();
    let mut first = false;
    SAID.call_once(|| first = true);
    if first {
        tracing::info!("backend auto chose {what}");
    } else {
        tracing::debug!("backend auto chose {what}");
    }
}

fn check_format(plan: &Plan, frame: &Frame) -> Result<(), BackendError> {
    let (a, b) = (&frame.format, &plan.input);
    if (a.width, a.height, a.layout, a.bits) != (b.width, b.height, b.layout, b.bits) {
        return Err(BackendError::FormatMismatch {
            got: a.describe(),
            want: b.describe(),
        });
    }
    Ok(())
}
