//! Re-encoding an input's audio stream (`--audio-codec`), for a container that cannot hold it
//! as it is or a smaller file: decode, convert to what the encoder takes (sample format, rate,
//! channel layout), cut into the encoder's frame size, encode. Audio is otherwise copied packet
//! for packet by the writer.

use ffmpeg::software::resampling;
use ffmpeg::{codec, ffi, frame, ChannelLayout, Packet, Rational, Rescale};
use ffmpeg_next as ffmpeg;

/// One audio stream on its way from the input's packets to the encoder's.
pub(crate) struct AudioTranscoder {
    decoder: ffmpeg::decoder::Audio,
    encoder: ffmpeg::encoder::Audio,
    /// Made for the first decoded frame's format, layout and rate.
    resampler: Option<resampling::Context>,
    /// Converted samples waiting to fill an encoder frame.
    fifo: *mut ffi::AVAudioFifo,
    /// Samples per encoder frame (0: any number).
    frame_size: usize,
    input_time_base: Rational,
    /// Taken off input timestamps (in `input_time_base`) so that the output starts at 0.
    offset: i64,
    /// The pts, in samples, of the next frame to encode; set by the first decoded frame.
    next_pts: Option<i64>,
    /// Index of the stream in the output.
    pub output_stream: usize,
    pub encoder_name: String,
}

// SAFETY: the FIFO is owned by the transcoder and only touched through `&mut self`.
unsafe impl Send for AudioTranscoder {}

impl Drop for AudioTranscoder {
    fn drop(&mut self) {
        if !self.fifo.is_null() {
            // SAFETY: allocated by av_audio_fifo_alloc, freed once.
            unsafe { ffi::av_audio_fifo_free(self.fifo) };
        }
    }
}

/// The sample rate closest to `wanted` among `rates` (any where the encoder gives no list).
fn closest_rate(codec: &ffmpeg::codec::Audio, wanted: u32) -> u32 {
    match codec.rates() {
        Some(rates) => rates
            .map(|r| r as u32)
            .min_by_key(|r| r.abs_diff(wanted))
            .unwrap_or(wanted),
        None => wanted,
    }
}

impl AudioTranscoder {
    /// Sets up `codec` for the input stream `stream`; `flags` are the output container's (for
    /// a global header). `offset` is the input time (in the stream's time base) that is 0 in
    /// the output.
    pub(crate) fn new(
        stream: &ffmpeg::format::stream::Stream,
        codec: ffmpeg::Codec,
        global_header: bool,
        offset: i64,
    ) -> Result<AudioTranscoder, String> {
        let name = codec.name().to_string();
        let decoder = codec::context::Context::from_parameters(stream.parameters())
            .and_then(|c| c.decoder().audio())
            .map_err(|e| format!("cannot decode the input's audio to re-encode it: {e}"))?;
        let audio = codec
            .audio()
            .map_err(|_| format!("'{name}' is not an audio encoder"))?;
        let mut encoder = codec::context::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(|e| format!("cannot set up encoder '{name}': {e}"))?;
        let rate = closest_rate(&audio, decoder.rate());
        let layout = match decoder.channel_layout() {
            l if l.channels() > 0 => l,
            _ => ChannelLayout::default(decoder.channels() as i32),
        };
        let format = audio
            .formats()
            .and_then(|mut f| {
                let all: Vec<_> = f.by_ref().collect();
                all.iter()
                    .copied()
                    .find(|f| *f == decoder.format())
                    .or(all.first().copied())
            })
            .unwrap_or(decoder.format());
        encoder.set_rate(rate as i32);
        encoder.set_channel_layout(layout);
        encoder.set_format(format);
        encoder.set_time_base(Rational::new(1, rate as i32));
        if global_header {
            // SAFETY: a plain field of the unopened context.
            unsafe { (*encoder.as_mut_ptr()).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32 };
        }
        let encoder = encoder
            .open_as(codec)
            .map_err(|e| format!("cannot open audio encoder '{name}': {e}"))?;
        let frame_size = encoder.frame_size() as usize;
        // SAFETY: allocates an empty FIFO for the encoder's format and channels.
        let fifo = unsafe {
            ffi::av_audio_fifo_alloc(format.into(), layout.channels(), frame_size.max(1) as i32)
        };
        if fifo.is_null() {
            return Err("out of memory for an audio buffer".into());
        }
        Ok(AudioTranscoder {
            decoder,
            encoder,
            resampler: None,
            fifo,
            frame_size,
            input_time_base: stream.time_base(),
            offset,
            next_pts: None,
            output_stream: 0,
            encoder_name: name,
        })
    }

