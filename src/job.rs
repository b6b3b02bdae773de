//! One input to one output: checks before any work starts, the backend, the image or video
//! path, and the temporary output that is renamed into place only when complete.
//!
//! Safety rules a user can rely on: the input is only ever read; an existing output is replaced
//! only when asked; a failed run leaves no output and no temporary file behind.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::backend::{self, BackendChoice};
use crate::chain::Chain;
use crate::error::Error;
pub use crate::limits::Limits;
use crate::limits::{self, Held};
use crate::media::{self, MediaError, OnError, Trim};
use crate::plan;
use crate::stats::{Laps, StageStats};
use crate::stream;

pub use crate::media::EncodeSettings;

/// Where the result goes.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// Written to this path, its format from the extension.
    File(PathBuf),
    /// Decoded and filtered, written nowhere (benchmarks, dry runs).
    Discard,
    /// Written to standard output (`-o -`), in the format [`EncodeSettings::format`] names: a
    /// picture once it is whole, a video as it is encoded.
    Stdout,
}

/// Everything one run needs, checked.
#[derive(Clone, Debug)]
pub struct Job {
    pub input: PathBuf,
    pub output: Output,
    pub chain: Chain,
    pub backend: BackendChoice,
    pub encode: EncodeSettings,
    /// How to encode a still-image output.
    pub image: media::image::ImageSettings,
    /// What happens to a still's orientation, colour and metadata.
    pub photo: media::image::PhotoOptions,
    /// The part of a video to process; the default is all of it.
    pub trim: Trim,
    /// What to do with damaged input: a damaged image, a video's damaged frames.
    pub on_error: OnError,
    /// The frame rate of an image-sequence input (`frames/%05d.png`); FFmpeg's 25 without it.
    pub fps: Option<f64>,
    /// A GPU device to make the GPU backend on (a batch opens one for all its files); `None`
    /// opens one for this job.
    pub gpu: Option<crate::backend::gpu::GpuDevice>,
    /// Where a video's run counts its frames, for a progress display.
    pub progress: Option<std::sync::Arc<Progress>>,
    /// Replace an existing output.
    pub overwrite: bool,
    /// How large a run may grow (`--max-pixels`, `--max-memory`).
    pub limits: Limits,
    /// This run's stop; a clone kept by the caller stops it from another thread.
    pub stop: Stop,
}

/// What a finished run did.
#[derive(Clone, Debug)]
pub struct Report {
    /// The backend that ran, as `Backend::describe` says it.
    pub backend: String,
    pub frames: u64,
    pub input_size: (u32, u32),
    pub output_size: (u32, u32),
    pub seconds: f64,
    /// Where the time went, stage by stage (`--stats`).
    pub stages: Vec<StageStats>,
    /// Damaged frames of a video left out (`--on-error skip`, or frames `--on-error accept`
    /// could not decode at all); 1 for an image left out.
    pub skipped: u64,
    /// Why the whole input was left out and nothing written: a damaged image with
    /// [`OnError::Skip`] (`damaged JPEG: data ends at row 96 of 192`).
    pub left_out: Option<String>,
    /// What was lost on the way though the run was done, one line each naming the input
    /// (also logged as warnings): damage accepted with [`OnError::Accept`], and the input's
    /// streams the output could not hold, a photo's metadata blocks that were damaged or that the
    /// output's format cannot hold.
    pub warnings: Vec<String>,
}

/// A running video's progress: frames written so far, and how many the stream holds (0 when
/// its header does not say).
#[derive(Debug, Default)]
pub struct Progress {
    pub frames: std::sync::atomic::AtomicU64,
    pub total: std::sync::atomic::AtomicU64,
}

/// The process-wide stop: set by [`request_stop`] (the binary's Ctrl-C handler), seen by every
/// run's [`Stop`].
static STOP: AtomicBool = AtomicBool::new(false);

/// Asks every run in this process to stop as soon as it can: for a process that exits on the
/// signal (the binary's Ctrl-C and SIGTERM handler). Each run sees it through its [`Stop`] as if
/// its own token had been set. A process that goes on after stopping one run (the Python
/// package) stops that run's [`Stop`] instead. Safe to call from a signal handler's thread.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// True once [`request_stop`] was called: the process is stopping.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// One run's stop: its clones are one token, shared by the run's threads (a batch's files share
/// their batch's). Once requested, the run stops as soon as it can: a video stops decoding, its
/// pipeline unwinds with [`Error::Interrupted`] and its temporary output is removed; other runs
/// in the process go on. A run also stops on the process-wide [`request_stop`].
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicBool>);

impl Stop {
    /// Asks the runs holding this token to stop. Safe to call from any thread.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once this token, or the whole process ([`request_stop`]), was asked to stop.
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst) || stop_requested()
    }
}

/// Runs one job. `on_backend` hears which backend was opened before any frame is processed.
pub fn run(job: &Job, on_backend: &mut dyn FnMut(&str)) -> Result<Report, Error> {
    if job.stop.requested() {
        return Err(Error::Interrupted);
    }
    with_stdin(job, |job| run_job(job, on_backend))
}

