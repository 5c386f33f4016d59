#include "umpd/ipc/fd.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace umpd::ipc {

unique_fd& unique_fd::operator=(unique_fd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
}

void unique_fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

std::error_code wake::create(wake& out) noexcept {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return {errno, std::system_category()};
    out = wake(unique_fd(fd));
    return {};
}

void wake::signal() const noexcept {
    const std::uint64_t one = 1;
    // EAGAIN means the counter is saturated: the consumer is already due to wake.
    [[maybe_unused]] const auto n = ::write(fd_.get(), &one, sizeof one);
}

void wake::drain() const noexcept {
    std::uint64_t v;
    [[maybe_unused]] const auto n = ::read(fd_.get(), &v, sizeof v);
}

bool wake::wait(std::chrono::nanoseconds timeout) const noexcept {
    pollfd p{fd_.get(), POLLIN, 0};
    const int ms = timeout.count() < 0 ? -1
                                        : static_cast<int>((timeout.count() + 999'999) / 1'000'000);
    for (;;) {
        const int r = ::poll(&p, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        drain();
        return true;
    }
}

}  // namespace umpd::ipc
