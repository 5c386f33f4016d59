// The registry and the configuration-change protocol, with a real router: events in
// order, I/O stopped and restarted, aborts rolled back, port numbers never reused,
// and messages still flowing through surviving ports.
#include "umpd/service/registry.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "umpd/ipc/fd.hpp"
#include "umpd/ipc/ring.hpp"
#include "umpd/ipc/shm.hpp"
#include "umpd/service/config.hpp"
#include "umpd/service/router.hpp"
#include "umpd/service/virtual_driver.hpp"

namespace umpd::service {
namespace {

using namespace std::chrono_literals;
using ev = registry_event::kind;

// A client connection opened directly on the router (what the server does for `open`).
struct test_connection {
    std::shared_ptr<ipc::shm_region> region = std::make_shared<ipc::shm_region>();
    std::shared_ptr<ipc::wake> service_wake = std::make_shared<ipc::wake>();
    std::shared_ptr<ipc::wake> client_wake = std::make_shared<ipc::wake>();
    ipc::ring_writer out;
    ipc::ring_reader in;

    void open(router& r, connection_handle h, endpoint_handle e) {
        ASSERT_FALSE(ipc::shm_region::create("test", ipc::connection_bytes(256, 256), *region));
        ipc::init_connection(*region, 256, 256);
        ASSERT_FALSE(ipc::wake::create(*service_wake));
        ASSERT_FALSE(ipc::wake::create(*client_wake));
        ipc::connection_rings rings;
        ASSERT_FALSE(ipc::attach_connection(*region, rings));
        out = ipc::ring_writer(rings.to_service, rings.to_service_data, rings.to_service_words);
        in = ipc::ring_reader(rings.to_client, rings.to_client_data, rings.to_client_words);
        ASSERT_FALSE(r.add_connection({h, e, region, service_wake, client_wake, false}));
    }
    void send(std::uint32_t word) {
        const std::uint32_t w[1] = {word};
        ASSERT_EQ(out.write(0, w), ipc::write_status::ok);
        if (out.publish()) service_wake->signal();
    }
    // The next word within `limit` (a generous bound against hangs, not a timing check).
    std::optional<std::uint32_t> receive(std::chrono::milliseconds limit = 5000ms) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            std::uint64_t ts = 0;
            std::uint32_t words[4] = {};
            unsigned n = 0;
            if (in.read_raw(ts, words, n) == ipc::read_status::ok) {
                in.release();
                return words[0];
            }
            if (std::chrono::steady_clock::now() > end) return std::nullopt;
            std::this_thread::sleep_for(1ms);
        }
    }
};

std::uint32_t note_on(std::uint32_t note) { return 0x20900064u | ((note & 0x7F) << 8); }

struct registry_change : ::testing::Test {
    router data{router_limits{}};
    registry reg{&data, registry_limits{4, 4096, 64}};
    std::vector<registry_event> events;

    void SetUp() override {
        ASSERT_FALSE(data.start());
        reg.set_event_sink([this](const registry_event& e) { events.push_back(e); });
    }
    void TearDown() override { data.stop(); }

    device_handle add_default() {
        device_handle h = 0;
        device_spec spec;
        spec.name = "umpd Virtual Device";
        spec.ports = {{"Port 1", ump_protocol::midi2, 0}};
        EXPECT_FALSE(reg.add_device(spec, &h));
        events.clear();
        return h;
    }
    std::vector<ev> kinds() const {
        std::vector<ev> out;
        for (const auto& e : events) out.push_back(e.what);
        return out;
    }
};

TEST(registry_slug, follows_the_protocol_rule) {
    EXPECT_EQ(registry::slug("umpd Virtual Device"), "umpd-virtual-device");
    EXPECT_EQ(registry::slug("  Hello, World!! 2 "), "hello-world-2");
    EXPECT_EQ(registry::slug("ÄÖ"), "device");
}

TEST_F(registry_change, default_config_publishes_the_seed_device) {
    virtual_driver v(reg);
    ASSERT_FALSE(v.publish(default_config()));
    ASSERT_EQ(reg.devices().size(), 1u);
    const device& d = reg.devices()[0];
    EXPECT_EQ(d.id, "virtual/umpd-virtual-device");
    EXPECT_EQ(d.manufacturer, "umpd");
    EXPECT_EQ(d.model, "Virtual Device");
    ASSERT_EQ(d.endpoints.size(), 1u);
    EXPECT_EQ(d.endpoints[0].id, "virtual/umpd-virtual-device/1");
    EXPECT_EQ(d.endpoints[0].name, "Port 1");
    EXPECT_EQ(d.endpoints[0].protocol, ump_protocol::midi2);
    EXPECT_EQ(d.endpoints[0].behaviour, endpoint_behaviour::loopback);

    test_connection c;
    c.open(data, 1, d.endpoints[0].handle);
    c.send(note_on(60));
    EXPECT_EQ(c.receive(), note_on(60));  // destination looped to source
}

