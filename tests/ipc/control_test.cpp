#include "umpd/ipc/control.hpp"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "umpd/ipc/fd.hpp"

namespace umpd::ipc {
namespace {

struct socket_pair {
    socket_pair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
    unique_fd a, b;
};

TEST(Control, OneMessageArrivesWholeWithItsFileDescriptors) {
    socket_pair s;
    wake w;
    ASSERT_FALSE(wake::create(w));
    const int fds[] = {w.fd()};
    ASSERT_FALSE(send_message(s.a.get(), R"({"v":1,"id":1,"op":"hello"})", fds, 1));
    std::string text;
    std::vector<unique_fd> received;
    ASSERT_FALSE(receive_message(s.b.get(), text, received));
    EXPECT_EQ(text, R"({"v":1,"id":1,"op":"hello"})");
    ASSERT_EQ(received.size(), 1u);
    // The received descriptor is the same eventfd: a signal through it wakes ours.
    wake theirs(std::move(received[0]));
    theirs.signal();
    EXPECT_TRUE(w.wait(std::chrono::seconds(1)));
}

TEST(Control, ATooLargeMessageIsRefusedAndTheSocketStaysUsable) {
    socket_pair s;
    EXPECT_EQ(send_message(s.a.get(), std::string(max_control_message + 1, 'x')),
              make_error_code(ipc_errc::message_too_large));
    // A peer that bypasses send_message: the receiver refuses, then reads the next one.
    const std::string big(max_control_message + 100, 'y');
    ASSERT_EQ(::send(s.a.get(), big.data(), big.size(), 0), static_cast<ssize_t>(big.size()));
    ASSERT_FALSE(send_message(s.a.get(), "{}"));
    std::string text;
    std::vector<unique_fd> fds;
    EXPECT_EQ(receive_message(s.b.get(), text, fds), make_error_code(ipc_errc::message_too_large));
    ASSERT_FALSE(receive_message(s.b.get(), text, fds));
    EXPECT_EQ(text, "{}");
}

TEST(Control, ThePeerClosingIsReportedAsSuch) {
    socket_pair s;
    s.a.reset();
    std::string text;
    std::vector<unique_fd> fds;
    EXPECT_EQ(receive_message(s.b.get(), text, fds), make_error_code(ipc_errc::peer_closed));
    EXPECT_EQ(send_message(s.b.get(), "{}"), make_error_code(ipc_errc::peer_closed));
}

TEST(Control, ConnectingWhereNoUmpdRunsSaysSo) {
    char dir[] = "/tmp/umpd-test-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    unique_fd fd;
    EXPECT_EQ(connect_control(dir, fd), make_error_code(ipc_errc::not_running));
    ::rmdir(dir);
}

TEST(Control, RuntimeDirFollowsXdgAndFallsBackPerUser) {
    const char* old = std::getenv("XDG_RUNTIME_DIR");
    const std::string saved = old ? old : "";
    ::setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
    EXPECT_EQ(default_runtime_dir(), "/run/user/1234/umpd");
    ::unsetenv("XDG_RUNTIME_DIR");
    EXPECT_EQ(default_runtime_dir(), "/tmp/umpd-" + std::to_string(::getuid()));
    if (old) ::setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
    EXPECT_EQ(control_socket_path("/x/umpd"), "/x/umpd/control");
}

TEST(Control, ErrorsReadAsSentences) {
    EXPECT_EQ(make_error_code(ipc_errc::not_running).message(), "umpd is not running");
    EXPECT_STREQ(ipc_category().name(), "umpd.ipc");
}

}  // namespace
}  // namespace umpd::ipc
