// Small parsers for the CLI's option values: rates ("500K", "2M"), header lines, the default
// journal directory and the file name a URL is saved under; and byte counts and digest lines
// for people.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <xfer/error.h>
#include <xfer/ids.h>

namespace xfer::cli {

// Bytes per second from "1048576", "500K", "2M", "1.5G" (powers of 1024, like curl).
Result<std::uint64_t> parse_rate(const std::string& text);
// "Name: value" → {"Name", "value"}.
Result<std::pair<std::string, std::string>> parse_header(const std::string& line);
// $XDG_STATE_HOME/xfer, else $HOME/.local/state/xfer.
std::string default_journal_dir();
// The last path segment of the URL ("index.html" when there is none); never contains '/'.
std::string file_name_from_url(const std::string& url);
// A file name as one URL path segment: every byte outside RFC 3986 unreserved percent-encoded.
std::string percent_encode_segment(const std::string& name);
// "90", "90s", "500ms", "5m", "2h", "1d" → milliseconds.
Result<std::chrono::milliseconds> parse_duration(const std::string& text);
// "user:password" → the percent-encoded userinfo a URL would carry.
std::string userinfo_from_user(const std::string& user_colon_password);
// 1536 → "1.5 KiB" (powers of 1024, as parse_rate reads them).
std::string human_bytes(double bytes);
// "2026-12-04T22:38:05.123Z" (UTC, milliseconds), as every JSON time the CLI writes.
std::string iso_utc(std::chrono::system_clock::time_point at);
// Its inverse (the milliseconds may be absent); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_iso_utc(const std::string& text);
// "download" / "upload", as manifests and JSON say it.
const char* direction_name(Direction direction);

// "<hex>  <path>", the line `sha256sum -c` (sha512sum for a sha512 digest) checks; empty when
// `digest` ("sha256:<hex>") is empty.
std::string digest_line(const std::string& digest, const std::string& path);

}  // namespace xfer::cli