TEST_F(registry_change, second_device_with_the_same_slug_gets_a_suffix) {
    add_default();
    device_spec spec;
    spec.name = "UMPD virtual device";
    device_handle h = 0;
    ASSERT_FALSE(reg.add_device(spec, &h));
    EXPECT_EQ(reg.device_by_handle(h)->id, "virtual/umpd-virtual-device-2");
}

TEST_F(registry_change, add_port_on_a_running_device_goes_through_request_perform) {
    const device_handle d = add_default();
    endpoint_handle e = 0;
    ASSERT_FALSE(reg.add_port(d, {"", ump_protocol::midi1, 0}, &e));
    EXPECT_EQ(kinds(), (std::vector<ev>{ev::change_requested, ev::change_performed, ev::endpoint_added,
                                        ev::device_changed}));
    const endpoint* ep = reg.endpoint_by_handle(e);
    ASSERT_NE(ep, nullptr);
    EXPECT_EQ(ep->id, "virtual/umpd-virtual-device/2");
    EXPECT_EQ(ep->name, "Port 2");
    EXPECT_EQ(ep->protocol, ump_protocol::midi1);

    test_connection c;  // the new port works
    c.open(data, 1, e);
    c.send(note_on(1));
    EXPECT_EQ(c.receive(), note_on(1));
}

TEST_F(registry_change, port_numbers_are_not_reused) {
    const device_handle d = add_default();
    endpoint_handle p2 = 0, p3 = 0, p4 = 0;
    ASSERT_FALSE(reg.add_port(d, {}, &p2));
    ASSERT_FALSE(reg.add_port(d, {}, &p3));
    ASSERT_FALSE(reg.remove_port(p2));
    EXPECT_EQ(reg.endpoint_by_handle(p2), nullptr);
    EXPECT_EQ(reg.endpoint_by_handle(p3)->id, "virtual/umpd-virtual-device/3");  // not renumbered
    ASSERT_FALSE(reg.add_port(d, {}, &p4));
    EXPECT_EQ(reg.endpoint_by_handle(p4)->id, "virtual/umpd-virtual-device/4");
}

TEST_F(registry_change, a_change_on_an_offline_device_is_performed_at_once) {
    const device_handle d = add_default();
    ASSERT_FALSE(reg.set_offline(d, true));
    EXPECT_EQ(kinds(), (std::vector<ev>{ev::device_changed, ev::endpoint_changed}));
    events.clear();
    ASSERT_FALSE(reg.add_port(d, {}));
    EXPECT_EQ(kinds(), (std::vector<ev>{ev::change_performed, ev::endpoint_added, ev::device_changed}));
}

TEST_F(registry_change, a_failed_change_is_aborted_rolled_back_and_io_restarts) {
    const device_handle d = add_default();
    test_connection c;
    c.open(data, 1, reg.device_by_handle(d)->endpoints[0].handle);
    for (int i = 0; i < 3; ++i) ASSERT_FALSE(reg.add_port(d, {}));  // limit is 4 ports
    events.clear();
    const auto ec = reg.add_port(d, {});
    EXPECT_EQ(ec, make_error_code(service_errc::limit));
    EXPECT_EQ(kinds(), (std::vector<ev>{ev::change_requested, ev::change_aborted}));
    EXPECT_EQ(reg.device_by_handle(d)->endpoints.size(), 4u);
    EXPECT_EQ(reg.device_by_handle(d)->next_port, 5u);
    c.send(note_on(7));
    EXPECT_EQ(c.receive(), note_on(7));  // I/O restarted after the abort

    // A perform step that fails after editing is rolled back too.
    events.clear();
    const auto ec2 = reg.change_device(d, [](device& dev) {
        dev.name = "changed";
        dev.endpoints.clear();
        return make_error_code(service_errc::internal);
    });
    EXPECT_TRUE(ec2);
    EXPECT_EQ(reg.device_by_handle(d)->name, "umpd Virtual Device");
    EXPECT_EQ(reg.device_by_handle(d)->endpoints.size(), 4u);
    EXPECT_EQ(kinds(), (std::vector<ev>{ev::change_requested, ev::change_aborted}));
}

TEST_F(registry_change, offline_stops_io_and_online_delivers_what_waited) {
    const device_handle d = add_default();
    test_connection c;
    c.open(data, 1, reg.device_by_handle(d)->endpoints[0].handle);
    ASSERT_FALSE(reg.set_offline(d, true));
    c.send(note_on(9));
    EXPECT_EQ(c.receive(200ms), std::nullopt);  // held in the ring while offline
    ASSERT_FALSE(reg.set_offline(d, false));
    EXPECT_EQ(c.receive(), note_on(9));
}

TEST_F(registry_change, surviving_ports_lose_nothing_while_others_come_and_go) {
    const device_handle d = add_default();
    test_connection c;
    c.open(data, 1, reg.device_by_handle(d)->endpoints[0].handle);
    std::uint32_t sent = 0, received = 0;
    for (int round = 0; round < 50; ++round) {
        endpoint_handle e = 0;
        c.send(note_on(sent++));
        ASSERT_FALSE(reg.add_port(d, {}, &e));
        c.send(note_on(sent++));
        ASSERT_FALSE(reg.remove_port(e));
        while (received < sent) {
            auto w = c.receive();
            ASSERT_TRUE(w);
            ASSERT_EQ(*w, note_on(received++)) << "lost, reordered or duplicated";
        }
    }
    EXPECT_EQ(c.receive(50ms), std::nullopt);  // nothing duplicated at the end
}

