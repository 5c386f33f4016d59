// A file descriptor owned by value, and the eventfd wake-up of the data path.
#pragma once

#include <chrono>
#include <cstdint>
#include <system_error>
#include <utility>

namespace umpd::ipc {

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept;
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] explicit operator bool() const noexcept { return fd_ >= 0; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

// An eventfd used as a wake-up: signal() from the producer, wait() in the consumer.
// Real-time safe: signal() is one write(2) and nothing else.
class wake {
public:
    wake() = default;
    explicit wake(unique_fd fd) noexcept : fd_(std::move(fd)) {}

    [[nodiscard]] static std::error_code create(wake& out) noexcept;  // EFD_NONBLOCK | EFD_CLOEXEC

    void signal() const noexcept;
    // Blocks until signalled or the timeout passes (negative: forever). Returns true
    // when signalled. Consumes the signal.
    bool wait(std::chrono::nanoseconds timeout) const noexcept;
    // Consumes a pending signal without blocking.
    void drain() const noexcept;

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    unique_fd fd_;
};

}  // namespace umpd::ipc
