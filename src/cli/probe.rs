//! `tessera probe FILE… [--json]`: a short summary of each media file, or its stable JSON
//! document (an array of them for several files). The description is the library's
//! (`media::probe`); this file only prints it.

#[cfg(feature = "video")]
use std::io::Write;
use std::path::PathBuf;

/// Prints the description of each file, in order (a file that cannot be read is reported on
/// stderr and the others are still described); the exit code: 0, or 1 when any file cannot be
/// read.
pub fn run(files: &[PathBuf], json: bool) -> i32 {
    #[cfg(feature = "video")]
    {
        // A closed pipe (`tessera probe clip.mp4 | head -1`) is not an error.
        let mut stdout = std::io::stdout().lock();
        if !json {
            // Each file's block as soon as it is read, a blank line between blocks.
            let (mut failed, mut first) = (false, true);
            for file in files {
                match tessera::media::probe(file) {
                    Ok(info) => {
                        let gap = if first { "" } else { "\n" };
                        let _ = stdout.write_all((gap.to_string() + &summary(&info)).as_bytes());
                        first = false;
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                }
            }
            return i32::from(failed);
        }
        let results: Vec<_> = files.iter().map(|f| tessera::media::probe(f)).collect();
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            eprintln!("error: {e}");
        }
        let text = match results.as_slice() {
            [Ok(info)] => info.to_json() + "\n",
            [Err(_)] => String::new(),
            _ => json_array(files, &results) + "\n",
        };
        let _ = stdout.write_all(text.as_bytes());
        i32::from(results.iter().any(|r| r.is_err()))
    }
    #[cfg(not(feature = "video"))]
    {
        let _ = json;
        for file in files {
            eprintln!(
                "error: {}: probe needs FFmpeg, and this tessera was built without the `video` \
                 feature",
                file.display()
            );
        }
        1
    }
}

/// Several files' documents as one JSON array, in the order given; a file that cannot be read
/// is `{"schema", "file", "error"}` in its place.
#[cfg(feature = "video")]
fn json_array(
    files: &[PathBuf],
    results: &[Result<tessera::media::MediaInfo, tessera::media::MediaError>],
) -> String {
    #[derive(serde::Serialize)]
    #[serde(untagged)]
    enum Entry<'a> {
        Described(tessera::media::probe::Document<'a>),
        Failed {
            schema: u32,
            file: String,
            error: String,
        },
    }
    let entries: Vec<Entry> = files
        .iter()
        .zip(results)
        .map(|(file, result)| match result {
            Ok(info) => Entry::Described(info.document()),
            Err(e) => Entry::Failed {
                schema: tessera::media::probe::JSON_SCHEMA,
                file: file.display().to_string(),
                error: e.to_string(),
            },
        })
        .collect();
    serde_json::to_string_pretty(&entries).expect("plain structs serialise")
}

/// A header line (container, duration, bit rate), the title where there is one, a line per
/// stream and a line per chapter:
///
/// ```text
/// clip.mp4: mov,mp4,m4a,3gp,3g2,mj2 (QuickTime / MOV), 0:00:02.000, 355 kb/s
///   #0 video: h264 (High), 320x240, yuv420p (tv, bt709), 25 fps, 270 kb/s, 50 frames, default
///   #1 audio: aac (LC), 48000 Hz, mono, fltp, 70 kb/s, language fra, default
/// ```
#[cfg(feature = "video")]
fn summary(info: &tessera::media::MediaInfo) -> String {
    if let Some(still) = &info.image {
        return still_summary(info, still);
    }
    let mut header = vec![match &info.container_long_name {
        Some(long) => format!("{} ({long})", info.container),
        None => info.container.clone(),
    }];
    header.extend(info.duration.map(clock));
    header.extend(info.bit_rate.map(bit_rate));
    let mut text = format!("{}: {}\n", info.file, header.join(", "));
    if let Some(title) = info.tags.get("title") {
        text += &format!("  title: {title}\n");
    }
    for stream in &info.streams {
        text += &format!("  {}\n", stream_line(stream));
    }
    for chapter in &info.chapters {
        text += &format!(
            "  chapter {}: {} - {}{}\n",
            chapter.id,
            clock(chapter.start),
            clock(chapter.end),
            chapter
                .title
                .as_ref()
                .map(|t| format!(" {t}"))
                .unwrap_or_default()
        );
    }
    text
}

