// The two byte streams a connection runs over (plain TCP, TLS over TCP) and the few
// operations the HTTP/1.1 and HTTP/2 connections need beyond Asio's read/write: reaching the
// TCP socket (for shutdown, SO_LINGER, peer address) and telling them apart at compile time.
#pragma once

#include <string>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace xts::net {

using PlainStream = boost::asio::ip::tcp::socket;
using TlsStream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

template <class Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

inline boost::asio::ip::tcp::socket& tcp_socket(PlainStream& s) { return s; }
inline boost::asio::ip::tcp::socket& tcp_socket(TlsStream& s) { return s.next_layer(); }

// "ip:port" of the peer, or "?" when the socket is already gone.
std::string peer_string(const boost::asio::ip::tcp::socket& socket);

// Bytes written to the socket but not yet acknowledged by the peer (Linux SIOCOUTQ), or 0.
int unsent_bytes(boost::asio::ip::tcp::socket& socket);

// Ends the connection abortively: SO_LINGER {1, 0} then close, so the kernel sends a TCP RST.
void reset_socket(boost::asio::ip::tcp::socket& socket);

}  // namespace xts::net
