//! Splits chain text into tokens with byte spans.
//!
//! `#` starts a comment that runs to the end of the line. A line break is a token (it separates
//! stages and ends definitions) except inside parentheses or brackets, where it is space.
//! Lexing goes on after an error, so that one pass reports every bad character.

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
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    /// A line break (outside parentheses and brackets); runs of them are one token.
    Newline,
    /// `;`: ends a definition on the same line, like a line break.
    Semicolon,
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
            Token::Plus => "`+`".into(),
            Token::Minus => "`-`".into(),
            Token::Star => "`*`".into(),
            Token::Slash => "`/`".into(),
            Token::Caret => "`^`".into(),
            Token::Newline => "the end of the line".into(),
            Token::Semicolon => "`;`".into(),
        }
    }
}

pub type Spanned = (Token, (usize, usize));

/// The tokens of `text`, and an error for each stretch that is not one.
pub fn tokenize(text: &str) -> (Vec<Spanned>, Vec<ChainError>) {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Spanned> = Vec::new();
    let mut errors = Vec::new();
    let mut depth = 0usize;
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
            b';' => Some(Token::Semicolon),
            b'+' => Some(Token::Plus),
            b'-' => Some(Token::Minus),
            b'*' => Some(Token::Star),
            b'/' => Some(Token::Slash),
            b'^' => Some(Token::Caret),
            _ => None,
        };
        if let Some(token) = single {
            match token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
                _ => {}
            }
            tokens.push((token, (start, start + 1)));
            i += 1;
        } else if c == b'\n' {
            if depth == 0 && !matches!(tokens.last(), Some((Token::Newline, _)) | None) {
                tokens.push((Token::Newline, (start, start + 1)));
            }
            i += 1;
        } else if c == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            tokens.push((Token::Ident(text[start..i].to_string()), (start, i)));
        } else if c.is_ascii_digit() || c == b'.' {
            i = number_end(bytes, i);
            let literal = &text[start..i];
            match literal.parse() {
                Ok(value) => tokens.push((Token::Number(value), (start, i))),
                Err(_) => errors.push(
                    ChainError::new(
                        format!("`{literal}` is not a number"),
                        (start, i.max(start + 1)),
                    )
                    .with_help("numbers look like 2, -0.5, 1.5e-3"),
                ),
            }
            i = i.max(start + 1);
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c && bytes[i] != b'\n' {
                i += 1;
            }
            if i == bytes.len() || bytes[i] == b'\n' {
                errors.push(
                    ChainError::new("unterminated string", (start, i))
                        .with_help(format!("close it with {}", c as char)),
                );
                continue;
            }
            tokens.push((Token::Str(text[start + 1..i].to_string()), (start, i + 1)));
            i += 1;
        } else {
            let ch = text[start..].chars().next().unwrap_or('?');
            errors.push(
                ChainError::new(
                    format!("unexpected character `{ch}`"),
                    (start, start + ch.len_utf8()),
                )
                .with_help("a chain looks like `gblur(sigma=2) | invert`"),
            );
            i += ch.len_utf8();
        }
    }
    if let Some((Token::Newline, _)) = tokens.last() {
        tokens.pop();
    }
    (tokens, errors)
}

/// End of a number literal starting at `i`: digits, fraction, exponent. A sign in front is
/// an operator.
fn number_end(bytes: &[u8], mut i: usize) -> usize {
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
