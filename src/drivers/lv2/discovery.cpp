#include "umpd/lv2/discovery.hpp"

#include <algorithm>
#include <cstdio>

#include "umpd/core/describe.hpp"
#include "world_impl.hpp"

namespace umpd::lv2 {
namespace {

std::string as_string(const LilvNode* n) {
    if (!n) return {};
    const char* s = lilv_node_as_string(n);
    return s ? std::string{s} : std::string{};
}

// lilv returns owned nodes from these getters.
std::string owned_string(LilvNode* n) {
    std::string s = as_string(n);
    lilv_node_free(n);
    return s;
}

float owned_float(LilvNode* n, float fallback) {
    float v = fallback;
    if (n && (lilv_node_is_float(n) || lilv_node_is_int(n))) v = lilv_node_as_float(n);
    lilv_node_free(n);
    return v;
}

void append_escaped(std::string& out, std::string_view s) { out += core::json_string(s); }

void append_number(std::string& out, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    out += buf;
}

void append_names(std::string& out, const std::vector<event_port_info>& ports) {
    out += '[';
    for (std::size_t i = 0; i < ports.size(); ++i) {
        if (i) out += ',';
        append_escaped(out, ports[i].name);
    }
    out += ']';
}

void append_plugin(std::string& out, const plugin_info& p) {
    out += "{\"uri\":";
    append_escaped(out, p.uri);
    out += ",\"name\":";
    append_escaped(out, p.name);
    out += ",\"kind\":";
    append_escaped(out, to_string(p.kind));
    out += ",\"class\":";
    append_escaped(out, p.declared_class);
    out += ",\"midi_inputs\":";
    append_names(out, p.midi_inputs);
    out += ",\"midi_outputs\":";
    append_names(out, p.midi_outputs);
    out += ",\"time_position\":";
    out += p.time_position ? "true" : "false";
    out += ",\"audio_inputs\":";
    append_number(out, p.audio_inputs);
    out += ",\"audio_outputs\":";
    append_number(out, p.audio_outputs);
    out += ",\"state\":";
    out += p.has_state ? "true" : "false";
    out += ",\"worker\":";
    out += p.has_worker ? "true" : "false";
    out += ",\"controls\":[";
    for (std::size_t i = 0; i < p.controls.size(); ++i) {
        const auto& c = p.controls[i];
        if (i) out += ',';
        out += "{\"symbol\":";
        append_escaped(out, c.symbol);
        out += ",\"name\":";
        append_escaped(out, c.name);
        out += ",\"output\":";
        out += c.output ? "true" : "false";
        out += ",\"default\":";
        append_number(out, static_cast<double>(c.default_value));
        out += ",\"minimum\":";
        append_number(out, static_cast<double>(c.minimum));
        out += ",\"maximum\":";
        append_number(out, static_cast<double>(c.maximum));
        out += ",\"bpm\":";
        out += c.bpm ? "true" : "false";
        out += '}';
    }
    out += "],\"required_features\":[";
    for (std::size_t i = 0; i < p.required_features.size(); ++i) {
        if (i) out += ',';
        append_escaped(out, p.required_features[i]);
    }
    out += "]}";
}

}  // namespace

std::string_view to_string(plugin_kind k) noexcept {
    switch (k) {
    case plugin_kind::midi_processor: return "midi-processor";
    case plugin_kind::midi_generator: return "midi-generator";
    case plugin_kind::instrument: return "instrument";
    case plugin_kind::midi_sink: return "midi-sink";
    }
    return "unknown";
}

plugin_info describe(const world::impl& w, const LilvPlugin* p) {
    plugin_info info;
    info.uri = as_string(lilv_plugin_get_uri(p));
    info.name = owned_string(lilv_plugin_get_name(p));
    info.bundle = as_string(lilv_plugin_get_bundle_uri(p));
    if (const LilvPluginClass* cls = lilv_plugin_get_class(p)) info.declared_class = as_string(lilv_plugin_class_get_label(cls));
    info.has_state = lilv_plugin_has_extension_data(p, w.state_interface.get());
    info.has_worker = lilv_plugin_has_extension_data(p, w.worker_interface.get());
    if (LilvNodes* req = lilv_plugin_get_required_features(p)) {
        LILV_FOREACH (nodes, it, req) info.required_features.push_back(as_string(lilv_nodes_get(req, it)));
        lilv_nodes_free(req);
    }
    info.port_count = lilv_plugin_get_num_ports(p);
    for (std::uint32_t i = 0; i < info.port_count; ++i) {
        const LilvPort* port = lilv_plugin_get_port_by_index(p, i);
        const bool input = lilv_port_is_a(p, port, w.input_port.get());
        port_ref ref;
        ref.index = i;
        ref.symbol = as_string(lilv_port_get_symbol(p, port));
        ref.name = owned_string(lilv_port_get_name(p, port));
        if (lilv_port_is_a(p, port, w.audio_port.get())) {
            ++(input ? info.audio_inputs : info.audio_outputs);
        } else if (lilv_port_is_a(p, port, w.cv_port.get())) {
            ++info.cv_ports;
        } else if (lilv_port_is_a(p, port, w.control_port.get())) {
            control_port_info c;
            static_cast<port_ref&>(c) = ref;
            c.output = !input;
            LilvNode *def = nullptr, *min = nullptr, *max = nullptr;
            lilv_port_get_range(p, port, &def, &min, &max);
            c.minimum = owned_float(min, 0.0f);
            c.maximum = owned_float(max, 1.0f);
            c.default_value = owned_float(def, c.minimum);
            if (c.minimum <= c.maximum) c.default_value = std::clamp(c.default_value, c.minimum, c.maximum);
            c.integer = lilv_port_has_property(p, port, w.integer.get());
            c.toggled = lilv_port_has_property(p, port, w.toggled.get());
            if (LilvNodes* d = lilv_port_get_value(p, port, w.designation.get())) {
                c.bpm = lilv_nodes_contains(d, w.bpm.get());
                lilv_nodes_free(d);
            }
            info.controls.push_back(std::move(c));
        } else if (lilv_port_is_a(p, port, w.atom_port.get())) {
            event_port_info e;
            static_cast<port_ref&>(e) = ref;
            e.midi = lilv_port_supports_event(p, port, w.midi_event.get());
            e.time_position = lilv_port_supports_event(p, port, w.time_position.get());
            if (input && e.time_position) info.time_position = true;
            auto& list = e.midi ? (input ? info.midi_inputs : info.midi_outputs)
                                : (input ? info.other_event_inputs : info.other_event_outputs);
            list.push_back(std::move(e));
        }
    }
    const bool midi_in = !info.midi_inputs.empty();
    const bool midi_out = !info.midi_outputs.empty();
    if (midi_in && info.audio_outputs > 0) info.kind = plugin_kind::instrument;
    else if (midi_in && midi_out) info.kind = plugin_kind::midi_processor;
    else if (midi_out) info.kind = plugin_kind::midi_generator;
    else info.kind = plugin_kind::midi_sink;
    return info;
}

std::vector<plugin_info> midi_plugins(const world& w) {
    const auto& impl = w.internals();
    std::vector<plugin_info> out;
    const LilvPlugins* all = lilv_world_get_all_plugins(impl.lilv);
    LILV_FOREACH (plugins, it, all) {
        plugin_info info = describe(impl, lilv_plugins_get(all, it));
        if (info.midi_inputs.empty() && info.midi_outputs.empty()) continue;
        out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(), [](const plugin_info& a, const plugin_info& b) { return a.uri < b.uri; });
    return out;
}

std::optional<plugin_info> describe_plugin(const world& w, std::string_view uri) {
    const LilvPlugin* p = w.internals().find(uri);
    if (!p) return std::nullopt;
    return describe(w.internals(), p);
}

std::string to_json(std::span<const plugin_info> plugins) {
    std::string out = "[";
    for (std::size_t i = 0; i < plugins.size(); ++i) {
        if (i) out += ',';
        append_plugin(out, plugins[i]);
    }
    out += ']';
    return out;
}

std::string to_json(const plugin_info& plugin) {
    std::string out;
    append_plugin(out, plugin);
    return out;
}

}  // namespace umpd::lv2
