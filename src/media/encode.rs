//! Video out: encoding frames with any FFmpeg encoder and muxing them, with the input's audio
//! (and, where the container takes them, subtitles) copied packet for packet.
//!
//! The container comes from the output's extension, the encoder from [`EncodeSettings`]
//! (libx264, CRF 18, preset medium by default). Everything that can be refused — an unknown
//! encoder, an option it lacks, a size its pixel format cannot hold, a stream the container
//! cannot carry — is refused in `VideoWriter::open`, before the file is created. Source
//! timestamps are kept (the encoder works in the input stream's time base where it can, in
//! 1/frame rate where it must), less the input's start time, so that the output starts at 0
//! with its streams as far apart as they were.

/// How to encode a video output; every field left `None` takes the default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EncodeSettings {
    /// Any FFmpeg video encoder by name (`libx264`, `libx265`, `libvpx-vp9`, `libsvtav1`,
    /// `ffv1`, …). Default: libx264, or the container's own codec where it cannot hold H.264
    /// (VP9 in WebM, say).
    pub codec: Option<String>,
    /// Constant rate factor, passed to the encoder as its `crf` option. Default 18 for libx264.
    pub crf: Option<u32>,
    /// Speed/size trade-off, passed as the encoder's `preset` option. Default `medium` for
    /// libx264.
    pub preset: Option<String>,
    /// Target bit rate in bits per second (the encoder's `b`).
    pub bitrate: Option<u64>,
    /// Pixel format by FFmpeg's name (`yuv420p`, `yuv420p10le`, `yuv444p`, …). Default:
    /// yuv420p, or yuv420p10le for a source deeper than 8 bits where the encoder takes it.
    pub pix_fmt: Option<String>,
    /// Frames between key frames (the encoder's `g`).
    pub gop: Option<u32>,
    /// Options passed to the encoder as they are (`--encoder-opt key=value`), after the ones
    /// above, so that they win.
    pub options: Vec<(String, String)>,
    /// Leave the input's audio out (`--no-audio`); by default every audio stream is copied.
    pub no_audio: bool,
    /// Re-encode every audio stream with this FFmpeg encoder (`aac`, `libopus`, …) instead of
    /// copying it.
    pub audio_codec: Option<String>,
    /// Turn the pictures as the input's display matrix says (`--auto-rotate`), and write none;
    /// by default the pictures stay as they are and the matrix is copied.
    pub auto_rotate: bool,
    /// The container by FFmpeg's muxer name (`matroska`, `mp4`, `nut`, …) where the output's
    /// name cannot say (`--format`; standard output); by default the extension chooses.
    pub format: Option<String>,
    /// Quantisation tables for an MJPEG encoder (a JPEG image sequence), luma then chroma, in
    /// raster order: written as they are for every AC coefficient (FFmpeg's mjpeg fixes the DC
    /// step at 8). See [`super::encoders::jpeg_tables`].
    pub jpeg_tables: Option<Box<[[u16; 64]; 2]>>,
}

/// The encoder used when none is named.
pub const DEFAULT_CODEC: &str = "libx264";
/// CRF used with libx264 when none is given: visually transparent for most sources.
pub const DEFAULT_X264_CRF: u32 = 18;
pub const DEFAULT_X264_PRESET: &str = "medium";

#[cfg(feature = "video")]
pub use writer::VideoWriter;

#[cfg(feature = "video")]
mod writer {
    use std::ffi::CString;
    use std::path::Path;
    use std::ptr;

    use ffmpeg::ffi::{self, AVPixelFormat};
    use ffmpeg::{codec, format, media, Dictionary, Packet, Rational, Rescale};
    use ffmpeg_next as ffmpeg;

    use super::{EncodeSettings, DEFAULT_CODEC, DEFAULT_X264_CRF, DEFAULT_X264_PRESET};
    use crate::frame::{Colour, Family, Format, Frame, Matrix};
    use crate::media::audio::{self, AudioTranscoder};
    use crate::media::convert::{self, is_rgb, is_yuvj, Outlet};
    use crate::media::decode::{codec_name, ffmpeg_path, init, StreamInfo, VideoDecoder};
    use crate::media::subtitle::{self, SubtitleTranscoder};
    use crate::media::{display, MediaError};

    /// An open output: encoder, muxer and the stream copies, header written.
    pub struct VideoWriter {
        path: String,
        output: format::context::Output,
        encoder: ffmpeg::encoder::video::Encoder,
        encoder_name: String,
        converter: Outlet,
        picture: ffmpeg::frame::Video,
        size: (u32, u32),
        video_stream: usize,
        encoder_time_base: Rational,
        /// One frame in the encoder's time base, for packets the encoder leaves without one.
        frame_duration: i64,
        last_pts: Option<i64>,
        /// The decode time of the last video packet muxed, in the encoder's time base.
        last_dts: Option<i64>,
        /// A video packet whose decode time the encoder left invalid, held until the next one
        /// says what it should be (see [`VideoWriter::settle_dts`]).
        held: Option<Packet>,
        /// The time base of frames' pts: the input video stream's.
        source_time_base: Rational,
        /// The input's start time in `source_time_base`, taken off every frame's pts so that
        /// the output starts at 0 as the input did at its start.
        video_offset: i64,
        /// Input stream index → how its packets are copied.
        copies: Vec<Option<CopiedStream>>,
        /// Input stream index → the re-encoding of its audio (`--audio-codec`).
        transcoders: Vec<Option<AudioTranscoder>>,
        /// Input stream index → the conversion of its text subtitles.
        subtitles: Vec<Option<SubtitleTranscoder>>,
        /// The input's streams the output cannot hold, each said in a sentence.
        left_out: Vec<String>,
        frames: u64,
    }

    /// Where the packets of one copied input stream go.
    #[derive(Clone, Copy)]
    struct CopiedStream {
        output_stream: usize,
        time_base: Rational,
        /// The input's start time in this stream's time base.
        offset: i64,
    }

    /// What [`VideoWriter::prepare`] made: the open writer, or (checks alone) the streams it
    /// would leave out.
    enum Prepared {
        Opened(Box<VideoWriter>, Vec<usize>),
        Checked(Vec<String>),
    }

    /// An input stream in words, for messages: "stream 2 (subrip subtitles, eng)".
    fn stream_words(stream: &ffmpeg::format::stream::Stream) -> String {
        // SAFETY: a plain field of the stream's parameters.
        let id = unsafe { (*stream.parameters().as_ptr()).codec_id };
        let kind = match stream.parameters().medium() {
            media::Type::Audio => "audio",
            media::Type::Subtitle => "subtitles",
            media::Type::Data => "data",
            media::Type::Attachment => "attachment",
            _ => "stream",
        };
        let language = stream
            .metadata()
            .get("language")
            .map(|l| format!(", {l}"))
            .unwrap_or_default();
        format!(
            "stream {} ({} {kind}{language})",
            stream.index(),
            codec_name(id)
        )
    }

