//! Frames as they travel between stages: planes in the layout the source gave them.
//!
//! A [`Frame`] is a set of planes described by its [`Format`]: Y′CbCr at any chroma subsampling
//! (4:2:0, 4:2:2, 4:4:4, …), RGB or grey, each with an optional alpha plane, at 8 to 16 bits,
//! with its colour description (matrix, range, transfer, primaries, chroma siting). Decoded
//! video keeps the decoder's planes (read in place through [`Picture`], no copy); images are RGB
//! planes. Samples are code values as the source stores them: `u8` at 8 bits, `u16` holding the
//! value itself above (a 10-bit sample is 0..=1023, not widened to 16 bits).
//!
//! The format alone answers every "how big is this plane" question ([`Format::plane_size`]):
//! filters, plans and backends never compute plane geometry themselves. This module knows
//! nothing of FFmpeg, filters or backends.

use std::sync::Arc;

pub mod weave;

use weave::Weave;

/// What the planes of a frame hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// Luma, then the two colour differences Cb and Cr (possibly subsampled).
    Yuv,
    /// Red, green and blue, full resolution.
    Rgb,
    /// Luma only.
    Gray,
}

/// The planes of a frame: their family, the chroma subsampling and whether alpha follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    pub family: Family,
    /// log2 of the chroma subsampling, horizontally and vertically: (1, 1) for 4:2:0, (1, 0)
    /// for 4:2:2, (0, 0) for 4:4:4. Always (0, 0) for RGB and grey.
    pub chroma_shift: (u8, u8),
    /// An alpha plane follows the colour planes, at full resolution.
    pub alpha: bool,
}

impl Layout {
    pub const YUV420: Layout = Layout::yuv(1, 1);
    pub const YUV422: Layout = Layout::yuv(1, 0);
    pub const YUV444: Layout = Layout::yuv(0, 0);
    pub const RGB: Layout = Layout {
        family: Family::Rgb,
        chroma_shift: (0, 0),
        alpha: false,
    };
    pub const RGBA: Layout = Layout {
        alpha: true,
        ..Layout::RGB
    };
    pub const GRAY: Layout = Layout {
        family: Family::Gray,
        chroma_shift: (0, 0),
        alpha: false,
    };

    /// Y′CbCr with chroma subsampled by 2^h horizontally and 2^v vertically, no alpha.
    pub const fn yuv(h: u8, v: u8) -> Layout {
        Layout {
            family: Family::Yuv,
            chroma_shift: (h, v),
            alpha: false,
        }
    }

    pub const fn with_alpha(self, alpha: bool) -> Layout {
        Layout { alpha, ..self }
    }

    /// Colour planes: 3, or 1 for grey.
    pub fn colour_planes(self) -> usize {
        match self.family {
            Family::Gray => 1,
            Family::Yuv | Family::Rgb => 3,
        }
    }

    /// Every plane, alpha included.
    pub fn planes(self) -> usize {
        self.colour_planes() + self.alpha as usize
    }

    /// The index of the alpha plane, if there is one.
    pub fn alpha_plane(self) -> Option<usize> {
        self.alpha.then(|| self.colour_planes())
    }

    /// What plane `p` holds.
    pub fn role(self, p: usize) -> Role {
        if Some(p) == self.alpha_plane() {
            return Role::Alpha;
        }
        match (self.family, p) {
            (Family::Yuv, 0) | (Family::Gray, 0) => Role::Luma,
            (Family::Yuv, 1) => Role::Cb,
            (Family::Yuv, 2) => Role::Cr,
            (Family::Rgb, 0) => Role::Red,
            (Family::Rgb, 1) => Role::Green,
            (Family::Rgb, 2) => Role::Blue,
            _ => panic!("{self:?} has no plane {p}"),
        }
    }

    /// The subsampling of plane `p` as shifts (0 for every plane but Y′CbCr chroma).
    pub fn shift(self, p: usize) -> (u8, u8) {
        match self.role(p) {
            Role::Cb | Role::Cr => self.chroma_shift,
            _ => (0, 0),
        }
    }

    /// The name FFmpeg gives the layout at 8 bits (`yuv420p`, `yuva444p`, `gbrp`, `gray`), or
    /// a description where FFmpeg has none.
    pub fn name(self) -> String {
        match self.family {
            Family::Yuv => {
                let a = if self.alpha { "a" } else { "" };
                let sub = match self.chroma_shift {
                    (0, 0) => "444",
                    (1, 0) => "422",
                    (1, 1) => "420",
                    (0, 1) => "440",
                    (2, 0) => "411",
                    (2, 2) => "410",
                    (h, v) => return format!("yuv{a} (chroma 1/{}x1/{})", 1 << h, 1 << v),
                };
                format!("yuv{a}{sub}p")
            }
            Family::Rgb if self.alpha => "gbrap".into(),
            Family::Rgb => "gbrp".into(),
            Family::Gray if self.alpha => "ya".into(),
            Family::Gray => "gray".into(),
        }
    }
}

/// What one plane holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Luma,
    Cb,
    Cr,
    Red,
    Green,
    Blue,
    Alpha,
}

impl Role {
    pub fn is_chroma(self) -> bool {
        matches!(self, Role::Cb | Role::Cr)
    }
}

/// The Y′CbCr ↔ R′G′B′ matrix of a frame. RGB frames carry one too: the matrix their
/// Y′CbCr-defined filters (eq, grayscale, invert) work through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Matrix {
    /// BT.601 (SD video; also FFmpeg's BT.470BG and SMPTE 170M tags).
    Bt601,
    /// BT.709 (HD video; photos).
    Bt709,
    /// BT.2020 non-constant luminance (UHD, HDR).
    Bt2020,
}

impl Matrix {
    /// Kr and Kb (ITU-R BT.601, BT.709, BT.2020).
    pub fn kr_kb(self) -> (f64, f64) {
        match self {
            Matrix::Bt601 => (0.299, 0.114),
            Matrix::Bt709 => (0.2126, 0.0722),
            Matrix::Bt2020 => (0.2627, 0.0593),
        }
    }
}

