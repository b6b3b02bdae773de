//! Image and video reading and writing. Knows frames, never filters or backends.

/// What can go wrong reading or writing media.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("{path}: {message}")]
    Open { path: String, message: String },
}
