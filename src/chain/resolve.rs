//! [`Ast`] → [`Chain`]: definitions expanded, names checked against the registry, parameters
//! typed and range-checked, defaults filled in.
//!
//! A stage names a filter or a definition made earlier in the text; a definition's body may use
//! the definitions before it, so a definition can never reach itself except by naming itself,
//! which is an error. Every stage is checked, and every error found is returned.

use std::collections::HashMap;

use super::ast::{Ast, AstStage, Def, TimeRange, Value};
use super::error::{did_you_mean, ChainError};
use super::expr::{self, Expr, Op, COLOUR_VARIABLES, FRAME_VARIABLES, PIXEL_VARIABLES};
use super::parser::parse_expr;
use super::{Chain, Stage};
use crate::filters::{self, ArgValue, Args, Default, FilterSpec, ParamKind, ParamSpec};

/// The most stages a chain may expand to: definitions that use each other twice over double
/// at each level, and a chain of millions of stages is a mistake, not a filter.
const MAX_STAGES: usize = 10_000;

/// Checks every stage of `ast` against the filter registry and its definitions.
pub fn resolve(ast: &Ast, source: &str) -> Result<Chain, Vec<ChainError>> {
    let mut errors = check_defs(ast);
    let mut stages = Vec::new();
    let mut expander = Expander {
        ast,
        stages: &mut stages,
        errors: &mut errors,
    };
    for stage in &ast.stages {
        expander.stage(stage, stage.span.0, &HashMap::new(), &[], None);
    }
    if errors.is_empty() {
        Ok(Chain {
            stages,
            source: source.to_string(),
            origin: None,
        })
    } else {
        errors.sort_by_key(|e| e.span);
        errors.dedup();
        Err(errors)
    }
}

/// Names of definitions: unique, not a filter's, with unique parameters.
fn check_defs(ast: &Ast) -> Vec<ChainError> {
    let mut errors = Vec::new();
    for (i, def) in ast.defs.iter().enumerate() {
        if let Some(first) = ast.defs[..i].iter().find(|d| d.name == def.name) {
            errors.push(
                ChainError::new(format!("`{}` is defined twice", def.name), def.name_span)
                    .with_help(format!(
                        "the first definition starts at byte {}; give this one another name",
                        first.span.0
                    )),
            );
        }
        if filters::find(&def.name).is_some() {
            errors.push(
                ChainError::new(
                    format!(
                        "`{}` is a filter; a definition needs another name",
                        def.name
                    ),
                    def.name_span,
                )
                .with_help(format!("for example `my_{}`", def.name)),
            );
        }
        for (j, p) in def.params.iter().enumerate() {
            if def.params[..j].iter().any(|q| q.name == p.name) {
                errors.push(ChainError::new(
                    format!("`{}` has two parameters named `{}`", def.name, p.name),
                    p.span,
                ));
            }
        }
    }
    errors
}

struct Expander<'a> {
    ast: &'a Ast,
    stages: &'a mut Vec<Stage>,
    errors: &'a mut Vec<ChainError>,
}

