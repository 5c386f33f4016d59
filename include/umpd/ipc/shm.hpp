// Shared-memory regions (memfd) and the layout of one connection's region.
#pragma once

#include <cstddef>
#include <cstdint>
#include <system_error>

#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"

namespace umpd::ipc {

// A mapped memfd. Move-only; unmaps and closes on destruction.
class shm_region {
public:
    shm_region() = default;
    shm_region(shm_region&& o) noexcept;
    shm_region& operator=(shm_region&& o) noexcept;
    shm_region(const shm_region&) = delete;
    shm_region& operator=(const shm_region&) = delete;
    ~shm_region();

    // Creates a zero-filled region of `bytes` (sealed against shrinking).
    [[nodiscard]] static std::error_code create(const char* name, std::size_t bytes, shm_region& out) noexcept;
    // Maps a region received from another process; checks its size against `min_bytes`.
    [[nodiscard]] static std::error_code map(unique_fd fd, std::size_t min_bytes, shm_region& out) noexcept;

    [[nodiscard]] void* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    // Maps all of fd and takes it over.
    [[nodiscard]] std::error_code adopt(unique_fd fd, std::size_t bytes) noexcept;

    unique_fd fd_;
    void* data_ = nullptr;
    std::size_t size_ = 0;
};

// One connection's region: a small header, then the ring clients write (to the
// service) and the ring the service writes (to the client).
inline constexpr std::uint32_t connection_magic = 0x756D7043;  // "umpC"
inline constexpr std::uint32_t connection_layout_version = 1;

struct connection_header {
    std::uint32_t magic = connection_magic;
    std::uint32_t version = connection_layout_version;
    std::uint32_t to_service_words = 0;
    std::uint32_t to_client_words = 0;
    std::uint64_t to_service_offset = 0;  // bytes from the region's start
    std::uint64_t to_client_offset = 0;
};

[[nodiscard]] std::size_t connection_bytes(std::uint32_t to_service_words, std::uint32_t to_client_words) noexcept;

// Lays out a fresh region (creator only).
void init_connection(shm_region& region, std::uint32_t to_service_words, std::uint32_t to_client_words) noexcept;

// The two rings of a connection region, checked (magic, version, offsets and sizes
// inside the region). Both sides use this; each takes the end it owns.
struct connection_rings {
    ring_header* to_service = nullptr;
    std::uint32_t* to_service_data = nullptr;
    std::uint32_t to_service_words = 0;  // validated capacities: pass these to ring_writer/ring_reader
    ring_header* to_client = nullptr;
    std::uint32_t* to_client_data = nullptr;
    std::uint32_t to_client_words = 0;
};
[[nodiscard]] std::error_code attach_connection(const shm_region& region, connection_rings& out) noexcept;

}  // namespace umpd::ipc
