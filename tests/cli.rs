//! The binary on images: every supported format in and out, depth kept where the format allows,
//! the same picture from both backends, `--discard`; `tessera filters` (the table and its
//! JSON), the manual page, `check`'s usage, arguments refused at parse time, and the advice
//! when a container cannot hold the input's audio.

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

/// Every filter's parameters in columns: within a filter, each parameter's type, default and
/// doc start at the same column, two spaces at least after the column before (a default too
/// long for its column puts the doc on the next line, in the doc column).
#[test]
fn filters_lists_every_filter_and_parameter_in_columns() {
    let (code, out, _) = tessera(&["filters"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    // Columns count characters, not bytes; `None` where `text` is not on the line.
    let column = |line: &str, text: &str| line.find(text).map(|b| line[..b].chars().count());
    let spaced = |line: &str, at: usize| {
        let before: Vec<char> = line.chars().take(at).collect();
        before.ends_with(&[' ', ' '])
    };
    for spec in registry() {
        let mut row = 1 + lines
            .iter()
            .position(|l| l.starts_with(&format!("{:<10} ", spec.name)))
            .unwrap_or_else(|| panic!("{} missing", spec.name));
        let mut columns = None;
        for p in spec.params {
            let line = lines[row];
            row += 1;
            let at = |what: &str, column: Option<usize>| {
                let at =
                    column.unwrap_or_else(|| panic!("{}.{} {what}: {line}", spec.name, p.name));
                assert!(spaced(line, at), "{}.{} {what}: {line}", spec.name, p.name);
                at
            };
            assert!(
                line.starts_with(&format!("  {} ", p.name)),
                "{}: {line}",
                spec.name
            );
            let kind = tessera::chain::kind_text(&p.kind);
            let kind_at = at("type", column(line, &kind));
            let rest = &line[line.find(&kind).unwrap() + kind.len()..];
            let default = rest.trim_start().split("  ").next().unwrap();
            let default_at = at("default", column(line, default));
            let doc_at = match column(line, p.doc) {
                Some(_) => at("doc", column(line, p.doc)),
                None => {
                    // On the next line, alone, in the doc column.
                    let next = lines[row];
                    row += 1;
                    assert_eq!(next.trim_start(), p.doc, "{}.{}", spec.name, p.name);
                    next.chars().count() - p.doc.chars().count()
                }
            };
            let here = (kind_at, default_at, doc_at);
            assert_eq!(
                *columns.get_or_insert(here),
                here,
                "{}.{} out of line",
                spec.name,
                p.name
            );
        }
    }
    assert!(
        out.contains("number, 0.1 ..= 64") && out.contains("default 1"),
        "ranges and defaults shown"
    );
    assert!(!out.contains("passes through new"), "{out}");
}

/// `filters --json` is the registry as data: every filter the table lists, every parameter with
/// its type, range or choices, default and unit.
#[test]
fn filters_json_is_the_registry() {
    let (code, out, err) = tessera(&["filters", "--json"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("filters --json prints JSON");
    assert_eq!(doc["schema"], 1);
    let filters = doc["filters"].as_array().unwrap();
    let (_, table, _) = tessera(&["filters"]);
    let listed: Vec<&str> = table
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| registry().iter().any(|s| s.name == *name))
        .collect();
    let names: Vec<&str> = filters
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, listed);
    assert_eq!(names.len(), registry().len());
    for (f, spec) in filters.iter().zip(registry()) {
        assert_eq!(f["summary"], spec.description);
        assert!(
            ["pointwise", "stencil", "resample", "temporal"].contains(&f["kind"].as_str().unwrap())
        );
        assert!(
            !f["examples"].as_array().unwrap().is_empty(),
            "{}",
            spec.name
        );
        let params = f["parameters"].as_array().unwrap();
        assert_eq!(params.len(), spec.params.len(), "{}", spec.name);
        for (p, ps) in params.iter().zip(spec.params) {
            assert_eq!(p["name"], ps.name);
            assert_eq!(p["doc"], ps.doc);
            let required = p["required"].as_bool().unwrap();
            // A parameter is required, or has a value or a rule for its default.
            assert_eq!(
                [
                    required,
                    p.get("default").is_some(),
                    p.get("default_text").is_some()
                ]
                .iter()
                .filter(|b| **b)
                .count(),
                1,
                "{}.{}: {p}",
                spec.name,
                ps.name
            );
            match p["type"].as_str().unwrap() {
                "number" | "integer" => assert!(p["min"].as_f64() <= p["max"].as_f64()),
                "choice" => assert!(!p["choices"].as_array().unwrap().is_empty()),
                "matrix" => assert!(p["max_side"].as_u64().is_some()),
                "boolean" | "colour" | "expression" | "planes" | "text" => {}
                other => panic!("{}.{}: type {other}", spec.name, ps.name),
            }
        }
    }
    let gblur = &filters[0];
    assert_eq!(gblur["name"], "gblur");
    assert_eq!(gblur["kind"], "stencil");
    let sigma = &gblur["parameters"][0];
    assert_eq!(
        (
            &sigma["type"],
            sigma["min"].as_f64(),
            sigma["max"].as_f64(),
            sigma["default"].as_f64()
        ),
        (
            &serde_json::json!("number"),
            Some(0.1),
            Some(64.0),
            Some(1.0)
        )
    );
    assert_eq!(sigma["unit"], "pixels");
    let scale = filters.iter().find(|f| f["name"] == "scale").unwrap();
    let filter = &scale["parameters"][2];
    assert_eq!(filter["type"], "choice");
    assert_eq!(filter["default"], "lanczos3");
    assert!(filter["choices"]
        .as_array()
        .unwrap()
        .contains(&"bicubic".into()));
    let pixel = filters.iter().find(|f| f["name"] == "pixel").unwrap();
    assert_eq!(pixel["kind"], "pointwise");
    assert_eq!(pixel["parameters"][0]["default_text"], "passes through");
}

/// Arguments that can never work are refused while parsing, with exit code 2.
#[test]
fn impossible_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.png");
    write_png8(&src, 8, 8);
    let out = dir.path().join("out.png");
    for (frames, message) in [
        ("0", "a count of 0 keeps nothing"),
        ("x", "not a number of frames"),
    ] {
        let (code, _, err) = tessera(&[
            "process",
            src.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--frames",
            frames,
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(message) && err.contains("--frames"), "{err}");
        assert!(!out.exists());
    }
}

/// `check` takes a chain file or --chain, exactly one, and its usage says so.
#[test]
fn check_usage_names_a_file_or_chain() {
    let usage = "Usage: tessera check [OPTIONS] <FILE|--chain <CHAIN>>";
    let (code, help, _) = tessera(&["check", "--help"]);
    assert_eq!(code, 0);
    assert!(help.contains(usage), "{help}");
    let (code, _, err) = tessera(&["check"]);
    assert_eq!(code, 2);
    assert!(err.contains("<FILE|--chain <CHAIN>>"), "{err}");
    let (code, _, err) = tessera(&["check", "--chain", "hflip", "some.chain"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    assert!(!err.contains("--chain <CHAIN> [FILE]"), "{err}");
    let (code, out, err) = tessera(&["check", "--chain", "hflip"]);
    assert_eq!((code, out.trim()), (0, "hflip()"), "{err}");
}

/// A WebM cannot hold AAC: the refusal says which encoder would do.
#[cfg(feature = "video")]
#[test]
fn a_webm_refusing_aac_suggests_opus() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=64x48:r=10:d=0.5",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=0.5",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        common::s(&input),
    ]);
    let out = dir.path().join("out.webm");
    for extra in [&[][..], &["--audio-codec", "aac"]] {
        let mut args = vec!["process", common::s(&input), "-o", common::s(&out)];
        args.extend_from_slice(extra);
        args.extend(["--backend", "cpu", "--codec", "libvpx-vp9"]);
        let (code, _, err) = tessera(&args);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("cannot hold"), "{extra:?}: {err}");
        assert!(err.contains("--audio-codec libopus"), "{extra:?}: {err}");
        assert!(err.contains("--no-audio"), "{extra:?}: {err}");
        assert!(!out.exists());
    }
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
        "\\fBtessera process\\fR",
        "see TESSERA PROCESS below",
    ] {
        assert!(out.contains(word), "the manual lacks {word}");
    }
    // It points at no other page: there is one.
    assert!(!out.contains("(1)"), "{out}");
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
