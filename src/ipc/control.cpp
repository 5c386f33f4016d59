#include "umpd/ipc/control.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace umpd::ipc {

namespace {

class ipc_category_impl : public std::error_category {
public:
    const char* name() const noexcept override { return "umpd.ipc"; }
    std::string message(int e) const override {
        switch (static_cast<ipc_errc>(e)) {
        case ipc_errc::message_too_large: return "control message larger than 65536 bytes";
        case ipc_errc::too_many_fds: return "control message carries too many file descriptors";
        case ipc_errc::peer_closed: return "the other end closed the connection";
        case ipc_errc::bad_region: return "shared-memory region has a wrong header, size or layout";
        case ipc_errc::corrupt_ring: return "shared-memory ring is corrupt";
        case ipc_errc::not_running: return "umpd is not running";
        case ipc_errc::permission_denied: return "permission denied by umpd";
        }
        return "unknown ipc error";
    }
};

std::error_code last_error() noexcept { return {errno, std::system_category()}; }

}  // namespace

const std::error_category& ipc_category() noexcept {
    static const ipc_category_impl category;
    return category;
}

std::error_code make_error_code(ipc_errc e) noexcept { return {static_cast<int>(e), ipc_category()}; }

std::error_code send_message(int socket, std::string_view text, const int* fds, std::size_t fd_count) noexcept {
    if (text.size() > max_control_message) return make_error_code(ipc_errc::message_too_large);
    if (fd_count > max_control_fds) return make_error_code(ipc_errc::too_many_fds);
    iovec iov{const_cast<char*>(text.data()), text.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_control_fds)];
    if (fd_count > 0) {
        std::memset(control, 0, sizeof control);
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * fd_count);
    }
    for (;;) {
        const ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
        if (n >= 0) return {};
        if (errno == EINTR) continue;
        if (errno == EPIPE || errno == ECONNRESET) return make_error_code(ipc_errc::peer_closed);
        return last_error();
    }
}

std::error_code receive_message(int socket, std::string& text, std::vector<unique_fd>& fds) {
    fds.clear();
    text.resize(max_control_message + 1);  // one more byte tells a too-large message apart
    iovec iov{text.data(), text.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_control_fds)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        const auto e = last_error();
        text.clear();
        if (errno == ECONNRESET) return make_error_code(ipc_errc::peer_closed);
        return e;
    }
    // Take ownership of every fd that arrived, even when the message is refused, so
    // that none leaks.
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            fds.emplace_back(fd);
        }
    }
    if (n == 0) {
        text.clear();
        fds.clear();
        return make_error_code(ipc_errc::peer_closed);
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0 || static_cast<std::size_t>(n) > max_control_message) {
        text.clear();
        fds.clear();
        return make_error_code(ipc_errc::message_too_large);
    }
    if ((msg.msg_flags & MSG_CTRUNC) != 0 || fds.size() > max_control_fds) {
        text.clear();
        fds.clear();
        return make_error_code(ipc_errc::too_many_fds);
    }
    text.resize(static_cast<std::size_t>(n));
    return {};
}

std::string default_runtime_dir() {
    if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') return std::string(xdg) + "/umpd";
    return "/tmp/umpd-" + std::to_string(::getuid());
}

std::string control_socket_path(const std::string& runtime_dir) { return runtime_dir + "/control"; }

std::error_code connect_control(const std::string& runtime_dir, unique_fd& out) noexcept {
    const std::string path = control_socket_path(runtime_dir);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return std::make_error_code(std::errc::filename_too_long);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!fd) return last_error();
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        if (errno == ENOENT || errno == ECONNREFUSED) return make_error_code(ipc_errc::not_running);
        return last_error();
    }
    out = std::move(fd);
    return {};
}

}  // namespace umpd::ipc
