//! A typed way for Rust code to build a chain: filters and arguments as values, checked by the
//! same resolver as chain text.
//!
//! ```
//! use tessera::Chain;
//! let chain = Chain::builder()
//!     .filter("gblur")
//!     .arg("sigma", 2.0)
//!     .filter("convolve")
//!     .arg("kernel", vec![vec![0.0, -1.0, 0.0], vec![-1.0, 5.0, -1.0], vec![0.0, -1.0, 0.0]])
//!     .filter("scale")
//!     .arg("width", 640)
//!     .arg("filter", "bicubic")
//!     .build()
//!     .unwrap();
//! assert_eq!(chain.stages.len(), 3);
//! ```
//!
//! The builder writes the chain as text and resolves that, so a built chain and the same chain
//! typed by hand are one thing, and an error in a built chain reads like any chain error, its
//! span pointing into [`Chain::source`].

use super::{Chain, ChainError};

/// A value for a parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgInput {
    Number(f64),
    Text(String),
    /// A flat list, e.g. a square kernel given row after row.
    List(Vec<f64>),
    /// Rows of a matrix.
    Matrix(Vec<Vec<f64>>),
    Bool(bool),
    /// Red, green, blue and alpha, 0..=1.
    Colour([f64; 4]),
    /// An expression in the chain language, e.g. `0.2 * sin(2 * PI * t)`: see
    /// [`ChainBuilder::expr`].
    Expr(String),
}

impl From<bool> for ArgInput {
    fn from(v: bool) -> ArgInput {
        ArgInput::Bool(v)
    }
}

macro_rules! number_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ArgInput {
            fn from(v: $t) -> ArgInput {
                ArgInput::Number(v as f64)
            }
        }
    )*};
}
number_from!(f64, f32, i32, i64, u32, u64, usize);

impl From<&str> for ArgInput {
    fn from(v: &str) -> ArgInput {
        ArgInput::Text(v.to_string())
    }
}

impl From<String> for ArgInput {
    fn from(v: String) -> ArgInput {
        ArgInput::Text(v)
    }
}

impl From<Vec<f64>> for ArgInput {
    fn from(v: Vec<f64>) -> ArgInput {
        ArgInput::List(v)
    }
}

impl From<Vec<Vec<f64>>> for ArgInput {
    fn from(v: Vec<Vec<f64>>) -> ArgInput {
        ArgInput::Matrix(v)
    }
}

impl<const W: usize, const H: usize> From<[[f64; W]; H]> for ArgInput {
    fn from(v: [[f64; W]; H]) -> ArgInput {
        ArgInput::Matrix(v.iter().map(|row| row.to_vec()).collect())
    }
}

/// Filters and their named arguments, in order; [`ChainBuilder::build`] checks them.
#[derive(Clone, Debug, Default)]
pub struct ChainBuilder {
    stages: Vec<BuiltStage>,
}

#[derive(Clone, Debug, Default)]
struct BuiltStage {
    name: String,
    args: Vec<(String, ArgInput)>,
    /// Seconds: the start (included) and the end (excluded) of the stage's time range.
    range: Option<(Option<f64>, Option<f64>)>,
}

impl ChainBuilder {
    /// Adds a filter; the arguments that follow are its own.
    pub fn filter(mut self, name: &str) -> ChainBuilder {
        self.stages.push(BuiltStage {
            name: name.to_string(),
            ..BuiltStage::default()
        });
        self
    }

    /// Gives the last filter's parameter `name` a value. Before any filter it is an error
    /// that [`ChainBuilder::build`] reports.
    pub fn arg(mut self, name: &str, value: impl Into<ArgInput>) -> ChainBuilder {
        let arg = (name.to_string(), value.into());
        match self.stages.last_mut() {
            Some(stage) => stage.args.push(arg),
            // Kept as a stage without a name, which the build refuses.
            None => self.stages.push(BuiltStage {
                args: vec![arg],
                ..BuiltStage::default()
            }),
        }
        self
    }

    /// Gives the last filter's parameter `name` an expression in the chain language, which may
    /// name the per-frame variables (`t`, `n`, `w`, `h`, `fps`, `duration`): e.g.
    /// `.expr("brightness", "0.2 * sin(2 * PI * t)")`. `enable` is a parameter of every stage.
    pub fn expr(self, name: &str, text: &str) -> ChainBuilder {
        self.arg(name, ArgInput::Expr(text.to_string()))
    }

    /// Limits the last filter to the frames with `start <= t < end`, in seconds: `2.0..5.0`,
    /// `10.0..` or `..1.5`.
    pub fn during(mut self, range: impl std::ops::RangeBounds<f64>) -> ChainBuilder {
        use std::ops::Bound;
        let start = match range.start_bound() {
            Bound::Included(v) | Bound::Excluded(v) => Some(*v),
            Bound::Unbounded => None,
        };
        let end = match range.end_bound() {
            Bound::Included(v) | Bound::Excluded(v) => Some(*v),
            Bound::Unbounded => None,
        };
        if let Some(stage) = self.stages.last_mut() {
            stage.range = Some((start, end));
        }
        self
    }