/// Where a subsampled chroma sample sits relative to the luma samples it covers (FFmpeg's
/// `chroma_location`, H.273's chroma sample location type).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Siting {
    /// Horizontally with the left luma sample, vertically between the rows: MPEG-2, H.264 and
    /// HEVC's default (type 0), and what FFmpeg assumes for unspecified 4:2:0 video.
    #[default]
    Left,
    /// Between the luma samples both ways: JPEG and MPEG-1 (type 1).
    Center,
    /// With the top-left luma sample: BT.2020 and 4:2:2 broadcast (type 2).
    TopLeft,
    /// Between horizontally, with the top row (type 3).
    Top,
    /// With the bottom-left luma sample (type 4).
    BottomLeft,
    /// Between horizontally, with the bottom row (type 5).
    Bottom,
}

impl Siting {
    /// The siting of the same chroma once the picture is transposed (its axes swapped): left
    /// and top sitings trade places. H.273 has no chroma sited at the right, so the two
    /// bottom sitings, which would need it, become the nearest there is (bottom-left → top,
    /// bottom → centre).
    pub fn transposed(self) -> Siting {
        match self {
            Siting::Left => Siting::Top,
            Siting::Top => Siting::Left,
            Siting::Center => Siting::Center,
            Siting::TopLeft => Siting::TopLeft,
            Siting::BottomLeft => Siting::Top,
            Siting::Bottom => Siting::Center,
        }
    }

    /// The position of chroma sample 0 along an axis subsampled by `factor`, in luma samples
    /// from the centre of luma sample 0 (0 = with it, 0.5 between it and the next).
    pub fn offset(self, horizontal: bool, factor: u32) -> f64 {
        let between = (factor as f64 - 1.0) / 2.0;
        match (self, horizontal) {
            (Siting::Left | Siting::TopLeft | Siting::BottomLeft, true) => 0.0,
            (Siting::Center | Siting::Top | Siting::Bottom, true) => between,
            (Siting::Left | Siting::Center, false) => between,
            (Siting::TopLeft | Siting::Top, false) => 0.0,
            (Siting::BottomLeft | Siting::Bottom, false) => factor as f64 - 1.0,
        }
    }
}

/// How a frame's code values map to colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Colour {
    pub matrix: Matrix,
    /// Full range (luma 0..=max, JPEG's) rather than limited (16..=235 at 8 bits, MPEG's).
    /// RGB frames are always full range.
    pub full_range: bool,
    /// H.273 colour primaries (1 BT.709, 9 BT.2020, 2 unspecified, …), kept for the encoder.
    pub primaries: u8,
    /// H.273 transfer characteristics (1 BT.709, 13 sRGB, 16 PQ, 18 HLG, 2 unspecified, …).
    pub transfer: u8,
    /// Where subsampled chroma sits.
    pub siting: Siting,
}

impl Colour {
    /// H.273's "unspecified".
    pub const UNSPECIFIED: u8 = 2;

    /// Untagged full-range RGB, as photos are: BT.709 for the filters defined in Y′CbCr.
    pub const RGB: Colour = Colour {
        matrix: Matrix::Bt709,
        full_range: true,
        primaries: Colour::UNSPECIFIED,
        transfer: Colour::UNSPECIFIED,
        siting: Siting::Center,
    };

    /// Video with `matrix` and range, its other tags unspecified and chroma left-sited.
    pub const fn video(matrix: Matrix, full_range: bool) -> Colour {
        Colour {
            matrix,
            full_range,
            primaries: Colour::UNSPECIFIED,
            transfer: Colour::UNSPECIFIED,
            siting: Siting::Left,
        }
    }
}

/// Everything about a frame but its samples: size, planes, depth and colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    pub width: u32,
    pub height: u32,
    pub layout: Layout,
    /// Bits per sample: 8 to 16. Samples are `u8` at 8 bits, `u16` above.
    pub bits: u8,
    pub colour: Colour,
}

impl Format {
    /// A format of `layout` at `bits`, with `colour`.
    pub fn new(width: u32, height: u32, layout: Layout, bits: u8, colour: Colour) -> Format {
        assert!((8..=16).contains(&bits), "{bits}-bit samples");
        Format {
            width,
            height,
            layout,
            bits,
            colour,
        }
    }

    /// Full-range RGB at `bits`, with alpha where asked: what images become.
    pub fn rgb(width: u32, height: u32, bits: u8, alpha: bool) -> Format {
        Format::new(
            width,
            height,
            Layout::RGB.with_alpha(alpha),
            bits,
            Colour::RGB,
        )
    }

    pub fn planes(&self) -> usize {
        self.layout.planes()
    }

    pub fn role(&self, p: usize) -> Role {
        self.layout.role(p)
    }

    /// Width and height of plane `p`: the frame's, or for subsampled chroma the frame's divided
    /// by the subsampling, rounded up (a 1919×1079 4:2:0 frame has 960×540 chroma).
    pub fn plane_size(&self, p: usize) -> (u32, u32) {
        let (h, v) = self.layout.shift(p);
        (self.width.div_ceil(1 << h), self.height.div_ceil(1 << v))
    }

    /// Samples of plane `p`.
    pub fn plane_len(&self, p: usize) -> usize {
        let (w, h) = self.plane_size(p);
        w as usize * h as usize
    }

    /// Samples of every plane, as an owned frame holds them (planes one after another, rows
    /// without padding).
    pub fn samples_len(&self) -> usize {
        (0..self.planes()).map(|p| self.plane_len(p)).sum()
    }

    /// Where plane `p` starts in an owned frame's samples.
    pub fn plane_offset(&self, p: usize) -> usize {
        (0..p).map(|q| self.plane_len(q)).sum()
    }

