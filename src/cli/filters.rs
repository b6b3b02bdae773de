//! `tessera filters`: the registry as a table a person reads.

use tessera::chain::kind_text;
use tessera::filters::{registry, Default};

pub fn listing() -> String {
    let mut out = String::new();
    for spec in registry() {
        out += &format!("{:<10} {}\n", spec.name, spec.description);
        for p in spec.params {
            let default = match p.default {
                Default::Required => "required".to_string(),
                Default::Float(f) => format!("default {f}"),
                Default::Int(i) => format!("default {i}"),
                Default::Str(s) => format!("default \"{s}\""),
                Default::Bool(b) => format!("default {b}"),
                Default::Auto(how) => format!("default: {how}"),
            };
            out += &format!(
                "  {:<11} {:<32} {:<16} {}\n",
                p.name,
                kind_text(&p.kind),
                default,
                p.doc
            );
        }
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
