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
    stages: Vec<(String, Vec<(String, ArgInput)>)>,
}

impl ChainBuilder {
    /// Adds a filter; the arguments that follow are its own.
    pub fn filter(mut self, name: &str) -> ChainBuilder {
        self.stages.push((name.to_string(), Vec::new()));
        self
    }

    /// Gives the last filter's parameter `name` a value. Before any filter it is an error
    /// that [`ChainBuilder::build`] reports.
    pub fn arg(mut self, name: &str, value: impl Into<ArgInput>) -> ChainBuilder {
        match self.stages.last_mut() {
            Some((_, args)) => args.push((name.to_string(), value.into())),
            // Kept as a stage without a name, which the build refuses.
            None => self
                .stages
                .push((String::new(), vec![(name.to_string(), value.into())])),
        }
        self
    }

    /// The chain, checked as chain text is: every error found.
    pub fn build(self) -> Result<Chain, Vec<ChainError>> {
        let mut text = String::new();
        let mut errors = Vec::new();
        for (i, (name, args)) in self.stages.iter().enumerate() {
            if i > 0 {
                text += " | ";
            }
            let start = text.len();
            if name.is_empty() {
                errors.push(ChainError::new(
                    "an argument given before any filter",
                    (start, start + 1),
                ));
                continue;
            }
            text += name;
            text += "(";
            for (j, (key, value)) in args.iter().enumerate() {
                if j > 0 {
                    text += ", ";
                }
                let at = text.len();
                text += key;
                text += "=";
                if let Err(message) = write_value(value, &mut text) {
                    errors.push(ChainError::new(message, (at, text.len().max(at + 1))));
                }
            }
            text += ")";
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Chain::parse_all(&text)
    }
}

fn write_value(value: &ArgInput, text: &mut String) -> Result<(), String> {
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
    }
}
