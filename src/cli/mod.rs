//! Command-line arguments, resolved once into a library [`Job`]; error printing and exit codes.

mod filters;
mod habits;
mod log;
mod probe;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use tessera::backend::gpu::{AdapterPolicy, GpuDevice};
use tessera::backend::BackendChoice;
use tessera::batch;
use tessera::chain::{render_all, Chain};
use tessera::job::{self, EncodeSettings, Job, Output};
use tessera::media::cms::Intent;
use tessera::media::image::{ImageSettings, PhotoOptions, Strip};
use tessera::media::{OnError, Trim};
use tessera::{stats, Error};

/// Filter chains over images and videos, on the CPU or the GPU.
#[derive(Parser, Debug)]
#[command(name = "tessera", version, about, long_about = None)]
struct Cli {
    /// Log what tessera does (-v), and in detail (-vv); logs go to stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Runs a filter chain over an image or a video.
    Process(Box<ProcessArgs>),
    /// Lists every filter with its parameters, types, ranges and defaults.
    Filters(FiltersArgs),
    /// Checks a chain without processing anything and prints it resolved: every default filled
    /// in, every definition expanded. Exit code 2 and every error when it is not valid.
    Check(CheckArgs),
    /// Describes media files (video, audio, image; anything FFmpeg opens): a video's container,
    /// duration and bit rate, then each stream; a still image's format, size (and the size
    /// `process` writes after its Exif orientation), depth, ICC profile and Exif. Exit code 1
    /// when a file cannot be read (the others are still described).
    Probe(ProbeArgs),
    /// Prints a completion script for a shell, e.g. `tessera completions bash >
    /// /etc/bash_completion.d/tessera`.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Prints the manual page (roff), every subcommand in it, made from the same argument
    /// definitions as --help: `tessera man > tessera.1; man ./tessera.1`.
    Man,
}

