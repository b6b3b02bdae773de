//! `tessera.process_batch`: the command line's batch (`tessera process a b c -o
//! 'out/{stem}.webp' -j 2 --report run.json`) from Python, its report as a dict.
//!
//! The library finds, names, checks and runs the files ([`tessera::batch`]), a few at a time on
//! threads of its own with the GIL released; the calling thread waits, taking each finished
//! file's record to the `progress` callback (with the GIL, on the caller's thread) and looking
//! for Ctrl-C every 50 ms. Ctrl-C, or an exception from the callback, stops this batch through
//! its own [`tessera::job::Stop`]: the files running stop and leave no output, the finished
//! ones stay, as the command line does on SIGINT. Other runs in the process go on.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use tessera::batch::{self, Entry, FileRecord, RunRecord};
use tessera::job::{self, Job};
use tessera::BackendChoice;

use crate::backends;
use crate::errors;
use crate::process::{self, ChainArg, Keywords, SIGNAL_CHECK};

/// One path, a folder or a glob pattern; or a list of them.
#[derive(FromPyObject)]
pub enum Inputs {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

/// Globs: one, or a list.
#[derive(FromPyObject)]
pub enum Globs {
    One(String),
    Many(Vec<String>),
}

/// A shard: `"K/N"` or `(K, N)`.
#[derive(FromPyObject)]
pub enum ShardArg {
    Text(String),
    Pair(u64, u64),
}

/// What a batch's worker threads tell the waiting caller.
enum Event {
    /// A file is through: how many are, and its record as the report's JSON has it.
    File(usize, String),
    /// Every file is through (or was left by a stop), in the batch's order.
    End(Vec<FileRecord>),
}

/// The library's [`batch::Watch`] for a Python caller: each finished file's record goes to the
/// caller's thread.
struct Told {
    events: mpsc::Sender<Event>,
    done: AtomicUsize,
}

impl batch::Watch for Told {
    fn finished(&self, _entry: &Entry, record: &FileRecord, _error: Option<&tessera::Error>) {
        let n = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        let json = record.to_json();
        let _ = self.events.send(Event::File(n, json));
    }
}

/// Runs a filter chain over many image and video files, as ``tessera process INPUTS -o
/// OUTPUT`` does with several inputs, and returns the run's report.
///
/// ``inputs``: a path, or a list of paths (str or os.PathLike): files, folders (their media
/// files; all the way down with ``recursive``) and glob patterns such as ``"shots/**/*.mov"``
/// (``*`` within a folder, ``**`` across folders). Hidden files are left out, and a file that is
/// neither an image nor a video tessera reads is listed as skipped. Files are taken in sorted
/// order. ``include`` and ``exclude`` (a glob or a list) keep or leave out files by their path
/// below their folder, or their name.
///
/// ``output``: a folder (each output at the input's path below it, with the same name) or a
/// template with ``{dir}``, ``{stem}``, ``{ext}``, ``{name}``, ``{index}`` and ``{chain}``:
/// ``"out/{stem}.webp"`` converts every file to WebP. ``None`` processes everything and writes
/// nothing. Before any work, two inputs that would write one output, an output that is an
/// input, and an output that exists (unless ``overwrite``, or ``skip_existing``, which leaves
/// it and skips its input) raise :class:`Error`, and nothing is written. Each output is written
/// to a temporary file and renamed into place when complete.
///
/// ``chain``: chain text or a :class:`Chain`; ``backend``: ``"auto"``, ``"cpu"`` or ``"gpu"``.
/// ``jobs``: files processed at once (1 to 256; by default one with a GPU, on the CPU one for
/// every four cores). ``shard``: ``"K/N"`` or ``(K, N)``, only shard K of N, a stable share of
/// the files (see ``--shard``). Every other keyword is an option of :func:`process`, applied to
/// each file.
///
/// A file that fails is recorded with why, and the others go on; with ``fail_fast`` the batch
/// stops at the first failure (the files not reached are ``"not started"``).
///
/// ``progress``: called as ``progress(done, total, entry)`` each time a file is through, on the
/// calling thread: ``done`` files of the ``total`` to process (those skipped before any work
/// are not counted), ``entry`` that file's record (a dict as in the report's ``files``). An
/// exception it raises stops the batch as Ctrl-C does and is raised from this call.
///
/// Returns the report as a dict, the document ``tessera process --report`` writes
/// (docs/batch.md): ``schema``, ``chain`` (resolved), ``shard``, ``processed``, ``skipped``,
/// ``failed``, ``interrupted``, ``not_started``, ``seconds``, and ``files``, one dict per input
/// (``input``, ``output``, ``status``, ``error``, ``frames``, ``pixels``, ``seconds``,
/// ``backend``, ``warnings``; a field without a value is absent, as in the JSON).
///
/// Ctrl-C stops the batch: the files running stop and leave no output, the finished ones
/// stay, and KeyboardInterrupt is raised with the report as its ``report`` attribute. Calling
/// again with ``skip_existing=True`` finishes the rest. The stop is this batch's only: other
/// calls running in other threads go on.
///
/// Raises :class:`ChainError` for a chain that does not parse, :class:`Error` for a batch that
/// cannot start (no such input, colliding or existing outputs, an option that does not apply
/// to an output's format), ``ValueError`` and ``TypeError`` for bad arguments.
#[pyfunction]
#[pyo3(signature = (
    inputs, output, chain = None, backend = "auto", *,
    jobs = None, progress = None, recursive = false, include = None, exclude = None,
    skip_existing = false, fail_fast = false, shard = None, **options,
))]
#[allow(clippy::too_many_arguments)]
pub fn process_batch<'py>(
    py: Python<'py>,
    inputs: Inputs,
    output: Option<PathBuf>,
    chain: Option<ChainArg<'py>>,
    backend: &str,
    jobs: Option<usize>,
    progress: Option<Bound<'py, PyAny>>,
    recursive: bool,
    include: Option<Globs>,
    exclude: Option<Globs>,
    skip_existing: bool,
    fail_fast: bool,
    shard: Option<ShardArg>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let started = std::time::Instant::now();
    let chain = crate::chain::library_chain(py, chain)?;
    let keywords = Keywords::new(py, options, "process_batch")?;
    let mut template = process::job_options(&keywords)?;
    keywords.finish()?;
    let choice = backends::choice(backend)?;
    template.chain = chain;
    template.backend = choice;
    let inputs = match inputs {
        Inputs::One(path) => vec![path],
        Inputs::Many(paths) => paths,
    };
    if inputs.is_empty() {
        return Err(PyValueError::new_err(
            "inputs is empty: give files, folders or patterns",
        ));
    }
    if skip_existing && template.overwrite {
        return Err(PyValueError::new_err(
            "skip_existing and overwrite cannot be given together",
        ));
    }
    if matches!(jobs, Some(j) if !(1..=256).contains(&j)) {
        return Err(PyValueError::new_err(format!(
            "jobs={} is out of range (expected 1 to 256)",
            jobs.unwrap_or_default()
        )));
    }
    if let Some(p) = &progress {
        if !p.is_callable() {
            return Err(PyTypeError::new_err(
                "progress must be callable as progress(done, total, entry)",
            ));
        }
    }
    let shard = match shard {
        None => None,
        Some(ShardArg::Text(t)) => Some(batch::parse_shard(&t).map_err(PyValueError::new_err)?),
        Some(ShardArg::Pair(k, n)) => {
            Some(batch::parse_shard(&format!("{k}/{n}")).map_err(PyValueError::new_err)?)
        }
    };
    let include = globs(include)?;
    let exclude = globs(exclude)?;
    let request = batch::Request {
        find: batch::Find {
            inputs: &inputs,
            recursive,
            include: &include,
            exclude: &exclude,
        },
        shard,
        target: output.as_deref().map(batch::Target::of),
        skip_existing,
        overwrite: template.overwrite,
    };
    let file_job = |entry: &Entry, template: &Job| {
        let mut job = template.clone();
        job.input = entry.item.input.clone();
        job.output = entry.job_output();
        job
    };
    let planned = py
        .detach(|| batch::plan(&request, &template.chain, &|e| file_job(e, &template)))
        .map_err(errors::Error::new_err)?;
    let jobs = jobs.unwrap_or_else(|| batch::default_jobs(choice));
    let total = planned.work.len();
    let progress = progress.map(Bound::unbind);

    let mut stopped: Option<PyErr> = None;
    // This batch's stop, shared by its files' runs.
    let stop = job::Stop::default();
    let records = py.detach(|| {
        // One GPU device serves every file, the one the process keeps; `auto` without a
        // hardware GPU is the CPU. Where `gpu` opens none, each file's run says why.
        if total > 0 {
            match backends::device(choice) {
                Ok(Some(device)) => template.gpu = Some(device),
                Ok(None) => template.backend = BackendChoice::Cpu,
                Err(_) => {}
            }
        }
        let template = &template;
        let work = planned.work;
        let stop = &stop;
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            scope.spawn(move || {
                let told = Told {
                    events: tx,
                    done: AtomicUsize::new(0),
                };
                let job = |e: &Entry| file_job(e, template);
                let records = batch::run(work, jobs, fail_fast, &job, &told, stop);
                let _ = told.events.send(Event::End(records));
            });
            loop {
                match rx.recv_timeout(SIGNAL_CHECK) {
                    Ok(Event::End(records)) => return records,
                    Ok(Event::File(done, json)) => {
                        if let (Some(callback), None) = (&progress, &stopped) {
                            let called = Python::attach(|py| -> PyResult<()> {
                                let entry = json_value(py, &json)?;
                                callback.bind(py).call1((done, total, entry))?;
                                Ok(())
                            });
                            if let Err(e) = called {
                                stopped = Some(e);
                                stop.request();
                            }
                        }
                    }
                    // The runner's thread ended without its records: it panicked, and the
                    // scope raises that panic again.
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Vec::new(),
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                }
                if stopped.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        stopped = Some(e);
                        stop.request();
                    }
                }
            }
        })
    });
    let mut files = planned.skipped;
    files.extend(records);
    let report = RunRecord::new(
        template.chain.to_text(),
        shard,
        files,
        started.elapsed().as_secs_f64(),
    );
    let report = json_value(py, &report.to_json())?;
    if let Some(error) = stopped {
        if error.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) {
            error.value(py).setattr("report", &report)?;
        }
        return Err(error);
    }
    Ok(report)
}

/// The command line's `--include`/`--exclude` patterns.
fn globs(globs: Option<Globs>) -> PyResult<Vec<batch::Pattern>> {
    let texts = match globs {
        None => Vec::new(),
        Some(Globs::One(text)) => vec![text],
        Some(Globs::Many(texts)) => texts,
    };
    texts
        .iter()
        .map(|t| batch::parse_glob(t).map_err(PyValueError::new_err))
        .collect()
}

/// A JSON document as Python's `json` module reads it: the report exactly as the command line
/// writes it.
fn json_value<'py>(py: Python<'py>, json: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (json,))
}
