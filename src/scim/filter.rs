//! SCIM filters (RFC 7644 §3.4.2.2), parsed and matched against a resource as JSON.
//!
//! Supported: `eq ne co sw ew gt ge lt le pr`, `and`, `or`, `not (…)`, parentheses,
//! attribute paths `a` and `a.b` (an optional schema URN in front is dropped), and
//! `a[filter]` value paths. String comparisons ignore case except for `id` and
//! `externalId`, which are case-exact.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(String, Op, Value),
    Present(String),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some element of the attribute matches.
    Has(String, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '[' => {
                chars.next();
                out.push(Tok::OpenBracket);
            }
            ']' => {
                chars.next();
                out.push(Tok::CloseBracket);
            }
            '"' => {
                chars.next();
                let mut buf = String::new();
                loop {
                    match chars.next() {
                        None => return Err("a string is not closed with \"".into()),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => buf.push('\n'),
                            Some('t') => buf.push('\t'),
                            Some(c) => buf.push(c),
                            None => return Err("a string ends with \\".into()),
                        },
                        Some(c) => buf.push(c),
                    }
                }
                out.push(Tok::Str(buf));
            }
            _ => {
                let mut buf = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        break;
                    }
                    buf.push(c);
                    chars.next();
                }
                out.push(Tok::Word(buf));
            }
        }
    }
    Ok(out)
}

/// Drops a schema URN in front of an attribute path: `urn:…:User:userName` → `userName`.
pub fn strip_urn(path: &str) -> &str {
    if path.to_ascii_lowercase().starts_with("urn:") {
        match path.rfind(':') {
            Some(i) => &path[i + 1..],
            None => path,
        }
    } else {
        path
    }
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }
    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.factor()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }
    fn factor(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.next();
            return Ok(Filter::Not(Box::new(self.factor()?)));
        }
        match self.next() {
            Some(Tok::Open) => {
                let f = self.or()?;
                match self.next() {
                    Some(Tok::Close) => Ok(f),
                    _ => Err("a ( is not closed".into()),
                }
            }
            Some(Tok::Word(attr)) => {
                let attr = strip_urn(&attr).to_string();
                if attr.is_empty()
                    || !attr
                        .chars()
                        .all(|c| c.is_alphanumeric() || "._$-".contains(c))
                {
                    return Err(format!("{attr:?} is not an attribute name"));
                }
                if self.peek() == Some(&Tok::OpenBracket) {
                    self.next();
                    let inner = self.or()?;
                    if self.next() != Some(Tok::CloseBracket) {
                        return Err("a [ is not closed".into());
                    }
                    return Ok(Filter::Has(attr, Box::new(inner)));
                }
                let op = match self.next() {
                    Some(Tok::Word(op)) => op.to_ascii_lowercase(),
                    _ => return Err(format!("an operator must follow {attr}")),
                };
                let op = match op.as_str() {
                    "pr" => return Ok(Filter::Present(attr)),
                    "eq" => Op::Eq,
                    "ne" => Op::Ne,
                    "co" => Op::Co,
                    "sw" => Op::Sw,
                    "ew" => Op::Ew,
                    "gt" => Op::Gt,
                    "ge" => Op::Ge,
                    "lt" => Op::Lt,
                    "le" => Op::Le,
                    other => return Err(format!("unknown operator {other:?}")),
                };
                let value = match self.next() {
                    Some(Tok::Str(s)) => Value::String(s),
                    Some(Tok::Word(w)) => match w.as_str() {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        "null" => Value::Null,
                        n => serde_json::from_str::<serde_json::Number>(n)
                            .map(Value::Number)
                            .map_err(|_| format!("{n:?} is not a value: quote strings"))?,
                    },
                    _ => return Err(format!("a value must follow {attr} {op:?}")),
                };
                Ok(Filter::Compare(attr, op, value))
            }
            _ => Err("expected an attribute name or (".into()),
        }
    }
}

pub fn parse(s: &str) -> Result<Filter, String> {
    let mut p = Parser {
        toks: lex(s)?,
        at: 0,
    };
    let f = p.or()?;
    if p.at < p.toks.len() {
        return Err("unexpected text after the filter".into());
    }
    Ok(f)
}

