// The LV2 host against real plugins (x42 midifilter) and the project's fixture plugins.
#include <gtest/gtest.h>

#include <chrono>
#include <span>
#include <thread>

#include "support.hpp"
#include "umpd/lv2/discovery.hpp"
#include "umpd/lv2/instance.hpp"

namespace umpd::lv2 {
namespace {

using namespace test;

class instance_test : public ::testing::Test {
protected:
    static void SetUpTestSuite() { w_ = new world(test_world_options()); }
    static void TearDownTestSuite() {
        delete w_;
        w_ = nullptr;
    }
    static world* w_;

    std::unique_ptr<instance> make(const char* uri, instance_config cfg = {}) {
        auto r = instance::create(*w_, uri, cfg);
        EXPECT_TRUE(r) << r.error.message;
        return std::move(r.value);
    }
};
world* instance_test::w_ = nullptr;

// Renders one block with one input and returns the first output's packets.
std::vector<timed_packet> render_one(instance& inst, std::uint64_t start, std::span<const timed_packet> in,
                                     const block_timeline* tl = nullptr) {
    const std::span<const timed_packet> inputs[1] = {in};
    EXPECT_EQ(inst.render(start, inst.config().block_size, inputs, tl), render_status::ok);
    auto out = inst.output(0);
    return {out.begin(), out.end()};
}

TEST_F(instance_test, discovery_reports_kinds_ports_and_controls_from_real_plugins) {
    const auto plugins = midi_plugins(*w_);
    auto find = [&](std::string_view uri) -> const plugin_info* {
        for (const auto& p : plugins)
            if (p.uri == uri) return &p;
        return nullptr;
    };
    const plugin_info* transpose = find(transpose_uri);
    ASSERT_NE(transpose, nullptr);
    EXPECT_EQ(transpose->kind, plugin_kind::midi_processor);
    ASSERT_EQ(transpose->midi_outputs.size(), 1u);
    EXPECT_EQ(transpose->midi_outputs[0].name, "MIDI Out");
    EXPECT_FALSE(transpose->time_position);
    bool found = false;
    for (const auto& c : transpose->controls) {
        if (c.symbol != "transpose") continue;
        found = true;
        EXPECT_FALSE(c.output);
        EXPECT_EQ(c.default_value, 0.0f);
        EXPECT_EQ(c.minimum, -63.0f);
        EXPECT_EQ(c.maximum, 64.0f);
    }
    EXPECT_TRUE(found);

    const plugin_info* delay = find(delay_uri);
    ASSERT_NE(delay, nullptr);
    EXPECT_TRUE(delay->time_position);
    EXPECT_TRUE(delay->midi_inputs.at(0).time_position);

    // The step sequencer's only input carries time:Position, not MIDI: a generator.
    const plugin_info* seq = find(stepseq_uri);
    ASSERT_NE(seq, nullptr);
    EXPECT_EQ(seq->kind, plugin_kind::midi_generator);
    EXPECT_TRUE(seq->midi_inputs.empty());
    EXPECT_TRUE(seq->time_position);

    const plugin_info* flood = find("urn:umpd:fixture:flood");
    ASSERT_NE(flood, nullptr);
    EXPECT_EQ(flood->kind, plugin_kind::midi_generator);
    EXPECT_EQ(flood->midi_outputs.at(0).name, "Flood");

    // Plugins without MIDI are not listed (x42 fil4 is an audio EQ).
    for (const auto& p : plugins) EXPECT_FALSE(p.midi_inputs.empty() && p.midi_outputs.empty()) << p.uri;

    const std::string json = to_json(std::span<const plugin_info>{transpose, 1});
    EXPECT_NE(json.find("\"uri\":\"http://gareus.org/oss/lv2/midifilter#miditranspose\""), std::string::npos);
    EXPECT_NE(json.find("\"kind\":\"midi-processor\""), std::string::npos);
    EXPECT_NE(json.find("\"midi_outputs\":[\"MIDI Out\"]"), std::string::npos);
    EXPECT_NE(json.find("\"symbol\":\"transpose\""), std::string::npos);
    EXPECT_NE(to_json(*seq).find("\"kind\":\"midi-generator\""), std::string::npos);
}

TEST_F(instance_test, miditranspose_transposes_notes_and_keeps_their_frame) {
    auto inst = make(transpose_uri);
    ASSERT_TRUE(inst);
    ASSERT_FALSE(inst->set_control("transpose", 12.0f));
    const std::uint64_t start = 1'000'000'000;
    const std::uint32_t rate = inst->config().sample_rate;
    const timed_packet in[] = {
        {start + frame_ns(10, rate), note_on(60)},
        {start + frame_ns(20, rate), core::make_midi1_note_off(core::group{0}, core::channel{0}, 60, 0)},
    };
    const auto out = render_one(*inst, start, in);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].packet, note_on(72));
    EXPECT_EQ(out[0].timestamp_ns, start + frame_ns(10, rate));
    EXPECT_EQ(status_of(out[1].packet), 0x80);
    EXPECT_EQ(data1_of(out[1].packet), 72);
    EXPECT_EQ(out[1].timestamp_ns, start + frame_ns(20, rate));
    EXPECT_EQ(inst->control("transpose"), 12.0f);
    EXPECT_EQ(inst->set_control("no-such-port", 1.0f), make_error_code(errc::unknown_port));
}

