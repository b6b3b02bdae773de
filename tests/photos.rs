//! A photographer's batch, through `tessera process` and through the library: JPEGs and PNGs with
//! mixed ICC profiles (Adobe RGB, sRGB, none) and Exif orientations come out upright, in sRGB,
//! at the asked quality, with their metadata. Sources are drawn here as four flat quadrants, so
//! that where each colour lands says how the picture was turned and what it became says how it
//! was converted; lcms2 gives the expected colours.

mod common;

use std::path::{Path, PathBuf};

use common::{adobe_rgb, s, tessera};
use image::codecs::jpeg::{JpegDecoder, JpegEncoder};
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageDecoder, ImageEncoder};
use lcms2::{Intent, PixelFormat, Profile, Transform};

/// The stored size of every source.
const W: u32 = 64;
const H: u32 = 48;

/// The quadrants' colours as stored: top left, top right, bottom left, bottom right.
const QUADRANTS: [[u8; 3]; 4] = [[200, 60, 40], [40, 160, 70], [50, 70, 190], [220, 210, 90]];

fn quadrants() -> Vec<u8> {
    (0..H)
        .flat_map(|y| (0..W).map(move |x| (usize::from(y >= H / 2) * 2) + usize::from(x >= W / 2)))
        .flat_map(|q| QUADRANTS[q])
        .collect()
}

