//! Kafka's framing: every request and response is an `i32` size, then that many bytes. A size
//! below a request header's smallest or above the limit is refused before anything is read, so
//! a client cannot make the server allocate what it claims; a connection closed inside a frame
//! is an error, one closed between frames the normal end.
//!
//! May import what `kafka_wire` does.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The largest request accepted: Kafka's `socket.request.max.bytes` default (100 MiB).
pub const MAX_REQUEST_BYTES: usize = 100 * 1024 * 1024;

/// The smallest request: API key, API version and correlation id.
const MIN_REQUEST_BYTES: usize = 8;

/// The buffer first allocated for a frame; larger ones grow as their bytes arrive.
const FIRST_CHUNK: usize = 64 * 1024;

/// Why a frame could not be read or written; each closes the connection.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The client's fault: a size Kafka would refuse too.
    #[error("a request of {size} bytes is outside the accepted {min}..={max} bytes")]
    Size { size: i64, min: usize, max: usize },
    /// The connection ended inside a frame.
    #[error("the connection closed {read} bytes into a frame of {size} bytes")]
    Truncated { read: usize, size: usize },
    /// The outside world's: the socket failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// The next frame's bytes, at most `max`; `None` when the connection closed between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<Bytes>, FrameError> {
    match read_frame_size(reader, max).await? {
        Some(size) => read_frame_body(reader, size).await.map(Some),
        None => Ok(None),
    }
}

/// The size of the next frame, checked against `max`; `None` when the connection closed
/// between frames.
pub async fn read_frame_size<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<usize>, FrameError> {
    let mut size = [0u8; 4];
    let mut got = 0;
    while got < size.len() {
        match reader.read(&mut size[got..]).await? {
            0 if got == 0 => return Ok(None),
            0 => return Err(FrameError::Truncated { read: got, size: 4 }),
            n => got += n,
        }
    }
    let size = i32::from_be_bytes(size) as i64;
    let refused = || FrameError::Size {
        size,
        min: MIN_REQUEST_BYTES,
        max,
    };
    let size = usize::try_from(size).map_err(|_| refused())?;
    if !(MIN_REQUEST_BYTES..=max).contains(&size) {
        return Err(refused());
    }
    Ok(Some(size))
}

/// A frame's `size` bytes after its size.
pub async fn read_frame_body<R: AsyncRead + Unpin>(
    reader: &mut R,
    size: usize,
) -> Result<Bytes, FrameError> {
    // The buffer grows as bytes arrive: a client that announces 100 MiB and sends nothing
    // holds no more than a first chunk.
    let mut body = Vec::with_capacity(size.min(FIRST_CHUNK));
    let read = (&mut *reader)
        .take(size as u64)
        .read_to_end(&mut body)
        .await?;
    if read < size {
        return Err(FrameError::Truncated { read, size });
    }
    Ok(Bytes::from(body))
}

/// Writes `body` as one frame.
pub async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    body: &[u8],
) -> Result<(), FrameError> {
    let size = i32::try_from(body.len()).map_err(|_| FrameError::Size {
        size: body.len() as i64,
        min: 0,
        max: i32::MAX as usize,
    })?;
    writer.write_all(&size.to_be_bytes()).await?;
    writer.write_all(body).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    fn framed(size: i32, body: &[u8]) -> Vec<u8> {
        let mut out = size.to_be_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn frames_round_trip_and_a_close_between_frames_is_the_end() {
        run(async {
            let mut wire = Vec::new();
            write_frame(&mut wire, b"0123456789").await.expect("write");
            write_frame(&mut wire, b"abcdefgh").await.expect("write");
            let mut reader = &wire[..];
            let first = read_frame(&mut reader, MAX_REQUEST_BYTES)
                .await
                .expect("read");
            assert_eq!(first.as_deref(), Some(&b"0123456789"[..]));
            let second = read_frame(&mut reader, MAX_REQUEST_BYTES)
                .await
                .expect("read");
            assert_eq!(second.as_deref(), Some(&b"abcdefgh"[..]));
            let end = read_frame(&mut reader, MAX_REQUEST_BYTES)
                .await
                .expect("read");
            assert!(end.is_none());
        });
    }

    #[test]
    fn sizes_outside_the_limits_are_refused_before_reading() {
        run(async {
            for size in [-1, 0, 7, 1_001] {
                let wire = framed(size, b"");
                let err = read_frame(&mut &wire[..], 1_000)
                    .await
                    .expect_err("refused");
                assert!(matches!(err, FrameError::Size { .. }), "{size}: {err}");
            }
        });
    }

    #[test]
    fn a_close_inside_a_frame_is_an_error() {
        run(async {
            let wire = framed(20, b"only ten b");
            let err = read_frame(&mut &wire[..], 1_000)
                .await
                .expect_err("truncated");
            assert!(
                matches!(err, FrameError::Truncated { read: 10, size: 20 }),
                "{err}"
            );
            let err = read_frame(&mut &[0u8, 0][..], 1_000)
                .await
                .expect_err("in the size");
            assert!(
                matches!(err, FrameError::Truncated { read: 2, size: 4 }),
                "{err}"
            );
        });
    }
}
