#include "testserver/app/body_reader.h"

namespace xts {

namespace {

struct SmallBody : std::enable_shared_from_this<SmallBody> {
  std::shared_ptr<Exchange> ex;
  std::size_t limit = 0;
  std::string body;
  std::function<void(std::optional<std::string>)> done;

  void next() {
    ex->read_body([self = shared_from_this()](std::span<const std::uint8_t> data, bool eof,
                                              boost::system::error_code ec) {
      if (ec) return self->done(std::nullopt);
      self->body.append(reinterpret_cast<const char*>(data.data()), data.size());
      if (self->body.size() > self->limit) return self->done(std::nullopt);
      if (eof) return self->done(std::move(self->body));
      self->next();
    });
  }
};

}  // namespace

void read_small_body(const std::shared_ptr<Exchange>& ex, std::size_t limit,
                     std::function<void(std::optional<std::string>)> done) {
  auto job = std::make_shared<SmallBody>();
  job->ex = ex;
  job->limit = limit;
  job->done = std::move(done);
  job->next();
}

}  // namespace xts
