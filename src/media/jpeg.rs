//! JPEG pictures decoded by libjpeg (mozjpeg's decoder, libjpeg-turbo's code) straight from
//! the file, a band of rows at a time: at full size, or shrunk on load by libjpeg's DCT scaling.
//! The whole read and the read in bands ([`super::rows`]) both come here, so a picture is the
//! same samples either way.
//!
//! Only clean files are decoded here. libjpeg works around damage and says so with a warning;
//! the warnings are counted and the damage reported. The whole read then decodes the file again
//! with zune-jpeg ([`super::image`]), which says where the damage is and keeps what can be kept
//! (`--on-error accept`); CMYK and YCCK pictures, which libjpeg hands over unconverted, go there
//! too.

use std::cell::Cell;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use crate::frame::{Format, Frame, Samples};

thread_local! {
    /// Warnings libjpeg gave on this thread since the last reset, and the first one's code and
    /// the first row of the picture it was reading (the row of blocks, in the file's rows).
    static WARNINGS: Cell<(u32, i32, u32)> = const { Cell::new((0, 0, 0)) };
}

/// libjpeg's message hook: counts warnings (level −1), says nothing.
extern "C-unwind" fn count_warning(common: &mut mozjpeg_sys::jpeg_common_struct, level: i32) {
    if level < 0 {
        // SAFETY: libjpeg calls the hook with its error manager set, and a decompressor's
        // common fields begin its whole struct.
        let code = unsafe { (*common.err).msg_code };
        let row = if common.is_decompressor != 0 {
            let cinfo = unsafe {
                &*(common as *const mozjpeg_sys::jpeg_common_struct)
                    .cast::<mozjpeg_sys::jpeg_decompress_struct>()
            };
            cinfo.input_iMCU_row * cinfo.max_v_samp_factor.max(1) as u32 * 8
        } else {
            0
        };
        WARNINGS.with(|w| match w.get() {
            (0, _, _) => w.set((1, code, row)),
            (count, first, at) => w.set((count + 1, first, at)),
        });
    }
}

/// libjpeg's fatal-error hook: unwinds to the `catch_unwind` around the call.
extern "C-unwind" fn fatal(_: &mut mozjpeg_sys::jpeg_common_struct) {
    std::panic::resume_unwind(Box::new("libjpeg could not decode the data"));
}

/// Why a libjpeg call gave no result: the first warning's code and the file's row it was
/// reading (a failure has code 0).
struct Warned {
    code: i32,
    row: u32,
}

/// Runs one libjpeg call: its result, or where libjpeg failed or warned of damage.
fn libjpeg<T>(call: impl FnOnce() -> std::io::Result<T>) -> Result<T, Warned> {
    WARNINGS.with(|w| w.set((0, 0, 0)));
    let result = catch_unwind(AssertUnwindSafe(call));
    match (result, WARNINGS.with(|w| w.get())) {
        (Ok(Ok(value)), (0, _, _)) => Ok(value),
        (Ok(Ok(_)), (_, code, row)) => Err(Warned { code, row }),
        (_, (_, _, row)) => Err(Warned { code: 0, row }),
    }
}

/// What a JPEG's headers say, read from the file before its first scan.
pub struct Header {
    /// The start marker and every segment before the first scan, then the scan's marker: what
    /// [`super::metadata::read`] reads the Exif, XMP and ICC blocks from.
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Each component's sampling factors (horizontal, vertical).
    pub sampling: Vec<(u8, u8)>,
    /// Progressive (or any multi-scan) coding: libjpeg holds every coefficient of the picture
    /// while it decodes it, whatever the band.
    pub progressive: bool,
}

impl Header {
    /// The bytes libjpeg holds for the coefficients of a multi-scan picture while it decodes
    /// it (two per coefficient, blocks of 8×8, each component at its sampling); 0 for a
    /// sequential one, decoded as it is read.
    pub fn held_bytes(&self) -> u64 {
        if self.progressive {
            coefficient_bytes(self.width, self.height, &self.sampling)
        } else {
            0
        }
    }
}

/// The bytes of the DCT coefficients of a `width`×`height` picture whose components are
/// sampled as `sampling` says: what libjpeg holds for a whole picture when it decodes a
/// multi-scan file, or encodes with optimised Huffman tables.
pub fn coefficient_bytes(width: u32, height: u32, sampling: &[(u8, u8)]) -> u64 {
    let h_max = sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1) as u64;
    let v_max = sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1) as u64;
    // Components are padded to whole MCUs.
    let mcus_wide = (width as u64).div_ceil(8 * h_max);
    let mcus_high = (height as u64).div_ceil(8 * v_max);
    sampling
        .iter()
        .map(|&(h, v)| mcus_wide * h as u64 * mcus_high * v as u64 * 64 * 2)
        .sum()
}

