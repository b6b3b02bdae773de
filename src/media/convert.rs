//! Where FFmpeg's pixel formats meet tessera's frames.
//!
//! A decoded picture in a planar format tessera keeps (Y′CbCr at any subsampling, RGB, grey,
//! with or without alpha, 8 to 16 bits, native-endian) becomes a frame that reads the picture's
//! planes in place: no copy, no conversion ([`Intake`]). Other layouts (NV12, P010, packed RGB,
//! paletted) are converted once, by swscale, to the nearest planar one. On the way out
//! ([`Outlet`]) a frame whose format the encoder takes is copied plane for plane into the
//! encoder's picture; only a frame the encoder cannot take (RGB into H.264, 10 bits into an
//! 8-bit encoder) is converted, with the frame's matrix and range. This module owns the
//! swscale contexts and the mapping between FFmpeg's formats and [`Format`]: no files, no
//! codecs.

use std::ffi::c_int;
use std::ptr::{self, NonNull};
use std::sync::Arc;

use ffmpeg::ffi::{
    self, AVChromaLocation, AVColorRange, AVColorSpace, AVPixelFormat, SwsContext, SWS_BICUBIC,
    SWS_CS_BT2020, SWS_CS_ITU601, SWS_CS_ITU709,
};
use ffmpeg_next as ffmpeg;

use crate::frame::{Colour, Family, Format, Frame, Layout, Matrix, Picture, PlaneRef, Siting};

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

/// The format FFmpeg calls `name`, if any.
pub fn format_named(name: &str) -> Option<AVPixelFormat> {
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: looks a NUL-terminated name up in FFmpeg's static table.
    let format = unsafe { ffi::av_get_pix_fmt(name.as_ptr()) };
    (format != AVPixelFormat::AV_PIX_FMT_NONE).then_some(format)
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

/// FFmpeg's full-range `yuvj` formats.
pub fn is_yuvj(format: AVPixelFormat) -> bool {
    matches!(
        format,
        AVPixelFormat::AV_PIX_FMT_YUVJ420P
            | AVPixelFormat::AV_PIX_FMT_YUVJ422P
            | AVPixelFormat::AV_PIX_FMT_YUVJ444P
            | AVPixelFormat::AV_PIX_FMT_YUVJ440P
            | AVPixelFormat::AV_PIX_FMT_YUVJ411P
    )
}

/// True for RGB pixel formats (packed or planar).
pub fn is_rgb(format: AVPixelFormat) -> bool {
    // SAFETY: returns NULL or a static descriptor.
    unsafe {
        let desc = ffi::av_pix_fmt_desc_get(format);
        !desc.is_null() && (*desc).flags & ffi::AV_PIX_FMT_FLAG_RGB as u64 != 0
    }
}

/// The colour description of a stream from its tags. An untagged matrix is BT.601 below 720
/// lines and BT.709 from 720 up, as players assume; an untagged range is limited, except for
/// the full-range `yuvj` formats; untagged chroma of 4:2:0 video is left-sited (H.264's
/// default), of JPEG-range video centred. RGB streams are full range, with BT.709 for the
/// filters defined on Y′CbCr.
pub fn stream_colour(
    space: AVColorSpace,
    range: AVColorRange,
    primaries: ffi::AVColorPrimaries,
    transfer: ffi::AVColorTransferCharacteristic,
    location: AVChromaLocation,
    format: AVPixelFormat,
    height: u32,
) -> Colour {
    use AVColorSpace::*;
    let matrix = match space {
        AVCOL_SPC_BT709 => Matrix::Bt709,
        AVCOL_SPC_BT470BG | AVCOL_SPC_SMPTE170M | AVCOL_SPC_FCC => Matrix::Bt601,
        AVCOL_SPC_BT2020_NCL | AVCOL_SPC_BT2020_CL => Matrix::Bt2020,
        _ if height < 720 && !is_rgb(format) => Matrix::Bt601,
        _ => Matrix::Bt709,
    };
    let jpeg = is_yuvj(format) || range == AVColorRange::AVCOL_RANGE_JPEG;
    let siting = match location {
        AVChromaLocation::AVCHROMA_LOC_LEFT => Siting::Left,
        AVChromaLocation::AVCHROMA_LOC_CENTER => Siting::Center,
        AVChromaLocation::AVCHROMA_LOC_TOPLEFT => Siting::TopLeft,
        AVChromaLocation::AVCHROMA_LOC_TOP => Siting::Top,
        AVChromaLocation::AVCHROMA_LOC_BOTTOMLEFT => Siting::BottomLeft,
        AVChromaLocation::AVCHROMA_LOC_BOTTOM => Siting::Bottom,
        _ if jpeg => Siting::Center,
        _ => Siting::Left,
    };
    Colour {
        matrix,
        full_range: jpeg || is_rgb(format),
        primaries: primaries as u32 as u8,
        transfer: transfer as u32 as u8,
        siting,
    }
}

/// The tags an encoder writes for `colour`.
pub fn space_tag(colour: &Colour) -> AVColorSpace {
    match colour.matrix {
        Matrix::Bt601 => AVColorSpace::AVCOL_SPC_SMPTE170M,
        Matrix::Bt709 => AVColorSpace::AVCOL_SPC_BT709,
        Matrix::Bt2020 => AVColorSpace::AVCOL_SPC_BT2020_NCL,
    }
}

pub fn range_tag(colour: &Colour) -> AVColorRange {
    if colour.full_range {
        AVColorRange::AVCOL_RANGE_JPEG
    } else {
        AVColorRange::AVCOL_RANGE_MPEG
    }
}

pub fn location_tag(colour: &Colour) -> AVChromaLocation {
    match colour.siting {
        Siting::Left => AVChromaLocation::AVCHROMA_LOC_LEFT,
        Siting::Center => AVChromaLocation::AVCHROMA_LOC_CENTER,
        Siting::TopLeft => AVChromaLocation::AVCHROMA_LOC_TOPLEFT,
        Siting::Top => AVChromaLocation::AVCHROMA_LOC_TOP,
        Siting::BottomLeft => AVChromaLocation::AVCHROMA_LOC_BOTTOMLEFT,
        Siting::Bottom => AVChromaLocation::AVCHROMA_LOC_BOTTOM,
    }
}

/// A planar pixel format tessera keeps as it is: its layout, depth and where each of the
/// frame's planes is among FFmpeg's (RGB frames are R, G, B; FFmpeg's `gbrp` is G, B, R).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Planar {
    pub layout: Layout,
    pub bits: u8,
    pub order: [usize; 4],
}

