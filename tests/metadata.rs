//! A photo's metadata through `tessera process`: Exif, XMP and ICC kept from a JPEG into JPEG,
//! PNG, WebP, TIFF and AVIF, and from an AVIF back; `--strip` and `--strip LIST`; the Exif orientations 1 to 8 turned upright
//! (and left alone with `--no-auto-orient`); the Exif pixel size after a resize; a damaged Exif
//! block; `probe`'s camera facts. Sources are drawn here, their Exif written by kamadak-exif's
//! writer, the blocks put in with tessera's own `embed`; outputs are read back with the `image`
//! crate's decoders and kamadak-exif (AVIF's boxes with libavif's parser), not with tessera's
//! reader.

mod common;

use std::path::{Path, PathBuf};

use common::{s, tessera};
use exif::{Field, In, Rational, Tag, Value};
use image::{ImageDecoder, ImageFormat};
use tessera::media::metadata::{self, Metadata};

/// The size of the source photos.
const W: u32 = 40;
const H: u32 = 30;

/// How the Exif block stores its pixel size.
#[derive(Clone, Copy)]
enum Size {
    Short,
    Long,
}

/// An Exif block as a camera writes one: make, model, date, orientation in IFD0; the shot's
/// facts, a lens, a pixel size and a MakerNote in the Exif IFD; a GPS IFD.
fn camera_exif(orientation: u16, size: Size, little_endian: bool) -> Vec<u8> {
    let ascii = |tag, text: &str| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Ascii(vec![text.as_bytes().to_vec()]),
    };
    let dimension = |tag, v: u32| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: match size {
            Size::Short => Value::Short(vec![v as u16]),
            Size::Long => Value::Long(vec![v]),
        },
    };
    let rational = |tag, num, denom| Field {
        tag,
        ifd_num: In::PRIMARY,
        value: Value::Rational(vec![Rational { num, denom }]),
    };
    let fields = [
        ascii(Tag::Make, "TesseraCam"),
        ascii(Tag::Model, "TesseraCam X100"),
        ascii(Tag::DateTime, "2024:06:02 09:00:00"),
        Field {
            tag: Tag::Orientation,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![orientation]),
        },
        ascii(Tag::DateTimeOriginal, "2024:06:01 14:03:22"),
        rational(Tag::ExposureTime, 1, 250),
        rational(Tag::FNumber, 28, 10),
        rational(Tag::FocalLength, 50, 1),
        Field {
            tag: Tag::PhotographicSensitivity,
            ifd_num: In::PRIMARY,
            value: Value::Short(vec![400]),
        },
        ascii(Tag::LensModel, "Test 50mm F2.8"),
        dimension(Tag::PixelXDimension, W),
        dimension(Tag::PixelYDimension, H),
        Field {
            tag: Tag::MakerNote,
            ifd_num: In::PRIMARY,
            value: Value::Undefined((0..48u8).map(|i| i * 5 + 1).collect(), 0),
        },
        ascii(Tag::GPSLatitudeRef, "N"),
    ];
    let mut writer = exif::experimental::Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, little_endian).unwrap();
    out.into_inner()
}

/// An XMP packet with a rating and `tiff:Orientation`.
fn xmp_packet(orientation: u16) -> Vec<u8> {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
         xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" \
         xmp:Rating=\"4\" tiff:Orientation=\"{orientation}\"/></rdf:RDF></x:xmpmeta>\
         <?xpacket end=\"w\"?>"
    )
    .into_bytes()
}

/// A real ICC profile, sRGB as tessera embeds it: the colour management reads every profile, and
/// an sRGB one leaves the pixels and the block as they are, so that a byte moved or lost shows.
fn icc_block() -> Vec<u8> {
    tessera::media::cms::srgb_icc().to_vec()
}

/// The source picture: a gradient with a mark in one corner, so that every turn differs.
fn picture(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        if x < 3 && y < 2 {
            image::Rgb([255, 0, 0])
        } else {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, ((x + y) * 3) as u8])
        }
    })
}

