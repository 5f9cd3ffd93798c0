//! DNS messages (RFC 1035 §4): the query rdy sends and the checks of an
//! answer. Only what readiness needs is read: the header, the question (it
//! must echo ours) and the type of each answer record.

use std::fmt;

/// A record type a `dns://` target may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordType {
    /// Its mnemonic.
    pub name: &'static str,
    /// Its TYPE code (RFC 1035 §3.2.2, RFC 3596, RFC 2782).
    pub code: u16,
}

/// The types accepted in `?type=`, A first (the default).
pub const TYPES: [RecordType; 7] = [
    RecordType { name: "A", code: 1 },
    RecordType {
        name: "AAAA",
        code: 28,
    },
    RecordType {
        name: "CNAME",
        code: 5,
    },
    RecordType {
        name: "SRV",
        code: 33,
    },
    RecordType {
        name: "TXT",
        code: 16,
    },
    RecordType {
        name: "MX",
        code: 15,
    },
    RecordType {
        name: "NS",
        code: 2,
    },
];

/// Class IN.
const IN: u16 = 1;

/// The largest UDP answer read (EDNS is not offered, so 512 is the most a
/// server sends; a larger buffer costs nothing).
pub const UDP_MAX: usize = 4096;

/// What an answer says about the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// RCODE (RFC 1035 §4.1.1): 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...
    pub rcode: u8,
    /// TC: the answer did not fit; ask again over TCP.
    pub truncated: bool,
    /// Answer records of the asked type.
    pub matching: usize,
    /// Answer records of other types (a CNAME before the address).
    pub other: usize,
}

/// Why a message is not the answer to our query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// Another query's answer, or not an answer: wait for ours.
    NotOurs,
    /// Cut short or malformed.
    Malformed(&'static str),
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::NotOurs => f.write_str("answer to another query"),
            MessageError::Malformed(what) => write!(f, "malformed DNS answer: {what}"),
        }
    }
}

/// The name in wire form (RFC 1035 §3.1): labels of 1–63 bytes, 255 in
/// all. The target parser checked the name, so this only fails for names
/// too long for DNS.
pub fn encode_name(name: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.strip_suffix('.').unwrap_or(name).split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    (out.len() <= 255).then_some(out)
}

/// A standard query with recursion desired for `qname` (wire form).
pub fn query(id: u16, qname: &[u8], qtype: RecordType) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + qname.len() + 4);
    out.extend_from_slice(&id.to_be_bytes());
    // QR=0, OPCODE=0, RD=1; QDCOUNT=1, no other records.
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(qname);
    out.extend_from_slice(&qtype.code.to_be_bytes());
    out.extend_from_slice(&IN.to_be_bytes());
    out
}

/// Reads the answer to the query `query` (as sent) from `msg`.
pub fn parse(msg: &[u8], query: &[u8]) -> Result<Answer, MessageError> {
    if msg.len() < 12 || query.len() < 12 {
        return Err(MessageError::NotOurs);
    }
    // ID must match, QR must be set (RFC 5452 §4: match ID and question).
    if msg[..2] != query[..2] || msg[2] & 0x80 == 0 {
        return Err(MessageError::NotOurs);
    }
    let count = |at: usize| usize::from(u16::from_be_bytes([msg[at], msg[at + 1]]));
    if count(4) != 1 {
        return Err(MessageError::NotOurs);
    }
    // Our question is everything after our header, sent in wire form
    // without compression; the server echoes it, maybe in another case.
    let question = &query[12..];
    let echoed = msg
        .get(12..12 + question.len())
        .ok_or(MessageError::Malformed("question cut short"))?;
    if !echoed.eq_ignore_ascii_case(question) {
        return Err(MessageError::NotOurs);
    }
    let qtype = &question[question.len() - 4..question.len() - 2];
    let mut at = 12 + question.len();
    let mut answer = Answer {
        rcode: msg[3] & 0x0f,
        truncated: msg[2] & 0x02 != 0,
        matching: 0,
        other: 0,
    };
    for _ in 0..count(6) {
        at = skip_name(msg, at)?;
        let fixed = msg
            .get(at..at + 10)
            .ok_or(MessageError::Malformed("record cut short"))?;
        let rdlength = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        at += 10 + rdlength;
        if at > msg.len() {
            return Err(MessageError::Malformed("record data cut short"));
        }
        if &fixed[0..2] == qtype && fixed[2..4] == IN.to_be_bytes() {
            answer.matching += 1;
        } else {
            answer.other += 1;
        }
    }
    Ok(answer)
}