TEST_F(instance_test, out_of_block_timestamps_are_clamped_and_order_is_kept) {
    auto inst = make(transpose_uri);
    ASSERT_TRUE(inst);
    const std::uint64_t start = 5'000'000'000;
    const std::uint32_t rate = inst->config().sample_rate;
    const timed_packet in[] = {
        {0, note_on(1)},                                   // "now"
        {start - 1'000'000, note_on(2)},                   // late: frame 0
        {start + frame_ns(40, rate), note_on(3)},
        {start + frame_ns(30, rate), note_on(4)},          // earlier than the previous: kept after it
        {start + 1'000'000'000, note_on(5)},               // beyond the block: last frame
    };
    const auto out = render_one(*inst, start, in);
    ASSERT_EQ(out.size(), 5u);
    const std::uint64_t expected[] = {0, 0, 40, 40, 63};
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(data1_of(out[i].packet), i + 1);
        EXPECT_EQ(out[i].timestamp_ns, start + frame_ns(expected[i], rate)) << i;
    }
}

TEST_F(instance_test, a_chain_of_two_filters_transposes_twice_at_the_same_frames) {
    auto a = make(transpose_uri);
    auto b = make(transpose_uri);
    ASSERT_TRUE(a && b);
    ASSERT_FALSE(a->set_control("transpose", 5.0f));
    ASSERT_FALSE(b->set_control("transpose", -12.0f));
    const std::uint32_t rate = 48000;
    std::uint64_t start = 0;
    std::vector<timed_packet> final_out;
    for (std::uint64_t block = 0; block < 4; ++block) {
        start = frame_ns(block * 64, rate);
        std::vector<timed_packet> in;
        if (block == 1) in.push_back({start + frame_ns(33, rate), note_on(64)});
        if (block == 2) in.push_back({start + frame_ns(63, rate), note_on(70)});
        const auto mid = render_one(*a, start, in);
        const auto out = render_one(*b, start, mid);
        final_out.insert(final_out.end(), out.begin(), out.end());
    }
    ASSERT_EQ(final_out.size(), 2u);
    EXPECT_EQ(final_out[0].packet, note_on(57));
    EXPECT_EQ(final_out[0].timestamp_ns, frame_ns(64, rate) + frame_ns(33, rate));
    EXPECT_EQ(final_out[1].packet, note_on(63));
    EXPECT_EQ(final_out[1].timestamp_ns, frame_ns(128, rate) + frame_ns(63, rate));
}

TEST_F(instance_test, midi2_input_is_translated_and_midi2_output_is_offered) {
    instance_config cfg;
    cfg.output_midi2 = true;
    cfg.output_group = core::group{3};
    auto inst = make(transpose_uri, cfg);
    ASSERT_TRUE(inst);
    ASSERT_FALSE(inst->set_control("transpose", 1.0f));
    const timed_packet in[] = {{0, core::make_midi2_note_on(core::group{0}, core::channel{2}, 60, 0xFFFF)}};
    const auto out = render_one(*inst, 1000, in);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].packet, core::make_midi2_note_on(core::group{3}, core::channel{2}, 61, 0xFFFF));
}