/// The planar layout of `format`, if tessera keeps pictures of it as they are: every component
/// in its own plane, one sample per 8 or 16 bits, native byte order.
pub fn planar(format: AVPixelFormat) -> Option<Planar> {
    // SAFETY: returns NULL or a static descriptor.
    let desc = unsafe { ffi::av_pix_fmt_desc_get(format).as_ref()? };
    let flags = desc.flags;
    let big_endian = flags & ffi::AV_PIX_FMT_FLAG_BE as u64 != 0;
    // Grey has one plane without being flagged planar.
    let planar = flags & ffi::AV_PIX_FMT_FLAG_PLANAR as u64 != 0 || desc.nb_components == 1;
    if !planar
        || flags
            & (ffi::AV_PIX_FMT_FLAG_PAL
                | ffi::AV_PIX_FMT_FLAG_BITSTREAM
                | ffi::AV_PIX_FMT_FLAG_HWACCEL
                | ffi::AV_PIX_FMT_FLAG_BAYER
                | ffi::AV_PIX_FMT_FLAG_FLOAT) as u64
            != 0
        || big_endian != cfg!(target_endian = "big")
    {
        return None;
    }
    let n = desc.nb_components as usize;
    let comps = &desc.comp[..n];
    let bits = comps[0].depth as u8;
    // One component per plane, each sample alone in its 8 or 16 bits.
    let step = if bits > 8 { 2 } else { 1 };
    if !(8..=16).contains(&bits)
        || comps
            .iter()
            .any(|c| c.depth as u8 != bits || c.step != step || c.offset != 0 || c.shift != 0)
    {
        return None;
    }
    let mut planes: Vec<usize> = comps.iter().map(|c| c.plane as usize).collect();
    planes.sort_unstable();
    planes.dedup();
    if planes.len() != n {
        return None;
    }
    let rgb = flags & ffi::AV_PIX_FMT_FLAG_RGB as u64 != 0;
    let alpha = flags & ffi::AV_PIX_FMT_FLAG_ALPHA as u64 != 0;
    let colours = n - alpha as usize;
    let plane = |c: usize| comps[c].plane as usize;
    let (layout, order) = match (rgb, colours) {
        (true, 3) => (
            Layout::RGB.with_alpha(alpha),
            [
                plane(0),
                plane(1),
                plane(2),
                if alpha { plane(3) } else { 0 },
            ],
        ),
        (false, 3) => (
            Layout::yuv(desc.log2_chroma_w, desc.log2_chroma_h).with_alpha(alpha),
            [
                plane(0),
                plane(1),
                plane(2),
                if alpha { plane(3) } else { 0 },
            ],
        ),
        (false, 1) => (
            Layout::GRAY.with_alpha(alpha),
            [plane(0), if alpha { plane(1) } else { 0 }, 0, 0],
        ),
        _ => return None,
    };
    Some(Planar {
        layout,
        bits,
        order,
    })
}

