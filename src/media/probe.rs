//! What a video file holds, from its container and stream headers, without decoding it.

use std::path::Path;

use ffmpeg::{ffi, format, media};
use ffmpeg_next as ffmpeg;

use super::convert;
use super::decode::{codec_name, ffmpeg_path, init};
use super::{display, MediaError};

/// One stream of a file.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSummary {
    pub index: usize,
    /// `video`, `audio`, `subtitle`, `data`, `attachment` or `unknown`.
    pub kind: &'static str,
    /// FFmpeg's codec name, e.g. `h264` or `aac`.
    pub codec: String,
}

/// A video file's main facts, as `tessera probe` shows them.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoInfo {
    /// The container, as FFmpeg names its demuxer (e.g. `mov,mp4,m4a,3gp,3g2,mj2`).
    pub container: String,
    /// The video stream's codec (e.g. `h264`).
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Pixel format of the video stream (e.g. `yuv420p10le`).
    pub pixel_format: String,
    /// Bits per sample of the video stream.
    pub bit_depth: u32,
    /// Frames per second (FFmpeg's best guess), when known.
    pub frame_rate: Option<f64>,
    /// Seconds, of the video stream when its header says, else of the file.
    pub duration: Option<f64>,
    /// Frames of the video stream, when the container records it.
    pub frames: Option<u64>,
    pub audio_streams: usize,
    pub streams: Vec<StreamSummary>,
}

/// Reads the headers of `path` (and a little of its data, as FFmpeg's probing does).
pub fn probe_video(path: &Path) -> Result<VideoInfo, MediaError> {
    init();
    let open_error = |message: String| MediaError::Open {
        path: display(path),
        message,
    };
    let name = ffmpeg_path(path, open_error)?;
    if let Err(e) = std::fs::metadata(path) {
        return Err(MediaError::Open {
            path: display(path),
            message: super::io_message(&e),
        });
    }
    let input = format::input(name).map_err(|e| match e {
        ffmpeg::Error::InvalidData => MediaError::Open {
            path: display(path),
            message: "not a video file FFmpeg can read".into(),
        },
        e => MediaError::Open {
            path: display(path),
            message: format!("cannot open: {e}"),
        },
    })?;
    let streams: Vec<StreamSummary> = input
        .streams()
        .map(|s| {
            let p = s.parameters();
            let kind = match p.medium() {
                media::Type::Video => "video",
                media::Type::Audio => "audio",
                media::Type::Subtitle => "subtitle",
                media::Type::Data => "data",
                media::Type::Attachment => "attachment",
                media::Type::Unknown => "unknown",
            };
            // SAFETY: reading a field of the stream's parameters.
            let codec = codec_name(unsafe { (*p.as_ptr()).codec_id });
            StreamSummary {
                index: s.index(),
                kind,
                codec,
            }
        })
        .collect();
    let audio_streams = streams.iter().filter(|s| s.kind == "audio").count();
    let video =
        input
            .streams()
            .best(media::Type::Video)
            .ok_or_else(|| MediaError::NoVideoStream {
                path: display(path),
            })?;
    let index = video.index();
    let parameters = video.parameters();
    // SAFETY: reading plain fields of the stream's parameters and of the open context.
    let (width, height, format, codec_id) = unsafe {
        let p = &*parameters.as_ptr();
        let format = if p.format < 0 || p.format >= ffi::AVPixelFormat::AV_PIX_FMT_NB as i32 {
            ffi::AVPixelFormat::AV_PIX_FMT_NONE
        } else {
            std::mem::transmute::<i32, ffi::AVPixelFormat>(p.format)
        };
        (
            p.width.max(0) as u32,
            p.height.max(0) as u32,
            format,
            p.codec_id,
        )
    };
    // SAFETY: both pointers come from the open input; the frame argument may be NULL.
    let rate = unsafe {
        let ctx = input.as_ptr() as *mut ffi::AVFormatContext;
        ffi::av_guess_frame_rate(ctx, *(*ctx).streams.add(index), std::ptr::null_mut())
    };
    let frame_rate = (rate.num > 0 && rate.den > 0).then(|| rate.num as f64 / rate.den as f64);
    let time_base = f64::from(video.time_base());
    let duration = if video.duration() > 0 && time_base > 0.0 {
        Some(video.duration() as f64 * time_base)
    } else if input.duration() > 0 {
        Some(input.duration() as f64 / ffi::AV_TIME_BASE as f64)
    } else {
        None
    };
    let frames = (video.frames() > 0).then_some(video.frames() as u64);
    Ok(VideoInfo {
        container: input.format().name().to_string(),
        codec: codec_name(codec_id),
        width,
        height,
        pixel_format: convert::format_name(format),
        bit_depth: convert::format_depth(format),
        frame_rate,
        duration,
        frames,
        audio_streams,
        streams,
    })
}
