//! The still path in bands, as libvips runs a pipeline: the decoder hands over rows as it reads
//! them ([`media::rows::RowReader`]), the plan runs strip by strip on just the rows each band
//! of output needs ([`Plan::strip`]: its halo added, the rows no later band reads dropped), and
//! the encoder takes each band as it comes ([`media::rows::RowWriter`]). The memory held is a
//! band's rows with their halo at every stage, whatever the picture's height; the samples are
//! the whole picture's.

use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::error::Error;
use crate::frame::Frame;
use crate::job::Stop;
use crate::media::rows::{RowReader, RowWriter};
use crate::media::MediaError;
use crate::plan::Plan;

/// Input rows a band reads at least, before the chain's halo and resizes: enough that each
/// band's work spreads over the cores. Measured on 5000- to 8000-pixel-wide RGB (see
/// docs/images.md): 1 MiB bands hold 47 MiB where 4 MiB ones held 77 (the process itself is 33)
/// at the same speed, for chains whose halo is a few rows.
const BAND_BYTES: u64 = 1 << 20;
/// The most input a band grows to so that its halo stays a small part of its work.
const MAX_BAND_BYTES: u64 = 16 << 20;
/// The work a band may do over what its own rows need (the rows of the halo each pass makes
/// again for the next band) before it is made taller: half as much again. Measured on an
/// 8000² RGB TIFF: `gblur(2) | unsharp` (1.42 in 1 MiB bands) takes the CPU time it takes in
/// 4 MiB ones, `gblur(12)` (2.67 in 1 MiB bands, 1.41 in 4 MiB) takes 1.8 times as long.
const MAX_OVERWORK: f64 = 1.5;
/// The fewest rows of input a band reads.
const MIN_BAND_ROWS: u32 = 16;

/// The rows of a picture of `format` read before the chain is compiled (its first band).
pub fn first_rows(format: &crate::frame::Format) -> u32 {
    (BAND_BYTES / row_bytes(format).max(1)).max(MIN_BAND_ROWS as u64) as u32
}

/// The bytes of the bands the reader thread may hold read ahead of the chain, for a picture of
/// `format` (the band being read and the one waiting to be taken).
pub fn read_ahead_bytes(format: &crate::frame::Format) -> u64 {
    u64::from(READ_AHEAD) * u64::from(first_rows(format)) * row_bytes(format)
}

/// Bytes of one row of `format`'s samples, every plane.
fn row_bytes(format: &crate::frame::Format) -> u64 {
    format.samples_len() as u64 / format.height.max(1) as u64 * if format.is_wide() { 2 } else { 1 }
}

/// The output rows of a band for `plan`: about [`BAND_BYTES`] of its input, and no more than
/// that of its output where the chain enlarges; taller, up to [`MAX_BAND_BYTES`], where the
/// rows each pass makes again for its halo (a wide blur's) would add more than
/// [`MAX_OVERWORK`] to the band's work.
pub fn band_rows(plan: &Plan) -> u32 {
    let rows_of = |bytes: u64| {
        let in_rows = (bytes / row_bytes(&plan.input).max(1)).max(MIN_BAND_ROWS as u64) as f64;
        let out_rows = (in_rows * plan.output.height as f64 / plan.input.height.max(1) as f64)
            .min((bytes / row_bytes(&plan.output).max(1)).max(MIN_BAND_ROWS as u64) as f64);
        let step = plan.strip_step();
        ((out_rows as u32).max(1).div_ceil(step) * step).min(plan.output.height.max(1))
    };
    let mut bytes = BAND_BYTES;
    let mut rows = rows_of(bytes);
    while bytes < MAX_BAND_BYTES && rows < plan.output.height && overwork(plan, rows) > MAX_OVERWORK
    {
        bytes *= 2;
        rows = rows_of(bytes);
    }
    rows
}

