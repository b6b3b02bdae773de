//! What a media file holds, from its container and stream headers, without decoding it.
//!
//! [`probe`] describes any file FFmpeg opens (video, audio, subtitles, still images) as a
//! [`MediaInfo`]: the container, its tags and chapters, and every stream with FFmpeg's own names
//! for codecs, pixel and sample formats and colour tags; a still picture also as the `image`
//! crate reads it (size, Exif orientation, colour type, ICC profile). [`MediaInfo::to_json`] is
//! the stable document `tessera probe --json` prints (docs/probe.md). [`probe_video`] is the
//! narrower view of the best video stream. Nothing here decodes a picture or writes anything.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::os::raw::c_char;
use std::path::Path;

use ffmpeg::{ffi, format, media, Rational};
use ffmpeg_next as ffmpeg;
use serde::Serialize;

use super::decode::{codec_name, ffmpeg_path, init};
use super::image::{still_info, StillInfo};
use super::{display, MediaError};

/// The version of the JSON document. Fields are only ever added; any removal, rename or change
/// of meaning bumps it.
pub const JSON_SCHEMA: u32 = 1;

/// Everything the headers of a media file say. Unknown values are `None` (left out of the JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaInfo {
    /// The path, as it was given.
    pub file: String,
    /// FFmpeg's demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `png_pipe`.
    pub container: String,
    /// The demuxer's long name, e.g. `QuickTime / MOV`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_long_name: Option<String>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Seconds: the first timestamp of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// Bits per second over the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<u64>,
    /// Bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// For a still picture tessera reads as one frame (PNG, JPEG, a still WebP, TIFF, BMP): what
    /// its header says, as the `image` crate reads it. FFmpeg's view (an image demuxer's one
    /// frame at 25 fps) stays in the other fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<StillInfo>,
    /// The container's metadata (title, creation_time, encoder, …), sorted by key.
    pub tags: BTreeMap<String, String>,
    pub chapters: Vec<Chapter>,
    pub streams: Vec<MediaStream>,
}

/// A chapter mark; times in seconds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chapter {
    pub id: i64,
    pub start: f64,
    pub end: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// What a stream carries, as FFmpeg's media types name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    Video,
    Audio,
    Subtitle,
    Data,
    Attachment,
    Unknown,
}

impl StreamKind {
    pub fn name(self) -> &'static str {
        match self {
            StreamKind::Video => "video",
            StreamKind::Audio => "audio",
            StreamKind::Subtitle => "subtitle",
            StreamKind::Data => "data",
            StreamKind::Attachment => "attachment",
            StreamKind::Unknown => "unknown",
        }
    }
}

impl From<media::Type> for StreamKind {
    fn from(t: media::Type) -> StreamKind {
        match t {
            media::Type::Video => StreamKind::Video,
            media::Type::Audio => StreamKind::Audio,
            media::Type::Subtitle => StreamKind::Subtitle,
            media::Type::Data => StreamKind::Data,
            media::Type::Attachment => StreamKind::Attachment,
            media::Type::Unknown => StreamKind::Unknown,
        }
    }
}

/// One stream of a file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaStream {
    pub index: usize,
    pub kind: StreamKind,
    /// FFmpeg's codec name, e.g. `h264`, `aac`, `png`.
    pub codec: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec_long_name: Option<String>,
    /// FFmpeg's profile name (`High`, `LC`), or its number where FFmpeg has no name for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Bits per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_rate: Option<u64>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<f64>,
    /// Seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Frames (or packets) of the stream, where the container records how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frames: Option<u64>,
    /// The `language` tag, e.g. `fra`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The `title` tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The disposition flags that are set, by FFmpeg's names: `default`, `forced`,
    /// `attached_pic`, …
    pub disposition: Vec<String>,
    /// All the stream's metadata, sorted by key.
    pub tags: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video: Option<VideoParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioParams>,
}

