//! Still images through the `image` crate: PNG, JPEG, WebP, TIFF and BMP.
//!
//! Reading recognises the format from the file's content, never its name, turns photos upright
//! by their Exif orientation, and keeps the source's depth: 16-bit PNG and TIFF (grey, RGB or
//! RGBA) become RGBA16 frames, everything else RGBA8. Writing picks the format from a file name's extension; PNG and TIFF keep 16 bits, JPEG,
//! WebP (lossless) and BMP are 8-bit. An image whose alpha is opaque everywhere is written
//! without an alpha channel. This module never renames or deletes files: the caller writes to a
//! temporary path and moves it into place.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use image::codecs::bmp::BmpEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::tiff::TiffEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits,
};

use super::{display, io_message, MediaError};
use crate::frame::{Frame, Pixels};

/// JPEG quality: visually transparent for photos, about a third of the size of quality 100.
const JPEG_QUALITY: u8 = 92;

const EXPECTED: &str = "expected PNG, JPEG, WebP, TIFF or BMP";
#[cfg(feature = "video")]
const EXPECTED_ANY: &str =
    "images: PNG, JPEG, WebP, TIFF or BMP; video: any container FFmpeg reads";
#[cfg(not(feature = "video"))]
const EXPECTED_ANY: &str = "images: PNG, JPEG, WebP, TIFF or BMP; this build has no video support";

/// The formats tessera reads and writes.
fn supported(format: ImageFormat) -> bool {
    matches!(
        format,
        ImageFormat::Png
            | ImageFormat::Jpeg
            | ImageFormat::WebP
            | ImageFormat::Tiff
            | ImageFormat::Bmp
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
/// file cannot be read, is named like an image but holds none, or is neither an image nor a
/// video (without the `video` feature: is not an image).
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
    #[cfg(feature = "video")]
    if super::decode::recognised(path) {
        return Ok(false);
    }
    Err(MediaError::Open {
        path: display(path),
        message: format!("not an image or video file tessera can read ({EXPECTED_ANY})"),
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

/// Reads an image into a frame: RGBA16 for 16-bit (and floating-point) sources, RGBA8 otherwise.
pub fn read(path: &Path) -> Result<Frame, MediaError> {
    let file = File::open(path).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    let reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| MediaError::Open {
            path: display(path),
            message: io_message(&e),
        })?;
    match reader.format() {
        Some(format) if supported(format) => {}
        Some(format) => {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!("unsupported image format {format:?} ({EXPECTED})"),
            })
        }
        None => {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!("unsupported image format ({EXPECTED})"),
            })
        }
    }
    if reader.format() == Some(ImageFormat::WebP) && is_animated_webp(path) {
        return Err(MediaError::Unsupported {
            path: display(path),
            message: "an animated WebP, which reads as a video, not a still image (taking its \
                      first frame alone would lose the rest)"
                .into(),
        });
    }
    let decode_error = |e: image::ImageError| MediaError::Decode {
        path: display(path),
        message: format!("cannot decode the image: {e}"),
    };
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    // The same allocation cap `ImageReader::decode` applies: a huge header is an error, not an
    // abort.
    Limits::default()
        .reserve(decoder.total_bytes())
        .map_err(decode_error)?;
    // Photos are stored as the sensor saw them and turned upright by their Exif orientation;
    // a damaged Exif block leaves the picture as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let deep = matches!(
        image,
        DynamicImage::ImageLuma16(_)
            | DynamicImage::ImageLumaA16(_)
            | DynamicImage::ImageRgb16(_)
            | DynamicImage::ImageRgba16(_)
            | DynamicImage::ImageRgb32F(_)
            | DynamicImage::ImageRgba32F(_)
    );
    // RGB, the common case, is widened to RGBA in its own buffer: a second, RGBA copy would
    // hold the picture twice at the peak.
    let pixels = match image {
        DynamicImage::ImageRgb8(rgb) => Pixels::Rgba8(rgb_to_rgba_in_place(rgb.into_raw(), 255)),
        DynamicImage::ImageRgb16(rgb) => {
            Pixels::Rgba16(rgb_to_rgba_in_place(rgb.into_raw(), u16::MAX))
        }
        image if deep => Pixels::Rgba16(image.into_rgba16().into_raw()),
        image => Pixels::Rgba8(image.into_rgba8().into_raw()),
    };
    Ok(Frame {
        width,
        height,
        pixels,
        index: 0,
        pts: None,
    })
}

