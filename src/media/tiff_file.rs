//! TIFF files beyond the `tiff` crate's own strips: tiled images, JPEG-compressed strips and
//! tiles (Compression 7, "new-style" JPEG of TIFF Technical Note 2), and pyramids of
//! reduced-resolution IFDs after the full-size one, as `vips tiffsave --tile --pyramid` writes
//! them. The IFDs are written through the `tiff` crate's directory encoder; the chunks (strips
//! or tiles) are compressed here. It also reads back the one kind of TIFF among these that the
//! `image` crate's decoder refuses: Y′CbCr, which every JPEG-compressed colour TIFF is.
//!
//! Samples come in interleaved and leave as a file's bytes; metadata is not this module's
//! (`metadata::embed` rebuilds IFD0 afterwards, leaving the chunks and later IFDs in place).

use std::io::{BufRead, Cursor, Seek, SeekFrom};

use image::error::{DecodingError, ImageFormatHint};
use image::metadata::Orientation;
use image::{ColorType, ImageDecoder, ImageError, ImageFormat, ImageReader, ImageResult};
use tiff::encoder::compression::{CompressionAlgorithm, Deflate, DeflateLevel, Lzw};
use tiff::encoder::{DirectoryEncoder, Rational, TiffEncoder, TiffKindStandard};
use tiff::tags::Tag;

use super::encoders::{jpeg_stream, JpegOptions, Subsampling};
use crate::frame::Samples;

/// Tile side when tiles are asked for without a size: vips' `--tile-width` default is 128,
/// libtiff's tools and most slide viewers use 256, which halves the tiles' count and overhead.
pub const DEFAULT_TILE: u32 = 256;
/// The largest tile side accepted, as vips.
pub const MAX_TILE: u32 = 32_768;

/// ReferenceBlackWhite, which the `tiff` crate does not name.
const REFERENCE_BLACK_WHITE: u16 = 532;

/// Bytes written after each LZW chunk's end code (see [`compress`]).
const LZW_SLACK: usize = 8;

/// How each chunk of a TIFF is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    None,
    /// LZW with the horizontal predictor.
    Lzw,
    /// Deflate with the horizontal predictor.
    Deflate,
    /// A complete baseline JPEG stream per chunk (8-bit, grey or Y′CbCr).
    Jpeg(JpegOptions),
}

/// How a TIFF's pixels are laid out: strips, or tiles of a size; a pyramid after it or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub codec: Codec,
    /// Tile width and height (multiples of 16); `None` for strips.
    pub tile: Option<(u32, u32)>,
    /// Reduced-resolution IFDs after the full-size one, down to one that fits in a tile.
    pub pyramid: bool,
}

/// Parses a tile size: `N` (square) or `WxH`, each a multiple of 16 from 16 to [`MAX_TILE`].
pub fn parse_tile(text: &str) -> Result<(u32, u32), String> {
    let side = |s: &str| -> Result<u32, String> {
        let n: u32 = s
            .trim()
            .parse()
            .map_err(|_| format!("'{text}' is not a tile size (N or WxH, e.g. 256 or 512x256)"))?;
        if n == 0 || !n.is_multiple_of(16) || n > MAX_TILE {
            return Err(format!(
                "invalid tile side {n} (expected a multiple of 16, from 16 to {MAX_TILE}: TIFF \
                 requires tiles in multiples of 16)"
            ));
        }
        Ok(n)
    };
    match text.split_once(['x', 'X']) {
        Some((w, h)) => Ok((side(w)?, side(h)?)),
        None => side(text).map(|n| (n, n)),
    }
}

/// A sample type TIFF holds: 8- or 16-bit unsigned.
trait Sample: Copy + Default + bytemuck::Pod {
    const BITS: u16;
    fn widen(self) -> u32;
    fn narrow(v: u32) -> Self;
    fn wrapping_sub(self, other: Self) -> Self;
}

impl Sample for u8 {
    const BITS: u16 = 8;
    fn widen(self) -> u32 {
        self.into()
    }
    fn narrow(v: u32) -> Self {
        v as u8
    }
    fn wrapping_sub(self, other: Self) -> Self {
        u8::wrapping_sub(self, other)
    }
}

impl Sample for u16 {
    const BITS: u16 = 16;
    fn widen(self) -> u32 {
        self.into()
    }
    fn narrow(v: u32) -> Self {
        v as u16
    }
    fn wrapping_sub(self, other: Self) -> Self {
        u16::wrapping_sub(self, other)
    }
}

