//! Batches: the inputs a command line names (files, folders, glob patterns) as a sorted list of
//! media files, the output each one writes (a folder mirroring the input tree, or a template),
//! the checks made before any work starts (two inputs that would write one output, an output
//! that is an input, outputs that exist already), the run of the files a few at a time, and
//! the run's report (docs/batch.md).
//!
//! The command line (`tessera process a b c -o 'out/{stem}.webp'`) and the Python package's
//! `process_batch` both run batches through here; what a caller shows while one runs (bars,
//! lines, callbacks) it says through [`Watch`], and nothing here prints.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::backend::BackendChoice;
use crate::error::Error;
use crate::job::{self, Job, Output, Progress, Report, Stop};

pub use glob::Pattern;

/// One input of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub input: PathBuf,
    /// The input's path below the folder or pattern base it was found under (its file name for
    /// a file named on the command line): what an output folder mirrors.
    pub rel: PathBuf,
}

/// What to find: the command line's inputs and how to walk them.
pub struct Find<'a> {
    pub inputs: &'a [PathBuf],
    pub recursive: bool,
    pub include: &'a [glob::Pattern],
    pub exclude: &'a [glob::Pattern],
}

fn glob_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        // `*` stays within a folder; `**` crosses folders.
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// `--include` and `--exclude`'s glob, or why it is not one.
pub fn parse_glob(text: &str) -> Result<Pattern, String> {
    Pattern::new(text).map_err(|e| format!("'{text}' is not a glob pattern: {e}"))
}

