//! Still images: PNG, JPEG, WebP, TIFF and BMP through the `image` crate (JPEG through
//! zune-jpeg), AVIF through [`super::avif`] (libavif, with the `avif` feature).
//!
//! Reading recognises the format from the file's content, never its name, turns photos upright
//! by their Exif orientation (an AVIF by its irot and imir boxes), and keeps the source's depth:
//! images become RGB or grey planes (with an alpha plane where the file has alpha), 16-bit for
//! 16-bit PNG and TIFF and 10- or 12-bit AVIF, 8-bit otherwise. Writing picks the format from a
//! file name's extension ([`super::encoders`] says what each keeps). An image whose alpha is opaque everywhere is
//! written without an alpha channel. [`still_info`] reads a still's header facts (size,
//! orientation, colour type, ICC profile, Exif) for `probe` without decoding it. This module
//! never renames or deletes files: the caller writes to a temporary path and moves it into place.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use serde::Serialize;

use super::encoders::{Encoded, StillFormat};
pub use super::encoders::{Subsampling, TiffCompression};
use super::icc::{self, IccProfile};
use super::metadata::{self, ExifSummary, Metadata};
use super::{damage, display, io_message, Damage, MediaError};
use crate::frame::{Frame, Samples};

/// How to encode a still picture: the options a user gives for the output's format. Every field
/// left at its default takes the format's default (see [`super::encoders`], which also says
/// which field applies to which format).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageSettings {
    /// 0 to 100, for the lossy formats (JPEG, lossy WebP, AVIF).
    pub quality: Option<u8>,
    /// Lossless WebP or AVIF.
    pub lossless: bool,
    /// How hard a WebP or AVIF encoder works for a smaller file: 0 (fastest) to 9 (smallest).
    pub effort: Option<u8>,
    /// A JPEG's chroma subsampling; by default 4:2:0 below quality 90, 4:4:4 from it.
    pub subsampling: Option<Subsampling>,
    /// A progressive JPEG instead of a baseline one.
    pub progressive: bool,
    /// A PNG's zlib level, 0 (stored) to 9.
    pub compression: Option<u8>,
    /// A PNG compressed for speed (fdeflate) rather than size.
    pub fast: bool,
    /// How a TIFF is compressed; by default not at all.
    pub tiff_compression: Option<TiffCompression>,
    /// A tiled TIFF with tiles of this width and height (multiples of 16); strips by default.
    pub tiff_tile: Option<(u32, u32)>,
    /// A TIFF pyramid: reduced-resolution IFDs after the full-size one (tiled).
    pub tiff_pyramid: bool,
    /// The colour alpha is flattened onto where the format has no alpha (JPEG, and TIFF with
    /// JPEG compression); white by default.
    pub background: Option<[u8; 3]>,
}

/// What happens to a photo's orientation, colour and metadata between reading and writing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PhotoOptions {
    /// Turn the picture upright by its Exif orientation (the default; off with
    /// `--no-auto-orient`, which keeps the pixels and the tag as they are).
    pub auto_orient: bool,
    /// The metadata blocks left out of the output (`--strip`).
    pub strip: Strip,
    /// Filter and write in the source's own colour space, its profile kept (`--keep-profile`),
    /// instead of converting a tagged source to sRGB.
    pub keep_profile: bool,
    /// Convert to this ICC profile for writing, and embed it (`--profile FILE.icc`).
    pub profile: Option<std::path::PathBuf>,
    /// How colours are brought into a smaller gamut by these conversions (`--intent`; relative
    /// colorimetric by default, as vips).
    pub intent: super::cms::Intent,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions {
            auto_orient: true,
            strip: Strip::default(),
            keep_profile: false,
            profile: None,
            intent: super::cms::Intent::default(),
        }
    }
}

/// Which metadata blocks `--strip` removes; by default none is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Strip {
    pub exif: bool,
    pub xmp: bool,
    pub icc: bool,
}

impl Strip {
    /// Every block (`--strip` alone, as `vips --strip` and `mogrify -strip`).
    pub const ALL: Strip = Strip {
        exif: true,
        xmp: true,
        icc: true,
    };

    /// The blocks a comma-separated list names: `exif`, `xmp`, `icc`, or `all`.
    pub fn parse(list: &str) -> Result<Strip, String> {
        let mut strip = Strip::default();
        for name in list.split(',').map(str::trim) {
            match name.to_ascii_lowercase().as_str() {
                "exif" => strip.exif = true,
                "xmp" => strip.xmp = true,
                "icc" => strip.icc = true,
                "all" => strip = Strip::ALL,
                _ => {
                    return Err(format!(
                        "'{name}' is not a metadata block (expected exif, xmp, icc or all, \
                         comma-separated)"
                    ))
                }
            }
        }
        Ok(strip)
    }

    /// Both lists' blocks.
    pub fn union(self, other: Strip) -> Strip {
        Strip {
            exif: self.exif || other.exif,
            xmp: self.xmp || other.xmp,
            icc: self.icc || other.icc,
        }
    }

    /// Removes the blocks this names from `meta`.
    pub fn apply(&self, meta: &mut Metadata) {
        if self.exif {
            meta.exif = None;
        }
        if self.xmp {
            meta.xmp = None;
        }
        if self.icc {
            meta.icc = None;
        }
    }
}

const EXPECTED: &str = "expected PNG, JPEG, WebP, TIFF, BMP or AVIF";
#[cfg(feature = "video")]
const EXPECTED_ANY: &str =
    "images: PNG, JPEG, WebP, TIFF, BMP or AVIF; video: any container FFmpeg reads";
#[cfg(not(feature = "video"))]
const EXPECTED_ANY: &str =
    "images: PNG, JPEG, WebP, TIFF, BMP or AVIF; this build has no video support";

/// The formats tessera reads and writes. AVIF is one in every build, so that a build without the
/// `avif` feature refuses it as an image (saying why) rather than handing it to FFmpeg.
fn supported(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::WebP
            | ImageFormat::Tiff
            | ImageFormat::Bmp
            | ImageFormat::Avif
    )
}

/// True when the path's extension names an image format tessera writes (`.png`, `.jpg`,
/// `.jpeg`, `.webp`, `.tif`, `.tiff`, `.bmp`, any case). Anything else is taken for video.
pub fn is_image_path(path: &Path) -> bool {
    format_from_extension(path).is_some()
}

/// True when the file's first bytes are those of an image format tessera reads, false when it
/// is an animated WebP or is not an image but FFmpeg recognises its container (either way it is
/// read as video). Fails when the
/// file cannot be read, is named like an image but holds none, is a damaged video container
/// ([`MediaError::Decode`], saying what is wrong), or is neither an image nor a video (without
/// the `video` feature: is not an image).
pub fn is_image_file(path: &Path) -> Result<bool, MediaError> {
    let mut head = Vec::with_capacity(64);
    File::open(path)
        .and_then(|f| f.take(64).read_to_end(&mut head))
        .map_err(|e| MediaError::Open {
            path: display(path),
            message: io_message(&e),
        })?;
    match image::guess_format(&head) {
        // An animated WebP is a video, whose frames `media::decode` reads.
        Ok(ImageFormat::WebP) => return Ok(!is_animated_webp(path)),
        Ok(format) if supported(format) => return Ok(true),
        _ => {}
    }
    // FFmpeg would take a file named like an image for a one-picture video, whatever it holds.
    if is_image_path(path) {
        return Err(MediaError::Unsupported {
            path: display(path),
            message: format!("unsupported image format ({EXPECTED})"),
        });
    }
    let unknown = format!("not an image or video file tessera can read ({EXPECTED_ANY})");
    #[cfg(feature = "video")]
    return super::decode::recognised(path, &unknown).map(|()| false);
    #[cfg(not(feature = "video"))]
    Err(MediaError::Open {
        path: display(path),
        message: unknown,
    })
}