/// The member of an object whose name matches, ignoring case.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    obj.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Values at `a` or `a.b`, flattening multi-valued attributes.
fn values<'a>(resource: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![resource];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for item in items {
                if let Some(x) = get_ci(item, part) {
                    match x {
                        Value::Array(a) => next.extend(a.iter()),
                        other => next.push(other),
                    }
                }
            }
        }
        current = next;
    }
    current
}

fn case_exact(path: &str) -> bool {
    path.eq_ignore_ascii_case("id") || path.eq_ignore_ascii_case("externalId")
}

fn compare(v: &Value, op: Op, want: &Value, exact: bool) -> bool {
    match (v, want) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = if exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Co => a.contains(&b),
                Op::Sw => a.starts_with(&b),
                Op::Ew => a.ends_with(&b),
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                _ => false,
            }
        }
        _ => op == Op::Ne,
    }
}

impl Filter {
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::Present(p) => values(resource, p)
                .iter()
                .any(|v| !v.is_null() && *v != &Value::String(String::new())),
            Filter::Compare(p, op, want) => {
                let found = values(resource, p);
                if found.is_empty() {
                    return *op == Op::Ne || (want.is_null() && *op == Op::Eq);
                }
                if *op == Op::Ne {
                    found.iter().all(|v| compare(v, *op, want, case_exact(p)))
                } else {
                    found.iter().any(|v| compare(v, *op, want, case_exact(p)))
                }
            }
            Filter::And(a, b) => a.matches(resource) && b.matches(resource),
            Filter::Or(a, b) => a.matches(resource) || b.matches(resource),
            Filter::Not(f) => !f.matches(resource),
            Filter::Has(p, f) => match get_ci(resource, p) {
                Some(Value::Array(items)) => items.iter().any(|i| f.matches(i)),
                Some(other) => f.matches(other),
                None => false,
            },
        }
    }

    /// `userName eq "x"` (or `externalId eq`): the one exact lookup providers use.
    pub fn simple_eq(&self) -> Option<(&str, &str)> {
        match self {
            Filter::Compare(p, Op::Eq, Value::String(v)) => Some((p.as_str(), v.as_str())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_filters_providers_send() {
        assert_eq!(
            parse(r#"userName eq "Ann@Example.com""#).unwrap(),
            Filter::Compare("userName".into(), Op::Eq, json!("Ann@Example.com"))
        );
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName EQ "a""#).unwrap(),
            Filter::Compare("userName".into(), Op::Eq, json!("a"))
        );
        assert!(matches!(
            parse(r#"externalId eq "x" and active eq true"#).unwrap(),
            Filter::And(..)
        ));
        assert!(matches!(
            parse(r#"emails[type eq "work" and value co "@"]"#).unwrap(),
            Filter::Has(..)
        ));
        assert!(matches!(parse("not (title pr)").unwrap(), Filter::Not(..)));
        assert_eq!(
            parse(r#"displayName eq "a \"b\"""#).unwrap(),
            Filter::Compare("displayName".into(), Op::Eq, json!("a \"b\""))
        );
    }

    #[test]
    fn refuses_broken_filters_with_a_reason() {
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName xx "a""#,
            r#"userName eq "a"#,
            r#"(userName eq "a""#,
            r#"userName eq a"#,
            r#"userName eq "a" extra"#,
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn matches_case_insensitively_except_ids() {
        let user = json!({"id": "7", "userName": "Ann@Example.com", "externalId": "AbC",
            "active": true, "emails": [{"value": "ann@example.com", "type": "work"}]});
        let m = |f: &str| parse(f).unwrap().matches(&user);
        assert!(m(r#"userName eq "ann@example.COM""#));
        assert!(m(r#"USERNAME sw "ann""#));
        assert!(m(r#"externalId eq "AbC""#));
        assert!(!m(r#"externalId eq "abc""#));
        assert!(m(r#"emails.value co "example""#));
        assert!(m(r#"emails[type eq "work"]"#));
        assert!(m(r#"active eq true and not (userName eq "bob")"#));
        assert!(m(r#"userName eq "x" or id eq "7""#));
        assert!(!m(r#"title pr"#));
        assert!(m(r#"userName pr"#));
    }
}
