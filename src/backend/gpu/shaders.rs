//! WGSL assembly: one shader per (kernel, pixel formats) from the files in `shaders/`.
//!
//! A kernel's source is `common.wgsl`, then the generated pieces (pixel accessors for the pass's
//! formats, the kernel's constants, the fused pointwise body), then the kernel family's file.
//! Stencils small enough for a workgroup tile get the `*_tiled.wgsl` file of their family (and,
//! 1-D ones, `tile1d.wgsl` before it) with packed texel accessors; larger ones the direct file.
//! Nothing here touches wgpu; the executor compiles and caches what this returns.

use std::fmt::Write;
use std::sync::Arc;

use super::pixel;
use crate::frame::Depth;
use crate::pixel::PixelProgram;
use crate::plan::{Axis, PointOp};

const COMMON: &str = include_str!("../../../shaders/common.wgsl");
const POINTWISE: &str = include_str!("../../../shaders/pointwise.wgsl");
const CONVOLVE_1D: &str = include_str!("../../../shaders/convolve1d.wgsl");
const CONVOLVE_2D: &str = include_str!("../../../shaders/convolve2d.wgsl");
const UNSHARP: &str = include_str!("../../../shaders/unsharp.wgsl");
const TILE_1D: &str = include_str!("../../../shaders/tile1d.wgsl");
const CONVOLVE_1D_TILED: &str = include_str!("../../../shaders/convolve1d_tiled.wgsl");
const CONVOLVE_2D_TILED: &str = include_str!("../../../shaders/convolve2d_tiled.wgsl");
const UNSHARP_TILED: &str = include_str!("../../../shaders/unsharp_tiled.wgsl");
const RESAMPLE: &str = include_str!("../../../shaders/resample.wgsl");
const REMAP: &str = include_str!("../../../shaders/remap.wgsl");

/// The largest radius along the axis that the tiled 1-D stencils (separable blurs, unsharp) hold
/// in workgroup memory: a 16x80 tile, 10 KiB for rgba16 texels. Longer kernels run direct.
pub(crate) const TILE_RADIUS_1D: u32 = 32;
/// The largest horizontal and vertical radius of the tiled 2-D convolution: a 30x30 tile, 7 KiB
/// for rgba16 texels, enough for every kernel `convolve` accepts (15x15).
pub(crate) const TILE_RADIUS_2D: u32 = 7;

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

    /// `Texel`, the packed words of one pixel, with `fetch_src(i: u32) -> Texel` reading pixel `i`
    /// of `src` and `unpack_texel(t: Texel) -> vec4<f32>`, which gives what `load_src` gives.
    fn texel(self) -> &'static str {
        match self {
            Format::Rgba8 => {
                "alias Texel = u32;\n\
                 fn fetch_src(i: u32) -> Texel {\n    return src[i];\n}\n\
                 fn unpack_texel(t: Texel) -> vec4<f32> {\n    return unpack_rgba8(t);\n}\n"
            }
            Format::Rgba16 => {
                "alias Texel = vec2<u32>;\n\
                 fn fetch_src(i: u32) -> Texel {\n    return vec2<u32>(src[2u * i], src[2u * i + 1u]);\n}\n\
                 fn unpack_texel(t: Texel) -> vec4<f32> {\n    return unpack_rgba16(t.x, t.y);\n}\n"
            }
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

/// What applies one op of a pointwise kernel: a function of `shaders/pointwise.wgsl`, or one
/// generated from a pixel program. Parameter values are not part of it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum PointFn {
    Builtin(&'static str),
    /// Equal when the programs' shapes are: their uniforms are parameters.
    Pixel(Arc<PixelProgram>),
}

impl PointFn {
    pub(crate) fn of(op: &PointOp) -> PointFn {
        match op {
            PointOp::Eq { .. } => PointFn::Builtin("op_eq"),
            PointOp::Grayscale => PointFn::Builtin("op_grayscale"),
            PointOp::Invert => PointFn::Builtin("op_invert"),
            PointOp::Pixel { program, .. } => PointFn::Pixel(program.clone()),
        }
    }

    /// `PointFn::of(op) == *self`, without building one.
    pub(crate) fn matches(&self, op: &PointOp) -> bool {
        match (self, op) {
            (PointFn::Pixel(p), PointOp::Pixel { program, .. }) => {
                Arc::ptr_eq(p, program) || **p == **program
            }
            (PointFn::Pixel(_), _) | (_, PointOp::Pixel { .. }) => false,
            (f, op) => *f == PointFn::of(op),
        }
    }

    /// Vec4 slots of `data` the op's parameters take (see [`PointOp::param_slots`]).
    fn slots(&self) -> usize {
        match self {
            PointFn::Builtin(_) => 1,
            PointFn::Pixel(p) => p.param_slots(),
        }
    }

    fn label(&self) -> String {
        match self {
            PointFn::Builtin(name) => name.to_string(),
            PointFn::Pixel(p) => format!("pixel:{:016x}", p.fingerprint()),
        }
    }
}

/// What a compute pipeline does, independent of its parameters and pixel formats.
///
/// `tiled` stencils read their taps from a workgroup-shared tile (the `*_tiled.wgsl` files), the
/// others straight from `src`; both give the same bits. The constructors below pick per pass.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Kernel {
    /// What applies each op, in order.
    Pointwise(Vec<PointFn>),
    Convolve1D {
        axis: Axis,
        alpha: bool,
        tiled: bool,
    },
    Convolve2D {
        tiled: bool,
    },
    /// Vertical blur of an unsharp pass's horizontal blur, combined with the pass input (`base`).
    UnsharpCombine {
        tiled: bool,
    },
    Resample {
        axis: Axis,
    },
    Remap,
}

