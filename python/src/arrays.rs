//! numpy arrays in and out: an (H, W), (H, W, 1–4) array of `uint8`, `uint16` or `float32`
//! becomes a [`Frame`] of grey or RGB planes, with alpha where it has 2 or 4 channels, and a
//! frame becomes an array of the same kind.
//!
//! Frames hold planes of integer codes (8 to 16 bits), never floats. A `float32` array is
//! taken as 16-bit codes by one exact mapping ([`code_of`], [`value_of`]): x in [0, 1] is the
//! code round(x·65535), and a code c comes back as the float32 nearest c/65535, so codes that
//! came in as c/65535 go out unchanged. A value that rounds outside 0..=65535, or NaN, is a
//! ValueError rather than clamped: 0–255 floats clamped would come back white without a word.
//! Everything here is checked before a frame is made: a bad array is a Python exception, never
//! a panic.
//!
//! The array is read in place, without the GIL: a C-contiguous grey array is the frame's plane
//! itself; the channels of a colour array are taken apart into planes straight from the
//! array's memory, following its strides, so a non-contiguous array (a slice, a transposed
//! view) costs the same single pass. Arrays handed back own the frame's samples without a copy.

use std::sync::Arc;

use numpy::ndarray::{Array2, Array3};
use numpy::{
    dtype, IntoPyArray, PyArrayDescrMethods, PyArrayDyn, PyArrayMethods, PyUntypedArray,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;
use tessera::frame::weave::Weave;
use tessera::frame::{Colour, Family, Layout, Picture, Samples};
use tessera::Backend;
use tessera::{Format, Frame};

/// The sample type of an array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    U8,
    U16,
    /// Values in [0, 1], taken as 16-bit codes.
    F32,
}

impl Depth {
    fn bytes(self) -> usize {
        match self {
            Depth::U8 => 1,
            Depth::U16 => 2,
            Depth::F32 => 4,
        }
    }
}

/// The 16-bit code of a float32 sample: round(x·65535), halves away from zero (x·65535 is
/// exact in f64), or `None` for NaN and values that round outside 0..=65535.
pub fn code_of(x: f32) -> Option<u16> {
    let code = (x as f64 * 65535.0).round();
    (0.0..=65535.0).contains(&code).then_some(code as u16)
}

/// The float32 sample of a 16-bit code: the float32 nearest code/65535 (one correctly rounded
/// division).
pub fn value_of(code: u16) -> f32 {
    code as f32 / 65535.0
}

/// An array's pixels, checked, as a call reads them once the GIL is released.
pub struct Pixels {
    /// The first sample; readable at every offset the shape and strides give for as long as
    /// `owner` lives.
    data: *const u8,
    height: usize,
    width: usize,
    channels: usize,
    /// Bytes between rows, columns and channels (numpy's strides; may be negative).
    strides: [isize; 3],
    depth: Depth,
    /// The array had two dimensions (grey): the result has two too, where it stays grey.
    two_dim: bool,
    /// The array, kept alive while its memory is read.
    owner: Py<PyAny>,
}

// SAFETY: `data` points into the array `owner` keeps alive; it is only read. Python code that
// writes to the array while a call reads it gets what numpy's own GIL-free functions give.
unsafe impl Send for Pixels {}
unsafe impl Sync for Pixels {}

/// What each dtype tessera refuses should become, said in the error.
const DTYPES: &str =
    "tessera takes arrays of uint8 or uint16 (8- or 16-bit codes) or float32 (values in 0..1)";