/// One picture's interleaved samples.
struct Picture<T> {
    w: u32,
    h: u32,
    channels: usize,
    samples: Vec<T>,
}

impl<T: Sample> Picture<T> {
    /// The next pyramid level: half the size (rounded down, at least 1), each sample the mean
    /// of a 2×2 block, rounded (vips' `region_shrink=mean`); a last odd row or column is left
    /// out, as vips' halving drops it.
    fn halved(&self) -> Picture<T> {
        let (w, h, c) = ((self.w / 2).max(1), (self.h / 2).max(1), self.channels);
        let at = |x: u32, y: u32, k: usize| {
            let (x, y) = (x.min(self.w - 1) as usize, y.min(self.h - 1) as usize);
            self.samples[(y * self.w as usize + x) * c + k].widen()
        };
        let mut samples = Vec::with_capacity(w as usize * h as usize * c);
        for y in 0..h {
            for x in 0..w {
                for k in 0..c {
                    let sum = at(2 * x, 2 * y, k)
                        + at(2 * x + 1, 2 * y, k)
                        + at(2 * x, 2 * y + 1, k)
                        + at(2 * x + 1, 2 * y + 1, k);
                    samples.push(T::narrow((sum + 2) / 4));
                }
            }
        }
        Picture {
            w,
            h,
            channels: c,
            samples,
        }
    }

    /// The `cw`×`ch` block at (`x0`, `y0`); where it reaches past the picture's right or
    /// bottom edge (a tile at the edge) the edge is repeated, which compresses better than
    /// zeros and keeps a JPEG's edge blocks free of ringing.
    fn block(&self, x0: u32, y0: u32, cw: u32, ch: u32) -> Vec<T> {
        let c = self.channels;
        let mut out = Vec::with_capacity(cw as usize * ch as usize * c);
        for y in y0..y0 + ch {
            let row = y.min(self.h - 1) as usize * self.w as usize;
            let inside = self.w.saturating_sub(x0).min(cw);
            let start = (row + x0 as usize) * c;
            out.extend_from_slice(&self.samples[start..start + inside as usize * c]);
            let last = &self.samples[(row + self.w as usize - 1) * c..][..c];
            for _ in inside..cw {
                out.extend_from_slice(last);
            }
        }
        out
    }
}

/// Writes a TIFF of `samples` (`channels` interleaved: grey, RGB or RGBA; grey with alpha is
/// not taken) with `layout`. JPEG takes 8-bit grey or RGB only.
pub fn write(
    samples: &Samples,
    w: u32,
    h: u32,
    channels: usize,
    layout: &Layout,
) -> Result<Vec<u8>, String> {
    match samples {
        Samples::U8(p) => write_levels(
            Picture {
                w,
                h,
                channels,
                samples: p.clone(),
            },
            layout,
        ),
        Samples::U16(p) => {
            if matches!(layout.codec, Codec::Jpeg(_)) {
                return Err("JPEG inside TIFF holds 8-bit samples only".into());
            }
            write_levels(
                Picture {
                    w,
                    h,
                    channels,
                    samples: p.clone(),
                },
                layout,
            )
        }
    }
}

fn write_levels<T: Sample>(full: Picture<T>, layout: &Layout) -> Result<Vec<u8>, String> {
    if full.w == 0 || full.h == 0 || !matches!(full.channels, 1 | 3 | 4) {
        return Err(format!(
            "cannot write a {}×{} TIFF of {} samples a pixel",
            full.w, full.h, full.channels
        ));
    }
    if matches!(layout.codec, Codec::Jpeg(_)) && full.channels == 4 {
        return Err("JPEG inside TIFF holds no alpha".into());
    }
    let mut out = Cursor::new(Vec::new());
    let mut encoder = TiffEncoder::new(&mut out).map_err(tiff_error)?;
    let mut level = full;
    let mut index = 0;
    loop {
        write_ifd(&mut encoder, &level, layout, index > 0)?;
        let (tw, th) = layout.tile.unwrap_or((DEFAULT_TILE, DEFAULT_TILE));
        if !layout.pyramid || (level.w <= tw && level.h <= th) {
            break;
        }
        level = level.halved();
        index += 1;
    }
    Ok(out.into_inner())
}

fn tiff_error(e: tiff::TiffError) -> String {
    format!("cannot encode the TIFF: {e}")
}

