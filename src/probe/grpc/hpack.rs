//! HPACK (RFC 7541): the literal fields rdy sends and a bounded decoder for
//! the header blocks servers send back.
//!
//! rdy never indexes what it sends (§6.2.3, "never indexed"), so the
//! server's decoder state never matters; the decoder keeps the dynamic table
//! the server's encoder builds, within the 4,096 bytes HTTP/2 allows by
//! default (rdy advertises no other size).

use std::collections::VecDeque;
use std::fmt;

use super::huffman;

/// `SETTINGS_HEADER_TABLE_SIZE`'s default (RFC 9113 §6.5.2): the most a
/// server's dynamic table size update may ask for.
pub const TABLE_LIMIT: usize = 4096;

/// The most decoded header bytes (names, values, 32 per field as in
/// §4.1) one block may hold; a health answer has a few hundred.
pub const LIST_LIMIT: usize = 16 * 1024;

/// One header field.
pub type Field = (Vec<u8>, Vec<u8>);

/// The static table (Appendix A), indices 1 to 61.
#[rustfmt::skip]
const STATIC: [(&str, &str); 61] = [
    (":authority", ""), (":method", "GET"), (":method", "POST"), (":path", "/"),
    (":path", "/index.html"), (":scheme", "http"), (":scheme", "https"),
    (":status", "200"), (":status", "204"), (":status", "206"), (":status", "304"),
    (":status", "400"), (":status", "404"), (":status", "500"), ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"), ("accept-language", ""), ("accept-ranges", ""),
    ("accept", ""), ("access-control-allow-origin", ""), ("age", ""), ("allow", ""),
    ("authorization", ""), ("cache-control", ""), ("content-disposition", ""),
    ("content-encoding", ""), ("content-language", ""), ("content-length", ""),
    ("content-location", ""), ("content-range", ""), ("content-type", ""), ("cookie", ""),
    ("date", ""), ("etag", ""), ("expect", ""), ("expires", ""), ("from", ""), ("host", ""),
    ("if-match", ""), ("if-modified-since", ""), ("if-none-match", ""), ("if-range", ""),
    ("if-unmodified-since", ""), ("last-modified", ""), ("link", ""), ("location", ""),
    ("max-forwards", ""), ("proxy-authenticate", ""), ("proxy-authorization", ""),
    ("range", ""), ("referer", ""), ("refresh", ""), ("retry-after", ""), ("server", ""),
    ("set-cookie", ""), ("strict-transport-security", ""), ("transfer-encoding", ""),
    ("user-agent", ""), ("vary", ""), ("via", ""), ("www-authenticate", ""),
];

/// A header block that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HpackError {
    /// The block ends inside a representation.
    Truncated,
    /// An integer beyond 2^28.
    Integer,
    /// An index of no entry.
    Index(u64),
    /// A Huffman-coded string that does not decode.
    Huffman,
    /// A dynamic table size update above the limit or after a field.
    TableSize(u64),
    /// More decoded bytes than [`LIST_LIMIT`].
    TooLarge,
}

impl fmt::Display for HpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HpackError::Truncated => f.write_str("HPACK block ends inside a field"),
            HpackError::Integer => f.write_str("HPACK integer too large"),
            HpackError::Index(i) => write!(f, "HPACK index {i} names no table entry"),
            HpackError::Huffman => f.write_str("HPACK string with invalid Huffman code"),
            HpackError::TableSize(n) => {
                write!(f, "HPACK table size update to {n} not allowed here")
            }
            HpackError::TooLarge => write!(f, "header list beyond {LIST_LIMIT} bytes"),
        }
    }
}

/// Appends a field as a literal never indexed, with a new name (§6.2.3):
/// `0001 0000`, then the name and the value as raw strings (§5.2, H = 0).
pub fn encode_literal(out: &mut Vec<u8>, name: &str, value: &str) {
    out.push(0x10);
    for text in [name, value] {
        encode_integer(out, 0, 7, text.len());
        out.extend_from_slice(text.as_bytes());
    }
}

