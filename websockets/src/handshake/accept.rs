//! The `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 step 5.4) and the client's random key.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The GUID that RFC 6455 §1.3 appends to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: base64 of the SHA-1 of the key
/// (as sent, trimmed) followed by the RFC's GUID.
///
/// ```
/// use lowbit_websockets::handshake::accept_key;
/// // RFC 6455 §1.3's example.
/// assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.trim_ascii());
    sha.update(GUID);
    STANDARD.encode(sha.digest().bytes())
}

/// Whether a `Sec-WebSocket-Key` is base64 for exactly 16 bytes (RFC 6455 §4.2.1 item 5).
pub(crate) fn is_valid_key(key: &[u8]) -> bool {
    let key = key.trim_ascii();
    // 16 bytes are 24 base64 characters, the last two of them padding.
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|k| k.len() == 16)
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 §4.1: a nonce "randomly
/// selected" per connection).
///
/// The bytes come from SipHash keyed by std's `RandomState`, whose keys are drawn from the
/// operating system's entropy (once per thread, then stepped); the nonce only has to be
/// unpredictable enough that a cached or replayed response cannot match it, not secret.
pub(crate) fn new_key() -> String {
    let state = RandomState::new();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut bytes = [0u8; 16];
    for (i, half) in bytes.chunks_exact_mut(8).enumerate() {
        let mut h = state.build_hasher();
        h.write_usize(i);
        h.write_u128(nanos);
        half.copy_from_slice(&h.finish().to_le_bytes());
    }
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_and_trimming() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            accept_key(b" dGhlIHNhbXBsZSBub25jZQ==\t"),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_ne!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZA=="),
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ==")
        );
    }

    #[test]
    fn keys_must_decode_to_16_bytes() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(is_valid_key(b" dGhlIHNhbXBsZSBub25jZQ== "));
        for bad in [
            &b""[..],
            b"dGhlIHNhbXBsZSBub25jZQ",           // unpadded
            b"dGhlIHNhbXBsZSBub25jZSE=",         // 17 bytes
            b"dGhlIHNhbXBsZSBub25j",             // 15 bytes
            b"dGhlIHNhbXBsZSBub25jZQ=!",         // not base64
            b"dGhlIHNhbXBsZSBub25jZQ==dGhlIHNh", // too long
        ] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn new_keys_are_valid_and_differ() {
        let a = new_key();
        let b = new_key();
        assert!(is_valid_key(a.as_bytes()), "{a}");
        assert!(is_valid_key(b.as_bytes()), "{b}");
        assert_ne!(a, b);
    }
}
