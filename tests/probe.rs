//! `tessera probe` through the binary: its JSON document, field by field, against ffprobe's
//! `-of json` for the same file (a clip with tags, a language, colour tags and chapters, a
//! 10-bit clip, a rotated clip, an audio-only file, a PNG); stills described as stills (a JPEG
//! with an Exif orientation and an ICC profile built here byte by byte, a PNG with iCCP and
//! eXIf); several files at once; the summary; exit codes 1 for a file that cannot be read and 2
//! for usage errors. Videos are made here with the `ffmpeg` CLI, stills with the `image` crate.
#![cfg(feature = "video")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ffmpeg, s, tessera};
use serde_json::Value;

/// ffprobe's own description of `path`.
fn ffprobe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(["-show_format", "-show_streams", "-show_chapters", s(path)])
        .output()
        .expect("run ffprobe");
    assert!(out.status.success(), "ffprobe {}", path.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

/// tessera's JSON document for `path`, checked to parse and to carry its schema number.
fn probe(path: &Path) -> Value {
    let (code, stdout, stderr) = tessera(&["probe", s(path), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("probe --json prints JSON");
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["file"], s(path));
    doc
}

/// A clip: testsrc2 (and a sine unless `audio` is false) for 2 s at 25 fps, `extra` before the
/// output name.
fn clip(dir: &Path, name: &str, audio: bool, extra: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=160x120:rate=25:duration=2",
    ];
    if audio {
        args.extend([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=2",
        ]);
    }
    args.extend(extra);
    args.push(s(&path));
    ffmpeg(&args);
    path
}

/// One of ffprobe's values as tessera writes it: numbers that ffprobe prints as strings parsed,
/// and "N/A", "0/0" or a missing key as absent.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(t) => t.parse().ok(),
        _ => None,
    }
}

fn ratio(v: &Value) -> Option<f64> {
    let (n, d) = v.as_str()?.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0.0 && d > 0.0).then_some(n / d)
}

/// Asserts that tessera's `ours` (a number or a string, or absent) is ffprobe's `theirs`.
/// ffprobe prints times with six decimals.
fn same(what: &str, ours: &Value, theirs: Option<Value>) {
    match (ours, &theirs) {
        (Value::Null, None) => {}
        (Value::Number(_), Some(t)) => {
            let (o, t) = (ours.as_f64().unwrap(), number(t));
            assert!(
                t.is_some_and(|t| (o - t).abs() <= 1e-6 * o.abs().max(1.0)),
                "{what}: tessera {ours}, ffprobe {theirs:?}"
            );
        }
        (Value::String(o), Some(Value::String(t))) => assert_eq!(o, t, "{what}"),
        _ => panic!("{what}: tessera {ours}, ffprobe {theirs:?}"),
    }
}

fn present(v: &Value) -> Option<Value> {
    (!v.is_null()).then(|| v.clone())
}

