//! A password or token read from a file (a mounted Secret), bounded: a
//! path that names `/dev/zero` or a large file by mistake must end in an
//! error, not in reading until memory runs out.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The most bytes read: a service-account token (a JWT) is about 1 KiB, a
/// cloud provider's several; no password or token comes near this.
pub const LIMIT: u64 = 16 * 1024;

/// All of `reader`, or an error naming [`LIMIT`] when it holds more.
pub fn read_bounded(reader: impl Read) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(LIMIT + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > LIMIT {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it holds more than {} KiB, more than any password or token (the right file?)",
                LIMIT / 1024
            ),
        ));
    }
    Ok(bytes)
}

/// The file at `path`, at most [`LIMIT`] bytes of it.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_bounded(File::open(path)?)
}

/// The file at `path` as text, at most [`LIMIT`] bytes of it.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}
