//! Batch expansion and output naming: the inputs a command line names (files, folders, glob
//! patterns) as a sorted list of media files, the output each one writes (a folder mirroring
//! the input tree, or a template), and the checks made before any work starts: two inputs that
//! would write one output, an output that is an input, outputs that exist already.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// One input of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub input: PathBuf,
    /// The input's path below the folder or pattern base it was found under (its file name for
    /// a file named on the command line): what an output folder mirrors.
    pub rel: PathBuf,
}

/// What to find: the command line's inputs and how to walk them.
pub struct Find<'a> {
    pub inputs: &'a [PathBuf],
    pub recursive: bool,
    pub include: &'a [glob::Pattern],
    pub exclude: &'a [glob::Pattern],
}

fn glob_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        // `*` stays within a folder; `**` crosses folders.
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// True when `path` holds a glob character (`*`, `?`, `[`).
pub fn is_pattern(path: &Path) -> bool {
    path.to_string_lossy().contains(['*', '?', '['])
}

/// The folder a pattern's matches are found under: its components before the first with a glob
/// character.
fn pattern_base(pattern: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for c in pattern.components() {
        if is_pattern(Path::new(c.as_os_str())) {
            break;
        }
        base.push(c);
    }
    if base.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        base
    }
}

/// Every file below `dir` (all the way down with `deep`), hidden ones (a name starting with
/// `.`) left out, in a stable order.
fn files_below(dir: &Path, deep: bool, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            if deep {
                files_below(&path, deep, out)?;
            }
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The inputs as a sorted list of items, with the files left out by `--include`/`--exclude`
/// not listed at all. An input that does not exist, or a pattern that matches nothing, is an
/// error.
pub fn expand(find: &Find) -> Result<Vec<Item>, String> {
    let mut items = Vec::new();
    for input in find.inputs {
        if is_pattern(input) {
            let base = pattern_base(input);
            let pattern = glob::Pattern::new(&input.to_string_lossy())
                .map_err(|e| format!("{} is not a pattern: {e}", input.display()))?;
            let mut found = Vec::new();
            files_below(&base, true, &mut found)
                .map_err(|e| format!("cannot read {}: {e}", base.display()))?;
            let before = items.len();
            for path in found {
                if pattern.matches_path_with(&path, glob_options()) {
                    let rel = path.strip_prefix(&base).unwrap_or(&path).to_path_buf();
                    items.push(Item { input: path, rel });
                }
            }
            if items.len() == before {
                return Err(format!("no file matches {}", input.display()));
            }
        } else if input.is_dir() {
            let mut found = Vec::new();
            files_below(input, find.recursive, &mut found)
                .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
            for path in found {
                let rel = path.strip_prefix(input).unwrap_or(&path).to_path_buf();
                items.push(Item { input: path, rel });
            }
        } else if input.exists() {
            let rel = PathBuf::from(input.file_name().unwrap_or(input.as_os_str()));
            items.push(Item {
                input: input.clone(),
                rel,
            });
        } else {
            return Err(format!("{}: no such file or folder", input.display()));
        }
    }
    let keep = |item: &Item| {
        let matches = |p: &glob::Pattern| {
            p.matches_path_with(&item.rel, glob_options())
                || item
                    .rel
                    .file_name()
                    .is_some_and(|n| p.matches_with(&n.to_string_lossy(), glob_options()))
        };
        (find.include.is_empty() || find.include.iter().any(matches))
            && !find.exclude.iter().any(matches)
    };
    items.retain(keep);
    // The same file named twice (a folder and a pattern over it) is processed once.
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(i.input.canonicalize().unwrap_or_else(|_| i.input.clone())));
    Ok(items)
}

/// `K/N`: the shard this run takes, 1-based.
pub fn parse_shard(text: &str) -> Result<(u64, u64), String> {
    let bad = || format!("'{text}' is not a shard: write K/N with 1 <= K <= N, e.g. 2/8");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u64, u64) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// FNV-1a of the bytes: stable across runs, machines and Rust versions.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Whether `item` belongs to shard `k` of `n`: decided by a hash of its path below its root,
/// so that every machine of a job array, each expanding the same inputs, takes a disjoint share
/// and together they take every file once, whatever order they run in.
pub fn in_shard(item: &Item, (k, n): (u64, u64)) -> bool {
    let key = item.rel.to_string_lossy().replace('\\', "/");
    fnv1a(key.as_bytes()) % n == k - 1
}

/// Where the outputs go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A folder: each output at the input's path below it, with the same name.
    Folder(PathBuf),
    /// A template with `{dir}`, `{stem}`, `{ext}`, `{name}`, `{index}` and `{chain}`.
    Template(String),
    /// One input's output file, as a single-file run names it (a single file run as a batch
    /// for `--dry-run`, `--report`, `--json` or `--shard`).
    File(PathBuf),
}

impl Target {
    /// `-o` as a batch target: a template when it has a `{`, a folder otherwise.
    pub fn of(output: &Path) -> Target {
        let text = output.to_string_lossy();
        if text.contains('{') {
            Target::Template(text.into_owned())
        } else {
            Target::Folder(output.to_path_buf())
        }
    }

