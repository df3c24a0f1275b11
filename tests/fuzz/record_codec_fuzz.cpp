// Fuzz target: the journal's record codec and key schema (store/record_codec, journal_keys).
// Journal values come back from disk, where a torn write, a bit flip or an older/newer build
// can leave anything; the decoder must turn all of it into values or Journal errors.
// Input: [selector][key length][key][value]. Selector bit 3 set: the value is checksummed here
// (its CRC32C appended) so the fuzzer reaches the field decoding instead of stopping at the
// checksum; clear: the bytes are taken as stored. Checks:
//  - a decoded record re-encodes to exactly the bytes it came from (one encoding per value; a
//    transfer record of an older layout re-encodes to the current one, which extends it),
//    decodes again to the same value, and decodes as no other record kind;
//  - a rejected value is a Journal error naming the key;
//  - key decoders invert the key builders, and describe() accepts any key.
#include <cstddef>
#include <cstdint>
#include <string>

#include "store/crc32c.h"
#include "store/journal_keys.h"
#include "store/record_codec.h"
#include "tests/fuzz/fuzz_support.h"

using namespace xfer::store;

namespace {

template <typename Decoded>
void check_error(const xfer::Result<Decoded>& r, std::string_view key) {
  if (r) return;
  FUZZ_CHECK(r.error().category() == xfer::ErrorCategory::Journal);
  FUZZ_CHECK(r.error().message().find(keys::describe(key)) != std::string::npos);
}

// Decoding as every kind: at most one may succeed, and only the expected one.
int kinds_accepting(std::string_view key, std::string_view value) {
  int n = 0;
  n += decode_transfer(key, value).has_value();
  n += decode_segment(key, value).has_value();
  n += decode_origin(key, value).has_value();
  n += decode_event(key, value).has_value();
  n += decode_counter(key, value).has_value();
  n += decode_upload(key, value).has_value();
  return n;
}

void check_keys(std::string_view key) {
  (void)keys::describe(key);
  if (const auto id = keys::transfer_id_of(key)) FUZZ_CHECK(keys::transfer(*id) == key);
  if (const auto seq = keys::seq_of_event(key)) FUZZ_CHECK(keys::event(*seq) == key);
  if (const auto id = keys::transfer_id_of_unfinished(key)) {
    FUZZ_CHECK(key.size() == 22 && key.starts_with(keys::kUnfinishedPrefix));
    FUZZ_CHECK(key.substr(14) == keys::transfer(*id).substr(2));
  }
}

}  // namespace

// `current` (this build's encoding) written back in an older layout `version`: that version
// byte, the last `tail` field bytes (what later versions added) dropped, checksummed again.
static std::string as_version(std::string_view current, std::size_t tail, char version) {
  std::string fields(current.substr(0, current.size() - 4 - tail));
  fields[0] = version;
  const std::uint32_t crc = crc32c(fields);
  for (int i = 0; i < 4; ++i) fields.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  return fields;
}