/// The planar format tessera converts pictures of `format` to: `format` itself when it is one
/// tessera keeps, else the nearest at the same depth (NV12 → yuv420p, P010 → yuv420p10,
/// packed RGB → gbrp, RGBA and paletted → gbrap, grey with alpha → gbrap).
pub fn nearest_planar(format: AVPixelFormat) -> AVPixelFormat {
    if planar(format).is_some() {
        return format;
    }
    // SAFETY: returns NULL or a static descriptor.
    let Some(desc) = (unsafe { ffi::av_pix_fmt_desc_get(format).as_ref() }) else {
        return AVPixelFormat::AV_PIX_FMT_YUV420P;
    };
    let depth = format_depth(format);
    let bits = match depth {
        0..=8 => 8,
        9..=10 => 10,
        11..=12 => 12,
        _ => 16,
    };
    let alpha = desc.flags & ffi::AV_PIX_FMT_FLAG_ALPHA as u64 != 0;
    let paletted = desc.flags & ffi::AV_PIX_FMT_FLAG_PAL as u64 != 0;
    let rgb = desc.flags & ffi::AV_PIX_FMT_FLAG_RGB as u64 != 0;
    let colours = desc.nb_components as usize - alpha as usize;
    let layout = if paletted {
        Layout::RGBA
    } else if rgb || (colours == 1 && alpha) {
        Layout::RGB.with_alpha(alpha)
    } else if colours == 1 {
        Layout::GRAY
    } else {
        Layout::yuv(desc.log2_chroma_w, desc.log2_chroma_h).with_alpha(alpha)
    };
    let shape = Format::new(1, 1, layout, bits, Colour::RGB);
    pix_fmt_of(&shape)
        .or_else(|| pix_fmt_of(&Format::new(1, 1, layout, 16, Colour::RGB)))
        .unwrap_or(AVPixelFormat::AV_PIX_FMT_GBRAP16LE)
}

/// The FFmpeg pixel format whose planes are exactly a frame of `format`'s, if FFmpeg has one.
pub fn pix_fmt_of(format: &Format) -> Option<AVPixelFormat> {
    let layout = format.layout;
    let depth = match format.bits {
        8 => String::new(),
        bits => format!(
            "{bits}{}",
            if cfg!(target_endian = "big") {
                "be"
            } else {
                "le"
            }
        ),
    };
    let name = match layout.family {
        Family::Yuv => {
            let base = layout.with_alpha(layout.alpha).name();
            format!("{base}{depth}")
        }
        Family::Rgb => format!("{}{depth}", if layout.alpha { "gbrap" } else { "gbrp" }),
        Family::Gray if layout.alpha => return None,
        Family::Gray => format!("gray{depth}"),
    };
    let found = format_named(&name)?;
    planar(found).filter(|p| p.layout == layout && p.bits == format.bits)?;
    Some(found)
}

/// The frame format of pictures in `format` (planar or not: converted pictures take the
/// nearest planar format's) at `width`×`height` with `colour`.
pub fn frame_format(format: AVPixelFormat, width: u32, height: u32, colour: Colour) -> Format {
    let target = nearest_planar(format);
    let p = planar(target).expect("nearest_planar gives a planar format");
    let colour = if p.layout.family == Family::Rgb {
        Colour {
            full_range: true,
            ..colour
        }
    } else {
        colour
    };
    Format::new(width, height, p.layout, p.bits, colour)
}

/// Size and pixel format of one side of a conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub format: AVPixelFormat,
    pub width: u32,
    pub height: u32,
}

fn coefficients(matrix: Matrix) -> *const c_int {
    let cs = match matrix {
        Matrix::Bt601 => SWS_CS_ITU601,
        Matrix::Bt709 => SWS_CS_ITU709,
        Matrix::Bt2020 => SWS_CS_BT2020,
    };
    // SAFETY: returns a pointer into a static table for any colourspace number.
    unsafe { ffi::sws_getCoefficients(cs) }
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
    /// A converter from `src`, whose Y′CbCr (if it is Y′CbCr) has `src_colour`'s matrix and
    /// range, to `dst` in `dst_colour`'s; RGB is full range.
    fn new(
        src: Shape,
        dst: Shape,
        src_colour: &Colour,
        dst_colour: &Colour,
    ) -> Result<Scaler, String> {
        super::decode::init();
        let too_big =
            |s: Shape| s.width == 0 || s.height == 0 || s.width > 32768 || s.height > 32768;
        if too_big(src) || too_big(dst) {
            return Err(format!(
                "cannot convert {}x{} to {}x{} (sizes must be 1 to 32768)",
                src.width, src.height, dst.width, dst.height
            ));
        }
        // FFmpeg's own default for format conversion. Chroma is repeated going to RGB and
        // averaged coming back, which undo each other.
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
        let range =
            |f: AVPixelFormat, c: &Colour| c_int::from(c.full_range || is_rgb(f) || is_yuvj(f));
        // SAFETY: the context is valid; the tables are static. Brightness 0, contrast and
        // saturation 1.0 in 16.16 fixed point. -1 means "this conversion has no colourspace
        // details" (RGB to RGB), not a failure.
        let _ = unsafe {
            ffi::sws_setColorspaceDetails(
                scaler.ptr.as_ptr(),
                coefficients(src_colour.matrix),
                range(src.format, src_colour),
                coefficients(dst_colour.matrix),
                range(dst.format, dst_colour),
                0,
                1 << 16,
                1 << 16,
            )
        };
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
        (
            raw.data[..4]
                .iter()
                .map(|&p| p as *const u8)
                .collect::<Vec<_>>()
                .try_into()
                .expect("four planes"),
            raw.linesize[..4].try_into().expect("four strides"),
        )
    }
}

