// Builders and views of the message families added for UMP 1.1: utility, 8-bit SysEx,
// mixed data sets, flex data and UMP stream messages. Exact word values come from the
// specification's layouts and from reference implementations (bl-midi2-rs unit tests,
// Linux kernel ump_msg.h, ni-midi2), so a field placed one bit off fails here.
#include "umpd/core/messages.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string_view>
#include <type_traits>
#include <vector>

// Every view is instantiated in full (JUCE-style), so an accessor that does not
// compile cannot hide behind a template that nothing uses.
template class std::optional<umpd::core::utility_view>;
template class std::optional<umpd::core::sysex8_view>;
template class std::optional<umpd::core::mixed_data_set_header_view>;
template class std::optional<umpd::core::mixed_data_set_payload_view>;
template class std::optional<umpd::core::flex_data_view>;
template class std::optional<umpd::core::set_tempo_view>;
template class std::optional<umpd::core::set_time_signature_view>;
template class std::optional<umpd::core::set_metronome_view>;
template class std::optional<umpd::core::set_key_signature_view>;
template class std::optional<umpd::core::set_chord_name_view>;
template class std::optional<umpd::core::flex_text_view>;
template class std::optional<umpd::core::stream_view>;
template class std::optional<umpd::core::endpoint_discovery_view>;
template class std::optional<umpd::core::endpoint_info_view>;
template class std::optional<umpd::core::device_identity_view>;
template class std::optional<umpd::core::stream_text_view>;
template class std::optional<umpd::core::stream_configuration_view>;
template class std::optional<umpd::core::function_block_discovery_view>;
template class std::optional<umpd::core::function_block_info_view>;
template class std::optional<umpd::core::function_block_name_view>;

