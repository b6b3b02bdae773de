//! Tokens → [`Ast`].
//!
//! ```text
//! chain  = item ((`|` | line break | `;`) item)*
//! item   = `let` name (`(` param (`,` param)* `)`)? `=` stages  |  stage
//! stages = stage (`|` stage)*        a definition ends at a line break or `;`, unless the
//!                                    next line starts with `|`
//! stage  = name (`(` (arg (`,` arg)*)? `)`)? (`@` value? `..` value?)?
//! arg    = (name `=`)? value
//! param  = name (`=` value)?
//! value  = string | colour | `[` (value (`,` value)*)? `]` | expr
//! expr   = and (`||` and)*               see `expr.rs`
//! and    = cmp (`&&` cmp)*
//! cmp    = sum ((`==` | `!=` | `<` | `<=` | `>` | `>=`) sum)?
//! sum    = term ((`+` | `-`) term)*
//! term   = unary ((`*` | `/` | `%`) unary)*
//! unary  = (`-` | `+` | `!`) unary | primary (`^` unary)?
//! primary = number unit? | name | name `(` (expr (`,` expr)*)? `)` | `(` expr `)`
//! ```
//!
//! After an error the parser skips to the next line break (or `;`) and goes on, so that one
//! pass reports every broken line.

use super::ast::{Arg, Ast, AstStage, Def, DefParam, TimeRange, Value};
use super::error::ChainError;
use super::expr::{Expr, Op};
use super::lexer::{tokenize, Spanned, Token};

/// Parses chain text into a syntax tree, or every error found in it. Empty text (or only
/// spaces and comments) is an empty chain.
pub fn parse(text: &str) -> Result<Ast, Vec<ChainError>> {
    let (ast, errors) = parse_partial(text);
    if errors.is_empty() {
        Ok(ast)
    } else {
        Err(errors)
    }
}

/// The syntax tree of every item that parses, and the errors of those that do not.
pub fn parse_partial(text: &str) -> (Ast, Vec<ChainError>) {
    let (tokens, mut errors) = tokenize(text);
    let lexed = errors.len();
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    let mut ast = Ast::default();
    while parser.peek().is_some() {
        parser.depth = 0;
        match parser.item(&mut ast) {
            Ok(()) => match parser.peek() {
                None => {}
                Some((Token::Pipe | Token::Newline | Token::Semicolon, _)) => {
                    // Between two stages: one `|`, line breaks (a line may end or start with
                    // the `|`) or `;`.
                    let mut pipe = None;
                    while let Some((
                        token @ (Token::Pipe | Token::Newline | Token::Semicolon),
                        span,
                    )) = parser.peek().cloned()
                    {
                        if token == Token::Pipe {
                            if pipe.is_some() {
                                errors.push(ChainError::new(
                                    "expected a filter name, found `|`",
                                    span,
                                ));
                            }
                            pipe = Some(span);
                        }
                        parser.next();
                    }
                    if let (None, Some(span)) = (parser.peek(), pipe) {
                        errors.push(ChainError::new(
                            "expected a filter name after `|`, found the end of the chain",
                            span,
                        ));
                    }
                }
                Some((token, span)) => {
                    errors.push(
                        ChainError::new(
                            format!("expected `|` or the end, found {}", token.describe()),
                            *span,
                        )
                        .with_help("stages are separated by `|` or line breaks"),
                    );
                    parser.skip_line();
                }
            },
            Err(e) => {
                errors.push(e);
                parser.skip_line();
            }
        }
    }
    // A bad character or an unterminated string leaves the rest of its line unreadable:
    // what the parser says about that line after it is noise.
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count();
    let lexed_lines: Vec<usize> = errors[..lexed].iter().map(|e| line(e.span.0)).collect();
    let mut index = 0;
    errors.retain(|e| {
        index += 1;
        index <= lexed || !lexed_lines.contains(&line(e.span.0))
    });
    errors.sort_by_key(|e| e.span);
    (ast, errors)
}

