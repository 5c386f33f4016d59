// Discovery: the installed LV2 plugins that have MIDI input or output, described from
// the ports they really have (not from their declared class alone).
//
// Threads: the control thread (lilv is not thread-safe). Results are plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "umpd/lv2/world.hpp"

namespace umpd::lv2 {

// Decided from the ports:
//   instrument      MIDI in and audio out (MIDI out allowed too)
//   midi_processor  MIDI in and MIDI out, no audio out
//   midi_generator  MIDI out, no MIDI in
//   midi_sink       MIDI in only (monitors, loggers)
enum class plugin_kind : std::uint8_t { midi_processor, midi_generator, instrument, midi_sink };
[[nodiscard]] std::string_view to_string(plugin_kind k) noexcept;  // "midi-processor", ...

struct port_ref {
    std::uint32_t index = 0;
    std::string symbol;
    std::string name;  // lv2:name; for a MIDI output, its cable name
};

// An atom:AtomPort with atom:bufferType atom:Sequence.
struct event_port_info : port_ref {
    bool midi = false;           // atom:supports midi:MidiEvent
    bool time_position = false;  // atom:supports time:Position
};

struct control_port_info : port_ref {
    bool output = false;
    float default_value = 0.0f;  // clamped into [minimum, maximum] when both are given
    float minimum = 0.0f;
    float maximum = 1.0f;
    bool integer = false;
    bool toggled = false;
    bool bpm = false;            // lv2:designation time:beatsPerMinute
};

struct plugin_info {
    std::string uri;
    std::string name;
    std::string bundle;          // bundle directory URI
    std::string declared_class;  // lilv's class label ("MIDI", "Utility", ...)
    plugin_kind kind = plugin_kind::midi_processor;
    std::vector<event_port_info> midi_inputs;    // event inputs that carry MIDI
    std::vector<event_port_info> midi_outputs;   // event outputs that carry MIDI (the cables)
    std::vector<event_port_info> other_event_inputs;   // time:Position-only and other sequences
    std::vector<event_port_info> other_event_outputs;
    std::uint32_t audio_inputs = 0;
    std::uint32_t audio_outputs = 0;
    std::uint32_t cv_ports = 0;
    std::vector<control_port_info> controls;  // inputs and outputs, by index
    bool time_position = false;  // some input supports time:Position
    bool has_state = false;      // state:interface
    bool has_worker = false;     // work:interface
    std::vector<std::string> required_features;
    std::uint32_t port_count = 0;
};

// Every plugin with at least one MIDI input or output, sorted by URI.
[[nodiscard]] std::vector<plugin_info> midi_plugins(const world& w);
// One plugin by URI (MIDI or not); nullopt when the world does not know it.
[[nodiscard]] std::optional<plugin_info> describe_plugin(const world& w, std::string_view uri);

// JSON for `umpctl plugins --json`: an array of objects (uri, name, kind, class,
// midi_inputs, midi_outputs [names], time_position, controls [symbol, name, default,
// minimum, maximum, output, bpm], audio_inputs, audio_outputs, state, worker,
// required_features).
[[nodiscard]] std::string to_json(std::span<const plugin_info> plugins);
[[nodiscard]] std::string to_json(const plugin_info& plugin);

}  // namespace umpd::lv2