/// An integer with an `prefix`-bit prefix (§5.1); `high` holds the bits of
/// the first byte above the prefix.
fn encode_integer(out: &mut Vec<u8>, high: u8, prefix: u32, mut value: usize) {
    let max = (1usize << prefix) - 1;
    if value < max {
        out.push(high | value as u8);
        return;
    }
    out.push(high | max as u8);
    value -= max;
    while value >= 128 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// The decoding context of one connection: its dynamic table.
#[derive(Debug, Default)]
pub struct Decoder {
    /// Newest first: index 62 is `table[0]`.
    table: VecDeque<Field>,
    /// Sum of the entries' sizes (§4.1).
    size: usize,
    /// The size the server's last update set; [`TABLE_LIMIT`] at first.
    max: Option<usize>,
}

/// Reads representations off the front of a header block.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Result<u8, HpackError> {
        let (&first, rest) = self.0.split_first().ok_or(HpackError::Truncated)?;
        self.0 = rest;
        Ok(first)
    }

    /// An integer whose first byte `first` was read already (§5.1).
    fn integer(&mut self, first: u8, prefix: u32) -> Result<u64, HpackError> {
        let max = (1u64 << prefix) - 1;
        let mut value = u64::from(first) & max;
        if value < max {
            return Ok(value);
        }
        for shift in (0..=28).step_by(7) {
            let byte = self.byte()?;
            value += u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(HpackError::Integer)
    }

    /// A string literal (§5.2), Huffman-decoded when H is set.
    fn string(&mut self, budget: usize) -> Result<Vec<u8>, HpackError> {
        let first = self.byte()?;
        let len = self.integer(first, 7)?;
        let len = usize::try_from(len).map_err(|_| HpackError::Integer)?;
        if len > self.0.len() {
            return Err(HpackError::Truncated);
        }
        let (raw, rest) = self.0.split_at(len);
        self.0 = rest;
        if first & 0x80 == 0 {
            if len > budget {
                return Err(HpackError::TooLarge);
            }
            return Ok(raw.to_vec());
        }
        // A Huffman code is at least 5 bits a symbol: at most 8/5 as long.
        if len.saturating_mul(8) / 5 > budget {
            return Err(HpackError::TooLarge);
        }
        let mut out = Vec::with_capacity(len * 8 / 5);
        huffman::decode(raw, &mut out).map_err(|_| HpackError::Huffman)?;
        Ok(out)
    }
}

impl Decoder {
    /// Decodes one complete header block (HEADERS plus its CONTINUATION
    /// frames) into its fields, updating the dynamic table.
    pub fn decode(&mut self, block: &[u8]) -> Result<Vec<Field>, HpackError> {
        let mut input = Input(block);
        let mut fields = Vec::new();
        let mut used = 0usize;
        while let Ok(first) = input.byte() {
            if first & 0xe0 == 0x20 {
                // Dynamic table size update (§6.3): only before the first
                // field (§4.2), at most the limit.
                let size = input.integer(first, 5)?;
                if !fields.is_empty() || size > TABLE_LIMIT as u64 {
                    return Err(HpackError::TableSize(size));
                }
                self.max = Some(size as usize);
                self.evict(0);
                continue;
            }
            let field = if first & 0x80 != 0 {
                // Indexed field (§6.1).
                self.entry(input.integer(first, 7)?)?
            } else {
                // Literal (§6.2): with indexing 01xxxxxx (6-bit index),
                // without 0000xxxx or never indexed 0001xxxx (4 bits).
                let indexing = first & 0x40 != 0;
                let prefix = if indexing { 6 } else { 4 };
                let index = input.integer(first, prefix)?;
                let budget = LIST_LIMIT - used;
                let name = match index {
                    0 => input.string(budget)?,
                    i => self.entry(i)?.0,
                };
                let value = input.string(budget)?;
                if indexing {
                    self.insert((name.clone(), value.clone()));
                }
                (name, value)
            };
            used += field.0.len() + field.1.len() + 32;
            if used > LIST_LIMIT {
                return Err(HpackError::TooLarge);
            }
            fields.push(field);
        }
        Ok(fields)
    }

    /// The entry at `index` of the static or dynamic table (§2.3.3).
    fn entry(&self, index: u64) -> Result<Field, HpackError> {
        let i = usize::try_from(index).map_err(|_| HpackError::Index(index))?;
        let found = match i {
            0 => None,
            1..=61 => {
                let (name, value) = STATIC[i - 1];
                Some((name.as_bytes().to_vec(), value.as_bytes().to_vec()))
            }
            _ => self.table.get(i - 62).cloned(),
        };
        found.ok_or(HpackError::Index(index))
    }

