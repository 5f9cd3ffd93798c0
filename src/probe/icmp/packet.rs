//! ICMP echo messages (RFC 792 for IPv4, RFC 4443 §4 for IPv6): building
//! requests and recognising replies in whatever a socket hands back.
//!
//! Parsing never panics; every packet that is not the reply we wait for is a
//! [`Skip`] and the caller keeps reading.

/// Which ICMP the packet belongs to; the type numbers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// ICMP over IPv4.
    V4,
    /// ICMPv6.
    V6,
}

impl Family {
    fn request_type(self) -> u8 {
        match self {
            Family::V4 => 8,
            Family::V6 => 128,
        }
    }

    fn reply_type(self) -> u8 {
        match self {
            Family::V4 => 0,
            Family::V6 => 129,
        }
    }
}

/// The fields of an echo request or reply that identify it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Echo<'a> {
    /// Identifier; the kernel replaces it on unprivileged datagram sockets.
    pub ident: u16,
    /// Sequence number.
    pub seq: u16,
    /// Data echoed back unchanged by the peer.
    pub payload: &'a [u8],
}

/// Why a received packet is not an echo reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Too short for the headers it claims.
    Truncated,
    /// The IPv4 header is malformed or does not carry ICMP.
    NotIcmp,
    /// Some other ICMP type (our own echo request on loopback, an error, ...).
    NotEchoReply(u8),
    /// The ICMPv4 checksum does not verify.
    BadChecksum,
}

const ICMP_HEADER: usize = 8;

/// Encodes an echo request. The ICMPv4 checksum is computed here; for
/// ICMPv6 the kernel computes it over the pseudo-header (RFC 3542 §3.1), so
/// the field is left zero.
pub fn encode_request(family: Family, echo: &Echo<'_>) -> Vec<u8> {
    let mut packet = Vec::with_capacity(ICMP_HEADER + echo.payload.len());
    packet.extend_from_slice(&[family.request_type(), 0, 0, 0]);
    packet.extend_from_slice(&echo.ident.to_be_bytes());
    packet.extend_from_slice(&echo.seq.to_be_bytes());
    packet.extend_from_slice(echo.payload);
    if family == Family::V4 {
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    packet
}

/// The Internet checksum (RFC 1071): ones' complement of the ones'
/// complement sum of 16-bit words, an odd last byte padded with zero.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut words = data.chunks_exact(2);
    for word in &mut words {
        sum += u32::from(u16::from_be_bytes([word[0], word[1]]));
    }
    if let [last] = words.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Reads an echo reply out of a received buffer. Raw IPv4 sockets deliver
/// the IP header too (`ip_header`); datagram sockets and all ICMPv6 sockets
/// deliver the ICMP message alone.
pub fn parse_reply(buf: &[u8], family: Family, ip_header: bool) -> Result<Echo<'_>, Skip> {
    let icmp = if ip_header {
        strip_ipv4_header(buf)?
    } else {
        buf
    };
    if icmp.len() < ICMP_HEADER {
        return Err(Skip::Truncated);
    }
    if icmp[0] != family.reply_type() || icmp[1] != 0 {
        return Err(Skip::NotEchoReply(icmp[0]));
    }
    if family == Family::V4 && checksum(icmp) != 0 {
        return Err(Skip::BadChecksum);
    }
    Ok(Echo {
        ident: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: &icmp[ICMP_HEADER..],
    })
}

/// Returns the ICMP message inside an IPv4 packet (RFC 791 §3.1).
fn strip_ipv4_header(buf: &[u8]) -> Result<&[u8], Skip> {
    let first = *buf.first().ok_or(Skip::Truncated)?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 {
        return Err(Skip::NotIcmp);
    }
    if buf.len() < header_len {
        return Err(Skip::Truncated);
    }
    const PROTOCOL_ICMP: u8 = 1;
    if buf[9] != PROTOCOL_ICMP {
        return Err(Skip::NotIcmp);
    }
    Ok(&buf[header_len..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_rfc1071_example() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn a_request_with_its_checksum_verifies_to_zero() {
        let echo = Echo {
            ident: 0x1234,
            seq: 7,
            payload: b"rdy-nonce",
        };
        let packet = encode_request(Family::V4, &echo);
        assert_eq!(packet[0], 8);
        assert_eq!(checksum(&packet), 0);
        // Our own request, seen on a raw socket, is skipped.
        assert_eq!(
            parse_reply(&packet, Family::V4, false),
            Err(Skip::NotEchoReply(8))
        );
    }

    fn reply_v4(echo: &Echo<'_>) -> Vec<u8> {
        let mut packet = encode_request(Family::V4, echo);
        packet[0] = 0;
        packet[2..4].copy_from_slice(&[0, 0]);
        let sum = checksum(&packet);
        packet[2..4].copy_from_slice(&sum.to_be_bytes());
        packet
    }

    #[test]
    fn parses_a_reply_behind_an_ipv4_header() {
        let echo = Echo {
            ident: 9,
            seq: 300,
            payload: b"abc",
        };
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        ip.extend(reply_v4(&echo));
        assert_eq!(parse_reply(&ip, Family::V4, true), Ok(echo));
        ip[9] = 6; // TCP
        assert_eq!(parse_reply(&ip, Family::V4, true), Err(Skip::NotIcmp));
    }

    #[test]
    fn parses_an_icmpv6_reply() {
        let packet = [129, 0, 0xab, 0xcd, 0, 1, 0, 2, b'x'];
        let echo = parse_reply(&packet, Family::V6, false).unwrap();
        assert_eq!((echo.ident, echo.seq, echo.payload), (1, 2, &b"x"[..]));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        let mut bad_sum = reply_v4(&Echo {
            ident: 1,
            seq: 1,
            payload: b"p",
        });
        bad_sum[8] ^= 0xff;
        assert_eq!(
            parse_reply(&bad_sum, Family::V4, false),
            Err(Skip::BadChecksum)
        );
        assert_eq!(parse_reply(&[], Family::V4, true), Err(Skip::Truncated));
        assert_eq!(
            parse_reply(&[0x4f, 0], Family::V4, true),
            Err(Skip::Truncated)
        );
        assert_eq!(
            parse_reply(&[0x41; 40], Family::V4, true),
            Err(Skip::NotIcmp)
        );
        assert_eq!(
            parse_reply(&[0x60; 40], Family::V4, true),
            Err(Skip::NotIcmp)
        );
        assert_eq!(
            parse_reply(&[129, 0, 0], Family::V6, false),
            Err(Skip::Truncated)
        );
        for len in 0..64 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 5) as u8).collect();
            let _ = parse_reply(&junk, Family::V4, true);
            let _ = parse_reply(&junk, Family::V6, false);
        }
    }
}
