//! Damage a file's structure shows before any decoding: a PNG chunk cut short or failing its
//! CRC, a RIFF (WebP) file shorter than its header says, a GIF that ends before its trailer.
//!
//! Decoders stop at the first picture they can make and leave these unchecked (the `png` crate
//! skips ancillary chunks whose CRC fails and never reads past the image data; a WebP decoder
//! reads the chunks it needs; FFmpeg reads a GIF cut between frames as a shorter one). Each check
//! reads bytes already in memory and says, in a user's words, what is wrong and where; none
//! decodes pixels.

/// The first thing wrong in a PNG's chunks (after the 8-byte signature): a chunk that is cut
/// short, has an invalid name or fails its CRC, or a file that ends before its IEND chunk.
/// `None` when every chunk up to IEND is whole.
pub fn png_chunks(bytes: &[u8]) -> Option<String> {
    let mut at = 8;
    loop {
        let Some(header) = bytes.get(at..at + 8) else {
            return Some(format!(
                "the file ends at byte {} before its IEND chunk (cut short)",
                bytes.len()
            ));
        };
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = &header[4..8];
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return Some(format!("corrupt data: no valid chunk at byte {at}"));
        }
        let name = String::from_utf8_lossy(kind);
        let end = at.saturating_add(12).saturating_add(length);
        if end > bytes.len() {
            return Some(format!(
                "the file ends at byte {} inside its {name} chunk (cut short)",
                bytes.len()
            ));
        }
        let stored = u32::from_be_bytes([
            bytes[end - 4],
            bytes[end - 3],
            bytes[end - 2],
            bytes[end - 1],
        ]);
        if crc32fast::hash(&bytes[at + 4..end - 4]) != stored {
            return Some(format!(
                "corrupt data: the {name} chunk at byte {at} fails its CRC check"
            ));
        }
        if kind == b"IEND" {
            return None;
        }
        at = end;
    }
}

/// A JPEG without its end-of-image marker after the start of its first scan: cut short, maybe
/// inside its last rows, where a decoder makes up what is missing without a word.
pub fn jpeg_end(bytes: &[u8]) -> Option<String> {
    const CUT: &str = "the data ends early, without its end marker (cut short)";
    // The header's segments, each with its length, up to the first scan (a thumbnail inside an
    // Exif segment is skipped with it).
    let mut at = 2;
    loop {
        while bytes.get(at) == Some(&0xFF) && bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if bytes.get(at) != Some(&0xFF) {
            return Some(CUT.into()).filter(|_| at >= bytes.len());
        }
        let Some(&marker) = bytes.get(at + 1) else {
            return Some(CUT.into());
        };
        if marker == 0xDA {
            break;
        }
        if marker == 0xD9 {
            return None;
        }
        let Some(length) = bytes.get(at + 2..at + 4) else {
            return Some(CUT.into());
        };
        at += 2 + u16::from_be_bytes([length[0], length[1]]) as usize;
    }
    // Entropy-coded data holds no 0xFF 0xD9: a byte 0xFF in it is followed by 0 or a restart.
    let ends = bytes[at..].windows(2).any(|w| w == [0xFF, 0xD9]);
    (!ends).then(|| CUT.into())
}

/// A RIFF file (WebP) shorter than its header gives: `file_len` is the file's length, `header`
/// its first bytes.
pub fn riff_size(header: &[u8], file_len: u64) -> Option<String> {
    let Some(size) = header.get(4..8) else {
        return Some(format!(
            "the file ends at byte {file_len} inside its header (cut short)"
        ));
    };
    let expected = u64::from(u32::from_le_bytes([size[0], size[1], size[2], size[3]])) + 8;
    (file_len < expected).then(|| {
        format!(
            "the file ends at byte {file_len} of the {expected} its RIFF header gives (cut short)"
        )
    })
}

/// Where a GIF's blocks go wrong.
#[derive(Debug, PartialEq, Eq)]
pub struct GifDamage {
    /// The frames before the damage, each whole.
    pub whole: u64,
    /// The damage cuts into a frame (rather than falling between frames or after the last).
    pub in_frame: bool,
    pub what: String,
}

/// Walks a GIF's blocks to its trailer: the number of frames when the file is whole, else where
/// it goes wrong (a block with no valid label, or data that ends early).
pub fn gif_blocks(bytes: &[u8]) -> Result<u64, GifDamage> {
    let mut frames = 0u64;
    let ends = |frames, in_frame| GifDamage {
        whole: frames,
        in_frame,
        what: if in_frame {
            format!(
                "the file ends at byte {} inside frame {frames} (cut short)",
                bytes.len()
            )
        } else {
            format!(
                "the file ends at byte {} before its trailer (cut short)",
                bytes.len()
            )
        },
    };
    // Header (6) and logical screen descriptor (7), then the global colour table.
    let Some(&packed) = bytes.get(10) else {
        return Err(ends(0, false));
    };
    let mut at = 13 + colour_table(packed);
    loop {
        let Some(&label) = bytes.get(at) else {
            return Err(ends(frames, false));
        };
        match label {
            0x3B => return Ok(frames),
            0x21 => {
                // Extension: its label, then data sub-blocks.
                at = match sub_blocks(bytes, at + 2) {
                    Some(end) => end,
                    None => return Err(ends(frames, false)),
                };
            }
            0x2C => {
                // Image descriptor (9 bytes after the separator), local colour table, LZW
                // minimum code size, then the image data's sub-blocks.
                let Some(&packed) = bytes.get(at + 9) else {
                    return Err(ends(frames, true));
                };
                let data = at + 10 + colour_table(packed) + 1;
                at = match sub_blocks(bytes, data) {
                    Some(end) => end,
                    None => return Err(ends(frames, true)),
                };
                frames += 1;
            }
            _ => {
                return Err(GifDamage {
                    whole: frames,
                    in_frame: false,
                    what: format!(
                        "corrupt data: no valid block at byte {at}, after frame {frames}"
                    ),
                })
            }
        }
    }
}