    /// Adds an entry, evicting the oldest to make room (§4.4); an entry
    /// larger than the table empties it and is not added.
    fn insert(&mut self, field: Field) {
        let size = field.0.len() + field.1.len() + 32;
        self.evict(size);
        if size <= self.max() {
            self.size += size;
            self.table.push_front(field);
        }
    }

    /// Evicts until `room` more bytes fit (§4.3, §4.4).
    fn evict(&mut self, room: usize) {
        while self.size + room > self.max() {
            match self.table.pop_back() {
                Some((name, value)) => self.size -= name.len() + value.len() + 32,
                None => break,
            }
        }
    }

    fn max(&self) -> usize {
        self.max.unwrap_or(TABLE_LIMIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(fields: &[Field]) -> Vec<(String, String)> {
        fields
            .iter()
            .map(|(n, v)| {
                (
                    String::from_utf8(n.clone()).unwrap(),
                    String::from_utf8(v.clone()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn rfc_7541_c6_responses_with_huffman_and_eviction() {
        // C.6.1-C.6.3: three responses sharing one table of 256 bytes.
        let mut decoder = Decoder {
            max: Some(256),
            ..Decoder::default()
        };
        let first = b"\x48\x82\x64\x02\x58\x85\xae\xc3\x77\x1a\x4b\x61\x96\xd0\x7a\xbe\x94\x10\x54\xd4\x44\xa8\x20\x05\x95\x04\x0b\x81\x66\xe0\x82\xa6\x2d\x1b\xff\x6e\x91\x9d\x29\xad\x17\x18\x63\xc7\x8f\x0b\x97\xc8\xe9\xae\x82\xae\x43\xd3";
        let got = pairs(&decoder.decode(first).unwrap());
        assert_eq!(got[0], (":status".into(), "302".into()));
        assert_eq!(got[3].1, "https://www.example.com");
        assert_eq!(decoder.size, 222);
        let second = b"\x48\x83\x64\x0e\xff\xc1\xc0\xbf";
        let got = pairs(&decoder.decode(second).unwrap());
        assert_eq!(got[0], (":status".into(), "307".into()));
        assert_eq!(got[1], ("cache-control".into(), "private".into()));
        assert_eq!(decoder.size, 222);
        assert_eq!(decoder.table.len(), 4);
    }

    #[test]
    fn the_static_table_has_61_entries() {
        let d = Decoder::default();
        assert_eq!(d.entry(1).unwrap(), (b":authority".to_vec(), Vec::new()));
        assert_eq!(d.entry(16).unwrap().1, b"gzip, deflate");
        assert_eq!(d.entry(61).unwrap().0, b"www-authenticate");
        assert_eq!(d.entry(62), Err(HpackError::Index(62)));
    }

    #[test]
    fn literals_round_trip_and_long_values_use_continuation_bytes() {
        let mut block = Vec::new();
        encode_literal(&mut block, ":authority", &"a".repeat(300));
        encode_literal(&mut block, "te", "trailers");
        let got = pairs(&Decoder::default().decode(&block).unwrap());
        assert_eq!(got[0].1.len(), 300);
        assert_eq!(got[1], ("te".into(), "trailers".into()));
    }

    #[test]
    fn bad_blocks_are_errors() {
        let mut d = Decoder::default();
        assert_eq!(d.decode(b"\x80"), Err(HpackError::Index(0)));
        assert_eq!(d.decode(b"\xbe"), Err(HpackError::Index(62)));
        assert_eq!(d.decode(b"\x10\x05ab"), Err(HpackError::Truncated));
        assert_eq!(
            d.decode(b"\xff\xff\xff\xff\xff\xff"),
            Err(HpackError::Integer)
        );
        assert_eq!(d.decode(b"\x3f\xe2\x1f"), Err(HpackError::TableSize(4097)));
        assert_eq!(d.decode(b"\x88\x20"), Err(HpackError::TableSize(0)));
        assert_eq!(d.decode(b"\x10\x81\x00\x00"), Err(HpackError::Huffman));
    }
}
