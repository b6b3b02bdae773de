//! An input read from standard input (`tessera process - …`): a picture is read whole into a
//! temporary file (a still is decoded whole anyway, and its format is told from its content);
//! anything else is handed to FFmpeg as a pipe as it comes, so that a live stream (`ffmpeg …
//! -f nut - | tessera process - …`) is filtered while it arrives.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::{io_message, MediaError};

/// How the user names standard input.
pub fn is_stdin(path: &Path) -> bool {
    matches!(path.to_str(), Some("-" | "pipe:" | "pipe:0"))
}

/// What the error messages call standard input.
pub const NAME: &str = "stdin";

/// Standard input, made readable by path for the rest of a run; dropping it removes the
/// temporary file or closes the pipe.
pub enum Taken {
    /// A still picture, whole, in a temporary file named with its format's extension.
    Image(PathBuf),
    /// Anything else, read through a pipe whose read end FFmpeg opens as `pipe:FD`.
    #[cfg(feature = "video")]
    Stream {
        path: PathBuf,
        _reader: std::io::PipeReader,
    },
}

impl Taken {
    /// The path the run reads instead of `-`.
    pub fn path(&self) -> &Path {
        match self {
            Taken::Image(path) => path,
            #[cfg(feature = "video")]
            Taken::Stream { path, .. } => path,
        }
    }
}

impl Drop for Taken {
    // Without video support a picture is all standard input can be.
    #[cfg_attr(not(feature = "video"), allow(irrefutable_let_patterns))]
    fn drop(&mut self) {
        if let Taken::Image(path) = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn read_error(e: std::io::Error) -> MediaError {
    MediaError::Open {
        path: NAME.to_string(),
        message: format!("cannot read: {}", io_message(&e)),
    }
}

/// Reads the start of standard input and decides: a picture tessera reads as an image, or a
/// stream for FFmpeg.
pub fn take() -> Result<Taken, MediaError> {
    let mut stdin = std::io::stdin().lock();
    // Enough for every image signature, and for FFmpeg to tell most containers.
    let mut head = vec![0u8; 4096];
    let mut filled = 0;
    while filled < head.len() {
        match stdin.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
    head.truncate(filled);
    if head.is_empty() {
        return Err(MediaError::Open {
            path: NAME.to_string(),
            message: "nothing came on standard input".into(),
        });
    }
    let extension = image::guess_format(&head).ok().and_then(|f| match f {
        image::ImageFormat::Png => Some("png"),
        image::ImageFormat::Jpeg => Some("jpg"),
        image::ImageFormat::WebP => Some("webp"),
        image::ImageFormat::Tiff => Some("tiff"),
        image::ImageFormat::Bmp => Some("bmp"),
        image::ImageFormat::Avif => Some("avif"),
        _ => None,
    });
    if let Some(extension) = extension {
        let path =
            std::env::temp_dir().join(format!(".tessera-{}-stdin.{extension}", std::process::id()));
        let taken = Taken::Image(path.clone());
        let write_error = |e: std::io::Error| MediaError::Open {
            path: NAME.to_string(),
            message: format!(
                "cannot keep the picture in {}: {}",
                path.display(),
                io_message(&e)
            ),
        };
        let mut file = std::fs::File::create(&path).map_err(write_error)?;
        file.write_all(&head).map_err(write_error)?;
        std::io::copy(&mut stdin, &mut file).map_err(read_error)?;
        return Ok(taken);
    }
    stream(head)
}

#[cfg(feature = "video")]
fn stream(head: Vec<u8>) -> Result<Taken, MediaError> {
    use std::os::fd::AsRawFd;
    let (reader, mut writer) = std::io::pipe().map_err(read_error)?;
    // The bytes already read, then the rest as it comes. The thread ends at the end of
    // standard input, or when the run closes the read end (a write then fails).
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            if writer.write_all(&head).is_ok() {
                let _ = std::io::copy(&mut std::io::stdin().lock(), &mut writer);
            }
        })
        .map_err(read_error)?;
    Ok(Taken::Stream {
        path: PathBuf::from(format!("pipe:{}", reader.as_raw_fd())),
        _reader: reader,
    })
}

#[cfg(not(feature = "video"))]
fn stream(_head: Vec<u8>) -> Result<Taken, MediaError> {
    Err(MediaError::Unsupported {
        path: NAME.to_string(),
        message:
            "not a picture (PNG, JPEG, WebP, TIFF, BMP or AVIF), and this build of tessera has no \
                  video support"
                .into(),
    })
}

/// True when `path` is a pipe FFmpeg reads or writes by file descriptor (`pipe:1`).
pub fn is_pipe(path: &Path) -> bool {
    path.to_str().is_some_and(|p| p.starts_with("pipe:"))
}
