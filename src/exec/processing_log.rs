//! The processing log: records that could not be decoded, evaluated or encoded go here with
//! the reason and their position, and the query keeps running (never silently dropped).

/// One processing error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessingError {
    pub query_id: String,
    pub kind: ErrorKind,
    pub topic: String,
    pub partition: u32,
    pub offset: i64,
    pub message: String,
}

impl ProcessingError {
    /// A record that could not be decoded, evaluated, aggregated or encoded.
    pub fn bad(
        query_id: &str,
        topic: &str,
        partition: u32,
        offset: i64,
        message: String,
    ) -> ProcessingError {
        ProcessingError {
            query_id: query_id.to_string(),
            kind: ErrorKind::Bad,
            topic: topic.to_string(),
            partition,
            offset,
            message,
        }
    }
}

/// Why a record went to the processing log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// It could not be decoded, evaluated, aggregated or encoded.
    Bad,
    /// It arrived after its window closed (stream time past the window's end plus grace), or
    /// its window's result was lost to retention.
    Late,
}

impl ErrorKind {
    /// The name in the processing log stream's `KIND` column and on `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Bad => "bad",
            ErrorKind::Late => "late",
        }
    }
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
