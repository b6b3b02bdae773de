//! The clean media the corpus damages, made by the test: stills drawn in code and written by the
//! `image` crate, animations and videos from FFmpeg's lavfi sources. All of it small (64×48,
//! a second of video at 10 fps), so that every damaged copy runs in well under a second on
//! either backend, lavapipe included.

use std::path::Path;

use super::common::{self, s, Noise};

/// What tessera makes of a source: a still picture or a video (an animated GIF is a video).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Image,
    Video,
}

/// One clean source: a short name (the summary's column), its extension, its kind and bytes.
pub struct Source {
    pub name: &'static str,
    pub ext: &'static str,
    pub kind: Kind,
    pub bytes: Vec<u8>,
}

impl Source {
    /// The extension an output of this source gets: PNG for stills, Matroska for videos (it
    /// holds every codec the sources carry, so no stream is dropped or re-encoded).
    pub fn output_ext(&self) -> &'static str {
        match self.kind {
            Kind::Image => "png",
            Kind::Video => "mkv",
        }
    }
}

pub const WIDTH: u32 = 64;
pub const HEIGHT: u32 = 48;

/// The test image with its noise turned up, so that the compressed files have a body worth
/// damaging (a flat picture compresses to a few bytes of header).
fn picture(seed: u64) -> image::RgbaImage {
    let tessera::Samples::U8(data) = common::test_image8(WIDTH, HEIGHT, seed).interleaved() else {
        unreachable!()
    };
    image::RgbaImage::from_raw(WIDTH, HEIGHT, data).unwrap()
}

fn encode(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A lossless WebP through the `image` crate (its encoder writes only lossless).
fn webp_lossless(image: &image::RgbaImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)
        .encode(
            image.as_raw(),
            WIDTH,
            HEIGHT,
            image::ExtendedColorType::Rgba8,
        )
        .unwrap();
    bytes
}

/// The lavfi picture every FFmpeg-made source starts from: moving colours with noise on top,
/// so that each frame is a few kilobytes rather than a few bytes.
const VIDEO: &str = "testsrc2=s=64x48:r=10:d=1,noise=alls=30:allf=t:all_seed=5";
/// A quiet mono tone at a low bit rate: the audio (copied, never decoded) stays a small part of
/// each file, so that damage in the middle of a file usually lands in the video.
const AUDIO: &str = "sine=frequency=440:sample_rate=16000:d=1";

/// Runs `ffmpeg` into `dir/name` and returns the file's bytes.
fn ffmpeg_file(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    let path = dir.join(name);
    let mut all: Vec<&str> = args.to_vec();
    all.push(s(&path));
    common::ffmpeg(&all);
    std::fs::read(&path).unwrap()
}

/// A video with audio: `video` codec arguments, `audio` codec arguments, then the container's.
fn clip(dir: &Path, name: &str, video: &[&str], audio: &[&str], extra: &[&str]) -> Vec<u8> {
    let mut args = vec!["-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", AUDIO];
    args.extend_from_slice(video);
    args.extend_from_slice(&["-ac", "1", "-b:a", "24k"]);
    args.extend_from_slice(audio);
    args.extend_from_slice(&["-shortest", "-fflags", "+bitexact", "-map_metadata", "-1"]);
    args.extend_from_slice(extra);
    ffmpeg_file(dir, name, &args)
}

const H264: &[&str] = &[
    "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "5", "-threads", "1",
];

/// Every clean source, made in `dir` (FFmpeg writes files; the stills are encoded in memory).
pub fn sources(dir: &Path) -> Vec<Source> {
    let rgba = picture(11);
    let rgb = image::DynamicImage::ImageRgba8(picture(12)).to_rgb8();
    let deep = {
        let tessera::Samples::U16(data) = common::test_image16(WIDTH, HEIGHT, 13).interleaved()
        else {
            unreachable!()
        };
        image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(WIDTH, HEIGHT, data).unwrap()
    };
    // More noise than the test image has, for a JPEG whose entropy-coded data is most of it.
    let mut noise = Noise::new(14);
    let mut photo = rgb.clone();
    for p in photo.pixels_mut() {
        p.0[0] = p.0[0].wrapping_add((noise.next() & 31) as u8);
    }
    let still = |name, ext, bytes| Source {
        name,
        ext,
        kind: Kind::Image,
        bytes,
    };
    let video = |name, ext, bytes| Source {
        name,
        ext,
        kind: Kind::Video,
        bytes,
    };
    use image::{DynamicImage as D, ImageFormat as F};
    vec![
        still("png8", "png", encode(D::ImageRgb8(rgb.clone()), F::Png)),
        still(
            "png16a",
            "png",
            encode(D::ImageRgba16(deep.clone()), F::Png),
        ),
        still("jpeg", "jpg", encode(D::ImageRgb8(photo), F::Jpeg)),
        still("webp-ll", "webp", webp_lossless(&rgba)),
        still(
            "webp-lossy",
            "webp",
            ffmpeg_file(
                dir,
                "lossy.webp",
                &[
                    "-f",
                    "lavfi",
                    "-i",
                    VIDEO,
                    "-frames:v",
                    "1",
                    "-c:v",
                    "libwebp",
                    "-lossless",
                    "0",
                    "-q:v",
                    "80",
                ],
            ),
        ),
        still("tiff", "tif", encode(D::ImageRgba16(deep), F::Tiff)),
        video(
            "gif",
            "gif",
            ffmpeg_file(dir, "anim.gif", &["-f", "lavfi", "-i", VIDEO, "-loop", "0"]),
        ),
        video(
            "mp4",
            "mp4",
            clip(dir, "moov-at-end.mp4", H264, &["-c:a", "aac"], &[]),
        ),
        video(
            "mp4-fast",
            "mp4",
            clip(
                dir,
                "faststart.mp4",
                H264,
                &["-c:a", "aac"],
                &["-movflags", "+faststart"],
            ),
        ),
        video(
            "mkv",
            "mkv",
            clip(dir, "clip.mkv", H264, &["-c:a", "aac"], &[]),
        ),
        video(
            "webm",
            "webm",
            clip(
                dir,
                "clip.webm",
                &[
                    "-c:v",
                    "libvpx-vp9",
                    "-deadline",
                    "realtime",
                    "-cpu-used",
                    "8",
                    "-g",
                    "5",
                    "-threads",
                    "1",
                ],
                &["-c:a", "libopus"],
                &[],
            ),
        ),
        video(
            "ts",
            "ts",
            clip(dir, "clip.ts", H264, &["-c:a", "aac"], &[]),
        ),
    ]
}

/// Where the video packets of a file lie: (byte position, size) of each, from ffprobe.
pub fn video_packets(path: &Path) -> Vec<(usize, usize)> {
    let text = common::ffprobe(
        path,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=pos,size",
            "-of",
            "default=noprint_wrappers=1",
        ],
    );
    let (mut pos, mut size) = (None, None);
    let mut packets = Vec::new();
    for line in text.lines() {
        match line.split_once('=') {
            Some(("pos", v)) => pos = v.parse().ok(),
            Some(("size", v)) => size = v.parse().ok(),
            _ => {}
        }
        if let (Some(p), Some(n)) = (pos, size) {
            packets.push((p, n));
            (pos, size) = (None, None);
        }
    }
    packets
}
