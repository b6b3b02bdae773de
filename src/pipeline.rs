//! The threads and channels of the video data path.
//!
//! ```text
//! decode ──► convert ──► filter ──► encode (or discard)
//! demux,      planar       the backend   copy (or convert) into the
//! decode      pictures     runs the plan encoder's picture, encode, mux;
//!             read in place,             copied packets muxed as they come
//!             others to planar
//! ```
//!
//! Each stage is a thread; bounded channels a few messages deep join them, so memory stays
//! flat whatever the video's length and the slowest stage sets the pace. Packets of copied
//! streams travel with the frames, which keeps them in demux order at the muxer.
//! Everything that can be refused (the chain on this frame size, the encoder and its options,
//! the container) is refused before the first thread starts. When a stage fails it records its
//! error and drops its channel ends; its neighbours see the disconnection and stop without an
//! error of their own, so the first failure is the one reported. This module owns the threads
//! only: decoding, conversion and encoding are `media`'s, filtering is the backend's.
#![cfg(feature = "video")]

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, Scope, ScopedJoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};
use ffmpeg_next::Packet;

use crate::backend::Backend;
use crate::chain::Chain;
use crate::error::Error;
use crate::filters::FilterKind;
use crate::frame::{Format, Frame, Orientation};
pub use crate::job::{Progress, Stop};
use crate::media::convert::Intake;
use crate::media::decode::{Decoded, Picture, StreamInfo, VideoDecoder};
use crate::media::{display, MediaError, VideoWriter};
use crate::media::{OnError, Trim};
use crate::plan::{Compiler, FrameTime, Plan, PlanError};
use crate::stats::{StageClock, StageStats};

pub use crate::media::EncodeSettings;

/// How many frames the channels between stages hold: none, each frame goes from one stage to
/// the next hand to hand. The decoder's own frame threads keep it ahead, and the filter works
/// on one frame while the sink takes the one before. Each frame held is memory (1.5 bytes a
/// pixel at 8-bit 4:2:0, and a decoder picture held is one the decoder cannot reuse): on a
/// 1080p clip, eq and gblur peaked at 107-108 MiB with depths 0, 0, 0 against 110-115 for
/// 0, 1, 1 and 114-120 for 2, 2, 2, as fast within the noise (three runs each).
const CHANNEL_DEPTH: usize = 0;

/// One video to filter.
#[derive(Clone, Debug)]
pub struct VideoJob<'a> {
    pub input: &'a Path,
    /// Where to write the result, its container from the extension; `None` decodes and
    /// filters every frame and writes nothing (`--discard`).
    pub output: Option<&'a Path>,
    pub encode: EncodeSettings,
    pub chain: &'a Chain,
    /// The part of the video to process; the default is all of it.
    pub trim: Trim,
    /// What to do with damaged video.
    pub on_error: OnError,
    /// The frame rate of an image-sequence input (FFmpeg's 25 without it).
    pub fps: Option<f64>,
    /// Where the run counts the frames it has written, for a progress display.
    pub progress: Option<Arc<Progress>>,
    /// How large the frames may be, and the memory they may hold (`--max-pixels`,
    /// `--max-memory`): checked before the first frame is decoded.
    pub limits: crate::limits::Limits,
    /// The run's stop: decoding ends at the next frame once it is requested.
    pub stop: Stop,
}

/// What a finished video run did.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoReport {
    /// Frames decoded, filtered and (unless discarding) encoded.
    pub frames: u64,
    pub input_size: (u32, u32),
    pub output_size: (u32, u32),
    /// Frames per second of the source (FFmpeg's best guess); 0 when unknown.
    pub frame_rate: f64,
    /// The format of the frames between decoding and filtering: the decoder's own planes.
    pub format: Format,
    /// Wall-clock time of the whole run.
    pub seconds: f64,
    /// The backend, as it describes itself.
    pub backend: String,
    /// The video encoder used; `None` when discarding.
    pub encoder: Option<String>,
    /// Streams copied from the input as they were (audio, subtitles).
    pub copied_streams: usize,
    /// Where the time went, stage by stage, in data-path order.
    pub stages: Vec<StageStats>,
    /// Damaged frames left out (`--on-error skip`, or frames `--on-error accept` could not
    /// decode at all).
    pub skipped: u64,
    /// The input's streams the output could not hold, each said in a sentence.
    pub left_out: Vec<String>,
    /// Frames kept although decoded from damaged data (`--on-error accept`).
    pub accepted: u64,
}

