//! `tessera.Chain`: chain text parsed and checked once, applied to numpy arrays.
//!
//! A chain is immutable once made (a frozen class), so one `Chain` serves any number of
//! Python threads; each call borrows its own backend ([`crate::backends`]) and runs without
//! the GIL, so calls on several threads run at the same time.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyType;
use tessera::chain::Chain as LibChain;
use tessera::plan;

use crate::arrays;
use crate::backends;
use crate::errors;

/// A filter chain, parsed and checked against the filter registry when made.
///
/// ``Chain(text)`` takes the chain language of ``tessera process --chain``: stages separated
/// by ``|`` or new lines, each ``name(key=value, ...)`` or ``name`` alone, ``#`` comments,
/// ``let`` definitions. ``tessera filters`` on the command line lists every filter with its
/// parameters, ranges and defaults. Text that does not parse, names an unknown filter or gives
/// a parameter out of its range raises :class:`tessera.ChainError`, whose ``str()`` points at
/// the error with a caret, and whose ``line``, ``column`` and ``hint`` say where and what.
///
/// A chain is immutable and may be shared between threads: calls to :meth:`apply` from
/// several threads run in parallel, the GIL released.
///
/// Example::
///
///     import numpy as np, tessera
///     chain = tessera.Chain("gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1)")
///     out = chain.apply(np.zeros((480, 640, 3), np.uint8))   # (480, 640, 3) uint8
#[pyclass(frozen, module = "tessera")]
pub struct Chain {
    chain: LibChain,
}

impl Chain {
    /// The library's chain, for the package's other calls.
    pub fn library(&self) -> &LibChain {
        &self.chain
    }
}

#[pymethods]
impl Chain {
    #[new]
    #[pyo3(signature = (text))]
    fn new(py: Python<'_>, text: &str) -> PyResult<Chain> {
        match LibChain::parse_all(text) {
            Ok(chain) => Ok(Chain { chain }),
            Err(errors) => Err(errors::chain_error(py, &errors, text)),
        }
    }

    /// The chain's text as it was given.
    #[getter]
    fn text(&self) -> &str {
        &self.chain.source
    }

    /// The chain with every default filled in and every definition expanded, as
    /// ``tessera check`` prints it.
    #[getter]
    fn resolved(&self) -> String {
        self.chain.to_text()
    }

