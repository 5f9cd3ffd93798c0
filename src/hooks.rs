//! `--then-post`: tell a sidecar that the work is done.
//!
//! A Kubernetes Job with an Istio or Linkerd proxy never completes until the
//! proxy is told to quit (`POST localhost:15020/quitquitquit`). The hooks run
//! when the command exits, and also when the wait fails and the command never
//! starts, so the proxy is not left running either way. A signal that stops
//! rdy before the command starts skips them: it must exit within 100 ms, and
//! a pod being stopped signals its proxy too. They are logged and never
//! change rdy's exit code.

use std::time::Instant;

use crate::log;
use crate::probe::http::Http;
use crate::target;

/// Sends every hook in order, each bounded by its dial timeout.
pub fn post(hooks: &[Http]) {
    for hook in hooks {
        let url = hook.uri.to_string();
        let url = target::redacted(&url);
        match hook.send(Instant::now() + hook.dial_timeout) {
            Ok(response) if hook.status.contains(response.status().as_u16()) => {
                log::info(format_args!("Posted to {url}"))
                    .field("status", response.status().as_u16())
                    .emit();
            }
            Ok(response) => log::warn(format_args!("POST {url} was refused"))
                .field("status", response.status().as_u16())
                .emit(),
            Err(e) => log::warn(format_args!("POST {url} failed"))
                .field("error", e)
                .emit(),
        }
    }
}
