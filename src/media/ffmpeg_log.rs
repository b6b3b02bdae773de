//! FFmpeg's log, routed through `tracing` instead of printed: its lines show with `-v`, and the
//! error lines about an input are kept ([`Remarks`]) so that a failure's message can say what
//! FFmpeg said ("moov atom not found").
//!
//! FFmpeg calls [`callback`] from whichever thread logs, its decoders' frame threads included:
//! the callback never prints, holds a lock only to file an error line, and never panics. It
//! owns FFmpeg's global log level and callback; nothing else in tessera may set them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use ffmpeg_next::ffi;

/// How many error lines an input keeps: the last few explain a failure; older ones are noise.
const KEPT: usize = 3;

/// The error lines heard about each listened-to input, by its tag.
static HEARD: Mutex<BTreeMap<usize, VecDeque<String>>> = Mutex::new(BTreeMap::new());

thread_local! {
    /// The input this thread is working for, while a [`Listening`] guard lives (0: none).
    static CURRENT: Cell<usize> = const { Cell::new(0) };
    /// FFmpeg's "the next piece starts a line" state, which `av_log_format_line2` keeps.
    static PRINT_PREFIX: Cell<c_int> = const { Cell::new(1) };
    /// A line FFmpeg logged in pieces, until its newline: its level, its input's tag, its text.
    static PARTIAL: RefCell<(c_int, usize, String)> = const { RefCell::new((0, 0, String::new())) };
}

/// Installs the callback, and sets FFmpeg's level from what the `tracing` subscriber shows, so
/// that FFmpeg formats no line nobody reads. Error lines are always formatted: they are kept.
pub(crate) fn install() {
    use tracing::level_filters::LevelFilter;
    let level = match LevelFilter::current() {
        LevelFilter::TRACE => ffi::AV_LOG_VERBOSE,
        LevelFilter::DEBUG => ffi::AV_LOG_WARNING,
        _ => ffi::AV_LOG_ERROR,
    };
    // SAFETY: sets two globals FFmpeg reads on every log call; the callback is a plain
    // function that lives as long as the program.
    unsafe {
        ffi::av_log_set_level(level);
        install_callback();
    }
}

#[cfg(all(target_arch = "x86_64", unix))]
unsafe fn install_callback() {
    ffi::av_log_set_callback(Some(callback));
}

/// Elsewhere `va_list` has another shape in the bindings: FFmpeg is kept silent instead.
#[cfg(not(all(target_arch = "x86_64", unix)))]
unsafe fn install_callback() {
    ffi::av_log_set_level(ffi::AV_LOG_QUIET);
}

/// FFmpeg's levels as `tracing`'s, one step down, since FFmpeg's errors are seldom tessera's:
/// a decoder concealing a broken slice logs an error and the run goes on. Errors (and worse)
/// become info (shown with `-v`), warnings debug (`-vv`), the rest trace.
fn emit(level: c_int, line: &str) {
    if level <= ffi::AV_LOG_ERROR {
        tracing::info!("ffmpeg: {line}");
    } else if level <= ffi::AV_LOG_WARNING {
        tracing::debug!("ffmpeg: {line}");
    } else {
        tracing::trace!("ffmpeg: {line}");
    }
}

/// FFmpeg's log callback. On x86-64 System V the `va_list` arrives as a pointer to its one
/// `__va_list_tag`, which `av_log_format_line2` consumes once, here, as `vsnprintf` would.
#[cfg(all(target_arch = "x86_64", unix))]
unsafe extern "C" fn callback(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    args: *mut ffi::__va_list_tag,
) {
    // The high bits may carry a colour (AV_LOG_C).
    let level = level & 0xff;
    if level > ffi::av_log_get_level() {
        return;
    }
    let Ok(prefix) = PRINT_PREFIX.try_with(|p| p.as_ptr()) else {
        return;
    };
    let mut text = [0 as c_char; 1024];
    // SAFETY: FFmpeg's arguments go back to FFmpeg as they came, with a buffer of the length
    // given and this thread's prefix state; the result is NUL-terminated (cut if too long).
    let piece = unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            args,
            text.as_mut_ptr(),
            text.len() as c_int,
            prefix,
        );
        CStr::from_ptr(text.as_ptr()).to_string_lossy()
    };
    // SAFETY: `avcl` is NULL or a struct whose first field is its AVClass, as av_log requires.
    let tag = unsafe { tag_of(avcl) };
    // Nothing may unwind into C.
    let _ = std::panic::catch_unwind(|| heard(level, tag, &piece));
}

/// The input a log call is about: a codec context's tag (the decoder's frame threads log from
/// threads of their own, on copies of the context that keep its `opaque`), else the thread's.
unsafe fn tag_of(avcl: *mut c_void) -> usize {
    let current = CURRENT.try_with(Cell::get).unwrap_or(0);
    if avcl.is_null() {
        return current;
    }
    let class = *(avcl as *const *const ffi::AVClass);
    if class.is_null() || (*class).class_name.is_null() {
        return current;
    }
    if CStr::from_ptr((*class).class_name).to_bytes() == b"AVCodecContext" {
        let tag = (*(avcl as *const ffi::AVCodecContext)).opaque as usize;
        if tag != 0 {
            return tag;
        }
    }
    current
}

