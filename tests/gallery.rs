//! docs/gallery.md keeps up with the registry: one row per filter, in the registry's order, with
//! the filter's first example and the pictures it names, and nothing else. `scripts/gallery.py`
//! writes the page; this test says when it has to be run again.

use std::path::Path;

use tessera::filters::registry;

/// The filter name and the example of each row of the page's table, and the pictures it shows.
fn rows(page: &str) -> Vec<(String, String, Vec<String>)> {
    page.lines()
        .filter(|l| l.starts_with("| **"))
        .map(|line| {
            let name = line["| **".len()..].split("**").next().unwrap().to_string();
            // The example is the first code span after the name's cell; `|` inside it is
            // escaped as `\|`.
            let after_name = line.split_once(" | `").map(|(_, rest)| rest).unwrap_or("");
            let example = after_name
                .split_once('`')
                .map(|(e, _)| e.replace("\\|", "|"))
                .unwrap_or_default();
            let pictures = line
                .split("src=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap().to_string())
                .collect();
            (name, example, pictures)
        })
        .collect()
}

#[test]
fn the_gallery_shows_every_filter_with_its_first_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/gallery.md")).expect("docs/gallery.md");
    let rows = rows(&page);
    let shown: Vec<&str> = rows.iter().map(|(n, _, _)| n.as_str()).collect();
    let names: Vec<&str> = registry().iter().map(|s| s.name).collect();
    assert_eq!(
        shown, names,
        "docs/gallery.md lists other filters than the registry: run `python3 scripts/gallery.py`"
    );
    for ((name, example, pictures), spec) in rows.iter().zip(registry()) {
        assert_eq!(
            example, spec.examples[0],
            "docs/gallery.md shows {name} with another example than its first: run \
             `python3 scripts/gallery.py --only {name}`"
        );
        assert_eq!(pictures.len(), 2, "{name}: a picture before and one after");
        for picture in pictures {
            let path = root.join("docs").join(picture);
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{name}: {} cannot be read: {e}", path.display()));
            image::load_from_memory(&bytes)
                .unwrap_or_else(|e| panic!("{name}: {} is not a picture: {e}", path.display()));
        }
    }
}

#[test]
fn the_readme_links_the_gallery() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("(docs/gallery.md)"));
}
