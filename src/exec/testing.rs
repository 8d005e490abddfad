//! A harness that drives one operator in a unit test, without tokio, threads or a driver
//! (RisingWave's executor tests): batches go in as pretty-printed text
//! (`common::change_pretty`), stream time and commits are stepped by hand, and what the operator
//! produced comes out as one text for an insta snapshot. Test-only.
//!
//! May import: what `exec` may.

use super::operator::{Ctx, Operator, OperatorError, Origin, Outputs};
use super::processing_log::MemoryProcessingLog;
use crate::common::change::ChangeBatch;
use crate::common::change_pretty::{from_pretty, to_pretty};
use crate::transport::ProducerRecord;

/// The query id the harness's `Ctx` carries.
pub const QUERY_ID: &str = "test-query";

/// One operator and everything it produced since the last [`OpHarness::output`]. Operator
/// errors and unreadable input text panic with their message.
pub struct OpHarness {
    op: Box<dyn Operator>,
    /// Where every batch comes from: topic `t`, partition 0.
    origin: Origin,
    /// The stream time the next `Ctx` carries (`i64::MIN` until [`OpHarness::stream_time`]).
    time: i64,
    log: MemoryProcessingLog,
    outputs: Outputs,
    emitted: Vec<ChangeBatch>,
}

impl OpHarness {
    pub fn new(op: impl Operator + 'static) -> OpHarness {
        OpHarness::boxed(Box::new(op))
    }

    pub fn boxed(op: Box<dyn Operator>) -> OpHarness {
        OpHarness {
            op,
            origin: Origin {
                topic: "t".to_string(),
                partition: 0,
            },
            time: i64::MIN,
            log: MemoryProcessingLog::default(),
            outputs: Outputs::default(),
            emitted: Vec::new(),
        }
    }

    /// Hands the operator the batch `text` on input `input` (0 for single-input operators).
    pub fn process(&mut self, input: usize, text: &str) -> &mut Self {
        let batch = from_pretty(text).unwrap_or_else(|e| panic!("input batch: {e}"));
        self.process_batch(input, batch)
    }

    /// Hands the operator a batch built otherwise (another harness's output, say).
    pub fn process_batch(&mut self, input: usize, batch: ChangeBatch) -> &mut Self {
        self.call("process", |op, ctx| op.process(input, batch, ctx))
    }

    /// Moves the stream time to `time`: `on_stream_time(time)` (its `Ctx` still carries the
    /// time before), then every later `Ctx` carries `time`. Batches never move it by themselves.
    pub fn stream_time(&mut self, time: i64) -> &mut Self {
        self.call("on_stream_time", |op, ctx| op.on_stream_time(time, ctx));
        self.time = time;
        self
    }

    /// Calls `on_commit`.
    pub fn commit(&mut self) -> &mut Self {
        self.call("on_commit", |op, ctx| op.on_commit(ctx))
    }

    /// Calls `open` (as after a restore or a rolled-back step).
    pub fn open(&mut self) -> &mut Self {
        if let Err(e) = self.op.open() {
            panic!("{} open: {e}", self.op.describe());
        }
        self
    }

    /// The operator, to look at what it materialized or declares.
    pub fn operator(&mut self) -> &mut dyn Operator {
        &mut *self.op
    }

    /// The batches emitted since the last call (or [`OpHarness::output`]), to feed another
    /// operator.
    pub fn take_emitted(&mut self) -> Vec<ChangeBatch> {
        std::mem::take(&mut self.emitted)
    }

    /// The rows exchanged since the last call, in the order they were sent: (task, row count).
    pub fn take_exchanged(&mut self) -> Vec<(u32, usize)> {
        std::mem::take(&mut self.outputs.exchanged)
            .into_iter()
            .map(|e| (e.partition, e.batch.num_rows()))
            .collect()
    }

    /// Everything produced since the last call, as text: each emitted batch pretty-printed
    /// (blank lines between), then under their headings the sink records, the rows delivered
    /// to a subscriber and the processing-log entries; `(no output)` when there was nothing.
    pub fn output(&mut self) -> String {
        let mut sections = Vec::new();
        let emitted = self.take_emitted();
        if !emitted.is_empty() {
            sections.push(pretty_batches(&emitted));
        }
        let records = std::mem::take(&mut self.outputs.records);
        if !records.is_empty() {
            let lines: String = records
                .iter()
                .flat_map(|(t, batch)| batch.iter().map(move |r| record_line(t, r)))
                .collect();
            sections.push(format!("records:\n{lines}"));
        }
        let rows = std::mem::take(&mut self.outputs.rows);
        if !rows.is_empty() {
            sections.push(format!("delivered rows:\n{}", pretty_batches(&rows)));
        }
        let errors = std::mem::take(&mut self.log.errors);
        if !errors.is_empty() {
            let lines: String = errors
                .iter()
                .map(|e| format!("{} offset={}: {}\n", e.kind.name(), e.offset, e.message))
                .collect();
            sections.push(format!("processing log:\n{lines}"));
        }
        match sections.is_empty() {
            true => "(no output)\n".to_string(),
            false => sections.join("\n"),
        }
    }