/// The rows a band of `rows` output rows in the middle of the picture makes, every pass
/// counted, over the rows the whole picture's passes make for as many output rows.
fn overwork(plan: &Plan, rows: u32) -> f64 {
    let step = plan.strip_step();
    let start = (plan.output.height.saturating_sub(rows) / 2) / step * step;
    let strip = plan.strip(start..(start + rows).min(plan.output.height));
    let made = |passes: &[crate::plan::Pass]| -> f64 {
        passes.iter().map(|p| f64::from(p.output.height)).sum()
    };
    let share = f64::from(strip.output.end - strip.output.start) / f64::from(plan.output.height);
    let whole = made(&plan.passes) * share;
    if whole <= 0.0 {
        1.0
    } else {
        made(&strip.plan.passes) / whole
    }
}

/// Where a streamed run spent its time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Times {
    pub read: Duration,
    pub filter: Duration,
    pub write: Duration,
}

/// Bands the reader thread may have read and not yet handed over: while the chain and the
/// encoder work on one band, the decoder reads the next (libjpeg's Huffman decoding, a TIFF's
/// inflating), as vips' pipelines overlap them.
pub const READ_AHEAD: u32 = 2;

/// Runs `plan` over the picture `reader` gives, band by band into `writer`: `first` is the
/// picture's first rows, already read; `before` converts each band read (the source's colour
/// into the chain's), `after` each band made (into the output's). The reader reads on a thread
/// of its own, up to [`READ_AHEAD`] bands of `first`'s height ahead of the chain. Every row of
/// the input is read, those the chain leaves out too, so that damage anywhere in the file is
/// found. Stops with [`Error::Interrupted`] between bands once `stop` is requested.
#[allow(clippy::too_many_arguments)]
pub fn run(
    input: &std::path::Path,
    plan: &Plan,
    first: Frame,
    reader: &mut dyn RowReader,
    writer: &mut dyn RowWriter,
    backend: &mut dyn Backend,
    rows: u32,
    stop: &Stop,
    before: &dyn Fn(Frame) -> Result<Frame, Error>,
    after: &dyn Fn(Frame) -> Result<Frame, Error>,
) -> Result<Times, Error> {
    let height = plan.input.height;
    let read_rows = first.height().max(1);
    let unread = height - first.height();
    std::thread::scope(|scope| {
        let (bands, read) = std::sync::mpsc::sync_channel(READ_AHEAD as usize - 1);
        let reading = std::thread::Builder::new()
            .name("band reader".into())
            .spawn_scoped(scope, move || read_ahead(reader, unread, read_rows, bands))
            .map_err(|e| MediaError::Decode {
                path: crate::media::display(input),
                message: format!("cannot start the band reader thread: {e}"),
            })?;
        let result = run_bands(
            plan, first, &read, writer, backend, rows, stop, before, after,
        );
        // The reader stops at its next band once nothing takes them.
        drop(read);
        let read_time = reading.join().unwrap_or_default();
        result.map(|mut times| {
            times.read += read_time;
            times
        })
    })
}

/// Reads `left` rows, `rows` at a time, into `bands` until they are read, the reader fails
/// (the error goes to `bands`) or nothing takes them any more; returns the time spent reading.
fn read_ahead(
    reader: &mut dyn RowReader,
    mut left: u32,
    rows: u32,
    bands: std::sync::mpsc::SyncSender<Result<Frame, Error>>,
) -> Duration {
    let mut spent = Duration::ZERO;
    while left > 0 {
        let t = Instant::now();
        let band = reader.read(rows.min(left));
        spent += t.elapsed();
        let end = match &band {
            Ok(band) => band.height() == 0,
            Err(_) => true,
        };
        if let Ok(band) = &band {
            left -= band.height().min(left);
        }
        if bands.send(band.map_err(Error::from)).is_err() || end {
            break;
        }
    }
    spent
}