    /// Runs the chain over a picture held in a numpy array and returns the result as a new
    /// array.
    ///
    /// ``img``: a numpy array of shape (H, W) (grey), (H, W, 1), (H, W, 2) (grey and alpha),
    /// (H, W, 3) (RGB) or (H, W, 4) (RGBA), of dtype ``uint8``, ``uint16`` (16-bit codes,
    /// 0 to 65535) or ``float32`` (values from 0 to 1). The result has the same dtype and
    /// layout, and the size the chain makes (``scale``, ``crop``, ``pad``, ``rotate`` change
    /// it); a chain that adds or removes alpha adds or removes that channel. The picture is
    /// taken as full-range sRGB, as a PNG without a colour profile is, and the result equals
    /// what ``tessera process in.png -o out.png --chain ...`` writes for the same pixels.
    ///
    /// ``float32``: tessera's frames hold integer codes, so each value x is taken as the 16-bit
    /// code round(x * 65535) (halves away from zero), the chain runs at 16 bits, and each code
    /// c of the result comes back as the float32 nearest c / 65535. The result is exactly that
    /// of ``uint16`` codes divided by 65535, and values that are already c / 65535 go in
    /// unchanged; other values move to the nearest code, at most half a step (1/131070) away:
    /// 1/65535 is the precision. A value that does not round into 0..65535 (-0.5/65535 and
    /// below, 1 + 0.5/65535 and above), infinity or NaN raises ``ValueError`` naming where it
    /// is: clamping would hide a picture on another scale (0-255 floats would come back
    /// white). Clip (``numpy.clip(a, 0, 1)``) or replace NaN (``numpy.nan_to_num``) first where
    /// that is what you mean. ``float64`` is refused (``TypeError``): convert with
    /// ``a.astype(numpy.float32)``, which tells every 16-bit code apart.
    ///
    /// ``backend``: ``"cpu"``, ``"gpu"`` (any GPU adapter, a software one such as Mesa's
    /// lavapipe included) or ``"auto"`` (a hardware GPU when there is one, the CPU
    /// otherwise). The first call on a GPU opens the device, once per process.
    ///
    /// ``threads``: how many threads the call's work on the CPU runs on (the CPU backend's
    /// filters, and taking the array apart and weaving the result on either backend).
    /// ``None`` shares one pool among every call, a thread a core, which one call fills by
    /// itself; ``1`` keeps each call to a thread of its own, for callers that spread their
    /// pictures over threads themselves (a thread pool over frames, Dask's threaded
    /// scheduler), as OpenCV's users call ``cv2.setNumThreads(1)``.
    ///
    /// The array is read in place (C-contiguous or not; a non-contiguous one is read following
    /// its strides) and must not be written to by another thread during the call. The work
    /// runs with the GIL released.
    ///
    /// Raises ``TypeError`` or ``ValueError`` for an array that is not a picture (or holds a
    /// float32 value with no code),
    /// :class:`tessera.ChainError` for a chain that cannot run on this picture (a crop outside
    /// it), :class:`tessera.BackendError` when the backend fails or no GPU opens.
    #[pyo3(signature = (img, backend = "auto", threads = None))]
    fn apply<'py>(
        &self,
        py: Python<'py>,
        img: &Bound<'py, PyAny>,
        backend: &str,
        threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let choice = backends::choice(backend)?;
        let threads = backends::threads(threads)?;
        let pixels = arrays::read(img)?;
        let two_dim = pixels.two_dim();
        let float = pixels.is_float();
        let chain = &self.chain;
        let work = move || -> Result<_, Failure> {
            let plan = plan::compile(chain, &pixels.format())
                .map_err(|e| Failure::Library(tessera::Error::Plan(e)))?;
            let mut lent = backends::lend(choice).map_err(Failure::Backend)?;
            let frame = pixels.into_frame(lent.get()).map_err(Failure::Value)?;
            let result = lent.get().process(&plan, frame).map_err(Failure::Backend)?;
            let done = arrays::interleave(&result, two_dim, float).map_err(Failure::Shape);
            // The result's planes serve the next call's.
            lent.get().recycle(result);
            done
        };
        let done = py.detach(move || match threads {
            // The pool's threads run the whole call: rayon's parallel loops inside it (the
            // backend's, the weaving's) stay on them.
            Some(n) => backends::lend_pool(n).map_err(Failure::Backend)?.run(work),
            None => work(),
        });
        match done {
            Ok(samples) => samples.into_array(py),
            Err(Failure::Library(e)) => Err(errors::to_py(py, e, chain)),
            Err(Failure::Backend(e)) => Err(backends::to_py(e)),
            Err(Failure::Shape(text)) => Err(errors::Error::new_err(text)),
            Err(Failure::Value(text)) => Err(PyValueError::new_err(text)),
        }
    }

    /// Pickles as its text: unpickled (in another process, a Dask worker), the text is parsed
    /// and checked again. A chain file's name, which errors mention, is not kept.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String,)) {
        (slf.get_type(), (slf.get().chain.source.clone(),))
    }

    fn __repr__(&self) -> String {
        format!("tessera.Chain({:?})", self.chain.source)
    }

    fn __str__(&self) -> String {
        self.chain.source.clone()
    }
}

/// A chain given as text or as a made `Chain`, as the package's functions take one.
#[derive(FromPyObject)]
pub enum ChainArg<'py> {
    Made(Bound<'py, Chain>),
    Text(String),
}

/// The library's chain of a `chain=` argument: none passes frames through unchanged; text
/// that does not parse raises `ChainError`.
pub fn library_chain(py: Python<'_>, chain: Option<ChainArg<'_>>) -> PyResult<LibChain> {
    match chain {
        None => Ok(LibChain::default()),
        Some(ChainArg::Made(made)) => Ok(made.get().library().clone()),
        Some(ChainArg::Text(text)) => {
            LibChain::parse_all(&text).map_err(|e| errors::chain_error(py, &e, &text))
        }
    }
}

/// What can go wrong while the GIL is released, turned into an exception once it is taken back.
enum Failure {
    Library(tessera::Error),
    Backend(tessera::BackendError),
    Shape(String),
    /// A float32 value with no 16-bit code.
    Value(String),
}
