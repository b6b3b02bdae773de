//! Chain errors: a message, the span it points at, and a hint.

/// An error in chain text, with the byte span it points at and an optional hint.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ChainError {
    pub message: String,
    pub span: (usize, usize),
    pub help: Option<String>,
}

impl ChainError {
    pub fn new(message: impl Into<String>, span: (usize, usize)) -> ChainError {
        ChainError {
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> ChainError {
        self.help = Some(help.into());
        self
    }

    /// The error as a user sees it: the message, the offending line with a caret under the
    /// span, and the hint.
    pub fn render(&self, source: &str) -> String {
        let start = self.span.0.min(source.len());
        let end = self.span.1.clamp(start, source.len());
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line_no = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count();
        let width = source[start..end.min(line_end)].chars().count().max(1);
        let gutter = " ".repeat(line_no.to_string().len());
        let mut out = format!("error: {}\n", self.message);
        out += &format!(
            "{gutter} |\n{line_no} | {}\n",
            &source[line_start..line_end]
        );
        out += &format!("{gutter} | {}{}", " ".repeat(column), "^".repeat(width));
        if let Some(help) = &self.help {
            out += &format!("\n{gutter} = help: {help}");
        }
        out
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let best = candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .min_by_key(|&(d, _)| d)?;
    let limit = (word.chars().count().max(best.1.chars().count()) / 3).max(1);
    (best.0 <= limit).then_some(best.1)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let names = ["gblur", "boxblur", "unsharp", "invert"];
        assert_eq!(did_you_mean("gblr", names), Some("gblur"));
        assert_eq!(did_you_mean("inverr", names), Some("invert"));
        assert_eq!(did_you_mean("zoom", names), None);
    }

    #[test]
    fn render_points_at_the_span() {
        let e =
            ChainError::new("unknown filter `gblr`", (9, 13)).with_help("did you mean `gblur`?");
        let text = e.render("invert | gblr(2)");
        assert_eq!(
            text,
            "error: unknown filter `gblr`\n  |\n1 | invert | gblr(2)\n  |          ^^^^\n  = help: did you mean `gblur`?"
        );
    }
}