/// What travels between stages. Packets of copied streams ride with the next frame of the
/// video (or with the end), so a channel's depth counts frames only and the packets reach the
/// muxer in demux order. A channel that closes without `End` means the sender failed.
enum Message<T> {
    Frame { frame: T, copies: Vec<Packet> },
    End { copies: Vec<Packet> },
}

/// The first error any stage hit, for a run on `input`.
struct Failure {
    first: Mutex<Option<Error>>,
    input: String,
}

impl Failure {
    fn new(input: String) -> Failure {
        Failure {
            first: Mutex::new(None),
            input,
        }
    }

    fn record(&self, error: Error) {
        let mut first = self
            .first
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        first.get_or_insert(error);
    }

    fn take(self) -> Option<Error> {
        self.first
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every check [`run_video`] makes before it decodes a frame: the input opened and trimmed, the
/// chain compiled for its frames, and the output's container and encoder opened with the
/// streams it must hold (see [`VideoWriter::check`]); nothing is written. Returns the output
/// frames' format and the input's streams the output would leave out.
pub fn check_video(job: &VideoJob) -> Result<(Format, Vec<String>), Error> {
    let (decoder, clock, _, format) = open_input(job)?;
    let plan = Compiler::new(job.chain).plan_at(&format, &clock.start())?;
    crate::limits::check(job.input, &job.limits, &plan, crate::limits::Held::Video)?;
    let left_out = match job.output {
        Some(path) => VideoWriter::check(path, &decoder, &job.encode, &plan.output)?,
        None => Vec::new(),
    };
    Ok((plan.output, left_out))
}

/// The input opened and trimmed, its clock, how its pictures are turned (upright with
/// `--auto-rotate`, else not at all) and the format of the frames the filters get.
fn open_input(job: &VideoJob) -> Result<(VideoDecoder, Clock, Orientation, Format), Error> {
    let mut decoder = VideoDecoder::open_at(job.input, job.fps)?;
    if job.trim != Trim::default() {
        decoder.trim(job.trim)?;
    }
    let info = *decoder.info();
    let clock = Clock::of(&info, decoder.origin());
    let orientation = match job.encode.auto_rotate {
        true => info.orientation,
        false => Orientation::default(),
    };
    Ok((decoder, clock, orientation, orientation.format(&info.frame)))
}

/// Filters the video `job.input` with `job.chain` on `backend` and writes it to `job.output`,
/// keeping its frame rate and timestamps and copying its audio. `output` is written in place:
/// callers that want an atomic result pass a temporary path (with the same extension, which
/// names the container) and rename it afterwards.
pub fn run_video(job: &VideoJob, backend: Box<dyn Backend>) -> Result<VideoReport, Error> {
    let started = Instant::now();
    let (mut decoder, clock, orientation, format) = open_input(job)?;
    decoder.on_error(job.on_error);
    let skipped = decoder.skipped();
    let accepted = decoder.accepted();
    let info = *decoder.info();
    if let Some(p) = &job.progress {
        let total = match (job.trim.frames, clock.fps) {
            (Some(n), _) => n,
            (None, fps) if fps > 0.0 => {
                let length = job.trim.duration.unwrap_or(info.duration - job.trim.start);
                (length.min(info.duration - job.trim.start).max(0.0) * fps).round() as u64
            }
            _ => 0,
        };
        p.total.store(total, Ordering::Relaxed);
    }
    let progress = job.progress.as_deref();
    let mut compiler = Compiler::new(job.chain);
    let plan = compiler.plan_at(&format, &clock.start())?;
    crate::limits::check(job.input, &job.limits, &plan, crate::limits::Held::Video)?;
    tracing::debug!(
        "{}: {} at {:.3} fps, {:.3} s; plan of {} passes to {}{}",
        job.input.display(),
        format.describe(),
        clock.fps,
        info.duration,
        plan.passes.len(),
        plan.output.describe(),
        if job.chain.varies() {
            ", compiled again for every frame"
        } else {
            ""
        }
    );
    let (writer, copied_streams) = match job.output {
        Some(path) => {
            let (writer, copied) = VideoWriter::open(path, &decoder, &job.encode, &plan.output)?;
            decoder.copy_streams(&copied);
            (Some(writer), copied.len())
        }
        None => (None, 0),
    };
    let encoder = writer.as_ref().map(|w| w.encoder_name().to_string());
    let left_out = writer
        .as_ref()
        .map(|w| w.left_out().to_vec())
        .unwrap_or_default();
    let backend_description = backend.describe();
    let intake = Intake::new(info.frame);
    let input_name = display(job.input);

    let failure = Failure::new(input_name.clone());
    let (decoded_tx, decoded_rx) = bounded(CHANNEL_DEPTH);
    let (converted_tx, converted_rx) = bounded(CHANNEL_DEPTH);
    let (filtered_tx, filtered_rx) = bounded(CHANNEL_DEPTH);
    // Frames the last stage is done with go back to the backend, so that steady state
    // allocates no planes. One is enough: the filter stage takes it back before the sink frees
    // the next, and every frame parked here is memory in use.
    let (recycle_tx, recycle_rx) = bounded(1);
    let stop = job.stop.clone();

    let (frames, stages, panic) = thread::scope(|s| {
        let decode = spawn(s, "decode", &failure, move || {
            decode_stage(decoder, decoded_tx, stop)
        });
        let convert = spawn(s, "convert", &failure, move || {
            convert_stage(
                decoded_rx,
                converted_tx,
                intake,
                orientation,
                0,
                &input_name,
            )
        });
        let plans = Plans {
            compiler,
            first: &plan,
            clock,
            varies: job.chain.varies(),
            current: None,
        };
        let filter = spawn(s, "filter", &failure, move || {
            filter_stage(converted_rx, filtered_tx, recycle_rx, backend, plans)
        });
        let sink = spawn(s, "encode", &failure, move || match writer {
            Some(writer) => encode_stage(filtered_rx, writer, recycle_tx, progress),
            None => discard_stage(filtered_rx, recycle_tx, progress),
        });
        let mut panic = None;
        let mut stages = Vec::new();
        let mut finished = |stage: Option<(Option<()>, StageStats)>| {
            stage.map(|(done, stats)| {
                stages.push(stats);
                done
            })
        };
        finished(join(decode, &mut panic).flatten());
        finished(join(convert, &mut panic).flatten());
        finished(join(filter, &mut panic).flatten());
        let frames = join(sink, &mut panic).flatten().map(|(frames, stats)| {
            stages.push(stats);
            frames
        });
        (frames.flatten(), stages, panic)
    });
    // A panic is a bug in a stage, not a media error: let it go on as a panic, as it would
    // have without threads.
    if let Some(payload) = panic {
        std::panic::resume_unwind(payload);
    }
    if let Some(error) = failure.take() {
        return Err(error);
    }
    let frames = frames.ok_or_else(|| MediaError::Decode {
        path: display(job.input),
        message: "the video pipeline stopped before the end of the stream".into(),
    })?;
    let rate = info.frame_rate;
    let frame_rate = if rate.numerator() > 0 && rate.denominator() > 0 {
        f64::from(rate)
    } else {
        0.0
    };
    Ok(VideoReport {
        frames,
        input_size: (info.width, info.height),
        output_size: (plan.output.width, plan.output.height),
        frame_rate,
        format,
        seconds: started.elapsed().as_secs_f64(),
        backend: backend_description,
        encoder,
        copied_streams,
        stages,
        skipped: skipped.load(std::sync::atomic::Ordering::Relaxed),
        left_out,
        accepted: accepted.load(std::sync::atomic::Ordering::Relaxed),
    })
}

/// Starts a stage on a named thread. The stage's error, if any, is recorded in `failure` the
/// moment it happens; the handle yields the stage's value (`None` when it failed or stopped
/// because a neighbour did).
fn spawn<'scope, 'env, T: Send + 'scope>(
    scope: &'scope Scope<'scope, 'env>,
    name: &str,
    failure: &'scope Failure,
    stage: impl FnOnce() -> StageResult<T> + Send + 'scope,
) -> Option<ScopedJoinHandle<'scope, Option<StageEnd<T>>>> {
    let run = move || match stage() {
        Ok(value) => Some(value),
        Err(error) => {
            failure.record(error);
            None
        }
    };
    match thread::Builder::new()
        .name(format!("tessera-{name}"))
        .spawn_scoped(scope, run)
    {
        Ok(handle) => Some(handle),
        // The closure, and the channel ends it holds, are dropped: the other stages stop.
        Err(e) => {
            failure.record(Error::Media(MediaError::Decode {
                path: failure.input.clone(),
                message: format!("cannot start the {name} thread: {e}"),
            }));
            None
        }
    }
}