/// True when `path` holds a glob character (`*`, `?`, `[`).
pub fn is_pattern(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The folder a pattern's matches are found under: its components before the first with a glob
/// character.
fn pattern_base(pattern: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for c in pattern.components() {
        if is_pattern(Path::new(c.as_os_str())) {
            break;
        }
        base.push(c);
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

/// Every file below `dir` (all the way down with `deep`), hidden ones (a name starting with
/// `.`) left out, in a stable order.
fn files_below(dir: &Path, deep: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            if deep {
                files_below(&path, deep, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The inputs as a sorted list of items, with the files left out by `--include`/`--exclude`
/// not listed at all. An input that does not exist, or a pattern that matches nothing, is an
/// error.
pub fn expand(find: &Find) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for input in find.inputs {
        if is_pattern(input) {
            let base = pattern_base(input);
            let pattern = glob::Pattern::new(&input.to_string_lossy())
                .map_err(|e| format!("{} is not a pattern: {e}", input.display()))?;
            let mut found = Vec::new();
            files_below(&base, true, &mut found)
                .map_err(|e| format!("cannot read {}: {e}", base.display()))?;
            let before = items.len();
            for path in found {
                if pattern.matches_path_with(&path, glob_options()) {
                    let rel = path.strip_prefix(&base).unwrap_or(&path).to_path_buf();
                    items.push(Item { input: path, rel });
                }
            }
            if items.len() == before {
                return Err(format!("no file matches {}", input.display()));
            }
        } else if input.is_dir() {
            let mut found = Vec::new();
            files_below(input, find.recursive, &mut found)
                .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
            for path in found {
                let rel = path.strip_prefix(input).unwrap_or(&path).to_path_buf();
                items.push(Item { input: path, rel });
            }
        } else if input.exists() {
            let rel = PathBuf::from(input.file_name().unwrap_or(input.as_os_str()));
            items.push(Item {
                input: input.clone(),
                rel,
            });
        } else {
            return Err(format!("{}: no such file or folder", input.display()));
        }
    }
    let keep = |item: &Item| {
        let matches = |p: &glob::Pattern| {
            p.matches_path_with(&item.rel, glob_options())
                || item
                    .rel
                    .file_name()
                    .is_some_and(|n| p.matches_with(&n.to_string_lossy(), glob_options()))
        };
        (find.include.is_empty() || find.include.iter().any(matches))
            && !find.exclude.iter().any(matches)
    };
    items.retain(keep);
    // The same file named twice (a folder and a pattern over it) is processed once.
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(i.input.canonicalize().unwrap_or_else(|_| i.input.clone())));
    Ok(items)
}

/// `K/N`: the shard this run takes, 1-based.
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("'{text}' is not a shard: write K/N with 1 <= K <= N, e.g. 2/8");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// FNV-1a of the bytes: stable across runs, machines and Rust versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether `item` belongs to shard `k` of `n`: decided by a hash of its path below its root,
/// so that every machine of a job array, each expanding the same inputs, takes a disjoint share
/// and together they take every file once, whatever order they run in.
pub fn in_shard(item: &Item, (k, n): (u64, u64)) -> bool {
    let key = item.rel.to_string_lossy().replace('\\', "/");
    fnv1a(key.as_bytes()) % n == k - 1
}

/// Where the outputs go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A folder: each output at the input's path below it, with the same name.
    Folder(PathBuf),
    /// A template with `{dir}`, `{stem}`, `{ext}`, `{name}`, `{index}` and `{chain}`.
    Template(String),
    /// One input's output file, as a single-file run names it (a single file run as a batch
    /// for `--dry-run`, `--report`, `--json` or `--shard`).
    File(PathBuf),
}

impl Target {
    /// `-o` as a batch target: a template when it has a `{`, a folder otherwise.
    pub fn of(output: &Path) -> Target {
        let text = output.to_string_lossy();
        if text.contains('{') {
            Target::Template(text.into_owned())
        } else {
            Target::Folder(output.to_path_buf())
        }
    }

    /// The output of the `index`-th item (from 1); `chain` is the short hash of the chain.
    pub fn output(&self, item: &Item, index: usize, chain: &str) -> Result<PathBuf, String> {
        match self {
            Target::Folder(dir) => Ok(dir.join(&item.rel)),
            Target::File(file) => Ok(file.clone()),
            Target::Template(template) => {
                let stem = item.rel.file_stem().unwrap_or_default().to_string_lossy();
                let ext = item.rel.extension().unwrap_or_default().to_string_lossy();
                let name = item.rel.file_name().unwrap_or_default().to_string_lossy();
                let dir = item.rel.parent().unwrap_or(Path::new(""));
                let dir = match dir.to_string_lossy() {
                    d if d.is_empty() => ".".to_string(),
                    d => d.into_owned(),
                };
                let mut out = String::new();
                let mut rest = template.as_str();
                while let Some(open) = rest.find('{') {
                    out.push_str(&rest[..open]);
                    let close = rest[open..].find('}').ok_or_else(|| {
                        format!("the template {template} has a `{{` without `}}`")
                    })?;
                    let key = &rest[open + 1..open + close];
                    out += &match key {
                        "dir" => dir.clone(),
                        "stem" => stem.to_string(),
                        "ext" => ext.to_string(),
                        "name" => name.to_string(),
                        "index" => index.to_string(),
                        "chain" => chain.to_string(),
                        other => {
                            return Err(format!(
                                "the template {template} names {{{other}}}; it may use {{dir}}, {{stem}}, {{ext}}, {{name}}, {{index}} and {{chain}}"
                            ))
                        }
                    };
                    rest = &rest[open + close + 1..];
                }
                out.push_str(rest);
                Ok(normalise(Path::new(&out)))
            }
        }
    }
}

/// `a/./b` as `a/b`: a template's `{dir}` of `.` leaves no trace.
fn normalise(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// A short hash of the chain's resolved text, for `{chain}`: the same chain names the same
/// outputs, a changed one new ones.
pub fn chain_hash(resolved: &str) -> String {
    format!("{:08x}", fnv1a(resolved.as_bytes()) as u32)
}

/// Two items that would write one output; an output that is an input.
pub fn check_outputs(pairs: &[(Item, PathBuf)]) -> Result<(), String> {
    let key = |p: &Path| p.canonicalize().unwrap_or_else(|_| normalise(p));
    let mut by_output: HashMap<PathBuf, &Path> = HashMap::new();
    let inputs: HashMap<PathBuf, &Path> = pairs
        .iter()
        .map(|(i, _)| (key(&i.input), i.input.as_path()))
        .collect();
    for (item, output) in pairs {
        let k = key(output);
        if let Some(first) = by_output.insert(k.clone(), &item.input) {
            return Err(format!(
                "{} and {} would both write {}; give the output a template with {{dir}} or {{index}}",
                first.display(),
                item.input.display(),
                output.display()
            ));
        }
        if inputs.contains_key(&k) {
            return Err(format!(
                "{} would write over the input {}; tessera never writes over its input",
                item.input.display(),
                output.display()
            ));
        }
    }
    Ok(())
}

/// A file's status in the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Status {
    #[serde(rename = "done")]
    Done,
    /// Left out: not media, its output exists (`--skip-existing`), or a damaged image with
    /// `--on-error skip`.
    #[serde(rename = "skipped")]
    Skipped,
    #[serde(rename = "failed")]
    Failed,
    /// Stopped by Ctrl-C (or the batch's stop) while running: its output was not written.
    #[serde(rename = "interrupted")]
    Interrupted,
    /// Left by Ctrl-C (or the batch's stop) or `--fail-fast` before its turn.
    #[serde(rename = "not started")]
    NotStarted,
}

/// One file's line in the run report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FileRecord {
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    pub status: Status,
    /// Why it was skipped, failed or not finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub frames: u64,
    /// Pixels of the input's frames processed.
    pub pixels: u64,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// What the file lost on the way though it was done: damage accepted (`--on-error
    /// accept`: written from what was decoded) and streams its output cannot hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl FileRecord {
    /// The record as one line of JSON, as the report's `files` hold it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A record of a file that ran no job: skipped or not started, and why.
    fn untouched(input: &Path, output: Option<&Path>, status: Status, why: &str) -> FileRecord {
        FileRecord {
            input: input.display().to_string(),
            output: output.map(|o| o.display().to_string()),
            status,
            error: Some(why.to_string()),
            frames: 0,
            pixels: 0,
            seconds: 0.0,
            backend: None,
            warnings: Vec::new(),
        }
    }
}

/// The run report, as `--report` writes it; fields are only ever added (`schema` changes if one
/// is removed or renamed).
#[derive(Clone, Debug, serde::Serialize)]
pub struct RunRecord {
    pub schema: u32,
    /// The resolved chain, every default filled in.
    pub chain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub processed: usize,
    pub skipped: usize,
    pub failed: usize,
    pub interrupted: usize,
    pub not_started: usize,
    pub seconds: f64,
    /// Every input: the skipped ones, then the others in the order of the inputs.
    pub files: Vec<FileRecord>,
}

impl RunRecord {
    /// The report of a run of `chain` (resolved) over `files`, its counts made from them.
    pub fn new(
        chain: String,
        shard: Option<(u64, u64)>,
        files: Vec<FileRecord>,
        seconds: f64,
    ) -> RunRecord {
        let count = |status| files.iter().filter(|f| f.status == status).count();
        RunRecord {
            schema: 1,
            chain,
            shard: shard.map(|(k, n)| format!("{k}/{n}")),
            processed: count(Status::Done),
            skipped: count(Status::Skipped),
            failed: count(Status::Failed),
            interrupted: count(Status::Interrupted),
            not_started: count(Status::NotStarted),
            seconds,
            files,
        }
    }

    /// The report as the JSON document `--report` writes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A batch as its caller asks for it, before anything is found.
pub struct Request<'a> {
    pub find: Find<'a>,
    /// Only shard K of N (`--shard`).
    pub shard: Option<(u64, u64)>,
    /// Where outputs go; `None` writes nothing (`--discard`).
    pub target: Option<Target>,
    /// Leave the outputs that exist, and skip their inputs.
    pub skip_existing: bool,
    /// Replace the outputs that exist.
    pub overwrite: bool,
}

/// One file to process: its place among the files to process (from 0), what it is, and where
/// it writes (`None` with no target).
#[derive(Clone, Debug)]
pub struct Entry {
    pub place: usize,
    pub item: Item,
    pub output: Option<PathBuf>,
}

impl Entry {
    /// The output its job writes.
    pub fn job_output(&self) -> Output {
        match &self.output {
            Some(path) => Output::File(path.clone()),
            None => Output::Discard,
        }
    }
}

/// A batch found, named and checked, before any work.
pub struct Planned {
    /// Inputs left out before any work: not media, or with an output that exists and
    /// `skip_existing`.
    pub skipped: Vec<FileRecord>,
    /// The files to process, in order.
    pub work: Vec<Entry>,
}

/// Finds the inputs, names their outputs and makes every check made before any work: the
/// target a folder, no two inputs writing one output, no output an input, an existing output
/// only with `overwrite` or `skip_existing`, each file's encoding flags against its output's
/// format (`job` makes a file's job). An error is the caller's mistake, said in a line (the
/// command line's exit code 2); nothing has been written.
pub fn plan(
    request: &Request,
    chain: &crate::Chain,
    job: &dyn Fn(&Entry) -> Job,
) -> Result<Planned, String> {
    let mut items = expand(&request.find)?;
    if let Some(shard) = request.shard {
        items.retain(|i| in_shard(i, shard));
    }
    let target = request.target.as_ref();
    if let Some(Target::Folder(dir)) = target {
        if dir.exists() && !dir.is_dir() {
            return Err(format!(
                "{} is a file; with several inputs -o is a folder or a template such as 'out/{{stem}}.png'",
                dir.display()
            ));
        }
    }
    let hash = chain_hash(&chain.to_text());
    let mut pairs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let output = match target {
            Some(t) => t.output(item, i + 1, &hash)?,
            None => PathBuf::new(),
        };
        pairs.push((item.clone(), output));
    }
    if target.is_some() {
        check_outputs(&pairs)?;
    }
    let mut planned = Planned {
        skipped: Vec::new(),
        work: Vec::new(),
    };
    for (item, output) in pairs {
        let exists = target.is_some() && output.exists();
        // A damaged video is still one: its run fails and says what is wrong.
        let media = matches!(
            crate::media::image::is_image_file(&item.input),
            Ok(_) | Err(crate::media::MediaError::Decode { .. })
        );
        let skip = match (media, exists && request.skip_existing) {
            (false, _) => Some("not an image or a video tessera reads"),
            (true, true) => Some("the output exists (--skip-existing)"),
            (true, false) => None,
        };
        let output = target.is_some().then_some(output);
        match skip {
            Some(reason) => planned.skipped.push(FileRecord::untouched(
                &item.input,
                output.as_deref().filter(|_| media),
                Status::Skipped,
                reason,
            )),
            None if exists && !request.overwrite => {
                return Err(format!(
                    "{} exists (the output of {}); pass --overwrite to replace outputs or --skip-existing to leave them",
                    output.unwrap_or_default().display(),
                    item.input.display()
                ))
            }
            None => planned.work.push(Entry {
                place: planned.work.len(),
                item,
                output,
            }),
        }
    }
    // The encoding flags against every output's format, before any work (as a single file's
    // run checks them).
    for entry in &planned.work {
        if let Err(Error::Usage(message)) = job::check_encoding_flags(&job(entry)) {
            return Err(message);
        }
    }
    Ok(planned)
}

/// Files processed at once where the caller does not say: one with a GPU backend (a GPU run
/// keeps one file on the device at a time); on the CPU one for every four cores, since a file's
/// own pipeline keeps a few cores busy.
pub fn default_jobs(backend: BackendChoice) -> usize {
    match backend {
        BackendChoice::Cpu => {
            (std::thread::available_parallelism().map_or(1, |n| n.get()) / 4).max(1)
        }
        BackendChoice::Gpu | BackendChoice::Auto => 1,
    }
}

/// What a batch's caller hears while it runs. Called from the batch's worker threads.
pub trait Watch: Sync {
    /// Runs one file's `work`; the command line draws the file's bar from `progress` meanwhile.
    fn file(
        &self,
        entry: &Entry,
        progress: &Progress,
        work: &mut dyn FnMut() -> Result<Report, Error>,
    ) -> Result<Report, Error> {
        let _ = (entry, progress);
        work()
    }

    /// A file is through: its record, and the error it failed with.
    fn finished(&self, entry: &Entry, record: &FileRecord, error: Option<&Error>);
}

/// Runs the planned files, `jobs` at a time, taken in order; `job` makes each file's job. A
/// failing file is recorded and the others go on, unless `fail_fast`. `stop` is the batch's:
/// every file's job runs on it (whatever stop `job` gave it), so a request (the caller's Ctrl-C,
/// or the process-wide [`job::request_stop`]) stops the files running, which leave no output,
/// and the rest are not started. Returns a record for every entry, in the batch's order.
pub fn run(
    work: Vec<Entry>,
    jobs: usize,
    fail_fast: bool,
    job: &(dyn Fn(&Entry) -> Job + Sync),
    watch: &dyn Watch,
    stop: &Stop,
) -> Vec<FileRecord> {
    let total = work.len();
    let queue = Mutex::new(std::collections::VecDeque::from(work));
    let done = Mutex::new(Vec::new());
    let stop_taking = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            scope.spawn(|| loop {
                if stop_taking.load(Ordering::SeqCst) || stop.requested() {
                    return;
                }
                let Some(entry) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                    return;
                };
                let mut file_job = job(&entry);
                file_job.stop = stop.clone();
                let (record, error) = run_one(&entry, file_job, watch);
                watch.finished(&entry, &record, error.as_ref());
                if record.status == Status::Failed && fail_fast {
                    stop_taking.store(true, Ordering::SeqCst);
                }
                if let Ok(mut d) = done.lock() {
                    d.push((entry.place, record));
                }
            });
        }
    });
    let mut finished = done.into_inner().unwrap_or_default();
    // The files an interruption or `fail_fast` left untouched are in the report too.
    let why = if stop.requested() {
        "the run was interrupted before this file"
    } else {
        "the run stopped at a failure (--fail-fast) before this file"
    };
    for entry in queue.into_inner().unwrap_or_default() {
        let record = FileRecord::untouched(
            &entry.item.input,
            entry.output.as_deref(),
            Status::NotStarted,
            why,
        );
        finished.push((entry.place, record));
    }
    finished.sort_by_key(|(place, _)| *place);
    finished.into_iter().map(|(_, r)| r).collect()
}

