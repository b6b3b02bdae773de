//! tessera: filter chains over images and videos, on the CPU (rayon) or the GPU (wgpu).
//!
//! The data path is decode → CPU stage (conversion) → filter stage ([`backend`]) → encode, see
//! `pipeline`. A chain's text goes through [`chain::parse`] and [`chain::resolve`] against the
//! [`filters`] registry, then [`plan::compile`] lowers it into passes that a backend runs.

pub mod backend;
pub mod chain;
pub mod error;
pub mod filters;
pub mod frame;
pub mod job;
pub mod media;
pub mod pipeline;
pub mod pixel;
pub mod plan;
pub mod stats;

pub use backend::{Backend, BackendChoice, BackendError};
pub use chain::Chain;
pub use error::Error;
pub use frame::{Depth, Frame, Pixels};
pub use plan::Plan;
