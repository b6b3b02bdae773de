//! How large a run may grow (`--max-pixels`, `--max-memory`), and the check that refuses a
//! picture, or what a chain makes of it, before anything is decoded. The memory is the frames
//! tessera holds at once, estimated from the plan: a still is held whole, from reading to
//! writing; a video's frames stream through its stages one at a time. What a codec holds on its
//! own (an encoder's lookahead, mozjpeg's coefficients) comes on top.

use std::path::Path;

use crate::frame::Format;
use crate::media::{self, MediaError};
use crate::plan::Plan;

/// How large a run may grow: checked against the chain's plan for the input's format before
/// anything is decoded, so that a picture too large for the machine (or a header that claims
/// one) is refused without allocating it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most pixels a picture may have, as read or as any pass of the chain makes it
    /// (`--max-pixels`); no limit by default.
    pub max_pixels: Option<u64>,
    /// The most memory the frames of a run may hold at once, as [`check`] estimates it
    /// (`--max-memory`); by default half of the machine's memory.
    pub max_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: None,
            max_memory: default_max_memory(),
        }
    }
}

/// Half of the machine's physical memory; 4 GiB where it cannot be read.
pub fn default_max_memory() -> u64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads system constants.
        let (pages, size) = unsafe {
            (
                libc::sysconf(libc::_SC_PHYS_PAGES),
                libc::sysconf(libc::_SC_PAGESIZE),
            )
        };
        if pages > 0 && size > 0 {
            return pages as u64 * size as u64 / 2;
        }
    }
    4 << 30
}

/// Bytes as people read them: `512 B`, `3.2 MiB`, `1.5 GiB`.
pub fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A count with an optional suffix: `k`, `M`, `G`, `T` (powers of 1000 for `decimal`, of 1024
/// otherwise; `KiB`, `MB` and the like are read the same), e.g. `100M`, `2G`, `1.5GiB`.
pub fn parse_amount(text: &str, decimal: bool) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, suffix) = trimmed.split_at(digits_end);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not an amount (such as 500M or 2G)"))?;
    let base: f64 = if decimal { 1000.0 } else { 1024.0 };
    let power = match suffix
        .trim()
        .trim_end_matches(['b', 'B'])
        .trim_end_matches('i')
        .to_ascii_lowercase()
        .as_str()
    {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        _ => {
            return Err(format!(
                "'{text}': the suffix '{suffix}' is not k, M, G or T"
            ))
        }
    };
    let amount = number * base.powi(power);
    if !(1.0..=u64::MAX as f64).contains(&amount) {
        return Err(format!("'{text}' is out of range"));
    }
    Ok(amount as u64)
}

/// What a run holds besides the passes' frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// A still, whole: reading holds the file, the decoded samples and the frame's planes;
    /// writing the output frame, its samples interleaved for the encoder and the encoded file
    /// (at most as large as the samples).
    Still,
    /// A video's frames in flight: the decoder's picture and its planes, the converted frame,
    /// the filtered one, the encoder's copy and the one recycled, each stage holding one.
    Video,
    /// A still run in bands of rows ([`crate::stream`]): what one band holds at once, from
    /// [`band_bytes`].
    Bands(u64),
}

/// What a still run in bands holds at once: a band's rows through its strip plan `band` (as
/// [`Held::Still`] counts a whole picture), the rows read ahead of it, and where the output's
/// encoder takes whole pictures, the `output` put together and its encoded copy.
pub fn band_bytes(band: &Plan, whole_output: Option<&Format>) -> u64 {
    let (peak, _) = peak_memory(0, band, Held::Still);
    peak + frame_bytes(&band.input) + whole_output.map_or(0, |f| 2 * frame_bytes(f))
}

/// The bytes of a frame of `format`.
fn frame_bytes(format: &Format) -> u64 {
    format.samples_len() as u64 * if format.is_wide() { 2 } else { 1 }
}

