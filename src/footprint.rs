//! The supervisor's memory footprint while the application runs.
//!
//! Almost all of a waiting rdy's resident set is its own code and constant
//! data, mapped from the binary: on a page fault Linux maps not one page but
//! the cached pages around it (`fault_around_bytes`, 64 KiB by default), so
//! after parsing, probing and spawning nearly the whole binary is mapped,
//! although the supervisor from then on only runs `sigwait`, `kill` and
//! `waitpid`. Unmapping those pages once the child runs lets the page cache
//! age them out, and makes `ps` and `VmRSS` show what the supervisor really
//! holds (a few dozen KiB of heap and stack).

use std::ffi::{c_int, c_void};
use std::ptr::NonNull;

use nix::sys::mman::{MmapAdvise, madvise};

const PAGE: usize = 4096;

/// Drops the executable's headers, constant data and code from the
/// resident set. They are read back from the page cache when next used.
///
/// Only loadable segments without write permission are touched (the ELF
/// headers, .rodata, .text): rdy has no text relocations, so every page of
/// them is a clean private file mapping, which `MADV_DONTNEED` repopulates
/// from the file (madvise(2)). RELRO and data sit in the writable segment
/// and are left alone. Best effort: the footprint is not worth an error.
pub fn release_code() {
    // SAFETY: the callback only reads the program headers libc hands it.
    unsafe { libc::dl_iterate_phdr(Some(release_segments), std::ptr::null_mut()) };
}

/// `dl_iterate_phdr` callback; the executable is the first object listed,
/// so it stops there (non-zero).
unsafe extern "C" fn release_segments(
    info: *mut libc::dl_phdr_info,
    _size: usize,
    _data: *mut c_void,
) -> c_int {
    // SAFETY: libc passes a valid `dl_phdr_info` whose `dlpi_phdr` points
    // at `dlpi_phnum` program headers, for the duration of the call.
    let (bias, headers) = unsafe {
        let info = &*info;
        let headers = std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
        (info.dlpi_addr as usize, headers)
    };
    for segment in headers
        .iter()
        .filter(|h| h.p_type == libc::PT_LOAD && h.p_flags & libc::PF_W == 0)
    {
        let start = bias + segment.p_vaddr as usize;
        release(
            start & !(PAGE - 1),
            (start + segment.p_memsz as usize).next_multiple_of(PAGE),
        );
    }
    1
}

/// `MADV_DONTNEED` on [start, end), page aligned, within one segment.
fn release(start: usize, end: usize) {
    let Some(addr) = NonNull::new(start as *mut c_void) else {
        return;
    };
    if end > start {
        // SAFETY: the range is a read-only segment of this executable that
        // is never written (see `release_code`); no contents change.
        let _ = unsafe { madvise(addr, end - start, MmapAdvise::MADV_DONTNEED) };
    }
}

/// Parks the calling thread for good, for a thread whose work is done in a
/// process that lives on. Ending the thread would run Rust's and libc's
/// thread teardown, code spread over the whole binary, and fault much of
/// what [`release_code`] released back in; parking runs one `futex` call.
pub fn idle() -> ! {
    loop {
        std::thread::park();
    }
}