fn format_from_extension(path: &Path) -> Option<ImageFormat> {
    ImageFormat::from_path(path).ok().filter(|&f| supported(f))
}

/// True when `path` is a WebP holding an animation, which tessera reads as a video (false when
/// it is not a WebP, is a still one, or its header cannot be read).
pub fn is_animated_webp(path: &Path) -> bool {
    File::open(path)
        .ok()
        .and_then(|f| image::codecs::webp::WebPDecoder::new(BufReader::new(f)).ok())
        .is_some_and(|d| d.has_animation())
}

/// Reads an image into a frame: RGB planes (and alpha where the file has it), 16-bit for 16-bit
/// (and floating-point) sources, 8-bit otherwise. Damage the decoder reports or works around is
/// an error ([`MediaError::DamagedImage`]).
pub fn read(path: &Path) -> Result<Frame, MediaError> {
    match read_damaged(path)? {
        (frame, None) => Ok(frame),
        (_, Some(damage)) => Err(MediaError::DamagedImage {
            path: display(path),
            damage,
        }),
    }
}

/// [`read`], keeping what the decoder made of damaged data: the frame, and what is wrong with
/// it when the data is damaged. Where a JPEG's data ends or goes wrong the decoder fills in grey;
/// what the other decoders could not reach is black (and transparent). Fails where no picture
/// can be made, damage included (a header cut short is a [`MediaError::DamagedImage`]).
pub fn read_damaged(path: &Path) -> Result<(Frame, Option<Damage>), MediaError> {
    let photo = read_photo(path, true)?;
    Ok((photo.frame, photo.damage))
}

/// A still as a job reads it: the picture, its damage, and its metadata blocks.
#[derive(Debug)]
pub struct Photo {
    pub frame: Frame,
    /// What is wrong with the picture's data, as [`read_damaged`] says.
    pub damage: Option<Damage>,
    /// The Exif, XMP and ICC blocks; with the picture turned upright, its orientation set to 1.
    pub metadata: Metadata,
    /// The metadata blocks that could not be read or kept (left out), one line each.
    pub warnings: Vec<String>,
}

/// [`read_damaged`] with the picture's metadata blocks. With `auto_orient` the picture is turned
/// upright by its Exif orientation and its Exif and XMP orientation become 1; without it the
/// pixels and the tags are left as stored.
pub fn read_photo(path: &Path, auto_orient: bool) -> Result<Photo, MediaError> {
    read_photo_within(path, auto_orient, DECODE_LIMIT, 1)
}

/// What a picture may take once decoded where the caller sets no limit: the `image` crate's
/// own default, 512 MiB.
pub const DECODE_LIMIT: u64 = 512 << 20;

/// [`read_photo`], the decoded picture allowed `max_bytes` (a job's `--max-memory`): a larger
/// one is refused before it is decoded. A JPEG or a still WebP is decoded `shrink` (2, 4 or 8)
/// times smaller on each side by the decoder itself, where that is more than 1 ([`shrunk_size`]
/// gives the size); any other format, and a JPEG the shrinking decoder finds damaged or cannot
/// read (CMYK), is decoded whole.
pub fn read_photo_within(
    path: &Path,
    auto_orient: bool,
    max_bytes: u64,
    shrink: u32,
) -> Result<Photo, MediaError> {
    // A clean JPEG is decoded by libjpeg from the file, straight into its frame's planes (shrunk
    // on load where asked); any other, and a JPEG libjpeg finds damaged, is read into memory
    // and decoded below.
    if is_jpeg(path) {
        if let Some((frame, header)) = super::jpeg::read_whole(path, max_bytes, shrink) {
            return Ok(turned_upright(
                frame,
                &header.bytes,
                ImageFormat::Jpeg,
                auto_orient,
            ));
        }
    }
    let bytes = std::fs::read(path).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    let format = match image::guess_format(&bytes) {
        Ok(format) if supported(format) => format,
        Ok(format) => {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!("unsupported image format {format:?} ({EXPECTED})"),
            })
        }
        Err(_) => {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!("unsupported image format ({EXPECTED})"),
            })
        }
    };
    if format == ImageFormat::WebP && is_animated_webp(path) {
        return Err(MediaError::Unsupported {
            path: display(path),
            message: "an animated WebP, which reads as a video, not a still image (taking its \
                      first frame alone would lose the rest)"
                .into(),
        });
    }
    let name = format_name(format);
    let damaged = |what: String| MediaError::DamagedImage {
        path: display(path),
        damage: Damage { format: name, what },
    };
    // Damage the file's structure shows, which the decoders leave unchecked.
    let structural = match format {
        ImageFormat::Png => damage::png_chunks(&bytes),
        ImageFormat::WebP => damage::riff_size(&bytes, bytes.len() as u64),
        ImageFormat::Jpeg => damage::jpeg_end(&bytes),
        _ => None,
    };
    // What the decoder says comes first where it says where (a JPEG's row), else the
    // structure's damage.
    let first = |found: Option<String>, structural: Option<String>| match format {
        ImageFormat::Jpeg => found.or(structural),
        _ => structural.or(found),
    };
    // A WebP shrunk on load: libwebp's decoder scales it as it decodes, so the whole picture
    // is never held; one it finds damaged is decoded whole below, which says where.
    if format == ImageFormat::WebP && shrink > 1 && structural.is_none() {
        if let Some(frame) = read_webp_shrunk(&bytes, max_bytes, shrink) {
            return Ok(turned_upright(frame, &bytes, format, auto_orient));
        }
    }
    let decoded = match format {
        ImageFormat::Jpeg => read_jpeg(&bytes, max_bytes),
        ImageFormat::Avif => read_avif(&bytes, max_bytes),
        _ => read_with_image(format, &bytes, max_bytes),
    };
    let (mut image, orientation, found) = decoded.map_err(|e| match e {
        Unreadable::Damaged(what) => {
            damaged(first(Some(what), structural.clone()).unwrap_or_default())
        }
        Unreadable::Unsupported(message) => MediaError::Unsupported {
            path: display(path),
            message,
        },
        Unreadable::Other(message) => MediaError::Decode {
            path: display(path),
            message: format!("cannot decode the image: {message}"),
        },
    })?;
    let damage = first(found, structural).map(|what| Damage { format: name, what });
    let (mut metadata, mut warnings) = metadata::read(&bytes, format);
    if auto_orient {
        image.apply_orientation(orientation);
        metadata.mark_upright(&mut warnings);
    } else if format == ImageFormat::Avif {
        keep_avif_turn(&mut metadata, orientation, &mut warnings);
    }
    let (width, height) = (image.width(), image.height());
    let alpha = image.color().has_alpha();
    let deep = matches!(
        image,
        DynamicImage::ImageLuma16(_)
            | DynamicImage::ImageLumaA16(_)
            | DynamicImage::ImageRgb16(_)
            | DynamicImage::ImageRgba16(_)
            | DynamicImage::ImageRgb32F(_)
            | DynamicImage::ImageRgba32F(_)
    );
    // Each channel becomes its plane: grey one (and alpha), colour three (and alpha).
    let grey = matches!(
        image.color(),
        ColorType::L8 | ColorType::La8 | ColorType::L16 | ColorType::La16
    );
    let (channels, samples) = match (image, deep, alpha) {
        (DynamicImage::ImageLuma8(g), _, _) => (1, Samples::U8(g.into_raw())),
        (DynamicImage::ImageLumaA8(g), _, _) => (2, Samples::U8(g.into_raw())),
        (DynamicImage::ImageLuma16(g), _, _) => (1, Samples::U16(g.into_raw())),
        (DynamicImage::ImageLumaA16(g), _, _) => (2, Samples::U16(g.into_raw())),
        (DynamicImage::ImageRgb8(rgb), _, _) => (3, Samples::U8(rgb.into_raw())),
        (DynamicImage::ImageRgba8(rgba), _, _) => (4, Samples::U8(rgba.into_raw())),
        (DynamicImage::ImageRgb16(rgb), _, _) => (3, Samples::U16(rgb.into_raw())),
        (DynamicImage::ImageRgba16(rgba), _, _) => (4, Samples::U16(rgba.into_raw())),
        (image, true, true) => (4, Samples::U16(image.into_rgba16().into_raw())),
        (image, true, false) => (3, Samples::U16(image.into_rgb16().into_raw())),
        (image, false, true) => (4, Samples::U8(image.into_rgba8().into_raw())),
        (image, false, false) => (3, Samples::U8(image.into_rgb8().into_raw())),
    };
    debug_assert_eq!(grey, channels <= 2);
    let bits = if samples.is_wide() { 16 } else { 8 };
    let frame = Frame::from_interleaved(width, height, channels, bits, samples);
    Ok(Photo {
        frame,
        damage,
        metadata,
        warnings,
    })
}

