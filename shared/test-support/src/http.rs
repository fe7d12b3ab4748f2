//! Raw HTTP for requests no HTTP client sends.

use std::io::{Read, Write};
use std::time::Duration;

/// One raw HTTP/1.1 exchange with `addr` (`host:port`), for requests no HTTP client sends:
/// bytes that are not UTF-8, oversized heads, chunked bodies. The request should say
/// `Connection: close`. Returns the status (0 when there was no answer) and the body. Runs on a
/// blocking thread so that a server spawned on the test's runtime keeps being polled.
pub async fn raw_http(addr: &str, request: &[u8]) -> (u16, String) {
    let (addr, request) = (addr.to_string(), request.to_vec());
    actix_web::rt::task::spawn_blocking(move || raw_http_blocking(&addr, &request))
        .await
        .expect("the raw HTTP exchange")
}

fn raw_http_blocking(addr: &str, request: &[u8]) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a read timeout");
    // The server may answer and close before reading everything: a failed write is expected
    // then, and the answer is still in the socket to be read.
    for piece in request.chunks(4096) {
        if stream.write_all(piece).is_err() {
            break;
        }
    }
    // Read until the server closes, or until the body its Content-Length announces is in.
    let mut answer = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            });
            if length.is_some_and(|n| body.len() >= n) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A chunked request body of `total` bytes of `fill`, in chunks of 1 KiB.
pub fn chunked_body(total: usize, fill: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(total + total / 100 + 16);
    let mut left = total;
    while left > 0 {
        let n = left.min(1024);
        out.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        out.extend(std::iter::repeat_n(fill, n));
        out.extend_from_slice(b"\r\n");
        left -= n;
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}