/// Runs `f` on `job`, with standard input (`-`) taken first and read by path, and errors that
/// name that path naming `stdin`, and those about standard output `stdout`.
fn with_stdin<T>(job: &Job, f: impl FnOnce(&Job) -> Result<T, Error>) -> Result<T, Error> {
    // `stdin`: the path standard input was read through, if it was.
    let named = |e: Error, stdin: Option<&Path>| {
        let stdin = stdin.map(media::display);
        match e {
            Error::Media(mut m) => {
                if let Some(from) = &stdin {
                    m = m.renamed(from, media::stdin::NAME);
                }
                Error::Media(m.renamed(STDOUT_PIPE, "stdout"))
            }
            Error::Usage(text) => match &stdin {
                Some(from) => Error::Usage(text.replace(from.as_str(), media::stdin::NAME)),
                None => Error::Usage(text),
            },
            other => other,
        }
    };
    if !media::stdin::is_stdin(&job.input) {
        return f(job).map_err(|e| named(e, None));
    }
    let taken = media::stdin::take()?;
    let mut inner = job.clone();
    inner.input = taken.path().to_path_buf();
    f(&inner).map_err(|e| named(e, Some(taken.path())))
}

/// What FFmpeg calls standard output.
const STDOUT_PIPE: &str = "pipe:1";

/// The image format `--format` names, as a file name whose extension the image writer reads
/// (`None` where it names none, or a video container).
fn image_format_name(job: &Job) -> Option<PathBuf> {
    let name = job.encode.format.as_deref()?;
    let path = PathBuf::from(format!("picture.{name}"));
    media::image::is_image_path(&path).then_some(path)
}

fn run_job(job: &Job, on_backend: &mut dyn FnMut(&str)) -> Result<Report, Error> {
    let started = Instant::now();
    let input_is_image = preflight(job)?;
    let mut backend = backend::open_on(job.backend, job.gpu.as_ref())?;
    if !input_is_image {
        backend.share_cores_with_decoder();
    }
    tracing::info!(
        "{} on {}, chain: {}",
        job.input.display(),
        backend.describe(),
        job.chain.to_text()
    );
    on_backend(&backend.describe());
    if input_is_image {
        if let Some(report) = run_in_bands(job, &mut *backend, started)? {
            return Ok(report);
        }
        // An image runs its stages one after another: each one's time is all working.
        let mut laps = Laps::start();
        let mut stage = |name, frames| StageStats {
            name,
            frames,
            working: laps.lap(),
            ..StageStats::default()
        };
        // A damaged image left out: nothing is written.
        let left_out = |damage, input_size| damaged_report(&*backend, started, damage, input_size);
        // The profiles are read and checked before the picture is decoded; the limits
        // against its header (where the header cannot be read, decoding says why).
        colour_plan(job)?;
        let mut shrink = 1;
        // The picture's size as the file holds it (upright), whatever size it is decoded at.
        let mut stored_size = None;
        if let Ok(format) = media::image::header_as_read(&job.input, job.photo.auto_orient) {
            stored_size = Some((format.width, format.height));
            if let Ok(plan) = plan::compile(&job.chain, &format) {
                limits::check(&job.input, &job.limits, &plan, Held::Still)?;
                shrink = shrink_on_load(job, &format, &plan);
            }
        }
        said_shrunk(job, shrink);
        let read = media::image::read_photo_within(
            &job.input,
            job.photo.auto_orient,
            job.limits.max_memory,
            shrink,
        );
        let photo = match read {
            // Damaged where no picture could be made (a header cut short).
            Err(MediaError::DamagedImage { damage, .. }) if job.on_error == OnError::Skip => {
                return Ok(left_out(damage, (0, 0)));
            }
            read => read?,
        };
        let (frame, damage, mut metadata) = (photo.frame, photo.damage, photo.metadata);
        let mut warnings = Vec::new();
        let mut warn = |what: String| {
            let warning = format!("{}: {what}", job.input.display());
            tracing::warn!("{warning}");
            warnings.push(warning);
        };
        photo.warnings.into_iter().for_each(&mut warn);
        if let Some(damage) = damage {
            match job.on_error {
                OnError::Stop => {
                    return Err(MediaError::DamagedImage {
                        path: job.input.display().to_string(),
                        damage,
                    }
                    .into())
                }
                OnError::Skip => return Ok(left_out(damage, (frame.width(), frame.height()))),
                OnError::Accept => {
                    warn(format!("{damage}; written as decoded (--on-error accept)"))
                }
            }
        }
        // The conversions, from the profile the metadata read (the same block the check read).
        let colour = media::cms::ColourPlan::new(metadata.icc.clone(), &job.photo, &job.input)?;
        let frame = colour.before_chain(frame, &job.input)?;
        let mut stages = vec![stage("read", 1)];
        let input_size = stored_size
            .filter(|_| shrink > 1)
            .unwrap_or((frame.width(), frame.height()));
        let plan = plan::compile(&job.chain, &frame.format)?;
        let result = backend.process(&plan, frame)?;
        let result = colour.after_chain(result, &job.input)?;
        stages.push(stage("filter", 1));
        // The backend may keep the input's samples for a next frame that will not come: give
        // them back before the writer makes its own copy.
        let description = backend.describe();
        drop(backend);
        if job.stop.requested() && job.output != Output::Discard {
            return Err(Error::Interrupted);
        }
        // The output's blocks: the source's, less what --strip names, its ICC profile the one
        // its pixels are now in, its Exif pixel size the output's (as vips and ImageMagick set
        // it).
        output_metadata(job, &mut metadata, &colour, &plan.output, &mut warn);
        let named = image_format_name(job);
        let written = match &job.output {
            Output::File(out) => {
                let format_of = named.as_deref().unwrap_or(out);
                let mut folders = MadeFolders::for_output(out)?;
                let mut written = Vec::new();
                write_atomically(out, |tmp| {
                    written = media::image::write(&result, tmp, format_of, &job.image, &metadata)?;
                    Ok(())
                })?;
                folders.keep = true;
                stages.push(stage("write", 1));
                written
            }
            Output::Stdout => {
                let format_of = named.as_deref().expect("checked: --format names an image");
                let written = write_to_stdout(&result, format_of, &job.image, &metadata)?;
                stages.push(stage("write", 1));
                written
            }
            Output::Discard => Vec::new(),
        };
        written.into_iter().for_each(&mut warn);
        return Ok(Report {
            backend: description,
            frames: 1,
            input_size,
            output_size: (plan.output.width, plan.output.height),
            seconds: started.elapsed().as_secs_f64(),
            stages,
            skipped: 0,
            left_out: None,
            warnings,
        });
    }
    run_video(job, backend, started)
}