/// How users name a format in messages.
fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        ImageFormat::WebP => "WebP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Avif => "AVIF",
        _ => "BMP",
    }
}

/// An AVIF kept as stored (`--no-auto-orient`) keeps its turn where other formats' viewers look
/// for it, in the Exif orientation (an AVIF's irot and imir boxes say it; its Exif orientation,
/// if any, is only informative): the block's tag set, or a block made that holds the tag alone.
fn keep_avif_turn(metadata: &mut Metadata, orientation: Orientation, warnings: &mut Vec<String>) {
    let value = orientation.to_exif();
    match &mut metadata.exif {
        None if value == 1 => {}
        None => metadata.exif = Some(metadata::orientation_only(value)),
        Some(exif) => {
            if let Err(why) = metadata::set_orientation(exif, u16::from(value)) {
                warnings.push(format!(
                    "the AVIF's turn ({}) is not kept: its Exif block cannot hold it ({why})",
                    orientation_name(value)
                ));
            }
        }
    }
}

/// Decodes an AVIF through libavif: the picture as stored, and the turn its irot/imir boxes
/// ask for. libavif makes a whole picture or none, so there is never partial damage to report.
#[cfg(feature = "avif")]
fn read_avif(bytes: &[u8], max_bytes: u64) -> Result<Decoded, Unreadable> {
    use super::avif::{self, AvifError};
    let decoded = avif::decode(bytes, max_bytes).map_err(|e| match e {
        AvifError::Damaged(what) => Unreadable::Damaged(what),
        AvifError::Unsupported(what) => Unreadable::Unsupported(what),
        AvifError::Failed(what) => Unreadable::Other(what),
    })?;
    let (w, h) = (decoded.header.width, decoded.header.height);
    let image = match (decoded.samples, decoded.channels) {
        (Samples::U8(p), 1) => image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageLuma8),
        (Samples::U8(p), 2) => image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageLumaA8),
        (Samples::U8(p), 3) => image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageRgb8),
        (Samples::U8(p), _) => image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageRgba8),
        (Samples::U16(p), 1) => {
            image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageLuma16)
        }
        (Samples::U16(p), 2) => {
            image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageLumaA16)
        }
        (Samples::U16(p), 3) => image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageRgb16),
        (Samples::U16(p), _) => {
            image::ImageBuffer::from_raw(w, h, p).map(DynamicImage::ImageRgba16)
        }
    }
    .ok_or_else(|| Unreadable::Other("the decoder's size is wrong".into()))?;
    Ok((image, decoded.header.orientation, None))
}

#[cfg(not(feature = "avif"))]
fn read_avif(_: &[u8], _: u64) -> Result<Decoded, Unreadable> {
    Err(Unreadable::Unsupported(format!(
        "an AVIF image, and {}",
        super::encoders::NO_AVIF
    )))
}

/// True when the file starts as a JPEG does (its SOI marker and the next marker's 0xFF).
pub fn is_jpeg(path: &Path) -> bool {
    let mut head = [0u8; 3];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head == [0xFF, 0xD8, 0xFF]
}

/// True when the picture at `path` can be decoded smaller by its decoder: a JPEG, or a still
/// WebP.
pub fn shrinks_on_load(path: &Path) -> bool {
    is_jpeg(path) || (format_of_file(path) == Some(ImageFormat::WebP) && !is_animated_webp(path))
}

/// The format the first bytes of the file at `path` say, if it can be read.
fn format_of_file(path: &Path) -> Option<ImageFormat> {
    let mut head = [0u8; 16];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .ok()?;
    image::guess_format(&head).ok()
}

/// The size a `width`×`height` JPEG or WebP decodes to when shrunk on load `shrink` (2, 4 or
/// 8) times: libjpeg scales the DCT by 8/`shrink` and rounds the size up; libwebp is asked for
/// the same size.
pub fn shrunk_size(width: u32, height: u32, shrink: u32) -> (u32, u32) {
    (width.div_ceil(shrink), height.div_ceil(shrink))
}

/// A picture decoded as stored, with the metadata `bytes` (its file, or its headers) hold:
/// turned upright as its Exif orientation says where `auto_orient` is on.
fn turned_upright(frame: Frame, bytes: &[u8], format: ImageFormat, auto_orient: bool) -> Photo {
    let (mut metadata, mut warnings) = metadata::read(bytes, format);
    let mut frame = frame;
    if auto_orient {
        let turn = metadata
            .exif
            .as_deref()
            .and_then(metadata::orientation)
            .map_or_else(crate::frame::Orientation::default, upright_turn);
        if !turn.is_identity() {
            frame = frame.oriented(turn);
        }
        metadata.mark_upright(&mut warnings);
    }
    Photo {
        frame,
        damage: None,
        metadata,
        warnings,
    }
}

/// Decodes a still WebP `shrink` (2, 4 or 8) times smaller on each side (its size rounded up,
/// as a JPEG's) through libwebp's scaling decoder, which averages the rows into the smaller
/// picture as it decodes them; `None` where libwebp cannot decode it or the picture would take
/// more than `max_bytes`, for the whole decode to say why.
fn read_webp_shrunk(bytes: &[u8], max_bytes: u64, shrink: u32) -> Option<Frame> {
    use libwebp_sys as webp;
    // SAFETY: the config is initialised by libwebp, read within `bytes`, and its output buffer
    // (allocated by libwebp, `size` bytes) is copied out before it is freed.
    unsafe {
        let mut config: webp::WebPDecoderConfig = std::mem::zeroed();
        if !webp::WebPInitDecoderConfig(&mut config) {
            return None;
        }
        if webp::WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut config.input)
            != webp::VP8StatusCode::VP8_STATUS_OK
            || config.input.has_animation != 0
        {
            return None;
        }
        let (width, height) = (config.input.width as u32, config.input.height as u32);
        let (w, h) = shrunk_size(width, height, shrink);
        let channels = if config.input.has_alpha != 0 { 4 } else { 3 };
        if (w as u64 * h as u64 * channels as u64) > max_bytes {
            return None;
        }
        config.options.use_scaling = 1;
        config.options.scaled_width = w as i32;
        config.options.scaled_height = h as i32;
        config.output.colorspace = if channels == 4 {
            webp::WEBP_CSP_MODE::MODE_RGBA
        } else {
            webp::WEBP_CSP_MODE::MODE_RGB
        };
        let status = webp::WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        let rgba = config.output.u.RGBA;
        let frame =
            (status == webp::VP8StatusCode::VP8_STATUS_OK && !rgba.rgba.is_null()).then(|| {
                let out = std::slice::from_raw_parts(rgba.rgba, rgba.size);
                let stride = rgba.stride as usize;
                let row = w as usize * channels;
                let mut samples = Vec::with_capacity(row * h as usize);
                for y in 0..h as usize {
                    samples.extend_from_slice(&out[y * stride..y * stride + row]);
                }
                Frame::from_interleaved(w, h, channels, 8, Samples::U8(samples))
            });
        webp::WebPFreeDecBuffer(&mut config.output);
        frame
    }
}

