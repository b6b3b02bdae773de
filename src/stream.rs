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
use crate::media::rows::{RowReader, RowWriter};
use crate::plan::Plan;

/// Input rows a band reads at least, before the chain's halo and resizes: enough that each
/// band's work spreads over the cores and the halo's rows, read twice, stay a small part.
const BAND_BYTES: u64 = 4 << 20;
/// The fewest rows of input a band reads.
const MIN_BAND_ROWS: u32 = 16;

/// The rows of a picture of `format` read before the chain is compiled (its first band).
pub fn first_rows(format: &crate::frame::Format) -> u32 {
    (BAND_BYTES / row_bytes(format).max(1)).max(MIN_BAND_ROWS as u64) as u32
}

/// Bytes of one row of `format`'s samples, every plane.
fn row_bytes(format: &crate::frame::Format) -> u64 {
    format.samples_len() as u64 / format.height.max(1) as u64 * if format.is_wide() { 2 } else { 1 }
}

/// The output rows of a band for `plan`: about [`BAND_BYTES`] of its input, and no more than
/// that of its output where the chain enlarges.
pub fn band_rows(plan: &Plan) -> u32 {
    let in_rows = (BAND_BYTES / row_bytes(&plan.input).max(1)).max(MIN_BAND_ROWS as u64) as f64;
    let out_rows = (in_rows * plan.output.height as f64 / plan.input.height.max(1) as f64)
        .min((BAND_BYTES / row_bytes(&plan.output).max(1)).max(MIN_BAND_ROWS as u64) as f64);
    let step = plan.strip_step();
    ((out_rows as u32).max(1).div_ceil(step) * step).min(plan.output.height.max(1))
}

/// Where a streamed run spent its time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Times {
    pub read: Duration,
    pub filter: Duration,
    pub write: Duration,
}

/// Runs `plan` over the picture `reader` gives, band by band into `writer`: `first` is the
/// picture's first rows, already read; `before` converts each band read (the source's colour
/// into the chain's), `after` each band made (into the output's). Every row of the input is
/// read, those the chain leaves out too, so that damage anywhere in the file is found.
#[allow(clippy::too_many_arguments)]
pub fn run(
    plan: &Plan,
    first: Frame,
    reader: &mut dyn RowReader,
    writer: &mut dyn RowWriter,
    backend: &mut dyn Backend,
    rows: u32,
    before: &dyn Fn(Frame) -> Result<Frame, Error>,
    after: &dyn Fn(Frame) -> Result<Frame, Error>,
) -> Result<Times, Error> {
    let mut times = Times::default();
    let height = plan.input.height;
    let read_rows = first.height().max(1);
    // The bands read and still needed, each with the input row it starts at; `end` the row
    // after the last one read.
    let mut held: std::collections::VecDeque<(u32, Frame)> = std::collections::VecDeque::new();
    let mut end = first.height();
    held.push_back((0, first));
    let mut read = |times: &mut Times, n: u32| -> Result<Frame, Error> {
        let t = Instant::now();
        let band = before(reader.read(n)?)?;
        times.read += t.elapsed();
        Ok(band)
    };
    let mut y = 0;
    while y < plan.output.height {
        if crate::job::stop_requested() {
            return Err(Error::Interrupted);
        }
        let strip = plan.strip(y..(y + rows).min(plan.output.height));
        // Bands no strip from here on reads are let go before more are read.
        while held
            .front()
            .is_some_and(|(at, band)| at + band.height() <= strip.input.start)
        {
            held.pop_front();
        }
        while end < strip.input.end {
            let want = (strip.input.end - end).max(read_rows).min(height - end);
            let band = read(&mut times, want)?;
            if band.height() == 0 {
                break;
            }
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
    // The rows below the last one the chain read.
    loop {
        let t = Instant::now();
        let band = reader.read(read_rows)?;
        times.read += t.elapsed();
        if band.height() == 0 {
            break;
        }
    }
    Ok(times)
}
