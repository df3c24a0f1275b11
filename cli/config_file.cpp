#include "cli/config_file.h"

#include <cstdlib>
#include <filesystem>
#include <map>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <toml++/toml.h>

namespace xfer::cli {

namespace {

// The flag of `verb` a key names: a long name, not --help or a positional.
CLI::Option* flag_named(CLI::App& verb, const std::string& key) {
  if (key == "help" || key.empty()) return nullptr;
  for (CLI::Option* opt : verb.get_options())
    for (const auto& name : opt->get_lnames())
      if (name == key) return opt;
  return nullptr;
}

bool is_flag(const CLI::Option* opt) { return opt->get_expected_max() == 0; }

std::string where(const std::string& path, const toml::node& node) {
  const auto& at = node.source().begin;
  return at.line ? fmt::format("{}:{}", path, at.line) : path;
}

// A value as the command line would have given it: each element of an array one result.
Result<std::vector<std::string>> as_results(const std::string& path, const std::string& key, const toml::node& value,
                                            bool flag) {
  auto bad = [&](const char* why) {
    return fail(ErrorCategory::InvalidArgument, fmt::format("{}: `{}` {}", where(path, value), key, why));
  };
  auto one = [&](const toml::node& v) -> std::optional<std::string> {
    if (flag) {
      if (auto b = v.value_exact<bool>()) return *b ? "true" : "false";
      return std::nullopt;
    }
    if (auto s = v.value_exact<std::string>()) return *s;
    if (auto i = v.value_exact<std::int64_t>()) return std::to_string(*i);
    if (auto d = v.value_exact<double>()) return fmt::format("{}", *d);
    return std::nullopt;
  };
  std::vector<std::string> out;
  if (const auto* array = value.as_array()) {
    if (flag) return bad("is a switch: true or false, not a list");
    for (const auto& element : *array) {
      auto s = one(element);
      if (!s) return bad("takes a list of strings or numbers");
      out.push_back(*s);
    }
    return out;
  }
  auto s = one(value);
  if (!s) return bad(flag ? "is a switch: true or false" : "takes a string or a number (true/false only for switches)");
  out.push_back(*s);
  return out;
}

struct Setting {
  CLI::Option* option = nullptr;
  std::vector<std::string> results;
  bool from_verb_table = false;
  std::string at;  // file:line, for messages
};

// The verbs a user can name (hidden ones, such as the completion helper, have no group).
std::vector<CLI::App*> visible_verbs(CLI::App& app) {
  std::vector<CLI::App*> verbs;
  for (CLI::App* sub : app.get_subcommands({}))
    if (!sub->get_group().empty()) verbs.push_back(sub);
  return verbs;
}

CLI::App* verb_named(CLI::App& app, const std::string& key) {
  for (CLI::App* sub : visible_verbs(app))
    if (sub->get_name() == key) return sub;
  return nullptr;
}

}  // namespace

std::optional<std::string> config_file_path(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/') base = xdg;
  else if (const char* home = std::getenv("HOME"); home && *home) base = std::filesystem::path(home) / ".config";
  else return std::nullopt;
  auto path = base / "xfer" / "config.toml";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::nullopt;
  return path.string();
}

Result<void> apply_config_file(const std::string& path, CLI::App& app, CLI::App& verb) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("config file {}: {}", path,
                            std::filesystem::exists(path, ec) ? "is not a regular file" : "no such file"));
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return fail(ErrorCategory::InvalidArgument,
                fmt::format("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column, e.description()));
  }

  // Every key is checked, also those of other verbs: a typo anywhere is said at once.
  std::map<std::string, Setting> settings;  // by key, for `verb`
  for (const auto& [key_view, value] : table) {
    const std::string key(key_view.str());
    if (value.is_table()) {
      CLI::App* section = verb_named(app, key);
      if (!section) {
        // `http1.1 = true` unquoted is TOML for a table `http1` holding `1`.
        for (const auto& [inner_view, inner] : *value.as_table())
          for (CLI::App* sub : visible_verbs(app))
            if (flag_named(*sub, key + "." + std::string(inner_view.str())))
              return fail(ErrorCategory::InvalidArgument,
                          fmt::format("{}: a key with a dot must be quoted in TOML: \"{}.{}\" = ...",
                                      where(path, inner), key, inner_view.str()));
        return fail(ErrorCategory::InvalidArgument,
                    fmt::format("{}: [{}] is no verb (xfer help lists them)", where(path, value), key));
      }
      for (const auto& [inner_view, inner] : *value.as_table()) {
        const std::string inner_key(inner_view.str());
        CLI::Option* opt = flag_named(*section, inner_key);
        if (!opt)
          return fail(ErrorCategory::InvalidArgument,
                      fmt::format("{}: `{}` is no flag of `xfer {}` (xfer help {})", where(path, inner), inner_key,
                                  key, key));
        auto results = as_results(path, inner_key, inner, is_flag(opt));
        if (!results) return std::unexpected(results.error());
        if (section == &verb) settings[inner_key] = {opt, std::move(*results), true, where(path, inner)};
      }
      continue;
    }
    bool known = false;
    for (CLI::App* sub : visible_verbs(app)) {
      CLI::Option* opt = flag_named(*sub, key);
      if (!opt) continue;
      known = true;
      auto results = as_results(path, key, value, is_flag(opt));
      if (!results) return std::unexpected(results.error());
      if (sub == &verb && !settings.count(key)) settings[key] = {opt, std::move(*results), false, where(path, value)};
    }
    if (!known)
      return fail(ErrorCategory::InvalidArgument,
                  fmt::format("{}: `{}` is no flag of any verb (xfer help VERB lists them)", where(path, value), key));
  }
  // A verb table's value above the top level's when they name the same thing twice; a switch
  // set false is simply not set.
  for (auto it = settings.begin(); it != settings.end();) {
    if (is_flag(it->second.option) && it->second.results == std::vector<std::string>{"false"}) it = settings.erase(it);
    else ++it;
  }

  for (auto& [key, s] : settings) {
    if (s.option->count() > 0) continue;  // the command line said it
    bool excluded = false;
    for (CLI::Option* other : s.option->get_excludes()) {
      if (other->count() > 0) {
        excluded = true;  // the command line chose the other one
        break;
      }
      for (const auto& [other_key, o] : settings) {
        if (o.option != other) continue;
        if (o.from_verb_table != s.from_verb_table) {
          excluded = !s.from_verb_table;  // the verb's own table wins
        } else {
          return fail(ErrorCategory::InvalidArgument,
                      fmt::format("{}: `{}` and `{}` exclude each other", s.at, key, other_key));
        }
      }
    }
    if (excluded) continue;
    try {
      for (const auto& r : s.results) s.option->add_result(r);
      s.option->run_callback();
    } catch (const CLI::Error& e) {
      return fail(ErrorCategory::InvalidArgument, fmt::format("{}: `{}`: {}", s.at, key, e.what()));
    }
  }
  return {};
}

}  // namespace xfer::cli
