//! The chain language: text → [`parse`] → AST → [`resolve`] → [`Chain`].

use crate::filters::{Args, FilterSpec};

/// One resolved stage: a filter with checked arguments.
#[derive(Clone, Debug)]
pub struct Stage {
    pub spec: &'static FilterSpec,
    pub args: Args,
    /// Byte span of the stage in the chain text.
    pub span: (usize, usize),
}

/// A resolved chain: filters with checked parameters, in order.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    pub stages: Vec<Stage>,
    /// The text the chain was parsed from, for error messages.
    pub source: String,
}

/// An error in chain text, with the byte span it points at and an optional hint.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ChainError {
    pub message: String,
    pub span: (usize, usize),
    pub help: Option<String>,
}