/// What a video stream's headers say about its pictures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Sample (pixel) aspect ratio as `[num, den]`, from the container or else the codec
    /// (`av_guess_sample_aspect_ratio`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_aspect_ratio: Option<[i32; 2]>,
    /// FFmpeg's pixel format name, e.g. `yuv420p10le`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_format: Option<String>,
    /// Bits of the pixel format's deepest component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_depth: Option<u32>,
    /// Frames per second, FFmpeg's best guess (`av_guess_frame_rate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<f64>,
    /// Frames per second on average, from the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_frame_rate: Option<f64>,
    /// The colour matrix (`av_color_space_name`), e.g. `bt709`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_space: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_primaries: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_transfer: Option<String>,
    /// `tv` (limited) or `pc` (full).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_range: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chroma_location: Option<String>,
    /// `progressive`, `tt`, `bb`, `tb` or `bt`, as ffprobe names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field_order: Option<String>,
    /// Degrees, where the stream has a display matrix: what `av_display_rotation_get` returns
    /// for it, as ffprobe's side data `rotation` shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation: Option<f64>,
}

/// What an audio stream's headers say about its samples.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AudioParams {
    /// Samples per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u32>,
    /// FFmpeg's description of the layout, e.g. `stereo`, `5.1(side)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_layout: Option<String>,
    /// FFmpeg's sample format name, e.g. `fltp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_format: Option<String>,
}

/// The stable JSON document of one file (docs/probe.md): `schema`, then every field.
#[derive(Serialize)]
pub struct Document<'a> {
    schema: u32,
    #[serde(flatten)]
    info: &'a MediaInfo,
}

impl MediaInfo {
    /// The document, to serialise alone or among others.
    pub fn document(&self) -> Document<'_> {
        Document {
            schema: JSON_SCHEMA,
            info: self,
        }
    }

    /// The stable JSON document (docs/probe.md), pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.document()).expect("plain structs serialise")
    }
}

/// One stream of a file, in brief.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamSummary {
    pub index: usize,
    /// `video`, `audio`, `subtitle`, `data`, `attachment` or `unknown`.
    pub kind: &'static str,
    /// FFmpeg's codec name, e.g. `h264` or `aac`.
    pub codec: String,
}

/// A video file's main facts: those of its best video stream.
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

/// Describes any file FFmpeg can open, from its headers (and a little of its data, as FFmpeg's
/// probing reads); a still picture also from its own header, as `process` reads it.
pub fn probe(path: &Path) -> Result<MediaInfo, MediaError> {
    let (mut info, _) = describe(path)?;
    info.image = still_info(path)?;
    Ok(info)
}

/// The facts of the best video stream of `path`; an error when it has none.
pub fn probe_video(path: &Path) -> Result<VideoInfo, MediaError> {
    let (info, best) = describe(path)?;
    let best = best.ok_or_else(|| MediaError::NoVideoStream {
        path: display(path),
    })?;
    let stream = &info.streams[best];
    let video = stream
        .video
        .as_ref()
        .expect("a video stream has video params");
    let positive = |d: &Option<f64>| d.filter(|&d| d > 0.0);
    Ok(VideoInfo {
        container: info.container.clone(),
        codec: stream.codec.clone(),
        width: video.width.unwrap_or(0),
        height: video.height.unwrap_or(0),
        pixel_format: video.pixel_format.clone().unwrap_or("unknown".into()),
        bit_depth: video.bit_depth.unwrap_or(8),
        frame_rate: video.frame_rate,
        duration: positive(&stream.duration).or(positive(&info.duration)),
        frames: stream.frames,
        audio_streams: info
            .streams
            .iter()
            .filter(|s| s.kind == StreamKind::Audio)
            .count(),
        streams: info
            .streams
            .iter()
            .map(|s| StreamSummary {
                index: s.index,
                kind: s.kind.name(),
                codec: s.codec.clone(),
            })
            .collect(),
    })
}

