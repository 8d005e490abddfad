//! A record batch as bytes and back (an Arrow IPC stream: its schema and rows, so types arrive
//! exactly), for rows that travel between servers.

use arrow::error::ArrowError;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use arrow::record_batch::RecordBatch;

/// The bytes of `batch`.
pub fn encode_batch(batch: &RecordBatch) -> Result<Vec<u8>, ArrowError> {
    let mut bytes = Vec::new();
    let mut writer = StreamWriter::try_new(&mut bytes, &batch.schema())?;
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(bytes)
}

/// The batch `encode_batch` wrote; an error says what is wrong with the bytes.
pub fn decode_batch(bytes: &[u8]) -> Result<RecordBatch, String> {
    let reader = StreamReader::try_new(bytes, None).map_err(|e| e.to_string())?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|e| e.to_string())?);
    }
    <[RecordBatch; 1]>::try_from(batches)
        .map(|[batch]| batch)
        .map_err(|b| format!("{} batches where one was expected", b.len()))
}
