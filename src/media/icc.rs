//! ICC colour profiles, read only as far as `probe` shows them: the header's version, device
//! class and colour space, and the profile's name from its `desc` tag (ICC v2's
//! textDescriptionType or v4's multiLocalizedUnicodeType). Nothing here converts colour:
//! tessera keeps pixels as the file stores them.

use serde::Serialize;

/// What an embedded ICC profile says about itself. A field the bytes do not give is `None`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IccProfile {
    /// The profile's name, from its `desc` tag, e.g. `sRGB IEC61966-2.1`, `Display P3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `major.minor.bugfix`, e.g. `2.1.0`, `4.3.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The header's device class signature, e.g. `mntr` (display), `prtr`, `spac`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_class: Option<String>,
    /// The header's data colour space signature, trimmed: `RGB`, `GRAY`, `CMYK`, `Lab`, …
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_space: Option<String>,
    /// Bytes of the profile as embedded.
    pub size: usize,
}

/// The header is 128 bytes, then the tag count.
const HEADER: usize = 128;

/// Reads what it can of `data`; a truncated or foreign block gives a profile with only its size.
pub fn describe(data: &[u8]) -> IccProfile {
    let mut profile = IccProfile {
        description: None,
        version: None,
        device_class: None,
        color_space: None,
        size: data.len(),
    };
    if data.len() < HEADER + 4 || &data[36..40] != b"acsp" {
        return profile;
    }
    profile.version = Some(format!("{}.{}.{}", data[8], data[9] >> 4, data[9] & 0x0f));
    profile.device_class = signature(&data[12..16]);
    profile.color_space = signature(&data[16..20]);
    profile.description = tag(data, b"desc").and_then(text);
    profile
}

/// A four-character signature as text, trailing spaces trimmed; `None` when it is not ASCII.
fn signature(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?.trim_end();
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())).then(|| text.to_string())
}

fn be32(data: &[u8], at: usize) -> Option<usize> {
    let bytes = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?) as usize)
}

/// The data of the tag `name`, from the tag table after the header.
fn tag<'a>(data: &'a [u8], name: &[u8; 4]) -> Option<&'a [u8]> {
    let count = be32(data, HEADER)?;
    (0..count.min(1024)).find_map(|i| {
        let entry = HEADER + 4 + 12 * i;
        if data.get(entry..entry + 4)? != name {
            return None;
        }
        let (offset, size) = (be32(data, entry + 4)?, be32(data, entry + 8)?);
        data.get(offset..offset.checked_add(size)?)
    })
}

/// The text of a `desc` (ASCII, v2) or `mluc` (UTF-16BE records, v4) tag: the US English
/// record where there is one, else the first English one, else the first.
fn text(tag: &[u8]) -> Option<String> {
    let text = match tag.get(0..4)? {
        b"desc" => {
            let count = be32(tag, 8)?;
            let ascii = tag.get(12..12usize.checked_add(count)?)?;
            String::from_utf8_lossy(ascii).into_owned()
        }
        b"mluc" => {
            let (records, record_size) = (be32(tag, 8)?, be32(tag, 12)?);
            if record_size < 12 {
                return None;
            }
            let record = |i: usize| -> Option<(&[u8], usize, usize)> {
                let at = 16 + i.checked_mul(record_size)?;
                Some((tag.get(at..at + 4)?, be32(tag, at + 4)?, be32(tag, at + 8)?))
            };
            let all: Vec<_> = (0..records.min(256)).map_while(record).collect();
            let (_, length, offset) = all
                .iter()
                .find(|(locale, ..)| *locale == b"enUS")
                .or_else(|| all.iter().find(|(locale, ..)| locale.starts_with(b"en")))
                .or(all.first())?;
            let utf16: Vec<u16> = tag
                .get(*offset..offset.checked_add(*length)?)?
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            String::from_utf16_lossy(&utf16)
        }
        _ => return None,
    };
    let text = text.trim_end_matches('\0').trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile of `version` (first header byte) with one `desc` tag holding `tag_data`.
    fn profile(version: u8, tag_data: &[u8]) -> Vec<u8> {
        let mut data = vec![0u8; HEADER];
        data[8] = version;
        data[9] = 0x10;
        data[12..16].copy_from_slice(b"mntr");
        data[16..20].copy_from_slice(b"RGB ");
        data[36..40].copy_from_slice(b"acsp");
        data.extend_from_slice(&1u32.to_be_bytes());
        data.extend_from_slice(b"desc");
        data.extend_from_slice(&(HEADER as u32 + 16).to_be_bytes());
        data.extend_from_slice(&(tag_data.len() as u32).to_be_bytes());
        data.extend_from_slice(tag_data);
        let size = data.len() as u32;
        data[0..4].copy_from_slice(&size.to_be_bytes());
        data
    }

    #[test]
    fn a_v2_profile_is_named_by_its_text_description() {
        let mut desc = b"desc\0\0\0\0".to_vec();
        desc.extend_from_slice(&18u32.to_be_bytes());
        desc.extend_from_slice(b"sRGB IEC61966-2.1\0");
        desc.extend_from_slice(&[0; 12]);
        let p = describe(&profile(2, &desc));
        assert_eq!(p.description.as_deref(), Some("sRGB IEC61966-2.1"));
        assert_eq!(p.version.as_deref(), Some("2.1.0"));
        assert_eq!(p.device_class.as_deref(), Some("mntr"));
        assert_eq!(p.color_space.as_deref(), Some("RGB"));
    }

    #[test]
    fn a_v4_profile_is_named_by_its_english_record() {
        let names: [(&[u8; 4], &str); 2] = [(b"deDE", "Anzeige"), (b"enUS", "Display P3")];
        let mut mluc = b"mluc\0\0\0\0".to_vec();
        mluc.extend_from_slice(&2u32.to_be_bytes());
        mluc.extend_from_slice(&12u32.to_be_bytes());
        let mut strings = Vec::new();
        for (locale, name) in names {
            let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
            mluc.extend_from_slice(locale);
            mluc.extend_from_slice(&(utf16.len() as u32).to_be_bytes());
            mluc.extend_from_slice(&((16 + 24 + strings.len()) as u32).to_be_bytes());
            strings.extend(utf16);
        }
        mluc.extend(strings);
        let p = describe(&profile(4, &mluc));
        assert_eq!(p.description.as_deref(), Some("Display P3"));
        assert_eq!(p.version.as_deref(), Some("4.1.0"));
    }

    #[test]
    fn damaged_profiles_give_what_they_can() {
        assert_eq!(describe(b"not a profile").description, None);
        assert_eq!(describe(b"not a profile").size, 13);
        let mut bad = profile(2, b"desc\0\0\0\0\xff\xff\xff\xff");
        assert_eq!(describe(&bad).description, None);
        assert_eq!(describe(&bad).version.as_deref(), Some("2.1.0"));
        // A tag table that runs off the end.
        bad[HEADER..HEADER + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(describe(&bad).description, None);
    }
}
