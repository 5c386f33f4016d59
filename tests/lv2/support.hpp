// Shared by the lv2 tests: a world with the installed plugins and the fixture
// bundles, and small UMP helpers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "umpd/core/messages.hpp"
#include "umpd/lv2/instance.hpp"
#include "umpd/lv2/world.hpp"

namespace umpd::lv2::test {

inline constexpr const char* transpose_uri = "http://gareus.org/oss/lv2/midifilter#miditranspose";
inline constexpr const char* delay_uri = "http://gareus.org/oss/lv2/midifilter#mididelay";
inline constexpr const char* stepseq_uri = "http://gareus.org/oss/lv2/stepseq#s8n8";

inline world_options test_world_options() {
    world_options o;
    o.load_installed = true;
    o.bundles = {std::string{UMPD_LV2_FIXTURES_DIR} + "/umpd-fixtures.lv2",
                 std::string{UMPD_LV2_FIXTURES_DIR} + "/umpd-bad.lv2"};
    return o;
}

// Nanoseconds of host frame h at `rate`, rounded to nearest.
inline std::uint64_t frame_ns(std::uint64_t h, std::uint32_t rate) {
    return (h * 1'000'000'000ULL + rate / 2) / rate;
}

inline double ns_to_frames(std::uint64_t ns, std::uint32_t rate) {
    return static_cast<double>(ns) * rate / 1e9;
}

inline core::packet note_on(std::uint8_t note, std::uint8_t velocity = 100) {
    return core::make_midi1_note_on(core::group{0}, core::channel{0}, note, velocity);
}

// The MIDI 1.0 status and data of a type-0x2 packet.
inline std::uint8_t status_of(const core::packet& p) { return static_cast<std::uint8_t>((p.words[0] >> 16) & 0xFF); }
inline std::uint8_t data1_of(const core::packet& p) { return static_cast<std::uint8_t>((p.words[0] >> 8) & 0x7F); }
inline std::uint8_t data2_of(const core::packet& p) { return static_cast<std::uint8_t>(p.words[0] & 0x7F); }

}  // namespace umpd::lv2::test
