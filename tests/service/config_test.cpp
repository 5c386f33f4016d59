// The config file: the documented example parses to what it says, a corpus of broken
// files each gives its expected "LINE: FIELD: message", formatting round-trips, and the
// atomic write leaves either the old or the new file.
#include "umpd/service/config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace umpd::service {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        char tmpl[] = "/tmp/umpd-config-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

TEST(config_file, docs_example_parses) {
    const std::string doc = read_all(fs::path(UMPD_TEST_VECTORS_DIR) / "../../docs/config.md");
    const auto begin = doc.find("```toml\n");
    ASSERT_NE(begin, std::string::npos);
    const auto end = doc.find("```", begin + 8);
    const std::string example = doc.substr(begin + 8, end - begin - 8);
    const auto r = parse_config(example, "config.md");
    ASSERT_TRUE(r.value) << r.error.to_string();
    const config& c = *r.value;
    EXPECT_EQ(c.limits, limits_config{});  // the example shows the defaults
    ASSERT_EQ(c.devices.size(), 2u);
    EXPECT_EQ(c.devices[0].name, "umpd Virtual Device");
    ASSERT_EQ(c.devices[0].ports.size(), 2u);
    EXPECT_EQ(c.devices[0].ports[1].protocol, ump_protocol::midi1);
    EXPECT_EQ(c.devices[0].ports[1].number, 2u);
    EXPECT_TRUE(c.devices[1].offline);
    ASSERT_EQ(c.devices[1].ports.size(), 2u);
    EXPECT_EQ(c.devices[1].ports[1].name, "Rack Clock");
    ASSERT_EQ(c.loopbacks.size(), 3u);
    EXPECT_EQ(c.loopbacks[0].kind, device_kind::loopback_midi1);
    EXPECT_EQ(c.loopbacks[1].name_b, "Pair B");
    EXPECT_EQ(c.loopbacks[2].kind, device_kind::loopback_diagnostics);
}

TEST(config_file, empty_file_is_no_devices_and_default_limits) {
    const auto r = parse_config("", "x.toml");
    ASSERT_TRUE(r.value);
    EXPECT_TRUE(r.value->devices.empty());
    EXPECT_EQ(r.value->limits, limits_config{});
}

TEST(config_file, pair_without_name_b_gets_a_default) {
    const auto r = parse_config("[[loopbacks]]\nkind = \"pair\"\nname = \"P\"\n", "x.toml");
    ASSERT_TRUE(r.value) << r.error.to_string();
    EXPECT_EQ(r.value->loopbacks[0].name_b, "P B");
}

// Each file in the corpus starts with "# expect: LINE: FIELD: message" ('*' at the end
// of the message matches any rest, for the TOML library's own syntax messages).
TEST(config_file, broken_files_name_line_and_field) {
    const fs::path dir = fs::path(UMPD_TEST_CORPUS_DIR) / "config_errors";
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string text = read_all(entry.path());
        const std::string marker = "# expect: ";
        ASSERT_EQ(text.rfind(marker, 0), 0u) << entry.path();
        std::string expected = text.substr(marker.size(), text.find('\n') - marker.size());
        const std::string path = entry.path().string();
        const auto r = parse_config(text, path);
        ASSERT_FALSE(r.value) << entry.path() << " should be refused";
        const std::string got = r.error.to_string();
        bool wildcard = !expected.empty() && expected.back() == '*';
        if (wildcard) expected.pop_back();
        const std::string want = path + ":" + expected;
        if (wildcard) EXPECT_EQ(got.substr(0, want.size()), want) << entry.path();
        else EXPECT_EQ(got, want) << entry.path();
        ++cases;
    }
    EXPECT_GE(cases, 15);
}

TEST(config_file, format_round_trips) {
    config c = default_config();
    c.limits.to_client_words = 65536;
    c.limits.spin = std::chrono::microseconds(0);
    c.devices[0].offline = true;
    c.devices[0].ports.push_back({"Quote \" and \\ and \t", ump_protocol::midi1, 7});
    c.devices.push_back({"Ünïcode ⇄", "m", "n", false, {}});
    c.loopbacks.push_back({device_kind::loopback_pair, "A", "B"});
    c.loopbacks.push_back({device_kind::loopback_midi1, "loopMIDI Port", ""});
    const auto r = parse_config(format_config(c), "round.toml");
    ASSERT_TRUE(r.value) << r.error.to_string() << "\n" << format_config(c);
    EXPECT_EQ(*r.value, c);
}