/// A decoded picture whose planes a frame reads in place.
struct Decoded {
    picture: ffmpeg::frame::Video,
    /// FFmpeg's plane of each of the frame's planes.
    order: [usize; 4],
}

// SAFETY: the picture is FFmpeg's refcounted frame, which its decoder never writes once it has
// handed it out and which lives as long as this value; every plane of the frame's format exists
// with a positive stride (checked in `Intake::convert` before one is made).
unsafe impl Picture for Decoded {
    fn plane(&self, p: usize) -> (*const u8, usize) {
        let (data, strides) = picture_planes(&self.picture);
        let q = self.order[p];
        (data[q], strides[q] as usize)
    }
}

/// Decoded pictures → frames of one fixed format, the one the plan was compiled for: read in
/// place where the picture is already in it, converted otherwise (another layout, or a stream
/// that changes size or format midway, which is scaled back to the first).
pub struct Intake {
    format: Format,
    /// The frame's planes as an FFmpeg format, for conversions.
    pix_fmt: AVPixelFormat,
    scaler: Option<Scaler>,
}

impl Intake {
    pub fn new(format: Format) -> Intake {
        let pix_fmt = pix_fmt_of(&format).expect("stream formats come from `frame_format`");
        Intake {
            format,
            pix_fmt,
            scaler: None,
        }
    }

    /// The frame of one picture; `index` and `pts` go onto it.
    pub fn convert(
        &mut self,
        picture: ffmpeg::frame::Video,
        index: u64,
        pts: Option<i64>,
    ) -> Result<Frame, String> {
        let src = picture_shape(&picture);
        let (planes, strides) = picture_planes(&picture);
        if src.format == AVPixelFormat::AV_PIX_FMT_NONE || planes[0].is_null() {
            return Err("the decoder returned an empty picture".to_string());
        }
        let dst = Shape {
            format: self.pix_fmt,
            width: self.format.width,
            height: self.format.height,
        };
        if src == dst {
            let layout = planar(src.format).expect("the frame's own format is planar");
            let n = self.format.planes();
            let usable = (0..n).all(|p| {
                let q = layout.order[p];
                !planes[q].is_null() && strides[q] > 0
            });
            if usable {
                let mut frame = Frame::shared(
                    self.format,
                    Arc::new(Decoded {
                        picture,
                        order: layout.order,
                    }),
                );
                frame.index = index;
                frame.pts = pts;
                return Ok(frame);
            }
        }
        let scaler = match &mut self.scaler {
            Some(s) if s.src == src && s.dst == dst => s,
            slot => slot.insert(Scaler::new(
                src,
                dst,
                &self.format.colour,
                &self.format.colour,
            )?),
        };
        // Into a picture of FFmpeg's own (whose rows are padded as swscale's vector code
        // writes them), which the frame then reads in place.
        let converted = ffmpeg::frame::Video::new(self.pix_fmt.into(), dst.width, dst.height);
        let (out_planes, out_strides) = picture_planes(&converted);
        if out_planes[0].is_null() {
            return Err(format!(
                "out of memory for a {}x{} picture",
                dst.width, dst.height
            ));
        }
        let out_planes = out_planes.map(|p| p.cast_mut());
        // SAFETY: the picture matches the scaler's source shape (checked above) and its planes
        // are FFmpeg's; `converted` was just allocated by FFmpeg in the destination shape.
        unsafe { scaler.run(&planes, &strides, &out_planes, &out_strides) };
        let order = planar(self.pix_fmt)
            .expect("the frame's own format is planar")
            .order;
        let mut frame = Frame::shared(
            self.format,
            Arc::new(Decoded {
                picture: converted,
                order,
            }),
        );
        frame.index = index;
        frame.pts = pts;
        Ok(frame)
    }
}