/// How deep values may nest (parentheses, brackets, signs, and operators in a run, each of
/// which adds a level to the tree): far beyond any real chain, far below what the stack holds.
const MAX_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<Spanned>,
    pos: usize,
    end: usize,
    /// Nesting of the value being parsed.
    depth: usize,
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

    /// Skips past the next line break or `;`.
    fn skip_line(&mut self) {
        while let Some((token, _)) = self.next() {
            if matches!(token, Token::Newline | Token::Semicolon) {
                return;
            }
        }
    }

    /// A definition (added to `ast.defs`) or a stage (added to `ast.stages`).
    fn item(&mut self, ast: &mut Ast) -> Result<(), ChainError> {
        match self.peek() {
            Some((Token::Ident(word), _)) if word == "let" => {
                let def = self.def()?;
                ast.defs.push(def);
            }
            _ => ast.stages.push(self.stage()?),
        }
        Ok(())
    }

    fn def(&mut self) -> Result<Def, ChainError> {
        let (_, let_span) = self.next().expect("`let` was peeked");
        let (name, name_span) = match self.next() {
            Some((Token::Ident(name), span)) => (name, span),
            Some((token, span)) => {
                return Err(ChainError::new(
                    format!("expected a name after `let`, found {}", token.describe()),
                    span,
                )
                .with_help("a definition looks like `let soft = gblur(sigma=2)`"))
            }
            None => return Err(self.eof("a name after `let`")),
        };
        let mut params = Vec::new();
        if let Some((Token::LParen, _)) = self.peek() {
            self.next();
            loop {
                match self.next() {
                    Some((Token::RParen, _)) if params.is_empty() => break,
                    Some((Token::Ident(p), span)) => {
                        let default = if let Some((Token::Equals, _)) = self.peek() {
                            self.next();
                            Some(self.value()?)
                        } else {
                            None
                        };
                        params.push(DefParam {
                            name: p,
                            span,
                            default,
                        });
                    }
                    Some((token, span)) => {
                        return Err(ChainError::new(
                            format!("expected a parameter name, found {}", token.describe()),
                            span,
                        ))
                    }
                    None => return Err(self.eof("`)`")),
                }
                match self.next() {
                    Some((Token::Comma, _)) => continue,
                    Some((Token::RParen, _)) => break,
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
        match self.next() {
            Some((Token::Equals, _)) => {}
            Some((token, span)) => {
                return Err(ChainError::new(
                    format!(
                        "expected `=` after `let {name}`, found {}",
                        token.describe()
                    ),
                    span,
                ))
            }
            None => return Err(self.eof("`=`")),
        }
        let mut body = vec![self.stage()?];
        loop {
            match (self.peek(), self.tokens.get(self.pos + 1)) {
                (Some((Token::Pipe, _)), _) => {
                    self.next();
                }
                // A line that starts with `|` goes on with the definition.
                (Some((Token::Newline, _)), Some((Token::Pipe, _))) => {
                    self.pos += 2;
                }
                _ => break,
            }
            body.push(self.stage()?);
        }
        let end = body.last().map_or(name_span.1, |s| s.span.1);
        Ok(Def {
            name,
            name_span,
            params,
            body,
            span: (let_span.0, end),
        })
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
            range: None,
        };
        self.args(&mut stage)?;
        if let Some((Token::At, at)) = self.peek().cloned() {
            self.next();
            stage.range = Some(self.range(at)?);
        }
        Ok(stage)
    }

    /// `@ start..end`, either end left out for an open range; `at` is the span of `@`.
    fn range(&mut self, at: (usize, usize)) -> Result<TimeRange, ChainError> {
        let bound = |p: &mut Parser| -> Result<Option<Value>, ChainError> {
            match p.peek() {
                Some((Token::DotDot | Token::Pipe | Token::Newline | Token::Semicolon, _))
                | None => Ok(None),
                _ => p.value().map(Some),
            }
        };
        let start = bound(self)?;
        match self.next() {
            Some((Token::DotDot, _)) => {}
            Some((token, span)) => {
                return Err(ChainError::new(
                    format!(
                        "expected `..` in the time range, found {}",
                        token.describe()
                    ),
                    span,
                )
                .with_help("a time range looks like `@ 2s..5s`, `@ 10s..` or `@ ..1.5s`"))
            }
            None => return Err(self.eof("`..` in the time range")),
        }
        let end = bound(self)?;
        let last = self.tokens[self.pos - 1].1 .1;
        Ok(TimeRange {
            start,
            end,
            span: (at.0, last),
        })
    }

    /// The stage's arguments in parentheses, if it has them.
    fn args(&mut self, stage: &mut AstStage) -> Result<(), ChainError> {
        if !matches!(self.peek(), Some((Token::LParen, _))) {
            return Ok(());
        }
        self.next();
        if let Some((Token::RParen, span)) = self.peek() {
            stage.span.1 = span.1;
            self.next();
            return Ok(());
        }
        loop {
            stage.args.push(self.arg()?);
            match self.next() {
                Some((Token::Comma, _)) => continue,
                Some((Token::RParen, span)) => {
                    stage.span.1 = span.1;
                    return Ok(());
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
        match self.peek().cloned() {
            Some((Token::Str(s), span)) => {
                self.next();
                Ok(Value::Str(s, span))
            }
            Some((Token::Colour(c), span)) => {
                self.next();
                Ok(Value::Colour(c, span))
            }
            Some((Token::LBracket, open)) => {
                self.next();
                self.enter()?;
                let mut items = Vec::new();
                if let Some((Token::RBracket, close)) = self.peek().cloned() {
                    self.next();
                    self.depth -= 1;
                    return Ok(Value::List(items, (open.0, close.1)));
                }
                loop {
                    items.push(self.value()?);
                    match self.next() {
                        Some((Token::Comma, _)) => continue,
                        Some((Token::RBracket, close)) => {
                            self.depth -= 1;
                            return Ok(Value::List(items, (open.0, close.1)));
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
            Some((_, start)) => {
                let expr = self.expr()?;
                let end = self.tokens[self.pos - 1].1 .1;
                let span = (start.0, end);
                Ok(match expr {
                    Expr::Num(v) => Value::Number(v, span),
                    // A bare word is a string (`filter=bicubic` reads as well as
                    // `filter="bicubic"`), a constant, a variable or a definition's parameter.
                    Expr::Name(w, at) => Value::Word(w, at),
                    e if e.is_constant() => {
                        e.check(&[], "")?;
                        match e.fold(span)? {
                            Expr::Num(v) => Value::Number(v, span),
                            e => Value::Expr(e, span),
                        }
                    }
                    e => Value::Expr(e, span),
                })
            }
            None => Err(self.eof("a value")),
        }
    }

    /// `and ('||' and)*`: the whole of an expression.
    fn expr(&mut self) -> Result<Expr, ChainError> {
        let entered = self.depth;
        self.enter()?;
        let mut left = self.and()?;
        while let Some((Token::OrOr, _)) = self.peek() {
            self.next();
            // A run of operators builds a tree as deep as it is long: each counts as a level.
            self.enter()?;
            left = Expr::Bin(Op::Or, Box::new(left), Box::new(self.and()?));
        }
        self.depth = entered;
        Ok(left)
    }

    /// `comparison ('&&' comparison)*`
    fn and(&mut self) -> Result<Expr, ChainError> {
        let entered = self.depth;
        let mut left = self.comparison()?;
        while let Some((Token::AndAnd, _)) = self.peek() {
            self.next();
            self.enter()?;
            left = Expr::Bin(Op::And, Box::new(left), Box::new(self.comparison()?));
        }
        self.depth = entered;
        Ok(left)
    }

    /// `sum (comparison-operator sum)?`: comparisons do not chain.
    fn comparison(&mut self) -> Result<Expr, ChainError> {
        let op_at = |p: &Parser| match p.peek() {
            Some((Token::Lt, s)) => Some((Op::Lt, *s)),
            Some((Token::Le, s)) => Some((Op::Le, *s)),
            Some((Token::Gt, s)) => Some((Op::Gt, *s)),
            Some((Token::Ge, s)) => Some((Op::Ge, *s)),
            Some((Token::EqEq, s)) => Some((Op::Eq, *s)),
            Some((Token::Ne, s)) => Some((Op::Ne, *s)),
            _ => None,
        };
        let left = self.sum()?;
        let Some((op, _)) = op_at(self) else {
            return Ok(left);
        };
        self.next();
        let right = self.sum()?;
        if let Some((_, span)) = op_at(self) {
            return Err(ChainError::new("comparisons do not chain", span)
                .with_help("write `between(x, a, b)`, or join two comparisons with `&&`"));
        }
        Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
    }

    /// `term (('+' | '-') term)*`
    fn sum(&mut self) -> Result<Expr, ChainError> {
        let entered = self.depth;
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Some((Token::Plus, _)) => Op::Add,
                Some((Token::Minus, _)) => Op::Sub,
                _ => break,
            };
            self.next();
            self.enter()?;
            left = Expr::Bin(op, Box::new(left), Box::new(self.term()?));
        }
        self.depth = entered;
        Ok(left)
    }

    /// `unary (('*' | '/' | '%') unary)*`
    fn term(&mut self) -> Result<Expr, ChainError> {
        let entered = self.depth;
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Some((Token::Star, _)) => Op::Mul,
                Some((Token::Slash, _)) => Op::Div,
                Some((Token::Percent, _)) => Op::Rem,
                _ => break,
            };
            self.next();
            self.enter()?;
            left = Expr::Bin(op, Box::new(left), Box::new(self.unary()?));
        }
        self.depth = entered;
        Ok(left)
    }

    /// `('-' | '+' | '!') unary | primary ('^' unary)?`: the power binds tighter than a sign on
    /// its left (`-2^2` is -4) and takes a signed exponent (`2^-1`).
    fn unary(&mut self) -> Result<Expr, ChainError> {
        let sign = match self.peek() {
            Some((Token::Minus, _)) => Some(Expr::Neg as fn(Box<Expr>) -> Expr),
            Some((Token::Bang, _)) => Some(Expr::Not as fn(Box<Expr>) -> Expr),
            Some((Token::Plus, _)) => Some((|e: Box<Expr>| *e) as fn(Box<Expr>) -> Expr),
            _ => None,
        };
        if let Some(apply) = sign {
            self.next();
            self.enter()?;
            let e = apply(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        let base = self.primary()?;
        if let Some((Token::Caret, _)) = self.peek() {
            self.next();
            self.enter()?;
            let e = Expr::Bin(Op::Pow, Box::new(base), Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        Ok(base)
    }

    /// A number, a name, a call `name(expr, …)` or `(expr)`.
    fn primary(&mut self) -> Result<Expr, ChainError> {
        match self.next() {
            Some((Token::Number(n), _)) => Ok(Expr::Num(n)),
            Some((Token::Ident(name), span)) => {
                if !matches!(self.peek(), Some((Token::LParen, _))) {
                    return Ok(Expr::Name(name, span));
                }
                self.next();
                let mut args = Vec::new();
                if let Some((Token::RParen, close)) = self.peek().cloned() {
                    self.next();
                    return Ok(Expr::Call(name, args, (span.0, close.1)));
                }
                loop {
                    args.push(self.expr()?);
                    match self.next() {
                        Some((Token::Comma, _)) => continue,
                        Some((Token::RParen, close)) => {
                            return Ok(Expr::Call(name, args, (span.0, close.1)))
                        }
                        Some((token, at)) => {
                            return Err(ChainError::new(
                                format!("expected `,` or `)`, found {}", token.describe()),
                                at,
                            ))
                        }
                        None => return Err(self.eof("`)`")),
                    }
                }
            }
            Some((Token::LParen, _)) => {
                let inner = self.expr()?;
                match self.next() {
                    Some((Token::RParen, _)) => Ok(inner),
                    Some((token, at)) => Err(ChainError::new(
                        format!("expected `)`, found {}", token.describe()),
                        at,
                    )),
                    None => Err(self.eof("`)`")),
                }
            }
            Some((token, span)) => Err(ChainError::new(
                format!("expected a value, found {}", token.describe()),
                span,
            )
            .with_help(
                "values are numbers, \"strings\", [lists], #colours or arithmetic like 2*PI",
            )),
            None => Err(self.eof("a value")),
        }
    }

    /// One level deeper into nested parentheses, brackets or signs; an error past
    /// [`MAX_DEPTH`], so that no input can exhaust the stack.
    fn enter(&mut self) -> Result<(), ChainError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().map_or((self.end, self.end + 1), |(_, s)| *s);
            return Err(ChainError::new(
                format!("the value nests more than {MAX_DEPTH} levels deep"),
                span,
            )
            .with_help(
                "parentheses, brackets, signs and each operator of a run such as 1+2+3 count as a level",
            ));
        }
        Ok(())
    }
}

/// An expression on its own, as in a string of `pixel`: `text` starts at byte `offset` of the
/// chain, so that spans point into the chain.
pub fn parse_expr(text: &str, offset: usize) -> Result<Expr, ChainError> {
    let (mut tokens, errors) = tokenize(text);
    if let Some(e) = errors.into_iter().next() {
        return Err(shift(e, offset));
    }
    for (_, span) in &mut tokens {
        *span = (span.0 + offset, span.1 + offset);
    }
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: offset + text.len(),
        depth: 0,
    };
    let expr = parser.expr()?;
    match parser.next() {
        None => Ok(expr),
        Some((token, span)) => Err(ChainError::new(
            format!(
                "expected the end of the expression, found {}",
                token.describe()
            ),
            span,
        )),
    }
}

fn shift(mut e: ChainError, offset: usize) -> ChainError {
    e.span = (e.span.0 + offset, e.span.1 + offset);
    e
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

    fn first_error(text: &str) -> ChainError {
        parse(text).unwrap_err().swap_remove(0)
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = first_error("gblur(sigma=2 | invert");
        assert_eq!(e.span, (14, 15));
        let e = first_error("gblur(sigma=2) |");
        assert!(e.message.contains("end of the chain"), "{}", e.message);
        let e = first_error("gblur(\"x)");
        assert!(e.message.contains("unterminated"));
        let e = first_error("gblur(sigma=1.2.3)");
        assert!(e.message.contains("not a number"));
        let e = first_error("gblur $");
        assert_eq!(e.span, (6, 7));
        let e = first_error("gblur | | invert");
        assert_eq!(
            (e.message.as_str(), e.span),
            ("expected a filter name, found `|`", (8, 9))
        );
        let e = first_error("let = gblur");
        assert!(
            e.message.starts_with("expected a name after `let`"),
            "{}",
            e.message
        );
        let e = first_error("let soft gblur");
        assert!(
            e.message.starts_with("expected `=` after `let soft`"),
            "{}",
            e.message
        );
        let e = first_error("let f(a b) = gblur");
        assert!(
            e.message.starts_with("expected `,` or `)`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn every_broken_line_is_reported() {
        let text = "gblur(sigma=)\ninvert $\neq(contrast=1.1)\nscale(\"x)";
        let errors = parse(text).unwrap_err();
        let lines: Vec<usize> = errors
            .iter()
            .map(|e| text[..e.span.0].matches('\n').count() + 1)
            .collect();
        assert_eq!(lines, [1, 2, 4], "{errors:?}");
    }

    #[test]
    fn lines_comments_and_definitions() {
        let text = "# a look\nlet soft(s, k=0.9) = gblur(sigma=s)\n  | eq(contrast=k)  # continues\n\nsoft(2)\ninvert |\n  hflip; vflip\n";
        let ast = parse(text).unwrap();
        assert_eq!(ast.defs.len(), 1);
        let def = &ast.defs[0];
        assert_eq!(def.name, "soft");
        assert_eq!(def.params.len(), 2);
        assert!(def.params[0].default.is_none());
        assert!(matches!(def.params[1].default, Some(Value::Number(v, _)) if v == 0.9));
        assert_eq!(def.body.len(), 2);
        assert!(matches!(&def.body[0].args[0].value, Value::Word(w, _) if w == "s"));
        let names: Vec<&str> = ast.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["soft", "invert", "hflip", "vflip"]);
        // Line breaks inside parentheses and brackets are space.
        let ast = parse("convolve(\n  [[0,-1,0],\n   [-1,5,-1],\n   [0,-1,0]])").unwrap();
        assert_eq!(ast.stages.len(), 1);
        // One line: `;` ends a definition.
        let ast = parse("let s = gblur(2) | invert; s | hflip").unwrap();
        assert_eq!((ast.defs[0].body.len(), ast.stages.len()), (2, 2));
    }

    #[test]
    fn empty_text_is_an_empty_chain() {
        assert!(parse("  ").unwrap().stages.is_empty());
        assert!(parse("\n# only a comment\n\n").unwrap().stages.is_empty());
    }
}