/// The output's blocks: the source's, less what --strip names, its ICC profile the one its
/// pixels are now in, its Exif pixel size the output's (as vips and ImageMagick set it).
fn output_metadata(
    job: &Job,
    metadata: &mut media::metadata::Metadata,
    colour: &media::cms::ColourPlan,
    output: &crate::frame::Format,
    warn: &mut dyn FnMut(String),
) {
    metadata.icc = colour.output_icc.clone();
    job.photo.strip.apply(metadata);
    if let Some(exif) = &mut metadata.exif {
        if let Err(why) = media::metadata::set_pixel_size(exif, output.width, output.height) {
            warn(format!("the Exif pixel size is left as it was: {why}"));
        }
    }
}

/// Runs a still in bands of rows ([`crate::stream`]) where its file, chain and output allow,
/// so that memory follows the picture's width, not its height; `None` where the picture is to
/// be read whole, with the reason at `-v`. Everything the whole path checks and does to the
/// colour and the metadata, it does alike; a picture found damaged partway is left out
/// (`--on-error skip`) or an error, as the whole path would (`--on-error accept`, which keeps
/// what a damaged file gives, reads it whole).
fn run_in_bands(
    job: &Job,
    backend: &mut dyn backend::Backend,
    started: Instant,
) -> Result<Option<Report>, Error> {
    let Some(opened) = band_reader(job) else {
        return Ok(None);
    };
    let Output::File(out) = &job.output else {
        unreachable!("bands are written to files");
    };
    let media::rows::Opened {
        mut reader,
        mut metadata,
        warnings: read_warnings,
        stored_size,
    } = opened;
    let colour = media::cms::ColourPlan::new(metadata.icc.clone(), &job.photo, &job.input)?;
    let input = reader.format();
    // The chain sees the picture after the conversion into its colour space, whose format a
    // band of it shows.
    let first_rows = stream::first_rows(&input);
    let mut laps = Laps::start();
    let first = match reader.read(first_rows) {
        Ok(band) => colour.before_chain(band, &job.input)?,
        Err(MediaError::DamagedImage { damage, .. }) if job.on_error == OnError::Skip => {
            return Ok(Some(damaged_report(backend, started, damage, stored_size)))
        }
        Err(e) => return Err(e.into()),
    };
    let read_first = laps.lap();
    let format = first.format.with_size(input.width, input.height);
    let Bands {
        plan,
        rows,
        whole_output,
        format_of,
    } = match bands(job, &format, &colour, &metadata, reader.held_bytes())? {
        Ok(bands) => bands,
        Err(why) => {
            whole_because(job, why);
            return Ok(None);
        }
    };
    tracing::info!(
        "{}: read, filtered and written in bands of {rows} rows{}",
        job.input.display(),
        if whole_output {
            ", the output put together whole for its encoder"
        } else {
            ""
        }
    );
    let mut warnings = Vec::new();
    let mut warn = |what: String| {
        let warning = format!("{}: {what}", job.input.display());
        tracing::warn!("{warning}");
        warnings.push(warning);
    };
    read_warnings.into_iter().for_each(&mut warn);
    output_metadata(job, &mut metadata, &colour, &plan.output, &mut warn);
    let mut folders = MadeFolders::for_output(out)?;
    let mut times = stream::Times::default();
    let mut written = Vec::new();
    let result = write_atomically(out, |tmp| {
        let mut writer = media::rows::create(tmp, &format_of, plan.output, &job.image, &metadata)?;
        times = stream::run(
            &job.input,
            &plan,
            first,
            &mut *reader,
            &mut *writer,
            backend,
            rows,
            &job.stop,
            &|band| Ok(colour.before_chain(band, &job.input)?),
            &|band| Ok(colour.after_chain(band, &job.input)?),
        )?;
        written = writer.finish()?;
        Ok(())
    });
    match result {
        Ok(()) => {}
        Err(Error::Media(MediaError::DamagedImage { damage, .. }))
            if job.on_error == OnError::Skip =>
        {
            return Ok(Some(damaged_report(backend, started, damage, stored_size)))
        }
        Err(e) => return Err(e),
    }
    folders.keep = true;
    written.into_iter().for_each(&mut warn);
    let stage = |name, working| StageStats {
        name,
        frames: 1,
        working,
        ..StageStats::default()
    };
    Ok(Some(Report {
        backend: backend.describe(),
        frames: 1,
        input_size: stored_size,
        output_size: (plan.output.width, plan.output.height),
        seconds: started.elapsed().as_secs_f64(),
        stages: vec![
            stage("read", read_first + times.read),
            stage("filter", times.filter),
            stage("write", times.write),
        ],
        skipped: 0,
        left_out: None,
        warnings,
    }))
}

/// Says at `-v` that a JPEG is decoded `shrink` times smaller, where it is.
fn said_shrunk(job: &Job, shrink: u32) {
    if shrink > 1 {
        tracing::info!(
            "{}: decoded 1/{shrink} the size by the JPEG decoder (shrink-on-load), then resized \
             by the chain",
            job.input.display()
        );
    }
}

