//! Colour management for stills: an ICC profile read and checked ([`Profile`]), a frame
//! converted from one profile to another ([`convert`]), sRGB's own profile ([`srgb_icc`]) and
//! what a job does to a picture's colour between reading and writing ([`ColourPlan`]).
//!
//! Conversions go through moxcms (the colour engine the `image` crate itself uses): the frame's
//! colour planes are interleaved a row at a time, converted, and split back, rows in parallel
//! (rayon). 16-bit frames are converted at 16 bits; the alpha plane is copied untouched. An
//! untagged picture is taken as sRGB, as browsers and vips take it. This module knows frames and
//! profiles only: the caller reads the source's profile and embeds the output's.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use moxcms::{ColorProfile, DataColorSpace, ProfileClass, RenderingIntent, TransformOptions};
use rayon::prelude::*;

use super::icc::{self, IccProfile};
use super::{display, io_message, MediaError};
use crate::frame::{Family, Format, Frame, Layout, Samples};

/// How colours outside the destination's gamut are brought in (`--intent`), as ICC defines the
/// four rendering intents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Intent {
    /// The whole gamut compressed into the destination's, relations between colours kept.
    Perceptual,
    /// Colours inside both gamuts kept exactly (relative to the white point), the rest clipped:
    /// vips' and ImageMagick's default.
    #[default]
    Relative,
    /// Saturated colours kept saturated, hue shifts allowed (business graphics).
    Saturation,
    /// As relative, without adapting the white point: paper white is simulated.
    Absolute,
}

impl Intent {
    fn moxcms(self) -> RenderingIntent {
        match self {
            Intent::Perceptual => RenderingIntent::Perceptual,
            Intent::Relative => RenderingIntent::RelativeColorimetric,
            Intent::Saturation => RenderingIntent::Saturation,
            Intent::Absolute => RenderingIntent::AbsoluteColorimetric,
        }
    }
}

/// A checked ICC profile: its bytes as they will be embedded, the engine's reading of them, and
/// what it says about itself (for messages).
#[derive(Clone)]
pub struct Profile {
    bytes: Arc<Vec<u8>>,
    parsed: Arc<ColorProfile>,
    info: IccProfile,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name())
            .field("size", &self.bytes.len())
            .finish()
    }
}

impl PartialEq for Profile {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

/// The colour spaces a picture's profile can have: the pictures tessera reads are RGB or grey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Space {
    Rgb,
    Gray,
}

impl Profile {
    /// Reads `bytes` as the profile `origin` holds (a file, or a picture's embedded profile, as
    /// its message names it). A profile the engine cannot read is damaged; one that is not an
    /// RGB or grey device profile (CMYK, Lab, a device link) is unsupported.
    pub fn parse(bytes: Vec<u8>, origin: &str) -> Result<Profile, MediaError> {
        let info = icc::describe(&bytes);
        let parsed = ColorProfile::new_from_slice(&bytes).map_err(|e| MediaError::Decode {
            path: origin.to_string(),
            message: format!(
                "damaged ICC profile {} ({e}); --strip icc drops it and takes the picture as \
                 sRGB, --keep-profile keeps it as it is without converting",
                name_of(&info)
            ),
        })?;
        let profile = Profile {
            bytes: Arc::new(bytes),
            parsed: Arc::new(parsed),
            info,
        };
        let unsupported = |what: String| MediaError::Unsupported {
            path: origin.to_string(),
            message: format!(
                "ICC profile {} {what}; tessera converts RGB and grey pictures only (--strip \
                 icc drops the profile, --keep-profile keeps it without converting)",
                profile.name()
            ),
        };
        match profile.parsed.profile_class {
            ProfileClass::DeviceLink | ProfileClass::Abstract | ProfileClass::Named => {
                return Err(unsupported(format!(
                    "is a {:?} profile, not a device or colour-space profile",
                    profile.parsed.profile_class
                )))
            }
            _ => {}
        }
        if profile.space().is_none() {
            return Err(unsupported(format!(
                "describes a {} colour space",
                space_name(profile.parsed.color_space)
            )));
        }
        // A profile the engine reads but cannot build a transform from is damaged too (a
        // missing or malformed curve or colorant).
        if let Err(e) = transform16(&profile, &Profile::srgb(), Intent::Relative) {
            return Err(MediaError::Decode {
                path: origin.to_string(),
                message: format!(
                    "damaged ICC profile {} (cannot convert from it: {e}); --strip icc drops it \
                     and takes the picture as sRGB, --keep-profile keeps it as it is without \
                     converting",
                    profile.name()
                ),
            });
        }
        Ok(profile)
    }