/// The size of the colour table a GIF descriptor's packed byte announces.
fn colour_table(packed: u8) -> usize {
    if packed & 0x80 != 0 {
        3 << ((packed & 7) + 1)
    } else {
        0
    }
}

/// The end of the run of data sub-blocks starting at `at` (past its empty terminator); `None`
/// when the file ends first.
fn sub_blocks(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let size = *bytes.get(at)? as usize;
        at += 1 + size;
        if size == 0 {
            return Some(at);
        }
        if at > bytes.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32fast::hash(&out[4..]);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    #[test]
    fn png_chunks_cut_short_or_failing_their_crc() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend(chunk(b"IHDR", &[0; 13]));
        png.extend(chunk(b"tEXt", b"Comment\0hello"));
        png.extend(chunk(b"IDAT", &[1, 2, 3, 4, 5, 6]));
        png.extend(chunk(b"IEND", &[]));
        assert_eq!(png_chunks(&png), None);
        // Bytes after IEND are not damage.
        let mut padded = png.clone();
        padded.extend_from_slice(&[0; 5]);
        assert_eq!(png_chunks(&padded), None);

        let text = png_chunks(&png[..png.len() - 1]).unwrap();
        assert!(text.contains("inside its IEND chunk"), "{text}");
        let text = png_chunks(&png[..png.len() - 12]).unwrap();
        assert!(text.contains("before its IEND chunk"), "{text}");
        // A flipped bit in an ancillary chunk, which the png crate would skip silently.
        let mut flipped = png.clone();
        flipped[8 + 25 + 10] ^= 4;
        let text = png_chunks(&flipped).unwrap();
        assert!(
            text.contains("the tEXt chunk at byte 33 fails its CRC"),
            "{text}"
        );
        let mut garbage = png.clone();
        garbage[33 + 4..33 + 8].copy_from_slice(&[0, 0xff, 7, 1]);
        assert!(png_chunks(&garbage)
            .unwrap()
            .contains("no valid chunk at byte 33"));
    }

    #[test]
    fn jpeg_without_its_end_marker() {
        // SOI, a comment holding the bytes of an end marker, SOS, scan data, EOI.
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xFE, 0, 4, 0xFF, 0xD9, 0xFF, 0xDA, 0, 2, 1, 0xFF, 0, 2, 0xFF, 0xD9,
        ];
        assert_eq!(jpeg_end(&jpeg), None);
        let mut trailing = jpeg.to_vec();
        trailing.extend_from_slice(b"appended");
        assert_eq!(jpeg_end(&trailing), None);
        for cut in [1, 4, 10, 14, 17] {
            assert!(jpeg_end(&jpeg[..cut]).is_some(), "cut at {cut}");
        }
    }

    #[test]
    fn riff_files_shorter_than_their_header() {
        let header = b"RIFF\x10\0\0\0WEBP";
        assert_eq!(riff_size(header, 24), None);
        assert_eq!(riff_size(header, 30), None);
        let text = riff_size(header, 23).unwrap();
        assert!(text.contains("ends at byte 23 of the 24"), "{text}");
        assert!(riff_size(b"RIFF", 4).is_some());
    }

    #[test]
    fn gif_blocks_to_the_trailer() {
        // Header, screen 2x2 with a 2-colour global table, a graphic control extension, one
        // image, the trailer.
        let mut gif = b"GIF89a\x02\0\x02\0\x80\0\0".to_vec();
        gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        gif.extend_from_slice(&[0x21, 0xF9, 4, 0, 10, 0, 0, 0]);
        let image = [0x2C, 0, 0, 0, 0, 2, 0, 2, 0, 0, 2, 2, 0x44, 0x01, 0];
        gif.extend_from_slice(&image);
        gif.extend_from_slice(&image);
        gif.push(0x3B);
        assert_eq!(gif_blocks(&gif), Ok(2));
        let cut = gif_blocks(&gif[..gif.len() - 1]).unwrap_err();
        assert_eq!((cut.whole, cut.in_frame), (2, false));
        assert!(cut.what.contains("before its trailer"), "{}", cut.what);
        let cut = gif_blocks(&gif[..gif.len() - 4]).unwrap_err();
        assert_eq!((cut.whole, cut.in_frame), (1, true));
        assert!(cut.what.contains("inside frame 1"), "{}", cut.what);
        let mut garbage = gif.clone();
        let second = gif.len() - 1 - image.len();
        garbage[second] = 0x99;
        let bad = gif_blocks(&garbage).unwrap_err();
        assert_eq!((bad.whole, bad.in_frame), (1, false));
        assert!(bad.what.contains("no valid block"), "{}", bad.what);
        assert!(gif_blocks(b"GIF8").is_err());
    }
}
