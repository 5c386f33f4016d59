// umpctl ports | endpoint | naming against the real umpd: output shapes, effects,
// errors (one line on stderr) and exit codes (1: failed, 2: usage).
#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "daemon_process.hpp"

namespace {

using json = nlohmann::json;
using umpd_test::run_result;

constexpr const char* endpoint1 = "virtual/umpd-virtual-device/1";

run_result umpctl(const umpd_test::daemon_process& d, std::vector<std::string> args) {
    return umpd_test::run_umpctl(d, std::move(args));
}

json json_of(const umpd_test::daemon_process& d, std::vector<std::string> args) {
    const auto r = umpctl(d, std::move(args));
    EXPECT_EQ(r.code, 0) << r.err;
    return json::parse(r.out);
}

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

// A failure: the exit code, nothing on stdout, one line on stderr naming the verb.
void expect_error(const run_result& r, int code, const std::string& verb, const std::string& mentions = {}) {
    EXPECT_EQ(r.code, code) << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("umpctl " + verb + ": ", 0), 0u) << r.err;
    if (!mentions.empty()) {
        EXPECT_NE(r.err.find(mentions), std::string::npos) << r.err;
    }
}

TEST(umpctl_naming, ports_table_and_json) {
    umpd_test::daemon_process d;
    const auto t = umpctl(d, {"ports"});
    ASSERT_EQ(t.code, 0) << t.err;
    ASSERT_EQ(lines(t.out), 3u) << t.out;  // header, in, out
    EXPECT_EQ(t.out.rfind("NUMBER DIR GROUP NAME\n", 0), 0u) << t.out;
    EXPECT_NE(t.out.find("\n0      in  1     \""), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("\n0      out 1     \""), std::string::npos) << t.out;

    const auto all = umpctl(d, {"ports", "--all-names"});
    ASSERT_EQ(all.code, 0) << all.err;
    for (const char* col : {"CUSTOM", "LEGACY", "NEW-STYLE", "ENDPOINT", endpoint1})
        EXPECT_NE(all.out.find(col), std::string::npos) << col << "\n" << all.out;

    const json j = json_of(d, {"ports", "--json"});
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 2u);
    for (const auto& p : j) {
        for (const char* key : {"number", "direction", "group", "name", "custom", "legacy", "new_style", "endpoint",
                                "endpoint_name"})
            EXPECT_TRUE(p.contains(key)) << key << " " << p.dump();
        EXPECT_EQ(p["group"], 1);  // people's numbering
        EXPECT_EQ(p["endpoint"], endpoint1);
    }
    EXPECT_EQ(j[0]["direction"], "in");
    EXPECT_EQ(j[1]["direction"], "out");

    EXPECT_EQ(json_of(d, {"ports", "--endpoint", endpoint1, "--json"}).size(), 2u);
    expect_error(umpctl(d, {"ports", "--endpoint", "virtual/none/1"}), 1, "ports", "virtual/none/1");
    expect_error(umpctl(d, {"ports", "--bogus", "x"}), 2, "ports", "--bogus");
    expect_error(umpctl(d, {"ports", "list-them"}), 2, "ports", "list-them");
}

TEST(umpctl_naming, ports_find_and_rename) {
    umpd_test::daemon_process d;
    const json before = json_of(d, {"ports", "--json"});
    const std::string shown = before[0]["name"];
    // Several matches: all listed (here both directions share the name).
    const auto found = umpctl(d, {"ports", "find", shown});
    ASSERT_EQ(found.code, 0) << found.err;
    EXPECT_EQ(lines(found.out), 3u) << found.out;
    EXPECT_EQ(json_of(d, {"ports", "find", shown, "--direction", "out", "--json"}).size(), 1u);
    EXPECT_EQ(json_of(d, {"ports", "find", shown, "--legacy", "--json"}).size(), 2u);

    expect_error(umpctl(d, {"ports", "find", "Nothing Like It"}), 1, "ports", "Nothing Like It");
    expect_error(umpctl(d, {"ports", "find", shown, "--direction", "sideways"}), 2, "ports", "sideways");
    expect_error(umpctl(d, {"ports", "find"}), 2, "ports");

    const auto renamed = umpctl(d, {"ports", "rename", endpoint1, "--group", "1", "--direction", "in", "Stage Keys"});
    ASSERT_EQ(renamed.code, 0) << renamed.err;
    EXPECT_NE(renamed.out.find("Stage Keys"), std::string::npos) << renamed.out;
    const json mine = json_of(d, {"ports", "find", "Stage Keys", "--json"});
    ASSERT_EQ(mine.size(), 1u);
    EXPECT_EQ(mine[0]["custom"], "Stage Keys");
    EXPECT_EQ(mine[0]["name"], "Stage Keys");
    EXPECT_EQ(mine[0]["direction"], "in");
    // The legacy-compatible name is not the custom one.
    expect_error(umpctl(d, {"ports", "find", "Stage Keys", "--legacy"}), 1, "ports");
    // "" clears.
    ASSERT_EQ(umpctl(d, {"ports", "rename", endpoint1, "--group", "1", "--direction", "in", ""}).code, 0);
    expect_error(umpctl(d, {"ports", "find", "Stage Keys"}), 1, "ports");
    EXPECT_EQ(json_of(d, {"ports", "--json"})[0]["custom"], "");

    expect_error(umpctl(d, {"ports", "rename", endpoint1, "--group", "17", "--direction", "in", "x"}), 2, "ports", "--group");
    expect_error(umpctl(d, {"ports", "rename", endpoint1, "--direction", "in", "x"}), 2, "ports", "--group");
    expect_error(umpctl(d, {"ports", "rename", endpoint1, "--group", "1", "x"}), 2, "ports", "--direction");
    expect_error(umpctl(d, {"ports", "rename", "virtual/none/1", "--group", "1", "--direction", "in", "x"}), 1, "ports");
}

