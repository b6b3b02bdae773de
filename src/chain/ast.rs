//! The syntax tree of a chain, before it is checked against the registry.

pub use super::expr::Expr;

/// A literal value with the byte span it came from.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(f64, (usize, usize)),
    Str(String, (usize, usize)),
    /// A bare word: a definition's parameter inside its body, a string (`filter=bicubic`)
    /// anywhere else.
    Word(String, (usize, usize)),
    List(Vec<Value>, (usize, usize)),
    /// `#rrggbb` or `#rrggbbaa`: red, green, blue and alpha in 0..=1.
    Colour([f64; 4], (usize, usize)),
    /// Arithmetic that names something (a constant, a definition's parameter), folded when
    /// the chain is resolved; arithmetic on numbers alone is folded by the parser.
    Expr(Expr, (usize, usize)),
}

impl Value {
    pub fn span(&self) -> (usize, usize) {
        match self {
            Value::Number(_, s)
            | Value::Str(_, s)
            | Value::Word(_, s)
            | Value::List(_, s)
            | Value::Colour(_, s)
            | Value::Expr(_, s) => *s,
        }
    }

    /// The value's type as a user would name it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Number(..) | Value::Expr(..) => "a number",
            Value::Str(..) | Value::Word(..) => "a string",
            Value::List(..) => "a list",
            Value::Colour(..) => "a colour",
        }
    }
}

/// `key = value` or a positional `value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub key: Option<(String, (usize, usize))>,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AstStage {
    pub name: String,
    pub name_span: (usize, usize),
    pub args: Vec<Arg>,
    /// From the name to the closing parenthesis.
    pub span: (usize, usize),
    /// `@ start..end`: the times at which the stage runs.
    pub range: Option<TimeRange>,
}

/// `@ start..end` after a stage: it runs on frames with `start <= t < end` and passes the others
/// through. Either end may be left out.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeRange {
    pub start: Option<Value>,
    pub end: Option<Value>,
    /// From `@` to the end of the range.
    pub span: (usize, usize),
}

/// A parameter of a definition, with its default value if it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct DefParam {
    pub name: String,
    pub span: (usize, usize),
    pub default: Option<Value>,
}

/// `let name(params) = stage | stage …`: a named piece of chain.
#[derive(Clone, Debug, PartialEq)]
pub struct Def {
    pub name: String,
    pub name_span: (usize, usize),
    pub params: Vec<DefParam>,
    pub body: Vec<AstStage>,
    /// From `let` to the end of the body.
    pub span: (usize, usize),
}

/// A parsed chain: its definitions and its stages, each in the order of the text.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Ast {
    pub defs: Vec<Def>,
    pub stages: Vec<AstStage>,
}