/// Says at `-v` why a still is read whole.
fn whole_because(job: &Job, why: &str) {
    tracing::info!("{}: read whole: {why}", job.input.display());
}

/// The still opened for reading in bands where the job allows it (a file written, damage not
/// accepted) and its format can be read so; `None` for the whole path, which also says what is
/// wrong with a file that cannot be opened.
fn band_reader(job: &Job) -> Option<media::rows::Opened> {
    let whole = |why: &str| {
        whole_because(job, why);
        None
    };
    if !matches!(job.output, Output::File(_)) {
        return whole("bands are written to files");
    }
    if job.on_error == OnError::Accept {
        return whole("--on-error accept keeps what a damaged file gives");
    }
    // A JPEG the chain starts by shrinking is decoded smaller, as the whole read decodes it.
    let mut shrink = 1;
    if media::image::is_jpeg(&job.input) {
        if let Ok(format) = media::image::header_as_read(&job.input, job.photo.auto_orient) {
            if let Ok(plan) = plan::compile(&job.chain, &format) {
                shrink = shrink_on_load(job, &format, &plan);
            }
        }
    }
    match media::rows::open(
        &job.input,
        job.photo.auto_orient,
        job.limits.max_memory,
        shrink,
    ) {
        Ok(Ok(opened)) => {
            said_shrunk(job, shrink);
            Some(opened)
        }
        Ok(Err(why)) => whole(why),
        Err(_) => None,
    }
}

/// How a still of `format` (as the chain sees it) runs in bands.
struct Bands {
    plan: plan::Plan,
    /// Output rows a band.
    rows: u32,
    /// The output is put together whole for its encoder.
    whole_output: bool,
    /// The path whose extension names the output's format.
    format_of: PathBuf,
}

/// The plan of a still of `format` and its bands, within the job's limits for what a band
/// holds with the `decoder_bytes` its decoder holds besides; `Ok(Err(why))` where the chain or the colour conversion needs the whole picture.
fn bands(
    job: &Job,
    format: &crate::frame::Format,
    colour: &media::cms::ColourPlan,
    metadata: &media::metadata::Metadata,
    decoder_bytes: u64,
) -> Result<Result<Bands, &'static str>, Error> {
    let plan = plan::compile(&job.chain, format)?;
    if let Some(why) = plan.strips_refused() {
        return Ok(Err(why));
    }
    if !colour.converts_bands(format, &plan.output) {
        return Ok(Err(
            "its grey ICC profile on colour pixels is converted whole",
        ));
    }
    let rows = stream::band_rows(&plan);
    let band = plan.strip(0..rows.min(plan.output.height));
    let format_of = match (image_format_name(job), &job.output) {
        (Some(named), _) => named,
        (None, Output::File(out)) => out.clone(),
        (None, _) => unreachable!("bands are written to files"),
    };
    let whole_output = !media::rows::writes_bands(&format_of, &plan.output, &job.image, metadata);
    let encoder_bytes =
        media::rows::writer_held_bytes(&format_of, &plan.output, &job.image, metadata);
    let held = limits::band_bytes(&band.plan, whole_output.then_some(&plan.output))
        + stream::read_ahead_bytes(format)
        + decoder_bytes
        + encoder_bytes;
    limits::check(&job.input, &job.limits, &plan, Held::Bands(held))?;
    Ok(Ok(Bands {
        plan,
        rows,
        whole_output,
        format_of,
    }))
}

/// The report of a still left out for damage: nothing is written.
fn damaged_report(
    backend: &dyn backend::Backend,
    started: Instant,
    damage: media::Damage,
    input_size: (u32, u32),
) -> Report {
    Report {
        backend: backend.describe(),
        frames: 0,
        input_size,
        output_size: (0, 0),
        seconds: started.elapsed().as_secs_f64(),
        stages: Vec::new(),
        skipped: 1,
        left_out: Some(damage.to_string()),
        warnings: Vec::new(),
    }
}

/// Every check [`run`] makes before it decodes anything, for `--dry-run`: the input and output
/// paths, the input's kind against the output's, the backend, and then for an image its header
/// and the chain compiled for it, for a video its container and streams, the chain, and the
/// output's container and encoder opened (see [`crate::pipeline::check_video`]). Nothing is
/// written. Returns what the run would write: its size, and the warnings it would give.
pub fn check(job: &Job) -> Result<Checked, Error> {
    let input_is_image = preflight(job)?;
    backend::open_on(job.backend, job.gpu.as_ref())?;
    if input_is_image {
        // As the run would: in bands where it can, the limits those bands hold.
        if let Some(opened) = band_reader(job) {
            let colour =
                media::cms::ColourPlan::new(opened.metadata.icc.clone(), &job.photo, &job.input)?;
            let format = opened.reader.format();
            let held = opened.reader.held_bytes();
            if let Ok(bands) = bands(job, &format, &colour, &opened.metadata, held)? {
                return Ok(Checked {
                    output_size: (bands.plan.output.width, bands.plan.output.height),
                    warnings: Vec::new(),
                });
            }
        }
        colour_plan(job)?;
        let format = media::image::header_as_read(&job.input, job.photo.auto_orient)?;
        let plan = plan::compile(&job.chain, &format)?;
        limits::check(&job.input, &job.limits, &plan, Held::Still)?;
        return Ok(Checked {
            output_size: (plan.output.width, plan.output.height),
            warnings: Vec::new(),
        });
    }
    check_video(job)
}

