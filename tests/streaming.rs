//! Strips against whole pictures: every filter of the registry, with every example parameter
//! set, on pictures taller than several strips with odd sizes, at 8 and 16 bits, with and
//! without alpha, and on subsampled Y′CbCr, gives the same samples run strip by strip (as the
//! streaming still path and the GPU's bands of frames too large for one binding run it) as run
//! whole.

mod common;

use common::{test_frame, yuv};
use tessera::backend::cpu::CpuBackend;
use tessera::filters::registry;
use tessera::frame::{Format, Layout};
use tessera::{plan, Backend, Chain, Frame};

/// The pictures every chain runs on: taller than several strips, odd sizes.
fn frames() -> Vec<Frame> {
    vec![
        common::test_image8(61, 83, 1),
        common::test_image16(63, 71, 2),
        test_frame(Format::rgb(67, 79, 8, false), 3),
        test_frame(yuv(65, 75, Layout::YUV420, 8), 4),
        test_frame(yuv(61, 89, Layout::GRAY, 16), 5),
    ]
}

/// Runs each chain on each frame whole and in strips of a few heights; returns how many ran
/// in strips, and the chains that cannot (with the reason).
fn strips_match_whole(
    backend: &mut dyn Backend,
    chains: &[String],
    frames: &[Frame],
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut refused = Vec::new();
    let mut ran = 0;
    for text in chains {
        let chain = Chain::parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
        for frame in frames {
            let plan = match plan::compile(&chain, &frame.format) {
                Ok(plan) => plan,
                // Examples written for other shapes (a crop or a pad of a set size), `planes`
                // naming planes the frame has not: refused whole as in strips.
                Err(_) => continue,
            };
            if let Some(why) = plan.strips_refused() {
                refused.push(format!("{text}: {why}"));
                continue;
            }
            backend.new_stream();
            let whole = backend.process(&plan, frame.clone()).unwrap();
            for rows in [2, 7, 16] {
                let strips = plan::run_in_strips(&plan, frame, rows, |p, f| {
                    backend.new_stream();
                    backend.process(p, f)
                })
                .unwrap();
                ran += 1;
                if strips.format != whole.format || strips.plane_diffs(&whole).is_none() {
                    failures.push(format!(
                        "{text} on {} in strips of {rows}: {} against {}",
                        frame.format.describe(),
                        strips.format.describe(),
                        whole.format.describe()
                    ));
                    continue;
                }
                let diffs = strips.plane_diffs(&whole).unwrap();
                if diffs.iter().any(|&d| d != 0) {
                    failures.push(format!(
                        "{text} on {} in strips of {rows}: planes differ by {diffs:?}",
                        frame.format.describe()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (ran, refused)
}

#[test]
fn every_filter_gives_the_same_samples_in_strips_as_whole() {
    let chains: Vec<String> = registry()
        .iter()
        .flat_map(|s| s.examples.iter().map(|e| e.to_string()))
        .collect();
    let (ran, mut refused) = strips_match_whole(&mut CpuBackend::new(), &chains, &frames());
    assert!(ran > chains.len() * 3 * 3, "only {ran} runs in strips");
    // The chains that cannot be cut are the ones that read far from where they write (a
    // rotation, a transposition, a vertical flip) or keep whole frames (temporal filters).
    refused.sort();
    refused.dedup();
    for line in &refused {
        assert!(
            ["rotate", "transpose", "vflip", "tmix", "hqdn3d"]
                .iter()
                .any(|name| line.starts_with(name) || line.contains(&format!("| {name}"))),
            "refused unexpectedly: {line}"
        );
    }
}

#[test]
fn chains_give_the_same_samples_in_strips_on_both_backends() {
    let chains = [
        "gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1)",
        "crop(x=6, y=4, width=21, height=41) | boxblur(2) | scale(width=40, filter=bicubic) | hflip",
        "scale(width=w/3, height=h/3, filter=lanczos3) | median(1) | curves(preset=vintage)",
        "overlay(\"assets/overlays/badge.png\", 5, 30, 0.9, multiply) | sobel",
        "pad(w+6, h+9, 3, 4, #4080c0) | bilateral | denoise",
    ]
    .map(String::from);
    let frames = frames();
    strips_match_whole(&mut CpuBackend::new(), &chains, &frames);
    if let Some(mut gpu) = common::gpu() {
        strips_match_whole(&mut gpu, &chains, &frames);
    }
}
