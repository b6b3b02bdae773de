//! A still's metadata blocks, as a photo carries them from file to file: the Exif block, the
//! XMP packet and the ICC colour profile.
//!
//! [`read`] takes them out of a file's bytes (JPEG, PNG, WebP, TIFF), [`embed`] puts them into
//! the bytes an encoder made, whichever encoder that was, and [`set_orientation`] and
//! [`set_pixel_size`] edit an Exif block in place as a turn or a resize asks. [`summary`] reads
//! the camera's facts for `probe`. A block that is damaged (an IFD cut short, an offset past the
//! end, IFDs in a loop) is left out with a warning: the picture itself is still processed. This
//! module works on bytes alone; it never decodes pixels nor touches files.

use image::ImageFormat;
use serde::Serialize;

/// The metadata blocks of a still picture, as its file stores them. A block the file lacks (or
/// that `--strip` removed) is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The ICC profile's bytes, whole (a JPEG's APP2 chunks joined).
    pub icc: Option<Vec<u8>>,
    /// The Exif block as a TIFF structure: from its byte-order mark (`II*\0` or `MM\0*`), without
    /// JPEG's `Exif\0\0` prefix.
    pub exif: Option<Vec<u8>>,
    /// The XMP packet's bytes (UTF-8 XML).
    pub xmp: Option<Vec<u8>>,
}

impl Metadata {
    /// True when the picture carries no block at all.
    pub fn is_empty(&self) -> bool {
        self.icc.is_none() && self.exif.is_none() && self.xmp.is_none()
    }

    /// Marks the picture as upright: Exif orientation 1, and `tiff:Orientation` 1 in the XMP
    /// packet, as vips and ImageMagick do once they have turned the pixels. An Exif block whose
    /// orientation cannot be set is left out, with a warning, so that no viewer turns the
    /// picture a second time.
    pub fn mark_upright(&mut self, warnings: &mut Vec<String>) {
        if let Some(exif) = &mut self.exif {
            if let Err(why) = set_orientation(exif, 1) {
                warnings.push(format!("the Exif block is left out: {why}"));
                self.exif = None;
            }
        }
        if let Some(xmp) = &mut self.xmp {
            set_xmp_orientation(xmp, 1);
        }
    }
}

/// An AVIF's blocks, as libavif parses them from its boxes (no picture decoded). A picture tagged
/// only by its nclx colour box (colour primaries and transfer, as phones write) gets the ICC
/// profile those describe, so that colour management sees its colours as they are.
#[cfg(feature = "avif")]
fn read_avif(bytes: &[u8], warnings: &mut Vec<String>) -> Metadata {
    match super::avif::header(bytes) {
        Ok(header) => {
            let mut meta = header.metadata;
            if meta.icc.is_none() {
                match super::cms::icc_from_cicp(header.primaries, header.transfer) {
                    Ok(icc) => meta.icc = icc,
                    Err(why) => warnings.push(why),
                }
            }
            meta
        }
        // Decoding says what is wrong with the file.
        Err(_) => Metadata::default(),
    }
}

#[cfg(not(feature = "avif"))]
fn read_avif(_: &[u8], _: &mut Vec<String>) -> Metadata {
    Metadata::default()
}

/// JPEG's APP1 Exif prefix.
const EXIF_PREFIX: &[u8] = b"Exif\0\0";
/// JPEG's APP1 XMP namespace (with its terminating NUL).
const XMP_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// JPEG's APP2 ICC prefix.
const ICC_PREFIX: &[u8] = b"ICC_PROFILE\0";
/// The bytes a JPEG segment's payload may hold (its length field counts itself).
const SEGMENT_PAYLOAD: usize = 65533;
/// The most bytes of an ICC profile one APP2 chunk holds.
pub const ICC_CHUNK: usize = SEGMENT_PAYLOAD - ICC_PREFIX.len() - 2;
/// The largest Exif block one APP1 segment holds.
pub const JPEG_EXIF_MAX: usize = SEGMENT_PAYLOAD - EXIF_PREFIX.len();
/// The largest XMP packet one APP1 segment holds (Extended XMP is not written).
pub const JPEG_XMP_MAX: usize = SEGMENT_PAYLOAD - XMP_NAMESPACE.len();
/// PNG's iTXt keyword for XMP.
const PNG_XMP_KEYWORD: &[u8] = b"XML:com.adobe.xmp";
/// The most bytes an inflated PNG metadata chunk may reach (a deflate bomb is damage).
const INFLATE_LIMIT: usize = 64 << 20;

/// The metadata blocks of an encoded still, and a warning for each block that is there but
/// cannot be read (left out). AVIF's blocks come from libavif's parser; other
/// formats (BMP) carry none.
pub fn read(bytes: &[u8], format: ImageFormat) -> (Metadata, Vec<String>) {
    let mut warnings = Vec::new();
    let mut meta = match format {
        ImageFormat::Jpeg => read_jpeg(bytes, &mut warnings),
        ImageFormat::Png => read_png(bytes, &mut warnings),
        ImageFormat::WebP => read_webp(bytes, &mut warnings),
        ImageFormat::Tiff => read_tiff(bytes, &mut warnings),
        ImageFormat::Avif => read_avif(bytes, &mut warnings),
        _ => Metadata::default(),
    };
    if let Some(exif) = &meta.exif {
        if let Err(why) = check_exif(exif) {
            warnings.push(format!("the Exif block is damaged ({why}); left out"));
            meta.exif = None;
        }
    }
    if meta.icc.as_ref().is_some_and(|icc| icc.len() < 128) {
        warnings.push("the ICC profile is shorter than its 128-byte header; left out".into());
        meta.icc = None;
    }
    (meta, warnings)
}

/// `encoded` (a whole file of `format`, from any encoder) with `meta`'s blocks put in, replacing
/// any block of the same kind the encoder wrote; and a warning for each block the format cannot
/// hold (left out). Fails when `encoded` is not a well-formed file of that format. A format
/// without metadata blocks (BMP) is returned as it is, with a warning when `meta` has any.
pub fn embed(
    encoded: Vec<u8>,
    format: ImageFormat,
    meta: &Metadata,
) -> Result<(Vec<u8>, Vec<String>), String> {
    let mut warnings = Vec::new();
    let bytes = match format {
        ImageFormat::Jpeg => embed_jpeg(&encoded, meta, &mut warnings)?,
        ImageFormat::Png => embed_png(&encoded, meta)?,
        ImageFormat::WebP => embed_webp(encoded, meta)?,
        ImageFormat::Tiff => embed_tiff(encoded, meta, &mut warnings)?,
        _ => {
            if !meta.is_empty() {
                warnings.push(format!(
                    "{format:?} holds no Exif, XMP or ICC block; the source's are left out"
                ));
            }
            encoded
        }
    };
    Ok((bytes, warnings))
}

// ---------------------------------------------------------------------------------------------
// JPEG

/// A JPEG marker segment before the scan: its marker, where it starts (its 0xFF), where its
/// payload starts and where it ends.
struct Segment {
    marker: u8,
    start: usize,
    payload: usize,
    end: usize,
}