/// Skips a name at `at` (§4.1.4) and returns where it ends: labels up to a
/// zero byte or a compression pointer, which ends the name where it
/// stands. The whole name is checked, pointers followed: each must point
/// back before the last (a prior occurrence, so no loop), and the name
/// may be at most 255 bytes (§3.1); a server that sends anything else
/// broke the protocol, which is not an answer.
fn skip_name(msg: &[u8], mut at: usize) -> Result<usize, MessageError> {
    let cut = MessageError::Malformed("name cut short");
    let (mut end, mut before, mut length) = (None, usize::MAX, 0);
    loop {
        let &len = msg.get(at).ok_or(cut.clone())?;
        match len & 0xc0 {
            0x00 => {
                length += 1 + usize::from(len);
                if length > 255 {
                    return Err(MessageError::Malformed("name longer than 255 bytes"));
                }
                if len == 0 {
                    return Ok(end.unwrap_or(at + 1));
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let &low = msg.get(at + 1).ok_or(cut.clone())?;
                let target = usize::from(len & 0x3f) << 8 | usize::from(low);
                end.get_or_insert(at + 2);
                before = before.min(at);
                if target >= before {
                    return Err(MessageError::Malformed(
                        "compression pointer that does not point back",
                    ));
                }
                (before, at) = (target, target);
            }
            _ => return Err(MessageError::Malformed("bad label in a name")),
        }
    }
}

/// The words for an RCODE (RFC 1035 §4.1.1, RFC 6895 §2.3).
pub fn rcode_name(rcode: u8) -> &'static str {
    match rcode {
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: RecordType = TYPES[0];

    #[test]
    fn names_in_wire_form() {
        assert_eq!(encode_name("db.local.").unwrap(), b"\x02db\x05local\x00");
        assert_eq!(encode_name("db").unwrap(), b"\x02db\x00");
        assert!(encode_name(&"a".repeat(64)).is_none());
        assert!(encode_name(&["abc"; 70].join(".")).is_none());
    }

    fn answer_to(query: &[u8], flags: [u8; 2], records: &[&[u8]]) -> Vec<u8> {
        let mut msg = query.to_vec();
        msg[2..4].copy_from_slice(&flags);
        msg[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
        for record in records {
            msg.extend_from_slice(record);
        }
        msg
    }

    #[test]
    fn a_malformed_record_name_is_no_answer() {
        let q = query(0x1234, &encode_name("db.local").unwrap(), A);
        let record = |name: &[u8]| {
            let mut r = name.to_vec();
            r.extend_from_slice(b"\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01");
            r
        };
        let long: Vec<u8> = [&b"\x3f"[..], &[b'a'; 63]].concat().repeat(5);
        for (name, what) in [
            (&b"\xc0\xff"[..], "beyond the message"),
            (&b"\x01a\xc0\x1e"[..], "forward to itself"),
            (&long[..], "longer than 255 bytes"),
        ] {
            let msg = answer_to(&q, [0x81, 0x80], &[&record(name)]);
            assert!(
                matches!(parse(&msg, &q), Err(MessageError::Malformed(_))),
                "{what}"
            );
        }
        // A pointer back to the question's name is what servers send.
        let msg = answer_to(&q, [0x81, 0x80], &[&record(b"\xc0\x0c")]);
        assert_eq!(parse(&msg, &q).unwrap().matching, 1);
    }

    #[test]
    fn answers_are_matched_and_counted() {
        let q = query(0x1234, &encode_name("db.local").unwrap(), A);
        // A CNAME (type 5) then an A record, both with compressed names.
        let cname = b"\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x3c\x00\x02\xc0\x0c";
        let a = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01";
        let msg = answer_to(&q, [0x81, 0x80], &[cname, a]);
        let got = parse(&msg, &q).unwrap();
        assert_eq!((got.rcode, got.matching, got.other), (0, 1, 1));
        // Another ID, or the question of another name, is not ours.
        let mut other = msg.clone();
        other[1] ^= 1;
        assert_eq!(parse(&other, &q), Err(MessageError::NotOurs));
        let upper = answer_to(&query(0x1234, b"\x02DB\x05local\x00", A), [0x81, 0x83], &[]);
        assert_eq!(parse(&upper, &q).unwrap().rcode, 3);
        // A record running past the end.
        let cut = &msg[..msg.len() - 1];
        assert!(matches!(parse(cut, &q), Err(MessageError::Malformed(_))));
        let tc = answer_to(&q, [0x83, 0x80], &[]);
        assert!(parse(&tc, &q).unwrap().truncated);
    }
}