TEST_F(registry_change, rename_keeps_ids_and_lookups_accept_names) {
    const device_handle d = add_default();
    const endpoint_handle e = reg.device_by_handle(d)->endpoints[0].handle;
    ASSERT_FALSE(reg.rename_port(e, "Synth In"));
    ASSERT_FALSE(reg.rename_device(d, "My Device"));
    const endpoint* ep = nullptr;
    ASSERT_FALSE(reg.find_endpoint("Synth In", ep));
    EXPECT_EQ(ep->id, "virtual/umpd-virtual-device/1");
    const device* dev = nullptr;
    ASSERT_FALSE(reg.find_device("My Device", dev));
    EXPECT_EQ(dev->id, "virtual/umpd-virtual-device");
    ASSERT_FALSE(reg.add_port(d, {"Synth In", ump_protocol::midi2, 0}));
    EXPECT_EQ(reg.find_endpoint("Synth In", ep), make_error_code(service_errc::invalid_argument));  // ambiguous
    EXPECT_EQ(reg.find_endpoint("virtual/nope/1", ep), make_error_code(service_errc::not_found));
}

TEST_F(registry_change, loopbacks_midi1_pair_and_diagnostics) {
    virtual_driver v(reg);
    device_handle midi1 = 0, pair = 0, diag = 0;
    ASSERT_FALSE(v.create_loopback({device_kind::loopback_midi1, "loopMIDI Port", ""}, &midi1));
    ASSERT_FALSE(v.create_loopback({device_kind::loopback_pair, "A", "B"}, &pair));
    ASSERT_FALSE(v.create_loopback({device_kind::loopback_diagnostics, "Diag", ""}, &diag));
    EXPECT_EQ(v.create_loopback({device_kind::loopback_midi1, "A", ""}), make_error_code(service_errc::already_exists));

    const device& m = *reg.device_by_handle(midi1);
    ASSERT_EQ(m.endpoints.size(), 1u);
    EXPECT_EQ(m.endpoints[0].name, "loopMIDI Port");
    EXPECT_EQ(m.endpoints[0].protocol, ump_protocol::midi1);
    EXPECT_EQ(reg.add_port(midi1, {}), make_error_code(service_errc::invalid_argument));

    const device& p = *reg.device_by_handle(pair);
    ASSERT_EQ(p.endpoints.size(), 2u);
    test_connection a, b;
    a.open(data, 1, p.endpoints[0].handle);
    b.open(data, 2, p.endpoints[1].handle);
    a.send(note_on(10));
    EXPECT_EQ(b.receive(), note_on(10));  // A ⇄ B
    b.send(note_on(11));
    EXPECT_EQ(a.receive(), note_on(11));
    EXPECT_EQ(a.receive(50ms), std::nullopt);  // nothing looped back to the sender

    EXPECT_EQ(reg.device_by_handle(diag)->endpoints[0].behaviour, endpoint_behaviour::diagnostics);
    ASSERT_FALSE(v.remove_loopback(pair));
    EXPECT_EQ(reg.device_by_handle(pair), nullptr);
    EXPECT_EQ(v.snapshot({}).loopbacks.size(), 2u);
}

TEST_F(registry_change, apply_changes_only_the_differences) {
    virtual_driver v(reg);
    config c = default_config();
    c.devices.push_back({"Second", "umpd", "Virtual Device", false, {{"X", ump_protocol::midi2, 0}}});
    ASSERT_FALSE(v.publish(c));
    const endpoint* p1 = nullptr;
    ASSERT_FALSE(reg.find_endpoint("virtual/umpd-virtual-device/1", p1));
    const endpoint_handle kept = p1->handle;

    config next = default_config();
    next.devices[0].ports.push_back({"Three", ump_protocol::midi1, 3});
    next.devices[0].offline = true;
    next.loopbacks.push_back({device_kind::loopback_pair, "L", "R"});
    events.clear();
    ASSERT_FALSE(v.apply(next));
    const device* d = nullptr;
    ASSERT_FALSE(reg.find_device("umpd Virtual Device", d));
    ASSERT_EQ(d->endpoints.size(), 2u);
    EXPECT_EQ(d->endpoints[0].handle, kept);  // survived: same endpoint, same connections
    EXPECT_EQ(d->endpoints[1].id, "virtual/umpd-virtual-device/3");
    EXPECT_TRUE(d->offline);
    EXPECT_EQ(reg.find_device("Second", d), make_error_code(service_errc::not_found));
    EXPECT_EQ(v.snapshot(next.limits), next);  // published state == the file (after numbering)
}

}  // namespace
}  // namespace umpd::service
