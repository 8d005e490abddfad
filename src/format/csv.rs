//! CSV as Apache Commons CSV 1.4 reads and writes it with `CSVFormat.DEFAULT.withDelimiter(d)`,
//! the library behind ksqlDB's DELIMITED format.
//!
//! Reading: `"` quotes a field and `""` inside quotes is a literal quote; no escape character;
//! spaces are kept; CR, LF and CRLF end a record; empty lines are skipped.
//! Writing: the minimal quoting of 1.4, including its rule that quotes a record's first field
//! whenever that field does not start with an ASCII letter or digit.

/// What the reader saw last (Commons CSV's `lastChar`).
#[derive(Clone, Copy, PartialEq)]
enum Last {
    Undefined,
    Eof,
    Char(char),
}

#[derive(PartialEq)]
enum TokenEnd {
    /// Ended by a delimiter: more fields follow in this record.
    Delimiter,
    /// Ended by a line break.
    Record,
    /// Ended by the end of input; `true` if the token holds data.
    Eof(bool),
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    last: Last,
    line: usize,
    delimiter: char,
}

const QUOTE: char = '"';

impl Lexer {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        self.pos += 1;
        if c == Some('\n') && self.last != Last::Char('\r') || c == Some('\r') {
            self.line += 1;
        }
        self.last = c.map_or(Last::Eof, Last::Char);
        c
    }

    fn look_ahead(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// Whether `c` ends a line, consuming the LF of a CRLF.
    fn read_end_of_line(&mut self, c: Option<char>) -> bool {
        if c == Some('\r') && self.look_ahead() == Some('\n') {
            self.read();
        }
        matches!(c, Some('\r' | '\n'))
    }

    /// The next token's text and how it ended (Commons CSV's `Lexer.nextToken`).
    fn next_token(&mut self) -> Result<(String, TokenEnd), String> {
        let mut last = self.last;
        let mut c = self.read();
        let mut eol = self.read_end_of_line(c);
        let start_of_line =
            |l: Last| matches!(l, Last::Undefined | Last::Char('\r') | Last::Char('\n'));
        while eol && start_of_line(last) {
            last = c.map_or(Last::Eof, Last::Char);
            c = self.read();
            eol = self.read_end_of_line(c);
            if c.is_none() {
                return Ok((String::new(), TokenEnd::Eof(false)));
            }
        }
        if last == Last::Eof || (last != Last::Char(self.delimiter) && c.is_none()) {
            return Ok((String::new(), TokenEnd::Eof(false)));
        }
        match c {
            Some(d) if d == self.delimiter => Ok((String::new(), TokenEnd::Delimiter)),
            _ if eol => Ok((String::new(), TokenEnd::Record)),
            Some(QUOTE) => self.encapsulated(),
            None => Ok((String::new(), TokenEnd::Eof(true))),
            Some(first) => Ok(self.simple(first)),
        }
    }

    fn simple(&mut self, first: char) -> (String, TokenEnd) {
        let mut text = String::new();
        let mut c = Some(first);
        loop {
            if self.read_end_of_line(c) {
                return (text, TokenEnd::Record);
            }
            match c {
                None => return (text, TokenEnd::Eof(true)),
                Some(d) if d == self.delimiter => return (text, TokenEnd::Delimiter),
                Some(ch) => text.push(ch),
            }
            c = self.read();
        }
    }

    fn encapsulated(&mut self) -> Result<(String, TokenEnd), String> {
        let start_line = self.line + 1;
        let mut text = String::new();
        loop {
            match self.read() {
                None => {
                    return Err(format!(
                        "(startline {start_line}) EOF reached before encapsulated token finished"
                    ));
                }
                Some(QUOTE) if self.look_ahead() == Some(QUOTE) => {
                    self.read();
                    text.push(QUOTE);
                }
                Some(QUOTE) => loop {
                    let c = self.read();
                    match c {
                        Some(d) if d == self.delimiter => return Ok((text, TokenEnd::Delimiter)),
                        None => return Ok((text, TokenEnd::Eof(true))),
                        _ if self.read_end_of_line(c) => return Ok((text, TokenEnd::Record)),
                        Some(w) if java_is_whitespace(w) => {}
                        Some(_) => {
                            return Err(format!(
                                "(line {}) invalid char between encapsulated token and delimiter",
                                self.line + 1
                            ));
                        }
                    }
                },
                Some(ch) => text.push(ch),
            }
        }
    }
}

/// Java's `Character.isWhitespace`: no-break spaces excluded.
fn java_is_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | '\u{1c}'..='\u{1f}'
    ) || (c.is_whitespace() && !matches!(c, '\u{85}' | '\u{a0}' | '\u{2007}' | '\u{202f}'))
}

/// Every record of `text` (Commons CSV's `CSVParser.getRecords()`); a malformed record
/// anywhere fails the whole parse, as it does in ksqlDB.
pub(super) fn parse_records(text: &str, delimiter: char) -> Result<Vec<Vec<String>>, String> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        last: Last::Undefined,
        line: 0,
        delimiter,
    };
    let mut records = Vec::new();
    loop {
        let mut record = Vec::new();
        let end = loop {
            let (field, end) = lexer.next_token()?;
            match end {
                TokenEnd::Delimiter => record.push(field),
                TokenEnd::Record | TokenEnd::Eof(true) => {
                    record.push(field);
                    break end;
                }
                TokenEnd::Eof(false) => break end,
            }
        };
        if !record.is_empty() {
            records.push(record);
        }
        if matches!(end, TokenEnd::Eof(_)) {
            return Ok(records);
        }
    }
}

/// One record with `delimiter`, without the trailing line break; `None` is a null field,
/// written empty and never quoted.
pub(super) fn print_record(fields: &[Option<String>], delimiter: char) -> String {
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        if let Some(value) = field {
            print_and_quote(&mut out, value, i == 0, delimiter);
        }
    }
    out
}

fn print_and_quote(out: &mut String, value: &str, new_record: bool, delimiter: char) {
    let quote = match value.chars().next() {
        // An empty first field is quoted so that the record is not an empty line.
        None => new_record,
        Some(first) if new_record && !first.is_ascii_alphanumeric() => true,
        Some(first) if first <= '#' => true,
        Some(_) => {
            value
                .chars()
                .any(|c| matches!(c, '\n' | '\r' | QUOTE) || c == delimiter)
                || value.chars().next_back().is_some_and(|c| c <= ' ')
        }
    };
    if quote {
        out.push(QUOTE);
        out.push_str(&value.replace(QUOTE, "\"\""));
        out.push(QUOTE);
    } else {
        out.push_str(value);
    }
}
