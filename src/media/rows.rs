//! Pictures read and written a band of rows at a time, for the streaming still path: PNG row by
//! row, TIFF strip by strip or a row of tiles at a time, JPEG a few rows at a time (libjpeg),
//! in; PNG rows, TIFF strips and JPEG rows out; every other output put together whole from its
//! bands and written by [`super::image::write`] (WebP and AVIF encode whole pictures; a tiled
//! or pyramid TIFF and a picture with alpha are written whole too, the last because whether an
//! alpha plane is kept depends on all of it being opaque).
//!
//! A reader gives the same samples, format and metadata as [`super::image::read_photo_within`]
//! gives for the same file, a band at a time; where it cannot (an interlaced PNG, a planar
//! TIFF, a TIFF of JPEG-compressed chunks, an orientation to turn upright, a TIFF's Exif
//! directory, a CMYK or damaged JPEG), [`open`] says why and the caller reads the picture whole.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use image::ImageFormat;
use tiff::decoder::DecodingResult;

use super::encoders::{TiffCompression, DEFAULT_PNG_COMPRESSION};
use super::image::ImageSettings;
use super::metadata::{self, Metadata};
use super::{display, io_message, Damage, MediaError};
use crate::frame::{Format, Frame, Samples};

/// A picture delivered a band of rows at a time, top to bottom.
pub trait RowReader: Send {
    /// The whole picture's format.
    fn format(&self) -> Format;
    /// The next `rows` rows (fewer at the bottom) as a frame; an error where the file is
    /// damaged, naming it.
    fn read(&mut self, rows: u32) -> Result<Frame, MediaError>;
    /// The bytes the decoder holds besides the rows it hands out (a progressive JPEG's
    /// coefficients).
    fn held_bytes(&self) -> u64 {
        0
    }
}

/// A reader and what the file says besides its samples.
pub struct Opened {
    pub reader: Box<dyn RowReader>,
    /// As [`super::image::Photo::metadata`]: marked upright where `auto_orient` is on.
    pub metadata: Metadata,
    pub warnings: Vec<String>,
    /// The size of the picture the file holds: the reader's, unless it decodes it shrunk.
    pub stored_size: (u32, u32),
}

/// `path` opened for reading in bands, or why it must be read whole (`Ok(Err(why))`). Pictures
/// whose decoded rows would take more than `max_bytes` are refused as
/// [`super::image::read_photo_within`] refuses them; a JPEG is decoded `jpeg_shrink` (1, 2, 4
/// or 8) times smaller on each side, as that function decodes it.
pub fn open(
    path: &Path,
    auto_orient: bool,
    max_bytes: u64,
    jpeg_shrink: u32,
) -> Result<Result<Opened, &'static str>, MediaError> {
    let mut file = File::open(path).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    let mut magic = [0u8; 8];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| MediaError::Open {
        path: display(path),
        message: io_message(&e),
    })?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| damaged(path, "PNG", io_what(&e)))?;
    match image::guess_format(&magic[..n]) {
        Ok(ImageFormat::Png) => png_rows(path, file, auto_orient, max_bytes),
        Ok(ImageFormat::Tiff) => tiff_rows(path, file, auto_orient, max_bytes),
        Ok(ImageFormat::Jpeg) => jpeg_rows(path, file, auto_orient, max_bytes, jpeg_shrink),
        _ => Ok(Err(
            "the format is read whole (only PNG, TIFF and JPEG are read in bands)",
        )),
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn damaged(path: &Path, format: &'static str, what: String) -> MediaError {
    MediaError::DamagedImage {
        path: display(path),
        damage: Damage { format, what },
    }
}

fn io_what(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        "the data ends early (cut short)".into()
    } else {
        format!("corrupt data ({e})")
    }
}

/// Refuses a picture whose decoded samples would take more than `max_bytes`, as the whole read
/// does before it decodes.
fn within(path: &Path, format: &Format, max_bytes: u64) -> Result<(), MediaError> {
    let bytes = format.samples_len() as u64 * if format.is_wide() { 2 } else { 1 };
    match super::image::over_budget(bytes, max_bytes) {
        Some(why) => Err(MediaError::Decode {
            path: display(path),
            message: format!("cannot decode the image: {why}"),
        }),
        None => Ok(()),
    }
}

/// The format of a `width`×`height` picture of `channels` interleaved samples (grey, grey and
/// alpha, RGB, RGBA) at 8 or 16 bits: the one the whole read gives it.
pub(super) fn picture_format(width: u32, height: u32, channels: usize, wide: bool) -> Format {
    band(1, 1, channels, Samples::sized(channels, wide, None))
        .format
        .with_size(width, height)
}

