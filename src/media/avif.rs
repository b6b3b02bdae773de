//! AVIF stills through the system's libavif (0.11, bound by `build.rs`): decoding a file's bytes
//! into interleaved samples with its metadata blocks and its irot/imir orientation, and encoding
//! samples into an AVIF file's bytes. [`super::image`] turns these into frames and files; this
//! module knows neither frames nor paths.
//!
//! - Depth: 8-bit AVIF decodes to 8-bit samples, 10- and 12-bit AVIF to 16-bit ones scaled over
//!   the full range (`v * 65535 / max`). 8-bit samples encode at 8 bits; 16-bit ones at 10 bits
//!   (lossy: AV1's Main profile, which every AVIF decoder and viewer takes) or 12 bits (lossless,
//!   where the extra bits are what the user asked to keep).
//! - Subsampling: lossy AVIF is YUV 4:2:0 below quality 90 and 4:4:4 from 90 (as libvips does
//!   for its lossy savers); lossless AVIF is 4:4:4 with the identity matrix (the planes are G, B
//!   and R) at full range and quantizer 0, so 8-bit RGB and alpha come back exactly.
//! - Quality 0–100 maps onto libavif 0.11's quantizers (0 best, 63 worst) as libavif 1.0 maps its
//!   own `quality`: `quantizer = ((100 - quality) * 63 + 50) / 100`, used as both the minimum and
//!   the maximum (a constant quantizer), for colour and alpha alike. The default, 60, is
//!   quantizer 25.
//! - Effort 0–9 maps onto libavif's speed 10–0: `speed = ((9 - effort) * 10 + 4) / 9`; the
//!   default effort, 4, is libavif's default speed 6.
//! - The encoder is libaom (`AVIF_CODEC_CHOICE_AOM`): the only AV1 encoder of Debian's libavif
//!   that encodes losslessly; decoding takes whichever decoder libavif prefers (dav1d).

use std::ffi::CStr;

use image::metadata::Orientation;

use super::encoders::{DEFAULT_AVIF_EFFORT, DEFAULT_AVIF_QUALITY};
use super::image::ImageSettings;
use super::metadata::Metadata;
use crate::frame::Samples;

#[allow(
    non_upper_case_globals,
    non_camel_case_types,
    non_snake_case,
    dead_code,
    unused_qualifications,
    clippy::all
)]
mod ffi {
    include!(concat!(env!("OUT_DIR"), "/avif.rs"));
}

/// From this quality up, lossy AVIF keeps full-resolution chroma (4:4:4).
const FULL_CHROMA_FROM: u8 = 90;

/// Why libavif made no picture or no file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AvifError {
    /// The data is damaged or cut short; libavif's diagnosis in words.
    Damaged(String),
    /// A valid AVIF that tessera does not read (an image sequence), or a setting out of range.
    Unsupported(String),
    /// Anything else: memory, an encoder failure.
    Failed(String),
}

impl std::fmt::Display for AvifError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AvifError::Damaged(s) | AvifError::Unsupported(s) | AvifError::Failed(s) => {
                f.write_str(s)
            }
        }
    }
}

/// What an AVIF's header says, read without decoding its pictures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// Bits per sample as stored: 8, 10 or 12.
    pub depth: u32,
    /// How the colour is stored: `yuv444`, `yuv422`, `yuv420` or `yuv400` (grey).
    pub subsampling: &'static str,
    pub alpha: bool,
    /// What the irot/imir boxes ask of the stored picture to show it upright.
    pub orientation: Orientation,
    /// The colour primaries and transfer of its nclx box (ITU-T H.273 code points; 2 where
    /// unspecified), which say its colours where it has no ICC profile.
    pub primaries: u16,
    pub transfer: u16,
    pub metadata: Metadata,
}

impl Header {
    /// True for a monochrome (4:0:0) AVIF.
    pub fn is_grey(&self) -> bool {
        self.subsampling == "yuv400"
    }
}

/// A decoded AVIF: interleaved samples as stored (not yet turned upright), its header beside.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    pub header: Header,
    /// 1 (grey), 2 (grey and alpha), 3 (RGB) or 4 (RGBA).
    pub channels: usize,
    /// 8-bit for 8-bit AVIF, 16-bit (the full range) for 10- and 12-bit AVIF.
    pub samples: Samples,
}

