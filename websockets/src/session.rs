//! `Session<S>`: a connection with or without permessage-deflate, as its handshake agreed.

use std::io::{Read, Write};

use crate::close::CloseCode;
use crate::conn::{Conn, Peer};
use crate::deflate::Deflate;
use crate::error::Error;
use crate::frame::OpCode;

/// A connection with or without permessage-deflate, as the handshake agreed
/// ([`Opened::session`](crate::handshake::Opened::session)): one type for code that serves
/// both, dispatched by a `match` (no `dyn`). It implements [`Peer`]; the decorator is boxed, so
/// a plain session stays the size of its `Conn`.
#[allow(
    clippy::large_enum_variant,
    reason = "the plain connection stays inline: boxing it would cost every plain session an allocation and a pointer chase"
)]
pub enum Session<S> {
    /// No extension.
    Plain(Conn<S>),
    /// permessage-deflate with the default backend.
    Deflate(Box<Deflate<S>>),
}

impl<S: Read + Write> Session<S> {
    /// The connection underneath.
    #[must_use]
    pub fn conn(&self) -> &Conn<S> {
        match self {
            Self::Plain(c) => c,
            Self::Deflate(d) => d.get_ref(),
        }
    }

    /// The connection underneath, mutably (for its stream's settings; reading or writing
    /// frames through it would bypass the extension).
    pub fn conn_mut(&mut self) -> &mut Conn<S> {
        match self {
            Self::Plain(c) => c,
            Self::Deflate(d) => d.get_mut(),
        }
    }

    /// Whether permessage-deflate is in force.
    #[must_use]
    pub fn is_deflate(&self) -> bool {
        matches!(self, Self::Deflate(_))
    }
}

impl<S> std::fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Session::Plain",
            Self::Deflate(_) => "Session::Deflate",
        })
    }
}

impl<S: Read + Write> Peer for Session<S> {
    fn read_message<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<(OpCode, &'b [u8]), Error> {
        match self {
            Self::Plain(c) => c.read_message(buf),
            Self::Deflate(d) => d.read_message(buf),
        }
    }

    fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error> {
        match self {
            Self::Plain(c) => c.write_message(op, payload),
            Self::Deflate(d) => d.write_message(op, payload),
        }
    }

    fn stream_message<R: Read>(
        &mut self,
        op: OpCode,
        rsv: u8,
        chunk_size: usize,
        reader: R,
    ) -> Result<(), Error> {
        match self {
            Self::Plain(c) => c.stream_message(op, rsv, chunk_size, reader),
            Self::Deflate(d) => d.stream_message(op, rsv, chunk_size, reader),
        }
    }

    fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        match self {
            Self::Plain(c) => c.close(code, reason),
            Self::Deflate(d) => d.close(code, reason),
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        match self {
            Self::Plain(c) => c.flush(),
            Self::Deflate(d) => d.flush(),
        }
    }
}
