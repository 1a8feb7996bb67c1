//! Tidiness rules of the source tree, read from the workspace's files: the JSON API (`api/`) and
//! the pages (`web/`) never import each other (what both need lives in `app` or a neutral server
//! module), the server and the CLI reach the store only through `app`, and no Rust source file passes 1,000 lines unless `tidy-allow.txt` names it with a
//! reason.

use std::path::{Path, PathBuf};

/// The longest a source file may be without an entry in the allow-list.
const MAX_LINES: usize = 1_000;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, skipping build output.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target" && n != "node_modules") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace()).unwrap_or(path).to_string_lossy().replace('\\', "/")
}

/// The lines of `text` that import from the module `module` of the crate (`crate::web`, or a
/// `use crate::{..., web, ...}` group).
fn imports_of(text: &str, module: &str) -> Vec<String> {
    let path = format!("crate::{module}");
    text.lines()
        .filter(|line| {
            let line = line.trim();
            let grouped = line.starts_with("use crate::{") && line.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == module);
            !line.starts_with("//") && (line.contains(&format!("{path}::")) || line.contains(&format!("{path};")) || grouped)
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn api_and_web_never_import_each_other() {
    let src = workspace().join("crates/server/src");
    let mut found = Vec::new();
    for (dir, other) in [("api", "web"), ("web", "api")] {
        for file in rust_files(&src.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in imports_of(&text, other) {
                found.push(format!("{}: {line}", relative(&file)));
            }
        }
    }
    assert!(
        found.is_empty(),
        "api and web must not import each other; move what both need to trailmap-app or a neutral server module:\n{}",
        found.join("\n")
    );
    // The rule's reader finds what it must.
    assert_eq!(imports_of("use crate::web::analysis;\nuse crate::{auth, web};\n// crate::web::x\n", "web").len(), 2);
}

/// The store is sealed behind `app`: neither the server nor the CLI depends on `trailmap-store`
/// (the server's tests may, to read what a request wrote) or names it in its sources.
#[test]
fn the_server_and_the_cli_reach_the_store_only_through_the_app() {
    let mut found = Vec::new();
    for krate in ["server", "cli"] {
        let manifest = std::fs::read_to_string(workspace().join(format!("crates/{krate}/Cargo.toml"))).unwrap();
        let dependencies = manifest.split("[dev-dependencies]").next().unwrap_or_default();
        if dependencies.lines().any(|line| line.trim_start().starts_with("trailmap-store")) {
            found.push(format!("crates/{krate}/Cargo.toml depends on trailmap-store"));
        }
        for file in rust_files(&workspace().join(format!("crates/{krate}/src"))) {
            let text = std::fs::read_to_string(&file).unwrap();
            for line in text.lines().filter(|line| line.contains("trailmap_store") && !line.trim_start().starts_with("//")) {
                found.push(format!("{}: {}", relative(&file), line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "the server and the CLI go through trailmap-app, never the store:\n{}", found.join("\n"));
}

#[test]
fn no_source_file_passes_a_thousand_lines_without_a_reason() {
    let allow_text = std::fs::read_to_string(workspace().join("tidy-allow.txt")).unwrap();
    let mut allowed = Vec::new();
    for (number, line) in allow_text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (path, reason) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        assert!(!reason.trim().is_empty(), "tidy-allow.txt line {}: {path} needs a reason after the path", number + 1);
        allowed.push(path.to_string());
    }
    let mut problems = Vec::new();
    let mut long = Vec::new();
    for file in rust_files(&workspace().join("crates")) {
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        let name = relative(&file);
        if lines > MAX_LINES {
            long.push(name.clone());
            if !allowed.contains(&name) {
                problems.push(format!("{name}: {lines} lines; split it by idea, or add it to tidy-allow.txt with the reason"));
            }
        }
    }
    for name in &allowed {
        if !long.contains(name) {
            problems.push(format!("tidy-allow.txt names {name}, which is gone or no longer over {MAX_LINES} lines: remove the entry"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
