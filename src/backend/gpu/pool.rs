//! Plane-sized GPU buffers, reused across frames and plans.
//!
//! Sizes are rounded up to a few steps per power of two, so that planes of nearby sizes (a batch
//! of photos) share buffers; idle buffers beyond a byte budget are dropped, oldest first, so a
//! long batch of different sizes does not grow GPU memory without bound.

/// Idle bytes kept for reuse; beyond this the oldest idle buffers are freed.
const IDLE_BUDGET: u64 = 256 << 20;

/// What a pooled buffer is for; each kind has its own usages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BufferKind {
    /// Planes that kernels read and write, uploads are copied into and read-backs from.
    Plane,
    /// CPU-readable copies of results.
    Staging,
    /// CPU-written planes, copied into [`BufferKind::Plane`]s on the GPU.
    Upload,
    /// A temporal op's history: the executor's, lent to plan states, never pooled.
    History,
}

impl BufferKind {
    fn usages(self) -> wgpu::BufferUsages {
        match self {
            BufferKind::Plane => {
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_DST
                    | wgpu::BufferUsages::COPY_SRC
            }
            BufferKind::Staging => wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            BufferKind::Upload => wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            BufferKind::History => wgpu::BufferUsages::STORAGE,
        }
    }
}

pub(crate) struct PooledBuffer {
    pub buffer: wgpu::Buffer,
    kind: BufferKind,
}

pub(crate) struct BufferPool {
    idle: Vec<(PooledBuffer, u64)>,
    idle_bytes: u64,
    clock: u64,
    /// Every buffer the pool ever created, for tests that check steady-state reuse.
    #[cfg(test)]
    pub created: u64,
}

/// `size` rounded up to 1, 1.25, 1.5 or 1.75 times a power of two (at least 256 bytes), but
/// never past `limit`.
fn bucket(size: u64, limit: u64) -> u64 {
    let size = size.max(256);
    let octave = 1u64 << (63 - size.leading_zeros());
    let step = octave / 4;
    let rounded = size.div_ceil(step) * step;
    rounded.min(limit & !3).max(size)
}

impl BufferPool {
    pub(crate) fn new() -> BufferPool {
        BufferPool {
            idle: Vec::new(),
            idle_bytes: 0,
            clock: 0,
            #[cfg(test)]
            created: 0,
        }
    }

    /// A buffer of `kind` holding at least `size` bytes (`size` within `limit`).
    pub(crate) fn take(
        &mut self,
        device: &wgpu::Device,
        kind: BufferKind,
        size: u64,
        limit: u64,
    ) -> PooledBuffer {
        let want = bucket(size, limit);
        // The smallest idle buffer that fits, and not much too large.
        let best = self
            .idle
            .iter()
            .enumerate()
            .filter(|(_, (b, _))| {
                b.kind == kind && b.buffer.size() >= size && b.buffer.size() <= want
            })
            .min_by_key(|(_, (b, _))| b.buffer.size())
            .map(|(i, _)| i);
        if let Some(i) = best {
            let (b, _) = self.idle.swap_remove(i);
            self.idle_bytes -= b.buffer.size();
            return b;
        }
        #[cfg(test)]
        {
            self.created += 1;
        }
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(match kind {
                BufferKind::Plane => "tessera plane",
                BufferKind::Staging => "tessera staging",
                BufferKind::Upload => "tessera upload",
                BufferKind::History => "tessera history",
            }),
            size: want,
            usage: kind.usages(),
            mapped_at_creation: false,
        });
        PooledBuffer { buffer, kind }
    }

    /// A temporal op's history buffer of `size` bytes, zeroed, outside the pool.
    pub(crate) fn history(device: &wgpu::Device, size: u64) -> PooledBuffer {
        let kind = BufferKind::History;
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("tessera history"),
            size: size.max(4),
            usage: kind.usages(),
            mapped_at_creation: false,
        });
        PooledBuffer { buffer, kind }
    }

    /// The same history buffer, lent to another plan state.
    pub(crate) fn lend(b: &PooledBuffer) -> PooledBuffer {
        PooledBuffer {
            buffer: b.buffer.clone(),
            kind: b.kind,
        }
    }

    /// Returns `b` (unmapped) for reuse, freeing the oldest idle buffers past the budget.
    /// History buffers are not the pool's: they go back to their op's history.
    pub(crate) fn give(&mut self, b: PooledBuffer) {
        if b.kind == BufferKind::History {
            return;
        }
        self.clock += 1;
        self.idle_bytes += b.buffer.size();
        self.idle.push((b, self.clock));
        while self.idle_bytes > IDLE_BUDGET {
            let oldest = self
                .idle
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(i, _)| i);
            let Some(i) = oldest else { break };
            let (b, _) = self.idle.swap_remove(i);
            self.idle_bytes -= b.buffer.size();
            b.buffer.destroy();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn buckets_round_up_by_at_most_a_quarter_and_respect_the_limit() {
        for size in [
            4u64,
            255,
            256,
            257,
            1000,
            1 << 20,
            (1 << 20) + 4,
            37 * 23 * 8,
            3840 * 2160 * 8,
        ] {
            let b = bucket(size, u64::MAX);
            assert!(b >= size && b >= 256, "{size} -> {b}");
            assert!(b <= (size.max(256) * 5).div_ceil(4) + 4, "{size} -> {b}");
            assert_eq!(b % 4, 0, "{size} -> {b}");
        }
        assert_eq!(bucket(1000, 1002), 1000);
        assert_eq!(bucket(1000, 1100), 1024);
        assert_eq!(bucket(1000, 1010), 1008);
        assert_eq!(bucket(1 << 20, u64::MAX), 1 << 20);
    }
}