/// Every field of tessera's document against ffprobe's description of the same file.
fn assert_matches_ffprobe(ours: &Value, theirs: &Value) {
    let format = &theirs["format"];
    same(
        "container",
        &ours["container"],
        present(&format["format_name"]),
    );
    for (field, key) in [
        ("container_long_name", "format_long_name"),
        ("duration", "duration"),
        ("start_time", "start_time"),
        ("bit_rate", "bit_rate"),
        ("file_size", "size"),
    ] {
        same(field, &ours[field], present(&format[key]));
    }
    let no_tags = Value::Object(Default::default());
    let tags = |v: &Value| present(&v["tags"]).unwrap_or(no_tags.clone());
    assert_eq!(ours["tags"], tags(format), "tags");

    let chapters = theirs["chapters"].as_array().cloned().unwrap_or_default();
    assert_eq!(ours["chapters"].as_array().unwrap().len(), chapters.len());
    for (o, t) in ours["chapters"].as_array().unwrap().iter().zip(&chapters) {
        same("chapter id", &o["id"], present(&t["id"]));
        same("chapter start", &o["start"], present(&t["start_time"]));
        same("chapter end", &o["end"], present(&t["end_time"]));
        same("chapter title", &o["title"], present(&t["tags"]["title"]));
    }

    let streams = theirs["streams"].as_array().unwrap();
    assert_eq!(ours["streams"].as_array().unwrap().len(), streams.len());
    for (o, t) in ours["streams"].as_array().unwrap().iter().zip(streams) {
        let at = |field: &str| format!("stream {} {field}", t["index"]);
        same(&at("index"), &o["index"], present(&t["index"]));
        same(&at("kind"), &o["kind"], present(&t["codec_type"]));
        for (field, key) in [
            ("codec", "codec_name"),
            ("codec_long_name", "codec_long_name"),
            ("profile", "profile"),
            ("bit_rate", "bit_rate"),
            ("start_time", "start_time"),
            ("duration", "duration"),
            ("frames", "nb_frames"),
        ] {
            same(&at(field), &o[field], present(&t[key]));
        }
        same(
            &at("language"),
            &o["language"],
            present(&t["tags"]["language"]),
        );
        same(&at("title"), &o["title"], present(&t["tags"]["title"]));
        assert_eq!(o["tags"], tags(t), "{}", at("tags"));
        let set: Vec<Value> = t["disposition"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, v)| v.as_i64() == Some(1))
            .map(|(k, _)| Value::String(k.clone()))
            .collect();
        let mut ours_set = o["disposition"].as_array().unwrap().clone();
        ours_set.sort_by_key(|v| v.to_string());
        let mut set = set;
        set.sort_by_key(|v| v.to_string());
        assert_eq!(ours_set, set, "{}", at("disposition"));

        let kind = t["codec_type"].as_str().unwrap();
        assert_eq!(o["video"].is_object(), kind == "video", "{}", at("video"));
        assert_eq!(o["audio"].is_object(), kind == "audio", "{}", at("audio"));
        if kind == "video" {
            let v = &o["video"];
            for (field, key) in [
                ("width", "width"),
                ("height", "height"),
                ("pixel_format", "pix_fmt"),
                ("color_space", "color_space"),
                ("color_primaries", "color_primaries"),
                ("color_transfer", "color_transfer"),
                ("color_range", "color_range"),
                ("chroma_location", "chroma_location"),
                ("field_order", "field_order"),
            ] {
                same(&at(field), &v[field], present(&t[key]));
            }
            let sar = v["sample_aspect_ratio"]
                .as_array()
                .map(|r| Value::String(format!("{}:{}", r[0], r[1])));
            assert_eq!(sar, present(&t["sample_aspect_ratio"]), "{}", at("sar"));
            // Constant-rate clips: FFmpeg's guess is the stream's r_frame_rate.
            let rate = |v: &Value| ratio(v).map(Value::from);
            same(
                &at("frame_rate"),
                &v["frame_rate"],
                rate(&t["r_frame_rate"]),
            );
            same(
                &at("avg_frame_rate"),
                &v["avg_frame_rate"],
                rate(&t["avg_frame_rate"]),
            );
            let rotation = t["side_data_list"].as_array().and_then(|list| {
                list.iter()
                    .find(|d| d["side_data_type"] == "Display Matrix")
                    .map(|d| d["rotation"].clone())
            });
            same(&at("rotation"), &v["rotation"], rotation);
        }
        if kind == "audio" {
            let a = &o["audio"];
            for (field, key) in [
                ("sample_rate", "sample_rate"),
                ("channels", "channels"),
                ("channel_layout", "channel_layout"),
                ("sample_format", "sample_fmt"),
            ] {
                same(&at(field), &a[field], present(&t[key]));
            }
        }
    }
}

/// An ffmetadata file with a title and two chapters.
fn chapters_file(dir: &Path) -> PathBuf {
    let path = dir.join("meta.txt");
    std::fs::write(
        &path,
        ";FFMETADATA1\ntitle=From the metadata file\n\
         [CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=800\ntitle=Opening\n\
         [CHAPTER]\nTIMEBASE=1/1000\nSTART=800\nEND=2000\ntitle=The \"rest\"\n",
    )
    .unwrap();
    path
}