/// Rows per strip: about 64 KiB of samples, a multiple of 16 so that a JPEG strip holds whole
/// 4:2:0 blocks (TIFF Technical Note 2 asks for whole MCUs in every strip but the last).
fn rows_per_strip(row_bytes: usize, h: u32) -> u32 {
    let rows = ((64 * 1024) / row_bytes.max(1)).max(1) as u32;
    (rows.div_ceil(16) * 16).min(h.div_ceil(16) * 16)
}

/// Appends one image IFD (chunks first, then the directory) for `picture`.
fn write_ifd<W: std::io::Write + Seek, T: Sample>(
    encoder: &mut TiffEncoder<W>,
    picture: &Picture<T>,
    layout: &Layout,
    reduced: bool,
) -> Result<(), String> {
    let (w, h, c) = (picture.w, picture.h, picture.channels);
    let row_bytes = w as usize * c * size_of::<T>();
    let chunks: Vec<(u32, u32, u32, u32)> = match layout.tile {
        Some((tw, th)) => (0..h.div_ceil(th))
            .flat_map(|ty| (0..w.div_ceil(tw)).map(move |tx| (tx * tw, ty * th, tw, th)))
            .collect(),
        None => {
            let rows = rows_per_strip(row_bytes, h);
            (0..h.div_ceil(rows))
                .map(|s| (0, s * rows, w, rows.min(h - s * rows)))
                .collect()
        }
    };
    let mut dir = encoder.image_directory().map_err(tiff_error)?;
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut counts = Vec::with_capacity(chunks.len());
    for &(x0, y0, cw, ch) in &chunks {
        let block = picture.block(x0, y0, cw, ch);
        write_chunk(
            &mut dir,
            &block,
            (cw, ch),
            c,
            layout.codec,
            &mut offsets,
            &mut counts,
        )?;
    }
    directory::<W, T>(&mut dir, (w, h, c), layout, reduced, &offsets, &counts)?;
    dir.finish().map_err(tiff_error)
}

/// Compresses one chunk and writes it, its offset and byte count noted.
fn write_chunk<W: std::io::Write + Seek, T: Sample>(
    dir: &mut DirectoryEncoder<'_, W, TiffKindStandard>,
    block: &[T],
    size: (u32, u32),
    channels: usize,
    codec: Codec,
    offsets: &mut Vec<u32>,
    counts: &mut Vec<u32>,
) -> Result<(), String> {
    let bytes = compress(block, size, channels, codec)?;
    let at = dir.write_data(&bytes[..]).map_err(tiff_error)?;
    offsets.push(u32::try_from(at).map_err(|_| "the TIFF would pass 4 GiB".to_string())?);
    counts.push(bytes.len() as u32);
    Ok(())
}

