//! Image and video reading and writing: files in, [`Frame`](crate::frame::Frame)s out, and back.
//!
//! One file per direction: [`image`] reads and writes stills through the `image` crate
//! ([`encoders`] encodes them, [`tiff_file`] writes tiled, pyramid and JPEG-compressed TIFFs and
//! reads the Y′CbCr ones back); with the
//! `video` feature, `decode` demuxes and decodes video, `convert` maps FFmpeg's pixel formats to
//! planar frames (reading decoded pictures in place) and back, `encode` encodes and muxes
//! (copying audio packet for packet),
//! `probe` describes any media file FFmpeg opens, and `clip` reads a second video beside the one
//! being filtered (an overlay's), picture by picture as time goes. This layer knows frames, never filters,
//! plans or backends.

#[cfg(feature = "video")]
mod audio;
#[cfg(feature = "avif")]
pub mod avif;
#[cfg(feature = "video")]
pub mod clip;
pub mod cms;
#[cfg(feature = "video")]
pub mod convert;
pub mod damage;
#[cfg(feature = "video")]
pub mod decode;
pub mod encode;
pub mod encoders;
#[cfg(feature = "video")]
mod ffmpeg_log;
pub mod icc;
pub mod image;
mod jpeg;
pub mod metadata;
#[cfg(feature = "video")]
pub mod probe;
pub mod rows;
pub mod stdin;
#[cfg(feature = "video")]
mod subtitle;
pub mod tiff_file;
#[cfg(feature = "video")]
mod webp;

use std::path::Path;

pub use encode::EncodeSettings;

/// What to do with damaged input: an image the decoder reports damaged or had to conceal parts
/// of, a corrupt video packet, a frame the decoder could only conceal, a file that ends early.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnError {
    /// Stop with an error that says what and where, and write nothing (`--on-error stop`, the
    /// default).
    #[default]
    Stop,
    /// Leave the damaged image, or a video's damaged frames, out; count them and go on
    /// (`--on-error skip`).
    Skip,
    /// Keep what the decoder made of the damaged data, with a warning: a damaged image is
    /// written as decoded, a video keeps the frames the decoder concealed damage in; frames that
    /// could not be decoded at all are left out and counted (`--on-error accept`).
    Accept,
}

/// Damage found in an image: its format and what is wrong, where the decoder can tell
/// ("damaged JPEG: data ends at row 96 of 192").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// The format's name as users know it: `JPEG`, `PNG`, `WebP`, `TIFF`, `BMP`.
    pub format: &'static str,
    pub what: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "damaged {}: {}", self.format, self.what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_patterns() {
        assert!(is_sequence(Path::new("frames/%05d.png")));
        assert!(is_sequence(Path::new("f%d.jpg")));
        assert!(!is_sequence(Path::new("f%.jpg")));
        assert!(!is_sequence(Path::new("100%/clip.mp4")));
        assert!(!is_sequence(Path::new("a%d%d.png")));
        assert_eq!(
            sequence_file(Path::new("out/%05d.png"), 42).unwrap(),
            Path::new("out/00042.png")
        );
        assert_eq!(
            sequence_file(Path::new("f%d.jpg"), 7).unwrap(),
            Path::new("f7.jpg")
        );
    }
}

/// The part of a video to process: from `start` seconds (from the start of the file), for
/// `duration` seconds or `frames` frames, whichever ends first.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Trim {
    pub start: f64,
    pub duration: Option<f64>,
    pub frames: Option<u64>,
}
#[cfg(feature = "video")]
pub use encode::VideoWriter;
#[cfg(feature = "video")]
pub use probe::{probe, probe_video, MediaInfo, VideoInfo};

