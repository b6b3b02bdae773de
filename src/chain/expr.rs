//! Arithmetic in parameter values: `sigma=1.5*2`, `width=1920/3`, `amount=-sqrt(2)`,
//! `kernel=[[0,-1,0],[-1,4+1,-1],[0,-1,0]]`, and inside a definition's body its parameters
//! (`gblur(sigma=s*2)`).
//!
//! An expression is folded to a number when the chain is resolved; the names it may use are
//! the constants `PI` and `E` and, in a definition's body, the definition's parameters.
//! Operators, tightest first: `^` (power, right to left), unary `-` and `+`, `*` and `/`,
//! `+` and `-`.

use super::error::{did_you_mean, ChainError};

/// An expression as parsed, with the span of each part that can be wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    /// A name: a constant, or a definition's parameter.
    Name(String, (usize, usize)),
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>, (usize, usize)),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
}

/// The functions an expression may call, with how many arguments each takes.
pub const FUNCTIONS: &[(&str, usize)] = &[
    ("abs", 1),
    ("min", 2),
    ("max", 2),
    ("clamp", 3),
    ("floor", 1),
    ("ceil", 1),
    ("round", 1),
    ("pow", 2),
    ("sqrt", 1),
    ("exp", 1),
    ("log", 1),
    ("sin", 1),
    ("cos", 1),
    ("tan", 1),
    ("lerp", 3),
    ("smoothstep", 3),
];

/// Constants every expression may use.
pub const CONSTANTS: &[(&str, f64)] = &[("PI", std::f64::consts::PI), ("E", std::f64::consts::E)];

/// Names that vary from frame to frame in the language's design; not available yet.
const PER_FRAME: &[&str] = &["t", "n", "w", "h", "fps", "duration"];

impl Expr {
    /// The number the expression stands for, with `lookup` giving the values of names other
    /// than the constants.
    pub fn eval(
        &self,
        span: (usize, usize),
        lookup: &dyn Fn(&str) -> Option<f64>,
        known: &[&str],
    ) -> Result<f64, ChainError> {
        let value = match self {
            Expr::Num(v) => *v,
            Expr::Name(name, at) => match CONSTANTS.iter().find(|(c, _)| c == name) {
                Some((_, v)) => *v,
                None => match lookup(name) {
                    Some(v) => v,
                    None if PER_FRAME.contains(&name.as_str()) => {
                        return Err(ChainError::new(
                            format!("`{name}` changes from frame to frame; per-frame expressions are not supported yet"),
                            *at,
                        )
                        .with_help("give a constant value"))
                    }
                    None => {
                        let names = known
                            .iter()
                            .copied()
                            .chain(CONSTANTS.iter().map(|(c, _)| *c));
                        let err = ChainError::new(format!("unknown name `{name}`"), *at);
                        return Err(match did_you_mean(name, names) {
                            Some(n) => err.with_help(format!("did you mean `{n}`?")),
                            None => err.with_help("expressions may use PI, E and a definition's parameters"),
                        });
                    }
                },
            },
            Expr::Neg(e) => -e.eval(span, lookup, known)?,
            Expr::Bin(op, a, b) => {
                let (a, b) = (a.eval(span, lookup, known)?, b.eval(span, lookup, known)?);
                match op {
                    Op::Add => a + b,
                    Op::Sub => a - b,
                    Op::Mul => a * b,
                    Op::Div => a / b,
                    Op::Pow => a.powf(b),
                }
            }
            Expr::Call(name, args, at) => {
                let Some(&(_, arity)) = FUNCTIONS.iter().find(|(f, _)| f == name) else {
                    let names = FUNCTIONS.iter().map(|(f, _)| *f);
                    let err = ChainError::new(format!("unknown function `{name}`"), *at);
                    return Err(match did_you_mean(name, names) {
                        Some(n) => err.with_help(format!("did you mean `{n}`?")),
                        None => err.with_help(format!(
                            "the functions are {}",
                            FUNCTIONS.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
                        )),
                    });
                };
                if args.len() != arity {
                    return Err(ChainError::new(
                        format!(
                            "`{name}` takes {arity} argument{}, not {}",
                            if arity == 1 { "" } else { "s" },
                            args.len()
                        ),
                        *at,
                    ));
                }
                let v = args
                    .iter()
                    .map(|a| a.eval(span, lookup, known))
                    .collect::<Result<Vec<f64>, _>>()?;
                call(name, &v)
            }
        };
        if value.is_finite() {
            Ok(value)
        } else {
            Err(ChainError::new(
                format!("the expression comes to {value}, not a finite number"),
                span,
            ))
        }
    }

    /// True when the expression names nothing: its value is known while parsing.
    pub fn is_constant(&self) -> bool {
        match self {
            Expr::Num(_) => true,
            Expr::Name(..) => false,
            Expr::Neg(e) => e.is_constant(),
            Expr::Bin(_, a, b) => a.is_constant() && b.is_constant(),
            Expr::Call(_, args, _) => args.iter().all(Expr::is_constant),
        }
    }

    /// The expression with `replace` applied to every name it has an answer for.
    pub fn substitute(&self, replace: &dyn Fn(&str) -> Option<Expr>) -> Expr {
        match self {
            Expr::Name(name, _) => replace(name).unwrap_or_else(|| self.clone()),
            Expr::Neg(e) => Expr::Neg(Box::new(e.substitute(replace))),
            Expr::Bin(op, a, b) => Expr::Bin(
                *op,
                Box::new(a.substitute(replace)),
                Box::new(b.substitute(replace)),
            ),
            Expr::Call(f, args, at) => Expr::Call(
                f.clone(),
                args.iter().map(|a| a.substitute(replace)).collect(),
                *at,
            ),
            Expr::Num(_) => self.clone(),
        }
    }
}

fn call(name: &str, v: &[f64]) -> f64 {
    match name {
        "abs" => v[0].abs(),
        "min" => v[0].min(v[1]),
        "max" => v[0].max(v[1]),
        "clamp" => v[0].max(v[1]).min(v[2]),
        "floor" => v[0].floor(),
        "ceil" => v[0].ceil(),
        "round" => v[0].round(),
        "pow" => v[0].powf(v[1]),
        "sqrt" => v[0].sqrt(),
        "exp" => v[0].exp(),
        "log" => v[0].ln(),
        "sin" => v[0].sin(),
        "cos" => v[0].cos(),
        "tan" => v[0].tan(),
        "lerp" => v[0] + (v[1] - v[0]) * v[2],
        "smoothstep" => {
            let t = ((v[2] - v[0]) / (v[1] - v[0])).clamp(0.0, 1.0);
            t * t * (3.0 - 2.0 * t)
        }
        _ => f64::NAN,
    }
}
