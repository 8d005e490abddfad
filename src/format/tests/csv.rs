//! Commons CSV 1.4 parsing and printing.

use crate::format::csv::{parse_records, print_record};

fn parse(text: &str) -> Vec<Vec<String>> {
    parse_records(text, ',').unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn rec(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| f.to_string()).collect()
}

fn print(fields: &[Option<&str>]) -> String {
    let fields: Vec<Option<String>> = fields.iter().map(|f| f.map(str::to_string)).collect();
    print_record(&fields, ',')
}

#[test]
fn parses_fields_quotes_and_records() {
    assert_eq!(parse("a,b,c"), [rec(&["a", "b", "c"])]);
    assert_eq!(
        parse("\"a,b\",\"say \"\"hi\"\"\",c"),
        [rec(&["a,b", "say \"hi\"", "c"])]
    );
    assert_eq!(parse(" a , b "), [rec(&[" a ", " b "])]);
    assert_eq!(parse("a\"b,c"), [rec(&["a\"b", "c"])]);
    assert_eq!(parse("\"line\nbreak\",x"), [rec(&["line\nbreak", "x"])]);
    assert_eq!(parse("\"a\"  ,b"), [rec(&["a", "b"])]);
    assert_eq!(
        parse("1,2\r\n3,4\n5"),
        [rec(&["1", "2"]), rec(&["3", "4"]), rec(&["5"])]
    );
}

#[test]
fn empty_fields_and_lines() {
    assert_eq!(
        parse(",,100,newblah,150"),
        [rec(&["", "", "100", "newblah", "150"])]
    );
    assert_eq!(parse("x,"), [rec(&["x", ""])]);
    assert_eq!(parse("x,\n"), [rec(&["x", ""])]);
    assert_eq!(parse("\"\""), [rec(&[""])]);
    assert_eq!(parse(","), [rec(&["", ""])]);
    assert_eq!(parse("\n\r\n\na"), [rec(&["a"])]);
    assert_eq!(parse("a\n\nb\n"), [rec(&["a"]), rec(&["b"])]);
    assert!(parse("").is_empty());
    assert!(parse("\n\n").is_empty());
}

#[test]
fn malformed_quotes_are_errors_even_in_later_records() {
    assert_eq!(
        parse_records("\"abc", ','),
        Err("(startline 1) EOF reached before encapsulated token finished".to_string())
    );
    assert_eq!(
        parse_records("\"a\"b", ','),
        Err("(line 1) invalid char between encapsulated token and delimiter".to_string())
    );
    assert!(parse_records("ok\n\"bad", ',').is_err());
}

#[test]
fn custom_delimiters() {
    // delimited.json "multi-column key with different kv delimiters".
    assert_eq!(
        parse_records("foo,bar;baz", ';'),
        Ok(vec![rec(&["foo,bar", "baz"])])
    );
    assert_eq!(
        parse_records("0\tzero\t0", '\t'),
        Ok(vec![rec(&["0", "zero", "0"])])
    );
    assert_eq!(
        parse_records("a☺\"b☺c\"", '☺'),
        Ok(vec![rec(&["a", "b☺c"])])
    );
    let fields = [
        Some("0".to_string()),
        Some("zero".to_string()),
        Some("a$b".to_string()),
    ];
    assert_eq!(print_record(&fields, '$'), "0$zero$\"a$b\"");
}

#[test]
fn prints_with_commons_csv_1_4_minimal_quoting() {
    // date.json "DELIMITED in/out" and delimited.json "read written decimals": a first field
    // not starting with a letter or digit is quoted.
    assert_eq!(print(&[Some("-10")]), "\"-10\"");
    assert_eq!(print(&[Some("10"), Some("-10")]), "10,-10");
    assert_eq!(print(&[Some("_x")]), "\"_x\"");
    assert_eq!(print(&[Some("éa")]), "\"éa\"");
    assert_eq!(print(&[Some("a"), Some("éa")]), "a,éa");
    // bytes-and-strings.json "convert bytes to ASCII encoded string": chars up to '#' anywhere.
    assert_eq!(
        print(&[Some("!"), Some("IQ=="), Some("!")]),
        "\"!\",IQ==,\"!\""
    );
    assert_eq!(
        print(&[Some("#"), Some("Iw=="), Some("#")]),
        "\"#\",Iw==,\"#\""
    );
    assert_eq!(print(&[Some("a"), Some("$")]), "a,$");
    // string.json "LCASE, UCASE, TRIM SUBSTRING": leading and trailing whitespace.
    assert_eq!(
        print(&[
            Some(" \t with white space \t"),
            Some(" \t WITH WHITE SPACE \t"),
            Some("with white space"),
            Some("\t wit"),
        ]),
        "\" \t with white space \t\",\" \t WITH WHITE SPACE \t\",with white space,\"\t wit\""
    );
    assert_eq!(print(&[Some("a"), Some("b ")]), "a,\"b \"");
    // Delimiters, quotes and line breaks inside a field.
    assert_eq!(
        print(&[Some("a"), Some("b,c"), Some("say \"hi\""), Some("x\ny")]),
        "a,\"b,c\",\"say \"\"hi\"\"\",\"x\ny\""
    );
    // Nulls are empty and never quoted; an empty string is quoted only as the first field.
    // joins.json: ",,100,newblah,150"; string.json: "s,S,s,".
    assert_eq!(
        print(&[None, None, Some("100"), Some("newblah"), Some("150")]),
        ",,100,newblah,150"
    );
    assert_eq!(
        print(&[Some("s"), Some("S"), Some("s"), Some("")]),
        "s,S,s,"
    );
    assert_eq!(print(&[Some(""), Some("x")]), "\"\",x");
    assert_eq!(print(&[None]), "");
}

#[test]
fn printed_records_parse_back() {
    let fields = ["-1", " a", "b,\"c\"", "d\r\ne", "é", "#x", "tail "];
    let printed = print(&fields.map(Some));
    assert_eq!(parse(&printed), [rec(&fields)]);
}