    /// FFmpeg's error for a write to a pipe whose reader has gone (EPIPE).
    fn is_closed_pipe(e: ffmpeg::Error) -> bool {
        #[cfg(unix)]
        const EPIPE: i32 = libc::EPIPE;
        #[cfg(not(unix))]
        const EPIPE: i32 = 32;
        e == ffmpeg::Error::from(ffi::AVERROR(EPIPE))
    }

    fn encode_error(path: &str, message: String) -> MediaError {
        MediaError::Encode {
            path: path.to_string(),
            message,
        }
    }

    /// `avformat_query_codec`: Some(true) when the container takes the codec, Some(false) when
    /// it does not, None when it cannot tell.
    fn container_takes(oformat: *const ffi::AVOutputFormat, id: ffi::AVCodecID) -> Option<bool> {
        // SAFETY: oformat comes from an allocated output context.
        match unsafe { ffi::avformat_query_codec(oformat, id, ffi::FF_COMPLIANCE_NORMAL) } {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        }
    }

    /// The way out when the container cannot hold some audio: the encoder of the container's
    /// own audio codec (libopus for WebM) where this FFmpeg has one.
    fn audio_way_out(oformat: *const ffi::AVOutputFormat) -> String {
        // SAFETY: a plain field of the output format.
        let id = unsafe { (*oformat).audio_codec };
        let encoder = (id != ffi::AVCodecID::AV_CODEC_ID_NONE)
            .then(|| ffmpeg::encoder::find(id.into()))
            .flatten();
        match encoder {
            Some(codec) => format!("re-encode it with --audio-codec {}", codec.name()),
            None => "re-encode it with --audio-codec and an encoder the container takes".into(),
        }
    }

