//! Backends for the package's calls, made once per process and lent to one call at a time.
//!
//! Opening a GPU device is slow (a second or more on Mesa's lavapipe), so each device is opened
//! on first use and kept for the life of the process. A backend is `Send` but not `Sync` (it
//! keeps buffers and pipelines between frames), so calls running at the same time on several
//! Python threads each borrow their own from a pool, made on the shared device, and give it
//! back when done: threads run in parallel, and a steady loop of calls allocates nothing new.

use std::sync::OnceLock;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tessera::backend::cpu::CpuBackend;
use tessera::backend::gpu::{AdapterPolicy, GpuBackend, GpuDevice};
use tessera::{Backend, BackendChoice};

use crate::errors::BackendError;
use crate::shelf::Shelf;

/// `"cpu"`, `"gpu"` or `"auto"`, as the command line's `--backend` takes them.
pub fn choice(name: &str) -> PyResult<BackendChoice> {
    match name {
        "cpu" => Ok(BackendChoice::Cpu),
        "gpu" => Ok(BackendChoice::Gpu),
        "auto" => Ok(BackendChoice::Auto),
        other => Err(PyValueError::new_err(format!(
            "backend {other:?} is not one of \"cpu\", \"gpu\", \"auto\""
        ))),
    }
}

/// What a choice comes to once devices are known: the CPU, or a GPU device opened under one
/// policy (the pool keeps their backends apart).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cpu,
    Gpu(Policy),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Policy {
    Any,
    HardwareOnly,
}

/// Any adapter, software ones included (`"gpu"`); the error's text where none opened.
static ANY_GPU: OnceLock<Result<GpuDevice, String>> = OnceLock::new();
/// A hardware adapter (`"auto"`); `None` where there is none, and `"auto"` takes the CPU.
static HARDWARE_GPU: OnceLock<Option<GpuDevice>> = OnceLock::new();
/// Backends not lent at the moment.
static IDLE: Shelf<Kind, Box<dyn Backend>> = Shelf::new(usize::MAX);

/// The GPU device a choice runs on, opened on first use; `Ok(None)` where the choice is the
/// CPU (`"cpu"`, or `"auto"` on a machine without a hardware GPU). Call without the GIL: the
/// first call may take seconds.
pub fn device(choice: BackendChoice) -> Result<Option<GpuDevice>, tessera::BackendError> {
    match choice {
        BackendChoice::Cpu => Ok(None),
        BackendChoice::Auto => Ok(HARDWARE_GPU
            .get_or_init(|| GpuDevice::open(AdapterPolicy::HardwareOnly).ok())
            .clone()),
        BackendChoice::Gpu => match ANY_GPU
            .get_or_init(|| GpuDevice::open(AdapterPolicy::Any).map_err(|e| e.to_string()))
        {
            Ok(device) => Ok(Some(device.clone())),
            Err(text) => Err(tessera::BackendError::Device(text.clone())),
        },
    }
}

/// A `threads=` argument: at least one.
pub fn threads(threads: Option<usize>) -> PyResult<Option<usize>> {
    match threads {
        Some(0) => Err(PyValueError::new_err(
            "threads=0: a call needs at least one thread (None shares the pool of a thread a core)",
        )),
        n => Ok(n),
    }
}

/// Pools of a call's own threads (`threads=n`), made on first use and lent to one call at a
/// time like the backends, so that calls on several Python threads each have their own.
static POOLS: Shelf<usize, rayon::ThreadPool> = Shelf::new(usize::MAX);

/// A pool of `n` threads, lent to one call and given back when dropped.
pub struct LentPool {
    threads: usize,
    pool: Option<rayon::ThreadPool>,
}

impl LentPool {
    /// Runs `work` on the pool's threads, the calling thread waiting.
    pub fn run<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        self.pool
            .as_ref()
            .expect("a lent pool is held until drop")
            .install(work)
    }
}

impl Drop for LentPool {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            POOLS.put(self.threads, pool);
        }
    }
}

pub fn lend_pool(threads: usize) -> Result<LentPool, tessera::BackendError> {
    let pool = match POOLS.take(&threads) {
        Some(pool) => pool,
        None => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("tessera-call-{i}"))
            .build()
            .map_err(|e| {
                tessera::BackendError::Device(format!("no pool of {threads} threads: {e}"))
            })?,
    };
    Ok(LentPool {
        threads,
        pool: Some(pool),
    })
}

/// A backend lent to one call; it goes back to the pool when dropped.
pub struct Lent {
    kind: Kind,
    backend: Option<Box<dyn Backend>>,
}

impl Lent {
    pub fn get(&mut self) -> &mut dyn Backend {
        &mut **self
            .backend
            .as_mut()
            .expect("a lent backend is held until drop")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(mut backend) = self.backend.take() {
            // What one call left (a temporal filter's history) is not the next call's.
            backend.new_stream();
            IDLE.put(self.kind, backend);
        }
    }
}

/// Lends a backend for `choice`, from the pool or newly made. Call without the GIL.
pub fn lend(choice: BackendChoice) -> Result<Lent, tessera::BackendError> {
    let device = device(choice)?;
    let kind = match (&device, choice) {
        (None, _) => Kind::Cpu,
        (Some(_), BackendChoice::Auto) => Kind::Gpu(Policy::HardwareOnly),
        (Some(_), _) => Kind::Gpu(Policy::Any),
    };
    let mut backend = match (IDLE.take(&kind), &device) {
        (Some(backend), _) => backend,
        (None, Some(device)) => Box::new(GpuBackend::on(device)) as Box<dyn Backend>,
        (None, None) => Box::new(CpuBackend::new()),
    };
    backend.new_stream();
    Ok(Lent {
        kind,
        backend: Some(backend),
    })
}

/// The library's backend error as the package's.
pub fn to_py(error: tessera::BackendError) -> PyErr {
    BackendError::new_err(error.to_string())
}
