//! Still-image encoders and the options users give them: JPEG through mozjpeg, WebP through
//! libwebp, PNG through the `png` encoder of the `image` crate, TIFF through the `tiff` crate
//! (strips) or [`super::tiff_file`] (tiles, pyramids, JPEG inside TIFF), BMP through the `image`
//! crate, AVIF through the system's libavif ([`super::avif`]). [`encode`] turns a frame into the
//! file's bytes in memory, so
//! that metadata can be embedded before the file is written; it never touches a file.
//!
//! It also owns which encoding flag applies to which output ([`check_flags`]), and how the
//! flags map onto FFmpeg's image encoders for an image-sequence output
//! ([`sequence_options`]).

use std::io::Cursor;
use std::path::Path;

use image::codecs::bmp::BmpEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder};

pub use super::image::ImageSettings;
use super::metadata::Metadata;
use super::tiff_file::{self, Codec, DEFAULT_TILE};
use crate::frame::{Family, Frame, PlaneRef, Samples};

/// JPEG quality when none is given. Higher than vips' 75 because a tessera output is often
/// edited again (ImageMagick keeps 92); mozjpeg's trellis quantisation makes 85 about the size
/// the image crate's encoder gave at 75 (docs/benchmarks.md, "JPEG encoders").
pub const DEFAULT_JPEG_QUALITY: u8 = 85;
/// Lossy WebP quality when none is given: libwebp's, cwebp's and vips' own default, so that a
/// WebP from tessera matches the ones those tools make.
pub const DEFAULT_WEBP_QUALITY: u8 = 75;
/// AVIF quality when none is given (libavif's and vips' own default of about 60).
pub const DEFAULT_AVIF_QUALITY: u8 = 60;
/// Effort when none is given: libwebp's method 4, its own default.
pub const DEFAULT_EFFORT: u8 = 6;
/// AVIF effort when none is given: libavif's own default speed, 6. AV1 encoding is slow enough
/// that WebP's default effort (libavif's speed 3) would take several times as long.
pub const DEFAULT_AVIF_EFFORT: u8 = 4;
/// zlib level for PNG when none is given: zlib's and vips' own default.
pub const DEFAULT_PNG_COMPRESSION: u8 = 6;
/// From this JPEG quality up, chroma is kept whole (4:4:4) unless `--subsampling` says
/// otherwise, as vips does: at high quality the chroma detail 4:2:0 drops is the largest error
/// left, while below it the bytes are better spent on luma.
pub const FULL_CHROMA_FROM: u8 = 90;

/// The still-image formats and how users name them in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StillFormat {
    Jpeg,
    Png,
    WebP,
    Tiff,
    Bmp,
    Avif,
}

impl StillFormat {
    /// The format a file name's extension names (any case), if it is a still-image one.
    pub fn from_path(path: &Path) -> Option<StillFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jpg" | "jpeg" => StillFormat::Jpeg,
            "png" => StillFormat::Png,
            "webp" => StillFormat::WebP,
            "tif" | "tiff" => StillFormat::Tiff,
            "bmp" => StillFormat::Bmp,
            "avif" => StillFormat::Avif,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            StillFormat::Jpeg => "JPEG",
            StillFormat::Png => "PNG",
            StillFormat::WebP => "WebP",
            StillFormat::Tiff => "TIFF",
            StillFormat::Bmp => "BMP",
            StillFormat::Avif => "AVIF",
        }
    }

    /// The encoding flags that apply to a picture written in this format.
    pub fn flags(self) -> &'static [ImageFlag] {
        use ImageFlag::*;
        match self {
            StillFormat::Jpeg => &[Quality, Subsampling, Progressive, Background],
            StillFormat::Png => &[Compression, Fast],
            StillFormat::WebP | StillFormat::Avif => &[Quality, Lossless, Effort],
            StillFormat::Tiff => &[
                TiffCompression,
                TiffTile,
                TiffPyramid,
                Quality,
                Subsampling,
                Background,
            ],
            StillFormat::Bmp => &[],
        }
    }

    /// The encoding flags that apply to a sequence of pictures in this format, which FFmpeg's
    /// image encoders write (mjpeg, png, libwebp, tiff, bmp); see [`sequence_options`].
    pub fn sequence_flags(self) -> &'static [ImageFlag] {
        use ImageFlag::*;
        match self {
            StillFormat::Jpeg => &[Quality, Subsampling],
            StillFormat::Png => &[Compression],
            StillFormat::WebP => &[Quality, Lossless, Effort],
            StillFormat::Tiff => &[TiffCompression],
            StillFormat::Bmp | StillFormat::Avif => &[],
        }
    }
}

/// Chroma subsampling of a JPEG: how many luma samples share one chroma sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subsampling {
    /// Chroma at full resolution.
    S444,
    /// Chroma halved across.
    S422,
    /// Chroma halved across and down.
    S420,
}

impl std::str::FromStr for Subsampling {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "444" | "4:4:4" => Ok(Subsampling::S444),
            "422" | "4:2:2" => Ok(Subsampling::S422),
            "420" | "4:2:0" => Ok(Subsampling::S420),
            _ => Err(format!("'{text}' is not a subsampling (444, 422 or 420)")),
        }
    }
}

/// How a TIFF's strips or tiles are compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TiffCompression {
    None,
    Lzw,
    Deflate,
    /// JPEG inside TIFF (Compression 7): 8-bit, grey or Y′CbCr, no alpha.
    Jpeg,
}

