//! The message layer shared by `mio_server` and `load`: a plain [`Conn`], or the deflate
//! decorator with one of the memory presets, behind one set of calls. Each example uses most of
//! it; `#[allow(dead_code)]` marks what only one of them calls.

use std::io::{Read, Write};

#[cfg(feature = "deflate")]
use lowbit_websockets::{
    Agreed, CodecPool, Deflate, DeflateParams, Pooled, ZlibRsCompressor, ZlibRsDecompressor,
};
use lowbit_websockets::{Conn, Error, OpCode};
#[cfg(feature = "deflate-zlib")]
use lowbit_websockets::{ZlibCompressor, ZlibDecompressor};

/// A permessage-deflate memory preset (see `websockets/src/deflate/MEMORY.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Preset {
    /// `DeflateParams::default()`: 15-bit windows kept between messages, a dedicated zlib-rs
    /// pair per connection.
    #[cfg(feature = "deflate")]
    Default,
    /// `DeflateParams::low_memory()`: 10-bit windows, memory level 2, a dedicated C zlib pair.
    #[cfg(feature = "deflate-zlib")]
    LowMemory,
    /// `DeflateParams::no_context_takeover()`: windows reset after each message, zlib-rs codecs
    /// shared by the thread's connections and lent per message.
    #[cfg(feature = "deflate")]
    Shared,
}

impl Preset {
    /// The presets this build offers, with their command-line names.
    pub(crate) const ALL: &[(&str, Preset)] = &[
        #[cfg(feature = "deflate")]
        ("default", Preset::Default),
        #[cfg(feature = "deflate-zlib")]
        ("low-memory", Preset::LowMemory),
        #[cfg(feature = "deflate")]
        ("shared", Preset::Shared),
    ];

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|&(_, p)| p)
    }

    #[cfg(feature = "deflate")]
    pub(crate) fn params(self) -> DeflateParams {
        match self {
            Self::Default => DeflateParams::default(),
            #[cfg(feature = "deflate-zlib")]
            Self::LowMemory => DeflateParams::low_memory(),
            Self::Shared => DeflateParams::no_context_takeover(),
        }
    }
}

/// Builds the deflate layer for connections of one thread (it holds that thread's pools).
#[cfg(feature = "deflate")]
pub(crate) struct Codecs {
    preset: Preset,
    params: DeflateParams,
    pools: Option<(CodecPool<ZlibRsCompressor>, CodecPool<ZlibRsDecompressor>)>,
}

#[cfg(feature = "deflate")]
impl Codecs {
    pub(crate) fn new(preset: Preset) -> Result<Self, String> {
        let params = preset.params();
        let pools = if preset == Preset::Shared {
            let (level, mem) = (params.compression, params.mem_level.get());
            let c = CodecPool::compressors(move |bits| ZlibRsCompressor::new(level, bits, mem));
            let d = CodecPool::decompressors(ZlibRsDecompressor::new);
            Some((c.map_err(|e| e.to_string())?, d.map_err(|e| e.to_string())?))
        } else {
            None
        };
        Ok(Self {
            preset,
            params,
            pools,
        })
    }

    /// How many compressors and decompressors the shared pools made (their peak use).
    #[allow(dead_code)] // the server reports it; the load generator does not
    pub(crate) fn pools_created(&self) -> Option<(usize, usize)> {
        self.pools.as_ref().map(|(c, d)| (c.created(), d.created()))
    }

    pub(crate) fn params(&self) -> &DeflateParams {
        &self.params
    }

    /// Wraps `conn` for what the handshake agreed.
    pub(crate) fn wrap<S: Read + Write>(
        &self,
        conn: Conn<S>,
        agreed: &Agreed,
    ) -> Result<Ws<S>, Error> {
        let out_bits = agreed.outgoing.window_bits.get();
        let in_bits = agreed.incoming.window_bits.get();
        let bad = |_| Error::InvalidConfig("codec parameters");
        Ok(match (self.preset, &self.pools) {
            (Preset::Shared, Some((c, d))) => Ws::Shared(Box::new(Deflate::with_codec(
                conn,
                agreed,
                c.lend(out_bits).map_err(bad)?,
                d.lend(in_bits).map_err(bad)?,
            )?)),
            #[cfg(feature = "deflate-zlib")]
            (Preset::LowMemory, _) => Ws::Small(Box::new(Deflate::with_codec(
                conn,
                agreed,
                ZlibCompressor::new(
                    self.params.compression,
                    out_bits,
                    self.params.mem_level.get(),
                )
                .map_err(bad)?,
                ZlibDecompressor::new(in_bits).map_err(bad)?,
            )?)),
            _ => Ws::Dedicated(Box::new(Deflate::new(conn, agreed, &self.params)?)),
        })
    }
}

/// The message layer of an open connection. The deflate variants are boxed, so a plain
/// connection's slot does not grow by the decorator's size; the plain one stays inline, since
/// boxing it would cost every plain connection a pointer and a malloc header.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Ws<S> {
    /// No extension.
    Plain(Conn<S>),
    /// Deflate with a dedicated zlib-rs pair.
    #[cfg(feature = "deflate")]
    Dedicated(Box<Deflate<S>>),
    /// Deflate with a dedicated C zlib pair.
    #[cfg(feature = "deflate-zlib")]
    Small(Box<Deflate<S, ZlibCompressor, ZlibDecompressor>>),
    /// Deflate with codecs lent by the thread's pools.
    #[cfg(feature = "deflate")]
    Shared(Box<Deflate<S, Pooled<ZlibRsCompressor>, Pooled<ZlibRsDecompressor>>>),
}

/// Runs `$body` with `$p` bound to whichever layer `$ws` holds.
macro_rules! each {
    ($ws:expr, $p:ident => $body:expr) => {
        match $ws {
            Ws::Plain($p) => $body,
            #[cfg(feature = "deflate")]
            Ws::Dedicated($p) => $body,
            #[cfg(feature = "deflate-zlib")]
            Ws::Small($p) => $body,
            #[cfg(feature = "deflate")]
            Ws::Shared($p) => $body,
        }
    };
}

impl<S: Read + Write> Ws<S> {
    pub(crate) fn conn(&self) -> &Conn<S> {
        match self {
            Ws::Plain(c) => c,
            #[cfg(feature = "deflate")]
            Ws::Dedicated(d) => d.get_ref(),
            #[cfg(feature = "deflate-zlib")]
            Ws::Small(d) => d.get_ref(),
            #[cfg(feature = "deflate")]
            Ws::Shared(d) => d.get_ref(),
        }
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Conn<S> {
        match self {
            Ws::Plain(c) => c,
            #[cfg(feature = "deflate")]
            Ws::Dedicated(d) => d.get_mut(),
            #[cfg(feature = "deflate-zlib")]
            Ws::Small(d) => d.get_mut(),
            #[cfg(feature = "deflate")]
            Ws::Shared(d) => d.get_mut(),
        }
    }

    pub(crate) fn read_message<'b>(
        &mut self,
        buf: &'b mut Vec<u8>,
    ) -> Result<(OpCode, &'b [u8]), Error> {
        each!(self, p => p.read_message(buf))
    }

    pub(crate) fn write_message(&mut self, op: OpCode, payload: &[u8]) -> Result<(), Error> {
        each!(self, p => p.write_message(op, payload))
    }

    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        each!(self, p => p.flush())
    }

    #[allow(dead_code)] // the load generator closes; the server only answers closes
    pub(crate) fn close(
        &mut self,
        code: lowbit_websockets::CloseCode,
        reason: &str,
    ) -> Result<(), Error> {
        each!(self, p => p.close(code, reason))
    }
}
