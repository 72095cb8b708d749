//! RFC 7692 negotiation: `Sec-WebSocket-Extensions` offers and responses, on byte slices.
//!
//! A header value is a comma-separated list of extensions, each a token with `;`-separated
//! parameters whose values are tokens or quoted strings (RFC 6455 §9.1). Every
//! `permessage-deflate` element is checked against RFC 7692 §7.1: no parameter twice, no unknown
//! parameter, window bits written as `8` to `15` without leading zeros (also inside quotes), the
//! `*_no_context_takeover` parameters without a value. The server declines an offer that breaks
//! a rule and goes on to the next one; the client fails a response that breaks one.
//!
//! No I/O and no allocation except the response or offer `String`.

use core::fmt;

use super::codec::{Compression, MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// The extension token of RFC 7692.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// Whether a compressor keeps its LZ77 window from one message to the next (RFC 7692 §7.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ContextTakeover {
    /// The window carries over: better ratio, but the codec state must live with the connection.
    #[default]
    Keep,
    /// The window is emptied after every message ("no context takeover"): the codec state is
    /// free between messages, so it can be shared or dropped.
    Reset,
}

/// The base-2 logarithm of an LZ77 window, 8 to 15 (RFC 7692 §7.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowBits(u8);

impl WindowBits {
    /// 256 bytes, the smallest window RFC 7692 allows.
    pub const MIN: Self = Self(MIN_WINDOW_BITS);
    /// 32 KiB, the largest window and the default.
    pub const MAX: Self = Self(MAX_WINDOW_BITS);

    /// A window of `1 << bits` bytes.
    ///
    /// # Errors
    /// [`ExtensionError::InvalidValue`] unless `bits` is 8..=15.
    pub const fn new(bits: u8) -> Result<Self, ExtensionError> {
        if bits >= MIN_WINDOW_BITS && bits <= MAX_WINDOW_BITS {
            Ok(Self(bits))
        } else {
            Err(ExtensionError::InvalidValue)
        }
    }

    /// The number of bits, 8 to 15.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for WindowBits {
    /// [`WindowBits::MAX`].
    fn default() -> Self {
        Self::MAX
    }
}

/// zlib's memory level, 1 to 9: the size of the compressor's match tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemLevel(u8);

impl MemLevel {
    /// The smallest tables.
    pub const MIN: Self = Self(1);
    /// zlib's default, 8.
    pub const DEFAULT: Self = Self(8);
    /// The largest tables.
    pub const MAX: Self = Self(9);

    /// A memory level from 1 to 9.
    ///
    /// # Errors
    /// [`ExtensionError::InvalidValue`] unless `level` is 1..=9.
    pub const fn new(level: u8) -> Result<Self, ExtensionError> {
        if level >= 1 && level <= 9 {
            Ok(Self(level))
        } else {
            Err(ExtensionError::InvalidValue)
        }
    }

    /// The level, 1 to 9.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl Default for MemLevel {
    /// [`MemLevel::DEFAULT`].
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Our permessage-deflate settings, for either role.
///
/// "Outgoing" is what we compress, "incoming" what the peer compresses. A server imposes the
/// incoming settings where RFC 7692 lets it; a client asks for them in its offer.
///
/// ```
/// use lowbit_websockets::{ContextTakeover, DeflateParams, WindowBits};
/// let params = DeflateParams::default()
///     .outgoing_context_takeover(ContextTakeover::Reset)
///     .outgoing_max_window_bits(WindowBits::new(12)?);
/// assert_eq!(params.outgoing_max_window_bits.get(), 12);
/// # Ok::<(), lowbit_websockets::ExtensionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateParams {
    /// Whether our compressor keeps its window between messages. Default [`ContextTakeover::Keep`];
    /// [`ContextTakeover::Reset`] is announced (`server_no_context_takeover` from a server,
    /// `client_no_context_takeover` from a client) and lets the compressor be shared between
    /// connections. A peer may impose `Reset` whatever this says.
    pub outgoing_context_takeover: ContextTakeover,
    /// Whether the peer may keep its window. Default [`ContextTakeover::Keep`]; `Reset` is
    /// imposed by a server (`client_no_context_takeover`) and asked by a client
    /// (`server_no_context_takeover`, which a server must accept or decline), and lets our
    /// decompressor be shared between connections.
    pub incoming_context_takeover: ContextTakeover,
    /// The largest window our compressor uses. Default 15. The compressor's window costs
    /// `4 << bits` bytes (in zlib-rs: on top of a fixed 128 KiB hash table). A peer may ask for
    /// less.
    pub outgoing_max_window_bits: WindowBits,
    /// The largest window we ask the peer to use. Default 15. A client asks for it
    /// (`server_max_window_bits`); a server can impose it only on a client that offered
    /// `client_max_window_bits`, and otherwise accepts 15. The decompressor's window costs
    /// `1 << bits` bytes (zlib-rs always allocates 32 KiB).
    pub incoming_max_window_bits: WindowBits,
    /// The compressor's memory level. Default 8 (zlib's). The match tables cost about
    /// `1 << (level + 9)` bytes in C zlib; zlib-rs keeps 128 KiB at every level.
    pub mem_level: MemLevel,
    /// The compression level. Default [`Compression::BEST_SPEED`].
    pub compression: Compression,
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self {
            outgoing_context_takeover: ContextTakeover::Keep,
            incoming_context_takeover: ContextTakeover::Keep,
            outgoing_max_window_bits: WindowBits::MAX,
            incoming_max_window_bits: WindowBits::MAX,
            mem_level: MemLevel::DEFAULT,
            compression: Compression::BEST_SPEED,
        }
    }
}

