//! Reading parsed headers (a borrowed view) and writing checked ones (an owned buffer).

use crate::InvalidHeader;

/// A read-only view of the headers of a parsed head.
///
/// Names compare case-insensitively (RFC 9110 §5.1). Values are raw bytes, as sent.
#[derive(Debug, Clone, Copy)]
pub struct Headers<'a> {
    raw: &'a [httparse::Header<'a>],
}

impl<'a> Headers<'a> {
    pub(crate) fn new(raw: &'a [httparse::Header<'a>]) -> Self {
        Self { raw }
    }

    /// Every header in the order received, as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a [u8])> + 'a {
        self.raw.iter().map(|h| (h.name, h.value))
    }

    /// The number of header lines.
    #[must_use]
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the head had no header lines.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The value of the first header with this name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.get_all(name).next()
    }

    /// The value of the first header with this name, if it is UTF-8 text.
    #[must_use]
    pub fn get_str(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The values of every header with this name, in the order received.
    pub fn get_all<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.raw
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// How many headers have this name.
    #[must_use]
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// The elements of a comma-separated list header, across every header with this name.
    ///
    /// RFC 9110 §5.6.1: elements are trimmed of spaces and tabs, and empty elements are skipped.
    /// Commas inside quoted strings are not special-cased; use this for token lists.
    ///
    /// ```
    /// use lowbit_cooper::Headers;
    ///
    /// /// True for `Connection: keep-alive, Upgrade`, false for `Connection: upgraded`.
    /// fn wants_upgrade(h: Headers<'_>) -> bool {
    ///     h.list("connection").any(|t| t.eq_ignore_ascii_case(b"upgrade"))
    /// }
    /// # let _ = wants_upgrade;
    /// ```
    pub fn list<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        self.get_all(name).flat_map(split_list)
    }

    /// Whether a list header with this name holds `token`, compared case-insensitively.
    #[must_use]
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.list(name)
            .any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
    }
}

/// Splits one header value into its trimmed, non-empty comma-separated elements.
pub(crate) fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(|e| e.trim_ascii())
        .filter(|e| !e.is_empty())
}

/// Headers to send, checked as they are added so that none can break the head.
///
/// A server callback adds its response headers here (they go out with the `101` or with a
/// rejection); a client passes its extra request headers in one.
///
/// ```
/// use lowbit_cooper::HeaderBuf;
/// let mut h = HeaderBuf::new();
/// h.push("Sec-WebSocket-Protocol", "chat")?;
/// assert!(h.push("X-Bad", "a\r\nInjected: yes").is_err());
/// # Ok::<(), lowbit_cooper::InvalidHeader>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderBuf {
    /// `Name: value\r\n` lines, each checked by `push`.
    lines: Vec<u8>,
}

impl HeaderBuf {
    /// An empty buffer; it allocates on the first `push`.
    #[must_use]
    pub const fn new() -> Self {
        Self { lines: Vec::new() }
    }

    /// Adds one header line.
    ///
    /// # Errors
    /// [`InvalidHeader`] if `name` is not an HTTP token (RFC 9110 §5.1) or `value` holds a control
    /// character other than a horizontal tab (RFC 9110 §5.5); nothing is added then.
    pub fn push(&mut self, name: &str, value: &str) -> Result<&mut Self, InvalidHeader> {
        if !is_token(name.as_bytes()) || !is_field_value(value.as_bytes()) {
            return Err(InvalidHeader);
        }
        self.lines.extend_from_slice(name.as_bytes());
        self.lines.extend_from_slice(b": ");
        self.lines.extend_from_slice(value.trim_ascii().as_bytes());
        self.lines.extend_from_slice(b"\r\n");
        Ok(self)
    }

    /// Whether no header was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The header lines as they will be written, each ending in CRLF.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.lines
    }

    /// Removes every header.
    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// RFC 9110 §7.8: `protocol = protocol-name ["/" protocol-version]`, both tokens.
pub(crate) fn is_protocol(s: &[u8]) -> bool {
    let mut parts = s.splitn(2, |&b| b == b'/');
    parts.all(is_token)
}

/// RFC 9110 §5.5: visible characters, spaces and tabs, and obs-text; no CR, LF, NUL or DEL.
pub(crate) fn is_field_value(s: &[u8]) -> bool {
    s.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr<'a>(name: &'a str, value: &'a [u8]) -> httparse::Header<'a> {
        httparse::Header { name, value }
    }

    #[test]
    fn lists_across_lines_with_odd_spacing() {
        let raw = [
            hdr("Connection", b"keep-alive,  Upgrade "),
            hdr("X", b"1"),
            hdr("connection", b" ,\tclose,,"),
        ];
        let h = Headers::new(&raw);
        let got: Vec<&[u8]> = h.list("CONNECTION").collect();
        assert_eq!(got, [&b"keep-alive"[..], b"Upgrade", b"close"]);
        assert!(h.has_token("connection", "upgrade"));
        assert!(h.has_token("Connection", "CLOSE"));
        assert!(!h.has_token("connection", "upgrad"));
        assert!(!h.has_token("upgrade", "websocket"));
        assert_eq!(h.count("connection"), 2);
        assert_eq!(h.get("x"), Some(&b"1"[..]));
        assert_eq!(h.get_str("CONNECTION"), Some("keep-alive,  Upgrade "));
        assert_eq!(h.len(), 3);
        assert!(!h.is_empty());
        assert_eq!(h.iter().count(), 3);
    }

    #[test]
    fn token_inside_another_token_does_not_match() {
        let raw = [hdr("Upgrade", b"websocketx, xwebsocket")];
        assert!(!Headers::new(&raw).has_token("upgrade", "websocket"));
    }

    #[test]
    fn push_checks_names_and_values() {
        let mut h = HeaderBuf::new();
        assert!(h.is_empty());
        h.push("A", " spaced\tvalue ")
            .unwrap()
            .push("B-2", "")
            .unwrap();
        assert_eq!(h.as_bytes(), b"A: spaced\tvalue\r\nB-2: \r\n");
        for (name, value) in [
            ("", "x"),
            ("Bad Name", "x"),
            ("Bad:Name", "x"),
            ("A", "x\ry"),
            ("A", "x\ny"),
            ("A", "x\0y"),
            ("A", "x\u{7f}"),
        ] {
            assert_eq!(
                h.push(name, value).err(),
                Some(InvalidHeader),
                "{name:?} {value:?}"
            );
        }
        assert_eq!(h.as_bytes(), b"A: spaced\tvalue\r\nB-2: \r\n");
        h.clear();
        assert!(h.is_empty());
    }
}
