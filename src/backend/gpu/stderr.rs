//! Keeps what GPU drivers write straight to the process's stderr (fd 2) off the terminal.
//!
//! Vulkan loaders and drivers print their own complaints (Mesa's `error: XDG_RUNTIME_DIR is
//! invalid or not set in the environment.`) with `fprintf(stderr, ...)`, past any logger: the
//! only hold on them is fd 2 itself. [`catch`] points fd 2 at a pipe while a piece of work runs
//! and hands back what was written, for the caller to log. It owns nothing else: it must run
//! while no other thread of ours writes to stderr (before progress bars and workers exist),
//! since their lines would be caught too.

/// Runs `work` with fd 2 pointed at a pipe; returns its result and what was written to stderr
/// meanwhile. Where stderr cannot be redirected, `work` runs as it is and nothing is caught.
#[cfg(unix)]
pub(crate) fn catch<T>(work: impl FnOnce() -> T) -> (T, String) {
    use std::io::Read;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::sync::Mutex;

    // Two redirections at once would each save the other's pipe as "the" stderr.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());

    let mut fds = [0; 2];
    // SAFETY: `pipe` fills the two descriptors on success; each is owned once, below.
    let (read_end, write_end, saved) = unsafe {
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            return (work(), String::new());
        }
        let read_end = std::fs::File::from_raw_fd(fds[0]);
        let write_end = OwnedFd::from_raw_fd(fds[1]);
        let saved = libc::dup(2);
        if saved < 0 {
            return (work(), String::new());
        }
        (read_end, write_end, OwnedFd::from_raw_fd(saved))
    };
    // The reader drains the pipe as it fills, so that a chatty driver never blocks on it.
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = { read_end }.read_to_end(&mut text);
        String::from_utf8_lossy(&text).into_owned()
    });
    /// Puts the original stderr back on fd 2, even if the work panics.
    struct Restore(Option<OwnedFd>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(saved) = &self.0 {
                // SAFETY: `saved` is the original stderr, open; dup2 closes the pipe's end on 2.
                unsafe { libc::dup2(saved.as_raw_fd(), 2) };
            }
        }
    }
    // SAFETY: both descriptors are open; fd 2 now refers to the pipe.
    let redirected = unsafe { libc::dup2(write_end.as_raw_fd(), 2) } >= 0;
    let restore = Restore(redirected.then_some(saved));
    // Only fd 2 holds the pipe's write end now: restoring it ends the reader's read.
    drop(write_end);
    let result = work();
    drop(restore);
    let text = reader.join().unwrap_or_default();
    (result, text)
}

#[cfg(not(unix))]
pub(crate) fn catch<T>(work: impl FnOnce() -> T) -> (T, String) {
    (work(), String::new())
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn catches_what_is_written_to_fd_2_and_restores_it() {
        let (value, text) = super::catch(|| {
            let line = b"from the driver\n";
            // SAFETY: writes a buffer to fd 2, as a C library would.
            unsafe { libc::write(2, line.as_ptr().cast(), line.len()) };
            7
        });
        assert_eq!(value, 7);
        assert_eq!(text, "from the driver\n");
        // Restored: fd 2 is a different file from a fresh pipe's, and writable.
        // SAFETY: an empty write to fd 2.
        assert_eq!(unsafe { libc::write(2, b"".as_ptr().cast(), 0) }, 0);
    }
}