/// Checks `array` and takes its place in memory. Raises `TypeError` for what is not a numpy
/// array of uint8, uint16 or float32, `ValueError` for a shape that is not a picture.
pub fn read(array: &Bound<'_, PyAny>) -> PyResult<Pixels> {
    let py = array.py();
    let Ok(a) = array.cast::<PyUntypedArray>() else {
        let kind = array.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "expected a numpy array of shape (H, W) or (H, W, C), got {kind}"
        )));
    };
    let descr = a.dtype();
    let depth = if descr.is_equiv_to(&dtype::<u8>(py)) {
        Depth::U8
    } else if descr.is_equiv_to(&dtype::<u16>(py)) {
        Depth::U16
    } else if descr.is_equiv_to(&dtype::<f32>(py)) {
        Depth::F32
    } else if descr.is_equiv_to(&dtype::<f64>(py)) {
        return Err(PyTypeError::new_err(format!(
            "{DTYPES}, not float64: frames hold 16-bit codes at most, which float32 holds \
             exactly; convert with a.astype(numpy.float32)"
        )));
    } else {
        return Err(PyTypeError::new_err(format!(
            "{DTYPES} in the machine's byte order, not {}",
            descr.str()?
        )));
    };
    let shape = a.shape();
    let (height, width, channels) = match *shape {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "an array of shape {shape:?} is not a picture: expected (H, W) for grey or \
                 (H, W, C) with C channels"
            )))
        }
    };
    if !(1..=4).contains(&channels) {
        return Err(PyValueError::new_err(format!(
            "an array of shape {shape:?} has {channels} channels: expected 1 (grey), 2 (grey \
             and alpha), 3 (RGB) or 4 (RGBA)"
        )));
    }
    if height == 0 || width == 0 {
        return Err(PyValueError::new_err(format!(
            "an array of shape {shape:?} holds no pixels"
        )));
    }
    if height > u32::MAX as usize || width > u32::MAX as usize {
        return Err(PyValueError::new_err(format!(
            "an array of shape {shape:?} is larger than a picture can be (4294967295 on a side)"
        )));
    }
    let s = a.strides();
    let strides = if s.len() == 3 {
        [s[0], s[1], s[2]]
    } else {
        [s[0], s[1], 0]
    };
    let data = match depth {
        Depth::U8 => a.cast::<PyArrayDyn<u8>>()?.data() as *const u8,
        Depth::U16 => a.cast::<PyArrayDyn<u16>>()?.data() as *const u8,
        Depth::F32 => a.cast::<PyArrayDyn<f32>>()?.data() as *const u8,
    };
    Ok(Pixels {
        data,
        height,
        width,
        channels,
        strides,
        depth,
        two_dim: shape.len() == 2,
        owner: array.clone().unbind(),
    })
}

impl Pixels {
    /// The frame's format: grey or RGB planes, alpha with 2 or 4 channels, at 8 or 16 bits,
    /// tagged as images are (full-range RGB).
    pub fn format(&self) -> Format {
        let layout = match self.channels {
            1 | 2 => Layout::GRAY,
            _ => Layout::RGB,
        }
        .with_alpha(self.channels.is_multiple_of(2));
        let bits = match self.depth {
            Depth::U8 => 8,
            Depth::U16 | Depth::F32 => 16,
        };
        Format::new(
            self.width as u32,
            self.height as u32,
            layout,
            bits,
            Colour::RGB,
        )
    }

    /// True where the rows are laid one after another with no gap, their channels in order,
    /// and samples are aligned: the array is one slice.
    fn is_packed(&self) -> bool {
        self.rows_packed() == Some(false)
            && self.strides[0] == self.strides[1] * self.width as isize
    }

    /// `Some(reversed)` where each row's pixels lie one after another with their channels side
    /// by side (in order, or reversed as a view `a[..., ::-1]` of BGR gives them) and samples
    /// are aligned, wherever the rows are (a crop `a[10:90, 20:200]`, a flip `a[::-1]`): each
    /// row is read as a slice.
    fn rows_packed(&self) -> Option<bool> {
        let size = self.depth.bytes() as isize;
        let aligned = (self.data as usize).is_multiple_of(self.depth.bytes());
        if !aligned || self.strides[1] != size * self.channels as isize {
            return None;
        }
        match self.strides[2] {
            _ if self.channels == 1 => Some(false),
            s if s == size => Some(false),
            s if s == -size => Some(true),
            _ => None,
        }
    }