/// Interleaved samples to encode: 8-bit or 16-bit (full range), 3 (RGB) or 4 (RGBA) channels.
#[derive(Clone, Copy, Debug)]
pub struct Source<'a> {
    pub width: u32,
    pub height: u32,
    pub channels: usize,
    pub samples: &'a Samples,
    /// Stored as irot/imir boxes, for viewers to apply: `NoTransforms` when the samples are
    /// already upright.
    pub orientation: Orientation,
}

fn threads() -> i32 {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(64) as i32)
}

/// libavif's name for a result, and its diagnostic where it gave one.
fn diagnosis(result: ffi::avifResult, diag: &ffi::avifDiagnostics) -> String {
    // SAFETY: avifResultToString returns a static NUL-terminated string for every value.
    let name = unsafe { CStr::from_ptr(ffi::avifResultToString(result)) }.to_string_lossy();
    let detail = diag
        .error
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect::<Vec<_>>();
    let detail = String::from_utf8_lossy(&detail);
    if detail.is_empty() {
        name.into_owned()
    } else {
        format!("{name}: {detail}")
    }
}

/// A decoding failure sorted by what it means to the user.
fn decode_error(result: ffi::avifResult, diag: &ffi::avifDiagnostics) -> AvifError {
    let said = diagnosis(result, diag);
    match result {
        ffi::AVIF_RESULT_TRUNCATED_DATA => {
            AvifError::Damaged(format!("the data ends early (cut short; libavif: {said})"))
        }
        ffi::AVIF_RESULT_UNSUPPORTED_DEPTH
        | ffi::AVIF_RESULT_NOT_IMPLEMENTED
        | ffi::AVIF_RESULT_NO_CODEC_AVAILABLE => {
            AvifError::Unsupported(format!("unsupported AVIF (libavif: {said})"))
        }
        ffi::AVIF_RESULT_OUT_OF_MEMORY => AvifError::Failed(format!("libavif: {said}")),
        _ => AvifError::Damaged(format!("corrupt data (libavif: {said})")),
    }
}

/// A libavif decoder reading `'a` bytes, destroyed on drop.
struct Decoder<'a> {
    raw: *mut ffi::avifDecoder,
    _bytes: std::marker::PhantomData<&'a [u8]>,
}

impl Drop for Decoder<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from avifDecoderCreate and is destroyed once.
        unsafe { ffi::avifDecoderDestroy(self.raw) }
    }
}

impl<'a> Decoder<'a> {
    /// Parses the file's boxes (sizes, metadata, transforms), decoding no picture.
    fn parse(bytes: &'a [u8]) -> Result<Self, AvifError> {
        // SAFETY: a plain constructor; null only when out of memory.
        let raw = unsafe { ffi::avifDecoderCreate() };
        if raw.is_null() {
            return Err(AvifError::Failed("libavif could not make a decoder".into()));
        }
        let decoder = Decoder {
            raw,
            _bytes: std::marker::PhantomData,
        };
        // SAFETY: `raw` is a live decoder; `bytes` outlive it (`'a`).
        unsafe {
            (*raw).maxThreads = threads();
            (*raw).ignoreExif = 0;
            (*raw).ignoreXMP = 0;
            decoder.check(ffi::avifDecoderSetIOMemory(
                raw,
                bytes.as_ptr(),
                bytes.len(),
            ))?;
            decoder.check(ffi::avifDecoderParse(raw))?;
            if (*raw).imageCount > 1 {
                return Err(AvifError::Unsupported(format!(
                    "an AVIF image sequence ({} pictures); tessera reads still AVIF",
                    (*raw).imageCount
                )));
            }
        }
        Ok(decoder)
    }

    fn check(&self, result: ffi::avifResult) -> Result<(), AvifError> {
        if result == ffi::AVIF_RESULT_OK {
            Ok(())
        } else {
            // SAFETY: `raw` is a live decoder.
            Err(decode_error(result, unsafe { &(*self.raw).diag }))
        }
    }

    fn header(&self) -> Header {
        // SAFETY: after a successful parse, `image` points at the decoder's image.
        let (image, alpha) = unsafe { (&*(*self.raw).image, (*self.raw).alphaPresent != 0) };
        Header {
            width: image.width,
            height: image.height,
            depth: image.depth,
            subsampling: match image.yuvFormat {
                ffi::AVIF_PIXEL_FORMAT_YUV444 => "yuv444",
                ffi::AVIF_PIXEL_FORMAT_YUV422 => "yuv422",
                ffi::AVIF_PIXEL_FORMAT_YUV400 => "yuv400",
                _ => "yuv420",
            },
            alpha,
            orientation: orientation_of(image),
            primaries: image.colorPrimaries,
            transfer: image.transferCharacteristics,
            metadata: Metadata {
                icc: block(&image.icc),
                exif: block(&image.exif).and_then(|exif| tiff_from(&exif)),
                xmp: block(&image.xmp),
            },
        }
    }
}

