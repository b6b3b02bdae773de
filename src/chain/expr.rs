//! Expressions in parameter values: `sigma=1.5*2`, `amount=-sqrt(2)`,
//! `brightness = 0.2*sin(2*PI*t)`, `enable = between(t, 2, 5) && n % 2 == 0`, and the channel
//! expressions of `pixel`.
//!
//! Operators, tightest first: `^` (power, right to left); unary `-`, `+` and `!`; `*`, `/` and
//! `%`; `+` and `-`; the comparisons `==`, `!=`, `<`, `<=`, `>`, `>=` (which do not chain);
//! `&&`; `||`. Comparisons and logic give 1 for true and 0 for false; any value other than 0
//! counts as true.
//!
//! An expression names constants ([`CONSTANTS`]), a definition's parameters (replaced by their
//! values when the definition is expanded), the per-frame variables ([`FRAME_VARIABLES`]) and,
//! inside `pixel`, the pixel's own ([`PIXEL_VARIABLES`]). What names nothing that varies is
//! folded to a number when the chain is checked; the rest is evaluated once per frame (or, in
//! `pixel`, compiled for the backends).

use std::fmt;

use super::error::{did_you_mean, ChainError};

/// An expression as parsed, with the span of each part that can be wrong.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    /// A name: a constant, a variable, or a definition's parameter.
    Name(String, (usize, usize)),
    Neg(Box<Expr>),
    /// Logical not: 1 where the operand is 0, else 0.
    Not(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(String, Vec<Expr>, (usize, usize)),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    /// Remainder with the sign of the dividend, as C's `fmod`.
    Rem,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
            Op::Div => "/",
            Op::Rem => "%",
            Op::Pow => "^",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::And => "&&",
            Op::Or => "||",
        }
    }

    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            Op::Or => 1,
            Op::And => 2,
            Op::Lt | Op::Le | Op::Gt | Op::Ge | Op::Eq | Op::Ne => 3,
            Op::Add | Op::Sub => 4,
            Op::Mul | Op::Div | Op::Rem => 5,
            Op::Pow => 7,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 3
    }

    /// The operator on two values.
    #[inline]
    pub fn apply(self, a: f64, b: f64) -> f64 {
        let truth = |c: bool| if c { 1.0 } else { 0.0 };
        match self {
            Op::Add => a + b,
            Op::Sub => a - b,
            Op::Mul => a * b,
            Op::Div => a / b,
            Op::Rem => a % b,
            Op::Pow => a.powf(b),
            Op::Lt => truth(a < b),
            Op::Le => truth(a <= b),
            Op::Gt => truth(a > b),
            Op::Ge => truth(a >= b),
            Op::Eq => truth(a == b),
            Op::Ne => truth(a != b),
            Op::And => truth(a != 0.0 && b != 0.0),
            Op::Or => truth(a != 0.0 || b != 0.0),
        }
    }
}

/// Precedence of unary `-` and `!`: between `*` and `^`.
const UNARY: u8 = 6;

/// A function an expression may call.
#[derive(Debug)]
pub struct Function {
    pub name: &'static str,
    /// What it takes, as the docs and `tessera check` show it.
    pub signature: &'static str,
    pub min_args: usize,
    /// `usize::MAX` for the keyframe functions, which take pairs after their first argument.
    pub max_args: usize,
    pub doc: &'static str,
}

const fn f(
    name: &'static str,
    signature: &'static str,
    args: usize,
    doc: &'static str,
) -> Function {
    Function {
        name,
        signature,
        min_args: args,
        max_args: args,
        doc,
    }
}