/// `picture` encoded as `format` with `meta`'s blocks added by tessera's `embed`.
fn photo(path: &Path, format: ImageFormat, meta: &Metadata) {
    let mut encoded = std::io::Cursor::new(Vec::new());
    picture(W, H).write_to(&mut encoded, format).unwrap();
    let (bytes, warnings) = metadata::embed(encoded.into_inner(), format, meta).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    std::fs::write(path, bytes).unwrap();
}

fn camera_meta(orientation: u16) -> Metadata {
    Metadata {
        icc: Some(icc_block()),
        exif: Some(camera_exif(orientation, Size::Short, false)),
        xmp: Some(xmp_packet(orientation)),
    }
}

/// The blocks an output carries, read by the `image` crate's decoders; the Exif of a TIFF (whose
/// decoder gives none) read by kamadak-exif from the file.
struct Blocks {
    icc: Option<Vec<u8>>,
    xmp: Option<Vec<u8>>,
    exif: Option<exif::Exif>,
}

fn blocks(path: &Path) -> Blocks {
    #[cfg(feature = "avif")]
    if path.extension().unwrap() == "avif" {
        let header = tessera::media::avif::header(&std::fs::read(path).unwrap()).unwrap();
        let m = header.metadata;
        let exif = m.exif.map(|raw| exif::Reader::new().read_raw(raw).unwrap());
        return Blocks {
            icc: m.icc,
            xmp: m.xmp,
            exif,
        };
    }
    if path.extension().unwrap() == "tif" {
        // The `image` crate's TIFF decoder gives no Exif, and no ICC profile from a file it did
        // not write itself: kamadak-exif reads the TIFF's tags.
        let mut file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let exif = exif::Reader::new().read_from_container(&mut file).unwrap();
        let tag = |number| match exif
            .get_field(Tag(exif::Context::Tiff, number), In::PRIMARY)
            .map(|f| &f.value)
        {
            Some(Value::Undefined(b, _) | Value::Byte(b)) => Some(b.clone()),
            _ => None,
        };
        let (icc, xmp) = (tag(34675), tag(700));
        // A TIFF's IFD0 always has the image's tags: Exif is there when the camera's are.
        let exif = exif
            .get_field(Tag::Make, In::PRIMARY)
            .is_some()
            .then_some(exif);
        return Blocks { icc, xmp, exif };
    }
    let mut decoder = image::ImageReader::open(path)
        .unwrap()
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap();
    let icc = decoder.icc_profile().unwrap();
    let xmp = decoder.xmp_metadata().unwrap();
    let exif = decoder
        .exif_metadata()
        .unwrap()
        .map(|raw| exif::Reader::new().read_raw(raw).unwrap());
    Blocks { icc, xmp, exif }
}

/// A field's value as kamadak-exif shows it.
fn field(exif: &exif::Exif, tag: Tag) -> Option<String> {
    exif.get_field(tag, In::PRIMARY)
        .map(|f| f.display_value().with_unit(exif).to_string())
}

fn uint(exif: &exif::Exif, tag: Tag) -> Option<u32> {
    exif.get_field(tag, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
}

/// Runs `tessera process` on the CPU; returns its stderr, failing on a non-zero exit.
fn process(input: &Path, output: &Path, extra: &[&str]) -> String {
    let mut args = vec!["process", s(input), "-o", s(output), "--backend", "cpu"];
    args.extend_from_slice(extra);
    let (code, _, stderr) = tessera(&args);
    assert_eq!(code, 0, "{stderr}");
    stderr
}

/// The still formats tessera writes with metadata: AVIF too where the build has it.
fn formats() -> Vec<&'static str> {
    let mut formats = vec!["jpg", "png", "webp", "tif"];
    if cfg!(feature = "avif") {
        formats.push("avif");
    }
    formats
}

/// The camera's facts every output must keep.
const KEPT: [Tag; 9] = [
    Tag::Make,
    Tag::Model,
    Tag::DateTime,
    Tag::DateTimeOriginal,
    Tag::ExposureTime,
    Tag::FNumber,
    Tag::FocalLength,
    Tag::PhotographicSensitivity,
    Tag::LensModel,
];