/// A metadata block's bytes; `None` where it is empty.
fn block(data: &ffi::avifRWData) -> Option<Vec<u8>> {
    if data.data.is_null() || data.size == 0 {
        return None;
    }
    // SAFETY: libavif keeps `size` bytes at `data` while the image lives.
    Some(unsafe { std::slice::from_raw_parts(data.data, data.size) }.to_vec())
}

/// The Exif block from its TIFF byte-order mark: as libavif gives it, or after the 4-byte
/// big-endian offset the AVIF Exif item starts with. `None` when no TIFF header is found.
fn tiff_from(exif: &[u8]) -> Option<Vec<u8>> {
    let is_tiff = |b: &[u8]| b.starts_with(b"II*\0") || b.starts_with(b"MM\0*");
    if is_tiff(exif) {
        return Some(exif.to_vec());
    }
    let offset = u32::from_be_bytes(exif.get(..4)?.try_into().ok()?) as usize;
    let tiff = exif.get(4usize.checked_add(offset)?..)?;
    is_tiff(tiff).then(|| tiff.to_vec())
}

/// What the image's irot/imir boxes ask, as the Exif orientation that does the same.
fn orientation_of(image: &ffi::avifImage) -> Orientation {
    let flags = image.transformFlags;
    let angle = if flags & ffi::AVIF_TRANSFORM_IROT != 0 {
        image.irot.angle & 3
    } else {
        0
    };
    let mirror = (flags & ffi::AVIF_TRANSFORM_IMIR != 0).then_some(image.imir.mode);
    Orientation::from_exif(exif_orientation(angle, mirror)).unwrap_or(Orientation::NoTransforms)
}

/// The Exif orientation of a turn by `angle` quarter turns anticlockwise followed by a mirror
/// (`Some(0)`: top and bottom exchanged, `Some(1)`: left and right), as HEIF applies them.
fn exif_orientation(angle: u8, mirror: Option<u8>) -> u8 {
    // Left and right exchanged after a turn is a half turn more, then top and bottom exchanged.
    let (angle, flipped) = match mirror {
        Some(1) => ((angle + 2) & 3, true),
        Some(_) => (angle & 3, true),
        None => (angle & 3, false),
    };
    match (angle, flipped) {
        (0, false) => 1,
        (1, false) => 8,
        (2, false) => 3,
        (3, false) => 6,
        (0, true) => 4,
        (1, true) => 5,
        (2, true) => 2,
        _ => 7,
    }
}

/// The irot angle and imir mode that show a picture as `orientation` asks.
fn transform_of(orientation: Orientation) -> (Option<u8>, Option<u8>) {
    match orientation.to_exif() {
        2 => (None, Some(1)),
        3 => (Some(2), None),
        4 => (None, Some(0)),
        5 => (Some(1), Some(0)),
        6 => (Some(3), None),
        7 => (Some(3), Some(0)),
        8 => (Some(1), None),
        _ => (None, None),
    }
}

/// Reads an AVIF's header: size, depth, subsampling, alpha, orientation and metadata blocks.
pub fn header(bytes: &[u8]) -> Result<Header, AvifError> {
    Ok(Decoder::parse(bytes)?.header())
}

