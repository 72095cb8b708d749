//! An in-process duplex byte pipe for one thread: what one end writes, the other reads.
//! No system calls and no locking; the same pipe serves the sync (`Read + Write`) and the
//! async (tokio `AsyncRead + AsyncWrite`) libraries, so they all pay for the same copies.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::io::{self, IoSlice, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Copies `src` into `dst` (same length) at the same speed whatever their alignment.
///
/// The pipe is the harness, not a contestant: its cost must not depend on where a library's
/// frame header puts the payload. Two effects on this AMD Zen 3 make a plain `memcpy` depend
/// on it: glibc 2.36 copies 4 KiB..~1 MiB with `rep movsb`, which runs at ~2 GB/s instead of
/// ~30 when source and destination are not equally aligned; and when the destination is 1..63
/// bytes past the source modulo 4 KiB, each load of a forward copy falsely waits for the
/// previous store ("4K aliasing"). So the pipe copies with aligned 32-byte AVX2 stores, and
/// backwards in the aliasing case.
fn copy(dst: &mut [u8], src: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if src.len() >= 256 && std::is_x86_feature_detected!("avx2") {
        let ahead = (dst.as_ptr() as usize).wrapping_sub(src.as_ptr() as usize) & 4095;
        if (1..64).contains(&ahead) {
            // SAFETY: AVX2 is available (checked just above).
            unsafe { copy_avx2_backward(dst, src) };
        } else {
            // SAFETY: AVX2 is available (checked just above).
            unsafe { copy_avx2(dst, src) };
        }
        return;
    }
    dst.copy_from_slice(src);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn copy_avx2(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_store_si256};
    assert_eq!(dst.len(), src.len());
    // Align the stores (a store split across two cache lines costs about twice as much).
    let head = ((dst.as_ptr() as usize).wrapping_neg() & 31).min(dst.len());
    let (dh, dst) = dst.split_at_mut(head);
    let (sh, src) = src.split_at(head);
    dh.copy_from_slice(sh);
    let mut d = dst.chunks_exact_mut(32);
    let mut s = src.chunks_exact(32);
    for (dc, sc) in (&mut d).zip(&mut s) {
        // SAFETY: both chunks are exactly 32 bytes long; `dc` starts 32-byte aligned (the head
        // was split off for that, and every chunk is 32 bytes), as `store` requires; `loadu`
        // takes any alignment.
        unsafe {
            let v = _mm256_loadu_si256(sc.as_ptr().cast::<__m256i>());
            _mm256_store_si256(dc.as_mut_ptr().cast::<__m256i>(), v);
        }
    }
    d.into_remainder().copy_from_slice(s.remainder());
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn copy_avx2_backward(dst: &mut [u8], src: &[u8]) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_store_si256};
    assert_eq!(dst.len(), src.len());
    let n = dst.len();
    let tail = ((dst.as_ptr() as usize + n) & 31).min(n);
    let (dst, dt) = dst.split_at_mut(n - tail);
    let (src, st) = src.split_at(n - tail);
    dt.copy_from_slice(st);
    let mut d = dst.rchunks_exact_mut(32);
    let mut s = src.rchunks_exact(32);
    for (dc, sc) in (&mut d).zip(&mut s) {
        // SAFETY: both chunks are exactly 32 bytes long; `dc` ends (so starts) 32-byte
        // aligned (the tail was split off for that), as `store` requires.
        unsafe {
            let v = _mm256_loadu_si256(sc.as_ptr().cast::<__m256i>());
            _mm256_store_si256(dc.as_mut_ptr().cast::<__m256i>(), v);
        }
    }
    d.into_remainder().copy_from_slice(s.remainder());
}

/// One direction: `data[pos..end]` is unread. `data` only grows (zero-filled once), so the
/// steady state copies each byte once per write and once per read.
#[derive(Default)]
struct Chan {
    data: Vec<u8>,
    pos: usize,
    end: usize,
}

impl Chan {
    fn append(&mut self, src: &[u8]) {
        let end = self.end + src.len();
        if end > self.data.len() {
            self.data.resize(end, 0);
        }
        copy(&mut self.data[self.end..end], src);
        self.end = end;
    }

    fn read_into(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let avail = self.end - self.pos;
        if avail == 0 {
            // Single-threaded use: reading an empty pipe is a harness bug, never a wait.
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = avail.min(out.len());
        copy(&mut out[..n], &self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        }
        Ok(n)
    }
}

/// One end of an in-memory duplex pipe (see [`mem_pair`]).
pub struct MemPipe {
    tx: Rc<RefCell<Chan>>,
    rx: Rc<RefCell<Chan>>,
}

/// Two connected ends: bytes written to one are read from the other.
#[must_use]
pub fn mem_pair() -> (MemPipe, MemPipe) {
    let a = Rc::new(RefCell::new(Chan::default()));
    let b = Rc::new(RefCell::new(Chan::default()));
    (
        MemPipe {
            tx: a.clone(),
            rx: b.clone(),
        },
        MemPipe { tx: b, rx: a },
    )
}

impl MemPipe {
    /// Bytes written by the other end and not read yet.
    #[must_use]
    pub fn unread(&self) -> usize {
        let rx = self.rx.borrow();
        rx.end - rx.pos
    }
}

impl Read for MemPipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.rx.borrow_mut().read_into(out)
    }
}

impl Write for MemPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx.borrow_mut().append(buf);
        Ok(buf.len())
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut tx = self.tx.borrow_mut();
        let mut n = 0;
        for b in bufs {
            tx.append(b);
            n += b.len();
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsyncRead for MemPipe {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut rx = self.rx.borrow_mut();
        let n = match rx.read_into(buf.initialize_unfilled()) {
            Ok(n) => n,
            Err(e) => return Poll::Ready(Err(e)),
        };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemPipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Write::write(&mut *self, buf))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Write::write_vectored(&mut *self, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_cross_in_order_and_the_buffer_is_reused() {
        let (mut a, mut b) = mem_pair();
        a.write_all(b"hello ").unwrap();
        let n = a
            .write_vectored(&[IoSlice::new(b"wor"), IoSlice::new(b"ld")])
            .unwrap();
        assert_eq!(n, 5);
        let mut out = [0; 4];
        assert_eq!(b.read(&mut out).unwrap(), 4);
        assert_eq!(&out, b"hell");
        let mut rest = [0; 16];
        assert_eq!(b.read(&mut rest).unwrap(), 7);
        assert_eq!(&rest[..7], b"o world");
        assert_eq!(
            b.read(&mut rest).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        b.write_all(b"back").unwrap();
        assert_eq!(a.unread(), 4);
    }

    #[test]
    fn copy_is_exact_at_every_alignment_and_direction() {
        let src: Vec<u8> = (0..5000u32).map(|i| (i * 31 + 7) as u8).collect();
        for off in [0, 1, 10, 31, 32, 33, 63, 64, 100] {
            for len in [256, 257, 300, 1000, 4095] {
                let mut dst = vec![0u8; len + 200];
                copy(&mut dst[off..off + len], &src[3..3 + len]);
                assert_eq!(&dst[off..off + len], &src[3..3 + len]);
                assert!(dst[..off].iter().all(|&b| b == 0));
                assert!(dst[off + len..].iter().all(|&b| b == 0));
            }
        }
    }
}