    /// Reads and checks the profile in the file `path` (`--profile`): a missing file, or one
    /// that is not an RGB ICC profile, is an error naming it.
    pub fn read(path: &Path) -> Result<Profile, MediaError> {
        let bytes = std::fs::read(path).map_err(|e| MediaError::Open {
            path: display(path),
            message: format!("cannot read the ICC profile: {}", io_message(&e)),
        })?;
        let profile = Profile::parse(bytes, &display(path))?;
        if profile.space() != Some(Space::Rgb) {
            return Err(MediaError::Unsupported {
                path: display(path),
                message: format!(
                    "ICC profile {} describes a {} colour space; --profile takes an RGB profile \
                     (tessera writes RGB pictures)",
                    profile.name(),
                    space_name(profile.parsed.color_space)
                ),
            });
        }
        Ok(profile)
    }

    /// sRGB IEC 61966-2.1, as [`srgb_icc`] encodes it.
    pub fn srgb() -> Profile {
        SRGB.get_or_init(srgb).clone()
    }

    /// The bytes to embed in an output.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The profile's name for messages: its description in quotes, else its size.
    pub fn name(&self) -> String {
        name_of(&self.info)
    }

    /// What the profile says about itself, as `probe` shows it.
    pub fn info(&self) -> &IccProfile {
        &self.info
    }

    fn space(&self) -> Option<Space> {
        match self.parsed.color_space {
            DataColorSpace::Rgb => Some(Space::Rgb),
            DataColorSpace::Gray => Some(Space::Gray),
            _ => None,
        }
    }

    /// True when the profile describes sRGB: converting from it to sRGB moves no colour of a
    /// 17×17×17 grid (a 256-step ramp for grey) by more than a quarter of an 8-bit code value.
    /// Such a picture's pixels are kept exactly as stored.
    pub fn is_srgb(&self) -> bool {
        let srgb = Profile::srgb();
        if *self == srgb {
            return true;
        }
        let Ok(transform) = transform16(self, &srgb, Intent::Relative) else {
            return false;
        };
        let (input, expected): (Vec<u16>, Vec<[u16; 3]>) = match self.space() {
            Some(Space::Rgb) => {
                let steps: Vec<u16> = (0..17u32).map(|i| (i * 65535 / 16) as u16).collect();
                let grid: Vec<[u16; 3]> = steps
                    .iter()
                    .flat_map(|&r| {
                        let steps = &steps;
                        steps
                            .iter()
                            .flat_map(move |&g| steps.iter().map(move |&b| [r, g, b]))
                    })
                    .collect();
                (grid.iter().flatten().copied().collect(), grid)
            }
            Some(Space::Gray) => {
                let ramp: Vec<u16> = (0..256u32).map(|i| (i * 257) as u16).collect();
                let expected = ramp.iter().map(|&v| [v, v, v]).collect();
                (ramp, expected)
            }
            None => return false,
        };
        let mut out = vec![0u16; expected.len() * 3];
        if transform.transform(&input, &mut out).is_err() {
            return false;
        }
        let tolerance = 65535 / 255 / 4;
        out.chunks_exact(3)
            .zip(&expected)
            .all(|(got, want)| (0..3).all(|c| got[c].abs_diff(want[c]) <= tolerance))
    }
}

fn name_of(info: &IccProfile) -> String {
    match &info.description {
        Some(name) => format!("'{name}'"),
        None => format!("(unnamed, {} bytes)", info.size),
    }
}

fn space_name(space: DataColorSpace) -> String {
    match space {
        DataColorSpace::Rgb => "RGB".into(),
        DataColorSpace::Gray => "grey".into(),
        DataColorSpace::Cmyk => "CMYK".into(),
        DataColorSpace::Lab => "Lab".into(),
        other => format!("{other:?}"),
    }
}

static SRGB: OnceLock<Profile> = OnceLock::new();