#[derive(clap::Args, Debug)]
struct FiltersArgs {
    /// Print the registry as the stable JSON document (docs/filters.md) instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
struct ProbeArgs {
    /// The files to describe.
    #[arg(required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    /// Print the stable JSON document (docs/probe.md) instead of the summary: one object for
    /// one file, an array of them for several.
    #[arg(long)]
    json: bool,
}

/// A chain to check comes from a file or from --chain, never both.
#[derive(clap::Args, Debug)]
#[group(id = "source", required = true, multiple = false)]
struct CheckArgs {
    /// A chain file to check.
    file: Option<PathBuf>,
    /// Chain text to check, instead of a file.
    #[arg(short, long)]
    chain: Option<String>,
}

#[derive(clap::Args, Debug)]
struct ProcessArgs {
    /// The images and videos to read (never modified): files, folders (their media files;
    /// all the way down with --recursive) and glob patterns such as 'shots/**/*.mov'; `-` reads
    /// one from standard input.
    #[arg(required = true, num_args = 1..)]
    inputs: Vec<PathBuf>,
    /// Where to write; the format follows the extension (png, jpg, webp, tiff, bmp, avif; mp4, mkv,
    /// mov, webm, …), or --format; `-` writes to standard output. With several inputs, a folder (mirroring the inputs' tree below it) or a
    /// template with {dir}, {stem}, {ext}, {name}, {index} and {chain}:
    /// -o 'out/{dir}/{stem}_graded.webp'.
    #[arg(short, long, required_unless_present_any = ["discard", "dry_run"])]
    output: Option<PathBuf>,
    /// Descend into the folders given as inputs.
    #[arg(short, long)]
    recursive: bool,
    /// Only the files whose path below their folder (or name) matches this glob; repeatable.
    #[arg(long, value_name = "GLOB", value_parser = batch::parse_glob)]
    include: Vec<glob::Pattern>,
    /// Leave out the files whose path below their folder (or name) matches this glob;
    /// repeatable.
    #[arg(long, value_name = "GLOB", value_parser = batch::parse_glob)]
    exclude: Vec<glob::Pattern>,
    /// Leave the outputs that exist as they are (to finish an interrupted batch).
    #[arg(long, conflicts_with = "overwrite")]
    skip_existing: bool,
    /// Stop at the first file that fails (by default the others go on).
    #[arg(long)]
    fail_fast: bool,
    /// Print what would be written from what, having made every check the real run makes
    /// before decoding (chain, outputs, encoder, container, streams), and process nothing;
    /// files that would fail are named with why, and the exit code is the real run's.
    #[arg(long)]
    dry_run: bool,
    /// Process only shard K of N: a stable share of the inputs, the same on every machine, so
    /// that N runs (a job array) together process every input once.
    #[arg(long, value_name = "K/N", value_parser = batch::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Write a JSON record of the run: every file's input, output, status, error, frames,
    /// pixels, seconds and backend, and the resolved chain (see docs/batch.md).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Print that record on stdout.
    #[arg(long)]
    json: bool,
    /// No progress and no per-file lines; only errors.
    #[arg(short, long)]
    quiet: bool,
    /// Files processed at once (default: one with a GPU; on the CPU, one per four cores).
    #[arg(short, long, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: Option<u64>,
    /// The filter chain, e.g. "gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1)".
    /// Without it (or --chain-file) frames pass through unchanged (a format conversion).
    #[arg(short, long, conflicts_with = "chain_file")]
    chain: Option<String>,
    /// A file holding the chain: stages on lines or separated by `|`, `#` comments,
    /// `let` definitions.
    #[arg(long, value_name = "FILE")]
    chain_file: Option<PathBuf>,
    /// Where filters run: `auto` picks a hardware GPU when there is one, else the CPU.
    #[arg(short, long, value_enum, default_value_t = BackendArg::Auto)]
    backend: BackendArg,
    /// Video encoder, any FFmpeg encoder by name (default libx264).
    #[arg(long, help_heading = "Video encoding")]
    codec: Option<String>,
    /// Constant rate factor for the encoder (default 18 for libx264).
    #[arg(long, help_heading = "Video encoding")]
    crf: Option<u32>,
    /// Encoder preset (default medium for libx264).
    #[arg(long, help_heading = "Video encoding")]
    preset: Option<String>,
    /// Target bit rate in bits per second, with an optional k or M: 800k, 5M.
    #[arg(long, value_parser = parse_bitrate, help_heading = "Video encoding")]
    bitrate: Option<u64>,
    /// Output pixel format by FFmpeg's name: yuv420p, yuv420p10le, yuv444p, … (default yuv420p,
    /// or yuv420p10le for a source deeper than 8 bits where the encoder takes it).
    #[arg(long = "pix-fmt", help_heading = "Video encoding")]
    pix_fmt: Option<String>,
    /// Frames between key frames.
    #[arg(long, help_heading = "Video encoding")]
    gop: Option<u32>,
    /// An encoder option passed as it is, e.g. --encoder-opt tune=film; repeatable. An option the
    /// encoder does not have is an error.
    #[arg(long = "encoder-opt", value_name = "KEY=VALUE", value_parser = parse_option, help_heading = "Video encoding")]
    encoder_opt: Vec<(String, String)>,
    /// Start this far into a video: seconds (90, 1.5, 500ms) or [hh:]mm:ss[.frac]; the output
    /// starts at its first frame at or after it, audio with it.
    #[arg(long, value_parser = parse_time)]
    start: Option<f64>,
    /// Keep this much of a video (seconds or [hh:]mm:ss[.frac]), from --start.
    #[arg(long, value_parser = parse_time)]
    duration: Option<f64>,
    /// The frame rate of an image-sequence input such as frames/%05d.png (default 25).
    #[arg(long)]
    fps: Option<f64>,
    /// Keep at most this many frames of a video (1 or more), from --start.
    #[arg(long, value_parser = parse_frames)]
    frames: Option<u64>,
    /// What to do with damaged input (an image cut short or with corrupt data, a corrupt video
    /// packet, a frame the decoder could only conceal, a file that ends early): `stop` with an
    /// error saying what and where, writing nothing (exit code 1); `skip` the damaged image, or
    /// a video's damaged frames, and count them (a skipped image writes nothing and is no
    /// failure: exit code 0, `skipped` in a batch); or `accept` what the decoder made of the
    /// damaged data and write it, with a warning (a video's frames that could not be decoded at
    /// all are left out and counted).
    #[arg(long = "on-error", value_enum, default_value = "stop")]
    on_error: OnErrorArg,
    /// Turn the pictures upright as the video's rotation tag (display matrix) says, and write
    /// no tag; by default the pictures are kept as they are and the tag is copied. Videos only:
    /// a photo is turned upright by its Exif orientation by default (see --no-auto-orient).
    #[arg(long = "auto-rotate", help_heading = "Video encoding")]
    auto_rotate: bool,
    /// Keep a photo as stored: its pixels unturned and its Exif orientation tag as it is. By
    /// default a photo is turned upright by its Exif orientation and written with orientation
    /// 1. (Videos keep their rotation tag unless --auto-rotate.)
    #[arg(long = "no-auto-orient", help_heading = "Photos")]
    no_auto_orient: bool,
    /// Leave metadata out of image outputs: every block (`--strip`), or those a comma-separated
    /// list names: exif, xmp, icc (`--strip exif,xmp`; repeatable). By default a photo's Exif,
    /// XMP and ICC profile are kept, its Exif orientation and pixel size set to the output's.
    /// Video outputs are untouched by it. Put it after the inputs, or write --strip=LIST, so
    /// that an input is not taken for a list.
    #[arg(
        long,
        value_name = "LIST",
        num_args = 0..=1,
        default_missing_value = "all",
        value_parser = parse_strip,
        help_heading = "Photos"
    )]
    strip: Vec<Strip>,
    /// Leave the input's audio out (it is copied by default).
    #[arg(
        long = "no-audio",
        conflicts_with = "audio_codec",
        help_heading = "Video encoding"
    )]
    no_audio: bool,
    /// Re-encode the audio with this FFmpeg encoder (aac, libopus, libmp3lame, flac, …) instead
    /// of copying it, e.g. for a container that cannot hold the input's audio.
    #[arg(long = "audio-codec", help_heading = "Video encoding")]
    audio_codec: Option<String>,
    /// Quality from 0 to 100 for JPEG (default 85), a TIFF with --tiff-compression jpeg
    /// (default 85), lossy WebP (default 75, as libwebp and vips) and AVIF (default 60, as
    /// libavif); higher is closer to the source and larger. Also for the images of a sequence
    /// (frames/%05d.webp, frames/%05d.jpg: libjpeg's tables for that quality).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100), help_heading = "Image encoding")]
    quality: Option<u8>,
    /// Lossless WebP or AVIF (both are lossy by default); a lossless AVIF keeps 8-bit RGB and
    /// alpha exactly, and 16-bit pictures at 12 bits.
    #[arg(long, help_heading = "Image encoding")]
    lossless: bool,
    /// How hard the WebP or AVIF encoder works for a smaller file, 0 (fastest) to 9 (smallest).
    /// WebP: default 6; effort×2/3, rounded, is libwebp's method 0–6 (6 → method 4). AVIF:
    /// default 4; libavif's speed is 10 − effort×10/9, rounded (4 → speed 6, its default).
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9), help_heading = "Image encoding")]
    effort: Option<u8>,
    /// JPEG chroma subsampling (also of a TIFF with --tiff-compression jpeg): 444, 422 or 420.
    /// Default: 420 below quality 90, 444 from 90 (as vips), where the colour detail 4:2:0
    /// drops is the largest error left.
    #[arg(long, value_name = "444|422|420", value_parser = parse_subsampling, help_heading = "Image encoding")]
    subsampling: Option<tessera::media::encoders::Subsampling>,
    /// A progressive JPEG (baseline by default, which every decoder reads). JPEGs always get
    /// optimised Huffman tables.
    #[arg(long, help_heading = "Image encoding")]
    progressive: bool,
    /// PNG zlib level: 0 (stored, fastest, largest) to 9 (smallest, slowest); default 6.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=9), help_heading = "Image encoding")]
    compression: Option<u8>,
    /// A PNG compressed for speed (fdeflate): several times faster than level 6, somewhat
    /// larger.
    #[arg(long, help_heading = "Image encoding")]
    fast: bool,
    /// TIFF compression: none (default, as vips), lzw or deflate (both lossless, with the
    /// horizontal predictor), or jpeg: lossy, 8-bit, Y′CbCr or grey, alpha flattened onto
    /// --background, with --quality (default 85) and --subsampling as for a .jpg.
    #[arg(long = "tiff-compression", value_name = "none|lzw|deflate|jpeg", value_parser = parse_tiff_compression, help_heading = "Image encoding")]
    tiff_compression: Option<tessera::media::encoders::TiffCompression>,
    /// A tiled TIFF instead of strips: tiles of 256×256, or --tiff-tile=N (square) or
    /// --tiff-tile=WxH, multiples of 16. Any --tiff-compression applies to each tile.
    #[arg(long = "tiff-tile", value_name = "SIZE", num_args = 0..=1, require_equals = true, default_missing_value = "256", value_parser = tessera::media::tiff_file::parse_tile, help_heading = "Image encoding")]
    tiff_tile: Option<(u32, u32)>,
    /// A pyramid TIFF (tiled): after the full-size image, each next image half the size of the
    /// last (2×2 means), down to one that fits in a tile, as `vips tiffsave --pyramid`.
    #[arg(long = "tiff-pyramid", help_heading = "Image encoding")]
    tiff_pyramid: bool,
    /// The colour transparent parts are flattened onto where the format has no alpha (JPEG, and
    /// TIFF with --tiff-compression jpeg):
    /// #rrggbb, #rgb, white, black, grey, red, green or blue; default white. The report warns
    /// when alpha was flattened.
    #[arg(long, value_name = "COLOR", value_parser = tessera::media::encoders::parse_colour, help_heading = "Image encoding")]
    background: Option<[u8; 3]>,
    /// Decode and filter everything, write nothing (benchmarks, dry runs).
    #[arg(long, conflicts_with = "output")]
    discard: bool,
    /// Replace the output if it exists.
    #[arg(long)]
    overwrite: bool,
    /// Refuse a still picture larger than this many pixels, as read or as the chain makes it
    /// (k, M, G: thousands, millions, billions; e.g. 100M). No limit by default.
    #[arg(long = "max-pixels", value_name = "N", value_parser = parse_pixels)]
    max_pixels: Option<u64>,
    /// The most memory a still's pictures may take at once (k, M, G, T: KiB, MiB, GiB, TiB;
    /// e.g. 2G). Default: half of this machine's memory. A picture that would need more is
    /// refused before it is decoded.
    #[arg(long = "max-memory", value_name = "SIZE", value_parser = parse_memory)]
    max_memory: Option<u64>,
    /// The output's format where its name cannot say: with -o - (standard output) or a name
    /// without an extension. An image format (png, jpg, webp, tiff, bmp, avif) or an FFmpeg muxer by
    /// name (matroska, mp4, mov, webm, mpegts, nut, yuv4mpegpipe, …).
    #[arg(long, value_name = "NAME")]
    format: Option<String>,
    /// At the end, print the time each stage spent working and waiting, how full the queues
    /// between them ran, and the most memory the run held.
    #[arg(long)]
    stats: bool,
    /// Filter and write a photo in its own colour space, its ICC profile kept, instead of
    /// converting a tagged photo (Adobe RGB, Display P3, ProPhoto, …) to sRGB.
    #[arg(long = "keep-profile", help_heading = "Photos")]
    keep_profile: bool,
    /// Convert the picture to this ICC profile's RGB space after the chain, and embed the
    /// profile in the output.
    #[arg(long, value_name = "FILE.icc", help_heading = "Photos")]
    profile: Option<PathBuf>,
    /// The rendering intent of colour conversions: how colours outside the destination's
    /// gamut are brought in.
    #[arg(long, value_enum, default_value = "relative", help_heading = "Photos")]
    intent: IntentArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum IntentArg {
    /// Compress the whole gamut into the destination's.
    Perceptual,
    /// Keep in-gamut colours exactly, clip the rest (vips' and ImageMagick's default).
    Relative,
    /// Keep saturated colours saturated.
    Saturation,
    /// As relative, without adapting the white point.
    Absolute,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OnErrorArg {
    Stop,
    Skip,
    Accept,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum BackendArg {
    Auto,
    Cpu,
    Gpu,
}

impl BackendArg {
    fn choice(self) -> BackendChoice {
        match self {
            BackendArg::Auto => BackendChoice::Auto,
            BackendArg::Cpu => BackendChoice::Cpu,
            BackendArg::Gpu => BackendChoice::Gpu,
        }
    }
}

/// The manual page: the command's own sections, a list of the subcommands, then each
/// subcommand's synopsis, description and options in a section of this page, all from the
/// argument definitions. (clap_mangen's own list would point at `tessera-process(1)` pages,
/// which are not made.)
fn manual() -> std::io::Result<Vec<u8>> {
    use clap::CommandFactory;
    let command = Cli::command();
    let page = clap_mangen::Man::new(command.clone());
    let mut out = Vec::new();
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_options_section(&mut out)?;
    out.extend_from_slice(b".SH SUBCOMMANDS\n");
    for sub in command.get_subcommands() {
        let name = format!("tessera {}", sub.get_name());
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.extend_from_slice(
            format!(
                ".TP\n\\fB{}\\fR\n{}; see {} below.\n",
                roff_text(&name),
                roff_text(about.trim_end_matches('.')),
                roff_text(&name.to_uppercase())
            )
            .as_bytes(),
        );
    }
    page.render_version_section(&mut out)?;
    for sub in command.get_subcommands() {
        let name = format!("tessera {}", sub.get_name());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let page = clap_mangen::Man::new(sub.clone().name(name.clone()));
        page.render_synopsis_section(&mut out)?;
        page.render_description_section(&mut out)?;
        page.render_options_section(&mut out)?;
    }
    Ok(out)
}

/// Text for a roff line: backslashes and hyphens escaped, a leading `.` or `'` (a request)
/// made plain.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

fn parse_pixels(text: &str) -> Result<u64, String> {
    tessera::limits::parse_amount(text, true)
}

fn parse_memory(text: &str) -> Result<u64, String> {
    tessera::limits::parse_amount(text, false)
}

fn parse_subsampling(text: &str) -> Result<tessera::media::encoders::Subsampling, String> {
    text.parse()
}

fn parse_tiff_compression(text: &str) -> Result<tessera::media::encoders::TiffCompression, String> {
    text.parse()
}

fn parse_strip(text: &str) -> Result<Strip, String> {
    Strip::parse(text)
}

/// `800k`, `5M`, `2.5M` or a plain number of bits per second.
fn parse_bitrate(text: &str) -> Result<u64, String> {
    let (number, scale) = match text.strip_suffix(['k', 'K']) {
        Some(n) => (n, 1e3),
        None => match text.strip_suffix(['m', 'M']) {
            Some(n) => (n, 1e6),
            None => (text, 1.0),
        },
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v * scale < 1e12 => Ok((v * scale).round() as u64),
        _ => Err(format!(
            "'{text}' is not a bit rate (write it as 800k, 5M or 2500000)"
        )),
    }
}

/// A time: seconds with an optional unit (`90`, `1.5s`, `500ms`) or `[hh:]mm:ss[.frac]`.
fn parse_time(text: &str) -> Result<f64, String> {
    let bad = || format!("'{text}' is not a time (write 90, 1.5s, 500ms or 1:30)");
    let seconds = if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 3 {
            return Err(bad());
        }
        let mut total = 0.0;
        for (i, part) in parts.iter().enumerate() {
            let v: f64 = part.parse().map_err(|_| bad())?;
            // Minutes and seconds below 60 after the first field.
            if v < 0.0 || (i > 0 && v >= 60.0) {
                return Err(bad());
            }
            total = total * 60.0 + v;
        }
        total
    } else if let Some(ms) = text.strip_suffix("ms") {
        ms.parse::<f64>().map_err(|_| bad())? / 1000.0
    } else {
        text.strip_suffix('s')
            .unwrap_or(text)
            .parse::<f64>()
            .map_err(|_| bad())?
    };
    if seconds.is_finite() && seconds >= 0.0 {
        Ok(seconds)
    } else {
        Err(bad())
    }
}

/// A count of frames to keep: 1 or more.
fn parse_frames(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("a count of 0 keeps nothing (write 1 or more)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "'{text}' is not a number of frames (write 1 or more)"
        )),
    }
}