/// The description, and the index of the stream FFmpeg picks as the best video stream.
fn describe(path: &Path) -> Result<(MediaInfo, Option<usize>), MediaError> {
    init();
    let open_error = |message: String| MediaError::Open {
        path: display(path),
        message,
    };
    let name = ffmpeg_path(path, open_error)?;
    let file_size = match std::fs::metadata(path) {
        Ok(m) => m.is_file().then_some(m.len()),
        Err(e) => return Err(open_error(super::io_message(&e))),
    };
    let remarks = super::ffmpeg_log::Remarks::new();
    let listening = remarks.listen();
    let input = format::input(name).map_err(|e| {
        let unknown = "not a media file FFmpeg can read";
        super::decode::open_failure(path, e, remarks.take(), unknown)
    })?;
    drop(listening);
    // SAFETY: the context stays open while `input` lives; its format is set once opened.
    let ctx = unsafe { &*input.as_ptr() };
    let demuxer = unsafe { &*ctx.iformat };
    let streams = input
        .streams()
        .map(|s| describe_stream(&input, &s))
        .collect();
    let chapters = input
        .chapters()
        .map(|c| Chapter {
            id: c.id(),
            start: seconds(c.start(), c.time_base()).unwrap_or(0.0),
            end: seconds(c.end(), c.time_base()).unwrap_or(0.0),
            // SAFETY: the chapter's dictionary belongs to the open context.
            title: unsafe { tags((*c.as_ptr()).metadata) }.remove("title"),
        })
        .collect();
    let av_time_base = Rational::new(1, ffi::AV_TIME_BASE);
    let info = MediaInfo {
        file: display(path),
        // SAFETY: static strings of the demuxer, or NULL.
        container: unsafe { text(demuxer.name) }.unwrap_or_default(),
        container_long_name: unsafe { text(demuxer.long_name) },
        duration: seconds(ctx.duration, av_time_base),
        start_time: seconds(ctx.start_time, av_time_base),
        bit_rate: (ctx.bit_rate > 0).then_some(ctx.bit_rate as u64),
        file_size,
        image: None,
        // SAFETY: the file's dictionary belongs to the open context.
        tags: unsafe { tags(ctx.metadata) },
        chapters,
        streams,
    };
    let best = input.streams().best(media::Type::Video).map(|s| s.index());
    Ok((info, best))
}

fn describe_stream(input: &format::context::Input, s: &format::stream::Stream) -> MediaStream {
    let parameters = s.parameters();
    // SAFETY: the stream's parameters and dictionary belong to the open context.
    let (p, stream_tags) = unsafe { (&*parameters.as_ptr(), tags((*s.as_ptr()).metadata)) };
    let kind = StreamKind::from(parameters.medium());
    let set = s.disposition().bits();
    let disposition = (0..31)
        .map(|bit| 1 << bit)
        .filter(|flag| set & flag != 0)
        // SAFETY: returns a static string or NULL.
        .filter_map(|flag| unsafe { text(ffi::av_disposition_to_string(flag)) })
        .collect();
    let frames = s.frames();
    MediaStream {
        index: s.index(),
        kind,
        codec: codec_name(p.codec_id),
        // SAFETY: returns a static descriptor or NULL.
        codec_long_name: unsafe { ffi::avcodec_descriptor_get(p.codec_id).as_ref() }
            .and_then(|d| unsafe { text(d.long_name) }),
        profile: profile(p),
        bit_rate: (p.bit_rate > 0).then_some(p.bit_rate as u64),
        start_time: seconds(s.start_time(), s.time_base()),
        duration: seconds(s.duration(), s.time_base()),
        frames: (frames > 0).then_some(frames as u64),
        language: stream_tags.get("language").cloned(),
        title: stream_tags.get("title").cloned(),
        disposition,
        tags: stream_tags,
        video: (kind == StreamKind::Video).then(|| video_params(input, s, p)),
        audio: (kind == StreamKind::Audio).then(|| audio_params(p)),
    }
}

