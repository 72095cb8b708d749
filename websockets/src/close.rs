//! Close codes and close frame payloads (RFC 6455 §5.5.1, §7.4). Pure code on byte slices.

use crate::error::{Error, ProtocolError};
use crate::frame::MAX_CONTROL_PAYLOAD;

/// A close status code (RFC 6455 §7.4). Every `u16` is representable; validity is a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: an endpoint is going away.
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: closed abnormally, without a close frame (never sent on the wire).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: data inconsistent with the message type (e.g. bad UTF-8 in text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a message violates the endpoint's policy.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: bad gateway.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed (never sent on the wire).
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Whether the code may appear in a close frame: 1000–1003, 1007–1014, 3000–4999.
    #[must_use]
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

/// The longest close reason that fits a control frame: 125 bytes minus the 2-byte code.
pub const MAX_CLOSE_REASON: usize = MAX_CONTROL_PAYLOAD - 2;

/// A decoded close frame payload, borrowing its reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, valid UTF-8, at most [`MAX_CLOSE_REASON`] bytes.
    pub reason: &'a str,
}

impl<'a> CloseFrame<'a> {
    /// Decodes a close payload; `Ok(None)` for an empty payload (no status).
    ///
    /// # Errors
    /// [`Error::Protocol`] (1002) for a one-byte payload or a code not valid on the wire;
    /// [`Error::InvalidUtf8`] (1007) for a reason that is not UTF-8.
    pub fn decode(payload: &'a [u8]) -> Result<Option<Self>, Error> {
        match payload {
            [] => Ok(None),
            [_] => Err(ProtocolError::InvalidClosePayload.into()),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_valid_on_wire() {
                    return Err(ProtocolError::InvalidCloseCode(code.0).into());
                }
                let reason = crate::utf8::validate(reason)?;
                Ok(Some(Self { code, reason }))
            }
        }
    }

    /// Encodes the payload into `out`, returning its length.
    ///
    /// # Errors
    /// [`Error::Misuse`] when the code is not valid on the wire or the reason is longer than
    /// [`MAX_CLOSE_REASON`] bytes.
    pub fn encode(&self, out: &mut [u8; MAX_CONTROL_PAYLOAD]) -> Result<usize, Error> {
        if !self.code.is_valid_on_wire() {
            return Err(Error::Misuse("close code not allowed on the wire"));
        }
        let reason = self.reason.as_bytes();
        if reason.len() > MAX_CLOSE_REASON {
            return Err(Error::Misuse("close reason longer than 123 bytes"));
        }
        out[..2].copy_from_slice(&self.code.0.to_be_bytes());
        out[2..2 + reason.len()].copy_from_slice(reason);
        Ok(2 + reason.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_of_every_code() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode(code).is_valid_on_wire(), expected, "{code}");
        }
    }

    #[test]
    fn decode_table() {
        assert_eq!(CloseFrame::decode(b"").unwrap(), None);
        assert!(matches!(
            CloseFrame::decode(&[3]),
            Err(Error::Protocol(ProtocolError::InvalidClosePayload))
        ));
        let ok = CloseFrame::decode(&[0x03, 0xe8, b'o', b'k'])
            .unwrap()
            .unwrap();
        assert_eq!((ok.code, ok.reason), (CloseCode::NORMAL, "ok"));
        for bad in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let p = bad.to_be_bytes();
            assert!(
                matches!(
                    CloseFrame::decode(&p),
                    Err(Error::Protocol(ProtocolError::InvalidCloseCode(c))) if c == bad
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            CloseFrame::decode(&[0x03, 0xe8, 0xff]),
            Err(Error::InvalidUtf8)
        ));
    }

    #[test]
    fn encode_round_trips_and_bounds_the_reason() {
        let mut out = [0; MAX_CONTROL_PAYLOAD];
        let frame = CloseFrame {
            code: CloseCode(4000),
            reason: "bye ✓",
        };
        let n = frame.encode(&mut out).unwrap();
        assert_eq!(CloseFrame::decode(&out[..n]).unwrap(), Some(frame));
        let long = "x".repeat(MAX_CLOSE_REASON + 1);
        let too_long = CloseFrame {
            code: CloseCode::NORMAL,
            reason: &long,
        };
        assert!(too_long.encode(&mut out).is_err());
        let reserved = CloseFrame {
            code: CloseCode::NO_STATUS,
            reason: "",
        };
        assert!(reserved.encode(&mut out).is_err());
    }
}
