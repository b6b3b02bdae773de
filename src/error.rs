//! The top-level error: one variant per layer, each carrying the layer's own error.

use crate::backend::BackendError;
use crate::chain::ChainError;
use crate::media::MediaError;
use crate::plan::PlanError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The chain text does not parse or names unknown filters or bad parameters.
    #[error("{0}")]
    Chain(#[from] ChainError),
    /// The chain cannot run on this input (a crop outside the frame, say).
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// A request that makes no sense before any work starts (an existing output without
    /// `--overwrite`, say).
    #[error("{0}")]
    Usage(String),
    /// The run was asked to stop (its [`crate::job::Stop`], or the whole process's
    /// [`crate::job::request_stop`]: Ctrl-C in the binary) before it was done; its output was
    /// not written.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// True for errors in what the user asked (exit code 2), false for failures while
    /// processing (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Chain(_) | Error::Plan(_) | Error::Usage(_))
    }
}

/// `error`'s text followed by each cause it keeps that its text does not already say, a
/// `caused by:` line each: what the command line and the Python package print.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text += &format!("\n  caused by: {line}");
        }
        source = cause.source();
    }
    text
}