fn video_params(
    input: &format::context::Input,
    s: &format::stream::Stream,
    p: &ffi::AVCodecParameters,
) -> VideoParams {
    let format = (p.format >= 0 && p.format < ffi::AVPixelFormat::AV_PIX_FMT_NB as i32)
        // SAFETY: in the enum's range, which has no gaps.
        .then(|| unsafe { std::mem::transmute::<i32, ffi::AVPixelFormat>(p.format) });
    // FFmpeg's best guesses from the container and the codec, as ffprobe shows them.
    // SAFETY: both pointers come from the open input; the frame argument may be NULL.
    let (guessed, sar) = unsafe {
        let ctx = input.as_ptr() as *mut ffi::AVFormatContext;
        let stream = s.as_ptr() as *mut ffi::AVStream;
        (
            ffi::av_guess_frame_rate(ctx, stream, std::ptr::null_mut()),
            ffi::av_guess_sample_aspect_ratio(ctx, stream, std::ptr::null_mut()),
        )
    };
    let rotation = s
        .side_data()
        .find(|d| d.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix)
        .and_then(|d| rotation(d.data()));
    // SAFETY (the names): each returns a static string or NULL for any value.
    VideoParams {
        width: (p.width > 0).then_some(p.width as u32),
        height: (p.height > 0).then_some(p.height as u32),
        sample_aspect_ratio: (sar.num > 0 && sar.den > 0).then_some([sar.num, sar.den]),
        pixel_format: format.and_then(|f| unsafe { text(ffi::av_get_pix_fmt_name(f)) }),
        bit_depth: format.map(super::convert::format_depth),
        frame_rate: rate(guessed.into()),
        avg_frame_rate: rate(s.avg_frame_rate()),
        color_space: (p.color_space != ffi::AVColorSpace::AVCOL_SPC_UNSPECIFIED)
            .then(|| unsafe { text(ffi::av_color_space_name(p.color_space)) })
            .flatten(),
        color_primaries: (p.color_primaries != ffi::AVColorPrimaries::AVCOL_PRI_UNSPECIFIED)
            .then(|| unsafe { text(ffi::av_color_primaries_name(p.color_primaries)) })
            .flatten(),
        color_transfer: (p.color_trc != ffi::AVColorTransferCharacteristic::AVCOL_TRC_UNSPECIFIED)
            .then(|| unsafe { text(ffi::av_color_transfer_name(p.color_trc)) })
            .flatten(),
        color_range: (p.color_range != ffi::AVColorRange::AVCOL_RANGE_UNSPECIFIED)
            .then(|| unsafe { text(ffi::av_color_range_name(p.color_range)) })
            .flatten(),
        chroma_location: (p.chroma_location != ffi::AVChromaLocation::AVCHROMA_LOC_UNSPECIFIED)
            .then(|| unsafe { text(ffi::av_chroma_location_name(p.chroma_location)) })
            .flatten(),
        field_order: match p.field_order {
            ffi::AVFieldOrder::AV_FIELD_UNKNOWN => None,
            ffi::AVFieldOrder::AV_FIELD_PROGRESSIVE => Some("progressive"),
            ffi::AVFieldOrder::AV_FIELD_TT => Some("tt"),
            ffi::AVFieldOrder::AV_FIELD_BB => Some("bb"),
            ffi::AVFieldOrder::AV_FIELD_TB => Some("tb"),
            ffi::AVFieldOrder::AV_FIELD_BT => Some("bt"),
        }
        .map(String::from),
        rotation,
    }
}

fn audio_params(p: &ffi::AVCodecParameters) -> AudioParams {
    let layout = &p.ch_layout;
    let channel_layout = (layout.order != ffi::AVChannelOrder::AV_CHANNEL_ORDER_UNSPEC)
        .then(|| {
            let mut buf = [0 as c_char; 128];
            // SAFETY: writes at most `buf.len()` bytes, NUL-terminated, into `buf`.
            let n = unsafe { ffi::av_channel_layout_describe(layout, buf.as_mut_ptr(), buf.len()) };
            (n > 0).then(|| unsafe { text(buf.as_ptr()) }).flatten()
        })
        .flatten();
    let format = (p.format >= 0 && p.format < ffi::AVSampleFormat::AV_SAMPLE_FMT_NB as i32)
        // SAFETY: in the enum's range, which has no gaps.
        .then(|| unsafe { std::mem::transmute::<i32, ffi::AVSampleFormat>(p.format) });
    AudioParams {
        sample_rate: (p.sample_rate > 0).then_some(p.sample_rate as u32),
        channels: (layout.nb_channels > 0).then_some(layout.nb_channels as u32),
        channel_layout,
        // SAFETY: returns a static string or NULL.
        sample_format: format.and_then(|f| unsafe { text(ffi::av_get_sample_fmt_name(f)) }),
    }
}

/// The profile as ffprobe shows it: FFmpeg's name, else the number where one is set.
fn profile(p: &ffi::AVCodecParameters) -> Option<String> {
    // SAFETY: returns a static string or NULL.
    unsafe { text(ffi::avcodec_profile_name(p.codec_id, p.profile)) }
        .or_else(|| (p.profile != ffi::FF_PROFILE_UNKNOWN).then(|| p.profile.to_string()))
}

/// The rotation of a display matrix (nine native-endian 32-bit integers) in degrees, as
/// `av_display_rotation_get` gives it.
fn rotation(data: &[u8]) -> Option<f64> {
    if data.len() < 36 {
        return None;
    }
    let mut matrix = [0i32; 9];
    for (m, bytes) in matrix.iter_mut().zip(data.chunks_exact(4)) {
        *m = i32::from_ne_bytes(bytes.try_into().expect("chunks of 4"));
    }
    // SAFETY: reads the nine integers of `matrix`.
    let degrees = unsafe { ffi::av_display_rotation_get(matrix.as_ptr()) };
    // The matrix holds 16.16 fixed point: keep two decimals, and no negative zero.
    let degrees = (degrees * 100.0).round() / 100.0 + 0.0;
    degrees.is_finite().then_some(degrees)
}

