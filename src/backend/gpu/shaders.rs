//! WGSL assembly: one shader per (kernel, pixel formats) from the files in `shaders/`.
//!
//! A kernel's source is `common.wgsl`, then the generated pieces (pixel accessors for the pass's
//! formats, the kernel's constants, the fused pointwise body), then the kernel family's file.
//! Nothing here touches wgpu; the executor compiles and caches what this returns.

use std::fmt::Write;

use crate::frame::Depth;
use crate::plan::{Axis, PointOp};

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const POINTWISE: &str = include_str!("../../../shaders/pointwise.wgsl");
const CONVOLVE_1D: &str = include_str!("../../../shaders/convolve1d.wgsl");
const CONVOLVE_2D: &str = include_str!("../../../shaders/convolve2d.wgsl");
const UNSHARP: &str = include_str!("../../../shaders/unsharp.wgsl");
const RESAMPLE: &str = include_str!("../../../shaders/resample.wgsl");
const REMAP: &str = include_str!("../../../shaders/remap.wgsl");

/// How pixels lie in a storage buffer of `u32` (see `shaders/common.wgsl`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Format {
    /// One word per pixel: a frame's RGBA8 bytes.
    Rgba8,
    /// Two words per pixel: a frame's RGBA16 samples; also every intermediate frame.
    Rgba16,
}

impl Format {
    pub(crate) fn of(depth: Depth) -> Format {
        match depth {
            Depth::Eight => Format::Rgba8,
            Depth::Sixteen => Format::Rgba16,
        }
    }

    pub(crate) fn bytes_per_pixel(self) -> u64 {
        match self {
            Format::Rgba8 => 4,
            Format::Rgba16 => 8,
        }
    }

    /// `fn {name}(i: u32) -> vec4<f32>` reading pixel `i` of `buffer`.
    fn loader(self, name: &str, buffer: &str) -> String {
        match self {
            Format::Rgba8 => {
                format!("fn {name}(i: u32) -> vec4<f32> {{\n    return unpack_rgba8({buffer}[i]);\n}}\n")
            }
            Format::Rgba16 => format!(
                "fn {name}(i: u32) -> vec4<f32> {{\n    \
                 return unpack_rgba16({buffer}[2u * i], {buffer}[2u * i + 1u]);\n}}\n"
            ),
        }
    }

    /// `fn store_dst(i: u32, v: vec4<f32>)` writing pixel `i` of `dst`, clamped to 0..1.
    fn storer(self) -> &'static str {
        match self {
            Format::Rgba8 => {
                "fn store_dst(i: u32, v: vec4<f32>) {\n    dst[i] = pack_rgba8(v);\n}\n"
            }
            Format::Rgba16 => {
                "fn store_dst(i: u32, v: vec4<f32>) {\n    let w = pack_rgba16(v);\n    \
                 dst[2u * i] = w.x;\n    dst[2u * i + 1u] = w.y;\n}\n"
            }
        }
    }
}

/// The WGSL function of `shaders/pointwise.wgsl` that applies `op`.
pub(crate) fn point_fn(op: &PointOp) -> &'static str {
    match op {
        PointOp::Eq { .. } => "op_eq",
        PointOp::Grayscale => "op_grayscale",
        PointOp::Invert => "op_invert",
    }
}

/// What a compute pipeline does, independent of its parameters and pixel formats.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    /// The `point_fn` of each op, in order.
    Pointwise(Vec<&'static str>),
    Convolve1D {
        axis: Axis,
        alpha: bool,
    },
    Convolve2D,
    /// Vertical blur of an unsharp pass's horizontal blur, combined with the pass input (`base`).
    UnsharpCombine,
    Resample {
        axis: Axis,
    },
    Remap,
}

/// Everything a pipeline's WGSL depends on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct KernelKey {
    pub kernel: Kernel,
    pub src: Format,
    pub dst: Format,
    /// The format of binding 4 (`base`), for kernels that read one.
    pub base: Option<Format>,
}

impl KernelKey {
    pub(crate) fn label(&self) -> String {
        let kernel = match &self.kernel {
            Kernel::Pointwise(ops) => format!("pointwise[{}]", ops.join(",")),
            other => format!("{other:?}"),
        };
        format!("{kernel} {:?}->{:?}", self.src, self.dst)
    }
}

/// The complete WGSL of `key`'s kernel, entry point `main`.
pub(crate) fn assemble(key: &KernelKey) -> String {
    let mut s = String::with_capacity(8 * 1024);
    s.push_str(COMMON);
    s.push_str("\n// ---- generated for this pipeline ----\n");
    s.push_str(&key.src.loader("load_src", "src"));
    s.push_str(key.dst.storer());
    if let Some(base) = key.base {
        s.push_str(&base.loader("load_base", "base"));
    }
    let body = match &key.kernel {
        Kernel::Pointwise(ops) => {
            s.push_str("fn apply_ops(p0: vec4<f32>) -> vec4<f32> {\n    var p = p0;\n");
            for (i, f) in ops.iter().enumerate() {
                let _ = writeln!(s, "    p = {f}(p, op_param({i}u));");
            }
            s.push_str("    return p;\n}\n");
            POINTWISE
        }
        Kernel::Convolve1D { axis, alpha } => {
            let _ = writeln!(s, "const VERTICAL: bool = {};", *axis == Axis::Vertical);
            let _ = writeln!(s, "const WITH_ALPHA: bool = {alpha};");
            CONVOLVE_1D
        }
        Kernel::Convolve2D => CONVOLVE_2D,
        Kernel::UnsharpCombine => UNSHARP,
        Kernel::Resample { axis } => {
            let _ = writeln!(s, "const VERTICAL: bool = {};", *axis == Axis::Vertical);
            RESAMPLE
        }
        Kernel::Remap => REMAP,
    };
    s.push_str("// ---- kernel ----\n");
    s.push_str(body);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<KernelKey> {
        let kernels = vec![
            Kernel::Pointwise(vec!["op_eq", "op_grayscale", "op_invert"]),
            Kernel::Convolve1D {
                axis: Axis::Horizontal,
                alpha: true,
            },
            Kernel::Convolve1D {
                axis: Axis::Vertical,
                alpha: false,
            },
            Kernel::Convolve2D,
            Kernel::UnsharpCombine,
            Kernel::Resample {
                axis: Axis::Horizontal,
            },
            Kernel::Resample {
                axis: Axis::Vertical,
            },
            Kernel::Remap,
        ];
        let mut keys = Vec::new();
        for kernel in kernels {
            for src in [Format::Rgba8, Format::Rgba16] {
                for dst in [Format::Rgba8, Format::Rgba16] {
                    let base = (kernel == Kernel::UnsharpCombine).then_some(src);
                    keys.push(KernelKey {
                        kernel: kernel.clone(),
                        src,
                        dst,
                        base,
                    });
                }
            }
        }
        keys
    }

    /// Every kernel in every format combination is valid WGSL (checked by naga through wgpu
    /// when a device exists; here by looking for the pieces each kernel needs).
    #[test]
    fn every_kernel_assembles_with_its_accessors() {
        for key in keys() {
            let wgsl = assemble(&key);
            assert!(wgsl.contains("fn load_src("), "{}", key.label());
            assert!(wgsl.contains("fn store_dst("), "{}", key.label());
            assert_eq!(
                wgsl.contains("fn load_base("),
                key.base.is_some(),
                "{}",
                key.label()
            );
            assert!(
                wgsl.contains("@compute @workgroup_size(16, 16)"),
                "{}",
                key.label()
            );
        }
    }
}