impl std::str::FromStr for TiffCompression {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "none" => Ok(TiffCompression::None),
            "lzw" => Ok(TiffCompression::Lzw),
            "deflate" | "zip" => Ok(TiffCompression::Deflate),
            "jpeg" => Ok(TiffCompression::Jpeg),
            _ => Err(format!(
                "'{text}' is not a TIFF compression (none, lzw, deflate or jpeg)"
            )),
        }
    }
}

/// A `tessera process` flag that says how a picture is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFlag {
    Quality,
    Lossless,
    Effort,
    Subsampling,
    Progressive,
    Compression,
    Fast,
    TiffCompression,
    TiffTile,
    TiffPyramid,
    Background,
}

impl ImageFlag {
    pub fn name(self) -> &'static str {
        match self {
            ImageFlag::Quality => "--quality",
            ImageFlag::Lossless => "--lossless",
            ImageFlag::Effort => "--effort",
            ImageFlag::Subsampling => "--subsampling",
            ImageFlag::Progressive => "--progressive",
            ImageFlag::Compression => "--compression",
            ImageFlag::Fast => "--fast",
            ImageFlag::TiffCompression => "--tiff-compression",
            ImageFlag::TiffTile => "--tiff-tile",
            ImageFlag::TiffPyramid => "--tiff-pyramid",
            ImageFlag::Background => "--background",
        }
    }
}

/// The flags of `tessera process` that say how a video is encoded; none applies to a still
/// image.
pub const VIDEO_FLAGS: &[&str] = &[
    "--codec",
    "--crf",
    "--preset",
    "--bitrate",
    "--pix-fmt",
    "--gop",
    "--encoder-opt",
    "--no-audio",
    "--audio-codec",
    "--auto-rotate",
];

