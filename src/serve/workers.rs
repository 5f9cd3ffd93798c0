//! The fixed pool of threads that run probes.
//!
//! A worker runs one probe of one target at a time — not one request — and
//! reports the result to the event loop over a channel, waking it through
//! the eventfd. Coalescing happens in the loop (see cache.rs), so a burst
//! of a thousand `/all` requests occupies at most one worker per target,
//! and requests waiting for a probe hold no thread at all.

use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Instant;

use super::cache::Checked;
use super::wake::Wake;
use crate::target::Target;

/// Stack for a worker: a TLS handshake needs a few tens of KiB; the 2 MiB
/// default only inflates the address space.
const STACK: usize = 512 * 1024;

/// Probe one target by a deadline.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    /// Index into the targets.
    pub target: usize,
    /// When the attempt must have ended.
    pub deadline: Instant,
}

/// A finished probe.
#[derive(Debug)]
pub struct Done {
    /// Index into the targets.
    pub target: usize,
    /// Its result.
    pub checked: Checked,
}

/// A queue between threads: a mutex around a deque and a condvar for the
/// threads that wait on it. Smaller in the binary than two of std's
/// channels, and all the pool needs.
#[derive(Debug)]
pub struct Queue<T> {
    items: Mutex<VecDeque<T>>,
    ready: Condvar,
}

impl<T> Queue<T> {
    /// An empty queue.
    const fn new() -> Queue<T> {
        Queue {
            items: Mutex::new(VecDeque::new()),
            ready: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<T>> {
        // A panic aborts the process, so the lock is never poisoned.
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an item and wakes one waiting thread.
    pub fn push(&self, item: T) {
        self.lock().push_back(item);
        self.ready.notify_one();
    }

    /// Takes the oldest item, waiting for one.
    fn pop(&self) -> T {
        let mut items = self.lock();
        loop {
            if let Some(item) = items.pop_front() {
                return item;
            }
            items = self
                .ready
                .wait(items)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Takes every item there is, without waiting.
    pub fn take_all(&self) -> VecDeque<T> {
        std::mem::take(&mut *self.lock())
    }
}

/// The pool's two queues: probes to run, and their results for the loop.
#[derive(Debug)]
pub struct Pool {
    /// Probes to run; single flight keeps at most one per target in it.
    pub jobs: Queue<Job>,
    /// Finished probes, taken by the loop when the eventfd wakes it.
    pub done: Queue<Done>,
}

/// Starts `count` workers.
pub fn start(
    count: usize,
    targets: &'static [Target],
    wake: &'static Wake,
) -> io::Result<&'static Pool> {
    let pool: &'static Pool = Box::leak(Box::new(Pool {
        jobs: Queue::new(),
        done: Queue::new(),
    }));
    for _ in 0..count {
        thread::Builder::new()
            .name("probe".to_owned())
            .stack_size(STACK)
            .spawn(move || work(pool, targets, wake))?;
    }
    Ok(pool)
}

fn work(pool: &Pool, targets: &'static [Target], wake: &Wake) -> ! {
    loop {
        let job = pool.jobs.pop();
        let started = Instant::now();
        let result = targets[job.target].probe.attempt(job.deadline);
        let checked = Checked {
            fatal: result.as_ref().is_err_and(|e| e.is_fatal()),
            error: result.err().map(|e| e.to_string()),
            at: Instant::now(),
            took: started.elapsed(),
        };
        pool.done.push(Done {
            target: job.target,
            checked,
        });
        wake.wake();
    }
}
