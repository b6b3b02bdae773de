//! The chain language: text → [`parse`] → AST → [`resolve`] against the filter registry → [`Chain`].
//!
//! Stages are separated by `|` or line breaks, each `name(key=value, …)` or `name` alone;
//! positional values fill parameters in declaration order; values are numbers, strings, and
//! lists (nested lists are matrices). `#` starts a comment. `let name(params) = stages` defines
//! a piece of chain that later stages use by name. Errors carry the byte span they point at;
//! parsing and resolution go on after an error, so a text's errors are all reported at once.

mod ast;
mod builder;
mod error;
pub mod expr;
mod lexer;
mod parser;
mod resolve;

pub use ast::{Arg, Ast, AstStage, Def, DefParam, TimeRange, Value};
pub use builder::{ArgInput, ChainBuilder};
pub use error::{render_all, ChainError};
pub use parser::{parse, parse_expr};
pub use resolve::{kind_text, resolve};

use crate::filters::{Args, FilterSpec};

/// One resolved stage: a filter with checked arguments.
#[derive(Clone, Debug)]
pub struct Stage {
    pub spec: &'static FilterSpec,
    pub args: Args,
    /// Byte span of the stage in the chain text.
    pub span: (usize, usize),
    /// Parameters whose value changes from frame to frame: the index in `spec.params` and the
    /// expression, evaluated by [`crate::plan::compile_at`]; their place in `args` is `None`.
    pub varying: Vec<(usize, expr::Expr)>,
    /// The frames the stage runs on, from its time range and its `enable=`: where this comes
    /// to 0, the stage passes the frame through. `None` runs it on every frame.
    pub enable: Option<expr::Expr>,
}

impl Stage {
    /// True when the stage may differ from one frame to the next.
    pub fn varies(&self) -> bool {
        let frame_var = |n: &str| expr::frame_variable_names().any(|v| v == n);
        !self.varying.is_empty()
            || self.enable.is_some()
            || crate::filters::reads_time(self.spec.name)
            || crate::filters::reads_video(self.spec.name, &self.args)
            || self.args.values.iter().any(
                |v| matches!(v, Some(crate::filters::ArgValue::Expr(e)) if e.any_name(&frame_var)),
            )
    }
}

/// A resolved chain: filters with checked parameters, in order. An empty chain passes frames
/// through unchanged.
#[derive(Clone, Debug, Default)]
pub struct Chain {
    pub stages: Vec<Stage>,
    /// The text the chain was parsed from, for error messages.
    pub source: String,
    /// Where the text came from (a chain file's name), for error messages; `None` for text
    /// given inline.
    pub origin: Option<String>,
}

impl Chain {
    /// Parses and resolves chain text in one step; the first error if it has any.
    pub fn parse(text: &str) -> Result<Chain, ChainError> {
        Chain::parse_all(text).map_err(|mut errors| errors.swap_remove(0))
    }

    /// True when some stage changes from frame to frame (a per-frame value, a time range, a
    /// pixel expression of the frame's variables): such a chain is compiled for every frame.
    pub fn varies(&self) -> bool {
        self.stages.iter().any(Stage::varies)
    }

    /// A typed builder: filters and arguments as Rust values, checked as chain text is.
    pub fn builder() -> ChainBuilder {
        ChainBuilder::default()
    }

    /// Parses and resolves chain text; every error found, in the order of the text.
    pub fn parse_all(text: &str) -> Result<Chain, Vec<ChainError>> {
        // What parses is resolved even when some lines do not, so that one run reports the
        // errors of both kinds.
        let (ast, mut errors) = parser::parse_partial(text);
        match resolve(&ast, text) {
            Ok(chain) if errors.is_empty() => Ok(chain),
            Ok(_) => Err(errors),
            Err(more) => {
                errors.extend(more);
                errors.sort_by_key(|e| e.span);
                Err(errors)
            }
        }
    }

