//! `tessera.open`: a video read frame by frame, each frame through a chain, as numpy arrays.
//!
//! The library's [`Frames`] does the work: decoding, conversion and the filter run on threads
//! of their own, ahead of the Python loop by at most `read_ahead` finished frames, so memory
//! stays flat. `__next__` waits for the next frame with the GIL released, taking it back every
//! 50 ms to look for Ctrl-C, as [`crate::process`] does. A frame's planes are numpy views of
//! its own samples (no copy), kept alive by the `Frame` object they name as their base; its
//! conversion to RGB is the library's, the one the command line writes image sequences with.
//! Leaving the loop early, `close()`, the `with` block's end or garbage collection stops the
//! threads and waits for them.
//!
//! `get_frames` reads the frames at given indices: where a frame depends only on itself (no
//! temporal filter, no overlay of another video) it seeks to each, as `--start` does, from an
//! index of where every frame is that the container's packets give; otherwise it reads from
//! the start.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use numpy::ndarray::{Array2, Array3, ArrayView2, ShapeBuilder};
use numpy::{IntoPyArray, PyArray2, PyArrayMethods};
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use tessera::chain::Chain as LibChain;
use tessera::frame::PlaneRef;
use tessera::media::{convert, MediaError, OnError};
use tessera::pipeline::{self, Frames, FramesJob, Next, Seek};
use tessera::{BackendChoice, Frame, Samples};

use crate::backends;
use crate::chain::{self, ChainArg};
use crate::errors;
use crate::shelf::Shelf;

/// How often a wait for a frame looks for Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Frames `get_frames` reads through rather than seeking again: closer than this, decoding on
/// is cheaper than a seek back to a key frame.
const READ_ON: u64 = 16;

/// Finished frames a read for `get_frames` keeps ready: it stops once it has what was asked.
const GET_AHEAD: usize = 2;

/// The packed formats `Frame.to_numpy` makes: name, FFmpeg's name for it in this machine's
/// byte order, channels (0 for an (H, W) array).
const PACKED: &[(&str, &str, &str, usize)] = &[
    ("rgb24", "rgb24", "rgb24", 3),
    ("rgba", "rgba", "rgba", 4),
    ("bgr24", "bgr24", "bgr24", 3),
    ("bgra", "bgra", "bgra", 4),
    ("gray", "gray", "gray", 0),
    ("rgb48", "rgb48le", "rgb48be", 3),
    ("rgba64", "rgba64le", "rgba64be", 4),
    ("gray16", "gray16le", "gray16be", 0),
];

/// Packers `to_numpy` lends to one call at a time: as many as threads convert at once, up to
/// a few (each holds a picture of the last frame's size).
static PACKERS: Shelf<&'static str, convert::Packer> = Shelf::new(4);

/// One frame of a video, as the chain made it.
///
/// ``index``: its place in the video, from 0, in presentation order. ``pts``: its timestamp
/// in the stream's time base (``time_base``, a fraction of a second), or None where the stream
/// has none. ``time``: seconds from the start of the file (its timestamp, or the index over
/// the frame rate where it has none); this is ``t`` in the chain's per-frame expressions.
/// ``width``, ``height``; ``format``: the pixel format of the planes, as FFmpeg names it
/// (``"yuv420p"``, ``"yuv420p10le"``, ``"gbrp"``, ``"gray"``); ``bits``: 8 to 16.
///
/// ``planes``: the frame's own planes as read-only numpy arrays, no copy. ``to_numpy()``: the
/// frame as one RGB (or grey) array, converted once.
#[pyclass(frozen, module = "tessera", name = "Frame")]
pub struct VideoFrame {
    frame: Frame,
    time: f64,
    time_base: (i32, i32),
}

#[pymethods]
impl VideoFrame {
    #[getter]
    fn index(&self) -> u64 {
        self.frame.index
    }

    #[getter]
    fn pts(&self) -> Option<i64> {
        self.frame.pts
    }

    /// The stream's time base as (numerator, denominator): ``pts * num / den`` seconds.
    #[getter]
    fn time_base(&self) -> (i32, i32) {
        self.time_base
    }

    #[getter]
    fn time(&self) -> f64 {
        self.time
    }

    #[getter]
    fn width(&self) -> u32 {
        self.frame.width()
    }

    #[getter]
    fn height(&self) -> u32 {
        self.frame.height()
    }

    #[getter]
    fn bits(&self) -> u8 {
        self.frame.format.bits
    }