/// The turn that shows a picture stored with Exif orientation `exif` (1 to 8) upright, as
/// viewers and the `image` crate apply it: 2 mirrors, 3 turns half round, 4 flips top to
/// bottom (a mirror and a half turn), 5 transposes (a mirror and three quarter turns), 6 turns
/// a quarter clockwise, 7 transverses (a mirror and a quarter turn), 8 turns three quarters.
fn upright_turn(exif: u8) -> crate::frame::Orientation {
    let (mirror, quarter_turns) = match exif {
        2 => (true, 0),
        3 => (false, 2),
        4 => (true, 2),
        5 => (true, 3),
        6 => (false, 1),
        7 => (true, 1),
        8 => (false, 3),
        _ => (false, 0),
    };
    crate::frame::Orientation {
        mirror,
        quarter_turns,
    }
}

/// Refuses a decoded picture of `bytes` over `max_bytes`, in the user's words.
fn within(bytes: u64, max_bytes: u64) -> Result<(), Unreadable> {
    match over_budget(bytes, max_bytes) {
        Some(why) => Err(Unreadable::Other(why)),
        None => Ok(()),
    }
}

/// Why a picture whose decoded samples take `bytes` is not decoded within `max_bytes`; `None`
/// where it fits.
pub(super) fn over_budget(bytes: u64, max_bytes: u64) -> Option<String> {
    (bytes > max_bytes).then(|| {
        format!(
            "the decoded picture would take {}, more than the {} allowed (--max-memory)",
            crate::limits::bytes_text(bytes),
            crate::limits::bytes_text(max_bytes)
        )
    })
}

/// Why a decoder made no picture.
enum Unreadable {
    /// The data is damaged where no picture can be made of it (a header cut short).
    Damaged(String),
    Unsupported(String),
    /// Anything else: an image too large to hold.
    Other(String),
}

/// A picture, the turn its Exif asks for, and the damage the decoder reported, if any.
type Decoded = (DynamicImage, Orientation, Option<String>);

/// Decodes any format but JPEG through the `image` crate. A decoder that fails part way leaves
/// the rows it wrote; the rest stay zero.
fn read_with_image(
    format: ImageFormat,
    bytes: &[u8],
    max_bytes: u64,
) -> Result<Decoded, Unreadable> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes));
    reader.set_format(format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_bytes);
    let mut decoder = super::tiff_file::into_decoder(reader, limits).map_err(unreadable)?;
    // A huge header is an error, not an abort.
    within(decoder.total_bytes(), max_bytes)?;
    // Photos are stored as the sensor saw them and turned upright by their Exif orientation;
    // a damaged Exif block leaves the picture as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let (w, h) = decoder.dimensions();
    let color = decoder.color_type();
    /// The samples as `$t`, read into a zeroed buffer that keeps what was written before an
    /// error, as `DynamicImage::$variant`.
    macro_rules! partial {
        ($t:ty, $variant:ident) => {{
            let mut buf = vec![<$t>::default(); decoder.total_bytes() as usize / size_of::<$t>()];
            let error = decoder.read_image(bytemuck::cast_slice_mut(&mut buf)).err();
            (
                image::ImageBuffer::from_raw(w, h, buf).map(DynamicImage::$variant),
                error,
            )
        }};
    }
    let (image, error) = match color {
        ColorType::L8 => partial!(u8, ImageLuma8),
        ColorType::La8 => partial!(u8, ImageLumaA8),
        ColorType::Rgb8 => partial!(u8, ImageRgb8),
        ColorType::Rgba8 => partial!(u8, ImageRgba8),
        ColorType::L16 => partial!(u16, ImageLuma16),
        ColorType::La16 => partial!(u16, ImageLumaA16),
        ColorType::Rgb16 => partial!(u16, ImageRgb16),
        ColorType::Rgba16 => partial!(u16, ImageRgba16),
        ColorType::Rgb32F => partial!(f32, ImageRgb32F),
        ColorType::Rgba32F => partial!(f32, ImageRgba32F),
        other => {
            return Err(Unreadable::Unsupported(format!(
                "unsupported colour type {other:?}"
            )))
        }
    };
    let mut image = image.ok_or_else(|| Unreadable::Other("the decoder's size is wrong".into()))?;
    let Some(error) = error else {
        return Ok((image, orientation, None));
    };
    let what = match unreadable(error) {
        Unreadable::Damaged(what) => what,
        // Not damage: no picture.
        other => return Err(other),
    };
    // The PNG decoder turns 16-bit samples from big-endian to native only once all rows are in.
    if format == ImageFormat::Png && cfg!(target_endian = "little") {
        let swap = |s: &mut [u16]| s.iter_mut().for_each(|v| *v = v.swap_bytes());
        match &mut image {
            DynamicImage::ImageLuma16(b) => swap(b),
            DynamicImage::ImageLumaA16(b) => swap(b),
            DynamicImage::ImageRgb16(b) => swap(b),
            DynamicImage::ImageRgba16(b) => swap(b),
            _ => {}
        }
    }
    Ok((image, orientation, Some(what)))
}

/// An `image` crate error sorted: unsupported features, limits, and damage (in words).
fn unreadable(e: image::ImageError) -> Unreadable {
    use image::ImageError;
    match e {
        ImageError::Unsupported(e) => Unreadable::Unsupported(format!("unsupported image: {e}")),
        ImageError::Limits(e) => Unreadable::Other(e.to_string()),
        ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Unreadable::Damaged("the data ends early (cut short)".into())
        }
        ImageError::Decoding(e) => Unreadable::Damaged(match std::error::Error::source(&e) {
            Some(cause) => format!("corrupt data ({cause})"),
            None => format!("corrupt data ({e})"),
        }),
        e => Unreadable::Damaged(format!("corrupt data ({e})")),
    }
}

