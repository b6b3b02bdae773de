//! tessera: filter chains over images and videos, on the CPU (rayon) or the GPU (wgpu).
//!
//! The data path is decode → CPU stage (conversion) → filter stage ([`backend`]) → encode, see
//! `pipeline`. Frames keep the source's planes ([`frame`]). A chain's text goes through
//! [`chain::parse`] and [`chain::resolve`] against the [`filters`] registry, then
//! [`plan::compile`] lowers it for the stream's format into [`op`]s and fuses them into passes
//! that a backend runs.

pub mod backend;
pub mod batch;
pub mod chain;
pub mod error;
pub mod filters;
pub mod frame;
pub mod job;
pub mod limits;
pub mod media;
pub mod op;
pub mod pipeline;
pub mod pixel;
pub mod plan;
pub mod stats;
pub mod stream;

pub use backend::{Backend, BackendChoice, BackendError};
pub use chain::Chain;
pub use error::Error;
pub use frame::{Format, Frame, Layout, Samples};
pub use plan::Plan;
