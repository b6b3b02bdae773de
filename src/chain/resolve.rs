//! [`Ast`] → [`Chain`]: names checked against the registry, parameters typed and range-checked,
//! defaults filled in.

use super::ast::{Ast, AstStage, Value};
use super::error::{did_you_mean, ChainError};
use super::{Chain, Stage};
use crate::filters::{self, ArgValue, Args, Default, FilterSpec, ParamKind, ParamSpec};

/// Checks every stage of `ast` against the filter registry.
pub fn resolve(ast: &Ast, source: &str) -> Result<Chain, ChainError> {
    let stages = ast
        .stages
        .iter()
        .map(resolve_stage)
        .collect::<Result<_, _>>()?;
    Ok(Chain {
        stages,
        source: source.to_string(),
    })
}

fn resolve_stage(stage: &AstStage) -> Result<Stage, ChainError> {
    let spec = filters::find(&stage.name).ok_or_else(|| {
        let names = filters::registry().iter().map(|f| f.name);
        let err = ChainError::new(format!("unknown filter `{}`", stage.name), stage.name_span);
        match did_you_mean(&stage.name, names) {
            Some(name) => err.with_help(format!("did you mean `{name}`?")),
            None => err.with_help("`tessera filters` lists every filter"),
        }
    })?;
    let mut given: Vec<Option<&Value>> = vec![None; spec.params.len()];
    let mut next_positional = 0;
    let mut seen_keyword = false;
    for arg in &stage.args {
        let index = match &arg.key {
            Some((key, span)) => {
                seen_keyword = true;
                spec.params
                    .iter()
                    .position(|p| p.name == key)
                    .ok_or_else(|| unknown_param(spec, key, *span))?
            }
            None => {
                if seen_keyword {
                    return Err(ChainError::new(
                        "positional value after a named one",
                        arg.value.span(),
                    )
                    .with_help("name it, or move it before the named values"));
                }
                if next_positional >= spec.params.len() {
                    return Err(too_many(spec, arg.value.span()));
                }
                next_positional += 1;
                next_positional - 1
            }
        };
        if given[index].is_some() {
            let span = arg.key.as_ref().map_or(arg.value.span(), |k| k.1);
            return Err(ChainError::new(
                format!("`{}` is given twice", spec.params[index].name),
                span,
            ));
        }
        given[index] = Some(&arg.value);
    }
    let mut values = Vec::with_capacity(spec.params.len());
    for (param, value) in spec.params.iter().zip(given) {
        values.push(match value {
            Some(v) => Some(check(spec, param, v)?),
            None => match param.default {
                Default::Required => {
                    return Err(ChainError::new(
                        format!("`{}` needs `{}`", spec.name, param.name),
                        stage.span,
                    )
                    .with_help(format!(
                        "{}: {} ({})",
                        param.name,
                        param.doc,
                        kind_text(&param.kind)
                    )))
                }
                Default::Float(f) => Some(ArgValue::Float(f)),
                Default::Int(i) => Some(ArgValue::Int(i)),
                Default::Str(s) => Some(ArgValue::Str(s.to_string())),
                Default::Auto(_) => None,
            },
        });
    }
    Ok(Stage {
        spec,
        args: Args {
            names: spec.params,
            values,
        },
        span: stage.span,
    })
}

fn unknown_param(spec: &FilterSpec, key: &str, span: (usize, usize)) -> ChainError {
    let err = ChainError::new(format!("`{}` has no parameter `{key}`", spec.name), span);
    let names = spec.params.iter().map(|p| p.name);
    match did_you_mean(key, names.clone()) {
        Some(name) => err.with_help(format!("did you mean `{name}`?")),
        None if spec.params.is_empty() => {
            err.with_help(format!("`{}` takes no parameters", spec.name))
        }
        None => err.with_help(format!(
            "its parameters are {}",
            names.collect::<Vec<_>>().join(", ")
        )),
    }
}

fn too_many(spec: &FilterSpec, span: (usize, usize)) -> ChainError {
    let n = spec.params.len();
    let err = ChainError::new(format!("too many values for `{}`", spec.name), span);
    if n == 0 {
        err.with_help(format!("`{}` takes no parameters", spec.name))
    } else {
        let names: Vec<_> = spec.params.iter().map(|p| p.name).collect();
        err.with_help(format!("it takes at most {n}: {}", names.join(", ")))
    }
}

/// How a parameter's type and range read in messages and in `tessera filters`.
pub fn kind_text(kind: &ParamKind) -> String {
    match *kind {
        ParamKind::Float { min, max } => format!("number, {min} ..= {max}"),
        ParamKind::Int { min, max } => format!("integer, {min} ..= {max}"),
        ParamKind::Choice(names) => format!("one of {}", names.join(", ")),
        ParamKind::Matrix { max_side } => format!("matrix, odd sides up to {max_side}"),
    }
}