    #[getter]
    fn format(&self) -> String {
        format_name(&self.frame.format)
    }

    /// The planes as the frame holds them: a list of read-only (H, W) arrays, one a plane in
    /// FFmpeg's order for ``format`` but for RGB, which is R, G, B (then alpha); Y′CbCr's
    /// chroma planes are their own (subsampled) size. ``uint8`` at 8 bits, ``uint16`` holding
    /// the code itself above (a 10-bit sample is 0 to 1023).
    ///
    /// No copy is made: each array is a view of the frame's samples (rows may be padded:
    /// the arrays' strides say so), and its ``base`` is this frame, which stays alive as long
    /// as an array does. Copy an array (``numpy.array(p)``) to change it.
    #[getter]
    fn planes<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let this = slf.get();
        let list = PyList::empty(py);
        for p in 0..this.frame.format.planes() {
            let array = match this.frame.plane(p) {
                PlaneRef::U8(plane) => {
                    view(slf, plane.data, plane.height, plane.width, plane.stride)?
                }
                PlaneRef::U16(plane) => {
                    view(slf, plane.data, plane.height, plane.width, plane.stride)?
                }
            };
            list.append(array)?;
        }
        Ok(list)
    }

    /// The frame as one numpy array of packed pixels, converted once, without the GIL, as the
    /// command line converts frames it writes as PNG or other image sequences (from the frame's
    /// colour matrix and range; R′G′B′ and grey full range).
    ///
    /// ``format``: ``"rgb24"`` (H, W, 3) ``uint8`` (the default), ``"rgba"`` (H, W, 4),
    /// ``"bgr24"``, ``"bgra"``, ``"gray"`` (H, W), and at 16 bits a sample ``"rgb48"`` (H, W,
    /// 3) ``uint16``, ``"rgba64"``, ``"gray16"`` (H, W).
    #[pyo3(signature = (format = "rgb24"))]
    fn to_numpy<'py>(&self, py: Python<'py>, format: &str) -> PyResult<Bound<'py, PyAny>> {
        let Some(&(_, little, big, channels)) = PACKED.iter().find(|(n, ..)| *n == format) else {
            let names: Vec<&str> = PACKED.iter().map(|(n, ..)| *n).collect();
            return Err(PyValueError::new_err(format!(
                "format {format:?} is not one of {}",
                names.join(", ")
            )));
        };
        let name = if cfg!(target_endian = "big") {
            big
        } else {
            little
        };
        let pix_fmt = convert::format_named(name)
            .ok_or_else(|| errors::Error::new_err(format!("this FFmpeg has no {name} format")))?;
        let frame = &self.frame;
        let samples = py
            .detach(|| {
                // A packer kept from an earlier frame: its swscale context and picture serve
                // this one (a context made for each 1080p frame, and its picture faulted in,
                // cost more than the conversion).
                let mut packer = match PACKERS.take(&name) {
                    Some(p) => p,
                    None => convert::Packer::new(pix_fmt)?,
                };
                let samples = packer.pack(frame);
                PACKERS.put(name, packer);
                samples
            })
            .map_err(errors::Error::new_err)?;
        let (h, w) = (frame.height() as usize, frame.width() as usize);
        let bad = |e: numpy::ndarray::ShapeError| PyValueError::new_err(e.to_string());
        Ok(match (samples, channels) {
            (Samples::U8(v), 0) => Array2::from_shape_vec((h, w), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
            (Samples::U8(v), c) => Array3::from_shape_vec((h, w, c), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
            (Samples::U16(v), 0) => Array2::from_shape_vec((h, w), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
            (Samples::U16(v), c) => Array3::from_shape_vec((h, w, c), v)
                .map_err(bad)?
                .into_pyarray(py)
                .into_any(),
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<tessera.Frame {} {}x{} {} at {:.3}s>",
            self.frame.index,
            self.frame.width(),
            self.frame.height(),
            format_name(&self.frame.format),
            self.time
        )
    }
}

/// A read-only numpy view of a plane's rows, `frame` its base.
fn view<'py, T: numpy::Element>(
    frame: &Bound<'py, VideoFrame>,
    data: &[T],
    height: usize,
    width: usize,
    stride: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let shaped = ArrayView2::from_shape((height, width).strides((stride, 1)), data)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    // SAFETY: the samples belong to the frame, which is frozen (its planes are never changed
    // or moved) and is the array's base, so they live as long as the array does.
    let array = unsafe { PyArray2::borrow_from_array(&shaped, frame.clone().into_any()) };
    let readonly = array.readwrite().make_nonwriteable();
    Ok(readonly.as_any().clone())
}

/// FFmpeg's name of a frame format (`yuv420p10le`), or tessera's description where FFmpeg
/// has none.
fn format_name(format: &tessera::Format) -> String {
    match convert::pix_fmt_of(format) {
        Some(f) => convert::format_name(f),
        None => format.describe(),
    }
}

/// A video file opened by :func:`open`, read frame by frame.
///
/// Iterate over it for its frames (:class:`Frame`), each through the chain; decoding and the
/// chain run on threads of their own, ahead of the loop by at most ``read_ahead`` frames, and
/// the loop waits for each frame with the GIL released. The iteration is one pass over the
/// video: a second loop continues where the first stopped. ``get_frames`` reads frames by
/// index, independently of the iteration.
///
/// ``fps`` (FFmpeg's best guess of the frame rate; None when unknown), ``duration`` (seconds;
/// None when unknown), ``streams`` (every stream of the file, as ``tessera probe --json`` lists
/// them), ``width``, ``height``, ``format`` (of the frames handed out, after the chain),
/// ``path``, ``closed``. The number of frames is known only from the container's index of its
/// packets, which ``frame_count`` reads (once, and the whole file); the video has no ``len()``.
///
/// Use it as a context manager, or call ``close()``: that stops the threads and frees what they
/// hold at once. A video that is garbage collected stops them too.
#[pyclass(frozen, module = "tessera", name = "Video")]
pub struct Video {
    path: PathBuf,
    chain: LibChain,
    choice: BackendChoice,
    on_error: OnError,
    info: tessera::media::decode::StreamInfo,
    output: tessera::Format,
    /// Whether a frame depends on the frames before it: `get_frames` then reads from the start.
    history: bool,
    streams: Py<PyAny>,
    reader: Mutex<Option<Frames>>,
    closed: AtomicBool,
    /// Where each frame is, read once, for `get_frames`.
    seeks: OnceLock<Option<Vec<Seek>>>,
}

/// What every read of one video is made with.
#[derive(Clone, Copy)]
struct Opened<'a> {
    path: &'a std::path::Path,
    chain: &'a LibChain,
    choice: BackendChoice,
    on_error: OnError,
}