/// Decodes an AVIF: its picture as interleaved samples, as stored (turn it upright by
/// `header.orientation`), grey where the AVIF is monochrome. `max_bytes` caps the samples'
/// memory: a larger picture is an [`AvifError::Failed`] before anything is decoded.
pub fn decode(bytes: &[u8], max_bytes: u64) -> Result<Decoded, AvifError> {
    let decoder = Decoder::parse(bytes)?;
    let header = decoder.header();
    let grey = header.is_grey();
    let channels = match (grey, header.alpha) {
        (true, false) => 1,
        (true, true) => 2,
        (false, false) => 3,
        (false, true) => 4,
    };
    // libavif converts to RGB(A); grey keeps one of its three equal channels.
    let rgb_channels = if header.alpha { 4 } else { 3 };
    let wide = header.depth > 8;
    let pixels = header.width as u64 * header.height as u64;
    let needed = pixels * rgb_channels as u64 * if wide { 2 } else { 1 };
    if needed > max_bytes {
        return Err(AvifError::Failed(format!(
            "a {}x{} picture needs {needed} bytes, more than the limit of {max_bytes}",
            header.width, header.height
        )));
    }
    // SAFETY: `decoder.raw` is a live, parsed decoder.
    decoder.check(unsafe { ffi::avifDecoderNextImage(decoder.raw) })?;
    // SAFETY: after a decode, `image` holds the picture's planes.
    let image = unsafe { &*(*decoder.raw).image };
    if (image.width, image.height) != (header.width, header.height) {
        return Err(AvifError::Damaged(format!(
            "corrupt data (the picture is {}x{}, its header says {}x{})",
            image.width, image.height, header.width, header.height
        )));
    }
    // SAFETY: a zeroed avifRGBImage is a valid start; SetDefaults fills it in.
    let mut rgb: ffi::avifRGBImage = unsafe { std::mem::zeroed() };
    unsafe { ffi::avifRGBImageSetDefaults(&mut rgb, image) };
    rgb.format = if header.alpha {
        ffi::AVIF_RGB_FORMAT_RGBA
    } else {
        ffi::AVIF_RGB_FORMAT_RGB
    };
    rgb.depth = image.depth;
    rgb.chromaUpsampling = ffi::AVIF_CHROMA_UPSAMPLING_BEST_QUALITY;
    rgb.alphaPremultiplied = 0;
    let row = header.width as usize * rgb_channels;
    let convert = |rgb: &mut ffi::avifRGBImage| {
        // SAFETY: `rgb.pixels` holds `rowBytes * height` bytes (set by the caller).
        let result = unsafe { ffi::avifImageYUVToRGB(image, rgb) };
        if result == ffi::AVIF_RESULT_OK {
            Ok(())
        } else {
            Err(AvifError::Failed(format!(
                "libavif could not convert the picture to RGB: {}",
                diagnosis(result, &ffi::avifDiagnostics { error: [0; 256] })
            )))
        }
    };
    // Grey keeps R (and A); RGB keeps all.
    let kept: Vec<usize> = match channels {
        1 => vec![0],
        2 => vec![0, 3],
        _ => (0..rgb_channels).collect(),
    };
    let keep = |i: usize| kept.contains(&(i % rgb_channels));
    let samples = if wide {
        let mut buf = vec![0u16; row * header.height as usize];
        rgb.rowBytes = (row * 2) as u32;
        rgb.pixels = buf.as_mut_ptr().cast();
        convert(&mut rgb)?;
        let max = (1u32 << image.depth) - 1;
        let scale = |v: u16| ((v as u32 * 65535 + max / 2) / max) as u16;
        Samples::U16(
            buf.iter()
                .enumerate()
                .filter(|&(i, _)| keep(i))
                .map(|(_, &v)| scale(v))
                .collect(),
        )
    } else {
        let mut buf = vec![0u8; row * header.height as usize];
        rgb.rowBytes = row as u32;
        rgb.pixels = buf.as_mut_ptr();
        convert(&mut rgb)?;
        if channels == rgb_channels {
            Samples::U8(buf)
        } else {
            Samples::U8(
                buf.iter()
                    .enumerate()
                    .filter(|&(i, _)| keep(i))
                    .map(|(_, &v)| v)
                    .collect(),
            )
        }
    };
    Ok(Decoded {
        header,
        channels,
        samples,
    })
}

/// A libavif image, destroyed on drop.
struct Image(*mut ffi::avifImage);

impl Drop for Image {
    fn drop(&mut self) {
        // SAFETY: made by avifImageCreate, destroyed once.
        unsafe { ffi::avifImageDestroy(self.0) }
    }
}

/// A libavif encoder, destroyed on drop.
struct Encoder(*mut ffi::avifEncoder);

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: made by avifEncoderCreate, destroyed once.
        unsafe { ffi::avifEncoderDestroy(self.0) }
    }
}

/// libavif's quantizer (0 best, 63 worst) for a quality of 0 (worst) to 100 (best).
pub fn quantizer(quality: u8) -> i32 {
    ((100 - i32::from(quality.min(100))) * 63 + 50) / 100
}

