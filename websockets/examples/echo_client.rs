//! Sends each line of stdin as a text message and prints the replies.
//!
//! ```text
//! cargo run --example echo_client -- ws://127.0.0.1:9001
//! cargo run --features tls --example echo_client -- wss://localhost:9443 --ca cert.pem
//! ```
//!
//! For `wss://`, build with the `tls` feature and name the PEM file of the certificate(s) to
//! trust with `--ca` (this crate ships no root store).

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use lowbit_websockets::handshake::Handshake;
use lowbit_websockets::{CloseCode, Error, OpCode, Peer};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut url = None;
    let mut ca = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => ca = args.next(),
            "--no-deflate" => {}
            _ => url = Some(arg),
        }
    }
    let Some(url) = url else {
        eprintln!("usage: echo_client ws://HOST:PORT/PATH | wss://HOST:PORT/PATH --ca CERT.pem");
        return ExitCode::FAILURE;
    };
    match run(&url, ca.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(url: &str, ca: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    let handshake = Handshake::new();
    if url
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("wss://"))
    {
        return run_tls(&handshake, url, ca);
    }
    let mut conn = handshake.connect(url)?.conn;
    chat(&mut conn)?;
    Ok(())
}

#[cfg(feature = "tls")]
fn run_tls(
    handshake: &Handshake,
    url: &str,
    ca: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    use std::sync::Arc;

    let ca = ca.ok_or("a wss:// url needs --ca CERT.pem")?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut conn = handshake.connect_tls(url, Arc::new(config))?.conn;
    chat(&mut conn)?;
    Ok(())
}

#[cfg(not(feature = "tls"))]
fn run_tls(_: &Handshake, _: &str, _: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    Err("wss:// needs the tls feature: cargo run --features tls --example echo_client".into())
}

/// Sends stdin line by line and prints each reply; closes at the end of stdin.
fn chat<P: Peer>(peer: &mut P) -> Result<(), Error> {
    let mut buf = Vec::new();
    let stdout = io::stdout();
    for line in io::stdin().lock().lines() {
        let line = line?;
        peer.write_message(OpCode::Text, line.as_bytes())?;
        peer.flush()?;
        match peer.read_message(&mut buf)? {
            (OpCode::Close, _) => return Ok(()),
            (OpCode::Text, reply) => {
                let mut out = stdout.lock();
                out.write_all(reply)?;
                out.write_all(b"\n")?;
                out.flush()?;
            }
            (op, reply) => println!("({op:?}, {} bytes)", reply.len()),
        }
    }
    peer.close(CloseCode::NORMAL, "")
}