/// The segments from after SOI up to the first SOS, and where SOS starts; an error when the
/// headers are cut short or broken.
fn jpeg_segments(bytes: &[u8]) -> (Vec<Segment>, Result<usize, String>) {
    let mut segments = Vec::new();
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return (segments, Err("no JPEG start marker".into()));
    }
    let mut at = 2;
    loop {
        let start = at;
        if bytes.get(at) != Some(&0xFF) {
            let why = match bytes.get(at) {
                None => format!("the headers end at byte {at} (cut short)"),
                Some(_) => format!("no marker at byte {at}"),
            };
            return (segments, Err(why));
        }
        // Fill bytes before a marker.
        while bytes.get(at) == Some(&0xFF) {
            at += 1;
        }
        let Some(&marker) = bytes.get(at) else {
            return (
                segments,
                Err("the headers end in a marker (cut short)".into()),
            );
        };
        at += 1;
        if marker == 0xDA || marker == 0xD9 {
            return (segments, Ok(start));
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            continue;
        }
        let Some(length) = bytes.get(at..at + 2) else {
            return (
                segments,
                Err("the headers end in a marker (cut short)".into()),
            );
        };
        let length = u16::from_be_bytes([length[0], length[1]]) as usize;
        if length < 2 || at + length > bytes.len() {
            return (
                segments,
                Err(format!(
                    "the segment at byte {start} runs past the end of the file"
                )),
            );
        }
        segments.push(Segment {
            marker,
            start,
            payload: at + 2,
            end: at + length,
        });
        at += length;
    }
}

/// What a metadata segment holds.
#[derive(PartialEq)]
enum JpegBlock {
    Exif,
    Xmp,
    Icc,
    Other,
}

fn jpeg_block(bytes: &[u8], s: &Segment) -> JpegBlock {
    let payload = &bytes[s.payload..s.end];
    match s.marker {
        0xE1 if payload.starts_with(EXIF_PREFIX) => JpegBlock::Exif,
        // Some writers end the prefix with one NUL only.
        0xE1 if payload.starts_with(b"Exif\0") => JpegBlock::Exif,
        0xE1 if payload.starts_with(XMP_NAMESPACE) => JpegBlock::Xmp,
        0xE2 if payload.starts_with(ICC_PREFIX) => JpegBlock::Icc,
        _ => JpegBlock::Other,
    }
}

fn read_jpeg(bytes: &[u8], warnings: &mut Vec<String>) -> Metadata {
    let (segments, end) = jpeg_segments(bytes);
    if let Err(why) = end {
        warnings.push(format!(
            "the JPEG's headers are damaged ({why}); metadata after that point is left out"
        ));
    }
    let mut meta = Metadata::default();
    // (sequence number, count, data) of each ICC chunk.
    let mut chunks: Vec<(u8, u8, &[u8])> = Vec::new();
    for s in &segments {
        let payload = &bytes[s.payload..s.end];
        match jpeg_block(bytes, s) {
            JpegBlock::Exif if meta.exif.is_none() => {
                let skip = if payload.starts_with(EXIF_PREFIX) {
                    6
                } else {
                    5
                };
                meta.exif = Some(payload[skip..].to_vec());
            }
            JpegBlock::Xmp if meta.xmp.is_none() => {
                meta.xmp = Some(payload[XMP_NAMESPACE.len()..].to_vec());
            }
            JpegBlock::Icc => match payload.get(ICC_PREFIX.len()..ICC_PREFIX.len() + 2) {
                Some(&[seq, count]) => chunks.push((seq, count, &payload[ICC_PREFIX.len() + 2..])),
                _ => chunks.push((0, 0, &[])),
            },
            _ => {}
        }
    }
    if !chunks.is_empty() {
        match join_icc(&mut chunks) {
            Ok(icc) => meta.icc = Some(icc),
            Err(why) => warnings.push(format!("the ICC profile is damaged ({why}); left out")),
        }
    }
    meta
}

/// The ICC profile from its APP2 chunks, each numbered 1 to their count, in any order.
fn join_icc(chunks: &mut [(u8, u8, &[u8])]) -> Result<Vec<u8>, String> {
    let count = chunks[0].1;
    if count == 0
        || chunks
            .iter()
            .any(|c| c.1 != count || c.0 == 0 || c.0 > count)
    {
        return Err("its chunks' numbers disagree".into());
    }
    chunks.sort_by_key(|c| c.0);
    for (i, c) in chunks.iter().enumerate() {
        if c.0 as usize != i + 1 {
            return Err(format!("chunk {} of {count} is missing or repeated", i + 1));
        }
    }
    if chunks.len() != count as usize {
        return Err(format!("{} of its {count} chunks are there", chunks.len()));
    }
    Ok(chunks.iter().flat_map(|c| c.2.iter().copied()).collect())
}

/// An APP`n` segment holding `prefix` then `data`.
/// `meta`'s blocks as a JPEG holds them, in the order they are written after the JFIF segment:
/// each an APP marker (0xE1 Exif and XMP, 0xE2 the ICC profile's chunks) and its payload. A
/// block too large for the segments its kind may take is left out, with a warning.
pub fn jpeg_segments_of(meta: &Metadata, warnings: &mut Vec<String>) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    // Each of Exif and XMP must fit one APP1 segment.
    let app1 = [
        (&meta.exif, JPEG_EXIF_MAX, EXIF_PREFIX, "the Exif block"),
        (&meta.xmp, JPEG_XMP_MAX, XMP_NAMESPACE, "the XMP packet"),
    ];
    for (block, max, prefix, what) in app1 {
        let Some(block) = block else { continue };
        if block.len() > max {
            warnings.push(format!(
                "{what} ({} bytes) is larger than a JPEG's APP1 segment holds ({max} bytes); \
                 left out",
                block.len()
            ));
        } else {
            out.push((0xE1, [prefix, &block[..]].concat()));
        }
    }
    if let Some(icc) = &meta.icc {
        let count = icc.len().div_ceil(ICC_CHUNK);
        if count > 255 {
            warnings.push(format!(
                "the ICC profile ({} bytes) is larger than 255 APP2 chunks hold; left out",
                icc.len()
            ));
        } else {
            for (i, chunk) in icc.chunks(ICC_CHUNK).enumerate() {
                out.push((
                    0xE2,
                    [ICC_PREFIX, &[i as u8 + 1, count as u8], chunk].concat(),
                ));
            }
        }
    }
    out
}

fn embed_jpeg(
    encoded: &[u8],
    meta: &Metadata,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>, String> {
    let (segments, sos) = jpeg_segments(encoded);
    let sos = sos.map_err(|why| format!("the encoded JPEG is malformed: {why}"))?;
    let mut ours = Vec::new();
    for (marker, payload) in jpeg_segments_of(meta, warnings) {
        ours.extend_from_slice(&[0xFF, marker]);
        ours.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        ours.extend_from_slice(&payload);
    }
    let mut out = Vec::with_capacity(encoded.len() + ours.len());
    out.extend_from_slice(&encoded[..2]);
    let mut rest = segments.iter().peekable();
    // The blocks go after a JFIF APP0, which must come first.
    if let Some(s) = rest.next_if(|s| s.marker == 0xE0) {
        out.extend_from_slice(&encoded[s.start..s.end]);
    }
    out.extend_from_slice(&ours);
    for s in rest {
        if jpeg_block(encoded, s) == JpegBlock::Other {
            out.extend_from_slice(&encoded[s.start..s.end]);
        }
    }
    out.extend_from_slice(&encoded[sos..]);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// PNG

/// A PNG chunk: its type, where it starts (its length field), its data and where it ends.
struct Chunk {
    kind: [u8; 4],
    start: usize,
    data: std::ops::Range<usize>,
    end: usize,
}

/// The chunks up to IEND (or as far as the file is whole), and whether each CRC is right.
fn png_chunks(bytes: &[u8]) -> (Vec<(Chunk, bool)>, Option<String>) {
    let mut chunks = Vec::new();
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return (chunks, Some("no PNG signature".into()));
    }
    let mut at = 8;
    loop {
        let Some(header) = bytes.get(at..at + 8) else {
            return (chunks, Some("the file ends before IEND (cut short)".into()));
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = [header[4], header[5], header[6], header[7]];
        let end = at.saturating_add(12).saturating_add(length);
        if end > bytes.len() {
            return (
                chunks,
                Some(format!(
                    "the {} chunk runs past the end of the file",
                    String::from_utf8_lossy(&kind)
                )),
            );
        }
        let crc = u32::from_be_bytes(bytes[end - 4..end].try_into().expect("4 bytes"));
        let whole = crc32fast::hash(&bytes[at + 4..end - 4]) == crc;
        chunks.push((
            Chunk {
                kind,
                start: at,
                data: at + 8..end - 4,
                end,
            },
            whole,
        ));
        if &kind == b"IEND" {
            return (chunks, None);
        }
        at = end;
    }
}

/// The text after `keyword\0` in a tEXt-like chunk's data, when the keyword is `keyword`.
fn after_keyword<'a>(data: &'a [u8], keyword: &[u8]) -> Option<&'a [u8]> {
    data.strip_prefix(keyword)?.strip_prefix(b"\0")
}

fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, INFLATE_LIMIT)
        .map_err(|e| format!("its compressed data is corrupt ({:?})", e.status))
}

fn read_png(bytes: &[u8], warnings: &mut Vec<String>) -> Metadata {
    let (chunks, _) = png_chunks(bytes);
    let mut meta = Metadata::default();
    for (chunk, whole) in &chunks {
        let data = &bytes[chunk.data.clone()];
        let what = match &chunk.kind {
            b"eXIf" => "Exif block",
            b"iCCP" => "ICC profile",
            b"iTXt" if data.starts_with(PNG_XMP_KEYWORD) => "XMP packet",
            b"zTXt" if after_keyword(data, b"Raw profile type exif").is_some() => "Exif block",
            _ => continue,
        };
        if !whole {
            warnings.push(format!(
                "the {what} ({} chunk) fails its CRC check; left out",
                String::from_utf8_lossy(&chunk.kind)
            ));
            continue;
        }
        let block = match &chunk.kind {
            b"eXIf" => Ok(data.strip_prefix(EXIF_PREFIX).unwrap_or(data).to_vec()),
            b"iCCP" => match data.iter().position(|&b| b == 0) {
                Some(nul) if data.get(nul + 1) == Some(&0) => inflate(&data[nul + 2..]),
                _ => Err("its header is malformed".into()),
            },
            b"iTXt" => png_itxt(data),
            _ => png_raw_profile(data),
        };
        let slot = match what {
            "Exif block" => &mut meta.exif,
            "ICC profile" => &mut meta.icc,
            _ => &mut meta.xmp,
        };
        match block {
            Ok(block) if slot.is_none() => *slot = Some(block),
            Ok(_) => {}
            Err(why) => warnings.push(format!("the {what} is damaged ({why}); left out")),
        }
    }
    meta
}

/// An iTXt chunk's text: keyword, compression flag and method, language tag, translated
/// keyword, then the text (zlib-compressed where the flag says).
fn png_itxt(data: &[u8]) -> Result<Vec<u8>, String> {
    let malformed = || "its header is malformed".to_string();
    let rest = after_keyword(data, PNG_XMP_KEYWORD).ok_or_else(malformed)?;
    let (&[flag, _method], rest) = rest.split_first_chunk::<2>().ok_or_else(malformed)?;
    let language = rest.iter().position(|&b| b == 0).ok_or_else(malformed)?;
    let rest = &rest[language + 1..];
    let translated = rest.iter().position(|&b| b == 0).ok_or_else(malformed)?;
    let text = &rest[translated + 1..];
    match flag {
        0 => Ok(text.to_vec()),
        1 => inflate(text),
        _ => Err(malformed()),
    }
}

/// ImageMagick's legacy zTXt "Raw profile type exif": zlib text of a newline, the profile's
/// name, its length in decimal, then hex digits of `Exif\0\0` and the block.
fn png_raw_profile(data: &[u8]) -> Result<Vec<u8>, String> {
    let malformed = || "ImageMagick's raw profile is malformed".to_string();
    let rest = after_keyword(data, b"Raw profile type exif").ok_or_else(malformed)?;
    let text = inflate(rest.get(1..).ok_or_else(malformed)?)?;
    let text = std::str::from_utf8(&text).map_err(|_| malformed())?;
    let mut words = text.split_ascii_whitespace();
    let _name = words.next().ok_or_else(malformed)?;
    let length: usize = words
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(malformed)?;
    let hex: String = words.collect();
    if hex.len() != length * 2 || !hex.is_ascii() {
        return Err(malformed());
    }
    let raw = (0..length)
        .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| malformed())?;
    Ok(raw.strip_prefix(EXIF_PREFIX).unwrap_or(&raw).to_vec())
}

/// A whole PNG chunk of `kind` holding `data`, its CRC computed.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 12);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[4..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The chunks (type and data) that hold `meta`'s blocks in a PNG: iCCP, eXIf, and XMP's iTXt,
/// to go after IHDR.
pub fn png_blocks(meta: &Metadata) -> Vec<([u8; 4], Vec<u8>)> {
    let mut ours = Vec::new();
    if let Some(icc) = &meta.icc {
        let mut data = b"ICC profile\0\0".to_vec();
        data.extend(miniz_oxide::deflate::compress_to_vec_zlib(icc, 6));
        ours.push((*b"iCCP", data));
    }
    if let Some(exif) = &meta.exif {
        ours.push((*b"eXIf", exif.clone()));
    }
    if let Some(xmp) = &meta.xmp {
        let mut data = PNG_XMP_KEYWORD.to_vec();
        // Keyword's NUL, uncompressed, no language, no translated keyword.
        data.extend_from_slice(&[0, 0, 0, 0, 0]);
        data.extend_from_slice(xmp);
        ours.push((*b"iTXt", data));
    }
    ours
}

fn embed_png(encoded: &[u8], meta: &Metadata) -> Result<Vec<u8>, String> {
    let (chunks, damage) = png_chunks(encoded);
    if let Some(why) = damage {
        return Err(format!("the encoded PNG is malformed: {why}"));
    }
    if chunks.first().map(|c| &c.0.kind) != Some(b"IHDR") {
        return Err("the encoded PNG does not start with IHDR".into());
    }
    let ours: Vec<u8> = png_blocks(meta)
        .iter()
        .flat_map(|(kind, data)| png_chunk(kind, data))
        .collect();
    let replaced = |c: &Chunk| {
        let data = &encoded[c.data.clone()];
        match &c.kind {
            b"eXIf" => true,
            // An sRGB chunk beside an iCCP one contradicts it.
            b"iCCP" | b"sRGB" => meta.icc.is_some() || &c.kind == b"iCCP",
            b"iTXt" => data.starts_with(PNG_XMP_KEYWORD),
            b"zTXt" | b"tEXt" => after_keyword(data, b"Raw profile type exif").is_some(),
            _ => false,
        }
    };
    let mut out = Vec::with_capacity(encoded.len() + ours.len());
    out.extend_from_slice(&encoded[..8]);
    let ihdr = &chunks[0].0;
    out.extend_from_slice(&encoded[ihdr.start..ihdr.end]);
    out.extend_from_slice(&ours);
    for (c, _) in &chunks[1..] {
        if !replaced(c) {
            out.extend_from_slice(&encoded[c.start..c.end]);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// WebP

/// A RIFF chunk: its four-character code and its data.
type RiffChunk<'a> = ([u8; 4], &'a [u8]);

/// The chunks of a RIFF WebP file.
fn webp_chunks(bytes: &[u8]) -> Result<Vec<RiffChunk<'_>>, String> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err("no RIFF WEBP header".into());
    }
    let riff = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")) as usize;
    let end = (riff.saturating_add(8)).min(bytes.len());
    let mut chunks = Vec::new();
    let mut at = 12;
    while at + 8 <= end {
        let kind: [u8; 4] = bytes[at..at + 4].try_into().expect("4 bytes");
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let data_end = at.saturating_add(8).saturating_add(size);
        if data_end > end {
            return Err(format!(
                "the {} chunk runs past the end of the file",
                String::from_utf8_lossy(&kind)
            ));
        }
        chunks.push((kind, &bytes[at + 8..data_end]));
        at = data_end + (size & 1);
    }
    Ok(chunks)
}