/// Writes `frame` to `path` in the format that `format_of`'s extension names (the two differ
/// when the caller writes to a temporary file first).
pub fn write(frame: &Frame, path: &Path, format_of: &Path) -> Result<(), MediaError> {
    let format = format_from_extension(format_of).ok_or_else(|| MediaError::Unsupported {
        path: display(format_of),
        message: format!("unsupported image format ({EXPECTED}, from the file's extension)"),
    })?;
    let expected_len = frame.pixel_count() * 4;
    let len = match &frame.pixels {
        Pixels::Rgba8(p) => p.len(),
        Pixels::Rgba16(p) => p.len(),
    };
    if frame.width == 0 || frame.height == 0 || len != expected_len {
        return Err(MediaError::Encode {
            path: display(format_of),
            message: format!(
                "cannot write a {}x{} frame holding {len} samples (expected {expected_len})",
                frame.width, frame.height
            ),
        });
    }

    let keep_16 = matches!(format, ImageFormat::Png | ImageFormat::Tiff);
    let opaque = is_opaque(&frame.pixels);
    let rgb = opaque || format == ImageFormat::Jpeg;
    // Samples as the encoders take them (16-bit ones native-endian), borrowed where they can be.
    let (bytes, color): (Cow<[u8]>, _) = match (&frame.pixels, keep_16, rgb) {
        (Pixels::Rgba16(p), true, true) => (
            Cow::Owned(bytemuck::cast_slice(&drop_alpha(p)).to_vec()),
            ExtendedColorType::Rgb16,
        ),
        (Pixels::Rgba16(p), true, false) => (
            Cow::Borrowed(bytemuck::cast_slice(p)),
            ExtendedColorType::Rgba16,
        ),
        (Pixels::Rgba16(p), false, _) => {
            let eight: Vec<u8> = p.iter().map(|&v| to_8_bit(v)).collect();
            rgb_or_rgba_8(Cow::Owned(eight), rgb)
        }
        (Pixels::Rgba8(p), _, _) => rgb_or_rgba_8(Cow::Borrowed(p), rgb),
    };

    let file = File::create(path).map_err(|e| MediaError::Write {
        path: display(format_of),
        message: format!("cannot create the file: {}", io_message(&e)),
    })?;
    let mut out = BufWriter::new(file);
    let (w, h) = (frame.width, frame.height);
    let encoded = match format {
        ImageFormat::Png => PngEncoder::new(&mut out).write_image(&bytes, w, h, color),
        ImageFormat::Tiff => TiffEncoder::new(&mut out).write_image(&bytes, w, h, color),
        ImageFormat::Jpeg => {
            JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).write_image(&bytes, w, h, color)
        }
        ImageFormat::WebP => WebPEncoder::new_lossless(&mut out).write_image(&bytes, w, h, color),
        _ => BmpEncoder::new(&mut out).write_image(&bytes, w, h, color),
    };
    encoded.map_err(|e| match e {
        image::ImageError::IoError(e) => MediaError::Write {
            path: display(format_of),
            message: io_message(&e),
        },
        e => MediaError::Encode {
            path: display(format_of),
            message: format!("cannot encode the image: {e}"),
        },
    })?;
    out.flush().map_err(|e| MediaError::Write {
        path: display(format_of),
        message: io_message(&e),
    })
}

/// RGB samples → RGBA with alpha `opaque`, in the same allocation: it grows by a third and
/// the pixels move out to their places from the last one back, so none is overwritten before
/// it has moved.
fn rgb_to_rgba_in_place<T: Copy>(mut samples: Vec<T>, opaque: T) -> Vec<T> {
    let pixels = samples.len() / 3;
    samples.resize(pixels * 4, opaque);
    for i in (0..pixels).rev() {
        let [r, g, b] = [samples[3 * i], samples[3 * i + 1], samples[3 * i + 2]];
        samples[4 * i..4 * i + 4].copy_from_slice(&[r, g, b, opaque]);
    }
    samples
}

