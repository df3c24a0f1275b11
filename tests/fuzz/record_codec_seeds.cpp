// Writes the seed corpus of the record_codec fuzz target (tests/fuzz/corpus/record_codec/):
// real journal values produced by the codec itself, each wrapped in the target's input format
// [selector][key length][key][value], once as stored (checksum included) and once with the
// checksum left for the target to append (selector bit 3). Regenerate with
//   build/tests/fuzz/record_codec_seeds tests/fuzz/corpus/record_codec
// (seed-v1-*: the same records in the layout before errors were structured, kept as they were.)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "store/journal_keys.h"
#include "store/record_codec.h"
#include "tests/store/sample_records.h"

using namespace xfer;
using namespace xfer::store;

namespace {

void write(const std::filesystem::path& dir, const std::string& name, std::uint8_t kind,
           const std::string& key, const std::string& value) {
  for (const bool fix_crc : {false, true}) {
    std::string input;
    input.push_back(static_cast<char>(kind | (fix_crc ? 0x08 : 0)));
    input.push_back(static_cast<char>(key.size()));
    input += key;
    input += fix_crc ? value.substr(0, value.size() - 4) : value;
    std::ofstream(dir / ("seed-" + name + (fix_crc ? "-crc" : "")), std::ios::binary) << input;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);

  const TransferRecord full = xfer::test::sample_transfer(42, -7);
  write(dir, "transfer-full", 0, keys::transfer(full.id), encode(full));
  TransferRecord minimal;
  minimal.id = 1;
  write(dir, "transfer-minimal", 0, keys::transfer(1), encode(minimal));
  TransferRecord many = full;
  many.request_headers.assign(5, {"X-A", "b"});
  many.size.reset();
  many.state = TransferState::Cancelled;
  write(dir, "transfer-headers", 0, keys::unfinished(many), encode(many));

  SegmentRecord seg = xfer::test::sample_segment(9, 2);
  write(dir, "segment", 1, keys::segment(9, 2), encode(seg));
  seg.end.reset();
  write(dir, "segment-open", 1, keys::segment(9, 3), encode(seg));

  const OriginRecord origin = xfer::test::sample_origin("https://example.test:443");
  write(dir, "origin", 2, keys::origin(origin.origin), encode(origin));
  OriginRecord bare;
  bare.origin = "http://a:80";
  write(dir, "origin-bare", 2, keys::origin(bare.origin), encode(bare));

  OutboxEvent event = xfer::test::sample_event(5);
  event.seq = 77;
  write(dir, "event", 3, keys::event(77), encode(event));
  OutboxEvent completed = event;
  completed.kind = xfer::EventKind::Completed;
  completed.error.reset();
  completed.digest = "sha256:" + std::string(64, 'c');
  write(dir, "event-completed", 3, keys::event(78), encode(completed));

  write(dir, "upload", 6, keys::upload(7), encode(xfer::test::sample_upload(7)));
  store::UploadRecord fresh_upload;
  fresh_upload.transfer_id = 8;
  write(dir, "upload-fresh", 6, keys::upload(8), encode(fresh_upload));

  write(dir, "counter", 4, std::string(keys::kNextTransferId), encode_counter(123456));
  write(dir, "schema", 4, std::string(keys::kSchema), encode_counter(kSchemaVersion));

  // Keys as a scan returns them (selector 5: the value bytes are read as a key).
  for (const auto& [name, key] : {std::pair<std::string, std::string>{"key-transfer", keys::transfer(7)},
                                  {"key-unfinished", keys::unfinished(full)},
                                  {"key-segment", keys::segment(7, 1)},
                                  {"key-event", keys::event(3)},
                                  {"key-upload", keys::upload(3)},
                                  {"key-origin", keys::origin("https://h:443")}}) {
    std::ofstream(dir / ("seed-" + name), std::ios::binary) << std::string("\x05\x00", 2) + key;
  }
  return 0;
}
