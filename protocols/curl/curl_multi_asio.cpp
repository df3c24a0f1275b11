#include "protocols/curl/curl_multi_asio.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>

#include "protocols/curl/curl_errors.h"

namespace xfer::protocols::curl {
namespace {

// Counts nested calls into curl so in_curl() is exact even if calls nest.
class InCurl {
 public:
  explicit InCurl(int& depth) : depth_(depth) { ++depth_; }
  ~InCurl() { --depth_; }
  InCurl(const InCurl&) = delete;
  InCurl& operator=(const InCurl&) = delete;

 private:
  int& depth_;
};

}  // namespace

Result<std::shared_ptr<CurlMultiAsio>> CurlMultiAsio::create(boost::asio::io_context& io,
                                                             const CurlMultiLimits& limits) {
  CURLM* multi = curl_multi_init();
  if (multi == nullptr) return fail(ErrorCategory::Internal, "curl_multi_init failed");
  std::shared_ptr<CurlMultiAsio> self(new CurlMultiAsio(io, multi));
  auto set = [&](CURLMoption option, auto value) -> Result<void> {
    if (const CURLMcode rc = curl_multi_setopt(multi, option, value); rc != CURLM_OK) {
      return std::unexpected(error_from_curlm(rc, "curl_multi_setopt"));
    }
    return {};
  };
  CurlMultiAsio* raw = self.get();
  for (auto r : {set(CURLMOPT_SOCKETFUNCTION, &CurlMultiAsio::socket_trampoline),
                 set(CURLMOPT_SOCKETDATA, raw),
                 set(CURLMOPT_TIMERFUNCTION, &CurlMultiAsio::timer_trampoline),
                 set(CURLMOPT_TIMERDATA, raw),
                 set(CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX)),
                 set(CURLMOPT_MAX_HOST_CONNECTIONS, limits.max_connections_per_host),
                 set(CURLMOPT_MAX_TOTAL_CONNECTIONS, limits.max_connections_total),
                 set(CURLMOPT_MAXCONNECTS, limits.max_connections_total),
                 set(CURLMOPT_MAX_CONCURRENT_STREAMS, limits.max_streams_per_connection)}) {
    if (!r) return std::unexpected(r.error());
  }
  return self;
}

CurlMultiAsio::CurlMultiAsio(boost::asio::io_context& io, CURLM* multi)
    : io_(io), multi_(multi), timer_(io) {}

CurlMultiAsio::~CurlMultiAsio() {
  // Stop curl from calling back into a half-destroyed object while it closes its connections.
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, nullptr);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, nullptr);
  for (auto& [easy, headers] : orphans_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
  curl_multi_cleanup(multi_);
  for (auto& [fd, entry] : sockets_) {
    entry->alive = false;
    boost::system::error_code ignored;
    entry->dup.close(ignored);
  }
  boost::system::error_code ignored;
  timer_.cancel(ignored);
}

Result<void> CurlMultiAsio::add(CURL* easy) {
  InCurl guard(in_curl_depth_);
  if (const CURLMcode rc = curl_multi_add_handle(multi_, easy); rc != CURLM_OK) {
    return std::unexpected(error_from_curlm(rc, "curl_multi_add_handle"));
  }
  return {};
}

void CurlMultiAsio::remove(CURL* easy) {
  InCurl guard(in_curl_depth_);
  curl_multi_remove_handle(multi_, easy);
}

void CurlMultiAsio::adopt_orphan(CURL* easy, curl_slist* headers) {
  orphans_.emplace(easy, headers);
  // A pause-state change makes curl run the handle at once (curl_easy_pause ignores a call
  // that changes nothing, hence pause-then-continue), and the progress callback aborts it.
  auto kick = [weak = weak_from_this(), easy] {
    auto self = weak.lock();
    if (!self || !self->orphans_.contains(easy)) return;
    self->call_into_curl([easy] {
      curl_easy_pause(easy, CURLPAUSE_ALL);
      curl_easy_pause(easy, CURLPAUSE_CONT);
    });
  };
  if (in_curl()) {
    boost::asio::post(io_, std::move(kick));
  } else {
    kick();
  }
}

void CurlMultiAsio::call_into_curl(const std::function<void()>& fn) {
  {
    InCurl guard(in_curl_depth_);
    fn();
  }
  reap();
}

void CurlMultiAsio::post(std::function<void()> fn) {
  boost::asio::post(io_, [weak = weak_from_this(), fn = std::move(fn)] {
    if (auto self = weak.lock()) fn();
  });
}

