//! `pixel`, the filter written as expressions: the built-ins it can spell are matched exactly on
//! each backend, the backends agree within one code value on programs of every kind, it fuses
//! with its neighbours, and its per-frame values come from the frame's time.

mod common;

use tessera::backend::cpu::CpuBackend;
use tessera::plan::{self, FrameTime, PassKind, PointOp};
use tessera::{Backend, Chain, Frame, Pixels};

const LUMA: &str = "0.2126*r + 0.7152*g + 0.0722*b";

fn run(backend: &mut dyn Backend, text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan =
        plan::compile(&chain, frame.width, frame.height).unwrap_or_else(|e| panic!("{text}: {e}"));
    backend
        .process(&plan, frame.clone())
        .unwrap_or_else(|e| panic!("{text} on {}: {e}", backend.describe()))
}

fn frames() -> [Frame; 2] {
    [
        common::test_image8(67, 45, 11),
        common::test_image16(67, 45, 12),
    ]
}

/// `pixel` spelling a built-in gives the built-in's codes exactly, on `backend`.
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
            assert_eq!(
                a.max_abs_diff(&b),
                Some(0),
                "{pixel} vs {builtin} on {} ({:?})",
                backend.describe(),
                frame.depth()
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
            let limit = match frame.depth() {
                tessera::Depth::Eight => 1,
                tessera::Depth::Sixteen => 257,
            };
            match a.max_abs_diff(&b) {
                Some(d) if d <= limit => {}
                d => failures.push(format!("{text} ({:?}): {d:?}", frame.depth())),
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
    let frame = Frame::new(w, h, tessera::Depth::Sixteen);
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
            let Pixels::Rgba16(p) = &out.pixels else {
                panic!()
            };
            for (i, px) in p.chunks(4).enumerate() {
                let (x, y) = (i as u32 % w, i as u32 / w);
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

/// The CPU's two executors (in place for a plan of one pointwise pass, by strips otherwise)
/// give the same codes, alpha included.
#[test]
fn cpu_strip_and_in_place_paths_agree() {
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
            assert_eq!(whole.max_abs_diff(&strips), Some(0), "{text}");
        }
    }
}

#[test]
fn pixel_fuses_with_neighbouring_pointwise_filters() {
    let chain =
        Chain::parse("invert | pixel(r=\"r * g\", a=\"1 - a\") | eq(contrast=1.2)").unwrap();
    let plan = plan::compile(&chain, 32, 16).unwrap();
    assert_eq!(plan.passes.len(), 1, "{:?}", plan.passes);
    let PassKind::Pointwise(ops) = &plan.passes[0].kind else {
        panic!("{:?}", plan.passes[0].kind)
    };
    assert!(matches!(
        ops.as_slice(),
        [PointOp::Invert, PointOp::Pixel { .. }, PointOp::Eq { .. }]
    ));
    // A pixel op that changes nothing is no op at all.
    let chain = Chain::parse("pixel(r=r, b=\"b\") | invert").unwrap();
    let plan = plan::compile(&chain, 32, 16).unwrap();
    assert_eq!(
        plan.passes[0].kind,
        PassKind::Pointwise(vec![PointOp::Invert])
    );
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
        let plan = plan::compile_at(&chain, 40, 20, &time).unwrap();
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
    let plan = plan::compile_at(&chain, 40, 20, &time).unwrap();
    let out = cpu.process(&plan, frame.clone()).unwrap();
    let (px, before) = (out.sample(5, 7, 1), frame.sample(5, 7, 1));
    assert!((px - before * 0.6).abs() <= 1.0 / 255.0, "{px} vs {before}");
}

#[test]
fn a_frame_level_value_that_is_not_finite_is_an_error_of_the_stage() {
    let text = "pixel(r=\"r * (1 / t)\")";
    let chain = Chain::parse(text).unwrap();
    let err = plan::compile(&chain, 8, 8).unwrap_err();
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
    assert!(plan::compile_at(&chain, 8, 8, &later).is_ok());
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
            let max = frame.depth().max_value() as u32;
            let pairs = match (&with.pixels, &plain.pixels, &frame.pixels) {
                (Pixels::Rgba8(w), Pixels::Rgba8(p), Pixels::Rgba8(f)) => w
                    .iter()
                    .zip(p)
                    .zip(f)
                    .map(|((&w, &p), &f)| (w as u32, p as u32, f as u32))
                    .collect::<Vec<_>>(),
                (Pixels::Rgba16(w), Pixels::Rgba16(p), Pixels::Rgba16(f)) => w
                    .iter()
                    .zip(p)
                    .zip(f)
                    .map(|((&w, &p), &f)| (w as u32, p as u32, f as u32))
                    .collect(),
                _ => panic!("depths differ"),
            };
            for (i, (w, p, f)) in pairs.into_iter().enumerate() {
                if i % 4 == 3 {
                    assert_eq!((w, p), (max - f, f), "alpha of pixel {}", i / 4);
                } else {
                    assert_eq!(w, p, "colour of pixel {}", i / 4);
                }
            }
        }
    }
}