fn read_webp(bytes: &[u8], warnings: &mut Vec<String>) -> Metadata {
    let chunks = match webp_chunks(bytes) {
        Ok(chunks) => chunks,
        Err(why) => {
            warnings.push(format!(
                "the WebP's chunks are damaged ({why}); metadata after that point is left out"
            ));
            Vec::new()
        }
    };
    let mut meta = Metadata::default();
    for (kind, data) in chunks {
        let slot = match &kind {
            b"ICCP" => &mut meta.icc,
            b"EXIF" => &mut meta.exif,
            b"XMP " => &mut meta.xmp,
            _ => continue,
        };
        if slot.is_none() {
            // Some writers keep JPEG's prefix in the EXIF chunk.
            *slot = Some(data.strip_prefix(EXIF_PREFIX).unwrap_or(data).to_vec());
        }
    }
    meta
}

/// VP8X flags.
const WEBP_ICC: u8 = 0x20;
const WEBP_ALPHA: u8 = 0x10;
const WEBP_EXIF: u8 = 0x08;
const WEBP_XMP: u8 = 0x04;

/// The canvas size and alpha of a simple (VP8 or VP8L) WebP's bitstream.
fn webp_canvas(kind: &[u8; 4], data: &[u8]) -> Result<(u32, u32, bool), String> {
    match kind {
        b"VP8 " if data.len() >= 10 && data[3..6] == [0x9d, 0x01, 0x2a] => {
            let w = u16::from_le_bytes([data[6], data[7]]) & 0x3fff;
            let h = u16::from_le_bytes([data[8], data[9]]) & 0x3fff;
            Ok((w as u32, h as u32, false))
        }
        b"VP8L" if data.len() >= 5 && data[0] == 0x2f => {
            let bits = u32::from_le_bytes(data[1..5].try_into().expect("4 bytes"));
            Ok((
                (bits & 0x3fff) + 1,
                ((bits >> 14) & 0x3fff) + 1,
                (bits >> 28) & 1 == 1,
            ))
        }
        _ => Err("its bitstream header is malformed".into()),
    }
}

fn embed_webp(encoded: Vec<u8>, meta: &Metadata) -> Result<Vec<u8>, String> {
    let chunks =
        webp_chunks(&encoded).map_err(|why| format!("the encoded WebP is malformed: {why}"))?;
    let Some((first, first_data)) = chunks.first() else {
        return Err("the encoded WebP has no chunks".into());
    };
    let mut vp8x = [0u8; 10];
    if first == b"VP8X" {
        if first_data.len() < 10 {
            return Err("the encoded WebP's VP8X chunk is too short".into());
        }
        vp8x.copy_from_slice(&first_data[..10]);
    } else {
        if meta.is_empty() {
            return Ok(encoded);
        }
        let (w, h, alpha) = webp_canvas(first, first_data)
            .map_err(|why| format!("the encoded WebP is malformed: {why}"))?;
        if alpha {
            vp8x[0] |= WEBP_ALPHA;
        }
        vp8x[4..7].copy_from_slice(&(w - 1).to_le_bytes()[..3]);
        vp8x[7..10].copy_from_slice(&(h - 1).to_le_bytes()[..3]);
    }
    vp8x[0] &= !(WEBP_ICC | WEBP_EXIF | WEBP_XMP);
    for (flag, block) in [
        (WEBP_ICC, &meta.icc),
        (WEBP_EXIF, &meta.exif),
        (WEBP_XMP, &meta.xmp),
    ] {
        if block.is_some() {
            vp8x[0] |= flag;
        }
    }
    let mut body = Vec::with_capacity(encoded.len() + 64);
    let mut push = |kind: &[u8; 4], data: &[u8]| {
        body.extend_from_slice(kind);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    };
    // VP8X, ICCP, the image's chunks, then EXIF and XMP, as the container's order asks.
    push(b"VP8X", &vp8x);
    if let Some(icc) = &meta.icc {
        push(b"ICCP", icc);
    }
    for (kind, data) in &chunks {
        if !matches!(kind, b"VP8X" | b"ICCP" | b"EXIF" | b"XMP ") {
            push(kind, data);
        }
    }
    if let Some(exif) = &meta.exif {
        push(b"EXIF", exif);
    }
    if let Some(xmp) = &meta.xmp {
        push(b"XMP ", xmp);
    }
    let size = u32::try_from(body.len() + 4)
        .map_err(|_| "the WebP with its metadata is larger than 4 GiB".to_string())?;
    let mut out = Vec::with_capacity(body.len() + 12);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// TIFF structures: Exif blocks and TIFF files

/// Tags whose value is the offset of a sub-IFD: Exif, GPS and (inside Exif) Interoperability.
pub(crate) const EXIF_IFD: u16 = 0x8769;
pub(crate) const GPS_IFD: u16 = 0x8825;
const INTEROP_IFD: u16 = 0xA005;
const ORIENTATION: u16 = 0x0112;
const PIXEL_X: u16 = 0xA002;
const PIXEL_Y: u16 = 0xA003;
pub(crate) const TIFF_ICC: u16 = 34675;
pub(crate) const TIFF_XMP: u16 = 700;
/// The camera's tags of a TIFF's IFD0 that belong to the photo's Exif: description, make,
/// model, orientation, resolution, software, date, artist, copyright.
const CAMERA_TAGS: [u16; 11] = [270, 271, 272, 274, 282, 283, 296, 305, 306, 315, 33432];
/// How deep sub-IFDs may nest (IFD0 → Exif → Interoperability).
const MAX_DEPTH: usize = 3;

/// Bytes per value of a TIFF field type; `None` for a type TIFF does not define.
fn type_size(typ: u16) -> Option<usize> {
    match typ {
        1 | 2 | 6 | 7 => Some(1),
        3 | 8 => Some(2),
        4 | 9 | 11 | 13 => Some(4),
        5 | 10 | 12 | 16..=18 => Some(8),
        _ => None,
    }
}

/// One IFD entry with its value's bytes (in its block's byte order), or the sub-IFD it points
/// to.
#[derive(Clone, Debug)]
struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    value: Vec<u8>,
    sub: Option<Vec<Entry>>,
}

/// A TIFF structure's bytes and byte order.
struct Tiff<'a> {
    b: &'a [u8],
    le: bool,
}

/// An entry as stored: where its value field is, and where its value is.
struct Raw {
    tag: u16,
    typ: u16,
    count: u32,
    /// Where the value is (the value field itself when it fits there).
    at: usize,
    len: usize,
}

impl<'a> Tiff<'a> {
    /// The structure and the offset of IFD0; BigTIFF is not read.
    fn new(b: &'a [u8]) -> Result<(Self, usize), String> {
        let le = match b.get(..4) {
            Some(b"II*\0") => true,
            Some(b"MM\0*") => false,
            Some(b"II+\0") | Some(b"MM\0+") => return Err("BigTIFF is not supported".into()),
            _ => return Err("no TIFF byte-order mark".into()),
        };
        let tiff = Tiff { b, le };
        let ifd0 = tiff.u32(4)? as usize;
        Ok((tiff, ifd0))
    }