/// What the job does to the still's colour: its ICC profile (read from the file's header) and
/// `--profile`'s checked, nothing decoded.
fn colour_plan(job: &Job) -> Result<media::cms::ColourPlan, Error> {
    let source = if job.photo.strip.icc {
        None
    } else {
        media::image::icc_profile(&job.input)?
    };
    Ok(media::cms::ColourPlan::new(source, &job.photo, &job.input)?)
}

/// How many times smaller on each side (2, 4 or 8; 1 for not at all) a JPEG or still WebP
/// source is best decoded, as `vips thumbnail` does it: where the chain starts by resizing,
/// libjpeg's DCT scaling (libwebp's scaling decoder) decodes the picture at the largest of
/// those shrinks that leaves it at least [`SHRINK_MARGIN`] times the resize's size on each side
/// (vips leaves it at least the size), and the chain's resize then makes the exact size it
/// asks for. Only where the chain makes the same frames from the shrunk
/// picture as from the whole one: a resize whose size follows the input's (`scale(width=w/2)`)
/// is left whole.
fn shrink_on_load(job: &Job, format: &crate::frame::Format, plan: &plan::Plan) -> u32 {
    let Some(first) = plan.passes.first() else {
        return 1;
    };
    if !matches!(first.kind, plan::PassKind::Resample(_))
        || !media::image::shrinks_on_load(&job.input)
    {
        return 1;
    }
    let (ow, oh) = (first.output.width, first.output.height);
    for shrink in [8, 4, 2] {
        let (sw, sh) = media::image::shrunk_size(format.width, format.height, shrink);
        let (num, den) = SHRINK_MARGIN;
        if sw * den < ow * num || sh * den < oh * num {
            continue;
        }
        let shrunk = format.with_size(sw, sh);
        let Ok(again) = plan::compile(&job.chain, &shrunk) else {
            continue;
        };
        let same = again.output == plan.output
            && again.passes.len() == plan.passes.len()
            && again
                .passes
                .iter()
                .zip(&plan.passes)
                .all(|(a, b)| a.output == b.output);
        if same {
            return shrink;
        }
    }
    1
}

/// How much larger than a resize's size a picture shrunk on load stays on each side, as a
/// fraction (3/2), so that the resize's own kernel still makes the picture: libjpeg's smaller
/// decodes average each 8×8 block's detail into 4×4, 2×2 or one sample, a box filter that falls
/// under 40 dB of a whole decode resized with lanczos where nothing is left for the kernel to
/// do (vips' margin of 1: 36.2 dB at 1/2 and 38.8 dB at 1/8 of FFmpeg's sharp 6000×4000 test
/// pattern). With 3/2 left the worst case measured was 41.1 dB (that pattern at 1/8), and 42.6
/// dB on the photo-like pictures of the tests and benchmarks (the pattern softened and
/// grained); 5/4 fell to 39.4 dB. Measured with libjpeg's scaled decode and Pillow's lanczos
/// (`docs/images.md`, "Shrink-on-load").
const SHRINK_MARGIN: (u32, u32) = (3, 2);

/// What a dry run found out about a job that would run.
#[derive(Clone, Debug)]
pub struct Checked {
    pub output_size: (u32, u32),
    /// As [`Report::warnings`].
    pub warnings: Vec<String>,
}

/// Writes the picture to standard output in the format `format_of`'s extension names, once it
/// is whole, with `meta`'s blocks: encoded in memory first, so that a failure sends nothing.
/// Returns the encoder's warnings.
fn write_to_stdout(
    frame: &crate::Frame,
    format_of: &Path,
    settings: &media::image::ImageSettings,
    meta: &media::metadata::Metadata,
) -> Result<Vec<String>, Error> {
    use std::io::Write;
    let encoded = media::image::encode(frame, format_of, settings, meta)
        .map_err(|e| Error::Media(e.renamed(&media::display(format_of), "stdout")))?;
    let failed = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::BrokenPipe => Error::Media(MediaError::Closed {
            path: "stdout".into(),
        }),
        _ => Error::Media(MediaError::Write {
            path: "stdout".into(),
            message: media::io_message(&e),
        }),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&encoded.bytes).map_err(failed)?;
    stdout.flush().map_err(failed)?;
    Ok(encoded.warnings)
}

