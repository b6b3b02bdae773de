//! Video in: demuxing and decoding with FFmpeg, frame-threaded.
//!
//! [`VideoDecoder`] opens a file, picks its best video stream and hands out, in demux order,
//! decoded pictures of that stream (numbered, with their best-effort timestamps) and the raw
//! packets of the streams the caller asked to copy. It never converts pixels ([`super::convert`]
//! does) and never writes anything.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ffmpeg::ffi::{self, AVPixelFormat, FF_THREAD_FRAME, FF_THREAD_SLICE};
use ffmpeg::{codec, format, media, Packet, Rational};
use ffmpeg_next as ffmpeg;

use super::convert;
use super::ffmpeg_log::Remarks;
use super::{display, MediaError, OnError, Trim};
use crate::frame::{Format, Orientation};

/// Initialises FFmpeg once and routes its log through `tracing` ([`super::ffmpeg_log`]):
/// tessera reports what went wrong itself, and a batch run must not print an encoder's banner
/// per file.
pub(crate) fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ffmpeg::init();
        super::ffmpeg_log::install();
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

/// Ok when FFmpeg recognises the file's container (whatever its streams); otherwise why not
/// ([`open_failure`]), `unknown` being the message for a file FFmpeg finds no format in. Cheap:
/// it reads the header only, no stream is probed or decoded.
pub fn recognised(path: &Path, unknown: &str) -> Result<(), MediaError> {
    init();
    let name = ffmpeg_path(path, |m| open_error(path, m))?;
    let name = std::ffi::CString::new(name).map_err(|e| open_error(path, e.to_string()))?;
    let remarks = Remarks::new();
    let _listening = remarks.listen();
    let mut ctx = std::ptr::null_mut();
    // SAFETY: opens and at once closes a demuxer on a NUL-terminated path; on failure FFmpeg
    // frees the context and leaves it NULL.
    unsafe {
        let status = ffi::avformat_open_input(
            &mut ctx,
            name.as_ptr(),
            std::ptr::null(),
            std::ptr::null_mut(),
        );
        if status < 0 {
            return Err(open_failure(path, status.into(), remarks.take(), unknown));
        }
        ffi::avformat_close_input(&mut ctx);
    }
    Ok(())
}

/// The container a file's first bytes announce, where they name one: such a file that FFmpeg
/// cannot open is damaged, not of an unknown kind.
fn container_signature(head: &[u8]) -> Option<&'static str> {
    match head {
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Some("MP4/MOV"),
        // QuickTime files from before `ftyp`.
        [_, _, _, _, b'm', b'o', b'o', b'v' | b'd', ..]
        | [_, _, _, _, b'w', b'i', b'd', b'e', ..] => Some("MP4/MOV"),
        [0x1a, 0x45, 0xdf, 0xa3, ..] => Some("Matroska/WebM"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'A', b'V', b'I', b' ', ..] => Some("AVI"),
        // Three 188-byte packets in sync.
        _ if head.len() > 376 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47 => {
            Some("MPEG-TS")
        }
        _ => None,
    }
}

/// Why FFmpeg could not open `path` (it answered `error` and logged `said`), as an error: a
/// file whose first bytes name a container is damaged or incomplete; any other file FFmpeg
/// finds no format in gets `unknown` (with what FFmpeg said, which may be about the format its
/// name suggests: "moov atom not found" for notes named `.mp4`); on other errors, FFmpeg's.
pub(crate) fn open_failure(
    path: &Path,
    error: ffmpeg::Error,
    said: Option<String>,
    unknown: &str,
) -> MediaError {
    let mut head = Vec::with_capacity(512);
    if let Ok(file) = std::fs::File::open(path) {
        use std::io::Read;
        let _ = file.take(512).read_to_end(&mut head);
    }
    let reason = said.clone().unwrap_or_else(|| error.to_string());
    match container_signature(&head) {
        Some("MP4/MOV")
            if said
                .as_deref()
                .is_some_and(|s| s.contains("moov atom not found")) =>
        {
            MediaError::Decode {
                path: display(path),
                message: format!(
                    "a damaged or incomplete MP4/MOV file: its index (moov atom) is missing: the \
                     file is incomplete, perhaps cut short while copying or recording (FFmpeg \
                     said: {reason})"
                ),
            }
        }
        Some(kind) => MediaError::Decode {
            path: display(path),
            message: format!(
                "a damaged or incomplete {kind} file: FFmpeg could not read it: {reason}"
            ),
        },
        None => open_error(
            path,
            match (said, error) {
                (Some(said), _) => format!("{unknown} (FFmpeg said: {said})"),
                (None, ffmpeg::Error::InvalidData) => unknown.to_string(),
                (None, error) => format!("FFmpeg could not read it: {error}"),
            },
        ),
    }
}