    /// The encoder's parameters, for the output stream.
    pub(crate) fn encoder(&self) -> &ffmpeg::encoder::Audio {
        &self.encoder
    }

    /// The encoder's time base (1 / sample rate).
    pub(crate) fn time_base(&self) -> Rational {
        self.encoder.time_base()
    }

    /// Decodes `packet` and encodes what it holds; `out` takes every encoded packet, its
    /// timestamps in [`AudioTranscoder::time_base`].
    pub(crate) fn push(
        &mut self,
        packet: &Packet,
        out: &mut dyn FnMut(Packet) -> Result<(), String>,
    ) -> Result<(), String> {
        match self.decoder.send_packet(packet) {
            // A damaged packet is concealed, as the video decoder does.
            Ok(()) | Err(ffmpeg::Error::InvalidData) => {}
            Err(e) => return Err(format!("cannot decode the audio: {e}")),
        }
        self.decode(out)
    }

    /// Decodes, encodes and hands out everything still held; call once, at the end.
    pub(crate) fn finish(
        &mut self,
        out: &mut dyn FnMut(Packet) -> Result<(), String>,
    ) -> Result<(), String> {
        let _ = self.decoder.send_eof();
        self.decode(out)?;
        if let Some(mut resampler) = self.resampler.take() {
            loop {
                let mut rest =
                    frame::Audio::new(self.encoder.format(), 4096, self.encoder.channel_layout());
                match resampler.flush(&mut rest) {
                    Ok(_) if rest.samples() > 0 => self.queue(&rest)?,
                    _ => break,
                }
            }
        }
        self.encode_queued(true, out)?;
        self.encoder
            .send_eof()
            .map_err(|e| format!("cannot flush audio encoder '{}': {e}", self.encoder_name))?;
        self.drain(out)
    }