/// Decoded pictures → straight-alpha R′G′B′A bytes at their own size, through swscale from
/// the stream's matrix and range: an overlay's pictures, which are composited in R′G′B′. Its
/// alpha is the picture's where it has one, opaque otherwise.
pub struct RgbaOutlet {
    /// The matrix and range of the pictures' Y′CbCr.
    colour: Colour,
    scaler: Option<Scaler>,
}

impl RgbaOutlet {
    pub fn new(colour: Colour) -> RgbaOutlet {
        RgbaOutlet {
            colour,
            scaler: None,
        }
    }

    /// The picture's width, height and R′G′B′A bytes, row after row.
    pub fn convert(
        &mut self,
        picture: &ffmpeg::frame::Video,
    ) -> Result<(u32, u32, Vec<u8>), String> {
        let src = picture_shape(picture);
        let (planes, strides) = picture_planes(picture);
        if src.format == AVPixelFormat::AV_PIX_FMT_NONE || planes[0].is_null() {
            return Err("the decoder returned an empty picture".to_string());
        }
        let dst = Shape {
            format: AVPixelFormat::AV_PIX_FMT_RGBA,
            width: src.width,
            height: src.height,
        };
        let scaler = match &mut self.scaler {
            Some(s) if s.src == src && s.dst == dst => s,
            slot => slot.insert(Scaler::new(src, dst, &self.colour, &Colour::RGB)?),
        };
        // Into a picture of FFmpeg's own (rows padded as swscale's vector code writes them),
        // then row by row into bytes.
        let converted = ffmpeg::frame::Video::new(dst.format.into(), dst.width, dst.height);
        let (out_planes, out_strides) = picture_planes(&converted);
        if out_planes[0].is_null() {
            return Err(format!(
                "out of memory for a {}x{} picture",
                dst.width, dst.height
            ));
        }
        // SAFETY: the picture matches the scaler's source shape (checked above) and its planes
        // are FFmpeg's; `converted` was just allocated by FFmpeg in the destination shape.
        unsafe {
            scaler.run(
                &planes,
                &strides,
                &out_planes.map(|p| p.cast_mut()),
                &out_strides,
            )
        };
        let row = dst.width as usize * 4;
        let data = converted.data(0);
        let stride = out_strides[0] as usize;
        let mut rgba = Vec::with_capacity(row * dst.height as usize);
        for y in 0..dst.height as usize {
            rgba.extend_from_slice(&data[y * stride..][..row]);
        }
        Ok((dst.width, dst.height, rgba))
    }
}

/// Frames → pictures in an encoder's pixel format: the planes copied where the encoder takes
/// the frame's format, converted otherwise, from the frame's colour to the output's.
pub struct Outlet {
    format: AVPixelFormat,
    /// The matrix and range of the output's Y′CbCr.
    colour: Colour,
    scaler: Option<Scaler>,
}

impl Outlet {
    pub fn new(format: AVPixelFormat, colour: Colour) -> Outlet {
        Outlet {
            format,
            colour,
            scaler: None,
        }
    }

