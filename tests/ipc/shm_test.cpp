#include "umpd/ipc/shm.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>

#include "umpd/core/messages.hpp"
#include "umpd/ipc/control.hpp"

namespace umpd::ipc {
namespace {

TEST(Shm, AConnectionRegionMappedTwiceSharesItsRings) {
    shm_region created;
    ASSERT_FALSE(shm_region::create("umpd-test", connection_bytes(256, 1024), created));
    init_connection(created, 256, 1024);

    // The other side maps the same memfd from a duplicated descriptor, as it would
    // after receiving it over the control socket.
    shm_region mapped;
    ASSERT_FALSE(shm_region::map(unique_fd(::dup(created.fd())), connection_bytes(256, 1024), mapped));
    connection_rings a, b;
    ASSERT_FALSE(attach_connection(created, a));
    ASSERT_FALSE(attach_connection(mapped, b));
    EXPECT_EQ(b.to_service_words, 256u);
    EXPECT_EQ(b.to_client_words, 1024u);

    ring_writer client(b.to_service, b.to_service_data, b.to_service_words);
    ring_reader service(a.to_service, a.to_service_data, a.to_service_words);
    ASSERT_EQ(client.write({42, core::make_midi1_note_on(core::group{1}, core::channel{2}, 60, 1)}), write_status::ok);
    (void)client.publish();
    timed_packet out;
    ASSERT_EQ(service.read(out), read_status::ok);
    EXPECT_EQ(out.timestamp_ns, 42u);
    EXPECT_EQ(out.packet, core::make_midi1_note_on(core::group{1}, core::channel{2}, 60, 1));
}

TEST(Shm, ARegionSmallerThanPromisedIsRefused) {
    shm_region created;
    ASSERT_FALSE(shm_region::create("umpd-test", 4096, created));
    shm_region mapped;
    EXPECT_EQ(shm_region::map(unique_fd(::dup(created.fd())), 8192, mapped), make_error_code(ipc_errc::bad_region));
}

TEST(Shm, AnUnsealedMemfdIsRefusedBecauseItCouldShrinkUnderUs) {
    unique_fd fd(::memfd_create("umpd-unsealed", MFD_CLOEXEC));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::ftruncate(fd.get(), 8192), 0);
    shm_region mapped;
    EXPECT_EQ(shm_region::map(std::move(fd), 4096, mapped), make_error_code(ipc_errc::bad_region));
}

TEST(Shm, ALayoutWithBadOffsetsOrSizesIsRefused) {
    const std::size_t bytes = connection_bytes(256, 256);
    shm_region r;
    ASSERT_FALSE(shm_region::create("umpd-test", bytes, r));
    auto* h = static_cast<connection_header*>(r.data());
    connection_rings rings;

    init_connection(r, 256, 256);
    h->magic = 0;
    EXPECT_EQ(attach_connection(r, rings), make_error_code(ipc_errc::bad_region));

    init_connection(r, 256, 256);
    h->to_client_offset = bytes - 64;  // the ring would run past the end
    EXPECT_EQ(attach_connection(r, rings), make_error_code(ipc_errc::bad_region));

    init_connection(r, 256, 256);
    h->to_service_words = 100;  // not a power of two
    EXPECT_EQ(attach_connection(r, rings), make_error_code(ipc_errc::bad_region));

    init_connection(r, 256, 256);
    h->to_service_offset += 4;  // misaligned
    EXPECT_EQ(attach_connection(r, rings), make_error_code(ipc_errc::bad_region));

    init_connection(r, 256, 256);
    EXPECT_FALSE(attach_connection(r, rings));
}

}  // namespace
}  // namespace umpd::ipc