/// 16-bit code value to the nearest 8-bit one.
#[inline]
fn to_8_bit(v: u16) -> u8 {
    ((v as u32 * 255 + 32767) / 65535) as u8
}

fn is_opaque(pixels: &Pixels) -> bool {
    match pixels {
        Pixels::Rgba8(p) => p.chunks_exact(4).all(|px| px[3] == u8::MAX),
        Pixels::Rgba16(p) => p.chunks_exact(4).all(|px| px[3] == u16::MAX),
    }
}

fn drop_alpha<T: Copy>(rgba: &[T]) -> Vec<T> {
    rgba.chunks_exact(4)
        .flat_map(|px| [px[0], px[1], px[2]])
        .collect()
}

fn rgb_or_rgba_8(rgba: Cow<[u8]>, rgb: bool) -> (Cow<[u8]>, ExtendedColorType) {
    if rgb {
        (Cow::Owned(drop_alpha(&rgba)), ExtendedColorType::Rgb8)
    } else {
        (rgba, ExtendedColorType::Rgba8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgb_widens_to_rgba_in_place() {
        let rgb: Vec<u8> = (0..30).collect();
        let expected: Vec<u8> = rgb
            .chunks(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect();
        assert_eq!(rgb_to_rgba_in_place(rgb, 255), expected);
        assert_eq!(
            rgb_to_rgba_in_place(Vec::<u16>::new(), 7),
            Vec::<u16>::new()
        );
    }
    use crate::frame::Depth;

    fn gradient8(w: u32, h: u32, alpha: bool) -> Frame {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let a = if alpha { (x * 7 + y) as u8 } else { 255 };
                data.extend_from_slice(&[(x * 13) as u8, (y * 17) as u8, ((x + y) * 5) as u8, a]);
            }
        }
        Frame::from_rgba8(w, h, data)
    }

    fn gradient16(w: u32, h: u32, alpha: bool) -> Frame {
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let a = if alpha {
                    (x * 1021 + y * 3) as u16
                } else {
                    u16::MAX
                };
                data.extend_from_slice(&[
                    (x * 4099 + 1) as u16,
                    (y * 2053 + 3) as u16,
                    ((x * y) * 257 + 7) as u16,
                    a,
                ]);
            }
        }
        Frame::from_rgba16(w, h, data)
    }

    fn round_trip(frame: &Frame, name: &str) -> Frame {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        write(frame, &path, &path).unwrap();
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
                assert_eq!(back.depth(), Depth::Sixteen, "{name}");
                assert_eq!(back, frame, "{name} alpha={alpha}");
            }
        }
    }

    #[test]
    fn gray16_and_rgb16_sources_become_rgba16() {
        let dir = tempfile::tempdir().unwrap();
        let gray = image::ImageBuffer::<image::Luma<u16>, _>::from_fn(5, 4, |x, y| {
            image::Luma([(x * 1000 + y) as u16])
        });
        let gray_path = dir.path().join("g.png");
        gray.save(&gray_path).unwrap();
        let frame = read(&gray_path).unwrap();
        assert_eq!(frame.depth(), Depth::Sixteen);
        let Pixels::Rgba16(p) = &frame.pixels else {
            unreachable!()
        };
        assert_eq!(&p[4 * 6..4 * 7], &[1001, 1001, 1001, u16::MAX]); // (1, 1)

        let rgb = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(5, 4, |x, y| {
            image::Rgb([x as u16 * 300, y as u16, 9])
        });
        let rgb_path = dir.path().join("c.tiff");
        rgb.save(&rgb_path).unwrap();
        let frame = read(&rgb_path).unwrap();
        assert_eq!(frame.depth(), Depth::Sixteen);
        let Pixels::Rgba16(p) = &frame.pixels else {
            unreachable!()
        };
        assert_eq!(&p[4 * 7..4 * 8], &[600, 1, 9, u16::MAX]); // (2, 1)
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
        let frame = gradient8(6, 4, false);
        let Pixels::Rgba8(data) = &frame.pixels else {
            unreachable!()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turned.png");
        let mut encoder = PngEncoder::new(File::create(&path).unwrap());
        encoder.set_exif_metadata(exif.to_vec()).unwrap();
        encoder
            .write_image(data, 6, 4, ExtendedColorType::Rgba8)
            .unwrap();
        let back = read(&path).unwrap();
        assert_eq!((back.width, back.height), (4, 6));
        // Rotated clockwise: the stored bottom-left pixel is now the top-left one.
        let Pixels::Rgba8(turned) = &back.pixels else {
            unreachable!()
        };
        assert_eq!(&turned[..4], &data[(3 * 6) * 4..(3 * 6) * 4 + 4]);
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
        let expected = match &frame.pixels {
            Pixels::Rgba16(p) => Frame::from_rgba8(6, 5, p.iter().map(|&v| to_8_bit(v)).collect()),
            Pixels::Rgba8(_) => unreachable!(),
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
    fn jpeg_is_close_and_opaque() {
        let mut data = Vec::new();
        for y in 0..32u32 {
            for x in 0..48u32 {
                data.extend_from_slice(&[(x * 4) as u8, (y * 6) as u8, 128, 10]);
            }
        }
        let frame = Frame::from_rgba8(48, 32, data);
        let back = round_trip(&frame, "a.JPEG");
        assert_eq!(
            (back.width, back.height, back.depth()),
            (48, 32, Depth::Eight)
        );
        let Pixels::Rgba8(p) = &back.pixels else {
            unreachable!()
        };
        assert!(
            p.chunks_exact(4).all(|px| px[3] == 255),
            "JPEG has no alpha"
        );
        let mut opaque = frame.clone();
        if let Pixels::Rgba8(p) = &mut opaque.pixels {
            p.chunks_exact_mut(4).for_each(|px| px[3] = 255);
        }
        let diff = back.max_abs_diff(&opaque).unwrap();
        assert!(
            diff <= 12,
            "JPEG at quality {JPEG_QUALITY} is off by {diff}"
        );
    }

    #[test]
    fn content_decides_the_format_not_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let frame = gradient8(8, 8, true);
        let tmp = dir.path().join("written.tmp");
        write(&frame, &tmp, Path::new("photo.png")).unwrap();
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
                "{}: unsupported image format (expected PNG, JPEG, WebP, TIFF or BMP)",
                garbage.display()
            )
        );

        // A real PNG header with a truncated body.
        let good = dir.path().join("good.png");
        write(&gradient8(40, 40, false), &good, &good).unwrap();
        let bytes = std::fs::read(&good).unwrap();
        let truncated = dir.path().join("truncated.png");
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        assert!(is_image_file(&truncated).unwrap());
        assert!(matches!(
            read(&truncated).unwrap_err(),
            MediaError::Decode { .. }
        ));

        let empty = dir.path().join("empty.bmp");
        std::fs::write(&empty, b"").unwrap();
        assert!(read(&empty).is_err());
        assert!(matches!(
            read(&dir.path().join("missing.png")).unwrap_err(),
            MediaError::Open { .. }
        ));
    }

    #[test]
    fn unknown_output_extensions_and_bad_frames_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let frame = gradient8(4, 4, false);
        let gif = dir.path().join("a.gif");
        let err = write(&frame, &gif, &gif).unwrap_err();
        assert!(matches!(err, MediaError::Unsupported { .. }), "{err:?}");
        let bad = Frame {
            width: 5,
            height: 5,
            pixels: Pixels::Rgba8(vec![0; 7]),
            index: 0,
            pts: None,
        };
        let png = dir.path().join("a.png");
        assert!(matches!(
            write(&bad, &png, &png).unwrap_err(),
            MediaError::Encode { .. }
        ));
        let nowhere = dir.path().join("no/such/folder/a.png");
        assert!(matches!(
            write(&frame, &nowhere, &nowhere).unwrap_err(),
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
