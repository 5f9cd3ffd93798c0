//! Reading option values off the command line with lexopt, shared by every
//! command's parser.

use std::ffi::OsString;

use super::error::UsageError;
use super::flags::Flag;

/// The value of an option: the next argument, or for a switch `true`
/// unless written `--switch=false`.
pub fn read_value(
    parser: &mut lexopt::Parser,
    flag: &Flag,
    spelled: &str,
    long: bool,
) -> Result<String, UsageError> {
    let raw = match flag.value {
        Some(value_name) => Some(parser.value().map_err(|_| UsageError::MissingValue {
            option: spelled.to_owned(),
            value: value_name,
        })?),
        // Only `--long=value` carries a value for a switch; in `-qv` the
        // `v` is another switch.
        None if long => parser.optional_value(),
        None => None,
    };
    match raw {
        Some(raw) => utf8(raw, spelled),
        None => Ok("true".to_owned()),
    }
}

/// An argument as UTF-8, or an error naming `what` it was.
pub fn utf8(value: OsString, what: &str) -> Result<String, UsageError> {
    value
        .into_string()
        .map_err(|_| UsageError::NotUtf8(what.to_owned()))
}