/// What can go wrong reading or writing media. Every variant names the file; the message says
/// what went wrong in words a user understands, with FFmpeg's or the codec's own reason last.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file cannot be opened or read (missing, unreadable, not a media container).
    #[error("{path}: {message}")]
    Open { path: String, message: String },
    /// The file is readable but its format, codec or layout is one tessera does not handle.
    #[error("{path}: {message}")]
    Unsupported { path: String, message: String },
    /// The data is damaged or truncated.
    #[error("{path}: {message}")]
    Decode { path: String, message: String },
    /// The input holds no video stream to filter.
    #[error("{path}: no video stream")]
    NoVideoStream { path: String },
    /// `--codec` names no encoder this FFmpeg has.
    #[error("{path}: encoder '{name}' not found{hint}")]
    EncoderNotFound {
        path: String,
        name: String,
        hint: String,
    },
    /// An encoder option that was asked for explicitly is one the encoder does not have.
    #[error("{path}: encoder '{encoder}' does not accept the option {option}={value}")]
    EncoderOption {
        path: String,
        encoder: String,
        option: String,
        value: String,
    },
    /// The frame size cannot be encoded in the chosen pixel format (odd sizes with 4:2:0).
    #[error(
        "{path}: a {width}x{height} frame cannot be encoded as {pix_fmt}, which needs a width \
         that is a multiple of {w_multiple} and a height that is a multiple of {h_multiple} \
         (end the chain with scale(width=-2, ...) or a crop to an even size)"
    )]
    FrameSize {
        path: String,
        width: u32,
        height: u32,
        pix_fmt: String,
        w_multiple: u32,
        h_multiple: u32,
    },
    /// The encoder or the muxer refused the stream.
    #[error("{path}: {message}")]
    Encode { path: String, message: String },
    /// Damaged data in the video, where it was found.
    #[error(
        "{path}: damaged video at frame {frame} (t = {time:.3} s): {what} (--on-error skip leaves \
         damaged frames out and goes on, --on-error accept keeps what the decoder made of them)"
    )]
    Damaged {
        path: String,
        /// The number of the frame, counted from 0 as the output counts them.
        frame: u64,
        /// Seconds from the start of the file.
        time: f64,
        what: String,
    },
    /// A damaged image (cut short, corrupt data, a chunk that fails its checksum).
    #[error(
        "{path}: {damage} (--on-error skip leaves it out, --on-error accept writes what was \
         decoded)"
    )]
    DamagedImage { path: String, damage: Damage },
    /// The output cannot be written (permissions, disk full, a folder that does not exist).
    #[error("{path}: {message}")]
    Write { path: String, message: String },
    /// The picture, or what the chain makes of it, is larger than `--max-pixels` or would need
    /// more memory than `--max-memory`: refused before it is decoded.
    #[error("{path}: {message}")]
    TooLarge { path: String, message: String },
    /// The program reading the output (a pipe's other end) closed it before the end.
    #[error("{path}: closed by the program reading it")]
    Closed { path: String },
}

/// The file an error names: every variant has one. A macro, so that one list of the variants
/// serves a shared and a mutable borrow.
macro_rules! path_of {
    ($error:expr) => {
        match $error {
            MediaError::Open { path, .. }
            | MediaError::Unsupported { path, .. }
            | MediaError::Decode { path, .. }
            | MediaError::NoVideoStream { path }
            | MediaError::EncoderNotFound { path, .. }
            | MediaError::EncoderOption { path, .. }
            | MediaError::FrameSize { path, .. }
            | MediaError::Encode { path, .. }
            | MediaError::Damaged { path, .. }
            | MediaError::DamagedImage { path, .. }
            | MediaError::Write { path, .. }
            | MediaError::TooLarge { path, .. }
            | MediaError::Closed { path } => path,
        }
    };
}

impl MediaError {
    /// The file the error is about, as it was given.
    pub fn path(&self) -> &str {
        path_of!(self)
    }

    /// The error with the file it names changed from `from` to `to`: a writer's errors name the
    /// temporary file it writes, which the user never asked for.
    pub fn renamed(mut self, from: &str, to: &str) -> MediaError {
        let path = path_of!(&mut self);
        if path == from {
            *path = to.to_string();
        }
        self
    }
}

/// Where the frame number goes in an image sequence's file name (`%d`, `%05d`): the byte range
/// of the pattern and its width (0: as many digits as the number has).
fn sequence_pattern(path: &Path) -> Option<(usize, usize, usize)> {
    let name = path.file_name()?.to_str()?;
    let start = name.find('%')?;
    let rest = &name[start + 1..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if rest.as_bytes().get(digits) != Some(&b'd') || name[start + 2 + digits..].contains('%') {
        return None;
    }
    let width = rest[..digits].parse().unwrap_or(0);
    let offset = path.as_os_str().len() - name.len();
    Some((offset + start, offset + start + 2 + digits, width))
}

/// True when `path` names an image sequence: a file name with `%d` or `%05d` where the frame
/// number goes (`frames/%05d.png`).
pub fn is_sequence(path: &Path) -> bool {
    sequence_pattern(path).is_some()
}

/// The file of frame `number` of the sequence `pattern`.
pub fn sequence_file(pattern: &Path, number: u64) -> Option<std::path::PathBuf> {
    let (start, end, width) = sequence_pattern(pattern)?;
    let text = pattern.to_str()?;
    Some(format!("{}{number:0width$}{}", &text[..start], &text[end..]).into())
}

/// How error messages name a file.
pub(crate) fn display(path: &Path) -> String {
    path.display().to_string()
}

/// An I/O error as a user reads it: "no such file" rather than "No such file or directory (os
/// error 2)".
pub(crate) fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    }
}
