//! The package's exceptions and how the library's errors become them.
//!
//! One Python class per kind of failure, as the library's [`tessera::Error`] has one variant per
//! layer: `ChainError` for text that does not parse or resolve and for a chain that cannot run
//! on the picture given (a crop outside it), `MediaError` for files, `BackendError` for the
//! CPU or GPU backend. Requests that make no sense (an existing output without `overwrite`) are
//! `tessera.Error` itself. An interrupted run is Python's own `KeyboardInterrupt`.

use pyo3::exceptions::{PyException, PyKeyboardInterrupt};
use pyo3::prelude::*;
use tessera::chain::{render_all, Chain, ChainError as LibChainError};

pyo3::create_exception!(
    tessera,
    Error,
    PyException,
    "Base class of every error tessera raises."
);
pyo3::create_exception!(
    tessera,
    ChainError,
    Error,
    "A chain that does not parse or resolve, or that cannot run on the picture given.\n\n\
     ``str(e)`` is the offending line with a caret under the error, as the command line prints \
     it. Attributes: ``message`` (the first error's text), ``line`` and ``column`` (1-based, \
     where it starts), ``hint`` (a suggestion such as \"did you mean `gblur`?\", or None), \
     ``errors`` (how many errors the text has)."
);
pyo3::create_exception!(
    tessera,
    MediaError,
    Error,
    "A file that cannot be read, decoded, encoded or written."
);
pyo3::create_exception!(
    tessera,
    BackendError,
    Error,
    "The backend failed: no GPU adapter, a GPU error, a frame too large for the device."
);

/// The 1-based line and column (in characters) where byte `at` of `source` is.
fn line_column(source: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = source[..at].matches('\n').count() + 1;
    (line, source[line_start..at].chars().count() + 1)
}

/// A `ChainError` for `errors` in `source` (the first one's place in the attributes), text as
/// the command line renders it.
pub fn chain_error(py: Python<'_>, errors: &[LibChainError], source: &str) -> PyErr {
    chain_error_from(py, errors, source, None)
}

fn chain_error_from(
    py: Python<'_>,
    errors: &[LibChainError],
    source: &str,
    origin: Option<&str>,
) -> PyErr {
    let err = ChainError::new_err(render_all(errors, source, origin));
    if let Some(first) = errors.first() {
        let (line, column) = line_column(source, first.span.0);
        let value = err.value(py);
        // Setting attributes on a fresh exception instance of a class made here cannot fail
        // but for memory; then the error still says what is wrong.
        let _ = value.setattr("message", first.message.as_str());
        let _ = value.setattr("line", line);
        let _ = value.setattr("column", column);
        let _ = value.setattr("hint", first.help.as_deref());
        let _ = value.setattr("errors", errors.len());
    }
    err
}

/// The library's error as the Python exception of its kind; chain and plan errors point into
/// `chain`'s text.
pub fn to_py(py: Python<'_>, error: tessera::Error, chain: &Chain) -> PyErr {
    use tessera::Error as E;
    match error {
        E::Chain(e) => chain_error_from(py, &[e], &chain.source, chain.origin.as_deref()),
        E::Plan(e) => {
            let as_chain = LibChainError::new(e.to_string(), e.span);
            chain_error_from(py, &[as_chain], &chain.source, chain.origin.as_deref())
        }
        E::Media(e) => MediaError::new_err(tessera::error::with_causes(&e)),
        E::Backend(e) => BackendError::new_err(tessera::error::with_causes(&e)),
        E::Usage(text) => Error::new_err(text),
        E::Interrupted => PyKeyboardInterrupt::new_err("tessera: interrupted; nothing written"),
    }
}