int CurlMultiAsio::socket_trampoline(CURL*, curl_socket_t fd, int what, void* userp, void*) {
  return static_cast<CurlMultiAsio*>(userp)->on_socket(fd, what);
}

int CurlMultiAsio::timer_trampoline(CURLM*, long timeout_ms, void* userp) {
  static_cast<CurlMultiAsio*>(userp)->on_timer_request(timeout_ms);
  return 0;
}

int CurlMultiAsio::on_socket(curl_socket_t fd, int what) {
  auto it = sockets_.find(fd);
  if (what == CURL_POLL_REMOVE) {
    if (it != sockets_.end()) {
      it->second->alive = false;
      boost::system::error_code ignored;
      it->second->dup.close(ignored);  // pending waits complete with operation_aborted
      sockets_.erase(it);
    }
    return 0;
  }
  if (it == sockets_.end()) {
    const int copy = ::dup(fd);
    if (copy < 0) return -1;  // EMFILE: curl fails the transfer instead of hanging
    auto entry = std::make_shared<WatchedSocket>(
        WatchedSocket{fd, boost::asio::posix::stream_descriptor(io_, copy)});
    it = sockets_.emplace(fd, std::move(entry)).first;
  }
  it->second->want = what;
  arm(it->second);
  return 0;
}

void CurlMultiAsio::on_timer_request(long timeout_ms) {
  boost::system::error_code ignored;
  timer_.cancel(ignored);
  if (timeout_ms < 0) return;
  if (timeout_ms == 0) {
    // Never call curl_multi_socket_action from inside a curl callback: post it.
    if (timeout_posted_) return;
    timeout_posted_ = true;
    boost::asio::post(io_, [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      self->timeout_posted_ = false;
      self->socket_action(CURL_SOCKET_TIMEOUT, 0);
    });
    return;
  }
  timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (auto self = weak.lock()) self->socket_action(CURL_SOCKET_TIMEOUT, 0);
  });
}

void CurlMultiAsio::arm(const std::shared_ptr<WatchedSocket>& entry) {
  using Wait = boost::asio::posix::stream_descriptor::wait_type;
  if ((entry->want & CURL_POLL_IN) != 0 && !entry->read_armed) {
    entry->read_armed = true;
    entry->dup.async_wait(Wait::wait_read, [weak = weak_from_this(), entry](
                                               const boost::system::error_code& ec) {
      entry->read_armed = false;
      if (auto self = weak.lock()) self->on_ready(entry, CURL_CSELECT_IN, ec);
    });
  }
  if ((entry->want & CURL_POLL_OUT) != 0 && !entry->write_armed) {
    entry->write_armed = true;
    entry->dup.async_wait(Wait::wait_write, [weak = weak_from_this(), entry](
                                                const boost::system::error_code& ec) {
      entry->write_armed = false;
      if (auto self = weak.lock()) self->on_ready(entry, CURL_CSELECT_OUT, ec);
    });
  }
}

void CurlMultiAsio::on_ready(const std::shared_ptr<WatchedSocket>& entry, int select_flag,
                             const boost::system::error_code& ec) {
  if (!entry->alive || ec == boost::asio::error::operation_aborted) return;
  const int wanted = select_flag == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
  // Interest may have been withdrawn while the wait was pending (a paused transfer): then
  // don't re-arm, or a readable socket nobody reads would spin the loop.
  if ((entry->want & wanted) == 0) return;
  socket_action(entry->fd, ec ? CURL_CSELECT_ERR : select_flag);
  if (entry->alive) arm(entry);
}

void CurlMultiAsio::socket_action(curl_socket_t fd, int select_flags) {
  {
    InCurl guard(in_curl_depth_);
    int running = 0;
    curl_multi_socket_action(multi_, fd, select_flags, &running);
  }
  reap();
}

void CurlMultiAsio::reap() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // msg dies with remove_handle: copy what we need first.
    CURL* easy = msg->easy_handle;
    const CURLcode result = msg->data.result;
    long opened = 0;
    if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &opened) == CURLE_OK) {
      note_connections(opened);
    }
    char* priv = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
    if (priv == nullptr) {
      remove(easy);
      if (auto orphan = orphans_.find(easy); orphan != orphans_.end()) {
        curl_easy_cleanup(easy);
        curl_slist_free_all(orphan->second);
        orphans_.erase(orphan);
      }
      continue;
    }
    static_cast<CurlEasyOwner*>(static_cast<void*>(priv))->on_transfer_done(result);
  }
}

}  // namespace xfer::protocols::curl