/// Waits for a stage; keeps the first panic's payload.
fn join<T>(
    handle: Option<ScopedJoinHandle<'_, T>>,
    panic: &mut Option<Box<dyn std::any::Any + Send>>,
) -> Option<T> {
    match handle?.join() {
        Ok(value) => Some(value),
        Err(payload) => {
            panic.get_or_insert(payload);
            None
        }
    }
}

/// What a stage ends with: its value (`None` when a neighbour stopped first) and its account.
type StageEnd<T> = (Option<T>, StageStats);

/// A stage's result.
type StageResult<T> = Result<StageEnd<T>, Error>;

/// Demux and decode; hand on pictures with the copied packets demuxed before them. Stops
/// quietly when the next stage has gone, with [`Error::Interrupted`] once `stop` is requested.
fn decode_stage(
    mut decoder: VideoDecoder,
    tx: Sender<Message<Picture>>,
    stop: Stop,
) -> StageResult<()> {
    let mut clock = StageClock::new("decode");
    let mut copies = Vec::new();
    loop {
        if stop.requested() {
            return Err(Error::Interrupted);
        }
        let message = match decoder.receive()? {
            Some(Decoded::Packet(packet)) => {
                copies.push(packet);
                continue;
            }
            Some(Decoded::Picture(frame)) => Message::Frame {
                frame,
                copies: std::mem::take(&mut copies),
            },
            None => Message::End {
                copies: std::mem::take(&mut copies),
            },
        };
        clock.worked();
        let end = matches!(message, Message::End { .. });
        if !end {
            clock.count_frame();
        }
        let sent = tx.send(message);
        clock.waited_for_output();
        if sent.is_err() || end {
            return Ok((sent.is_ok().then_some(()), clock.finish()));
        }
    }
}

