// `umpctl names preview` through the real binary (UMPCTL_BINARY), no service running:
// the JSON output for the files in tests/vectors/umpctl_names/, the text table, and
// one-line errors naming the field for bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"

namespace {

using json = nlohmann::json;
using umpd_test::run;
using umpd_test::run_result;

std::string input(const std::string& name) { return std::string(UMPD_TEST_VECTORS_DIR) + "/umpctl_names/" + name; }

json load(const std::string& name) {
    std::ifstream f(input(name));
    if (!f) throw std::runtime_error("cannot open " + input(name));
    return json::parse(f);
}

run_result preview(std::vector<std::string> args) {
    std::vector<std::string> argv{UMPCTL_BINARY, "names", "preview"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

TEST(names_preview, json_output_matches_the_expected_tables) {
    for (const char* name : {"softstep", "test_device", "greek_second_unit", "virtual"}) {
        const auto r = preview({input(std::string(name) + ".json"), "--json"});
        ASSERT_EQ(r.code, 0) << name << ": " << r.err;
        EXPECT_TRUE(r.err.empty()) << r.err;
        const json got = json::parse(r.out);
        EXPECT_EQ(got, load(std::string(name) + ".expected.json")) << name << ":\n" << got.dump(2);
        // The field order the issue lists, one object per input port in input order.
        ASSERT_TRUE(got.is_array());
        const auto in = load(std::string(name) + ".json");
        ASSERT_EQ(got.size(), in["ports"].size());
        for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i]["group_index"], in["ports"][i]["group_index"]);
        EXPECT_LT(r.out.find("\"group_index\""), r.out.find("\"direction\""));
        EXPECT_LT(r.out.find("\"new_style\""), r.out.find("\"name\""));
    }
}

TEST(names_preview, text_table_shows_groups_one_based) {
    const auto r = preview({input("test_device.json")});
    ASSERT_EQ(r.code, 0) << r.err;
    std::istringstream lines(r.out);
    std::string header, columns, row;
    std::getline(lines, header);
    std::getline(lines, columns);
    EXPECT_NE(header.find("TEST DEVICE"), std::string::npos);
    EXPECT_NE(header.find("new-style"), std::string::npos);
    EXPECT_EQ(columns.rfind("GROUP", 0), 0u);
    std::vector<std::string> rows;
    while (std::getline(lines, row)) rows.push_back(row);
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_EQ(rows[0].rfind("1 ", 0), 0u);
    EXPECT_EQ(rows[4].rfind("4 ", 0), 0u);
    EXPECT_NE(rows[4].find("Effects return"), std::string::npos);
    EXPECT_NE(rows[2].find("TEST DEVICE Synth group 2"), std::string::npos);
    EXPECT_NE(rows[2].find("MIDIIN2 (TEST DEVICE)"), std::string::npos);
}

TEST(names_preview, stdin_is_read_for_a_dash) {
    // The child gets no stdin here: an empty input is not JSON, and says so.
    const auto r = preview({"-"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

TEST(names_preview, bad_input_names_the_field) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"bad_direction.json", "ports[0].direction:"},
        {"bad_group.json", "ports[0].group_index: must be an integer 0-15"},
        {"bad_missing_group.json", "ports[0].group_index: missing"},
        {"bad_missing_device.json", "device: missing"},
        {"bad_duplicate.json", "duplicate: must be an integer"},
        {"bad_approach.json", "approach: must be automatic, classic or new-style"},
        {"bad_name.json", "ports[0].name:"},
        {"bad_same_port.json", "ports[1]:"},
        {"bad_unknown_field.json", "colour: unknown field"},
        {"bad_syntax.json", "not valid JSON"},
        {"does_not_exist.json", "cannot open"},
    };
    for (const auto& [file, want] : cases) {
        for (const char* mode : {"--json", ""}) {
            std::vector<std::string> args{input(file)};
            if (*mode) args.emplace_back(mode);
            const auto r = preview(args);
            EXPECT_EQ(r.code, 1) << file;
            EXPECT_TRUE(r.out.empty()) << file << ": " << r.out;
            EXPECT_EQ(r.err.rfind("umpctl names: ", 0), 0u) << file << ": " << r.err;
            EXPECT_NE(r.err.find(want), std::string::npos) << file << ": " << r.err;
            EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << file << ": " << r.err;
        }
    }
}

TEST(names_preview, usage_errors_exit_2) {
    EXPECT_EQ(preview({}).code, 2);
    EXPECT_EQ(preview({input("softstep.json"), "--bogus"}).code, 2);
    EXPECT_EQ(run({UMPCTL_BINARY, "names", "rename"}).code, 2);
    const auto help = run({UMPCTL_BINARY, "names", "--help"});
    EXPECT_EQ(help.code, 0);
    EXPECT_NE(help.out.find("names preview FILE"), std::string::npos);
}

}  // namespace