/// What a job writes, as far as the encoding flags are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    /// One still picture.
    Still(StillFormat, &'a str),
    /// A numbered sequence of pictures through FFmpeg (`frames/%05d.jpg`).
    Sequence(StillFormat, &'a str),
    /// A video.
    Video(&'a str),
    /// Nothing is written (`--discard`).
    Nothing,
}

impl ImageSettings {
    /// The flags that were given, in the order `--help` lists them.
    pub fn given(&self) -> Vec<ImageFlag> {
        let mut flags = Vec::new();
        let mut add = |on: bool, flag| {
            if on {
                flags.push(flag);
            }
        };
        add(self.quality.is_some(), ImageFlag::Quality);
        add(self.lossless, ImageFlag::Lossless);
        add(self.effort.is_some(), ImageFlag::Effort);
        add(self.subsampling.is_some(), ImageFlag::Subsampling);
        add(self.progressive, ImageFlag::Progressive);
        add(self.compression.is_some(), ImageFlag::Compression);
        add(self.fast, ImageFlag::Fast);
        add(self.tiff_compression.is_some(), ImageFlag::TiffCompression);
        add(self.tiff_tile.is_some(), ImageFlag::TiffTile);
        add(self.tiff_pyramid, ImageFlag::TiffPyramid);
        add(self.background.is_some(), ImageFlag::Background);
        flags
    }
}

fn list(flags: &[ImageFlag]) -> String {
    flags
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the encoding flags given against what the job writes: a flag that does not apply to
/// the output's format, or values that contradict each other, are refused with a sentence
/// naming the flags that do apply. `video_flags` are the video encoding flags given (names from
/// [`VIDEO_FLAGS`]).
pub fn check_flags(
    settings: &ImageSettings,
    video_flags: &[&str],
    target: Target,
) -> Result<(), String> {
    let given = settings.given();
    match target {
        Target::Still(format, out) => {
            let applies = format.flags();
            let for_format = match applies {
                [] => format!("{} takes no encoding flag", format.name()),
                flags => format!("the flags for {} are {}", format.name(), list(flags)),
            };
            if let Some(flag) = video_flags.first() {
                return Err(format!(
                    "{flag} sets how a video is encoded, but {out} is a {} image; {for_format}",
                    format.name()
                ));
            }
            if let Some(flag) = given.iter().find(|f| !applies.contains(f)) {
                return Err(format!(
                    "{} does not apply to {out}, a {} image; {for_format}",
                    flag.name(),
                    format.name()
                ));
            }
            let jpeg = settings.tiff_compression == Some(TiffCompression::Jpeg);
            if format == StillFormat::Tiff && !jpeg {
                use ImageFlag::{Background, Quality, Subsampling};
                if let Some(flag) = given
                    .iter()
                    .find(|f| matches!(f, Quality | Subsampling | Background))
                {
                    return Err(format!(
                        "{} applies to {out} only with --tiff-compression jpeg (a TIFF is \
                         otherwise lossless and keeps its alpha); without it the flags for TIFF \
                         are --tiff-compression, --tiff-tile, --tiff-pyramid",
                        flag.name()
                    ));
                }
            }
        }
        Target::Sequence(format, out) => {
            let applies = format.sequence_flags();
            if let Some(flag) = given.iter().find(|f| !applies.contains(f)) {
                let why = match (format, flag) {
                    (StillFormat::Jpeg, ImageFlag::Progressive) => {
                        " (FFmpeg's mjpeg encoder writes baseline JPEGs only)"
                    }
                    (StillFormat::Tiff, ImageFlag::TiffTile | ImageFlag::TiffPyramid) => {
                        " (FFmpeg's tiff encoder writes strips only: no tiles, no pyramid)"
                    }
                    (
                        StillFormat::Tiff,
                        ImageFlag::Quality | ImageFlag::Subsampling | ImageFlag::Background,
                    ) => " (FFmpeg's tiff encoder has no JPEG compression)",
                    _ => "",
                };
                let applies = match applies {
                    [] => "no image encoding flag applies to them".to_string(),
                    flags => format!("the image flags that apply to them are {}", list(flags)),
                };
                return Err(format!(
                    "{} does not apply to {out}, {} images FFmpeg writes as a sequence{why}; \
                     {applies}, with the video flags {}",
                    flag.name(),
                    format.name(),
                    VIDEO_FLAGS[..7].join(", ")
                ));
            }
            if format == StillFormat::Jpeg
                && settings.quality.is_some()
                && video_flags.contains(&"--bitrate")
            {
                return Err(
                    "--quality and --bitrate both set how much the JPEG frames are compressed; \
                     give one"
                        .into(),
                );
            }
            if format == StillFormat::Tiff
                && settings.tiff_compression == Some(TiffCompression::Jpeg)
            {
                return Err(format!(
                    "--tiff-compression jpeg does not apply to {out}, TIFF images FFmpeg writes as \
                     a sequence (FFmpeg's tiff encoder compresses with none, packbits, lzw or \
                     deflate, not JPEG); use lzw or deflate, or write the frames as .jpg"
                ));
            }
            if settings.subsampling.is_some() && video_flags.contains(&"--pix-fmt") {
                return Err(
                    "--subsampling and --pix-fmt both set the JPEG frames' pixel format; give one"
                        .into(),
                );
            }
        }
        Target::Video(out) => {
            if let Some(flag) = given.first() {
                return Err(format!(
                    "{} sets how a still image is encoded, but {out} is a video; the flags for a \
                     video are {}",
                    flag.name(),
                    VIDEO_FLAGS.join(", ")
                ));
            }
        }
        Target::Nothing => {
            if let Some(flag) = given.first() {
                return Err(format!(
                    "{} sets how an image is encoded, and --discard writes none",
                    flag.name()
                ));
            }
        }
    }
    if settings.lossless && settings.quality.is_some() {
        return Err("--quality sets a lossy encoding's quality; --lossless has none".into());
    }
    if settings.fast && settings.compression.is_some() {
        return Err(
            "--fast and --compression both set how hard PNG is compressed; give one".into(),
        );
    }
    Ok(())
}

/// The options an FFmpeg image encoder gets for a sequence of pictures in `format`, from
/// settings [`check_flags`] accepted: options by name, and the pixel format where
/// `--subsampling` chooses it.
pub fn sequence_options(
    settings: &ImageSettings,
    format: StillFormat,
) -> (Vec<(String, String)>, Option<String>) {
    let mut options = Vec::new();
    let mut pix_fmt = None;
    match format {
        StillFormat::Jpeg => {
            pix_fmt = settings.subsampling.map(|s| {
                match s {
                    Subsampling::S444 => "yuvj444p",
                    Subsampling::S422 => "yuvj422p",
                    Subsampling::S420 => "yuvj420p",
                }
                .to_string()
            });
        }
        StillFormat::WebP => {
            if let Some(q) = settings.quality {
                options.push(("quality".into(), q.to_string()));
            }
            if settings.lossless {
                options.push(("lossless".into(), "1".into()));
            }
            if let Some(effort) = settings.effort {
                options.push(("compression_level".into(), webp_method(effort).to_string()));
            }
        }
        StillFormat::Png => {
            if let Some(level) = settings.compression {
                options.push(("compression_level".into(), level.to_string()));
            }
        }
        StillFormat::Tiff => {
            let algo = match settings.tiff_compression {
                Some(TiffCompression::None) => Some("raw"),
                Some(TiffCompression::Lzw) => Some("lzw"),
                Some(TiffCompression::Deflate) => Some("deflate"),
                Some(TiffCompression::Jpeg) | None => None,
            };
            if let Some(algo) = algo {
                options.push(("compression_algo".into(), algo.into()));
            }
        }
        StillFormat::Bmp | StillFormat::Avif => {}
    }
    (options, pix_fmt)
}

/// The baseline JPEG quantisation tables of ITU-T T.81 Annex K (K.1 luminance, K.2
/// chrominance), in raster order: the tables a JPEG quality scales.
const ANNEX_K: [[u16; 64]; 2] = [
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69,
        56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81,
        104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    [
        17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99,
        99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    ],
];

/// The quantisation tables (luma, chroma; raster order) of a JPEG at `quality` 0–100, as
/// libjpeg scales the Annex K tables: by 5000/quality percent below 50, by 200 − 2 × quality
/// from 50, each entry rounded and kept within 1–255 (baseline). For JPEG image sequences,
/// whose FFmpeg encoder (mjpeg) has no quality scale of its own; tessera's still JPEGs use
/// mozjpeg's tuned tables instead.
pub fn jpeg_tables(quality: u8) -> [[u16; 64]; 2] {
    let quality = u32::from(quality.clamp(1, 100));
    let percent = if quality < 50 {
        5000 / quality
    } else {
        200 - 2 * quality
    };
    ANNEX_K.map(|table| table.map(|v| ((u32::from(v) * percent + 50) / 100).clamp(1, 255) as u16))
}

/// libwebp's method (0 to 6) for an effort from 0 to 9: 0→0, 1→1, 2→1, 3→2, 4→3, 5→3, 6→4,
/// 7→5, 8→5, 9→6 (effort × 2/3, rounded), so that the default effort 6 is libwebp's default
/// method 4 and the ends meet.
pub fn webp_method(effort: u8) -> i32 {
    ((i32::from(effort.min(9)) * 2 + 1) / 3).min(6)
}

/// What went wrong while encoding, in a user's words.
pub type EncodeError = String;

/// The encoded file and the warnings for the report (alpha flattened, say).
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub warnings: Vec<String>,
}

/// Encodes `frame` (8- or 16-bit RGB or grey, with or without alpha) as `format`. An alpha
/// plane that is opaque everywhere is left out; where the format has no alpha (JPEG) it is
/// flattened onto the background, with a warning. Grey stays grey where the format has it
/// (JPEG, PNG, TIFF; grey with alpha in TIFF becomes RGBA) and becomes RGB where it has not
/// (WebP, BMP). PNG and TIFF keep 16 bits;
/// the others are 8-bit.
pub fn encode(
    frame: &Frame,
    format: StillFormat,
    settings: &ImageSettings,
) -> Result<Encoded, EncodeError> {
    let f = &frame.format;
    let grey = f.layout.family == Family::Gray;
    if f.width == 0
        || f.height == 0
        || !matches!(f.layout.family, Family::Rgb | Family::Gray)
        || !matches!(f.bits, 8 | 16)
    {
        return Err(format!(
            "cannot write a {} frame as an image (images are 8- or 16-bit RGB or grey)",
            f.describe()
        ));
    }
    let colours = if grey { 1 } else { 3 };
    let alpha_plane = f.layout.alpha_plane();
    let opaque = alpha_plane.is_none_or(|a| is_opaque(frame, a));
    let mut warnings = Vec::new();
    let (w, h) = (frame.width(), frame.height());
    match format {
        StillFormat::Jpeg => {
            let pixels = without_alpha(frame, colours, opaque, settings, &mut warnings);
            let bytes = encode_jpeg(&pixels, w, h, grey, settings)?;
            Ok(Encoded { bytes, warnings })
        }
        StillFormat::WebP => {
            let planes = if opaque { colours } else { colours + 1 };
            let mut pixels = to_8_bits(interleave(frame, planes));
            if grey {
                pixels = grey_to_rgb(&pixels, planes);
            }
            let bytes = encode_webp(&pixels, w, h, !opaque, settings)?;
            Ok(Encoded { bytes, warnings })
        }
        StillFormat::Png | StillFormat::Bmp => {
            let planes = if opaque { colours } else { colours + 1 };
            let mut samples = interleave(frame, planes);
            let mut channels = planes;
            if format == StillFormat::Bmp {
                samples = Samples::U8(to_8_bits(samples));
                if grey {
                    let Samples::U8(p) = &samples else {
                        unreachable!()
                    };
                    samples = Samples::U8(grey_to_rgb(p, planes));
                    channels += 2;
                }
            }
            let (bytes, color) = as_encoder_takes(&samples, channels);
            let mut out = Vec::new();
            let written = if format == StillFormat::Png {
                let compression = match (settings.fast, settings.compression) {
                    (true, _) => CompressionType::Fast,
                    (false, Some(0)) => CompressionType::Uncompressed,
                    (false, level) => {
                        CompressionType::Level(level.unwrap_or(DEFAULT_PNG_COMPRESSION))
                    }
                };
                PngEncoder::new_with_quality(&mut out, compression, FilterType::Adaptive)
                    .write_image(&bytes, w, h, color)
            } else {
                BmpEncoder::new(&mut out).write_image(&bytes, w, h, color)
            };
            written.map_err(|e| format!("cannot encode the image: {e}"))?;
            Ok(Encoded {
                bytes: out,
                warnings,
            })
        }
        StillFormat::Tiff if settings.tiff_compression == Some(TiffCompression::Jpeg) => {
            // As vips: JPEG inside TIFF is 8-bit, and alpha is flattened as for a .jpg.
            let pixels = without_alpha(frame, colours, opaque, settings, &mut warnings);
            if f.bits > 8 {
                warnings.push(
                    "16-bit samples written as 8-bit (JPEG inside TIFF holds 8 bits; \
                     --tiff-compression lzw or deflate keeps 16)"
                        .into(),
                );
            }
            let bytes = encode_tiff(&Samples::U8(pixels), w, h, colours, settings)?;
            Ok(Encoded { bytes, warnings })
        }
        StillFormat::Tiff => {
            let planes = if opaque { colours } else { colours + 1 };
            let mut samples = interleave(frame, planes);
            let mut channels = planes;
            // Grey with alpha as RGBA: the image crate's TIFF reader, tessera's own, reads no
            // two-sample grey.
            if planes == 2 {
                samples = match samples {
                    Samples::U8(p) => Samples::U8(grey_to_rgb(&p, 2)),
                    Samples::U16(p) => Samples::U16(grey_to_rgb(&p, 2)),
                };
                channels = 4;
            }
            let bytes = encode_tiff(&samples, w, h, channels, settings)?;
            Ok(Encoded { bytes, warnings })
        }
        StillFormat::Avif => encode_avif(frame, settings, &Metadata::default()),
    }
}

/// Encodes `frame` as AVIF with `meta`'s blocks inside, which AVIF's encoder writes itself (no
/// embedding afterwards): 8-bit frames at 8 bits, 16-bit ones at 10 bits (12 when lossless);
/// grey written as RGB (tessera's AVIFs are RGB); an alpha plane kept unless it is opaque. The
/// Exif orientation, where the picture was not turned upright, goes into AVIF's irot and imir
/// boxes, which viewers apply.
pub fn encode_avif(
    frame: &Frame,
    settings: &ImageSettings,
    meta: &Metadata,
) -> Result<Encoded, EncodeError> {
    #[cfg(feature = "avif")]
    {
        let f = &frame.format;
        let grey = f.layout.family == Family::Gray;
        let colours = if grey { 1 } else { 3 };
        let opaque = f.layout.alpha_plane().is_none_or(|a| is_opaque(frame, a));
        let planes = if opaque { colours } else { colours + 1 };
        let mut samples = interleave(frame, planes);
        if grey {
            samples = match samples {
                Samples::U8(p) => Samples::U8(grey_to_rgb(&p, planes)),
                Samples::U16(p) => Samples::U16(grey_to_rgb(&p, planes)),
            };
        }
        let orientation = meta
            .exif
            .as_deref()
            .and_then(super::metadata::orientation)
            .and_then(image::metadata::Orientation::from_exif)
            .unwrap_or(image::metadata::Orientation::NoTransforms);
        let source = super::avif::Source {
            width: frame.width(),
            height: frame.height(),
            channels: if opaque { 3 } else { 4 },
            samples: &samples,
            orientation,
        };
        let bytes = super::avif::encode(&source, settings, meta)
            .map_err(|e| format!("cannot encode the AVIF: {e}"))?;
        Ok(Encoded {
            bytes,
            warnings: Vec::new(),
        })
    }
    #[cfg(not(feature = "avif"))]
    {
        let _ = (frame, settings, meta);
        Err(NO_AVIF.into())
    }
}

/// Why a build without the `avif` feature writes no AVIF.
pub const NO_AVIF: &str = "this build of tessera has no AVIF support (the cargo feature `avif`, \
                           which needs the system's libavif)";

/// The frame's colour planes as 8-bit samples for an encoder without alpha (JPEG): an alpha
/// plane that is not opaque everywhere flattened onto `--background`, with the warning.
fn without_alpha(
    frame: &Frame,
    colours: usize,
    opaque: bool,
    settings: &ImageSettings,
    warnings: &mut Vec<String>,
) -> Vec<u8> {
    if opaque {
        return to_8_bits(interleave(frame, colours));
    }
    let background = settings.background.unwrap_or([255, 255, 255]);
    warnings.push(flattened(background));
    flatten(frame, colours, background)
}

/// The report's warning for alpha flattened onto `background`.
fn flattened(background: [u8; 3]) -> String {
    format!(
        "alpha flattened onto {} (JPEG has no alpha; --background sets the colour)",
        colour_name(background)
    )
}

/// `#rrggbb`, or the name for white and black.
fn colour_name(rgb: [u8; 3]) -> String {
    match rgb {
        [255, 255, 255] => "white (#ffffff)".into(),
        [0, 0, 0] => "black (#000000)".into(),
        [r, g, b] => format!("#{r:02x}{g:02x}{b:02x}"),
    }
}

/// Parses a background colour: `#rrggbb`, `rrggbb`, `#rgb`, or one of white, black, grey
/// (gray), red, green, blue.
pub fn parse_colour(text: &str) -> Result<[u8; 3], String> {
    let named = match text.to_ascii_lowercase().as_str() {
        "white" => Some([255, 255, 255]),
        "black" => Some([0, 0, 0]),
        "grey" | "gray" => Some([128, 128, 128]),
        "red" => Some([255, 0, 0]),
        "green" => Some([0, 128, 0]),
        "blue" => Some([0, 0, 255]),
        _ => None,
    };
    if let Some(rgb) = named {
        return Ok(rgb);
    }
    let digits = text.strip_prefix('#').unwrap_or(text);
    let hex = |s: &str| u8::from_str_radix(s, 16).ok();
    let rgb = match digits.len() {
        6 if digits.is_ascii() => (|| {
            Some([
                hex(&digits[0..2])?,
                hex(&digits[2..4])?,
                hex(&digits[4..6])?,
            ])
        })(),
        3 if digits.is_ascii() => (|| {
            let d = |i: usize| hex(&digits[i..i + 1]).map(|v| v * 17);
            Some([d(0)?, d(1)?, d(2)?])
        })(),
        _ => None,
    };
    rgb.ok_or_else(|| {
        format!("'{text}' is not a colour (#rrggbb, #rgb, or white, black, grey, red, green, blue)")
    })
}

/// How one JPEG stream is encoded: what a .jpg and the strips or tiles of a JPEG-compressed TIFF
/// share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JpegOptions {
    pub quality: u8,
    pub subsampling: Subsampling,
    pub progressive: bool,
}

impl JpegOptions {
    /// The options `settings` give, with the defaults filled in.
    pub fn from_settings(settings: &ImageSettings) -> JpegOptions {
        let quality = settings.quality.unwrap_or(DEFAULT_JPEG_QUALITY);
        let subsampling = settings
            .subsampling
            .unwrap_or(if quality >= FULL_CHROMA_FROM {
                Subsampling::S444
            } else {
                Subsampling::S420
            });
        JpegOptions {
            quality,
            subsampling,
            progressive: settings.progressive,
        }
    }
}

fn encode_jpeg(
    pixels: &[u8],
    w: u32,
    h: u32,
    grey: bool,
    settings: &ImageSettings,
) -> Result<Vec<u8>, EncodeError> {
    jpeg_stream(pixels, w, h, grey, &JpegOptions::from_settings(settings))
}

/// One complete JPEG stream (a .jpg's bytes) of 8-bit grey or RGB `pixels`, through mozjpeg
/// with optimised Huffman tables.
pub(crate) fn jpeg_stream(
    pixels: &[u8],
    w: u32,
    h: u32,
    grey: bool,
    options: &JpegOptions,
) -> Result<Vec<u8>, EncodeError> {
    jpeg_fits(w, h)?;
    // mozjpeg reports its errors by unwinding.
    let result = std::panic::catch_unwind(|| -> std::io::Result<Vec<u8>> {
        let mut started = jpeg_compressor(w, h, grey, options).start_compress(Vec::new())?;
        started.write_scanlines(pixels)?;
        started.finish()
    });
    jpeg_result(result)
}

/// Refuses a JPEG larger than its headers can say.
pub(crate) fn jpeg_fits(w: u32, h: u32) -> Result<(), EncodeError> {
    if w > 65_535 || h > 65_535 {
        return Err(format!(
            "{w}×{h} is too large for JPEG (at most 65535 pixels a side)"
        ));
    }
    Ok(())
}

/// mozjpeg's compressor for a `w`×`h` 8-bit grey or RGB picture with `options`, optimised
/// Huffman tables, not started. It may panic, as mozjpeg reports errors: call it inside
/// `catch_unwind`, and give [`jpeg_result`] the outcome.
pub(crate) fn jpeg_compressor(
    w: u32,
    h: u32,
    grey: bool,
    options: &JpegOptions,
) -> mozjpeg::Compress {
    use mozjpeg::{ColorSpace, Compress};
    let JpegOptions {
        quality,
        subsampling,
        progressive,
    } = *options;
    let mut c = Compress::new(if grey {
        ColorSpace::JCS_GRAYSCALE
    } else {
        ColorSpace::JCS_RGB
    });
    c.set_size(w as usize, h as usize);
    c.set_quality(f32::from(quality));
    if !grey {
        let size = match subsampling {
            Subsampling::S444 => (1, 1),
            Subsampling::S422 => (2, 1),
            Subsampling::S420 => (2, 2),
        };
        c.set_chroma_sampling_pixel_sizes(size, size);
    }
    c.set_optimize_coding(true);
    if progressive {
        c.set_progressive_mode();
    } else {
        // mozjpeg's defaults are progressive: no scan script makes a baseline JPEG.
        c.set_optimize_scans(false);
    }
    c
}

/// A mozjpeg call's outcome, caught as it unwinds, in the user's words.
pub(crate) fn jpeg_result<T>(
    result: std::thread::Result<std::io::Result<T>>,
) -> Result<T, EncodeError> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("cannot encode the JPEG: {e}")),
        Err(panic) => Err(format!(
            "cannot encode the JPEG: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the encoder failed")
        )),
    }
}