/// A camera JPEG with every block in `dir`: its path, its blocks, and its Exif as read.
fn camera_jpeg(dir: &Path) -> (PathBuf, Metadata, exif::Exif) {
    let source = dir.join("camera.jpg");
    let meta = camera_meta(1);
    photo(&source, ImageFormat::Jpeg, &meta);
    let original = exif::Reader::new()
        .read_raw(meta.exif.clone().unwrap())
        .unwrap();
    (source, meta, original)
}

/// `out`'s blocks: the ICC and XMP of `meta`, and the Exif's kept tags as `original` has them;
/// returns its Exif.
fn same_blocks(out: &Path, meta: &Metadata, original: &exif::Exif, what: &str) -> exif::Exif {
    let got = blocks(out);
    assert_eq!(got.icc, meta.icc, "{what}: ICC");
    assert_eq!(got.xmp, meta.xmp, "{what}: XMP");
    let exif = got.exif.unwrap_or_else(|| panic!("{what}: no Exif"));
    for tag in KEPT {
        assert_eq!(field(&exif, tag), field(original, tag), "{what}: {tag}");
    }
    exif
}

#[test]
fn exif_xmp_and_icc_go_from_a_jpeg_into_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (source, meta, original) = camera_jpeg(dir.path());
    for ext in formats() {
        let out = dir.path().join(format!("out.{ext}"));
        process(&source, &out, &[]);
        let exif = same_blocks(&out, &meta, &original, ext);
        assert_eq!(
            field(&exif, Tag::Orientation),
            field(&original, Tag::Orientation)
        );
        assert_eq!(
            field(&exif, Tag::GPSLatitudeRef).as_deref(),
            Some("N"),
            "{ext}"
        );
        let maker = |e: &exif::Exif| {
            e.get_field(Tag::MakerNote, In::PRIMARY)
                .map(|f| f.value.clone())
        };
        assert_eq!(
            format!(
                "{:?}",
                maker(&exif).map(|v| match v {
                    Value::Undefined(b, _) => b,
                    _ => Vec::new(),
                })
            ),
            format!(
                "{:?}",
                maker(&original).map(|v| match v {
                    Value::Undefined(b, _) => b,
                    _ => Vec::new(),
                })
            ),
            "{ext}: MakerNote"
        );
        // The picture is still a picture of the right size.
        if ext != "avif" {
            assert_eq!(image::image_dimensions(&out).unwrap(), (W, H), "{ext}");
        }
    }
}

#[test]
fn blocks_go_into_tiled_pyramid_and_jpeg_tiffs() {
    let dir = tempfile::tempdir().unwrap();
    let (source, meta, original) = camera_jpeg(dir.path());
    for (name, flags) in [
        (
            "tiled",
            &["--tiff-tile=32", "--tiff-compression", "deflate"][..],
        ),
        ("jpeg", &["--tiff-compression", "jpeg"]),
        (
            "jpeg-tiled",
            &["--tiff-compression", "jpeg", "--tiff-tile=16"],
        ),
        ("pyramid", &["--tiff-pyramid", "--tiff-tile=16"]),
    ] {
        let out = dir.path().join(format!("{name}.tif"));
        process(&source, &out, flags);
        same_blocks(&out, &meta, &original, name);
        // The picture is whole, and a pyramid keeps its reduced levels after IFD0's rebuild.
        let frame = tessera::media::image::read(&out).unwrap();
        assert_eq!((frame.width(), frame.height()), (W, H), "{name}");
        let file = std::io::BufReader::new(std::fs::File::open(&out).unwrap());
        let mut decoder = tiff::decoder::Decoder::new(file).unwrap();
        let mut ifds = 1;
        while decoder.more_images() {
            decoder.next_image().unwrap();
            decoder.read_image().unwrap();
            ifds += 1;
        }
        assert_eq!(ifds > 1, name == "pyramid", "{name}: {ifds} IFDs");
    }
}

