//! The one error type of the crate, and the small error of header validation.

use std::fmt;
use std::io;

/// Why an upgrade failed.
///
/// On the server side, every variant except [`Error::Io`] means that cooper has already written the
/// matching error response (named on each variant) and flushed it; the stream was then dropped. On
/// the client side nothing is written after the request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The stream failed, or closed before the head was complete (`UnexpectedEof`).
    Io(io::Error),
    /// The head did not end within `limit` bytes, or had more header lines than cooper parses
    /// ([`MAX_HEADERS`](crate::MAX_HEADERS)). A server answers `431 Request Header Fields Too Large`.
    HeadTooLarge {
        /// The bound on the head in force, in bytes.
        limit: usize,
    },
    /// The head is not valid HTTP/1.x; the text says what `httparse` found wrong. A server answers
    /// `400 Bad Request`.
    Malformed(&'static str),
    /// The request asked for no upgrade: no `Upgrade` header, no `upgrade` token in `Connection`, or
    /// an HTTP/1.0 request (RFC 9110 §7.8: its `Upgrade` is ignored). A server answers
    /// `426 Upgrade Required` naming the protocols it allows. On the client side: a `101` response
    /// without those two headers.
    NotUpgrade,
    /// None of the protocols the client offered is allowed; a server answers
    /// `426 Upgrade Required` naming the protocols it allows. On the client side: the `101` response
    /// switched to a protocol other than the one requested.
    NoCommonProtocol,
    /// The server's callback rejected the request; cooper answered with this status and the headers
    /// the callback added.
    Rejected {
        /// The status code sent.
        status: u16,
    },
    /// The client received a response other than `101 Switching Protocols` (or not in HTTP/1.1).
    UnexpectedStatus {
        /// The status code received.
        status: u16,
    },
    /// The client's callback refused the `101` response; the text is the callback's reason.
    Refused(&'static str),
    /// The caller asked the client to send a method, path or host that cannot be written on a
    /// request line or in a header (an empty value, a control character, or a space in the path).
    InvalidRequest,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error during the upgrade: {e}"),
            Self::HeadTooLarge { limit } => {
                write!(
                    f,
                    "http head larger than {limit} bytes or with too many headers"
                )
            }
            Self::Malformed(why) => write!(f, "malformed http head: {why}"),
            Self::NotUpgrade => f.write_str("not an upgrade: missing connection or upgrade header"),
            Self::NoCommonProtocol => f.write_str("no upgrade protocol in common"),
            Self::Rejected { status } => write!(f, "upgrade rejected with status {status}"),
            Self::UnexpectedStatus { status } => {
                write!(f, "expected status 101 switching protocols, got {status}")
            }
            Self::Refused(why) => write!(f, "upgrade response refused: {why}"),
            Self::InvalidRequest => f.write_str("invalid method, path or host for an http request"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => Self::new(io::ErrorKind::InvalidData, other),
        }
    }
}

/// A header name that is not an HTTP token, or a value with a control character (CR, LF, NUL, …).
///
/// Returned by [`HeaderBuf::push`](crate::HeaderBuf::push), so that nothing a caller adds can split
/// or end the head it is written into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidHeader;

impl fmt::Display for InvalidHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid http header name or value")
    }
}

impl std::error::Error for InvalidHeader {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lower_case_without_period() {
        let all = [
            Error::Io(io::Error::from(io::ErrorKind::UnexpectedEof)),
            Error::HeadTooLarge { limit: 8 },
            Error::Malformed("invalid token"),
            Error::NotUpgrade,
            Error::NoCommonProtocol,
            Error::Rejected { status: 403 },
            Error::UnexpectedStatus { status: 200 },
            Error::Refused("bad key"),
            Error::InvalidRequest,
        ];
        for e in all {
            let text = e.to_string();
            assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
    }

    #[test]
    fn io_round_trip_keeps_the_kind() {
        let e: io::Error = Error::Io(io::ErrorKind::TimedOut.into()).into();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let e: io::Error = Error::NotUpgrade.into();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }
}