/// One file's run and its record, with the error it failed with.
fn run_one(entry: &Entry, mut job: Job, watch: &dyn Watch) -> (FileRecord, Option<Error>) {
    let mut record = FileRecord {
        input: entry.item.input.display().to_string(),
        output: entry.output.as_ref().map(|o| o.display().to_string()),
        status: Status::Done,
        error: None,
        frames: 0,
        pixels: 0,
        seconds: 0.0,
        backend: None,
        warnings: Vec::new(),
    };
    let progress = Arc::new(Progress::default());
    job.progress = Some(progress.clone());
    let started = std::time::Instant::now();
    let mut backend = None;
    let result = watch.file(entry, &progress, &mut || {
        job::run(&job, &mut |b: &str| backend = Some(b.to_string()))
    });
    record.seconds = started.elapsed().as_secs_f64();
    record.backend = backend;
    match result {
        Ok(report) if report.left_out.is_some() => {
            record.status = Status::Skipped;
            record.error = report.left_out;
            (record, None)
        }
        Ok(report) => {
            record.warnings = report.warnings;
            record.frames = report.frames;
            record.pixels = report.frames * report.input_size.0 as u64 * report.input_size.1 as u64;
            (record, None)
        }
        Err(Error::Interrupted) => {
            record.status = Status::Interrupted;
            record.error = Some("interrupted before it was done".into());
            (record, Some(Error::Interrupted))
        }
        Err(e) => {
            record.status = Status::Failed;
            record.error = Some(e.to_string());
            (record, Some(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(rel: &str) -> Item {
        Item {
            input: Path::new("in").join(rel),
            rel: rel.into(),
        }
    }

    #[test]
    fn templates_and_folders_name_outputs() {
        let t = Target::of(Path::new("out/{dir}/{stem}_graded.{ext}"));
        assert_eq!(
            t.output(&item("a/b/clip.mov"), 1, "c0ffee00").unwrap(),
            Path::new("out/a/b/clip_graded.mov")
        );
        assert_eq!(
            t.output(&item("photo.jpg"), 2, "x").unwrap(),
            Path::new("out/photo_graded.jpg")
        );
        let t = Target::of(Path::new("out/{index}-{name}.{chain}.webp"));
        assert_eq!(
            t.output(&item("a/p.png"), 7, "1234abcd").unwrap(),
            Path::new("out/7-p.png.1234abcd.webp")
        );
        let t = Target::of(Path::new("graded"));
        assert_eq!(
            t.output(&item("x/y.png"), 1, "").unwrap(),
            Path::new("graded/x/y.png")
        );
        assert!(Target::of(Path::new("o/{size}.png"))
            .output(&item("a.png"), 1, "")
            .unwrap_err()
            .contains("{size}"));
    }

    #[test]
    fn shards_cover_every_item_once() {
        let items: Vec<Item> = (0..200)
            .map(|i| item(&format!("d{}/f{i}.png", i % 7)))
            .collect();
        for n in [1, 2, 3, 8] {
            let mut counts = vec![0; items.len()];
            for k in 1..=n {
                for (i, it) in items.iter().enumerate() {
                    if in_shard(it, (k, n)) {
                        counts[i] += 1;
                    }
                }
            }
            assert!(counts.iter().all(|&c| c == 1), "{n} shards");
        }
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        for bad in ["0/3", "4/3", "1/0", "x", "1-2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn collisions_are_found() {
        let pairs = vec![
            (item("a/x.png"), PathBuf::from("out/x.png")),
            (item("b/x.png"), PathBuf::from("out/x.png")),
        ];
        assert!(check_outputs(&pairs)
            .unwrap_err()
            .contains("would both write"));
    }
}