/// `ticks` in `time_base` as seconds; `None` for FFmpeg's "no timestamp".
fn seconds(ticks: i64, time_base: Rational) -> Option<f64> {
    (ticks != ffi::AV_NOPTS_VALUE && time_base.denominator() > 0).then(|| {
        ticks as f64 * f64::from(time_base.numerator()) / f64::from(time_base.denominator())
    })
}

/// A rate as a number, when both its terms are positive.
fn rate(r: Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0)
        .then(|| f64::from(r.numerator()) / f64::from(r.denominator()))
}

/// A C string FFmpeg owns, as an owned string (invalid UTF-8 replaced); `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string.
unsafe fn text(ptr: *const c_char) -> Option<String> {
    (!ptr.is_null()).then(|| CStr::from_ptr(ptr).to_string_lossy().into_owned())
}

/// Every entry of an FFmpeg dictionary, sorted by key (the last of repeated keys wins).
///
/// # Safety
/// `dict` is NULL or a live dictionary.
unsafe fn tags(dict: *const ffi::AVDictionary) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    let mut entry: *mut ffi::AVDictionaryEntry = std::ptr::null_mut();
    loop {
        entry = ffi::av_dict_get(dict, c"".as_ptr(), entry, ffi::AV_DICT_IGNORE_SUFFIX);
        let Some(e) = entry.as_ref() else {
            return map;
        };
        if let (Some(key), Some(value)) = (text(e.key), text(e.value)) {
            map.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_reads_a_display_matrix() {
        let mut matrix = [0i32; 9];
        // SAFETY: writes the nine integers of `matrix`.
        unsafe { ffi::av_display_rotation_set(matrix.as_mut_ptr(), 90.0) };
        let bytes: Vec<u8> = matrix.iter().flat_map(|m| m.to_ne_bytes()).collect();
        // FFmpeg's setter and getter turn opposite ways: get(set(a)) is -a.
        assert_eq!(rotation(&bytes), Some(-90.0));
        assert_eq!(rotation(&bytes[..35]), None);
        let identity: Vec<u8> = [1 << 16, 0, 0, 0, 1 << 16, 0, 0, 0, 1 << 30]
            .iter()
            .flat_map(|m: &i32| m.to_ne_bytes())
            .collect();
        assert_eq!(rotation(&identity).map(f64::to_bits), Some(0f64.to_bits()));
    }

    #[test]
    fn seconds_skip_missing_timestamps() {
        assert_eq!(seconds(ffi::AV_NOPTS_VALUE, Rational::new(1, 1000)), None);
        assert_eq!(seconds(1500, Rational::new(1, 1000)), Some(1.5));
        assert_eq!(seconds(10, Rational::new(1, 0)), None);
    }

    #[test]
    fn a_missing_file_is_an_open_error_naming_it() {
        let err = probe(Path::new("/no/such/clip.mp4")).unwrap_err();
        assert!(matches!(err, MediaError::Open { .. }), "{err}");
        assert_eq!(err.to_string(), "/no/such/clip.mp4: no such file");
    }

    #[test]
    fn the_document_starts_with_its_schema_and_leaves_unknowns_out() {
        let info = MediaInfo {
            file: "a \"b\".wav".into(),
            container: "wav".into(),
            container_long_name: None,
            duration: Some(1.5),
            start_time: None,
            bit_rate: Some(705_600),
            file_size: None,
            image: None,
            tags: BTreeMap::from([("title".into(), "x\ny".into())]),
            chapters: vec![],
            streams: vec![],
        };
        let json = info.to_json();
        assert!(
            json.starts_with("{\n  \"schema\": 1,\n  \"file\": \"a \\\"b\\\".wav\""),
            "{json}"
        );
        assert!(json.contains("\"title\": \"x\\ny\""), "{json}");
        assert!(
            !json.contains("null") && !json.contains("start_time"),
            "{json}"
        );
        assert!(json.contains("\"duration\": 1.5,"), "{json}");
    }
}