/// A band of interleaved rows made a frame: each channel its plane, as the whole read makes it.
fn band(width: u32, rows: u32, channels: usize, samples: Samples) -> Frame {
    let bits = if samples.is_wide() { 16 } else { 8 };
    Frame::from_interleaved(width, rows, channels, bits, samples)
}

/// Why a picture to turn upright is read whole.
const TURNED: &str = "its Exif orientation turns it, which needs the whole picture";

/// True when the Exif block of `metadata` asks for a turn (an orientation other than 1).
fn turned(metadata: &Metadata) -> bool {
    metadata
        .exif
        .as_deref()
        .and_then(metadata::orientation)
        .is_some_and(|o| o != 1)
}

// ---------------------------------------------------------------------------------------------
// PNG

struct PngRows {
    reader: png::Reader<BufReader<File>>,
    path: PathBuf,
    width: u32,
    left: u32,
    channels: usize,
    wide: bool,
    format: Format,
}

/// The PNG's chunks but its image data, as a PNG of their own: what the metadata reader needs,
/// without holding the pixels' compressed bytes.
fn png_without_data(path: &Path, file: &mut File) -> Result<Vec<u8>, MediaError> {
    let mut reader = BufReader::new(&mut *file);
    let mut out = vec![0u8; 8];
    let cut = |e: std::io::Error| damaged(path, "PNG", io_what(&e));
    reader.read_exact(&mut out).map_err(cut)?;
    loop {
        let mut head = [0u8; 8];
        reader.read_exact(&mut head).map_err(cut)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = [head[4], head[5], head[6], head[7]];
        if &kind == b"IDAT" {
            reader.seek_relative(len as i64 + 4).map_err(cut)?;
            continue;
        }
        out.extend_from_slice(&head);
        let at = out.len();
        out.resize(at + len + 4, 0);
        reader.read_exact(&mut out[at..]).map_err(cut)?;
        if &kind == b"IEND" {
            break;
        }
    }
    drop(reader);
    file.seek(SeekFrom::Start(0)).map_err(cut)?;
    Ok(out)
}

fn png_error(path: &Path, e: png::DecodingError) -> MediaError {
    match e {
        png::DecodingError::IoError(e) => damaged(path, "PNG", io_what(&e)),
        png::DecodingError::Format(e) => damaged(path, "PNG", format!("corrupt data ({e})")),
        png::DecodingError::LimitsExceeded => MediaError::Decode {
            path: display(path),
            message: "cannot decode the image: its rows are larger than the memory allowed".into(),
        },
        e => MediaError::Decode {
            path: display(path),
            message: format!("cannot decode the image: {e}"),
        },
    }
}

fn png_rows(
    path: &Path,
    mut file: File,
    auto_orient: bool,
    max_bytes: u64,
) -> Result<Result<Opened, &'static str>, MediaError> {
    let head = png_without_data(path, &mut file)?;
    let (mut metadata, mut warnings) = metadata::read(&head, ImageFormat::Png);
    if auto_orient && turned(&metadata) {
        return Ok(Err(TURNED));
    }
    let mut decoder = png::Decoder::new_with_limits(
        BufReader::new(file),
        png::Limits {
            bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND);
    let reader = decoder.read_info().map_err(|e| png_error(path, e))?;
    if reader.info().interlaced {
        return Ok(Err("an interlaced PNG holds its rows in seven passes"));
    }
    if reader.info().is_animated() {
        return Ok(Err("an animated PNG is read whole"));
    }
    let (width, height) = reader.info().size();
    let (colour, depth) = reader.output_color_type();
    let channels = colour.samples();
    let wide = depth == png::BitDepth::Sixteen;
    let format = picture_format(width, height, channels, wide);
    within(path, &format, max_bytes)?;
    if auto_orient {
        metadata.mark_upright(&mut warnings);
    }
    Ok(Ok(Opened {
        stored_size: (width, height),
        reader: Box::new(PngRows {
            reader,
            path: path.to_path_buf(),
            width,
            left: height,
            channels,
            wide,
            format,
        }),
        metadata,
        warnings,
    }))
}

impl RowReader for PngRows {
    fn format(&self) -> Format {
        self.format
    }