/// A still picture as `process` reads it, then FFmpeg's name for how it is coded:
///
/// ```text
/// photo.jpg: JPEG image, 6000x4000, shown 4000x6000 after Exif orientation 6 (rotate 90° CW)
///   colour: rgb8, 8 bits per channel
///   ICC profile: sRGB IEC61966-2.1 (v2.1.0, RGB, 3144 bytes)
///   Exif: 1204 bytes
///   camera: Canon EOS R5, lens RF24-70mm F2.8 L IS USM
///   shot: 2024:06:01 14:03:22, 1/250 s, f/2.8, ISO 400, 50 mm
///   XMP: 3120 bytes
///   coded as: mjpeg (Baseline), yuvj420p (pc, bt470bg)
/// ```
#[cfg(feature = "video")]
fn still_summary(
    info: &tessera::media::MediaInfo,
    still: &tessera::media::image::StillInfo,
) -> String {
    let mut size = format!("{}x{}", still.width, still.height);
    if still.orientation != 1 {
        let how = tessera::media::image::orientation_name(still.orientation);
        if (still.shown_width, still.shown_height) != (still.width, still.height) {
            size += &format!(", shown {}x{}", still.shown_width, still.shown_height);
        } else {
            size += ", shown";
        }
        size += &format!(" after Exif orientation {} ({how})", still.orientation);
    }
    let mut text = format!(
        "{}: {} image, {size}\n",
        info.file,
        still.format.to_uppercase()
    );
    text += &format!(
        "  colour: {}, {} bit{} per channel\n",
        still.color_type,
        still.bit_depth,
        if still.bit_depth == 1 { "" } else { "s" }
    );
    text += &match &still.icc_profile {
        Some(icc) => {
            let mut facts: Vec<String> = icc.version.iter().map(|v| format!("v{v}")).collect();
            facts.extend(icc.color_space.clone());
            facts.push(format!("{} bytes", icc.size));
            format!(
                "  ICC profile: {} ({})\n",
                icc.description.as_deref().unwrap_or("unnamed"),
                facts.join(", ")
            )
        }
        None => "  ICC profile: none\n".into(),
    };
    text += &match still.exif_size {
        Some(bytes) => format!("  Exif: {bytes} bytes\n"),
        None => "  Exif: none\n".into(),
    };
    if let Some(camera) = &still.camera {
        text += &camera_lines(camera);
    }
    text += &match still.xmp_size {
        Some(bytes) => format!("  XMP: {bytes} bytes\n"),
        None => "  XMP: none\n".into(),
    };
    if let Some(stream) = info.streams.first() {
        let mut coded = stream.codec.clone();
        if let Some(profile) = &stream.profile {
            coded += &format!(" ({profile})");
        }
        if let Some(pixel_format) = stream.video.as_ref().and_then(|v| {
            let pf = v.pixel_format.as_ref()?;
            Some(pf.clone() + &colour(v))
        }) {
            coded += &format!(", {pixel_format}");
        }
        text += &format!("  coded as: {coded}\n");
    }
    text
}

/// The Exif's camera (make, model, lens) and shot (date, exposure, f-number, ISO, focal length)
/// lines, each left out where the block says none of its facts.
#[cfg(feature = "video")]
fn camera_lines(camera: &tessera::media::metadata::ExifSummary) -> String {
    let mut text = String::new();
    let mut body: Vec<String> = Vec::new();
    match (&camera.make, &camera.model) {
        // Most cameras repeat the make in the model: `Canon` `Canon EOS R5`.
        (Some(make), Some(model)) if model.starts_with(make.as_str()) => body.push(model.clone()),
        (Some(make), Some(model)) => body.push(format!("{make} {model}")),
        (make, model) => body.extend(make.iter().chain(model).cloned()),
    }
    body.extend(camera.lens.as_ref().map(|l| format!("lens {l}")));
    if !body.is_empty() {
        text += &format!("  camera: {}\n", body.join(", "));
    }
    let mut shot: Vec<String> = camera.date.iter().cloned().collect();
    shot.extend(camera.exposure.clone());
    shot.extend(camera.f_number.map(|f| format!("f/{}", number(f))));
    shot.extend(camera.iso.map(|iso| format!("ISO {iso}")));
    shot.extend(camera.focal_length.map(|mm| format!("{} mm", number(mm))));
    if !shot.is_empty() {
        text += &format!("  shot: {}\n", shot.join(", "));
    }
    text
}