/// `key=value`, the key not empty.
fn parse_option(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("'{text}' is not key=value (e.g. tune=film)")),
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(hint) = habits::find(&args, takes_value) {
        eprintln!("{hint}");
        return 2;
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    // -q: only errors; warnings (damage accepted, streams left out) are in the report.
    let quiet = matches!(&cli.command, Command::Process(args) if args.quiet);
    log::init(cli.verbose, quiet);
    // What the listing commands print on stdout (filters, probe, check, completions, the manual
    // page) goes where the user sends it; when the reader goes away (`| head`), they end
    // quietly as any Unix tool does, killed by SIGPIPE. `process` keeps the signal ignored (its
    // own pipes, such as the one standard input is read through, must not kill it) and stops
    // on the write error itself, removing its temporary files.
    #[cfg(unix)]
    if !matches!(&cli.command, Command::Process(_)) {
        // SAFETY: sets the disposition of one signal to its default before any thread that
        // could be writing to stdout exists.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    match cli.command {
        Command::Filters(args) => {
            let text = if args.json {
                filters::json() + "\n"
            } else {
                filters::listing()
            };
            // A closed pipe (`tessera filters | head`) is not an error.
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            0
        }
        Command::Process(args) => process(*args),
        Command::Probe(args) => probe::run(&args.files, args.json),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "tessera",
                &mut std::io::stdout(),
            );
            0
        }
        Command::Man => match manual() {
            Ok(out) => {
                use std::io::Write;
                let _ = std::io::stdout().write_all(&out);
                0
            }
            Err(e) => {
                eprintln!("error: cannot write the manual page: {e}");
                1
            }
        },
        Command::Check(args) => match load_chain(args.chain, args.file) {
            Ok(chain) => {
                println!("{}", chain.to_text());
                0
            }
            Err(code) => code,
        },
    }
}

