// Test support: a private jackd (dummy backend, no sound hardware) and the JACK
// command-line tools as independent peers. Test thread only.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace umpd::jack::test {

inline std::uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Polls `done` every 20 ms; false after `limit` (a generous guard against hangs only).
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// Runs a shell command, returns its standard output.
inline std::string run(const std::string& cmd) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (f == nullptr) return out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    ::pclose(f);
    return out;
}

inline std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// jack_lsp -A: port name → its aliases.
inline std::map<std::string, std::vector<std::string>> list_ports() {
    std::map<std::string, std::vector<std::string>> ports;
    std::istringstream in(run("jack_lsp -A 2>/dev/null"));
    std::string line;
    std::string current;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (line[0] == ' ' || line[0] == '\t') {
            if (!current.empty()) ports[current].push_back(line.substr(line.find_first_not_of(" \t")));
        } else {
            current = line;
            ports[current];
        }
    }
    return ports;
}

inline bool has_port(const std::string& name) { return list_ports().count(name) != 0; }

// jack_connect, then waits until jack_lsp shows the connection.
inline bool connect_ports(const std::string& from, const std::string& to) {
    run("jack_connect " + shell_quote(from) + " " + shell_quote(to) + " 2>&1");
    return wait_until([&] {
        return run("jack_lsp -c " + shell_quote(from) + " 2>/dev/null").find(to) != std::string::npos;
    });
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A child process with stdout and stderr in a file; killed (SIGTERM, then SIGKILL) at the end.
class child_process {
public:
    child_process(const std::vector<std::string>& argv, const std::string& log_path) : log_(log_path) {
        pid_ = ::fork();
        if (pid_ == 0) {
            const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, 1);
                ::dup2(fd, 2);
            }
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
    }
    ~child_process() { stop(); }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    void signal(int sig) const {
        if (pid_ > 0) ::kill(pid_, sig);
    }
    // SIGTERM (or `sig`), wait up to 5 s, then SIGKILL.
    void stop(int sig = SIGTERM) {
        if (pid_ <= 0) return;
        ::kill(pid_, sig);
        for (int i = 0; i < 250; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    [[nodiscard]] std::string output() const { return read_file(log_); }
    [[nodiscard]] pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    std::string log_;
};

// jackd2 keeps a registry of running servers in /dev/shm/jack-shm-registry: 8 slots
// of {pid, name}. A server that dies without unregistering (SIGKILL, as the restart
// tests do) keeps its slot, and jackd2 reclaims a dead slot only for the same name;
// after 8 such servers every jackd fails with "Too many servers already active". The
// tests use a fresh name each time, so they free the slots of dead servers themselves:
// a slot whose pid no longer exists is zeroed (a live server's slot is never touched).
inline void reclaim_dead_server_slots() {
    constexpr std::size_t header = 24;  // magic, protocol, type, size, hdr_len, entry_len
    constexpr std::size_t slot = 264;   // pid_t + char[JACK_SERVER_NAME_SIZE + 1], aligned
    constexpr std::size_t slots = 8;    // MAX_SERVERS
    const int fd = ::open("/dev/shm/jack-shm-registry", O_RDWR | O_CLOEXEC);
    if (fd < 0) return;
    for (std::size_t i = 0; i < slots; ++i) {
        const auto at = static_cast<off_t>(header + i * slot);
        std::int32_t pid = 0;
        if (::pread(fd, &pid, sizeof pid, at) != static_cast<ssize_t>(sizeof pid) || pid <= 0) continue;
        if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to judge)
        const std::vector<char> zero(slot, 0);
        [[maybe_unused]] const auto n = ::pwrite(fd, zero.data(), zero.size(), at);
    }
    ::close(fd);
}

// jackd -d dummy on a private server name; JACK_DEFAULT_SERVER points the tools at it.
class jack_server {
public:
    jack_server() {
        static int counter = 0;
        name_ = "umpd-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
        char dir[] = "/tmp/umpd-jack-test-XXXXXX";
        dir_ = ::mkdtemp(dir) ? dir : "/tmp";
        ::setenv("JACK_DEFAULT_SERVER", name_.c_str(), 1);
        ::setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
    }
    ~jack_server() {
        stop();
        run("rm -rf '" + dir_ + "'");
        // A server killed with SIGKILL leaves its shared-memory files and its registry slot behind.
        run("rm -f /dev/shm/jack_sem.*_" + name_ + "_* /dev/shm/jack_" + name_ + "_*");
        reclaim_dead_server_slots();
    }

    [[nodiscard]] bool start() {
        reclaim_dead_server_slots();
        process_ = std::make_unique<child_process>(
            std::vector<std::string>{"jackd", "--no-realtime", "-n", name_, "-d", "dummy", "-r", "48000", "-p", "256"},
            dir_ + "/jackd-" + std::to_string(++starts_) + ".log");
        return wait_until([&] { return run("jack_wait -c -s '" + name_ + "' 2>/dev/null").find("not running") ==
                                           std::string::npos &&
                                       run("jack_wait -c -s '" + name_ + "' 2>/dev/null").find("running") !=
                                           std::string::npos; });
    }
    void stop(int sig = SIGTERM) {
        if (process_) process_->stop(sig);
        process_.reset();
    }
    void kill_hard() { stop(SIGKILL); }

    [[nodiscard]] const std::string& name() const { return name_; }
    [[nodiscard]] const std::string& dir() const { return dir_; }
    [[nodiscard]] std::string log() const { return process_ ? process_->output() : std::string(); }

private:
    std::string name_;
    std::string dir_;
    int starts_ = 0;
    std::unique_ptr<child_process> process_;
};

}  // namespace umpd::jack::test