/// The next message from `rx`, the wait and the queue's depth booked on `clock`; `None` when
/// the stage before has gone.
fn receive<T>(rx: &Receiver<Message<T>>, clock: &mut StageClock) -> Option<Message<T>> {
    clock.queued(rx.len());
    let message = rx.recv().ok();
    clock.waited_for_input();
    message
}

/// Runs `work` on each frame from `rx` and sends the results on, copies and end passed
/// through, keeping the stage's account under `name`.
fn relay<A, B>(
    name: &'static str,
    rx: Receiver<Message<A>>,
    tx: Sender<Message<B>>,
    mut work: impl FnMut(A) -> Result<B, Error>,
) -> StageResult<()> {
    let mut clock = StageClock::with_queue(name, rx.capacity().unwrap_or(0));
    while let Some(message) = receive(&rx, &mut clock) {
        let (out, end) = match message {
            Message::Frame { frame, copies } => {
                let frame = work(frame)?;
                clock.count_frame();
                (Message::Frame { frame, copies }, false)
            }
            Message::End { copies } => (Message::End { copies }, true),
        };
        clock.worked();
        let sent = tx.send(out);
        clock.waited_for_output();
        if sent.is_err() || end {
            return Ok((sent.is_ok().then_some(()), clock.finish()));
        }
    }
    Ok((None, clock.finish()))
}