/// The tags of an image directory whose chunks are written: sizes, samples, compression, the
/// chunks' layout, offsets and byte counts.
fn directory<W: std::io::Write + Seek, T: Sample>(
    dir: &mut DirectoryEncoder<'_, W, TiffKindStandard>,
    (w, h, c): (u32, u32, usize),
    layout: &Layout,
    reduced: bool,
    offsets: &[u32],
    counts: &[u32],
) -> Result<(), String> {
    let row_bytes = w as usize * c * size_of::<T>();
    dir.write_tag(Tag::NewSubfileType, u32::from(reduced))
        .map_err(tiff_error)?;
    dir.write_tag(Tag::ImageWidth, w).map_err(tiff_error)?;
    dir.write_tag(Tag::ImageLength, h).map_err(tiff_error)?;
    tag(dir, Tag::BitsPerSample, &vec![T::BITS; c])?;
    let (compression, predictor) = match layout.codec {
        Codec::None => (1, 1),
        Codec::Lzw => (5, 2),
        Codec::Deflate => (8, 2),
        Codec::Jpeg(_) => (7, 1),
    };
    tag(dir, Tag::Compression, &[compression])?;
    let photometric = match (layout.codec, c) {
        (_, 1) => 1,
        (Codec::Jpeg(_), _) => 6,
        _ => 2,
    };
    tag(dir, Tag::PhotometricInterpretation, &[photometric])?;
    tag(dir, Tag::SamplesPerPixel, &[c as u16])?;
    tag(dir, Tag::PlanarConfiguration, &[1])?;
    if predictor != 1 {
        tag(dir, Tag::Predictor, &[predictor])?;
    }
    if c == 4 {
        // Unassociated alpha, as tessera's frames hold it.
        tag(dir, Tag::ExtraSamples, &[2])?;
    }
    tag(dir, Tag::SampleFormat, &vec![1; c])?;
    let (offsets_tag, counts_tag) = match layout.tile {
        Some((tw, th)) => {
            dir.write_tag(Tag::TileWidth, tw).map_err(tiff_error)?;
            dir.write_tag(Tag::TileLength, th).map_err(tiff_error)?;
            (Tag::TileOffsets, Tag::TileByteCounts)
        }
        None => {
            dir.write_tag(Tag::RowsPerStrip, rows_per_strip(row_bytes, h))
                .map_err(tiff_error)?;
            (Tag::StripOffsets, Tag::StripByteCounts)
        }
    };
    dir.write_tag(offsets_tag, offsets).map_err(tiff_error)?;
    dir.write_tag(counts_tag, counts).map_err(tiff_error)?;
    if let (Codec::Jpeg(options), 3) = (layout.codec, c) {
        let (x, y) = match options.subsampling {
            Subsampling::S444 => (1, 1),
            Subsampling::S422 => (2, 1),
            Subsampling::S420 => (2, 2),
        };
        tag(dir, Tag::ChromaSubsampling, &[x, y])?;
        // JPEG's full-range Y′CbCr, which TIFF does not assume (its default reference is the
        // samples' whole range for every component).
        let r = |n| Rational { n, d: 1 };
        dir.write_tag(
            Tag::from_u16_exhaustive(REFERENCE_BLACK_WHITE),
            &[r(0), r(255), r(128), r(255), r(128), r(255)][..],
        )
        .map_err(tiff_error)?;
    }
    let one = Rational { n: 1, d: 1 };
    dir.write_tag(Tag::XResolution, &one).map_err(tiff_error)?;
    dir.write_tag(Tag::YResolution, &one).map_err(tiff_error)?;
    tag(dir, Tag::ResolutionUnit, &[1])
}

/// Writes a strip-organised `w`×`h` TIFF of `channels` samples a pixel (grey, RGB or RGBA) to
/// `out` from the bands of whole rows `bands` gives (interleaved, 8 or 16 bits as `wide`
/// says), each strip compressed with `codec` as soon as its rows are in; `icc` and `xmp` go
/// into the image's directory. What the streaming still path writes.
#[allow(clippy::too_many_arguments)]
pub fn write_strips<W: std::io::Write + Seek>(
    out: W,
    (w, h): (u32, u32),
    channels: usize,
    wide: bool,
    codec: Codec,
    icc: Option<&[u8]>,
    xmp: Option<&[u8]>,
    bands: impl Iterator<Item = Samples>,
) -> Result<(), String> {
    fn strips<W: std::io::Write + Seek, T: Sample>(
        out: W,
        (w, h, c): (u32, u32, usize),
        codec: Codec,
        blocks: [(u16, Option<&[u8]>); 2],
        bands: impl Iterator<Item = Vec<T>>,
    ) -> Result<(), String> {
        let mut encoder = TiffEncoder::new(out).map_err(tiff_error)?;
        let mut dir = encoder.image_directory().map_err(tiff_error)?;
        let row = w as usize * c;
        let rows = rows_per_strip(row * size_of::<T>(), h);
        let (mut offsets, mut counts) = (Vec::new(), Vec::new());
        let mut pending: Vec<T> = Vec::new();
        let mut done = 0;
        for band in bands {
            pending.extend_from_slice(&band);
            while done < h {
                let n = rows.min(h - done);
                let len = n as usize * row;
                if pending.len() < len {
                    break;
                }
                write_chunk(
                    &mut dir,
                    &pending[..len],
                    (w, n),
                    c,
                    codec,
                    &mut offsets,
                    &mut counts,
                )?;
                pending.drain(..len);
                done += n;
            }
        }
        if done < h {
            return Err(format!("the picture's rows ended at row {done} of {h}"));
        }
        let layout = Layout {
            codec,
            tile: None,
            pyramid: false,
        };
        directory::<W, T>(&mut dir, (w, h, c), &layout, false, &offsets, &counts)?;
        for (t, value) in blocks {
            if let Some(value) = value {
                dir.write_tag(Tag::Unknown(t), value).map_err(tiff_error)?;
            }
        }
        dir.finish().map_err(tiff_error)
    }
    let blocks = [
        (super::metadata::TIFF_ICC, icc),
        (super::metadata::TIFF_XMP, xmp),
    ];
    let size = (w, h, channels);
    if wide {
        let bands = bands.map(|b| match b {
            Samples::U16(v) => v,
            Samples::U8(_) => unreachable!("a band's depth is the picture's"),
        });
        strips::<W, u16>(out, size, codec, blocks, bands)
    } else {
        let bands = bands.map(|b| match b {
            Samples::U8(v) => v,
            Samples::U16(_) => unreachable!("a band's depth is the picture's"),
        });
        strips::<W, u8>(out, size, codec, blocks, bands)
    }
}

