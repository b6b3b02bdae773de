//! Pixel conversion between FFmpeg pictures and RGBA frames, through swscale.
//!
//! Decoded pictures become RGBA8 frames, or RGBA16 ones when the source is deeper than 8 bits;
//! frames become the encoder's pixel format. Both directions use the source's colour matrix and
//! range ([`Colour`]), so a run without filters keeps colours where they were. This module owns
//! the swscale contexts and nothing else: no files, no codecs.

use std::ptr::{self, NonNull};

use ffmpeg::ffi::{
    self, AVColorRange, AVColorSpace, AVPixelFormat, SwsContext, SWS_BICUBIC, SWS_CS_BT2020,
    SWS_CS_ITU601, SWS_CS_ITU709,
};
use ffmpeg_next as ffmpeg;
use std::ffi::c_int;

use super::yuv;
use crate::frame::{Depth, Frame, Pixels};

/// RGBA with 8 bits per channel, as frames hold it.
pub const RGBA8: AVPixelFormat = AVPixelFormat::AV_PIX_FMT_RGBA;
/// RGBA with 16 native-endian bits per channel, as frames hold it.
#[cfg(target_endian = "little")]
pub const RGBA16: AVPixelFormat = AVPixelFormat::AV_PIX_FMT_RGBA64LE;
#[cfg(target_endian = "big")]
pub const RGBA16: AVPixelFormat = AVPixelFormat::AV_PIX_FMT_RGBA64BE;

/// The YUV↔RGB matrix of a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Matrix {
    /// BT.601 (SD video; also FFmpeg's BT.470BG and SMPTE 170M tags).
    Bt601,
    /// BT.709 (HD video).
    Bt709,
    /// BT.2020 non-constant luminance (UHD, HDR).
    Bt2020,
}

/// How a video's YUV samples map to RGB: matrix and range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Colour {
    pub matrix: Matrix,
    /// Full range (0..=255 luma, "JPEG" range) rather than limited (16..=235, "MPEG" range).
    pub full_range: bool,
}

impl Colour {
    /// The colour of a stream from its tags. An untagged matrix is BT.601 below 720 lines and
    /// BT.709 from 720 up, as players assume; an untagged range is limited, except for the
    /// deprecated full-range `yuvj` formats.
    pub fn of_stream(
        space: AVColorSpace,
        range: AVColorRange,
        format: AVPixelFormat,
        height: u32,
    ) -> Colour {
        use AVColorSpace::*;
        let matrix = match space {
            AVCOL_SPC_BT709 => Matrix::Bt709,
            AVCOL_SPC_BT470BG | AVCOL_SPC_SMPTE170M | AVCOL_SPC_FCC => Matrix::Bt601,
            AVCOL_SPC_BT2020_NCL | AVCOL_SPC_BT2020_CL => Matrix::Bt2020,
            _ if height < 720 => Matrix::Bt601,
            _ => Matrix::Bt709,
        };
        let yuvj = matches!(
            format,
            AVPixelFormat::AV_PIX_FMT_YUVJ420P
                | AVPixelFormat::AV_PIX_FMT_YUVJ422P
                | AVPixelFormat::AV_PIX_FMT_YUVJ444P
                | AVPixelFormat::AV_PIX_FMT_YUVJ440P
                | AVPixelFormat::AV_PIX_FMT_YUVJ411P
        );
        let full_range = range == AVColorRange::AVCOL_RANGE_JPEG || yuvj;
        Colour { matrix, full_range }
    }

    /// The tag an encoder should write for this matrix.
    pub fn space_tag(self) -> AVColorSpace {
        match self.matrix {
            Matrix::Bt601 => AVColorSpace::AVCOL_SPC_SMPTE170M,
            Matrix::Bt709 => AVColorSpace::AVCOL_SPC_BT709,
            Matrix::Bt2020 => AVColorSpace::AVCOL_SPC_BT2020_NCL,
        }
    }

    pub fn range_tag(self) -> AVColorRange {
        if self.full_range {
            AVColorRange::AVCOL_RANGE_JPEG
        } else {
            AVColorRange::AVCOL_RANGE_MPEG
        }
    }

