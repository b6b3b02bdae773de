//! Splits chain text into tokens with byte spans.

use super::error::ChainError;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Ident(String),
    Number(f64),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Equals,
    Pipe,
}

impl Token {
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("`{s}`"),
            Token::Number(n) => format!("the number {n}"),
            Token::Str(s) => format!("the string {s:?}"),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::Comma => "`,`".into(),
            Token::Equals => "`=`".into(),
            Token::Pipe => "`|`".into(),
        }
    }
}

pub type Spanned = (Token, (usize, usize));

pub fn tokenize(text: &str) -> Result<Vec<Spanned>, ChainError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let single = match c {
            b'(' => Some(Token::LParen),
            b')' => Some(Token::RParen),
            b'[' => Some(Token::LBracket),
            b']' => Some(Token::RBracket),
            b',' => Some(Token::Comma),
            b'=' => Some(Token::Equals),
            b'|' => Some(Token::Pipe),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push((token, (start, start + 1)));
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push((Token::Ident(text[start..i].to_string()), (start, i)));
        } else if c.is_ascii_digit() || c == b'.' || c == b'-' || c == b'+' {
            i = number_end(bytes, i);
            let literal = &text[start..i];
            let value: f64 = literal.parse().map_err(|_| {
                ChainError::new(
                    format!("`{literal}` is not a number"),
                    (start, i.max(start + 1)),
                )
                .with_help("numbers look like 2, -0.5, 1.5e-3")
            })?;
            tokens.push((Token::Number(value), (start, i)));
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += 1;
            }
            if i == bytes.len() {
                return Err(ChainError::new("unterminated string", (start, i))
                    .with_help(format!("close it with {}", c as char)));
            }
            tokens.push((Token::Str(text[start + 1..i].to_string()), (start, i + 1)));
            i += 1;
        } else {
            let ch = text[start..].chars().next().unwrap_or('?');
            return Err(ChainError::new(
                format!("unexpected character `{ch}`"),
                (start, start + ch.len_utf8()),
            )
            .with_help("a chain looks like `gblur(sigma=2) | invert`"));
        }
    }
    Ok(tokens)
}

/// End of a number literal starting at `i`: sign, digits, fraction, exponent.
fn number_end(bytes: &[u8], mut i: usize) -> usize {
    if bytes[i] == b'-' || bytes[i] == b'+' {
        i += 1;
    }
    while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
        i += 1;
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < bytes.len() && (bytes[j] == b'-' || bytes[j] == b'+') {
            j += 1;
        }
        if j < bytes.len() && bytes[j].is_ascii_digit() {
            i = j;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}