/// Pictures → frames: planar pictures read in place, others converted to the nearest planar
/// format; turned upright here with `--auto-rotate`, so that every backend gets them so.
/// Frames are numbered from `first_index` (a read that starts partway numbers them as a read
/// from the start would).
fn convert_stage(
    rx: Receiver<Message<Picture>>,
    tx: Sender<Message<Frame>>,
    mut intake: Intake,
    orientation: Orientation,
    first_index: u64,
    input: &str,
) -> StageResult<()> {
    relay("convert", rx, tx, |p| {
        let index = first_index + p.index;
        let frame = intake.convert(p.picture, index, p.pts).map_err(|message| {
            Error::from(MediaError::Decode {
                path: input.to_string(),
                message: format!("cannot convert picture {index}: {message}"),
            })
        })?;
        Ok(match orientation.is_identity() {
            true => frame,
            false => frame.oriented(orientation),
        })
    })
}

/// The stream's clock: when each frame is, for per-frame expressions.
#[derive(Clone, Copy)]
struct Clock {
    time_base: f64,
    /// Seconds on the input's clock that are 0 in the output.
    origin: f64,
    fps: f64,
    duration: f64,
}

impl Clock {
    fn of(info: &StreamInfo, origin: f64) -> Clock {
        let rate = info.frame_rate;
        let fps = if rate.numerator() > 0 && rate.denominator() > 0 {
            f64::from(rate)
        } else {
            0.0
        };
        Clock {
            time_base: f64::from(info.time_base),
            origin,
            fps,
            duration: info.duration,
        }
    }

    /// The first frame's time, before it is decoded.
    fn start(&self) -> FrameTime {
        FrameTime {
            t: 0.0,
            n: 0,
            fps: self.fps,
            duration: self.duration,
        }
    }

    /// When `frame` is: its timestamp from the start of the output, or its index over the
    /// frame rate where it has none.
    fn time(&self, frame: &Frame) -> FrameTime {
        let t = match frame.pts {
            Some(pts) if self.time_base > 0.0 => pts as f64 * self.time_base - self.origin,
            _ if self.fps > 0.0 => frame.index as f64 / self.fps,
            _ => 0.0,
        };
        FrameTime {
            t,
            n: frame.index,
            ..self.start()
        }
    }
}

/// The plan of each frame: the one plan of a chain that never changes, or, for a chain with
/// per-frame values or time ranges, one compiled for the frame's time.
struct Plans<'a> {
    compiler: Compiler<'a>,
    first: &'a Plan,
    clock: Clock,
    /// [`Chain::varies`], asked once for the stream.
    varies: bool,
    current: Option<Plan>,
}

impl Plans<'_> {
    /// The plan for `frame`.
    fn of(&mut self, frame: &Frame) -> Result<&Plan, Error> {
        if !self.varies {
            return Ok(self.first);
        }
        let time = self.clock.time(frame);
        let plan = self.compiler.plan_at(&frame.format, &time)?;
        if plan.output != self.first.output {
            return Err(Error::Plan(PlanError {
                filter: "chain",
                span: (0, self.compiler.chain().source.len()),
                message: format!(
                    "the output changes from {} to {} at frame {} (t = {:.3}s); a video keeps one size and format",
                    self.first.output.describe(),
                    plan.output.describe(),
                    time.n,
                    time.t
                ),
            }));
        }
        Ok(self.current.insert(plan))
    }
}