    /// True when samples are stored as `u16` (more than 8 bits).
    pub fn is_wide(&self) -> bool {
        self.bits > 8
    }

    /// The largest code value.
    pub fn max_code(&self) -> u32 {
        (1u32 << self.bits) - 1
    }

    /// Code values per 8-bit code value: 2^(bits − 8) (4 at 10 bits).
    pub fn unit(&self) -> f64 {
        (1u32 << (self.bits - 8)) as f64
    }

    /// The code value that means zero in plane `p`: limited-range black for luma (16 at 8
    /// bits), the neutral value for chroma (128 at 8 bits, either range), 0 for RGB and alpha.
    pub fn zero(&self, p: usize) -> f64 {
        match self.role(p) {
            Role::Luma if !self.colour.full_range => 16.0 * self.unit(),
            Role::Cb | Role::Cr => 128.0 * self.unit(),
            _ => 0.0,
        }
    }

    /// The code values between zero and nominal one of plane `p` (219 for limited-range luma at
    /// 8 bits, 224 for limited chroma, the largest code for full range, RGB and alpha): a
    /// normalised value v is the code `zero + v · scale`.
    pub fn scale(&self, p: usize) -> f64 {
        match self.role(p) {
            Role::Luma if !self.colour.full_range => 219.0 * self.unit(),
            Role::Cb | Role::Cr if !self.colour.full_range => 224.0 * self.unit(),
            _ => self.max_code() as f64,
        }
    }

    /// The same format at another size.
    pub fn with_size(&self, width: u32, height: u32) -> Format {
        Format {
            width,
            height,
            ..*self
        }
    }

    /// The same format with or without an alpha plane.
    pub fn with_alpha(&self, alpha: bool) -> Format {
        Format {
            layout: self.layout.with_alpha(alpha),
            ..*self
        }
    }

    /// A short description: `1920x1080 yuv420p10 (limited, BT.709)`.
    pub fn describe(&self) -> String {
        let depth = if self.bits == 8 {
            String::new()
        } else {
            self.bits.to_string()
        };
        let colour = match self.layout.family {
            Family::Rgb => String::new(),
            _ => format!(
                " ({}, {:?})",
                if self.colour.full_range {
                    "full"
                } else {
                    "limited"
                },
                self.colour.matrix
            ),
        };
        format!(
            "{}x{} {}{depth}{colour}",
            self.width,
            self.height,
            self.layout.name()
        )
    }
}

/// Samples of one plane a frame owns: rows one after another, unpadded.
#[derive(Clone, Debug, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
}

impl Samples {
    pub fn len(&self) -> usize {
        match self {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_wide(&self) -> bool {
        matches!(self, Samples::U16(_))
    }

    /// Bytes of memory held (capacity, not length).
    pub fn capacity_bytes(&self) -> usize {
        match self {
            Samples::U8(v) => v.capacity(),
            Samples::U16(v) => v.capacity() * 2,
        }
    }

    /// `len` samples, `u16` when `wide`, reusing `spare` where it is of the right type. Samples
    /// kept from `spare` are not cleared: callers write every sample before reading it.
    pub fn sized(len: usize, wide: bool, spare: Option<Samples>) -> Samples {
        match (spare, wide) {
            (Some(Samples::U8(mut v)), false) => {
                v.resize(len, 0);
                Samples::U8(v)
            }
            (Some(Samples::U16(mut v)), true) => {
                v.resize(len, 0);
                Samples::U16(v)
            }
            (_, false) => Samples::U8(vec![0; len]),
            (_, true) => Samples::U16(vec![0; len]),
        }
    }
}

/// Planes held elsewhere and read in place: a decoder's picture, say, which an owned copy would
/// cost a pass over memory to make.
///
/// # Safety
/// For every plane `p` of the frame's format, `plane(p)` returns a pointer and a row stride in
/// bytes (at least the plane's row in bytes) such that the plane's rows are readable for as
/// long as the value lives, properly aligned for the sample type, and never written.
pub unsafe trait Picture: Send + Sync {
    fn plane(&self, p: usize) -> (*const u8, usize);
}

/// Where one plane's samples live.
#[derive(Clone)]
enum PlaneData {
    Owned(Samples),
    Shared(Arc<dyn Picture>),
}

/// One plane of a frame as the frame holds it, moved from frame to frame.
pub struct PlaneBuf(PlaneData);

impl PlaneBuf {
    /// A plane of owned samples.
    pub fn owned(samples: Samples) -> PlaneBuf {
        PlaneBuf(PlaneData::Owned(samples))
    }

    /// The samples, if they are owned (for reuse).
    pub fn into_samples(self) -> Option<Samples> {
        match self.0 {
            PlaneData::Owned(s) => Some(s),
            PlaneData::Shared(_) => None,
        }
    }
}

/// One plane, read-only: `height` rows of `width` samples, `stride` samples apart.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a, T> {
    pub data: &'a [T],
    pub width: usize,
    pub height: usize,
    pub stride: usize,
}

impl<'a, T> Plane<'a, T> {
    /// Row `y` (`width` samples).
    #[inline(always)]
    pub fn row(&self, y: usize) -> &'a [T] {
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// One plane to write: `height` rows of `width` samples, `stride` samples apart.
#[derive(Debug)]
pub struct PlaneMut<'a, T> {
    pub data: &'a mut [T],
    pub width: usize,
    pub height: usize,
    pub stride: usize,
}

impl<T> PlaneMut<'_, T> {
    #[inline(always)]
    pub fn row(&mut self, y: usize) -> &mut [T] {
        &mut self.data[y * self.stride..y * self.stride + self.width]
    }

    pub fn as_plane(&self) -> Plane<'_, T> {
        Plane {
            data: self.data,
            width: self.width,
            height: self.height,
            stride: self.stride,
        }
    }
}

