//! Codecs shared by the connections of one thread and lent per message.
//!
//! With "no context takeover" negotiated for a direction, a codec holds nothing between
//! messages, so it need not live with the connection. A [`CodecPool`] keeps the idle codecs of
//! one thread; each connection holds a [`Pooled`] handle that borrows a codec when a message
//! starts and gives it back when the decorator resets it at the message's end. A blocking
//! thread then needs one compressor and one decompressor however many connections it serves; a
//! non-blocking one needs as many as it has messages in flight at once (a message stopped by
//! `WouldBlock` keeps its codec until it is finished).
//!
//! Correctness never depends on the negotiation: a handle whose codec is never reset (context
//! kept) simply keeps it, like a dedicated codec. Only the memory saving does.

use core::cell::{Cell, RefCell};
use core::fmt;
use std::rc::Rc;

use super::codec::{
    CodecError, Compressor, Decompressor, MAX_WINDOW_BITS, MIN_WINDOW_BITS, Progress,
};

type Make<C> = Box<dyn Fn(u8) -> Result<C, CodecError>>;

/// One idle list per window size, 8..=15.
const SIZES: usize = (MAX_WINDOW_BITS - MIN_WINDOW_BITS + 1) as usize;

struct Inner<C> {
    idle: RefCell<[Vec<C>; SIZES]>,
    make: Make<C>,
    created: Cell<usize>,
}

/// A per-thread pool of compressors or decompressors, lent to connections message by message.
///
/// Codecs are kept per window size, since each connection must use the window it agreed on
/// ([`Direction::window_bits`](crate::Direction)).
///
/// ```
/// use lowbit_websockets::{CodecPool, Compression, Compressor, ZlibRsCompressor};
/// let pool = CodecPool::compressors(|bits| ZlibRsCompressor::new(Compression::fast(), bits, 8))?;
/// let (mut a, mut b) = (pool.lend(15)?, pool.lend(15)?);
/// let mut out = [0u8; 64];
/// assert!(a.compress(b"one", &mut out, true)?.done);
/// a.reset(); // end of message: the codec goes back to the pool
/// assert!(b.compress(b"two", &mut out, true)?.done);
/// b.reset();
/// assert_eq!(pool.created(), 1);
/// # Ok::<(), lowbit_websockets::CodecError>(())
/// ```
pub struct CodecPool<C> {
    inner: Rc<Inner<C>>,
}

impl<C> Clone for CodecPool<C> {
    fn clone(&self) -> Self {
        Self {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<C> fmt::Debug for CodecPool<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodecPool")
            .field("idle", &self.idle())
            .field("created", &self.created())
            .finish()
    }
}

fn slot(window_bits: u8) -> Result<usize, CodecError> {
    if (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&window_bits) {
        Ok(usize::from(window_bits - MIN_WINDOW_BITS))
    } else {
        Err(CodecError::InvalidConfig)
    }
}

impl<C> CodecPool<C> {
    /// `make` builds a codec for a window size; one 15-bit codec is made now, so a bad
    /// configuration fails here.
    fn with_maker(make: Make<C>) -> Result<Self, CodecError> {
        let first = make(MAX_WINDOW_BITS)?;
        let idle: [Vec<C>; SIZES] = Default::default();
        let pool = Self {
            inner: Rc::new(Inner {
                idle: RefCell::new(idle),
                make,
                created: Cell::new(1),
            }),
        };
        pool.inner.idle.borrow_mut()[SIZES - 1].push(first);
        Ok(pool)
    }

    /// A handle for one connection whose direction agreed on `window_bits`; it holds no codec
    /// until a message starts.
    ///
    /// # Errors
    /// [`CodecError::InvalidConfig`] unless `window_bits` is 8..=15.
    pub fn lend(&self, window_bits: u8) -> Result<Pooled<C>, CodecError> {
        slot(window_bits)?;
        Ok(Pooled {
            pool: Rc::clone(&self.inner),
            window_bits,
            lease: None,
        })
    }

    /// Codecs waiting in the pool, all window sizes together.
    #[must_use]
    pub fn idle(&self) -> usize {
        self.inner.idle.borrow().iter().map(Vec::len).sum()
    }

    /// Codecs this pool has made so far: its peak number of messages in flight at once (per
    /// window size), plus the one made up front.
    #[must_use]
    pub fn created(&self) -> usize {
        self.inner.created.get()
    }
}

impl<C: Compressor> CodecPool<C> {
    /// A pool of compressors; `make(window_bits)` builds one for a window size.
    ///
    /// # Errors
    /// Whatever `make(15)` returns, e.g. [`CodecError::InvalidConfig`].
    pub fn compressors<F>(make: F) -> Result<Self, CodecError>
    where
        F: Fn(u8) -> Result<C, CodecError> + 'static,
    {
        Self::with_maker(Box::new(make))
    }
}

impl<D: Decompressor> CodecPool<D> {
    /// A pool of decompressors; `make(window_bits)` builds one for a window size.
    ///
    /// # Errors
    /// Whatever `make(15)` returns, e.g. [`CodecError::InvalidConfig`].
    pub fn decompressors<F>(make: F) -> Result<Self, CodecError>
    where
        F: Fn(u8) -> Result<D, CodecError> + 'static,
    {
        Self::with_maker(Box::new(make))
    }
}

/// One connection's handle on a [`CodecPool`]: a [`Compressor`] or [`Decompressor`] that
/// borrows a codec for the length of a message.
///
/// Not `Send`: a pool serves the connections of one thread.
pub struct Pooled<C> {
    pool: Rc<Inner<C>>,
    window_bits: u8,
    lease: Option<C>,
}

impl<C> fmt::Debug for Pooled<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pooled")
            .field("window_bits", &self.window_bits)
            .field("leased", &self.lease.is_some())
            .finish_non_exhaustive()
    }
}