/// Opens a read of the video from `from`, `ahead` frames ahead. Call without the GIL.
fn start(video: &Opened, from: Option<Seek>, ahead: usize) -> Result<Frames, tessera::Error> {
    let Opened {
        path,
        chain,
        choice,
        on_error,
    } = *video;
    // As `tessera.process`: the GPU device the process keeps; `auto` without a hardware GPU
    // is the CPU, not a probe for one at every call.
    let device = backends::device(choice)?;
    let choice = if device.is_none() {
        BackendChoice::Cpu
    } else {
        choice
    };
    let backend = tessera::backend::open_on(choice, device.as_ref())?;
    let job = FramesJob {
        input: path.to_path_buf(),
        chain: chain.clone(),
        from,
        fps: None,
        on_error,
        ahead,
        limits: tessera::limits::Limits {
            max_pixels: None,
            max_memory: tessera::limits::default_max_memory(),
        },
        // Leaving the loop drops the read, which stops it; no other run's stop reaches it.
        stop: Default::default(),
    };
    Frames::open(job, backend)
}

/// Waits for the next frame of `frames` without the GIL, looking for Ctrl-C every 50 ms; stops
/// early (`None`) once `closed` is set.
fn next_frame(
    py: Python<'_>,
    frames: &mut Frames,
    closed: Option<&AtomicBool>,
    chain: &LibChain,
) -> PyResult<Option<Frame>> {
    loop {
        match py.detach(|| frames.next(SIGNAL_CHECK)) {
            Ok(Next::Frame(frame)) => return Ok(Some(frame)),
            Ok(Next::End) => return Ok(None),
            Ok(Next::NotYet) => {}
            Err(e) => return Err(errors::to_py(py, e, chain)),
        }
        py.check_signals()?;
        if closed.is_some_and(|c| c.load(Ordering::SeqCst)) {
            return Ok(None);
        }
    }
}