/// A plane of either sample type.
#[derive(Clone, Copy, Debug)]
pub enum PlaneRef<'a> {
    U8(Plane<'a, u8>),
    U16(Plane<'a, u16>),
}

impl PlaneRef<'_> {
    pub fn size(&self) -> (usize, usize) {
        match self {
            PlaneRef::U8(p) => (p.width, p.height),
            PlaneRef::U16(p) => (p.width, p.height),
        }
    }

    /// The code value at (x, y).
    #[inline]
    pub fn get(&self, x: usize, y: usize) -> u32 {
        match self {
            PlaneRef::U8(p) => p.row(y)[x] as u32,
            PlaneRef::U16(p) => p.row(y)[x] as u32,
        }
    }
}

/// Planes of either sample type, to write.
#[derive(Debug)]
pub enum PlanesMut<'a> {
    U8(Vec<PlaneMut<'a, u8>>),
    U16(Vec<PlaneMut<'a, u16>>),
}

/// One picture of an image or a video, with its place in the stream.
#[derive(Clone)]
pub struct Frame {
    pub format: Format,
    /// One entry per plane of the format.
    planes: Vec<PlaneData>,
    /// Position in decode order (0 for a still image); used to restore order after parallel work.
    pub index: u64,
    /// Presentation timestamp in the source stream's time base, when there is one.
    pub pts: Option<i64>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("format", &self.format.describe())
            .field("owned", &self.is_owned())
            .field("index", &self.index)
            .field("pts", &self.pts)
            .finish()
    }
}

impl PartialEq for Frame {
    /// Equal formats, samples, index and pts (however the samples are held).
    fn eq(&self, other: &Frame) -> bool {
        self.format == other.format
            && self.index == other.index
            && self.pts == other.pts
            && self.max_abs_diff(other) == Some(0)
    }
}

/// How a picture is turned for display: clockwise quarter turns, after an optional mirror
/// (left to right). What a video's display matrix asks of players, and what `--auto-rotate`
/// applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Orientation {
    pub mirror: bool,
    /// 0 to 3.
    pub quarter_turns: u8,
}

impl Orientation {
    pub fn is_identity(self) -> bool {
        !self.mirror && self.quarter_turns.is_multiple_of(4)
    }

    /// The size of a `(width, height)` picture once turned.
    pub fn size(self, (w, h): (u32, u32)) -> (u32, u32) {
        if self.quarter_turns % 2 == 1 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// The format of a picture of `format` once turned: sizes, and for a quarter turn the
    /// chroma subsampling, swap (4:2:2 turned is 4:4:0).
    pub fn format(self, format: &Format) -> Format {
        let (width, height) = self.size((format.width, format.height));
        let mut layout = format.layout;
        if self.quarter_turns % 2 == 1 {
            let (h, v) = layout.chroma_shift;
            layout.chroma_shift = (v, h);
        }
        Format {
            width,
            height,
            layout,
            ..*format
        }
    }
}

impl Frame {
    /// A frame of `format` made of `planes`, one per plane of the format, each holding its
    /// plane's samples (rows unpadded).
    pub fn from_planes(format: Format, planes: Vec<Samples>) -> Frame {
        assert_eq!(
            planes.len(),
            format.planes(),
            "planes of a {}",
            format.describe()
        );
        for (p, samples) in planes.iter().enumerate() {
            assert_eq!(
                (samples.len(), samples.is_wide()),
                (format.plane_len(p), format.is_wide()),
                "plane {p} of a {}",
                format.describe()
            );
        }
        Frame {
            format,
            planes: planes.into_iter().map(PlaneData::Owned).collect(),
            index: 0,
            pts: None,
        }
    }

    /// A frame of `format` holding `samples`: every plane, one after another.
    pub fn from_samples(format: Format, samples: Samples) -> Frame {
        assert_eq!(
            samples.len(),
            format.samples_len(),
            "samples of a {}",
            format.describe()
        );
        let planes = (0..format.planes())
            .map(|p| {
                let range = format.plane_offset(p)..format.plane_offset(p) + format.plane_len(p);
                match &samples {
                    Samples::U8(v) => Samples::U8(v[range].to_vec()),
                    Samples::U16(v) => Samples::U16(v[range].to_vec()),
                }
            })
            .collect();
        Frame::from_planes(format, planes)
    }

    /// A frame of `format` whose planes `picture` holds.
    pub fn shared(format: Format, picture: Arc<dyn Picture>) -> Frame {
        Frame {
            format,
            planes: (0..format.planes())
                .map(|_| PlaneData::Shared(picture.clone()))
                .collect(),
            index: 0,
            pts: None,
        }
    }

    /// A frame of `format` with every sample zero.
    pub fn new(format: Format) -> Frame {
        let planes = (0..format.planes())
            .map(|p| Samples::sized(format.plane_len(p), format.is_wide(), None))
            .collect();
        Frame::from_planes(format, planes)
    }

    /// An 8-bit RGBA frame from interleaved samples (r, g, b, a for each pixel, row by row).
    pub fn from_rgba8(width: u32, height: u32, data: Vec<u8>) -> Frame {
        Frame::from_interleaved(width, height, 4, 8, Samples::U8(data))
    }

    /// An 8-bit RGB frame from interleaved samples.
    pub fn from_rgb8(width: u32, height: u32, data: Vec<u8>) -> Frame {
        Frame::from_interleaved(width, height, 3, 8, Samples::U8(data))
    }

    /// A 16-bit RGBA frame from interleaved samples.
    pub fn from_rgba16(width: u32, height: u32, data: Vec<u16>) -> Frame {
        Frame::from_interleaved(width, height, 4, 16, Samples::U16(data))
    }

    /// A 16-bit RGB frame from interleaved samples.
    pub fn from_rgb16(width: u32, height: u32, data: Vec<u16>) -> Frame {
        Frame::from_interleaved(width, height, 3, 16, Samples::U16(data))
    }

