//! What the binary says while it works: progress bars on a terminal (one for the batch, one per
//! running file), plain lines elsewhere, nothing but errors with `--quiet`; and `tracing` logs
//! with `-v`/`-vv`, written around the bars so that neither tears the other.

use std::io::{IsTerminal, Write};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tessera::job::Progress;

/// The bars on screen, for the log writer to draw around.
static SCREEN: OnceLock<MultiProgress> = OnceLock::new();

/// Writes log lines to stderr, above the bars when there are some.
struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match SCREEN.get() {
            Some(bars) => bars.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Logs at warning level (errors only when `quiet`), info with `-v`, debug with `-vv`, trace
/// beyond.
pub fn init(verbose: u8, quiet: bool) {
    let level = match verbose {
        0 if quiet => tracing::Level::ERROR,
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        2 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false)
        .without_time()
        .with_writer(|| Stderr)
        .try_init();
}

/// The batch's display.
pub struct Bars {
    quiet: bool,
    multi: Option<MultiProgress>,
    batch: Option<ProgressBar>,
    failed: std::sync::atomic::AtomicUsize,
}

impl Bars {
    /// Bars where stderr is a terminal (and not `quiet`), plain lines otherwise.
    pub fn new(quiet: bool, files: usize) -> Bars {
        let terminal = std::io::stderr().is_terminal();
        let (multi, batch) = if terminal && !quiet {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let bar = multi.add(ProgressBar::new(files as u64));
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} files {msg} [{elapsed_precise}, ETA {eta}]",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            let _ = SCREEN.set(multi.clone());
            (Some(multi), Some(bar))
        } else {
            (None, None)
        };
        Bars {
            quiet,
            multi,
            batch,
            failed: 0.into(),
        }
    }

    /// Runs `work` with a bar for the file `name` that follows `progress` (frames, rate, ETA).
    pub fn watch<T>(&self, name: &str, progress: &Progress, work: impl FnOnce() -> T) -> T {
        let Some(multi) = &self.multi else {
            return work();
        };
        let bar = multi.insert_before(
            self.batch.as_ref().expect("made with the screen"),
            ProgressBar::new(0),
        );
        bar.set_style(
            ProgressStyle::with_template("  {wide_msg} {pos}/{len} frames {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(name.to_string());
        let done = std::sync::atomic::AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    bar.set_length(progress.total.load(Ordering::Relaxed));
                    bar.set_position(progress.frames.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            let result = work();
            done.store(true, Ordering::Relaxed);
            result
        });
        bar.finish_and_clear();
        multi.remove(&bar);
        result
    }

    /// One more file is through.
    pub fn file_done(&self, failed: bool) {
        if let Some(bar) = &self.batch {
            if failed {
                let n = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("({n} failed)"));
            }
            bar.inc(1);
        }
    }

    /// A file's line: above the bars, or plain; none with `--quiet`.
    pub fn line(&self, text: String) {
        if self.quiet {
            return;
        }
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// An error's lines: always said.
    pub fn error(&self, text: String) {
        match &self.multi {
            Some(multi) => multi.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    /// Takes the bars off the screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.batch {
            bar.finish_and_clear();
        }
    }
}
