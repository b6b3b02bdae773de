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
        self.render_in(source, None)
    }

    /// [`ChainError::render`] for text read from `origin` (a file name): a `--> file:line:column`
    /// line tells where.
    pub fn render_in(&self, source: &str, origin: Option<&str>) -> String {
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
        if let Some(origin) = origin {
            out += &format!("{gutter}--> {origin}:{line_no}:{}\n", column + 1);
        }
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

/// Every error of a text, one after another, and how many there were when more than one.
pub fn render_all(errors: &[ChainError], source: &str, origin: Option<&str>) -> String {
    let mut out: Vec<String> = errors.iter().map(|e| e.render_in(source, origin)).collect();
    if errors.len() > 1 {
        out.push(format!("{} errors", errors.len()));
    }
    out.join("\n\n")
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

/// Edits (insert, delete, replace, or swap two neighbours) that turn `a` into `b`: swapped
/// letters are the commonest typo, and count as one.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: distance between the first i letters of a and the first j of b.
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
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
        assert_eq!(did_you_mean("gbulr", names), Some("gblur"));
    }

    #[test]
    fn render_names_the_file_line_and_column() {
        let source = "invert\n# soften\n  gblr(2)";
        let e = ChainError::new("unknown filter `gblr`", (18, 22));
        assert_eq!(
            e.render_in(source, Some("look.chain")),
            "error: unknown filter `gblr`\n --> look.chain:3:3\n  |\n3 |   gblr(2)\n  |   ^^^^"
        );
        let two = [e.clone(), ChainError::new("x", (0, 6))];
        let text = render_all(&two, source, None);
        assert!(text.ends_with("\n\n2 errors"), "{text}");
        assert_eq!(text.matches("error: ").count(), 2);
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