    /// A grey frame (with alpha when `channels` is 2), an RGB one (3) or RGBA (4), from
    /// interleaved samples: each channel becomes its plane.
    pub fn from_interleaved(
        width: u32,
        height: u32,
        channels: usize,
        bits: u8,
        data: Samples,
    ) -> Frame {
        let n = width as usize * height as usize;
        assert_eq!(data.len(), n * channels, "interleaved buffer size");
        let layout = match channels {
            1 | 2 => Layout::GRAY.with_alpha(channels == 2),
            3 | 4 => Layout::RGB.with_alpha(channels == 4),
            _ => panic!("{channels} channels"),
        };
        let format = Format::new(width, height, layout, bits, Colour::RGB);
        // Each plane its own buffer, so that only the interleaved one and the planes are ever
        // alive together (twice the picture, not three times).
        fn split<T: Weave + Default>(data: &[T], width: usize, channels: usize) -> Vec<Vec<T>> {
            let n = data.len() / channels;
            let mut planes: Vec<Vec<T>> = (0..channels).map(|_| vec![T::default(); n]).collect();
            let mut outs: Vec<&mut [T]> = planes.iter_mut().map(|p| p.as_mut_slice()).collect();
            weave::unweave(data, width, &mut outs);
            planes
        }
        let w = width as usize;
        let planes = match &data {
            Samples::U8(d) => split(d, w, channels).into_iter().map(Samples::U8).collect(),
            Samples::U16(d) => split(d, w, channels)
                .into_iter()
                .map(Samples::U16)
                .collect(),
        };
        drop(data);
        Frame::from_planes(format, planes)
    }

    /// The frame's planes interleaved (r, g, b, a for each pixel for RGBA), for writers that
    /// take packed pixels and for tests.
    pub fn interleaved(&self) -> Samples {
        let n = self.format.planes();
        fn join<T: Weave + Default>(planes: &[Plane<'_, T>]) -> Vec<T> {
            let (w, h) = (planes[0].width, planes[0].height);
            let mut out = vec![T::default(); w * h * planes.len()];
            if planes.iter().all(|p| p.stride == w) {
                let rows: Vec<&[T]> = planes.iter().map(|p| &p.data[..w * h]).collect();
                weave::weave(&rows, w, &mut out);
            } else {
                // Rows with gaps between them (a picture read in place): a row at a time, the
                // rows shared among the pool's threads.
                use rayon::prelude::*;
                out.par_chunks_exact_mut((w * planes.len()).max(1))
                    .enumerate()
                    .with_min_len(16)
                    .for_each(|(y, out)| {
                        let rows: Vec<&[T]> = planes.iter().map(|p| p.row(y)).collect();
                        T::weave(&rows, out);
                    });
            }
            out
        }
        assert!(
            (0..n).all(|p| self.format.layout.shift(p) == (0, 0)),
            "interleaving needs full-resolution planes"
        );
        if self.format.is_wide() {
            let planes: Vec<_> = (0..n).map(|p| self.plane16(p)).collect();
            Samples::U16(join(&planes))
        } else {
            let planes: Vec<_> = (0..n).map(|p| self.plane8(p)).collect();
            Samples::U8(join(&planes))
        }
    }

    pub fn width(&self) -> u32 {
        self.format.width
    }

    pub fn height(&self) -> u32 {
        self.format.height
    }

    pub fn pixel_count(&self) -> usize {
        self.format.width as usize * self.format.height as usize
    }

    /// True when every plane's samples are the frame's own (writable), false when some are
    /// read in place.
    pub fn is_owned(&self) -> bool {
        self.planes.iter().all(|p| matches!(p, PlaneData::Owned(_)))
    }

    /// Plane `p` of an 8-bit frame.
    pub fn plane8(&self, p: usize) -> Plane<'_, u8> {
        match self.plane(p) {
            PlaneRef::U8(plane) => plane,
            PlaneRef::U16(_) => panic!("plane {p} of a {} is not 8-bit", self.format.describe()),
        }
    }

    /// Plane `p` of a frame deeper than 8 bits.
    pub fn plane16(&self, p: usize) -> Plane<'_, u16> {
        match self.plane(p) {
            PlaneRef::U16(plane) => plane,
            PlaneRef::U8(_) => panic!("plane {p} of a {} is 8-bit", self.format.describe()),
        }
    }