    fn decode(&mut self, out: &mut dyn FnMut(Packet) -> Result<(), String>) -> Result<(), String> {
        let mut decoded = frame::Audio::empty();
        loop {
            match self.decoder.receive_frame(&mut decoded) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(())
                }
                Err(e) => return Err(format!("cannot decode the audio: {e}")),
            }
            if self.next_pts.is_none() {
                let rate = Rational::new(1, self.encoder.rate() as i32);
                let start = decoded
                    .timestamp()
                    .map_or(0, |t| (t - self.offset).rescale(self.input_time_base, rate));
                self.next_pts = Some(start.max(0));
            }
            if decoded.channel_layout().channels() == 0 {
                decoded.set_channel_layout(ChannelLayout::default(decoded.channels() as i32));
            }
            let resampler = match &mut self.resampler {
                Some(r) => r,
                None => self.resampler.insert(
                    resampling::Context::get(
                        decoded.format(),
                        decoded.channel_layout(),
                        decoded.rate(),
                        self.encoder.format(),
                        self.encoder.channel_layout(),
                        self.encoder.rate(),
                    )
                    .map_err(|e| format!("cannot convert the audio for the encoder: {e}"))?,
                ),
            };
            // Room for everything the conversion can give: more samples than came in where the
            // rate goes up, and what the resampler held back from the frame before. (Left to
            // itself, the resampler's frame holds as many samples as came in, and a rate
            // change would pile the rest up inside it.)
            // SAFETY: asks the resampler how many samples `samples()` more input can make.
            let room = unsafe {
                ffi::swr_get_out_samples(resampler.as_mut_ptr(), decoded.samples() as i32)
            }
            .max(0) as usize;
            let mut converted = frame::Audio::new(
                self.encoder.format(),
                room.max(decoded.samples()) + 32,
                self.encoder.channel_layout(),
            );
            resampler
                .run(&decoded, &mut converted)
                .map_err(|e| format!("cannot convert the audio for the encoder: {e}"))?;
            if converted.samples() > 0 {
                self.queue(&converted)?;
            }
            self.encode_queued(false, out)?;
        }
    }

    fn queue(&mut self, converted: &frame::Audio) -> Result<(), String> {
        let planes: Vec<*mut u8> = (0..converted.planes())
            .map(|i| converted.data(i).as_ptr() as *mut u8)
            .collect();
        // SAFETY: `planes` point at the frame's sample planes, which hold `samples()` samples
        // in the FIFO's format and channel count (the resampler's output).
        let written = unsafe {
            ffi::av_audio_fifo_write(
                self.fifo,
                planes.as_ptr() as *mut *mut _,
                converted.samples() as i32,
            )
        };
        if written < converted.samples() as i32 {
            return Err("out of memory for the audio buffer".into());
        }
        Ok(())
    }

    /// Encodes whole frames from the FIFO; at the end (`last`) the rest too, as one short frame.
    fn encode_queued(
        &mut self,
        last: bool,
        out: &mut dyn FnMut(Packet) -> Result<(), String>,
    ) -> Result<(), String> {
        loop {
            // SAFETY: reading the FIFO's fill level.
            let held = unsafe { ffi::av_audio_fifo_size(self.fifo) } as usize;
            let size = if self.frame_size == 0 {
                held
            } else if held >= self.frame_size {
                self.frame_size
            } else if last {
                held
            } else {
                0
            };
            if size == 0 {
                return Ok(());
            }
            let mut chunk =
                frame::Audio::new(self.encoder.format(), size, self.encoder.channel_layout());
            chunk.set_rate(self.encoder.rate());
            let planes: Vec<*mut u8> = (0..chunk.planes())
                .map(|i| chunk.data_mut(i).as_mut_ptr())
                .collect();
            // SAFETY: the chunk's planes hold `size` samples in the FIFO's format.
            let read = unsafe {
                ffi::av_audio_fifo_read(self.fifo, planes.as_ptr() as *mut *mut _, size as i32)
            };
            if read < size as i32 {
                return Err("the audio buffer ran short".into());
            }
            let pts = self.next_pts.unwrap_or(0);
            chunk.set_pts(Some(pts));
            self.next_pts = Some(pts + size as i64);
            self.encoder
                .send_frame(&chunk)
                .map_err(|e| format!("audio encoder '{}' failed: {e}", self.encoder_name))?;
            self.drain(out)?;
        }
    }

    fn drain(&mut self, out: &mut dyn FnMut(Packet) -> Result<(), String>) -> Result<(), String> {
        loop {
            let mut packet = Packet::empty();
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => out(packet)?,
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(())
                }
                Err(e) => return Err(format!("audio encoder '{}' failed: {e}", self.encoder_name)),
            }
        }
    }
}

/// An audio encoder by name, or why there is none.
pub(crate) fn find_encoder(name: &str) -> Result<ffmpeg::Codec, String> {
    let codec = if name.is_empty() || name.contains('\0') {
        None
    } else {
        ffmpeg::encoder::find_by_name(name)
    };
    match codec {
        Some(c) if c.is_audio() => Ok(c),
        Some(_) => Err(format!("'{name}' is not an audio encoder")),
        None => Err(format!(
            "this FFmpeg has no audio encoder '{name}' (for example aac, libopus, libmp3lame, flac)"
        )),
    }
}
