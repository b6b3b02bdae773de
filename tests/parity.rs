//! CPU and GPU backends agree: every filter in the registry, with every example parameter set,
//! on 8-bit and 16-bit images, differs by at most one 8-bit code value between the backends.
//! Driven by the registry, so a new filter is covered as soon as it declares its examples.

mod common;

use tessera::backend::cpu::CpuBackend;
use tessera::filters::registry;
use tessera::{plan, Backend, Chain, Frame};

/// One 8-bit code value, measured in 16-bit code values.
const ONE_8BIT_IN_16: u32 = 257;

fn run(backend: &mut dyn Backend, text: &str, frame: &Frame) -> Frame {
    let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
    let plan =
        plan::compile(&chain, frame.width, frame.height).unwrap_or_else(|e| panic!("{text}: {e}"));
    backend
        .process(&plan, frame.clone())
        .unwrap_or_else(|e| panic!("{text} on {}: {e}", backend.describe()))
}

fn compare_all(chains: &[String], frames: &[Frame]) {
    let Some(mut gpu) = common::gpu() else { return };
    let mut cpu = CpuBackend::new();
    let mut failures = Vec::new();
    for text in chains {
        for frame in frames {
            let a = run(&mut cpu, text, frame);
            let b = run(&mut gpu, text, frame);
            let limit = match frame.depth() {
                tessera::Depth::Eight => 1,
                tessera::Depth::Sixteen => ONE_8BIT_IN_16,
            };
            match a.max_abs_diff(&b) {
                Some(d) if d <= limit => {}
                Some(d) => failures.push(format!(
                    "{text} on {}x{} {:?}: backends differ by {d} code values",
                    frame.width,
                    frame.height,
                    frame.depth()
                )),
                None => failures.push(format!("{text}: output shapes differ")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} parity failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_filter_declares_examples() {
    for spec in registry() {
        assert!(
            !spec.examples.is_empty(),
            "{} has no examples for the parity tests",
            spec.name
        );
        for example in spec.examples {
            Chain::parse(example)
                .unwrap_or_else(|e| panic!("example of {}: {}", spec.name, e.render(example)));
        }
    }
}

#[test]
fn every_filter_matches_across_backends() {
    let chains: Vec<String> = registry()
        .iter()
        .flat_map(|s| s.examples.iter().map(|e| e.to_string()))
        .collect();
    let frames = [
        common::test_image8(61, 47, 1),
        common::test_image16(61, 47, 2),
    ];
    compare_all(&chains, &frames);
}

#[test]
fn chains_match_across_backends() {
    let chains = [
        "gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1)",
        "eq(brightness=0.05) | eq(contrast=1.2) | grayscale | invert | eq(saturation=1.3)",
        "scale(width=40, height=30) | convolve([[0,-1,0],[-1,5,-1],[0,-1,0]]) | vflip",
        "crop(x=5, y=4, width=33, height=21) | boxblur(2) | scale(width=70, filter=bicubic) | hflip",
        "invert | gblur(0.7) | invert",
    ]
    .map(String::from);
    let frames = [common::test_image8(61, 47, 3)];
    compare_all(&chains, &frames);
}

#[test]
fn edge_shapes_match_across_backends() {
    // One-pixel and very thin frames exercise edge clamping everywhere.
    let chains = [
        "gblur(sigma=3)",
        "convolve([[1,2,1],[2,4,2],[1,2,1]])",
        "unsharp(2, 2)",
        "scale(width=3, height=9)",
        "boxblur(4) | hflip | vflip",
    ]
    .map(String::from);
    let frames = [
        common::test_image8(1, 1, 4),
        common::test_image8(1, 17, 5),
        common::test_image8(23, 2, 6),
    ];
    compare_all(&chains, &frames);
}