/// True when `flag` (`-o`, `--chain`) is an option of `tessera process` that takes a value.
fn takes_value(flag: &str) -> bool {
    use clap::CommandFactory;
    let command = Cli::command();
    let Some(process) = command.find_subcommand("process") else {
        return false;
    };
    let takes = process
        .get_arguments()
        .chain(command.get_arguments())
        .filter(|a| a.get_action().takes_values())
        .any(|a| match flag.strip_prefix("--") {
            Some(long) => a.get_long() == Some(long),
            None => flag.len() == 2 && a.get_short() == flag.chars().nth(1),
        });
    takes
}

/// The chain from inline text or a file (none: the empty chain); on failure its errors are
/// printed and the exit code returned.
fn load_chain(text: Option<String>, file: Option<PathBuf>) -> Result<Chain, i32> {
    let (source, origin) = match (text, file) {
        (Some(text), _) => (text, None),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) => (text, Some(path.display().to_string())),
            Err(e) => {
                eprintln!("error: cannot read the chain file {}: {e}", path.display());
                return Err(2);
            }
        },
        (None, None) => (String::new(), None),
    };
    match Chain::parse_all(&source) {
        Ok(mut chain) => {
            chain.origin = origin;
            Ok(chain)
        }
        Err(errors) => {
            eprintln!("{}", render_all(&errors, &source, origin.as_deref()));
            Err(2)
        }
    }
}