/// The checks on paths and kinds that come before anything is opened. Returns whether the input
/// is a still image.
fn preflight(job: &Job) -> Result<bool, Error> {
    let input_sequence = media::is_sequence(&job.input);
    if input_sequence {
        check_sequence_input(&job.input)?;
    } else {
        if !media::stdin::is_pipe(&job.input) {
            check_input(&job.input)?;
        }
        if job.fps.is_some() {
            return Err(Error::Usage(format!(
                "--fps gives the frame rate of an image sequence (frames/%05d.png); {} is not one",
                job.input.display()
            )));
        }
    }
    if let Some(fps) = job.fps {
        if !(fps.is_finite() && fps > 0.0 && fps <= 1000.0) {
            return Err(Error::Usage(format!(
                "--fps {fps} is not a frame rate (0 < fps <= 1000)"
            )));
        }
    }
    if let Output::File(out) = &job.output {
        check_output(&job.input, out, job.overwrite, job.encode.format.is_some())?;
    }
    if job.output == Output::Stdout && job.encode.format.is_none() {
        return Err(Error::Usage(
            "writing to standard output (-o -) needs --format: an image format (png, jpg, webp, \
             tiff, bmp) or an FFmpeg muxer (matroska, mp4, mpegts, nut, yuv4mpegpipe, …)"
                .into(),
        ));
    }
    // A pipe FFmpeg reads (standard input) holds no picture the image reader would have taken.
    let input_is_image = !input_sequence
        && !media::stdin::is_pipe(&job.input)
        && media::image::is_image_file(&job.input)?;
    let output = match &job.output {
        Output::File(out) => Some(out.clone()),
        Output::Stdout => Some(PathBuf::from("stdout")),
        Output::Discard => None,
    };
    if let Some(out) = &output {
        // An image sequence, in or out, is a video.
        let output_is_image = match &job.encode.format {
            Some(_) => image_format_name(job).is_some(),
            None => media::image::is_image_path(out) && !media::is_sequence(out),
        };
        if input_is_image && !output_is_image {
            return Err(Error::Usage(format!(
                "{} is a still image but {} names a video format; write an image (.png, .jpg, \
                 .webp, .tiff, .bmp, .avif)",
                job.input.display(),
                out.display()
            )));
        }
        if media::stdin::is_pipe(&job.input) && output_is_image {
            return Err(Error::Media(MediaError::Unsupported {
                path: media::display(&job.input),
                message: format!(
                    "not a picture tessera reads (PNG, JPEG, WebP, TIFF, BMP or AVIF), so it cannot go \
                     into the still image {}; a video from standard input goes into a video format",
                    out.display()
                ),
            }));
        }
        if !input_is_image && output_is_image {
            let ext = out.extension().unwrap_or_default().to_string_lossy();
            let frames = out
                .with_extension("")
                .join(format!("%05d.{ext}"))
                .display()
                .to_string();
            return Err(Error::Usage(format!(
                "{} is a video but {} names a still-image format; write a video (.mp4, .mkv, \
                 .webm), an animated GIF (.gif), or its frames as an image sequence \
                 ({frames})",
                job.input.display(),
                out.display()
            )));
        }
    }
    let colour_flags = job.photo.keep_profile
        || job.photo.profile.is_some()
        || job.photo.intent != media::cms::Intent::default();
    if !input_is_image && colour_flags {
        return Err(Error::Usage(format!(
            "{} is a video: --keep-profile, --profile and --intent apply to still images",
            job.input.display()
        )));
    }
    if input_is_image && job.trim != Trim::default() {
        return Err(Error::Usage(format!(
            "{} is an image: --start, --duration and --frames apply to videos",
            job.input.display()
        )));
    }
    check_encoding_flags(job)?;
    Ok(input_is_image)
}

