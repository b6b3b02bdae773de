//! The GPU backend (placeholder until the wgpu executor lands in this module).
use super::{Backend, BackendError};
use crate::{frame::Frame, plan::Plan};
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdapterPolicy { Any, HardwareOnly }
pub struct GpuBackend;
impl GpuBackend { pub fn new(_policy: AdapterPolicy) -> Result<GpuBackend, BackendError> { Err(BackendError::NoAdapter(String::new())) } }
impl Backend for GpuBackend {
    fn describe(&self) -> String { "gpu".into() }
    fn process(&mut self, _plan: &Plan, frame: Frame) -> Result<Frame, BackendError> { Ok(frame) }
}
