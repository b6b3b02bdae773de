//! The wgpu instance, adapter, device and queue of a GPU backend, and how their errors reach us.
//!
//! Opened once per backend. The system's adapters are looked for once per process ([`probe`]:
//! it is slow, and drivers print to stderr while it runs); adapters are chosen from them by
//! [`AdapterPolicy`]; the device asks for the adapter's own limits so that large frames fit.
//! wgpu reports validation and out-of-memory errors asynchronously: [`scoped`] turns those
//! raised by a piece of work into a [`BackendError::Gpu`], and an uncaptured-error handler
//! keeps the rest from panicking.

use std::sync::{Arc, Mutex, OnceLock};

use super::AdapterPolicy;
use crate::backend::BackendError;

#[derive(Clone)]
pub(crate) struct Context {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Errors no scope caught, and device loss; drained by [`Context::take_stray_errors`].
    stray: Arc<Mutex<Vec<String>>>,
}

/// What the one look at the system's adapters found.
struct Probe {
    /// Every adapter, in the order wgpu listed them; the instance lives as long as they do.
    adapters: Vec<wgpu::Adapter>,
    /// Their descriptions, for messages.
    found: Vec<String>,
}

/// The system's adapters, looked for on the first call only: with Mesa's drivers it took
/// 0.17 s, 30 times a small photo's run on the CPU, and a batch asks for each file (8 photos
/// under `--backend auto`: 0.87 s when each file looked, 0.30 s now, 0.13 s on the CPU alone).
/// What the drivers print meanwhile is not tessera's to show: it is caught and logged at
/// debug level.
fn probe() -> &'static Probe {
    static PROBE: OnceLock<Probe> = OnceLock::new();
    PROBE.get_or_init(|| {
        let (adapters, said) = super::stderr::catch(|| {
            // Vulkan, Metal and DX12 run our compute kernels everywhere; WGPU_BACKEND overrides.
            let backends = wgpu::Backends::PRIMARY.with_env();
            let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
                backends,
                ..wgpu::InstanceDescriptor::new_without_display_handle_from_env()
            });
            pollster::block_on(instance.enumerate_adapters(backends))
        });
        log_driver(&said);
        let found: Vec<String> = adapters.iter().map(|a| describe(&a.get_info())).collect();
        if found.is_empty() {
            tracing::info!("GPU probe: wgpu found no adapter");
        } else {
            tracing::info!("GPU probe: wgpu found {}", found.join(", "));
        }
        Probe { adapters, found }
    })
}

/// An adapter as messages name it: `llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan)`.
fn describe(info: &wgpu::AdapterInfo) -> String {
    format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend)
}

/// Logs what a GPU driver wrote to stderr, line by line, at debug level (`-vv`).
fn log_driver(said: &str) {
    for line in said.lines().filter(|l| !l.trim().is_empty()) {
        tracing::debug!("GPU driver said: {line}");
    }
}

/// Hardware first; among equals, the order wgpu listed them.
fn rank(kind: wgpu::DeviceType) -> u8 {
    match kind {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl Context {
    pub(crate) fn open(policy: AdapterPolicy) -> Result<Context, BackendError> {
        let Probe { adapters, found } = probe();
        let adapter = adapters
            .iter()
            .filter(|a| {
                let info = a.get_info();
                let computes = a
                    .get_downlevel_capabilities()
                    .flags
                    .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS);
                computes
                    && (policy == AdapterPolicy::Any || info.device_type != wgpu::DeviceType::Cpu)
            })
            .enumerate()
            .min_by_key(|(i, a)| (rank(a.get_info().device_type), *i))
            .map(|(_, a)| a)
            .ok_or_else(|| no_adapter(policy, found))?;

        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, said) = super::stderr::catch(|| {
            pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
                label: Some("tessera"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                memory_hints: wgpu::MemoryHints::Performance,
                ..Default::default()
            }))
        });
        log_driver(&said);
        let (device, queue) = device.map_err(|e| {
            BackendError::Device(format!("{} ({:?}): {e}", info.name, info.backend))
        })?;
        tracing::debug!("GPU device opened on {}", describe(&info));

        let stray = Arc::new(Mutex::new(Vec::new()));
        let sink = stray.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let sink = stray.clone();
        device.set_device_lost_callback(move |reason, message| {
            if let Ok(mut v) = sink.lock() {
                v.push(format!("device lost ({reason:?}): {message}"));
            }
        });
        Ok(Context {
            device,
            queue,
            info,
            limits,
            stray,
        })
    }

    /// The largest buffer a kernel may bind.
    pub(crate) fn max_binding(&self) -> u64 {
        self.limits
            .max_buffer_size
            .min(self.limits.max_storage_buffer_binding_size)
    }

    /// Errors raised outside any scope since the last call, as one error.
    pub(crate) fn take_stray_errors(&self) -> Result<(), BackendError> {
        let mut stray = self.stray.lock().unwrap_or_else(|e| e.into_inner());
        if stray.is_empty() {
            return Ok(());
        }
        let message = stray.join("; ");
        stray.clear();
        Err(BackendError::Gpu(message))
    }
}

/// Runs `work`, then reports any validation, out-of-memory or internal error it raised on
/// `device` as a [`BackendError::Gpu`] (ahead of `work`'s own result). Scopes nest: an inner one
/// catches its errors first.
pub(crate) fn scoped<T>(
    device: &wgpu::Device,
    work: impl FnOnce() -> Result<T, BackendError>,
) -> Result<T, BackendError> {
    let internal = device.push_error_scope(wgpu::ErrorFilter::Internal);
    let memory = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let result = work();
    let errors: Vec<String> = [validation.pop(), memory.pop(), internal.pop()]
        .into_iter()
        .filter_map(|scope| pollster::block_on(scope).map(|e| e.to_string()))
        .collect();
    if !errors.is_empty() {
        return Err(BackendError::Gpu(errors.join("; ")));
    }
    result
}

fn no_adapter(policy: AdapterPolicy, found: &[String]) -> BackendError {
    let install = "install a GPU driver with Vulkan support, or Mesa's lavapipe software driver \
                   (Debian/Ubuntu: mesa-vulkan-drivers)";
    if found.is_empty() {
        return BackendError::NoAdapter(format!(
            ": no Vulkan, Metal or DirectX 12 adapter is visible to wgpu; {install}"
        ));
    }
    let found = found.join(", ");
    match policy {
        AdapterPolicy::HardwareOnly => BackendError::NoAdapter(format!(
            ": a hardware GPU was required, but wgpu found only {found} (a software \
             adapter such as lavapipe runs slower than the CPU backend)"
        )),
        AdapterPolicy::Any => BackendError::NoAdapter(format!(
            ": wgpu found {found}, but none runs compute shaders; {install}"
        )),
    }
}