/// The backend runs each frame's plan. A backend may keep a few frames in flight
/// ([`Backend::submit`]): each frame's copied packets wait here, in order, until the frame
/// comes back.
fn filter_stage(
    rx: Receiver<Message<Frame>>,
    tx: Sender<Message<Frame>>,
    recycled: Receiver<Frame>,
    mut backend: Box<dyn Backend>,
    mut plans: Plans,
) -> StageResult<()> {
    let mut clock = StageClock::with_queue("filter", rx.capacity().unwrap_or(0));
    let mut waiting: VecDeque<Vec<Packet>> = VecDeque::new();
    while let Some(message) = receive(&rx, &mut clock) {
        while let Ok(frame) = recycled.try_recv() {
            backend.recycle(frame);
        }
        let mut done = Vec::with_capacity(1);
        let end = match message {
            Message::Frame { frame, copies } => {
                waiting.push_back(copies);
                let plan = plans.of(&frame)?;
                done.extend(backend.submit(plan, frame)?);
                None
            }
            Message::End { copies } => {
                while let Some(frame) = backend.finish()? {
                    done.push(frame);
                }
                Some(copies)
            }
        };
        clock.worked();
        for frame in done {
            let copies = waiting.pop_front().unwrap_or_default();
            clock.count_frame();
            if tx.send(Message::Frame { frame, copies }).is_err() {
                return Ok((None, clock.finish()));
            }
        }
        clock.waited_for_output();
        if let Some(mut copies) = end {
            // Packets of frames the backend never returned cannot happen with a correct
            // backend; they still go out, before the end's own.
            let mut rest: Vec<Packet> = waiting.drain(..).flatten().collect();
            rest.append(&mut copies);
            let sent = tx.send(Message::End { copies: rest });
            clock.waited_for_output();
            return Ok((sent.is_ok().then_some(()), clock.finish()));
        }
    }
    Ok((None, clock.finish()))
}

/// Hands a frame back to the filter stage's backend; dropped when it has enough.
fn recycle(frame: Frame, tx: &Sender<Frame>) {
    match tx.try_send(frame) {
        Ok(()) | Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {}
    }
}

/// The last stage: `frame` takes each frame with the packets that came before it, `end` the
/// last packets and the frame count, both with the stage's `state`; the frames go back to the
/// backend.
fn sink_stage<S, T>(
    name: &'static str,
    rx: Receiver<Message<Frame>>,
    recycled: Sender<Frame>,
    progress: Option<&Progress>,
    mut state: S,
    mut frame: impl FnMut(&mut S, &Frame, Vec<Packet>) -> Result<(), Error>,
    end: impl FnOnce(S, Vec<Packet>, u64) -> Result<T, Error>,
) -> StageResult<T> {
    let mut clock = StageClock::with_queue(name, rx.capacity().unwrap_or(0));
    while let Some(message) = receive(&rx, &mut clock) {
        match message {
            Message::Frame { frame: f, copies } => {
                frame(&mut state, &f, copies)?;
                clock.count_frame();
                if let Some(p) = progress {
                    p.frames.fetch_add(1, Ordering::Relaxed);
                }
                recycle(f, &recycled);
                clock.worked();
            }
            Message::End { copies } => {
                let value = end(state, copies, clock.frames())?;
                clock.worked();
                return Ok((Some(value), clock.finish()));
            }
        }
    }
    // The stream ended without `End`: a stage before failed.
    Ok((None, clock.finish()))
}

/// Encode frames, mux them with the copied packets, finish the file at the end. A file left
/// unfinished by a failure before is the caller's to remove.
fn encode_stage(
    rx: Receiver<Message<Frame>>,
    writer: VideoWriter,
    recycled: Sender<Frame>,
    progress: Option<&Progress>,
) -> StageResult<u64> {
    let write_packets = |writer: &mut VideoWriter, copies: Vec<Packet>| {
        copies
            .into_iter()
            .try_for_each(|packet| writer.write_packet(packet))
    };
    let frame = |writer: &mut VideoWriter, frame: &Frame, copies| {
        write_packets(writer, copies)?;
        Ok(writer.write_frame(frame)?)
    };
    let end = |mut writer: VideoWriter, copies, _| {
        write_packets(&mut writer, copies)?;
        Ok(writer.finish()?)
    };
    sink_stage("encode", rx, recycled, progress, writer, frame, end)
}

/// `--discard`: count the frames, keep nothing.
fn discard_stage(
    rx: Receiver<Message<Frame>>,
    recycled: Sender<Frame>,
    progress: Option<&Progress>,
) -> StageResult<u64> {
    sink_stage(
        "discard",
        rx,
        recycled,
        progress,
        (),
        |_, _, _| Ok(()),
        |_, _, frames| Ok(frames),
    )
}