/// What the decoder knows about the video stream before the first picture.
#[derive(Clone, Copy, Debug)]
pub struct StreamInfo {
    /// Index of the video stream in the file.
    pub index: usize,
    pub width: u32,
    pub height: u32,
    /// The decoder's pixel format.
    pub format: AVPixelFormat,
    /// The frames the stream becomes: the decoder's planes where they are planar, the nearest
    /// planar layout otherwise, with the stream's colour description.
    pub frame: Format,
    /// The stream's tags, passed on to the encoder unchanged.
    pub primaries: ffi::AVColorPrimaries,
    pub transfer: ffi::AVColorTransferCharacteristic,
    pub time_base: Rational,
    /// The stream's first timestamp, in `time_base`, where the container gives it.
    pub start: Option<i64>,
    /// Seconds the stream lasts, from the stream or the container; 0 when unknown.
    pub duration: f64,
    /// How the display matrix says to turn the picture for display (identity without one).
    pub orientation: Orientation,
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

/// Trim bounds in the time bases of the streams.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    /// Seconds on the container's clock (0 at its start time) where the kept part starts.
    start: f64,
    end: Option<f64>,
    frames: Option<u64>,
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
    bounds: Option<Bounds>,
    /// The container's start time, in seconds.
    container_start: f64,
    on_error: OnError,
    /// Damaged frames left out (with [`OnError::Skip`]), shared with whoever reports them.
    skipped: Arc<AtomicU64>,
    /// The end of the last video packet read, in seconds, to tell a file that ends early.
    read_up_to: f64,
    /// The time of the last picture handed out, in seconds.
    last_time: Option<f64>,
    /// Damage found since the last picture handed out, not yet in `skipped`.
    pending: u64,
    /// The error lines FFmpeg logs about this input, for the messages of its errors.
    remarks: Remarks,
    /// Frames kept although decoded from damaged data (with [`OnError::Accept`]).
    accepted: Arc<AtomicU64>,
    /// Packets the container marks as damaged that were decoded all the same (with
    /// [`OnError::Accept`]), whose frames are counted once, here, even if the decoder also
    /// reports concealing damage in them.
    corrupt_decoded: u64,
    /// Pictures the decoder gave, before any trim.
    pictures: u64,
    /// Packets of the video stream read.
    video_packets: u64,
    /// Damage in the file's structure, found on opening: a GIF or an animated WebP cut short
    /// or corrupt after `whole` frames.
    cut: Option<Cut>,
    /// The temporary video an animated WebP was read into, removed with the decoder.
    _webp_frames: Option<super::webp::Intermediate>,
}