/// Reads the headers of the JPEG `file` is at the start of; why not where they are cut short
/// or broken before the first scan.
pub fn header(file: &mut impl Read) -> Result<Header, String> {
    let mut bytes = vec![0u8; 2];
    file.read_exact(&mut bytes)
        .map_err(|_| "the file ends in its headers (cut short)".to_string())?;
    if bytes != [0xFF, 0xD8] {
        return Err("no JPEG start marker".into());
    }
    let mut frame = None;
    let mut byte = [0u8; 1];
    let mut next = |file: &mut dyn Read| -> Result<u8, String> {
        file.read_exact(&mut byte)
            .map_err(|_| "the file ends in its headers (cut short)".to_string())?;
        Ok(byte[0])
    };
    loop {
        if next(file)? != 0xFF {
            return Err(format!("no marker at byte {}", bytes.len()));
        }
        let mut marker = next(file)?;
        while marker == 0xFF {
            marker = next(file)?;
        }
        match marker {
            0xDA => {
                bytes.extend_from_slice(&[0xFF, 0xDA]);
                break;
            }
            0xD9 => return Err("the file ends before its first scan".into()),
            0x01 | 0xD0..=0xD7 => {
                bytes.extend_from_slice(&[0xFF, marker]);
                continue;
            }
            _ => {}
        }
        let mut length = [0u8; 2];
        file.read_exact(&mut length)
            .map_err(|_| "the file ends in its headers (cut short)".to_string())?;
        let length = u16::from_be_bytes(length) as usize;
        if length < 2 {
            return Err(format!("a segment of length {length}"));
        }
        let mut payload = vec![0u8; length - 2];
        file.read_exact(&mut payload)
            .map_err(|_| "the file ends in its headers (cut short)".to_string())?;
        // A frame header: SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let [_, h0, h1, w0, w1, count, ..] = payload[..] else {
                return Err("a frame header cut short".into());
            };
            let count = count as usize;
            let components = payload
                .get(6..6 + 3 * count)
                .ok_or("a frame header cut short")?;
            let sampling = components
                .chunks_exact(3)
                .map(|c| (c[1] >> 4, c[1] & 15))
                .collect();
            // Sequential coding is SOF0, SOF1, SOF5, SOF9 and SOF13 (baseline, extended,
            // differential, arithmetic); the rest are progressive or lossless.
            let progressive = !matches!(marker, 0xC0 | 0xC1 | 0xC5 | 0xC9 | 0xCD);
            frame = Some(Header {
                bytes: Vec::new(),
                width: u16::from_be_bytes([w0, w1]) as u32,
                height: u16::from_be_bytes([h0, h1]) as u32,
                sampling,
                progressive,
            });
        }
        bytes.extend_from_slice(&[0xFF, marker]);
        bytes.extend_from_slice(&((length as u16).to_be_bytes()));
        bytes.extend_from_slice(&payload);
    }
    let frame = frame.ok_or("no frame header")?;
    Ok(Header { bytes, ..frame })
}

/// A JPEG decoded a band of rows at a time, top to bottom.
pub struct JpegRows {
    decoder: Option<mozjpeg::decompress::DecompressStarted<BufReader<File>>>,
    format: Format,
    channels: usize,
    /// Rows handed out.
    at: u32,
    /// The height of the file's picture, whatever the shrink.
    full_height: u32,
}

// SAFETY: libjpeg's decompressor keeps all its state in its own struct and the memory its
// memory manager allocated for it (no globals, nothing tied to the thread that made it), and
// its hooks report to the thread that makes each call (`libjpeg` resets and reads the
// thread's warnings around one call). `JpegRows` is used by one thread at a time (`&mut`),
// so moving it to the still path's reader thread is sound.
unsafe impl Send for JpegRows {}