/// sRGB as moxcms defines it (IEC 61966-2.1 primaries and curve, D65 white adapted to D50),
/// encoded as an ICC v4 profile.
fn srgb() -> Profile {
    let parsed = ColorProfile::new_srgb();
    let bytes = encode_dated(&parsed).expect("moxcms encodes its own sRGB profile");
    Profile {
        info: icc::describe(&bytes),
        bytes: Arc::new(bytes),
        parsed: Arc::new(parsed),
    }
}

/// A profile tessera makes, encoded as ICC. moxcms stamps the header's creation date with the
/// time of encoding; a fixed one keeps tessera's outputs the same from run to run (the header
/// carries no profile ID to update).
fn encode_dated(profile: &ColorProfile) -> Result<Vec<u8>, moxcms::CmsError> {
    let mut bytes = profile.encode()?;
    let created: [u16; 6] = [2026, 11, 28, 0, 0, 0];
    for (i, part) in created.iter().enumerate() {
        bytes[24 + 2 * i..26 + 2 * i].copy_from_slice(&part.to_be_bytes());
    }
    Ok(bytes)
}

/// The ICC profile for colours tagged by code points (ITU-T H.273, as an AVIF's nclx box tags
/// them): `None` for sRGB (BT.709 primaries or unspecified, with the sRGB, BT.709 or an
/// unspecified transfer, which browsers show as sRGB), else a profile built from the primaries
/// and the transfer curve, so that the colour plan converts the picture as it would a tagged
/// one. An HDR transfer (PQ, HLG) or a code point without a curve is an error in words: the
/// picture is then taken as sRGB, unconverted and not tone-mapped.
pub fn icc_from_cicp(primaries: u16, transfer: u16) -> Result<Option<Vec<u8>>, String> {
    use moxcms::{
        CicpColorPrimaries, CicpProfile, LocalizableString, MatrixCoefficients, ProfileText,
        TransferCharacteristics,
    };
    const SRGB_PRIMARIES: [u16; 2] = [1, 2];
    const SRGB_LIKE_TRANSFER: [u16; 4] = [1, 2, 6, 13];
    if SRGB_PRIMARIES.contains(&primaries) && SRGB_LIKE_TRANSFER.contains(&transfer) {
        return Ok(None);
    }
    let unsupported = || {
        format!(
            "its colours are tagged with primaries {primaries} and transfer {transfer} (H.273 \
             code points), which tessera cannot turn into a profile{}; they are taken as sRGB",
            if matches!(transfer, 16 | 18) {
                " (an HDR picture: it is not tone-mapped)"
            } else {
                ""
            }
        )
    };
    let code = |v: u16| u8::try_from(v).map_err(|_| unsupported());
    let cicp = CicpProfile {
        // Unspecified primaries with a named curve are BT.709's, as browsers take them.
        color_primaries: match primaries {
            2 => CicpColorPrimaries::Bt709,
            p => CicpColorPrimaries::try_from(code(p)?).map_err(|_| unsupported())?,
        },
        transfer_characteristics: match transfer {
            2 | 1 | 6 => TransferCharacteristics::Srgb,
            t => TransferCharacteristics::try_from(code(t)?).map_err(|_| unsupported())?,
        },
        matrix_coefficients: MatrixCoefficients::Bt709,
        full_range: true,
    };
    let mut profile = ColorProfile::new_from_cicp(cicp);
    if profile.red_trc.is_none() || profile.cicp.is_none() {
        return Err(unsupported());
    }
    let name = match primaries {
        12 => "Display P3".to_string(),
        9 => "BT.2020".to_string(),
        11 => "DCI-P3".to_string(),
        p => format!("H.273 primaries {p}"),
    };
    profile.description = Some(ProfileText::Localizable(vec![LocalizableString::new(
        "en".into(),
        "US".into(),
        format!("{name}, transfer {transfer} (from H.273 code points)"),
    )]));
    encode_dated(&profile)
        .map(Some)
        .map_err(|e| format!("{} ({e})", unsupported()))
}

/// The sRGB profile's bytes, as tessera embeds them in a picture it converted to sRGB.
pub fn srgb_icc() -> &'static [u8] {
    SRGB.get_or_init(srgb).bytes()
}

