//! `tessera.process`: the command line's `tessera process INPUT -o OUTPUT` for one file, its
//! options as keywords, its report as a dict.
//!
//! The run goes on a thread of its own, the GIL released, while the calling thread watches for
//! Ctrl-C: Python handles signals only on its main thread, so the caller (not a helper thread)
//! checks them every 50 ms. On KeyboardInterrupt it stops this run, through its own
//! [`tessera::job::Stop`]: a video stops within a frame, its temporary output is removed,
//! nothing is written, and the call raises KeyboardInterrupt. Other runs in the process (other
//! threads' calls, a Dask worker's other tasks) go on; the process-wide stop is the binary's
//! and is never set here.
//!
//! The options are read from the keywords once, by [`job_options`], for this call and for
//! `tessera.process_batch` ([`crate::batch`]) alike.

use std::path::PathBuf;
use std::time::Duration;

use pyo3::conversion::FromPyObjectOwned;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera::chain::Chain as LibChain;
use tessera::job::{self, EncodeSettings, Job, Output, Report};
use tessera::media::cms::Intent;
use tessera::media::image::{ImageSettings, PhotoOptions, Strip};
use tessera::media::{OnError, Trim};
use tessera::BackendChoice;

use crate::backends;
use crate::chain;
// Where the package's other calls have found it.
pub use crate::chain::ChainArg;
use crate::errors;

/// How often the caller looks for Ctrl-C while a run goes on.
pub const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// A count given as a number or as text with a unit (`"100M"`, `"2G"`).
#[derive(FromPyObject)]
pub enum Amount {
    Number(u64),
    Text(String),
}

/// `strip=True` (every block) or a list of blocks: `"exif,xmp"` or `["exif", "xmp"]`.
#[derive(FromPyObject)]
pub enum StripArg {
    All(bool),
    Text(String),
    List(Vec<String>),
}

pub fn value_error(text: impl Into<String>) -> PyErr {
    PyValueError::new_err(text.into())
}

/// `value` in `range`, or a ValueError naming the keyword and what it takes.
fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    value: Option<T>,
    low: T,
    high: T,
) -> PyResult<Option<T>> {
    match value {
        Some(v) if v < low || v > high => Err(value_error(format!(
            "{name}={v} is out of range (expected {low} to {high})"
        ))),
        v => Ok(v),
    }
}

/// `text` read by the library's own parser for the command line's flag, or a ValueError
/// naming the keyword.
fn parsed<T>(
    name: &str,
    text: Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> PyResult<Option<T>> {
    text.map(|t| parse(&t).map_err(|e| value_error(format!("{name}: {e}"))))
        .transpose()
}

fn amount(name: &str, value: Option<Amount>, pixels: bool) -> PyResult<Option<u64>> {
    match value {
        None => Ok(None),
        Some(Amount::Number(n)) => Ok(Some(n)),
        Some(Amount::Text(t)) => tessera::limits::parse_amount(&t, pixels)
            .map(Some)
            .map_err(|e| value_error(format!("{name}: {e}"))),
    }
}

/// The encoder's options in the dict's order (a later one wins), values as their `str()`.
fn options(dict: &Bound<'_, PyDict>) -> PyResult<Vec<(String, String)>> {
    dict.iter()
        .map(|(k, v)| Ok((k.extract::<String>()?, v.str()?.to_string())))
        .collect()
}

/// `on_error="stop"|"skip"|"accept"`, as the command line's `--on-error` takes it.
pub fn on_error_policy(name: &str) -> PyResult<OnError> {
    match name {
        "stop" => Ok(OnError::Stop),
        "skip" => Ok(OnError::Skip),
        "accept" => Ok(OnError::Accept),
        other => Err(value_error(format!(
            "on_error {other:?} is not one of \"stop\", \"skip\", \"accept\""
        ))),
    }
}

fn seconds(name: &str, value: Option<f64>) -> PyResult<Option<f64>> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(value_error(format!(
            "{name}={v} is not a time (expected seconds, 0 or more)"
        ))),
        v => Ok(v),
    }
}