    fn coefficients(self) -> *const c_int {
        let cs = match self.matrix {
            Matrix::Bt601 => SWS_CS_ITU601,
            Matrix::Bt709 => SWS_CS_ITU709,
            Matrix::Bt2020 => SWS_CS_BT2020,
        };
        // SAFETY: returns a pointer into a static table for any colourspace number.
        unsafe { ffi::sws_getCoefficients(cs) }
    }
}

/// Size and pixel format of one side of a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub format: AVPixelFormat,
    pub width: u32,
    pub height: u32,
}

/// The name FFmpeg gives a pixel format, e.g. `yuv420p10le`.
pub fn format_name(format: AVPixelFormat) -> String {
    // SAFETY: returns NULL or a pointer to a static NUL-terminated string.
    unsafe {
        let name = ffi::av_get_pix_fmt_name(format);
        if name.is_null() {
            "unknown".to_string()
        } else {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// Bits of the deepest component of a pixel format (8 for yuv420p, 10 for yuv420p10le).
pub fn format_depth(format: AVPixelFormat) -> u32 {
    // SAFETY: returns NULL or a pointer to a static descriptor.
    unsafe {
        let desc = ffi::av_pix_fmt_desc_get(format);
        if desc.is_null() {
            return 8;
        }
        let desc = &*desc;
        desc.comp[..desc.nb_components as usize]
            .iter()
            .map(|c| c.depth as u32)
            .max()
            .unwrap_or(8)
    }
}

/// Chroma subsampling of a pixel format as (horizontal, vertical) factors: (2, 2) for 4:2:0.
pub fn chroma_subsampling(format: AVPixelFormat) -> (u32, u32) {
    // SAFETY: as in `format_depth`.
    unsafe {
        let desc = ffi::av_pix_fmt_desc_get(format);
        if desc.is_null() {
            return (1, 1);
        }
        (1 << (*desc).log2_chroma_w, 1 << (*desc).log2_chroma_h)
    }
}

/// The depth frames of a source in `format` keep between stages.
pub fn frame_depth(format: AVPixelFormat) -> Depth {
    if format_depth(format) > 8 {
        Depth::Sixteen
    } else {
        Depth::Eight
    }
}

fn rgba_format(depth: Depth) -> AVPixelFormat {
    match depth {
        Depth::Eight => RGBA8,
        Depth::Sixteen => RGBA16,
    }
}

/// One swscale context: a fixed source shape to a fixed destination shape.
struct Scaler {
    ptr: NonNull<SwsContext>,
    src: Shape,
    dst: Shape,
}

// SAFETY: a SwsContext has no thread affinity; `Scaler` owns its context, and `&mut self` on
// every use means one thread at a time works with it.
unsafe impl Send for Scaler {}

impl Scaler {
    fn new(src: Shape, dst: Shape, colour: Colour) -> Result<Scaler, String> {
        super::decode::init();
        let too_big =
            |s: Shape| s.width == 0 || s.height == 0 || s.width > 32768 || s.height > 32768;
        if too_big(src) || too_big(dst) {
            return Err(format!(
                "cannot convert {}x{} to {}x{} (sizes must be 1 to 32768)",
                src.width, src.height, dst.width, dst.height
            ));
        }
        let to_rgb = dst.format == RGBA8 || dst.format == RGBA16;
        // FFmpeg's own default for format conversion. Chroma is repeated going to RGB and
        // averaged coming back, which undo each other: a run without filters keeps the
        // source's chroma almost exactly (full chroma interpolation, SWS_FULL_CHR_H_INT, blurs
        // it twice and costs 5 dB of chroma PSNR on a round trip, and speed).
        let flags = SWS_BICUBIC;
        // SAFETY: plain constructor; returns NULL for unsupported formats or sizes.
        let raw = unsafe {
            ffi::sws_getContext(
                src.width as c_int,
                src.height as c_int,
                src.format,
                dst.width as c_int,
                dst.height as c_int,
                dst.format,
                flags,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null(),
            )
        };
        let ptr = NonNull::new(raw).ok_or_else(|| {
            format!(
                "swscale cannot convert {} to {}",
                format_name(src.format),
                format_name(dst.format)
            )
        })?;
        let scaler = Scaler { ptr, src, dst };
        let table = colour.coefficients();
        let range = c_int::from(colour.full_range);
        // RGB is always full range; the YUV side takes the video's matrix and range. swscale
        // ignores the table of an RGB side.
        let (src_range, dst_range) = if to_rgb { (range, 1) } else { (1, range) };
        // SAFETY: the context is valid; the tables are static. Brightness 0, contrast and
        // saturation 1.0 in 16.16 fixed point.
        let ok = unsafe {
            ffi::sws_setColorspaceDetails(
                scaler.ptr.as_ptr(),
                table,
                src_range,
                table,
                dst_range,
                0,
                1 << 16,
                1 << 16,
            )
        };
        // -1 means "this conversion has no colourspace details" (RGB to RGB), not a failure.
        let _ = ok;
        Ok(scaler)
    }

    /// # Safety
    /// `src` and `dst` must point to planes of `self.src` and `self.dst` shapes with the given
    /// strides (bytes per row), valid for the whole picture.
    unsafe fn run(
        &mut self,
        src: &[*const u8; 4],
        src_stride: &[c_int; 4],
        dst: &[*mut u8; 4],
        dst_stride: &[c_int; 4],
    ) {
        unsafe {
            ffi::sws_scale(
                self.ptr.as_ptr(),
                src.as_ptr(),
                src_stride.as_ptr(),
                0,
                self.src.height as c_int,
                dst.as_ptr(),
                dst_stride.as_ptr(),
            );
        }
    }
}

impl Drop for Scaler {
    fn drop(&mut self) {
        // SAFETY: the context was made by sws_getContext and is freed once.
        unsafe { ffi::sws_freeContext(self.ptr.as_ptr()) }
    }
}

/// The shape of a decoded (or to-be-encoded) picture.
fn picture_shape(picture: &ffmpeg::frame::Video) -> Shape {
    // SAFETY: reading the format field of a valid AVFrame.
    let format = unsafe { (*picture.as_ptr()).format };
    let format = if format < 0 || format >= AVPixelFormat::AV_PIX_FMT_NB as c_int {
        AVPixelFormat::AV_PIX_FMT_NONE
    } else {
        // SAFETY: checked to be inside the enum's range, which is contiguous.
        unsafe { std::mem::transmute::<c_int, AVPixelFormat>(format) }
    };
    Shape {
        format,
        width: picture.width(),
        height: picture.height(),
    }
}

fn picture_planes(picture: &ffmpeg::frame::Video) -> ([*const u8; 4], [c_int; 4]) {
    // SAFETY: reading the plane pointers and strides of a valid AVFrame.
    unsafe {
        let raw = &*picture.as_ptr();
        let data = [
            raw.data[0] as *const u8,
            raw.data[1] as *const u8,
            raw.data[2] as *const u8,
            raw.data[3] as *const u8,
        ];
        let stride = [
            raw.linesize[0],
            raw.linesize[1],
            raw.linesize[2],
            raw.linesize[3],
        ];
        (data, stride)
    }
}

/// Decoded pictures → RGBA frames of one fixed size, the size the plan was compiled for. A
/// stream that changes size or format midway is scaled back to it.
pub struct ToFrames {
    width: u32,
    height: u32,
    depth: Depth,
    colour: Colour,
    scaler: Option<Scaler>,
}

impl ToFrames {
    pub fn new(width: u32, height: u32, depth: Depth, colour: Colour) -> ToFrames {
        ToFrames {
            width,
            height,
            depth,
            colour,
            scaler: None,
        }
    }

    /// Converts one picture; `index` and `pts` go onto the frame.
    pub fn convert(
        &mut self,
        picture: &ffmpeg::frame::Video,
        index: u64,
        pts: Option<i64>,
        reuse: Option<Pixels>,
    ) -> Result<Frame, String> {
        let src = picture_shape(picture);
        let dst = Shape {
            format: rgba_format(self.depth),
            width: self.width,
            height: self.height,
        };
        let (planes, strides) = picture_planes(picture);
        if src.format == AVPixelFormat::AV_PIX_FMT_NONE || planes[0].is_null() {
            return Err("the decoder returned an empty picture".to_string());
        }
        let scaler = match &mut self.scaler {
            Some(s) if s.src == src && s.dst == dst => s,
            slot => slot.insert(Scaler::new(src, dst, self.colour)?),
        };
        // Samples of an earlier frame of the same size and depth are written over whole.
        let len = self.width as usize * self.height as usize * 4;
        let mut frame = match reuse {
            Some(pixels) if pixels.len() == len && pixels.depth() == self.depth => Frame {
                width: self.width,
                height: self.height,
                pixels,
                index,
                pts,
            },
            _ => Frame::new(self.width, self.height, self.depth),
        };
        let (out, row_bytes) = match &mut frame.pixels {
            Pixels::Rgba8(p) => (p.as_mut_ptr(), self.width as usize * 4),
            Pixels::Rgba16(p) => (p.as_mut_ptr().cast::<u8>(), self.width as usize * 8),
        };
        let dst_planes = [out, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()];
        let dst_strides = [row_bytes as c_int, 0, 0, 0];
        // SAFETY: the picture matches the scaler's source shape (checked above) and its planes
        // are FFmpeg's; the frame's buffer holds exactly height rows of row_bytes.
        unsafe { scaler.run(&planes, &strides, &dst_planes, &dst_strides) };
        frame.index = index;
        frame.pts = pts;
        Ok(frame)
    }
}

/// RGBA frames → pictures in an encoder's pixel format, with the source's colour.
pub struct FromFrames {
    format: AVPixelFormat,
    colour: Colour,
    scaler: Option<Scaler>,
}

impl FromFrames {
    pub fn new(format: AVPixelFormat, colour: Colour) -> FromFrames {
        FromFrames {
            format,
            colour,
            scaler: None,
        }
    }

    /// Writes `frame` into `picture`, which must be allocated in this converter's format at the
    /// frame's size and be writable.
    pub fn convert(
        &mut self,
        frame: &Frame,
        picture: &mut ffmpeg::frame::Video,
    ) -> Result<(), String> {
        let expected = frame.pixel_count() * 4;
        let (data, row_bytes, len) = match &frame.pixels {
            Pixels::Rgba8(p) => (p.as_ptr(), frame.width as usize * 4, p.len()),
            Pixels::Rgba16(p) => (p.as_ptr().cast::<u8>(), frame.width as usize * 8, p.len()),
        };
        if len != expected {
            return Err(format!(
                "a {}x{} frame holds {len} samples (expected {expected})",
                frame.width, frame.height
            ));
        }
        let src = Shape {
            format: rgba_format(frame.depth()),
            width: frame.width,
            height: frame.height,
        };
        let dst = picture_shape(picture);
        let (dst_planes, dst_strides) = picture_planes(picture);
        if dst
            != (Shape {
                format: self.format,
                width: frame.width,
                height: frame.height,
            })
            || dst_planes[0].is_null()
        {
            return Err(format!(
                "internal: a {}x{} frame does not fit a {}x{} {} picture",
                frame.width,
                frame.height,
                dst.width,
                dst.height,
                format_name(dst.format)
            ));
        }
        if let (Pixels::Rgba8(rgba), AVPixelFormat::AV_PIX_FMT_YUV420P) =
            (&frame.pixels, self.format)
        {
            let (w, h) = (frame.width as usize, frame.height as usize);
            let strides = dst_strides.map(|s| usize::try_from(s).unwrap_or(0));
            if strides[..3].iter().all(|&s| s > 0) && dst_planes[..3].iter().all(|p| !p.is_null()) {
                let chroma_rows = h.div_ceil(2);
                // SAFETY: the picture is allocated in YUV 4:2:0 at the frame's size (checked
                // above) and writable: each plane holds its rows at its positive stride, and
                // the planes do not overlap.
                let planes = unsafe {
                    let plane = |i: usize, rows: usize| {
                        std::slice::from_raw_parts_mut(dst_planes[i] as *mut u8, strides[i] * rows)
                    };
                    yuv::Planes420 {
                        y: (plane(0, h), strides[0]),
                        u: (plane(1, chroma_rows), strides[1]),
                        v: (plane(2, chroma_rows), strides[2]),
                    }
                };
                let k = yuv::Coefficients::new(self.colour);
                yuv::rgba8_to_yuv420(rgba, w, h, &k, planes);
                return Ok(());
            }
        }
        let scaler = match &mut self.scaler {
            Some(s) if s.src == src && s.dst == dst => s,
            slot => slot.insert(Scaler::new(src, dst, self.colour)?),
        };
        let src_planes = [data, ptr::null(), ptr::null(), ptr::null()];
        let src_strides = [row_bytes as c_int, 0, 0, 0];
        let dst_planes = dst_planes.map(|p| p as *mut u8);
        // SAFETY: the frame's buffer holds height rows of row_bytes (length checked); the
        // picture matches the scaler's destination shape (checked) and owns its planes.
        unsafe { scaler.run(&src_planes, &src_strides, &dst_planes, &dst_strides) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuv_picture(
        format: AVPixelFormat,
        w: u32,
        h: u32,
        y: u16,
        u: u16,
        v: u16,
    ) -> ffmpeg::frame::Video {
        let mut picture = ffmpeg::frame::Video::new(format.into(), w, h);
        let wide = format_depth(format) > 8;
        for (plane, value) in [(0, y), (1, u), (2, v)] {
            let data = picture.data_mut(plane);
            if wide {
                for pair in data.chunks_exact_mut(2) {
                    pair.copy_from_slice(&value.to_ne_bytes());
                }
            } else {
                data.fill(value as u8);
            }
        }
        picture
    }

    #[test]
    fn matrix_follows_tags_then_height() {
        use AVColorSpace::*;
        let yuv = AVPixelFormat::AV_PIX_FMT_YUV420P;
        let mpeg = AVColorRange::AVCOL_RANGE_MPEG;
        let unspecified = AVColorRange::AVCOL_RANGE_UNSPECIFIED;
        assert_eq!(
            Colour::of_stream(AVCOL_SPC_UNSPECIFIED, unspecified, yuv, 480).matrix,
            Matrix::Bt601
        );
        assert_eq!(
            Colour::of_stream(AVCOL_SPC_UNSPECIFIED, unspecified, yuv, 720).matrix,
            Matrix::Bt709
        );
        assert_eq!(
            Colour::of_stream(AVCOL_SPC_BT709, mpeg, yuv, 120).matrix,
            Matrix::Bt709
        );
        assert_eq!(
            Colour::of_stream(AVCOL_SPC_BT470BG, mpeg, yuv, 1080).matrix,
            Matrix::Bt601
        );
        assert!(!Colour::of_stream(AVCOL_SPC_BT709, unspecified, yuv, 120).full_range);
        assert!(
            Colour::of_stream(AVCOL_SPC_BT709, AVColorRange::AVCOL_RANGE_JPEG, yuv, 120).full_range
        );
        assert!(
            Colour::of_stream(
                AVCOL_SPC_BT709,
                unspecified,
                AVPixelFormat::AV_PIX_FMT_YUVJ420P,
                120
            )
            .full_range
        );
    }

    #[test]
    fn limited_range_grey_and_colours_convert_with_their_matrix() {
        let limited601 = Colour {
            matrix: Matrix::Bt601,
            full_range: false,
        };
        let limited709 = Colour {
            matrix: Matrix::Bt709,
            full_range: false,
        };
        let yuv = AVPixelFormat::AV_PIX_FMT_YUV420P;
        // Limited-range black, white and mid grey.
        for (y, rgb) in [(16u16, 0u8), (235, 255), (126, 128)] {
            let picture = yuv_picture(yuv, 16, 8, y, 128, 128);
            let frame = ToFrames::new(16, 8, Depth::Eight, limited601)
                .convert(&picture, 3, Some(99), None)
                .unwrap();
            assert_eq!((frame.index, frame.pts), (3, Some(99)));
            let Pixels::Rgba8(p) = &frame.pixels else {
                unreachable!()
            };
            for px in p.chunks_exact(4) {
                assert!(
                    px[..3].iter().all(|&c| c.abs_diff(rgb) <= 1) && px[3] == 255,
                    "y={y}: {px:?}"
                );
            }
        }
        // BT.601 pure red is Y 81, Cb 90, Cr 240; the same samples read as BT.709 are orange.
        let picture = yuv_picture(yuv, 16, 8, 81, 90, 240);
        let red = ToFrames::new(16, 8, Depth::Eight, limited601)
            .convert(&picture, 0, None, None)
            .unwrap();
        let Pixels::Rgba8(p) = &red.pixels else {
            unreachable!()
        };
        assert!(
            p[0] >= 250 && p[1] <= 3 && p[2] <= 3,
            "601 red: {:?}",
            &p[..4]
        );
        let other = ToFrames::new(16, 8, Depth::Eight, limited709)
            .convert(&picture, 0, None, None)
            .unwrap();
        let Pixels::Rgba8(q) = &other.pixels else {
            unreachable!()
        };
        assert!(
            q[1] >= 20,
            "709 reading of 601 red should have green: {:?}",
            &q[..4]
        );
    }

    #[test]
    fn ten_bit_sources_become_16_bit_frames_and_round_trip() {
        let yuv10 = AVPixelFormat::AV_PIX_FMT_YUV420P10LE;
        assert_eq!(frame_depth(yuv10), Depth::Sixteen);
        assert_eq!(frame_depth(AVPixelFormat::AV_PIX_FMT_YUV420P), Depth::Eight);
        let colour = Colour {
            matrix: Matrix::Bt709,
            full_range: false,
        };
        // 10-bit limited white is 940; grey 512.
        let picture = yuv_picture(yuv10, 8, 4, 940, 512, 512);
        let frame = ToFrames::new(8, 4, Depth::Sixteen, colour)
            .convert(&picture, 0, None, None)
            .unwrap();
        let Pixels::Rgba16(p) = &frame.pixels else {
            panic!("expected RGBA16")
        };
        assert!(
            p.chunks_exact(4).all(|px| px[0] >= 65000 && px[3] == 65535),
            "{:?}",
            &p[..4]
        );

        // And back: RGBA16 → yuv420p10le gives the same samples.
        let mut out = ffmpeg::frame::Video::new(yuv10.into(), 8, 4);
        FromFrames::new(yuv10, colour)
            .convert(&frame, &mut out)
            .unwrap();
        let stride = out.stride(0);
        let data = out.data(0);
        let luma: Vec<u16> = (0..4)
            .flat_map(|y| (0..8).map(move |x| y * stride + x * 2))
            .map(|i| u16::from_ne_bytes([data[i], data[i + 1]]))
            .collect();
        assert!(luma.iter().all(|&v| v.abs_diff(940) <= 1), "{luma:?}");
    }

    #[test]
    fn rgba_to_yuv_to_rgba_is_close() {
        let colour = Colour {
            matrix: Matrix::Bt709,
            full_range: false,
        };
        let (w, h) = (32u32, 16u32);
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                // Constant over each 2×2 block, so that 4:2:0 chroma loses nothing.
                let (bx, by) = (x / 2, y / 2);
                data.extend_from_slice(&[(bx * 12 + 20) as u8, (by * 16 + 30) as u8, 120, 255]);
            }
        }
        let frame = Frame::from_rgba8(w, h, data);
        let yuv = AVPixelFormat::AV_PIX_FMT_YUV420P;
        let mut picture = ffmpeg::frame::Video::new(yuv.into(), w, h);
        FromFrames::new(yuv, colour)
            .convert(&frame, &mut picture)
            .unwrap();
        let back = ToFrames::new(w, h, Depth::Eight, colour)
            .convert(&picture, 0, None, None)
            .unwrap();
        let diff = back.max_abs_diff(&frame).unwrap();
        // Limited range has 219 luma and 224 chroma levels: a code value or two of rounding
        // each way, a little more where the vertical chroma filter meets a block edge.
        assert!(diff <= 4, "round trip off by {diff}");
    }

    #[test]
    fn mismatched_pictures_are_errors() {
        let colour = Colour {
            matrix: Matrix::Bt709,
            full_range: false,
        };
        let frame = Frame::new(8, 8, Depth::Eight);
        let yuv = AVPixelFormat::AV_PIX_FMT_YUV420P;
        let mut small = ffmpeg::frame::Video::new(yuv.into(), 4, 4);
        assert!(FromFrames::new(yuv, colour)
            .convert(&frame, &mut small)
            .is_err());
        let empty = ffmpeg::frame::Video::empty();
        assert!(ToFrames::new(8, 8, Depth::Eight, colour)
            .convert(&empty, 0, None, None)
            .is_err());
    }
}
