//! Video in: demuxing and decoding with FFmpeg, frame-threaded.
//!
//! [`VideoDecoder`] opens a file, picks its best video stream and hands out, in demux order,
//! decoded pictures of that stream (numbered, with their best-effort timestamps) and the raw
//! packets of the streams the caller asked to copy. It never converts pixels ([`super::convert`]
//! does) and never writes anything.

use std::path::Path;

use ffmpeg::ffi::{self, AVPixelFormat, FF_THREAD_FRAME, FF_THREAD_SLICE};
use ffmpeg::{codec, format, media, Packet, Rational};
use ffmpeg_next as ffmpeg;

use super::convert::{self, Colour};
use super::{display, MediaError};
use crate::frame::Depth;

/// Initialises FFmpeg once and quiets its console logging to errors: tessera reports what
/// went wrong itself, and a batch run must not print an encoder's banner per file.
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg::init();
        // SAFETY: sets a global integer.
        unsafe { ffi::av_log_set_level(ffi::AV_LOG_ERROR) };
    });
}

/// FFmpeg wants UTF-8 file names without NUL bytes; refuse others before they reach it
/// (ffmpeg-next would panic on them).
pub(crate) fn ffmpeg_path(
    path: &Path,
    as_error: impl FnOnce(String) -> MediaError,
) -> Result<&str, MediaError> {
    match path.to_str() {
        Some(s) if !s.contains('\0') => Ok(s),
        _ => Err(as_error(
            "the file name is not valid UTF-8, which FFmpeg needs".to_string(),
        )),
    }
}

/// True when FFmpeg recognises the file's container (whatever its streams). Cheap: it reads the
/// header only, no stream is probed or decoded.
pub fn recognised(path: &Path) -> bool {
    init();
    let Ok(name) = ffmpeg_path(path, |m| MediaError::Open {
        path: String::new(),
        message: m,
    }) else {
        return false;
    };
    let Ok(name) = std::ffi::CString::new(name) else {
        return false;
    };
    let mut ctx = std::ptr::null_mut();
    // SAFETY: opens and at once closes a demuxer on a NUL-terminated path; on failure FFmpeg
    // frees the context and leaves it NULL.
    unsafe {
        if ffi::avformat_open_input(
            &mut ctx,
            name.as_ptr(),
            std::ptr::null(),
            std::ptr::null_mut(),
        ) < 0
        {
            return false;
        }
        ffi::avformat_close_input(&mut ctx);
    }
    true
}

/// What the decoder knows about the video stream before the first picture.
#[derive(Clone, Copy, Debug)]
pub struct StreamInfo {
    /// Index of the video stream in the file.
    pub index: usize,
    pub width: u32,
    pub height: u32,
    pub format: AVPixelFormat,
    /// The depth frames of this stream keep: RGBA16 for sources deeper than 8 bits.
    pub depth: Depth,
    pub colour: Colour,
    /// The stream's tags, passed on to the encoder unchanged.
    pub primaries: ffi::AVColorPrimaries,
    pub transfer: ffi::AVColorTransferCharacteristic,
    pub time_base: Rational,
    /// The stream's first timestamp, in `time_base`, where the container gives it.
    pub start: Option<i64>,
    /// Seconds the stream lasts, from the stream or the container; 0 when unknown.
    pub duration: f64,
    /// FFmpeg's best guess (`av_guess_frame_rate`); 0/1 when unknown.
    pub frame_rate: Rational,
    pub aspect_ratio: Rational,
}

/// A decoded picture of the video stream.
pub struct Picture {
    /// Position in decode (= presentation) order, from 0.
    pub index: u64,
    /// Best-effort presentation timestamp in the stream's time base.
    pub pts: Option<i64>,
    pub picture: ffmpeg::frame::Video,
}

/// What the decoder hands out next.
pub enum Decoded {
    Picture(Picture),
    /// A packet of a stream to copy, with its input stream index and timestamps untouched.
    Packet(Packet),
}

pub struct VideoDecoder {
    path: String,
    input: format::context::Input,
    decoder: ffmpeg::decoder::Video,
    info: StreamInfo,
    /// Which input streams' packets to hand out as they are.
    copy: Vec<bool>,
    next_index: u64,
    /// The demuxer is at its end and the decoder has been told.
    draining: bool,
    finished: bool,
}

fn open_error(path: &Path, message: String) -> MediaError {
    MediaError::Open {
        path: display(path),
        message,
    }
}