impl Kernel {
    /// One direction of a separable convolution with `taps` weights (odd): tiled while the
    /// radius fits [`TILE_RADIUS_1D`].
    pub(crate) fn convolve_1d(axis: Axis, alpha: bool, taps: usize) -> Kernel {
        Kernel::Convolve1D {
            axis,
            alpha,
            tiled: taps / 2 <= TILE_RADIUS_1D as usize,
        }
    }

    /// A `width` x `height` convolution: tiled while both radii fit [`TILE_RADIUS_2D`].
    pub(crate) fn convolve_2d(width: u32, height: u32) -> Kernel {
        Kernel::Convolve2D {
            tiled: width / 2 <= TILE_RADIUS_2D && height / 2 <= TILE_RADIUS_2D,
        }
    }

    /// Unsharp's second half for `taps` weights; its first half is
    /// `Kernel::convolve_1d(Axis::Horizontal, false, taps)`, tiled for the same radii.
    pub(crate) fn unsharp_combine(taps: usize) -> Kernel {
        Kernel::UnsharpCombine {
            tiled: taps / 2 <= TILE_RADIUS_1D as usize,
        }
    }
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
            Kernel::Pointwise(ops) => {
                let ops: Vec<String> = ops.iter().map(PointFn::label).collect();
                format!("pointwise[{}]", ops.join(","))
            }
            other => format!("{other:?}"),
        };
        format!("{kernel} {:?}->{:?}", self.src, self.dst)
    }
}

