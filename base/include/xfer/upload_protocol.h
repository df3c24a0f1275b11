// How an upload talks to its server: the IETF draft Resumable Uploads for HTTP, tus 1.0, or a
// plain PUT/POST that can only start over. Journaled as its value: never renumber.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace xfer {

enum class UploadProtocol : std::uint8_t { Ietf = 0, Tus = 1, Plain = 2 };

// How an IETF-draft upload is created. Optimistic: the body streams with the creation request
// at once (one round trip; the resource URL arrives in a 104 mid-body). Careful: an empty
// creation request first, then appends (nothing is sent twice if the server turns out not to
// support resumable uploads). Auto: careful for large files and for origins known to be
// resumable, optimistic otherwise. Journaled as its value: never renumber.
enum class UploadCreation : std::uint8_t { Auto = 0, Optimistic = 1, Careful = 2 };

std::string_view to_string(UploadProtocol protocol);
// "ietf", "tus", "put"; nullopt for anything else.
std::optional<UploadProtocol> upload_protocol_named(std::string_view name);

}  // namespace xfer