#[cfg(feature = "video")]
fn stream_line(stream: &tessera::media::probe::MediaStream) -> String {
    let mut codec = stream.codec.clone();
    if let Some(profile) = &stream.profile {
        codec += &format!(" ({profile})");
    }
    let mut parts = vec![codec];
    if let Some(v) = &stream.video {
        if let (Some(w), Some(h)) = (v.width, v.height) {
            parts.push(format!("{w}x{h}"));
        }
        if let Some([n, d]) = v.sample_aspect_ratio.filter(|[n, d]| n != d) {
            parts.push(format!("SAR {n}:{d}"));
        }
        if let Some(pixel_format) = &v.pixel_format {
            parts.push(pixel_format.clone() + &colour(v));
        }
        parts.extend(v.frame_rate.map(|r| format!("{} fps", number(r))));
        if let Some(order) = v.field_order.as_ref().filter(|o| *o != "progressive") {
            parts.push(format!("interlaced {order}"));
        }
        parts.extend(v.rotation.map(|r| format!("rotation {}", number(r))));
    }
    if let Some(a) = &stream.audio {
        parts.extend(a.sample_rate.map(|r| format!("{r} Hz")));
        match (&a.channel_layout, a.channels) {
            (Some(layout), _) => parts.push(layout.clone()),
            (None, Some(1)) => parts.push("1 channel".into()),
            (None, Some(n)) => parts.push(format!("{n} channels")),
            (None, None) => {}
        }
        parts.extend(a.sample_format.clone());
    }
    parts.extend(stream.bit_rate.map(bit_rate));
    if stream.video.is_some() {
        parts.extend(stream.frames.map(|n| format!("{n} frames")));
    }
    if let Some(name) = stream.tags.get("filename") {
        parts.push(format!("file {name}"));
    }
    // `und` is the tag for "undetermined", which a muxer writes where nobody said.
    let language = stream.language.as_ref().filter(|l| *l != "und");
    parts.extend(language.map(|l| format!("language {l}")));
    parts.extend(stream.title.as_ref().map(|t| format!("title \"{t}\"")));
    parts.extend(stream.disposition.iter().cloned());
    format!(
        "#{} {}: {}",
        stream.index,
        stream.kind.name(),
        parts.join(", ")
    )
}

/// ` (range, matrix)` where matrix, primaries and transfer agree, else
/// ` (range, matrix/primaries/transfer)`; empty when nothing is tagged.
#[cfg(feature = "video")]
fn colour(v: &tessera::media::probe::VideoParams) -> String {
    let mut tags: Vec<String> = v.color_range.iter().cloned().collect();
    let triple = [&v.color_space, &v.color_primaries, &v.color_transfer];
    if triple.iter().all(|t| t.is_some() && *t == triple[0]) {
        tags.extend(v.color_space.clone());
    } else if triple.iter().any(|t| t.is_some()) {
        let names: Vec<&str> = triple
            .iter()
            .map(|t| t.as_deref().unwrap_or("unknown"))
            .collect();
        tags.push(names.join("/"));
    }
    if tags.is_empty() {
        String::new()
    } else {
        format!(" ({})", tags.join(", "))
    }
}

/// `H:MM:SS.mmm`.
#[cfg(feature = "video")]
fn clock(seconds: f64) -> String {
    let ms = (seconds.abs() * 1000.0).round() as u64;
    let sign = if seconds < 0.0 && ms > 0 { "-" } else { "" };
    format!(
        "{sign}{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// `355 kb/s`, or `156 b/s` below a kilobit.
#[cfg(feature = "video")]
fn bit_rate(bits: u64) -> String {
    if bits < 1000 {
        format!("{bits} b/s")
    } else {
        format!("{} kb/s", (bits + 500) / 1000)
    }
}

/// At most three decimals, without trailing zeros: `25`, `29.97`, `23.976`.
#[cfg(feature = "video")]
fn number(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

#[cfg(all(test, feature = "video"))]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(clock(2.0), "0:00:02.000");
        assert_eq!(clock(3723.5), "1:02:03.500");
        assert_eq!(bit_rate(355_208), "355 kb/s");
        assert_eq!(bit_rate(156), "156 b/s");
        assert_eq!(number(25.0), "25");
        assert_eq!(number(30000.0 / 1001.0), "29.97");
        assert_eq!(number(24000.0 / 1001.0), "23.976");
        assert_eq!(number(-90.0), "-90");
    }
}