impl DeflateParams {
    /// The low-memory preset for dedicated codecs: 10-bit windows both ways, memory level 2,
    /// context kept.
    ///
    /// With the C zlib backend (`deflate-zlib`) a compressor and decompressor pair costs about
    /// 20 KiB a connection (measured, `MEMORY.md`), and compresses JSON-like traffic as well
    /// as zlib-rs at its defaults. A client that does not offer `client_max_window_bits` keeps
    /// a 15-bit window, and our decompressor then needs about 39 KiB: 51 KiB for the pair.
    /// zlib-rs cannot go below about 180 KiB a pair at any setting; with it, use
    /// [`DeflateParams::no_context_takeover`] and a [`CodecPool`](crate::CodecPool) instead.
    #[must_use]
    pub const fn low_memory() -> Self {
        Self {
            outgoing_context_takeover: ContextTakeover::Keep,
            incoming_context_takeover: ContextTakeover::Keep,
            outgoing_max_window_bits: WindowBits(10),
            incoming_max_window_bits: WindowBits(10),
            mem_level: MemLevel(2),
            compression: Compression::BEST_SPEED,
        }
    }

    /// The shared-codec preset: no context takeover in either direction, so no codec state
    /// lives with a connection between messages and codecs can be lent per message from a
    /// per-thread [`CodecPool`](crate::CodecPool).
    ///
    /// A connection then costs a few hundred bytes of handles; the thread keeps one codec pair
    /// per message in flight (about 420 KiB with zlib-rs at 15 bits, 20 KiB with C zlib at
    /// 10 bits). Small messages compress worse without the previous messages as context
    /// (about 61 % instead of 44 % of their size on JSON-like text with zlib-rs).
    #[must_use]
    pub const fn no_context_takeover() -> Self {
        Self {
            outgoing_context_takeover: ContextTakeover::Reset,
            incoming_context_takeover: ContextTakeover::Reset,
            outgoing_max_window_bits: WindowBits::MAX,
            incoming_max_window_bits: WindowBits::MAX,
            mem_level: MemLevel::DEFAULT,
            compression: Compression::BEST_SPEED,
        }
    }

    /// Sets [`Self::outgoing_context_takeover`].
    #[must_use]
    pub const fn outgoing_context_takeover(mut self, takeover: ContextTakeover) -> Self {
        self.outgoing_context_takeover = takeover;
        self
    }

    /// Sets [`Self::incoming_context_takeover`].
    #[must_use]
    pub const fn incoming_context_takeover(mut self, takeover: ContextTakeover) -> Self {
        self.incoming_context_takeover = takeover;
        self
    }

    /// Sets [`Self::outgoing_max_window_bits`].
    #[must_use]
    pub const fn outgoing_max_window_bits(mut self, bits: WindowBits) -> Self {
        self.outgoing_max_window_bits = bits;
        self
    }

    /// Sets [`Self::incoming_max_window_bits`].
    #[must_use]
    pub const fn incoming_max_window_bits(mut self, bits: WindowBits) -> Self {
        self.incoming_max_window_bits = bits;
        self
    }

    /// Sets [`Self::mem_level`].
    #[must_use]
    pub const fn mem_level(mut self, level: MemLevel) -> Self {
        self.mem_level = level;
        self
    }

    /// Sets [`Self::compression`].
    #[must_use]
    pub const fn compression(mut self, level: Compression) -> Self {
        self.compression = level;
        self
    }
}

/// What a direction of the connection agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Direction {
    /// The largest window the compressor of this direction may use.
    pub window_bits: WindowBits,
    /// Whether the compressor of this direction empties its window after each message; the
    /// decompressor of this direction must then do the same.
    pub context_takeover: ContextTakeover,
}

/// The parameters in force after a successful negotiation, seen from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Agreed {
    /// What we compress and send.
    pub outgoing: Direction,
    /// What the peer compresses and we inflate.
    pub incoming: Direction,
}

impl Agreed {
    /// The server's side of an agreement, read back from the response value [`negotiate`]
    /// produced (it states every parameter in force), e.g. from a handshake that kept only the
    /// response string.
    ///
    /// ```
    /// use lowbit_websockets::{Agreed, DeflateParams, negotiate};
    /// let (agreed, response) = negotiate(["permessage-deflate; server_max_window_bits=10"],
    ///     &DeflateParams::default()).unwrap();
    /// assert_eq!(Agreed::server_side(&response)?, agreed);
    /// # Ok::<(), lowbit_websockets::ExtensionError>(())
    /// ```
    ///
    /// # Errors
    /// Any [`ExtensionError`] when `response` is not exactly one valid `permessage-deflate`
    /// element.
    pub fn server_side(response: impl AsRef<[u8]>) -> Result<Self, ExtensionError> {
        let mut found = None;
        let mut error = None;
        for_each_element([response], |name, el| match (name, el) {
            (_, Err(e)) => error = error.or(Some(e)),
            (n, Ok(el)) if n == PERMESSAGE_DEFLATE.as_bytes() && found.is_none() => {
                found = Some(el);
            }
            (n, Ok(_)) if n == PERMESSAGE_DEFLATE.as_bytes() => {
                error = error.or(Some(ExtensionError::DuplicateExtension));
            }
            (_, Ok(_)) => error = error.or(Some(ExtensionError::UnexpectedExtension)),
        });
        if let Some(e) = error {
            return Err(e);
        }
        let el = found.ok_or(ExtensionError::Syntax)?;
        let takeover = |reset: bool| {
            if reset {
                ContextTakeover::Reset
            } else {
                ContextTakeover::Keep
            }
        };
        Ok(Self {
            outgoing: Direction {
                window_bits: el.server_max_window_bits.unwrap_or(WindowBits::MAX),
                context_takeover: takeover(el.server_no_context_takeover),
            },
            incoming: Direction {
                window_bits: el
                    .client_max_window_bits
                    .flatten()
                    .unwrap_or(WindowBits::MAX),
                context_takeover: takeover(el.client_no_context_takeover),
            },
        })
    }
}

