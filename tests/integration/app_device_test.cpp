// App-owned devices against a real umpd: an application (a forked child process using
// the SDK) publishes a device and serves it; other clients list it, open it, talk to
// it, run UMP discovery (answered by umpd) and see it vanish when the application is
// killed.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>

#include "client_session.hpp"
#include "umpd/client/client.hpp"
#include "umpd/client/umpd.h"
#include "umpd/core/messages.hpp"
#include "umpd/core/reassembly.hpp"

namespace {

namespace uc = umpd::client;
namespace core = umpd::core;
using namespace std::chrono_literals;
using umpd_test::receive_one;
using umpd_test::wait_event;

uc::client connect(const umpd_test::daemon_process& d, const char* name) {
    return umpd_test::connect_client(d, name, /*reconnect=*/false);
}

core::packet tagged(std::uint32_t tag) {
    return core::make_midi2_control_change(core::group{0}, core::channel{0}, 7, tag);
}

// ---- the application, in a child process ----------------------------------------------
//
// It reports on a pipe, one line each: "ready <device id>", "opened <endpoint> <clients>",
// "closed <endpoint> <clients>", "recv <hex word 0> <hex word 1>"; and answers every
// control change it receives on port 1 with the same controller and value + 1000.

void write_line(int fd, const std::string& s) {
    const std::string line = s + "\n";
    [[maybe_unused]] const auto n = ::write(fd, line.data(), line.size());
}

[[noreturn]] void run_application(const std::string& dir, int report) {
    uc::options o;
    o.runtime_dir = dir;
    o.client_name = "app_device_test app";
    o.reconnect = false;
    auto c = uc::client::connect(o);
    if (!c) {
        write_line(report, "error " + c.message());
        ::_exit(1);
    }
    uc::app_device_spec spec;
    spec.name = "Test Synth";
    spec.manufacturer = "umpd tests";
    spec.model = "TS-1";
    uc::app_port_spec p1;
    p1.name = "Test Synth Main Endpoint";  // 24 bytes: two Endpoint Name packets
    p1.endpoint_info = uc::endpoint_info_spec{};
    p1.endpoint_info->midi1 = true;
    p1.product_instance_id = "TS1-42";
    p1.device_identity = uc::device_identity_spec{{0x00, 0x21, 0x09}, 0x0001, 0x0123, {1, 0, 0, 7}};
    p1.function_blocks = {{"Keyboard Section", 1, 2, "output", true, "", "no"},
                          {"Synth", 3, 1, "input", true, "", "unrestricted"}};
    uc::app_port_spec p2;
    p2.name = "Test Synth Aux";
    p2.protocol = "midi1";
    std::shared_ptr<uc::published_device> dev;
    std::mutex mu;  // the receive callback may run before `dev` is set
    p1.io.on_receive = [&](const uc::timed_packet& m) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "recv %08x %08x", m.packet.words[0], m.packet.words[1]);
        write_line(report, buf);
        if (m.packet.type() != core::message_type::midi2_channel_voice) return;
        std::lock_guard l(mu);
        if (dev) (void)dev->port(0).send(tagged(m.packet.words[1] + 1000));
    };
    spec.ports = {p1, p2};
    spec.on_event = [&](const uc::event& e) {
        write_line(report, std::string(e.what == uc::event::kind::endpoint_opened ? "opened " : "closed ") + e.id + " " +
                               std::to_string(e.count));
    };
    auto published = c->publish_device(std::move(spec));
    if (!published) {
        write_line(report, "error " + published.message());
        ::_exit(1);
    }
    {
        std::lock_guard l(mu);
        dev = std::make_shared<uc::published_device>(std::move(*published));
    }
    write_line(report, "ready " + dev->info().id);
    for (;;) ::pause();
}

// The parent's side of the report pipe.
class report_reader {
public:
    explicit report_reader(int fd) : fd_(fd) {}
    ~report_reader() { ::close(fd_); }
    // The next line, waiting generously.
    std::optional<std::string> next(std::chrono::milliseconds limit = 10000ms) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (auto nl = buf_.find('\n'); nl != std::string::npos) {
                std::string line = buf_.substr(0, nl);
                buf_.erase(0, nl + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char b[4096];
            const ssize_t n = ::read(fd_, b, sizeof b);
            if (n <= 0) return std::nullopt;
            buf_.append(b, static_cast<std::size_t>(n));
        }
    }

private:
    int fd_;
    std::string buf_;
};

