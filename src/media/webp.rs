//! Animated WebP in as video: FFmpeg 5.1 has no decoder for WebP's ANIM/ANMF chunks, so the
//! `image` crate decodes the frames and this module writes them, losslessly and with their
//! delays as timestamps, into a temporary Matroska/FFV1 file that FFmpeg reads like any video.
//!
//! It owns that temporary file only: [`Intermediate`] removes it when dropped, whether the run
//! succeeded or not. It never touches the input, and never filters or encodes for the user.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ffmpeg::format::Pixel;
use ffmpeg::{codec, encoder, format, Packet, Rational};
use ffmpeg_next as ffmpeg;
use image::codecs::webp::WebPDecoder;
use image::{AnimationDecoder, ImageDecoder, Limits};

use super::decode::{init, Cut};
use super::{display, io_message, MediaError};

/// WebP delays are whole milliseconds.
const TIME_BASE: Rational = Rational(1, 1000);

/// A temporary video holding an animated WebP's frames, removed when dropped.
pub struct Intermediate {
    path: PathBuf,
}

impl Intermediate {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Intermediate {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Decodes the animated WebP `path` frame by frame into a temporary lossless video (BGRA in
/// FFV1, in Matroska with a millisecond time base), each frame at the sum of the delays before
/// it. A delay of 0 ms becomes 1 ms, so that every frame keeps a time of its own. Errors name
/// `path`, never the temporary file.
///
/// The animation stops at its first damaged frame (the decoder cannot go past it) or where the
/// file ends short of its RIFF header's length: the frames before are kept, and the damage
/// comes back as a [`Cut`] for the video decoder to stop on or count. A file with no frame
/// before the damage is an error.
pub fn to_video(path: &Path) -> Result<(Intermediate, Option<Cut>), MediaError> {
    init();
    let decode_error = |e: image::ImageError| MediaError::Decode {
        path: display(path),
        message: format!("cannot decode the animated WebP: {e}"),
    };
    let file = File::open(path).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    let mut header = [0u8; 12];
    let read = std::io::Read::read(&mut (&file).take(12), &mut header).unwrap_or(0);
    let length = file.metadata().map_or(u64::MAX, |m| m.len());
    let short = super::damage::riff_size(&header[..read], length)
        .map(|what| what.replacen("the file", "the animated WebP", 1));
    std::io::Seek::rewind(&mut (&file)).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    let decoder = WebPDecoder::new(BufReader::new(file)).map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    // Each frame is a whole canvas: the same cap the still path applies to one picture.
    Limits::default()
        .reserve(u64::from(width) * u64::from(height) * 4)
        .map_err(decode_error)?;
    let intermediate = reserve_temporary(path)?;
    let write_error = |what: &str, e: ffmpeg::Error| MediaError::Decode {
        path: display(path),
        message: format!("cannot hold the animation's frames for FFmpeg ({what}: {e})"),
    };

    let mut output = format::output_as(intermediate.path(), "matroska")
        .map_err(|e| write_error("container", e))?;
    let codec = encoder::find(codec::Id::FFV1).ok_or_else(|| MediaError::Unsupported {
        path: display(path),
        message: "this FFmpeg has no FFV1 encoder, which tessera needs to read an animated WebP"
            .into(),
    })?;
    let mut video = codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| write_error("encoder", e))?;
    video.set_width(width);
    video.set_height(height);
    video.set_format(Pixel::BGRA);
    video.set_time_base(TIME_BASE);
    if output
        .format()
        .flags()
        .contains(format::Flags::GLOBAL_HEADER)
    {
        video.set_flags(codec::Flags::GLOBAL_HEADER);
    }
    let mut video = video
        .open_as(codec)
        .map_err(|e| write_error("encoder", e))?;
    output
        .add_stream(codec)
        .map_err(|e| write_error("stream", e))?
        .set_parameters(&video);
    output
        .write_header()
        .map_err(|e| write_error("header", e))?;
    let stream_time_base = output.stream(0).expect("the stream just added").time_base();

    let mut picture = ffmpeg::frame::Video::new(Pixel::BGRA, width, height);
    let mut pts = 0i64;
    let mut frames = 0u64;
    let mut cut = None;
    let mut all = decoder.into_frames();
    for frame in all.by_ref() {
        let frame = match frame {
            Ok(frame) => frame,
            Err(e) => {
                cut = Some(Cut {
                    whole: frames,
                    lost: 1,
                    time: Some(pts as f64 / 1000.0),
                    what: short.clone().unwrap_or_else(|| {
                        format!("this frame of the animated WebP cannot be decoded ({e})")
                    }),
                });
                break;
            }
        };
        let (numer, denom) = frame.delay().numer_denom_ms();
        let delay = (i64::from(numer) / i64::from(denom.max(1))).max(1);
        let rgba = frame.into_buffer();
        let stride = picture.stride(0);
        let row = width as usize * 4;
        let data = picture.data_mut(0);
        for (y, src) in rgba.as_raw().chunks_exact(row).enumerate() {
            let dst = &mut data[y * stride..y * stride + row];
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(4)) {
                d.copy_from_slice(&[s[2], s[1], s[0], s[3]]);
            }
        }
        picture.set_pts(Some(pts));
        video
            .send_frame(&picture)
            .map_err(|e| write_error("encode", e))?;
        write_packets(&mut video, &mut output, stream_time_base, delay)
            .map_err(|e| write_error("write", e))?;
        pts += delay;
        frames += 1;
    }
    if let Some(cut) = &mut cut {
        // The decoder stays on the damaged frame: each frame left fails the same way.
        cut.lost += all.count() as u64;
    } else if let Some(what) = short {
        cut = Some(Cut {
            whole: frames,
            lost: 1,
            time: Some(pts as f64 / 1000.0),
            what,
        });
    }
    if let (0, Some(cut)) = (frames, &cut) {
        return Err(MediaError::Damaged {
            path: display(path),
            frame: 0,
            time: 0.0,
            what: cut.what.clone(),
        });
    }
    if frames == 0 {
        return Err(MediaError::Decode {
            path: display(path),
            message: "the animated WebP holds no frames".into(),
        });
    }
    video.send_eof().map_err(|e| write_error("encode", e))?;
    write_packets(&mut video, &mut output, stream_time_base, 0)
        .map_err(|e| write_error("write", e))?;
    output
        .write_trailer()
        .map_err(|e| write_error("trailer", e))?;
    Ok((intermediate, cut))
}

/// Muxes the packets the encoder has ready. FFV1 is intra-only with no delay, so each packet
/// is the frame just sent, and `duration` is its delay (0 leaves it unset).
fn write_packets(
    video: &mut encoder::video::Encoder,
    output: &mut format::context::Output,
    stream_time_base: Rational,
    duration: i64,
) -> Result<(), ffmpeg::Error> {
    let mut packet = Packet::empty();
    while video.receive_packet(&mut packet).is_ok() {
        packet.set_stream(0);
        if duration > 0 {
            packet.set_duration(duration);
        }
        packet.rescale_ts(TIME_BASE, stream_time_base);
        packet.write_interleaved(output)?;
    }
    Ok(())
}

/// A new, empty file in the system's temporary folder, named for this process, for the
/// intermediate video of `input`.
fn reserve_temporary(input: &Path) -> Result<Intermediate, MediaError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(
            "tessera-{}-{n}.webp-frames.mkv",
            std::process::id()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => return Ok(Intermediate { path }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(MediaError::Write {
                    path: display(input),
                    message: format!(
                        "cannot make a temporary file in {} for the animation's frames: {}",
                        dir.display(),
                        io_message(&e)
                    ),
                })
            }
        }
    }
}
