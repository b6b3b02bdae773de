//! Encodes one RGB picture with the JPEG encoders tessera could use, at a few qualities, all
//! 4:4:4 with optimised Huffman tables: size, PSNR against the source (over R, G and B, decoded
//! by the image crate) and the median encode time of N runs. libjpeg-turbo is measured through
//! mozjpeg's JCP_FASTEST profile, which writes what libjpeg-turbo writes.
//! Usage: jpeg-encoders PICTURE.png [RUNS]
use std::time::Instant;

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    let se: f64 = a.iter().zip(b).map(|(&x, &y)| { let d = x as f64 - y as f64; d * d }).sum();
    let mse = se / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

fn decode(jpeg: &[u8]) -> Vec<u8> {
    image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap().into_rgb8().into_raw()
}

fn median(mut v: Vec<f64>) -> f64 { v.sort_by(|a, b| a.partial_cmp(b).unwrap()); v[v.len() / 2] }

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let runs: usize = std::env::args().nth(2).map(|s| s.parse().unwrap()).unwrap_or(5);
    let img = image::open(&path).unwrap().into_rgb8();
    let (w, h) = img.dimensions();
    let px = img.into_raw();
    let encoders: Vec<(&str, Box<dyn Fn(&[u8], u8) -> Vec<u8>>)> = vec![
        ("image 0.25", Box::new(move |p: &[u8], q| {
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
                .encode(p, w, h, image::ExtendedColorType::Rgb8).unwrap();
            out
        })),
        ("jpeg-encoder 0.6", Box::new(move |p: &[u8], q| {
            let mut out = Vec::new();
            let mut e = jpeg_encoder::Encoder::new(&mut out, q);
            e.set_optimized_huffman_tables(true);
            e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
            e.encode(p, w as u16, h as u16, jpeg_encoder::ColorType::Rgb).unwrap();
            out
        })),
        ("libjpeg-turbo (mozjpeg JCP_FASTEST)", Box::new(move |p: &[u8], q| {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_fastest_defaults();
            c.set_size(w as usize, h as usize);
            c.set_quality(q as f32);
            c.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
            c.set_optimize_coding(true);
            let mut s = c.start_compress(Vec::new()).unwrap();
            s.write_scanlines(p).unwrap();
            s.finish().unwrap()
        })),
        ("mozjpeg (baseline)", Box::new(move |p: &[u8], q| {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_size(w as usize, h as usize);
            c.set_quality(q as f32);
            c.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
            c.set_optimize_coding(true);
            c.set_optimize_scans(false);
            let mut s = c.start_compress(Vec::new()).unwrap();
            s.write_scanlines(p).unwrap();
            s.finish().unwrap()
        })),
        ("mozjpeg (progressive)", Box::new(move |p: &[u8], q| {
            let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
            c.set_size(w as usize, h as usize);
            c.set_quality(q as f32);
            c.set_chroma_sampling_pixel_sizes((1, 1), (1, 1));
            c.set_optimize_coding(true);
            c.set_progressive_mode();
            let mut s = c.start_compress(Vec::new()).unwrap();
            s.write_scanlines(p).unwrap();
            s.finish().unwrap()
        })),
    ];
    println!("| encoder | quality | bytes | PSNR dB | median ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for q in [60u8, 75, 85, 92] {
        for (name, enc) in &encoders {
            let mut times = Vec::new();
            let mut out = Vec::new();
            for _ in 0..runs {
                let t = Instant::now();
                out = enc(&px, q);
                times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            let back = decode(&out);
            println!("| {name} | {q} | {} | {:.2} | {:.1} |", out.len(), psnr(&px, &back), median(times));
        }
    }
}
