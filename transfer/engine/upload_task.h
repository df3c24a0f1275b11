// UploadTask: one upload — resumable (IETF draft Resumable Uploads for HTTP, interop 3 to 10,
// or tus 1.0) or plain (one PUT/POST of the whole file, sent again from zero only when that is safe)
// while it is Active — its creation, offset retrieval and append exchanges, and the upload
// record its checkpoints journal. The lifecycle, retries and persist chain are TaskCore's.
//
// Promises (design.md invariant 4 and the draft):
// - Only server-acknowledged offsets are journaled: a 104's Upload-Offset, an append response's
//   offset (or, where the version drops it, the end of an append the server answered 2xx), an
//   offset retrieval. Bytes merely sent are never claimed.
// - The upload resource URL is journaled, synced, the moment it arrives (a 104 mid-body or the
//   201 of a careful creation), before any byte is appended to it.
// - Every attempt after the first one of a resource starts with offset retrieval (HEAD), so a
//   crash, a 409 or a lost response continues exactly where the server stands; an offset
//   beyond what was sent, or beyond the file, is a protocol error, never silently used. An
//   offset that went backwards resends from there, announced by a Restarted event; a vanished
//   resource (404/410) starts a new upload, announced the same way.
// - A source whose size, mtime or inode changed is never resumed onto the old resource.
// - Cancel sends DELETE to the resource (bounded wait) before the Cancelled event.
// - tus shares the steps (creation, HEAD, PATCH at Upload-Offset, DELETE); it differs in the
//   fields (Tus-Resumable, Upload-Metadata, application/offset+octet-stream), in an OPTIONS
//   discovery before a creation (the server's versions, extensions and Tus-Max-Size), in
//   completion (the offset reaching Upload-Length; tus has no completion field) and in having
//   no 104: a creation-with-upload names its resource only when it ends, so only small files
//   ride on the creation.
//
// The body is read from the source file in read_body, on the loop thread, straight into the
// transport's buffer; a rate limit pauses the send (flow control), nothing is buffered.
//
// A growing source (UploadRecord::source_open_ended) is read only up to what was announced
// (source_grew). The creation is careful and names no length; appends go out as the source
// grows — a full chunk at once, a smaller one when the source has been quiet for kLinger — with
// the completion field saying "not complete", and the append after the end says complete (an
// empty one if every byte was already sent). tus declares Upload-Defer-Length where the server
// has that extension (else the upload waits for the end) and sends Upload-Length on the first
// PATCH after the end. Plain uploads wait for the end.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "base/upload_limits.h"
#include "protocols/http/digest_fields.h"
#include "protocols/http/url.h"
#include "protocols/transport.h"
#include "protocols/upload/tus_fields.h"
#include "protocols/upload/upload_dialect.h"
#include "store/records.h"
#include "transfer/engine/task_core.h"
#include "transfer/files/file_system.h"
#include "transfer/engine/hash_ahead.h"
#include "transfer/files/prefix_digest.h"

namespace xfer::engine {

class UploadTask final : public TaskCore {
 public:
  UploadTask(TaskHost& host, store::TransferRecord record, store::UploadRecord upload,
             std::optional<store::OriginRecord> origin);
  ~UploadTask() override;

  // TaskCore: the growing source has `size` bytes now (`ended`: and no more).
  void source_grew(std::uint64_t size, bool ended, std::function<void(Result<void>)> done) override;

 private:
  enum class Step { Discover, Create, Retrieve, Append, Delete, Plain };
  struct Exchange;
  class Sink;

  // TaskCore.
  Result<void> prepare() override;
  void launch() override;
  void release_exchanges() override;
  void resume_paused() override;
  PersistWork prepare_persist(const PersistJob& job) override;
  // What the completion hashes the source for: the reported digest, if any.
  files::DigestExpectations reported_digest() const;
  // Offers the source's prefix read so far to hash_ahead_.
  void hash_ahead(std::uint64_t read_upto);
  std::uint64_t bytes_done() const override;
  std::uint64_t durable_bytes() const override { return durable_acked_; }
  std::uint64_t checkpointable_bytes() const override { return acked_; }
  bool worth_keeping_after(const Error& error) const override;
  std::string resource_url() const override { return upload_.resource_url; }
  void cancel_remote(std::function<void()> then) override;
  void fill_status(TransferStatus& status) const override;

  std::shared_ptr<UploadTask> self() {
    return std::static_pointer_cast<UploadTask>(shared_from_this());
  }

  bool tus() const { return upload_.protocol == UploadProtocol::Tus; }
  // The source's length is not known yet: it is still growing.
  bool growing() const { return upload_.source_open_ended; }
  // Bytes of the source that may be read: its size, or what was announced of a growing one.
  std::uint64_t readable() const { return size_ ? *size_ : available_; }
  // A growing source: `next` runs when it grows or ends (or, with `linger`, when it has been
  // quiet for kLinger, so that what is there goes out). Replaces an earlier wait.
  void await_source(std::function<void()> next, bool linger);
  void stop_awaiting_source();