/// The clip of docs/probe.md: H.264 and AAC in MP4, a title, French audio, BT.709 tags and
/// two chapters.
fn tagged_clip(dir: &Path) -> PathBuf {
    let meta = chapters_file(dir);
    clip(
        dir,
        "tagged.mp4",
        true,
        &[
            "-i",
            s(&meta),
            "-map",
            "0",
            "-map",
            "1",
            "-map_metadata",
            "2",
            "-map_chapters",
            "2",
            "-metadata",
            "title=Probe \"test\" clip",
            "-metadata:s:a:0",
            "language=fra",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-colorspace",
            "bt709",
            "-color_range",
            "tv",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
    )
}

#[test]
fn a_tagged_clip_matches_ffprobe() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged_clip(dir.path());
    let doc = probe(&path);
    assert_matches_ffprobe(&doc, &ffprobe(&path));

    assert_eq!(doc["container"], "mov,mp4,m4a,3gp,3g2,mj2");
    assert_eq!(doc["tags"]["title"], "Probe \"test\" clip");
    assert!((doc["duration"].as_f64().unwrap() - 2.0).abs() < 0.05);
    assert!(doc["bit_rate"].as_u64().unwrap() > 0);
    let chapters = doc["chapters"].as_array().unwrap();
    assert_eq!(chapters.len(), 2);
    assert_eq!(chapters[1]["title"], "The \"rest\"");
    assert_eq!(chapters[1]["start"], 0.8);
    let video = &doc["streams"][0];
    assert_eq!(video["kind"], "video");
    assert_eq!(video["codec"], "h264");
    assert_eq!(video["frames"], 50);
    assert_eq!(video["disposition"][0], "default");
    let v = &video["video"];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(160), Some(120))
    );
    assert_eq!(v["pixel_format"], "yuv420p");
    assert_eq!(v["bit_depth"], 8);
    assert_eq!(v["frame_rate"], 25.0);
    for field in ["color_space", "color_primaries", "color_transfer"] {
        assert_eq!(v[field], "bt709", "{field}");
    }
    assert_eq!(v["color_range"], "tv");
    assert!(v.get("rotation").is_none());
    let audio = &doc["streams"][1];
    assert_eq!(audio["kind"], "audio");
    assert_eq!(audio["language"], "fra");
    assert_eq!(audio["audio"]["sample_rate"], 48000);
    assert_eq!(audio["audio"]["channels"], 1);
    assert_eq!(audio["audio"]["channel_layout"], "mono");
    // Unknown values are left out, never null.
    assert!(!serde_json::to_string(&doc).unwrap().contains("null"));
}

#[test]
fn the_summary_has_a_header_and_a_line_per_stream_and_chapter() {
    let dir = tempfile::tempdir().unwrap();
    let path = tagged_clip(dir.path());
    let (code, stdout, stderr) = tessera(&["probe", s(&path)]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with(&format!(
            "{}: mov,mp4,m4a,3gp,3g2,mj2 (QuickTime / MOV), 0:00:02.0",
            s(&path)
        )),
        "{stdout}"
    );
    assert!(lines[0].ends_with(" kb/s"), "{stdout}");
    assert_eq!(lines[1], "  title: Probe \"test\" clip");
    assert!(
        lines[2].starts_with("  #0 video: h264 (High), 160x120, yuv420p (tv, bt709), 25 fps, "),
        "{stdout}"
    );
    assert!(lines[2].ends_with(", 50 frames, default"), "{stdout}");
    assert!(
        lines[3].starts_with("  #1 audio: aac (LC), 48000 Hz, mono, fltp, "),
        "{stdout}"
    );
    assert!(lines[3].ends_with(", language fra, default"), "{stdout}");
    assert!(
        lines.contains(&"  chapter 0: 0:00:00.000 - 0:00:00.800 Opening"),
        "{stdout}"
    );
    assert!(
        lines.contains(&"  chapter 1: 0:00:00.800 - 0:00:02.000 The \"rest\""),
        "{stdout}"
    );
}

#[test]
fn a_ten_bit_clip_reports_its_depth() {
    let dir = tempfile::tempdir().unwrap();
    let path = clip(
        dir.path(),
        "deep.mkv",
        true,
        &["-c:v", "ffv1", "-pix_fmt", "yuv422p10le", "-c:a", "flac"],
    );
    let doc = probe(&path);
    assert_matches_ffprobe(&doc, &ffprobe(&path));
    assert_eq!(doc["container"], "matroska,webm");
    let v = &doc["streams"][0]["video"];
    assert_eq!(v["pixel_format"], "yuv422p10le");
    assert_eq!(v["bit_depth"], 10);
    assert_eq!(doc["streams"][1]["codec"], "flac");
}