/// The exit code of a run stopped by Ctrl-C or SIGTERM, as shells report a SIGINT.
const INTERRUPTED: i32 = 130;
/// The exit code of a run whose output pipe was closed by its reader, as shells report a
/// process ended by SIGPIPE.
const CLOSED_PIPE: i32 = 141;

/// Writes `text` to stdout; when its reader has gone, ends the process quietly with SIGPIPE's
/// exit code, as the listing commands end.
fn print_or_stop(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_PIPE);
        }
        eprintln!("error: cannot write to stdout: {e}");
    }
}

/// True when `-o` names standard output: `-`, or FFmpeg's `pipe:1`.
fn is_stdout(path: &std::path::Path) -> bool {
    matches!(path.to_str(), Some("-" | "pipe:1"))
}

fn process(args: ProcessArgs) -> i32 {
    // Ctrl-C (SIGINT) or SIGTERM: the file in progress stops and leaves no output, finished
    // ones stay, and the summary and report are written. The stop is the whole process's: it
    // exits after.
    let _ = ctrlc::set_handler(job::request_stop);
    let chain = match load_chain(args.chain.clone(), args.chain_file.clone()) {
        Ok(chain) => chain,
        Err(code) => return code,
    };
    let stdin = args
        .inputs
        .iter()
        .any(|i| tessera::media::stdin::is_stdin(i));
    let stdout = args.output.as_deref().is_some_and(is_stdout);
    if stdin && args.inputs.len() > 1 {
        return usage("standard input (-) can only be the one input".into());
    }
    if stdin && (args.dry_run || args.shard.is_some()) {
        return usage(
            "--dry-run and --shard work on files; standard input (-) can be read only once".into(),
        );
    }
    if stdout && args.json {
        return usage("--json prints on standard output, which -o - takes for the picture".into());
    }
    if stdin && (args.report.is_some() || args.json) {
        return usage("--report and --json record files; standard input (-) is not one".into());
    }
    let several = args.inputs.len() > 1
        || args
            .inputs
            .iter()
            .any(|i| i.is_dir() || batch::is_pattern(i))
        || args
            .output
            .as_ref()
            .is_some_and(|o| o.is_dir() || o.to_string_lossy().contains('{'));
    let batch =
        several || args.dry_run || args.shard.is_some() || args.report.is_some() || args.json;
    if batch {
        return run_batch(&args, chain, !several);
    }
    let output = match &args.output {
        Some(path) if !args.discard && is_stdout(path) => Output::Stdout,
        Some(path) if !args.discard => Output::File(path.clone()),
        _ => Output::Discard,
    };
    let job = make_job(&args, args.inputs[0].clone(), output, chain);
    let quiet = args.quiet;
    let mut announce = |backend: &str| {
        if !quiet {
            eprintln!("tessera: backend {backend}")
        }
    };
    match job::run(&job, &mut announce) {
        Ok(_) if quiet => 0,
        Ok(report) if report.left_out.is_some() => {
            eprintln!(
                "tessera: skipped {}: {}; nothing written (--on-error skip)",
                job.input.display(),
                report.left_out.as_deref().unwrap_or_default()
            );
            0
        }
        Ok(report) => {
            let (iw, ih) = report.input_size;
            let (ow, oh) = report.output_size;
            let fps = report.frames as f64 / report.seconds.max(1e-9);
            eprintln!(
                "tessera: {} frame{} {iw}x{ih} -> {ow}x{oh} in {:.2} s ({fps:.1} fps)",
                report.frames,
                if report.frames == 1 { "" } else { "s" },
                report.seconds
            );
            if report.skipped > 0 {
                eprintln!(
                    "tessera: left out {} damaged frame{}",
                    report.skipped,
                    if report.skipped == 1 { "" } else { "s" }
                );
            }
            if args.stats {
                eprint!("{}", stats::render(&report.stages, report.seconds));
                if let Some(bytes) = stats::peak_memory() {
                    eprintln!("peak memory {}", tessera::limits::bytes_text(bytes));
                }
            }
            0
        }
        Err(Error::Interrupted) => {
            match &job.output {
                job::Output::File(out) => eprintln!(
                    "tessera: interrupted; {} was not written ({} is untouched)",
                    out.display(),
                    job.input.display()
                ),
                job::Output::Discard => {
                    eprintln!("tessera: interrupted while reading {}", job.input.display())
                }
                job::Output::Stdout => {
                    eprintln!("tessera: interrupted; what was written to stdout is incomplete")
                }
            }
            INTERRUPTED
        }
        Err(Error::Media(tessera::media::MediaError::Closed { path })) => {
            // As any program whose reader went away (`| head -c 1000`): quietly, with the exit
            // code of SIGPIPE.
            tracing::info!("{path} was closed by its reader; stopped");
            CLOSED_PIPE
        }
        Err(e) => {
            eprintln!("{}", describe(&e, &job.chain));
            if e.is_usage() {
                2
            } else {
                1
            }
        }
    }
}

