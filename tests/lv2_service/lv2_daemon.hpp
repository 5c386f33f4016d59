// A real umpd with the lv2 driver for the plugin service tests: its own runtime
// directory and config file (so restarts keep plugins and connections), and
// LV2_PATH = the fixture bundles + Debian's /usr/lib/lv2 (x42-plugins).
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../integration/daemon_process.hpp"
#include "umpd/client/client.hpp"

namespace umpd_test {

inline constexpr const char* transpose_uri = "http://gareus.org/oss/lv2/midifilter#miditranspose";
inline constexpr const char* delay_uri = "http://gareus.org/oss/lv2/midifilter#mididelay";
inline constexpr const char* stepseq_uri = "http://gareus.org/oss/lv2/stepseq#s8n8";

class lv2_daemon {
public:
    // `config_text`: the config file to start with. Unless it has a [jack] table, JACK
    // is off: a JACK server someone runs on the machine must not steer these tests'
    // transport.
    explicit lv2_daemon(const std::string& config_text = {}) {
        char tmpl[] = "/tmp/umpd-lv2-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        ::mkdir((dir_ + "/run").c_str(), 0700);
        ::mkdir((dir_ + "/state").c_str(), 0700);
        // The fixture bundles alone in a folder of their own (the build folder holds more).
        ::mkdir((dir_ + "/lv2").c_str(), 0700);
        for (const char* b : {"umpd-fixtures.lv2", "umpd-bad.lv2"})
            std::filesystem::create_directory_symlink(std::string{UMPD_LV2_FIXTURES_DIR} + "/" + b, dir_ + "/lv2/" + b);
        std::ofstream(config_path()) << (config_text.find("[jack]") == std::string::npos ? "[jack]\nenabled = false\n\n" : "")
                                     << config_text;
        start();
    }
    ~lv2_daemon() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    lv2_daemon(const lv2_daemon&) = delete;
    lv2_daemon& operator=(const lv2_daemon&) = delete;

    void start() {
        ::setenv("LV2_PATH", (dir_ + "/lv2:/usr/lib/lv2").c_str(), 1);
        ::setenv("XDG_STATE_HOME", (dir_ + "/state").c_str(), 1);
        const int log = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        pid_ = spawn({UMPD_DAEMON_BINARY, "--runtime-dir", runtime_dir(), "--config", config_path()}, log, log);
        ::close(log);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (!socket_answers(runtime_dir() + "/control")) {
            if (std::chrono::steady_clock::now() > end || ::waitpid(pid_, nullptr, WNOHANG) == pid_)
                throw std::runtime_error("umpd did not start; log:\n" + log_text());
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        (void)wait_exit(pid_, std::chrono::seconds(10));
        pid_ = -1;
    }
    [[nodiscard]] bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

    [[nodiscard]] std::string runtime_dir() const { return dir_ + "/run"; }
    [[nodiscard]] std::string config_path() const { return dir_ + "/umpd.toml"; }
    [[nodiscard]] std::string log_path() const { return dir_ + "/umpd.log"; }
    [[nodiscard]] std::string config_text() const { return read(config_path()); }
    [[nodiscard]] std::string log_text() const { return read(log_path()); }

    [[nodiscard]] run_result umpctl(std::vector<std::string> args) const {
        std::vector<std::string> argv{UMPCTL_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--runtime-dir");
        argv.push_back(runtime_dir());
        return run(argv);
    }

    [[nodiscard]] umpd::client::client client(const char* name) const {
        umpd::client::options o;
        o.runtime_dir = runtime_dir();
        o.client_name = name;
        o.reconnect = false;
        auto c = umpd::client::client::connect(o);
        if (!c) throw std::runtime_error(c.message());
        return std::move(*c);
    }

private:
    static std::string read(const std::string& path) {
        std::ifstream in(path);
        std::stringstream s;
        s << in.rdbuf();
        return s.str();
    }

    std::string dir_;
    pid_t pid_ = -1;
};

}  // namespace umpd_test
