//! Values for dynamic shell completion: the functions and layers of the workspace found from
//! the current directory, and its targets. Completion must never print or fail, so a workspace
//! that does not load completes nothing.

use crate::session::GlobalOptions;

/// The workspace's function and layer names, each with `function` or `layer`.
pub fn member_names() -> Vec<(String, &'static str)> {
    let Some(workspace) = load() else { return Vec::new() };
    let mut names: Vec<(String, &'static str)> =
        workspace.functions.iter().map(|function| (function.name.clone(), "function")).collect();
    names.extend(workspace.layers.iter().map(|layer| (layer.name.clone(), "layer")));
    if workspace.shared_layer {
        names.push((crate::model::SHARED_LAYER.to_string(), "generated layer"));
    }
    names
}

/// The workspace's target names (`python3.12-arm64`), as `lbuild lock` would lock them.
pub fn target_names() -> Vec<String> {
    let Some(workspace) = load() else { return Vec::new() };
    workspace.targets().iter().map(|(target, _)| target.name()).collect()
}

fn load() -> Option<crate::manifest::Workspace> {
    crate::output::quietly(|| GlobalOptions::default().workspace().ok())
}