impl VideoDecoder {
    /// Opens `path` and the decoder of its best video stream.
    pub fn open(path: &Path) -> Result<VideoDecoder, MediaError> {
        init();
        let name = ffmpeg_path(path, |m| open_error(path, m))?;
        if let Err(e) = std::fs::metadata(path) {
            return Err(open_error(path, super::io_message(&e)));
        }
        let input = format::input(name).map_err(|e| match e {
            ffmpeg::Error::InvalidData => open_error(
                path,
                "not a video or image file tessera can read (FFmpeg finds no known format)".into(),
            ),
            e => open_error(path, format!("cannot open: {e}")),
        })?;
        let stream =
            input
                .streams()
                .best(media::Type::Video)
                .ok_or_else(|| MediaError::NoVideoStream {
                    path: display(path),
                })?;
        let index = stream.index();
        let time_base = stream.time_base();
        let start = (stream.start_time() != ffi::AV_NOPTS_VALUE).then(|| stream.start_time());
        let tb = f64::from(time_base);
        let duration = if stream.duration() > 0 && tb > 0.0 {
            stream.duration() as f64 * tb
        } else if input.duration() > 0 {
            input.duration() as f64 / ffi::AV_TIME_BASE as f64
        } else {
            0.0
        };
        let parameters = stream.parameters();
        // SAFETY: the parameters belong to a stream of the open input.
        let (id, width, height, format, space, range, primaries, transfer, sar) = unsafe {
            let p = &*parameters.as_ptr();
            let format = if p.format < 0 || p.format >= AVPixelFormat::AV_PIX_FMT_NB as i32 {
                AVPixelFormat::AV_PIX_FMT_NONE
            } else {
                std::mem::transmute::<i32, AVPixelFormat>(p.format)
            };
            (
                p.codec_id,
                p.width,
                p.height,
                format,
                p.color_space,
                p.color_range,
                p.color_primaries,
                p.color_trc,
                p.sample_aspect_ratio,
            )
        };
        // SAFETY: both pointers come from the open input; the frame argument may be NULL.
        let frame_rate = unsafe {
            let ctx = input.as_ptr() as *mut ffi::AVFormatContext;
            let st = *(*ctx).streams.add(index);
            Rational::from(ffi::av_guess_frame_rate(ctx, st, std::ptr::null_mut()))
        };
        let codec_name = codec_name(id);
        if width <= 0 || height <= 0 {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!("the {codec_name} video stream has no frame size"),
            });
        }
        let Some(codec) = ffmpeg::decoder::find(id.into()) else {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!("this FFmpeg has no decoder for {codec_name} video"),
            });
        };
        let mut context = codec::context::Context::from_parameters(parameters).map_err(|e| {
            open_error(path, format!("cannot set up the {codec_name} decoder: {e}"))
        })?;
        // SAFETY: plain fields of an unopened codec context. Thread count 0 lets FFmpeg pick
        // one per core; frame threading where the codec has it, slices otherwise.
        unsafe {
            let ctx = context.as_mut_ptr();
            (*ctx).thread_count = 0;
            (*ctx).thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
            (*ctx).pkt_timebase = time_base.into();
        }
        let decoder = context
            .decoder()
            .open_as(codec)
            .and_then(|d| d.video())
            .map_err(|e| open_error(path, format!("cannot open the {codec_name} decoder: {e}")))?;

        let (width, height) = (width as u32, height as u32);
        let info = StreamInfo {
            index,
            width,
            height,
            format,
            depth: convert::frame_depth(format),
            colour: Colour::of_stream(space, range, format, height),
            primaries,
            transfer,
            time_base,
            start,
            duration,
            frame_rate,
            aspect_ratio: sar.into(),
        };
        let copy = vec![false; input.nb_streams() as usize];
        Ok(VideoDecoder {
            path: display(path),
            input,
            decoder,
            info,
            copy,
            next_index: 0,
            draining: false,
            finished: false,
        })
    }

    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// The open input, for setting up stream copies.
    pub fn input(&self) -> &format::context::Input {
        &self.input
    }

    /// Hands out the packets of these input streams too (never the video stream's).
    pub fn copy_streams(&mut self, streams: &[usize]) {
        for &i in streams {
            if i < self.copy.len() && i != self.info.index {
                self.copy[i] = true;
            }
        }
    }

    /// The next picture or copied packet; `None` at the end, after the decoder has given up
    /// every picture it held.
    pub fn receive(&mut self) -> Result<Option<Decoded>, MediaError> {
        if self.finished {
            return Ok(None);
        }
        let mut picture = ffmpeg::frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut picture) {
                Ok(()) => {
                    let index = self.next_index;
                    self.next_index += 1;
                    let pts = picture.timestamp();
                    return Ok(Some(Decoded::Picture(Picture {
                        index,
                        pts,
                        picture,
                    })));
                }
                Err(ffmpeg::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {}
                Err(e) => return Err(self.decode_error(e)),
            }
            if self.draining {
                // A drained decoder answers EOF, never "again"; stop rather than spin.
                self.finished = true;
                return Ok(None);
            }
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    let stream = packet.stream();
                    if stream == self.info.index {
                        match self.decoder.send_packet(&packet) {
                            Ok(()) => {}
                            // A damaged packet: FFmpeg conceals it and goes on, and so do we.
                            Err(ffmpeg::Error::InvalidData) => {}
                            Err(e) => return Err(self.decode_error(e)),
                        }
                    } else if self.copy.get(stream).copied().unwrap_or(false) {
                        return Ok(Some(Decoded::Packet(packet)));
                    }
                }
                Err(ffmpeg::Error::Eof) => {
                    self.decoder.send_eof().map_err(|e| self.decode_error(e))?;
                    self.draining = true;
                }
                // The demuxer resyncs past a damaged packet.
                Err(ffmpeg::Error::InvalidData) => {}
                Err(e) => {
                    return Err(MediaError::Decode {
                        path: self.path.clone(),
                        message: format!("cannot read: {e}"),
                    })
                }
            }
        }
    }

    fn decode_error(&self, e: ffmpeg::Error) -> MediaError {
        MediaError::Decode {
            path: self.path.clone(),
            message: format!("cannot decode the video (picture {}): {e}", self.next_index),
        }
    }
}

/// FFmpeg's short name of a codec, e.g. `h264`.
pub(crate) fn codec_name(id: ffi::AVCodecID) -> String {
    // SAFETY: returns a static string for any id ("unknown_codec" for unknown ones).
    unsafe {
        let name = ffi::avcodec_get_name(id);
        if name.is_null() {
            "unknown".into()
        } else {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    }
}