/// One file's job with the command line's settings.
fn make_job(args: &ProcessArgs, input: PathBuf, output: Output, chain: Chain) -> Job {
    Job {
        input,
        output,
        chain,
        backend: args.backend.choice(),
        image: ImageSettings {
            quality: args.quality,
            lossless: args.lossless,
            effort: args.effort,
            subsampling: args.subsampling,
            progressive: args.progressive,
            compression: args.compression,
            fast: args.fast,
            tiff_compression: args.tiff_compression,
            tiff_tile: args.tiff_tile,
            tiff_pyramid: args.tiff_pyramid,
            background: args.background,
        },
        photo: PhotoOptions {
            auto_orient: !args.no_auto_orient,
            strip: args
                .strip
                .iter()
                .fold(Strip::default(), |all, s| all.union(*s)),
            keep_profile: args.keep_profile,
            profile: args.profile.clone(),
            intent: match args.intent {
                IntentArg::Perceptual => Intent::Perceptual,
                IntentArg::Relative => Intent::Relative,
                IntentArg::Saturation => Intent::Saturation,
                IntentArg::Absolute => Intent::Absolute,
            },
        },
        encode: EncodeSettings {
            codec: args.codec.clone(),
            crf: args.crf,
            preset: args.preset.clone(),
            bitrate: args.bitrate,
            pix_fmt: args.pix_fmt.clone(),
            gop: args.gop,
            options: args.encoder_opt.clone(),
            no_audio: args.no_audio,
            audio_codec: args.audio_codec.clone(),
            auto_rotate: args.auto_rotate,
            format: args.format.clone(),
            jpeg_tables: None,
        },
        trim: Trim {
            start: args.start.unwrap_or(0.0),
            duration: args.duration,
            frames: args.frames,
        },
        on_error: match args.on_error {
            OnErrorArg::Stop => OnError::Stop,
            OnErrorArg::Skip => OnError::Skip,
            OnErrorArg::Accept => OnError::Accept,
        },
        fps: args.fps,
        gpu: None,
        progress: None,
        overwrite: args.overwrite,
        limits: tessera::limits::Limits {
            max_pixels: args.max_pixels,
            max_memory: args
                .max_memory
                .unwrap_or_else(tessera::limits::default_max_memory),
        },
        // Ctrl-C stops the whole process (`job::request_stop`), which every run's stop sees.
        stop: job::Stop::default(),
    }
}