    fn read(&mut self, rows: u32) -> Result<Frame, MediaError> {
        let rows = rows.min(self.left);
        if rows == 0 {
            return Ok(band(
                self.width,
                0,
                self.channels,
                Samples::sized(0, self.wide, None),
            ));
        }
        let row_samples = self.width as usize * self.channels;
        let mut bytes =
            Vec::with_capacity(row_samples * rows as usize * if self.wide { 2 } else { 1 });
        for _ in 0..rows {
            let row = self
                .reader
                .next_row()
                .map_err(|e| png_error(&self.path, e))?
                .ok_or_else(|| {
                    damaged(&self.path, "PNG", "the data ends early (cut short)".into())
                })?;
            bytes.extend_from_slice(row.data());
        }
        self.left -= rows;
        if self.left == 0 {
            // The chunks after the last row, to IEND: a file cut there is damaged too.
            self.reader.finish().map_err(|e| png_error(&self.path, e))?;
        }
        let samples = if self.wide {
            Samples::U16(
                bytes
                    .chunks_exact(2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]))
                    .collect(),
            )
        } else {
            Samples::U8(bytes)
        };
        Ok(band(self.width, rows, self.channels, samples))
    }
}

// ---------------------------------------------------------------------------------------------
// JPEG

/// A JPEG through libjpeg ([`super::jpeg`]), the decoder of the whole read.
struct JpegRows {
    rows: super::jpeg::JpegRows,
    path: PathBuf,
    /// What libjpeg holds besides the bands.
    held: u64,
}

fn jpeg_rows(
    path: &Path,
    mut file: File,
    auto_orient: bool,
    max_bytes: u64,
    shrink: u32,
) -> Result<Result<Opened, &'static str>, MediaError> {
    // What libjpeg cannot read cleanly, the whole read reads and says what is wrong with it.
    const WHOLE: &str =
        "libjpeg cannot read it cleanly (damage, or CMYK), and the whole read says why";
    let Ok(header) = super::jpeg::header(&mut BufReader::new(&mut file)) else {
        return Ok(Err(WHOLE));
    };
    let (mut metadata, mut warnings) = metadata::read(&header.bytes, ImageFormat::Jpeg);
    if auto_orient && turned(&metadata) {
        return Ok(Err(TURNED));
    }
    let held = header.held_bytes();
    let Some(rows) = super::jpeg::open(file, &header, shrink) else {
        return Ok(Err(WHOLE));
    };
    within(path, &rows.format(), max_bytes)?;
    if auto_orient {
        metadata.mark_upright(&mut warnings);
    }
    Ok(Ok(Opened {
        stored_size: (header.width, header.height),
        reader: Box::new(JpegRows {
            rows,
            path: path.to_path_buf(),
            held,
        }),
        metadata,
        warnings,
    }))
}

impl RowReader for JpegRows {
    fn format(&self) -> Format {
        self.rows.format()
    }

    fn read(&mut self, rows: u32) -> Result<Frame, MediaError> {
        self.rows
            .read(rows)
            .map_err(|what| damaged(&self.path, "JPEG", what))
    }

    fn held_bytes(&self) -> u64 {
        self.held
    }
}

// ---------------------------------------------------------------------------------------------
// TIFF

struct TiffRows {
    decoder: tiff::decoder::Decoder<BufReader<File>>,
    path: PathBuf,
    width: u32,
    channels: usize,
    format: Format,
    /// How the file's chunks cover the picture.
    chunks: Chunks,
    /// The next row of chunks to read (a strip, or a row of tiles), and the rows of chunks
    /// there are.
    next: u32,
    count: u32,
    /// Samples of rows read from chunks and not handed out yet.
    pending: Samples,
    /// One tile's samples as decoded, reused from tile to tile.
    tile: Option<tiff::decoder::DecodingResult>,
    /// Rows not handed out yet.
    left: u32,
}

/// How a TIFF's pixels are cut: strips of whole rows, or tiles of `width`×`height`, `across`
/// to a row of tiles, numbered left to right and top to bottom.
#[derive(Clone, Copy)]
enum Chunks {
    Strips,
    Tiles { across: u32, width: u32 },
}

fn tiff_error(path: &Path, e: tiff::TiffError) -> MediaError {
    match e {
        tiff::TiffError::IoError(e) => damaged(path, "TIFF", io_what(&e)),
        tiff::TiffError::LimitsExceeded => MediaError::Decode {
            path: display(path),
            message: "cannot decode the image: its strips are larger than the memory allowed"
                .into(),
        },
        tiff::TiffError::UnsupportedError(e) => MediaError::Unsupported {
            path: display(path),
            message: format!("unsupported image: {e}"),
        },
        e => damaged(path, "TIFF", format!("corrupt data ({e})")),
    }
}