    fn u16(&self, at: usize) -> Result<u16, String> {
        let b = self.b.get(at..at + 2).ok_or_else(|| past(at))?;
        Ok(if self.le {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    }

    fn u32(&self, at: usize) -> Result<u32, String> {
        let b = self.b.get(at..at + 4).ok_or_else(|| past(at))?;
        let b = [b[0], b[1], b[2], b[3]];
        Ok(if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    /// The entries of the IFD at `at`, and the offset of the next IFD (0: none).
    fn ifd(&self, at: usize) -> Result<(Vec<Raw>, usize), String> {
        let n = self.u16(at)? as usize;
        let mut entries = Vec::with_capacity(n);
        for i in 0..n {
            let e = at + 2 + i * 12;
            let (tag, typ, count) = (self.u16(e)?, self.u16(e + 2)?, self.u32(e + 4)?);
            let size =
                type_size(typ).ok_or_else(|| format!("tag {tag} has the unknown type {typ}"))?;
            let len = size
                .checked_mul(count as usize)
                .filter(|&len| len <= self.b.len())
                .ok_or_else(|| format!("tag {tag}'s value runs past the end"))?;
            let value_at = if len <= 4 {
                e + 8
            } else {
                self.u32(e + 8)? as usize
            };
            if value_at
                .checked_add(len)
                .is_none_or(|end| end > self.b.len())
            {
                return Err(format!("tag {tag}'s value runs past the end"));
            }
            entries.push(Raw {
                tag,
                typ,
                count,
                at: value_at,
                len,
            });
        }
        let next = self.u32(at + 2 + n * 12)? as usize;
        Ok((entries, next))
    }

    /// The IFD at `at` with its sub-IFDs read into their entries. `seen` holds the IFDs read so
    /// far, for loops.
    fn tree(&self, at: usize, depth: usize, seen: &mut Vec<usize>) -> Result<Vec<Entry>, String> {
        if seen.contains(&at) {
            return Err("its IFDs form a loop".into());
        }
        if depth > MAX_DEPTH {
            return Err("its IFDs nest too deep".into());
        }
        seen.push(at);
        let (raws, _) = self.ifd(at)?;
        let mut entries = Vec::with_capacity(raws.len());
        for r in raws {
            let sub = if matches!(r.tag, EXIF_IFD | GPS_IFD | INTEROP_IFD) {
                if r.count != 1 || !matches!(r.typ, 4 | 13) {
                    return Err(format!("tag {} is not an IFD offset", r.tag));
                }
                Some(self.tree(self.u32(r.at)? as usize, depth + 1, seen)?)
            } else {
                None
            };
            entries.push(Entry {
                tag: r.tag,
                typ: r.typ,
                count: r.count,
                value: self.b[r.at..r.at + r.len].to_vec(),
                sub,
            });
        }
        Ok(entries)
    }

    /// The position of the value of `tag` in the IFD at `at`, when it is one SHORT or LONG.
    fn find(&self, at: usize, tag: u16) -> Result<Option<(usize, u16)>, String> {
        let (raws, _) = self.ifd(at)?;
        Ok(raws
            .into_iter()
            .find(|r| r.tag == tag && r.count == 1 && matches!(r.typ, 3 | 4))
            .map(|r| (r.at, r.typ)))
    }
}

fn past(at: usize) -> String {
    format!("an offset ({at}) points past the end")
}

/// Checks an Exif block through: its IFD0 with the Exif, GPS and Interoperability IFDs, and the
/// thumbnail's IFD1; every value inside the block, no loop.
pub fn check_exif(exif: &[u8]) -> Result<(), String> {
    let (tiff, ifd0) = Tiff::new(exif)?;
    let mut seen = Vec::new();
    tiff.tree(ifd0, 0, &mut seen)?;
    let (_, next) = tiff.ifd(ifd0)?;
    if next != 0 {
        if seen.contains(&next) {
            return Err("its IFDs form a loop".into());
        }
        tiff.ifd(next)?;
    }
    Ok(())
}

/// `entries` with their values turned from one byte order to the other.
fn swap_order(entries: &mut [Entry]) {
    for e in entries {
        if let Some(sub) = &mut e.sub {
            swap_order(sub);
            continue;
        }
        let unit = match e.typ {
            3 | 8 => 2,
            4 | 5 | 9 | 10 | 11 | 13 => 4,
            12 | 16..=18 => 8,
            _ => continue,
        };
        for value in e.value.chunks_exact_mut(unit) {
            value.reverse();
        }
    }
}

/// Appends `ifd` and its sub-IFDs to `out` (offsets counted from the start of `out`, which is
/// the TIFF structure's start), entries in tag order, `next` as its next-IFD offset. Returns
/// the IFD's offset.
fn write_ifd(out: &mut Vec<u8>, le: bool, ifd: &[Entry], next: u32) -> Result<u32, String> {
    let offset = |n: usize| u32::try_from(n).map_err(|_| "the TIFF would pass 4 GiB".to_string());
    let word = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let half = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() };
    let mut sorted: Vec<&Entry> = ifd.iter().collect();
    sorted.sort_by_key(|e| e.tag);
    sorted.dedup_by_key(|e| e.tag);
    // Sub-IFDs first, so that their offsets are known.
    let mut subs = Vec::new();
    for e in &sorted {
        subs.push(match &e.sub {
            Some(sub) => Some(write_ifd(out, le, sub, 0)?),
            None => None,
        });
    }
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let at = out.len();
    out.extend_from_slice(&half(sorted.len() as u16));
    out.resize(at + 2 + 12 * sorted.len(), 0);
    out.extend_from_slice(&word(next));
    for (i, (e, sub)) in sorted.iter().zip(subs).enumerate() {
        let field = at + 2 + 12 * i;
        out[field..field + 2].copy_from_slice(&half(e.tag));
        let (typ, count) = match sub {
            Some(_) => (4, 1),
            None => (e.typ, e.count),
        };
        out[field + 2..field + 4].copy_from_slice(&half(typ));
        out[field + 4..field + 8].copy_from_slice(&word(count));
        if let Some(sub) = sub {
            out[field + 8..field + 12].copy_from_slice(&word(sub));
        } else if e.value.len() <= 4 {
            out[field + 8..field + 8 + e.value.len()].copy_from_slice(&e.value);
        } else {
            if out.len() % 2 == 1 {
                out.push(0);
            }
            let value_at = offset(out.len())?;
            out.extend_from_slice(&e.value);
            out[field + 8..field + 12].copy_from_slice(&word(value_at));
        }
    }
    offset(at)
}

/// A standalone Exif block (a TIFF structure with no image) holding `ifd0` and its sub-IFDs.
fn exif_block(le: bool, ifd0: &[Entry]) -> Result<Vec<u8>, String> {
    let mut out = if le {
        b"II*\0\0\0\0\0".to_vec()
    } else {
        b"MM\0*\0\0\0\0".to_vec()
    };
    let at = write_ifd(&mut out, le, ifd0, 0)?;
    let at = if le {
        at.to_le_bytes()
    } else {
        at.to_be_bytes()
    };
    out[4..8].copy_from_slice(&at);
    Ok(out)
}

/// A TIFF's ICC and XMP tags, and its camera tags with the Exif and GPS IFDs rebuilt into a
/// standalone Exif block.
fn read_tiff(bytes: &[u8], warnings: &mut Vec<String>) -> Metadata {
    let mut meta = Metadata::default();
    let read = Tiff::new(bytes).and_then(|(tiff, ifd0)| {
        let (raws, _) = tiff.ifd(ifd0)?;
        Ok((tiff, raws))
    });
    let (tiff, raws) = match read {
        Ok(read) => read,
        Err(why) => {
            warnings.push(format!(
                "the TIFF's first IFD is damaged ({why}); its metadata is left out"
            ));
            return meta;
        }
    };
    let mut exif = Vec::new();
    let mut exif_damage = None;
    for r in &raws {
        let value = &bytes[r.at..r.at + r.len];
        match r.tag {
            TIFF_ICC => meta.icc = Some(value.to_vec()),
            TIFF_XMP => meta.xmp = Some(value.to_vec()),
            EXIF_IFD | GPS_IFD => {
                let sub = (r.count == 1 && matches!(r.typ, 4 | 13))
                    .then(|| tiff.u32(r.at))
                    .ok_or_else(|| format!("tag {} is not an IFD offset", r.tag))
                    .and_then(|at| tiff.tree(at? as usize, 1, &mut Vec::new()));
                match sub {
                    Ok(sub) => exif.push(Entry {
                        tag: r.tag,
                        typ: 4,
                        count: 1,
                        value: Vec::new(),
                        sub: Some(sub),
                    }),
                    Err(why) => exif_damage = Some(why),
                }
            }
            tag if CAMERA_TAGS.contains(&tag) => exif.push(Entry {
                tag,
                typ: r.typ,
                count: r.count,
                value: value.to_vec(),
                sub: None,
            }),
            _ => {}
        }
    }
    if let Some(why) = exif_damage {
        warnings.push(format!("the Exif block is damaged ({why}); left out"));
    } else if exif.iter().any(|e| e.sub.is_some()) {
        match exif_block(tiff.le, &exif) {
            Ok(block) => meta.exif = Some(block),
            Err(why) => warnings.push(format!("the Exif block cannot be kept ({why})")),
        }
    }
    meta
}

/// Adds ICC (34675) and XMP (700) to the TIFF's IFD0, and the Exif block's camera tags with its
/// Exif and GPS IFDs, relocated: a new IFD0 and the sub-IFDs are appended to the file and the
/// header points to them, every offset written anew. A MakerNote inside the Exif IFD is copied
/// byte for byte: offsets inside it that count from the start of the original block may point
/// elsewhere after the move, as with other tools that rewrite Exif. The thumbnail (IFD1) of
/// the Exif block is not kept.
fn embed_tiff(
    mut encoded: Vec<u8>,
    meta: &Metadata,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>, String> {
    if meta.is_empty() {
        return Ok(encoded);
    }
    let malformed = |why: String| format!("the encoded TIFF is malformed: {why}");
    let (tiff, ifd0) = Tiff::new(&encoded).map_err(malformed)?;
    let le = tiff.le;
    let (raws, next) = tiff.ifd(ifd0).map_err(malformed)?;
    let mut exif_entries = Vec::new();
    if let Some(exif) = &meta.exif {
        let parsed = Tiff::new(exif).and_then(|(block, at)| {
            let tree = block.tree(at, 0, &mut Vec::new())?;
            Ok((block.le, tree))
        });
        match parsed {
            Ok((block_le, mut tree)) => {
                if block_le != le {
                    swap_order(&mut tree);
                }
                exif_entries = tree
                    .into_iter()
                    .filter(|e| CAMERA_TAGS.contains(&e.tag) || matches!(e.tag, EXIF_IFD | GPS_IFD))
                    .collect();
            }
            Err(why) => warnings.push(format!("the Exif block is damaged ({why}); left out")),
        }
    }
    let ours: Vec<u16> = exif_entries.iter().map(|e| e.tag).collect();
    let mut entries: Vec<Entry> = raws
        .iter()
        .filter(|r| !ours.contains(&r.tag) && !matches!(r.tag, TIFF_ICC | TIFF_XMP))
        .filter(|r| !(meta.exif.is_some() && matches!(r.tag, EXIF_IFD | GPS_IFD)))
        .map(|r| Entry {
            tag: r.tag,
            typ: r.typ,
            count: r.count,
            value: tiff.b[r.at..r.at + r.len].to_vec(),
            sub: None,
        })
        .collect();
    entries.extend(exif_entries);
    let block = |tag: u16, typ: u16, data: &Vec<u8>| Entry {
        tag,
        typ,
        count: data.len() as u32,
        value: data.clone(),
        sub: None,
    };
    if let Some(icc) = &meta.icc {
        entries.push(block(TIFF_ICC, 7, icc));
    }
    if let Some(xmp) = &meta.xmp {
        entries.push(block(TIFF_XMP, 1, xmp));
    }
    let next = u32::try_from(next).map_err(|_| malformed("a bad next-IFD offset".into()))?;
    let at = write_ifd(&mut encoded, le, &entries, next)?;
    let at = if le {
        at.to_le_bytes()
    } else {
        at.to_be_bytes()
    };
    encoded[4..8].copy_from_slice(&at);
    Ok(encoded)
}

// ---------------------------------------------------------------------------------------------
// Exif edits

/// The Exif orientation, 1 to 8; `None` where the block has no valid one.
pub fn orientation(exif: &[u8]) -> Option<u8> {
    let (tiff, ifd0) = Tiff::new(exif).ok()?;
    let value = match tiff.find(ifd0, ORIENTATION).ok()?? {
        (at, 3) => u32::from(tiff.u16(at).ok()?),
        (at, _) => tiff.u32(at).ok()?,
    };
    u8::try_from(value).ok().filter(|v| (1..=8).contains(v))
}

/// The smallest Exif block that says an orientation: a big-endian TIFF header and an IFD0 with
/// the one tag. For a picture whose turn lived outside Exif (an AVIF's irot and imir boxes) and
/// goes into a format whose viewers read it from Exif.
pub fn orientation_only(value: u8) -> Vec<u8> {
    let mut exif = b"MM\0*\0\0\0\x08".to_vec();
    exif.extend_from_slice(&1u16.to_be_bytes());
    exif.extend_from_slice(&ORIENTATION.to_be_bytes());
    exif.extend_from_slice(&3u16.to_be_bytes());
    exif.extend_from_slice(&1u32.to_be_bytes());
    exif.extend_from_slice(&u16::from(value).to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    exif
}

/// Sets the Exif orientation (1 to 8) in place. A block without the tag is left as it is when
/// `value` is 1 (no tag reads as 1).
pub fn set_orientation(exif: &mut [u8], value: u16) -> Result<(), String> {
    let (tiff, ifd0) = Tiff::new(exif)?;
    let le = tiff.le;
    match tiff.find(ifd0, ORIENTATION)? {
        Some((at, 3)) => {
            write_short(exif, at, le, value);
            Ok(())
        }
        Some(_) => Err("its orientation is not a SHORT".into()),
        None if value == 1 => Ok(()),
        None => Err("it has no orientation tag to set".into()),
    }
}

/// Sets PixelXDimension and PixelYDimension of the Exif IFD in place, as SHORT or LONG as they
/// are stored. A block without them is left as it is; a SHORT that cannot hold the size is an
/// error.
pub fn set_pixel_size(exif: &mut [u8], width: u32, height: u32) -> Result<(), String> {
    let (tiff, ifd0) = Tiff::new(exif)?;
    let le = tiff.le;
    let Some((at, _)) = tiff.find(ifd0, EXIF_IFD)? else {
        return Ok(());
    };
    let exif_ifd = tiff.u32(at)? as usize;
    let fields = [
        (tiff.find(exif_ifd, PIXEL_X)?, width),
        (tiff.find(exif_ifd, PIXEL_Y)?, height),
    ];
    for (field, value) in fields {
        if let (Some((_, 3)), Err(_)) = (field, u16::try_from(value)) {
            return Err(format!("its pixel size is a SHORT, too small for {value}"));
        }
    }
    for (field, value) in fields {
        match field {
            Some((at, 3)) => {
                write_short(exif, at, le, value as u16);
            }
            Some((at, _)) => {
                let bytes = if le {
                    value.to_le_bytes()
                } else {
                    value.to_be_bytes()
                };
                exif[at..at + 4].copy_from_slice(&bytes);
            }
            None => {}
        }
    }
    Ok(())
}

fn write_short(exif: &mut [u8], at: usize, le: bool, value: u16) {
    let bytes = if le {
        value.to_le_bytes()
    } else {
        value.to_be_bytes()
    };
    exif[at..at + 2].copy_from_slice(&bytes);
}

/// Sets `tiff:Orientation` in an XMP packet, as an attribute or an element, where it is there.
pub fn set_xmp_orientation(xmp: &mut Vec<u8>, value: u8) {
    let Ok(text) = std::str::from_utf8(xmp) else {
        return;
    };
    let mut text = text.to_string();
    let mut from = 0;
    for (open, close) in [
        ("tiff:Orientation=\"", "\""),
        ("tiff:Orientation='", "'"),
        ("<tiff:Orientation>", "</tiff:Orientation>"),
    ] {
        while let Some(start) = text[from..].find(open).map(|i| from + i + open.len()) {
            let Some(end) = text[start..].find(close).map(|i| start + i) else {
                break;
            };
            text.replace_range(start..end, &value.to_string());
            from = start;
        }
        from = 0;
    }
    *xmp = text.into_bytes();
}

// ---------------------------------------------------------------------------------------------
// The camera's facts

/// What a photo's Exif says about how it was taken, for `probe`: each field where the block
/// has it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExifSummary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub make: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lens: Option<String>,
    /// DateTimeOriginal, else DateTime, as Exif writes it: `2024:06:01 14:03:22`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// `1/250 s`, `2.5 s`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f_number: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iso: Option<u32>,
    /// Millimetres.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub focal_length: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orientation: Option<u16>,
}

/// The camera's facts of an Exif block (read by kamadak-exif).
pub fn summary(exif: &[u8]) -> Result<ExifSummary, String> {
    use exif::{In, Tag, Value};
    let parsed = exif::Reader::new()
        .read_raw(exif.to_vec())
        .map_err(|e| e.to_string())?;
    let field = |tag| parsed.get_field(tag, In::PRIMARY).map(|f| &f.value);
    let text = |tag| match field(tag) {
        Some(Value::Ascii(values)) => values
            .first()
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
            .filter(|v| !v.is_empty()),
        _ => None,
    };
    let ratio = |tag| match field(tag) {
        Some(Value::Rational(r)) if r.first().is_some_and(|r| r.denom != 0) => Some(r[0]),
        _ => None,
    };
    let round = |v: f64, places: i32| {
        let scale = 10f64.powi(places);
        (v * scale).round() / scale
    };
    let exposure = ratio(Tag::ExposureTime).map(|r| {
        let seconds = r.to_f64();
        if seconds > 0.0 && seconds < 1.0 {
            format!("1/{} s", (1.0 / seconds).round())
        } else {
            format!("{} s", round(seconds, 1))
        }
    });
    Ok(ExifSummary {
        make: text(Tag::Make),
        model: text(Tag::Model),
        lens: text(Tag::LensModel),
        date: text(Tag::DateTimeOriginal).or_else(|| text(Tag::DateTime)),
        exposure,
        f_number: ratio(Tag::FNumber).map(|r| round(r.to_f64(), 1)),
        iso: field(Tag::PhotographicSensitivity).and_then(|v| v.get_uint(0)),
        focal_length: ratio(Tag::FocalLength).map(|r| round(r.to_f64(), 1)),
        orientation: field(Tag::Orientation)
            .and_then(|v| v.get_uint(0))
            .and_then(|v| u16::try_from(v).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_orientation_alone_makes_a_valid_exif_block() {
        for o in 1..=8 {
            let exif = orientation_only(o);
            check_exif(&exif).unwrap();
            assert_eq!(orientation(&exif), Some(o));
            assert!(exif::Reader::new().read_raw(exif).is_ok());
        }
    }
    use image::ImageDecoder;

    fn entry(tag: u16, typ: u16, count: u32, value: Vec<u8>) -> Entry {
        Entry {
            tag,
            typ,
            count,
            value,
            sub: None,
        }
    }

    fn ifd_pointer(tag: u16, sub: Vec<Entry>) -> Entry {
        Entry {
            sub: Some(sub),
            ..entry(tag, 4, 1, Vec::new())
        }
    }

    /// A camera's Exif block in either byte order: Make, Orientation 6, an Exif IFD with a
    /// SHORT width, a LONG height and an exposure of 1/250 s, a GPS IFD.
    fn camera(le: bool) -> Vec<u8> {
        let short = |v: u16| if le { v.to_le_bytes() } else { v.to_be_bytes() }.to_vec();
        let long = |v: u32| if le { v.to_le_bytes() } else { v.to_be_bytes() }.to_vec();
        let ifd0 = vec![
            entry(271, 2, 11, b"TesseraCam\0".to_vec()),
            entry(ORIENTATION, 3, 1, short(6)),
            ifd_pointer(
                EXIF_IFD,
                vec![
                    entry(0x829a, 5, 1, [long(1), long(250)].concat()),
                    entry(PIXEL_X, 3, 1, short(640)),
                    entry(PIXEL_Y, 4, 1, long(480)),
                ],
            ),
            ifd_pointer(GPS_IFD, vec![entry(1, 2, 2, b"N\0".to_vec())]),
        ];
        exif_block(le, &ifd0).unwrap()
    }

    #[test]
    fn exif_edits_in_place_in_both_byte_orders() {
        for le in [false, true] {
            let mut exif = camera(le);
            check_exif(&exif).unwrap();
            let before = summary(&exif).unwrap();
            assert_eq!(before.orientation, Some(6));
            assert_eq!(before.exposure.as_deref(), Some("1/250 s"));
            assert_eq!(before.make.as_deref(), Some("TesseraCam"));
            let len = exif.len();
            set_orientation(&mut exif, 1).unwrap();
            // The width is a SHORT: nothing is written.
            let unchanged = exif.clone();
            set_pixel_size(&mut exif, 70_000, 200).unwrap_err();
            assert_eq!(exif, unchanged);
            set_pixel_size(&mut exif, 300, 200).unwrap();
            assert_eq!(exif.len(), len, "edited in place");
            let parsed = exif::Reader::new().read_raw(exif.clone()).unwrap();
            let get = |tag| {
                parsed
                    .get_field(tag, exif::In::PRIMARY)
                    .and_then(|f| f.value.get_uint(0))
            };
            assert_eq!(get(exif::Tag::Orientation), Some(1));
            assert_eq!(get(exif::Tag::PixelXDimension), Some(300));
            assert_eq!(get(exif::Tag::PixelYDimension), Some(200));
            // A LONG takes any size.
            set_pixel_size(&mut exif, 20, 70_000).unwrap();
        }
    }

    /// Every cut of a valid block, and bytes changed all over it, give an error or a block
    /// that reads: never a panic, in any function that takes a block.
    #[test]
    fn damaged_exif_blocks_never_panic() {
        let mut noise = 0x9e37_79b9u32;
        let mut next = || {
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            noise
        };
        for le in [false, true] {
            let whole = camera(le);
            let mut blocks = Vec::new();
            for cut in 0..whole.len() {
                let block = whole[..cut].to_vec();
                assert!(
                    check_exif(&block).is_err(),
                    "cut to {cut} bytes reads as whole"
                );
                blocks.push(block);
            }
            for _ in 0..400 {
                let mut block = whole.clone();
                for _ in 0..1 + next() % 4 {
                    let at = next() as usize % block.len();
                    block[at] = next() as u8;
                }
                blocks.push(block);
            }
            for mut block in blocks {
                let _ = summary(&block);
                let _ = set_orientation(&mut block, 1);
                let _ = set_pixel_size(&mut block, 10, 10);
                let whole = check_exif(&block).is_ok();
                let meta = Metadata {
                    exif: Some(block.clone()),
                    ..Metadata::default()
                };
                let (jpeg, _) = embed(tiny_jpeg(), ImageFormat::Jpeg, &meta).unwrap();
                let (read_back, warnings) = read(&jpeg, ImageFormat::Jpeg);
                assert_eq!(read_back.exif.is_some(), whole);
                assert_eq!(warnings.is_empty(), whole, "{warnings:?}");
                let _ = embed(tiny(ImageFormat::Tiff), ImageFormat::Tiff, &meta);
            }
        }
    }

    #[test]
    fn a_loop_of_ifds_is_damage() {
        // IFD0 at 8 whose Exif IFD is IFD0 itself.
        let mut looped = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        looped.extend_from_slice(&[0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0]);
        assert!(check_exif(&looped).unwrap_err().contains("loop"));
        // IFD0's next IFD is IFD0.
        let mut next = b"II*\0\x08\0\0\0\x01\0".to_vec();
        next.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0]);
        assert!(check_exif(&next).unwrap_err().contains("loop"));
    }

    fn tiny(format: ImageFormat) -> Vec<u8> {
        // Larger than the ICC profile: the `image` crate's TIFF decoder reads no tag value larger
        // than the picture's pixels.
        let picture =
            image::RgbImage::from_fn(64, 40, |x, y| image::Rgb([x as u8 * 4, y as u8 * 6, 7]));
        let mut out = std::io::Cursor::new(Vec::new());
        picture.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn tiny_jpeg() -> Vec<u8> {
        tiny(ImageFormat::Jpeg)
    }

    fn decoder(bytes: &[u8], format: ImageFormat) -> Box<dyn ImageDecoder + '_> {
        let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes));
        reader.set_format(format);
        Box::new(reader.into_decoder().unwrap())
    }

    #[test]
    fn a_large_icc_profile_goes_into_jpeg_chunks_and_back() {
        let icc: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
        let meta = Metadata {
            icc: Some(icc.clone()),
            ..Metadata::default()
        };
        let (jpeg, warnings) = embed(tiny_jpeg(), ImageFormat::Jpeg, &meta).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(
            decoder(&jpeg, ImageFormat::Jpeg).icc_profile().unwrap(),
            Some(icc.clone())
        );
        assert_eq!(read(&jpeg, ImageFormat::Jpeg).0.icc, Some(icc));
        // Embedding again replaces the chunks, never adds to them.
        let (again, _) = embed(jpeg.clone(), ImageFormat::Jpeg, &meta).unwrap();
        assert_eq!(again, jpeg);
        // The second of three chunks lost.
        let (segments, _) = jpeg_segments(&jpeg);
        let second = segments
            .iter()
            .find(|s| s.marker == 0xE2 && jpeg[s.payload + 12] == 2)
            .unwrap();
        let cut = [&jpeg[..second.start], &jpeg[second.end..]].concat();
        let (meta, warnings) = read(&cut, ImageFormat::Jpeg);
        assert_eq!(meta.icc, None);
        assert!(
            warnings[0].contains("chunk 2 of 3 is missing"),
            "{warnings:?}"
        );
    }

    #[test]
    fn oversized_blocks_are_left_out_of_a_jpeg_with_a_warning() {
        let meta = Metadata {
            exif: Some(vec![0; JPEG_EXIF_MAX + 1]),
            xmp: Some(vec![b' '; JPEG_XMP_MAX + 1]),
            icc: None,
        };
        let (jpeg, warnings) = embed(tiny_jpeg(), ImageFormat::Jpeg, &meta).unwrap();
        assert_eq!(jpeg, tiny_jpeg());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("larger than a JPEG's APP1 segment holds"));
    }

    #[test]
    fn every_format_carries_the_blocks_the_image_crate_reads_back() {
        let meta = Metadata {
            icc: Some((0..3001u32).map(|i| (i % 199) as u8).collect()),
            exif: Some(camera(true)),
            xmp: Some(b"<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>".to_vec()),
        };
        for format in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::WebP,
            ImageFormat::Tiff,
        ] {
            let (bytes, warnings) = embed(tiny(format), format, &meta).unwrap();
            assert!(warnings.is_empty(), "{format:?}: {warnings:?}");
            // Twice: what the encoder (or a first pass) wrote is replaced, not repeated.
            let (bytes, _) = embed(bytes, format, &meta).unwrap();
            let mut d = decoder(&bytes, format);
            assert_eq!(d.dimensions(), (64, 40), "{format:?}");
            if format == ImageFormat::Tiff {
                // The `image` crate's TIFF decoder gives no Exif, and no ICC profile from a file
                // it did not write itself: kamadak-exif reads the tags.
                let tag = |number| {
                    let tiff = exif::Reader::new().read_raw(bytes.clone()).unwrap();
                    let field =
                        tiff.get_field(exif::Tag(exif::Context::Tiff, number), exif::In::PRIMARY);
                    match field.map(|f| &f.value) {
                        Some(exif::Value::Undefined(b, _) | exif::Value::Byte(b)) => {
                            Some(b.clone())
                        }
                        _ => None,
                    }
                };
                assert_eq!(tag(TIFF_ICC), meta.icc);
                assert_eq!(tag(TIFF_XMP), meta.xmp);
            } else {
                assert_eq!(d.icc_profile().unwrap(), meta.icc, "{format:?}");
                assert_eq!(d.xmp_metadata().unwrap(), meta.xmp, "{format:?}");
                assert_eq!(d.exif_metadata().unwrap(), meta.exif, "{format:?}");
            }
            let mut pixels = vec![0; d.total_bytes() as usize];
            d.read_image(&mut pixels).unwrap();
            let (back, warnings) = read(&bytes, format);
            assert!(warnings.is_empty(), "{format:?}: {warnings:?}");
            assert_eq!((back.icc, back.xmp), (meta.icc.clone(), meta.xmp.clone()));
            let exif = back.exif.unwrap();
            assert_eq!(
                summary(&exif).unwrap(),
                summary(&camera(true)).unwrap(),
                "{format:?}"
            );
        }
        // A PNG with its chunks in their places and one of each.
        let (png, _) = embed(tiny(ImageFormat::Png), ImageFormat::Png, &meta).unwrap();
        let (chunks, damage) = png_chunks(&png);
        assert_eq!(damage, None);
        let kinds: Vec<&[u8]> = chunks.iter().map(|(c, _)| &c.kind[..]).collect();
        assert_eq!(&kinds[..4], [b"IHDR", b"iCCP", b"eXIf", b"iTXt"]);
        assert!(chunks.iter().all(|(_, whole)| *whole));
        // A WebP in the extended form: VP8X flags, ICCP first, EXIF and XMP last.
        let (webp, _) = embed(tiny(ImageFormat::WebP), ImageFormat::WebP, &meta).unwrap();
        let chunks = webp_chunks(&webp).unwrap();
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [b"VP8X", b"ICCP", b"VP8L", b"EXIF", b"XMP "]);
        assert_eq!(chunks[0].1[0], WEBP_ICC | WEBP_EXIF | WEBP_XMP);
        assert_eq!(&chunks[0].1[4..], [63, 0, 0, 39, 0, 0]);
        let riff = u32::from_le_bytes(webp[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff + 8, webp.len());
    }

    #[test]
    fn xmp_orientation_as_an_attribute_or_an_element() {
        let mut attribute = b"<d tiff:Orientation=\"6\" x=\"1\"/>".to_vec();
        set_xmp_orientation(&mut attribute, 1);
        assert_eq!(attribute, b"<d tiff:Orientation=\"1\" x=\"1\"/>");
        let mut element = b"<tiff:Orientation>8</tiff:Orientation>".to_vec();
        set_xmp_orientation(&mut element, 1);
        assert_eq!(element, b"<tiff:Orientation>1</tiff:Orientation>");
    }
}