#[test]
fn a_rotated_clip_reports_the_display_matrix_as_ffprobe_does() {
    let dir = tempfile::tempdir().unwrap();
    let plain = clip(dir.path(), "plain.mp4", false, &["-c:v", "libx264"]);
    // FFmpeg 5.1 turns a `rotate` tag into a display matrix when it copies the stream.
    let rotated = dir.path().join("rotated.mp4");
    ffmpeg(&[
        "-i",
        s(&plain),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        s(&rotated),
    ]);
    let theirs = ffprobe(&rotated);
    let doc = probe(&rotated);
    assert_matches_ffprobe(&doc, &theirs);
    let rotation = doc["streams"][0]["video"]["rotation"].as_f64().unwrap();
    assert_eq!(rotation.abs(), 90.0);
    let (_, summary, _) = tessera(&["probe", s(&rotated)]);
    assert!(
        summary.contains(&format!(", rotation {rotation}, ")),
        "{summary}"
    );
    assert!(probe(&plain)["streams"][0]["video"]
        .get("rotation")
        .is_none());
}

#[test]
fn an_audio_only_file_has_no_video() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.flac");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=44100:duration=1",
        "-ac",
        "2",
        "-metadata",
        "artist=Nobody",
        s(&path),
    ]);
    let doc = probe(&path);
    assert_matches_ffprobe(&doc, &ffprobe(&path));
    assert_eq!(doc["container"], "flac");
    assert_eq!(doc["tags"]["artist"], "Nobody");
    let streams = doc["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["kind"], "audio");
    assert!(streams[0].get("video").is_none());
    let a = &streams[0]["audio"];
    assert_eq!(a["sample_rate"], 44100);
    assert_eq!(a["channels"], 2);
    assert_eq!(a["channel_layout"], "stereo");
    assert_eq!(a["sample_format"], "s16");
}

#[test]
fn a_subtitle_stream_reports_language_title_and_disposition() {
    let dir = tempfile::tempdir().unwrap();
    let srt = dir.path().join("lines.srt");
    std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:01,000\nHello\n").unwrap();
    let path = clip(
        dir.path(),
        "subtitled.mkv",
        false,
        &[
            "-i",
            s(&srt),
            "-map",
            "0",
            "-map",
            "1",
            "-c:v",
            "ffv1",
            "-c:s",
            "srt",
            "-disposition:s:0",
            "forced",
            "-metadata:s:s:0",
            "title=Commentary",
            "-metadata:s:s:0",
            "language=deu",
            "-metadata",
            "creation_time=2024-01-02T03:04:05Z",
        ],
    );
    let doc = probe(&path);
    assert_matches_ffprobe(&doc, &ffprobe(&path));
    assert!(doc["tags"]["creation_time"]
        .as_str()
        .unwrap()
        .starts_with("2024-01-02T03:04:05"));
    let sub = &doc["streams"][1];
    assert_eq!(sub["kind"], "subtitle");
    assert_eq!(sub["codec"], "subrip");
    assert_eq!(sub["language"], "deu");
    assert_eq!(sub["title"], "Commentary");
    assert_eq!(sub["disposition"], serde_json::json!(["forced"]));
    let (_, summary, _) = tessera(&["probe", s(&path)]);
    assert!(
        summary.contains("  #1 subtitle: subrip, language deu, title \"Commentary\", forced\n"),
        "{summary}"
    );
}

#[test]
fn a_png_is_one_video_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("still.png");
    common::write_png8(&path, 48, 32, 7);
    let doc = probe(&path);
    assert_matches_ffprobe(&doc, &ffprobe(&path));
    let streams = doc["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0]["codec"], "png");
    let v = &streams[0]["video"];
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(48), Some(32))
    );
    assert_eq!(v["pixel_format"], "rgba");
    // The still as `process` reads it: no Exif, no ICC profile.
    let image = &doc["image"];
    assert_eq!(image["format"], "png");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(48), Some(32))
    );
    assert_eq!(
        (
            image["shown_width"].as_u64(),
            image["shown_height"].as_u64()
        ),
        (Some(48), Some(32))
    );
    assert_eq!(image["orientation"], 1);
    assert_eq!(image["color_type"], "rgba8");
    assert_eq!(
        (image["bit_depth"].as_u64(), image["channels"].as_u64()),
        (Some(8), Some(4))
    );
    assert_eq!(image["alpha"], true);
    assert!(image.get("icc_profile").is_none() && image.get("exif_size").is_none());
    assert!(image.get("camera").is_none() && image.get("xmp_size").is_none());
    let (code, summary, _) = tessera(&["probe", s(&path)]);
    assert_eq!(code, 0);
    assert!(
        summary.starts_with(&format!(
            "{}: PNG image, 48x32\n  colour: rgba8, 8 bits per channel\n  ICC profile: none\n  \
             Exif: none\n  XMP: none\n  coded as: png, rgba",
            s(&path)
        )),
        "{summary}"
    );
    assert_eq!(summary.lines().count(), 6, "{summary}");
}