impl Video {
    fn opened(&self) -> Opened<'_> {
        Opened {
            path: &self.path,
            chain: &self.chain,
            choice: self.choice,
            on_error: self.on_error,
        }
    }

    fn frame(&self, py: Python<'_>, frames: &Frames, frame: Frame) -> PyResult<Py<VideoFrame>> {
        let tb = self.info.time_base;
        Py::new(
            py,
            VideoFrame {
                time: frames.time(&frame),
                frame,
                time_base: (tb.numerator(), tb.denominator()),
            },
        )
    }

    fn check_open(&self) -> PyResult<()> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(PyValueError::new_err("the video is closed"));
        }
        Ok(())
    }

    /// Where each frame is (read once): `None` where the container's packets do not say.
    fn seeks(&self, py: Python<'_>) -> PyResult<&Option<Vec<Seek>>> {
        if let Some(seeks) = self.seeks.get() {
            return Ok(seeks);
        }
        let path = &self.path;
        let read = py
            .detach(|| pipeline::seeks(path, None))
            .map_err(|e| errors::to_py(py, e, &self.chain))?;
        Ok(self.seeks.get_or_init(|| read))
    }

    /// Reads from the start and keeps the frames at `wanted` (sorted, unique); the count of
    /// frames where the video ends first.
    fn read_through(
        &self,
        py: Python<'_>,
        wanted: &[u64],
        got: &mut Vec<(u64, Py<VideoFrame>)>,
    ) -> PyResult<Result<(), u64>> {
        let (opened, chain) = (self.opened(), &self.chain);
        let mut frames = py
            .detach(|| start(&opened, None, GET_AHEAD))
            .map_err(|e| errors::to_py(py, e, chain))?;
        let mut read = 0;
        for &k in wanted {
            loop {
                let Some(frame) = next_frame(py, &mut frames, None, chain)? else {
                    return Ok(Err(read));
                };
                read = frame.index + 1;
                if frame.index == k {
                    got.push((k, self.frame(py, &frames, frame)?));
                    break;
                }
            }
        }
        py.detach(|| drop(frames));
        Ok(Ok(()))
    }

    /// Seeks to each of `wanted` (sorted, unique, inside `seeks`), reading on from one to the
    /// next where they are close; `false` as soon as a frame read is not the one the index
    /// says (the caller then reads from the start).
    fn read_seeking(
        &self,
        py: Python<'_>,
        seeks: &[Seek],
        wanted: &[u64],
        got: &mut Vec<(u64, Py<VideoFrame>)>,
    ) -> PyResult<bool> {
        let (opened, chain) = (self.opened(), &self.chain);
        let mut reading: Option<(Frames, u64)> = None;
        for &k in wanted {
            let seek = seeks[k as usize];
            let near = reading
                .as_ref()
                .is_some_and(|&(_, next)| next <= k && k - next < READ_ON);
            if !near {
                if let Some((old, _)) = reading.take() {
                    py.detach(|| drop(old));
                }
                match py.detach(|| start(&opened, Some(seek), GET_AHEAD)) {
                    Ok(frames) => reading = Some((frames, k)),
                    // A stream that cannot seek there is read from the start.
                    Err(tessera::Error::Media(MediaError::Unsupported { .. })) => return Ok(false),
                    Err(e) => return Err(errors::to_py(py, e, chain)),
                }
            }
            let (frames, next) = reading.as_mut().expect("a read was started above");
            loop {
                let Some(frame) = next_frame(py, frames, None, chain)? else {
                    return Ok(false);
                };
                *next = frame.index + 1;
                let indexed = seeks.get(frame.index as usize).map(|s| s.pts);
                if indexed.is_none() || frame.pts != indexed {
                    return Ok(false);
                }
                if frame.index == k {
                    got.push((k, self.frame(py, frames, frame)?));
                    break;
                }
            }
        }
        if let Some((frames, _)) = reading {
            py.detach(|| drop(frames));
        }
        Ok(true)
    }
}

#[pymethods]
impl Video {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<VideoFrame>>> {
        self.check_open()?;
        let Ok(mut reader) = self.reader.try_lock() else {
            return Err(PyRuntimeError::new_err(
                "another thread is reading this video: one loop at a time",
            ));
        };
        let Some(frames) = reader.as_mut() else {
            return Ok(None);
        };
        match next_frame(py, frames, Some(&self.closed), &self.chain)? {
            Some(frame) => self.frame(py, frames, frame).map(Some),
            None => {
                // The end: the threads are done, and what they held goes now.
                let ended = reader.take();
                py.detach(|| drop(ended));
                Ok(None)
            }
        }
    }