    /// The frame the array holds: a packed grey integer array as the plane itself, any other
    /// taken apart into planes in one pass, float32 values made codes ([`code_of`]). Call
    /// without the GIL. Fails, saying where, for a float32 value that has no code.
    pub fn into_frame(self, backend: &mut dyn Backend) -> Result<Frame, String> {
        let format = self.format();
        if self.depth == Depth::F32 {
            let n = self.width * self.height;
            let mut values: Vec<Vec<f32>> = vec![vec![0.0; n]; self.channels];
            self.fill(
                &mut values
                    .iter_mut()
                    .map(|p| p.as_mut_slice())
                    .collect::<Vec<_>>(),
            );
            let planes = values
                .iter()
                .enumerate()
                .map(|(channel, plane)| self.codes(plane, channel).map(Samples::U16))
                .collect::<Result<_, _>>()?;
            return Ok(Frame::from_planes(format, planes));
        }
        if self.channels == 1 && self.is_packed() {
            let picture = ArrayPicture {
                data: self.data,
                row_bytes: self.strides[0] as usize,
                _owner: self.owner,
            };
            return Ok(Frame::shared(format, Arc::new(picture)));
        }
        // The planes go into buffers the backend kept from the last call, so that a loop of
        // calls does not fault in fresh memory for every picture.
        let n = self.width * self.height;
        let wide = self.depth != Depth::U8;
        let mut planes: Vec<Samples> = (0..self.channels)
            .map(|_| backend.buffer(n, wide))
            .collect();
        match self.depth {
            Depth::U8 => {
                let mut outs: Vec<&mut [u8]> = planes
                    .iter_mut()
                    .map(|p| match p {
                        Samples::U8(v) => v.as_mut_slice(),
                        Samples::U16(_) => unreachable!("8-bit buffers asked for"),
                    })
                    .collect();
                self.fill(&mut outs);
            }
            _ => {
                let mut outs: Vec<&mut [u16]> = planes
                    .iter_mut()
                    .map(|p| match p {
                        Samples::U16(v) => v.as_mut_slice(),
                        Samples::U8(_) => unreachable!("16-bit buffers asked for"),
                    })
                    .collect();
                self.fill(&mut outs);
            }
        }
        Ok(Frame::from_planes(format, planes))
    }

    /// The array's channels written to `planes` (one a channel, `width · height` samples
    /// each): an array whose rows are packed (wherever they lie, their channels in order or
    /// backwards) row by row on the library's pool, vectorised
    /// ([`tessera::frame::weave`]); any other sample by sample following its strides.
    fn fill<T: Weave>(&self, planes: &mut [&mut [T]]) {
        let (w, h, c) = (self.width, self.height, self.channels);
        let [sy, sx, sc] = self.strides;
        if let Some(reversed) = self.rows_packed() {
            // Row y's first sample in memory: channel 0 of pixel 0, or channel c − 1 when the
            // channels run backwards.
            let first = if reversed { (c as isize - 1) * sc } else { 0 };
            let base = self.data as usize;
            // The planes in the order their channels lie in memory.
            let mut by_channel: Vec<Option<&mut [T]>> =
                planes.iter_mut().map(|p| Some(&mut **p)).collect();
            let order: Vec<usize> = if reversed {
                (0..c).rev().collect()
            } else {
                (0..c).collect()
            };
            let mut rows: Vec<Vec<&mut [T]>> = (0..h).map(|_| Vec::with_capacity(c)).collect();
            for &ch in &order {
                let plane = by_channel[ch].take().expect("each channel once");
                for (row, out) in rows.iter_mut().zip(plane.chunks_exact_mut(w)) {
                    row.push(out);
                }
            }
            rows.into_par_iter()
                .enumerate()
                .with_min_len(16)
                .for_each(|(y, mut outs)| {
                    // SAFETY: row y's w·c samples start `first` bytes after its offset, in
                    // the array, aligned (`rows_packed`), side by side.
                    let src = unsafe {
                        let at = (base as *const u8).offset(y as isize * sy + first);
                        std::slice::from_raw_parts(at as *const T, w * c)
                    };
                    T::unweave(src, &mut outs);
                });
            return;
        }
        for (ch, plane) in planes.iter_mut().enumerate() {
            for (y, out) in plane.chunks_exact_mut(w).enumerate() {
                // SAFETY: every offset lies inside the array, whose shape and strides numpy
                // checked; unaligned reads serve arrays whose samples are not aligned.
                let row = unsafe { self.data.offset(y as isize * sy + ch as isize * sc) };
                for (x, v) in out.iter_mut().enumerate() {
                    *v = unsafe {
                        std::ptr::read_unaligned(row.offset(x as isize * sx) as *const T)
                    };
                }
            }
        }
    }