/// The bytes mozjpeg holds while it encodes a `w`×`h` picture with `options`: with optimised
/// Huffman tables and trellis quantisation, every DCT coefficient of the picture until the end,
/// twice (quantised, and as the trellis had them): 6 bytes a pixel at 4:2:0 (an 8000×8000
/// picture written in bands peaked 358 MiB above the same run written as TIFF).
pub fn jpeg_held_bytes(w: u32, h: u32, grey: bool, options: &JpegOptions) -> u64 {
    let chroma = match options.subsampling {
        Subsampling::S444 => (1, 1),
        Subsampling::S422 => (2, 1),
        Subsampling::S420 => (2, 2),
    };
    let sampling: &[(u8, u8)] = if grey {
        &[(1, 1)]
    } else {
        &[chroma, (1, 1), (1, 1)]
    };
    2 * super::jpeg::coefficient_bytes(w, h, sampling)
}

fn encode_webp(
    pixels: &[u8],
    w: u32,
    h: u32,
    alpha: bool,
    settings: &ImageSettings,
) -> Result<Vec<u8>, EncodeError> {
    if w > 16_383 || h > 16_383 {
        return Err(format!(
            "{w}×{h} is too large for WebP (at most 16383 pixels a side)"
        ));
    }
    let layout = if alpha {
        ::webp::PixelLayout::Rgba
    } else {
        ::webp::PixelLayout::Rgb
    };
    let mut config =
        ::webp::WebPConfig::new().map_err(|()| "cannot set up libwebp's encoder".to_string())?;
    config.method = webp_method(settings.effort.unwrap_or(DEFAULT_EFFORT));
    if settings.lossless {
        config.lossless = 1;
        // The colour under transparent pixels is kept too: lossless means every sample.
        config.exact = 1;
        // In lossless mode libwebp reads quality as how hard to search; 75 is its default.
        config.quality = 75.0;
    } else {
        config.quality = f32::from(settings.quality.unwrap_or(DEFAULT_WEBP_QUALITY));
    }
    let memory = ::webp::Encoder::new(pixels, layout, w, h)
        .encode_advanced(&config)
        .map_err(|e| format!("cannot encode the WebP: libwebp says {e:?}"))?;
    Ok(memory.to_vec())
}