impl Expander<'_> {
    /// Resolves `stage` (its words bound by `env`) into filters, expanding definitions made
    /// before byte `at`; `within` are the definitions being expanded, innermost last.
    /// `enable` is the condition of the stages this one is part of (a definition used with a
    /// time range or `enable=`), already checked.
    fn stage(
        &mut self,
        stage: &AstStage,
        at: usize,
        env: &HashMap<&str, Value>,
        within: &[&Def],
        enable: Option<&Expr>,
    ) {
        let mut stage = match bind(stage, env) {
            Ok(stage) => stage,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        let enable = match timing(&mut stage) {
            Ok(None) => enable.cloned(),
            Ok(Some(own)) => Some(match enable {
                Some(outer) => Expr::Bin(Op::And, Box::new(outer.clone()), Box::new(own)),
                None => own,
            }),
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        if self.stages.len() >= MAX_STAGES {
            if !self
                .errors
                .iter()
                .any(|e| e.message.contains("expands to more"))
            {
                self.errors.push(ChainError::new(
                    format!("the chain expands to more than {MAX_STAGES} stages"),
                    stage.span,
                ));
            }
            return;
        }
        if let Some(def) = within.iter().find(|d| d.name == stage.name) {
            self.errors.push(
                ChainError::new(format!("`{}` uses itself", def.name), stage.name_span)
                    .with_help("a definition cannot refer to itself, directly or not"),
            );
            return;
        }
        let def = self
            .ast
            .defs
            .iter()
            .rev()
            .find(|d| d.name == stage.name && d.span.1 <= at);
        let Some(def) = def else {
            if let Some(later) = self.ast.defs.iter().find(|d| d.name == stage.name) {
                self.errors.push(
                    ChainError::new(
                        format!("`{}` is used before its definition", stage.name),
                        stage.name_span,
                    )
                    .with_help(format!(
                        "move `let {}` above this line (it starts at byte {})",
                        later.name, later.span.0
                    )),
                );
                return;
            }
            match resolve_stage(&stage, self.visible_defs(at), env.keys().copied()) {
                Ok(mut s) => {
                    s.enable = enable;
                    self.stages.push(s)
                }
                Err(e) => self.errors.push(e),
            }
            return;
        };
        let Some(inner) = self.bind_args(def, &stage) else {
            return;
        };
        let mut within = within.to_vec();
        within.push(def);
        for body in &def.body {
            self.stage(body, def.span.0, &inner, &within, enable.as_ref());
        }
    }

    fn visible_defs(&self, at: usize) -> Vec<&str> {
        self.ast
            .defs
            .iter()
            .filter(|d| d.span.1 <= at)
            .map(|d| d.name.as_str())
            .collect()
    }

    /// The values of `def`'s parameters as `stage` gives them.
    fn bind_args<'d>(&mut self, def: &'d Def, stage: &AstStage) -> Option<HashMap<&'d str, Value>> {
        let mut values: Vec<Option<Value>> = vec![None; def.params.len()];
        let mut next = 0;
        let mut ok = true;
        for arg in &stage.args {
            let index = match &arg.key {
                Some((key, span)) => match def.params.iter().position(|p| &p.name == key) {
                    Some(i) => i,
                    None => {
                        let names = def.params.iter().map(|p| p.name.as_str());
                        let err = ChainError::new(
                            format!("`{}` has no parameter `{key}`", def.name),
                            *span,
                        );
                        self.errors.push(match did_you_mean(key, names) {
                            Some(n) => err.with_help(format!("did you mean `{n}`?")),
                            None => err.with_help(params_help(def)),
                        });
                        ok = false;
                        continue;
                    }
                },
                None => {
                    next += 1;
                    next - 1
                }
            };
            match values.get_mut(index) {
                Some(slot @ None) => *slot = Some(arg.value.clone()),
                Some(Some(_)) => {
                    self.errors.push(ChainError::new(
                        format!("`{}` is given twice", def.params[index].name),
                        arg.key.as_ref().map_or(arg.value.span(), |k| k.1),
                    ));
                    ok = false;
                }
                None => {
                    self.errors.push(
                        ChainError::new(
                            format!("too many values for `{}`", def.name),
                            arg.value.span(),
                        )
                        .with_help(params_help(def)),
                    );
                    ok = false;
                }
            }
        }
        let mut env = HashMap::new();
        for (param, value) in def.params.iter().zip(values) {
            match value.or_else(|| param.default.clone()) {
                Some(v) => {
                    env.insert(param.name.as_str(), v);
                }
                None => {
                    self.errors.push(
                        ChainError::new(
                            format!("`{}` needs `{}`", def.name, param.name),
                            stage.span,
                        )
                        .with_help(params_help(def)),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(env)
    }
}

fn params_help(def: &Def) -> String {
    if def.params.is_empty() {
        return format!("`{}` takes no parameters", def.name);
    }
    let names: Vec<&str> = def.params.iter().map(|p| p.name.as_str()).collect();
    format!("`{}` takes {}", def.name, names.join(", "))
}

/// The most parts an expression may have once definitions are expanded: far beyond any real
/// chain, and a bound on what an argument used twice over in nested definitions can grow to.
const MAX_EXPR_PARTS: usize = 2_000;

/// `stage` with every word that names a parameter in `env` replaced by its value, in
/// arithmetic too.
fn bind(stage: &AstStage, env: &HashMap<&str, Value>) -> Result<AstStage, ChainError> {
    fn value(v: &Value, env: &HashMap<&str, Value>) -> Result<Value, ChainError> {
        Ok(match v {
            Value::Word(w, _) => env.get(w.as_str()).cloned().unwrap_or_else(|| v.clone()),
            Value::List(items, span) => Value::List(
                items
                    .iter()
                    .map(|i| value(i, env))
                    .collect::<Result<_, _>>()?,
                *span,
            ),
            Value::Expr(e, span) => {
                let mut budget = MAX_EXPR_PARTS;
                let bound = e.substitute_within(
                    &|name| match env.get(name)? {
                        Value::Number(n, _) => Some(Expr::Num(*n)),
                        Value::Word(w, at) => Some(Expr::Name(w.clone(), *at)),
                        Value::Expr(e, _) => Some(e.clone()),
                        // A string or a list in arithmetic stays a name, which checking reports.
                        Value::Str(..) | Value::List(..) | Value::Colour(..) => None,
                    },
                    &mut budget,
                );
                let bound = bound.ok_or_else(|| {
                    ChainError::new(
                        format!("this expression grows past {MAX_EXPR_PARTS} parts as the definitions using it expand"),
                        *span,
                    )
                    .with_help("a definition that passes an argument on twice over doubles it at every level")
                })?;
                // What became constant is folded now, so that it does not grow further.
                match bound.is_constant() {
                    true => match bound.check(&[], "").and_then(|()| bound.fold(*span)) {
                        Ok(Expr::Num(n)) => Value::Number(n, *span),
                        _ => Value::Expr(bound, *span),
                    },
                    false => Value::Expr(bound, *span),
                }
            }
            other => other.clone(),
        })
    }
    let mut stage = stage.clone();
    for arg in &mut stage.args {
        arg.value = value(&arg.value, env)?;
    }
    if let Some(range) = &mut stage.range {
        for bound in [&mut range.start, &mut range.end].into_iter().flatten() {
            *bound = value(bound, env)?;
        }
    }
    Ok(stage)
}

/// Takes the stage's time range and its `enable=` argument out of it, as one condition.
fn timing(stage: &mut AstStage) -> Result<Option<Expr>, ChainError> {
    let mut condition = None;
    if let Some(TimeRange { start, end, span }) = stage.range.take() {
        let help = "a time range's ends are seconds, such as 2s, 1.5 or duration - 1";
        let names: Vec<&str> = expr::frame_variable_names().collect();
        let bound = |v: &Value| -> Result<Expr, ChainError> {
            let e = match v {
                Value::Number(n, _) => Expr::Num(*n),
                Value::Word(w, at) => Expr::Name(w.clone(), *at),
                Value::Expr(e, _) => e.clone(),
                other => {
                    return Err(ChainError::new(
                        format!(
                            "a time range's ends must be numbers, not {}",
                            other.type_name()
                        ),
                        other.span(),
                    )
                    .with_help(help))
                }
            };
            e.check(&names, help)?;
            e.fold(v.span())
        };
        let from = start.as_ref().map(bound).transpose()?;
        let to = end.as_ref().map(bound).transpose()?;
        if let (Some(Expr::Num(a)), Some(Expr::Num(b))) = (&from, &to) {
            if a >= b {
                return Err(
                    ChainError::new(format!("the time range {a}s..{b}s is empty"), span)
                        .with_help("the start comes first: `@ 2s..5s` runs from 2 s up to 5 s"),
                );
            }
        }
        let t = || Box::new(Expr::Name("t".into(), span));
        let parts: Vec<Expr> = [
            from.map(|a| Expr::Bin(Op::Ge, t(), Box::new(a))),
            to.map(|b| Expr::Bin(Op::Lt, t(), Box::new(b))),
        ]
        .into_iter()
        .flatten()
        .collect();
        condition = parts
            .into_iter()
            .reduce(|a, b| Expr::Bin(Op::And, Box::new(a), Box::new(b)));
    }
    if let Some(i) = stage
        .args
        .iter()
        .position(|a| a.key.as_ref().is_some_and(|(k, _)| k == "enable"))
    {
        let arg = stage.args.remove(i);
        let span = arg.value.span();
        let help = "`enable` is a condition on t, n, w, h, fps and duration, such as `t < 2 || n % 2 == 0`";
        let e = match arg.value {
            Value::Number(n, _) => Expr::Num(n),
            Value::Word(w, at) => Expr::Name(w, at),
            Value::Expr(e, _) => e,
            other => {
                return Err(ChainError::new(
                    format!("`enable` must be a condition, not {}", other.type_name()),
                    span,
                )
                .with_help(help))
            }
        };
        let names: Vec<&str> = expr::frame_variable_names().collect();
        e.check(&names, help)?;
        let e = e.fold(span)?;
        condition = Some(match condition {
            Some(c) => Expr::Bin(Op::And, Box::new(c), Box::new(e)),
            None => e,
        });
    }
    // A condition known now: always true is no condition.
    Ok(match condition {
        Some(Expr::Num(v)) if v != 0.0 => None,
        other => other,
    })
}

fn resolve_stage<'a>(
    stage: &AstStage,
    defs: Vec<&str>,
    words: impl Iterator<Item = &'a str>,
) -> Result<Stage, ChainError> {
    let spec = filters::find(&stage.name).ok_or_else(|| {
        let names = filters::registry().iter().map(|f| f.name).chain(defs);
        let err = ChainError::new(format!("unknown filter `{}`", stage.name), stage.name_span);
        match did_you_mean(&stage.name, names) {
            Some(name) => err.with_help(format!("did you mean `{name}`?")),
            None => err.with_help("`tessera filters` lists every filter"),
        }
    })?;
    let words: Vec<&str> = words.collect();
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
    let mut varying = Vec::new();
    for (i, (param, value)) in spec.params.iter().zip(given).enumerate() {
        values.push(match value {
            Some(v) => match check(spec, param, v, &words)? {
                Checked::Value(v) => Some(v),
                Checked::Varying(e) => {
                    varying.push((i, e));
                    None
                }
            },
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
                // A colour's default is written as in a chain: `#rrggbb` or `#rrggbbaa`.
                Default::Str(s) if matches!(param.kind, ParamKind::Colour) => {
                    let digits = s.trim_start_matches('#');
                    let channel = |k: usize| {
                        digits
                            .get(2 * k..2 * k + 2)
                            .and_then(|h| u8::from_str_radix(h, 16).ok())
                            .map_or(1.0, |v| v as f64 / 255.0)
                    };
                    Some(ArgValue::Colour(std::array::from_fn(channel)))
                }
                Default::Str(s) => Some(ArgValue::Str(s.to_string())),
                Default::Bool(b) => Some(ArgValue::Bool(b)),
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
        varying,
        enable: None,
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
        ParamKind::ColourMatrix => "matrix, 3 rows of 3 weights or of 4 (weights, offset)".into(),
        ParamKind::Bool => "true or false".into(),
        ParamKind::Colour => "colour, #rrggbb or #rrggbbaa".into(),
        ParamKind::Expr => "expression of the pixel".into(),
        ParamKind::Planes => "letters of yuva or rgba, or all".into(),
        ParamKind::Text { what, .. } => what.into(),
    }
}

/// A checked parameter value: known now, or an expression evaluated for every frame.
enum Checked {
    Value(ArgValue),
    Varying(Expr),
}

fn check(
    spec: &FilterSpec,
    param: &ParamSpec,
    value: &Value,
    words: &[&str],
) -> Result<Checked, ChainError> {
    let span = value.span();
    let numeric = matches!(
        param.kind,
        ParamKind::Float { .. } | ParamKind::Int { .. } | ParamKind::Bool
    );
    if let ParamKind::Expr = param.kind {
        return pixel_expr(spec, param, value).map(|e| Checked::Value(ArgValue::Expr(e)));
    }
    // Where a number belongs: a constant's or a variable's name, or arithmetic, stands for its
    // value; any other word is most likely a misspelt parameter of a definition.
    let own = filters::stage_variables(spec.name);
    let folded;
    let value = match value {
        Value::Word(w, at) if numeric => match expr::constant(w) {
            Some(v) => {
                folded = Value::Number(v, span);
                &folded
            }
            None if expr::frame_variable_names().any(|n| n == w)
                || own.iter().any(|(n, _)| n == w) =>
            {
                return Ok(Checked::Varying(Expr::Name(w.clone(), *at)))
            }
            None => {
                let err = ChainError::new(
                    format!(
                        "`{}` of `{}` must be a number; `{w}` is not a name here",
                        param.name, spec.name
                    ),
                    span,
                );
                let mut names: Vec<&str> = words.to_vec();
                for (n, _) in FRAME_VARIABLES.iter().chain(own) {
                    names.push(n);
                }
                let suggestion = did_you_mean(w, names);
                return Err(match suggestion {
                    Some(name) => err.with_help(format!("did you mean `{name}`?")),
                    None => err.with_help(format!(
                        "{}: {} ({})",
                        param.name,
                        param.doc,
                        kind_text(&param.kind)
                    )),
                });
            }
        },
        Value::Expr(e, _) if numeric => {
            let mut names: Vec<&str> = words.to_vec();
            for (n, _) in FRAME_VARIABLES.iter().chain(own) {
                names.push(n);
            }
            let help = match own.is_empty() {
                true => "expressions may use PI, E, the per-frame variables t, n, w, h, fps and duration, and a definition's parameters".to_string(),
                false => format!(
                    "expressions may use PI, E, the per-frame variables t, n, fps and duration, `{}`'s own {}, and a definition's parameters",
                    spec.name,
                    own.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            };
            e.check(&names, &help)?;
            match e.fold(span)? {
                Expr::Num(v) => {
                    folded = Value::Number(v, span);
                    &folded
                }
                e => return Ok(Checked::Varying(e)),
            }
        }
        Value::Expr(..) | Value::Word(..)
            if matches!(
                param.kind,
                ParamKind::Matrix { .. } | ParamKind::ColourMatrix | ParamKind::Colour
            ) =>
        {
            // Checked below: a matrix or a colour never changes from frame to frame.
            value
        }
        other => other,
    };
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
    let checked = match param.kind {
        ParamKind::Float { min, max } => {
            let Value::Number(v, _) = value else {
                return Err(mismatch("a number"));
            };
            if !(min..=max).contains(v) {
                return Err(out_of_range(format!("{v}")));
            }
            Ok(ArgValue::Float(*v))
        }
        ParamKind::Bool => match value {
            Value::Number(v, _) => Ok(ArgValue::Bool(*v != 0.0)),
            _ => Err(mismatch("true or false")),
        },
        ParamKind::Colour => match value {
            Value::Colour(c, _) => Ok(ArgValue::Colour(*c)),
            Value::List(items, _) if (3..=4).contains(&items.len()) => {
                let mut c = [1.0; 4];
                for (slot, item) in c.iter_mut().zip(items) {
                    match item {
                        Value::Number(v, _) if (0.0..=1.0).contains(v) => *slot = *v,
                        other => {
                            return Err(ChainError::new(
                                "a colour's channels are numbers from 0 to 1",
                                other.span(),
                            )
                            .with_help("or write it as #rrggbb"))
                        }
                    }
                }
                Ok(ArgValue::Colour(c))
            }
            _ => Err(mismatch("a colour (#rrggbb, #rrggbbaa or [r, g, b])")),
        },
        ParamKind::Expr => unreachable!("pixel expressions are checked above"),
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
            // Choices FFmpeg also numbers, in the order the spec lists them.
            const NUMBERED: &[(&str, &str)] = &[("transpose", "dir")];
            if let Value::Number(v, _) = value {
                let k = *v as usize;
                if NUMBERED.contains(&(spec.name, param.name)) && v.fract() == 0.0 && *v >= 0.0 {
                    return match names.get(k) {
                        Some(name) => Ok(Checked::Value(ArgValue::Str(name.to_string()))),
                        None => Err(out_of_range(format!("{v}"))),
                    };
                }
            }
            let (Value::Str(s, _) | Value::Word(s, _)) = value else {
                return Err(mismatch("a name"));
            };
            if names.contains(&s.as_str()) || (spec.name == "scale" && s == "lanczos") {
                let s = if s == "lanczos" { "lanczos3" } else { s };
                return Ok(Checked::Value(ArgValue::Str(s.to_string())));
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
        ParamKind::Text { check, .. } => {
            let (Value::Str(s, _) | Value::Word(s, _)) = value else {
                return Err(mismatch("a string"));
            };
            check(s).map_err(|why| {
                ChainError::new(format!("{}: {}: {why}", spec.name, param.name), span)
                    .with_help(format!("{}: {}", param.name, param.doc))
            })?;
            Ok(ArgValue::Str(s.clone()))
        }
        ParamKind::ColourMatrix => matrix(value, 0, param, spec),
        ParamKind::Planes => {
            let (Value::Str(s, _) | Value::Word(s, _)) = value else {
                return Err(mismatch("planes, such as \"y\" or \"uv\""));
            };
            planes(s).map_err(|why| {
                ChainError::new(
                    format!("`{}` of `{}` cannot be {s:?}: {why}", param.name, spec.name),
                    span,
                )
                .with_help(kind_text(&param.kind))
            })
        }
    };
    checked.map(Checked::Value)
}

/// A `planes` value: `all`, or letters of one family (y, u, v or r, g, b) and a, each once.
fn planes(text: &str) -> Result<ArgValue, String> {
    if text == "all" {
        return Ok(ArgValue::Str(text.into()));
    }
    if text.is_empty() {
        return Err("no planes".into());
    }
    for (i, c) in text.char_indices() {
        if !"yuvrgba".contains(c) {
            return Err(format!("`{c}` is not a plane"));
        }
        if text[..i].contains(c) {
            return Err(format!("`{c}` is named twice"));
        }
    }
    if text.chars().any(|c| "yuv".contains(c)) && text.chars().any(|c| "rgb".contains(c)) {
        return Err("it mixes Y′CbCr planes (y, u, v) with RGB ones (r, g, b)".into());
    }
    Ok(ArgValue::Str(text.into()))
}

/// A channel expression of `pixel`: arithmetic on the pixel's and the frame's variables, in a
/// string or written out.
fn pixel_expr(spec: &FilterSpec, param: &ParamSpec, value: &Value) -> Result<Expr, ChainError> {
    let span = value.span();
    let e = match value {
        Value::Number(n, _) => Expr::Num(*n),
        Value::Word(w, at) => Expr::Name(w.clone(), *at),
        Value::Expr(e, _) => e.clone(),
        // The string's text starts after its quote.
        Value::Str(text, at) => parse_expr(text, at.0 + 1)?,
        other => {
            return Err(ChainError::new(
                format!(
                    "`{}` of `{}` must be an expression, not {}",
                    param.name,
                    spec.name,
                    other.type_name()
                ),
                span,
            )
            .with_help(format!("{}: {}", param.name, param.doc)))
        }
    };
    let names: Vec<&str> = PIXEL_VARIABLES
        .iter()
        .chain(COLOUR_VARIABLES)
        .chain(FRAME_VARIABLES)
        .map(|(n, _)| *n)
        .collect();
    e.check(
        &names,
        "a pixel expression may use r, g, b, a, luma, cb, cr, x, y, the frame's t, n, w, h, fps \
         and duration, PI and E",
    )?;
    e.fold(span)
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
        Value::Expr(e, span) => {
            e.check(&[], "a matrix's entries are constant numbers")?;
            match e.fold(*span)? {
                Expr::Num(n) => Ok(n),
                _ => Err(ChainError::new(
                    "a matrix's entries must be constant",
                    *span,
                )),
            }
        }
        Value::Word(w, at) => expr::constant(w).ok_or_else(|| {
            ChainError::new(format!("`{w}` is not a number"), *at)
                .with_help("a matrix's entries are constant numbers")
        }),
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
    // `max_side` 0: a colour matrix, 3 rows of 3 or 4.
    if max_side == 0 && (height != 3 || !(3..=4).contains(&width)) {
        return Err(bad(format!(
            "matrix of {height} rows of {width} is not allowed (expected 3 rows of 3 or of 4)"
        )));
    }
    if max_side > 0 && (width % 2 == 0 || height % 2 == 0 || width > max_side || height > max_side)
    {
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

    fn errs(text: &str) -> Vec<crate::chain::ChainError> {
        Chain::parse_all(text).unwrap_err()
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
        let e = err("grayscale(1)");
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

    #[test]
    fn definitions_expand_with_their_arguments() {
        let text = "let glow(s, b=0.05) = gblur(sigma=s) | eq(brightness=b)\n\
                    let soft = glow(2) | eq(contrast=0.9)\n\
                    soft | glow(b=0.1, s=3) | scale(width=64, filter=bicubic)";
        let chain = Chain::parse(text).unwrap();
        assert_eq!(
            chain.to_text(),
            "gblur(sigma=2) | eq(brightness=0.05, contrast=1, saturation=1, gamma=1) | \
             eq(brightness=0, contrast=0.9, saturation=1, gamma=1) | gblur(sigma=3) | \
             eq(brightness=0.1, contrast=1, saturation=1, gamma=1) | \
             scale(width=64, height=-1, filter=\"bicubic\")"
        );
    }

    #[test]
    fn definition_errors() {
        let e = err("let a = invert\nlet a = hflip\na");
        assert_eq!(
            (e.message.as_str(), e.span),
            ("`a` is defined twice", (19, 20))
        );
        let e = err("let gblur = invert\ngblur");
        assert!(e.message.contains("is a filter"), "{}", e.message);
        let e = err("let a = a | invert\na");
        assert_eq!(e.message, "`a` uses itself");
        let e = err("b\nlet b = invert");
        assert_eq!(e.message, "`b` is used before its definition");
        let e = err("let g(s) = gblur(sigma=s)\ng");
        assert_eq!(e.message, "`g` needs `s`");
        let e = err("let g(s) = gblur(sigma=s)\ng(sigma=2)");
        assert_eq!(e.help.as_deref(), Some("`g` takes s"));
        let e = err("let g(s) = gblur(sigma=s)\ng(1, 2)");
        assert!(e.message.contains("too many"), "{}", e.message);
        let e = err("let g(sigma) = gblur(sigma=sigmaa)\ng(1)");
        assert_eq!(e.help.as_deref(), Some("did you mean `sigma`?"));
        let e = err("let soft = gblur\nsfot");
        assert_eq!(e.help.as_deref(), Some("did you mean `soft`?"));
        let e = err("let f(a, a) = gblur(sigma=a)\nf(1, 2)");
        assert!(e.message.contains("two parameters"), "{}", e.message);
        // Definitions that double at each level stop at the limit instead of running away.
        let mut text = String::from("let d0 = invert\n");
        for i in 1..20 {
            text += &format!("let d{i} = d{} | d{}\n", i - 1, i - 1);
        }
        text += "d19";
        assert!(err(&text).message.contains("expands to more than"));
    }

    #[test]
    fn arithmetic_folds_to_numbers() {
        let chain = Chain::parse(
            "gblur(sigma=1.5*2) | scale(width=1920/3, height=-2) | eq(brightness=-0.1+0.05*3) | \
             gblur(2^-1*4) | eq(contrast=-2^2+5, saturation=sin(PI/2)) | gblur(sigma=PI) | \
             convolve([[0,-1,0],[-1,4+1,-1],[0,-(1),0]], bias=min(0.1, 0.2)) | \
             eq(gamma=clamp(3, 0.5, 2), brightness=lerp(0, 0.2, 0.5)) | gblur(sqrt(abs(-4)))",
        )
        .unwrap();
        assert_eq!(
            chain.to_text(),
            "gblur(sigma=3) | scale(width=640, height=-2, filter=\"lanczos3\") | \
             eq(brightness=0.05000000000000002, contrast=1, saturation=1, gamma=1) | gblur(sigma=2) | \
             eq(brightness=0, contrast=1, saturation=1, gamma=1) | gblur(sigma=3.141592653589793) | \
             convolve(kernel=[[0, -1, 0], [-1, 5, -1], [0, -1, 0]], bias=0.1) | \
             eq(brightness=0.1, contrast=1, saturation=1, gamma=2) | gblur(sigma=2)"
        );
        // A definition's parameters in arithmetic.
        let chain =
            Chain::parse("let g(s) = gblur(sigma=s*2) | eq(brightness=s/20)\ng(1.5)").unwrap();
        assert_eq!(
            chain.to_text(),
            "gblur(sigma=3) | eq(brightness=0.075, contrast=1, saturation=1, gamma=1)"
        );
    }

    #[test]
    fn arithmetic_errors() {
        let e = err("gblur(sigma=sqrt(-1))");
        assert!(e.message.contains("not a finite number"), "{}", e.message);
        assert_eq!(e.span, (12, 20));
        assert!(err("gblur(sigma=1/0)")
            .message
            .contains("not a finite number"));
        let e = err("convolve([1, 1, t*2, 1, 1, 1, 1, 1, 1])");
        assert_eq!(e.message, "unknown name `t`");
        assert_eq!(e.span, (16, 17));
        let e = err("gblur(sigma=sqr(2))");
        assert_eq!(e.help.as_deref(), Some("did you mean `sqrt`?"));
        let e = err("gblur(sigma=min(1))");
        assert_eq!(e.message, "`min` takes 2 arguments, not 1");
        let e = err("gblur(sigma=2*x)");
        assert_eq!(e.message, "unknown name `x`");
        let e = err("let g(sigma) = gblur(sigma=sigmaa*2)\ng(1)");
        assert_eq!(e.help.as_deref(), Some("did you mean `sigma`?"));
        let e = err("gblur(sigma=50*2)");
        assert!(e.message.contains("out of range"), "{}", e.message);
        let e = err("gblur(sigma=(1+2)");
        assert!(e.message.contains("expected `)`"), "{}", e.message);
        let e = err("gblur(sigma=2*)");
        assert!(e.message.starts_with("expected a value"), "{}", e.message);
    }

    #[test]
    fn per_frame_values_ranges_and_enable() {
        let chain = Chain::parse("eq(brightness = 0.2*sin(2*PI*t), contrast=1+n/100) | gblur(sigma=2) @ 2s..5s | invert(enable = n % 2 == 0)").unwrap();
        assert!(chain.varies());
        assert_eq!(
            chain.to_text(),
            "eq(brightness=0.2 * sin(6.283185307179586 * t), contrast=1 + n / 100, saturation=1, gamma=1) \
             | gblur(sigma=2, enable=t >= 2 && t < 5) | invert(alpha=false, enable=n % 2 == 0)"
        );
        // A definition used with a range limits every stage it expands to; ranges may be open.
        let chain = Chain::parse(
            "let soft(s) = gblur(sigma=s) | eq(contrast=0.9) @ ..1s\nsoft(w/100) @ 500ms..",
        )
        .unwrap();
        assert_eq!(
            chain.to_text(),
            "gblur(sigma=w / 100, enable=t >= 0.5) | eq(brightness=0, contrast=0.9, saturation=1, gamma=1, enable=t >= 0.5 && t < 1)"
        );
        // What does not vary is folded, and a chain of constants does not vary.
        let chain = Chain::parse(
            "eq(brightness=if(2 > 1, 10%, 0), gamma=linear(1.5, 1, 1, 2, 2)) | invert(enable=true)",
        )
        .unwrap();
        assert!(!chain.varies());
        assert_eq!(
            chain.to_text(),
            "eq(brightness=0.1, contrast=1, saturation=1, gamma=1.5) | invert(alpha=false)"
        );
        assert_eq!(
            Chain::parse("gblur(90deg)").unwrap().to_text(),
            "gblur(sigma=1.5707963267948966)"
        );
    }

    #[test]
    fn per_frame_errors() {
        for (text, message, span) in [
            ("gblur @ 5s..2s", "the time range 5s..2s is empty", (6, 14)),
            ("gblur @ 2s", "expected `..` in the time range, found the end of the chain", (10, 11)),
            ("gblur @ [1]..5", "a time range's ends must be numbers, not a list", (8, 11)),
            ("gblur @ x..5", "unknown name `x`", (8, 9)),
            ("invert(enable = x > 2)", "unknown name `x`", (16, 17)),
            ("invert(enable = [1])", "`enable` must be a condition, not a list", (16, 19)),
            ("gblur(sigma = t < 1 < 2)", "comparisons do not chain", (20, 21)),
            ("gblur(sigma = linear(t, 2, 0, 1, 1))", "the keyframes of `linear` must be in increasing order of position", (14, 35)),
            ("gblur(sigma = linear(t, 2, n, 3, 1))", "the keyframes of `linear` must be constant numbers", (14, 35)),
            ("gblur(sigma = smooth(t, 2))", "`smooth` takes a position and then (position, value) pairs, not 2 arguments", (14, 26)),
            ("gblur(sigma = 2px)", "unknown unit `px`", (15, 17)),
            ("gblur(sigma = tt)", "`sigma` of `gblur` must be a number; `tt` is not a name here", (14, 16)),
            ("scale(filter = t)", "`filter` of `scale` cannot be \"t\"", (15, 16)),
            ("gblur(sigma = ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", "the value nests more than 64 levels deep", (78, 79)),
        ] {
            let e = err(text);
            assert_eq!((e.message.as_str(), e.span), (message, span), "{text}");
        }
        assert_eq!(
            err("gblur(sigma = tt)").help.as_deref(),
            Some("did you mean `t`?")
        );
        assert_eq!(
            err("invert(enable = nn)").help.as_deref(),
            Some("did you mean `n`?")
        );
        // Long runs of operators nest as deep as they are long.
        let sum = format!("gblur(sigma = {}1)", "1+".repeat(70));
        assert_eq!(
            err(&sum).message,
            "the value nests more than 64 levels deep"
        );
        // An argument passed on twice over doubles at every level of definitions.
        let mut text = "let d0(x) = gblur(sigma=x)\n".to_string();
        for i in 1..14 {
            text += &format!("let d{i}(x) = d{}(x=x+x)\n", i - 1);
        }
        assert!(err(&(text.clone() + "d13(t)"))
            .message
            .contains("grows past 2000 parts"));
        // With a constant, each level folds to a number.
        assert!(err(&(text + "d13(1)"))
            .message
            .contains("8192 is out of range"));
    }

    #[test]
    fn every_bad_stage_is_reported() {
        let errors = errs("gblr(2) | grayscale(1) | eq(gamma=99)\nhflip\nscale(filter=zz)");
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].contains("unknown filter"));
        assert!(messages[1].contains("too many"));
        assert!(messages[2].contains("out of range"));
        assert!(messages[3].contains("cannot be"));
    }
}