/// A video to read frame by frame ([`Frames`]).
#[derive(Clone, Debug)]
pub struct FramesJob {
    pub input: PathBuf,
    /// The chain each frame goes through; an empty one hands out the decoder's frames as
    /// they are.
    pub chain: Chain,
    /// Where to start; `None` starts at the first frame.
    pub from: Option<Seek>,
    /// The frame rate of an image-sequence input (FFmpeg's 25 without it).
    pub fps: Option<f64>,
    /// What to do with damaged video.
    pub on_error: OnError,
    /// Finished frames that may wait for the reader (1 or more): the read runs this far ahead
    /// of it, and no further.
    pub ahead: usize,
    /// How large the frames may be, and the memory they may hold.
    pub limits: crate::limits::Limits,
    /// The read's stop: once requested, decoding ends at the next frame and [`Frames::next`]
    /// says [`Error::Interrupted`]. Other reads and runs in the process go on.
    pub stop: Stop,
}

/// A frame to start a read at: frame `index` of the video (counted from its first, as a read
/// from the start counts), which is at `time` seconds on the container's clock and has the
/// timestamp `pts` (in the stream's time base), which the caller may check the first frame
/// read against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seek {
    pub index: u64,
    pub time: f64,
    pub pts: i64,
}

/// Where each frame of `input` is, in order, from its packets alone
/// ([`VideoDecoder::packet_times`]: nothing is decoded, the file is read to its end); `None`
/// where the packets do not say.
pub fn seeks(input: &Path, fps: Option<f64>) -> Result<Option<Vec<Seek>>, Error> {
    let decoder = VideoDecoder::open_at(input, fps)?;
    let origin = decoder.origin();
    let time_base = f64::from(decoder.info().time_base);
    let Some(times) = decoder.packet_times()? else {
        return Ok(None);
    };
    Ok(Some(
        (0u64..)
            .zip(times)
            .map(|(index, pts)| Seek {
                index,
                time: pts as f64 * time_base - origin,
                pts,
            })
            .collect(),
    ))
}

/// What [`Frames::next`] found.
pub enum Next {
    Frame(Frame),
    /// The video has no more frames.
    End,
    /// No frame came within the wait; the read goes on.
    NotYet,
}

/// A video's frames, filtered, for a caller that takes them one at a time (the Python
/// package's iterator). Opening checks what [`run_video`] checks before its first frame (the
/// input, the chain compiled for its frames, the limits); then decoding, conversion and the
/// filter run on threads of their own, as in [`run_video`], ahead of the caller by at most
/// [`FramesJob::ahead`] finished frames besides the one each stage holds, so memory stays flat
/// however slowly the frames are taken. Frames keep their index and pts; a read that starts
/// partway ([`FramesJob::from`]) seeks to the key frame before its start, as `--start` does,
/// and numbers and times its frames as a read from the start would.
///
/// Dropping it stops the read: the stages see the caller gone at their next frame and end,
/// and the drop waits for them.
pub struct Frames {
    /// The input as messages name it.
    name: String,
    frames: Option<Receiver<Message<Frame>>>,
    /// The thread that runs the stages and ends with the first error any of them hit.
    driver: Option<JoinHandle<Result<(), Error>>>,
    clock: Clock,
    info: StreamInfo,
    output: Format,
    history: bool,
    ended: bool,
}

