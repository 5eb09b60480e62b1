//! HTTPS: the server's certificate is verified against webpki's roots plus the ones added with
//! `add_root_certificate`, unless `accept_invalid_certs(true)`.
//!
//! The server is a minimal HTTPS endpoint on 127.0.0.1 (rustls), answering every request
//! `200 {}`. Its certificate is issued for `IP:127.0.0.1` by a test CA (`tls/ca.pem`) that no
//! system trusts; both were made with openssl and are valid until 2126.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sentry_sdk::protocol::Level;
use sentry_sdk::ClientOptions;

use crate::support::*;

const CA: &[u8] = include_bytes!("tls/ca.pem");
const LEAF: &[u8] = include_bytes!("tls/leaf.pem");
const LEAF_KEY: &[u8] = include_bytes!("tls/leaf.key");

/// How many TLS handshakes were attempted and how many envelope requests were answered.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    envelopes: AtomicUsize,
}

/// Starts the HTTPS endpoint; returns its port and what it saw.
fn https_endpoint() -> (u16, Arc<Seen>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(LEAF).expect("leaf certificate")],
            PrivateKeyDer::from_pem_slice(LEAF_KEY).expect("leaf key"),
        )
        .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let seen = Arc::new(Seen::default());
    let counts = seen.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            counts.connections.fetch_add(1, Ordering::SeqCst);
            let (config, counts) = (config.clone(), counts.clone());
            std::thread::spawn(move || {
                let Ok(tls) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut stream = BufReader::new(rustls::StreamOwned::new(tls, tcp));
                // A failed handshake or a closed connection ends the loop.
                while let Some(path) = read_request(&mut stream) {
                    if path.ends_with("/envelope/") {
                        counts.envelopes.fetch_add(1, Ordering::SeqCst);
                    }
                    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
                    if stream.get_mut().write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, seen)
}

/// Reads one HTTP/1.1 request (head, then a `Content-Length` body) and returns its path.
fn read_request(stream: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    stream.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).ok().filter(|&n| n > 0)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).ok()?;
    Some(path)
}

fn https_options(port: u16) -> ClientOptions {
    ClientOptions::new()
        .dsn(&format!("https://public@127.0.0.1:{port}/1"))
        .default_integrations(false)
}

/// Captures one message and closes; returns whether `close` says everything was sent.
fn capture_one(options: ClientOptions) -> bool {
    let guard = sentry_sdk::init(options);
    sentry_sdk::capture_message("over https", Level::Info);
    let flushed = sentry_sdk::flush(Duration::from_secs(5));
    drop(guard);
    flushed
}

#[test]
fn an_added_root_certificate_is_trusted() {
    let _serial = serial();
    let (port, seen) = https_endpoint();
    assert!(capture_one(https_options(port).add_root_certificate(CA)));
    assert_eq!(seen.envelopes.load(Ordering::SeqCst), 1);
}

#[test]
fn a_certificate_no_root_vouches_for_is_refused() {
    let _serial = serial();
    let (port, seen) = https_endpoint();
    let guard = sentry_sdk::init(https_options(port));
    sentry_sdk::capture_message("over https", Level::Info);
    // The handshake fails (a network error: retried, then dropped as `network_error`); the
    // wait is bounded and nothing reaches the endpoint.
    within(Duration::from_secs(5), move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(guard);
    });
    assert!(seen.connections.load(Ordering::SeqCst) >= 1, "it was tried");
    assert_eq!(seen.envelopes.load(Ordering::SeqCst), 0);
}

#[test]
fn accept_invalid_certs_skips_verification() {
    let _serial = serial();
    let (port, seen) = https_endpoint();
    assert!(capture_one(https_options(port).accept_invalid_certs(true)));
    assert_eq!(seen.envelopes.load(Ordering::SeqCst), 1);
}