/// Runs a filter chain over one image or video file and writes the result, as
/// ``tessera process INPUT -o OUTPUT`` does.
///
/// ``input``: the file to read (never modified). ``output``: where to write, its format from
/// the extension (png, jpg, webp, tiff, bmp, avif; mp4, mkv, mov, webm, ...) or ``format``;
/// ``None`` decodes and filters everything and writes nothing. The output is written to a
/// temporary file beside it and renamed into place when complete: a run that fails or is
/// interrupted (Ctrl-C raises KeyboardInterrupt) leaves no output behind. Ctrl-C stops this
/// call only: runs in other threads go on.
///
/// ``chain``: chain text or a :class:`Chain`; ``None`` passes frames through unchanged.
/// ``backend``: ``"auto"``, ``"cpu"`` or ``"gpu"``.
///
/// Video encoding: ``codec`` (any FFmpeg encoder: libx264, libx265, libvpx-vp9, ffv1, ...),
/// ``crf``, ``preset``, ``bitrate`` (bits per second), ``pix_fmt``, ``gop``, ``encoder_options``
/// (a dict passed to the encoder as it is), ``no_audio``, ``audio_codec``, ``auto_rotate``;
/// part of a video: ``start`` and ``duration`` (seconds), ``frames``; ``fps`` of an
/// image-sequence input.
///
/// Image encoding: ``quality`` (0-100), ``lossless``, ``effort`` (0-9), ``subsampling``
/// ("444", "422", "420"), ``progressive``, ``compression`` (PNG, 0-9), ``fast``,
/// ``tiff_compression`` ("none", "lzw", "deflate", "jpeg"), ``tiff_tile`` ("256" or "512x256"),
/// ``tiff_pyramid``, ``background`` ("#rrggbb", "white", ...).
///
/// Photos: ``strip`` (True for every metadata block, or "exif,xmp,icc" or a list of them),
/// ``auto_orient`` (default True: turned upright by the Exif orientation), ``keep_profile``,
/// ``profile`` (an ICC file to convert to), ``intent`` ("perceptual", "relative",
/// "saturation", "absolute").
///
/// Run: ``overwrite`` (replace an existing output; otherwise it is an error), ``on_error``
/// ("stop", "skip", "accept"), ``max_pixels`` and ``max_memory`` (numbers, or text such as
/// "100M", "2G"), ``format`` (the output's format where its name cannot say).
///
/// Returns the run's report as a dict: ``input``, ``output``, ``status`` ("done", or "skipped"
/// for a damaged image left out with ``on_error="skip"``), ``error`` (why it was left out),
/// ``frames``, ``pixels``, ``seconds``, ``backend``, ``warnings`` (as a line of
/// ``tessera process --report`` has them), and ``input_size``, ``output_size`` (width,
/// height), ``skipped_frames``, ``stages`` (where the time went).
///
/// Every option is a keyword argument; one this function does not take is a ``TypeError``.
///
/// Raises :class:`ChainError`, :class:`MediaError` (a missing, unreadable or damaged input,
/// an encoder error), :class:`BackendError`, :class:`Error` (an existing output without
/// ``overwrite``, an option that does not apply to the output's format), ``ValueError`` for
/// an option out of range, KeyboardInterrupt when interrupted.
#[pyfunction]
#[pyo3(signature = (input, output, chain = None, backend = "auto", **options))]
pub fn process<'py>(
    py: Python<'py>,
    input: PathBuf,
    output: Option<PathBuf>,
    chain: Option<ChainArg<'py>>,
    backend: &str,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let chain = chain::library_chain(py, chain)?;
    let keywords = Keywords::new(py, options, "process")?;
    let mut job = job_options(&keywords)?;
    keywords.finish()?;
    job.input = input;
    job.output = match output {
        Some(path) => Output::File(path),
        None => Output::Discard,
    };
    job.chain = chain;
    job.backend = backends::choice(backend)?;
    let report = run_watched(py, &mut job)?;
    report_dict(py, &job, &report)
}

/// Keyword arguments taken one at a time by name; what is left at the end is a keyword the
/// function does not take.
pub struct Keywords<'py> {
    dict: Bound<'py, PyDict>,
    function: &'static str,
}

