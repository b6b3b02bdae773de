//! Splits chain text into tokens with byte spans.
//!
//! `#` starts a comment that runs to the end of the line, except where a value is expected
//! (after `=`, `(`, `,` or `[`) and six or eight hex digits follow: that is a colour. A line break
//! is a token (it separates stages and ends definitions) except inside parentheses or brackets,
//! where it is space. A number may carry a unit, folded into its value: `2s` and `500ms` are
//! seconds, `90deg` is in radians, `50%` is 0.5. Lexing goes on after an error, so that one
//! pass reports every bad character.

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
    Percent,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    Bang,
    /// `@`: a stage's time range follows.
    At,
    /// `..` in a time range.
    DotDot,
    /// `#rrggbb` or `#rrggbbaa`, as red, green, blue and alpha in 0..=1.
    Colour([f64; 4]),
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
            Token::Percent => "`%`".into(),
            Token::Lt => "`<`".into(),
            Token::Le => "`<=`".into(),
            Token::Gt => "`>`".into(),
            Token::Ge => "`>=`".into(),
            Token::EqEq => "`==`".into(),
            Token::Ne => "`!=`".into(),
            Token::AndAnd => "`&&`".into(),
            Token::OrOr => "`||`".into(),
            Token::Bang => "`!`".into(),
            Token::At => "`@`".into(),
            Token::DotDot => "`..`".into(),
            Token::Colour(_) => "a colour".into(),
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
        let next = bytes.get(i + 1).copied();
        let double = match (c, next) {
            (b'=', Some(b'=')) => Some(Token::EqEq),
            (b'!', Some(b'=')) => Some(Token::Ne),
            (b'<', Some(b'=')) => Some(Token::Le),
            (b'>', Some(b'=')) => Some(Token::Ge),
            (b'&', Some(b'&')) => Some(Token::AndAnd),
            (b'|', Some(b'|')) => Some(Token::OrOr),
            (b'.', Some(b'.')) => Some(Token::DotDot),
            _ => None,
        };
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
            b'%' => Some(Token::Percent),
            b'<' => Some(Token::Lt),
            b'>' => Some(Token::Gt),
            b'!' => Some(Token::Bang),
            b'@' => Some(Token::At),
            _ => None,
        };
        if let Some(token) = double {
            tokens.push((token, (start, start + 2)));
            i += 2;
        } else if let Some(token) = single {
            match token {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket => depth = depth.saturating_sub(1),
                _ => {}
            }
            tokens.push((token, (start, start + 1)));
            i += 1;
        } else if c == b'#' && value_expected(&tokens) && colour_len(&bytes[i + 1..]).is_some() {
            let len = colour_len(&bytes[i + 1..]).unwrap_or(0);
            let digits = &text[i + 1..i + 1 + len];
            let channel = |k: usize| {
                digits
                    .get(2 * k..2 * k + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .map_or(1.0, |v| v as f64 / 255.0)
            };
            let colour = [channel(0), channel(1), channel(2), channel(3)];
            i += 1 + len;
            tokens.push((Token::Colour(colour), (start, i)));
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
            let parsed: Option<f64> = literal.parse().ok();
            // A unit: letters right after the digits, or `%` not followed by an operand
            // (`5 % 2` and `n%2` are remainders).
            let unit_start = i;
            if i < bytes.len() && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
            } else if i < bytes.len()
                && bytes[i] == b'%'
                && !bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'(' | b'.'))
            {
                i += 1;
            }
            let unit = &text[unit_start..i];
            let scale = match unit {
                "" => Some(1.0),
                "s" => Some(1.0),
                "ms" => Some(1e-3),
                "deg" => Some(std::f64::consts::PI / 180.0),
                "%" => Some(0.01),
                _ => None,
            };
            match (parsed, scale) {
                (Some(value), Some(scale)) => {
                    tokens.push((Token::Number(value * scale), (start, i)))
                }
                (None, _) => errors.push(
                    ChainError::new(
                        format!("`{literal}` is not a number"),
                        (start, unit_start.max(start + 1)),
                    )
                    .with_help("numbers look like 2, -0.5, 1.5e-3"),
                ),
                (Some(_), None) => errors.push(
                    ChainError::new(format!("unknown unit `{unit}`"), (unit_start, i)).with_help(
                        "units are s and ms (seconds), deg (degrees) and % (hundredths)",
                    ),
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

/// True where the last token leaves a value to come: a `#` there starts a colour, not a comment.
fn value_expected(tokens: &[Spanned]) -> bool {
    matches!(
        tokens.last(),
        Some((
            Token::Equals | Token::LParen | Token::Comma | Token::LBracket,
            _
        ))
    )
}

/// The number of hex digits of a colour at the start of `rest`: 6 or 8, followed by something
/// that cannot go on a word.
fn colour_len(rest: &[u8]) -> Option<usize> {
    let digits = rest.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    let ends = rest
        .get(digits)
        .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
    (ends && (digits == 6 || digits == 8)).then_some(digits)
}

/// End of a number literal starting at `i`: digits, fraction, exponent. A sign in front is
/// an operator; `..` after digits is a range, not a fraction.
fn number_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && (bytes[i].is_ascii_digit() || (bytes[i] == b'.' && bytes.get(i + 1) != Some(&b'.')))
    {
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
