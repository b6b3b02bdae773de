//! A video read as a second stream beside the one being filtered (an overlay's): read forward
//! to the picture shown at a time, with only that picture and the one after it held, and
//! handed out as straight-alpha R′G′B′A bytes only when asked.
//!
//! Which picture is shown at a time follows FFmpeg's framesync, as its overlay filter uses it:
//! both clocks start at 0 (each file's own start), and at time `t` the clip shows its latest
//! picture whose time is at or before `t` (its first before that). This module knows files and
//! pictures, never filters.

use std::path::{Path, PathBuf};

use ffmpeg_next as ffmpeg;

use super::convert::RgbaOutlet;
use super::decode::{Decoded, VideoDecoder};
use super::{display, MediaError};

/// A decoded picture and its time on the clip's clock.
struct Held {
    index: u64,
    time: f64,
    picture: ffmpeg::frame::Video,
}

/// The picture a clip shows at a time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shown {
    /// Its index in the clip, from 0.
    pub index: u64,
    /// True when the time is at or after the clip's end: its last picture's time plus one frame.
    pub ended: bool,
}

pub struct Clip {
    path: PathBuf,
    decoder: VideoDecoder,
    outlet: RgbaOutlet,
    /// Seconds a unit of the stream's timestamps is worth, and the time that becomes 0.
    time_base: f64,
    origin: f64,
    /// Frames a second (for pictures without a timestamp, and the last picture's length); 0
    /// when unknown.
    fps: f64,
    current: Option<Held>,
    /// The picture after `current`, read to know until when `current` is shown.
    next: Option<Held>,
    /// The decoder has given its last picture.
    drained: bool,
}

impl Clip {
    pub fn open(path: &Path) -> Result<Clip, MediaError> {
        let decoder = VideoDecoder::open(path)?;
        let info = *decoder.info();
        let rate = info.frame_rate;
        let fps = if rate.numerator() > 0 && rate.denominator() > 0 {
            f64::from(rate)
        } else {
            0.0
        };
        Ok(Clip {
            path: path.to_path_buf(),
            time_base: f64::from(info.time_base),
            origin: decoder.origin(),
            fps,
            outlet: RgbaOutlet::new(info.frame.colour),
            decoder,
            current: None,
            next: None,
            drained: false,
        })
    }

    /// The pictures' width and height.
    pub fn size(&self) -> (u32, u32) {
        let info = self.decoder.info();
        (info.width, info.height)
    }

    /// The time of the picture shown now; `None` before the first is read. The clip can show
    /// the picture of any time from here on without going back.
    pub fn position(&self) -> Option<f64> {
        self.current.as_ref().map(|h| h.time)
    }

    /// Moves to the picture shown at `t` seconds: forward by decoding, backward by reading the
    /// file again from its start.
    pub fn seek(&mut self, t: f64) -> Result<Shown, MediaError> {
        if self
            .current
            .as_ref()
            .is_some_and(|c| t < c.time && c.index > 0)
        {
            *self = Clip::open(&self.path)?;
        }
        if self.current.is_none() {
            self.current = self.read()?;
            if self.current.is_none() {
                return Err(MediaError::Decode {
                    path: display(&self.path),
                    message: "the video has no pictures".into(),
                });
            }
            self.next = self.read()?;
        }
        // Half a microsecond of slack for timestamps rounded to their time base.
        while self.next.as_ref().is_some_and(|n| n.time <= t + 5e-7) {
            self.current = self.next.take();
            self.next = self.read()?;
        }
        let current = self.current.as_ref().expect("read above");
        let length = if self.fps > 0.0 { 1.0 / self.fps } else { 0.0 };
        Ok(Shown {
            index: current.index,
            ended: self.next.is_none() && t >= current.time + length - 5e-7,
        })
    }

    /// The picture shown now (after [`Clip::seek`]) as its width, height and straight-alpha
    /// R′G′B′A bytes.
    pub fn rgba(&mut self) -> Result<(u32, u32, Vec<u8>), MediaError> {
        let Some(held) = &self.current else {
            return Err(MediaError::Decode {
                path: display(&self.path),
                message: "no picture read yet".into(),
            });
        };
        self.outlet
            .convert(&held.picture)
            .map_err(|message| MediaError::Decode {
                path: display(&self.path),
                message,
            })
    }

    fn read(&mut self) -> Result<Option<Held>, MediaError> {
        if self.drained {
            return Ok(None);
        }
        loop {
            match self.decoder.receive()? {
                Some(Decoded::Picture(p)) => {
                    let time = match p.pts {
                        Some(pts) if self.time_base > 0.0 => {
                            pts as f64 * self.time_base - self.origin
                        }
                        _ if self.fps > 0.0 => p.index as f64 / self.fps,
                        _ => 0.0,
                    };
                    return Ok(Some(Held {
                        index: p.index,
                        time,
                        picture: p.picture,
                    }));
                }
                // No other stream's packets are asked for.
                Some(Decoded::Packet(_)) => continue,
                None => {
                    self.drained = true;
                    return Ok(None);
                }
            }
        }
    }
}