fn tiff_rows(
    path: &Path,
    file: File,
    auto_orient: bool,
    max_bytes: u64,
) -> Result<Result<Opened, &'static str>, MediaError> {
    use tiff::decoder::{ChunkType, Decoder, Limits};
    use tiff::tags::Tag;
    use tiff::ColorType;
    let fail = |e| tiff_error(path, e);
    let mut limits = Limits::default();
    limits.decoding_buffer_size = usize::try_from(max_bytes).unwrap_or(usize::MAX);
    let mut decoder = Decoder::new(BufReader::new(file))
        .map_err(fail)?
        .with_limits(limits);
    let tag = |d: &mut Decoder<BufReader<File>>, t: u16| {
        d.find_tag(Tag::Unknown(t)).map_err(|e| tiff_error(path, e))
    };
    let number = |d: &mut Decoder<BufReader<File>>, t: Tag| {
        d.find_tag(t)
            .map_err(|e| tiff_error(path, e))
            .map(|v| v.and_then(|v| v.into_u32().ok()))
    };
    if number(&mut decoder, Tag::PlanarConfiguration)?.is_some_and(|c| c != 1) {
        return Ok(Err("a TIFF with a plane per channel is read whole"));
    }
    // None, LZW, Deflate (both tags), PackBits: what the strips decode to as they are.
    if number(&mut decoder, Tag::Compression)?
        .is_some_and(|c| ![1, 5, 8, 32946, 32773].contains(&c))
    {
        return Ok(Err("a TIFF with this compression is read whole"));
    }
    if number(&mut decoder, Tag::SampleFormat)?.is_some_and(|f| f != 1) {
        return Ok(Err(
            "a TIFF of floating-point or signed samples is read whole",
        ));
    }
    if auto_orient && number(&mut decoder, Tag::Orientation)?.is_some_and(|o| o != 1) {
        return Ok(Err(
            "its orientation turns it, which needs the whole picture",
        ));
    }
    if tag(&mut decoder, metadata::EXIF_IFD)?.is_some()
        || tag(&mut decoder, metadata::GPS_IFD)?.is_some()
    {
        return Ok(Err(
            "a TIFF's Exif directory is kept by the whole-picture path",
        ));
    }
    let channels = match decoder.colortype().map_err(fail)? {
        ColorType::Gray(8 | 16) => 1,
        ColorType::RGB(8 | 16) => 3,
        ColorType::RGBA(8 | 16) => 4,
        _ => return Ok(Err("a TIFF of this colour type is read whole")),
    };
    let wide = matches!(
        decoder.colortype().map_err(fail)?,
        ColorType::Gray(16) | ColorType::RGB(16) | ColorType::RGBA(16)
    );
    let (width, height) = decoder.dimensions().map_err(fail)?;
    let bytes = |d: &mut Decoder<BufReader<File>>, t: u16| -> Result<Option<Vec<u8>>, MediaError> {
        match tag(d, t)? {
            Some(_) => d
                .get_tag_u8_vec(Tag::Unknown(t))
                .map(Some)
                .map_err(|e| tiff_error(path, e)),
            None => Ok(None),
        }
    };
    let metadata = Metadata {
        icc: bytes(&mut decoder, metadata::TIFF_ICC)?,
        exif: None,
        xmp: bytes(&mut decoder, metadata::TIFF_XMP)?,
    };
    let format = picture_format(width, height, channels, wide);
    within(path, &format, max_bytes)?;
    let (chunks, count) = match decoder.get_chunk_type() {
        ChunkType::Strip => (Chunks::Strips, decoder.strip_count().map_err(fail)?),
        ChunkType::Tile => {
            let (tile_width, tile_height) = decoder.chunk_dimensions();
            if tile_width == 0 || tile_height == 0 {
                return Err(damaged(path, "TIFF", "its tiles have no size".into()));
            }
            let across = width.div_ceil(tile_width);
            let down = height.div_ceil(tile_height);
            let tiles = decoder.tile_count().map_err(fail)?;
            if u64::from(tiles) != u64::from(across) * u64::from(down) {
                return Err(damaged(
                    path,
                    "TIFF",
                    format!(
                        "it lists {tiles} tiles where its size needs {across}x{down} of \
                         {tile_width}x{tile_height}"
                    ),
                ));
            }
            let tiles = Chunks::Tiles {
                across,
                width: tile_width,
            };
            (tiles, down)
        }
    };
    Ok(Ok(Opened {
        stored_size: (width, height),
        reader: Box::new(TiffRows {
            decoder,
            path: path.to_path_buf(),
            width,
            channels,
            format,
            chunks,
            next: 0,
            count,
            pending: Samples::sized(0, wide, None),
            tile: None,
            left: height,
        }),
        metadata,
        warnings: Vec::new(),
    }))
}