/// libavif's speed (0 slowest, 10 fastest) for an effort of 0 (fastest) to 9 (smallest file).
pub fn speed(effort: u8) -> i32 {
    ((9 - i32::from(effort.min(9))) * 10 + 4) / 9
}

/// Encodes interleaved samples as an AVIF file's bytes, with the metadata blocks given (Exif as a
/// TIFF structure, from its byte-order mark). See the module's notes for depth, subsampling and
/// the quality and effort mappings.
pub fn encode(
    source: &Source,
    settings: &ImageSettings,
    metadata: &Metadata,
) -> Result<Vec<u8>, AvifError> {
    let quality = settings.quality.unwrap_or(DEFAULT_AVIF_QUALITY);
    if quality > 100 {
        return Err(AvifError::Unsupported(format!(
            "invalid AVIF quality {quality} (expected 0 to 100)"
        )));
    }
    let effort = settings.effort.unwrap_or(DEFAULT_AVIF_EFFORT);
    if effort > 9 {
        return Err(AvifError::Unsupported(format!(
            "invalid AVIF effort {effort} (expected 0 to 9)"
        )));
    }
    let Source {
        width,
        height,
        channels,
        samples,
        orientation,
    } = *source;
    if !matches!(channels, 3 | 4) {
        return Err(AvifError::Unsupported(format!(
            "cannot write {channels} channels as AVIF (expected RGB or RGBA)"
        )));
    }
    let expected = width as usize * height as usize * channels;
    if width == 0 || height == 0 || samples.len() != expected {
        return Err(AvifError::Failed(format!(
            "{} samples for a {width}x{height} picture of {channels} channels",
            samples.len()
        )));
    }
    let lossless = settings.lossless;
    let depth: u32 = match (samples, lossless) {
        (Samples::U8(_), _) => 8,
        (Samples::U16(_), false) => 10,
        (Samples::U16(_), true) => 12,
    };
    let format = if lossless || quality >= FULL_CHROMA_FROM {
        ffi::AVIF_PIXEL_FORMAT_YUV444
    } else {
        ffi::AVIF_PIXEL_FORMAT_YUV420
    };
    // SAFETY: a plain constructor; null only when out of memory.
    let image = Image(unsafe { ffi::avifImageCreate(width, height, depth, format) });
    if image.0.is_null() {
        return Err(AvifError::Failed("libavif could not make an image".into()));
    }
    // SAFETY: `image.0` is a live image; every pointer handed to libavif is valid for the call.
    unsafe {
        let img = &mut *image.0;
        img.yuvRange = ffi::AVIF_RANGE_FULL;
        // Lossy: BT.601's matrix, said in the file (libavif leaves it unspecified, which
        // decoders take for BT.601 too, but some for BT.709).
        img.matrixCoefficients = if lossless {
            ffi::AVIF_MATRIX_COEFFICIENTS_IDENTITY
        } else {
            ffi::AVIF_MATRIX_COEFFICIENTS_BT601
        } as ffi::avifMatrixCoefficients;
        let mut rgb: ffi::avifRGBImage = std::mem::zeroed();
        ffi::avifRGBImageSetDefaults(&mut rgb, img);
        rgb.format = if channels == 4 {
            ffi::AVIF_RGB_FORMAT_RGBA
        } else {
            ffi::AVIF_RGB_FORMAT_RGB
        };
        rgb.depth = depth;
        let row = width as usize * channels;
        // 16-bit samples to the stored depth, rounded: the buffer lives until the conversion.
        let narrowed: Vec<u16>;
        match samples {
            Samples::U8(p) => {
                rgb.rowBytes = row as u32;
                // libavif only reads the RGB pixels it converts from.
                rgb.pixels = p.as_ptr().cast_mut();
            }
            Samples::U16(p) => {
                let max = (1u32 << depth) - 1;
                narrowed = p
                    .iter()
                    .map(|&v| ((v as u32 * max + 32767) / 65535) as u16)
                    .collect();
                rgb.rowBytes = (row * 2) as u32;
                rgb.pixels = narrowed.as_ptr().cast_mut().cast();
            }
        }
        let result = ffi::avifImageRGBToYUV(img, &rgb);
        if result != ffi::AVIF_RESULT_OK {
            return Err(AvifError::Failed(format!(
                "libavif could not convert the picture from RGB: {}",
                diagnosis(result, &ffi::avifDiagnostics { error: [0; 256] })
            )));
        }
        // The colours are sRGB's unless a profile says otherwise (H.273: BT.709 primaries,
        // sRGB transfer); with a profile, its colr box says it and the code points stay
        // unspecified.
        match &metadata.icc {
            Some(icc) => ffi::avifImageSetProfileICC(img, icc.as_ptr(), icc.len()),
            None => {
                img.colorPrimaries = 1;
                img.transferCharacteristics = 13;
            }
        }
        if let Some(exif) = &metadata.exif {
            ffi::avifImageSetMetadataExif(img, exif.as_ptr(), exif.len());
        }
        if let Some(xmp) = &metadata.xmp {
            ffi::avifImageSetMetadataXMP(img, xmp.as_ptr(), xmp.len());
        }
        // libavif copies an Exif orientation into irot/imir; the boxes say what `source` asks,
        // the samples having been turned (or not) by the caller.
        let (angle, mirror) = transform_of(orientation);
        img.transformFlags = ffi::AVIF_TRANSFORM_NONE;
        img.irot.angle = 0;
        img.imir.mode = 0;
        if let Some(angle) = angle {
            img.transformFlags |= ffi::AVIF_TRANSFORM_IROT;
            img.irot.angle = angle;
        }
        if let Some(mode) = mirror {
            img.transformFlags |= ffi::AVIF_TRANSFORM_IMIR;
            img.imir.mode = mode;
        }

        let encoder = Encoder(ffi::avifEncoderCreate());
        if encoder.0.is_null() {
            return Err(AvifError::Failed(
                "libavif could not make an encoder".into(),
            ));
        }
        let enc = &mut *encoder.0;
        enc.codecChoice = ffi::AVIF_CODEC_CHOICE_AOM;
        enc.maxThreads = threads();
        enc.speed = speed(effort);
        let q = if lossless { 0 } else { quantizer(quality) };
        enc.minQuantizer = q;
        enc.maxQuantizer = q;
        enc.minQuantizerAlpha = q;
        enc.maxQuantizerAlpha = q;
        let mut out = ffi::avifRWData {
            data: std::ptr::null_mut(),
            size: 0,
        };
        let result = ffi::avifEncoderWrite(enc, img, &mut out);
        if result != ffi::AVIF_RESULT_OK {
            ffi::avifRWDataFree(&mut out);
            let said = diagnosis(result, &enc.diag);
            return Err(match result {
                ffi::AVIF_RESULT_INVALID_EXIF_PAYLOAD => AvifError::Unsupported(format!(
                    "the Exif block cannot be stored in AVIF (libavif: {said})"
                )),
                _ => AvifError::Failed(format!("libavif could not encode the picture: {said}")),
            });
        }
        let bytes = block(&out).unwrap_or_default();
        ffi::avifRWDataFree(&mut out);
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(w: u32, h: u32, channels: usize) -> Samples {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[(x * 13) as u8, (y * 17) as u8, ((x + y) * 5) as u8]);
                if channels == 4 {
                    data.push((x * 7 + y * 3) as u8);
                }
            }
        }
        Samples::U8(data)
    }

    fn encode_upright(
        w: u32,
        h: u32,
        channels: usize,
        samples: &Samples,
        settings: &ImageSettings,
        metadata: &Metadata,
    ) -> Vec<u8> {
        let source = Source {
            width: w,
            height: h,
            channels,
            samples,
            orientation: Orientation::NoTransforms,
        };
        encode(&source, settings, metadata).unwrap()
    }

    fn lossless() -> ImageSettings {
        ImageSettings {
            lossless: true,
            effort: Some(9),
            ..ImageSettings::default()
        }
    }

    /// A little-endian Exif block: one IFD entry, Orientation = `orientation`.
    fn exif_with(orientation: u8) -> Vec<u8> {
        vec![
            b'I',
            b'I',
            42,
            0,
            8,
            0,
            0,
            0, // TIFF header, IFD at 8
            1,
            0, // one entry
            0x12,
            0x01,
            3,
            0,
            1,
            0,
            0,
            0,
            orientation,
            0,
            0,
            0, // Orientation, SHORT, 1
            0,
            0,
            0,
            0, // no next IFD
        ]
    }

    #[test]
    fn lossless_8_bit_rgb_and_rgba_come_back_exactly() {
        for channels in [3, 4] {
            let samples = picture(19, 11, channels);
            let bytes = encode_upright(
                19,
                11,
                channels,
                &samples,
                &lossless(),
                &Metadata::default(),
            );
            let back = decode(&bytes, u64::MAX).unwrap();
            assert_eq!(back.header.subsampling, "yuv444");
            assert_eq!((back.header.depth, back.channels), (8, channels));
            assert_eq!(back.samples, samples, "{channels} channels");
        }
    }

    #[test]
    fn metadata_blocks_come_back_byte_for_byte() {
        let metadata = Metadata {
            icc: Some(crate::media::cms::srgb_icc().to_vec()),
            exif: Some(exif_with(1)),
            xmp: Some(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>".to_vec()),
        };
        let samples = picture(8, 8, 3);
        let settings = ImageSettings::default();
        let bytes = encode_upright(8, 8, 3, &samples, &settings, &metadata);
        assert_eq!(header(&bytes).unwrap().metadata, metadata);
        assert_eq!(decode(&bytes, u64::MAX).unwrap().header.metadata, metadata);
        // None written, none read.
        let bare = encode_upright(8, 8, 3, &samples, &settings, &Metadata::default());
        assert_eq!(header(&bare).unwrap().metadata, Metadata::default());
    }

    #[test]
    fn exif_is_found_after_the_offset_header() {
        let tiff = exif_with(6);
        let mut item = vec![0, 0, 0, 2, 0xAA, 0xBB];
        item.extend_from_slice(&tiff);
        assert_eq!(tiff_from(&item), Some(tiff.clone()));
        assert_eq!(tiff_from(&tiff), Some(tiff.clone()));
        assert_eq!(tiff_from(&[0, 0, 0, 9, 1, 2]), None);
        assert_eq!(tiff_from(&[0xff; 3]), None);
    }

    #[test]
    fn irot_and_imir_carry_every_orientation() {
        let samples = picture(6, 4, 3);
        for exif in 1..=8 {
            let orientation = Orientation::from_exif(exif).unwrap();
            let source = Source {
                width: 6,
                height: 4,
                channels: 3,
                samples: &samples,
                orientation,
            };
            let bytes = encode(&source, &ImageSettings::default(), &Metadata::default()).unwrap();
            assert_eq!(header(&bytes).unwrap().orientation, orientation, "{exif}");
        }
    }

    /// libavif's own reading of an Exif orientation into irot/imir agrees with ours.
    #[test]
    fn orientation_mapping_agrees_with_libavif() {
        for exif in 1..=8u8 {
            let image =
                Image(unsafe { ffi::avifImageCreate(4, 4, 8, ffi::AVIF_PIXEL_FORMAT_YUV444) });
            let block = exif_with(exif);
            // SAFETY: a live image and a valid block.
            let theirs = unsafe {
                ffi::avifImageSetMetadataExif(image.0, block.as_ptr(), block.len());
                orientation_of(&*image.0)
            };
            assert_eq!(theirs.to_exif(), exif);
            let (angle, mirror) = transform_of(theirs);
            assert_eq!(exif_orientation(angle.unwrap_or(0), mirror), exif);
        }
        // Left and right exchanged after a half turn is top and bottom exchanged.
        assert_eq!(exif_orientation(2, Some(1)), 4);
    }

    #[test]
    fn sixteen_bit_samples_keep_ten_bits() {
        let (w, h) = (32u32, 16u32);
        let data: Vec<u16> = (0..w * h * 3).map(|i| ((i * 977) % 65536) as u16).collect();
        let samples = Samples::U16(data.clone());
        for (settings, depth, tolerance) in [
            (
                ImageSettings {
                    quality: Some(100),
                    ..ImageSettings::default()
                },
                10,
                1200,
            ),
            (lossless(), 12, 20),
        ] {
            let bytes = encode_upright(w, h, 3, &samples, &settings, &Metadata::default());
            let back = decode(&bytes, u64::MAX).unwrap();
            assert_eq!(back.header.depth, depth);
            let Samples::U16(got) = back.samples else {
                panic!("{depth}-bit AVIF decodes to 8 bits")
            };
            let worst = got
                .iter()
                .zip(&data)
                .map(|(&a, &b)| a.abs_diff(b))
                .max()
                .unwrap();
            assert!(worst <= tolerance, "{depth} bits: off by {worst}");
            // Full range: black and white reach 0 and 65535.
            assert!(got.contains(&0), "{depth} bits");
        }
    }

    #[test]
    fn settings_map_onto_libavif() {
        assert_eq!((quantizer(100), quantizer(60), quantizer(0)), (0, 25, 63));
        assert_eq!((speed(0), speed(DEFAULT_AVIF_EFFORT), speed(9)), (10, 6, 0));
        let samples = picture(4, 4, 3);
        let source = Source {
            width: 4,
            height: 4,
            channels: 3,
            samples: &samples,
            orientation: Orientation::NoTransforms,
        };
        let bad = ImageSettings {
            quality: Some(101),
            ..ImageSettings::default()
        };
        assert!(matches!(
            encode(&source, &bad, &Metadata::default()),
            Err(AvifError::Unsupported(_))
        ));
        let bad = ImageSettings {
            effort: Some(10),
            ..ImageSettings::default()
        };
        assert!(matches!(
            encode(&source, &bad, &Metadata::default()),
            Err(AvifError::Unsupported(_))
        ));
        // 4:2:0 below quality 90, 4:4:4 from it.
        for (quality, subsampling) in [(89, "yuv420"), (90, "yuv444")] {
            let settings = ImageSettings {
                quality: Some(quality),
                ..ImageSettings::default()
            };
            let bytes = encode(&source, &settings, &Metadata::default()).unwrap();
            assert_eq!(header(&bytes).unwrap().subsampling, subsampling);
        }
    }

    /// A monochrome (4:0:0) AVIF, made through libavif directly: tessera writes RGB.
    #[test]
    fn grey_avif_decodes_to_grey() {
        let (w, h) = (8u32, 6u32);
        let grey: Vec<u8> = (0..w * h).map(|i| (i * 5) as u8).collect();
        let rgb: Vec<u8> = grey.iter().flat_map(|&v| [v, v, v]).collect();
        // SAFETY: live objects, buffers valid for each call.
        let bytes = unsafe {
            let image = Image(ffi::avifImageCreate(w, h, 8, ffi::AVIF_PIXEL_FORMAT_YUV400));
            (*image.0).yuvRange = ffi::AVIF_RANGE_FULL;
            let mut source: ffi::avifRGBImage = std::mem::zeroed();
            ffi::avifRGBImageSetDefaults(&mut source, image.0);
            source.format = ffi::AVIF_RGB_FORMAT_RGB;
            source.rowBytes = w * 3;
            source.pixels = rgb.as_ptr().cast_mut();
            assert_eq!(
                ffi::avifImageRGBToYUV(image.0, &source),
                ffi::AVIF_RESULT_OK
            );
            let encoder = Encoder(ffi::avifEncoderCreate());
            (*encoder.0).codecChoice = ffi::AVIF_CODEC_CHOICE_AOM;
            (*encoder.0).speed = 10;
            let mut out = ffi::avifRWData {
                data: std::ptr::null_mut(),
                size: 0,
            };
            assert_eq!(
                ffi::avifEncoderWrite(encoder.0, image.0, &mut out),
                ffi::AVIF_RESULT_OK
            );
            let bytes = block(&out).unwrap();
            ffi::avifRWDataFree(&mut out);
            bytes
        };
        let back = decode(&bytes, u64::MAX).unwrap();
        assert!(back.header.is_grey());
        assert_eq!(back.channels, 1);
        let Samples::U8(got) = back.samples else {
            unreachable!()
        };
        let worst = got
            .iter()
            .zip(&grey)
            .map(|(&a, &b)| a.abs_diff(b))
            .max()
            .unwrap();
        assert!(worst <= 3, "off by {worst}");
    }

    #[test]
    fn damage_is_an_error_with_libavif_s_words() {
        let samples = picture(64, 48, 3);
        let bytes = encode_upright(
            64,
            48,
            3,
            &samples,
            &ImageSettings::default(),
            &Metadata::default(),
        );
        for cut in [8, bytes.len() / 4, bytes.len() / 2, bytes.len() - 1] {
            let err = decode(&bytes[..cut], u64::MAX).unwrap_err();
            let AvifError::Damaged(what) = &err else {
                panic!("cut to {cut}: {err:?}")
            };
            assert!(what.contains("libavif"), "{what}");
        }
        assert!(matches!(decode(b"", u64::MAX), Err(AvifError::Damaged(_))));
        assert!(matches!(decode(&bytes, 100), Err(AvifError::Failed(_))));
    }
}
