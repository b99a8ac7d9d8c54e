//! A message body quoted-printable encoded once and filled in per recipient.
//!
//! Every email of one round, template and language is the same text but for
//! a few stand-ins (the person's name and link). Encoding the whole body for
//! each of 100,000 recipients was a quarter of the dispatcher's CPU while a
//! round went out: the bytes were scanned to choose an encoding, converted to
//! CRLF and encoded, ~7 KB each time. Quoted-printable starts afresh at every
//! hard line break, so a line encoded alone is encoded exactly as it would be
//! within the body: lines without a stand-in are encoded once here, and only
//! the few lines with one are filled in and encoded per recipient.

/// One line of the body: encoded already, or waiting for its stand-ins.
#[derive(Debug)]
enum Line {
    Encoded(String),
    Marked(String),
}

/// A text whose lines without stand-ins are quoted-printable already.
#[derive(Debug)]
pub struct PreparedBody {
    lines: Vec<Line>,
}

impl PreparedBody {
    /// Prepares `text`, where `marks` are the stand-ins each recipient's
    /// values replace; they must not span a line break.
    pub fn new(text: &str, marks: &[&str]) -> Self {
        let lines = text
            .split('\n')
            .map(|line| {
                if marks.iter().any(|m| line.contains(m)) {
                    Line::Marked(line.to_string())
                } else {
                    Line::Encoded(encode_line(line))
                }
            })
            .collect();
        Self { lines }
    }

    /// The body for one recipient, quoted-printable with CRLF line ends:
    /// each stand-in replaced by its value (a value may hold line breaks).
    pub fn fill(&self, values: &[(&str, &str)]) -> Vec<u8> {
        let mut out = String::with_capacity(self.lines.len() * 80);
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push_str("\r\n");
            }
            match line {
                Line::Encoded(encoded) => out.push_str(encoded),
                Line::Marked(marked) => {
                    let mut filled = marked.clone();
                    for (mark, value) in values {
                        filled = filled.replace(mark, value);
                    }
                    for (j, part) in filled.split('\n').enumerate() {
                        if j > 0 {
                            out.push_str("\r\n");
                        }
                        out.push_str(&encode_line(part));
                    }
                }
            }
        }
        out.into_bytes()
    }
}

/// One line, without its line end; a CR that ended it (CRLF text) goes.
fn encode_line(line: &str) -> String {
    let line = line.strip_suffix('\r').unwrap_or(line);
    quoted_printable::encode_to_str(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: &str = "PulseMark";

    /// Filling a prepared body gives what encoding the filled text at once
    /// gives (lettre's encoding of a text part: CRLF, then quoted-printable).
    #[test]
    fn a_filled_body_is_the_filled_text_encoded_whole() {
        let long = "x".repeat(150);
        let texts = [
            String::from("Hello PulseMark,\nno mark here = a sign\n\ttab and trailing space \n"),
            format!("{long} PulseMark {long}\nPulseMark\n\nend"),
            "é à ü — PulseMark\r\nsecond line PulseMark PulseMark".to_string(),
            String::new(),
        ];
        let values = [
            "Zoë Ångström",
            "O'Brien & <Sons> \"=`",
            "",
            "two\nlines",
            "ends with a space ",
            &"名前".repeat(40),
        ];
        for text in &texts {
            let prepared = PreparedBody::new(text, &[MARK]);
            for value in values {
                let filled = text.replace(MARK, value);
                let whole =
                    quoted_printable::encode(filled.replace("\r\n", "\n").replace('\n', "\r\n"));
                assert_eq!(
                    String::from_utf8(prepared.fill(&[(MARK, value)])).unwrap(),
                    String::from_utf8(whole).unwrap(),
                    "{text:?} with {value:?}"
                );
            }
        }
    }

    #[test]
    fn every_encoded_line_is_short_and_seven_bit() {
        let text = format!("{} PulseMark\n{}", "é".repeat(100), "a = b ".repeat(40));
        let body = PreparedBody::new(&text, &[MARK]).fill(&[(MARK, &"ü".repeat(90))]);
        let body = String::from_utf8(body).unwrap();
        assert!(body.is_ascii());
        for line in body.split("\r\n") {
            assert!(line.len() <= 76, "{line:?}");
            assert!(!line.contains('\n') && !line.contains('\r'));
        }
    }
}