impl TiffRows {
    /// Appends the next row of chunks (a strip, or a row of tiles put side by side) to
    /// `pending`.
    fn read_chunks(&mut self) -> Result<(), MediaError> {
        let row_samples = self.width as usize * self.channels;
        let index = match self.chunks {
            Chunks::Strips => self.next,
            Chunks::Tiles { across, .. } => self.next * across,
        };
        let (_, rows) = self.decoder.chunk_data_dimensions(index);
        let short = |what: &str| {
            damaged(
                &self.path,
                "TIFF",
                format!("{what} {index} holds fewer samples than its rows"),
            )
        };
        match self.chunks {
            Chunks::Strips => {
                let chunk = self
                    .decoder
                    .read_chunk(index)
                    .map_err(|e| tiff_error(&self.path, e))?;
                let n = rows as usize * row_samples;
                match (&mut self.pending, chunk) {
                    (Samples::U8(p), DecodingResult::U8(v)) if v.len() >= n => {
                        p.extend_from_slice(&v[..n])
                    }
                    (Samples::U16(p), DecodingResult::U16(v)) if v.len() >= n => {
                        p.extend_from_slice(&v[..n])
                    }
                    _ => return Err(short("strip")),
                }
            }
            Chunks::Tiles { across, width } => {
                let sample = if self.format.is_wide() { 2 } else { 1 };
                let start = self.pending.len();
                match &mut self.pending {
                    Samples::U8(p) => p.resize(start + rows as usize * row_samples, 0),
                    Samples::U16(p) => p.resize(start + rows as usize * row_samples, 0),
                }
                for column in 0..across {
                    let tile = index + column;
                    let (data_width, data_rows) = self.decoder.chunk_data_dimensions(tile);
                    let row_bytes = data_width as usize * self.channels * sample;
                    let buffer = match self.tile.take() {
                        Some(mut buffer) => self
                            .decoder
                            .read_chunk_to_buffer(&mut buffer, tile, row_bytes)
                            .map(|()| buffer),
                        None => self.decoder.read_chunk(tile),
                    }
                    .map_err(|e| tiff_error(&self.path, e))?;
                    let place = Place {
                        row_samples,
                        x: (column * width) as usize * self.channels,
                        samples: data_width as usize * self.channels,
                        rows: data_rows.min(rows) as usize,
                    };
                    let fits = match (&mut self.pending, &buffer) {
                        (Samples::U8(p), DecodingResult::U8(v)) => place.copy(&mut p[start..], v),
                        (Samples::U16(p), DecodingResult::U16(v)) => place.copy(&mut p[start..], v),
                        _ => false,
                    };
                    if !fits {
                        return Err(short("tile"));
                    }
                    self.tile = Some(buffer);
                }
            }
        }
        self.next += 1;
        Ok(())
    }
}

/// Where a tile's rows go in a band of whole rows: `rows` rows of `samples` samples each, from
/// sample `x` of rows `row_samples` long.
struct Place {
    row_samples: usize,
    x: usize,
    samples: usize,
    rows: usize,
}

impl Place {
    /// Copies a tile's rows into `band`; false where the tile holds fewer samples than its
    /// rows need.
    fn copy<T: Copy>(&self, band: &mut [T], tile: &[T]) -> bool {
        if tile.len() < self.rows * self.samples {
            return false;
        }
        for (y, row) in tile.chunks_exact(self.samples).take(self.rows).enumerate() {
            let at = y * self.row_samples + self.x;
            band[at..at + self.samples].copy_from_slice(row);
        }
        true
    }
}

impl RowReader for TiffRows {
    fn format(&self) -> Format {
        self.format
    }

    fn read(&mut self, rows: u32) -> Result<Frame, MediaError> {
        let row_samples = self.width as usize * self.channels;
        let rows = rows.min(self.left);
        let want = rows as usize * row_samples;
        while self.pending.len() < want && self.next < self.count {
            self.read_chunks()?;
        }
        let take = want.min(self.pending.len() / row_samples * row_samples);
        if take == 0 && rows > 0 {
            return Err(damaged(
                &self.path,
                "TIFF",
                "its strips or tiles end before its last row".into(),
            ));
        }
        let samples = match &mut self.pending {
            Samples::U8(p) => Samples::U8(p.drain(..take).collect()),
            Samples::U16(p) => Samples::U16(p.drain(..take).collect()),
        };
        let rows = (take / row_samples) as u32;
        self.left -= rows;
        Ok(band(self.width, rows, self.channels, samples))
    }