/// Every function an expression may call.
pub const FUNCTIONS: &[Function] = &[
    f("abs", "abs(x)", 1, "absolute value"),
    f("min", "min(a, b)", 2, "the smaller value"),
    f("max", "max(a, b)", 2, "the larger value"),
    f("clamp", "clamp(x, lo, hi)", 3, "x limited to lo ..= hi"),
    f("floor", "floor(x)", 1, "largest integer ≤ x"),
    f("ceil", "ceil(x)", 1, "smallest integer ≥ x"),
    f(
        "round",
        "round(x)",
        1,
        "nearest integer, halves away from 0",
    ),
    f("pow", "pow(x, y)", 2, "x to the power y, as x^y"),
    f("sqrt", "sqrt(x)", 1, "square root"),
    f("exp", "exp(x)", 1, "e to the power x"),
    f("log", "log(x)", 1, "natural logarithm"),
    f("sin", "sin(x)", 1, "sine of x radians"),
    f("cos", "cos(x)", 1, "cosine of x radians"),
    f("tan", "tan(x)", 1, "tangent of x radians"),
    f("lerp", "lerp(a, b, k)", 3, "a + (b - a)·k"),
    f(
        "noise",
        "noise(a, b)",
        2,
        "a value in 0..1 that looks random, the same for the same whole numbers a and b \
         (e.g. noise(x, y)) on both backends",
    ),
    f(
        "smoothstep",
        "smoothstep(e0, e1, x)",
        3,
        "0 below e0, 1 above e1, a smooth S-curve between",
    ),
    f("if", "if(c, a, b)", 3, "a where c is not 0, else b"),
    f(
        "between",
        "between(x, a, b)",
        3,
        "1 where a ≤ x ≤ b, else 0",
    ),
    Function {
        name: "linear",
        signature: "linear(x, x0, y0, x1, y1, …)",
        min_args: 3,
        max_args: usize::MAX,
        doc: "keyframes: y at x interpolated in straight lines between the (xi, yi) pairs, held \
              before the first and after the last",
    },
    Function {
        name: "smooth",
        signature: "smooth(x, x0, y0, x1, y1, …)",
        min_args: 3,
        max_args: usize::MAX,
        doc: "keyframes as `linear`, eased in and out of each pair (smoothstep)",
    },
];

/// Constants every expression may use.
pub const CONSTANTS: &[(&str, f64)] = &[
    ("PI", std::f64::consts::PI),
    ("E", std::f64::consts::E),
    ("true", 1.0),
    ("false", 0.0),
];

/// Variables that change from frame to frame, with what they are.
pub const FRAME_VARIABLES: &[(&str, &str)] = &[
    ("t", "the frame's time in seconds (0 for an image)"),
    ("n", "the frame's index, from 0"),
    ("w", "the width of the frame entering the stage"),
    ("h", "the height of the frame entering the stage"),
    (
        "fps",
        "the video's frame rate (0 for an image or when unknown)",
    ),
    (
        "duration",
        "the video's duration in seconds (0 for an image or when unknown)",
    ),
];

/// Variables of `pixel`'s channel expressions, beside the frame's.
pub const PIXEL_VARIABLES: &[(&str, &str)] = &[
    ("r", "the pixel's red, 0..1"),
    ("g", "the pixel's green, 0..1"),
    ("b", "the pixel's blue, 0..1"),
    ("a", "the pixel's alpha, 0..1"),
    ("x", "the pixel's column, from 0 at the left"),
    ("y", "the pixel's row, from 0 at the top"),
];

/// The pixel's Y′CbCr in `pixel`'s expressions, worked out from its R′G′B′ through the frame's
/// matrix (BT.709 for photos), and the parameters that set it.
pub const COLOUR_VARIABLES: &[(&str, &str)] = &[
    ("luma", "the pixel's luma Y′, 0..1 (black to white)"),
    (
        "cb",
        "the pixel's blue difference Cb, -0.5..0.5 (0 is grey)",
    ),
    ("cr", "the pixel's red difference Cr, -0.5..0.5 (0 is grey)"),
];

/// The names of [`FRAME_VARIABLES`].
pub fn frame_variable_names() -> impl Iterator<Item = &'static str> + Clone {
    FRAME_VARIABLES.iter().map(|(n, _)| *n)
}

