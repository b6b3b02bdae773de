//! Tokens → [`Ast`]: `stage ('|' stage)*`, `stage = name ('(' args? ')')?`.

use super::ast::{Arg, Ast, AstStage, Value};
use super::error::ChainError;
use super::lexer::{tokenize, Spanned, Token};

/// Parses chain text into a syntax tree. Empty text (or only spaces) is an empty chain.
pub fn parse(text: &str) -> Result<Ast, ChainError> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text.len(),
    };
    let mut ast = Ast::default();
    if parser.tokens.is_empty() {
        return Ok(ast);
    }
    loop {
        ast.stages.push(parser.stage()?);
        match parser.next() {
            None => break,
            Some((Token::Pipe, _)) => continue,
            Some((token, span)) => {
                return Err(ChainError::new(
                    format!("expected `|` or the end, found {}", token.describe()),
                    span,
                )
                .with_help("stages are separated by `|`"))
            }
        }
    }
    Ok(ast)
}

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Spanned> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Spanned> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn eof(&self, what: &str) -> ChainError {
        ChainError::new(
            format!("expected {what}, found the end of the chain"),
            (self.end, self.end + 1),
        )
    }

    fn stage(&mut self) -> Result<AstStage, ChainError> {
        let (name, name_span) = match self.next() {
            Some((Token::Ident(name), span)) => (name, span),
            Some((token, span)) => {
                return Err(ChainError::new(
                    format!("expected a filter name, found {}", token.describe()),
                    span,
                )
                .with_help("`tessera filters` lists them"))
            }
            None => return Err(self.eof("a filter name")),
        };
        let mut stage = AstStage {
            name,
            name_span,
            args: Vec::new(),
            span: name_span,
        };
        if !matches!(self.peek(), Some((Token::LParen, _))) {
            return Ok(stage);
        }
        self.next();
        if let Some((Token::RParen, span)) = self.peek() {
            stage.span.1 = span.1;
            self.next();
            return Ok(stage);
        }
        loop {
            stage.args.push(self.arg()?);
            match self.next() {
                Some((Token::Comma, _)) => continue,
                Some((Token::RParen, span)) => {
                    stage.span.1 = span.1;
                    return Ok(stage);
                }
                Some((token, span)) => {
                    return Err(ChainError::new(
                        format!("expected `,` or `)`, found {}", token.describe()),
                        span,
                    ))
                }
                None => return Err(self.eof("`)`")),
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, ChainError> {
        if let (Some((Token::Ident(key), span)), Some((Token::Equals, _))) = (
            self.tokens.get(self.pos).cloned(),
            self.tokens.get(self.pos + 1),
        ) {
            self.pos += 2;
            return Ok(Arg {
                key: Some((key, span)),
                value: self.value()?,
            });
        }
        Ok(Arg {
            key: None,
            value: self.value()?,
        })
    }

    fn value(&mut self) -> Result<Value, ChainError> {
        match self.next() {
            Some((Token::Number(n), span)) => Ok(Value::Number(n, span)),
            Some((Token::Str(s), span)) => Ok(Value::Str(s, span)),
            // A bare word is a string: `filter=bicubic` reads as well as `filter="bicubic"`.
            Some((Token::Ident(s), span)) => Ok(Value::Str(s, span)),
            Some((Token::LBracket, open)) => {
                let mut items = Vec::new();
                if let Some((Token::RBracket, close)) = self.peek().cloned() {
                    self.next();
                    return Ok(Value::List(items, (open.0, close.1)));
                }
                loop {
                    items.push(self.value()?);
                    match self.next() {
                        Some((Token::Comma, _)) => continue,
                        Some((Token::RBracket, close)) => {
                            return Ok(Value::List(items, (open.0, close.1)))
                        }
                        Some((token, span)) => {
                            return Err(ChainError::new(
                                format!("expected `,` or `]`, found {}", token.describe()),
                                span,
                            ))
                        }
                        None => return Err(self.eof("`]`")),
                    }
                }
            }
            Some((token, span)) => Err(ChainError::new(
                format!("expected a value, found {}", token.describe()),
                span,
            )
            .with_help("values are numbers, \"strings\" or [lists]")),
            None => Err(self.eof("a value")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stages_keywords_positionals_and_matrices() {
        let ast = parse(
            "gblur(sigma=2) | invert | convolve([[0,-1,0],[-1,5,-1],[0,-1,0]], 1, bias=-0.5e-1)",
        )
        .unwrap();
        assert_eq!(ast.stages.len(), 3);
        assert_eq!(ast.stages[0].args[0].key.as_ref().unwrap().0, "sigma");
        assert!(ast.stages[1].args.is_empty());
        assert_eq!(ast.stages[1].span, (17, 23));
        let Value::List(rows, _) = &ast.stages[2].args[0].value else {
            panic!()
        };
        assert_eq!(rows.len(), 3);
        assert!(matches!(ast.stages[2].args[2].value, Value::Number(v, _) if v == -0.05));
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse("gblur(sigma=2 | invert").unwrap_err();
        assert_eq!(e.span, (14, 15));
        let e = parse("gblur(sigma=2) |").unwrap_err();
        assert!(e.message.contains("end of the chain"), "{}", e.message);
        let e = parse("gblur(\"x)").unwrap_err();
        assert!(e.message.contains("unterminated"));
        let e = parse("gblur(sigma=1.2.3)").unwrap_err();
        assert!(e.message.contains("not a number"));
        let e = parse("gblur $").unwrap_err();
        assert_eq!(e.span, (6, 7));
    }

    #[test]
    fn empty_text_is_an_empty_chain() {
        assert!(parse("  ").unwrap().stages.is_empty());
    }
}