/// A piece of a line: logged and kept once the line is whole.
fn heard(level: c_int, tag: usize, piece: &str) {
    let whole = PARTIAL.try_with(|partial| {
        let mut partial = partial.borrow_mut();
        if partial.2.is_empty() {
            (partial.0, partial.1) = (level, tag);
        }
        partial.2.push_str(piece);
        partial
            .2
            .ends_with('\n')
            .then(|| (partial.0, partial.1, std::mem::take(&mut partial.2)))
    });
    let Ok(Some((level, tag, line))) = whole else {
        return;
    };
    let line = tidy(line.trim_end());
    if line.is_empty() {
        return;
    }
    emit(level, &line);
    if level <= ffi::AV_LOG_ERROR && tag != 0 {
        let mut heard = HEARD.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lines) = heard.get_mut(&tag) {
            let message = message_of(&line).to_string();
            if lines.back() != Some(&message) {
                if lines.len() == KEPT {
                    lines.pop_front();
                }
                lines.push_back(message);
            }
        }
    }
}

/// A line without the contexts' addresses: `[h264 @ 0x55d0c8] x` becomes `[h264] x`.
fn tidy(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find(" @ 0x") {
        let Some(length) = rest[start..].find(']') else {
            break;
        };
        let (kept, address) = (&rest[..start], &rest[start + 5..start + length]);
        if address.bytes().all(|b| b.is_ascii_hexdigit()) {
            out.push_str(kept);
            rest = &rest[start + length..];
        } else {
            out.push_str(&rest[..start + 5]);
            rest = &rest[start + 5..];
        }
    }
    out.push_str(rest);
    out
}

/// A tidy line's message, after its `[context]` prefixes and without a closing full stop (the
/// messages are joined with semicolons).
fn message_of(line: &str) -> &str {
    let mut rest = line;
    while rest.starts_with('[') {
        match rest.find("] ") {
            Some(end) => rest = &rest[end + 2..],
            None => break,
        }
    }
    rest.trim().trim_end_matches('.')
}

/// Listens to what FFmpeg says about one input: the error lines logged on a thread inside
/// [`Remarks::listen`], and by a codec context given to [`Remarks::tag_codec`], whatever thread
/// logs them. Forgets them when dropped.
pub(crate) struct Remarks {
    tag: usize,
}

/// The thread listens for a [`Remarks`] while this lives.
pub(crate) struct Listening {
    previous: usize,
}

impl Remarks {
    pub(crate) fn new() -> Remarks {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let tag = NEXT.fetch_add(1, Ordering::Relaxed);
        HEARD
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tag, VecDeque::new());
        Remarks { tag }
    }

    /// Lines logged on this thread belong to this input until the guard is dropped.
    pub(crate) fn listen(&self) -> Listening {
        Listening {
            previous: CURRENT.with(|c| c.replace(self.tag)),
        }
    }

    /// Lines a codec context logs (on any thread) belong to this input.
    ///
    /// # Safety
    /// `ctx` is a valid codec context whose `opaque` no one else uses.
    pub(crate) unsafe fn tag_codec(&self, ctx: *mut ffi::AVCodecContext) {
        (*ctx).opaque = self.tag as *mut c_void;
    }

    /// True when error lines were heard since the last [`Remarks::take`].
    pub(crate) fn any(&self) -> bool {
        let heard = HEARD.lock().unwrap_or_else(|e| e.into_inner());
        heard.get(&self.tag).is_some_and(|lines| !lines.is_empty())
    }

    /// The error lines heard since the last call, oldest first, joined with "; ".
    pub(crate) fn take(&self) -> Option<String> {
        let mut heard = HEARD.lock().unwrap_or_else(|e| e.into_inner());
        let lines = std::mem::take(heard.get_mut(&self.tag)?);
        (!lines.is_empty()).then(|| Vec::from(lines).join("; "))
    }
}

impl Drop for Remarks {
    fn drop(&mut self) {
        HEARD
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.tag);
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_lose_their_addresses_and_prefixes() {
        let line = tidy("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x563c1aa4c640] moov atom not found");
        assert_eq!(line, "[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found");
        assert_eq!(message_of(&line), "moov atom not found");
        let line = tidy("[h264 @ 0x55f5] [x @ 0x1] Invalid NAL unit size (8054 > 346).");
        assert_eq!(line, "[h264] [x] Invalid NAL unit size (8054 > 346).");
        assert_eq!(message_of(&line), "Invalid NAL unit size (8054 > 346)");
        assert_eq!(tidy("no prefix [a] @ 0x"), "no prefix [a] @ 0x");
    }

    #[test]
    fn an_input_keeps_its_last_error_lines() {
        let remarks = Remarks::new();
        let other = Remarks::new();
        {
            let _listening = remarks.listen();
            for n in 0..5 {
                heard(
                    ffi::AV_LOG_ERROR,
                    remarks.tag,
                    &format!("[demuxer @ 0x1] line {n}\n"),
                );
            }
            heard(ffi::AV_LOG_ERROR, remarks.tag, "[a] in ");
            heard(ffi::AV_LOG_ERROR, remarks.tag, "pieces\n");
            heard(ffi::AV_LOG_WARNING, remarks.tag, "a warning is not kept\n");
            heard(ffi::AV_LOG_ERROR, other.tag, "another input's\n");
        }
        assert_eq!(remarks.take().as_deref(), Some("line 3; line 4; in pieces"));
        assert_eq!(remarks.take(), None);
        assert_eq!(other.take().as_deref(), Some("another input's"));
        assert_eq!(CURRENT.with(Cell::get), 0);
    }
}
