//! The one error type, and the single place where errors meet the wire (`close_code`).

use std::fmt;
use std::io;

use crate::close::CloseCode;

/// A violation of RFC 6455 framing rules by the peer; each maps to close code 1002.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// An opcode reserved by RFC 6455 §5.2 (3–7, 11–15).
    ReservedOpCode(u8),
    /// RSV bits set that no extension negotiated (or RSV1 where RFC 7692 forbids it).
    ReservedBits(u8),
    /// A client sent an unmasked frame (RFC 6455 §5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (RFC 6455 §5.1).
    MaskedFrame,
    /// A control frame with a payload over 125 bytes (RFC 6455 §5.5).
    ControlFrameTooLong(u64),
    /// A control frame without FIN (RFC 6455 §5.5).
    FragmentedControlFrame,
    /// A continuation frame with no message in progress (RFC 6455 §5.4).
    UnexpectedContinuation,
    /// A new data message started before the previous one ended (RFC 6455 §5.4).
    ExpectedContinuation,
    /// A 64-bit payload length with the most significant bit set (RFC 6455 §5.2).
    LengthTooLarge,
    /// A close frame whose payload is one byte long (RFC 6455 §5.5.1).
    InvalidClosePayload,
    /// A close code that may not appear on the wire (RFC 6455 §7.4).
    InvalidCloseCode(u16),
    /// A data frame received after the peer's close frame.
    FrameAfterClose,
    /// The compressed payload could not be inflated (RFC 7692 §7.2.2).
    InvalidCompressedData,
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReservedOpCode(op) => write!(f, "reserved opcode {op:#x}"),
            Self::ReservedBits(bits) => write!(f, "reserved bits {bits:#05b} set"),
            Self::UnmaskedFrame => f.write_str("unmasked frame from a client"),
            Self::MaskedFrame => f.write_str("masked frame from a server"),
            Self::ControlFrameTooLong(len) => write!(f, "control frame of {len} bytes"),
            Self::FragmentedControlFrame => f.write_str("fragmented control frame"),
            Self::UnexpectedContinuation => f.write_str("continuation frame outside a message"),
            Self::ExpectedContinuation => f.write_str("new message before the previous one ended"),
            Self::LengthTooLarge => f.write_str("64-bit payload length with the top bit set"),
            Self::InvalidClosePayload => f.write_str("close frame with a one-byte payload"),
            Self::InvalidCloseCode(code) => write!(f, "close code {code} not allowed on the wire"),
            Self::FrameAfterClose => f.write_str("frame received after close"),
            Self::InvalidCompressedData => f.write_str("invalid compressed data"),
        }
    }
}

/// Everything that can go wrong on a connection.
///
/// An `Err` always means the operation did not complete. For [`Error::Io`] with
/// [`io::ErrorKind::WouldBlock`] (see [`Error::is_would_block`]) the connection stays usable and
/// the same call resumes where it stopped; every other error fails the connection, after the
/// close frame named by [`Error::close_code`] has been queued and, where possible, sent.
#[non_exhaustive]
#[derive(Debug)]
pub enum Error {
    /// The stream (or the reader given to `stream_message`) failed, or would block.
    Io(io::Error),
    /// The peer broke a framing rule; close code 1002.
    Protocol(ProtocolError),
    /// A text message or a close reason is not valid UTF-8; close code 1007.
    InvalidUtf8,
    /// A message exceeds the read limit; close code 1009.
    MessageTooBig {
        /// The size the message has reached (or announced), in bytes.
        size: u64,
        /// The connection's read limit, in bytes.
        limit: usize,
    },
    /// `stream_message` asked for a larger chunk than the connection was built with.
    ChunkSizeExceeded {
        /// The chunk size asked for.
        requested: usize,
        /// The connection's chunk size.
        limit: usize,
    },
    /// A setting out of range at construction.
    InvalidConfig(&'static str),
    /// The caller misused the API (e.g. a different message while one is half sent).
    Misuse(&'static str),
    /// The closing handshake has started; no more data may be sent or received.
    Closed,
    /// The connection failed earlier and cannot be used for data any more.
    Failed,
}

impl Error {
    /// The close code this error sends to the peer, or `None` when nothing is sent
    /// (I/O errors and caller mistakes).
    #[must_use]
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol(_) => Some(CloseCode::PROTOCOL_ERROR),
            Self::InvalidUtf8 => Some(CloseCode::INVALID_PAYLOAD),
            Self::MessageTooBig { .. } => Some(CloseCode::MESSAGE_TOO_BIG),
            Self::Io(_)
            | Self::ChunkSizeExceeded { .. }
            | Self::InvalidConfig(_)
            | Self::Misuse(_)
            | Self::Closed
            | Self::Failed => None,
        }
    }

    /// Whether this is an I/O error of kind [`io::ErrorKind::WouldBlock`]: call again later.
    #[must_use]
    pub fn is_would_block(&self) -> bool {
        matches!(self, Self::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::Protocol(e) => write!(f, "protocol error: {e}"),
            Self::InvalidUtf8 => f.write_str("invalid utf-8 in a text message or close reason"),
            Self::MessageTooBig { size, limit } => {
                write!(
                    f,
                    "message of {size} bytes exceeds the read limit of {limit}"
                )
            }
            Self::ChunkSizeExceeded { requested, limit } => {
                write!(f, "chunk size {requested} exceeds the connection's {limit}")
            }
            Self::InvalidConfig(what) => write!(f, "invalid configuration: {what}"),
            Self::Misuse(what) => write!(f, "api misuse: {what}"),
            Self::Closed => f.write_str("connection closed"),
            Self::Failed => f.write_str("connection failed earlier"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Protocol(_)
            | Self::InvalidUtf8
            | Self::MessageTooBig { .. }
            | Self::ChunkSizeExceeded { .. }
            | Self::InvalidConfig(_)
            | Self::Misuse(_)
            | Self::Closed
            | Self::Failed => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::Io(inner) => return io::Error::new(inner.kind(), e),
            Error::Protocol(_) | Error::InvalidUtf8 => io::ErrorKind::InvalidData,
            Error::MessageTooBig { .. } => io::ErrorKind::FileTooLarge,
            Error::ChunkSizeExceeded { .. } | Error::InvalidConfig(_) | Error::Misuse(_) => {
                io::ErrorKind::InvalidInput
            }
            Error::Closed | Error::Failed => io::ErrorKind::NotConnected,
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_close_code() {
        let table: [(Error, Option<u16>); 9] = [
            (Error::Io(io::ErrorKind::BrokenPipe.into()), None),
            (Error::Protocol(ProtocolError::MaskedFrame), Some(1002)),
            (Error::InvalidUtf8, Some(1007)),
            (Error::MessageTooBig { size: 2, limit: 1 }, Some(1009)),
            (
                Error::ChunkSizeExceeded {
                    requested: 2,
                    limit: 1,
                },
                None,
            ),
            (Error::InvalidConfig("x"), None),
            (Error::Misuse("x"), None),
            (Error::Closed, None),
            (Error::Failed, None),
        ];
        for (err, code) in table {
            assert_eq!(err.close_code().map(u16::from), code, "{err}");
        }
    }

    #[test]
    fn would_block_round_trips_through_io_error() {
        let e = Error::from(io::Error::from(io::ErrorKind::WouldBlock));
        assert!(e.is_would_block());
        let back: io::Error = e.into();
        assert_eq!(back.kind(), io::ErrorKind::WouldBlock);
        assert!(!Error::InvalidUtf8.is_would_block());
    }
}