/// A minimal ICC v2 display profile whose `desc` tag (textDescriptionType) names it `name`.
fn icc_v2(name: &str) -> Vec<u8> {
    let mut desc = b"desc\0\0\0\0".to_vec();
    desc.extend_from_slice(&(name.len() as u32 + 1).to_be_bytes());
    desc.extend_from_slice(name.as_bytes());
    desc.push(0);
    // No Unicode (language code, count 0), no ScriptCode (code, count 0, 67 bytes).
    desc.extend_from_slice(&[0; 8]);
    desc.extend_from_slice(&[0; 3 + 67]);
    icc_profile(0x0210_0000, "desc", &desc)
}

/// A minimal ICC v4 display profile whose `desc` tag (multiLocalizedUnicodeType) names it
/// `name` in US English and something else in German.
fn icc_v4(name: &str) -> Vec<u8> {
    let records: [(&[u8; 4], &str); 2] = [(b"deDE", "Anzeigeprofil"), (b"enUS", name)];
    let mut mluc = b"mluc\0\0\0\0".to_vec();
    mluc.extend_from_slice(&(records.len() as u32).to_be_bytes());
    mluc.extend_from_slice(&12u32.to_be_bytes());
    let mut strings = Vec::new();
    for (locale, text) in records {
        let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        mluc.extend_from_slice(locale);
        mluc.extend_from_slice(&(utf16.len() as u32).to_be_bytes());
        mluc.extend_from_slice(&((16 + 12 * records.len() + strings.len()) as u32).to_be_bytes());
        strings.extend(utf16);
    }
    mluc.extend(strings);
    icc_profile(0x0430_0000, "desc", &mluc)
}

/// A profile header (display class, RGB data, XYZ connection space) and one tag.
fn icc_profile(version: u32, tag: &str, data: &[u8]) -> Vec<u8> {
    let mut profile = vec![0u8; 128];
    profile[8..12].copy_from_slice(&version.to_be_bytes());
    profile[12..16].copy_from_slice(b"mntr");
    profile[16..20].copy_from_slice(b"RGB ");
    profile[20..24].copy_from_slice(b"XYZ ");
    profile[36..40].copy_from_slice(b"acsp");
    // The D50 illuminant, s15Fixed16.
    for (i, v) in [0x0000_F6D6u32, 0x0001_0000, 0x0000_D32D]
        .iter()
        .enumerate()
    {
        profile[68 + 4 * i..72 + 4 * i].copy_from_slice(&v.to_be_bytes());
    }
    profile.extend_from_slice(&1u32.to_be_bytes());
    profile.extend_from_slice(tag.as_bytes());
    profile.extend_from_slice(&(128 + 4 + 12u32).to_be_bytes());
    profile.extend_from_slice(&(data.len() as u32).to_be_bytes());
    profile.extend_from_slice(data);
    let size = profile.len() as u32;
    profile[0..4].copy_from_slice(&size.to_be_bytes());
    profile
}

/// A big-endian Exif (TIFF) block with one entry: Orientation (0x0112) = `orientation`.
fn exif_orientation(orientation: u16) -> Vec<u8> {
    let mut exif = b"MM\0\x2a\0\0\0\x08".to_vec();
    exif.extend_from_slice(&1u16.to_be_bytes());
    exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    exif
}