fn options(intent: Intent) -> TransformOptions {
    TransformOptions {
        rendering_intent: intent.moxcms(),
        // Floating point: as exact as the fixed-point path at 16 bits, and faster there.
        prefer_fixed_point: false,
        ..TransformOptions::default()
    }
}

fn mox_layout(profile: &Profile) -> moxcms::Layout {
    match profile.space() {
        Some(Space::Gray) => moxcms::Layout::Gray,
        _ => moxcms::Layout::Rgb,
    }
}

type Transform16 = Arc<moxcms::Transform16BitExecutor>;

fn transform16(
    from: &Profile,
    to: &Profile,
    intent: Intent,
) -> Result<Transform16, moxcms::CmsError> {
    from.parsed.create_transform_16bit(
        mox_layout(from),
        &to.parsed,
        mox_layout(to),
        options(intent),
    )
}

/// Converts `frame` from the profile `from` to the profile `to` with `intent`: an RGB or grey
/// frame (with alpha or not) at 8 or 16 bits, the alpha plane copied untouched, 16 bits kept at
/// 16. The result has `to`'s colour planes: RGB for an RGB profile, grey for a grey one. `path`
/// names the picture in errors: a profile whose colour space is not the frame's is one.
///
/// The pictures tessera reads are RGB planes, grey ones spread to three equal planes: an RGB
/// frame whose three planes are equal may carry a grey profile, converted from its first plane.
pub fn convert(
    frame: &Frame,
    from: &Profile,
    to: &Profile,
    intent: Intent,
    path: &str,
) -> Result<Frame, MediaError> {
    let f = &frame.format;
    let mismatch = |what: &str| MediaError::Unsupported {
        path: path.to_string(),
        message: format!(
            "its ICC profile {} describes a {} colour space, but the picture is {what} (--strip \
             icc drops the profile, --keep-profile keeps it without converting)",
            from.name(),
            space_name(from.parsed.color_space)
        ),
    };
    // The plane of the source each colour channel of the transform's input comes from.
    let sources: Vec<usize> = match (f.layout.family, from.space()) {
        (Family::Rgb, Some(Space::Rgb)) => vec![0, 1, 2],
        (Family::Gray, Some(Space::Gray)) => vec![0],
        (Family::Rgb, Some(Space::Gray)) if grey_planes(frame) => vec![0],
        (Family::Rgb, _) => return Err(mismatch("in colour (RGB)")),
        (Family::Gray, _) => return Err(mismatch("grey")),
        (Family::Yuv, _) => return Err(mismatch("Y′CbCr")),
    };
    if !matches!(f.bits, 8 | 16) {
        return Err(MediaError::Unsupported {
            path: path.to_string(),
            message: format!(
                "cannot convert a {}-bit picture between ICC profiles (8 or 16 bits)",
                f.bits
            ),
        });
    }
    let out_channels = match to.space() {
        Some(Space::Gray) => 1,
        _ => 3,
    };
    let layout = if out_channels == 1 {
        Layout::GRAY
    } else {
        Layout::RGB
    }
    .with_alpha(f.layout.alpha);
    let format = Format::new(f.width, f.height, layout, f.bits, f.colour);
    let (w, h) = (f.width as usize, f.height as usize);
    let failed = |e: moxcms::CmsError| MediaError::Unsupported {
        path: path.to_string(),
        message: format!(
            "cannot convert from its ICC profile {} to {}: {e}",
            from.name(),
            to.name()
        ),
    };
    // 8-bit pictures go through the 16-bit transform too: moxcms's 8-bit tables are off by up
    // to 2.3 code values where the 16-bit path stays within 1.4 of an exact conversion.
    let transform = transform16(from, to, intent).map_err(failed)?;
    let run = |s: &[u16], d: &mut [u16]| transform.transform(s, d);
    let mut planes: Vec<Samples> = Vec::with_capacity(format.planes());
    if f.bits == 8 {
        let rows = |y: usize, c: usize| frame.plane8(sources[c]).row(y);
        let out = convert_rows(
            w,
            h,
            sources.len(),
            out_channels,
            &rows,
            &run,
            &widen,
            &narrow,
        )
        .map_err(failed)?;
        planes.extend(out.into_iter().map(Samples::U8));
    } else {
        let rows = |y: usize, c: usize| frame.plane16(sources[c]).row(y);
        let out = convert_rows(
            w,
            h,
            sources.len(),
            out_channels,
            &rows,
            &run,
            &|v| v,
            &|v| v,
        )
        .map_err(failed)?;
        planes.extend(out.into_iter().map(Samples::U16));
    }
    if let Some(a) = f.layout.alpha_plane() {
        let alpha = match frame.plane(a) {
            crate::frame::PlaneRef::U8(p) => {
                Samples::U8((0..h).flat_map(|y| p.row(y).iter().copied()).collect())
            }
            crate::frame::PlaneRef::U16(p) => {
                Samples::U16((0..h).flat_map(|y| p.row(y).iter().copied()).collect())
            }
        };
        planes.push(alpha);
    }
    let mut converted = Frame::from_planes(format, planes);
    converted.index = frame.index;
    converted.pts = frame.pts;
    Ok(converted)
}