    /// The chain, checked as chain text is: every error found.
    pub fn build(self) -> Result<Chain, Vec<ChainError>> {
        let mut text = String::new();
        let mut errors = Vec::new();
        for (i, stage) in self.stages.iter().enumerate() {
            if i > 0 {
                text += " | ";
            }
            let start = text.len();
            if stage.name.is_empty() {
                errors.push(ChainError::new(
                    "an argument given before any filter",
                    (start, start + 1),
                ));
                continue;
            }
            text += &stage.name;
            text += "(";
            for (j, (key, value)) in stage.args.iter().enumerate() {
                if j > 0 {
                    text += ", ";
                }
                let at = text.len();
                text += key;
                text += "=";
                if let Err(e) = write_value(value, &mut text) {
                    errors.push(e.unwrap_or_else(|message| {
                        ChainError::new(message, (at, text.len().max(at + 1)))
                    }));
                }
            }
            text += ")";
            if let Some((from, to)) = stage.range {
                let at = text.len();
                text += " @ ";
                for (k, bound) in [from, to].into_iter().enumerate() {
                    if k == 1 {
                        text += "..";
                    }
                    match bound {
                        Some(v) if v.is_finite() => text += &format!("{v:?}"),
                        Some(v) => errors.push(ChainError::new(
                            format!("{v} is not a time"),
                            (at, text.len()),
                        )),
                        None => {}
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Chain::parse_all(&text)
    }
}

/// Writes `value` as chain text; an error message (placed by the caller) or an error of its
/// own (an expression that does not parse) where it cannot be written.
fn write_value(value: &ArgInput, text: &mut String) -> Result<(), Result<ChainError, String>> {
    if let ArgInput::Expr(e) = value {
        // Parsed alone first, so that what is written is one whole value, whatever the text.
        text.push('(');
        let at = text.len();
        super::parser::parse_expr(e, at).map_err(Ok)?;
        *text += e;
        text.push(')');
        return Ok(());
    }
    write_plain(value, text).map_err(Err)
}

fn write_plain(value: &ArgInput, text: &mut String) -> Result<(), String> {
    let number = |v: f64, text: &mut String| {
        if !v.is_finite() {
            return Err(format!("{v} is not a finite number"));
        }
        *text += &format!("{v:?}");
        Ok(())
    };
    let list = |values: &[f64], text: &mut String| {
        *text += "[";
        for (i, &v) in values.iter().enumerate() {
            if i > 0 {
                *text += ", ";
            }
            number(v, text)?;
        }
        *text += "]";
        Ok::<(), String>(())
    };
    match value {
        ArgInput::Number(v) => number(*v, text),
        ArgInput::Text(s) => {
            let quote = if s.contains('"') { '\'' } else { '"' };
            if s.contains(quote) || s.contains('\n') {
                return Err(format!("{s:?} cannot be written as a chain string"));
            }
            text.push(quote);
            *text += s;
            text.push(quote);
            Ok(())
        }
        ArgInput::List(values) => list(values, text),
        ArgInput::Matrix(rows) => {
            *text += "[";
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    *text += ", ";
                }
                list(row, text)?;
            }
            *text += "]";
            Ok(())
        }
        ArgInput::Bool(v) => {
            *text += if *v { "true" } else { "false" };
            Ok(())
        }
        ArgInput::Colour(c) => list(c, text),
        ArgInput::Expr(_) => unreachable!("expressions are written by write_value"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_chain_is_the_chain_its_text_makes() {
        let built = Chain::builder()
            .filter("gblur")
            .arg("sigma", 2.5)
            .filter("convolve")
            .arg(
                "kernel",
                [[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]],
            )
            .arg("bias", 0.1)
            .filter("boxblur")
            .arg("radius", 2)
            .filter("scale")
            .arg("width", 640u32)
            .arg("filter", "bicubic")
            .filter("invert")
            .build()
            .unwrap();
        let typed = Chain::parse(
            "gblur(2.5) | convolve([[0,-1,0],[-1,5,-1],[0,-1,0]], bias=0.1) | boxblur(2) | \
             scale(640, filter=bicubic) | invert",
        )
        .unwrap();
        assert_eq!(built.to_text(), typed.to_text());
    }

    #[test]
    fn a_built_chain_reports_errors_like_text() {
        let errors = Chain::builder()
            .filter("gblr")
            .arg("sigma", 2.0)
            .filter("eq")
            .arg("gamma", 99)
            .filter("gblur")
            .arg("sigma", f64::NAN)
            .build()
            .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("not a finite number"));
        let errors = Chain::builder()
            .filter("gblr")
            .arg("sigma", 2.0)
            .filter("eq")
            .arg("gamma", 99)
            .build()
            .unwrap_err();
        assert_eq!(errors[0].help.as_deref(), Some("did you mean `gblur`?"));
        assert!(errors[1].message.contains("out of range"));
        let errors = ChainBuilder::default().arg("sigma", 1).build().unwrap_err();
        assert!(errors[0].message.contains("before any filter"));
        let errors = Chain::builder()
            .filter("scale")
            .arg("filter", "a\"b'c")
            .build()
            .unwrap_err();
        assert!(errors[0].message.contains("cannot be written"));
        // An expression is one value, whatever its text holds.
        let errors = Chain::builder()
            .filter("eq")
            .expr("brightness", "0.1) | invert | eq(gamma=2")
            .build()
            .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0]
            .message
            .contains("expected the end of the expression"));
    }

    #[test]
    fn expressions_and_time_ranges() {
        let built = Chain::builder()
            .filter("eq")
            .expr("brightness", "0.2 * sin(2 * PI * t)")
            .filter("gblur")
            .arg("sigma", 3)
            .during(2.0..5.0)
            .filter("invert")
            .expr("enable", "n % 2 == 0")
            .during(..1.5)
            .build()
            .unwrap();
        let typed = Chain::parse(
            "eq(brightness=0.2*sin(2*PI*t)) | gblur(3) @ 2s..5s | invert(enable=n%2==0) @ ..1.5",
        )
        .unwrap();
        assert_eq!(built.to_text(), typed.to_text());
        assert!(built.varies());
    }
}
