//! Binds the system's libavif (the `avif` feature): finds it with pkg-config and generates the
//! declarations of the few `avif*` functions and types `src/media/avif.rs` uses. libavif is never
//! built from source here: Debian's libavif-dev (0.11) brings it, with its AV1 codecs.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_AVIF").is_some() {
        #[cfg(feature = "avif")]
        avif::bind();
    }
}

#[cfg(feature = "avif")]
mod avif {
    use std::path::PathBuf;

    pub fn bind() {
        let library = pkg_config::Config::new()
            .atleast_version("0.11")
            .probe("libavif")
            .unwrap_or_else(|e| {
                panic!(
                    "the `avif` feature needs the system's libavif 0.11 or newer, found with \
                     pkg-config (Debian: apt-get install libavif-dev; or build with \
                     --no-default-features --features video): {e}"
                )
            });
        let mut builder = bindgen::Builder::default()
            .header_contents("tessera-avif.h", "#include <avif/avif.h>\n")
            .allowlist_function("avif(Decoder|Encoder|Image|RGBImage|RWData|ResultToString).*")
            .allowlist_type("avif(Decoder|Encoder|Image|RGBImage|RWData|Result|PixelFormat|Range|TransformFlag|ChromaUpsampling|MatrixCoefficients|CodecChoice|RGBFormat|Diagnostics).*")
            .allowlist_var("AVIF_.*")
            .default_enum_style(bindgen::EnumVariation::Consts)
            .prepend_enum_name(false)
            .layout_tests(false)
            .generate_comments(false);
        for path in &library.include_paths {
            builder = builder.clang_arg(format!("-I{}", path.display()));
        }
        for (name, value) in &library.defines {
            builder = builder.clang_arg(match value {
                Some(value) => format!("-D{name}={value}"),
                None => format!("-D{name}"),
            });
        }
        let bindings = builder
            .generate()
            .expect("bindgen could not read <avif/avif.h>");
        let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        bindings
            .write_to_file(out.join("avif.rs"))
            .expect("cannot write the libavif bindings");
    }
}