/// Where a file's structure goes wrong (a GIF or an animated WebP cut short or corrupt), found
/// before decoding.
#[derive(Clone, Debug)]
pub(crate) struct Cut {
    /// The frames before the damage, each whole; pictures from after it are damaged.
    pub whole: u64,
    /// Frames known to be lost (none given as pictures) when the file is read to its end.
    pub lost: u64,
    /// Seconds from the start where the damage is, when known.
    pub time: Option<f64>,
    pub what: String,
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
        VideoDecoder::open_at(path, None)
    }

    /// [`VideoDecoder::open`], where `path` may be an image sequence (`frames/%05d.png`) read at
    /// `fps` frames a second (FFmpeg's 25 without it). An animated WebP, which FFmpeg cannot
    /// decode, is read through a temporary lossless copy that goes with the decoder; messages
    /// name `path` all the same.
    pub fn open_at(path: &Path, fps: Option<f64>) -> Result<VideoDecoder, MediaError> {
        if super::is_sequence(path) || !super::image::is_animated_webp(path) {
            return VideoDecoder::open_file(path, fps);
        }
        let (frames, cut) = super::webp::to_video(path)?;
        let shown = display(path);
        let mut decoder = VideoDecoder::open_file(frames.path(), None)
            .map_err(|e| e.renamed(&display(frames.path()), &shown))?;
        decoder.path = shown;
        decoder._webp_frames = Some(frames);
        decoder.cut = cut;
        Ok(decoder)
    }

    fn open_file(path: &Path, fps: Option<f64>) -> Result<VideoDecoder, MediaError> {
        init();
        let name = ffmpeg_path(path, |m| open_error(path, m))?;
        let sequence = super::is_sequence(path);
        if !sequence && !super::stdin::is_pipe(path) {
            if let Err(e) = std::fs::metadata(path) {
                return Err(open_error(path, super::io_message(&e)));
            }
        }
        let mut options = ffmpeg::Dictionary::new();
        if let (true, Some(fps)) = (sequence, fps) {
            // A rational FFmpeg reads exactly: 29.97 is 2997/100.
            options.set(
                "framerate",
                &format!("{}/1000", (fps * 1000.0).round() as i64),
            );
        }
        let remarks = Remarks::new();
        let _listening = remarks.listen();
        let input = format::input_with_dictionary(name, options).map_err(|e| {
            let unknown =
                "not a video or image file tessera can read (FFmpeg finds no known format)";
            open_failure(path, e, remarks.take(), unknown)
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
        let (id, width, height, format, space, range, primaries, transfer, location, sar) = unsafe {
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
                p.chroma_location,
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
        // one per core; frame threading where the codec has it, slices otherwise. Its
        // `opaque` is ours for nothing else.
        unsafe {
            let ctx = context.as_mut_ptr();
            remarks.tag_codec(ctx);
            (*ctx).thread_count = 0;
            (*ctx).thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
            (*ctx).pkt_timebase = time_base.into();
        }
        let decoder = context
            .decoder()
            .open_as(codec)
            .and_then(|d| d.video())
            .map_err(|e| {
                let said = remarks
                    .take()
                    .map_or(String::new(), |s| format!(" (FFmpeg said: {s})"));
                open_error(
                    path,
                    format!("cannot open the {codec_name} decoder: {e}{said}"),
                )
            })?;

        let (width, height) = (width as u32, height as u32);
        let info = StreamInfo {
            index,
            width,
            height,
            format,
            frame: convert::frame_format(
                format,
                width,
                height,
                convert::stream_colour(space, range, primaries, transfer, location, format, height),
            ),
            primaries,
            transfer,
            time_base,
            start,
            duration,
            orientation: display_orientation(&stream),
            frame_rate,
            aspect_ratio: sar.into(),
        };
        // FFmpeg reads a GIF cut short, even between frames, as a shorter one.
        let cut = if id == ffi::AVCodecID::AV_CODEC_ID_GIF && !sequence {
            gif_cut(path)?
        } else {
            None
        };
        let copy = vec![false; input.nb_streams() as usize];
        // SAFETY: a plain field of the open input context.
        let container_start = match unsafe { (*input.as_ptr()).start_time } {
            ffi::AV_NOPTS_VALUE => 0.0,
            t => t as f64 / ffi::AV_TIME_BASE as f64,
        };
        Ok(VideoDecoder {
            path: display(path),
            input,
            decoder,
            info,
            copy,
            next_index: 0,
            draining: false,
            finished: false,
            bounds: None,
            container_start,
            on_error: OnError::Stop,
            skipped: Arc::new(AtomicU64::new(0)),
            read_up_to: 0.0,
            last_time: None,
            pending: 0,
            remarks,
            accepted: Arc::new(AtomicU64::new(0)),
            corrupt_decoded: 0,
            pictures: 0,
            video_packets: 0,
            cut,
            _webp_frames: None,
        })
    }

    /// FFmpeg's demuxer or decoder reporting damage it worked around (a packet cut short, an
    /// element past its parent's end, a slice it concealed) stops the run, as `ffmpeg -xerror`
    /// does. With `skip` and `accept` the frames it costs are counted where they are found
    /// (their error flags, the gaps), so the report alone is not counted again. Damage already
    /// found in the file's structure (a GIF or WebP cut short) says more, where it is.
    fn reported_damage(&mut self) -> Result<(), MediaError> {
        if self.cut.is_some() || !self.remarks.any() {
            return Ok(());
        }
        if self.on_error == OnError::Stop {
            return self.damage(None, "FFmpeg reports damage in the data".into());
        }
        self.remarks.take();
        Ok(())
    }

    /// The input as messages name it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What to do with damaged video; stopping is the default.
    pub fn on_error(&mut self, policy: OnError) {
        self.on_error = policy;
    }

    /// The count of damaged frames left out, which goes on growing while the decoder runs.
    pub fn skipped(&self) -> Arc<AtomicU64> {
        self.skipped.clone()
    }

    /// The count of frames kept although decoded from damaged data ([`OnError::Accept`]).
    pub fn accepted(&self) -> Arc<AtomicU64> {
        self.accepted.clone()
    }

    /// Damage found at the next frame, at `time` (seconds from the file's start): an error,
    /// or with [`OnError::Skip`] or [`OnError::Accept`] (a frame that could not be decoded at
    /// all) one more frame left out.
    fn damage(&mut self, time: Option<f64>, what: String) -> Result<(), MediaError> {
        let said = self.said();
        match self.on_error {
            OnError::Skip | OnError::Accept => {
                self.pending += 1;
                Ok(())
            }
            OnError::Stop => Err(MediaError::Damaged {
                path: self.path.clone(),
                frame: self.next_index,
                time: time.unwrap_or(self.read_up_to),
                what: what + &said,
            }),
        }
    }

    /// With [`OnError::Skip`], counts the frames lost in a gap before the picture at `pts`:
    /// damage the demuxer skipped over takes whole runs of frames with it. Only for a stream of
    /// constant frame rate (its average rate is its base rate), where a gap is a loss.
    fn count_lost(&mut self, pts: Option<i64>) {
        let mut lost = std::mem::take(&mut self.pending);
        let Some(t) = pts.map(|p| self.seconds(p, self.info.time_base)) else {
            self.skipped.fetch_add(lost, Ordering::Relaxed);
            return;
        };
        let rate = self.info.frame_rate;
        // SAFETY: reading plain fields of the open input's video stream.
        let constant = unsafe {
            let st = *(*self.input.as_ptr()).streams.add(self.info.index);
            let (avg, base) = ((*st).avg_frame_rate, (*st).r_frame_rate);
            avg.num > 0
                && avg.den > 0
                && avg.num as i64 * base.den as i64 == base.num as i64 * avg.den as i64
        };
        let counting = self.on_error != OnError::Stop;
        if let (true, Some(last), true) = (counting, self.last_time, constant) {
            let frames = (t - last) * f64::from(rate);
            if frames > 1.5 {
                lost = lost.max((frames.round() as u64).saturating_sub(1));
            }
        }
        self.skipped.fetch_add(lost, Ordering::Relaxed);
        self.last_time = Some(t);
    }

    /// A file whose container says it lasts longer than its video packets reach was cut short
    /// (only where the duration comes from the file's header, not an estimate from its size).
    fn check_complete(&mut self) -> Result<(), MediaError> {
        // An MPEG-TS file is whole transport packets (188 bytes, 192 in M2TS, 204 with error
        // correction): one that ends inside a packet was cut short.
        // SAFETY: the input's format and its name are FFmpeg's static data.
        let container = unsafe { std::ffi::CStr::from_ptr((*(*self.input.as_ptr()).iformat).name) };
        if container.to_bytes() == b"mpegts" {
            if let Ok(meta) = std::fs::metadata(&self.path) {
                let len = meta.len();
                if meta.is_file() && len > 0 && [188, 192, 204].iter().all(|p| len % p != 0) {
                    return self.damage(
                        None,
                        "the file ends inside a transport packet (cut short?)".into(),
                    );
                }
            }
        }
        // SAFETY: a plain field of the open input context.
        let method = unsafe { (*self.input.as_ptr()).duration_estimation_method };
        let from_header = method == ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_STREAM
            || method == ffi::AVDurationEstimationMethod::AVFMT_DURATION_FROM_PTS;
        let rate = self.info.frame_rate;
        let frame = if rate.numerator() > 0 && rate.denominator() > 0 {
            1.0 / f64::from(rate)
        } else {
            0.1
        };
        // An index that lists more frames than the file holds lies, or the data was lost (a
        // few frames of slack: an edit list may leave some out).
        // SAFETY: a plain field of the open input's video stream.
        let listed = unsafe {
            let st = *(*self.input.as_ptr()).streams.add(self.info.index);
            (*st).nb_frames.max(0) as u64
        };
        if self.bounds.is_none() && listed > self.video_packets + 2 + listed / 20 {
            return self.damage(
                None,
                format!(
                    "the file's index lists {listed} frames, its data holds {}",
                    self.video_packets
                ),
            );
        }
        let declared = self.info.duration;
        let short = declared - self.read_up_to;
        if from_header && self.bounds.is_none() && declared > 0.0 && short > 2.0 * frame + 0.05 {
            if self.on_error != OnError::Stop {
                // The frames the header promised and the file does not hold.
                self.pending += ((short / frame).round() as u64).max(1);
                return Ok(());
            }
            return self.damage(
                None,
                format!(
                    "the file ends early: its video stops at {:.3} s of the {declared:.3} s its header gives (truncated?)",
                    self.read_up_to
                ),
            );
        }
        Ok(())
    }

    /// At the end of the file, damage in its structure that no picture showed: an error, or
    /// the frames it lost left out.
    fn check_cut(&mut self) -> Result<(), MediaError> {
        let Some(cut) = self.cut.take() else {
            return Ok(());
        };
        if self.pictures > cut.whole {
            // Pictures from past the damage were made and counted as they came.
            return Ok(());
        }
        match self.on_error {
            OnError::Stop => Err(MediaError::Damaged {
                path: self.path.clone(),
                frame: cut.whole,
                time: cut.time.unwrap_or(self.read_up_to),
                what: cut.what,
            }),
            OnError::Skip | OnError::Accept => {
                self.pending += cut.lost;
                Ok(())
            }
        }
    }

    /// The timestamps of the video stream's pictures in presentation order (in its time
    /// base), read from its packets alone: nothing is decoded, the demuxer reads to the end of
    /// the file. Where each frame is, for a read that starts at a given frame. Packets the
    /// container marks to be discarded (before an edit list's start) are left out, as the
    /// decoder leaves out their pictures. `None` where a packet has no timestamp (only decoding
    /// tells then).
    pub fn packet_times(mut self) -> Result<Option<Vec<i64>>, MediaError> {
        let _listening = self.remarks.listen();
        let mut times = Vec::new();
        loop {
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() == self.info.index => {
                    use ffmpeg::packet::Ref;
                    // SAFETY: a plain field of the packet just read.
                    let discard = unsafe { (*packet.as_ptr()).flags } & ffi::AV_PKT_FLAG_DISCARD;
                    if discard != 0 {
                        continue;
                    }
                    match packet.pts() {
                        Some(pts) => times.push(pts),
                        None => return Ok(None),
                    }
                }
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => break,
                // The demuxer resyncs past damaged data; reading the frames will say more.
                Err(ffmpeg::Error::InvalidData) => {}
                Err(e) => {
                    return Err(MediaError::Decode {
                        path: self.path.clone(),
                        message: format!("cannot read: {e}{}", self.said()),
                    })
                }
            }
        }
        times.sort_unstable();
        Ok(Some(times))
    }

    /// Keeps only the part of the video `trim` names: seeks to the key frame before its start,
    /// then drops the pictures before it and the copied packets outside it, and ends at its end.
    /// Pictures are counted from the first one kept.
    pub fn trim(&mut self, trim: Trim) -> Result<(), MediaError> {
        let bad = |message: String| MediaError::Unsupported {
            path: self.path.clone(),
            message,
        };
        if !(trim.start.is_finite() && trim.start >= 0.0) {
            return Err(bad(format!(
                "the start {}s is not a time in the video",
                trim.start
            )));
        }
        if let Some(d) = trim.duration {
            if !(d.is_finite() && d > 0.0) {
                return Err(bad(format!("the duration {d}s is not a positive time")));
            }
        }
        if trim.frames == Some(0) {
            return Err(bad("--frames 0 keeps nothing".into()));
        }
        if self.info.duration > 0.0 && trim.start >= self.info.duration {
            return Err(bad(format!(
                "the start {}s is past the end of the video ({:.3}s long)",
                trim.start, self.info.duration
            )));
        }
        if trim.start > 0.0 {
            let at = ((self.container_start + trim.start) * ffi::AV_TIME_BASE as f64) as i64;
            self.input
                .seek(at, ..at)
                .map_err(|e| bad(format!("cannot seek to {}s: {e}", trim.start)))?;
            self.decoder.flush();
        }
        self.bounds = Some(Bounds {
            start: trim.start,
            end: trim.duration.map(|d| trim.start + d),
            frames: trim.frames,
        });
        Ok(())
    }

    /// The input time, in seconds on the container's clock, that becomes 0 in the output: the
    /// container's start, plus the trim's start.
    pub fn origin(&self) -> f64 {
        self.container_start + self.bounds.map_or(0.0, |b| b.start)
    }

    /// Seconds from the container's start of `pts` in `time_base`.
    fn seconds(&self, pts: i64, time_base: Rational) -> f64 {
        pts as f64 * f64::from(time_base) - self.container_start
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
        let _listening = self.remarks.listen();
        let mut picture = ffmpeg::frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut picture) {
                Ok(()) => {
                    let pts = picture.timestamp();
                    // SAFETY: plain fields of the frame just decoded.
                    let (errors, flags) = unsafe {
                        let f = picture.as_ptr();
                        ((*f).decode_error_flags, (*f).flags)
                    };
                    let raw = self.pictures;
                    self.pictures += 1;
                    let time = pts.map(|p| self.seconds(p, self.info.time_base));
                    if let Some(cut) = self.cut.as_ref().filter(|c| raw >= c.whole) {
                        // A picture FFmpeg made from past the damage in the file's structure.
                        if self.on_error == OnError::Accept {
                            self.accepted.fetch_add(1, Ordering::Relaxed);
                        } else {
                            let what = cut.what.clone();
                            self.damage(time.or(cut.time), what)?;
                            continue;
                        }
                    } else if errors != 0 || flags & ffi::AV_FRAME_FLAG_CORRUPT != 0 {
                        if self.on_error == OnError::Accept {
                            if self.corrupt_decoded > 0 {
                                self.corrupt_decoded -= 1;
                            } else {
                                self.accepted.fetch_add(1, Ordering::Relaxed);
                            }
                        } else {
                            self.damage(
                                time,
                                "the decoder could only conceal damage in this frame".into(),
                            )?;
                            continue;
                        }
                    }
                    if let Some(b) = self.bounds {
                        // A picture without a timestamp is kept: there is nothing to place it by.
                        let t = pts.map(|p| self.seconds(p, self.info.time_base));
                        // Half a microsecond of slack for timestamps rounded to their time base.
                        if t.is_some_and(|t| t < b.start - 5e-7) {
                            continue;
                        }
                        let past_end = t.zip(b.end).is_some_and(|(t, e)| t >= e - 5e-7);
                        if past_end || b.frames.is_some_and(|n| self.next_index >= n) {
                            self.finished = true;
                            return Ok(None);
                        }
                    }
                    self.count_lost(pts);
                    let index = self.next_index;
                    self.next_index += 1;
                    return Ok(Some(Decoded::Picture(Picture {
                        index,
                        pts,
                        picture,
                    })));
                }
                Err(ffmpeg::Error::Eof) => {
                    self.finished = true;
                    self.skipped
                        .fetch_add(std::mem::take(&mut self.pending), Ordering::Relaxed);
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
            self.reported_damage()?;
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) => {
                    let stream = packet.stream();
                    if stream == self.info.index {
                        self.video_packets += 1;
                        let time = packet.pts().map(|p| self.seconds(p, self.info.time_base));
                        if let Some(t) = time {
                            let length = packet.duration() as f64 * f64::from(self.info.time_base);
                            self.read_up_to = self.read_up_to.max(t + length);
                        }
                        if packet.is_corrupt() {
                            if self.on_error == OnError::Accept {
                                // Decoded all the same; its frame is counted now.
                                self.accepted.fetch_add(1, Ordering::Relaxed);
                                self.corrupt_decoded += 1;
                            } else {
                                self.damage(
                                    time,
                                    "the container marks this packet as damaged".into(),
                                )?;
                                continue;
                            }
                        }
                        match self.decoder.send_packet(&packet) {
                            Ok(()) => {}
                            Err(ffmpeg::Error::InvalidData) => {
                                self.damage(time, "the decoder cannot read this packet".into())?
                            }
                            Err(e) => return Err(self.decode_error(e)),
                        }
                    } else if self.copy.get(stream).copied().unwrap_or(false) && self.keeps(&packet)
                    {
                        // A copied packet the container marks as damaged would be written as
                        // it is: damage all the same.
                        if packet.is_corrupt() && self.on_error != OnError::Accept {
                            let time = packet.pts().and_then(|p| {
                                let tb = self.input.stream(stream)?.time_base();
                                Some(self.seconds(p, tb))
                            });
                            self.damage(
                                time,
                                format!(
                                    "the container marks a packet of stream {stream} as damaged"
                                ),
                            )?;
                            continue;
                        }
                        return Ok(Some(Decoded::Packet(packet)));
                    }
                }
                Err(ffmpeg::Error::Eof) => {
                    // Damage in the structure says more than a length that falls short.
                    if self.cut.is_some() {
                        self.check_cut()?;
                    } else {
                        self.check_complete()?;
                    }
                    // Else a demuxer that finds the file ends before its structure does says
                    // so as it reaches the end ("File ended prematurely").
                    self.reported_damage()?;
                    self.decoder.send_eof().map_err(|e| self.decode_error(e))?;
                    self.draining = true;
                }
                // The demuxer resyncs past damaged data.
                Err(ffmpeg::Error::InvalidData) => {
                    self.damage(None, "the container's data is damaged here".into())?
                }
                Err(e) => {
                    return Err(MediaError::Decode {
                        path: self.path.clone(),
                        message: format!("cannot read: {e}{}", self.said()),
                    })
                }
            }
        }
    }

    /// Whether a copied packet starts inside the trimmed part (always without a trim, or
    /// without a timestamp).
    fn keeps(&self, packet: &Packet) -> bool {
        let (Some(b), Some(pts)) = (self.bounds, packet.pts()) else {
            return true;
        };
        let Some(stream) = self.input.stream(packet.stream()) else {
            return true;
        };
        let t = self.seconds(pts, stream.time_base());
        t >= b.start - 5e-7 && b.end.is_none_or(|e| t < e - 5e-7)
    }

    fn decode_error(&self, e: ffmpeg::Error) -> MediaError {
        MediaError::Decode {
            path: self.path.clone(),
            message: format!(
                "cannot decode the video (picture {}): {e}{}",
                self.next_index,
                self.said()
            ),
        }
    }

    /// What FFmpeg said since it was last asked, as the end of a message: ` (FFmpeg said: …)`.
    fn said(&self) -> String {
        self.remarks
            .take()
            .map_or(String::new(), |s| format!(" (FFmpeg said: {s})"))
    }
}