impl<C> Pooled<C> {
    /// Whether this handle holds a codec (a message is in progress, or the context is kept).
    #[must_use]
    pub fn is_leased(&self) -> bool {
        self.lease.is_some()
    }

    fn codec(&mut self) -> Result<&mut C, CodecError> {
        if self.lease.is_none() {
            let i = slot(self.window_bits)?;
            let taken = self.pool.idle.borrow_mut()[i].pop();
            let codec = match taken {
                Some(c) => c,
                None => {
                    let c = (self.pool.make)(self.window_bits)?;
                    self.pool.created.set(self.pool.created.get() + 1);
                    c
                }
            };
            self.lease = Some(codec);
        }
        self.lease.as_mut().ok_or(CodecError::Backend)
    }

    fn give_back(&mut self, reset: impl FnOnce(&mut C)) {
        if let (Some(mut c), Ok(i)) = (self.lease.take(), slot(self.window_bits)) {
            reset(&mut c);
            self.pool.idle.borrow_mut()[i].push(c);
        }
    }
}

impl<C: Compressor> Compressor for Pooled<C> {
    fn compress(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        flush: bool,
    ) -> Result<Progress, CodecError> {
        self.codec()?.compress(input, output, flush)
    }

    /// Resets the borrowed compressor and returns it to the pool.
    fn reset(&mut self) {
        self.give_back(C::reset);
    }

    fn window_bits(&self) -> u8 {
        self.window_bits
    }
}

impl<D: Decompressor> Decompressor for Pooled<D> {
    fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> Result<Progress, CodecError> {
        self.codec()?.decompress(input, output)
    }

    /// Resets the borrowed decompressor and returns it to the pool.
    fn reset(&mut self) {
        self.give_back(D::reset);
    }

    fn window_bits(&self) -> u8 {
        self.window_bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::codec::Compression;
    use crate::deflate::zlib_rs::tests::{compress_message, inflate_message, sample};
    use crate::deflate::zlib_rs::{ZlibRsCompressor, ZlibRsDecompressor};

    #[test]
    fn interleaved_connections_share_one_pair() {
        let cpool =
            CodecPool::compressors(|b| ZlibRsCompressor::new(Compression::fast(), b, 4)).unwrap();
        let dpool = CodecPool::decompressors(ZlibRsDecompressor::new).unwrap();
        let mut conns: Vec<_> = (0..50)
            .map(|_| (cpool.lend(12).unwrap(), dpool.lend(12).unwrap()))
            .collect();
        for round in 0..3u32 {
            for (i, (c, d)) in conns.iter_mut().enumerate() {
                let msg = sample(100 + i * 37, round * 100 + i as u32);
                let sent = compress_message(c, &msg, 64, 128);
                c.reset();
                let got = inflate_message(d, &sent, 16, 256, usize::MAX).unwrap();
                d.reset();
                assert_eq!(got.as_deref(), Some(&msg[..]));
                assert!(!c.is_leased() && !d.is_leased());
            }
        }
        // One made up front (15 bits), one for the 12-bit connections.
        assert_eq!((cpool.created(), dpool.created()), (2, 2));
        assert_eq!(cpool.lend(12).unwrap().window_bits(), 12);
        assert!(matches!(cpool.lend(16), Err(CodecError::InvalidConfig)));
    }

    #[test]
    fn messages_in_flight_get_their_own_codec() {
        let pool =
            CodecPool::compressors(|b| ZlibRsCompressor::new(Compression::fast(), b, 8)).unwrap();
        let (mut a, mut b) = (pool.lend(15).unwrap(), pool.lend(15).unwrap());
        let mut out = [0u8; 256];
        // Both messages are open at once (as after WouldBlock on a non-blocking socket).
        let pa = a.compress(b"first half ", &mut out, false).unwrap();
        let pb = b.compress(b"other message", &mut out, true).unwrap();
        assert!(pb.done && pa.consumed == 11);
        assert_eq!((pool.created(), pool.idle()), (2, 0));
        a.reset();
        b.reset();
        assert_eq!(pool.idle(), 2);
        // A handle dropped mid-message takes its (dirty) codec with it.
        let mut c = pool.lend(15).unwrap();
        let _ = c.compress(b"abandoned", &mut out, false).unwrap();
        drop(c);
        assert_eq!(pool.idle(), 1);
    }

    #[test]
    fn bad_config_fails_at_setup() {
        let r = CodecPool::compressors(|_| ZlibRsCompressor::new(Compression::fast(), 15, 0));
        assert!(matches!(r, Err(CodecError::InvalidConfig)));
    }
}