    /// The frames at these indices (0 is the first; negative ones count from the end, as a
    /// list's), in the order asked, the same frames (pixels, ``pts``, ``time``, ``index``) as
    /// iterating over the video gives.
    ///
    /// Frame-exact: an index of where each frame is, read once from the container's packets
    /// (the whole file is read, nothing decoded), gives each frame's time; the read seeks to
    /// the key frame before it, as ``tessera process --start`` does, decodes from there and
    /// checks that the frame it stops at has the timestamp the index gives. A chain with a
    /// temporal filter (tmix, hqdn3d) or an overlay of another video, whose frames depend on
    /// those before, is read from the start instead, as is a stream whose packets carry no
    /// timestamps or whose frames do not match the index.
    ///
    /// Raises ``IndexError`` for an index outside the video, naming its number of frames.
    fn get_frames(&self, py: Python<'_>, indices: Vec<i64>) -> PyResult<Vec<Py<VideoFrame>>> {
        self.check_open()?;
        let index = self.seeks(py)?.as_deref();
        let count = index.map(|s| s.len() as u64);
        let out_of_range = |i: i64, n: u64| {
            PyIndexError::new_err(format!(
                "frame {i} is outside the video: it has {n} frames (0 to {})",
                n as i64 - 1
            ))
        };
        let mut asked = Vec::with_capacity(indices.len());
        for &i in &indices {
            let k = match (i, count) {
                (i, Some(n)) if i < 0 => (n as i64 + i).max(-1),
                (i, _) => i,
            };
            match count {
                Some(n) if k < 0 || k as u64 >= n => return Err(out_of_range(i, n)),
                None if k < 0 => {
                    return Err(PyIndexError::new_err(format!(
                        "frame {i}: the video's number of frames is not known, so indices \
                         cannot count from its end"
                    )))
                }
                _ => asked.push(k as u64),
            }
        }
        let mut wanted = asked.clone();
        wanted.sort_unstable();
        wanted.dedup();
        let mut got = Vec::with_capacity(wanted.len());
        let seeked = match index {
            Some(seeks) if !self.history && !wanted.is_empty() => {
                self.read_seeking(py, seeks, &wanted, &mut got)?
            }
            _ => wanted.is_empty(),
        };
        if !seeked {
            got.clear();
            if let Err(n) = self.read_through(py, &wanted, &mut got)? {
                let first = wanted.iter().find(|&&k| k >= n).copied().unwrap_or(n);
                return Err(out_of_range(first as i64, n));
            }
        }
        Ok(asked
            .iter()
            .map(|k| {
                let at = got
                    .binary_search_by_key(k, |(i, _)| *i)
                    .expect("every index read");
                got[at].1.clone_ref(py)
            })
            .collect())
    }

    /// The number of frames, from the container's index of its packets (read once: the whole
    /// file is read, nothing decoded); None where the packets carry no timestamps. A damaged
    /// stream may decode fewer.
    #[getter]
    fn frame_count(&self, py: Python<'_>) -> PyResult<Option<usize>> {
        Ok(self.seeks(py)?.as_ref().map(Vec::len))
    }

    #[getter]
    fn path(&self) -> String {
        self.path.display().to_string()
    }

    /// Frames a second (FFmpeg's best guess); None when unknown.
    #[getter]
    fn fps(&self) -> Option<f64> {
        let rate = self.info.frame_rate;
        (rate.numerator() > 0 && rate.denominator() > 0).then(|| f64::from(rate))
    }

    /// Seconds the video stream lasts; None when unknown.
    #[getter]
    fn duration(&self) -> Option<f64> {
        (self.info.duration > 0.0).then_some(self.info.duration)
    }

    /// Every stream of the file, as dicts with the fields ``tessera probe --json`` gives
    /// (``index``, ``kind``, ``codec``, ``video`` or ``audio`` parameters, ...).
    #[getter]
    fn streams(&self, py: Python<'_>) -> Py<PyAny> {
        self.streams.clone_ref(py)
    }

    /// Width of the frames handed out (after the chain).
    #[getter]
    fn width(&self) -> u32 {
        self.output.width
    }

    #[getter]
    fn height(&self) -> u32 {
        self.output.height
    }

    /// Pixel format of the frames handed out, as :attr:`Frame.format` names it.
    #[getter]
    fn format(&self) -> String {
        format_name(&self.output)
    }

