//! Frame headers (RFC 6455 §5.2): decode and encode on byte slices, and the one rule check
//! every incoming header passes through. No I/O here.

use crate::error::{Error, ProtocolError};

/// The longest frame header: 2 bytes, an 8-byte extended length and a 4-byte mask key.
pub const MAX_HEADER_LEN: usize = 14;
/// The largest control frame payload (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The RSV1 bit as it appears in [`Header::rsv`]; permessage-deflate marks compressed messages
/// with it (RFC 7692 §6).
pub const RSV1: u8 = 0b100;

/// Which end of the connection this is. It decides masking (RFC 6455 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: masks every frame it sends, receives unmasked frames.
    Client,
    /// The server: sends unmasked frames, receives masked frames.
    Server,
}

impl Role {
    /// Whether frames this role sends carry a mask.
    #[must_use]
    pub fn masks_outgoing(self) -> bool {
        self == Self::Client
    }

    /// Whether frames this role receives must carry a mask.
    #[must_use]
    pub fn expects_masked_incoming(self) -> bool {
        self == Self::Server
    }

    /// Whether this is the client role.
    #[must_use]
    pub fn is_client(self) -> bool {
        self == Self::Client
    }

    /// Whether this is the server role.
    #[must_use]
    pub fn is_server(self) -> bool {
        self == Self::Server
    }
}

impl std::ops::Not for Role {
    type Output = Self;
    fn not(self) -> Self {
        match self {
            Self::Client => Self::Server,
            Self::Server => Self::Client,
        }
    }
}

/// A frame opcode (RFC 6455 §5.2). Reserved values have no variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// A continuation frame of a fragmented message.
    Continuation = 0x0,
    /// A text message (UTF-8).
    Text = 0x1,
    /// A binary message.
    Binary = 0x2,
    /// A close frame.
    Close = 0x8,
    /// A ping.
    Ping = 0x9,
    /// A pong.
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for a 4-bit wire value, or `None` for a reserved one.
    #[must_use]
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            _ => return None,
        })
    }

    /// Whether this is a control opcode (close, ping, pong).
    #[must_use]
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }

    /// Whether this opcode starts a data message (text or binary).
    #[must_use]
    pub fn is_data_start(self) -> bool {
        matches!(self, Self::Text | Self::Binary)
    }
}

/// A decoded frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The FIN bit: this frame ends its message.
    pub fin: bool,
    /// The three RSV bits, RSV1 as `0b100` down to RSV3 as `0b001`.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The mask key, when the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

/// The outcome of [`Header::decode`]: "not enough bytes yet" is a value, not an error.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// A whole header, `len` bytes long.
    Complete {
        /// The header.
        header: Header,
        /// How many bytes it took.
        len: usize,
    },
    /// More bytes are needed: at least `needed` in all.
    Incomplete {
        /// The total number of bytes needed to go on.
        needed: usize,
    },
}

impl Header {
    /// Decodes a header from the front of `buf` without consuming anything.
    ///
    /// # Errors
    /// [`Error::Protocol`] (1002) for a reserved opcode or a 64-bit length with its top bit set.
    pub fn decode(buf: &[u8]) -> Result<Decoded, Error> {
        let [b0, b1, ..] = *buf else {
            return Ok(Decoded::Incomplete { needed: 2 });
        };
        let opcode = OpCode::from_u8(b0 & 0x0F).ok_or(ProtocolError::ReservedOpCode(b0 & 0x0F))?;
        let masked = b1 & 0x80 != 0;
        let (ext, payload_len) = match b1 & 0x7F {
            126 => (2, None),
            127 => (8, None),
            n => (0, Some(u64::from(n))),
        };
        let len = 2 + ext + if masked { 4 } else { 0 };
        if buf.len() < len {
            return Ok(Decoded::Incomplete { needed: len });
        }
        let payload_len = match payload_len {
            Some(n) => n,
            None if ext == 2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            None => {
                let mut be = [0; 8];
                be.copy_from_slice(&buf[2..10]);
                let n = u64::from_be_bytes(be);
                // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
                if n >> 63 != 0 {
                    return Err(ProtocolError::LengthTooLarge.into());
                }
                n
            }
        };
        let mask = masked.then(|| {
            let at = 2 + ext;
            [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
        });
        let header = Header {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0b111,
            opcode,
            mask,
            payload_len,
        };
        Ok(Decoded::Complete { header, len })
    }

    /// The number of bytes [`Header::encode`] writes for this header.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let ext = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + ext + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Encodes the header with the shortest length form into `out`, returning its length.
    #[must_use]
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0b111) << 4) | self.opcode as u8;
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut at = match self.payload_len {
            n @ 0..=125 => {
                out[1] = mask_bit | n as u8;
                2
            }
            n @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                4
            }
            n => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&n.to_be_bytes());
                10
            }
        };
        if let Some(key) = self.mask {
            out[at..at + 4].copy_from_slice(&key);
            at += 4;
        }
        at
    }
}

