//! Text subtitles converted for a container that cannot hold them as they are: SubRip or ASS
//! into MP4/MOV (as `mov_text`) or WebM (as WebVTT), as FFmpeg converts them. Subtitles that
//! are pictures (DVD, Blu-ray) cannot become text; the writer leaves those out and says so.

use ffmpeg::{codec, ffi, Packet, Rational, Rescale};
use ffmpeg_next as ffmpeg;

/// Microseconds: the clock of decoded subtitles (FFmpeg's `AV_TIME_BASE`).
const MICROS: Rational = Rational(1, 1_000_000);
/// Milliseconds: the clock of a subtitle's display times.
const MILLIS: Rational = Rational(1, 1000);
/// The most bytes one encoded subtitle takes (FFmpeg's own bound in its command-line tool).
const MAX_PACKET: usize = 1 << 20;

/// True when the codec's subtitles are text (SubRip, ASS, WebVTT, mov_text, …), which can be
/// converted to another text format.
pub(crate) fn is_text(id: ffi::AVCodecID) -> bool {
    // SAFETY: looks up FFmpeg's static descriptor table.
    let descriptor = unsafe { ffi::avcodec_descriptor_get(id) };
    // SAFETY: a non-null descriptor is a valid static struct.
    !descriptor.is_null() && unsafe { (*descriptor).props } & ffi::AV_CODEC_PROP_TEXT_SUB != 0
}

/// One subtitle stream on its way from the input's packets to another text format.
pub(crate) struct SubtitleTranscoder {
    decoder: ffmpeg::decoder::Subtitle,
    encoder: ffmpeg::encoder::subtitle::Encoder,
    input_time_base: Rational,
    /// Taken off input timestamps (in `input_time_base`) so that the output starts at 0.
    offset: i64,
    buffer: Vec<u8>,
    /// Index of the stream in the output.
    pub output_stream: usize,
}

impl SubtitleTranscoder {
    /// Sets up `codec` (a text subtitle encoder) for the input stream `stream`. `offset` is the
    /// input time (in the stream's time base) that is 0 in the output.
    pub(crate) fn new(
        stream: &ffmpeg::format::stream::Stream,
        codec: ffmpeg::Codec,
        offset: i64,
    ) -> Result<SubtitleTranscoder, String> {
        let name = codec.name().to_string();
        let mut context = codec::context::Context::from_parameters(stream.parameters())
            .map_err(|e| format!("cannot read the input's subtitles: {e}"))?;
        // SAFETY: a plain field of the context just made; the decoder dates packets by it.
        unsafe { (*context.as_mut_ptr()).pkt_timebase = stream.time_base().into() };
        let decoder = context
            .decoder()
            .subtitle()
            .map_err(|e| format!("cannot decode the input's subtitles to convert them: {e}"))?;
        let mut encoder = codec::context::Context::new_with_codec(codec)
            .encoder()
            .subtitle()
            .map_err(|e| format!("cannot set up the subtitle encoder '{name}': {e}"))?;
        // SAFETY: plain fields of the new encoder context. The decoder's header (the ASS
        // styles every text subtitle decoder makes) is copied into a buffer FFmpeg owns and
        // frees with the context, as the encoders expect.
        unsafe {
            let enc = encoder.as_mut_ptr();
            (*enc).time_base = MICROS.into();
            let dec = decoder.as_ptr();
            let size = (*dec).subtitle_header_size;
            if !(*dec).subtitle_header.is_null() && size > 0 {
                let header = ffi::av_mallocz(size as usize + 1) as *mut u8;
                if header.is_null() {
                    return Err("out of memory for the subtitle header".into());
                }
                std::ptr::copy_nonoverlapping((*dec).subtitle_header, header, size as usize);
                (*enc).subtitle_header = header;
                (*enc).subtitle_header_size = size;
            }
        }
        let encoder = encoder
            .open_as(codec)
            .map_err(|e| format!("cannot open the subtitle encoder '{name}': {e}"))?;
        Ok(SubtitleTranscoder {
            decoder,
            encoder,
            input_time_base: stream.time_base(),
            offset,
            buffer: vec![0; MAX_PACKET],
            output_stream: 0,
        })
    }

    /// The encoder, for the output stream's parameters.
    pub(crate) fn encoder(&self) -> &ffmpeg::encoder::subtitle::Encoder {
        &self.encoder
    }

    /// The time base of the packets this transcoder makes.
    pub(crate) fn time_base(&self) -> Rational {
        MICROS
    }

    /// Converts one input packet, handing the packet it makes (if any) to `out`.
    pub(crate) fn push(
        &mut self,
        packet: &Packet,
        out: &mut dyn FnMut(Packet) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut subtitle = ffmpeg::Subtitle::new();
        let got = self
            .decoder
            .decode(packet, &mut subtitle)
            .map_err(|e| format!("cannot decode a subtitle: {e}"))?;
        if !got {
            return Ok(());
        }
        let result = self.encode(packet, &mut subtitle, out);
        // SAFETY: frees what the decoder put in the subtitle, once.
        unsafe { ffi::avsubtitle_free(subtitle.as_mut_ptr()) };
        result
    }

    fn encode(
        &mut self,
        packet: &Packet,
        subtitle: &mut ffmpeg::Subtitle,
        out: &mut dyn FnMut(Packet) -> Result<(), String>,
    ) -> Result<(), String> {
        let Some(pts) = packet.pts().or(packet.dts()) else {
            return Ok(());
        };
        let start = (pts - self.offset).rescale(self.input_time_base, MICROS);
        if start < 0 {
            // Before the kept part (a trim's start): left out, as its picture is.
            return Ok(());
        }
        // The display times made relative to the packet's time, as the encoders expect; a
        // decoder that gives no end takes the packet's duration.
        let shown = i64::from(subtitle.start());
        let mut end = i64::from(subtitle.end());
        if end <= shown && packet.duration() > 0 {
            end = shown + packet.duration().rescale(self.input_time_base, MILLIS);
        }
        subtitle.set_pts(Some(start + shown.rescale(MILLIS, MICROS)));
        subtitle.set_start(0);
        subtitle.set_end((end - shown).clamp(0, u32::MAX as i64) as u32);
        // SAFETY: the encoder writes at most the buffer's length and returns the size written.
        let size = unsafe {
            ffi::avcodec_encode_subtitle(
                self.encoder.as_mut_ptr(),
                self.buffer.as_mut_ptr(),
                self.buffer.len() as i32,
                subtitle.as_ptr(),
            )
        };
        if size < 0 {
            return Err(format!(
                "cannot convert a subtitle: {}",
                ffmpeg::Error::from(size)
            ));
        }
        if size == 0 {
            return Ok(());
        }
        let mut converted = Packet::copy(&self.buffer[..size as usize]);
        let pts = subtitle.pts().unwrap_or(start);
        converted.set_pts(Some(pts));
        converted.set_dts(Some(pts));
        converted.set_duration(i64::from(subtitle.end()).rescale(MILLIS, MICROS));
        out(converted)
    }
}