fn encode_tiff(
    samples: &Samples,
    w: u32,
    h: u32,
    planes: usize,
    settings: &ImageSettings,
) -> Result<Vec<u8>, EncodeError> {
    use tiff::encoder::{colortype, Compression, DeflateLevel, Predictor, TiffEncoder};
    let codec = match settings.tiff_compression {
        None | Some(TiffCompression::None) => Codec::None,
        Some(TiffCompression::Lzw) => Codec::Lzw,
        Some(TiffCompression::Deflate) => Codec::Deflate,
        Some(TiffCompression::Jpeg) => Codec::Jpeg(JpegOptions::from_settings(settings)),
    };
    // Tiles, pyramids and JPEG are written by tessera's own TIFF writer; plain strips by the
    // `tiff` crate's.
    if settings.tiff_tile.is_some() || settings.tiff_pyramid || matches!(codec, Codec::Jpeg(_)) {
        let tile = settings.tiff_tile.or(settings
            .tiff_pyramid
            .then_some((DEFAULT_TILE, DEFAULT_TILE)));
        let layout = tiff_file::Layout {
            codec,
            tile,
            pyramid: settings.tiff_pyramid,
        };
        return tiff_file::write(samples, w, h, planes, &layout);
    }
    let compression = match codec {
        Codec::Lzw => Compression::Lzw,
        Codec::Deflate => Compression::Deflate(DeflateLevel::Balanced),
        _ => Compression::Uncompressed,
    };
    // Differences between neighbours compress better than the samples themselves.
    let predictor = match compression {
        Compression::Uncompressed => Predictor::None,
        _ => Predictor::Horizontal,
    };
    let mut out = Cursor::new(Vec::new());
    let result = (|| -> tiff::TiffResult<()> {
        let mut encoder = TiffEncoder::new(&mut out)?
            .with_compression(compression)
            .with_predictor(predictor);
        match (samples, planes) {
            (Samples::U8(p), 1) => encoder.write_image::<colortype::Gray8>(w, h, p),
            (Samples::U8(p), 3) => encoder.write_image::<colortype::RGB8>(w, h, p),
            (Samples::U8(p), _) => encoder.write_image::<colortype::RGBA8>(w, h, p),
            (Samples::U16(p), 1) => encoder.write_image::<colortype::Gray16>(w, h, p),
            (Samples::U16(p), 3) => encoder.write_image::<colortype::RGB16>(w, h, p),
            (Samples::U16(p), _) => encoder.write_image::<colortype::RGBA16>(w, h, p),
        }
    })();
    result.map_err(|e| format!("cannot encode the TIFF: {e}"))?;
    Ok(out.into_inner())
}