    /// A row of chunks decoded ahead, which may be taller than a band: a strip, and the strip
    /// as the decoder hands it over; or a row of tiles and one tile.
    fn held_bytes(&self) -> u64 {
        let (chunk_width, chunk_rows) = self.decoder.chunk_dimensions();
        let sample = if self.format.is_wide() { 2 } else { 1 };
        let pixel = self.channels as u64 * sample;
        let chunk = match self.chunks {
            Chunks::Strips => u64::from(self.width),
            Chunks::Tiles { .. } => u64::from(chunk_width),
        };
        (u64::from(self.width) + chunk) * pixel * u64::from(chunk_rows)
    }
}

// ---------------------------------------------------------------------------------------------
// Writers

/// A picture written a band of rows at a time.
pub trait RowWriter {
    /// The next rows, top to bottom, in the format the writer was made for.
    fn write(&mut self, rows: &Frame) -> Result<(), MediaError>;
    /// Ends the file once every row is in; the encoder's warnings.
    fn finish(self: Box<Self>) -> Result<Vec<String>, MediaError>;
}

/// True when a picture of `format` in the format `format_of`'s extension names, with `meta`'s
/// blocks, is written band by band as the bands come; false when it is put together whole
/// first (see the module's page).
pub fn writes_bands(
    format_of: &Path,
    format: &Format,
    settings: &ImageSettings,
    meta: &Metadata,
) -> bool {
    use super::encoders::StillFormat;
    let plain = !format.layout.alpha && matches!(format.bits, 8 | 16);
    match StillFormat::from_path(format_of) {
        Some(StillFormat::Png) => plain,
        // mozjpeg takes 8-bit rows; 16-bit ones are rounded per band as the whole write rounds
        // them.
        Some(StillFormat::Jpeg) => plain && format.width <= 65_535 && format.height <= 65_535,
        Some(StillFormat::Tiff) => {
            plain
                && settings.tiff_tile.is_none()
                && !settings.tiff_pyramid
                && settings.tiff_compression != Some(TiffCompression::Jpeg)
                // The Exif block's directory is rebuilt into the finished file.
                && meta.exif.is_none()
        }
        _ => false,
    }
}

/// The bytes a band writer made by [`create`] holds besides the band it is given: a JPEG's
/// coefficients, which mozjpeg keeps to the end; 0 for PNG and TIFF, and for an output put
/// together whole (the caller counts that picture).
pub fn writer_held_bytes(
    format_of: &Path,
    format: &Format,
    settings: &ImageSettings,
    meta: &Metadata,
) -> u64 {
    use super::encoders::{jpeg_held_bytes, JpegOptions, StillFormat};
    match StillFormat::from_path(format_of) {
        Some(StillFormat::Jpeg) if writes_bands(format_of, format, settings, meta) => {
            jpeg_held_bytes(
                format.width,
                format.height,
                format.planes() == 1,
                &JpegOptions::from_settings(settings),
            )
        }
        _ => 0,
    }
}

/// A writer to `path` of a picture of `format` in the format `format_of`'s extension names,
/// with `meta`'s blocks: band by band where [`writes_bands`] says so, else put together whole
/// and written by [`super::image::write`] at the end.
pub fn create(
    path: &Path,
    format_of: &Path,
    format: Format,
    settings: &ImageSettings,
    meta: &Metadata,
) -> Result<Box<dyn RowWriter>, MediaError> {
    use super::encoders::StillFormat;
    let file = || {
        File::create(path)
            .map(BufWriter::new)
            .map_err(|e| write_error(format_of, e.to_string()))
    };
    if writes_bands(format_of, &format, settings, meta) {
        let out = file()?;
        return Ok(match StillFormat::from_path(format_of) {
            Some(StillFormat::Png) => {
                Box::new(PngWriter::new(out, format, settings, meta, format_of)?)
            }
            Some(StillFormat::Jpeg) => {
                Box::new(JpegWriter::new(out, format, settings, meta, format_of)?)
            }
            _ => Box::new(TiffWriter::new(out, format, settings, meta, format_of)?),
        });
    }
    Ok(Box::new(Whole {
        frame: Frame::new(format),
        at: 0,
        path: path.to_path_buf(),
        format_of: format_of.to_path_buf(),
        settings: settings.clone(),
        meta: meta.clone(),
    }))
}

