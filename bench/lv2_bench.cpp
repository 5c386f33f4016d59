// The LV2 host's per-block overhead: instance::render() with a pass-through plugin
// (x42 miditranspose, transpose 0) next to calling the same plugin's run() directly in
// a loop, in the same run, at 64-frame blocks with 4 MIDI events per block.
//
//   umpd_lv2_bench [blocks]      prints ns per block for both, and the ratio.
// Target: the host adds no more than 25% (ratio <= 1.25).
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/atom/forge.h>
#include <lv2/midi/midi.h>
#include <lv2/urid/urid.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/lv2/instance.hpp"
#include "umpd/lv2/world.hpp"

namespace {

constexpr const char* plugin_uri = "http://gareus.org/oss/lv2/midifilter#miditranspose";
constexpr std::uint32_t rate = 48000;
constexpr std::uint32_t block = 64;
constexpr std::uint32_t events_per_block = 4;
constexpr std::uint32_t buffer_bytes = 8192;

// A URID map for the direct loop (single-threaded here).
std::map<std::string, LV2_URID> ids;
LV2_URID map_uri(LV2_URID_Map_Handle, const char* uri) {
    auto [it, added] = ids.emplace(uri, static_cast<LV2_URID>(ids.size() + 1));
    return it->second;
}

using clock_type = std::chrono::steady_clock;

double per_block_ns(clock_type::duration d, std::uint64_t blocks) {
    return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) /
           static_cast<double>(blocks);
}

// The baseline: the plugin alone, its input sequence rebuilt each block as any host must.
double direct(std::uint64_t blocks) {
    LilvWorld* world = lilv_world_new();
    lilv_world_load_all(world);
    LilvNode* uri = lilv_new_uri(world, plugin_uri);
    const LilvPlugin* plugin = lilv_plugins_get_by_uri(lilv_world_get_all_plugins(world), uri);
    if (!plugin) {
        std::fprintf(stderr, "%s is not installed\n", plugin_uri);
        std::exit(1);
    }
    LV2_URID_Map map{nullptr, map_uri};
    LV2_Feature map_feature{LV2_URID__map, &map};
    const LV2_Feature* features[] = {&map_feature, nullptr};
    LilvInstance* inst = lilv_plugin_instantiate(plugin, rate, features);
    std::vector<std::uint64_t> in(buffer_bytes / 8), out(buffer_bytes / 8);
    float latency = 0, channel = 0, transpose = 0, inversion = 0;
    lilv_instance_connect_port(inst, 0, in.data());
    lilv_instance_connect_port(inst, 1, out.data());
    lilv_instance_connect_port(inst, 2, &latency);
    lilv_instance_connect_port(inst, 3, &channel);
    lilv_instance_connect_port(inst, 4, &transpose);
    lilv_instance_connect_port(inst, 5, &inversion);
    lilv_instance_activate(inst);
    LV2_Atom_Forge forge;
    lv2_atom_forge_init(&forge, &map);
    const LV2_URID midi_event = map_uri(nullptr, LV2_MIDI__MidiEvent);
    const LV2_URID chunk = map_uri(nullptr, LV2_ATOM__Chunk);
    volatile std::uint32_t sink = 0;
    const auto t0 = clock_type::now();
    for (std::uint64_t b = 0; b < blocks; ++b) {
        lv2_atom_forge_set_buffer(&forge, reinterpret_cast<std::uint8_t*>(in.data()), buffer_bytes);
        LV2_Atom_Forge_Frame frame;
        lv2_atom_forge_sequence_head(&forge, &frame, 0);
        for (std::uint32_t e = 0; e < events_per_block; ++e) {
            const std::uint8_t msg[3] = {0x90, static_cast<std::uint8_t>(60 + e), 100};
            lv2_atom_forge_frame_time(&forge, e * (block / events_per_block));
            lv2_atom_forge_atom(&forge, 3, midi_event);
            lv2_atom_forge_write(&forge, msg, 3);
        }
        lv2_atom_forge_pop(&forge, &frame);
        auto* o = reinterpret_cast<LV2_Atom_Sequence*>(out.data());
        o->atom.size = buffer_bytes - sizeof(LV2_Atom);
        o->atom.type = chunk;
        lilv_instance_run(inst, block);
        sink = sink + o->atom.size;
    }
    const auto t1 = clock_type::now();
    lilv_instance_deactivate(inst);
    lilv_instance_free(inst);
    lilv_node_free(uri);
    lilv_world_free(world);
    return per_block_ns(t1 - t0, blocks);
}

double hosted(std::uint64_t blocks) {
    umpd::lv2::world world;
    umpd::lv2::instance_config cfg;
    cfg.sample_rate = rate;
    cfg.block_size = block;
    cfg.atom_buffer_bytes = buffer_bytes;
    auto made = umpd::lv2::instance::create(world, plugin_uri, cfg);
    if (!made) {
        std::fprintf(stderr, "%s\n", made.error.message.c_str());
        std::exit(1);
    }
    auto& inst = *made.value;
    std::vector<umpd::lv2::timed_packet> in(events_per_block);
    volatile std::size_t sink = 0;
    const auto t0 = clock_type::now();
    for (std::uint64_t b = 0; b < blocks; ++b) {
        const std::uint64_t start = b * block * 1'000'000'000ULL / rate;
        for (std::uint32_t e = 0; e < events_per_block; ++e) {
            in[e] = {start + e * (block / events_per_block) * 1'000'000'000ULL / rate,
                     umpd::core::make_midi1_note_on(umpd::core::group{0}, umpd::core::channel{0},
                                                    static_cast<std::uint8_t>(60 + e), 100)};
        }
        const std::span<const umpd::lv2::timed_packet> inputs[1] = {in};
        if (inst.render(start, block, inputs, nullptr) != umpd::lv2::render_status::ok) std::exit(1);
        sink = sink + inst.output(0).size();
    }
    const auto t1 = clock_type::now();
    if (inst.output(0).size() != events_per_block) {
        std::fprintf(stderr, "unexpected output size %zu\n", inst.output(0).size());
        std::exit(1);
    }
    return per_block_ns(t1 - t0, blocks);
}

}  // namespace

int main(int argc, char** argv) {
    const std::uint64_t blocks = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
    // Alternate and keep the best of five of each, so both see the same machine state.
    double best_direct = 1e300, best_hosted = 1e300;
    for (int round = 0; round < 5; ++round) {
        best_direct = std::min(best_direct, direct(blocks));
        best_hosted = std::min(best_hosted, hosted(blocks));
    }
    std::printf("lv2 host, %u-frame blocks, %u MIDI events per block, %s\n", block, events_per_block, plugin_uri);
    std::printf("  plugin run() alone : %8.1f ns/block\n", best_direct);
    std::printf("  umpd instance      : %8.1f ns/block\n", best_hosted);
    std::printf("  ratio              : %8.3f (target <= 1.25)\n", best_hosted / best_direct);
    return 0;
}