/// A `w`×`h` JPEG as a camera writes one: the `image` crate's encoding with an APP1 Exif
/// segment and an APP2 ICC_PROFILE segment inserted after its SOI marker.
fn photo_jpeg(path: &Path, (w, h): (u32, u32), exif: &[u8], icc: &[u8]) {
    let frame = common::test_image8(w, h, 3);
    let tessera::Samples::U8(rgba) = frame.interleaved() else {
        unreachable!()
    };
    let rgb: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let mut encoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut encoded, 90)
        .encode(&rgb, w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(&encoded[..2], [0xFF, 0xD8]);
    let segment = |marker: u8, payload: &[u8]| {
        let mut bytes = vec![0xFF, marker];
        bytes.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        bytes.extend_from_slice(payload);
        bytes
    };
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(exif);
    // One chunk of one: sequence number 1, count 1.
    let mut app2 = b"ICC_PROFILE\0\x01\x01".to_vec();
    app2.extend_from_slice(icc);
    let mut bytes = encoded[..2].to_vec();
    bytes.extend(segment(0xE1, &app1));
    bytes.extend(segment(0xE2, &app2));
    bytes.extend_from_slice(&encoded[2..]);
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_jpeg_is_described_as_the_still_process_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    let (exif, icc) = (exif_orientation(6), icc_v2("tessera test RGB"));
    photo_jpeg(&path, (24, 16), &exif, &icc);
    let doc = probe(&path);
    // FFmpeg's view stays as it was.
    assert_matches_ffprobe(&doc, &ffprobe(&path));
    assert_eq!(doc["streams"][0]["codec"], "mjpeg");
    let image = &doc["image"];
    assert_eq!(image["format"], "jpeg");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(24), Some(16))
    );
    // Orientation 6 turns it a quarter: `process` reads (and writes) it 16 wide, 24 high.
    assert_eq!(image["orientation"], 6);
    assert_eq!(
        (
            image["shown_width"].as_u64(),
            image["shown_height"].as_u64()
        ),
        (Some(16), Some(24))
    );
    assert_eq!(image["color_type"], "rgb8");
    assert_eq!(
        (image["bit_depth"].as_u64(), image["channels"].as_u64()),
        (Some(8), Some(3))
    );
    assert_eq!(image["alpha"], false);
    let profile = &image["icc_profile"];
    assert_eq!(profile["description"], "tessera test RGB");
    assert_eq!(profile["version"], "2.1.0");
    assert_eq!(profile["device_class"], "mntr");
    assert_eq!(profile["color_space"], "RGB");
    assert_eq!(profile["size"].as_u64(), Some(icc.len() as u64));
    assert_eq!(image["exif_size"].as_u64(), Some(exif.len() as u64));

    let (code, summary, stderr) = tessera(&["probe", s(&path)]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[..4],
        [
            format!(
                "{}: JPEG image, 24x16, shown 16x24 after Exif orientation 6 (rotate 90° CW)",
                s(&path)
            )
            .as_str(),
            "  colour: rgb8, 8 bits per channel",
            &format!(
                "  ICC profile: tessera test RGB (v2.1.0, RGB, {} bytes)",
                icc.len()
            ),
            &format!("  Exif: {} bytes", exif.len()),
        ],
        "{summary}"
    );
    // An Exif block of the orientation alone names no camera.
    assert_eq!(lines[4], "  XMP: none", "{summary}");
    assert!(
        lines[5].starts_with("  coded as: mjpeg (Baseline), yuvj4"),
        "{summary}"
    );
    // Nothing of an image demuxer's pretend video: no frame rate, no duration.
    assert!(
        !summary.contains("fps") && !summary.contains("0:00:00"),
        "{summary}"
    );

    // The size `probe` shows is the size `process` writes. The test's profile only names
    // itself (no colour tags), so `process` could not convert from it: it is kept as it is.
    let out = dir.path().join("out.png");
    let args = [
        "process",
        s(&path),
        "-o",
        s(&out),
        "--backend",
        "cpu",
        "--keep-profile",
    ];
    let (code, _, stderr) = tessera(&args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(image::image_dimensions(&out).unwrap(), (16, 24));
}