    /// The output of the `index`-th item (from 1); `chain` is the short hash of the chain.
    pub fn output(&self, item: &Item, index: usize, chain: &str) -> Result<PathBuf, String> {
        match self {
            Target::Folder(dir) => Ok(dir.join(&item.rel)),
            Target::File(file) => Ok(file.clone()),
            Target::Template(template) => {
                let stem = item.rel.file_stem().unwrap_or_default().to_string_lossy();
                let ext = item.rel.extension().unwrap_or_default().to_string_lossy();
                let name = item.rel.file_name().unwrap_or_default().to_string_lossy();
                let dir = item.rel.parent().unwrap_or(Path::new(""));
                let dir = match dir.to_string_lossy() {
                    d if d.is_empty() => ".".to_string(),
                    d => d.into_owned(),
                };
                let mut out = String::new();
                let mut rest = template.as_str();
                while let Some(open) = rest.find('{') {
                    out.push_str(&rest[..open]);
                    let close = rest[open..].find('}').ok_or_else(|| {
                        format!("the template {template} has a `{{` without `}}`")
                    })?;
                    let key = &rest[open + 1..open + close];
                    out += &match key {
                        "dir" => dir.clone(),
                        "stem" => stem.to_string(),
                        "ext" => ext.to_string(),
                        "name" => name.to_string(),
                        "index" => index.to_string(),
                        "chain" => chain.to_string(),
                        other => {
                            return Err(format!(
                                "the template {template} names {{{other}}}; it may use {{dir}}, {{stem}}, {{ext}}, {{name}}, {{index}} and {{chain}}"
                            ))
                        }
                    };
                    rest = &rest[open + close + 1..];
                }
                out.push_str(rest);
                Ok(normalise(Path::new(&out)))
            }
        }
    }
}

/// `a/./b` as `a/b`: a template's `{dir}` of `.` leaves no trace.
fn normalise(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// A short hash of the chain's resolved text, for `{chain}`: the same chain names the same
/// outputs, a changed one new ones.
pub fn chain_hash(resolved: &str) -> String {
    format!("{:08x}", fnv1a(resolved.as_bytes()) as u32)
}

/// Two items that would write one output; an output that is an input.
pub fn check_outputs(pairs: &[(Item, PathBuf)]) -> Result<(), String> {
    let key = |p: &Path| p.canonicalize().unwrap_or_else(|_| normalise(p));
    let mut by_output: HashMap<PathBuf, &Path> = HashMap::new();
    let inputs: HashMap<PathBuf, &Path> = pairs
        .iter()
        .map(|(i, _)| (key(&i.input), i.input.as_path()))
        .collect();
    for (item, output) in pairs {
        let k = key(output);
        if let Some(first) = by_output.insert(k.clone(), &item.input) {
            return Err(format!(
                "{} and {} would both write {}; give the output a template with {{dir}} or {{index}}",
                first.display(),
                item.input.display(),
                output.display()
            ));
        }
        if inputs.contains_key(&k) {
            return Err(format!(
                "{} would write over the input {}; tessera never writes over its input",
                item.input.display(),
                output.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(rel: &str) -> Item {
        Item {
            input: Path::new("in").join(rel),
            rel: rel.into(),
        }
    }

    #[test]
    fn templates_and_folders_name_outputs() {
        let t = Target::of(Path::new("out/{dir}/{stem}_graded.{ext}"));
        assert_eq!(
            t.output(&item("a/b/clip.mov"), 1, "c0ffee00").unwrap(),
            Path::new("out/a/b/clip_graded.mov")
        );
        assert_eq!(
            t.output(&item("photo.jpg"), 2, "x").unwrap(),
            Path::new("out/photo_graded.jpg")
        );
        let t = Target::of(Path::new("out/{index}-{name}.{chain}.webp"));
        assert_eq!(
            t.output(&item("a/p.png"), 7, "1234abcd").unwrap(),
            Path::new("out/7-p.png.1234abcd.webp")
        );
        let t = Target::of(Path::new("graded"));
        assert_eq!(
            t.output(&item("x/y.png"), 1, "").unwrap(),
            Path::new("graded/x/y.png")
        );
        assert!(Target::of(Path::new("o/{size}.png"))
            .output(&item("a.png"), 1, "")
            .unwrap_err()
            .contains("{size}"));
    }

    #[test]
    fn shards_cover_every_item_once() {
        let items: Vec<Item> = (0..200)
            .map(|i| item(&format!("d{}/f{i}.png", i % 7)))
            .collect();
        for n in [1, 2, 3, 8] {
            let mut counts = vec![0; items.len()];
            for k in 1..=n {
                for (i, it) in items.iter().enumerate() {
                    if in_shard(it, (k, n)) {
                        counts[i] += 1;
                    }
                }
            }
            assert!(counts.iter().all(|&c| c == 1), "{n} shards");
        }
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        for bad in ["0/3", "4/3", "1/0", "x", "1-2"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn collisions_are_found() {
        let pairs = vec![
            (item("a/x.png"), PathBuf::from("out/x.png")),
            (item("b/x.png"), PathBuf::from("out/x.png")),
        ];
        assert!(check_outputs(&pairs)
            .unwrap_err()
            .contains("would both write"));
    }
}
