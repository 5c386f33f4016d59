// A real umpd for integration tests: started on a fresh mkdtemp runtime directory with
// --no-config, waited for until its control socket answers, killed at the end. Also a
// small runner for command-line programs (exit code, stdout, stderr).
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace umpd_test {

// Starts argv[0] with the arguments; stdout and stderr to the given fds (-1: /dev/null).
inline pid_t spawn(const std::vector<std::string>& argv, int out_fd = -1, int err_fd = -1, int in_fd = -1) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(in_fd >= 0 ? in_fd : null, 0);
    ::dup2(out_fd >= 0 ? out_fd : null, 1);
    ::dup2(err_fd >= 0 ? err_fd : null, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
}

// Waits for a child with a generous limit (a hang fails the test instead of blocking it).
inline int wait_exit(pid_t pid, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0) return -1;
        if (std::chrono::steady_clock::now() > end) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            return -2;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

struct run_result {
    int code = -1;
    std::string out;
    std::string err;
};

// Runs a program to completion, collecting both outputs.
inline run_result run(const std::vector<std::string>& argv, std::chrono::seconds limit = std::chrono::seconds(60)) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    const pid_t pid = spawn(argv, out[1], err[1]);
    ::close(out[1]);
    ::close(err[1]);
    run_result r;
    pollfd p[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    int open_count = 2;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (open_count > 0 && std::chrono::steady_clock::now() < end) {
        if (::poll(p, 2, 100) <= 0) continue;
        for (int i = 0; i < 2; ++i) {
            if (p[i].fd < 0 || p[i].revents == 0) continue;
            char buf[4096];
            const ssize_t n = ::read(p[i].fd, buf, sizeof buf);
            if (n <= 0) {
                ::close(p[i].fd);
                p[i].fd = -1;
                --open_count;
                continue;
            }
            (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
        }
    }
    for (auto& x : p)
        if (x.fd >= 0) ::close(x.fd);
    r.code = wait_exit(pid, std::chrono::seconds(5));
    return r;
}

inline bool socket_answers(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

class daemon_process {
public:
    daemon_process() {
        char tmpl[] = "/tmp/umpd-it-XXXXXX";
        if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
        dir_ = tmpl;
        start();
    }
    ~daemon_process() {
        stop();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        std::filesystem::remove(dir_ + ".log", ec);
    }
    daemon_process(const daemon_process&) = delete;
    daemon_process& operator=(const daemon_process&) = delete;

    void start() {
        const int log = ::open((dir_ + ".log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        pid_ = spawn({UMPD_DAEMON_BINARY, "--runtime-dir", dir_, "--no-config"}, log, log);
        ::close(log);
        const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!socket_answers(dir_ + "/control")) {
            if (std::chrono::steady_clock::now() > end) throw std::runtime_error("umpd did not start; see " + dir_ + ".log");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    void kill_hard() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        (void)wait_exit(pid_);
        pid_ = -1;
    }
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        if (wait_exit(pid_, std::chrono::seconds(10)) == -2) {
            // wait_exit killed it; nothing more to do
        }
        pid_ = -1;
    }
    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

private:
    std::string dir_;
    pid_t pid_ = -1;
};

#ifdef UMPCTL_BINARY
// Runs the real umpctl against a test daemon (--runtime-dir appended).
inline run_result run_umpctl(const daemon_process& d, std::vector<std::string> args) {
    std::vector<std::string> argv{UMPCTL_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--runtime-dir");
    argv.push_back(d.dir());
    return run(argv);
}
#endif

}  // namespace umpd_test