bool eventually_live(const uc::connection& c) {
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (!c.is_live() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
    return c.is_live();
}

std::string name_of(const std::vector<core::packet>& packets, core::text_kind kind) {
    std::vector<std::uint8_t> storage(256);
    core::text_reassembler r(kind, std::span<std::uint8_t>(storage));
    for (const auto& p : packets) {
        const auto res = r.feed(p);
        if (res.has_message()) return std::string(reinterpret_cast<const char*>(res.bytes.data()), res.bytes.size());
    }
    return "<incomplete>";
}

TEST(app_device, publish_use_discover_and_kill) {
    umpd_test::daemon_process d;
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    // Forked before this process starts any SDK thread.
    const pid_t app = ::fork();
    ASSERT_GE(app, 0);
    if (app == 0) {
        ::close(fds[0]);
        run_application(d.dir(), fds[1]);
    }
    ::close(fds[1]);
    report_reader report(fds[0]);
    struct reaper {
        pid_t pid;
        ~reaper() {
            ::kill(pid, SIGKILL);
            (void)umpd_test::wait_exit(pid);
        }
    } reap{app};

    auto ready = report.next();
    ASSERT_TRUE(ready);
    ASSERT_EQ(ready->rfind("ready ", 0), 0u) << *ready;
    const std::string device_id = ready->substr(6);
    EXPECT_EQ(device_id, "app/test-synth");
    const std::string port1 = device_id + "/1";

    auto b = connect(d, "app_device_test b");
    auto c = connect(d, "app_device_test c");
    ASSERT_TRUE(b.subscribe());

    // Listed like any device, driver "app"; its ports cannot be changed by others.
    auto l = b.list();
    ASSERT_TRUE(l) << l.message();
    const auto* dev = l->find_device(device_id);
    ASSERT_NE(dev, nullptr);
    EXPECT_EQ(dev->driver, "app");
    EXPECT_EQ(dev->manufacturer, "umpd tests");
    ASSERT_EQ(dev->endpoints.size(), 2u);
    const auto* ep2 = l->find_endpoint(device_id + "/2");
    ASSERT_NE(ep2, nullptr);
    EXPECT_EQ(ep2->name, "Test Synth Aux");
    EXPECT_EQ(ep2->protocol, "midi1");
    EXPECT_EQ(ep2->kind, "app");
    EXPECT_EQ(b.add_port(device_id).code(), uc::errc::invalid_argument);
    EXPECT_EQ(b.call("unpublish_device", "{\"device\": \"" + device_id + "\"}").code(), uc::errc::invalid_argument);
    EXPECT_EQ(b.call("open", "{\"endpoint\": \"" + port1 + "\", \"owner\": true}").code(), uc::errc::invalid_argument);

    // Opening tells the application.
    auto bc = b.open(port1);
    ASSERT_TRUE(bc) << bc.message();
    EXPECT_EQ(report.next(), "opened " + port1 + " 1");
    auto cc = c.open(port1);
    ASSERT_TRUE(cc) << cc.message();
    EXPECT_EQ(report.next(), "opened " + port1 + " 2");

    // Clients → the application in order; its answers fan out to both clients in order.
    constexpr std::uint32_t n = 50;
    for (std::uint32_t i = 1; i <= n; ++i) ASSERT_TRUE(bc->send(tagged(i)));
    for (std::uint32_t i = 1; i <= n; ++i) {
        auto line = report.next();
        ASSERT_TRUE(line);
        char expect[64];
        std::snprintf(expect, sizeof expect, "recv %08x %08x", tagged(i).words[0], i);
        ASSERT_EQ(*line, expect);
    }
    for (uc::connection* k : {&*bc, &*cc}) {
        for (std::uint32_t i = 1; i <= n; ++i) {
            auto m = receive_one(*k);
            ASSERT_TRUE(m) << "message " << i;
            ASSERT_EQ(m->packet.words[1], i + 1000);
        }
    }

    // Endpoint Discovery, all of it: answered by umpd from the declaration.
    ASSERT_TRUE(bc->send(core::make_endpoint_discovery(1, 1, 0x1F)));
    std::vector<core::packet> got;
    // info, identity, 2 name packets, 1 product instance id packet, stream configuration
    for (int i = 0; i < 6; ++i) {
        auto m = receive_one(*bc);
        ASSERT_TRUE(m) << "reply " << i;
        got.push_back(m->packet);
    }
    const auto info = core::endpoint_info_view{got[0]}.fields();
    EXPECT_EQ(core::stream_view{got[0]}.status(), core::stream_status::endpoint_info);
    EXPECT_EQ(info.function_block_count, 2);
    EXPECT_TRUE(info.static_function_blocks);
    EXPECT_TRUE(info.midi1_protocol);
    EXPECT_TRUE(info.midi2_protocol);
    EXPECT_EQ(info.ump_version_major, 1);
    EXPECT_EQ(info.ump_version_minor, 1);
    const auto identity = core::device_identity_view{got[1]}.fields();
    EXPECT_EQ(identity.model, 0x0123);
    EXPECT_EQ(identity.manufacturer[1], 0x21);
    EXPECT_EQ(name_of({got[2], got[3]}, core::text_kind::endpoint_name), "Test Synth Main Endpoint");
    EXPECT_EQ(name_of({got[4]}, core::text_kind::product_instance_id), "TS1-42");
    EXPECT_EQ(core::stream_configuration_view{got[5]}.protocol(), core::stream_protocol_midi2);

    // Function Block Discovery of every block, info and name.
    ASSERT_TRUE(bc->send(core::make_function_block_discovery(
        core::all_function_blocks, core::discover_function_block_info | core::discover_function_block_name)));
    got.clear();
    // block 0: info + 2 name packets ("Keyboard Section", 16 bytes); block 1: info + 1
    for (int i = 0; i < 5; ++i) {
        auto m = receive_one(*bc);
        ASSERT_TRUE(m) << "reply " << i;
        got.push_back(m->packet);
    }
    const auto b0 = core::function_block_info_view{got[0]}.fields();
    EXPECT_EQ(b0.block, 0);
    EXPECT_TRUE(b0.active);
    EXPECT_EQ(b0.first_group.index, 0);  // group 1
    EXPECT_EQ(b0.group_count, 2);
    EXPECT_EQ(b0.direction, core::function_block_direction::output);
    EXPECT_EQ(b0.ui_hint, core::function_block_ui_hint::sender);
    EXPECT_EQ(name_of({got[1], got[2]}, core::text_kind::function_block_name), "Keyboard Section");
    const auto b1 = core::function_block_info_view{got[3]}.fields();
    EXPECT_EQ(b1.block, 1);
    EXPECT_EQ(b1.first_group.index, 2);  // group 3
    EXPECT_EQ(b1.direction, core::function_block_direction::input);
    EXPECT_EQ(b1.midi1, core::function_block_midi1::unrestricted);
    EXPECT_EQ(name_of({got[4]}, core::text_kind::function_block_name), "Synth");

    // The application saw no discovery and c no replies: the next thing each sees is
    // the message sent after.
    ASSERT_TRUE(bc->send(tagged(77)));
    char expect[64];
    std::snprintf(expect, sizeof expect, "recv %08x %08x", tagged(77).words[0], 77u);
    EXPECT_EQ(report.next(), expect);
    auto m = receive_one(*cc);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 1077u);
    m = receive_one(*bc);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 1077u);

    // Closing tells the application.
    cc->close();
    EXPECT_EQ(report.next(), "closed " + port1 + " 1");

    // The application dies: the device goes, b is told, b's connection goes quiet, b stays usable.
    ::kill(app, SIGKILL);
    EXPECT_TRUE(wait_event(b, [&](const uc::event& e) {
        return e.what == uc::event::kind::device_removed && e.id == device_id;
    }));
    l = b.list();
    ASSERT_TRUE(l) << l.message();
    EXPECT_EQ(l->find_device(device_id), nullptr);
    EXPECT_EQ(l->find_endpoint(port1), nullptr);
    (void)bc->send(tagged(5));
    EXPECT_FALSE(receive_one(*bc, 300ms));
    auto v = b.open("virtual/umpd-virtual-device/1");
    ASSERT_TRUE(v) << v.message();
    ASSERT_TRUE(v->send(tagged(6)));
    m = receive_one(*v);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 6u);
}