impl<'py> Keywords<'py> {
    pub fn new(
        py: Python<'py>,
        options: Option<&Bound<'py, PyDict>>,
        function: &'static str,
    ) -> PyResult<Keywords<'py>> {
        let dict = match options {
            Some(d) => d.copy()?,
            None => PyDict::new(py),
        };
        Ok(Keywords { dict, function })
    }

    /// The keyword `name`, `None` where it is not given or given as `None`. A value of the
    /// wrong type is a TypeError naming the keyword, as for any Python function.
    pub fn get<T: FromPyObjectOwned<'py>>(&self, name: &str) -> PyResult<Option<T>> {
        let Some(value) = self.dict.get_item(name)? else {
            return Ok(None);
        };
        self.dict.del_item(name)?;
        if value.is_none() {
            return Ok(None);
        }
        value.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            if e.is_instance_of::<PyTypeError>(value.py()) {
                PyTypeError::new_err(format!("{}() argument '{name}': {e}", self.function))
            } else {
                e
            }
        })
    }

    /// A flag: the keyword `name`, or `default` where it is not given.
    pub fn flag(&self, name: &str, default: bool) -> PyResult<bool> {
        Ok(self.get(name)?.unwrap_or(default))
    }

    /// Every keyword taken, or a TypeError naming one the function does not take.
    pub fn finish(self) -> PyResult<()> {
        match self.dict.keys().iter().next() {
            None => Ok(()),
            Some(key) => Err(PyTypeError::new_err(format!(
                "{}() got an unexpected keyword argument {}",
                self.function,
                key.repr()?
            ))),
        }
    }
}

/// A file's job from the keywords `tessera.process` and `tessera.process_batch` share (every
/// option of the command line's `tessera process` for one file), checked; its input, output,
/// chain and backend are the caller's to set.
pub fn job_options(kw: &Keywords<'_>) -> PyResult<Job> {
    let no_audio = kw.flag("no_audio", false)?;
    let audio_codec: Option<String> = kw.get("audio_codec")?;
    if no_audio && audio_codec.is_some() {
        return Err(value_error(
            "no_audio and audio_codec cannot be given together",
        ));
    }
    let frames: Option<u64> = kw.get("frames")?;
    if frames == Some(0) {
        return Err(value_error("frames=0 keeps nothing (give 1 or more)"));
    }
    let fps: Option<f64> = kw.get("fps")?;
    if matches!(fps, Some(f) if !(f.is_finite() && f > 0.0)) {
        return Err(value_error("fps must be a number above 0"));
    }
    let strip = match kw.get::<StripArg>("strip")? {
        None | Some(StripArg::All(false)) => Strip::default(),
        Some(StripArg::All(true)) => Strip::ALL,
        Some(StripArg::Text(t)) => Strip::parse(&t).map_err(value_error)?,
        Some(StripArg::List(list)) => Strip::parse(&list.join(",")).map_err(value_error)?,
    };
    let encoder_options: Option<Bound<'_, PyDict>> = kw.get("encoder_options")?;
    let intent: String = kw.get("intent")?.unwrap_or_else(|| "relative".into());
    let on_error: String = kw.get("on_error")?.unwrap_or_else(|| "stop".into());
    Ok(Job {
        input: PathBuf::new(),
        output: Output::Discard,
        chain: LibChain::default(),
        backend: BackendChoice::Auto,
        encode: EncodeSettings {
            codec: kw.get("codec")?,
            crf: kw.get("crf")?,
            preset: kw.get("preset")?,
            bitrate: in_range("bitrate", kw.get("bitrate")?, 1, 999_999_999_999)?,
            pix_fmt: kw.get("pix_fmt")?,
            gop: kw.get("gop")?,
            options: encoder_options
                .map(|d| options(&d))
                .transpose()?
                .unwrap_or_default(),
            no_audio,
            audio_codec,
            auto_rotate: kw.flag("auto_rotate", false)?,
            format: kw.get("format")?,
            jpeg_tables: None,
        },
        image: ImageSettings {
            quality: in_range("quality", kw.get("quality")?, 0, 100)?,
            lossless: kw.flag("lossless", false)?,
            effort: in_range("effort", kw.get("effort")?, 0, 9)?,
            subsampling: parsed("subsampling", kw.get("subsampling")?, |t| t.parse())?,
            progressive: kw.flag("progressive", false)?,
            compression: in_range("compression", kw.get("compression")?, 0, 9)?,
            fast: kw.flag("fast", false)?,
            tiff_compression: parsed("tiff_compression", kw.get("tiff_compression")?, |t| {
                t.parse()
            })?,
            tiff_tile: parsed(
                "tiff_tile",
                kw.get("tiff_tile")?,
                tessera::media::tiff_file::parse_tile,
            )?,
            tiff_pyramid: kw.flag("tiff_pyramid", false)?,
            background: parsed(
                "background",
                kw.get("background")?,
                tessera::media::encoders::parse_colour,
            )?,
        },
        photo: PhotoOptions {
            auto_orient: kw.flag("auto_orient", true)?,
            strip,
            keep_profile: kw.flag("keep_profile", false)?,
            profile: kw.get("profile")?,
            intent: match intent.as_str() {
                "perceptual" => Intent::Perceptual,
                "relative" => Intent::Relative,
                "saturation" => Intent::Saturation,
                "absolute" => Intent::Absolute,
                other => {
                    return Err(value_error(format!(
                        "intent {other:?} is not one of \"perceptual\", \"relative\", \
                         \"saturation\", \"absolute\""
                    )))
                }
            },
        },
        trim: Trim {
            start: seconds("start", kw.get("start")?)?.unwrap_or(0.0),
            duration: seconds("duration", kw.get("duration")?)?,
            frames,
        },
        on_error: on_error_policy(&on_error)?,
        fps,
        gpu: None,
        progress: None,
        overwrite: kw.flag("overwrite", false)?,
        // Each run its own: a clone of a job (a batch's files) shares it, a new call does not.
        stop: job::Stop::default(),
        limits: tessera::limits::Limits {
            max_pixels: amount("max_pixels", kw.get("max_pixels")?, true)?,
            max_memory: amount("max_memory", kw.get("max_memory")?, false)?
                .unwrap_or_else(tessera::limits::default_max_memory),
        },
    })
}