/// True when the three colour planes of an RGB frame are equal everywhere (a grey picture).
fn grey_planes(frame: &Frame) -> bool {
    let h = frame.height() as usize;
    (0..h).into_par_iter().all(|y| match frame.plane(0) {
        crate::frame::PlaneRef::U8(r) => {
            let row = r.row(y);
            row == frame.plane8(1).row(y) && row == frame.plane8(2).row(y)
        }
        crate::frame::PlaneRef::U16(r) => {
            let row = r.row(y);
            row == frame.plane16(1).row(y) && row == frame.plane16(2).row(y)
        }
    })
}

/// An 8-bit code value as the 16-bit one of the same level.
fn widen(v: u8) -> u16 {
    v as u16 * 257
}

/// A 16-bit code value to the nearest 8-bit one.
fn narrow(v: u16) -> u8 {
    ((v as u32 * 255 + 32767) / 65535) as u8
}

/// A 16-bit colour transform over interleaved pixels.
type RowTransform<'t, E> = dyn Fn(&[u16], &mut [u16]) -> Result<(), E> + Sync + 't;

/// Runs the 16-bit `transform` over `h` rows of `w` pixels, rows in parallel: each row's `inputs`
/// channels (from `rows(y, channel)`, made 16-bit by `up`) interleaved, converted, and split into
/// `outputs` planes (stored by `down`).
#[allow(clippy::too_many_arguments)]
fn convert_rows<'a, T, E>(
    w: usize,
    h: usize,
    inputs: usize,
    outputs: usize,
    rows: &(dyn Fn(usize, usize) -> &'a [T] + Sync),
    transform: &RowTransform<'_, E>,
    up: &(dyn Fn(T) -> u16 + Sync),
    down: &(dyn Fn(u16) -> T + Sync),
) -> Result<Vec<Vec<T>>, E>
where
    T: Copy + Default + Send + Sync + 'a,
    E: Send,
{
    let mut planes: Vec<Vec<T>> = (0..outputs).map(|_| vec![T::default(); w * h]).collect();
    // Rows of every output plane, zipped: row y of each.
    let mut bands: Vec<Vec<&mut [T]>> = (0..h).map(|_| Vec::with_capacity(outputs)).collect();
    for plane in planes.iter_mut() {
        for (y, row) in plane.chunks_mut(w.max(1)).enumerate() {
            bands[y].push(row);
        }
    }
    bands.into_par_iter().enumerate().try_for_each_init(
        || (vec![0u16; w * inputs], vec![0u16; w * outputs]),
        |(src, dst), (y, mut out)| {
            for c in 0..inputs {
                let row = rows(y, c);
                for (x, &v) in row.iter().enumerate() {
                    src[x * inputs + c] = up(v);
                }
            }
            transform(src, dst)?;
            for (c, plane_row) in out.iter_mut().enumerate() {
                for (x, v) in plane_row.iter_mut().enumerate() {
                    *v = down(dst[x * outputs + c]);
                }
            }
            Ok(())
        },
    )?;
    Ok(planes)
}

/// One conversion a job makes: the picture from one profile to another.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    pub from: Profile,
    pub to: Profile,
    pub intent: Intent,
}

impl Conversion {
    /// [`convert`] with this conversion's profiles and intent.
    pub fn apply(&self, frame: &Frame, path: &str) -> Result<Frame, MediaError> {
        convert(frame, &self.from, &self.to, self.intent, path)
    }
}

