//! HPACK's Huffman code (RFC 7541 §5.2, Appendix B), decoding only: servers
//! send Huffman-coded header values; rdy sends every string raw.
//!
//! The code is canonical: within one length, codes are consecutive in the
//! order of the symbols. So the 257 code lengths are the whole table, and a
//! code is decoded a bit at a time by counting (as zlib's `puff.c` does).

use std::sync::OnceLock;

/// The code length in bits of each symbol, 0–255 and EOS (256).
#[rustfmt::skip]
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
    30,];

/// The longest code, EOS's.
const MAX_BITS: usize = 30;

/// Codes of each length, and the symbols ordered by (length, symbol).
struct Canonical {
    count: [u16; MAX_BITS + 1],
    symbols: [u16; 257],
}

fn canonical() -> &'static Canonical {
    static TABLE: OnceLock<Canonical> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Canonical {
            count: [0; MAX_BITS + 1],
            symbols: [0; 257],
        };
        let mut next = 0;
        for bits in 1..=MAX_BITS {
            for (symbol, &length) in LENGTHS.iter().enumerate() {
                if usize::from(length) == bits {
                    table.count[bits] += 1;
                    table.symbols[next] = symbol as u16;
                    next += 1;
                }
            }
        }
        table
    })
}

/// A Huffman-coded string that does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidHuffman;

/// Decodes `input` and appends the text to `out`. Errors (RFC 7541 §5.2):
/// the EOS symbol inside the string, and padding that is longer than 7 bits
/// or not the most significant bits of EOS (all ones).
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), InvalidHuffman> {
    let table = canonical();
    // `code` holds the bits read since the last symbol, `first` the first
    // code of length `len`, `index` that code's place in `symbols`.
    let (mut code, mut first, mut index, mut len) = (0u32, 0u32, 0usize, 0usize);
    for byte in input {
        for shift in (0..8).rev() {
            code |= u32::from(byte >> shift & 1);
            len += 1;
            let count = u32::from(table.count[len]);
            if code < first + count {
                let symbol = table.symbols[index + (code - first) as usize];
                if symbol == 256 {
                    return Err(InvalidHuffman);
                }
                out.push(symbol as u8);
                (code, first, index, len) = (0, 0, 0, 0);
                continue;
            }
            if len == MAX_BITS {
                return Err(InvalidHuffman);
            }
            index += count as usize;
            first = (first + count) << 1;
            code <<= 1;
        }
    }
    // Left over: `len` bits, shifted one further than read.
    let padding_ones = len == 0 || code >> 1 == (1 << len) - 1;
    if len > 7 || !padding_ones {
        return Err(InvalidHuffman);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(input: &[u8]) -> Result<String, InvalidHuffman> {
        let mut out = Vec::new();
        decode(input, &mut out).map(|()| String::from_utf8(out).unwrap())
    }

    #[test]
    fn rfc_7541_examples() {
        // C.4.1 "www.example.com", C.4.2 "no-cache", C.6.1 "302", "private".
        let www = b"\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
        assert_eq!(text(www).unwrap(), "www.example.com");
        assert_eq!(text(b"\xa8\xeb\x10\x64\x9c\xbf").unwrap(), "no-cache");
        assert_eq!(text(b"\x64\x02").unwrap(), "302");
        assert_eq!(text(b"\xae\xc3\x77\x1a\x4b").unwrap(), "private");
        assert_eq!(text(b"").unwrap(), "");
    }

    #[test]
    fn bad_padding_and_eos_are_errors() {
        // '0' is 00000: three padding bits of zeros.
        assert_eq!(text(b"\x00"), Err(InvalidHuffman));
        // A whole byte of padding.
        assert_eq!(text(b"\x64\x02\xff"), Err(InvalidHuffman));
        // EOS itself: 30 ones.
        assert_eq!(text(b"\xff\xff\xff\xff"), Err(InvalidHuffman));
    }
}