#[test]
fn blocks_go_from_png_webp_and_tiff_sources_too() {
    let dir = tempfile::tempdir().unwrap();
    let meta = Metadata {
        exif: Some(camera_exif(1, Size::Long, true)),
        ..camera_meta(1)
    };
    for (ext, format) in [
        ("png", ImageFormat::Png),
        ("webp", ImageFormat::WebP),
        ("tif", ImageFormat::Tiff),
    ] {
        let source = dir.path().join(format!("source.{ext}"));
        photo(&source, format, &meta);
        let out = dir.path().join(format!("from-{ext}.jpg"));
        process(&source, &out, &[]);
        let got = blocks(&out);
        assert_eq!(got.icc, meta.icc, "{ext}: ICC");
        assert_eq!(got.xmp, meta.xmp, "{ext}: XMP");
        let exif = got.exif.unwrap_or_else(|| panic!("{ext}: no Exif"));
        assert_eq!(
            field(&exif, Tag::Model).as_deref(),
            Some("\"TesseraCam X100\"")
        );
        assert_eq!(
            uint(&exif, Tag::PhotographicSensitivity),
            Some(400),
            "{ext}"
        );
    }
}

/// An AVIF tessera wrote from a camera JPEG gives its blocks to the next output, as it got them.
#[cfg(feature = "avif")]
#[test]
fn blocks_go_from_an_avif_source_too() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("camera.jpg");
    let meta = camera_meta(1);
    photo(&source, ImageFormat::Jpeg, &meta);
    let avif = dir.path().join("camera.avif");
    process(&source, &avif, &[]);
    for ext in ["jpg", "png"] {
        let out = dir.path().join(format!("from-avif.{ext}"));
        process(&avif, &out, &[]);
        let got = blocks(&out);
        assert_eq!(got.icc, meta.icc, "{ext}: ICC");
        assert_eq!(got.xmp, meta.xmp, "{ext}: XMP");
        let exif = got.exif.unwrap_or_else(|| panic!("{ext}: no Exif"));
        assert_eq!(
            field(&exif, Tag::Model).as_deref(),
            Some("\"TesseraCam X100\""),
            "{ext}"
        );
    }
}

/// An AVIF keeps a turn it was not given in its irot and imir boxes: written with
/// `--no-auto-orient` from a photo with Exif orientation `o`, it holds the stored pixels and
/// says `o`; read back, it comes out upright.
#[cfg(feature = "avif")]
#[test]
fn avif_carries_every_orientation_in_its_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let stored = picture(W, H);
    for o in 1..=8u16 {
        let source = dir.path().join(format!("o{o}.png"));
        photo(
            &source,
            ImageFormat::Png,
            &Metadata {
                exif: Some(camera_exif(o, Size::Short, false)),
                ..Metadata::default()
            },
        );
        let avif = dir.path().join(format!("o{o}.avif"));
        process(&source, &avif, &["--no-auto-orient", "--lossless"]);
        let header = tessera::media::avif::header(&std::fs::read(&avif).unwrap()).unwrap();
        assert_eq!(header.orientation.to_exif(), o as u8, "{o}: irot/imir");
        assert_eq!((header.width, header.height), (W, H), "{o}: stored size");
        let out = dir.path().join(format!("up{o}.png"));
        process(&avif, &out, &[]);
        let got = image::open(&out).unwrap().into_rgb8();
        assert!(got == upright(&stored, o), "orientation {o}: wrong pixels");
        // Kept as stored, the turn goes into the output's Exif.
        let kept = dir.path().join(format!("kept{o}.jpg"));
        process(&avif, &kept, &["--no-auto-orient"]);
        let exif = blocks(&kept).exif.unwrap();
        assert_eq!(uint(&exif, Tag::Orientation), Some(u32::from(o)), "{o}");
    }
}