TEST(config_file, driver_sections_default_when_absent_and_are_not_written_then) {
    const auto r = parse_config("", "x.toml");
    ASSERT_TRUE(r.value);
    EXPECT_TRUE(r.value->jack.enabled);
    EXPECT_FALSE(r.value->jack.wait_for_server);
    EXPECT_TRUE(r.value->alsa.enabled);
    EXPECT_TRUE(r.value->alsa.import_ports);
    EXPECT_EQ(r.value->lv2.block_size, 64u);
    const std::string text = format_config(default_config());
    EXPECT_EQ(text.find("[jack]"), std::string::npos);
    EXPECT_EQ(text.find("[alsa]"), std::string::npos);
    EXPECT_EQ(text.find("[lv2]"), std::string::npos);
}

TEST(config_file, drivers_plugins_and_connections_round_trip) {
    config c = default_config();
    c.jack = {true, "studio", "private", true};
    c.alsa = {false, "umpd-seq", false, {"umpd*", "Midi Through:*", "a \"quoted\" one"}};
    c.lv2 = {true, 44100, 128};
    c.plugins.push_back({"Transpose", "http://gareus.org/oss/lv2/midifilter#miditranspose",
                         {{"transpose", 12.0}, {"z-last", 0.1}}, ""});
    c.plugins.push_back({"Seq", "urn:seq", {}, "@prefix state: <http://lv2plug.in/ns/ext/state#> .\n<> state:x 1 ."});
    c.connections.push_back({"umpd Virtual Device/1", "Transpose"});
    const auto r = parse_config(format_config(c), "round.toml");
    ASSERT_TRUE(r.value) << r.error.to_string() << "\n" << format_config(c);
    EXPECT_EQ(*r.value, c);
}

TEST(config_file, plugin_controls_accept_integers_and_booleans_and_are_sorted) {
    const auto r = parse_config("[[plugins]]\nname = \"P\"\nuri = \"urn:p\"\n[plugins.controls]\nz = 3\na = true\nm = 0.5\n",
                                "x.toml");
    ASSERT_TRUE(r.value) << r.error.to_string();
    const auto& k = r.value->plugins.at(0).controls;
    ASSERT_EQ(k.size(), 3u);
    EXPECT_EQ(k[0], (plugin_control_config{"a", 1.0}));
    EXPECT_EQ(k[1], (plugin_control_config{"m", 0.5}));
    EXPECT_EQ(k[2], (plugin_control_config{"z", 3.0}));
}

TEST(config_file, load_reports_a_missing_file_as_not_found_with_the_default) {
    temp_dir t;
    bool found = true;
    const auto r = load_config((t.path / "none.toml").string(), found);
    EXPECT_FALSE(found);
    ASSERT_TRUE(r.value);
    EXPECT_EQ(*r.value, default_config());
}

TEST(config_file, atomic_write_creates_replaces_and_leaves_no_temporary) {
    temp_dir t;
    const fs::path file = t.path / "sub" / "dir" / "umpd.toml";
    ASSERT_FALSE(write_file_atomically(file.string(), "first\n"));
    EXPECT_EQ(read_all(file), "first\n");
    struct stat st{};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(file.parent_path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);

    ASSERT_FALSE(write_file_atomically(file.string(), "second, longer\n"));
    EXPECT_EQ(read_all(file), "second, longer\n");
    int files = 0;
    for (const auto& e : fs::directory_iterator(file.parent_path())) {
        (void)e;
        ++files;
    }
    EXPECT_EQ(files, 1);  // no temporary left behind

    // A write that cannot happen leaves the old file as it was.
    ASSERT_EQ(::chmod(file.parent_path().c_str(), 0500), 0);
    if (::geteuid() != 0) {  // root ignores directory permissions
        EXPECT_TRUE(write_file_atomically(file.string(), "third\n"));
        EXPECT_EQ(read_all(file), "second, longer\n");
    }
    ASSERT_EQ(::chmod(file.parent_path().c_str(), 0700), 0);
    // A target that is a directory cannot be replaced: the error comes back, nothing left behind.
    fs::create_directory(t.path / "adir");
    fs::create_directory(t.path / "adir" / "x");
    EXPECT_TRUE(write_file_atomically((t.path / "adir" / "x").string(), "y"));
    EXPECT_TRUE(fs::is_directory(t.path / "adir" / "x"));
    EXPECT_EQ(std::distance(fs::directory_iterator(t.path / "adir"), fs::directory_iterator{}), 1);
}

}  // namespace
}  // namespace umpd::service
