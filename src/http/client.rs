//! A minimal blocking HTTP/1.1 client (one request per connection, chunked bodies decoded),
//! for the conformance runner and tests that drive the API the way a client on the wire does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A response: status code, and the body (chunked transfer decoded).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// Sends one request (`headers` are extra `Name: value\r\n` lines) and reads the whole
/// response; `timeout` bounds the whole exchange (a stream that keeps sending keep-alives
/// still ends in a `TimedOut` error).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
    timeout: Duration,
) -> std::io::Result<Reply> {
    let deadline = Instant::now() + timeout;
    let stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    let extra = format!("Connection: close\r\n{headers}");
    let (mut reader, status, chunked) =
        send_and_read_head(stream, addr, method, path, &extra, body)?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        let n = reader.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buffer[..n]);
        if Instant::now() > deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no complete response within {timeout:?}"),
            ));
        }
    }
    let body = if chunked { dechunk(&raw) } else { raw };
    Ok(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// POSTs a JSON body.
pub fn post_json(
    addr: SocketAddr,
    path: &str,
    body: &str,
    timeout: Duration,
) -> std::io::Result<Reply> {
    request(
        addr,
        "POST",
        path,
        "Content-Type: application/json\r\n",
        body,
        timeout,
    )
}

/// A streaming response read line by line as it arrives (chunk framing removed): a push
/// query's rows.
pub struct LineStream {
    reader: BufReader<TcpStream>,
    pending: String,
    /// The connection, to close it from another thread.
    pub socket: TcpStream,
}

impl LineStream {
    /// POSTs a JSON body and checks for 200; the error is the response body otherwise.
    pub fn open(addr: SocketAddr, path: &str, body: &str) -> std::io::Result<LineStream> {
        let stream = TcpStream::connect(addr)?;
        let socket = stream.try_clone()?;
        let json = "Content-Type: application/json\r\n";
        let (reader, status, chunked) = send_and_read_head(stream, addr, "POST", path, json, body)?;
        let ok = status == 200;
        let mut lines = LineStream {
            reader,
            pending: String::new(),
            socket,
        };
        if !ok {
            let mut body = Vec::new();
            lines.reader.read_to_end(&mut body)?;
            let body = if chunked { dechunk(&body) } else { body };
            return Err(std::io::Error::other(
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
        Ok(lines)
    }

    /// The next line of the body; `None` at its end.
    pub fn next_line(&mut self) -> std::io::Result<Option<String>> {
        loop {
            if let Some(i) = self.pending.find('\n') {
                let line = self.pending[..i].to_string();
                self.pending.drain(..=i);
                return Ok(Some(line));
            }
            let mut size = String::new();
            if self.reader.read_line(&mut size)? == 0 {
                return Ok(None);
            }
            let size = usize::from_str_radix(size.trim(), 16)
                .map_err(|e| std::io::Error::other(format!("bad chunk size {size:?}: {e}")))?;
            if size == 0 {
                return Ok(None);
            }
            let mut chunk = vec![0u8; size + 2];
            self.reader.read_exact(&mut chunk)?;
            self.pending
                .push_str(&String::from_utf8_lossy(&chunk[..size]));
        }
    }
}

/// Writes a request and reads the response's status line and headers: the reader positioned
/// at the body, the status, and whether the body is chunked.
fn send_and_read_head(
    mut stream: TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<(BufReader<TcpStream>, u16, bool)> {
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n{headers}\r\n{body}",
        body.len()
    );
    stream.write_all(text.as_bytes())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line: {status_line:?}")))?;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        chunked |= lower.starts_with("transfer-encoding:") && lower.contains("chunked");
    }
    Ok((reader, status, chunked))
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&raw[..end]);
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        let stop = (start + size).min(raw.len());
        out.extend_from_slice(&raw[start..stop]);
        raw = &raw[(stop + 2).min(raw.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), b"abcde");
        assert_eq!(dechunk(b"0\r\n\r\n"), b"");
    }
}
