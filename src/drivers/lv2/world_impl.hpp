// Internals of lv2::world shared by the files of src/drivers/lv2 (not a public header).
#pragma once

#include <lilv/lilv.h>
#include <lv2/urid/urid.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "umpd/lv2/discovery.hpp"
#include "umpd/lv2/world.hpp"

namespace umpd::lv2 {

// URI <-> URID, shared by every instance of a world. Synchronised with a mutex: LV2
// plugins map in instantiate() and restore, which are non-real-time; run() never maps.
class urid_map {
public:
    urid_map();
    urid_map(const urid_map&) = delete;
    urid_map& operator=(const urid_map&) = delete;

    LV2_URID map(std::string_view uri);
    const char* unmap(LV2_URID id);

    LV2_URID_Map* map_feature() noexcept { return &map_; }
    LV2_URID_Unmap* unmap_feature() noexcept { return &unmap_; }

private:
    std::mutex mutex_;
    std::unordered_map<std::string, LV2_URID> ids_;
    std::deque<std::string> uris_;  // deque: unmap() hands out stable c_str() pointers
    LV2_URID_Map map_{};
    LV2_URID_Unmap unmap_{};
};

// A LilvNode that frees itself.
struct node {
    LilvNode* n = nullptr;
    node() = default;
    explicit node(LilvNode* p) : n(p) {}
    node(const node&) = delete;
    node& operator=(const node&) = delete;
    node(node&& o) noexcept : n(o.n) { o.n = nullptr; }
    node& operator=(node&& o) noexcept {
        std::swap(n, o.n);
        return *this;
    }
    ~node() { lilv_node_free(n); }
    [[nodiscard]] const LilvNode* get() const noexcept { return n; }
};

struct world::impl {
    LilvWorld* lilv = nullptr;
    urid_map urids;
    // URIs the host asks lilv about.
    node audio_port, control_port, cv_port, input_port, output_port, atom_port, sequence, supports,
        midi_event, time_position, designation, bpm, default_uri, minimum, maximum, port_property,
        integer, toggled, connection_optional, state_interface, worker_interface, buffer_type;

    explicit impl(const world_options& options);
    ~impl();
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    [[nodiscard]] node uri(const char* u) const { return node{lilv_new_uri(lilv, u)}; }
    [[nodiscard]] const LilvPlugin* find(std::string_view uri) const;
};

// The plugin's ports and properties, as discovery reports them (control thread).
[[nodiscard]] plugin_info describe(const world::impl& w, const LilvPlugin* p);

}  // namespace umpd::lv2