fn write_error(format_of: &Path, message: String) -> MediaError {
    MediaError::Write {
        path: display(format_of),
        message,
    }
}

fn encode_error(format_of: &Path, message: String) -> MediaError {
    MediaError::Encode {
        path: display(format_of),
        message,
    }
}

/// The picture put together from its bands, then written whole.
struct Whole {
    frame: Frame,
    at: u32,
    path: PathBuf,
    format_of: PathBuf,
    settings: ImageSettings,
    meta: Metadata,
}

impl RowWriter for Whole {
    fn write(&mut self, rows: &Frame) -> Result<(), MediaError> {
        self.frame.put_rows(self.at, rows, 0..rows.height());
        self.at += rows.height();
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Vec<String>, MediaError> {
        super::image::write(
            &self.frame,
            &self.path,
            &self.format_of,
            &self.settings,
            &self.meta,
        )
    }
}

struct PngWriter {
    stream: png::StreamWriter<'static, BufWriter<File>>,
    format_of: PathBuf,
}

impl PngWriter {
    fn new(
        out: BufWriter<File>,
        format: Format,
        settings: &ImageSettings,
        meta: &Metadata,
        format_of: &Path,
    ) -> Result<PngWriter, MediaError> {
        let fail = |e: png::EncodingError| {
            encode_error(format_of, format!("cannot encode the image: {e}"))
        };
        let mut encoder = png::Encoder::new(out, format.width, format.height);
        encoder.set_color(if format.planes() == 1 {
            png::ColorType::Grayscale
        } else {
            png::ColorType::Rgb
        });
        encoder.set_depth(if format.is_wide() {
            png::BitDepth::Sixteen
        } else {
            png::BitDepth::Eight
        });
        // As the whole picture's encoder sets them (the `image` crate's PNG encoder).
        match (settings.fast, settings.compression) {
            (true, _) => encoder.set_compression(png::Compression::Fast),
            (false, Some(0)) => encoder.set_compression(png::Compression::NoCompression),
            (false, level) => {
                encoder.set_compression(png::Compression::Fast);
                encoder.set_deflate_compression(png::DeflateCompression::Level(
                    level.unwrap_or(DEFAULT_PNG_COMPRESSION),
                ));
            }
        }
        encoder.set_filter(png::Filter::Adaptive);
        let mut writer = encoder.write_header().map_err(fail)?;
        for (kind, data) in metadata::png_blocks(meta) {
            writer
                .write_chunk(png::chunk::ChunkType(kind), &data)
                .map_err(fail)?;
        }
        Ok(PngWriter {
            stream: writer.into_stream_writer().map_err(fail)?,
            format_of: format_of.to_path_buf(),
        })
    }
}

impl RowWriter for PngWriter {
    fn write(&mut self, rows: &Frame) -> Result<(), MediaError> {
        let bytes = match rows.interleaved() {
            Samples::U8(v) => v,
            Samples::U16(v) => v.iter().flat_map(|s| s.to_be_bytes()).collect(),
        };
        self.stream
            .write_all(&bytes)
            .map_err(|e| write_error(&self.format_of, e.to_string()))
    }

    fn finish(self: Box<Self>) -> Result<Vec<String>, MediaError> {
        let format_of = self.format_of;
        self.stream
            .finish()
            .map_err(|e| write_error(&format_of, e.to_string()))?;
        Ok(Vec::new())
    }
}

/// A JPEG through mozjpeg, as the whole write encodes it ([`super::encoders::jpeg_stream`]'s
/// settings), with the blocks where the whole write puts them: after the JFIF segment. mozjpeg
/// holds the picture's DCT coefficients until the end, to optimise its Huffman tables
/// ([`super::encoders::jpeg_held_bytes`]); the rows themselves go as they come.
struct JpegWriter {
    started: Option<mozjpeg::compress::CompressStarted<BufWriter<File>>>,
    format_of: PathBuf,
    warnings: Vec<String>,
}

impl JpegWriter {
    fn new(
        out: BufWriter<File>,
        format: Format,
        settings: &ImageSettings,
        meta: &Metadata,
        format_of: &Path,
    ) -> Result<JpegWriter, MediaError> {
        use super::encoders::{jpeg_compressor, jpeg_result, JpegOptions};
        let mut warnings = Vec::new();
        let blocks = metadata::jpeg_segments_of(meta, &mut warnings);
        let options = JpegOptions::from_settings(settings);
        let grey = format.planes() == 1;
        let started = jpeg_result(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || {
                let mut started = jpeg_compressor(format.width, format.height, grey, &options)
                    .start_compress(out)?;
                for (marker, payload) in &blocks {
                    started.write_marker(mozjpeg::Marker::APP(marker - 0xE0), payload);
                }
                Ok(started)
            },
        )))
        .map_err(|why| encode_error(format_of, why))?;
        Ok(JpegWriter {
            started: Some(started),
            format_of: format_of.to_path_buf(),
            warnings,
        })
    }
}