/// [`run`]'s chain and writer, taking the bands the reader thread read from `read`.
#[allow(clippy::too_many_arguments)]
fn run_bands(
    plan: &Plan,
    first: Frame,
    read: &std::sync::mpsc::Receiver<Result<Frame, Error>>,
    writer: &mut dyn RowWriter,
    backend: &mut dyn Backend,
    rows: u32,
    stop: &Stop,
    before: &dyn Fn(Frame) -> Result<Frame, Error>,
    after: &dyn Fn(Frame) -> Result<Frame, Error>,
) -> Result<Times, Error> {
    let mut times = Times::default();
    // The bands read and still needed, each with the input row it starts at; `end` the row
    // after the last one read.
    let mut held: std::collections::VecDeque<(u32, Frame)> = std::collections::VecDeque::new();
    let mut end = first.height();
    held.push_back((0, first));
    // The next band from the reader (none once it has read every row), converted.
    let next = |times: &mut Times| -> Result<Option<Frame>, Error> {
        let Ok(band) = read.recv() else {
            return Ok(None);
        };
        let t = Instant::now();
        let band = before(band?)?;
        times.read += t.elapsed();
        Ok(Some(band))
    };
    let mut y = 0;
    while y < plan.output.height {
        if stop.requested() {
            return Err(Error::Interrupted);
        }
        let strip = plan.strip(y..(y + rows).min(plan.output.height));
        // Bands no strip from here on reads are let go before more are taken.
        while held
            .front()
            .is_some_and(|(at, band)| at + band.height() <= strip.input.start)
        {
            held.pop_front();
        }
        while end < strip.input.end {
            let Some(band) = next(&mut times)?.filter(|band| band.height() > 0) else {
                break;
            };
            let at = end;
            end += band.height();
            held.push_back((at, band));
        }
        let t = Instant::now();
        // The strip's rows, each copied once from the bands that hold them.
        let pieces: Vec<(&Frame, std::ops::Range<u32>)> = held
            .iter()
            .filter_map(|(at, band)| {
                let from = strip.input.start.max(*at);
                let to = strip.input.end.min(at + band.height());
                (from < to).then(|| (band, (from - at)..(to - at)))
            })
            .collect();
        let input = match pieces.as_slice() {
            [(band, r)] if *r == (0..band.height()) => (*band).clone(),
            _ => Frame::gather(&pieces),
        };
        let made = backend.process(&strip.plan, input)?;
        let made = if strip.keep == (0..made.height()) {
            made
        } else {
            made.rows(strip.keep.clone())
        };
        let made = after(made)?;
        times.filter += t.elapsed();
        let t = Instant::now();
        writer.write(&made)?;
        times.write += t.elapsed();
        y = strip.output.end;
    }
    drop(held);
    // The rows below the last one the chain read: read for the damage they may hold.
    for band in read.iter() {
        band?;
    }
    Ok(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Format;
    use crate::Chain;

    fn plan(chain: &str, width: u32, height: u32) -> Plan {
        let format = Format::rgb(width, height, 8, false);
        crate::plan::compile(&Chain::parse(chain).unwrap(), &format).unwrap()
    }

    #[test]
    fn bands_grow_with_the_halo() {
        // A 3×3 sharpen reads a row either side: 1 MiB bands (69 rows of 5000 RGB pixels).
        let sharpen = plan("convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])", 5000, 5000);
        let rows = band_rows(&sharpen);
        assert_eq!(rows, 69);
        assert!(overwork(&sharpen, rows) < 1.1);
        // A wide blur reads 36 rows either side: in bands of 69 rows it would make each row
        // more than twice; its bands grow until the halo adds at most half as much again.
        let blur = plan("gblur(12)", 5000, 5000);
        assert!(overwork(&blur, 69) > 2.0);
        let rows = band_rows(&blur);
        assert!(rows > 4 * 69, "{rows}");
        assert!(overwork(&blur, rows) <= MAX_OVERWORK, "{rows}");
        // No taller than the most a band may hold, whatever the halo.
        let huge = plan("gblur(64) | gblur(64)", 5000, 5000);
        let most = (MAX_BAND_BYTES / 15000) as u32;
        assert!(band_rows(&huge) <= most, "{}", band_rows(&huge));
    }
}