/// A `Sec-WebSocket-Extensions` value that breaks RFC 6455 §9.1 or RFC 7692 §7.1.
///
/// A server only uses these to decline an offer; a client fails the connection (RFC 6455
/// §4.1: the handshake fails) on any of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The value is not a list of tokens with parameters.
    Syntax,
    /// A parameter RFC 7692 does not define.
    UnknownParameter,
    /// A parameter given twice in one element.
    DuplicateParameter,
    /// A value that is not allowed (window bits outside `8..=15` or with leading zeros, a value
    /// on a `*_no_context_takeover` parameter, a memory level outside `1..=9`).
    InvalidValue,
    /// A parameter that needs a value came without one.
    MissingValue,
    /// The response names an extension we did not offer.
    UnexpectedExtension,
    /// The response accepts `permessage-deflate` more than once.
    DuplicateExtension,
    /// The response holds a parameter our offer does not allow (`client_max_window_bits` when
    /// we did not offer it).
    NotOffered,
    /// The response leaves out a parameter whose acceptance is mandatory
    /// (`server_no_context_takeover` or `server_max_window_bits` that we offered).
    MissingAcceptance,
    /// The response's `server_max_window_bits` exceeds the value we offered.
    WindowTooLarge,
}

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Syntax => "malformed extension header",
            Self::UnknownParameter => "unknown permessage-deflate parameter",
            Self::DuplicateParameter => "permessage-deflate parameter given twice",
            Self::InvalidValue => "invalid permessage-deflate parameter value",
            Self::MissingValue => "permessage-deflate parameter without its value",
            Self::UnexpectedExtension => "response names an extension that was not offered",
            Self::DuplicateExtension => "response accepts permessage-deflate twice",
            Self::NotOffered => "response holds a parameter the offer does not allow",
            Self::MissingAcceptance => "response leaves out a parameter it must accept",
            Self::WindowTooLarge => "response window bits exceed the offer",
        })
    }
}

impl std::error::Error for ExtensionError {}

/// The parameters of one `permessage-deflate` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Element {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<WindowBits>,
    /// `Some(None)`: present without a value (allowed in offers only).
    client_max_window_bits: Option<Option<WindowBits>>,
}

// ---------------------------------------------------------------------------------------------
// Lexing (RFC 7230 §3.2.6 token and quoted-string, RFC 6455 §9.1 list grammar)

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Result<&'a [u8], ExtensionError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(ExtensionError::Syntax);
        }
        Ok(&self.bytes[start..self.pos])
    }

    /// A quoted string, unescaped into `out`; values longer than `out` are [`Value::TooLong`].
    fn quoted(&mut self, out: &mut [u8; 2]) -> Result<Value<'a>, ExtensionError> {
        self.pos += 1; // the opening quote
        let mut len = 0;
        loop {
            let b = self.peek().ok_or(ExtensionError::Syntax)?;
            self.pos += 1;
            let c = match b {
                b'"' => break,
                b'\\' => {
                    let c = self.peek().ok_or(ExtensionError::Syntax)?;
                    self.pos += 1;
                    c
                }
                _ => b,
            };
            // RFC 7230 qdtext / quoted-pair: HTAB, SP, VCHAR, obs-text; no other controls.
            if c != b'\t' && (c < 0x20 || c == 0x7f) {
                return Err(ExtensionError::Syntax);
            }
            if len < out.len() {
                out[len] = c;
            }
            len += 1;
        }
        Ok(if len > out.len() {
            Value::TooLong
        } else {
            Value::Unquoted(len)
        })
    }

    /// Skips to just after the next comma outside a quoted string (or to the end).
    fn recover(&mut self) {
        let mut quoted = false;
        while let Some(b) = self.peek() {
            self.pos += 1;
            match (quoted, b) {
                (false, b',') => return,
                (_, b'"') => quoted = !quoted,
                (true, b'\\') => self.pos += 1,
                _ => {}
            }
        }
    }
}

enum Value<'a> {
    Token(&'a [u8]),
    /// A quoted string of this many bytes, unescaped into the caller's buffer.
    Unquoted(usize),
    /// A quoted string too long to be a window size.
    TooLong,
}

/// Window bits as RFC 7692 §7.1.2 writes them: `8`..`15`, no leading zeros.
fn window_bits_value(v: &[u8]) -> Result<WindowBits, ExtensionError> {
    match v {
        [d @ b'8'..=b'9'] => Ok(WindowBits(d - b'0')),
        [b'1', d @ b'0'..=b'5'] => Ok(WindowBits(10 + d - b'0')),
        _ => Err(ExtensionError::InvalidValue),
    }
}