/// Runs `job` on a thread of its own without the GIL, checking for Ctrl-C meanwhile.
fn run_watched(py: Python<'_>, job: &mut Job) -> PyResult<Report> {
    let mut interrupt: Option<PyErr> = None;
    let result = py.detach(|| {
        // The GPU device the process keeps (opened here the first time); `auto` without a
        // hardware GPU is the CPU, not a probe for one at every call.
        match backends::device(job.backend) {
            Ok(Some(device)) => job.gpu = Some(device),
            Ok(None) => job.backend = BackendChoice::Cpu,
            Err(e) => return Err(tessera::Error::Backend(e)),
        }
        let job = &*job;
        let stop = &job.stop;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            scope.spawn(move || {
                let _ = tx.send(job::run(job, &mut |_: &str| {}));
            });
            loop {
                match rx.recv_timeout(SIGNAL_CHECK) {
                    Ok(result) => return result,
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                        return Err(tessera::Error::Usage(
                            "the run ended without a result".into(),
                        ))
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                }
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupt = Some(e);
                        stop.request();
                    }
                }
            }
        })
    });
    if let Some(signal) = interrupt {
        return Err(signal);
    }
    result.map_err(|e| errors::to_py(py, e, &job.chain))
}

/// The report as a dict, with the fields of a file's line of `tessera process --report`.
fn report_dict<'py>(py: Python<'py>, job: &Job, report: &Report) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("input", job.input.display().to_string())?;
    d.set_item(
        "output",
        match &job.output {
            Output::File(path) => Some(path.display().to_string()),
            _ => None,
        },
    )?;
    d.set_item(
        "status",
        if report.left_out.is_some() {
            "skipped"
        } else {
            "done"
        },
    )?;
    d.set_item("error", report.left_out.as_deref())?;
    d.set_item("frames", report.frames)?;
    let (w, h) = report.input_size;
    d.set_item("pixels", report.frames * w as u64 * h as u64)?;
    d.set_item("seconds", report.seconds)?;
    d.set_item("backend", report.backend.as_str())?;
    d.set_item("warnings", report.warnings.clone())?;
    d.set_item("input_size", report.input_size)?;
    d.set_item("output_size", report.output_size)?;
    d.set_item(
        "skipped_frames",
        if report.left_out.is_some() {
            0
        } else {
            report.skipped
        },
    )?;
    let stages = pyo3::types::PyList::empty(py);
    for s in &report.stages {
        let stage = PyDict::new(py);
        stage.set_item("name", s.name)?;
        stage.set_item("frames", s.frames)?;
        stage.set_item("working", s.working.as_secs_f64())?;
        stages.append(stage)?;
    }
    d.set_item("stages", stages)?;
    Ok(d)
}
