// Name tables against tests/vectors/naming.txt (every rule of docs/naming.md and every
// example of the reference), then rebuilds: custom names surviving, approach changes.
#include <gtest/gtest.h>

#include "umpd/core/reassembly.hpp"
#include "umpd/naming/name_table.hpp"
#include "umpd/naming/projection.hpp"
#include "umpd/naming/text.hpp"
#include "vector_file.hpp"
#include "vectors.hpp"

namespace {

using namespace umpd::naming;
using umpd::naming::test::split;
using umpd::naming::test::unescape;

struct parsed_case {
    endpoint_naming_input input;
    global_naming global = global_naming::automatic;
};

parsed_case parse_case(const umpd::test::vector_case& c) {
    if (c.fields.size() != 6) throw std::runtime_error(c.where() + ": expected 6 fields");
    parsed_case p;
    p.input.device = unescape(c.fields[0]);
    if (c.fields[1] != "-") {
        for (const auto& opt : split(c.fields[1], ' ')) {
            if (opt.empty()) continue;
            if (opt == "virtual") {
                p.input.legacy_equivalent = false;
            } else if (opt.rfind("dup=", 0) == 0) {
                p.input.duplicate = static_cast<unsigned>(std::stoul(opt.substr(4)));
            } else if (opt.rfind("approach=", 0) == 0) {
                p.input.approach = parse_naming_approach(opt.substr(9)).value();
            } else if (opt.rfind("global=", 0) == 0) {
                p.global = parse_global_naming(opt.substr(7)).value();
            } else {
                throw std::runtime_error(c.where() + ": unknown option " + opt);
            }
        }
    }
    for (const auto& spec : split(c.fields[2], ';')) {
        port_naming_input port;
        if (spec.empty() || (spec[0] != 's' && spec[0] != 'd')) throw std::runtime_error(c.where() + ": bad port " + spec);
        port.direction = spec[0] == 's' ? port_direction::source : port_direction::destination;
        std::size_t i = 1;
        while (i < spec.size() && std::isdigit(static_cast<unsigned char>(spec[i]))) ++i;
        port.group_index = static_cast<std::uint8_t>(std::stoi(spec.substr(1, i - 1)));
        std::string rest = spec.substr(i);
        const auto at = rest.find('@');
        if (at != std::string::npos) {
            port.custom = unescape(rest.substr(at + 1));
            rest = rest.substr(0, at);
        }
        if (!rest.empty()) {
            if (rest[0] != ':') throw std::runtime_error(c.where() + ": bad port " + spec);
            port.device_name = unescape(rest.substr(1));
        }
        p.input.ports.push_back(std::move(port));
    }
    return p;
}

void expect_column(const umpd::test::vector_case& c, const std::string& field, const name_table& t,
                   std::string (*get)(const name_entry&), const char* what) {
    if (field == "*") return;
    const auto want = split(field, ';');
    ASSERT_EQ(want.size(), t.entries.size()) << c.where() << ": " << what << " count";
    for (std::size_t i = 0; i < want.size(); ++i) {
        if (want[i] == "*") continue;
        EXPECT_EQ(get(t.entries[i]), unescape(want[i])) << c.where() << ": " << what << " of port " << i;
    }
}

TEST(name_table, vectors) {
    for (const auto& c : umpd::test::load_vectors("naming.txt")) {
        const auto p = parse_case(c);
        const auto r = build_name_table(p.input, p.global);
        ASSERT_FALSE(r.error) << c.where() << ": " << r.error.message();
        ASSERT_EQ(r.table.entries.size(), p.input.ports.size()) << c.where();
        expect_column(c, c.fields[3], r.table, [](const name_entry& e) { return e.legacy; }, "legacy");
        expect_column(c, c.fields[4], r.table, [](const name_entry& e) { return e.new_style; }, "new-style");
        const std::string& shown = c.fields[5];
        if (shown == "legacy" || shown == "new-style") {
            const auto style = shown == "legacy" ? shown_name::legacy : shown_name::new_style;
            EXPECT_EQ(r.table.style, style) << c.where();
            for (const auto& e : r.table.entries) {
                EXPECT_TRUE(e.custom.empty()) << c.where();
                EXPECT_EQ(e.name(), style == shown_name::legacy ? e.legacy : e.new_style) << c.where();
            }
        } else {
            expect_column(c, shown, r.table, [](const name_entry& e) { return e.name(); }, "shown");
        }
        // Whatever the input, every name is valid UTF-8 within the budget, and the
        // group and direction of each entry are its port's.
        for (std::size_t i = 0; i < r.table.entries.size(); ++i) {
            const auto& e = r.table.entries[i];
            EXPECT_EQ(e.group_index, p.input.ports[i].group_index) << c.where();
            EXPECT_EQ(e.direction, p.input.ports[i].direction) << c.where();
            for (const auto* n : {&e.custom, &e.legacy, &e.new_style}) {
                EXPECT_TRUE(umpd::core::utf8_valid(*n)) << c.where();
                EXPECT_LE(code_points(*n), name_budget) << c.where() << ": " << *n;
                EXPECT_EQ(trim_text(*n), *n) << c.where();
            }
        }
    }
}

endpoint_naming_input soft_step() {
    endpoint_naming_input in;
    in.device = "SoftStep";
    in.ports = {{0, port_direction::destination, "Control Surface", ""},
                {1, port_direction::destination, "TRS MIDI Out", ""},
                {2, port_direction::destination, "CV Out", ""}};
    return in;
}

TEST(name_table, custom_names_survive_a_rebuild) {
    auto first = soft_step();
    first.ports[1].custom = "Pedal Out";
    const auto before = build_name_table(first);
    ASSERT_FALSE(before.error);
    EXPECT_EQ(before.table.entries[1].name(), "Pedal Out");

    // The device renames its jacks and adds a port; the custom name is keyed by group
    // and direction, so it stays on group 1 wherever that port now sits.
    endpoint_naming_input next;
    next.device = "SoftStep";
    next.ports = {{3, port_direction::destination, "Expression", ""},
                  {0, port_direction::destination, "Surface", ""},
                  {1, port_direction::destination, "TRS Out", ""},
                  {1, port_direction::source, "TRS In", ""}};
    carry_custom_names(before.table, next);
    const auto after = build_name_table(next);
    ASSERT_FALSE(after.error);
    EXPECT_EQ(after.table.entries[2].custom, "Pedal Out");
    EXPECT_EQ(after.table.entries[2].name(), "Pedal Out");
    EXPECT_EQ(after.table.entries[2].new_style, "SoftStep TRS Out");
    EXPECT_EQ(after.table.entries[3].custom, "");  // same group, other direction
    EXPECT_EQ(after.table.entries[3].name(), "SoftStep TRS In");
    EXPECT_EQ(after.table.entries[0].name(), "SoftStep Expression");

    // A custom name set in the new input is not overwritten by the old one.
    next.ports[2].custom = "Renamed";
    carry_custom_names(before.table, next);
    EXPECT_EQ(next.ports[2].custom, "Renamed");
}

TEST(name_table, approach_changes_switch_the_shown_name_only) {
    auto in = soft_step();
    in.ports[2].custom = "Mine";
    const auto automatic = build_name_table(in);
    in.approach = naming_approach::classic;
    const auto classic = build_name_table(in);
    in.approach = naming_approach::new_style;
    const auto fresh = build_name_table(in, global_naming::classic);
    ASSERT_FALSE(automatic.error || classic.error || fresh.error);
    for (std::size_t i = 0; i < in.ports.size(); ++i) {
        // The generated names do not depend on the approach.
        EXPECT_EQ(automatic.table.entries[i].legacy, classic.table.entries[i].legacy);
        EXPECT_EQ(automatic.table.entries[i].new_style, classic.table.entries[i].new_style);
        EXPECT_EQ(fresh.table.entries[i].new_style, classic.table.entries[i].new_style);
    }
    EXPECT_EQ(automatic.table.entries[0].name(), "SoftStep Control Surface");
    EXPECT_EQ(classic.table.entries[0].name(), "SoftStep");
    EXPECT_EQ(classic.table.entries[1].name(), "MIDIOUT2 (SoftStep)");
    EXPECT_EQ(fresh.table.entries[1].name(), "SoftStep TRS MIDI Out");
    for (const auto* t : {&automatic, &classic, &fresh}) EXPECT_EQ(t->table.entries[2].name(), "Mine");
}

TEST(name_table, projected_group_terminal_blocks_name_like_the_reference) {
    // The reference's TEST DEVICE, from its group terminal blocks.
    endpoint_blocks blocks;
    blocks.group_terminal_blocks = {{"MIDI", 0, 1, block_direction::output},
                                    {"Synth [0]", 1, 1, block_direction::output},
                                    {"Synth [1]", 2, 1, block_direction::output},
                                    {"Ext In [0]", 3, 1, block_direction::output}};
    endpoint_naming_input in;
    in.device = "TEST DEVICE";
    in.ports = project_ports(blocks);
    const auto r = build_name_table(in);
    ASSERT_FALSE(r.error);
    ASSERT_EQ(r.table.entries.size(), 4u);
    EXPECT_EQ(r.table.entries[0].name(), "TEST DEVICE group 1");
    EXPECT_EQ(r.table.entries[1].name(), "TEST DEVICE Synth group 2");
    EXPECT_EQ(r.table.entries[2].name(), "TEST DEVICE Synth group 3");
    EXPECT_EQ(r.table.entries[3].name(), "TEST DEVICE Ext In group 4");
    EXPECT_EQ(r.table.entries[3].legacy, "MIDIIN4 (TEST DEVICE)");
}

TEST(name_table, refuses_inconsistent_input) {
    auto in = soft_step();
    in.ports[1].group_index = 16;
    auto r = build_name_table(in);
    EXPECT_EQ(r.error, errc::group_out_of_range);
    EXPECT_EQ(r.port_index, 1u);

    in = soft_step();
    in.ports[2].group_index = 0;  // destination group 0 twice
    r = build_name_table(in);
    EXPECT_EQ(r.error, errc::duplicate_port);
    EXPECT_EQ(r.port_index, 2u);
    in.ports[2].direction = port_direction::source;  // the other direction is another port
    EXPECT_FALSE(build_name_table(in).error);

    in = soft_step();
    in.duplicate = 0;
    EXPECT_EQ(build_name_table(in).error, errc::bad_duplicate_ordinal);
    EXPECT_EQ(make_error_code(errc::bad_duplicate_ordinal).category().name(), std::string("umpd.naming"));
}

TEST(name_table, empty_endpoint_has_an_empty_table) {
    endpoint_naming_input in;
    in.device = "Nothing";
    const auto r = build_name_table(in);
    EXPECT_FALSE(r.error);
    EXPECT_TRUE(r.table.entries.empty());
    EXPECT_EQ(r.table.style, shown_name::legacy);
}

TEST(usable_port_name, placeholders_and_suffixes) {
    EXPECT_EQ(usable_port_name("  Synth [3] "), "Synth");
    EXPECT_EQ(usable_port_name("Synth [:]"), "Synth");
    EXPECT_EQ(usable_port_name("Synth [33]"), "Synth [33]");
    EXPECT_FALSE(usable_port_name("MIDI [0]"));
    EXPECT_FALSE(usable_port_name("Port10"));
    EXPECT_FALSE(usable_port_name("midi/io"));
    EXPECT_FALSE(usable_port_name(""));
    EXPECT_FALSE(usable_port_name(" [0]"));
    EXPECT_EQ(usable_port_name("7"), "7");
    EXPECT_EQ(usable_port_name("Devices"), "Devices");
}

TEST(text, cutting_never_splits_a_character) {
    const std::string mixed = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\xB9z";  // a é € 🎹 z
    EXPECT_EQ(code_points(mixed), 5u);
    EXPECT_EQ(cut_code_points(mixed, 0), "");
    EXPECT_EQ(cut_code_points(mixed, 1), "a");
    EXPECT_EQ(cut_code_points(mixed, 2), "a\xC3\xA9");
    EXPECT_EQ(cut_code_points(mixed, 3), "a\xC3\xA9\xE2\x82\xAC");
    EXPECT_EQ(cut_code_points(mixed, 4), "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\xB9");
    EXPECT_EQ(cut_code_points(mixed, 5), mixed);
    EXPECT_EQ(cut_code_points(mixed, 99), mixed);
    EXPECT_EQ(sanitize_text("ok\xF0\x9F\x8E"), "ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(sanitize_text("a\nb\x7F"), "a b ");
    EXPECT_EQ(fold_name("  Synth-A:/ b_C "), "synth a b c");
}

}  // namespace