/// What a tiled kernel adds to the generated pieces: the largest radius its tile holds and the
/// packed texels of its source.
fn tile_pieces(s: &mut String, src: Format, radius: u32) {
    let _ = writeln!(s, "const TILE_RADIUS: u32 = {radius}u;");
    s.push_str(src.texel());
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
            // Each op's parameters start at a whole vec4 slot of `data`; a pixel op's function
            // reads its uniforms from there.
            let mut calls = String::new();
            let mut slot = 0;
            for (i, f) in ops.iter().enumerate() {
                match f {
                    PointFn::Builtin(name) => {
                        let _ = writeln!(calls, "    p = {name}(p, op_param({slot}u));");
                    }
                    PointFn::Pixel(program) => {
                        let name = format!("op_pixel{i}");
                        s.push_str(&pixel::function(program, &name, 4 * slot as u32));
                        let _ = writeln!(calls, "    p = {name}(p, xy);");
                    }
                }
                slot += f.slots();
            }
            s.push_str(
                "fn apply_ops(p0: vec4<f32>, xy: vec2<f32>) -> vec4<f32> {\n    var p = p0;\n",
            );
            s.push_str(&calls);
            s.push_str("    return p;\n}\n");
            POINTWISE
        }
        Kernel::Convolve1D { axis, alpha, tiled } => {
            let _ = writeln!(s, "const VERTICAL: bool = {};", *axis == Axis::Vertical);
            let _ = writeln!(s, "const WITH_ALPHA: bool = {alpha};");
            if *tiled {
                tile_pieces(&mut s, key.src, TILE_RADIUS_1D);
                s.push_str(TILE_1D);
                CONVOLVE_1D_TILED
            } else {
                CONVOLVE_1D
            }
        }
        Kernel::Convolve2D { tiled: false } => CONVOLVE_2D,
        Kernel::Convolve2D { tiled: true } => {
            tile_pieces(&mut s, key.src, TILE_RADIUS_2D);
            CONVOLVE_2D_TILED
        }
        Kernel::UnsharpCombine { tiled: false } => UNSHARP,
        Kernel::UnsharpCombine { tiled: true } => {
            s.push_str("const VERTICAL: bool = true;\n");
            tile_pieces(&mut s, key.src, TILE_RADIUS_1D);
            s.push_str(TILE_1D);
            UNSHARP_TILED
        }
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

    /// Pixel programs that use every operation and function between them, uniforms and
    /// constant channels included.
    fn pixel_programs() -> Vec<Arc<PixelProgram>> {
        use crate::chain::expr::{FRAME_VARIABLES, PIXEL_VARIABLES};
        let names: Vec<&str> = PIXEL_VARIABLES
            .iter()
            .chain(FRAME_VARIABLES)
            .map(|(n, _)| *n)
            .collect();
        let programs = [
            [
                "(r + g - b * a / (x + 1)) % (y + 2) + r ^ g + pow(g, 2.2) + -r + r^-2",
                "(r < g) + (r <= g) + (r > g) + (r >= g) + (r == g) + (r != g) \
                 + (r > 0.5 && g < 0.5) + (r > 0.5 || !(g < 0.5))",
                "abs(r - 0.5) + min(r, g) + max(g, b) + clamp(r, 0.2, t) + floor(x / 2) \
                 + ceil(y / 3) + round(r * 4) + sqrt(g) + exp(b) + log(r + 1) + sin(x) \
                 + cos(y) + tan(r)",
                "lerp(r, g, t) + smoothstep(t, n + 1, r) + if(r > 0.5, g, b) \
                 + between(r, 0.2, 0.8) + linear(r, 0, 0, 1, 1) + smooth(g, 0, 1, 1, 0.5) \
                 + r * w + g * h + b * fps + a * duration",
            ],
            ["t", "0.5", "1 - w / h * r", "-a"],
        ];
        programs
            .iter()
            .map(|texts| {
                let exprs = texts.map(|t| {
                    let e = crate::chain::parse_expr(t, 0).unwrap();
                    e.check(&names, "").unwrap();
                    e.fold((0, t.len())).unwrap()
                });
                let [r, g, b, a] = &exprs;
                Arc::new(PixelProgram::compile([Some(r), Some(g), Some(b), Some(a)]).unwrap())
            })
            .collect()
    }

    #[test]
    fn the_pixel_programs_use_every_operation() {
        use crate::pixel::{BinOp, Scalar, Step, UnOp};
        let programs = pixel_programs();
        let steps = || programs.iter().flat_map(|p| p.steps().iter().copied());
        for op in UnOp::ALL {
            let in_scalars = programs.iter().any(|p| {
                p.scalars()
                    .iter()
                    .any(|s| matches!(s, Scalar::Un(o, _) if *o == op))
            });
            assert!(
                in_scalars || steps().any(|s| matches!(s, Step::Un(o, _) if o == op)),
                "{op:?}"
            );
        }
        for op in BinOp::ALL {
            assert!(
                steps().any(|s| matches!(s, Step::Bin(o, ..) if o == op)),
                "{op:?}"
            );
        }
        assert!(steps().any(|s| matches!(s, Step::Select(..))));
        assert!(programs.iter().any(|p| p.uniform_count() > 4));
    }

    fn keys() -> Vec<KernelKey> {
        let pixel = pixel_programs();
        let mut kernels = vec![
            Kernel::Pointwise(vec![
                PointFn::Builtin("op_eq"),
                PointFn::Builtin("op_grayscale"),
                PointFn::Builtin("op_invert"),
            ]),
            Kernel::Pointwise(vec![
                PointFn::Builtin("op_invert"),
                PointFn::Pixel(pixel[0].clone()),
                PointFn::Builtin("op_eq"),
                PointFn::Pixel(pixel[1].clone()),
                PointFn::Pixel(pixel[0].clone()),
            ]),
        ];
        for tiled in [false, true] {
            for (axis, alpha) in [(Axis::Horizontal, true), (Axis::Vertical, false)] {
                kernels.push(Kernel::Convolve1D { axis, alpha, tiled });
            }
            kernels.push(Kernel::Convolve2D { tiled });
            kernels.push(Kernel::UnsharpCombine { tiled });
        }
        kernels.extend([
            Kernel::Resample {
                axis: Axis::Horizontal,
            },
            Kernel::Resample {
                axis: Axis::Vertical,
            },
            Kernel::Remap,
        ]);
        let mut keys = Vec::new();
        for kernel in kernels {
            for src in [Format::Rgba8, Format::Rgba16] {
                for dst in [Format::Rgba8, Format::Rgba16] {
                    let base = matches!(kernel, Kernel::UnsharpCombine { .. }).then_some(src);
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

    /// Every kernel passes naga's validation without a device, and the tiled ones keep their
    /// tile inside the smallest workgroup memory a wgpu adapter offers (Metal's 16352 bytes; the
    /// WebGPU floor is 16384). naga's uniformity analysis is laxer than WGSL's (it lets a barrier
    /// follow a non-uniform `return`), so the kernels keep their barriers uniform by
    /// construction: loop bounds from `info`, `outside` only after the barrier.
    #[test]
    fn every_kernel_validates_and_its_tile_fits_any_device() {
        use wgpu::naga;
        let limit = wgpu::Limits::downlevel_defaults().max_compute_workgroup_storage_size;
        for key in keys() {
            let wgsl = assemble(&key);
            let module = naga::front::wgsl::parse_str(&wgsl)
                .unwrap_or_else(|e| panic!("{}: {}", key.label(), e.emit_to_string(&wgsl)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{}: {}", key.label(), e.emit_to_string(&wgsl)));
            let shared: u32 = module
                .global_variables
                .iter()
                .filter(|(_, g)| g.space == naga::AddressSpace::WorkGroup)
                .map(|(_, g)| module.types[g.ty].inner.size(module.to_ctx()))
                .sum();
            let tiled = matches!(
                key.kernel,
                Kernel::Convolve1D { tiled: true, .. }
                    | Kernel::Convolve2D { tiled: true }
                    | Kernel::UnsharpCombine { tiled: true }
            );
            assert_eq!(shared > 0, tiled, "{}: {shared} bytes", key.label());
            assert!(shared <= limit, "{}: {shared} > {limit} bytes", key.label());
        }
    }

    /// The host picks the tiled kernel exactly up to the radii the tiles hold.
    #[test]
    fn tiled_kernels_are_picked_up_to_the_tile_radius() {
        let taps = |r: u32| 2 * r as usize + 1;
        for axis in [Axis::Horizontal, Axis::Vertical] {
            let tiled = |k| matches!(k, Kernel::Convolve1D { tiled, .. } if tiled);
            assert!(tiled(Kernel::convolve_1d(axis, true, 3)));
            assert!(tiled(Kernel::convolve_1d(axis, true, taps(TILE_RADIUS_1D))));
            assert!(!tiled(Kernel::convolve_1d(
                axis,
                true,
                taps(TILE_RADIUS_1D + 1)
            )));
        }
        let side = 2 * TILE_RADIUS_2D + 1;
        assert_eq!(
            Kernel::convolve_2d(side, side),
            Kernel::Convolve2D { tiled: true }
        );
        for (w, h) in [(side + 2, 1), (1, side + 2), (side + 2, side + 2)] {
            assert_eq!(
                Kernel::convolve_2d(w, h),
                Kernel::Convolve2D { tiled: false },
                "{w}x{h}"
            );
        }
        assert_eq!(
            Kernel::unsharp_combine(taps(TILE_RADIUS_1D)),
            Kernel::UnsharpCombine { tiled: true }
        );
        assert_eq!(
            Kernel::unsharp_combine(taps(TILE_RADIUS_1D + 1)),
            Kernel::UnsharpCombine { tiled: false }
        );
    }
}
