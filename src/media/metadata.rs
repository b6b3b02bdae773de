//! A still's metadata blocks, as a photo carries them from file to file: the Exif block, the
//! XMP packet and the ICC colour profile.

/// The metadata blocks of a still picture, as its file stores them. A block the file lacks (or
/// that `--strip` removed) is `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The ICC profile's bytes, whole (a JPEG's APP2 chunks joined).
    pub icc: Option<Vec<u8>>,
    /// The Exif block as a TIFF structure: from its byte-order mark (`II*\0` or `MM\0*`), without
    /// JPEG's `Exif\0\0` prefix.
    pub exif: Option<Vec<u8>>,
    /// The XMP packet's bytes (UTF-8 XML).
    pub xmp: Option<Vec<u8>>,
}
