// EngineParts: what an Engine is composed of — the HTTP stack that carries its requests and the
// journal that keeps its state. Engine::open composes the defaults; an application that wants to
// say which parts it runs on (as the xfer CLI does, its composition root) passes EngineParts to
// Engine::open_with.
//
// A choice is an opaque value: it names a part the library ships and how to build it, and is
// built when the engine opens (on the engine's loop). Choices are cheap to copy.
#pragma once

#include <memory>

namespace xfer {

namespace detail {
struct TransportMaker;
struct JournalMaker;
struct PartsAccess;
}  // namespace detail

// The transport: every request of every transfer goes through it. Redirects are followed above
// it, by one rule for all stacks (which headers travel to another origin).
class TransportChoice {
 public:
  // libcurl's multi interface: HTTP/1.1 and HTTP/2 (ALPN over OpenSSL, h2c with prior
  // knowledge), connections shared by all transfers of an origin. Transfers that ask for
  // HTTP/3 are refused.
  static TransportChoice libcurl();
  // libcurl, and HTTP/3 over QUIC (ngtcp2 + nghttp3, TLS by GnuTLS) for transfers that ask for
  // it (HttpVersion::Http3), one QUIC connection per origin. The default.
  static TransportChoice libcurl_and_http3();

 private:
  friend struct detail::PartsAccess;
  explicit TransportChoice(std::shared_ptr<const detail::TransportMaker> maker);
  std::shared_ptr<const detail::TransportMaker> maker_;
};

// The journal: transfer records, offsets, the capability cache and the event outbox, in the
// journal directory given to Engine::open_with.
class JournalChoice {
 public:
  // leveldb with synced group commits and per-record checksums. The default.
  static JournalChoice leveldb();

 private:
  friend struct detail::PartsAccess;
  explicit JournalChoice(std::shared_ptr<const detail::JournalMaker> maker);
  std::shared_ptr<const detail::JournalMaker> maker_;
};

struct EngineParts {
  TransportChoice transport = TransportChoice::libcurl_and_http3();
  JournalChoice journal = JournalChoice::leveldb();
};

}  // namespace xfer
