//! UTF-8 validation that works across frame boundaries and fails at the first invalid
//! sequence, not at the end of the message. Pure code on byte slices.

use crate::error::Error;

#[cfg(feature = "simd")]
use simdutf8::compat::from_utf8;
#[cfg(not(feature = "simd"))]
use std::str::from_utf8;

/// Validates a whole string.
///
/// # Errors
/// [`Error::InvalidUtf8`] (1007).
pub(crate) fn validate(bytes: &[u8]) -> Result<&str, Error> {
    from_utf8(bytes).map_err(|_| Error::InvalidUtf8)
}

/// The length of the character a lead byte starts (1 for bytes that cannot lead).
fn char_width(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// Incremental validator: feed the pieces of a message in order, then [`Utf8Validator::finish`].
/// It carries at most 3 bytes of a character split between pieces.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    carry: [u8; 4],
    carry_len: u8,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any carried bytes, ready for a new message.
    pub fn reset(&mut self) {
        self.carry_len = 0;
    }

    /// Validates the next piece.
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] as soon as the bytes seen so far cannot be the start of valid UTF-8.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        if self.carry_len > 0 {
            let have = usize::from(self.carry_len);
            let width = char_width(self.carry[0]);
            let take = (width - have).min(bytes.len());
            self.carry[have..have + take].copy_from_slice(&bytes[..take]);
            // At most 4 bytes are ever carried.
            self.carry_len = (have + take) as u8;
            bytes = &bytes[take..];
            match from_utf8(&self.carry[..have + take]) {
                Ok(_) => self.carry_len = 0,
                Err(e) if e.error_len().is_some() => return Err(Error::InvalidUtf8),
                // Still an incomplete but valid prefix: only possible when `bytes` ran out.
                Err(_) => return Ok(()),
            }
        }
        match from_utf8(bytes) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Error::InvalidUtf8),
            Err(e) => {
                let tail = &bytes[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                // An incomplete character: at most 3 bytes.
                self.carry_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Ends the message.
    ///
    /// # Errors
    /// [`Error::InvalidUtf8`] when the message ends inside a character.
    pub fn finish(&mut self) -> Result<(), Error> {
        let incomplete = self.carry_len != 0;
        self.carry_len = 0;
        if incomplete {
            Err(Error::InvalidUtf8)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incremental(pieces: &[&[u8]]) -> Result<(), usize> {
        let mut v = Utf8Validator::new();
        for (i, p) in pieces.iter().enumerate() {
            v.feed(p).map_err(|_| i)?;
        }
        v.finish().map_err(|_| pieces.len())
    }

    #[test]
    fn agrees_with_std_at_every_split_point() {
        let samples: [&[u8]; 8] = [
            "héllo wörld €𝄞 ✓".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
            b"\xf4\x90\x80\x80",
            b"\xed\xa0\x80",
            b"abc\xc0\xaf",
            b"\xe2\x82",
            b"\xf0\x9d\x84\x9e\xf0\x9d",
            b"\xff",
        ];
        for s in samples {
            let expected = std::str::from_utf8(s).is_ok();
            for a in 0..=s.len() {
                for b in a..=s.len() {
                    let r = incremental(&[&s[..a], &s[a..b], &s[b..]]);
                    assert_eq!(r.is_ok(), expected, "{s:?} split {a} {b}");
                }
            }
        }
    }

    #[test]
    fn fails_at_the_first_bad_piece() {
        // An invalid byte in piece 1 is reported in piece 1, not at the end.
        assert_eq!(incremental(&[b"ok", b"\xce\xba\xff", b"more"]), Err(1));
        // A valid prefix of a 4-byte char is accepted until it is contradicted.
        assert_eq!(incremental(&[b"\xf0\x9d", b"\x84", b"X"]), Err(2));
        // 0xF4 0x90 is already out of range: fail on the piece holding 0x90.
        assert_eq!(incremental(&[b"\xf4", b"\x90\x80\x80"]), Err(1));
    }
}
