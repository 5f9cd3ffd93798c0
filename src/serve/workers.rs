//! The fixed pool of threads that run probes.
//!
//! A worker runs one probe of one target at a time — not one request — and
//! reports the result to the event loop over a channel, waking it through
//! the eventfd. Coalescing happens in the loop (see cache.rs), so a burst
//! of a thousand `/all` requests occupies at most one worker per target,
//! and requests waiting for a probe hold no thread at all.

use std::io;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use super::cache::Checked;
use super::event_loop::Wake;
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

/// Starts `count` workers. The job queue holds one job per target, which
/// is all single flight can ever put in it.
pub fn start(
    count: usize,
    targets: &'static [Target],
    wake: &'static Wake,
) -> io::Result<(SyncSender<Job>, Receiver<Done>)> {
    let (jobs, queue) = mpsc::sync_channel::<Job>(targets.len());
    let queue = Arc::new(Mutex::new(queue));
    let (done, results) = mpsc::channel();
    for _ in 0..count {
        let (queue, done) = (queue.clone(), done.clone());
        thread::Builder::new()
            .name("probe".to_owned())
            .stack_size(STACK)
            .spawn(move || work(&queue, &done, targets, wake))?;
    }
    Ok((jobs, results))
}

fn work(
    queue: &Mutex<Receiver<Job>>,
    done: &Sender<Done>,
    targets: &'static [Target],
    wake: &Wake,
) {
    loop {
        // The lock is held while waiting: the idle workers queue up on the
        // mutex instead of the channel, which is the same thing.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let started = Instant::now();
        let result = targets[job.target].probe.attempt(job.deadline);
        let checked = Checked {
            error: result.err().map(|e| e.to_string()),
            at: Instant::now(),
            took: started.elapsed(),
        };
        if done
            .send(Done {
                target: job.target,
                checked,
            })
            .is_err()
        {
            return;
        }
        wake.wake();
    }
}