/// Parses one list element at the cursor (after any empty elements); returns its name and,
/// for `permessage-deflate`, its checked parameters. Leaves the cursor after the element's
/// comma, also after an error.
fn element<'a>(cur: &mut Cursor<'a>) -> (&'a [u8], Result<Element, ExtensionError>) {
    let start = cur.pos;
    let r = element_inner(cur);
    if r.is_err() {
        cur.pos = start;
        cur.recover();
    }
    match r {
        Ok((name, params)) => (name, params),
        Err(e) => (&[], Err(e)),
    }
}

type ParsedElement<'a> = (&'a [u8], Result<Element, ExtensionError>);

fn element_inner<'a>(cur: &mut Cursor<'a>) -> Result<ParsedElement<'a>, ExtensionError> {
    let name = cur.token()?;
    let ours = name == PERMESSAGE_DEFLATE.as_bytes();
    let mut el = Element::default();
    // The first semantic error in the element; syntax errors return at once.
    let mut verdict = Ok(());
    loop {
        cur.skip_ows();
        match cur.peek() {
            None => break,
            Some(b',') => {
                cur.pos += 1;
                break;
            }
            Some(b';') => cur.pos += 1,
            Some(_) => return Err(ExtensionError::Syntax),
        }
        cur.skip_ows();
        let pname = cur.token()?;
        cur.skip_ows();
        let mut buf = [0u8; 2];
        let value = if cur.peek() == Some(b'=') {
            cur.pos += 1;
            cur.skip_ows();
            Some(if cur.peek() == Some(b'"') {
                cur.quoted(&mut buf)?
            } else {
                Value::Token(cur.token()?)
            })
        } else {
            None
        };
        if ours && verdict.is_ok() {
            let v = value.as_ref().map(|v| match *v {
                Value::Token(t) => t,
                Value::Unquoted(n) => &buf[..n],
                Value::TooLong => b"too long",
            });
            verdict = apply(&mut el, pname, v);
        }
    }
    Ok((name, verdict.map(|()| el)))
}

/// Records one parameter of a `permessage-deflate` element (RFC 7692 §7.1).
fn apply(el: &mut Element, name: &[u8], value: Option<&[u8]>) -> Result<(), ExtensionError> {
    fn flag(slot: &mut bool, value: Option<&[u8]>) -> Result<(), ExtensionError> {
        if *slot {
            return Err(ExtensionError::DuplicateParameter);
        }
        if value.is_some() {
            return Err(ExtensionError::InvalidValue);
        }
        *slot = true;
        Ok(())
    }
    match name {
        b"server_no_context_takeover" => flag(&mut el.server_no_context_takeover, value),
        b"client_no_context_takeover" => flag(&mut el.client_no_context_takeover, value),
        b"server_max_window_bits" => {
            if el.server_max_window_bits.is_some() {
                return Err(ExtensionError::DuplicateParameter);
            }
            let v = value.ok_or(ExtensionError::MissingValue)?;
            el.server_max_window_bits = Some(window_bits_value(v)?);
            Ok(())
        }
        b"client_max_window_bits" => {
            if el.client_max_window_bits.is_some() {
                return Err(ExtensionError::DuplicateParameter);
            }
            el.client_max_window_bits = Some(value.map(window_bits_value).transpose()?);
            Ok(())
        }
        _ => Err(ExtensionError::UnknownParameter),
    }
}