/// Checks an incoming header against RFC 6455 for the receiving `role`, where `extension_rsv`
/// holds the RSV bits an extension negotiated for the first frame of a data message.
///
/// # Errors
/// The [`ProtocolError`] for the first rule broken: masking per role (§5.1), RSV bits (§5.2;
/// RFC 7692 §6.1 allows RSV1 only on the first frame of a data message), control frames
/// unfragmented and at most 125 bytes (§5.5).
pub fn validate(header: &Header, role: Role, extension_rsv: u8) -> Result<(), ProtocolError> {
    let allowed_rsv = if header.opcode.is_data_start() {
        extension_rsv
    } else {
        0
    };
    if header.rsv & !allowed_rsv != 0 {
        return Err(ProtocolError::ReservedBits(header.rsv));
    }
    match (role.expects_masked_incoming(), header.mask.is_some()) {
        (true, false) => return Err(ProtocolError::UnmaskedFrame),
        (false, true) => return Err(ProtocolError::MaskedFrame),
        _ => {}
    }
    if header.opcode.is_control() {
        if !header.fin {
            return Err(ProtocolError::FragmentedControlFrame);
        }
        if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(ProtocolError::ControlFrameTooLong(header.payload_len));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u64, mask: Option<[u8; 4]>) -> Header {
        Header {
            fin: true,
            rsv: 0,
            opcode: OpCode::Binary,
            mask,
            payload_len: len,
        }
    }

    #[test]
    fn length_boundaries_round_trip() {
        let max = (1u64 << 63) - 1;
        for (len, hlen) in [
            (0, 2),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
            (max, 10),
        ] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let h = header(len, mask);
                let mut out = [0; MAX_HEADER_LEN];
                let n = h.encode(&mut out);
                let extra = if mask.is_some() { 4 } else { 0 };
                assert_eq!(n, hlen + extra);
                assert_eq!(h.encoded_len(), n);
                assert_eq!(
                    Header::decode(&out[..n]).unwrap(),
                    Decoded::Complete { header: h, len: n }
                );
                for cut in 0..n {
                    let needed = match Header::decode(&out[..cut]).unwrap() {
                        Decoded::Incomplete { needed } => needed,
                        other => panic!("{other:?} at {cut}"),
                    };
                    assert!(needed > cut && needed <= n);
                }
            }
        }
    }

    #[test]
    fn top_bit_of_64_bit_length_is_an_error() {
        let mut bytes = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        let err = Header::decode(&bytes).unwrap_err();
        assert_eq!(err.close_code(), Some(crate::CloseCode::PROTOCOL_ERROR));
        bytes[2] = 0x7F;
        assert!(Header::decode(&bytes).is_ok());
    }

    #[test]
    fn reserved_opcodes_rejected() {
        for op in 0u8..16 {
            let r = Header::decode(&[0x80 | op, 0]);
            let reserved = matches!(op, 3..=7 | 11..=15);
            assert_eq!(r.is_err(), reserved, "{op}");
        }
    }

    #[test]
    fn validate_table() {
        use ProtocolError as P;
        let ok = |h: Header, role, rsv| validate(&h, role, rsv);
        let m = Some([0; 4]);
        let with = |op, fin, rsv, mask, len| Header {
            fin,
            rsv,
            opcode: op,
            mask,
            payload_len: len,
        };
        let rows: [(Header, Role, u8, Result<(), P>); 12] = [
            (with(OpCode::Text, true, 0, m, 5), Role::Server, 0, Ok(())),
            (
                with(OpCode::Text, true, 0, None, 5),
                Role::Server,
                0,
                Err(P::UnmaskedFrame),
            ),
            (
                with(OpCode::Text, true, 0, m, 5),
                Role::Client,
                0,
                Err(P::MaskedFrame),
            ),
            (
                with(OpCode::Text, true, RSV1, None, 5),
                Role::Client,
                0,
                Err(P::ReservedBits(4)),
            ),
            (
                with(OpCode::Text, true, RSV1, None, 5),
                Role::Client,
                RSV1,
                Ok(()),
            ),
            (
                with(OpCode::Binary, true, 0b010, None, 5),
                Role::Client,
                RSV1,
                Err(P::ReservedBits(2)),
            ),
            (
                with(OpCode::Continuation, true, RSV1, None, 5),
                Role::Client,
                RSV1,
                Err(P::ReservedBits(4)),
            ),
            (
                with(OpCode::Ping, true, RSV1, None, 5),
                Role::Client,
                RSV1,
                Err(P::ReservedBits(4)),
            ),
            (
                with(OpCode::Ping, false, 0, None, 5),
                Role::Client,
                0,
                Err(P::FragmentedControlFrame),
            ),
            (
                with(OpCode::Close, true, 0, None, 126),
                Role::Client,
                0,
                Err(P::ControlFrameTooLong(126)),
            ),
            (
                with(OpCode::Pong, true, 0, None, 125),
                Role::Client,
                0,
                Ok(()),
            ),
            (
                with(OpCode::Binary, false, 0, None, 1 << 40),
                Role::Client,
                0,
                Ok(()),
            ),
        ];
        for (h, role, rsv, expected) in rows {
            assert_eq!(ok(h, role, rsv), expected, "{h:?} {role:?}");
        }
    }
}