/// The frame's first `planes` planes, interleaved.
fn interleave(frame: &Frame, planes: usize) -> Samples {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    fn join<T: Copy>(
        rows: &dyn Fn(usize, usize) -> Vec<T>,
        planes: usize,
        w: usize,
        h: usize,
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(w * h * planes);
        for y in 0..h {
            let rows: Vec<Vec<T>> = (0..planes).map(|p| rows(p, y)).collect();
            for x in 0..w {
                out.extend(rows.iter().map(|r| r[x]));
            }
        }
        out
    }
    if frame.format.is_wide() {
        Samples::U16(join(&|p, y| frame.plane16(p).row(y).to_vec(), planes, w, h))
    } else {
        Samples::U8(join(&|p, y| frame.plane8(p).row(y).to_vec(), planes, w, h))
    }
}

/// Samples as the `image` crate's encoders take them (16-bit ones native-endian).
fn as_encoder_takes(samples: &Samples, channels: usize) -> (Vec<u8>, ExtendedColorType) {
    match samples {
        Samples::U8(p) => (
            p.clone(),
            match channels {
                1 => ExtendedColorType::L8,
                2 => ExtendedColorType::La8,
                3 => ExtendedColorType::Rgb8,
                _ => ExtendedColorType::Rgba8,
            },
        ),
        Samples::U16(p) => (
            bytemuck::cast_slice(p).to_vec(),
            match channels {
                1 => ExtendedColorType::L16,
                2 => ExtendedColorType::La16,
                3 => ExtendedColorType::Rgb16,
                _ => ExtendedColorType::Rgba16,
            },
        ),
    }
}