TEST(app_device, unpublish_and_the_c_api) {
    umpd_test::daemon_process d;
    umpd_client* app = nullptr;
    ASSERT_EQ(umpd_connect(d.dir().c_str(), "c app", &app), UMPD_OK) << umpd_last_error();
    const char* names[] = {"C Port One", "C Port Two"};
    umpd_published_device* dev = nullptr;
    ASSERT_EQ(umpd_publish_device(app, "C Device", names, 2, nullptr, nullptr, &dev), UMPD_OK) << umpd_last_error();
    EXPECT_STREQ(umpd_published_device_id(dev), "app/c-device");
    ASSERT_EQ(umpd_published_device_port_count(dev), 2u);
    EXPECT_EQ(umpd_published_device_port(dev, 2), nullptr);

    auto b = connect(d, "c api user");
    auto bc = b.open("C Port Two");
    ASSERT_TRUE(bc) << bc.message();
    // Without declared discovery info, discovery reaches the application.
    ASSERT_TRUE(bc->send(core::make_endpoint_discovery(1, 1, 0x1F)));
    umpd_connection* port2 = umpd_published_device_port(dev, 1);
    ASSERT_EQ(umpd_wait(port2, 5'000'000'000), 1);
    umpd_timed_packet got{};
    ASSERT_EQ(umpd_receive(port2, &got), 1);
    EXPECT_EQ(got.words[0], core::make_endpoint_discovery(1, 1, 0x1F).words[0]);
    const auto reply = tagged(9);
    ASSERT_EQ(umpd_send(port2, reply.words.data(), reply.size(), 0), UMPD_OK) << umpd_last_error();
    auto m = receive_one(*bc);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 9u);

    ASSERT_TRUE(b.subscribe());
    umpd_unpublish_device(dev);
    EXPECT_TRUE(wait_event(b, [](const uc::event& e) {
        return e.what == uc::event::kind::device_removed && e.id == "app/c-device";
    }));
    auto l = b.list();
    ASSERT_TRUE(l);
    EXPECT_EQ(l->find_device("app/c-device"), nullptr);
    umpd_disconnect(app);
}

TEST(app_device, republished_after_a_umpd_restart) {
    umpd_test::daemon_process d;
    uc::options o;
    o.runtime_dir = d.dir();
    o.client_name = "restart app";
    auto app = uc::client::connect(o);
    ASSERT_TRUE(app) << app.message();
    uc::app_device_spec spec;
    spec.name = "Survivor";
    spec.ports.resize(1);
    spec.ports[0].name = "Survivor Port";
    auto dev = app->publish_device(std::move(spec));
    ASSERT_TRUE(dev) << dev.message();

    d.kill_hard();
    d.start();
    auto b = connect(d, "restart user");
    // The application's client reconnects by itself and publishes again.
    std::optional<uc::connection> bc;
    const auto end = std::chrono::steady_clock::now() + 20s;
    while (!bc && std::chrono::steady_clock::now() < end) {
        if (auto r = b.open("app/survivor/1")) bc = std::move(*r);
        else std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(bc) << "the device did not come back";
    ASSERT_TRUE(eventually_live(dev->port(0)));
    ASSERT_TRUE(bc->send(tagged(31)));
    // The port declared nothing: umpd's own discovery requests (UMP stream messages)
    // come first on the owner connection (docs/protocol.md, App-owned devices).
    auto m = receive_one(dev->port(0));
    while (m && m->packet.type() == core::message_type::ump_stream) m = receive_one(dev->port(0));
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 31u);
    ASSERT_TRUE(dev->port(0).send(tagged(32)));
    m = receive_one(*bc);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->packet.words[1], 32u);
}

}  // namespace