#[test]
fn a_png_with_iccp_and_exif_names_its_v4_profile() {
    use image::ImageEncoder;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("turned.png");
    let icc = icc_v4("Display P3 (tessera)");
    let mut encoder = image::codecs::png::PngEncoder::new(std::fs::File::create(&path).unwrap());
    encoder.set_icc_profile(icc.clone()).unwrap();
    encoder.set_exif_metadata(exif_orientation(3)).unwrap();
    let grey: Vec<u16> = (0..10 * 6).map(|i| i * 1000).collect();
    encoder
        .write_image(
            bytemuck::cast_slice(&grey),
            10,
            6,
            image::ExtendedColorType::L16,
        )
        .unwrap();
    let image = &probe(&path)["image"];
    assert_eq!(image["color_type"], "l16");
    assert_eq!(
        (image["bit_depth"].as_u64(), image["channels"].as_u64()),
        (Some(16), Some(1))
    );
    // A half turn keeps the size.
    assert_eq!(image["orientation"], 3);
    assert_eq!(
        (
            image["shown_width"].as_u64(),
            image["shown_height"].as_u64()
        ),
        (Some(10), Some(6))
    );
    assert_eq!(image["icc_profile"]["description"], "Display P3 (tessera)");
    assert_eq!(image["icc_profile"]["version"], "4.3.0");
    let (code, summary, _) = tessera(&["probe", s(&path)]);
    assert_eq!(code, 0);
    assert!(
        summary.starts_with(&format!(
            "{}: PNG image, 10x6, shown after Exif orientation 3 (rotate 180°)\n  colour: l16, 16 \
             bits per channel\n  ICC profile: Display P3 (tessera) (v4.3.0, RGB, {} bytes)\n",
            s(&path),
            icc.len()
        )),
        "{summary}"
    );
}

#[test]
fn several_files_are_described_in_order_and_a_bad_one_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("a.png");
    common::write_png8(&png, 8, 6, 1);
    let video = clip(dir.path(), "b.mkv", false, &["-c:v", "ffv1"]);
    let missing = dir.path().join("missing.mp4");

    let (code, stdout, stderr) = tessera(&["probe", s(&png), s(&video)]);
    assert_eq!(code, 0, "{stderr}");
    let blocks: Vec<&str> = stdout.split("\n\n").collect();
    assert_eq!(blocks.len(), 2, "{stdout}");
    assert!(
        blocks[0].starts_with(&format!("{}: PNG image, 8x6\n", s(&png))),
        "{stdout}"
    );
    assert!(
        blocks[1].starts_with(&format!("{}: matroska,webm", s(&video))),
        "{stdout}"
    );

    // A file that cannot be read is reported and fails the run; the others are described.
    let (code, stdout, stderr) = tessera(&["probe", s(&png), s(&missing), s(&video)]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!("error: {}: no such file", s(&missing))),
        "{stderr}"
    );
    assert_eq!(stdout.split("\n\n").count(), 2, "{stdout}");
    assert!(!stdout.contains("missing.mp4"), "{stdout}");

    // JSON: an array in the order given, the unreadable file an error in its place.
    let (code, stdout, _) = tessera(&["probe", "--json", s(&png), s(&missing), s(&video)]);
    assert_eq!(code, 1);
    let docs: Value = serde_json::from_str(&stdout).expect("an array of documents");
    let docs = docs.as_array().unwrap();
    assert_eq!(docs.len(), 3);
    for (doc, path) in docs.iter().zip([&png, &missing, &video]) {
        assert_eq!(doc["schema"], 1);
        assert_eq!(doc["file"], s(path));
    }
    assert_eq!(docs[0]["image"]["format"], "png");
    assert_eq!(docs[1]["error"], format!("{}: no such file", s(&missing)));
    assert!(docs[1].get("streams").is_none());
    assert_eq!(docs[2]["container"], "matroska,webm");
    assert!(docs[2].get("image").is_none());
    assert_eq!(docs[2], probe(&video));
}

#[test]
fn unreadable_files_exit_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.mp4");
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "these are notes, not a video\n".repeat(20)).unwrap();
    for (path, reason) in [
        (&missing, "no such file"),
        (&text, "not a media file FFmpeg can read"),
    ] {
        for json in [false, true] {
            let mut args = vec!["probe", s(path)];
            if json {
                args.push("--json");
            }
            let (code, stdout, stderr) = tessera(&args);
            assert_eq!(code, 1, "{args:?}: {stderr}");
            assert!(stdout.is_empty(), "{stdout}");
            assert!(
                stderr.contains(&format!("error: {}: {reason}", s(path))),
                "{stderr}"
            );
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["probe"][..],
        &["probe", "a.mp4", "--jsn"],
        &["probe", "--json"],
    ] {
        let (code, _, stderr) = tessera(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
    }
    let (code, stdout, _) = tessera(&["probe", "--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("--json"), "{stdout}");
}