    #[getter]
    fn closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Stops the read and waits for its threads; what they hold is freed. Frames already
    /// handed out (and their arrays) stay valid. Calling it again does nothing.
    fn close(&self, py: Python<'_>) {
        self.closed.store(true, Ordering::SeqCst);
        // A loop on another thread sees `closed` within 50 ms and lets the reader go.
        let ended = py.detach(|| {
            self.reader
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take()
        });
        py.detach(|| drop(ended));
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> bool {
        self.close(py);
        false
    }

    fn __repr__(&self) -> String {
        format!(
            "<tessera.Video {:?} {}x{} {}{}>",
            self.path.display().to_string(),
            self.output.width,
            self.output.height,
            format_name(&self.output),
            if self.closed() { ", closed" } else { "" }
        )
    }
}

/// Opens a video file to read frame by frame, each frame through a chain.
///
/// ``path``: a video file (mp4, mkv, mov, webm, avi, an animated GIF or WebP, ...). A still
/// image raises :class:`MediaError`: filter its pixels with :meth:`Chain.apply`, or the file
/// with :func:`process`.
///
/// ``chain``: chain text or a :class:`Chain`; None hands out the decoded frames as they are.
/// ``backend``: ``"auto"``, ``"cpu"`` or ``"gpu"``, as for :meth:`Chain.apply`.
/// ``read_ahead``: how many finished frames may wait for the loop (1 or more; the decoder and
/// each stage hold one more besides): the read runs this far ahead and no further, so memory
/// stays the same however long the video. ``on_error``: what a damaged frame does, as for
/// :func:`process`: ``"stop"`` raises :class:`MediaError` from the loop, ``"skip"`` leaves it
/// out (the frames after it keep counting from the last one handed out), ``"accept"`` hands
/// out what the decoder made of it.
///
/// The file is opened and the chain compiled for its frames here, so a missing or unreadable
/// file raises :class:`MediaError` and a chain that cannot run on these frames
/// :class:`ChainError` at once; then the read starts. A damaged frame met later raises
/// :class:`MediaError` from the loop, naming the file and the frame (with ``on_error="stop"``).
///
/// Example::
///
///     with tessera.open("clip.mp4", chain="gblur(sigma=2)", backend="gpu") as video:
///         for frame in video:
///             rgb = frame.to_numpy("rgb24")     # (H, W, 3) uint8
///             y, u, v = frame.planes            # the frame's own planes, no copy
#[pyfunction]
#[pyo3(signature = (path, chain = None, backend = "auto", *, read_ahead = 4, on_error = "stop"))]
pub fn open(
    py: Python<'_>,
    path: PathBuf,
    chain: Option<ChainArg<'_>>,
    backend: &str,
    read_ahead: usize,
    on_error: &str,
) -> PyResult<Video> {
    let chain = chain::library_chain(py, chain)?;
    let choice = backends::choice(backend)?;
    let on_error = crate::process::on_error_policy(on_error)?;
    if read_ahead == 0 {
        return Err(PyValueError::new_err(
            "read_ahead=0 would stop the read (give 1 or more)",
        ));
    }
    let still = py.detach(|| tessera::media::image::is_image_file(&path));
    match still {
        Ok(true) => {
            return Err(errors::MediaError::new_err(format!(
                "{}: a still image; tessera.open reads videos. Filter an image's pixels with \
                 Chain.apply, or the file with tessera.process",
                path.display()
            )))
        }
        Ok(false) => {}
        Err(e) => return Err(errors::MediaError::new_err(tessera::error::with_causes(&e))),
    }
    let opened = Opened {
        path: &path,
        chain: &chain,
        choice,
        on_error,
    };
    let frames = py
        .detach(|| start(&opened, None, read_ahead))
        .map_err(|e| errors::to_py(py, e, &chain))?;
    let info = *frames.info();
    let output = *frames.output();
    let history = frames.reads_history();
    let probed = py
        .detach(|| tessera::media::probe(&path))
        .map_err(|e| errors::MediaError::new_err(tessera::error::with_causes(&e)))?;
    let document = py
        .import("json")?
        .call_method1("loads", (probed.to_json(),))?;
    Ok(Video {
        path,
        chain,
        choice,
        on_error,
        info,
        output,
        history,
        streams: document.get_item("streams")?.unbind(),
        reader: Mutex::new(Some(frames)),
        closed: AtomicBool::new(false),
        seeks: OnceLock::new(),
    })
}