/// Decodes a JPEG with zune-jpeg, strictly: the `image` crate's lenient mode fills what a cut or
/// corrupt file lacks with grey and says nothing. On damage it decodes again leniently for what
/// can be kept, and says where the data ends or goes wrong (the first row of the grey it filled
/// in).
fn read_jpeg(bytes: &[u8], max_bytes: u64) -> Result<Decoded, Unreadable> {
    use zune_jpeg::zune_core::bytestream::ZCursor;
    use zune_jpeg::zune_core::colorspace::ColorSpace;
    use zune_jpeg::zune_core::options::DecoderOptions;
    let options = |strict: bool| {
        DecoderOptions::default()
            .set_strict_mode(strict)
            .set_max_width(usize::MAX)
            .set_max_height(usize::MAX)
    };
    let jpeg_error = |e: zune_jpeg::errors::DecodeErrors| match e {
        zune_jpeg::errors::DecodeErrors::Unsupported(e) => {
            Unreadable::Unsupported(format!("unsupported JPEG: {e:?}"))
        }
        zune_jpeg::errors::DecodeErrors::LargeDimensions(_) => {
            Unreadable::Other("the image is too large".into())
        }
        e => Unreadable::Damaged(jpeg_damage(&e)),
    };
    let mut headers = zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options(false));
    headers.decode_headers().map_err(jpeg_error)?;
    let (width, height) = headers.dimensions().expect("headers were decoded");
    let input = headers.input_colorspace().expect("headers were decoded");
    // What the `image` crate makes of each colour space: CMYK, YCCK and YCbCr become RGB.
    let (out, channels) = match input {
        ColorSpace::RGBA => (ColorSpace::RGBA, 4),
        ColorSpace::Luma => (ColorSpace::Luma, 1),
        ColorSpace::LumaA => (ColorSpace::LumaA, 2),
        _ => (ColorSpace::RGB, 3),
    };
    within((width * height * channels) as u64, max_bytes)?;
    let orientation = headers
        .exif()
        .and_then(|exif| Orientation::from_exif_chunk(exif))
        .unwrap_or(Orientation::NoTransforms);
    let decode = |strict: bool| {
        let options = options(strict).jpeg_set_out_colorspace(out);
        zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options).decode()
    };
    let (pixels, damage) = match decode(true) {
        Ok(pixels) => (pixels, None),
        Err(strict) => {
            let what = match jpeg_error(strict) {
                Unreadable::Damaged(what) => what,
                other => return Err(other),
            };
            let pixels = decode(false).map_err(jpeg_error)?;
            // The data ends or goes wrong in the band of rows before the grey.
            let what = match grey_from(&pixels, width * channels, height) {
                Some(row) if what.starts_with("the data ends") => {
                    format!("the data ends before row {row} of {height} (cut short)")
                }
                Some(row) => format!("{what} before row {row} of {height}"),
                None => what,
            };
            (pixels, Some(what))
        }
    };
    let (w, h) = (width as u32, height as u32);
    let image = match channels {
        1 => image::ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8),
        2 => image::ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageLumaA8),
        4 => image::ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageRgba8),
        _ => image::ImageBuffer::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8),
    }
    .ok_or_else(|| Unreadable::Other("the decoder's size is wrong".into()))?;
    Ok((image, orientation, damage))
}

/// zune-jpeg's complaint in a user's words.
fn jpeg_damage(error: &zune_jpeg::errors::DecodeErrors) -> String {
    use zune_jpeg::errors::DecodeErrors;
    match error {
        DecodeErrors::ExhaustedData | DecodeErrors::IoErrors(_) => {
            "the data ends early (cut short)".into()
        }
        DecodeErrors::FormatStatic(text) if text.contains("Premature end") => {
            "the data ends early (cut short)".into()
        }
        e => format!("corrupt data ({})", format!("{e:?}").trim_matches('"')),
    }
}

/// The first row of the run of rows, to the bottom of the picture, that are all mid-grey (128):
/// what zune-jpeg fills in where the data ends or goes wrong. `None` when the last row is not.
fn grey_from(pixels: &[u8], row: usize, height: usize) -> Option<usize> {
    let grey = |y: usize| pixels[y * row..(y + 1) * row].iter().all(|&v| v == 128);
    let rows = (0..height).rev().take_while(|&y| grey(y)).count();
    (rows > 0).then(|| height - rows)
}

/// How to turn the picture upright. Photos are stored as the sensor saw them and turned upright
/// by their Exif orientation; a damaged Exif block leaves the picture as stored.
fn upright(decoder: &mut impl ImageDecoder) -> Orientation {
    decoder.orientation().unwrap_or(Orientation::NoTransforms)
}

/// What a still image's header says, read without decoding its pixels (`tessera probe`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StillInfo {
    /// `png`, `jpeg`, `webp`, `tiff` or `bmp`.
    pub format: &'static str,
    /// Pixels, as stored.
    pub width: u32,
    pub height: u32,
    /// The size once turned upright by the Exif orientation: what viewers show, and the size of
    /// the frame `process` reads (and writes, before any filter changes it).
    pub shown_width: u32,
    pub shown_height: u32,
    /// The Exif orientation `process` applies, 1 to 8 (1: as stored, also when there is none).
    pub orientation: u8,
    /// Bits per channel as stored (1, 2, 4, 8, 16 or 32).
    pub bit_depth: u32,
    /// The stored colour type as image-rs names it, lower case: `l8`, `la8`, `rgb8`, `rgba8`,
    /// `l16`, `rgb16`, `rgba16`, `rgb32f`, `l1`, `cmyk8`, …
    pub color_type: String,
    pub channels: u32,
    pub alpha: bool,
    /// Decoded as grey (one plane, and alpha where `alpha`), as [`read`] gives it.
    #[serde(skip)]
    pub grey: bool,
    /// The embedded ICC profile, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icc_profile: Option<IccProfile>,
    /// Bytes of the Exif block, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exif_size: Option<usize>,
    /// What the Exif block says of the camera and the shot, where it says any of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub camera: Option<ExifSummary>,
    /// Bytes of the XMP packet, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub xmp_size: Option<usize>,
}

/// True where showing the picture upright exchanges its width and height.
fn quarter_turn(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// What an Exif orientation does to the stored picture to show it upright.
pub fn orientation_name(exif: u8) -> &'static str {
    match exif {
        2 => "mirror left to right",
        3 => "rotate 180°",
        4 => "mirror top to bottom",
        5 => "rotate 90° CW and mirror left to right",
        6 => "rotate 90° CW",
        7 => "rotate 90° CCW and mirror left to right",
        8 => "rotate 90° CCW",
        _ => "as stored",
    }
}

/// The header facts of a still picture tessera reads as one frame (PNG, JPEG, a still WebP, TIFF,
/// BMP), its pixels left undecoded; `Ok(None)` for anything else (a video, an animated WebP, a
/// GIF). A metadata block that cannot be read (a damaged ICC or Exif chunk) is left out.
pub fn still_info(path: &Path) -> Result<Option<StillInfo>, MediaError> {
    let open_error = |e: std::io::Error| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    };
    let file = File::open(path).map_err(open_error)?;
    let reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(open_error)?;
    let format = match reader.format() {
        Some(ImageFormat::WebP) if is_animated_webp(path) => return Ok(None),
        Some(ImageFormat::Avif) => return avif_info(path).map(Some),
        Some(format) if supported(format) => format,
        _ => return Ok(None),
    };
    let mut decoder = super::tiff_file::into_decoder(reader, Limits::default()).map_err(|e| {
        MediaError::Decode {
            path: display(path),
            message: format!("cannot read the image header: {e}"),
        }
    })?;
    let (width, height) = decoder.dimensions();
    let orientation = upright(&mut decoder);
    let turned = quarter_turn(orientation);
    let stored = decoder.original_color_type();
    let channels = u32::from(stored.channel_count().max(1));
    let bytes = std::fs::read(path).map_err(open_error)?;
    let (meta, _) = metadata::read(&bytes, format);
    let camera = meta
        .exif
        .as_deref()
        .and_then(|exif| metadata::summary(exif).ok())
        .filter(|c| *c != ExifSummary::default());
    Ok(Some(StillInfo {
        format: match format {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::WebP => "webp",
            ImageFormat::Tiff => "tiff",
            _ => "bmp",
        },
        width,
        height,
        shown_width: if turned { height } else { width },
        shown_height: if turned { width } else { height },
        orientation: orientation.to_exif(),
        bit_depth: u32::from(stored.bits_per_pixel()) / channels,
        color_type: format!("{stored:?}").to_lowercase(),
        channels,
        alpha: decoder.color_type().has_alpha(),
        grey: matches!(
            decoder.color_type(),
            ColorType::L8 | ColorType::La8 | ColorType::L16 | ColorType::La16
        ),
        icc_profile: decoder
            .icc_profile()
            .ok()
            .flatten()
            .map(|p| icc::describe(&p)),
        exif_size: meta.exif.as_ref().map(Vec::len),
        camera,
        xmp_size: meta.xmp.as_ref().map(Vec::len),
    }))
}