fn usage(message: String) -> i32 {
    eprintln!("error: {message}");
    2
}

/// What the command line shows of a batch as it runs: a bar for each file, a line (or an
/// error's lines) as each one ends.
struct Shown<'a> {
    bars: &'a log::Bars,
    chain: &'a Chain,
    total: usize,
    fail_fast: bool,
    stopping: std::sync::atomic::AtomicBool,
}

impl batch::Watch for Shown<'_> {
    fn file(
        &self,
        entry: &batch::Entry,
        progress: &job::Progress,
        work: &mut dyn FnMut() -> Result<job::Report, Error>,
    ) -> Result<job::Report, Error> {
        self.bars
            .watch(&entry.item.input.display().to_string(), progress, work)
    }

    fn finished(&self, entry: &batch::Entry, record: &batch::FileRecord, error: Option<&Error>) {
        let (n, total, bars) = (entry.place + 1, self.total, self.bars);
        let input = entry.item.input.display();
        match (record.status, error) {
            (batch::Status::Skipped, _) => bars.line(format!(
                "tessera: [{n}/{total}] skipped {input}: {}; nothing written",
                record.error.as_deref().unwrap_or_default()
            )),
            (batch::Status::Interrupted, _) => bars.error(match record.output.as_deref() {
                Some(out) => {
                    format!("tessera: [{n}/{total}] {input} interrupted; {out} was not written")
                }
                None => format!("tessera: [{n}/{total}] {input} interrupted"),
            }),
            (batch::Status::Failed, Some(e)) => bars.error(format!(
                "tessera: [{n}/{total}] {input} failed:\n{}",
                describe(e, self.chain)
            )),
            _ => bars.line(format!(
                "tessera: [{n}/{total}] {input} -> {}: {} frame{} in {:.2} s",
                record.output.as_deref().unwrap_or("(discarded)"),
                record.frames,
                if record.frames == 1 { "" } else { "s" },
                record.seconds
            )),
        }
        let failed = record.status == batch::Status::Failed;
        bars.file_done(failed);
        if failed
            && self.fail_fast
            && !self
                .stopping
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            eprintln!("tessera: stopping at the first failure (--fail-fast)");
        }
    }
}