/// Writes a tag of SHORT values.
fn tag<W: std::io::Write + Seek>(
    dir: &mut DirectoryEncoder<'_, W, TiffKindStandard>,
    tag: Tag,
    values: &[u16],
) -> Result<(), String> {
    dir.write_tag(tag, values).map_err(tiff_error)
}

/// One chunk's bytes as stored: raw, or predicted and compressed, or a JPEG stream.
fn compress<T: Sample>(
    block: &[T],
    (cw, ch): (u32, u32),
    channels: usize,
    codec: Codec,
) -> Result<Vec<u8>, String> {
    match codec {
        Codec::None => Ok(bytemuck::cast_slice(block).to_vec()),
        Codec::Jpeg(options) => {
            let pixels: &[u8] = bytemuck::cast_slice(block);
            jpeg_stream(pixels, cw, ch, channels == 1, &options)
        }
        Codec::Lzw => {
            let mut out = Vec::new();
            let predicted = predicted(block, cw, channels);
            Lzw.write_to(&mut out, bytemuck::cast_slice(&predicted))
                .map_err(|e| format!("cannot compress the TIFF: {e}"))?;
            // Bytes after the end code, which decoders never reach: the `tiff` crate's decoder
            // (0.11), reading an edge tile row by row, stops with "no lzw end code found" where
            // its input runs out while decoded samples are still held back; a few more bytes
            // of input let it finish.
            out.extend_from_slice(&[0; LZW_SLACK]);
            Ok(out)
        }
        Codec::Deflate => {
            let mut out = Vec::new();
            let predicted = predicted(block, cw, channels);
            Deflate::with_level(DeflateLevel::Balanced)
                .write_to(&mut out, bytemuck::cast_slice(&predicted))
                .map_err(|e| format!("cannot compress the TIFF: {e}"))?;
            Ok(out)
        }
    }
}