/// An Exif block holding only an orientation (little-endian TIFF, one IFD0 entry).
fn exif_orientation(orientation: u16) -> Vec<u8> {
    let mut exif = b"II*\0".to_vec();
    exif.extend_from_slice(&8u32.to_le_bytes());
    exif.extend_from_slice(&1u16.to_le_bytes());
    exif.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    exif.extend_from_slice(&3u16.to_le_bytes()); // SHORT
    exif.extend_from_slice(&1u32.to_le_bytes());
    exif.extend_from_slice(&orientation.to_le_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    exif
}

/// One source of the batch: its name, Exif orientation (none for a PNG), and profile.
struct Source {
    name: &'static str,
    orientation: Option<u16>,
    icc: Option<Vec<u8>>,
}

fn sources() -> Vec<Source> {
    vec![
        Source {
            name: "adobe-turned.jpg",
            orientation: Some(6),
            icc: Some(adobe_rgb()),
        },
        Source {
            name: "srgb-upside-down.jpg",
            orientation: Some(3),
            icc: Some(Profile::new_srgb().icc().unwrap()),
        },
        Source {
            name: "untagged.png",
            orientation: None,
            icc: None,
        },
        Source {
            name: "adobe.png",
            orientation: None,
            icc: Some(adobe_rgb()),
        },
    ]
}

fn write_source(dir: &Path, source: &Source) {
    let path = dir.join(source.name);
    let file = std::fs::File::create(&path).unwrap();
    let data = quadrants();
    if source.name.ends_with(".jpg") {
        let mut encoder = JpegEncoder::new_with_quality(file, 100);
        if let Some(icc) = &source.icc {
            encoder.set_icc_profile(icc.clone()).unwrap();
        }
        if let Some(o) = source.orientation {
            encoder.set_exif_metadata(exif_orientation(o)).unwrap();
        }
        encoder
            .write_image(&data, W, H, ExtendedColorType::Rgb8)
            .unwrap();
    } else {
        let mut encoder = PngEncoder::new(file);
        if let Some(icc) = &source.icc {
            encoder.set_icc_profile(icc.clone()).unwrap();
        }
        encoder
            .write_image(&data, W, H, ExtendedColorType::Rgb8)
            .unwrap();
    }
}

/// Where each stored quadrant is once upright (the index of the quadrant it lands in).
fn upright(orientation: Option<u16>) -> [usize; 4] {
    match orientation {
        // A quarter turn clockwise: top left goes to top right, and so on round.
        Some(6) => [1, 3, 0, 2],
        // A half turn.
        Some(3) => [3, 2, 1, 0],
        _ => [0, 1, 2, 3],
    }
}

/// The colours the output should show, in sRGB: lcms2's conversion of a tagged source.
fn expected(source: &Source) -> [[u8; 3]; 4] {
    let Some(icc) = &source.icc else {
        return QUADRANTS;
    };
    let t: Transform<[u8; 3], [u8; 3]> = Transform::new(
        &Profile::new_icc(icc).unwrap(),
        PixelFormat::RGB_8,
        &Profile::new_srgb(),
        PixelFormat::RGB_8,
        Intent::RelativeColorimetric,
    )
    .unwrap();
    let mut out = [[0u8; 3]; 4];
    t.transform_pixels(&QUADRANTS, &mut out);
    out
}

/// A decoded output: its pixels, size, ICC profile and Exif orientation.
type Decoded = (Vec<u8>, (u32, u32), Option<Vec<u8>>, Option<u32>);

/// A JPEG's pixels, size, ICC profile and Exif orientation.
fn read_jpeg(path: &Path) -> Decoded {
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let mut decoder = JpegDecoder::new(file).unwrap();
    let icc = decoder.icc_profile().unwrap();
    let orientation = decoder.exif_metadata().unwrap().map(|exif| {
        exif::Reader::new()
            .read_raw(exif)
            .unwrap()
            .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
            .and_then(|f| f.value.get_uint(0))
            .unwrap_or(1)
    });
    let size = decoder.dimensions();
    let mut data = vec![0u8; decoder.total_bytes() as usize];
    decoder.read_image(&mut data).unwrap();
    (data, size, icc, orientation)
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tessera-photos-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the batch: every source in `input` to `output/{stem}.jpg`, halved, at `quality`.
fn batch(input: &Path, output: &Path, quality: &str) {
    let template = output.join("{stem}.jpg");
    let (code, _, stderr) = tessera(&[
        "process",
        s(input),
        "-o",
        s(&template),
        "-c",
        "scale(width=w/2, height=-1)",
        "--quality",
        quality,
        "--backend",
        "cpu",
        "-q",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_mixed_batch_comes_out_upright_in_srgb_at_the_asked_quality_with_its_metadata() {
    let root = dir("batch");
    let (input, low, high) = (root.join("in"), root.join("q40"), root.join("q90"));
    std::fs::create_dir_all(&input).unwrap();
    let sources = sources();
    sources
        .iter()
        .for_each(|source| write_source(&input, source));
    batch(&input, &low, "40");
    batch(&input, &high, "90");
    for source in &sources {
        let stem = Path::new(source.name)
            .file_stem()
            .unwrap()
            .to_str()
            .unwrap();
        let name = format!("{stem}.jpg");
        let (pixels, (w, h), icc, orientation) = read_jpeg(&high.join(&name));
        // Upright, and halved.
        let turned = source.orientation == Some(6);
        assert_eq!(
            (w, h),
            if turned {
                (H / 2, W / 2)
            } else {
                (W / 2, H / 2)
            },
            "{name}"
        );
        // Each quadrant's colour where the turn puts it, converted as lcms2 converts it.
        let want = expected(source);
        for (stored, &at) in upright(source.orientation).iter().enumerate() {
            let (x, y) = (
                (at % 2) as u32 * w / 2 + w / 4,
                (at / 2) as u32 * h / 2 + h / 4,
            );
            let i = ((y * w + x) * 3) as usize;
            let got = &pixels[i..i + 3];
            let off = got
                .iter()
                .zip(want[stored])
                .map(|(&g, w)| g.abs_diff(w))
                .max()
                .unwrap();
            assert!(
                off <= 4,
                "{name}: quadrant {stored} is {got:?}, want {:?}",
                want[stored]
            );
        }
        // The metadata: orientation 1 where there was Exif, the profile its pixels are in.
        assert_eq!(
            orientation,
            source.orientation.map(|_| 1),
            "{name}: orientation"
        );
        match (&source.icc, &icc) {
            (None, got) => assert_eq!(*got, None, "{name}: untagged stays untagged"),
            (Some(_), None) => panic!("{name}: the profile was lost"),
            (Some(_), Some(got)) => {
                // sRGB: lcms2 takes it to its own sRGB as the identity.
                let t: Transform<[u8; 3], [u8; 3]> = Transform::new(
                    &Profile::new_icc(got).unwrap(),
                    PixelFormat::RGB_8,
                    &Profile::new_srgb(),
                    PixelFormat::RGB_8,
                    Intent::RelativeColorimetric,
                )
                .unwrap();
                let mut through = [[0u8; 3]; 4];
                t.transform_pixels(&QUADRANTS, &mut through);
                assert_eq!(
                    through, QUADRANTS,
                    "{name}: the output's profile is not sRGB"
                );
            }
        }
        // The asked quality: fewer bytes at 40 than at 90.
        let size = |dir: &Path| std::fs::metadata(dir.join(&name)).unwrap().len();
        assert!(
            size(&low) < size(&high),
            "{name}: {} ≥ {}",
            size(&low),
            size(&high)
        );
    }
    // The Adobe RGB sources really moved: a photo left in its numbers would be off.
    let adobe = expected(&sources[0]);
    assert!(adobe
        .iter()
        .zip(QUADRANTS)
        .any(|(a, q)| a.iter().zip(q).any(|(x, y)| x.abs_diff(y) > 8)));

    // Through the library: the same job gives the same file, byte for byte.
    let source = input.join(sources[0].name);
    let out = root.join("library.jpg");
    let job = tessera::job::Job {
        input: source,
        output: tessera::job::Output::File(out.clone()),
        chain: tessera::chain::Chain::parse("scale(width=w/2, height=-1)").unwrap(),
        backend: tessera::backend::BackendChoice::Cpu,
        encode: Default::default(),
        image: tessera::media::image::ImageSettings {
            quality: Some(90),
            ..Default::default()
        },
        photo: Default::default(),
        trim: Default::default(),
        on_error: Default::default(),
        fps: None,
        gpu: None,
        progress: None,
        overwrite: false,
        limits: Default::default(),
        stop: Default::default(),
    };
    tessera::job::run(&job, &mut |_| {}).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(high.join("adobe-turned.jpg")).unwrap()
    );
    std::fs::remove_dir_all(&root).unwrap();
}
