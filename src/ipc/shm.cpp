#include "umpd/ipc/shm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "umpd/ipc/control.hpp"

namespace umpd::ipc {

namespace {
std::error_code last_error() noexcept { return {errno, std::system_category()}; }
constexpr std::size_t align64(std::size_t n) noexcept { return (n + 63) / 64 * 64; }
}  // namespace

shm_region::shm_region(shm_region&& o) noexcept
    : fd_(std::move(o.fd_)), data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

shm_region& shm_region::operator=(shm_region&& o) noexcept {
    if (this != &o) {
        if (data_ != nullptr) ::munmap(data_, size_);
        fd_ = std::move(o.fd_);
        data_ = std::exchange(o.data_, nullptr);
        size_ = std::exchange(o.size_, 0);
    }
    return *this;
}

shm_region::~shm_region() {
    if (data_ != nullptr) ::munmap(data_, size_);
}

std::error_code shm_region::create(const char* name, std::size_t bytes, shm_region& out) noexcept {
    unique_fd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) return last_error();
    if (::ftruncate(fd.get(), static_cast<off_t>(bytes)) != 0) return last_error();
    // The peer may not shrink the region under us (a SIGBUS on the data path).
    if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) return last_error();
    return out.adopt(std::move(fd), bytes);
}

std::error_code shm_region::map(unique_fd fd, std::size_t min_bytes, shm_region& out) noexcept {
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return last_error();
    if (st.st_size < 0 || static_cast<std::size_t>(st.st_size) < min_bytes) return make_error_code(ipc_errc::bad_region);
    // A region that could still shrink could fault us later: require the seal.
    const int seals = ::fcntl(fd.get(), F_GET_SEALS);
    if (seals < 0 || (seals & F_SEAL_SHRINK) == 0) return make_error_code(ipc_errc::bad_region);
    return out.adopt(std::move(fd), static_cast<std::size_t>(st.st_size));
}

std::error_code shm_region::adopt(unique_fd fd, std::size_t bytes) noexcept {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (p == MAP_FAILED) return last_error();
    *this = shm_region();
    fd_ = std::move(fd);
    data_ = p;
    size_ = bytes;
    return {};
}

std::size_t connection_bytes(std::uint32_t to_service_words, std::uint32_t to_client_words) noexcept {
    return align64(sizeof(connection_header)) + ring_bytes(to_service_words) + ring_bytes(to_client_words);
}

void init_connection(shm_region& region, std::uint32_t to_service_words, std::uint32_t to_client_words) noexcept {
    auto* base = static_cast<unsigned char*>(region.data());
    auto* h = new (base) connection_header{};
    h->to_service_words = to_service_words;
    h->to_client_words = to_client_words;
    h->to_service_offset = align64(sizeof(connection_header));
    h->to_client_offset = h->to_service_offset + ring_bytes(to_service_words);
    init_ring(base + h->to_service_offset, to_service_words);
    init_ring(base + h->to_client_offset, to_client_words);
}

namespace {
bool valid_capacity(std::uint32_t words) noexcept {
    return words >= 64 && (words & (words - 1)) == 0 && words <= (1u << 24);
}
}  // namespace

std::error_code attach_connection(const shm_region& region, connection_rings& out) noexcept {
    const std::size_t size = region.size();
    if (region.data() == nullptr || size < sizeof(connection_header)) return make_error_code(ipc_errc::bad_region);
    auto* base = static_cast<unsigned char*>(region.data());
    // Copy the header: the other process could change it while we check it.
    connection_header h;
    std::memcpy(&h, base, sizeof h);
    if (h.magic != connection_magic || h.version != connection_layout_version) return make_error_code(ipc_errc::bad_region);
    if (!valid_capacity(h.to_service_words) || !valid_capacity(h.to_client_words)) return make_error_code(ipc_errc::bad_region);
    auto fits = [size](std::uint64_t offset, std::uint32_t words) {
        return offset % 64 == 0 && offset <= size && ring_bytes(words) <= size - offset;
    };
    if (!fits(h.to_service_offset, h.to_service_words) || !fits(h.to_client_offset, h.to_client_words))
        return make_error_code(ipc_errc::bad_region);
    const std::size_t header_bytes = align64(sizeof(ring_header));
    auto* ts = reinterpret_cast<ring_header*>(base + h.to_service_offset);
    auto* tc = reinterpret_cast<ring_header*>(base + h.to_client_offset);
    if (ts->magic != ring_magic || ts->capacity_words != h.to_service_words || tc->magic != ring_magic ||
        tc->capacity_words != h.to_client_words)
        return make_error_code(ipc_errc::bad_region);
    out.to_service = ts;
    out.to_service_data = reinterpret_cast<std::uint32_t*>(base + h.to_service_offset + header_bytes);
    out.to_service_words = h.to_service_words;
    out.to_client = tc;
    out.to_client_data = reinterpret_cast<std::uint32_t*>(base + h.to_client_offset + header_bytes);
    out.to_client_words = h.to_client_words;
    return {};
}

}  // namespace umpd::ipc
