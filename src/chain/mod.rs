//! The chain language: text → [`parse`] → AST → [`resolve`] against the filter registry → [`Chain`].
//!
//! First form of the language: stages separated by `|`, each `name(key=value, …)` or `name`
//! alone; positional values fill parameters in declaration order; values are numbers, strings,
//! and lists (nested lists are matrices). Errors carry the byte span they point at.

mod ast;
mod error;
mod lexer;
mod parser;
mod resolve;

pub use ast::{Arg, Ast, AstStage, Value};
pub use error::ChainError;
pub use parser::parse;
pub use resolve::{kind_text, resolve};

use crate::filters::{Args, FilterSpec};

/// One resolved stage: a filter with checked arguments.
#[derive(Clone, Debug)]
pub struct Stage {
    pub spec: &'static FilterSpec,
    pub args: Args,
    /// Byte span of the stage in the chain text.
    pub span: (usize, usize),
}

/// A resolved chain: filters with checked parameters, in order. An empty chain passes frames
/// through unchanged.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    pub stages: Vec<Stage>,
    /// The text the chain was parsed from, for error messages.
    pub source: String,
}

impl Chain {
    /// Parses and resolves chain text in one step.
    pub fn parse(text: &str) -> Result<Chain, ChainError> {
        resolve(&parse(text)?, text)
    }

    /// The chain with every default filled in, as chain text.
    pub fn to_text(&self) -> String {
        use crate::filters::ArgValue;
        let stage = |s: &Stage| {
            let args: Vec<String> = s
                .spec
                .params
                .iter()
                .zip(&s.args.values)
                .filter_map(|(p, v)| {
                    let v = match v.as_ref()? {
                        ArgValue::Float(f) => format!("{f}"),
                        ArgValue::Int(i) => format!("{i}"),
                        ArgValue::Str(s) => format!("{s:?}"),
                        ArgValue::Matrix { width, values, .. } => {
                            let rows: Vec<String> = values
                                .chunks(*width)
                                .map(|r| {
                                    let r: Vec<String> = r.iter().map(|x| format!("{x}")).collect();
                                    format!("[{}]", r.join(", "))
                                })
                                .collect();
                            format!("[{}]", rows.join(", "))
                        }
                    };
                    Some(format!("{}={v}", p.name))
                })
                .collect();
            format!("{}({})", s.spec.name, args.join(", "))
        };
        self.stages
            .iter()
            .map(stage)
            .collect::<Vec<_>>()
            .join(" | ")
    }
}