pub fn function(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

pub fn constant(name: &str) -> Option<f64> {
    CONSTANTS.iter().find(|(c, _)| *c == name).map(|(_, v)| *v)
}

impl Expr {
    /// Checks that every name is a constant or one of `names`, and every call names a function
    /// with the right number of arguments; `where_help` says what may be named here, for
    /// messages.
    pub fn check(&self, names: &[&str], where_help: &str) -> Result<(), ChainError> {
        match self {
            Expr::Num(_) => Ok(()),
            Expr::Name(name, at) => {
                if constant(name).is_some() || names.contains(&name.as_str()) {
                    return Ok(());
                }
                let candidates = names
                    .iter()
                    .copied()
                    .chain(CONSTANTS.iter().map(|(c, _)| *c));
                let err = ChainError::new(format!("unknown name `{name}`"), *at);
                Err(match did_you_mean(name, candidates) {
                    Some(n) => err.with_help(format!("did you mean `{n}`?")),
                    None => err.with_help(where_help.to_string()),
                })
            }
            Expr::Neg(e) | Expr::Not(e) => e.check(names, where_help),
            Expr::Bin(_, a, b) => {
                a.check(names, where_help)?;
                b.check(names, where_help)
            }
            Expr::Call(name, args, at) => {
                let Some(func) = function(name) else {
                    let err = ChainError::new(format!("unknown function `{name}`"), *at);
                    return Err(match did_you_mean(name, FUNCTIONS.iter().map(|f| f.name)) {
                        Some(n) => err.with_help(format!("did you mean `{n}`?")),
                        None => err.with_help(format!(
                            "the functions are {}",
                            FUNCTIONS
                                .iter()
                                .map(|f| f.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    });
                };
                if func.max_args == usize::MAX {
                    if args.len() < func.min_args || args.len() % 2 == 0 {
                        return Err(ChainError::new(
                            format!(
                                "`{name}` takes a position and then (position, value) pairs, not {} argument{}",
                                args.len(),
                                if args.len() == 1 { "" } else { "s" }
                            ),
                            *at,
                        )
                        .with_help(format!("for example `{name}(t, 0s, 0, 2s, 1)`")));
                    }
                    keyframes(name, &args[1..], *at)?;
                } else if args.len() != func.min_args {
                    let n = func.min_args;
                    return Err(ChainError::new(
                        format!(
                            "`{name}` takes {n} argument{}, not {}",
                            if n == 1 { "" } else { "s" },
                            args.len()
                        ),
                        *at,
                    )
                    .with_help(func.signature));
                }
                args.iter().try_for_each(|a| a.check(names, where_help))
            }
        }
    }

    /// The value of the expression; `vars` gives the value of every name that is not a
    /// constant. Call after [`Expr::check`].
    pub fn eval(&self, vars: &dyn Fn(&str) -> f64) -> f64 {
        match self {
            Expr::Num(v) => *v,
            Expr::Name(name, _) => constant(name).unwrap_or_else(|| vars(name)),
            Expr::Neg(e) => -e.eval(vars),
            Expr::Not(e) => {
                if e.eval(vars) == 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Expr::Bin(op, a, b) => op.apply(a.eval(vars), b.eval(vars)),
            Expr::Call(name, args, _) => {
                if name == "linear" || name == "smooth" {
                    let keys: Vec<f64> = args[1..].iter().map(|a| a.eval(vars)).collect();
                    let pairs: Vec<(f64, f64)> = keys.chunks(2).map(|p| (p[0], p[1])).collect();
                    return interpolate(&pairs, name == "smooth", args[0].eval(vars));
                }
                let v: Vec<f64> = args.iter().map(|a| a.eval(vars)).collect();
                call(name, &v)
            }
        }
    }

    /// True when the expression names no variable: its value is known while parsing.
    pub fn is_constant(&self) -> bool {
        !self.any_name(&|n| constant(n).is_none())
    }

    /// True when some name in the expression passes `test`.
    pub fn any_name(&self, test: &dyn Fn(&str) -> bool) -> bool {
        match self {
            Expr::Num(_) => false,
            Expr::Name(name, _) => test(name),
            Expr::Neg(e) | Expr::Not(e) => e.any_name(test),
            Expr::Bin(_, a, b) => a.any_name(test) || b.any_name(test),
            Expr::Call(_, args, _) => args.iter().any(|a| a.any_name(test)),
        }
    }

    /// [`Expr::substitute`], building at most `budget` parts (numbers, names, operators and
    /// calls); `None` when the result would be larger. Definitions that pass an argument on
    /// used twice over grow it exponentially with their nesting, which this bounds.
    pub fn substitute_within(
        &self,
        replace: &dyn Fn(&str) -> Option<Expr>,
        budget: &mut usize,
    ) -> Option<Expr> {
        *budget = budget.checked_sub(1)?;
        Some(match self {
            Expr::Name(name, _) => match replace(name) {
                Some(e) => {
                    *budget = budget.checked_sub(e.size().saturating_sub(1))?;
                    e
                }
                None => self.clone(),
            },
            Expr::Neg(e) => Expr::Neg(Box::new(e.substitute_within(replace, budget)?)),
            Expr::Not(e) => Expr::Not(Box::new(e.substitute_within(replace, budget)?)),
            Expr::Bin(op, a, b) => Expr::Bin(
                *op,
                Box::new(a.substitute_within(replace, budget)?),
                Box::new(b.substitute_within(replace, budget)?),
            ),
            Expr::Call(f, args, at) => Expr::Call(
                f.clone(),
                args.iter()
                    .map(|a| a.substitute_within(replace, budget))
                    .collect::<Option<_>>()?,
                *at,
            ),
            Expr::Num(_) => self.clone(),
        })
    }

    /// The number of parts of the expression: numbers, names, operators and calls.
    pub fn size(&self) -> usize {
        1 + match self {
            Expr::Num(_) | Expr::Name(..) => 0,
            Expr::Neg(e) | Expr::Not(e) => e.size(),
            Expr::Bin(_, a, b) => a.size() + b.size(),
            Expr::Call(_, args, _) => args.iter().map(Expr::size).sum(),
        }
    }

    /// The expression with `replace` applied to every name it has an answer for.
    pub fn substitute(&self, replace: &dyn Fn(&str) -> Option<Expr>) -> Expr {
        match self {
            Expr::Name(name, _) => replace(name).unwrap_or_else(|| self.clone()),
            Expr::Neg(e) => Expr::Neg(Box::new(e.substitute(replace))),
            Expr::Not(e) => Expr::Not(Box::new(e.substitute(replace))),
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

    /// The expression with every part that names no variable replaced by its value; an error
    /// (pointing at `span`) where such a part is not a finite number. Call after
    /// [`Expr::check`].
    pub fn fold(&self, span: (usize, usize)) -> Result<Expr, ChainError> {
        if self.is_constant() {
            let value = self.eval(&|_| f64::NAN);
            if !value.is_finite() {
                return Err(ChainError::new(
                    format!("`{self}` comes to {value}, not a finite number"),
                    span,
                ));
            }
            return Ok(Expr::Num(value));
        }
        Ok(match self {
            Expr::Neg(e) => Expr::Neg(Box::new(e.fold(span)?)),
            Expr::Not(e) => Expr::Not(Box::new(e.fold(span)?)),
            Expr::Bin(op, a, b) => Expr::Bin(*op, Box::new(a.fold(span)?), Box::new(b.fold(span)?)),
            Expr::Call(f, args, at) => Expr::Call(
                f.clone(),
                args.iter()
                    .map(|a| a.fold(span))
                    .collect::<Result<_, _>>()?,
                *at,
            ),
            other => other.clone(),
        })
    }

    /// How tightly the expression holds together when printed: higher binds tighter.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Num(v) if *v < 0.0 || (*v == 0.0 && v.is_sign_negative()) => UNARY,
            Expr::Num(_) | Expr::Name(..) | Expr::Call(..) => u8::MAX,
            Expr::Neg(_) | Expr::Not(_) => UNARY,
            Expr::Bin(op, ..) => op.precedence(),
        }
    }
}

/// Prints the expression as chain text that parses back to the same expression, with only the
/// parentheses it needs.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let wrap = |f: &mut fmt::Formatter<'_>, e: &Expr, parens: bool| {
            if parens {
                write!(f, "({e})")
            } else {
                write!(f, "{e}")
            }
        };
        match self {
            Expr::Num(v) => write!(f, "{v}"),
            Expr::Name(name, _) => f.write_str(name),
            Expr::Neg(e) => {
                f.write_str("-")?;
                // `--x` would read as well, but `-(-x)` reads better.
                wrap(f, e, e.precedence() < UNARY || e.precedence() == UNARY)
            }
            Expr::Not(e) => {
                f.write_str("!")?;
                wrap(f, e, e.precedence() <= UNARY)
            }
            Expr::Bin(op, a, b) => {
                let p = op.precedence();
                let (left, right) = match op {
                    // Right to left; a signed exponent needs no parentheses (`2^-1`).
                    Op::Pow => (a.precedence() <= p, b.precedence() < UNARY),
                    _ if op.is_comparison() => (a.precedence() <= p, b.precedence() <= p),
                    _ => (a.precedence() < p, b.precedence() <= p),
                };
                wrap(f, a, left)?;
                match op {
                    Op::Pow => f.write_str("^")?,
                    Op::Mul | Op::Div | Op::Rem => write!(f, " {} ", op.symbol())?,
                    _ => write!(f, " {} ", op.symbol())?,
                }
                wrap(f, b, right)
            }
            Expr::Call(name, args, _) => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Keyframes must be constant and in increasing order of position.
fn keyframes(name: &str, pairs: &[Expr], at: (usize, usize)) -> Result<(), ChainError> {
    let mut last = f64::NEG_INFINITY;
    for pair in pairs.chunks(2) {
        if !pair[0].is_constant() || !pair[1].is_constant() {
            return Err(ChainError::new(
                format!("the keyframes of `{name}` must be constant numbers"),
                at,
            )
            .with_help("only the first argument, the position, may vary"));
        }
        let x = pair[0].eval(&|_| f64::NAN);
        if x <= last {
            return Err(ChainError::new(
                format!("the keyframes of `{name}` must be in increasing order of position"),
                at,
            )
            .with_help(format!("{x} comes after {last}")));
        }
        last = x;
    }
    Ok(())
}

/// The value of keyframes `pairs` (position, value; increasing positions) at `x`: held before
/// the first and after the last, straight or eased (smoothstep) between.
pub fn interpolate(pairs: &[(f64, f64)], smooth: bool, x: f64) -> f64 {
    let Some(&(x0, y0)) = pairs.first() else {
        return f64::NAN;
    };
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= x0 {
        return y0;
    }
    for w in pairs.windows(2) {
        let ((xa, ya), (xb, yb)) = (w[0], w[1]);
        if x < xb {
            let mut k = (x - xa) / (xb - xa);
            if smooth {
                k = k * k * (3.0 - 2.0 * k);
            }
            return ya + (yb - ya) * k;
        }
    }
    pairs[pairs.len() - 1].1
}

/// A function of [`FUNCTIONS`] (other than the keyframe ones) on its argument values.
pub fn call(name: &str, v: &[f64]) -> f64 {
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
        "noise" => crate::pixel::noise(v[0] as f32, v[1] as f32) as f64,
        "smoothstep" => {
            let t = ((v[2] - v[0]) / (v[1] - v[0])).clamp(0.0, 1.0);
            t * t * (3.0 - 2.0 * t)
        }
        "if" => {
            if v[0] != 0.0 {
                v[1]
            } else {
                v[2]
            }
        }
        "between" => {
            if v[1] <= v[0] && v[0] <= v[2] {
                1.0
            } else {
                0.0
            }
        }
        _ => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use crate::chain::parser::parse_expr;

    fn value(text: &str, t: f64) -> f64 {
        let e = parse_expr(text, 0).unwrap();
        e.check(&["t", "n"], "").unwrap();
        e.eval(&|name| if name == "t" { t } else { 7.0 })
    }

    #[test]
    fn precedence_and_logic() {
        assert_eq!(value("1 + 2 * 3 ^ 2", 0.0), 19.0);
        assert_eq!(value("-2^2", 0.0), -4.0);
        assert_eq!(value("2^-1", 0.0), 0.5);
        assert_eq!(value("1 < 2 && 3 >= 3", 0.0), 1.0);
        assert_eq!(value("0 || !1", 0.0), 0.0);
        assert_eq!(value("1 + 1 == 2", 0.0), 1.0);
        assert_eq!(value("n % 4", 0.0), 3.0);
        assert_eq!(value("if(t > 1, 10, 20)", 2.0), 10.0);
        assert_eq!(value("between(t, 1, 2)", 2.0), 1.0);
        assert_eq!(value("between(t, 1, 2)", 2.5), 0.0);
        assert_eq!(value("true && !false", 0.0), 1.0);
    }

    #[test]
    fn keyframes_hold_and_interpolate() {
        let lin = "linear(t, 1, 0, 3, 1, 4, 0)";
        for (t, want) in [
            (0.0, 0.0),
            (1.0, 0.0),
            (2.0, 0.5),
            (3.0, 1.0),
            (3.5, 0.5),
            (9.0, 0.0),
        ] {
            assert!((value(lin, t) - want).abs() < 1e-12, "{lin} at {t}");
        }
        let s = "smooth(t, 0, 0, 1, 1)";
        assert!((value(s, 0.25) - 0.15625).abs() < 1e-12);
        assert_eq!(value(s, 0.5), 0.5);
    }

    #[test]
    fn printing_keeps_the_meaning_with_few_parentheses() {
        for (text, printed) in [
            ("1+2*3", "1 + 2 * 3"),
            ("(1+2)*3", "(1 + 2) * 3"),
            ("t-(n-1)", "t - (n - 1)"),
            ("(t-n)-1", "t - n - 1"),
            ("-t^2", "-t^2"),
            ("(-t)^2", "(-t)^2"),
            ("t^n^2", "t^n^2"),
            ("(t^n)^2", "(t^n)^2"),
            ("t^-n", "t^-n"),
            ("!(t<1)", "!(t < 1)"),
            ("(t<1)==(n>2)", "(t < 1) == (n > 2)"),
            ("t<1||n>2&&t>0", "t < 1 || n > 2 && t > 0"),
            ("(t<1||n>2)&&t>0", "(t < 1 || n > 2) && t > 0"),
            ("- -t", "-(-t)"),
            ("sin(2*PI*t)", "sin(2 * PI * t)"),
        ] {
            let e = parse_expr(text, 0).unwrap();
            assert_eq!(e.to_string(), printed, "{text}");
            let again = parse_expr(&e.to_string(), 0).unwrap();
            assert_eq!(again.to_string(), printed, "{text}");
            for t in [0.0, 0.5, 3.0] {
                let vars = |n: &str| if n == "t" { t } else { 2.0 };
                let (x, y) = (e.eval(&vars), again.eval(&vars));
                assert!(x == y || (x.is_nan() && y.is_nan()), "{text} at {t}");
            }
        }
    }
}
