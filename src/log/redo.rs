//! The transaction redo log `txn/redo.log`: committed transactions as CRC-checked frames,
//! appended one per commit and fsynced (the commit point), then emptied by a checkpoint.
//!
//! A frame is `magic "BTX1" | header length u32 | body length u32 | CRC-32C u32 | header (JSON)
//! | body (the encoded batches)`, big-endian. A commit appends its frame after the earlier ones;
//! the group offsets of the frames still in the log are only in memory and in those frames. A
//! checkpoint writes the groups' offset files (write, fsync, rename) and then empties the log; it
//! runs once the log passes [`CHECKPOINT_BYTES`], before any offsets are committed or forgotten
//! outside a transaction, and on close. Recovery replays every complete frame in order; the
//! first torn or corrupt frame and anything after it was never committed.

use super::groups::GroupStore;
use crate::transport::{IoContext, Result, TopicPartition, TransportError};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"BTX1";
const FRAME_HEAD: usize = 16;
/// Size of the redo log past which a commit checkpoints.
pub const CHECKPOINT_BYTES: u64 = 8 << 20;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct FramePart {
    pub topic: String,
    pub partition: u32,
    pub batch_lens: Vec<usize>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct FrameOffsets {
    pub group: String,
    pub offsets: Vec<(TopicPartition, i64)>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct FrameHeader {
    pub transactional_id: String,
    pub parts: Vec<FramePart>,
    pub offsets: Vec<FrameOffsets>,
}

/// The redo log file and the current epoch of each transactional id.
pub struct TxnLog {
    pub(super) path: PathBuf,
    file: File,
    /// Bytes of complete frames in the file.
    len: u64,
    pub(super) epochs: HashMap<String, u64>,
    /// A committed frame could not be applied: the log must keep it until reopened.
    apply_failed: bool,
}

impl TxnLog {
    pub fn open(dir: &Path) -> Result<TxnLog> {
        std::fs::create_dir_all(dir).at(dir)?;
        let path = dir.join("redo.log");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .at(&path)?;
        let len = file.metadata().at(&path)?.len();
        Ok(TxnLog {
            path,
            file,
            len,
            epochs: HashMap::new(),
            apply_failed: false,
        })
    }

    /// Registers a new producer instance for `id`, fencing older ones; returns its epoch.
    pub fn bump_epoch(&mut self, id: &str) -> u64 {
        let epoch = self.epochs.entry(id.to_string()).or_insert(0);
        *epoch += 1;
        *epoch
    }

    /// Appends a frame whose body is `body` (the pieces in order) and fsyncs it: the commit
    /// point. The pieces are written as they are, not copied into one buffer.
    pub fn write_frame(&mut self, header: &FrameHeader, body: &[&[u8]]) -> Result<()> {
        let head =
            serde_json::to_vec(header).map_err(|e| TransportError::Transaction(e.to_string()))?;
        let body_len: usize = body.iter().map(|b| b.len()).sum();
        if u32::try_from(body_len).is_err() || u32::try_from(head.len()).is_err() {
            return Err(TransportError::Transaction(format!(
                "a transaction of {body_len} bytes is too large for one redo frame"
            )));
        }
        let crc = body.iter().fold(crc32c::crc32c(&head), |crc, b| {
            crc32c::crc32c_append(crc, b)
        });
        let mut prefix = Vec::with_capacity(FRAME_HEAD + head.len());
        prefix.extend_from_slice(MAGIC);
        prefix.extend_from_slice(&(head.len() as u32).to_be_bytes());
        prefix.extend_from_slice(&(body_len as u32).to_be_bytes());
        prefix.extend_from_slice(&crc.to_be_bytes());
        prefix.extend_from_slice(&head);
        let mut at = self.len;
        let written = std::iter::once(&prefix[..])
            .chain(body.iter().copied())
            .try_for_each(|piece| {
                self.file.write_all_at(piece, at)?;
                at += piece.len() as u64;
                Ok(())
            })
            .and_then(|_| self.file.sync_data());
        if let Err(e) = written {
            // Whatever part reached the file is a torn frame: never committed. Later frames
            // must not follow it, so nothing more is appended until the log is reopened.
            self.apply_failed = true;
            return Err(TransportError::io(&self.path, e));
        }
        self.len = at;
        Ok(())
    }

    /// Marks the last frame as committed but not applied: it stays until the log is reopened.
    pub fn mark_apply_failed(&mut self) {
        self.apply_failed = true;
    }

    /// Refuses new commits once a frame could not be written or applied.
    pub fn check_usable(&self) -> Result<()> {
        if self.apply_failed {
            return Err(TransportError::Transaction(
                "an earlier transaction was committed but not applied; it completes when the log is reopened".into(),
            ));
        }
        Ok(())
    }

    pub fn checkpoint_due(&self) -> bool {
        self.len >= CHECKPOINT_BYTES
    }

    /// The complete frames in the redo log, in order, each with its body; a torn or corrupt frame
    /// ends the list.
    pub fn read_frames(&mut self) -> Result<Vec<(FrameHeader, Vec<u8>)>> {
        let size = self.file.metadata().at(&self.path)?.len();
        let mut bytes = vec![0u8; size as usize];
        self.file.read_exact_at(&mut bytes, 0).at(&self.path)?;
        let mut frames = Vec::new();
        let mut at = 0;
        while let Some((header, body, next)) = self.frame_at(&bytes, at)? {
            frames.push((header, body.to_vec()));
            at = next;
        }
        if at < bytes.len() {
            tracing::warn!(
                path = %self.path.display(),
                "ignoring {} bytes of a torn transaction frame at byte {at} (never committed)",
                bytes.len() - at
            );
        }
        Ok(frames)
    }

    fn frame_at<'b>(
        &self,
        bytes: &'b [u8],
        at: usize,
    ) -> Result<Option<(FrameHeader, &'b [u8], usize)>> {
        let Some(frame) = bytes.get(at..).filter(|f| f.len() >= FRAME_HEAD) else {
            return Ok(None);
        };
        if &frame[..4] != MAGIC {
            return Ok(None);
        }
        let be =
            |i: usize| u32::from_be_bytes([frame[i], frame[i + 1], frame[i + 2], frame[i + 3]]);
        let (head_len, body_len, crc) = (be(4) as usize, be(8) as usize, be(12));
        let Some(payload) = frame.get(FRAME_HEAD..FRAME_HEAD + head_len + body_len) else {
            return Ok(None);
        };
        if crc32c::crc32c(payload) != crc {
            return Ok(None);
        }
        let header: FrameHeader =
            serde_json::from_slice(&payload[..head_len]).map_err(|e| TransportError::Corrupt {
                path: self.path.clone(),
                position: (at + FRAME_HEAD) as u64,
                reason: e.to_string(),
            })?;
        Ok(Some((
            header,
            &payload[head_len..],
            at + FRAME_HEAD + payload.len(),
        )))
    }

    /// Empties the redo log (its frames are applied and their partitions fsynced).
    pub fn clear(&mut self) -> Result<()> {
        let cleared = self.file.set_len(0).and_then(|_| self.file.sync_data());
        if let Err(e) = cleared {
            // Its length is now unknown: appending could leave a gap that hides later frames.
            self.apply_failed = true;
            return Err(TransportError::io(&self.path, e));
        }
        self.len = 0;
        self.apply_failed = false;
        Ok(())
    }

    /// Makes the group offsets of the frames in the log durable in the groups' files, then
    /// empties the log. Refused while a committed frame is not applied.
    pub fn checkpoint(&mut self, groups: &mut GroupStore) -> Result<()> {
        self.check_usable()?;
        if self.len == 0 {
            return Ok(());
        }
        groups.persist_dirty()?;
        self.clear()
    }
}