    /// Plane `p`, however the samples are held.
    pub fn plane(&self, p: usize) -> PlaneRef<'_> {
        assert!(p < self.format.planes(), "plane {p}");
        let (w, h) = self.format.plane_size(p);
        let (w, h) = (w as usize, h as usize);
        match &self.planes[p] {
            PlaneData::Owned(Samples::U8(v)) => PlaneRef::U8(Plane {
                data: v,
                width: w,
                height: h,
                stride: w,
            }),
            PlaneData::Owned(Samples::U16(v)) => PlaneRef::U16(Plane {
                data: v,
                width: w,
                height: h,
                stride: w,
            }),
            PlaneData::Shared(picture) => {
                let (ptr, stride_bytes) = picture.plane(p);
                let size = if self.format.is_wide() { 2 } else { 1 };
                let stride = stride_bytes / size;
                assert!(stride >= w && !ptr.is_null(), "a shared plane's stride");
                let len = if h == 0 { 0 } else { (h - 1) * stride + w };
                // SAFETY: `Picture`'s contract: the plane's rows are readable at this stride for
                // as long as `picture` lives, which `self` keeps alive for the borrow, aligned
                // for the sample type, and never written.
                unsafe {
                    if self.format.is_wide() {
                        PlaneRef::U16(Plane {
                            data: std::slice::from_raw_parts(ptr.cast::<u16>(), len),
                            width: w,
                            height: h,
                            stride,
                        })
                    } else {
                        PlaneRef::U8(Plane {
                            data: std::slice::from_raw_parts(ptr, len),
                            width: w,
                            height: h,
                            stride,
                        })
                    }
                }
            }
        }
    }

    /// True when plane `p`'s samples are the frame's own.
    pub fn plane_is_owned(&self, p: usize) -> bool {
        matches!(self.planes[p], PlaneData::Owned(_))
    }

    /// Makes plane `p` the frame's own, copying it once if it is read in place.
    fn own_plane(&mut self, p: usize) -> &mut Samples {
        if let PlaneData::Shared(_) = self.planes[p] {
            let samples = match self.plane(p) {
                PlaneRef::U8(src) => Samples::U8(copy_rows(&src)),
                PlaneRef::U16(src) => Samples::U16(copy_rows(&src)),
            };
            self.planes[p] = PlaneData::Owned(samples);
        }
        match &mut self.planes[p] {
            PlaneData::Owned(samples) => samples,
            PlaneData::Shared(_) => unreachable!("made owned above"),
        }
    }

    /// The luma rows `rows` of plane `p` in that plane's rows: chroma subsampled `v` times
    /// vertically holds rows `start >> v` up to the one that covers the last luma row.
    pub fn plane_rows(
        format: &Format,
        p: usize,
        rows: &std::ops::Range<u32>,
    ) -> std::ops::Range<usize> {
        let v = format.layout.shift(p).1;
        let (_, h) = format.plane_size(p);
        let end = rows.end.div_ceil(1 << v).min(h);
        (rows.start >> v) as usize..end as usize
    }

    /// Luma rows `rows` of the frame as a frame of their own (copied), with the frame's index
    /// and pts. `rows.start` is a multiple of the chroma subsampling.
    pub fn rows(&self, rows: std::ops::Range<u32>) -> Frame {
        let mut out = Frame::gather(&[(self, rows)]);
        (out.index, out.pts) = (self.index, self.pts);
        out
    }

    /// The luma rows of `pieces`, one piece's rows under the last's, as one frame: frames of
    /// the same layout, depth and width, each range starting on a multiple of the chroma
    /// subsampling. Each row is copied once, into planes made to measure.
    pub fn gather(pieces: &[(&Frame, std::ops::Range<u32>)]) -> Frame {
        let first = pieces.first().expect("a piece to gather").0;
        let height = pieces.iter().map(|(_, r)| r.end - r.start).sum();
        let format = first.format.with_size(first.format.width, height);
        fn copy<'a, T: Copy + 'a>(
            rows: impl Iterator<Item = (Plane<'a, T>, std::ops::Range<usize>)>,
            len: usize,
        ) -> Vec<T> {
            let mut out = Vec::with_capacity(len);
            for (plane, range) in rows {
                for y in range {
                    out.extend_from_slice(plane.row(y));
                }
            }
            out
        }
        let planes = (0..format.planes())
            .map(|p| {
                let len = format.plane_len(p);
                let ranges = pieces
                    .iter()
                    .map(move |(f, r)| (*f, Frame::plane_rows(&f.format, p, r)));
                if format.is_wide() {
                    Samples::U16(copy(ranges.map(|(f, r)| (f.plane16(p), r)), len))
                } else {
                    Samples::U8(copy(ranges.map(|(f, r)| (f.plane8(p), r)), len))
                }
            })
            .collect();
        Frame::from_planes(format, planes)
    }

    /// Copies `src`'s luma rows `from` into the frame from luma row `at` (a multiple of the
    /// chroma subsampling), plane by plane; the frames have the same layout, depth and width.
    pub fn put_rows(&mut self, at: u32, src: &Frame, from: std::ops::Range<u32>) {
        let to = at..at + (from.end - from.start);
        for p in 0..self.format.planes() {
            let source = Frame::plane_rows(&src.format, p, &from);
            let target = Frame::plane_rows(&self.format, p, &to);
            match src.plane(p) {
                PlaneRef::U8(plane) => {
                    let mut out = self.plane8_mut(p);
                    for (y, t) in source.zip(target) {
                        out.row(t).copy_from_slice(plane.row(y));
                    }
                }
                PlaneRef::U16(plane) => {
                    let mut out = self.plane16_mut(p);
                    for (y, t) in source.zip(target) {
                        out.row(t).copy_from_slice(plane.row(y));
                    }
                }
            }
        }
    }

    /// Makes every plane the frame's own, copying shared planes once.
    pub fn make_owned(&mut self) {
        for p in 0..self.format.planes() {
            self.own_plane(p);
        }
    }

    /// Plane `p` of an 8-bit frame, writable (copied first if it is read in place).
    pub fn plane8_mut(&mut self, p: usize) -> PlaneMut<'_, u8> {
        let (w, h) = self.format.plane_size(p);
        match self.own_plane(p) {
            Samples::U8(v) => PlaneMut {
                data: v,
                width: w as usize,
                height: h as usize,
                stride: w as usize,
            },
            Samples::U16(_) => panic!("plane {p} is not 8-bit"),
        }
    }

    /// Plane `p` of a frame deeper than 8 bits, writable.
    pub fn plane16_mut(&mut self, p: usize) -> PlaneMut<'_, u16> {
        let (w, h) = self.format.plane_size(p);
        match self.own_plane(p) {
            Samples::U16(v) => PlaneMut {
                data: v,
                width: w as usize,
                height: h as usize,
                stride: w as usize,
            },
            Samples::U8(_) => panic!("plane {p} is 8-bit"),
        }
    }

    /// Every plane, writable (shared planes are copied first).
    pub fn planes_mut(&mut self) -> PlanesMut<'_> {
        self.make_owned();
        let format = self.format;
        let mut eight = Vec::new();
        let mut wide = Vec::new();
        for (p, data) in self.planes.iter_mut().enumerate() {
            let (w, h) = format.plane_size(p);
            let (w, h) = (w as usize, h as usize);
            match data {
                PlaneData::Owned(Samples::U8(v)) => eight.push(PlaneMut {
                    data: v.as_mut_slice(),
                    width: w,
                    height: h,
                    stride: w,
                }),
                PlaneData::Owned(Samples::U16(v)) => wide.push(PlaneMut {
                    data: v.as_mut_slice(),
                    width: w,
                    height: h,
                    stride: w,
                }),
                PlaneData::Shared(_) => unreachable!("made owned above"),
            }
        }
        if format.is_wide() {
            PlanesMut::U16(wide)
        } else {
            PlanesMut::U8(eight)
        }
    }

    /// The planes the frame owns, for reuse by later frames (planes read in place are dropped).
    pub fn into_samples(self) -> Vec<Samples> {
        self.planes
            .into_iter()
            .filter_map(|p| match p {
                PlaneData::Owned(s) => Some(s),
                PlaneData::Shared(_) => None,
            })
            .collect()
    }

    /// Plane `p` as the frame holds it (its own samples or a reference to a picture read in
    /// place), taken out of the frame: what a pass that leaves a plane alone hands on without
    /// a copy. The frame's plane `p` is empty afterwards.
    pub fn take_plane(&mut self, p: usize) -> PlaneBuf {
        PlaneBuf(std::mem::replace(
            &mut self.planes[p],
            PlaneData::Owned(Samples::U8(Vec::new())),
        ))
    }

    /// A frame of `format` made of `planes` (from [`Frame::take_plane`] or
    /// [`PlaneBuf::owned`]).
    pub fn from_bufs(format: Format, planes: Vec<PlaneBuf>) -> Frame {
        assert_eq!(
            planes.len(),
            format.planes(),
            "planes of a {}",
            format.describe()
        );
        for (p, buf) in planes.iter().enumerate() {
            if let PlaneData::Owned(s) = &buf.0 {
                assert_eq!(
                    (s.len(), s.is_wide()),
                    (format.plane_len(p), format.is_wide()),
                    "plane {p} of a {}",
                    format.describe()
                );
            }
        }
        Frame {
            format,
            planes: planes.into_iter().map(|b| b.0).collect(),
            index: 0,
            pts: None,
        }
    }

    /// The frame with its format replaced by `format`, which must describe the same planes
    /// (sizes, layout and depth): a change of colour tags, say.
    pub fn retagged(mut self, format: Format) -> Frame {
        assert_eq!(
            (format.width, format.height, format.layout, format.bits),
            (
                self.format.width,
                self.format.height,
                self.format.layout,
                self.format.bits
            ),
            "retagging changes only the colour description"
        );
        self.format = format;
        self
    }

    /// Plane `p`'s sample at (x, y), normalised: 0..=1 over the plane's codes (not its nominal
    /// range), for references in tests and tools.
    pub fn sample(&self, x: u32, y: u32, p: usize) -> f32 {
        self.plane(p).get(x as usize, y as usize) as f32 / self.format.max_code() as f32
    }

    /// Largest difference in code values between two frames of the same size, layout and
    /// depth, plane by plane; `None` when their shapes differ.
    pub fn max_abs_diff(&self, other: &Frame) -> Option<u32> {
        self.plane_diffs(other)
            .map(|d| d.into_iter().max().unwrap_or(0))
    }

    /// [`Frame::max_abs_diff`] for each plane.
    pub fn plane_diffs(&self, other: &Frame) -> Option<Vec<u32>> {
        let (a, b) = (&self.format, &other.format);
        if (a.width, a.height, a.layout, a.bits) != (b.width, b.height, b.layout, b.bits) {
            return None;
        }
        let diffs = (0..a.planes())
            .map(|p| match (self.plane(p), other.plane(p)) {
                (PlaneRef::U8(x), PlaneRef::U8(y)) => plane_diff(&x, &y),
                (PlaneRef::U16(x), PlaneRef::U16(y)) => plane_diff(&x, &y),
                _ => unreachable!("same depth"),
            })
            .collect();
        Some(diffs)
    }

    /// The frame turned as `o` says: mirrored, then turned clockwise, plane by plane, samples
    /// moved as they are (a quarter turn of 4:2:2 gives 4:4:0; see [`Orientation::format`]).
    pub fn oriented(&self, o: Orientation) -> Frame {
        fn turn<T: Copy + Default>(src: &Plane<'_, T>, o: Orientation, out: &mut PlaneMut<T>) {
            let (w, h) = (src.width, src.height);
            for oy in 0..out.height {
                let row = &mut out.data[oy * out.stride..oy * out.stride + out.width];
                for (ox, o_px) in row.iter_mut().enumerate() {
                    // The source sample of output (ox, oy), undoing the turn and then the mirror.
                    let (mut x, y) = match o.quarter_turns % 4 {
                        1 => (oy, h - 1 - ox),
                        2 => (w - 1 - ox, h - 1 - oy),
                        3 => (w - 1 - oy, ox),
                        _ => (ox, oy),
                    };
                    if o.mirror {
                        x = w - 1 - x;
                    }
                    *o_px = src.data[y * src.stride + x];
                }
            }
        }
        let format = o.format(&self.format);
        let mut out = Frame::new(format);
        out.index = self.index;
        out.pts = self.pts;
        match out.planes_mut() {
            PlanesMut::U8(mut planes) => {
                for (p, dst) in planes.iter_mut().enumerate() {
                    turn(&self.plane8(p), o, dst);
                }
            }
            PlanesMut::U16(mut planes) => {
                for (p, dst) in planes.iter_mut().enumerate() {
                    turn(&self.plane16(p), o, dst);
                }
            }
        }
        out
    }
}

