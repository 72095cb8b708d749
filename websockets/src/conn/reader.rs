//! An incoming message as an `io::Read`, for messages too large to buffer whole.

use std::io::{self, Read, Write};

use super::Conn;
use super::read::Step;
use crate::error::Error;
use crate::frame::OpCode;

/// The next incoming message, read as a byte stream: see [`Conn::message_reader`].
///
/// `read` returns payload bytes across fragments (validated, bounded by the read limit, control
/// frames handled on the way) and `Ok(0)` at the end of the message. Errors come as
/// `io::Error`s wrapping [`Error`]; the connection fails as with `read_message`.
///
/// A close frame between two fragments ends the message unfinished: `read_message` drops the
/// partial message and returns the close, but a reader has already handed its bytes out, and
/// `Ok(0)` would pass them off as a whole message. So `read` fails with
/// [`io::ErrorKind::ConnectionAborted`] instead; the close has been answered, as always, and the
/// connection's next read returns [`Error::Closed`].
pub struct MessageReader<'c, S> {
    conn: &'c mut Conn<S>,
    opcode: OpCode,
    /// For a close: the bytes of its payload already returned.
    close_pos: usize,
    done: bool,
}

impl<S: Read + Write> Conn<S> {
    /// Waits for the next message and returns a reader over its payload. For a close frame
    /// (already answered), the reader has [`OpCode::Close`] and yields the close payload.
    ///
    /// ```
    /// # use std::io::{Cursor, Read};
    /// # use lowbit_websockets::{Conn, OpCode, Role};
    /// // A server reading a masked, fragmented text message: "Hel" + "lo".
    /// let wire = [0x01, 0x83, 0, 0, 0, 0, b'H', b'e', b'l', 0x80, 0x82, 0, 0, 0, 0, b'l', b'o'];
    /// let mut conn = Conn::new(Cursor::new(wire.to_vec()), Role::Server, 1 << 20, 4096)?;
    /// let mut reader = conn.message_reader()?;
    /// assert_eq!(reader.opcode(), OpCode::Text);
    /// let mut text = String::new();
    /// reader.read_to_string(&mut text).unwrap();
    /// assert_eq!(text, "Hello");
    /// # Ok::<(), lowbit_websockets::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`read_message`](Self::read_message), and [`Error::Misuse`] when a `read_message` call
    /// was interrupted in the middle of a message.
    pub fn message_reader(&mut self) -> Result<MessageReader<'_, S>, Error> {
        self.begin_read()?;
        if self.msg_in.is_some() {
            return Err(Error::Misuse("a message is half read by read_message"));
        }
        let opcode = match self.step()? {
            Step::Close => OpCode::Close,
            // An empty single-frame message has ended by the time it is seen.
            Step::End(op, _) => {
                return Ok(MessageReader {
                    conn: self,
                    opcode: op,
                    close_pos: 0,
                    done: true,
                });
            }
            Step::Payload(_) => self.msg_in.as_ref().map_or(OpCode::Binary, |m| m.opcode),
        };
        Ok(MessageReader {
            conn: self,
            opcode,
            close_pos: 0,
            done: false,
        })
    }
}

impl<S> MessageReader<'_, S> {
    /// The message's opcode: text, binary or close.
    #[must_use]
    pub fn opcode(&self) -> OpCode {
        self.opcode
    }
}

impl<S: Read + Write> Read for MessageReader<'_, S> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.opcode == OpCode::Close {
            let payload = &self.conn.close_payload()[self.close_pos..];
            let n = payload.len().min(out.len());
            out[..n].copy_from_slice(&payload[..n]);
            self.close_pos += n;
            return Ok(n);
        }
        if self.done || out.is_empty() {
            return Ok(0);
        }
        match self.conn.step()? {
            Step::Payload(_) => Ok(self.conn.read_data(out)?),
            Step::End(..) => {
                self.done = true;
                Ok(0)
            }
            Step::Close => {
                self.done = true;
                Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "the peer closed the connection in the middle of a message",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{self, Cursor, Read};

    use crate::conn::Conn;
    use crate::error::Error;
    use crate::frame::{OpCode, Role};

    #[test]
    fn a_close_between_fragments_aborts_the_reader_and_is_answered() {
        // A client reading (unmasked frames): "Hel" without FIN, then a close 1000 "bye".
        let mut wire = vec![0x01, 3, b'H', b'e', b'l'];
        wire.extend([0x88, 5, 0x03, 0xe8, b'b', b'y', b'e']);
        let stream = Wire {
            input: Cursor::new(wire),
            output: Vec::new(),
        };
        let mut conn = Conn::new(stream, Role::Client, 1024, 256).unwrap();
        let mut reader = conn.message_reader().unwrap();
        assert_eq!(reader.opcode(), OpCode::Text);
        let mut got = [0; 16];
        assert_eq!(reader.read(&mut got).unwrap(), 3);
        let err = reader.read(&mut got).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionAborted);
        assert_eq!(reader.read(&mut got).unwrap(), 0);
        assert!(matches!(
            conn.read_message(&mut Vec::new()),
            Err(Error::Closed)
        ));
        // The close was echoed (masked, as a client): 0x88, 0x82, key, masked 1000.
        assert_eq!(&conn.get_ref().output[..2], &[0x88, 0x82]);
    }

    /// Reads from `input`, records writes.
    struct Wire {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Wire {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl io::Write for Wire {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.output.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}