TEST_F(instance_test, sysex_reaches_the_plugin_whole_and_comes_back_as_ump) {
    auto inst = make("urn:umpd:fixture:passthrough");
    ASSERT_TRUE(inst);
    const std::uint8_t a[] = {0x7E, 0x7F, 0x06, 0x01, 0x10, 0x11};
    const std::uint8_t b[] = {0x12, 0x13};
    const timed_packet in[] = {{0, core::make_sysex7(core::group{0}, core::packet_format::start, a)}};
    const timed_packet in2[] = {{0, core::make_sysex7(core::group{0}, core::packet_format::end, b)}};
    auto out = render_one(*inst, 1000, in);
    EXPECT_TRUE(out.empty());  // the SysEx is not complete yet
    out = render_one(*inst, 2000, in2);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].packet, core::make_sysex7(core::group{0}, core::packet_format::start, a));
    EXPECT_EQ(out[1].packet, core::make_sysex7(core::group{0}, core::packet_format::end, b));
}

TEST_F(instance_test, channel_voice_of_every_length_passes_through_in_order_around_a_sysex) {
    auto inst = make("urn:umpd:fixture:passthrough");
    ASSERT_TRUE(inst);
    const std::uint64_t start = 3'000'000'000;
    const std::uint32_t rate = inst->config().sample_rate;
    const std::uint8_t sx[] = {0x7D, 0x01, 0x02};
    const core::packet expected[] = {
        core::make_midi1_program_change(core::group{0}, core::channel{3}, 5),
        core::make_midi1_channel_pressure(core::group{0}, core::channel{1}, 99),
        core::make_sysex7(core::group{0}, core::packet_format::complete, sx),
        note_on(64, 1),
        core::make_midi1_note_off(core::group{0}, core::channel{15}, 127, 127),
    };
    const timed_packet in[] = {
        {start + frame_ns(1, rate), expected[0]}, {start + frame_ns(2, rate), expected[1]},
        {start + frame_ns(3, rate), expected[2]}, {start + frame_ns(4, rate), expected[3]},
        {start + frame_ns(63, rate), expected[4]},
    };
    const auto out = render_one(*inst, start, in);
    ASSERT_EQ(out.size(), 5u);
    const std::uint64_t frames[] = {1, 2, 3, 4, 63};
    for (std::size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(out[i].packet, expected[i]) << i;
        EXPECT_EQ(out[i].timestamp_ns, start + frame_ns(frames[i], rate)) << i;
    }
    EXPECT_EQ(inst->counters().input_dropped, 0u);
}

TEST_F(instance_test, input_events_beyond_the_buffer_are_dropped_whole_and_counted) {
    instance_config cfg;
    cfg.atom_buffer_bytes = 64;  // 16 header bytes, then 24 bytes per event of up to 3 bytes: 2 events
    auto inst = make("urn:umpd:fixture:passthrough", cfg);
    ASSERT_TRUE(inst);
    const timed_packet in[] = {
        {0, note_on(1)},
        {0, core::make_midi1_program_change(core::group{0}, core::channel{0}, 2)},
        {0, note_on(3)},
        {0, core::make_midi1_channel_pressure(core::group{0}, core::channel{0}, 4)},
    };
    for (int block = 1; block <= 2; ++block) {
        const auto out = render_one(*inst, 1000u * static_cast<unsigned>(block), in);
        ASSERT_EQ(out.size(), 2u);
        EXPECT_EQ(out[0].packet, note_on(1));
        EXPECT_EQ(out[1].packet, core::make_midi1_program_change(core::group{0}, core::channel{0}, 2));
        EXPECT_EQ(inst->counters().input_dropped, 2u * static_cast<unsigned>(block));
    }
}

TEST_F(instance_test, refusals_are_precise_errors_and_disturb_nothing) {
    auto running = make(transpose_uri);
    ASSERT_TRUE(running);
    ASSERT_FALSE(running->set_control("transpose", 2.0f));

    auto r = instance::create(*w_, "urn:umpd:fixture:refuse", {});
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error.code, make_error_code(errc::instantiate_failed));
    EXPECT_NE(r.error.message.find("urn:umpd:fixture:refuse"), std::string::npos) << r.error.message;

    r = instance::create(*w_, "urn:umpd:fixture:needs-unknown", {});
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error.code, make_error_code(errc::unsupported_feature));
    EXPECT_NE(r.error.message.find("urn:umpd:fixture:needs-unknown"), std::string::npos);
    EXPECT_NE(r.error.message.find("urn:umpd:fixture:no-such-feature"), std::string::npos) << r.error.message;

    r = instance::create(*w_, "urn:umpd:fixture:missing-binary", {});
    EXPECT_FALSE(r);
    EXPECT_EQ(r.error.code, make_error_code(errc::bad_bundle));
    EXPECT_NE(r.error.message.find("no_such_binary.so"), std::string::npos) << r.error.message;

    r = instance::create(*w_, "urn:umpd:no-such-plugin", {});
    EXPECT_EQ(r.error.code, make_error_code(errc::plugin_not_found));

    instance_config bad;
    bad.block_size = 0;
    r = instance::create(*w_, transpose_uri, bad);
    EXPECT_EQ(r.error.code, make_error_code(errc::invalid_config));

    // The instance that was running still works.
    const timed_packet in[] = {{0, note_on(60)}};
    const auto out = render_one(*running, 0, in);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].packet, note_on(62));
}

