//! The processing log: records that could not be decoded, evaluated or encoded go here with
//! the reason and their position, and the query keeps running (never silently dropped).

/// One processing error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessingError {
    pub query_id: String,
    pub topic: String,
    pub partition: u32,
    pub offset: i64,
    pub message: String,
}

/// Where processing errors go (the engine writes them to a stream users can query).
pub trait ProcessingLog: Send {
    fn report(&mut self, error: ProcessingError);
}

/// Keeps errors in memory (tests, and counting).
#[derive(Default, Debug)]
pub struct MemoryProcessingLog {
    pub errors: Vec<ProcessingError>,
}

impl ProcessingLog for MemoryProcessingLog {
    fn report(&mut self, error: ProcessingError) {
        tracing::debug!(query = %error.query_id, topic = %error.topic, offset = error.offset, "processing error: {}", error.message);
        self.errors.push(error);
    }
}

/// Where in the input a batch row came from, for error reports.
#[derive(Clone, Debug)]
pub struct RowOrigin {
    pub topic: String,
    pub partition: u32,
    pub offsets: Vec<i64>,
}