fn check(spec: &FilterSpec, param: &ParamSpec, value: &Value) -> Result<ArgValue, ChainError> {
    let span = value.span();
    let mismatch = |expected: &str| {
        ChainError::new(
            format!(
                "`{}` of `{}` must be {expected}, not {}",
                param.name,
                spec.name,
                value.type_name()
            ),
            span,
        )
        .with_help(format!(
            "{}: {} ({})",
            param.name,
            param.doc,
            kind_text(&param.kind)
        ))
    };
    let out_of_range = |shown: String| {
        ChainError::new(
            format!(
                "`{}` = {shown} is out of range (expected {})",
                param.name,
                kind_text(&param.kind)
            ),
            span,
        )
        .with_help(format!("{}: {}", param.name, param.doc))
    };
    match param.kind {
        ParamKind::Float { min, max } => {
            let Value::Number(v, _) = value else {
                return Err(mismatch("a number"));
            };
            if !(min..=max).contains(v) {
                return Err(out_of_range(format!("{v}")));
            }
            Ok(ArgValue::Float(*v))
        }
        ParamKind::Int { min, max } => {
            let Value::Number(v, _) = value else {
                return Err(mismatch("an integer"));
            };
            if v.fract() != 0.0 {
                return Err(mismatch("an integer").with_help(format!("try {}", v.round())));
            }
            if !(min as f64..=max as f64).contains(v) {
                return Err(out_of_range(format!("{v}")));
            }
            Ok(ArgValue::Int(*v as i64))
        }
        ParamKind::Choice(names) => {
            let Value::Str(s, _) = value else {
                return Err(mismatch("a name"));
            };
            if names.contains(&s.as_str()) || (spec.name == "scale" && s == "lanczos") {
                let s = if s == "lanczos" { "lanczos3" } else { s };
                return Ok(ArgValue::Str(s.to_string()));
            }
            let err = ChainError::new(
                format!("`{}` of `{}` cannot be {s:?}", param.name, spec.name),
                span,
            );
            Err(match did_you_mean(s, names.iter().copied()) {
                Some(name) => err.with_help(format!(
                    "did you mean \"{name}\"? ({})",
                    kind_text(&param.kind)
                )),
                None => err.with_help(kind_text(&param.kind)),
            })
        }
        ParamKind::Matrix { max_side } => matrix(value, max_side, param, spec),
    }
}

fn matrix(
    value: &Value,
    max_side: usize,
    param: &ParamSpec,
    spec: &FilterSpec,
) -> Result<ArgValue, ChainError> {
    let span = value.span();
    let bad = |message: String| {
        ChainError::new(message, span).with_help(format!("{}: {}", param.name, param.doc))
    };
    let Value::List(items, _) = value else {
        return Err(bad(format!(
            "`{}` of `{}` must be a matrix, not {}",
            param.name,
            spec.name,
            value.type_name()
        )));
    };
    let number = |v: &Value| match v {
        Value::Number(n, _) => Ok(*n),
        other => Err(ChainError::new(
            format!("matrix entries must be numbers, not {}", other.type_name()),
            other.span(),
        )),
    };
    let (width, height, values) = if items.iter().all(|v| matches!(v, Value::List(..)))
        && !items.is_empty()
    {
        let mut values = Vec::new();
        let mut width = None;
        for row in items {
            let Value::List(cells, row_span) = row else {
                unreachable!()
            };
            if *width.get_or_insert(cells.len()) != cells.len() {
                return Err(ChainError::new(
                    format!(
                        "matrix rows differ in length ({} and {})",
                        width.unwrap_or(0),
                        cells.len()
                    ),
                    *row_span,
                ));
            }
            for cell in cells {
                values.push(number(cell)?);
            }
        }
        (width.unwrap_or(0), items.len(), values)
    } else {
        let values = items.iter().map(number).collect::<Result<Vec<_>, _>>()?;
        let side = (values.len() as f64).sqrt().round() as usize;
        if side * side != values.len() {
            return Err(bad(format!(
                "a flat kernel needs a square number of entries, not {} (or give rows: [[..], [..]])",
                values.len()
            )));
        }
        (side, side, values)
    };
    if width % 2 == 0 || height % 2 == 0 || width > max_side || height > max_side {
        return Err(bad(format!(
            "matrix of {width}x{height} is not allowed (expected odd sides, 1 ..= {max_side})"
        )));
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(bad("matrix entries must be finite".into()));
    }
    Ok(ArgValue::Matrix {
        width,
        height,
        values,
    })
}

#[cfg(test)]
mod tests {
    use crate::chain::Chain;

    fn err(text: &str) -> crate::chain::ChainError {
        Chain::parse(text).unwrap_err()
    }

    #[test]
    fn resolves_defaults_and_positionals() {
        let chain = Chain::parse("gblur | unsharp(0.5) | scale(width=64, filter=lanczos)").unwrap();
        assert_eq!(chain.to_text(), "gblur(sigma=1) | unsharp(sigma=0.5, amount=1) | scale(width=64, height=-1, filter=\"lanczos3\")");
    }

    #[test]
    fn every_error_names_what_is_wrong() {
        let e = err("gblr(2)");
        assert_eq!(
            (e.message.as_str(), e.help.as_deref(), e.span),
            (
                "unknown filter `gblr`",
                Some("did you mean `gblur`?"),
                (0, 4)
            )
        );
        let e = err("gblur(sigm=2)");
        assert_eq!(e.help.as_deref(), Some("did you mean `sigma`?"));
        let e = err("gblur(sigma=100)");
        assert_eq!(
            e.message,
            "`sigma` = 100 is out of range (expected number, 0.1 ..= 64)"
        );
        assert_eq!(e.span, (12, 15));
        let e = err("crop(x=2)");
        assert!(e.message.contains("needs `width`"), "{}", e.message);
        let e = err("boxblur(radius=1.5)");
        assert!(e.message.contains("integer"));
        let e = err("invert(1)");
        assert!(e.message.contains("too many"));
        let e = err("scale(filter=\"lanczoz\")");
        assert!(e.help.unwrap().contains("lanczos3"));
        let e = err("convolve([[1,2],[3,4]])");
        assert!(e.message.contains("odd sides"));
        let e = err("convolve([[1,2,3],[3,4]])");
        assert!(e.message.contains("differ"));
        let e = err("gblur(sigma=1, sigma=2)");
        assert!(e.message.contains("twice"));
        let e = err("gblur(sigma=\"big\")");
        assert!(e.message.contains("must be a number"));
    }
}
