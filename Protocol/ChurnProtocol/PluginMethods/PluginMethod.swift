import Foundation

/// Methods a model plugin serves to the daemon (`Protocol/PROTOCOL.md`, "Plugin methods").
///
/// A plugin is any executable named `churn-plugin-<kind>` that listens on the Unix
/// socket path given by `--socket PATH` and answers these methods.
public enum PluginMethod {}
