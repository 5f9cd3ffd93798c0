//! Plain-HTTP requests through a forward proxy.
//!
//! ureq reaches every target through a proxy with a `CONNECT` tunnel. For
//! `http://` targets that is not what Go clients (PortPatrol) do, and common
//! proxies refuse it: squid's stock configuration denies `CONNECT` to any port
//! but 443. A proxy expects the request itself, with the target in absolute
//! form (RFC 9112 §3.2.2): `GET http://backend:8080/health HTTP/1.1`.
//!
//! So for `http://` targets the agent connects to the proxy (see
//! [`super::agent`]) and this connector rewrites the request line of each new
//! connection in place, adding `Proxy-Authorization` when the proxy URL
//! carries credentials.

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// Wraps each connection in an [`AbsoluteFormTransport`].
#[derive(Debug, Clone)]
pub struct AbsoluteForm {
    /// `Basic …` credentials for the proxy, if its URL had any.
    pub proxy_authorization: Option<String>,
}

impl<In: Transport> Connector<In> for AbsoluteForm {
    type Out = AbsoluteFormTransport<In>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let origin = format!(
            "{}://{}",
            details.uri.scheme_str().unwrap_or("http"),
            details.uri.authority().map_or("", |a| a.as_str())
        );
        Ok(chained.map(|inner| AbsoluteFormTransport {
            inner,
            origin,
            proxy_authorization: self.proxy_authorization.clone(),
            rewritten: false,
        }))
    }
}

/// A connection whose first request head is rewritten for a proxy.
#[derive(Debug)]
pub struct AbsoluteFormTransport<T> {
    inner: T,
    origin: String,
    proxy_authorization: Option<String>,
    rewritten: bool,
}

impl<T: Transport> Transport for AbsoluteFormTransport<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let amount = if self.rewritten {
            amount
        } else {
            self.rewritten = true;
            let buf = self.inner.buffers().output();
            rewrite_head(
                buf,
                amount,
                &self.origin,
                self.proxy_authorization.as_deref(),
            )
            .ok_or_else(|| {
                ureq::Error::Io(std::io::Error::other(
                    "request head could not be rewritten for the proxy",
                ))
            })?
        };
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }
}

/// Rewrites the request head in `buf[..len]` in place: `origin` goes in
/// front of the origin-form target, and a `Proxy-Authorization` field after
/// the request line. Returns the new length, or `None` if the head is not
/// an origin-form request or the buffer is too small.
pub fn rewrite_head(
    buf: &mut [u8],
    len: usize,
    origin: &str,
    proxy_authorization: Option<&str>,
) -> Option<usize> {
    let head = buf.get(..len)?;
    // The target is looked for on the request line only: a space found
    // after its CRLF would put the line end before the target (a slice
    // panic, found by fuzzing).
    let line = head.windows(2).position(|w| w == b"\r\n")?;
    let line_end = line + 2;
    let space = head[..line].iter().position(|&b| b == b' ')?;
    if head.get(space + 1) != Some(&b'/') {
        return None;
    }
    let mut out = Vec::with_capacity(len + origin.len() + 64);
    out.extend_from_slice(&head[..=space]);
    out.extend_from_slice(origin.as_bytes());
    out.extend_from_slice(&head[space + 1..line_end]);
    if let Some(credentials) = proxy_authorization {
        out.extend_from_slice(b"Proxy-Authorization: ");
        out.extend_from_slice(credentials.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(&head[line_end..]);
    buf.get_mut(..out.len())?.copy_from_slice(&out);
    Some(out.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_origin_and_credentials() {
        let head = b"GET /health?x=1 HTTP/1.1\r\nhost: backend:8080\r\n\r\n";
        let mut buf = [0u8; 256];
        buf[..head.len()].copy_from_slice(head);
        let len = rewrite_head(
            &mut buf,
            head.len(),
            "http://backend:8080",
            Some("Basic dTpw"),
        )
        .unwrap();
        assert_eq!(
            std::str::from_utf8(&buf[..len]).unwrap(),
            "GET http://backend:8080/health?x=1 HTTP/1.1\r\nProxy-Authorization: Basic dTpw\r\n\
             host: backend:8080\r\n\r\n"
        );
    }

    #[test]
    fn refuses_what_it_cannot_rewrite() {
        let mut small = *b"GET / HTTP/1.1\r\n\r\n";
        assert_eq!(rewrite_head(&mut small, 18, "http://a", None), None);
        let mut odd = *b"GET http://x/ HTTP/1.1\r\n\r\n.......................";
        assert_eq!(rewrite_head(&mut odd, 26, "http://a", None), None);
        let mut empty = [0u8; 8];
        assert_eq!(rewrite_head(&mut empty, 0, "http://a", None), None);
        assert_eq!(rewrite_head(&mut empty, 100, "http://a", None), None);
    }

    #[test]
    fn a_line_break_before_the_target_is_refused_not_a_panic() {
        // Found by fuzzing (fuzz/README.md): the first space comes after
        // the first CRLF.
        let mut buf = *b"\r\n /x HTTP/1.1\r\n\r\n..........";
        assert_eq!(rewrite_head(&mut buf, 20, "http://a", None), None);
        let mut buf = *b"GET\r\n /x\r\n\r\n..........";
        assert_eq!(rewrite_head(&mut buf, 13, "http://a", None), None);
    }
}
