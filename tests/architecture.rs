//! The library's shape, checked on every test run: layers only point down,
//! no import cycle between any two modules, and no source file over 400
//! lines. It reads `src/` as text (`use crate::…`, `super::…` and
//! `use child::…` paths), so it needs no extra tools.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level library modules, lowest layer first. A module may use modules
/// of lower layers, and modules of its own top-level module without cycles.
const LAYERS: [&[&str]; 8] = [
    &["fault"],
    &["fsio", "progress", "rand", "table", "search"],
    &["data", "synth", "vectors"],
    &["metrics", "embed"],
    &["features"],
    &["model"],
    &["index"],
    &["pipeline"],
];

/// The binary's modules, which reach the library through `knnpref::` only.
const BINARY: [&str; 3] = ["main", "cli", "render"];

const MAX_LINES: usize = 400;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a::b` for src/a/b.rs and src/a/b/mod.rs; "" for lib.rs.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The library's module files and their code, with comments and trailing
/// inline test modules cut off (their `use super::*` points at the file itself).
fn library() -> BTreeMap<String, (PathBuf, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files
        .into_iter()
        .map(|f| (module_of(&f), f))
        .filter(|(m, _)| !BINARY.contains(&top(m)))
        .map(|(m, f)| {
            let text = std::fs::read_to_string(&f).unwrap();
            let code = match text.find("#[cfg(test)]\nmod tests {") {
                Some(i) => &text[..i],
                None => &text,
            };
            // Comments (doc links included) are not uses.
            let code: String =
                code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            (m, (f, code))
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Module paths named after `prefix` in `code`: `crate::a::b::Item` gives
/// `a::b::Item`, and `crate::a::{b::X, Y}` gives `a::b::X` and `a::Y`.
fn paths_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices(prefix) {
        if code[..at].chars().next_back().is_some_and(is_ident) {
            continue; // part of a longer name
        }
        let rest = &code[at + prefix.len()..];
        let head: String = rest.chars().take_while(|&c| is_ident(c) || c == ':').collect();
        let after = &rest[head.len()..];
        if head.ends_with("::") && after.starts_with('{') {
            let group = &after[1..after.find('}').unwrap_or(after.len())];
            for item in group.split(',') {
                out.push(format!("{head}{}", item.trim()));
            }
        } else {
            out.push(head);
        }
    }
    out
}

/// The longest prefix of `path` that is a module (the crate root when none).
fn resolve(path: &str, modules: &BTreeSet<&str>) -> String {
    let parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
    (0..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find(|m| modules.contains(m.as_str()))
        .unwrap_or_default()
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

/// Edges module → module used, from every file.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let lib = library();
    let modules: BTreeSet<&str> = lib.keys().map(String::as_str).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, (_, code)) in &lib {
        let mut targets: Vec<String> = paths_after(code, "crate::");
        for p in paths_after(code, "super::") {
            let base = parent(module);
            targets.push(if base.is_empty() { p } else { format!("{base}::{p}") });
        }
        // `use child::…` inside a parent module.
        for line in code.lines().map(str::trim_start) {
            let Some((before, rest)) = line.split_once("use ") else { continue };
            if !(before.is_empty() || before.starts_with("pub")) {
                continue;
            }
            let first: String = rest.chars().take_while(|&c| is_ident(c)).collect();
            let child = if module.is_empty() { first.clone() } else { format!("{module}::{first}") };
            if rest[first.len()..].starts_with("::") && modules.contains(child.as_str()) {
                targets.push(format!("{child}::"));
            }
        }
        let entry = graph.entry(module.clone()).or_default();
        for t in targets {
            let to = resolve(&t, &modules);
            if &to != module && !to.is_empty() {
                entry.insert(to);
            }
        }
    }
    graph
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or("")
}

fn layer(top_module: &str) -> usize {
    LAYERS.iter().position(|l| l.contains(&top_module)).unwrap_or_else(|| {
        panic!("module `{top_module}` has no layer in tests/architecture.rs; add it to LAYERS")
    })
}

#[test]
fn layers_only_point_down() {
    let mut wrong = Vec::new();
    for (from, tos) in edges() {
        if from.is_empty() {
            continue;
        }
        for to in tos {
            let (a, b) = (top(&from), top(&to));
            if a != b && layer(b) >= layer(a) {
                wrong.push(format!("{from} uses {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "uses that point up or sideways:\n{}", wrong.join("\n"));
}

#[test]
fn no_module_cycles() {
    let graph = edges();
    // Depth-first search with colours; report the first cycle found.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(m, 1);
        stack.push(m);
        for next in graph.get(m).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|s| s == next).unwrap();
                    let mut cycle: Vec<String> = stack[start..].iter().map(|s| s.to_string()).collect();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(m, 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if !state.contains_key(m.as_str()) {
            if let Some(cycle) = visit(m, &graph, &mut state, &mut Vec::new()) {
                panic!("import cycle: {}", cycle.join(" → "));
            }
        }
    }
}

#[test]
fn the_checker_sees_cycles_and_child_imports() {
    let modules: BTreeSet<&str> = ["a", "a::b", "c"].into_iter().collect();
    assert_eq!(resolve("a::b::Item", &modules), "a::b");
    assert_eq!(resolve("a::Item", &modules), "a");
    assert_eq!(paths_after("use crate::a::{b::X, Y};", "crate::"), vec!["a::b::X", "a::Y"]);
    assert!(paths_after("knnpref_crate::a", "crate::").is_empty());
    // The real graph has the edges this test relies on.
    let graph = edges();
    assert!(graph["pipeline"].contains("pipeline::build"), "pub use of a child is an edge");
    assert!(graph["model::select"].contains("model::head"), "super:: paths are edges");
    assert!(graph["features"].contains("search"), "crate:: paths are edges");
}

#[test]
fn no_source_file_is_over_400_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {}", long.join(", "));
}