fn plane_diff<T: Copy + Into<u32>>(a: &Plane<'_, T>, b: &Plane<'_, T>) -> u32 {
    (0..a.height)
        .flat_map(|y| a.row(y).iter().zip(b.row(y)))
        .map(|(&x, &y)| x.into().abs_diff(y.into()))
        .max()
        .unwrap_or(0)
}

/// A plane's rows, unpadded.
fn copy_rows<T: Copy>(src: &Plane<'_, T>) -> Vec<T> {
    let mut out = Vec::with_capacity(src.width * src.height);
    for y in 0..src.height {
        out.extend_from_slice(src.row(y));
    }
    out
}

/// `v`, a value on the scale of code values, as the nearest code value of `0 ..= max` (at most
/// 65535): clamped, NaN counted as 0. Shared by the CPU kernels and the converters.
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; `max` turns it into 0
pub fn nearest_code(v: f32, max: f32) -> u32 {
    // `max` and `min` return the other operand for NaN, so the value is finite and in range:
    // the conversion below is exact, and it becomes one vector instruction where a saturating
    // `as` cast would need several.
    let v = (v + 0.5).max(0.0).min(max);
    // SAFETY: `v` is finite and within 0 ..= 65535.
    unsafe { v.to_int_unchecked::<i32>() as u32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RGB planes read in place with rows 7 samples longer than the picture: interleaving
    /// follows the stride, and taking the result apart gives the planes back.
    #[test]
    fn interleaving_follows_a_pictures_stride() {
        struct Padded {
            planes: Vec<Vec<u8>>,
            stride: usize,
        }
        // SAFETY: each plane holds `height` rows of `stride` bytes, never written.
        unsafe impl Picture for Padded {
            fn plane(&self, p: usize) -> (*const u8, usize) {
                (self.planes[p].as_ptr(), self.stride)
            }
        }
        let (w, h, stride) = (53usize, 41usize, 60usize);
        let sample = |p: usize, x: usize, y: usize| (p * 91 + x * 7 + y * 13) as u8;
        let planes = (0..3)
            .map(|p| {
                (0..h * stride)
                    .map(|i| sample(p, i % stride, i / stride))
                    .collect()
            })
            .collect();
        let format = Format::new(w as u32, h as u32, Layout::RGB, 8, Colour::RGB);
        let frame = Frame::shared(format, Arc::new(Padded { planes, stride }));
        let Samples::U8(rgb) = frame.interleaved() else {
            panic!("8-bit")
        };
        for y in 0..h {
            for x in 0..w {
                for p in 0..3 {
                    assert_eq!(rgb[(y * w + x) * 3 + p], sample(p, x, y), "({x}, {y}) {p}");
                }
            }
        }
        let back = Frame::from_interleaved(w as u32, h as u32, 3, 8, Samples::U8(rgb));
        for p in 0..3 {
            let PlaneRef::U8(plane) = back.plane(p) else {
                panic!("8-bit")
            };
            for y in 0..h {
                assert_eq!(plane.row(y), frame.plane8(p).row(y));
            }
        }
    }

    /// Each orientation moves pixels as its name says: labels 0..6 on a 3x2 frame.
    #[test]
    fn orientations_move_pixels() {
        let frame = Frame::from_rgba8(3, 2, (0..6u8).flat_map(|v| [v, v, v, 255]).collect());
        let labels = |f: &Frame| f.plane8(0).data.to_vec();
        // 0 1 2
        // 3 4 5
        for (mirror, quarter_turns, size, want) in [
            (false, 1, (2, 3), vec![3, 0, 4, 1, 5, 2]),
            (false, 2, (3, 2), vec![5, 4, 3, 2, 1, 0]),
            (false, 3, (2, 3), vec![2, 5, 1, 4, 0, 3]),
            (true, 0, (3, 2), vec![2, 1, 0, 5, 4, 3]),
            // A transpose and an anti-transpose.
            (true, 3, (2, 3), vec![0, 3, 1, 4, 2, 5]),
            (true, 1, (2, 3), vec![5, 2, 4, 1, 3, 0]),
        ] {
            let o = Orientation {
                mirror,
                quarter_turns,
            };
            let turned = frame.oriented(o);
            assert_eq!((turned.width(), turned.height()), size, "{o:?}");
            assert_eq!(labels(&turned), want, "{o:?}");
        }
    }

    #[test]
    fn plane_sizes_round_chroma_up() {
        let f = Format::new(
            1919,
            1079,
            Layout::YUV420,
            8,
            Colour::video(Matrix::Bt709, false),
        );
        assert_eq!(f.plane_size(0), (1919, 1079));
        assert_eq!(f.plane_size(1), (960, 540));
        assert_eq!(f.plane_size(2), (960, 540));
        assert_eq!(f.samples_len(), 1919 * 1079 + 2 * 960 * 540);
        let f = Format::new(7, 5, Layout::YUV422.with_alpha(true), 10, Colour::RGB);
        assert_eq!(f.plane_size(1), (4, 5));
        assert_eq!(f.plane_size(3), (7, 5));
        assert_eq!(f.role(3), Role::Alpha);
        assert_eq!(f.max_code(), 1023);
        assert_eq!(f.zero(1), 512.0);
    }

    #[test]
    fn interleaved_round_trips() {
        let data: Vec<u8> = (0..5 * 3 * 4).map(|i| (i * 7) as u8).collect();
        let frame = Frame::from_rgba8(5, 3, data.clone());
        assert_eq!(frame.plane8(1).row(0)[1], data[5]);
        assert_eq!(frame.interleaved(), Samples::U8(data));
    }

    #[test]
    fn quarter_turns_swap_the_subsampling() {
        let f = Format::new(8, 4, Layout::YUV422, 8, Colour::video(Matrix::Bt709, false));
        let mut frame = Frame::new(f);
        for (i, v) in frame.plane8_mut(1).data.iter_mut().enumerate() {
            *v = i as u8;
        }
        let turned = frame.oriented(Orientation {
            mirror: false,
            quarter_turns: 1,
        });
        assert_eq!(turned.format.layout.chroma_shift, (0, 1));
        assert_eq!(turned.format.plane_size(1), (4, 4));
        // Cb was 4x4 (0..16 row by row); turned clockwise, its first row is its first column
        // read upwards.
        assert_eq!(turned.plane8(1).row(0), &[12, 8, 4, 0]);
    }
}
