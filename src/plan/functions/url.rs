//! URL functions: URL_ENCODE_PARAM / URL_DECODE_PARAM (form encoding: Guava's escaper and Java's
//! `URLDecoder`) and URL_EXTRACT_* over a `java.net.URI`-style (RFC 2396) parse — an invalid
//! URI is an error (NULL); path, query and fragment are percent-decoded, the host is not.

use super::FunctionRegistry;
use super::basic::{pick, sig};
use crate::common::{SqlType, Value};

pub fn register(r: &mut FunctionRegistry) {
    use SqlType::{Int, String as Str};
    r.add_udf(
        "URL_ENCODE_PARAM",
        "Form-encodes a query parameter value ('+' for spaces).",
        |a| pick("url_encode_param", a, &[sig(&[Str], Str)]),
        |v| match &v[0] {
            Value::String(s) => Ok(Value::String(encode_param(s))),
            _ => Err("url_encode_param of NULL".into()),
        },
    );
    r.add_udf(
        "URL_DECODE_PARAM",
        "Decodes a form-encoded query parameter value.",
        |a| pick("url_decode_param", a, &[sig(&[Str], Str)]),
        |v| match &v[0] {
            Value::String(s) => decode(s, true).map(Value::String),
            _ => Ok(Value::Null),
        },
    );
    r.add_udf(
        "URL_EXTRACT_HOST",
        "The host of a URL.",
        |a| pick("url_extract_host", a, &[sig(&[Str], Str)]),
        |v| part(v, |u| u.host.map(str::to_string)),
    );
    r.add_udf(
        "URL_EXTRACT_PATH",
        "The decoded path of a URL.",
        |a| pick("url_extract_path", a, &[sig(&[Str], Str)]),
        |v| part(v, |u| u.path.and_then(|p| decode(p, false).ok())),
    );
    r.add_udf(
        "URL_EXTRACT_QUERY",
        "The decoded query of a URL.",
        |a| pick("url_extract_query", a, &[sig(&[Str], Str)]),
        |v| part(v, |u| u.query.and_then(|p| decode(p, false).ok())),
    );
    r.add_udf(
        "URL_EXTRACT_FRAGMENT",
        "The decoded fragment of a URL.",
        |a| pick("url_extract_fragment", a, &[sig(&[Str], Str)]),
        |v| part(v, |u| u.fragment.and_then(|p| decode(p, false).ok())),
    );
    r.add_udf(
        "URL_EXTRACT_PROTOCOL",
        "The scheme of a URL.",
        |a| pick("url_extract_protocol", a, &[sig(&[Str], Str)]),
        |v| part(v, |u| u.scheme.map(str::to_string)),
    );
    r.add_udf(
        "URL_EXTRACT_PORT",
        "The port of a URL.",
        |a| pick("url_extract_port", a, &[sig(&[Str], Int)]),
        |v| match &v[0] {
            Value::String(s) => Ok(parse(s)?.port.map_or(Value::Null, Value::Int)),
            _ => Ok(Value::Null),
        },
    );
    r.add_udf(
        "URL_EXTRACT_PARAMETER",
        "The decoded value of a query parameter ('' if it has none).",
        |a| pick("url_extract_parameter", a, &[sig(&[Str, Str], Str)]),
        |v| {
            let (Value::String(url), Value::String(name)) = (&v[0], &v[1]) else {
                return Ok(Value::Null);
            };
            let Some(query) = parse(url)?.query.and_then(|q| decode(q, false).ok()) else {
                return Ok(Value::Null);
            };
            for param in query.split('&') {
                match param.split_once('=') {
                    Some((k, value)) if k == name => return Ok(Value::String(value.to_string())),
                    None if param == name => return Ok(Value::String(String::new())),
                    _ => {}
                }
            }
            Ok(Value::Null)
        },
    );
}