TEST_F(instance_test, an_overflowing_output_buffer_is_counted_never_overrun) {
    instance_config cfg;
    cfg.atom_buffer_bytes = 1024;  // 8 + 8 header bytes, then 24 bytes per 3-byte event: 42 events
    auto inst = make("urn:umpd:fixture:flood", cfg);
    ASSERT_TRUE(inst);
    ASSERT_EQ(inst->render(0, 64, {}, nullptr), render_status::ok);
    const auto out = inst->output(0);
    EXPECT_EQ(out.size(), 42u);
    EXPECT_EQ(inst->control("written"), 42.0f);
    for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(data1_of(out[i].packet), i);  // in order, none lost in between
    for (std::size_t i = 1; i < out.size(); ++i) EXPECT_GE(out[i].timestamp_ns, out[i - 1].timestamp_ns);
    EXPECT_EQ(inst->counters().output_buffer_full, 1u);
    EXPECT_EQ(inst->counters().output_dropped, 0u);

    // Fewer events than fit: nothing counted.
    ASSERT_FALSE(inst->set_control("count", 10.0f));
    ASSERT_EQ(inst->render(0, 64, {}, nullptr), render_status::ok);
    EXPECT_EQ(inst->output(0).size(), 10u);
    EXPECT_EQ(inst->counters().output_buffer_full, 1u);

    // The host's own UMP list is bounded too.
    instance_config small = cfg;
    small.max_output_events = 16;
    auto inst2 = make("urn:umpd:fixture:flood", small);
    ASSERT_TRUE(inst2);
    ASSERT_EQ(inst2->render(0, 64, {}, nullptr), render_status::ok);
    EXPECT_EQ(inst2->output(0).size(), 16u);
    EXPECT_EQ(inst2->counters().output_dropped, 42u - 16u);
    EXPECT_EQ(inst2->render(0, 65, {}, nullptr), render_status::bad_frames);
}

TEST_F(instance_test, the_worker_runs_scheduled_work_off_the_render_thread) {
    auto inst = make("urn:umpd:fixture:passthrough");
    ASSERT_TRUE(inst);
    const timed_packet cc[] = {{0, core::make_midi1_control_change(core::group{0}, core::channel{0}, 119, 1)}};
    auto out = render_one(*inst, 0, cc);
    ASSERT_EQ(out.size(), 1u);  // the CC itself, passed through
    bool seen = false;
    for (int i = 0; i < 2000 && !seen; ++i) {  // generous: the worker thread answers asynchronously
        out = render_one(*inst, 0, {});
        for (const auto& p : out) seen = seen || p.packet == note_on(0x77, 1);
        if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_TRUE(seen);
    EXPECT_EQ(inst->counters().worker_dropped, 0u);
}

TEST_F(instance_test, state_saves_and_restores_control_values) {
    auto a = make(transpose_uri);
    ASSERT_TRUE(a);
    ASSERT_FALSE(a->set_control("transpose", 7.0f));
    error err;
    const std::string state = a->save_state(&err);
    ASSERT_FALSE(err) << err.message;
    EXPECT_NE(state.find("transpose"), std::string::npos) << state;

    auto b = make(transpose_uri);
    ASSERT_TRUE(b);
    const error restored = b->restore_state(state);
    ASSERT_FALSE(restored) << restored.message;
    EXPECT_EQ(b->control("transpose"), 7.0f);
    const timed_packet in[] = {{0, note_on(60)}};
    const auto out = render_one(*b, 0, in);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].packet, note_on(67));

    EXPECT_EQ(b->restore_state("this is not turtle").code, make_error_code(errc::state_failed));
}

}  // namespace
}  // namespace umpd::lv2