impl Frames {
    /// Opens `job.input` and starts reading it on `backend`.
    pub fn open(job: FramesJob, mut backend: Box<dyn Backend>) -> Result<Frames, Error> {
        let mut decoder = VideoDecoder::open_at(&job.input, job.fps)?;
        decoder.on_error(job.on_error);
        let origin = decoder.origin();
        if let Some(seek) = job.from.filter(|s| s.time > 0.0) {
            decoder.trim(Trim {
                start: seek.time,
                ..Trim::default()
            })?;
        }
        let info = *decoder.info();
        let clock = Clock::of(&info, origin);
        let format = info.frame;
        let plan = Compiler::new(&job.chain).plan_at(&format, &clock.start())?;
        crate::limits::check(&job.input, &job.limits, &plan, crate::limits::Held::Video)?;
        let history = job.chain.stages.iter().any(|s| {
            s.spec.kind == FilterKind::Temporal || crate::filters::reads_video(s.spec.name, &s.args)
        });
        let output = plan.output;
        let first_index = job.from.map_or(0, |s| s.index);
        backend.share_cores_with_decoder();
        let (tx, rx) = bounded(job.ahead.max(1));
        let name = display(&job.input);
        let run = move || {
            let FramesJob {
                input, chain, stop, ..
            } = job;
            let input = display(&input);
            let failure = Failure::new(input.clone());
            let intake = Intake::new(format);
            let (decoded_tx, decoded_rx) = bounded(CHANNEL_DEPTH);
            let (converted_tx, converted_rx) = bounded(CHANNEL_DEPTH);
            // Frames handed out are the caller's: none comes back to the backend.
            let (_, recycled) = bounded(0);
            let panic = thread::scope(|s| {
                let decode = spawn(s, "decode", &failure, move || {
                    decode_stage(decoder, decoded_tx, stop)
                });
                let convert = spawn(s, "convert", &failure, || {
                    convert_stage(
                        decoded_rx,
                        converted_tx,
                        intake,
                        Orientation::default(),
                        first_index,
                        &input,
                    )
                });
                let plans = Plans {
                    compiler: Compiler::new(&chain),
                    first: &plan,
                    clock,
                    varies: chain.varies(),
                    current: None,
                };
                let filter = spawn(s, "filter", &failure, move || {
                    filter_stage(converted_rx, tx, recycled, backend, plans)
                });
                let mut panic = None;
                join(decode, &mut panic);
                join(convert, &mut panic);
                join(filter, &mut panic);
                panic
            });
            if let Some(payload) = panic {
                std::panic::resume_unwind(payload);
            }
            failure.take().map_or(Ok(()), Err)
        };
        let driver = thread::Builder::new()
            .name("tessera-frames".into())
            .spawn(run)
            .map_err(|e| MediaError::Decode {
                path: name.clone(),
                message: format!("cannot start the reading thread: {e}"),
            })?;
        Ok(Frames {
            name,
            frames: Some(rx),
            driver: Some(driver),
            clock,
            info,
            output,
            history,
            ended: false,
        })
    }

    /// The next frame, waiting at most `wait` for it. After the end or an error, `End`.
    pub fn next(&mut self, wait: Duration) -> Result<Next, Error> {
        let Some(rx) = self.frames.as_ref().filter(|_| !self.ended) else {
            return Ok(Next::End);
        };
        match rx.recv_timeout(wait) {
            Ok(Message::Frame { frame, .. }) => Ok(Next::Frame(frame)),
            Err(RecvTimeoutError::Timeout) => Ok(Next::NotYet),
            Ok(Message::End { .. }) => {
                self.ended = true;
                self.stop().map(|()| Next::End)
            }
            Err(RecvTimeoutError::Disconnected) => {
                // The stages ended without the end of the video: the driver says why.
                self.ended = true;
                self.stop()?;
                Err(Error::Media(MediaError::Decode {
                    path: self.name.clone(),
                    message: "the video's reading stopped before its end".into(),
                }))
            }
        }
    }

    /// Stops the read, if it still runs, and waits for its threads; the first error they hit.
    pub fn stop(&mut self) -> Result<(), Error> {
        self.ended = true;
        // The stages see the caller gone at their next frame.
        drop(self.frames.take());
        match self.driver.take().map(JoinHandle::join) {
            None => Ok(()),
            Some(Ok(result)) => result,
            Some(Err(payload)) => std::panic::resume_unwind(payload),
        }
    }

    /// Seconds from the start of the video (the container's clock) of `frame`: its timestamp,
    /// or its index over the frame rate where it has none; as per-frame expressions see `t`.
    pub fn time(&self, frame: &Frame) -> f64 {
        self.clock.time(frame).t
    }

    /// The format of the frames handed out.
    pub fn output(&self) -> &Format {
        &self.output
    }

    /// What the decoder says of the video stream.
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }

    /// True where a frame depends on the frames before it (a temporal filter, an overlay of
    /// another video): such a frame is the same only in a read from the start.
    pub fn reads_history(&self) -> bool {
        self.history
    }
}

impl Drop for Frames {
    fn drop(&mut self) {
        drop(self.frames.take());
        if let Some(driver) = self.driver.take() {
            // A panic in a stage was a bug the caller has already left behind.
            let _ = driver.join();
        }
    }
}