impl RowWriter for JpegWriter {
    fn write(&mut self, rows: &Frame) -> Result<(), MediaError> {
        let bytes = match rows.interleaved() {
            Samples::U8(v) => v,
            Samples::U16(v) => v.iter().map(|&s| super::encoders::to_8_bit(s)).collect(),
        };
        let Some(started) = self.started.as_mut() else {
            return Err(encode_error(
                &self.format_of,
                "the JPEG encoder stopped".into(),
            ));
        };
        let written = super::encoders::jpeg_result(std::panic::catch_unwind(
            std::panic::AssertUnwindSafe(|| started.write_scanlines(&bytes)),
        ));
        written.map_err(|why| {
            self.started = None;
            encode_error(&self.format_of, why)
        })
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<String>, MediaError> {
        let Some(started) = self.started.take() else {
            return Err(encode_error(
                &self.format_of,
                "the JPEG encoder stopped".into(),
            ));
        };
        let out = super::encoders::jpeg_result(std::panic::catch_unwind(
            std::panic::AssertUnwindSafe(|| started.finish()),
        ))
        .map_err(|why| encode_error(&self.format_of, why))?;
        out.into_inner()
            .map_err(|e| write_error(&self.format_of, e.error().to_string()))?;
        Ok(self.warnings)
    }
}

/// TIFF strips through tessera's own TIFF writer ([`super::tiff_file::write_strips`]: strips
/// of about 64 KiB, none, LZW or Deflate with the horizontal predictor, as for a whole
/// picture), with ICC and XMP as tags of the image's directory. The writer takes the bands
/// from a channel on a thread of its own, which compresses while the next band is filtered.
struct TiffWriter {
    bands: Option<std::sync::mpsc::SyncSender<Samples>>,
    thread: Option<std::thread::JoinHandle<Result<(), String>>>,
    format_of: PathBuf,
}

impl TiffWriter {
    fn new(
        out: BufWriter<File>,
        format: Format,
        settings: &ImageSettings,
        meta: &Metadata,
        format_of: &Path,
    ) -> Result<TiffWriter, MediaError> {
        use super::tiff_file::Codec;
        let codec = match settings.tiff_compression {
            Some(TiffCompression::Lzw) => Codec::Lzw,
            Some(TiffCompression::Deflate) => Codec::Deflate,
            _ => Codec::None,
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<Samples>(2);
        let meta = meta.clone();
        let size = (format.width, format.height);
        let (planes, wide) = (format.planes(), format.is_wide());
        let thread = std::thread::Builder::new()
            .name("tiff writer".into())
            .spawn(move || {
                super::tiff_file::write_strips(
                    out,
                    size,
                    planes,
                    wide,
                    codec,
                    meta.icc.as_deref(),
                    meta.xmp.as_deref(),
                    rx.into_iter(),
                )
            })
            .map_err(|e| write_error(format_of, format!("cannot start the TIFF writer: {e}")))?;
        Ok(TiffWriter {
            bands: Some(tx),
            thread: Some(thread),
            format_of: format_of.to_path_buf(),
        })
    }

    /// The writer thread's error, once it has stopped.
    fn stopped(&mut self) -> MediaError {
        self.bands = None;
        let why = match self.thread.take().map(|t| t.join()) {
            Some(Ok(Err(why))) => why,
            _ => "the TIFF writer stopped".into(),
        };
        encode_error(&self.format_of, why)
    }
}

impl RowWriter for TiffWriter {
    fn write(&mut self, rows: &Frame) -> Result<(), MediaError> {
        let sent = match &self.bands {
            Some(tx) => tx.send(rows.interleaved()).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            Err(self.stopped())
        }
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<String>, MediaError> {
        self.bands = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(Ok(()))) => Ok(Vec::new()),
            Some(Ok(Err(why))) => Err(encode_error(&self.format_of, why)),
            _ => Err(encode_error(
                &self.format_of,
                "the TIFF writer stopped".into(),
            )),
        }
    }
}
