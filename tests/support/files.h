// File helpers for tests: deterministic payloads and SHA-256 of a file, so every transfer
// test can check bytes end to end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace xfer::test {

// Writes `size` bytes of a seeded pseudo-random pattern (reproducible, incompressible).
void write_pattern_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t seed = 1);

// Lower-case hex SHA-256 of the file's content; throws if it cannot be read.
std::string sha256_file(const std::filesystem::path& path);
std::string sha256_hex(const void* data, std::size_t size);

// The bytes a download has on disk: its .part file, or after the rename (and before the journal
// says Completed) the destination; 0 when neither exists.
std::uint64_t download_bytes_on_disk(const std::filesystem::path& destination);

}  // namespace xfer::test