    /// Writes `frame` into `picture`, which must be allocated in this outlet's format at the
    /// frame's size and be writable.
    pub fn convert(
        &mut self,
        frame: &Frame,
        picture: &mut ffmpeg::frame::Video,
    ) -> Result<(), String> {
        let f = &frame.format;
        let dst = picture_shape(picture);
        let (dst_planes, dst_strides) = picture_planes(picture);
        if dst
            != (Shape {
                format: self.format,
                width: f.width,
                height: f.height,
            })
            || dst_planes[0].is_null()
        {
            return Err(format!(
                "internal: a {} frame does not fit a {}x{} {} picture",
                f.describe(),
                dst.width,
                dst.height,
                format_name(dst.format)
            ));
        }
        let own = pix_fmt_of(f).ok_or_else(|| {
            format!(
                "a {} frame has no FFmpeg pixel format to encode from",
                f.describe()
            )
        })?;
        let order = planar(own).expect("pix_fmt_of gives planar formats").order;
        if own == self.format {
            for (p, &q) in order.iter().enumerate().take(f.planes()) {
                let stride = dst_strides[q] as usize;
                match frame.plane(p) {
                    PlaneRef::U8(src) => {
                        for y in 0..src.height {
                            // SAFETY: plane q of a writable picture of the frame's size and
                            // format holds `height` rows of at least `width` samples at `stride`.
                            let row = unsafe {
                                std::slice::from_raw_parts_mut(
                                    dst_planes[q].cast_mut().add(y * stride),
                                    src.width,
                                )
                            };
                            row.copy_from_slice(src.row(y));
                        }
                    }
                    PlaneRef::U16(src) => {
                        for y in 0..src.height {
                            // SAFETY: as above, two bytes a sample, rows 2-byte aligned.
                            let row = unsafe {
                                std::slice::from_raw_parts_mut(
                                    dst_planes[q].cast_mut().add(y * stride).cast::<u16>(),
                                    src.width,
                                )
                            };
                            row.copy_from_slice(src.row(y));
                        }
                    }
                }
            }
            return Ok(());
        }
        let src = Shape {
            format: own,
            width: f.width,
            height: f.height,
        };
        let scaler = match &mut self.scaler {
            Some(s) if s.src == src && s.dst == dst => s,
            slot => slot.insert(Scaler::new(src, dst, &f.colour, &self.colour)?),
        };
        // swscale's vector code reads past the end of rows: planes the frame owns (unpadded)
        // go through a picture of FFmpeg's own first; decoded ones are FFmpeg's already.
        let staged;
        let (mut src_planes, mut src_strides) = ([ptr::null(); 4], [0 as c_int; 4]);
        if (0..f.planes()).any(|p| frame.plane_is_owned(p)) {
            let mut copy = ffmpeg::frame::Video::new(own.into(), f.width, f.height);
            Outlet::new(own, self.colour).convert(frame, &mut copy)?;
            (src_planes, src_strides) = picture_planes(&copy);
            staged = copy;
        } else {
            for (p, &q) in order.iter().enumerate().take(f.planes()) {
                let (ptr, stride) = match frame.plane(p) {
                    PlaneRef::U8(s) => (s.data.as_ptr(), s.stride),
                    PlaneRef::U16(s) => (s.data.as_ptr().cast::<u8>(), s.stride * 2),
                };
                src_planes[q] = ptr;
                src_strides[q] = stride as c_int;
            }
            staged = ffmpeg::frame::Video::empty();
        }
        let dst_planes = dst_planes.map(|p| p as *mut u8);
        // SAFETY: each source plane holds its rows at its stride, in FFmpeg's plane order for
        // the frame's format, in a picture of FFmpeg's (`staged`, or the decoded one the frame
        // reads), alive until this returns; the destination matches the scaler's shape
        // (checked) and owns its planes.
        unsafe { scaler.run(&src_planes, &src_strides, &dst_planes, &dst_strides) };
        drop(staged);
        Ok(())
    }
}

/// `frame`'s pixels in the packed FFmpeg format `format` (`rgb24`, `rgba`, `gray`, `rgb48le`,
/// …), rows one after another with no padding: converted as the video encoder's conversion
/// converts them ([`Outlet`], from the frame's matrix and range), so that R′G′B′ equals the
/// frames of an image sequence the command line writes; R′G′B′ and grey are full range. 16-bit formats
/// come as native-endian `u16` samples. [`Packer`] does the same for a stream of frames.
pub fn packed(frame: &Frame, format: AVPixelFormat) -> Result<crate::frame::Samples, String> {
    Packer::new(format)?.pack(frame)
}

/// [`packed`] for one frame after another: the conversion (a swscale context, made again only
/// when a frame's size or colour changes) and the picture it writes into are kept from frame
/// to frame, so a 1080p stream pays neither a context's set-up nor 6 MiB of fresh memory for
/// each frame.
pub struct Packer {
    format: AVPixelFormat,
    bits: usize,
    outlet: Option<Outlet>,
    picture: Option<ffmpeg::frame::Video>,
}

// SAFETY: the picture is FFmpeg's, owned here and used through `&mut self` only, one thread at a
// time; the outlet is `Send`.
unsafe impl Send for Packer {}

impl Packer {
    /// A packer into `format`, which must be packed (one plane).
    pub fn new(format: AVPixelFormat) -> Result<Packer, String> {
        // SAFETY: a static descriptor for any format, NULL for none.
        let bits = unsafe {
            let desc = ffi::av_pix_fmt_desc_get(format);
            if desc.is_null() || (*desc).flags & ffi::AV_PIX_FMT_FLAG_PLANAR as u64 != 0 {
                return Err(format!("{} is not a packed format", format_name(format)));
            }
            ffi::av_get_bits_per_pixel(desc) as usize
        };
        Ok(Packer {
            format,
            bits,
            outlet: None,
            picture: None,
        })
    }

