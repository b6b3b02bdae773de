//! The CPU backend.
use super::{Backend, BackendError};
use crate::{frame::Frame, plan::Plan};
pub struct CpuBackend;
impl CpuBackend { pub fn new() -> CpuBackend { CpuBackend } }
impl Backend for CpuBackend {
    fn describe(&self) -> String { "cpu".into() }
    fn process(&mut self, plan: &Plan, frame: Frame) -> Result<Frame, BackendError> { super::check_size(plan, &frame)?; Ok(frame) }
}
