//! Image and video reading and writing.