/// Many files: expanded, named and checked before any work, then processed a few at a time; a
/// failing file is reported and the others go on (unless --fail-fast). `one_file`: a single
/// input file to a single output file, run as a batch for its report or dry run.
fn run_batch(args: &ProcessArgs, chain: Chain, one_file: bool) -> i32 {
    let started = std::time::Instant::now();
    let target = match (&args.output, args.discard) {
        (Some(o), false) if one_file => Some(batch::Target::File(o.clone())),
        (Some(o), false) => Some(batch::Target::of(o)),
        _ => None,
    };
    let request = batch::Request {
        find: batch::Find {
            inputs: &args.inputs,
            recursive: args.recursive,
            include: &args.include,
            exclude: &args.exclude,
        },
        shard: args.shard,
        target,
        skip_existing: args.skip_existing,
        overwrite: args.overwrite,
    };
    let make = |entry: &batch::Entry| {
        make_job(
            args,
            entry.item.input.clone(),
            entry.job_output(),
            chain.clone(),
        )
    };
    let planned = match batch::plan(&request, &chain, &make) {
        Ok(planned) => planned,
        Err(message) => return usage(message),
    };
    if !args.quiet {
        for r in &planned.skipped {
            eprintln!(
                "tessera: skipped {}: {}",
                r.input,
                r.error.as_deref().unwrap_or("")
            );
        }
    }
    let total = planned.work.len();
    let choice = args.backend.choice();
    // One GPU device serves every file; where none opens, each file's run says why (`gpu`) or
    // takes the CPU (`auto`). Opened before the bars exist: the probe briefly takes over stderr.
    let gpu = match choice {
        BackendChoice::Gpu if total > 0 => GpuDevice::open(AdapterPolicy::Any).ok(),
        BackendChoice::Auto if total > 0 => GpuDevice::open(AdapterPolicy::HardwareOnly).ok(),
        _ => None,
    };
    let with_gpu = |entry: &batch::Entry| {
        let mut job = make(entry);
        job.gpu = gpu.clone();
        job
    };
    if args.dry_run {
        return dry_run(&chain, &with_gpu, &planned.work, planned.skipped.len());
    }
    let bars = log::Bars::new(args.quiet, total);
    let jobs = args
        .jobs
        .map_or_else(|| batch::default_jobs(choice), |j| j as usize);
    let shown = Shown {
        bars: &bars,
        chain: &chain,
        total,
        fail_fast: args.fail_fast,
        stopping: false.into(),
    };
    let mut records = planned.skipped;
    records.extend(batch::run(
        planned.work,
        jobs,
        args.fail_fast,
        &with_gpu,
        &shown,
        &job::Stop::default(),
    ));
    let seconds = started.elapsed().as_secs_f64();
    let record = batch::RunRecord::new(chain.to_text(), args.shard, records, seconds);
    let warned = record
        .files
        .iter()
        .filter(|r| !r.warnings.is_empty())
        .count();
    let frames: u64 = record.files.iter().map(|r| r.frames).sum();
    bars.finish();
    let (processed, skipped, failed) = (record.processed, record.skipped, record.failed);
    let (interrupted, not_started) = (record.interrupted, record.not_started);
    if !args.quiet || failed + interrupted + not_started > 0 {
        let with_warnings = match warned {
            0 => String::new(),
            n => format!(" ({n} with warnings)"),
        };
        let mut summary =
            format!("{processed} processed{with_warnings}, {skipped} skipped, {failed} failed");
        if interrupted > 0 {
            summary += &format!(", {interrupted} interrupted");
        }
        if not_started > 0 {
            summary += &format!(", {not_started} not started");
        }
        eprintln!(
            "tessera: {summary} in {seconds:.2} s ({:.1} frames/s)",
            frames as f64 / seconds.max(1e-9)
        );
    }
    let json = record.to_json();
    if let Some(path) = &args.report {
        if let Err(e) = std::fs::write(path, &json) {
            eprintln!("error: cannot write the report {}: {e}", path.display());
            return 1;
        }
    }
    if args.json {
        print_or_stop(&format!("{json}\n"));
    }
    if job::stop_requested() {
        eprintln!("tessera: interrupted; rerun with --skip-existing to finish the rest");
        INTERRUPTED
    } else if failed > 0 {
        1
    } else {
        0
    }
}

/// `--dry-run`: each file's job checked as the real run checks it before decoding (see
/// [`job::check`]) and listed as `input -> output`, or with why it would fail. Exit code 0 when
/// every file would be processed, else that of the worst failure.
fn dry_run(
    chain: &Chain,
    job: &dyn Fn(&batch::Entry) -> Job,
    work: &[batch::Entry],
    skipped: usize,
) -> i32 {
    let mut failing = 0;
    let mut code = 0;
    for entry in work {
        let input = entry.item.input.display();
        let shown = match &entry.output {
            Some(output) => output.display().to_string(),
            None => "(discarded)".to_string(),
        };
        match job::check(&job(entry)) {
            Ok(checked) => {
                let (w, h) = checked.output_size;
                tracing::info!("{input}: the output would be {w}x{h}");
                print_or_stop(&format!("{input} -> {shown}\n"));
                for warning in &checked.warnings {
                    eprintln!("tessera: {input}: {warning}");
                }
            }
            Err(e) => {
                failing += 1;
                code = code.max(if e.is_usage() { 2 } else { 1 });
                eprintln!(
                    "tessera: {input} -> {shown} would fail:\n{}",
                    describe(&e, chain)
                );
            }
        }
    }
    let fine = work.len() - failing;
    eprintln!(
        "tessera: would process {fine} file{}, skip {skipped}{}",
        if fine == 1 { "" } else { "s" },
        if failing > 0 {
            format!("; {failing} would fail")
        } else {
            String::new()
        }
    );
    code
}

/// The error as the user reads it: chain and plan errors point into the chain text, every
/// other error lists its causes.
fn describe(error: &Error, chain: &Chain) -> String {
    match error {
        Error::Chain(e) => e.render_in(&chain.source, chain.origin.as_deref()),
        Error::Plan(e) => tessera::chain::ChainError::new(e.to_string(), e.span)
            .render_in(&chain.source, chain.origin.as_deref()),
        other => format!("error: {}", tessera::error::with_causes(other)),
    }
}
