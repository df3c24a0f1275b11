// Defaults from a config file (TOML, `$XDG_CONFIG_HOME/xfer/config.toml`): what operators would
// otherwise repeat on every command line — the journal, TLS trust, retries, limits. Top-level
// keys are long flag names (without `--`) and apply to every verb that takes that flag; a
// `[verb]` table applies to that verb only and overrides the top level; a flag given on the
// command line overrides both. Every key and value is checked against the flags the verbs
// really take, so a typo is an error naming the file and line, never silently ignored.
#pragma once

#include <optional>
#include <string>

#include <xfer/error.h>

namespace CLI {
class App;
}

namespace xfer::cli {

// The file to read: `explicit_path` when given (it must exist), else $XDG_CONFIG_HOME/xfer/
// config.toml (or ~/.config/xfer/config.toml), used only if it exists. nullopt: no file.
std::optional<std::string> config_file_path(const std::string& explicit_path);

// Reads `path`, checks every key against the verbs of `app`, and gives `verb` (already parsed
// from the command line) the values it did not get there. Errors are usage errors.
Result<void> apply_config_file(const std::string& path, CLI::App& app, CLI::App& verb);

}  // namespace xfer::cli
