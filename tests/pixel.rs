//! `pixel`, the filter written as expressions: the built-ins it can spell are matched exactly on
//! each backend, the backends agree within one code value on programs of every kind, it fuses
//! with its neighbours, and its per-frame values come from the frame's time.

mod common;

use common::{test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::frame::{Format, Layout};
use tessera::op::PointOp;
use tessera::plan::{self, FrameTime, PassKind};
use tessera::{Backend, Chain, Frame};

const LUMA: &str = "0.2126*r + 0.7152*g + 0.0722*b";

fn run(backend: &mut dyn Backend, text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan = plan::compile(&chain, &frame.format).unwrap_or_else(|e| panic!("{text}: {e}"));
    backend
        .process(&plan, frame.clone())
        .unwrap_or_else(|e| panic!("{text} on {}: {e}", backend.describe()))
}

/// RGBA photos at 8 and 16 bits, and video: 8-bit 4:2:0 (where pixel programs work per
/// chroma block) and 10-bit 4:4:4.
fn frames() -> [Frame; 4] {
    [
        common::test_image8(67, 45, 11),
        common::test_image16(67, 45, 12),
        test_frame(yuv(67, 45, Layout::YUV420, 8), 13),
        test_frame(yuv(67, 45, Layout::YUV444, 10), 14),
    ]
}

/// `pixel` spelling a built-in gives the built-in's codes, on `backend`.
fn spells_builtins_exactly(backend: &mut dyn Backend) {
    let luma = format!("pixel(r=\"{LUMA}\", g=\"{LUMA}\", b=\"{LUMA}\")");
    let pairs = [
        ("pixel(r=\"1-r\", g=\"1-g\", b=\"1-b\")", "invert()"),
        (luma.as_str(), "grayscale()"),
        (
            "pixel(r=1-r, g=1-g, b=1-b) | grayscale",
            "invert | grayscale",
        ),
    ];
    for (pixel, builtin) in pairs {
        for frame in frames() {
            let a = run(backend, pixel, &frame);
            let b = run(backend, builtin, &frame);
            // 8-bit RGB exactly; at 16 bits the built-ins' way through Y′CbCr and `pixel`'s
            // arithmetic round apart by at most a code near a half, and on Y′CbCr `pixel` goes
            // through RGB and back.
            let rgb8 =
                frame.format.layout.family == tessera::frame::Family::Rgb && frame.format.bits == 8;
            let limit = if rgb8 { 0 } else { 1 };
            let d = a.max_abs_diff(&b).unwrap();
            assert!(
                d <= limit,
                "{pixel} vs {builtin} on {} ({}): {d}",
                backend.describe(),
                frame.format.describe()
            );
        }
    }
}

#[test]
fn pixel_spells_invert_and_grayscale_exactly_on_the_cpu() {
    spells_builtins_exactly(&mut CpuBackend::new());
}

#[test]
fn pixel_spells_invert_and_grayscale_exactly_on_the_gpu() {
    let Some(mut gpu) = common::gpu() else { return };
    spells_builtins_exactly(&mut gpu);
}

/// Programs of every kind: the backends differ by at most one 8-bit code value. Thresholds sit
/// between code values, where f32 rounding cannot flip a comparison.
#[test]
fn pixel_programs_match_across_backends() {
    let Some(mut gpu) = common::gpu() else { return };
    let mut cpu = CpuBackend::new();
    let chains = [
        "pixel(r=\"r*r*r - 2*g^2 + b^3\", g=\"(r - 0.5)^-2 / 40\", b=\"(g + 0.1)^4\")",
        "pixel(r=\"abs(r - g) + min(b, a) * max(r, 0.3001)\", g=\"clamp(r * 3 - 1, 0.2, 0.8)\")",
        "pixel(r=\"floor(x / 3) / 30\", g=\"ceil(y / 4) / 12\", b=\"round(x / 5 - 3.3) / 9 + 0.4\")",
        "pixel(r=\"sqrt(r) * exp(g - 1)\", g=\"log(b + 1) * 1.3\", b=\"pow(b, 2.2) + pow(r, 0.4545) / 4\")",
        "pixel(r=\"0.5 + 0.5 * sin(x / 3) * cos(y / 5)\", g=\"0.5 + 0.2 * tan(r - 0.5)\")",
        "pixel(r=\"sin(x * 0.37 + 100)\", g=\"cos(y * 1.3 - 40) * 0.5 + 0.5\")",
        "pixel(r=\"lerp(r, g, b)\", g=\"smoothstep(0.2001, 0.8001, g)\", b=\"1 - a\")",
        "pixel(r=\"if(r > 0.5001, g, b)\", g=\"(r < 0.3001 || g >= 0.7001) * between(b, 0.2001, 0.8001)\")",
        "pixel(r=\"(r <= 0.4001) * 0.5 + !(a > 0.9001) * 0.3\", g=\"(r != g) * 0.5 + (r == r) * 0.25\")",
        "pixel(r=\"x % 7 / 7\", g=\"y % 3 / 3\", b=\"(x + y) % 2\")",
        "pixel(r=\"x / w\", g=\"y / h\", b=\"x * y / (w * h)\")",
        "pixel(r=\"linear(r, 0, 1, 0.5001, 0.2, 1, 0.9)\", g=\"smooth(g, 0.1001, 0, 0.6001, 1, 0.9001, 0.5)\")",
        "pixel(r=\"linear(x, 0, 0, 30, 1, 60, 0.2)\", b=\"smooth(y, 0, 1, 40, 0)\")",
        "pixel(r=\"r / (g - g)\", g=\"log(r - 1)\", b=\"-b\", a=\"a * 2\")",
        "pixel(r=\"b\", b=\"r\", a=\"0.5\")",
        "pixel(a=\"1 - a\") | invert",
        "invert | pixel(r=\"r * g\", g=\"g * b\", b=\"b * r\") | eq(contrast=1.3, saturation=1.2)",
        "pixel(r=\"r * 1.5\", a=\"a * r\") | gblur(1.5) | pixel(g=\"1 - g\")",
        "pixel(r=\"x / w\", a=\"y / h\") | scale(40, 30, bilinear) | pixel(b=\"x / w\")",
    ];
    let mut failures = Vec::new();
    for text in chains {
        for frame in frames() {
            let a = run(&mut cpu, text, &frame);
            let b = run(&mut gpu, text, &frame);
            // One code a plane; at 16 bits one 8-bit code (257), for the GPU's own sin, exp
            // and pow, which WGSL bounds to about 2^-11.
            let limit = if frame.format.bits == 16 { 257 } else { 1 };
            match a.plane_diffs(&b) {
                Some(d) if d.iter().all(|&d| d <= limit) => {}
                d => failures.push(format!("{text} ({}): {d:?}", frame.format.describe())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Positions are the pixel's column and row on both backends, across the CPU's blocks of 1024
/// pixels and rows that wrap inside them.
#[test]
fn coordinates_are_exact() {
    let (w, h) = (300u32, 9u32);
    let frame = Frame::new(Format::rgb(w, h, 16, true));
    let text =
        "pixel(r=\"x / 65535\", g=\"y / 65535\", b=\"(x + w * y) / 65535\", a=\"w / 65535\")";
    let mut backends: Vec<Box<dyn Backend>> = vec![
        Box::new(CpuBackend::new()),
        Box::new(CpuBackend::with_strip_rows(2)),
    ];
    backends.extend(common::gpu().map(|g| Box::new(g) as Box<dyn Backend>));
    for backend in &mut backends {
        // A second pass sends the CPU through its strip executor as well.
        for chain in [text.to_string(), format!("{text} | hflip | hflip")] {
            let out = run(backend.as_mut(), &chain, &frame);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let i = y * w as usize + x;
                    let px: Vec<u16> = (0..4).map(|p| out.plane16(p).row(y)[x]).collect();
                    assert_eq!(
                        px,
                        [x as u16, y as u16, i as u16, w as u16],
                        "{chain} at ({x}, {y}) on {}",
                        backend.describe()
                    );
                }
            }
        }
    }
}

/// The CPU's pointwise pass gives the same codes alone and followed by other passes, alpha
/// included, within the one code by which keeping the result at more precision between passes
/// may round it the other way.
#[test]
fn cpu_pointwise_alone_and_in_a_longer_plan_agree() {
    let texts = [
        "pixel(r=\"x / w * g\", g=\"1 - a\", a=\"r * b + 0.1\")",
        "invert | pixel(a=\"smoothstep(0.2, 0.7, y / h)\") | eq(brightness=0.1)",
    ];
    for text in texts {
        for frame in frames() {
            let mut cpu = CpuBackend::new();
            let whole = run(&mut cpu, text, &frame);
            let strips = run(
                &mut CpuBackend::with_strip_rows(3),
                &format!("{text} | vflip | vflip"),
                &frame,
            );
            let d = whole.max_abs_diff(&strips).unwrap();
            assert!(d <= 1, "{text} on {}: {d}", frame.format.describe());
        }
    }
}

#[test]
fn pixel_fuses_with_neighbouring_pointwise_filters() {
    let chain =
        Chain::parse("invert | pixel(r=\"r * g\", a=\"1 - a\") | eq(contrast=1.2)").unwrap();
    let format = Format::rgb(32, 16, 8, true);
    let plan = plan::compile(&chain, &format).unwrap();
    assert_eq!(plan.passes.len(), 1, "{:?}", plan.passes);
    let PassKind::Pointwise(ops) = &plan.passes[0].kind else {
        panic!("{:?}", plan.passes[0].kind)
    };
    assert!(matches!(
        ops.as_slice(),
        [
            PointOp::Curves(_),
            PointOp::Pixel { .. },
            PointOp::Curves(_)
        ]
    ));
    // A pixel op that changes nothing is no op at all.
    let chain = Chain::parse("pixel(r=r, b=\"b\") | invert").unwrap();
    let plan = plan::compile(&chain, &format).unwrap();
    assert!(matches!(&plan.passes[0].kind, PassKind::Pointwise(ops) if ops.len() == 1));
}

/// Frame-level parts are evaluated per frame into the op's uniforms; the program stays.
#[test]
fn per_frame_values_are_uniforms_of_one_program() {
    let chain = Chain::parse(
        "pixel(r=\"r * (0.5 + 0.5 * sin(2 * PI * t))\", g=\"g * n / 10\", b=\"x / w\")",
    )
    .unwrap();
    assert!(chain.varies());
    let at = |t: f64, n: u64| {
        let time = FrameTime {
            t,
            n,
            fps: 25.0,
            duration: 4.0,
        };
        let plan = plan::compile_at(&chain, &Format::rgb(40, 20, 8, true), &time).unwrap();
        let PassKind::Pointwise(ops) = &plan.passes[0].kind else {
            panic!()
        };
        let PointOp::Pixel { program, uniforms } = &ops[0] else {
            panic!()
        };
        (program.clone(), uniforms.clone())
    };
    let (p0, u0) = at(0.0, 0);
    let (p1, u1) = at(0.25, 6);
    assert_eq!(p0, p1);
    assert_ne!(u0, u1);
    assert!(
        u1.contains(&1.0) && u1.contains(&6.0) && u1.contains(&40.0),
        "{u1:?}"
    );

    let frame = common::test_image8(40, 20, 3);
    let mut cpu = CpuBackend::new();
    let time = FrameTime {
        t: 0.25,
        n: 6,
        ..FrameTime::default()
    };
    let plan = plan::compile_at(&chain, &frame.format, &time).unwrap();
    let out = cpu.process(&plan, frame.clone()).unwrap();
    let (px, before) = (out.sample(5, 7, 1), frame.sample(5, 7, 1));
    assert!((px - before * 0.6).abs() <= 1.0 / 255.0, "{px} vs {before}");
}

#[test]
fn a_frame_level_value_that_is_not_finite_is_an_error_of_the_stage() {
    let text = "pixel(r=\"r * (1 / t)\")";
    let chain = Chain::parse(text).unwrap();
    let format = Format::rgb(8, 8, 8, false);
    let err = plan::compile(&chain, &format).unwrap_err();
    assert_eq!(err.filter, "pixel");
    assert!(
        err.message.contains("1 / t") && err.message.contains("inf"),
        "{}",
        err.message
    );
    let later = FrameTime {
        t: 2.0,
        ..FrameTime::default()
    };
    assert!(plan::compile_at(&chain, &format, &later).is_ok());
}

/// `invert(alpha=true)` is `pixel` on all four channels: alpha inverted, colour as `invert()`.
#[test]
fn invert_with_alpha_inverts_alpha_on_both_backends() {
    let mut backends: Vec<Box<dyn Backend>> = vec![Box::new(CpuBackend::new())];
    backends.extend(common::gpu().map(|g| Box::new(g) as Box<dyn Backend>));
    for backend in &mut backends {
        for frame in frames() {
            let with = run(backend.as_mut(), "invert(alpha=true)", &frame);
            let spelled = run(
                backend.as_mut(),
                "pixel(r=1-r, g=1-g, b=1-b, a=1-a)",
                &frame,
            );
            assert_eq!(with.max_abs_diff(&spelled), Some(0));
            let plain = run(backend.as_mut(), "invert(alpha=false)", &frame);
            let max = frame.format.max_code();
            let n = frame.format.layout.colour_planes();
            // Colour as `invert()` (on Y′CbCr within the rounding of the way through RGB);
            // alpha inverted, a frame without alpha getting an inverted opaque one.
            for p in 0..n {
                let (a, b) = (with.plane(p), plain.plane(p));
                let (w, h) = a.size();
                for y in 0..h {
                    for x in 0..w {
                        assert!(
                            a.get(x, y).abs_diff(b.get(x, y)) <= 1,
                            "plane {p} at ({x}, {y}) of {}",
                            frame.format.describe()
                        );
                    }
                }
            }
            let alpha = with.format.layout.alpha_plane().expect("alpha written");
            let (a, w) = (with.plane(alpha), with.width() as usize);
            for y in 0..with.height() as usize {
                for x in 0..w {
                    let before = match frame.format.layout.alpha_plane() {
                        Some(f) => frame.plane(f).get(x, y),
                        None => max,
                    };
                    assert_eq!(a.get(x, y), max - before, "alpha at ({x}, {y})");
                }
            }
        }
    }
}

/// `luma`, `cb` and `cr` read and set the pixel's Y′CbCr in the frame's matrix: setting luma
/// alone leaves chroma as it was, setting chroma to 0 is `grayscale`, reading luma into r, g
/// and b too.
#[test]
fn pixel_reads_and_sets_ycbcr() {
    let mut cpu = CpuBackend::new();
    let video = test_frame(yuv(40, 30, Layout::YUV420, 8), 31);
    let out = run(&mut cpu, "pixel(luma=\"1 - luma\")", &video);
    let inverted = run(&mut cpu, "invert", &video);
    let d = out.plane_diffs(&video).unwrap();
    assert!(d[1] <= 1 && d[2] <= 1, "chroma moved: {d:?}");
    assert!(
        out.plane_diffs(&inverted).unwrap()[0] <= 1,
        "luma is not 1 - luma"
    );
    for frame in frames() {
        let gray = run(&mut cpu, "grayscale", &frame);
        for text in ["pixel(cb=0, cr=0)", "pixel(r=luma, g=luma, b=luma)"] {
            let d = run(&mut cpu, text, &frame).plane_diffs(&gray).unwrap();
            assert!(
                d.iter().all(|&d| d <= 1),
                "{text} on {}: {d:?}",
                frame.format.describe()
            );
        }
    }
    // Values set outside their range are clamped: luma to 0..1.
    let white = run(&mut cpu, "pixel(luma=2, cb=0, cr=0)", &video);
    assert!(white.plane8(0).data.iter().all(|&v| v == 235));
    let chain = Chain::parse("pixel(r=\"1\", luma=\"0.5\")").unwrap();
    let err = plan::compile(&chain, &video.format).unwrap_err();
    assert!(err.message.contains("one or the other"), "{err}");
}
