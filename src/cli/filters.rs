//! `tessera filters`: the registry as a table a person reads, or (`--json`) as the stable JSON
//! document docs/filters.md describes. Both come from the registry; nothing here knows a filter.

use serde::Serialize;
use serde_json::Value;
use tessera::chain::kind_text;
use tessera::filters::{registry, Default, FilterSpec, ParamKind, ParamSpec};

/// The version of the JSON document: fields are only ever added; a removal, a rename or a
/// change of meaning bumps it.
const JSON_SCHEMA: u32 = 1;

/// The widest default that keeps its parameter's doc on the same line; a longer one (a computed
/// default's explanation) puts the doc on the next line, in its column.
const DEFAULT_COLUMN: usize = 24;

pub fn listing() -> String {
    let mut out = String::new();
    for spec in registry() {
        out += &format!("{:<10} {}\n", spec.name, spec.description);
        out += &parameter_table(spec.params);
        if let Some(example) = spec.examples.first() {
            out += &format!("  e.g. {example}\n");
        }
        out += "\n";
    }
    out += "Every stage also takes `enable = condition` and a time range, `@ 2s..5s`: on other\n\
            frames it passes them through. A number may be an expression of the frame's t, n, w,\n\
            h, fps and duration, evaluated once per frame: see docs/chain-language.md.\n";
    out
}

/// One filter's parameters in columns (name, type and range, default, doc) two spaces apart,
/// each column as wide as its longest entry in this filter.
fn parameter_table(params: &[ParamSpec]) -> String {
    let rows: Vec<[String; 3]> = params
        .iter()
        .map(|p| {
            [
                p.name.to_string(),
                kind_text(&p.kind),
                default_cell(&p.default),
            ]
        })
        .collect();
    let width = |column: usize, cap: usize| {
        rows.iter()
            .map(|r| r[column].chars().count())
            .filter(|&n| n <= cap)
            .max()
            .unwrap_or(0)
    };
    let (name_width, kind_width) = (width(0, usize::MAX).max(10), width(1, usize::MAX));
    let default_width = width(2, DEFAULT_COLUMN);
    let doc_column = 2 + name_width + 2 + kind_width + 2 + default_width + 2;
    let mut out = String::new();
    for (p, [name, kind, default]) in params.iter().zip(&rows) {
        out += &format!("  {name:<name_width$}  {kind:<kind_width$}  ");
        if default.chars().count() > default_width {
            out += &format!("{default}\n{:doc_column$}", "");
        } else {
            out += &format!("{default:<default_width$}  ");
        }
        out += p.doc;
        out += "\n";
    }
    out
}

fn default_cell(default: &Default) -> String {
    match default {
        Default::Required => "required".to_string(),
        Default::Float(f) => format!("default {f}"),
        Default::Int(i) => format!("default {i}"),
        Default::Str(s) => format!("default \"{s}\""),
        Default::Bool(b) => format!("default {b}"),
        Default::Auto(how) => format!("default: {how}"),
    }
}

#[derive(Serialize)]
struct Document {
    schema: u32,
    filters: Vec<FilterDoc>,
}

#[derive(Serialize)]
struct FilterDoc {
    name: &'static str,
    kind: &'static str,
    summary: &'static str,
    parameters: Vec<ParameterDoc>,
    examples: &'static [&'static str],
}

#[derive(Serialize)]
struct ParameterDoc {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    choices: Option<&'static [&'static str]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_side: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_text: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unit: Option<&'static str>,
    doc: &'static str,
}

/// The registry as JSON, pretty-printed (docs/filters.md).
pub fn json() -> String {
    let document = Document {
        schema: JSON_SCHEMA,
        filters: registry().iter().map(|spec| filter_doc(spec)).collect(),
    };
    serde_json::to_string_pretty(&document).expect("the registry serialises")
}

fn filter_doc(spec: &'static FilterSpec) -> FilterDoc {
    FilterDoc {
        name: spec.name,
        kind: spec.kind.name(),
        summary: spec.description,
        parameters: spec.params.iter().map(parameter_doc).collect(),
        examples: spec.examples,
    }
}

fn parameter_doc(p: &'static ParamSpec) -> ParameterDoc {
    let (kind, min, max) = match p.kind {
        ParamKind::Float { min, max } => ("number", Some(min.into()), Some(max.into())),
        ParamKind::Int { min, max } => ("integer", Some(min.into()), Some(max.into())),
        ParamKind::Choice(_) => ("choice", None, None),
        ParamKind::Matrix { .. } | ParamKind::ColourMatrix => ("matrix", None, None),
        ParamKind::Bool => ("boolean", None, None),
        ParamKind::Colour => ("colour", None, None),
        ParamKind::Expr => ("expression", None, None),
        ParamKind::Planes => ("planes", None, None),
        ParamKind::Text { .. } => ("text", None, None),
    };
    let (default, default_text) = match p.default {
        Default::Required => (None, None),
        Default::Auto(how) => (None, Some(how)),
        Default::Float(f) => (Some(f.into()), None),
        Default::Int(i) => (Some(i.into()), None),
        Default::Str(s) => (Some(s.into()), None),
        Default::Bool(b) => (Some(b.into()), None),
    };
    ParameterDoc {
        name: p.name,
        kind,
        required: matches!(p.default, Default::Required),
        min,
        max,
        choices: match p.kind {
            ParamKind::Choice(names) => Some(names),
            _ => None,
        },
        max_side: match p.kind {
            ParamKind::Matrix { max_side } => Some(max_side),
            ParamKind::ColourMatrix => Some(4),
            _ => None,
        },
        default,
        default_text,
        unit: p.unit,
        doc: p.doc,
    }
}