/// Damage in a GIF's blocks (see [`super::damage::gif_blocks`]).
fn gif_cut(path: &Path) -> Result<Option<Cut>, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| open_error(path, super::io_message(&e)))?;
    Ok(super::damage::gif_blocks(&bytes).err().map(|d| Cut {
        whole: d.whole,
        // At least the frame the damage cuts into or comes before; how many more, the file no
        // longer says.
        lost: 1,
        time: None,
        what: d.what,
    }))
}

/// The turn a stream's display matrix asks for, as FFmpeg's command line applies it with
/// `-autorotate`: a quarter turn within a degree of 90, 180 or 270 (with the mirror the matrix's
/// signs give), else none.
fn display_orientation(stream: &format::stream::Stream) -> Orientation {
    let kind = ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX;
    let mut size = 0usize;
    // SAFETY: reads side data of an open stream; a display matrix is nine i32.
    let m: [i32; 9] = unsafe {
        let data = ffi::av_stream_get_side_data(stream.as_ptr(), kind, &mut size);
        if data.is_null() || size < 36 {
            return Orientation::default();
        }
        std::ptr::read_unaligned(data as *const [i32; 9])
    };
    // SAFETY: reads the nine values just copied.
    let angle = unsafe { ffi::av_display_rotation_get(m.as_ptr()) };
    if !angle.is_finite() {
        return Orientation::default();
    }
    // Clockwise degrees in 0..360.
    let cw = (-angle.round()).rem_euclid(360.0);
    let near = |d: f64| (cw - d).abs() < 1.0;
    let (mirror, quarter_turns) = if near(90.0) {
        (m[3] > 0, if m[3] > 0 { 3 } else { 1 })
    } else if near(180.0) {
        match (m[0] < 0, m[4] < 0) {
            (true, true) => (false, 2),
            (true, false) => (true, 0),
            (false, true) => (true, 2),
            (false, false) => (false, 0),
        }
    } else if near(270.0) {
        (m[3] < 0, if m[3] < 0 { 1 } else { 3 })
    } else {
        (false, 0)
    };
    Orientation {
        mirror,
        quarter_turns,
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