#[test]
fn strip_removes_every_block_or_the_ones_named() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("camera.jpg");
    photo(&source, ImageFormat::Jpeg, &camera_meta(1));
    // (arguments, ICC kept, Exif kept, XMP kept)
    let cases: [(&[&str], bool, bool, bool); 6] = [
        (&[], true, true, true),
        (&["--strip"], false, false, false),
        (&["--strip", "exif"], true, false, true),
        (&["--strip=xmp"], true, true, false),
        (&["--strip", "icc"], false, true, true),
        (
            &["--strip", "exif", "--strip", "icc,xmp"],
            false,
            false,
            false,
        ),
    ];
    for ext in formats() {
        for (i, (args, icc, exif, xmp)) in cases.iter().enumerate() {
            let out = dir.path().join(format!("strip{i}.{ext}"));
            process(&source, &out, args);
            let got = blocks(&out);
            assert_eq!(got.icc.is_some(), *icc, "{ext} {args:?}: ICC");
            assert_eq!(got.exif.is_some(), *exif, "{ext} {args:?}: Exif");
            assert_eq!(got.xmp.is_some(), *xmp, "{ext} {args:?}: XMP");
        }
    }
    let (code, _, stderr) = tessera(&[
        "process",
        s(&source),
        "-o",
        s(&dir.path().join("x.png")),
        "--strip=gps",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("'gps' is not a metadata block"), "{stderr}");
}

/// `stored` shown upright as Exif orientation `o` asks, turned pixel by pixel.
fn upright(stored: &image::RgbImage, o: u16) -> image::RgbImage {
    let (w, h) = stored.dimensions();
    let quarter = o >= 5;
    let (ow, oh) = if quarter { (h, w) } else { (w, h) };
    image::RgbImage::from_fn(ow, oh, |x, y| {
        let (sx, sy) = match o {
            1 => (x, y),
            2 => (w - 1 - x, y),
            3 => (w - 1 - x, h - 1 - y),
            4 => (x, h - 1 - y),
            5 => (y, x),
            6 => (y, h - 1 - x),
            7 => (w - 1 - y, h - 1 - x),
            _ => (w - 1 - y, x),
        };
        *stored.get_pixel(sx, sy)
    })
}

#[test]
fn every_orientation_is_turned_upright_and_tagged_1() {
    let dir = tempfile::tempdir().unwrap();
    let stored = picture(W, H);
    for o in 1..=8u16 {
        let source = dir.path().join(format!("o{o}.png"));
        photo(
            &source,
            ImageFormat::Png,
            &Metadata {
                exif: Some(camera_exif(o, Size::Short, o % 2 == 0)),
                xmp: Some(xmp_packet(o)),
                icc: None,
            },
        );
        let out = dir.path().join(format!("upright{o}.png"));
        process(&source, &out, &[]);
        let got = image::open(&out).unwrap().into_rgb8();
        assert!(got == upright(&stored, o), "orientation {o}: wrong pixels");
        let b = blocks(&out);
        assert_eq!(
            uint(b.exif.as_ref().unwrap(), Tag::Orientation),
            Some(1),
            "{o}"
        );
        let xmp = String::from_utf8(b.xmp.unwrap()).unwrap();
        assert!(xmp.contains("tiff:Orientation=\"1\""), "{o}: {xmp}");
        // The Exif pixel size is the upright picture's.
        let exif = b.exif.unwrap();
        let (ow, oh) = got.dimensions();
        assert_eq!(
            (
                uint(&exif, Tag::PixelXDimension),
                uint(&exif, Tag::PixelYDimension)
            ),
            (Some(ow), Some(oh)),
            "{o}"
        );

        let kept = dir.path().join(format!("stored{o}.png"));
        process(&source, &kept, &["--no-auto-orient"]);
        assert!(
            image::open(&kept).unwrap().into_rgb8() == stored,
            "{o}: turned"
        );
        let b = blocks(&kept);
        assert_eq!(
            uint(b.exif.as_ref().unwrap(), Tag::Orientation),
            Some(o as u32)
        );
        assert_eq!(b.xmp, Some(xmp_packet(o)), "{o}");
    }
}

#[test]
fn the_exif_pixel_size_follows_a_resize() {
    let dir = tempfile::tempdir().unwrap();
    for (size, little_endian, ext, format) in [
        (Size::Short, false, "jpg", ImageFormat::Jpeg),
        (Size::Long, true, "png", ImageFormat::Png),
    ] {
        let source = dir.path().join(format!("big.{ext}"));
        let meta = Metadata {
            exif: Some(camera_exif(1, size, little_endian)),
            ..Metadata::default()
        };
        photo(&source, format, &meta);
        let out = dir.path().join(format!("small.{ext}"));
        process(&source, &out, &["--chain", "scale(width=20)"]);
        let exif = blocks(&out).exif.unwrap();
        assert_eq!(
            (
                uint(&exif, Tag::PixelXDimension),
                uint(&exif, Tag::PixelYDimension)
            ),
            (Some(20), Some(15)),
            "{ext}"
        );
    }
}

