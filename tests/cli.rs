//! The binary on images: every supported format in and out, depth kept where the format allows,
//! the same picture from both backends, `--discard`, and `tessera filters`.

mod common;

use std::path::Path;

use tessera::filters::registry;

use common::tessera;

fn write_png8(path: &Path, w: u32, h: u32) {
    common::write_png8(path, w, h, 21);
}

fn write_png16(path: &Path, w: u32, h: u32) {
    let frame = common::test_image16(w, h, 22);
    let tessera::Samples::U16(data) = frame.interleaved() else {
        unreachable!()
    };
    image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(w, h, data)
        .unwrap()
        .save(path)
        .unwrap();
}

#[test]
fn images_convert_between_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.png");
    write_png8(&src, 40, 30);
    let mut previous = src.clone();
    for ext in ["jpg", "webp", "tiff", "bmp", "png"] {
        let out = dir.path().join(format!("out.{ext}"));
        let (code, _, err) = tessera(&[
            "process",
            previous.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chain",
            "scale(width=20) | hflip",
            "--backend",
            "cpu",
        ]);
        assert_eq!(code, 0, "{ext}: {err}");
        let img = image::open(&out).unwrap_or_else(|e| panic!("{ext} output does not decode: {e}"));
        assert!(
            img.width() <= 20 && img.width() >= 2,
            "{ext}: width {}",
            img.width()
        );
        previous = out;
    }
}

#[test]
fn sixteen_bit_sources_keep_their_depth_where_the_format_allows() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("deep.png");
    write_png16(&src, 24, 16);
    for (ext, sixteen) in [
        ("png", true),
        ("tiff", true),
        ("jpg", false),
        ("webp", false),
    ] {
        let out = dir.path().join(format!("out.{ext}"));
        let (code, _, err) = tessera(&[
            "process",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chain",
            "eq(contrast=1.1)",
            "--backend",
            "cpu",
        ]);
        assert_eq!(code, 0, "{ext}: {err}");
        let img = image::open(&out).unwrap();
        let is16 = matches!(
            img.color(),
            image::ColorType::Rgba16
                | image::ColorType::Rgb16
                | image::ColorType::L16
                | image::ColorType::La16
        );
        assert_eq!(is16, sixteen, "{ext}: color type {:?}", img.color());
    }
}

#[test]
fn both_backends_give_the_same_picture() {
    if common::gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.png");
    write_png8(&src, 64, 48);
    let chain = "gblur(sigma=2) | unsharp(amount=1.2) | eq(saturation=1.1) | scale(width=50, filter=bicubic) | crop(2, 2, 40, 30) | vflip";
    let mut images = Vec::new();
    for backend in ["cpu", "gpu"] {
        let out = dir.path().join(format!("{backend}.png"));
        let (code, _, err) = tessera(&[
            "process",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--chain",
            chain,
            "--backend",
            backend,
        ]);
        assert_eq!(code, 0, "{backend}: {err}");
        assert!(
            err.contains(&format!("backend {backend}")),
            "says which backend ran: {err}"
        );
        images.push(image::open(&out).unwrap().to_rgba8());
    }
    assert_eq!(images[0].dimensions(), (40, 30));
    let max = images[0]
        .as_raw()
        .iter()
        .zip(images[1].as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(max <= 1, "backends differ by {max}");
}

#[test]
fn discard_processes_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.png");
    write_png8(&src, 20, 20);
    let (code, _, err) = tessera(&[
        "process",
        src.to_str().unwrap(),
        "--discard",
        "--chain",
        "gblur",
        "--backend",
        "cpu",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 frame"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn filters_lists_every_filter_and_parameter() {
    let (code, out, _) = tessera(&["filters"]);
    assert_eq!(code, 0);
    for spec in registry() {
        assert!(
            out.lines().any(|l| l.starts_with(spec.name)),
            "{} missing",
            spec.name
        );
        for p in spec.params {
            assert!(
                out.contains(&format!("  {:<11} ", p.name)) && out.contains(p.doc),
                "{}.{} missing",
                spec.name,
                p.name
            );
        }
    }
    assert!(
        out.contains("number, 0.1 ..= 64") && out.contains("default 1"),
        "ranges and defaults shown"
    );
}

/// Shell completions and the manual page come from the argument definitions, so they name
/// every subcommand and flag.
#[test]
fn completions_and_the_manual_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = tessera(&["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        for word in ["process", "probe", "chain-file", "on-error"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let (code, _, err) = tessera(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("possible values"), "{err}");
    let (code, out, err) = tessera(&["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(".ie") || out.contains(".TH tessera 1"),
        "{out}"
    );
    for word in [
        "TESSERA PROCESS",
        "TESSERA PROBE",
        "\\-\\-auto\\-rotate",
        "\\-\\-chain\\-file",
    ] {
        assert!(out.contains(word), "the manual lacks {word}");
    }
}

/// Runs the binary without XDG_RUNTIME_DIR, whose absence Mesa's Vulkan drivers complain of on
/// stderr; its exit code and stderr.
fn tessera_without_xdg(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .args(args)
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .expect("run tessera");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "tessera panicked:\n{err}");
    (out.status.code().unwrap(), err)
}

/// `--backend auto` probes the GPU once, keeps the drivers' own messages off the terminal
/// (`-q` prints nothing on success, a file or a batch), and says with `-v` what it chose and
/// why.
#[test]
fn auto_backend_is_quiet_and_says_why_with_v() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for n in 0..3 {
        write_png8(&photos.join(format!("p{n}.png")), 32, 24);
    }
    let one = photos.join("p0.png");
    let out = dir.path().join("out.png");
    let (code, err) =
        tessera_without_xdg(&["process", "-q", common::s(&one), "-o", common::s(&out)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "nothing on stderr with -q");
    let outs = dir.path().join("outs");
    let (code, err) =
        tessera_without_xdg(&["process", "-q", common::s(&photos), "-o", common::s(&outs)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "nothing on stderr with -q, for a batch");

    let (code, err) = tessera_without_xdg(&[
        "-v",
        "process",
        common::s(&photos),
        "-o",
        common::s(&outs),
        "--overwrite",
    ]);
    assert_eq!(code, 0, "{err}");
    let said: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("backend auto chose"))
        .collect();
    assert_eq!(said.len(), 1, "said once for the batch: {err}");
    assert!(
        said[0].contains("backend auto chose the CPU: ")
            || said[0].contains("backend auto chose the GPU, "),
        "{err}"
    );
    if said[0].contains("the CPU") {
        // Why: no adapter, or only a software one.
        assert!(said[0].contains("no GPU adapter found"), "{err}");
    }
    assert_eq!(
        err.matches("GPU probe: wgpu found").count(),
        1,
        "probed once: {err}"
    );
    assert!(!err.lines().any(|l| l.starts_with("error:")), "{err}");
}