    /// The encoder to use, checked to be a video encoder the container can hold.
    fn choose_encoder(
        path: &Path,
        settings: &EncodeSettings,
        oformat: *const ffi::AVOutputFormat,
        container: &str,
    ) -> Result<ffmpeg::Codec, MediaError> {
        let codec = match &settings.codec {
            Some(name) => {
                let found = if name.is_empty() || name.contains('\0') {
                    None
                } else {
                    ffmpeg::encoder::find_by_name(name)
                };
                let Some(codec) = found else {
                    return Err(MediaError::EncoderNotFound {
                        path: display(path),
                        name: name.clone(),
                        hint: encoder_hint(name),
                    });
                };
                if !codec.is_video() {
                    return Err(MediaError::Unsupported {
                        path: display(path),
                        message: format!("'{name}' is not a video encoder"),
                    });
                }
                codec
            }
            None if container == "image2" => {
                // An image sequence: the image format of the extension (PNG for .png, …).
                let name = CString::new(path.to_string_lossy().as_bytes()).unwrap_or_default();
                // SAFETY: oformat is valid and the name NUL-terminated.
                let id = unsafe {
                    ffi::av_guess_codec(
                        oformat as *mut _,
                        ptr::null(),
                        name.as_ptr(),
                        ptr::null(),
                        ffi::AVMediaType::AVMEDIA_TYPE_VIDEO,
                    )
                };
                ffmpeg::encoder::find(id.into())
                    .filter(|c| c.is_video())
                    .ok_or_else(|| MediaError::Unsupported {
                        path: display(path),
                        message: format!(
                            "this FFmpeg has no encoder for {} images",
                            codec_name(id)
                        ),
                    })?
            }
            None => {
                // SAFETY: oformat is valid; video_codec is a plain field.
                let native = unsafe { (*oformat).video_codec };
                // Containers without a codec list (MPEG-TS, GIF, APNG) cannot be asked; H.264
                // goes into those whose own default is a general-purpose codec.
                let general = matches!(
                    native,
                    ffi::AVCodecID::AV_CODEC_ID_H264
                        | ffi::AVCodecID::AV_CODEC_ID_HEVC
                        | ffi::AVCodecID::AV_CODEC_ID_MPEG2VIDEO
                        | ffi::AVCodecID::AV_CODEC_ID_MPEG4
                );
                let x264 = ffmpeg::encoder::find_by_name(DEFAULT_CODEC)
                    .filter(|c| container_takes(oformat, c.id().into()).unwrap_or(general));
                match x264 {
                    Some(c) => c,
                    None => ffmpeg::encoder::find(native.into()).filter(|c| c.is_video()).ok_or_else(|| {
                        MediaError::Unsupported {
                            path: display(path),
                            message: format!(
                                "the {container} container has no video encoder here (name one with --codec)"
                            ),
                        }
                    })?,
                }
            }
        };
        if container_takes(oformat, codec.id().into()) == Some(false) {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!(
                    "the {container} container cannot hold {} video from encoder '{}' (choose another --codec or extension)",
                    codec_name(codec.id().into()),
                    codec.name()
                ),
            });
        }
        Ok(codec)
    }

    /// What to suggest for an encoder name that is not one: the codec's encoder when `name` is
    /// a codec ("h264" → libx264), else video encoders whose names contain it ("x265" →
    /// libx265).
    fn encoder_hint(name: &str) -> String {
        let Ok(cname) = CString::new(name) else {
            return String::new();
        };
        // SAFETY: looks up a static descriptor by a NUL-terminated name.
        let descriptor = unsafe { ffi::avcodec_descriptor_get_by_name(cname.as_ptr()) };
        if !descriptor.is_null() {
            // SAFETY: descriptor is a valid static descriptor.
            let id = unsafe { (*descriptor).id };
            return match ffmpeg::encoder::find(id.into()) {
                Some(c) => format!(" ({name} is a codec; its encoder here is '{}')", c.name()),
                None => format!(" (this FFmpeg has no encoder for {name})"),
            };
        }
        let wanted = name.to_ascii_lowercase();
        let mut similar = Vec::new();
        let mut opaque = ptr::null_mut();
        loop {
            // SAFETY: iterates FFmpeg's static codec list; `opaque` is its cursor.
            let codec = unsafe { ffi::av_codec_iterate(&mut opaque) };
            if codec.is_null() {
                break;
            }
            // SAFETY: codec points to a static AVCodec with a NUL-terminated name.
            let (encoder, video, codec_name) = unsafe {
                (
                    ffi::av_codec_is_encoder(codec) != 0,
                    (*codec).type_ == ffi::AVMediaType::AVMEDIA_TYPE_VIDEO,
                    std::ffi::CStr::from_ptr((*codec).name)
                        .to_string_lossy()
                        .into_owned(),
                )
            };
            if encoder && video && codec_name.contains(&wanted) {
                similar.push(codec_name);
            }
        }
        similar.truncate(4);
        match similar.as_slice() {
            [] => String::new(),
            [one] => format!(" (did you mean '{one}'?)"),
            [rest @ .., last] => {
                let rest: Vec<String> = rest.iter().map(|n| format!("'{n}'")).collect();
                format!(" (did you mean {} or '{last}'?)", rest.join(", "))
            }
        }
    }

    /// The pixel format asked for, checked against the encoder's; without one, the frames' own
    /// format where the encoder takes it (so that frames reach it with no conversion, as
    /// FFmpeg does), else yuv420p10le for frames deeper than 8 bits where the encoder takes
    /// it, else yuv420p where it takes that (every common delivery codec), else its first
    /// format.
    fn choose_format(
        path: &Path,
        codec: &ffmpeg::Codec,
        requested: Option<&str>,
        frames: &Format,
    ) -> Result<AVPixelFormat, MediaError> {
        let formats: Vec<AVPixelFormat> = codec
            .video()
            .ok()
            .and_then(|v| v.formats())
            .map(|it| it.map(AVPixelFormat::from).collect())
            .unwrap_or_default();
        let takes = |f: AVPixelFormat| formats.is_empty() || formats.contains(&f);
        if let Some(name) = requested {
            let format = CString::new(name)
                .ok()
                // SAFETY: looks a NUL-terminated name up in FFmpeg's static table.
                .map(|c| unsafe { ffi::av_get_pix_fmt(c.as_ptr()) })
                .filter(|f| *f != AVPixelFormat::AV_PIX_FMT_NONE);
            let Some(format) = format else {
                return Err(MediaError::Unsupported {
                    path: display(path),
                    message: format!(
                        "'{name}' is not a pixel format (FFmpeg's names: yuv420p, yuv420p10le, yuv444p, …)"
                    ),
                });
            };
            if !takes(format) {
                let names: Vec<String> = formats.iter().map(|f| convert::format_name(*f)).collect();
                return Err(MediaError::Unsupported {
                    path: display(path),
                    message: format!(
                        "encoder '{}' does not take the pixel format {name}; it takes {}",
                        codec.name(),
                        names.join(", ")
                    ),
                });
            }
            return Ok(format);
        }
        let yuv420p = AVPixelFormat::AV_PIX_FMT_YUV420P;
        let jpeg_first = formats.first().copied().is_some_and(is_yuvj);
        if let Some(own) = convert::pix_fmt_of(frames) {
            if !jpeg_first && formats.contains(&own) {
                return Ok(own);
            }
        }
        // Deep: 10-bit 4:2:0 for video codecs, 16-bit RGB for image ones (PNG, TIFF).
        let deep = [
            AVPixelFormat::AV_PIX_FMT_YUV420P10LE,
            AVPixelFormat::AV_PIX_FMT_RGB48BE,
            AVPixelFormat::AV_PIX_FMT_RGB48LE,
        ]
        .into_iter()
        .find(|f| formats.contains(f));
        Ok(match (frames.bits > 8, deep) {
            (true, Some(deep)) => deep,
            // JPEG encoders list their full-range formats first and take limited range only
            // unofficially.
            _ if jpeg_first => formats[0],
            _ if takes(yuv420p) => yuv420p,
            _ => formats[0],
        })
    }

    /// The options asked for, with the ones the user gave explicitly marked; the user's own
    /// `--encoder-opt`s come last, so that they win.
    fn encoder_options(name: &str, settings: &EncodeSettings) -> Vec<(String, String, bool)> {
        let mut options: Vec<(String, String, bool)> = Vec::new();
        let mut add = |key: &str, value: String, explicit: bool| {
            options.push((key.to_string(), value, explicit));
        };
        let x264 = name == DEFAULT_CODEC;
        if name == "libx265" {
            // x265 prints its banner and statistics itself unless told otherwise.
            add("x265-params", "log-level=error".to_string(), false);
        }
        match (settings.crf, x264) {
            (Some(crf), _) => add("crf", crf.to_string(), true),
            (None, true) if settings.bitrate.is_none() => {
                add("crf", DEFAULT_X264_CRF.to_string(), false)
            }
            _ => {}
        }
        match (&settings.preset, x264) {
            (Some(preset), _) => add("preset", preset.clone(), true),
            (None, true) => add("preset", DEFAULT_X264_PRESET.to_string(), false),
            (None, false) => {}
        }
        if let Some(rate) = settings.bitrate {
            add("b", rate.to_string(), true);
        }
        if let Some(gop) = settings.gop {
            add("g", gop.to_string(), true);
        }
        for (key, value) in &settings.options {
            options.retain(|(k, _, _)| k != key);
            options.push((key.clone(), value.clone(), true));
        }
        options
    }

    /// The colour of the encoded stream's Y′CbCr: the frames' own, full range where the
    /// format is a `yuvj` one; RGB frames (images) become limited-range BT.709 video.
    fn output_colour(frames: &Format, format: AVPixelFormat) -> Colour {
        if frames.layout.family == Family::Rgb && !is_rgb(format) {
            return Colour {
                full_range: is_yuvj(format),
                ..Colour {
                    primaries: frames.colour.primaries,
                    transfer: frames.colour.transfer,
                    ..Colour::video(Matrix::Bt709, false)
                }
            };
        }
        Colour {
            full_range: frames.colour.full_range || is_yuvj(format),
            ..frames.colour
        }
    }

    /// Why an encoder did not open.
    enum Refusal {
        /// An option asked for explicitly that the encoder does not have: (name, value).
        Option(String, String),
        Failed(String),
    }

    /// Everything an encoder is opened with but its time base.
    struct EncoderRequest<'a> {
        codec: ffmpeg::Codec,
        pix_fmt: AVPixelFormat,
        size: (u32, u32),
        frames: &'a Format,
        info: &'a StreamInfo,
        flags: format::Flags,
        settings: &'a EncodeSettings,
        options: &'a [(String, String, bool)],
    }

    impl EncoderRequest<'_> {
        fn open(&self, time_base: Rational) -> Result<ffmpeg::encoder::video::Encoder, Refusal> {
            let (info, name) = (self.info, self.codec.name());
            let mut video = codec::context::Context::new_with_codec(self.codec)
                .encoder()
                .video()
                .map_err(|e| Refusal::Failed(format!("cannot set up encoder '{name}': {e}")))?;
            video.set_width(self.size.0);
            video.set_height(self.size.1);
            video.set_format(self.pix_fmt.into());
            video.set_time_base(time_base);
            if info.frame_rate.numerator() > 0 && info.frame_rate.denominator() > 0 {
                video.set_frame_rate(Some(info.frame_rate));
            }
            if self.size == (info.width, info.height) && info.aspect_ratio.numerator() > 0 {
                video.set_aspect_ratio(info.aspect_ratio);
            }
            // SAFETY: plain fields of the unopened encoder context.
            unsafe {
                let ctx = video.as_mut_ptr();
                if !is_rgb(self.pix_fmt) {
                    let colour = output_colour(self.frames, self.pix_fmt);
                    (*ctx).colorspace = convert::space_tag(&colour);
                    (*ctx).color_range = convert::range_tag(&colour);
                    let (cw, ch) = convert::chroma_subsampling(self.pix_fmt);
                    if (cw, ch) != (1, 1) {
                        (*ctx).chroma_sample_location = convert::location_tag(&colour);
                    }
                }
                (*ctx).color_primaries = info.primaries;
                (*ctx).color_trc = info.transfer;
                // Encoders default to one thread; 0 lets them use every core.
                (*ctx).thread_count = 0;
                if self.flags.contains(format::Flags::GLOBAL_HEADER) {
                    (*ctx).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
                }
                // An MJPEG encoder at a fixed qscale of 8 writes its intra matrices unscaled
                // (qscale × matrix / 8): the tables a JPEG quality asks for. avcodec frees the
                // matrices with the context.
                if let Some(tables) = &self.settings.jpeg_tables {
                    let matrix = |table: &[u16; 64]| {
                        let m = ffi::av_malloc(std::mem::size_of_val(table)) as *mut u16;
                        if !m.is_null() {
                            std::ptr::copy_nonoverlapping(table.as_ptr(), m, 64);
                        }
                        m
                    };
                    (*ctx).intra_matrix = matrix(&tables[0]);
                    (*ctx).chroma_intra_matrix = matrix(&tables[1]);
                    if (*ctx).intra_matrix.is_null() || (*ctx).chroma_intra_matrix.is_null() {
                        return Err(Refusal::Failed("out of memory for the JPEG tables".into()));
                    }
                    (*ctx).flags |= ffi::AV_CODEC_FLAG_QSCALE as i32;
                    (*ctx).global_quality = 8 * ffi::FF_QP2LAMBDA;
                }
                // libvpx takes crf as a quality cap under a bit rate unless the rate is 0.
                if self.settings.crf.is_some()
                    && self.settings.bitrate.is_none()
                    && name.starts_with("libvpx")
                {
                    (*ctx).bit_rate = 0;
                }
            }
            let mut dict = Dictionary::new();
            for (key, value, _) in self.options {
                dict.set(key, value);
            }
            // SAFETY: opens the context with its own codec; the dictionary is handed over and
            // taken back holding what the encoder did not use.
            let (ret, unused) = unsafe {
                let mut opts = dict.disown();
                let ret = ffi::avcodec_open2(video.as_mut_ptr(), self.codec.as_ptr(), &mut opts);
                (ret, Dictionary::own(opts))
            };
            if let Some((key, value, _)) = self
                .options
                .iter()
                .find(|(k, _, explicit)| *explicit && unused.get(k).is_some())
            {
                return Err(Refusal::Option(key.to_string(), value.clone()));
            }
            if ret < 0 {
                let asked: Vec<String> = self
                    .options
                    .iter()
                    .map(|(k, v, _)| format!("{k}={v}"))
                    .collect();
                let asked = if asked.is_empty() {
                    String::new()
                } else {
                    format!(" with {}", asked.join(", "))
                };
                return Err(Refusal::Failed(format!(
                    "cannot open encoder '{name}'{asked}: {}",
                    ffmpeg::Error::from(ret)
                )));
            }
            Ok(ffmpeg::encoder::video::Encoder(video))
        }
    }

    impl VideoWriter {
        /// Sets up the output at `path` for frames of `frames`: picks and opens the encoder,
        /// adds the video stream and a copy of every audio stream of `source` (subtitles too
        /// where the container takes them), creates the file and writes the header. Returns the
        /// writer and the input streams whose packets it expects (see
        /// [`VideoDecoder::copy_streams`]).
        pub fn open(
            path: &Path,
            source: &VideoDecoder,
            settings: &EncodeSettings,
            frames: &Format,
        ) -> Result<(VideoWriter, Vec<usize>), MediaError> {
            match Self::prepare(path, source, settings, frames, true)? {
                Prepared::Opened(writer, copied) => Ok((*writer, copied)),
                Prepared::Checked(_) => unreachable!("the file was to be created"),
            }
        }

        /// Every check [`VideoWriter::open`] makes (the container, the encoder opened with its
        /// options, the streams the container must hold), without creating the file: what a
        /// dry run asks. Returns the input's streams the output would leave out, each said in a
        /// sentence (see [`VideoWriter::left_out`]).
        pub fn check(
            path: &Path,
            source: &VideoDecoder,
            settings: &EncodeSettings,
            frames: &Format,
        ) -> Result<Vec<String>, MediaError> {
            match Self::prepare(path, source, settings, frames, false)? {
                Prepared::Checked(left_out) => Ok(left_out),
                Prepared::Opened(writer, _) => Ok(writer.left_out),
            }
        }

        /// The input's streams this output leaves out because its container cannot hold them
        /// (bitmap subtitles in MP4, sound in a GIF, data tracks), each said in a sentence.
        /// Text subtitles are converted where the container takes another text format (SubRip
        /// to mov_text in MP4, to WebVTT in WebM) and are not in this list.
        pub fn left_out(&self) -> &[String] {
            &self.left_out
        }

        /// [`VideoWriter::open`], or with `create` false its checks alone (no file).
        fn prepare(
            path: &Path,
            source: &VideoDecoder,
            settings: &EncodeSettings,
            frames: &Format,
            create: bool,
        ) -> Result<Prepared, MediaError> {
            let size = (frames.width, frames.height);
            init();
            let name = ffmpeg_path(path, |message| MediaError::Write {
                path: display(path),
                message,
            })?;
            let cname = CString::new(name).map_err(|_| MediaError::Write {
                path: display(path),
                message: "the file name holds a NUL byte".into(),
            })?;
            let info: StreamInfo = *source.info();
            let shown = display(path);

            // The container, by name or from the extension. No file is created yet.
            let short_name = match &settings.format {
                Some(name) => {
                    Some(
                        CString::new(name.as_str()).map_err(|_| MediaError::Unsupported {
                            path: display(path),
                            message: "the format name holds a NUL byte".into(),
                        })?,
                    )
                }
                None => None,
            };
            // SAFETY: looks the names up in FFmpeg's static muxer list.
            let guessed = unsafe {
                match &short_name {
                    Some(short) => ffi::av_guess_format(short.as_ptr(), ptr::null(), ptr::null()),
                    None => ffi::av_guess_format(ptr::null(), cname.as_ptr(), ptr::null()),
                }
            };
            let mut raw = ptr::null_mut();
            if !guessed.is_null() {
                // SAFETY: allocates a context for a known muxer; on failure raw stays NULL.
                unsafe {
                    ffi::avformat_alloc_output_context2(
                        &mut raw,
                        guessed,
                        ptr::null(),
                        cname.as_ptr(),
                    )
                };
            }
            if raw.is_null() {
                if let Some(name) = &settings.format {
                    return Err(MediaError::Unsupported {
                        path: shown,
                        message: format!(
                            "--format {name}: FFmpeg has no muxer of that name (matroska, mp4, \
                             mov, webm, mpegts, nut, yuv4mpegpipe, gif, …; `ffmpeg -muxers` lists \
                             them)"
                        ),
                    });
                }
                let message = match path.extension() {
                    Some(ext) => format!(
                        "no container format for the extension '.{}'",
                        ext.to_string_lossy()
                    ),
                    None => "no extension to choose a container by".to_string(),
                };
                return Err(MediaError::Unsupported {
                    path: shown,
                    message: format!("{message} (use .mp4, .mkv, .mov, .webm or .avi)"),
                });
            }
            // SAFETY: raw is a fresh output context with no IO yet; Output's drop frees it and
            // closes its (still NULL) IO context.
            let mut output = unsafe { format::context::Output::wrap(raw) };
            // SAFETY: a plain field of the context just allocated.
            let oformat = unsafe { (*raw).oformat };
            let container = output.format().name().to_string();
            let flags = output.format().flags();

            let codec = choose_encoder(path, settings, oformat, &container)?;
            let encoder_name = codec.name().to_string();
            let pix_fmt = choose_format(path, &codec, settings.pix_fmt.as_deref(), frames)?;
            let (cw, ch) = convert::chroma_subsampling(pix_fmt);
            if !size.0.is_multiple_of(cw) || !size.1.is_multiple_of(ch) {
                return Err(MediaError::FrameSize {
                    path: shown,
                    width: size.0,
                    height: size.1,
                    pix_fmt: convert::format_name(pix_fmt),
                    w_multiple: cw,
                    h_multiple: ch,
                });
            }

            // The encoder works in the source's time base, so timestamps pass through exactly;
            // encoders that only take 1/frame-rate (MPEG-1/2, say) get that instead.
            let rate_known = info.frame_rate.numerator() > 0 && info.frame_rate.denominator() > 0;
            let options = encoder_options(&encoder_name, settings);
            if let Some((key, value, _)) = options
                .iter()
                .find(|(k, v, _)| v.contains('\0') || k.contains('\0') || k.is_empty())
            {
                return Err(MediaError::EncoderOption {
                    path: shown,
                    encoder: encoder_name,
                    option: key.to_string(),
                    value: value.replace('\0', ""),
                });
            }
            let request = EncoderRequest {
                codec,
                pix_fmt,
                size,
                frames,
                info: &info,
                flags,
                settings,
                options: &options,
            };
            let encoder = match request.open(info.time_base) {
                Err(Refusal::Failed(_))
                    if rate_known && info.frame_rate.invert() != info.time_base =>
                {
                    request.open(info.frame_rate.invert())
                }
                other => other,
            };
            let encoder = encoder.map_err(|refusal| match refusal {
                Refusal::Option(key, value) => MediaError::EncoderOption {
                    path: shown.clone(),
                    encoder: encoder_name.clone(),
                    option: key,
                    value,
                },
                Refusal::Failed(message) => encode_error(&shown, message),
            })?;
            // Streams, in the input's order: the video where it was, the copies around it.
            let input = source.input();
            // Timestamps are shifted so that the output starts at 0 where the input's kept part
            // starts (its start time, or the trim's start).
            let start = (source.origin() * ffi::AV_TIME_BASE as f64).round() as i64;
            let av_time_base = Rational::new(1, ffi::AV_TIME_BASE);
            let mut copies: Vec<Option<CopiedStream>> = vec![None; input.nb_streams() as usize];
            let mut transcoders: Vec<Option<AudioTranscoder>> =
                (0..input.nb_streams()).map(|_| None).collect();
            let mut subtitles: Vec<Option<SubtitleTranscoder>> =
                (0..input.nb_streams()).map(|_| None).collect();
            let mut left_out = Vec::new();
            let audio_encoder = match &settings.audio_codec {
                Some(name) if !settings.no_audio => {
                    let codec =
                        audio::find_encoder(name).map_err(|message| MediaError::Unsupported {
                            path: shown.clone(),
                            message,
                        })?;
                    if container_takes(oformat, codec.id().into()) == Some(false) {
                        return Err(MediaError::Unsupported {
                            path: shown,
                            message: format!(
                                "the {container} container cannot hold {} audio from encoder \
                                 '{name}' ({}, or leave the audio out with --no-audio)",
                                codec_name(codec.id().into()),
                                audio_way_out(oformat)
                            ),
                        });
                    }
                    Some(codec)
                }
                _ => None,
            };
            let mut copied = Vec::new();
            let mut video_stream = 0;
            for stream in input.streams() {
                let index = stream.index();
                if index == info.index {
                    let mut ost = output.add_stream(codec).map_err(|e| {
                        encode_error(&shown, format!("cannot add the video stream: {e}"))
                    })?;
                    ost.set_parameters(&encoder);
                    ost.set_time_base(encoder.time_base());
                    if rate_known {
                        ost.set_avg_frame_rate(info.frame_rate);
                    }
                    ost.set_metadata(stream.metadata().to_owned());
                    // SAFETY: a plain field of the new stream: `default`, `forced` and the
                    // others stay as the input had them.
                    unsafe { (*ost.as_mut_ptr()).disposition = stream.disposition().bits() };
                    // The display matrix (a rotation, a mirror) tells players how to show the
                    // picture: it still holds for the filtered one.
                    // SAFETY: reads side data of the input stream and copies it into new side
                    // data of the output stream, both owned by their open contexts.
                    if !settings.auto_rotate {
                        unsafe {
                            let kind = ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX;
                            let mut size = 0usize;
                            let matrix =
                                ffi::av_stream_get_side_data(stream.as_ptr(), kind, &mut size);
                            if !matrix.is_null() && size > 0 {
                                let copy =
                                    ffi::av_stream_new_side_data(ost.as_mut_ptr(), kind, size);
                                if !copy.is_null() {
                                    ptr::copy_nonoverlapping(matrix, copy, size);
                                }
                            }
                        }
                    }
                    video_stream = ost.index();
                    continue;
                }
                let parameters = stream.parameters();
                let medium = parameters.medium();
                // SAFETY: reading a field of the stream's parameters.
                let id = unsafe { (*parameters.as_ptr()).codec_id };
                let takes = container_takes(oformat, id);
                // A container without sound (GIF, image sequences) leaves the audio out, as
                // FFmpeg does, and so with subtitles.
                // SAFETY: a plain field of the output format.
                if unsafe { (*oformat).audio_codec } == ffi::AVCodecID::AV_CODEC_ID_NONE
                    && matches!(medium, media::Type::Audio | media::Type::Subtitle)
                {
                    if medium == media::Type::Subtitle || !settings.no_audio {
                        left_out.push(format!(
                            "{} left out: {container} output holds no sound or subtitles",
                            stream_words(&stream)
                        ));
                    }
                    continue;
                }
                if medium == media::Type::Subtitle && takes != Some(true) {
                    // The container's own subtitle codec, else the first text format it is
                    // known to take (MP4 names none, and takes mov_text).
                    // SAFETY: a plain field of the output format.
                    let own = unsafe { (*oformat).subtitle_codec };
                    let known = [
                        ffi::AVCodecID::AV_CODEC_ID_MOV_TEXT,
                        ffi::AVCodecID::AV_CODEC_ID_WEBVTT,
                        ffi::AVCodecID::AV_CODEC_ID_ASS,
                        ffi::AVCodecID::AV_CODEC_ID_SUBRIP,
                    ];
                    let target = if own != ffi::AVCodecID::AV_CODEC_ID_NONE {
                        Some(own).filter(|t| container_takes(oformat, *t) != Some(false))
                    } else {
                        known
                            .into_iter()
                            .find(|t| container_takes(oformat, *t) == Some(true))
                    };
                    let converter = target
                        .filter(|t| subtitle::is_text(id) && subtitle::is_text(*t))
                        .and_then(|t| ffmpeg::encoder::find(t.into()));
                    let Some(codec) = converter else {
                        let why = if subtitle::is_text(id) {
                            format!("the {container} container cannot hold them")
                        } else {
                            format!(
                                "the {container} container cannot hold them, and they are \
                                 pictures, which cannot be turned into text (choose .mkv)"
                            )
                        };
                        left_out.push(format!("{} left out: {why}", stream_words(&stream)));
                        continue;
                    };
                    let offset = start.rescale(av_time_base, stream.time_base());
                    let mut converter = SubtitleTranscoder::new(&stream, codec, offset)
                        .map_err(|m| encode_error(&shown, m))?;
                    let mut ost = output.add_stream(codec).map_err(|e| {
                        encode_error(&shown, format!("cannot add subtitle stream {index}: {e}"))
                    })?;
                    ost.set_parameters(converter.encoder());
                    ost.set_time_base(converter.time_base());
                    ost.set_metadata(stream.metadata().to_owned());
                    // SAFETY: a plain field of the new stream.
                    unsafe { (*ost.as_mut_ptr()).disposition = stream.disposition().bits() };
                    converter.output_stream = ost.index();
                    tracing::info!(
                        "{shown}: {} converted to {} for the {container} container",
                        stream_words(&stream),
                        codec.name()
                    );
                    subtitles[index] = Some(converter);
                    copied.push(index);
                    continue;
                }
                if let (media::Type::Audio, Some(codec)) = (medium, audio_encoder) {
                    if settings.no_audio {
                        continue;
                    }
                    let offset = start.rescale(av_time_base, stream.time_base());
                    let global = flags.contains(format::Flags::GLOBAL_HEADER);
                    let mut transcoder = AudioTranscoder::new(&stream, codec, global, offset)
                        .map_err(|m| encode_error(&shown, m))?;
                    let mut ost = output.add_stream(codec).map_err(|e| {
                        encode_error(&shown, format!("cannot add audio stream {index}: {e}"))
                    })?;
                    ost.set_parameters(transcoder.encoder());
                    ost.set_time_base(transcoder.time_base());
                    ost.set_metadata(stream.metadata().to_owned());
                    // SAFETY: a plain field of the new stream.
                    unsafe { (*ost.as_mut_ptr()).disposition = stream.disposition().bits() };
                    transcoder.output_stream = ost.index();
                    transcoders[index] = Some(transcoder);
                    copied.push(index);
                    continue;
                }
                match medium {
                    media::Type::Audio if settings.no_audio => continue,
                    media::Type::Audio if takes == Some(false) => {
                        return Err(MediaError::Unsupported {
                            path: shown,
                            message: format!(
                                "the {container} container cannot hold the input's {} audio, which tessera copies \
                                 as it is ({}, choose .mkv, .mov or .mp4, or leave the audio out with --no-audio)",
                                codec_name(id),
                                audio_way_out(oformat)
                            ),
                        })
                    }
                    media::Type::Audio => {
                        // SAFETY: plain fields of the stream's parameters.
                        let (rate, channels) = unsafe {
                            let p = parameters.as_ptr();
                            ((*p).sample_rate, (*p).ch_layout.nb_channels)
                        };
                        if rate <= 0 || channels <= 0 {
                            return Err(MediaError::Decode {
                                path: source.path().to_string(),
                                message: format!(
                                    "{}: its sample rate and channels cannot be read (the file is \
                                     damaged or cut short?; --no-audio leaves the audio out)",
                                    stream_words(&stream)
                                ),
                            });
                        }
                    }
                    media::Type::Subtitle | media::Type::Data if takes == Some(true) => {}
                    // Attached files (fonts for subtitles, cover art) go where Matroska keeps
                    // them.
                    media::Type::Attachment if container == "matroska" => {}
                    _ => {
                        left_out.push(format!(
                            "{} left out: the {container} container cannot hold it",
                            stream_words(&stream)
                        ));
                        continue;
                    }
                }
                let mut ost = output
                    .add_stream(ffmpeg::encoder::find(codec::Id::None))
                    .map_err(|e| encode_error(&shown, format!("cannot add stream {index}: {e}")))?;
                ost.set_parameters(parameters);
                ost.set_time_base(stream.time_base());
                ost.set_metadata(stream.metadata().to_owned());
                // SAFETY: plain fields of the new stream. The input's codec tag may mean nothing
                // in another container; 0 lets the muxer choose.
                unsafe {
                    let st = ost.as_mut_ptr();
                    (*(*st).codecpar).codec_tag = 0;
                    (*st).disposition = stream.disposition().bits();
                }
                copies[index] = Some(CopiedStream {
                    output_stream: ost.index(),
                    time_base: stream.time_base(),
                    offset: start.rescale(av_time_base, stream.time_base()),
                });
                copied.push(index);
            }
            output.set_metadata(input.metadata().to_owned());
            // Chapters, on the output's clock: shifted with the timestamps, cut to what is kept.
            for chapter in input.chapters() {
                let tb = chapter.time_base();
                let shift = start.rescale(av_time_base, tb);
                let (from, to) = ((chapter.start() - shift).max(0), chapter.end() - shift);
                if to <= 0 {
                    continue;
                }
                let title = chapter.metadata().get("title").unwrap_or("").to_string();
                let mut added = output
                    .add_chapter(chapter.id(), tb, from, to, &title)
                    .map_err(|e| encode_error(&shown, format!("cannot copy a chapter: {e}")))?;
                for (key, value) in chapter.metadata().iter() {
                    if key != "title" {
                        added.set_metadata(key, value);
                    }
                }
            }

            // Now the file.
            if !create {
                return Ok(Prepared::Checked(left_out));
            }
            if !flags.contains(format::Flags::NO_FILE) {
                // SAFETY: opens the IO context of our output context, which Output's drop closes.
                let ret = unsafe {
                    ffi::avio_open(
                        &mut (*output.as_mut_ptr()).pb,
                        cname.as_ptr(),
                        ffi::AVIO_FLAG_WRITE,
                    )
                };
                if ret < 0 {
                    return Err(MediaError::Write {
                        path: shown,
                        message: format!("cannot create the file: {}", ffmpeg::Error::from(ret)),
                    });
                }
            }
            // A pipe cannot be rewound to write MP4's index at its start: fragments instead,
            // each with its own index, which players read as they come.
            let mut header_options = ffmpeg::Dictionary::new();
            let mov_family = ["mp4", "mov", "ipod", "ismv", "3gp", "3g2", "psp", "f4v"];
            if crate::media::stdin::is_pipe(path) && mov_family.contains(&container.as_str()) {
                header_options.set("movflags", "frag_keyframe+empty_moov+default_base_moof");
            }
            output.write_header_with(header_options).map(|_| ()).map_err(|e| match e {
                e if is_closed_pipe(e) => MediaError::Closed { path: shown.clone() },
                // errno-style failures are the file's (disk full, permissions), not the streams'.
                ffmpeg::Error::Other { .. } if e != ffmpeg::Error::from(ffi::AVERROR(ffmpeg::util::error::EINVAL)) => {
                    MediaError::Write { path: shown.clone(), message: format!("cannot write: {e}") }
                }
                ffmpeg::Error::Experimental => encode_error(
                    &shown,
                    format!(
                        "the {container} muxer refused the streams: {e} (FFmpeg supports one of the copied \
                         codecs in this container only experimentally; choose .mkv)"
                    ),
                ),
                e => encode_error(&shown, format!("the {container} muxer refused the streams: {e}")),
            })?;

            let encoder_time_base = encoder.time_base();
            let frame_duration = if rate_known {
                1i64.rescale(info.frame_rate.invert(), encoder_time_base)
                    .max(1)
            } else {
                1
            };
            let picture = ffmpeg::frame::Video::new(pix_fmt.into(), size.0, size.1);
            // SAFETY: checking that the picture's buffers were allocated.
            if unsafe { (*picture.as_ptr()).data[0].is_null() } {
                return Err(encode_error(
                    &shown,
                    format!("out of memory for a {}x{} picture", size.0, size.1),
                ));
            }
            let writer = VideoWriter {
                path: shown,
                output,
                encoder,
                encoder_name,
                converter: Outlet::new(pix_fmt, output_colour(frames, pix_fmt)),
                picture,
                size,
                video_stream,
                encoder_time_base,
                frame_duration,
                last_pts: None,
                last_dts: None,
                held: None,
                source_time_base: info.time_base,
                video_offset: start.rescale(av_time_base, info.time_base),
                copies,
                transcoders,
                subtitles,
                left_out,
                frames: 0,
            };
            Ok(Prepared::Opened(Box::new(writer), copied))
        }

        /// The encoder's name, e.g. `libx264`.
        pub fn encoder_name(&self) -> &str {
            &self.encoder_name
        }

        /// Encodes one frame; its pts (in the input stream's time base) is kept, less the
        /// input's start time, and nudged forward where it would not increase.
        pub fn write_frame(&mut self, frame: &Frame) -> Result<(), MediaError> {
            if (frame.width(), frame.height()) != self.size {
                return Err(encode_error(
                    &self.path,
                    format!(
                        "frame {} is {}x{} but the encoder was opened for {}x{}",
                        frame.index,
                        frame.width(),
                        frame.height(),
                        self.size.0,
                        self.size.1
                    ),
                ));
            }
            // SAFETY: the picture is ours; the encoder may still hold a reference to its
            // buffers, in which case FFmpeg gives it new ones.
            let ret = unsafe { ffi::av_frame_make_writable(self.picture.as_mut_ptr()) };
            if ret < 0 {
                return Err(encode_error(
                    &self.path,
                    format!("cannot get a picture buffer: {}", ffmpeg::Error::from(ret)),
                ));
            }
            self.converter
                .convert(frame, &mut self.picture)
                .map_err(|m| encode_error(&self.path, m))?;
            let mut pts = match (frame.pts, self.last_pts) {
                (Some(pts), _) => {
                    (pts - self.video_offset).rescale(self.source_time_base, self.encoder_time_base)
                }
                (None, Some(last)) => last + self.frame_duration,
                (None, None) => 0,
            };
            if let Some(last) = self.last_pts {
                if pts <= last {
                    pts = last + 1;
                }
            }
            self.last_pts = Some(pts);
            self.picture.set_pts(Some(pts));
            // SAFETY: plain fields of a live encoder context and of the frame handed to it.
            unsafe {
                // An encoder at a fixed quantiser (`AV_CODEC_FLAG_QSCALE`, as a JPEG sequence's
                // tables set it) takes each picture's quantiser from the picture, as FFmpeg's
                // own command line gives it.
                let ctx = self.encoder.as_ptr();
                if (*ctx).flags & ffi::AV_CODEC_FLAG_QSCALE as i32 != 0 {
                    (*self.picture.as_mut_ptr()).quality = (*ctx).global_quality;
                }
            }
            self.encoder.send_frame(&self.picture).map_err(|e| {
                encode_error(
                    &self.path,
                    format!(
                        "encoder '{}' refused frame {}: {e}",
                        self.encoder_name, frame.index
                    ),
                )
            })?;
            self.frames += 1;
            self.drain_encoder()
        }

        /// Muxes a packet of a copied stream, as the decoder handed it out.
        pub fn write_packet(&mut self, mut packet: Packet) -> Result<(), MediaError> {
            if let Some(mut converter) = self
                .subtitles
                .get_mut(packet.stream())
                .and_then(Option::take)
            {
                let result = self.convert_subtitle(&mut converter, &packet);
                self.subtitles[packet.stream()] = Some(converter);
                return result;
            }
            if let Some(mut transcoder) = self
                .transcoders
                .get_mut(packet.stream())
                .and_then(Option::take)
            {
                let result = self.transcode(&mut transcoder, Some(&packet));
                self.transcoders[packet.stream()] = Some(transcoder);
                return result;
            }
            let Some(Some(copy)) = self.copies.get(packet.stream()).copied() else {
                return Ok(());
            };
            packet.set_pts(packet.pts().map(|t| t - copy.offset));
            packet.set_dts(packet.dts().map(|t| t - copy.offset));
            let out_time_base = self.stream_time_base(copy.output_stream);
            packet.rescale_ts(copy.time_base, out_time_base);
            packet.set_position(-1);
            packet.set_stream(copy.output_stream);
            self.mux(&packet)
        }

        /// Flushes the encoder, writes the trailer and closes the file; returns the number of
        /// frames encoded.
        pub fn finish(mut self) -> Result<u64, MediaError> {
            for i in 0..self.transcoders.len() {
                if let Some(mut transcoder) = self.transcoders[i].take() {
                    self.transcode(&mut transcoder, None)?;
                }
            }
            self.encoder.send_eof().map_err(|e| {
                encode_error(
                    &self.path,
                    format!("cannot flush encoder '{}': {e}", self.encoder_name),
                )
            })?;
            self.drain_encoder()?;
            if let Some(held) = self.held.take() {
                self.mux_video(held, None)?;
            }
            self.output.write_trailer().map_err(|e| match e {
                e if is_closed_pipe(e) => MediaError::Closed {
                    path: self.path.clone(),
                },
                e => MediaError::Write {
                    path: self.path.clone(),
                    message: format!("cannot finish the file: {e}"),
                },
            })?;
            Ok(self.frames)
        }

        /// Re-encodes one audio packet (or, with `None`, what the transcoder still holds) and
        /// muxes what comes out.
        fn transcode(
            &mut self,
            transcoder: &mut AudioTranscoder,
            packet: Option<&Packet>,
        ) -> Result<(), MediaError> {
            let (stream, from) = (transcoder.output_stream, transcoder.time_base());
            self.mux_made(stream, from, |out| match packet {
                Some(packet) => transcoder.push(packet, out),
                None => transcoder.finish(out),
            })
        }

        /// Converts one subtitle packet and muxes what comes out.
        fn convert_subtitle(
            &mut self,
            converter: &mut SubtitleTranscoder,
            packet: &Packet,
        ) -> Result<(), MediaError> {
            let (stream, from) = (converter.output_stream, converter.time_base());
            self.mux_made(stream, from, |out| converter.push(packet, out))
        }

        /// Runs `make`, a transcoder's step, handing each packet it makes (in time base `from`)
        /// to output stream `stream`; a muxing failure wins over the message `make` gives.
        fn mux_made(
            &mut self,
            stream: usize,
            from: Rational,
            make: impl FnOnce(&mut dyn FnMut(Packet) -> Result<(), String>) -> Result<(), String>,
        ) -> Result<(), MediaError> {
            let to = self.stream_time_base(stream);
            let mut failure = None;
            let mut out = |mut p: Packet| {
                p.set_stream(stream);
                p.rescale_ts(from, to);
                self.mux(&p).map_err(|e| {
                    let message = e.to_string();
                    failure = Some(e);
                    message
                })
            };
            let result = make(&mut out);
            match (result, failure) {
                (_, Some(e)) => Err(e),
                (Err(message), None) => Err(encode_error(&self.path, message)),
                (Ok(()), None) => Ok(()),
            }
        }

        fn stream_time_base(&self, index: usize) -> Rational {
            self.output
                .stream(index)
                .map(|s| s.time_base())
                .unwrap_or(self.encoder_time_base)
        }

        fn drain_encoder(&mut self) -> Result<(), MediaError> {
            loop {
                let mut packet = Packet::empty();
                match self.encoder.receive_packet(&mut packet) {
                    Ok(()) => {
                        if packet.duration() <= 0 {
                            packet.set_duration(self.frame_duration);
                        }
                        self.settle_dts(packet)?;
                    }
                    Err(ffmpeg::Error::Eof) => return Ok(()),
                    Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                        return Ok(())
                    }
                    Err(e) => {
                        return Err(encode_error(
                            &self.path,
                            format!("encoder '{}' failed: {e}", self.encoder_name),
                        ))
                    }
                }
            }
        }

        /// Muxes an encoded video packet, checking its decode time first. FFmpeg 5.1's libx265
        /// wrapper can hand out the first packet of a stream with its dts never written (seen:
        /// 10-bit, a two-frame clip), which MP4 refuses ("pts/dts pair unsupported"). A dts
        /// that cannot be right (above the pts, not after the last packet's, or more frames
        /// below the pts than any encoder reorders) is derived instead: the packet waits for
        /// the next one, and takes the time just before it.
        fn settle_dts(&mut self, packet: Packet) -> Result<(), MediaError> {
            if self.dts_valid(&packet) {
                if let Some(held) = self.held.take() {
                    self.mux_video(held, packet.dts())?;
                }
                return self.mux_video(packet, None);
            }
            if let Some(held) = self.held.take() {
                self.mux_video(held, None)?;
            }
            self.held = Some(packet);
            Ok(())
        }

        /// A decode time that can be right: at most the pts, after the last packet's, and no
        /// more frames below the pts than any encoder reorders.
        fn dts_valid(&self, packet: &Packet) -> bool {
            /// More frames than any encoder keeps back for reordering.
            const MAX_REORDER: i64 = 64;
            match (packet.pts(), packet.dts()) {
                (Some(pts), Some(dts)) => {
                    dts <= pts
                        && self.last_dts.is_none_or(|l| dts > l)
                        && pts - dts <= MAX_REORDER * self.frame_duration.max(1)
                }
                _ => false,
            }
        }

        /// Muxes a video packet in the encoder's time base; one whose dts was invalid gets the
        /// time just before `next_dts` (the next packet's), or just after the last one's, never
        /// above its pts.
        fn mux_video(
            &mut self,
            mut packet: Packet,
            next_dts: Option<i64>,
        ) -> Result<(), MediaError> {
            if !self.dts_valid(&packet) {
                let pts = packet.pts().unwrap_or(0);
                let after_last = self.last_dts.map_or(i64::MIN, |l| l + 1);
                let before_next = next_dts.map_or(pts, |n| n - 1);
                packet.set_dts(Some(before_next.min(pts).max(after_last)));
            }
            self.last_dts = packet.dts();
            let out = self.stream_time_base(self.video_stream);
            packet.set_stream(self.video_stream);
            packet.rescale_ts(self.encoder_time_base, out);
            self.mux(&packet)
        }

        fn mux(&mut self, packet: &Packet) -> Result<(), MediaError> {
            match packet.write_interleaved(&mut self.output) {
                Ok(()) => Ok(()),
                // An empty packet (no payload, no side data) carries nothing to write.
                Err(ffmpeg::Error::InvalidData) if packet.size() == 0 => Ok(()),
                Err(e) if is_closed_pipe(e) => Err(MediaError::Closed {
                    path: self.path.clone(),
                }),
                Err(e) => Err(MediaError::Write {
                    path: self.path.clone(),
                    message: format!("cannot write: {e}"),
                }),
            }
        }
    }
}
