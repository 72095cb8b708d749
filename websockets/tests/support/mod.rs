//! Test support: an in-memory duplex pipe, a seeded chaos stream and a frame builder.
#![allow(dead_code, unreachable_pub)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::rc::Rc;

use lowbit_websockets::{Header, MAX_HEADER_LEN, OpCode};

type Queue = Rc<RefCell<VecDeque<u8>>>;

/// One end of an in-memory duplex pipe; reading an empty pipe returns `WouldBlock`.
pub struct End {
    rx: Queue,
    tx: Queue,
    pub closed: Rc<RefCell<bool>>,
}

/// Two connected ends.
pub fn duplex() -> (End, End) {
    let (a, b) = (Queue::default(), Queue::default());
    let closed = Rc::new(RefCell::new(false));
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
            closed: closed.clone(),
        },
        End {
            rx: b,
            tx: a,
            closed,
        },
    )
}

impl End {
    /// Bytes waiting to be read by this end.
    pub fn available(&self) -> usize {
        self.rx.borrow().len()
    }

    /// Takes every byte waiting for this end.
    pub fn drain(&self) -> Vec<u8> {
        self.rx.borrow_mut().drain(..).collect()
    }

    /// Puts bytes in front of this end's reader.
    pub fn inject(&self, bytes: &[u8]) {
        self.rx.borrow_mut().extend(bytes);
    }
}

impl Read for End {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut q = self.rx.borrow_mut();
        if q.is_empty() {
            if *self.closed.borrow() {
                return Ok(0);
            }
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = q.len().min(buf.len());
        for (d, s) in buf.iter_mut().zip(q.drain(..n)) {
            *d = s;
        }
        Ok(n)
    }
}

impl Write for End {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tx.borrow_mut().extend(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A stream that, from a seed, returns `WouldBlock` at random and cuts reads and writes short.
pub struct Chaos<S> {
    pub inner: S,
    state: u64,
    pub would_blocks: usize,
}

impl<S> Chaos<S> {
    pub fn new(inner: S, seed: u64) -> Self {
        Self {
            inner,
            state: seed ^ 0x5DEE_CE66_D1CE_4E5B,
            would_blocks: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    /// `None` for a WouldBlock, else the length to use.
    fn limit(&mut self, len: usize) -> Option<usize> {
        let r = self.next();
        if r % 3 == 0 {
            self.would_blocks += 1;
            return None;
        }
        let cap = if r % 5 == 0 {
            1
        } else {
            1 + (r >> 8) as usize % 97
        };
        Some(len.min(cap).max(1.min(len)))
    }
}

impl<S: Read> Read for Chaos<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.limit(buf.len()) {
            None => Err(io::ErrorKind::WouldBlock.into()),
            Some(n) => self.inner.read(&mut buf[..n]),
        }
    }
}

impl<S: Write> Write for Chaos<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.limit(buf.len()) {
            None => Err(io::ErrorKind::WouldBlock.into()),
            Some(n) => self.inner.write(&buf[..n]),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Encodes one frame, masked when `mask` is given.
pub fn frame(fin: bool, rsv: u8, op: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let header = Header {
        fin,
        rsv,
        opcode: op,
        mask,
        payload_len: payload.len() as u64,
    };
    let mut h = [0; MAX_HEADER_LEN];
    let n = header.encode(&mut h);
    let mut out = h[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        lowbit_websockets::mask::apply_mask(&mut out[start..], key, 0);
    }
    out
}

/// A frame as a client sends it (masked).
pub fn client_frame(fin: bool, op: OpCode, payload: &[u8]) -> Vec<u8> {
    frame(fin, 0, op, Some([0xA1, 0xB2, 0xC3, 0xD4]), payload)
}

/// Parses a byte string of frames into (fin, rsv, opcode, unmasked payload).
pub fn parse_frames(mut bytes: &[u8]) -> Vec<(bool, u8, OpCode, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let lowbit_websockets::Decoded::Complete { header, len } = Header::decode(bytes).unwrap()
        else {
            panic!("incomplete frame on the wire");
        };
        let end = len + header.payload_len as usize;
        let mut payload = bytes[len..end].to_vec();
        if let Some(key) = header.mask {
            lowbit_websockets::mask::apply_mask(&mut payload, key, 0);
        }
        out.push((header.fin, header.rsv, header.opcode, payload));
        bytes = &bytes[end..];
    }
    out
}

/// Deterministic test payload of `len` bytes.
pub fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Deterministic valid UTF-8 text of about `len` bytes with multibyte characters.
pub fn text(len: usize) -> String {
    let pieces = ["a", "é", "€", "𝄞", " ", "z"];
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        s.push_str(pieces[i % pieces.len()]);
        i += 1;
    }
    s
}