namespace umpd::core {
namespace {

// Views are small values that copy their packet; none may keep a reference.
template <typename... V>
constexpr bool all_trivially_copyable = (std::is_trivially_copyable_v<V> && ...);
static_assert(all_trivially_copyable<utility_view, sysex8_view, mixed_data_set_header_view, mixed_data_set_payload_view,
                                     flex_data_view, set_tempo_view, set_time_signature_view, set_metronome_view,
                                     set_key_signature_view, set_chord_name_view, flex_text_view, stream_view,
                                     endpoint_discovery_view, endpoint_info_view, device_identity_view,
                                     stream_text_view, stream_configuration_view, function_block_discovery_view,
                                     function_block_info_view, function_block_name_view>);

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Every accessor is usable in constant expressions.
constexpr std::array<std::uint8_t, 3> abc{'a', 'b', 'c'};
static_assert(as_utility(make_jr_timestamp(0x1234))->time() == 0x1234);
static_assert(as_sysex8(make_sysex8(group{2}, packet_format::end, 9, abc))->byte(2) == 'c');
static_assert(as_mixed_data_set_header(make_mixed_data_set_header(group{0}, {.mds_id = 3, .valid_bytes_in_chunk = 0,
                                                                              .number_of_chunks = 0, .chunk_number = 0,
                                                                              .manufacturer_id = 0, .device_id = 0,
                                                                              .sub_id_1 = 0, .sub_id_2 = 7}))
                  ->sub_id_2() == 7);
static_assert(as_mixed_data_set_payload(make_mixed_data_set_payload(group{0}, 1, abc))->byte(1) == 'b');
static_assert(as_set_tempo(make_set_tempo(group{0}, 50'000'000))->ten_ns_per_quarter_note() == 50'000'000);
static_assert(as_set_time_signature(make_set_time_signature(group{0}, 6, 3, 8))->denominator_exponent() == 3);
static_assert(as_set_metronome(make_set_metronome(group{0}, {24, 4, 0, 0, 2, 0}))->fields().bar_accent_1 == 4);
static_assert(as_set_key_signature(make_set_key_signature(group{0}, flex_address::group, channel{0}, -3, 3))->tonic() == 3);
static_assert(as_set_chord_name(make_set_chord_name(group{0}, flex_address::group, channel{0}, {}))->fields() ==
              chord_name_fields{});
static_assert(as_flex_text(make_flex_text(group{0}, packet_format::complete, flex_address::group, channel{0}, 1, 1, abc))
                  ->text_size() == 3);
static_assert(as_endpoint_discovery(make_endpoint_discovery(1, 1, 0x1F))->filter() == 0x1F);
static_assert(as_endpoint_info(make_endpoint_info({}))->fields() == endpoint_info_fields{});
static_assert(as_device_identity(make_device_identity({}))->fields() == device_identity_fields{});
static_assert(as_endpoint_name(make_endpoint_name(packet_format::complete, abc))->text_size() == 3);
static_assert(as_product_instance_id(make_product_instance_id(packet_format::complete, abc))->text_byte(0) == 'a');
static_assert(as_stream_configuration(make_stream_configuration_notification(2, false, true))->tx_jr_timestamps());
static_assert(as_function_block_discovery(make_function_block_discovery(0xFF, 3))->block() == 0xFF);
static_assert(as_function_block_info(make_function_block_info({}))->fields() == function_block_info_fields{});
static_assert(as_function_block_name(make_function_block_name(5, packet_format::complete, abc))->block() == 5);
static_assert(as_stream(make_start_of_clip())->status() == stream_status::start_of_clip);

// ---------------------------------------------------------------------------
// Byte positions
// ---------------------------------------------------------------------------

TEST(PacketBytes, PositionsRunMostSignificantFirstAcrossWords) {
    const packet p{0x00112233u, 0x44556677u, 0x8899AABBu, 0xCCDDEEFFu};
    for (unsigned i = 0; i < 16; ++i) EXPECT_EQ(packet_byte(p, i), i * 0x11u) << i;
    packet q;
    for (unsigned i = 0; i < 16; ++i) set_packet_byte(q, i, static_cast<std::uint8_t>(i * 0x11u));
    EXPECT_EQ(q.words, p.words);
}

TEST(PacketBytes, TextSizeStopsAtFirstZeroOrMax) {
    packet p{0xF0030000u};
    EXPECT_EQ(packet_text_size(p, 2, 14), 0u);
    set_packet_byte(p, 2, 'x');
    set_packet_byte(p, 4, 'y');  // after a hole: not counted
    EXPECT_EQ(packet_text_size(p, 2, 14), 1u);
    for (unsigned i = 2; i < 16; ++i) set_packet_byte(p, i, 'z');
    EXPECT_EQ(packet_text_size(p, 2, 14), 14u);
    EXPECT_EQ(packet_text_size(p, 2, 5), 5u);
}

// ---------------------------------------------------------------------------
// Utility
// ---------------------------------------------------------------------------

TEST(Utility, ExactWords) {
    EXPECT_EQ(make_noop(), packet{0x00000000u});
    EXPECT_EQ(make_jr_clock(0xFFFF), packet{0x0010FFFFu});
    EXPECT_EQ(make_jr_timestamp(0x1234), packet{0x00201234u});
    EXPECT_EQ(make_delta_clockstamp_tpqn(480), packet{0x003001E0u});
    EXPECT_EQ(make_delta_clockstamp(0xFFFFF), packet{0x004FFFFFu});
    EXPECT_EQ(make_noop().size(), 1u);
}

TEST(Utility, DeltaClockstampMasksTo20Bits) {
    const packet p = make_delta_clockstamp(0xFFFFFFFFu);
    EXPECT_EQ(p, packet{0x004FFFFFu});  // status survives
    EXPECT_EQ(as_utility(p)->ticks(), 0xFFFFFu);
    EXPECT_EQ(as_utility(p)->status(), utility_status::delta_clockstamp);
}

TEST(Utility, ViewReadsFieldsAndRefusesUnknownStatuses) {
    const auto v = as_utility(packet{0x0F2ABCDEu});  // reserved bits 27..24 set, still a JR timestamp
    ASSERT_TRUE(v);
    EXPECT_EQ(v->status(), utility_status::jr_timestamp);
    EXPECT_EQ(v->time(), 0xBCDEu);
    EXPECT_EQ(as_utility(packet{0x003001E0u})->ticks_per_quarter_note(), 480u);
    EXPECT_FALSE(as_utility(packet{0x00500000u}));
    EXPECT_FALSE(as_utility(packet{0x00F00000u}));
    EXPECT_FALSE(as_utility(packet{0x10F80000u}));
}

// ---------------------------------------------------------------------------
// 8-bit SysEx
// ---------------------------------------------------------------------------

TEST(Sysex8, ExactWords) {
    // ni-midi2 and cmidi2 place the stream id in byte 2 and count it in the byte count.
    const std::array<std::uint8_t, 13> data{0x7E, 0x7F, 0x0D, 0x70, 0x02, 0x4B, 0x60, 0x7A, 0x73, 0x7F, 0x7F, 0x7F, 0xFF};
    EXPECT_EQ(make_sysex8(group{0xA}, packet_format::start, 0x42, data),
              (packet{0x5A1E427Eu, 0x7F0D7002u, 0x4B607A73u, 0x7F7F7FFFu}));
    EXPECT_EQ(make_sysex8(group{0}, packet_format::complete, 0, {}), (packet{0x50010000u, 0, 0, 0}));
    EXPECT_EQ(make_sysex8(group{3}, packet_format::end, 0xFF, std::span(data).first(1)),
              (packet{0x5332FF7Eu, 0, 0, 0}));
}

TEST(Sysex8, RoundTripEverySizeAndFormat) {
    std::mt19937 rng(8);
    for (unsigned n = 0; n <= sysex8_bytes_per_packet; ++n) {
        for (unsigned f = 0; f < 4; ++f) {
            std::vector<std::uint8_t> data(n);
            for (auto& b : data) b = static_cast<std::uint8_t>(rng());
            const auto g = group{static_cast<std::uint8_t>(rng() & 0xF)};
            const auto id = static_cast<std::uint8_t>(rng());
            const packet p = make_sysex8(g, static_cast<packet_format>(f), id, data);
            const auto v = as_sysex8(p);
            ASSERT_TRUE(v) << n;
            EXPECT_EQ(v->group_field(), g);
            EXPECT_EQ(v->format(), static_cast<packet_format>(f));
            EXPECT_EQ(v->stream_id(), id);
            ASSERT_EQ(v->size(), n);
            for (unsigned i = 0; i < n; ++i) EXPECT_EQ(v->byte(i), data[i]) << n << " " << i;
            for (unsigned i = n; i < sysex8_bytes_per_packet; ++i) EXPECT_EQ(v->byte(i), 0) << "padding " << i;
        }
    }
}

TEST(Sysex8, MasksAndTruncates) {
    std::vector<std::uint8_t> data(20, 0xAB);
    const packet p = make_sysex8(group{0x1F}, packet_format::continue_, 1, data);
    EXPECT_EQ(p.group_field(), group{0xF});
    EXPECT_EQ(as_sysex8(p)->size(), 13u);
    EXPECT_EQ((field<19, 16>(p[0])), 14u);
}

TEST(Sysex8, ViewRefusesBadCountsAndOtherStatuses) {
    EXPECT_FALSE(as_sysex8(packet{0x50000000u}));  // count 0: not even the stream id
    EXPECT_FALSE(as_sysex8(packet{0x500F0000u}));  // count 15
    EXPECT_FALSE(as_sysex8(packet{0x50410000u}));  // status 4
    EXPECT_FALSE(as_sysex8(packet{0x50810000u}));  // a mixed data set header
    EXPECT_FALSE(as_sysex8(packet{0x30010000u}));  // 7-bit SysEx
    EXPECT_TRUE(as_sysex8(packet{0x530E0000u}));
    EXPECT_EQ(sysex8_view{packet{0x50000000u}}.size(), 0u);  // an unchecked view does not underflow
}

// ---------------------------------------------------------------------------
// Mixed data sets
// ---------------------------------------------------------------------------

TEST(MixedDataSet, HeaderExactWordsAndRoundTrip) {
    const mixed_data_set_header_fields h{.mds_id = 0xA, .valid_bytes_in_chunk = 0xFFFF, .number_of_chunks = 2,
                                         .chunk_number = 1, .manufacturer_id = 0xA109, .device_id = 0x7F7F,
                                         .sub_id_1 = 0x1234, .sub_id_2 = 0xFFFF};
    const packet p = make_mixed_data_set_header(group{5}, h);
    EXPECT_EQ(p, (packet{0x558AFFFFu, 0x00020001u, 0xA1097F7Fu, 0x1234FFFFu}));
    const auto v = as_mixed_data_set_header(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->group_field(), group{5});
    EXPECT_EQ(v->fields(), h);
    EXPECT_FALSE(as_mixed_data_set_payload(p));
    EXPECT_FALSE(as_sysex8(p));
}

TEST(MixedDataSet, HeaderMasksMdsId) {
    const packet p = make_mixed_data_set_header(group{0}, {.mds_id = 0x1F, .valid_bytes_in_chunk = 0,
                                                           .number_of_chunks = 0, .chunk_number = 0,
                                                           .manufacturer_id = 0, .device_id = 0, .sub_id_1 = 0,
                                                           .sub_id_2 = 0});
    EXPECT_EQ(p[0], 0x508F0000u);  // status 8 intact
}

TEST(MixedDataSet, PayloadExactWordsAndRoundTrip) {
    std::array<std::uint8_t, 16> data{};
    for (unsigned i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(0xF0 + i);
    const packet p = make_mixed_data_set_payload(group{3}, 0xF, data);  // 14 used, 2 ignored
    EXPECT_EQ(p, (packet{0x539FF0F1u, 0xF2F3F4F5u, 0xF6F7F8F9u, 0xFAFBFCFDu}));
    const auto v = as_mixed_data_set_payload(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->mds_id(), 0xF);
    for (unsigned i = 0; i < mixed_data_set_payload_bytes_per_packet; ++i) EXPECT_EQ(v->byte(i), data[i]);
    EXPECT_FALSE(as_mixed_data_set_header(p));
    const packet short_payload = make_mixed_data_set_payload(group{0}, 1, std::span(data).first(3));
    EXPECT_EQ(short_payload, (packet{0x5091F0F1u, 0xF2000000u, 0, 0}));
}

// ---------------------------------------------------------------------------
// Flex data
// ---------------------------------------------------------------------------

TEST(FlexData, SetupMessagesMatchReferenceWords) {
    // 120 beats per minute: 0.5 s per quarter note = 50,000,000 units of 10 ns.
    EXPECT_EQ(make_set_tempo(group{0}, 50'000'000), (packet{0xD0100000u, 0x02FAF080u, 0, 0}));
    // The following vectors are bl-midi2-rs's unit tests.
    EXPECT_EQ(make_set_time_signature(group{0xA}, 0xCD, 0x90, 0x7E), (packet{0xDA100001u, 0xCD907E00u, 0, 0}));
    EXPECT_EQ(make_set_metronome(group{1}, {0x9B, 0x4A, 0xFE, 0x56, 0xB8, 0x1B}),
              (packet{0xD1100002u, 0x9B4AFE56u, 0xB81B0000u, 0}));
    EXPECT_EQ(make_set_key_signature(group{4}, flex_address::group, channel{0}, 5, 4),
              (packet{0xD4100005u, 0x54000000u, 0, 0}));
    EXPECT_EQ(make_set_key_signature(group{4}, flex_address::group, channel{0}, -5, 4),
              (packet{0xD4100005u, 0xB4000000u, 0, 0}));
    EXPECT_EQ(make_set_key_signature(group{4}, flex_address::channel, channel{0xD}, key_signature_non_standard,
                                      flex_note_unknown),
              (packet{0xD40D0005u, 0x80000000u, 0, 0}));
    const chord_name_fields chord{.tonic_sharps_flats = -1,
                                  .tonic = 7,
                                  .chord_type = 0x03,
                                  .alterations = {{{3, 5}, {1, 9}, {4, 0xB}, {0, 0}}},
                                  .bass_sharps_flats = 1,
                                  .bass_note = 1,
                                  .bass_chord_type = 0x0A,
                                  .bass_alterations = {{{0, 0}, {2, 0}}}};
    const packet c = make_set_chord_name(group{7}, flex_address::channel, channel{0xB}, chord);
    EXPECT_EQ(c, (packet{0xD70B0006u, 0xF7033519u, 0x4B000000u, 0x110A0020u}));
    EXPECT_EQ(as_set_chord_name(c)->fields(), chord);
}

TEST(FlexData, HeaderFieldsAndMasking) {
    const packet p = make_flex_data(group{0x1F}, packet_format::end, flex_address::group, channel{0x1E}, 0xAB, 0xCD,
                                    1, 2, 3);
    EXPECT_EQ(p, (packet{0xDFDEABCDu, 1, 2, 3}));
    const auto v = as_flex_data(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->group_field(), group{0xF});
    EXPECT_EQ(v->format(), packet_format::end);
    EXPECT_EQ(v->address(), flex_address::group);
    EXPECT_EQ(v->channel_field(), channel{0xE});
    EXPECT_EQ(v->status_bank(), 0xAB);
    EXPECT_EQ(v->status(), 0xCD);
    EXPECT_EQ(as_flex_data(packet{0xD0300000u})->address_bits(), 3);
}

TEST(FlexData, KeySignatureSignedNibbleExtremes) {
    for (int sf = -8; sf <= 7; ++sf) {
        const packet p = make_set_key_signature(group{0}, flex_address::group, channel{0}, static_cast<std::int8_t>(sf), 3);
        EXPECT_EQ(as_set_key_signature(p)->sharps_flats(), sf);
        EXPECT_EQ(as_set_key_signature(p)->tonic(), 3);
    }
    // Tonic is 4 bits and must not spill into the sharps/flats nibble.
    const packet p = make_set_key_signature(group{0}, flex_address::group, channel{0}, 0, 0xFF);
    EXPECT_EQ(p[1], 0x0F000000u);
}

TEST(FlexData, ChordNameRoundTripSeeded) {
    std::mt19937 rng(6);
    for (int i = 0; i < 500; ++i) {
        chord_name_fields n;
        const auto sf = [&] { return static_cast<std::int8_t>(static_cast<int>(rng() % 16) - 8); };
        const auto nib = [&] { return static_cast<std::uint8_t>(rng() & 0xF); };
        n.tonic_sharps_flats = sf();
        n.tonic = nib();
        n.chord_type = static_cast<std::uint8_t>(rng());
        for (auto& a : n.alterations) a = {nib(), nib()};
        n.bass_sharps_flats = sf();
        n.bass_note = nib();
        n.bass_chord_type = static_cast<std::uint8_t>(rng());
        for (auto& a : n.bass_alterations) a = {nib(), nib()};
        const packet p = make_set_chord_name(group{nib()}, flex_address::group, channel{0}, n);
        ASSERT_EQ(as_set_chord_name(p)->fields(), n);
        EXPECT_EQ(p[2] & 0xFFFFu, 0u);  // reserved half of word 2 stays clear
    }
}

TEST(FlexData, TypedViewsRefuseOtherStatuses) {
    const packet tempo = make_set_tempo(group{0}, 1);
    EXPECT_TRUE(as_set_tempo(tempo));
    EXPECT_FALSE(as_set_time_signature(tempo));
    EXPECT_FALSE(as_set_metronome(tempo));
    EXPECT_FALSE(as_set_key_signature(tempo));
    EXPECT_FALSE(as_set_chord_name(tempo));
    EXPECT_FALSE(as_flex_text(tempo));
    EXPECT_FALSE(as_set_tempo(packet{0xD0100100u}));  // bank 1 status 0 is metadata text
    EXPECT_FALSE(as_set_tempo(packet{0x40100000u}));
    EXPECT_FALSE(as_flex_text(packet{0xD0100300u}));  // bank 3 is not text
    EXPECT_TRUE(as_flex_text(packet{0xD0100200u}));
}

TEST(FlexData, TextExactWordsPaddingAndTruncation) {
    const packet p = make_flex_text(group{2}, packet_format::start, flex_address::channel, channel{3},
                                    flex_bank_performance_text, static_cast<std::uint8_t>(flex_performance_status::lyrics),
                                    bytes_of("Hello, world!"));  // 13 bytes: the '!' does not fit
    EXPECT_EQ(p, (packet{0xD2430201u, 0x48656C6Cu, 0x6F2C2077u, 0x6F726C64u}));
    const auto v = as_flex_text(p);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->text_size(), 12u);
    EXPECT_EQ(v->text_byte(11), 'd');
    const packet q = make_flex_text(group{0}, packet_format::complete, flex_address::group, channel{0},
                                    flex_bank_metadata_text, 0x01, bytes_of("Ab"));
    EXPECT_EQ(q, (packet{0xD0100101u, 0x41620000u, 0, 0}));
    EXPECT_EQ(as_flex_text(q)->text_size(), 2u);
}

// ---------------------------------------------------------------------------
// UMP stream
// ---------------------------------------------------------------------------

TEST(Stream, ReferenceWords) {
    // bl-midi2-rs unit tests.
    EXPECT_EQ(make_endpoint_discovery(1, 1, 0x1F), (packet{0xF0000101u, 0x0000001Fu, 0, 0}));
    EXPECT_EQ(make_endpoint_info({.ump_version_major = 1, .ump_version_minor = 1, .static_function_blocks = true,
                                  .function_block_count = 0x20, .midi2_protocol = true, .midi1_protocol = true,
                                  .rx_jr_timestamps = true, .tx_jr_timestamps = true}),
              (packet{0xF0010101u, 0xA0000303u, 0, 0}));
    EXPECT_EQ(make_device_identity({.manufacturer = {0x0F, 0x33, 0x28}, .family = 0xF4A, .model = 0x3818,
                                    .software_revision = {0x43, 0x54, 0x32, 0x01}}),
              (packet{0xF0020000u, 0x000F3328u, 0x4A1E1870u, 0x43543201u}));
    EXPECT_EQ(make_stream_configuration_request(stream_protocol_midi2, true, true), (packet{0xF0050203u, 0, 0, 0}));
    EXPECT_EQ(make_function_block_info({.active = true, .block = 0x11, .ui_hint = function_block_ui_hint::sender_receiver,
                                        .midi1 = function_block_midi1::unrestricted,
                                        .direction = function_block_direction::output, .first_group = group{0xD},
                                        .group_count = 8, .midi_ci_version = 1, .max_sysex8_streams = 0x20}),
              (packet{0xF0119136u, 0x0D080120u, 0, 0}));
    // Linux's f_midi2 gadget asks for every block's info and name this way.
    EXPECT_EQ(make_function_block_discovery(all_function_blocks,
                                            discover_function_block_info | discover_function_block_name),
              (packet{0xF010FF03u, 0, 0, 0}));
    EXPECT_EQ(make_stream_configuration_notification(stream_protocol_midi1, false, false), (packet{0xF0060100u, 0, 0, 0}));
    EXPECT_EQ(make_start_of_clip(), (packet{0xF0200000u, 0, 0, 0}));
    EXPECT_EQ(make_end_of_clip(), (packet{0xF0210000u, 0, 0, 0}));
    EXPECT_EQ(make_start_of_clip().size(), 4u);
}

TEST(Stream, ViewsReadReferenceWords) {
    const auto d = as_device_identity(packet{0xF0020000u, 0x000F3328u, 0x4A1E1870u, 0x43543201u});
    ASSERT_TRUE(d);
    EXPECT_EQ(d->fields(), (device_identity_fields{{0x0F, 0x33, 0x28}, 0xF4A, 0x3818, {0x43, 0x54, 0x32, 0x01}}));
    const auto b = as_function_block_info(packet{0xF0119136u, 0x0D080120u, 0, 0});
    ASSERT_TRUE(b);
    EXPECT_EQ(b->fields(), (function_block_info_fields{true, 0x11, function_block_ui_hint::sender_receiver,
                                                       function_block_midi1::unrestricted,
                                                       function_block_direction::output, group{0xD}, 8, 1, 0x20}));
    const auto e = as_endpoint_info(packet{0xF0010101u, 0xA0000303u, 0, 0});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->fields(), (endpoint_info_fields{1, 1, true, 0x20, true, true, true, true}));
    const auto f = as_function_block_discovery(packet{0xF010FF03u, 0, 0, 0});
    ASSERT_TRUE(f);
    EXPECT_EQ(f->block(), all_function_blocks);
    EXPECT_EQ(f->filter(), discover_function_block_info | discover_function_block_name);
}

TEST(Stream, TextMessagesExactWords) {
    EXPECT_EQ(make_endpoint_name(packet_format::complete, bytes_of("umpd virtual")),
              (packet{0xF003756Du, 0x70642076u, 0x69727475u, 0x616C0000u}));
    // 15 bytes given, 14 fit; format in bits 27..26.
    EXPECT_EQ(make_endpoint_name(packet_format::start, bytes_of("ABCDEFGHIJKLMNO")),
              (packet{0xF4034142u, 0x43444546u, 0x4748494Au, 0x4B4C4D4Eu}));
    EXPECT_EQ(make_product_instance_id(packet_format::end, bytes_of("SN-0001")),
              (packet{0xFC04534Eu, 0x2D303030u, 0x31000000u, 0}));
    EXPECT_EQ(make_function_block_name(2, packet_format::continue_, bytes_of("Synth Lead 1 and more")),
              (packet{0xF8120253u, 0x796E7468u, 0x204C6561u, 0x64203120u}));
    const auto v = as_function_block_name(make_function_block_name(2, packet_format::continue_, bytes_of("Synth")));
    ASSERT_TRUE(v);
    EXPECT_EQ(v->format(), packet_format::continue_);
    EXPECT_EQ(v->block(), 2);
    EXPECT_EQ(v->text_size(), 5u);
    const auto n = as_endpoint_name(make_endpoint_name(packet_format::complete, bytes_of("ABCDEFGHIJKLMN")));
    ASSERT_TRUE(n);
    EXPECT_EQ(n->text_size(), 14u);
    EXPECT_EQ(n->text_byte(13), 'N');
}

TEST(Stream, RoundTripsSeeded) {
    std::mt19937 rng(1);
    const auto bit = [&] { return (rng() & 1) != 0; };
    const auto u8 = [&] { return static_cast<std::uint8_t>(rng()); };
    for (int i = 0; i < 1000; ++i) {
        const endpoint_info_fields e{u8(), u8(), bit(), static_cast<std::uint8_t>(rng() & 0x7F), bit(), bit(), bit(), bit()};
        ASSERT_EQ(as_endpoint_info(make_endpoint_info(e))->fields(), e);

        const device_identity_fields d{{static_cast<std::uint8_t>(u8() & 0x7F), static_cast<std::uint8_t>(u8() & 0x7F),
                                        static_cast<std::uint8_t>(u8() & 0x7F)},
                                       static_cast<std::uint16_t>(rng() & 0x3FFF),
                                       static_cast<std::uint16_t>(rng() & 0x3FFF),
                                       {static_cast<std::uint8_t>(u8() & 0x7F), static_cast<std::uint8_t>(u8() & 0x7F),
                                        static_cast<std::uint8_t>(u8() & 0x7F), static_cast<std::uint8_t>(u8() & 0x7F)}};
        ASSERT_EQ(as_device_identity(make_device_identity(d))->fields(), d);

        const function_block_info_fields b{bit(),
                                           static_cast<std::uint8_t>(rng() & 0x7F),
                                           static_cast<function_block_ui_hint>(rng() & 3),
                                           static_cast<function_block_midi1>(rng() & 3),
                                           static_cast<function_block_direction>(rng() & 3),
                                           group{static_cast<std::uint8_t>(rng() & 0xF)},
                                           u8(),
                                           u8(),
                                           u8()};
        ASSERT_EQ(as_function_block_info(make_function_block_info(b))->fields(), b);

        const auto major = u8(), minor = u8(), filter = u8();
        const auto disc = as_endpoint_discovery(make_endpoint_discovery(major, minor, filter));
        ASSERT_TRUE(disc);
        EXPECT_EQ(disc->ump_version_major(), major);
        EXPECT_EQ(disc->ump_version_minor(), minor);
        EXPECT_EQ(disc->filter(), filter);

        const auto proto = u8();
        const bool rx = bit(), tx = bit();
        const auto cfg = as_stream_configuration(make_stream_configuration_request(proto, rx, tx));
        ASSERT_TRUE(cfg);
        EXPECT_EQ(cfg->status(), stream_status::stream_configuration_request);
        EXPECT_EQ(cfg->protocol(), proto);
        EXPECT_EQ(cfg->rx_jr_timestamps(), rx);
        EXPECT_EQ(cfg->tx_jr_timestamps(), tx);

        const auto block = u8();
        const auto fbd = as_function_block_discovery(make_function_block_discovery(block, filter));
        ASSERT_TRUE(fbd);
        EXPECT_EQ(fbd->block(), block);
        EXPECT_EQ(fbd->filter(), filter);
    }
}

TEST(Stream, BuildersMaskToFieldWidths) {
    const packet e = make_endpoint_info({.ump_version_major = 1, .ump_version_minor = 1, .static_function_blocks = false,
                                         .function_block_count = 0xFF, .midi2_protocol = false,
                                         .midi1_protocol = false, .rx_jr_timestamps = false,
                                         .tx_jr_timestamps = false});
    EXPECT_EQ(e[1], 0x7F000000u);  // 7 bits: the static flag stays clear
    const packet d = make_device_identity({.manufacturer = {0xFF, 0xFF, 0xFF}, .family = 0xFFFF, .model = 0xFFFF,
                                           .software_revision = {0xFF, 0xFF, 0xFF, 0xFF}});
    EXPECT_EQ(d, (packet{0xF0020000u, 0x007F7F7Fu, 0x7F7F7F7Fu, 0x7F7F7F7Fu}));
    const packet b = make_function_block_info({.active = false, .block = 0xFF, .ui_hint = function_block_ui_hint::unknown,
                                               .midi1 = function_block_midi1::no,
                                               .direction = function_block_direction::reserved,
                                               .first_group = group{0xFF}, .group_count = 0, .midi_ci_version = 0,
                                               .max_sysex8_streams = 0});
    EXPECT_EQ(b, (packet{0xF0117F00u, 0x0F000000u, 0, 0}));  // active bit clear, group 4 bits
}

TEST(Stream, ViewsRefuseOtherStatusesAndTypes) {
    const packet name = make_endpoint_name(packet_format::complete, bytes_of("x"));
    EXPECT_TRUE(as_endpoint_name(name));
    EXPECT_FALSE(as_product_instance_id(name));
    EXPECT_FALSE(as_function_block_name(name));
    EXPECT_FALSE(as_endpoint_info(name));
    EXPECT_FALSE(as_stream_configuration(name));
    EXPECT_TRUE(as_stream(name));
    EXPECT_FALSE(as_stream(packet{0xD0030000u}));
    EXPECT_FALSE(as_endpoint_name(packet{0xD0030000u}));
    // The status is 10 bits: 0x203 is not Endpoint Name even though its low byte is 3.
    EXPECT_FALSE(as_endpoint_name(packet{0xF2030000u}));
    EXPECT_EQ(as_stream(packet{0xF3FF0000u})->status(), static_cast<stream_status>(0x3FF));
}

}  // namespace
}  // namespace umpd::core