    /// A float32 plane as 16-bit codes, or what is wrong with its first value that has none.
    fn codes(&self, plane: &[f32], channel: usize) -> Result<Vec<u16>, String> {
        let mut codes = Vec::with_capacity(plane.len());
        for (i, &x) in plane.iter().enumerate() {
            let Some(code) = code_of(x) else {
                let (row, column) = (i / self.width, i % self.width);
                let at = if self.two_dim {
                    format!("[{row}, {column}]")
                } else {
                    format!("[{row}, {column}, {channel}]")
                };
                return Err(if x.is_nan() {
                    format!(
                        "the float32 array has NaN at {at}: a NaN has no 16-bit code; replace it \
                         (numpy.nan_to_num) before the call"
                    )
                } else {
                    format!(
                        "the float32 array has {x} at {at}: float32 pictures take values from 0 \
                         to 1 (a 16-bit code each, round(x * 65535)); scale the array into 0..1 \
                         (divide 0-255 values by 255) or clip it (numpy.clip(a, 0, 1))"
                    )
                });
            };
            codes.push(code);
        }
        Ok(codes)
    }

    /// True when the result of a chain that keeps grey grey is (H, W).
    pub fn two_dim(&self) -> bool {
        self.two_dim
    }

    /// True for a float32 array: the result is float32 too.
    pub fn is_float(&self) -> bool {
        self.depth == Depth::F32
    }
}

/// A packed grey array read in place as a frame's plane.
struct ArrayPicture {
    data: *const u8,
    row_bytes: usize,
    /// Keeps the array's memory alive for as long as the frame (or a backend that kept it)
    /// holds the picture.
    _owner: Py<PyAny>,
}

// SAFETY: the picture's one plane is the array `_owner` keeps alive, laid out as
// `Pixels::is_packed` checked (aligned, rows of `row_bytes`), and it is never written.
unsafe impl Picture for ArrayPicture {
    fn plane(&self, _p: usize) -> (*const u8, usize) {
        (self.data, self.row_bytes)
    }
}

// SAFETY: the memory is only read (see `Pixels`).
unsafe impl Send for ArrayPicture {}
unsafe impl Sync for ArrayPicture {}

/// A frame's samples interleaved, with the shape the array will have; made without the GIL.
pub struct Interleaved {
    samples: Samples,
    shape: (usize, usize, usize),
    two_dim: bool,
    /// Given back as float32 values ([`value_of`]).
    float: Option<Vec<f32>>,
}

/// Interleaves `frame` for an array: grey stays (H, W) when the input was, else (H, W, C);
/// float32 when `float` (the input was), each code c as c/65535. Fails for a format an array
/// of pixels cannot hold (Y′CbCr, a depth other than 8 or 16).
pub fn interleave(frame: &Frame, input_two_dim: bool, float: bool) -> Result<Interleaved, String> {
    let f = &frame.format;
    if f.layout.family == Family::Yuv || !matches!(f.bits, 8 | 16) {
        return Err(format!(
            "the chain's output is {}, which an array of grey or RGB 8- or 16-bit pixels \
             cannot hold",
            f.describe()
        ));
    }
    let channels = f.layout.planes();
    let samples = frame.interleaved();
    let float = match (&samples, float) {
        (Samples::U16(codes), true) => Some(codes.iter().map(|&c| value_of(c)).collect()),
        (Samples::U8(_), true) => {
            return Err(format!(
                "the chain's output is {}: a float32 picture comes back from 16-bit codes",
                f.describe()
            ))
        }
        _ => None,
    };
    Ok(Interleaved {
        samples,
        shape: (f.height as usize, f.width as usize, channels),
        two_dim: input_two_dim && channels == 1,
        float,
    })
}

impl Interleaved {
    /// The numpy array owning the samples (no copy).
    pub fn into_array(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let (h, w, c) = self.shape;
        let bad = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
        if let Some(values) = self.float {
            return Ok(if self.two_dim {
                Array2::from_shape_vec((h, w), values)
                    .map_err(bad)?
                    .into_pyarray(py)
                    .into_any()
            } else {
                Array3::from_shape_vec((h, w, c), values)
                    .map_err(bad)?
                    .into_pyarray(py)
                    .into_any()
            });
        }
        Ok(match (self.samples, self.two_dim) {
            (Samples::U8(v), true) => Array2::from_shape_vec((h, w), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
            (Samples::U8(v), false) => Array3::from_shape_vec((h, w, c), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
            (Samples::U16(v), true) => Array2::from_shape_vec((h, w), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
            (Samples::U16(v), false) => Array3::from_shape_vec((h, w, c), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
        })
    }
}
