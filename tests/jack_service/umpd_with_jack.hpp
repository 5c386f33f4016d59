// Test support for the JACK driver in the service: a real umpd started with a config
// file whose [jack] section points at a private jackd (tests/jack/jack_server.hpp),
// umpctl against it, and small JACK helpers. Test thread only.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../integration/daemon_process.hpp"
#include "../jack/jack_server.hpp"

namespace umpd::jack::test {

// The ports of one JACK client ("umpd:..."), names only.
inline std::vector<std::string> ports_of_client(const std::string& client) {
    std::vector<std::string> out;
    for (const auto& [name, aliases] : list_ports())
        if (name.rfind(client + ":", 0) == 0) out.push_back(name);
    return out;
}

// umpd with a config file; the state file goes to the same private folder.
class umpd_with_jack {
public:
    explicit umpd_with_jack(const std::string& config_text) {
        char tmpl[] = "/tmp/umpd-jack-it-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        std::ofstream(dir_ + "/umpd.toml") << config_text;
        ::setenv("XDG_STATE_HOME", dir_.c_str(), 1);
        start();
    }
    ~umpd_with_jack() {
        (void)stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        std::filesystem::remove(log_path(), ec);
    }
    umpd_with_jack(const umpd_with_jack&) = delete;
    umpd_with_jack& operator=(const umpd_with_jack&) = delete;

    void start() {
        const int log = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        pid_ = umpd_test::spawn({UMPD_DAEMON_BINARY, "--runtime-dir", dir_ + "/run", "--config", dir_ + "/umpd.toml"},
                                log, log);
        ::close(log);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!umpd_test::socket_answers(dir_ + "/run/control")) {
            if (std::chrono::steady_clock::now() > end) throw std::runtime_error("umpd did not start: " + log_text());
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    // SIGTERM; the exit status (0 after a clean shutdown; ASan/UBSan findings make it
    // non-zero in the sanitizer build), -1 when it was not running.
    int stop() {
        if (pid_ <= 0) return -1;
        ::kill(pid_, SIGTERM);
        const int code = umpd_test::wait_exit(pid_, std::chrono::seconds(10));
        pid_ = -1;
        return code;
    }
    void signal(int sig) const {
        if (pid_ > 0) ::kill(pid_, sig);
    }
    // True while the daemon process has not exited.
    [[nodiscard]] bool alive() const { return pid_ > 0 && ::waitpid(pid_, nullptr, WNOHANG) == 0; }

    [[nodiscard]] umpd_test::run_result umpctl(std::vector<std::string> args) const {
        std::vector<std::string> argv{UMPCTL_BINARY};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("--runtime-dir");
        argv.push_back(runtime_dir());
        return umpd_test::run(argv);
    }
    // The "driver jack ..." line of `umpctl status`, "" when there is none.
    [[nodiscard]] std::string jack_status_line() const {
        std::istringstream in(umpctl({"status"}).out);
        std::string line;
        while (std::getline(in, line))
            if (line.rfind("driver", 0) == 0 && line.find(" jack ") != std::string::npos) return line;
        return {};
    }

    [[nodiscard]] std::string runtime_dir() const { return dir_ + "/run"; }
    [[nodiscard]] std::string log_path() const { return dir_ + ".log"; }
    [[nodiscard]] std::string log_text() const { return read_file(log_path()); }

private:
    std::string dir_;
    pid_t pid_ = -1;
};

// The config the tests run umpd with: the default device, a diagnostics loopback
// (keeps the sender's timestamps) and [jack] on the given server.
inline std::string config_text(const std::string& server_name, const std::string& jack_extra = {}) {
    return "[jack]\nserver_name = \"" + server_name + "\"\n" + jack_extra +
           "\n[[devices]]\nname = \"umpd Virtual Device\"\nports = [ { name = \"Port 1\", protocol = \"midi2\" } ]\n"
           "\n[[loopbacks]]\nkind = \"diagnostics\"\nname = \"Diag\"\n";
}

}  // namespace umpd::jack::test