/// A JPEG whose Exif block is `exif`, processed with a JSON report: the warnings it gave.
fn warnings_for(dir: &Path, name: &str, exif: Vec<u8>) -> (Vec<String>, PathBuf) {
    let source = dir.join(format!("{name}.jpg"));
    let mut encoded = std::io::Cursor::new(Vec::new());
    picture(W, H)
        .write_to(&mut encoded, ImageFormat::Jpeg)
        .unwrap();
    let meta = Metadata {
        exif: Some(exif),
        xmp: Some(xmp_packet(1)),
        icc: None,
    };
    let (bytes, _) = metadata::embed(encoded.into_inner(), ImageFormat::Jpeg, &meta).unwrap();
    std::fs::write(&source, bytes).unwrap();
    let out = dir.join(format!("{name}-out.jpg"));
    let report = dir.join(format!("{name}.json"));
    process(&source, &out, &["--report", s(&report)]);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let warnings = json["files"][0]["warnings"]
        .as_array()
        .map(|w| w.iter().map(|w| w.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    (warnings, out)
}

#[test]
fn a_damaged_exif_block_is_left_out_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let whole = camera_exif(1, Size::Short, false);
    // Cut short; an IFD that is its own Exif IFD (a loop); an IFD0 offset past the end.
    let mut looped = b"MM\0*\0\0\0\x08\0\x01".to_vec();
    looped.extend_from_slice(&[0x87, 0x69, 0, 4, 0, 0, 0, 1, 0, 0, 0, 8, 0, 0, 0, 0]);
    let mut past = whole.clone();
    past[4..8].copy_from_slice(&60_000u32.to_be_bytes());
    for (name, exif) in [
        ("cut", whole[..whole.len() / 2].to_vec()),
        ("looped", looped),
        ("past", past),
    ] {
        let (warnings, out) = warnings_for(dir.path(), name, exif);
        assert_eq!(warnings.len(), 1, "{name}: {warnings:?}");
        assert!(
            warnings[0].contains("the Exif block is damaged"),
            "{name}: {warnings:?}"
        );
        let got = blocks(&out);
        assert!(
            got.exif.is_none(),
            "{name}: a damaged Exif block was written"
        );
        assert_eq!(got.xmp, Some(xmp_packet(1)), "{name}: the XMP went with it");
    }
    let (warnings, _) = warnings_for(dir.path(), "whole", whole);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[cfg(feature = "video")]
#[test]
fn probe_shows_the_camera_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("camera.jpg");
    let meta = camera_meta(6);
    photo(&source, ImageFormat::Jpeg, &meta);
    let (code, json, stderr) = tessera(&["probe", s(&source), "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let image = &doc["image"];
    let camera = &image["camera"];
    assert_eq!(camera["make"], "TesseraCam");
    assert_eq!(camera["model"], "TesseraCam X100");
    assert_eq!(camera["lens"], "Test 50mm F2.8");
    assert_eq!(camera["date"], "2024:06:01 14:03:22");
    assert_eq!(camera["exposure"], "1/250 s");
    assert_eq!(camera["f_number"].as_f64(), Some(2.8));
    assert_eq!(camera["iso"].as_u64(), Some(400));
    assert_eq!(camera["focal_length"].as_f64(), Some(50.0));
    assert_eq!(camera["orientation"].as_u64(), Some(6));
    assert_eq!(image["orientation"].as_u64(), Some(6));
    let xmp_size = meta.xmp.as_ref().unwrap().len();
    assert_eq!(image["xmp_size"].as_u64(), Some(xmp_size as u64));

    let (code, text, stderr) = tessera(&["probe", s(&source)]);
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "  camera: TesseraCam X100, lens Test 50mm F2.8".to_string(),
        "  shot: 2024:06:01 14:03:22, 1/250 s, f/2.8, ISO 400, 50 mm".to_string(),
        format!("  XMP: {xmp_size} bytes"),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
    }
}