/// TIFF's horizontal predictor (Predictor 2): each sample less its left neighbour's, row by
/// row, wrapping.
fn predicted<T: Sample>(block: &[T], cw: u32, channels: usize) -> Vec<T> {
    let mut out = block.to_vec();
    for row in out.chunks_exact_mut(cw as usize * channels) {
        for i in (channels..row.len()).rev() {
            row[i] = row[i].wrapping_sub(row[i - channels]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading

/// The decoder for a still's bytes: the `image` crate's, except for a Y′CbCr TIFF (a
/// JPEG-compressed colour TIFF, which that decoder refuses), read here through the `tiff`
/// crate and turned into RGB. The `image` crate's decoders work within `limits`.
pub fn into_decoder<'a, R: BufRead + Seek + 'a>(
    mut reader: ImageReader<R>,
    limits: image::Limits,
) -> ImageResult<Box<dyn ImageDecoder + 'a>> {
    if reader.format() != Some(ImageFormat::Tiff) {
        reader.limits(limits);
        return Ok(Box::new(reader.into_decoder()?));
    }
    let mut inner = reader.into_inner();
    let start = inner.stream_position()?;
    let ycbcr = tiff::decoder::Decoder::new(&mut inner)
        .and_then(|mut d| d.colortype())
        .is_ok_and(|c| c == tiff::ColorType::YCbCr(8));
    inner.seek(SeekFrom::Start(start))?;
    if ycbcr {
        Ok(Box::new(YcbcrTiff::new(inner)?))
    } else {
        let mut reader = ImageReader::with_format(inner, ImageFormat::Tiff);
        reader.limits(limits);
        Ok(Box::new(reader.into_decoder()?))
    }
}

fn decoding(e: tiff::TiffError) -> ImageError {
    ImageError::Decoding(DecodingError::new(
        ImageFormatHint::Exact(ImageFormat::Tiff),
        e,
    ))
}

/// An 8-bit Y′CbCr TIFF's first image, read as RGB.
struct YcbcrTiff<R: BufRead + Seek> {
    decoder: tiff::decoder::Decoder<R>,
    size: (u32, u32),
}

impl<R: BufRead + Seek> YcbcrTiff<R> {
    fn new(reader: R) -> ImageResult<Self> {
        let mut decoder = tiff::decoder::Decoder::new(reader).map_err(decoding)?;
        let size = decoder.dimensions().map_err(decoding)?;
        Ok(YcbcrTiff { decoder, size })
    }
}

impl<R: BufRead + Seek> ImageDecoder for YcbcrTiff<R> {
    fn dimensions(&self) -> (u32, u32) {
        self.size
    }

    fn color_type(&self) -> ColorType {
        ColorType::Rgb8
    }

    fn icc_profile(&mut self) -> ImageResult<Option<Vec<u8>>> {
        Ok(self.decoder.get_tag_u8_vec(Tag::IccProfile).ok())
    }

    fn orientation(&mut self) -> ImageResult<Orientation> {
        let exif = self
            .decoder
            .find_tag_unsigned::<u8>(Tag::Orientation)
            .ok()
            .flatten();
        Ok(exif
            .and_then(Orientation::from_exif)
            .unwrap_or(Orientation::NoTransforms))
    }

    fn read_image(mut self, buf: &mut [u8]) -> ImageResult<()> {
        let decoded = self.decoder.read_image().map_err(decoding)?;
        let tiff::decoder::DecodingResult::U8(ycbcr) = decoded else {
            return Err(ImageError::Decoding(DecodingError::new(
                ImageFormatHint::Exact(ImageFormat::Tiff),
                "Y′CbCr samples wider than 8 bits",
            )));
        };
        for (rgb, px) in buf.chunks_exact_mut(3).zip(ycbcr.chunks_exact(3)) {
            rgb.copy_from_slice(&ycbcr_to_rgb(px[0], px[1], px[2]));
        }
        Ok(())
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> ImageResult<()> {
        (*self).read_image(buf)
    }
}

/// JPEG's (JFIF's) full-range BT.601 Y′CbCr to RGB, rounded.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
    let c = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    [
        c(y + 1.402 * cr),
        c(y - 0.344_136 * cb - 0.714_136 * cr),
        c(y + 1.772 * cb),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_sizes_are_multiples_of_16() {
        assert_eq!(parse_tile("256"), Ok((256, 256)));
        assert_eq!(parse_tile("512x128"), Ok((512, 128)));
        for bad in ["0", "100", "17x16", "x", "65536", "abc"] {
            assert!(parse_tile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pyramid_level_is_the_2x2_mean_rounded() {
        let p = Picture {
            w: 3,
            h: 2,
            channels: 1,
            samples: vec![0u8, 1, 9, 2, 2, 9],
        };
        let half = p.halved();
        assert_eq!((half.w, half.h), (1, 1));
        // (0 + 1 + 2 + 2 + 2) / 4 = 1.25 → 1; the odd column is dropped.
        assert_eq!(half.samples, [1]);
    }

    #[test]
    fn the_predictor_wraps_per_channel() {
        let row = [10u16, 200, 5, 100, 0, 0];
        assert_eq!(predicted(&row, 3, 2), [10, 200, 65531, 65436, 65531, 65436]);
    }

    /// Noise at a size that leaves partial tiles: the case the slack after LZW's end code is
    /// for.
    #[test]
    fn lzw_tiles_of_noise_read_back_through_the_tiff_crate() {
        let mut state = 12345u32;
        let (w, h) = (203u32, 141u32);
        let samples: Vec<u8> = (0..w * h)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (state >> 16) as u8
            })
            .collect();
        for tile in [16u32, 32, 64] {
            let layout = Layout {
                codec: Codec::Lzw,
                tile: Some((tile, tile)),
                pyramid: false,
            };
            let bytes = write(&Samples::U8(samples.clone()), w, h, 1, &layout).unwrap();
            let mut decoder = tiff::decoder::Decoder::new(Cursor::new(bytes)).unwrap();
            let tiff::decoder::DecodingResult::U8(back) = decoder.read_image().unwrap() else {
                panic!("not 8-bit");
            };
            assert_eq!(back, samples, "tiles of {tile}");
        }
    }
}
