//! The `tessera` Python package's compiled part, `tessera._tessera`: the library's chains,
//! backends and jobs for Python, numpy arrays in and out.
//!
//! One file per concern: [`chain`] (`tessera.Chain`), [`arrays`] (numpy arrays to frames and
//! back), [`backends`] (devices opened once per process, backends lent per call), [`process`]
//! (`tessera.process`, one file as the command line processes it), [`batch`]
//! (`tessera.process_batch`, many files as the command line's batch), `video`
//! (`tessera.open`, a video read frame by frame; with the `video` feature), [`errors`] (the exception
//! classes). Every call that works runs with the GIL released. The Python side
//! (`tessera/__init__.py`, the stubs) re-exports what is registered here.

mod arrays;
mod backends;
mod batch;
mod chain;
mod errors;
mod process;
mod shelf;
#[cfg(feature = "video")]
mod video;

use pyo3::prelude::*;

/// `gil_used = false`: the module runs without the GIL on a free-threaded CPython (3.14t). Its
/// classes are frozen (immutable, or guarded by their own locks), its shared state (the
/// backends' pool, the GPU devices) is behind `Mutex` and `OnceLock`, and nothing relies on
/// the GIL to keep threads apart: the calls already run with it released.
#[pymodule(gil_used = false)]
fn _tessera(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("VIDEO", cfg!(feature = "video"))?;
    m.add_class::<chain::Chain>()?;
    m.add_function(wrap_pyfunction!(process::process, m)?)?;
    m.add_function(wrap_pyfunction!(batch::process_batch, m)?)?;
    #[cfg(feature = "video")]
    {
        m.add_function(wrap_pyfunction!(video::open, m)?)?;
        m.add_class::<video::Video>()?;
        m.add_class::<video::VideoFrame>()?;
    }
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add("ChainError", py.get_type::<errors::ChainError>())?;
    m.add("MediaError", py.get_type::<errors::MediaError>())?;
    m.add("BackendError", py.get_type::<errors::BackendError>())?;
    Ok(())
}