TEST(umpctl_naming, endpoint_info_function_blocks_and_naming) {
    umpd_test::daemon_process d;
    const json info = json_of(d, {"endpoint", "info", endpoint1, "--json"});
    for (const char* key : {"endpoint", "declared", "function_blocks", "ump_only", "naming"})
        EXPECT_TRUE(info.contains(key)) << key << " " << info.dump();

    const auto set = umpctl(d, {"endpoint", "function-blocks", endpoint1, "--block",
                                "name=Synth,first=1,groups=2,direction=bidirectional", "--block",
                                "name=Drums,first=10,direction=input"});
    ASSERT_EQ(set.code, 0) << set.err;
    EXPECT_NE(set.out.find("Synth"), std::string::npos) << set.out;
    EXPECT_EQ(json_of(d, {"ports", "--endpoint", endpoint1, "--json"}).size(), 5u);

    const auto readable = umpctl(d, {"endpoint", "info", endpoint1});
    ASSERT_EQ(readable.code, 0) << readable.err;
    for (const char* text : {"function blocks      2", "\"Synth\"", "groups 1-2", "\"Drums\"", "group 10",
                             "bidirectional", "UMP version", "naming               default", "MIDI 1.0 ports       5"})
        EXPECT_NE(readable.out.find(text), std::string::npos) << text << "\n" << readable.out;

    const json blocks = json_of(d, {"endpoint", "info", endpoint1, "--json"})["function_blocks"];
    ASSERT_EQ(blocks.size(), 2u);
    EXPECT_EQ(blocks[0]["name"], "Synth");
    EXPECT_EQ(blocks[0]["first_group"], 1);
    EXPECT_EQ(blocks[0]["groups"], 2);
    EXPECT_EQ(blocks[1]["direction"], "input");

    expect_error(umpctl(d, {"endpoint", "function-blocks", endpoint1, "--block", "name=X,colour=red"}), 2, "endpoint",
                 "colour");
    expect_error(umpctl(d, {"endpoint", "function-blocks", endpoint1, "--block", "name=X,first=16,groups=2"}), 2,
                 "endpoint", "16");
    expect_error(umpctl(d, {"endpoint", "function-blocks", endpoint1}), 2, "endpoint", "--block");
    ASSERT_EQ(umpctl(d, {"endpoint", "function-blocks", endpoint1, "--clear"}).code, 0);
    EXPECT_EQ(json_of(d, {"ports", "--endpoint", endpoint1, "--json"}).size(), 2u);

    const auto classic = umpctl(d, {"endpoint", "naming", endpoint1, "classic", "--json"});
    ASSERT_EQ(classic.code, 0) << classic.err;
    for (const auto& p : json::parse(classic.out)) EXPECT_EQ(p["name"], p["legacy"]);
    EXPECT_EQ(json_of(d, {"endpoint", "info", endpoint1, "--json"})["naming"], "classic");
    expect_error(umpctl(d, {"endpoint", "naming", endpoint1, "fancy"}), 2, "endpoint", "fancy");
    expect_error(umpctl(d, {"endpoint", "info", "virtual/none/1"}), 1, "endpoint");
    expect_error(umpctl(d, {"endpoint", "frobnicate", endpoint1}), 2, "endpoint", "frobnicate");
}

TEST(umpctl_naming, global_naming) {
    umpd_test::daemon_process d;
    auto r = umpctl(d, {"naming", "default"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "automatic\n");
    r = umpctl(d, {"naming", "default", "new-style"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "new-style\n");
    EXPECT_EQ(json_of(d, {"naming", "default", "--json"})["naming"], "new-style");
    for (const auto& p : json_of(d, {"ports", "--json"})) EXPECT_EQ(p["name"], p["new_style"]);
    ASSERT_EQ(umpctl(d, {"naming", "default", "classic"}).code, 0);
    for (const auto& p : json_of(d, {"ports", "--json"})) EXPECT_EQ(p["name"], p["legacy"]);
    expect_error(umpctl(d, {"naming", "default", "default"}), 2, "naming", "default");
    expect_error(umpctl(d, {"naming"}), 2, "naming");
}

TEST(umpctl_naming, without_umpd_fails_with_one_line) {
    char tmpl[] = "/tmp/umpd-nodaemon-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const auto r = umpd_test::run({UMPCTL_BINARY, "ports", "--runtime-dir", tmpl});
    ::rmdir(tmpl);
    EXPECT_EQ(r.code, 1);
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("not running"), std::string::npos) << r.err;
}

TEST(umpctl_naming, help) {
    for (const char* verb : {"ports", "endpoint", "naming"}) {
        const auto r = umpd_test::run({UMPCTL_BINARY, verb, "--help"});
        EXPECT_EQ(r.code, 0);
        EXPECT_EQ(r.out.rfind(std::string("usage: umpctl ") + verb, 0), 0u) << r.out;
    }
}

}  // namespace
