// CurlMultiAsio: one libcurl multi handle driven by a Boost.Asio io_context through the
// multi-socket API (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION). No busy polling: the loop
// sleeps in epoll until a socket curl cares about is ready or curl's timer expires.
//
// How it stays out of the traps that sank curl's own Asio example (curl #1191, #2407, #5090):
// - Readiness waits (async_wait read/write), re-armed after each event, never one-shot reads.
// - Asio never owns curl's sockets: each watched fd is dup()ed and the dup is registered with
//   the reactor, so curl may close its fd whenever it likes without confusing epoll, and a
//   reused fd number cannot receive a stale registration.
// - An fd-keyed map of live entries; every completion checks its entry is still alive before it
//   calls curl (CURL_POLL_REMOVE arrives inside curl_multi_socket_action).
// - curl is never re-entered: a 0 ms timer request is posted, and curl calls are counted so
//   callers can tell they are inside one (in_curl()).
// - Finished transfers are reaped after every call into curl and handed to their owner (the
//   CURLOPT_PRIVATE of the easy handle), which must only record the result and post the rest.
//
// Threading: everything runs on the io_context's thread. Lifetime: shared; streams hold a
// shared_ptr so the multi handle outlives every easy handle attached to it. Pending Asio
// handlers hold only weak references.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <curl/curl.h>

#include <xfer/error.h>

namespace xfer::protocols::curl {

// The object named by an easy handle's CURLOPT_PRIVATE. on_transfer_done runs from the reaper,
// outside any curl callback; it must detach the handle (CurlMultiAsio::remove) and must not call
// into the sink synchronously (post instead).
class CurlEasyOwner {
 public:
  virtual void on_transfer_done(CURLcode result) = 0;

 protected:
  ~CurlEasyOwner() = default;
};

struct CurlMultiLimits {
  long max_connections_per_host = 8;
  long max_connections_total = 64;
  long max_streams_per_connection = 100;
};

class CurlMultiAsio : public std::enable_shared_from_this<CurlMultiAsio> {
 public:
  static Result<std::shared_ptr<CurlMultiAsio>> create(boost::asio::io_context& io,
                                                       const CurlMultiLimits& limits);
  ~CurlMultiAsio();
  CurlMultiAsio(const CurlMultiAsio&) = delete;
  CurlMultiAsio& operator=(const CurlMultiAsio&) = delete;

  boost::asio::io_context& io() { return io_; }

  // Attaches an easy handle; curl starts it from the next timer run. REQUIRES: !in_curl().
  Result<void> add(CURL* easy);
  // Detaches an easy handle (a no-op when it is not attached). REQUIRES: !in_curl().
  void remove(CURL* easy);

  // Takes over an attached easy handle whose owner is going away mid-exchange, and makes curl
  // end it through its normal failure path (progress callback abort) instead of yanking it out
  // with curl_multi_remove_handle, which leaves libcurl 7.88's HTTP/2 session unusable for the
  // next exchange on the connection. The handle (and `headers`, freed with it) must already
  // have callbacks that touch no owner and CURLOPT_PRIVATE = nullptr. Safe inside curl.
  void adopt_orphan(CURL* easy, curl_slist* headers);

  // True while a call into libcurl that may run callbacks is on the stack.
  bool in_curl() const { return in_curl_depth_ > 0; }

  // Runs `fn` (which calls into curl, e.g. curl_easy_pause) marked as in-curl, then reaps
  // finished transfers. REQUIRES: !in_curl().
  void call_into_curl(const std::function<void()>& fn);

  // Posts `fn` to the loop; it is dropped if this multi is gone by then.
  void post(std::function<void()> fn);

  // Connections libcurl opened so far (sum of CURLINFO_NUM_CONNECTS of finished transfers).
  std::size_t connections_opened() const { return connections_opened_; }
  void note_connections(long opened) { connections_opened_ += static_cast<std::size_t>(opened); }

  // Sockets currently watched, and cancelled handles curl has not finished yet (for tests).
  std::size_t watched_sockets() const { return sockets_.size(); }
  std::size_t orphans() const { return orphans_.size(); }

 private:
  struct WatchedSocket {
    curl_socket_t fd;  // curl's fd number (what socket_action wants)
    boost::asio::posix::stream_descriptor dup;  // our duplicate, registered with the reactor
    int want = 0;  // CURL_POLL_IN / OUT / INOUT
    bool read_armed = false;
    bool write_armed = false;
    bool alive = true;
  };

  CurlMultiAsio(boost::asio::io_context& io, CURLM* multi);

  static int socket_trampoline(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int timer_trampoline(CURLM* multi, long timeout_ms, void* userp);
  int on_socket(curl_socket_t fd, int what);
  void on_timer_request(long timeout_ms);

  void arm(const std::shared_ptr<WatchedSocket>& entry);
  void on_ready(const std::shared_ptr<WatchedSocket>& entry, int select_flag,
                const boost::system::error_code& ec);
  void socket_action(curl_socket_t fd, int select_flags);
  void reap();

  boost::asio::io_context& io_;
  CURLM* multi_;
  boost::asio::steady_timer timer_;
  bool timeout_posted_ = false;
  int in_curl_depth_ = 0;
  std::size_t connections_opened_ = 0;
  std::unordered_map<curl_socket_t, std::shared_ptr<WatchedSocket>> sockets_;
  std::unordered_map<CURL*, curl_slist*> orphans_;
};

}  // namespace xfer::protocols::curl