/// The memory a run of `plan` holds at its peak, and the step where.
fn peak_memory(file_bytes: u64, plan: &Plan, held: Held) -> (u64, String) {
    let (input, output) = (frame_bytes(&plan.input), frame_bytes(&plan.output));
    let widest = plan
        .passes
        .iter()
        .enumerate()
        .map(|(i, p)| (frame_bytes(&p.input) + frame_bytes(&p.output), i))
        .max();
    match held {
        Held::Still => {
            let mut peak = (file_bytes + 2 * input, "reading it".to_string());
            if let Some((bytes, i)) = widest.filter(|&(bytes, _)| bytes > peak.0) {
                peak = (
                    bytes,
                    format!("filtering, at pass {} of {}", i + 1, plan.passes.len()),
                );
            }
            if 3 * output > peak.0 {
                peak = (3 * output, "writing it".to_string());
            }
            peak
        }
        Held::Bands(bytes) => (bytes, "a band of rows at a time".to_string()),
        Held::Video => {
            let filtering = widest.map_or(input, |(bytes, _)| bytes);
            (
                3 * input + filtering + 3 * output,
                "its frames in flight from the decoder to the encoder".to_string(),
            )
        }
    }
}

/// Refuses `input` where its picture, or a picture the chain makes (`plan`), is over
/// `--max-pixels`, or where the run would hold more than `--max-memory`, saying what to change.
/// Nothing is decoded: `plan` is compiled for the format the header says.
pub fn check(input: &Path, limits: &Limits, plan: &Plan, held: Held) -> Result<(), MediaError> {
    let too_large = |message: String| MediaError::TooLarge {
        path: media::display(input),
        message,
    };
    let pixels = |f: &Format| u64::from(f.width) * u64::from(f.height);
    let picture = match held {
        Held::Still | Held::Bands(_) => "picture",
        Held::Video => "video's frames",
    };
    if let Some(max) = limits.max_pixels {
        let f = &plan.input;
        if pixels(f) > max {
            return Err(too_large(format!(
                "the {picture} {} {}x{}, {} pixels, more than --max-pixels {max}; raise \
                 --max-pixels to read it",
                if held == Held::Video { "are" } else { "is" },
                f.width,
                f.height,
                pixels(f)
            )));
        }
        if let Some(pass) = plan.passes.iter().find(|p| pixels(&p.output) > max) {
            return Err(too_large(format!(
                "the chain makes {}x{} pictures, {} pixels, more than --max-pixels {max}; \
                 raise --max-pixels, or make the chain's result smaller",
                pass.output.width,
                pass.output.height,
                pixels(&pass.output)
            )));
        }
    }
    let file_bytes = match held {
        Held::Still => std::fs::metadata(input).map_or(0, |m| m.len()),
        Held::Video | Held::Bands(_) => 0,
    };
    let (needed, step) = peak_memory(file_bytes, plan, held);
    if needed > limits.max_memory {
        let what = match held {
            Held::Still => format!(
                "a {}x{} picture needs about {} at once ({step}; tessera holds whole pictures)",
                plan.input.width,
                plan.input.height,
                bytes_text(needed)
            ),
            Held::Bands(_) => format!(
                "a {}x{} picture needs about {} at once ({step}, with the chain's halo)",
                plan.input.width,
                plan.input.height,
                bytes_text(needed)
            ),
            Held::Video => format!(
                "{}x{} video frames need about {} at once ({step})",
                plan.input.width,
                plan.input.height,
                bytes_text(needed)
            ),
        };
        return Err(too_large(format!(
            "{what}, more than --max-memory {}{}; raise --max-memory if the machine has it",
            bytes_text(limits.max_memory),
            if limits.max_memory == default_max_memory() {
                " (the default: half of this machine's memory)"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_their_suffixes() {
        assert_eq!(parse_amount("100M", true), Ok(100_000_000));
        assert_eq!(parse_amount("2G", false), Ok(2 << 30));
        assert_eq!(parse_amount("1.5GiB", false), Ok(3 << 29));
        assert_eq!(parse_amount("512 MB", false), Ok(512 << 20));
        assert_eq!(parse_amount("4096", false), Ok(4096));
        assert!(parse_amount("lots", false).is_err());
        assert!(parse_amount("5X", true).is_err());
        assert!(parse_amount("0", true).is_err());
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(3 << 29), "1.5 GiB");
    }
}