/// Grey (with alpha where `planes` is 2) spread to RGB(A).
fn grey_to_rgb<T: Copy>(pixels: &[T], planes: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(pixels.len() / planes * (planes + 2));
    for px in pixels.chunks_exact(planes) {
        out.extend_from_slice(&[px[0], px[0], px[0]]);
        if planes == 2 {
            out.push(px[1]);
        }
    }
    out
}

fn to_8_bits(samples: Samples) -> Vec<u8> {
    match samples {
        Samples::U8(p) => p,
        Samples::U16(p) => p.iter().map(|&v| to_8_bit(v)).collect(),
    }
}

/// 16-bit code value to the nearest 8-bit one.
#[inline]
pub(crate) fn to_8_bit(v: u16) -> u8 {
    ((v as u32 * 255 + 32767) / 65535) as u8
}

/// The colour planes composited over `background` by the alpha plane, as 8-bit samples:
/// c·a + b·(1 − a), rounded, from the frame's own depth.
fn flatten(frame: &Frame, colours: usize, background: [u8; 3]) -> Vec<u8> {
    let planes = colours + 1;
    let max = frame.format.max_code() as u64;
    let values: Vec<u64> = match interleave(frame, planes) {
        Samples::U8(p) => p.into_iter().map(u64::from).collect(),
        Samples::U16(p) => p.into_iter().map(u64::from).collect(),
    };
    let bg: Vec<u64> = if colours == 1 {
        // A grey picture flattens onto the background's luma (BT.601 weights, as JPEG's).
        let [r, g, b] = background.map(u64::from);
        vec![(299 * r + 587 * g + 114 * b + 500) / 1000]
    } else {
        background.iter().map(|&v| u64::from(v)).collect()
    };
    let mut out = Vec::with_capacity(values.len() / planes * colours);
    for px in values.chunks_exact(planes) {
        let a = px[colours];
        for c in 0..colours {
            // In 8-bit units times max: c·a·255/max + b·(max − a), all over max.
            let value = px[c] * a * 255 / max.max(1) + bg[c] * (max - a);
            let v = (value + max / 2) / max;
            out.push(v.min(255) as u8);
        }
    }
    out
}