fn part(v: &[Value], f: fn(Uri<'_>) -> Option<String>) -> Result<Value, String> {
    match &v[0] {
        Value::String(s) => Ok(f(parse(s)?).map_or(Value::Null, Value::String)),
        _ => Ok(Value::Null),
    }
}

/// Guava's `urlFormParameterEscaper`: keeps `A-Za-z0-9-_.*`, space → '+', else `%XX` of UTF-8.
fn encode_param(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Percent-decoding as UTF-8 (`plus` also turns '+' into a space, like `URLDecoder`); a
/// malformed escape is an error.
fn decode(s: &str, plus: bool) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                out.push(hex.ok_or_else(|| {
                    format!("URLDecoder: Illegal hex characters in escape (%) pattern in '{s}'")
                })?);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The components of a URI, undecoded; `host` and `port` only for a server-based authority.
#[derive(Debug, Default, PartialEq)]
struct Uri<'a> {
    scheme: Option<&'a str>,
    host: Option<&'a str>,
    port: Option<i32>,
    path: Option<&'a str>,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

/// Parses like `new java.net.URI(text)`.
fn parse(text: &str) -> Result<Uri<'_>, String> {
    let bad = |what: &str| format!("URL input has invalid syntax ({what}): {text}");
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let ok = match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => true,
            '-' | '_' | '.' | '!' | '~' | '*' | '\'' | '(' | ')' | ';' | '/' | '?' | ':' | '@'
            | '&' | '=' | '+' | '$' | ',' | '#' | '[' | ']' => true,
            '%' => {
                bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
            }
            c => !c.is_ascii() && !c.is_control() && !c.is_whitespace(),
        };
        if !ok {
            return Err(bad("illegal character"));
        }
    }
    let mut uri = Uri::default();
    let (rest, fragment) = match text.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (text, None),
    };
    if fragment.is_some_and(|f| f.contains('#')) {
        return Err(bad("illegal character in fragment"));
    }
    uri.fragment = fragment;
    let mut rest = rest;
    if let Some(colon) = rest.find(':').filter(|&c| !rest[..c].contains(['/', '?'])) {
        let scheme = &rest[..colon];
        let mut chars = scheme.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return Err(bad("scheme"));
        }
        uri.scheme = Some(scheme);
        rest = &rest[colon + 1..];
        if !rest.starts_with('/') {
            // Opaque (`mailto:x@y`): no host, path or query.
            return if rest.is_empty() {
                Err(bad("expected scheme-specific part"))
            } else {
                Ok(uri)
            };
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let authority = &after[..end];
        if authority.is_empty() && end == after.len() && uri.fragment.is_none() {
            return Err(bad("expected authority"));
        }
        if let Some((host, port)) = server(authority) {
            uri.host = Some(host).filter(|h| !h.is_empty());
            uri.port = port;
        } else if authority.contains(['[', ']']) {
            return Err(bad("authority"));
        }
        rest = &after[end..];
    }
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    uri.path = Some(path);
    uri.query = query;
    Ok(uri)
}

/// A server-based authority `[userinfo@]host[:port]`, or None (a registry-based one).
fn server(authority: &str) -> Option<(&str, Option<i32>)> {
    let hostport = match authority.split_once('@') {
        Some((_, h)) => h,
        None => authority,
    };
    let (host, port) = if hostport.starts_with('[') {
        let close = hostport.find(']')?;
        (&hostport[..=close], &hostport[close + 1..])
    } else {
        let colon = hostport.find(':').unwrap_or(hostport.len());
        (&hostport[..colon], &hostport[colon..])
    };
    let port = match port.strip_prefix(':') {
        None if port.is_empty() => None,
        Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<i32>().ok()?),
        _ => return None,
    };
    (host.starts_with('[') || valid_hostname(host)).then_some((host, port))
}

/// RFC 2396 hostname (labels of alphanumerics and inner '-', the last starting with a letter)
/// or a dotted IPv4 address.
fn valid_hostname(host: &str) -> bool {
    if host.is_empty() {
        return true;
    }
    let labels: Vec<&str> = host.strip_suffix('.').unwrap_or(host).split('.').collect();
    let ipv4 = labels.len() == 4
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_digit())
                && l.parse::<u16>().is_ok_and(|n| n < 256)
        });
    let label_ok = |l: &&str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    };
    ipv4 || (labels.iter().all(label_ok)
        && (labels.len() == 1
            || labels
                .last()
                .is_some_and(|l| l.as_bytes()[0].is_ascii_alphabetic())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_java_uri() {
        let u = parse("http://test@confluent.io:8080/nested/path?query&jobs#frag").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.port, u.path, u.query, u.fragment),
            (
                Some("http"),
                Some("confluent.io"),
                Some(8080),
                Some("/nested/path"),
                Some("query&jobs"),
                Some("frag")
            )
        );
        let u = parse("http://www.test.com?query#fragment").unwrap();
        assert_eq!((u.path, u.query), (Some(""), Some("query")));
        let u = parse("www.confluent.io").unwrap();
        assert_eq!(
            (u.scheme, u.host, u.path),
            (None, None, Some("www.confluent.io"))
        );
        assert_eq!(
            parse("http://my_host.com/x").unwrap().host,
            None,
            "registry-based authority"
        );
        assert!(parse("http://a b.com").is_err());
        assert!(parse("http://x.com/%zz").is_err());
        assert!(parse(":nothing").is_err());
        assert_eq!(parse("mailto:a@b.com").unwrap().path, None);
    }

    #[test]
    fn form_encoding() {
        assert_eq!(encode_param("?foo $bar"), "%3Ffoo+%24bar");
        assert_eq!(encode_param("é"), "%C3%A9");
        assert_eq!(decode("%3Ffoo+%24bar", true).unwrap(), "?foo $bar");
        assert_eq!(decode("a+b%C3%A9", false).unwrap(), "a+bé");
        assert!(decode("bad%2", true).is_err());
    }

    #[test]
    fn extract_parameter() {
        let r = FunctionRegistry::standard();
        let f = r.get("URL_EXTRACT_PARAMETER").unwrap();
        let s = |x: &str| Value::String(x.into());
        assert_eq!(
            f.invoke(&[s("http://x.com/?one=a&two=url%20encoded"), s("two")]),
            Ok(s("url encoded"))
        );
        assert_eq!(
            f.invoke(&[s("http://x.com/?one&two=b"), s("one")]),
            Ok(s(""))
        );
        assert_eq!(
            f.invoke(&[s("http://x.com/?one=a"), s("three")]),
            Ok(Value::Null)
        );
    }
}