/// The encoding flags given, against the format the job writes: an image flag for a video, a
/// video flag for a still image, a flag for another image format (see
/// [`media::encoders::check_flags`]). Part of [`check`] and [`run`]; a batch asks it of every
/// file before any work.
pub fn check_encoding_flags(job: &Job) -> Result<(), Error> {
    use media::encoders::{check_flags, StillFormat, Target};
    let e = &job.encode;
    let video: Vec<&str> = [
        ("--codec", e.codec.is_some()),
        ("--crf", e.crf.is_some()),
        ("--preset", e.preset.is_some()),
        ("--bitrate", e.bitrate.is_some()),
        ("--pix-fmt", e.pix_fmt.is_some()),
        ("--gop", e.gop.is_some()),
        ("--encoder-opt", !e.options.is_empty()),
        ("--no-audio", e.no_audio),
        ("--audio-codec", e.audio_codec.is_some()),
        ("--auto-rotate", e.auto_rotate),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    let (out, name) = match &job.output {
        Output::Discard => {
            return check_flags(&job.image, &video, Target::Nothing).map_err(Error::Usage)
        }
        Output::Stdout => (PathBuf::from("stdout"), "stdout".to_string()),
        Output::File(out) => (out.clone(), out.display().to_string()),
    };
    let target = match (&e.format, image_format_name(job)) {
        (Some(_), Some(named)) => StillFormat::from_path(&named).map(|f| Target::Still(f, &name)),
        (Some(_), None) => None,
        (None, _) if media::is_sequence(&out) => {
            StillFormat::from_path(&out).map(|f| Target::Sequence(f, &name))
        }
        (None, _) if media::image::is_image_path(&out) => {
            StillFormat::from_path(&out).map(|f| Target::Still(f, &name))
        }
        (None, _) => None,
    };
    if !cfg!(feature = "avif")
        && matches!(
            target,
            Some(Target::Still(StillFormat::Avif, _) | Target::Sequence(StillFormat::Avif, _))
        )
    {
        return Err(Error::Media(MediaError::Unsupported {
            path: name,
            message: format!("cannot write AVIF: {}", media::encoders::NO_AVIF),
        }));
    }
    if let Some(Target::Sequence(StillFormat::Avif, _)) = target {
        return Err(Error::Usage(format!(
            "{name}: tessera writes AVIF stills, not AVIF image sequences (FFmpeg's image \
             sequence writer has no AVIF encoder); write the frames as PNG, WebP or JPEG, or the \
             clip as AV1 video (-o clip.mkv --codec libaom-av1)"
        )));
    }
    check_flags(&job.image, &video, target.unwrap_or(Target::Video(&name))).map_err(Error::Usage)
}

/// The video encoder's settings for writing to `output`: the job's own, and for an image
/// sequence the image flags mapped onto FFmpeg's image encoder (see
/// [`media::encoders::sequence_options`]); the user's `--encoder-opt`s come last and win.
#[cfg(feature = "video")]
fn video_encode_settings(job: &Job, output: Option<&Path>) -> EncodeSettings {
    let mut encode = job.encode.clone();
    let format = output
        .filter(|out| media::is_sequence(out))
        .and_then(media::encoders::StillFormat::from_path);
    if let Some(format) = format {
        let (mut options, pix_fmt) = media::encoders::sequence_options(&job.image, format);
        if let (media::encoders::StillFormat::Jpeg, Some(quality)) = (format, job.image.quality) {
            encode.jpeg_tables = Some(Box::new(media::encoders::jpeg_tables(quality)));
        }
        options.append(&mut encode.options);
        encode.options = options;
        if pix_fmt.is_some() {
            encode.pix_fmt = pix_fmt;
        }
    }
    encode
}

#[cfg(feature = "video")]
fn run_video(
    job: &Job,
    backend: Box<dyn backend::Backend>,
    started: Instant,
) -> Result<Report, Error> {
    let description = backend.describe();
    let video =
        |output: Option<&Path>| crate::pipeline::run_video(&video_job(job, output), backend);
    let report = match &job.output {
        Output::Discard => video(None)?,
        Output::Stdout => video(Some(Path::new(STDOUT_PIPE)))?,
        Output::File(out) if media::is_sequence(out) => {
            let mut folders = MadeFolders::for_output(out)?;
            let mut report = None;
            write_sequence_atomically(out, |tmp| {
                report = Some(video(Some(tmp))?);
                Ok(())
            })?;
            folders.keep = true;
            report.expect("set by a successful write")
        }
        Output::File(out) => {
            let mut folders = MadeFolders::for_output(out)?;
            let mut report = None;
            write_atomically(out, |tmp| {
                report = Some(video(Some(tmp))?);
                Ok(())
            })?;
            folders.keep = true;
            report.expect("set by a successful write")
        }
    };
    let mut warnings = Vec::new();
    for stream in &report.left_out {
        let warning = format!("{}: {stream}", job.input.display());
        tracing::warn!("{warning}");
        warnings.push(warning);
    }
    if report.accepted > 0 {
        let warning = format!(
            "{}: kept {} frame{} decoded from damaged data{} (--on-error accept)",
            job.input.display(),
            report.accepted,
            if report.accepted == 1 { "" } else { "s" },
            match report.skipped {
                0 => String::new(),
                n => format!(", left out {n} that could not be decoded"),
            }
        );
        tracing::warn!("{warning}");
        warnings.push(warning);
    } else if job.on_error == OnError::Accept && report.skipped > 0 {
        let warning = format!(
            "{}: left out {} damaged frame{} that could not be decoded (--on-error accept)",
            job.input.display(),
            report.skipped,
            if report.skipped == 1 { "" } else { "s" }
        );
        tracing::warn!("{warning}");
        warnings.push(warning);
    }
    Ok(Report {
        backend: description,
        frames: report.frames,
        input_size: report.input_size,
        output_size: report.output_size,
        seconds: started.elapsed().as_secs_f64(),
        stages: report.stages,
        skipped: report.skipped,
        left_out: None,
        warnings,
    })
}

/// The pipeline's view of `job`, writing to `output`.
#[cfg(feature = "video")]
fn video_job<'a>(job: &'a Job, output: Option<&'a Path>) -> crate::pipeline::VideoJob<'a> {
    crate::pipeline::VideoJob {
        input: &job.input,
        output,
        encode: video_encode_settings(job, output),
        chain: &job.chain,
        trim: job.trim,
        on_error: job.on_error,
        fps: job.fps,
        progress: job.progress.clone(),
        limits: job.limits,
        stop: job.stop.clone(),
    }
}

#[cfg(feature = "video")]
fn check_video(job: &Job) -> Result<Checked, Error> {
    let output = match &job.output {
        Output::File(out) => Some(out.as_path()),
        Output::Stdout => Some(Path::new(STDOUT_PIPE)),
        Output::Discard => None,
    };
    let (format, warnings) = crate::pipeline::check_video(&video_job(job, output))?;
    Ok(Checked {
        output_size: (format.width, format.height),
        warnings,
    })
}

#[cfg(not(feature = "video"))]
fn check_video(job: &Job) -> Result<Checked, Error> {
    let cpu = Box::new(backend::cpu::CpuBackend::new());
    run_video(job, cpu, Instant::now()).map(|_| Checked {
        output_size: (0, 0),
        warnings: Vec::new(),
    })
}

#[cfg(not(feature = "video"))]
fn run_video(
    job: &Job,
    _backend: Box<dyn backend::Backend>,
    _started: Instant,
) -> Result<Report, Error> {
    Err(Error::Media(MediaError::Unsupported {
        path: job.input.display().to_string(),
        message:
            "not an image, and this build of tessera has no video support (cargo feature `video`)"
                .into(),
    }))
}

fn check_input(input: &Path) -> Result<(), Error> {
    let meta = std::fs::metadata(input).map_err(|e| MediaError::Open {
        path: input.display().to_string(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        },
    })?;
    if meta.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a folder; give one file",
            input.display()
        )));
    }
    std::fs::File::open(input).map_err(|e| MediaError::Open {
        path: input.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(())
}

/// An image sequence's first file is where FFmpeg looks for it: numbered 0 to 4.
fn check_sequence_input(pattern: &Path) -> Result<(), Error> {
    let found = (0..5)
        .filter_map(|n| media::sequence_file(pattern, n))
        .any(|f| f.is_file());
    if !found {
        let first = media::sequence_file(pattern, 0).unwrap_or_default();
        return Err(Error::Media(MediaError::Open {
            path: pattern.display().to_string(),
            message: format!(
                "no file of the sequence: looked for {} to …4",
                first.display()
            ),
        }));
    }
    Ok(())
}

fn check_output(
    input: &Path,
    output: &Path,
    overwrite: bool,
    format_named: bool,
) -> Result<(), Error> {
    if media::is_sequence(output) {
        // FFmpeg numbers a sequence it writes from 1.
        let first = media::sequence_file(output, 1).unwrap_or_default();
        if first.exists() && !overwrite {
            return Err(Error::Usage(format!(
                "{} exists (the first file of {}); pass --overwrite to replace the sequence",
                first.display(),
                output.display()
            )));
        }
    }
    let same = match (input.canonicalize(), output.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Error::Usage(format!(
            "output {} is the input; tessera never writes over its input",
            output.display()
        )));
    }
    if output.is_dir() {
        return Err(Error::Usage(format!(
            "output {} is a folder; give a file name",
            output.display()
        )));
    }
    if output.exists() && !overwrite {
        return Err(Error::Usage(format!(
            "{} exists; pass --overwrite to replace it",
            output.display()
        )));
    }
    if output.extension().is_none() && !media::is_sequence(output) && !format_named {
        return Err(Error::Usage(format!(
            "{} has no extension, which is how tessera chooses the format: add one (.mp4, .mkv, \
             .webm, .png, .jpg, .webp, .tiff, …) or name the format with --format",
            output.display()
        )));
    }
    let dir = parent_dir(output);
    if dir.exists() && !dir.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a file, so {} cannot be written inside it",
            dir.display(),
            output.display()
        )));
    }
    Ok(())
}