/// True when the alpha plane `a` of `frame` is opaque everywhere.
pub(crate) fn is_opaque(frame: &Frame, a: usize) -> bool {
    let max = frame.format.max_code();
    match frame.plane(a) {
        PlaneRef::U8(p) => (0..p.height).all(|y| p.row(y).iter().all(|&v| v as u32 == max)),
        PlaneRef::U16(p) => (0..p.height).all(|y| p.row(y).iter().all(|&v| v as u32 == max)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_maps_onto_libwebps_methods() {
        let methods: Vec<i32> = (0..=9).map(webp_method).collect();
        assert_eq!(methods, [0, 1, 1, 2, 3, 3, 4, 5, 5, 6]);
        assert_eq!(webp_method(DEFAULT_EFFORT), 4, "libwebp's own default");
    }

    #[test]
    fn colours_by_name_and_hex() {
        assert_eq!(parse_colour("white"), Ok([255, 255, 255]));
        assert_eq!(parse_colour("Black"), Ok([0, 0, 0]));
        assert_eq!(parse_colour("#336699"), Ok([0x33, 0x66, 0x99]));
        assert_eq!(parse_colour("336699"), Ok([0x33, 0x66, 0x99]));
        assert_eq!(parse_colour("#f80"), Ok([0xff, 0x88, 0x00]));
        for bad in ["mauve", "#12345", "#gg0000", "", "#ééé"] {
            assert!(parse_colour(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sixteen_bit_alpha_flattens_like_eight_bit() {
        let f8 = Frame::from_rgba8(2, 1, vec![200, 100, 0, 128, 10, 20, 30, 255]);
        let f16 = Frame::from_rgba16(
            2,
            1,
            [200u16, 100, 0, 128, 10, 20, 30, 255]
                .iter()
                .map(|&v| v * 257)
                .collect(),
        );
        let a = flatten(&f8, 3, [0, 0, 255]);
        let b = flatten(&f16, 3, [0, 0, 255]);
        assert_eq!(a, b);
        // 200·128/255 + 0 = 100.4; blue 0 + 255·127/255 = 127.
        assert_eq!(&a[..3], &[100, 50, 127]);
        assert_eq!(&a[3..], &[10, 20, 30], "opaque pixels are as they were");
    }

    #[test]
    fn jpeg_tables_scale_annex_k_as_libjpeg_does() {
        // Quality 50 is Annex K itself; 100 is all ones; 75 halves (rounded); low qualities
        // reach the baseline's 255.
        assert_eq!(jpeg_tables(50), ANNEX_K);
        assert!(jpeg_tables(100).iter().flatten().all(|&v| v == 1));
        assert_eq!(jpeg_tables(75)[0][..4], [8, 6, 5, 8]);
        assert_eq!(jpeg_tables(85)[1][0], 5);
        assert_eq!(jpeg_tables(1)[1][63], 255);
        assert_eq!(jpeg_tables(0), jpeg_tables(1));
    }

    #[test]
    fn flags_apply_by_format() {
        let quality = ImageSettings {
            quality: Some(50),
            ..ImageSettings::default()
        };
        assert!(check_flags(&quality, &[], Target::Still(StillFormat::Jpeg, "a.jpg")).is_ok());
        assert!(check_flags(&quality, &[], Target::Still(StillFormat::Avif, "a.avif")).is_ok());
        let err = check_flags(&quality, &[], Target::Still(StillFormat::Png, "a.png")).unwrap_err();
        assert_eq!(
            err,
            "--quality does not apply to a.png, a PNG image; the flags for PNG are \
             --compression, --fast"
        );
        assert!(check_flags(&quality, &[], Target::Sequence(StillFormat::Jpeg, "f")).is_ok());
        assert!(check_flags(
            &quality,
            &["--bitrate"],
            Target::Sequence(StillFormat::Jpeg, "f")
        )
        .is_err());
        let progressive = ImageSettings {
            progressive: true,
            ..ImageSettings::default()
        };
        assert!(check_flags(&progressive, &[], Target::Sequence(StillFormat::Jpeg, "f")).is_err());
        assert!(check_flags(&quality, &[], Target::Sequence(StillFormat::WebP, "f")).is_ok());
        let none = ImageSettings::default();
        assert!(check_flags(&none, &["--crf"], Target::Video("a.mp4")).is_ok());
        assert!(check_flags(&none, &["--crf"], Target::Sequence(StillFormat::Png, "f")).is_ok());
        let err =
            check_flags(&none, &["--crf"], Target::Still(StillFormat::Bmp, "a.bmp")).unwrap_err();
        assert!(err.contains("BMP takes no encoding flag"), "{err}");
        assert_eq!(
            sequence_options(&quality, StillFormat::WebP),
            (vec![("quality".to_string(), "50".to_string())], None)
        );
    }
}