/// Calls `f` for every list element of every header value, in order.
fn for_each_element<I, T>(values: I, mut f: impl FnMut(&[u8], Result<Element, ExtensionError>))
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    for value in values {
        let mut cur = Cursor {
            bytes: value.as_ref(),
            pos: 0,
        };
        loop {
            // Empty list elements are allowed and skipped (RFC 7230 §7).
            while matches!(cur.peek(), Some(b' ' | b'\t' | b',')) {
                cur.pos += 1;
            }
            if cur.peek().is_none() {
                break;
            }
            let (name, el) = element(&mut cur);
            f(name, el);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server side

/// Chooses the first `permessage-deflate` offer we can honour, and the response to send.
///
/// `offers` are the values of every `Sec-WebSocket-Extensions` request header, in order. Offers
/// that break RFC 7692 §7.1 are declined (skipped), as are other extensions. The response value
/// states exactly the parameters in force, so both ends agree without guessing:
/// `server_no_context_takeover` / `client_no_context_takeover` when that direction resets,
/// `server_max_window_bits` when the client asked for it or we use less than 15 bits,
/// `client_max_window_bits` when the client offered it and a limit applies.
///
/// Returns `None` when no offer is acceptable: the connection then goes on uncompressed.
///
/// ```
/// use lowbit_websockets::{ContextTakeover, DeflateParams, negotiate};
/// let offer = "permessage-deflate; client_max_window_bits, permessage-deflate";
/// let (agreed, response) = negotiate([offer], &DeflateParams::default()).unwrap();
/// assert_eq!(response, "permessage-deflate");
/// assert_eq!(agreed.incoming.context_takeover, ContextTakeover::Keep);
/// ```
#[must_use]
pub fn negotiate<I, T>(offers: I, params: &DeflateParams) -> Option<(Agreed, String)>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut chosen = None;
    for_each_element(offers, |name, el| {
        if let (None, true, Ok(el)) = (&chosen, name == PERMESSAGE_DEFLATE.as_bytes(), el) {
            chosen = Some(accept(&el, params));
        }
    });
    chosen
}

fn accept(offer: &Element, params: &DeflateParams) -> (Agreed, String) {
    let reset_if = |forced: bool, ours: ContextTakeover| {
        if forced { ContextTakeover::Reset } else { ours }
    };
    let outgoing = Direction {
        window_bits: offer
            .server_max_window_bits
            .map_or(params.outgoing_max_window_bits, |w| {
                w.min(params.outgoing_max_window_bits)
            }),
        context_takeover: reset_if(
            offer.server_no_context_takeover,
            params.outgoing_context_takeover,
        ),
    };
    let incoming = Direction {
        // Without client_max_window_bits in the offer the client's window cannot be limited.
        window_bits: match offer.client_max_window_bits {
            None => WindowBits::MAX,
            Some(v) => v
                .unwrap_or(WindowBits::MAX)
                .min(params.incoming_max_window_bits),
        },
        // A client that offers client_no_context_takeover resets whatever we answer (§7.1.1.2).
        context_takeover: reset_if(
            offer.client_no_context_takeover,
            params.incoming_context_takeover,
        ),
    };
    let mut response = String::from(PERMESSAGE_DEFLATE);
    if outgoing.context_takeover == ContextTakeover::Reset {
        response.push_str("; server_no_context_takeover");
    }
    if incoming.context_takeover == ContextTakeover::Reset {
        response.push_str("; client_no_context_takeover");
    }
    if offer.server_max_window_bits.is_some() || outgoing.window_bits < WindowBits::MAX {
        response.push_str("; server_max_window_bits=");
        push_bits(&mut response, outgoing.window_bits);
    }
    if let Some(v) = offer.client_max_window_bits {
        if v.is_some() || incoming.window_bits < WindowBits::MAX {
            response.push_str("; client_max_window_bits=");
            push_bits(&mut response, incoming.window_bits);
        }
    }
    (Agreed { outgoing, incoming }, response)
}

fn push_bits(s: &mut String, bits: WindowBits) {
    if bits.0 >= 10 {
        s.push('1');
    }
    s.push(char::from(b'0' + bits.0 % 10));
}

// ---------------------------------------------------------------------------------------------
// Client side

/// The `Sec-WebSocket-Extensions` value a client sends to offer permessage-deflate.
///
/// It always includes `client_max_window_bits` (with our limit when it is below 15), so the
/// server may lower our window; `server_max_window_bits` and the `*_no_context_takeover`
/// parameters appear as `params` asks.
///
/// ```
/// use lowbit_websockets::{DeflateParams, offer};
/// assert_eq!(offer(&DeflateParams::default()), "permessage-deflate; client_max_window_bits");
/// ```
#[must_use]
pub fn offer(params: &DeflateParams) -> String {
    let mut s = String::from(PERMESSAGE_DEFLATE);
    let el = offered(params);
    if el.client_no_context_takeover {
        s.push_str("; client_no_context_takeover");
    }
    if el.server_no_context_takeover {
        s.push_str("; server_no_context_takeover");
    }
    if let Some(bits) = el.server_max_window_bits {
        s.push_str("; server_max_window_bits=");
        push_bits(&mut s, bits);
    }
    if let Some(v) = el.client_max_window_bits {
        s.push_str("; client_max_window_bits");
        if let Some(bits) = v {
            s.push('=');
            push_bits(&mut s, bits);
        }
    }
    s
}

/// The element [`offer`] writes for `params`.
fn offered(params: &DeflateParams) -> Element {
    let limit = |w: WindowBits| (w < WindowBits::MAX).then_some(w);
    Element {
        server_no_context_takeover: params.incoming_context_takeover == ContextTakeover::Reset,
        client_no_context_takeover: params.outgoing_context_takeover == ContextTakeover::Reset,
        server_max_window_bits: limit(params.incoming_max_window_bits),
        client_max_window_bits: Some(limit(params.outgoing_max_window_bits)),
    }
}

/// Checks the server's `Sec-WebSocket-Extensions` response against the offer [`offer`] made
/// from the same `params`.
///
/// `Ok(None)`: the server declined (no extension in the response); the connection goes on
/// uncompressed.
///
/// # Errors
/// Any [`ExtensionError`]: the response breaks RFC 7692 §7.1 or goes beyond the offer, and the
/// client must fail the connection.
///
/// ```
/// use lowbit_websockets::{ContextTakeover, DeflateParams, verify_response};
/// let params = DeflateParams::default();
/// let agreed = verify_response(&params, ["permessage-deflate; client_no_context_takeover"])?;
/// assert_eq!(agreed.unwrap().outgoing.context_takeover, ContextTakeover::Reset);
/// # Ok::<(), lowbit_websockets::ExtensionError>(())
/// ```
pub fn verify_response<I, T>(
    params: &DeflateParams,
    response: I,
) -> Result<Option<Agreed>, ExtensionError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    verify(&offered(params), params, response)
}