  // The steps of the protocol.
  // tus: OPTIONS before a creation, for the server's versions, extensions and size limit.
  // ietf: OPTIONS before a creation, for Upload-Limit (a larger file is refused before any byte
  // is sent), unless the journal's capability cache knows the origin's limits from the last
  // kUploadLimitsFreshFor.
  void discover();
  void after_discover(Exchange& ex);
  void after_limit_discovery(const protocols::ResponseHeaders& head);
  bool limits_known() const;
  void create();
  void retrieve_offset();
  void append(std::uint64_t from);
  // A plain PUT/POST of the whole file (servers without resumable uploads).
  void send_plain();
  void after_plain(Exchange& ex);
  // Fails a non-idempotent plain upload that cannot be sent again without the user's say-so.
  void refuse_replay(const std::string& why);
  void start_exchange(Step step, protocols::HttpRequest request, std::uint64_t body_from,
                      std::uint64_t body_to);
  protocols::HttpRequest base_request(const std::string& method, const std::string& url) const;
  // The fields every request carrying upload bytes sends: completion, Upload-Length (where the
  // version has it) and, on the request that completes the upload, Repr-Digest.
  void add_upload_fields(protocols::HttpRequest& request, bool completes) const;

  // Exchange callbacks.
  void on_interim(Exchange& ex, const protocols::ResponseHeaders& interim);
  void on_head(Exchange& ex, const protocols::ResponseHeaders& head);
  protocols::BodyRead read_body(Exchange& ex, std::span<std::uint8_t> buffer);
  void on_complete(Exchange& ex, Result<void> outcome);
  void after_create(Exchange& ex);
  void after_tus_create(Exchange& ex);
  void after_retrieve(Exchange& ex);
  void after_append(Exchange& ex);

  // What the server told us.
  // A resource URL from a 104 or a creation response: journaled at once, then `next` runs.
  // `sent_to`: the end of the body the naming exchange carries (the sent bound starts there).
  void learn_resource(const std::string& url, std::uint64_t sent_to, std::function<void()> next);
  // An Upload-Limit (ignored when invalid). False when it ended the upload: the file is above
  // its max-size, so nothing more is sent.
  bool learn_limits(const protocols::ResponseHeaders& head);
  bool adopt_limits(const UploadLimits& limits);
  // The dialect's completion field in a response, read as "the upload is complete".
  std::optional<bool> completion_in(const protocols::ResponseHeaders& head) const;
  // tus's Upload-Expires: when the server will drop the unfinished upload.
  void learn_expiry(const protocols::ResponseHeaders& head);
  // tus: a 412 names the versions the server speaks instead.
  void fail_tus_version(const protocols::ResponseHeaders& head);
  // Records an acknowledged offset (journaled with the next checkpoint).
  Result<void> acknowledge(std::uint64_t offset, std::uint64_t sent_end, const char* where);
  void restart_upload(const std::string& reason);
  // The response's Upload-Offset, or `absent` without one; a malformed one fails the attempt
  // (nullopt).
  std::optional<std::uint64_t> offset_in(const protocols::ResponseHeaders& head, std::uint64_t absent);
  // A 2xx from the upload resource: true. Gone (404/410): a new upload. Else the attempt fails.
  bool resource_answered(const protocols::ResponseHeaders& head, const std::string& what);
  void fail_status(const protocols::ResponseHeaders& head, const std::string& what);
  void fail_protocol(const std::string& why);
  bool careful_creation() const;

  store::UploadRecord upload_;
  std::optional<store::OriginRecord> origin_record_;
  protocols::UploadDialect dialect_;
  std::optional<protocols::TusCapabilities> tus_caps_;  // tus: learned by discover()
  bool tus_guessed_ = false;  // the OPTIONS had no Tus-Version: tus_caps_ is an assumption
  bool limits_discovered_ = false;  // ietf: this task asked OPTIONS (answered or not)
  UploadLimits limits_;
  std::optional<protocols::Url> target_;  // the creation URL, parsed
  std::shared_ptr<files::File> source_;
  std::optional<protocols::Digest> checksum_;
  // The source's bytes hashed as they are read for sending (hash_ahead_), when digests are
  // reported; one per opened source, so a restart onto another file never mixes the two.
  std::shared_ptr<files::PrefixDigest> source_digest_;
  HashAhead hash_ahead_;
  std::unique_ptr<Exchange> exchange_;
  std::uint64_t acked_ = 0;          // the server's latest word
  std::uint64_t durable_acked_ = 0;  // journaled
  std::uint64_t append_cap_ = 0;     // shrunk by 413s; 0 = no cap of our own
  bool send_paused_ = false;
  bool origin_dirty_ = false;        // learned something the capability cache should keep
  bool announced_resource_ = false;  // this task announced (and journals) the resource URL
  int conflicts_ = 0;          // 409s this attempt
  int shrinks_ = 0;            // 413s this attempt
  int restarts_ = 0;           // resends from a lower offset or new uploads, this attempt
  int short_acks_ = 0;         // appends acknowledged only in part, this attempt
  bool resynced_after_refusal_ = false;  // a 4xx to an append was followed by a HEAD
  bool interrupted_ = false;  // the journal said Active: a crash cut the last attempt
  boost::asio::steady_timer delete_timer_;
  std::function<void()> after_delete_;
  // A growing source.
  std::uint64_t available_ = 0;         // bytes announced
  std::function<void()> on_growth_;     // set while waiting for the source
  boost::asio::steady_timer linger_timer_;
  bool linger_armed_ = false;
  bool linger_due_ = false;             // quiet for kLinger: send what there is
  bool tus_length_declared_ = false;    // tus: the server knows the Upload-Length
  bool length_in_flight_ = false;       // tus: the running append declares it
  bool completing_in_flight_ = false;   // ietf: the running append says "complete"
  int empty_completions_ = 0;           // empty completing appends this attempt
};

}  // namespace xfer::engine