    fn call(
        &mut self,
        what: &str,
        call: impl FnOnce(&mut dyn Operator, &mut Ctx<'_>) -> Result<(), OperatorError>,
    ) -> &mut Self {
        let mut ctx = Ctx::new(QUERY_ID, &self.origin, &mut self.log, &mut self.outputs);
        ctx.stream_time = self.time;
        if let Err(e) = call(&mut *self.op, &mut ctx) {
            panic!("{} {what}: {e}", self.op.describe());
        }
        self.emitted.extend(ctx.take_emitted());
        self
    }
}

fn pretty_batches(batches: &[ChangeBatch]) -> String {
    let texts: Vec<String> = batches.iter().map(to_pretty).collect();
    texts.join("\n")
}

/// Bytes as UTF-8 text, each control character and byte that is not UTF-8 written `\xNN`
/// (a windowed key's bounds, say) and `\` as `\\`; `<null>` for none.
fn bytes(b: Option<&[u8]>) -> String {
    let Some(b) = b else {
        return "<null>".to_string();
    };
    let mut text = String::new();
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => text.push_str("\\\\"),
                c if c.is_control() => {
                    text.extend(c.to_string().bytes().map(|x| format!("\\x{x:02x}")))
                }
                c => text.push(c),
            }
        }
        text.extend(chunk.invalid().iter().map(|x| format!("\\x{x:02x}")));
    }
    text
}

/// `topic key=.. value=.. timestamp=..` and the headers.
fn record_line(topic: &str, record: &ProducerRecord) -> String {
    let timestamp = record
        .timestamp
        .map_or("<none>".to_string(), |t| t.to_string());
    let mut line = format!(
        "{topic} key={} value={} timestamp={timestamp}",
        bytes(record.key.as_deref()),
        bytes(record.value.as_deref()),
    );
    for header in &record.headers {
        line.push_str(&format!(
            " header {}={}",
            header.key,
            bytes(header.value.as_deref())
        ));
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, BooleanArray};

    /// Keeps the rows whose BIGINT column `V` is even (ops follow them), reports the others,
    /// and at commit sends how many rows it kept and delivers them.
    #[derive(Default)]
    struct EvenRows {
        kept: Vec<ChangeBatch>,
    }

    impl Operator for EvenRows {
        fn describe(&self) -> String {
            "EvenRows".to_string()
        }

        fn process(
            &mut self,
            input: usize,
            batch: ChangeBatch,
            ctx: &mut Ctx<'_>,
        ) -> Result<(), OperatorError> {
            if input != 0 {
                return Err(OperatorError::Fatal(format!("no input {input}")));
            }
            let v = batch
                .int64("V")
                .ok_or(OperatorError::Fatal("no V".into()))?;
            let keep: BooleanArray = (0..v.len())
                .map(|row| Some(v.is_valid(row) && v.value(row) % 2 == 0))
                .collect();
            for row in (0..v.len()).filter(|row| !keep.value(*row)) {
                ctx.report(&batch, row, format!("V of row {row} is not even"));
            }
            let kept = batch.filter(&keep)?;
            self.kept.push(kept.clone());
            ctx.emit(kept);
            Ok(())
        }

        fn on_commit(&mut self, ctx: &mut Ctx<'_>) -> Result<(), OperatorError> {
            let count: usize = self.kept.iter().map(ChangeBatch::num_rows).sum();
            let mut record = ProducerRecord::new(Some("kept"), Some(count.to_string()));
            record.timestamp = Some(ctx.stream_time);
            let topic: std::sync::Arc<str> = "evens".into();
            let tombstone = ProducerRecord::new(None::<&str>, None::<&str>);
            ctx.send(&topic, vec![record, tombstone]);
            for batch in self.kept.drain(..) {
                ctx.deliver(batch);
            }
            Ok(())
        }
    }

    #[test]
    fn the_harness_prints_emitted_batches_records_rows_and_the_processing_log() {
        let mut h = OpHarness::new(EvenRows::default());
        h.process(
            0,
            "
            | op | V:BIGINT | ROWOFFSET:BIGINT |
            | +  | 1        | 7                |
            | U- | 2        | 8                |
            | U+ | 4        | 8                |
            | -  | null     | 9                |
            ",
        )
        .process(0, "| V:BIGINT | K:STRING |\n| 6 | a b |\n| 3 | c |")
        .stream_time(100)
        .commit();
        insta::assert_snapshot!(h.output());
        assert_eq!(h.output(), "(no output)\n", "output() drains");
        let out = OpHarness::new(EvenRows::default())
            .process(0, "| V:BIGINT |\n| 1 |")
            .output();
        assert_eq!(
            out,
            "processing log:\nbad offset=-1: V of row 0 is not even\n"
        );
    }

    #[test]
    fn record_bytes_print_as_text_with_control_and_non_utf8_bytes_escaped() {
        assert_eq!(
            bytes(Some(b"k\x00\x03\xe8 \xc3\xa9\\")),
            "k\\x00\\x03\\xe8 \u{e9}\\\\"
        );
        assert_eq!(bytes(None), "<null>");
    }

    #[test]
    #[should_panic(expected = "EvenRows process: no input 1")]
    fn an_operator_error_panics_with_its_message() {
        OpHarness::new(EvenRows::default()).process(1, "| V:BIGINT |\n| 2 |");
    }

    #[test]
    #[should_panic(expected = "input batch: line 2, column V: `x` is not a valid BIGINT")]
    fn unreadable_input_panics_with_the_line() {
        OpHarness::new(EvenRows::default()).process(0, "| V:BIGINT |\n| x |");
    }
}