fn verify<I, T>(
    offer: &Element,
    params: &DeflateParams,
    response: I,
) -> Result<Option<Agreed>, ExtensionError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut found: Option<Result<Element, ExtensionError>> = None;
    let mut first_error = None;
    for_each_element(response, |name, el| {
        let e = match (name == PERMESSAGE_DEFLATE.as_bytes(), &el, &found) {
            (_, Err(e), _) => Some(*e),
            (false, Ok(_), _) => Some(ExtensionError::UnexpectedExtension),
            (true, Ok(_), Some(_)) => Some(ExtensionError::DuplicateExtension),
            (true, Ok(_), None) => {
                found = Some(el);
                None
            }
        };
        first_error = first_error.or(e);
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    let Some(resp) = found.transpose()? else {
        return Ok(None);
    };
    // §7.1.1.1: a server accepting server_no_context_takeover includes it; it may add it unasked.
    if offer.server_no_context_takeover && !resp.server_no_context_takeover {
        return Err(ExtensionError::MissingAcceptance);
    }
    // §7.1.2.1: accepting server_max_window_bits means answering it with the same or less.
    let incoming_bits = match (offer.server_max_window_bits, resp.server_max_window_bits) {
        (Some(_), None) => return Err(ExtensionError::MissingAcceptance),
        (Some(asked), Some(got)) if got > asked => return Err(ExtensionError::WindowTooLarge),
        (_, got) => got.unwrap_or(WindowBits::MAX),
    };
    // §7.1.2.2: client_max_window_bits only if offered, and then with a value.
    let outgoing_bits = match (offer.client_max_window_bits, resp.client_max_window_bits) {
        (None, Some(_)) => return Err(ExtensionError::NotOffered),
        (_, Some(None)) => return Err(ExtensionError::MissingValue),
        // A value above our own limit leaves our limit in force (§7.1.2.2).
        (_, Some(Some(bits))) => bits.min(params.outgoing_max_window_bits),
        (_, None) => params.outgoing_max_window_bits,
    };
    let takeover = |reset: bool| {
        if reset {
            ContextTakeover::Reset
        } else {
            ContextTakeover::Keep
        }
    };
    Ok(Some(Agreed {
        outgoing: Direction {
            window_bits: outgoing_bits,
            // We reset if asked to, or if we said we would (§7.1.1.2).
            context_takeover: takeover(
                resp.client_no_context_takeover || offer.client_no_context_takeover,
            ),
        },
        incoming: Direction {
            window_bits: incoming_bits,
            context_takeover: takeover(resp.server_no_context_takeover),
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContextTakeover::{Keep, Reset};

    fn bits(b: u8) -> WindowBits {
        WindowBits::new(b).unwrap()
    }

    fn dir(b: u8, context_takeover: ContextTakeover) -> Direction {
        Direction {
            window_bits: bits(b),
            context_takeover,
        }
    }

    /// Server side with default params: offer → response (`None`: every offer declined).
    #[test]
    fn server_negotiation_table() {
        let pmd = "permessage-deflate";
        let rows: &[(&str, Option<&str>)] = &[
            // The bare offer, and the one browsers send.
            ("permessage-deflate", Some(pmd)),
            ("permessage-deflate; client_max_window_bits", Some(pmd)),
            // §7.1.1.1 / §7.1.1.2: takeover parameters are accepted and stated.
            (
                "permessage-deflate; server_no_context_takeover",
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            (
                "permessage-deflate; client_no_context_takeover",
                Some("permessage-deflate; client_no_context_takeover"),
            ),
            // §7.1.2.1: server_max_window_bits answered with the value in force; 8 included.
            (
                "permessage-deflate; server_max_window_bits=10",
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                "permessage-deflate; server_max_window_bits=8",
                Some("permessage-deflate; server_max_window_bits=8"),
            ),
            (
                "permessage-deflate; server_max_window_bits=15",
                Some("permessage-deflate; server_max_window_bits=15"),
            ),
            // §7.1.2.2: a client's own limit is stated back.
            (
                "permessage-deflate; client_max_window_bits=12",
                Some("permessage-deflate; client_max_window_bits=12"),
            ),
            // RFC 6455 §9.1: quoted values, unescaped, must be tokens.
            (
                "permessage-deflate; server_max_window_bits=\"10\"",
                Some("permessage-deflate; server_max_window_bits=10"),
            ),
            (
                "permessage-deflate; client_max_window_bits=\"1\\1\"",
                Some("permessage-deflate; client_max_window_bits=11"),
            ),
            ("permessage-deflate; server_max_window_bits=\"\"", None),
            ("permessage-deflate; server_max_window_bits=\"100\"", None),
            // Values: 8..=15 without leading zeros, and required on server_max_window_bits.
            ("permessage-deflate; server_max_window_bits", None),
            ("permessage-deflate; server_max_window_bits=16", None),
            ("permessage-deflate; server_max_window_bits=7", None),
            ("permessage-deflate; server_max_window_bits=010", None),
            ("permessage-deflate; server_max_window_bits=09", None),
            ("permessage-deflate; client_max_window_bits=1", None),
            ("permessage-deflate; client_max_window_bits=0x0f", None),
            ("permessage-deflate; server_no_context_takeover=1", None),
            ("permessage-deflate; client_no_context_takeover=\"\"", None),
            // Duplicates and unknown parameters decline the offer.
            (
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                None,
            ),
            (
                "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
                None,
            ),
            (
                "permessage-deflate; server_max_window_bits=9; server_max_window_bits=9",
                None,
            ),
            ("permessage-deflate; mux", None),
            // Names are compared exactly; other extensions are not ours.
            ("Permessage-Deflate", None),
            ("x-webkit-deflate-frame", None),
            ("permessage-deflate-x", None),
            // Syntax errors decline the element.
            ("permessage-deflate;", None),
            ("permessage-deflate; =10", None),
            ("permessage-deflate; server_max_window_bits=", None),
            ("permessage-deflate server_no_context_takeover", None),
            ("permessage-deflate; server_max_window_bits=\"10", None),
            ("permessage-deflate; server_max_window_bits=1\u{7f}0", None),
            // The first acceptable offer wins; broken ones before it are skipped.
            (
                "x-foo, permessage-deflate; bogus, permessage-deflate; server_no_context_takeover",
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            (
                "permessage-deflate; server_no_context_takeover, permessage-deflate",
                Some("permessage-deflate; server_no_context_takeover"),
            ),
            // A comma inside a quoted string does not split the list.
            ("x; a=\"q,uoted\", permessage-deflate", Some(pmd)),
            ("permessage-deflate; a=\"x, permessage-deflate\"", None),
            // Whitespace and empty list elements (RFC 7230 §7).
            (
                " ,, permessage-deflate ;\tclient_max_window_bits = 10 , ",
                Some("permessage-deflate; client_max_window_bits=10"),
            ),
            // Autobahn 13.7: several offers, the first is taken.
            (
                "permessage-deflate; client_no_context_takeover; server_max_window_bits=8, \
                 permessage-deflate; client_no_context_takeover; client_max_window_bits, \
                 permessage-deflate; client_max_window_bits",
                Some("permessage-deflate; client_no_context_takeover; server_max_window_bits=8"),
            ),
            ("", None),
        ];
        for (offer, expected) in rows {
            let got = negotiate([offer], &DeflateParams::default()).map(|(_, r)| r);
            assert_eq!(got.as_deref(), *expected, "offer {offer:?}");
        }
    }

    #[test]
    fn offers_across_several_header_lines() {
        let lines = ["x-foo", "permessage-deflate; bad=", "permessage-deflate"];
        let (_, response) = negotiate(lines, &DeflateParams::default()).unwrap();
        assert_eq!(response, "permessage-deflate");
        assert!(negotiate(Vec::<&str>::new(), &DeflateParams::default()).is_none());
    }

    #[test]
    fn server_agreed_values() {
        let (agreed, _) = negotiate(
            ["permessage-deflate; server_max_window_bits=9; client_no_context_takeover"],
            &DeflateParams::default(),
        )
        .unwrap();
        assert_eq!(agreed.outgoing, dir(9, Keep));
        assert_eq!(agreed.incoming, dir(15, Reset));
    }

    #[test]
    fn server_imposes_its_params() {
        let low = DeflateParams::default()
            .outgoing_context_takeover(Reset)
            .incoming_context_takeover(Reset)
            .outgoing_max_window_bits(bits(9))
            .incoming_max_window_bits(bits(10));
        let rows: &[(&str, &str, Direction, Direction)] = &[
            (
                "permessage-deflate; client_max_window_bits",
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=10",
                dir(9, Reset),
                dir(10, Reset),
            ),
            // Without client_max_window_bits the client keeps 15 bits (§7.1.2.2).
            (
                "permessage-deflate",
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=9",
                dir(9, Reset),
                dir(15, Reset),
            ),
            // The smaller of the client's ask and our cap.
            (
                "permessage-deflate; server_max_window_bits=8; client_max_window_bits=9",
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=8; client_max_window_bits=9",
                dir(8, Reset),
                dir(9, Reset),
            ),
        ];
        for (offer, response, outgoing, incoming) in rows {
            let (agreed, got) = negotiate([offer], &low).unwrap();
            assert_eq!(got, *response, "offer {offer:?}");
            assert_eq!(agreed.outgoing, *outgoing, "offer {offer:?}");
            assert_eq!(agreed.incoming, *incoming, "offer {offer:?}");
        }
    }

    /// Client side: response → agreed parameters or the error that fails the connection.
    #[test]
    fn client_verification_table() {
        let default = DeflateParams::default();
        let strict = DeflateParams::default()
            .incoming_context_takeover(Reset)
            .incoming_max_window_bits(bits(10));
        let small = DeflateParams::default().outgoing_max_window_bits(bits(10));
        type Row<'a> = (
            &'a DeflateParams,
            &'a str,
            Result<Option<Agreed>, ExtensionError>,
        );
        let ok = |out: Direction, inc: Direction| {
            Ok(Some(Agreed {
                outgoing: out,
                incoming: inc,
            }))
        };
        let rows: &[Row<'_>] = &[
            (&default, "", Ok(None)),
            (
                &default,
                "permessage-deflate",
                ok(dir(15, Keep), dir(15, Keep)),
            ),
            (
                &default,
                "permessage-deflate; server_no_context_takeover",
                ok(dir(15, Keep), dir(15, Reset)),
            ),
            (
                &default,
                "permessage-deflate; client_no_context_takeover",
                ok(dir(15, Reset), dir(15, Keep)),
            ),
            (
                &default,
                "permessage-deflate; client_max_window_bits=10",
                ok(dir(10, Keep), dir(15, Keep)),
            ),
            // §7.1.2.1: a server may state its window unasked.
            (
                &default,
                "permessage-deflate; server_max_window_bits=9",
                ok(dir(15, Keep), dir(9, Keep)),
            ),
            // §7.1.2.2: in a response client_max_window_bits needs a value.
            (
                &default,
                "permessage-deflate; client_max_window_bits",
                Err(ExtensionError::MissingValue),
            ),
            (
                &default,
                "permessage-deflate, permessage-deflate",
                Err(ExtensionError::DuplicateExtension),
            ),
            (&default, "x-foo", Err(ExtensionError::UnexpectedExtension)),
            (
                &default,
                "permessage-deflate; foo",
                Err(ExtensionError::UnknownParameter),
            ),
            (
                &default,
                "permessage-deflate; server_max_window_bits=16",
                Err(ExtensionError::InvalidValue),
            ),
            (
                &default,
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                Err(ExtensionError::DuplicateParameter),
            ),
            (&default, "permessage-deflate;", Err(ExtensionError::Syntax)),
            // §7.1.1.1 and §7.1.2.1: what we asked of the server must be accepted explicitly.
            (
                &strict,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
                ok(dir(15, Keep), dir(10, Reset)),
            ),
            (
                &strict,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=8",
                ok(dir(15, Keep), dir(8, Reset)),
            ),
            (
                &strict,
                "permessage-deflate; server_max_window_bits=10",
                Err(ExtensionError::MissingAcceptance),
            ),
            (
                &strict,
                "permessage-deflate; server_no_context_takeover",
                Err(ExtensionError::MissingAcceptance),
            ),
            (
                &strict,
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
                Err(ExtensionError::WindowTooLarge),
            ),
            // §7.1.2.2: our own limit stays in force against a larger answer.
            (
                &small,
                "permessage-deflate; client_max_window_bits=12",
                ok(dir(10, Keep), dir(15, Keep)),
            ),
            (
                &small,
                "permessage-deflate; client_max_window_bits=9",
                ok(dir(9, Keep), dir(15, Keep)),
            ),
        ];
        for (params, response, expected) in rows {
            let values: &[&str] = if response.is_empty() {
                &[]
            } else {
                &[response]
            };
            let got = verify_response(params, values.iter());
            assert_eq!(got, *expected, "response {response:?}");
        }
    }

    #[test]
    fn client_max_window_bits_refused_when_not_offered() {
        let offer = Element::default();
        let params = DeflateParams::default();
        assert_eq!(
            verify(
                &offer,
                &params,
                ["permessage-deflate; client_max_window_bits=10"]
            ),
            Err(ExtensionError::NotOffered)
        );
        assert!(verify(&offer, &params, ["permessage-deflate"]).is_ok());
    }

    #[test]
    fn offers_written_from_params() {
        let rows = [
            (
                DeflateParams::default(),
                "permessage-deflate; client_max_window_bits",
            ),
            (
                DeflateParams::default()
                    .outgoing_context_takeover(Reset)
                    .incoming_context_takeover(Reset)
                    .incoming_max_window_bits(bits(9))
                    .outgoing_max_window_bits(bits(12)),
                "permessage-deflate; client_no_context_takeover; server_no_context_takeover; \
                 server_max_window_bits=9; client_max_window_bits=12",
            ),
        ];
        for (params, expected) in rows {
            assert_eq!(offer(&params), expected);
        }
    }

    /// Our client against our server, every combination: both sides agree on every direction.
    #[test]
    fn client_and_server_agree() {
        let takeovers = [Keep, Reset];
        let windows = [8, 9, 12, 15];
        let mut all = Vec::new();
        for a in takeovers {
            for b in takeovers {
                for w in windows {
                    for v in windows {
                        all.push(
                            DeflateParams::default()
                                .outgoing_context_takeover(a)
                                .incoming_context_takeover(b)
                                .outgoing_max_window_bits(bits(w))
                                .incoming_max_window_bits(bits(v)),
                        );
                    }
                }
            }
        }
        for client in &all {
            for server in &all {
                let (s, response) = negotiate([offer(client)], server).unwrap();
                let c = verify_response(client, [&response]).unwrap().unwrap();
                assert_eq!(Agreed::server_side(&response), Ok(s), "{response}");
                assert_eq!(c.outgoing, s.incoming, "{client:?} / {server:?}");
                assert_eq!(c.incoming, s.outgoing, "{client:?} / {server:?}");
                // Each side's own limits hold.
                assert!(c.outgoing.window_bits <= client.outgoing_max_window_bits);
                assert!(c.incoming.window_bits <= client.incoming_max_window_bits);
                assert!(s.outgoing.window_bits <= server.outgoing_max_window_bits);
                assert!(s.incoming.window_bits <= server.incoming_max_window_bits);
                if client.incoming_context_takeover == Reset
                    || server.outgoing_context_takeover == Reset
                {
                    assert_eq!(s.outgoing.context_takeover, Reset);
                }
            }
        }
    }

    #[test]
    fn presets_negotiate_as_documented() {
        // A browser's offer against each preset.
        let browser = ["permessage-deflate; client_max_window_bits"];
        let (agreed, response) = negotiate(browser, &DeflateParams::low_memory()).unwrap();
        assert_eq!(
            response,
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"
        );
        assert_eq!(
            (agreed.outgoing, agreed.incoming),
            (dir(10, Keep), dir(10, Keep))
        );
        let (agreed, response) = negotiate(browser, &DeflateParams::no_context_takeover()).unwrap();
        assert_eq!(
            response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        );
        assert_eq!(
            (agreed.outgoing, agreed.incoming),
            (dir(15, Reset), dir(15, Reset))
        );
        // As a client, the shared preset needs the server to accept server_no_context_takeover.
        assert_eq!(
            offer(&DeflateParams::no_context_takeover()),
            "permessage-deflate; client_no_context_takeover; server_no_context_takeover; \
             client_max_window_bits"
        );
        assert_eq!(DeflateParams::low_memory().mem_level.get(), 2);
    }

    #[test]
    fn value_types() {
        assert_eq!(WindowBits::new(7), Err(ExtensionError::InvalidValue));
        assert_eq!(WindowBits::new(16), Err(ExtensionError::InvalidValue));
        assert_eq!(WindowBits::new(8).map(WindowBits::get), Ok(8));
        assert_eq!(MemLevel::new(0), Err(ExtensionError::InvalidValue));
        assert_eq!(MemLevel::new(10), Err(ExtensionError::InvalidValue));
        assert_eq!(MemLevel::new(1), Ok(MemLevel::MIN));
        assert_eq!(WindowBits::default(), WindowBits::MAX);
    }
}