/// [`still_info`] of an AVIF, from its boxes (libavif parses them; no picture is decoded).
#[cfg(feature = "avif")]
fn avif_info(path: &Path) -> Result<StillInfo, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    let header = super::avif::header(&bytes).map_err(|e| MediaError::Decode {
        path: display(path),
        message: format!("cannot read the image header: {e}"),
    })?;
    let (meta, _) = metadata::read(&bytes, ImageFormat::Avif);
    let orientation = header.orientation;
    let turned = quarter_turn(orientation);
    let (width, height) = (header.width, header.height);
    let colour = if header.is_grey() { 1 } else { 3 };
    Ok(StillInfo {
        format: "avif",
        width,
        height,
        shown_width: if turned { height } else { width },
        shown_height: if turned { width } else { height },
        orientation: orientation.to_exif(),
        bit_depth: header.depth,
        color_type: header.subsampling.to_string(),
        channels: colour + u32::from(header.alpha),
        alpha: header.alpha,
        grey: header.is_grey(),
        icc_profile: meta.icc.as_deref().map(icc::describe),
        exif_size: meta.exif.as_ref().map(Vec::len),
        camera: meta
            .exif
            .as_deref()
            .and_then(|exif| metadata::summary(exif).ok())
            .filter(|c| *c != ExifSummary::default()),
        xmp_size: meta.xmp.as_ref().map(Vec::len),
    })
}

#[cfg(not(feature = "avif"))]
fn avif_info(path: &Path) -> Result<StillInfo, MediaError> {
    Err(MediaError::Unsupported {
        path: display(path),
        message: format!("an AVIF image, and {}", super::encoders::NO_AVIF),
    })
}

/// The format [`read`] gives `path`'s picture, from its header alone (no pixels decoded): its
/// size once upright, grey or RGB with or without alpha, 8 or 16 bits. For the checks a dry
/// run makes.
pub fn header(path: &Path) -> Result<crate::frame::Format, MediaError> {
    header_as_read(path, true)
}

/// [`header`] for a picture read with or without turning it upright (`--no-auto-orient`).
pub fn header_as_read(path: &Path, auto_orient: bool) -> Result<crate::frame::Format, MediaError> {
    use crate::frame::{Colour, Format, Layout};
    let Some(info) = still_info(path)? else {
        return Err(MediaError::Unsupported {
            path: display(path),
            message: format!("unsupported image format ({EXPECTED})"),
        });
    };
    let bits = if info.bit_depth > 8 { 16 } else { 8 };
    let layout = if info.grey { Layout::GRAY } else { Layout::RGB }.with_alpha(info.alpha);
    let (width, height) = if auto_orient {
        (info.shown_width, info.shown_height)
    } else {
        (info.width, info.height)
    };
    Ok(Format::new(width, height, layout, bits, Colour::RGB))
}

/// Encodes `frame` in the format that `format_of`'s extension names, with `settings`, and puts
/// `meta`'s blocks into the encoded file ([`metadata::embed`]): the file's bytes and the
/// warnings for the report (alpha flattened onto a background, a block the format cannot
/// hold). Nothing is written.
pub fn encode(
    frame: &Frame,
    format_of: &Path,
    settings: &ImageSettings,
    meta: &Metadata,
) -> Result<Encoded, MediaError> {
    let (format, still) = format_from_extension(format_of)
        .and_then(|f| Some((f, StillFormat::from_path(format_of)?)))
        .ok_or_else(|| MediaError::Unsupported {
            path: display(format_of),
            message: format!("unsupported image format ({EXPECTED}, from the file's extension)"),
        })?;
    let encode_error = |message| MediaError::Encode {
        path: display(format_of),
        message,
    };
    if still == StillFormat::Avif {
        // AVIF's encoder writes the blocks itself.
        return super::encoders::encode_avif(frame, settings, meta).map_err(encode_error);
    }
    let Encoded {
        bytes,
        mut warnings,
    } = super::encoders::encode(frame, still, settings).map_err(encode_error)?;
    let (bytes, more) = metadata::embed(bytes, format, meta)
        .map_err(|message| encode_error(format!("cannot add the metadata: {message}")))?;
    warnings.extend(more);
    Ok(Encoded { bytes, warnings })
}

/// The ICC profile `path`'s picture embeds, as [`metadata::read`] finds it (the block the
/// writer would carry over), no pixels decoded; `None` where it has none, where the file is no
/// picture tessera reads (decoding it then says what is wrong), or where the block cannot be
/// read (reading the picture then warns of it).
pub fn icc_profile(path: &Path) -> Result<Option<Vec<u8>>, MediaError> {
    let bytes = std::fs::read(path).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    Ok(match image::guess_format(&bytes) {
        Ok(format) if supported(format) => metadata::read(&bytes, format).0.icc,
        _ => None,
    })
}

/// Writes `frame` to `path` in the format that `format_of`'s extension names (the two differ
/// when the caller writes to a temporary file first), encoded with `settings`, with `meta`'s
/// blocks. Returns the warnings for the report.
pub fn write(
    frame: &Frame,
    path: &Path,
    format_of: &Path,
    settings: &ImageSettings,
    meta: &Metadata,
) -> Result<Vec<String>, MediaError> {
    let Encoded { bytes, warnings } = encode(frame, format_of, settings, meta)?;
    write_bytes(&bytes, path, format_of)?;
    Ok(warnings)
}

/// Writes an encoded picture's bytes to `path`; errors name `format_of`.
pub fn write_bytes(bytes: &[u8], path: &Path, format_of: &Path) -> Result<(), MediaError> {
    std::fs::write(path, bytes).map_err(|e| MediaError::Write {
        path: display(format_of),
        message: format!("cannot write the file: {}", io_message(&e)),
    })
}

#[cfg(test)]
mod tests {
    use super::super::encoders::to_8_bit;
    use super::*;
    use image::codecs::png::PngEncoder;
    use image::{ExtendedColorType, ImageEncoder};

    /// [`super::write`] without metadata.
    fn write(
        frame: &Frame,
        path: &Path,
        format_of: &Path,
        settings: &ImageSettings,
    ) -> Result<Vec<String>, MediaError> {
        super::write(frame, path, format_of, settings, &Metadata::default())
    }

    /// Lossless WebP, so that every format here can be compared exactly.
    fn exact() -> ImageSettings {
        ImageSettings {
            lossless: true,
            ..ImageSettings::default()
        }
    }