    /// The chain with every default filled in, as chain text.
    pub fn to_text(&self) -> String {
        use crate::filters::ArgValue;
        let stage = |s: &Stage| {
            let mut args: Vec<String> = s
                .spec
                .params
                .iter()
                .zip(&s.args.values)
                .enumerate()
                .filter_map(|(i, (p, v))| {
                    if let Some((_, e)) = s.varying.iter().find(|(j, _)| *j == i) {
                        return Some(format!("{}={e}", p.name));
                    }
                    let v = match v.as_ref()? {
                        ArgValue::Float(f) => format!("{f}"),
                        ArgValue::Int(i) => format!("{i}"),
                        ArgValue::Str(s) => format!("{s:?}"),
                        ArgValue::Bool(b) => format!("{b}"),
                        ArgValue::Colour(c) => {
                            let hex: String = c
                                .iter()
                                .map(|v| format!("{:02x}", (v * 255.0).round() as u8))
                                .collect();
                            let hex = hex
                                .strip_suffix("ff")
                                .filter(|_| c[3] == 1.0)
                                .unwrap_or(&hex);
                            format!("#{hex}")
                        }
                        ArgValue::Expr(e) => format!("\"{e}\""),
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
            if let Some(e) = &s.enable {
                args.push(format!("enable={e}"));
            }
            format!("{}({})", s.spec.name, args.join(", "))
        };
        self.stages
            .iter()
            .map(stage)
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so that failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[(self.next() % items.len() as u64) as usize]
        }
    }

    /// Text made of the language's pieces in random order: almost never valid, and it must
    /// never make the parser or the resolver panic.
    #[test]
    fn malformed_text_never_panics() {
        let pieces = [
            "gblur",
            "eq",
            "let",
            "soft",
            "s",
            "(",
            ")",
            "[",
            "]",
            ",",
            "=",
            "|",
            ";",
            "\n",
            "#",
            "2",
            "-0.5",
            "1e9",
            "\"",
            "'",
            "x",
            "é",
            " ",
            "$",
            "sigma",
            "scale",
            "convolve",
            "..",
            "1.2.3",
            "[[1,2],[3]]",
            "let a = a",
            "crop(1,1,1,1)",
            "@",
            "..",
            "&&",
            "||",
            "<=",
            "==",
            "!",
            "%",
            "#ff8800",
            "t",
            "2s",
            "90deg",
            "enable=",
            "linear(t,0,0,1,1)",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let len = (rng.next() % 24) as usize;
            let text: String = (0..len).map(|_| rng.pick(&pieces)).collect();
            if let Err(errors) = Chain::parse_all(&text) {
                assert!(!errors.is_empty());
                let _ = render_all(&errors, &text, Some("fuzz.chain"));
            }
        }
    }

    /// For generated valid chains, the printed chain parses back to the same chain.
    #[test]
    fn printed_chains_parse_back_to_themselves() {
        let stages = [
            "gblur(sigma=2.5)",
            "boxblur(3)",
            "convolve([[0,-1,0],[-1,5,-1],[0,-1,0]])",
            "convolve([1,2,1,2,4,2,1,2,1], 16, 0.1)",
            "unsharp(sigma=1.5, amount=-0.25)",
            "eq(brightness=0.1, contrast=1.2, saturation=0.5, gamma=2)",
            "grayscale",
            "invert",
            "scale(width=320, filter=bicubic)",
            "scale(-2, 200)",
            "crop(1, 2, 30, 40)",
            "hflip",
            "vflip",
            "eq(brightness=0.2*sin(2*PI*t), saturation=1+n%3/10)",
            "gblur(sigma=1+w/1000) @ 1s..2.5s",
            "invert(enable=t<1 || n>=5 && !(n==7))",
            "hflip @ ..3",
            "eq(gamma=smooth(t, 0, 1, 2s, 2, 4s, 0.5)) @ 500ms..",
            "unsharp(amount=if(between(t, 1, 2), -(0.5), 2^-1))",
        ];
        let mut rng = Rng(42);
        for _ in 0..2_000 {
            let n = 1 + (rng.next() % 6) as usize;
            let text: Vec<&str> = (0..n).map(|_| rng.pick(&stages)).collect();
            let text = text.join(" | ");
            let chain = Chain::parse(&text).unwrap();
            let printed = chain.to_text();
            let again = Chain::parse(&printed).unwrap();
            assert_eq!(again.to_text(), printed, "from {text}");
            let names = |c: &Chain| c.stages.iter().map(|s| s.spec.name).collect::<Vec<_>>();
            assert_eq!(names(&again), names(&chain));
            let values = |c: &Chain| {
                c.stages
                    .iter()
                    .map(|s| format!("{:?}", s.args.values))
                    .collect::<Vec<_>>()
            };
            assert_eq!(values(&again), values(&chain), "from {text}");
        }
    }
}