    /// `frame`'s pixels, as [`packed`] gives them.
    pub fn pack(&mut self, frame: &Frame) -> Result<crate::frame::Samples, String> {
        use crate::frame::Samples;
        let (w, h) = (frame.width(), frame.height());
        // Grey is the frame's luma at full range, its matrix kept.
        let colour = Colour {
            full_range: true,
            ..frame.format.colour
        };
        let outlet = match &mut self.outlet {
            Some(o) if o.colour == colour => o,
            slot => slot.insert(Outlet::new(self.format, colour)),
        };
        let picture = match &mut self.picture {
            Some(p) if p.width() == w && p.height() == h => p,
            slot => {
                let fresh = ffmpeg::frame::Video::new(self.format.into(), w, h);
                if picture_planes(&fresh).0[0].is_null() {
                    return Err(format!("out of memory for a {w}x{h} picture"));
                }
                slot.insert(fresh)
            }
        };
        outlet.convert(frame, picture)?;
        let row = w as usize * self.bits / 8;
        let stride = picture.stride(0);
        let data = picture.data(0);
        let rows = (0..h as usize).map(|y| &data[y * stride..][..row]);
        Ok(if format_depth(self.format) > 8 {
            let mut samples = Vec::with_capacity(row / 2 * h as usize);
            for bytes in rows {
                samples.extend(
                    bytes
                        .chunks_exact(2)
                        .map(|b| u16::from_ne_bytes([b[0], b[1]])),
                );
            }
            Samples::U16(samples)
        } else {
            let mut bytes = Vec::with_capacity(row * h as usize);
            for r in rows {
                bytes.extend_from_slice(r);
            }
            Samples::U8(bytes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuv_picture(format: AVPixelFormat, w: u32, h: u32, yuv: [u16; 3]) -> ffmpeg::frame::Video {
        let mut picture = ffmpeg::frame::Video::new(format.into(), w, h);
        let wide = format_depth(format) > 8;
        for (plane, value) in yuv.into_iter().enumerate() {
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
    fn planar_formats_map_to_layouts_and_back() {
        use AVPixelFormat::*;
        for (fmt, layout, bits) in [
            (AV_PIX_FMT_YUV420P, Layout::YUV420, 8),
            (AV_PIX_FMT_YUV422P10LE, Layout::YUV422, 10),
            (AV_PIX_FMT_YUVA444P16LE, Layout::YUV444.with_alpha(true), 16),
            (AV_PIX_FMT_GBRP, Layout::RGB, 8),
            (AV_PIX_FMT_GBRAP12LE, Layout::RGBA, 12),
            (AV_PIX_FMT_GRAY10LE, Layout::GRAY, 10),
            (AV_PIX_FMT_YUVJ420P, Layout::YUV420, 8),
        ] {
            let p = planar(fmt).unwrap_or_else(|| panic!("{}", format_name(fmt)));
            assert_eq!((p.layout, p.bits), (layout, bits), "{}", format_name(fmt));
            let back = pix_fmt_of(&Format::new(4, 4, layout, bits, Colour::RGB)).unwrap();
            if fmt != AV_PIX_FMT_YUVJ420P {
                assert_eq!(back, fmt);
            }
        }
        // gbrp keeps green first: the frame's red is FFmpeg's plane 2.
        assert_eq!(planar(AV_PIX_FMT_GBRP).unwrap().order[..3], [2, 0, 1]);
        for packed in [
            AV_PIX_FMT_NV12,
            AV_PIX_FMT_RGB24,
            AV_PIX_FMT_P010LE,
            AV_PIX_FMT_PAL8,
        ] {
            assert!(planar(packed).is_none(), "{}", format_name(packed));
        }
        assert_eq!(nearest_planar(AV_PIX_FMT_NV12), AV_PIX_FMT_YUV420P);
        assert_eq!(nearest_planar(AV_PIX_FMT_P010LE), AV_PIX_FMT_YUV420P10LE);
        assert_eq!(nearest_planar(AV_PIX_FMT_RGB24), AV_PIX_FMT_GBRP);
        assert_eq!(nearest_planar(AV_PIX_FMT_RGBA), AV_PIX_FMT_GBRAP);
        assert_eq!(nearest_planar(AV_PIX_FMT_PAL8), AV_PIX_FMT_GBRAP);
        assert_eq!(nearest_planar(AV_PIX_FMT_RGB48LE), AV_PIX_FMT_GBRP16LE);
    }

    #[test]
    fn matrix_follows_tags_then_height() {
        use AVColorSpace::*;
        let yuv = AVPixelFormat::AV_PIX_FMT_YUV420P;
        let colour = |space, range, format, h| {
            stream_colour(
                space,
                range,
                ffi::AVColorPrimaries::AVCOL_PRI_UNSPECIFIED,
                ffi::AVColorTransferCharacteristic::AVCOL_TRC_UNSPECIFIED,
                AVChromaLocation::AVCHROMA_LOC_UNSPECIFIED,
                format,
                h,
            )
        };
        let mpeg = AVColorRange::AVCOL_RANGE_MPEG;
        let unspecified = AVColorRange::AVCOL_RANGE_UNSPECIFIED;
        assert_eq!(
            colour(AVCOL_SPC_UNSPECIFIED, unspecified, yuv, 480).matrix,
            Matrix::Bt601
        );
        assert_eq!(
            colour(AVCOL_SPC_UNSPECIFIED, unspecified, yuv, 720).matrix,
            Matrix::Bt709
        );
        assert_eq!(
            colour(AVCOL_SPC_BT709, mpeg, yuv, 120).matrix,
            Matrix::Bt709
        );
        assert_eq!(
            colour(AVCOL_SPC_BT470BG, mpeg, yuv, 1080).matrix,
            Matrix::Bt601
        );
        assert!(!colour(AVCOL_SPC_BT709, unspecified, yuv, 120).full_range);
        assert!(colour(AVCOL_SPC_BT709, AVColorRange::AVCOL_RANGE_JPEG, yuv, 120).full_range);
        let j = colour(
            AVCOL_SPC_BT709,
            unspecified,
            AVPixelFormat::AV_PIX_FMT_YUVJ420P,
            120,
        );
        assert!(j.full_range);
        assert_eq!(j.siting, Siting::Center);
        assert_eq!(colour(AVCOL_SPC_BT709, mpeg, yuv, 120).siting, Siting::Left);
    }

    /// A planar picture becomes a frame that reads it in place, samples as they were.
    #[test]
    fn planar_pictures_are_read_in_place() {
        let fmt = AVPixelFormat::AV_PIX_FMT_YUV420P10LE;
        let colour = Colour::video(Matrix::Bt709, false);
        let format = frame_format(fmt, 8, 4, colour);
        let picture = yuv_picture(fmt, 8, 4, [940, 512, 100]);
        let frame = Intake::new(format).convert(picture, 3, Some(99)).unwrap();
        assert!(!frame.is_owned());
        assert_eq!((frame.index, frame.pts), (3, Some(99)));
        assert_eq!(frame.format.bits, 10);
        let luma = frame.plane16(0);
        assert!((0..4).all(|y| luma.row(y).iter().all(|&v| v == 940)));
        assert!(frame.plane16(2).row(1).iter().all(|&v| v == 100));
    }

    /// NV12 is converted to yuv420p once; the samples stay where they were.
    #[test]
    fn other_layouts_are_converted_to_the_nearest_planar_one() {
        let nv12 = AVPixelFormat::AV_PIX_FMT_NV12;
        let mut picture = ffmpeg::frame::Video::new(nv12.into(), 16, 8);
        picture.data_mut(0).fill(81);
        for pair in picture.data_mut(1).chunks_exact_mut(2) {
            pair.copy_from_slice(&[90, 240]);
        }
        let colour = Colour::video(Matrix::Bt601, false);
        let format = frame_format(nv12, 16, 8, colour);
        assert_eq!(format.layout, Layout::YUV420);
        let frame = Intake::new(format).convert(picture, 0, None).unwrap();
        for (p, want) in [(0, 81), (1, 90), (2, 240)] {
            let plane = frame.plane8(p);
            assert!(
                (0..plane.height).all(|y| plane.row(y).iter().all(|&v| v == want)),
                "{p}"
            );
        }
    }

    /// A frame the encoder takes as it is goes in sample for sample; RGB to Y′CbCr lands on
    /// the standard codes.
    #[test]
    fn frames_go_out_copied_or_converted() {
        let yuv = AVPixelFormat::AV_PIX_FMT_YUV420P;
        let colour = Colour::video(Matrix::Bt709, false);
        let format = frame_format(yuv, 6, 4, colour);
        let mut frame = Frame::new(format);
        for (i, v) in frame.plane8_mut(0).data.iter_mut().enumerate() {
            *v = i as u8;
        }
        let mut picture = ffmpeg::frame::Video::new(yuv.into(), 6, 4);
        Outlet::new(yuv, colour)
            .convert(&frame, &mut picture)
            .unwrap();
        let stride = picture.stride(0);
        assert_eq!(&picture.data(0)[stride..stride + 6], &[6, 7, 8, 9, 10, 11]);

        // Pure red RGB into limited-range BT.709 is Y 63, Cb 102, Cr 240 (ITU-R BT.709-6,
        // Table 4, rounded to 8 bits).
        let red = Frame::from_rgb8(4, 4, [255u8, 0, 0].repeat(16));
        let mut picture = ffmpeg::frame::Video::new(yuv.into(), 4, 4);
        Outlet::new(yuv, colour)
            .convert(&red, &mut picture)
            .unwrap();
        let (y, u, v) = (picture.data(0)[0], picture.data(1)[0], picture.data(2)[0]);
        assert!(
            y.abs_diff(63) <= 1 && u.abs_diff(102) <= 1 && v.abs_diff(240) <= 1,
            "{y} {u} {v}"
        );
    }
}