/// What a job does to a still's colour, decided before its pixels are decoded: the conversion
/// before the chain (into the space it filters in), the one after (into `--profile`'s space),
/// and the ICC profile the output carries.
///
/// | source | default | `--keep-profile` | `--profile FILE` |
/// | --- | --- | --- | --- |
/// | untagged (taken as sRGB) | as stored, no profile | as stored, no profile | sRGB → FILE, FILE's |
/// | sRGB | as stored, its profile | as stored, its profile | sRGB → FILE, FILE's |
/// | another space | → sRGB, sRGB's profile | as stored, its profile | → sRGB (or kept) → FILE, FILE's |
///
/// `--strip icc` leaves the source's profile unread (its pixels are taken as sRGB, as
/// ImageMagick's `-strip` does) and the output without one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ColourPlan {
    /// Before the chain: from the source's profile to the space the chain works in.
    pub before: Option<Conversion>,
    /// After the chain: to the `--profile` space.
    pub after: Option<Conversion>,
    /// The ICC profile's bytes the output carries (`Metadata::icc`); `None` for none.
    pub output_icc: Option<Vec<u8>>,
}

impl ColourPlan {
    /// Decides what happens to the colour of the picture `path`, whose file embeds `source`
    /// (its ICC profile's bytes, if any), for `options`. Reads `--profile`'s file. Fails for a
    /// profile that is damaged or cannot be converted (naming its file), before any pixel is
    /// decoded.
    pub fn new(
        source: Option<Vec<u8>>,
        options: &super::image::PhotoOptions,
        path: &Path,
    ) -> Result<ColourPlan, MediaError> {
        let output = options.profile.as_deref().map(Profile::read).transpose()?;
        let source = if options.strip.icc { None } else { source };
        let intent = options.intent;
        let mut plan = ColourPlan::default();
        // The space the chain works in, where it is not sRGB (or untagged).
        let mut working: Option<Profile> = None;
        match source {
            None => {}
            // Kept as it is: only read where it must be converted to `--profile`'s space.
            Some(bytes) if options.keep_profile => {
                if output.is_some() {
                    working = Some(Profile::parse(bytes, &display(path))?);
                } else {
                    plan.output_icc = Some(bytes);
                }
            }
            Some(bytes) => {
                let profile = Profile::parse(bytes, &display(path))?;
                if profile.is_srgb() {
                    plan.output_icc = Some(profile.bytes().to_vec());
                } else {
                    plan.before = Some(Conversion {
                        from: profile,
                        to: Profile::srgb(),
                        intent,
                    });
                    plan.output_icc = Some(srgb_icc().to_vec());
                }
            }
        }
        if let Some(output) = output {
            plan.output_icc = Some(output.bytes().to_vec());
            plan.after = Some(Conversion {
                from: working.unwrap_or_else(Profile::srgb),
                to: output,
                intent,
            });
        }
        if options.strip.icc {
            plan.output_icc = None;
        }
        Ok(plan)
    }

    /// Converts the decoded picture into the space the chain works in.
    pub fn before_chain(&self, frame: Frame, path: &Path) -> Result<Frame, MediaError> {
        match &self.before {
            Some(c) => c.apply(&frame, &display(path)),
            None => Ok(frame),
        }
    }

    /// True when the conversions work pixel by pixel on a picture of `input` made `output` by
    /// the chain, so that a band converts as it would in the whole picture: not so where RGB
    /// pixels carry a grey profile, which is applied only when the whole picture is grey.
    pub fn converts_bands(&self, input: &Format, output: &Format) -> bool {
        let per_pixel = |c: &Option<Conversion>, f: &Format| {
            c.as_ref().is_none_or(|c| {
                !(f.layout.family == Family::Rgb && c.from.space() == Some(Space::Gray))
            })
        };
        per_pixel(&self.before, input) && per_pixel(&self.after, output)
    }

    /// Converts the chain's result into the output's space.
    pub fn after_chain(&self, frame: Frame, path: &Path) -> Result<Frame, MediaError> {
        match &self.after {
            Some(c) => c.apply(&frame, &display(path)),
            None => Ok(frame),
        }
    }
}
