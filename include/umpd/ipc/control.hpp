// The control channel: one JSON document per SOCK_SEQPACKET message, file
// descriptors (the connection's memfd and eventfds) passed alongside with
// SCM_RIGHTS. The protocol itself (operations, fields, events) is in
// docs/protocol.md; this header is only the framing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "umpd/ipc/fd.hpp"

namespace umpd::ipc {

inline constexpr int protocol_version = 1;
inline constexpr std::size_t max_control_message = 65536;
inline constexpr std::size_t max_control_fds = 8;

// Errors of the ipc subsystem (one category, per STYLE.md).
enum class ipc_errc {
    message_too_large = 1,  // over max_control_message: refused, not truncated
    too_many_fds,
    peer_closed,
    bad_region,             // a shared region whose header, size or offsets are wrong
    corrupt_ring,
    not_running,            // no umpd on that runtime directory
    permission_denied,      // peer credentials refused
};
[[nodiscard]] const std::error_category& ipc_category() noexcept;
[[nodiscard]] std::error_code make_error_code(ipc_errc e) noexcept;

// Sends one message with optional fds. Blocking sockets only.
[[nodiscard]] std::error_code send_message(int socket, std::string_view text, const int* fds = nullptr,
                                           std::size_t fd_count = 0) noexcept;

// Receives one message (text and any fds, which the caller then owns). A message
// longer than max_control_message, or one carrying more than max_control_fds, is
// reported as an error and its fds are closed; the socket stays usable.
[[nodiscard]] std::error_code receive_message(int socket, std::string& text, std::vector<unique_fd>& fds);

// Runtime paths: $XDG_RUNTIME_DIR/umpd, or /tmp/umpd-<uid> when it is unset.
[[nodiscard]] std::string default_runtime_dir();
[[nodiscard]] std::string control_socket_path(const std::string& runtime_dir);

// Connects to the control socket of the umpd serving runtime_dir.
[[nodiscard]] std::error_code connect_control(const std::string& runtime_dir, unique_fd& out) noexcept;

}  // namespace umpd::ipc