/// The folders made for an output that did not exist: removed again, deepest first, if the run
/// fails (only while empty, so nothing a user put there meanwhile is lost), kept once it
/// succeeds.
struct MadeFolders {
    made: Vec<PathBuf>,
    keep: bool,
}

impl MadeFolders {
    /// Makes the folder `output` goes into, with the folders above it that are missing.
    fn for_output(output: &Path) -> Result<MadeFolders, Error> {
        let mut missing = Vec::new();
        let mut dir = parent_dir(output);
        while !dir.exists() {
            missing.push(dir.to_path_buf());
            match dir.parent() {
                Some(p) if !p.as_os_str().is_empty() => dir = p,
                _ => break,
            }
        }
        let mut made = MadeFolders {
            made: Vec::new(),
            keep: false,
        };
        for dir in missing.into_iter().rev() {
            match std::fs::create_dir(&dir) {
                Ok(()) => made.made.push(dir),
                // Another file of a batch made it meanwhile: it is not this run's to remove.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
                Err(e) => {
                    return Err(Error::Media(MediaError::Write {
                        path: output.display().to_string(),
                        message: format!(
                            "cannot make the folder {}: {}",
                            dir.display(),
                            media::io_message(&e)
                        ),
                    }))
                }
            }
        }
        Ok(made)
    }
}

impl Drop for MadeFolders {
    fn drop(&mut self) {
        if !self.keep {
            for dir in self.made.iter().rev() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Runs `write` on a temporary folder beside the sequence `output` and, on success, moves each
/// file it wrote into place; removes the folder either way, so a failed run leaves no frames.
#[cfg(feature = "video")]
fn write_sequence_atomically(
    output: &Path,
    write: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let dir = parent_dir(output);
    let tmp_dir = dir.join(format!(".tessera-{}.partial", std::process::id()));
    std::fs::create_dir(&tmp_dir).map_err(|e| MediaError::Write {
        path: output.display().to_string(),
        message: format!("cannot make a temporary folder: {}", media::io_message(&e)),
    })?;
    struct Cleanup<'a>(&'a Path);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(self.0);
        }
    }
    let _guard = Cleanup(&tmp_dir);
    let tmp = tmp_dir.join(output.file_name().unwrap_or_default());
    write(&tmp).map_err(|e| naming_output(e, &tmp, output))?;
    let mut files: Vec<_> = std::fs::read_dir(&tmp_dir)
        .and_then(|entries| entries.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| MediaError::Write {
            path: output.display().to_string(),
            message: media::io_message(&e),
        })?;
    files.sort();
    for file in files {
        let target = dir.join(file.file_name().unwrap_or_default());
        std::fs::rename(&file, &target).map_err(|e| MediaError::Write {
            path: target.display().to_string(),
            message: format!("could not move the finished file into place: {e}"),
        })?;
    }
    Ok(())
}

/// `error` naming `output` where it named the temporary file `tmp` written in its place.
fn naming_output(error: Error, tmp: &Path, output: &Path) -> Error {
    match error {
        Error::Media(m) => Error::Media(m.renamed(&media::display(tmp), &media::display(output))),
        other => other,
    }
}

/// Runs `write` on a temporary file beside `output` (same extension, so formats are still
/// recognised) and renames it into place on success; removes it on failure.
fn write_atomically(
    output: &Path,
    write: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = output
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let tmp = parent_dir(output).join(format!(
        ".{name}.tessera-{}.partial{ext}",
        std::process::id()
    ));
    struct Cleanup<'a>(&'a Path, bool);
    impl Drop for Cleanup<'_> {
        fn drop(&mut self) {
            if !self.1 {
                let _ = std::fs::remove_file(self.0);
            }
        }
    }
    let mut guard = Cleanup(&tmp, false);
    write(&tmp).map_err(|e| naming_output(e, &tmp, output))?;
    std::fs::rename(&tmp, output).map_err(|e| MediaError::Write {
        path: output.display().to_string(),
        message: format!("could not move the finished file into place: {e}"),
    })?;
    guard.1 = true;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_shared_by_its_clones_only() {
        let run = Stop::default();
        let same_run = run.clone();
        let other_run = Stop::default();
        assert!(!run.requested() && !other_run.requested());
        same_run.request();
        assert!(run.requested() && same_run.requested());
        // Another run in the process goes on (the process-wide stop, which would reach it, is
        // left alone: unit tests share the process).
        assert!(!other_run.requested());
    }
}