/// The picture `file` holds (its headers read into `header`), opened for decoding `shrink`
/// (1, 2, 4 or 8) times smaller on each side; `None` where libjpeg cannot decode it cleanly:
/// a CMYK or YCCK picture, broken headers, damage it warned of as it started.
pub fn open(mut file: File, header: &Header, shrink: u32) -> Option<JpegRows> {
    let numerator = match shrink {
        1 => 8,
        2 => 4,
        4 => 2,
        8 => 1,
        _ => return None,
    };
    if !matches!(header.sampling.len(), 1 | 3) {
        return None;
    }
    file.seek(SeekFrom::Start(0)).ok()?;
    let started = libjpeg(|| {
        // SAFETY: jpeg_std_error fills in a zeroed error manager.
        let mut err: mozjpeg_sys::jpeg_error_mgr = unsafe { std::mem::zeroed() };
        unsafe { mozjpeg_sys::jpeg_std_error(&mut err) };
        err.error_exit = Some(fatal);
        err.emit_message = Some(count_warning);
        let mut decoder = mozjpeg::Decompress::with_err(err).from_file(file)?;
        decoder.scale(numerator);
        match decoder.image()? {
            mozjpeg::Format::RGB(d) => Ok(Some((d, 3))),
            mozjpeg::Format::Gray(d) => Ok(Some((d, 1))),
            mozjpeg::Format::CMYK(_) => Ok(None),
        }
    });
    let (decoder, channels) = started.ok().flatten()?;
    let (w, h) = (decoder.width() as u32, decoder.height() as u32);
    let format = super::rows::picture_format(w, h, channels, false);
    Some(JpegRows {
        decoder: Some(decoder),
        format,
        channels,
        at: 0,
        full_height: header.height,
    })
}

impl JpegRows {
    /// The picture's format, at the size it decodes to.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next `rows` rows (fewer at the bottom); where libjpeg found damage, what and where
    /// in the user's words. After the last row, the rest of the file is read to its end marker.
    pub fn read(&mut self, rows: u32) -> Result<Frame, String> {
        let (w, h) = (self.format.width, self.format.height);
        let rows = rows.min(h - self.at);
        if rows == 0 {
            return Ok(Frame::from_interleaved(
                w,
                0,
                self.channels,
                8,
                Samples::U8(Vec::new()),
            ));
        }
        let Some(decoder) = self.decoder.as_mut() else {
            return Err("libjpeg stopped at earlier damage".into());
        };
        let mut bytes = vec![0u8; w as usize * rows as usize * self.channels];
        // Row by row, so that damage is placed in the row of blocks libjpeg was reading, in the
        // file's rows whatever the shrink: a file is reported alike however it is decoded.
        let row_bytes = w as usize * self.channels;
        for row in bytes.chunks_exact_mut(row_bytes) {
            if let Err(warned) = libjpeg(|| decoder.read_scanlines_into(row).map(|_| ())) {
                self.decoder = None;
                let (at, full) = (warned.row.min(self.full_height), self.full_height);
                return Err(if warned.code == mozjpeg_sys::JWRN_JPEG_EOF {
                    format!("the data ends before row {at} of {full} (cut short)")
                } else {
                    format!("corrupt data from row {at} of {full}")
                });
            }
        }
        self.at += rows;
        if self.at == h {
            let decoder = self.decoder.take().expect("decoding");
            libjpeg(|| decoder.finish()).map_err(|warned| {
                if warned.code == mozjpeg_sys::JWRN_JPEG_EOF {
                    "the data ends early, without its end marker (cut short)".to_string()
                } else {
                    "corrupt data after the last row".to_string()
                }
            })?;
        }
        Ok(Frame::from_interleaved(
            w,
            rows,
            self.channels,
            8,
            Samples::U8(bytes),
        ))
    }
}

/// The JPEG at `path` decoded whole by libjpeg, `shrink` (1, 2, 4 or 8) times smaller on each
/// side, with its headers; `None` where libjpeg cannot decode it cleanly (see [`open`]) or the
/// decoded picture would take more than `max_bytes`, for the caller to read it with the
/// decoder that says why.
pub fn read_whole(path: &Path, max_bytes: u64, shrink: u32) -> Option<(Frame, Header)> {
    let mut file = File::open(path).ok()?;
    let header = header(&mut BufReader::new(&mut file)).ok()?;
    let mut rows = open(file, &header, shrink)?;
    let format = rows.format();
    if format.samples_len() as u64 > max_bytes {
        return None;
    }
    let mut frame = Frame::new(format);
    const BAND: u32 = 64;
    let mut y = 0;
    while y < format.height {
        let band = rows.read(BAND).ok()?;
        frame.put_rows(y, &band, 0..band.height());
        y += band.height();
    }
    Some((frame, header))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coefficients_follow_the_sampling() {
        // 4:2:0: luma in 2×2 blocks of 8 per MCU, one block of each chroma.
        let yuv420 = [(2, 2), (1, 1), (1, 1)];
        assert_eq!(coefficient_bytes(16, 16, &yuv420), 6 * 128);
        // Padded to whole MCUs.
        assert_eq!(coefficient_bytes(17, 16, &yuv420), 12 * 128);
        assert_eq!(coefficient_bytes(8, 8, &[(1, 1)]), 128);
    }
}