    fn gradient8(w: u32, h: u32, alpha: bool) -> Frame {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 13) as u8, (y * 17) as u8, ((x + y) * 5) as u8]);
                if alpha {
                    data.push((x * 7 + y) as u8);
                }
            }
        }
        if alpha {
            Frame::from_rgba8(w, h, data)
        } else {
            Frame::from_rgb8(w, h, data)
        }
    }

    fn gradient16(w: u32, h: u32, alpha: bool) -> Frame {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[
                    (x * 4099 + 1) as u16,
                    (y * 2053 + 3) as u16,
                    ((x * y) * 257 + 7) as u16,
                ]);
                if alpha {
                    data.push((x * 1021 + y * 3) as u16);
                }
            }
        }
        if alpha {
            Frame::from_rgba16(w, h, data)
        } else {
            Frame::from_rgb16(w, h, data)
        }
    }

    fn round_trip(frame: &Frame, name: &str) -> Frame {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let settings = if name.ends_with(".webp") {
            exact()
        } else {
            ImageSettings::default()
        };
        write(frame, &path, &path, &settings).unwrap();
        read(&path).unwrap()
    }

    #[test]
    fn png_and_tiff_keep_8_bits_exactly() {
        for name in ["a.png", "a.tiff", "a.TIF"] {
            for alpha in [false, true] {
                let frame = gradient8(13, 7, alpha);
                let back = round_trip(&frame, name);
                assert_eq!(back, frame, "{name} alpha={alpha}");
            }
        }
    }

    #[test]
    fn png_and_tiff_keep_16_bits_exactly() {
        for name in ["a.png", "a.tif"] {
            for alpha in [false, true] {
                let frame = gradient16(11, 9, alpha);
                let back = round_trip(&frame, name);
                assert_eq!(back.format.bits, 16, "{name}");
                assert_eq!(back, frame, "{name} alpha={alpha}");
            }
        }
    }

    #[test]
    fn gray16_and_rgb16_sources_keep_16_bits_and_their_planes() {
        let dir = tempfile::tempdir().unwrap();
        let gray = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(5, 4, |x, y| {
            image::Luma([(x * 1000 + y) as u16])
        });
        let gray_path = dir.path().join("g.png");
        gray.save(&gray_path).unwrap();
        let frame = read(&gray_path).unwrap();
        assert_eq!((frame.format.bits, frame.format.planes()), (16, 1));
        assert_eq!(frame.format.layout, crate::frame::Layout::GRAY);
        assert_eq!(frame.plane16(0).row(1)[1], 1001);
        assert_eq!(header(&gray_path).unwrap(), frame.format);
        let ga = image::GrayAlphaImage::from_fn(3, 2, |x, _| image::LumaA([x as u8, 9]));
        let ga_path = dir.path().join("ga.png");
        ga.save(&ga_path).unwrap();
        let frame = read(&ga_path).unwrap();
        assert_eq!(
            frame.format.layout,
            crate::frame::Layout::GRAY.with_alpha(true)
        );
        assert_eq!(header(&ga_path).unwrap(), frame.format);

        let rgb = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(5, 4, |x, y| {
            image::Rgb([x as u16 * 300, y as u16, 9])
        });
        let rgb_path = dir.path().join("c.tiff");
        rgb.save(&rgb_path).unwrap();
        let frame = read(&rgb_path).unwrap();
        assert_eq!(frame.format.bits, 16);
        let (r, g, b) = (frame.plane16(0), frame.plane16(1), frame.plane16(2));
        assert_eq!([r.row(1)[2], g.row(1)[2], b.row(1)[2]], [600, 1, 9]);
    }

    #[test]
    fn exif_orientation_turns_the_picture_upright() {
        // A big-endian Exif block: one IFD entry, Orientation (0x0112) = 6, "rotate 90° clockwise".
        let exif = [
            b'M', b'M', 0, 42, 0, 0, 0, 8, // TIFF header, IFD at 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, // tag, SHORT, count 1, value 6
            0, 0, 0, 0, // no next IFD
        ];
        let frame = gradient8(6, 4, true);
        let Samples::U8(data) = frame.interleaved() else {
            unreachable!()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turned.png");
        let mut encoder = PngEncoder::new(File::create(&path).unwrap());
        encoder.set_exif_metadata(exif.to_vec()).unwrap();
        encoder
            .write_image(&data, 6, 4, ExtendedColorType::Rgba8)
            .unwrap();
        let back = read(&path).unwrap();
        assert_eq!((back.width(), back.height()), (4, 6));
        // Rotated clockwise: the stored bottom-left pixel is now the top-left one.
        let Samples::U8(turned) = back.interleaved() else {
            unreachable!()
        };
        assert_eq!(&turned[..4], &data[(3 * 6) * 4..(3 * 6) * 4 + 4]);
    }

    #[test]
    fn upright_turns_match_the_image_crates_orientations() {
        let frame = gradient8(5, 3, false);
        let Samples::U8(data) = frame.interleaved() else {
            unreachable!()
        };
        for exif in 1..=8 {
            let mut image =
                DynamicImage::ImageRgb8(image::RgbImage::from_raw(5, 3, data.clone()).unwrap());
            image.apply_orientation(Orientation::from_exif(exif).unwrap());
            let want = Frame::from_interleaved(
                image.width(),
                image.height(),
                3,
                8,
                Samples::U8(image.into_rgb8().into_raw()),
            );
            assert_eq!(
                frame.oriented(upright_turn(exif)),
                want,
                "Exif orientation {exif}"
            );
        }
    }

    #[test]
    fn lossless_8_bit_formats_round_trip() {
        for name in ["a.webp", "a.bmp"] {
            for alpha in [false, true] {
                let frame = gradient8(10, 6, alpha);
                assert_eq!(round_trip(&frame, name), frame, "{name} alpha={alpha}");
            }
        }
    }

    #[test]
    fn sixteen_bit_frames_are_rounded_into_8_bit_formats() {
        let frame = gradient16(6, 5, false);
        let expected = match frame.interleaved() {
            Samples::U16(p) => Frame::from_rgb8(6, 5, p.iter().map(|&v| to_8_bit(v)).collect()),
            Samples::U8(_) => unreachable!(),
        };
        for name in ["a.bmp", "a.webp"] {
            assert_eq!(round_trip(&frame, name), expected, "{name}");
        }
        assert_eq!(to_8_bit(0), 0);
        assert_eq!(to_8_bit(65535), 255);
        assert_eq!(to_8_bit(257 * 100 + 128), 100);
        assert_eq!(to_8_bit(257 * 100 + 129), 101);
    }

    #[test]
    fn jpeg_is_close_and_flattened_onto_white() {
        let mut data = Vec::new();
        for y in 0..32u32 {
            for x in 0..48u32 {
                data.extend_from_slice(&[(x * 4) as u8, (y * 6) as u8, 128, 200]);
            }
        }
        let frame = Frame::from_rgba8(48, 32, data);
        let back = round_trip(&frame, "a.JPEG");
        assert_eq!((back.width(), back.height(), back.format.bits), (48, 32, 8));
        assert!(!back.format.layout.alpha, "JPEG has no alpha");
        let Samples::U8(p) = frame.interleaved() else {
            unreachable!()
        };
        // c·a + 255·(1 − a), a = 200/255.
        let over_white = |c: u8| ((c as u32 * 200 + 255 * 55 + 127) / 255) as u8;
        let flattened = Frame::from_rgb8(
            48,
            32,
            p.chunks_exact(4)
                .flat_map(|px| [over_white(px[0]), over_white(px[1]), over_white(px[2])])
                .collect(),
        );
        let diff = back.max_abs_diff(&flattened).unwrap();
        assert!(diff <= 12, "JPEG is off by {diff}");
    }

    #[test]
    fn content_decides_the_format_not_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let frame = gradient8(8, 8, true);
        let tmp = dir.path().join("written.tmp");
        write(
            &frame,
            &tmp,
            Path::new("photo.png"),
            &ImageSettings::default(),
        )
        .unwrap();
        let misnamed = dir.path().join("photo.jpg");
        std::fs::rename(&tmp, &misnamed).unwrap();
        assert!(is_image_file(&misnamed).unwrap());
        assert_eq!(read(&misnamed).unwrap(), frame);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("x.png");
        std::fs::write(&garbage, b"this is not an image at all, just some text").unwrap();
        let err = is_image_file(&garbage).unwrap_err();
        assert!(matches!(err, MediaError::Unsupported { .. }), "{err:?}");
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, b"just some text\n").unwrap();
        let err = is_image_file(&text).unwrap_err();
        assert!(
            err.to_string().contains("not an image or video file"),
            "{err}"
        );
        let err = read(&garbage).unwrap_err();
        assert!(matches!(err, MediaError::Unsupported { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!(
                "{}: unsupported image format (expected PNG, JPEG, WebP, TIFF, BMP or AVIF)",
                garbage.display()
            )
        );

        // A real PNG header with a truncated body.
        let good = dir.path().join("good.png");
        write(
            &gradient8(40, 40, false),
            &good,
            &good,
            &ImageSettings::default(),
        )
        .unwrap();
        let bytes = std::fs::read(&good).unwrap();
        let truncated = dir.path().join("truncated.png");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(is_image_file(&truncated).unwrap());
        assert!(matches!(
            read(&truncated).unwrap_err(),
            MediaError::DamagedImage { .. }
        ));

        let empty = dir.path().join("empty.bmp");
        std::fs::write(&empty, b"").unwrap();
        assert!(read(&empty).is_err());
        assert!(matches!(
            read(&dir.path().join("missing.png")).unwrap_err(),
            MediaError::Open { .. }
        ));
    }

    /// `bytes` with a block of garbage written over the middle: pseudo-random bytes with a few
    /// 0xFF among them, as other data written over a file has.
    fn garbage_in(bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        let mid = out.len() / 2;
        let mut noise = 0x2545_f491u32;
        for (i, b) in out[mid..mid + 64].iter_mut().enumerate() {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            *b = if i % 16 == 7 { 0xff } else { noise as u8 };
        }
        out
    }

    /// Damage each format can show is found: a file cut at 1 % to 99 % of its bytes, garbage
    /// over its middle where the format checks its data, a flipped bit in a PNG. What cannot
    /// be told: bytes changed in a JPEG's entropy-coded data without a marker byte among them,
    /// and flipped bits in its coefficients, decode to a wrong picture without error (zune-jpeg
    /// does not check for data left over before the end marker); lossless WebP, uncompressed
    /// TIFF and BMP have no checksum, so changed bytes read as other pixels.
    #[test]
    fn damage_is_an_error_in_every_format() {
        let dir = tempfile::tempdir().unwrap();
        // Noise, so that every format's file is a few kilobytes.
        let mut noise = 1u32;
        let data = (0..96 * 64 * 3)
            .map(|i| {
                noise = noise.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (i % 251) as u8 ^ (noise >> 27) as u8
            })
            .collect();
        let frame = Frame::from_rgb8(96, 64, data);
        for (name, format) in [
            ("a.jpg", "JPEG"),
            ("a.png", "PNG"),
            ("a.webp", "WebP"),
            ("a.tif", "TIFF"),
            ("a.bmp", "BMP"),
        ] {
            let good = dir.path().join(name);
            write(&frame, &good, &good, &ImageSettings::default()).unwrap();
            let bytes = std::fs::read(&good).unwrap();
            assert_eq!(read_damaged(&good).unwrap().1, None, "{name} is whole");
            let mut cases: Vec<(String, Vec<u8>)> = [1, 10, 50, 90, 99]
                .iter()
                .map(|pct| {
                    (
                        format!("cut to {pct}%"),
                        bytes[..bytes.len() * pct / 100].to_vec(),
                    )
                })
                .collect();
            if matches!(format, "JPEG" | "PNG") {
                cases.push(("garbage".into(), garbage_in(&bytes)));
            }
            if format == "PNG" {
                let mut flipped = bytes.clone();
                flipped[bytes.len() / 2] ^= 0x10;
                cases.push(("a flipped bit".into(), flipped));
                cases.push(("cut by a byte".into(), bytes[..bytes.len() - 1].to_vec()));
            }
            for (what, data) in cases {
                let path = dir.path().join(format!("damaged-{name}"));
                std::fs::write(&path, &data).unwrap();
                let Err(err) = read(&path) else {
                    panic!("{name} {what} reads as whole");
                };
                let MediaError::DamagedImage { damage, .. } = &err else {
                    panic!("{name} {what}: {err:?}");
                };
                assert_eq!(damage.format, format, "{name} {what}");
                let text = err.to_string();
                assert!(
                    text.starts_with(&format!("{}: damaged {format}: ", path.display())),
                    "{name} {what}: {text}"
                );
                // Where a picture could be made of it, it comes with the same damage.
                if let Ok((_, found)) = read_damaged(&path) {
                    assert_eq!(found.as_ref(), Some(damage), "{name} {what}");
                }
            }
        }
    }

    #[test]
    fn damaged_jpeg_says_where_its_data_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jpg");
        // 4:4:4, whose bands of 8 rows are whole where the data ends (with 4:2:0 the decoder's
        // chroma upsampling reaches across the band's edge).
        let full_chroma = ImageSettings {
            subsampling: Some(Subsampling::S444),
            ..ImageSettings::default()
        };
        write(&gradient8(64, 256, false), &path, &path, &full_chroma).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let (frame, damage) = read_damaged(&path).unwrap();
        let what = damage.unwrap().what;
        let row: usize = what
            .strip_prefix("the data ends before row ")
            .and_then(|rest| rest.strip_suffix(" of 256 (cut short)"))
            .unwrap_or_else(|| panic!("{what}"))
            .parse()
            .unwrap();
        assert!((64..192).contains(&row), "{what}");
        assert_eq!(row % 8, 0, "a band of 8 or 16 rows: {what}");
        // What could not be decoded is grey, and the rows above it are not.
        let grey = |y: usize| (0..3).all(|p| frame.plane8(p).row(y).iter().all(|&v| v == 128));
        assert!((row..256).all(grey) && !grey(row - 1), "{what}");

        std::fs::write(&path, garbage_in(&bytes)).unwrap();
        let what = read_damaged(&path).unwrap().1.unwrap().what;
        assert!(what.starts_with("corrupt data ("), "{what}");
    }

    #[test]
    fn accepted_png_keeps_the_rows_before_the_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.png");
        let frame = gradient16(40, 60, false);
        write(&frame, &path, &path, &ImageSettings::default()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() * 6 / 10]).unwrap();
        let (back, damage) = read_damaged(&path).unwrap();
        assert!(damage.unwrap().what.contains("inside its IDAT chunk"));
        // The first rows as they were (16-bit samples in the right byte order), the last black.
        for p in 0..3 {
            assert_eq!(back.plane16(p).row(0), frame.plane16(p).row(0), "plane {p}");
            assert!(back.plane16(p).row(59).iter().all(|&v| v == 0), "plane {p}");
        }
    }

    #[test]
    fn unknown_output_extensions_and_bad_frames_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let frame = gradient8(4, 4, false);
        let gif = dir.path().join("a.gif");
        let err = write(&frame, &gif, &gif, &ImageSettings::default()).unwrap_err();
        assert!(matches!(err, MediaError::Unsupported { .. }), "{err:?}");
        let bad = Frame::new(crate::frame::Format::new(
            5,
            5,
            crate::frame::Layout::YUV420,
            8,
            crate::frame::Colour::RGB,
        ));
        let png = dir.path().join("a.png");
        assert!(matches!(
            write(&bad, &png, &png, &ImageSettings::default()).unwrap_err(),
            MediaError::Encode { .. }
        ));
        let nowhere = dir.path().join("no/such/folder/a.png");
        assert!(matches!(
            write(&frame, &nowhere, &nowhere, &ImageSettings::default()).unwrap_err(),
            MediaError::Write { .. }
        ));
    }

    #[test]
    fn image_paths_by_extension() {
        for p in [
            "a.png", "b.JPG", "c.jpeg", "d.webp", "e.tif", "f.TIFF", "g.bmp",
        ] {
            assert!(is_image_path(Path::new(p)), "{p}");
        }
        for p in ["a.mp4", "b.mkv", "c", "d.gif", "e.png.mov"] {
            assert!(!is_image_path(Path::new(p)), "{p}");
        }
    }
}
