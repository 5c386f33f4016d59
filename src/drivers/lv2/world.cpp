#include <lv2/atom/atom.h>
#include <lv2/core/lv2.h>
#include <lv2/midi/midi.h>
#include <lv2/port-props/port-props.h>
#include <lv2/state/state.h>
#include <lv2/time/time.h>
#include <lv2/worker/worker.h>

#include <cstdlib>
#include <string>

#include "world_impl.hpp"

namespace umpd::lv2 {

urid_map::urid_map() {
    map_.handle = this;
    map_.map = [](LV2_URID_Map_Handle h, const char* uri) -> LV2_URID {
        return static_cast<urid_map*>(h)->map(uri ? std::string_view{uri} : std::string_view{});
    };
    unmap_.handle = this;
    unmap_.unmap = [](LV2_URID_Unmap_Handle h, LV2_URID id) -> const char* {
        return static_cast<urid_map*>(h)->unmap(id);
    };
}

LV2_URID urid_map::map(std::string_view uri) {
    std::lock_guard lock(mutex_);
    std::string key{uri};
    if (auto it = ids_.find(key); it != ids_.end()) return it->second;
    uris_.push_back(key);
    const auto id = static_cast<LV2_URID>(uris_.size());  // URIDs start at 1; 0 means "none"
    ids_.emplace(std::move(key), id);
    return id;
}

const char* urid_map::unmap(LV2_URID id) {
    std::lock_guard lock(mutex_);
    if (id == 0 || id > uris_.size()) return nullptr;
    return uris_[id - 1].c_str();
}

world::impl::impl(const world_options& options) : lilv(lilv_world_new()) {
    if (options.load_installed) lilv_world_load_all(lilv);
    for (const auto& dir : options.bundles) {
        std::string path = dir;
        if (path.empty() || path.back() != '/') path += '/';  // lilv wants a directory URI
        LilvNode* b = lilv_new_file_uri(lilv, nullptr, path.c_str());
        lilv_world_load_bundle(lilv, b);
        lilv_node_free(b);
    }
    audio_port = uri(LV2_CORE__AudioPort);
    control_port = uri(LV2_CORE__ControlPort);
    cv_port = uri(LV2_CORE__CVPort);
    input_port = uri(LV2_CORE__InputPort);
    output_port = uri(LV2_CORE__OutputPort);
    atom_port = uri(LV2_ATOM__AtomPort);
    sequence = uri(LV2_ATOM__Sequence);
    supports = uri(LV2_ATOM__supports);
    buffer_type = uri(LV2_ATOM__bufferType);
    midi_event = uri(LV2_MIDI__MidiEvent);
    time_position = uri(LV2_TIME__Position);
    designation = uri(LV2_CORE__designation);
    bpm = uri(LV2_TIME__beatsPerMinute);
    default_uri = uri(LV2_CORE__default);
    minimum = uri(LV2_CORE__minimum);
    maximum = uri(LV2_CORE__maximum);
    port_property = uri(LV2_CORE__portProperty);
    integer = uri(LV2_CORE__integer);
    toggled = uri(LV2_CORE__toggled);
    connection_optional = uri(LV2_CORE__connectionOptional);
    state_interface = uri(LV2_STATE__interface);
    worker_interface = uri(LV2_WORKER__interface);
}

world::impl::~impl() {
    // Nodes first: they belong to the world.
    for (node* n : {&audio_port, &control_port, &cv_port, &input_port, &output_port, &atom_port, &sequence,
                    &supports, &buffer_type, &midi_event, &time_position, &designation, &bpm, &default_uri,
                    &minimum, &maximum, &port_property, &integer, &toggled, &connection_optional,
                    &state_interface, &worker_interface})
        *n = node{};
    lilv_world_free(lilv);
}

const LilvPlugin* world::impl::find(std::string_view u) const {
    const std::string s{u};
    node n{lilv_new_uri(lilv, s.c_str())};
    if (!n.get()) return nullptr;
    return lilv_plugins_get_by_uri(lilv_world_get_all_plugins(lilv), n.get());
}

world::world(const world_options& options) : impl_(std::make_unique<impl>(options)) {}
world::~world() = default;

}  // namespace umpd::lv2