// A decoded value re-encodes to exactly its bytes when it was of the current layout version.
// One of an older version comes out in the current version; where nothing had to be converted
// (no error), writing that back in the input's version gives exactly the input, so no field was dropped or
// misread on the way. `tails`: the lengths later versions may have added (a transfer of the oldest
// layout also lacks its withheld-secrets count). `text_may_drop`: a version-1 transfer's error
// text that names no category is dropped (no error), so its text field may be all that differs:
// then everything before that field and after it must still be the input's.
static void check_reencoding(std::string_view value, std::string_view current, RecordKind kind,
                             bool converted, std::initializer_list<std::size_t> tails,
                             bool text_may_drop) {
  const auto newest = record_version(static_cast<std::uint8_t>(kind));
  FUZZ_CHECK(static_cast<std::uint8_t>(current[0]) == newest);
  if (static_cast<std::uint8_t>(value[0]) == newest) {
    FUZZ_CHECK(current == value);
    return;
  }
  if (converted) return;
  bool same = false;
  for (const std::size_t tail : tails) {
    const std::string expected = as_version(current, tail, value[0]);
    if (expected == value) same = true;
    if (same || !text_may_drop || value.size() <= expected.size()) continue;
    const std::string_view e = std::string_view(expected).substr(0, expected.size() - 4);
    const std::string_view v = value.substr(0, value.size() - 4);
    std::size_t prefix = 0;
    while (prefix < e.size() && e[prefix] == v[prefix]) ++prefix;
    const std::size_t after = std::min(prefix + 4, e.size());  // past the text's u32 length
    if (v.ends_with(e.substr(after))) same = true;
  }
  FUZZ_CHECK(same);
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::uint8_t selector = data[0];
  const std::size_t key_len = std::min<std::size_t>(data[1] % 64, size - 2);
  const std::string key(reinterpret_cast<const char*>(data + 2), key_len);
  std::string value(reinterpret_cast<const char*>(data + 2 + key_len), size - 2 - key_len);
  if (selector & 0x08) {
    const std::uint32_t crc = crc32c(value);
    for (int i = 0; i < 4; ++i) value.push_back(static_cast<char>((crc >> (8 * i)) & 0xFF));
  }
  check_keys(key);

  bool decoded = false;
  switch (selector & 0x07) {
    case 0: {
      const auto r = decode_transfer(key, value);
      check_error(r, key);
      if (r) {
        decoded = true;
        // One encoding per value in the current layout; a value of an older layout version is
        // re-encoded in the current one, which reads back the same.
        const std::string current = encode(*r);
        // Version 2 appends the error's structure (1 byte when there is none) after the
        // withheld-secrets count (4 bytes when empty), which version 1 may lack too.
        check_reencoding(value, current, RecordKind::Transfer, r->last_error.has_value(),
                         {1, r->withheld_secrets.empty() ? std::size_t{5} : std::size_t{1}},
                         r->state != xfer::TransferState::Failed);
        const auto again = decode_transfer(key, current);
        FUZZ_CHECK(again.has_value() && *again == *r);
        FUZZ_CHECK(keys::transfer_id_of(keys::transfer(r->id)) == r->id);
        FUZZ_CHECK(keys::transfer_id_of_unfinished(keys::unfinished(*r)) == r->id);
        (void)is_unfinished(r->state);
      }
      break;
    }
    case 1: {
      const auto r = decode_segment(key, value);
      check_error(r, key);
      if (r) {
        decoded = true;
        FUZZ_CHECK(encode(*r) == value);
        FUZZ_CHECK(keys::segment(r->transfer_id, r->index).starts_with(keys::segment_prefix(r->transfer_id)));
      }
      break;
    }
    case 2: {
      const auto r = decode_origin(key, value);
      check_error(r, key);
      if (r) {
        decoded = true;
        // Version 2 appends h3_broken_until (8 bytes; 0 for every version 1 value).
        const std::string current = encode(*r);
        check_reencoding(value, current, RecordKind::Origin, false, {8}, false);
        const auto again = decode_origin(key, current);
        FUZZ_CHECK(again.has_value() && *again == *r);
        FUZZ_CHECK(keys::origin(r->origin) == std::string(keys::kOriginPrefix) + r->origin);
      }
      break;
    }
    case 3: {
      const auto r = decode_event(key, value);
      check_error(r, key);
      if (r) {
        decoded = true;
        const std::string current = encode(*r);
        // Version 2 appends the error (1 byte when there is none; a version-1 failed event's
        // error was read back from its message), version 3 the digest (4 bytes when empty).
        check_reencoding(value, current, RecordKind::Event, r->error.has_value(), {4, 1 + 4}, false);
        const auto again = decode_event(key, current);
        FUZZ_CHECK(again.has_value() && *again == *r);
        FUZZ_CHECK(keys::seq_of_event(keys::event(r->seq)) == r->seq);
      }
      break;
    }
    case 4: {
      const auto r = decode_counter(key, value);
      check_error(r, key);
      if (r) {
        decoded = true;
        FUZZ_CHECK(encode_counter(*r) == value);
      }
      break;
    }
    case 6: {
      const auto r = decode_upload(key, value);
      check_error(r, key);
      if (r) {
        decoded = true;
        // Version 2 appends the sent bound (1 byte when unknown, as every version 1 value is),
        // version 3 the open-ended flag (1 byte).
        const std::string current = encode(*r);
        check_reencoding(value, current, RecordKind::Upload, false, {1, 2}, false);
        const auto again = decode_upload(key, current);
        FUZZ_CHECK(again.has_value() && *again == *r);
      }
      break;
    }
    default:  // 5 and 7
      check_keys(value);  // keys read back from a scan are untrusted too
      break;
  }
  if (decoded) FUZZ_CHECK(kinds_accepting(key, value) == 1);
  return 0;
}
